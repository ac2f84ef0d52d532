/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel DCAP quote parser: SGX quote v3, TDX quote v4 and v5 (TDX 1.0 and 1.5 bodies,
 * and the SGX body of v5). Bytes in, struct out; no I/O, no keys. Layouts: Intel's
 * ECDSA Quote Library reference as implemented by IQVL Quote.cpp, go-tdx-guest abi.go
 * and dcap-qvl quote.rs, summarised in docs/dcap.md. Every offset in a message is an
 * offset into the quote buffer.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/macro.h"
#include "util/rd.h"
#include "veritee/dcap.h"

/* The buffer may be larger than the quote when the rest is zeros (QGS and configfs
 * buffers: 70 B, 3065 B seen); past this, the input is refused before it is read. */
#define DCAP_MAX_BUFFER    (1u << 20)
#define DCAP_MAX_PCK_CHAIN (16u * 1024u)
#define DCAP_MAX_AUTH_DATA (4u * 1024u)

#define TEE_TYPE_SGX 0x00u
#define TEE_TYPE_TDX 0x81u

/* Certification data types (Intel ECDSA Quote Library reference, table 9). */
#define CERT_PCK_CHAIN 5
#define CERT_QE_REPORT 6

static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_dcap_quote *, vt_dcap_quote_free);

void vt_dcap_quote_free(struct vt_dcap_quote *q)
{
        if (!q)
                return;
        free(q->qe_auth_data);
        free(q->pck_chain_pem);
        free(q->raw);
        free(q);
}

/* A length-prefixed region of the signature data, for messages about reads that run
 * past its end: "signature data (length 4300 at offset 0x278)". */
struct region {
        const char *name;  /* "signature data", "certification data" */
        const char *field; /* the name of its length field */
        uint32_t size;
        size_t size_off;
};

/* A read inside a region failed: the region's own length is too small for what it
 * must hold. The buffer is long enough (the region was cut from it), so this is an
 * inconsistent length, not a truncated quote. */
static int short_region(struct vt_diag *d, const struct region *g, const char *what, size_t at)
{
        return vt_diag_set(d, VT_E_FORMAT,
                           "dcap: %s (%s %u at offset 0x%zx) ends inside %s at offset 0x%zx",
                           g->name, g->field, g->size, g->size_off, what, at);
}

/* A length read from a region claims more than the region has left. */
static int overlong(struct vt_diag *d, const struct region *g, const char *field, size_t n,
                    size_t at, size_t left)
{
        return vt_diag_set(d, VT_E_FORMAT,
                           "dcap: %s %zu at offset 0x%zx exceeds the %zu bytes left in the %s "
                           "(%s %u at offset 0x%zx)",
                           field, n, at, left, g->name, g->field, g->size, g->size_off);
}

/* A region must hold exactly what its structure uses. */
static int check_used_up(const struct vt_rd *r, const struct region *g, struct vt_diag *d)
{
        if (vt_rd_left(r) == 0)
                return 0;
        return vt_diag_set(d, VT_E_FORMAT,
                           "dcap: %s %u at offset 0x%zx, but its contents end at offset 0x%zx "
                           "(%zu bytes unused)",
                           g->field, g->size, g->size_off, r->off, vt_rd_left(r));
}

/* Decodes a 384-byte SGX report body. The reserved ranges (20+12, 96+32, 160+32,
 * 262+42) are skipped, not required to be zero: Intel's verifier does not check them
 * either, and they are covered by the quote (or QE report) signature. */
static void decode_sgx_body(const uint8_t *p, struct vt_sgx_report_body *b)
{
        struct vt_rd r;
        vt_rd_init(&r, p, VT_SGX_REPORT_SIZE);
        /* The view is exactly VT_SGX_REPORT_SIZE bytes, so none of these reads can fail. */
        (void)vt_rd_bytes(&r, b->cpusvn, 16);
        (void)vt_rd_u32le(&r, &b->miscselect);
        (void)vt_rd_skip(&r, 12);
        (void)vt_rd_bytes(&r, b->isv_ext_prod_id, 16);
        (void)vt_rd_bytes(&r, b->attributes, 16);
        (void)vt_rd_bytes(&r, b->mr_enclave, 32);
        (void)vt_rd_skip(&r, 32);
        (void)vt_rd_bytes(&r, b->mr_signer, 32);
        (void)vt_rd_skip(&r, 32);
        (void)vt_rd_bytes(&r, b->config_id, 64);
        (void)vt_rd_u16le(&r, &b->isv_prod_id);
        (void)vt_rd_u16le(&r, &b->isv_svn);
        (void)vt_rd_u16le(&r, &b->config_svn);
        (void)vt_rd_skip(&r, 42);
        (void)vt_rd_bytes(&r, b->isv_family_id, 16);
        (void)vt_rd_bytes(&r, b->report_data, 64);
}

/* Decodes a TD report body of VT_TD10_REPORT_SIZE or VT_TD15_REPORT_SIZE bytes. */
static void decode_td_body(const uint8_t *p, size_t n, struct vt_td_report_body *b)
{
        struct vt_rd r;
        vt_rd_init(&r, p, n);
        /* The view holds at least VT_TD10_REPORT_SIZE bytes; the 1.5 fields are read
         * only when the caller gave VT_TD15_REPORT_SIZE. */
        (void)vt_rd_bytes(&r, b->tee_tcb_svn, 16);
        (void)vt_rd_bytes(&r, b->mr_seam, 48);
        (void)vt_rd_bytes(&r, b->mr_signer_seam, 48);
        (void)vt_rd_u64le(&r, &b->seam_attributes);
        (void)vt_rd_u64le(&r, &b->td_attributes);
        (void)vt_rd_u64le(&r, &b->xfam);
        (void)vt_rd_bytes(&r, b->mr_td, 48);
        (void)vt_rd_bytes(&r, b->mr_config_id, 48);
        (void)vt_rd_bytes(&r, b->mr_owner, 48);
        (void)vt_rd_bytes(&r, b->mr_owner_config, 48);
        for (size_t i = 0; i < 4; i++)
                (void)vt_rd_bytes(&r, b->rtmr[i], 48);
        (void)vt_rd_bytes(&r, b->report_data, 64);
        if (n == VT_TD15_REPORT_SIZE) {
                (void)vt_rd_bytes(&r, b->tee_tcb_svn2, 16);
                (void)vt_rd_bytes(&r, b->mr_service_td, 48);
        }
}

/* Reads the part common to the v3 signature data and the v4/v5 QE report certification
 * data: QE report, its signature, QE authentication data, then a certification data
 * entry (v3: types 1-5; nested in v4/v5: type 5 only). g is the enclosing region, and
 * it must be used up exactly. */
static int parse_qe_part(struct vt_rd *r, const struct region *g, bool nested,
                         struct vt_dcap_quote *q, struct vt_diag *d)
{
        const char *type_field = nested ? "inner cert_data_type" : "cert_data_type";
        const char *size_field = nested ? "inner cert_data_size" : "cert_data_size";
        struct vt_rd chain;
        uint16_t auth_len, type;
        uint32_t size;
        size_t at;

#define RDG(call, what)                                                                            \
        do {                                                                                       \
                at = r->off;                                                                       \
                if ((call) < 0)                                                                    \
                        return short_region(d, g, (what), at);                                     \
        } while (0)

        RDG(vt_rd_bytes(r, q->qe_report_raw, VT_SGX_REPORT_SIZE), "the QE report");
        decode_sgx_body(q->qe_report_raw, &q->qe_report);
        RDG(vt_rd_bytes(r, q->qe_report_signature, 64), "the QE report signature");
        RDG(vt_rd_u16le(r, &auth_len), "qe_auth_data_size");
        if (auth_len > DCAP_MAX_AUTH_DATA)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "dcap: qe_auth_data_size %u at offset 0x%zx exceeds the cap of "
                                   "%u bytes",
                                   auth_len, at, DCAP_MAX_AUTH_DATA);
        if (auth_len > vt_rd_left(r))
                return overlong(d, g, "qe_auth_data_size", auth_len, at, vt_rd_left(r));
        q->qe_auth_data = malloc(auth_len ? auth_len : 1);
        if (!q->qe_auth_data)
                return VT_E_NOMEM;
        RDG(vt_rd_bytes(r, q->qe_auth_data, auth_len), "the QE authentication data");
        q->qe_auth_len = auth_len;

        RDG(vt_rd_u16le(r, &type), type_field);
        if (nested && type != CERT_PCK_CHAIN)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: inner cert_data_type %u at offset 0x%zx is not supported "
                                   "(expected 5, PCK certificate chain)",
                                   type, at);
        if (!nested && (type < 1 || type > CERT_PCK_CHAIN))
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: cert_data_type %u at offset 0x%zx is not a PCK "
                                   "certification data type (1-5)",
                                   type, at);
        q->pck_cert_type = type;
        RDG(vt_rd_u32le(r, &size), size_field);
        if (size > DCAP_MAX_PCK_CHAIN)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "dcap: %s %u at offset 0x%zx exceeds the cap of %u bytes",
                                   size_field, size, at, DCAP_MAX_PCK_CHAIN);
        if (size > vt_rd_left(r))
                return overlong(d, g, size_field, size, at, vt_rd_left(r));
        RDG(vt_rd_sub(r, size, &chain), "the PCK certification data");
#undef RDG

        if (type == CERT_PCK_CHAIN) {
                /* QGS terminates the PEM with a NUL; keep the text without it. */
                size_t n = chain.len;
                while (n > 0 && chain.p[n - 1] == 0)
                        n--;
                if (n == 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "dcap: PCK certificate chain at offset 0x%zx is empty",
                                           chain.off);
                q->pck_chain_pem = malloc(n + 1);
                if (!q->pck_chain_pem)
                        return VT_E_NOMEM;
                memcpy(q->pck_chain_pem, chain.p, n);
                q->pck_chain_pem[n] = 0;
                q->pck_chain_len = n;
        }
        /* Types 1-4 (PPID forms, v3 only) are kept in raw; the verifier reports the
         * missing PCK chain. */

        return check_used_up(r, g, d);
}

/* The signature data of v4/v5: signature, attestation key, and certification data of
 * type 6 holding the QE report part. */
static int parse_sig_data_v4(struct vt_rd *r, const struct region *g, struct vt_dcap_quote *q,
                             struct vt_diag *d)
{
        struct vt_rd cd;
        uint32_t size;
        size_t at;

#define RDS(call, what)                                                                            \
        do {                                                                                       \
                at = r->off;                                                                       \
                if ((call) < 0)                                                                    \
                        return short_region(d, g, (what), at);                                     \
        } while (0)

        RDS(vt_rd_bytes(r, q->signature, 64), "the quote signature");
        RDS(vt_rd_bytes(r, q->attest_key, 64), "the attestation key");
        RDS(vt_rd_u16le(r, &q->cert_data_type), "cert_data_type");
        if (q->cert_data_type != CERT_QE_REPORT)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: cert_data_type %u at offset 0x%zx is not supported "
                                   "(expected 6, QE report certification data)",
                                   q->cert_data_type, at);
        RDS(vt_rd_u32le(r, &size), "cert_data_size");
        if (size > vt_rd_left(r))
                return overlong(d, g, "cert_data_size", size, at, vt_rd_left(r));
        RDS(vt_rd_sub(r, size, &cd), "the certification data");
#undef RDS

        const struct region inner = {"QE report certification data", "cert_data_size", size, at};
        int e = parse_qe_part(&cd, &inner, true, q, d);
        if (e < 0)
                return e;
        return check_used_up(r, g, d);
}

/* The signature data of v3: flat. */
static int parse_sig_data_v3(struct vt_rd *r, const struct region *g, struct vt_dcap_quote *q,
                             struct vt_diag *d)
{
        size_t at = r->off;
        if (vt_rd_bytes(r, q->signature, 64) < 0)
                return short_region(d, g, "the quote signature", at);
        at = r->off;
        if (vt_rd_bytes(r, q->attest_key, 64) < 0)
                return short_region(d, g, "the attestation key", at);
        int e = parse_qe_part(r, g, false, q, d);
        if (e < 0)
                return e;
        q->cert_data_type = q->pck_cert_type;
        return 0;
}

int vt_dcap_quote_parse(const uint8_t *buf, size_t len, struct vt_dcap_quote **ret,
                        struct vt_diag *d)
{
        _cleanup_(vt_dcap_quote_freep) struct vt_dcap_quote *q = NULL;
        struct vt_rd rd, body, sd;
        uint32_t body_size, sig_len, want_tee;
        uint16_t body_type;
        size_t at, bad;
        int e;

        if ((!buf && len) || !ret)
                return VT_E_INVAL;
        if (len > DCAP_MAX_BUFFER)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "dcap: quote buffer of %zu bytes exceeds the cap of %u bytes",
                                   len, DCAP_MAX_BUFFER);
        q = calloc(1, sizeof(*q));
        if (!q)
                return VT_E_NOMEM;
        vt_rd_init(&rd, buf, len);

#define RD(call, what)                                                                             \
        do {                                                                                       \
                at = rd.off;                                                                       \
                if ((e = (call)) < 0)                                                              \
                        return vt_diag_set(d, e,                                                   \
                                           "dcap: quote truncated in %s at offset 0x%zx "          \
                                           "(%zu bytes)",                                          \
                                           (what), at, len);                                       \
        } while (0)

        /* Header. */
        RD(vt_rd_u16le(&rd, &q->version), "version");
        if (q->version < 3 || q->version > 5)
                return vt_diag_set(
                        d, VT_E_UNSUPPORTED,
                        "dcap: quote version %u at offset 0x0 is not supported (3, 4, 5)",
                        q->version);
        RD(vt_rd_u16le(&rd, &q->att_key_type), "att_key_type");
        if (q->att_key_type == 3)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: att_key_type 3 (ECDSA-384 with P-384) at offset 0x2 is "
                                   "reserved; only 2 (ECDSA-256 with P-256) is supported");
        if (q->att_key_type != 2)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: att_key_type %u at offset 0x2 is not supported (expected "
                                   "2, ECDSA-256 with P-256)",
                                   q->att_key_type);
        RD(vt_rd_u32le(&rd, &q->tee_type), "tee_type");
        RD(vt_rd_u16le(&rd, &q->qe_svn), "qe_svn");
        RD(vt_rd_u16le(&rd, &q->pce_svn), "pce_svn");
        RD(vt_rd_bytes(&rd, q->qe_vendor_id, 16), "qe_vendor_id");
        if (memcmp(q->qe_vendor_id, intel_qe_vendor, 16) != 0) {
                char hex[33];
                vt_hex_encode(q->qe_vendor_id, 16, hex);
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: qe_vendor_id %s at offset 0xc is not Intel's "
                                   "939a7233f79c4ca9940a0db3957f0607",
                                   hex);
        }
        RD(vt_rd_bytes(&rd, q->user_data, 20), "user_data");

        /* Body: its type from the version, or from the v5 descriptor. */
        switch (q->version) {
        case 3:
                body_type = VT_DCAP_BODY_SGX;
                body_size = VT_SGX_REPORT_SIZE;
                break;
        case 4:
                body_type = VT_DCAP_BODY_TD10;
                body_size = VT_TD10_REPORT_SIZE;
                break;
        default: {
                static const uint32_t sizes[] = {[VT_DCAP_BODY_SGX] = VT_SGX_REPORT_SIZE,
                                                 [VT_DCAP_BODY_TD10] = VT_TD10_REPORT_SIZE,
                                                 [VT_DCAP_BODY_TD15] = VT_TD15_REPORT_SIZE};
                RD(vt_rd_u16le(&rd, &body_type), "body_type");
                if (body_type < VT_DCAP_BODY_SGX || body_type > VT_DCAP_BODY_TD15)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "dcap: body_type %u at offset 0x%zx is not supported "
                                           "(1 SGX, 2 TDX 1.0, 3 TDX 1.5)",
                                           body_type, at);
                RD(vt_rd_u32le(&rd, &body_size), "body_size");
                if (body_size != sizes[body_type])
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "dcap: body_size %u at offset 0x%zx does not match "
                                           "body_type %u (%u bytes)",
                                           body_size, at, body_type, sizes[body_type]);
                break;
        }
        }
        q->body_type = (enum vt_dcap_body_type)body_type;
        want_tee = body_type == VT_DCAP_BODY_SGX ? TEE_TYPE_SGX : TEE_TYPE_TDX;
        if (q->tee_type != want_tee)
                return vt_diag_set(
                        d, VT_E_FORMAT,
                        "dcap: tee_type 0x%x at offset 0x4 does not match the %s body of "
                        "a version %u quote (expected 0x%x)",
                        q->tee_type, body_type == VT_DCAP_BODY_SGX ? "SGX" : "TD", q->version,
                        want_tee);
        RD(vt_rd_sub(&rd, body_size, &body), "the report body");
        if (body_type == VT_DCAP_BODY_SGX)
                decode_sgx_body(body.p, &q->sgx);
        else
                decode_td_body(body.p, body.len, &q->td);

        /* Signature data: its length must be exactly what its structure uses. */
        q->signed_len = rd.off;
        RD(vt_rd_u32le(&rd, &sig_len), "the signature data length");
        if (sig_len > VT_DCAP_MAX_QUOTE - rd.off)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "dcap: signature data length %u at offset 0x%zx makes the quote "
                                   "larger than the cap of %u bytes",
                                   sig_len, at, VT_DCAP_MAX_QUOTE);
        if (vt_rd_sub(&rd, sig_len, &sd) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "dcap: signature data length %u at offset 0x%zx runs past the "
                                   "end of the quote (%zu bytes left)",
                                   sig_len, at, vt_rd_left(&rd));
#undef RD
        const struct region g = {"signature data", "signature data length", sig_len, at};
        e = q->version == 3 ? parse_sig_data_v3(&sd, &g, q, d) : parse_sig_data_v4(&sd, &g, q, d);
        if (e < 0)
                return e;

        q->raw_len = rd.off;
        q->raw = malloc(q->raw_len);
        if (!q->raw)
                return VT_E_NOMEM;
        memcpy(q->raw, buf, q->raw_len);

        /* After the quote: zeros only (padding of the caller's buffer). */
        e = vt_rd_zero(&rd, vt_rd_left(&rd), &bad);
        if (e < 0)
                return vt_diag_set(d, VT_E_TRAILING,
                                   "dcap: byte 0x%02x at offset 0x%zx after the signature data "
                                   "(which ends at 0x%zx) is not zero",
                                   buf[bad], bad, q->raw_len);
        q->trailing_zeros = len - q->raw_len;

        *ret = TAKE_PTR(q);
        return 0;
}
