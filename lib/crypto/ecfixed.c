/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/ecfixed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "crypto/modinv.h"
#include "crypto/openssl-util.h"
#include "crypto/p384.h"
#include "crypto/x509.h"
#include "util/macro.h"
#include "veritee/veritee.h"

/* A key's slot. The cache holds one reference, each verification using its table one
 * more; the last one frees it. */
struct fix_key {
        uint8_t point[VT_ECFIX_POINT_MAX];
        size_t point_len;
        struct vt_p384_table *table; /* the key's comb table; NULL until built */
        unsigned refs;               /* under cache.mu */
        uint64_t last;               /* cache.tick at its last use: the least recent goes first */
};

static struct {
        pthread_mutex_t mu;
        EC_GROUP *group;            /* P-384: its order, prime and G */
        struct vt_p384_table *base; /* G's table, built with group at the first table */
        bool base_failed;
        struct fix_key *keys[VT_ECFIX_KEYS];
        uint64_t tick, fast;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void key_unref_locked(struct fix_key *k)
{
        if (--k->refs == 0) {
                free(k->table);
                free(k);
        }
}

/* point_table builds the comb table of a P-384 point: the encoded point (decoded by
 * EC_POINT_oct2point, which checks that it is on the curve; the point at infinity, one
 * zero byte, is refused here), or G when point is NULL. */
static struct vt_p384_table *point_table(const EC_GROUP *g, const uint8_t *point, size_t len)
{
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        _cleanup_(EC_POINT_freep) EC_POINT *q = EC_POINT_new(g);
        _cleanup_(BN_freep) BIGNUM *x = BN_new(), *y = BN_new();
        uint8_t xb[VT_P384_BYTES], yb[VT_P384_BYTES];
        bool ok = q && ctx && x && y &&
                  (point ? EC_POINT_oct2point(g, q, point, len, ctx) == 1
                         : EC_POINT_copy(q, EC_GROUP_get0_generator(g)) == 1) &&
                  EC_POINT_is_at_infinity(g, q) == 0 &&
                  EC_POINT_get_affine_coordinates(g, q, x, y, ctx) == 1 &&
                  BN_bn2binpad(x, xb, sizeof(xb)) == (int)sizeof(xb) &&
                  BN_bn2binpad(y, yb, sizeof(yb)) == (int)sizeof(yb);
        ERR_clear_error();
        if (!ok)
                return NULL;
        struct vt_p384_table *t = malloc(sizeof(*t));
        if (t && vt_p384_table_build(t, xb, yb) < 0) {
                free(t);
                t = NULL;
        }
        return t;
}

/* base_locked returns the curve, with G's table in cache.base, both made once (cache.mu
 * held), or NULL. */
static const EC_GROUP *base_locked(void)
{
        if (!cache.group && !cache.base_failed) {
                EC_GROUP *g = vt_p384_init() ? EC_GROUP_new_by_curve_name(NID_secp384r1) : NULL;
                struct vt_p384_table *t = g ? point_table(g, NULL, 0) : NULL;
                if (t) {
                        cache.group = g;
                        cache.base = t;
                } else {
                        EC_GROUP_free(g);
                        ERR_clear_error();
                        cache.base_failed = true;
                }
        }
        return cache.group;
}

/* to48 writes a BIGNUM below 2^384 as 48 big-endian bytes. */
static bool to48(const BIGNUM *v, uint8_t out[VT_P384_BYTES])
{
        return BN_bn2binpad(v, out, VT_P384_BYTES) == VT_P384_BYTES;
}

/* verify_with: ECDSA verification (SEC 1 §4.1.4, as OpenSSL's ecdsa_simple_verify_sig):
 * the scalars with OpenSSL's BIGNUMs (s^-1 with crypto/modinv.c), u1·G + u2·Q with the
 * tables of G and Q (crypto/p384.c). */
static int verify_with(const EC_GROUP *g, const struct vt_p384_table *gt,
                       const struct vt_p384_table *qt, const uint8_t *digest, size_t dlen,
                       const uint8_t *rb, const uint8_t *sb, size_t n)
{
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        if (!ctx)
                return VT_E_NOMEM;
        BN_CTX_start(ctx);
        const BIGNUM *order = EC_GROUP_get0_order(g), *prime = EC_GROUP_get0_field(g);
        BIGNUM *r = BN_CTX_get(ctx), *s = BN_CTX_get(ctx), *m = BN_CTX_get(ctx);
        BIGNUM *w = BN_CTX_get(ctx), *u1 = BN_CTX_get(ctx), *u2 = BN_CTX_get(ctx);
        BIGNUM *x = BN_CTX_get(ctx);
        uint8_t u1b[VT_P384_BYTES], u2b[VT_P384_BYTES], c1[VT_P384_BYTES], c2[VT_P384_BYTES];
        int e = VT_E_NOMEM;
        if (!x)
                goto out;
        e = VT_E_CRYPTO;
        if (!order || !prime || !BN_bin2bn(rb, (int)n, r) || !BN_bin2bn(sb, (int)n, s))
                goto out;
        e = VT_E_SIGNATURE;
        if (BN_is_zero(r) || BN_ucmp(r, order) >= 0 || BN_is_zero(s) || BN_ucmp(s, order) >= 0)
                goto out;
        /* the digest's leftmost bits, as many as the order has: 384, whole bytes */
        e = VT_E_CRYPTO;
        if (!BN_bin2bn(digest, (int)(dlen < 48 ? dlen : 48), m))
                goto out;
        /* w = s^-1 (mod order) with crypto/modinv.c, about a tenth of BN_mod_inverse's
         * time. For s in [1, order - 1] and a prime order it fails only where it is not
         * available (no 128-bit integers); BN_mod_inverse answers then. */
        uint8_t nb[VT_P384_BYTES], s48[VT_P384_BYTES], wb[VT_P384_BYTES];
        if (!to48(order, nb) || !to48(s, s48))
                goto out;
        if (vt_modinv384(wb, s48, nb) == 0) {
                if (!BN_bin2bn(wb, VT_P384_BYTES, w))
                        goto out;
        } else if (!BN_mod_inverse(w, s, order, ctx)) {
                goto out;
        }
        /* u1 = m·w, u2 = r·w (mod order) */
        if (!BN_mod_mul(u1, m, w, order, ctx) || !BN_mod_mul(u2, r, w, order, ctx) ||
            !to48(u1, u1b) || !to48(u2, u2b) || !to48(r, c1))
                goto out;
        /* valid when the affine x of u1·G + u2·Q is r (mod the order): r itself, or
         * r + order when that is still below the field's prime (x < p < 2·order) */
        bool two = false;
        if (!BN_add(x, r, order))
                goto out;
        if (BN_cmp(x, prime) < 0) {
                if (!to48(x, c2))
                        goto out;
                two = true;
        }
        e = vt_p384_x_matches(gt, qt, u1b, u2b, c1, two ? c2 : NULL) ? 0 : VT_E_SIGNATURE;
out:
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

void vt_ecfix_key_of(EVP_PKEY *key, struct vt_ecfix_key *seen)
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
        vt_ecfix_key_of(key, seen);
        return vt_ecfix_verify_seen(seen, digest, dlen, r, s, n);
}

int vt_ecfix_verify_seen(const struct vt_ecfix_key *seen, const uint8_t *digest, size_t dlen,
                         const uint8_t *r, const uint8_t *s, size_t n)
{
        const uint8_t *point = seen->point;
        size_t len = seen->len;
        if (len == 0 || !digest || !r || !s || n == 0 || n > 66 || dlen == 0 || dlen > 64)
                return VT_ECFIX_PASS;
        pthread_mutex_lock(&cache.mu);
        struct fix_key *k = slot_find_locked(point, len);
        const EC_GROUP *g = NULL;
        if (!k || !(g = base_locked())) {
                pthread_mutex_unlock(&cache.mu);
                return VT_ECFIX_PASS;
        }
        /* cache.base and k->table are set once and never changed while they live: kept
         * here, used without the lock */
        const struct vt_p384_table *gt = cache.base, *qt = k->table;
        k->refs++;
        pthread_mutex_unlock(&cache.mu);

        if (!qt) {
                /* built outside the lock (under a millisecond); a thread that built it
                 * meanwhile wins */
                struct vt_p384_table *t = point_table(g, point, len);
                pthread_mutex_lock(&cache.mu);
                if (!k->table)
                        k->table = TAKE_PTR(t);
                qt = k->table;
                if (!qt)
                        key_unref_locked(k);
                pthread_mutex_unlock(&cache.mu);
                free(t);
                if (!qt)
                        return VT_ECFIX_PASS;
        }
        int e = verify_with(g, gt, qt, digest, dlen, r, s, n);
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

void vt_ecfix_stats(struct vt_ecfix_stats *ret)
{
        *ret = (struct vt_ecfix_stats){0};
        pthread_mutex_lock(&cache.mu);
        for (size_t i = 0; i < VT_ECFIX_KEYS; i++)
                if (cache.keys[i]) {
                        ret->keys++;
                        ret->tables += cache.keys[i]->table != NULL;
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
