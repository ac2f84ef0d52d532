/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the AdmissionReview a cluster sends the admission webhook
 * (POST /k8s/mutate and /k8s/validate): the envelope, the pod and its veritee.io/secrets
 * annotation, through lib/k8s/admission.c as the server reads them.
 */
#include <stdint.h>
#include <string.h>

#include "k8s/admission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_diag d = {0};
        struct vt_k8s_review r;
        struct vt_k8s_mapping m[VT_K8S_MAX_SECRETS];
        const char *an = NULL;
        size_t n = 0;
        if (vt_k8s_review_parse(data, size, &r, &d) == 0 && vt_k8s_review_pod(&r, &d) == 0 &&
            vt_k8s_pod_secrets(r.pod, &an, m, &n, &d) == 0) {
                /* what the server then relies on */
                if (n > VT_K8S_MAX_SECRETS || (an == NULL) != (n == 0))
                        __builtin_trap();
                for (size_t i = 0; i < n; i++)
                        if (m[i].path[0] != '/' || strlen(m[i].path) > VT_K8S_MAX_MOUNT_PATH)
                                __builtin_trap();
        }
        vt_k8s_review_done(&r);
        return 0;
}
