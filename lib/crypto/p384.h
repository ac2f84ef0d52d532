/* SPDX-License-Identifier: Apache-2.0 */
/*
 * P-384 arithmetic for ECDSA verification with fixed-base tables (crypto/ecfixed.h): the
 * field modulo p in Montgomery form on six 64-bit limbs, Jacobian points, and a comb
 * table per point (255 affine multiples) that turns k·P into 48 doublings and at most 48
 * additions, the doublings shared between the two halves of u1·G + u2·Q.
 *
 * Public values only (keys, digests, signatures): nothing here is constant-time, and
 * nothing here may ever see a private scalar. The prime is written into p384.c and
 * checked against OpenSSL's own group at vt_p384_init, which computes the rest from it.
 * Without a 128-bit integer type the functions answer "not available" and the caller
 * verifies with EVP.
 */
#ifndef VT_CRYPTO_P384_H
#define VT_CRYPTO_P384_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VT_P384_BYTES 48

/* A field element in Montgomery form (x·2^384 mod p), little-endian limbs, always
 * fully reduced (below p), so that equal values have equal limbs. */
struct vt_p384_fe {
        uint64_t v[6];
};

/* The comb table of a point P: entry b - 1 (b in 1..255) is the affine point
 * sum over the bits i of b of 2^(48 i)·P. About 24 KiB. */
struct vt_p384_table {
        struct vt_p384_fe xy[255][2];
};

/* vt_p384_init reads p from OpenSSL's P-384 group, once: true when the arithmetic is
 * available (thread-safe; false without 128-bit integers or when OpenSSL fails). */
bool vt_p384_init(void);

/* vt_p384_table_build fills t for the affine point (x, y), big-endian coordinates below
 * p, of a point the caller has checked is on the curve and not at infinity (OpenSSL's
 * decoding does both): 0, or VT_E_CRYPTO if a table entry came out at infinity (not
 * possible for a point of the curve's prime order) or VT_E_INVAL before vt_p384_init. */
int vt_p384_table_build(struct vt_p384_table *t, const uint8_t x[VT_P384_BYTES],
                        const uint8_t y[VT_P384_BYTES]);

/* vt_p384_x_matches computes R = u1·G + u2·Q from the tables of G and Q (u1 and u2
 * big-endian, below the order) and answers true when R is not at infinity and its affine
 * x equals c1, or c2 when c2 is not NULL (big-endian, below p), compared in Jacobian
 * coordinates (c·Z^2 = X) without a field inversion. Only for tables that
 * vt_p384_table_build filled (it fails where the arithmetic is not available, so false here
 * never stands for "not available"). */
bool vt_p384_x_matches(const struct vt_p384_table *g, const struct vt_p384_table *q,
                       const uint8_t u1[VT_P384_BYTES], const uint8_t u2[VT_P384_BYTES],
                       const uint8_t c1[VT_P384_BYTES], const uint8_t *c2);

/* The field operations, exposed for tests (tests/unit/test_ecfixed.c compares them with
 * OpenSSL's BIGNUM arithmetic). Inputs below p; big-endian bytes below p. vt_p384_fe_sqr is
 * vt_p384_fe_mul(r, a, a) by the squaring's own, shorter route. */
void vt_p384_fe_from_bytes(struct vt_p384_fe *r, const uint8_t b[VT_P384_BYTES]);
void vt_p384_fe_to_bytes(uint8_t b[VT_P384_BYTES], const struct vt_p384_fe *a);
void vt_p384_fe_mul(struct vt_p384_fe *r, const struct vt_p384_fe *a, const struct vt_p384_fe *b);
void vt_p384_fe_sqr(struct vt_p384_fe *r, const struct vt_p384_fe *a);
void vt_p384_fe_add(struct vt_p384_fe *r, const struct vt_p384_fe *a, const struct vt_p384_fe *b);
void vt_p384_fe_sub(struct vt_p384_fe *r, const struct vt_p384_fe *a, const struct vt_p384_fe *b);
void vt_p384_fe_inv(struct vt_p384_fe *r, const struct vt_p384_fe *a);

#endif
