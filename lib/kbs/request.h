/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON bodies clients send to the KBS routes of veriteed, read into borrowed views:
 * /kbs/v0/auth, /kbs/v0/attest and the admin API's /kbs/v0/reference-value and
 * /kbs/v0/resource-policy bodies. The server keeps the HTTP answers; what a body holds and
 * whether its shape is right is decided here (and fuzzed by fuzz/fuzz_kbs_*.c).
 */
#ifndef VT_KBS_REQUEST_H
#define VT_KBS_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/veritee.h"
#include "util/json_parse.h"

/* vt_kbs_body_parse reads a body that must be one JSON object (duplicate keys refused)
 * into *ret (a new reference), with vt_json_parse (util/json_parse.h: what jansson's
 * json_loadb accepts, the same tree). VT_E_FORMAT: d says why (the failed check and its
 * byte offset, or "body is not a JSON object"); VT_E_NOMEM. body may be NULL when len is 0. */
int vt_kbs_body_parse(const uint8_t *body, size_t len, json_t **ret, struct vt_diag *d);

/* vt_kbs_body_parse_spans is vt_kbs_body_parse that also records the body's canonical arrays
 * in spans (vt_json_parse_spans; NULL: none), for digests of the evidence
 * (vt_jcs_digest_spans) that copy Trustee's byte arrays instead of walking them. */
int vt_kbs_body_parse_spans(const uint8_t *body, size_t len, json_t **ret,
                            struct vt_json_spans *spans, struct vt_diag *d);

/* The fields of a /kbs/v0/auth body, borrowed from it; NULL when absent or not strings. */
struct vt_kbs_auth {
        const char *version, *tee;
};

void vt_kbs_auth_read(const json_t *body, struct vt_kbs_auth *ret);

/* The fields of a /kbs/v0/attest body, borrowed from it. */
struct vt_kbs_attest {
        const char *nonce, *additional;
        json_t *jwk, *evidence, *primary, *init;
};

/* vt_kbs_attest_read reads an attest body into *ret and holds it to its shape
 * (runtime-data{nonce,tee-pubkey}, tee-evidence{primary_evidence,additional_evidence?}),
 * to max_evidence bytes of compact tee-evidence JSON and to a usable tee-pubkey.
 * VT_E_FORMAT: the shape; VT_E_LIMIT: too large; VT_E_POLICY: the tee-pubkey, d saying
 * "tee-pubkey: <why>". raw (raw_len bytes) is the text body was parsed from, which
 * spares counting the evidence when it cannot be over the limit; NULL when there is none. */
int vt_kbs_attest_read(json_t *body, const uint8_t *raw, size_t raw_len, size_t max_evidence,
                       struct vt_kbs_attest *ret, struct vt_diag *d);

/* vt_kbs_refval_body_parse reads a reference-value body {"id","tee","value":{...}} (those
 * three members, nothing else) into *ret_root (a new reference) and views borrowed from it.
 * VT_E_FORMAT otherwise. The value itself is checked by the tee's row (vt_refvals_check). */
int vt_kbs_refval_body_parse(const uint8_t *body, size_t len, json_t **ret_root,
                             const char **ret_id, const char **ret_tee, json_t **ret_value,
                             struct vt_diag *d);

/* vt_kbs_policy_body_split splits a resource-policy body: a policy, or a policy, one NUL
 * byte and a secret (JSON text never holds a NUL byte, so the two cannot be confused).
 * *ret_secret is NULL when there is no NUL byte. */
void vt_kbs_policy_body_split(const uint8_t *body, size_t len, size_t *ret_policy_len,
                              const uint8_t **ret_secret, size_t *ret_secret_len);

#endif
