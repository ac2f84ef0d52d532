/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store on PostgreSQL (store.h) through libpq: several veriteed replicas share one
 * database. The semantics are those of the SQLite back end (sqlite.c); what SQLite gets
 * from its single database write lock is done here with advisory transaction locks and
 * row locks, and a transaction that loses a serialization or deadlock race is retried a
 * bounded number of times. Every value is a bound parameter.
 *
 * Connections: a small pool (PG_POOL_SIZE), each connection used by one thread at a
 * time; a thread waits for a free one at most PG_POOL_WAIT_S seconds. A connection that
 * the server closed (a restart, an administrator's pg_terminate_backend) is noticed
 * before use and reset (PQreset); connecting gives up after connect_timeout seconds
 * (PG_CONNECT_TIMEOUT unless the DSN says otherwise), so that a call while the server is
 * down fails with a reason instead of hanging.
 *
 * Diagnostics name libpq's message and the SQLSTATE ("postgres: 57P01 terminating
 * connection due to administrator command"), never the DSN (it may hold a password).
 */
#define _GNU_SOURCE /* explicit_bzero */
#include "store/store.h"
#include "store/store_impl.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "util/dlib.h"
#include "util/macro.h"
#include "veritee/veritee.h"

/* libpq is opened on first use (util/dlib.h), when a PostgreSQL store is opened: a server on
 * SQLite never maps it nor what it pulls in (Kerberos, LDAP, SASL, ...). */
VT_DLSYM_DECL(PQclear);
VT_DLSYM_DECL(PQcmdTuples);
VT_DLSYM_DECL(PQconnectdbParams);
VT_DLSYM_DECL(PQconninfoFree);
VT_DLSYM_DECL(PQconninfoParse);
VT_DLSYM_DECL(PQconsumeInput);
VT_DLSYM_DECL(PQenterPipelineMode);
VT_DLSYM_DECL(PQerrorMessage);
VT_DLSYM_DECL(PQexec);
VT_DLSYM_DECL(PQexecParams);
VT_DLSYM_DECL(PQexitPipelineMode);
VT_DLSYM_DECL(PQfinish);
VT_DLSYM_DECL(PQfreemem);
VT_DLSYM_DECL(PQgetResult);
VT_DLSYM_DECL(PQgetisnull);
VT_DLSYM_DECL(PQgetlength);
VT_DLSYM_DECL(PQgetvalue);
VT_DLSYM_DECL(PQntuples);
VT_DLSYM_DECL(PQpipelineSync);
VT_DLSYM_DECL(PQreset);
VT_DLSYM_DECL(PQresultErrorField);
VT_DLSYM_DECL(PQresultStatus);
VT_DLSYM_DECL(PQsendQueryParams);
VT_DLSYM_DECL(PQsetNoticeProcessor);
VT_DLSYM_DECL(PQstatus);
VT_DLSYM_DECL(PQtransactionStatus);

static const struct vt_dlsym pq_syms[] = {
        VT_DLSYM(PQclear),
        VT_DLSYM(PQcmdTuples),
        VT_DLSYM(PQconnectdbParams),
        VT_DLSYM(PQconninfoFree),
        VT_DLSYM(PQconninfoParse),
        VT_DLSYM(PQconsumeInput),
        VT_DLSYM(PQenterPipelineMode),
        VT_DLSYM(PQerrorMessage),
        VT_DLSYM(PQexec),
        VT_DLSYM(PQexecParams),
        VT_DLSYM(PQexitPipelineMode),
        VT_DLSYM(PQfinish),
        VT_DLSYM(PQfreemem),
        VT_DLSYM(PQgetResult),
        VT_DLSYM(PQgetisnull),
        VT_DLSYM(PQgetlength),
        VT_DLSYM(PQgetvalue),
        VT_DLSYM(PQntuples),
        VT_DLSYM(PQpipelineSync),
        VT_DLSYM(PQreset),
        VT_DLSYM(PQresultErrorField),
        VT_DLSYM(PQresultStatus),
        VT_DLSYM(PQsendQueryParams),
        VT_DLSYM(PQsetNoticeProcessor),
        VT_DLSYM(PQstatus),
        VT_DLSYM(PQtransactionStatus),
};

static struct vt_dlib libpq = VT_DLIB(VT_SONAME_PQ, pq_syms, NULL);

/* At most this many connections per store handle (per process). */
#define PG_POOL_SIZE 8
/* How long a thread waits for a free connection before VT_E_STORE. */
#define PG_POOL_WAIT_S 10
/* libpq's connect_timeout (seconds) unless the DSN sets one. */
#define PG_CONNECT_TIMEOUT "5"
/* How long a statement waits for a lock another transaction holds (SQLite's busy
 * timeout): a rotation holding the KEK lock delays writers by at most this much. */
#define PG_LOCK_TIMEOUT "SET lock_timeout = '10s'"
/* Attempts of a transaction that fails with 40001 (serialization) or 40P01 (deadlock),
 * or whose connection was lost before anything could have been committed. */
#define PG_ATTEMPTS 5

/* Advisory lock keys (pg_advisory_xact_lock), constants of this program: 0x7674 ("vt")
 * in the high bytes, then what they serialize; decimal, for the SQL text. */
#define LOCK_MIGRATE  "1987313665" /* 0x76740001: migrations (replicas starting together) */
#define LOCK_SESSIONS "1987313666" /* 0x76740002: session counts and the insert after them */
#define LOCK_KEK      "1987313667" /* 0x76740003: shared: resource writes; exclusive: KEK */
#define LOCK_LEDGER   "1987313668" /* 0x76740004: a ledger append, from its size to the commit */

/*
 * The schema, one step per version: migrations[i] takes a database from version i to
 * i + 1, and the one row of schema_version records how far it has come. Steps are
 * append-only: a step that has shipped is never edited. Version 1 is the whole schema
 * that SQLite reached in its five steps (same tables, columns and meaning; BYTEA for
 * blobs, BIGINT for times). All steps run in one transaction under LOCK_MIGRATE: DDL is
 * transactional in PostgreSQL, so a migration is applied once and never half.
 */
static const char *const migrations[] = {
        /* 1: sessions, resources, policies, reference values and their generation,
         * the current KEK. */
        "CREATE TABLE sessions ("
        "id TEXT PRIMARY KEY NOT NULL,"
        "tee TEXT NOT NULL,"
        "nonce TEXT NOT NULL,"
        "created BIGINT NOT NULL,"
        "expires BIGINT NOT NULL,"
        "state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),"
        "claims TEXT,"
        "client TEXT NOT NULL DEFAULT ''"
        ");"
        "CREATE INDEX sessions_expires ON sessions (expires);"
        "CREATE INDEX sessions_open ON sessions (expires) WHERE state = 0;"
        "CREATE INDEX sessions_open_client ON sessions (client, expires) WHERE state = 0;"
        "CREATE TABLE resources ("
        "path TEXT PRIMARY KEY NOT NULL,"
        "repo TEXT NOT NULL CHECK (repo = split_part(path, '/', 1)),"
        "kek_id TEXT NOT NULL,"
        "wrapped_dek BYTEA NOT NULL,"
        "ciphertext BYTEA NOT NULL,"
        "size BIGINT NOT NULL CHECK (size >= 0),"
        "created BIGINT NOT NULL,"
        "updated BIGINT NOT NULL"
        ");"
        "CREATE INDEX resources_repo ON resources (repo);"
        "CREATE TABLE policies ("
        "path TEXT PRIMARY KEY NOT NULL REFERENCES resources (path) ON DELETE CASCADE,"
        "policy TEXT NOT NULL,"
        "updated BIGINT NOT NULL"
        ");"
        "CREATE TABLE refvals ("
        "id TEXT PRIMARY KEY NOT NULL,"
        "tee TEXT NOT NULL,"
        "value TEXT NOT NULL,"
        "created BIGINT NOT NULL"
        ");"
        "CREATE INDEX refvals_tee ON refvals (tee);"
        "CREATE TABLE generations ("
        "name TEXT PRIMARY KEY NOT NULL,"
        "value BIGINT NOT NULL"
        ");"
        "INSERT INTO generations (name, value) VALUES ('refvals', 0);"
        /* the generation grows in the transaction of any change, whoever makes it */
        "CREATE FUNCTION refvals_bump() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN UPDATE generations SET value = value + 1 WHERE name = 'refvals'; "
        "RETURN NULL; END$$;"
        "CREATE TRIGGER refvals_change AFTER INSERT OR UPDATE OR DELETE ON refvals "
        "FOR EACH ROW EXECUTE FUNCTION refvals_bump();"
        "CREATE TABLE kek ("
        "id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),"
        "current TEXT NOT NULL CHECK (octet_length(current) BETWEEN 1 AND 31),"
        "generation BIGINT NOT NULL"
        ");",

        /* 2: the ledger (SQLite's step 6): entries by index, the Merkle tree's nodes,
         * signed tree heads by size. */
        "CREATE TABLE ledger_entries ("
        "idx BIGINT PRIMARY KEY NOT NULL CHECK (idx >= 0),"
        "time BIGINT NOT NULL,"
        "kind TEXT NOT NULL CHECK (octet_length(kind) BETWEEN 1 AND 31),"
        "entry TEXT NOT NULL"
        ");"
        "CREATE TABLE ledger_nodes ("
        "level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),"
        "idx BIGINT NOT NULL CHECK (idx >= 0),"
        "hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),"
        "PRIMARY KEY (level, idx)"
        ");"
        "CREATE TABLE ledger_sths ("
        "size BIGINT PRIMARY KEY NOT NULL CHECK (size >= 0),"
        "time BIGINT NOT NULL,"
        "sth TEXT NOT NULL"
        ");",

        /* 3: resource listings a page at a time in bytewise order, through an index
         * whatever the database's collation (the primary key's follows it). */
        ("CREATE INDEX resources_path_c ON resources (path COLLATE \"C\");"
         "CREATE INDEX resources_repo_path_c ON resources (repo, path COLLATE \"C\");"),
};

#define SCHEMA_VERSION ((int)ELEMENTSOF(migrations))

/* The interface's base is the first member: a struct vt_store * of this back end is its
 * struct vt_pg *. */
struct vt_pg {
        struct vt_store base; /* first: the interface (store_impl.h) */
        char *dsn;            /* the conninfo string; may hold a password, cleansed on free */
        pthread_mutex_t lock; /* guards conns and busy */
        pthread_cond_t freed; /* signalled when a connection is given back */
        PGconn *conns[PG_POOL_SIZE]; /* NULL: not connected yet */
        bool busy[PG_POOL_SIZE];
};

/* One operation in progress on one pooled connection. */
struct pgc {
        struct vt_pg *s;
        PGconn *conn;
        struct vt_diag *d; /* the caller's, for a limit's reason */
        char sqlstate[6];  /* of the last failed statement, "" if none */
        char msg[256];     /* the first failure of the attempt, for the diag */
        bool committing;   /* COMMIT sent: its outcome is unknown if the connection dies */
};

static struct vt_pg *pg_of(struct vt_store *base)
{
        return (struct vt_pg *)base;
}

static void pq_clearp(PGresult **p)
{
        sym_PQclear(*p); /* accepts NULL */
}
#define _cleanup_res_ _cleanup_(pq_clearp)

/* one_line copies a libpq message into dst with its line breaks made spaces and the
 * trailing ones dropped. */
static void one_line(char *dst, size_t n, const char *src)
{
        size_t j = 0;
        for (size_t i = 0; src && src[i] && j + 1 < n; i++)
                dst[j++] = src[i] == '\n' || src[i] == '\r' || src[i] == '\t' ? ' ' : src[i];
        while (j > 0 && dst[j - 1] == ' ')
                j--;
        dst[j] = 0;
}

/* fail_conn records a failure of the connection itself (no result). */
static int fail_conn(struct pgc *c, const char *what)
{
        char m[200];
        one_line(m, sizeof(m), c->conn ? sym_PQerrorMessage(c->conn) : "no connection");
        c->sqlstate[0] = 0;
        if (!c->msg[0])
                snprintf(c->msg, sizeof(c->msg), "%s: postgres: %s", what, m);
        return VT_E_STORE;
}

/* fail_res records a failed statement: its SQLSTATE and primary message. */
static int fail_res(struct pgc *c, const PGresult *res, const char *what)
{
        const char *code = res ? sym_PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *prim = res ? sym_PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (!prim)
                return fail_conn(c, what); /* libpq's own: the connection broke */
        snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", code ? code : "");
        char m[200];
        one_line(m, sizeof(m), prim);
        if (!c->msg[0])
                snprintf(c->msg, sizeof(c->msg), "%s: postgres: %s %s", what, code ? code : "XX000",
                         m);
        return VT_E_STORE;
}

static bool state_is(const struct pgc *c, const char *code)
{
        return strcmp(c->sqlstate, code) == 0;
}

/* Parameters: text (format 0) or binary (format 1, for BYTEA), up to 8. */
struct pgp {
        int n;
        const char *v[8];
        int len[8], fmt[8];
        char num[8][24];
};

static void p_text(struct pgp *p, const char *s)
{
        p->v[p->n] = s;
        p->len[p->n] = 0;
        p->fmt[p->n] = 0;
        p->n++;
}

static void p_i64(struct pgp *p, int64_t x)
{
        snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)x);
        p_text(p, p->num[p->n]);
}

/* p_blob binds n bytes (n <= VT_STORE_MAX_CT, checked by the callers) as BYTEA; an
 * empty blob is an empty value, not NULL. */
static void p_blob(struct pgp *p, const uint8_t *b, size_t n)
{
        p->v[p->n] = n ? (const char *)b : "";
        p->len[p->n] = (int)n;
        p->fmt[p->n] = 1;
        p->n++;
}

/* q runs one statement with parameters p (may be NULL) and, on success, returns its
 * result in *ret (text columns, or binary when binary is set). */
static int q(struct pgc *c, const char *sql, const struct pgp *p, bool binary, PGresult **ret,
             const char *what)
{
        PGresult *res = sym_PQexecParams(c->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
                                         p ? p->len : NULL, p ? p->fmt : NULL, binary ? 1 : 0);
        ExecStatusType st = res ? sym_PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                int r = res ? fail_res(c, res, what) : fail_conn(c, what);
                sym_PQclear(res);
                return r;
        }
        c->sqlstate[0] = 0;
        *ret = res;
        return 0;
}

/* q_cmd runs a statement whose result is not needed; *ret_changed (may be NULL)
 * receives the number of rows it changed. */
static int q_cmd(struct pgc *c, const char *sql, const struct pgp *p, size_t *ret_changed,
                 const char *what)
{
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, sql, p, false, &res, what);
        if (r < 0)
                return r;
        if (ret_changed) {
                const char *t = sym_PQcmdTuples(res);
                char *end = NULL;
                errno = 0;
                unsigned long long n = strtoull(t, &end, 10);
                if (!*t || *end || errno || n > SIZE_MAX)
                        return VT_E_STORE;
                *ret_changed = (size_t)n;
        }
        return 0;
}

/* q_simple runs constant SQL, several statements allowed (the simple protocol). */
static int q_simple(struct pgc *c, const char *sql, const char *what)
{
        _cleanup_res_ PGresult *res = sym_PQexec(c->conn, sql);
        ExecStatusType st = res ? sym_PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                return res ? fail_res(c, res, what) : fail_conn(c, what);
        return 0;
}

/* get_i64 reads a text-format integer column. */
static int get_i64(const PGresult *res, int row, int col, int64_t *ret)
{
        if (sym_PQgetisnull(res, row, col))
                return VT_E_STORE;
        const char *t = sym_PQgetvalue(res, row, col);
        char *end = NULL;
        errno = 0;
        long long v = strtoll(t, &end, 10);
        if (!*t || *end || errno)
                return VT_E_STORE;
        *ret = (int64_t)v;
        return 0;
}

static int get_size(const PGresult *res, int row, int col, size_t *ret)
{
        int64_t v;
        if (get_i64(res, row, col, &v) < 0 || v < 0 || (uint64_t)v > SIZE_MAX)
                return VT_E_STORE;
        *ret = (size_t)v;
        return 0;
}

/* copy_text copies a column into a fixed field; a value that does not fit was not
 * written by us, so the row is a store error rather than truncated. */
static int copy_text(const PGresult *res, int row, int col, char *dst, size_t n)
{
        if (sym_PQgetisnull(res, row, col))
                return VT_E_STORE;
        int len = sym_PQgetlength(res, row, col);
        const char *v = sym_PQgetvalue(res, row, col);
        if (len < 0 || (size_t)len >= n || memchr(v, 0, (size_t)len))
                return VT_E_STORE;
        memcpy(dst, v, (size_t)len);
        dst[len] = 0;
        return 0;
}

/* text_dup returns a malloc'd, NUL-terminated copy of a column. */
static int text_dup(const PGresult *res, int row, int col, char **ret)
{
        if (sym_PQgetisnull(res, row, col))
                return VT_E_STORE;
        int n = sym_PQgetlength(res, row, col);
        if (n < 0)
                return VT_E_STORE;
        char *p = malloc((size_t)n + 1);
        if (!p)
                return VT_E_NOMEM;
        memcpy(p, sym_PQgetvalue(res, row, col), (size_t)n);
        p[n] = 0;
        *ret = p;
        return 0;
}

/* blob_dup returns a malloc'd copy of a binary-format column (at least one byte). */
static int blob_dup(const PGresult *res, int row, int col, uint8_t **ret, size_t *ret_len)
{
        if (sym_PQgetisnull(res, row, col))
                return VT_E_STORE;
        int n = sym_PQgetlength(res, row, col);
        if (n < 0)
                return VT_E_STORE;
        uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
        if (!p)
                return VT_E_NOMEM;
        if (n > 0)
                memcpy(p, sym_PQgetvalue(res, row, col), (size_t)n);
        *ret = p;
        *ret_len = (size_t)n;
        return 0;
}

/*
 * Connections and the pool.
 */

static void notice_ignore(void *arg, const char *message)
{
        (void)arg;
        (void)message; /* library code does not log; NOTICEs ("already exists") are noise */
}

/* conn_setup prepares a fresh or reset connection. */
static int conn_setup(struct pgc *c)
{
        sym_PQsetNoticeProcessor(c->conn, notice_ignore, NULL);
        return q_simple(c, PG_LOCK_TIMEOUT, "configure the connection");
}

static PGconn *conn_new(const char *dsn)
{
        /* Keywords are processed in order and a later one wins: our defaults come first,
         * so that the DSN (expanded from dbname) overrides them. */
        const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *const vals[] = {PG_CONNECT_TIMEOUT, "veritee", dsn, NULL};
        return sym_PQconnectdbParams(keys, vals, 1);
}

/* pool_get takes a free connection (waiting up to PG_POOL_WAIT_S), connects or resets
 * it if needed, and leaves it in c->conn and its slot in *ret_slot. */
static int pool_get(struct vt_pg *s, struct pgc *c, int *ret_slot)
{
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += PG_POOL_WAIT_S;
        int slot = -1;
        pthread_mutex_lock(&s->lock);
        for (;;) {
                for (int i = 0; i < PG_POOL_SIZE; i++) {
                        if (s->busy[i])
                                continue;
                        if (slot < 0 || (s->conns[i] && !s->conns[slot]))
                                slot = i; /* prefer a connection that exists */
                }
                if (slot >= 0)
                        break;
                if (pthread_cond_timedwait(&s->freed, &s->lock, &until) == ETIMEDOUT) {
                        pthread_mutex_unlock(&s->lock);
                        snprintf(c->msg, sizeof(c->msg),
                                 "postgres: all %d connections busy for %d s", PG_POOL_SIZE,
                                 PG_POOL_WAIT_S);
                        return VT_E_STORE;
                }
        }
        s->busy[slot] = true;
        c->conn = s->conns[slot];
        pthread_mutex_unlock(&s->lock);
        *ret_slot = slot;

        /* Outside the pool's lock: connecting may take up to connect_timeout. */
        if (!c->conn) {
                c->conn = conn_new(s->dsn);
                if (!c->conn) {
                        snprintf(c->msg, sizeof(c->msg), "postgres: out of memory");
                        return VT_E_NOMEM;
                }
                if (sym_PQstatus(c->conn) != CONNECTION_OK)
                        return fail_conn(c, "connect");
                return conn_setup(c);
        }
        /* An idle connection the server closed (a restart sends 57P01 and hangs up) is
         * seen by reading what is pending; then it is reset before use. */
        if (sym_PQstatus(c->conn) == CONNECTION_OK)
                (void)sym_PQconsumeInput(c->conn); /* a failure shows in the status */
        if (sym_PQstatus(c->conn) != CONNECTION_OK ||
            sym_PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
                sym_PQreset(c->conn);
                if (sym_PQstatus(c->conn) != CONNECTION_OK)
                        return fail_conn(c, "reconnect");
                return conn_setup(c);
        }
        return 0;
}

/* pool_put gives the connection back (kept even when bad: the next user resets it). */
static void pool_put(struct vt_pg *s, int slot, PGconn *conn)
{
        if (conn && sym_PQstatus(conn) == CONNECTION_OK &&
            sym_PQtransactionStatus(conn) != PQTRANS_IDLE) {
                PGresult *res = sym_PQexec(conn, "ROLLBACK"); /* never leave a transaction open */
                sym_PQclear(res);
        }
        pthread_mutex_lock(&s->lock);
        s->conns[slot] = conn;
        s->busy[slot] = false;
        pthread_cond_signal(&s->freed);
        pthread_mutex_unlock(&s->lock);
}

enum {
        RUN_TX = 1,       /* BEGIN ... COMMIT around fn */
        RUN_READONLY = 2, /* fn writes nothing: safe to repeat after a lost connection */
};

/* pg_run runs fn on a pooled connection, in a transaction if RUN_TX, and retries it
 * (at most PG_ATTEMPTS times) after a serialization failure or deadlock, or after the
 * connection was lost at a point where nothing can have been committed. A failure of
 * the database goes into d as "store: OP: WHAT: postgres: SQLSTATE message". */
static int pg_run(struct vt_pg *s, int flags, int (*fn)(struct pgc *c, void *arg), void *arg,
                  const char *op, struct vt_diag *d)
{
        struct pgc c = {.s = s, .d = d};
        int r = VT_E_STORE;
        for (int attempt = 0; attempt < PG_ATTEMPTS; attempt++) {
                int slot = -1;
                c.conn = NULL;
                c.msg[0] = 0;
                c.sqlstate[0] = 0;
                c.committing = false;
                r = pool_get(s, &c, &slot);
                bool got = r == 0;
                if (r == 0 && (flags & RUN_TX))
                        r = q_simple(&c, "BEGIN", "begin transaction");
                if (r == 0)
                        r = fn(&c, arg);
                if (flags & RUN_TX) {
                        if (r == 0) {
                                c.committing = true;
                                r = q_simple(&c, "COMMIT", "commit");
                        } else if (c.conn && sym_PQstatus(c.conn) == CONNECTION_OK) {
                                PGresult *res = sym_PQexec(c.conn, "ROLLBACK");
                                sym_PQclear(res);
                        }
                }
                bool lost = c.conn && sym_PQstatus(c.conn) != CONNECTION_OK;
                if (slot >= 0)
                        pool_put(s, slot, c.conn);
                if (r == 0 || !got)
                        break; /* connecting is not retried: connect_timeout bounds it */
                bool again = state_is(&c, "40001") || state_is(&c, "40P01");
                if (lost && ((flags & RUN_READONLY) || ((flags & RUN_TX) && !c.committing)))
                        again = true;
                if (!again || r != VT_E_STORE)
                        break;
                /* a short, growing pause lets the winner of the race finish */
                struct timespec ts = {0, (long)(attempt + 1) * 2000000L};
                nanosleep(&ts, NULL);
        }
        if (r < 0 && c.msg[0])
                vt_diag_set(d, r, "store: %s: %s", op, c.msg);
        return r;
}

/*
 * Open, migrate, close.
 */

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

static int read_version(struct pgc *c, int *ret)
{
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT version FROM schema_version WHERE id = 1", NULL, false, &res,
                  "read schema version");
        if (r < 0)
                return r;
        int64_t v = 0;
        if (sym_PQntuples(res) == 1 && get_i64(res, 0, 0, &v) < 0)
                return VT_E_STORE;
        if (v < INT_MIN || v > INT_MAX)
                return VT_E_STORE;
        *ret = (int)v; /* no row: a fresh database, version 0 */
        return 0;
}

/* migrate_tx runs in one transaction under LOCK_MIGRATE: replicas starting together
 * take turns, and each after the first finds the schema current. */
static int migrate_tx(struct pgc *c, void *arg)
{
        (void)arg;
        int r = q_simple(c,
                         "SELECT pg_advisory_xact_lock(" LOCK_MIGRATE ");"
                         "CREATE TABLE IF NOT EXISTS schema_version ("
                         "id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),"
                         "version INTEGER NOT NULL)",
                         "lock for migration");
        if (r < 0)
                return r;
        int v;
        if ((r = read_version(c, &v)) < 0)
                return r;
        if ((r = check_version(v, c->d)) < 0 || v == SCHEMA_VERSION)
                return r;
        for (int i = v; i < SCHEMA_VERSION; i++) {
                char what[48];
                snprintf(what, sizeof(what), "migration to schema version %d", i + 1);
                if ((r = q_simple(c, migrations[i], what)) < 0)
                        return r;
        }
        struct pgp p = {0};
        p_i64(&p, SCHEMA_VERSION);
        return q_cmd(c,
                     "INSERT INTO schema_version (id, version) VALUES (1, $1) "
                     "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                     &p, NULL, "write schema version");
}

static void pg_free(struct vt_pg *s)
{
        if (!s)
                return;
        for (int i = 0; i < PG_POOL_SIZE; i++)
                sym_PQfinish(s->conns[i]); /* accepts NULL */
        if (s->dsn)
                explicit_bzero(s->dsn, strlen(s->dsn)); /* it may hold a password */
        free(s->dsn);
        pthread_cond_destroy(&s->freed);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_pg *, pg_free)

static void pg_close(struct vt_store *base)
{
        pg_free(pg_of(base));
}

static int pg_open(const char *dsn, struct vt_store **ret, struct vt_diag *d)
{
        if (!dsn || !*dsn || !ret)
                return vt_diag_set(d, VT_E_INVAL, "store: a PostgreSQL DSN and ret are required");
        int r = vt_dlib_load(&libpq, d);
        if (r < 0)
                return r;
        _cleanup_(pg_freep) struct vt_pg *s = calloc(1, sizeof(*s));
        if (!s)
                return vt_diag_set(d, VT_E_NOMEM, "store: out of memory");
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
                free(TAKE_PTR(s));
                return vt_diag_set(d, VT_E_NOMEM, "store: mutex");
        }
        /* the pool's wait is measured on the monotonic clock: a clock step does not
         * shorten or stretch it */
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (pthread_cond_init(&s->freed, &ca) != 0) {
                pthread_condattr_destroy(&ca);
                pthread_mutex_destroy(&s->lock);
                free(TAKE_PTR(s));
                return vt_diag_set(d, VT_E_NOMEM, "store: condition variable");
        }
        pthread_condattr_destroy(&ca);
        s->dsn = strdup(dsn);
        if (!s->dsn)
                return vt_diag_set(d, VT_E_NOMEM, "store: out of memory");
        /* Check the DSN's syntax first. libpq's parse error quotes the text it could not
         * parse, which may be a password: it is not repeated. */
        char *err = NULL;
        PQconninfoOption *opts = sym_PQconninfoParse(dsn, &err);
        sym_PQfreemem(err);
        if (!opts)
                return vt_diag_set(d, VT_E_INVAL,
                                   "store: postgres: the DSN is not a libpq connection string");
        sym_PQconninfoFree(opts);
        s->base.ops = &vt_store_postgres_ops;
        r = pg_run(s, RUN_TX, migrate_tx, NULL, "open", d);
        if (r < 0)
                return r;
        *ret = &TAKE_PTR(s)->base;
        return 0;
}

struct int_arg {
        int v;
};

static int schema_version_fn(struct pgc *c, void *arg)
{
        return read_version(c, &((struct int_arg *)arg)->v);
}

static int pg_schema_version(struct vt_store *base, int *ret, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !ret)
                return VT_E_INVAL;
        struct int_arg a = {0};
        int r = pg_run(s, RUN_READONLY, schema_version_fn, &a, "schema version", d);
        if (r == 0)
                *ret = a.v;
        return r;
}

static int ping_fn(struct pgc *c, void *arg)
{
        (void)arg;
        return q_simple(c, "SELECT 1", "ping");
}

static int pg_ping(struct vt_store *base, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s)
                return VT_E_INVAL;
        return pg_run(s, RUN_READONLY, ping_fn, NULL, "ping", d);
}

/*
 * Sessions.
 */

static bool text_fits(const char *s, size_t n)
{
        return strnlen(s, n) < n;
}

static bool state_valid(int st)
{
        return st >= VT_SESSION_AUTHED && st <= VT_SESSION_ATTESTED;
}

/* count runs a count with $1 = now and, if client is given, $2 = client. */
static int count(struct pgc *c, const char *sql, int64_t now, const char *client, size_t *ret)
{
        struct pgp p = {0};
        p_i64(&p, now);
        if (client)
                p_text(&p, client);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, sql, &p, false, &res, "count sessions");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) != 1)
                return VT_E_STORE;
        return get_size(res, 0, 0, ret);
}

static int count_open(struct pgc *c, int64_t now, const char *client, size_t *ret)
{
        return count(c,
                     client ? "SELECT count(*) FROM sessions "
                              "WHERE state = 0 AND client = $2 AND expires > $1"
                            : "SELECT count(*) FROM sessions WHERE state = 0 AND expires > $1",
                     now, client, ret);
}

struct open_arg {
        const struct vt_session *sess;
        int64_t now;
        size_t max_open, max_per_client;
};

/* session_open_tx holds LOCK_SESSIONS from the counts to the commit: no other replica
 * inserts in between, so the limits hold across processes. */
static int session_open_tx(struct pgc *c, void *arg)
{
        struct open_arg *a = arg;
        int r = q_simple(c, "SELECT pg_advisory_xact_lock(" LOCK_SESSIONS ")", "lock sessions");
        if (r < 0)
                return r;
        size_t open;
        if ((r = count_open(c, a->now, NULL, &open)) < 0)
                return r;
        if (open >= a->max_open)
                return vt_diag_set(c->d, VT_E_LIMIT, "too many open sessions (limit %zu)",
                                   a->max_open);
        if (a->max_per_client) {
                if ((r = count_open(c, a->now, a->sess->client, &open)) < 0)
                        return r;
                if (open >= a->max_per_client)
                        return vt_diag_set(c->d, VT_E_LIMIT,
                                           "too many open sessions from this client (limit %zu)",
                                           a->max_per_client);
        }
        struct pgp p = {0};
        p_text(&p, a->sess->id);
        p_text(&p, a->sess->tee);
        p_text(&p, a->sess->nonce);
        p_i64(&p, a->sess->created);
        p_i64(&p, a->sess->expires);
        p_i64(&p, (int64_t)a->sess->state);
        p_text(&p, a->sess->client);
        r = q_cmd(c,
                  "INSERT INTO sessions (id, tee, nonce, created, expires, state, client) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  &p, NULL, "insert session");
        if (r < 0 && state_is(c, "23505"))
                return VT_E_INVAL; /* a session with this id exists */
        return r;
}

static int pg_session_open(struct vt_store *base, const struct vt_session *sess, int64_t now,
                           size_t max_open, size_t max_open_per_client, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !sess || !text_fits(sess->id, sizeof(sess->id)) || !sess->id[0] ||
            !text_fits(sess->tee, sizeof(sess->tee)) ||
            !text_fits(sess->nonce, sizeof(sess->nonce)) ||
            !text_fits(sess->client, sizeof(sess->client)) || !state_valid((int)sess->state))
                return VT_E_INVAL;
        struct open_arg a = {sess, now, max_open, max_open_per_client};
        return pg_run(s, RUN_TX, session_open_tx, &a, "session open", d);
}

struct get_arg {
        const char *id;
        struct vt_session out;
};

static int session_get_fn(struct pgc *c, void *arg)
{
        struct get_arg *a = arg;
        struct pgp p = {0};
        p_text(&p, a->id);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c,
                  "SELECT id, tee, nonce, created, expires, state, client FROM sessions "
                  "WHERE id = $1",
                  &p, false, &res, "read");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return VT_E_NOTFOUND;
        struct vt_session out = {0};
        int64_t state;
        if (copy_text(res, 0, 0, out.id, sizeof(out.id)) < 0 ||
            copy_text(res, 0, 1, out.tee, sizeof(out.tee)) < 0 ||
            copy_text(res, 0, 2, out.nonce, sizeof(out.nonce)) < 0 ||
            copy_text(res, 0, 6, out.client, sizeof(out.client)) < 0 ||
            get_i64(res, 0, 3, &out.created) < 0 || get_i64(res, 0, 4, &out.expires) < 0 ||
            get_i64(res, 0, 5, &state) < 0 || state < 0 || state > 2)
                return VT_E_STORE;
        out.state = (enum vt_session_state)state;
        a->out = out;
        return 0;
}

static int pg_session_get(struct vt_store *base, const char *id, int64_t now,
                          struct vt_session *ret, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !id || !ret)
                return VT_E_INVAL;
        struct get_arg a = {.id = id};
        int r = pg_run(s, RUN_READONLY, session_get_fn, &a, "session get", d);
        if (r < 0)
                return r;
        *ret = a.out;
        return ret->expires > now ? 0 : VT_E_EXPIRED;
}

struct claim_arg {
        const char *id, *nonce;
        int64_t now;
        const char *claims_json; /* vt_store_session_attest: to ATTESTED with these */
        int64_t expires;
};

/* claim_classify says why a claim changed nothing. */
static int claim_classify(struct pgc *c, const struct claim_arg *a)
{
        struct pgp p = {0};
        p_text(&p, a->id);
        p_text(&p, a->nonce);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT state, expires, nonce = $2 FROM sessions WHERE id = $1", &p, false,
                  &res, "read");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return VT_E_NOTFOUND;
        int64_t state, expires;
        if (get_i64(res, 0, 0, &state) < 0 || get_i64(res, 0, 1, &expires) < 0)
                return VT_E_STORE;
        if (expires <= a->now)
                return VT_E_EXPIRED;
        if (strcmp(sym_PQgetvalue(res, 0, 2), "t") != 0)
                return VT_E_BINDING;
        /* not AUTHED: used; AUTHED: another claimer changed it between our statements */
        return VT_E_REPLAY;
}

static int session_claim_fn(struct pgc *c, void *arg)
{
        struct claim_arg *a = arg;
        struct pgp p = {0};
        p_text(&p, a->id);
        p_i64(&p, a->now);
        p_text(&p, a->nonce);
        size_t n = 0;
        /* One statement decides: concurrent updates of the row wait for each other and
         * the later one re-checks state = 0 on the committed row, so of any number of
         * claimers on any number of replicas exactly one sees a change. */
        if (a->claims_json) {
                p_text(&p, a->claims_json);
                p_i64(&p, a->expires);
        }
        int r = q_cmd(c,
                      a->claims_json
                              ? "UPDATE sessions SET state = 2, claims = $4, expires = $5 "
                                "WHERE id = $1 AND state = 0 AND expires > $2 AND nonce = $3"
                              : "UPDATE sessions SET state = 1 "
                                "WHERE id = $1 AND state = 0 AND expires > $2 AND nonce = $3",
                      &p, &n, a->claims_json ? "attest session" : "claim session");
        if (r < 0)
                return r;
        return n == 1 ? 0 : claim_classify(c, a);
}

static int pg_session_claim(struct vt_store *base, const char *id, const char *nonce, int64_t now,
                            struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !id || !nonce)
                return VT_E_INVAL;
        struct claim_arg a = {id, nonce, now, NULL, 0};
        /* not RUN_READONLY: after a lost connection the claim may have happened */
        return pg_run(s, 0, session_claim_fn, &a, "session claim", d);
}

static int pg_session_attest(struct vt_store *base, const char *id, const char *nonce, int64_t now,
                             const char *claims_json, int64_t expires, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !id || !nonce || !claims_json || strlen(claims_json) > VT_STORE_MAX_JSON)
                return VT_E_INVAL;
        struct claim_arg a = {id, nonce, now, claims_json, expires};
        return pg_run(s, 0, session_claim_fn, &a, "session attest", d);
}

/* An UPDATE of one session: VT_E_NOTFOUND when it changed no row. */
struct update_arg {
        const char *sql, *what;
        struct pgp p;
};

static int update_fn(struct pgc *c, void *arg)
{
        struct update_arg *a = arg;
        size_t n = 0;
        int r = q_cmd(c, a->sql, &a->p, &n, a->what);
        if (r < 0)
                return r;
        return n >= 1 ? 0 : VT_E_NOTFOUND;
}

static int pg_session_set_state(struct vt_store *base, const char *id, enum vt_session_state st,
                                struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !id || !state_valid((int)st))
                return VT_E_INVAL;
        struct update_arg a = {
                "UPDATE sessions SET state = $2 WHERE id = $1", "set session state", {0}};
        p_text(&a.p, id);
        p_i64(&a.p, (int64_t)st);
        return pg_run(s, 0, update_fn, &a, "session set state", d);
}

static int pg_session_set_claims(struct vt_store *base, const char *id, const char *claims_json,
                                 struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !id || !claims_json || strlen(claims_json) > VT_STORE_MAX_JSON)
                return VT_E_INVAL;
        struct update_arg a = {
                "UPDATE sessions SET claims = $2 WHERE id = $1", "set session claims", {0}};
        p_text(&a.p, id);
        p_text(&a.p, claims_json);
        return pg_run(s, 0, update_fn, &a, "session set claims", d);
}

static int pg_session_set_attested(struct vt_store *base, const char *id, const char *claims_json,
                                   int64_t expires, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !id || !claims_json || strlen(claims_json) > VT_STORE_MAX_JSON)
                return VT_E_INVAL;
        struct update_arg a = {
                "UPDATE sessions SET state = 2, claims = $2, expires = $3 WHERE id = $1",
                "set session attested",
                {0}};
        p_text(&a.p, id);
        p_text(&a.p, claims_json);
        p_i64(&a.p, expires);
        return pg_run(s, 0, update_fn, &a, "session set attested", d);
}

struct claims_arg {
        const char *id;
        int64_t now;
        char *out;
};

static int session_get_claims_fn(struct pgc *c, void *arg)
{
        struct claims_arg *a = arg;
        struct pgp p = {0};
        p_text(&p, a->id);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT claims, expires FROM sessions WHERE id = $1", &p, false, &res,
                  "read session claims");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return VT_E_NOTFOUND;
        int64_t expires;
        if (get_i64(res, 0, 1, &expires) < 0)
                return VT_E_STORE;
        if (expires <= a->now)
                return VT_E_EXPIRED;
        if (sym_PQgetisnull(res, 0, 0))
                return VT_E_NOTFOUND;
        return text_dup(res, 0, 0, &a->out);
}

static int pg_session_get_claims(struct vt_store *base, const char *id, int64_t now, char **ret,
                                 struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !id || !ret)
                return VT_E_INVAL;
        struct claims_arg a = {id, now, NULL};
        int r = pg_run(s, RUN_READONLY, session_get_claims_fn, &a, "session get claims", d);
        if (r == 0)
                *ret = a.out;
        else
                free(a.out);
        return r;
}

struct count_arg {
        int64_t now;
        size_t n;
};

static int count_live_fn(struct pgc *c, void *arg)
{
        struct count_arg *a = arg;
        return count(c, "SELECT count(*) FROM sessions WHERE expires > $1", a->now, NULL, &a->n);
}

static int pg_session_count_live(struct vt_store *base, int64_t now, size_t *ret, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !ret)
                return VT_E_INVAL;
        struct count_arg a = {now, 0};
        int r = pg_run(s, RUN_READONLY, count_live_fn, &a, "session count live", d);
        if (r == 0)
                *ret = a.n;
        return r;
}

static int sweep_fn(struct pgc *c, void *arg)
{
        struct count_arg *a = arg;
        struct pgp p = {0};
        p_i64(&p, a->now);
        /* Expired means expires <= now: exactly the sessions count_live leaves out.
         * Autovacuum gives the space back; nothing to do here. */
        return q_cmd(c, "DELETE FROM sessions WHERE expires <= $1", &p, &a->n, "sweep sessions");
}

static int pg_sweep(struct vt_store *base, int64_t now, size_t *ret_n, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s)
                return VT_E_INVAL;
        struct count_arg a = {now, 0};
        /* repeatable: deleting what is expired twice deletes nothing more */
        int r = pg_run(s, RUN_READONLY, sweep_fn, &a, "sweep", d);
        if (r == 0 && ret_n)
                *ret_n = a.n;
        return r;
}

/*
 * Secret release: resources, policies, reference values, the current KEK.
 */

static bool name_valid(const char *name)
{
        if (!name)
                return false;
        size_t n = strnlen(name, 32);
        return n > 0 && n < 32;
}

static int json_check(const char *json)
{
        if (!json || !*json)
                return VT_E_INVAL;
        if (strnlen(json, VT_STORE_MAX_JSON + 1) > VT_STORE_MAX_JSON)
                return VT_E_LIMIT;
        return 0;
}

static int policy_set_q(struct pgc *c, const char *path, const char *json, int64_t now)
{
        struct pgp p = {0};
        p_text(&p, path);
        p_text(&p, json);
        p_i64(&p, now);
        size_t n = 0;
        /* One statement: the existence check and the write; a concurrent delete of the
         * resource makes the foreign key fail, which is the same answer. */
        int r = q_cmd(c,
                      "INSERT INTO policies (path, policy, updated) SELECT $1, $2, $3 "
                      "WHERE EXISTS (SELECT 1 FROM resources WHERE path = $1) "
                      "ON CONFLICT (path) DO UPDATE SET policy = excluded.policy, "
                      "updated = excluded.updated",
                      &p, &n, "set policy");
        if (r < 0 && state_is(c, "23503"))
                return VT_E_NOTFOUND;
        if (r < 0)
                return r;
        return n == 1 ? 0 : VT_E_NOTFOUND;
}

struct put_arg {
        const char *path, *kek_id;
        const uint8_t *wdek, *ct;
        size_t wdek_len, ct_len, plain_len;
        const char *policy;
        int64_t now;
};

/* kek_check: under LOCK_KEK (shared), a data key wrapped under kek_id may be written
 * only while kek_id is the current KEK (or while none is recorded); else VT_E_STALE. A
 * rotation holds the lock exclusively, so it cannot commit between check and write. */
static int kek_check(struct pgc *c, const char *kek_id)
{
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT current FROM kek WHERE id = 1", NULL, false, &res,
                  "read the current KEK");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return 0;
        return strcmp(sym_PQgetvalue(res, 0, 0), kek_id) == 0 ? 0 : VT_E_STALE;
}

/* PUT_SQL writes one resource and, when $7 (its policy) is not NULL, its policy: ONE
 * statement, a data-modifying CTE whose upsert of the resource keeps created and the
 * policy, followed by the upsert of the policy (its foreign key is checked at the end of
 * the statement, when the resource row is there). The caller holds LOCK_KEK and checked
 * the KEK. The single put runs it once; the batch put pipelines it (resource_batch_tx). */
#define PUT_SQL                                                                                    \
        "WITH r AS (INSERT INTO resources "                                                        \
        "(path, repo, kek_id, wrapped_dek, ciphertext, size, created, updated) "                   \
        "VALUES ($1, split_part($1, '/', 1), $2, $3, $4, $5, $6, $6) "                             \
        "ON CONFLICT (path) DO UPDATE SET kek_id = excluded.kek_id, "                              \
        "wrapped_dek = excluded.wrapped_dek, ciphertext = excluded.ciphertext, "                   \
        "size = excluded.size, updated = excluded.updated RETURNING path) "                        \
        "INSERT INTO policies (path, policy, updated) "                                            \
        "SELECT path, $7::text, $6::bigint FROM r WHERE $7::text IS NOT NULL "                     \
        "ON CONFLICT (path) DO UPDATE SET policy = excluded.policy, updated = excluded.updated"

/* put_params binds PUT_SQL's parameters ($7 NULL when policy is NULL). */
static void put_params(struct pgp *p, const char *path, const char *kek_id, const uint8_t *wdek,
                       size_t wdek_len, const uint8_t *ct, size_t ct_len, size_t plain_len,
                       const char *policy, int64_t now)
{
        p_text(p, path);
        p_text(p, kek_id);
        p_blob(p, wdek, wdek_len);
        p_blob(p, ct, ct_len);
        p_i64(p, (int64_t)plain_len);
        p_i64(p, now);
        p_text(p, policy);
}

static int resource_put_tx(struct pgc *c, void *arg)
{
        struct put_arg *a = arg;
        int r = q_simple(c, "SELECT pg_advisory_xact_lock_shared(" LOCK_KEK ")", "lock the KEK");
        if (r == 0)
                r = kek_check(c, a->kek_id);
        if (r < 0)
                return r;
        struct pgp p = {0};
        put_params(&p, a->path, a->kek_id, a->wdek, a->wdek_len, a->ct, a->ct_len, a->plain_len,
                   a->policy, a->now);
        return q_cmd(c, PUT_SQL, &p, NULL, "put resource");
}

static int resource_put_common(struct vt_pg *s, struct put_arg *a, struct vt_diag *d)
{
        if (!s || !vt_resource_path_valid(a->path) || !name_valid(a->kek_id) || !a->wdek ||
            !a->wdek_len || (!a->ct && a->ct_len) || (uint64_t)a->plain_len > (uint64_t)INT64_MAX)
                return VT_E_INVAL;
        if (a->wdek_len > VT_STORE_MAX_WDEK || a->ct_len > VT_STORE_MAX_CT)
                return VT_E_LIMIT;
        int r = a->policy ? json_check(a->policy) : 0;
        if (r < 0)
                return r;
        return pg_run(s, RUN_TX, resource_put_tx, a, "resource put", d);
}

static int pg_resource_put(struct vt_store *base, const char *path, const char *kek_id,
                           const uint8_t *wdek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
                           size_t plain_len, int64_t now, struct vt_diag *d)
{
        struct put_arg a = {path, kek_id, wdek, ct, wdek_len, ct_len, plain_len, NULL, now};
        return resource_put_common(pg_of(base), &a, d);
}

static int pg_resource_put_policy(struct vt_store *base, const char *path, const char *kek_id,
                                  const uint8_t *wdek, size_t wdek_len, const uint8_t *ct,
                                  size_t ct_len, size_t plain_len, const char *policy, int64_t now,
                                  struct vt_diag *d)
{
        if (!policy)
                return VT_E_INVAL;
        struct put_arg a = {path, kek_id, wdek, ct, wdek_len, ct_len, plain_len, policy, now};
        return resource_put_common(pg_of(base), &a, d);
}

struct batch_arg {
        const char *kek_id;
        const struct vt_resource_item *items;
        size_t n;
        int64_t now;
};

/* Items sent in one pipeline (one round trip) by the batch put: their results, a few
 * dozen bytes each, fit the socket buffers while the items are still being sent. */
#define PUT_PIPELINE 64

/* put_pipelined sends PUT_SQL for n items without waiting, then one sync, then reads
 * their results: one round trip for the n. The first failure is kept (fail_res);
 * libpq answers the items after it PGRES_PIPELINE_ABORTED. The connection leaves
 * pipeline mode before it returns (reset if it cannot: then the transaction is gone and
 * the error stands). */
static int put_pipelined(struct pgc *c, const char *kek_id, const struct vt_resource_item *items,
                         size_t n, int64_t now)
{
        if (sym_PQenterPipelineMode(c->conn) != 1)
                return fail_conn(c, "put resource: enter pipeline mode");
        int r = 0;
        size_t sent = 0;
        for (; sent < n; sent++) {
                const struct vt_resource_item *it = &items[sent];
                struct pgp p = {0};
                put_params(&p, it->path, kek_id, it->wdek, it->wdek_len, it->ct, it->ct_len,
                           it->plain_len, it->policy, now);
                if (sym_PQsendQueryParams(c->conn, PUT_SQL, p.n, NULL, p.v, p.len, p.fmt, 0) != 1) {
                        r = fail_conn(c, "put resource");
                        break;
                }
        }
        if (sym_PQpipelineSync(c->conn) != 1) {
                if (r == 0)
                        r = fail_conn(c, "put resource: sync");
        } else {
                /* each item: its result, then NULL; then the sync's result */
                size_t nulls = 0;
                for (;;) {
                        PGresult *res = sym_PQgetResult(c->conn);
                        if (!res) {
                                if (++nulls > sent)
                                        break; /* no sync coming: the connection broke */
                                continue;
                        }
                        ExecStatusType st = sym_PQresultStatus(res);
                        if (st == PGRES_PIPELINE_SYNC) {
                                sym_PQclear(res);
                                break;
                        }
                        if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && r == 0)
                                r = fail_res(c, res, "put resource");
                        else if (st == PGRES_PIPELINE_ABORTED && r == 0)
                                r = fail_conn(c, "put resource: pipeline aborted");
                        sym_PQclear(res);
                }
                if (nulls > sent && r == 0)
                        r = fail_conn(c, "put resource: no sync");
        }
        if (sym_PQexitPipelineMode(c->conn) != 1) {
                sym_PQreset(c->conn);
                if (r == 0)
                        r = fail_conn(c, "put resource: leave pipeline mode");
        }
        if (r == 0)
                c->sqlstate[0] = 0;
        return r;
}

/* resource_batch_tx: PUT_SQL for every item, pipelined PUT_PIPELINE at a time, under one
 * lock and one KEK check, in the caller's one transaction. */
static int resource_batch_tx(struct pgc *c, void *arg)
{
        struct batch_arg *b = arg;
        int r = q_simple(c, "SELECT pg_advisory_xact_lock_shared(" LOCK_KEK ")", "lock the KEK");
        if (r == 0)
                r = kek_check(c, b->kek_id);
        for (size_t i = 0; r == 0 && i < b->n; i += PUT_PIPELINE)
                r = put_pipelined(c, b->kek_id, b->items + i,
                                  b->n - i < PUT_PIPELINE ? b->n - i : PUT_PIPELINE, b->now);
        return r;
}

static int pg_resource_put_batch(struct vt_store *base, const char *kek_id,
                                 const struct vt_resource_item *items, size_t n, int64_t now,
                                 size_t *ret_bad, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !name_valid(kek_id) || !items || n == 0 || n > VT_STORE_BATCH_MAX)
                return VT_E_INVAL;
        for (size_t i = 0; i < n; i++) {
                const struct vt_resource_item *it = &items[i];
                int e = 0;
                if (!vt_resource_path_valid(it->path) || !it->wdek || !it->wdek_len ||
                    (!it->ct && it->ct_len) || (uint64_t)it->plain_len > (uint64_t)INT64_MAX)
                        e = VT_E_INVAL;
                else if (it->wdek_len > VT_STORE_MAX_WDEK || it->ct_len > VT_STORE_MAX_CT)
                        e = VT_E_LIMIT;
                else if (it->policy)
                        e = json_check(it->policy);
                if (e < 0) {
                        if (ret_bad)
                                *ret_bad = i;
                        return vt_diag_set(d, e, "store: batch item %zu refused", i);
                }
        }
        struct batch_arg b = {kek_id, items, n, now};
        return pg_run(s, RUN_TX, resource_batch_tx, &b, "resource put batch", d);
}

struct rget_arg {
        const char *path;
        char kek[32];
        uint8_t *w, *c;
        size_t wl, cl;
};

/* rget_row copies a resource's kek_id, wrapped key and ciphertext (columns 0, 1, 2 of row 0,
 * binary results: kek_id TEXT as its bytes) into a, replacing what an earlier attempt of a
 * retried run left there; a is unchanged on failure */
static int rget_row(const PGresult *res, struct rget_arg *a)
{
        _cleanup_free_ uint8_t *w = NULL, *ct = NULL;
        size_t wl, cl;
        char kek[32];
        int r;
        if (copy_text(res, 0, 0, kek, sizeof(kek)) < 0)
                return VT_E_STORE;
        if ((r = blob_dup(res, 0, 1, &w, &wl)) < 0 || (r = blob_dup(res, 0, 2, &ct, &cl)) < 0)
                return r;
        free(a->w);
        free(a->c);
        memcpy(a->kek, kek, sizeof(kek));
        a->w = TAKE_PTR(w);
        a->wl = wl;
        a->c = TAKE_PTR(ct);
        a->cl = cl;
        return 0;
}

static int resource_get_fn(struct pgc *c, void *arg)
{
        struct rget_arg *a = arg;
        struct pgp p = {0};
        p_text(&p, a->path);
        _cleanup_res_ PGresult *res = NULL;
        /* binary results: the blobs as bytes; kek_id (TEXT) comes as its bytes too */
        int r = q(c, "SELECT kek_id, wrapped_dek, ciphertext FROM resources WHERE path = $1", &p,
                  true, &res, "read");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return VT_E_NOTFOUND;
        return rget_row(res, a);
}

static int pg_resource_get(struct vt_store *base, const char *path, char kek_id[32], uint8_t **wdek,
                           size_t *wdek_len, uint8_t **ct, size_t *ct_len, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !vt_resource_path_valid(path) || !kek_id || !wdek || !wdek_len || !ct || !ct_len)
                return VT_E_INVAL;
        struct rget_arg a = {.path = path};
        int r = pg_run(s, RUN_READONLY, resource_get_fn, &a, "resource get", d);
        if (r < 0) {
                free(a.w);
                free(a.c);
                return r;
        }
        memcpy(kek_id, a.kek, sizeof(a.kek));
        *wdek = a.w;
        *wdek_len = a.wl;
        *ct = a.c;
        *ct_len = a.cl;
        return 0;
}

struct release_arg {
        struct rget_arg r;
        char *policy; /* NULL: none */
};

/* the resource and its policy in one statement: one snapshot, one round trip */
static int release_get_fn(struct pgc *c, void *arg)
{
        struct release_arg *a = arg;
        struct pgp p = {0};
        p_text(&p, a->r.path);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c,
                  "SELECT r.kek_id, r.wrapped_dek, r.ciphertext, p.policy "
                  "FROM resources r LEFT JOIN policies p ON p.path = r.path WHERE r.path = $1",
                  &p, true, &res, "read");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return VT_E_NOTFOUND;
        _cleanup_free_ char *policy = NULL;
        /* binary results: TEXT comes as its bytes */
        if (!sym_PQgetisnull(res, 0, 3) && (r = text_dup(res, 0, 3, &policy)) < 0)
                return r;
        if ((r = rget_row(res, &a->r)) < 0)
                return r;
        free(a->policy); /* an earlier attempt's */
        a->policy = TAKE_PTR(policy);
        return 0;
}

static int pg_release_get(struct vt_store *base, const char *path, char kek_id[32], uint8_t **wdek,
                          size_t *wdek_len, uint8_t **ct, size_t *ct_len, char **ret_policy,
                          struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !vt_resource_path_valid(path) || !kek_id || !wdek || !wdek_len || !ct ||
            !ct_len || !ret_policy)
                return VT_E_INVAL;
        struct release_arg a = {.r = {.path = path}};
        int r = pg_run(s, RUN_READONLY, release_get_fn, &a, "release get", d);
        if (r < 0) {
                free(a.r.w);
                free(a.r.c);
                free(a.policy);
                return r;
        }
        memcpy(kek_id, a.r.kek, sizeof(a.r.kek));
        *wdek = a.r.w;
        *wdek_len = a.r.wl;
        *ct = a.r.c;
        *ct_len = a.r.cl;
        *ret_policy = a.policy;
        return 0;
}

static int resource_delete_tx(struct pgc *c, void *arg)
{
        struct pgp p = {0};
        p_text(&p, (const char *)arg);
        size_t n = 0;
        int r = q_cmd(c, "DELETE FROM policies WHERE path = $1", &p, NULL, "delete policy");
        if (r == 0)
                r = q_cmd(c, "DELETE FROM resources WHERE path = $1", &p, &n, "delete resource");
        if (r < 0)
                return r;
        return n == 1 ? 0 : VT_E_NOTFOUND;
}

static int pg_resource_delete(struct vt_store *base, const char *path, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !vt_resource_path_valid(path))
                return VT_E_INVAL;
        return pg_run(s, RUN_TX, resource_delete_tx, (void *)path, "resource delete", d);
}

struct list_arg {
        const char *filter;
        void *v;
        size_t n;
        const char *after; /* resources: the page cursor ("" from the first) */
        size_t limit;      /* resources: the page size (0: all) */
};

static int resource_list_fn(struct pgc *c, void *arg)
{
        struct list_arg *a = arg;
        struct pgp p = {0};
        char lim[24];
        /* COLLATE "C": path order is bytewise whatever the database's collation. $1 the
         * cursor, $2 the page size (NULL: all), $3 the repository. */
        snprintf(lim, sizeof(lim), "%zu", a->limit);
        p_text(&p, a->after ? a->after : "");
        p_text(&p, a->limit ? lim : NULL);
        if (a->filter)
                p_text(&p, a->filter);
        const char *sql = a->filter ? "SELECT r.path, r.kek_id, r.size, r.created, r.updated, "
                                      "p.path IS NOT NULL FROM resources r "
                                      "LEFT JOIN policies p ON p.path = r.path "
                                      "WHERE r.repo = $3 AND r.path COLLATE \"C\" > $1 "
                                      "ORDER BY r.path COLLATE \"C\" LIMIT $2::bigint"
                                    : "SELECT r.path, r.kek_id, r.size, r.created, r.updated, "
                                      "p.path IS NOT NULL FROM resources r "
                                      "LEFT JOIN policies p ON p.path = r.path "
                                      "WHERE r.path COLLATE \"C\" > $1 "
                                      "ORDER BY r.path COLLATE \"C\" LIMIT $2::bigint";
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, sql, &p, false, &res, "read rows");
        if (r < 0)
                return r;
        int n = sym_PQntuples(res);
        struct vt_resource_meta *v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
        if (!v)
                return VT_E_NOMEM;
        for (int i = 0; i < n; i++) {
                struct vt_resource_meta *m = &v[i];
                if (copy_text(res, i, 0, m->path, sizeof(m->path)) < 0 ||
                    copy_text(res, i, 1, m->kek_id, sizeof(m->kek_id)) < 0 ||
                    get_size(res, i, 2, &m->size) < 0 || get_i64(res, i, 3, &m->created) < 0 ||
                    get_i64(res, i, 4, &m->updated) < 0) {
                        free(v);
                        return VT_E_STORE;
                }
                m->has_policy = strcmp(sym_PQgetvalue(res, i, 5), "t") == 0;
        }
        a->v = v;
        a->n = (size_t)n;
        return 0;
}

static int pg_resource_list(struct vt_store *base, const char *repo_or_null, const char *after,
                            size_t limit, int (*cb)(const struct vt_resource_meta *m, void *ud),
                            void *ud, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !cb || (repo_or_null && !vt_resource_repo_valid(repo_or_null)))
                return VT_E_INVAL;
        struct list_arg a = {repo_or_null, NULL, 0, after, limit};
        int r = pg_run(s, RUN_READONLY, resource_list_fn, &a, "resource list", d);
        _cleanup_free_ struct vt_resource_meta *v = a.v;
        /* The connection is back in the pool: a callback may call the store. */
        for (size_t i = 0; r == 0 && i < a.n; i++) {
                int cb_r = cb(&v[i], ud);
                if (cb_r < 0)
                        r = cb_r;
        }
        return r;
}

/* kek_set_current makes kek_id the current KEK and bumps the generation. */
static int kek_set_current(struct pgc *c, const char *kek_id)
{
        struct pgp p = {0};
        p_text(&p, kek_id);
        return q_cmd(c,
                     "INSERT INTO kek (id, current, generation) VALUES (1, $1, 1) "
                     "ON CONFLICT (id) DO UPDATE SET current = excluded.current, "
                     "generation = kek.generation + 1",
                     &p, NULL, "set the current KEK");
}

/* Rows a KEK rotation reads at a time. */
#define REWRAP_PAGE     1000
#define REWRAP_PAGE_SQL "1000"

struct rewrap_arg {
        const char *new_kek_id;
        int (*rewrap)(const char *path, const char *kek_id, const uint8_t *wdek, size_t len,
                      uint8_t **ret_new, size_t *ret_new_len, void *ud);
        void *ud;
        size_t n;
};

/* rewrap_all_tx holds LOCK_KEK exclusively (no resource write can check the KEK until
 * it commits) and locks every resource row it reads (no delete slips in between). */
static int rewrap_all_tx(struct pgc *c, void *arg)
{
        struct rewrap_arg *a = arg;
        int r = q_simple(c, "SELECT pg_advisory_xact_lock(" LOCK_KEK ")", "lock the KEK");
        if (r < 0)
                return r;
        /* A page at a time (keyset on path): memory is bounded by REWRAP_PAGE rows
         * whatever the number of resources, and it stays one transaction. New rows
         * cannot appear meanwhile: their writers wait for LOCK_KEK. */
        char last[256] = "";
        size_t total = 0;
        for (;;) {
                _cleanup_res_ PGresult *res = NULL;
                struct pgp pp = {0};
                p_text(&pp, last);
                r = q(c,
                      "SELECT path, kek_id, wrapped_dek FROM resources "
                      "WHERE path COLLATE \"C\" > $1 ORDER BY path COLLATE \"C\" "
                      "LIMIT " REWRAP_PAGE_SQL " FOR NO KEY UPDATE",
                      &pp, true, &res, "read rows");
                if (r < 0)
                        return r;
                int n = sym_PQntuples(res);
                for (int i = 0; r == 0 && i < n; i++) {
                        char path[256], kek[32];
                        if (copy_text(res, i, 0, path, sizeof(path)) < 0 ||
                            copy_text(res, i, 1, kek, sizeof(kek)) < 0 ||
                            sym_PQgetisnull(res, i, 2))
                                return VT_E_STORE;
                        uint8_t *nw = NULL;
                        size_t nlen = 0;
                        r = a->rewrap(path, kek, (const uint8_t *)sym_PQgetvalue(res, i, 2),
                                      (size_t)sym_PQgetlength(res, i, 2), &nw, &nlen, a->ud);
                        if (r < 0)
                                return r; /* the callback's error; *ret_new is not ours */
                        r = 0;
                        if (!nw || nlen == 0)
                                r = VT_E_INVAL;
                        else if (nlen > VT_STORE_MAX_WDEK)
                                r = VT_E_LIMIT;
                        size_t changed = 0;
                        if (r == 0) {
                                struct pgp p = {0};
                                p_text(&p, path);
                                p_text(&p, a->new_kek_id);
                                p_blob(&p, nw, nlen);
                                r = q_cmd(c,
                                          "UPDATE resources SET kek_id = $2, wrapped_dek = $3 "
                                          "WHERE path = $1",
                                          &p, &changed, "rewrap resource");
                                if (r == 0 && changed != 1)
                                        r = VT_E_STORE; /* the row is locked: it cannot go */
                        }
                        free(nw);
                        memcpy(last, path, sizeof(last));
                }
                if (r < 0)
                        return r;
                total += (size_t)n;
                if (n < REWRAP_PAGE)
                        break;
        }
        if (r == 0)
                r = kek_set_current(c, a->new_kek_id);
        if (r == 0)
                a->n = total;
        return r;
}

static int pg_resource_rewrap_all(struct vt_store *base, const char *new_kek_id,
                                  int (*rewrap)(const char *path, const char *kek_id,
                                                const uint8_t *wdek, size_t len, uint8_t **ret_new,
                                                size_t *ret_new_len, void *ud),
                                  void *ud, size_t *ret_count, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !name_valid(new_kek_id) || !rewrap)
                return VT_E_INVAL;
        struct rewrap_arg a = {new_kek_id, rewrap, ud, 0};
        int r = pg_run(s, RUN_TX, rewrap_all_tx, &a, "resource rewrap all", d);
        if (r == 0 && ret_count)
                *ret_count = a.n;
        return r;
}

struct kek_arg {
        const char *kek_id; /* adopt; NULL for a read */
        char id[32];
        int64_t gen;
        size_t n;
};

static int kek_read(struct pgc *c, struct kek_arg *a)
{
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT current, generation FROM kek WHERE id = 1", NULL, false, &res,
                  "read the current KEK");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return VT_E_NOTFOUND;
        if (copy_text(res, 0, 0, a->id, sizeof(a->id)) < 0 || get_i64(res, 0, 1, &a->gen) < 0)
                return VT_E_STORE;
        return 0;
}

static int kek_current_fn(struct pgc *c, void *arg)
{
        return kek_read(c, arg);
}

static int pg_kek_current(struct vt_store *base, char ret_id[32], int64_t *ret_generation,
                          struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !ret_id)
                return VT_E_INVAL;
        struct kek_arg a = {0};
        int r = pg_run(s, RUN_READONLY, kek_current_fn, &a, "kek current", d);
        if (r < 0)
                return r;
        memcpy(ret_id, a.id, sizeof(a.id));
        if (ret_generation)
                *ret_generation = a.gen;
        return 0;
}

static int kek_adopt_tx(struct pgc *c, void *arg)
{
        struct kek_arg *a = arg;
        int r = q_simple(c, "SELECT pg_advisory_xact_lock(" LOCK_KEK ")", "lock the KEK");
        if (r < 0)
                return r;
        r = kek_read(c, a);
        if (r != VT_E_NOTFOUND)
                return r; /* someone was first: theirs stands */
        r = kek_set_current(c, a->kek_id);
        if (r == 0)
                snprintf(a->id, sizeof(a->id), "%s", a->kek_id);
        return r;
}

static int pg_kek_adopt(struct vt_store *base, const char *kek_id, char ret_id[32],
                        struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !name_valid(kek_id) || !ret_id)
                return VT_E_INVAL;
        struct kek_arg a = {.kek_id = kek_id};
        int r = pg_run(s, RUN_TX, kek_adopt_tx, &a, "kek adopt", d);
        if (r == 0)
                memcpy(ret_id, a.id, sizeof(a.id));
        return r;
}

static int kek_count_fn(struct pgc *c, void *arg)
{
        struct kek_arg *a = arg;
        struct pgp p = {0};
        p_text(&p, a->kek_id);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT count(*) FROM resources WHERE kek_id = $1", &p, false, &res,
                  "count resources under a KEK");
        if (r < 0)
                return r;
        return sym_PQntuples(res) == 1 ? get_size(res, 0, 0, &a->n) : VT_E_STORE;
}

static int pg_kek_count(struct vt_store *base, const char *kek_id, size_t *ret, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !name_valid(kek_id) || !ret)
                return VT_E_INVAL;
        struct kek_arg a = {.kek_id = kek_id};
        int r = pg_run(s, RUN_READONLY, kek_count_fn, &a, "kek count", d);
        if (r == 0)
                *ret = a.n;
        return r;
}

struct policy_arg {
        const char *path, *json;
        int64_t now;
        char *out;
};

static int policy_set_fn(struct pgc *c, void *arg)
{
        struct policy_arg *a = arg;
        return policy_set_q(c, a->path, a->json, a->now);
}

static int pg_policy_set(struct vt_store *base, const char *path, const char *json, int64_t now,
                         struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !vt_resource_path_valid(path))
                return VT_E_INVAL;
        int r = json_check(json);
        if (r < 0)
                return r;
        struct policy_arg a = {path, json, now, NULL};
        /* repeatable: setting the same policy twice is setting it once */
        return pg_run(s, RUN_READONLY, policy_set_fn, &a, "policy set", d);
}

static int policy_get_fn(struct pgc *c, void *arg)
{
        struct policy_arg *a = arg;
        struct pgp p = {0};
        p_text(&p, a->path);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT policy FROM policies WHERE path = $1", &p, false, &res, "read");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) == 0)
                return VT_E_NOTFOUND;
        return text_dup(res, 0, 0, &a->out);
}

static int pg_policy_get(struct vt_store *base, const char *path, char **ret_json,
                         struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !vt_resource_path_valid(path) || !ret_json)
                return VT_E_INVAL;
        struct policy_arg a = {path, NULL, 0, NULL};
        int r = pg_run(s, RUN_READONLY, policy_get_fn, &a, "policy get", d);
        if (r == 0)
                *ret_json = a.out;
        else
                free(a.out);
        return r;
}

static int pg_refval_add(struct vt_store *base, const char *id, const char *tee, const char *json,
                         int64_t now, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !vt_refval_id_valid(id) || !name_valid(tee))
                return VT_E_INVAL;
        int r = json_check(json);
        if (r < 0)
                return r;
        /* The trigger bumps the generation in this statement's transaction. */
        struct update_arg a = {"INSERT INTO refvals (id, tee, value, created) "
                               "VALUES ($1, $2, $3, $4) "
                               "ON CONFLICT (id) DO UPDATE SET tee = excluded.tee, "
                               "value = excluded.value, created = excluded.created",
                               "add reference value",
                               {0}};
        p_text(&a.p, id);
        p_text(&a.p, tee);
        p_text(&a.p, json);
        p_i64(&a.p, now);
        return pg_run(s, 0, update_fn, &a, "refval add", d);
}

static int pg_refval_delete(struct vt_store *base, const char *id, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !vt_refval_id_valid(id))
                return VT_E_INVAL;
        struct update_arg a = {"DELETE FROM refvals WHERE id = $1", "delete reference value", {0}};
        p_text(&a.p, id);
        return pg_run(s, 0, update_fn, &a, "refval delete", d);
}

static int refval_list_fn(struct pgc *c, void *arg)
{
        struct list_arg *a = arg;
        struct pgp p = {0};
        if (a->filter)
                p_text(&p, a->filter);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c,
                  a->filter ? "SELECT id, tee, value FROM refvals WHERE tee = $1 "
                              "ORDER BY id COLLATE \"C\""
                            : "SELECT id, tee, value FROM refvals ORDER BY id COLLATE \"C\"",
                  &p, false, &res, "read rows");
        if (r < 0)
                return r;
        a->v = TAKE_PTR(res); /* the result itself is the array of rows */
        return 0;
}

static int pg_refval_list(struct vt_store *base, const char *tee_or_null,
                          int (*cb)(const char *id, const char *tee, const char *json, void *ud),
                          void *ud, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !cb || (tee_or_null && !name_valid(tee_or_null)))
                return VT_E_INVAL;
        struct list_arg a = {tee_or_null, NULL, 0, NULL, 0};
        int r = pg_run(s, RUN_READONLY, refval_list_fn, &a, "refval list", d);
        _cleanup_res_ PGresult *res = a.v;
        int n = res ? sym_PQntuples(res) : 0;
        for (int i = 0; r == 0 && i < n; i++) {
                if (sym_PQgetisnull(res, i, 0) || sym_PQgetisnull(res, i, 1) ||
                    sym_PQgetisnull(res, i, 2))
                        return vt_diag_set(d, VT_E_STORE, "store: refval list: a NULL column");
                int cb_r = cb(sym_PQgetvalue(res, i, 0), sym_PQgetvalue(res, i, 1),
                              sym_PQgetvalue(res, i, 2), ud);
                if (cb_r < 0)
                        r = cb_r;
        }
        return r;
}

struct gen_arg {
        int64_t v;
};

static int refval_generation_fn(struct pgc *c, void *arg)
{
        struct gen_arg *a = arg;
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT value FROM generations WHERE name = 'refvals'", NULL, false, &res,
                  "read reference value generation");
        if (r < 0)
                return r;
        return sym_PQntuples(res) == 1 ? get_i64(res, 0, 0, &a->v) : VT_E_STORE;
}

static int pg_refval_generation(struct vt_store *base, int64_t *ret, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        if (!s || !ret)
                return VT_E_INVAL;
        struct gen_arg a = {0};
        int r = pg_run(s, RUN_READONLY, refval_generation_fn, &a, "refval generation", d);
        if (r == 0)
                *ret = a.v;
        return r;
}

/*
 * The ledger. An append sends each table's rows as arrays in one statement (unnest), so
 * that a group of entries costs three round trips, not three per entry.
 */

/* arr_add appends the array element text, quoted and escaped, to a growing buffer. */
static int arr_add(char **buf, size_t *len, size_t *cap, const char *t, size_t n, bool first)
{
        size_t need = *len + 2 * n + 4;
        if (need > *cap) {
                size_t c = *cap ? *cap : 256;
                while (c < need)
                        c *= 2;
                char *p = realloc(*buf, c);
                if (!p)
                        return VT_E_NOMEM;
                *buf = p;
                *cap = c;
        }
        char *o = *buf + *len;
        if (!first)
                *o++ = ',';
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
                if (t[i] == '"' || t[i] == '\\')
                        *o++ = '\\';
                *o++ = t[i];
        }
        *o++ = '"';
        *len = (size_t)(o - *buf);
        return 0;
}

struct ledger_append_arg {
        uint64_t expect;
        const struct vt_ledger_row *rows;
        size_t n;
        const struct vt_ledger_hash *nodes;
        size_t m;
        const struct vt_ledger_sth *sth; /* NULL: none */
};

/* arrays builds the array literals {..} of the rows' columns and the nodes' columns. */
static int ledger_arrays(const struct ledger_append_arg *a, char *out[7])
{
        size_t len[7] = {0}, cap[7] = {0};
        char num[32], hex[65];
        int r = 0;
        for (int k = 0; k < 7; k++) {
                out[k] = malloc(2);
                if (!out[k])
                        return VT_E_NOMEM;
                out[k][0] = '{';
                len[k] = 1;
                cap[k] = 2;
        }
        for (size_t i = 0; r == 0 && i < a->n; i++) {
                const struct vt_ledger_row *w = &a->rows[i];
                int l = snprintf(num, sizeof(num), "%llu", (unsigned long long)w->index);
                r = arr_add(&out[0], &len[0], &cap[0], num, (size_t)l, i == 0);
                l = snprintf(num, sizeof(num), "%lld", (long long)w->time);
                if (r == 0)
                        r = arr_add(&out[1], &len[1], &cap[1], num, (size_t)l, i == 0);
                if (r == 0)
                        r = arr_add(&out[2], &len[2], &cap[2], w->kind, strlen(w->kind), i == 0);
                if (r == 0)
                        r = arr_add(&out[3], &len[3], &cap[3], w->entry, w->entry_len, i == 0);
        }
        for (size_t i = 0; r == 0 && i < a->m; i++) {
                const struct vt_ledger_hash *h = &a->nodes[i];
                int l = snprintf(num, sizeof(num), "%u", h->level);
                r = arr_add(&out[4], &len[4], &cap[4], num, (size_t)l, i == 0);
                l = snprintf(num, sizeof(num), "%llu", (unsigned long long)h->index);
                if (r == 0)
                        r = arr_add(&out[5], &len[5], &cap[5], num, (size_t)l, i == 0);
                for (int j = 0; j < 32; j++)
                        snprintf(hex + 2 * j, 3, "%02x", h->hash[j]);
                if (r == 0)
                        r = arr_add(&out[6], &len[6], &cap[6], hex, 64, i == 0);
        }
        for (int k = 0; r == 0 && k < 7; k++)
                r = arr_add(&out[k], &len[k], &cap[k], "", 0, true); /* room for "}" */
        for (int k = 0; r == 0 && k < 7; k++) {
                /* the room made above: drop the empty element, close the array */
                len[k] -= 2;
                out[k][len[k]++] = '}';
                out[k][len[k]] = 0;
        }
        return r;
}

static int ledger_size_q(struct pgc *c, uint64_t *ret)
{
        _cleanup_res_ PGresult *res = NULL;
        int64_t v;
        int r = q(c, "SELECT coalesce(max(idx) + 1, 0) FROM ledger_entries", NULL, false, &res,
                  "ledger size");
        if (r == 0)
                r = sym_PQntuples(res) == 1 ? get_i64(res, 0, 0, &v) : VT_E_STORE;
        if (r == 0)
                *ret = (uint64_t)v;
        return r;
}

/* sth_put_q records a tree head; one of that size recorded before is kept. */
static int sth_put_q(struct pgc *c, uint64_t size, int64_t time, const char *sth)
{
        struct pgp p = {0};
        p_i64(&p, (int64_t)size);
        p_i64(&p, time);
        p_text(&p, sth);
        return q_cmd(c,
                     "INSERT INTO ledger_sths (size, time, sth) VALUES ($1, $2, $3) "
                     "ON CONFLICT (size) DO NOTHING",
                     &p, NULL, "put ledger tree head");
}

static int ledger_append_tx(struct pgc *c, void *arg)
{
        struct ledger_append_arg *a = arg;
        int r = q_simple(c, "SELECT pg_advisory_xact_lock(" LOCK_LEDGER ")", "lock the ledger");
        uint64_t size = 0;
        if (r == 0)
                r = ledger_size_q(c, &size);
        if (r < 0)
                return r;
        if (size != a->expect)
                return VT_E_STALE;
        char *arr[7] = {0};
        r = ledger_arrays(a, arr);
        if (r == 0) {
                struct pgp p = {0};
                for (int k = 0; k < 4; k++)
                        p_text(&p, arr[k]);
                r = q_cmd(c,
                          "INSERT INTO ledger_entries (idx, time, kind, entry) SELECT * FROM "
                          "unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])",
                          &p, NULL, "append ledger entries");
        }
        if (r == 0 && a->m) {
                struct pgp p = {0};
                for (int k = 4; k < 7; k++)
                        p_text(&p, arr[k]);
                r = q_cmd(c,
                          "INSERT INTO ledger_nodes (level, idx, hash) SELECT l, i, "
                          "decode(h, 'hex') FROM unnest($1::int[], $2::bigint[], $3::text[]) AS "
                          "t(l, i, h)",
                          &p, NULL, "append ledger nodes");
        }
        for (int k = 0; k < 7; k++)
                free(arr[k]);
        for (size_t i = 0; r == 0 && i < a->n; i++) {
                struct vt_store_session_mark *k = a->rows[i].mark;
                if (!k)
                        continue;
                struct claim_arg ca = {k->id, k->nonce, k->now, k->claims_json, k->expires};
                /* its answer, or the transaction's failure */
                int e = session_claim_fn(c, &ca);
                if (e == 0 || e == VT_E_REPLAY || e == VT_E_EXPIRED || e == VT_E_BINDING ||
                    e == VT_E_NOTFOUND)
                        k->result = e;
                else
                        r = e;
        }
        if (r == 0 && a->sth) /* in the same transaction: one commit for both */
                r = sth_put_q(c, a->sth->size, a->sth->time, a->sth->sth);
        return r;
}

static int pg_ledger_append(struct vt_store *base, uint64_t expect_size,
                            const struct vt_ledger_row *rows, size_t n,
                            const struct vt_ledger_hash *nodes, size_t m,
                            const struct vt_ledger_sth *sth, bool sync, struct vt_diag *d)
{
        struct vt_pg *s = pg_of(base);
        (void)sync; /* every commit is as durable as the server's synchronous_commit */
        if (expect_size > INT64_MAX || n > INT64_MAX - expect_size)
                return VT_E_INVAL;
        struct ledger_append_arg a = {expect_size, rows, n, nodes, m, sth};
        return pg_run(s, RUN_TX, ledger_append_tx, &a, "ledger append", d);
}

struct u64_arg {
        uint64_t v;
};

static int ledger_size_fn(struct pgc *c, void *arg)
{
        return ledger_size_q(c, &((struct u64_arg *)arg)->v);
}

static int pg_ledger_size(struct vt_store *base, uint64_t *ret, struct vt_diag *d)
{
        struct u64_arg a = {0};
        int r = pg_run(pg_of(base), RUN_READONLY, ledger_size_fn, &a, "ledger size", d);
        if (r == 0)
                *ret = a.v;
        return r;
}

struct node_arg {
        unsigned level;
        uint64_t index;
        uint8_t hash[32];
};

static int ledger_node_fn(struct pgc *c, void *arg)
{
        struct node_arg *a = arg;
        struct pgp p = {0};
        p_i64(&p, (int64_t)a->level);
        p_i64(&p, (int64_t)a->index);
        _cleanup_res_ PGresult *res = NULL;
        int r = q(c, "SELECT hash FROM ledger_nodes WHERE level = $1 AND idx = $2", &p, true, &res,
                  "read ledger node");
        if (r < 0)
                return r;
        if (sym_PQntuples(res) != 1)
                return VT_E_NOTFOUND;
        if (sym_PQgetlength(res, 0, 0) != 32)
                return VT_E_FORMAT;
        memcpy(a->hash, sym_PQgetvalue(res, 0, 0), 32);
        return 0;
}

static int pg_ledger_node(struct vt_store *base, unsigned level, uint64_t index,
                          uint8_t ret[static 32], struct vt_diag *d)
{
        if (index > INT64_MAX)
                return VT_E_NOTFOUND;
        struct node_arg a = {.level = level, .index = index};
        int r = pg_run(pg_of(base), RUN_READONLY, ledger_node_fn, &a, "ledger node", d);
        if (r == 0)
                memcpy(ret, a.hash, 32);
        return r;
}

struct entries_arg {
        uint64_t start, end;
        PGresult *res;
};

static int ledger_entries_fn(struct pgc *c, void *arg)
{
        struct entries_arg *a = arg;
        struct pgp p = {0};
        p_i64(&p, (int64_t)a->start);
        p_i64(&p, (int64_t)a->end);
        if (a->res) {
                sym_PQclear(a->res);
                a->res = NULL;
        }
        return q(c,
                 "SELECT idx, time, kind, entry FROM ledger_entries WHERE idx >= $1 AND idx < $2 "
                 "ORDER BY idx",
                 &p, false, &a->res, "read ledger entries");
}

static int pg_ledger_entries(struct vt_store *base, uint64_t start, uint64_t end,
                             int (*cb)(const struct vt_ledger_row *row, void *ud), void *ud,
                             struct vt_diag *d)
{
        struct entries_arg a = {.start = start, .end = end};
        int r = pg_run(pg_of(base), RUN_READONLY, ledger_entries_fn, &a, "ledger entries", d);
        _cleanup_res_ PGresult *res = a.res;
        for (int i = 0; r == 0 && i < sym_PQntuples(res); i++) {
                int64_t idx, t;
                if (get_i64(res, i, 0, &idx) < 0 || get_i64(res, i, 1, &t) < 0)
                        return VT_E_STORE;
                struct vt_ledger_row row = {.index = (uint64_t)idx,
                                            .time = t,
                                            .kind = sym_PQgetvalue(res, i, 2),
                                            .entry = sym_PQgetvalue(res, i, 3),
                                            .entry_len = (size_t)sym_PQgetlength(res, i, 3)};
                int e = cb(&row, ud);
                if (e < 0)
                        r = e;
        }
        return r;
}

struct sth_put_arg {
        uint64_t size;
        int64_t time;
        const char *sth;
};

static int ledger_sth_put_fn(struct pgc *c, void *arg)
{
        struct sth_put_arg *a = arg;
        return sth_put_q(c, a->size, a->time, a->sth);
}

static int pg_ledger_sth_put(struct vt_store *base, uint64_t size, int64_t time, const char *sth,
                             struct vt_diag *d)
{
        struct sth_put_arg a = {size, time, sth};
        return pg_run(pg_of(base), RUN_TX, ledger_sth_put_fn, &a, "ledger tree head put", d);
}

struct sths_arg {
        uint64_t from;
        size_t max;
        PGresult *res;
};

static int ledger_sths_fn(struct pgc *c, void *arg)
{
        struct sths_arg *a = arg;
        struct pgp p = {0};
        p_i64(&p, (int64_t)a->from);
        p_i64(&p, a->max > INT64_MAX ? INT64_MAX : (int64_t)a->max);
        if (a->res) {
                sym_PQclear(a->res);
                a->res = NULL;
        }
        return q(c,
                 a->max ? "SELECT size, time, sth FROM ledger_sths WHERE size >= $1 ORDER BY size "
                          "LIMIT $2"
                        : "SELECT size, time, sth FROM ledger_sths ORDER BY size DESC LIMIT 1",
                 a->max ? &p : NULL, false, &a->res, "read ledger tree heads");
}

static int pg_ledger_sths(struct vt_store *base, uint64_t from_size, size_t max,
                          int (*cb)(uint64_t size, int64_t time, const char *sth, void *ud),
                          void *ud, struct vt_diag *d)
{
        struct sths_arg a = {.from = from_size, .max = max ? max : 1};
        int r = pg_run(pg_of(base), RUN_READONLY, ledger_sths_fn, &a, "ledger tree heads", d);
        _cleanup_res_ PGresult *res = a.res;
        for (int i = 0; r == 0 && i < sym_PQntuples(res); i++) {
                int64_t sz, t;
                if (get_i64(res, i, 0, &sz) < 0 || get_i64(res, i, 1, &t) < 0)
                        return VT_E_STORE;
                int e = cb((uint64_t)sz, t, sym_PQgetvalue(res, i, 2), ud);
                if (e < 0)
                        r = e;
        }
        return r;
}

static int pg_ledger_sth_latest(struct vt_store *base, uint64_t *ret_size, char **ret_sth,
                                struct vt_diag *d)
{
        struct sths_arg a = {.max = 0};
        int r = pg_run(pg_of(base), RUN_READONLY, ledger_sths_fn, &a, "ledger tree head", d);
        _cleanup_res_ PGresult *res = a.res;
        if (r < 0)
                return r;
        if (sym_PQntuples(res) != 1)
                return VT_E_NOTFOUND;
        int64_t sz;
        if (get_i64(res, 0, 0, &sz) < 0)
                return VT_E_STORE;
        char *t = strdup(sym_PQgetvalue(res, 0, 2));
        if (!t)
                return VT_E_NOMEM;
        *ret_size = (uint64_t)sz;
        *ret_sth = t;
        return 0;
}

const struct vt_store_ops vt_store_postgres_ops = {
        .name = "postgres",
        .open = pg_open,
        .close = pg_close,
        .schema_version = pg_schema_version,
        .ping = pg_ping,
        .session_open = pg_session_open,
        .session_get = pg_session_get,
        .session_claim = pg_session_claim,
        .session_attest = pg_session_attest,
        .session_set_state = pg_session_set_state,
        .session_set_claims = pg_session_set_claims,
        .session_set_attested = pg_session_set_attested,
        .session_get_claims = pg_session_get_claims,
        .session_count_live = pg_session_count_live,
        .sweep = pg_sweep,
        .resource_put = pg_resource_put,
        .resource_put_policy = pg_resource_put_policy,
        .resource_put_batch = pg_resource_put_batch,
        .resource_get = pg_resource_get,
        .release_get = pg_release_get,
        .resource_delete = pg_resource_delete,
        .resource_list = pg_resource_list,
        .resource_rewrap_all = pg_resource_rewrap_all,
        .kek_current = pg_kek_current,
        .kek_adopt = pg_kek_adopt,
        .kek_count = pg_kek_count,
        .policy_set = pg_policy_set,
        .policy_get = pg_policy_get,
        .refval_add = pg_refval_add,
        .refval_delete = pg_refval_delete,
        .refval_list = pg_refval_list,
        .refval_generation = pg_refval_generation,
        .ledger_append = pg_ledger_append,
        .ledger_size = pg_ledger_size,
        .ledger_node = pg_ledger_node,
        .ledger_entries = pg_ledger_entries,
        .ledger_sth_put = pg_ledger_sth_put,
        .ledger_sth_latest = pg_ledger_sth_latest,
        .ledger_sths = pg_ledger_sths,
};
