/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the real veriteed refuses before any permission or policy is looked at: a
 * repository name over VT_REPO_NAME_MAX bytes (never cut to fit, so a writer of R cannot
 * act on "R..."), a bad ?repo= (400, not a store error), a URL that hides bytes from its
 * decoded form (%00, a raw NUL, %2F). Each refusal is checked for its status and for the
 * reason a person reads in the log.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto/seal.h"
#include "kbs/rcar.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/repo.h"
#include "vtdtest.h"

static struct vt_sim_guest guest;
static struct server S;
static char admin_key[512], tok_admin[4096], tok_writer_long[4096], tok_writer_a[4096];
/* a repository name of exactly VT_REPO_NAME_MAX bytes; its writer's token is tok_writer_long */
static char R[VT_REPO_NAME_MAX + 1];

static const char *policy_affirming_sim =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
        "{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true}]}";

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

/* "Bearer <token>" for a token of role on repo (NULL: none). */
static void bearer(enum vt_admin_role role, const char *repo, char *out, size_t cap)
{
        char *jwt = NULL;
        struct vt_diag d = {0};
        const char *repos[1] = {repo};
        if (vt_admin_token_make(admin_key, role, repo ? repos : NULL, repo ? 1 : 0, 3600, "test",
                                &jwt, &d) < 0)
                fail_msg("admin token: %s", d.msg);
        snprintf(out, cap, "Bearer %s", jwt);
        free(jwt);
}

static int setup(void **state)
{
        char p[512], pub[512], cfg[4096];
        struct vt_diag d = {0};
        if (vtt_setup_sim("checks", &guest) < 0)
                return -1;
        path_in(p, sizeof(p), "kek");
        if (vt_kek_generate(p, &d) < 0)
                return -1;
        path_in(admin_key, sizeof(admin_key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        if (vt_admin_keygen(admin_key, pub, &d) < 0)
                return -1;
        memset(R, 'r', VT_REPO_NAME_MAX);
        memcpy(R, "repo-", 5);
        R[VT_REPO_NAME_MAX] = 0;
        bearer(VT_ROLE_ADMIN, NULL, tok_admin, sizeof(tok_admin));
        bearer(VT_ROLE_WRITER, R, tok_writer_long, sizeof(tok_writer_long));
        bearer(VT_ROLE_WRITER, "team-a", tok_writer_a, sizeof(tok_writer_a));
        char measurement[97], rv[512];
        vt_hex_encode(guest.measurement, 48, measurement);
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s]\n",
                 vtt_dir, vtt_dir, vtt_simdir, vtt_dir, pub);
        server_start(&S, "checks", cfg);
        return 0;
}

static int teardown(void **state)
{
        server_stop_all();
        if (getenv("VT_KEEP_TMP"))
                return 0;
        if (vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

/* One request; checks the status and, when given, that the answer and the log say why. */
static void expect(const char *method, const char *path, const char *body, const char *authz,
                   long status, const char *reason)
{
        struct http h = request_full(&S, method, path, body, body ? strlen(body) : 0, NULL, authz);
        if (h.status != status)
                fail_msg("%s %s: %ld, want %ld: %s", method, path, h.status, status,
                         h.body ? h.body : "");
        if (reason && status != 200 && status != 401 && !strstr(h.body ? h.body : "", reason))
                fail_msg("%s %s: the answer lacks \"%s\": %s", method, path, reason,
                         h.body ? h.body : "");
        free(h.body);
        if (reason && !log_has(&S, reason))
                fail_msg("%s %s: the log lacks \"%s\"", method, path, reason);
}

/* The three writes of the admin API on repository repo, each expected to get status. */
static void expect_writes(const char *repo, const char *authz, long status, const char *reason)
{
        char path[1024];
        snprintf(path, sizeof(path), "/kbs/v0/resource/%s/key/a", repo);
        expect("PUT", path, "v", authz, status, reason);
        snprintf(path, sizeof(path), "/kbs/v0/resource-policy/%s/key/a", repo);
        expect("PUT", path, policy_affirming_sim, authz, status, reason);
        snprintf(path, sizeof(path), "/kbs/v0/resource/%s/key/a", repo);
        expect("DELETE", path, NULL, authz, status, reason);
}

/* Whether the store lists a resource whose path starts with prefix. */
static bool listed(const char *prefix)
{
        struct http h = request_full(&S, "GET", "/kbs/v0/resources", NULL, 0, NULL, tok_admin);
        assert_int_equal(h.status, 200);
        json_auto_t *j = json_loads(h.body, 0, NULL);
        free(h.body);
        size_t i;
        json_t *r;
        json_array_foreach (json_object_get(j, "resources"), i, r) {
                const char *p = json_string_value(json_object_get(r, "path"));
                if (p && strncmp(p, prefix, strlen(prefix)) == 0)
                        return true;
        }
        return false;
}

/* A writer for a repository of the longest allowed name may not reach any repository whose
 * name merely starts with it: such names are over the limit and refused (400) before any
 * permission check, for everyone; a name within the limit that is not its own is 403. */
static void test_checks_writer_stays_in_its_repository(void **state)
{
        char longer[VT_REPO_NAME_MAX + 16], other[VT_REPO_NAME_MAX + 1], name[300], path[512];

        /* its own repository: put, policy, release-ready, delete */
        snprintf(path, sizeof(path), "/kbs/v0/resource/%s/key/a", R);
        expect("PUT", path, "v", tok_writer_long, 200, NULL);
        snprintf(path, sizeof(path), "/kbs/v0/resource-policy/%s/key/a", R);
        expect("PUT", path, policy_affirming_sim, tok_writer_long, 200, NULL);

        /* R + "x" and R + "anything": one name longer than the limit */
        snprintf(longer, sizeof(longer), "%sx", R);
        expect_writes(longer, tok_writer_long, 400,
                      "repository name of 64 bytes is too long (at most 63)");
        snprintf(longer, sizeof(longer), "%sanything", R);
        expect_writes(longer, tok_writer_long, 400,
                      "repository name of 71 bytes is too long (at most 63)");
        /* refused before any check: an admin gets the same answer */
        expect_writes(longer, tok_admin, 400,
                      "repository name of 71 bytes is too long (at most 63)");
        assert_false(listed(longer));
        snprintf(longer, sizeof(longer), "%sx", R);
        assert_false(listed(longer));

        /* a name within the limit that differs from R in its last byte: authorization */
        memcpy(other, R, sizeof(other));
        other[VT_REPO_NAME_MAX - 1] = 's';
        char want[256];
        snprintf(want, sizeof(want), "may not write repository %.40s", other);
        expect_writes(other, tok_writer_long, 403, want);

        /* 64, 255 and 256 bytes of another name */
        static const size_t lens[] = {64, 255, 256};
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                memset(name, 'b', lens[i]);
                name[lens[i]] = 0;
                snprintf(want, sizeof(want),
                         "repository name of %zu bytes is too long (at most 63)", lens[i]);
                expect_writes(name, tok_writer_long, 400, want);
                expect_writes(name, tok_admin, 400, want);
                /* and the release and list endpoints */
                snprintf(path, sizeof(path), "/kbs/v0/resource/%s/key/a", name);
                expect("GET", path, NULL, NULL, 400, want);
                snprintf(path, sizeof(path), "/kbs/v0/resources?repo=%s", name);
                snprintf(want, sizeof(want), "repo of %zu bytes is too long (at most 63)", lens[i]);
                expect("GET", path, NULL, tok_admin, 400, want);
        }

        /* the writer still has its own repository */
        snprintf(path, sizeof(path), "/kbs/v0/resources?repo=%s", R);
        struct http h = request_full(&S, "GET", path, NULL, 0, NULL, tok_writer_long);
        assert_int_equal(h.status, 200);
        assert_non_null(strstr(h.body, R));
        free(h.body);
        snprintf(path, sizeof(path), "/kbs/v0/resource/%s/key/a", R);
        expect("DELETE", path, NULL, tok_writer_long, 200, NULL);
        assert_false(listed(R));
}

/* ?repo= that is not a repository name is the client's mistake: 400 with a problem body,
 * logged at info (not 503 at error, as if the store had failed). */
static void test_checks_list_bad_repo(void **state)
{
        static const char *const bad[] = {"../x", "", "a%2Fb", ".x", "a%20b"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char path[128];
                snprintf(path, sizeof(path), "/kbs/v0/resources?repo=%s", bad[i]);
                struct http h = request_full(&S, "GET", path, NULL, 0, NULL, tok_admin);
                if (h.status != 400)
                        fail_msg("?repo=%s: %ld, want 400: %s", bad[i], h.status,
                                 h.body ? h.body : "");
                json_auto_t *j = json_loads(h.body, 0, NULL);
                free(h.body);
                assert_string_equal(
                        json_string_value(json_object_get(j, "type")),
                        "https://github.com/confidential-containers/kbs/errors/InvalidRequestPath");
                assert_non_null(strstr(json_string_value(json_object_get(j, "detail")),
                                       "repo must be one path segment"));
        }
        assert_true(log_has(&S, "repo must be one path segment"));
        /* none of them was logged as a server error */
        char *log = slurp(S.log);
        for (char *l = log; l && *l;) {
                char *nl = strchr(l, '\n');
                if (nl)
                        *nl = 0;
                if (strstr(l, "/kbs/v0/resources") && strstr(l, "\"level\":\"error\""))
                        fail_msg("logged as an error: %s", l);
                l = nl ? nl + 1 : l + strlen(l);
        }
        free(log);
        expect("GET", "/kbs/v0/resources?repo=team-a", NULL, tok_admin, 200, NULL);
}

/* Sends raw bytes to server s (a request line with a NUL in it, or a Host header of our
 * choosing, which a URL library will not send) and returns the status of the answer; the
 * whole answer goes into out when it is not NULL. */
static long raw_exchange(const struct server *s, const char *req, size_t len, char *out, size_t cap)
{
        unsigned port = (unsigned)strtoul(strrchr(s->url, ':') + 1, NULL, 10);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        struct timeval tv = {.tv_sec = 10};
        char buf[8192] = {0};
        assert_true(fd >= 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(write(fd, req, len), (ssize_t)len);
        size_t n = 0;
        for (ssize_t r; n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0;)
                n += (size_t)r;
        close(fd);
        if (out)
                snprintf(out, cap, "%s", buf);
        assert_true(n > 12);
        assert_memory_equal(buf, "HTTP/1.1 ", 9);
        assert_true(buf[9] >= '1' && buf[9] <= '5' && buf[10] >= '0' && buf[10] <= '9' &&
                    buf[11] >= '0' && buf[11] <= '9');
        return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}

/* %00, a raw NUL and an encoded slash are refused with 400 on the release and the admin
 * routes: decoded, "db%00.txt" would be "db" and "default%2Fkey/db" would be
 * "default/key/db". */
static void test_checks_path_hidden_bytes(void **state)
{
        static const char why[] = "the URL holds a NUL byte (raw or %00) or an encoded slash (%2F)";
        expect("PUT", "/kbs/v0/resource/default/key/db", "the secret", tok_admin, 200, NULL);
        expect("PUT", "/kbs/v0/resource-policy/default/key/db", policy_affirming_sim, tok_admin,
               200, NULL);
        json_auto_t *jwk = new_jwk();
        char *token = attest_token(&S, &guest, jwk);
        char authz[32768];
        snprintf(authz, sizeof(authz), "Bearer %s", token);
        /* the control: the token releases db */
        expect("GET", "/kbs/v0/resource/default/key/db", NULL, authz, 200, NULL);

        static const char *const gets[] = {
                "/kbs/v0/resource/default/key/db%00.txt", "/kbs/v0/resource/default/key/db%00",
                "/kbs/v0/resource/default%2Fkey/db",      "/kbs/v0/resource/default%2fkey%2fdb",
                "/kbs/v0/resource/default/key/db?x=%00",
        };
        for (size_t i = 0; i < ELEMENTSOF(gets); i++)
                expect("GET", gets[i], NULL, authz, 400, why);
        /* a raw NUL in the request line */
        char req[33000];
        int n = snprintf(req, sizeof(req),
                         "GET /kbs/v0/resource/default/key/db@.txt HTTP/1.1\r\nHost: x\r\n"
                         "Authorization: %s\r\nConnection: close\r\n\r\n",
                         authz);
        *strchr(req, '@') = 0;
        assert_int_equal(raw_exchange(&S, req, (size_t)n, NULL, 0), 400);
        assert_true(log_has(&S, why));

        /* admin writes: nothing is stored under, or deleted from, the decoded name */
        expect("PUT", "/kbs/v0/resource/team-a/key/x%00y", "v", tok_admin, 400, why);
        expect("PUT", "/kbs/v0/resource/team-a%2Fkey/x", "v", tok_writer_a, 400, why);
        expect("PUT", "/kbs/v0/resource-policy/default/key/db%00z", policy_affirming_sim, tok_admin,
               400, why);
        assert_false(listed("team-a/key/x"));
        expect("DELETE", "/kbs/v0/resource/default/key/db%00zz", NULL, tok_admin, 400, why);
        expect("DELETE", "/kbs/v0/resource/default%2Fkey/db", NULL, tok_admin, 400, why);
        n = snprintf(req, sizeof(req),
                     "DELETE /kbs/v0/resource/default/key/db@zz HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: %s\r\nConnection: close\r\n\r\n",
                     tok_admin);
        *strchr(req, '@') = 0;
        assert_int_equal(raw_exchange(&S, req, (size_t)n, NULL, 0), 400);
        assert_true(listed("default/key/db"));
        /* the same secret is still released by its real name */
        expect("GET", "/kbs/v0/resource/default/key/db", NULL, authz, 200, NULL);
        free(token);
}

/* The body of a raw answer (after the blank line), parsed. */
static json_t *oidc_of(const struct server *s, const char *host)
{
        char req[512], ans[8192];
        int n = snprintf(req, sizeof(req),
                         "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: %s\r\n"
                         "Connection: close\r\n\r\n",
                         host);
        assert_int_equal(raw_exchange(s, req, (size_t)n, ans, sizeof(ans)), 200);
        const char *body = strstr(ans, "\r\n\r\n");
        assert_non_null(body);
        json_t *j = json_loads(body + 4, 0, NULL);
        assert_non_null(j);
        return j;
}

/* jwks_uri comes from the configuration, never from the client's Host header: without
 * public_url it is the listen address with the port bound; with it, public_url. */
static void test_checks_oidc_jwks_uri(void **state)
{
        char want[300];
        json_auto_t *j = oidc_of(&S, "evil.example");
        const char *u = json_string_value(json_object_get(j, "jwks_uri"));
        assert_non_null(u);
        snprintf(want, sizeof(want), "%s/.well-known/jwks.json", S.url);
        assert_string_equal(u, want);
        json_auto_t *j2 = oidc_of(&S, "evil.example:8443");
        assert_string_equal(json_string_value(json_object_get(j2, "jwks_uri")), want);

        struct server p = {0};
        char cfg[1024];
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state-public\n"
                 "public_url: https://kbs.example.com:8443/broker/\n",
                 vtt_dir);
        server_start(&p, "public", cfg);
        json_auto_t *j3 = oidc_of(&p, "evil.example");
        assert_string_equal(json_string_value(json_object_get(j3, "jwks_uri")),
                            "https://kbs.example.com:8443/broker/.well-known/jwks.json");
        server_stop(&p);

        /* a public_url that is not an http(s) URL stops the server, naming the key */
        static const char *const bad[] = {"kbs.example.com", "ftp://kbs.example.com", "https://",
                                          "https://kbs.example.com/?x=1", "\"https://a b\""};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char f[512];
                snprintf(f, sizeof(f), "%s/bad-public.yaml", vtt_dir);
                snprintf(cfg, sizeof(cfg),
                         "listen: 127.0.0.1:0\nstate_dir: %s/state-bad\npublic_url: %s\n", vtt_dir,
                         bad[i]);
                write_text(f, cfg);
                if (vt_test_sh(
                            "'%s' --config '%s' --check-config 2>&1 | grep -q 'public_url must be'",
                            bin("veriteed"), f) != 0)
                        fail_msg("public_url %s was not refused", bad[i]);
        }
}

/* Whether the log holds any 8-digit run of hex (4 bytes) of the value. */
static bool log_holds_any_of(const struct server *s, const uint8_t *v, size_t n)
{
        char hex[129], win[9];
        char *log = slurp(s->log);
        bool found = false;
        vt_hex_encode(v, n, hex);
        for (size_t i = 0; log && !found && i + 8 <= 2 * n; i++) {
                memcpy(win, hex + i, 8);
                win[8] = 0;
                /* runs of 0 or 9 are in any duration_ms ("1.4000000000000001"): skip them */
                found = !strstr(win, "0000") && !strstr(win, "9999") && strstr(log, win);
        }
        if (found)
                print_message("the log holds \"%s\" of %s\n", win, hex);
        free(log);
        return found;
}

/* A refusal for a report_data that does not bind the session (and one for init-data that
 * does not match host_data) says so, with fingerprints, and logs nothing of the raw
 * report data, expected report data or host data. */
static void test_checks_no_raw_evidence_logged(void **state)
{
        char cookie[128];
        json_auto_t *jwk = new_jwk(), *other = new_jwk();
        char *nonce = auth(&S, "sim", cookie);
        uint8_t rd[64] = {0}, expected[64] = {0};
        assert_int_equal(vt_kbs_runtime_binding(nonce, other, "", rd), 0);
        assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, "", expected), 0);
        char *body = attest_body(nonce, &guest, other, jwk);
        struct http h = post(&S, "/kbs/v0/attest", body, cookie);
        assert_int_equal(h.status, 401);
        free(h.body);
        free(body);
        free(nonce);
        assert_true(log_has(&S, "sim: report_data does not bind this session's nonce and "
                                "tee-pubkey (fingerprints: report_data sha256:"));
        /* the SHA-384 binding; the rest is zero padding */
        assert_false(log_holds_any_of(&S, rd, 48));
        assert_false(log_holds_any_of(&S, expected, 48));

        /* init-data whose digest is not the guest's host_data */
        struct vt_sim_guest g = guest;
        for (size_t i = 0; i < sizeof(g.host_data); i++)
                g.host_data[i] = (uint8_t)(0x3c + 7 * i);
        nonce = auth(&S, "sim", cookie);
        body = attest_body(nonce, &g, jwk, jwk);
        json_auto_t *b = json_loads(body, 0, NULL);
        json_object_set_new(b, "init-data",
                            json_pack("{s:s, s:s}", "format", "toml", "body",
                                      "algorithm = \"sha384\"\nversion = \"0.1.0\"\n"));
        free(body);
        body = json_dumps(b, JSON_COMPACT);
        h = post(&S, "/kbs/v0/attest", body, cookie);
        assert_int_equal(h.status, 401);
        free(h.body);
        free(body);
        free(nonce);
        assert_true(log_has(&S, "init-data: digest does not match host_data (fingerprints: "));
        assert_false(log_holds_any_of(&S, g.host_data, 32));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_checks_writer_stays_in_its_repository),
                cmocka_unit_test(test_checks_list_bad_repo),
                cmocka_unit_test(test_checks_path_hidden_bytes),
                cmocka_unit_test(test_checks_oidc_jwks_uri),
                cmocka_unit_test(test_checks_no_raw_evidence_logged),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
