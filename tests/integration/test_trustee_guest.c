/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veriteed as a stock CoCo guest and a stock Trustee KBS see it (issue 20), written from
 * their published behaviour:
 *  - the guest (guest-components kbs_protocol, rcar_client.rs): a base URL with a path
 *    prefix, a cookie jar (libcurl's cookie engine here, reqwest's there), RCAR again on
 *    401, the resource fetched with the session cookie and with Bearer, the JWE decrypted
 *    with the re-serialised protected header as AAD (kbs-types generate_aad);
 *  - a path-prefix reverse proxy (127.0.0.1 only) between them, as an ingress path would be;
 *  - Trustee's token verifier (kbs/src/crypto/jwt.rs verify_jwk_endorsement): the header
 *    jwk's x5c chain to a trusted CA certificate, no header key trusted by itself.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/seal.h"
#include "testutil.h"
#include "token/admin.h"
#include "token/jwt.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "vtdtest.h"

#define PREFIX "/trust"

static struct vt_sim_guest guest;
static struct server S;
static int proxy_fd = -1, backend_port;
static char proxy_base[128];
static pthread_t proxy_thread;
static const char secret_text[] = "behind the ingress 91c2";

/* ---- a path-prefix reverse proxy: /trust/X -> backend /X, one request per connection,
 * Set-Cookie passed through untouched (as nginx's proxy_pass does by default) ---- */

static int read_request(int fd, char **ret, size_t *ret_len)
{
        size_t cap = 1 << 16, len = 0;
        char *b = malloc(cap + 1);
        long want = -1;
        while (b) {
                if (len == cap) {
                        char *nb = realloc(b, 2 * cap + 1);
                        if (!nb)
                                break;
                        b = nb;
                        cap *= 2;
                }
                ssize_t n = read(fd, b + len, cap - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                b[len] = 0;
                char *eoh = strstr(b, "\r\n\r\n");
                if (eoh && want < 0) {
                        const char *cl = strcasestr(b, "\r\nContent-Length:");
                        want = (long)(eoh + 4 - b) +
                               (cl && cl < eoh ? (long)strtoul(cl + 17, NULL, 10) : 0);
                }
                if (want >= 0 && (long)len >= want) {
                        *ret = b;
                        *ret_len = len;
                        return 0;
                }
        }
        free(b);
        return -1;
}

static void proxy_one(int cfd)
{
        char *req = NULL;
        size_t len = 0;
        if (read_request(cfd, &req, &len) < 0)
                return;
        /* "METHOD /trust/x HTTP/1.1\r\n": strip the prefix, or answer 404 as an ingress
         * without a matching rule would */
        char *sp = strchr(req, ' ');
        if (!sp || strncmp(sp + 1, PREFIX "/", strlen(PREFIX) + 1) != 0) {
                static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                         "Connection: close\r\n\r\n";
                (void)!write(cfd, nf, sizeof(nf) - 1);
                free(req);
                return;
        }
        memmove(sp + 1, sp + 1 + strlen(PREFIX), len - (size_t)(sp + 1 - req) - strlen(PREFIX));
        len -= strlen(PREFIX);
        char *eol = strstr(req, "\r\n");
        int bfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)backend_port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bfd < 0 || connect(bfd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                free(req);
                if (bfd >= 0)
                        close(bfd);
                return;
        }
        /* the request line, then Connection: close, then the rest */
        size_t l1 = (size_t)(eol + 2 - req);
        static const char cc[] = "Connection: close\r\n";
        (void)!write(bfd, req, l1);
        (void)!write(bfd, cc, sizeof(cc) - 1);
        (void)!write(bfd, req + l1, len - l1);
        char buf[16384];
        ssize_t n;
        while ((n = read(bfd, buf, sizeof(buf))) > 0)
                if (write(cfd, buf, (size_t)n) != n)
                        break;
        close(bfd);
        free(req);
}

static void *proxy_main(void *arg)
{
        (void)arg;
        for (;;) {
                int cfd = accept(proxy_fd, NULL, NULL);
                if (cfd < 0)
                        return NULL;
                proxy_one(cfd);
                close(cfd);
        }
}

static void proxy_start(void)
{
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t al = sizeof(a);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        proxy_fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(proxy_fd >= 0);
        assert_int_equal(bind(proxy_fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(proxy_fd, 16), 0);
        assert_int_equal(getsockname(proxy_fd, (struct sockaddr *)&a, &al), 0);
        snprintf(proxy_base, sizeof(proxy_base), "http://127.0.0.1:%d" PREFIX, ntohs(a.sin_port));
        const char *colon = strrchr(S.url, ':');
        backend_port = (int)strtoul(colon + 1, NULL, 10);
        assert_int_equal(pthread_create(&proxy_thread, NULL, proxy_main, NULL), 0);
}

/* ---- the guest ---- */

struct guest {
        CURL *c;       /* one handle: its cookie engine is the guest's jar */
        EVP_PKEY *key; /* the ephemeral TEE key */
        json_t *jwk;
        char *token;
        char set_cookie[512]; /* the last Set-Cookie header seen */
};

struct resp {
        char *body;
        size_t len;
        long status;
        struct guest *g;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
        struct resp *r = ud;
        char *nb = realloc(r->body, r->len + sz * n + 1);
        assert_non_null(nb);
        memcpy(nb + r->len, p, sz * n);
        r->len += sz * n;
        nb[r->len] = 0;
        r->body = nb;
        return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
        struct resp *r = ud;
        size_t len = sz * n;
        if (len > 11 && strncasecmp(p, "Set-Cookie:", 11) == 0) {
                size_t k = len < sizeof(r->g->set_cookie) - 1 ? len : sizeof(r->g->set_cookie) - 1;
                memcpy(r->g->set_cookie, p, k);
                r->g->set_cookie[k] = 0;
        }
        return len;
}

static struct resp guest_req(struct guest *g, const char *path, const char *body,
                             const char *bearer)
{
        struct resp r = {.g = g};
        char url[512], *ah = NULL;
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        if (bearer) {
                assert_true(asprintf(&ah, "Authorization: Bearer %s", bearer) > 0);
                h = curl_slist_append(h, ah);
        }
        snprintf(url, sizeof(url), "%s%s", proxy_base, path);
        curl_easy_setopt(g->c, CURLOPT_URL, url);
        curl_easy_setopt(g->c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(g->c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(g->c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(g->c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(g->c, CURLOPT_HEADERDATA, &r);
        if (body) {
                curl_easy_setopt(g->c, CURLOPT_POST, 1L);
                curl_easy_setopt(g->c, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(g->c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        } else {
                curl_easy_setopt(g->c, CURLOPT_HTTPGET, 1L);
        }
        assert_int_equal(curl_easy_perform(g->c), CURLE_OK);
        curl_easy_getinfo(g->c, CURLINFO_RESPONSE_CODE, &r.status);
        curl_slist_free_all(h);
        free(ah);
        return r;
}

static void guest_init(struct guest *g)
{
        memset(g, 0, sizeof(*g));
        g->c = curl_easy_init();
        curl_easy_setopt(g->c, CURLOPT_COOKIEFILE, ""); /* the cookie engine, empty jar */
        g->jwk = new_jwk_key((void **)&g->key);
}

static void guest_done(struct guest *g)
{
        curl_easy_cleanup(g->c);
        EVP_PKEY_free(g->key);
        json_decref(g->jwk);
        free(g->token);
}

/* RCAR as rcar_client.rs runs it: auth, attest; the token kept for Bearer. */
static void guest_rcar(struct guest *g)
{
        struct resp r = guest_req(g, "/kbs/v0/auth",
                                  "{\"version\":\"0.4.0\",\"tee\":\"sim\",\"extra-params\":"
                                  "{\"supported-hash-algorithms\":[\"sha256\",\"sha384\","
                                  "\"sha512\",\"sm3\"]}}",
                                  NULL);
        assert_int_equal(r.status, 200);
        /* Trustee's cookie: no Path, so the jar scopes it to PREFIX/kbs/v0 */
        assert_non_null(strstr(g->set_cookie, "kbs-session-id="));
        assert_null(strcasestr(g->set_cookie, "Path="));
        assert_non_null(strstr(g->set_cookie, "HttpOnly"));
        struct curl_slist *ck = NULL;
        curl_easy_getinfo(g->c, CURLINFO_COOKIELIST, &ck);
        assert_non_null(ck);
        /* netscape format: domain, subdomains, path (curl keeps the default path with its
         * trailing slash), ... */
        if (!strstr(ck->data, "\t" PREFIX "/kbs/v0\t") &&
            !strstr(ck->data, "\t" PREFIX "/kbs/v0/\t"))
                fail_msg("cookie jar: %s", ck->data);
        curl_slist_free_all(ck);
        json_auto_t *ch = json_loads(r.body, 0, NULL);
        free(r.body);
        const char *nonce = json_string_value(json_object_get(ch, "nonce"));
        assert_non_null(nonce);
        char *body = attest_body(nonce, &guest, g->jwk, g->jwk);
        r = guest_req(g, "/kbs/v0/attest", body, NULL);
        free(body);
        if (r.status != 200)
                fail_msg("attest through the proxy: %ld %s", r.status, r.body ? r.body : "");
        json_auto_t *t = json_loads(r.body, 0, NULL);
        free(r.body);
        free(g->token);
        g->token = strdup(json_string_value(json_object_get(t, "token")));
}

/* The guest's decryption (keypair.rs decrypt_response): AAD = base64url of the protected
 * header as kbs-types re-serialises it (alg, enc, then the other members, key order). */
static char *guest_decrypt(struct guest *g, const char *jwe_txt)
{
        json_auto_t *jwe = json_loads(jwe_txt, 0, NULL);
        assert_non_null(jwe);
        const char *prot = json_string_value(json_object_get(jwe, "protected"));
        uint8_t *raw = NULL;
        size_t rl = 0;
        assert_int_equal(vt_b64_decode(prot, strlen(prot), VT_B64_URL, 8192, &raw, &rl), 0);
        json_auto_t *hdr = json_loadb((const char *)raw, rl, 0, NULL);
        free(raw);
        assert_non_null(hdr);
        json_auto_t *rest = json_deep_copy(hdr);
        json_object_del(rest, "alg");
        json_object_del(rest, "enc");
        char *r = json_dumps(rest, JSON_COMPACT | JSON_SORT_KEYS), re[4096], *aad = NULL;
        snprintf(re, sizeof(re), "{\"alg\":\"%s\",\"enc\":\"%s\"%s%s",
                 json_string_value(json_object_get(hdr, "alg")),
                 json_string_value(json_object_get(hdr, "enc")), strlen(r) > 2 ? "," : "}",
                 strlen(r) > 2 ? r + 1 : "");
        free(r);
        assert_int_equal(vt_b64_encode((const uint8_t *)re, strlen(re), VT_B64_URL, &aad), 0);
        json_object_set_new(jwe, "protected", json_string(aad));
        free(aad);
        uint8_t *pt = NULL;
        size_t pl = 0;
        struct vt_diag d = {0};
        if (vt_jwe_decrypt(g->key, jwe, &pt, &pl, &d) < 0)
                fail_msg("guest-style decryption: %s", d.msg);
        char *s = strndup((const char *)pt, pl);
        free(pt);
        return s;
}

/* get_resource as rcar_client.rs: on 401 run RCAR again and retry (3 attempts). */
static char *guest_get(struct guest *g, const char *path, bool bearer, int *ret_rcar)
{
        for (int i = 0; i < 3; i++) {
                struct resp r = guest_req(g, path, NULL, bearer ? g->token : NULL);
                if (r.status == 200) {
                        char *s = guest_decrypt(g, r.body);
                        free(r.body);
                        return s;
                }
                if (r.status != 401)
                        fail_msg("GET %s: %ld %s (a stock guest gives up)", path, r.status,
                                 r.body ? r.body : "");
                free(r.body);
                guest_rcar(g);
                (*ret_rcar)++;
        }
        fail_msg("GET %s: still 401 after 3 attempts", path);
        return NULL;
}

/* ---- set-up ---- */

static int setup(void **state)
{
        (void)state;
        char key[512], pub[512], p[600], cfg[4096], tok[600];
        struct vt_diag d = {0};
        if (vtt_setup_sim("trustee-guest", &guest) < 0)
                return -1;
        char measurement[97];
        vt_hex_encode(guest.measurement, 48, measurement);
        snprintf(p, sizeof(p), "%s/kek", vtt_dir);
        if (vt_kek_generate(p, &d) < 0)
                return -1;
        snprintf(key, sizeof(key), "%s/admin.key", vtt_dir);
        snprintf(pub, sizeof(pub), "%s/admin.pub", vtt_dir);
        if (vt_admin_keygen(key, pub, &d) < 0)
                return -1;
        char *jwt = NULL;
        if (vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "test", &jwt, &d) < 0)
                return -1;
        snprintf(tok, sizeof(tok), "%s/admin.jwt", vtt_dir);
        write_text(tok, jwt);
        free(jwt);
        char rv[512];
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        snprintf(p, sizeof(p), "%s/rv.json", vtt_dir);
        write_text(p, rv);
        /* a CA for the token key (token.ca_certificate/ca_key), and another CA */
        if (vt_test_sh("cd '%s' && for n in ca other; do openssl req -x509 -newkey ec "
                       "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.crt "
                       "-subj /CN=$n -days 2 -addext basicConstraints=critical,CA:TRUE "
                       "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || exit 1; "
                       "chmod 600 $n.key; done",
                       vtt_dir) != 0)
                return -1;
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s]\n"
                 "token:\n  ca_certificate: %s/ca.crt\n  ca_key: %s/ca.key\n",
                 vtt_dir, vtt_dir, vtt_simdir, vtt_dir, pub, vtt_dir, vtt_dir);
        server_start(&S, "trustee-guest", cfg);
        char sec[600], pol[600];
        snprintf(sec, sizeof(sec), "%s/secret.txt", vtt_dir);
        snprintf(pol, sizeof(pol), "%s/policy.json", vtt_dir);
        write_text(sec, secret_text);
        write_text(pol, "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":"
                        "\"affirming\"}]}");
        if (vt_test_sh("'%s' secret put default/key/ingress '%s' --policy '%s' --server %s "
                       "--token '%s' >/dev/null",
                       bin("veritee"), sec, pol, S.url, tok) != 0)
                return -1;
        proxy_start();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        if (proxy_fd >= 0) {
                shutdown(proxy_fd, SHUT_RDWR);
                close(proxy_fd);
                pthread_join(proxy_thread, NULL);
        }
        if (!getenv("VT_KEEP_TMP"))
                (void)vt_test_sh("rm -rf '%s'", vtt_dir);
        curl_global_cleanup();
        return 0;
}

/* ---- the cases ---- */

/* A guest whose KBS URL is http://proxy/trust: the first GET (no session) gets 401, the
 * guest runs RCAR through the proxy (the cookie scoped to /trust/kbs/v0 goes back on
 * attest), retries with the cookie, and with Bearer as the confidential-data-hub does. */
static void test_guest_behind_path_prefix(void **state)
{
        (void)state;
        struct guest g;
        int rcar = 0;
        guest_init(&g);
        char *s = guest_get(&g, "/kbs/v0/resource/default/key/ingress", false, &rcar);
        assert_string_equal(s, secret_text);
        assert_int_equal(rcar, 1); /* one 401, one RCAR */
        free(s);
        /* the session cookie alone, again: no RCAR */
        s = guest_get(&g, "/kbs/v0/resource/default/key/ingress", false, &rcar);
        assert_string_equal(s, secret_text);
        assert_int_equal(rcar, 1);
        free(s);
        /* Bearer on a fresh jar (the CDH path) */
        struct guest g2;
        guest_init(&g2);
        guest_rcar(&g2);
        curl_easy_setopt(g2.c, CURLOPT_COOKIELIST, "ALL"); /* forget the cookie */
        s = guest_get(&g2, "/kbs/v0/resource/default/key/ingress", true, &rcar);
        assert_string_equal(s, secret_text);
        assert_int_equal(rcar, 1);
        free(s);
        /* an unknown resource: 401 as Trustee, so the guest re-attests, then gives up */
        int before = rcar;
        struct resp r = guest_req(&g2, "/kbs/v0/resource/default/key/none", NULL, g2.token);
        assert_int_equal(r.status, 401);
        free(r.body);
        assert_int_equal(rcar, before);
        guest_done(&g);
        guest_done(&g2);
}

static X509 *x5c_cert(const json_t *x5c, size_t i)
{
        const char *b = json_string_value(json_array_get(x5c, i));
        uint8_t *der = NULL;
        size_t n = 0;
        assert_non_null(b);
        assert_int_equal(vt_b64_decode(b, strlen(b), VT_B64_STD, 65536, &der, &n), 0);
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)n);
        free(der);
        assert_non_null(x);
        return x;
}

static X509 *load_crt(const char *name)
{
        char p[600];
        snprintf(p, sizeof(p), "%s/%s", vtt_dir, name);
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        assert_non_null(x);
        return x;
}

/* Trustee's verify_jwk_endorsement: the header's jwk must carry x5c; x5c[0]'s key must be
 * the jwk; x5c[1..] are untrusted intermediates; the chain must verify to one of
 * trusted_certs_paths. Then the token is verified with that jwk (alg from the jwk). */
static int trustee_verify(const char *token, const char *trusted_crt, json_t **ret_claims)
{
        const char *dot = strchr(token, '.');
        uint8_t *hb = NULL;
        size_t hl = 0;
        assert_non_null(dot);
        assert_int_equal(vt_b64_decode(token, (size_t)(dot - token), VT_B64_URL, 65536, &hb, &hl),
                         0);
        json_auto_t *hdr = json_loadb((const char *)hb, hl, 0, NULL);
        free(hb);
        json_t *jwk = json_object_get(hdr, "jwk");
        json_t *x5c = json_object_get(jwk, "x5c");
        if (!json_is_array(x5c) || json_array_size(x5c) == 0)
                return -1; /* "No x5c extension inside JWK" */
        assert_string_equal(json_string_value(json_object_get(jwk, "alg")), "ES256");
        X509 *leaf = x5c_cert(x5c, 0);
        EVP_PKEY *pk = NULL;
        assert_int_equal(vt_jwk_to_verify_key(jwk, &pk, NULL), 0);
        int ok = EVP_PKEY_eq(X509_get0_pubkey(leaf), pk) == 1;
        EVP_PKEY_free(pk);
        STACK_OF(X509) *chain = sk_X509_new_null();
        for (size_t i = 1; i < json_array_size(x5c); i++)
                sk_X509_push(chain, x5c_cert(x5c, i));
        X509_STORE *st = X509_STORE_new();
        X509 *ca = load_crt(trusted_crt);
        X509_STORE_add_cert(st, ca);
        X509_free(ca);
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        ok = ok && X509_STORE_CTX_init(ctx, st, leaf, chain) == 1 && X509_verify_cert(ctx) == 1;
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
        sk_X509_pop_free(chain, X509_free);
        X509_free(leaf);
        if (!ok)
                return -2; /* "JWK cannot be validated by trust anchor" */
        json_auto_t *jwks = json_pack("{s:[O]}", "keys", jwk);
        struct vt_diag d = {0};
        return vt_jws_verify_jwks(token, jwks, "token", NULL, ret_claims, &d) < 0 ? -3 : 0;
}

static void test_trustee_verifies_token_x5c(void **state)
{
        (void)state;
        struct guest g;
        guest_init(&g);
        guest_rcar(&g);
        json_t *claims = NULL;
        assert_int_equal(trustee_verify(g.token, "ca.crt", &claims), 0);
        assert_string_equal(
                json_string_value(json_object_get(
                        json_object_get(json_object_get(claims, "submods"), "cpu0"), "ear.status")),
                "affirming");
        json_decref(claims);
        /* another CA does not vouch for it */
        assert_int_equal(trustee_verify(g.token, "other.crt", NULL), -2);
        /* the chain written for operators is the one in the tokens */
        assert_true(log_has(&S, "tokens carry x5c: 2 certificate(s)"));
        char p[600];
        snprintf(p, sizeof(p), "%s/state/token-certificate-chain.pem", vtt_dir);
        char *pem = slurp(p);
        assert_non_null(strstr(pem, "BEGIN CERTIFICATE"));
        free(pem);
        guest_done(&g);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_guest_behind_path_prefix),
                cmocka_unit_test(test_trustee_verifies_token_x5c),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
