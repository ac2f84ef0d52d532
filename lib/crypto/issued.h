/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tokens this server signed most recently, keyed by the SHA-256 of their exact text,
 * with their claims: a Bearer token that is byte for byte one we signed with our own key
 * needs no signature check to be ours (its times are still checked by the caller). Any
 * other text, one byte changed, misses and is verified in full. Bounded (a fixed number of
 * slots, the oldest replaced), thread-safe.
 */
#ifndef VT_CRYPTO_ISSUED_H
#define VT_CRYPTO_ISSUED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct vt_issued;

/* vt_issued_new returns a cache of n slots (1..65536), or NULL (no memory). */
struct vt_issued *vt_issued_new(size_t n);

/* vt_issued_free frees c (NULL accepted). */
void vt_issued_free(struct vt_issued *c);

/* vt_issued_put records that token (NUL-terminated) was signed by us with claims and
 * claims_digest (32 bytes, kept with them: the SHA-256 of the claims' canonical text, which
 * the ledger records). The cache keeps a reference to claims, not a copy: neither the
 * caller nor anyone it hands them to may change them afterwards (jansson's reference counts
 * are atomic; reading one tree from several threads is safe, changing it is not). A NULL c
 * does nothing. Thread-safe. */
void vt_issued_put(struct vt_issued *c, const char *token, json_t *claims,
                   const uint8_t claims_digest[static 32]);

/* vt_issued_get returns the claims of token when exactly this text was put, with their
 * digest in ret_digest (32 bytes; may be NULL), else NULL. The claims are shared with the
 * cache and other requests: the caller owns a reference (json_decref it) and must not
 * change them. Thread-safe. */
json_t *vt_issued_get(struct vt_issued *c, const char *token, uint8_t *ret_digest);

#endif
