/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two real veriteed replicas on one PostgreSQL database (a real server the test starts,
 * tests/helpers/pgtest.h): a session started on one is finished on the other, its nonce
 * is spent for both, `veritee admin rotate-kek` reaches the same database, and a restart
 * of the database is survived. One replica reads the DSN from store.dsn_file, the other
 * from VERITEE_PG_DSN.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "crypto/seal.h"
#include "token/admin.h"
#include "pgtest.h"
#include "store/store.h"
#include "testutil.h"
#include "util/hex.h"
#include "veritee/sim.h"
#include "vtdtest.h"

static struct vt_sim_guest guest;
static struct vtt_pg *pg;
static struct server A, B;
static char dsn[256], admin_authz[1024];

static int setup(void **state)
{
        (void)state;
        if (vtt_setup_sim("pgreplicas", &guest) < 0)
                return -1;
        if (vtt_pg_createdb(pg, "veritee") < 0)
                return -1;
        char m[97], rv[600], path[512], kek[512], cfg[4096];
        struct vt_diag d = {0};
        vt_hex_encode(guest.measurement, 48, m);
        snprintf(rv, sizeof(rv),
                 "{\"sim\":{\"measurements\":[\"%s\"],\"minimum_tcb\":{\"microcode\":100}}}", m);
        snprintf(path, sizeof(path), "%s/rv.json", vtt_dir);
        write_text(path, rv);
        vtt_pg_dsn(pg, "veritee", dsn, sizeof(dsn));
        snprintf(path, sizeof(path), "%s/pg.dsn", vtt_dir);
        write_text(path, dsn);
        if (chmod(path, 0600) != 0)
                return -1;
        snprintf(kek, sizeof(kek), "%s/kek", vtt_dir);
        if (vt_kek_generate(kek, &d) < 0) {
                fprintf(stderr, "kek: %s\n", d.msg);
                return -1;
        }
        static const char common[] =
                "listen: 127.0.0.1:0\nstate_dir: %s/%s\nsession:\n  ttl_seconds: 30\n"
                "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                "  pccs_url: http://127.0.0.1:9\n  kds_url: http://127.0.0.1:9\n"
                "limits:\n  threads: 2\n  max_sessions_per_client: 1000\n"
                "  max_connections_per_client: 256\nsecrets:\n  kek_file: %s/kek\n"
                "admin:\n  keys: [%s/admin.pub]\n"
                /* keys shared through configuration, not made per replica */
                "token:\n  signing_key: %s/token.pem\nledger:\n  signing_key: %s/ledger.pem\n"
                "  public: true\n  sth_every_ms: 200\n"
                "store:\n  backend: postgres\n";
        char key[512], pub[512];
        snprintf(key, sizeof(key), "%s/admin.key", vtt_dir);
        snprintf(pub, sizeof(pub), "%s/admin.pub", vtt_dir);
        if (vt_admin_keygen(key, pub, &d) < 0)
                return -1;
        char *jwt = NULL;
        if (vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "replicas", &jwt, &d) < 0)
                return -1;
        snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", jwt);
        free(jwt);
#define CFG_ARGS(name) vtt_dir, name, vtt_dir, vtt_simdir, vtt_dir, vtt_dir, vtt_dir, vtt_dir
        snprintf(cfg, sizeof(cfg), common, CFG_ARGS("a"));
        snprintf(cfg + strlen(cfg), sizeof(cfg) - strlen(cfg), "  dsn_file: %s\n", path);
        server_start(&A, "a", cfg);
        /* B: the DSN from the environment it inherits */
        setenv("VERITEE_PG_DSN", dsn, 1);
        snprintf(cfg, sizeof(cfg), common, CFG_ARGS("b"));
        server_start(&B, "b", cfg);
        unsetenv("VERITEE_PG_DSN");
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        vt_test_sh("rm -rf '%s'", vtt_dir);
        curl_global_cleanup();
        return 0;
}

static void expect_attest(const struct server *s, const char *body, const char *cookie, long status,
                          const char *reason)
{
        struct http h = post(s, "/kbs/v0/attest", body, cookie);
        if (h.status != status)
                fail_msg("status %ld, want %ld: %s", h.status, status, h.body ? h.body : "");
        if (reason && !log_has(s, reason))
                fail_msg("log lacks \"%s\"", reason);
        free(h.body);
}

static bool atoi_ok(const char *s)
{
        if (!*s || strlen(s) > 4)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static long status_of(const struct server *s, const char *path)
{
        struct http h = request(s, path, NULL, 0, NULL);
        free(h.body);
        return h.status;
}

/* auth on one replica, attest on the other; the nonce is then spent on both. */
static void test_pg_replicas_session_moves(void **state)
{
        (void)state;
        char cookie[128];
        json_auto_t *jwk = new_jwk();
        for (int i = 0; i < 4; i++) {
                const struct server *first = i % 2 ? &B : &A, *second = i % 2 ? &A : &B;
                char *nonce = auth(first, "sim", cookie);
                char *body = attest_body(nonce, &guest, jwk, jwk);
                expect_attest(second, body, cookie, 200, NULL);
                expect_attest(first, body, cookie, 401, "nonce already used");
                expect_attest(second, body, cookie, 401, NULL);
                free(body);
                free(nonce);
        }
        assert_int_equal(status_of(&A, "/readyz"), 200);
        assert_int_equal(status_of(&B, "/readyz"), 200);
}

/* rotate-kek with replica A's configuration rotates the KEK in the shared database. */
static void test_pg_replicas_rotate_kek(void **state)
{
        (void)state;
        char newk[512], cfg[512];
        struct vt_diag d = {0};
        snprintf(newk, sizeof(newk), "%s/kek2", vtt_dir);
        snprintf(cfg, sizeof(cfg), "%s/a.yaml", vtt_dir);
        assert_int_equal(vt_kek_generate(newk, &d), 0);
        struct vt_kek *k2 = NULL;
        assert_int_equal(vt_kek_load(newk, &k2, &d), 0);
        assert_int_equal(vt_test_sh("'%s' admin rotate-kek '%s' --config '%s' >/dev/null",
                                    bin("veritee"), newk, cfg),
                         0);
        struct vt_store *st = NULL;
        if (vt_store_open_with(&vt_store_postgres_ops, dsn, &st, &d) < 0)
                fail_msg("open: %s", d.msg);
        char id[32];
        int64_t gen = 0;
        assert_int_equal(vt_store_kek_current(st, id, &gen, NULL), 0);
        assert_string_equal(id, vt_kek_id(k2));
        assert_int_equal(gen, 2);
        vt_store_close(st);
        vt_kek_free(k2);
        assert_int_equal(status_of(&A, "/readyz"), 200);
        assert_int_equal(status_of(&B, "/readyz"), 200);
}

/* The database restarts: while it is down /readyz says 503 (promptly); afterwards both
 * replicas serve again without being restarted themselves. */
static void test_pg_replicas_database_restart(void **state)
{
        (void)state;
        char cookie[128];
        json_auto_t *jwk = new_jwk();
        assert_int_equal(vtt_pg_stop(pg), 0);
        long down = status_of(&A, "/readyz");
        int up = vtt_pg_restart(pg);
        assert_int_equal(up, 0);
        assert_int_equal(down, 503);
        assert_int_equal(status_of(&A, "/readyz"), 200);
        assert_int_equal(status_of(&B, "/readyz"), 200);
        char *nonce = auth(&B, "sim", cookie);
        char *body = attest_body(nonce, &guest, jwk, jwk);
        expect_attest(&A, body, cookie, 200, NULL);
        free(body);
        free(nonce);
}

/*
 * Load through both replicas, with the database restarted in the middle: 20 clients, each
 * with its own attested token, fetch secrets alternating between the replicas. While the
 * database is down a request gets 503 with Retry-After, never a 500 or a hang; nothing
 * acknowledged is lost (every released secret has its ledger entry, whichever replica
 * sent it), service resumes by itself, and the two replicas' appends form one ledger with
 * no gap, fork or duplicate index.
 */
#define CLIENTS 20
#define MAX_IDS 200000

static pthread_mutex_t ids_lock = PTHREAD_MUTEX_INITIALIZER;
static char (*ids)[24];
static size_t n_ids;

struct client {
        const struct server *s[2]; /* alternated */
        char authz[8192];
        const atomic_bool *stop;
        unsigned ok, unavailable, other;
        long other_status;
};

static void *client_main(void *arg)
{
        struct client *c = arg;
        char path[64], rid[24];
        for (unsigned i = 0; !atomic_load(c->stop); i++) {
                snprintf(path, sizeof(path), "/kbs/v0/resource/load/key/k%u", i % 4);
                long st = try_get(c->s[i % 2], path, c->authz, rid);
                if (st == 200 && rid[0]) {
                        pthread_mutex_lock(&ids_lock);
                        if (n_ids < MAX_IDS)
                                memcpy(ids[n_ids++], rid, 24);
                        pthread_mutex_unlock(&ids_lock);
                        c->ok++;
                } else if (st == 503) {
                        c->unavailable++;
                        usleep(100 * 1000); /* Retry-After, shortened */
                } else {
                        c->other++;
                        c->other_status = st;
                }
        }
        return NULL;
}

static void test_pg_replicas_load_and_restart(void **state)
{
        (void)state;
        const char *env = getenv("VT_REPLICAS_SECONDS");
        int seconds = env && atoi_ok(env) ? (int)strtoul(env, NULL, 10) : 30;
        static const char pol[] =
                "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"}]}";
        for (int k = 0; k < 4; k++) {
                char path[64], body[256];
                snprintf(path, sizeof(path), "/kbs/v0/resource-policy/load/key/k%d", k);
                int n = snprintf(body, sizeof(body), "%s%csecret-%d", pol, 0, k);
                struct http h = request_full(k % 2 ? &A : &B, "PUT", path, body, (size_t)n, NULL,
                                             admin_authz);
                assert_int_equal(h.status, 200);
                free(h.body);
        }
        ids = calloc(MAX_IDS, sizeof(*ids));
        assert_non_null(ids);
        atomic_bool stop = false;
        static struct client cl[CLIENTS];
        pthread_t th[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
                json_auto_t *jwk = new_jwk();
                /* attested on one replica, used on both: one token key for both */
                char *tok = attest_token(i % 2 ? &A : &B, &guest, jwk);
                snprintf(cl[i].authz, sizeof(cl[i].authz), "Bearer %s", tok);
                free(tok);
                cl[i].stop = &stop;
                cl[i].s[0] = &A;
                cl[i].s[1] = &B;
                assert_int_equal(pthread_create(&th[i], NULL, client_main, &cl[i]), 0);
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        sleep((unsigned)(seconds / 3));
        assert_int_equal(vtt_pg_stop(pg), 0);
        long down_ready = status_of(&A, "/readyz");
        sleep(3);
        assert_int_equal(vtt_pg_restart(pg), 0);
        sleep((unsigned)(seconds - seconds / 3 - 3 > 0 ? seconds - seconds / 3 - 3 : 1));
        atomic_store(&stop, true);
        unsigned ok = 0, unavailable = 0, other = 0;
        long other_status = 0;
        for (int i = 0; i < CLIENTS; i++) {
                pthread_join(th[i], NULL);
                ok += cl[i].ok;
                unavailable += cl[i].unavailable;
                other += cl[i].other;
                if (cl[i].other)
                        other_status = cl[i].other_status;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        print_message("replicas: %u releases in %.1f s through 2 replicas on PostgreSQL (%.0f/s, "
                      "the database down for 3 s of it), %u answers 503 while it was down, %u "
                      "other\n",
                      ok, dt, ok / dt, unavailable, other);
        assert_int_equal(down_ready, 503);
        if (other)
                fail_msg("%u answers neither 200 nor 503 (the last %ld)", other, other_status);
        assert_true(unavailable > 0);
        assert_true(ok > 100);
        /* service resumed by itself */
        assert_int_equal(status_of(&A, "/readyz"), 200);
        assert_int_equal(status_of(&B, "/readyz"), 200);
        /* one ledger, verified, holding every release either replica acknowledged */
        json_auto_t *entries = ledger_audit(&B, NULL, NULL);
        for (size_t i = 0; i < n_ids; i++)
                if (!ledger_find(entries, "release", ids[i]))
                        fail_msg("release %s was sent but is not in the ledger", ids[i]);
        print_message("replicas: the ledger verifies: %zu entries, every one of the %zu releases "
                      "in it\n",
                      json_array_size(entries), n_ids);
        free(ids);
}

/* run_load runs CLIENTS clients against the replicas s[0], s[1] (the same one twice for a
 * single replica) for seconds and returns the releases per second. */
static double run_load(const struct server *s0, const struct server *s1, int seconds)
{
        atomic_bool stop = false;
        static struct client cl[CLIENTS];
        pthread_t th[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
                json_auto_t *jwk = new_jwk();
                char *tok = attest_token(i % 2 ? s1 : s0, &guest, jwk);
                memset(&cl[i], 0, sizeof(cl[i]));
                snprintf(cl[i].authz, sizeof(cl[i].authz), "Bearer %s", tok);
                free(tok);
                cl[i].stop = &stop;
                cl[i].s[0] = s0;
                cl[i].s[1] = s1;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < CLIENTS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, client_main, &cl[i]), 0);
        sleep((unsigned)seconds);
        atomic_store(&stop, true);
        unsigned ok = 0, other = 0;
        for (int i = 0; i < CLIENTS; i++) {
                pthread_join(th[i], NULL);
                ok += cl[i].ok;
                other += cl[i].other + cl[i].unavailable;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        assert_int_equal(other, 0);
        return ok / dt;
}

/* VT_REPLICAS_BENCH=1 (bench/replicas.sh): releases per second through the two replicas
 * on PostgreSQL, then through one replica on SQLite with the same clients and keys, in
 * the same run; one JSON line. A measurement, not a test: nothing is asserted about it. */
static void bench_replicas(void)
{
        const char *env = getenv("VT_REPLICAS_SECONDS");
        int seconds = env && atoi_ok(env) ? (int)strtoul(env, NULL, 10) : 10;
        static const char pol[] =
                "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"}]}";
        struct server L;
        char cfg[4096];
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/l\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "limits:\n  threads: 2\n  max_sessions_per_client: 1000\n"
                 "  max_connections_per_client: 256\nsecrets:\n  kek_file: %s/kek\n"
                 "admin:\n  keys: [%s/admin.pub]\ntoken:\n  signing_key: %s/token.pem\n",
                 vtt_dir, vtt_dir, vtt_simdir, vtt_dir, vtt_dir, vtt_dir);
        server_start(&L, "l", cfg);
        ids = calloc(MAX_IDS, sizeof(*ids));
        for (int k = 0; k < 4; k++) {
                char path[64], body[256];
                snprintf(path, sizeof(path), "/kbs/v0/resource-policy/load/key/k%d", k);
                int n = snprintf(body, sizeof(body), "%s%csecret-%d", pol, 0, k);
                for (int w = 0; w < 2; w++) {
                        struct http h = request_full(w ? &L : &A, "PUT", path, body, (size_t)n,
                                                     NULL, admin_authz);
                        assert_int_equal(h.status, 200);
                        free(h.body);
                }
        }
        double pg2 = run_load(&A, &B, seconds);
        n_ids = 0;
        double sq1 = run_load(&L, &L, seconds);
        printf("{\"clients\":%d,\"seconds\":%d,\"postgres_2_replicas_per_sec\":%.1f,"
               "\"sqlite_1_replica_per_sec\":%.1f,\"ratio\":%.3f}\n",
               CLIENTS, seconds, pg2, sq1, sq1 > 0 ? pg2 / sq1 : 0);
        server_stop(&L);
        free(ids);
}

int main(void)
{
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        pg = vtt_pg_start(); /* or exits: skipped, or failed in CI */
        if (getenv("VT_REPLICAS_BENCH")) {
                if (setup(NULL) < 0)
                        return 1;
                bench_replicas();
                teardown(NULL);
                return 0;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pg_replicas_session_moves),
                cmocka_unit_test(test_pg_replicas_rotate_kek),
                cmocka_unit_test(test_pg_replicas_database_restart),
                cmocka_unit_test(test_pg_replicas_load_and_restart),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
