/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile clients (issue 16): a test program, not veritee's agent, plays each hostile
 * client of the matrix below against the real veriteed (127.0.0.1, a temporary SQLite
 * store), with raw sockets where a URL library would refuse to send the bytes and libcurl
 * elsewhere. For every row: the status, the problem detail the client reads, the reason
 * in the log line of that request, and no state change (the attacker's sessions, the
 * resources, policies and reference values, no ledger entry for the request). All the
 * while a well-behaved TEE (the simulator, from 127.0.0.2) runs the whole flow (auth,
 * attest, fetch a secret) in a loop, and every flow must be served within a second.
 * docs/SECURITY.md ("Hostile clients") has the same table; the test prints it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/keyfile.h"
#include "crypto/seal.h"
#include "evidence/snp_wire.h"
#include "kbs/rcar.h"
#include "testutil.h"
#include "token/admin.h"
#include "token/jose.h"
#include "token/jwt.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/macro.h"
#include "vtdtest.h"

#define ATTACKER   "127.0.0.1"
#define HONEST     "127.0.0.2"
#define FLOODER    "127.0.0.9"
#define MAX_BODY   65536
#define DEADLINE   3  /* limits.request_timeout_seconds */
#define PER_CLIENT 16 /* limits.max_sessions_per_client */
#define RELEASE    "/kbs/v0/resource/default/key/db"

/* The well-behaved client is served within a second (issue 16); a sanitizer build makes
 * every request several times slower, and there the bound is three. */
#if defined(__SANITIZE_ADDRESS__)
#define FLOW_BOUND 3.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOW_BOUND 3.0
#endif
#endif
#ifndef FLOW_BOUND
#define FLOW_BOUND 1.0
#endif

static struct vt_sim_guest guest;
static struct server S;
static char admin_key[512], tok_admin[4096], db[512];
static char *token;        /* a real attestation token of the attacker's own TEE */
static EVP_PKEY *srv_key;  /* the server's token key, read from its state directory */
static EVP_PKEY *evil_key; /* the attacker's P-256 key */
static char srv_kid[128];
static int mute_fd = -1; /* a KDS that accepts connections and never answers */

static const char auth_sim[] = "{\"version\":\"0.4.0\",\"tee\":\"sim\",\"extra-params\":\"\"}";
static const char policy_sim[] =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
        "{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true}]}";

static double mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- requests, without cmocka assertions (the well-behaved client is a thread) ---- */

struct ans {
        long status; /* 0: closed without an answer */
        char *body;
        size_t len;
        char rid[24];
        char cookie[64];
        double secs;
};

static void ans_done(struct ans *a)
{
        free(a->body);
        *a = (struct ans){0};
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
        struct ans *a = ud;
        char *nb = realloc(a->body, a->len + sz * n + 1);
        if (!nb)
                return 0;
        a->body = nb;
        memcpy(a->body + a->len, p, sz * n);
        a->len += sz * n;
        a->body[a->len] = 0;
        return sz * n;
}

static void header_value(const char *p, size_t len, const char *key, char *out, size_t cap)
{
        size_t kl = strlen(key), i = 0;
        if (len <= kl || strncasecmp(p, key, kl) != 0)
                return;
        for (p += kl; i + 1 < cap && p[i] && p[i] != ';' && p[i] != '\r' && p[i] != '\n'; i++)
                out[i] = p[i];
        out[i] = 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
        struct ans *a = ud;
        header_value(p, sz * n, "Set-Cookie: kbs-session-id=", a->cookie, sizeof(a->cookie));
        header_value(p, sz * n, "X-Request-Id: ", a->rid, sizeof(a->rid));
        return sz * n;
}

/* creq sends one request from address src; ctype NULL sends no Content-Type, body NULL
 * no body. */
static struct ans creq(const char *src, const char *method, const char *path, const char *ctype,
                       const char *body, size_t len, const char *cookie, const char *authz)
{
        struct ans a = {0};
        char url[1024], iface[64], ck[128], ct[128];
        char *ah = NULL;
        CURL *c = curl_easy_init();
        struct curl_slist *h = NULL;
        if (!c)
                return a;
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "");
        h = curl_slist_append(h, ctype ? ct : "Content-Type:");
        if (authz && asprintf(&ah, "Authorization: %s", authz) > 0)
                h = curl_slist_append(h, ah);
        snprintf(url, sizeof(url), "%s%s", S.url, path);
        snprintf(iface, sizeof(iface), "host!%s", src);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        if (cookie) {
                snprintf(ck, sizeof(ck), "kbs-session-id=%s", cookie);
                curl_easy_setopt(c, CURLOPT_COOKIE, ck);
        }
        if (body) {
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        }
        double t0 = mono();
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
        a.secs = mono() - t0;
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        free(ah);
        return a;
}

static struct ans cpost(const char *src, const char *path, const char *body, const char *cookie)
{
        return creq(src, "POST", path, "application/json", body, strlen(body), cookie, NULL);
}

static struct ans cget(const char *path, const char *authz)
{
        return creq(ATTACKER, "GET", path, NULL, NULL, 0, NULL, authz);
}

static unsigned port_of(void)
{
        return (unsigned)strtoul(strrchr(S.url, ':') + 1, NULL, 10);
}

static int connect_from(const char *src)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET}, b = {.sin_family = AF_INET};
        if (fd < 0)
                return -1;
        inet_pton(AF_INET, src, &b.sin_addr);
        a.sin_port = htons((uint16_t)port_of());
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0 ||
            connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* read_answer reads what the server sends on fd until it closes or timeout_s passes
 * and parses the status (0: nothing came), the X-Request-Id and the body. */
static void read_answer(int fd, double timeout_s, struct ans *a)
{
        size_t cap = 65536, n = 0;
        char *buf = calloc(1, cap + 1);
        double t0 = mono();
        assert_non_null(buf);
        while (mono() - t0 < timeout_s && n < cap) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 50) <= 0)
                        continue;
                ssize_t r = recv(fd, buf + n, cap - n, 0);
                if (r <= 0)
                        break;
                n += (size_t)r;
        }
        a->secs = mono() - t0;
        buf[n] = 0;
        if (n > 12 && memcmp(buf, "HTTP/1.", 7) == 0)
                a->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
        for (char *l = buf; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
                if (strncmp(l, "\r\n", 2) == 0) {
                        a->body = strdup(l + 2);
                        a->len = strlen(a->body);
                        break;
                }
                header_value(l, strlen(l), "X-Request-Id: ", a->rid, sizeof(a->rid));
        }
        free(buf);
}

/* raw sends bytes (a NUL, a header or a method no URL library sends) from the attacker
 * and reads the answer. */
static struct ans raw(const void *req, size_t len)
{
        struct ans a = {0};
        int fd = connect_from(ATTACKER);
        assert_true(fd >= 0);
        (void)send(fd, req, len, MSG_NOSIGNAL); /* the server may answer and close early */
        read_answer(fd, 10, &a);
        close(fd);
        return a;
}

static struct ans raw_str(const char *req)
{
        return raw(req, strlen(req));
}

/* ---- the store, read-only ---- */

static long long db_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long db_int(const char *fmt, ...)
{
        char *sql = NULL;
        va_list ap;
        va_start(ap, fmt);
        assert_true(vasprintf(&sql, fmt, ap) > 0);
        va_end(ap);
        long long v = vt_test_db_int(db, sql);
        free(sql);
        return v;
}

/* What a hostile request must not change: the attacker's sessions by state, the
 * resources, policies and reference values. */
struct state {
        long long open, claimed, attested, resources, res_updated, policies, refvals;
};

static struct state snapshot(void)
{
        static const char w[] = "FROM sessions WHERE client = '" ATTACKER "'";
        return (struct state){
                .open = db_int("SELECT count(*) %s AND state = 0", w),
                .claimed = db_int("SELECT count(*) %s AND state = 1", w),
                .attested = db_int("SELECT count(*) %s AND state = 2", w),
                .resources = db_int("SELECT count(*) FROM resources"),
                .res_updated = db_int("SELECT coalesce(sum(updated), 0) FROM resources"),
                .policies = db_int("SELECT count(*) FROM policies"),
                .refvals = db_int("SELECT count(*) FROM refvals"),
        };
}

static long long ledger_entries_of(const char *rid)
{
        return db_int("SELECT count(*) FROM ledger_entries WHERE entry LIKE "
                      "'%%\"request_id\":\"%s\"%%'",
                      rid);
}

/* The log line of request rid (malloc'd), or NULL. */
static char *log_line(const char *rid)
{
        char needle[64];
        snprintf(needle, sizeof(needle), "\"request_id\":\"%s\"", rid);
        for (int i = 0; i < 40; i++) {
                char *log = slurp(S.log);
                char *p = log ? strstr(log, needle) : NULL;
                /* only a whole line: one read may catch a line while it is being written */
                char *e = p ? strchr(p, '\n') : NULL;
                if (e) {
                        char *b = p;
                        while (b > log && b[-1] != '\n')
                                b--;
                        char *l = strndup(b, (size_t)(e - b));
                        free(log);
                        return l;
                }
                free(log);
                usleep(25 * 1000);
        }
        return NULL;
}

/* How many times the log holds needle. */
static unsigned log_count(const char *needle)
{
        char *log = slurp(S.log);
        unsigned n = 0;
        for (const char *p = log; p && (p = strstr(p, needle)); p++)
                n++;
        free(log);
        return n;
}

/* ---- tokens ---- */

static char *b64u(const void *p, size_t n)
{
        char *s = NULL;
        assert_int_equal(vt_b64_encode(p, n, VT_B64_URL, &s), 0);
        return s;
}

static char *b64u_json(const json_t *j)
{
        _cleanup_free_ char *t = json_dumps(j, JSON_COMPACT);
        return b64u(t, strlen(t));
}

/* The part (0 header, 1 payload) of the real token, parsed. */
static json_t *token_part(int part)
{
        const char *p = token, *dot = strchr(p, '.');
        if (part == 1) {
                p = dot + 1;
                dot = strchr(p, '.');
        }
        uint8_t *raw = NULL;
        size_t n = 0;
        assert_int_equal(vt_b64_decode(p, (size_t)(dot - p), VT_B64_URL, 1 << 20, &raw, &n), 0);
        json_t *j = json_loadb((const char *)raw, n, 0, NULL);
        free(raw);
        assert_non_null(j);
        return j;
}

/* "Bearer " + a JWS of claims under hdr signed by key (ES256). */
static char *bearer_signed(EVP_PKEY *key, const json_t *hdr, const json_t *claims)
{
        char *jws = NULL, *out = NULL;
        assert_int_equal(vt_jws_sign(key, VT_JWS_ES256, hdr, claims, &jws), 0);
        assert_true(asprintf(&out, "Bearer %s", jws) > 0);
        free(jws);
        return out;
}

/* "Bearer " + header.payload.sig from the parts given. */
static char *bearer_parts(const json_t *hdr, const json_t *claims, const char *sig64)
{
        _cleanup_free_ char *h = b64u_json(hdr), *p = b64u_json(claims);
        char *out = NULL;
        assert_true(asprintf(&out, "Bearer %s.%s.%s", h, p, sig64) > 0);
        return out;
}

static json_t *hdr_of(const char *alg, const char *kid)
{
        json_t *h = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
        if (kid)
                json_object_set_new(h, "kid", json_string(kid));
        return h;
}

/* ---- the well-behaved client ---- */

struct honest {
        atomic_bool stop;
        atomic_size_t row; /* the row being played, for the report of the slowest flow */
        unsigned flows, late, failed;
        double worst;
        size_t worst_row;
        char why[256];
        pthread_t t;
};

static struct honest H;

/* auth, attest with simulator evidence, release of the secret, from HONEST; returns the
 * time the server took (building the evidence is the TEE's, and is left out) or -1. */
static double honest_flow(json_t *jwk, EVP_PKEY *key, char *why, size_t cap)
{
        double t0 = mono(), build = 0;
        struct ans a = cpost(HONEST, "/kbs/v0/auth", auth_sim, NULL);
        json_t *j = a.status == 200 ? json_loads(a.body, 0, NULL) : NULL;
        const char *nonce = json_string_value(json_object_get(j, "nonce"));
        double r = -1;
        if (!nonce) {
                snprintf(why, cap, "auth: %ld %.200s", a.status, a.body ? a.body : "");
                goto out;
        }
        double b0 = mono();
        char *body = attest_body(nonce, &guest, jwk, jwk);
        build = mono() - b0;
        struct ans t = cpost(HONEST, "/kbs/v0/attest", body, a.cookie);
        free(body);
        json_t *tj = t.status == 200 ? json_loads(t.body, 0, NULL) : NULL;
        const char *tok = json_string_value(json_object_get(tj, "token"));
        if (!tok) {
                snprintf(why, cap, "attest: %ld %.200s", t.status, t.body ? t.body : "");
        } else {
                char *authz = NULL;
                if (asprintf(&authz, "Bearer %s", tok) > 0) {
                        struct ans g = creq(HONEST, "GET", RELEASE, NULL, NULL, 0, NULL, authz);
                        json_t *jwe = g.status == 200 ? json_loads(g.body, 0, NULL) : NULL;
                        uint8_t *secret = NULL;
                        size_t sl = 0;
                        /* the TEE opens it with its key */
                        if (jwe && vt_jwe_decrypt(key, jwe, &secret, &sl, NULL) == 0 && sl == 10 &&
                            memcmp(secret, "the secret", 10) == 0)
                                r = mono() - t0 - build;
                        else
                                snprintf(why, cap, "release: %ld %.200s", g.status,
                                         g.body ? g.body : "");
                        OPENSSL_clear_free(secret, sl);
                        json_decref(jwe);
                        ans_done(&g);
                        free(authz);
                }
        }
        json_decref(tj);
        ans_done(&t);
out:
        json_decref(j);
        ans_done(&a);
        return r;
}

static void *honest_main(void *arg)
{
        struct honest *h = arg;
        void *key = NULL;
        json_t *jwk = new_jwk_key(&key);
        while (!atomic_load(&h->stop)) {
                char why[256] = "";
                double dt = honest_flow(jwk, key, why, sizeof(why));
                h->flows++;
                if (dt < 0) {
                        h->failed++;
                        snprintf(h->why, sizeof(h->why), "%s", why);
                        continue;
                }
                if (dt > h->worst) {
                        h->worst = dt;
                        h->worst_row = atomic_load(&h->row);
                }
                if (dt > FLOW_BOUND)
                        h->late++;
                usleep(20 * 1000);
        }
        json_decref(jwk);
        EVP_PKEY_free(key);
        return NULL;
}

/* ---- the cases ---- */

/* A row of the matrix. prep (may be NULL) runs before the state is taken (a session
 * of the attacker's own, say); send plays the client and returns the answer the row is
 * about. status 0: the server closes the connection without an answer. */
struct hcase {
        const char *name;
        const char *request;
        void (*prep)(void);
        struct ans (*send)(void);
        long status;
        const char *reads; /* in the answer */
        const char *logs;  /* in the request's log line (NULL: reads) */
        bool changes;      /* the row checks the state it may change itself */
};

/* state shared by a prep and its send */
static char p_cookie[64], p_cookie2[64], *p_nonce, *p_nonce2, *p_body;

static char *auth_as(const char *src, const char *tee_body, char cookie[64])
{
        struct ans a = cpost(src, "/kbs/v0/auth", tee_body, NULL);
        if (a.status != 200)
                fail_msg("auth: %ld %s", a.status, a.body ? a.body : "");
        json_auto_t *j = json_loads(a.body, 0, NULL);
        char *n = strdup(json_string_value(json_object_get(j, "nonce")));
        memcpy(cookie, a.cookie, 64);
        ans_done(&a);
        return n;
}

static void prep_session(void)
{
        free(p_nonce);
        p_nonce = auth_as(ATTACKER, auth_sim, p_cookie);
}

/* an attest body with tee-pubkey jwk (stolen reference) and no real evidence: the key is
 * checked before the nonce is claimed or evidence looked at */
static struct ans attest_with_key(json_t *jwk)
{
        json_auto_t *b = json_pack("{s:{s:s, s:o}, s:{s:{}, s:s}}", "runtime-data", "nonce",
                                   p_nonce, "tee-pubkey", jwk, "tee-evidence", "primary_evidence",
                                   "additional_evidence", "");
        _cleanup_free_ char *t = json_dumps(b, JSON_COMPACT);
        return cpost(ATTACKER, "/kbs/v0/attest", t, p_cookie);
}

/* ---- transport ---- */

static struct ans s_body_declared(void)
{
        return raw_str("POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 10485760\r\nConnection: close\r\n\r\n{");
}

static struct ans s_body_chunked(void)
{
        size_t n = MAX_BODY + 4096;
        _cleanup_free_ char *req = malloc(n + 512);
        assert_non_null(req);
        int h = snprintf(
                req, 512,
                "POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n%zx\r\n",
                n);
        memset(req + h, ' ', n);
        memcpy(req + h + n, "\r\n0\r\n\r\n", 7);
        return raw(req, (size_t)h + n + 7);
}

static struct ans s_header_big(void)
{
        size_t n = 200 * 1024;
        _cleanup_free_ char *req = malloc(n + 256);
        assert_non_null(req);
        int h = snprintf(req, 256, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
        memset(req + h, 'a', n);
        memcpy(req + h + n, "\r\nConnection: close\r\n\r\n", 23);
        return raw(req, (size_t)h + n + 23);
}

static struct ans s_headers_many(void)
{
        size_t cap = 4000 * 16 + 256, n = 0;
        _cleanup_free_ char *req = malloc(cap);
        assert_non_null(req);
        n += (size_t)snprintf(req, cap, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
        for (unsigned i = 0; i < 4000; i++)
                n += (size_t)snprintf(req + n, cap - n, "X-%u: y\r\n", i % 10000);
        n += (size_t)snprintf(req + n, cap - n, "Connection: close\r\n\r\n");
        return raw(req, n);
}

static struct ans s_ctype_text(void)
{
        return creq(ATTACKER, "POST", "/kbs/v0/auth", "text/plain", auth_sim, strlen(auth_sim),
                    NULL, NULL);
}

static struct ans s_ctype_form(void)
{
        return creq(ATTACKER, "POST", "/kbs/v0/attest", "application/x-www-form-urlencoded", "a=b",
                    3, p_cookie, NULL);
}

static struct ans s_ctype_none(void)
{
        return creq(ATTACKER, "POST", "/kbs/v0/auth", NULL, auth_sim, strlen(auth_sim), NULL, NULL);
}

/* ---- JSON ---- */

static struct ans auth_body(const char *b, size_t n)
{
        return creq(ATTACKER, "POST", "/kbs/v0/auth", "application/json", b, n, NULL, NULL);
}

static struct ans s_json_malformed(void)
{
        return auth_body("{\"version\":\"0.4.0\",", 19);
}

static struct ans s_json_array(void)
{
        return auth_body("[\"0.4.0\",\"sim\"]", 15);
}

static struct ans s_json_deep(void)
{
        enum { DEPTH = 20000 };
        _cleanup_free_ char *b = malloc(2 * DEPTH + 16);
        assert_non_null(b);
        size_t n = (size_t)snprintf(b, 16, "{\"a\":");
        memset(b + n, '[', DEPTH);
        memset(b + n + DEPTH, ']', DEPTH);
        b[n + 2 * DEPTH] = '}';
        return auth_body(b, n + 2 * DEPTH + 1);
}

static struct ans s_json_huge_real(void)
{
        static const char b[] = "{\"version\":\"0.4.0\",\"tee\":\"sim\",\"extra-params\":1e99999}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_huge_int(void)
{
        static const char b[] = "{\"version\":\"0.4.0\",\"tee\":\"sim\","
                                "\"extra-params\":123456789012345678901234567890}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_utf8(void)
{
        static const char b[] =
                "{\"version\":\"0.4.0\",\"tee\":\"s\xff\xfeim\",\"extra-params\":\"\"}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_overlong(void)
{
        /* "/" as an overlong two-byte sequence */
        static const char b[] =
                "{\"version\":\"0.4.0\",\"tee\":\"\xc0\xafsim\",\"extra-params\":\"\"}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_nul_escaped(void)
{
        static const char b[] =
                "{\"version\":\"0.4.0\",\"tee\":\"sim\\u0000x\",\"extra-params\":\"\"}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_nul_raw(void)
{
        static const char b[] = "{\"version\":\"0.4.0\",\"tee\":\"sim\0x\",\"extra-params\":\"\"}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_duplicate(void)
{
        static const char b[] =
                "{\"version\":\"0.4.0\",\"tee\":\"sim\",\"tee\":\"snp\",\"extra-params\":\"\"}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_types(void)
{
        static const char b[] = "{\"version\":0.4,\"tee\":[\"sim\"],\"extra-params\":\"\"}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_unknown_tee(void)
{
        static const char b[] =
                "{\"version\":\"0.4.0\",\"tee\":\"../../sim\",\"extra-params\":\"\"}";
        return auth_body(b, sizeof(b) - 1);
}

static struct ans s_json_tee_cut(void)
{
        /* valid UTF-8 whose quote in the answer (24 bytes) ends inside a character */
        char b[256];
        int n = snprintf(b, sizeof(b), "{\"version\":\"0.4.0\",\"tee\":\"a");
        for (unsigned i = 0; i < 20; i++)
                n += snprintf(b + n, sizeof(b) - (size_t)n, "\xc3\xa9");
        n += snprintf(b + n, sizeof(b) - (size_t)n, "\",\"extra-params\":\"\"}");
        return auth_body(b, (size_t)n);
}

static struct ans s_method_bytes(void)
{
        return raw_str("BR\xc3W /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

static struct ans s_attest_shape(void)
{
        static const char b[] = "{\"runtime-data\":\"x\",\"tee-evidence\":7}";
        return cpost(ATTACKER, "/kbs/v0/attest", b, p_cookie);
}

/* ---- paths, routes, methods ---- */

static struct ans s_path_nul_enc(void)
{
        return cget(RELEASE "%00.txt", NULL);
}

static struct ans s_path_nul_raw(void)
{
        static const char r[] = "GET /kbs/v0/resource/default/key/db\0.txt HTTP/1.1\r\nHost: x\r\n"
                                "Connection: close\r\n\r\n";
        return raw(r, sizeof(r) - 1);
}

static struct ans s_path_slash(void)
{
        return cget("/kbs/v0/resource/default%2Fkey/db", NULL);
}

static struct ans s_path_traversal(void)
{
        return cget("/kbs/v0/resource/../../../../etc/passwd", NULL);
}

static struct ans s_path_traversal_enc(void)
{
        return cget("/kbs/v0/resource/default/%2e%2e/db", NULL);
}

static struct ans s_path_traversal_admin(void)
{
        return creq(ATTACKER, "PUT", "/kbs/v0/resource/default/key/../../x",
                    "application/octet-stream", "v", 1, NULL, tok_admin);
}

static struct ans s_route_unknown(void)
{
        return cget("/kbs/v0/nothing-here", NULL);
}

static struct ans s_method_unknown(void)
{
        return raw_str("BREW /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

static struct ans s_method_wrong(void)
{
        return creq(ATTACKER, "DELETE", "/kbs/v0/auth", NULL, NULL, 0, NULL, NULL);
}

static struct ans s_http_version(void)
{
        return raw_str("GET /healthz HTTP/7.3\r\nHost: x\r\nConnection: close\r\n\r\n");
}

/* ---- connections ---- */

static struct ans s_trickle(void)
{
        static const char r[] = "POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\n"
                                "Content-Type: application/json\r\nX-Pad: "
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        struct ans a = {0};
        int fd = connect_from(ATTACKER);
        assert_true(fd >= 0);
        double t0 = mono();
        bool closed = false;
        /* one byte every 100 ms: never idle, never a whole request */
        for (size_t i = 0; i < sizeof(r) - 1 && !closed; i++) {
                if (send(fd, r + i, 1, MSG_NOSIGNAL) != 1)
                        break;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                closed = poll(&p, 1, 100) > 0;
        }
        read_answer(fd, DEADLINE + 3, &a);
        a.secs = mono() - t0;
        close(fd);
        if (a.secs < DEADLINE - 0.5 || a.secs > DEADLINE + 2.0)
                fail_msg("trickling client cut after %.2f s, want %d s", a.secs, DEADLINE);
        return a;
}

static struct ans s_half_open_headers(void)
{
        struct ans a = {0};
        int fd = connect_from(ATTACKER);
        assert_true(fd >= 0);
        static const char r[] = "POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\nContent-Ty";
        (void)send(fd, r, sizeof(r) - 1, MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        read_answer(fd, DEADLINE + 3, &a);
        close(fd);
        if (a.secs > 1.0)
                fail_msg("half-open connection kept %.2f s", a.secs);
        return a;
}

static struct ans s_half_open_body(void)
{
        struct ans a = {0};
        int fd = connect_from(ATTACKER);
        assert_true(fd >= 0);
        static const char r[] = "POST /kbs/v0/auth HTTP/1.1\r\nHost: x\r\n"
                                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                                "{\"version\":\"0.4.0\",";
        double t0 = mono();
        (void)send(fd, r, sizeof(r) - 1, MSG_NOSIGNAL);
        read_answer(fd, DEADLINE + 3, &a);
        a.secs = mono() - t0;
        close(fd);
        if (a.secs < DEADLINE - 0.5 || a.secs > DEADLINE + 2.0)
                fail_msg("a body that stops was cut after %.2f s, want %d s", a.secs, DEADLINE);
        return a;
}

static struct ans s_half_close_request(void)
{
        /* a whole request, then FIN: a legitimate half-close, still answered */
        struct ans a = {0};
        int fd = connect_from(ATTACKER);
        assert_true(fd >= 0);
        static const char r[] = "GET /kbs/v0/nothing HTTP/1.1\r\nHost: x\r\n\r\n";
        (void)send(fd, r, sizeof(r) - 1, MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        read_answer(fd, 5, &a);
        close(fd);
        return a;
}

/* ---- floods ---- */

static struct ans s_session_flood(void)
{
        struct ans a = {0};
        for (unsigned i = 0; i < PER_CLIENT + 8; i++) {
                ans_done(&a);
                a = cpost(FLOODER, "/kbs/v0/auth", auth_sim, NULL);
                if (a.status != (i < PER_CLIENT ? 200 : 429))
                        fail_msg("auth %u from " FLOODER ": %ld", i, a.status);
        }
        assert_int_equal(db_int("SELECT count(*) FROM sessions WHERE client = '" FLOODER "'"),
                         PER_CLIENT);
        return a;
}

/* SNP evidence from the simulator's template report bound to nonce with chip_id chip:
 * no VCEK is sent, so the server would have to fetch one. */
static uint8_t tmpl[VT_SNP_REPORT_SIZE];

static char *novcek_body(const char *nonce, json_t *jwk, const uint8_t chip[64])
{
        uint8_t rep[VT_SNP_REPORT_SIZE];
        memcpy(rep, tmpl, sizeof(rep));
        memset(rep + 0x50, 0, 64);
        if (vt_kbs_runtime_binding(nonce, jwk, "", rep + 0x50) < 0)
                return NULL;
        memcpy(rep + 0x1a0, chip, 64);
        json_t *ev = NULL;
        if (vt_snp_wire_encode(rep, NULL, 0, &ev) < 0)
                return NULL;
        json_auto_t *body = json_pack("{s:{s:s, s:O}, s:{s:o, s:s}}", "runtime-data", "nonce",
                                      nonce, "tee-pubkey", jwk, "tee-evidence", "primary_evidence",
                                      ev, "additional_evidence", "");
        return json_dumps(body, JSON_COMPACT);
}

static const char auth_snp[] = "{\"version\":\"0.4.0\",\"tee\":\"snp\",\"extra-params\":\"\"}";

struct fetcher {
        char src[16];
        uint8_t chip[64];
        long status;
        double secs;
        char rid[24];
};

static void fetch_once(struct fetcher *f)
{
        json_t *jwk = new_jwk();
        struct ans a = cpost(f->src, "/kbs/v0/auth", auth_snp, NULL);
        json_t *j = a.status == 200 ? json_loads(a.body, 0, NULL) : NULL;
        const char *nonce = json_string_value(json_object_get(j, "nonce"));
        char *body = nonce ? novcek_body(nonce, jwk, f->chip) : NULL;
        f->status = a.status == 200 ? 0 : a.status;
        if (body) {
                struct ans t = cpost(f->src, "/kbs/v0/attest", body, a.cookie);
                f->status = t.status;
                f->secs = t.secs;
                memcpy(f->rid, t.rid, sizeof(f->rid));
                ans_done(&t);
        }
        free(body);
        json_decref(j);
        json_decref(jwk);
        ans_done(&a);
}

static void *fetcher_main(void *arg)
{
        fetch_once(arg);
        return NULL;
}

static struct ans s_collateral_flood(void)
{
        enum { N = 24 };
        struct fetcher f[N], first = {.src = "127.0.0.19"};
        pthread_t t[N];
        /* one fetch that times out first: this chip is then not fetched again */
        memset(first.chip, 0x5a, sizeof(first.chip));
        fetch_once(&first);
        assert_int_equal(first.status, 401);
        /* sixteen addresses, new chips each time, all at once, against a KDS that never
         * answers (attestation.kds_timeout_seconds: 2, kds_max_fetches: 2) */
        for (unsigned i = 0; i < N; i++) {
                memset(&f[i], 0, sizeof(f[i]));
                snprintf(f[i].src, sizeof(f[i].src), "127.0.0.%u", 20 + i % 16);
                RAND_bytes(f[i].chip, sizeof(f[i].chip));
                assert_int_equal(pthread_create(&t[i], NULL, fetcher_main, &f[i]), 0);
        }
        for (unsigned i = 0; i < N; i++)
                pthread_join(t[i], NULL);
        for (unsigned i = 0; i < N; i++) {
                if (f[i].status != 401 || f[i].secs > 3.5)
                        fail_msg("collateral flood %u: %ld after %.2f s", i, f[i].status,
                                 f[i].secs);
                assert_int_equal(ledger_entries_of(f[i].rid), 0);
        }
        /* a chip whose fetch failed is not fetched again: answered at once, and the
         * client reads why */
        json_auto_t *jwk = new_jwk();
        struct ans au = cpost(first.src, "/kbs/v0/auth", auth_snp, NULL);
        assert_int_equal(au.status, 200);
        json_auto_t *j = json_loads(au.body, 0, NULL);
        _cleanup_free_ char *body =
                novcek_body(json_string_value(json_object_get(j, "nonce")), jwk, first.chip);
        struct ans a = cpost(first.src, "/kbs/v0/attest", body, au.cookie);
        ans_done(&au);
        if (a.secs > 1.0)
                fail_msg("a chip whose fetch failed took %.2f s", a.secs);
        return a;
}

/* ---- replays and concurrency ---- */

static void prep_attested(void)
{
        json_auto_t *jwk = new_jwk();
        prep_session();
        free(p_body);
        p_body = attest_body(p_nonce, &guest, jwk, jwk);
        struct ans a = cpost(ATTACKER, "/kbs/v0/attest", p_body, p_cookie);
        assert_int_equal(a.status, 200);
        ans_done(&a);
}

static struct ans s_replay_nonce(void)
{
        return cpost(ATTACKER, "/kbs/v0/attest", p_body, p_cookie);
}

static void prep_two_sessions(void)
{
        prep_session();
        free(p_nonce2);
        p_nonce2 = auth_as(ATTACKER, auth_sim, p_cookie2);
}

static struct ans s_other_nonce(void)
{
        json_auto_t *jwk = new_jwk();
        _cleanup_free_ char *b = attest_body(p_nonce, &guest, jwk, jwk);
        return cpost(ATTACKER, "/kbs/v0/attest", b, p_cookie2);
}

static struct ans s_unknown_cookie(void)
{
        return cpost(ATTACKER, "/kbs/v0/attest", "{}", "0123456789abcdef0123456789abcdef");
}

static struct ans s_cookie_release(void)
{
        /* the cookie of an open (not attested) session does not release anything */
        return creq(ATTACKER, "GET", RELEASE, NULL, NULL, 0, p_cookie, NULL);
}

struct racer {
        const char *body;
        struct ans a;
};

static void *racer_main(void *arg)
{
        struct racer *r = arg;
        r->a = cpost(ATTACKER, "/kbs/v0/attest", r->body, p_cookie);
        return NULL;
}

static struct ans s_concurrent(void)
{
        enum { N = 8 };
        json_auto_t *jwk = new_jwk();
        prep_session();
        _cleanup_free_ char *b = attest_body(p_nonce, &guest, jwk, jwk);
        struct racer r[N];
        pthread_t t[N];
        for (unsigned i = 0; i < N; i++) {
                r[i] = (struct racer){.body = b};
                assert_int_equal(pthread_create(&t[i], NULL, racer_main, &r[i]), 0);
        }
        unsigned ok = 0, loser = N;
        for (unsigned i = 0; i < N; i++)
                pthread_join(t[i], NULL);
        for (unsigned i = 0; i < N; i++) {
                if (r[i].a.status == 200) {
                        ok++;
                        assert_int_equal(ledger_entries_of(r[i].a.rid), 1);
                } else {
                        assert_int_equal(r[i].a.status, 401);
                        assert_int_equal(ledger_entries_of(r[i].a.rid), 0);
                        loser = i;
                }
        }
        assert_int_equal(ok, 1);
        assert_true(loser < N);
        struct ans a = r[loser].a;
        for (unsigned i = 0; i < N; i++)
                if (i != loser)
                        ans_done(&r[i].a);
        return a;
}

/* ---- forged attestation tokens (GET of a released secret) ---- */

static struct ans release_with(char *authz)
{
        struct ans a = cget(RELEASE, authz);
        free(authz);
        return a;
}

static struct ans s_tok_none(void)
{
        json_auto_t *h = hdr_of("none", NULL), *c = token_part(1);
        return release_with(bearer_parts(h, c, ""));
}

static struct ans s_tok_hs256(void)
{
        /* HMAC keyed with the server's public JWK, as published at /.well-known/jwks.json */
        struct ans k = cget("/.well-known/jwks.json", NULL);
        assert_int_equal(k.status, 200);
        json_auto_t *h = hdr_of("HS256", srv_kid), *c = token_part(1);
        _cleanup_free_ char *hp = b64u_json(h), *pp = b64u_json(c);
        char *signing = NULL;
        assert_true(asprintf(&signing, "%s.%s", hp, pp) > 0);
        uint8_t mac[32];
        size_t ml = 0;
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k.body, k.len,
                                  (const uint8_t *)signing, strlen(signing), mac, sizeof(mac),
                                  &ml));
        _cleanup_free_ char *sig = b64u(mac, ml);
        char *authz = NULL;
        assert_true(asprintf(&authz, "Bearer %s.%s", signing, sig) > 0);
        free(signing);
        ans_done(&k);
        return release_with(authz);
}

static struct ans s_tok_rs256(void)
{
        json_auto_t *h = hdr_of("RS256", srv_kid), *c = token_part(1);
        uint8_t sig[256] = {1};
        _cleanup_free_ char *s = b64u(sig, sizeof(sig));
        return release_with(bearer_parts(h, c, s));
}

static struct ans s_tok_kid_path(void)
{
        json_auto_t *h = hdr_of("ES256", "../../../../dev/null"), *c = token_part(1);
        return release_with(bearer_signed(srv_key, h, c));
}

static struct ans s_tok_kid_long(void)
{
        char kid[300];
        memset(kid, 'k', sizeof(kid) - 1);
        kid[sizeof(kid) - 1] = 0;
        json_auto_t *h = hdr_of("ES256", kid), *c = token_part(1);
        return release_with(bearer_signed(srv_key, h, c));
}

static struct ans s_tok_kid_evil(void)
{
        /* the server's kid, the attacker's key, which the header also embeds (jwk, jku) */
        json_auto_t *h = hdr_of("ES256", srv_kid), *c = token_part(1);
        json_t *jwk = vt_jwk_p256_public(evil_key);
        json_object_set_new(h, "jwk", jwk);
        json_object_set_new(h, "jku", json_string("http://127.0.0.1:9/jwks.json"));
        return release_with(bearer_signed(evil_key, h, c));
}

static struct ans s_tok_crit(void)
{
        json_auto_t *h = hdr_of("ES256", srv_kid), *c = token_part(1);
        json_object_set_new(h, "crit", json_pack("[s]", "exp"));
        return release_with(bearer_signed(srv_key, h, c));
}

static struct ans s_tok_high_s(void)
{
        const char *sig64 = strrchr(token, '.') + 1;
        uint8_t *sig = NULL;
        size_t n = 0;
        assert_int_equal(vt_b64_decode(sig64, strlen(sig64), VT_B64_URL, 64, &sig, &n), 0);
        assert_int_equal(n, 64);
        BIGNUM *order = NULL, *s = BN_bin2bn(sig + 32, 32, NULL);
        assert_true(BN_hex2bn(&order,
                              "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551") >
                    0);
        assert_true(BN_sub(s, order, s));
        assert_int_equal(BN_bn2binpad(s, sig + 32, 32), 32);
        BN_free(s);
        BN_free(order);
        _cleanup_free_ char *ns = b64u(sig, 64);
        free(sig);
        char *authz = NULL;
        assert_true(asprintf(&authz, "Bearer %.*s.%s", (int)(sig64 - 1 - token), token, ns) > 0);
        return release_with(authz);
}

static struct ans s_tok_edited(void)
{
        /* the same signature over claims that now carry the attacker's key */
        json_auto_t *h = token_part(0), *c = token_part(1);
        json_object_set_new(c, "tee-pubkey", vt_jwk_p256_public(evil_key));
        return release_with(bearer_parts(h, c, strrchr(token, '.') + 1));
}

static struct ans s_tok_other_key(void)
{
        json_auto_t *h = hdr_of("ES256", NULL), *c = token_part(1);
        return release_with(bearer_signed(evil_key, h, c));
}

static EVP_PKEY *load_key(const char *path)
{
        uint8_t *pem = NULL;
        size_t n = 0;
        EVP_PKEY *k = NULL;
        assert_int_equal(vt_read_file(path, 1 << 16, &pem, &n), 0);
        assert_int_equal(vt_pem_private_key(pem, n, &k), 0);
        OPENSSL_clear_free(pem, n);
        return k;
}

static struct ans s_tok_ledger_key(void)
{
        /* the server's other P-256 key, which signs tree heads, under its own kid */
        char path[512], kid[VT_JWK_THUMBPRINT_LEN + 1];
        snprintf(path, sizeof(path), "%s/state/ledger-signing-key.pem", vtt_dir);
        EVP_PKEY *k = load_key(path);
        assert_int_equal(vt_jwk_thumbprint(k, kid), 0);
        json_auto_t *h = hdr_of("ES256", kid), *c = token_part(1);
        struct ans a = release_with(bearer_signed(k, h, c));
        EVP_PKEY_free(k);
        return a;
}

static struct ans s_tok_admin_key(void)
{
        /* the administrator's Ed25519 key signing an attestation token */
        EVP_PKEY *k = load_key(admin_key);
        json_auto_t *h = hdr_of("EdDSA", NULL), *c = token_part(1);
        char *jws = NULL, *authz = NULL;
        assert_int_equal(vt_jws_sign(k, VT_JWS_EDDSA, h, c, &jws), 0);
        assert_true(asprintf(&authz, "Bearer %s", jws) > 0);
        free(jws);
        EVP_PKEY_free(k);
        return release_with(authz);
}

static struct ans s_tok_expired(void)
{
        /* a real token of the server's key, replayed after its exp */
        json_auto_t *h = token_part(0), *c = token_part(1);
        int64_t now = (int64_t)time(NULL);
        json_object_set_new(c, "iat", json_integer(now - 7200));
        json_object_set_new(c, "exp", json_integer(now - 3600));
        return release_with(bearer_signed(srv_key, h, c));
}

static struct ans s_tok_two_parts(void)
{
        return release_with(strdup("Bearer eyJhbGciOiJFUzI1NiJ9.e30"));
}

static struct ans s_tok_dup_alg(void)
{
        _cleanup_free_ char *h = b64u("{\"alg\":\"ES256\",\"alg\":\"none\"}", 29);
        json_auto_t *c = token_part(1);
        _cleanup_free_ char *p = b64u_json(c);
        char *authz = NULL;
        assert_true(asprintf(&authz, "Bearer %s.%s.", h, p) > 0);
        return release_with(authz);
}

/* ---- forged admin tokens (a write the admin API would do) ---- */

static struct ans admin_put(char *authz)
{
        struct ans a = creq(ATTACKER, "PUT", "/kbs/v0/resource/default/key/forged",
                            "application/octet-stream", "v", 1, NULL, authz);
        free(authz);
        return a;
}

static json_t *admin_claims(void)
{
        /* the claims of the real admin token */
        const char *t = tok_admin + 7, *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
        uint8_t *raw = NULL;
        size_t n = 0;
        assert_int_equal(
                vt_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), VT_B64_URL, 1 << 16, &raw, &n), 0);
        json_t *j = json_loadb((const char *)raw, n, 0, NULL);
        free(raw);
        return j;
}

static struct ans s_admin_none(void)
{
        json_auto_t *h = hdr_of("none", NULL), *c = admin_claims();
        return admin_put(bearer_parts(h, c, ""));
}

static struct ans s_admin_other_key(void)
{
        json_auto_t *h = hdr_of("ES256", NULL), *c = admin_claims();
        return admin_put(bearer_signed(evil_key, h, c));
}

static struct ans s_admin_edited(void)
{
        /* a reader's token whose role is edited to admin, its signature kept */
        char rd[4096], *jwt = NULL;
        struct vt_diag d = {0};
        if (vt_admin_token_make(admin_key, VT_ROLE_READER, NULL, 0, 3600, "reader", &jwt, &d) < 0)
                fail_msg("admin token: %s", d.msg);
        snprintf(rd, sizeof(rd), "%s", jwt);
        free(jwt);
        char *d1 = strchr(rd, '.'), *d2 = strchr(d1 + 1, '.');
        uint8_t *raw = NULL;
        size_t n = 0;
        assert_int_equal(
                vt_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), VT_B64_URL, 1 << 16, &raw, &n), 0);
        json_auto_t *c = json_loadb((const char *)raw, n, 0, NULL);
        free(raw);
        json_object_set_new(c, "role", json_string("admin"));
        _cleanup_free_ char *p = b64u_json(c);
        char *authz = NULL;
        assert_true(asprintf(&authz, "Bearer %.*s.%s.%s", (int)(d1 - rd), rd, p, d2 + 1) > 0);
        return admin_put(authz);
}

static struct ans s_admin_attestation_token(void)
{
        char *authz = NULL;
        assert_true(asprintf(&authz, "Bearer %s", token) > 0);
        return admin_put(authz);
}

/* ---- TEE keys ---- */

static json_t *ec_jwk(const char *crv, const uint8_t *x, const uint8_t *y, size_t n)
{
        _cleanup_free_ char *xs = b64u(x, n), *ys = b64u(y, n);
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", crv, "alg",
                         "ECDH-ES+A256KW", "x", xs, "y", ys);
}

static struct ans s_key_off_curve(void)
{
        uint8_t x[32] = {0}, y[32] = {0};
        x[31] = 1;
        y[31] = 1;
        return attest_with_key(ec_jwk("P-256", x, y, 32));
}

static struct ans s_key_coord_p(void)
{
        /* x = p, y = 0: coordinates outside the field */
        static const uint8_t p[32] = {0xff, 0xff, 0xff, 0xff, 0,    0,    0,    1,    0,    0,   0,
                                      0,    0,    0,    0,    0,    0,    0,    0,    0,    0,   0,
                                      0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        uint8_t y[32] = {0};
        return attest_with_key(ec_jwk("P-256", p, y, 32));
}

static struct ans s_key_short(void)
{
        uint8_t x[31] = {1}, y[31] = {2};
        return attest_with_key(ec_jwk("P-256", x, y, 31));
}

static struct ans s_key_other_curve(void)
{
        /* a genuine P-256 point labelled P-521 (the coordinates of another curve) */
        json_t *j = new_jwk();
        json_object_set_new(j, "crv", json_string("P-521"));
        return attest_with_key(j);
}

static struct ans s_key_secp256k1(void)
{
        uint8_t x[32] = {3}, y[32] = {4};
        return attest_with_key(ec_jwk("secp256k1", x, y, 32));
}

static json_t *rsa_jwk(unsigned bits, unsigned long e, bool even)
{
        BIGNUM *n = BN_new();
        assert_true(BN_rand(n, (int)bits, BN_RAND_TOP_ONE,
                            even ? BN_RAND_BOTTOM_ANY : BN_RAND_BOTTOM_ODD));
        if (even)
                BN_clear_bit(n, 0);
        size_t nl = (size_t)BN_num_bytes(n);
        uint8_t nb[2048], eb[8];
        assert_true(nl <= sizeof(nb));
        BN_bn2bin(n, nb);
        BN_free(n);
        size_t el = 0;
        for (int i = 7; i >= 0; i--)
                if ((e >> (8 * i)) & 0xff || el)
                        eb[el++] = (uint8_t)(e >> (8 * i));
        _cleanup_free_ char *ns = b64u(nb, nl), *es = b64u(eb, el);
        return json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "alg", "RSA-OAEP-256", "n", ns, "e",
                         es);
}

static struct ans s_key_rsa1024(void)
{
        return attest_with_key(rsa_jwk(1024, 65537, false));
}

static struct ans s_key_rsa_e1(void)
{
        return attest_with_key(rsa_jwk(2048, 1, false));
}

static struct ans s_key_rsa_even(void)
{
        return attest_with_key(rsa_jwk(2048, 65537, true));
}

static struct ans s_key_rsa_huge(void)
{
        return attest_with_key(rsa_jwk(8192 + 8, 65537, false));
}

static struct ans s_key_private(void)
{
        /* a client that sends its private scalar along */
        json_t *j = new_jwk();
        uint8_t d[32];
        RAND_bytes(d, sizeof(d));
        _cleanup_free_ char *ds = b64u(d, sizeof(d));
        json_object_set_new(j, "d", json_string(ds));
        return attest_with_key(j);
}

static struct ans s_key_oct(void)
{
        return attest_with_key(json_pack("{s:s, s:s}", "kty", "oct", "k", "AAAA"));
}

#define NO_PREP NULL

static const struct hcase cases[] = {
        /* transport */
        {"oversized body (declared)", "POST /kbs/v0/auth, Content-Length: 10 MiB", NO_PREP,
         s_body_declared, 413, "request body larger than 65536 bytes", NULL, false},
        {"oversized body (chunked)", "POST /kbs/v0/auth, 68 KiB in chunks, no Content-Length",
         NO_PREP, s_body_chunked, 413, "request body larger than 65536 bytes", NULL, false},
        {"oversized header", "GET /healthz with one 200 KiB header line", NO_PREP, s_header_big,
         431, "Your HTTP header was too big", "libmicrohttpd refused the request", false},
        {"too many headers", "GET /healthz with 4000 header lines", NO_PREP, s_headers_many, 431,
         "Your HTTP header was too big", "libmicrohttpd refused the request", false},
        {"wrong content type", "POST /kbs/v0/auth, Content-Type: text/plain", NO_PREP, s_ctype_text,
         415, "Content-Type must be application/json", NULL, false},
        {"form body", "POST /kbs/v0/attest, application/x-www-form-urlencoded", prep_session,
         s_ctype_form, 415, "Content-Type must be application/json", NULL, false},
        {"no content type", "POST /kbs/v0/auth without Content-Type", NO_PREP, s_ctype_none, 415,
         "Content-Type must be application/json", NULL, false},
        /* JSON */
        {"malformed JSON", "POST /kbs/v0/auth {\"version\":\"0.4.0\",", NO_PREP, s_json_malformed,
         400, "Serialize/Deserialize failed", NULL, false},
        {"not an object", "POST /kbs/v0/auth [\"0.4.0\",\"sim\"]", NO_PREP, s_json_array, 400,
         "body is not a JSON object", NULL, false},
        {"deeply nested JSON", "POST /kbs/v0/auth {\"a\":[[[[... 20000 deep", NO_PREP, s_json_deep,
         400, "maximum parsing depth reached", NULL, false},
        {"huge real", "POST /kbs/v0/auth, extra-params 1e99999", NO_PREP, s_json_huge_real, 400,
         "real number overflow", NULL, false},
        {"huge integer", "POST /kbs/v0/auth, extra-params 30 digits", NO_PREP, s_json_huge_int, 400,
         "too big integer", NULL, false},
        {"invalid UTF-8", "POST /kbs/v0/auth, tee \"s\\xff\\xfeim\"", NO_PREP, s_json_utf8, 400,
         "unable to decode byte 0xff", NULL, false},
        {"overlong UTF-8", "POST /kbs/v0/auth, tee \"\\xc0\\xafsim\"", NO_PREP, s_json_overlong,
         400, "unable to decode byte 0xc0", NULL, false},
        {"NUL in a string (escaped)", "POST /kbs/v0/auth, tee \"sim\\u0000x\"", NO_PREP,
         s_json_nul_escaped, 400, "\\\\u0000 is not allowed", "\\\\u0000 is not allowed", false},
        {"NUL in a string (raw)", "POST /kbs/v0/auth, a raw NUL byte in tee", NO_PREP,
         s_json_nul_raw, 400, "control character 0x0", NULL, false},
        {"duplicate member", "POST /kbs/v0/auth, tee twice", NO_PREP, s_json_duplicate, 400,
         "duplicate object key", NULL, false},
        {"wrong types", "POST /kbs/v0/auth, version 0.4, tee [\"sim\"]", NO_PREP, s_json_types, 401,
         "Version Mismatch: expected =0.4.0, got (none)", NULL, false},
        {"unknown tee", "POST /kbs/v0/auth, tee \"../../sim\"", NO_PREP, s_json_unknown_tee, 401,
         "unknown tee", NULL, false},
        {"tee name cut inside a character", "POST /kbs/v0/auth, tee \"a\" + 20 x U+00E9", NO_PREP,
         s_json_tee_cut, 401, "unknown tee \\\"a\u00e9", "unknown tee", false},
        {"attest body of the wrong shape", "POST /kbs/v0/attest {\"runtime-data\":\"x\",...}",
         prep_session, s_attest_shape, 400, "attestation needs runtime-data{nonce,tee-pubkey}",
         NULL, false},
        /* paths, routes, methods */
        {"%00 in the path", "GET " RELEASE "%00.txt", NO_PREP, s_path_nul_enc, 400,
         "the URL holds a NUL byte", NULL, false},
        {"raw NUL in the path", "GET " RELEASE "<NUL>.txt (raw socket)", NO_PREP, s_path_nul_raw,
         400, "the URL holds a NUL byte", NULL, false},
        {"encoded slash", "GET /kbs/v0/resource/default%2Fkey/db", NO_PREP, s_path_slash, 400,
         "encoded slash (%2F)", NULL, false},
        {"traversal", "GET /kbs/v0/resource/../../../../etc/passwd", NO_PREP, s_path_traversal, 404,
         "Request path is invalid", NULL, false},
        {"encoded traversal", "GET /kbs/v0/resource/default/%2e%2e/db", NO_PREP,
         s_path_traversal_enc, 404, "Request path is invalid", NULL, false},
        {"traversal in an admin write", "PUT /kbs/v0/resource/default/key/../../x (admin token)",
         NO_PREP, s_path_traversal_admin, 404, "Request path is invalid", NULL, false},
        {"unknown route", "GET /kbs/v0/nothing-here", NO_PREP, s_route_unknown, 404,
         "Request path is invalid", NULL, false},
        {"unknown method", "BREW /healthz", NO_PREP, s_method_unknown, 405,
         "method BREW not allowed here", NULL, false},
        {"method of invalid UTF-8", "BR\\xc3W /healthz", NO_PREP, s_method_bytes, 405,
         "method BR?W not allowed here", NULL, false},
        {"wrong method", "DELETE /kbs/v0/auth", NO_PREP, s_method_wrong, 405,
         "method DELETE not allowed here", NULL, false},
        {"unknown HTTP version", "GET /healthz HTTP/7.3", NO_PREP, s_http_version, 505,
         "Requested HTTP version is not supported", "HTTP response code is 505", false},
        /* connections */
        {"trickling client", "POST /kbs/v0/auth, one byte every 100 ms", NO_PREP, s_trickle, 0,
         NULL, "had not sent a whole request within 3 s", false},
        {"half-open (headers, then FIN)", "part of a request line and headers, then shutdown",
         NO_PREP, s_half_open_headers, 0, NULL,
         "the client went away or was cut off before its request was whole", false},
        {"body that stops", "POST /kbs/v0/auth, Content-Length 1000, 19 bytes sent", NO_PREP,
         s_half_open_body, 0, NULL, "had not sent a whole request within 3 s", false},
        {"half-close after a whole request", "GET /kbs/v0/nothing, then shutdown(SHUT_WR)", NO_PREP,
         s_half_close_request, 404, "Request path is invalid", NULL, false},
        /* floods */
        {"session flood", "24 x POST /kbs/v0/auth from one address", NO_PREP, s_session_flood, 429,
         "too many open sessions from this client (limit 16)", NULL, false},
        {"collateral-fetch flood",
         "24 x SNP evidence without a VCEK, new chip_id each, 16 addresses at once", NO_PREP,
         s_collateral_flood, 401, "not tried again", NULL, true},
        /* replays and concurrency */
        {"replayed nonce", "POST /kbs/v0/attest again with a spent session and nonce",
         prep_attested, s_replay_nonce, 401, "nonce already used", NULL, false},
        {"nonce of another session", "POST /kbs/v0/attest, cookie of session B, nonce of A",
         prep_two_sessions, s_other_nonce, 401, "nonce does not match the session's challenge",
         NULL, false},
        {"unknown session", "POST /kbs/v0/attest with a made-up kbs-session-id", NO_PREP,
         s_unknown_cookie, 401, "session not found", NULL, false},
        {"unattested session cookie", "GET " RELEASE " with the cookie of an open session",
         prep_session, s_cookie_release, 401, "Token Verifier error",
         "the session has no attestation token", false},
        {"concurrent use of one session", "8 x POST /kbs/v0/attest at once, one session", NO_PREP,
         s_concurrent, 401, "nonce already used", NULL, true},
        /* forged attestation tokens */
        {"token alg none", "GET " RELEASE ", Bearer {alg:none}, no signature", NO_PREP, s_tok_none,
         401, "Token Verifier error", "algorithm none is not accepted (ES256 only)", false},
        {"token HS256 keyed with the public key", "HMAC over the token with the JWKS text as key",
         NO_PREP, s_tok_hs256, 401, "Token Verifier error",
         "algorithm HS256 is not accepted (ES256 only)", false},
        {"token RS256", "alg RS256 with the server's kid", NO_PREP, s_tok_rs256, 401,
         "Token Verifier error", "algorithm RS256 is not accepted (ES256 only)", false},
        {"kid confusion (path)", "kid ../../../../dev/null, signed with the server's key", NO_PREP,
         s_tok_kid_path, 401, "Token Verifier error",
         "no trusted key with kid ../../../../dev/null", false},
        {"kid confusion (long)", "a 299-byte kid", NO_PREP, s_tok_kid_long, 401,
         "Token Verifier error", "kid is not a short string", false},
        {"kid confusion (embedded key)",
         "the server's kid, the attacker's key in jwk and jku, signed by it", NO_PREP,
         s_tok_kid_evil, 401, "Token Verifier error",
         "signature does not verify with a trusted key", false},
        {"crit header", "crit [exp], signed with the server's key", NO_PREP, s_tok_crit, 401,
         "Token Verifier error", "crit header is not supported", false},
        {"high-S signature", "the real token with S replaced by n - S", NO_PREP, s_tok_high_s, 401,
         "Token Verifier error", "ES256 signature has a high S", false},
        {"edited claims", "the real token, tee-pubkey replaced, signature kept", NO_PREP,
         s_tok_edited, 401, "Token Verifier error", "signature does not verify with a trusted key",
         false},
        {"other key", "the real claims signed by another P-256 key", NO_PREP, s_tok_other_key, 401,
         "Token Verifier error", "signature does not verify with a trusted key", false},
        {"the server's ledger key", "the real claims signed by the ledger's key, its kid", NO_PREP,
         s_tok_ledger_key, 401, "Token Verifier error", "no trusted key with kid", false},
        {"the administrator's key", "the real claims signed EdDSA by the admin key", NO_PREP,
         s_tok_admin_key, 401, "Token Verifier error",
         "algorithm EdDSA is not accepted (ES256 only)", false},
        {"replayed expired token", "the server's own token, exp an hour ago", NO_PREP,
         s_tok_expired, 401, "Token Verifier error", "token: expired at", false},
        {"two-part token", "Bearer header.payload", NO_PREP, s_tok_two_parts, 401,
         "Token Verifier error", "token: not a compact JWS (header.payload.signature)", false},
        {"duplicate alg", "header {alg:ES256, alg:none}", NO_PREP, s_tok_dup_alg, 401,
         "Token Verifier error", "token: header is not a JSON object (duplicate object key", false},
        /* forged admin tokens */
        {"admin token alg none", "PUT /kbs/v0/resource/default/key/forged, {alg:none}", NO_PREP,
         s_admin_none, 401, "algorithm \\\"none\\\" is not accepted", NULL, false},
        {"admin token of another key", "PUT ..., ES256 by a key that is not configured", NO_PREP,
         s_admin_other_key, 401, "admin token: alg ES256 but no P-256 key is configured", NULL,
         false},
        {"admin token with an edited role", "PUT ..., a reader's token with role admin", NO_PREP,
         s_admin_edited, 401, "signature does not verify with any configured", NULL, false},
        {"attestation token as admin token", "PUT ..., Bearer <attestation token>", NO_PREP,
         s_admin_attestation_token, 401, "admin access denied", NULL, false},
        /* TEE keys */
        {"point not on the curve", "tee-pubkey P-256 (1, 1)", prep_session, s_key_off_curve, 401,
         "jwk: the P-256 point is not on the curve", NULL, false},
        {"coordinate outside the field", "tee-pubkey P-256 x = p, y = 0", prep_session,
         s_key_coord_p, 401, "jwk: the P-256 point is not on the curve", NULL, false},
        {"short coordinates", "tee-pubkey P-256, 31-byte x and y", prep_session, s_key_short, 401,
         "jwk: P-256 coordinates must be 32 bytes", NULL, false},
        {"point of another curve", "tee-pubkey: a P-256 point labelled P-521", prep_session,
         s_key_other_curve, 401, "jwk: P-521 coordinates must be 66 bytes", NULL, false},
        {"unsupported curve", "tee-pubkey crv secp256k1", prep_session, s_key_secp256k1, 401,
         "jwk: EC curve secp256k1 not supported", NULL, false},
        {"weak RSA key (1024 bits)", "tee-pubkey RSA, 1024-bit n", prep_session, s_key_rsa1024, 401,
         "RSA modulus must be odd and 2048..8192 bits, e odd and > 1", NULL, false},
        {"RSA e = 1", "tee-pubkey RSA, e = 1", prep_session, s_key_rsa_e1, 401,
         "RSA modulus must be odd and 2048..8192 bits, e odd and > 1", NULL, false},
        {"RSA even modulus", "tee-pubkey RSA, n even", prep_session, s_key_rsa_even, 401,
         "RSA modulus must be odd and 2048..8192 bits, e odd and > 1", NULL, false},
        {"RSA modulus too large", "tee-pubkey RSA, 8200-bit n", prep_session, s_key_rsa_huge, 401,
         "jwk: member \\\"n\\\" is not base64url of at most 1024 bytes", NULL, false},
        {"private key as TEE key", "tee-pubkey with its d", prep_session, s_key_private, 401,
         "jwk: contains private member \\\"d\\\"", NULL, false},
        {"symmetric key as TEE key", "tee-pubkey kty oct", prep_session, s_key_oct, 401,
         "jwk: contains private member \\\"k\\\"", NULL, false},
};

static void run_case(const struct hcase *c)
{
        if (c->prep)
                c->prep();
        struct state before = snapshot();
        const char *logs = c->logs ? c->logs : c->reads;
        unsigned logged = logs && logs[0] ? log_count(logs) : 0;
        struct ans a = c->send();
        if (getenv("VT_HOSTILE_SHOW"))
                print_message("%s -> %ld %s\n", c->name, a.status, a.body ? a.body : "");
        if (a.status != c->status)
                fail_msg("%s: status %ld, want %ld: %s", c->name, a.status, c->status,
                         a.body ? a.body : "");
        if (c->reads && c->reads[0] && !(a.body && strstr(a.body, c->reads)))
                fail_msg("%s: the answer lacks \"%s\": %s", c->name, c->reads,
                         a.body ? a.body : "");
        if (logs && logs[0]) {
                if (a.rid[0]) {
                        _cleanup_free_ char *l = log_line(a.rid);
                        if (!l || !strstr(l, logs))
                                fail_msg("%s: the log line lacks \"%s\": %s", c->name, logs,
                                         l ? l : "(none)");
                } else {
                        /* no request id (nothing of ours answered): a new line says it */
                        for (int i = 0; i < 40 && log_count(logs) <= logged; i++)
                                usleep(25 * 1000);
                        if (log_count(logs) <= logged)
                                fail_msg("%s: no new log line says \"%s\"", c->name, logs);
                }
        }
        if (a.rid[0])
                assert_int_equal(ledger_entries_of(a.rid), 0);
        struct state after = snapshot();
        if (!c->changes && memcmp(&before, &after, sizeof(before)) != 0)
                fail_msg("%s: state changed: sessions open %lld->%lld claimed %lld->%lld "
                         "attested %lld->%lld, resources %lld->%lld, policies %lld->%lld, "
                         "refvals %lld->%lld",
                         c->name, before.open, after.open, before.claimed, after.claimed,
                         before.attested, after.attested, before.resources, after.resources,
                         before.policies, after.policies, before.refvals, after.refvals);
        /* rows that may change the attacker's sessions (they open one themselves) still
         * change nothing else */
        assert_int_equal(before.resources, after.resources);
        assert_int_equal(before.res_updated, after.res_updated);
        assert_int_equal(before.policies, after.policies);
        assert_int_equal(before.refvals, after.refvals);
        char st[32];
        snprintf(st, sizeof(st), c->status ? "%ld" : "closed", c->status);
        print_message("| %s | %s | %s | %s | %s |\n", c->name, c->request, st,
                      c->reads && c->reads[0] ? c->reads : "(nothing: no whole request came)",
                      logs && logs[0] ? logs : "");
        ans_done(&a);
}

/* ---- set-up ---- */

static int setup(void **state)
{
        char p[512], pub[512], cfg[4096], rv[600], m[97];
        struct vt_diag d = {0};
        if (vtt_setup_sim("hostile", &guest) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/kek", vtt_dir);
        if (vt_kek_generate(p, &d) < 0)
                return -1;
        snprintf(admin_key, sizeof(admin_key), "%s/admin.key", vtt_dir);
        snprintf(pub, sizeof(pub), "%s/admin.pub", vtt_dir);
        if (vt_admin_keygen(admin_key, pub, &d) < 0)
                return -1;
        char *jwt = NULL;
        if (vt_admin_token_make(admin_key, VT_ROLE_ADMIN, NULL, 0, 3600, "test", &jwt, &d) < 0)
                return -1;
        snprintf(tok_admin, sizeof(tok_admin), "Bearer %s", jwt);
        free(jwt);
        vt_hex_encode(guest.measurement, 48, m);
        snprintf(rv, sizeof(rv),
                 "{\"sim\":{\"measurements\":[\"%s\"]},\"snp\":{\"measurements\":[\"%s\"]}}", m, m);
        snprintf(p, sizeof(p), "%s/rv.json", vtt_dir);
        write_text(p, rv);

        /* the mute KDS: the kernel completes connections in the backlog, nobody answers */
        mute_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t al = sizeof(a);
        if (mute_fd < 0 || bind(mute_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            listen(mute_fd, 128) < 0 || getsockname(mute_fd, (struct sockaddr *)&a, &al) < 0)
                return -1;

        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "  pccs_url: http://127.0.0.1:9\n  kds_url: http://127.0.0.1:%u\n"
                 "  kds_timeout_seconds: 2\n  kds_max_fetches: 2\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s]\n"
                 /* no session of the run expires and is swept between two snapshots */
                 "session:\n  unattested_ttl_seconds: 300\n"
                 "limits:\n  max_body_bytes: %d\n  request_timeout_seconds: %d\n"
                 "  max_sessions_per_client: %d\n",
                 vtt_dir, vtt_dir, vtt_simdir, ntohs(a.sin_port), vtt_dir, pub, MAX_BODY, DEADLINE,
                 PER_CLIENT);
        server_start(&S, "hostile", cfg);
        snprintf(db, sizeof(db), "%s/state/veritee.db", vtt_dir);

        /* the secret the well-behaved client fetches */
        struct http h = request_full(&S, "PUT", RELEASE, "the secret", 10, NULL, tok_admin);
        assert_int_equal(h.status, 200);
        free(h.body);
        h = request_full(&S, "PUT", "/kbs/v0/resource-policy/default/key/db", policy_sim,
                         strlen(policy_sim), NULL, tok_admin);
        assert_int_equal(h.status, 200);
        free(h.body);

        /* a real token of the attacker's own TEE, and the server's key and kid */
        json_auto_t *jwk = new_jwk();
        token = attest_token(&S, &guest, jwk);
        uint8_t *pem = NULL;
        size_t n = 0;
        snprintf(p, sizeof(p), "%s/state/token-signing-key.pem", vtt_dir);
        assert_int_equal(vt_read_file(p, 1 << 16, &pem, &n), 0);
        assert_int_equal(vt_pem_private_key(pem, n, &srv_key), 0);
        OPENSSL_clear_free(pem, n);
        json_auto_t *hdr = token_part(0);
        snprintf(srv_kid, sizeof(srv_kid), "%s", json_string_value(json_object_get(hdr, "kid")));
        evil_key = EVP_EC_gen("P-256");
        assert_non_null(evil_key);

        /* the template report for SNP evidence without a VCEK */
        uint8_t rd[64] = {0};
        char *chain = NULL;
        if (vt_sim_report(vtt_simdir, &guest, rd, tmpl, &chain, &d) < 0)
                fail_msg("sim report: %s", d.msg);
        free(chain);
        return 0;
}

static int teardown(void **state)
{
        server_stop_all();
        if (mute_fd >= 0)
                close(mute_fd);
        EVP_PKEY_free(srv_key);
        EVP_PKEY_free(evil_key);
        free(token);
        free(p_nonce);
        free(p_nonce2);
        free(p_body);
        if (getenv("VT_KEEP_TMP"))
                return 0;
        if (vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

/* The whole matrix, with the well-behaved client running throughout. */
static void test_hostile_matrix(void **state)
{
        double t0 = mono();
        H = (struct honest){0};
        assert_int_equal(pthread_create(&H.t, NULL, honest_main, &H), 0);
        usleep(200 * 1000);
        print_message("| case | request | status | the client reads | the log line says |\n"
                      "|---|---|---|---|---|\n");
        /* VT_HOSTILE_ONLY=TEXT runs only the rows whose name holds TEXT (when debugging) */
        const char *only = getenv("VT_HOSTILE_ONLY");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (!only || strstr(cases[i].name, only)) {
                        atomic_store(&H.row, i);
                        run_case(&cases[i]);
                }
        atomic_store(&H.stop, true);
        pthread_join(H.t, NULL);
        print_message("hostile: %zu cases in %.1f s; the well-behaved client ran %u flows "
                      "(auth, attest, release), %u failed, %u over %.0f s, slowest %.3f s\n",
                      ELEMENTSOF(cases), mono() - t0, H.flows, H.failed, H.late, FLOW_BOUND,
                      H.worst);
        print_message("hostile: the slowest flow ran during \"%s\"\n", cases[H.worst_row].name);
        if (H.failed)
                fail_msg("the well-behaved client failed %u times: %s", H.failed, H.why);
        if (!only)
                assert_true(H.flows >= 10);
        assert_int_equal(H.late, 0);
        /* the server is still whole: the ledger audits and the secret is still there */
        json_auto_t *entries = ledger_audit(&S, tok_admin, NULL);
        assert_true(json_array_size(entries) > 0);
        assert_int_equal(db_int("SELECT count(*) FROM resources"), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostile_matrix),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
