/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret release end to end: the real veriteed with a KEK, admin keys and the simulator;
 * an operator stores secrets and policies with the CLI; the real agent attests, fetches
 * and decrypts; the same JWE is decrypted by the jose command-line tool; every refusal
 * has its reason in the log; the database never holds a secret in the clear.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "crypto/jwe.h"
#include "crypto/seal.h"
#include "store/store.h"
#include "testutil.h"
#include "token/admin.h"
#include "token/jwt.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "vtdtest.h"

static struct vt_sim_guest guest;
static struct server S;
static char cfg_text[4096], tok_admin[600], tok_reader[600], tok_writer[600], measurement[97];
static const char secret_text[] = "correct horse battery staple 7f3a";

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static void make_token(const char *key, enum vt_admin_role role, const char *repo, const char *out)
{
        char *jwt = NULL;
        struct vt_diag d = {0};
        const char *repos[1] = {repo};
        if (vt_admin_token_make(key, role, repo ? repos : NULL, repo ? 1 : 0, 3600, "test", &jwt,
                                &d) < 0)
                fail_msg("admin token: %s", d.msg);
        write_text(out, jwt);
        free(jwt);
}

static int setup(void **state)
{
        char p[512], key[512], pub[512];
        struct vt_diag d = {0};
        if (vtt_setup_sim("release", &guest) < 0)
                return -1;
        vt_hex_encode(guest.measurement, 48, measurement);
        path_in(p, sizeof(p), "kek");
        if (vt_kek_generate(p, &d) < 0) {
                fprintf(stderr, "kek: %s\n", d.msg);
                return -1;
        }
        path_in(key, sizeof(key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        if (vt_admin_keygen(key, pub, &d) < 0) {
                fprintf(stderr, "admin keygen: %s\n", d.msg);
                return -1;
        }
        path_in(tok_admin, sizeof(tok_admin), "admin.jwt");
        path_in(tok_reader, sizeof(tok_reader), "reader.jwt");
        path_in(tok_writer, sizeof(tok_writer), "writer.jwt");
        make_token(key, VT_ROLE_ADMIN, NULL, tok_admin);
        make_token(key, VT_ROLE_READER, NULL, tok_reader);
        make_token(key, VT_ROLE_WRITER, "team-a", tok_writer);
        char rv[512];
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        /* an external attestation service whose tokens this broker also trusts */
        struct vt_signer *ext = NULL;
        path_in(p, sizeof(p), "external-as.pem");
        if (vt_signer_load_or_create(p, &ext, &d) < 0)
                return -1;
        json_t *jwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(ext));
        char *jt = json_dumps(jwks, JSON_COMPACT);
        path_in(p, sizeof(p), "external-jwks.json");
        write_text(p, jt);
        free(jt);
        json_decref(jwks);
        vt_signer_free(ext);
        /* and one that publishes its key as a certificate (tokens.trusted_certs) */
        path_in(p, sizeof(p), "external-cert-as.pem");
        if (vt_signer_load_or_create(p, &ext, &d) < 0)
                return -1;
        vt_signer_free(ext);
        if (vt_test_sh("openssl req -new -x509 -key '%s' -subj /CN=external-as -days 2 -out "
                       "'%s/external-as.crt' 2>/dev/null",
                       p, vtt_dir) != 0)
                return -1;
        snprintf(cfg_text, sizeof(cfg_text),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s]\n"
                 "tokens:\n  trusted_jwks: [%s/external-jwks.json]\n"
                 "  trusted_certs: [%s/external-as.crt]\n",
                 vtt_dir, vtt_dir, vtt_simdir, vtt_dir, pub, vtt_dir, vtt_dir);
        server_start(&S, "release", cfg_text);
        return 0;
}

static int teardown(void **state)
{
        server_stop_all();
        if (getenv("VT_KEEP_TMP")) /* for debugging: keep logs and state */
                return 0;
        if (vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

static const char *policy_affirming_sim =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
        "{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true}]}";

/* Operator stores a secret with a policy; the agent fetches and decrypts it. */
static void test_release_full_flow(void **state)
{
        char sec[512], pol[512], out[512];
        path_in(sec, sizeof(sec), "secret.txt");
        path_in(pol, sizeof(pol), "policy.json");
        path_in(out, sizeof(out), "fetched.txt");
        write_text(sec, secret_text);
        write_text(pol, policy_affirming_sim);
        assert_int_equal(vt_test_sh("'%s' secret put default/key/db '%s' --policy '%s' --server %s "
                                    "--token '%s' >/dev/null",
                                    bin("veritee"), sec, pol, S.url, tok_admin),
                         0);
        assert_int_equal(
                vt_test_sh("'%s' agent get-resource --kbs %s default/key/db -o '%s' --tee sim "
                           "--sim-dir '%s'",
                           bin("veritee"), S.url, out, vtt_simdir),
                0);
        char *got = slurp(out);
        assert_string_equal(got, secret_text);
        free(got);
        struct stat st;
        assert_int_equal(stat(out, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0400);
        assert_true(log_has(&S, "released default/key/db"));
        /* listing shows names and metadata, never values */
        char ls[512];
        path_in(ls, sizeof(ls), "ls.json");
        assert_int_equal(vt_test_sh("'%s' secret ls --json --server %s --token '%s' > '%s'",
                                    bin("veritee"), S.url, tok_reader, ls),
                         0);
        char *l = slurp(ls);
        assert_non_null(strstr(l, "default/key/db"));
        assert_null(strstr(l, secret_text));
        free(l);
        /* the database (and its WAL) never hold the secret in the clear */
        char db[512];
        snprintf(db, sizeof(db), "%s/state/veritee.db", vtt_dir);
        const char *suffix[] = {"", "-wal"};
        for (int i = 0; i < 2; i++) {
                char f[600];
                uint8_t *b = NULL;
                size_t n = 0;
                snprintf(f, sizeof(f), "%s%s", db, suffix[i]);
                if (vt_read_file(f, 64u << 20, &b, &n) < 0)
                        continue;
                assert_null(memmem(b, n, secret_text, strlen(secret_text)));
                free(b);
        }
}

/* The JWE the server returns decrypts with an independent implementation (jose). */
static void test_release_jwe_with_jose(void **state)
{
        EVP_PKEY *k = NULL;
        json_auto_t *jwk = new_jwk_key((void **)&k);
        char *token = attest_token(&S, &guest, jwk);
        char authz[32768];
        snprintf(authz, sizeof(authz), "Bearer %s", token);
        struct http h =
                request_full(&S, "GET", "/kbs/v0/resource/default/key/db", NULL, 0, NULL, authz);
        assert_int_equal(h.status, 200);
        char jwe[512], key[512], out[512];
        path_in(jwe, sizeof(jwe), "resp.jwe");
        path_in(key, sizeof(key), "tee.jwk");
        path_in(out, sizeof(out), "jose-out");
        write_text(jwe, h.body);
        free(h.body);
        BIGNUM *dbn = NULL;
        uint8_t db[32];
        char *d64 = NULL;
        assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &dbn));
        assert_int_equal(BN_bn2binpad(dbn, db, 32), 32);
        assert_int_equal(vt_b64_encode(db, 32, VT_B64_URL, &d64), 0);
        json_auto_t *priv = json_deep_copy(jwk);
        json_object_set_new(priv, "d", json_string(d64));
        json_object_del(priv, "alg");
        char *txt = json_dumps(priv, JSON_COMPACT);
        write_text(key, txt);
        free(txt);
        assert_int_equal(vt_test_sh("jose jwe dec -i '%s' -k '%s' -O '%s'", jwe, key, out), 0);
        char *got = slurp(out);
        assert_string_equal(got, secret_text);
        free(got);
        OPENSSL_clear_free(d64, strlen(d64));
        OPENSSL_cleanse(db, sizeof(db));
        BN_clear_free(dbn);
        EVP_PKEY_free(k);
        free(token);
}

static void expect_get(const char *path, const char *authz, long status, const char *reason)
{
        struct http h = request_full(&S, "GET", path, NULL, 0, NULL, authz);
        if (h.status != status)
                fail_msg("GET %s: %ld, want %ld: %s", path, h.status, status, h.body ? h.body : "");
        /* the client is told no reason for a denial */
        if (status == 401)
                assert_null(strstr(h.body ? h.body : "", "claim"));
        free(h.body);
        if (!log_has(&S, reason))
                fail_msg("log lacks \"%s\"", reason);
}

static void expect_admin(const char *method, const char *path, const char *body,
                         const char *token_file, long status, const char *reason)
{
        char authz[2048];
        char *t = token_file ? slurp(token_file) : NULL;
        if (t)
                snprintf(authz, sizeof(authz), "Bearer %s", t);
        free(t);
        struct http h = request_full(&S, method, path, body, body ? strlen(body) : 0, NULL,
                                     token_file ? authz : NULL);
        if (h.status != status)
                fail_msg("%s %s: %ld, want %ld: %s", method, path, h.status, status,
                         h.body ? h.body : "");
        free(h.body);
        if (reason && !log_has(&S, reason))
                fail_msg("log lacks \"%s\"", reason);
}

static void test_release_refusals(void **state)
{
        json_auto_t *jwk = new_jwk();
        char *token = attest_token(&S, &guest, jwk);
        char authz[32768], p[512];

        /* a token signed by another key */
        struct vt_signer *other = NULL;
        struct vt_diag d = {0};
        path_in(p, sizeof(p), "other-signing.pem");
        assert_int_equal(vt_signer_load_or_create(p, &other, &d), 0);
        json_auto_t *claims =
                json_pack("{s:I, s:I, s:{s:{s:s, s:b}}}", "iat", (json_int_t)time(NULL), "exp",
                          (json_int_t)time(NULL) + 300, "submods", "cpu0", "ear.status",
                          "affirming", "veritee.simulated", 1);
        char *forged = NULL;
        assert_int_equal(vt_jwt_sign(other, claims, &forged), 0);
        snprintf(authz, sizeof(authz), "Bearer %s", forged);
        /* its kid matches no JWKS key, but the kid-less key of tokens.trusted_certs is
         * tried too, and refuses it */
        expect_get("/kbs/v0/resource/default/key/db", authz, 401,
                   "token: signature does not verify with a trusted key");
        free(forged);
        vt_signer_free(other);

        /* an expired token signed by the server's own key */
        struct vt_signer *own = NULL;
        snprintf(p, sizeof(p), "%s/state/token-signing-key.pem", vtt_dir);
        assert_int_equal(vt_signer_load_or_create(p, &own, &d), 0);
        json_object_set_new(claims, "exp", json_integer((json_int_t)time(NULL) - 3600));
        char *expired = NULL;
        assert_int_equal(vt_jwt_sign(own, claims, &expired), 0);
        snprintf(authz, sizeof(authz), "Bearer %s", expired);
        expect_get("/kbs/v0/resource/default/key/db", authz, 401, "token: expired");
        free(expired);
        vt_signer_free(own);

        snprintf(authz, sizeof(authz), "Bearer %s", token);
        /* a policy that does not match (another measurement) */
        char sec[512];
        path_in(sec, sizeof(sec), "secret.txt");
        write_text(sec, secret_text);
        assert_int_equal(vt_test_sh("'%s' secret put default/key/other '%s' --server %s --token "
                                    "'%s' >/dev/null",
                                    bin("veritee"), sec, S.url, tok_admin),
                         0);
        expect_get("/kbs/v0/resource/default/key/other", authz, 401, "no release policy");
        char pol[1024], polf[512];
        snprintf(pol, sizeof(pol),
                 "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.veraison.annotated-evidence/sim/"
                 "measurement\",\"in\":[\"%096d\"]}]}",
                 0);
        path_in(polf, sizeof(polf), "pol-other.json");
        write_text(polf, pol);
        assert_int_equal(vt_test_sh("'%s' policy set default/key/other '%s' --server %s --token "
                                    "'%s' >/dev/null",
                                    bin("veritee"), polf, S.url, tok_admin),
                         0);
        expect_get("/kbs/v0/resource/default/key/other", authz, 401,
                   "release default/key/other denied: claim");
        /* a missing resource, a traversal path */
        expect_get("/kbs/v0/resource/default/key/none", authz, 401,
                   "release default/key/none: no such resource");
        {
                /* an attested client reads what is wrong (issue 17), still as a 401 */
                struct http h = request_full(&S, "GET", "/kbs/v0/resource/default/key/none", NULL,
                                             0, NULL, authz);
                assert_int_equal(h.status, 401);
                assert_non_null(strstr(h.body ? h.body : "",
                                       "no resource default/key/none is stored (the attestation "
                                       "was accepted; the operator stores it with: veritee "
                                       "secret put default/key/none FILE)"));
                free(h.body);
        }
        expect_get("/kbs/v0/resource/default/../key/db", authz, 404, "Request path is invalid");
        /* admin: without a token, a reader writing, a writer outside its repository */
        expect_admin("POST", "/kbs/v0/resource/default/key/x", "v", NULL, 401,
                     "no Authorization: Bearer token");
        expect_admin("POST", "/kbs/v0/resource/default/key/x", "v", tok_reader, 403,
                     "admin access denied for test: role reader may not write");
        expect_admin("POST", "/kbs/v0/resource/default/key/x", "v", tok_writer, 403,
                     "may not write");
        expect_admin("POST", "/kbs/v0/resource/team-a/key/x", "v", tok_writer, 200,
                     "stored team-a/key/x");
        expect_admin("DELETE", "/kbs/v0/resource/team-a/key/x", NULL, tok_writer, 200, NULL);
        expect_admin("PUT", "/kbs/v0/resource-policy/default/key/db", "{\"allOf\":[]}", tok_admin,
                     400, "Failed to parse policy");
        /* Trustee kbs-client's global policies: what to use instead, not a 404 */
        expect_admin("POST", "/kbs/v0/resource-policy", "{\"policy\":\"cGFja2FnZQ\"}", tok_admin,
                     400, "per-resource policies: veriteed has no global resource policy");
        expect_admin("POST", "/kbs/v0/attestation-policy", "{}", tok_admin, 400,
                     "evidence is appraised against reference values: POST "
                     "/kbs/v0/reference-value");
        free(token);
}

/* fetch writes every file (0400) or none. */
static void test_release_fetch_all_or_nothing(void **state)
{
        char a[512], b[512], sec[512], pol[512];
        path_in(sec, sizeof(sec), "secret2.txt");
        path_in(pol, sizeof(pol), "policy.json");
        write_text(sec, "second secret");
        write_text(pol, policy_affirming_sim);
        assert_int_equal(
                vt_test_sh("'%s' secret put default/key/two '%s' --policy '%s' --server %s "
                           "--token '%s' >/dev/null",
                           bin("veritee"), sec, pol, S.url, tok_admin),
                0);
        path_in(a, sizeof(a), "f1");
        path_in(b, sizeof(b), "f2");
        assert_int_equal(vt_test_sh("'%s' agent fetch --kbs %s --tee sim --sim-dir '%s' --map "
                                    "default/key/db='%s' "
                                    "--map default/key/none='%s' 2>/dev/null",
                                    bin("veritee"), S.url, vtt_simdir, a, b),
                         1);
        assert_int_equal(access(a, F_OK), -1);
        assert_int_equal(access(b, F_OK), -1);
        assert_int_equal(vt_test_sh("'%s' agent fetch --kbs %s --tee sim --sim-dir '%s' --map "
                                    "default/key/db='%s' "
                                    "--map default/key/two='%s' 2>/dev/null",
                                    bin("veritee"), S.url, vtt_simdir, a, b),
                         0);
        char *x = slurp(a), *y = slurp(b);
        assert_string_equal(x, secret_text);
        assert_string_equal(y, "second secret");
        free(x);
        free(y);
}

/* KEK rotation while the server runs: every data key re-wrapped, secrets still released. */
static int check_kek(const struct vt_resource_meta *m, void *ud)
{
        assert_string_equal(m->kek_id, (const char *)ud);
        return 0;
}

static void test_release_rotate_kek(void **state)
{
        char newk[512], cfg[512], out[512], db[512];
        struct vt_diag d = {0};
        path_in(newk, sizeof(newk), "kek2");
        path_in(cfg, sizeof(cfg), "release.yaml");
        path_in(out, sizeof(out), "after-rotation.txt");
        assert_int_equal(vt_kek_generate(newk, &d), 0);
        struct vt_kek *k2 = NULL;
        assert_int_equal(vt_kek_load(newk, &k2, &d), 0);
        assert_int_equal(vt_test_sh("'%s' admin rotate-kek '%s' --config '%s' >/dev/null",
                                    bin("veritee"), newk, cfg),
                         0);
        /* every row names the new KEK */
        snprintf(db, sizeof(db), "%s/state/veritee.db", vtt_dir);
        struct vt_store *st = NULL;
        assert_int_equal(vt_store_open(db, &st, &d), 0);
        assert_int_equal(vt_store_resource_list(st, NULL, check_kek, (void *)vt_kek_id(k2), NULL),
                         0);
        vt_store_close(st);
        assert_int_equal(
                vt_test_sh("'%s' agent get-resource --kbs %s default/key/db -o '%s' --tee sim "
                           "--sim-dir '%s'",
                           bin("veritee"), S.url, out, vtt_simdir),
                0);
        char *got = slurp(out);
        assert_string_equal(got, secret_text);
        free(got);
        assert_true(log_has(&S, "key-encryption key reloaded"));
        /* rotating to the same key again is refused and changes nothing */
        assert_int_not_equal(vt_test_sh("'%s' admin rotate-kek '%s' --config '%s' 2>/dev/null",
                                        bin("veritee"), newk, cfg),
                             0);
        vt_kek_free(k2);
}

/* The session cookie works as well as the bearer token; reference values through the CLI. */
static void test_release_cookie_and_refvals(void **state)
{
        char cookie[128], rv[512], out[512];
        json_auto_t *jwk = new_jwk();
        char *nonce = auth(&S, "sim", cookie);
        char *body = attest_body(nonce, &guest, jwk, jwk);
        struct http h = post(&S, "/kbs/v0/attest", body, cookie);
        assert_int_equal(h.status, 200);
        free(h.body);
        h = request_full(&S, "GET", "/kbs/v0/resource/default/key/db", NULL, 0, cookie, NULL);
        assert_int_equal(h.status, 200);
        assert_non_null(strstr(h.body, "\"ciphertext\""));
        free(h.body);
        free(body);
        free(nonce);
        /* refval add / ls / rm through the admin API */
        path_in(rv, sizeof(rv), "refval.json");
        path_in(out, sizeof(out), "refvals.out");
        char v[256];
        snprintf(v, sizeof(v), "{\"measurements\":[\"%s\"],\"debug_allowed\":false}", measurement);
        write_text(rv, v);
        assert_int_equal(
                vt_test_sh("'%s' refval add sim-guest-1 --tee sim '%s' --server %s --token '%s' "
                           ">/dev/null",
                           bin("veritee"), rv, S.url, tok_admin),
                0);
        assert_int_equal(vt_test_sh("'%s' refval ls --server %s --token '%s' > '%s'",
                                    bin("veritee"), S.url, tok_reader, out),
                         0);
        char *l = slurp(out);
        /* both sources the server appraises against, marked (issue 17) */
        assert_non_null(strstr(l, "sim-guest-1\tsim\tadmin API\t"));
        assert_non_null(strstr(l, "file:sim\tsim\tconfiguration\t"));
        free(l);
        /* a reader cannot add reference values; a malformed one is refused */
        assert_int_equal(
                vt_test_sh("'%s' refval add x --tee sim '%s' --server %s --token '%s' 2>/dev/null",
                           bin("veritee"), rv, S.url, tok_reader),
                1);
        write_text(rv, "{\"measurments\":[]}");
        assert_int_equal(
                vt_test_sh(
                        "'%s' refval add bad --tee sim '%s' --server %s --token '%s' 2>/dev/null",
                        bin("veritee"), rv, S.url, tok_admin),
                1);
        assert_int_equal(
                vt_test_sh("'%s' refval rm sim-guest-1 --server %s --token '%s' >/dev/null",
                           bin("veritee"), S.url, tok_admin),
                0);
        assert_int_equal(
                vt_test_sh("'%s' refval rm sim-guest-1 --server %s --token '%s' 2>/dev/null",
                           bin("veritee"), S.url, tok_admin),
                1);
}

/* A token from another attestation service is accepted when its key is listed in
 * tokens.trusted_jwks or tokens.trusted_certs (passport model); the TEE key comes from
 * its claims by Trustee's JSON pointers. */
static void release_external_token(const char *key_file)
{
        char p[512], authz[32768];
        struct vt_signer *ext = NULL;
        struct vt_diag d = {0};
        EVP_PKEY *k = NULL;
        path_in(p, sizeof(p), key_file);
        assert_int_equal(vt_signer_load_or_create(p, &ext, &d), 0);
        json_auto_t *jwk = new_jwk_key((void **)&k);
        json_auto_t *claims = json_pack("{s:I, s:I, s:{s:{s:s, s:b, s:{s:{s:O}}}}}", "iat",
                                        (json_int_t)time(NULL), "exp", (json_int_t)time(NULL) + 300,
                                        "submods", "cpu0", "ear.status", "affirming",
                                        "veritee.simulated", 1, "ear.veraison.annotated-evidence",
                                        "runtime_data_claims", "tee-pubkey", jwk);
        char *tok = NULL;
        assert_int_equal(vt_jwt_sign(ext, claims, &tok), 0);
        snprintf(authz, sizeof(authz), "Bearer %s", tok);
        struct http h =
                request_full(&S, "GET", "/kbs/v0/resource/default/key/db", NULL, 0, NULL, authz);
        if (h.status != 200)
                fail_msg("token of %s: %ld, want 200: %s", key_file, h.status,
                         h.body ? h.body : "");
        json_auto_t *jwe = json_loads(h.body, 0, NULL);
        free(h.body);
        uint8_t *plain = NULL;
        size_t pl = 0;
        assert_int_equal(vt_jwe_decrypt(k, jwe, &plain, &pl, &d), 0);
        assert_int_equal(pl, strlen(secret_text));
        assert_memory_equal(plain, secret_text, pl);
        OPENSSL_clear_free(plain, pl);
        free(tok);
        EVP_PKEY_free(k);
        vt_signer_free(ext);
}

static void test_release_external_token(void **state)
{
        release_external_token("external-as.pem");      /* tokens.trusted_jwks */
        release_external_token("external-cert-as.pem"); /* tokens.trusted_certs */
}

/* Every decision the tests above made is in the ledger, and the ledger verifies: each
 * release (before the secret left), each denial to a verified token, each attestation
 * verdict, each admin change, found by the request id of the server's log line. */
static void test_release_ledger_has_every_decision(void **state)
{
        char authz[1024];
        char *t = slurp(tok_reader);
        snprintf(authz, sizeof(authz), "Bearer %s", t);
        free(t);
        /* an attestation whose evidence binds another key: rejected, not recorded */
        char cookie[128];
        json_auto_t *k1 = new_jwk(), *k2 = new_jwk();
        char *nonce = auth(&S, "sim", cookie);
        char *body = attest_body(nonce, &guest, k1, k2);
        struct http bad = post(&S, "/kbs/v0/attest", body, cookie);
        assert_int_equal(bad.status, 401);
        free(bad.body);
        free(body);
        free(nonce);
        json_auto_t *entries = ledger_audit(&S, authz, NULL);
        char *log = slurp(S.log);
        unsigned released = 0, denied = 0, attests = 0, admins = 0, rejected = 0;
        for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                json_auto_t *j = json_loads(line, 0, NULL);
                const char *msg = json_string_value(json_object_get(j, "msg"));
                if (!msg || strcmp(msg, "request") != 0 ||
                    !json_is_string(json_object_get(j, "route")))
                        continue;
                const char *rid = json_string_value(json_object_get(j, "request_id"));
                const char *route = json_string_value(json_object_get(j, "route"));
                const char *method = json_string_value(json_object_get(j, "method"));
                const char *verdict = json_string_value(json_object_get(j, "verdict"));
                const char *reason = json_string_value(json_object_get(j, "reason"));
                json_int_t status = json_integer_value(json_object_get(j, "status"));
                const char *want = NULL;
                if (strcmp(route, "/kbs/v0/resource") == 0 && strcmp(method, "GET") == 0) {
                        if (verdict && strcmp(verdict, "released") == 0)
                                want = "release", released++;
                        else if (reason && (strstr(reason, " denied: ") ||
                                            strstr(reason, "no release policy") ||
                                            strstr(reason, "no such resource") ||
                                            strstr(reason, "no tee-pubkey")))
                                want = "deny", denied++;
                } else if (strcmp(route, "/kbs/v0/attest") == 0 && verdict &&
                           strcmp(verdict, "rejected") != 0) {
                        want = "attest", attests++;
                } else if (status == 200 && strcmp(method, "GET") != 0 &&
                           (strncmp(route, "/kbs/v0/resource", 16) == 0 ||
                            strcmp(route, "/kbs/v0/reference-value") == 0)) {
                        want = "admin", admins++;
                }
                /* evidence that did not verify is anyone's to send: not recorded */
                if (strcmp(route, "/kbs/v0/attest") == 0 && verdict &&
                    strcmp(verdict, "rejected") == 0) {
                        rejected++;
                        if (ledger_find(entries, "attest", rid))
                                fail_msg("rejected attestation %s is in the ledger", rid);
                }
                if (want && !ledger_find(entries, want, rid))
                        fail_msg("request %s (%s %s, %lld%s%s) has no %s entry in the ledger", rid,
                                 method, route, (long long)status, reason ? ": " : "",
                                 reason ? reason : "", want);
        }
        free(log);
        print_message(
                "ledger: %zu entries; the log's %u releases, %u denials, %u attestations "
                "and %u admin changes all have theirs; %u rejected attestations are not in it\n",
                json_array_size(entries), released, denied, attests, admins, rejected);
        assert_true(released >= 3 && denied >= 1 && attests >= 3 && admins >= 3 && rejected >= 1);
        /* the CLI says the same over the API: the whole ledger, and one receipt checked
         * offline with the ledger key */
        /* a receipt first: it has the newest entries signed at once */
        struct http jw = request_full(&S, "GET", "/ledger/jwks", NULL, 0, NULL, authz);
        assert_int_equal(jw.status, 200);
        char jp[512];
        path_in(jp, sizeof(jp), "ledger.jwks");
        write_text(jp, jw.body);
        free(jw.body);
        assert_int_equal(vt_test_sh("'%s' ledger receipt 0 --server %s --token '%s' --out "
                                    "'%s/r0.json' && '%s' ledger verify-receipt '%s/r0.json' "
                                    "--key '%s' >/dev/null",
                                    bin("veritee"), S.url, tok_reader, vtt_dir, bin("veritee"),
                                    vtt_dir, jp),
                         0);
        char cmd[2048], out[4096];
        snprintf(cmd, sizeof(cmd),
                 "'%s' ledger verify --server %s --token '%s' --save-sth '%s/sth.jws' "
                 "2>'%s/verify.err'",
                 bin("veritee"), S.url, tok_reader, vtt_dir, vtt_dir);
        char *argv_v[] = {"/bin/sh", "-c", cmd, NULL};
        if (vt_test_run_capture(argv_v, out, sizeof(out)) != 0) {
                char ep[512];
                path_in(ep, sizeof(ep), "verify.err");
                char *err = slurp(ep);
                fail_msg("veritee ledger verify --server: %s%s", out, err);
        }
        assert_non_null(strstr(out, "ledger verified: "));
        /* nothing secret in it: no secret value, no token */
        char *all = json_dumps(entries, JSON_COMPACT);
        assert_null(strstr(all, secret_text));
        assert_null(strstr(all, "eyJ"));
        free(all);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_release_full_flow),
                cmocka_unit_test(test_release_jwe_with_jose),
                cmocka_unit_test(test_release_external_token),
                cmocka_unit_test(test_release_refusals),
                cmocka_unit_test(test_release_fetch_all_or_nothing),
                cmocka_unit_test(test_release_rotate_kek),
                cmocka_unit_test(test_release_cookie_and_refvals),
                cmocka_unit_test(test_release_ledger_has_every_decision),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
