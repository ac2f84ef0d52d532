/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Modular inversion by divsteps (crypto/modinv.h), in the variable-time form: Bernstein and
 * Yang, "Fast constant-time gcd computation and modular inversion" (2019), with the
 * batching and the bounds of libsecp256k1's doc/safegcd_implementation.md.
 *
 * Starting from f = n, g = a, delta = 1, a divstep maps (delta, f, g) to
 * (1 - delta, g, (g - f)/2) if delta > 0 and g is odd, else to
 * (1 + delta, f, (g + (g mod 2)·f)/2); g reaches 0 with |f| = gcd(n, a). The first 62
 * divsteps depend only on delta and the low 62 bits of f and g, so they are found with
 * 64-bit words as one integer matrix t (scaled by 2^62), then applied once to the full f and
 * g, and to d and e, where d·a = f and e·a = g (mod n) throughout: at the end d·f = a^-1.
 * Within a batch, runs of even g are shifted out at once and up to 6 low bits of g are
 * cancelled with one multiple of f while no swap can happen.
 *
 * Numbers are signed, as 7 limbs of 62 bits (the last one signed) in int64_t, so that the
 * products with t's entries (|u| + |v| <= 2^62) fit in 128 bits. f and g shrink as they go;
 * their top limbs are dropped once both are 0 or -1. d and e stay in (-2n, n).
 */
#include "crypto/modinv.h"

#include <stdbool.h>
#include <string.h>

#include "veritee/veritee.h"

#ifdef __SIZEOF_INT128__

typedef __int128 i128;

#define LIMBS 7
#define M62   (UINT64_MAX >> 2)

/* Theorem 11.2 of the paper: for f odd and 0 <= g < f < 2^384, g is 0 after at most
 * floor((49·384 + 57)/17) = 1110 divsteps, 18 batches of 62. */
#define MAX_BATCHES 18

/* sum of v[i]·2^(62 i); v[0] .. v[len - 2] in [0, 2^62), v[len - 1] signed */
struct s62 {
        int64_t v[LIMBS];
};

/* A batch's transition matrix, times 2^62: [f', g'] = [[u, v], [q, r]]·[f, g] / 2^62. */
struct trans {
        int64_t u, v, q, r;
};

static void from_be(struct s62 *r, const uint8_t b[VT_MODINV_BYTES])
{
        uint64_t x[6];
        for (int i = 0; i < 6; i++) {
                const uint8_t *p = b + VT_MODINV_BYTES - 8 * (i + 1);
                uint64_t w = 0;
                for (int j = 0; j < 8; j++)
                        w = w << 8 | p[j];
                x[i] = w;
        }
        r->v[0] = (int64_t)(x[0] & M62);
        for (int i = 1; i < 6; i++)
                r->v[i] = (int64_t)((x[i - 1] >> (64 - 2 * i) | x[i] << 2 * i) & M62);
        r->v[6] = (int64_t)(x[5] >> 52);
}

/* a in [0, 2^384), all 7 limbs */
static void to_be(uint8_t b[VT_MODINV_BYTES], const struct s62 *a)
{
        for (int i = 0; i < 6; i++) {
                uint64_t w = (uint64_t)a->v[i] >> 2 * i | (uint64_t)a->v[i + 1] << (62 - 2 * i);
                uint8_t *p = b + VT_MODINV_BYTES - 8 * (i + 1);
                for (int j = 0; j < 8; j++)
                        p[j] = (uint8_t)(w >> (56 - 8 * j));
        }
}

/* divsteps62 does 62 divsteps from eta = -delta and the low 62 bits of f (odd) and g,
 * filling t; returns the new eta. Entries are kept modulo 2^64 (unsigned, so that shifts
 * and negations are defined); their true values fit in 63 bits. */
static int divsteps62(int eta, uint64_t f, uint64_t g, struct trans *t)
{
        uint64_t u = 1, v = 0, q = 0, r = 1;
        int i = 62; /* divsteps left */
        for (;;) {
                /* g even: (f, g/2) and eta - 1, for all its low zeros at once (at most i) */
                int z = __builtin_ctzll(g | (uint64_t)1 << i);
                g >>= z;
                u <<= z;
                v <<= z;
                eta -= z;
                i -= z;
                if (i == 0)
                        break;
                /* g odd and delta > 0: (g, -f), then the steps below add f to g */
                if (eta < 0) {
                        uint64_t x;
                        eta = -eta;
                        x = f, f = g, g = 0 - x;
                        x = u, u = q, q = 0 - x;
                        x = v, v = r, r = 0 - x;
                }
                /* The next min(eta + 1, i) steps cannot swap: together they add w·f to g,
                 * w = -g/f mod 2^k, and shift. -1/f mod 64 is f·(f² - 2). */
                int k = eta + 1 < i ? eta + 1 : i;
                if (k > 6)
                        k = 6;
                uint64_t w = (g * f * (f * f - 2)) & (UINT64_MAX >> (64 - k));
                g += w * f;
                q += w * u;
                r += w * v;
        }
        t->u = (int64_t)u;
        t->v = (int64_t)v;
        t->q = (int64_t)q;
        t->r = (int64_t)r;
        return eta;
}

/* [f, g] = t·[f, g] / 2^62, exact, on len limbs */
static void update_fg(struct s62 *f, struct s62 *g, const struct trans *t, int len)
{
        i128 cf = (i128)t->u * f->v[0] + (i128)t->v * g->v[0];
        i128 cg = (i128)t->q * f->v[0] + (i128)t->r * g->v[0];
        cf >>= 62; /* the low 62 bits are 0 */
        cg >>= 62;
        for (int i = 1; i < len; i++) {
                cf += (i128)t->u * f->v[i] + (i128)t->v * g->v[i];
                cg += (i128)t->q * f->v[i] + (i128)t->r * g->v[i];
                f->v[i - 1] = (int64_t)((uint64_t)cf & M62);
                g->v[i - 1] = (int64_t)((uint64_t)cg & M62);
                cf >>= 62;
                cg >>= 62;
        }
        f->v[len - 1] = (int64_t)cf;
        g->v[len - 1] = (int64_t)cg;
}

/* [d, e] = t·[d, e] / 2^62 mod n, for d and e in (-2n, n), giving values in (-2n, n):
 * adding n to a negative input first (folded into md and me) keeps t·[d, e] within
 * (-2^62·n, 2^62·n), and md, me lowered by less than 2^62 make its low 62 bits 0. */
static void update_de(struct s62 *d, struct s62 *e, const struct trans *t, const struct s62 *n,
                      uint64_t ninv)
{
        int64_t sd = d->v[6] >> 63, se = e->v[6] >> 63; /* -1 when negative */
        int64_t md = (t->u & sd) + (t->v & se), me = (t->q & sd) + (t->r & se);
        i128 cd = (i128)t->u * d->v[0] + (i128)t->v * e->v[0];
        i128 ce = (i128)t->q * d->v[0] + (i128)t->r * e->v[0];
        md -= (int64_t)((ninv * (uint64_t)cd + (uint64_t)md) & M62);
        me -= (int64_t)((ninv * (uint64_t)ce + (uint64_t)me) & M62);
        cd += (i128)n->v[0] * md;
        ce += (i128)n->v[0] * me;
        cd >>= 62;
        ce >>= 62;
        for (int i = 1; i < LIMBS; i++) {
                cd += (i128)t->u * d->v[i] + (i128)t->v * e->v[i] + (i128)n->v[i] * md;
                ce += (i128)t->q * d->v[i] + (i128)t->r * e->v[i] + (i128)n->v[i] * me;
                d->v[i - 1] = (int64_t)((uint64_t)cd & M62);
                e->v[i - 1] = (int64_t)((uint64_t)ce & M62);
                cd >>= 62;
                ce >>= 62;
        }
        d->v[LIMBS - 1] = (int64_t)cd;
        e->v[LIMBS - 1] = (int64_t)ce;
}

/* a += b, all 7 limbs */
static void add(struct s62 *a, const struct s62 *b)
{
        int64_t c = 0;
        for (int i = 0; i < LIMBS - 1; i++) {
                c += a->v[i] + b->v[i];
                a->v[i] = (int64_t)((uint64_t)c & M62);
                c >>= 62;
        }
        a->v[LIMBS - 1] += b->v[LIMBS - 1] + c;
}

/* a = -a, all 7 limbs */
static void neg(struct s62 *a)
{
        int64_t c = 0;
        for (int i = 0; i < LIMBS - 1; i++) {
                c -= a->v[i];
                a->v[i] = (int64_t)((uint64_t)c & M62);
                c >>= 62;
        }
        a->v[LIMBS - 1] = c - a->v[LIMBS - 1];
}

/* f (len limbs) is 1 or -1 */
static bool is_unit(const struct s62 *f, int len)
{
        int64_t top = f->v[len - 1];
        if (len == 1)
                return top == 1 || top == -1;
        /* 1 is limbs 1, 0, ..., 0; -1 is limbs 2^62 - 1, ..., 2^62 - 1, -1 */
        uint64_t fill = top == -1 ? M62 : 0;
        if ((top != 0 && top != -1) || (uint64_t)f->v[0] != (top == -1 ? M62 : 1))
                return false;
        for (int i = 1; i < len - 1; i++)
                if ((uint64_t)f->v[i] != fill)
                        return false;
        return true;
}

int vt_modinv384(uint8_t out[VT_MODINV_BYTES], const uint8_t a[VT_MODINV_BYTES],
                 const uint8_t n[VT_MODINV_BYTES])
{
        static const uint8_t zero[VT_MODINV_BYTES];
        if (!(n[VT_MODINV_BYTES - 1] & 1) || memcmp(a, n, VT_MODINV_BYTES) >= 0 ||
            memcmp(a, zero, VT_MODINV_BYTES) == 0)
                return VT_E_INVAL;
        struct s62 m, f, g, d = {{0}}, e = {{1}};
        from_be(&m, n);
        from_be(&g, a);
        f = m;
        /* n^-1 mod 2^64 by Newton's iteration: n·n = 1 mod 8, each step doubles the bits */
        uint64_t n0 = (uint64_t)m.v[0] | (uint64_t)m.v[1] << 62, ninv = n0;
        for (int i = 0; i < 5; i++)
                ninv *= 2 - n0 * ninv;
        int eta = -1, len = LIMBS, batches = 0;
        for (;;) {
                int64_t nz = 0;
                for (int i = 0; i < len; i++)
                        nz |= g.v[i];
                if (nz == 0)
                        break;
                if (++batches > MAX_BATCHES)
                        return VT_E_INVAL; /* not reached (see MAX_BATCHES) */
                struct trans t;
                eta = divsteps62(eta, (uint64_t)f.v[0], (uint64_t)g.v[0], &t);
                update_fg(&f, &g, &t, len);
                update_de(&d, &e, &t, &m, ninv);
                /* both top limbs only a sign: fold them into the limb below */
                int64_t ft = f.v[len - 1], gt = g.v[len - 1];
                if (len > 1 && (ft == 0 || ft == -1) && (gt == 0 || gt == -1)) {
                        f.v[len - 2] = (int64_t)((uint64_t)f.v[len - 2] | (uint64_t)ft << 62);
                        g.v[len - 2] = (int64_t)((uint64_t)g.v[len - 2] | (uint64_t)gt << 62);
                        len--;
                }
        }
        /* |f| is gcd(n, a) */
        if (!is_unit(&f, len))
                return VT_E_INVAL;
        /* a^-1 = d·f mod n, d in (-2n, n) */
        if (d.v[LIMBS - 1] < 0)
                add(&d, &m);
        if (f.v[len - 1] < 0)
                neg(&d);
        if (d.v[LIMBS - 1] < 0)
                add(&d, &m);
        to_be(out, &d);
        return 0;
}

#else /* no 128-bit integers: the caller uses BN_mod_inverse */

int vt_modinv384(uint8_t out[VT_MODINV_BYTES], const uint8_t a[VT_MODINV_BYTES],
                 const uint8_t n[VT_MODINV_BYTES])
{
        return VT_E_UNSUPPORTED;
}

#endif
