/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL 3.0 keeps the precomputation (EC_GROUP_precompute_mult) and the
 * multiplication that uses it (EC_POINTs_mul) under its deprecated API; built without
 * it, everything here passes to EVP_PKEY_verify. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "crypto/ecfixed.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/macro.h"
#include "veritee/veritee.h"

/* A key's slot. The cache holds one reference, each verification using its table one
 * more; the last one frees it. */
struct fix_key {
        uint8_t point[VT_ECFIX_POINT_MAX];
        size_t point_len;
        EC_GROUP *group; /* generator: the key's point, precomputed; NULL until built */
        unsigned refs;   /* under cache.mu */
        uint64_t last;   /* cache.tick at its last use: the least recent goes first */
};

static struct {
        pthread_mutex_t mu;
        EC_GROUP *base; /* P-384 with its generator's table, built at the first table */
        bool base_failed;
        struct fix_key *keys[VT_ECFIX_KEYS];
        uint64_t tick, fast;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void key_unref_locked(struct fix_key *k)
{
        if (--k->refs == 0) {
                EC_GROUP_free(k->group);
                free(k);
        }
}

#ifndef OPENSSL_NO_DEPRECATED_3_0

/* precomputed returns group (already the curve, its generator set) with OpenSSL's table of
 * multiples of the generator, or NULL. */
static EC_GROUP *precomputed(EC_GROUP *group)
{
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        if (!ctx || EC_GROUP_precompute_mult(group, ctx) != 1 ||
            EC_GROUP_have_precompute_mult(group) != 1) {
                EC_GROUP_free(group);
                ERR_clear_error();
                return NULL;
        }
        return group;
}

/* base_group returns P-384 with the table of G (built once; cache.mu held). */
static const EC_GROUP *base_group_locked(void)
{
        if (!cache.base && !cache.base_failed) {
                EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
                cache.base = g ? precomputed(g) : NULL;
                cache.base_failed = !cache.base;
        }
        return cache.base;
}

/* key_group builds P-384 with the key's point as its generator, and its table. The point
 * is decoded from the very bytes that name the slot (EC_POINT_oct2point checks that it is
 * on the curve; the point at infinity, one zero byte, is refused here). */
static EC_GROUP *key_group(const uint8_t *point, size_t len)
{
        EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        EC_POINT *q = g ? EC_POINT_new(g) : NULL;
        BIGNUM *one = BN_new();
        bool ok = q && ctx && one && BN_one(one) &&
                  EC_POINT_oct2point(g, q, point, len, ctx) == 1 &&
                  EC_POINT_is_at_infinity(g, q) == 0 &&
                  EC_GROUP_set_generator(g, q, EC_GROUP_get0_order(g), one) == 1;
        EC_POINT_free(q);
        BN_free(one);
        if (!ok) {
                EC_GROUP_free(g);
                ERR_clear_error();
                return NULL;
        }
        return precomputed(g);
}

/* mul_fixed sets out = k·(g's generator) + a·P through g's table. EC_POINTs_mul with the
 * generator's scalar alone would take OpenSSL's constant-time ladder (meant for secret
 * scalars) and ignore the table; one more point keeps it on the table's path: P with the
 * scalar a, 0 or 1, whose wNAF of one digit does not lengthen the table's 8-step loop. */
static bool mul_fixed(const EC_GROUP *g, EC_POINT *out, const BIGNUM *k, const EC_POINT *p,
                      const BIGNUM *a, BN_CTX *ctx)
{
        const EC_POINT *pts[1] = {p};
        const BIGNUM *scs[1] = {a};
        return EC_POINTs_mul(g, out, k, 1, pts, scs, ctx) == 1;
}

/* x_is checks that the affine x of the Jacobian point (X, Y, Z), X/Z^2, equals c (mod
 * the field), without the field inversion that affine coordinates cost. */
static int x_is(const EC_GROUP *g, const BIGNUM *c, const BIGNUM *X, const BIGNUM *Z, BIGNUM *t,
                BN_CTX *ctx)
{
        const BIGNUM *field = EC_GROUP_get0_field(g);
        if (!field || !BN_mod_sqr(t, Z, field, ctx) || !BN_mod_mul(t, t, c, field, ctx))
                return -1;
        return BN_cmp(t, X) == 0;
}

/* verify_with: ECDSA verification (SEC 1 §4.1.4, as OpenSSL's ecdsa_simple_verify_sig)
 * with the tables of G (base) and of Q (kg). */
static int verify_with(const EC_GROUP *base, const EC_GROUP *kg, const uint8_t *digest, size_t dlen,
                       const uint8_t *rb, const uint8_t *sb, size_t n)
{
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        if (!ctx)
                return VT_E_NOMEM;
        BN_CTX_start(ctx);
        const BIGNUM *order = EC_GROUP_get0_order(base);
        BIGNUM *r = BN_CTX_get(ctx), *s = BN_CTX_get(ctx), *m = BN_CTX_get(ctx);
        BIGNUM *w = BN_CTX_get(ctx), *u1 = BN_CTX_get(ctx), *u2 = BN_CTX_get(ctx);
        BIGNUM *x = BN_CTX_get(ctx), *zero = BN_CTX_get(ctx), *one = BN_CTX_get(ctx);
        BIGNUM *X = BN_CTX_get(ctx), *Z = BN_CTX_get(ctx);
        BIGNUM *t = BN_CTX_get(ctx);
        EC_POINT *p1 = EC_POINT_new(base), *p2 = EC_POINT_new(base);
        int e = VT_E_NOMEM;
        if (!t || !p1 || !p2)
                goto out;
        BN_zero(zero);
        e = VT_E_CRYPTO;
        if (!BN_bin2bn(rb, (int)n, r) || !BN_bin2bn(sb, (int)n, s))
                goto out;
        e = VT_E_SIGNATURE;
        if (BN_is_zero(r) || BN_ucmp(r, order) >= 0 || BN_is_zero(s) || BN_ucmp(s, order) >= 0)
                goto out;
        /* the digest's leftmost bits, as many as the order has: 384, whole bytes */
        e = VT_E_CRYPTO;
        if (!BN_bin2bn(digest, (int)(dlen < 48 ? dlen : 48), m))
                goto out;
        /* w = s^-1, u1 = m·w, u2 = r·w (mod order); X = u1·G + u2·Q */
        if (!BN_mod_inverse(w, s, order, ctx) || !BN_mod_mul(u1, m, w, order, ctx) ||
            !BN_mod_mul(u2, r, w, order, ctx))
                goto out;
        /* p1 = u1·G, then p2 = u2·Q + p1 */
        if (!BN_one(one) || !mul_fixed(base, p1, u1, EC_GROUP_get0_generator(base), zero, ctx) ||
            !mul_fixed(kg, p2, u2, p1, one, ctx))
                goto out;
        e = VT_E_SIGNATURE;
        if (EC_POINT_is_at_infinity(base, p2))
                goto out;
        /* valid when X's affine x is r (mod the order): r itself, or r + order when that
         * is still below the field's prime (x < p < 2·order) */
        e = VT_E_CRYPTO;
        if (!EC_POINT_get_Jprojective_coordinates_GFp(base, p2, X, NULL, Z, ctx))
                goto out;
        int eq = x_is(base, r, X, Z, t, ctx);
        if (eq == 0 && BN_add(x, r, order) && BN_cmp(x, EC_GROUP_get0_field(base)) < 0)
                eq = x_is(base, x, X, Z, t, ctx);
        e = eq < 0 ? VT_E_CRYPTO : eq ? 0 : VT_E_SIGNATURE;
out:
        EC_POINT_free(p1);
        EC_POINT_free(p2);
        BN_CTX_end(ctx);
        ERR_clear_error();
        return e;
}

/* slot_find_locked returns the key's slot, or NULL. */
static struct fix_key *slot_find_locked(const uint8_t *point, size_t len)
{
        for (size_t i = 0; i < VT_ECFIX_KEYS; i++) {
                struct fix_key *c = cache.keys[i];
                if (c && c->point_len == len && memcmp(c->point, point, len) == 0) {
                        c->last = ++cache.tick;
                        return c;
                }
        }
        return NULL;
}

/* slot_add_locked gives the key a slot (without a table yet), in place of the least
 * recently used when all are taken. */
static void slot_add_locked(const uint8_t *point, size_t len)
{
        size_t victim = 0;
        for (size_t i = 0; i < VT_ECFIX_KEYS; i++) {
                struct fix_key *c = cache.keys[i];
                if (!c || (cache.keys[victim] && c->last < cache.keys[victim]->last))
                        victim = i;
        }
        struct fix_key *k = calloc(1, sizeof(*k));
        if (!k)
                return;
        memcpy(k->point, point, len);
        k->point_len = len;
        k->refs = 1;
        k->last = ++cache.tick;
        if (cache.keys[victim])
                key_unref_locked(cache.keys[victim]);
        cache.keys[victim] = k;
}

/* key_point fills seen with a P-384 key's encoded point; len 0 for other keys. */
static void key_point(EVP_PKEY *key, struct vt_ecfix_key *seen)
{
        seen->len = 0;
        if (!key || vt_ec_curve_nid(key) != NID_secp384r1)
                return;
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, seen->point,
                                            sizeof(seen->point), &seen->len) != 1) {
                seen->len = 0;
                ERR_clear_error();
        }
}

int vt_ecfix_verify(EVP_PKEY *key, const uint8_t *digest, size_t dlen, const uint8_t *r,
                    const uint8_t *s, size_t n, struct vt_ecfix_key *seen)
{
        key_point(key, seen);
        const uint8_t *point = seen->point;
        size_t len = seen->len;
        if (len == 0 || !digest || !r || !s || n == 0 || n > 66 || dlen == 0 || dlen > 64)
                return VT_ECFIX_PASS;
        pthread_mutex_lock(&cache.mu);
        struct fix_key *k = slot_find_locked(point, len);
        const EC_GROUP *base = NULL;
        if (!k || !(base = base_group_locked())) {
                pthread_mutex_unlock(&cache.mu);
                return VT_ECFIX_PASS;
        }
        /* k->group is set once and never changed while k lives: kept in kg, used without
         * the lock */
        const EC_GROUP *kg = k->group;
        k->refs++;
        pthread_mutex_unlock(&cache.mu);

        if (!kg) {
                /* built outside the lock (a few ms); a thread that built it meanwhile wins */
                EC_GROUP *g = key_group(point, len);
                pthread_mutex_lock(&cache.mu);
                if (!k->group)
                        k->group = TAKE_PTR(g);
                kg = k->group;
                if (!kg)
                        key_unref_locked(k);
                pthread_mutex_unlock(&cache.mu);
                EC_GROUP_free(g);
                if (!kg)
                        return VT_ECFIX_PASS;
        }
        int e = verify_with(base, kg, digest, dlen, r, s, n);
        pthread_mutex_lock(&cache.mu);
        cache.fast++;
        key_unref_locked(k);
        pthread_mutex_unlock(&cache.mu);
        return e;
}

void vt_ecfix_remember(const struct vt_ecfix_key *seen)
{
        if (seen->len == 0)
                return;
        pthread_mutex_lock(&cache.mu);
        if (!slot_find_locked(seen->point, seen->len))
                slot_add_locked(seen->point, seen->len);
        pthread_mutex_unlock(&cache.mu);
}

#else

int vt_ecfix_verify(EVP_PKEY *key, const uint8_t *digest, size_t dlen, const uint8_t *r,
                    const uint8_t *s, size_t n, struct vt_ecfix_key *seen)
{
        (void)key, (void)digest, (void)dlen, (void)r, (void)s, (void)n;
        seen->len = 0;
        return VT_ECFIX_PASS;
}

void vt_ecfix_remember(const struct vt_ecfix_key *seen)
{
        (void)seen;
}

#endif

void vt_ecfix_stats(struct vt_ecfix_stats *ret)
{
        *ret = (struct vt_ecfix_stats){0};
        pthread_mutex_lock(&cache.mu);
        for (size_t i = 0; i < VT_ECFIX_KEYS; i++)
                if (cache.keys[i]) {
                        ret->keys++;
                        ret->tables += cache.keys[i]->group != NULL;
                }
        ret->fast = cache.fast;
        pthread_mutex_unlock(&cache.mu);
}

void vt_ecfix_reset(void)
{
        pthread_mutex_lock(&cache.mu);
        for (size_t i = 0; i < VT_ECFIX_KEYS; i++)
                if (cache.keys[i])
                        key_unref_locked(TAKE_PTR(cache.keys[i]));
        cache.fast = 0;
        pthread_mutex_unlock(&cache.mu);
}
