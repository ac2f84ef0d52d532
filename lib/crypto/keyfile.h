/* SPDX-License-Identifier: Apache-2.0 */
/* Reading files that hold secrets (private keys, KEKs). */
#ifndef VT_CRYPTO_KEYFILE_H
#define VT_CRYPTO_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "veritee/veritee.h"

/* vt_read_private_file reads a regular file of 1..max bytes that only its owner may
 * access (mode & 077 == 0, checked on the opened file) into a buffer from
 * OPENSSL_malloc, with one NUL byte after the data; the caller frees it with
 * OPENSSL_clear_free(*ret, *ret_len + 1). follow: whether a symlink is followed.
 * Messages start with what ("admin key", "sim", ...) and the path:
 * VT_E_IO "cannot open"/"cannot read", VT_E_FORMAT "not a regular file of 1..max bytes",
 * VT_E_INVAL "accessible by group or others (mode 0640); chmod 600 it". */
int vt_read_private_file(const char *path, size_t max, bool follow, const char *what, uint8_t **ret,
                         size_t *ret_len, struct vt_diag *d);

/* vt_pem_private_key parses the first PEM private key in pem[0..len) into *ret, never
 * asking for a passphrase (an encrypted key is refused, not prompted for on a
 * terminal). VT_E_FORMAT, with OpenSSL's reason left on its error queue for the
 * caller's message. */
int vt_pem_private_key(const uint8_t *pem, size_t len, EVP_PKEY **ret);

#endif
