/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes admission webhook through the real veriteed over HTTPS (a self-signed
 * certificate made by openssl here): every AdmissionReview fixture of tests/fixtures/k8s
 * (the uid echoed, allowed or refused with the code and the reason, a JSONPatch exactly
 * when the pod changes); malformed requests get 400 with the reason and the server keeps
 * serving; the routes are 404 without kubernetes.webhook; the option needs TLS and well-
 * formed tolerations. Applying the patches with an independent RFC 6902 implementation is
 * tests/integration/k8s_manifests.sh.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "testutil.h"
#include "util/b64.h"
#include "util/json.h"
#include "vtdtest.h"

static struct server S, OFF;
static char cert[512];

/* The webhook's configuration, as in the fixtures' expected pods. */
#define K8S_CONFIG                                                                                 \
        "kubernetes:\n  webhook: true\n  agent_image: registry.example/veritee:1.0\n"              \
        "  server_url: https://veriteed.veritee.svc:8443\n  ca_configmap: veritee-ca\n"            \
        "  node_label_key: kubernetes.azure.com/security-type\n"                                   \
        "  node_label_values: [ConfidentialVM]\n  runtime_class: kata-cc\n"                        \
        "  tolerations: [\"confidential=true:NoSchedule\", sev]\n"

struct answer {
        long status;
        char *body;
        size_t len;
        CURLcode rc;
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

/* POSTs body to base+path, trusting only the test certificate. */
static struct answer post_tls(const char *base, const char *path, const char *body, size_t len)
{
        struct answer a = {0};
        char url[512];
        CURL *c = curl_easy_init();
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        snprintf(url, sizeof(url), "%s%s", base, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CAINFO, cert);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
        a.rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        return a;
}

static int setup(void **state)
{
        char cfg[4096];
        (void)state;
        if (vtt_setup_sim("webhook", NULL) < 0)
                return -1;
        snprintf(cert, sizeof(cert), "%s/tls.crt", vtt_dir);
        if (vt_test_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                       "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                       "-keyout '%s/tls.key' -out '%s' 2>/dev/null",
                       vtt_dir, cert) != 0) {
                fprintf(stderr, "openssl could not make the test certificate\n");
                return -1;
        }
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\ntls:\n  certificate: %s\n"
                 "  private_key: %s/tls.key\n" K8S_CONFIG,
                 vtt_dir, cert, vtt_dir);
        server_start(&S, "webhook", cfg);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state-off\ntls:\n  certificate: %s\n"
                 "  private_key: %s/tls.key\n",
                 vtt_dir, cert, vtt_dir);
        server_start(&OFF, "off", cfg);
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

/* One fixture: the answer to its review, against what it expects. */
static void check_fixture(const char *path, const char *name)
{
        json_error_t err;
        json_auto_t *fx = json_load_file(path, 0, &err);
        if (!fx)
                fail_msg("%s: %s", name, err.text);
        const char *endpoint = json_string_value(json_object_get(fx, "endpoint"));
        json_t *review = json_object_get(fx, "review");
        const char *uid =
                json_string_value(json_object_get(json_object_get(review, "request"), "uid"));
        assert_non_null(endpoint);
        assert_non_null(uid);
        _cleanup_free_ char *body = json_dumps(review, JSON_COMPACT);
        char route[32];
        snprintf(route, sizeof(route), "/k8s/%s", endpoint);
        struct answer a = post_tls(S.url, route, body, strlen(body));
        if (a.rc != CURLE_OK || a.status != 200)
                fail_msg("%s: curl %d, HTTP %ld: %s", name, a.rc, a.status, a.body ? a.body : "");
        json_auto_t *ans = json_loads(a.body, 0, NULL);
        free(a.body);
        assert_non_null(ans);
        assert_string_equal(json_string_value(json_object_get(ans, "apiVersion")),
                            "admission.k8s.io/v1");
        assert_string_equal(json_string_value(json_object_get(ans, "kind")), "AdmissionReview");
        json_t *r = json_object_get(ans, "response");
        assert_string_equal(json_string_value(json_object_get(r, "uid")), uid);
        bool want = json_is_true(json_object_get(fx, "allowed"));
        if (json_is_true(json_object_get(r, "allowed")) != want)
                fail_msg("%s: allowed %s, expected %s (%s)", name, want ? "false" : "true",
                         want ? "true" : "false",
                         json_string_value(
                                 json_object_get(json_object_get(r, "status"), "message")));
        if (!want) {
                json_t *st = json_object_get(r, "status");
                const char *msg = json_string_value(json_object_get(st, "message"));
                const char *expect = json_string_value(json_object_get(fx, "message"));
                assert_non_null(msg);
                assert_non_null(expect);
                if (!strstr(msg, expect))
                        fail_msg("%s: message \"%s\" does not say \"%s\"", name, msg, expect);
                assert_int_equal(json_integer_value(json_object_get(st, "code")),
                                 json_integer_value(json_object_get(fx, "code")));
                assert_null(json_object_get(r, "patch"));
                return;
        }
        json_t *pod = json_object_get(fx, "pod");
        json_t *object = json_object_get(json_object_get(review, "request"), "object");
        const char *patch = json_string_value(json_object_get(r, "patch"));
        if (!pod || json_equal(pod, object)) { /* untouched: no patch at all */
                if (patch)
                        fail_msg("%s: a patch for a pod that should stay as it is", name);
                return;
        }
        assert_non_null(patch);
        assert_string_equal(json_string_value(json_object_get(r, "patchType")), "JSONPatch");
        _cleanup_free_ uint8_t *raw = NULL;
        size_t rl = 0;
        assert_int_equal(vt_b64_decode(patch, strlen(patch), VT_B64_STD, 1u << 20, &raw, &rl), 0);
        json_auto_t *ops = json_loadb((const char *)raw, rl, 0, NULL);
        assert_true(json_is_array(ops) && json_array_size(ops) > 0);
        size_t i;
        json_t *op;
        json_array_foreach (ops, i, op) {
                /* only additions: nothing the pod had is replaced or removed */
                assert_string_equal(json_string_value(json_object_get(op, "op")), "add");
                assert_non_null(json_object_get(op, "value"));
                const char *p = json_string_value(json_object_get(op, "path"));
                assert_non_null(p);
                assert_int_equal(strncmp(p, "/spec/", 6), 0);
        }
}

static void test_webhook_fixtures(void **state)
{
        (void)state;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", vt_test_helper("../fixtures/k8s"));
        DIR *d = opendir(dir);
        struct dirent *e;
        unsigned n = 0, mutate = 0, validate = 0;
        assert_non_null(d);
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
                        continue;
                char p[8192];
                snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
                check_fixture(p, e->d_name);
                n++;
                mutate += strncmp(e->d_name, "mutate-", 7) == 0;
                validate += strncmp(e->d_name, "validate-", 9) == 0;
        }
        closedir(d);
        /* every fixture ran, both routes */
        assert_true(n >= 24);
        assert_true(mutate >= 10 && validate >= 8);
        assert_true(log_has(&S, "\"route\":\"/k8s\""));
}

/* What is no AdmissionReview gets 400 with the reason; the server answers on. */
static void test_webhook_malformed(void **state)
{
        (void)state;
        static const struct {
                const char *body, *reason;
        } cases[] = {
                {"", "no body"},
                {"{\"apiVersion\":", "the body is not JSON"},
                {"[1,2]", "apiVersion must be admission.k8s.io/v1"},
                {"{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\"}",
                 "apiVersion must be admission.k8s.io/v1"},
                {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
                 "request must be an object"},
                {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"operation\":\"CREATE\"}}",
                 "request.uid must be a string"},
                {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"uid\":\"u\",\"uid\":\"v\",\"operation\":\"CREATE\"}}",
                 "the body is not JSON: duplicate object key"},
                {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"uid\":\"u\"}}",
                 "request.operation must be a string"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                for (int v = 0; v < 2; v++) {
                        struct answer a = post_tls(S.url, v ? "/k8s/validate" : "/k8s/mutate",
                                                   cases[i].body, strlen(cases[i].body));
                        assert_int_equal(a.rc, CURLE_OK);
                        if (a.status != 400 || !a.body || !strstr(a.body, cases[i].reason))
                                fail_msg("case %zu: HTTP %ld %s, expected 400 \"%s\"", i, a.status,
                                         a.body ? a.body : "", cases[i].reason);
                        free(a.body);
                }
        }
        /* nesting deeper than the parser takes: refused, not a crash */
        size_t depth = 100000;
        char *deep = malloc(2 * depth + 1);
        assert_non_null(deep);
        memset(deep, '[', depth);
        memset(deep + depth, ']', depth);
        deep[2 * depth] = 0;
        struct answer a = post_tls(S.url, "/k8s/mutate", deep, 2 * depth);
        free(deep);
        assert_int_equal(a.rc, CURLE_OK);
        assert_int_equal(a.status, 400);
        free(a.body);
        /* a pod with more containers than the webhook reads */
        json_auto_t *many = json_array();
        for (int i = 0; i < 300; i++)
                json_array_append_new(many, json_pack("{s:s}", "name", "c"));
        json_auto_t *rv =
                json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:{s:{s:s}}, s:{s:O}}}}",
                          "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview", "request",
                          "uid", "u-many", "operation", "CREATE", "kind", "group", "", "version",
                          "v1", "kind", "Pod", "object", "metadata", "annotations",
                          "veritee.io/secrets", "a/b/c=/s", "spec", "containers", many);
        _cleanup_free_ char *txt = json_dumps(rv, JSON_COMPACT);
        a = post_tls(S.url, "/k8s/mutate", txt, strlen(txt));
        assert_int_equal(a.status, 200);
        assert_non_null(strstr(a.body, "spec.containers must be a list of 1 to 256 containers"));
        assert_non_null(strstr(a.body, "\"uid\":\"u-many\""));
        free(a.body);
        /* still serving */
        a = post_tls(S.url, "/k8s/validate", "{}", 2);
        assert_int_equal(a.status, 400);
        free(a.body);
        assert_true(log_has(&S, "the body is not JSON"));
}

/* Truncations and byte flips of a real review: every answer is 400 or an AdmissionReview
 * (200), never a 500 or a dropped connection, and the server answers the whole review
 * afterwards as before. */
static void test_webhook_damaged(void **state)
{
        (void)state;
        char p[4096];
        json_error_t err;
        snprintf(p, sizeof(p), "%s", vt_test_helper("../fixtures/k8s/mutate-existing.json"));
        json_auto_t *fx = json_load_file(p, 0, &err);
        assert_non_null(fx);
        _cleanup_free_ char *body = json_dumps(json_object_get(fx, "review"), JSON_COMPACT);
        size_t n = strlen(body);
        unsigned seed = 13;
        for (size_t cut = 0; cut < n; cut += 29) {
                struct answer a = post_tls(S.url, "/k8s/mutate", body, cut);
                if (a.rc != CURLE_OK || a.status != 400)
                        fail_msg("cut at %zu: curl %d, HTTP %ld", cut, a.rc, a.status);
                free(a.body);
        }
        for (int i = 0; i < 150; i++) {
                _cleanup_free_ char *b = strdup(body);
                assert_non_null(b);
                for (int k = 0; k < 3; k++) {
                        seed = seed * 1103515245u +
                               12345u; /* a fixed LCG sequence: the same flips every run */
                        b[(seed >> 8) % n] = (char)" {}[]\",:0a-/="[(seed >> 20) % 14];
                }
                struct answer a = post_tls(S.url, i % 2 ? "/k8s/validate" : "/k8s/mutate", b, n);
                if (a.rc != CURLE_OK || (a.status != 200 && a.status != 400))
                        fail_msg("flip %d: curl %d, HTTP %ld", i, a.rc, a.status);
                free(a.body);
        }
        struct answer a = post_tls(S.url, "/k8s/mutate", body, n);
        assert_int_equal(a.status, 200);
        assert_non_null(strstr(a.body, "\"patchType\":\"JSONPatch\""));
        free(a.body);
}

/* Without kubernetes.webhook the routes do not exist. */
static void test_webhook_off(void **state)
{
        (void)state;
        const char *body = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                           "\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\"}}";
        for (int v = 0; v < 2; v++) {
                struct answer a =
                        post_tls(OFF.url, v ? "/k8s/validate" : "/k8s/mutate", body, strlen(body));
                assert_int_equal(a.rc, CURLE_OK);
                assert_int_equal(a.status, 404);
                free(a.body);
        }
}

/* HTTPS only: plain HTTP to the webhook's port gets no answer, and the option without
 * TLS, or with a malformed toleration, stops start-up with the reason. */
static void test_webhook_https_only(void **state)
{
        (void)state;
        char http[80];
        const char *port = strrchr(S.url, ':');
        snprintf(http, sizeof(http), "http://127.0.0.1%s", port);
        struct answer a = post_tls(http, "/k8s/mutate", "{}", 2);
        assert_true(a.rc != CURLE_OK || a.status != 200);
        free(a.body);

        static const struct {
                const char *extra, *reason;
        } cases[] = {
                {"", "config: kubernetes.webhook needs tls.certificate and tls.private_key"},
                {"tls:\n  certificate: @CERT@\n  private_key: @KEY@\n"
                 "kubernetes:\n  webhook: true\n  agent_image: a\n",
                 "kubernetes.webhook needs kubernetes.agent_image, kubernetes.server_url"},
                {"tls:\n  certificate: @CERT@\n  private_key: @KEY@\n"
                 "kubernetes:\n  webhook: true\n  agent_image: a\n  server_url: https://k\n"
                 "  node_label_key: k\n  node_label_values: [v]\n"
                 "  tolerations: [\"a=b:Sometimes\"]\n",
                 "Sometimes\\\" is not KEY[=VALUE][:EFFECT] (effect NoSchedule"},
                {"kubernetes:\n  server_url: kbs.example\n",
                 "kubernetes.server_url must be http(s)://"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char cfg[2048], path[600], out[600];
                const char *extra = cases[i].extra;
                if (!*extra)
                        extra = K8S_CONFIG;
                snprintf(cfg, sizeof(cfg), "listen: 127.0.0.1:0\nstate_dir: %s/state-bad\n%s",
                         vtt_dir, extra);
                /* the certificate paths */
                _cleanup_free_ char *c1 = NULL, *c2 = NULL;
                char *at = strstr(cfg, "@CERT@");
                if (at) {
                        *at = 0;
                        char *k = strstr(at + 6, "@KEY@");
                        *k = 0;
                        assert_true(asprintf(&c1, "%s%s%s%s/tls.key%s", cfg, cert, at + 6, vtt_dir,
                                             k + 5) > 0);
                        snprintf(cfg, sizeof(cfg), "%s", c1);
                }
                snprintf(path, sizeof(path), "%s/bad%zu.yaml", vtt_dir, i);
                snprintf(out, sizeof(out), "%s/bad%zu.out", vtt_dir, i);
                write_text(path, cfg);
                int rc = vt_test_sh("'%s' --config '%s' --check-config >'%s' 2>&1", bin("veriteed"),
                                    path, out);
                c2 = slurp(out);
                assert_int_not_equal(rc, 0);
                if (!c2 || !strstr(c2, cases[i].reason))
                        fail_msg("case %zu: \"%s\" does not say \"%s\"", i, c2 ? c2 : "",
                                 cases[i].reason);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_webhook_fixtures),   cmocka_unit_test(test_webhook_malformed),
                cmocka_unit_test(test_webhook_damaged),    cmocka_unit_test(test_webhook_off),
                cmocka_unit_test(test_webhook_https_only),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
