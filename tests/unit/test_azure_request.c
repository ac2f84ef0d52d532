/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/azure/request.c: the bodies of the Azure-compatible API's requests. Every
 * truncation of a valid body is refused with a named check; Open Enclave's report header;
 * SevSnpVm's inner JSON; nonce as string or number; key create, import (oct, EC, RSA) and
 * release bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "azure/request.h"
#include "crypto/jwk.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/snp.h"

static char *b64u(const void *p, size_t n)
{
        char *s = NULL;
        assert_int_equal(vt_b64_encode(p, n, VT_B64_URL, &s), 0);
        return s;
}

static const char policy[] = "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a.example/"
                             "\",\"allOf\":[{\"claim\":\"x-ms-attestation-type\",\"equals\":"
                             "\"sevsnpvm\"}]}]}";

/* every proper prefix of a valid body is refused and names why */
static void truncations_attest(enum vt_az_type t, const char *body)
{
        for (size_t n = 0; n < strlen(body); n++) {
                struct vt_az_attest_request r = {0};
                struct vt_diag d = {0};
                if (vt_az_attest_request_parse(t, (const uint8_t *)body, n, &r, &d) == 0)
                        fail_msg("a %zu-byte prefix of a body parsed", n);
                assert_true(d.msg[0] != 0);
                assert_null(r.evidence);
        }
}

static void test_azure_request_attest(void **state)
{
        (void)state;
        uint8_t quote[64];
        for (size_t i = 0; i < sizeof(quote); i++)
                quote[i] = (uint8_t)(i == 0 ? 3 : i);
        _cleanup_free_ char *q = b64u(quote, sizeof(quote));
        _cleanup_free_ char *rt = b64u("{\"keys\":[]}", 11);
        char body[4096];
        snprintf(body, sizeof(body),
                 "{\"quote\":\"%s\",\"runtimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"},"
                 "\"nonce\":12345}",
                 q, rt);
        struct vt_az_attest_request r = {0};
        struct vt_diag d = {0};
        assert_int_equal(
                vt_az_attest_request_parse(VT_AZ_SGX, (const uint8_t *)body, strlen(body), &r, &d),
                0);
        assert_int_equal(r.evidence_len, sizeof(quote));
        assert_memory_equal(r.evidence, quote, sizeof(quote));
        assert_string_equal(r.nonce, "12345");
        assert_true(r.runtime.present && json_is_object(r.runtime.json));
        uint8_t md[32];
        EVP_Digest("{\"keys\":[]}", 11, md, NULL, EVP_sha256(), NULL);
        assert_memory_equal(r.runtime.sha256, md, 32);
        vt_az_attest_request_done(&r);
        truncations_attest(VT_AZ_SGX, body);

        /* Open Enclave: the header is checked and removed */
        uint8_t oe[16 + sizeof(quote)] = {1, 0, 0, 0, 2, 0, 0, 0, sizeof(quote)};
        memcpy(oe + 16, quote, sizeof(quote));
        _cleanup_free_ char *o = b64u(oe, sizeof(oe));
        snprintf(body, sizeof(body), "{\"report\":\"%s\",\"nonce\":\"n\"}", o);
        assert_int_equal(vt_az_attest_request_parse(VT_AZ_OPEN_ENCLAVE, (const uint8_t *)body,
                                                    strlen(body), &r, &d),
                         0);
        assert_int_equal(r.evidence_len, sizeof(quote));
        assert_memory_equal(r.evidence, quote, sizeof(quote));
        vt_az_attest_request_done(&r);
        static const struct {
                size_t off;
                uint8_t v;
                const char *why;
        } bad[] = {{4, 1, "report_type 1 is not 2"}, {8, 65, "report_size 65 is not the 64"}};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint8_t b[sizeof(oe)];
                memcpy(b, oe, sizeof(b));
                b[bad[i].off] = bad[i].v;
                _cleanup_free_ char *bb = b64u(b, sizeof(b));
                snprintf(body, sizeof(body), "{\"report\":\"%s\"}", bb);
                vt_diag_clear(&d);
                assert_int_equal(vt_az_attest_request_parse(VT_AZ_OPEN_ENCLAVE,
                                                            (const uint8_t *)body, strlen(body), &r,
                                                            &d),
                                 VT_E_FORMAT);
                assert_non_null(strstr(d.msg, bad[i].why));
        }
        for (size_t n = 4; n < 16; n++) {
                _cleanup_free_ char *bb = b64u(oe, n);
                snprintf(body, sizeof(body), "{\"report\":\"%s\"}", bb);
                vt_diag_clear(&d);
                assert_int_equal(vt_az_attest_request_parse(VT_AZ_OPEN_ENCLAVE,
                                                            (const uint8_t *)body, strlen(body), &r,
                                                            &d),
                                 VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "header is truncated"));
        }

        /* SevSnpVm: {"SnpReport", "VcekCertChain"}, padded base64url as the Go sidecar */
        uint8_t rep[VT_SNP_REPORT_SIZE] = {2};
        _cleanup_free_ char *r64 = b64u(rep, sizeof(rep));
        _cleanup_free_ char *c64 = b64u("PEM", 3);
        char inner[4096];
        snprintf(inner, sizeof(inner), "{\"SnpReport\":\"%s==\",\"VcekCertChain\":\"%s\"}", r64,
                 c64);
        _cleanup_free_ char *i64 = b64u(inner, strlen(inner));
        _cleanup_free_ char *init = b64u("{}", 2);
        snprintf(body, sizeof(body),
                 "{\"report\":\"%s\",\"initTimeData\":{\"data\":\"%s\",\"dataType\":\"JSON\"}}",
                 i64, init);
        assert_int_equal(
                vt_az_attest_request_parse(VT_AZ_SNP, (const uint8_t *)body, strlen(body), &r, &d),
                0);
        assert_int_equal(r.evidence_len, VT_SNP_REPORT_SIZE);
        assert_string_equal((const char *)r.chain, "PEM");
        assert_true(r.init.present);
        assert_null(r.nonce);
        vt_az_attest_request_done(&r);
        truncations_attest(VT_AZ_SNP, body);

        /* refusals that name the field */
        static const struct {
                enum vt_az_type t;
                const char *body, *why;
        } no[] = {
                {VT_AZ_SGX, "[]", "the body must be a JSON object"},
                {VT_AZ_SGX, "{\"report\":\"AAAA\"}", "the body lacks \"quote\""},
                {VT_AZ_TDX, "{\"quote\":\"!!\"}", "the quote is not base64url"},
                {VT_AZ_SGX, "{\"quote\":\"AAAA\",\"nonce\":[1]}", "nonce must be a string"},
                {VT_AZ_SGX,
                 "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"e30\",\"dataType\":"
                 "\"XML\"}}",
                 "runtimeData.dataType must be"},
                {VT_AZ_SGX,
                 "{\"quote\":\"AAAA\",\"runtimeData\":{\"data\":\"eyJ9\",\"dataType\":"
                 "\"JSON\"}}",
                 "runtimeData.data is not JSON"},
                {VT_AZ_SNP, "{\"report\":\"e30\"}", "SnpReport\", \"VcekCertChain"},
        };
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                vt_diag_clear(&d);
                assert_int_equal(vt_az_attest_request_parse(no[i].t, (const uint8_t *)no[i].body,
                                                            strlen(no[i].body), &r, &d),
                                 VT_E_FORMAT);
                if (!strstr(d.msg, no[i].why))
                        fail_msg("\"%s\": %s, expected ...%s...", no[i].body, d.msg, no[i].why);
        }
        enum vt_az_type t;
        assert_int_equal(vt_az_type_from_path("SEVSNPVM", &t), 0);
        assert_int_equal(t, VT_AZ_SNP);
        assert_int_equal(vt_az_type_from_path("Tpm", &t), VT_E_NOTFOUND);
}

static void test_azure_request_keys(void **state)
{
        (void)state;
        _cleanup_free_ char *p64 = b64u(policy, strlen(policy));
        char body[8192];
        struct vt_az_key_request r = {0};
        struct vt_diag d = {0};
        snprintf(body, sizeof(body),
                 "{\"kty\":\"RSA-HSM\",\"key_size\":3072,\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"%s\"}}",
                 p64);
        assert_int_equal(
                vt_az_key_request_parse(false, (const uint8_t *)body, strlen(body), &r, &d), 0);
        assert_int_equal(r.kty, VT_AZ_KTY_RSA);
        assert_int_equal(r.key_size, 3072);
        assert_string_equal(r.policy, policy);
        vt_az_key_request_done(&r);
        for (size_t n = 0; n < strlen(body); n++) {
                vt_diag_clear(&d);
                assert_int_not_equal(
                        vt_az_key_request_parse(false, (const uint8_t *)body, n, &r, &d), 0);
                assert_true(d.msg[0] != 0);
        }
        /* import: an RSA private JWK */
        EVP_PKEY *k = EVP_RSA_gen(2048);
        static const char *const m[][2] = {
                {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
                {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
                {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
                {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
        };
        json_t *jwk = json_pack("{s:s, s:[s]}", "kty", "RSA-HSM", "key_ops", "sign");
        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                BIGNUM *bn = NULL;
                uint8_t buf[512];
                assert_int_equal(EVP_PKEY_get_bn_param(k, m[i][1], &bn), 1);
                int n = BN_bn2bin(bn, buf);
                char *s = b64u(buf, (size_t)n);
                json_object_set_new(jwk, m[i][0], json_string(s));
                free(s);
                BN_clear_free(bn);
        }
        json_t *b = json_pack("{s:o, s:{s:b}, s:{s:s}}", "key", jwk, "attributes", "exportable", 1,
                              "release_policy", "data", p64);
        char *t = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        assert_int_equal(vt_az_key_request_parse(true, (const uint8_t *)t, strlen(t), &r, &d), 0);
        assert_int_equal(r.kty, VT_AZ_KTY_RSA);
        assert_int_equal(EVP_PKEY_eq(r.key, k), 1);
        vt_az_key_request_done(&r);
        free(t);
        EVP_PKEY_free(k);
        /* import: oct of a size Key Vault keeps */
        snprintf(body, sizeof(body),
                 "{\"key\":{\"kty\":\"oct\",\"k\":\"AAECAwQFBgcICQoLDA0ODw\"},\"attributes\":"
                 "{\"exportable\":true},\"release_policy\":{\"data\":\"%s\"}}",
                 p64);
        assert_int_equal(vt_az_key_request_parse(true, (const uint8_t *)body, strlen(body), &r, &d),
                         0);
        assert_int_equal(r.oct_len, 16);
        assert_int_equal(r.oct[15], 15);
        vt_az_key_request_done(&r);
        static const struct {
                bool import;
                const char *body, *why;
        } no[] = {
                {false, "{\"kty\":\"oct\",\"attributes\":{}}", "only exportable keys"},
                {false, "{\"kty\":\"oct\",\"attributes\":{\"exportable\":true}}",
                 "release_policy.data"},
                {true,
                 "{\"key\":{\"kty\":\"oct\",\"k\":\"AAEC\"},\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"POLICY\"}}",
                 "key.k must be base64url of 16, 24 or 32 bytes"},
                {false,
                 "{\"kty\":\"RSA\",\"key_size\":1024,\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"POLICY\"}}",
                 "RSA key_size must be"},
                {false,
                 "{\"kty\":\"EC\",\"crv\":\"P-384\",\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"POLICY\"}}",
                 "EC crv must be"},
                {false,
                 "{\"kty\":\"DSA\",\"attributes\":{\"exportable\":true},"
                 "\"release_policy\":{\"data\":\"POLICY\"}}",
                 "kty DSA is not RSA, EC or oct"},
                {false,
                 "{\"kty\":\"oct\",\"attributes\":{\"exportable\":true},\"release_policy\":"
                 "{\"data\":\"e30\"}}",
                 "release policy: $ needs \"allOf\" or \"anyOf\""},
        };
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                /* the policy where the body says POLICY */
                const char *at = strstr(no[i].body, "POLICY");
                if (at)
                        snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - no[i].body), no[i].body,
                                 p64, at + 6);
                else
                        snprintf(body, sizeof(body), "%s", no[i].body);
                vt_diag_clear(&d);
                assert_int_not_equal(vt_az_key_request_parse(no[i].import, (const uint8_t *)body,
                                                             strlen(body), &r, &d),
                                     0);
                if (!strstr(d.msg, no[i].why))
                        fail_msg("\"%s\": %s, expected ...%s...", body, d.msg, no[i].why);
        }
}

static void test_azure_request_release(void **state)
{
        (void)state;
        struct vt_az_release_request r = {0};
        struct vt_diag d = {0};
        static const char body[] = "{\"target\":\"a.b.c\",\"nonce\":\"n\",\"enc\":"
                                   "\"RSA_AES_KEY_WRAP_384\"}";
        assert_int_equal(vt_az_release_request_parse((const uint8_t *)body, strlen(body), &r, &d),
                         0);
        assert_string_equal(r.target, "a.b.c");
        assert_string_equal(r.nonce, "n");
        assert_int_equal(r.enc, VT_AZ_ENC_RSA_AES_KEY_WRAP_384);
        assert_string_equal(vt_az_enc_name(r.enc), "RSA_AES_KEY_WRAP_384");
        vt_az_release_request_done(&r);
        for (size_t n = 0; n < strlen(body); n++)
                assert_int_not_equal(vt_az_release_request_parse((const uint8_t *)body, n, &r, &d),
                                     0);
        assert_int_equal(
                vt_az_release_request_parse((const uint8_t *)"{\"target\":\"x\"}", 14, &r, &d), 0);
        assert_int_equal(r.enc, VT_AZ_ENC_CKM_RSA_AES_KEY_WRAP);
        assert_null(r.nonce);
        vt_az_release_request_done(&r);
        static const char *const no[] = {
                "{\"target\":\"x\",\"enc\":\"A256KW\"}",
                "{\"target\":\"\"}",
                "{\"target\":1}",
                "{\"enc\":\"RSA_AES_KEY_WRAP_256\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                vt_diag_clear(&d);
                assert_int_equal(
                        vt_az_release_request_parse((const uint8_t *)no[i], strlen(no[i]), &r, &d),
                        VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "the body must be {\"target\""));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_azure_request_attest),
                cmocka_unit_test(test_azure_request_keys),
                cmocka_unit_test(test_azure_request_release),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
