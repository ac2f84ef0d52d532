/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification of az-snp-vtpm, az-tdx-vtpm and tpm evidence, following Trustee's
 * deps/verifier az_snp_vtpm, az_tdx_vtpm and tpm verifiers: the TPM quote is signed by
 * the attestation key (HCLAkPub from the HCL report's runtime JSON, or a trusted AK),
 * its extraData is the expected report data and its pcrDigest covers the PCR values;
 * the hardware report binds the runtime JSON (REPORT_DATA = H(runtime JSON) || 0) and
 * is itself verified (vt_snp_verify / vt_dcap_verify). docs/azure.md.
 */
#define _GNU_SOURCE
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/digest.h"
#include "crypto/jwk.h"
#include "crypto/x509.h"
#include "util/hex.h"
#include "util/json.h"
#include "veritee/azure.h"

#define MAX_TRUSTED_AKS  100
#define MIN_RSA_AK_BITS  2048
#define MAX_AK_KEY_BYTES (64u * 1024u)
#define INIT_DATA_PCR    8

/* ---- digests over parsed evidence (lib/evidence only turns bytes into structs) ---- */

int vt_hcl_report_var_digest(const struct vt_hcl_report *r, uint8_t out[64])
{
        const EVP_MD *md = r->hash_type == VT_HCL_HASH_SHA256   ? EVP_sha256()
                           : r->hash_type == VT_HCL_HASH_SHA384 ? EVP_sha384()
                           : r->hash_type == VT_HCL_HASH_SHA512 ? EVP_sha512()
                                                                : NULL;
        unsigned n = 0;
        if (!md)
                return VT_E_UNSUPPORTED;
        if (!EVP_Digest(r->var_data, r->var_len, out, &n, md, NULL))
                return VT_E_CRYPTO;
        return (int)n;
}

int vt_hcl_check_binding(const struct vt_hcl_report *r, const uint8_t report_data[64],
                         struct vt_diag *d)
{
        uint8_t want[64] = {0};
        int n = vt_hcl_report_var_digest(r, want);
        if (n < 0)
                return n;
        if (CRYPTO_memcmp(want, report_data, 64) != 0) {
                char w[129], h[129];
                vt_hex_encode(want, 64, w);
                vt_hex_encode(report_data, 64, h);
                return vt_diag_set(
                        d, VT_E_BINDING,
                        "hcl: REPORT_DATA %.64s%s != SHA-%d(runtime data) %.64s followed "
                        "by zeros",
                        h,
                        memcmp(report_data + n, want + n, 64 - (size_t)n) ? " (tail "
                                                                            "not zero)"
                                                                          : "",
                        n * 8, w);
        }
        return 0;
}

int vt_tpm_check_pcrs(const struct vt_tpm_attest *a, const uint8_t pcrs[VT_TPM_NUM_PCRS][32],
                      uint32_t *ret_mask, struct vt_diag *d)
{
        const EVP_MD *md;
        uint8_t h[64];
        unsigned hl = 0;
        uint32_t mask = 0;
        int ok;

        if (!a || !pcrs)
                return VT_E_INVAL;
        switch (a->pcr_digest_len) {
        case 32:
                md = EVP_sha256();
                break;
        case 48:
                md = EVP_sha384();
                break;
        default:
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "tpm: pcrDigest of %u bytes (supported: SHA-256, SHA-384)",
                                   a->pcr_digest_len);
        }
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ok = ctx && EVP_DigestInit_ex(ctx, md, NULL);
        for (uint32_t i = 0; ok && i < a->n_sel; i++) {
                const struct vt_tpm_pcr_selection *s = &a->sel[i];
                for (unsigned pcr = 0; ok && pcr < 8u * s->size_of_select; pcr++) {
                        if (!(s->select[pcr / 8] & (1u << (pcr % 8))))
                                continue;
                        if (s->hash_alg != VT_TPM_ALG_SHA256) {
                                EVP_MD_CTX_free(ctx);
                                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                                   "tpm: the quote selects PCR %u of bank 0x%04x; "
                                                   "only the SHA-256 bank (0x000b) is sent",
                                                   pcr, s->hash_alg);
                        }
                        if (pcr >= VT_TPM_NUM_PCRS) {
                                EVP_MD_CTX_free(ctx);
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "tpm: the quote selects PCR %u, beyond PCR 23",
                                                   pcr);
                        }
                        ok = EVP_DigestUpdate(ctx, pcrs[pcr], 32);
                        mask |= 1u << pcr;
                }
        }
        ok = ok && EVP_DigestFinal_ex(ctx, h, &hl);
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return VT_E_CRYPTO;
        if (hl != a->pcr_digest_len || memcmp(h, a->pcr_digest, hl) != 0)
                return vt_diag_set(d, VT_E_BINDING,
                                   "tpm: PCR digest mismatch: the hash of the %d selected PCR "
                                   "values is not the quote's pcrDigest",
                                   __builtin_popcount(mask));
        if (ret_mask)
                *ret_mask = mask;
        return 0;
}

/* ---- trusted AKs ---- */

struct vt_tpm_aks {
        uint8_t spki_sha256[MAX_TRUSTED_AKS][32];
        size_t n;
};

int vt_tpm_aks_new(struct vt_tpm_aks **ret)
{
        struct vt_tpm_aks *a = calloc(1, sizeof(*a));
        if (!ret) {
                free(a);
                return VT_E_INVAL;
        }
        if (!a)
                return VT_E_NOMEM;
        *ret = a;
        return 0;
}

void vt_tpm_aks_free(struct vt_tpm_aks *a)
{
        free(a);
}

size_t vt_tpm_aks_count(const struct vt_tpm_aks *a)
{
        return a ? a->n : 0;
}

/* SHA-256 of the canonical DER SubjectPublicKeyInfo of k. */
static int spki_sha256(EVP_PKEY *k, uint8_t out[32])
{
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(k, &der);
        if (n <= 0)
                return VT_E_CRYPTO;
        int ok = EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL);
        OPENSSL_free(der);
        return ok ? 0 : VT_E_CRYPTO;
}

/* A DER SubjectPublicKeyInfo, all bytes used. */
static EVP_PKEY *pubkey_der(const uint8_t *buf, size_t len)
{
        const uint8_t *p = buf;
        if (len == 0 || len > MAX_AK_KEY_BYTES)
                return NULL;
        EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
        if (k && p != buf + len) {
                EVP_PKEY_free(k);
                k = NULL;
        }
        ERR_clear_error();
        return k;
}

int vt_tpm_aks_add(struct vt_tpm_aks *a, const uint8_t *key, size_t len, struct vt_diag *d)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        int e;
        if (!a || !key)
                return VT_E_INVAL;
        if (len == 0 || len > MAX_AK_KEY_BYTES)
                return vt_diag_set(d, VT_E_INVAL, "tpm: trusted AK of %zu bytes (1..%u)", len,
                                   MAX_AK_KEY_BYTES);
        if (a->n >= MAX_TRUSTED_AKS)
                return vt_diag_set(d, VT_E_LIMIT, "tpm: more than %d trusted AKs", MAX_TRUSTED_AKS);
        X509 *x = NULL;
        if (vt_x509_parse_one(key, len, &x) == 0) {
                k = X509_get_pubkey(x);
                X509_free(x);
        } else if (memmem(key, len, "-----BEGIN", 10)) {
                BIO *b = BIO_new_mem_buf(key, (int)len);
                k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
                BIO_free(b);
        } else {
                k = pubkey_der(key, len);
        }
        ERR_clear_error();
        if (!k)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "tpm: trusted AK is not a PEM or DER public key or certificate");
        if ((e = spki_sha256(k, a->spki_sha256[a->n])) < 0)
                return e;
        a->n++;
        return 0;
}

static bool aks_contains(const struct vt_tpm_aks *a, const uint8_t h[32])
{
        for (size_t i = 0; i < a->n; i++)
                if (memcmp(a->spki_sha256[i], h, 32) == 0)
                        return true;
        return false;
}

/* ---- signatures ---- */

/* An RSA public key from big-endian n and e (the HCLAkPub JWK). */
static EVP_PKEY *rsa_from_ne(const uint8_t *n, size_t nl, const uint8_t *e, size_t el)
{
        EVP_PKEY *k = NULL;
        return vt_rsa_public_from_ne(n, nl, e, el, &k) == 0 ? k : NULL;
}

static const EVP_MD *tpm_md(uint16_t alg)
{
        switch (alg) {
        case VT_TPM_ALG_SHA256:
                return EVP_sha256();
        case VT_TPM_ALG_SHA384:
                return EVP_sha384();
        case VT_TPM_ALG_SHA512:
                return EVP_sha512();
        default:
                return NULL;
        }
}

/* RSASSA-PKCS1-v1_5 (pss false) or RSASSA-PSS (any salt length) over msg. */
static int verify_rsa(EVP_PKEY *k, const EVP_MD *md, bool pss, const uint8_t *msg, size_t ml,
                      const uint8_t *sig, size_t sl)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        int r = VT_E_SIGNATURE;
        if (!ctx)
                return VT_E_NOMEM;
        if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA &&
            EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) ==
                    1 &&
            (!pss || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1) &&
            EVP_DigestVerify(ctx, sig, sl, msg, ml) == 1)
                r = 0;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return r;
}

static int verify_ecdsa(EVP_PKEY *k, const EVP_MD *md, const struct vt_tpm_signature *s,
                        const uint8_t *msg, size_t ml)
{
        ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(s->r, s->r_len, NULL), *ss = BN_bin2bn(s->s, s->s_len, NULL);
        unsigned char *der = NULL;
        int dl, e = VT_E_SIGNATURE;
        if (!sig || !r || !ss || !ECDSA_SIG_set0(sig, r, ss)) {
                BN_free(r);
                BN_free(ss);
                ECDSA_SIG_free(sig);
                return VT_E_NOMEM;
        }
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (ctx && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC && (dl = i2d_ECDSA_SIG(sig, &der)) > 0 &&
            EVP_DigestVerifyInit(ctx, NULL, md, NULL, k) == 1 &&
            EVP_DigestVerify(ctx, der, (size_t)dl, msg, ml) == 1)
                e = 0;
        EVP_MD_CTX_free(ctx);
        OPENSSL_free(der);
        ECDSA_SIG_free(sig);
        ERR_clear_error();
        return e;
}

/* ---- the checks ---- */

int vt_az_check_init_data(const uint8_t pcr8[32], const uint8_t digest[32], struct vt_diag *d)
{
        uint8_t in[64] = {0}, want[32];
        if (!pcr8 || !digest)
                return VT_E_INVAL;
        memcpy(in + 32, digest, 32);
        if (!EVP_Digest(in, sizeof(in), want, NULL, EVP_sha256(), NULL))
                return VT_E_CRYPTO;
        if (memcmp(want, pcr8, 32) != 0) {
                char w[VT_FINGERPRINT_LEN], h[VT_FINGERPRINT_LEN];
                return vt_diag_set(d, VT_E_BINDING,
                                   "init-data: PCR8 != SHA-256(32 zero bytes || init-data digest) "
                                   "(fingerprints: PCR8 %s, expected %s)",
                                   vt_fingerprint(pcr8, 32, h), vt_fingerprint(want, 32, w));
        }
        return 0;
}

void vt_az_result_done(struct vt_az_result *r)
{
        if (!r)
                return;
        vt_hcl_report_free(r->hcl);
        vt_dcap_quote_free(r->td);
        memset(r, 0, sizeof(*r));
}

/* Prefixes the diag of a failed step with the tee name. */
static int fail(struct vt_diag *d, int e, const char *tee, const struct vt_diag *inner)
{
        return vt_diag_set(d, e, "%s: %s", tee, inner->msg[0] ? inner->msg : vt_strerror(e));
}

static int check_nonce(const struct vt_az_evidence *ev, const struct vt_az_verify_opts *o,
                       const struct vt_tpm_attest *a, struct vt_diag *d)
{
        const char *tee = vt_az_tee_name(ev->tee);
        uint8_t want[64] = {0};
        size_t wl = o->report_data_len;
        memcpy(want, o->report_data, wl);
        /* tpm: the attester zero-pads the report data to 64 bytes (Trustee tpm verifier) */
        if (ev->tee == VT_AZ_TEE_TPM)
                wl = 64;
        if (a->extra_data_len != wl || CRYPTO_memcmp(a->extra_data, want, wl) != 0) {
                char h[VT_FINGERPRINT_LEN], w[VT_FINGERPRINT_LEN];
                return vt_diag_set(d, VT_E_BINDING,
                                   "%s: TPM quote extraData (%zu bytes) does not match the "
                                   "expected report data (%zu bytes; nonce) (fingerprints: "
                                   "extraData %s, expected %s)",
                                   tee, (size_t)a->extra_data_len, wl,
                                   vt_fingerprint(a->extra_data, a->extra_data_len, h),
                                   vt_fingerprint(want, wl, w));
        }
        return 0;
}

/* tee tpm: the AK must be trusted, then the TPMT_SIGNATURE verifies with it. */
static int check_tpm_signature(const struct vt_az_evidence *ev, const struct vt_az_verify_opts *o,
                               struct vt_az_result *res, struct vt_diag *d)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        struct vt_tpm_signature sig;
        struct vt_diag in = {0};
        uint8_t h[32];
        int e;

        if (!o->aks || o->aks->n == 0)
                return vt_diag_set(d, VT_E_INVAL, "tpm: no trusted attestation keys configured");
        if (!(k = pubkey_der(ev->ak_public, ev->ak_public_len)))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "tpm: ak_public is not a DER SubjectPublicKeyInfo");
        if ((e = spki_sha256(k, h)) < 0)
                return e;
        if (!aks_contains(o->aks, h)) {
                char hx[65];
                vt_hex_encode(h, 32, hx);
                return vt_diag_set(d, VT_E_CHAIN,
                                   "tpm: the attestation key (SPKI SHA-256 %s) is not trusted", hx);
        }
        res->checks |= VT_AZ_CHECK_AK_TRUSTED;
        if ((e = vt_tpm_signature_parse(ev->signature, ev->signature_len, &sig, &in)) < 0)
                return fail(d, e, "tpm: quote signature", &in);
        const EVP_MD *md = tpm_md(sig.hash_alg);
        if (!md)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "tpm: quote signature hash 0x%04x (supported: SHA-256/384/512)",
                                   sig.hash_alg);
        e = sig.sig_alg == VT_TPM_ALG_ECDSA
                    ? verify_ecdsa(k, md, &sig, ev->message, ev->message_len)
                    : verify_rsa(k, md, sig.sig_alg == VT_TPM_ALG_RSAPSS, ev->message,
                                 ev->message_len, sig.sig, sig.sig_len);
        if (e < 0)
                return vt_diag_set(d, e,
                                   "tpm: the quote signature (scheme 0x%04x) does not verify with "
                                   "the attestation key",
                                   sig.sig_alg);
        return 0;
}

/* az-*: RSASSA-PKCS1-v1_5/SHA-256 over the TPMS_ATTEST bytes with HCLAkPub. */
static int check_hcl_ak_signature(const struct vt_az_evidence *ev, const struct vt_hcl_report *h,
                                  struct vt_diag *d)
{
        const char *tee = vt_az_tee_name(ev->tee);
        if (!h->ak_n)
                return vt_diag_set(d, VT_E_FORMAT, "%s: the HCL runtime data has no HCLAkPub key",
                                   tee);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k =
                rsa_from_ne(h->ak_n, h->ak_n_len, h->ak_e, h->ak_e_len);
        if (!k || EVP_PKEY_get_bits(k) < MIN_RSA_AK_BITS)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: HCLAkPub is not an RSA key of at least %d bits", tee,
                                   MIN_RSA_AK_BITS);
        if (verify_rsa(k, EVP_sha256(), false, ev->message, ev->message_len, ev->signature,
                       ev->signature_len) < 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "%s: the TPM quote signature does not verify with HCLAkPub "
                                   "(RSASSA-PKCS1-v1_5/SHA-256)",
                                   tee);
        return 0;
}

static int check_user_data(const struct vt_az_evidence *ev, const struct vt_hcl_report *h,
                           const struct vt_az_verify_opts *o, struct vt_diag *d)
{
        const char *tee = vt_az_tee_name(ev->tee);
        if (!h->has_user_data)
                return vt_diag_set(d, VT_E_BINDING,
                                   "%s: evidence v%u but the HCL runtime data has no user-data",
                                   tee, ev->version);
        if (h->user_data_len < o->report_data_len ||
            CRYPTO_memcmp(h->user_data, o->report_data, o->report_data_len) != 0) {
                char u[VT_FINGERPRINT_LEN], w[VT_FINGERPRINT_LEN];
                return vt_diag_set(d, VT_E_BINDING,
                                   "%s: HCL user-data does not start with the expected report "
                                   "data (fingerprints: user-data %s, expected %s)",
                                   tee, vt_fingerprint(h->user_data, h->user_data_len, u),
                                   vt_fingerprint(o->report_data, o->report_data_len, w));
        }
        return 0;
}

/* The TD quote must have been made from the TDREPORT inside the HCL report. */
static int check_tdreport(const struct vt_tdreport *t, const struct vt_dcap_quote *q,
                          struct vt_diag *d)
{
        const struct vt_td_report_body *b = &q->td;
        const char *field = memcmp(t->report_data, b->report_data, 64) != 0      ? "report_data"
                            : t->td_attributes != b->td_attributes               ? "td_attributes"
                            : t->xfam != b->xfam                                 ? "xfam"
                            : memcmp(t->mr_td, b->mr_td, 48) != 0                ? "mr_td"
                            : memcmp(t->mr_config_id, b->mr_config_id, 48)       ? "mr_config_id"
                            : memcmp(t->mr_owner, b->mr_owner, 48)               ? "mr_owner"
                            : memcmp(t->mr_owner_config, b->mr_owner_config, 48) ? "mr_owner_config"
                            : memcmp(t->rtmr, b->rtmr, sizeof(t->rtmr))          ? "rtmr"
                                                                                 : NULL;
        if (field)
                return vt_diag_set(d, VT_E_BINDING,
                                   "az-tdx-vtpm: the TD quote's %s differs from the HCL report's "
                                   "TDREPORT",
                                   field);
        return 0;
}

static int verify_snp_hw(const struct vt_az_evidence *ev, const struct vt_az_verify_opts *o,
                         struct vt_az_result *res, struct vt_diag *d)
{
        struct vt_diag in = {0};
        int e;
        if (!o->snp)
                return vt_diag_set(d, VT_E_INVAL, "az-snp-vtpm: no SNP verifier given");
        struct vt_snp_verify_opts so = {
                .leaf = ev->vcek,
                .leaf_len = ev->vcek_len,
                .at = o->at,
                .policy = o->snp_policy,
        };
        if ((e = vt_snp_verify(o->snp, res->hcl->hw_report, sizeof(res->hcl->hw_report), &so,
                               &res->snp, &in)) < 0)
                return fail(d, e, "az-snp-vtpm: SNP report", &in);
        if (res->snp.report.vmpl != 0)
                return vt_diag_set(d, VT_E_POLICY,
                                   "az-snp-vtpm: SNP report VMPL is %u, must be 0 (issued by the "
                                   "paravisor)",
                                   res->snp.report.vmpl);
        return 0;
}

static int verify_tdx_hw(const struct vt_az_evidence *ev, const struct vt_az_verify_opts *o,
                         struct vt_az_result *res, struct vt_diag *d)
{
        struct vt_diag in = {0};
        struct vt_dcap_quote *q = NULL;
        int e;
        if (!o->dcap)
                return vt_diag_set(d, VT_E_INVAL, "az-tdx-vtpm: no DCAP verifier given");
        e = vt_dcap_verify(o->dcap, ev->td_quote, ev->td_quote_len, o->collateral, o->at,
                           o->dcap_opts, &q, &res->dcap, &in);
        if (q) {
                vt_dcap_quote_free(res->td);
                res->td = q;
        }
        if (e < 0)
                return fail(d, e, "az-tdx-vtpm: TD quote", &in);
        return 0;
}

int vt_az_verify_evidence(const struct vt_az_evidence *ev, const struct vt_az_verify_opts *o,
                          struct vt_az_result *res, struct vt_diag *d)
{
        struct vt_diag in = {0};
        int e;

        if (!res)
                return VT_E_INVAL;
        memset(res, 0, sizeof(*res));
        if (!ev || !o)
                return VT_E_INVAL;
        const char *tee = vt_az_tee_name(ev->tee);
        res->tee = ev->tee;
        res->version = ev->version;
        memcpy(res->pcrs, ev->pcrs, sizeof(res->pcrs));
        if (!o->report_data || o->report_data_len == 0 || o->report_data_len > 64)
                return vt_diag_set(d, VT_E_INVAL,
                                   "%s: the expected report data must be 1..64 bytes", tee);
        if ((e = vt_tpm_attest_parse(ev->message, ev->message_len, &res->attest, &in)) < 0)
                return fail(d, e, tee, &in);

        /* 1. the quote signature */
        if (ev->tee == VT_AZ_TEE_TPM) {
                if ((e = check_tpm_signature(ev, o, res, d)) < 0)
                        return e;
        } else {
                if (!ev->hcl)
                        return vt_diag_set(d, VT_E_FORMAT, "%s: no HCL report", tee);
                if ((e = vt_hcl_report_parse(ev->hcl, ev->hcl_len, &res->hcl, &in)) < 0)
                        return fail(d, e, tee, &in);
                uint32_t want =
                        ev->tee == VT_AZ_TEE_SNP_VTPM ? VT_HCL_REPORT_SNP : VT_HCL_REPORT_TDX;
                if (res->hcl->report_type != want)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "%s: the HCL report is of type %u, not %s", tee,
                                           res->hcl->report_type,
                                           want == VT_HCL_REPORT_SNP ? "SNP (2)" : "TDX (4)");
                if ((e = check_hcl_ak_signature(ev, res->hcl, d)) < 0)
                        return e;
        }
        res->checks |= VT_AZ_CHECK_QUOTE_SIGNATURE;
        /* 2. nonce */
        if ((e = check_nonce(ev, o, &res->attest, d)) < 0)
                return e;
        res->checks |= VT_AZ_CHECK_NONCE;
        /* 3. PCRs */
        if ((e = vt_tpm_check_pcrs(&res->attest, ev->pcrs, &res->pcr_mask, &in)) < 0)
                return fail(d, e, tee, &in);
        res->checks |= VT_AZ_CHECK_PCRS;

        if (ev->tee != VT_AZ_TEE_TPM) {
                /* 4. the hardware report binds the runtime JSON */
                const uint8_t *rd = res->hcl->hw_report_data;
                if (ev->tee == VT_AZ_TEE_TDX_VTPM) {
                        if (!ev->td_quote)
                                return vt_diag_set(d, VT_E_FORMAT, "%s: no TD quote", tee);
                        if ((e = vt_dcap_quote_parse(ev->td_quote, ev->td_quote_len, &res->td,
                                                     &in)) < 0)
                                return fail(d, e, "az-tdx-vtpm: TD quote", &in);
                        if (res->td->body_type == VT_DCAP_BODY_SGX)
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "az-tdx-vtpm: the TD quote is an SGX quote");
                        if ((e = check_tdreport(&res->hcl->tdreport, res->td, d)) < 0)
                                return e;
                        rd = res->td->td.report_data;
                }
                if ((e = vt_hcl_check_binding(res->hcl, rd, &in)) < 0)
                        return fail(d, e, tee, &in);
                res->checks |= VT_AZ_CHECK_HCL_BINDING;
                /* 5. v2: user-data carries the report data */
                if (ev->version >= 2) {
                        if ((e = check_user_data(ev, res->hcl, o, d)) < 0)
                                return e;
                        res->checks |= VT_AZ_CHECK_USER_DATA;
                }
                /* 6. the hardware report is genuine */
                e = ev->tee == VT_AZ_TEE_SNP_VTPM ? verify_snp_hw(ev, o, res, d)
                                                  : verify_tdx_hw(ev, o, res, d);
                if (e < 0)
                        return e;
                res->checks |= VT_AZ_CHECK_HW_REPORT;
        }
        /* 7. init-data in PCR8 */
        if (o->init_data_digest) {
                if (!(res->pcr_mask & (1u << INIT_DATA_PCR)))
                        return vt_diag_set(d, VT_E_BINDING,
                                           "%s: init-data given but the quote does not cover PCR8",
                                           tee);
                if ((e = vt_az_check_init_data(res->pcrs[INIT_DATA_PCR], o->init_data_digest,
                                               &in)) < 0)
                        return fail(d, e, tee, &in);
                res->checks |= VT_AZ_CHECK_INIT_DATA;
                res->init_data_checked = true;
        }
        return 0;
}

int vt_az_verify(enum vt_az_tee tee, const char *json, size_t len,
                 const struct vt_az_verify_opts *opts, struct vt_az_result *res, struct vt_diag *d)
{
        struct vt_az_evidence *ev = NULL;
        if (!res)
                return VT_E_INVAL;
        memset(res, 0, sizeof(*res));
        res->tee = tee;
        int e = vt_az_evidence_parse(tee, json, len, &ev, d);
        if (e < 0)
                return e;
        e = vt_az_verify_evidence(ev, opts, res, d);
        vt_az_evidence_free(ev);
        return e;
}

/* ---- claims ---- */

int vt_az_claims_json(const struct vt_az_result *r, char **ret)
{
        _cleanup_json_ json_t *o = NULL;
        _cleanup_free_ char *base = NULL;
        char k[16];
        int e;

        if (!r || !ret)
                return VT_E_INVAL;
        if (r->tee == VT_AZ_TEE_SNP_VTPM && (r->checks & VT_AZ_CHECK_HW_REPORT))
                e = vt_snp_claims_json(&r->snp.report, &base);
        else if (r->tee == VT_AZ_TEE_TDX_VTPM && r->td && (r->checks & VT_AZ_CHECK_HW_REPORT))
                e = vt_dcap_claims_json(r->td, &r->dcap, &base);
        else
                e = 0;
        if (e < 0)
                return e;
        o = base ? json_loads(base, 0, NULL) : json_object();
        if (!o)
                return VT_E_NOMEM;
        json_t *hw = json_object_get(o, "report_data");
        if (hw) {
                if ((e = vt_json_set(o, "hw_report_data", json_incref(hw))) < 0)
                        return e;
                json_object_del(o, "report_data");
        }
        if ((e = vt_json_set(o, "tee", json_string(vt_az_tee_name(r->tee)))) < 0 ||
            (e = vt_json_set(o, "evidence_version", json_integer(r->version))) < 0 ||
            (e = vt_json_set(o, "report_data",
                             vt_json_hex(r->attest.extra_data, r->attest.extra_data_len))) < 0)
                return e;
        if ((r->pcr_mask & (1u << INIT_DATA_PCR)) &&
            (e = vt_json_set(o, "init_data", vt_json_hex(r->pcrs[INIT_DATA_PCR], 32))) < 0)
                return e;
        json_t *tpm = json_object();
        if ((e = vt_json_set(o, "tpm", tpm)) < 0)
                return e;
        for (unsigned i = 0; i < VT_TPM_NUM_PCRS; i++) {
                if (!(r->pcr_mask & (1u << i)))
                        continue;
                snprintf(k, sizeof(k), "tpm_pcr%u", i);
                if ((e = vt_json_set(o, k, vt_json_hex(r->pcrs[i], 32))) < 0)
                        return e;
                snprintf(k, sizeof(k), "pcr%02u", i);
                if ((e = vt_json_set(tpm, k, vt_json_hex(r->pcrs[i], 32))) < 0)
                        return e;
        }
        if (r->hcl) {
                json_t *rt = json_loadb((const char *)r->hcl->var_data, r->hcl->var_len, 0, NULL);
                if ((e = vt_json_set(o, "runtime_data", rt)) < 0 ||
                    (e = vt_json_set(o, "hcl_version", json_integer(r->hcl->version))) < 0)
                        return e;
                if (r->hcl->has_user_data &&
                    (e = vt_json_set(o, "user_data",
                                     vt_json_hex(r->hcl->user_data, r->hcl->user_data_len))) < 0)
                        return e;
        }
        return vt_json_dump(o, ret);
}
