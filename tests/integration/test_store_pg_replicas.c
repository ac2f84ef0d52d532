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
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto/seal.h"
#include "pgtest.h"
#include "store/store.h"
#include "testutil.h"
#include "util/hex.h"
#include "veritee/sim.h"
#include "vtdtest.h"

static struct vt_sim_guest guest;
static struct vtt_pg *pg;
static struct server A, B;
static char dsn[256];

static int setup(void **state)
{
        (void)state;
        if (vtt_setup_sim("pgreplicas", &guest) < 0)
                return -1;
        if (vtt_pg_createdb(pg, "veritee") < 0)
                return -1;
        char m[97], rv[600], path[512], kek[512], cfg[2048];
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
                "limits:\n  threads: 2\nsecrets:\n  kek_file: %s/kek\n"
                "store:\n  backend: postgres\n";
        snprintf(cfg, sizeof(cfg), common, vtt_dir, "a", vtt_dir, vtt_simdir, vtt_dir);
        snprintf(cfg + strlen(cfg), sizeof(cfg) - strlen(cfg), "  dsn_file: %s\n", path);
        server_start(&A, "a", cfg);
        /* B: the DSN from the environment it inherits */
        setenv("VERITEE_PG_DSN", dsn, 1);
        snprintf(cfg, sizeof(cfg), common, vtt_dir, "b", vtt_dir, vtt_simdir, vtt_dir);
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

int main(void)
{
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        pg = vtt_pg_start(); /* or exits: skipped, or failed in CI */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pg_replicas_session_moves),
                cmocka_unit_test(test_pg_replicas_rotate_kek),
                cmocka_unit_test(test_pg_replicas_database_restart),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
