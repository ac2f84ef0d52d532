/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: durable state shared by every veriteed replica. One interface; the
 * embedded back end is SQLite in WAL mode (sqlite.c). Thread-safe: one store may be
 * used from many threads. Times are seconds since the epoch, passed in by the caller.
 */
#ifndef VT_STORE_STORE_H
#define VT_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "veritee/veritee.h"

struct vt_store;

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
};

/* vt_store_open opens (creating if needed) the SQLite database at path, sets WAL mode
 * and a busy timeout, and migrates the schema to the current version inside one
 * transaction. A database from a newer veritee is refused (VT_E_UNSUPPORTED). */
int vt_store_open(const char *path, struct vt_store **ret, struct vt_diag *d);
void vt_store_close(struct vt_store *s);

/* vt_store_schema_version returns the schema version of the open database. */
int vt_store_schema_version(struct vt_store *s, int *ret);

/* vt_store_ping checks that the database answers (for /readyz). */
int vt_store_ping(struct vt_store *s);

/* vt_store_session_create inserts a new session unless max_live sessions (not yet
 * expired at now) already exist: then VT_E_LIMIT and nothing is written. */
int vt_store_session_create(struct vt_store *s, const struct vt_session *sess, int64_t now,
                            size_t max_live);

/* vt_store_session_get reads a session: VT_E_NOTFOUND if absent, VT_E_EXPIRED if
 * expired at now (*ret is filled in both the success and the expired case). */
int vt_store_session_get(struct vt_store *s, const char *id, int64_t now, struct vt_session *ret);

/* vt_store_session_claim atomically moves a live AUTHED session whose nonce equals
 * nonce to CLAIMED, so that a nonce is used at most once, across threads and
 * processes. Errors: VT_E_NOTFOUND (no session), VT_E_EXPIRED, VT_E_BINDING (nonce
 * differs; the session is left as it was), VT_E_REPLAY (nonce already used). */
int vt_store_session_claim(struct vt_store *s, const char *id, const char *nonce, int64_t now);

/* vt_store_session_set_state sets the state of a session (e.g. ATTESTED). */
int vt_store_session_set_state(struct vt_store *s, const char *id, enum vt_session_state st);

/* vt_store_session_count_live counts sessions not expired at now. */
int vt_store_session_count_live(struct vt_store *s, int64_t now, size_t *ret);

/* vt_store_sweep deletes sessions expired before now; returns how many in *ret_n. */
int vt_store_sweep(struct vt_store *s, int64_t now, size_t *ret_n);

#endif
