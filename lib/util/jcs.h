/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 8785 JSON Canonicalization Scheme over jansson values. */
#ifndef VT_UTIL_JCS_H
#define VT_UTIL_JCS_H

#include <stddef.h>

#include <jansson.h>

#include "util/json_parse.h"

/* vt_jcs_serialize writes the canonical form of v (object keys sorted by UTF-16 code
 * units at every level, no whitespace, RFC 8785 string escaping and ECMAScript number
 * formatting) into a malloc'd NUL-terminated string. VT_E_FORMAT for values JCS cannot
 * represent (NaN, infinities, invalid UTF-8). *ret_len (may be NULL) gets the length.
 * Integers are printed as they are, not via doubles. Nesting deeper than 512 levels
 * (and so a cyclic value) is VT_E_LIMIT. Thread-safe for values nobody modifies. */
int vt_jcs_serialize(const json_t *v, char **ret, size_t *ret_len);

/* vt_jcs_write writes the same text as vt_jcs_serialize (no NUL) to sink, piece by piece
 * through an 8 KiB buffer on the stack: for a digest of a large value, without holding its
 * text. A sink's negative return stops the writing and is returned as VT_E_NOMEM; the
 * errors are vt_jcs_serialize's, and a sink may have had part of the text before one. */
int vt_jcs_write(const json_t *v, int (*sink)(void *arg, const void *p, size_t n), void *arg);

/* vt_jcs_write_spans writes the same text as vt_jcs_write, for a tree that
 * vt_json_parse_spans read into spans (NULL: vt_jcs_write) and that is unchanged since: the
 * arrays spans recorded are copied from the parsed text, which is their canonical text,
 * instead of being walked element by element (Trustee's byte arrays, thousands of integers
 * in an attest body). */
int vt_jcs_write_spans(const json_t *v, const struct vt_json_spans *spans,
                       int (*sink)(void *arg, const void *p, size_t n), void *arg);

#endif
