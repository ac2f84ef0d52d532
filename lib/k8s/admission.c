/* SPDX-License-Identifier: Apache-2.0 */
#include "k8s/admission.h"

#include <string.h>

#include "store/store.h"
#include "util/macro.h"

#define ANNOTATION VT_K8S_ANNOTATION
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

static bool chars_in(const char *p, size_t n, const char *set)
{
        for (size_t i = 0; i < n; i++)
                if (!p[i] || !strchr(set, p[i]))
                        return false;
        return true;
}

/* An absolute path of [A-Za-z0-9._-] segments, no "." or ".." segment, no empty one. */
static bool mount_path_ok(const char *p, size_t n)
{
        if (n < 2 || n > VT_K8S_MAX_MOUNT_PATH || p[0] != '/' || p[n - 1] == '/')
                return false;
        for (size_t i = 1; i < n;) {
                size_t sl = 0;
                while (i + sl < n && p[i + sl] != '/')
                        sl++;
                if (sl == 0 || !chars_in(p + i, sl, NAME_CHARS) || (sl == 1 && p[i] == '.') ||
                    (sl == 2 && p[i] == '.' && p[i + 1] == '.'))
                        return false;
                i += sl + 1;
        }
        return true;
}

/* Parses "repo/type/tag=/path, ..." into m (at most VT_K8S_MAX_SECRETS), *n entries. */
static int parse_annotation(const char *v, struct vt_k8s_mapping *m, size_t *n, struct vt_diag *d)
{
        size_t vl = strlen(v);
        *n = 0;
        if (vl > VT_K8S_MAX_ANNOTATION)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "annotation " ANNOTATION " is longer than %u bytes",
                                   VT_K8S_MAX_ANNOTATION);
        for (const char *p = v; p < v + vl;) {
                const char *end = strchr(p, ',');
                if (!end)
                        end = v + vl;
                const char *a = p, *b = end;
                while (a < b && (*a == ' ' || *a == '\t'))
                        a++;
                while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
                        b--;
                const char *eq = memchr(a, '=', (size_t)(b - a));
                int il = (int)(b - a);
                if (*n == VT_K8S_MAX_SECRETS)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "annotation " ANNOTATION ": more than %u secrets",
                                           VT_K8S_MAX_SECRETS);
                struct vt_k8s_mapping *x = &m[*n];
                if (!eq || (size_t)(eq - a) >= sizeof(x->res))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "annotation " ANNOTATION ": \"%.*s\" is not "
                                           "REPO/TYPE/TAG=/PATH",
                                           il > 200 ? 200 : il, a);
                memcpy(x->res, a, (size_t)(eq - a));
                x->res[eq - a] = 0;
                if (!vt_resource_path_valid(x->res))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "annotation " ANNOTATION ": \"%s\" is not a resource "
                                           "path REPO/TYPE/TAG",
                                           x->res);
                size_t pl = (size_t)(b - eq - 1);
                if (!mount_path_ok(eq + 1, pl))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "annotation " ANNOTATION ": \"%.*s\" is not an "
                                           "absolute path of [A-Za-z0-9._-] segments (no \".\" "
                                           "or \"..\", at most %u bytes)",
                                           (int)(pl > 200 ? 200 : pl), eq + 1,
                                           VT_K8S_MAX_MOUNT_PATH);
                memcpy(x->path, eq + 1, pl);
                x->path[pl] = 0;
                for (size_t i = 0; i < *n; i++)
                        if (strcmp(m[i].path, x->path) == 0)
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "annotation " ANNOTATION ": path %s given twice",
                                                   x->path);
                (*n)++;
                p = end + 1;
        }
        if (*n == 0)
                return vt_diag_set(d, VT_E_FORMAT, "annotation " ANNOTATION " names no secret");
        return 0;
}

int vt_k8s_review_parse(const uint8_t *body, size_t len, struct vt_k8s_review *r, struct vt_diag *d)
{
        json_error_t err;
        *r = (struct vt_k8s_review){0};
        if (!body || !len)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "no body: an AdmissionReview (admission.k8s.io/v1) is expected");
        r->root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
        if (!r->root)
                return vt_diag_set(d, VT_E_FORMAT, "the body is not JSON: %.200s (line %d)",
                                   err.text, err.line);
        const char *av = json_string_value(json_object_get(r->root, "apiVersion"));
        const char *kind = json_string_value(json_object_get(r->root, "kind"));
        if (!av || strcmp(av, "admission.k8s.io/v1") != 0 || !kind ||
            strcmp(kind, "AdmissionReview") != 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "apiVersion must be admission.k8s.io/v1 and kind "
                                   "AdmissionReview");
        json_t *rq = json_object_get(r->root, "request");
        if (!json_is_object(rq))
                return vt_diag_set(d, VT_E_FORMAT, "AdmissionReview: request must be an object");
        r->uid = json_string_value(json_object_get(rq, "uid"));
        if (!r->uid || !*r->uid || strlen(r->uid) > VT_K8S_MAX_UID)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "AdmissionReview: request.uid must be a string of 1 to %u "
                                   "bytes",
                                   VT_K8S_MAX_UID);
        r->operation = json_string_value(json_object_get(rq, "operation"));
        if (!r->operation)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "AdmissionReview: request.operation must be a string");
        return 0;
}

int vt_k8s_review_pod(struct vt_k8s_review *r, struct vt_diag *d)
{
        json_t *rq = json_object_get(r->root, "request");
        json_t *k = json_object_get(rq, "kind");
        const char *kind = json_string_value(json_object_get(k, "kind"));
        const char *group = json_string_value(json_object_get(k, "group"));
        if (!kind || strcmp(kind, "Pod") != 0 || (group && *group))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "request.kind is %s%s%s, the webhook handles core/v1 Pod only",
                                   group && *group ? group : "", group && *group ? "/" : "",
                                   kind ? kind : "missing");
        r->pod = json_object_get(rq, "object");
        json_t *spec = json_object_get(r->pod, "spec");
        json_t *meta = json_object_get(r->pod, "metadata");
        json_t *cs = json_object_get(spec, "containers");
        if (!json_is_object(r->pod) || !json_is_object(spec))
                return vt_diag_set(d, VT_E_FORMAT, "request.object must be a pod with a spec");
        if (meta && !json_is_object(meta))
                return vt_diag_set(d, VT_E_FORMAT, "request.object.metadata must be an object");
        if (!json_is_array(cs) || !json_array_size(cs) || json_array_size(cs) > VT_K8S_MAX_ITEMS)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "spec.containers must be a list of 1 to %u containers",
                                   VT_K8S_MAX_ITEMS);
        static const char *const lists[] = {"initContainers", "volumes", "tolerations"};
        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                json_t *l = json_object_get(spec, lists[i]);
                if (l && !json_is_null(l) &&
                    (!json_is_array(l) || json_array_size(l) > VT_K8S_MAX_ITEMS))
                        return vt_diag_set(d, VT_E_FORMAT, "spec.%s must be a list of at most %u",
                                           lists[i], VT_K8S_MAX_ITEMS);
        }
        size_t i;
        json_t *c;
        json_array_foreach (cs, i, c) {
                json_t *vm = json_object_get(c, "volumeMounts");
                if (!json_is_object(c) || !json_is_string(json_object_get(c, "name")))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "spec.containers[%zu] must be an object with a name", i);
                if (vm && !json_is_null(vm) &&
                    (!json_is_array(vm) || json_array_size(vm) > VT_K8S_MAX_ITEMS))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "spec.containers[%zu].volumeMounts must be a list of "
                                           "at most %u",
                                           i, VT_K8S_MAX_ITEMS);
        }
        return 0;
}

int vt_k8s_pod_secrets(const json_t *pod, const char **ret_annotation,
                       struct vt_k8s_mapping m[VT_K8S_MAX_SECRETS], size_t *ret_n,
                       struct vt_diag *d)
{
        json_t *an = json_object_get(json_object_get(pod, "metadata"), "annotations");
        json_t *v = json_object_get(an, ANNOTATION);
        *ret_annotation = NULL;
        *ret_n = 0;
        if (an && !json_is_null(an) && !json_is_object(an))
                return vt_diag_set(d, VT_E_FORMAT, "metadata.annotations must be an object");
        if (v && !json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "annotation " ANNOTATION " must be a string");
        *ret_annotation = json_string_value(v);
        if (!*ret_annotation)
                return 0;
        return parse_annotation(*ret_annotation, m, ret_n, d);
}

void vt_k8s_review_done(struct vt_k8s_review *r)
{
        if (!r)
                return;
        json_decref(r->root);
        *r = (struct vt_k8s_review){0};
}
