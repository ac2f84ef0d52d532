/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDSA verification with fixed-base tables, for P-384 keys that verify signature after
 * signature: an SEV-SNP chip's VCEK signs every report of every guest on its host, so a
 * node pool of H hosts brings H keys, each verifying thousands of reports.
 *
 * A verification computes u1·G + u2·Q. OpenSSL 3.0 has no dedicated P-384 code: its
 * generic wNAF multiplication shares 384 point doublings between the two halves, on
 * general-purpose BIGNUMs, and that is most of a verification. Here each key (and G) has
 * a comb table of 255 precomputed points (crypto/p384.h, about 24 KiB), so that
 * u1·G + u2·Q is 48 doublings shared by both halves and at most 96 additions, in P-384
 * arithmetic on fixed 64-bit limbs; the result is compared with r in Jacobian
 * coordinates, without a field inversion; s^-1 is crypto/modinv.h's. A verification costs
 * about a tenth of EVP_PKEY_verify's.
 *
 * A key gets a slot once it has verified a valid signature through EVP_PKEY_verify
 * (vt_ecfix_remember), and its table at its next verification: keys seen once (fuzzers,
 * one-off requests, rotated chips) and keys with only forged signatures cost no table;
 * VT_ECFIX_KEYS keys keep slots, the least recently used making way.
 * Keys are identified by their encoded public point, compared byte for byte, never by
 * address. Everything here works on public values only: the key, the digest and the
 * signature.
 */
#ifndef VT_CRYPTO_ECFIXED_H
#define VT_CRYPTO_ECFIXED_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* keys whose tables are kept (about 24 KiB each) */
#define VT_ECFIX_KEYS 16

/* vt_ecfix_verify's answer when it does not take the signature (not a P-384 key, a key
 * without a slot, no memory for a table): the caller verifies with EVP. */
#define VT_ECFIX_PASS 1

/* P-384's encoded point, uncompressed: 0x04, x and y */
#define VT_ECFIX_POINT_MAX 97

/* A key as vt_ecfix_verify saw it, for vt_ecfix_remember: its encoded point if it is a
 * P-384 key (len 0 otherwise), so that the key is looked at once per verification. */
struct vt_ecfix_key {
        uint8_t point[VT_ECFIX_POINT_MAX];
        size_t len;
};

/* vt_ecfix_verify verifies an ECDSA signature (r and s big-endian, n bytes each, n at most
 * 66) over a digest (1 to 64 bytes; its leftmost 48 bytes count, as in ECDSA) with key's
 * table: 0 if valid, VT_E_SIGNATURE if not (r or s out of [1, order - 1], or the equation
 * fails), VT_E_NOMEM/VT_E_CRYPTO, or VT_ECFIX_PASS. It fills *seen in every case.
 * Thread-safe. */
int vt_ecfix_verify(EVP_PKEY *key, const uint8_t *digest, size_t dlen, const uint8_t *r,
                    const uint8_t *s, size_t n, struct vt_ecfix_key *seen);

/* vt_ecfix_key_of fills seen with key's encoded point if it is a P-384 key (len 0 for any
 * other key): what vt_ecfix_verify looks at first, for a caller that keeps a key and
 * verifies with it again and again (vt_ecfix_verify_seen). */
void vt_ecfix_key_of(EVP_PKEY *key, struct vt_ecfix_key *seen);

/* vt_ecfix_verify_seen is vt_ecfix_verify for the key vt_ecfix_key_of filled seen with. */
int vt_ecfix_verify_seen(const struct vt_ecfix_key *seen, const uint8_t *digest, size_t dlen,
                         const uint8_t *r, const uint8_t *s, size_t n);

/* vt_ecfix_remember gives the key vt_ecfix_verify saw a slot, if it is a P-384 key (its
 * table is built by its next vt_ecfix_verify): call it after EVP_PKEY_verify found the
 * signature that vt_ecfix_verify passed on valid. Thread-safe. */
void vt_ecfix_remember(const struct vt_ecfix_key *seen);

/* What the cache holds: keys seen, keys with a table, and verifications done with a
 * table since the start (or the last vt_ecfix_reset). */
struct vt_ecfix_stats {
        size_t keys, tables;
        uint64_t fast;
};
void vt_ecfix_stats(struct vt_ecfix_stats *ret);

/* vt_ecfix_reset forgets every key and table (tests; verifications in flight finish on
 * the tables they hold). Thread-safe. */
void vt_ecfix_reset(void);

#endif
