/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VT_UTIL_HEX_H
#define VT_UTIL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* vt_hex_encode writes 2*n lowercase hex digits and a NUL into out (2*n+1 bytes). */
void vt_hex_encode(const uint8_t *in, size_t n, char *out);
/* vt_hex_decode decodes exactly strlen(s)/2 bytes of s into out (capacity cap);
 * returns the byte count, or VT_E_FORMAT for odd length / non-hex, VT_E_INVAL if too long. */
int vt_hex_decode(const char *s, uint8_t *out, size_t cap);
/* vt_hex_digit returns the value of the hex digit c (either case), or -1 when c is none. */
int vt_hex_digit(int c);
/* vt_pct_decode decodes the percent-encoding (RFC 3986 %XX, either case) of s[0..n) into a
 * new buffer, NUL-terminated, its length without the NUL in *ret_len (never more than n).
 * VT_E_FORMAT for a '%' not followed by two hex digits, or for %00 unless nul_ok (a decoded
 * NUL would cut a C string short); VT_E_NOMEM. */
int vt_pct_decode(const char *s, size_t n, bool nul_ok, uint8_t **ret, size_t *ret_len);

#endif
