/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one home of JWK <-> key conversion: every public JWK that becomes a key goes
 * through the same checks (sizes, the EC point on its curve, RSA modulus and exponent,
 * no private members), and every public JWK we write comes from vt_jwk_from_pkey.
 * Internal to lib/, tests and fuzzers.
 */
#ifndef VT_CRYPTO_JWK_H
#define VT_CRYPTO_JWK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "veritee/veritee.h"

#define VT_JWK_THUMBPRINT_LEN 43 /* base64url of a SHA-256 */

/* An EC curve JWKs may name. */
struct vt_jwk_curve {
        const char *crv;  /* JWK name, "P-256" */
        const char *ossl; /* OpenSSL group name, "prime256v1" */
        size_t n;         /* coordinate and private scalar size in bytes */
};

/* vt_jwk_curve_named returns the curve whose JWK name is crv (P-256, P-521), or NULL. */
const struct vt_jwk_curve *vt_jwk_curve_named(const char *crv);

/* The curves of the table (P-256, P-521), and the index in it of curve c (one of those
 * vt_jwk_curve_named and vt_jwk_curve_of return), or SIZE_MAX for any other pointer. */
#define VT_JWK_CURVES 2
size_t vt_jwk_curve_index(const struct vt_jwk_curve *c);

/* vt_jwk_curve_of returns the curve of an EC key, or NULL for other keys and curves. */
const struct vt_jwk_curve *vt_jwk_curve_of(EVP_PKEY *key);

/* vt_ec_public_from_xy builds the public key (x, y) on curve c (x and y c->n bytes,
 * big-endian) into *ret (may be NULL to only check), after checking that the point is
 * on the curve. A point built before may come from a small cache of checked keys, keyed
 * by the exact point: *ret is then one more reference to the same key. VT_E_FORMAT when it is not,
 * VT_E_NOMEM. Thread-safe. */
int vt_ec_public_from_xy(const struct vt_jwk_curve *c, const uint8_t *x, const uint8_t *y,
                         EVP_PKEY **ret);

/* vt_ec_public_cache_hits returns how many keys vt_ec_public_from_xy served from its cache
 * of recently built keys (exact points only; for tests and benchmarks). Thread-safe. */
unsigned long vt_ec_public_cache_hits(void);

/* vt_ec_public_xy writes the coordinates of the EC key (public or private) on curve c
 * into x and y (c->n bytes each). VT_E_CRYPTO if key is not such a key. */
int vt_ec_public_xy(EVP_PKEY *key, const struct vt_jwk_curve *c, uint8_t *x, uint8_t *y);

/* vt_rsa_public_from_ne builds an RSA public key from big-endian n and e into *ret.
 * No size checks: the callers check what their format requires. VT_E_FORMAT. */
int vt_rsa_public_from_ne(const uint8_t *n, size_t nl, const uint8_t *e, size_t el, EVP_PKEY **ret);

/* vt_jwk_to_pkey validates a public JWK: EC P-256 or P-521 (x and y of the curve's
 * size, the point on the curve) or RSA (n of 2048..8192 bits, e), with an optional
 * "alg" among ECDH-ES+A256KW, RSA-OAEP-256 and RSA1_5; on success returns the key in
 * *ret (may be NULL to only validate). Private members ("d", ...) are refused. */
int vt_jwk_to_pkey(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d);

/* vt_jwk_to_verify_key validates a public JWK that is to verify ES256 signatures: no
 * private members; "use", when present, "sig"; "alg", when present, "ES256"; "key_ops",
 * when present, includes "verify"; EC P-256 with the same point checks as
 * vt_jwk_to_pkey. The key in *ret (may be NULL). VT_E_UNSUPPORTED (what the key is
 * for, its type) or VT_E_FORMAT (its members), the check in d. Thread-safe. */
int vt_jwk_to_verify_key(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d);

/* vt_jwk_private_to_pkey turns an EC private JWK (kty, crv P-256/P-521, x, y, d;
 * other members ignored) into a key pair in *ret, checking that d belongs to (x, y), or
 * an RSA private JWK (n of 2048..4096 bits, e, d, p, q, dp, dq, qi; no "oth"), checking
 * that its members belong together (OpenSSL's pairwise check). */
int vt_jwk_private_to_pkey(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d);

/* The member order of a public JWK we write. Others hash or compare these bytes (the
 * KBS runtime data, the JWE protected header), so the order is part of the format. */
enum vt_jwk_layout {
        VT_JWK_ALG_FIRST, /* {"kty","crv","alg","x","y"}, {"kty","alg","n","e"}: Trustee's TeePubKey
                           */
        VT_JWK_ALG_LAST,  /* {"kty","crv","x","y","alg"}: verification keys in a JWKS */
        VT_JWK_EPK,       /* {"crv","kty","x","y"}: a JWE epk (serde's order in Trustee) */
};

/* vt_jwk_from_pkey returns in *ret a new public JWK of key (private or public): EC
 * P-256/P-521 or RSA (not with VT_JWK_EPK), "alg" alg unless NULL (ignored for
 * VT_JWK_EPK), members in the order of layout. VT_E_UNSUPPORTED for other keys. */
int vt_jwk_from_pkey(EVP_PKEY *key, enum vt_jwk_layout layout, const char *alg, json_t **ret);

/* vt_jwk_from_ec_xy is vt_jwk_from_pkey for the EC public point (x, y) on curve c (x and y
 * c->n bytes, big-endian), which it does not check: the caller made the point. */
int vt_jwk_from_ec_xy(const struct vt_jwk_curve *c, const uint8_t *x, const uint8_t *y,
                      enum vt_jwk_layout layout, const char *alg, json_t **ret);

/* vt_jwk_from_private returns in *ret a new public JWK for key (private or public):
 * EC {"kty","crv","alg":"ECDH-ES+A256KW","x","y"} for P-256/P-521, RSA
 * {"kty","alg":"RSA-OAEP-256","n","e"}, as the agent sends as tee-pubkey. Other key
 * types and curves are VT_E_UNSUPPORTED. */
int vt_jwk_from_private(EVP_PKEY *key, json_t **ret);

/* vt_jwk_thumbprint writes the RFC 7638 thumbprint (SHA-256, base64url) of the public
 * JWK of key (EC P-256/P-521, RSA or Ed25519; private keys too) into ret. */
int vt_jwk_thumbprint(EVP_PKEY *key, char ret[static VT_JWK_THUMBPRINT_LEN + 1]);

#endif
