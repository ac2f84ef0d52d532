/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "vtdtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/jwk.h"
#include "evidence/snp_wire.h"
#include "kbs/rcar.h"
#include "ledger/ledger.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"

extern char **environ;

char vtt_dir[256], vtt_simdir[300];
/* every server started, so that teardown stops them even after a failed assertion */
static pid_t started[16];
static size_t n_started;

const char *bin(const char *name)
{
        static __thread char buf[4][512];
        static __thread int k;
        const char *b = getenv("VT_BIN");
        k = (k + 1) % 4;
        snprintf(buf[k], sizeof(buf[k]), "%s/%s", b ? b : "build/bin", name);
        return buf[k];
}

void write_text(const char *path, const char *text)
{
        assert_int_equal(vt_write_file_atomic(path, text, strlen(text), 0600), 0);
}

char *slurp(const char *path)
{
        uint8_t *b = NULL;
        size_t n;
        if (vt_read_file(path, 16u << 20, &b, &n) < 0)
                return NULL;
        return (char *)b;
}

/* Starts veriteed with config text; waits for its "listening on" line. */
void server_start(struct server *s, const char *name, const char *config)
{
        char cfg[512];
        snprintf(cfg, sizeof(cfg), "%s/%s.yaml", vtt_dir, name);
        snprintf(s->log, sizeof(s->log), "%s/%s.log", vtt_dir, name);
        write_text(cfg, config);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        /* a fresh log per start (the port is read from it); stdout away from CTest's pipe */
        posix_spawn_file_actions_addopen(&fa, 2, s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        char *argv[] = {(char *)bin("veriteed"), "--config", cfg, NULL};
        assert_int_equal(posix_spawn(&s->pid, argv[0], &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        if (n_started < sizeof(started) / sizeof(started[0]))
                started[n_started++] = s->pid;
        for (int i = 0; i < 600; i++) {
                char *log = slurp(s->log);
                const char *p = log ? strstr(log, "listening on http") : NULL;
                const char *h = p ? strstr(p, "://127.0.0.1:") : NULL;
                if (h) {
                        unsigned port = (unsigned)strtoul(h + strlen("://127.0.0.1:"), NULL, 10);
                        snprintf(s->url, sizeof(s->url), "%.*s://127.0.0.1:%u",
                                 (int)(h - p - strlen("listening on ")),
                                 p + strlen("listening on "), port);
                        free(log);
                        return;
                }
                free(log);
                int st;
                if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                        char *l = slurp(s->log);
                        fail_msg("veriteed exited: %s", l ? l : "");
                }
                usleep(50 * 1000);
        }
        fail_msg("veriteed did not start");
}

void server_stop_all(void)
{
        for (size_t i = 0; i < n_started; i++) {
                int st;
                if (kill(started[i], SIGTERM) == 0)
                        waitpid(started[i], &st, 0);
        }
        n_started = 0;
}

void server_stop(struct server *s)
{
        if (s->pid > 0) {
                int st;
                kill(s->pid, SIGTERM);
                waitpid(s->pid, &st, 0);
                s->pid = 0;
        }
}

bool log_has(const struct server *s, const char *needle)
{
        for (int i = 0; i < 40; i++) { /* the log line is written when the request completes */
                char *l = slurp(s->log);
                bool ok = l && strstr(l, needle);
                free(l);
                if (ok)
                        return true;
                usleep(25 * 1000);
        }
        return false;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
        struct http *h = ud;
        h->body = realloc(h->body, h->len + sz * n + 1);
        memcpy(h->body + h->len, p, sz * n);
        h->len += sz * n;
        h->body[h->len] = 0;
        return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
        struct http *h = ud;
        size_t len = sz * n;
        static const char key[] = "Set-Cookie: kbs-session-id=";
        if (len > sizeof(key) && strncasecmp(p, key, sizeof(key) - 1) == 0) {
                size_t i = 0;
                const char *v = p + sizeof(key) - 1;
                while (i + 1 < sizeof(h->cookie) && v[i] && v[i] != ';' && v[i] != '\r')
                        i++;
                memcpy(h->cookie, v, i);
                h->cookie[i] = 0;
        }
        static const char rid[] = "X-Request-Id: ";
        if (len > sizeof(rid) && strncasecmp(p, rid, sizeof(rid) - 1) == 0) {
                size_t i = 0;
                const char *v = p + sizeof(rid) - 1;
                while (i + 1 < sizeof(h->request_id) && v[i] && v[i] != '\r' && v[i] != '\n')
                        i++;
                memcpy(h->request_id, v, i);
                h->request_id[i] = 0;
        }
        return len;
}

/* One request; body NULL means GET. Asserts nothing: status 0 when no answer came
 * (within timeout seconds; 0: no limit). */
static struct http one_request(const struct server *s, const char *method, const char *path,
                               const char *body, size_t body_len, const char *cookie,
                               const char *authz, long timeout)
{
        struct http h = {0};
        char url[512], ck[160];
        char *ah = NULL;
        if (authz && asprintf(&ah, "Authorization: %s", authz) < 0)
                return h;
        CURL *c = curl_easy_init();
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        if (ah)
                hdr = curl_slist_append(hdr, ah);
        if (method)
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_PATH_AS_IS,
                         1L); /* send "../" as written: the server must refuse it */
        snprintf(url, sizeof(url), "%s%s", s->url, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        if (cookie) {
                snprintf(ck, sizeof(ck), "kbs-session-id=%s", cookie);
                curl_easy_setopt(c, CURLOPT_COOKIE, ck);
        }
        if (body) {
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
        }
        curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h.status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        free(ah);
        return h;
}

struct http request_full(const struct server *s, const char *method, const char *path,
                         const char *body, size_t body_len, const char *cookie, const char *authz)
{
        struct http h = one_request(s, method, path, body, body_len, cookie, authz, 0);
        if (h.status == 0)
                fail_msg("%s %s: no answer", method ? method : (body ? "POST" : "GET"), path);
        return h;
}

struct http try_request_full(const struct server *s, const char *method, const char *path,
                             const char *body, size_t body_len, const char *cookie,
                             const char *authz)
{
        return one_request(s, method, path, body, body_len, cookie, authz, 10);
}

struct http request(const struct server *s, const char *path, const char *body, size_t body_len,
                    const char *cookie)
{
        return request_full(s, NULL, path, body, body_len, cookie, NULL);
}

struct http post(const struct server *s, const char *path, const char *body, const char *cookie)
{
        return request(s, path, body, strlen(body), cookie);
}

/* auth_answer: the nonce (malloc'd) and the cookie of an /auth answer h, or NULL with
 * why in *why when it is not a 200 with a 44-character nonce and a 32-character cookie. */
static char *auth_answer(const struct http *h, char cookie[128], const char **why)
{
        if (h->status != 200) {
                *why = "status";
                return NULL;
        }
        json_auto_t *j = json_loads(h->body, 0, NULL);
        const char *n = json_string_value(json_object_get(j, "nonce"));
        *why = !n ? "no nonce" : strlen(n) != 44 ? "nonce length" : "cookie length";
        if (!n || strlen(n) != 44 || strlen(h->cookie) != 32)
                return NULL;
        memcpy(cookie, h->cookie, sizeof(h->cookie));
        return strdup(n);
}

static int auth_body(char body[128], const char *tee)
{
        return snprintf(body, 128, "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":\"\"}",
                        tee);
}

/* /auth: returns the nonce (malloc'd) and the cookie. */
char *auth(const struct server *s, const char *tee, char cookie[128])
{
        char body[128];
        auth_body(body, tee);
        struct http h = post(s, "/kbs/v0/auth", body, NULL);
        const char *why = NULL;
        char *ret = auth_answer(&h, cookie, &why);
        if (!ret)
                fail_msg("/auth: %s (status %ld)", why, h.status);
        free(h.body);
        return ret;
}

char *try_auth(const struct server *s, const char *tee, char cookie[128])
{
        char body[128];
        int n = auth_body(body, tee);
        struct http h = try_request_full(s, NULL, "/kbs/v0/auth", body, (size_t)n, NULL, NULL);
        const char *why = NULL;
        char *ret = auth_answer(&h, cookie, &why);
        free(h.body);
        return ret;
}

json_t *new_jwk(void)
{
        return new_jwk_key(NULL);
}

json_t *new_jwk_key(void **ret_key)
{
        EVP_PKEY *k = EVP_EC_gen("P-256");
        json_t *j = NULL;
        assert_non_null(k);
        assert_int_equal(vt_jwk_from_private(k, &j), 0);
        if (ret_key)
                *ret_key = k;
        else
                EVP_PKEY_free(k);
        return j;
}

/* The /attest body for nonce: evidence from guest g bound to bind_jwk, sent with send_jwk. */
char *attest_body(const char *nonce, const struct vt_sim_guest *g, json_t *bind_jwk,
                  json_t *send_jwk)
{
        return attest_body_additional(nonce, g, bind_jwk, send_jwk, "");
}

char *attest_body_additional(const char *nonce, const struct vt_sim_guest *g, json_t *bind_jwk,
                             json_t *send_jwk, const char *additional)
{
        uint8_t rd[64] = {0}, report[VT_SNP_REPORT_SIZE];
        char *chain = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_kbs_runtime_binding(nonce, bind_jwk, additional, rd), 0);
        if (vt_sim_report(vtt_simdir, g, rd, report, &chain, &d) < 0)
                fail_msg("sim report: %s", d.msg);
        /* VCEK and ASK as DER for the wire */
        BIO *b = BIO_new_mem_buf(chain, -1);
        X509 *vcek = PEM_read_bio_X509(b, NULL, NULL, NULL),
             *ask = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        struct vt_snp_wire_cert certs[2] = {{.type = "VCEK"}, {.type = "ASK"}};
        unsigned char *d0 = NULL, *d1 = NULL;
        certs[0].len = (size_t)i2d_X509(vcek, &d0);
        certs[1].len = (size_t)i2d_X509(ask, &d1);
        certs[0].der = d0;
        certs[1].der = d1;
        json_t *ev = NULL;
        assert_int_equal(vt_snp_wire_encode(report, certs, 2, &ev), 0);
        json_auto_t *body = json_pack("{s:{s:s, s:O}, s:{s:o, s:s}}", "runtime-data", "nonce",
                                      nonce, "tee-pubkey", send_jwk, "tee-evidence",
                                      "primary_evidence", ev, "additional_evidence", additional);
        OPENSSL_free(d0);
        OPENSSL_free(d1);
        X509_free(vcek);
        X509_free(ask);
        free(chain);
        return json_dumps(body, JSON_COMPACT);
}

char *attest_token(const struct server *s, const struct vt_sim_guest *g, json_t *jwk)
{
        char cookie[128];
        char *nonce = auth(s, "sim", cookie);
        char *body = attest_body(nonce, g, jwk, jwk);
        struct http h = post(s, "/kbs/v0/attest", body, cookie);
        free(body);
        free(nonce);
        assert_int_equal(h.status, 200);
        json_auto_t *j = json_loads(h.body, 0, NULL);
        free(h.body);
        const char *t = json_string_value(json_object_get(j, "token"));
        assert_non_null(t);
        return strdup(t);
}

int vtt_setup_sim(const char *name, struct vt_sim_guest *ret_guest)
{
        struct vt_diag d = {0};
        curl_global_init(CURL_GLOBAL_DEFAULT);
        snprintf(vtt_dir, sizeof(vtt_dir), "%s/veritee-%s-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
        if (!mkdtemp(vtt_dir)) {
                fprintf(stderr, "%s: mkdtemp: %s\n", vtt_dir, strerror(errno));
                return -1;
        }
        snprintf(vtt_simdir, sizeof(vtt_simdir), "%s/sim", vtt_dir);
        if (vt_sim_init(vtt_simdir, false, &d) < 0 ||
            (ret_guest && vt_sim_load_guest(vtt_simdir, ret_guest, &d) < 0)) {
                fprintf(stderr, "sim: %s\n", d.msg);
                return -1;
        }
        return 0;
}

/* get_json GETs path with authz and returns the parsed 200 answer (the test fails
 * otherwise). */
static json_t *get_json(const struct server *s, const char *path, const char *authz)
{
        struct http h = request_full(s, "GET", path, NULL, 0, NULL, authz);
        if (h.status != 200)
                fail_msg("GET %s: %ld %s", path, h.status, h.body ? h.body : "");
        json_t *j = json_loads(h.body, 0, NULL);
        assert_non_null(j);
        free(h.body);
        return j;
}

json_t *ledger_audit(const struct server *s, const char *authz, json_t **ret_jwks)
{
        json_auto_t *jwks = get_json(s, "/ledger/jwks", authz);
        struct vt_ledger_audit *a = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_ledger_audit_new(jwks, NULL, &a, &d), 0);
        char path[128];
        uint64_t from = 0;
        for (;;) {
                snprintf(path, sizeof(path), "/ledger/sths?start=%llu", (unsigned long long)from);
                json_auto_t *p = get_json(s, path, authz);
                json_t *arr = json_object_get(p, "sths"), *x;
                size_t i;
                if (json_array_size(arr) == 0)
                        break;
                json_array_foreach (arr, i, x) {
                        if (vt_ledger_audit_sth(a, json_string_value(json_object_get(x, "sth")),
                                                &d) < 0)
                                fail_msg("ledger audit: %s", d.msg);
                        from = (uint64_t)json_integer_value(json_object_get(x, "size")) + 1;
                }
        }
        json_t *all = json_array();
        for (uint64_t start = 0;;) {
                snprintf(path, sizeof(path), "/ledger/entries?start=%llu&end=%llu",
                         (unsigned long long)start, (unsigned long long)start + 1000);
                json_auto_t *p = get_json(s, path, authz);
                json_t *arr = json_object_get(p, "entries"), *x;
                size_t i;
                json_array_foreach (arr, i, x) {
                        char *t = NULL;
                        size_t n = 0;
                        json_t *e = json_object_get(x, "entry");
                        assert_int_equal(vt_ledger_entry_text(e, &t, &n), 0);
                        if (vt_ledger_audit_entry(
                                    a, (uint64_t)json_integer_value(json_object_get(x, "index")), t,
                                    n, NULL, &d) < 0)
                                fail_msg("ledger audit: %s", d.msg);
                        free(t);
                        json_array_append(all, e);
                }
                start += json_array_size(arr);
                if (json_array_size(arr) == 0)
                        break;
        }
        struct vt_ledger_audit_result r;
        if (vt_ledger_audit_finish(a, &r, &d) < 0)
                fail_msg("ledger audit: %s", d.msg);
        assert_int_equal(r.entries, json_array_size(all));
        vt_ledger_audit_free(a);
        if (ret_jwks)
                *ret_jwks = json_incref(jwks);
        return all;
}

const json_t *ledger_find(const json_t *entries, const char *kind, const char *request_id)
{
        size_t i;
        json_t *e;
        json_array_foreach (entries, i, e) {
                const char *k = json_string_value(json_object_get(e, "kind"));
                const char *r = json_string_value(json_object_get(e, "request_id"));
                if (k && r && strcmp(k, kind) == 0 && strcmp(r, request_id) == 0)
                        return e;
        }
        return NULL;
}

static size_t drop_body(char *p, size_t sz, size_t n, void *ud)
{
        (void)p;
        (void)ud;
        return sz * n;
}

static size_t rid_header(char *p, size_t sz, size_t n, void *ud)
{
        size_t len = sz * n;
        static const char key[] = "X-Request-Id: ";
        if (len > sizeof(key) && strncasecmp(p, key, sizeof(key) - 1) == 0) {
                char *out = ud;
                size_t i = 0;
                const char *v = p + sizeof(key) - 1;
                while (i + 1 < 24 && i < len - (sizeof(key) - 1) && v[i] != '\r' && v[i] != '\n')
                        i++;
                memcpy(out, v, i);
                out[i] = 0;
        }
        return len;
}

long try_get(const struct server *s, const char *path, const char *authz, char rid[24])
{
        char url[256], *ah = NULL;
        long status = 0;
        snprintf(url, sizeof(url), "%s%s", s->url, path);
        if (asprintf(&ah, "Authorization: %s", authz) < 0)
                return 0;
        CURL *c = curl_easy_init();
        struct curl_slist *hdr = curl_slist_append(NULL, ah);
        rid[0] = 0;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop_body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, rid_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, rid);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        free(ah);
        return status;
}
