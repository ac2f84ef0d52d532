/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JWS core shared by the two token checkers, attestation tokens (jwt.c, our own and
 * those of tokens.trusted_jwks) and admin tokens (admin.c), so that each rule is written
 * once: the compact serialisation (alphabet, three parts, sizes), the protected header
 * (a JSON object without duplicates, no crit, a short string kid), the algorithm,
 * the signature (64 bytes; ES256 with a low S) and its verification, signing, and the
 * exp/nbf/iat window. Which algorithms and keys a checker accepts stays with it.
 * Internal to lib/token.
 */
#ifndef VT_TOKEN_JOSE_H
#define VT_TOKEN_JOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "veritee/veritee.h"

#define VT_JOSE_LEEWAY 60 /* seconds of clock skew allowed for exp, nbf and iat */
#define VT_JWS_SIG_LEN 64 /* ES256 r||s and EdDSA R||S alike */
#define VT_JWS_MAX_KID 128

/* The signature algorithms of the JWS core, as a mask of accepted ones. */
enum vt_jws_alg {
        VT_JWS_ES256 = 1 << 0,
        VT_JWS_EDDSA = 1 << 1,
};

/* A compact JWS taken apart by vt_jws_parse: the protected header is decoded and
 * checked, the rest points into the token (borrowed: the token must outlive it). */
struct vt_jws {
        json_t *hdr;         /* owned; vt_jws_done releases it */
        const char *who;     /* "token", "admin token": the prefix of every reason */
        const char *alg;     /* the header's alg, NULL when absent or not a string */
        const char *kid;     /* the header's kid, NULL when absent */
        const char *signing; /* header.payload, the signed bytes */
        size_t signing_len;
        const char *payload64; /* the payload, base64url */
        size_t payload64_len;
        const char *sig64; /* the signature, base64url */
        size_t sig64_len;
};

/* A decoded signature: raw as in the token, der for OpenSSL (ES256 only). */
struct vt_jws_sig {
        enum vt_jws_alg alg;
        uint8_t raw[VT_JWS_SIG_LEN];
        uint8_t der[80];
        size_t der_len;
};

/* vt_jws_parse takes apart the compact JWS token (at most max_len bytes; a decoded
 * header of at most max_header): only base64url bytes and two dots, a non-empty header
 * and payload, the header a JSON object without duplicate members, without "crit", and
 * a "kid", when present, a string of at most VT_JWS_MAX_KID bytes. The signature is
 * not checked here. On success fills *ret (release with vt_jws_done); otherwise
 * VT_E_LIMIT or VT_E_FORMAT with "<who>: ..." in d. Thread-safe. */
int vt_jws_parse(const char *token, size_t max_len, size_t max_header, const char *who,
                 struct vt_jws *ret, struct vt_diag *d);

/* vt_jws_done releases what vt_jws_parse allocated. */
void vt_jws_done(struct vt_jws *j);

/* vt_jws_alg_of returns the algorithm the header names when it is one of the mask
 * accepted: 0 and *ret set, 1 when the header has no alg, VT_E_UNSUPPORTED when it
 * names another. The caller words the refusal (its error codes are part of its
 * contract). Thread-safe. */
int vt_jws_alg_of(const struct vt_jws *j, unsigned accepted, enum vt_jws_alg *ret);

/* vt_jws_signature decodes the signature of j for alg: exactly VT_JWS_SIG_LEN bytes,
 * and for ES256 a low S (vt_jose_es256_der). VT_E_SIGNATURE with the reason in d, or
 * VT_E_CRYPTO. Thread-safe. */
int vt_jws_signature(const struct vt_jws *j, enum vt_jws_alg alg, struct vt_jws_sig *ret,
                     struct vt_diag *d);

/* vt_jws_verify tells whether sig verifies over the signed bytes of j with key (EC
 * P-256 for ES256, Ed25519 for EdDSA). Thread-safe. */
bool vt_jws_verify(const struct vt_jws *j, const struct vt_jws_sig *sig, EVP_PKEY *key);

/* vt_jws_claims decodes the payload of a verified j (at most max bytes) into a new JSON
 * object in *ret. VT_E_FORMAT with "<who>: ..." in d. Thread-safe. */
int vt_jws_claims(const struct vt_jws *j, size_t max, json_t **ret, struct vt_diag *d);

/* vt_jws_sign returns in *ret a new compact JWS of claims under the protected header
 * hdr (both serialised compactly in their member order), signed with key by alg
 * (ES256 with a low S, or EdDSA). VT_E_NOMEM or VT_E_CRYPTO. Thread-safe. */
int vt_jws_sign(EVP_PKEY *key, enum vt_jws_alg alg, const json_t *hdr, const json_t *claims,
                char **ret);
/* vt_jws_sign_d is vt_jws_sign with, on VT_E_CRYPTO, OpenSSL's reason in d. */
int vt_jws_sign_d(EVP_PKEY *key, enum vt_jws_alg alg, const json_t *hdr, const json_t *claims,
                  char **ret, struct vt_diag *d);

/* vt_jws_sign_text_d is vt_jws_sign_d with the payload given as text: payload (len
 * bytes), the serialised JSON object to sign exactly as it is (a caller that also keeps or
 * digests that text serialises it once). */
int vt_jws_sign_text_d(EVP_PKEY *key, enum vt_jws_alg alg, const json_t *hdr, const char *payload,
                       size_t len, char **ret, struct vt_diag *d);

/* vt_jws_sign_rs256 returns in *ret a new compact JWS of claims under hdr signed with the
 * RSA key by RS256 (RSASSA-PKCS1-v1_5 with SHA-256): the algorithm of Azure Attestation's
 * tokens and Key Vault's release answers, which their clients expect. VT_E_NOMEM or
 * VT_E_CRYPTO (not an RSA key). Thread-safe. */
int vt_jws_sign_rs256(EVP_PKEY *key, const json_t *hdr, const json_t *claims, char **ret);

/* vt_jws_verify_rs256 checks the RS256 signature of j (parsed by vt_jws_parse, whatever
 * its header's alg; the caller checks that it says RS256) with key, an RSA key of at least
 * 2048 bits: 0, or VT_E_SIGNATURE with "<who>: RS256 signature does not verify" (or the
 * key's fault) in d. Thread-safe. */
int vt_jws_verify_rs256(const struct vt_jws *j, EVP_PKEY *key, struct vt_diag *d);

/* A signer that keeps its key elsewhere (a PKCS#11 token): it signs the SHA-256 digest
 * md with P-256 and writes r || s (S high or low) to sig; 0 or a negative VT_E_*. */
typedef int (*vt_jws_es256_fn)(const uint8_t md[32], uint8_t sig[64], void *ud);

/* vt_jws_sign_es256_with is vt_jws_sign for ES256 with the signature made by fn (called
 * once, with ud): the same signed bytes, S made low. fn's error is returned as it is.
 * Thread-safe when fn is. */
int vt_jws_sign_es256_with(vt_jws_es256_fn fn, void *ud, const json_t *hdr, const json_t *claims,
                           char **ret);
/* vt_jws_sign_failed returns VT_E_CRYPTO with OpenSSL's first queued error (its library
 * and reason, never data) and the secure heap's use in d, and clears the queue: a
 * signature that fails only under load ("malloc failure" from the secure heap) says so in
 * the log. */
int vt_jws_sign_failed(struct vt_diag *d);

/* vt_jws_sign_es256_text_with is vt_jws_sign_es256_with with the payload given as text, as
 * for vt_jws_sign_text_d. */
int vt_jws_sign_es256_text_with(vt_jws_es256_fn fn, void *ud, const json_t *hdr,
                                const char *payload, size_t len, char **ret);

/* vt_jws_header_b64 puts in *ret (malloc'd) the base64url of hdr's compact JSON in its
 * member order: the first part of every JWS signed with hdr. Thread-safe. */
int vt_jws_header_b64(const json_t *hdr, char **ret);

/* vt_jws_sign_es256_h64_with is vt_jws_sign_es256_with (claims) or
 * vt_jws_sign_es256_text_with (payload, len bytes; claims NULL) with the protected header
 * given as its encoding h64 (vt_jws_header_b64): the same JWS, without encoding a header
 * that is the same for every token again. */
int vt_jws_sign_es256_h64_with(vt_jws_es256_fn fn, void *ud, const char *h64, const json_t *claims,
                               const char *payload, size_t len, char **ret);

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
 * one, or r or s is outside [1, order - 1]. Thread-safe. */
int vt_jose_es256_raw(const uint8_t *der, size_t der_len, uint8_t sig[static 64]);

/* vt_jose_check_times checks the time claims of verified claims at now, with
 * VT_JOSE_LEEWAY seconds of skew either way: exp is required and must not have passed;
 * nbf and iat, when present, must not be in the future; each present one is an integer.
 * Returns 0, VT_E_FORMAT (absent exp, not an integer) or VT_E_EXPIRED, with the reason
 * prefixed by who ("token", "admin token") in d. Thread-safe. */
int vt_jose_check_times(const json_t *claims, int64_t now, const char *who, struct vt_diag *d);

#endif
