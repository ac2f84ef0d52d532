/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token keys and what relying parties check (issue 12), on the real veriteed: the issuer is
 * the public URL and equals the discovery document's; tokens carry nbf, jti and the
 * configured aud; the JWKS and the discovery document are cacheable, nothing else is;
 * only http.trusted_proxies name jwks_uri with X-Forwarded-*; and the rotation procedure
 * of docs/tokens.md through its configurations (restarts on one state directory): the next
 * key is published before it signs, the signing kid changes only at the swap, and a token
 * signed before the swap still releases a secret after it, until its key is removed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto/seal.h"
#include "testutil.h"
#include "token/admin.h"
#include "token/jwt.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "vtdtest.h"

static struct vt_sim_guest guest;
static char admin_pub[512], tok_admin[512], rv_path[512], kek_path[512];
static char k1_path[512], k2_path[512], k1_pub[512], kid1[64], kid2[64];

static const char *policy_sim =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true}]}";

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static int setup(void **state)
{
        struct vt_diag d = {0};
        char key[512], measurement[97], rv[512];
        struct vt_signer *k = NULL;
        (void)state;
        if (vtt_setup_sim("tokkeys", &guest) < 0)
                return -1;
        vt_hex_encode(guest.measurement, 48, measurement);
        path_in(rv_path, sizeof(rv_path), "rv.json");
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        write_text(rv_path, rv);
        path_in(kek_path, sizeof(kek_path), "kek");
        path_in(key, sizeof(key), "admin.key");
        path_in(admin_pub, sizeof(admin_pub), "admin.pub");
        path_in(tok_admin, sizeof(tok_admin), "admin.jwt");
        char *jwt = NULL;
        if (vt_kek_generate(kek_path, &d) < 0 || vt_admin_keygen(key, admin_pub, &d) < 0 ||
            vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "test", &jwt, &d) < 0) {
                fprintf(stderr, "setup: %s\n", d.msg);
                return -1;
        }
        write_text(tok_admin, jwt);
        free(jwt);
        /* the first signing key; its public half is what a retired key may be given as */
        path_in(k1_path, sizeof(k1_path), "token-k1.pem");
        path_in(k2_path, sizeof(k2_path), "token-k2.pem");
        path_in(k1_pub, sizeof(k1_pub), "token-k1.pub");
        if (vt_signer_load_or_create(k1_path, &k, &d) < 0) {
                fprintf(stderr, "k1: %s\n", d.msg);
                return -1;
        }
        snprintf(kid1, sizeof(kid1), "%s", vt_signer_kid(k));
        vt_signer_free(k);
        if (vt_test_sh("openssl pkey -in '%s' -pubout -out '%s' 2>/dev/null", k1_path, k1_pub) != 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        if (!getenv("VT_KEEP_TMP"))
                vt_test_rm_dir(vtt_dir);
        curl_global_cleanup();
        return 0;
}

/* ---- requests with headers ---- */

struct answer {
        long status;
        char *body;
        size_t len;
        char cache_control[128];
        char vary[128];
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
        struct answer *a = ud;
        a->body = realloc(a->body, a->len + sz * n + 1);
        assert_non_null(a->body);
        memcpy(a->body + a->len, p, sz * n);
        a->len += sz * n;
        a->body[a->len] = 0;
        return sz * n;
}

static void header_value(const char *p, size_t len, const char *name, char *out, size_t cap)
{
        size_t nl = strlen(name);
        if (len <= nl + 1 || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
                return;
        p += nl + 1;
        len -= nl + 1;
        while (len && *p == ' ')
                p++, len--;
        while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
                len--;
        snprintf(out, cap, "%.*s", (int)len, p);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
        struct answer *a = ud;
        header_value(p, sz * n, "Cache-Control", a->cache_control, sizeof(a->cache_control));
        header_value(p, sz * n, "Vary", a->vary, sizeof(a->vary));
        return sz * n;
}

/* GET path with up to two extra header lines (NULL: none). */
static struct answer get(const struct server *s, const char *path, const char *h1, const char *h2)
{
        struct answer a = {0};
        char url[512];
        CURL *c = curl_easy_init();
        struct curl_slist *hdr = NULL;
        if (h1)
                hdr = curl_slist_append(hdr, h1);
        if (h2)
                hdr = curl_slist_append(hdr, h2);
        snprintf(url, sizeof(url), "%s%s", s->url, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        return a;
}

static json_t *get_json(const struct server *s, const char *path, const char *h1,
                        struct answer *ret)
{
        struct answer a = get(s, path, h1, NULL);
        assert_int_equal(a.status, 200);
        json_t *j = json_loads(a.body, 0, NULL);
        assert_non_null(j);
        free(a.body);
        a.body = NULL;
        if (ret)
                *ret = a;
        return j;
}

/* The part (0 header, 1 payload) of a compact JWS, parsed. */
static json_t *jws_part(const char *tok, int part)
{
        const char *p = tok;
        for (int i = 0; i < part; i++)
                p = strchr(p, '.') + 1;
        size_t n = strcspn(p, ".");
        uint8_t *raw = NULL;
        size_t rl = 0;
        assert_int_equal(vt_b64_decode(p, n, VT_B64_URL, 1u << 20, &raw, &rl), 0);
        json_t *j = json_loadb((const char *)raw, rl, 0, NULL);
        free(raw);
        assert_non_null(j);
        return j;
}

static const char *kid_of(const char *tok, char *out, size_t cap)
{
        json_auto_t *h = jws_part(tok, 0);
        snprintf(out, cap, "%s", json_string_value(json_object_get(h, "kid")));
        return out;
}

/* The kids of the server's JWKS, in order, joined with ','. */
static void jwks_kids(const struct server *s, char *out, size_t cap)
{
        json_auto_t *j = get_json(s, "/.well-known/jwks.json", NULL, NULL);
        size_t i;
        json_t *k;
        out[0] = 0;
        json_array_foreach (json_object_get(j, "keys"), i, k) {
                size_t l = strlen(out);
                snprintf(out + l, cap - l, "%s%s", l ? "," : "",
                         json_string_value(json_object_get(k, "kid")));
                assert_null(json_object_get(k, "d")); /* never a private member */
        }
}

static long release_with(const struct server *s, const char *token)
{
        char authz[16384];
        snprintf(authz, sizeof(authz), "Bearer %s", token);
        struct http h =
                request_full(s, "GET", "/kbs/v0/resource/default/key/rot", NULL, 0, NULL, authz);
        free(h.body);
        return h.status;
}

static char *new_token(const struct server *s)
{
        json_auto_t *jwk = new_jwk();
        return attest_token(s, &guest, jwk);
}

/* The claims relying parties check, and the discovery document that names them. */
static void test_tokkeys_issuer_and_claims(void **state)
{
        char cfg[2048];
        struct server s = {0};
        struct answer a;
        (void)state;
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/claims\ntoken:\n  audience: rp.example\n"
                 "  ttl_seconds: 120\n"
                 "attestation:\n  reference_values: %s\n  simulator_root: %s/root.pem\n",
                 vtt_dir, rv_path, vtt_simdir);
        server_start(&s, "claims", cfg);
        char *tok = new_token(&s);
        json_auto_t *claims = jws_part(tok, 1);
        /* the issuer is the URL the server is reached at, and discovery says the same */
        assert_string_equal(json_string_value(json_object_get(claims, "iss")), s.url);
        json_auto_t *oidc = get_json(&s, "/.well-known/openid-configuration", NULL, &a);
        assert_string_equal(json_string_value(json_object_get(oidc, "issuer")), s.url);
        /* ttl 120: max-age min(300, 60) */
        assert_string_equal(a.cache_control, "public, max-age=60");
        assert_string_equal(a.vary, ""); /* no trusted proxies: nothing varies */
        json_auto_t *jwks = get_json(&s, "/.well-known/jwks.json", NULL, &a);
        assert_string_equal(a.cache_control, "public, max-age=60");
        assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 1);
        /* nbf = iat, exp = iat + ttl, aud as configured, a jti */
        json_int_t iat = json_integer_value(json_object_get(claims, "iat"));
        assert_true(iat > 0);
        assert_int_equal(json_integer_value(json_object_get(claims, "nbf")), iat);
        assert_int_equal(json_integer_value(json_object_get(claims, "exp")), iat + 120);
        assert_string_equal(json_string_value(json_object_get(claims, "aud")), "rp.example");
        assert_int_equal(strlen(json_string_value(json_object_get(claims, "jti"))), 32);
        /* everything else stays no-store */
        struct answer h = get(&s, "/healthz", NULL, NULL);
        assert_string_equal(h.cache_control, "no-store");
        free(h.body);
        h = get(&s, "/kbs/v0/nothing-here", NULL, NULL);
        assert_string_equal(h.cache_control, "no-store");
        free(h.body);
        free(tok);
        server_stop(&s);

        /* an explicit token.issuer (an older deployment's "veritee") is kept, in both
         * places; no aud when none is configured; a configured max-age */
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/claims\ntoken:\n  issuer: veritee\n"
                 "  jwks_max_age_seconds: 42\n"
                 "attestation:\n  reference_values: %s\n  simulator_root: %s/root.pem\n",
                 vtt_dir, rv_path, vtt_simdir);
        server_start(&s, "claims2", cfg);
        tok = new_token(&s);
        json_auto_t *c2 = jws_part(tok, 1);
        assert_string_equal(json_string_value(json_object_get(c2, "iss")), "veritee");
        assert_null(json_object_get(c2, "aud"));
        json_auto_t *o2 = get_json(&s, "/.well-known/openid-configuration", NULL, &a);
        assert_string_equal(json_string_value(json_object_get(o2, "issuer")), "veritee");
        assert_string_equal(a.cache_control, "public, max-age=42");
        free(tok);
        server_stop(&s);

        /* public_url is the issuer when token.issuer is not set */
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/claims\npublic_url: https://kbs.example/b/\n"
                 "attestation:\n  reference_values: %s\n  simulator_root: %s/root.pem\n",
                 vtt_dir, rv_path, vtt_simdir);
        server_start(&s, "claims3", cfg);
        tok = new_token(&s);
        json_auto_t *c3 = jws_part(tok, 1);
        assert_string_equal(json_string_value(json_object_get(c3, "iss")), "https://kbs.example/b");
        json_auto_t *o3 = get_json(&s, "/.well-known/openid-configuration", NULL, NULL);
        assert_string_equal(json_string_value(json_object_get(o3, "issuer")),
                            "https://kbs.example/b");
        free(tok);
        server_stop(&s);
}

/* X-Forwarded-Proto/-Host name jwks_uri only when the peer is a trusted proxy; the issuer
 * never follows them. */
static void test_tokkeys_trusted_proxies(void **state)
{
        char cfg[1024], want[256];
        struct server s = {0};
        struct answer a;
        (void)state;
        static const char *const xp = "X-Forwarded-Proto: https";
        static const char *const xh = "X-Forwarded-Host: kbs.example.com, evil.example";
        /* 127.0.0.1 is not in 10.0.0.0/8: the headers are ignored */
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/proxy\nhttp:\n  trusted_proxies: "
                 "[10.0.0.0/8, 'fd00::/8']\n",
                 vtt_dir);
        server_start(&s, "proxy1", cfg);
        snprintf(want, sizeof(want), "%s/.well-known/jwks.json", s.url);
        struct answer r = get(&s, "/.well-known/openid-configuration", xp, xh);
        json_auto_t *o1 = json_loads(r.body, 0, NULL);
        free(r.body);
        assert_string_equal(json_string_value(json_object_get(o1, "jwks_uri")), want);
        assert_string_equal(r.vary, "X-Forwarded-Proto, X-Forwarded-Host");
        server_stop(&s);

        /* from a trusted proxy: jwks_uri follows the headers, the issuer does not */
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/proxy\nhttp:\n  trusted_proxies: "
                 "[10.0.0.0/8, 127.0.0.0/30]\n",
                 vtt_dir);
        server_start(&s, "proxy2", cfg);
        r = get(&s, "/.well-known/openid-configuration", xp, xh);
        json_auto_t *o2 = json_loads(r.body, 0, NULL);
        free(r.body);
        assert_string_equal(json_string_value(json_object_get(o2, "jwks_uri")),
                            "https://kbs.example.com/.well-known/jwks.json");
        assert_string_equal(json_string_value(json_object_get(o2, "issuer")), s.url);
        /* a malformed forwarded host is not used */
        r = get(&s, "/.well-known/openid-configuration", "X-Forwarded-Host: a/b@c", NULL);
        json_auto_t *o3 = json_loads(r.body, 0, NULL);
        free(r.body);
        snprintf(want, sizeof(want), "%s/.well-known/jwks.json", s.url);
        assert_string_equal(json_string_value(json_object_get(o3, "jwks_uri")), want);
        /* without headers: the public base */
        json_auto_t *o4 = get_json(&s, "/.well-known/openid-configuration", NULL, &a);
        assert_string_equal(json_string_value(json_object_get(o4, "jwks_uri")), want);
        server_stop(&s);

        /* what is not an address or a network stops start-up, naming it */
        static const char *const bad[] = {"10.0.0.0/33", "example.com", "::1/129", "10.0.0.1/",
                                          "/8"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char f[512];
                path_in(f, sizeof(f), "bad-proxy.yaml");
                snprintf(cfg, sizeof(cfg),
                         "listen: 127.0.0.1:0\nstate_dir: %s/proxy\nhttp:\n  trusted_proxies: "
                         "['%s']\n",
                         vtt_dir, bad[i]);
                write_text(f, cfg);
                /* (the log line is JSON: the quotes are escaped) */
                if (vt_test_sh("'%s' --config '%s' --check-config 2>&1 | grep -qF "
                               "'http.trusted_proxies: \\\"%s\\\" is not an address'",
                               bin("veriteed"), f, bad[i]) != 0)
                        fail_msg("trusted proxy %s was not refused", bad[i]);
        }
}

/* The configuration of a rotation step: the signing key, the next key and the retired
 * keys (NULL: none), on one state directory (the secret and its KEK stay). */
static void start_step(struct server *s, const char *name, const char *signing, const char *next,
                       const char *retired)
{
        char cfg[4096], extra[1200] = "";
        if (next)
                snprintf(extra, sizeof(extra), "  next_signing_key: %s\n", next);
        if (retired) {
                size_t l = strlen(extra);
                snprintf(extra + l, sizeof(extra) - l, "  retired_keys: [%s]\n", retired);
        }
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/rot\npublic_url: https://kbs.example\n"
                 "token:\n  signing_key: %s\n  ttl_seconds: 600\n%s"
                 "attestation:\n  reference_values: %s\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n",
                 vtt_dir, signing, extra, rv_path, vtt_simdir, kek_path, admin_pub);
        server_start(s, name, cfg);
}

/* docs/tokens.md, step by step. */
static void test_tokkeys_rotation(void **state)
{
        struct server s = {0};
        char kids[512], want[256], kid[64], sec[512], pol[512];
        (void)state;
        /* 1. one key: it signs and is the only one published */
        start_step(&s, "rot1", k1_path, NULL, NULL);
        path_in(sec, sizeof(sec), "rot-secret.txt");
        path_in(pol, sizeof(pol), "rot-policy.json");
        write_text(sec, "rotation secret");
        write_text(pol, policy_sim);
        assert_int_equal(vt_test_sh("'%s' secret put default/key/rot '%s' --policy '%s' --server "
                                    "%s --token '%s' >/dev/null",
                                    bin("veritee"), sec, pol, s.url, tok_admin),
                         0);
        jwks_kids(&s, kids, sizeof(kids));
        assert_string_equal(kids, kid1);
        char *t1 = new_token(&s);
        assert_string_equal(kid_of(t1, kid, sizeof(kid)), kid1);
        assert_int_equal(release_with(&s, t1), 200);
        server_stop(&s);

        /* 2. the next key is published (made by the server, 0600) but does not sign */
        start_step(&s, "rot2", k1_path, k2_path, NULL);
        struct stat st;
        assert_int_equal(stat(k2_path, &st), 0);
        assert_int_equal(st.st_mode & 077, 0);
        struct vt_signer *k2 = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_signer_load_or_create(k2_path, &k2, &d), 0);
        snprintf(kid2, sizeof(kid2), "%s", vt_signer_kid(k2));
        vt_signer_free(k2);
        assert_string_not_equal(kid1, kid2);
        jwks_kids(&s, kids, sizeof(kids));
        snprintf(want, sizeof(want), "%s,%s", kid1, kid2);
        assert_string_equal(kids, want);
        char *t2 = new_token(&s);
        assert_string_equal(kid_of(t2, kid, sizeof(kid)), kid1);
        server_stop(&s);

        /* 3. the swap: the next key signs, the old one is retired (given as its public key):
         * still published, and a token it signed before the swap still releases */
        start_step(&s, "rot3", k2_path, NULL, k1_pub);
        jwks_kids(&s, kids, sizeof(kids));
        snprintf(want, sizeof(want), "%s,%s", kid2, kid1);
        assert_string_equal(kids, want);
        char *t3 = new_token(&s);
        assert_string_equal(kid_of(t3, kid, sizeof(kid)), kid2);
        assert_int_equal(release_with(&s, t1), 200);
        assert_int_equal(release_with(&s, t3), 200);
        /* the retired key never signs: nothing but the signing key's kid on new tokens */
        char *t3b = new_token(&s);
        assert_string_equal(kid_of(t3b, kid, sizeof(kid)), kid2);
        server_stop(&s);

        /* 4. after token.ttl the retired key goes: its tokens no longer release */
        start_step(&s, "rot4", k2_path, NULL, NULL);
        jwks_kids(&s, kids, sizeof(kids));
        assert_string_equal(kids, kid2);
        assert_int_equal(release_with(&s, t1), 401);
        assert_int_equal(release_with(&s, t3), 200);
        server_stop(&s);

        /* a retired private key readable by others stops start-up, naming it */
        char loose[512], f[512], cfg[2048];
        path_in(loose, sizeof(loose), "loose.pem");
        assert_int_equal(vt_test_sh("cp '%s' '%s' && chmod 644 '%s'", k1_path, loose, loose), 0);
        path_in(f, sizeof(f), "loose.yaml");
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/rot\ntoken:\n  signing_key: %s\n"
                 "  retired_keys: [%s]\n",
                 vtt_dir, k2_path, loose);
        write_text(f, cfg);
        assert_int_equal(vt_test_sh("'%s' --config '%s' --check-config 2>&1 | grep -q "
                                    "'token.retired_keys %s.*group or others'",
                                    bin("veriteed"), f, loose),
                         0);
        /* and a file that holds no P-256 key */
        write_text(loose, "not a key\n");
        assert_int_equal(vt_test_sh("'%s' --config '%s' --check-config 2>&1 | grep -q "
                                    "'token.retired_keys %s holds no P-256 key'",
                                    bin("veriteed"), f, loose),
                         0);
        free(t1);
        free(t2);
        free(t3);
        free(t3b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tokkeys_issuer_and_claims),
                cmocka_unit_test(test_tokkeys_trusted_proxies),
                cmocka_unit_test(test_tokkeys_rotation),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
