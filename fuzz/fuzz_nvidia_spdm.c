/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an NVIDIA GPU / NVSwitch attestation report (SPDM 1.1 GET_MEASUREMENTS request
 * and MEASUREMENTS response, raw or hex), lib/evidence/nvidia.c. Whatever parses must keep the
 * parser's promises: the signed length is 79 + L1 + L2, the 96-byte signature follows it, at
 * most a single 0x00 after that, blocks with increasing 1-based indices, every opaque field
 * inside the opaque data. Every refusal names its reason.
 */
#include <stdint.h>
#include <stdlib.h>

#include "veritee/nvidia.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_nv_report *r = NULL;
        struct vt_diag d = {0};
        if (vt_nv_report_parse(data, size, &r, &d) < 0) {
                if (!d.msg[0])
                        abort();
                return 0;
        }
        if (r->signed_len != VT_NV_REQUEST_LEN + 42 + (size_t)r->record_len + r->opaque_len ||
            r->len != r->signed_len + VT_NV_SIG_LEN + (r->trailing_zero ? 1 : 0) ||
            (r->trailing_zero && r->bytes[r->len - 1] != 0))
                abort();
        for (unsigned i = 1; i < r->n_blocks; i++)
                if (r->blocks[i].index <= r->blocks[i - 1].index)
                        abort();
        for (unsigned t = 0; t <= VT_NV_OPAQUE_MAX_TYP; t++) {
                const struct vt_nv_field *f = &r->opaque[t];
                if (f->present && (!vt_nv_opaque_name(t) || f->off < r->opaque_off ||
                                   f->off + f->len > r->opaque_off + r->opaque_len))
                        abort();
        }
        char buf[64];
        (void)vt_nv_report_vbios_version(r, buf, sizeof(buf));
        (void)vt_nv_report_string(r, VT_NV_OPQ_DRIVER_VERSION, buf, sizeof(buf));
        vt_nv_report_free(r);
        return 0;
}
