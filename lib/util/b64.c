/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Base64 (RFC 4648 sections 4 and 5), strict in both directions.
 *
 * Key material (JWK "d", sealed secrets) passes through here, so characters are
 * mapped to and from their 6-bit values with masks rather than with a table indexed
 * by secret data (BoringSSL's base64.c does the same). Only the length and whether
 * the input is valid leak through timing.
 */
#include "util/b64.h"

#include <stdlib.h>
#include <string.h>

#include "veritee/veritee.h"

/* ct_lt returns 0xff if a < b, else 0 (both below 256). */
static uint8_t ct_lt(uint8_t a, uint8_t b)
{
        return (uint8_t)(((unsigned)a - (unsigned)b) >> 8);
}

/* ct_in returns 0xff if lo <= c <= hi, else 0. */
static uint8_t ct_in(uint8_t c, uint8_t lo, uint8_t hi)
{
        return (uint8_t)(~ct_lt(c, lo) & ~ct_lt(hi, c));
}

static uint8_t ct_eq(uint8_t a, uint8_t b)
{
        return (uint8_t)(ct_in(a, b, b));
}

static char enc_char(uint8_t v, enum vt_b64 mode)
{
        uint8_t c62 = mode == VT_B64_URL ? '-' : '+', c63 = mode == VT_B64_URL ? '_' : '/';
        uint8_t c = (uint8_t)((ct_lt(v, 26) & (uint8_t)('A' + v)) |
                              (ct_in(v, 26, 51) & (uint8_t)('a' + v - 26)) |
                              (ct_in(v, 52, 61) & (uint8_t)('0' + v - 52)) | (ct_eq(v, 62) & c62) |
                              (ct_eq(v, 63) & c63));
        return (char)c;
}

/* dec_char returns the 6-bit value of c, or 0xff if c is not in the alphabet of mode. */
static uint8_t dec_char(uint8_t c, enum vt_b64 mode)
{
        uint8_t c62 = mode == VT_B64_URL ? '-' : '+', c63 = mode == VT_B64_URL ? '_' : '/';
        uint8_t up = ct_in(c, 'A', 'Z'), lo = ct_in(c, 'a', 'z'), dg = ct_in(c, '0', '9');
        uint8_t s62 = ct_eq(c, c62), s63 = ct_eq(c, c63);
        uint8_t ok = up | lo | dg | s62 | s63;
        uint8_t v = (uint8_t)((up & (uint8_t)(c - 'A')) | (lo & (uint8_t)(c - 'a' + 26)) |
                              (dg & (uint8_t)(c - '0' + 52)) | (s62 & 62) | (s63 & 63));
        return (uint8_t)(v | (uint8_t)~ok);
}

static const char tab_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char tab_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* enc maps a 6-bit value: through tab when there is one (public data), else in constant
 * time */
static inline char enc(uint8_t v, enum vt_b64 mode, const char *tab)
{
        return tab ? tab[v] : enc_char(v, mode);
}

static int encode(const uint8_t *in, size_t n, enum vt_b64 mode, const char *tab, char **ret)
{
        if ((mode != VT_B64_STD && mode != VT_B64_URL) || (!in && n > 0) || !ret)
                return VT_E_INVAL;
        /* 4 characters per started group of 3 bytes, plus the NUL */
        if (n / 3 >= (SIZE_MAX - 8) / 4)
                return VT_E_LIMIT;
        size_t full = n / 3, rem = n % 3;
        size_t cap = 4 * full + 4 + 1;
        char *out = malloc(cap), *o = out;
        if (!out)
                return VT_E_NOMEM;

        for (size_t i = 0; i < full; i++, in += 3) {
                uint32_t w = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
                *o++ = enc((uint8_t)(w >> 18), mode, tab);
                *o++ = enc((uint8_t)(w >> 12 & 0x3f), mode, tab);
                *o++ = enc((uint8_t)(w >> 6 & 0x3f), mode, tab);
                *o++ = enc((uint8_t)(w & 0x3f), mode, tab);
        }
        if (rem > 0) {
                uint32_t w = (uint32_t)in[0] << 16 | (rem == 2 ? (uint32_t)in[1] << 8 : 0);
                *o++ = enc((uint8_t)(w >> 18), mode, tab);
                *o++ = enc((uint8_t)(w >> 12 & 0x3f), mode, tab);
                if (rem == 2)
                        *o++ = enc((uint8_t)(w >> 6 & 0x3f), mode, tab);
                if (mode == VT_B64_STD) {
                        *o++ = '=';
                        if (rem == 1)
                                *o++ = '=';
                }
        }
        *o = 0;
        *ret = out;
        return 0;
}

int vt_b64_encode(const uint8_t *in, size_t n, enum vt_b64 mode, char **ret)
{
        return encode(in, n, mode, NULL, ret);
}

int vt_b64_encode_public(const uint8_t *in, size_t n, enum vt_b64 mode, char **ret)
{
        return encode(in, n, mode, mode == VT_B64_URL ? tab_url : tab_std, ret);
}

int vt_b64_decode(const char *s, size_t len, enum vt_b64 mode, size_t max, uint8_t **ret,
                  size_t *ret_len)
{
        const uint8_t *u = (const uint8_t *)s;
        size_t pad = 0;

        if ((mode != VT_B64_STD && mode != VT_B64_URL) || (!s && len > 0) || !ret || !ret_len)
                return VT_E_INVAL;
        if (mode == VT_B64_STD) {
                /* exactly 0, 1 or 2 '=' at the very end of a whole number of groups */
                if (len % 4 != 0)
                        return VT_E_FORMAT;
                if (len > 0 && u[len - 1] == '=')
                        pad = len > 1 && u[len - 2] == '=' ? 2 : 1;
        }
        size_t data = len - pad; /* characters that carry bits */
        if (data % 4 == 1)
                return VT_E_FORMAT; /* 6 bits cannot end a byte */
        size_t n = data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1);
        if (n > max)
                return VT_E_LIMIT;

        uint8_t *out = malloc(n + 1);
        if (!out)
                return VT_E_NOMEM;
        uint8_t bad = 0, *o = out;
        size_t i = 0;
        for (; i + 4 <= data; i += 4) {
                uint8_t a = dec_char(u[i], mode), b = dec_char(u[i + 1], mode),
                        c = dec_char(u[i + 2], mode), e = dec_char(u[i + 3], mode);
                bad |= (a | b | c | e) & 0x80;
                uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | e;
                *o++ = (uint8_t)(w >> 16);
                *o++ = (uint8_t)(w >> 8);
                *o++ = (uint8_t)w;
        }
        if (i < data) {
                /* 2 or 3 characters left: 1 or 2 bytes, and the unused low bits must be zero
                 * so that every byte string has exactly one encoding (RFC 4648 3.5) */
                uint8_t a = dec_char(u[i], mode), b = dec_char(u[i + 1], mode);
                uint8_t c = data - i == 3 ? dec_char(u[i + 2], mode) : 0;
                bad |= (a | b | c) & 0x80;
                uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
                *o++ = (uint8_t)(w >> 16);
                if (data - i == 3) {
                        *o++ = (uint8_t)(w >> 8);
                        bad |= (uint8_t)(w & 0xff);
                } else {
                        bad |= (uint8_t)(w >> 8 & 0xff);
                }
        }
        out[n] = 0;
        /* any '=' left in the data part (including a third one) is not in the alphabet */
        if (bad) {
                free(out);
                return VT_E_FORMAT;
        }
        *ret = out;
        *ret_len = n;
        return 0;
}
