/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: untrusted init-data TOML. Parses it; a parse that succeeds must give
 * an object that JCS can canonicalise (valid UTF-8, finite numbers, bounded depth),
 * and a refusal must say why, naming the line (size and memory aside).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/jcs.h"
#include "util/json.h"
#include "util/macro.h"
#include "util/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_json_ json_t *v = NULL;
        _cleanup_free_ char *s = NULL;
        struct vt_diag d = {0};
        size_t n;
        int e = vt_toml_parse((const char *)data, size, &v, &d);

        if (e < 0) {
                if (v)
                        abort(); /* ret set on failure */
                if (e == VT_E_NOMEM || (e == VT_E_LIMIT && size > 256 * 1024))
                        return 0;
                if (d.err != e || strncmp(d.msg, "toml: line ", 11) != 0)
                        abort(); /* a refusal without a reason naming the line */
                return 0;
        }
        if (!json_is_object(v))
                abort();
        e = vt_jcs_serialize(v, &s, &n);
        if (e < 0 && e != VT_E_NOMEM)
                abort();
        return 0;
}
