/* SPDX-License-Identifier: Apache-2.0 */
#include "util/hex.h"

#include <stdlib.h>
#include <string.h>

#include "veritee/veritee.h"

void vt_hex_encode(const uint8_t *in, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 0xf];
        }
        out[2 * n] = 0;
}

int vt_hex_digit(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int vt_pct_decode(const char *s, size_t n, bool nul_ok, uint8_t **ret, size_t *ret_len)
{
        uint8_t *out = malloc(n + 1);
        size_t o = 0;
        if (!out)
                return VT_E_NOMEM;
        for (size_t i = 0; i < n; i++) {
                if (s[i] != '%') {
                        out[o++] = (uint8_t)s[i];
                        continue;
                }
                int hi = i + 2 < n ? vt_hex_digit(s[i + 1]) : -1;
                int lo = i + 2 < n ? vt_hex_digit(s[i + 2]) : -1;
                if (hi < 0 || lo < 0 || (!nul_ok && hi == 0 && lo == 0)) {
                        free(out);
                        return VT_E_FORMAT;
                }
                out[o++] = (uint8_t)(hi << 4 | lo);
                i += 2;
        }
        out[o] = 0;
        *ret = out;
        *ret_len = o;
        return 0;
}

int vt_hex_decode(const char *s, uint8_t *out, size_t cap)
{
        size_t n = strlen(s);
        if (n % 2)
                return VT_E_FORMAT;
        if (n / 2 > cap || n / 2 > INT32_MAX)
                return VT_E_INVAL;
        for (size_t i = 0; i < n / 2; i++) {
                int hi = vt_hex_digit(s[2 * i]), lo = vt_hex_digit(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return VT_E_FORMAT;
                out[i] = (uint8_t)(hi << 4 | lo);
        }
        return (int)(n / 2);
}
