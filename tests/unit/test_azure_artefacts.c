/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recorded Azure artefacts (../shared/testdata/azure, PROVENANCE.md there) read and verified
 * with veritee's own token code (lib/token/jose: vt_jws_parse, vt_jws_verify_rs256,
 * vt_jws_claims, vt_jose_check_times) and release policies (lib/policy/release): a real
 * MAA token of the shared instance sharedwus with its signing key from /certs, and a real
 * Managed HSM release answer with the key of its x5c.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "policy/release.h"
#include "testutil.h"
#include "token/jose.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

#define MAA_TOKEN  "azure/maa/sharedwus_sgx_token.jwt"
#define MAA_CERTS  "azure/maa/sharedwus_certs_subset.json"
#define MHSM_VALUE "azure/skr/mhsm_release_response.json"
#define MHSM_TGT   "azure/skr/mhsm_release_target_token.jwt"

static char *load_text(const char *rel)
{
        size_t n = 0;
        char *s = (char *)vt_test_load_vector(rel, &n);
        assert_non_null(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
                s[--n] = 0;
        return s;
}

/* The public key of a base64 (standard) DER certificate. */
static EVP_PKEY *cert_key(const char *b64)
{
        uint8_t *der = NULL;
        size_t n = 0;
        assert_int_equal(vt_b64_decode(b64, strlen(b64), VT_B64_STD, 1 << 16, &der, &n), 0);
        const uint8_t *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)n);
        assert_non_null(x);
        EVP_PKEY *k = X509_get_pubkey(x);
        X509_free(x);
        free(der);
        assert_non_null(k);
        return k;
}

static json_t *b64url_json(const char *s, size_t n)
{
        uint8_t *b = NULL;
        size_t bl = 0;
        while (n > 0 && s[n - 1] == '=')
                n--;
        assert_int_equal(vt_b64_decode(s, n, VT_B64_URL, 1 << 20, &b, &bl), 0);
        json_t *j = json_loadb((char *)b, bl, 0, NULL);
        free(b);
        assert_non_null(j);
        return j;
}

static void test_maa_token_verifies(void **state)
{
        (void)state;
        VT_REQUIRE_TESTDATA();
        _cleanup_free_ char *tok = load_text(MAA_TOKEN), *certs = load_text(MAA_CERTS);
        _cleanup_json_ json_t *jwks = json_loads(certs, 0, NULL);
        struct vt_jws j = {0};
        struct vt_diag d = {0};

        assert_int_equal(vt_jws_parse(tok, 1 << 20, 4096, "maa token", &j, &d), 0);
        assert_string_equal(j.alg, "RS256");
        assert_string_equal(j.kid, "XxRc2vLh1E5FrsNawnRH3PzuFgqg3q7NvCdnjoJHBGE=");
        const json_t *key = json_array_get(json_object_get(jwks, "keys"), 0);
        assert_string_equal(json_string_value(json_object_get(key, "kid")), j.kid);
        EVP_PKEY *k = cert_key(json_string_value(json_array_get(json_object_get(key, "x5c"), 0)));
        assert_int_equal(vt_jws_verify_rs256(&j, k, &d), 0);

        json_t *c = NULL;
        assert_int_equal(vt_jws_claims(&j, 1 << 20, &c, &d), 0);
        assert_string_equal(json_string_value(json_object_get(c, "iss")),
                            "https://sharedwus.wus.attest.azure.net");
        assert_string_equal(json_string_value(json_object_get(c, "x-ms-attestation-type")), "sgx");
        /* the runtime-data binding: report data starts with SHA-256 of the ehd */
        const char *ehd = json_string_value(json_object_get(c, "x-ms-sgx-ehd"));
        const char *rd = json_string_value(json_object_get(c, "x-ms-sgx-report-data"));
        uint8_t *eb = NULL, md[32];
        size_t el = 0;
        char mh[65];
        assert_int_equal(vt_b64_decode(ehd, strlen(ehd), VT_B64_URL, 4096, &eb, &el), 0);
        EVP_Digest(eb, el, md, NULL, EVP_sha256(), NULL);
        free(eb);
        vt_hex_encode(md, 32, mh);
        assert_int_equal(strncasecmp(rd, mh, 64), 0);
        /* the times: good 8 hours from iat, expired now */
        json_int_t iat = json_integer_value(json_object_get(c, "iat"));
        assert_int_equal(json_integer_value(json_object_get(c, "exp")) - iat, 8 * 3600);
        assert_int_equal(vt_jose_check_times(c, iat + 60, "maa token", &d), 0);
        assert_int_equal(vt_jose_check_times(c, (int64_t)time(NULL), "maa token", &d),
                         VT_E_EXPIRED);
        json_decref(c);
        vt_jws_done(&j);

        /* one changed byte of the payload: the signature no longer verifies */
        char *bad = strdup(tok);
        char *dot = strchr(bad, '.');
        dot[10] = dot[10] == 'A' ? 'B' : 'A';
        struct vt_diag d2 = {0};
        assert_int_equal(vt_jws_parse(bad, 1 << 20, 4096, "maa token", &j, &d2), 0);
        assert_int_equal(vt_jws_verify_rs256(&j, k, &d2), VT_E_SIGNATURE);
        assert_string_equal(d2.msg, "maa token: RS256 signature does not verify");
        vt_jws_done(&j);
        free(bad);
        /* and another RSA key does not verify the real token */
        EVP_PKEY *other = EVP_RSA_gen(2048);
        struct vt_diag d3 = {0};
        assert_int_equal(vt_jws_parse(tok, 1 << 20, 4096, "maa token", &j, &d3), 0);
        assert_int_equal(vt_jws_verify_rs256(&j, other, &d3), VT_E_SIGNATURE);
        vt_jws_done(&j);
        EVP_PKEY_free(other);
        EVP_PKEY_free(k);
}

static void test_mhsm_release_verifies(void **state)
{
        (void)state;
        VT_REQUIRE_TESTDATA();
        _cleanup_free_ char *resp = load_text(MHSM_VALUE), *tgt = load_text(MHSM_TGT);
        _cleanup_json_ json_t *r = json_loads(resp, 0, NULL);
        const char *value = json_string_value(json_object_get(r, "value"));
        struct vt_jws j = {0};
        struct vt_diag d = {0};
        assert_non_null(value);
        /* the header carries the x5c chain: a large header */
        assert_int_equal(vt_jws_parse(value, 1 << 20, 32 * 1024, "release", &j, &d), 0);
        assert_string_equal(j.alg, "RS256");
        const json_t *x5c = json_object_get(j.hdr, "x5c");
        assert_int_equal(json_array_size(x5c), 3);
        EVP_PKEY *k = cert_key(json_string_value(json_array_get(x5c, 0)));
        assert_int_equal(vt_jws_verify_rs256(&j, k, &d), 0);
        json_t *p = NULL;
        assert_int_equal(vt_jws_claims(&j, 1 << 20, &p, &d), 0);
        vt_jws_done(&j);
        EVP_PKEY_free(k);

        const json_t *req = json_object_get(p, "request");
        assert_string_equal(json_string_value(json_object_get(req, "enc")), "CKM_RSA_AES_KEY_WRAP");
        const json_t *key = json_object_get(json_object_get(p, "response"), "key");
        const char *hsm =
                json_string_value(json_object_get(json_object_get(key, "key"), "key_hsm"));
        assert_non_null(hsm);
        _cleanup_json_ json_t *h = b64url_json(hsm, strlen(hsm));
        assert_string_equal(json_string_value(json_object_get(json_object_get(h, "header"), "kid")),
                            "fake-release-key");
        const char *ct = json_string_value(json_object_get(h, "ciphertext"));
        uint8_t *cb = NULL;
        size_t cl = 0;
        assert_int_equal(vt_b64_decode(ct, strlen(ct), VT_B64_URL, 1 << 16, &cb, &cl), 0);
        free(cb);
        assert_int_equal(cl, 256 + 1232); /* RSA-OAEP block + AES-KWP of a PKCS#8 RSA key */

        /* the target token (its signature is not verifiable: its issuer's keys are not
         * public) names the same wrapping key, and the key's own release policy holds for
         * its claims, authority and all */
        const char *d1 = strchr(tgt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        assert_non_null(d2);
        _cleanup_json_ json_t *tc = b64url_json(d1 + 1, (size_t)(d2 - d1 - 1));
        const json_t *wk =
                json_array_get(json_object_get(json_object_get(tc, "x-ms-runtime"), "keys"), 0);
        assert_string_equal(json_string_value(json_object_get(wk, "kid")), "fake-release-key");
        const char *pd =
                json_string_value(json_object_get(json_object_get(key, "release_policy"), "data"));
        assert_non_null(pd);
        size_t pl = strlen(pd);
        while (pl > 0 && pd[pl - 1] == '=')
                pl--;
        uint8_t *pt = NULL;
        size_t ptl = 0;
        assert_int_equal(vt_b64_decode(pd, pl, VT_B64_URL, 1 << 16, &pt, &ptl), 0);
        struct vt_release_policy *pol = NULL;
        if (vt_release_policy_parse((const char *)pt, ptl, &pol, &d) < 0)
                fail_msg("the recorded release policy %.*s: %s", (int)ptl, pt, d.msg);
        free(pt);
        if (vt_release_policy_eval(pol, tc, &d) < 0)
                fail_msg("the recorded policy refuses its own target: %s", d.msg);
        /* another issuer would not do */
        json_object_set_new(tc, "iss", json_string("https://elsewhere.example/"));
        assert_int_equal(vt_release_policy_eval(pol, tc, NULL), VT_E_POLICY);
        vt_release_policy_free(pol);
        json_decref(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_maa_token_verifies),
                cmocka_unit_test(test_mhsm_release_verifies),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
