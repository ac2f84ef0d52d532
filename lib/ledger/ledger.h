/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tamper-evident ledger: every decision as an entry (RFC 8785 canonical JSON) in an
 * append-only RFC 9162 Merkle tree kept in the store, signed tree heads (STH: size,
 * root, time; ES256 with the ledger key, a key of its own), receipts (an entry, its
 * index, its inclusion proof and the tree head it is proved against), consistency
 * proofs, and an audit that recomputes a whole ledger offline.
 *
 * An STH is a compact JWS: header {"alg":"ES256","kid":<RFC 7638 thumbprint>,
 * "typ":"veritee-sth+jws"}, payload {"root":<64 hex>,"size":<entries>,"time":<ms>}.
 * A receipt is the JSON object
 *   {"format":"veritee-receipt/1","index":i,"entry":{...},"tree_size":n,
 *    "inclusion_path":[<64 hex>...],"sth":"<jws>"}
 * and it verifies when the STH's signature verifies with a trusted key, its size is
 * tree_size, and H(0x00 || JCS(entry)) with the path leads to its root.
 *
 * Never in an entry: a secret, a token, a nonce or raw evidence (digests of them only).
 */
#ifndef VT_LEDGER_LEDGER_H
#define VT_LEDGER_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger/merkle.h"
#include "store/store.h"
#include "token/jwt.h"
#include "veritee/veritee.h"

#define VT_STH_TYP            "veritee-sth+jws"
#define VT_RECEIPT_FORMAT     "veritee-receipt/1"
#define VT_LEDGER_EXPORT_FMT  "veritee-ledger-export/1"
#define VT_LEDGER_MAX_RECEIPT (256u * 1024u)

/* A tree head, signed or about to be. */
struct vt_sth {
        uint64_t size;
        vt_hash root;
        int64_t time; /* ms since the epoch */
        char kid[64];
};

/* vt_sth_sign returns in *ret a new compact JWS of h signed with key (its kid is the
 * key's). VT_E_NOMEM or VT_E_CRYPTO. Thread-safe. */
int vt_sth_sign(const struct vt_signer *key, const struct vt_sth *h, char **ret);

/* vt_sth_verify checks the signed tree head jws against the keys of jwks (a JWKS
 * {"keys":[...]}; the key is chosen by kid) and returns its fields in *ret. The header
 * must say typ veritee-sth+jws and alg ES256, the payload have exactly root, size and
 * time. VT_E_SIGNATURE, VT_E_FORMAT, VT_E_NOTFOUND (no key of that kid) with the
 * reason in d. Thread-safe. */
int vt_sth_verify(const char *jws, const json_t *jwks, struct vt_sth *ret, struct vt_diag *d);

/* vt_sth_peek reads the fields of a tree head without checking its signature (for a
 * saved head whose key is checked later). VT_E_FORMAT. Thread-safe. */
int vt_sth_peek(const char *jws, struct vt_sth *ret, struct vt_diag *d);

/* vt_ledger_entry_text returns in *ret the canonical text (RFC 8785) of the entry
 * object, malloc'd, with its length in *ret_len. The entry must be an object with a
 * "kind" string and a "time" integer. VT_E_INVAL, VT_E_LIMIT above VT_STORE_MAX_ENTRY. */
int vt_ledger_entry_text(const json_t *entry, char **ret, size_t *ret_len);

/*
 * Proofs from a store (server and CLI alike).
 */

/* vt_ledger_receipt_build returns in *ret a new receipt of entry index against the signed
 * tree head sth (of size sth_size > index), reading the entry and the nodes from store. */
int vt_ledger_receipt_build(struct vt_store *store, uint64_t index, const char *sth,
                            uint64_t sth_size, json_t **ret, struct vt_diag *d);

/* vt_ledger_consistency_build returns in *ret {"first":a,"second":b,"proof":[hex...]},
 * the RFC 9162 consistency proof between the trees of a and b entries (a <= b <= the
 * ledger's size). */
int vt_ledger_consistency_build(struct vt_store *store, uint64_t a, uint64_t b, json_t **ret,
                                struct vt_diag *d);

/* vt_ledger_root returns the root of the first size entries of the ledger in store. */
int vt_ledger_root(struct vt_store *store, uint64_t size, vt_hash ret, struct vt_diag *d);

/* vt_ledger_receipt_verify checks a receipt (JSON text, at most VT_LEDGER_MAX_RECEIPT
 * bytes) against the keys of jwks; on success the entry's index and the tree head are
 * returned in *ret_index and *ret_sth (either may be NULL). VT_E_SIGNATURE, VT_E_FORMAT
 * with the failed check in d. Thread-safe. */
int vt_ledger_receipt_verify(const char *json, size_t len, const json_t *jwks, uint64_t *ret_index,
                             struct vt_sth *ret_sth, struct vt_diag *d);

/* vt_ledger_consistency_verify checks a consistency proof object (as
 * vt_ledger_consistency_build makes it) between two verified tree heads. */
int vt_ledger_consistency_verify(const json_t *proof, const struct vt_sth *first,
                                 const struct vt_sth *second, struct vt_diag *d);

/*
 * The appender: a thread that commits queued entries in groups (one transaction and one
 * sync for all the entries that arrived while the previous group was being written) and
 * signs a tree head every sth_every entries or sth_ms milliseconds.
 */
struct vt_ledger;

struct vt_ledger_opts {
        uint64_t sth_every; /* sign after this many new entries (default 1000) */
        int64_t sth_ms;     /* ... or this long after the first unsigned one (default 1000) */
        size_t max_batch;   /* entries per transaction at most (default 1024) */
        /* How long an entry appended with VT_LEDGER_DEFER_SYNC may stay committed but not
         * synced (0, the default: such entries are synced like any other). */
        int64_t defer_ms;
};

/* vt_ledger_open starts the appender on store (borrowed; the ledger should have a
 * store handle of its own, so that its syncs do not hold up other callers) signing with
 * key (borrowed). Both must outlive the ledger. */
int vt_ledger_open(struct vt_store *store, const struct vt_signer *key,
                   const struct vt_ledger_opts *opts, struct vt_ledger **ret, struct vt_diag *d);

/* vt_ledger_close commits what is queued, signs a last tree head when entries are
 * unsigned, stops the thread and frees l. */
void vt_ledger_close(struct vt_ledger *l);

/* vt_ledger_append adds "kind" and "time" (now, ms) to a copy of entry, queues it and
 * waits until it is durable (committed and synced): only then may the caller act on the
 * decision it records (send a secret). Returns its index in *ret_index (may be NULL).
 * Thread-safe. VT_E_STORE (with the reason in d) when the store failed: the entry is not
 * in the ledger and the decision must not be acted on. */
int vt_ledger_append(struct vt_ledger *l, const char *kind, const json_t *entry,
                     uint64_t *ret_index, struct vt_diag *d);

/* VT_LEDGER_DEFER_SYNC (vt_ledger_append_flags): return once the entry is committed, in
 * its place in the tree and visible to every reader, and durable against a crash of the
 * process (it is in the operating system's cache), before its sync. The appender syncs it
 * with the next entry that waits for its sync (whose sync covers everything committed
 * before it), with the next signed tree head (a tree head is only ever recorded synced,
 * so no head covers an entry a power cut could take back), or defer_ms after its commit,
 * whichever comes first; and at vt_ledger_close. A power cut in between loses the last
 * such entries and nothing else: the ledger stays a prefix of what was appended. For
 * records of decisions that release nothing by themselves (an attestation's verdict);
 * a release is appended without it. With defer_ms 0 the flag changes nothing. */
#define VT_LEDGER_DEFER_SYNC 1u

/* vt_ledger_append_flags is vt_ledger_append with flags (0 or VT_LEDGER_DEFER_SYNC). */
int vt_ledger_append_flags(struct vt_ledger *l, const char *kind, const json_t *entry,
                           unsigned flags, uint64_t *ret_index, struct vt_diag *d);

/* vt_ledger_append_mark is vt_ledger_append_flags that also marks a session attested in
 * the transaction that appends the entry (struct vt_store_session_mark, store/store.h):
 * the verdict's entry and its session committed together, in one transaction, where
 * the two were two. When it returns 0, mark->result holds the mark's answer (0: marked;
 * the entry is in the ledger whatever the answer); when it fails, nothing was marked.
 * mark NULL: vt_ledger_append_flags. */
int vt_ledger_append_mark(struct vt_ledger *l, const char *kind, const json_t *entry,
                          unsigned flags, struct vt_store_session_mark *mark, uint64_t *ret_index,
                          struct vt_diag *d);

/* vt_ledger_store returns the store the ledger writes to. */
struct vt_store *vt_ledger_store(struct vt_ledger *l);

/* vt_ledger_jwks returns a new JWKS with the ledger's public key. */
json_t *vt_ledger_jwks(const struct vt_ledger *l);

/* vt_ledger_covering_sth returns the latest signed tree head (malloc'd, its size in
 * *ret_size) once it covers index (index < size), asking the appender to sign one now
 * when it does not, and waiting for it (at most a few seconds: VT_E_STALE). For index
 * UINT64_MAX it returns the latest head as it is (VT_E_NOTFOUND when none). */
int vt_ledger_covering_sth(struct vt_ledger *l, uint64_t index, char **ret, uint64_t *ret_size,
                           struct vt_diag *d);

/*
 * Auditing a whole ledger: tree heads first (any order), then every entry from index 0
 * in order; the audit recomputes the tree and checks each head's signature and root
 * when the tree reaches its size.
 */
struct vt_ledger_audit;

struct vt_ledger_audit_result {
        uint64_t entries;
        uint64_t sths;        /* tree heads checked */
        uint64_t last_good;   /* the size of the largest tree head that matched */
        struct vt_sth latest; /* the largest tree head (size 0 when none) */
        vt_hash root;         /* the recomputed root of all the entries */
};

/* vt_ledger_audit_new starts an audit against the keys of jwks (borrowed). saved_sth,
 * when given, is a tree head kept from earlier: the ledger must still contain it (same
 * root at its size), proving that it only grew since. */
int vt_ledger_audit_new(const json_t *jwks, const char *saved_sth, struct vt_ledger_audit **ret,
                        struct vt_diag *d);
void vt_ledger_audit_free(struct vt_ledger_audit *a);

/* vt_ledger_audit_sth adds a tree head: its signature is checked now. */
int vt_ledger_audit_sth(struct vt_ledger_audit *a, const char *sth, struct vt_diag *d);

/* vt_ledger_audit_entry adds entry index (its text as stored: it must be canonical),
 * and, when known, the leaf hash stored with it. Entries must come in index order with
 * no gap. The first failure names the index. */
int vt_ledger_audit_entry(struct vt_ledger_audit *a, uint64_t index, const char *text, size_t len,
                          const uint8_t *stored_leaf, struct vt_diag *d);

/* vt_ledger_audit_finish checks what remains (tree heads above the last entry, the saved
 * head) and fills *ret. */
int vt_ledger_audit_finish(struct vt_ledger_audit *a, struct vt_ledger_audit_result *ret,
                           struct vt_diag *d);

/* vt_ledger_audit_store audits the ledger in store: every tree head, then every entry
 * with the leaf hash stored for it, then what vt_ledger_audit_finish checks. */
int vt_ledger_audit_store(struct vt_store *store, const json_t *jwks, const char *saved_sth,
                          struct vt_ledger_audit_result *ret, struct vt_diag *d);

#endif
