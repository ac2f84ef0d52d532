/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Azure HCL report (vTPM NV index 0x01400001; HwVmReport.h, kinvolk hcl/mod.rs) and
 * the Trustee evidence JSON of the tees az-snp-vtpm, az-tdx-vtpm and tpm. Bytes in,
 * structs out; no I/O, no keys. Layout: docs/azure.md.
 */
#include <string.h>

#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/rd.h"
#include "veritee/azure.h"

#define HCL_SIGNATURE 0x414c4348u /* "HCLA" little-endian */
#define IGVM_HEADER   20u         /* data_size .. variable_data_size */
#define MAX_AK_N      512u        /* RSA-4096 */
#define MAX_VCEK      (16u * 1024u)
#define MAX_TD_QUOTE  (128u * 1024u)
#define MAX_AK_PUBLIC (4u * 1024u)
#define MAX_RAW_SIG   VT_TPM_MAX_SIG
#define MAX_TPMT_SIG  (VT_TPM_MAX_SIG + 8u)
#define MAX_USER_DATA 64u

static const struct {
        const char *name;
        enum vt_az_tee tee;
} tee_names[] = {
        {"az-snp-vtpm", VT_AZ_TEE_SNP_VTPM},
        {"az-tdx-vtpm", VT_AZ_TEE_TDX_VTPM},
        {"tpm", VT_AZ_TEE_TPM},
        {"azsnpvtpm", VT_AZ_TEE_SNP_VTPM},
        {"aztdxvtpm", VT_AZ_TEE_TDX_VTPM},
};

int vt_az_tee_from_name(const char *name, enum vt_az_tee *ret)
{
        if (!name || !ret)
                return VT_E_INVAL;
        for (size_t i = 0; i < ELEMENTSOF(tee_names); i++)
                if (strcmp(name, tee_names[i].name) == 0) {
                        *ret = tee_names[i].tee;
                        return 0;
                }
        return VT_E_NOTFOUND;
}

const char *vt_az_tee_name(enum vt_az_tee tee)
{
        for (size_t i = 0; i < ELEMENTSOF(tee_names); i++)
                if (tee_names[i].tee == tee)
                        return tee_names[i].name;
        return "unknown";
}

/* ---- HCL report ---- */

void vt_hcl_report_free(struct vt_hcl_report *r)
{
        if (!r)
                return;
        free(r->var_data);
        free(r->ak_n);
        free(r);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_hcl_report *, vt_hcl_report_free)

/* base64url as JWKs carry it: no padding (a padded form is accepted, as Trustee does). */
static int b64url_lenient(const char *s, size_t len, size_t max, uint8_t **ret, size_t *ret_len)
{
        if (len % 4 == 0 && len >= 4) {
                if (s[len - 1] == '=')
                        len--;
                if (s[len - 1] == '=')
                        len--;
        }
        return vt_b64_decode(s, len, VT_B64_URL, max, ret, ret_len);
}

/* The runtime claims JSON: HCLAkPub (RSA JWK) and "user-data" (hex). */
static int parse_runtime(struct vt_hcl_report *r, struct vt_diag *d)
{
        json_error_t je;
        _cleanup_json_ json_t *j =
                json_loadb((const char *)r->var_data, r->var_len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(j))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "hcl: the runtime data is not a JSON object (%s at byte %d)",
                                   j ? "not an object" : je.text, j ? 0 : je.position);
        json_t *keys = json_object_get(j, "keys"), *k;
        size_t i;
        if (keys && !json_is_array(keys))
                return vt_diag_set(d, VT_E_FORMAT, "hcl: runtime data \"keys\" is not an array");
        json_array_foreach (keys, i, k) {
                const char *kid = json_string_value(json_object_get(k, "kid"));
                if (!kid || strcmp(kid, "HCLAkPub") != 0)
                        continue;
                if (r->ak_n)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "hcl: runtime data has two HCLAkPub keys");
                const char *kty = json_string_value(json_object_get(k, "kty"));
                json_t *n = json_object_get(k, "n"), *e = json_object_get(k, "e");
                if (!kty || strcmp(kty, "RSA") != 0 || !json_is_string(n) || !json_is_string(e))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "hcl: HCLAkPub is not an RSA JWK with n and e");
                _cleanup_free_ uint8_t *eb = NULL;
                size_t el = 0, nl = 0;
                if (b64url_lenient(json_string_value(n), json_string_length(n), MAX_AK_N, &r->ak_n,
                                   &nl) < 0 ||
                    nl == 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "hcl: HCLAkPub n is not base64url of at most %u bytes",
                                           MAX_AK_N);
                r->ak_n_len = nl;
                if (b64url_lenient(json_string_value(e), json_string_length(e), sizeof(r->ak_e),
                                   &eb, &el) < 0 ||
                    el == 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "hcl: HCLAkPub e is not base64url of at most 8 bytes");
                memcpy(r->ak_e, eb, el);
                r->ak_e_len = el;
        }
        json_t *ud = json_object_get(j, "user-data");
        if (ud) {
                const char *h = json_string_value(ud);
                int n;
                if (!h || json_string_length(ud) != strlen(h) ||
                    (n = vt_hex_decode(h, r->user_data, sizeof(r->user_data))) < 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "hcl: runtime data \"user-data\" is not hex of at most "
                                           "%u bytes",
                                           MAX_USER_DATA);
                r->has_user_data = true;
                r->user_data_len = (size_t)n;
        }
        return 0;
}

static int parse_tdreport(struct vt_hcl_report *r, struct vt_diag *d)
{
        struct vt_tdreport *t = &r->tdreport;
        struct vt_rd rd, info;
        size_t bad;
        int e;

        vt_rd_init(&rd, r->hw_report, sizeof(r->hw_report));
        /* The slot is large enough for every read below; the results are still checked
         * because the reader is the only bounds check. */
        if ((e = vt_rd_bytes(&rd, t->report_type, 4)) < 0 || (e = vt_rd_skip(&rd, 12)) < 0 ||
            (e = vt_rd_bytes(&rd, t->cpusvn, 16)) < 0 ||
            (e = vt_rd_bytes(&rd, t->tee_tcb_info_hash, 48)) < 0 ||
            (e = vt_rd_bytes(&rd, t->tee_info_hash, 48)) < 0 ||
            (e = vt_rd_bytes(&rd, t->report_data, 64)) < 0 || (e = vt_rd_skip(&rd, 32 + 32)) < 0 ||
            (e = vt_rd_skip(&rd, 239 + 17)) < 0 || (e = vt_rd_sub(&rd, 512, &info)) < 0 ||
            (e = vt_rd_u64le(&info, &t->td_attributes)) < 0 ||
            (e = vt_rd_u64le(&info, &t->xfam)) < 0 || (e = vt_rd_bytes(&info, t->mr_td, 48)) < 0 ||
            (e = vt_rd_bytes(&info, t->mr_config_id, 48)) < 0 ||
            (e = vt_rd_bytes(&info, t->mr_owner, 48)) < 0 ||
            (e = vt_rd_bytes(&info, t->mr_owner_config, 48)) < 0 ||
            (e = vt_rd_bytes(&info, t->rtmr, sizeof(t->rtmr))) < 0 ||
            (e = vt_rd_bytes(&info, t->servtd_hash, 48)) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED, "hcl: TDREPORT truncated");
        if (t->report_type[0] != 0x81)
                return vt_diag_set(d, VT_E_FORMAT, "hcl: TDREPORT type 0x%02x, expected 0x81 (TDX)",
                                   t->report_type[0]);
        if ((e = vt_rd_zero(&rd, VT_HCL_HW_REPORT_SIZE - VT_TDREPORT_SIZE, &bad)) < 0)
                return vt_diag_set(d, VT_E_RESERVED,
                                   "hcl: byte 0x%zx after the TDREPORT is not zero",
                                   VT_HCL_HEADER_SIZE + bad);
        memcpy(r->hw_report_data, t->report_data, 64);
        return 0;
}

#define RD(call, what)                                                                             \
        do {                                                                                       \
                if ((e = (call)) < 0)                                                              \
                        return vt_diag_set(d, VT_E_TRUNCATED,                                      \
                                           "hcl: report truncated at offset 0x%zx (%s)", rd.off,   \
                                           what);                                                  \
        } while (0)

int vt_hcl_report_parse(const uint8_t *buf, size_t len, struct vt_hcl_report **ret,
                        struct vt_diag *d)
{
        _cleanup_(vt_hcl_report_freep) struct vt_hcl_report *r = NULL;
        uint32_t sig, var_size;
        struct vt_rd rd;
        size_t bad;
        int e;

        if (!buf || !ret)
                return VT_E_INVAL;
        if (len > VT_HCL_MAX_REPORT)
                return vt_diag_set(d, VT_E_LIMIT, "hcl: report of %zu bytes exceeds %u", len,
                                   VT_HCL_MAX_REPORT);
        if (!(r = calloc(1, sizeof(*r))))
                return VT_E_NOMEM;
        vt_rd_init(&rd, buf, len);
        RD(vt_rd_u32le(&rd, &sig), "signature");
        if (sig != HCL_SIGNATURE)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "hcl: signature 0x%08x, expected \"HCLA\" (0x%08x)", sig,
                                   HCL_SIGNATURE);
        RD(vt_rd_u32le(&rd, &r->version), "version");
        if (r->version != 1 && r->version != 2)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "hcl: header version %u (supported: 1, 2)",
                                   r->version);
        RD(vt_rd_u32le(&rd, &r->report_size), "report_size");
        RD(vt_rd_u32le(&rd, &r->request_type), "request_type");
        RD(vt_rd_u32le(&rd, &r->status), "status");
        if (r->status != 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "hcl: status 0x%x: the paravisor reported a failure", r->status);
        if ((e = vt_rd_zero(&rd, 12, &bad)) == VT_E_RESERVED)
                return vt_diag_set(d, e, "hcl: reserved header byte 0x%zx is not zero", bad);
        else if (e < 0)
                return vt_diag_set(d, e, "hcl: report truncated in the header");
        RD(vt_rd_bytes(&rd, r->hw_report, sizeof(r->hw_report)), "hardware report");
        RD(vt_rd_u32le(&rd, &r->data_size), "data_size");
        RD(vt_rd_u32le(&rd, &r->igvm_version), "IGVM version");
        RD(vt_rd_u32le(&rd, &r->report_type), "report_type");
        RD(vt_rd_u32le(&rd, &r->hash_type), "report_data_hash_type");
        RD(vt_rd_u32le(&rd, &var_size), "variable_data_size");
        if (r->igvm_version != 1)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "hcl: IGVM data version %u (supported: 1)",
                                   r->igvm_version);
        if (r->report_type != VT_HCL_REPORT_SNP && r->report_type != VT_HCL_REPORT_TDX)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "hcl: report_type %u (supported: 2 SNP, 4 TDX)", r->report_type);
        if (r->hash_type < VT_HCL_HASH_SHA256 || r->hash_type > VT_HCL_HASH_SHA512)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "hcl: report_data_hash_type %u (supported: 1-3)", r->hash_type);
        if (var_size > VT_HCL_MAX_VAR_DATA)
                return vt_diag_set(d, VT_E_LIMIT, "hcl: variable data of %u bytes exceeds %u",
                                   var_size, VT_HCL_MAX_VAR_DATA);
        if (r->data_size != IGVM_HEADER + var_size)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "hcl: data_size %u != 20 + variable_data_size %u", r->data_size,
                                   var_size);
        if (r->report_size != VT_HCL_HEADER_SIZE + VT_HCL_HW_REPORT_SIZE + r->data_size)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "hcl: report_size %u != 0x20 + 1184 + data_size %u",
                                   r->report_size, r->data_size);
        r->var_len = var_size;
        if (!(r->var_data = malloc(var_size ? var_size : 1)))
                return VT_E_NOMEM;
        RD(vt_rd_bytes(&rd, r->var_data, var_size), "variable data");
        /* the NV index is larger than the report: the rest must be zero */
        r->padding = vt_rd_left(&rd);
        if ((e = vt_rd_zero(&rd, r->padding, &bad)) < 0)
                return vt_diag_set(d, VT_E_TRAILING,
                                   "hcl: byte 0x%zx after the report (report_size %u) is not zero",
                                   bad, r->report_size);
        if (r->report_type == VT_HCL_REPORT_SNP) {
                struct vt_diag sd = {0};
                if ((e = vt_snp_report_parse(r->hw_report, sizeof(r->hw_report), &r->snp, &sd)) < 0)
                        return vt_diag_set(d, e, "hcl: hardware report: %s", sd.msg);
                memcpy(r->hw_report_data, r->snp.report_data, 64);
        } else if ((e = parse_tdreport(r, d)) < 0) {
                return e;
        }
        if ((e = parse_runtime(r, d)) < 0)
                return e;
        *ret = TAKE_PTR(r);
        return 0;
}

/* ---- evidence JSON ---- */

void vt_az_evidence_free(struct vt_az_evidence *e)
{
        if (!e)
                return;
        free(e->message);
        free(e->signature);
        free(e->hcl);
        free(e->vcek);
        free(e->td_quote);
        free(e->ak_public);
        free(e);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_az_evidence *, vt_az_evidence_free)

enum enc {
        ENC_ARRAY,  /* JSON array of integers 0..255 (serde Vec<u8>) */
        ENC_HEX,    /* hex string */
        ENC_B64URL, /* base64url, padded or not */
        ENC_B64,    /* standard base64 */
};

static int get_buf(const json_t *o, const char *k, enum enc enc, size_t max, uint8_t **ret,
                   size_t *ret_len, const char *tee, struct vt_diag *d)
{
        static const char *const enc_names[] = {"a byte array", "hex", "base64url", "base64"};
        json_t *v = json_object_get(o, k);
        _cleanup_free_ uint8_t *b = NULL;
        size_t n = 0;

        if (enc == ENC_ARRAY) {
                size_t at;
                if (!json_is_array(v) || json_array_size(v) > max)
                        goto bad;
                n = json_array_size(v);
                if (!(b = malloc(n ? n : 1)))
                        return VT_E_NOMEM;
                if (!vt_json_bytes(v, b, n, &at))
                        return vt_diag_set(d, VT_E_FORMAT, "%s evidence: %s[%zu] is not a byte",
                                           tee, k, at);
        } else {
                const char *s = json_string_value(v);
                size_t sl = json_string_length(v);
                if (!s || sl != strlen(s))
                        goto bad;
                if (enc == ENC_HEX) {
                        if (sl / 2 > max || !(b = malloc(sl / 2 + 1)))
                                goto bad;
                        int r = vt_hex_decode(s, b, sl / 2);
                        if (r < 0)
                                goto bad;
                        n = (size_t)r;
                } else if ((enc == ENC_B64URL
                                    ? b64url_lenient(s, sl, max, &b, &n)
                                    : vt_b64_decode(s, sl, VT_B64_STD, max, &b, &n)) < 0) {
                        goto bad;
                }
        }
        if (n == 0)
                goto bad;
        *ret = TAKE_PTR(b);
        *ret_len = n;
        return 0;
bad:
        return vt_diag_set(d, VT_E_FORMAT, "%s evidence: \"%s\" must be %s of 1..%zu bytes", tee, k,
                           enc_names[enc], max);
}

static int get_pcrs(const json_t *q, enum enc enc, uint8_t pcrs[VT_TPM_NUM_PCRS][32],
                    const char *tee, struct vt_diag *d)
{
        json_t *a = json_object_get(q, "pcrs"), *x;
        size_t i;
        if (!json_is_array(a) || json_array_size(a) != VT_TPM_NUM_PCRS)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s evidence: tpm_quote.pcrs must hold the 24 SHA-256 PCRs",
                                   tee);
        json_array_foreach (a, i, x) {
                if (enc == ENC_ARRAY) {
                        size_t at;
                        if (!json_is_array(x) || json_array_size(x) != 32 ||
                            !vt_json_bytes(x, pcrs[i], 32, &at))
                                goto bad;
                } else {
                        const char *s = json_string_value(x);
                        if (!s || json_string_length(x) != 64 ||
                            vt_hex_decode(s, pcrs[i], 32) != 32)
                                goto bad;
                }
                continue;
        bad:
                return vt_diag_set(d, VT_E_FORMAT, "%s evidence: PCR %zu is not 32 bytes of %s",
                                   tee, i, enc == ENC_ARRAY ? "a byte array" : "hex");
        }
        return 0;
}

static int get_quote(const json_t *q, enum enc enc, size_t max_sig, struct vt_az_evidence *ev,
                     const char *tee, struct vt_diag *d)
{
        int e;
        if (!json_is_object(q))
                return vt_diag_set(d, VT_E_FORMAT, "%s evidence: the TPM quote must be an object",
                                   tee);
        if ((e = get_buf(q, "message", enc, VT_TPM_MAX_ATTEST, &ev->message, &ev->message_len, tee,
                         d)) < 0 ||
            (e = get_buf(q, "signature", enc, max_sig, &ev->signature, &ev->signature_len, tee,
                         d)) < 0)
                return e;
        return get_pcrs(q, enc, ev->pcrs, tee, d);
}

int vt_az_evidence_parse(enum vt_az_tee tee, const char *json, size_t len,
                         struct vt_az_evidence **ret, struct vt_diag *d)
{
        _cleanup_(vt_az_evidence_freep) struct vt_az_evidence *ev = NULL;
        const char *name = vt_az_tee_name(tee);
        json_error_t je;
        int e;

        if (!json || !ret)
                return VT_E_INVAL;
        if (len > VT_AZ_MAX_EVIDENCE)
                return vt_diag_set(d, VT_E_LIMIT, "%s evidence: %zu bytes exceeds %u", name, len,
                                   VT_AZ_MAX_EVIDENCE);
        _cleanup_json_ json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(j))
                return vt_diag_set(d, VT_E_FORMAT, "%s evidence: not a JSON object%s%s", name,
                                   j ? "" : ": ", j ? "" : je.text);
        if (!(ev = calloc(1, sizeof(*ev))))
                return VT_E_NOMEM;
        ev->tee = tee;
        if (tee == VT_AZ_TEE_TPM) {
                if ((e = get_buf(j, "ak_public", ENC_B64, MAX_AK_PUBLIC, &ev->ak_public,
                                 &ev->ak_public_len, name, d)) < 0 ||
                    (e = get_quote(json_object_get(j, "tpm_quote"), ENC_B64, MAX_TPMT_SIG, ev, name,
                                   d)) < 0)
                        return e;
                *ret = TAKE_PTR(ev);
                return 0;
        }
        if (tee != VT_AZ_TEE_SNP_VTPM && tee != VT_AZ_TEE_TDX_VTPM)
                return VT_E_INVAL;
        bool snp = tee == VT_AZ_TEE_SNP_VTPM;
        json_t *ver = json_object_get(j, "version");
        if (ver) {
                if (!json_is_integer(ver) || json_integer_value(ver) < 1 ||
                    json_integer_value(ver) > 2)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "%s evidence: version must be 1 or 2 (or absent: v0)",
                                           name);
                ev->version = (unsigned)json_integer_value(ver);
        }
        if (ev->version == 0) {
                /* v0: serde byte arrays; az-snp-vtpm names them quote/report, PEM VCEK */
                if ((e = get_quote(json_object_get(j, snp ? "quote" : "tpm_quote"), ENC_ARRAY,
                                   MAX_RAW_SIG, ev, name, d)) < 0 ||
                    (e = get_buf(j, snp ? "report" : "hcl_report", ENC_ARRAY, VT_HCL_MAX_REPORT,
                                 &ev->hcl, &ev->hcl_len, name, d)) < 0)
                        return e;
                if (snp) {
                        json_t *v = json_object_get(j, "vcek");
                        const char *pem = json_string_value(v);
                        if (!pem || json_string_length(v) > MAX_VCEK ||
                            json_string_length(v) != strlen(pem) || !json_string_length(v))
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "%s evidence: \"vcek\" must be a PEM string",
                                                   name);
                        if (!(ev->vcek = (uint8_t *)strdup(pem)))
                                return VT_E_NOMEM;
                        ev->vcek_len = strlen(pem);
                } else if ((e = get_buf(j, "td_quote", ENC_ARRAY, MAX_TD_QUOTE, &ev->td_quote,
                                        &ev->td_quote_len, name, d)) < 0) {
                        return e;
                }
        } else {
                if ((e = get_quote(json_object_get(j, "tpm_quote"), ENC_HEX, MAX_RAW_SIG, ev, name,
                                   d)) < 0 ||
                    (e = get_buf(j, "hcl_report", ENC_B64URL, VT_HCL_MAX_REPORT, &ev->hcl,
                                 &ev->hcl_len, name, d)) < 0)
                        return e;
                if ((e = snp ? get_buf(j, "vcek", ENC_B64URL, MAX_VCEK, &ev->vcek, &ev->vcek_len,
                                       name, d)
                             : get_buf(j, "td_quote", ENC_B64URL, MAX_TD_QUOTE, &ev->td_quote,
                                       &ev->td_quote_len, name, d)) < 0)
                        return e;
        }
        *ret = TAKE_PTR(ev);
        return 0;
}
