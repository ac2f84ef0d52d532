/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes of secrets against the real veriteed: `veritee admin rotate-kek` while the server
 * runs and takes puts (issue 9: a secret stored between a rotation and the server's reload
 * was sealed under a key that no longer existed), and a put with a policy, which changes
 * value and policy together or neither.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "crypto/jwe.h"
#include "crypto/seal.h"
#include "store/store.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/hex.h"
#include "vtdtest.h"

static struct vt_sim_guest guest;
static struct server S;
static char cfg_text[2048], cfg_path[512], kek_path[512], tok_admin[512], admin_authz[2048];
static unsigned restarts;

static const char *policy_affirming_sim =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
        "{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true}]}";

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static int setup(void **state)
{
        char p[512], key[512], pub[512], measurement[97];
        struct vt_diag d = {0};
        char *jwt = NULL;
        (void)state;
        if (vtt_setup_sim("writes", &guest) < 0)
                return -1;
        vt_hex_encode(guest.measurement, 48, measurement);
        path_in(kek_path, sizeof(kek_path), "kek");
        path_in(key, sizeof(key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        path_in(tok_admin, sizeof(tok_admin), "admin.jwt");
        if (vt_kek_generate(kek_path, &d) < 0 || vt_admin_keygen(key, pub, &d) < 0 ||
            vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "test", &jwt, &d) < 0)
                return -1;
        write_text(tok_admin, jwt);
        snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", jwt);
        free(jwt);
        char rv[256];
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        snprintf(cfg_text, sizeof(cfg_text),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n",
                 vtt_dir, vtt_dir, vtt_simdir, kek_path, pub);
        path_in(cfg_path, sizeof(cfg_path), "writes.yaml");
        server_start(&S, "writes", cfg_text);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        if (!getenv("VT_KEEP_TMP") && vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

static void restart(void)
{
        char name[32];
        server_stop(&S);
        snprintf(name, sizeof(name), "writes-%u", ++restarts);
        server_start(&S, name, cfg_text);
}

/* admin sends one admin request and checks its status. */
static void admin(const char *method, const char *path, const void *body, size_t len, long want)
{
        struct http h = request_full(&S, method, path, body, len, NULL, admin_authz);
        if (h.status != want)
                fail_msg("%s %s: HTTP %ld, want %ld: %s", method, path, h.status, want,
                         h.body ? h.body : "");
        free(h.body);
}

static void put_secret(const char *path, const char *value)
{
        char url[512];
        snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
        admin("POST", url, value, strlen(value), 200);
        snprintf(url, sizeof(url), "/kbs/v0/resource-policy/%s", path);
        admin("PUT", url, policy_affirming_sim, strlen(policy_affirming_sim), 200);
}

/* fetch attests with the simulator, fetches path and decrypts the JWE: the HTTP status,
 * and the value in *ret (malloc'd, NUL-terminated) on 200. */
static long fetch(const char *path, char **ret)
{
        EVP_PKEY *k = NULL;
        json_auto_t *jwk = new_jwk_key((void **)&k);
        char *token = attest_token(&S, &guest, jwk);
        char url[512], *authz = NULL;
        struct vt_diag d = {0};
        assert_true(asprintf(&authz, "Bearer %s", token) > 0);
        snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
        struct http h = request_full(&S, "GET", url, NULL, 0, NULL, authz);
        long status = h.status;
        *ret = NULL;
        if (status == 200) {
                json_auto_t *jwe = json_loads(h.body, 0, NULL);
                uint8_t *plain = NULL;
                size_t pl = 0;
                assert_non_null(jwe);
                if (vt_jwe_decrypt(k, jwe, &plain, &pl, &d) < 0)
                        fail_msg("JWE of %s: %s", path, d.msg);
                *ret = strndup((const char *)plain, pl);
                OPENSSL_clear_free(plain, pl);
        }
        free(h.body);
        free(authz);
        free(token);
        EVP_PKEY_free(k);
        return status;
}

static void expect_secret(const char *path, const char *want)
{
        char *got = NULL;
        long st = fetch(path, &got);
        if (st != 200)
                fail_msg("fetch %s: HTTP %ld, want 200 (log %s)", path, st, S.log);
        assert_string_equal(got, want);
        free(got);
}

/* rotate runs rotate-kek to a new key made as DIR/name; returns its exit status. */
static int rotate(const char *name, struct vt_kek **ret_new)
{
        char p[512];
        struct vt_diag d = {0};
        path_in(p, sizeof(p), name);
        assert_int_equal(vt_kek_generate(p, &d), 0);
        assert_int_equal(vt_kek_load(p, ret_new, &d), 0);
        return vt_test_sh("'%s' admin rotate-kek '%s' --config '%s' >/dev/null 2>>'%s/rotate.err'",
                          bin("veritee"), p, cfg_path, vtt_dir);
}

/* assert_kek_file_is: secrets.kek_file holds k, and no staged key is left. */
static void assert_kek_file_is(const struct vt_kek *k)
{
        struct vt_kek *f = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_kek_load(kek_path, &f, &d), 0);
        assert_string_equal(vt_kek_id(f), vt_kek_id(k));
        vt_kek_free(f);
        /* nothing staged is left beside it */
        assert_int_equal(vt_test_sh("ls '%s' | grep -q '^kek\\.[0-9a-f]\\{16\\}'", vtt_dir), 1);
}

/* Issue 9: put A, rotate (the CLI, server running), put B, fetch A, fetch B; restart;
 * fetch both; rotate again. Before the fix B was sealed under the retired KEK: fetch B
 * answered 500 for ever and every later rotation failed. */
static void test_writes_rotate_under_running_server(void **state)
{
        struct vt_kek *k2 = NULL, *k3 = NULL;
        (void)state;
        put_secret("default/key/a", "value of A");
        assert_int_equal(rotate("kek2", &k2), 0);
        assert_kek_file_is(k2);
        put_secret("default/key/b", "value of B");
        expect_secret("default/key/a", "value of A");
        expect_secret("default/key/b", "value of B");
        restart();
        expect_secret("default/key/a", "value of A");
        expect_secret("default/key/b", "value of B");
        assert_int_equal(rotate("kek3", &k3), 0);
        assert_kek_file_is(k3);
        expect_secret("default/key/a", "value of A");
        expect_secret("default/key/b", "value of B");
        /* the store says so too */
        char db[512], cur[32];
        struct vt_store *st = NULL;
        struct vt_diag d = {0};
        int64_t gen = 0;
        size_t n = 0;
        snprintf(db, sizeof(db), "%s/state/veritee.db", vtt_dir);
        assert_int_equal(vt_store_open(db, &st, &d), 0);
        assert_int_equal(vt_store_kek_current(st, cur, &gen, NULL), 0);
        assert_string_equal(cur, vt_kek_id(k3));
        assert_int_equal(gen, 3); /* adopted, then two rotations */
        assert_int_equal(vt_store_kek_count(st, vt_kek_id(k3), &n, NULL), 0);
        assert_int_equal(n, 2);
        vt_store_close(st);
        vt_kek_free(k2);
        vt_kek_free(k3);
}

/* cli_put runs `veritee secret put PATH VALUE_FILE --policy POLICY_FILE`; its exit. */
static int cli_put(const char *path, const char *value, const char *policy)
{
        char vf[512], pf[512];
        path_in(vf, sizeof(vf), "put-value");
        path_in(pf, sizeof(pf), "put-policy.json");
        write_text(vf, value);
        write_text(pf, policy);
        return vt_test_sh("'%s' secret put %s '%s' --policy '%s' --server %s --token '%s' "
                          ">/dev/null 2>>'%s/put.err'",
                          bin("veritee"), path, vf, pf, S.url, tok_admin, vtt_dir);
}

static void expect_policy(const char *path, const char *want)
{
        char url[512];
        snprintf(url, sizeof(url), "/kbs/v0/resource-policy/%s", path);
        struct http h = request_full(&S, "GET", url, NULL, 0, NULL, admin_authz);
        assert_int_equal(h.status, 200);
        json_auto_t *got = json_loads(h.body, 0, NULL);
        json_auto_t *w = json_loads(want, 0, NULL);
        free(h.body);
        assert_non_null(got);
        assert_true(json_equal(got, w));
}

/* A put whose policy is refused changes nothing: before the fix the CLI stored the value
 * first and then failed to set the policy, so the new value was served under the old
 * policy. A put with a valid policy changes both. */
static void test_writes_put_policy_is_one_change(void **state)
{
        static const char *const p2 =
                "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":"
                "\"affirming\"},{\"claim\":\"/submods/cpu0/veritee.simulated\",\"exists\":"
                "true}]}";
        (void)state;
        assert_int_equal(cli_put("default/key/pp", "old value", policy_affirming_sim), 0);
        expect_secret("default/key/pp", "old value");
        /* an invalid policy (an empty group), and one that is not JSON */
        assert_int_equal(cli_put("default/key/pp", "new value", "{\"allOf\":[]}"), 1);
        assert_int_equal(cli_put("default/key/pp", "new value", "not json"), 1);
        expect_secret("default/key/pp", "old value");
        expect_policy("default/key/pp", policy_affirming_sim);
        char ef[512];
        path_in(ef, sizeof(ef), "put.err");
        char *err = slurp(ef);
        assert_non_null(strstr(err, "Failed to parse policy"));
        assert_null(strstr(err, "new value")); /* never a secret in a message */
        free(err);
        /* a new path with a refused policy is not created */
        assert_int_equal(cli_put("default/key/none", "v", "{\"allOf\":[]}"), 1);
        struct http h = request_full(&S, "GET", "/kbs/v0/resource-policy/default/key/none", NULL, 0,
                                     NULL, admin_authz);
        assert_int_equal(h.status, 404);
        free(h.body);
        /* a valid policy: value and policy change together */
        assert_int_equal(cli_put("default/key/pp", "new value", p2), 0);
        expect_secret("default/key/pp", "new value");
        expect_policy("default/key/pp", p2);
        /* a policy on its own (no NUL byte) still only sets the policy */
        admin("PUT", "/kbs/v0/resource-policy/default/key/pp", policy_affirming_sim,
              strlen(policy_affirming_sim), 200);
        expect_policy("default/key/pp", policy_affirming_sim);
        expect_secret("default/key/pp", "new value");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_writes_rotate_under_running_server),
                cmocka_unit_test(test_writes_put_policy_is_one_change),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
