/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes AdmissionReview (admission.k8s.io/v1) a cluster sends veriteed's
 * admission webhook (docs/kubernetes.md): the envelope, the pod in it and its
 * veritee.io/secrets annotation ("repo/type/tag=/path, ..."). Untrusted input, read here;
 * what the webhook answers (the JSONPatch, the placement check) stays in src/veriteed.
 */
#ifndef VT_K8S_ADMISSION_H
#define VT_K8S_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/veritee.h"

#define VT_K8S_ANNOTATION     "veritee.io/secrets"
#define VT_K8S_MAX_ANNOTATION 8192u
#define VT_K8S_MAX_SECRETS    32u
#define VT_K8S_MAX_MOUNT_PATH 255u
#define VT_K8S_MAX_UID        256u
#define VT_K8S_MAX_ITEMS      256u /* containers, volumes, mounts, terms, tolerations */

/* One entry of the annotation: a resource and the file an app container sees it at. */
struct vt_k8s_mapping {
        char res[256];
        char path[VT_K8S_MAX_MOUNT_PATH + 1];
};

struct vt_k8s_review {
        json_t *root;          /* owned: vt_k8s_review_done */
        const char *uid;       /* request.uid */
        const char *operation; /* request.operation */
        json_t *pod;           /* request.object, set by vt_k8s_review_pod */
};

/* vt_k8s_review_parse reads the envelope: an AdmissionReview v1 with a request object,
 * its uid (1 to VT_K8S_MAX_UID bytes) and operation. VT_E_FORMAT: d says why (the server
 * answers 400). r->root is owned by r on success and on failure alike. */
int vt_k8s_review_parse(const uint8_t *body, size_t len, struct vt_k8s_review *r,
                        struct vt_diag *d);

/* vt_k8s_review_pod finds the pod: request.kind is core/v1 Pod, request.object a pod with
 * a spec and 1 to VT_K8S_MAX_ITEMS containers, each an object with a name, and bounded
 * lists. VT_E_FORMAT: the pod is refused. */
int vt_k8s_review_pod(struct vt_k8s_review *r, struct vt_diag *d);

/* vt_k8s_pod_secrets reads the pod's annotation: *ret_annotation NULL (and *ret_n 0) when it
 * is absent, else its entries into m (at most VT_K8S_MAX_SECRETS, resource paths, absolute
 * mount paths of [A-Za-z0-9._-] segments, none twice). VT_E_FORMAT: the pod is refused. */
int vt_k8s_pod_secrets(const json_t *pod, const char **ret_annotation,
                       struct vt_k8s_mapping m[VT_K8S_MAX_SECRETS], size_t *ret_n,
                       struct vt_diag *d);

void vt_k8s_review_done(struct vt_k8s_review *r);

#endif
