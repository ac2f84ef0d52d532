/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the value of the SGX extension (1.2.840.113741.1.13.1) of a PCK
 * certificate, the DER that vt_pck_ext_parse walks with the reader's DER getters.
 * Parses it with vt_pck_ext_parse_der and checks the ranges it promises.
 */
#include <stdint.h>
#include <stdlib.h>

#include "verify/dcap_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_pck_ext e;
        struct vt_diag d = {0};
        if (vt_pck_ext_parse_der(data, size, &e, &d) < 0)
                return 0;
        if (e.sgx_type < -1 || e.sgx_type > 2)
                abort();
        return 0;
}
