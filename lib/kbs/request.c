/* SPDX-License-Identifier: Apache-2.0 */
#include "kbs/request.h"

#include <stdbool.h>
#include <string.h>

#include "crypto/jwk.h"
#include "util/json.h"
#include "util/json_parse.h"
#include "util/macro.h"

int vt_kbs_body_parse(const uint8_t *body, size_t len, json_t **ret, struct vt_diag *d)
{
        return vt_kbs_body_parse_spans(body, len, ret, NULL, d);
}

int vt_kbs_body_parse_spans(const uint8_t *body, size_t len, json_t **ret,
                            struct vt_json_spans *spans, struct vt_diag *d)
{
        /* vt_json_parse: what json_loadb(JSON_REJECT_DUPLICATES) accepts and builds, faster on
         * Trustee's SNP evidence (thousands of byte-valued integers) */
        json_t *j = NULL;
        int e = vt_json_parse_spans(body, len, &j, spans, d);
        if (e < 0)
                return e;
        if (!json_is_object(j)) {
                json_decref(j);
                vt_json_spans_done(spans);
                return vt_diag_set(d, VT_E_FORMAT, "body is not a JSON object");
        }
        *ret = j;
        return 0;
}

void vt_kbs_auth_read(const json_t *body, struct vt_kbs_auth *ret)
{
        ret->version = json_string_value(json_object_get(body, "version"));
        ret->tee = json_string_value(json_object_get(body, "tee"));
}

/* plain_len: the length of s (n bytes) as jansson writes it, quotes included, when it
 * needs no escape (no control character, quote or backslash); false otherwise. */
static bool plain_len(const char *s, size_t n, size_t *ret)
{
        if (!vt_json_plain(s, n, false))
                return false;
        *ret = n + 2;
        return true;
}

static size_t int_len(json_int_t v)
{
        size_t n = v < 0 ? 2 : 1; /* the sign, and the last digit */
        for (; v <= -10 || v >= 10; v /= 10)
                n++;
        return n;
}

/* walk_len adds the length of json_dumps(j, JSON_COMPACT) to *acc, stopping once it passes
 * cap (the length only grows). False when a value is one whose text only jansson can say
 * (a real, a string that needs escapes): the caller then asks jansson. */
static bool walk_len(const json_t *j, size_t cap, size_t *acc)
{
        size_t n = 0;
        if (*acc > cap)
                return true;
        switch (json_typeof(j)) {
        case JSON_OBJECT: {
                const char *k;
                json_t *v;
                size_t i = 0;
                *acc += 2; /* {} */
                json_object_foreach ((json_t *)j, k, v) {
                        if (!plain_len(k, json_object_iter_key_len(json_object_key_to_iter(k)), &n))
                                return false;
                        *acc += n + 1 + (i++ ? 1 : 0); /* "k": and the comma before */
                        if (!walk_len(v, cap, acc))
                                return false;
                }
                return true;
        }
        case JSON_ARRAY:
                *acc += 2; /* [] */
                for (size_t i = 0; i < json_array_size(j); i++) {
                        *acc += i ? 1 : 0;
                        if (!walk_len(json_array_get(j, i), cap, acc))
                                return false;
                }
                return true;
        case JSON_STRING:
                if (!plain_len(json_string_value(j), json_string_length(j), &n))
                        return false;
                *acc += n;
                return true;
        case JSON_INTEGER:
                *acc += int_len(json_integer_value(j));
                return true;
        case JSON_TRUE:
        case JSON_NULL:
                *acc += 4;
                return true;
        case JSON_FALSE:
                *acc += 5;
                return true;
        default: /* JSON_REAL */
                return false;
        }
}

/* compact_len_over: whether json_dumps(j, JSON_COMPACT) is longer than cap bytes (or cannot
 * be made), without making it in the usual case: evidence is mostly integers (Trustee's
 * byte arrays) and plain strings, whose text length is known. */
static bool compact_len_over(const json_t *j, size_t cap)
{
        size_t n = 0;
        if (walk_len(j, cap, &n))
                return n > cap;
        _cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT);
        return !txt || strlen(txt) > cap;
}

/* raw_has_real: whether the JSON text raw (n bytes) holds a number that is not an
 * integer: a '.', or an 'e' or 'E' right after a digit (in "true" and "false" an 'e'
 * follows a letter), outside strings. */
static bool raw_has_real(const uint8_t *raw, size_t n)
{
        /* the bytes that matter, by class: one look per byte for the rest (digits and
         * commas, nearly all of a body of byte arrays) */
        enum { OTHER, QUOTE, BACKSLASH, DOT, EXP };
        static const uint8_t cls[256] = {
                ['"'] = QUOTE, ['\\'] = BACKSLASH, ['.'] = DOT, ['e'] = EXP, ['E'] = EXP};
        bool in_str = false;
        for (size_t i = 0; i < n; i++) {
                uint8_t c = cls[raw[i]];
                if (c == OTHER)
                        continue;
                if (in_str) {
                        if (c == BACKSLASH)
                                i++; /* the escaped byte, whatever it is */
                        else if (c == QUOTE)
                                in_str = false;
                } else if (c == QUOTE) {
                        in_str = true;
                } else if (c == DOT ||
                           (c == EXP && i > 0 && raw[i - 1] >= '0' && raw[i - 1] <= '9')) {
                        return true;
                }
        }
        return false;
}

/* evidence_over: whether the compact text of te is over max bytes. Parsed from raw (when
 * given), its compact text is no longer than raw as long as raw holds no real: compact
 * output drops whitespace, writes integers and literals as they must be written in raw,
 * and writes a string in no more bytes than any escaping of it that raw can hold (only a
 * real may be written longer, 0.1 as 0.10000000000000001). Then a raw body within max
 * needs no count at all. Nor does one within max / 8, reals or not: a real takes at least
 * 3 bytes in raw ("1e1", "0.1") and at most 24 written ("%.17g": a sign, 17 digits, the
 * point, "e-308"), so the compact text is at most 8 times raw; the attest bodies of the
 * default limits (2 MiB) are then never scanned. */
static bool evidence_over(const json_t *te, const uint8_t *raw, size_t raw_len, size_t max)
{
        if (raw && raw_len <= max / 8)
                return false;
        if (raw && raw_len <= max && !raw_has_real(raw, raw_len))
                return false;
        return compact_len_over(te, max);
}

int vt_kbs_attest_read(json_t *body, const uint8_t *raw, size_t raw_len, size_t max_evidence,
                       struct vt_kbs_attest *ret, struct vt_diag *d)
{
        struct vt_kbs_attest ab;
        json_t *rt = json_object_get(body, "runtime-data");
        json_t *te = json_object_get(body, "tee-evidence");
        json_t *addj = json_object_get(te, "additional_evidence");

        ab.init = json_object_get(body, "init-data");
        ab.nonce = json_string_value(json_object_get(rt, "nonce"));
        ab.jwk = json_object_get(rt, "tee-pubkey");
        ab.evidence = te;
        ab.primary = json_object_get(te, "primary_evidence");
        ab.additional = addj ? json_string_value(addj) : "";
        if (!json_is_object(rt) || !ab.nonce || !ab.jwk || !json_is_object(te) || !ab.primary ||
            !ab.additional)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "attestation needs runtime-data{nonce,tee-pubkey} and "
                                   "tee-evidence{primary_evidence,additional_evidence}");
        if (evidence_over(te, raw, raw_len, max_evidence))
                return vt_diag_set(d, VT_E_LIMIT, "tee-evidence larger than %zu bytes",
                                   max_evidence);
        struct vt_diag kd = {0};
        if (vt_jwk_to_pkey(ab.jwk, NULL, &kd) < 0)
                return vt_diag_set(d, VT_E_POLICY, "tee-pubkey: %s", kd.msg);
        *ret = ab;
        return 0;
}

int vt_kbs_refval_body_parse(const uint8_t *body, size_t len, json_t **ret_root,
                             const char **ret_id, const char **ret_tee, json_t **ret_value,
                             struct vt_diag *d)
{
        json_t *root = json_loadb((const char *)(body ? body : (const uint8_t *)""), len,
                                  JSON_REJECT_DUPLICATES, NULL);
        const char *rid = json_string_value(json_object_get(root, "id"));
        const char *tee = json_string_value(json_object_get(root, "tee"));
        json_t *value = json_object_get(root, "value");
        if (!rid || !tee || !json_is_object(value) || json_object_size(root) != 3) {
                json_decref(root);
                return vt_diag_set(d, VT_E_FORMAT,
                                   "reference value must be {\"id\",\"tee\",\"value\":{...}}");
        }
        *ret_root = root;
        *ret_id = rid;
        *ret_tee = tee;
        *ret_value = value;
        return 0;
}

void vt_kbs_policy_body_split(const uint8_t *body, size_t len, size_t *ret_policy_len,
                              const uint8_t **ret_secret, size_t *ret_secret_len)
{
        const uint8_t *nul = body ? memchr(body, 0, len) : NULL;
        size_t pl = nul ? (size_t)(nul - body) : len;
        *ret_policy_len = pl;
        *ret_secret = nul ? nul + 1 : NULL;
        *ret_secret_len = nul ? len - pl - 1 : 0;
}
