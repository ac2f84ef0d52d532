/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDSA verification through fixed-base tables (crypto/ecfixed.h) against OpenSSL's own
 * verification: every answer, valid or not, must be EVP_PKEY_verify's, on the table's path
 * (counted by vt_ecfix_stats, so a fast path that silently stopped being taken fails too),
 * across keys, digest lengths, altered signatures, out-of-range values, eviction and
 * threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include "crypto/ecfixed.h"
#include "crypto/openssl-util.h"
#include "crypto/p384.h"
#include "crypto/x509.h"
#include "testutil.h"
#include "util/macro.h"
#include "veritee/veritee.h"

static EVP_PKEY *new_key(const char *curve)
{
        EVP_PKEY *k = EVP_EC_gen(curve);
        assert_non_null(k);
        return k;
}

/* A P-384 public key from its encoded point (compressed or not). */
static EVP_PKEY *public_key(uint8_t *pt, size_t len)
{
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-384", 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, len),
                OSSL_PARAM_construct_end(),
        };
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
                EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *k = NULL;
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
        assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
        return k;
}

/* A signature as the verifiers see them: r and s, 48 bytes each. */
struct sig {
        uint8_t digest[64];
        size_t dlen;
        uint8_t r[48], s[48];
};

/* sign_digest signs out->digest (out->dlen bytes) as it is. */
static void sign_digest(EVP_PKEY *k, struct sig *out)
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
        uint8_t der[128];
        size_t dl = sizeof(der);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
        assert_int_equal(EVP_PKEY_sign(ctx, der, &dl, out->digest, out->dlen), 1);
        const uint8_t *p = der;
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
        assert_non_null(sig);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), out->r, 48), 48);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), out->s, 48), 48);
}

/* sign signs a random digest of dlen bytes. */
static void sign(EVP_PKEY *k, struct sig *out, size_t dlen)
{
        out->dlen = dlen;
        assert_int_equal(RAND_bytes(out->digest, (int)dlen), 1);
        sign_digest(k, out);
}

/* OpenSSL's answer: 1 valid, 0 not (r and s that DER cannot carry are not valid). */
static int reference(EVP_PKEY *k, const struct sig *g)
{
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(g->r, 48, NULL), *s = BN_bin2bn(g->s, 48, NULL);
        assert_non_null(sig);
        assert_true(r && s && ECDSA_SIG_set0(sig, r, s));
        uint8_t der[128], *p = der;
        int dl = i2d_ECDSA_SIG(sig, &p);
        assert_true(dl > 0);
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
        return EVP_PKEY_verify(ctx, der, (size_t)dl, g->digest, g->dlen) == 1;
}

static int ours(EVP_PKEY *k, const struct sig *g)
{
        int e = vt_ecdsa_verify_rs(k, g->digest, g->dlen, g->r, g->s, 48);
        assert_true(e == 0 || e == VT_E_SIGNATURE);
        return e == 0;
}

static uint64_t fast_count(void)
{
        struct vt_ecfix_stats st;
        vt_ecfix_stats(&st);
        return st.fast;
}

static void flip(uint8_t *p, size_t n)
{
        uint32_t x = 0;
        assert_int_equal(RAND_bytes((uint8_t *)&x, sizeof(x)), 1);
        p[(x >> 3) % n] ^= (uint8_t)(1u << (x & 7));
}

/* ---- crypto/p384.c against OpenSSL's BIGNUM and EC_POINT arithmetic ---- */

static void bn48(const BIGNUM *v, uint8_t out[48])
{
        assert_int_equal(BN_bn2binpad(v, out, 48), 48);
}

/* Field values that carries and reductions get wrong first: 0, 1, 2, p - 1, p - 2, powers
 * of two at every limb boundary and their neighbours, limbs of all ones, 2^384 and 2^768
 * mod p, p's own limbs shifted; then random ones. */
static void field_values(const BIGNUM *p, BIGNUM **v, size_t *n, size_t cap)
{
        size_t k = 0;
        for (int w = 0; w <= 3; w++) {
                v[k] = BN_new();
                BN_set_word(v[k++], (BN_ULONG)w);
        }
        for (int w = 1; w <= 2; w++) {
                v[k] = BN_dup(p);
                BN_sub_word(v[k++], (BN_ULONG)w);
        }
        for (int bit = 32; bit < 384; bit += 32) {
                for (int d = -1; d <= 1; d++) {
                        v[k] = BN_new();
                        BN_set_bit(v[k], bit);
                        if (d < 0)
                                BN_sub_word(v[k], 1);
                        else if (d > 0)
                                BN_add_word(v[k], 1);
                        k++;
                }
        }
        /* 2^384 and 2^768 mod p (one and the conversion constant in Montgomery form) */
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        assert_non_null(ctx);
        for (int e = 384; e <= 768; e += 384) {
                v[k] = BN_new();
                assert_true(v[k] && BN_set_bit(v[k], e) && BN_mod(v[k], v[k], p, ctx));
                k++;
        }
        /* (p - 1) / 2, (p + 1) / 2, p >> 64, and p with its low limb cleared */
        v[k] = BN_dup(p);
        BN_rshift1(v[k], v[k]);
        k++;
        v[k] = BN_dup(p);
        BN_add_word(v[k], 1);
        BN_rshift1(v[k], v[k]);
        k++;
        v[k] = BN_dup(p);
        BN_rshift(v[k], v[k], 64);
        k++;
        v[k] = BN_dup(p);
        BN_rshift(v[k], v[k], 64);
        BN_lshift(v[k], v[k], 64);
        k++;
        while (k < cap) {
                v[k] = BN_new();
                BN_rand_range(v[k++], p);
        }
        for (size_t i = 0; i < k; i++) {
                assert_non_null(v[i]);
                assert_true(BN_cmp(v[i], p) < 0);
        }
        *n = k;
}

static void test_p384_field(void **state)
{
        (void)state;
        assert_true(vt_p384_init());
        _cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        const BIGNUM *p = EC_GROUP_get0_field(g);
        BIGNUM *v[96];
        size_t n = 0;
        field_values(p, v, &n, ELEMENTSOF(v));
        _cleanup_(BN_freep) BIGNUM *want = BN_new();
        uint8_t a[48], b[48], got[48], exp[48];
        size_t checked = 0;
        for (size_t i = 0; i < n; i++) {
                struct vt_p384_fe fa, fb, fr;
                bn48(v[i], a);
                vt_p384_fe_from_bytes(&fa, a);
                vt_p384_fe_to_bytes(got, &fa);
                assert_memory_equal(got, a, 48);
                for (size_t j = 0; j < n; j++) {
                        bn48(v[j], b);
                        vt_p384_fe_from_bytes(&fb, b);
                        vt_p384_fe_mul(&fr, &fa, &fb);
                        vt_p384_fe_to_bytes(got, &fr);
                        assert_true(BN_mod_mul(want, v[i], v[j], p, ctx));
                        bn48(want, exp);
                        assert_memory_equal(got, exp, 48);
                        vt_p384_fe_add(&fr, &fa, &fb);
                        vt_p384_fe_to_bytes(got, &fr);
                        assert_true(BN_mod_add(want, v[i], v[j], p, ctx));
                        bn48(want, exp);
                        assert_memory_equal(got, exp, 48);
                        vt_p384_fe_sub(&fr, &fa, &fb);
                        vt_p384_fe_to_bytes(got, &fr);
                        assert_true(BN_mod_sub(want, v[i], v[j], p, ctx));
                        bn48(want, exp);
                        assert_memory_equal(got, exp, 48);
                        checked++;
                }
                /* the square, against BIGNUM and against a·a bit for bit */
                struct vt_p384_fe fm;
                vt_p384_fe_sqr(&fr, &fa);
                vt_p384_fe_mul(&fm, &fa, &fa);
                assert_memory_equal(fr.v, fm.v, sizeof(fr.v));
                vt_p384_fe_to_bytes(got, &fr);
                assert_true(BN_mod_sqr(want, v[i], p, ctx));
                bn48(want, exp);
                assert_memory_equal(got, exp, 48);
                vt_p384_fe_inv(&fr, &fa);
                vt_p384_fe_to_bytes(got, &fr);
                if (BN_is_zero(v[i]))
                        BN_zero(want);
                else
                        assert_non_null(BN_mod_inverse(want, v[i], p, ctx));
                bn48(want, exp);
                assert_memory_equal(got, exp, 48);
        }
        assert_true(checked >= 80 * 80);
        for (size_t i = 0; i < n; i++)
                BN_free(v[i]);
}

/* ---- the Montgomery limbs themselves: the arithmetic sees x·2^384 mod p, not x, so the
 * values whose carries and reductions are hard are chosen as limbs, and every result is
 * checked limb for limb against BIGNUM's a·b·2^-384 mod p (or a ± b mod p) ---- */

/* splitmix64, from a fixed seed: a failure reproduces */
static uint64_t next_rand(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static void bn_from_limbs(BIGNUM *r, const uint64_t v[6])
{
        uint8_t b[48];
        for (int i = 0; i < 6; i++)
                for (int j = 0; j < 8; j++)
                        b[47 - 8 * i - j] = (uint8_t)(v[i] >> (8 * j));
        assert_non_null(BN_bin2bn(b, 48, r));
}

static void limbs_from_bn(uint64_t v[6], const BIGNUM *a)
{
        uint8_t b[48];
        bn48(a, b);
        for (int i = 0; i < 6; i++) {
                v[i] = 0;
                for (int j = 0; j < 8; j++)
                        v[i] |= (uint64_t)b[47 - 8 * i - j] << (8 * j);
        }
}

static const uint64_t P384[6] = {0x00000000ffffffffULL, 0xffffffff00000000ULL,
                                 0xfffffffffffffffeULL, 0xffffffffffffffffULL,
                                 0xffffffffffffffffULL, 0xffffffffffffffffULL};

static bool below_p(const uint64_t v[6])
{
        for (int i = 5; i >= 0; i--)
                if (v[i] != P384[i])
                        return v[i] < P384[i];
        return false;
}

/* v = p - k */
static void p_minus(uint64_t v[6], uint64_t k)
{
        uint64_t br = k;
        for (int i = 0; i < 6; i++) {
                v[i] = P384[i] - br;
                br = P384[i] < br;
        }
}

/* v = 2^bit + d, d in -1..1 */
static void pow2_near(uint64_t v[6], int bit, int d)
{
        memset(v, 0, 6 * sizeof(*v));
        if (d < 0) {
                for (int i = 0; i < bit / 64; i++)
                        v[i] = ~0ULL;
                v[bit / 64] = (1ULL << (bit % 64)) - 1;
        } else {
                v[bit / 64] = 1ULL << (bit % 64);
                v[0] += (uint64_t)d;
        }
}

/* v below p: six random limbs, or six drawn from the patterns (p's own halves and their
 * neighbours); a sixth of the time with the top limb all ones, near p */
static void rand_limbs(uint64_t v[6], uint64_t *seed)
{
        static const uint64_t patterns[] = {0,
                                            1,
                                            2,
                                            0xffffffffULL,
                                            0x100000000ULL,
                                            0xfffffffeULL,
                                            0xffffffff00000000ULL,
                                            0xffffffff00000001ULL,
                                            0xfffffffffffffffeULL,
                                            0xffffffffffffffffULL,
                                            0x8000000000000000ULL,
                                            0x7fffffffffffffffULL};
        do {
                uint64_t r = next_rand(seed);
                for (int i = 0; i < 6; i++) {
                        uint64_t x = next_rand(seed);
                        v[i] = r % 2 == 0 ? x : patterns[x % ELEMENTSOF(patterns)];
                }
                if (r % 6 == 1)
                        v[5] = ~0ULL;
        } while (!below_p(v));
}

/* Limbs that carries, borrows and the reduction get wrong first: 0 to 3; p - 1 to p - 4,
 * p - 2^32, p - 2^64 and p less one in each limb; 2^384 mod p (one in Montgomery form), its
 * neighbours and its double; 2^k and 2^k ± 1 at every half-limb boundary; a limb of all
 * ones, or of either half p is made of (0xffffffff, 0xffffffff00000000), in each place;
 * all ones but the top bit, all ones below p's top limb, the top three limbs all ones;
 * (p ± 1)/2; then rand_limbs. */
static size_t limb_values(uint64_t (*v)[6], size_t cap, uint64_t *seed)
{
        static const uint64_t one[6] = {0xffffffff00000001ULL, 0xffffffffULL, 1};
        size_t n = 0;
        memset(v, 0, cap * sizeof(*v));
        for (uint64_t w = 0; w <= 3; w++)
                v[n++][0] = w;
        for (uint64_t k = 1; k <= 4; k++)
                p_minus(v[n++], k);
        p_minus(v[n++], 1ULL << 32);
        memcpy(v[n], P384, sizeof(P384));
        v[n++][1] = 0xfffffffeffffffffULL; /* p - 2^64 */
        for (int i = 0; i < 6; i++) {
                memcpy(v[n], P384, sizeof(P384));
                v[n++][i]--;
        }
        for (int d = -1; d <= 1; d++) {
                memcpy(v[n], one, sizeof(one));
                v[n++][0] += (uint64_t)(int64_t)d;
        }
        for (int i = 0; i < 6; i++)
                v[n][i] = one[i] << 1 | (i > 0 ? one[i - 1] >> 63 : 0);
        n++;
        for (int bit = 31; bit < 384; bit += 32)
                for (int b = bit; b <= bit + 1 && b < 384; b++)
                        for (int d = -1; d <= 1; d++)
                                pow2_near(v[n++], b, d);
        for (int i = 0; i < 6; i++) {
                v[n++][i] = ~0ULL;
                v[n++][i] = 0xffffffffULL;
                v[n++][i] = 0xffffffff00000000ULL;
        }
        for (int i = 0; i < 6; i++)
                v[n][i] = i < 5 ? ~0ULL : ~0ULL >> 1;
        n++;
        for (int i = 0; i < 6; i++)
                v[n][i] = i < 5 ? ~0ULL : 0xfffffffeffffffffULL;
        n++;
        for (int i = 3; i < 6; i++)
                v[n][i] = ~0ULL;
        n++;
        for (int i = 0; i < 6; i++)
                v[n][i] = P384[i] >> 1 | (i < 5 ? P384[i + 1] << 63 : 0);
        memcpy(v[n + 1], v[n], sizeof(v[n]));
        v[n + 1][0]++;
        n += 2;
        assert_true(n <= cap);
        while (n < cap)
                rand_limbs(v[n++], seed);
        for (size_t i = 0; i < n; i++)
                assert_true(below_p(v[i]));
        return n;
}

/* r's limbs are want's */
static void limbs_equal(const struct vt_p384_fe *r, const BIGNUM *want)
{
        uint64_t w[6];
        limbs_from_bn(w, want);
        assert_memory_equal(r->v, w, sizeof(w));
}

struct limb_ref {
        const BIGNUM *p;
        BIGNUM *rinv; /* 2^-384 mod p */
        BN_CTX *ctx;
        BIGNUM *a, *b, *t;
};

/* a·b, a^2 and a ± b on limbs a and b, each against BIGNUM; the square also bit for bit
 * against a·a; and each again in place (the result over an input), as the point formulas
 * call them */
static void limb_check(struct limb_ref *L, const uint64_t a[6], const uint64_t b[6])
{
        struct vt_p384_fe fa, fb, mul, sqr, add, sub, r;
        memcpy(fa.v, a, sizeof(fa.v));
        memcpy(fb.v, b, sizeof(fb.v));
        bn_from_limbs(L->a, a);
        bn_from_limbs(L->b, b);
        vt_p384_fe_mul(&mul, &fa, &fb);
        assert_true(BN_mod_mul(L->t, L->a, L->b, L->p, L->ctx));
        assert_true(BN_mod_mul(L->t, L->t, L->rinv, L->p, L->ctx));
        limbs_equal(&mul, L->t);
        vt_p384_fe_sqr(&sqr, &fa);
        assert_true(BN_mod_sqr(L->t, L->a, L->p, L->ctx));
        assert_true(BN_mod_mul(L->t, L->t, L->rinv, L->p, L->ctx));
        limbs_equal(&sqr, L->t);
        vt_p384_fe_mul(&r, &fa, &fa);
        assert_memory_equal(r.v, sqr.v, sizeof(r.v));
        vt_p384_fe_add(&add, &fa, &fb);
        assert_true(BN_mod_add(L->t, L->a, L->b, L->p, L->ctx));
        limbs_equal(&add, L->t);
        vt_p384_fe_sub(&sub, &fa, &fb);
        assert_true(BN_mod_sub(L->t, L->a, L->b, L->p, L->ctx));
        limbs_equal(&sub, L->t);

        r = fa;
        vt_p384_fe_mul(&r, &r, &fb);
        assert_memory_equal(r.v, mul.v, sizeof(r.v));
        r = fb;
        vt_p384_fe_mul(&r, &fa, &r);
        assert_memory_equal(r.v, mul.v, sizeof(r.v));
        r = fa;
        vt_p384_fe_sqr(&r, &r);
        assert_memory_equal(r.v, sqr.v, sizeof(r.v));
        r = fa;
        vt_p384_fe_mul(&r, &r, &r);
        assert_memory_equal(r.v, sqr.v, sizeof(r.v));
        r = fa;
        vt_p384_fe_add(&r, &r, &fb);
        assert_memory_equal(r.v, add.v, sizeof(r.v));
        r = fb;
        vt_p384_fe_sub(&r, &fa, &r);
        assert_memory_equal(r.v, sub.v, sizeof(r.v));
}

static void test_p384_limbs(void **state)
{
        (void)state;
        assert_true(vt_p384_init());
        _cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        _cleanup_(BN_freep) BIGNUM *rinv = BN_new(), *a = BN_new(), *b = BN_new(), *t = BN_new();
        assert_true(g && ctx && rinv && a && b && t);
        const BIGNUM *p = EC_GROUP_get0_field(g);
        uint64_t pl[6];
        limbs_from_bn(pl, p);
        assert_memory_equal(pl, P384, sizeof(pl));
        assert_true(BN_one(rinv) && BN_lshift(rinv, rinv, 384) && BN_mod(rinv, rinv, p, ctx));
        assert_non_null(BN_mod_inverse(rinv, rinv, p, ctx));
        struct limb_ref L = {p, rinv, ctx, a, b, t};
        uint64_t seed = 0x5eed384;
        /* every pair of the edge values (and as many random ones up to NV) */
        enum { NV = 160 };
        uint64_t(*v)[6] = malloc(NV * sizeof(*v));
        assert_non_null(v);
        size_t n = limb_values(v, NV, &seed);
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                        limb_check(&L, v[i], v[j]);
        /* and many random pairs */
        for (int i = 0; i < 30000; i++) {
                uint64_t x[6], y[6];
                rand_limbs(x, &seed);
                rand_limbs(y, &seed);
                limb_check(&L, x, y);
        }
        free(v);
}

/* x_of: OpenSSL's u1·G + u2·Q, its affine x (false at infinity). */
static bool x_of(const EC_GROUP *g, const BIGNUM *u1, const EC_POINT *q, const BIGNUM *u2,
                 uint8_t x[48])
{
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        _cleanup_(EC_POINT_freep) EC_POINT *r = EC_POINT_new(g);
        _cleanup_(BN_freep) BIGNUM *bx = BN_new();
        assert_true(ctx && r && bx);
        assert_int_equal(EC_POINT_mul(g, r, u1, q, u2, ctx), 1);
        if (EC_POINT_is_at_infinity(g, r))
                return false;
        assert_int_equal(EC_POINT_get_affine_coordinates(g, r, bx, NULL, ctx), 1);
        bn48(bx, x);
        return true;
}

static void table_of(const EC_GROUP *g, const EC_POINT *pt, struct vt_p384_table *t)
{
        _cleanup_(BN_freep) BIGNUM *x = BN_new(), *y = BN_new();
        uint8_t xb[48], yb[48];
        assert_int_equal(EC_POINT_get_affine_coordinates(g, pt, x, y, NULL), 1);
        bn48(x, xb);
        bn48(y, yb);
        assert_int_equal(vt_p384_table_build(t, xb, yb), 0);
}

/* our u1·G + u2·Q (tables gt, qt) agrees with OpenSSL's: x matches exactly, x + 1 does
 * not; at infinity nothing matches. */
static void agree(const EC_GROUP *g, const struct vt_p384_table *gt, const EC_POINT *q,
                  const struct vt_p384_table *qt, const BIGNUM *u1, const BIGNUM *u2)
{
        uint8_t a[48], b[48], x[48], x1[48];
        bn48(u1, a);
        bn48(u2, b);
        if (!x_of(g, u1, q, u2, x)) {
                memset(x1, 0, sizeof(x1));
                x1[47] = 1;
                assert_false(vt_p384_x_matches(gt, qt, a, b, x1, NULL));
                return;
        }
        assert_true(vt_p384_x_matches(gt, qt, a, b, x, NULL));
        memcpy(x1, x, 48);
        x1[47] ^= 1;
        assert_false(vt_p384_x_matches(gt, qt, a, b, x1, NULL));
        /* the second candidate counts as much as the first */
        assert_true(vt_p384_x_matches(gt, qt, a, b, x1, x));
}

static void test_p384_points(void **state)
{
        (void)state;
        assert_true(vt_p384_init());
        _cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        const BIGNUM *order = EC_GROUP_get0_order(g);
        const EC_POINT *G = EC_GROUP_get0_generator(g);
        _cleanup_(EC_POINT_freep) EC_POINT *q = EC_POINT_new(g), *negG = EC_POINT_dup(G, g);
        _cleanup_(BN_freep) BIGNUM *k = BN_new(), *u1 = BN_new(), *u2 = BN_new();
        assert_true(ctx && q && negG && k && u1 && u2);
        assert_true(BN_rand_range(k, order));
        assert_int_equal(EC_POINT_mul(g, q, k, NULL, NULL, ctx), 1);
        assert_int_equal(EC_POINT_invert(g, negG, ctx), 1);
        struct vt_p384_table *gt = malloc(sizeof(*gt)), *qt = malloc(sizeof(*qt)),
                             *nt = malloc(sizeof(*nt));
        assert_true(gt && qt && nt);
        table_of(g, G, gt);
        table_of(g, q, qt);
        table_of(g, negG, nt);
        /* random scalars */
        for (int i = 0; i < 200; i++) {
                assert_true(BN_rand_range(u1, order) && BN_rand_range(u2, order));
                agree(g, gt, q, qt, u1, u2);
        }
        /* one half zero, both zero, small scalars, the order minus one */
        BN_zero(u1);
        assert_true(BN_rand_range(u2, order));
        agree(g, gt, q, qt, u1, u2);
        agree(g, gt, q, qt, u2, u1);
        agree(g, gt, q, qt, u1, u1);
        for (BN_ULONG w = 1; w < 4; w++) {
                assert_true(BN_set_word(u1, w) && BN_set_word(u2, 4 - w));
                agree(g, gt, q, qt, u1, u2);
        }
        assert_true(BN_copy(u1, order) && BN_sub_word(u1, 1));
        agree(g, gt, q, qt, u1, u1);
        /* Q = G with u2 = u1: every column adds an entry to itself (P + P doubles) */
        for (int i = 0; i < 20; i++) {
                assert_true(BN_rand_range(u1, order));
                agree(g, gt, G, gt, u1, u1);
        }
        /* Q = -G with u2 = u1: the first column adds an entry and its negation (P + -P is
         * infinity, and the sum goes on from there); the result is infinity */
        for (int i = 0; i < 20; i++) {
                uint8_t a[48], x[48];
                assert_true(BN_rand_range(u1, order));
                bn48(u1, a);
                assert_false(x_of(g, u1, negG, u1, x));
                memset(x, 0, sizeof(x));
                assert_false(vt_p384_x_matches(gt, nt, a, a, x, NULL));
                /* and with u2 = u1 + 1, the sum is -G: x of G */
                assert_true(BN_copy(u2, u1) && BN_add_word(u2, 1));
                if (BN_cmp(u2, order) < 0)
                        agree(g, gt, negG, nt, u1, u2);
        }
        /* Q = G with u2 = order - u1: u1·G + (n - u1)·G is infinity */
        for (int i = 0; i < 20; i++) {
                assert_true(BN_rand_range(u1, order) && !BN_is_zero(u1));
                assert_true(BN_sub(u2, order, u1));
                agree(g, gt, G, gt, u1, u2);
        }
        free(gt);
        free(qt);
        free(nt);
}

static void test_ecfix_first_use_passes(void **state)
{
        (void)state;
        vt_ecfix_reset();
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = new_key("P-384");
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k256 = new_key("P-256");
        struct sig g;
        sign(k, &g, 48);
        /* a key gets a slot only once EVP found one of its signatures valid */
        struct vt_ecfix_key seen;
        assert_int_equal(vt_ecfix_verify(k, g.digest, g.dlen, g.r, g.s, 48, &seen), VT_ECFIX_PASS);
        assert_int_equal(vt_ecfix_verify(k, g.digest, g.dlen, g.r, g.s, 48, &seen), VT_ECFIX_PASS);
        assert_int_equal(seen.len, 97);
        struct vt_ecfix_stats st;
        vt_ecfix_stats(&st);
        assert_int_equal(st.keys, 0);
        vt_ecfix_remember(&seen);
        vt_ecfix_stats(&st);
        assert_int_equal(st.keys, 1);
        assert_int_equal(st.tables, 0);
        assert_int_equal(vt_ecfix_verify(k, g.digest, g.dlen, g.r, g.s, 48, &seen), 0);
        vt_ecfix_stats(&st);
        assert_int_equal(st.keys, 1);
        assert_int_equal(st.tables, 1);
        assert_int_equal(st.fast, 1);
        /* other curves are EVP's, always, and get no slot */
        for (int i = 0; i < 3; i++) {
                assert_int_equal(vt_ecfix_verify(k256, g.digest, 32, g.r + 16, g.s + 16, 32, &seen),
                                 VT_ECFIX_PASS);
                assert_int_equal(seen.len, 0);
                vt_ecfix_remember(&seen);
        }
        vt_ecfix_stats(&st);
        assert_int_equal(st.keys, 1);
}

/* Through vt_ecdsa_verify_rs: forged signatures alone never give a key a slot; one valid
 * signature does, and the next verification builds its table. */
static void test_ecfix_forged_only(void **state)
{
        (void)state;
        vt_ecfix_reset();
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = new_key("P-384");
        struct sig g;
        sign(k, &g, 48);
        struct sig b = g;
        struct vt_ecfix_stats st;
        for (int i = 0; i < 5; i++) {
                flip(b.s, 48);
                assert_int_equal(ours(k, &b), reference(k, &b));
                vt_ecfix_stats(&st);
                assert_int_equal(st.keys, 0);
        }
        assert_int_equal(ours(k, &g), 1);
        vt_ecfix_stats(&st);
        assert_int_equal(st.keys, 1);
        assert_int_equal(st.tables, 0);
        assert_int_equal(st.fast, 0);
        b = g;
        flip(b.digest, 48);
        assert_int_equal(ours(k, &b), 0);
        vt_ecfix_stats(&st);
        assert_int_equal(st.tables, 1);
        assert_int_equal(st.fast, 1);
}

/* Valid signatures, and each with one bit of r, s or the digest changed, over digests of
 * 20, 32, 48 and 64 bytes (shorter than the order, and longer: truncated). */
static void test_ecfix_agrees(void **state)
{
        (void)state;
        vt_ecfix_reset();
        static const size_t dlens[] = {48, 32, 64, 20};
        EVP_PKEY *keys[6];
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                keys[i] = new_key("P-384");
                struct sig g;
                sign(keys[i], &g, 48);
                assert_int_equal(ours(keys[i], &g), 1); /* EVP's, and the key's slot */
        }
        assert_int_equal(fast_count(), 0);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                for (int round = 0; round < 20; round++) {
                        struct sig g;
                        sign(keys[i], &g, dlens[round % 4]);
                        assert_int_equal(ours(keys[i], &g), 1);
                        for (int which = 0; which < 3; which++) {
                                struct sig b = g;
                                flip(which == 0   ? b.r
                                     : which == 1 ? b.s
                                                  : b.digest,
                                     which == 2 ? b.dlen : 48);
                                assert_int_equal(ours(keys[i], &b), reference(keys[i], &b));
                        }
                        /* another key's signature */
                        EVP_PKEY *other = keys[(i + 1) % ELEMENTSOF(keys)];
                        assert_int_equal(ours(other, &g), 0);
                }
        struct vt_ecfix_stats st;
        vt_ecfix_stats(&st);
        assert_int_equal(st.tables, ELEMENTSOF(keys));
        /* every verification after each key's first went through its table */
        assert_int_equal(st.fast, ELEMENTSOF(keys) * 20 * 5);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                EVP_PKEY_free(keys[i]);
}

static void put_order(EVP_PKEY *k, uint8_t out[48], int add)
{
        (void)k;
        _cleanup_(EC_GROUP_freep) EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_freep) BIGNUM *v = BN_dup(EC_GROUP_get0_order(grp));
        assert_non_null(v);
        if (add < 0)
                assert_int_equal(BN_sub_word(v, (BN_ULONG)-add), 1);
        else
                assert_int_equal(BN_add_word(v, (BN_ULONG)add), 1);
        assert_int_equal(BN_bn2binpad(v, out, 48), 48);
}

/* r and s at and beyond the ends of [1, order - 1], and digests that make u1 zero. */
static void test_ecfix_edges(void **state)
{
        (void)state;
        vt_ecfix_reset();
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = new_key("P-384");
        struct sig g;
        sign(k, &g, 48);
        assert_int_equal(ours(k, &g), 1);
        assert_int_equal(ours(k, &g), 1);
        uint64_t f0 = fast_count();
        struct sig b = g;
        memset(b.r, 0, 48);
        assert_int_equal(ours(k, &b), 0);
        b = g;
        memset(b.s, 0, 48);
        assert_int_equal(ours(k, &b), 0);
        b = g;
        put_order(k, b.r, 0);
        assert_int_equal(ours(k, &b), 0);
        b = g;
        put_order(k, b.s, 0);
        assert_int_equal(ours(k, &b), 0);
        b = g;
        put_order(k, b.s, 1);
        assert_int_equal(ours(k, &b), 0);
        b = g;
        memset(b.r, 0xff, 48);
        assert_int_equal(ours(k, &b), 0);
        b = g;
        put_order(k, b.s, -1); /* in range, wrong */
        assert_int_equal(ours(k, &b), reference(k, &b));
        assert_true(fast_count() >= f0 + 7);

        /* u1 = 0: a digest of zeros, and a digest equal to the order (0 mod the order);
         * both signed by OpenSSL, both valid */
        for (int z = 0; z < 2; z++) {
                struct sig zg = {.dlen = 48};
                if (z == 0)
                        memset(zg.digest, 0, 48);
                else
                        put_order(k, zg.digest, 0);
                sign_digest(k, &zg);
                assert_int_equal(reference(k, &zg), 1);
                assert_int_equal(ours(k, &zg), 1);
                flip(zg.s, 48);
                assert_int_equal(ours(k, &zg), 0);
        }
}

/* The point u1·G + u2·Q whose x lies between the order n and the field's prime p: then r is
 * x - n, and only the second comparison (r + n) finds it. Random signatures reach it with a
 * chance of 2^-194, so the test builds one: it picks R with such an x, scalars a and b, and
 * the key Q = b^-1·(R - a·G) (whose private key nobody knows); then r = x - n,
 * s = r·b^-1 and the digest e = a·s give u1 = a and u2 = b. */
static void test_ecfix_x_above_order(void **state)
{
        (void)state;
        vt_ecfix_reset();
        _cleanup_(EC_GROUP_freep) EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        assert_non_null(grp);
        assert_non_null(ctx);
        const BIGNUM *n = EC_GROUP_get0_order(grp);
        BIGNUM *x = BN_new(), *a = BN_new(), *b = BN_new(), *bi = BN_new(), *r = BN_new();
        BIGNUM *sv = BN_new(), *e = BN_new();
        EC_POINT *R = EC_POINT_new(grp), *T = EC_POINT_new(grp), *Q = EC_POINT_new(grp);
        assert_true(x && a && b && bi && r && sv && e && R && T && Q);
        assert_non_null(BN_copy(x, n));
        int found = 0;
        for (int k = 0; k < 200 && !found; k++) {
                assert_int_equal(BN_add_word(x, 1), 1);
                found = EC_POINT_set_compressed_coordinates(grp, R, x, 0, ctx) == 1;
                ERR_clear_error();
        }
        assert_true(found);
        assert_true(BN_cmp(x, EC_GROUP_get0_field(grp)) < 0);
        assert_int_equal(BN_rand_range(a, n), 1);
        assert_int_equal(BN_rand_range(b, n), 1);
        assert_non_null(BN_mod_inverse(bi, b, n, ctx));
        /* Q = b^-1·(R - a·G) */
        assert_int_equal(EC_POINT_mul(grp, T, a, NULL, NULL, ctx), 1);
        assert_int_equal(EC_POINT_invert(grp, T, ctx), 1);
        assert_int_equal(EC_POINT_add(grp, T, R, T, ctx), 1);
        assert_int_equal(EC_POINT_mul(grp, Q, NULL, T, bi, ctx), 1);
        /* r = x - n, s = r·b^-1, e = a·s */
        assert_int_equal(BN_sub(r, x, n), 1);
        assert_int_equal(BN_mod_mul(sv, r, bi, n, ctx), 1);
        assert_int_equal(BN_mod_mul(e, a, sv, n, ctx), 1);
        struct sig g = {.dlen = 48};
        assert_int_equal(BN_bn2binpad(r, g.r, 48), 48);
        assert_int_equal(BN_bn2binpad(sv, g.s, 48), 48);
        assert_int_equal(BN_bn2binpad(e, g.digest, 48), 48);

        uint8_t pt[97];
        assert_int_equal(
                EC_POINT_point2oct(grp, Q, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), ctx),
                sizeof(pt));
        EVP_PKEY *key = public_key(pt, sizeof(pt));

        assert_int_equal(reference(key, &g), 1);
        assert_int_equal(ours(key, &g), 1); /* EVP's */
        assert_int_equal(ours(key, &g), 1); /* the table's */
        assert_int_equal(fast_count(), 1);
        /* x itself is not a valid r (not below n); and a neighbouring r is wrong */
        struct sig bad = g;
        assert_int_equal(BN_bn2binpad(x, bad.r, 48), 48);
        assert_int_equal(ours(key, &bad), 0);
        bad = g;
        flip(bad.r + 40, 8);
        assert_int_equal(ours(key, &bad), reference(key, &bad));
        assert_int_equal(fast_count(), 3);

        EVP_PKEY_free(key);
        EC_POINT_free(R);
        EC_POINT_free(T);
        EC_POINT_free(Q);
        BN_free(x), BN_free(a), BN_free(b), BN_free(bi), BN_free(r), BN_free(sv), BN_free(e);
}

/* A key given as a compressed point verifies as the same key does uncompressed. */
static void test_ecfix_compressed_key(void **state)
{
        (void)state;
        vt_ecfix_reset();
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = new_key("P-384");
        uint8_t pt[97];
        size_t len = 0;
        assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
                                                         sizeof(pt), &len),
                         1);
        assert_int_equal(len, 97);
        uint8_t comp[49];
        comp[0] = (uint8_t)(2 + (pt[96] & 1));
        memcpy(comp + 1, pt + 1, 48);
        EVP_PKEY *kc = public_key(comp, sizeof(comp));
        for (int i = 0; i < 6; i++) {
                struct sig g;
                sign(k, &g, 48);
                assert_int_equal(ours(kc, &g), 1);
                assert_int_equal(ours(k, &g), 1);
                flip(g.r, 48);
                assert_int_equal(ours(kc, &g), 0);
        }
        assert_true(fast_count() >= 14);
        EVP_PKEY_free(kc);
}

/* More keys than slots, in turn: slots are reused, answers stay right. */
static void test_ecfix_evict(void **state)
{
        (void)state;
        vt_ecfix_reset();
        enum { NK = VT_ECFIX_KEYS + 5 };
        EVP_PKEY *keys[NK];
        struct sig sigs[NK];
        for (size_t i = 0; i < NK; i++) {
                keys[i] = new_key("P-384");
                sign(keys[i], &sigs[i], 48);
        }
        for (int round = 0; round < 4; round++)
                for (size_t i = 0; i < NK; i++) {
                        size_t j = round % 2 ? NK - 1 - i : i;
                        for (int t = 0; t < 2; t++)
                                assert_int_equal(ours(keys[j], &sigs[j]), 1);
                        assert_int_equal(ours(keys[j], &sigs[(j + 1) % NK]), 0);
                }
        struct vt_ecfix_stats st;
        vt_ecfix_stats(&st);
        assert_int_equal(st.keys, VT_ECFIX_KEYS);
        assert_true(st.tables <= VT_ECFIX_KEYS);
        assert_true(st.fast > 0);
        for (size_t i = 0; i < NK; i++)
                EVP_PKEY_free(keys[i]);
}

/* Threads verifying through shared tables while slots are evicted and refilled. */
enum { TK = VT_ECFIX_KEYS + 4, TS = 8, TN = 4, TR = 150 };
struct tcase {
        EVP_PKEY *keys[TK];
        struct sig sigs[TK][TS];
        int want[TK][TS];
};

static void *worker(void *arg)
{
        struct tcase *c = arg;
        uint32_t x = 0;
        for (int i = 0; i < TR; i++) {
                if (RAND_bytes((uint8_t *)&x, sizeof(x)) != 1)
                        return (void *)1;
                size_t k = (x >> 8) % (i % 3 ? 4 : TK), s = x % TS;
                int e = vt_ecdsa_verify_rs(c->keys[k], c->sigs[k][s].digest, 48, c->sigs[k][s].r,
                                           c->sigs[k][s].s, 48);
                if ((e == 0) != c->want[k][s] || (e != 0 && e != VT_E_SIGNATURE))
                        return (void *)1;
        }
        return NULL;
}

static void test_ecfix_threads(void **state)
{
        (void)state;
        vt_ecfix_reset();
        struct tcase *c = calloc(1, sizeof(*c));
        assert_non_null(c);
        for (size_t k = 0; k < TK; k++) {
                c->keys[k] = new_key("P-384");
                for (size_t s = 0; s < TS; s++) {
                        sign(c->keys[k], &c->sigs[k][s], 48);
                        if (s % 2)
                                flip(s % 4 == 1 ? c->sigs[k][s].r : c->sigs[k][s].digest, 48);
                        c->want[k][s] = reference(c->keys[k], &c->sigs[k][s]);
                        assert_int_equal(c->want[k][s], s % 2 == 0);
                }
        }
        pthread_t t[TN];
        for (int i = 0; i < TN; i++)
                assert_int_equal(pthread_create(&t[i], NULL, worker, c), 0);
        for (int i = 0; i < TN; i++) {
                void *bad = NULL;
                assert_int_equal(pthread_join(t[i], &bad), 0);
                assert_null(bad);
        }
        assert_true(fast_count() > TN * TR / 2);
        for (size_t k = 0; k < TK; k++)
                EVP_PKEY_free(c->keys[k]);
        free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_p384_field),
                cmocka_unit_test(test_p384_limbs),
                cmocka_unit_test(test_p384_points),
                cmocka_unit_test(test_ecfix_first_use_passes),
                cmocka_unit_test(test_ecfix_forged_only),
                cmocka_unit_test(test_ecfix_agrees),
                cmocka_unit_test(test_ecfix_edges),
                cmocka_unit_test(test_ecfix_x_above_order),
                cmocka_unit_test(test_ecfix_compressed_key),
                cmocka_unit_test(test_ecfix_evict),
                cmocka_unit_test(test_ecfix_threads),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
