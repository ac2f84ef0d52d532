/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD SEV-SNP attestation reports: parsing (no I/O, no keys) and verification
 * (signature, VCEK/VLEK chain to pinned AMD roots, TCB binding, reference checks).
 * Layout facts: docs/snp.md and ../shared/notes/sev-snp.md.
 */
#ifndef VERITEE_SNP_H
#define VERITEE_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/ar4si.h"
#include "veritee/veritee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VT_SNP_REPORT_SIZE 1184u
#define VT_SNP_SIGNED_SIZE 0x2a0u

enum vt_snp_product {
        VT_SNP_PRODUCT_UNKNOWN = 0,
        VT_SNP_PRODUCT_MILAN,
        VT_SNP_PRODUCT_GENOA, /* also Bergamo and Siena */
        VT_SNP_PRODUCT_TURIN,
        _VT_SNP_PRODUCT_MAX,
};

enum vt_snp_signer {
        VT_SNP_SIGNER_VCEK = 0,
        VT_SNP_SIGNER_VLEK = 1,
        VT_SNP_SIGNER_NONE = 7,
};

/* A TCB_VERSION split into its named parts. fmc is only meaningful with the
 * Turin layout (turin == true). */
struct vt_snp_tcb {
        uint64_t raw;
        bool turin;
        uint8_t fmc, bootloader, tee, snp, microcode;
};

/* Every field of an ATTESTATION_REPORT (version 2, 3 or 5). */
struct vt_snp_report {
        uint32_t version;
        uint32_t guest_svn;
        uint64_t policy;
        uint8_t family_id[16];
        uint8_t image_id[16];
        uint32_t vmpl;
        uint32_t signature_algo;
        struct vt_snp_tcb current_tcb;
        uint64_t platform_info;
        uint32_t signer_info; /* author_key_en bit0, mask_chip_key bit1, signing_key bits 4:2 */
        uint8_t report_data[64];
        uint8_t measurement[48];
        uint8_t host_data[32];
        uint8_t id_key_digest[48];
        uint8_t author_key_digest[48];
        uint8_t report_id[32];
        uint8_t report_id_ma[32];
        struct vt_snp_tcb reported_tcb;
        uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* version >= 3 */
        uint8_t chip_id[64];
        struct vt_snp_tcb committed_tcb;
        uint8_t current_build, current_minor, current_major;
        uint8_t committed_build, committed_minor, committed_major;
        struct vt_snp_tcb launch_tcb;
        uint64_t launch_mit_vector;  /* version >= 5 */
        uint64_t current_mit_vector; /* version >= 5 */
        uint8_t sig_r[48];           /* big-endian, from the 72-byte little-endian field */
        uint8_t sig_s[48];
        /* Derived: the product the report says it comes from (CPUID on v3+,
         * a chip-id heuristic for Turin on v2, else UNKNOWN). */
        enum vt_snp_product product;
};

/* Guest policy bits. */
#define VT_SNP_POLICY_SMT           (1ull << 16)
#define VT_SNP_POLICY_RESERVED1     (1ull << 17)
#define VT_SNP_POLICY_MIGRATE_MA    (1ull << 18)
#define VT_SNP_POLICY_DEBUG         (1ull << 19)
#define VT_SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define VT_SNP_POLICY_CXL_ALLOW     (1ull << 21)
#define VT_SNP_POLICY_MEM_AES_256   (1ull << 22)
#define VT_SNP_POLICY_RAPL_DIS      (1ull << 23)
#define VT_SNP_POLICY_CIPHERTEXT    (1ull << 24)
#define VT_SNP_POLICY_PAGE_SWAP_DIS (1ull << 25)

/* vt_snp_report_parse parses exactly VT_SNP_REPORT_SIZE bytes into *ret. It rejects
 * a wrong length, an unknown version (accepted: 2, 3, 5) or signature algorithm,
 * any non-zero reserved byte, policy bit 17 clear or bits 63:26 set, and signer
 * info bits 31:5 set or a reserved signing key. Thread-safe; no I/O. */
VT_EXPORT int vt_snp_report_parse(const uint8_t *buf, size_t len, struct vt_snp_report *ret,
                                  struct vt_diag *diag);

/* vt_snp_product_name returns "Milan", "Genoa", "Turin" or "unknown". */
VT_EXPORT const char *vt_snp_product_name(enum vt_snp_product p);
/* vt_snp_product_from_name parses a name (case-insensitive; "Bergamo", "Siena" map to Genoa). */
VT_EXPORT int vt_snp_product_from_name(const char *name, enum vt_snp_product *ret);

/* vt_snp_signing_key returns the SIGNING_KEY field of the report (0 VCEK, 1 VLEK, 7 none). */
static inline unsigned vt_snp_signing_key(const struct vt_snp_report *r)
{
        return (r->signer_info >> 2) & 7;
}

/* vt_snp_report_json returns a malloc'd JSON object with every field of the report
 * (as `veritee inspect snp` prints it). The caller frees it. */
VT_EXPORT int vt_snp_report_json(const struct vt_snp_report *r, char **ret);

/* vt_snp_claims_json returns a malloc'd JSON object with the flat claims of a
 * verified report (the names tokens and release policies use). */
VT_EXPORT int vt_snp_claims_json(const struct vt_snp_report *r, char **ret);

/* ---- verification ---- */

/* Reference values and checks (docs/policy.md). Opaque. */
struct vt_snp_policy;

/* vt_snp_policy_parse parses a policy JSON document; unknown keys are rejected. */
VT_EXPORT int vt_snp_policy_parse(const char *json, size_t len, struct vt_snp_policy **ret,
                                  struct vt_diag *diag);
VT_EXPORT void vt_snp_policy_free(struct vt_snp_policy *p);

/* vt_snp_policy_check applies p to an already verified report; VT_E_POLICY with the
 * failed field, the expected and the found value in diag. */
VT_EXPORT int vt_snp_policy_check(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                                  struct vt_diag *diag);

/* vt_snp_policy_appraise fills an AR4SI vector (veritee/ar4si.h) for a verified report:
 * hardware AFFIRMING (or WARNING when the TCB is below the minimum, CONTRAINDICATED for
 * a product or signer not allowed), configuration AFFIRMING or CONTRAINDICATED,
 * executables AFFIRMING when a measurement or key reference matches, CONTRAINDICATED
 * when one is configured and nothing matches, UNRECOGNIZED_RUNTIME when none is
 * configured. p may be NULL (no reference values: configuration UNSUPPORTABLE_CONFIG,
 * executables UNRECOGNIZED_RUNTIME). The first failed check is described in diag. */
VT_EXPORT int vt_snp_policy_appraise(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                                     struct vt_ar4si *tv, struct vt_diag *diag);

/* The verifier holds the pinned roots and a cache of verified leaf certificates.
 * It is thread-safe once configured (vt_snp_verifier_set_* before sharing). */
struct vt_snp_verifier;

VT_EXPORT int vt_snp_verifier_new(struct vt_snp_verifier **ret);
VT_EXPORT void vt_snp_verifier_free(struct vt_snp_verifier *v);
/* KDS base URL (default https://kdsintf.amd.com) and on-disk cache directory
 * (NULL: no disk cache). Strings are copied. */
VT_EXPORT int vt_snp_verifier_set_kds(struct vt_snp_verifier *v, const char *base_url,
                                      const char *cache_dir);
/* vt_snp_verifier_set_fetch_limits bounds the fetches of VCEKs from KDS, which run on
 * the caller's thread (a server's request thread): each takes at most timeout_ms (0:
 * 30 s); at most max_in_flight run at once (0: never fetch) and at most one per client
 * (vt_snp_verify_opts.client); the same URL is not fetched twice at once; and a URL
 * whose fetch failed is not fetched again for retry_s seconds. Over a limit
 * vt_snp_verify fails at once with VT_E_LIMIT. Without this call: 30 s and no limits.
 * Call it before the verifier is shared. */
VT_EXPORT int vt_snp_verifier_set_fetch_limits(struct vt_snp_verifier *v, unsigned timeout_ms,
                                               unsigned max_in_flight, unsigned retry_s);
/* vt_snp_verifier_add_root trusts an extra ARK (PEM or DER) for product p besides the
 * built-in AMD roots; used for the labelled simulator. */
VT_EXPORT int vt_snp_verifier_add_root(struct vt_snp_verifier *v, enum vt_snp_product p,
                                       const uint8_t *cert, size_t len, struct vt_diag *diag);

struct vt_snp_verify_opts {
        const uint8_t *leaf; /* VCEK/VLEK, PEM or DER; NULL: fetch from KDS */
        size_t leaf_len;
        const uint8_t *chain; /* ASK/ASVK (and optionally ARK), PEM or DER; NULL: built in */
        size_t chain_len;
        const uint8_t *crl; /* ARK-signed CRL, PEM or DER; NULL: none */
        size_t crl_len;
        int64_t at;                         /* verification time (seconds since epoch); 0: now */
        enum vt_snp_product product;        /* UNKNOWN: from the report / leaf certificate */
        const struct vt_snp_policy *policy; /* NULL: authenticity checks only */
        const char *client; /* who asks (an address), for the per-client fetch limit; or NULL */
};

struct vt_snp_result {
        struct vt_snp_report report;
        enum vt_snp_product product;
        enum vt_snp_signer signer;
        bool root_builtin; /* false: an extra root from vt_snp_verifier_add_root */
};

/* vt_snp_verify parses and verifies a report. On success (0) *ret holds the
 * report, product and signer. Errors: VT_E_FORMAT/TRUNCATED/RESERVED (parsing),
 * VT_E_CHAIN, VT_E_EXPIRED, VT_E_REVOKED, VT_E_SIGNATURE, VT_E_TCB, VT_E_POLICY,
 * VT_E_NETWORK (KDS). diag names the check. Thread-safe. */
VT_EXPORT int vt_snp_verify(struct vt_snp_verifier *v, const uint8_t *report, size_t len,
                            const struct vt_snp_verify_opts *opts, struct vt_snp_result *ret,
                            struct vt_diag *diag);

/* ---- collateral (AMD KDS) ---- */

/* vt_snp_kds_vcek_url writes the KDS URL of the VCEK for r (product p, hwID and
 * REPORTED_TCB; Turin: 8-byte hwID and fmcSPL) into a malloc'd string. */
VT_EXPORT int vt_snp_kds_vcek_url(const char *base_url, enum vt_snp_product p,
                                  const struct vt_snp_report *r, char **ret);

#ifdef __cplusplus
}
#endif
#endif
