/* SPDX-License-Identifier: Apache-2.0 */
/* JWK checks and conversion for TEE keys (kbs tee-pubkey). */
#ifndef VT_CRYPTO_JWK_H
#define VT_CRYPTO_JWK_H

#include <jansson.h>
#include <openssl/evp.h>

#include "veritee/veritee.h"

/* vt_jwk_to_pkey validates a public JWK: EC P-256 or P-521 (x and y of the curve's
 * size, the point on the curve) or RSA (n of 2048..8192 bits, e), with an optional
 * "alg" among ECDH-ES+A256KW, RSA-OAEP-256 and RSA1_5; on success returns the key in
 * *ret (may be NULL to only validate). Private members ("d", ...) are refused. */
int vt_jwk_to_pkey(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d);

#endif
