/* SPDX-License-Identifier: Apache-2.0 */
/* KBS protocol pieces: runtime-data binding vectors, SNP wire decoding, TEE JWKs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "crypto/jwk.h"
#include "evidence/snp_wire.h"
#include "kbs/rcar.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "util/json.h"

static json_t *load_json_vector(const char *rel)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        json_t *j = json_loadb((const char *)b, n, 0, NULL);
        free(b);
        assert_non_null(j);
        return j;
}

/* The derived RCAR vector and the Trustee AS unit vector. */
static void test_kbs_binding_vectors(void **state)
{
        json_auto_t *v = load_json_vector("kbs/derived/rcar-binding-and-jwe-vectors.json");
        json_t *b = json_object_get(v, "runtime_data_binding");
        uint8_t dg[48];
        char hex[97];
        assert_int_equal(
                vt_kbs_runtime_binding(json_string_value(json_object_get(b, "challenge_nonce")),
                                       json_object_get(b, "tee_pubkey_jwk"), "", dg),
                0);
        vt_hex_encode(dg, 48, hex);
        assert_string_equal(hex, json_string_value(json_object_get(b, "sha384_hex")));
        /* the canonical text itself */
        char *canon = NULL;
        size_t cl;
        assert_int_equal(
                vt_jcs_serialize(json_object_get(b, "hashed_object_before_canonicalization"),
                                 &canon, &cl),
                0);
        assert_string_equal(canon, json_string_value(json_object_get(b, "jcs_canonical_json")));
        free(canon);
        /* padded to 64 bytes for SNP/TDX */
        char pad[129];
        uint8_t rd[64] = {0};
        memcpy(rd, dg, 48);
        vt_hex_encode(rd, 64, pad);
        assert_string_equal(pad, json_string_value(json_object_get(
                                         b, "report_data_64byte_padded_hex_for_snp_tdx")));
        /* the AS unit vector */
        json_t *as = json_object_get(v, "as_unit_vector_lib_rs");
        assert_int_equal(vt_jcs_serialize(json_object_get(as, "input"), &canon, &cl), 0);
        assert_string_equal(canon, json_string_value(json_object_get(as, "jcs")));
        assert_true(EVP_Digest(canon, cl, dg, NULL, EVP_sha384(), NULL));
        vt_hex_encode(dg, 48, hex);
        assert_string_equal(hex, json_string_value(json_object_get(as, "sha384_hex")));
        free(canon);
}

/* The device binding (issue 15, composite attestation): GPUs sign SHA-384(JCS({"nonce",
 * "tee-pubkey"})) -- without "additional-evidence". The expected digests were computed
 * independently when this test was written: python3 json.dumps(sort_keys=True,
 * separators=(",", ":")) (JCS for this all-ASCII input) and hashlib.sha384. */
static void test_kbs_device_binding_vector(void **state)
{
        (void)state;
        json_auto_t *jwk =
                json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "alg",
                          "ECDH-ES+A256KW", "x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y",
                          "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
        const char *nonce = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=";
        uint8_t dg[48], rd[48];
        char hex[97];
        assert_int_equal(vt_kbs_device_binding(nonce, jwk, dg), 0);
        vt_hex_encode(dg, 48, hex);
        assert_string_equal(hex, "a60f379a323a47a9d311ca6a573420f5b41d58b33e80315b4716c875596a9b37"
                                 "80b66a00120fe17143faa126c1a1c789");
        /* the CPU's binding of the same data has "additional-evidence": "" and differs */
        assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, "", rd), 0);
        vt_hex_encode(rd, 48, hex);
        assert_string_equal(hex, "8e6fa4507720577c951ec08dd0908396e1d573f0b68daff28323531e1ff1b288"
                                 "1582a6dbd86891ae58408b068c266b63");
}

/* Trustee's SNP wire evidence decodes to the exact signed bytes: its own VCEK verifies them. */
static void test_kbs_snp_wire_fixture(void **state)
{
        json_auto_t *ev = load_json_vector("kbs/trustee/snp/snp-evidence-wire.json");
        struct vt_snp_wire w;
        struct vt_diag d = {0};
        assert_int_equal(vt_snp_wire_decode(ev, &w, &d), 0);
        assert_int_equal(w.n_certs, 1);
        const struct vt_snp_wire_cert *vcek = vt_snp_wire_find(&w, "VCEK");
        assert_non_null(vcek);
        struct vt_snp_verifier *v = NULL;
        struct vt_snp_result res;
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        struct vt_snp_verify_opts o = {.leaf = vcek->der, .leaf_len = vcek->len};
        int e = vt_snp_verify(v, w.report, sizeof(w.report), &o, &res, &d);
        if (e)
                fail_msg("%s", d.msg);
        assert_int_equal(res.product, VT_SNP_PRODUCT_GENOA);
        char hex[129];
        vt_hex_encode(res.report.report_data, 4, hex);
        assert_string_equal(hex, "7e732088");
        /* and it is the same report as the raw e2e vector */
        size_t n;
        uint8_t *raw = vt_test_load_vector("snp/trustee/e2e-report-genoa-siena.bin", &n);
        assert_int_equal(n, VT_SNP_REPORT_SIZE);
        assert_memory_equal(raw, w.report, n);
        free(raw);
        /* encode -> decode round trip gives the same JSON meaning and bytes */
        json_t *again = NULL;
        assert_int_equal(vt_snp_wire_encode(w.report, w.certs, w.n_certs, &again), 0);
        struct vt_snp_wire w2;
        assert_int_equal(vt_snp_wire_decode(again, &w2, NULL), 0);
        assert_memory_equal(w.report, w2.report, VT_SNP_REPORT_SIZE);
        assert_int_equal(w2.certs[0].len, vcek->len);
        vt_snp_wire_done(&w2);
        json_decref(again);
        vt_snp_wire_done(&w);
        vt_snp_verifier_free(v);
}

static void test_kbs_snp_wire_rejects(void **state)
{
        json_auto_t *ev = load_json_vector("kbs/trustee/snp/snp-evidence-wire.json");
        json_t *rep = json_object_get(ev, "attestation_report");
        struct vt_snp_wire w;
        static const char *const fields[] = {"version",     "policy",   "measurement",
                                             "report_data", "chip_id",  "reported_tcb",
                                             "current",     "signature"};
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                json_auto_t *copy = json_deep_copy(ev);
                json_t *r = json_object_get(copy, "attestation_report");
                struct vt_diag d = {0};
                /* missing */
                json_object_del(r, fields[i]);
                assert_int_not_equal(vt_snp_wire_decode(copy, &w, &d), 0);
                assert_non_null(strstr(d.msg, "snp evidence"));
                /* wrong type */
                json_object_set_new(r, fields[i], json_string("x"));
                assert_int_not_equal(vt_snp_wire_decode(copy, &w, NULL), 0);
        }
        /* a byte out of range, an array of the wrong length */
        json_auto_t *c2 = json_deep_copy(ev);
        json_array_set_new(
                json_object_get(json_object_get(c2, "attestation_report"), "measurement"), 0,
                json_integer(256));
        assert_int_equal(vt_snp_wire_decode(c2, &w, NULL), VT_E_FORMAT);
        json_array_append_new(
                json_object_get(json_object_get(c2, "attestation_report"), "report_data"),
                json_integer(0));
        assert_int_equal(vt_snp_wire_decode(c2, &w, NULL), VT_E_FORMAT);
        (void)rep;
        /* too many certificates */
        json_auto_t *c3 = json_deep_copy(ev);
        json_t *chain = json_object_get(c3, "cert_chain");
        for (int i = 0; i < 8; i++)
                json_array_append(chain, json_array_get(chain, 0));
        assert_int_equal(vt_snp_wire_decode(c3, &w, NULL), VT_E_FORMAT);
        assert_int_equal(vt_snp_wire_decode(json_array_get(chain, 0), &w, NULL), VT_E_FORMAT);
}

static void test_kbs_jwk(void **state)
{
        static const struct {
                const char *jwk;
                int ok;
        } cases[] = {
                {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":"
                 "\"AOtj4h6FfW0wBdVqRNApseCZnvLy1CIH_FhOXe06NqU\","
                 "\"y\":\"ifNCo0yxSTFGZKIZKvfx9-YM76A2i0EDmCunavmNZFs\"}",
                 1},
                /* y changed: not on the curve */
                {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AOtj4h6FfW0wBdVqRNApseCZnvLy1CIH_"
                 "FhOXe06NqU\","
                 "\"y\":\"ifNCo0yxSTFGZKIZKvfx9-YM76A2i0EDmCunavmNZFA\"}",
                 0},
                {"{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}", 0},
                {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AOtj\",\"y\":\"ifNC\"}", 0},
                {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AOtj4h6FfW0wBdVqRNApseCZnvLy1CIH_"
                 "FhOXe06NqU\","
                 "\"y\":\"ifNCo0yxSTFGZKIZKvfx9-YM76A2i0EDmCunavmNZFs\",\"d\":"
                 "\"d1bVtCntC4plQfG3DoPc3ek95AfFi87Rx4xTNaTK5Ns\"}",
                 0},
                {"{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"RSA-OAEP-256\",\"x\":"
                 "\"AOtj4h6FfW0wBdVqRNApseCZnvLy1CIH_FhOXe06NqU\","
                 "\"y\":\"ifNCo0yxSTFGZKIZKvfx9-YM76A2i0EDmCunavmNZFs\"}",
                 0},
                {"{\"kty\":\"oct\",\"k\":\"AAAA\"}", 0},
                {"{\"crv\":\"P-256\"}", 0},
                {"[]", 0},
                {"{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_auto_t *j = json_loads(cases[i].jwk, 0, NULL);
                struct vt_diag d = {0};
                int e = vt_jwk_to_pkey(j, NULL, &d);
                if ((e == 0) != cases[i].ok)
                        fail_msg("case %zu: got %d (%s)", i, e, d.msg);
                if (!cases[i].ok)
                        assert_non_null(strstr(d.msg, "jwk"));
        }
        /* generated keys: P-521 and RSA-2048 */
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        assert_non_null(k);
        BIGNUM *n = NULL, *e = NULL;
        assert_true(EVP_PKEY_get_bn_param(k, "n", &n) && EVP_PKEY_get_bn_param(k, "e", &e));
        uint8_t nb[256], eb[3];
        assert_int_equal(BN_bn2binpad(n, nb, 256), 256);
        assert_int_equal(BN_bn2binpad(e, eb, 3), 3);
        char *n64 = NULL, *e64 = NULL;
        assert_int_equal(vt_b64_encode(nb, 256, VT_B64_URL, &n64), 0);
        assert_int_equal(vt_b64_encode(eb, 3, VT_B64_URL, &e64), 0);
        json_auto_t *rsa = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "alg", "RSA-OAEP-256",
                                     "n", n64, "e", e64);
        EVP_PKEY *back = NULL;
        assert_int_equal(vt_jwk_to_pkey(rsa, &back, NULL), 0);
        assert_true(EVP_PKEY_eq(k, back) == 1);
        EVP_PKEY_free(back);
        free(n64);
        free(e64);
        BN_free(n);
        BN_free(e);
        EVP_PKEY_free(k);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kbs_binding_vectors),
                cmocka_unit_test(test_kbs_device_binding_vector),
                cmocka_unit_test(test_kbs_snp_wire_fixture),
                cmocka_unit_test(test_kbs_snp_wire_rejects),
                cmocka_unit_test(test_kbs_jwk),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
