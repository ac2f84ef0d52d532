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

/* A parsed array whose text is its canonical text (RFC 8785, JCS): '[', integers 0..255 in
 * their shortest decimal form separated by ',', then ']', no whitespace anywhere, as
 * Trustee's evidence writes its byte arrays. Only arrays of at least
 * VT_JSON_SPAN_MIN bytes of text are recorded (shorter ones cost little to walk). */
#define VT_JSON_SPAN_MIN 32
struct vt_json_span {
        const json_t *node; /* the array */
        size_t off, len;    /* its text in the parsed buffer */
        size_t boff, count; /* its elements, decoded as the parse read them: bytes[boff..] */
};

/* The canonical arrays of one parse, sorted by node. A record holds only for as long as its
 * tree and the parsed buffer stay unchanged: for a request body read once and not
 * modified. Recording is best effort: an allocation that fails ends it, quietly (a writer
 * then walks the arrays left out, as it walks every other value). */
struct vt_json_spans {
        const uint8_t *text; /* the parsed buffer */
        struct vt_json_span *v;
        size_t n, cap;
        uint8_t *bytes; /* the recorded arrays' elements, one byte each */
        size_t nbytes, bytes_cap;
        bool full; /* an allocation failed: the arrays after the last record went unrecorded */
};

/* vt_json_parse_spans is vt_json_parse (the same verdicts, trees and diags) that also fills
 * spans (zeroed by the caller) with the canonical arrays of the tree; spans holds nothing
 * after a failure. Free with vt_json_spans_done. */
int vt_json_parse_spans(const uint8_t *buf, size_t len, json_t **ret, struct vt_json_spans *spans,
                        struct vt_diag *d);

/* vt_json_span_find returns the record of the array node, or NULL (not recorded, spans
 * NULL). */
const struct vt_json_span *vt_json_span_find(const struct vt_json_spans *spans, const json_t *node);

/* vt_json_span_bytes copies the byte array a (its n elements, each 0..255: the caller has
 * checked its size) into out from the elements the parse decoded as it read them, without
 * walking its nodes or reading its text again: true when a is recorded in spans with
 * exactly n elements; false when it is not recorded (spans NULL) or has another count, out
 * then unchanged (the caller walks the nodes, vt_json_bytes). */
bool vt_json_span_bytes(const struct vt_json_spans *spans, const json_t *a, uint8_t *out, size_t n);

void vt_json_spans_done(struct vt_json_spans *spans);

/* vt_json_identical: a and b are the same tree node by node: the same type at every node
 * (an integer is not a real), the same values (reals bit for bit), object members in the
 * same order. Stricter than json_equal; for checking a parser against another. */
bool vt_json_identical(const json_t *a, const json_t *b);

#endif
