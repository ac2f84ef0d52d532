/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the opaque data of an NVIDIA report (repeated {type u16, size u16, data}),
 * vt_nv_opaque_parse. What parses covers the input exactly with known, distinct types; the
 * fields do not overlap. Every refusal names its reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "veritee/nvidia.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_nv_field f[VT_NV_OPAQUE_MAX_TYP + 1];
        struct vt_diag d = {0};
        const size_t base = 1000;
        if (vt_nv_opaque_parse(data, size, base, f, &d) < 0) {
                if (!d.msg[0])
                        abort();
                return 0;
        }
        size_t covered = 0;
        for (unsigned t = 0; t <= VT_NV_OPAQUE_MAX_TYP; t++) {
                if (!f[t].present)
                        continue;
                if (!vt_nv_opaque_name(t) || f[t].off < base + 4 ||
                    f[t].off + f[t].len > base + size)
                        abort();
                /* the header before the data says this type and size */
                const uint8_t *h = data + (f[t].off - base - 4);
                if ((unsigned)(h[0] | h[1] << 8) != t || (unsigned)(h[2] | h[3] << 8) != f[t].len)
                        abort();
                covered += 4u + f[t].len;
        }
        if (covered != size)
                abort();
        return 0;
}
