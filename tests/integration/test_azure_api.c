/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
/*
 * The Azure-compatible attestation API against the real veriteed (issue 14): the real SGX
 * quote of ../shared/testdata/dcap/sgx_00a067_eval17 with its collateral (in the DCAP cache,
 * verified at the vector's as-of time through attestation.verify_at), and SEV-SNP reports
 * the simulator signs (chain to attestation.simulator_root: simulated, and said so). Tokens
 * are checked here with OpenSSL against the key /certs publishes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/jwk.h"
#include "crypto/seal.h"
#include "httpd.h"
#include "testutil.h"
#include "token/admin.h"
#include "token/jose.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "vtdtest.h"

#define SGX_VEC       "dcap/sgx_00a067_eval17/"
#define SGX_AT        "2025-06-20T00:00:00Z" /* PROVENANCE.md: the vector's as-of time */
#define SGX_MRENCLAVE "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
#define SGX_CACHE     "dcap-sgx-processor-00a067110000.json"
/* a TDX quote with the same as-of time (PROVENANCE.md): UpToDate, not a debug TD */
#define TDX_VEC "dcap/tdx_b0c06f_eval17/"
#define TDX_MRTD                                                                                   \
        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538" \
        "873118b7"
#define TDX_CACHE "dcap-tdx-platform-b0c06f000000.json"

static struct vt_sim_guest guest;
static struct server A, B, C;       /* A: accepts; B: another mr_enclave; C: azure off */
static struct server D;             /* trusts A and the test httpd as authorities, keys fetched */
static struct test_httpd *other_az; /* another authority: its JWKS at /certs, and /big/certs */
static char other_url[64];
static EVP_PKEY *fetch_key; /* that authority's signing key, kid "fetched-1" */
static char measurement[97];
static uint8_t *quote, *tdx_quote;
static size_t quote_len, tdx_quote_len;
static bool have_sgx;
static const char init_text[] = "{\"policy\":\"cce sha256 of this\"}";
static char admin_authz[800];
static EVP_PKEY *wrap_key, *ext_key; /* ext_key: another authority's signing key */
static char *runtime_text;           /* {"keys": [the wrapping key's public JWK]} */

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static void start_with(struct server *s, const char *name, bool enabled, const char *rv,
                       const char *authorities);

static void start(struct server *s, const char *name, bool enabled, const char *rv)
{
        start_with(s, name, enabled, rv, "");
}

static void start_with(struct server *s, const char *name, bool enabled, const char *rv,
                       const char *authorities)
{
        char p[512], cfg[8192];
        snprintf(p, sizeof(p), "%s/%s-rv.json", vtt_dir, name);
        write_text(p, rv);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/%s-state\n"
                 "attestation:\n  reference_values: %s\n  simulator_root: %s/root.pem\n"
                 "  pccs_url: http://127.0.0.1:9\n  dcap_cache_dir: %s/dcap\n"
                 "  verify_at: " SGX_AT "\n  minimum_status: affirming\n"
                 "azure:\n  enabled: %s\n"
                 "  trusted_authorities: [\"https://maa.example %s/ext.jwks\"%s]\n"
                 "  authority_jwks_max_bytes: 4096\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s/admin.pub]\n",
                 vtt_dir, name, p, vtt_simdir, vtt_dir, enabled ? "true" : "false", vtt_dir,
                 authorities, vtt_dir, vtt_dir);
        server_start(s, name, cfg);
}

static int setup(void **state)
{
        char p[512], rv[1024];
        (void)state;
        if (vtt_setup_sim("azure", &guest) < 0)
                return -1;
        /* the simulated guest was launched with HOST_DATA = SHA-256(initTimeData) */
        EVP_Digest(init_text, strlen(init_text), guest.host_data, NULL, EVP_sha256(), NULL);
        vt_hex_encode(guest.measurement, 48, measurement);
        /* a KEK for the keys, and an admin for creating them */
        struct vt_diag d = {0};
        char key[512], pub[512], *jwt = NULL;
        path_in(p, sizeof(p), "kek");
        path_in(key, sizeof(key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        if (vt_kek_generate(p, &d) < 0 || vt_admin_keygen(key, pub, &d) < 0 ||
            vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "key-admin", &jwt, &d) < 0) {
                fprintf(stderr, "setup: %s\n", d.msg);
                return -1;
        }
        snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", jwt);
        free(jwt);
        /* another attestation service, trusted through its JWKS */
        ext_key = EVP_RSA_gen(2048);
        json_t *ejwk = NULL;
        if (!ext_key || vt_jwk_from_pkey(ext_key, VT_JWK_ALG_LAST, NULL, &ejwk) < 0)
                return -1;
        json_object_set_new(ejwk, "kid", json_string("ext-1"));
        json_t *ejwks = json_pack("{s:[o]}", "keys", ejwk);
        char *et = json_dumps(ejwks, JSON_COMPACT);
        path_in(p, sizeof(p), "ext.jwks");
        write_text(p, et);
        free(et);
        json_decref(ejwks);
        /* the SGX vector's collateral, as the DCAP cache holds it */
        path_in(p, sizeof(p), "dcap");
        if (vt_test_sh("mkdir -p '%s'", p) != 0)
                return -1;
        if (vt_testdata("")) {
                size_t n = 0;
                uint8_t *coll = vt_test_load_vector(SGX_VEC "collateral.json", &n);
                path_in(p, sizeof(p), "dcap/" SGX_CACHE);
                if (coll && vt_write_file_atomic(p, coll, n, 0644) == 0)
                        quote = vt_test_load_vector(SGX_VEC "quote.bin", &quote_len);
                free(coll);
                have_sgx = quote != NULL;
                coll = vt_test_load_vector(TDX_VEC "collateral.json", &n);
                path_in(p, sizeof(p), "dcap/" TDX_CACHE);
                if (coll && vt_write_file_atomic(p, coll, n, 0644) == 0)
                        tdx_quote = vt_test_load_vector(TDX_VEC "quote.bin", &tdx_quote_len);
                free(coll);
        }
        snprintf(rv, sizeof(rv),
                 "{\"sim\":{\"measurements\":[\"%s\"]},\"sgx\":{\"accepted_tcb_statuses\":"
                 "[\"UpToDate\",\"ConfigurationAndSWHardeningNeeded\"],\"mr_enclave\":[\"%s\"]},"
                 "\"tdx\":{\"accepted_tcb_statuses\":[\"UpToDate\"],\"mr_td\":[\"" TDX_MRTD "\"]}}",
                 measurement, SGX_MRENCLAVE);
        start(&A, "a", true, rv);
        start(&B, "b", true,
              "{\"sgx\":{\"accepted_tcb_statuses\":[\"UpToDate\","
              "\"ConfigurationAndSWHardeningNeeded\"],\"mr_enclave\":[\"00000000000000000000000"
              "00000000000000000000000000000000000000000\"]}}");
        start(&C, "c", false, rv);
        /* another authority on 127.0.0.1 whose keys D fetches: no discovery document, its
         * JWKS at /certs (MAA's path); under /big a JWKS over D's 4096-byte limit */
        fetch_key = EVP_RSA_gen(2048);
        json_t *fjwk = NULL;
        if (!fetch_key || vt_jwk_from_pkey(fetch_key, VT_JWK_ALG_LAST, NULL, &fjwk) < 0)
                return -1;
        json_object_set_new(fjwk, "kid", json_string("fetched-1"));
        json_t *fjwks = json_pack("{s:[o]}", "keys", fjwk);
        static char *ftext, big[6000];
        ftext = json_dumps(fjwks, JSON_COMPACT);
        json_decref(fjwks);
        memset(big, ' ', sizeof(big));
        memcpy(big, ftext, strlen(ftext));
        const struct test_route routes[] = {
                {"/certs", 0, ftext, strlen(ftext), NULL},
                {"/big/certs", 0, big, sizeof(big), NULL},
        };
        if (!(other_az = test_httpd_start(routes, ELEMENTSOF(routes))))
                return -1;
        test_httpd_url(other_az, other_url, sizeof(other_url));
        char auths[512];
        snprintf(auths, sizeof(auths), ",\"%s\",\"%s/\",\"%s/big\"", A.url, other_url, other_url);
        start_with(&D, "d", true, rv, auths);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        free(quote);
        free(tdx_quote);
        EVP_PKEY_free(wrap_key);
        EVP_PKEY_free(ext_key);
        EVP_PKEY_free(fetch_key);
        test_httpd_stop(other_az);
        free(runtime_text);
        if (!getenv("VT_KEEP_TMP") && vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

static char *b64url(const void *p, size_t n)
{
        char *s = NULL;
        assert_int_equal(vt_b64_encode(p, n, VT_B64_URL, &s), 0);
        return s;
}

/* b64url_padded: base64url with "=" padding, as Go's URLEncoding writes it */
static char *b64url_padded(const void *p, size_t n)
{
        char *s = b64url(p, n);
        size_t l = strlen(s), pad = (4 - l % 4) % 4;
        s = realloc(s, l + pad + 1);
        memset(s + l, '=', pad);
        s[l + pad] = 0;
        return s;
}

static json_t *body_json(const struct http *h)
{
        json_t *j = json_loadb(h->body ? h->body : "", h->len, 0, NULL);
        if (!j)
                fail_msg("not JSON (status %ld): %.300s", h->status, h->body ? h->body : "");
        return j;
}

/* expect_error: status and Azure's {"error": {"code", "message"}} holding part */
static void expect_error(struct http h, long status, const char *code, const char *part)
{
        if (h.status != status)
                fail_msg("status %ld, expected %ld: %.400s", h.status, status, h.body);
        _cleanup_json_ json_t *j = body_json(&h);
        const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
        const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        if (!c || !m || strcmp(c, code) != 0 || !strstr(m, part))
                fail_msg("error %s \"%s\", expected %s \"...%s...\"", c, m, code, part);
        free(h.body);
}

/* verify_token checks the RS256 signature of tok with the /certs key of its kid (x5c[0])
 * and returns its claims. */
static json_t *verify_jws(const struct server *s, const char *tok, bool jwt);

static json_t *verify_token(const struct server *s, const char *tok)
{
        return verify_jws(s, tok, true);
}

static json_t *verify_jws(const struct server *s, const char *tok, bool jwt)
{
        /* /certs without api-version, as the JS SDK asks */
        struct http h = request_full(s, "GET", "/certs", NULL, 0, NULL, NULL);
        assert_int_equal(h.status, 200);
        _cleanup_json_ json_t *jwks = body_json(&h);
        free(h.body);
        const char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        assert_non_null(d2);
        uint8_t *hb = NULL, *pb = NULL, *sig = NULL;
        size_t hl, pl, sl;
        assert_int_equal(vt_b64_decode(tok, (size_t)(d1 - tok), VT_B64_URL, 4096, &hb, &hl), 0);
        assert_int_equal(
                vt_b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), VT_B64_URL, 1 << 20, &pb, &pl), 0);
        assert_int_equal(vt_b64_decode(d2 + 1, strlen(d2 + 1), VT_B64_URL, 4096, &sig, &sl), 0);
        _cleanup_json_ json_t *hdr = json_loadb((char *)hb, hl, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(hdr, "alg")), "RS256");
        const char *kid = json_string_value(json_object_get(hdr, "kid"));
        assert_non_null(kid);
        if (jwt) {
                const char *jku = json_string_value(json_object_get(hdr, "jku"));
                assert_string_equal(json_string_value(json_object_get(hdr, "typ")), "JWT");
                assert_non_null(jku);
                assert_non_null(strstr(jku, "/certs"));
        } else {
                /* Key Vault's release answer carries its certificate */
                assert_non_null(json_array_get(json_object_get(hdr, "x5c"), 0));
        }
        const json_t *key = NULL, *k;
        size_t i;
        json_array_foreach (json_object_get(jwks, "keys"), i, k)
                if (json_equal(json_object_get(k, "kid"), json_object_get(hdr, "kid")))
                        key = k;
        if (!key)
                fail_msg("kid %s is not in /certs", kid);
        const char *x5c = json_string_value(json_array_get(json_object_get(key, "x5c"), 0));
        assert_non_null(x5c);
        uint8_t *der = NULL;
        size_t dl;
        assert_int_equal(vt_b64_decode(x5c, strlen(x5c), VT_B64_STD, 1 << 16, &der, &dl), 0);
        const uint8_t *dp = der;
        X509 *x = d2i_X509(NULL, &dp, (long)dl);
        assert_non_null(x);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)),
                         1);
        int ok = EVP_DigestVerify(md, sig, sl, (const uint8_t *)tok, (size_t)(d2 - tok));
        assert_int_equal(ok, 1);
        /* and one changed byte of the signed part does not verify */
        char *bad = strdup(tok);
        bad[d1 - tok + 5] ^= 1;
        assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)),
                         1);
        assert_int_not_equal(
                EVP_DigestVerify(md, sig, sl, (const uint8_t *)bad, (size_t)(d2 - tok)), 1);
        free(bad);
        EVP_MD_CTX_free(md);
        X509_free(x);
        json_t *claims = json_loadb((char *)pb, pl, 0, NULL);
        assert_non_null(claims);
        free(hb);
        free(pb);
        free(sig);
        free(der);
        return claims;
}

static char *token_of(struct http h)
{
        if (h.status != 200)
                fail_msg("status %ld: %.500s", h.status, h.body);
        _cleanup_json_ json_t *j = body_json(&h);
        free(h.body);
        const char *t = json_string_value(json_object_get(j, "token"));
        assert_non_null(t);
        return strdup(t);
}

static char *sgx_body(const char *extra)
{
        _cleanup_free_ char *q = b64url(quote, quote_len);
        char *b = NULL;
        assert_true(asprintf(&b, "{\"quote\":\"%s\"%s}", q, extra) > 0);
        return b;
}

static void test_azure_sgx_token(void **state)
{
        (void)state;
        if (!have_sgx)
                vtt_skip("../shared/testdata not found");
        _cleanup_free_ char *body = sgx_body(",\"nonce\":1234567890123");
        /* the path case varies among Azure's clients */
        const char *paths[] = {"/attest/SgxEnclave?api-version=2022-08-01",
                               "/Attest/sgxenclave?api-version=2020-10-01",
                               "/ATTEST/SGXENCLAVE?api-version=2025-06-01"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_free_ char *tok = token_of(
                        request_full(&A, "POST", paths[i], body, strlen(body), NULL, NULL));
                _cleanup_json_ json_t *c = verify_token(&A, tok);
                assert_string_equal(json_string_value(json_object_get(c, "x-ms-attestation-type")),
                                    "sgx");
                assert_string_equal(json_string_value(json_object_get(c, "x-ms-sgx-mrenclave")),
                                    SGX_MRENCLAVE);
                assert_string_equal(json_string_value(json_object_get(c, "sgx-mrenclave")),
                                    SGX_MRENCLAVE);
                assert_false(json_is_true(json_object_get(c, "x-ms-sgx-is-debuggable")));
                /* a numeric nonce (the sidecar's) comes back as its text */
                assert_string_equal(json_string_value(json_object_get(c, "nonce")),
                                    "1234567890123");
                assert_string_equal(json_string_value(json_object_get(c, "x-ms-ver")), "1.0");
                json_int_t iat = json_integer_value(json_object_get(c, "iat"));
                assert_int_equal(json_integer_value(json_object_get(c, "exp")) - iat, 28800);
                assert_int_equal(json_integer_value(json_object_get(c, "nbf")), iat);
                assert_non_null(json_string_value(json_object_get(c, "jti")));
                assert_non_null(strstr(json_string_value(json_object_get(c, "iss")), "http://"));
                const json_t *v = json_object_get(c, "x-ms-veritee");
                assert_string_equal(json_string_value(json_object_get(v, "ear.status")),
                                    "affirming");
                assert_false(json_is_true(json_object_get(v, "simulated")));
        }
        assert_true(log_has(&A, "azure"));
}

static void test_azure_sgx_refusals(void **state)
{
        (void)state;
        if (!have_sgx)
                vtt_skip("../shared/testdata not found");
        _cleanup_free_ char *body = sgx_body("");
        /* the quote's report data is "Hello, world!": no runtimeData hashes to it */
        _cleanup_free_ char *rt = b64url("{\"keys\":[]}", 11);
        char extra[256];
        snprintf(extra, sizeof(extra), ",\"runtimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"}",
                 rt);
        _cleanup_free_ char *bound = sgx_body(extra);
        const char *p = "/attest/SgxEnclave?api-version=2022-08-01";
        expect_error(request_full(&A, "POST", p, bound, strlen(bound), NULL, NULL), 400,
                     "InvalidParameter", "attestation failed: sgx: report_data does not bind");
        expect_error(request_full(&A, "POST", "/attest/SgxEnclave", body, strlen(body), NULL, NULL),
                     400, "MissingApiVersionParameter", "api-version must be one of");
        expect_error(request_full(&A, "POST", "/attest/SgxEnclave?api-version=2018-09-01-preview",
                                  body, strlen(body), NULL, NULL),
                     400, "UnsupportedApiVersion", "got 2018-09-01-preview");
        expect_error(request_full(&A, "POST", "/attest/Tpm?api-version=2022-08-01", body,
                                  strlen(body), NULL, NULL),
                     404, "NotFound", "unknown attestation type \"Tpm\"");
        expect_error(request_full(&A, "POST", "/attest/TdxVm?api-version=2022-08-01", body,
                                  strlen(body), NULL, NULL),
                     400, "InvalidParameter", "the quote is SGX, not for /attest/TdxVm");
        expect_error(request_full(&A, "POST", p, "{\"quote\":\"!!\"}", 14, NULL, NULL), 400,
                     "InvalidParameter", "the quote is not base64url");
        expect_error(request_full(&A, "POST", p, "{\"report\":\"AA\"}", 15, NULL, NULL), 400,
                     "InvalidParameter", "the body lacks \"quote\"");
        /* another enclave's reference values: the appraisal refuses */
        expect_error(request_full(&B, "POST", p, body, strlen(body), NULL, NULL), 400,
                     "PolicyEvaluationError", "appraisal");
        /* off: no such paths */
        expect_error(request_full(&C, "POST", p, body, strlen(body), NULL, NULL), 404, "NotFound",
                     "azure.enabled is false");
        expect_error(request_full(&C, "GET", "/certs", NULL, 0, NULL, NULL), 404, "NotFound",
                     "azure.enabled is false");
}

static void test_azure_tdx_token(void **state)
{
        (void)state;
        if (!tdx_quote)
                vtt_skip("../shared/testdata not found");
        _cleanup_free_ char *q = b64url_padded(tdx_quote, tdx_quote_len);
        char *body = NULL;
        assert_true(asprintf(&body, "{\"quote\":\"%s\",\"nonce\":\"n-tdx\"}", q) > 0);
        _cleanup_free_ char *tok =
                token_of(request_full(&A, "POST", "/attest/TdxVm?api-version=2022-08-01", body,
                                      strlen(body), NULL, NULL));
        _cleanup_json_ json_t *c = verify_token(&A, tok);
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-attestation-type")),
                            "tdxvm");
        assert_string_equal(json_string_value(json_object_get(c, "tdx_mrtd")), TDX_MRTD);
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-compliance-status")),
                            "azure-compliant-cvm");
        assert_false(json_is_true(json_object_get(c, "tdx_td_attributes_debug")));
        /* initTimeData is bound to MRCONFIGID, which this TD did not set to its digest */
        free(body);
        assert_true(asprintf(&body,
                             "{\"quote\":\"%s\",\"initTimeData\":{\"data\":\"e30\","
                             "\"dataType\":\"JSON\"}}",
                             q) > 0);
        expect_error(request_full(&A, "POST", "/attest/TdxVm?api-version=2022-08-01", body,
                                  strlen(body), NULL, NULL),
                     400, "InvalidParameter",
                     "initTimeData: its SHA-256 is not the report's MRCONFIGID");
        /* a TDX quote to the SGX path */
        expect_error(request_full(&A, "POST", "/attest/SgxEnclave?api-version=2022-08-01", body,
                                  strlen(body), NULL, NULL),
                     400, "InvalidParameter", "the quote is TDX, not for /attest/SgxEnclave");
        free(body);
}

/* The SevSnpVm request for a simulated report over report_data. */
static char *snp_body(const uint8_t rd[64], const char *runtime, const char *init)
{
        uint8_t report[VT_SNP_REPORT_SIZE];
        char *chain = NULL;
        struct vt_diag d = {0};
        if (vt_sim_report(vtt_simdir, &guest, rd, report, &chain, &d) < 0)
                fail_msg("sim report: %s", d.msg);
        _cleanup_free_ char *r64 = b64url_padded(report, sizeof(report));
        _cleanup_free_ char *c64 = b64url_padded(chain, strlen(chain));
        free(chain);
        _cleanup_json_ json_t *inner =
                json_pack("{s:s, s:s}", "SnpReport", r64, "VcekCertChain", c64);
        _cleanup_free_ char *it = json_dumps(inner, JSON_COMPACT);
        _cleanup_free_ char *rep = b64url_padded(it, strlen(it));
        _cleanup_free_ char *rt = b64url(runtime, strlen(runtime));
        _cleanup_free_ char *in = init ? b64url(init, strlen(init)) : NULL;
        json_t *b = json_pack("{s:s, s:{s:s, s:s}, s:s}", "report", rep, "runtimeData", "data", rt,
                              "dataType", "JSON", "nonce", "n-1");
        if (in)
                json_object_set_new(b, "initTimeData",
                                    json_pack("{s:s, s:s}", "data", in, "dataType", "JSON"));
        char *s = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        return s;
}

static void test_azure_snp_simulated(void **state)
{
        (void)state;
        /* the sidecar's runtime data: a JWKS of its wrapping key */
        static const char runtime[] = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"w\",\"e\":\"AQAB\","
                                      "\"n\":\"sXch\",\"key_ops\":[\"encrypt\"]}]}";
        uint8_t rd[64] = {0};
        EVP_Digest(runtime, strlen(runtime), rd, NULL, EVP_sha256(), NULL);
        _cleanup_free_ char *body = snp_body(rd, runtime, init_text);
        const char *p = "/attest/SevSnpVM?api-version=2020-10-01";
        _cleanup_free_ char *tok =
                token_of(request_full(&A, "POST", p, body, strlen(body), NULL, NULL));
        _cleanup_json_ json_t *c = verify_token(&A, tok);
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-attestation-type")),
                            "sevsnpvm");
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-compliance-status")),
                            "azure-compliant-cvm");
        assert_string_equal(
                json_string_value(json_object_get(c, "x-ms-sevsnpvm-launchmeasurement")),
                measurement);
        _cleanup_json_ json_t *rtj = json_loads(runtime, 0, NULL);
        assert_true(json_equal(json_object_get(c, "x-ms-runtime"), rtj));
        assert_string_equal(json_string_value(json_object_get(c, "nonce")), "n-1");
        assert_int_equal(json_integer_value(json_object_get(c, "x-ms-sevsnpvm-vmpl")), 0);
        assert_false(json_is_true(json_object_get(c, "x-ms-sevsnpvm-is-debuggable")));
        /* labelled: the chain ends at the simulator's root, not AMD's */
        const json_t *v = json_object_get(c, "x-ms-veritee");
        assert_true(json_is_true(json_object_get(v, "simulated")));
        assert_string_equal(json_string_value(json_object_get(v, "tee")), "sim");
        char hd[65];
        vt_hex_encode(guest.host_data, 32, hd);
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-sevsnpvm-hostdata")), hd);

        /* initTimeData that is not the launch's; runtimeData that is not the report's */
        _cleanup_free_ char *b2 = snp_body(rd, runtime, "{\"policy\":\"other\"}");
        expect_error(request_full(&A, "POST", p, b2, strlen(b2), NULL, NULL), 400,
                     "InvalidParameter", "initTimeData: its SHA-256 is not the report's HOST_DATA");
        rd[0] ^= 1;
        _cleanup_free_ char *b3 = snp_body(rd, runtime, NULL);
        expect_error(request_full(&A, "POST", p, b3, strlen(b3), NULL, NULL), 400,
                     "InvalidParameter", "report_data does not bind");
        /* B has no reference values for sim: never affirming */
        rd[0] ^= 1;
        _cleanup_free_ char *b4 = snp_body(rd, runtime, NULL);
        expect_error(request_full(&B, "POST", p, b4, strlen(b4), NULL, NULL), 400,
                     "PolicyEvaluationError", "appraisal");
}

/* ---- secure key release ---- */

/* A token of A's attestation API whose x-ms-runtime holds wrap_key. */
static char *snp_token(void)
{
        if (!wrap_key) {
                wrap_key = EVP_RSA_gen(2048);
                json_t *jwk = NULL;
                assert_int_equal(vt_jwk_from_pkey(wrap_key, VT_JWK_ALG_LAST, NULL, &jwk), 0);
                json_object_set_new(jwk, "kid", json_string("wrap-1"));
                json_object_set_new(jwk, "key_ops", json_pack("[s]", "encrypt"));
                json_t *rt = json_pack("{s:[o]}", "keys", jwk);
                runtime_text = json_dumps(rt, JSON_COMPACT);
                json_decref(rt);
        }
        uint8_t rd[64] = {0};
        EVP_Digest(runtime_text, strlen(runtime_text), rd, NULL, EVP_sha256(), NULL);
        _cleanup_free_ char *body = snp_body(rd, runtime_text, NULL);
        return token_of(request_full(&A, "POST", "/attest/SevSnpVm?api-version=2022-08-01", body,
                                     strlen(body), NULL, NULL));
}

/* Azure's release policy for A's tokens of the simulated guest with measurement m. */
static char *policy_b64(const char *m)
{
        char pol[1024];
        snprintf(pol, sizeof(pol),
                 "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"%s/\",\"allOf\":["
                 "{\"claim\":\"x-ms-attestation-type\",\"equals\":\"sevsnpvm\"},"
                 "{\"claim\":\"x-ms-sevsnpvm-is-debuggable\",\"equals\":\"false\"},"
                 "{\"claim\":\"x-ms-sevsnpvm-launchmeasurement\",\"equals\":\"%s\"}]}]}",
                 A.url, m);
        return b64url(pol, strlen(pol));
}

/* unwrap_release checks the release answer's JWS and returns the unwrapped key material. */
static uint8_t *unwrap_release_from(const struct server *s, struct http h, const EVP_MD *md,
                                    const char *enc, size_t *ret_len);

static uint8_t *unwrap_release(struct http h, const EVP_MD *md, const char *enc, size_t *ret_len)
{
        return unwrap_release_from(&A, h, md, enc, ret_len);
}

static uint8_t *unwrap_release_from(const struct server *s, struct http h, const EVP_MD *md,
                                    const char *enc, size_t *ret_len)
{
        if (h.status != 200)
                fail_msg("release: status %ld: %.400s", h.status, h.body);
        _cleanup_json_ json_t *j = body_json(&h);
        free(h.body);
        const char *v = json_string_value(json_object_get(j, "value"));
        assert_non_null(v);
        _cleanup_json_ json_t *p = verify_jws(s, v, false);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(p, "request"), "enc")), enc);
        const json_t *key =
                json_object_get(json_object_get(json_object_get(p, "response"), "key"), "key");
        const char *hsm64 = json_string_value(json_object_get(key, "key_hsm"));
        assert_non_null(hsm64);
        uint8_t *hsm = NULL, *ct = NULL;
        size_t hl, cl;
        assert_int_equal(vt_b64_decode(hsm64, strlen(hsm64), VT_B64_URL, 1 << 16, &hsm, &hl), 0);
        _cleanup_json_ json_t *hj = json_loadb((char *)hsm, hl, 0, NULL);
        free(hsm);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(hj, "header"), "kid")), "wrap-1");
        const char *c64 = json_string_value(json_object_get(hj, "ciphertext"));
        assert_int_equal(vt_b64_decode(c64, strlen(c64), VT_B64_URL, 1 << 16, &ct, &cl), 0);
        /* RSA-OAEP of the AES key, then RFC 5649 AES key wrap with padding */
        assert_true(cl > 256 + 8);
        uint8_t kek[512]; /* OpenSSL wants room for a whole modulus */
        size_t kl = sizeof(kek);
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(wrap_key, NULL);
        assert_int_equal(EVP_PKEY_decrypt_init(pc), 1);
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING);
        EVP_PKEY_CTX_set_rsa_oaep_md(pc, md);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md);
        assert_int_equal(EVP_PKEY_decrypt(pc, kek, &kl, ct, 256), 1);
        EVP_PKEY_CTX_free(pc);
        assert_int_equal(kl, 32);
        EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
        EVP_CIPHER_CTX_set_flags(cc, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        uint8_t *out = malloc(cl);
        int l1 = 0, l2 = 0;
        assert_int_equal(EVP_DecryptInit_ex(cc, EVP_aes_256_wrap_pad(), NULL, kek, NULL), 1);
        assert_int_equal(EVP_DecryptUpdate(cc, out, &l1, ct + 256, (int)(cl - 256)), 1);
        assert_int_equal(EVP_DecryptFinal_ex(cc, out + l1, &l2), 1);
        EVP_CIPHER_CTX_free(cc);
        free(ct);
        *ret_len = (size_t)(l1 + l2);
        return out;
}

static void test_azure_key_release(void **state)
{
        (void)state;
        _cleanup_free_ char *tok = snp_token();
        _cleanup_free_ char *pol = policy_b64(measurement);
        uint8_t k[32];
        for (size_t i = 0; i < sizeof(k); i++)
                k[i] = (uint8_t)(i * 7 + 1);
        _cleanup_free_ char *k64 = b64url(k, sizeof(k));
        char body[4096];
        snprintf(body, sizeof(body),
                 "{\"key\":{\"kty\":\"oct-HSM\",\"k\":\"%s\"},\"hsm\":true,\"attributes\":"
                 "{\"exportable\":true},\"release_policy\":{\"contentType\":\"application/json; "
                 "charset=utf-8\",\"data\":\"%s\",\"immutable\":false}}",
                 k64, pol);
        /* Key Vault's challenge: no token, 401 */
        expect_error(
                request_full(&A, "PUT", "/keys/k1?api-version=7.4", body, strlen(body), NULL, NULL),
                401, "Unauthorized", "Bearer");
        /* import with an admin token; the query key arrives percent-encoded */
        struct http h = request_full(&A, "PUT", "/keys/k1?api%2Dversion=7.4", body, strlen(body),
                                     NULL, admin_authz);
        if (h.status != 200)
                fail_msg("import: %ld %.400s", h.status, h.body);
        free(h.body);
        /* a bearer that is not an admin's cannot import */
        h = request_full(&A, "PUT", "/keys/k9?api-version=7.4", body, strlen(body), NULL,
                         "Bearer not-an-admin");
        assert_int_equal(h.status, 401);
        free(h.body);

        /* release to the runtime key of an attested guest, with each wrapping */
        static const struct {
                const char *enc;
                const EVP_MD *(*md)(void);
        } encs[] = {{"RSA_AES_KEY_WRAP_256", EVP_sha256},
                    {"CKM_RSA_AES_KEY_WRAP", EVP_sha1},
                    {"RSA_AES_KEY_WRAP_384", EVP_sha384}};
        char rel[8192], rid[24] = "";
        for (size_t i = 0; i < ELEMENTSOF(encs); i++) {
                snprintf(rel, sizeof(rel), "{\"target\":\"%s\",\"enc\":\"%s\"}", tok, encs[i].enc);
                h = request_full(&A, "POST", "/keys/k1/release?api-version=7.4", rel, strlen(rel),
                                 NULL, "Bearer caller-1");
                snprintf(rid, sizeof(rid), "%s", h.request_id);
                size_t ml = 0;
                _cleanup_free_ uint8_t *m = unwrap_release(h, encs[i].md(), encs[i].enc, &ml);
                assert_int_equal(ml, sizeof(k));
                assert_memory_equal(m, k, sizeof(k));
        }
        /* without enc: CKM_RSA_AES_KEY_WRAP, as Key Vault chooses */
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", tok);
        h = request_full(&A, "POST", "/keys/k1/release?api-version=7.4", rel, strlen(rel), NULL,
                         "Bearer caller-1");
        size_t ml = 0;
        free(unwrap_release(h, EVP_sha1(), "CKM_RSA_AES_KEY_WRAP", &ml));

        /* an RSA key made here: the released PKCS#8 is the key whose n the bundle shows */
        snprintf(body, sizeof(body),
                 "{\"kty\":\"RSA-HSM\",\"key_size\":2048,\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"%s\"}}",
                 pol);
        h = request_full(&A, "POST", "/keys/k2/create?api-version=7.4", body, strlen(body), NULL,
                         admin_authz);
        if (h.status != 200)
                fail_msg("create: %ld %.400s", h.status, h.body);
        _cleanup_json_ json_t *bun = body_json(&h);
        free(h.body);
        const char *n = json_string_value(json_object_get(json_object_get(bun, "key"), "n"));
        const char *kid = json_string_value(json_object_get(json_object_get(bun, "key"), "kid"));
        assert_non_null(n);
        assert_non_null(kid);
        assert_true(
                json_is_true(json_object_get(json_object_get(bun, "attributes"), "exportable")));
        const char *ver = strrchr(kid, '/') + 1;
        char path[256];
        snprintf(path, sizeof(path), "/keys/k2/%s/release?api-version=7.4", ver);
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\",\"enc\":\"RSA_AES_KEY_WRAP_256\"}", tok);
        h = request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer caller-2");
        _cleanup_free_ uint8_t *der = unwrap_release(h, EVP_sha256(), "RSA_AES_KEY_WRAP_256", &ml);
        const uint8_t *dp = der;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &dp, (long)ml);
        assert_non_null(p8);
        EVP_PKEY *got = EVP_PKCS82PKEY(p8);
        PKCS8_PRIV_KEY_INFO_free(p8);
        json_t *gj = NULL;
        assert_int_equal(vt_jwk_from_pkey(got, VT_JWK_ALG_LAST, NULL, &gj), 0);
        assert_string_equal(json_string_value(json_object_get(gj, "n")), n);
        json_decref(gj);
        EVP_PKEY_free(got);

        /* refusals, each recorded in the ledger */
        snprintf(path, sizeof(path), "/keys/k2/%s/release?api-version=7.4",
                 "00000000000000000000000000000000");
        expect_error(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer c"), 404,
                     "KeyNotFound", "has no version");
        _cleanup_free_ char *other = policy_b64("00");
        snprintf(body, sizeof(body),
                 "{\"kty\":\"oct-HSM\",\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"%s\"}}",
                 other);
        h = request_full(&A, "POST", "/keys/k3/create?api-version=7.4", body, strlen(body), NULL,
                         admin_authz);
        assert_int_equal(h.status, 200);
        free(h.body);
        h = request_full(&A, "POST", "/keys/k3/release?api-version=7.4", rel, strlen(rel), NULL,
                         "Bearer c");
        char deny_id[24];
        snprintf(deny_id, sizeof(deny_id), "%s", h.request_id);
        expect_error(h, 403, "Forbidden", "claim x-ms-sevsnpvm-launchmeasurement is \"");
        /* a token changed by one byte */
        char *bad = strdup(tok);
        bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", bad);
        free(bad);
        expect_error(request_full(&A, "POST", "/keys/k1/release?api-version=7.4", rel, strlen(rel),
                                  NULL, "Bearer c"),
                     403, "Forbidden", "target: RS256 signature does not verify");
        /* no such key */
        expect_error(request_full(&A, "POST", "/keys/nope/release?api-version=7.4", rel,
                                  strlen(rel), NULL, "Bearer c"),
                     404, "KeyNotFound", "key nope not found");

        /* the ledger has the release and the refusal */
        _cleanup_json_ json_t *entries = ledger_audit(&A, admin_authz, NULL);
        const json_t *e1 = ledger_find(entries, "azure-key-release", rid);
        const json_t *e2 = ledger_find(entries, "azure-key-release", deny_id);
        assert_non_null(e1);
        assert_non_null(e2);
        _cleanup_free_ char *t1 = json_dumps(e1, 0), *t2 = json_dumps(e2, 0);
        assert_non_null(strstr(t1, "\"released\""));
        assert_non_null(strstr(t2, "\"denied\""));
}

/* A token of the other authority (or of iss, signed by key under kid). */
static char *ext_token(EVP_PKEY *key, const char *kid, const char *iss)
{
        _cleanup_json_ json_t *rt = json_loads(runtime_text, 0, NULL);
        json_int_t now = (json_int_t)time(NULL);
        _cleanup_json_ json_t *c =
                json_pack("{s:s, s:I, s:I, s:s, s:O}", "iss", iss, "iat", now, "exp", now + 600,
                          "x-ms-attestation-type", "sevsnpvm", "x-ms-runtime", rt);
        _cleanup_json_ json_t *h =
                json_pack("{s:s, s:s, s:s}", "alg", "RS256", "kid", kid, "typ", "JWT");
        char *t = NULL;
        assert_int_equal(vt_jws_sign_rs256(key, h, c, &t), 0);
        return t;
}

static void test_azure_key_release_other_authority(void **state)
{
        (void)state;
        free(snp_token()); /* makes wrap_key and runtime_text */
        static const char pol[] =
                "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://maa.example/\","
                "\"allOf\":[{\"claim\":\"x-ms-attestation-type\",\"equals\":\"sevsnpvm\"}]}]}";
        _cleanup_free_ char *p64 = b64url(pol, strlen(pol));
        uint8_t k[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
        _cleanup_free_ char *k64 = b64url(k, sizeof(k));
        char body[2048], rel[8192];
        snprintf(body, sizeof(body),
                 "{\"key\":{\"kty\":\"oct\",\"k\":\"%s\"},\"attributes\":{\"exportable\":"
                 "true},\"release_policy\":{\"data\":\"%s\"}}",
                 k64, p64);
        struct http h = request_full(&A, "PUT", "/keys/k5?api-version=7.4", body, strlen(body),
                                     NULL, admin_authz);
        assert_int_equal(h.status, 200);
        free(h.body);
        const char *path = "/keys/k5/release?api-version=7.4";

        _cleanup_free_ char *good = ext_token(ext_key, "ext-1", "https://maa.example");
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\",\"enc\":\"RSA_AES_KEY_WRAP_256\"}", good);
        size_t ml = 0;
        _cleanup_free_ uint8_t *m =
                unwrap_release(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer x"),
                               EVP_sha256(), "RSA_AES_KEY_WRAP_256", &ml);
        assert_int_equal(ml, sizeof(k));
        assert_memory_equal(m, k, sizeof(k));

        /* its key, another issuer */
        _cleanup_free_ char *wrong_iss = ext_token(ext_key, "ext-1", "https://evil.example");
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", wrong_iss);
        expect_error(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden",
                     "target: iss https://evil.example is not https://maa.example, whose key "
                     "signed it");
        /* its kid, another key */
        EVP_PKEY *forger = EVP_RSA_gen(2048);
        _cleanup_free_ char *forged = ext_token(forger, "ext-1", "https://maa.example");
        EVP_PKEY_free(forger);
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", forged);
        expect_error(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "target: RS256 signature does not verify");
        /* a kid nobody configured */
        _cleanup_free_ char *unknown = ext_token(ext_key, "ext-2", "https://maa.example");
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", unknown);
        expect_error(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "kid ext-2 is not a key of this server or of");
        /* our own token is genuine, but this policy trusts only the other authority */
        _cleanup_free_ char *own = snp_token();
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", own);
        expect_error(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "expected authority \"https://maa.example/\"");
}

/* GET path (of s) as JSON, 200 required. */
static json_t *get_json_of(const struct server *s, const char *path)
{
        struct http h = request_full(s, "GET", path, NULL, 0, NULL, NULL);
        if (h.status != 200)
                fail_msg("GET %s: %ld %.300s", path, h.status, h.body);
        json_t *j = body_json(&h);
        free(h.body);
        return j;
}

/* A relying party that knows only our issuer finds the key of /attest tokens through the
 * discovery document, as a Key Vault does for an authority of a release policy. */
static void test_azure_oidc_discovery(void **state)
{
        (void)state;
        _cleanup_free_ char *tok = snp_token();
        struct vt_jws j = {0};
        struct vt_diag d = {0};
        assert_int_equal(vt_jws_parse(tok, 1u << 20, 4096, "token", &j, &d), 0);
        _cleanup_json_ json_t *claims = NULL;
        assert_int_equal(vt_jws_claims(&j, 1u << 20, &claims, &d), 0);
        _cleanup_json_ json_t *oidc = get_json_of(&A, "/.well-known/openid-configuration");
        assert_string_equal(json_string_value(json_object_get(oidc, "issuer")),
                            json_string_value(json_object_get(claims, "iss")));
        bool rs = false, es = false;
        const json_t *a;
        size_t i;
        json_array_foreach (json_object_get(oidc, "id_token_signing_alg_values_supported"), i, a) {
                rs = rs || strcmp(json_string_value(a), "RS256") == 0;
                es = es || strcmp(json_string_value(a), "ES256") == 0;
        }
        assert_true(rs && es);
        const char *ju = json_string_value(json_object_get(oidc, "jwks_uri"));
        assert_non_null(ju);
        assert_int_equal(strncmp(ju, A.url, strlen(A.url)), 0);
        _cleanup_json_ json_t *jwks = get_json_of(&A, ju + strlen(A.url));
        const json_t *k, *found = NULL;
        bool ec = false;
        json_array_foreach (json_object_get(jwks, "keys"), i, k) {
                if (json_equal(json_object_get(k, "kid"), json_object_get(j.hdr, "kid")))
                        found = k;
                ec = ec || strcmp(json_string_value(json_object_get(k, "kty")), "EC") == 0;
        }
        assert_true(ec); /* the ES256 key of veriteed's own tokens is still there */
        if (!found)
                fail_msg("the token's kid is not in %s", ju);
        /* the key found there verifies the token, and nothing else */
        const char *n64 = json_string_value(json_object_get(found, "n"));
        const char *e64 = json_string_value(json_object_get(found, "e"));
        uint8_t *nb = NULL, *eb = NULL;
        size_t nl, el;
        EVP_PKEY *key = NULL;
        assert_int_equal(vt_b64_decode(n64, strlen(n64), VT_B64_URL, 1024, &nb, &nl), 0);
        assert_int_equal(vt_b64_decode(e64, strlen(e64), VT_B64_URL, 8, &eb, &el), 0);
        assert_int_equal(vt_rsa_public_from_ne(nb, nl, eb, el, &key), 0);
        assert_int_equal(vt_jws_verify_rs256(&j, key, &d), 0);
        vt_jws_done(&j);
        /* one changed character of the payload */
        char *bad = strdup(tok);
        char *pl = strchr(bad, '.') + 20;
        *pl = *pl == 'A' ? 'B' : 'A';
        assert_int_equal(vt_jws_parse(bad, 1u << 20, 4096, "token", &j, &d), 0);
        assert_int_not_equal(vt_jws_verify_rs256(&j, key, &d), 0);
        vt_jws_done(&j);
        free(bad);
        EVP_PKEY_free(key);
        free(nb);
        free(eb);
        /* the API off: neither the algorithm nor an RSA key is announced */
        _cleanup_json_ json_t *oc = get_json_of(&C, "/.well-known/openid-configuration");
        _cleanup_free_ char *ot = json_dumps(oc, 0);
        assert_null(strstr(ot, "RS256"));
        _cleanup_json_ json_t *jc = get_json_of(&C, "/.well-known/jwks.json");
        _cleanup_free_ char *jt = json_dumps(jc, 0);
        assert_null(strstr(jt, "\"RSA\""));
}

/* import_on imports the 16-byte oct key k as name on s, released by policy (JSON). */
static void import_on(const struct server *s, const char *name, const uint8_t k[16],
                      const char *policy)
{
        _cleanup_free_ char *p64 = b64url(policy, strlen(policy));
        _cleanup_free_ char *k64 = b64url(k, 16);
        char body[4096], path[128];
        snprintf(body, sizeof(body),
                 "{\"key\":{\"kty\":\"oct\",\"k\":\"%s\"},\"attributes\":{\"exportable\":"
                 "true},\"release_policy\":{\"data\":\"%s\"}}",
                 k64, p64);
        snprintf(path, sizeof(path), "/keys/%s?api-version=7.4", name);
        struct http h = request_full(s, "PUT", path, body, strlen(body), NULL, admin_authz);
        if (h.status != 200)
                fail_msg("import %s: %ld %.300s", name, h.status, h.body);
        free(h.body);
}

/* D trusts A (a second veriteed) and the test httpd as authorities and fetches their keys:
 * A's through its discovery document, the httpd's from /certs. */
static void test_azure_authority_fetched(void **state)
{
        (void)state;
        uint8_t k[16] = {1, 3, 5, 7, 9, 11, 13, 15, 2, 4, 6, 8, 10, 12, 14, 16};
        char pol[1024], rel[8192];
        /* A's tokens; the policy names A with a trailing slash, D's configuration without */
        snprintf(pol, sizeof(pol),
                 "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"%s/\",\"allOf\":["
                 "{\"claim\":\"x-ms-sevsnpvm-launchmeasurement\",\"equals\":\"%s\"}]}]}",
                 A.url, measurement);
        import_on(&D, "fa", k, pol);
        _cleanup_free_ char *tok = snp_token();
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\",\"enc\":\"RSA_AES_KEY_WRAP_256\"}", tok);
        const char *path = "/keys/fa/release?api-version=7.4";
        size_t ml = 0;
        _cleanup_free_ uint8_t *m = unwrap_release_from(
                &D, request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"),
                EVP_sha256(), "RSA_AES_KEY_WRAP_256", &ml);
        assert_int_equal(ml, sizeof(k));
        assert_memory_equal(m, k, sizeof(k));
        /* A's kid, another key; a kid A does not publish: refused, not recorded */
        struct vt_jws j = {0};
        struct vt_diag d = {0};
        assert_int_equal(vt_jws_parse(tok, 1u << 20, 4096, "token", &j, &d), 0);
        _cleanup_free_ char *akid = strdup(json_string_value(json_object_get(j.hdr, "kid")));
        vt_jws_done(&j);
        EVP_PKEY *forger = EVP_RSA_gen(2048);
        _cleanup_free_ char *forged = ext_token(forger, akid, A.url);
        _cleanup_free_ char *unknown = ext_token(forger, "not-a-kid-of-a", A.url);
        EVP_PKEY_free(forger);
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", forged);
        expect_error(request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "target: RS256 signature does not verify");
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", unknown);
        expect_error(request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "kid not-a-kid-of-a is not a key");

        /* the httpd authority: no discovery document (404), so /certs; fetched once */
        snprintf(pol, sizeof(pol),
                 "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"%s\",\"allOf\":["
                 "{\"claim\":\"x-ms-attestation-type\",\"equals\":\"sevsnpvm\"}]}]}",
                 other_url);
        import_on(&D, "fh", k, pol);
        path = "/keys/fh/release?api-version=7.4";
        unsigned hits0 = test_httpd_hits(other_az);
        _cleanup_free_ char *good = ext_token(fetch_key, "fetched-1", other_url);
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\",\"enc\":\"RSA_AES_KEY_WRAP_256\"}", good);
        for (int i = 0; i < 2; i++) {
                _cleanup_free_ uint8_t *m2 = unwrap_release_from(
                        &D, request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"),
                        EVP_sha256(), "RSA_AES_KEY_WRAP_256", &ml);
                assert_int_equal(ml, sizeof(k));
                assert_memory_equal(m2, k, sizeof(k));
        }
        /* the discovery document, then /certs; the second release used the cache */
        assert_int_equal(test_httpd_hits(other_az) - hits0, 2);
        char last[128];
        assert_int_equal(test_httpd_request(other_az, hits0, last, sizeof(last)), 1);
        assert_string_equal(last, "/.well-known/openid-configuration");
        assert_int_equal(test_httpd_request(other_az, hits0 + 1, last, sizeof(last)), 1);
        assert_string_equal(last, "/certs");
        /* a key the authority does not publish, under its kid and under another */
        EVP_PKEY *forger2 = EVP_RSA_gen(2048);
        _cleanup_free_ char *f1 = ext_token(forger2, "fetched-1", other_url);
        _cleanup_free_ char *f2 = ext_token(forger2, "fetched-2", other_url);
        EVP_PKEY_free(forger2);
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", f1);
        expect_error(request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "target: RS256 signature does not verify");
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", f2);
        expect_error(request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "kid fetched-2 is not a key");
        /* an unknown kid right after a fetch does not fetch again */
        assert_int_equal(test_httpd_hits(other_az) - hits0, 2);
        /* the authority's key, but an issuer nobody configured: never fetched */
        _cleanup_free_ char *f3 = ext_token(fetch_key, "fetched-1", "http://127.0.0.1:9");
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", f3);
        expect_error(request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "kid fetched-1 is not a key");
        assert_int_equal(test_httpd_hits(other_az) - hits0, 2);
        /* an answer over azure.authority_jwks_max_bytes is refused */
        char big_iss[96];
        snprintf(big_iss, sizeof(big_iss), "%s/big", other_url);
        _cleanup_free_ char *f4 = ext_token(fetch_key, "fetched-1", big_iss);
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", f4);
        expect_error(request_full(&D, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "exceeds 4096 bytes");
        /* A, not trusting the httpd, refuses its token */
        import_on(&A, "fh", k, pol);
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", good);
        expect_error(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer x"), 403,
                     "Forbidden", "kid fetched-1 is not a key");
}

/* ---- Open Enclave ---- */

/* An Open Enclave remote report: oe_report_header_t {u32 version, u32 report_type, u64
 * report_size} (little-endian), then the SGX quote. */
static uint8_t *oe_report(uint32_t version, uint32_t type, uint64_t size, size_t *ret_len)
{
        uint8_t *r = malloc(16 + quote_len);
        for (int i = 0; i < 4; i++) {
                r[i] = (uint8_t)(version >> (8 * i));
                r[4 + i] = (uint8_t)(type >> (8 * i));
        }
        for (int i = 0; i < 8; i++)
                r[8 + i] = (uint8_t)(size >> (8 * i));
        memcpy(r + 16, quote, quote_len);
        *ret_len = 16 + quote_len;
        return r;
}

static char *oe_body(const uint8_t *r, size_t n, const char *extra)
{
        _cleanup_free_ char *q = b64url_padded(r, n);
        char *b = NULL;
        assert_true(asprintf(&b, "{\"report\":\"%s\"%s}", q, extra) > 0);
        return b;
}

static void test_azure_open_enclave(void **state)
{
        (void)state;
        if (!have_sgx)
                vtt_skip("../shared/testdata not found");
        const char *p = "/attest/OpenEnclave?api-version=2020-10-01";
        size_t n = 0;
        _cleanup_free_ uint8_t *r = oe_report(1, 2, quote_len, &n);
        _cleanup_free_ char *body = oe_body(r, n, ",\"nonce\":\"oe-nonce\"");
        _cleanup_free_ char *tok =
                token_of(request_full(&A, "POST", p, body, strlen(body), NULL, NULL));
        _cleanup_json_ json_t *c = verify_token(&A, tok);
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-attestation-type")), "sgx");
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-sgx-mrenclave")),
                            SGX_MRENCLAVE);
        assert_false(json_is_true(json_object_get(c, "x-ms-sgx-is-debuggable")));
        assert_string_equal(json_string_value(json_object_get(c, "nonce")), "oe-nonce");
        /* the report data of the quote, "Hello, world!" */
        const char *rd = json_string_value(json_object_get(c, "x-ms-sgx-report-data"));
        assert_non_null(rd);
        assert_int_equal(strncmp(rd, "48656c6c6f2c20776f726c6421", 26), 0);
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(c, "x-ms-veritee"), "tee")),
                "sgx");
        /* the bare quote is taken too */
        _cleanup_free_ char *bare = oe_body(quote, quote_len, "");
        free(token_of(request_full(&A, "POST", p, bare, strlen(bare), NULL, NULL)));
        /* a header that is not a remote report's, or of another size; a cut header */
        _cleanup_free_ uint8_t *local = oe_report(1, 1, quote_len, &n);
        _cleanup_free_ char *b1 = oe_body(local, n, "");
        expect_error(request_full(&A, "POST", p, b1, strlen(b1), NULL, NULL), 400,
                     "InvalidParameter", "Open Enclave report_type 1 is not 2");
        _cleanup_free_ uint8_t *longer = oe_report(1, 2, quote_len + 1, &n);
        _cleanup_free_ char *b2 = oe_body(longer, n, "");
        expect_error(request_full(&A, "POST", p, b2, strlen(b2), NULL, NULL), 400,
                     "InvalidParameter", "is not the");
        _cleanup_free_ char *b3 = oe_body(r, 10, "");
        expect_error(request_full(&A, "POST", p, b3, strlen(b3), NULL, NULL), 400,
                     "InvalidParameter", "Open Enclave header is truncated");
        /* its field is "report", not "quote" */
        _cleanup_free_ char *b4 = sgx_body("");
        expect_error(request_full(&A, "POST", p, b4, strlen(b4), NULL, NULL), 400,
                     "InvalidParameter", "the body lacks \"report\"");
        /* another enclave's reference values: refused as for SgxEnclave */
        expect_error(request_full(&B, "POST", p, body, strlen(body), NULL, NULL), 400,
                     "PolicyEvaluationError", "appraisal");
}

/* ---- keys: import RSA, get, list, versions, delete; Key Vault's error shape ---- */

/* rsa_private_jwk: every member of an RSA private JWK (RFC 7518 section 6.3.2). */
static json_t *rsa_private_jwk(EVP_PKEY *key)
{
        static const char *const m[][2] = {
                {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
                {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
                {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
                {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
        };
        json_t *j = json_pack("{s:s}", "kty", "RSA-HSM");
        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                BIGNUM *bn = NULL;
                assert_int_equal(EVP_PKEY_get_bn_param(key, m[i][1], &bn), 1);
                uint8_t buf[512];
                int n = BN_bn2bin(bn, buf);
                char *t = b64url(buf, (size_t)n);
                json_object_set_new(j, m[i][0], json_string(t));
                free(t);
                BN_clear_free(bn);
        }
        return j;
}

/* A request whose WWW-Authenticate header is captured. */
struct hdr_capture {
        char value[512];
};

static size_t capture_www(char *p, size_t size, size_t nmemb, void *ud)
{
        struct hdr_capture *h = ud;
        size_t n = size * nmemb;
        if (n > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0)
                snprintf(h->value, sizeof(h->value), "%.*s", (int)(n - 17), p + 17);
        return n;
}

static size_t discard(char *p, size_t size, size_t nmemb, void *ud)
{
        (void)p;
        (void)ud;
        return size * nmemb;
}

static long www_authenticate(const struct server *s, const char *method, const char *path,
                             const char *body, const char *authz, char out[512])
{
        char url[512], ah[1024];
        struct hdr_capture h = {{0}};
        struct curl_slist *l = NULL;
        long status = 0;
        CURL *c = curl_easy_init();
        snprintf(url, sizeof(url), "%s%s", s->url, path);
        if (authz) {
                snprintf(ah, sizeof(ah), "Authorization: %s", authz);
                l = curl_slist_append(l, ah);
        }
        l = curl_slist_append(l, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
        if (body)
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, capture_www);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        curl_slist_free_all(l);
        snprintf(out, 512, "%s", h.value);
        return status;
}

/* no_private: the JSON text of a key answer holds no private member nor the material. */
static void no_private(const json_t *bundle)
{
        static const char *const members[] = {"d", "p", "q", "dp", "dq", "qi", "k"};
        const json_t *key = json_object_get(bundle, "key");
        assert_non_null(key);
        for (size_t i = 0; i < ELEMENTSOF(members); i++)
                if (json_object_get(key, members[i]))
                        fail_msg("the answer holds the private member %s", members[i]);
        _cleanup_free_ char *t = json_dumps(bundle, 0);
        assert_null(strstr(t, "material"));
}

static char *import_rsa(EVP_PKEY *k, const char *pol64, json_t **ret_bundle)
{
        _cleanup_json_ json_t *jwk = rsa_private_jwk(k);
        _cleanup_json_ json_t *b =
                json_pack("{s:O, s:b, s:{s:b}, s:{s:s}}", "key", jwk, "hsm", 1, "attributes",
                          "exportable", 1, "release_policy", "data", pol64);
        _cleanup_free_ char *t = json_dumps(b, JSON_COMPACT);
        struct http h = request_full(&A, "PUT", "/keys/rsa1?api-version=7.4", t, strlen(t), NULL,
                                     admin_authz);
        if (h.status != 200)
                fail_msg("import: %ld %.400s", h.status, h.body);
        json_t *bun = body_json(&h);
        free(h.body);
        no_private(bun);
        const char *kid = json_string_value(json_object_get(json_object_get(bun, "key"), "kid"));
        assert_non_null(kid);
        *ret_bundle = bun;
        return strdup(strrchr(kid, '/') + 1);
}

static EVP_PKEY *released_pkey(const char *path, const char *tok)
{
        char rel[8192];
        size_t ml = 0;
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\",\"enc\":\"RSA_AES_KEY_WRAP_384\"}", tok);
        _cleanup_free_ uint8_t *der =
                unwrap_release(request_full(&A, "POST", path, rel, strlen(rel), NULL, "Bearer r"),
                               EVP_sha384(), "RSA_AES_KEY_WRAP_384", &ml);
        const uint8_t *dp = der;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &dp, (long)ml);
        assert_non_null(p8);
        EVP_PKEY *got = EVP_PKCS82PKEY(p8);
        PKCS8_PRIV_KEY_INFO_free(p8);
        assert_non_null(got);
        return got;
}

static void test_azure_key_ops(void **state)
{
        (void)state;
        _cleanup_free_ char *tok = snp_token();
        _cleanup_free_ char *pol = policy_b64(measurement);
        EVP_PKEY *k1 = EVP_RSA_gen(2048), *k2 = EVP_RSA_gen(3072);
        _cleanup_json_ json_t *b1 = NULL, *b2 = NULL;
        _cleanup_free_ char *v1 = import_rsa(k1, pol, &b1);
        _cleanup_free_ char *v2 = import_rsa(k2, pol, &b2);
        assert_string_not_equal(v1, v2);
        assert_int_equal(strlen(v1), 32);
        /* the imported public key is the one shown */
        json_t *pj = NULL;
        assert_int_equal(vt_jwk_from_pkey(k2, VT_JWK_ALG_LAST, NULL, &pj), 0);
        assert_string_equal(json_string_value(json_object_get(json_object_get(b2, "key"), "n")),
                            json_string_value(json_object_get(pj, "n")));
        json_decref(pj);

        /* get: the newest, with and without the trailing slash, and an older version */
        const char *gets[] = {"/keys/rsa1?api-version=7.4", "/keys/rsa1/?api-version=7.4"};
        for (size_t i = 0; i < ELEMENTSOF(gets); i++) {
                struct http h = request_full(&A, "GET", gets[i], NULL, 0, NULL, admin_authz);
                assert_int_equal(h.status, 200);
                _cleanup_json_ json_t *g = body_json(&h);
                free(h.body);
                no_private(g);
                assert_true(json_equal(json_object_get(g, "key"), json_object_get(b2, "key")));
                assert_true(json_is_true(
                        json_object_get(json_object_get(g, "attributes"), "exportable")));
                assert_non_null(json_object_get(json_object_get(g, "release_policy"), "data"));
        }
        char path[256];
        snprintf(path, sizeof(path), "/keys/rsa1/%s?api-version=7.4", v1);
        struct http h = request_full(&A, "GET", path, NULL, 0, NULL, admin_authz);
        assert_int_equal(h.status, 200);
        _cleanup_json_ json_t *g1 = body_json(&h);
        free(h.body);
        no_private(g1);
        assert_true(json_equal(json_object_get(g1, "key"), json_object_get(b1, "key")));
        expect_error(request_full(&A, "GET",
                                  "/keys/rsa1/0123456789abcdef0123456789abcdef"
                                  "?api-version=7.4",
                                  NULL, 0, NULL, admin_authz),
                     404, "KeyNotFound", "not found");

        /* versions, oldest first; the list shows rsa1 once, by its unversioned kid */
        h = request_full(&A, "GET", "/keys/rsa1/versions?api-version=7.4", NULL, 0, NULL,
                         admin_authz);
        assert_int_equal(h.status, 200);
        _cleanup_json_ json_t *vs = body_json(&h);
        free(h.body);
        assert_int_equal(json_array_size(json_object_get(vs, "value")), 2);
        assert_true(json_is_null(json_object_get(vs, "nextLink")));
        const char *kv1 = json_string_value(
                json_object_get(json_array_get(json_object_get(vs, "value"), 0), "kid"));
        const char *kv2 = json_string_value(
                json_object_get(json_array_get(json_object_get(vs, "value"), 1), "kid"));
        assert_string_equal(strrchr(kv1, '/') + 1, v1);
        assert_string_equal(strrchr(kv2, '/') + 1, v2);
        h = request_full(&A, "GET", "/keys?api-version=7.4", NULL, 0, NULL, admin_authz);
        assert_int_equal(h.status, 200);
        _cleanup_json_ json_t *all = body_json(&h);
        free(h.body);
        char want[256];
        snprintf(want, sizeof(want), "%s/keys/rsa1", A.url);
        size_t seen = 0, i;
        const json_t *it;
        json_array_foreach (json_object_get(all, "value"), i, it) {
                const char *kid = json_string_value(json_object_get(it, "kid"));
                assert_non_null(json_object_get(it, "attributes"));
                assert_null(json_object_get(it, "key"));
                seen += strcmp(kid, want) == 0;
        }
        assert_int_equal(seen, 1);

        /* releases: the newest by default, an older one by its version */
        EVP_PKEY *got = released_pkey("/keys/rsa1/release?api-version=7.4", tok);
        assert_int_equal(EVP_PKEY_eq(got, k2), 1);
        EVP_PKEY_free(got);
        snprintf(path, sizeof(path), "/keys/rsa1/%s/release?api-version=7.4", v1);
        got = released_pkey(path, tok);
        assert_int_equal(EVP_PKEY_eq(got, k1), 1);
        EVP_PKEY_free(got);

        /* an RSA key whose members do not belong together is refused */
        _cleanup_json_ json_t *bad = rsa_private_jwk(k1);
        json_object_set(bad, "q", json_object_get(json_object_get(b1, "key"), "e"));
        _cleanup_json_ json_t *bb = json_pack("{s:O, s:{s:b}, s:{s:s}}", "key", bad, "attributes",
                                              "exportable", 1, "release_policy", "data", pol);
        _cleanup_free_ char *bt = json_dumps(bb, JSON_COMPACT);
        expect_error(request_full(&A, "PUT", "/keys/rsa2?api-version=7.4", bt, strlen(bt), NULL,
                                  admin_authz),
                     400, "BadParameter", "key: jwk:");

        /* delete: every version; then nothing is found, listed or released */
        h = request_full(&A, "DELETE", "/keys/rsa1?api-version=7.4", NULL, 0, NULL, admin_authz);
        char del_id[24];
        snprintf(del_id, sizeof(del_id), "%s", h.request_id);
        assert_int_equal(h.status, 200);
        _cleanup_json_ json_t *db = body_json(&h);
        free(h.body);
        no_private(db);
        assert_null(json_object_get(db, "recoveryId"));
        expect_error(
                request_full(&A, "GET", "/keys/rsa1?api-version=7.4", NULL, 0, NULL, admin_authz),
                404, "KeyNotFound", "key rsa1 not found");
        expect_error(request_full(&A, "GET", "/keys/rsa1/versions?api-version=7.4", NULL, 0, NULL,
                                  admin_authz),
                     404, "KeyNotFound", "key rsa1 not found");
        char rel[8192];
        snprintf(rel, sizeof(rel), "{\"target\":\"%s\"}", tok);
        expect_error(request_full(&A, "POST", "/keys/rsa1/release?api-version=7.4", rel,
                                  strlen(rel), NULL, "Bearer r"),
                     404, "KeyNotFound", "key rsa1 not found");
        expect_error(request_full(&A, "DELETE", "/keys/rsa1?api-version=7.4", NULL, 0, NULL,
                                  admin_authz),
                     404, "KeyNotFound", "key rsa1 not found");
        _cleanup_json_ json_t *entries = ledger_audit(&A, admin_authz, NULL);
        const json_t *de = ledger_find(entries, "azure-key-delete", del_id);
        assert_non_null(de);
        _cleanup_free_ char *dt = json_dumps(de, 0);
        assert_non_null(strstr(dt, "\"versions\": 2"));
        EVP_PKEY_free(k1);
        EVP_PKEY_free(k2);
}

/* Refusals of the admin token on the key routes: Key Vault's error shape and challenge. */
static void test_azure_key_admin_errors(void **state)
{
        (void)state;
        _cleanup_free_ char *pol = policy_b64(measurement);
        char body[2048], www[512], reader[800];
        snprintf(body, sizeof(body),
                 "{\"kty\":\"oct\",\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"%s\"}}",
                 pol);
        const char *create = "/keys/e1/create?api-version=7.4";
        /* a bearer that is not an admin token: 401, Azure's shape, the challenge */
        expect_error(
                request_full(&A, "POST", create, body, strlen(body), NULL, "Bearer not-an-admin"),
                401, "Unauthorized", "admin access denied");
        assert_int_equal(www_authenticate(&A, "POST", create, body, "Bearer not-an-admin", www),
                         401);
        assert_non_null(strstr(www, "Bearer authorization="));
        assert_non_null(strstr(www, "resource="));
        /* no bearer at all: the same challenge */
        assert_int_equal(www_authenticate(&A, "PUT", "/keys/e1?api-version=7.4", body, NULL, www),
                         401);
        assert_non_null(strstr(www, "Bearer authorization="));
        /* an admin token of a role that may read only: 403, no challenge */
        struct vt_diag d = {0};
        char key[512];
        char *jwt = NULL;
        path_in(key, sizeof(key), "admin.key");
        assert_int_equal(
                vt_admin_token_make(key, VT_ROLE_READER, NULL, 0, 3600, "key-reader", &jwt, &d), 0);
        snprintf(reader, sizeof(reader), "Bearer %s", jwt);
        free(jwt);
        expect_error(request_full(&A, "POST", create, body, strlen(body), NULL, reader), 403,
                     "Forbidden", "admin access denied for key-reader");
        expect_error(request_full(&A, "DELETE", "/keys/e1?api-version=7.4", NULL, 0, NULL, reader),
                     403, "Forbidden", "admin access denied for key-reader");
        assert_int_equal(www_authenticate(&A, "POST", create, body, reader, www), 403);
        assert_string_equal(www, "");
        /* reading needs an admin token of any role */
        struct http h = request_full(&A, "GET", "/keys?api-version=7.4", NULL, 0, NULL, reader);
        assert_int_equal(h.status, 200);
        free(h.body);
        expect_error(request_full(&A, "GET", "/keys?api-version=7.4", NULL, 0, NULL, "Bearer x"),
                     401, "Unauthorized", "admin access denied");
        /* and none of this is RFC 7807 */
        h = request_full(&A, "POST", create, body, strlen(body), NULL, "Bearer not-an-admin");
        assert_null(strstr(h.body, "\"type\""));
        assert_null(strstr(h.body, "\"detail\""));
        free(h.body);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_azure_sgx_token),
                cmocka_unit_test(test_azure_sgx_refusals),
                cmocka_unit_test(test_azure_tdx_token),
                cmocka_unit_test(test_azure_snp_simulated),
                cmocka_unit_test(test_azure_key_release),
                cmocka_unit_test(test_azure_key_release_other_authority),
                cmocka_unit_test(test_azure_oidc_discovery),
                cmocka_unit_test(test_azure_authority_fetched),
                cmocka_unit_test(test_azure_open_enclave),
                cmocka_unit_test(test_azure_key_ops),
                cmocka_unit_test(test_azure_key_admin_errors),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
