/* SPDX-License-Identifier: Apache-2.0 */
#include "util/json.h"

#include <stdlib.h>

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

bool vt_json_plain(const char *s, size_t n, bool ascii)
{
        unsigned char top = ascii ? 0x7e : 0xff;
        for (size_t i = 0; i < n; i++) {
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
