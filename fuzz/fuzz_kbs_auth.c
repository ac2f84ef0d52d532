/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the body of POST /kbs/v0/auth. The body parser and field reader the server
 * uses (lib/kbs/request.c), then the checks the server makes on the fields: the protocol
 * version, whether Trustee knows the tee and whether this configuration accepts it.
 */
#include <stdint.h>
#include <string.h>

#include "attest/attest.h"
#include "kbs/rcar.h"
#include "kbs/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_diag d = {0};
        json_t *body = NULL;
        if (vt_kbs_body_parse(data, size, &body, &d) < 0)
                return 0;
        struct vt_kbs_auth a;
        vt_kbs_auth_read(body, &a);
        if (a.version && strcmp(a.version, VT_KBS_PROTOCOL_VERSION) == 0 &&
            vt_attest_tee_known(a.tee)) {
                const struct vt_attest_ctx ctx = {.allow_sample = true};
                const char *hint = NULL;
                (void)vt_attest_tee_accepted(&ctx, a.tee, &hint);
        }
        json_decref(body);
        return 0;
}
