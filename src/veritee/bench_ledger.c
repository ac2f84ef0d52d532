/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee bench ledger: the ledger on a temporary SQLite store.
 *   receipts  vt_ledger_receipt_build (entry and O(log^2 n) tree nodes from the store)
 *             and vt_ledger_receipt_verify (one ES256 check, one inclusion proof), each
 *             per second, at 10^3, 10^4, 10^5 and 10^6 entries. The ledger is filled in
 *             bulk (vt_store_ledger_append of big batches with the nodes from
 *             vt_merkle_frontier_push, one transaction each) and one tree head is signed
 *             at each size.
 *   appends   durable vt_ledger_append calls per second (group commit: each returns once
 *             its entry is committed and synced) from 1 and from 64 threads, on top of
 *             that ledger.
 * Never on a database that exists: --db names a new file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "token/jwt.h"
#include "util/macro.h"

#define USAGE                                                                                      \
        "usage: veritee bench ledger [--seconds N] [--db FILE] [--max-entries N] [--json]\n"       \
        "  N seconds per figure (default 2); FILE a new SQLite file (default: a temporary\n"       \
        "  one, removed after); receipts at 10^3..10^6 entries, up to --max-entries"

#define BATCH      50000u
#define RING       256u
#define MAX_THREAD 64

struct bench {
        struct vt_store *store;
        struct vt_signer *signer;
        json_t *jwks;
        struct vt_merkle_frontier f;
        double seconds;
        bool json;
};

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cpu_s: the CPU time (user and system) of the whole process so far */
static double cpu_s(void)
{
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) != 0)
                return 0;
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* xorshift64: the indexes to ask receipts for (nothing secret) */
static uint64_t next_rand(uint64_t *s)
{
        uint64_t x = *s;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return *s = x;
}

static int fail(const char *what, const struct vt_diag *d, int e)
{
        fprintf(stderr, "veritee: bench ledger: %s: %s\n", what,
                d->msg[0] ? d->msg : vt_strerror(e));
        return EXIT_REJECTED;
}

static void figure(const struct bench *b, const char *op, const char *what, uint64_t entries,
                   int threads, double per_sec)
{
        if (b->json)
                printf("{\"op\":\"%s\",\"entries\":%" PRIu64 ",\"threads\":%d,\"per_sec\":%.1f}\n",
                       op, entries, threads, per_sec);
        else
                printf("%-40s %12.1f /s\n", what, per_sec);
        fflush(stdout);
}

/* fill appends entries in bulk up to size (canonical JSON of about 200 bytes, like a
 * release decision), then signs a tree head of that size. */
static int fill(struct bench *b, uint64_t size, char **ret_sth)
{
        size_t cap = BATCH;
        _cleanup_free_ struct vt_ledger_row *rows = calloc(cap, sizeof(*rows));
        _cleanup_free_ struct vt_ledger_hash *nodes = calloc(2 * cap + 64, sizeof(*nodes));
        _cleanup_free_ char *text = malloc(cap * 256);
        struct vt_diag d = {0};
        int e;
        if (!rows || !nodes || !text)
                return fail("fill", &d, VT_E_NOMEM);
        int64_t t = now_ms();
        while (b->f.size < size) {
                size_t n = size - b->f.size > cap ? cap : (size_t)(size - b->f.size), m = 0;
                uint64_t first = b->f.size;
                for (size_t i = 0; i < n; i++) {
                        char *p = text + i * 256;
                        uint64_t ix = first + i;
                        int k = snprintf(p, 256,
                                         "{\"decision\":\"released\",\"evidence\":\"%016" PRIx64
                                         "%016" PRIx64 "%016" PRIx64 "%016" PRIx64
                                         "\",\"i\":%" PRIu64 ",\"kind\":\"bench\",\"resource\":"
                                         "\"default/bench/key\",\"time\":%" PRId64 "}",
                                         ix * 0x9e3779b97f4a7c15u, ix, ~ix, ix ^ 0x5555u, ix, t);
                        rows[i] = (struct vt_ledger_row){.index = ix,
                                                         .time = t,
                                                         .kind = "bench",
                                                         .entry = p,
                                                         .entry_len = (size_t)k};
                        vt_hash leaf;
                        struct vt_merkle_node out[VT_MERKLE_MAX_LEVEL + 1];
                        if ((e = vt_merkle_leaf_hash(p, (size_t)k, leaf)) < 0)
                                return fail("fill", &d, e);
                        int c = vt_merkle_frontier_push(&b->f, leaf, out);
                        if (c < 0)
                                return fail("fill", &d, c);
                        for (int j = 0; j < c; j++) {
                                nodes[m].level = out[j].level;
                                nodes[m].index = out[j].index;
                                memcpy(nodes[m++].hash, out[j].hash, VT_MERKLE_HASH_LEN);
                        }
                }
                if ((e = vt_store_ledger_append(b->store, first, rows, n, nodes, m, &d)) < 0)
                        return fail("fill", &d, e);
        }
        struct vt_sth h = {.size = b->f.size, .time = now_ms()};
        if ((e = vt_merkle_frontier_root(&b->f, h.root)) < 0)
                return fail("root", &d, e);
        char *sth = NULL;
        if ((e = vt_sth_sign(b->signer, &h, &sth)) < 0)
                return fail("sign a tree head", &d, e);
        if ((e = vt_store_ledger_sth_put(b->store, h.size, h.time, sth, &d)) < 0) {
                free(sth);
                return fail("store a tree head", &d, e);
        }
        *ret_sth = sth;
        return 0;
}

static int receipts(struct bench *b, uint64_t size, const char *sth)
{
        char *ring[RING] = {0};
        size_t lens[RING] = {0};
        uint64_t seed = 0x243f6a8885a308d3u ^ size, built = 0, checked = 0;
        struct vt_diag d = {0};
        int e = 0, rc = 0;
        double t0 = now_s(), end = t0 + b->seconds, el;
        while ((el = now_s()) < end || built < RING) {
                uint64_t ix = next_rand(&seed) % size;
                json_auto_t *r = NULL;
                if ((e = vt_ledger_receipt_build(b->store, ix, sth, size, &r, &d)) < 0) {
                        rc = fail("receipt build", &d, e);
                        goto out;
                }
                size_t k = built % RING;
                free(ring[k]);
                ring[k] = json_dumps(r, JSON_COMPACT);
                lens[k] = ring[k] ? strlen(ring[k]) : 0;
                built++;
        }
        double build_rate = (double)built / (el - t0);
        t0 = now_s();
        end = t0 + b->seconds;
        while ((el = now_s()) < end) {
                size_t k = checked % RING;
                if ((e = vt_ledger_receipt_verify(ring[k], lens[k], b->jwks, NULL, NULL, &d)) < 0) {
                        rc = fail("receipt verify", &d, e);
                        goto out;
                }
                checked++;
        }
        char what[80];
        snprintf(what, sizeof(what), "receipt build at %" PRIu64 " entries", size);
        figure(b, "ledger_receipt_build", what, size, 1, build_rate);
        snprintf(what, sizeof(what), "receipt verify at %" PRIu64 " entries", size);
        figure(b, "ledger_receipt_verify", what, size, 1, (double)checked / (el - t0));
out:
        for (size_t i = 0; i < RING; i++)
                free(ring[i]);
        return rc;
}

struct appender {
        struct vt_ledger *l;
        double end;
        uint64_t done;
        int err;
        struct vt_diag d;
        pthread_t th;
};

static void *append_loop(void *p)
{
        struct appender *a = p;
        json_auto_t *e =
                json_pack("{s:s, s:s}", "decision", "released", "resource", "default/bench/key");
        while (e && now_s() < a->end) {
                int r = vt_ledger_append(a->l, "bench", e, NULL, &a->d);
                if (r < 0) {
                        a->err = r;
                        break;
                }
                a->done++;
        }
        return NULL;
}

static int appends(struct bench *b, struct vt_ledger *l, int threads)
{
        struct appender a[MAX_THREAD];
        int started = 0, rc = 0;
        uint64_t total = 0;
        double t0 = now_s(), c0 = cpu_s();
        for (; started < threads; started++) {
                a[started] = (struct appender){.l = l, .end = t0 + b->seconds};
                if (pthread_create(&a[started].th, NULL, append_loop, &a[started]) != 0)
                        break;
        }
        for (int i = 0; i < started; i++) {
                pthread_join(a[i].th, NULL);
                total += a[i].done;
                if (a[i].err && !rc)
                        rc = fail("append", &a[i].d, a[i].err);
        }
        double el = now_s() - t0, cpu = cpu_s() - c0;
        if (rc)
                return rc;
        if (started < threads) {
                fprintf(stderr, "veritee: bench ledger: cannot start %d threads\n", threads);
                return EXIT_REJECTED;
        }
        char what[80];
        snprintf(what, sizeof(what), "durable appends, %d thread%s", threads,
                 threads == 1 ? "" : "s");
        figure(b, "ledger_append", what, b->f.size, threads, (double)total / el);
        /* what an append costs the two cores, whatever else runs beside: the rate a
         * busy machine gives is a share of them */
        double us = total ? cpu * 1e6 / (double)total : 0;
        if (b->json)
                printf("{\"op\":\"ledger_append_cpu\",\"entries\":%" PRIu64
                       ",\"threads\":%d,\"us_per_append\":%.1f}\n",
                       b->f.size, threads, us);
        else
                printf("%-40s %12.1f us\n", "  CPU (user + system) per append", us);
        fflush(stdout);
        return 0;
}

static int run(struct bench *b, uint64_t max_entries)
{
        static const uint64_t sizes[] = {1000, 10000, 100000, 1000000};
        int rc = 0;
        bool any = false;
        for (size_t i = 0; rc == 0 && i <= ELEMENTSOF(sizes); i++) {
                uint64_t size = i < ELEMENTSOF(sizes) ? sizes[i] : max_entries;
                if (i == ELEMENTSOF(sizes) && (any || max_entries == 0))
                        break; /* a --max-entries below 1000 is measured alone */
                if (size > max_entries)
                        continue;
                _cleanup_free_ char *sth = NULL;
                double t0 = now_s();
                if ((rc = fill(b, size, &sth)) != 0)
                        break;
                if (!b->json)
                        fprintf(stderr, "(filled to %" PRIu64 " entries in %.1f s)\n", size,
                                now_s() - t0);
                rc = receipts(b, size, sth);
                any = true;
        }
        if (rc)
                return rc;
        struct vt_ledger *l = NULL;
        struct vt_diag d = {0};
        struct vt_ledger_opts o = {.sth_every = 1000, .sth_ms = 1000};
        int e = vt_ledger_open(b->store, b->signer, &o, &l, &d);
        if (e < 0)
                return fail("open the ledger", &d, e);
        rc = appends(b, l, 1);
        if (rc == 0)
                rc = appends(b, l, MAX_THREAD);
        vt_ledger_close(l);
        return rc;
}

/* remove_store removes the database and its WAL, shared-memory and key files. */
static void remove_store(const char *db, const char *key)
{
        static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
        char p[4200];
        for (size_t i = 0; i < ELEMENTSOF(sfx); i++) {
                snprintf(p, sizeof(p), "%.4096s%s", db, sfx[i]);
                unlink(p);
        }
        unlink(key);
}

int cmd_bench_ledger(int argc, char **argv)
{
        static const struct option opts[] = {
                {"seconds", required_argument, NULL, 's'},
                {"db", required_argument, NULL, 'd'},
                {"max-entries", required_argument, NULL, 'm'},
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct bench b = {.seconds = 2};
        const char *db = NULL;
        uint64_t max_entries = 1000000;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                char *end = NULL;
                switch (c) {
                case 's':
                        b.seconds = strtod(optarg, &end);
                        if (!end || *end || !(b.seconds > 0 && b.seconds <= 3600))
                                return cli_usage_error("--seconds: expected 0 < N <= 3600");
                        break;
                case 'd':
                        db = optarg;
                        break;
                case 'm': {
                        errno = 0;
                        unsigned long long v = optarg[0] >= '0' && optarg[0] <= '9'
                                                       ? strtoull(optarg, &end, 10)
                                                       : 0;
                        if (!end || *end || errno || v < 1 || v > 100000000)
                                return cli_usage_error("--max-entries: expected 1..100000000");
                        max_entries = v;
                        break;
                }
                case 'j':
                        b.json = true;
                        break;
                case 'h':
                        puts(USAGE);
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind != argc)
                return cli_usage_error("bench ledger: unexpected argument \"%s\"", argv[optind]);

        char dir[2048] = "", dbp[4096], keyp[4200];
        struct stat st;
        if (db) {
                if (lstat(db, &st) == 0)
                        return cli_usage_error("bench ledger: --db %s exists; the benchmark "
                                               "only writes a new file",
                                               db);
                snprintf(dbp, sizeof(dbp), "%.4000s", db);
        } else {
                const char *tmp = getenv("TMPDIR");
                snprintf(dir, sizeof(dir), "%.1900s/vt-bench-ledger-XXXXXX",
                         tmp && *tmp ? tmp : "/tmp");
                if (!mkdtemp(dir)) {
                        fprintf(stderr, "veritee: bench ledger: cannot make %s: %s\n", dir,
                                strerror(errno));
                        return EXIT_USAGE;
                }
                snprintf(dbp, sizeof(dbp), "%s/ledger.sqlite", dir);
        }
        snprintf(keyp, sizeof(keyp), "%.4096s.key", dbp);
        struct vt_diag d = {0};
        int rc = EXIT_USAGE, e;
        if ((e = vt_store_open(dbp, &b.store, &d)) < 0)
                fail("open the store", &d, e);
        else if ((e = vt_signer_load_or_create_as(keyp, "ledger key", &b.signer, &d)) < 0)
                fail("make a ledger key", &d, e);
        else if (!(b.jwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(b.signer))))
                fail("make a ledger key", &d, VT_E_NOMEM);
        else
                rc = run(&b, max_entries);
        json_decref(b.jwks);
        vt_signer_free(b.signer);
        vt_store_close(b.store);
        if (dir[0]) {
                remove_store(dbp, keyp);
                rmdir(dir);
        }
        return rc;
}
