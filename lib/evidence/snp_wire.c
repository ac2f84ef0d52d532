/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trustee's SNP evidence wire shape (kbs-types / virtee sev serde):
 *   {"attestation_report":{"version":3,...,"signature":{"r":[72],"s":[72]}},
 *    "cert_chain":[{"cert_type":"VCEK","data":[...DER...]}, ...] | null}
 * decoded back into the exact 1184 report bytes (reserved bytes zero) and the DER
 * certificates. The signature check on the result proves the rebuild byte-exact.
 */
#include <string.h>

#include "evidence/snp_wire.h"
#include "util/json.h"
#include "util/wr.h"

/* A field of n bytes (1, 2, 4 or 8), little-endian; get_uint checked that v fits. */
static void put(uint8_t *p, uint64_t v, int n)
{
        if (n == 1)
                p[0] = (uint8_t)v;
        else if (n == 2)
                vt_put_u16le(p, (uint16_t)v);
        else if (n == 4)
                vt_put_u32le(p, (uint32_t)v);
        else
                vt_put_u64le(p, v);
}

static int get_uint(const json_t *o, const char *k, uint64_t max, uint64_t *ret, struct vt_diag *d)
{
        json_t *v = json_object_get(o, k);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > max)
                return vt_diag_set(d, VT_E_FORMAT, "snp evidence: %s must be an integer 0..%llu", k,
                                   (unsigned long long)max);
        *ret = (uint64_t)json_integer_value(v);
        return 0;
}

/* get_bytes reads the byte array k of o, from the bytes the parse kept when sp recorded it
 * (the array's nodes need no walk), else node by node. */
static int get_bytes(const json_t *o, const char *k, uint8_t *out, size_t n,
                     const struct vt_json_spans *sp, struct vt_diag *d)
{
        json_t *a = json_object_get(o, k);
        if (!json_is_array(a) || json_array_size(a) != n)
                return vt_diag_set(d, VT_E_FORMAT, "snp evidence: %s must be an array of %zu bytes",
                                   k, n);
        size_t at;
        if (!vt_json_span_bytes(sp, a, out, n) && !vt_json_bytes(a, out, n, &at))
                return vt_diag_set(d, VT_E_FORMAT, "snp evidence: %s[%zu] is not a byte", k, at);
        return 0;
}

/* {fmc,bootloader,tee,snp,microcode}: fmc present (non-null) means the Turin layout. */
static int get_tcb(const json_t *o, const char *k, uint8_t *out, struct vt_diag *d)
{
        json_t *t = json_object_get(o, k);
        uint64_t bl, tee, snp, uc, fmc = 0;
        int e;
        if (!json_is_object(t))
                return vt_diag_set(d, VT_E_FORMAT, "snp evidence: %s must be an object", k);
        if ((e = get_uint(t, "bootloader", 255, &bl, d)) < 0 ||
            (e = get_uint(t, "tee", 255, &tee, d)) < 0 ||
            (e = get_uint(t, "snp", 255, &snp, d)) < 0 ||
            (e = get_uint(t, "microcode", 255, &uc, d)) < 0)
                return e;
        json_t *f = json_object_get(t, "fmc");
        memset(out, 0, 8);
        if (f && !json_is_null(f)) {
                if ((e = get_uint(t, "fmc", 255, &fmc, d)) < 0)
                        return e;
                out[0] = (uint8_t)fmc, out[1] = (uint8_t)bl, out[2] = (uint8_t)tee,
                out[3] = (uint8_t)snp;
        } else {
                out[0] = (uint8_t)bl, out[1] = (uint8_t)tee, out[6] = (uint8_t)snp;
        }
        out[7] = (uint8_t)uc;
        return 0;
}

static int get_version(const json_t *o, const char *k, uint8_t out[3], struct vt_diag *d)
{
        json_t *t = json_object_get(o, k);
        uint64_t ma, mi, b;
        int e;
        if (!json_is_object(t))
                return vt_diag_set(d, VT_E_FORMAT, "snp evidence: %s must be an object", k);
        if ((e = get_uint(t, "build", 255, &b, d)) < 0 ||
            (e = get_uint(t, "minor", 255, &mi, d)) < 0 ||
            (e = get_uint(t, "major", 255, &ma, d)) < 0)
                return e;
        out[0] = (uint8_t)b, out[1] = (uint8_t)mi, out[2] = (uint8_t)ma;
        return 0;
}

static int decode_report(const json_t *r, uint8_t b[VT_SNP_REPORT_SIZE],
                         const struct vt_json_spans *sp, struct vt_diag *d)
{
        uint64_t v;
        int e;
        memset(b, 0, VT_SNP_REPORT_SIZE);
        if (!json_is_object(r))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "snp evidence: attestation_report must be an object");
#define U(key, off, n, max)                                                                        \
        do {                                                                                       \
                if ((e = get_uint(r, key, max, &v, d)) < 0)                                        \
                        return e;                                                                  \
                put(b + (off), v, n);                                                              \
        } while (0)
#define B(key, off, n)                                                                             \
        do {                                                                                       \
                if ((e = get_bytes(r, key, b + (off), n, sp, d)) < 0)                              \
                        return e;                                                                  \
        } while (0)
        U("version", 0x000, 4, UINT32_MAX);
        U("guest_svn", 0x004, 4, UINT32_MAX);
        U("policy", 0x008, 8, INT64_MAX);
        B("family_id", 0x010, 16);
        B("image_id", 0x020, 16);
        U("vmpl", 0x030, 4, UINT32_MAX);
        U("sig_algo", 0x034, 4, UINT32_MAX);
        if ((e = get_tcb(r, "current_tcb", b + 0x038, d)) < 0)
                return e;
        U("plat_info", 0x040, 8, INT64_MAX);
        U("key_info", 0x048, 4, UINT32_MAX);
        B("report_data", 0x050, 64);
        B("measurement", 0x090, 48);
        B("host_data", 0x0c0, 32);
        B("id_key_digest", 0x0e0, 48);
        B("author_key_digest", 0x110, 48);
        B("report_id", 0x140, 32);
        B("report_id_ma", 0x160, 32);
        if ((e = get_tcb(r, "reported_tcb", b + 0x180, d)) < 0)
                return e;
        if (json_object_get(r, "cpuid_fam_id") &&
            !json_is_null(json_object_get(r, "cpuid_fam_id"))) {
                U("cpuid_fam_id", 0x188, 1, 255);
                U("cpuid_mod_id", 0x189, 1, 255);
                U("cpuid_step", 0x18a, 1, 255);
        }
        B("chip_id", 0x1a0, 64);
        if ((e = get_tcb(r, "committed_tcb", b + 0x1e0, d)) < 0 ||
            (e = get_version(r, "current", b + 0x1e8, d)) < 0 ||
            (e = get_version(r, "committed", b + 0x1ec, d)) < 0 ||
            (e = get_tcb(r, "launch_tcb", b + 0x1f0, d)) < 0)
                return e;
        if (json_object_get(r, "launch_mit_vector") &&
            !json_is_null(json_object_get(r, "launch_mit_vector"))) {
                U("launch_mit_vector", 0x1f8, 8, INT64_MAX);
                U("current_mit_vector", 0x200, 8, INT64_MAX);
        }
        json_t *sig = json_object_get(r, "signature");
        if (!json_is_object(sig))
                return vt_diag_set(d, VT_E_FORMAT, "snp evidence: signature must be an object");
        if ((e = get_bytes(sig, "r", b + 0x2a0, 72, sp, d)) < 0 ||
            (e = get_bytes(sig, "s", b + 0x2e8, 72, sp, d)) < 0)
                return e;
#undef U
#undef B
        return 0;
}

void vt_snp_wire_done(struct vt_snp_wire *w)
{
        for (size_t i = 0; i < w->n_certs; i++)
                free(w->certs[i].der);
        memset(w, 0, sizeof(*w));
}

int vt_snp_wire_decode_spans(const json_t *ev, const struct vt_json_spans *sp,
                             struct vt_snp_wire *ret, struct vt_diag *d)
{
        struct vt_snp_wire w = {0};
        json_t *chain, *c;
        size_t i;
        int e;
        if (!json_is_object(ev))
                return vt_diag_set(d, VT_E_FORMAT, "snp evidence: must be a JSON object");
        if ((e = decode_report(json_object_get(ev, "attestation_report"), w.report, sp, d)) < 0)
                return e;
        chain = json_object_get(ev, "cert_chain");
        if (chain && !json_is_null(chain)) {
                if (!json_is_array(chain) || json_array_size(chain) > VT_SNP_WIRE_MAX_CERTS)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "snp evidence: cert_chain must be a list of at most %d",
                                           VT_SNP_WIRE_MAX_CERTS);
                json_array_foreach (chain, i, c) {
                        const char *type = json_string_value(json_object_get(c, "cert_type"));
                        json_t *data = json_object_get(c, "data");
                        struct vt_snp_wire_cert *wc = &w.certs[w.n_certs];
                        if (!type || strlen(type) >= sizeof(wc->type) || !json_is_array(data) ||
                            json_array_size(data) == 0 ||
                            json_array_size(data) > VT_SNP_WIRE_MAX_CERT_BYTES) {
                                vt_snp_wire_done(&w);
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "snp evidence: cert_chain[%zu] is malformed", i);
                        }
                        memcpy(wc->type, type, strlen(type) + 1);
                        wc->len = json_array_size(data);
                        wc->der = malloc(wc->len);
                        if (!wc->der) {
                                vt_snp_wire_done(&w);
                                return VT_E_NOMEM;
                        }
                        w.n_certs++;
                        if ((e = get_bytes(c, "data", wc->der, wc->len, sp, d)) < 0) {
                                vt_snp_wire_done(&w);
                                return e;
                        }
                }
        }
        *ret = w;
        return 0;
}

int vt_snp_wire_decode(const json_t *ev, struct vt_snp_wire *ret, struct vt_diag *d)
{
        return vt_snp_wire_decode_spans(ev, NULL, ret, d);
}

const struct vt_snp_wire_cert *vt_snp_wire_find(const struct vt_snp_wire *w, const char *type)
{
        for (size_t i = 0; i < w->n_certs; i++)
                if (strcmp(w->certs[i].type, type) == 0)
                        return &w->certs[i];
        return NULL;
}

static json_t *bytes_json(const uint8_t *p, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_integer(p[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *tcb_json(const struct vt_snp_tcb *t)
{
        return json_pack("{s:o, s:i, s:i, s:i, s:i}", "fmc",
                         t->turin ? json_integer(t->fmc) : json_null(), "bootloader", t->bootloader,
                         "tee", t->tee, "snp", t->snp, "microcode", t->microcode);
}

int vt_snp_wire_encode(const uint8_t report[VT_SNP_REPORT_SIZE],
                       const struct vt_snp_wire_cert *certs, size_t n_certs, json_t **ret)
{
        struct vt_snp_report r;
        int e = vt_snp_report_parse(report, VT_SNP_REPORT_SIZE, &r, NULL);
        if (e < 0)
                return e;
        json_auto_t *o = json_object(), *chain = json_array();
        if (!o || !chain)
                return VT_E_NOMEM;
        json_t *rep = json_pack(
                "{s:i, s:i, s:I, s:o, s:o, s:i, s:i, s:o, s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:o, "
                "s:o, s:o}",
                "version", r.version, "guest_svn", r.guest_svn, "policy", (json_int_t)r.policy,
                "family_id", bytes_json(r.family_id, 16), "image_id", bytes_json(r.image_id, 16),
                "vmpl", r.vmpl, "sig_algo", r.signature_algo, "current_tcb",
                tcb_json(&r.current_tcb), "plat_info", (json_int_t)r.platform_info, "key_info",
                r.signer_info, "report_data", bytes_json(r.report_data, 64), "measurement",
                bytes_json(r.measurement, 48), "host_data", bytes_json(r.host_data, 32),
                "id_key_digest", bytes_json(r.id_key_digest, 48), "author_key_digest",
                bytes_json(r.author_key_digest, 48), "report_id", bytes_json(r.report_id, 32),
                "report_id_ma", bytes_json(r.report_id_ma, 32), "reported_tcb",
                tcb_json(&r.reported_tcb));
        if (!rep)
                return VT_E_NOMEM;
        if (r.version >= 3) {
                json_object_set_new(rep, "cpuid_fam_id", json_integer(r.cpuid_fam_id));
                json_object_set_new(rep, "cpuid_mod_id", json_integer(r.cpuid_mod_id));
                json_object_set_new(rep, "cpuid_step", json_integer(r.cpuid_step));
        }
        json_object_set_new(rep, "chip_id", bytes_json(r.chip_id, 64));
        json_object_set_new(rep, "committed_tcb", tcb_json(&r.committed_tcb));
        json_object_set_new(rep, "current",
                            json_pack("{s:i, s:i, s:i}", "major", r.current_major, "minor",
                                      r.current_minor, "build", r.current_build));
        json_object_set_new(rep, "committed",
                            json_pack("{s:i, s:i, s:i}", "major", r.committed_major, "minor",
                                      r.committed_minor, "build", r.committed_build));
        json_object_set_new(rep, "launch_tcb", tcb_json(&r.launch_tcb));
        if (r.version >= 5) {
                json_object_set_new(rep, "launch_mit_vector",
                                    json_integer((json_int_t)r.launch_mit_vector));
                json_object_set_new(rep, "current_mit_vector",
                                    json_integer((json_int_t)r.current_mit_vector));
        }
        json_object_set_new(rep, "signature",
                            json_pack("{s:o, s:o}", "r", bytes_json(report + 0x2a0, 72), "s",
                                      bytes_json(report + 0x2e8, 72)));
        for (size_t i = 0; i < n_certs; i++)
                json_array_append_new(chain,
                                      json_pack("{s:s, s:o}", "cert_type", certs[i].type, "data",
                                                bytes_json(certs[i].der, certs[i].len)));
        json_object_set_new(o, "attestation_report", rep);
        json_object_set(o, "cert_chain", chain);
        /* rebuild and compare: the encoding must give back the exact bytes */
        struct vt_snp_wire w;
        if ((e = vt_snp_wire_decode(o, &w, NULL)) < 0)
                return e;
        bool same = memcmp(w.report, report, VT_SNP_REPORT_SIZE) == 0;
        vt_snp_wire_done(&w);
        if (!same)
                return VT_E_FORMAT;
        *ret = json_incref(o);
        return 0;
}
