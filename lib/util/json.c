/* SPDX-License-Identifier: Apache-2.0 */
#include "util/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"
#include "util/hex.h"
#include "veritee/veritee.h"

json_t *vt_json_hex(const uint8_t *p, size_t n)
{
        char *s = malloc(2 * n + 1);
        if (!s)
                return NULL;
        vt_hex_encode(p, n, s);
        json_t *j = json_stringn(s, 2 * n);
        free(s);
        return j;
}

int vt_json_set(json_t *obj, const char *key, json_t *value)
{
        if (!value)
                return VT_E_NOMEM;
        return json_object_set_new(obj, key, value) == 0 ? 0 : VT_E_NOMEM;
}

int vt_json_dump(const json_t *obj, char **ret)
{
        char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s)
                return VT_E_NOMEM;
        *ret = s;
        return 0;
}

int vt_json_set_b64(json_t *obj, const char *key, const uint8_t *p, size_t n)
{
        _cleanup_free_ char *s = NULL;
        int e = vt_b64_encode(p, n, VT_B64_URL, &s);

        if (e < 0)
                return e;
        return vt_json_set(obj, key, json_string(s));
}

/* ANY_BELOW(x, b): some byte of x is below b (b at most 0x80), in the high bit of that
 * byte's lane; ANY_EQ(x, b): some byte is b. A lane's borrow reaches the next lane only
 * from a byte that is itself below b, so that whether any lane is set is exact, which is
 * all that is asked. */
#define LANES           0x0101010101010101ULL
#define HIGHS           0x8080808080808080ULL
#define ANY_BELOW(x, b) (((x)-LANES * (b)) & ~(x)&HIGHS)
#define ANY_EQ(x, b)    ANY_BELOW((x) ^ (LANES * (b)), 1)

bool vt_json_plain(const char *s, size_t n, bool ascii)
{
        unsigned char top = ascii ? 0x7e : 0xff;
        size_t i = 0;
        /* eight bytes at a time (tokens of kilobytes go through here); the rest one by one */
        for (; i + 8 <= n; i += 8) {
                uint64_t x;
                memcpy(&x, s + i, 8);
                uint64_t bad = ANY_BELOW(x, 0x20) | ANY_EQ(x, '"') | ANY_EQ(x, '\\');
                if (ascii)
                        bad |= ANY_EQ(x, 0x7f) | (x & HIGHS);
                if (bad)
                        return false;
        }
        for (; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c > top || c == '"' || c == '\\')
                        return false;
        }
        return true;
}

bool vt_json_bytes(const json_t *a, uint8_t *out, size_t n, size_t *ret_at)
{
        for (size_t i = 0; i < n; i++) {
                /* json_integer_value is 0 for what is not an integer (or past the end): only
                 * a 0 needs a look at the type */
                const json_t *x = json_array_get(a, i);
                json_int_t v = json_integer_value(x);
                if (v < 0 || v > 255 || (v == 0 && !json_is_integer(x))) {
                        *ret_at = i;
                        return false;
                }
                out[i] = (uint8_t)v;
        }
        return true;
}
