/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A JSON text parser that builds jansson trees, for the bodies clients send (the KBS attest
 * body: Trustee's SNP evidence is thousands of small integers, and jansson's reader takes
 * each byte through a callback and each number through a saved-text buffer and strtoll).
 */
#ifndef VT_UTIL_JSON_PARSE_H
#define VT_UTIL_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/veritee.h"

/* The nesting limit, jansson's JSON_PARSER_MAX_DEPTH: a value inside 2048 open arrays or
 * objects is refused. */
#define VT_JSON_MAX_DEPTH 2048

/* vt_json_parse reads the len bytes at buf (buf may be NULL when len is 0) as one JSON text
 * into *ret (a new reference), set only on success. It accepts exactly what
 * json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err) of jansson 2.14 accepts, and the tree
 * is the one jansson builds (json_equal, the same integer or real type at every node, object
 * members in document order): the top level is an object or an array followed only by
 * whitespace; integers (no '.', 'e' or 'E') must fit json_int_t and reals must not overflow
 * a double; strings are well-formed UTF-8 without raw control characters, with the JSON
 * escapes (surrogate pairs matched, \u0000 refused); object keys are unique; nesting is at
 * most VT_JSON_MAX_DEPTH. VT_E_FORMAT: d names the failed check and its byte offset;
 * VT_E_NOMEM. Thread-safe; does not depend on the locale. The integers 0..255 of every
 * tree are shared nodes that live as long as the process (refcount (size_t)-1, as
 * jansson's true, false and null): do not json_integer_set a parsed integer; replace it. */
int vt_json_parse(const uint8_t *buf, size_t len, json_t **ret, struct vt_diag *d);

/* vt_json_identical: a and b are the same tree node by node: the same type at every node
 * (an integer is not a real), the same values (reals bit for bit), object members in the
 * same order. Stricter than json_equal; for checking a parser against another. */
bool vt_json_identical(const json_t *a, const json_t *b);

#endif
