/* SPDX-License-Identifier: Apache-2.0 */
/* The store: session semantics and single-use nonces across threads and processes;
 * resources, policies, reference values, KEK rotation; for SQLite also the schema, WAL,
 * file mode and the upgrades from older schemas. Each test gets a fresh temporary
 * directory.
 *
 * The suite runs against one back end, named by its first argument or by
 * VT_TEST_STORE_BACKEND ("sqlite" when neither is given). Cases that look at SQLite's
 * own files or pragmas (sqlite_only) skip on any other back end; raw_exec and raw_text
 * run their SQL on PostgreSQL too (a few SQLite functions are defined in each test
 * database for them), and skip the case only for SQL that is SQLite's alone.
 *
 * "postgres" starts a real PostgreSQL server (tests/helpers/pgtest.h) for the run, gives
 * every case a database of its own, and adds the cases of several replicas on one
 * database and of a server restart (pg_only). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "pgtest.h"
#include "testutil.h"
#include "store/store.h"
#include "util/macro.h"
#include "veritee/veritee.h"

#define ROUNDS 50
#define T0     1748736000 /* 2025-06-01T00:00:00Z */

/* The back end under test (main). */
static const struct vt_store_ops *backend;

static const struct {
        const char *name;
        const struct vt_store_ops *ops;
} backends[] = {
        {"sqlite", &vt_store_sqlite_ops},
        {"postgres", &vt_store_postgres_ops},
};

/* The PostgreSQL server of the run (postgres back end only). */
static struct vtt_pg *pg;

/* store_open opens the store at path with the back end under test. */
static int store_open(const char *path, struct vt_store **ret, struct vt_diag *d)
{
        return vt_store_open_with(backend, path, ret, d);
}

/* sqlite_only skips the calling case unless the back end under test is SQLite. */
static void sqlite_only(void)
{
        if (backend != &vt_store_sqlite_ops)
                vtt_skip("SQLite only (back end %s)", vt_store_backend_name(backend));
}

/* pg_only skips the calling case unless the back end under test is PostgreSQL. */
static void pg_only(void)
{
        if (!pg)
                vtt_skip("PostgreSQL only (back end %s)", vt_store_backend_name(backend));
}

struct fixture {
        char dir[256];
        char db[300];    /* SQLite: a file; PostgreSQL: the DSN of dbname */
        char dbname[32]; /* PostgreSQL: this case's database */
};

/* SQLite's functions that the raw_* SQL uses, for a PostgreSQL test database. */
static const char PG_SHIMS[] =
        "CREATE FUNCTION typeof(bytea) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'blob'$$;"
        "CREATE FUNCTION hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE "
        "AS $$SELECT upper(encode($1, 'hex'))$$;"
        "CREATE FUNCTION gc_step(text, text, text) RETURNS text LANGUAGE sql IMMUTABLE "
        "AS $$SELECT CASE WHEN $1 IS NULL THEN $2 ELSE $1 || $3 || $2 END$$;"
        "CREATE FUNCTION gc_step1(text, text) RETURNS text LANGUAGE sql IMMUTABLE "
        "AS $$SELECT CASE WHEN $1 IS NULL THEN $2 ELSE $1 || ',' || $2 END$$;"
        "CREATE AGGREGATE group_concat(text, text) (SFUNC = gc_step, STYPE = text);"
        "CREATE AGGREGATE group_concat(text) (SFUNC = gc_step1, STYPE = text);";

/* pg_fresh_db (re)creates the case's database, with the shims, empty. */
static int pg_fresh_db(struct fixture *f)
{
        char msg[512];
        if (vtt_pg_dropdb(pg, f->dbname) < 0 || vtt_pg_createdb(pg, f->dbname) < 0)
                return -1;
        if (vtt_pg_exec(pg, f->dbname, PG_SHIMS, msg, sizeof(msg)) < 0) {
                fprintf(stderr, "shims: %s", msg);
                return -1;
        }
        return 0;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        if (!f)
                return -1;
        const char *tmp = getenv("TMPDIR");
        snprintf(f->dir, sizeof(f->dir), "%s/vt-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        snprintf(f->db, sizeof(f->db), "%s/veritee.db", f->dir);
        if (pg) {
                static unsigned n;
                snprintf(f->dbname, sizeof(f->dbname), "vt_store_%u", n++);
                vtt_pg_dsn(pg, f->dbname, f->db, sizeof(f->db));
                if (pg_fresh_db(f) < 0) {
                        rmdir(f->dir);
                        free(f);
                        return -1;
                }
        }
        *state = f;
        return 0;
}

static void unlink_db(const char *db)
{
        static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
        char p[320];
        for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
                snprintf(p, sizeof(p), "%s%s", db, sfx[i]);
                unlink(p);
        }
}

/* fresh_db makes the case's database new and empty. */
static void fresh_db(struct fixture *f)
{
        if (pg)
                assert_int_equal(pg_fresh_db(f), 0);
        else
                unlink_db(f->db);
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        if (pg)
                vtt_pg_dropdb(pg, f->dbname);
        else
                unlink_db(f->db);
        rmdir(f->dir);
        free(f);
        return 0;
}

static struct vt_store *open_ok(const char *path)
{
        struct vt_store *s = NULL;
        struct vt_diag d = {0};
        int r = store_open(path, &s, &d);
        if (r < 0)
                fail_msg("vt_store_open %s: %s: %s", path, vt_strerror(r), d.msg);
        return s;
}

/* The SQLite store's schema version (lib/store/sqlite.c's migrations), as upgrades end */
#define SQLITE_STORE_VERSION 11

/* open_upgraded opens an older file, which must come out at the current schema version */
static struct vt_store *open_upgraded(const char *path)
{
        struct vt_store *s = open_ok(path);
        int v = 0;
        assert_int_equal(vt_store_schema_version(s, &v, NULL), 0);
        assert_int_equal(v, SQLITE_STORE_VERSION);
        return s;
}

static struct vt_session mksess(const char *id, const char *nonce, int64_t created, int64_t expires)
{
        struct vt_session s = {0};
        snprintf(s.id, sizeof(s.id), "%s", id);
        snprintf(s.tee, sizeof(s.tee), "snp");
        snprintf(s.nonce, sizeof(s.nonce), "%s", nonce);
        s.created = created;
        s.expires = expires;
        s.state = VT_SESSION_AUTHED;
        return s;
}

/* hexid writes a 32-character lowercase hex id derived from n. */
static void hexid(char id[33], unsigned n)
{
        snprintf(id, 33, "%08x%08x%08x%08x", n, n * 7u, n * 13u, 0xabcdef01u);
}

/* pg_sql gives the PostgreSQL text of SQL written for SQLite, or skips the case when
 * it is SQLite's alone (pragmas, sqlite_master). */
static const char *pg_sql(const char *sql)
{
        static const char fk[] = "PRAGMA foreign_keys = ON; ";
        if (strncmp(sql, fk, sizeof(fk) - 1) == 0)
                sql += sizeof(fk) - 1; /* foreign keys are always on */
        if (strcmp(sql, "PRAGMA user_version") == 0)
                return "SELECT version FROM schema_version WHERE id = 1";
        /* the catalogue: tables, indexes (and triggers, which PostgreSQL names apart) */
        static const char cat[] = "FROM sqlite_master WHERE name";
        static char buf[1024];
        const char *at = strstr(sql, cat);
        if (at && !strstr(at + sizeof(cat) - 1, "sqlite_master") && !strstr(sql, "PRAGMA")) {
                snprintf(buf, sizeof(buf), "%.*sFROM pg_class WHERE relname%s", (int)(at - sql),
                         sql, at + sizeof(cat) - 1);
                return buf;
        }
        if (strstr(sql, "PRAGMA") || strstr(sql, "sqlite_master"))
                vtt_skip("SQLite only: %s", sql);
        return sql;
}

/* pg_raw runs sql on the DSN and copies the first column of the first row into out. */
static void pg_raw(const char *dsn, const char *sql, char *out, size_t n)
{
        PGconn *c = PQconnectdb(dsn);
        if (PQstatus(c) != CONNECTION_OK)
                fail_msg("connect: %s", PQerrorMessage(c));
        PGresult *res = PQexec(c, pg_sql(sql));
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                fail_msg("%s: %s", sql, PQerrorMessage(c));
        if (out) {
                assert_true(PQntuples(res) >= 1);
                snprintf(out, n, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
        }
        PQclear(res);
        PQfinish(c);
}

/* raw_* look at what the store wrote from the outside: SQLite directly, or another
 * PostgreSQL connection. */
static void raw_exec(const char *path, const char *sql)
{
        if (pg) {
                pg_raw(path, sql, NULL, 0);
                return;
        }
        sqlite_only();
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
}

static void raw_text(const char *path, const char *sql, char *out, size_t n)
{
        if (pg) {
                pg_raw(path, sql, out, n);
                return;
        }
        sqlite_only();
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, n, "%s", t ? (const char *)t : "");
        sqlite3_finalize(st);
        sqlite3_close(db);
}

static void assert_sess_equal(const struct vt_session *a, const struct vt_session *b)
{
        assert_string_equal(a->id, b->id);
        assert_string_equal(a->tee, b->tee);
        assert_string_equal(a->nonce, b->nonce);
        assert_int_equal(a->created, b->created);
        assert_int_equal(a->expires, b->expires);
        assert_int_equal(a->state, b->state);
}

/* Open creates and migrates; reopening keeps the data and the version. */
static void test_store_open_migrate_reopen(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        int v1 = -1, v2 = -1;
        assert_int_equal(vt_store_schema_version(s, &v1, NULL), 0);
        assert_true(v1 >= 1);
        assert_int_equal(vt_store_ping(s, NULL), 0);
        struct vt_session in = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &in, T0, 10, NULL), 0);
        vt_store_close(s);

        s = open_ok(f->db);
        assert_int_equal(vt_store_schema_version(s, &v2, NULL), 0);
        assert_int_equal(v2, v1);
        struct vt_session out;
        assert_int_equal(vt_store_session_get(s, in.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &in);
        vt_store_close(s);

        char buf[64];
        raw_text(f->db, "PRAGMA user_version", buf, sizeof(buf));
        assert_int_equal(strtoul(buf, NULL, 10), (unsigned long)v1);
        raw_text(f->db, "SELECT count(*) FROM sqlite_master WHERE name = 'sessions_expires'", buf,
                 sizeof(buf));
        assert_string_equal(buf, "1");

        assert_int_equal(vt_store_schema_version(NULL, &v1, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_ping(NULL, NULL), VT_E_INVAL);
        vt_store_close(NULL);
}

/* The database is in WAL mode (persistent, so another connection sees it). */
static void test_store_wal(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        char mode[16];
        raw_text(f->db, "PRAGMA journal_mode", mode, sizeof(mode));
        assert_string_equal(mode, "wal");
        char wal[320];
        snprintf(wal, sizeof(wal), "%s-wal", f->db);
        assert_int_equal(access(wal, F_OK), 0);
        vt_store_close(s);
}

/* Schema 7: a repository's page is read through resources_repo_path in order, with no
 * sort of the whole repository (the plan has no temporary B-tree). */
static void test_store_repo_page_plan(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char plan[1024] = "";
        assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        /* the statement of resource_list_locked for a repository */
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "EXPLAIN QUERY PLAN SELECT r.path, r.kek_id, r.size, "
                                            "r.created, r.updated, p.path IS NOT NULL FROM "
                                            "resources r LEFT JOIN policies p ON p.path = r.path "
                                            "WHERE r.repo = ?1 AND r.path > ?2 ORDER BY r.path "
                                            "LIMIT ?3",
                                            -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
                size_t l = strlen(plan);
                snprintf(plan + l, sizeof(plan) - l, "%s;",
                         (const char *)sqlite3_column_text(st, 3));
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        print_message("plan: %s\n", plan);
        assert_non_null(strstr(plan, "resources_repo_path"));
        assert_null(strstr(plan, "TEMP B-TREE"));
        vt_store_close(s);
}

/* The file is created 0600 even with umask 0, and so are the -wal and -shm files. */
static void test_store_file_mode(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        mode_t old = umask(0);
        struct vt_store *s = open_ok(f->db);
        umask(old);
        static const char *const sfx[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
                char p[320];
                struct stat st;
                snprintf(p, sizeof(p), "%s%s", f->db, sfx[i]);
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        vt_store_close(s);
}

/* A database from a newer veritee is refused, with a reason, and left untouched. */
static void test_store_newer_schema_refused(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        vt_store_close(open_ok(f->db));
        raw_exec(f->db, "PRAGMA user_version = 999");

        struct vt_store *s = NULL;
        struct vt_diag d = {0};
        assert_int_equal(store_open(f->db, &s, &d), VT_E_UNSUPPORTED);
        assert_null(s);
        assert_int_equal(d.err, VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "999"));
        assert_non_null(strstr(d.msg, "newer"));
        char buf[16];
        raw_text(f->db, "PRAGMA user_version", buf, sizeof(buf));
        assert_string_equal(buf, "999");
}

/* Open failures: bad arguments, a missing parent directory, a file that is not SQLite. */
static void test_store_open_errors(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = NULL;
        struct vt_diag d = {0};
        assert_int_equal(store_open(NULL, &s, &d), VT_E_INVAL);
        assert_int_equal(store_open("", &s, NULL), VT_E_INVAL);
        assert_int_equal(store_open(f->db, NULL, NULL), VT_E_INVAL);
        if (pg) {
                /* Nothing listens on port 1: a prompt failure that names the back end and
                 * leaves out the DSN's password. */
                vt_diag_clear(&d);
                assert_int_equal(store_open("postgresql://vt:s3cret@127.0.0.1:1/none", &s, &d),
                                 VT_E_STORE);
                assert_null(s);
                print_message("refused: %s\n", d.msg);
                assert_non_null(strstr(d.msg, "store:"));
                assert_non_null(strstr(d.msg, "postgres:"));
                assert_null(strstr(d.msg, "s3cret"));
                /* Not a DSN at all: refused without quoting it. */
                vt_diag_clear(&d);
                assert_int_equal(store_open("host=x password=s3cret oops", &s, &d), VT_E_INVAL);
                assert_null(s);
                assert_null(strstr(d.msg, "s3cret"));
                assert_non_null(strstr(d.msg, "DSN"));
                return;
        }

        char p[320];
        snprintf(p, sizeof(p), "%s/missing/veritee.db", f->dir);
        vt_diag_clear(&d);
        assert_int_equal(store_open(p, &s, &d), VT_E_STORE);
        assert_null(s);
        assert_non_null(strstr(d.msg, p));
        assert_int_equal(access(p, F_OK), -1);

        FILE *fp = fopen(f->db, "w");
        assert_non_null(fp);
        for (int i = 0; i < 256; i++)
                fputs("this is not an SQLite database\n", fp);
        fclose(fp);
        vt_diag_clear(&d);
        assert_int_equal(store_open(f->db, &s, &d), VT_E_STORE);
        assert_null(s);
        assert_non_null(strstr(d.msg, "store:"));
}

/* Several processes opening the same fresh database at once all succeed. */
static void test_store_open_concurrent_processes(void **state)
{
        struct fixture *f = *state;
        enum { CHILDREN = 4 };
        for (int round = 0; round < 20; round++) {
                fresh_db(f);
                pid_t pids[CHILDREN];
                for (int i = 0; i < CHILDREN; i++) {
                        pids[i] = fork();
                        assert_true(pids[i] >= 0);
                        if (pids[i] == 0) {
                                struct vt_store *c = NULL;
                                int v = 0;
                                int r = store_open(f->db, &c, NULL);
                                if (r == 0)
                                        r = vt_store_schema_version(c, &v, NULL);
                                vt_store_close(c);
                                _exit(r == 0 && v >= 1 ? 0 : 1);
                        }
                }
                struct vt_store *s = open_ok(f->db);
                int v = 0;
                assert_int_equal(vt_store_schema_version(s, &v, NULL), 0);
                assert_true(v >= 1);
                vt_store_close(s);
                for (int i = 0; i < CHILDREN; i++) {
                        int ws;
                        assert_int_equal(waitpid(pids[i], &ws, 0), pids[i]);
                        assert_true(WIFEXITED(ws));
                        assert_int_equal(WEXITSTATUS(ws), 0);
                }
        }
}

/* Create and get: round trip, NOTFOUND, EXPIRED (filled in), duplicates, bad input. */
static void test_store_session_create_get(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session a = mksess("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "QUFBQQ==", T0, T0 + 60);
        struct vt_session out;
        assert_int_equal(vt_store_session_create(s, &a, T0, 10, NULL), 0);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &a);
        assert_int_equal(vt_store_session_get(s, a.id, T0 + 59, &out, NULL), 0);

        /* expires == now is expired: the session lives in [created, expires). */
        memset(&out, 0, sizeof(out));
        assert_int_equal(vt_store_session_get(s, a.id, T0 + 60, &out, NULL), VT_E_EXPIRED);
        assert_sess_equal(&out, &a);
        assert_int_equal(
                vt_store_session_get(s, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", T0, &out, NULL),
                VT_E_NOTFOUND);

        /* A duplicate id is refused and the first session is unchanged. */
        struct vt_session dup = mksess(a.id, "other", T0 + 1, T0 + 120);
        assert_int_equal(vt_store_session_create(s, &dup, T0, 10, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &a);

        /* Bad input. */
        struct vt_session bad = mksess("cccccccccccccccccccccccccccccccc", "x", T0, T0 + 60);
        memset(bad.id, 'c', sizeof(bad.id)); /* not terminated */
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10, NULL), VT_E_INVAL);
        bad = mksess("", "x", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10, NULL), VT_E_INVAL);
        bad = mksess("cccccccccccccccccccccccccccccccc", "x", T0, T0 + 60);
        memset(bad.nonce, 'n', sizeof(bad.nonce));
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10, NULL), VT_E_INVAL);
        bad = mksess("cccccccccccccccccccccccccccccccc", "x", T0, T0 + 60);
        bad.state = (enum vt_session_state)7;
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_create(NULL, &a, T0, 10, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_create(s, NULL, T0, 10, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, NULL, T0, &out, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, a.id, T0, NULL, NULL), VT_E_INVAL);

        size_t n;
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 1);
        vt_store_close(s);
}

/* Claim: once only; every refusal classified; a wrong nonce changes nothing. */
static void test_store_session_claim(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session a = mksess("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "QUFBQQ==", T0, T0 + 60);
        struct vt_session out;
        assert_int_equal(vt_store_session_create(s, &a, T0, 10, NULL), 0);

        /* Wrong nonce: BINDING, and the session can still be claimed. */
        assert_int_equal(vt_store_session_claim(s, a.id, "QUFBQg==", T0, NULL), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, a.id, "", T0, NULL), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, a.id, "qufbqq==", T0, NULL), VT_E_BINDING);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);

        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0 + 59, NULL), 0);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_CLAIMED);
        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0 + 1, NULL), VT_E_REPLAY);
        /* A wrong nonce on a used session is still a binding failure. */
        assert_int_equal(vt_store_session_claim(s, a.id, "QUFBQg==", T0 + 1, NULL), VT_E_BINDING);

        /* After ATTESTED the nonce stays used. */
        assert_int_equal(vt_store_session_set_state(s, a.id, VT_SESSION_ATTESTED, NULL), 0);
        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0 + 1, NULL), VT_E_REPLAY);

        /* Expired (expires == now counts) and unknown sessions. */
        struct vt_session b = mksess("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "QkJCQg==", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &b, T0, 10, NULL), 0);
        assert_int_equal(vt_store_session_claim(s, b.id, b.nonce, T0 + 60, NULL), VT_E_EXPIRED);
        assert_int_equal(vt_store_session_claim(s, b.id, b.nonce, T0 + 3600, NULL), VT_E_EXPIRED);
        assert_int_equal(vt_store_session_claim(s, b.id, "wrong", T0 + 3600, NULL), VT_E_EXPIRED);
        assert_int_equal(vt_store_session_get(s, b.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);
        assert_int_equal(
                vt_store_session_claim(s, "cccccccccccccccccccccccccccccccc", b.nonce, T0, NULL),
                VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_claim(s, NULL, b.nonce, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_claim(s, b.id, NULL, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_claim(NULL, b.id, b.nonce, T0, NULL), VT_E_INVAL);
        vt_store_close(s);
}

/* Attest: the claim and the mark in one write: once only, every refusal classified as the
 * claim's, a refused session left as it was; an attested session has its claims and its
 * new expiry, and its nonce stays used for both the claim and a second attest. */
static void test_store_session_attest(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session a = mksess("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "QUFBQQ==", T0, T0 + 60);
        struct vt_session out;
        char *c = NULL;
        assert_int_equal(vt_store_session_create(s, &a, T0, 10, NULL), 0);

        assert_int_equal(vt_store_session_attest(s, a.id, "QUFBQg==", T0, "{}", T0 + 600, NULL),
                         VT_E_BINDING);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);
        assert_int_equal(out.expires, T0 + 60);
        assert_int_equal(vt_store_session_get_claims(s, a.id, T0, &c, NULL), VT_E_NOTFOUND);

        assert_int_equal(
                vt_store_session_attest(s, a.id, a.nonce, T0 + 59, "{\"x\":1}", T0 + 600, NULL), 0);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_ATTESTED);
        assert_int_equal(out.expires, T0 + 600);
        assert_int_equal(vt_store_session_get_claims(s, a.id, T0 + 100, &c, NULL), 0);
        assert_string_equal(c, "{\"x\":1}");
        free(c);
        assert_int_equal(vt_store_session_attest(s, a.id, a.nonce, T0 + 1, "{}", T0 + 900, NULL),
                         VT_E_REPLAY);
        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0 + 1, NULL), VT_E_REPLAY);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.expires, T0 + 600);

        /* a claimed nonce cannot attest; an expired session neither, and stays as it was */
        struct vt_session b = mksess("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "QkJCQg==", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &b, T0, 10, NULL), 0);
        assert_int_equal(vt_store_session_attest(s, b.id, b.nonce, T0 + 60, "{}", T0 + 600, NULL),
                         VT_E_EXPIRED);
        assert_int_equal(vt_store_session_get(s, b.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);
        assert_int_equal(vt_store_session_claim(s, b.id, b.nonce, T0, NULL), 0);
        assert_int_equal(vt_store_session_attest(s, b.id, b.nonce, T0, "{}", T0 + 600, NULL),
                         VT_E_REPLAY);
        assert_int_equal(vt_store_session_attest(s, "cccccccccccccccccccccccccccccccc", b.nonce, T0,
                                                 "{}", T0 + 600, NULL),
                         VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_attest(s, b.id, b.nonce, T0, NULL, T0 + 600, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_session_attest(s, b.id, NULL, T0, "{}", T0 + 600, NULL),
                         VT_E_INVAL);
        vt_store_close(s);
}

struct claims_reader {
        struct vt_store *s;
        int id, n, bad;
};

/* claims_reader_main reads its own attested session's claims n times */
static void *claims_reader_main(void *p)
{
        struct claims_reader *x = p;
        char id[33], want[32];
        snprintf(id, sizeof(id), "%032x", (unsigned)x->id);
        snprintf(want, sizeof(want), "{\"r\":%d}", x->id);
        for (int i = 0; i < x->n; i++) {
                char *c = NULL;
                if (vt_store_session_get_claims(x->s, id, T0, &c, NULL) != 0 ||
                    strcmp(c, want) != 0)
                        x->bad++;
                free(c);
        }
        return NULL;
}

/* Threads reading claims at once each get their own session's, every time: the
 * connection's kept statements are reset under the store's mutex, not after it (a
 * reset after the unlock cut another thread's read short: "not found"). */
static void test_store_session_claims_threads(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        enum { THREADS = 6, READS = 3000 };
        struct claims_reader r[THREADS];
        pthread_t th[THREADS];
        for (int i = 0; i < THREADS; i++) {
                char id[33], nonce[16], claims[32];
                snprintf(id, sizeof(id), "%032x", (unsigned)i);
                snprintf(nonce, sizeof(nonce), "bm9uY2U%d", i);
                snprintf(claims, sizeof(claims), "{\"r\":%d}", i);
                struct vt_session a = mksess(id, nonce, T0, T0 + 60);
                assert_int_equal(vt_store_session_create(s, &a, T0, 100, NULL), 0);
                assert_int_equal(vt_store_session_attest(s, id, nonce, T0, claims, T0 + 600, NULL),
                                 0);
                r[i] = (struct claims_reader){.s = s, .id = i, .n = READS};
        }
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, claims_reader_main, &r[i]), 0);
        int bad = 0;
        for (int i = 0; i < THREADS; i++) {
                pthread_join(th[i], NULL);
                bad += r[i].bad;
        }
        if (bad)
                fail_msg("%d of %d concurrent claims reads failed or read another's", bad,
                         THREADS * READS);
        vt_store_close(s);
}

/* A ledger append marks sessions in its transaction: each mark answers as
 * vt_store_session_attest would (a second mark of the same session in the same group is
 * a replay), the entries go in whatever the answers, and an append that is refused (stale,
 * a bad mark) marks nothing. */
static void test_store_ledger_mark(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session a = mksess("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "QUFBQQ==", T0, T0 + 60);
        struct vt_session b = mksess("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "QkJCQg==", T0, T0 + 60);
        struct vt_session c = mksess("cccccccccccccccccccccccccccccccc", "Q0NDQw==", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &a, T0, 10, NULL), 0);
        assert_int_equal(vt_store_session_create(s, &b, T0, 10, NULL), 0);
        assert_int_equal(vt_store_session_create(s, &c, T0, 10, NULL), 0);
        struct vt_store_session_mark ma = {a.id, a.nonce, T0 + 1, "{\"x\":1}", T0 + 600, 1},
                                     mb = {b.id, "QUFBQg==", T0 + 1, "{}", T0 + 600, 1},
                                     ma2 = {a.id, a.nonce, T0 + 1, "{\"x\":2}", T0 + 900, 1},
                                     mx = {"dddddddddddddddddddddddddddddddd",
                                           a.nonce,
                                           T0 + 1,
                                           "{}",
                                           T0 + 600,
                                           1};
        struct vt_ledger_row rows[5] = {
                {.index = 0,
                 .time = 1,
                 .kind = "attest",
                 .entry = "{\"a\":1}",
                 .entry_len = 7,
                 .mark = &ma},
                {.index = 1,
                 .time = 1,
                 .kind = "attest",
                 .entry = "{\"a\":2}",
                 .entry_len = 7,
                 .mark = &mb},
                {.index = 2, .time = 1, .kind = "release", .entry = "{\"a\":3}", .entry_len = 7},
                {.index = 3,
                 .time = 1,
                 .kind = "attest",
                 .entry = "{\"a\":4}",
                 .entry_len = 7,
                 .mark = &ma2},
                {.index = 4,
                 .time = 1,
                 .kind = "attest",
                 .entry = "{\"a\":5}",
                 .entry_len = 7,
                 .mark = &mx},
        };
        struct vt_diag d = {0};
        if (vt_store_ledger_append_unsynced(s, 0, rows, 5, NULL, 0, &d) != 0)
                fail_msg("append with marks: %s", d.msg);
        assert_int_equal(ma.result, 0);
        assert_int_equal(mb.result, VT_E_BINDING);
        assert_int_equal(ma2.result, VT_E_REPLAY);
        assert_int_equal(mx.result, VT_E_NOTFOUND);
        uint64_t size = 0;
        assert_int_equal(vt_store_ledger_size(s, &size, NULL), 0);
        assert_int_equal(size, 5);
        struct vt_session out;
        char *claims = NULL;
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_ATTESTED);
        assert_int_equal(out.expires, T0 + 600);
        assert_int_equal(vt_store_session_get_claims(s, a.id, T0 + 100, &claims, NULL), 0);
        assert_string_equal(claims, "{\"x\":1}");
        free(claims);
        assert_int_equal(vt_store_session_get(s, b.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);

        /* stale: neither the entry nor the mark */
        struct vt_store_session_mark mc = {c.id, c.nonce, T0 + 1, "{}", T0 + 600, 1};
        struct vt_ledger_row more = {.index = 4,
                                     .time = 1,
                                     .kind = "attest",
                                     .entry = "{\"a\":6}",
                                     .entry_len = 7,
                                     .mark = &mc};
        assert_int_equal(vt_store_ledger_append(s, 4, &more, 1, NULL, 0, NULL), VT_E_STALE);
        assert_int_equal(mc.result, 1);
        assert_int_equal(vt_store_session_get(s, c.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);
        /* a mark without claims: refused before anything is written */
        more.index = 5;
        mc.claims_json = NULL;
        assert_int_equal(vt_store_ledger_append(s, 5, &more, 1, NULL, 0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_ledger_size(s, &size, NULL), 0);
        assert_int_equal(size, 5);
        /* synced, with its mark */
        mc.claims_json = "{\"c\":1}";
        assert_int_equal(vt_store_ledger_append(s, 5, &more, 1, NULL, 0, NULL), 0);
        assert_int_equal(mc.result, 0);
        assert_int_equal(vt_store_session_get(s, c.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_ATTESTED);
        vt_store_close(s);
}

/* set_state: writes the state, NOTFOUND for an unknown id, INVAL for a bad state. */
static void test_store_session_set_state(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session a = mksess("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "QUFBQQ==", T0, T0 + 60);
        struct vt_session out;
        assert_int_equal(vt_store_session_create(s, &a, T0, 10, NULL), 0);
        assert_int_equal(vt_store_session_set_state(s, a.id, VT_SESSION_ATTESTED, NULL), 0);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_ATTESTED);
        assert_int_equal(vt_store_session_set_state(s, a.id, VT_SESSION_AUTHED, NULL), 0);
        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0, NULL), 0);
        assert_int_equal(vt_store_session_set_state(s, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                                                    VT_SESSION_ATTESTED, NULL),
                         VT_E_NOTFOUND);
        int bad[] = {-1, 3, 1000};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(
                        vt_store_session_set_state(s, a.id, (enum vt_session_state)bad[i], NULL),
                        VT_E_INVAL);
        assert_int_equal(vt_store_session_set_state(s, NULL, VT_SESSION_ATTESTED, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_CLAIMED);
        vt_store_close(s);
}

/* count_live counts expires > now; sweep deletes exactly the others. */
static void test_store_count_sweep(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        char id[33];
        for (unsigned i = 0; i < 10; i++) {
                hexid(id, i);
                struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 10 * (int64_t)(i + 1));
                assert_int_equal(vt_store_session_create(s, &x, T0, 100, NULL), 0);
        }
        size_t n = 99;
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 10);
        assert_int_equal(vt_store_session_count_live(s, T0 + 10, &n, NULL), 0);
        assert_int_equal(n, 9);
        assert_int_equal(vt_store_session_count_live(s, T0 + 55, &n, NULL), 0);
        assert_int_equal(n, 5);
        assert_int_equal(vt_store_session_count_live(s, T0 + 100, &n, NULL), 0);
        assert_int_equal(n, 0);

        assert_int_equal(vt_store_sweep(s, T0, &n, NULL), 0);
        assert_int_equal(n, 0);
        assert_int_equal(vt_store_sweep(s, T0 + 30, &n, NULL), 0);
        assert_int_equal(n, 3); /* expires 10, 20, 30 */
        assert_int_equal(vt_store_sweep(s, T0 + 30, &n, NULL), 0);
        assert_int_equal(n, 0);
        struct vt_session out;
        hexid(id, 2);
        assert_int_equal(vt_store_session_get(s, id, T0, &out, NULL), VT_E_NOTFOUND);
        hexid(id, 3);
        assert_int_equal(vt_store_session_get(s, id, T0, &out, NULL), 0);
        /* Swept sessions no longer count even at an earlier time. */
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 7);
        assert_int_equal(vt_store_sweep(s, T0 + 1000, NULL, NULL), 0);
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 0);

        assert_int_equal(vt_store_session_count_live(s, T0, NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_count_live(NULL, T0, &n, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_sweep(NULL, T0, &n, NULL), VT_E_INVAL);
        vt_store_close(s);
}

/* Only open sessions (nonce unused, unexpired) count against the limits; the
 * per-client limit counts one client's and leaves room for the others. */
static void test_store_open_limits(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_diag d = {0};
        char id[33];
        for (unsigned i = 0; i < 3; i++) {
                hexid(id, i);
                struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 60);
                snprintf(x.client, sizeof(x.client), "192.0.2.1");
                assert_int_equal(vt_store_session_open(s, &x, T0, 5, 3, NULL), 0);
        }
        hexid(id, 3);
        struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 60);
        snprintf(x.client, sizeof(x.client), "192.0.2.1");
        assert_int_equal(vt_store_session_open(s, &x, T0, 5, 3, &d), VT_E_LIMIT);
        assert_non_null(strstr(d.msg, "from this client (limit 3)"));
        /* another client still gets one */
        snprintf(x.client, sizeof(x.client), "192.0.2.2");
        assert_int_equal(vt_store_session_open(s, &x, T0, 5, 3, NULL), 0);
        struct vt_session out;
        assert_int_equal(vt_store_session_get(s, x.id, T0, &out, NULL), 0);
        assert_string_equal(out.client, "192.0.2.2");
        /* spent sessions (claimed, attested) count against neither limit */
        hexid(id, 0);
        assert_int_equal(vt_store_session_claim(s, id, "bm9uY2U=", T0, NULL), 0);
        hexid(id, 1);
        assert_int_equal(vt_store_session_set_attested(s, id, "{\"a\":1}", T0 + 10, NULL), 0);
        hexid(id, 4);
        struct vt_session y = mksess(id, "bm9uY2U=", T0, T0 + 60);
        snprintf(y.client, sizeof(y.client), "192.0.2.1");
        assert_int_equal(vt_store_session_open(s, &y, T0, 5, 3, NULL), 0);
        hexid(id, 5);
        y = mksess(id, "bm9uY2U=", T0, T0 + 60);
        snprintf(y.client, sizeof(y.client), "192.0.2.1");
        assert_int_equal(vt_store_session_open(s, &y, T0, 5, 3, NULL), 0);
        hexid(id, 6);
        y = mksess(id, "bm9uY2U=", T0, T0 + 60);
        snprintf(y.client, sizeof(y.client), "192.0.2.3");
        assert_int_equal(vt_store_session_open(s, &y, T0, 5, 3, NULL), 0);
        /* five open now: the overall limit */
        hexid(id, 7);
        y = mksess(id, "bm9uY2U=", T0, T0 + 60);
        snprintf(y.client, sizeof(y.client), "192.0.2.4");
        memset(&d, 0, sizeof(d));
        assert_int_equal(vt_store_session_open(s, &y, T0, 5, 3, &d), VT_E_LIMIT);
        assert_non_null(strstr(d.msg, "too many open sessions (limit 5)"));
        /* set_attested wrote state, claims and the new expiry */
        hexid(id, 1);
        assert_int_equal(vt_store_session_get(s, id, T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_ATTESTED);
        assert_int_equal(out.expires, T0 + 10);
        char *c = NULL;
        assert_int_equal(vt_store_session_get_claims(s, id, T0 + 10, &c, NULL), VT_E_EXPIRED);
        assert_int_equal(vt_store_session_set_attested(s, "ffffffffffffffffffffffffffffffff", "{}",
                                                       T0, NULL),
                         VT_E_NOTFOUND);
        vt_store_close(s);
}

/* The sweep deletes expired sessions with their claims and the file shrinks again
 * (auto_vacuum=INCREMENTAL). */
static void test_store_sweep_reclaims(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        char id[33], buf[32];
        char *claims = malloc(8001);
        assert_non_null(claims);
        memset(claims, 'x', 8000);
        claims[0] = '"';
        claims[7999] = '"';
        claims[8000] = 0;
        raw_text(f->db, "PRAGMA auto_vacuum", buf, sizeof(buf));
        assert_string_equal(buf, "2");
        for (unsigned i = 0; i < 2000; i++) {
                hexid(id, i);
                struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 60);
                assert_int_equal(vt_store_session_create(s, &x, T0, 100000, NULL), 0);
                assert_int_equal(vt_store_session_set_attested(s, id, claims, T0 + 30, NULL), 0);
        }
        free(claims);
        struct stat st;
        char wal[600];
        snprintf(wal, sizeof(wal), "%s-wal", f->db);
        assert_int_equal(vt_store_sweep(s, T0 + 10, NULL, NULL), 0); /* a checkpoint */
        assert_int_equal(stat(f->db, &st), 0);
        off_t full = st.st_size;
        assert_true(full > 16 * 1000 * 1000);
        size_t n = 0;
        assert_int_equal(vt_store_sweep(s, T0 + 30, &n, NULL), 0);
        assert_int_equal(n, 2000);
        assert_int_equal(stat(f->db, &st), 0);
        assert_true(st.st_size < full / 10);
        vt_store_close(s);
}

/* A version 3 database without auto_vacuum (as veritee made them before schema 5)
 * upgrades: sessions keep their rows (client ''), and it is vacuumed once into
 * auto_vacuum=INCREMENTAL. */
static void test_store_v3_upgrade(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session in = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &in, T0, 10, NULL), 0);
        vt_store_close(s);
        raw_exec(f->db,
                 "DROP TABLE ledger_entries; DROP TABLE ledger_nodes; DROP TABLE ledger_sths; "
                 "DROP TABLE kek; DROP INDEX sessions_open_client; "
                 "ALTER TABLE sessions DROP COLUMN client; DROP INDEX resources_repo_path; "
                 "CREATE INDEX resources_repo ON resources (repo); PRAGMA user_version = 3; "
                 "PRAGMA auto_vacuum = NONE; VACUUM");
        char buf[64];
        raw_text(f->db, "PRAGMA auto_vacuum", buf, sizeof(buf));
        assert_string_equal(buf, "0");
        s = open_upgraded(f->db);
        struct vt_session out;
        assert_int_equal(vt_store_session_get(s, in.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &in);
        assert_string_equal(out.client, "");
        vt_store_close(s);
        raw_text(f->db, "PRAGMA auto_vacuum", buf, sizeof(buf));
        assert_string_equal(buf, "2");
        /* schema 5 made sessions_open and sessions_open_client, 11 dropped sessions_open */
        raw_text(f->db,
                 "SELECT group_concat(name) FROM sqlite_master WHERE name LIKE 'sessions_open%'",
                 buf, sizeof(buf));
        assert_string_equal(buf, "sessions_open_client");
}

/* max_live: the next create fails with LIMIT and writes nothing; expired sessions
 * do not count, swept or not. */
static void test_store_limit(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        char id[33];
        for (unsigned i = 0; i < 3; i++) {
                hexid(id, i);
                struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 60 + i);
                assert_int_equal(vt_store_session_create(s, &x, T0, 3, NULL), 0);
        }
        hexid(id, 3);
        struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 60);
        struct vt_session out;
        size_t n;
        assert_int_equal(vt_store_session_create(s, &x, T0, 3, NULL), VT_E_LIMIT);
        assert_int_equal(vt_store_session_get(s, id, T0, &out, NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 3);
        char buf[16];
        raw_text(f->db, "SELECT count(*) FROM sessions", buf, sizeof(buf));
        assert_string_equal(buf, "3");

        /* At T0 + 60 the first session has expired: room for one. */
        x.expires = T0 + 200;
        assert_int_equal(vt_store_session_create(s, &x, T0 + 60, 3, NULL), 0);
        hexid(id, 4);
        struct vt_session y = mksess(id, "bm9uY2U=", T0 + 60, T0 + 200);
        assert_int_equal(vt_store_session_create(s, &y, T0 + 60, 3, NULL), VT_E_LIMIT);
        assert_int_equal(vt_store_session_create(s, &y, T0 + 60, 0, NULL), VT_E_LIMIT);
        assert_int_equal(vt_store_session_get(s, id, T0, &out, NULL), VT_E_NOTFOUND);
        vt_store_close(s);
}

/* Quotes and SQL metacharacters in ids and nonces are data: stored and compared
 * verbatim (every value is a bound parameter). */
static void test_store_binding_metachars(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        static const char *const ids[] = {
                "'; DROP TABLE sessions; --",
                "x' OR '1'='1",
                "\"quoted\" %s %n \\ ?1 :a @b $c",
                "%",
                "_",
                "a\xc3\xa9\t\n",
        };
        static const char *const nonces[] = {
                "' OR 1=1 --", "x' OR '1'='1", "\"); DELETE FROM sessions; --", "%", "_", "''",
        };
        struct vt_session out;
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                struct vt_session x = mksess(ids[i], nonces[i], T0, T0 + 60);
                snprintf(x.tee, sizeof(x.tee), "tee'%zu", i);
                assert_int_equal(vt_store_session_create(s, &x, T0, 100, NULL), 0);
                assert_int_equal(vt_store_session_get(s, ids[i], T0, &out, NULL), 0);
                assert_sess_equal(&out, &x);
        }
        size_t n;
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 6);

        /* Neither LIKE wildcards nor injected predicates match another row. */
        assert_int_equal(vt_store_session_get(s, "x' OR 'a'='a", T0, &out, NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_claim(s, "x' OR '1'='1", "' OR '1'='1", T0, NULL),
                         VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, "%", "' OR 1=1 --", T0, NULL), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, "_", "%", T0, NULL), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, "%", "%", T0, NULL), 0);
        assert_int_equal(vt_store_session_claim(s, ids[0], nonces[0], T0, NULL), 0);
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                assert_int_equal(vt_store_session_get(s, ids[i], T0, &out, NULL), 0);
                assert_int_equal(out.state,
                                 i == 0 || i == 3 ? VT_SESSION_CLAIMED : VT_SESSION_AUTHED);
        }
        assert_int_equal(vt_store_session_set_state(s, "_", VT_SESSION_ATTESTED, NULL), 0);
        assert_int_equal(vt_store_session_get(s, "%", T0, &out, NULL), 0);
        assert_int_equal(out.state, VT_SESSION_CLAIMED);
        vt_store_close(s);

        char buf[64];
        raw_text(f->db, "SELECT nonce FROM sessions WHERE id = '''; DROP TABLE sessions; --'", buf,
                 sizeof(buf));
        assert_string_equal(buf, nonces[0]);
}

struct racer {
        struct vt_store *s;
        const char *id, *nonce;
        pthread_barrier_t *go;
        int r;
};

static void *race_claim(void *arg)
{
        struct racer *x = arg;
        pthread_barrier_wait(x->go);
        x->r = vt_store_session_claim(x->s, x->id, x->nonce, T0 + 1, NULL);
        return NULL;
}

/* Two threads claim one session: exactly one wins, the other sees REPLAY. Even rounds
 * share one handle (veriteed's thread pool), odd rounds use a handle each. */
static void test_store_claim_race_threads(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_store *own[2] = {open_ok(f->db), open_ok(f->db)};
        int wins[2] = {0, 0};
        for (unsigned round = 0; round < ROUNDS; round++) {
                char id[33];
                hexid(id, round);
                struct vt_session x = mksess(id, "cmFjZQ==", T0, T0 + 60);
                assert_int_equal(vt_store_session_create(s, &x, T0, 1000, NULL), 0);

                pthread_barrier_t go;
                assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
                struct racer r[2];
                pthread_t th[2];
                for (int i = 0; i < 2; i++) {
                        r[i] = (struct racer){round % 2 ? own[i] : s, id, x.nonce, &go, 1};
                        assert_int_equal(pthread_create(&th[i], NULL, race_claim, &r[i]), 0);
                }
                for (int i = 0; i < 2; i++)
                        pthread_join(th[i], NULL);
                pthread_barrier_destroy(&go);

                int won = (r[0].r == 0) + (r[1].r == 0);
                assert_int_equal(won, 1);
                assert_int_equal(r[0].r == 0 ? r[1].r : r[0].r, VT_E_REPLAY);
                wins[r[0].r == 0 ? 0 : 1]++;
                struct vt_session out;
                assert_int_equal(vt_store_session_get(s, id, T0, &out, NULL), 0);
                assert_int_equal(out.state, VT_SESSION_CLAIMED);
        }
        print_message("thread race: first thread won %d, second %d of %d\n", wins[0], wins[1],
                      ROUNDS);
        vt_store_close(own[0]);
        vt_store_close(own[1]);
        vt_store_close(s);
}

struct creator {
        struct vt_store *s;
        unsigned base;
        int ok, limit, other;
};

static void *create_many(void *arg)
{
        struct creator *c = arg;
        for (unsigned i = 0; i < 40; i++) {
                char id[33];
                hexid(id, c->base + i);
                struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 60);
                int r = vt_store_session_create(c->s, &x, T0, 100, NULL);
                if (r == 0)
                        c->ok++;
                else if (r == VT_E_LIMIT)
                        c->limit++;
                else
                        c->other++;
        }
        return NULL;
}

/* Eight threads create sessions through one handle against max_live 100: the count
 * and the insert are one transaction, so exactly 100 succeed and nothing else fails. */
static void test_store_threads_create_limit(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        enum { THREADS = 8 };
        struct creator c[THREADS];
        pthread_t th[THREADS];
        for (unsigned i = 0; i < THREADS; i++) {
                c[i] = (struct creator){s, i * 1000u, 0, 0, 0};
                assert_int_equal(pthread_create(&th[i], NULL, create_many, &c[i]), 0);
        }
        int ok = 0, limit = 0, other = 0;
        for (unsigned i = 0; i < THREADS; i++) {
                pthread_join(th[i], NULL);
                ok += c[i].ok;
                limit += c[i].limit;
                other += c[i].other;
        }
        assert_int_equal(other, 0);
        assert_int_equal(ok, 100);
        assert_int_equal(limit, THREADS * 40 - 100);
        size_t n;
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 100);
        vt_store_close(s);
}

static int child_status(pid_t pid)
{
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws));
        return WEXITSTATUS(ws);
}

/* A parent and a forked child claim the same session through their own handles, both
 * released by one pipe write: exactly one succeeds, the other sees REPLAY. */
static void test_store_claim_race_processes(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        int child_wins = 0;
        for (unsigned round = 0; round < ROUNDS; round++) {
                char id[33];
                hexid(id, round);
                struct vt_session x = mksess(id, "cHJvYw==", T0, T0 + 60);
                assert_int_equal(vt_store_session_create(s, &x, T0, 1000, NULL), 0);

                int ready[2], go[2];
                assert_int_equal(pipe(ready), 0);
                assert_int_equal(pipe(go), 0);
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        /* The parent's connection is never touched here. */
                        struct vt_store *c = NULL;
                        char b = 0;
                        int r = store_open(f->db, &c, NULL);
                        if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
                                _exit(3);
                        if (r == 0)
                                r = vt_store_session_claim(c, id, x.nonce, T0 + 1, NULL);
                        vt_store_close(c);
                        _exit(r == 0 ? 0 : r == VT_E_REPLAY ? 1 : 2);
                }
                char b;
                assert_int_equal(read(ready[0], &b, 1), 1);
                assert_int_equal(write(go[1], "g", 1), 1);
                /* The child needs a moment to wake up: give it a head start in some
                 * rounds so that both orders, and true overlaps, occur. */
                if (round % 2)
                        usleep(20 * (round % 7));
                int r = vt_store_session_claim(s, id, x.nonce, T0 + 1, NULL);
                int cs = child_status(pid);
                close(ready[0]);
                close(ready[1]);
                close(go[0]);
                close(go[1]);

                assert_true(cs == 0 || cs == 1);
                assert_int_equal((r == 0) + (cs == 0), 1);
                if (r != 0)
                        assert_int_equal(r, VT_E_REPLAY);
                child_wins += cs == 0;
        }
        print_message("process race: child won %d of %d\n", child_wins, ROUNDS);
        vt_store_close(s);
}

/* Four processes create sessions against max_live 100: exactly 100 rows in total. */
static void test_store_processes_create_limit(void **state)
{
        struct fixture *f = *state;
        vt_store_close(open_ok(f->db));
        enum { CHILDREN = 4 };
        pid_t pids[CHILDREN];
        for (unsigned i = 0; i < CHILDREN; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        struct creator c = {NULL, i * 1000u, 0, 0, 0};
                        if (store_open(f->db, &c.s, NULL) < 0)
                                _exit(255);
                        create_many(&c);
                        vt_store_close(c.s);
                        _exit(c.other ? 255 : c.ok);
                }
        }
        int ok = 0;
        for (unsigned i = 0; i < CHILDREN; i++) {
                int cs = child_status(pids[i]);
                assert_true(cs != 255);
                ok += cs;
        }
        assert_int_equal(ok, 100);
        char buf[16];
        raw_text(f->db, "SELECT count(*) FROM sessions", buf, sizeof(buf));
        assert_string_equal(buf, "100");
}

/*
 * Schema version 2: resources, policies, reference values.
 */

static const uint8_t WDEK[] = {0x00, 0x01, 0xfe, 0xff, 0x00, 'w', 'k'};
static const uint8_t CT[] = {'c', 0x00, 't', 0x80, 0x00};

static void put_ok(struct vt_store *s, const char *path, const char *kek, int64_t now)
{
        int r = vt_store_resource_put(s, path, kek, WDEK, sizeof(WDEK), CT, sizeof(CT), 3, now,
                                      NULL);
        if (r < 0)
                fail_msg("put %s: %s", path, vt_strerror(r));
}

/* raw_snapshot renders every resource row (path, kek_id, blobs, times) as one string,
 * to compare the table before and after an operation that must change nothing. */
static void raw_snapshot(const char *path, char *out, size_t n)
{
        raw_text(path,
                 "SELECT coalesce(group_concat(x, ';'), '') FROM (SELECT path || ',' || kek_id || "
                 "',' || hex(wrapped_dek) || ',' || hex(ciphertext) || ',' || size || ',' || "
                 "created || ',' || updated AS x FROM resources ORDER BY path) AS t",
                 out, n);
}

static void assert_schema_v2(const char *db)
{
        char buf[64];
        char want[16];
        snprintf(want, sizeof(want), "%d", SQLITE_STORE_VERSION);
        raw_text(db, "PRAGMA user_version", buf, sizeof(buf));
        assert_string_equal(buf, want);
        raw_text(db,
                 "SELECT count(*) FROM sqlite_master WHERE name IN ('resources', "
                 "'resources_repo_path', 'policies', 'refvals', 'refvals_tee', 'generations', "
                 "'refvals_insert', 'refvals_update', 'refvals_delete', 'kek')",
                 buf, sizeof(buf));
        assert_string_equal(buf, "10");
}

/* A version 1 database (made by the current code and taken back to version 1 with the
 * raw API) upgrades in place to version 2 on open and keeps its sessions. */
static void test_store_v1_upgrade(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session in = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &in, T0, 10, NULL), 0);
        vt_store_close(s);
        raw_exec(f->db,
                 "DROP TABLE policies; DROP TABLE resources; DROP TABLE refvals; "
                 "DROP TABLE generations; ALTER TABLE sessions DROP COLUMN claims; "
                 "DROP TABLE ledger_entries; DROP TABLE ledger_nodes; DROP TABLE ledger_sths; "
                 "DROP TABLE kek; DROP INDEX sessions_open_client; "
                 "ALTER TABLE sessions DROP COLUMN client; PRAGMA user_version = 1");
        char buf[64];
        raw_text(f->db, "SELECT count(*) FROM sqlite_master WHERE name = 'resources'", buf,
                 sizeof(buf));
        assert_string_equal(buf, "0");

        s = open_upgraded(f->db);
        struct vt_session out;
        assert_int_equal(vt_store_session_get(s, in.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &in);
        int64_t gen = -1;
        assert_int_equal(vt_store_refval_generation(s, &gen, NULL), 0);
        assert_int_equal(gen, 0);
        put_ok(s, "repo/key/v1", "kek1", T0);
        assert_int_equal(vt_store_policy_set(s, "repo/key/v1", "{}", T0, NULL), 0);
        assert_int_equal(vt_store_refval_add(s, "ref1", "snp", "{}", T0, NULL), 0);
        vt_store_close(s);
        assert_schema_v2(f->db);
}

/* A database written by veritee 0.1 (schema version 1, exactly as shipped, in WAL mode)
 * upgrades to version 2 and keeps its sessions. */
static void test_store_v1_fixture_upgrade(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        sqlite3 *db = NULL;
        assert_int_equal(
                sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                SQLITE_OK);
        assert_int_equal(
                sqlite3_exec(db,
                             "PRAGMA journal_mode = WAL;"
                             "CREATE TABLE sessions ("
                             "id TEXT PRIMARY KEY NOT NULL,"
                             "tee TEXT NOT NULL,"
                             "nonce TEXT NOT NULL,"
                             "created INTEGER NOT NULL,"
                             "expires INTEGER NOT NULL,"
                             "state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2))"
                             ");"
                             "CREATE INDEX sessions_expires ON sessions (expires);"
                             "INSERT INTO sessions VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
                             " 'snp', 'QUFBQQ==', 1748736000, 1748736060, 1);"
                             "PRAGMA user_version = 1;",
                             NULL, NULL, NULL),
                SQLITE_OK);
        sqlite3_close(db);

        struct vt_store *s = open_upgraded(f->db);
        struct vt_session out;
        assert_int_equal(
                vt_store_session_get(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", T0, &out, NULL), 0);
        assert_string_equal(out.nonce, "QUFBQQ==");
        assert_int_equal(out.state, VT_SESSION_CLAIMED);
        assert_int_equal(out.expires, T0 + 60);
        vt_store_close(s);
        assert_schema_v2(f->db);
}

/* raw_ephemerals counts the ephemeral B-trees in the program SQLite compiles for sql on
 * the file at path (the OpenEphemeral opcodes of EXPLAIN sql). Read-write: on a read-only
 * connection SQLite leaves the CHECKs out of a write's program. */
static int raw_ephemerals(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char ex[512];
        snprintf(ex, sizeof(ex), "EXPLAIN %s", sql);
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, ex, -1, &st, NULL), SQLITE_OK);
        int n = 0, rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                n += strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
        assert_int_equal(rc, SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
}

/* A version 9 database (sessions with CHECK (state IN (0, 1, 2)), which SQLite checks
 * through an ephemeral B-tree built for every INSERT and UPDATE of a session) upgrades to
 * version 10: the sessions' table is rebuilt with three equalities, keeping every row
 * (rowid, claims and client too) and the three indexes, and refusing the same states; then
 * version 11 drops sessions_open. */
static void test_store_v9_sessions_rebuilt(void **state)
{
        sqlite_only();
        struct fixture *f = *state;
        static const char *const writes[] = {
                "INSERT INTO sessions (id, tee, nonce, created, expires, state, client) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                "UPDATE sessions SET state = 2, claims = ?4, expires = ?5 "
                "WHERE id = ?1 AND state = 0 AND expires > ?2 AND nonce = ?3",
        };
        struct vt_store *s = open_ok(f->db);
        struct vt_session a = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        struct vt_session b = mksess("fedcba9876543210fedcba9876543210", "b3RoZXI=", T0, T0 + 90);
        snprintf(a.client, sizeof(a.client), "192.0.2.1");
        snprintf(b.client, sizeof(b.client), "192.0.2.2");
        assert_int_equal(vt_store_session_open(s, &a, T0, 10, 10, NULL), 0);
        assert_int_equal(vt_store_session_open(s, &b, T0, 10, 10, NULL), 0);
        assert_int_equal(vt_store_session_attest(s, a.id, a.nonce, T0, "{\"k\":1}", T0 + 30, NULL),
                         0);
        vt_store_close(s);
        for (size_t i = 0; i < ELEMENTSOF(writes); i++)
                assert_int_equal(raw_ephemerals(f->db, writes[i]), 0);

        /* back to version 9's table, as veritee made it (rowids kept) */
        raw_exec(f->db,
                 "CREATE TABLE old (id TEXT PRIMARY KEY NOT NULL, tee TEXT NOT NULL, "
                 "nonce TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL, "
                 "state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)), claims TEXT, "
                 "client TEXT NOT NULL DEFAULT '');"
                 "INSERT INTO old (rowid, id, tee, nonce, created, expires, state, claims, client) "
                 "SELECT rowid, * FROM sessions;"
                 "DROP TABLE sessions; ALTER TABLE old RENAME TO sessions;"
                 "CREATE INDEX sessions_expires ON sessions (expires);"
                 "CREATE INDEX sessions_open ON sessions (expires) WHERE state = 0;"
                 "CREATE INDEX sessions_open_client ON sessions (client, expires) "
                 "WHERE state = 0;"
                 "PRAGMA user_version = 9");
        for (size_t i = 0; i < ELEMENTSOF(writes); i++)
                assert_int_equal(raw_ephemerals(f->db, writes[i]), 1);
        char before[512], after[512];
        static const char rows[] =
                "SELECT group_concat(x, ';') FROM (SELECT rowid || ',' || id || ',' || tee || ',' "
                "|| nonce || ',' || created || ',' || expires || ',' || state || ',' || "
                "coalesce(claims, '-') || ',' || client AS x FROM sessions ORDER BY rowid)";
        raw_text(f->db, rows, before, sizeof(before));

        s = open_upgraded(f->db);
        struct vt_session out;
        assert_int_equal(vt_store_session_get(s, b.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &b);
        size_t n = 0;
        assert_int_equal(vt_store_session_count_live(s, T0, &n, NULL), 0);
        assert_int_equal(n, 2);
        vt_store_close(s);
        raw_text(f->db, rows, after, sizeof(after));
        assert_string_equal(after, before);
        assert_non_null(strstr(after, "{\"k\":1},192.0.2.1"));
        for (size_t i = 0; i < ELEMENTSOF(writes); i++)
                assert_int_equal(raw_ephemerals(f->db, writes[i]), 0);
        char buf[64];
        /* the indexes rebuilt, and sessions_open then dropped (schema 11) */
        raw_text(f->db,
                 "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = "
                 "'index' AND tbl_name = 'sessions' AND name LIKE 'sessions_%' ORDER BY name)",
                 buf, sizeof(buf));
        assert_string_equal(buf, "sessions_expires,sessions_open_client");

        /* the same states refused: 3, 1.5, text that is not a number */
        static const char *const bad[] = {"3", "1.5", "'x'", "-1"};
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char sql[200];
                snprintf(sql, sizeof(sql),
                         "INSERT INTO sessions (id, tee, nonce, created, expires, state) "
                         "VALUES ('x%zu', 'snp', 'n', 0, 1, %s)",
                         i, bad[i]);
                assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_CONSTRAINT);
                assert_non_null(strstr(sqlite3_errmsg(db), "CHECK constraint failed"));
        }
        assert_int_equal(sqlite3_exec(db,
                                      "INSERT INTO sessions (id, tee, nonce, created, expires, "
                                      "state) VALUES ('y', 'snp', 'n', 0, 1, '2')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
}

/* The path rules, in and out of the store. */
static void test_store_resource_path_valid(void **state)
{
        struct fixture *f = *state;
        char long_path[301];
        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[sizeof(long_path) - 1] = 0;
        long_path[1] = '/';
        long_path[3] = '/';
        /* 255 bytes is the longest path, 256 is one too many. */
        char p255[256], p256[257];
        memset(p255, 'b', sizeof(p255) - 1);
        p255[sizeof(p255) - 1] = 0;
        p255[1] = '/';
        p255[3] = '/';
        memcpy(p256, p255, sizeof(p255) - 1);
        p256[255] = 'b';
        p256[256] = 0;

        static const char *const good[] = {
                "a/b/c",    "my-repo/key_type/v1.2", "A/B/C", "0/1/2", "_/-/_", "a/b/c.",
                "a/b..c/d", "default/key/tag-1_2.3",
        };
        static const char *const bad[] = {
                "../b/c",   "a/../c",   "a/b/..",    "./b/c",        "a/./c",
                "a/b/.",    "a/b",      "a/b/c/d",   ".a/b/c",       "a/.b/c",
                "a/b/.c",   "a//c",     "/a/b/c",    "a/b/c/",       "",
                "a/b/c\n",  "a/b/c ",   " a/b/c",    "a/b/\xc3\xa9", "r\xc3\xa9po/b/c",
                "a/b/c%2f", "a\\b/c/d", "a/b/c\x7f", "a/b/c'",       "a/b/*",
                "//",       "a",        "a/b//c",
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (!vt_resource_path_valid(good[i]))
                        fail_msg("good path refused: \"%s\"", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (vt_resource_path_valid(bad[i]))
                        fail_msg("bad path accepted: \"%s\"", bad[i]);
        assert_false(vt_resource_path_valid(long_path));
        assert_false(vt_resource_path_valid(NULL));
        assert_true(vt_resource_path_valid(p255));
        assert_false(vt_resource_path_valid(p256));
        /* the repository segment: VT_REPO_NAME_MAX bytes at most, never cut */
        char repo[VT_REPO_NAME_MAX + 2], path[VT_REPO_NAME_MAX + 16];
        memset(repo, 'r', VT_REPO_NAME_MAX);
        repo[VT_REPO_NAME_MAX] = 0;
        snprintf(path, sizeof(path), "%s/t/x", repo);
        assert_true(vt_resource_path_valid(path));
        assert_true(vt_resource_repo_valid(repo));
        repo[VT_REPO_NAME_MAX] = 'x';
        repo[VT_REPO_NAME_MAX + 1] = 0;
        snprintf(path, sizeof(path), "%s/t/x", repo);
        assert_false(vt_resource_path_valid(path));
        assert_false(vt_resource_repo_valid(repo));
        assert_false(vt_resource_repo_valid(""));
        assert_false(vt_resource_repo_valid("../x"));
        assert_false(vt_resource_repo_valid("a/b"));
        assert_false(vt_resource_repo_valid(NULL));

        /* The store checks too, in every function that takes a path. */
        struct vt_store *s = open_ok(f->db);
        char kek[32];
        uint8_t *w = NULL, *c = NULL;
        size_t wl = 0, cl = 0;
        char *json = NULL;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(vt_store_resource_put(s, bad[i], "k", WDEK, sizeof(WDEK), CT,
                                                       sizeof(CT), 3, T0, NULL),
                                 VT_E_INVAL);
                assert_int_equal(vt_store_resource_get(s, bad[i], kek, &w, &wl, &c, &cl, NULL),
                                 VT_E_INVAL);
                assert_int_equal(vt_store_resource_delete(s, bad[i], NULL), VT_E_INVAL);
                assert_int_equal(vt_store_policy_set(s, bad[i], "{}", T0, NULL), VT_E_INVAL);
                assert_int_equal(vt_store_policy_get(s, bad[i], &json, NULL), VT_E_INVAL);
        }
        assert_int_equal(vt_store_resource_put(s, long_path, "k", WDEK, sizeof(WDEK), CT,
                                               sizeof(CT), 3, T0, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, p256, "k", WDEK, sizeof(WDEK), CT, sizeof(CT), 3,
                                               T0, NULL),
                         VT_E_INVAL);
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                put_ok(s, good[i], "k", T0);
        put_ok(s, p255, "k", T0);
        assert_int_equal(vt_store_resource_get(s, p255, kek, &w, &wl, &c, &cl, NULL), 0);
        free(w);
        free(c);
        assert_null(json);
        vt_store_close(s);
        char buf[16];
        raw_text(f->db, "SELECT count(*) FROM resources", buf, sizeof(buf));
        assert_int_equal(strtoul(buf, NULL, 10), sizeof(good) / sizeof(good[0]) + 1);
}

/* Put and get: blobs round-trip byte for byte (NULs included) and are stored as BLOBs;
 * the repo column is the first segment; bad arguments and caps. */
static void test_store_resource_put_get(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        assert_int_equal(vt_store_resource_put(s, "my-repo/key_type/v1.2", "kek-2025", WDEK,
                                               sizeof(WDEK), CT, sizeof(CT), 4096, T0, NULL),
                         0);
        char kek[32] = "untouched";
        uint8_t *w = NULL, *c = NULL;
        size_t wl = 0, cl = 0;
        assert_int_equal(
                vt_store_resource_get(s, "my-repo/key_type/v1.2", kek, &w, &wl, &c, &cl, NULL), 0);
        assert_string_equal(kek, "kek-2025");
        assert_int_equal(wl, sizeof(WDEK));
        assert_memory_equal(w, WDEK, sizeof(WDEK));
        assert_int_equal(cl, sizeof(CT));
        assert_memory_equal(c, CT, sizeof(CT));
        free(w);
        free(c);

        char buf[128];
        raw_text(f->db,
                 "SELECT typeof(wrapped_dek) || ',' || typeof(ciphertext) || ',' || repo || ',' "
                 "|| size || ',' || created || ',' || updated FROM resources",
                 buf, sizeof(buf));
        assert_string_equal(buf, "blob,blob,my-repo,4096,1748736000,1748736000");

        /* An empty ciphertext is a BLOB too, and get still allocates. */
        assert_int_equal(vt_store_resource_put(s, "r/t/empty", "k", WDEK, 1, NULL, 0, 0, T0, NULL),
                         0);
        w = c = NULL;
        assert_int_equal(vt_store_resource_get(s, "r/t/empty", kek, &w, &wl, &c, &cl, NULL), 0);
        assert_non_null(w);
        assert_non_null(c);
        assert_int_equal(wl, 1);
        assert_int_equal(cl, 0);
        free(w);
        free(c);
        raw_text(f->db, "SELECT typeof(ciphertext) FROM resources WHERE path = 'r/t/empty'", buf,
                 sizeof(buf));
        assert_string_equal(buf, "blob");

        /* NOTFOUND writes nothing. */
        w = c = NULL;
        wl = cl = 7;
        memcpy(kek, "same", 5);
        assert_int_equal(
                vt_store_resource_get(s, "my-repo/key_type/v1.3", kek, &w, &wl, &c, &cl, NULL),
                VT_E_NOTFOUND);
        assert_null(w);
        assert_null(c);
        assert_int_equal(wl, 7);
        assert_string_equal(kek, "same");

        /* Bad arguments. */
        const char *p = "a/b/c";
        char kek32[33];
        memset(kek32, 'k', 32);
        kek32[32] = 0;
        assert_int_equal(vt_store_resource_put(NULL, p, "k", WDEK, 1, CT, 1, 1, T0, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, NULL, "k", WDEK, 1, CT, 1, 1, T0, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, p, NULL, WDEK, 1, CT, 1, 1, T0, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, p, "", WDEK, 1, CT, 1, 1, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, p, kek32, WDEK, 1, CT, 1, 1, T0, NULL),
                         VT_E_INVAL);
        kek32[31] = 0; /* 31 bytes fit */
        assert_int_equal(vt_store_resource_put(s, "a/b/k31", kek32, WDEK, 1, CT, 1, 1, T0, NULL),
                         0);
        assert_int_equal(vt_store_resource_get(s, "a/b/k31", kek, &w, &wl, &c, &cl, NULL), 0);
        assert_string_equal(kek, kek32);
        free(w);
        free(c);
        assert_int_equal(vt_store_resource_put(s, p, "k", NULL, 1, CT, 1, 1, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, p, "k", WDEK, 0, CT, 1, 1, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, p, "k", WDEK, 1, NULL, 1, 1, T0, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_put(s, p, "k", WDEK, 1, CT, 1, SIZE_MAX, T0, NULL),
                         VT_E_INVAL);
        assert_int_equal(
                vt_store_resource_put(s, p, "k", WDEK, VT_STORE_MAX_WDEK + 1, CT, 1, 1, T0, NULL),
                VT_E_LIMIT);
        assert_int_equal(
                vt_store_resource_put(s, p, "k", WDEK, 1, CT, VT_STORE_MAX_CT + 1, 1, T0, NULL),
                VT_E_LIMIT);
        assert_int_equal(vt_store_resource_get(NULL, p, kek, &w, &wl, &c, &cl, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_get(s, p, NULL, &w, &wl, &c, &cl, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_get(s, p, kek, NULL, &wl, &c, &cl, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_get(s, p, kek, &w, NULL, &c, &cl, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_get(s, p, kek, &w, &wl, NULL, &cl, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_get(s, p, kek, &w, &wl, &c, NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_delete(NULL, p, NULL), VT_E_INVAL);
        vt_store_close(s);
        raw_text(f->db, "SELECT count(*) FROM resources", buf, sizeof(buf));
        assert_string_equal(buf, "3");
}

struct collected {
        char paths[16][256];
        struct vt_resource_meta m[16];
        size_t n;
        size_t stop_after;  /* 0: never */
        struct vt_store *s; /* if set, the callback reads each resource back */
};

static int collect_cb(const struct vt_resource_meta *m, void *ud)
{
        struct collected *c = ud;
        if (c->n >= 16)
                return VT_E_LIMIT;
        c->m[c->n] = *m;
        snprintf(c->paths[c->n], sizeof(c->paths[0]), "%s", m->path);
        c->n++;
        if (c->s) {
                char kek[32];
                uint8_t *w = NULL, *ct = NULL;
                size_t wl, cl;
                int r = vt_store_resource_get(c->s, m->path, kek, &w, &wl, &ct, &cl, NULL);
                free(w);
                free(ct);
                if (r < 0)
                        return r;
        }
        return c->stop_after && c->n == c->stop_after ? -1234 : 0;
}

/* Replace: new blobs, kek_id and size; created kept, updated changes; the policy stays. */
static void test_store_resource_replace(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        put_ok(s, "repo/key/one", "kek1", T0);
        assert_int_equal(vt_store_policy_set(s, "repo/key/one", "{\"allOf\":[]}", T0, NULL), 0);
        static const uint8_t w2[] = {9, 8, 7};
        static const uint8_t c2[] = {6, 5, 4, 3, 2, 1};
        assert_int_equal(vt_store_resource_put(s, "repo/key/one", "kek2", w2, sizeof(w2), c2,
                                               sizeof(c2), 99, T0 + 100, NULL),
                         0);
        char kek[32];
        uint8_t *w = NULL, *c = NULL;
        size_t wl, cl;
        assert_int_equal(vt_store_resource_get(s, "repo/key/one", kek, &w, &wl, &c, &cl, NULL), 0);
        assert_string_equal(kek, "kek2");
        assert_int_equal(wl, sizeof(w2));
        assert_memory_equal(w, w2, sizeof(w2));
        assert_int_equal(cl, sizeof(c2));
        assert_memory_equal(c, c2, sizeof(c2));
        free(w);
        free(c);

        struct collected col = {0};
        assert_int_equal(vt_store_resource_list(s, NULL, collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 1);
        assert_string_equal(col.m[0].path, "repo/key/one");
        assert_string_equal(col.m[0].kek_id, "kek2");
        assert_int_equal(col.m[0].size, 99);
        assert_int_equal(col.m[0].created, T0);
        assert_int_equal(col.m[0].updated, T0 + 100);
        assert_true(col.m[0].has_policy);
        char *json = NULL;
        assert_int_equal(vt_store_policy_get(s, "repo/key/one", &json, NULL), 0);
        assert_string_equal(json, "{\"allOf\":[]}");
        free(json);
        vt_store_close(s);
        char buf[16];
        raw_text(f->db, "SELECT count(*) FROM resources", buf, sizeof(buf));
        assert_string_equal(buf, "1");
}

/* Delete: NOTFOUND when absent; takes the policy with it (in the store, and by the
 * schema's ON DELETE CASCADE for any other writer with foreign keys on). */
static void test_store_resource_delete(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        put_ok(s, "repo/key/a", "k", T0);
        put_ok(s, "repo/key/b", "k", T0);
        put_ok(s, "repo/key/c", "k", T0);
        assert_int_equal(vt_store_policy_set(s, "repo/key/a", "{\"a\":1}", T0, NULL), 0);
        assert_int_equal(vt_store_policy_set(s, "repo/key/b", "{\"b\":1}", T0, NULL), 0);
        assert_int_equal(vt_store_policy_set(s, "repo/key/c", "{\"c\":1}", T0, NULL), 0);

        assert_int_equal(vt_store_resource_delete(s, "repo/key/a", NULL), 0);
        assert_int_equal(vt_store_resource_delete(s, "repo/key/a", NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_store_resource_delete(s, "repo/key/zz", NULL), VT_E_NOTFOUND);
        char kek[32];
        uint8_t *w = NULL, *c = NULL;
        size_t wl, cl;
        assert_int_equal(vt_store_resource_get(s, "repo/key/a", kek, &w, &wl, &c, &cl, NULL),
                         VT_E_NOTFOUND);
        char *json = NULL;
        assert_int_equal(vt_store_policy_get(s, "repo/key/a", &json, NULL), VT_E_NOTFOUND);
        assert_null(json);
        /* A new resource at the same path starts without a policy. */
        put_ok(s, "repo/key/a", "k", T0 + 1);
        assert_int_equal(vt_store_policy_get(s, "repo/key/a", &json, NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_store_policy_get(s, "repo/key/b", &json, NULL), 0);
        assert_string_equal(json, "{\"b\":1}");
        free(json);
        vt_store_close(s);

        /* The cascade itself: another connection deleting the resource row. */
        raw_exec(f->db,
                 "PRAGMA foreign_keys = ON; DELETE FROM resources WHERE path = 'repo/key/b'");
        char buf[64];
        raw_text(f->db, "SELECT group_concat(path) FROM policies", buf, sizeof(buf));
        assert_string_equal(buf, "repo/key/c");
}

/* List: all and per repo, in path order, has_policy, a callback that stops the walk,
 * a callback that calls the store, bad arguments. */
static void test_store_resource_list(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        /* Inserted out of order; bytewise order puts upper case and '-' before lower case. */
        static const char *const paths[] = {
                "b/t/2", "a/t/1", "b/t/10", "B/t/1", "a-b/t/1", "a/u/0", "b/s/9", "ab/t/1",
        };
        static const char *const sorted[] = {
                "B/t/1", "a-b/t/1", "a/t/1", "a/u/0", "ab/t/1", "b/s/9", "b/t/10", "b/t/2",
        };
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                put_ok(s, paths[i], "k", T0 + (int64_t)i);
        assert_int_equal(vt_store_policy_set(s, "a/u/0", "{}", T0, NULL), 0);

        struct collected col = {0};
        assert_int_equal(vt_store_resource_list(s, NULL, collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, sizeof(sorted) / sizeof(sorted[0]));
        for (size_t i = 0; i < col.n; i++) {
                assert_string_equal(col.paths[i], sorted[i]);
                assert_int_equal(col.m[i].has_policy, strcmp(sorted[i], "a/u/0") == 0);
                assert_int_equal(col.m[i].size, 3);
                assert_string_equal(col.m[i].kek_id, "k");
        }

        /* Per repo: "a" is not a prefix match ("a-b", "ab" are other repos). */
        memset(&col, 0, sizeof(col));
        assert_int_equal(vt_store_resource_list(s, "a", collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 2);
        assert_string_equal(col.paths[0], "a/t/1");
        assert_string_equal(col.paths[1], "a/u/0");
        memset(&col, 0, sizeof(col));
        assert_int_equal(vt_store_resource_list(s, "b", collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 3);
        assert_string_equal(col.paths[0], "b/s/9");
        assert_string_equal(col.paths[2], "b/t/2");
        memset(&col, 0, sizeof(col));
        assert_int_equal(vt_store_resource_list(s, "none", collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 0);

        /* A callback returning < 0 stops the walk, and its value comes back. */
        memset(&col, 0, sizeof(col));
        col.stop_after = 3;
        assert_int_equal(vt_store_resource_list(s, NULL, collect_cb, &col, NULL), -1234);
        assert_int_equal(col.n, 3);
        assert_string_equal(col.paths[2], "a/t/1");

        /* The callback runs unlocked: it may call the store. */
        memset(&col, 0, sizeof(col));
        col.s = s;
        assert_int_equal(vt_store_resource_list(s, "b", collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 3);

        /* Pages (issue 19): three of 3, 3 and 2 cover the listing in order; a cursor need
         * not exist; per repo; bounds. */
        size_t at = 0;
        char cursor[256] = "";
        for (int page = 0; page < 3; page++) {
                memset(&col, 0, sizeof(col));
                assert_int_equal(vt_store_resource_page(s, NULL, page ? cursor : NULL, 3,
                                                        collect_cb, &col, NULL),
                                 0);
                assert_int_equal(col.n, page < 2 ? 3 : 2);
                for (size_t i = 0; i < col.n; i++)
                        assert_string_equal(col.paths[i], sorted[at++]);
                snprintf(cursor, sizeof(cursor), "%s", col.paths[col.n - 1]);
        }
        assert_int_equal(at, sizeof(sorted) / sizeof(sorted[0]));
        memset(&col, 0, sizeof(col));
        assert_int_equal(vt_store_resource_page(s, NULL, cursor, 3, collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 0);
        memset(&col, 0, sizeof(col));
        assert_int_equal(vt_store_resource_page(s, NULL, "a/t/0", 2, collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 2);
        assert_string_equal(col.paths[0], "a/t/1");
        assert_string_equal(col.paths[1], "a/u/0");
        memset(&col, 0, sizeof(col));
        assert_int_equal(vt_store_resource_page(s, "b", "b/s/9", 1, collect_cb, &col, NULL), 0);
        assert_int_equal(col.n, 1);
        assert_string_equal(col.paths[0], "b/t/10");
        assert_int_equal(vt_store_resource_page(s, NULL, NULL, 0, collect_cb, &col, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_page(s, NULL, NULL, VT_STORE_PAGE_MAX + 1, collect_cb,
                                                &col, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_page(s, NULL, "not a path", 3, collect_cb, &col, NULL),
                         VT_E_INVAL);

        assert_int_equal(vt_store_resource_list(NULL, NULL, collect_cb, &col, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_list(s, NULL, NULL, &col, NULL), VT_E_INVAL);
        static const char *const bad_repos[] = {"", "a/t", "..", ".a", "a b", "a%"};
        for (size_t i = 0; i < sizeof(bad_repos) / sizeof(bad_repos[0]); i++)
                assert_int_equal(vt_store_resource_list(s, bad_repos[i], collect_cb, &col, NULL),
                                 VT_E_INVAL);
        vt_store_close(s);
}

/* release_check: vt_store_release_get of path gives what vt_store_resource_get and
 * vt_store_policy_get give (kek NULL: no such resource; policy NULL: none), and refuses
 * what they refuse. */
static void release_check(struct vt_store *s, const char *path, const char *kek, const char *policy)
{
        char k1[32], k2[32];
        uint8_t *w1 = NULL, *c1 = NULL, *w2 = NULL, *c2 = NULL;
        size_t wl1 = 0, cl1 = 0, wl2 = 0, cl2 = 0;
        char *pol = (char *)"untouched";
        int e = vt_store_release_get(s, path, k2, &w2, &wl2, &c2, &cl2, &pol, NULL);
        if (!kek) {
                assert_int_equal(e, VT_E_NOTFOUND);
                assert_string_equal(pol, "untouched");
                assert_null(w2);
                return;
        }
        assert_int_equal(e, 0);
        assert_int_equal(vt_store_resource_get(s, path, k1, &w1, &wl1, &c1, &cl1, NULL), 0);
        assert_string_equal(k2, k1);
        assert_string_equal(k2, kek);
        assert_int_equal(wl2, wl1);
        assert_memory_equal(w2, w1, wl1);
        assert_int_equal(cl2, cl1);
        assert_memory_equal(c2, c1, cl1);
        if (policy)
                assert_string_equal(pol, policy);
        else
                assert_null(pol);
        free(pol);
        free(w1);
        free(c1);
        free(w2);
        free(c2);
        assert_int_equal(vt_store_release_get(s, path, k2, &w2, &wl2, &c2, &cl2, NULL, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_release_get(s, "../x", k2, &w2, &wl2, &c2, &cl2, &pol, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_release_get(NULL, path, k2, &w2, &wl2, &c2, &cl2, &pol, NULL),
                         VT_E_INVAL);
}

/* Policies: set needs the resource, replaces, get copies; JSON is stored as given. */
static void test_store_policy(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        char *json = NULL;
        assert_int_equal(vt_store_policy_set(s, "repo/key/x", "{}", T0, NULL), VT_E_NOTFOUND);
        release_check(s, "repo/key/x", NULL, NULL);
        put_ok(s, "repo/key/x", "k", T0);
        assert_int_equal(vt_store_policy_get(s, "repo/key/x", &json, NULL), VT_E_NOTFOUND);
        release_check(s, "repo/key/x", "k", NULL);
        const char *p1 = "{\"anyOf\": [{\"claim\": \"/x\", \"equals\": \"' OR 1=1 --\"}]}";
        assert_int_equal(vt_store_policy_set(s, "repo/key/x", p1, T0 + 1, NULL), 0);
        assert_int_equal(vt_store_policy_get(s, "repo/key/x", &json, NULL), 0);
        assert_string_equal(json, p1);
        free(json);
        release_check(s, "repo/key/x", "k", p1);
        put_ok(s, "repo/key/y", "k", T0); /* another resource's policy is not this one's */
        release_check(s, "repo/key/y", "k", NULL);
        assert_int_equal(vt_store_policy_set(s, "repo/key/x", "{\"allOf\":[]}", T0 + 2, NULL), 0);
        assert_int_equal(vt_store_policy_get(s, "repo/key/x", &json, NULL), 0);
        assert_string_equal(json, "{\"allOf\":[]}");
        free(json);
        json = NULL;

        assert_int_equal(vt_store_policy_set(s, "repo/key/x", NULL, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_policy_set(s, "repo/key/x", "", T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_policy_set(NULL, "repo/key/x", "{}", T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_policy_get(s, "repo/key/x", NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_policy_get(NULL, "repo/key/x", &json, NULL), VT_E_INVAL);
        char *big = malloc(VT_STORE_MAX_JSON + 2);
        assert_non_null(big);
        memset(big, ' ', VT_STORE_MAX_JSON + 1);
        big[0] = '{';
        big[VT_STORE_MAX_JSON] = '}';
        big[VT_STORE_MAX_JSON + 1] = 0;
        assert_int_equal(vt_store_policy_set(s, "repo/key/x", big, T0, NULL), VT_E_LIMIT);
        big[VT_STORE_MAX_JSON - 1] = '}';
        big[VT_STORE_MAX_JSON] = 0; /* exactly the cap */
        assert_int_equal(vt_store_policy_set(s, "repo/key/x", big, T0 + 3, NULL), 0);
        assert_int_equal(vt_store_policy_get(s, "repo/key/x", &json, NULL), 0);
        assert_int_equal(strlen(json), VT_STORE_MAX_JSON);
        free(json);
        free(big);
        vt_store_close(s);
        char buf[64];
        raw_text(f->db, "SELECT updated FROM policies", buf, sizeof(buf));
        assert_int_equal(strtoul(buf, NULL, 10), T0 + 3);
}

struct refvals_seen {
        char ids[8][65];
        char tees[8][32];
        char json[8][128];
        size_t n;
        size_t stop_after;
};

static int refval_cb(const char *id, const char *tee, const char *json, void *ud)
{
        struct refvals_seen *r = ud;
        if (r->n >= 8)
                return VT_E_LIMIT;
        snprintf(r->ids[r->n], sizeof(r->ids[0]), "%s", id);
        snprintf(r->tees[r->n], sizeof(r->tees[0]), "%s", tee);
        snprintf(r->json[r->n], sizeof(r->json[0]), "%s", json);
        r->n++;
        return r->stop_after && r->n == r->stop_after ? -77 : 0;
}

static int64_t generation(struct vt_store *s)
{
        int64_t g = -1;
        assert_int_equal(vt_store_refval_generation(s, &g, NULL), 0);
        return g;
}

/* Reference values: add, replace, list (all, per tee, ordered, stopped), delete; the
 * generation grows with every change, seen by other handles, and not on failures. */
static void test_store_refval(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_store *other = open_ok(f->db);
        assert_int_equal(generation(s), 0);
        assert_int_equal(vt_store_refval_add(s, "snp-prod", "snp", "{\"m\":\"aa\"}", T0, NULL), 0);
        assert_int_equal(generation(s), 1);
        assert_int_equal(generation(other), 1);
        assert_int_equal(vt_store_refval_add(s, "a.tdx_1", "tdx", "{\"m\":\"bb\"}", T0, NULL), 0);
        assert_int_equal(vt_store_refval_add(s, "Z", "snp", "{\"q\":\"'\\\"\"}", T0, NULL), 0);
        assert_int_equal(generation(s), 3);
        /* Replace: same id, new tee and value. */
        assert_int_equal(vt_store_refval_add(s, "snp-prod", "sgx", "{\"m\":\"cc\"}", T0 + 5, NULL),
                         0);
        assert_int_equal(generation(other), 4);
        char buf[64];
        raw_text(f->db, "SELECT count(*) || ',' || max(created) FROM refvals WHERE id = 'snp-prod'",
                 buf, sizeof(buf));
        assert_string_equal(buf, "1,1748736005");

        struct refvals_seen seen = {0};
        assert_int_equal(vt_store_refval_list(s, NULL, refval_cb, &seen, NULL), 0);
        assert_int_equal(seen.n, 3);
        assert_string_equal(seen.ids[0], "Z");
        assert_string_equal(seen.ids[1], "a.tdx_1");
        assert_string_equal(seen.ids[2], "snp-prod");
        assert_string_equal(seen.tees[2], "sgx");
        assert_string_equal(seen.json[2], "{\"m\":\"cc\"}");
        assert_string_equal(seen.json[0], "{\"q\":\"'\\\"\"}");
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(vt_store_refval_list(s, "snp", refval_cb, &seen, NULL), 0);
        assert_int_equal(seen.n, 1);
        assert_string_equal(seen.ids[0], "Z");
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(vt_store_refval_list(s, "azure", refval_cb, &seen, NULL), 0);
        assert_int_equal(seen.n, 0);
        seen.stop_after = 2;
        assert_int_equal(vt_store_refval_list(s, NULL, refval_cb, &seen, NULL), -77);
        assert_int_equal(seen.n, 2);

        /* Failures change nothing, the generation included. */
        static const char *const bad_ids[] = {
                "",   "a/b",  "a b",
                "a'", "id\n", "\xc3\xa9",
                "x%", NULL,   "12345678901234567890123456789012345678901234567890123456789012345",
        };
        for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
                assert_int_equal(vt_store_refval_add(s, bad_ids[i], "snp", "{}", T0, NULL),
                                 VT_E_INVAL);
                assert_int_equal(vt_store_refval_delete(s, bad_ids[i], NULL), VT_E_INVAL);
        }
        const char *id64 = "1234567890123456789012345678901234567890123456789012345678901234";
        assert_true(vt_refval_id_valid(id64));
        assert_true(vt_refval_id_valid(".."));
        assert_false(vt_refval_id_valid(bad_ids[8]));
        assert_int_equal(vt_store_refval_add(s, "ok", NULL, "{}", T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_refval_add(s, "ok", "", "{}", T0, NULL), VT_E_INVAL);
        assert_int_equal(
                vt_store_refval_add(s, "ok", "0123456789abcdef0123456789abcdef", "{}", T0, NULL),
                VT_E_INVAL);
        assert_int_equal(vt_store_refval_add(s, "ok", "snp", NULL, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_refval_add(NULL, "ok", "snp", "{}", T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_refval_list(s, "", refval_cb, &seen, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_refval_list(s, NULL, NULL, &seen, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_refval_generation(s, NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_refval_generation(NULL, &(int64_t){0}, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_refval_delete(s, "missing", NULL), VT_E_NOTFOUND);
        assert_int_equal(generation(s), 4);

        assert_int_equal(vt_store_refval_add(s, id64, "snp", "{}", T0, NULL), 0);
        assert_int_equal(generation(s), 5);
        assert_int_equal(vt_store_refval_delete(other, "Z", NULL), 0);
        assert_int_equal(generation(s), 6);
        assert_int_equal(vt_store_refval_delete(s, "Z", NULL), VT_E_NOTFOUND);
        assert_int_equal(generation(s), 6);
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(vt_store_refval_list(other, NULL, refval_cb, &seen, NULL), 0);
        assert_int_equal(seen.n, 3);
        assert_string_equal(seen.ids[0], id64);
        vt_store_close(other);
        vt_store_close(s);

        /* The counter lives in the database: it survives a reopen. */
        s = open_ok(f->db);
        assert_int_equal(generation(s), 6);
        vt_store_close(s);
}

struct rewrap_ctx {
        size_t calls;
        size_t fail_at; /* 1-based; 0: never */
        int fail_with;
        bool bad_output; /* on the fail_at call, succeed but return an empty key */
        char seen_kek[32];
};

/* rewrap_cb "rewraps" by prefixing "R:" to the old wrapped key. */
static int rewrap_cb(const char *path, const char *kek_id, const uint8_t *wdek, size_t len,
                     uint8_t **ret_new, size_t *ret_new_len, void *ud)
{
        struct rewrap_ctx *c = ud;
        c->calls++;
        snprintf(c->seen_kek, sizeof(c->seen_kek), "%s", kek_id);
        if (!vt_resource_path_valid(path))
                return VT_E_INVAL;
        if (c->fail_at == c->calls) {
                if (!c->bad_output)
                        return c->fail_with;
                *ret_new = malloc(1);
                *ret_new_len = 0;
                return 0;
        }
        uint8_t *p = malloc(len + 2);
        if (!p)
                return VT_E_NOMEM;
        p[0] = 'R';
        p[1] = ':';
        memcpy(p + 2, wdek, len);
        *ret_new = p;
        *ret_new_len = len + 2;
        return 0;
}

/* KEK rotation: every row rewrapped under the new kek_id in one transaction; a callback
 * failing on the third row (or returning nothing) leaves every row as it was. */
static void test_store_rewrap_all(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct rewrap_ctx ctx = {0};
        size_t n = 99;
        /* an empty store: nothing to rewrap, and kek1 becomes current */
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek1", rewrap_cb, &ctx, &n, NULL), 0);
        assert_int_equal(n, 0);
        assert_int_equal(ctx.calls, 0);

        static const char *const paths[] = {"r/k/1", "r/k/2", "r/k/3", "r/k/4", "s/k/5"};
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                put_ok(s, paths[i], "kek1", T0 + (int64_t)i);
        assert_int_equal(vt_store_policy_set(s, "r/k/2", "{}", T0, NULL), 0);

        char before[2048], after[2048];
        raw_snapshot(f->db, before, sizeof(before));

        /* Failure on the third row: rolled back, the callback's error returned. */
        ctx = (struct rewrap_ctx){.fail_at = 3, .fail_with = VT_E_CRYPTO};
        n = 99;
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek2", rewrap_cb, &ctx, &n, NULL),
                         VT_E_CRYPTO);
        assert_int_equal(ctx.calls, 3);
        assert_int_equal(n, 99);
        raw_snapshot(f->db, after, sizeof(after));
        assert_string_equal(after, before);

        /* A callback that "succeeds" with an empty key is refused the same way. */
        ctx = (struct rewrap_ctx){.fail_at = 3, .bad_output = true};
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek2", rewrap_cb, &ctx, &n, NULL),
                         VT_E_INVAL);
        raw_snapshot(f->db, after, sizeof(after));
        assert_string_equal(after, before);

        assert_int_equal(vt_store_resource_rewrap_all(s, "", rewrap_cb, &ctx, &n, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek2", NULL, &ctx, &n, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_resource_rewrap_all(NULL, "kek2", rewrap_cb, &ctx, &n, NULL),
                         VT_E_INVAL);

        /* Success: every row, the new kek_id, updated left alone, the store usable after. */
        ctx = (struct rewrap_ctx){0};
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek2", rewrap_cb, &ctx, &n, NULL), 0);
        assert_int_equal(n, 5);
        assert_int_equal(ctx.calls, 5);
        assert_string_equal(ctx.seen_kek, "kek1");
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                char kek[32];
                uint8_t *w = NULL, *c = NULL;
                size_t wl, cl;
                assert_int_equal(vt_store_resource_get(s, paths[i], kek, &w, &wl, &c, &cl, NULL),
                                 0);
                assert_string_equal(kek, "kek2");
                assert_int_equal(wl, sizeof(WDEK) + 2);
                assert_memory_equal(w, "R:", 2);
                assert_memory_equal(w + 2, WDEK, sizeof(WDEK));
                assert_int_equal(cl, sizeof(CT));
                assert_memory_equal(c, CT, sizeof(CT));
                free(w);
                free(c);
        }
        char buf[256];
        raw_text(f->db,
                 "SELECT group_concat(updated || typeof(wrapped_dek), ',') FROM "
                 "(SELECT * FROM resources ORDER BY path) AS t",
                 buf, sizeof(buf));
        assert_string_equal(buf, "1748736000blob,1748736001blob,1748736002blob,1748736003blob,"
                                 "1748736004blob");
        char *json = NULL;
        assert_int_equal(vt_store_policy_get(s, "r/k/2", &json, NULL), 0);
        free(json);
        put_ok(s, "r/k/6", "kek2", T0);

        /* A second rotation sees the new kek_id, and ret_count may be NULL. */
        ctx = (struct rewrap_ctx){0};
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek3", rewrap_cb, &ctx, NULL, NULL), 0);
        assert_int_equal(ctx.calls, 6);
        assert_string_equal(ctx.seen_kek, "kek2");
        vt_store_close(s);
}

/* A batch: every item stored with its policy in one transaction, or (one bad item, a
 * stale KEK) none; the index of a bad item is given. */
static void test_store_resource_put_batch(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        enum { N = 1000 };
        static char paths[N][32];
        static struct vt_resource_item items[N];
        for (size_t i = 0; i < N; i++) {
                snprintf(paths[i], sizeof(paths[i]), "b%zu/k/%04zu", i % 3, i);
                items[i] = (struct vt_resource_item){.path = paths[i],
                                                     .wdek = WDEK,
                                                     .wdek_len = sizeof(WDEK),
                                                     .ct = CT,
                                                     .ct_len = sizeof(CT),
                                                     .plain_len = 7,
                                                     .policy = i % 2 ? "{\"p\":1}" : NULL};
        }
        size_t bad = 99;
        /* a bad path in the middle: nothing stored, its index said */
        items[500].path = "no/such";
        assert_int_equal(vt_store_resource_put_batch(s, "kek1", items, N, T0, &bad, NULL),
                         VT_E_INVAL);
        assert_int_equal(bad, 500);
        items[500].path = paths[500];
        items[7].wdek_len = VT_STORE_MAX_WDEK + 1;
        assert_int_equal(vt_store_resource_put_batch(s, "kek1", items, N, T0, &bad, NULL),
                         VT_E_LIMIT);
        assert_int_equal(bad, 7);
        items[7].wdek_len = sizeof(WDEK);
        assert_int_equal(vt_store_resource_put_batch(s, "kek1", items, 0, T0, NULL, NULL),
                         VT_E_INVAL);
        assert_int_equal(vt_store_resource_put_batch(s, "kek1", items, VT_STORE_BATCH_MAX + 1, T0,
                                                     NULL, NULL),
                         VT_E_INVAL);
        size_t n = 99;
        assert_int_equal(vt_store_kek_count(s, "kek1", &n, NULL), 0);
        assert_int_equal(n, 0);

        /* the store's current KEK is kek1: a batch under another is stale, nothing stored */
        char cur[32];
        assert_int_equal(vt_store_kek_adopt(s, "kek1", cur, NULL), 0);
        assert_int_equal(vt_store_resource_put_batch(s, "old", items, N, T0, NULL, NULL),
                         VT_E_STALE);
        assert_int_equal(vt_store_kek_count(s, "old", &n, NULL), 0);
        assert_int_equal(n, 0);

        assert_int_equal(vt_store_resource_put_batch(s, "kek1", items, N, T0, NULL, NULL), 0);
        assert_int_equal(vt_store_kek_count(s, "kek1", &n, NULL), 0);
        assert_int_equal(n, N);
        char *json = NULL;
        assert_int_equal(vt_store_policy_get(s, paths[1], &json, NULL), 0);
        assert_string_equal(json, "{\"p\":1}");
        free(json);
        assert_int_equal(vt_store_policy_get(s, paths[2], &json, NULL), VT_E_NOTFOUND);
        char kek[32];
        uint8_t *w = NULL, *c = NULL;
        size_t wl, cl;
        assert_int_equal(vt_store_resource_get(s, paths[999], kek, &w, &wl, &c, &cl, NULL), 0);
        assert_string_equal(kek, "kek1");
        assert_memory_equal(w, WDEK, sizeof(WDEK));
        assert_memory_equal(c, CT, sizeof(CT));
        free(w);
        free(c);
        /* again, without policies: the resources replaced, their policies kept */
        for (size_t i = 0; i < N; i++)
                items[i].policy = NULL;
        assert_int_equal(vt_store_resource_put_batch(s, "kek1", items, N, T0 + 1, NULL, NULL), 0);
        assert_int_equal(vt_store_policy_get(s, paths[1], &json, NULL), 0);
        free(json);
        vt_store_close(s);
}

struct order_rewrap {
        struct rewrap_ctx inner;
        char last[256];
        bool bad_order;
};

static int order_rewrap_cb(const char *path, const char *kek_id, const uint8_t *wdek, size_t len,
                           uint8_t **ret_new, size_t *ret_new_len, void *ud)
{
        struct order_rewrap *o = ud;
        if (o->last[0] && strcmp(o->last, path) >= 0)
                o->bad_order = true;
        snprintf(o->last, sizeof(o->last), "%s", path);
        return rewrap_cb(path, kek_id, wdek, len, ret_new, ret_new_len, &o->inner);
}

/* KEK rotation over more rows than one page (the store reads them a page at a time):
 * every row once, in path order; a failure on a later page still rolls back all. */
static void test_store_rewrap_all_pages(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        enum { N = 2500 };
        static char paths[N][32];
        static struct vt_resource_item items[N];
        for (size_t i = 0; i < N; i++) {
                snprintf(paths[i], sizeof(paths[i]), "p/k/%05zu", (i * 7919) % N);
                items[i] = (struct vt_resource_item){.path = paths[i],
                                                     .wdek = WDEK,
                                                     .wdek_len = sizeof(WDEK),
                                                     .ct = CT,
                                                     .ct_len = sizeof(CT)};
        }
        for (size_t i = 0; i < N; i += 1000)
                assert_int_equal(vt_store_resource_put_batch(s, "kek1", items + i,
                                                             N - i < 1000 ? N - i : 1000, T0, NULL,
                                                             NULL),
                                 0);
        struct order_rewrap o = {.inner = {.fail_at = 2100, .fail_with = VT_E_CRYPTO}};
        size_t n = 0;
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek2", order_rewrap_cb, &o, &n, NULL),
                         VT_E_CRYPTO);
        assert_int_equal(vt_store_kek_count(s, "kek1", &n, NULL), 0);
        assert_int_equal(n, N);
        o = (struct order_rewrap){0};
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek2", order_rewrap_cb, &o, &n, NULL), 0);
        assert_int_equal(n, N);
        assert_int_equal(o.inner.calls, N);
        assert_false(o.bad_order);
        assert_int_equal(vt_store_kek_count(s, "kek2", &n, NULL), 0);
        assert_int_equal(n, N);
        vt_store_close(s);
}

struct lister {
        struct vt_store *s;
        const char *repo;
        pthread_barrier_t *go;
        int puts, lists, errors;
        size_t seen_all;
};

struct order_check {
        char last[256];
        size_t n, own;
        const char *repo;
        bool bad_order;
};

static int order_cb(const struct vt_resource_meta *m, void *ud)
{
        struct order_check *o = ud;
        if (o->n && strcmp(o->last, m->path) >= 0)
                o->bad_order = true;
        snprintf(o->last, sizeof(o->last), "%s", m->path);
        o->n++;
        if (strncmp(m->path, o->repo, strlen(o->repo)) == 0 && m->path[strlen(o->repo)] == '/')
                o->own++;
        return 0;
}

/* put_and_list puts resources into its own repo and, after each, lists everything: the
 * list is ordered and holds every resource this thread has put so far. */
static void *put_and_list(void *arg)
{
        struct lister *l = arg;
        pthread_barrier_wait(l->go);
        for (int i = 0; i < 60; i++) {
                char path[64];
                snprintf(path, sizeof(path), "%s/key/%03d", l->repo, i);
                if (vt_store_resource_put(l->s, path, "k", WDEK, sizeof(WDEK), CT, sizeof(CT), 3,
                                          T0, NULL) < 0) {
                        l->errors++;
                        continue;
                }
                l->puts++;
                struct order_check o = {.repo = l->repo};
                if (vt_store_resource_list(l->s, NULL, order_cb, &o, NULL) < 0 || o.bad_order ||
                    o.own != (size_t)l->puts)
                        l->errors++;
                l->lists++;
                l->seen_all = o.n;
        }
        return NULL;
}

/* Two threads putting and listing, through one shared handle and through a handle each. */
static void test_store_resource_threads(void **state)
{
        struct fixture *f = *state;
        struct vt_store *shared = open_ok(f->db);
        for (int mode = 0; mode < 2; mode++) {
                struct vt_store *own[2] = {shared, shared};
                if (mode == 1) {
                        own[0] = open_ok(f->db);
                        own[1] = open_ok(f->db);
                }
                pthread_barrier_t go;
                assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
                static const char *const repos[2][2] = {{"t0", "t1"}, {"u0", "u1"}};
                struct lister l[2];
                pthread_t th[2];
                for (int i = 0; i < 2; i++) {
                        l[i] = (struct lister){own[i], repos[mode][i], &go, 0, 0, 0, 0};
                        assert_int_equal(pthread_create(&th[i], NULL, put_and_list, &l[i]), 0);
                }
                for (int i = 0; i < 2; i++)
                        pthread_join(th[i], NULL);
                pthread_barrier_destroy(&go);
                for (int i = 0; i < 2; i++) {
                        assert_int_equal(l[i].errors, 0);
                        assert_int_equal(l[i].puts, 60);
                        assert_int_equal(l[i].lists, 60);
                }
                if (mode == 1) {
                        vt_store_close(own[0]);
                        vt_store_close(own[1]);
                }
                struct order_check o = {.repo = repos[mode][0]};
                assert_int_equal(vt_store_resource_list(shared, NULL, order_cb, &o, NULL), 0);
                assert_false(o.bad_order);
                assert_int_equal(o.n, 120 * (size_t)(mode + 1));
                assert_int_equal(o.own, 60);
        }
        vt_store_close(shared);
}

/* A store call that waits past the busy timeout for a write lock another connection
 * holds fails with VT_E_STORE, and its diag names SQLITE_BUSY (not a full disk, not an
 * I/O error); nothing is written. */
static void test_store_diag_busy(void **state)
{
        struct fixture *f = *state;
        sqlite_only();
        struct vt_store *s = open_ok(f->db);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

        struct vt_diag d = {0};
        assert_int_equal(vt_store_refval_add(s, "busy", "snp", "{}", T0, &d), VT_E_STORE);
        if (!strstr(d.msg, "SQLITE_BUSY"))
                fail_msg("diag does not name SQLITE_BUSY: %s", d.msg);
        print_message("busy: %s\n", d.msg);
        assert_null(strstr(d.msg, "SQLITE_FULL"));
        assert_null(strstr(d.msg, "SQLITE_IOERR"));

        assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        /* the lock is gone: the same call succeeds, and a diag given stays empty */
        struct vt_diag ok = {0};
        assert_int_equal(vt_store_refval_add(s, "busy", "snp", "{}", T0, &ok), 0);
        assert_string_equal(ok.msg, "");
        /* a failure the store explains without SQLite still has a reason */
        struct vt_diag nf = {0};
        assert_int_equal(vt_store_refval_delete(s, "absent", &nf), VT_E_NOTFOUND);
        assert_non_null(strstr(nf.msg, "refval delete"));
        vt_store_close(s);
}

/* The sentinels of test_store_outputs_on_failure: what an output holds before the call. */
static char sentinel_obj;
#define SENTINEL_PTR ((void *)&sentinel_obj)
#define SENTINEL_NUM 0x5a5a5a5a

/* A failing call writes none of its outputs (store.h: "outputs are written only on
 * success"): for each function that returns something, a call that fails because the
 * thing is not there and one with a bad argument leave every output as it was. */
static void test_store_outputs_on_failure(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        const char *const absent = "ffffffffffffffffffffffffffffffff";

        /* open */
        struct vt_store *st = SENTINEL_PTR;
        assert_int_equal(vt_store_open_with(NULL, f->db, &st, NULL), VT_E_INVAL);
        assert_ptr_equal(st, SENTINEL_PTR);
        assert_int_equal(store_open("", &st, NULL), VT_E_INVAL);
        assert_ptr_equal(st, SENTINEL_PTR);

        /* schema version */
        int v = SENTINEL_NUM;
        assert_int_equal(vt_store_schema_version(NULL, &v, NULL), VT_E_INVAL);
        assert_int_equal(v, SENTINEL_NUM);

        /* a session: absent, bad id; its claims: absent, none, expired, bad id */
        struct vt_session sess, want;
        memset(&sess, 0x5a, sizeof(sess));
        want = sess;
        assert_int_equal(vt_store_session_get(s, absent, T0, &sess, NULL), VT_E_NOTFOUND);
        assert_memory_equal(&sess, &want, sizeof(sess));
        assert_int_equal(vt_store_session_get(s, NULL, T0, &sess, NULL), VT_E_INVAL);
        assert_memory_equal(&sess, &want, sizeof(sess));
        struct vt_session in = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &in, T0, 10, NULL), 0);
        char *claims = SENTINEL_PTR;
        assert_int_equal(vt_store_session_get_claims(s, absent, T0, &claims, NULL), VT_E_NOTFOUND);
        assert_ptr_equal(claims, SENTINEL_PTR);
        assert_int_equal(vt_store_session_get_claims(s, in.id, T0, &claims, NULL), VT_E_NOTFOUND);
        assert_ptr_equal(claims, SENTINEL_PTR);
        assert_int_equal(vt_store_session_set_claims(s, in.id, "{}", NULL), 0);
        assert_int_equal(vt_store_session_get_claims(s, in.id, T0 + 60, &claims, NULL),
                         VT_E_EXPIRED);
        assert_ptr_equal(claims, SENTINEL_PTR);
        assert_int_equal(vt_store_session_get_claims(s, NULL, T0, &claims, NULL), VT_E_INVAL);
        assert_ptr_equal(claims, SENTINEL_PTR);

        /* counts and the sweep */
        size_t n = SENTINEL_NUM;
        assert_int_equal(vt_store_session_count_live(NULL, T0, &n, NULL), VT_E_INVAL);
        assert_int_equal(n, SENTINEL_NUM);
        assert_int_equal(vt_store_sweep(NULL, T0, &n, NULL), VT_E_INVAL);
        assert_int_equal(n, SENTINEL_NUM);
        assert_int_equal(vt_store_kek_count(s, "", &n, NULL), VT_E_INVAL);
        assert_int_equal(n, SENTINEL_NUM);
        assert_int_equal(vt_store_kek_count(s, "a-kek-id-of-thirty-two-bytes-xyz", &n, NULL),
                         VT_E_INVAL);
        assert_int_equal(n, SENTINEL_NUM);

        /* a resource: absent, bad path */
        char kek[32], want_kek[32];
        memset(kek, 0x5a, sizeof(kek));
        memset(want_kek, 0x5a, sizeof(want_kek));
        uint8_t *w = SENTINEL_PTR, *c = SENTINEL_PTR;
        size_t wl = SENTINEL_NUM, cl = SENTINEL_NUM;
        assert_int_equal(vt_store_resource_get(s, "r/k/absent", kek, &w, &wl, &c, &cl, NULL),
                         VT_E_NOTFOUND);
        assert_int_equal(vt_store_resource_get(s, "r/../k", kek, &w, &wl, &c, &cl, NULL),
                         VT_E_INVAL);
        assert_memory_equal(kek, want_kek, sizeof(kek));
        assert_ptr_equal(w, SENTINEL_PTR);
        assert_ptr_equal(c, SENTINEL_PTR);
        assert_int_equal(wl, SENTINEL_NUM);
        assert_int_equal(cl, SENTINEL_NUM);

        /* a policy: no resource, a resource without one, bad path */
        char *pol = SENTINEL_PTR;
        assert_int_equal(vt_store_policy_get(s, "r/k/absent", &pol, NULL), VT_E_NOTFOUND);
        put_ok(s, "r/k/nopolicy", "kek1", T0);
        assert_int_equal(vt_store_policy_get(s, "r/k/nopolicy", &pol, NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_store_policy_get(s, "/r/k", &pol, NULL), VT_E_INVAL);
        assert_ptr_equal(pol, SENTINEL_PTR);

        /* the current KEK: none recorded yet, then a bad id to adopt */
        int64_t gen = SENTINEL_NUM;
        assert_int_equal(vt_store_kek_current(s, kek, &gen, NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_store_kek_current(NULL, kek, &gen, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_kek_adopt(s, "", kek, NULL), VT_E_INVAL);
        assert_memory_equal(kek, want_kek, sizeof(kek));
        assert_int_equal(gen, SENTINEL_NUM);

        /* a rotation whose callback fails, and one with a bad new id */
        struct rewrap_ctx ctx = {.fail_at = 1, .fail_with = VT_E_CRYPTO};
        n = SENTINEL_NUM;
        assert_int_equal(vt_store_resource_rewrap_all(s, "kek2", rewrap_cb, &ctx, &n, NULL),
                         VT_E_CRYPTO);
        assert_int_equal(vt_store_resource_rewrap_all(s, "", rewrap_cb, &ctx, &n, NULL),
                         VT_E_INVAL);
        assert_int_equal(n, SENTINEL_NUM);

        /* the reference value generation */
        int64_t g = SENTINEL_NUM;
        assert_int_equal(vt_store_refval_generation(NULL, &g, NULL), VT_E_INVAL);
        assert_int_equal(g, SENTINEL_NUM);
        vt_store_close(s);
}

/* A full disk, for real: the file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) stops
 * the database's files from growing, so that SQLite's write of the WAL comes up short
 * (SQLITE_FULL) or fails with EFBIG (SQLITE_IOERR). */
#define FULL_PATH "r/k/full"
#define FULL_BIG  (512u * 1024u)
#define FULL_OLD  "{\"old\":1}"
#define FULL_NEW  "{\"new\":1}"

/* full_read_back: the resource at FULL_PATH has ciphertext ct (ct_len bytes) and policy
 * pol, through the store s. */
static bool full_read_back(struct vt_store *s, const uint8_t *ct, size_t ct_len, const char *pol)
{
        char kek[32];
        uint8_t *w = NULL, *c = NULL;
        size_t wl = 0, cl = 0;
        char *p = NULL;
        bool ok = vt_store_resource_get(s, FULL_PATH, kek, &w, &wl, &c, &cl, NULL) == 0 &&
                  cl == ct_len && memcmp(c, ct, ct_len) == 0 &&
                  vt_store_policy_get(s, FULL_PATH, &p, NULL) == 0 && strcmp(p, pol) == 0;
        free(w);
        free(c);
        free(p);
        return ok;
}

struct full_report {
        int put;       /* what the write under the limit returned */
        char msg[512]; /* and its diag */
};

/* full_child runs in a forked child (its limits are its own): under the limit a write of
 * a resource with its policy fails and changes nothing, seen by this connection and by a
 * second one; with the limit lifted the same connection writes it. Returns the failed
 * step, 0 if none; the write's result goes to fd. */
static int full_child(const char *db, const uint8_t *big, int fd)
{
        struct full_report rep = {0};
        struct vt_store *c = NULL, *c2 = NULL;
        char wal[320];
        struct stat a, b;
        struct rlimit old, lo;
        if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || store_open(db, &c, NULL) < 0)
                return 10;
        /* a write before the limit: the WAL exists and the connection has written */
        if (vt_store_refval_add(c, "before", "snp", "{}", T0, NULL) < 0)
                return 11;
        /* nothing may grow past the larger of the database and its WAL now */
        snprintf(wal, sizeof(wal), "%s-wal", db);
        if (stat(db, &a) < 0 || stat(wal, &b) < 0 || getrlimit(RLIMIT_FSIZE, &old) < 0)
                return 12;
        lo = old;
        lo.rlim_cur = (rlim_t)(a.st_size > b.st_size ? a.st_size : b.st_size);
        if (lo.rlim_cur >= FULL_BIG / 2 || setrlimit(RLIMIT_FSIZE, &lo) < 0)
                return 13;

        struct vt_diag d = {0};
        rep.put = vt_store_resource_put_policy(c, FULL_PATH, "kek1", WDEK, sizeof(WDEK), big,
                                               FULL_BIG, FULL_BIG, FULL_NEW, T0 + 1, &d);
        snprintf(rep.msg, sizeof(rep.msg), "%s", d.msg);
        if (write(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
                return 14;
        if (rep.put != VT_E_STORE)
                return 15;
        /* nothing half-written: the old resource and its old policy, for both connections */
        if (!full_read_back(c, CT, sizeof(CT), FULL_OLD))
                return 17;
        if (store_open(db, &c2, NULL) < 0 || !full_read_back(c2, CT, sizeof(CT), FULL_OLD))
                return 18;
        vt_store_close(c2);

        /* the limit lifted, the same connection works again */
        if (setrlimit(RLIMIT_FSIZE, &old) < 0)
                return 19;
        if (vt_store_resource_put_policy(c, FULL_PATH, "kek1", WDEK, sizeof(WDEK), big, FULL_BIG,
                                         FULL_BIG, FULL_NEW, T0 + 2, NULL) < 0)
                return 20;
        if (!full_read_back(c, big, FULL_BIG, FULL_NEW))
                return 21;
        vt_store_close(c);
        return 0;
}

/* A write that meets a full file system fails with VT_E_STORE and a diag naming the
 * SQLite condition (SQLITE_FULL or SQLITE_IOERR, whichever the short write gives), the
 * transaction leaves nothing behind, and once there is room again the store works. */
static void test_store_diag_full(void **state)
{
        struct fixture *f = *state;
        sqlite_only();
        struct vt_store *s = open_ok(f->db);
        assert_int_equal(vt_store_resource_put_policy(s, FULL_PATH, "kek1", WDEK, sizeof(WDEK), CT,
                                                      sizeof(CT), 3, FULL_OLD, T0, NULL),
                         0);
        vt_store_close(s); /* the last connection: the WAL is checkpointed and emptied */

        uint8_t *big = malloc(FULL_BIG);
        assert_non_null(big);
        for (size_t i = 0; i < FULL_BIG; i++)
                big[i] = (uint8_t)(i * 131u + (i >> 9)); /* not all one page repeated */
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(fds[0]);
                _exit(full_child(f->db, big, fds[1]));
        }
        close(fds[1]);
        struct full_report rep = {.put = 1};
        ssize_t got = read(fds[0], &rep, sizeof(rep));
        close(fds[0]);
        int cs = child_status(pid);
        print_message("full: %s\n", rep.msg);
        assert_int_equal(got, (ssize_t)sizeof(rep));
        assert_int_equal(rep.put, VT_E_STORE);
        if (!strstr(rep.msg, "SQLITE_FULL") && !strstr(rep.msg, "SQLITE_IOERR"))
                fail_msg("diag names neither SQLITE_FULL nor SQLITE_IOERR: %s", rep.msg);
        assert_non_null(strstr(rep.msg, "resource put"));
        assert_null(strstr(rep.msg, "SQLITE_BUSY"));
        if (cs != 0)
                fail_msg("child failed at step %d", cs);

        /* from outside: the file is sound and holds the write made after the limit */
        char buf[64];
        raw_text(f->db, "PRAGMA integrity_check", buf, sizeof(buf));
        assert_string_equal(buf, "ok");
        s = open_ok(f->db);
        assert_true(full_read_back(s, big, FULL_BIG, FULL_NEW));
        vt_store_close(s);
        free(big);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Schema 3: the claims of a session's token, for cookie-based release. */
static void test_store_session_claims(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session in = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        char *c = NULL;
        assert_int_equal(vt_store_session_create(s, &in, T0, 10, NULL), 0);
        assert_int_equal(vt_store_session_get_claims(s, in.id, T0, &c, NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_set_claims(s, in.id, "{\"a\":1}", NULL), 0);
        assert_int_equal(vt_store_session_get_claims(s, in.id, T0, &c, NULL), 0);
        assert_string_equal(c, "{\"a\":1}");
        free(c);
        assert_int_equal(vt_store_session_get_claims(s, in.id, T0 + 60, &c, NULL), VT_E_EXPIRED);
        assert_int_equal(
                vt_store_session_get_claims(s, "ffffffffffffffffffffffffffffffff", T0, &c, NULL),
                VT_E_NOTFOUND);
        assert_int_equal(
                vt_store_session_set_claims(s, "ffffffffffffffffffffffffffffffff", "{}", NULL),
                VT_E_NOTFOUND);
        vt_store_close(s);
}

/*
 * PostgreSQL only: several replicas on one database, migrations applied once, a server
 * restart.
 */

/* A session opened on one replica is read, claimed and finished on another; the nonce
 * is spent for both. */
static void test_store_pg_replicas(void **state)
{
        pg_only();
        struct fixture *f = *state;
        struct vt_store *a = open_ok(f->db), *b = open_ok(f->db);
        struct vt_session in =
                mksess("0123456789abcdef0123456789abcdef", "cmVwbGljYQ==", T0, T0 + 60);
        snprintf(in.client, sizeof(in.client), "192.0.2.1");
        assert_int_equal(vt_store_session_open(a, &in, T0, 10, 1, NULL), 0);
        struct vt_session out;
        assert_int_equal(vt_store_session_get(b, in.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &in);
        assert_string_equal(out.client, "192.0.2.1");
        /* the per-client cap counts the other replica's session */
        struct vt_session two = mksess("1123456789abcdef0123456789abcdef", "eA==", T0, T0 + 60);
        snprintf(two.client, sizeof(two.client), "192.0.2.1");
        struct vt_diag d = {0};
        assert_int_equal(vt_store_session_open(b, &two, T0, 10, 1, &d), VT_E_LIMIT);
        assert_non_null(strstr(d.msg, "client"));

        assert_int_equal(vt_store_session_claim(b, in.id, in.nonce, T0 + 1, NULL), 0);
        assert_int_equal(vt_store_session_claim(a, in.id, in.nonce, T0 + 1, NULL), VT_E_REPLAY);
        assert_int_equal(vt_store_session_set_attested(a, in.id, "{\"r\":1}", T0 + 30, NULL), 0);
        char *c = NULL;
        assert_int_equal(vt_store_session_get_claims(b, in.id, T0 + 2, &c, NULL), 0);
        assert_string_equal(c, "{\"r\":1}");
        free(c);
        size_t n = 0;
        assert_int_equal(vt_store_sweep(b, T0 + 30, &n, NULL), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vt_store_session_get(a, in.id, T0, &out, NULL), VT_E_NOTFOUND);
        vt_store_close(a);
        vt_store_close(b);
}

struct replica_claim {
        struct vt_store *s;
        pthread_barrier_t *go;
        unsigned rounds;
        int wins, replays, other;
};

static void *replica_claimer(void *arg)
{
        struct replica_claim *x = arg;
        for (unsigned round = 0; round < x->rounds; round++) {
                char id[33];
                hexid(id, round);
                pthread_barrier_wait(x->go); /* the session exists */
                int r = vt_store_session_claim(x->s, id, "bm9uY2U=", T0 + 1, NULL);
                if (r == 0)
                        x->wins++;
                else if (r == VT_E_REPLAY)
                        x->replays++;
                else
                        x->other++;
                pthread_barrier_wait(x->go); /* both done */
        }
        return NULL;
}

/* The same nonce claimed at once through two replicas, two threads each, many rounds:
 * exactly one claim per round succeeds, the others see REPLAY. */
static void test_store_pg_claim_race_replicas(void **state)
{
        pg_only();
        struct fixture *f = *state;
        enum { ROUNDS_PG = 200, PER = 2 };
        struct vt_store *rep[2] = {open_ok(f->db), open_ok(f->db)};
        pthread_barrier_t go;
        assert_int_equal(pthread_barrier_init(&go, NULL, 2 * PER + 1), 0);
        struct replica_claim x[2 * PER];
        pthread_t th[2 * PER];
        for (int i = 0; i < 2 * PER; i++) {
                x[i] = (struct replica_claim){rep[i % 2], &go, ROUNDS_PG, 0, 0, 0};
                assert_int_equal(pthread_create(&th[i], NULL, replica_claimer, &x[i]), 0);
        }
        for (unsigned round = 0; round < ROUNDS_PG; round++) {
                char id[33];
                hexid(id, round);
                struct vt_session s = mksess(id, "bm9uY2U=", T0, T0 + 60);
                assert_int_equal(vt_store_session_create(rep[round % 2], &s, T0, 100000, NULL), 0);
                pthread_barrier_wait(&go);
                pthread_barrier_wait(&go);
        }
        int wins = 0, replays = 0, other = 0, wins_b = 0;
        for (int i = 0; i < 2 * PER; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                wins += x[i].wins;
                replays += x[i].replays;
                other += x[i].other;
                if (i % 2)
                        wins_b += x[i].wins;
        }
        pthread_barrier_destroy(&go);
        print_message("replica race: %d wins (%d on the second replica), %d replays\n", wins,
                      wins_b, replays);
        assert_int_equal(other, 0);
        assert_int_equal(wins, ROUNDS_PG);
        assert_int_equal(replays, ROUNDS_PG * (2 * PER - 1));
        vt_store_close(rep[0]);
        vt_store_close(rep[1]);
}

struct opener {
        const char *dsn;
        pthread_barrier_t *go;
        int r, v;
        char msg[sizeof(((struct vt_diag *)0)->msg)];
};

static void *open_at_once(void *arg)
{
        struct opener *o = arg;
        struct vt_store *s = NULL;
        struct vt_diag d = {0};
        pthread_barrier_wait(o->go);
        o->r = store_open(o->dsn, &s, &d);
        if (o->r == 0)
                o->r = vt_store_schema_version(s, &o->v, &d);
        snprintf(o->msg, sizeof(o->msg), "%s", d.msg);
        vt_store_close(s);
        return NULL;
}

/* Replicas starting together on a fresh database: every open succeeds, the schema is
 * created once (one version row, the current version). */
static void test_store_pg_migrate_together(void **state)
{
        pg_only();
        struct fixture *f = *state;
        enum { OPENERS = 4 };
        for (int round = 0; round < 10; round++) {
                fresh_db(f);
                pthread_barrier_t go;
                assert_int_equal(pthread_barrier_init(&go, NULL, OPENERS), 0);
                struct opener o[OPENERS];
                pthread_t th[OPENERS];
                for (int i = 0; i < OPENERS; i++) {
                        o[i] = (struct opener){.dsn = f->db, .go = &go};
                        assert_int_equal(pthread_create(&th[i], NULL, open_at_once, &o[i]), 0);
                }
                for (int i = 0; i < OPENERS; i++) {
                        assert_int_equal(pthread_join(th[i], NULL), 0);
                        if (o[i].r != 0)
                                fail_msg("open %d: %s: %s", i, vt_strerror(o[i].r), o[i].msg);
                        assert_int_equal(o[i].v, 3);
                }
                pthread_barrier_destroy(&go);
                char buf[32];
                raw_text(f->db, "SELECT count(*) || ',' || max(version) FROM schema_version", buf,
                         sizeof(buf));
                assert_string_equal(buf, "1,3");
                raw_text(f->db, "SELECT value FROM generations WHERE name = 'refvals'", buf,
                         sizeof(buf));
                assert_string_equal(buf, "0");
        }
        /* a database from a newer veritee is refused and left alone */
        raw_exec(f->db, "UPDATE schema_version SET version = 999");
        struct vt_store *s = NULL;
        struct vt_diag d = {0};
        assert_int_equal(store_open(f->db, &s, &d), VT_E_UNSUPPORTED);
        assert_null(s);
        assert_non_null(strstr(d.msg, "999"));
        char buf[16];
        raw_text(f->db, "SELECT version FROM schema_version", buf, sizeof(buf));
        assert_string_equal(buf, "999");
}

/* A lock held elsewhere past lock_timeout: the write fails with a diag that names the
 * SQLSTATE (55P03), writes nothing, and succeeds once the lock is gone. */
static void test_store_pg_diag_lock_timeout(void **state)
{
        pg_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        PGconn *c = PQconnectdb(f->db);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        /* the KEK lock, as a rotation holds it */
        PGresult *res = PQexec(c, "BEGIN; SELECT pg_advisory_xact_lock(1987313667)");
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        PQclear(res);
        struct vt_diag d = {0};
        time_t t0 = time(NULL);
        assert_int_equal(vt_store_resource_put(s, "r/t/x", "k", WDEK, sizeof(WDEK), CT, sizeof(CT),
                                               1, T0, &d),
                         VT_E_STORE);
        print_message("lock timeout after %lld s: %s\n", (long long)(time(NULL) - t0), d.msg);
        assert_non_null(strstr(d.msg, "postgres: 55P03"));
        assert_non_null(strstr(d.msg, "resource put"));
        res = PQexec(c, "ROLLBACK");
        PQclear(res);
        PQfinish(c);
        char buf[16];
        raw_text(f->db, "SELECT count(*) FROM resources", buf, sizeof(buf));
        assert_string_equal(buf, "0");
        put_ok(s, "r/t/x", "k", T0);
        vt_store_close(s);
}

/* The server restarts between two calls: a call while it is down fails promptly with a
 * reason; the first call after it is back succeeds on a new connection, with the data
 * kept. A connection the server terminated (57P01) is replaced the same way. */
static void test_store_pg_restart(void **state)
{
        pg_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session in = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &in, T0, 10, NULL), 0);

        /* an administrator terminates every connection of the store */
        raw_exec(f->db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'veritee'");
        struct vt_session out;
        assert_int_equal(vt_store_session_get(s, in.id, T0, &out, NULL), 0);

        assert_int_equal(vtt_pg_stop(pg), 0);
        struct vt_diag d = {0};
        time_t t0 = time(NULL);
        int r = vt_store_ping(s, &d);
        time_t took = time(NULL) - t0;
        struct vt_diag d2 = {0};
        int r2 = vt_store_session_claim(s, in.id, in.nonce, T0 + 1, &d2);
        int up = vtt_pg_restart(pg); /* before asserting: the other cases need it */
        assert_int_equal(up, 0);
        print_message("server down: %s (%lld s)\n", d.msg, (long long)took);
        assert_int_equal(r, VT_E_STORE);
        assert_true(took <= 10);
        assert_non_null(strstr(d.msg, "store: ping"));
        assert_non_null(strstr(d.msg, "postgres:"));
        assert_int_equal(r2, VT_E_STORE);

        assert_int_equal(vt_store_ping(s, NULL), 0);
        assert_int_equal(vt_store_session_get(s, in.id, T0, &out, NULL), 0);
        assert_sess_equal(&out, &in);
        assert_int_equal(vt_store_session_claim(s, in.id, in.nonce, T0 + 1, NULL), 0);
        vt_store_close(s);
}

struct kek_writer {
        struct vt_store *s;
        pthread_barrier_t *go;
        int ok, stale, other, ok_after_stale;
};

/* kek_writer puts resources sealed under k1 until well after the rotation has been seen. */
static void *kek_writer_run(void *arg)
{
        struct kek_writer *w = arg;
        pthread_barrier_wait(w->go);
        for (int i = 0; i < 5000 && w->stale < 20; i++) {
                char path[64];
                snprintf(path, sizeof(path), "repo/w/%04d", i);
                int r = vt_store_resource_put(w->s, path, "k1", WDEK, sizeof(WDEK), CT, sizeof(CT),
                                              1, T0, NULL);
                if (r == 0 && w->stale)
                        w->ok_after_stale++;
                if (r == 0)
                        w->ok++;
                else if (r == VT_E_STALE)
                        w->stale++;
                else
                        w->other++;
        }
        return NULL;
}

/* A rotation on one replica while another writes under the old KEK: each write either
 * commits before the rotation (and is rewrapped by it) or is refused as STALE; none
 * lands under the retired KEK, and none succeeds after the first STALE. */
static void test_store_pg_kek_rotation_race(void **state)
{
        pg_only();
        struct fixture *f = *state;
        struct vt_store *a = open_ok(f->db), *b = open_ok(f->db);
        char id[32];
        assert_int_equal(vt_store_kek_adopt(a, "k1", id, NULL), 0);
        assert_string_equal(id, "k1");
        pthread_barrier_t go;
        assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
        struct kek_writer w = {b, &go, 0, 0, 0, 0};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, kek_writer_run, &w), 0);
        pthread_barrier_wait(&go);
        usleep(50 * 1000); /* let some writes in first */
        struct rewrap_ctx ctx = {0};
        size_t n = 0;
        assert_int_equal(vt_store_resource_rewrap_all(a, "k2", rewrap_cb, &ctx, &n, NULL), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        pthread_barrier_destroy(&go);
        print_message("rotation race: %d writes before, rotation rewrapped %zu, %d stale\n", w.ok,
                      n, w.stale);
        assert_int_equal(w.other, 0);
        assert_int_equal(w.ok_after_stale, 0);
        assert_true(w.stale >= 1);
        assert_int_equal((size_t)w.ok, n);
        size_t left = 99;
        assert_int_equal(vt_store_kek_count(b, "k1", &left, NULL), 0);
        assert_int_equal(left, 0);
        assert_int_equal(vt_store_kek_count(b, "k2", &left, NULL), 0);
        assert_int_equal(left, (size_t)w.ok);
        int64_t gen = 0;
        assert_int_equal(vt_store_kek_current(b, id, &gen, NULL), 0);
        assert_string_equal(id, "k2");
        assert_int_equal(gen, 2);
        vt_store_close(a);
        vt_store_close(b);
}

/* One handle used by many threads holds at most its pool's connections. */
static void *pinger(void *arg)
{
        struct vt_store *s = arg;
        for (int i = 0; i < 50; i++)
                if (vt_store_ping(s, NULL) < 0)
                        return (void *)1;
        return NULL;
}

static void test_store_pg_pool_bound(void **state)
{
        pg_only();
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        enum { THREADS = 24 };
        pthread_t th[THREADS];
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, pinger, s), 0);
        for (int i = 0; i < THREADS; i++) {
                void *ret = NULL;
                assert_int_equal(pthread_join(th[i], &ret), 0);
                assert_null(ret);
        }
        char buf[16];
        raw_text(f->db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'veritee'",
                 buf, sizeof(buf));
        print_message("connections of one handle after %d threads: %s\n", THREADS, buf);
        assert_true(strtoul(buf, NULL, 10) >= 1 && strtoul(buf, NULL, 10) <= 8);
        vt_store_close(s);
}

int main(int argc, char **argv)
{
        const char *name = argc > 1 ? argv[1] : getenv("VT_TEST_STORE_BACKEND");
        if (!name || !*name)
                name = "sqlite";
        for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
                if (strcmp(backends[i].name, name) == 0)
                        backend = backends[i].ops;
        if (!backend) {
                printf("skipped: no store back end \"%s\" in this build\n", name);
                return 77;
        }
        if (backend == &vt_store_postgres_ops)
                pg = vtt_pg_start(); /* or exits: skipped, or failed in CI */
        const struct CMUnitTest tests[] = {
                T(test_store_open_migrate_reopen),
                T(test_store_wal),
                T(test_store_repo_page_plan),
                T(test_store_file_mode),
                T(test_store_newer_schema_refused),
                T(test_store_open_errors),
                T(test_store_open_concurrent_processes),
                T(test_store_session_create_get),
                T(test_store_session_claim),
                T(test_store_session_attest),
                T(test_store_ledger_mark),
                T(test_store_session_claims_threads),
                T(test_store_session_set_state),
                T(test_store_count_sweep),
                T(test_store_limit),
                T(test_store_open_limits),
                T(test_store_sweep_reclaims),
                T(test_store_v3_upgrade),
                T(test_store_binding_metachars),
                T(test_store_claim_race_threads),
                T(test_store_threads_create_limit),
                T(test_store_claim_race_processes),
                T(test_store_processes_create_limit),
                T(test_store_v1_upgrade),
                T(test_store_v1_fixture_upgrade),
                T(test_store_v9_sessions_rebuilt),
                T(test_store_session_claims),
                T(test_store_resource_path_valid),
                T(test_store_resource_put_get),
                T(test_store_resource_replace),
                T(test_store_resource_delete),
                T(test_store_resource_list),
                T(test_store_policy),
                T(test_store_refval),
                T(test_store_rewrap_all),
                T(test_store_resource_put_batch),
                T(test_store_rewrap_all_pages),
                T(test_store_resource_threads),
                T(test_store_diag_busy),
                T(test_store_outputs_on_failure),
                T(test_store_diag_full),
                T(test_store_pg_replicas),
                T(test_store_pg_claim_race_replicas),
                T(test_store_pg_migrate_together),
                T(test_store_pg_diag_lock_timeout),
                T(test_store_pg_kek_rotation_race),
                T(test_store_pg_pool_bound),
                T(test_store_pg_restart),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
