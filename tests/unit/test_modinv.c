/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Modular inversion (crypto/modinv.h) against OpenSSL's BN_mod_inverse: reproducible
 * pseudo-random inputs modulo the P-384 order and prime and modulo random odd moduli of
 * every length up to 384 bits, the values that limb boundaries and carries get wrong
 * first, every input of the small moduli, and each refusal (no inverse, a out of
 * [1, n - 1], n even) with out left as it was. Every inverse is also checked as
 * a·out = 1 (mod n).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "crypto/modinv.h"
#include "crypto/openssl-util.h"
#include "testutil.h"
#include "util/macro.h"
#include "veritee/veritee.h"

#define B VT_MODINV_BYTES

/* splitmix64: the same inputs in every run */
static uint64_t seed;

static uint64_t next(void)
{
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* random bytes, the value below 2^bits */
static void random_bits(uint8_t out[B], int bits)
{
        for (int i = 0; i < B; i += 8) {
                uint64_t x = next();
                memcpy(out + i, &x, 8);
        }
        for (int i = 0; i < B; i++) {
                int low = 8 * (B - 1 - i); /* the lowest bit of byte i */
                if (bits <= low)
                        out[i] = 0;
                else if (bits < low + 8)
                        out[i] &= (uint8_t)((1u << (bits - low)) - 1);
        }
}

static void need_int128(void)
{
        uint8_t one[B] = {0}, three[B] = {0}, out[B];
        one[B - 1] = 1;
        three[B - 1] = 3;
        if (vt_modinv384(out, one, three) == VT_E_UNSUPPORTED)
                vtt_skip("no 128-bit integers: vt_modinv384 is not available");
}

static void hex(char *s, const uint8_t b[B])
{
        for (int i = 0; i < B; i++)
                snprintf(s + 2 * i, 3, "%02x", b[i]);
}

static BN_CTX *ctx;

/* check compares vt_modinv384(a, n) with BN_mod_inverse and returns 1 for an inverse, 0
 * for a refusal. */
static int check(const uint8_t a[B], const uint8_t n[B])
{
        _cleanup_(BN_freep) BIGNUM *an = BN_bin2bn(a, B, NULL), *nn = BN_bin2bn(n, B, NULL);
        _cleanup_(BN_freep) BIGNUM *w = BN_new(), *one = BN_new();
        assert_true(an && nn && w && one);
        /* defined: n odd, 0 < a < n, gcd(a, n) = 1 */
        bool defined = BN_is_odd(nn) && !BN_is_zero(an) && BN_cmp(an, nn) < 0 &&
                       BN_mod_inverse(w, an, nn, ctx) != NULL;
        ERR_clear_error(); /* BN_mod_inverse's "no inverse" */
        uint8_t out[B], want[B];
        memset(out, 0xa5, B);
        int e = vt_modinv384(out, a, n);
        char ah[2 * B + 1], nh[2 * B + 1];
        hex(ah, a);
        hex(nh, n);
        if (!defined) {
                uint8_t untouched[B];
                memset(untouched, 0xa5, B);
                if (e != VT_E_INVAL || memcmp(out, untouched, B) != 0)
                        fail_msg("a %s n %s: no inverse, but %d (%s) and out changed: %s", ah, nh,
                                 e, vt_strerror(e), memcmp(out, untouched, B) ? "yes" : "no");
                return 0;
        }
        if (e != 0)
                fail_msg("a %s n %s: refused (%s), BN_mod_inverse has an inverse", ah, nh,
                         vt_strerror(e));
        assert_int_equal(BN_bn2binpad(w, want, B), B);
        if (memcmp(out, want, B) != 0) {
                char oh[2 * B + 1], wh[2 * B + 1];
                hex(oh, out);
                hex(wh, want);
                fail_msg("a %s n %s: inverse %s, BN_mod_inverse %s", ah, nh, oh, wh);
        }
        /* a·out = 1 (mod n) */
        _cleanup_(BN_freep) BIGNUM *o = BN_bin2bn(out, B, NULL);
        assert_non_null(o);
        assert_int_equal(BN_mod_mul(one, an, o, nn, ctx), 1);
        if (!BN_is_one(one))
                fail_msg("a %s n %s: a·out is not 1 mod n", ah, nh);
        return 1;
}

/* x = v as 48 bytes */
static void from_bn(uint8_t x[B], const BIGNUM *v)
{
        assert_int_equal(BN_bn2binpad(v, x, B), B);
}

/* x = n ± small, for small >= 0 below n */
static void near(uint8_t x[B], const uint8_t n[B], BN_ULONG small, bool below)
{
        _cleanup_(BN_freep) BIGNUM *v = BN_bin2bn(n, B, NULL);
        assert_non_null(v);
        assert_int_equal(below ? BN_sub_word(v, small) : BN_add_word(v, small), 1);
        from_bn(x, v);
}

/* count inverses of random a in [1, n - 1], shorter ones among them; returns how many had
 * one */
static int random_inputs(const uint8_t n[B], int count)
{
        _cleanup_(BN_freep) BIGNUM *nn = BN_bin2bn(n, B, NULL);
        assert_non_null(nn);
        int bits = BN_num_bits(nn), ok = 0;
        for (int i = 0; i < count; i++) {
                static const uint8_t zero[B];
                uint8_t a[B];
                /* one in four is shorter than n, down to a few bits */
                int len = i % 4 == 3 ? 1 + (int)(next() % (uint64_t)bits) : bits;
                do
                        random_bits(a, len);
                while (memcmp(a, n, B) >= 0 || memcmp(a, zero, B) == 0);
                ok += check(a, n);
        }
        return ok;
}

static void group_bytes(int nid, bool order, uint8_t out[B])
{
        _cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
        assert_non_null(g);
        from_bn(out, order ? EC_GROUP_get0_order(g) : EC_GROUP_get0_field(g));
}

static void test_modinv_p384_order(void **state)
{
        (void)state;
        need_int128();
        uint8_t n[B];
        group_bytes(NID_secp384r1, true, n);
        seed = 1;
        /* the order is prime: every a in [1, n - 1] has an inverse */
        assert_int_equal(random_inputs(n, 100000), 100000);
}

static void test_modinv_p384_prime(void **state)
{
        (void)state;
        need_int128();
        uint8_t p[B];
        group_bytes(NID_secp384r1, false, p);
        seed = 2;
        assert_int_equal(random_inputs(p, 20000), 20000);
}

/* odd moduli of random values: 384 bits (top bit set), shorter ones (top byte or more
 * zero), and the lengths next to the 62-bit limbs; composite ones refuse some a */
static void test_modinv_random_moduli(void **state)
{
        (void)state;
        need_int128();
        static const int lengths[] = {384, 384, 384, 383, 382, 373, 372, 371, 320, 311, 310,
                                      257, 256, 249, 248, 192, 187, 186, 129, 128, 125, 124,
                                      65,  64,  63,  62,  61,  33,  17,  9,   5,   3,   2};
        int inverses = 0, refusals = 0;
        seed = 3;
        for (int k = 0; k < 20; k++)
                for (size_t l = 0; l < ELEMENTSOF(lengths); l++) {
                        uint8_t n[B];
                        random_bits(n, lengths[l]);
                        n[B - 1] |= 1;
                        n[B - 1 - (lengths[l] - 1) / 8] |= (uint8_t)(1u << ((lengths[l] - 1) % 8));
                        int ok = random_inputs(n, 30);
                        inverses += ok;
                        refusals += 30 - ok;
                }
        /* both answers were exercised */
        assert_true(inverses > 10000);
        assert_true(refusals > 1000);
}

/* 1, 2, 3, n - 1, n - 2, powers of two and their neighbours at every bit (limb boundaries
 * among them), n minus them, limbs of all ones; for the P-384 order and prime and for
 * moduli of special shapes */
static void test_modinv_edges(void **state)
{
        (void)state;
        need_int128();
        uint8_t moduli[8][B];
        group_bytes(NID_secp384r1, true, moduli[0]);
        group_bytes(NID_secp384r1, false, moduli[1]);
        memset(moduli[2], 0xff, B); /* 2^384 - 1 */
        memset(moduli[3], 0, B);    /* 2^383 + 1 */
        moduli[3][0] = 0x80;
        moduli[3][B - 1] = 1;
        memset(moduli[4], 0, B); /* 2^372 - 1: seven limbs of 62 bits become six */
        memset(moduli[4] + 2, 0xff, B - 2);
        moduli[4][1] = 0x0f;
        memset(moduli[5], 0, B); /* 2^62 + 1 */
        moduli[5][B - 8] = 0x40;
        moduli[5][B - 1] = 1;
        memset(moduli[6], 0, B); /* 2^64 + 13 */
        moduli[6][B - 9] = 1;
        moduli[6][B - 1] = 13;
        memset(moduli[7], 0x55, B); /* 0x5555...55 */
        int inverses = 0;
        for (size_t m = 0; m < ELEMENTSOF(moduli); m++) {
                const uint8_t *n = moduli[m];
                uint8_t a[B];
                for (BN_ULONG s = 1; s <= 3; s++) {
                        memset(a, 0, B);
                        a[B - 1] = (uint8_t)s;
                        inverses += check(a, n);
                        near(a, n, s, true);
                        inverses += check(a, n);
                }
                _cleanup_(BN_freep) BIGNUM *v = BN_new(), *nn = BN_bin2bn(n, B, NULL);
                assert_true(v && nn);
                for (int bit = 0; bit < 384; bit++)
                        for (int d = -1; d <= 1; d++) {
                                BN_zero(v);
                                assert_int_equal(BN_set_bit(v, bit), 1);
                                if (d < 0)
                                        assert_int_equal(BN_sub_word(v, 1), 1);
                                if (d > 0)
                                        assert_int_equal(BN_add_word(v, 1), 1);
                                from_bn(a, v);
                                inverses += check(a, n);
                                if (BN_cmp(v, nn) < 0) {
                                        assert_int_equal(BN_sub(v, nn, v), 1);
                                        from_bn(a, v);
                                        inverses += check(a, n);
                                }
                        }
                /* limbs of all ones, alone and together */
                for (int limbs = 1; limbs < 64; limbs++) {
                        memset(a, 0, B);
                        for (int l = 0; l < 6; l++)
                                if (limbs >> l & 1)
                                        memset(a + B - 8 * (l + 1), 0xff, 8);
                        inverses += check(a, n);
                }
        }
        assert_true(inverses > 8000);
}

/* every a in [0, n + 2] for the odd n up to 301, and n = 1 (no a has an inverse) */
static void test_modinv_small_moduli(void **state)
{
        (void)state;
        need_int128();
        int inverses = 0, refusals = 0;
        for (unsigned n = 1; n <= 301; n += 2)
                for (unsigned a = 0; a <= n + 2; a++) {
                        uint8_t ab[B] = {0}, nb[B] = {0};
                        ab[B - 2] = (uint8_t)(a >> 8);
                        ab[B - 1] = (uint8_t)a;
                        nb[B - 2] = (uint8_t)(n >> 8);
                        nb[B - 1] = (uint8_t)n;
                        int ok = check(ab, nb);
                        inverses += ok;
                        refusals += !ok;
                }
        assert_true(inverses > 10000);
        assert_true(refusals > 1000);
}

/* each refusal, by its reason: out is left as it was */
static void test_modinv_refusals(void **state)
{
        (void)state;
        need_int128();
        uint8_t n[B], a[B], out[B], before[B];
        group_bytes(NID_secp384r1, true, n);
        memset(out, 0x5a, B);
        memcpy(before, out, B);

        memset(a, 0, B); /* a = 0 */
        assert_int_equal(vt_modinv384(out, a, n), VT_E_INVAL);
        memcpy(a, n, B); /* a = n */
        assert_int_equal(vt_modinv384(out, a, n), VT_E_INVAL);
        near(a, n, 1, false); /* a = n + 1 */
        assert_int_equal(vt_modinv384(out, a, n), VT_E_INVAL);
        memset(a, 0xff, B); /* a = 2^384 - 1 > n */
        assert_int_equal(vt_modinv384(out, a, n), VT_E_INVAL);
        /* n even: the order + 1, 2, 0 */
        uint8_t even[B];
        near(even, n, 1, false);
        memset(a, 0, B);
        a[B - 1] = 3;
        assert_int_equal(vt_modinv384(out, a, even), VT_E_INVAL);
        memset(even, 0, B);
        even[B - 1] = 2;
        a[B - 1] = 1;
        assert_int_equal(vt_modinv384(out, a, even), VT_E_INVAL);
        even[B - 1] = 0;
        assert_int_equal(vt_modinv384(out, a, even), VT_E_INVAL);
        /* no inverse: gcd(5, 15) = 5, gcd(9, 15) = 3 */
        uint8_t m[B] = {0};
        m[B - 1] = 15;
        a[B - 1] = 5;
        assert_int_equal(vt_modinv384(out, a, m), VT_E_INVAL);
        a[B - 1] = 9;
        assert_int_equal(vt_modinv384(out, a, m), VT_E_INVAL);
        assert_memory_equal(out, before, B);

        /* no inverse, large: n = p·q (192-bit primes), a = k·p, and n = 3^242, a = 3^k */
        _cleanup_(BN_freep) BIGNUM *p = BN_new(), *q = BN_new(), *pq = BN_new(), *v = BN_new();
        assert_true(p && q && pq && v);
        assert_int_equal(BN_generate_prime_ex(p, 192, 0, NULL, NULL, NULL), 1);
        assert_int_equal(BN_generate_prime_ex(q, 192, 0, NULL, NULL, NULL), 1);
        assert_int_equal(BN_mul(pq, p, q, ctx), 1);
        from_bn(m, pq);
        for (BN_ULONG k = 1; k < 200; k++) {
                assert_non_null(BN_copy(v, p));
                assert_int_equal(BN_mul_word(v, k), 1);
                from_bn(a, v);
                assert_int_equal(vt_modinv384(out, a, m), VT_E_INVAL);
                assert_int_equal(check(a, m), 0);
        }
        assert_int_equal(BN_set_word(v, 3), 1);
        _cleanup_(BN_freep) BIGNUM *three = BN_new(), *e = BN_new();
        assert_true(three && e);
        assert_int_equal(BN_set_word(three, 3), 1);
        assert_int_equal(BN_set_word(e, 242), 1);
        assert_int_equal(BN_exp(pq, three, e, ctx), 1);
        assert_true(BN_num_bits(pq) <= 384);
        from_bn(m, pq);
        for (int k = 1; k < 242; k++) {
                from_bn(a, v);
                assert_int_equal(vt_modinv384(out, a, m), VT_E_INVAL);
                assert_int_equal(BN_mul_word(v, 3), 1);
        }
        assert_memory_equal(out, before, B);
}

/* out may be a or n */
static void test_modinv_aliasing(void **state)
{
        (void)state;
        need_int128();
        uint8_t n[B], a[B], want[B], x[B];
        group_bytes(NID_secp384r1, true, n);
        seed = 4;
        random_bits(a, 380);
        assert_int_equal(vt_modinv384(want, a, n), 0);
        memcpy(x, a, B);
        assert_int_equal(vt_modinv384(x, x, n), 0);
        assert_memory_equal(x, want, B);
        memcpy(x, n, B);
        assert_int_equal(vt_modinv384(x, a, x), 0);
        assert_memory_equal(x, want, B);
}

static int setup(void **state)
{
        (void)state;
        ctx = BN_CTX_new();
        return ctx ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        BN_CTX_free(ctx);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_modinv_p384_order),
                cmocka_unit_test(test_modinv_p384_prime),
                cmocka_unit_test(test_modinv_random_moduli),
                cmocka_unit_test(test_modinv_edges),
                cmocka_unit_test(test_modinv_small_moduli),
                cmocka_unit_test(test_modinv_refusals),
                cmocka_unit_test(test_modinv_aliasing),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
