/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure confidential VMs (SEV-SNP or TDX under the paravisor, with a vTPM) and plain
 * TPM 2.0 quotes: the HCL report, TPMS_ATTEST and TPMT_SIGNATURE parsers (no I/O, no
 * keys), the Trustee evidence formats of the tees az-snp-vtpm, az-tdx-vtpm and tpm, and
 * their verification. Layout facts and the checks: docs/azure.md and
 * ../shared/notes/sev-snp.md section 6.
 */
#ifndef VERITEE_AZURE_H
#define VERITEE_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/dcap.h"
#include "veritee/snp.h"
#include "veritee/veritee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- TPM 2.0 structures (big-endian, TPM 2.0 Library Part 2) ---- */

#define VT_TPM_GENERATED_VALUE 0xff544347u /* TPM_GENERATED_VALUE, "\xffTCG" */
#define VT_TPM_ST_ATTEST_QUOTE 0x8018u
#define VT_TPM_ALG_RSASSA      0x0014u
#define VT_TPM_ALG_RSAPSS      0x0016u
#define VT_TPM_ALG_ECDSA       0x0018u
#define VT_TPM_ALG_SHA1        0x0004u
#define VT_TPM_ALG_SHA256      0x000bu
#define VT_TPM_ALG_SHA384      0x000cu
#define VT_TPM_ALG_SHA512      0x000du
#define VT_TPM_NUM_PCRS        24u
#define VT_TPM_MAX_BANKS       8u    /* TPML_PCR_SELECTION.count cap */
#define VT_TPM_MAX_SELECT      4u    /* sizeofSelect cap (24 PCRs need 3) */
#define VT_TPM_MAX_ATTEST      2048u /* TPMS_ATTEST bytes cap */
#define VT_TPM_MAX_SIG         512u  /* RSA-4096 */

struct vt_tpm_pcr_selection {
        uint16_t hash_alg;
        uint8_t size_of_select;
        uint8_t select[VT_TPM_MAX_SELECT]; /* bit i of byte j selects PCR 8j+i */
};

/* A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE, every field. */
struct vt_tpm_attest {
        uint32_t magic;
        uint16_t type;
        uint8_t qualified_signer[68]; /* TPM2B_NAME contents */
        uint16_t qualified_signer_len;
        uint8_t extra_data[66]; /* TPM2B_DATA contents: the caller's nonce */
        uint16_t extra_data_len;
        uint64_t clock;
        uint32_t reset_count, restart_count;
        uint8_t safe;
        uint64_t firmware_version;
        struct vt_tpm_pcr_selection sel[VT_TPM_MAX_BANKS];
        uint32_t n_sel;
        uint8_t pcr_digest[64];
        uint16_t pcr_digest_len;
};

/* vt_tpm_attest_parse parses a marshalled TPMS_ATTEST that must be a quote: magic
 * TPM_GENERATED_VALUE, type TPM_ST_ATTEST_QUOTE, every TPM2B within its spec size, at
 * most VT_TPM_MAX_BANKS selections of at most VT_TPM_MAX_SELECT bytes, safe 0 or 1, and
 * nothing after pcrDigest. Errors: VT_E_TRUNCATED, VT_E_TRAILING, VT_E_FORMAT (magic,
 * sizes), VT_E_UNSUPPORTED (another attestation type), VT_E_LIMIT (longer than
 * VT_TPM_MAX_ATTEST); d names the field. *ret is set only on success. Thread-safe. */
VT_EXPORT int vt_tpm_attest_parse(const uint8_t *buf, size_t len, struct vt_tpm_attest *ret,
                                  struct vt_diag *d);

/* A TPMT_SIGNATURE: RSASSA/RSAPSS (sig) or ECDSA (r, s; big-endian). */
struct vt_tpm_signature {
        uint16_t sig_alg;
        uint16_t hash_alg;
        uint8_t sig[VT_TPM_MAX_SIG];
        uint16_t sig_len;
        uint8_t r[66], s[66];
        uint16_t r_len, s_len;
};

/* vt_tpm_signature_parse parses a marshalled TPMT_SIGNATURE with scheme RSASSA, RSAPSS
 * or ECDSA (others: VT_E_UNSUPPORTED); exact length. Thread-safe. */
VT_EXPORT int vt_tpm_signature_parse(const uint8_t *buf, size_t len, struct vt_tpm_signature *ret,
                                     struct vt_diag *d);

/* vt_tpm_check_pcrs checks that the hash of the selected PCR values, concatenated in
 * selection order (each selection, PCRs in ascending order), equals a->pcr_digest.
 * pcrs holds the SHA-256 bank indexed by PCR number; every selection that selects a PCR
 * must be of the SHA-256 bank. The digest's hash is the one of its length (SHA-256 or
 * SHA-384). On success *ret_mask (may be NULL) has bit i set for each PCR i the quote
 * covers. VT_E_BINDING on a mismatch. Thread-safe. */
VT_EXPORT int vt_tpm_check_pcrs(const struct vt_tpm_attest *a,
                                const uint8_t pcrs[VT_TPM_NUM_PCRS][32], uint32_t *ret_mask,
                                struct vt_diag *d);

/* ---- the HCL report (vTPM NV index 0x01400001) ---- */

#define VT_HCL_HEADER_SIZE    0x20u
#define VT_HCL_HW_REPORT_SIZE 1184u /* SNP ATTESTATION_REPORT, or TDREPORT + zeros */
#define VT_HCL_VAR_OFFSET     0x4d4u
#define VT_HCL_MAX_REPORT     (64u * 1024u)
#define VT_HCL_MAX_VAR_DATA   (32u * 1024u)
#define VT_TDREPORT_SIZE      1024u

enum vt_hcl_report_type {
        VT_HCL_REPORT_SNP = 2,
        VT_HCL_REPORT_TDX = 4,
};

enum vt_hcl_hash_type {
        VT_HCL_HASH_SHA256 = 1,
        VT_HCL_HASH_SHA384 = 2,
        VT_HCL_HASH_SHA512 = 3,
};

/* The fields of a TDREPORT that a TD quote repeats (TDX module ABI). */
struct vt_tdreport {
        uint8_t report_type[4]; /* 0x81 TDX, subtype, version, reserved */
        uint8_t cpusvn[16];
        uint8_t tee_tcb_info_hash[48], tee_info_hash[48];
        uint8_t report_data[64];
        uint64_t td_attributes, xfam;
        uint8_t mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48];
        uint8_t rtmr[4][48];
        uint8_t servtd_hash[48];
};

/* A parsed HCL report. Owns its buffers; free with vt_hcl_report_free. */
struct vt_hcl_report {
        uint32_t version; /* header version: 1 or 2 */
        uint32_t report_size;
        uint32_t request_type;
        uint32_t status;
        uint8_t hw_report[VT_HCL_HW_REPORT_SIZE]; /* as stored */
        uint32_t data_size;
        uint32_t igvm_version;
        uint32_t report_type; /* enum vt_hcl_report_type */
        uint32_t hash_type;   /* enum vt_hcl_hash_type */
        uint8_t *var_data;    /* the runtime claims JSON, exactly the stored bytes */
        size_t var_len;
        size_t padding;              /* zero bytes after report_size (the NV index is larger) */
        struct vt_snp_report snp;    /* report_type SNP: the parsed hardware report */
        struct vt_tdreport tdreport; /* report_type TDX */
        uint8_t hw_report_data[64];  /* the hardware report's REPORT_DATA */
        /* From the runtime claims JSON: */
        uint8_t *ak_n; /* HCLAkPub modulus (big-endian); NULL if the JSON has no HCLAkPub */
        size_t ak_n_len;
        uint8_t ak_e[8];
        size_t ak_e_len;
        bool has_user_data;
        uint8_t user_data[64]; /* "user-data", hex-decoded */
        size_t user_data_len;
};

/* vt_hcl_report_parse parses an HCL report: "HCLA", header version 1 or 2, status 0 and
 * zero reserved bytes, report_size == 0x20 + 1184 + data_size <= len, data_size == 20 +
 * variable_data_size, IGVM version 1, report_type SNP (the hardware report must parse
 * with vt_snp_report_parse) or TDX (TDREPORT type 0x81, zeros after its 1024 bytes),
 * hash type 1-3, variable data at most VT_HCL_MAX_VAR_DATA bytes holding a JSON object
 * (duplicate keys refused) whose HCLAkPub, if present, is an RSA JWK and whose
 * "user-data", if present, is at most 64 bytes of hex. The bytes after report_size must
 * be zero (NV index padding); any cut before report_size is VT_E_TRUNCATED. Errors also
 * VT_E_FORMAT, VT_E_RESERVED, VT_E_UNSUPPORTED, VT_E_LIMIT, VT_E_NOMEM. *ret is set
 * only on success. Thread-safe. */
VT_EXPORT int vt_hcl_report_parse(const uint8_t *buf, size_t len, struct vt_hcl_report **ret,
                                  struct vt_diag *d);
VT_EXPORT void vt_hcl_report_free(struct vt_hcl_report *r);

/* vt_hcl_report_var_digest writes H(variable data) with the report's hash type into out
 * and returns its length (32, 48 or 64), or a negative error. */
VT_EXPORT int vt_hcl_report_var_digest(const struct vt_hcl_report *r, uint8_t out[64]);

/* vt_hcl_check_binding checks report_data (the 64-byte REPORT_DATA of the hardware report
 * or of the TD quote) == H(variable data) followed by zeros. VT_E_BINDING otherwise. */
VT_EXPORT int vt_hcl_check_binding(const struct vt_hcl_report *r, const uint8_t report_data[64],
                                   struct vt_diag *d);

/* ---- evidence (Trustee wire formats) ---- */

enum vt_az_tee {
        VT_AZ_TEE_SNP_VTPM = 1, /* "az-snp-vtpm" (old: "azsnpvtpm") */
        VT_AZ_TEE_TDX_VTPM = 2, /* "az-tdx-vtpm" (old: "aztdxvtpm") */
        VT_AZ_TEE_TPM = 3,      /* "tpm" */
};

/* vt_az_tee_from_name maps a tee string (current and old spellings) to the enum;
 * VT_E_NOTFOUND otherwise. vt_az_tee_name gives the current spelling. */
VT_EXPORT int vt_az_tee_from_name(const char *name, enum vt_az_tee *ret);
VT_EXPORT const char *vt_az_tee_name(enum vt_az_tee tee);

#define VT_AZ_MAX_EVIDENCE (1u << 20)

/* Decoded evidence: the signed bytes exactly as sent. Owns its buffers. */
struct vt_az_evidence {
        enum vt_az_tee tee;
        unsigned version; /* 0 (byte arrays), 1, 2; tpm: 0 */
        uint8_t *message; /* TPMS_ATTEST */
        size_t message_len;
        uint8_t *signature; /* az-*: the raw RSASSA signature; tpm: a TPMT_SIGNATURE */
        size_t signature_len;
        uint8_t pcrs[VT_TPM_NUM_PCRS][32]; /* SHA-256 bank, by PCR number */
        uint8_t *hcl;                      /* az-* */
        size_t hcl_len;
        uint8_t *vcek; /* az-snp-vtpm: DER (v1, v2) or PEM (v0) */
        size_t vcek_len;
        uint8_t *td_quote; /* az-tdx-vtpm */
        size_t td_quote_len;
        uint8_t *ak_public; /* tpm: DER SubjectPublicKeyInfo */
        size_t ak_public_len;
};

/* vt_az_evidence_parse decodes the primary evidence JSON of tee:
 *   az-snp-vtpm v0 {"quote":{"signature","message","pcrs"} as byte arrays,
 *                   "report": byte array, "vcek": PEM}
 *   az-snp-vtpm v1/v2 {"version","tpm_quote":{hex fields},"hcl_report": base64url,
 *                   "vcek": base64url DER}
 *   az-tdx-vtpm v0 {"tpm_quote":{byte arrays},"hcl_report","td_quote": byte arrays}
 *   az-tdx-vtpm v1/v2 {"version","tpm_quote":{hex},"hcl_report","td_quote": base64url}
 *   tpm {"ak_public": base64 DER SPKI,"tpm_quote":{"signature","message": base64,
 *        "pcrs": 24 hex}}
 * Unknown members are ignored (as Trustee's serde does); exactly 24 PCR values of 32 bytes;
 * base64url with or without padding; every buffer has a cap.
 * VT_E_FORMAT (naming the member), VT_E_LIMIT, VT_E_UNSUPPORTED (version). Thread-safe. */
VT_EXPORT int vt_az_evidence_parse(enum vt_az_tee tee, const char *json, size_t len,
                                   struct vt_az_evidence **ret, struct vt_diag *d);
VT_EXPORT void vt_az_evidence_free(struct vt_az_evidence *e);

/* ---- verification ---- */

/* A set of trusted TPM attestation key public keys (tee tpm). Opaque; thread-safe for
 * lookups once filled. */
struct vt_tpm_aks;
VT_EXPORT int vt_tpm_aks_new(struct vt_tpm_aks **ret);
VT_EXPORT void vt_tpm_aks_free(struct vt_tpm_aks *a);
/* vt_tpm_aks_add trusts a public key given as PEM ("PUBLIC KEY" or a certificate) or DER
 * SubjectPublicKeyInfo. At most 100 keys (VT_E_LIMIT). */
VT_EXPORT int vt_tpm_aks_add(struct vt_tpm_aks *a, const uint8_t *key, size_t len,
                             struct vt_diag *d);
VT_EXPORT size_t vt_tpm_aks_count(const struct vt_tpm_aks *a);

struct vt_az_verify_opts {
        /* Expected report data (1..64 bytes; required): az-*: the TPM quote's extraData
         * exactly, and for evidence v2 the start of the HCL "user-data"; tpm: extraData
         * == report_data zero-padded to 64 bytes (Trustee). */
        const uint8_t *report_data;
        size_t report_data_len;
        /* SHA-256 of the init-data (32 bytes) or NULL: PCR8 is then not checked. */
        const uint8_t *init_data_digest;
        int64_t at; /* verification time (seconds since the epoch); 0: now */
        /* az-snp-vtpm: the SNP verifier (required) and an optional reference policy. */
        struct vt_snp_verifier *snp;
        const struct vt_snp_policy *snp_policy;
        /* az-tdx-vtpm: the DCAP verifier (required), collateral (NULL: the verifier's
         * PCCS; without one the TD quote check fails with VT_E_NOTFOUND "no collateral"),
         * and the accepted TCB statuses (NULL: UpToDate only). */
        struct vt_dcap_verifier *dcap;
        const struct vt_dcap_collateral *collateral;
        const struct vt_dcap_policy_opts *dcap_opts;
        /* tpm: the trusted attestation keys (required). */
        const struct vt_tpm_aks *aks;
};

/* The checks, in the order they run; vt_az_result.checks has the bits of those passed. */
enum {
        VT_AZ_CHECK_AK_TRUSTED = 1u << 0,      /* tpm: ak_public is a trusted AK */
        VT_AZ_CHECK_QUOTE_SIGNATURE = 1u << 1, /* TPM quote signed by the AK */
        VT_AZ_CHECK_NONCE = 1u << 2,           /* extraData == expected report data */
        VT_AZ_CHECK_PCRS = 1u << 3,            /* PCR values match pcrDigest */
        VT_AZ_CHECK_HCL_BINDING = 1u << 4,     /* REPORT_DATA == H(runtime JSON) || 0 */
        VT_AZ_CHECK_USER_DATA = 1u << 5,       /* v2: user-data starts with report data */
        VT_AZ_CHECK_HW_REPORT = 1u << 6,       /* SNP report / TD quote genuine */
        VT_AZ_CHECK_INIT_DATA = 1u << 7,       /* PCR8 binds the init-data digest */
};

struct vt_az_result {
        enum vt_az_tee tee;
        unsigned version;
        unsigned checks;
        struct vt_tpm_attest attest;
        uint8_t pcrs[VT_TPM_NUM_PCRS][32];
        uint32_t pcr_mask;          /* PCRs covered by the verified quote */
        struct vt_hcl_report *hcl;  /* az-*: owned */
        struct vt_snp_result snp;   /* az-snp-vtpm */
        struct vt_dcap_quote *td;   /* az-tdx-vtpm: owned */
        struct vt_dcap_result dcap; /* az-tdx-vtpm */
        bool init_data_checked;
};

/* vt_az_verify decodes and verifies evidence of tee (docs/azure.md "Verification"):
 * az-*: the TPM quote signature (RSASSA-PKCS1-v1_5/SHA-256) with HCLAkPub, extraData ==
 * report data, the PCR digest, REPORT_DATA == H(runtime JSON) || zeros, v2 user-data, then
 * the SNP report (vt_snp_verify with the VCEK from the evidence, VMPL 0) or the TD quote
 * (its TDREPORT fields must equal the HCL's, then vt_dcap_verify); tpm: the AK is trusted,
 * the TPMT_SIGNATURE verifies, the PCR digest, extraData. Then PCR8 against the init-data
 * digest if given. Returns 0 or the first failure (VT_E_SIGNATURE, VT_E_BINDING,
 * VT_E_FORMAT, VT_E_CHAIN, VT_E_TCB, VT_E_NOTFOUND for missing DCAP collateral, ...) with
 * diag naming the check. *res is always initialised, also on failure, where it holds the
 * checks passed so far; release it with vt_az_result_done. Thread-safe. */
VT_EXPORT int vt_az_verify(enum vt_az_tee tee, const char *json, size_t len,
                           const struct vt_az_verify_opts *opts, struct vt_az_result *res,
                           struct vt_diag *d);
/* vt_az_verify_evidence is vt_az_verify on already decoded evidence. */
VT_EXPORT int vt_az_verify_evidence(const struct vt_az_evidence *ev,
                                    const struct vt_az_verify_opts *opts, struct vt_az_result *res,
                                    struct vt_diag *d);
VT_EXPORT void vt_az_result_done(struct vt_az_result *r);

/* vt_az_check_init_data checks PCR8 == SHA-256(32 zero bytes || digest) (a single extend
 * of the init-data digest from the reset value). VT_E_BINDING otherwise. */
VT_EXPORT int vt_az_check_init_data(const uint8_t pcr8[32], const uint8_t digest[32],
                                    struct vt_diag *d);

/* vt_az_claims_json returns a malloc'd JSON object with the claims of a verified result:
 * the SNP claims (vt_snp_claims_json) or the TDX claims (vt_dcap_claims_json) with their
 * report_data renamed hw_report_data, then report_data (extraData, hex), init_data (PCR8,
 * hex), tpm_pcr0..tpm_pcr23 (hex, PCRs the quote covers), tpm {pcr00..pcr23} (Trustee's
 * names), runtime_data (the HCL runtime JSON object), user_data (hex), hcl_version and
 * evidence_version. */
VT_EXPORT int vt_az_claims_json(const struct vt_az_result *r, char **ret);

#ifdef __cplusplus
}
#endif
#endif
