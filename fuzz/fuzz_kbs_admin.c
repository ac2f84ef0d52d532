/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the admin API's JSON bodies. The reference-value body
 * (POST /kbs/v0/reference-value: lib/kbs/request.c, then the tee's own check and adding it
 * to a set, as the server's reload does) and the resource-policy body (a policy, or a
 * policy, NUL and a secret: split, then the release-policy parser on the policy part).
 */
#include <stdint.h>

#include "attest/attest.h"
#include "kbs/request.h"
#include "policy/release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_diag d = {0};
        json_t *root = NULL, *value = NULL;
        const char *id = NULL, *tee = NULL;
        if (vt_kbs_refval_body_parse(data, size, &root, &id, &tee, &value, &d) == 0) {
                vt_diag_clear(&d);
                if (vt_refvals_check(tee, value, &d) == 0) {
                        struct vt_refvals *set = NULL;
                        if (vt_refvals_new(&set) == 0) {
                                vt_diag_clear(&d);
                                (void)vt_refvals_add(set, id, tee, value, &d);
                                vt_refvals_unref(set);
                        }
                }
                json_decref(root);
        }

        size_t pl = 0, sl = 0;
        const uint8_t *secret = NULL;
        vt_kbs_policy_body_split(data, size, &pl, &secret, &sl);
        struct vt_release_policy *pol = NULL;
        vt_diag_clear(&d);
        if (vt_release_policy_parse((const char *)data, pl, &pol, &d) == 0)
                vt_release_policy_free(pol);
        return 0;
}
