/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store on SQLite (store.h): WAL mode, a busy timeout, a schema migrated forward on
 * open, and every value bound as a parameter. Several processes may open the same file;
 * in one process a struct vt_store is shared by all threads.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util/macro.h"
#include "veritee/veritee.h"

/* How long a statement waits for another connection's lock before SQLITE_BUSY. */
#define STORE_BUSY_TIMEOUT_MS 5000

/*
 * The schema, one step per version: migrations[i] takes a database from version i to
 * version i + 1, and PRAGMA user_version records how far a database has come. Steps are
 * append-only: a step that has shipped is never edited, a change is a new step (see
 * docs/store.md).
 */
static const char *const migrations[] = {
        /* 1: attestation sessions (challenge nonces, single use). */
        "CREATE TABLE sessions ("
        "id TEXT PRIMARY KEY NOT NULL,"
        "tee TEXT NOT NULL,"
        "nonce TEXT NOT NULL,"
        "created INTEGER NOT NULL,"
        "expires INTEGER NOT NULL,"
        "state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2))"
        ");"
        "CREATE INDEX sessions_expires ON sessions (expires);",
};

#define SCHEMA_VERSION ((int)ELEMENTSOF(migrations))

struct vt_store {
        sqlite3 *db;
        /* Held for every operation: a transaction spans several calls on the one
         * connection, and sqlite3_changes/sqlite3_errmsg must describe our statement,
         * not another thread's. SQLITE_OPEN_FULLMUTEX alone gives neither. */
        pthread_mutex_t lock;
};

static void stmt_finalizep(sqlite3_stmt **p)
{
        sqlite3_finalize(*p); /* accepts NULL */
}
#define _cleanup_stmt_ _cleanup_(stmt_finalizep)

static int store_fail(struct vt_store *s, struct vt_diag *d, const char *what)
{
        return vt_diag_set(d, VT_E_STORE, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int prepare(struct vt_store *s, const char *sql, sqlite3_stmt **ret, struct vt_diag *d)
{
        if (sqlite3_prepare_v2(s->db, sql, -1, ret, NULL) != SQLITE_OK)
                return store_fail(s, d, "prepare");
        return 0;
}

/* exec runs constant SQL (no values in it: those are always bound). */
static int exec(struct vt_store *s, const char *sql, const char *what, struct vt_diag *d)
{
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return store_fail(s, d, what);
        return 0;
}

static int tx_begin(struct vt_store *s, struct vt_diag *d)
{
        /* IMMEDIATE takes the write lock now (waiting up to the busy timeout), so that
         * what we read inside the transaction cannot change before we write. */
        return exec(s, "BEGIN IMMEDIATE", "begin transaction", d);
}

/* tx_end commits if r is 0, else rolls back; returns r or the commit error. */
static int tx_end(struct vt_store *s, int r, struct vt_diag *d)
{
        if (r == 0)
                r = exec(s, "COMMIT", "commit", d);
        /* Some errors (SQLITE_FULL, SQLITE_IOERR ...) already ended the transaction. */
        if (r < 0 && !sqlite3_get_autocommit(s->db))
                (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

/* step_one steps a statement that yields exactly one row (a count, a pragma). */
static int step_one(struct vt_store *s, sqlite3_stmt *st, const char *what, struct vt_diag *d)
{
        if (sqlite3_step(st) != SQLITE_ROW)
                return store_fail(s, d, what);
        return 0;
}

static int step_done(struct vt_store *s, sqlite3_stmt *st, const char *what, struct vt_diag *d)
{
        if (sqlite3_step(st) != SQLITE_DONE)
                return store_fail(s, d, what);
        return 0;
}

static int read_user_version(struct vt_store *s, int *ret, struct vt_diag *d)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "PRAGMA user_version", &st, d);
        if (r < 0)
                return r;
        r = step_one(s, st, "read schema version", d);
        if (r < 0)
                return r;
        *ret = sqlite3_column_int(st, 0);
        return 0;
}

static int check_version(int v, struct vt_diag *d)
{
        if (v < 0)
                return vt_diag_set(d, VT_E_STORE, "store: schema version %d is invalid", v);
        if (v > SCHEMA_VERSION)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "store: schema version %d is newer than this veritee "
                                   "supports (%d); upgrade veritee or use another database",
                                   v, SCHEMA_VERSION);
        return 0;
}

/* migrate_tx runs inside BEGIN IMMEDIATE: the version is read again there, because
 * another process may have migrated between our first look and our write lock. */
static int migrate_tx(struct vt_store *s, struct vt_diag *d)
{
        int v, r = read_user_version(s, &v, d);
        if (r < 0)
                return r;
        r = check_version(v, d);
        if (r < 0 || v == SCHEMA_VERSION)
                return r;
        for (int i = v; i < SCHEMA_VERSION; i++)
                if (sqlite3_exec(s->db, migrations[i], NULL, NULL, NULL) != SQLITE_OK)
                        return vt_diag_set(d, VT_E_STORE,
                                           "store: migration to schema version %d: %s", i + 1,
                                           sqlite3_errmsg(s->db));
        /* PRAGMA takes no parameters; the number is ours, not input. */
        char sql[48];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
        return exec(s, sql, "write schema version", d);
}

static int migrate(struct vt_store *s, struct vt_diag *d)
{
        int v, r = read_user_version(s, &v, d);
        if (r < 0)
                return r;
        r = check_version(v, d);
        if (r < 0 || v == SCHEMA_VERSION)
                return r; /* the common case takes no write lock */
        r = tx_begin(s, d);
        if (r < 0)
                return r;
        return tx_end(s, migrate_tx(s, d), d);
}

/* set_wal switches the database to WAL. The switch needs an exclusive lock and SQLite
 * refuses it with SQLITE_BUSY without calling the busy handler when another connection
 * holds a lock (e.g. several processes opening a fresh file at once), so we retry
 * here, for as long as the busy timeout. */
static int set_wal(struct vt_store *s, struct vt_diag *d)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "PRAGMA journal_mode = WAL", &st, d);
        if (r < 0)
                return r;
        int rc;
        for (int waited = 0;; waited += 5) {
                rc = sqlite3_step(st);
                if ((rc & 0xff) != SQLITE_BUSY || waited >= STORE_BUSY_TIMEOUT_MS)
                        break;
                sqlite3_reset(st);
                sqlite3_sleep(5);
        }
        if (rc != SQLITE_ROW)
                return store_fail(s, d, "set journal_mode=WAL");
        /* The mode is persistent; the pragma answers with the mode in force. */
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (!mode || strcmp(mode, "wal") != 0)
                return vt_diag_set(d, VT_E_STORE,
                                   "store: journal_mode is %s, WAL required "
                                   "(a local file system is needed)",
                                   mode ? mode : "unknown");
        return 0;
}

static int configure(struct vt_store *s, struct vt_diag *d)
{
        if (sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
                return store_fail(s, d, "busy timeout");
        /* WAL: readers never block the writer, and any number of processes on one host
         * can share the file (WAL needs shared memory, so a local file system). */
        int r = set_wal(s, d);
        if (r < 0)
                return r;
        /* NORMAL in WAL mode: never corrupts; a power cut may lose the last commits. */
        r = exec(s, "PRAGMA synchronous = NORMAL", "set synchronous=NORMAL", d);
        if (r < 0)
                return r;
        return exec(s, "PRAGMA foreign_keys = ON", "set foreign_keys=ON", d);
}

void vt_store_close(struct vt_store *s)
{
        if (!s)
                return;
        /* v2: closes even if a statement were left unfinalized (none should be). */
        sqlite3_close_v2(s->db);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_store *, vt_store_close)

int vt_store_open(const char *path, struct vt_store **ret, struct vt_diag *d)
{
        if (!path || !*path || !ret)
                return vt_diag_set(d, VT_E_INVAL, "store: a database path and ret are required");

        /* Create the file ourselves so that it is 0600 whatever the umask; SQLite gives
         * its -wal and -shm files the same mode as the database. An existing file keeps
         * the mode the operator gave it. The parent directory must exist. */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                int e = errno;
                return vt_diag_set(d, VT_E_STORE, "store: open %s: %s", path, strerror(e));
        }
        close(fd);

        _cleanup_(vt_store_closep) struct vt_store *s = calloc(1, sizeof(*s));
        if (!s)
                return vt_diag_set(d, VT_E_NOMEM, "store: out of memory");
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
                free(TAKE_PTR(s));
                return vt_diag_set(d, VT_E_NOMEM, "store: mutex");
        }
        int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK)
                return vt_diag_set(d, VT_E_STORE, "store: open %s: %s", path,
                                   s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sqlite3_extended_result_codes(s->db, 1);

        int r = configure(s, d);
        if (r < 0)
                return r;
        r = migrate(s, d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int vt_store_schema_version(struct vt_store *s, int *ret)
{
        if (!s || !ret)
                return VT_E_INVAL;
        int v;
        pthread_mutex_lock(&s->lock);
        int r = read_user_version(s, &v, NULL);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int ping_locked(struct vt_store *s)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* Touch the schema, not just the library: a missing or locked-out file fails. */
        int r = prepare(s, "SELECT count(*) FROM sqlite_master", &st, NULL);
        if (r < 0)
                return r;
        return step_one(s, st, "ping", NULL);
}

int vt_store_ping(struct vt_store *s)
{
        if (!s)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = ping_locked(s);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* text_fits: s is NUL-terminated within a field of size n. */
static bool text_fits(const char *s, size_t n)
{
        return strnlen(s, n) < n;
}

static bool state_valid(int st)
{
        return st >= VT_SESSION_AUTHED && st <= VT_SESSION_ATTESTED;
}

static int count_live_locked(struct vt_store *s, int64_t now, size_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT count(*) FROM sessions WHERE expires > ?1", &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now);
        r = step_one(s, st, "count sessions", NULL);
        if (r < 0)
                return r;
        sqlite3_int64 n = sqlite3_column_int64(st, 0);
        if (n < 0)
                return VT_E_STORE;
        *ret = (size_t)n;
        return 0;
}

/* session_create_tx runs inside BEGIN IMMEDIATE: no other connection can insert
 * between the count and the insert. */
static int session_create_tx(struct vt_store *s, const struct vt_session *sess, int64_t now,
                             size_t max_live)
{
        size_t live;
        int r = count_live_locked(s, now, &live);
        if (r < 0)
                return r;
        if (live >= max_live)
                return VT_E_LIMIT;

        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = prepare(s,
                    "INSERT INTO sessions (id, tee, nonce, created, expires, state) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, sess->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sess->tee, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, sess->nonce, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, sess->created);
        sqlite3_bind_int64(st, 5, sess->expires);
        sqlite3_bind_int(st, 6, (int)sess->state);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                return VT_E_INVAL; /* a session with this id exists */
        if (rc != SQLITE_DONE)
                return VT_E_STORE;
        return 0;
}

int vt_store_session_create(struct vt_store *s, const struct vt_session *sess, int64_t now,
                            size_t max_live)
{
        if (!s || !sess || !text_fits(sess->id, sizeof(sess->id)) || !sess->id[0] ||
            !text_fits(sess->tee, sizeof(sess->tee)) ||
            !text_fits(sess->nonce, sizeof(sess->nonce)) || !state_valid((int)sess->state))
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = tx_begin(s, NULL);
        if (r == 0)
                r = tx_end(s, session_create_tx(s, sess, now, max_live), NULL);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* copy_text copies a column into a fixed field; a value that does not fit was not
 * written by us, so the row is reported as a store error rather than truncated. */
static int copy_text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
        const unsigned char *v = sqlite3_column_text(st, col);
        int len = sqlite3_column_bytes(st, col);
        if (!v || len < 0 || (size_t)len >= n)
                return VT_E_STORE;
        memcpy(dst, v, (size_t)len);
        dst[len] = 0;
        return 0;
}

static int session_get_locked(struct vt_store *s, const char *id, struct vt_session *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "SELECT id, tee, nonce, created, expires, state FROM sessions "
                        "WHERE id = ?1",
                        &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return VT_E_NOTFOUND;
        if (rc != SQLITE_ROW)
                return VT_E_STORE;

        struct vt_session out = {0};
        if (copy_text(st, 0, out.id, sizeof(out.id)) < 0 ||
            copy_text(st, 1, out.tee, sizeof(out.tee)) < 0 ||
            copy_text(st, 2, out.nonce, sizeof(out.nonce)) < 0)
                return VT_E_STORE;
        out.created = sqlite3_column_int64(st, 3);
        out.expires = sqlite3_column_int64(st, 4);
        int state = sqlite3_column_int(st, 5);
        if (!state_valid(state))
                return VT_E_STORE;
        out.state = (enum vt_session_state)state;
        *ret = out;
        return 0;
}

int vt_store_session_get(struct vt_store *s, const char *id, int64_t now, struct vt_session *ret)
{
        if (!s || !id || !ret)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_get_locked(s, id, ret);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        return ret->expires > now ? 0 : VT_E_EXPIRED;
}

/* claim_classify says why a claim changed nothing. */
static int claim_classify(struct vt_store *s, const char *id, const char *nonce, int64_t now)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT state, expires, nonce = ?2 FROM sessions WHERE id = ?1", &st,
                        NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return VT_E_NOTFOUND;
        if (rc != SQLITE_ROW)
                return VT_E_STORE;
        if (sqlite3_column_int64(st, 1) <= now)
                return VT_E_EXPIRED;
        if (sqlite3_column_int(st, 2) != 1)
                return VT_E_BINDING;
        if (sqlite3_column_int(st, 0) != VT_SESSION_AUTHED)
                return VT_E_REPLAY;
        /* Unreachable unless the row changed between the two statements (another
         * process): the claim did not happen, so the nonce counts as used. */
        return VT_E_REPLAY;
}

static int session_claim_locked(struct vt_store *s, const char *id, const char *nonce, int64_t now)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* One statement decides: SQLite runs it under the database write lock, so of
         * any number of claimers in any number of processes exactly one sees a change. */
        int r = prepare(s,
                        "UPDATE sessions SET state = 1 "
                        "WHERE id = ?1 AND state = 0 AND expires > ?2 AND nonce = ?3",
                        &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, nonce, -1, SQLITE_STATIC);
        r = step_done(s, st, "claim session", NULL);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 1)
                return 0;
        return claim_classify(s, id, nonce, now);
}

int vt_store_session_claim(struct vt_store *s, const char *id, const char *nonce, int64_t now)
{
        if (!s || !id || !nonce)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_claim_locked(s, id, nonce, now);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int session_set_state_locked(struct vt_store *s, const char *id, int state)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "UPDATE sessions SET state = ?2 WHERE id = ?1", &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, state);
        r = step_done(s, st, "set session state", NULL);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) == 1 ? 0 : VT_E_NOTFOUND;
}

int vt_store_session_set_state(struct vt_store *s, const char *id, enum vt_session_state st)
{
        if (!s || !id || !state_valid((int)st))
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_set_state_locked(s, id, (int)st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int vt_store_session_count_live(struct vt_store *s, int64_t now, size_t *ret)
{
        if (!s || !ret)
                return VT_E_INVAL;
        size_t n;
        pthread_mutex_lock(&s->lock);
        int r = count_live_locked(s, now, &n);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

static int sweep_locked(struct vt_store *s, int64_t now, size_t *ret_n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* Expired means expires <= now: exactly the sessions count_live leaves out. */
        int r = prepare(s, "DELETE FROM sessions WHERE expires <= ?1", &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now);
        r = step_done(s, st, "sweep sessions", NULL);
        if (r < 0)
                return r;
        *ret_n = (size_t)sqlite3_changes(s->db);
        return 0;
}

int vt_store_sweep(struct vt_store *s, int64_t now, size_t *ret_n)
{
        if (!s)
                return VT_E_INVAL;
        size_t n;
        pthread_mutex_lock(&s->lock);
        int r = sweep_locked(s, now, &n);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = n;
        return 0;
}
