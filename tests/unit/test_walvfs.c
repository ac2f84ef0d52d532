/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's VFS (lib/store/walvfs.c): one write per commit to the WAL, and the same
 * database as without it, for readers on the default VFS, after a rollback that spilled
 * frames, with syncs from another thread, and after SIGKILL at any point.
 *
 * This binary defines pwrite and pwrite64: libsqlite3's calls resolve to these (an
 * executable's definitions come first), which call libc's and count, for files whose
 * name ends in "-wal", the writes and their largest size.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/walvfs.h"
#include "testutil.h"

static atomic_uint wal_writes;
static atomic_size_t wal_write_max;

static bool is_wal(int fd)
{
        char link[64], path[4096];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof(path) - 1);
        if (n < 4)
                return false;
        path[n] = 0;
        return strcmp(path + n - 4, "-wal") == 0;
}

static void wrote(int fd, size_t n)
{
        if (!is_wal(fd))
                return;
        atomic_fetch_add(&wal_writes, 1);
        size_t m = atomic_load(&wal_write_max);
        while (n > m && !atomic_compare_exchange_weak(&wal_write_max, &m, n))
                ;
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
        wrote(fd, n);
        return REAL("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
        wrote(fd, n);
        return REAL("pwrite64", ssize_t(*)(int, const void *, size_t, off64_t))(fd, buf, n, off);
}

struct fx {
        char dir[64];
        char db[128];
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/vt-test-walvfs-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char p[160];
        const char *sfx[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
                snprintf(p, sizeof(p), "%s%s", f->db, sfx[i]);
                unlink(p);
        }
        rmdir(f->dir);
        free(f);
        return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
        char *err = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", sql, err ? err : "?");
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
        sqlite3 *db = NULL;
        assert_int_equal(
                sqlite3_open_v2(path, &db,
                                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                vfs),
                SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        exec_ok(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
        return db;
}

/* open_table opens path through vfs (NULL: the default) and creates the tests' table: an
 * integer key and a blob with an index, so that a row writes two B-trees. */
static sqlite3 *open_table(const char *path, const char *vfs)
{
        sqlite3 *db = open_db(path, vfs);
        exec_ok(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB); CREATE INDEX t_v ON t (v)");
        return db;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int64_t v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

static void integrity_ok(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
}

/* insert_row commits one row of n bytes (an indexed key and a blob) */
static void insert_row(sqlite3 *db, int64_t k, size_t n)
{
        sqlite3_stmt *st = NULL;
        uint8_t *b = malloc(n ? n : 1);
        assert_non_null(b);
        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)(k * 31 + (int64_t)i);
        assert_int_equal(
                sqlite3_prepare_v2(db, "INSERT INTO t (k, v) VALUES (?1, ?2)", -1, &st, NULL),
                SQLITE_OK);
        sqlite3_bind_int64(st, 1, k);
        sqlite3_bind_blob(st, 2, b, (int)n, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        free(b);
}

static const char *vfs(void)
{
        const char *n = vt_walvfs_name();
        assert_non_null(n);
        assert_string_equal(n, "veritee-wal");
        return n;
}

/* A commit of several pages is one write to the WAL (two per page on the default VFS),
 * and a reader on the default VFS sees it as soon as the commit returns. */
static void test_walvfs_one_write_per_commit(void **state)
{
        struct fx *f = *state;
        sqlite3 *w = open_table(f->db, vfs());
        sqlite3 *r = open_db(f->db, NULL);
        unsigned long fl0, wr0, fl1, wr1;
        for (int64_t k = 1; k <= 40; k++) {
                vt_walvfs_stats(&fl0, &wr0);
                unsigned before = atomic_load(&wal_writes);
                insert_row(w, k, 3000); /* a table page, an index page, and more as they split */
                unsigned n = atomic_load(&wal_writes) - before;
                vt_walvfs_stats(&fl1, &wr1);
                assert_int_equal(n, 1);
                assert_int_equal(fl1 - fl0, 1);
                assert_true(wr1 - wr0 >= 4); /* at least two frames, a header and a page each */
                assert_int_equal(query_int(r, "SELECT count(*) FROM t"), k);
                assert_int_equal(query_int(r, "SELECT sum(length(v)) FROM t"), k * 3000);
        }
        /* the same commits on the default VFS: two writes per frame */
        sqlite3 *d = open_db(f->db, NULL);
        unsigned before = atomic_load(&wal_writes);
        insert_row(d, 41, 3000);
        assert_true(atomic_load(&wal_writes) - before >= 4);
        sqlite3_close(d);
        integrity_ok(r);
        sqlite3_close(r);
        sqlite3_close(w);
}

/* A transaction larger than the buffer: written in pieces no larger than the buffer (the
 * unix VFS fails a single write of 128 KiB or more), whole and readable. */
static void test_walvfs_big_transaction(void **state)
{
        struct fx *f = *state;
        sqlite3 *w = open_table(f->db, vfs());
        atomic_store(&wal_write_max, 0);
        exec_ok(w, "BEGIN");
        for (int64_t k = 1; k <= 400; k++)
                insert_row(w, k, 5000);
        exec_ok(w, "COMMIT");
        insert_row(w, 401, 2 * 1024 * 1024); /* one row of 2 MiB: overflow pages */
        assert_true(atomic_load(&wal_write_max) <= VT_WALVFS_BUF_MAX);
        assert_true(atomic_load(&wal_write_max) > 64 * 1024);
        sqlite3 *r = open_db(f->db, NULL);
        assert_int_equal(query_int(r, "SELECT count(*) FROM t"), 401);
        assert_int_equal(query_int(r, "SELECT sum(length(v)) FROM t"),
                         400 * 5000 + 2 * 1024 * 1024);
        integrity_ok(r);
        sqlite3_close(r);
        sqlite3_close(w);
}

/* A transaction that spilled frames to the WAL and was rolled back, then a commit on
 * another connection (default VFS) that writes over those frames, then one here: nothing
 * of the rolled-back transaction is written over the other's frames. */
static void test_walvfs_rollback_after_spill(void **state)
{
        struct fx *f = *state;
        sqlite3 *w = open_table(f->db, vfs());
        insert_row(w, 1, 100);
        exec_ok(w, "PRAGMA cache_size = 8"); /* 8 pages: the transaction below spills */
        sqlite3 *o = open_db(f->db, NULL);
        for (int round = 0; round < 5; round++) {
                unsigned before = atomic_load(&wal_writes);
                exec_ok(w, "BEGIN");
                for (int64_t k = 1000; k < 1300; k++)
                        insert_row(w, k, 1500);
                assert_true(atomic_load(&wal_writes) > before); /* frames spilled mid-way */
                exec_ok(w, "ROLLBACK");
                for (int64_t k = 0; k < 20; k++)
                        insert_row(o, 10000 + round * 100 + k, 700);
                insert_row(w, 2 + round, 300);
        }
        sqlite3 *r = open_db(f->db, NULL);
        assert_int_equal(query_int(r, "SELECT count(*) FROM t"), 1 + 5 * 20 + 5);
        assert_int_equal(query_int(r, "SELECT count(*) FROM t WHERE k >= 1000 AND k < 1300"), 0);
        integrity_ok(r);
        assert_int_equal(query_int(w, "SELECT count(*) FROM t"), 106);
        sqlite3_close(r);
        sqlite3_close(o);
        sqlite3_close(w);
}

struct syncer {
        sqlite3_file *wal;
        atomic_bool stop;
        unsigned syncs;
};

static void *sync_main(void *arg)
{
        struct syncer *s = arg;
        while (!atomic_load(&s->stop)) {
                assert_int_equal(s->wal->pMethods->xSync(s->wal, SQLITE_SYNC_NORMAL), SQLITE_OK);
                s->syncs++;
        }
        return NULL;
}

/* The store syncs the WAL from another thread while the connection writes (the ledger's
 * sync outside the store's lock): the buffer is shared safely, and every commit lands. */
static void test_walvfs_sync_from_another_thread(void **state)
{
        struct fx *f = *state;
        sqlite3 *w = open_table(f->db, vfs());
        insert_row(w, 1, 10);
        struct syncer s = {0};
        assert_int_equal(sqlite3_file_control(w, "main", SQLITE_FCNTL_JOURNAL_POINTER, &s.wal),
                         SQLITE_OK);
        assert_non_null(s.wal);
        assert_non_null(s.wal->pMethods);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, sync_main, &s), 0);
        for (int64_t k = 2; k <= 300; k++)
                insert_row(w, k, 2500 + (size_t)(k % 7) * 700);
        atomic_store(&s.stop, true);
        pthread_join(th, NULL);
        assert_true(s.syncs > 0);
        sqlite3 *r = open_db(f->db, NULL);
        assert_int_equal(query_int(r, "SELECT count(*) FROM t"), 300);
        integrity_ok(r);
        sqlite3_close(r);
        sqlite3_close(w);
}

/* child: commits rows 1, 2, ... through the VFS, and after each commit writes its number
 * to fd; never returns */
static _Noreturn void committer(const char *path, int fd)
{
        sqlite3 *w = NULL;
        if (sqlite3_open_v2(path, &w, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                            vt_walvfs_name()) != SQLITE_OK ||
            sqlite3_exec(w, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL,
                         NULL) != SQLITE_OK)
                _exit(2);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(w, "INSERT INTO t (k, v) VALUES (?1, randomblob(?2))", -1, &st,
                               NULL) != SQLITE_OK)
                _exit(3);
        for (int64_t k = 1;; k++) {
                sqlite3_bind_int64(st, 1, k);
                sqlite3_bind_int64(st, 2, 500 + (k * 977) % 6000);
                if (sqlite3_step(st) != SQLITE_DONE)
                        _exit(4);
                sqlite3_reset(st);
                if (write(fd, &k, sizeof(k)) != (ssize_t)sizeof(k))
                        _exit(5);
        }
}

/* xorshift64: where to kill, different in each run (seeded by the pid) */
static uint64_t next_rand(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* SIGKILL at any point: every commit acknowledged (reported after its commit returned)
 * is in the database, the rows are 1..n without a gap, and the file is sound. */
static void test_walvfs_sigkill(void **state)
{
        struct fx *f = *state;
        sqlite3 *w = open_table(f->db, NULL);
        sqlite3_close(w);
        uint64_t seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull | 1;
        int64_t total = 0;
        for (int round = 0; round < 6; round++) {
                int fds[2];
                assert_int_equal(pipe(fds), 0);
                fflush(NULL);
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        close(fds[0]);
                        committer(f->db, fds[1]);
                }
                close(fds[1]);
                int64_t acked = 0, k;
                int want = 20 + (int)(next_rand(&seed) % 200);
                for (int i = 0; i < want && read(fds[0], &k, sizeof(k)) == (ssize_t)sizeof(k); i++)
                        acked = k;
                /* then somewhere inside a later commit */
                usleep((useconds_t)(next_rand(&seed) % 3000));
                kill(pid, SIGKILL);
                int st = 0;
                assert_int_equal(waitpid(pid, &st, 0), pid);
                assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
                while (read(fds[0], &k, sizeof(k)) == (ssize_t)sizeof(k))
                        acked = k;
                close(fds[0]);
                assert_true(acked > 0);
                sqlite3 *r = open_db(f->db, NULL);
                int64_t n = query_int(r, "SELECT count(*) FROM t");
                int64_t mx = query_int(r, "SELECT coalesce(max(k), 0) FROM t");
                assert_true(mx >= acked);
                assert_int_equal(n, mx); /* 1..n, no gap */
                integrity_ok(r);
                exec_ok(r, "DELETE FROM t");
                sqlite3_close(r);
                total += acked;
        }
        print_message("sigkill: %lld commits acknowledged over 6 kills, none lost\n",
                      (long long)total);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_walvfs_one_write_per_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_walvfs_big_transaction, setup, teardown),
                cmocka_unit_test_setup_teardown(test_walvfs_rollback_after_spill, setup, teardown),
                cmocka_unit_test_setup_teardown(test_walvfs_sync_from_another_thread, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_walvfs_sigkill, setup, teardown),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
