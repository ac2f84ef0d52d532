/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: JSON text -> jansson -> RFC 8785 canonical form. A canonical form must
 * read back as JSON and canonicalise to the same bytes again (idempotence), which
 * checks key order, string escaping and the shortest round-trip number form. The text
 * streamed by vt_jcs_write, piece by piece, must be the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/jcs.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* compares the streamed pieces with the expected text as they come */
struct against {
        const char *want;
        size_t len, at;
};

static int against_sink(void *arg, const void *p, size_t n)
{
        struct against *a = arg;
        if (n == 0 || n > a->len - a->at || memcmp(a->want + a->at, p, n) != 0)
                abort();
        a->at += n;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
        _cleanup_json_ json_t *v = json_loadb((const char *)data, size, flags, NULL);
        _cleanup_json_ json_t *back = NULL;
        _cleanup_free_ char *s = NULL, *t = NULL;
        json_error_t err;
        size_t n, m;
        int e;

        if (!v)
                return 0;
        e = vt_jcs_serialize(v, &s, &n);
        if (e == VT_E_NOMEM || e == VT_E_LIMIT) /* LIMIT: deeper than 512 */
                return 0;
        if (e < 0 || strlen(s) != n)
                abort(); /* jansson only holds what JCS can represent */
        struct against a = {s, n, 0};
        if (vt_jcs_write(v, against_sink, &a) != 0 || a.at != n)
                abort();
        back = json_loadb(s, n, flags, &err);
        if (!back) {
                /* a real of 2^63 or more prints as a plain integer jansson cannot hold */
                if (strstr(err.text, "too big"))
                        return 0;
                abort();
        }
        e = vt_jcs_serialize(back, &t, &m);
        if (e < 0 || m != n || memcmp(s, t, n) != 0)
                abort();
        return 0;
}
