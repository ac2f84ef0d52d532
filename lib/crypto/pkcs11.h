/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys in a PKCS#11 token (an HSM, SoftHSM2), named by RFC 7512 "pkcs11:" URIs and used
 * through the module p11-kit loads: the URI's module-path, else the modules registered
 * with p11-kit (module-name picks one of them). The key never leaves the token: wrapping
 * a data key and signing happen inside it.
 *
 * URIs: path attributes token, manufacturer, model, serial (the token), object (CKA_LABEL),
 * id (CKA_ID, percent-encoded bytes), type (secret-key, private; others are refused);
 * query attributes module-path, module-name, pin-source (a file path or "file:" URI that
 * holds the user PIN; a trailing newline is not part of it). pin-value is refused: a PIN
 * is never written into a URI (they end up in logs and command lines). A URI needs the
 * token's label (or serial) and the object's label or id.
 *
 * Keys must be sensitive and not extractable (CKA_SENSITIVE true, CKA_EXTRACTABLE
 * false): vt_p11_key_open refuses any other, naming the attribute.
 *
 * Wrapping: the token's AES key encrypts the 32-byte data key with CKM_AES_GCM (a fresh
 * random 12-byte IV, the caller's aad, a 16-byte tag), which gives the same blob as the
 * file KEK (seal.h): IV || ciphertext || tag. CKM_AES_KEY_WRAP_KWP would need the data
 * key as a token object and binds no aad; the data key is made in our memory anyway, so
 * C_Encrypt/C_Decrypt under the token's key is the wrap.
 *
 * Signing: CKM_ECDSA over a SHA-256 digest computed here; the token answers r || s.
 * The public key is CKA_EC_POINT of the public-key object with the private key's CKA_ID
 * (or, without an id, its label).
 *
 * Sessions: each key keeps one session (logged in once when opened; the PIN is read from
 * its file, used and wiped) and a mutex, so every operation is thread-safe. When the
 * token says the session or the login is gone (CKR_SESSION_HANDLE_INVALID,
 * CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_REMOVED, ...: a restarted or reconnected HSM), an
 * operation opens a new session, logs in again with the PIN file, finds the key again by
 * its label and id, and is tried once more.
 */
#ifndef VT_CRYPTO_PKCS11_H
#define VT_CRYPTO_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "veritee/veritee.h"

#define VT_P11_SCHEME "pkcs11:"
/* caps: a URI of at most 4 KiB, a PIN file of at most 256 bytes */
#define VT_P11_MAX_URI 4096u
#define VT_P11_MAX_PIN 256u

/* A parsed RFC 7512 URI: each member NULL (id: id_len 0) when absent. */
struct vt_p11_uri {
        char *token, *manufacturer, *model, *serial;
        char *object;
        uint8_t *id;
        size_t id_len;
        char *type;
        char *module_path, *module_name;
        char *pin_source; /* a file path ("file:" taken off) */
};

/* vt_p11_is_uri tells whether s starts with "pkcs11:". */
bool vt_p11_is_uri(const char *s);

/* vt_p11_uri_parse parses s (at most VT_P11_MAX_URI bytes) into a new *ret, freed with
 * vt_p11_uri_free. VT_E_FORMAT naming the attribute for a bad percent-encoding, an
 * unknown or repeated attribute, a pin-value, a type other than secret-key or private, or
 * a URI that names no token or no object. Thread-safe. */
int vt_p11_uri_parse(const char *s, struct vt_p11_uri **ret, struct vt_diag *d);
void vt_p11_uri_free(struct vt_p11_uri *u);

struct vt_p11_key;

enum vt_p11_kind {
        VT_P11_AES,     /* a CKK_AES secret key that can encrypt and decrypt */
        VT_P11_EC_P256, /* a CKK_EC private key on P-256 that can sign */
};

/* vt_p11_key_open finds the key uri names (kind says which) in its token and logs in with
 * the PIN from pin_file, or from the URI's pin-source when pin_file is NULL (one of them
 * is needed). what ("kek", "token key") starts every reason. VT_E_IO for a module that
 * does not load or a PIN file that cannot be read (or is accessible by group or others),
 * VT_E_NOTFOUND naming the token or the object when none matches, VT_E_INVAL when more
 * than one object matches or the key is extractable or not sensitive, and for a wrong
 * PIN ("WHAT: login to token \"LABEL\" failed: CKR_PIN_INCORRECT, a wrong PIN ...").
 * *ret is freed with vt_p11_key_free. */
int vt_p11_key_open(const char *uri, const char *pin_file, enum vt_p11_kind kind, const char *what,
                    struct vt_p11_key **ret, struct vt_diag *d);

/* vt_p11_key_free closes the key's session and unloads its module; NULL is fine. */
void vt_p11_key_free(struct vt_p11_key *k);

/* vt_p11_key_token returns the token's label (lives as long as k). */
const char *vt_p11_key_token(const struct vt_p11_key *k);

/* vt_p11_key_fingerprint writes SHA-256(label || token serial || token label || CKA_ID ||
 * CKA_LABEL), each length-prefixed, to out: one key in one token, whatever URI named it.
 * Thread-safe. */
void vt_p11_key_fingerprint(const struct vt_p11_key *k, const char *label, uint8_t out[32]);

/* vt_p11_gcm_encrypt encrypts in[0..len) under the token's AES key with CKM_AES_GCM: a
 * fresh random IV to out[0..12), then the ciphertext and the 16-byte tag (out holds
 * 12 + len + 16 bytes). aad may be NULL if aad_len is 0. VT_E_CRYPTO naming the CKR
 * code. Thread-safe. */
int vt_p11_gcm_encrypt(struct vt_p11_key *k, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                       size_t len, uint8_t *out, struct vt_diag *d);

/* vt_p11_gcm_decrypt reverses vt_p11_gcm_encrypt: blob is IV || ciphertext || tag
 * (blob_len >= 28), out gets blob_len - 28 bytes. VT_E_CRYPTO if it does not
 * authenticate (out is wiped). Thread-safe. */
int vt_p11_gcm_decrypt(struct vt_p11_key *k, const uint8_t *aad, size_t aad_len,
                       const uint8_t *blob, size_t blob_len, uint8_t *out, struct vt_diag *d);

/* vt_p11_ecdsa_sign signs a SHA-256 digest with the token's P-256 key (CKM_ECDSA) and
 * writes r || s (32 bytes each, S as the token made it) to sig. Thread-safe. */
int vt_p11_ecdsa_sign(struct vt_p11_key *k, const uint8_t digest[32], uint8_t sig[64],
                      struct vt_diag *d);

/* vt_p11_ec_public returns in *ret a new EVP_PKEY holding the public key of an EC key
 * (read when the key was opened, from CKA_EC_POINT). Thread-safe. */
int vt_p11_ec_public(const struct vt_p11_key *k, EVP_PKEY **ret);

/* vt_p11_rv_name returns the name of a CKR_ value ("CKR_PIN_INCORRECT"), or "CKR_0x..."
 * in a static buffer for an unknown one. */
const char *vt_p11_rv_name(unsigned long rv);

#endif
