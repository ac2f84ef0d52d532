/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Release policies: who may receive a secret (docs/policy-release.md). A policy is JSON
 * in the style of an Azure Key Vault release policy, a tree of allOf/anyOf groups over
 * conditions on the verified token claims, each naming a claim by an RFC 6901 JSON
 * pointer or an Azure dot path. Azure's documents are accepted as written ("version":
 * "1.0.0", authorities, loose scalar equality). Evaluation denies by default: a missing
 * claim satisfies no condition except "exists": false.
 */
#ifndef VT_POLICY_RELEASE_H
#define VT_POLICY_RELEASE_H

#include <stddef.h>

#include <jansson.h>

#include "veritee/veritee.h"

/* Caps on an untrusted policy document. */
#define VT_RELEASE_MAX_BYTES      (64u * 1024u)
#define VT_RELEASE_MAX_DEPTH      8
#define VT_RELEASE_MAX_CONDITIONS 256

struct vt_release_policy;

/* vt_release_policy_parse parses len bytes of JSON (no NUL needed) into *ret, which the
 * caller frees with vt_release_policy_free. VT_E_LIMIT when the document is larger than
 * 64 KiB, nests groups deeper than 8 or holds more than 256 conditions; VT_E_FORMAT for
 * anything else that is not a valid policy (invalid JSON, an unknown key, a condition with
 * no or two operators, an empty group, a bad pointer, an operand of the wrong type), with
 * the key and its place in the document ("$.anyOf[0].allOf[1]") in d; a Rego module gets
 * a message naming Rego and the JSON equivalent in docs/policy-release.md. */
int vt_release_policy_parse(const char *json, size_t len, struct vt_release_policy **ret,
                            struct vt_diag *d);

/* vt_release_policy_free frees p; NULL is fine. */
void vt_release_policy_free(struct vt_release_policy *p);

/* vt_release_policy_eval returns 0 when claims satisfy p, else VT_E_POLICY with the
 * failing condition in d ("claim /submods/cpu0/ear.status is \"warning\", expected equals
 * \"affirming\"", "claim /x is missing" or "claim iss is \"...\", expected authority
 * \"...\""; for an anyOf, the reason of its first alternative). An authority group holds
 * only for claims whose "iss" is that authority; the caller has checked the token's
 * signature against that issuer's keys. Both are borrowed. It allocates nothing unless it fails (to
 * print the values into d). Thread-safe: any number of threads may evaluate one parsed policy. */
int vt_release_policy_eval(const struct vt_release_policy *p, const json_t *claims,
                           struct vt_diag *d);

/* vt_json_pointer returns the value ptr (RFC 6901, "~0" for "~" and "~1" for "/") names
 * in root, borrowed from root, or NULL if there is none: ptr is not "" and does not start
 * with "/", holds a "~" not followed by 0 or 1, or names a missing member, an array
 * element out of range, or an array element by anything but a canonical decimal index
 * ("-" and leading zeros name no element). "" names root. Thread-safe. */
const json_t *vt_json_pointer(const json_t *root, const char *ptr);

#endif
