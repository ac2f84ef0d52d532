/* SPDX-License-Identifier: Apache-2.0 */
/*
 * P-384 field and point arithmetic for verification (crypto/p384.h). Montgomery
 * multiplication on 64-bit limbs scans the product a column at a time and reduces by the
 * prime's special form, with shifts and additions instead of multiplications (redc_limb);
 * a square computes each cross product once. The point formulas are the Explicit-Formulas
 * Database's dbl-2001-b (a = -3) and madd-2004-hmv, with the cases those formulas exclude
 * (a point at infinity, P + P, P + -P) handled before they apply. Variable time, public
 * values only.
 */
#include "crypto/p384.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "crypto/openssl-util.h"
#include "veritee/veritee.h"

#ifdef __SIZEOF_INT128__

#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef unsigned __int128 u128;

/* The limb loops are short and fixed: unrolled, the multiplication runs about three times
 * faster at -O2 (which would keep them as loops). */
#define UNROLL _Pragma("GCC unroll 12")
#define INLINE static inline __attribute__((always_inline))
typedef struct vt_p384_fe fe;

/* 2^768 mod p (to Montgomery form), 2^384 mod p (one in Montgomery form) and p - 2 (the
 * exponent of an inversion): from OpenSSL's group, once. */
static uint64_t PM2[6];

/* P-384's prime, 2^384 - 2^128 - 2^96 + 2^32 - 1, as constants that the compiler folds into
 * the arithmetic (vt_p384_init checks them against OpenSSL's group; the reduction is written
 * for this prime), and -p^-1 mod 2^64, 2^32 + 1. */
static const uint64_t P[6] = {0x00000000ffffffffULL, 0xffffffff00000000ULL, 0xfffffffffffffffeULL,
                              0xffffffffffffffffULL, 0xffffffffffffffffULL, 0xffffffffffffffffULL};
#define N0 0x0000000100000001ULL
static fe R2, ONE;
static bool ready;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void limbs_from_be(uint64_t v[6], const uint8_t b[VT_P384_BYTES])
{
        for (int i = 0; i < 6; i++) {
                const uint8_t *p = b + VT_P384_BYTES - 8 * (i + 1);
                uint64_t x = 0;
                for (int j = 0; j < 8; j++)
                        x = x << 8 | p[j];
                v[i] = x;
        }
}

static void limbs_to_be(uint8_t b[VT_P384_BYTES], const uint64_t v[6])
{
        for (int i = 0; i < 6; i++) {
                uint8_t *p = b + VT_P384_BYTES - 8 * (i + 1);
                for (int j = 0; j < 8; j++)
                        p[j] = (uint8_t)(v[i] >> (56 - 8 * j));
        }
}

/* r = a + b + *c, *c the carry in and out (0 or 1); subb likewise with a borrow. On x86-64
 * the add-with-carry intrinsics (baseline instructions, no ADX) keep a chain of these in the
 * carry flag, which gcc does not do for the same chain written with 128-bit sums. */
INLINE uint64_t addc(uint64_t a, uint64_t b, uint64_t *c)
{
#if defined(__x86_64__)
        unsigned long long s;
        *c = _addcarry_u64((unsigned char)*c, a, b, &s);
        return s;
#else
        u128 s = (u128)a + b + *c;
        *c = (uint64_t)(s >> 64);
        return (uint64_t)s;
#endif
}

INLINE uint64_t subb(uint64_t a, uint64_t b, uint64_t *c)
{
#if defined(__x86_64__)
        unsigned long long d;
        *c = _subborrow_u64((unsigned char)*c, a, b, &d);
        return d;
#else
        u128 d = (u128)a - b - *c;
        *c = (uint64_t)(d >> 64) & 1;
        return (uint64_t)d;
#endif
}

/* r = t - p if t (with the carry top, 0 or 1, above its six limbs) is at least p, else t.
 * The selection is an xor under a mask: gcc 12 at -O2 makes (s & keep) | (t & ~keep) SSE
 * shuffles and keep ? t : s a branch, both slower here. */
INLINE void reduce_once(uint64_t r[6], const uint64_t t[6], uint64_t top)
{
        uint64_t s[6], br = 0;
        UNROLL for (int j = 0; j < 6; j++) s[j] = subb(t[j], P[j], &br);
        /* top - br borrows when t is below p: all ones, keep t */
        (void)subb(top, 0, &br);
        uint64_t keep = 0 - br;
        UNROLL for (int j = 0; j < 6; j++) r[j] = s[j] ^ ((s[j] ^ t[j]) & keep);
}

/* (acc, hi) += a·b, a step of a product scan: acc the column, hi its overflow */
INLINE void mac(u128 *acc, uint64_t *hi, uint64_t a, uint64_t b)
{
        u128 p = (u128)a * b;
        *acc += p;
        *hi += *acc < p;
}

/* the column's low limb; the rest moves down to the next column */
INLINE uint64_t next_column(u128 *acc, uint64_t *hi)
{
        uint64_t lo = (uint64_t)*acc;
        *acc = *acc >> 64 | (u128)*hi << 64;
        *hi = 0;
        return lo;
}

/* t = a^2: the 15 products a[i]·a[j], i < j, summed a column at a time, then twice that sum
 * plus the 6 squares */
INLINE void sqr_wide(uint64_t t[12], const uint64_t a[6])
{
        uint64_t x[12], sq[12], c = 0;
        u128 acc = 0;
        uint64_t hi = 0;
        x[0] = 0;
        UNROLL for (int k = 1; k < 10; k++)
        {
                UNROLL for (int i = k < 6 ? 0 : k - 5; 2 * i < k; i++)
                        mac(&acc, &hi, a[i], a[k - i]);
                x[k] = next_column(&acc, &hi);
        }
        /* the sum is below 2^704 (at most with every limb all ones): doubled, it reaches
         * limb 11 only through the carry */
        x[10] = (uint64_t)acc;
        x[11] = 0;
        UNROLL for (int i = 0; i < 6; i++)
        {
                u128 s = (u128)a[i] * a[i];
                sq[2 * i] = (uint64_t)s;
                sq[2 * i + 1] = (uint64_t)(s >> 64);
        }
        /* two carry chains, one after the other */
        UNROLL for (int k = 1; k < 12; k++) x[k] = addc(x[k], x[k], &c);
        c = 0;
        t[0] = sq[0];
        UNROLL for (int k = 1; k < 12; k++) t[k] = addc(x[k], sq[k], &c);
}

/* Montgomery reduction (REDC), r = t·2^-384 mod p for t below p·2^384, a limb at a time:
 * the digit of limb k is m = v·(2^32 + 1) mod 2^64 (-p^-1 mod 2^64 is 2^32 + 1) for v the
 * limb with everything that reached it, and m·p = m·(2^384 - 2^128 - 2^96 + 2^32 - 1)
 * added at limb k takes no multiplication:
 *   m·(2^32 - 1) clears limb k and carries (m >> 32) + (1 if v + (v << 32) overflowed);
 *   -m·2^96 is -(m << 32) = -(v << 32) at limb k + 1 and -(m >> 32) at limb k + 2;
 *   -m·2^128 is -m at limb k + 2, and m·2^384 is +m at limb k + 6.
 * redc_limb does limb k < 6 (m[k], x[k] = v << 32 and the carry c into limb k + 1), with
 * the signed carry (two's complement, at most about 2^32 in size) added last: the chain
 * from limb to limb is that addition and m. */
INLINE void redc_limb(int k, uint64_t tk, uint64_t m[6], uint64_t x[6], uint64_t *c)
{
        /* v + h·2^64, the limb's sum, h signed: starting from t[k] and the sign of c */
        uint64_t v = tk, h = 0 - (*c >> 63), br = 0, cy = 0;
        if (k >= 2) {
                v = subb(v, m[k - 2], &br);
                h = subb(h, 0, &br);
        }
        if (k >= 1) {
                br = 0;
                v = subb(v, x[k - 1], &br);
                h = subb(h, m[k - 1] >> 32, &br);
        }
        v = addc(v, *c, &cy);
        h = addc(h, 0, &cy);
        x[k] = v << 32;
        m[k] = v * N0;
        cy = m[k] < v;
        *c = addc(h, m[k] >> 32, &cy);
}

/* The upper half, once m is known and c is the carry into limb 6: r = th + m + c - m[4] -
 * m[5]·2^32 - m[5]·2^64 with th the limbs 6 to 11, m the m·2^384 terms and the rest what
 * m[4] and m[5] put above limb 5 (m[4] >> 32 is in c already). r is below 2p: reduced once. */
INLINE void redc_high(uint64_t r[6], const uint64_t th[6], const uint64_t m[6], uint64_t x5,
                      uint64_t c)
{
        uint64_t u[6], w[6], br = 0, cy = 0;
        /* w = th + m - m[5]·2^64 (m is at least m[5]·2^320) */
        u[0] = m[0];
        u[1] = subb(m[1], m[5], &br);
        UNROLL for (int j = 2; j < 6; j++) u[j] = subb(m[j], 0, &br);
        UNROLL for (int j = 0; j < 6; j++) w[j] = addc(th[j], u[j], &cy);
        uint64_t top = cy;
        /* d = c - m[4] - m[5]·2^32: two limbs, signed, and its sign s above them */
        uint64_t d0 = c, d1 = 0 - (c >> 63);
        br = 0;
        d0 = subb(d0, m[4], &br);
        d1 = subb(d1, 0, &br);
        br = 0;
        d0 = subb(d0, x5, &br);
        d1 = subb(d1, m[5] >> 32, &br);
        uint64_t s = 0 - (d1 >> 63);
        cy = 0;
        w[0] = addc(w[0], d0, &cy);
        w[1] = addc(w[1], d1, &cy);
        UNROLL for (int j = 2; j < 6; j++) w[j] = addc(w[j], s, &cy);
        top = addc(top, s, &cy);
        reduce_once(r, w, top);
}

/* r = a·b·2^-384 mod p, a and b below p (or a below 2^384 and b below p): the product a
 * column at a time (product scanning, a three-limb accumulator that stays in registers),
 * each of the low six columns reduced as it comes out */
static void mont_mul(uint64_t r[6], const uint64_t a[6], const uint64_t b[6])
{
        u128 acc = 0;
        uint64_t hi = 0, m[6], x[6], th[6], c = 0;
        UNROLL for (int k = 0; k < 12; k++)
        {
                UNROLL for (int i = k < 6 ? 0 : k - 5; i <= (k < 6 ? k : 5); i++)
                        mac(&acc, &hi, a[i], b[k - i]);
                uint64_t tk = k < 11 ? next_column(&acc, &hi) : (uint64_t)acc;
                if (k < 6)
                        redc_limb(k, tk, m, x, &c);
                else
                        th[k - 6] = tk;
        }
        redc_high(r, th, m, x[5], c);
}

static void fe_mul(fe *r, const fe *a, const fe *b)
{
        mont_mul(r->v, a->v, b->v);
}

static void fe_sqr(fe *r, const fe *a)
{
        uint64_t t[12], m[6], x[6], c = 0;
        sqr_wide(t, a->v);
        UNROLL for (int k = 0; k < 6; k++) redc_limb(k, t[k], m, x, &c);
        redc_high(r->v, t + 6, m, x[5], c);
}

static void fe_add(fe *r, const fe *a, const fe *b)
{
        uint64_t t[6], c = 0, br = 0;
        UNROLL for (int j = 0; j < 6; j++) t[j] = addc(a->v[j], b->v[j], &c);
        UNROLL for (int j = 0; j < 6; j++) t[j] = subb(t[j], P[j], &br);
        /* c - br borrows when a + b was below p: add p back */
        (void)subb(c, 0, &br);
        uint64_t mask = 0 - br;
        c = 0;
        UNROLL for (int j = 0; j < 6; j++) r->v[j] = addc(t[j], P[j] & mask, &c);
}

static void fe_sub(fe *r, const fe *a, const fe *b)
{
        uint64_t t[6], br = 0, c = 0;
        UNROLL for (int j = 0; j < 6; j++) t[j] = subb(a->v[j], b->v[j], &br);
        /* below zero: add p back (the carry out cancels the borrow) */
        uint64_t mask = 0 - br;
        UNROLL for (int j = 0; j < 6; j++) r->v[j] = addc(t[j], P[j] & mask, &c);
}

static bool fe_is_zero(const fe *a)
{
        return (a->v[0] | a->v[1] | a->v[2] | a->v[3] | a->v[4] | a->v[5]) == 0;
}

static bool fe_equal(const fe *a, const fe *b)
{
        return memcmp(a->v, b->v, sizeof(a->v)) == 0;
}

/* r = a^(p-2) = a^-1 (0 for 0), square and multiply over the bits of p - 2 */
static void fe_inv(fe *r, const fe *a)
{
        fe x = ONE;
        for (int i = 383; i >= 0; i--) {
                fe_sqr(&x, &x);
                if (PM2[i / 64] >> (i % 64) & 1)
                        fe_mul(&x, &x, a);
        }
        *r = x;
}

static void init_once(void)
{
        _cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        _cleanup_(BN_freep) BIGNUM *t = BN_new();
        const BIGNUM *p = g ? EC_GROUP_get0_field(g) : NULL;
        uint8_t b[VT_P384_BYTES];
        if (!p || !ctx || !t || BN_num_bits(p) != 384 || !BN_is_odd(p) ||
            BN_bn2binpad(p, b, sizeof(b)) != (int)sizeof(b)) {
                ERR_clear_error();
                return;
        }
        uint64_t q[6];
        limbs_from_be(q, b);
        if (memcmp(q, P, sizeof(q)) != 0 || (uint64_t)(P[0] * N0) != UINT64_MAX)
                return; /* not the prime this file is written for */
        /* 2^384 and 2^768 mod p */
        if (!BN_one(t) || !BN_lshift(t, t, 384) || !BN_mod(t, t, p, ctx) ||
            BN_bn2binpad(t, b, sizeof(b)) != (int)sizeof(b)) {
                ERR_clear_error();
                return;
        }
        limbs_from_be(ONE.v, b);
        if (!BN_one(t) || !BN_lshift(t, t, 768) || !BN_mod(t, t, p, ctx) ||
            BN_bn2binpad(t, b, sizeof(b)) != (int)sizeof(b)) {
                ERR_clear_error();
                return;
        }
        limbs_from_be(R2.v, b);
        if (!BN_copy(t, p) || !BN_sub_word(t, 2) ||
            BN_bn2binpad(t, b, sizeof(b)) != (int)sizeof(b)) {
                ERR_clear_error();
                return;
        }
        limbs_from_be(PM2, b);
        ready = true;
}

bool vt_p384_init(void)
{
        pthread_once(&once, init_once);
        return ready;
}

void vt_p384_fe_from_bytes(fe *r, const uint8_t b[VT_P384_BYTES])
{
        uint64_t x[6];
        limbs_from_be(x, b);
        mont_mul(r->v, x, R2.v);
}

void vt_p384_fe_to_bytes(uint8_t b[VT_P384_BYTES], const fe *a)
{
        static const uint64_t one[6] = {1};
        uint64_t x[6];
        mont_mul(x, a->v, one);
        limbs_to_be(b, x);
}

void vt_p384_fe_mul(fe *r, const fe *a, const fe *b)
{
        fe_mul(r, a, b);
}

void vt_p384_fe_sqr(fe *r, const fe *a)
{
        fe_sqr(r, a);
}

void vt_p384_fe_add(fe *r, const fe *a, const fe *b)
{
        fe_add(r, a, b);
}

void vt_p384_fe_sub(fe *r, const fe *a, const fe *b)
{
        fe_sub(r, a, b);
}

void vt_p384_fe_inv(fe *r, const fe *a)
{
        fe_inv(r, a);
}

/* A point in Jacobian coordinates, (X/Z^2, Y/Z^3); Z = 0 is the point at infinity. */
struct jac {
        fe x, y, z;
};

/* p = 2p (dbl-2001-b, for a = -3; infinity stays infinity: Z3 = 2·Y·Z) */
static void dbl(struct jac *p)
{
        fe delta, gamma, beta, alpha, t1, t2, b4, b8, g8;
        fe_sqr(&delta, &p->z);
        fe_sqr(&gamma, &p->y);
        fe_mul(&beta, &p->x, &gamma);
        fe_sub(&t1, &p->x, &delta);
        fe_add(&t2, &p->x, &delta);
        fe_mul(&t1, &t1, &t2);
        fe_add(&alpha, &t1, &t1);
        fe_add(&alpha, &alpha, &t1);
        fe_add(&b4, &beta, &beta);
        fe_add(&b4, &b4, &b4);
        fe_add(&b8, &b4, &b4);
        /* Z3 = (Y + Z)^2 - gamma - delta, before Y changes */
        fe_add(&t1, &p->y, &p->z);
        fe_sqr(&t1, &t1);
        fe_sub(&t1, &t1, &gamma);
        fe_sub(&p->z, &t1, &delta);
        /* X3 = alpha^2 - 8·beta */
        fe_sqr(&t1, &alpha);
        fe_sub(&p->x, &t1, &b8);
        /* Y3 = alpha·(4·beta - X3) - 8·gamma^2 */
        fe_sqr(&g8, &gamma);
        fe_add(&g8, &g8, &g8);
        fe_add(&g8, &g8, &g8);
        fe_add(&g8, &g8, &g8);
        fe_sub(&t1, &b4, &p->x);
        fe_mul(&t1, &alpha, &t1);
        fe_sub(&p->y, &t1, &g8);
}

/* p = p + (x2, y2), an affine point (madd-2004-hmv). P + P doubles, P + -P is infinity,
 * infinity + Q is Q. */
static void madd(struct jac *p, const fe *x2, const fe *y2)
{
        if (fe_is_zero(&p->z)) {
                p->x = *x2;
                p->y = *y2;
                p->z = ONE;
                return;
        }
        fe z1z1, u2, s2, h, r, hh, hhh, v, t;
        fe_sqr(&z1z1, &p->z);
        fe_mul(&u2, x2, &z1z1);
        fe_mul(&s2, y2, &p->z);
        fe_mul(&s2, &s2, &z1z1);
        fe_sub(&h, &u2, &p->x);
        fe_sub(&r, &s2, &p->y);
        if (fe_is_zero(&h)) {
                if (fe_is_zero(&r))
                        dbl(p);
                else
                        memset(p, 0, sizeof(*p));
                return;
        }
        fe_sqr(&hh, &h);
        fe_mul(&hhh, &h, &hh);
        fe_mul(&v, &p->x, &hh);
        /* X3 = r^2 - HHH - 2·V */
        fe_sqr(&t, &r);
        fe_sub(&t, &t, &hhh);
        fe_sub(&t, &t, &v);
        fe_sub(&p->x, &t, &v);
        /* Y3 = r·(V - X3) - Y1·HHH */
        fe_sub(&t, &v, &p->x);
        fe_mul(&t, &r, &t);
        fe_mul(&hhh, &p->y, &hhh);
        fe_sub(&p->y, &t, &hhh);
        /* Z3 = Z1·H */
        fe_mul(&p->z, &p->z, &h);
}

/* to_affine writes the affine coordinates of n points, none at infinity, into xy, with
 * one inversion for all (Montgomery's trick): false if one is at infinity. */
static bool to_affine(const struct jac *p, size_t n, fe (*xy)[2])
{
        fe *prod = malloc(n * sizeof(*prod));
        if (!prod)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (fe_is_zero(&p[i].z)) {
                        free(prod);
                        return false;
                }
                if (i == 0)
                        prod[0] = p[0].z;
                else
                        fe_mul(&prod[i], &prod[i - 1], &p[i].z);
        }
        fe inv, zi, zi2;
        fe_inv(&inv, &prod[n - 1]);
        for (size_t i = n; i-- > 0;) {
                if (i > 0) {
                        fe_mul(&zi, &inv, &prod[i - 1]);
                        fe_mul(&inv, &inv, &p[i].z);
                } else {
                        zi = inv;
                }
                fe_sqr(&zi2, &zi);
                fe_mul(&xy[i][0], &p[i].x, &zi2);
                fe_mul(&zi2, &zi2, &zi);
                fe_mul(&xy[i][1], &p[i].y, &zi2);
        }
        free(prod);
        return true;
}

int vt_p384_table_build(struct vt_p384_table *t, const uint8_t x[VT_P384_BYTES],
                        const uint8_t y[VT_P384_BYTES])
{
        if (!vt_p384_init())
                return VT_E_INVAL;
        /* the teeth: 2^(48 i)·P for i in 0..7, made affine */
        struct jac b[8];
        fe teeth[8][2];
        vt_p384_fe_from_bytes(&b[0].x, x);
        vt_p384_fe_from_bytes(&b[0].y, y);
        b[0].z = ONE;
        for (int i = 1; i < 8; i++) {
                b[i] = b[i - 1];
                for (int k = 0; k < 48; k++)
                        dbl(&b[i]);
        }
        if (!to_affine(b, 8, teeth))
                return VT_E_CRYPTO;
        /* every sum of teeth: entry b - 1 is entry (b without its lowest bit) - 1 plus
         * the tooth of that bit */
        struct jac *j = malloc(255 * sizeof(*j));
        if (!j)
                return VT_E_NOMEM;
        for (unsigned v = 1; v < 256; v++) {
                unsigned low = (unsigned)__builtin_ctz(v), rest = v & (v - 1);
                if (rest == 0) {
                        j[v - 1] = (struct jac){teeth[low][0], teeth[low][1], ONE};
                } else {
                        j[v - 1] = j[rest - 1];
                        madd(&j[v - 1], &teeth[low][0], &teeth[low][1]);
                }
        }
        bool ok = to_affine(j, 255, t->xy);
        free(j);
        return ok ? 0 : VT_E_CRYPTO;
}

/* the comb's index at column c: bit c + 48 i of k for tooth i */
static unsigned comb(const uint64_t k[6], unsigned c)
{
        unsigned v = 0;
        UNROLL for (unsigned i = 0; i < 8; i++)
        {
                unsigned bit = c + 48 * i;
                v |= (unsigned)(k[bit / 64] >> (bit % 64) & 1) << i;
        }
        return v;
}

bool vt_p384_x_matches(const struct vt_p384_table *g, const struct vt_p384_table *q,
                       const uint8_t u1[VT_P384_BYTES], const uint8_t u2[VT_P384_BYTES],
                       const uint8_t c1[VT_P384_BYTES], const uint8_t *c2)
{
        if (!vt_p384_init())
                return false;
        uint64_t k1[6], k2[6];
        limbs_from_be(k1, u1);
        limbs_from_be(k2, u2);
        struct jac r;
        memset(&r, 0, sizeof(r));
        for (unsigned c = 48; c-- > 0;) {
                if (!fe_is_zero(&r.z))
                        dbl(&r);
                unsigned v = comb(k1, c);
                if (v)
                        madd(&r, &g->xy[v - 1][0], &g->xy[v - 1][1]);
                v = comb(k2, c);
                if (v)
                        madd(&r, &q->xy[v - 1][0], &q->xy[v - 1][1]);
        }
        if (fe_is_zero(&r.z))
                return false;
        /* x = X/Z^2 is c exactly when c·Z^2 = X */
        fe z2, c, t;
        fe_sqr(&z2, &r.z);
        vt_p384_fe_from_bytes(&c, c1);
        fe_mul(&t, &c, &z2);
        if (fe_equal(&t, &r.x))
                return true;
        if (!c2)
                return false;
        vt_p384_fe_from_bytes(&c, c2);
        fe_mul(&t, &c, &z2);
        return fe_equal(&t, &r.x);
}

#else /* no 128-bit integers: the caller verifies with EVP */

bool vt_p384_init(void)
{
        return false;
}

int vt_p384_table_build(struct vt_p384_table *t, const uint8_t x[VT_P384_BYTES],
                        const uint8_t y[VT_P384_BYTES])
{
        (void)t, (void)x, (void)y;
        return VT_E_UNSUPPORTED;
}

bool vt_p384_x_matches(const struct vt_p384_table *g, const struct vt_p384_table *q,
                       const uint8_t u1[VT_P384_BYTES], const uint8_t u2[VT_P384_BYTES],
                       const uint8_t c1[VT_P384_BYTES], const uint8_t *c2)
{
        (void)g, (void)q, (void)u1, (void)u2, (void)c1, (void)c2;
        return false;
}

void vt_p384_fe_from_bytes(struct vt_p384_fe *r, const uint8_t b[VT_P384_BYTES])
{
        (void)b;
        memset(r, 0, sizeof(*r));
}

void vt_p384_fe_to_bytes(uint8_t b[VT_P384_BYTES], const struct vt_p384_fe *a)
{
        (void)a;
        memset(b, 0, VT_P384_BYTES);
}

void vt_p384_fe_mul(struct vt_p384_fe *r, const struct vt_p384_fe *a, const struct vt_p384_fe *b)
{
        (void)a, (void)b;
        memset(r, 0, sizeof(*r));
}

void vt_p384_fe_sqr(struct vt_p384_fe *r, const struct vt_p384_fe *a)
{
        (void)a;
        memset(r, 0, sizeof(*r));
}

void vt_p384_fe_add(struct vt_p384_fe *r, const struct vt_p384_fe *a, const struct vt_p384_fe *b)
{
        (void)a, (void)b;
        memset(r, 0, sizeof(*r));
}

void vt_p384_fe_sub(struct vt_p384_fe *r, const struct vt_p384_fe *a, const struct vt_p384_fe *b)
{
        (void)a, (void)b;
        memset(r, 0, sizeof(*r));
}

void vt_p384_fe_inv(struct vt_p384_fe *r, const struct vt_p384_fe *a)
{
        (void)a;
        memset(r, 0, sizeof(*r));
}

#endif
