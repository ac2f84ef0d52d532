/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWS checks shared by the two token checkers, attestation tokens (jwt.c, our own and
 * those of tokens.trusted_jwks) and admin tokens (admin.c), so that each rule is written
 * once: no crit header, ES256 signatures with a low S, and the exp/nbf/iat window.
 * Internal to lib/token.
 */
#ifndef VT_TOKEN_JOSE_H
#define VT_TOKEN_JOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/veritee.h"

#define VT_JOSE_LEEWAY 60 /* seconds of clock skew allowed for exp, nbf and iat */

/* vt_jose_check_crit returns 0 when the JOSE header hdr has no "crit" member, else
 * VT_E_FORMAT with "<who>: crit header is not supported" in d: RFC 7515 section 4.1.11
 * says a recipient must refuse extensions it does not understand, and we understand
 * none. Thread-safe. */
int vt_jose_check_crit(const json_t *hdr, const char *who, struct vt_diag *d);

/* vt_jose_es256_der checks a 64-byte ES256 signature r||s and writes its DER form (for
 * OpenSSL) into der (*der_len bytes). S must be at most half the P-256 order: the other
 * S of the pair verifies as well, and accepting both would give every token a second
 * spelling (our signers always write the low one). VT_E_SIGNATURE with
 * "<who>: ES256 signature has a high S ..." in d, or VT_E_CRYPTO. Thread-safe. */
int vt_jose_es256_der(const uint8_t sig[64], uint8_t der[static 80], size_t *der_len,
                      const char *who, struct vt_diag *d);

/* vt_jose_es256_raw turns a DER ECDSA P-256 signature from OpenSSL into the 64-byte JWS
 * form r||s, with S replaced by order - S when it is high. VT_E_CRYPTO if der is not
 * one. Thread-safe. */
int vt_jose_es256_raw(const uint8_t *der, size_t der_len, uint8_t sig[static 64]);

/* vt_jose_check_times checks the time claims of verified claims at now, with
 * VT_JOSE_LEEWAY seconds of skew either way: exp is required and must not have passed;
 * nbf and iat, when present, must not be in the future; each present one is an integer.
 * Returns 0, VT_E_FORMAT (absent exp, not an integer) or VT_E_EXPIRED, with the reason
 * prefixed by who ("token", "admin token") in d. Thread-safe. */
int vt_jose_check_times(const json_t *claims, int64_t now, const char *who, struct vt_diag *d);

#endif
