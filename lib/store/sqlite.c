/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store on SQLite (store.h): WAL mode, a busy timeout, a schema migrated forward on
 * open, and every value bound as a parameter. Several processes may open the same file;
 * in one process a struct vt_store is shared by all threads.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "store/store.h"
#include "store/store_impl.h"
#include "store/walvfs.h"

#include <assert.h>
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

        /* 2: secret release. Resources hold sealed blobs only (a wrapped data key and a
         * ciphertext); the CHECKs keep a row as the store writes it. A policy goes with
         * its resource. Reference values carry a generation counter that triggers bump
         * in the same transaction as any change, whoever makes it. */
        "CREATE TABLE resources ("
        "path TEXT PRIMARY KEY NOT NULL,"
        "repo TEXT NOT NULL CHECK (repo = substr(path, 1, instr(path, '/') - 1)),"
        "kek_id TEXT NOT NULL,"
        "wrapped_dek BLOB NOT NULL CHECK (typeof(wrapped_dek) = 'blob'),"
        "ciphertext BLOB NOT NULL CHECK (typeof(ciphertext) = 'blob'),"
        "size INTEGER NOT NULL CHECK (size >= 0),"
        "created INTEGER NOT NULL,"
        "updated INTEGER NOT NULL"
        ");"
        "CREATE INDEX resources_repo ON resources (repo);"
        "CREATE TABLE policies ("
        "path TEXT PRIMARY KEY NOT NULL REFERENCES resources (path) ON DELETE CASCADE,"
        "policy TEXT NOT NULL,"
        "updated INTEGER NOT NULL"
        ");"
        "CREATE TABLE refvals ("
        "id TEXT PRIMARY KEY NOT NULL,"
        "tee TEXT NOT NULL,"
        "value TEXT NOT NULL,"
        "created INTEGER NOT NULL"
        ");"
        "CREATE INDEX refvals_tee ON refvals (tee);"
        "CREATE TABLE generations ("
        "name TEXT PRIMARY KEY NOT NULL,"
        "value INTEGER NOT NULL"
        ");"
        "INSERT INTO generations (name, value) VALUES ('refvals', 0);"
        "CREATE TRIGGER refvals_insert AFTER INSERT ON refvals BEGIN "
        "UPDATE generations SET value = value + 1 WHERE name = 'refvals'; END;"
        "CREATE TRIGGER refvals_update AFTER UPDATE ON refvals BEGIN "
        "UPDATE generations SET value = value + 1 WHERE name = 'refvals'; END;"
        "CREATE TRIGGER refvals_delete AFTER DELETE ON refvals BEGIN "
        "UPDATE generations SET value = value + 1 WHERE name = 'refvals'; END;",

        /* 3: the claims of a session's attestation token, so that a guest holding only the
         * session cookie can fetch resources. Claims, not the token: a stolen database
         * yields no bearer credential. */
        "ALTER TABLE sessions ADD COLUMN claims TEXT;",

        /* 4: the current key-encryption key: one row (id 1) naming the KEK that data keys
         * must be wrapped under now, and a generation that each rotation bumps. A resource
         * write checks it in its own transaction and a rotation changes it in the
         * transaction that rewraps every data key, so that nothing is ever written under a
         * retired KEK. Empty until a server or a rotation adopts secrets.kek_file. */
        "CREATE TABLE kek ("
        "id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),"
        "current TEXT NOT NULL CHECK (length(current) BETWEEN 1 AND 31),"
        "generation INTEGER NOT NULL"
        ");",

        /* 5: open sessions (challenge issued, nonce unused) are what the limits count,
         * overall and per client address: a partial index each, so that a count never
         * walks the spent sessions. */
        "ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT '';"
        "CREATE INDEX sessions_open ON sessions (expires) WHERE state = 0;"
        "CREATE INDEX sessions_open_client ON sessions (client, expires) WHERE state = 0;",

        /* 6: the ledger (lib/ledger): entries by index (canonical JSON text), the nodes of
         * its Merkle tree (level 0: the leaf hashes), and signed tree heads by size. The
         * CHECKs keep rows as the store writes them; the hashes are lib/ledger's and an
         * audit recomputes them from the entries. */
        "CREATE TABLE ledger_entries ("
        "idx INTEGER PRIMARY KEY NOT NULL CHECK (idx >= 0),"
        "time INTEGER NOT NULL,"
        "kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 31),"
        "entry TEXT NOT NULL"
        ");"
        "CREATE TABLE ledger_nodes ("
        "level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),"
        "idx INTEGER NOT NULL CHECK (idx >= 0),"
        "hash BLOB NOT NULL CHECK (typeof(hash) = 'blob' AND length(hash) = 32),"
        "PRIMARY KEY (level, idx)"
        ") WITHOUT ROWID;"
        "CREATE TABLE ledger_sths ("
        "size INTEGER PRIMARY KEY NOT NULL CHECK (size >= 0),"
        "time INTEGER NOT NULL,"
        "sth TEXT NOT NULL"
        ");",

        /* 7: a repository's page of resources (WHERE repo = ? AND path > ? ORDER BY path
         * LIMIT n) walks (repo, path) in order and stops after n rows, instead of
         * collecting and sorting the whole repository; it also serves what
         * resources_repo (repo) did, which goes (one index less to write per put). */
        ("CREATE INDEX resources_repo_path ON resources (repo, path);"
         "DROP INDEX resources_repo;"),

        /* 8: an entry's leaf hash (its node at level 0) in the entry's own row: one row
         * and one B-tree insert less per append. Rows appended before keep theirs in
         * ledger_nodes (leaf NULL), where a read of level 0 still finds them. */
        ("ALTER TABLE ledger_entries ADD COLUMN leaf BLOB "
         "CHECK (leaf IS NULL OR (typeof(leaf) = 'blob' AND length(leaf) = 32));"),

        /* 9: the inner nodes an entry completes in the entry's own row: appending entry i
         * completes the nodes of levels 1..t, t the number of trailing one bits of i, and
         * nodes holds their hashes in that order, 32 bytes each (NULL when t is 0). A
         * group's nodes so go into the rows it writes anyway, instead of a ledger_nodes
         * row each: one B-tree insert less per entry, and no WAL page per level the group
         * reaches. Rows appended before keep theirs in ledger_nodes, where a read still
         * finds them. */
        ("ALTER TABLE ledger_entries ADD COLUMN nodes BLOB "
         "CHECK (nodes IS NULL OR (typeof(nodes) = 'blob' AND length(nodes) % 32 = 0 AND "
         "length(nodes) BETWEEN 32 AND 2016));"),

        /* 10: sessions rebuilt, with the same columns, rows (rowids kept) and indexes; only
         * the CHECK on state changes, from IN (0, 1, 2) to three equalities, which accept
         * exactly the same values (the column's INTEGER affinity applies first). SQLite
         * evaluates a CHECK's IN list through an ephemeral B-tree that it opens, fills and
         * closes on every INSERT and UPDATE of a row: two per attestation, about 2 % of the
         * server's CPU per release. Three comparisons cost nothing. No other table's CHECK
         * holds an IN list. */
        ("CREATE TABLE sessions_v10 ("
         "id TEXT PRIMARY KEY NOT NULL,"
         "tee TEXT NOT NULL,"
         "nonce TEXT NOT NULL,"
         "created INTEGER NOT NULL,"
         "expires INTEGER NOT NULL,"
         "state INTEGER NOT NULL DEFAULT 0 CHECK (state = 0 OR state = 1 OR state = 2),"
         "claims TEXT,"
         "client TEXT NOT NULL DEFAULT ''"
         ");"
         "INSERT INTO sessions_v10 (rowid, id, tee, nonce, created, expires, state, claims, "
         "client) SELECT rowid, id, tee, nonce, created, expires, state, claims, client "
         "FROM sessions;"
         "DROP TABLE sessions;"
         "ALTER TABLE sessions_v10 RENAME TO sessions;"
         "CREATE INDEX sessions_expires ON sessions (expires);"
         "CREATE INDEX sessions_open ON sessions (expires) WHERE state = 0;"
         "CREATE INDEX sessions_open_client ON sessions (client, expires) WHERE state = 0;"),

        /* 11: sessions_open dropped. The count of all open sessions walks
         * sessions_open_client instead (count_open_locked), which holds the same rows, by
         * client first: a count of them all reads either index whole (sessions_open's range
         * expires > now was every open session but the few expired ones not yet swept).
         * Every session entered that index at its INSERT and left it at the UPDATE that
         * claims its nonce: a WAL page each, two of the fifteen a flow writes. */
        "DROP INDEX sessions_open;",
};

#define SCHEMA_VERSION ((int)ELEMENTSOF(migrations))

/* The interface's base is the first member: a struct vt_store * of this back end is its
 * struct vt_sqlite *. */
struct vt_sqlite {
        struct vt_store base; /* first: the interface (store_impl.h) */
        sqlite3 *db;
        /* Held for every operation: a transaction spans several calls on the one
         * connection, and sqlite3_changes/sqlite3_errmsg must describe our statement,
         * not another thread's. SQLITE_OPEN_FULLMUTEX alone gives neither. */
        pthread_mutex_t lock;
        /* The SQLite failure of the operation in progress (under lock), for its diag:
         * the first failing call's extended result code and message. */
        int err_code;
        char err_msg[256];
        /* The ledger's appends run on this connection, under lock, as everything else
         * does: their statements are prepared by the first append (ledger_ready) and kept.
         * One connection, so that no commit of another connection in this process empties
         * this one's page cache (SQLite drops a connection's whole cache when it finds
         * that the WAL changed under it: with the ledger on a second connection, every
         * session read after an append read its pages from the file again). An append is
         * synced after its commit, outside the lock (wal_sync_prepare, wal_sync_file), so
         * that sessions and reads go on during the sync. path: the checkpointer's. */
        char *path;
        sqlite3_stmt *l_begin, *l_commit, *l_size, *l_entry, *l_node, *l_sth;
        /* this connection's WAL was synced once, under lock (wal_sync_prepare) */
        bool wal_synced;
        /* The ledger's checkpointer, started by the first append (see ledger_ckpt). */
        struct ledger_ckpt *ck;
        /* The statements of the per-request path (sessions, resource and policy reads,
         * BEGIN and COMMIT), prepared once per connection and reset after each use under
         * lock: compiling them again for every request cost more than running them. */
        struct {
                const char *sql;
                sqlite3_stmt *st;
        } kept[24];
        size_t n_kept;
};

static struct vt_sqlite *sq_of(struct vt_store *base)
{
        return (struct vt_sqlite *)base;
}

static void stmt_finalizep(sqlite3_stmt **p)
{
        sqlite3_finalize(*p); /* accepts NULL */
}
#define _cleanup_stmt_ _cleanup_(stmt_finalizep)

/* sqlite_code_name names the primary result code of rc, so that an operator tells a
 * busy database (SQLITE_BUSY: another connection holds the write lock past the busy
 * timeout) from a full disk (SQLITE_FULL) or an I/O error (SQLITE_IOERR). */
static const char *sqlite_code_name(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_BUSY:
                return "SQLITE_BUSY";
        case SQLITE_LOCKED:
                return "SQLITE_LOCKED";
        case SQLITE_FULL:
                return "SQLITE_FULL";
        case SQLITE_IOERR:
                return "SQLITE_IOERR";
        case SQLITE_READONLY:
                return "SQLITE_READONLY";
        case SQLITE_CORRUPT:
                return "SQLITE_CORRUPT";
        case SQLITE_NOTADB:
                return "SQLITE_NOTADB";
        case SQLITE_CANTOPEN:
                return "SQLITE_CANTOPEN";
        case SQLITE_CONSTRAINT:
                return "SQLITE_CONSTRAINT";
        case SQLITE_TOOBIG:
                return "SQLITE_TOOBIG";
        case SQLITE_NOMEM:
                return "SQLITE_NOMEM";
        default:
                return "SQLITE_ERROR";
        }
}

/* store_fail records the connection's last error (the first of the operation) for
 * sq_diag and returns VT_E_STORE, with the reason in d when it is given. */
static int store_fail(struct vt_sqlite *s, struct vt_diag *d, const char *what)
{
        int rc = sqlite3_extended_errcode(s->db);
        if (!s->err_code) {
                s->err_code = rc ? rc : SQLITE_ERROR;
                snprintf(s->err_msg, sizeof(s->err_msg), "%s: %s", what, sqlite3_errmsg(s->db));
        }
        return vt_diag_set(d, VT_E_STORE, "store: %s: %s (%s)", what, sqlite3_errmsg(s->db),
                           sqlite_code_name(rc));
}

/* sq_diag ends an operation (under lock): a SQLite failure during it goes into d with
 * the name of its result code, and the record is cleared for the next one. */
static int sq_diag(struct vt_sqlite *s, int r, const char *op, struct vt_diag *d)
{
        if (r < 0 && s->err_code)
                vt_diag_set(d, r, "store: %s: %s (%s)", op, s->err_msg,
                            sqlite_code_name(s->err_code));
        s->err_code = 0;
        s->err_msg[0] = 0;
        return r;
}

static int prepare(struct vt_sqlite *s, const char *sql, sqlite3_stmt **ret, struct vt_diag *d)
{
        if (sqlite3_prepare_v2(s->db, sql, -1, ret, NULL) != SQLITE_OK)
                return store_fail(s, d, "prepare");
        return 0;
}

static void stmt_resetp(sqlite3_stmt **p)
{
        if (*p) {
                sqlite3_reset(*p);
                sqlite3_clear_bindings(*p); /* no pointer into the caller's memory stays */
        }
}
#define _cleanup_reset_ _cleanup_(stmt_resetp)

/* prepare_reused: the statement for sql (constant SQL, under lock) kept on this
 * connection, prepared on first use; the caller resets it (_cleanup_reset_) and never
 * finalizes it. The table holds every SQL text passed here (a new one past its size is a
 * store error, which the tests would show at once). */
static int prepare_reused(struct vt_sqlite *s, const char *sql, sqlite3_stmt **ret)
{
        for (size_t i = 0; i < s->n_kept; i++)
                if (s->kept[i].sql == sql || strcmp(s->kept[i].sql, sql) == 0) {
                        *ret = s->kept[i].st;
                        return 0;
                }
        if (s->n_kept == ELEMENTSOF(s->kept))
                return VT_E_STORE;
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL) != SQLITE_OK)
                return store_fail(s, NULL, "prepare");
        s->kept[s->n_kept].sql = sql;
        s->kept[s->n_kept].st = *ret;
        s->n_kept++;
        return 0;
}

/* exec_reused runs constant SQL without results (BEGIN, COMMIT) from a kept statement. */
static int exec_reused(struct vt_sqlite *s, const char *sql, const char *what, struct vt_diag *d)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = prepare_reused(s, sql, &st);
        if (r < 0)
                return vt_diag_set(d, r, "store: %s: cannot prepare", what);
        if (sqlite3_step(st) != SQLITE_DONE)
                return store_fail(s, d, what);
        return 0;
}

/* exec runs constant SQL (no values in it: those are always bound). */
static int exec(struct vt_sqlite *s, const char *sql, const char *what, struct vt_diag *d)
{
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return store_fail(s, d, what);
        return 0;
}

static int tx_begin(struct vt_sqlite *s, struct vt_diag *d)
{
        /* IMMEDIATE takes the write lock now (waiting up to the busy timeout), so that
         * what we read inside the transaction cannot change before we write. */
        return exec_reused(s, "BEGIN IMMEDIATE", "begin transaction", d);
}

/* tx_end commits if r is 0, else rolls back; returns r or the commit error. */
static int tx_end(struct vt_sqlite *s, int r, struct vt_diag *d)
{
        if (r == 0)
                r = exec_reused(s, "COMMIT", "commit", d);
        /* Some errors (SQLITE_FULL, SQLITE_IOERR ...) already ended the transaction. */
        if (r < 0 && !sqlite3_get_autocommit(s->db))
                (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

/* step_one steps a statement that yields exactly one row (a count, a pragma). */
static int step_one(struct vt_sqlite *s, sqlite3_stmt *st, const char *what, struct vt_diag *d)
{
        if (sqlite3_step(st) != SQLITE_ROW)
                return store_fail(s, d, what);
        return 0;
}

/* step_row steps a statement that reads at most one row: 0 with the row, VT_E_NOTFOUND
 * without one, else the store's failure (what names the read) */
static int step_row(struct vt_sqlite *s, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 0;
        return rc == SQLITE_DONE ? VT_E_NOTFOUND : store_fail(s, NULL, what);
}

/* row_by_key runs a kept statement (prepare_reused: the caller's *st, reset by its
 * _cleanup_reset_) that reads at most one row by the text key ?1: step_row's answer */
static int row_by_key(struct vt_sqlite *s, const char *sql, const char *key, const char *what,
                      sqlite3_stmt **st)
{
        int r = prepare_reused(s, sql, st);
        if (r < 0)
                return r;
        sqlite3_bind_text(*st, 1, key, -1, SQLITE_STATIC);
        return step_row(s, *st, what);
}

static int step_done(struct vt_sqlite *s, sqlite3_stmt *st, const char *what, struct vt_diag *d)
{
        if (sqlite3_step(st) != SQLITE_DONE)
                return store_fail(s, d, what);
        return 0;
}

/* exec_text runs one statement with text parameters ?1 (and ?2 when b is non-NULL) and
 * returns VT_E_NOTFOUND when it changed no row (triggers' changes do not count). */
static int exec_text(struct vt_sqlite *s, const char *sql, const char *a, const char *b,
                     const char *what)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, sql, &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
                sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        if ((r = step_done(s, st, what, NULL)) < 0)
                return r;
        return sqlite3_changes(s->db) >= 1 ? 0 : VT_E_NOTFOUND;
}

static int read_user_version(struct vt_sqlite *s, int *ret, struct vt_diag *d)
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
static int migrate_tx(struct vt_sqlite *s, struct vt_diag *d)
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

static int migrate(struct vt_sqlite *s, struct vt_diag *d)
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
static int set_wal(struct vt_sqlite *s, struct vt_diag *d)
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

/* query_int runs constant SQL that yields one integer (a pragma, a count). */
static int query_int(struct vt_sqlite *s, const char *sql, const char *what, int64_t *ret,
                     struct vt_diag *d)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, sql, &st, d);
        if (r < 0)
                return r;
        if ((r = step_one(s, st, what, d)) < 0)
                return r;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

/* Sessions come and go by the thousand, so deleted rows must give their pages back to
 * the file system: with auto_vacuum=INCREMENTAL the sweep does it (PRAGMA
 * incremental_vacuum). The mode takes effect only on a database without tables or
 * through a VACUUM, which rebuilds the file once (it cannot run inside a transaction,
 * so it is not a migration step). It must be set before the switch to WAL: on a fresh
 * file in WAL mode the setting is ignored. */
static int set_auto_vacuum(struct vt_sqlite *s, struct vt_diag *d)
{
        int64_t mode, tables;
        int r = query_int(s, "PRAGMA auto_vacuum", "read auto_vacuum", &mode, d);
        if (r < 0 || mode == 2 /* INCREMENTAL */)
                return r;
        if ((r = exec(s, "PRAGMA auto_vacuum = INCREMENTAL", "set auto_vacuum", d)) < 0)
                return r;
        r = query_int(s, "SELECT count(*) FROM sqlite_master", "read the schema", &tables, d);
        if (r < 0 || tables == 0)
                return r;
        return exec(s, "VACUUM", "vacuum to switch on auto_vacuum=INCREMENTAL", d);
}

static int configure(struct vt_sqlite *s, struct vt_diag *d)
{
        if (sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
                return store_fail(s, d, "busy timeout");
        int r0 = set_auto_vacuum(s, d);
        if (r0 < 0)
                return r0;
        /* WAL: readers never block the writer, and any number of processes on one host
         * can share the file (WAL needs shared memory, so a local file system). */
        int r = set_wal(s, d);
        if (r < 0)
                return r;
        /* NORMAL in WAL mode: never corrupts; a power cut may lose the last commits. */
        r = exec(s, "PRAGMA synchronous = NORMAL", "set synchronous=NORMAL", d);
        if (r < 0)
                return r;
        /* a checkpoint that empties the WAL also shrinks it back to this size */
        r = exec(s, "PRAGMA journal_size_limit = 16777216", "set journal_size_limit", d);
        if (r < 0)
                return r;
        return exec(s, "PRAGMA foreign_keys = ON", "set foreign_keys=ON", d);
}

static void ledger_ckpt_stop(struct ledger_ckpt *ck);

static void sq_free(struct vt_sqlite *s)
{
        if (!s)
                return;
        ledger_ckpt_stop(s->ck); /* it uses s->lock */
        sqlite3_stmt *st[] = {s->l_begin, s->l_commit, s->l_size, s->l_entry, s->l_node, s->l_sth};
        for (size_t i = 0; i < ELEMENTSOF(st); i++)
                sqlite3_finalize(st[i]);
        for (size_t i = 0; i < s->n_kept; i++)
                sqlite3_finalize(s->kept[i].st);
        /* v2: closes even if a statement were left unfinalized (none should be). */
        sqlite3_close_v2(s->db);
        pthread_mutex_destroy(&s->lock);
        free(s->path);
        free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_sqlite *, sq_free)

static void sq_close(struct vt_store *base)
{
        sq_free(sq_of(base));
}

/* Process-wide settings, made before SQLite is initialised (each is a no-op, SQLITE_MISUSE,
 * once it is).
 *
 * No up-front page-cache block per connection: by default SQLite allocates 20 pages
 * (SQLITE_DEFAULT_PCACHE_INITSZ, about 87 KiB) when a connection first reads, and writes
 * through all of it, so each connection keeps that resident even when idle. Without it a
 * page is allocated when it is first cached; a full cache reuses its pages either way. */
static pthread_once_t pcache_once = PTHREAD_ONCE_INIT;

static void pcache_config(void)
{
        (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0);
        /* No memory statistics: with them on (SQLite's default) every allocation of every
         * connection takes one process-wide mutex to count itself, and the request
         * threads, the ledger's appender and its checkpointer allocate all the time. Nothing
         * here reads them (sqlite3_memory_used, sqlite3_status); sqlite3_soft_heap_limit
         * would need them, and nothing sets one. */
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(const char *path, struct vt_store **ret, struct vt_diag *d)
{
        if (!path || !*path || !ret)
                return vt_diag_set(d, VT_E_INVAL, "store: a database path and ret are required");
        pthread_once(&pcache_once, pcache_config);

        /* Create the file ourselves so that it is 0600 whatever the umask; SQLite gives
         * its -wal and -shm files the same mode as the database. An existing file keeps
         * the mode the operator gave it. The parent directory must exist. */
        /* Only when it does not exist: closing any descriptor of the file drops every POSIX
         * lock this process holds on it, including those of another connection of ours,
         * and another process could then take our WAL for abandoned and reset it. */
        if (access(path, F_OK) != 0) {
                int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                if (fd < 0) {
                        int e = errno;
                        return vt_diag_set(d, VT_E_STORE, "store: open %s: %s", path, strerror(e));
                }
                close(fd);
        }

        _cleanup_(sq_freep) struct vt_sqlite *s = calloc(1, sizeof(*s));
        if (!s)
                return vt_diag_set(d, VT_E_NOMEM, "store: out of memory");
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
                free(TAKE_PTR(s));
                return vt_diag_set(d, VT_E_NOMEM, "store: mutex");
        }
        if (!(s->path = strdup(path)))
                return vt_diag_set(d, VT_E_NOMEM, "store: out of memory");
        int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                                 vt_walvfs_name());
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
        s->err_code = 0; /* what open recorded went into d */
        s->base.ops = &vt_store_sqlite_ops;
        *ret = &TAKE_PTR(s)->base;
        return 0;
}

static int sq_schema_version(struct vt_store *base, int *ret, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !ret)
                return VT_E_INVAL;
        int v;
        pthread_mutex_lock(&s->lock);
        int r = read_user_version(s, &v, NULL);
        r = sq_diag(s, r, "schema version", d);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int ping_locked(struct vt_sqlite *s)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* Touch the schema, not just the library: a missing or locked-out file fails. */
        int r = prepare(s, "SELECT count(*) FROM sqlite_master", &st, NULL);
        if (r < 0)
                return r;
        return step_one(s, st, "ping", NULL);
}

static int sq_ping(struct vt_store *base, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = ping_locked(s);
        r = sq_diag(s, r, "ping", d);
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

/* count_locked counts the sessions not expired at now: all of them (sql with ?1), or
 * the open ones, overall or of one client (?2). */
static int count_locked(struct vt_sqlite *s, const char *sql, int64_t now, const char *client,
                        size_t *ret)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = prepare_reused(s, sql, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now);
        if (client)
                sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
        r = step_one(s, st, "count sessions", NULL);
        if (r < 0)
                return r;
        sqlite3_int64 n = sqlite3_column_int64(st, 0);
        if (n < 0)
                return VT_E_STORE;
        *ret = (size_t)n;
        return 0;
}

static int count_live_locked(struct vt_sqlite *s, int64_t now, size_t *ret)
{
        return count_locked(s, "SELECT count(*) FROM sessions WHERE expires > ?1", now, NULL, ret);
}

/* Open: challenge issued and nonce unused (state 0), not expired. Both counts walk the
 * partial index of the open sessions only (schema 5), sessions_open_client: the count of
 * one client its range, the count of all of them the whole index (schema 11; INDEXED BY,
 * or SQLite's planner would rather take the range expires > now of sessions_expires,
 * every live session, attested or not). */
static int count_open_locked(struct vt_sqlite *s, int64_t now, const char *client, size_t *ret)
{
        return count_locked(s,
                            client ? "SELECT count(*) FROM sessions "
                                     "WHERE state = 0 AND client = ?2 AND expires > ?1"
                                   : "SELECT count(*) FROM sessions INDEXED BY "
                                     "sessions_open_client WHERE state = 0 AND expires > ?1",
                            now, client, ret);
}

/* session_create_tx runs inside BEGIN IMMEDIATE: no other connection can insert
 * between the counts and the insert. */
static int session_create_tx(struct vt_sqlite *s, const struct vt_session *sess, int64_t now,
                             size_t max_open, size_t max_open_per_client, struct vt_diag *d)
{
        size_t open;
        int r = count_open_locked(s, now, NULL, &open);
        if (r < 0)
                return r;
        if (open >= max_open)
                return vt_diag_set(d, VT_E_LIMIT, "too many open sessions (limit %zu)", max_open);
        if (max_open_per_client) {
                if ((r = count_open_locked(s, now, sess->client, &open)) < 0)
                        return r;
                if (open >= max_open_per_client)
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "too many open sessions from this client (limit %zu)",
                                           max_open_per_client);
        }

        _cleanup_reset_ sqlite3_stmt *st = NULL;
        r = prepare_reused(s,
                           "INSERT INTO sessions (id, tee, nonce, created, expires, state, client) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, sess->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sess->tee, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, sess->nonce, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, sess->created);
        sqlite3_bind_int64(st, 5, sess->expires);
        sqlite3_bind_int(st, 6, (int)sess->state);
        sqlite3_bind_text(st, 7, sess->client, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                return VT_E_INVAL; /* a session with this id exists */
        if (rc != SQLITE_DONE)
                return store_fail(s, NULL, "insert session");
        return 0;
}

static int sq_session_open(struct vt_store *base, const struct vt_session *sess, int64_t now,
                           size_t max_open, size_t max_open_per_client, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !sess || !text_fits(sess->id, sizeof(sess->id)) || !sess->id[0] ||
            !text_fits(sess->tee, sizeof(sess->tee)) ||
            !text_fits(sess->nonce, sizeof(sess->nonce)) ||
            !text_fits(sess->client, sizeof(sess->client)) || !state_valid((int)sess->state))
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = tx_begin(s, NULL);
        if (r == 0)
                r = tx_end(s, session_create_tx(s, sess, now, max_open, max_open_per_client, d),
                           NULL);
        r = sq_diag(s, r, "session open", d);
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

static int session_get_locked(struct vt_sqlite *s, const char *id, struct vt_session *ret)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = row_by_key(s,
                           "SELECT id, tee, nonce, created, expires, state, client FROM sessions "
                           "WHERE id = ?1",
                           id, "read session", &st);
        if (r < 0)
                return r;

        struct vt_session out = {0};
        if (copy_text(st, 0, out.id, sizeof(out.id)) < 0 ||
            copy_text(st, 1, out.tee, sizeof(out.tee)) < 0 ||
            copy_text(st, 2, out.nonce, sizeof(out.nonce)) < 0 ||
            copy_text(st, 6, out.client, sizeof(out.client)) < 0)
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

static int sq_session_get(struct vt_store *base, const char *id, int64_t now,
                          struct vt_session *ret, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !id || !ret)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_get_locked(s, id, ret);
        r = sq_diag(s, r, "session get", d);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        return ret->expires > now ? 0 : VT_E_EXPIRED;
}

/* claim_classify says why a claim changed nothing. */
static int claim_classify(struct vt_sqlite *s, const char *id, const char *nonce, int64_t now)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = prepare_reused(s, "SELECT state, expires, nonce = ?2 FROM sessions WHERE id = ?1",
                               &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
        if ((r = step_row(s, st, "read the claimed session")) < 0)
                return r;
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

/* session_claim_locked claims the session's nonce: to CLAIMED, or with claims_json to
 * ATTESTED with those claims and expires (vt_store_session_attest). */
static int session_claim_locked(struct vt_sqlite *s, const char *id, const char *nonce, int64_t now,
                                const char *claims_json, int64_t expires)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        /* One statement decides: SQLite runs it under the database write lock, so of
         * any number of claimers in any number of processes exactly one sees a change. */
        int r = prepare_reused(
                s,
                claims_json ? "UPDATE sessions SET state = 2, claims = ?4, expires = ?5 "
                              "WHERE id = ?1 AND state = 0 AND expires > ?2 AND nonce = ?3"
                            : "UPDATE sessions SET state = 1 "
                              "WHERE id = ?1 AND state = 0 AND expires > ?2 AND nonce = ?3",
                &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_text(st, 3, nonce, -1, SQLITE_STATIC);
        if (claims_json) {
                sqlite3_bind_text(st, 4, claims_json, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 5, expires);
        }
        r = step_done(s, st, claims_json ? "attest session" : "claim session", NULL);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 1)
                return 0;
        return claim_classify(s, id, nonce, now);
}

static int sq_session_claim(struct vt_store *base, const char *id, const char *nonce, int64_t now,
                            struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !id || !nonce)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_claim_locked(s, id, nonce, now, NULL, 0);
        r = sq_diag(s, r, "session claim", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_session_attest(struct vt_store *base, const char *id, const char *nonce, int64_t now,
                             const char *claims_json, int64_t expires, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !id || !nonce || !claims_json || strlen(claims_json) > VT_STORE_MAX_JSON)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_claim_locked(s, id, nonce, now, claims_json, expires);
        r = sq_diag(s, r, "session attest", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int session_set_state_locked(struct vt_sqlite *s, const char *id, int state)
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

static int sq_session_set_state(struct vt_store *base, const char *id, enum vt_session_state st,
                                struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !id || !state_valid((int)st))
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_set_state_locked(s, id, (int)st);
        r = sq_diag(s, r, "session set state", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int text_dup(sqlite3_stmt *st, int col, char **ret);

static int sq_session_set_claims(struct vt_store *base, const char *id, const char *claims_json,
                                 struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !id || !claims_json || strlen(claims_json) > VT_STORE_MAX_JSON)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = exec_text(s, "UPDATE sessions SET claims = ?2 WHERE id = ?1", id, claims_json,
                          "set session claims");
        r = sq_diag(s, r, "session set claims", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* The kept statements are reset before the store's mutex is released (they are the
 * connection's, shared by every thread): the *_locked functions below, whose
 * _cleanup_reset_ runs at their return, under the caller's lock. */
static int session_set_attested_locked(struct vt_sqlite *s, const char *id, const char *claims_json,
                                       int64_t expires)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = prepare_reused(
                s, "UPDATE sessions SET state = 2, claims = ?2, expires = ?3 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, claims_json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, expires);
        r = step_done(s, st, "set session attested", NULL);
        if (r == 0 && sqlite3_changes(s->db) != 1)
                r = VT_E_NOTFOUND;
        return r;
}

static int sq_session_set_attested(struct vt_store *base, const char *id, const char *claims_json,
                                   int64_t expires, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !id || !claims_json || strlen(claims_json) > VT_STORE_MAX_JSON)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_set_attested_locked(s, id, claims_json, expires);
        r = sq_diag(s, r, "session set attested", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int session_get_claims_locked(struct vt_sqlite *s, const char *id, int64_t now, char **ret)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = row_by_key(s, "SELECT claims, expires FROM sessions WHERE id = ?1", id,
                           "read session claims", &st);
        if (r < 0)
                return r;
        if (sqlite3_column_int64(st, 1) <= now)
                return VT_E_EXPIRED;
        if (sqlite3_column_type(st, 0) != SQLITE_TEXT)
                return VT_E_NOTFOUND;
        return text_dup(st, 0, ret);
}

static int sq_session_get_claims(struct vt_store *base, const char *id, int64_t now, char **ret,
                                 struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !id || !ret)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = session_get_claims_locked(s, id, now, ret);
        r = sq_diag(s, r, "session get claims", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_session_count_live(struct vt_store *base, int64_t now, size_t *ret, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !ret)
                return VT_E_INVAL;
        size_t n;
        pthread_mutex_lock(&s->lock);
        int r = count_live_locked(s, now, &n);
        r = sq_diag(s, r, "session count live", d);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

static int sweep_locked(struct vt_sqlite *s, int64_t now, size_t *ret_n)
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
        if (*ret_n == 0)
                return 0;
        /* Give the freed pages back (auto_vacuum=INCREMENTAL): the file shrinks at the
         * next checkpoint, which we ask for now rather than at the next 1000 pages. A
         * passive checkpoint waits for nobody; what it cannot do now is done next time. */
        if ((r = exec(s, "PRAGMA incremental_vacuum", "incremental vacuum", NULL)) < 0)
                return r;
        return exec(s, "PRAGMA wal_checkpoint(PASSIVE)", "checkpoint", NULL);
}

static int sq_sweep(struct vt_store *base, int64_t now, size_t *ret_n, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s)
                return VT_E_INVAL;
        size_t n;
        pthread_mutex_lock(&s->lock);
        int r = sweep_locked(s, now, &n);
        r = sq_diag(s, r, "sweep", d);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = n;
        return 0;
}

/*
 * Secret release (schema version 2): resources, their policies, reference values.
 */

/* name_valid: a kek_id or a tee, 1 to 31 bytes (they come back in char[32] fields). */
static bool name_valid(const char *name)
{
        if (!name)
                return false;
        size_t n = strnlen(name, 32);
        return n > 0 && n < 32;
}

/* json_check: a non-empty document of at most VT_STORE_MAX_JSON bytes. The store keeps
 * it as given; parsing it is the caller's business. */
static int json_check(const char *json)
{
        if (!json || !*json)
                return VT_E_INVAL;
        if (strnlen(json, VT_STORE_MAX_JSON + 1) > VT_STORE_MAX_JSON)
                return VT_E_LIMIT;
        return 0;
}

/* sync_full: writes to resources, policies and reference values are rare administrative
 * changes whose loss after a power cut does harm (a rotation lost after the old KEK is
 * destroyed, a tightened policy or a deleted secret coming back), so their commits sync
 * the WAL. synchronous is per connection: set it, commit, set NORMAL back, all under the
 * lock, so that session writes keep NORMAL. Outside a transaction only. */
static int sync_full(struct vt_sqlite *s)
{
        return exec(s, "PRAGMA synchronous = FULL", "set synchronous=FULL", NULL);
}

static void sync_normal(struct vt_sqlite *s)
{
        /* On failure the connection stays FULL: slower, never less safe. */
        (void)exec(s, "PRAGMA synchronous = NORMAL", "set synchronous=NORMAL", NULL);
}

/* bind_blob binds n bytes at p (borrowed until the statement is reset) as a BLOB, also
 * when n is 0 (a NULL pointer would bind NULL instead). */
static int bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
        static const uint8_t empty[1];
        int rc = sqlite3_bind_blob64(st, i, n ? p : empty, (sqlite3_uint64)n, SQLITE_STATIC);
        if (rc == SQLITE_TOOBIG)
                return VT_E_LIMIT;
        return rc == SQLITE_OK ? 0 : VT_E_STORE;
}

/* blob_dup returns a malloc'd copy of a BLOB column (at least one byte allocated). */
static int blob_dup(sqlite3_stmt *st, int col, uint8_t **ret, size_t *ret_len)
{
        if (sqlite3_column_type(st, col) != SQLITE_BLOB)
                return VT_E_STORE; /* the schema's CHECK allows nothing else */
        const void *v = sqlite3_column_blob(st, col);
        int n = sqlite3_column_bytes(st, col);
        if (n < 0 || (n > 0 && !v))
                return VT_E_STORE;
        uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
        if (!p)
                return VT_E_NOMEM;
        if (n > 0)
                memcpy(p, v, (size_t)n);
        *ret = p;
        *ret_len = (size_t)n;
        return 0;
}

/* text_dup returns a malloc'd, NUL-terminated copy of a TEXT column. */
static int text_dup(sqlite3_stmt *st, int col, char **ret)
{
        const unsigned char *v = sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        if (!v || n < 0)
                return VT_E_STORE;
        char *p = malloc((size_t)n + 1);
        if (!p)
                return VT_E_NOMEM;
        memcpy(p, v, (size_t)n);
        p[n] = 0;
        *ret = p;
        return 0;
}

/* grow makes room for one more element of size sz in *v (n used, *cap allocated). */
static int grow(void **v, size_t n, size_t *cap, size_t sz)
{
        if (n < *cap)
                return 0;
        size_t c = *cap ? *cap * 2 : 16;
        if (c < *cap || c > SIZE_MAX / sz)
                return VT_E_NOMEM;
        void *p = realloc(*v, c * sz);
        if (!p)
                return VT_E_NOMEM;
        *v = p;
        *cap = c;
        return 0;
}

/* rows_free clears (if clear is set) and frees an array of n rows of size sz. */
static void rows_free(void *v, size_t n, size_t sz, void (*clear)(void *row))
{
        for (size_t i = 0; v && clear && i < n; i++)
                clear((uint8_t *)v + i * sz);
        free(v);
}

/* select_rows runs sql (with param bound to ?1 when not NULL) and reads each row with
 * read into a new array of rows of size sz, each zeroed first. A read that fails frees
 * what it took itself; the rows read before it are cleared and freed here. */
static int select_rows(struct vt_sqlite *s, const char *sql, const char *param, size_t sz,
                       int (*read)(sqlite3_stmt *st, void *row), void (*clear)(void *row),
                       void **ret, size_t *ret_n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        void *v = NULL;
        size_t n = 0, cap = 0;
        int r = prepare(s, sql, &st, NULL), rc;
        if (r < 0)
                return r;
        if (param)
                sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = grow(&v, n, &cap, sz);
                if (r == 0) {
                        void *row = (uint8_t *)v + n * sz;
                        memset(row, 0, sz);
                        r = read(st, row);
                }
                if (r < 0)
                        break;
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_fail(s, NULL, "read rows");
        if (r < 0) {
                rows_free(v, n, sz, clear);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int policy_set_locked(struct vt_sqlite *s, const char *path, const char *json, int64_t now);

static int resource_put_locked(struct vt_sqlite *s, const char *path, const char *kek_id,
                               const uint8_t *wdek, size_t wdek_len, const uint8_t *ct,
                               size_t ct_len, int64_t plain_len, int64_t now)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* An upsert, not INSERT OR REPLACE: REPLACE deletes the old row, which would
         * lose created and cascade to the policy. */
        int r = prepare(s,
                        "INSERT INTO resources "
                        "(path, repo, kek_id, wrapped_dek, ciphertext, size, created, updated) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
                        "ON CONFLICT (path) DO UPDATE SET kek_id = excluded.kek_id, "
                        "wrapped_dek = excluded.wrapped_dek, ciphertext = excluded.ciphertext, "
                        "size = excluded.size, updated = excluded.updated",
                        &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        /* The repo is the first segment; a valid path has its first '/' within 256 bytes. */
        sqlite3_bind_text(st, 2, path, (int)strcspn(path, "/"), SQLITE_STATIC);
        sqlite3_bind_text(st, 3, kek_id, -1, SQLITE_STATIC);
        if ((r = bind_blob(st, 4, wdek, wdek_len)) < 0 || (r = bind_blob(st, 5, ct, ct_len)) < 0)
                return r;
        sqlite3_bind_int64(st, 6, plain_len);
        sqlite3_bind_int64(st, 7, now);
        return step_done(s, st, "put resource", NULL);
}

/* kek_check_tx runs inside a write transaction: a data key wrapped under kek_id may be
 * written only while kek_id is the current KEK (or while none is recorded: a database
 * that no server has opened since schema 4). Else VT_E_STALE: a rotation committed after
 * the caller read the current KEK, and the caller seals again. */
static int kek_check_tx(struct vt_sqlite *s, const char *kek_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT current FROM kek WHERE id = 1", &st, NULL);
        if (r < 0)
                return r;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return store_fail(s, NULL, "read the current KEK");
        const char *cur = (const char *)sqlite3_column_text(st, 0);
        return cur && strcmp(cur, kek_id) == 0 ? 0 : VT_E_STALE;
}

static int resource_put_tx(struct vt_sqlite *s, const char *path, const char *kek_id,
                           const uint8_t *wdek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
                           size_t plain_len, const char *policy, int64_t now)
{
        int r = kek_check_tx(s, kek_id);
        if (r == 0)
                r = resource_put_locked(s, path, kek_id, wdek, wdek_len, ct, ct_len,
                                        (int64_t)plain_len, now);
        if (r == 0 && policy)
                r = policy_set_locked(s, path, policy, now);
        return r;
}

static int resource_put_common(struct vt_sqlite *s, const char *path, const char *kek_id,
                               const uint8_t *wdek, size_t wdek_len, const uint8_t *ct,
                               size_t ct_len, size_t plain_len, const char *policy, int64_t now,
                               struct vt_diag *d)
{
        if (!s || !vt_resource_path_valid(path) || !name_valid(kek_id) || !wdek || !wdek_len ||
            (!ct && ct_len) || (uint64_t)plain_len > (uint64_t)INT64_MAX)
                return VT_E_INVAL;
        if (wdek_len > VT_STORE_MAX_WDEK || ct_len > VT_STORE_MAX_CT)
                return VT_E_LIMIT;
        int r = policy ? json_check(policy) : 0;
        if (r < 0)
                return r;
        pthread_mutex_lock(&s->lock);
        r = sync_full(s);
        if (r == 0)
                r = tx_begin(s, NULL);
        if (r == 0)
                r = tx_end(s,
                           resource_put_tx(s, path, kek_id, wdek, wdek_len, ct, ct_len, plain_len,
                                           policy, now),
                           NULL);
        sync_normal(s);
        r = sq_diag(s, r, "resource put", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_resource_put(struct vt_store *base, const char *path, const char *kek_id,
                           const uint8_t *wdek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
                           size_t plain_len, int64_t now, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        return resource_put_common(s, path, kek_id, wdek, wdek_len, ct, ct_len, plain_len, NULL,
                                   now, d);
}

static int sq_resource_put_policy(struct vt_store *base, const char *path, const char *kek_id,
                                  const uint8_t *wdek, size_t wdek_len, const uint8_t *ct,
                                  size_t ct_len, size_t plain_len, const char *policy, int64_t now,
                                  struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!policy)
                return VT_E_INVAL;
        return resource_put_common(s, path, kek_id, wdek, wdek_len, ct, ct_len, plain_len, policy,
                                   now, d);
}

/* item_check: the argument checks of one put, for one item of a batch. */
static int item_check(const struct vt_resource_item *it)
{
        if (!vt_resource_path_valid(it->path) || !it->wdek || !it->wdek_len ||
            (!it->ct && it->ct_len) || (uint64_t)it->plain_len > (uint64_t)INT64_MAX)
                return VT_E_INVAL;
        if (it->wdek_len > VT_STORE_MAX_WDEK || it->ct_len > VT_STORE_MAX_CT)
                return VT_E_LIMIT;
        return it->policy ? json_check(it->policy) : 0;
}

/* resource_batch_tx runs inside BEGIN IMMEDIATE: the statements of resource_put_locked
 * and policy_set_locked, each prepared once for the whole batch. */
static int resource_batch_tx(struct vt_sqlite *s, const char *kek_id,
                             const struct vt_resource_item *items, size_t n, int64_t now)
{
        _cleanup_stmt_ sqlite3_stmt *put = NULL, *pol = NULL;
        int r = kek_check_tx(s, kek_id);
        if (r == 0)
                r = prepare(s,
                            "INSERT INTO resources "
                            "(path, repo, kek_id, wrapped_dek, ciphertext, size, created, updated) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
                            "ON CONFLICT (path) DO UPDATE SET kek_id = excluded.kek_id, "
                            "wrapped_dek = excluded.wrapped_dek, ciphertext = excluded.ciphertext, "
                            "size = excluded.size, updated = excluded.updated",
                            &put, NULL);
        if (r == 0)
                r = prepare(s,
                            "INSERT INTO policies (path, policy, updated) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT (path) DO UPDATE SET policy = excluded.policy, "
                            "updated = excluded.updated",
                            &pol, NULL);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const struct vt_resource_item *it = &items[i];
                sqlite3_bind_text(put, 1, it->path, -1, SQLITE_STATIC);
                sqlite3_bind_text(put, 2, it->path, (int)strcspn(it->path, "/"), SQLITE_STATIC);
                sqlite3_bind_text(put, 3, kek_id, -1, SQLITE_STATIC);
                if ((r = bind_blob(put, 4, it->wdek, it->wdek_len)) < 0 ||
                    (r = bind_blob(put, 5, it->ct, it->ct_len)) < 0)
                        break;
                sqlite3_bind_int64(put, 6, (sqlite3_int64)it->plain_len);
                sqlite3_bind_int64(put, 7, now);
                r = step_done(s, put, "put resource", NULL);
                sqlite3_reset(put);
                if (r < 0 || !it->policy)
                        continue;
                /* the resource was written just above, in this transaction */
                sqlite3_bind_text(pol, 1, it->path, -1, SQLITE_STATIC);
                sqlite3_bind_text(pol, 2, it->policy, -1, SQLITE_STATIC);
                sqlite3_bind_int64(pol, 3, now);
                r = step_done(s, pol, "set policy", NULL);
                sqlite3_reset(pol);
        }
        return r;
}

static int sq_resource_put_batch(struct vt_store *base, const char *kek_id,
                                 const struct vt_resource_item *items, size_t n, int64_t now,
                                 size_t *ret_bad, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !name_valid(kek_id) || !items || n == 0 || n > VT_STORE_BATCH_MAX)
                return VT_E_INVAL;
        for (size_t i = 0; i < n; i++) {
                int e = item_check(&items[i]);
                if (e < 0) {
                        if (ret_bad)
                                *ret_bad = i;
                        return vt_diag_set(d, e, "store: batch item %zu (%s) refused", i,
                                           vt_resource_path_valid(items[i].path) ? items[i].path
                                                                                 : "bad path");
                }
        }
        pthread_mutex_lock(&s->lock);
        int r = sync_full(s);
        if (r == 0)
                r = tx_begin(s, NULL);
        if (r == 0)
                r = tx_end(s, resource_batch_tx(s, kek_id, items, n, now), NULL);
        sync_normal(s);
        r = sq_diag(s, r, "resource put batch", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* PRAGMA takes no parameters: the number is formatted from a size_t, not input text. */
static int sq_set_cache(struct vt_store *base, size_t kib, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || kib == 0 || kib > (size_t)INT32_MAX)
                return VT_E_INVAL;
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%zu", kib);
        pthread_mutex_lock(&s->lock);
        int r = exec(s, sql, "set cache_size", NULL);
        r = sq_diag(s, r, "set cache", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* resource_row copies a resource's kek_id, wrapped key and ciphertext from the row of st
 * (columns 0, 1, 2); the outputs are written only on success. */
static int resource_row(sqlite3_stmt *st, char kek_id[32], uint8_t **wdek, size_t *wdek_len,
                        uint8_t **ct, size_t *ct_len)
{
        char kek[32];
        _cleanup_free_ uint8_t *w = NULL, *c = NULL;
        size_t wlen, clen;
        int r;
        if (copy_text(st, 0, kek, sizeof(kek)) < 0)
                return VT_E_STORE;
        if ((r = blob_dup(st, 1, &w, &wlen)) < 0 || (r = blob_dup(st, 2, &c, &clen)) < 0)
                return r;
        memcpy(kek_id, kek, sizeof(kek));
        *wdek = TAKE_PTR(w);
        *wdek_len = wlen;
        *ct = TAKE_PTR(c);
        *ct_len = clen;
        return 0;
}

static int resource_get_locked(struct vt_sqlite *s, const char *path, char kek_id[32],
                               uint8_t **wdek, size_t *wdek_len, uint8_t **ct, size_t *ct_len)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = row_by_key(s,
                           "SELECT kek_id, wrapped_dek, ciphertext FROM resources WHERE path = ?1",
                           path, "read resource", &st);
        if (r < 0)
                return r;
        return resource_row(st, kek_id, wdek, wdek_len, ct, ct_len);
}

/* release_get_locked: the resource and its policy in one statement, so one read
 * transaction (one snapshot, and one read lock taken instead of two). */
static int release_get_locked(struct vt_sqlite *s, const char *path, char kek_id[32],
                              uint8_t **wdek, size_t *wdek_len, uint8_t **ct, size_t *ct_len,
                              char **ret_policy)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = row_by_key(s,
                           "SELECT r.kek_id, r.wrapped_dek, r.ciphertext, p.policy "
                           "FROM resources r LEFT JOIN policies p ON p.path = r.path "
                           "WHERE r.path = ?1",
                           path, "read resource and policy", &st);
        if (r < 0)
                return r;
        _cleanup_free_ char *policy = NULL;
        if (sqlite3_column_type(st, 3) != SQLITE_NULL && (r = text_dup(st, 3, &policy)) < 0)
                return r;
        if ((r = resource_row(st, kek_id, wdek, wdek_len, ct, ct_len)) < 0)
                return r;
        *ret_policy = TAKE_PTR(policy);
        return 0;
}

static int sq_resource_get(struct vt_store *base, const char *path, char kek_id[32], uint8_t **wdek,
                           size_t *wdek_len, uint8_t **ct, size_t *ct_len, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !vt_resource_path_valid(path) || !kek_id || !wdek || !wdek_len || !ct || !ct_len)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = resource_get_locked(s, path, kek_id, wdek, wdek_len, ct, ct_len);
        r = sq_diag(s, r, "resource get", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_release_get(struct vt_store *base, const char *path, char kek_id[32], uint8_t **wdek,
                          size_t *wdek_len, uint8_t **ct, size_t *ct_len, char **ret_policy,
                          struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !vt_resource_path_valid(path) || !kek_id || !wdek || !wdek_len || !ct ||
            !ct_len || !ret_policy)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = release_get_locked(s, path, kek_id, wdek, wdek_len, ct, ct_len, ret_policy);
        r = sq_diag(s, r, "release get", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* resource_delete_tx runs inside BEGIN IMMEDIATE. The policy goes explicitly too, so
 * that it does not depend on foreign_keys being on (the schema's ON DELETE CASCADE
 * covers other writers). */
static int resource_delete_tx(struct vt_sqlite *s, const char *path)
{
        int r = exec_text(s, "DELETE FROM policies WHERE path = ?1", path, NULL, "delete policy");
        if (r < 0 && r != VT_E_NOTFOUND) /* a resource without a policy is fine */
                return r;
        return exec_text(s, "DELETE FROM resources WHERE path = ?1", path, NULL, "delete resource");
}

static int sq_resource_delete(struct vt_store *base, const char *path, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !vt_resource_path_valid(path))
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = sync_full(s);
        if (r == 0)
                r = tx_begin(s, NULL);
        if (r == 0)
                r = tx_end(s, resource_delete_tx(s, path), NULL);
        sync_normal(s);
        r = sq_diag(s, r, "resource delete", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int resource_meta_read(sqlite3_stmt *st, void *row)
{
        struct vt_resource_meta *m = row;
        if (copy_text(st, 0, m->path, sizeof(m->path)) < 0 ||
            copy_text(st, 1, m->kek_id, sizeof(m->kek_id)) < 0)
                return VT_E_STORE;
        sqlite3_int64 size = sqlite3_column_int64(st, 2);
        if (size < 0 || (uint64_t)size > SIZE_MAX)
                return VT_E_STORE;
        m->size = (size_t)size;
        m->created = sqlite3_column_int64(st, 3);
        m->updated = sqlite3_column_int64(st, 4);
        m->has_policy = sqlite3_column_int(st, 5) != 0;
        return 0;
}

/* resource_list_locked reads the metadata of the matching resources into a new array. */
static int resource_list_locked(struct vt_sqlite *s, const char *repo, const char *after,
                                size_t limit, struct vt_resource_meta **ret, size_t *ret_n)
{
        /* ?1 repo, ?2 the cursor, ?3 the page size (-1: all). Separate texts rather than
         * "?1 IS NULL OR repo = ?1", so that each uses its index: repo's, or the primary
         * key on path, which also gives the order (BINARY: bytewise). */
        const char *sql = repo ? "SELECT r.path, r.kek_id, r.size, r.created, r.updated, "
                                 "p.path IS NOT NULL FROM resources r "
                                 "LEFT JOIN policies p ON p.path = r.path "
                                 "WHERE r.repo = ?1 AND r.path > ?2 ORDER BY r.path LIMIT ?3"
                               : "SELECT r.path, r.kek_id, r.size, r.created, r.updated, "
                                 "p.path IS NOT NULL FROM resources r "
                                 "LEFT JOIN policies p ON p.path = r.path "
                                 "WHERE r.path > ?2 ORDER BY r.path LIMIT ?3";
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        struct vt_resource_meta *v = NULL;
        size_t n = 0, cap = 0;
        int r = prepare(s, sql, &st, NULL), rc;
        if (r < 0)
                return r;
        if (repo)
                sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, after ? after : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                void *vv = v;
                if ((r = grow(&vv, n, &cap, sizeof(*v))) < 0)
                        break;
                v = vv;
                memset(&v[n], 0, sizeof(*v));
                if ((r = resource_meta_read(st, &v[n])) < 0)
                        break;
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_fail(s, NULL, "read rows");
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int sq_resource_list(struct vt_store *base, const char *repo_or_null, const char *after,
                            size_t limit, int (*cb)(const struct vt_resource_meta *m, void *ud),
                            void *ud, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !cb || (repo_or_null && !vt_resource_repo_valid(repo_or_null)))
                return VT_E_INVAL;
        _cleanup_free_ struct vt_resource_meta *v = NULL;
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int r = resource_list_locked(s, repo_or_null, after, limit, &v, &n);
        r = sq_diag(s, r, "resource list", d);
        pthread_mutex_unlock(&s->lock);
        /* Unlocked: a callback may call the store (e.g. get each resource it is shown). */
        for (size_t i = 0; r == 0 && i < n; i++) {
                int c = cb(&v[i], ud);
                if (c < 0)
                        r = c;
        }
        return r;
}

struct wrap_row {
        char path[256];
        char kek_id[32];
        uint8_t *wdek;
        size_t len;
};

static void wrap_row_clear(void *row)
{
        free(((struct wrap_row *)row)->wdek);
}

static int wrap_row_read(sqlite3_stmt *st, void *row)
{
        struct wrap_row *w = row;
        if (copy_text(st, 0, w->path, sizeof(w->path)) < 0 ||
            copy_text(st, 1, w->kek_id, sizeof(w->kek_id)) < 0)
                return VT_E_STORE;
        return blob_dup(st, 2, &w->wdek, &w->len);
}

/* Rows a KEK rotation reads at a time. */
#define REWRAP_PAGE 1000

/* wrap_rows_read reads the wrapped keys of the next page: at most REWRAP_PAGE resources
 * whose path comes after `after`, in path order (the primary key's). A page is read
 * completely before any of its rows is updated, so that the updates cannot disturb the
 * scan; an update never changes a path, so the next page starts after the last one. */
static int wrap_rows_read(struct vt_sqlite *s, const char *after, struct wrap_row **ret,
                          size_t *ret_n)
{
        void *v = NULL;
        int r = select_rows(s,
                            "SELECT path, kek_id, wrapped_dek FROM resources WHERE path > ?1 "
                            "ORDER BY path LIMIT 1000",
                            after, sizeof(**ret), wrap_row_read, wrap_row_clear, &v, ret_n);
        *ret = v;
        return r;
}

/* kek_set_current_tx makes kek_id the current KEK and bumps the generation, inside the
 * caller's transaction. */
static int kek_set_current_tx(struct vt_sqlite *s, const char *kek_id)
{
        return exec_text(s,
                         "INSERT INTO kek (id, current, generation) VALUES (1, ?1, 1) "
                         "ON CONFLICT (id) DO UPDATE SET current = excluded.current, "
                         "generation = generation + 1",
                         kek_id, NULL, "set the current KEK");
}

/* rewrap_all_tx runs inside BEGIN IMMEDIATE; any error makes the caller roll back. */
static int rewrap_all_tx(struct vt_sqlite *s, const char *new_kek_id,
                         int (*rewrap)(const char *path, const char *kek_id, const uint8_t *wdek,
                                       size_t len, uint8_t **ret_new, size_t *ret_new_len,
                                       void *ud),
                         void *ud, size_t *ret_count)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "UPDATE resources SET kek_id = ?2, wrapped_dek = ?3 WHERE path = ?1",
                        &st, NULL);
        /* page by page (bounded memory), all in the caller's one transaction */
        char last[256] = "";
        size_t total = 0, n = REWRAP_PAGE;
        while (r == 0 && n == REWRAP_PAGE) {
                struct wrap_row *v = NULL;
                n = 0;
                if ((r = wrap_rows_read(s, last, &v, &n)) < 0)
                        break;
                for (size_t i = 0; r == 0 && i < n; i++) {
                        uint8_t *nw = NULL;
                        size_t nlen = 0;
                        r = rewrap(v[i].path, v[i].kek_id, v[i].wdek, v[i].len, &nw, &nlen, ud);
                        if (r < 0)
                                break; /* the callback's error; *ret_new is not ours */
                        r = 0;
                        if (!nw || nlen == 0)
                                r = VT_E_INVAL;
                        else if (nlen > VT_STORE_MAX_WDEK)
                                r = VT_E_LIMIT;
                        if (r == 0) {
                                sqlite3_bind_text(st, 1, v[i].path, -1, SQLITE_STATIC);
                                sqlite3_bind_text(st, 2, new_kek_id, -1, SQLITE_STATIC);
                                r = bind_blob(st, 3, nw, nlen);
                        }
                        if (r == 0)
                                r = step_done(s, st, "rewrap resource", NULL);
                        if (r == 0 && sqlite3_changes(s->db) != 1)
                                r = VT_E_STORE; /* we hold the write lock: the row cannot go */
                        sqlite3_reset(st);
                        sqlite3_clear_bindings(st); /* nw is freed next */
                        free(nw);
                }
                if (n > 0)
                        memcpy(last, v[n - 1].path, sizeof(last));
                rows_free(v, n, sizeof(*v), wrap_row_clear);
                total += n;
        }
        if (r == 0)
                r = kek_set_current_tx(s, new_kek_id);
        if (r == 0)
                *ret_count = total;
        return r;
}

static int sq_resource_rewrap_all(struct vt_store *base, const char *new_kek_id,
                                  int (*rewrap)(const char *path, const char *kek_id,
                                                const uint8_t *wdek, size_t len, uint8_t **ret_new,
                                                size_t *ret_new_len, void *ud),
                                  void *ud, size_t *ret_count, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !name_valid(new_kek_id) || !rewrap)
                return VT_E_INVAL;
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int r = sync_full(s);
        if (r == 0)
                r = tx_begin(s, NULL);
        if (r == 0)
                r = tx_end(s, rewrap_all_tx(s, new_kek_id, rewrap, ud, &n), NULL);
        sync_normal(s);
        r = sq_diag(s, r, "resource rewrap all", d);
        pthread_mutex_unlock(&s->lock);
        if (r == 0 && ret_count)
                *ret_count = n;
        return r;
}

static int kek_current_locked(struct vt_sqlite *s, char id[32], int64_t *gen)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT current, generation FROM kek WHERE id = 1", &st, NULL);
        if (r < 0)
                return r;
        if ((r = step_row(s, st, "read the current KEK")) < 0)
                return r;
        if (copy_text(st, 0, id, 32) < 0)
                return VT_E_STORE;
        *gen = sqlite3_column_int64(st, 1);
        return 0;
}

static int sq_kek_current(struct vt_store *base, char ret_id[32], int64_t *ret_generation,
                          struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !ret_id)
                return VT_E_INVAL;
        char id[32];
        int64_t gen = 0;
        pthread_mutex_lock(&s->lock);
        int r = kek_current_locked(s, id, &gen);
        r = sq_diag(s, r, "kek current", d);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        memcpy(ret_id, id, sizeof(id));
        if (ret_generation)
                *ret_generation = gen;
        return 0;
}

static int kek_adopt_tx(struct vt_sqlite *s, const char *kek_id, char id[32])
{
        int64_t gen;
        int r = kek_current_locked(s, id, &gen);
        if (r != VT_E_NOTFOUND)
                return r; /* someone was first: theirs stands */
        r = kek_set_current_tx(s, kek_id);
        if (r == 0)
                snprintf(id, 32, "%s", kek_id);
        return r;
}

static int sq_kek_adopt(struct vt_store *base, const char *kek_id, char ret_id[32],
                        struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !name_valid(kek_id) || !ret_id)
                return VT_E_INVAL;
        char id[32];
        pthread_mutex_lock(&s->lock);
        int r = sync_full(s);
        if (r == 0)
                r = tx_begin(s, NULL);
        if (r == 0)
                r = tx_end(s, kek_adopt_tx(s, kek_id, id), NULL);
        sync_normal(s);
        r = sq_diag(s, r, "kek adopt", d);
        pthread_mutex_unlock(&s->lock);
        if (r == 0)
                memcpy(ret_id, id, sizeof(id));
        return r;
}

static int kek_count_locked(struct vt_sqlite *s, const char *kek_id, size_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT count(*) FROM resources WHERE kek_id = ?1", &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, kek_id, -1, SQLITE_STATIC);
        r = step_one(s, st, "count resources under a KEK", NULL);
        if (r < 0)
                return r;
        sqlite3_int64 n = sqlite3_column_int64(st, 0);
        if (n < 0)
                return VT_E_STORE;
        *ret = (size_t)n;
        return 0;
}

static int sq_kek_count(struct vt_store *base, const char *kek_id, size_t *ret, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !name_valid(kek_id) || !ret)
                return VT_E_INVAL;
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int r = kek_count_locked(s, kek_id, &n);
        r = sq_diag(s, r, "kek count", d);
        pthread_mutex_unlock(&s->lock);
        if (r == 0)
                *ret = n;
        return r;
}

static int policy_set_locked(struct vt_sqlite *s, const char *path, const char *json, int64_t now)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* One statement: the existence check and the write cannot be separated by
         * another connection's delete. (The WHERE also resolves the upsert's parsing
         * ambiguity after a SELECT.) */
        int r = prepare(s,
                        "INSERT INTO policies (path, policy, updated) SELECT ?1, ?2, ?3 "
                        "WHERE EXISTS (SELECT 1 FROM resources WHERE path = ?1) "
                        "ON CONFLICT (path) DO UPDATE SET policy = excluded.policy, "
                        "updated = excluded.updated",
                        &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                return VT_E_NOTFOUND;
        if (rc != SQLITE_DONE)
                return store_fail(s, NULL, "set policy");
        return sqlite3_changes(s->db) == 1 ? 0 : VT_E_NOTFOUND;
}

static int sq_policy_set(struct vt_store *base, const char *path, const char *json, int64_t now,
                         struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !vt_resource_path_valid(path))
                return VT_E_INVAL;
        int r = json_check(json);
        if (r < 0)
                return r;
        pthread_mutex_lock(&s->lock);
        r = sync_full(s);
        if (r == 0)
                r = policy_set_locked(s, path, json, now);
        sync_normal(s);
        r = sq_diag(s, r, "policy set", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int policy_get_locked(struct vt_sqlite *s, const char *path, char **ret_json)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = row_by_key(s, "SELECT policy FROM policies WHERE path = ?1", path, "read policy",
                           &st);
        if (r < 0)
                return r;
        return text_dup(st, 0, ret_json);
}

static int sq_policy_get(struct vt_store *base, const char *path, char **ret_json,
                         struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !vt_resource_path_valid(path) || !ret_json)
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = policy_get_locked(s, path, ret_json);
        r = sq_diag(s, r, "policy get", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int refval_add_locked(struct vt_sqlite *s, const char *id, const char *tee, const char *json,
                             int64_t now)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        /* The triggers bump the generation in this statement's transaction. */
        int r = prepare(s,
                        "INSERT INTO refvals (id, tee, value, created) VALUES (?1, ?2, ?3, ?4) "
                        "ON CONFLICT (id) DO UPDATE SET tee = excluded.tee, "
                        "value = excluded.value, created = excluded.created",
                        &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, tee, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        return step_done(s, st, "add reference value", NULL);
}

static int sq_refval_add(struct vt_store *base, const char *id, const char *tee, const char *json,
                         int64_t now, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !vt_refval_id_valid(id) || !name_valid(tee))
                return VT_E_INVAL;
        int r = json_check(json);
        if (r < 0)
                return r;
        pthread_mutex_lock(&s->lock);
        r = sync_full(s);
        if (r == 0)
                r = refval_add_locked(s, id, tee, json, now);
        sync_normal(s);
        r = sq_diag(s, r, "refval add", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int refval_delete_locked(struct vt_sqlite *s, const char *id)
{
        /* sqlite3_changes leaves out the trigger's update of the generation. */
        return exec_text(s, "DELETE FROM refvals WHERE id = ?1", id, NULL,
                         "delete reference value");
}

static int sq_refval_delete(struct vt_store *base, const char *id, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !vt_refval_id_valid(id))
                return VT_E_INVAL;
        pthread_mutex_lock(&s->lock);
        int r = sync_full(s);
        if (r == 0)
                r = refval_delete_locked(s, id);
        sync_normal(s);
        r = sq_diag(s, r, "refval delete", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* One reference value read for a list: the three strings share one allocation. */
struct refval_row {
        char *id, *tee, *json;
};

static void refval_row_clear(void *row)
{
        free(((struct refval_row *)row)->id);
}

static int refval_row_read(sqlite3_stmt *st, void *row)
{
        struct refval_row *ret = row;
        const char *col[3];
        size_t len[3], total = 0;
        for (int i = 0; i < 3; i++) {
                col[i] = (const char *)sqlite3_column_text(st, i);
                int n = sqlite3_column_bytes(st, i);
                if (!col[i] || n < 0)
                        return VT_E_STORE;
                len[i] = (size_t)n;
                total += len[i] + 1; /* each below SQLite's 2^31 limit: no overflow */
        }
        char *p = malloc(total);
        if (!p)
                return VT_E_NOMEM;
        char *out[3];
        for (size_t i = 0, off = 0; i < 3; off += len[i] + 1, i++) {
                out[i] = p + off;
                memcpy(out[i], col[i], len[i]);
                out[i][len[i]] = 0;
        }
        *ret = (struct refval_row){out[0], out[1], out[2]};
        return 0;
}

static int refval_list_locked(struct vt_sqlite *s, const char *tee, struct refval_row **ret,
                              size_t *ret_n)
{
        void *v = NULL;
        int r = select_rows(s,
                            tee ? "SELECT id, tee, value FROM refvals WHERE tee = ?1 ORDER BY id"
                                : "SELECT id, tee, value FROM refvals ORDER BY id",
                            tee, sizeof(**ret), refval_row_read, refval_row_clear, &v, ret_n);
        *ret = v;
        return r;
}

static int sq_refval_list(struct vt_store *base, const char *tee_or_null,
                          int (*cb)(const char *id, const char *tee, const char *json, void *ud),
                          void *ud, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !cb || (tee_or_null && !name_valid(tee_or_null)))
                return VT_E_INVAL;
        struct refval_row *v = NULL;
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int r = refval_list_locked(s, tee_or_null, &v, &n);
        r = sq_diag(s, r, "refval list", d);
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; r == 0 && i < n; i++) {
                int c = cb(v[i].id, v[i].tee, v[i].json, ud);
                if (c < 0)
                        r = c;
        }
        rows_free(v, n, sizeof(*v), refval_row_clear);
        return r;
}

static int refval_generation_locked(struct vt_sqlite *s, int64_t *ret)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = prepare_reused(s, "SELECT value FROM generations WHERE name = 'refvals'", &st);
        if (r < 0)
                return r;
        /* The row is written by migration 2; without it the triggers count nothing. */
        r = step_one(s, st, "read reference value generation", NULL);
        if (r < 0)
                return r;
        *ret = sqlite3_column_int64(st, 0);
        return 0;
}

static int sq_refval_generation(struct vt_store *base, int64_t *ret, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (!s || !ret)
                return VT_E_INVAL;
        int64_t g;
        pthread_mutex_lock(&s->lock);
        int r = refval_generation_locked(s, &g);
        r = sq_diag(s, r, "refval generation", d);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        *ret = g;
        return 0;
}

/*
 * The ledger (schema 6).
 */

static int ledger_size_locked(struct vt_sqlite *s, uint64_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT coalesce(max(idx) + 1, 0) FROM ledger_entries", &st, NULL);
        if (r < 0)
                return r;
        if ((r = step_one(s, st, "ledger size", NULL)) < 0)
                return r;
        *ret = (uint64_t)sqlite3_column_int64(st, 0);
        return 0;
}

/* prepare_kept prepares a statement of the ledger's that the connection keeps for its
 * lifetime (reset after each use, finalized by sq_free). */
static int prepare_kept(struct vt_sqlite *s, const char *sql, sqlite3_stmt **ret)
{
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL) != SQLITE_OK)
                return store_fail(s, NULL, "prepare");
        return 0;
}

/*
 * The ledger's checkpointer. SQLite's automatic checkpoint runs inside the COMMIT that
 * takes the WAL past 1000 pages, on the committing connection: for the ledger's appends
 * that put the copy of those pages into the database and the database's fsync into an
 * append's latency, and every caller of that group waited for it. Once the ledger runs on
 * a connection, it has no automatic checkpoint; its WAL hook, called after each commit
 * (the ledger's and every other) with the WAL's size,
 * wakes this thread once the WAL holds LEDGER_CKPT_PAGES pages, and the thread, on a
 * connection of its own, checkpoints in two steps:
 *   1. PASSIVE, while the writer goes on committing: copies the bulk of the WAL into the
 *      database and syncs it;
 *   2. if the writer committed during step 1 (frames left to copy), PASSIVE again under
 *      the writer's lock, so that the whole WAL is in the database before the writer's
 *      next transaction, which then starts writing the WAL from its beginning again.
 *      Without step 2 a writer that never pauses would always be a few frames ahead of
 *      the checkpoint and the WAL would grow without bound: SQLite restarts the WAL only
 *      when a writer begins with every frame copied.
 * Step 2 copies only what step 1 missed (the groups committed meanwhile) and holds the
 * connection (appends, sessions and reads alike) for one sync of the database. 3000
 * pages, not SQLite's 1000: step 1's writes slow the writer's syncs down while it runs
 * (one disk), so fewer, larger checkpoints (the pages the ledger rewrites, the right edge
 * of its B-trees, are copied once per checkpoint) cost the appenders less; 3000 pages of
 * WAL (12 MB) stay under journal_size_limit, so the file is reused, not truncated and
 * grown again. A reader holding an old snapshot can stop either step short, as it stops
 * the automatic checkpoint; the next wake-up tries again.
 */
#define LEDGER_CKPT_PAGES 3000

struct ledger_ckpt {
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cond;
        bool due, stop;
        sqlite3 *db;            /* the checkpointer's connection */
        struct vt_sqlite *conn; /* the connection the ledger appends on: its lock for step 2 */
};

/* ledger_wal_hook runs on the connection after each commit (SQLite's mutex and its lock
 * held): it only wakes the checkpointer. */
static int ledger_wal_hook(void *ud, sqlite3 *db, const char *name, int pages)
{
        struct ledger_ckpt *ck = ud;
        (void)db;
        (void)name;
        if (pages < LEDGER_CKPT_PAGES)
                return SQLITE_OK;
        pthread_mutex_lock(&ck->mu);
        if (!ck->due) {
                ck->due = true;
                pthread_cond_signal(&ck->cond);
        }
        pthread_mutex_unlock(&ck->mu);
        return SQLITE_OK;
}

static void *ledger_ckpt_main(void *arg)
{
        struct ledger_ckpt *ck = arg;
        pthread_setname_np(pthread_self(), "vt-ledger-ckpt");
        pthread_mutex_lock(&ck->mu);
        for (;;) {
                while (!ck->due && !ck->stop)
                        pthread_cond_wait(&ck->cond, &ck->mu);
                if (ck->stop)
                        break;
                ck->due = false;
                pthread_mutex_unlock(&ck->mu);
                /* errors (SQLITE_BUSY: another checkpoint runs) leave it to the next
                 * turn. Step 2 always: the frames step 1 reports are those of its
                 * start, not those the writer added meanwhile; with none left it
                 * neither writes nor syncs. */
                (void)sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                                NULL);
                pthread_mutex_lock(&ck->conn->lock);
                (void)sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                                NULL);
                pthread_mutex_unlock(&ck->conn->lock);
                pthread_mutex_lock(&ck->mu);
        }
        pthread_mutex_unlock(&ck->mu);
        return NULL;
}

static void ledger_ckpt_free(struct ledger_ckpt *ck)
{
        sqlite3_close_v2(ck->db);
        pthread_mutex_destroy(&ck->mu);
        pthread_cond_destroy(&ck->cond);
        free(ck);
}

static void ledger_ckpt_stop(struct ledger_ckpt *ck)
{
        if (!ck)
                return;
        pthread_mutex_lock(&ck->mu);
        ck->stop = true;
        pthread_cond_signal(&ck->cond);
        pthread_mutex_unlock(&ck->mu);
        pthread_join(ck->thread, NULL);
        ledger_ckpt_free(ck);
}

/* ledger_ckpt_start opens the checkpointer's connection and starts its thread for the
 * connection s (under s->lock), and hooks it to s's commits. */
static int ledger_ckpt_start(struct vt_sqlite *s, struct vt_diag *d)
{
        struct ledger_ckpt *ck = calloc(1, sizeof(*ck));
        if (!ck)
                return vt_diag_set(d, VT_E_NOMEM, "store: out of memory");
        ck->conn = s;
        pthread_mutex_init(&ck->mu, NULL);
        pthread_cond_init(&ck->cond, NULL);
        int rc = sqlite3_open_v2(s->path, &ck->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                                 vt_walvfs_name());
        if (rc == SQLITE_OK)
                rc = sqlite3_busy_timeout(ck->db, STORE_BUSY_TIMEOUT_MS);
        /* a first read opens the WAL: until then a checkpoint on this connection does
         * nothing (and says SQLITE_OK) */
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(ck->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                int r = vt_diag_set(d, VT_E_STORE, "store: open the ledger's checkpointer: %s",
                                    ck->db ? sqlite3_errmsg(ck->db) : sqlite3_errstr(rc));
                ledger_ckpt_free(ck);
                return r;
        }
        if (pthread_create(&ck->thread, NULL, ledger_ckpt_main, ck) != 0) {
                ledger_ckpt_free(ck);
                return vt_diag_set(d, VT_E_NOMEM, "store: cannot start the ledger's checkpointer");
        }
        /* replaces the connection's automatic checkpoint (itself a WAL hook, which
         * PRAGMA wal_autocheckpoint would put back) */
        sqlite3_wal_hook(s->db, ledger_wal_hook, ck);
        s->ck = ck;
        return 0;
}

/* ledger_prepare readies the connection for the ledger's appends (under s->lock): their
 * statements, kept, and the checkpointer that takes over its automatic checkpoints. On
 * failure nothing is kept, and the next append tries again. */
static int ledger_prepare(struct vt_sqlite *s, struct vt_diag *d)
{
        static const char *const sql[] = {
                "BEGIN IMMEDIATE",
                "COMMIT",
                "SELECT coalesce(max(idx) + 1, 0) FROM ledger_entries",
                "INSERT INTO ledger_entries (idx, time, kind, entry, leaf, nodes) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
                "INSERT INTO ledger_sths (size, time, sth) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (size) DO NOTHING",
        };
        sqlite3_stmt **st[] = {&s->l_begin, &s->l_commit, &s->l_size,
                               &s->l_entry, &s->l_node,   &s->l_sth};
        static_assert(ELEMENTSOF(sql) == ELEMENTSOF(st), "a statement each");
        int r = 0;
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(st); i++)
                r = prepare_kept(s, sql[i], st[i]);
        if ((r = sq_diag(s, r, "prepare the ledger's statements", d)) == 0)
                r = ledger_ckpt_start(s, d);
        if (r < 0)
                for (size_t i = 0; i < ELEMENTSOF(st); i++) {
                        sqlite3_finalize(*st[i]);
                        *st[i] = NULL;
                }
        return r;
}

/* ledger_ready prepares the ledger's statements on the connection, by the first call. */
static int ledger_ready(struct vt_sqlite *s, struct vt_diag *d)
{
        pthread_mutex_lock(&s->lock);
        int r = s->l_begin ? 0 : ledger_prepare(s, d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* kept_done steps a kept statement that yields no row, and resets it. */
static int kept_done(struct vt_sqlite *w, sqlite3_stmt *st, const char *what)
{
        int r = step_done(w, st, what, NULL);
        sqlite3_reset(st);
        return r;
}

/*
 * An append is made durable by syncing the WAL, in which its commit (synchronous=NORMAL)
 * wrote its frames, after the commit: SQLite's synchronous=FULL syncs inside the commit,
 * holding the database's write lock and (here) the connection's lock through the disk's
 * flush, so that every session write and read would wait for the ledger's sync. Synced
 * after the commit, outside the lock, they go on meanwhile; what the caller is told
 * still waits for the sync. The frames cannot leave the WAL unsynced in between: a
 * checkpoint syncs the WAL before it copies from it, and the WAL is written over from its
 * start only after a checkpoint that copied everything has synced the database.
 *
 * wal_sync_prepare (s->lock held) returns in *ret the WAL's file, for wal_sync_file to
 * sync once the lock is released, or NULL when nothing is left to do: the connection's
 * first sync is done here, under the lock, because SQLite's file then also syncs its
 * directory and clears a flag in its state (the one write to that state a sync makes);
 * after that a sync only reads the descriptor, which stays open as long as the
 * connection, and two syncs, or a sync and the connection's writes, may run at once.
 * idle: no commit may have happened yet (vt_store_ledger_sync); with no WAL open there
 * is then nothing to sync. After a commit no WAL open means not WAL mode, a failure.
 */
static int wal_sync_prepare(struct vt_sqlite *s, bool idle, sqlite3_file **ret)
{
        sqlite3_file *f = NULL;
        *ret = NULL;
        int rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
        if (rc == SQLITE_OK && (!f || !f->pMethods)) {
                if (idle)
                        return 0;
                rc = SQLITE_CANTOPEN;
        }
        if (rc == SQLITE_OK && !s->wal_synced) {
                rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
                s->wal_synced = rc == SQLITE_OK;
                f = NULL;
        }
        if (rc == SQLITE_OK) {
                *ret = f;
                return 0;
        }
        /* the VFS's failure is not the connection's: recorded here, for sq_diag */
        if (!s->err_code) {
                s->err_code = rc;
                snprintf(s->err_msg, sizeof(s->err_msg), "sync the WAL: %s", sqlite3_errstr(rc));
        }
        return VT_E_STORE;
}

/* wal_sync_file syncs f (from wal_sync_prepare, or NULL: nothing to do), the lock
 * released; a failure is diagnosed as sq_diag would, for op. */
static int wal_sync_file(sqlite3_file *f, const char *op, struct vt_diag *d)
{
        int rc = f ? f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) : SQLITE_OK;
        if (rc == SQLITE_OK)
                return 0;
        return vt_diag_set(d, VT_E_STORE, "store: %s: sync the WAL: %s (%s)", op,
                           sqlite3_errstr(rc), sqlite_code_name(rc));
}

/* head_commits sets the connection's commits to synchronous=FULL or back to NORMAL
 * (s->lock held throughout: no other commit sees FULL). A tree head is committed with
 * FULL: SQLite then syncs the WAL inside the commit, before the head is visible to any
 * reader, so that no reader (a receipt, GET /ledger/sth) can be handed a signed head that
 * a power cut would take back. Entries are synced after their commit (wal_sync_file,
 * outside the locks), and nothing is released on their strength before that. */
static int head_commits(struct vt_sqlite *s, bool full)
{
        return exec(s, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                    full ? "set synchronous=FULL" : "set synchronous=NORMAL", NULL);
}

/* ledger_tx_end commits the ledger's transaction if r is 0, else rolls it back. */
static int ledger_tx_end(struct vt_sqlite *s, int r)
{
        if (r == 0)
                r = kept_done(s, s->l_commit, "commit");
        if (r < 0 && !sqlite3_get_autocommit(s->db))
                (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

/* ledger_sth_row writes one tree head row (w->lock held). */
static int ledger_sth_row(struct vt_sqlite *w, uint64_t size, int64_t time, const char *sth)
{
        sqlite3_stmt *st = w->l_sth;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
        sqlite3_bind_int64(st, 2, time);
        sqlite3_bind_text(st, 3, sth, -1, SQLITE_STATIC);
        int r = kept_done(w, st, "put ledger tree head");
        sqlite3_clear_bindings(st); /* the caller's text is not ours to keep */
        return r;
}

/* The row of entry index that completed the node (level, index): appending entry i
 * completes the nodes of levels 1..t (t the trailing one bits of i), the node (l, k) when
 * i = (k + 1) * 2^l - 1. INT64_MAX + 1 (no row) when that is out of range. */
static uint64_t node_row(unsigned level, uint64_t index)
{
        if (level == 0 || level > 62 || index >= (UINT64_C(1) << (63 - level)) - 1)
                return (uint64_t)INT64_MAX + 1;
        return ((index + 1) << level) - 1;
}

/* Where a group's nodes go (schema 8 and 9): a leaf into its entry's row (leaf), an
 * inner node into the row of the entry that completed it (nodes, levels 1..t in order),
 * anything else (not of this group, or not in that order) into ledger_nodes. */
struct placement {
        const uint8_t **leaf;  /* per row: its leaf hash, or NULL */
        size_t *first, *count; /* per row: its inner nodes in blob, from first, count */
        size_t *row;           /* per node: the row it went into, or SIZE_MAX */
        uint8_t *blob;         /* the rows' inner nodes, 32 bytes each */
};

static void place_nodes(struct placement *p, uint64_t expect_size, size_t n,
                        const struct vt_ledger_hash *nodes, size_t m)
{
        for (size_t j = 0; j < m; j++) {
                p->row[j] = SIZE_MAX;
                uint64_t r = nodes[j].level == 0 ? nodes[j].index
                                                 : node_row(nodes[j].level, nodes[j].index);
                if (r < expect_size || r - expect_size >= n)
                        continue;
                size_t i = (size_t)(r - expect_size);
                if (nodes[j].level == 0) {
                        if (p->leaf[i])
                                continue;
                        p->leaf[i] = nodes[j].hash;
                } else if (nodes[j].level == p->count[i] + 1) {
                        p->count[i]++;
                } else {
                        continue;
                }
                p->row[j] = i;
        }
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
                p->first[i] = at;
                at += p->count[i];
        }
        for (size_t j = 0; j < m; j++)
                if (p->row[j] != SIZE_MAX && nodes[j].level > 0)
                        memcpy(p->blob + 32 * (p->first[p->row[j]] + nodes[j].level - 1),
                               nodes[j].hash, 32);
}

static int ledger_append_tx(struct vt_sqlite *w, uint64_t expect_size,
                            const struct vt_ledger_row *rows, size_t n,
                            const struct vt_ledger_hash *nodes, size_t m,
                            const struct vt_ledger_sth *sth, struct placement *p)
{
        /* max() of the INTEGER PRIMARY KEY: one seek to the last row */
        int r = step_one(w, w->l_size, "ledger size", NULL);
        uint64_t size = r == 0 ? (uint64_t)sqlite3_column_int64(w->l_size, 0) : 0;
        sqlite3_reset(w->l_size);
        if (r < 0)
                return r;
        if (size != expect_size)
                return VT_E_STALE;
        place_nodes(p, expect_size, n, nodes, m);
        sqlite3_stmt *st = w->l_entry;
        for (size_t i = 0; r == 0 && i < n; i++) {
                sqlite3_bind_int64(st, 1, (sqlite3_int64)rows[i].index);
                sqlite3_bind_int64(st, 2, rows[i].time);
                sqlite3_bind_text(st, 3, rows[i].kind, -1, SQLITE_STATIC);
                sqlite3_bind_text64(st, 4, rows[i].entry, rows[i].entry_len, SQLITE_STATIC,
                                    SQLITE_UTF8);
                if (p->leaf[i])
                        sqlite3_bind_blob(st, 5, p->leaf[i], 32, SQLITE_STATIC);
                else
                        sqlite3_bind_null(st, 5);
                if (p->count[i])
                        sqlite3_bind_blob(st, 6, p->blob + 32 * p->first[i],
                                          (int)(32 * p->count[i]), SQLITE_STATIC);
                else
                        sqlite3_bind_null(st, 6);
                r = kept_done(w, st, "append ledger entry");
        }
        sqlite3_clear_bindings(st); /* the caller's rows are not ours to keep */
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct vt_store_session_mark *k = rows[i].mark;
                if (!k)
                        continue;
                /* its answer, or the transaction's failure */
                int c = session_claim_locked(w, k->id, k->nonce, k->now, k->claims_json,
                                             k->expires);
                if (c == 0 || c == VT_E_REPLAY || c == VT_E_EXPIRED || c == VT_E_BINDING ||
                    c == VT_E_NOTFOUND)
                        k->result = c;
                else
                        r = c;
        }
        st = w->l_node;
        for (size_t i = 0; r == 0 && i < m; i++) {
                if (p->row[i] != SIZE_MAX)
                        continue; /* in its entry's row */
                sqlite3_bind_int(st, 1, (int)nodes[i].level);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)nodes[i].index);
                sqlite3_bind_blob(st, 3, nodes[i].hash, 32, SQLITE_STATIC);
                r = kept_done(w, st, "append ledger node");
        }
        sqlite3_clear_bindings(st);
        if (r == 0 && sth) /* in the same transaction: one sync for both */
                r = ledger_sth_row(w, sth->size, sth->time, sth->sth);
        return r;
}

static void placement_free(struct placement *p)
{
        free(p->leaf);
        free(p->first);
        free(p->count);
        free(p->row);
        free(p->blob);
}

static int sq_ledger_append(struct vt_store *base, uint64_t expect_size,
                            const struct vt_ledger_row *rows, size_t n,
                            const struct vt_ledger_hash *nodes, size_t m,
                            const struct vt_ledger_sth *sth, bool sync, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (expect_size > INT64_MAX || n > INT64_MAX - expect_size || m > SIZE_MAX / 32)
                return VT_E_INVAL;
        _cleanup_(placement_free) struct placement p = {
                .leaf = calloc(n, sizeof(*p.leaf)),
                .first = calloc(n, sizeof(*p.first)),
                .count = calloc(n, sizeof(*p.count)),
                .row = calloc(m, sizeof(*p.row)),
                .blob = calloc(m, 32),
        };
        if ((n && (!p.leaf || !p.first || !p.count)) || (m && (!p.row || !p.blob)))
                return vt_diag_set(d, VT_E_NOMEM, "store: out of memory");
        int r = ledger_ready(s, d);
        if (r < 0)
                return r;
        /* durable before the caller releases anything on its strength: the commit is
         * synced right after it (wal_sync_file, the lock released), unless the caller
         * syncs later (vt_store_ledger_append_unsynced, then vt_store_ledger_sync) */
        sqlite3_file *wal = NULL;
        pthread_mutex_lock(&s->lock);
        r = sth ? head_commits(s, true) : 0;
        if (r == 0)
                r = kept_done(s, s->l_begin, "begin transaction");
        if (r == 0)
                r = ledger_tx_end(s, ledger_append_tx(s, expect_size, rows, n, nodes, m, sth, &p));
        /* back to NORMAL; should that fail, the commits stay synced inside (slower, as
         * durable): the append itself is done */
        if (sth)
                (void)head_commits(s, false);
        /* with a head synced by the commit itself, whatever sync says */
        if (r == 0 && sync && !sth)
                r = wal_sync_prepare(s, false, &wal);
        r = sq_diag(s, r, "ledger append", d);
        pthread_mutex_unlock(&s->lock);
        return r < 0 ? r : wal_sync_file(wal, "ledger append", d);
}

static int sq_ledger_size(struct vt_store *base, uint64_t *ret, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        uint64_t v;
        pthread_mutex_lock(&s->lock);
        int r = sq_diag(s, ledger_size_locked(s, &v), "ledger size", d);
        pthread_mutex_unlock(&s->lock);
        if (r == 0)
                *ret = v;
        return r;
}

static int ledger_node_locked(struct vt_sqlite *s, unsigned level, uint64_t index, uint8_t *ret)
{
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        /* a leaf in its entry's row (schema 8), an inner node in the row of the entry that
         * completed it (schema 9), else in ledger_nodes (appended before) */
        int r = prepare_reused(
                s,
                "SELECT leaf FROM ledger_entries WHERE ?1 = 0 AND idx = ?2 AND leaf IS "
                "NOT NULL UNION ALL "
                "SELECT substr(nodes, 32 * ?1 - 31, 32) FROM ledger_entries "
                "WHERE ?1 > 0 AND idx = ?3 AND length(nodes) >= 32 * ?1 UNION ALL "
                "SELECT hash FROM ledger_nodes WHERE level = ?1 AND idx = ?2 LIMIT 1",
                &st);
        if (r < 0)
                return r;
        uint64_t row = node_row(level, index);
        sqlite3_bind_int(st, 1, (int)level);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
        sqlite3_bind_int64(st, 3, row > INT64_MAX ? -1 : (sqlite3_int64)row);
        if ((r = step_row(s, st, "read ledger node")) < 0)
                return r;
        if (sqlite3_column_bytes(st, 0) != 32)
                return VT_E_FORMAT;
        memcpy(ret, sqlite3_column_blob(st, 0), 32);
        return 0;
}

static int sq_ledger_node(struct vt_store *base, unsigned level, uint64_t index,
                          uint8_t ret[static 32], struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        if (index > INT64_MAX)
                return VT_E_NOTFOUND;
        uint8_t h[32];
        pthread_mutex_lock(&s->lock);
        int r = sq_diag(s, ledger_node_locked(s, level, index, h), "ledger node", d);
        pthread_mutex_unlock(&s->lock);
        if (r == 0)
                memcpy(ret, h, 32);
        return r;
}

struct ledger_row_copy {
        uint64_t index;
        int64_t time;
        char kind[VT_STORE_MAX_KIND + 1];
        char *entry;
        size_t len;
};

static void ledger_row_clear(void *p)
{
        free(((struct ledger_row_copy *)p)->entry);
}

static int ledger_entries_locked(struct vt_sqlite *s, uint64_t start, uint64_t end,
                                 struct ledger_row_copy **ret, size_t *ret_n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "SELECT idx, time, kind, entry FROM ledger_entries WHERE idx >= ?1 AND "
                        "idx < ?2 ORDER BY idx",
                        &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)start);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)end);
        struct ledger_row_copy *v = NULL;
        size_t n = 0, cap = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = grow((void **)&v, n, &cap, sizeof(*v))) < 0)
                        break;
                struct ledger_row_copy *row = &v[n];
                memset(row, 0, sizeof(*row));
                row->index = (uint64_t)sqlite3_column_int64(st, 0);
                row->time = sqlite3_column_int64(st, 1);
                if ((r = copy_text(st, 2, row->kind, sizeof(row->kind))) < 0 ||
                    (r = text_dup(st, 3, &row->entry)) < 0)
                        break;
                row->len = (size_t)sqlite3_column_bytes(st, 3);
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_fail(s, NULL, "read ledger entries");
        if (r < 0) {
                rows_free(v, n, sizeof(*v), ledger_row_clear);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int sq_ledger_entries(struct vt_store *base, uint64_t start, uint64_t end,
                             int (*cb)(const struct vt_ledger_row *row, void *ud), void *ud,
                             struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        struct ledger_row_copy *v = NULL;
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int r = sq_diag(s, ledger_entries_locked(s, start, end, &v, &n), "ledger entries", d);
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct vt_ledger_row row = {.index = v[i].index,
                                            .time = v[i].time,
                                            .kind = v[i].kind,
                                            .entry = v[i].entry,
                                            .entry_len = v[i].len};
                int c = cb(&row, ud);
                if (c < 0)
                        r = c;
        }
        rows_free(v, n, sizeof(*v), ledger_row_clear);
        return r;
}

static int sq_ledger_sth_put(struct vt_store *base, uint64_t size, int64_t time, const char *sth,
                             struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        int r = ledger_ready(s, d);
        if (r < 0)
                return r;
        /* synced inside its commit (head_commits) */
        pthread_mutex_lock(&s->lock);
        r = head_commits(s, true);
        if (r == 0)
                r = ledger_sth_row(s, size, time, sth);
        (void)head_commits(s, false); /* as in sq_ledger_append */
        r = sq_diag(s, r, "ledger tree head put", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_ledger_sync(struct vt_store *base, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        int r = ledger_ready(s, d);
        if (r < 0)
                return r;
        /* the WAL holds every connection's commits: its sync covers them all */
        sqlite3_file *wal = NULL;
        pthread_mutex_lock(&s->lock);
        r = sq_diag(s, wal_sync_prepare(s, true, &wal), "ledger sync", d);
        pthread_mutex_unlock(&s->lock);
        return r < 0 ? r : wal_sync_file(wal, "ledger sync", d);
}

static int ledger_sth_latest_locked(struct vt_sqlite *s, uint64_t *ret_size, char **ret_sth)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT size, sth FROM ledger_sths ORDER BY size DESC LIMIT 1", &st,
                        NULL);
        if (r < 0)
                return r;
        if ((r = step_row(s, st, "read ledger tree head")) < 0)
                return r;
        char *t = NULL;
        if ((r = text_dup(st, 1, &t)) < 0)
                return r;
        *ret_size = (uint64_t)sqlite3_column_int64(st, 0);
        *ret_sth = t;
        return 0;
}

static int sq_ledger_sth_latest(struct vt_store *base, uint64_t *ret_size, char **ret_sth,
                                struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        pthread_mutex_lock(&s->lock);
        int r = sq_diag(s, ledger_sth_latest_locked(s, ret_size, ret_sth), "ledger tree head", d);
        pthread_mutex_unlock(&s->lock);
        return r;
}

struct sth_row {
        uint64_t size;
        int64_t time;
        char *sth;
};

static void sth_row_clear(void *p)
{
        free(((struct sth_row *)p)->sth);
}

static int ledger_sths_locked(struct vt_sqlite *s, uint64_t from, size_t max, struct sth_row **ret,
                              size_t *ret_n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "SELECT size, time, sth FROM ledger_sths WHERE size >= ?1 ORDER BY size "
                        "LIMIT ?2",
                        &st, NULL);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
        sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
        struct sth_row *v = NULL;
        size_t n = 0, cap = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if ((r = grow((void **)&v, n, &cap, sizeof(*v))) < 0)
                        break;
                memset(&v[n], 0, sizeof(v[n]));
                v[n].size = (uint64_t)sqlite3_column_int64(st, 0);
                v[n].time = sqlite3_column_int64(st, 1);
                if ((r = text_dup(st, 2, &v[n].sth)) < 0)
                        break;
                n++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = store_fail(s, NULL, "read ledger tree heads");
        if (r < 0) {
                rows_free(v, n, sizeof(*v), sth_row_clear);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int sq_ledger_sths(struct vt_store *base, uint64_t from_size, size_t max,
                          int (*cb)(uint64_t size, int64_t time, const char *sth, void *ud),
                          void *ud, struct vt_diag *d)
{
        struct vt_sqlite *s = sq_of(base);
        struct sth_row *v = NULL;
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int r = sq_diag(s, ledger_sths_locked(s, from_size, max, &v, &n), "ledger tree heads", d);
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; r == 0 && i < n; i++) {
                int c = cb(v[i].size, v[i].time, v[i].sth, ud);
                if (c < 0)
                        r = c;
        }
        rows_free(v, n, sizeof(*v), sth_row_clear);
        return r;
}

const struct vt_store_ops vt_store_sqlite_ops = {
        .name = "sqlite",
        .open = sq_open,
        .close = sq_close,
        .schema_version = sq_schema_version,
        .ping = sq_ping,
        .session_open = sq_session_open,
        .session_get = sq_session_get,
        .session_claim = sq_session_claim,
        .session_attest = sq_session_attest,
        .session_set_state = sq_session_set_state,
        .session_set_claims = sq_session_set_claims,
        .session_set_attested = sq_session_set_attested,
        .session_get_claims = sq_session_get_claims,
        .session_count_live = sq_session_count_live,
        .sweep = sq_sweep,
        .resource_put = sq_resource_put,
        .resource_put_policy = sq_resource_put_policy,
        .resource_put_batch = sq_resource_put_batch,
        .set_cache = sq_set_cache,
        .resource_get = sq_resource_get,
        .release_get = sq_release_get,
        .resource_delete = sq_resource_delete,
        .resource_list = sq_resource_list,
        .resource_rewrap_all = sq_resource_rewrap_all,
        .kek_current = sq_kek_current,
        .kek_adopt = sq_kek_adopt,
        .kek_count = sq_kek_count,
        .policy_set = sq_policy_set,
        .policy_get = sq_policy_get,
        .refval_add = sq_refval_add,
        .refval_delete = sq_refval_delete,
        .refval_list = sq_refval_list,
        .refval_generation = sq_refval_generation,
        .ledger_append = sq_ledger_append,
        .ledger_sync = sq_ledger_sync,
        .ledger_size = sq_ledger_size,
        .ledger_node = sq_ledger_node,
        .ledger_entries = sq_ledger_entries,
        .ledger_sth_put = sq_ledger_sth_put,
        .ledger_sth_latest = sq_ledger_sth_latest,
        .ledger_sths = sq_ledger_sths,
};
