/* SPDX-License-Identifier: Apache-2.0 */
/* KBS protocol pieces: runtime-data binding vectors, SNP wire decoding, TEE JWKs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "attest/tee.h"
#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "evidence/snp_wire.h"
#include "kbs/rcar.h"
#include "kbs/request.h"
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
        /* parsed from its compact text with its byte arrays recorded, the arrays read from
         * the text give the same report and certificate */
        char *txt = json_dumps(ev, JSON_COMPACT);
        assert_non_null(txt);
        struct vt_json_spans sp = {0};
        json_t *parsed = NULL;
        assert_int_equal(vt_json_parse_spans((const uint8_t *)txt, strlen(txt), &parsed, &sp, &d),
                         0);
        assert_true(sp.n >= 10); /* the report's arrays and the VCEK's DER */
        struct vt_snp_wire ws;
        assert_int_equal(vt_snp_wire_decode_spans(parsed, &sp, &ws, &d), 0);
        assert_memory_equal(ws.report, w.report, VT_SNP_REPORT_SIZE);
        assert_int_equal(ws.n_certs, 1);
        assert_int_equal(ws.certs[0].len, vcek->len);
        assert_memory_equal(ws.certs[0].der, vcek->der, vcek->len);
        vt_snp_wire_done(&ws);
        vt_json_spans_done(&sp);
        json_decref(parsed);
        free(txt);
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
        /* elements that are not bytes, including those whose integer value would be 0 */
        json_t *bad[] = {json_integer(-1), json_string("0"), json_real(0.0), json_null(),
                         json_false(),     json_array(),     json_object()};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_auto_t *c4 = json_deep_copy(ev);
                json_array_set_new(
                        json_object_get(json_object_get(c4, "attestation_report"), "measurement"),
                        5, bad[i]);
                struct vt_diag d4 = {0};
                assert_int_equal(vt_snp_wire_decode(c4, &w, &d4), VT_E_FORMAT);
                assert_non_null(strstr(d4.msg, "measurement[5] is not a byte"));
        }
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

/* Trustee's VERSION_REQ is semver "=0.4.0" (kbs/src/attestation/backend.rs): build metadata
 * is ignored, a pre-release is another version, and the text must parse as SemVer. */
static void test_kbs_version_semver(void **state)
{
        (void)state;
        static const char *const ok[] = {"0.4.0", "0.4.0+abc", "0.4.0+build.7.x-y"};
        static const char *const bad[] = {"0.4.1",     "0.3.0",          "1.4.0",      "0.4",
                                          "0.4.0-rc1", "00.4.0",         "0.04.0",     "v0.4.0",
                                          " 0.4.0",    "0.4.0 ",         "0.4.0+",     "0.4.0+a..b",
                                          "0.4.0+a_b", "0.4.0.0",        "",           "0.4.0-",
                                          "0.4.00",    "0.4.0+\xc3\xa9", "0.4.0-rc1+b"};
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
                assert_true(vt_kbs_version_ok(ok[i]));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (vt_kbs_version_ok(bad[i]))
                        fail_msg("version \"%s\" accepted", bad[i]);
        }
        assert_false(vt_kbs_version_ok(NULL));
        /* every truncation of a valid version: only 0.4.0 and a non-empty build pass */
        static const char full[] = "0.4.0+abc";
        for (size_t n = 0; n <= sizeof(full) - 1; n++) {
                char buf[sizeof(full)];
                memcpy(buf, full, n);
                buf[n] = 0;
                bool want = n == 5 || n > 6;
                if (vt_kbs_version_ok(buf) != want)
                        fail_msg("truncation \"%s\": %s", buf, want ? "refused" : "accepted");
        }
}

/* The nonce an /attest returns against its session's challenge (vt_kbs_nonce_equal, compared
 * in constant time): only the very same string is equal; a change at any position, any
 * truncation, an extension, another case, NULL and the empty nonce are not. */
static void test_kbs_nonce_equal(void **state)
{
        (void)state;
        static const char want[] = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=";
        assert_true(vt_kbs_nonce_equal(want, want));
        char got[sizeof(want) + 1];
        memcpy(got, want, sizeof(want));
        assert_true(vt_kbs_nonce_equal(want, got));
        for (size_t i = 0; i < sizeof(want) - 1; i++) { /* one character changed, anywhere */
                memcpy(got, want, sizeof(want));
                got[i] = got[i] == 'A' ? 'B' : 'A';
                if (vt_kbs_nonce_equal(want, got))
                        fail_msg("nonce changed at %zu accepted", i);
        }
        for (size_t n = 0; n < sizeof(want) - 1; n++) { /* every truncation */
                memcpy(got, want, n);
                got[n] = 0;
                if (vt_kbs_nonce_equal(want, got))
                        fail_msg("truncation to %zu characters accepted", n);
        }
        memcpy(got, want, sizeof(want) - 1); /* one character more */
        got[sizeof(want) - 1] = 'A';
        got[sizeof(want)] = 0;
        assert_false(vt_kbs_nonce_equal(want, got));
        assert_false(vt_kbs_nonce_equal("QUFBQg==", "qufbqq=="));
        assert_false(vt_kbs_nonce_equal(want, NULL));
        assert_false(vt_kbs_nonce_equal(NULL, want));
        assert_false(vt_kbs_nonce_equal(NULL, NULL));
        assert_false(vt_kbs_nonce_equal("", ""));
}

/* Trustee's attestation-service unit vector (src/lib.rs, parse_runtimedata_json_binding):
 * JCS of {"b":1,"a":"test","c":{"d":"e"}} hashed with SHA-384. Inline, so that it runs
 * without the shared test data. */
static void test_kbs_jcs_sha384_upstream_vector(void **state)
{
        (void)state;
        json_auto_t *in = json_loads("{\"b\": 1, \"a\": \"test\", \"c\": {\"d\": \"e\"}}", 0, NULL);
        char *canon = NULL, hex[97];
        size_t cl;
        uint8_t dg[48];
        assert_non_null(in);
        assert_int_equal(vt_jcs_serialize(in, &canon, &cl), 0);
        assert_string_equal(canon, "{\"a\":\"test\",\"b\":1,\"c\":{\"d\":\"e\"}}");
        assert_true(EVP_Digest(canon, cl, dg, NULL, EVP_sha384(), NULL));
        vt_hex_encode(dg, 48, hex);
        assert_string_equal(hex, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c"
                                 "4597480a186427c813ca941da78870c3");
        free(canon);
}

/* kbs-types' ProtectedHeader::generate_aad vector (src/lib.rs, protected_header_generate_aad)
 * and the canonical form of other members: alg, enc, then the rest sorted, nested too,
 * compact. A change of member order or whitespace fails here. */
static void test_kbs_protected_header_aad(void **state)
{
        (void)state;
        json_auto_t *h = json_pack("{s:s, s:s}", "alg", "fakealg", "enc", "fakeenc");
        char *txt = NULL, *b64 = NULL;
        assert_int_equal(vt_jwe_protected_serialize(h, &txt), 0);
        assert_int_equal(vt_b64_encode((const uint8_t *)txt, strlen(txt), VT_B64_URL, &b64), 0);
        assert_string_equal(b64, "eyJhbGciOiJmYWtlYWxnIiwiZW5jIjoiZmFrZWVuYyJ9");
        free(txt);
        free(b64);
        json_auto_t *h2 = json_loads("{\"zz\":1,\"enc\":\"B\",\"epk\":{\"y\":\"1\",\"x\":\"2\","
                                     "\"crv\":\"P-256\",\"kty\":\"EC\"},\"alg\":\"A\",\"a\":[2,1]}",
                                     JSON_PRESERVE_ORDER, NULL);
        assert_int_equal(vt_jwe_protected_serialize(h2, &txt), 0);
        assert_string_equal(txt, "{\"alg\":\"A\",\"enc\":\"B\",\"a\":[2,1],\"epk\":{\"crv\":\"P-"
                                 "256\",\"kty\":\"EC\",\"x\":\"2\",\"y\":\"1\"},\"zz\":1}");
        free(txt);
        json_auto_t *h3 = json_pack("{s:s}", "alg", "A");
        assert_int_equal(vt_jwe_protected_serialize(h3, &txt), VT_E_INVAL);
}

/* The guest's reading (guest-components kbs_protocol keypair.rs decrypt_response): parse
 * the protected header, re-serialise it (kbs-types: alg, enc, then serde_json's Map, which
 * is key order, or received order with preserve_order) and use that as the AAD. Both
 * readings must give back the bytes veriteed sent, for EC and RSA recipients. */
static void test_kbs_jwe_guest_reserialised_aad(void **state)
{
        (void)state;
        EVP_PKEY *keys[2] = {EVP_EC_gen("P-256"), EVP_RSA_gen(2048)};
        for (int k = 0; k < 2; k++) {
                json_t *jwk = NULL;
                assert_non_null(keys[k]);
                assert_int_equal(vt_jwk_from_pkey(keys[k], VT_JWK_ALG_LAST,
                                                  k ? "RSA-OAEP-256" : "ECDH-ES+A256KW", &jwk),
                                 0);
                json_t *jwe = NULL;
                struct vt_diag d = {0};
                assert_int_equal(vt_jwe_encrypt(jwk, (const uint8_t *)"s3cret", 6, &jwe, &d), 0);
                const char *prot = json_string_value(json_object_get(jwe, "protected"));
                uint8_t *raw = NULL;
                size_t rl = 0;
                assert_int_equal(vt_b64_decode(prot, strlen(prot), VT_B64_URL, 8192, &raw, &rl), 0);
                char *sent = strndup((const char *)raw, rl);
                /* serde_json without preserve_order: alg, enc, then the rest in key order */
                json_auto_t *parsed = json_loads(sent, 0, NULL);
                assert_non_null(parsed);
                json_auto_t *rest = json_deep_copy(parsed);
                json_object_del(rest, "alg");
                json_object_del(rest, "enc");
                char *r = json_dumps(rest, JSON_COMPACT | JSON_SORT_KEYS);
                char guest[4096];
                snprintf(guest, sizeof(guest), "{\"alg\":\"%s\",\"enc\":\"%s\"%s%s",
                         json_string_value(json_object_get(parsed, "alg")),
                         json_string_value(json_object_get(parsed, "enc")),
                         strlen(r) > 2 ? "," : "}", strlen(r) > 2 ? r + 1 : "");
                assert_string_equal(guest, sent);
                /* with preserve_order: the received order, which must be the same */
                json_auto_t *ordered = json_loads(sent, JSON_PRESERVE_ORDER, NULL);
                char *o = json_dumps(ordered, JSON_COMPACT | JSON_PRESERVE_ORDER);
                assert_string_equal(o, sent);
                const char *want = k ? "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}"
                                     : "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\","
                                       "\"epk\":{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":";
                assert_int_equal(strncmp(sent, want, strlen(want)), 0);
                /* decrypt with the guest's AAD in place of the received string */
                char *aad = NULL;
                assert_int_equal(
                        vt_b64_encode((const uint8_t *)guest, strlen(guest), VT_B64_URL, &aad), 0);
                json_object_set_new(jwe, "protected", json_string(aad));
                uint8_t *pt = NULL;
                size_t pl = 0;
                assert_int_equal(vt_jwe_decrypt(keys[k], jwe, &pt, &pl, &d), 0);
                assert_int_equal(pl, 6);
                assert_memory_equal(pt, "s3cret", 6);
                free(pt);
                free(aad);
                free(o);
                free(r);
                free(sent);
                free(raw);
                json_decref(jwe);
                json_decref(jwk);
                EVP_PKEY_free(keys[k]);
        }
}

/* init-data as Trustee's attestation service reads it: any version string, kbs-types'
 * hash algorithms, and "policy.rego" turned into agent_policy_claims. */
static void check_initdata(const char *alg, const char *version, const char *extra,
                           const char *ossl_md, int want)
{
        char toml[2048];
        snprintf(toml, sizeof(toml),
                 "version = \"%s\"\nalgorithm = \"%s\"\n[data]\n\"aa.toml\" = '''\n"
                 "[token_configs]\n'''\n%s",
                 version, alg, extra);
        json_auto_t *init = json_pack("{s:s, s:s}", "format", "toml", "body", toml);
        uint8_t field[48] = {0}, dg[64];
        unsigned dl = 0;
        if (ossl_md) {
                EVP_MD *md = EVP_MD_fetch(NULL, ossl_md, NULL);
                assert_non_null(md);
                assert_true(EVP_Digest(toml, strlen(toml), dg, &dl, md, NULL));
                EVP_MD_free(md);
                memcpy(field, dg, dl < 48 ? dl : 48);
        }
        char *hex = NULL;
        json_t *claims = NULL;
        struct vt_diag d = {0};
        int e = vt_initdata_check(init, field, 48, &hex, &claims, &d);
        if (e != want)
                fail_msg("init-data %s/%s: got %d (%s), want %d", alg, version, e, d.msg, want);
        if (e == 0) {
                assert_int_equal(strlen(hex), 2 * dl);
                assert_non_null(
                        json_object_get(json_object_get(claims, "aa.toml"), "token_configs"));
                if (strstr(extra, "containers")) {
                        json_t *apc = json_object_get(claims, "agent_policy_claims");
                        json_t *c0 = json_array_get(json_object_get(apc, "containers"), 0);
                        assert_null(json_object_get(claims, "policy.rego"));
                        assert_string_equal(json_string_value(json_object_get(c0, "image")),
                                            "busybox");
                } else if (extra[0]) {
                        assert_non_null(json_object_get(claims, "policy.rego"));
                        assert_null(json_object_get(claims, "agent_policy_claims"));
                }
        }
        free(hex);
        json_decref(claims);
}

static void test_kbs_initdata_trustee(void **state)
{
        (void)state;
        static const char pol[] = "\"policy.rego\" = '''\npackage agent_policy\ndefault "
                                  "CreateContainerRequest := false\npolicy_data := {\n  "
                                  "\"containers\": [{\"image\": \"busybox\"}]\n}\n'''\n";
        /* text after the JSON: Trustee keeps policy.rego as it is */
        static const char pol_bad[] = "\"policy.rego\" = '''\npackage agent_policy\npolicy_data "
                                      ":= {\"x\": 1}\nmore := 2\n'''\n";
        check_initdata("sha256", "0.1.0", "", "SHA256", 0);
        check_initdata("sha384", "0.2.0", pol, "SHA384", 0);
        check_initdata("sha512", "anything", pol_bad, "SHA512", 0);
        check_initdata("SHA384", "0.1.0", "", NULL, VT_E_FORMAT); /* serde: lowercase only */
        check_initdata("md5", "0.1.0", "", NULL, VT_E_FORMAT);
        EVP_MD *sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
        if (sm3) {
                EVP_MD_free(sm3);
                check_initdata("sm3", "0.1.0", "", "SM3", 0);
        } else {
                ERR_clear_error();
                print_message("sm3 case skipped: this OpenSSL has no SM3\n");
                check_initdata("sm3", "0.1.0", "", NULL, VT_E_UNSUPPORTED);
        }
        /* version must still be a string */
        json_auto_t *init = json_pack("{s:s, s:s}", "format", "toml", "body",
                                      "version = 1\nalgorithm = \"sha256\"\n");
        char *hex = NULL;
        json_t *claims = NULL;
        uint8_t field[32] = {0};
        assert_int_equal(vt_initdata_check(init, field, 32, &hex, &claims, NULL), VT_E_FORMAT);
}

/* limits.max_evidence_bytes holds the compact JSON text of tee-evidence to its length
 * exactly (the server counts it without writing it where it can): at the length it passes,
 * one byte under it is refused, for evidence of every JSON type, with escapes, reals,
 * multi-byte UTF-8 and extreme integers. */
static void test_kbs_evidence_limit_exact(void **state)
{
        (void)state;
        static const char *const evidence[] = {
                "{\"primary_evidence\":{\"a\":[1,-2,0,10,-10,9223372036854775807,"
                "-9223372036854775808],\"b\":\"plain\",\"c\":[],\"d\":{}},"
                "\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":[true,false,null,\"caf\\u00e9 \\u2028\"],"
                "\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":\"q\\\"b\\\\ \\n\\u0001\",\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":[1e5,0.5,-1.25e-7],\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":{\"k\\\"ey\":1},\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":{\"x\":[[[[1]]],{\"y\":{\"z\":[\"\"]}}]},"
                "\"additional_evidence\":\"{\\\"gpu\\\":1}\"}",
        };
        json_auto_t *jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
                                     "AOtj4h6FfW0wBdVqRNApseCZnvLy1CIH_FhOXe06NqU", "y",
                                     "ifNCo0yxSTFGZKIZKvfx9-YM76A2i0EDmCunavmNZFs");
        for (size_t i = 0; i < ELEMENTSOF(evidence); i++) {
                json_t *te = json_loads(evidence[i], 0, NULL);
                assert_non_null(te);
                json_auto_t *body = json_pack("{s:{s:s, s:O}, s:o}", "runtime-data", "nonce", "n",
                                              "tee-pubkey", jwk, "tee-evidence", te);
                char *txt = json_dumps(te, JSON_COMPACT);
                size_t len = strlen(txt);
                free(txt);
                struct vt_kbs_attest ab;
                struct vt_diag d = {0};
                if (vt_kbs_attest_read(body, NULL, 0, len, &ab, &d) != 0)
                        fail_msg("case %zu: refused at its length %zu: %s", i, len, d.msg);
                vt_diag_clear(&d);
                if (vt_kbs_attest_read(body, NULL, 0, len - 1, &ab, &d) != VT_E_LIMIT)
                        fail_msg("case %zu: passed one byte under its length %zu", i, len);
                assert_non_null(strstr(d.msg, "tee-evidence larger than"));
                assert_int_equal(vt_kbs_attest_read(body, NULL, 0, len / 2, &ab, NULL), VT_E_LIMIT);
        }
}

/* With the body's raw text given, the server skips counting evidence that cannot be over
 * the limit (a body within it and with no real number); the answer is the same as the full
 * count's at every limit around the raw and the compact length: for raw text with spaces
 * and escapes that compact output shortens, for reals that it lengthens (0.1 is written
 * 0.10000000000000001, 1E2 as 100.0), and for 'e' inside strings and literals. */
static void test_kbs_evidence_limit_raw(void **state)
{
        (void)state;
        static const char *const tee[] = {
                "{ \"primary_evidence\" : [ 1 , 2 , 3 ] , \"additional_evidence\" : \"\" }",
                "{\"primary_evidence\":\"\\u00e9\\u00e9\\/\",\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":[0.1,0.2],\"additional_evidence\":\"\"}",
                /* forty reals, each written 16 bytes longer: past the whole raw body */
                "{\"primary_evidence\":[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0."
                "1,"
                "0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0."
                "1,0.1,0.1,0.1,0.1],\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":[1E2],\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":[true,false,\"1e5\",\"x.y\"],\"additional_evidence\":\"\"}",
                "{\"primary_evidence\":[\"\\\"1e\",-0],\"additional_evidence\":\"\"}",
                /* the reals that grow most: 3 or 4 bytes each, 19 to 21 written */
                ("{\"primary_evidence\":[0.1,0.3,0.7,1e-7,-0.1,9e-7,0.1,0.3,0.7,0.9,0.1,0.3,0.7,"
                 "0.9,0.1,0.3,0.7,0.9],\"additional_evidence\":\"\"}"),
        };
        for (size_t i = 0; i < ELEMENTSOF(tee); i++) {
                char raw[1024];
                int n = snprintf(
                        raw, sizeof(raw),
                        "{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{\"kty\":\"EC\","
                        "\"crv\":\"P-256\",\"x\":\"AOtj4h6FfW0wBdVqRNApseCZnvLy1CIH_FhOXe06NqU\","
                        "\"y\":\"ifNCo0yxSTFGZKIZKvfx9-YM76A2i0EDmCunavmNZFs\"}},"
                        "\"tee-evidence\":%s}",
                        tee[i]);
                assert_true(n > 0 && (size_t)n < sizeof(raw));
                json_auto_t *body = json_loads(raw, JSON_REJECT_DUPLICATES, NULL);
                assert_non_null(body);
                char *txt = json_dumps(json_object_get(body, "tee-evidence"), JSON_COMPACT);
                size_t clen = strlen(txt);
                free(txt);
                /* reals or not, the compact text is at most 8 times the raw text's
                 * length: from raw_len <= limit / 8 on, nothing is counted */
                assert_true(clen <= 8 * (size_t)n);
                size_t marks[] = {clen - 1,          clen,          clen + 1,
                                  (size_t)n - 1,     (size_t)n,     (size_t)n + 1,
                                  8 * (size_t)n - 1, 8 * (size_t)n, 8 * (size_t)n + 1};
                for (size_t k = 0; k < ELEMENTSOF(marks); k++) {
                        struct vt_kbs_attest ab;
                        int with = vt_kbs_attest_read(body, (const uint8_t *)raw, (size_t)n,
                                                      marks[k], &ab, NULL);
                        int without = vt_kbs_attest_read(body, NULL, 0, marks[k], &ab, NULL);
                        if (with != without || (with == 0) != (clen <= marks[k]))
                                fail_msg("case %zu, limit %zu (compact %zu, raw %d): %d with the "
                                         "raw text, %d without",
                                         i, marks[k], clen, n, with, without);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kbs_binding_vectors),
                cmocka_unit_test(test_kbs_device_binding_vector),
                cmocka_unit_test(test_kbs_snp_wire_fixture),
                cmocka_unit_test(test_kbs_snp_wire_rejects),
                cmocka_unit_test(test_kbs_jwk),
                cmocka_unit_test(test_kbs_version_semver),
                cmocka_unit_test(test_kbs_nonce_equal),
                cmocka_unit_test(test_kbs_jcs_sha384_upstream_vector),
                cmocka_unit_test(test_kbs_protected_header_aad),
                cmocka_unit_test(test_kbs_jwe_guest_reserialised_aad),
                cmocka_unit_test(test_kbs_initdata_trustee),
                cmocka_unit_test(test_kbs_evidence_limit_exact),
                cmocka_unit_test(test_kbs_evidence_limit_raw),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
