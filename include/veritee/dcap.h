/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel DCAP quotes: SGX (quote v3) and TDX (quote v4 and v5; TDX 1.0 and 1.5 bodies).
 * Parsing (no I/O, no keys) and verification to the Intel SGX Root CA pinned by key,
 * with collateral (TCB info, QE identity, CRLs). Facts: docs/dcap.md.
 */
#ifndef VERITEE_DCAP_H
#define VERITEE_DCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/ar4si.h"
#include "veritee/veritee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VT_DCAP_HEADER_SIZE 48u
#define VT_SGX_REPORT_SIZE  384u
#define VT_TD10_REPORT_SIZE 584u
#define VT_TD15_REPORT_SIZE 648u
#define VT_DCAP_MAX_QUOTE   (64u * 1024u)

enum vt_dcap_body_type {
        VT_DCAP_BODY_SGX = 1,
        VT_DCAP_BODY_TD10 = 2,
        VT_DCAP_BODY_TD15 = 3,
};

/* An SGX report body: the enclave's (quote v3) and the QE's (every quote). */
struct vt_sgx_report_body {
        uint8_t cpusvn[16];
        uint32_t miscselect;
        uint8_t isv_ext_prod_id[16];
        uint8_t attributes[16]; /* flags u64 LE (bit 1 DEBUG), xfrm u64 LE */
        uint8_t mr_enclave[32];
        uint8_t mr_signer[32];
        uint8_t config_id[64];
        uint16_t isv_prod_id, isv_svn, config_svn;
        uint8_t isv_family_id[16];
        uint8_t report_data[64];
};

/* A TD report body; the last two fields are TDX 1.5 only (body type 3). */
struct vt_td_report_body {
        uint8_t tee_tcb_svn[16];
        uint8_t mr_seam[48], mr_signer_seam[48];
        uint64_t seam_attributes, td_attributes, xfam;
        uint8_t mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48];
        uint8_t rtmr[4][48];
        uint8_t report_data[64];
        uint8_t tee_tcb_svn2[16];
        uint8_t mr_service_td[48];
};

/* A parsed quote. Owns copies of everything; free with vt_dcap_quote_free. */
struct vt_dcap_quote {
        uint16_t version;         /* 3, 4, 5 */
        uint16_t att_key_type;    /* 2: ECDSA-256 P-256 */
        uint32_t tee_type;        /* 0 SGX, 0x81 TDX */
        uint16_t qe_svn, pce_svn; /* v3 header fields */
        uint8_t qe_vendor_id[16];
        uint8_t user_data[20];
        enum vt_dcap_body_type body_type;
        struct vt_sgx_report_body sgx; /* body_type SGX */
        struct vt_td_report_body td;   /* body_type TD10/TD15 */
        size_t signed_len;             /* the quote signature covers raw[0, signed_len) */
        uint8_t signature[64];         /* r||s, big-endian */
        uint8_t attest_key[64];        /* X||Y */
        uint16_t cert_data_type; /* outer: 6 (QE report certification data) for v4/v5; v3: the PCK
                                    cert type */
        struct vt_sgx_report_body qe_report;
        uint8_t qe_report_raw[VT_SGX_REPORT_SIZE];
        uint8_t qe_report_signature[64];
        uint8_t *qe_auth_data;
        size_t qe_auth_len;
        uint16_t pck_cert_type; /* inner: 5 = PCK chain (PEM) */
        char *pck_chain_pem;    /* NUL-terminated; may be NULL when pck_cert_type != 5 */
        size_t pck_chain_len;
        size_t trailing_zeros; /* zero bytes after the signature data (accepted) */
        uint8_t *raw;          /* the quote bytes up to the end of the signature data */
        size_t raw_len;
};

/* vt_dcap_quote_parse parses a quote by its length fields: trailing zero bytes are
 * accepted, anything else after the signature data is VT_E_TRAILING. Rejects unknown
 * versions, attestation key types other than 2, a vendor other than Intel, a tee_type
 * that does not match the version/body, certification data other than type 6 (v4/v5)
 * with an inner type 5, and any length that runs past the buffer.
 * Every nested length must be used up exactly (the signature data length, cert_data_size).
 * Caps: the quote itself (raw_len) at most VT_DCAP_MAX_QUOTE; the buffer at most 1 MiB,
 * so padded buffers (8000 bytes with 3065 zeros are real) parse; PCK certification data
 * at most 16 KiB; QE authentication data at most 4 KiB (VT_E_LIMIT). v3 PCK
 * certification data types 1-4 (PPID forms) are accepted with pck_chain_pem NULL; in v3,
 * cert_data_type and pck_cert_type both hold that type. pck_chain_pem holds the chain
 * bytes as sent (without trailing NULs); use pck_chain_len, the bytes need not be text.
 * The reserved bytes of the SGX report bodies are not checked (Intel does not check
 * them; they are signed). Errors: VT_E_TRUNCATED (the buffer ends early), VT_E_FORMAT
 * (inconsistent lengths, tee_type), VT_E_UNSUPPORTED (version, key type, vendor,
 * certification data types), VT_E_TRAILING, VT_E_LIMIT, VT_E_NOMEM; d names the field
 * and its offset. *ret is set only on success. Thread-safe. */
VT_EXPORT int vt_dcap_quote_parse(const uint8_t *buf, size_t len, struct vt_dcap_quote **ret,
                                  struct vt_diag *d);
VT_EXPORT void vt_dcap_quote_free(struct vt_dcap_quote *q);

/* vt_dcap_quote_json: every field as JSON (veritee inspect tdx|sgx). Malloc'd. */
VT_EXPORT int vt_dcap_quote_json(const struct vt_dcap_quote *q, char **ret);

/* ---- verification ---- */

/* TCB statuses, best first. */
enum vt_tcb_status {
        VT_TCB_UP_TO_DATE = 0,
        VT_TCB_SW_HARDENING_NEEDED,
        VT_TCB_CONFIGURATION_NEEDED,
        VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
        VT_TCB_TD_RELAUNCH_ADVISED,
        VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
        VT_TCB_OUT_OF_DATE,
        VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
        VT_TCB_REVOKED,
        _VT_TCB_STATUS_MAX,
};

/* "UpToDate", "SWHardeningNeeded", ... as Intel spells them. */
VT_EXPORT const char *vt_tcb_status_name(enum vt_tcb_status s);
VT_EXPORT int vt_tcb_status_from_name(const char *name, enum vt_tcb_status *ret);

/* Collateral for one FMSPC: parsed from the QuoteCollateralV3 JSON layout (every value a
 * string; tcb_info and qe_identity are the exact signed bytes). Opaque. */
struct vt_dcap_collateral;
VT_EXPORT int vt_dcap_collateral_parse(const char *json, size_t len,
                                       struct vt_dcap_collateral **ret, struct vt_diag *d);
VT_EXPORT void vt_dcap_collateral_free(struct vt_dcap_collateral *c);

#define VT_DCAP_MAX_ADVISORIES 64

struct vt_dcap_result {
        enum vt_tcb_status status;
        char advisory_ids[VT_DCAP_MAX_ADVISORIES][24];
        size_t n_advisories;
        uint8_t fmspc[6];
        uint8_t pce_id[2];
        char tdx_module_id[16]; /* "TDX_01" or "" */
        int64_t collateral_earliest_expiry;
        int64_t collateral_age; /* seconds from the older issueDate (TCB info, QE identity) to
                                 * the verification time */
};

/* Which statuses a policy accepts (default: UpToDate only). */
struct vt_dcap_policy_opts {
        unsigned accepted_statuses; /* bit per enum vt_tcb_status; 0: UpToDate only */
};

/* The verifier: pinned Intel root, caches of verified PCK chains. Thread-safe. */
struct vt_dcap_verifier;
VT_EXPORT int vt_dcap_verifier_new(struct vt_dcap_verifier **ret);
VT_EXPORT void vt_dcap_verifier_free(struct vt_dcap_verifier *v);
/* vt_dcap_verifier_set_pccs: PCS/PCCS base URL for collateral fetching and an on-disk cache. */
VT_EXPORT int vt_dcap_verifier_set_pccs(struct vt_dcap_verifier *v, const char *base_url,
                                        const char *cache_dir);

/* vt_dcap_verify verifies quote (len bytes) with collateral c (NULL: fetch from the
 * PCCS) at time at (0: now). On success *ret_quote owns the parsed quote and *ret the
 * TCB status and advisories; a status not accepted by opts is VT_E_TCB with the status
 * in diag (ret and ret_quote are still filled so callers can report it). */
VT_EXPORT int vt_dcap_verify(struct vt_dcap_verifier *v, const uint8_t *quote, size_t len,
                             const struct vt_dcap_collateral *c, int64_t at,
                             const struct vt_dcap_policy_opts *opts,
                             struct vt_dcap_quote **ret_quote, struct vt_dcap_result *ret,
                             struct vt_diag *d);

/* vt_dcap_claims_json: claims with the Trustee names (tdx: mr_td, mr_seam, mr_config_id,
 * mr_owner, rtmr_0..3, report_data, td_attributes_debug, xfam, ...; sgx: mr_enclave,
 * mr_signer, isv_prod_id, isv_svn, report_data, debug) plus tcb_status, advisory_ids,
 * quote_version, fmspc. Malloc'd. */
VT_EXPORT int vt_dcap_claims_json(const struct vt_dcap_quote *q, const struct vt_dcap_result *r,
                                  char **ret);

/* Appraisal policy (docs/dcap.md): accepted_tcb_statuses (default ["UpToDate"]),
 * debug_allowed (false), sept_ve_disable_required (false), mr_service_td_allowed (false),
 * mr_td, mr_config_id, rtmr_0..3, mr_enclave, mr_signer lists, isv_prod_id, minimum_isv_svn,
 * max_collateral_age_days (none). */
struct vt_dcap_policy;
VT_EXPORT int vt_dcap_policy_parse(const char *json, size_t len, struct vt_dcap_policy **ret,
                                   struct vt_diag *d);
VT_EXPORT void vt_dcap_policy_free(struct vt_dcap_policy *p);
/* vt_dcap_policy_statuses: the accepted statuses as a bit set (p may be NULL: UpToDate). */
VT_EXPORT unsigned vt_dcap_policy_statuses(const struct vt_dcap_policy *p);
/* vt_dcap_policy_has_references: whether p names any measurement (mr_td, rtmr, mr_enclave, ...). */
VT_EXPORT bool vt_dcap_policy_has_references(const struct vt_dcap_policy *p);
/* vt_dcap_policy_check_collateral: the policy's max_collateral_age_days against the
 * result's collateral_age (VT_E_EXPIRED naming both; p NULL or no limit: 0). */
VT_EXPORT int vt_dcap_policy_check_collateral(const struct vt_dcap_policy *p,
                                              const struct vt_dcap_result *r, struct vt_diag *d);
/* vt_dcap_policy_check: the non-TCB checks on a verified quote (p NULL: the defaults). */
VT_EXPORT int vt_dcap_policy_check(const struct vt_dcap_policy *p, const struct vt_dcap_quote *q,
                                   struct vt_diag *d);
/* vt_dcap_policy_appraise fills the AR4SI vector (veritee/ar4si.h) of a verified quote and
 * its TCB result under p (NULL: no reference values): hardware AFFIRMING for an accepted
 * TCB status (WARNING otherwise or when the collateral is older than allowed,
 * CONTRAINDICATED when revoked), configuration AFFIRMING or CONTRAINDICATED
 * (UNSUPPORTABLE_CONFIG without p), executables AFFIRMING when p names measurements and
 * the checks pass (UNRECOGNIZED_RUNTIME when it names none). The first failed check is
 * described in d. Thread-safe. */
VT_EXPORT void vt_dcap_policy_appraise(const struct vt_dcap_policy *p,
                                       const struct vt_dcap_quote *q,
                                       const struct vt_dcap_result *r, struct vt_ar4si *tv,
                                       struct vt_diag *d);

#ifdef __cplusplus
}
#endif
#endif
