/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

static const char *mode_name(enum vt_b64 mode)
{
        return mode == VT_B64_STD ? "std" : "url";
}

static void check_encode(enum vt_b64 mode, const char *in, const char *want)
{
        _cleanup_free_ char *s = NULL;
        _cleanup_free_ char *t = NULL;
        assert_int_equal(vt_b64_encode((const uint8_t *)in, strlen(in), mode, &s), 0);
        assert_string_equal(s, want);
        assert_int_equal(vt_b64_encode_public((const uint8_t *)in, strlen(in), mode, &t), 0);
        assert_string_equal(t, want);
}

static void check_decode(enum vt_b64 mode, const char *in, const char *want)
{
        _cleanup_free_ uint8_t *p = NULL;
        size_t n = 99;
        assert_int_equal(vt_b64_decode(in, strlen(in), mode, 1024, &p, &n), 0);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(p, want, n);
        assert_int_equal(p[n], 0);
}

/* check_bad expects err for in, and *ret left alone. */
static void check_bad(enum vt_b64 mode, const char *in, size_t len, int err)
{
        uint8_t *p = (uint8_t *)"untouched";
        size_t n = 99;
        int e = vt_b64_decode(in, len, mode, 1024, &p, &n);
        if (e != err)
                fail_msg("%s decode of \"%.*s\" returned %d, expected %d", mode_name(mode),
                         (int)len, in, e, err);
        assert_string_equal((const char *)p, "untouched");
        assert_int_equal(n, 99);
}

/* RFC 4648 section 10 */
static void test_b64_rfc4648_vectors(void **state)
{
        static const char *const v[][3] = {
                {"", "", ""},
                {"f", "Zg==", "Zg"},
                {"fo", "Zm8=", "Zm8"},
                {"foo", "Zm9v", "Zm9v"},
                {"foob", "Zm9vYg==", "Zm9vYg"},
                {"fooba", "Zm9vYmE=", "Zm9vYmE"},
                {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
        };
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                check_encode(VT_B64_STD, v[i][0], v[i][1]);
                check_encode(VT_B64_URL, v[i][0], v[i][2]);
                check_decode(VT_B64_STD, v[i][1], v[i][0]);
                check_decode(VT_B64_URL, v[i][2], v[i][0]);
        }
}

/* The two characters where the alphabets differ. */
static void test_b64_alphabets(void **state)
{
        check_encode(VT_B64_STD, "\xfb\xff", "+/8=");
        check_encode(VT_B64_URL, "\xfb\xff", "-_8");
        check_encode(VT_B64_STD, "\xff\xff\xfe", "///+");
        check_encode(VT_B64_URL, "\xff\xff\xfe", "___-");
        check_decode(VT_B64_STD, "+/8=", "\xfb\xff");
        check_decode(VT_B64_URL, "-_8", "\xfb\xff");
        check_bad(VT_B64_STD, "-_8=", 4, VT_E_FORMAT);
        check_bad(VT_B64_URL, "+/8", 3, VT_E_FORMAT);
        check_bad(VT_B64_STD, "+_8=", 4, VT_E_FORMAT); /* mixed */
        check_bad(VT_B64_URL, "-/8", 3, VT_E_FORMAT);
        check_bad(VT_B64_URL, "___+", 4, VT_E_FORMAT);

        /* every byte value in every position */
        uint8_t all[256];
        for (size_t i = 0; i < sizeof(all); i++)
                all[i] = (uint8_t)i;
        for (int m = VT_B64_STD; m <= VT_B64_URL; m++) {
                _cleanup_free_ char *s = NULL;
                _cleanup_free_ uint8_t *p = NULL;
                size_t n;
                assert_int_equal(vt_b64_encode(all, sizeof(all), (enum vt_b64)m, &s), 0);
                assert_int_equal(vt_b64_decode(s, strlen(s), (enum vt_b64)m, 256, &p, &n), 0);
                assert_int_equal(n, sizeof(all));
                assert_memory_equal(p, all, n);
        }
}

/* The table encoder (public data) writes exactly what the constant-time one writes: every
 * byte value in every position of a group, every length of a tail, both alphabets. */
static void test_b64_public_same(void **state)
{
        (void)state;
        uint8_t in[3 * 256 + 2];
        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t)(i % 3 == 0 ? i / 3 : i % 3 == 1 ? 255 - i / 3 : i * 89);
        for (int m = VT_B64_STD; m <= VT_B64_URL; m++)
                for (size_t len = 0; len <= sizeof(in);
                     len = len < 16 || len == sizeof(in) ? len + 1 : sizeof(in)) {
                        _cleanup_free_ char *a = NULL, *b = NULL;
                        assert_int_equal(vt_b64_encode(in, len, (enum vt_b64)m, &a), 0);
                        assert_int_equal(vt_b64_encode_public(in, len, (enum vt_b64)m, &b), 0);
                        assert_string_equal(a, b);
                }
        char *s = NULL;
        assert_int_equal(vt_b64_encode_public(NULL, 1, VT_B64_URL, &s), VT_E_INVAL);
        assert_int_equal(vt_b64_encode_public(in, 1, (enum vt_b64)7, &s), VT_E_INVAL);
        assert_null(s);
}

static void test_b64_roundtrip_lengths(void **state)
{
        uint8_t in[64];
        for (size_t len = 0; len <= sizeof(in); len++) {
                for (size_t i = 0; i < len; i++)
                        in[i] = (uint8_t)(i * 151 + len * 29 + 7);
                for (int m = VT_B64_STD; m <= VT_B64_URL; m++) {
                        _cleanup_free_ char *s = NULL;
                        _cleanup_free_ uint8_t *p = NULL;
                        size_t n = 99;
                        size_t want = m == VT_B64_STD ? (len + 2) / 3 * 4 : (len * 4 + 2) / 3;
                        assert_int_equal(vt_b64_encode(in, len, (enum vt_b64)m, &s), 0);
                        assert_int_equal(strlen(s), want);
                        assert_int_equal(vt_b64_decode(s, strlen(s), (enum vt_b64)m, len, &p, &n),
                                         0);
                        assert_int_equal(n, len);
                        assert_memory_equal(p, in, len);
                        assert_int_equal(p[len], 0);
                        /* one byte less room than needed */
                        if (len > 0) {
                                uint8_t *q = NULL;
                                assert_int_equal(vt_b64_decode(s, strlen(s), (enum vt_b64)m,
                                                               len - 1, &q, &n),
                                                 VT_E_LIMIT);
                                assert_null(q);
                        }
                }
        }
}

static void test_b64_rejects(void **state)
{
        /* length: 1 mod 4 never decodes; std needs whole groups */
        check_bad(VT_B64_STD, "Z", 1, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Z", 1, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zm9vY", 5, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zm9vY", 5, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zg", 2, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zm8", 3, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zg=", 3, VT_E_FORMAT);
        /* padding */
        check_bad(VT_B64_STD, "Z===", 4, VT_E_FORMAT);
        check_bad(VT_B64_STD, "====", 4, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zm9v====", 8, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zg==Zg==", 8, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zm8=Zm9v", 8, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Z=g=", 4, VT_E_FORMAT);
        check_bad(VT_B64_STD, "=Zm8", 4, VT_E_FORMAT);
        /* '=' in url mode, anywhere */
        check_bad(VT_B64_URL, "Zg==", 4, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zm8=", 4, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zg=", 3, VT_E_FORMAT);
        check_bad(VT_B64_URL, "=Zm9", 4, VT_E_FORMAT);
        /* non-zero trailing bits: "QR==" and "QUJ=" would also mean "A" and "AB" */
        check_bad(VT_B64_STD, "QR==", 4, VT_E_FORMAT);
        check_bad(VT_B64_STD, "QUJ=", 4, VT_E_FORMAT);
        check_bad(VT_B64_URL, "QR", 2, VT_E_FORMAT);
        check_bad(VT_B64_URL, "QUJ", 3, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zm9vYh==", 8, VT_E_FORMAT);
        check_decode(VT_B64_STD, "QQ==", "A");
        check_decode(VT_B64_STD, "QUI=", "AB");
        /* whitespace and other bytes */
        check_bad(VT_B64_STD, "Zm9v Zm9v", 9, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zm9v\nZm8=", 9, VT_E_FORMAT);
        check_bad(VT_B64_STD, "Zm9v\r\n", 6, VT_E_FORMAT);
        check_bad(VT_B64_URL, " Zm9v", 5, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zm9v\t", 5, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zm.v", 4, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zm9\x80", 4, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zm9\xff", 4, VT_E_FORMAT);
        check_bad(VT_B64_URL, "Zm\0v", 4, VT_E_FORMAT);
        /* len, not the NUL, bounds the input */
        check_decode(VT_B64_URL, "Zm9v", "foo");
        {
                _cleanup_free_ uint8_t *p = NULL;
                size_t n;
                assert_int_equal(vt_b64_decode("Zm9vYmFy", 4, VT_B64_URL, 16, &p, &n), 0);
                assert_int_equal(n, 3);
        }
}

/* Exhaustively: a short url string decodes exactly when it is the encoding of its
 * decoding; and std groups with padding likewise. */
static void test_b64_canonical_exhaustive(void **state)
{
        static const char sym[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/";
        const size_t ns = sizeof(sym) - 1;
        size_t ok = 0;

        for (size_t a = 0; a < ns; a++)
                for (size_t b = 0; b < ns; b++)
                        for (size_t c = 0; c < ns; c++) {
                                char in[5] = {sym[a], sym[b], sym[c], '=', 0};
                                for (int m = VT_B64_STD; m <= VT_B64_URL; m++) {
                                        size_t len = m == VT_B64_STD ? 4 : 3;
                                        _cleanup_free_ uint8_t *p = NULL;
                                        _cleanup_free_ char *s = NULL;
                                        size_t n;
                                        if (vt_b64_decode(in, len, (enum vt_b64)m, 8, &p, &n) < 0)
                                                continue;
                                        assert_int_equal(vt_b64_encode(p, n, (enum vt_b64)m, &s),
                                                         0);
                                        assert_int_equal(strlen(s), len);
                                        assert_memory_equal(s, in, len);
                                        ok++;
                                }
                        }
        /* two bytes: 64*64*16 strings per mode (the third character has its low 2 bits
         * clear); one byte, std "xx==" only: 64*4 (low 4 bits of the second clear);
         * url "xx=" holds '=' and never decodes */
        assert_int_equal(ok, 2 * 64 * 64 * 16 + 64 * 4);
}

static void test_b64_args(void **state)
{
        char *s = NULL;
        uint8_t *p = NULL;
        size_t n;

        assert_int_equal(vt_b64_encode(NULL, 0, VT_B64_STD, &s), 0);
        assert_string_equal(s, "");
        free(s);
        s = NULL;
        assert_int_equal(vt_b64_decode(NULL, 0, VT_B64_URL, 0, &p, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(p[0], 0);
        free(p);
        p = NULL;
        assert_int_equal(vt_b64_encode(NULL, 1, VT_B64_STD, &s), VT_E_INVAL);
        assert_int_equal(vt_b64_encode((const uint8_t *)"a", 1, (enum vt_b64)7, &s), VT_E_INVAL);
        assert_int_equal(vt_b64_decode(NULL, 4, VT_B64_STD, 8, &p, &n), VT_E_INVAL);
        assert_int_equal(vt_b64_decode("Zg==", 4, (enum vt_b64)7, 8, &p, &n), VT_E_INVAL);
        assert_null(s);
        assert_null(p);
        /* max 0 allows only the empty string */
        assert_int_equal(vt_b64_decode("Zg", 2, VT_B64_URL, 0, &p, &n), VT_E_LIMIT);
}

/* The base64 fields of the derived KBS vectors: report_data is the std base64 of the
 * SHA-384 binding digest, and the JWK coordinates are 32-byte base64url. */
static void test_b64_kbs_vectors(void **state)
{
        size_t len;
        _cleanup_free_ uint8_t *raw =
                vt_test_load_vector("kbs/derived/rcar-binding-and-jwe-vectors.json", &len);
        _cleanup_json_ json_t *j = json_loadb((const char *)raw, len, 0, NULL);
        assert_non_null(j);
        json_t *rb = json_object_get(j, "runtime_data_binding");
        const char *rd =
                json_string_value(json_object_get(rb, "report_data_sample_evidence_b64std"));
        const char *hx = json_string_value(json_object_get(rb, "sha384_hex"));
        json_t *jwk = json_object_get(rb, "tee_pubkey_jwk");
        assert_non_null(rd);
        assert_non_null(hx);

        _cleanup_free_ uint8_t *p = NULL;
        _cleanup_free_ char *back = NULL;
        size_t n;
        char h[97];
        assert_int_equal(vt_b64_decode(rd, strlen(rd), VT_B64_STD, 48, &p, &n), 0);
        assert_int_equal(n, 48);
        vt_hex_encode(p, n, h);
        assert_string_equal(h, hx);
        assert_int_equal(vt_b64_encode(p, n, VT_B64_STD, &back), 0);
        assert_string_equal(back, rd);
        assert_int_equal(vt_b64_decode(rd, strlen(rd), VT_B64_URL, 48, &p, &n), VT_E_FORMAT);

        const char *xy[] = {"x", "y"};
        for (size_t i = 0; i < ELEMENTSOF(xy); i++) {
                const char *c = json_string_value(json_object_get(jwk, xy[i]));
                _cleanup_free_ uint8_t *q = NULL;
                _cleanup_free_ char *s = NULL;
                assert_non_null(c);
                assert_int_equal(vt_b64_decode(c, strlen(c), VT_B64_URL, 32, &q, &n), 0);
                assert_int_equal(n, 32);
                assert_int_equal(vt_b64_encode(q, n, VT_B64_URL, &s), 0);
                assert_string_equal(s, c);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_b64_rfc4648_vectors),
                cmocka_unit_test(test_b64_alphabets),
                cmocka_unit_test(test_b64_public_same),
                cmocka_unit_test(test_b64_roundtrip_lengths),
                cmocka_unit_test(test_b64_rejects),
                cmocka_unit_test(test_b64_canonical_exhaustive),
                cmocka_unit_test(test_b64_args),
                cmocka_unit_test(test_b64_kbs_vectors),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
