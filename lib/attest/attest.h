/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one attestation pipeline: a tee name, its evidence (Trustee's wire JSON), the expected
 * report data, init-data and reference values in; the verdict, Trustee's flat claims and the
 * AR4SI vector out. Each TEE is one row of a table (tee.h), one file (tee_*.c). The server's
 * /kbs/v0/attest and `veritee verify` both come here.
 */
#ifndef VT_ATTEST_ATTEST_H
#define VT_ATTEST_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/ar4si.h"
#include "veritee/azure.h"
#include "veritee/dcap.h"
#include "veritee/nvidia.h"
#include "veritee/snp.h"

/* Reference values: entries {id, tee, value} parsed with the appraisal policy of their tee
 * (SNP for snp, sim, az-snp-vtpm; DCAP for tdx, sgx, az-tdx-vtpm). Evidence is appraised
 * against every entry for its tee and gets the best vector; a tee with no entry is never
 * affirming. A set is built once (vt_refvals_add, not thread-safe) and then shared: it is
 * read-only and reference-counted (vt_refvals_ref/unref are thread-safe). */
struct vt_refvals;
int vt_refvals_new(struct vt_refvals **ret);
/* vt_refvals_ref returns r with one more reference; vt_refvals_unref drops one and frees
 * the set with the last (NULL: nothing). */
struct vt_refvals *vt_refvals_ref(struct vt_refvals *r);
void vt_refvals_unref(struct vt_refvals *r);
/* vt_refvals_add parses value (borrowed) for tee and adds it under id: VT_E_FORMAT for a
 * tee without reference values or a value its policy refuses, VT_E_LIMIT past 1024. */
int vt_refvals_add(struct vt_refvals *r, const char *id, const char *tee, const json_t *value,
                   struct vt_diag *d);
/* vt_initdata_digest: the digest of an init-data TOML body (len bytes; toml is its parsed
 * form) by the algorithm the document names ("algorithm": sha256, sha384 or sha512), into
 * ret, its length (32, 48 or 64) in *ret_len. The one place guest (agent) and verifier
 * compute it. VT_E_FORMAT naming the rule for another algorithm. Thread-safe. */
int vt_initdata_digest(const json_t *toml, const void *body, size_t len, uint8_t ret[64],
                       size_t *ret_len, struct vt_diag *d);

/* vt_refvals_check: whether value (borrowed) is a valid reference value for tee, without
 * keeping it (the admin API's check before storing): VT_E_FORMAT "unknown tee ..." naming
 * the tees that take them, or the policy parser's error and reason. */
int vt_refvals_check(const char *tee, const json_t *value, struct vt_diag *d);
/* vt_refvals_tee_known: whether tee takes reference values. */
bool vt_refvals_tee_known(const char *tee);

struct vt_json_spans; /* util/json_parse.h */

/* What verification needs; borrowed, and only read (one context may serve many threads). */
struct vt_attest_ctx {
        struct vt_snp_verifier *snp_hw;   /* AMD roots only */
        struct vt_snp_verifier *snp_sim;  /* + the simulator root; NULL: tee sim refused */
        struct vt_dcap_verifier *dcap;    /* Intel root, collateral */
        const struct vt_tpm_aks *tpm_aks; /* trusted TPM AKs; none: tee tpm refused */
        bool allow_sample;                /* unsigned sample evidence */
        enum vt_ar4si_tier min_tier;      /* the worst tier a verdict may have */
        const struct vt_refvals *refvals; /* NULL: none (never affirming) */
        const char *client;               /* for per-client fetch limits; may be NULL */
        struct vt_nv_verifier *nvidia;    /* NVIDIA GPU/switch evidence; NULL: refused */
        /* the canonical byte arrays of the evidence's text (vt_json_parse_spans of the body
         * it came in), read from the text instead of node by node; NULL: none */
        const struct vt_json_spans *spans;
        int64_t now; /* seconds */
};

/* What vt_attest found (owned; vt_attest_result_done frees it). */
struct vt_attest_result {
        json_t *tee_claims;       /* Trustee's flat claims of the tee */
        struct vt_ar4si tv;       /* the appraisal */
        struct vt_diag appraisal; /* why the vector is not affirming, if it is not */
        bool simulated;           /* rooted in the veritee simulator, not a vendor */
        char *init_data_hex;      /* the init-data digest (hex); NULL: no init-data */
        json_t *init_data_claims; /* its [data] table; NULL: no init-data */
        size_t report_data_len;   /* 64 (padded into a hardware report's field) or 48 */
        /* what the verification rests on, for a person's summary */
        enum vt_snp_product snp_product; /* snp, sim: the product of the chain */
        enum vt_snp_signer snp_signer;   /* snp, sim: VCEK or VLEK */
        enum vt_tcb_status tcb_status;   /* tdx, sgx, az-tdx-vtpm: the TCB status of the platform */
        unsigned az_checks; /* az-snp-vtpm, az-tdx-vtpm, tpm: the VT_AZ_CHECK_* bits passed */
};
void vt_attest_result_done(struct vt_attest_result *r);

/* The number of rows of the table (a program may size per-tee arrays with it). */
#define VT_ATTEST_N_TEES 8

/* The tees of the table, in order, by their Trustee names (for metrics, listings). */
size_t vt_attest_tee_count(void);
const char *vt_attest_tee_name(size_t i);
/* vt_attest_tee_known: whether Trustee knows tee (also tees veritee does not verify). */
bool vt_attest_tee_known(const char *tee);
/* vt_attest_tee_accepted: whether c verifies tee; when not, *ret_hint (may be NULL) is
 * "" or a parenthesised hint at the setting that would accept it, with a leading space. */
bool vt_attest_tee_accepted(const struct vt_attest_ctx *c, const char *tee, const char **ret_hint);

/* vt_attest verifies evidence (the tee-evidence's primary_evidence, borrowed) for tee:
 * wire decoding, signatures and chains, the binding of report_data (the runtime-data
 * digest, zero-padded to 64 bytes), init-data (NULL or JSON null: none) against its
 * launch field, Trustee's claims and the appraisal against c->refvals. Returns 0 with
 * *ret filled (the verdict is vt_ar4si_tier_of(&ret->tv): the caller compares it with
 * c->min_tier) or a negative VT_E_* naming the failed check in d. Thread-safe. */
int vt_attest(const struct vt_attest_ctx *c, const char *tee, const json_t *evidence,
              const uint8_t report_data[64], const json_t *init_data, struct vt_attest_result *ret,
              struct vt_diag *d);

/* Evidence and collateral a caller loaded itself, verified offline (`veritee verify`):
 * the tee's own bytes rather than Trustee's wire JSON, certificates, CRLs and collateral
 * from files, at a given time. Everything is borrowed. */
struct vt_attest_offline {
        const uint8_t *evidence; /* snp: the 1184-byte report; tdx, sgx: the DCAP quote */
        size_t evidence_len;
        int64_t at; /* the time certificates, CRLs and collateral are checked at; 0: now */
        /* snp, sim: the VCEK or VLEK (PEM or DER; NULL: the verifier fetches it from KDS),
         * the ASK/ASVK (and ARK) chain (NULL: built in), an ARK-signed CRL (NULL: none),
         * the product (UNKNOWN: from the report or the leaf) and a policy (NULL: none) */
        const uint8_t *snp_leaf, *snp_chain, *snp_crl;
        size_t snp_leaf_len, snp_chain_len, snp_crl_len;
        enum vt_snp_product snp_product;
        const struct vt_snp_policy *snp_policy;
        /* tdx, sgx: the collateral (NULL: from c->dcap's PCCS) and a policy (NULL: the
         * default: UpToDate only, no debug) */
        const struct vt_dcap_collateral *dcap_collateral;
        const struct vt_dcap_policy *dcap_policy;
        /* az-snp-vtpm, az-tdx-vtpm, tpm (evidence: the evidence JSON's text; the quote is over
         * report data, so these are never authenticity only): the expected report data
         * (1..64 bytes, required: the TPM quote's extraData), the SHA-256 of the init-data
         * (NULL: PCR8 is not checked); c->snp_hw, c->dcap with dcap_collateral and
         * dcap_policy's statuses, c->tpm_aks verify the hardware report and the AK */
        const uint8_t *report_data;
        size_t report_data_len;
        const uint8_t *init_data_digest;
};

/* vt_attest_offline verifies the evidence in off for tee through the same row of the table
 * as vt_attest, without reference values (ret->tv stays all zero: NONE; the caller decides
 * from the return value): signatures, chains to the roots of c's verifiers, revocation, the
 * TCB, collateral at off->at and the policy given in off. snp, sim, tdx, sgx: authenticity
 * only, no report data is bound and no init-data checked. az-snp-vtpm, az-tdx-vtpm, tpm:
 * the quote is bound to off->report_data (and PCR8 to off->init_data_digest), and a
 * failure's reason ends with the checks that passed ("; passed: quote signature, ...").
 * Returns 0 with *ret filled (tee_claims: the tee's claims as Trustee names them, without
 * "simulated"; see ret->simulated) or a negative VT_E_* naming the failed check in d;
 * VT_E_UNSUPPORTED for a tee without offline verification (sample). Thread-safe. */
int vt_attest_offline(const struct vt_attest_ctx *c, const char *tee,
                      const struct vt_attest_offline *off, struct vt_attest_result *ret,
                      struct vt_diag *d);

/* Additional (device) evidence of a composite attestation: tee-evidence.additional_evidence,
 * a JSON object keyed by device type. One submodule per device verified. */
#define VT_ATTEST_MAX_DEVICES 16
struct vt_attest_device {
        char name[16];      /* the EAR submodule: gpu0, gpu1, ...; switch0, ... for NVSwitches */
        const char *tee;    /* the annotated-evidence key: "nvidia" */
        json_t *claims;     /* the device's claims (owned) */
        struct vt_ar4si tv; /* its appraisal */
        char note[256];     /* what was not checked and why, or "" */
};
struct vt_attest_devices {
        size_t n;
        struct vt_attest_device dev[VT_ATTEST_MAX_DEVICES];
};
void vt_attest_devices_done(struct vt_attest_devices *r);

/* vt_attest_devices verifies additional evidence (the string the client sent; "" or NULL:
 * no devices, ret->n = 0) against the device nonce (the first 32 bytes of
 * vt_kbs_device_binding) at time at (0: now). Key "nvidia" ({"device_evidence_list":[...]})
 * is verified with c->nvidia (NULL: refused, naming attestation.nvidia); "sampledevice"
 * (Trustee's unsigned sample device) only with c->allow_sample, never affirming, as
 * submodule sampledevice0; any other key is refused naming it. Every device must verify (the nonce,
 * its chain, its signature, OCSP and RIMs as configured): the first failure is returned, naming the
 * device's index and the check. Returns 0 with *ret filled (free with vt_attest_devices_done) or a
 * negative VT_E_*. Thread-safe. */
int vt_attest_devices(const struct vt_attest_ctx *c, const char *additional,
                      const uint8_t nonce[32], int64_t at, struct vt_attest_devices *ret,
                      struct vt_diag *d);

/* vt_attest_az_checks_text writes the names of the VT_AZ_CHECK_* bits in checks, in the
 * order the checks run, separated by ", ", into buf (cap bytes; "" for none). Thread-safe. */
void vt_attest_az_checks_text(unsigned checks, char *buf, size_t cap);

#endif
