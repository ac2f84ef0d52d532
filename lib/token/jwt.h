/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWT signing (ES256) with a key kept in a 0600 PEM file, the public JWK and JWKS,
 * and ES256 verification against a set of JWKs.
 */
#ifndef VT_TOKEN_JWT_H
#define VT_TOKEN_JWT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "veritee/veritee.h"

struct vt_signer;

/* vt_signer_load_or_create loads the P-256 private key at path or, when the file does
 * not exist, generates one and writes it with mode 0600 (via a temporary file). A key
 * file readable by group or others is refused (VT_E_INVAL). path may instead be an RFC
 * 7512 "pkcs11:" URI (with pin-source, crypto/pkcs11.h) naming a sensitive,
 * non-extractable P-256 private key in a PKCS#11 token and its public key (same CKA_ID):
 * then signing happens in the token (CKM_ECDSA over the SHA-256 digest) and nothing is
 * ever created (errors of vt_p11_key_open). */
int vt_signer_load_or_create(const char *path, struct vt_signer **ret, struct vt_diag *d);
void vt_signer_free(struct vt_signer *s);

/* vt_signer_is_pkcs11 tells whether s signs in a PKCS#11 token. */
bool vt_signer_is_pkcs11(const struct vt_signer *s);

/* vt_signer_load_or_create_as is vt_signer_load_or_create with what ("ledger key") naming
 * the key in reasons. */
int vt_signer_load_or_create_as(const char *path, const char *what, struct vt_signer **ret,
                                struct vt_diag *d);

/* vt_signer_sign_jws returns a compact ES256 JWS of claims with the header
 * {"alg":"ES256","typ":typ,"kid":kid} in a malloc'd string. Thread-safe. */
int vt_signer_sign_jws(const struct vt_signer *s, const char *typ, const json_t *claims,
                       char **ret);

/* vt_signer_kid returns the key id: the RFC 7638 JWK thumbprint (base64url SHA-256). */
const char *vt_signer_kid(const struct vt_signer *s);

/* vt_signer_jwk returns a new JSON object with the public JWK
 * {kty,crv,x,y,alg:"ES256",use:"sig",kid}. */
json_t *vt_signer_jwk(const struct vt_signer *s);

/* vt_jwt_key_file_jwk reads a P-256 key from a PEM file (a private key, which only its
 * owner may read, a public key or a certificate) and returns in *ret (new reference) its
 * public JWK as vt_signer_jwk writes it: {kty,crv,x,y,alg:"ES256",use:"sig",kid}, kid the
 * RFC 7638 thumbprint. what ("token.retired_keys") starts every reason. Thread-safe. */
int vt_jwt_key_file_jwk(const char *path, const char *what, json_t **ret, struct vt_diag *d);

/* vt_jwt_sign serialises claims and returns a compact JWS (header alg ES256, typ JWT,
 * kid, jwk) in a malloc'd string. Thread-safe. */
int vt_jwt_sign(const struct vt_signer *s, const json_t *claims, char **ret);
/* vt_jwt_sign_d is vt_jwt_sign with, on VT_E_CRYPTO, OpenSSL's reason in d (no secret). */
int vt_jwt_sign_d(const struct vt_signer *s, const json_t *claims, char **ret, struct vt_diag *d);

/* vt_jwt_sign_text_d is vt_jwt_sign_d with the claims given as text: payload (len bytes,
 * a serialised JSON object) is signed exactly as it is, so that a caller that also keeps
 * or digests that text (veriteed: the claims' JCS text) serialises the claims once. */
int vt_jwt_sign_text_d(const struct vt_signer *s, const char *payload, size_t len, char **ret,
                       struct vt_diag *d);

/* vt_jwt_verify checks a compact ES256 JWS against the keys of a JWKS
 * ({"keys":[...]}; a key is chosen by kid when the header has one) and returns its
 * claims. The same rules as admin tokens (token/jose.h): no crit header, a low S, exp
 * required, exp, nbf and iat at now with 60 s leeway. VT_E_SIGNATURE, VT_E_EXPIRED,
 * VT_E_FORMAT, VT_E_UNSUPPORTED, VT_E_LIMIT with a reason in d. Thread-safe. */
int vt_jwt_verify(const char *token, const json_t *jwks, int64_t now, json_t **ret_claims,
                  struct vt_diag *d);

/* vt_jws_verify_jwks checks a compact ES256 JWS against the keys of a JWKS as
 * vt_jwt_verify does, but checks no times; with typ non-NULL the header's typ must be
 * typ. who prefixes every reason. Returns the payload in *ret_claims. Thread-safe. */
int vt_jws_verify_jwks(const char *token, const json_t *jwks, const char *who, const char *typ,
                       json_t **ret_claims, struct vt_diag *d);

/* vt_jwt_key_usable tells whether vt_jwt_verify can use a JWK: a public EC P-256 key
 * with x and y of 32 bytes, the point on the curve, and, where the JWK says, "use" "sig",
 * "alg" "ES256" and "verify" among its "key_ops". */
bool vt_jwt_key_usable(const json_t *jwk);

/* vt_jwk_p256_public returns the public JWK of a P-256 key (NULL for other keys). */
json_t *vt_jwk_p256_public(EVP_PKEY *key);

/* The token key's certificate chain, put as x5c in the header of tokens (and in the header's
 * jwk, where Trustee's token verifier reads it): from chain_file (PEM, the token key's
 * certificate first), else made and signed with ca_key_file for ca_cert_file (x5c: the new
 * certificate, then the CA file's certificates), else self-signed when self_signed
 * (development only). write_to, when set, receives the chain as PEM. None set: no x5c. */
struct vt_signer_cert_opts {
        const char *chain_file, *ca_cert_file, *ca_key_file, *write_to;
        bool self_signed;
};
int vt_signer_certify(struct vt_signer *s, const struct vt_signer_cert_opts *o, int64_t now,
                      struct vt_diag *d);
/* vt_signer_x5c returns the chain set by vt_signer_certify (base64 DER strings), or NULL. */
const json_t *vt_signer_x5c(const struct vt_signer *s);

#endif
