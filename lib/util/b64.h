/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648): standard alphabet with padding, and base64url without padding. */
#ifndef VT_UTIL_B64_H
#define VT_UTIL_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vt_b64 {
        VT_B64_STD, /* "+/" with "=" padding (encode pads; decode requires correct padding) */
        VT_B64_URL, /* "-_" without padding (encode never pads; decode refuses "=") */
};

/* vt_b64_encode returns a malloc'd NUL-terminated encoding of n bytes in *ret. Its time
 * depends on n only: fit for key material. */
int vt_b64_encode(const uint8_t *in, size_t n, enum vt_b64 mode, char **ret);

/* vt_b64_encode_public is vt_b64_encode through a table indexed by the data, several times
 * faster, for what is public anyway (a JWS's header, payload and signature; a JWE's
 * protected header): its timing follows the bytes. Never for a secret. */
int vt_b64_encode_public(const uint8_t *in, size_t n, enum vt_b64 mode, char **ret);

/* vt_b64_decode decodes len characters of s (no whitespace allowed) into a malloc'd
 * buffer (*ret, *ret_len; one extra NUL byte after the data). Non-canonical input
 * (wrong alphabet, bad padding, non-zero trailing bits) is VT_E_FORMAT; more than max
 * output bytes is VT_E_LIMIT. */
int vt_b64_decode(const char *s, size_t len, enum vt_b64 mode, size_t max, uint8_t **ret,
                  size_t *ret_len);

#endif
