/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TEE table (internal to lib/attest). A TEE is one row: its Trustee name, what the
 * server needs to accept it, and the function that takes its wire evidence through
 * decoding, verification against the expected report data, init-data, Trustee's flat
 * claims and the appraisal. Rows live in tee_*.c, one file per TEE family; the table is in
 * attest.c. docs/ARCHITECTURE.md "Adding a TEE" says how to add one.
 */
#ifndef VT_ATTEST_TEE_H
#define VT_ATTEST_TEE_H

#include "attest/attest.h"

/* The policy a tee's reference values are parsed with and appraised under. */
enum vt_refval_kind {
        VT_REFVAL_NONE = 0,
        VT_REFVAL_SNP,
        VT_REFVAL_DCAP,
};

struct vt_tee_ops {
        const char *name;  /* Trustee's tee name */
        const char *alias; /* an older Trustee spelling, or NULL */
        /* bytes of the runtime-data digest the evidence carries (64: padded into a
         * hardware report's field; 48: the digest itself) */
        size_t report_data_len;
        enum vt_refval_kind refvals;
        /* whether c verifies this tee (NULL: always), and the hint when it does not */
        bool (*accepted)(const struct vt_attest_ctx *c);
        const char *refused_hint;
        /* wire evidence -> verified, bound, init-data checked, claims and AR4SI vector;
         * out is zeroed by the caller and freed by it on failure too */
        int (*attest)(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                      const json_t *evidence, const uint8_t report_data[64],
                      const json_t *init_data, struct vt_attest_result *out, struct vt_diag *d);
        /* evidence and collateral the caller loaded, without reference values
         * (vt_attest_offline); NULL: none. out as for attest */
        int (*attest_offline)(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                              const struct vt_attest_offline *off, struct vt_attest_result *out,
                              struct vt_diag *d);
};

extern const struct vt_tee_ops vt_tee_snp, vt_tee_sim;                 /* tee_snp.c */
extern const struct vt_tee_ops vt_tee_tdx, vt_tee_sgx;                 /* tee_dcap.c */
extern const struct vt_tee_ops vt_tee_az_snp_vtpm, vt_tee_az_tdx_vtpm; /* tee_azure.c */
extern const struct vt_tee_ops vt_tee_tpm;                             /* tee_tpm.c */
extern const struct vt_tee_ops vt_tee_sample;                          /* tee_sample.c */

/* vt_tee_az_verify: the TPM quote verification of the vTPM tees and tpm (tee_azure.c):
 * init-data through PCR8, the quote over digest, the claims into out; res is the caller's
 * (vt_az_result_done it whatever this returns). */
int vt_tee_az_verify(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                     const json_t *evidence, const uint8_t digest[48], const json_t *init,
                     struct vt_attest_result *out, struct vt_az_result *res, struct vt_diag *d);

/* vt_tee_az_offline: vt_attest_offline for the vTPM tees and tpm (tee_azure.c). */
int vt_tee_az_offline(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                      const struct vt_attest_offline *off, struct vt_attest_result *out,
                      struct vt_diag *d);

/* vt_attest_tee_find returns the row of tee (its name or alias), NULL if none (attest.c). */
const struct vt_tee_ops *vt_attest_tee_find(const char *tee);

/* The best AR4SI vector of a verified SNP report / DCAP quote over the reference values of
 * tee (refvals.c; r NULL: none). */
void vt_refvals_appraise_snp(const struct vt_refvals *r, const char *tee,
                             const struct vt_snp_report *rep, struct vt_ar4si *tv,
                             struct vt_diag *d);
void vt_refvals_appraise_dcap(const struct vt_refvals *r, const char *tee,
                              const struct vt_dcap_quote *q, const struct vt_dcap_result *res,
                              struct vt_ar4si *tv, struct vt_diag *d);

/* init-data (initdata.c): {"format":"toml","body":"<TOML>"}. vt_initdata_check checks the
 * document, that its digest (algorithm from the TOML) equals field zero-padded or
 * truncated to field_len, and gives the digest in hex and the [data] claims (owned).
 * vt_initdata_sha256 gives the SHA-256 of the body, which must say algorithm sha256 (the
 * vTPM's PCR8 binding; tee names the tee in the reason). */
int vt_initdata_check(const json_t *init, const uint8_t *field, size_t field_len, char **ret_hex,
                      json_t **ret_claims, struct vt_diag *d);
int vt_initdata_sha256(const json_t *init, const char *tee, uint8_t ret[32], struct vt_diag *d);

#endif
