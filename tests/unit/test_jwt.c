/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ES256 tokens (lib/token/jwt.c): sign and verify round trip; key choice by kid and
 * the kid-less keys of tokens.trusted_certs; exp, nbf and iat with their 60 s leeway;
 * refusal of a crit header and of a high S; refusal of other algorithms, malformed structure and
 * duplicate members; every single-character change of a token refused; which JWKs can verify at
 * all; the published JWK of a key file (token.retired_keys).
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "crypto/issued.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/jwk.h"
#include "token/jose.h"
#include "token/jwt.h"
#include "util/b64.h"
#include "util/json.h"
#include "veritee/veritee.h"

#define NOW ((int64_t)1800000000)

static struct {
        char dir[64];
        struct vt_signer *a, *b;
} S;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)flag, (void)f;
        return remove(p);
}

static int setup(void **state)
{
        (void)state;
        char p[128];
        struct vt_diag d = {0};
        snprintf(S.dir, sizeof(S.dir), "/tmp/vt-jwt-XXXXXX");
        if (!mkdtemp(S.dir))
                return -1;
        snprintf(p, sizeof(p), "%s/a.pem", S.dir);
        if (vt_signer_load_or_create(p, &S.a, &d) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/b.pem", S.dir);
        return vt_signer_load_or_create(p, &S.b, &d) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        vt_signer_free(S.a);
        vt_signer_free(S.b);
        return nftw(S.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* a JWKS of the given keys (reference taken) */
static json_t *jwks_of(json_t *k1, json_t *k2)
{
        json_t *keys = json_array();
        json_array_append_new(keys, k1);
        if (k2)
                json_array_append_new(keys, k2);
        return json_pack("{s:o}", "keys", keys);
}

static char *sign(struct vt_signer *s, json_t *claims)
{
        char *t = NULL;
        assert_int_equal(vt_jwt_sign(s, claims, &t), 0);
        return t;
}

static char *sign_exp(struct vt_signer *s, int64_t exp)
{
        json_auto_t *c = json_pack("{s:s, s:I}", "sub", "guest", "exp", (json_int_t)exp);
        return sign(s, c);
}

/* verify expecting code; on failure the reason must contain want */
static void expect_verify(const char *tok, const json_t *jwks, int code, const char *want)
{
        struct vt_diag d = {0};
        json_t *claims = NULL;
        int r = vt_jwt_verify(tok, jwks, NOW, &claims, &d);
        if (r != code)
                fail_msg("verify: %d (%s), want %d", r, d.msg, code);
        if (code == 0) {
                assert_string_equal(json_string_value(json_object_get(claims, "sub")), "guest");
                json_decref(claims);
        } else if (want && !strstr(d.msg, want)) {
                fail_msg("reason \"%s\" lacks \"%s\"", d.msg, want);
        }
}

/* a compact token from a header text, a payload text and signature bytes */
static char *compact(const char *hdr, const char *payload, const uint8_t *sig, size_t sl)
{
        char *h = NULL, *p = NULL, *s = NULL, *out = NULL;
        assert_int_equal(vt_b64_encode((const uint8_t *)hdr, strlen(hdr), VT_B64_URL, &h), 0);
        assert_int_equal(vt_b64_encode((const uint8_t *)payload, strlen(payload), VT_B64_URL, &p),
                         0);
        assert_int_equal(vt_b64_encode(sig, sl, VT_B64_URL, &s), 0);
        assert_true(asprintf(&out, "%s.%s.%s", h, p, s) > 0);
        free(h);
        free(p);
        free(s);
        return out;
}

/* A payload given as text is signed exactly as it is: the token's middle part decodes to
 * those bytes, and the token verifies and reads as the same claims. */
static void test_sign_text_payload(void **state)
{
        (void)state;
        char text[96];
        int n = snprintf(text, sizeof(text), "{\"exp\":%lld,\"sub\":\"guest\",\"z\":[1,2]}",
                         (long long)(NOW + 300));
        char *t = NULL;
        assert_int_equal(vt_jwt_sign_text_d(S.a, text, (size_t)n, &t, NULL), 0);
        const char *p = strchr(t, '.'), *q = strchr(p + 1, '.');
        uint8_t *raw = NULL;
        size_t rl = 0;
        assert_int_equal(vt_b64_decode(p + 1, (size_t)(q - p - 1), VT_B64_URL, 4096, &raw, &rl), 0);
        assert_int_equal(rl, (size_t)n);
        assert_memory_equal(raw, text, rl);
        free(raw);
        json_auto_t *own = jwks_of(vt_signer_jwk(S.a), NULL);
        expect_verify(t, own, 0, NULL);
        /* the header part: the same for text and claims, and the compact JSON of
         * {alg, typ, kid, jwk} in that order */
        json_auto_t *claims = json_loads(text, 0, NULL);
        char *t2 = NULL;
        assert_int_equal(vt_jwt_sign(S.a, claims, &t2), 0);
        size_t hl = strcspn(t, ".");
        assert_int_equal(strcspn(t2, "."), hl);
        assert_memory_equal(t, t2, hl);
        free(t2);
        assert_int_equal(vt_b64_decode(t, hl, VT_B64_URL, 4096, &raw, &rl), 0);
        json_auto_t *hdr = json_loadb((const char *)raw, rl, 0, NULL);
        assert_non_null(hdr);
        char *compact = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_int_equal(strlen(compact), rl);
        assert_memory_equal(compact, raw, rl);
        assert_true(strncmp(compact, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":", 30) == 0);
        free(compact);
        free(raw);
        free(t);
        assert_int_equal(vt_jwt_sign_text_d(S.a, NULL, 0, &t, NULL), VT_E_INVAL);
}

static void test_round_trip_and_kid(void **state)
{
        (void)state;
        json_auto_t *ja = vt_signer_jwk(S.a);
        assert_string_equal(json_string_value(json_object_get(ja, "kid")), vt_signer_kid(S.a));
        assert_true(vt_jwt_key_usable(ja));
        json_auto_t *own = jwks_of(json_incref(ja), vt_signer_jwk(S.b));
        char *t = sign_exp(S.a, NOW + 300);
        expect_verify(t, own, 0, NULL);

        /* the header names the key: kid and the public JWK */
        char *dot = strchr(t, '.');
        uint8_t *hb = NULL;
        size_t hl = 0;
        assert_int_equal(vt_b64_decode(t, (size_t)(dot - t), VT_B64_URL, 4096, &hb, &hl), 0);
        json_auto_t *h = json_loadb((const char *)hb, hl, 0, NULL);
        free(hb);
        assert_string_equal(json_string_value(json_object_get(h, "alg")), "ES256");
        assert_string_equal(json_string_value(json_object_get(h, "kid")), vt_signer_kid(S.a));

        /* only b's key, with its kid: none is tried */
        json_auto_t *only_b = jwks_of(vt_signer_jwk(S.b), NULL);
        expect_verify(t, only_b, VT_E_SIGNATURE, "no trusted key with kid");
        /* b's key without a kid (as tokens.trusted_certs gives): tried and refuses */
        json_t *bk = vt_signer_jwk(S.b);
        json_object_del(bk, "kid");
        json_auto_t *b_nokid = jwks_of(bk, NULL);
        expect_verify(t, b_nokid, VT_E_SIGNATURE, "signature does not verify");
        /* a's key without a kid verifies a's tokens */
        json_t *ak = vt_signer_jwk(S.a);
        json_object_del(ak, "kid");
        json_auto_t *a_nokid = jwks_of(ak, NULL);
        expect_verify(t, a_nokid, 0, NULL);
        /* an empty set, and a set whose only key is unusable */
        json_auto_t *empty = json_pack("{s:[]}", "keys");
        expect_verify(t, empty, VT_E_SIGNATURE, "no trusted key");
        json_auto_t *rsa =
                jwks_of(json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", "AQAB", "e", "AQAB"), NULL);
        expect_verify(t, rsa, VT_E_SIGNATURE, "no trusted key");
        free(t);
}

static void test_times(void **state)
{
        (void)state;
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        char *t;
        expect_verify(t = sign_exp(S.a, NOW - 59), ks, 0, NULL); /* within the leeway */
        free(t);
        expect_verify(t = sign_exp(S.a, NOW - 61), ks, VT_E_EXPIRED, "expired");
        free(t);
        json_auto_t *noexp = json_pack("{s:s}", "sub", "guest");
        expect_verify(t = sign(S.a, noexp), ks, VT_E_FORMAT, "token: no exp claim");
        free(t);
        json_auto_t *strexp = json_pack("{s:s, s:s}", "sub", "guest", "exp", "1900000000");
        expect_verify(t = sign(S.a, strexp), ks, VT_E_FORMAT, "token: exp is not an integer");
        free(t);
        json_auto_t *nbf = json_pack("{s:s, s:I, s:I}", "sub", "guest", "exp",
                                     (json_int_t)NOW + 300, "nbf", (json_int_t)NOW + 59);
        expect_verify(t = sign(S.a, nbf), ks, 0, NULL);
        free(t);
        json_object_set_new(nbf, "nbf", json_integer((json_int_t)NOW + 61));
        expect_verify(t = sign(S.a, nbf), ks, VT_E_EXPIRED, "token: not valid before");
        free(t);
        json_object_set_new(nbf, "nbf", json_string("0"));
        expect_verify(t = sign(S.a, nbf), ks, VT_E_FORMAT, "token: nbf is not an integer");
        free(t);
}

/* iat in the future beyond the leeway: refused, by name, as for admin tokens; within the
 * leeway the same token is accepted, so iat is the reason. */
static void test_iat_in_the_future(void **state)
{
        (void)state;
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        json_auto_t *c = json_pack("{s:s, s:I, s:I}", "sub", "guest", "exp", (json_int_t)NOW + 300,
                                   "iat", (json_int_t)NOW + 59);
        char *t;
        expect_verify(t = sign(S.a, c), ks, 0, NULL);
        free(t);
        json_object_set_new(c, "iat", json_integer((json_int_t)NOW + 61));
        expect_verify(t = sign(S.a, c), ks, VT_E_EXPIRED,
                      "token: issued in the future at 2027-01-15T08:01:01Z");
        free(t);
        json_object_set_new(c, "iat", json_string("1800000000"));
        expect_verify(t = sign(S.a, c), ks, VT_E_FORMAT, "token: iat is not an integer");
        free(t);
}

/* pair_of writes the ECDSA signature der (dl bytes) as r || s, with the low S of the
 * signature pair or (high) its high S. */
static void pair_of(const uint8_t *der, size_t dl, bool high, uint8_t raw[64])
{
        const uint8_t *q = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)dl);
        BIGNUM *n = BN_new(), *other = BN_new();
        EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
        assert_true(es && n && other && g && EC_GROUP_get_order(g, n, NULL));
        assert_true(BN_sub(other, n, ECDSA_SIG_get0_s(es)));
        bool low = BN_cmp(ECDSA_SIG_get0_s(es), other) < 0;
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32), 32);
        assert_int_equal(BN_bn2binpad(low != high ? ECDSA_SIG_get0_s(es) : other, raw + 32, 32),
                         32);
        BN_free(n);
        BN_free(other);
        EC_GROUP_free(g);
        ECDSA_SIG_free(es);
}

/* A compact token of the header and payload texts, signed with a's key (the PEM file);
 * high picks the high S of the signature pair instead of the low one. */
static char *sign_texts(const char *hdr, const char *payload, bool high)
{
        char p[128], *h = NULL, *pl = NULL, *input = NULL, *sg = NULL, *out = NULL;
        snprintf(p, sizeof(p), "%s/a.pem", S.dir);
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        assert_non_null(key);
        assert_int_equal(vt_b64_encode((const uint8_t *)hdr, strlen(hdr), VT_B64_URL, &h), 0);
        assert_int_equal(vt_b64_encode((const uint8_t *)payload, strlen(payload), VT_B64_URL, &pl),
                         0);
        assert_true(asprintf(&input, "%s.%s", h, pl) > 0);
        uint8_t der[80], raw[64];
        size_t dl = sizeof(der);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(md, der, &dl, (uint8_t *)input, strlen(input)), 1);
        EVP_MD_CTX_free(md);
        pair_of(der, dl, high, raw);
        assert_int_equal(vt_b64_encode(raw, sizeof(raw), VT_B64_URL, &sg), 0);
        assert_true(asprintf(&out, "%s.%s", input, sg) > 0);
        EVP_PKEY_free(key);
        free(h);
        free(pl);
        free(input);
        free(sg);
        return out;
}

/* A crit header is refused (RFC 7515 4.1.11: we understand no extension); the same
 * token without it verifies. */
static void test_crit_refused(void **state)
{
        (void)state;
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        const char *payload = "{\"sub\":\"guest\",\"exp\":1800000300}";
        char hdr[256];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", vt_signer_kid(S.a));
        char *t = sign_texts(hdr, payload, false);
        expect_verify(t, ks, 0, NULL);
        free(t);
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"crit\":[\"exp\"]}",
                 vt_signer_kid(S.a));
        t = sign_texts(hdr, payload, false);
        expect_verify(t, ks, VT_E_FORMAT, "token: crit header is not supported");
        free(t);
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"crit\":[]}");
        t = sign_texts(hdr, payload, false);
        expect_verify(t, ks, VT_E_FORMAT, "token: crit header is not supported");
        free(t);
}

/* The high S of an ECDSA signature pair verifies as well as the low one; it is refused,
 * by name, so that a token has one spelling. Our own signer writes the low S. */
static void test_high_s_refused(void **state)
{
        (void)state;
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        const char *payload = "{\"sub\":\"guest\",\"exp\":1800000300}";
        const char *hdr = "{\"alg\":\"ES256\"}";
        char *t = sign_texts(hdr, payload, false);
        expect_verify(t, ks, 0, NULL);
        free(t);
        t = sign_texts(hdr, payload, true);
        expect_verify(t, ks, VT_E_SIGNATURE, "token: ES256 signature has a high S");
        free(t);
        /* vt_jwt_sign: 64 tokens, every one with a low S (a high one would be refused) */
        for (int i = 0; i < 64; i++) {
                char *own = sign_exp(S.a, NOW + 300);
                expect_verify(own, ks, 0, NULL);
                free(own);
        }
}

/* A signer that always hands back the high S of its pair (as a PKCS#11 token may), or a
 * pair out of range (mode 1: r = 0, mode 2: s = n), for vt_jws_sign_es256_with. */
struct high_signer {
        EVP_PKEY *key;
        int mode;
};

static int high_sign(const uint8_t md[32], uint8_t sig[64], void *ud)
{
        struct high_signer *h = ud;
        uint8_t der[80];
        size_t dl = sizeof(der);
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(h->key, NULL);
        assert_true(c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, der, &dl, md, 32) == 1);
        EVP_PKEY_CTX_free(c);
        pair_of(der, dl, true, sig);
        if (h->mode == 1)
                memset(sig, 0, 32);
        if (h->mode == 2) {
                static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                              0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
                                              0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
                memcpy(sig + 32, n, 32); /* the group order: out of range */
        }
        return 0;
}

/* Through vt_jws_sign_es256_with, a signer's high S is made low (the token verifies, and
 * the verifier refuses a high S), and a pair out of range is refused. */
static void test_sign_with_high_s_signer(void **state)
{
        (void)state;
        char p[128];
        snprintf(p, sizeof(p), "%s/a.pem", S.dir);
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        struct high_signer h = {.key = PEM_read_PrivateKey(f, NULL, NULL, NULL)};
        fclose(f);
        assert_non_null(h.key);
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        json_auto_t *hdr = json_pack("{s:s, s:s}", "alg", "ES256", "kid", vt_signer_kid(S.a));
        json_auto_t *claims = json_pack("{s:s, s:I}", "sub", "guest", "exp", (json_int_t)NOW + 60);
        char *h64 = NULL;
        assert_int_equal(vt_jws_header_b64(hdr, &h64), 0);
        for (int i = 0; i < 16; i++) {
                char *t = NULL;
                assert_int_equal(vt_jws_sign_es256_with(high_sign, &h, hdr, claims, &t), 0);
                expect_verify(t, ks, 0, NULL);
                char *t2 = NULL;
                assert_int_equal(
                        vt_jws_sign_es256_h64_with(high_sign, &h, h64, claims, NULL, 0, &t2), 0);
                expect_verify(t2, ks, 0, NULL);
                /* the same signed part either way */
                size_t sp = (size_t)(strrchr(t, '.') - t);
                assert_int_equal((size_t)(strrchr(t2, '.') - t2), sp);
                assert_memory_equal(t, t2, sp);
                free(t);
                free(t2);
        }
        for (h.mode = 1; h.mode <= 2; h.mode++) {
                char *t = NULL;
                assert_int_equal(vt_jws_sign_es256_with(high_sign, &h, hdr, claims, &t),
                                 VT_E_CRYPTO);
                assert_null(t);
        }
        /* the same step on OpenSSL's DER (vt_jose_es256_raw, the signer's own path): a high
         * S comes out low, r = 0 is refused */
        uint8_t md[32] = {1}, rs[64], der[80], out[64];
        h.mode = 0;
        assert_int_equal(high_sign(md, rs, &h), 0);
        for (int k = 0; k < 2; k++) {
                ECDSA_SIG *es = ECDSA_SIG_new();
                BIGNUM *r = BN_bin2bn(rs, 32, NULL), *sv = BN_bin2bn(rs + 32, 32, NULL);
                if (k == 1)
                        BN_zero(r);
                assert_true(es && r && sv && ECDSA_SIG_set0(es, r, sv) == 1);
                uint8_t *dp = der;
                int dl = i2d_ECDSA_SIG(es, &dp);
                ECDSA_SIG_free(es);
                assert_true(dl > 0);
                if (k == 1) {
                        assert_int_equal(vt_jose_es256_raw(der, (size_t)dl, out), VT_E_CRYPTO);
                        continue;
                }
                assert_int_equal(vt_jose_es256_raw(der, (size_t)dl, out), 0);
                assert_memory_equal(out, rs, 32);
                assert_true(memcmp(out + 32, rs + 32, 32) < 0); /* n - s, below the high s */
        }
        free(h64);
        EVP_PKEY_free(h.key);
}

static void test_algorithms_and_structure(void **state)
{
        (void)state;
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        uint8_t sig[64] = {1};
        const char *payload = "{\"sub\":\"guest\",\"exp\":1800000300}";
        static const char *const algs[] = {"none", "HS256", "RS256", "ES384", "EdDSA", "es256"};
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
                char hdr[64];
                snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", algs[i]);
                char *t = compact(hdr, payload, sig, sizeof(sig));
                expect_verify(t, ks, VT_E_UNSUPPORTED, algs[i]);
                free(t);
        }
        char *t = compact("{\"typ\":\"JWT\"}", payload, sig, sizeof(sig));
        expect_verify(t, ks, VT_E_UNSUPPORTED, "(none)");
        free(t);
        t = compact("{\"alg\":\"ES256\",\"alg\":\"ES256\"}", payload, sig, sizeof(sig));
        expect_verify(t, ks, VT_E_FORMAT, "header");
        free(t);
        t = compact("[\"ES256\"]", payload, sig, sizeof(sig));
        expect_verify(t, ks, VT_E_FORMAT, "header");
        free(t);
        t = compact("{\"alg\":\"ES256\"}", payload, sig, 63);
        expect_verify(t, ks, VT_E_SIGNATURE, "64 bytes");
        free(t);
        /* a forged signature over a well-formed token */
        t = compact("{\"alg\":\"ES256\"}", payload, sig, sizeof(sig));
        expect_verify(t, ks, VT_E_SIGNATURE, "does not verify");
        free(t);

        char *good = sign_exp(S.a, NOW + 300);
        char *dot1 = strchr(good, '.'), *dot2 = strchr(dot1 + 1, '.');
        char buf[4096];
        /* two parts, four parts, an empty signature, a character outside base64url */
        snprintf(buf, sizeof(buf), "%.*s", (int)(dot2 - good), good);
        expect_verify(buf, ks, VT_E_FORMAT, NULL);
        snprintf(buf, sizeof(buf), "%s.x", good);
        expect_verify(buf, ks, VT_E_FORMAT, NULL);
        snprintf(buf, sizeof(buf), "%.*s.", (int)(dot2 - good), good);
        expect_verify(buf, ks, VT_E_SIGNATURE, "64 bytes");
        snprintf(buf, sizeof(buf), "%s", good);
        buf[1] = '+';
        expect_verify(buf, ks, VT_E_FORMAT, "base64url");
        /* more than 256 KiB */
        size_t big = 256u * 1024u + 1;
        char *huge = malloc(big + 1);
        assert_non_null(huge);
        memset(huge, 'A', big);
        huge[big] = 0;
        expect_verify(huge, ks, VT_E_LIMIT, "larger than");
        free(huge);
        free(good);
}

/* Each character of a valid token replaced by another base64url character: never
 * verifies (the decoder refuses non-zero trailing bits, so no two texts are one). */
static void test_every_change_refused(void **state)
{
        (void)state;
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        char *t = sign_exp(S.a, NOW + 300);
        size_t n = strlen(t), tried = 0;
        for (size_t i = 0; i < n; i++) {
                if (t[i] == '.')
                        continue;
                char keep = t[i];
                /* the character three places on in the alphabet: another value */
                const char *at = strchr(alphabet, keep);
                assert_non_null(at);
                t[i] = alphabet[((size_t)(at - alphabet) + 3) % 64];
                json_t *c = NULL;
                struct vt_diag d = {0};
                if (vt_jwt_verify(t, ks, NOW, &c, &d) == 0)
                        fail_msg("changed character %zu still verifies", i);
                t[i] = keep;
                tried++;
        }
        assert_true(tried > 100);
        expect_verify(t, ks, 0, NULL); /* and the original still does */
        free(t);
}

static void test_key_usable(void **state)
{
        (void)state;
        json_auto_t *k = vt_signer_jwk(S.a);
        assert_true(vt_jwt_key_usable(k));
        assert_false(vt_jwt_key_usable(NULL));
        json_auto_t *arr = json_array();
        assert_false(vt_jwt_key_usable(arr));

        json_auto_t *priv = json_deep_copy(k);
        json_object_set_new(priv, "d", json_string("AAAA"));
        assert_false(vt_jwt_key_usable(priv));
        json_auto_t *p384 = json_deep_copy(k);
        json_object_set_new(p384, "crv", json_string("P-384"));
        assert_false(vt_jwt_key_usable(p384));
        /* x one byte short */
        json_auto_t *shortx = json_deep_copy(k);
        json_object_set_new(shortx, "x", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        assert_false(vt_jwt_key_usable(shortx));
        /* (0, 0) is not on the curve */
        json_auto_t *off = json_deep_copy(k);
        json_object_set_new(off, "x", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        json_object_set_new(off, "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        assert_false(vt_jwt_key_usable(off));

        /* what the JWK says it is for: use, alg, key_ops */
        static const char *const refuse[][2] = {
                {"use", "\"enc\""},        {"use", "1"},
                {"alg", "\"ES384\""},      {"alg", "\"ECDH-ES+A256KW\""},
                {"key_ops", "[\"sign\"]"}, {"key_ops", "[]"},
        };
        for (size_t i = 0; i < sizeof(refuse) / sizeof(refuse[0]); i++) {
                json_auto_t *m = json_deep_copy(k);
                json_object_set_new(m, refuse[i][0],
                                    json_loads(refuse[i][1], JSON_DECODE_ANY, NULL));
                if (vt_jwt_key_usable(m))
                        fail_msg("usable with %s: %s", refuse[i][0], refuse[i][1]);
        }
        json_auto_t *ops = json_deep_copy(k);
        json_object_set_new(ops, "key_ops", json_pack("[s, s]", "sign", "verify"));
        assert_true(vt_jwt_key_usable(ops));
        /* and a token is not verified with a key marked for encryption */
        json_t *enc = vt_signer_jwk(S.a);
        json_object_set_new(enc, "use", json_string("enc"));
        json_auto_t *enc_set = jwks_of(enc, NULL);
        char *t = sign_exp(S.a, NOW + 300);
        expect_verify(t, enc_set, VT_E_SIGNATURE, "no trusted key");
        free(t);

        /* vt_jwk_p256_public: a P-256 key gives a usable JWK, other keys none */
        EVP_PKEY *ec = EVP_EC_gen("P-256"), *ec384 = EVP_EC_gen("P-384");
        EVP_PKEY *rsa = EVP_RSA_gen(2048);
        assert_non_null(ec);
        json_auto_t *j = vt_jwk_p256_public(ec);
        assert_non_null(j);
        assert_true(vt_jwt_key_usable(j));
        assert_null(vt_jwk_p256_public(ec384));
        assert_null(vt_jwk_p256_public(rsa));
        assert_null(vt_jwk_p256_public(NULL));
        EVP_PKEY_free(ec);
        EVP_PKEY_free(ec384);
        EVP_PKEY_free(rsa);
}

/* A trusted key whose point is not on P-256 (y replaced by x) is refused by the one JWK
 * check, and the refusal says so, on every path that turns a JWK into a verification
 * key: vt_jwk_to_verify_key, vt_jwt_key_usable and vt_jwt_verify. */
static void test_off_curve_key_refused(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        json_t *off = vt_signer_jwk(S.a);
        json_object_set(off, "y", json_object_get(off, "x"));
        assert_int_equal(vt_jwk_to_verify_key(off, NULL, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "the P-256 point is not on the curve"));
        assert_false(vt_jwt_key_usable(off));
        json_auto_t *ks = jwks_of(off, NULL);
        char *t = sign_exp(S.a, NOW + 300);
        expect_verify(t, ks, VT_E_SIGNATURE, "no trusted key");
        expect_verify(t, ks, VT_E_SIGNATURE, "the P-256 point is not on the curve");
        free(t);
}

/* The header rules of the JWS core apply to attestation tokens as to admin tokens: a
 * kid that is not a short string is refused before any key is looked at. */
static void test_kid_must_be_short_string(void **state)
{
        (void)state;
        json_auto_t *ks = jwks_of(vt_signer_jwk(S.a), NULL);
        uint8_t sig[64] = {1};
        const char *payload = "{\"sub\":\"guest\",\"exp\":1800000300}";
        char *t = compact("{\"alg\":\"ES256\",\"kid\":123}", payload, sig, sizeof(sig));
        expect_verify(t, ks, VT_E_FORMAT, "token: kid is not a short string");
        free(t);
        char hdr[300];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%0129d\"}", 0);
        t = compact(hdr, payload, sig, sizeof(sig));
        expect_verify(t, ks, VT_E_FORMAT, "token: kid is not a short string");
        free(t);
}

/* vt_jwt_key_file_jwk (token.retired_keys): the JWK of a private key, a public key or a
 * certificate is the signer's, kid and all; a private key others may read, and a file
 * with no P-256 key, are refused with the file named. */
static void test_key_file_jwk(void **state)
{
        char a[128], pub[128], crt[128], cmd[1024], other[128];
        struct vt_diag d = {0};
        (void)state;
        json_auto_t *want = vt_signer_jwk(S.a);
        snprintf(a, sizeof(a), "%s/a.pem", S.dir);
        snprintf(pub, sizeof(pub), "%s/a.pub", S.dir);
        snprintf(crt, sizeof(crt), "%s/a.crt", S.dir);
        snprintf(cmd, sizeof(cmd),
                 "openssl pkey -in %s -pubout -out %s 2>/dev/null && openssl req -new -x509 -key "
                 "%s -subj /CN=a -days 1 -out %s 2>/dev/null",
                 a, pub, a, crt);
        assert_int_equal(system(cmd), 0);
        const char *files[] = {a, pub, crt};
        for (size_t i = 0; i < 3; i++) {
                json_t *j = NULL;
                assert_int_equal(vt_jwt_key_file_jwk(files[i], "token.retired_keys", &j, &d), 0);
                assert_true(json_equal(j, want));
                assert_true(vt_jwt_key_usable(j));
                json_decref(j);
        }
        json_t *j = NULL;
        snprintf(other, sizeof(other), "%s/loose.pem", S.dir);
        snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 640 %s", a, other, other);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(vt_jwt_key_file_jwk(other, "token.retired_keys", &j, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "token.retired_keys"));
        assert_non_null(strstr(d.msg, "group or others"));
        snprintf(cmd, sizeof(cmd),
                 "openssl genpkey -algorithm ed25519 -out %s 2>/dev/null; "
                 "chmod 600 %s",
                 other, other);
        assert_int_equal(system(cmd), 0);
        vt_diag_clear(&d);
        assert_int_equal(vt_jwt_key_file_jwk(other, "token.retired_keys", &j, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "holds no P-256 key"));
        assert_null(j);
}

/* The token key's certificate (x5c, issue 20): self-signed (development), a chain file whose
 * first certificate must be for the key, a CA key that must match its certificate; the
 * header of a signed token then carries x5c, also inside its jwk (Trustee reads it there). */
static void test_signer_certify(void **state)
{
        char crt[160], cmd[1024], bkey[160];
        struct vt_diag d = {0};
        (void)state;
        struct vt_signer *s = NULL;
        snprintf(bkey, sizeof(bkey), "%s/cert-key.pem", S.dir);
        assert_int_equal(vt_signer_load_or_create(bkey, &s, &d), 0);
        const struct vt_signer_cert_opts none = {0};
        assert_int_equal(vt_signer_certify(s, &none, NOW, &d), 0);
        assert_null(vt_signer_x5c(s));
        const struct vt_signer_cert_opts self = {.self_signed = true};
        assert_int_equal(vt_signer_certify(s, &self, NOW, &d), 0);
        assert_int_equal(json_array_size(vt_signer_x5c(s)), 1);
        json_auto_t *claims = json_pack("{s:s, s:I}", "sub", "guest", "exp", (json_int_t)NOW + 60);
        char *tok = NULL;
        assert_int_equal(vt_jwt_sign(s, claims, &tok), 0);
        uint8_t *hb = NULL;
        size_t hl = 0;
        assert_int_equal(vt_b64_decode(tok, strcspn(tok, "."), VT_B64_URL, 65536, &hb, &hl), 0);
        json_auto_t *hdr = json_loadb((const char *)hb, hl, 0, NULL);
        free(hb);
        assert_true(json_equal(json_object_get(hdr, "x5c"), vt_signer_x5c(s)));
        assert_true(
                json_equal(json_object_get(json_object_get(hdr, "jwk"), "x5c"), vt_signer_x5c(s)));
        free(tok);
        /* the self-signed certificate is for the key and verifies with it */
        const char *b64 = json_string_value(json_array_get(vt_signer_x5c(s), 0));
        uint8_t *der = NULL;
        size_t n = 0;
        assert_int_equal(vt_b64_decode(b64, strlen(b64), VT_B64_STD, 65536, &der, &n), 0);
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)n);
        free(der);
        assert_non_null(x);
        assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
        X509_free(x);
        /* a chain file for another key: refused */
        snprintf(crt, sizeof(crt), "%s/other.crt", S.dir);
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
                 "%s/other.key -out %s -subj /CN=o -days 1 2>/dev/null && chmod 600 %s/other.key",
                 S.dir, crt, S.dir);
        assert_int_equal(system(cmd), 0);
        const struct vt_signer_cert_opts wrong = {.chain_file = crt};
        assert_int_equal(vt_signer_certify(s, &wrong, NOW, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "not for the token signing key"));
        /* a CA key that is not the CA certificate's: refused; the right one certifies */
        char key[160];
        snprintf(key, sizeof(key), "%s/other.key", S.dir);
        const struct vt_signer_cert_opts badca = {.ca_cert_file = crt, .ca_key_file = bkey};
        vt_diag_clear(&d);
        assert_int_equal(vt_signer_certify(s, &badca, NOW, &d), VT_E_FORMAT);
        const struct vt_signer_cert_opts ca = {.ca_cert_file = crt, .ca_key_file = key};
        assert_int_equal(vt_signer_certify(s, &ca, NOW, &d), 0);
        assert_int_equal(json_array_size(vt_signer_x5c(s)), 2);
        /* the tokens' header follows: its encoding is kept, and made again on a change */
        assert_int_equal(vt_jwt_sign(s, claims, &tok), 0);
        assert_int_equal(vt_b64_decode(tok, strcspn(tok, "."), VT_B64_URL, 65536, &hb, &hl), 0);
        json_auto_t *hdr2 = json_loadb((const char *)hb, hl, 0, NULL);
        free(hb);
        free(tok);
        assert_true(json_equal(json_object_get(hdr2, "x5c"), vt_signer_x5c(s)));
        const struct vt_signer_cert_opts half = {.ca_cert_file = crt};
        assert_int_equal(vt_signer_certify(s, &half, NOW, &d), VT_E_INVAL);
        vt_signer_free(s);
}

/* The issued-token cache serves the claims of exactly the text that was put, with the
 * digest put with them: one byte changed, a prefix or a longer text miss; the oldest slot
 * goes first; what it returns is the claims as put, shared (a reference, not a copy). */
static void test_issued_cache_exact(void **state)
{
        (void)state;
        struct vt_issued *c = vt_issued_new(2);
        assert_non_null(c);
        json_auto_t *claims = json_pack("{s:s, s:i}", "jti", "one", "exp", 100);
        const char *tok = "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJvbmUifQ.c2ln";
        uint8_t dg[32], back[32], other_dg[32];
        memset(dg, 0xa5, sizeof(dg));
        memset(other_dg, 0x5a, sizeof(other_dg));
        assert_null(vt_issued_get(c, tok, NULL));
        vt_issued_put(c, tok, claims, dg);
        memset(back, 0, sizeof(back));
        json_t *got = vt_issued_get(c, tok, back);
        assert_non_null(got);
        assert_true(json_equal(got, claims));
        assert_memory_equal(back, dg, 32);
        /* shared, not copied: the claims as put, alive while the cache or a caller holds
         * them (the put's reference outlives the putter's; valgrind and LeakSanitizer
         * check that every reference is given back) */
        assert_ptr_equal(got, claims);
        json_decref(got);
        json_t *mine = json_pack("{s:s}", "jti", "mine");
        vt_issued_put(c, "t-mine", mine, dg);
        json_decref(mine);
        got = vt_issued_get(c, "t-mine", NULL);
        assert_non_null(got);
        assert_string_equal(json_string_value(json_object_get(got, "jti")), "mine");
        json_decref(got);
        got = vt_issued_get(c, tok, NULL);
        assert_string_equal(json_string_value(json_object_get(got, "jti")), "one");
        json_decref(got);

        char other[64];
        snprintf(other, sizeof(other), "%s", tok);
        for (size_t i = 0; other[i]; i++) {
                other[i] ^= 1;
                assert_null(vt_issued_get(c, other, back));
                other[i] ^= 1;
        }
        other[strlen(other) - 1] = 0;
        assert_null(vt_issued_get(c, other, back));
        snprintf(other, sizeof(other), "%sx", tok);
        assert_null(vt_issued_get(c, other, back));

        /* two slots: a third token replaces the first */
        vt_issued_put(c, "t2", claims, other_dg);
        vt_issued_put(c, "t3", claims, other_dg);
        assert_null(vt_issued_get(c, tok, NULL));
        got = vt_issued_get(c, "t3", back);
        assert_non_null(got);
        assert_memory_equal(back, other_dg, 32);
        json_decref(got);
        vt_issued_free(c);
        assert_null(vt_issued_new(0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip_and_kid),
                cmocka_unit_test(test_sign_text_payload),
                cmocka_unit_test(test_times),
                cmocka_unit_test(test_iat_in_the_future),
                cmocka_unit_test(test_crit_refused),
                cmocka_unit_test(test_high_s_refused),
                cmocka_unit_test(test_sign_with_high_s_signer),
                cmocka_unit_test(test_algorithms_and_structure),
                cmocka_unit_test(test_every_change_refused),
                cmocka_unit_test(test_key_usable),
                cmocka_unit_test(test_off_curve_key_refused),
                cmocka_unit_test(test_kid_must_be_short_string),
                cmocka_unit_test(test_key_file_jwk),
                cmocka_unit_test(test_signer_certify),
                cmocka_unit_test(test_issued_cache_exact),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
