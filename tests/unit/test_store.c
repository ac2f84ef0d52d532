/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite store: schema, WAL, file mode, session semantics and single-use nonces
 * across threads and processes. Each test gets a fresh temporary directory. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"
#include "store/store.h"
#include "veritee/veritee.h"

#define ROUNDS 50
#define T0     1748736000 /* 2025-06-01T00:00:00Z */

struct fixture {
        char dir[256];
        char db[300];
};

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

static int teardown(void **state)
{
        struct fixture *f = *state;
        unlink_db(f->db);
        rmdir(f->dir);
        free(f);
        return 0;
}

static struct vt_store *open_ok(const char *path)
{
        struct vt_store *s = NULL;
        struct vt_diag d = {0};
        int r = vt_store_open(path, &s, &d);
        if (r < 0)
                fail_msg("vt_store_open %s: %s: %s", path, vt_strerror(r), d.msg);
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

/* raw_* use SQLite directly, to look at what the store wrote from the outside. */
static void raw_exec(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
}

static void raw_text(const char *path, const char *sql, char *out, size_t n)
{
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
        assert_int_equal(vt_store_schema_version(s, &v1), 0);
        assert_true(v1 >= 1);
        assert_int_equal(vt_store_ping(s), 0);
        struct vt_session in = mksess("0123456789abcdef0123456789abcdef", "bm9uY2U=", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &in, T0, 10), 0);
        vt_store_close(s);

        s = open_ok(f->db);
        assert_int_equal(vt_store_schema_version(s, &v2), 0);
        assert_int_equal(v2, v1);
        struct vt_session out;
        assert_int_equal(vt_store_session_get(s, in.id, T0, &out), 0);
        assert_sess_equal(&out, &in);
        vt_store_close(s);

        char buf[64];
        raw_text(f->db, "PRAGMA user_version", buf, sizeof(buf));
        assert_int_equal(strtoul(buf, NULL, 10), (unsigned long)v1);
        raw_text(f->db, "SELECT count(*) FROM sqlite_master WHERE name = 'sessions_expires'", buf,
                 sizeof(buf));
        assert_string_equal(buf, "1");

        assert_int_equal(vt_store_schema_version(NULL, &v1), VT_E_INVAL);
        assert_int_equal(vt_store_ping(NULL), VT_E_INVAL);
        vt_store_close(NULL);
}

/* The database is in WAL mode (persistent, so another connection sees it). */
static void test_store_wal(void **state)
{
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

/* The file is created 0600 even with umask 0, and so are the -wal and -shm files. */
static void test_store_file_mode(void **state)
{
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
        struct fixture *f = *state;
        vt_store_close(open_ok(f->db));
        raw_exec(f->db, "PRAGMA user_version = 999");

        struct vt_store *s = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_store_open(f->db, &s, &d), VT_E_UNSUPPORTED);
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
        assert_int_equal(vt_store_open(NULL, &s, &d), VT_E_INVAL);
        assert_int_equal(vt_store_open("", &s, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_open(f->db, NULL, NULL), VT_E_INVAL);

        char p[320];
        snprintf(p, sizeof(p), "%s/missing/veritee.db", f->dir);
        vt_diag_clear(&d);
        assert_int_equal(vt_store_open(p, &s, &d), VT_E_STORE);
        assert_null(s);
        assert_non_null(strstr(d.msg, p));
        assert_int_equal(access(p, F_OK), -1);

        FILE *fp = fopen(f->db, "w");
        assert_non_null(fp);
        for (int i = 0; i < 256; i++)
                fputs("this is not an SQLite database\n", fp);
        fclose(fp);
        vt_diag_clear(&d);
        assert_int_equal(vt_store_open(f->db, &s, &d), VT_E_STORE);
        assert_null(s);
        assert_non_null(strstr(d.msg, "store:"));
}

/* Several processes opening the same fresh database at once all succeed. */
static void test_store_open_concurrent_processes(void **state)
{
        struct fixture *f = *state;
        enum { CHILDREN = 4 };
        for (int round = 0; round < 20; round++) {
                unlink_db(f->db);
                pid_t pids[CHILDREN];
                for (int i = 0; i < CHILDREN; i++) {
                        pids[i] = fork();
                        assert_true(pids[i] >= 0);
                        if (pids[i] == 0) {
                                struct vt_store *c = NULL;
                                int v = 0;
                                int r = vt_store_open(f->db, &c, NULL);
                                if (r == 0)
                                        r = vt_store_schema_version(c, &v);
                                vt_store_close(c);
                                _exit(r == 0 && v >= 1 ? 0 : 1);
                        }
                }
                struct vt_store *s = open_ok(f->db);
                int v = 0;
                assert_int_equal(vt_store_schema_version(s, &v), 0);
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
        assert_int_equal(vt_store_session_create(s, &a, T0, 10), 0);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out), 0);
        assert_sess_equal(&out, &a);
        assert_int_equal(vt_store_session_get(s, a.id, T0 + 59, &out), 0);

        /* expires == now is expired: the session lives in [created, expires). */
        memset(&out, 0, sizeof(out));
        assert_int_equal(vt_store_session_get(s, a.id, T0 + 60, &out), VT_E_EXPIRED);
        assert_sess_equal(&out, &a);
        assert_int_equal(vt_store_session_get(s, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", T0, &out),
                         VT_E_NOTFOUND);

        /* A duplicate id is refused and the first session is unchanged. */
        struct vt_session dup = mksess(a.id, "other", T0 + 1, T0 + 120);
        assert_int_equal(vt_store_session_create(s, &dup, T0, 10), VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out), 0);
        assert_sess_equal(&out, &a);

        /* Bad input. */
        struct vt_session bad = mksess("cccccccccccccccccccccccccccccccc", "x", T0, T0 + 60);
        memset(bad.id, 'c', sizeof(bad.id)); /* not terminated */
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10), VT_E_INVAL);
        bad = mksess("", "x", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10), VT_E_INVAL);
        bad = mksess("cccccccccccccccccccccccccccccccc", "x", T0, T0 + 60);
        memset(bad.nonce, 'n', sizeof(bad.nonce));
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10), VT_E_INVAL);
        bad = mksess("cccccccccccccccccccccccccccccccc", "x", T0, T0 + 60);
        bad.state = (enum vt_session_state)7;
        assert_int_equal(vt_store_session_create(s, &bad, T0, 10), VT_E_INVAL);
        assert_int_equal(vt_store_session_create(NULL, &a, T0, 10), VT_E_INVAL);
        assert_int_equal(vt_store_session_create(s, NULL, T0, 10), VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, NULL, T0, &out), VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, a.id, T0, NULL), VT_E_INVAL);

        size_t n;
        assert_int_equal(vt_store_session_count_live(s, T0, &n), 0);
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
        assert_int_equal(vt_store_session_create(s, &a, T0, 10), 0);

        /* Wrong nonce: BINDING, and the session can still be claimed. */
        assert_int_equal(vt_store_session_claim(s, a.id, "QUFBQg==", T0), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, a.id, "", T0), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, a.id, "qufbqq==", T0), VT_E_BINDING);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);

        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0 + 59), 0);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out), 0);
        assert_int_equal(out.state, VT_SESSION_CLAIMED);
        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0 + 1), VT_E_REPLAY);
        /* A wrong nonce on a used session is still a binding failure. */
        assert_int_equal(vt_store_session_claim(s, a.id, "QUFBQg==", T0 + 1), VT_E_BINDING);

        /* After ATTESTED the nonce stays used. */
        assert_int_equal(vt_store_session_set_state(s, a.id, VT_SESSION_ATTESTED), 0);
        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0 + 1), VT_E_REPLAY);

        /* Expired (expires == now counts) and unknown sessions. */
        struct vt_session b = mksess("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "QkJCQg==", T0, T0 + 60);
        assert_int_equal(vt_store_session_create(s, &b, T0, 10), 0);
        assert_int_equal(vt_store_session_claim(s, b.id, b.nonce, T0 + 60), VT_E_EXPIRED);
        assert_int_equal(vt_store_session_claim(s, b.id, b.nonce, T0 + 3600), VT_E_EXPIRED);
        assert_int_equal(vt_store_session_claim(s, b.id, "wrong", T0 + 3600), VT_E_EXPIRED);
        assert_int_equal(vt_store_session_get(s, b.id, T0, &out), 0);
        assert_int_equal(out.state, VT_SESSION_AUTHED);
        assert_int_equal(vt_store_session_claim(s, "cccccccccccccccccccccccccccccccc", b.nonce, T0),
                         VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_claim(s, NULL, b.nonce, T0), VT_E_INVAL);
        assert_int_equal(vt_store_session_claim(s, b.id, NULL, T0), VT_E_INVAL);
        assert_int_equal(vt_store_session_claim(NULL, b.id, b.nonce, T0), VT_E_INVAL);
        vt_store_close(s);
}

/* set_state: writes the state, NOTFOUND for an unknown id, INVAL for a bad state. */
static void test_store_session_set_state(void **state)
{
        struct fixture *f = *state;
        struct vt_store *s = open_ok(f->db);
        struct vt_session a = mksess("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "QUFBQQ==", T0, T0 + 60);
        struct vt_session out;
        assert_int_equal(vt_store_session_create(s, &a, T0, 10), 0);
        assert_int_equal(vt_store_session_set_state(s, a.id, VT_SESSION_ATTESTED), 0);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out), 0);
        assert_int_equal(out.state, VT_SESSION_ATTESTED);
        assert_int_equal(vt_store_session_set_state(s, a.id, VT_SESSION_AUTHED), 0);
        assert_int_equal(vt_store_session_claim(s, a.id, a.nonce, T0), 0);
        assert_int_equal(vt_store_session_set_state(s, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                                                    VT_SESSION_ATTESTED),
                         VT_E_NOTFOUND);
        int bad[] = {-1, 3, 1000};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(vt_store_session_set_state(s, a.id, (enum vt_session_state)bad[i]),
                                 VT_E_INVAL);
        assert_int_equal(vt_store_session_set_state(s, NULL, VT_SESSION_ATTESTED), VT_E_INVAL);
        assert_int_equal(vt_store_session_get(s, a.id, T0, &out), 0);
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
                assert_int_equal(vt_store_session_create(s, &x, T0, 100), 0);
        }
        size_t n = 99;
        assert_int_equal(vt_store_session_count_live(s, T0, &n), 0);
        assert_int_equal(n, 10);
        assert_int_equal(vt_store_session_count_live(s, T0 + 10, &n), 0);
        assert_int_equal(n, 9);
        assert_int_equal(vt_store_session_count_live(s, T0 + 55, &n), 0);
        assert_int_equal(n, 5);
        assert_int_equal(vt_store_session_count_live(s, T0 + 100, &n), 0);
        assert_int_equal(n, 0);

        assert_int_equal(vt_store_sweep(s, T0, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(vt_store_sweep(s, T0 + 30, &n), 0);
        assert_int_equal(n, 3); /* expires 10, 20, 30 */
        assert_int_equal(vt_store_sweep(s, T0 + 30, &n), 0);
        assert_int_equal(n, 0);
        struct vt_session out;
        hexid(id, 2);
        assert_int_equal(vt_store_session_get(s, id, T0, &out), VT_E_NOTFOUND);
        hexid(id, 3);
        assert_int_equal(vt_store_session_get(s, id, T0, &out), 0);
        /* Swept sessions no longer count even at an earlier time. */
        assert_int_equal(vt_store_session_count_live(s, T0, &n), 0);
        assert_int_equal(n, 7);
        assert_int_equal(vt_store_sweep(s, T0 + 1000, NULL), 0);
        assert_int_equal(vt_store_session_count_live(s, T0, &n), 0);
        assert_int_equal(n, 0);

        assert_int_equal(vt_store_session_count_live(s, T0, NULL), VT_E_INVAL);
        assert_int_equal(vt_store_session_count_live(NULL, T0, &n), VT_E_INVAL);
        assert_int_equal(vt_store_sweep(NULL, T0, &n), VT_E_INVAL);
        vt_store_close(s);
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
                assert_int_equal(vt_store_session_create(s, &x, T0, 3), 0);
        }
        hexid(id, 3);
        struct vt_session x = mksess(id, "bm9uY2U=", T0, T0 + 60);
        struct vt_session out;
        size_t n;
        assert_int_equal(vt_store_session_create(s, &x, T0, 3), VT_E_LIMIT);
        assert_int_equal(vt_store_session_get(s, id, T0, &out), VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_count_live(s, T0, &n), 0);
        assert_int_equal(n, 3);
        char buf[16];
        raw_text(f->db, "SELECT count(*) FROM sessions", buf, sizeof(buf));
        assert_string_equal(buf, "3");

        /* At T0 + 60 the first session has expired: room for one. */
        x.expires = T0 + 200;
        assert_int_equal(vt_store_session_create(s, &x, T0 + 60, 3), 0);
        hexid(id, 4);
        struct vt_session y = mksess(id, "bm9uY2U=", T0 + 60, T0 + 200);
        assert_int_equal(vt_store_session_create(s, &y, T0 + 60, 3), VT_E_LIMIT);
        assert_int_equal(vt_store_session_create(s, &y, T0 + 60, 0), VT_E_LIMIT);
        assert_int_equal(vt_store_session_get(s, id, T0, &out), VT_E_NOTFOUND);
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
                assert_int_equal(vt_store_session_create(s, &x, T0, 100), 0);
                assert_int_equal(vt_store_session_get(s, ids[i], T0, &out), 0);
                assert_sess_equal(&out, &x);
        }
        size_t n;
        assert_int_equal(vt_store_session_count_live(s, T0, &n), 0);
        assert_int_equal(n, 6);

        /* Neither LIKE wildcards nor injected predicates match another row. */
        assert_int_equal(vt_store_session_get(s, "x' OR 'a'='a", T0, &out), VT_E_NOTFOUND);
        assert_int_equal(vt_store_session_claim(s, "x' OR '1'='1", "' OR '1'='1", T0),
                         VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, "%", "' OR 1=1 --", T0), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, "_", "%", T0), VT_E_BINDING);
        assert_int_equal(vt_store_session_claim(s, "%", "%", T0), 0);
        assert_int_equal(vt_store_session_claim(s, ids[0], nonces[0], T0), 0);
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                assert_int_equal(vt_store_session_get(s, ids[i], T0, &out), 0);
                assert_int_equal(out.state,
                                 i == 0 || i == 3 ? VT_SESSION_CLAIMED : VT_SESSION_AUTHED);
        }
        assert_int_equal(vt_store_session_set_state(s, "_", VT_SESSION_ATTESTED), 0);
        assert_int_equal(vt_store_session_get(s, "%", T0, &out), 0);
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
        x->r = vt_store_session_claim(x->s, x->id, x->nonce, T0 + 1);
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
                assert_int_equal(vt_store_session_create(s, &x, T0, 1000), 0);

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
                assert_int_equal(vt_store_session_get(s, id, T0, &out), 0);
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
                int r = vt_store_session_create(c->s, &x, T0, 100);
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
        assert_int_equal(vt_store_session_count_live(s, T0, &n), 0);
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
                assert_int_equal(vt_store_session_create(s, &x, T0, 1000), 0);

                int ready[2], go[2];
                assert_int_equal(pipe(ready), 0);
                assert_int_equal(pipe(go), 0);
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        /* The parent's connection is never touched here. */
                        struct vt_store *c = NULL;
                        char b = 0;
                        int r = vt_store_open(f->db, &c, NULL);
                        if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
                                _exit(3);
                        if (r == 0)
                                r = vt_store_session_claim(c, id, x.nonce, T0 + 1);
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
                int r = vt_store_session_claim(s, id, x.nonce, T0 + 1);
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
                        if (vt_store_open(f->db, &c.s, NULL) < 0)
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_store_open_migrate_reopen),
                T(test_store_wal),
                T(test_store_file_mode),
                T(test_store_newer_schema_refused),
                T(test_store_open_errors),
                T(test_store_open_concurrent_processes),
                T(test_store_session_create_get),
                T(test_store_session_claim),
                T(test_store_session_set_state),
                T(test_store_count_sweep),
                T(test_store_limit),
                T(test_store_binding_metachars),
                T(test_store_claim_race_threads),
                T(test_store_threads_create_limit),
                T(test_store_claim_race_processes),
                T(test_store_processes_create_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
