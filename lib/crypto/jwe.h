/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWE (RFC 7516) as the KBS resource response uses it: the flattened JSON
 * serialisation {"protected","encrypted_key","iv","ciphertext","tag"}, content
 * encryption A256GCM, key management ECDH-ES+A256KW (P-256, P-521) or RSA-OAEP-256
 * (RFC 7518). RSA1_5 is refused in both directions. Interoperates with Trustee's
 * kbs/src/jwe and guest-components' kbs_protocol.
 *
 * All functions are thread-safe (no shared state beyond OpenSSL's).
 */
#ifndef VT_CRYPTO_JWE_H
#define VT_CRYPTO_JWE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "veritee/veritee.h"

/* Largest plaintext (= ciphertext) either direction handles: a KBS resource is small. */
#define VT_JWE_MAX_PLAINTEXT (16u * 1024u * 1024u)

/* vt_jwe_encrypt encrypts len bytes to the public recipient_jwk (validated with
 * vt_jwk_to_pkey; a JWK whose "alg" is RSA1_5 is VT_E_UNSUPPORTED) and returns a new
 * flattened JWE object in *ret (members protected, encrypted_key, iv, ciphertext, tag,
 * all base64url without padding). The protected header is {"alg","enc":"A256GCM"
 * [,"epk"]} with alg ECDH-ES+A256KW for an EC key and RSA-OAEP-256 for an RSA key;
 * the GCM AAD is the ASCII of the protected member. More than VT_JWE_MAX_PLAINTEXT
 * bytes is VT_E_LIMIT. The CEK and ECDH secrets are wiped before returning. */
int vt_jwe_encrypt(const json_t *recipient_jwk, const uint8_t *plaintext, size_t len, json_t **ret,
                   struct vt_diag *d);

/* vt_jwe_decrypt decrypts a flattened JWE with the private key (EC P-256/P-521 or
 * RSA). alg must be the one for the key's type and enc A256GCM; "zip", "crit",
 * "aad" and "recipients" are refused. Header members may come from "protected" and,
 * as RFC 7516 section 7.2.1 allows, from the unprotected "header" and "unprotected"
 * objects (libjose puts "epk" there), which must be disjoint. On success *ret is a
 * malloc'd copy of the plaintext (at least one byte allocated, even for an empty
 * plaintext; the caller frees it with OPENSSL_clear_free) and *ret_len its length.
 * Errors: VT_E_FORMAT (shape, base64url, lengths, ciphertext above
 * VT_JWE_MAX_PLAINTEXT), VT_E_UNSUPPORTED (algorithms, header parameters),
 * VT_E_CRYPTO (alg not for this key, key unwrap, authentication tag), VT_E_NOMEM;
 * d names the check that failed. No plaintext is returned on any failure. */
int vt_jwe_decrypt(EVP_PKEY *key, const json_t *jwe, uint8_t **ret, size_t *ret_len,
                   struct vt_diag *d);

/* Building blocks, exposed for known-answer tests. */

/* vt_jwe_concat_kdf derives the 256-bit key-encryption key from the ECDH secret z:
 * Concat KDF (NIST SP 800-56A, RFC 7518 section 4.6.2) with SHA-256, AlgorithmID
 * alg_id, empty PartyUInfo and PartyVInfo, keydatalen 256. */
int vt_jwe_concat_kdf(const uint8_t *z, size_t zlen, const char *alg_id, uint8_t ret_kek[32]);

/* vt_jwe_a256kw_wrap and _unwrap are AES-256 key wrap (RFC 3394, default IV) of a
 * 32-byte key. unwrap returns VT_E_CRYPTO when the integrity check fails. */
int vt_jwe_a256kw_wrap(const uint8_t kek[32], const uint8_t cek[32], uint8_t ret_wrapped[40]);
int vt_jwe_a256kw_unwrap(const uint8_t kek[32], const uint8_t wrapped[40], uint8_t ret_cek[32]);

/* vt_jwe_encrypt_with is vt_jwe_encrypt with a caller-chosen CEK, IV and (for an EC
 * recipient) ephemeral key pair, so that a test can reproduce a known JWE byte for
 * byte (vt_jwe_encrypt is this with a fresh random CEK and IV and a new ephemeral
 * key). Known-answer tests only: reusing a CEK/IV pair breaks GCM. */
int vt_jwe_encrypt_with(const json_t *recipient_jwk, EVP_PKEY *ephemeral, const uint8_t cek[32],
                        const uint8_t iv[12], const uint8_t *plaintext, size_t len, json_t **ret,
                        struct vt_diag *d);

/* vt_jwe_protected_serialize writes hdr (a JSON object with string "alg" and "enc") in the
 * one form a stock CoCo guest re-creates before decrypting: the guest does not use the
 * "protected" string it received as the GCM AAD, it parses the header into kbs-types'
 * ProtectedHeader {alg, enc, #[serde(flatten)] other_fields: serde_json::Map} and
 * re-serialises it (ProtectedHeader::generate_aad). So: compact, "alg", then "enc", then
 * every other member in byte order of its name, nested objects' members in byte order
 * too (serde_json's Map is a BTreeMap; with its preserve_order feature it keeps the
 * order received, which is then the same order). Header values must not hold control
 * characters or non-integral numbers (serde_json and jansson escape and print those
 * differently); veriteed's never do. Returns 0, VT_E_INVAL for another shape. */
int vt_jwe_protected_serialize(const json_t *hdr, char **ret);

#endif
