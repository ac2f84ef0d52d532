/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real veriteed on 127.0.0.1 with a temporary SQLite store: the real agent
 * attests with the simulator, the token verifies with the published JWKS by the jose
 * command-line tool, and each refusal has its status and its reason in the log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <strings.h>

#include "evidence/snp_wire.h"
#include "kbs/rcar.h"
#include "policy/release.h"
#include "testutil.h"
#include "vtdtest.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "veritee/sim.h"

static struct vt_sim_guest guest;
static struct server S1; /* trusts the simulator, has reference values */
#define dir    vtt_dir
#define simdir vtt_simdir

static int setup(void **state)
{
        char rv[600], cfg[2048];
        struct vt_diag d = {0};
        curl_global_init(CURL_GLOBAL_DEFAULT);
        snprintf(dir, sizeof(dir), "%s/veritee-server-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
                return -1;
        snprintf(simdir, sizeof(simdir), "%s/sim", dir);
        if (vt_sim_init(simdir, false, &d) < 0 || vt_sim_load_guest(simdir, &guest, &d) < 0) {
                fprintf(stderr, "sim: %s\n", d.msg);
                return -1;
        }
        char m[97];
        vt_hex_encode(guest.measurement, 48, m);
        snprintf(rv, sizeof(rv),
                 "{\"sim\":{\"measurements\":[\"%s\"],\"minimum_tcb\":{\"microcode\":100}}}", m);
        char path[512];
        snprintf(path, sizeof(path), "%s/rv.json", dir);
        write_text(path, rv);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/s1\nsession:\n  ttl_seconds: 5\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "  pccs_url: http://127.0.0.1:9\n  kds_url: http://127.0.0.1:9\n"
                 "limits:\n  max_body_bytes: 65536\n  threads: 2\n",
                 dir, dir, simdir);
        server_start(&S1, "s1", cfg);
        return 0;
}

static int teardown(void **state)
{
        server_stop(&S1);
        server_stop_all();
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

/* The real agent attests; jose verifies the token with the published JWKS. */
static void test_server_agent_and_jose(void **state)
{
        char cmd[2048], tok[512], jwks[512], pay[512];
        snprintf(tok, sizeof(tok), "%s/token.jws", dir);
        snprintf(jwks, sizeof(jwks), "%s/jwks.json", dir);
        snprintf(pay, sizeof(pay), "%s/payload.json", dir);
        snprintf(cmd, sizeof(cmd),
                 "'%s' agent attest --kbs '%s' --tee sim --sim-dir '%s' | tr -d '\\n' > '%s'",
                 bin("veritee"), S1.url, simdir, tok);
        assert_int_equal(system(cmd), 0);
        struct http h = request(&S1, "/.well-known/jwks.json", NULL, 0, NULL);
        assert_int_equal(h.status, 200);
        write_text(jwks, h.body);
        free(h.body);
        snprintf(cmd, sizeof(cmd), "jose jws ver -i '%s' -k '%s' -O '%s'", tok, jwks, pay);
        assert_int_equal(system(cmd), 0);
        char *p = slurp(pay);
        assert_non_null(p);
        json_auto_t *claims = json_loads(p, 0, NULL);
        free(p);
        json_t *cpu0 = json_object_get(json_object_get(claims, "submods"), "cpu0");
        assert_string_equal(json_string_value(json_object_get(claims, "eat_profile")),
                            "tag:github.com,2024:confidential-containers/Trustee");
        assert_string_equal(json_string_value(json_object_get(cpu0, "ear.status")), "affirming");
        assert_true(json_is_true(json_object_get(cpu0, "veritee.simulated")));
        json_t *ev = json_object_get(cpu0, "ear.veraison.annotated-evidence");
        assert_non_null(json_object_get(json_object_get(ev, "runtime_data_claims"), "tee-pubkey"));
        assert_true(json_is_true(json_object_get(json_object_get(ev, "sim"), "simulated")));
        assert_int_equal(
                json_integer_value(json_object_get(
                        json_object_get(cpu0, "ear.trustworthiness-vector"), "executables")),
                2);
        assert_true(json_integer_value(json_object_get(claims, "exp")) >
                    json_integer_value(json_object_get(claims, "iat")));
        /* a tampered token does not verify */
        char *t = slurp(tok);
        size_t tl = strlen(t);
        t[tl - 5] = t[tl - 5] == 'A' ? 'B' : 'A';
        write_text(tok, t);
        free(t);
        snprintf(cmd, sizeof(cmd), "jose jws ver -i '%s' -k '%s' -O /dev/null 2>/dev/null", tok,
                 jwks);
        assert_int_not_equal(system(cmd), 0);
        /* OIDC discovery points at the JWKS */
        h = request(&S1, "/.well-known/openid-configuration", NULL, 0, NULL);
        assert_int_equal(h.status, 200);
        assert_non_null(strstr(h.body, "/.well-known/jwks.json"));
        free(h.body);
        assert_true(log_has(&S1, "\"route\":\"/kbs/v0/attest\",\"status\":200"));
}

static void expect_attest(const struct server *s, const char *body, const char *cookie, long status,
                          const char *reason)
{
        struct http h = post(s, "/kbs/v0/attest", body, cookie);
        if (h.status != status)
                fail_msg("status %ld, want %ld: %s", h.status, status, h.body ? h.body : "");
        if (reason) {
                assert_non_null(
                        strstr(h.body, "https://github.com/confidential-containers/kbs/errors/"));
                if (!log_has(s, reason))
                        fail_msg("log lacks \"%s\"", reason);
        }
        free(h.body);
}

static void test_server_refusals(void **state)
{
        char cookie[128];
        json_auto_t *jwk = new_jwk(), *other = new_jwk();

        /* protocol version 0.2.0 (the Trustee CCA fixture) */
        size_t n;
        uint8_t *fx = vt_test_load_vector("kbs/trustee/cca/kbs-request.json", &n);
        struct http h = post(&S1, "/kbs/v0/auth", (const char *)fx, NULL);
        free(fx);
        assert_int_equal(h.status, 401);
        assert_non_null(strstr(h.body, "Protocol Version Mismatch"));
        free(h.body);
        assert_true(log_has(&S1, "expected =0.4.0, got 0.2.0"));
        /* Trustee's semver requirement =0.4.0: build metadata passes, a pre-release or a
         * patch release does not */
        static const struct {
                const char *v;
                long status;
        } vers[] = {{"0.4.0+abc", 200}, {"0.4.1", 401}, {"0.4.0-rc1", 401}};
        for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
                char b[128];
                snprintf(b, sizeof(b), "{\"version\":\"%s\",\"tee\":\"sim\",\"extra-params\":\"\"}",
                         vers[i].v);
                h = post(&S1, "/kbs/v0/auth", b, NULL);
                assert_int_equal(h.status, vers[i].status);
                free(h.body);
        }

        /* a wrong nonce (the session stays usable), then the right one, then a reuse */
        char *nonce = auth(&S1, "sim", cookie);
        char *wrong = strdup(nonce);
        wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
        char *body = attest_body(wrong, &guest, jwk, jwk);
        expect_attest(&S1, body, cookie, 401, "nonce does not match the session's challenge");
        free(body);
        body = attest_body(nonce, &guest, jwk, jwk);
        expect_attest(&S1, body, cookie, 200, NULL);
        expect_attest(&S1, body, cookie, 401, "nonce already used");
        free(body);
        free(wrong);
        free(nonce);

        /* evidence bound to another key */
        nonce = auth(&S1, "sim", cookie);
        body = attest_body(nonce, &guest, other, jwk);
        expect_attest(&S1, body, cookie, 401, "does not bind this session's nonce and tee-pubkey");
        free(body);
        free(nonce);

        /* a simulator report with debug set */
        struct vt_sim_guest g = guest;
        g.policy |= 1ull << 19;
        nonce = auth(&S1, "sim", cookie);
        body = attest_body(nonce, &g, jwk, jwk);
        expect_attest(&S1, body, cookie, 401, "policy_debug_allowed is true");
        free(body);
        free(nonce);

        /* an unknown measurement */
        g = guest;
        g.measurement[0] ^= 0xff;
        nonce = auth(&S1, "sim", cookie);
        body = attest_body(nonce, &g, jwk, jwk);
        expect_attest(&S1, body, cookie, 401, "appraisal contraindicated: snp: measurement");
        free(body);
        free(nonce);

        /* TCB below the minimum: a warning, refused by the default minimum status */
        g = guest;
        g.microcode = 50;
        nonce = auth(&S1, "sim", cookie);
        body = attest_body(nonce, &g, jwk, jwk);
        expect_attest(&S1, body, cookie, 401,
                      "appraisal warning: snp: reported_tcb.microcode 0x32 < minimum 0x64");
        free(body);
        free(nonce);

        /* a malformed JWK */
        nonce = auth(&S1, "sim", cookie);
        json_auto_t *bad = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
                                     "AAAA", "y", "AAAA");
        body = attest_body(nonce, &guest, jwk, bad);
        expect_attest(&S1, body, cookie, 401, "tee-pubkey: jwk");
        free(body);
        free(nonce);

        /* simulator evidence sent as hardware evidence: not an AMD chain */
        nonce = auth(&S1, "snp", cookie);
        body = attest_body(nonce, &guest, jwk, jwk);
        expect_attest(&S1, body, cookie, 401, "under a pinned AMD root");
        free(body);
        free(nonce);

        /* an oversized body: 413, and nothing else happens */
        size_t big = 70000;
        char *huge = malloc(big + 1);
        memset(huge, ' ', big);
        huge[big] = 0;
        h = request(&S1, "/kbs/v0/auth", huge, big, NULL);
        assert_int_equal(h.status, 413);
        free(h.body);
        free(huge);
        assert_true(log_has(&S1, "\"status\":413"));

        /* no cookie, unknown cookie */
        expect_attest(&S1, "{}", NULL, 401, "no kbs-session-id cookie");
        expect_attest(&S1, "{}", "0123456789abcdef0123456789abcdef", 401, "session not found");
        /* not JSON */
        h = post(&S1, "/kbs/v0/auth", "{nope", NULL);
        assert_int_equal(h.status, 400);
        free(h.body);
        /* sample is refused unless allowed */
        h = post(&S1, "/kbs/v0/auth",
                 "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}", NULL);
        assert_int_equal(h.status, 401);
        assert_non_null(strstr(h.body, "allow_sample"));
        free(h.body);
}

static void test_server_expired_session(void **state)
{
        char cookie[128];
        json_auto_t *jwk = new_jwk();
        char *nonce = auth(&S1, "sim", cookie);
        char *body = attest_body(nonce, &guest, jwk, jwk);
        sleep(6); /* session.ttl_seconds is 5 */
        expect_attest(&S1, body, cookie, 401, "session expired");
        free(body);
        free(nonce);
}

/* Sessions live in the store: a restart, or a second process on the same database,
 * continues the handshake. */
static void test_server_restart_and_second_process(void **state)
{
        char cookie[128], cfg[1024];
        json_auto_t *jwk = new_jwk();
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/s1\nsession:\n  ttl_seconds: 30\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n",
                 dir, dir, simdir);
        struct server s2 = {0};
        server_start(&s2, "s2", cfg);
        char *nonce = auth(&S1, "sim", cookie);
        char *body = attest_body(nonce, &guest, jwk, jwk);
        expect_attest(&s2, body, cookie, 200, NULL); /* the other process finishes it */
        expect_attest(&S1, body, cookie, 401, "nonce already used");
        free(body);
        free(nonce);
        nonce = auth(&s2, "sim", cookie);
        body = attest_body(nonce, &guest, jwk, jwk);
        server_stop(&s2);
        server_start(&s2, "s2", cfg); /* restart */
        expect_attest(&s2, body, cookie, 200, NULL);
        free(body);
        free(nonce);
        server_stop(&s2);
}

/* Without the simulator root configured, tee sim is refused; past max_sessions, 429. */
static void test_server_untrusted_sim_and_limits(void **state)
{
        char cfg[1024], cookie[128];
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/s3\nlimits:\n  max_sessions: 2\n", dir);
        struct server s3 = {0};
        server_start(&s3, "s3", cfg);
        struct http h = post(&s3, "/kbs/v0/auth",
                             "{\"version\":\"0.4.0\",\"tee\":\"sim\",\"extra-params\":\"\"}", NULL);
        assert_int_equal(h.status, 401);
        assert_non_null(strstr(h.body, "the simulator is not trusted"));
        free(h.body);
        assert_true(log_has(&s3, "the simulator is not trusted"));
        free(auth(&s3, "snp", cookie));
        free(auth(&s3, "snp", cookie));
        h = post(&s3, "/kbs/v0/auth",
                 "{\"version\":\"0.4.0\",\"tee\":\"snp\",\"extra-params\":\"\"}", NULL);
        assert_int_equal(h.status, 429);
        free(h.body);
        assert_true(log_has(&s3, "too many open sessions"));
        /* probes, metrics, unknown routes */
        h = request(&s3, "/healthz", NULL, 0, NULL);
        assert_int_equal(h.status, 200);
        free(h.body);
        h = request(&s3, "/readyz", NULL, 0, NULL);
        assert_int_equal(h.status, 200);
        free(h.body);
        h = request(&s3, "/metrics", NULL, 0, NULL);
        assert_int_equal(h.status, 200);
        assert_non_null(
                strstr(h.body, "veritee_http_requests_total{route=\"auth\",status=\"429\"} 1"));
        assert_non_null(strstr(h.body,
                               "veritee_http_request_duration_seconds_bucket{route=\"auth\","
                               "le=\"+Inf\"}"));
        assert_non_null(
                strstr(h.body, "veritee_verifications_total{tee=\"snp\",verdict=\"rejected\"} 0"));
        free(h.body);
        h = request(&s3, "/kbs/v0/nothing", NULL, 0, NULL);
        assert_int_equal(h.status, 404);
        free(h.body);
        h = request(&s3, "/kbs/v0/auth", NULL, 0, NULL);
        assert_int_equal(h.status, 405);
        free(h.body);
        server_stop(&s3);
        /* the log never holds a token, a nonce or evidence */
        char *l = slurp(s3.log);
        assert_null(strstr(l, "eyJ"));
        assert_null(strstr(l, "attestation_report"));
        free(l);
        char *l1 = slurp(S1.log);
        assert_null(strstr(l1, "eyJ"));
        assert_null(strstr(l1, "\"nonce\""));
        free(l1);
}

static const char init_toml[] =
        "version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n"
        "\"aa.toml\" = '''\n[token_configs.kbs]\nurl = \"http://127.0.0.1:8080\"\n'''\n";

/* init-data: its digest must be HOST_DATA; its claims reach the token. */
static void test_server_init_data(void **state)
{
        char path[512], tok[512], jwks[512], pay[512], cmd[2048], cookie[128];
        snprintf(path, sizeof(path), "%s/init.toml", dir);
        snprintf(tok, sizeof(tok), "%s/token-init.jws", dir);
        snprintf(jwks, sizeof(jwks), "%s/jwks.json", dir);
        snprintf(pay, sizeof(pay), "%s/payload-init.json", dir);
        write_text(path, init_toml);
        snprintf(cmd, sizeof(cmd),
                 "'%s' agent attest --kbs '%s' --tee sim --sim-dir '%s' --init-data '%s' | tr -d "
                 "'\\n' > '%s'",
                 bin("veritee"), S1.url, simdir, path, tok);
        assert_int_equal(system(cmd), 0);
        struct http h = request(&S1, "/.well-known/jwks.json", NULL, 0, NULL);
        write_text(jwks, h.body);
        free(h.body);
        snprintf(cmd, sizeof(cmd), "jose jws ver -i '%s' -k '%s' -O '%s'", tok, jwks, pay);
        assert_int_equal(system(cmd), 0);
        char *p = slurp(pay);
        json_auto_t *claims = json_loads(p, 0, NULL);
        free(p);
        json_t *ev = json_object_get(json_object_get(json_object_get(claims, "submods"), "cpu0"),
                                     "ear.veraison.annotated-evidence");
        uint8_t dg[48];
        char hex[97];
        assert_true(EVP_Digest(init_toml, strlen(init_toml), dg, NULL, EVP_sha384(), NULL));
        vt_hex_encode(dg, 48, hex);
        assert_string_equal(json_string_value(json_object_get(ev, "init_data")), hex);
        json_t *url = json_object_get(
                json_object_get(
                        json_object_get(
                                json_object_get(json_object_get(ev, "init_data_claims"), "aa.toml"),
                                "token_configs"),
                        "kbs"),
                "url");
        assert_string_equal(json_string_value(url), "http://127.0.0.1:8080");
        /* the same init-data with evidence whose HOST_DATA is something else */
        json_auto_t *jwk = new_jwk();
        char *nonce = auth(&S1, "sim", cookie);
        char *body = attest_body(nonce, &guest, jwk, jwk);
        json_auto_t *b = json_loads(body, 0, NULL);
        json_object_set_new(b, "init-data",
                            json_pack("{s:s, s:s}", "format", "toml", "body", init_toml));
        free(body);
        body = json_dumps(b, JSON_COMPACT);
        expect_attest(&S1, body, cookie, 401, "init-data: digest");
        free(body);
        free(nonce);
}

/* HTTPS when a certificate and key are configured: the agent attests over TLS. */
static void test_server_https(void **state)
{
        char cmd[2048], cfg[2048];
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
                 "-subj /CN=127.0.0.1 "
                 "-addext subjectAltName=IP:127.0.0.1 -keyout '%s/tls.key' -out '%s/tls.crt' "
                 "2>/dev/null",
                 dir, dir);
        assert_int_equal(system(cmd), 0);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/s4\ntls:\n  certificate: %s/tls.crt\n  "
                 "private_key: %s/tls.key\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n",
                 dir, dir, dir, dir, simdir);
        struct server s4 = {0};
        server_start(&s4, "s4", cfg);
        assert_int_equal(strncmp(s4.url, "https://127.0.0.1:", 18), 0);
        unsigned port = (unsigned)strtoul(s4.url + 18, NULL, 10);
        snprintf(cmd, sizeof(cmd),
                 "'%s' agent attest --kbs https://127.0.0.1:%u --tee sim --sim-dir '%s' --cacert "
                 "'%s/tls.crt' "
                 ">/dev/null",
                 bin("veritee"), port, simdir, dir);
        assert_int_equal(system(cmd), 0);
        /* plain HTTP to the TLS port fails */
        snprintf(cmd, sizeof(cmd),
                 "'%s' agent attest --kbs http://127.0.0.1:%u --tee sim --sim-dir '%s' 2>/dev/null",
                 bin("veritee"), port, simdir);
        assert_int_not_equal(system(cmd), 0);
        server_stop(&s4);
}

/* tee tdx: the quote is decoded and verified; collateral comes from the configured PCCS
 * (here a closed port, so the refusal names it: no test reaches Intel). */
static void test_server_tdx_evidence(void **state)
{
        char cookie[128];
        size_t n;
        uint8_t *q = vt_test_load_vector("dcap/tdx_b0c06f_eval17/quote.bin", &n);
        char *q64 = NULL;
        assert_int_equal(vt_b64_encode(q, n, VT_B64_STD, &q64), 0);
        free(q);
        json_auto_t *jwk = new_jwk();
        char *nonce = auth(&S1, "tdx", cookie);
        json_auto_t *body =
                json_pack("{s:{s:s, s:O}, s:{s:{s:s, s:n}, s:s}}", "runtime-data", "nonce", nonce,
                          "tee-pubkey", jwk, "tee-evidence", "primary_evidence", "quote", q64,
                          "cc_eventlog", "additional_evidence", "");
        char *txt = json_dumps(body, JSON_COMPACT);
        expect_attest(&S1, txt, cookie, 401,
                      "http: GET http://127.0.0.1:9/sgx/certification/v4/pckcrl");
        free(txt);
        free(nonce);
        /* not base64 */
        nonce = auth(&S1, "tdx", cookie);
        json_object_set_new(
                json_object_get(json_object_get(body, "tee-evidence"), "primary_evidence"), "quote",
                json_string("not base64!"));
        json_object_set_new(json_object_get(body, "runtime-data"), "nonce", json_string(nonce));
        txt = json_dumps(body, JSON_COMPACT);
        expect_attest(&S1, txt, cookie, 401, "tdx: evidence must be");
        free(txt);
        free(nonce);
        free(q64);
}

/* Past limits.max_connections a request gets 503 and nothing else changes; an idle
 * connection is closed after limits.connection_timeout_seconds. */
static void test_server_connection_limit(void **state)
{
        char cfg[1024];
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/s5\nlimits:\n  max_connections: 1\n"
                 "  connection_timeout_seconds: 2\n  threads: 1\n",
                 dir);
        struct server s5 = {0};
        server_start(&s5, "s5", cfg);
        unsigned port = (unsigned)strtoul(strrchr(s5.url, ':') + 1, NULL, 10);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        usleep(200 * 1000); /* the idle connection is now counted */
        struct http h = request(&s5, "/healthz", NULL, 0, NULL);
        assert_int_equal(h.status, 503);
        free(h.body);
        assert_true(log_has(&s5, "too many connections (limit 1)"));
        /* the idle connection times out and the server answers again */
        struct timeval tv = {.tv_sec = 15};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char b;
        assert_int_equal(read(fd, &b, 1), 0);
        close(fd);
        usleep(100 * 1000);
        h = request(&s5, "/healthz", NULL, 0, NULL);
        assert_int_equal(h.status, 200);
        free(h.body);
        server_stop(&s5);
}

/* The claims of a token, unverified (the tests that need verification do it elsewhere). */
static json_t *token_claims(const char *token)
{
        const char *p1 = strchr(token, '.'), *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
        uint8_t *b = NULL;
        size_t n = 0;
        assert_non_null(p2);
        assert_int_equal(vt_b64_decode(p1 + 1, (size_t)(p2 - p1 - 1), VT_B64_URL, 4u << 20, &b, &n),
                         0);
        json_t *c = json_loadb((const char *)b, n, 0, NULL);
        free(b);
        assert_non_null(c);
        return c;
}

/* A sample guest's attest (Trustee's sample attester: {"svn","report_data"} with the
 * unpadded digest), its tee-evidence grown by pad bytes of an ignored member; returns the
 * HTTP answer. */
static struct http sample_attest(const struct server *s, const char *additional, size_t pad)
{
        char cookie[128];
        json_auto_t *jwk = new_jwk();
        char *nonce = auth(s, "sample", cookie);
        uint8_t dg[48];
        char *rd = NULL;
        assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, additional, dg), 0);
        assert_int_equal(vt_b64_encode(dg, 48, VT_B64_STD, &rd), 0);
        json_auto_t *body =
                json_pack("{s:{s:s, s:O}, s:{s:{s:s, s:s}, s:s}}", "runtime-data", "nonce", nonce,
                          "tee-pubkey", jwk, "tee-evidence", "primary_evidence", "svn", "1",
                          "report_data", rd, "additional_evidence", additional);
        if (pad) {
                char *big = malloc(pad + 1);
                assert_non_null(big);
                memset(big, 'a', pad);
                big[pad] = 0;
                json_object_set_new(
                        json_object_get(json_object_get(body, "tee-evidence"), "primary_evidence"),
                        "padding", json_string(big));
                free(big);
        }
        char *txt = json_dumps(body, JSON_COMPACT);
        struct http h = post(s, "/kbs/v0/attest", txt, cookie);
        free(txt);
        free(rd);
        free(nonce);
        return h;
}

/* tee sample (unsigned) only with attestation.allow_sample (development): then a sample
 * guest gets a token, never affirming and marked veritee.sample, loudly logged at start
 * and at each use. Also: evidence up to limits.max_evidence_bytes (2 MiB by default, as
 * Trustee's payload limit) goes past the size check, and token.verbose. */
static void test_server_sample(void **state)
{
        char cfg[1024];
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/s6\nattestation:\n  allow_sample: true\n",
                 dir);
        struct server s6 = {0};
        server_start(&s6, "s6", cfg);
        assert_true(log_has(&s6, "DEVELOPMENT ONLY: tee \\\"sample\\\" (unsigned evidence) is "
                                 "accepted"));
        static const char add[] = "{\"sampledevice\":{\"svn\":\"2\"}}";
        struct http h = sample_attest(&s6, add, 0);
        assert_int_equal(h.status, 200);
        json_auto_t *r = json_loads(h.body, 0, NULL);
        free(h.body);
        json_auto_t *c = token_claims(json_string_value(json_object_get(r, "token")));
        json_t *cpu0 = json_object_get(json_object_get(c, "submods"), "cpu0");
        assert_string_equal(json_string_value(json_object_get(cpu0, "ear.status")),
                            "contraindicated");
        assert_true(json_is_true(json_object_get(cpu0, "veritee.sample")));
        json_t *rtc = json_object_get(json_object_get(cpu0, "ear.veraison.annotated-evidence"),
                                      "runtime_data_claims");
        assert_string_equal(json_string_value(json_object_get(rtc, "additional-evidence")), add);
        assert_true(log_has(&s6, "DEVELOPMENT ONLY: unsigned tee \\\"sample\\\" evidence from"));
        /* 1.9 MiB of evidence: past the size check (default 2 MiB), verified, answered */
        h = sample_attest(&s6, "", 1900u * 1024u);
        assert_int_equal(h.status, 200);
        free(h.body);
        /* past 2 MiB: 413 */
        h = sample_attest(&s6, "", 2u * 1024u * 1024u + 1024u);
        assert_int_equal(h.status, 413);
        assert_non_null(strstr(h.body, "tee-evidence larger than 2097152 bytes"));
        free(h.body);
        server_stop(&s6);

        /* token.verbose: false keeps the raw additional evidence out of tokens */
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/s6b\nattestation:\n  allow_sample: true\n"
                 "token:\n  verbose: false\n",
                 dir);
        struct server s6b = {0};
        server_start(&s6b, "s6b", cfg);
        h = sample_attest(&s6b, add, 0);
        assert_int_equal(h.status, 200);
        json_auto_t *r2 = json_loads(h.body, 0, NULL);
        free(h.body);
        json_auto_t *c2 = token_claims(json_string_value(json_object_get(r2, "token")));
        const json_t *rtc2 = vt_json_pointer(
                c2, "/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims");
        assert_non_null(json_object_get(rtc2, "nonce"));
        assert_non_null(json_object_get(rtc2, "tee-pubkey"));
        assert_null(json_object_get(rtc2, "additional-evidence"));
        server_stop(&s6b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_server_agent_and_jose),
                cmocka_unit_test(test_server_refusals),
                cmocka_unit_test(test_server_expired_session),
                cmocka_unit_test(test_server_init_data),
                cmocka_unit_test(test_server_restart_and_second_process),
                cmocka_unit_test(test_server_untrusted_sim_and_limits),
                cmocka_unit_test(test_server_https),
                cmocka_unit_test(test_server_connection_limit),
                cmocka_unit_test(test_server_sample),
                cmocka_unit_test(test_server_tdx_evidence),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
