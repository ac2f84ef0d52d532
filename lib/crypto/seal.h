/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sealing secrets at rest (envelope encryption). Each secret gets a fresh random 32-byte
 * data key (DEK); the secret is encrypted with AES-256-GCM under the DEK, and the DEK is
 * wrapped with AES-256-GCM under a key-encryption key (KEK) read from a file. Both carry
 * the caller's aad (e.g. the resource path), so a row moved to another name does not
 * decrypt. Rotating the KEK rewraps the 60-byte DEK blobs and leaves the ciphertexts be.
 *
 * Blobs: wrapped DEK = nonce (12) || AES-256-GCM(KEK, DEK) (32) || tag (16), aad
 * "veritee-dek:" || aad; ciphertext = nonce (12) || AES-256-GCM(DEK, secret) || tag (16),
 * aad = aad.
 */
#ifndef VT_CRYPTO_SEAL_H
#define VT_CRYPTO_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* for OPENSSL_clear_free, which frees what vt_unseal returns */
#include <openssl/crypto.h>

#include "veritee/veritee.h"

#define VT_KEK_SIZE        32
#define VT_SEAL_NONCE_SIZE 12
#define VT_SEAL_TAG_SIZE   16
/* the length of a wrapped DEK, and what a ciphertext adds to its secret */
#define VT_SEAL_WDEK_SIZE (VT_SEAL_NONCE_SIZE + VT_KEK_SIZE + VT_SEAL_TAG_SIZE)
#define VT_SEAL_OVERHEAD  (VT_SEAL_NONCE_SIZE + VT_SEAL_TAG_SIZE)
/* caps: a secret of at most 64 MiB, an aad of at most 4 KiB */
#define VT_SEAL_MAX_SECRET (64u * 1024u * 1024u)
#define VT_SEAL_MAX_AAD    4096u

struct vt_kek;

/* vt_kek_load reads a KEK from path: a regular file holding exactly 32 raw bytes, or 64
 * hex digits and an optional "\n". A symlink is followed; the file it ends at is checked
 * (it is what holds the key). The file must not be readable, writable or executable by
 * group or others (mode & 077 == 0): else VT_E_INVAL naming the path and its mode. VT_E_IO
 * if it cannot be opened or read, VT_E_FORMAT for another length, a non-hex digit or an
 * all-zero key. The key is kept on its own page, locked into memory with mlock(2) where
 * the RLIMIT_MEMLOCK allows, excluded from core dumps, and wiped by vt_kek_free. The file
 * bytes are wiped after reading. *ret is freed with vt_kek_free. */
int vt_kek_load(const char *path, struct vt_kek **ret, struct vt_diag *d);

/* A KEK file may instead hold one line, an RFC 7512 "pkcs11:" URI (with pin-source, see
 * crypto/pkcs11.h) naming a sensitive, non-extractable AES-256 key in a PKCS#11 token:
 * vt_kek_load then opens that key (vt_kek_open_uri) and the data keys are wrapped inside
 * the token with CKM_AES_GCM, in the same 60-byte blob. Its id is the first 8 bytes of
 * SHA-256 over "veritee-kek-pkcs11", the token's serial and label and the key's CKA_ID and
 * CKA_LABEL: one key in one token has one id whatever URI names it, and no file key
 * shares it. */

/* vt_kek_open_uri opens the HSM KEK a pkcs11: URI names (errors of vt_p11_key_open).
 * *ret is freed with vt_kek_free. Operations on it are thread-safe (one session and a
 * mutex per key). */
int vt_kek_open_uri(const char *uri, struct vt_kek **ret, struct vt_diag *d);

/* vt_kek_open is vt_kek_open_uri for a spec that starts with "pkcs11:", else
 * vt_kek_load(spec). */
int vt_kek_open(const char *spec, struct vt_kek **ret, struct vt_diag *d);

/* vt_kek_is_pkcs11 tells whether k lives in a PKCS#11 token. */
bool vt_kek_is_pkcs11(const struct vt_kek *k);

/* vt_kek_generate writes a new random KEK (RAND_priv_bytes) to path as 64 hex digits and
 * "\n", mode 0600. It never replaces anything: if path exists (even as a dangling
 * symlink) it fails with VT_E_INVAL; VT_E_IO if the file cannot be written (a partly
 * written file is removed). */
int vt_kek_generate(const char *path, struct vt_diag *d);

/* vt_kek_free wipes and frees k; NULL is fine. */
void vt_kek_free(struct vt_kek *k);

/* vt_kek_id returns 16 lowercase hex digits, the first 8 bytes of
 * SHA-256("veritee-kek" || key), which name the KEK a row was wrapped with without
 * revealing it. The string lives as long as k. */
const char *vt_kek_id(const struct vt_kek *k);

/* vt_seal encrypts secret[0..len) under a fresh data key bound to aad (may be NULL if
 * aad_len is 0) and wraps the data key under k. On success *ret_wrapped_dek
 * (VT_SEAL_WDEK_SIZE bytes) and *ret_ct (len + VT_SEAL_OVERHEAD bytes) are new malloc'd
 * blobs the caller frees with free(); they hold no secret in the clear. VT_E_INVAL for a
 * missing argument, VT_E_LIMIT for a secret over 64 MiB or an aad over 4 KiB,
 * VT_E_CRYPTO if OpenSSL fails. Thread-safe on a shared k. */
int vt_seal(const struct vt_kek *k, const uint8_t *aad, size_t aad_len, const uint8_t *secret,
            size_t len, uint8_t **ret_wrapped_dek, size_t *ret_wdek_len, uint8_t **ret_ct,
            size_t *ret_ct_len);

/* vt_unseal unwraps the data key with k and decrypts ct, both bound to aad. On success
 * *ret_secret is a new buffer (OPENSSL_malloc'd, never NULL, even for 0 bytes) the caller
 * frees with OPENSSL_clear_free(*ret_secret, *ret_len). VT_E_FORMAT if a blob has an
 * impossible length; VT_E_CRYPTO if either blob does not authenticate (a wrong KEK, a
 * wrong aad, a changed byte), and then nothing decrypted is left behind. Thread-safe. */
int vt_unseal(const struct vt_kek *k, const uint8_t *aad, size_t aad_len,
              const uint8_t *wrapped_dek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
              uint8_t **ret_secret, size_t *ret_len, struct vt_diag *d);

/* vt_rewrap unwraps a data key with old_k and wraps it under new_k (a fresh nonce, the
 * same aad), for KEK rotation; the ciphertext is untouched and still decrypts with the
 * new blob. *ret_new_wdek is malloc'd (VT_SEAL_WDEK_SIZE bytes); errors as vt_unseal. */
int vt_rewrap(const struct vt_kek *old_k, const struct vt_kek *new_k, const uint8_t *aad,
              size_t aad_len, const uint8_t *wrapped_dek, size_t wdek_len, uint8_t **ret_new_wdek,
              size_t *ret_len, struct vt_diag *d);

#endif
