/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A whole ledger in one JSON file, for an offline audit (`veritee ledger export`,
 * `veritee ledger verify --file`):
 *   {"format":"veritee-ledger-export/1","jwks":{"keys":[...]},
 *    "sths":["<jws>",...],"entries":[{"index":0,"entry":{...}},...]}
 * The writer streams (one entry at a time, in that member order). The reader takes the
 * members in any order but never parses the file as one document: it splits the
 * top-level object and its two arrays itself (a depth cap, a size cap per element, no
 * recursion) and hands one element at a time to jansson, so that memory stays that of
 * one entry whatever the file's size. The jwks in a file is the operator's word only: an
 * auditor passes the key it trusts.
 */
#ifndef VT_LEDGER_EXPORT_H
#define VT_LEDGER_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ledger/ledger.h"
#include "store/store.h"
#include "veritee/veritee.h"

#define VT_LEDGER_EXPORT_MAX      (1ull << 30)    /* a whole export file */
#define VT_LEDGER_EXPORT_MAX_JWKS (64u * 1024u)   /* its jwks member */
#define VT_LEDGER_EXPORT_MAX_ELEM (1024u * 1024u) /* one element of "sths" or "entries" */

/*
 * Writing.
 */
struct vt_ledger_export_writer;

/* vt_ledger_export_writer_new writes the head of an export (format and jwks, an object
 * {"keys":[...]}) to out (borrowed, must outlive the writer) and returns the writer in
 * *ret. Then the tree heads (vt_ledger_export_write_sth), then the entries in index
 * order (vt_ledger_export_write_entry), then vt_ledger_export_writer_finish. Not
 * thread-safe. VT_E_INVAL, VT_E_IO. */
int vt_ledger_export_writer_new(FILE *out, const json_t *jwks, struct vt_ledger_export_writer **ret,
                                struct vt_diag *d);

/* vt_ledger_export_write_sth adds a signed tree head (its compact JWS text; not
 * checked). VT_E_INVAL once an entry was written or for a text that is not one line of
 * at most VT_STORE_MAX_STH bytes; VT_E_IO. */
int vt_ledger_export_write_sth(struct vt_ledger_export_writer *w, const char *jws,
                               struct vt_diag *d);

/* vt_ledger_export_write_entry adds entry index, whose JSON text (an object, as stored:
 * written as it is) is text[0..len). VT_E_FORMAT (naming the index) when it is not a
 * JSON object, VT_E_IO. */
int vt_ledger_export_write_entry(struct vt_ledger_export_writer *w, uint64_t index,
                                 const char *text, size_t len, struct vt_diag *d);

/* vt_ledger_export_writer_finish closes the document and flushes out; VT_E_IO when
 * anything failed to be written. It frees w in every case. */
int vt_ledger_export_writer_finish(struct vt_ledger_export_writer *w, struct vt_diag *d);

/* vt_ledger_export_writer_free frees w without finishing (the output is incomplete). */
void vt_ledger_export_writer_free(struct vt_ledger_export_writer *w);

/* vt_ledger_export_store writes the whole ledger of store (every tree head, every entry
 * as stored) with jwks to out. */
int vt_ledger_export_store(struct vt_store *store, const json_t *jwks, FILE *out,
                           struct vt_diag *d);

/*
 * Reading.
 */
struct vt_ledger_export;

/* vt_ledger_export_parse checks the structure of an export in data[0..len) (borrowed:
 * it must outlive the result): one object with exactly the members format (this
 * format), jwks (an object with a "keys" array), sths and entries (arrays), nothing
 * after it. The elements of the arrays are read by vt_ledger_export_audit. VT_E_FORMAT,
 * VT_E_LIMIT with the failed check and its byte offset in d. Thread-safe. */
int vt_ledger_export_parse(const char *data, size_t len, struct vt_ledger_export **ret,
                           struct vt_diag *d);
void vt_ledger_export_free(struct vt_ledger_export *x);

/* vt_ledger_export_jwks returns the file's own jwks (owned by x). */
const json_t *vt_ledger_export_jwks(const struct vt_ledger_export *x);

/* vt_ledger_export_audit audits the ledger in x against the keys of jwks (as
 * vt_ledger_audit_new, with saved_sth when given): every tree head, then every entry
 * ({"index":i,"entry":{...}}, its text the entry's canonical form). On success fills
 * *ret and, when ret_latest_sth is given, sets it to a malloc'd copy of the text of the
 * largest tree head (NULL when there is none). The first failure names the element or
 * the index. */
int vt_ledger_export_audit(const struct vt_ledger_export *x, const json_t *jwks,
                           const char *saved_sth, struct vt_ledger_audit_result *ret,
                           char **ret_latest_sth, struct vt_diag *d);

#endif
