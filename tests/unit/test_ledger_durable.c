/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ledger append is durable when it returns: whatever the SQLite store wrote to its WAL
 * before vt_ledger_append (or vt_store_ledger_sth_put) returned has been synced by then,
 * by the ledger's writer (wal_sync) rather than inside SQLite's commit.
 *
 * This binary defines pwrite, pwrite64, write, fsync and fdatasync: libsqlite3's calls
 * resolve to these (an executable's definitions come first), which call libc's and
 * record, for files whose name ends in "-wal", whether a write came after their last
 * successful sync. The main connection's own writes (synchronous=NORMAL, not synced on
 * their own) come before the appends here and must be synced by the first of them. It
 * also defines pread and pread64, to count what the store reads from its files.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "store/store.h"
#include "testutil.h"
#include "token/jwt.h"
#include "util/json.h"
#include "veritee/veritee.h"

static atomic_bool wal_dirty; /* a WAL write since the WAL's last sync */
static atomic_uint wal_writes, wal_syncs;
/* set: a sync of the WAL takes 100 ms more, so that whatever a reader can see before the
 * sync ends shows */
static atomic_bool slow_sync;
static _Atomic pid_t sync_tid;  /* the thread of the WAL's last sync */
static atomic_int in_slow_sync; /* syncs inside their added 100 ms */
static atomic_uint file_reads;  /* preads of the database or its WAL */

/* fd's file name (its last path component) into name; false if it has none */
static bool fd_name(int fd, char name[static 256])
{
        char link[64], path[4096];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof(path) - 1);
        if (n <= 0)
                return false;
        path[n] = 0;
        const char *b = strrchr(path, '/');
        snprintf(name, 256, "%.255s", b ? b + 1 : path);
        return true;
}

static bool is_wal(int fd)
{
        char name[256];
        size_t n = fd_name(fd, name) ? strlen(name) : 0;
        return n >= 4 && strcmp(name + n - 4, "-wal") == 0;
}

/* the database (db.sqlite) or its WAL */
static bool is_store_file(int fd)
{
        char name[256];
        return fd_name(fd, name) &&
               (strcmp(name, "db.sqlite") == 0 || strcmp(name, "db.sqlite-wal") == 0);
}

static void wrote(int fd, ssize_t r)
{
        if (r > 0 && is_wal(fd)) {
                atomic_store(&wal_dirty, true);
                atomic_fetch_add(&wal_writes, 1);
        }
}

static void synced(int fd, int r)
{
        if (r == 0 && is_wal(fd)) {
                atomic_store(&wal_dirty, false);
                atomic_fetch_add(&wal_syncs, 1);
                atomic_store(&sync_tid, gettid());
        }
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
        ssize_t r = REAL("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, n, off);
        wrote(fd, r);
        return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
        ssize_t r =
                REAL("pwrite64", ssize_t(*)(int, const void *, size_t, off64_t))(fd, buf, n, off);
        wrote(fd, r);
        return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
        ssize_t r = REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, n);
        wrote(fd, r);
        return r;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
        if (is_store_file(fd))
                atomic_fetch_add(&file_reads, 1);
        return REAL("pread", ssize_t(*)(int, void *, size_t, off_t))(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
        if (is_store_file(fd))
                atomic_fetch_add(&file_reads, 1);
        return REAL("pread64", ssize_t(*)(int, void *, size_t, off64_t))(fd, buf, n, off);
}

static void slow_down(int fd)
{
        if (atomic_load(&slow_sync) && is_wal(fd)) {
                atomic_fetch_add(&in_slow_sync, 1);
                usleep(100000);
                atomic_fetch_sub(&in_slow_sync, 1);
        }
}

int fsync(int fd)
{
        slow_down(fd);
        int r = REAL("fsync", int (*)(int))(fd);
        synced(fd, r);
        return r;
}

int fdatasync(int fd)
{
        slow_down(fd);
        int r = REAL("fdatasync", int (*)(int))(fd);
        synced(fd, r);
        return r;
}

struct fx {
        char dir[256], db[300], key[300];
        struct vt_store *store;
        struct vt_signer *signer;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        struct vt_diag d = {0};
        assert_non_null(f);
        vt_test_fresh_dir(f->dir, sizeof(f->dir), "ledger-durable");
        snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
        snprintf(f->key, sizeof(f->key), "%s/ledger.pem", f->dir);
        assert_int_equal(vt_store_open(f->db, &f->store, &d), 0);
        assert_int_equal(vt_signer_load_or_create_as(f->key, "ledger key", &f->signer, &d), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        vt_store_close(f->store);
        vt_signer_free(f->signer);
        vt_test_rm_dir(f->dir);
        free(f);
        return 0;
}

/* A session write of the main connection: in the WAL, not synced on its own. */
static void session_write(struct fx *f, int i)
{
        struct vt_session s = {
                .tee = "sim", .nonce = "n", .client = "c", .created = 1, .expires = 1000000};
        snprintf(s.id, sizeof(s.id), "%032x", (unsigned)i);
        assert_int_equal(vt_store_session_open(f->store, &s, 1, 1000, 1000, NULL), 0);
}

/* open_ledger opens a ledger on f's store: heads only every sth_every entries (never by
 * time), deferred entries synced within defer_ms. */
static struct vt_ledger *open_ledger(struct fx *f, uint64_t sth_every, int64_t defer_ms)
{
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {
                .sth_every = sth_every, .sth_ms = 3600 * 1000, .defer_ms = defer_ms};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        return l;
}

static void test_ledger_append_synced(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 0);
        unsigned syncs0 = atomic_load(&wal_syncs);
        for (int i = 0; i < 20; i++) {
                session_write(f, i);
                assert_true(atomic_load(&wal_dirty)); /* the interposition sees the writes */
                json_auto_t *e = json_pack("{s:i}", "n", i);
                uint64_t idx = UINT64_MAX;
                assert_int_equal(vt_ledger_append(l, "test", e, &idx, NULL), 0);
                assert_int_equal(idx, (uint64_t)i);
                /* everything in the WAL, the entry and the session row before it, synced */
                assert_false(atomic_load(&wal_dirty));
        }
        assert_true(atomic_load(&wal_syncs) >= syncs0 + 20);
        vt_ledger_close(l);
}

static void test_ledger_sth_put_synced(void **state)
{
        struct fx *f = *state;
        session_write(f, 0);
        assert_true(atomic_load(&wal_dirty));
        assert_int_equal(vt_store_ledger_sth_put(f->store, 0, 1, "{\"sth\":\"test\"}", NULL), 0);
        assert_false(atomic_load(&wal_dirty));
        assert_true(atomic_load(&wal_writes) > 0);
}

static uint64_t deferred(struct vt_ledger *l, int i)
{
        json_auto_t *e = json_pack("{s:i}", "n", i);
        uint64_t idx = UINT64_MAX;
        assert_int_equal(vt_ledger_append_flags(l, "test", e, VT_LEDGER_DEFER_SYNC, &idx, NULL), 0);
        return idx;
}

/* waits up to 10 s for the WAL to be synced; true when it was */
static bool synced_within_10s(void)
{
        for (int k = 0; k < 1000 && atomic_load(&wal_dirty); k++)
                usleep(10000);
        return !atomic_load(&wal_dirty);
}

/* VT_LEDGER_DEFER_SYNC: committed (visible, in the WAL) when the append returns, synced
 * defer_ms later by the appender on its own. */
static void test_ledger_deferred_synced_later(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 300);
        for (int i = 0; i < 3; i++) {
                unsigned syncs0 = atomic_load(&wal_syncs);
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                assert_int_equal(deferred(l, i), (uint64_t)i);
                /* not synced yet, but committed: the main connection sees it */
                assert_true(atomic_load(&wal_dirty));
                uint64_t size = 0;
                assert_int_equal(vt_store_ledger_size(f->store, &size, NULL), 0);
                assert_int_equal(size, (uint64_t)i + 1);
                assert_true(synced_within_10s());
                clock_gettime(CLOCK_MONOTONIC, &t1);
                int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
                assert_true(ms >= 250); /* by the timer, not at once */
                assert_int_equal(atomic_load(&wal_syncs), syncs0 + 1);
        }
        vt_ledger_close(l);
}

/* An append that waits for its sync syncs the deferred ones before it too. */
static void test_ledger_deferred_then_synced(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 10000);
        for (int i = 0; i < 10; i += 2) {
                session_write(f, i);
                assert_int_equal(deferred(l, i), (uint64_t)i);
                assert_true(atomic_load(&wal_dirty));
                json_auto_t *e = json_pack("{s:i}", "n", i + 1);
                uint64_t idx = UINT64_MAX;
                assert_int_equal(vt_ledger_append(l, "test", e, &idx, NULL), 0);
                assert_int_equal(idx, (uint64_t)i + 1);
                assert_false(atomic_load(&wal_dirty));
        }
        vt_ledger_close(l);
}

/* A tree head is recorded synced only: asking for one over a deferred entry syncs it, and
 * the head is not visible before its sync has ended (each sync made 100 ms slower: a head
 * committed before its sync would be found in that time). */
static void test_ledger_deferred_head_synced(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 10000);
        atomic_store(&slow_sync, true);
        /* failures are counted and asserted after the close: an assertion with the
         * appender still running would end the test inside its sync */
        int unsynced_before = 0, head_unsynced = 0, no_head = 0;
        for (int i = 0; i < 3; i++) {
                uint64_t idx = deferred(l, i);
                unsynced_before += atomic_load(&wal_dirty);
                _cleanup_free_ char *sth = NULL;
                uint64_t size = 0;
                if (vt_ledger_covering_sth(l, idx, &sth, &size, NULL) < 0 || size <= idx)
                        no_head++;
                head_unsynced += atomic_load(&wal_dirty);
        }
        atomic_store(&slow_sync, false);
        vt_ledger_close(l);
        assert_int_equal(unsynced_before, 3);
        assert_int_equal(no_head, 0);
        assert_int_equal(head_unsynced, 0); /* a head was visible before its sync ended */
        /* by count: the group that makes the head due is synced with it */
        l = open_ledger(f, 2, 10000);
        deferred(l, 3);
        assert_true(atomic_load(&wal_dirty));
        deferred(l, 4);
        assert_false(atomic_load(&wal_dirty));
        uint64_t size = 0;
        _cleanup_free_ char *latest = NULL;
        assert_int_equal(vt_store_ledger_sth_latest(f->store, &size, &latest, NULL), 0);
        assert_int_equal(size, 5);
        vt_ledger_close(l);
}

/* vt_ledger_close syncs what was deferred; defer_ms 0 makes the flag change nothing;
 * flags it does not know are refused. */
static void test_ledger_deferred_close_and_off(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 10000);
        deferred(l, 0);
        assert_true(atomic_load(&wal_dirty));
        json_auto_t *e = json_pack("{s:i}", "n", 1);
        assert_int_equal(vt_ledger_append_flags(l, "test", e, 2, NULL, NULL), VT_E_INVAL);
        vt_ledger_close(l);
        assert_false(atomic_load(&wal_dirty));

        l = open_ledger(f, 1000000, 0);
        for (int i = 1; i < 6; i++) {
                session_write(f, i);
                assert_int_equal(deferred(l, i), (uint64_t)i);
                assert_false(atomic_load(&wal_dirty));
        }
        vt_ledger_close(l);
}

/* The store's own: an unsynced append leaves its frames unsynced, vt_store_ledger_sync
 * syncs them (and a sync with nothing written by the writer yet is no error). */
struct busy_arg {
        struct vt_ledger *l;
        pid_t tid;
        uint64_t idx;
};

static void *append_slowly(void *p)
{
        struct busy_arg *a = p;
        a->tid = gettid();
        json_auto_t *e = json_pack("{s:s}", "who", "first");
        assert_int_equal(vt_ledger_append(a->l, "test", e, &a->idx, NULL), 0);
        return NULL;
}

/* An append to an idle ledger is committed and synced on the caller's own thread, with no
 * hand-off to the appender and back; one that comes while another is being appended waits
 * for the appender, which syncs it after that one. */
static void test_ledger_idle_append_by_caller(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 0);
        for (int i = 0; i < 3; i++) {
                atomic_store(&sync_tid, 0);
                json_auto_t *e = json_pack("{s:i}", "n", i);
                uint64_t idx = UINT64_MAX;
                assert_int_equal(vt_ledger_append(l, "test", e, &idx, NULL), 0);
                assert_int_equal(idx, (uint64_t)i);
                assert_int_equal(atomic_load(&sync_tid), gettid());
                assert_false(atomic_load(&wal_dirty));
        }
        /* the first appends on its thread and syncs for 100 ms; the second, sent once the
         * first has written its frames, finds the ledger busy */
        atomic_store(&slow_sync, true);
        struct busy_arg a = {.l = l};
        unsigned w0 = atomic_load(&wal_writes);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, append_slowly, &a), 0);
        for (int k = 0; k < 1000 && atomic_load(&wal_writes) == w0; k++)
                usleep(1000);
        assert_true(atomic_load(&wal_writes) > w0);
        json_auto_t *e = json_pack("{s:s}", "who", "second");
        uint64_t idx = UINT64_MAX;
        assert_int_equal(vt_ledger_append(l, "test", e, &idx, NULL), 0);
        pid_t by = atomic_load(&sync_tid);
        pthread_join(th, NULL);
        atomic_store(&slow_sync, false);
        assert_int_equal(a.idx, 3);
        assert_int_equal(idx, 4);
        assert_false(atomic_load(&wal_dirty));
        assert_true(by != gettid() && by != a.tid); /* the appender's sync */
        vt_ledger_close(l);
}

/* The ledger appends on the store's one connection, and syncs outside its lock: while an
 * append's sync runs (100 ms here), sessions are written and read on the same store, and
 * the append returns only after its sync. */
static void test_store_free_during_append_sync(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 0);
        json_auto_t *e0 = json_pack("{s:i}", "n", 0);
        assert_int_equal(vt_ledger_append(l, "test", e0, NULL, NULL), 0);
        atomic_store(&slow_sync, true);
        struct busy_arg a = {.l = l};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, append_slowly, &a), 0);
        for (int k = 0; k < 1000 && atomic_load(&in_slow_sync) == 0; k++)
                usleep(1000);
        int during = atomic_load(&in_slow_sync);
        session_write(f, 1);
        struct vt_session got;
        int e = vt_store_session_get(f->store, "00000000000000000000000000000001", 1, &got, NULL);
        uint64_t size = 0;
        int es = vt_store_ledger_size(f->store, &size, NULL);
        int still = atomic_load(&in_slow_sync); /* nothing above waited for the sync */
        pthread_join(th, NULL);
        atomic_store(&slow_sync, false);
        assert_int_equal(during, 1);
        assert_int_equal(e, 0);
        assert_int_equal(es, 0);
        assert_int_equal(size, 2); /* committed, its sync under way */
        assert_int_equal(still, 1);
        assert_int_equal(a.idx, 1);
        assert_int_equal(a.tid, atomic_load(&sync_tid)); /* returned after its own sync */
        vt_ledger_close(l);
}

/* One connection: an append does not empty the page cache that sessions are read
 * through, so reading a session written before it reads nothing from the files again
 * (on a second connection SQLite dropped its whole cache after each of the other's
 * commits). */
static void test_store_cache_kept_across_appends(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = open_ledger(f, 1000000, 0);
        for (int i = 0; i < 5; i++) {
                session_write(f, i);
                json_auto_t *e = json_pack("{s:i}", "n", i);
                assert_int_equal(vt_ledger_append(l, "test", e, NULL, NULL), 0);
                char id[33];
                snprintf(id, sizeof(id), "%032x", (unsigned)i);
                unsigned r0 = atomic_load(&file_reads);
                struct vt_session got;
                assert_int_equal(vt_store_session_get(f->store, id, 1, &got, NULL), 0);
                assert_int_equal(atomic_load(&file_reads), r0);
        }
        vt_ledger_close(l);
}

static void test_store_unsynced_then_sync(void **state)
{
        struct fx *f = *state;
        assert_int_equal(vt_store_ledger_sync(f->store, NULL), 0);
        session_write(f, 0);
        uint8_t leaf[32] = {1};
        struct vt_ledger_row row = {
                .index = 0, .time = 1, .kind = "test", .entry = "{}", .entry_len = 2};
        struct vt_ledger_hash node = {.level = 0, .index = 0};
        memcpy(node.hash, leaf, 32);
        assert_int_equal(vt_store_ledger_append_unsynced(f->store, 0, &row, 1, &node, 1, NULL), 0);
        assert_true(atomic_load(&wal_dirty));
        uint64_t size = 0;
        assert_int_equal(vt_store_ledger_size(f->store, &size, NULL), 0);
        assert_int_equal(size, 1);
        assert_int_equal(vt_store_ledger_sync(f->store, NULL), 0);
        assert_false(atomic_load(&wal_dirty));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_ledger_append_synced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_sth_put_synced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_deferred_synced_later, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_deferred_then_synced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_deferred_head_synced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_deferred_close_and_off, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ledger_idle_append_by_caller, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_free_during_append_sync, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_store_cache_kept_across_appends, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_store_unsynced_then_sync, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
