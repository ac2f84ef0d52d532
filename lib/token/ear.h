/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAR (EAT Attestation Result) claims in the layout Trustee's attestation service
 * uses, so that CoCo guests and key brokers read our tokens unchanged.
 */
#ifndef VT_TOKEN_EAR_H
#define VT_TOKEN_EAR_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/ar4si.h"
#include "veritee/snp.h"

#define VT_EAR_PROFILE "tag:github.com,2024:confidential-containers/Trustee"

/* EAR's status is the AR4SI tier (veritee/ar4si.h). */
enum vt_ear_status {
        VT_EAR_NONE = VT_AR4SI_TIER_NONE,
        VT_EAR_AFFIRMING = VT_AR4SI_TIER_AFFIRMING,
        VT_EAR_WARNING = VT_AR4SI_TIER_WARNING,
        VT_EAR_CONTRAINDICATED = VT_AR4SI_TIER_CONTRAINDICATED,
};

/* vt_ear_status_of returns the worst tier of the vector (all zero: NONE). */
enum vt_ear_status vt_ear_status_of(const struct vt_ar4si *tv);
const char *vt_ear_status_name(enum vt_ear_status s);
json_t *vt_ar4si_json(const struct vt_ar4si *tv);

/* A submodule beside cpu0 (composite attestation: a GPU, a switch): the same shape as cpu0,
 * {"ear.status", "ear.trustworthiness-vector", "ear.appraisal-policy-id",
 *  "ear.veraison.annotated-evidence": {tee: claims}}. */
struct vt_ear_submod {
        const char *name; /* "gpu0", "switch0", ... */
        const char *tee;  /* the annotated-evidence key: "nvidia" */
        json_t *claims;   /* borrowed */
        const struct vt_ar4si *tv;
};

struct vt_ear_input {
        const char *issuer;
        const char *audience; /* aud; NULL: none */
        int64_t iat, ttl;     /* iat and nbf; exp = iat + ttl */
        const char *policy_id;
        const char *tee;    /* key of the tee claims in the annotated evidence */
        json_t *tee_claims; /* borrowed */
        const uint8_t *report_data;
        size_t report_data_len;
        json_t *runtime_data;      /* borrowed: {nonce, tee-pubkey, additional-evidence} */
        const char *init_data_hex; /* NULL: none */
        json_t *init_data_claims;  /* borrowed; NULL: null */
        const struct vt_ar4si *tv;
        bool simulated; /* evidence rooted in the veritee simulator, not a vendor */
        const struct vt_ear_submod *submods; /* more submodules after cpu0; may be NULL */
        size_t n_submods;
};

/* vt_ear_claims builds the claims set (iss, iat, nbf = iat, exp, aud when in->audience);
 * NULL on allocation failure. */
json_t *vt_ear_claims(const struct vt_ear_input *in);

#endif
