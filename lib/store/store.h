/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: durable state shared by every veriteed replica. One interface; the
 * embedded back end is SQLite in WAL mode (sqlite.c). Thread-safe: one store may be
 * used from many threads. Times are seconds since the epoch, passed in by the caller.
 *
 * Every operation takes an optional struct vt_diag *d (may be NULL) that receives the
 * reason of a failure; for a failure of the database it names the back end's error, so
 * that an operator tells a busy database from a full disk or an I/O error (SQLite:
 * SQLITE_BUSY, SQLITE_FULL, SQLITE_IOERR ...). Outputs are written only on success
 * (vt_store_session_get also fills *ret for an expired session, as it says).
 */
#ifndef VT_STORE_STORE_H
#define VT_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/repo.h"
#include "veritee/veritee.h"

struct vt_store;
struct vt_store_ops; /* a back end (store_impl.h) */

/* The SQLite back end (sqlite.c). */
extern const struct vt_store_ops vt_store_sqlite_ops;
/* The PostgreSQL back end (postgres.c): the path given to open is a libpq DSN. */
extern const struct vt_store_ops vt_store_postgres_ops;

enum vt_session_state {
        VT_SESSION_AUTHED = 0,   /* challenge issued, nonce unused */
        VT_SESSION_CLAIMED = 1,  /* nonce consumed by an /attest in progress or failed */
        VT_SESSION_ATTESTED = 2, /* attestation succeeded */
};

struct vt_session {
        char id[33]; /* 32 lowercase hex characters */
        char tee[32];
        char nonce[64]; /* as sent to the client (standard base64) */
        int64_t created, expires;
        enum vt_session_state state;
        char client[48]; /* who asked for it (an address), for per-client limits; "" if unknown */
};

/* vt_store_open opens (creating if needed) the SQLite database at path, sets WAL mode
 * and a busy timeout, and migrates the schema to the current version inside one
 * transaction. A database from a newer veritee is refused (VT_E_UNSUPPORTED). */
int vt_store_open(const char *path, struct vt_store **ret, struct vt_diag *d);
void vt_store_close(struct vt_store *s);

/* vt_store_open_with opens the store at path (for SQLite a file name) with a back end;
 * vt_store_open is vt_store_open_with(&vt_store_sqlite_ops, ...). */
int vt_store_open_with(const struct vt_store_ops *backend, const char *path, struct vt_store **ret,
                       struct vt_diag *d);

/* vt_store_backend_name returns the name of a back end ("sqlite"). */
const char *vt_store_backend_name(const struct vt_store_ops *backend);

/* vt_store_schema_version returns the schema version of the open database. */
int vt_store_schema_version(struct vt_store *s, int *ret, struct vt_diag *d);

/* vt_store_ping checks that the database answers (for /readyz). */
int vt_store_ping(struct vt_store *s, struct vt_diag *d);

/* vt_store_session_open inserts a new session unless max_open open sessions (state
 * AUTHED: nonce unused, and not expired at now) exist already, or max_open_per_client
 * (0: no such limit) open ones of sess->client: then VT_E_LIMIT, d says which limit, and
 * nothing is written. Spent sessions (CLAIMED, ATTESTED) count against neither. The
 * counts and the insert are one transaction, so the limits hold across processes. */
int vt_store_session_open(struct vt_store *s, const struct vt_session *sess, int64_t now,
                          size_t max_open, size_t max_open_per_client, struct vt_diag *d);

/* vt_store_session_create is vt_store_session_open without a per-client limit. */
int vt_store_session_create(struct vt_store *s, const struct vt_session *sess, int64_t now,
                            size_t max_live, struct vt_diag *d);

/* vt_store_session_get reads a session: VT_E_NOTFOUND if absent, VT_E_EXPIRED if
 * expired at now (*ret is filled in both the success and the expired case). */
int vt_store_session_get(struct vt_store *s, const char *id, int64_t now, struct vt_session *ret,
                         struct vt_diag *d);

/* vt_store_session_claim atomically moves a live AUTHED session whose nonce equals
 * nonce to CLAIMED, so that a nonce is used at most once, across threads and
 * processes. Errors: VT_E_NOTFOUND (no session), VT_E_EXPIRED, VT_E_BINDING (nonce
 * differs; the session is left as it was), VT_E_REPLAY (nonce already used). */
int vt_store_session_claim(struct vt_store *s, const char *id, const char *nonce, int64_t now,
                           struct vt_diag *d);

/* vt_store_session_attest is the claim and vt_store_session_set_attested in one write:
 * it atomically moves a live AUTHED session whose nonce equals nonce to ATTESTED with the
 * claims (JSON) of its token and the expiry expires. The same errors as the claim, and a
 * session it refuses is left as it was. */
int vt_store_session_attest(struct vt_store *s, const char *id, const char *nonce, int64_t now,
                            const char *claims_json, int64_t expires, struct vt_diag *d);

/* vt_store_session_set_state sets the state of a session (e.g. ATTESTED). */
int vt_store_session_set_state(struct vt_store *s, const char *id, enum vt_session_state st,
                               struct vt_diag *d);

/* vt_store_session_set_claims keeps the claims (JSON) of the session's token (schema 3). */
int vt_store_session_set_claims(struct vt_store *s, const char *id, const char *claims_json,
                                struct vt_diag *d);

/* vt_store_session_set_attested marks a session ATTESTED, keeps the claims (JSON) of its
 * token and sets its expiry (the caller makes it no later than the token's exp, so that
 * the claims do not outlive the token). VT_E_NOTFOUND if there is no such session. */
int vt_store_session_set_attested(struct vt_store *s, const char *id, const char *claims_json,
                                  int64_t expires, struct vt_diag *d);

/* vt_store_session_get_claims returns the claims of a live session in a malloc'd string:
 * VT_E_NOTFOUND (no session or no claims), VT_E_EXPIRED. */
int vt_store_session_get_claims(struct vt_store *s, const char *id, int64_t now, char **ret,
                                struct vt_diag *d);

/* vt_store_session_count_live counts sessions not expired at now. */
int vt_store_session_count_live(struct vt_store *s, int64_t now, size_t *ret, struct vt_diag *d);

/* vt_store_sweep deletes sessions expired at now (expires <= now) with their claims,
 * returns how many in *ret_n, and gives the freed pages back to the file system
 * (incremental vacuum, then a passive checkpoint). */
int vt_store_sweep(struct vt_store *s, int64_t now, size_t *ret_n, struct vt_diag *d);

/*
 * Secret release (schema version 2). The store never sees a plaintext secret: callers
 * seal it first (a data key wrapped under a KEK, the secret encrypted under the data
 * key) and pass the wrapped key and the ciphertext as opaque blobs. The functions below
 * that write commit with synchronous=FULL: an acknowledged change survives a power cut.
 */

/* Caps on what the store accepts (VT_E_LIMIT above them). */
#define VT_STORE_MAX_WDEK (64u * 1024u)         /* a wrapped data key */
#define VT_STORE_MAX_CT   (32u * 1024u * 1024u) /* a sealed resource */
#define VT_STORE_MAX_JSON (1024u * 1024u)       /* a policy or a reference value */

struct vt_resource_meta {
        char path[256]; /* "repo/type/tag" */
        char kek_id[32];
        size_t size; /* plaintext length, as given to put (metadata only) */
        int64_t created, updated;
        bool has_policy;
};

/* vt_resource_path_valid says whether path is a resource path: exactly three segments
 * separated by '/', each matching [A-Za-z0-9_-][A-Za-z0-9_.-]* (so "." and ".." are
 * not segments), the first (the repository) at most VT_REPO_NAME_MAX bytes, fewer than
 * 256 bytes in all. Every store function that takes a path checks it (VT_E_INVAL).
 * Thread-safe. */
bool vt_resource_path_valid(const char *path);

/* vt_resource_repo_valid says whether repo is a repository name, the first segment of a
 * resource path: [A-Za-z0-9_-][A-Za-z0-9_.-]*, 1..VT_REPO_NAME_MAX bytes. Thread-safe. */
bool vt_resource_repo_valid(const char *repo);

/* vt_store_resource_put inserts the resource at path, or replaces its blobs, kek_id and
 * size if it exists (then created is kept, updated becomes now, and its policy stays).
 * kek_id is 1 to 31 bytes; wdek (wdek_len > 0) and ct (ct_len may be 0) are borrowed
 * and stored as BLOBs; plain_len is metadata. One BEGIN IMMEDIATE transaction that first
 * checks that kek_id is the current KEK (vt_store_kek_current; any id while none is
 * recorded): VT_E_STALE if a rotation made another KEK current, and nothing is written
 * (seal again under the current KEK and retry). VT_E_INVAL for a bad path or argument,
 * VT_E_LIMIT for a blob above VT_STORE_MAX_WDEK/VT_STORE_MAX_CT. */
int vt_store_resource_put(struct vt_store *s, const char *path, const char *kek_id,
                          const uint8_t *wdek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
                          size_t plain_len, int64_t now, struct vt_diag *d);

/* vt_store_resource_put_policy is vt_store_resource_put and vt_store_policy_set of policy
 * (the caller validated it) in the same transaction: both change or neither does. */
int vt_store_resource_put_policy(struct vt_store *s, const char *path, const char *kek_id,
                                 const uint8_t *wdek, size_t wdek_len, const uint8_t *ct,
                                 size_t ct_len, size_t plain_len, const char *policy, int64_t now,
                                 struct vt_diag *d);

/* One resource of a batch (vt_store_resource_put_batch): its path, sealed blobs and
 * plaintext length as for vt_store_resource_put, and its policy (NULL: the resource keeps
 * the policy it has, if any). All borrowed. */
struct vt_resource_item {
        const char *path;
        const uint8_t *wdek, *ct;
        size_t wdek_len, ct_len, plain_len;
        const char *policy;
};

/* At most this many resources in one batch. */
#define VT_STORE_BATCH_MAX 1000

/* vt_store_resource_put_batch is vt_store_resource_put_policy (or _put, for an item
 * without a policy) of n (1..VT_STORE_BATCH_MAX) resources, all wrapped under kek_id, in
 * ONE transaction: every item is stored or none is. The checks of every item come first
 * (VT_E_INVAL, VT_E_LIMIT, and *ret_bad, which may be NULL, is the index of the first
 * bad item); then as for one put: VT_E_STALE if kek_id is no longer current and nothing
 * is written. A path given twice is written twice, the last one winning. */
int vt_store_resource_put_batch(struct vt_store *s, const char *kek_id,
                                const struct vt_resource_item *items, size_t n, int64_t now,
                                size_t *ret_bad, struct vt_diag *d);

/* vt_store_set_cache sets the page cache of the store's connection to kib KiB (SQLite:
 * PRAGMA cache_size; the default is SQLite's 2 MiB). A no-op for PostgreSQL, whose cache
 * is the server's. VT_E_INVAL for 0. Call it after open, before concurrent use. */
int vt_store_set_cache(struct vt_store *s, size_t kib, struct vt_diag *d);

/* vt_store_resource_get reads the resource at path: its kek_id into kek_id, and new
 * malloc'd copies of the wrapped key and the ciphertext into *wdek and *ct (at least one
 * byte allocated even when a length is 0), which the caller frees with free(). Outputs
 * are written only on success. VT_E_NOTFOUND if there is no such resource. */
int vt_store_resource_get(struct vt_store *s, const char *path, char kek_id[32], uint8_t **wdek,
                          size_t *wdek_len, uint8_t **ct, size_t *ct_len, struct vt_diag *d);

/* vt_store_release_get reads what a release needs of the resource at path, both from one
 * snapshot of the store (a policy changed in between cannot pair with the other key):
 * vt_store_resource_get's outputs, and a malloc'd copy of the resource's policy in
 * *ret_policy, or NULL when it has none (the caller frees it). Outputs are written only on
 * success. VT_E_NOTFOUND if there is no such resource. */
int vt_store_release_get(struct vt_store *s, const char *path, char kek_id[32], uint8_t **wdek,
                         size_t *wdek_len, uint8_t **ct, size_t *ct_len, char **ret_policy,
                         struct vt_diag *d);

/* vt_store_resource_delete deletes the resource at path and its policy, in one
 * transaction. VT_E_NOTFOUND if there is no such resource. */
int vt_store_resource_delete(struct vt_store *s, const char *path, struct vt_diag *d);

/* vt_store_resource_list calls cb for each resource (only those whose first segment is
 * repo_or_null, if given; a repo that is not a valid segment is VT_E_INVAL) in path
 * order (bytewise). The rows are read in one statement before the first call and cb
 * runs without the store's lock, so cb may call the store. A cb returning < 0 stops the
 * walk and its value is returned; otherwise 0. The meta is valid during the call only. */
int vt_store_resource_list(struct vt_store *s, const char *repo_or_null,
                           int (*cb)(const struct vt_resource_meta *m, void *ud), void *ud,
                           struct vt_diag *d);
/* vt_store_resource_page is vt_store_resource_list for one page: at most limit
 * (1..VT_STORE_PAGE_MAX) resources whose path comes after `after` (NULL: from the first;
 * else a valid resource path, which need not exist), in the same order; the next page
 * starts after the last path of this one. Through an index: its cost does not grow with
 * the number of resources. */
#define VT_STORE_PAGE_MAX 10000
int vt_store_resource_page(struct vt_store *s, const char *repo_or_null, const char *after,
                           size_t limit, int (*cb)(const struct vt_resource_meta *m, void *ud),
                           void *ud, struct vt_diag *d);

/* vt_store_resource_rewrap_all rotates the KEK: in one BEGIN IMMEDIATE transaction it
 * calls rewrap for every resource in path order with its path, kek_id and wrapped key
 * (borrowed), and stores the new wrapped key that rewrap returns in *ret_new (malloc'd,
 * 1 to VT_STORE_MAX_WDEK bytes; on a return >= 0 the store takes ownership and frees it,
 * even when it refuses the key; after a < 0 return it leaves *ret_new alone) with kek_id
 * new_kek_id (updated is not changed: the secret is the same). If rewrap returns < 0,
 * or returns an empty or oversized key, everything is rolled back, no resource changes,
 * and that error (VT_E_INVAL, VT_E_LIMIT for a bad key) is returned. On success the
 * number of resources is written to *ret_count (may be NULL). In the same transaction
 * new_kek_id becomes the current KEK (vt_store_kek_current; the generation grows by one),
 * so that no write sealed under the old KEK can follow it. rewrap runs with the store
 * locked and the database write lock held: it must not call the store, and other
 * writers wait (up to the busy timeout) until it has been called for every resource. */
int vt_store_resource_rewrap_all(struct vt_store *s, const char *new_kek_id,
                                 int (*rewrap)(const char *path, const char *kek_id,
                                               const uint8_t *wdek, size_t len, uint8_t **ret_new,
                                               size_t *ret_new_len, void *ud),
                                 void *ud, size_t *ret_count, struct vt_diag *d);

/*
 * The current KEK (schema version 4): one record, the id of the KEK under which data keys
 * are wrapped now, and a generation that each rotation bumps. See lib/store/keyring.h
 * for how the key files follow it.
 */

/* vt_store_kek_current reads the current KEK's id into ret_id and its generation into
 * *ret_generation (may be NULL). VT_E_NOTFOUND if none is recorded yet. */
int vt_store_kek_current(struct vt_store *s, char ret_id[32], int64_t *ret_generation,
                         struct vt_diag *d);

/* vt_store_kek_adopt records kek_id as the current KEK if none is recorded (generation
 * 1), in one transaction; ret_id receives the current KEK afterwards: kek_id, or the one
 * another process recorded first. */
int vt_store_kek_adopt(struct vt_store *s, const char *kek_id, char ret_id[32], struct vt_diag *d);

/* vt_store_kek_count counts the resources whose data key is wrapped under kek_id. */
int vt_store_kek_count(struct vt_store *s, const char *kek_id, size_t *ret, struct vt_diag *d);

/* vt_store_policy_set sets (or replaces) the release policy of the resource at path to
 * json (stored as given; the caller validates it). VT_E_NOTFOUND if the resource does
 * not exist, VT_E_LIMIT above VT_STORE_MAX_JSON. */
int vt_store_policy_set(struct vt_store *s, const char *path, const char *json, int64_t now,
                        struct vt_diag *d);

/* vt_store_policy_get returns a malloc'd copy of the policy of path in *ret_json (the
 * caller frees it). VT_E_NOTFOUND if the resource has no policy. */
int vt_store_policy_get(struct vt_store *s, const char *path, char **ret_json, struct vt_diag *d);

/* vt_refval_id_valid says whether id is a reference value id: 1 to 64 characters from
 * [A-Za-z0-9_.-]. Thread-safe. */
bool vt_refval_id_valid(const char *id);

/* vt_store_refval_add stores a reference value (json, stored as given) for tee (1 to 31
 * bytes) under id, replacing the value of an existing id (created becomes now).
 * VT_E_INVAL for a bad id or tee, VT_E_LIMIT above VT_STORE_MAX_JSON. */
int vt_store_refval_add(struct vt_store *s, const char *id, const char *tee, const char *json,
                        int64_t now, struct vt_diag *d);

/* vt_store_refval_delete deletes reference value id. VT_E_NOTFOUND if there is none. */
int vt_store_refval_delete(struct vt_store *s, const char *id, struct vt_diag *d);

/* vt_store_refval_list calls cb(id, tee, json, ud) for each reference value (only tee's,
 * if tee_or_null is given) in id order. As for vt_store_resource_list, the rows are read
 * first, cb runs unlocked and may call the store, and a cb returning < 0 stops the walk
 * with that value. The strings are valid during the call only. */
int vt_store_refval_list(struct vt_store *s, const char *tee_or_null,
                         int (*cb)(const char *id, const char *tee, const char *json, void *ud),
                         void *ud, struct vt_diag *d);

/* vt_store_refval_generation returns in *ret a counter that every change to the
 * reference values (add, replace, delete, by any process) increases, in the same
 * transaction as the change: a server reloads them only when it differs from the value
 * it last saw. It is 0 until the first change and never decreases. */
int vt_store_refval_generation(struct vt_store *s, int64_t *ret, struct vt_diag *d);

/*
 * The ledger (schema version 6): rows for lib/ledger, which owns their meaning. Entries
 * (canonical JSON text, one per index from 0 with no gap), the nodes of the Merkle tree
 * (node (level, index): the hash of the 2^level leaves from index * 2^level; level 0 holds
 * the leaf hashes), and signed tree heads by tree size. The store computes no hash: it
 * keeps what lib/ledger hands it and serialises appenders, also across processes.
 */
#define VT_STORE_MAX_ENTRY (64u * 1024u) /* one ledger entry */
#define VT_STORE_MAX_STH   (8u * 1024u)  /* one signed tree head */
#define VT_STORE_MAX_KIND  31u

/* A session marked attested in the transaction that appends a ledger entry (struct
 * vt_ledger_row's mark): what vt_store_session_attest takes, and its answer in result,
 * set when the append returns 0: 0 (marked), or VT_E_REPLAY, VT_E_EXPIRED, VT_E_BINDING
 * or VT_E_NOTFOUND as vt_store_session_attest would return them. The entry goes in
 * whatever the mark's result; an append that fails marks nothing. So a verdict's entry and
 * the session it attests are committed together, in one transaction instead of two. */
struct vt_store_session_mark {
        const char *id, *nonce;
        int64_t now;             /* the request's start, as for vt_store_session_attest */
        const char *claims_json; /* at most VT_STORE_MAX_JSON bytes */
        int64_t expires;
        int result;
};

/* vt_store_session_mark_valid: m has a session, a nonce and claims of at most
 * VT_STORE_MAX_JSON bytes (what an append with it requires). */
bool vt_store_session_mark_valid(const struct vt_store_session_mark *m);

struct vt_ledger_row {
        uint64_t index;
        int64_t time;      /* milliseconds since the epoch */
        const char *kind;  /* 1..VT_STORE_MAX_KIND bytes: "attest", "release", ... */
        const char *entry; /* the entry's canonical JSON, entry_len bytes */
        size_t entry_len;
        struct vt_store_session_mark *mark; /* NULL: none */
};

struct vt_ledger_hash {
        unsigned level; /* 0..63 */
        uint64_t index;
        uint8_t hash[32];
};

/* A signed tree head to record with the entries that make it (vt_store_ledger_append_sth). */
struct vt_ledger_sth {
        uint64_t size;   /* the tree's size after the append: expect_size + n */
        int64_t time;    /* ms, when it was signed */
        const char *sth; /* its text, at most VT_STORE_MAX_STH bytes */
};

/* vt_store_ledger_append appends n entries (rows[i].index must be expect_size + i) and
 * the m tree nodes they complete, in one BEGIN IMMEDIATE transaction committed with
 * synchronous=FULL (durable when it returns 0). If the ledger does not hold exactly
 * expect_size entries when the transaction starts (another process appended), nothing
 * is written and VT_E_STALE is returned: reload the tree's right edge and retry.
 * VT_E_INVAL for an index, kind or node out of place, VT_E_LIMIT for an entry above
 * VT_STORE_MAX_ENTRY. All borrowed. */
int vt_store_ledger_append(struct vt_store *s, uint64_t expect_size,
                           const struct vt_ledger_row *rows, size_t n,
                           const struct vt_ledger_hash *nodes, size_t m, struct vt_diag *d);

/* vt_store_ledger_append_sth is vt_store_ledger_append that also records the signed
 * tree head sth (NULL: none) of the tree these entries complete, in the same synced
 * transaction (as vt_store_ledger_sth_put would, a head of that size already recorded
 * being kept): one sync for both. sth->size must be expect_size + n. */
int vt_store_ledger_append_sth(struct vt_store *s, uint64_t expect_size,
                               const struct vt_ledger_row *rows, size_t n,
                               const struct vt_ledger_hash *nodes, size_t m,
                               const struct vt_ledger_sth *sth, struct vt_diag *d);

/* vt_store_ledger_append_unsynced is vt_store_ledger_append committed but not synced: the
 * entries are visible to every connection and survive a crash of the process (they are
 * in the operating system's cache), not yet a power cut. vt_store_ledger_sync, a synced
 * append or tree head, or a checkpoint makes them durable. On PostgreSQL every commit is
 * durable as the server's synchronous_commit makes it, so this is vt_store_ledger_append
 * there. A tree head is never recorded this way. */
int vt_store_ledger_append_unsynced(struct vt_store *s, uint64_t expect_size,
                                    const struct vt_ledger_row *rows, size_t n,
                                    const struct vt_ledger_hash *nodes, size_t m,
                                    struct vt_diag *d);

/* vt_store_ledger_sync makes every ledger append committed so far durable (on SQLite, a
 * sync of the WAL; nothing to do on PostgreSQL). */
int vt_store_ledger_sync(struct vt_store *s, struct vt_diag *d);

/* vt_store_ledger_size returns the number of entries (the next index) in *ret. */
int vt_store_ledger_size(struct vt_store *s, uint64_t *ret, struct vt_diag *d);

/* vt_store_ledger_node reads node (level, index) into ret. VT_E_NOTFOUND if absent. */
int vt_store_ledger_node(struct vt_store *s, unsigned level, uint64_t index, uint8_t ret[static 32],
                         struct vt_diag *d);

/* vt_store_ledger_entries calls cb for each entry with start <= index < end, in index
 * order. At most 10,000 rows a call (VT_E_LIMIT above): callers page. As for the lists,
 * the rows are read first and cb runs unlocked; a cb returning < 0 stops the walk with
 * that value. Rows are valid during the call only. */
int vt_store_ledger_entries(struct vt_store *s, uint64_t start, uint64_t end,
                            int (*cb)(const struct vt_ledger_row *row, void *ud), void *ud,
                            struct vt_diag *d);
#define VT_STORE_LEDGER_PAGE 10000u

/* vt_store_ledger_sth_put records the signed tree head sth (text, at most
 * VT_STORE_MAX_STH bytes) of the tree of size entries, signed at time (ms), synced
 * like an append. A tree head of that size recorded before (by another replica) is kept:
 * the call succeeds and changes nothing. */
int vt_store_ledger_sth_put(struct vt_store *s, uint64_t size, int64_t time, const char *sth,
                            struct vt_diag *d);

/* vt_store_ledger_sth_latest returns the tree head of the largest size: its size in
 * *ret_size and a malloc'd copy in *ret_sth. VT_E_NOTFOUND if none was signed yet. */
int vt_store_ledger_sth_latest(struct vt_store *s, uint64_t *ret_size, char **ret_sth,
                               struct vt_diag *d);

/* vt_store_ledger_sths calls cb for at most max tree heads of size >= from_size, in size
 * order (rows read first, cb unlocked, < 0 stops the walk with that value). */
int vt_store_ledger_sths(struct vt_store *s, uint64_t from_size, size_t max,
                         int (*cb)(uint64_t size, int64_t time, const char *sth, void *ud),
                         void *ud, struct vt_diag *d);

#endif
