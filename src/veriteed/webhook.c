/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes admission webhook (AdmissionReview v1, docs/kubernetes.md).
 *
 * POST /k8s/mutate: a pod annotated veritee.io/secrets: "repo/type/tag=/path,..." gets an
 * init container that runs `veritee agent fetch` into a memory-backed emptyDir, that
 * volume mounted read-only (one file per secret, by subPath) into every app container at
 * the requested paths, node affinity to the confidential nodes, the runtime class and the
 * tolerations of the configuration. What the pod already has (affinity terms, volumes,
 * init containers, tolerations) is added to, never replaced; the answer is a JSONPatch.
 *
 * POST /k8s/validate: such a pod that could land on a node without the confidential label
 * (or runs under another runtime class) is refused, with the reason.
 *
 * Both routes answer 404 unless kubernetes.webhook is set, and need HTTPS (config.c
 * refuses the option without TLS). A body that is no AdmissionReview gets 400; a review
 * whose pod is malformed gets an AdmissionReview that refuses it, saying why.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "k8s/admission.h"
#include "server.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"

#define ANNOTATION  VT_K8S_ANNOTATION
#define VOLUME      "veritee-secrets"
#define CA_VOLUME   "veritee-ca"
#define INIT_NAME   "veritee-agent"
#define SECRETS_DIR "/veritee/secrets"
#define CA_DIR      "/etc/veritee/ca"

/* why: the reason a pod or a review is refused (the first one found). */
struct why {
        char msg[384];
};

static bool refuse(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool refuse(struct why *w, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
        va_end(ap);
        return false;
}

/* ---- kubernetes.tolerations ---- */

static bool chars_in(const char *p, size_t n, const char *set)
{
        for (size_t i = 0; i < n; i++)
                if (!p[i] || !strchr(set, p[i]))
                        return false;
        return true;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* "KEY[=VALUE][:EFFECT]" as a Toleration (a new object), or NULL. */
static json_t *toleration(const char *t)
{
        const char *colon = strchr(t, ':'), *eq = strchr(t, '=');
        size_t tl = strlen(t);
        const char *kend = eq ? eq : colon ? colon : t + tl;
        const char *vend = colon ? colon : t + tl;
        if (eq && colon && eq > colon)
                return NULL;
        size_t kl = (size_t)(kend - t), vl = eq ? (size_t)(vend - eq - 1) : 0;
        if (kl == 0 || kl > 316 || !chars_in(t, kl, NAME_CHARS "/") || vl > 63 ||
            (eq && !chars_in(eq + 1, vl, NAME_CHARS)))
                return NULL;
        const char *effect = colon ? colon + 1 : NULL;
        if (effect && strcmp(effect, "NoSchedule") != 0 &&
            strcmp(effect, "PreferNoSchedule") != 0 && strcmp(effect, "NoExecute") != 0)
                return NULL;
        json_t *o = json_pack("{s:s%, s:s}", "key", t, kl, "operator", eq ? "Equal" : "Exists");
        if (o && eq && json_object_set_new(o, "value", json_stringn(eq + 1, vl)) < 0)
                json_decref(TAKE_PTR(o));
        if (o && effect && json_object_set_new(o, "effect", json_string(effect)) < 0)
                json_decref(TAKE_PTR(o));
        return o;
}

int vtd_webhook_init(struct vtd *s, struct vt_diag *d)
{
        json_auto_t *a = json_array();
        if (!a)
                return VT_E_NOMEM;
        for (size_t i = 0; i < s->cfg.n_k8s_tolerations; i++) {
                json_t *t = toleration(s->cfg.k8s_tolerations[i]);
                if (!t)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "config: kubernetes.tolerations: \"%s\" is not "
                                           "KEY[=VALUE][:EFFECT] (effect NoSchedule, "
                                           "PreferNoSchedule or NoExecute)",
                                           s->cfg.k8s_tolerations[i]);
                if (json_array_append_new(a, t) < 0)
                        return VT_E_NOMEM;
        }
        s->k8s_tolerations = TAKE_PTR(a);
        return 0;
}

/* ---- the review (lib/k8s/admission.c reads it) ---- */

static bool refused(struct why *w, const struct vt_diag *d)
{
        snprintf(w->msg, sizeof(w->msg), "%.383s", d->msg); /* as the reason was cut before */
        return false;
}

/* The pod of the review and its annotation (an NULL: none) into m, *n; false: refused. */
static bool pod_secrets(struct vt_k8s_review *r, const char **an, struct vt_k8s_mapping *m,
                        size_t *n, struct why *w)
{
        struct vt_diag d = {0};
        if (vt_k8s_review_pod(r, &d) < 0 || vt_k8s_pod_secrets(r->pod, an, m, n, &d) < 0)
                return refused(w, &d);
        return true;
}

/* A list member of o that is there and not null. */
static json_t *list(json_t *o, const char *key)
{
        json_t *l = json_object_get(o, key);
        return json_is_array(l) ? l : NULL;
}

static bool has_named(json_t *l, const char *name)
{
        size_t i;
        json_t *x;
        json_array_foreach (l, i, x) {
                const char *n = json_string_value(json_object_get(x, "name"));
                if (n && strcmp(n, name) == 0)
                        return true;
        }
        return false;
}

/* ---- the answer ---- */

/* Answers an AdmissionReview: allowed, or refused with code and message; patch (JSONPatch
 * operations, may be NULL or empty) goes base64-encoded with patchType JSONPatch. */
static void answer(struct vtd_response *res, struct vtd_request *req, const char *uid, bool allowed,
                   unsigned code, const char *message, const json_t *patch)
{
        json_t *r = json_pack("{s:s, s:b}", "uid", uid, "allowed", allowed);
        _cleanup_free_ char *txt = NULL, *b64 = NULL;
        if (r && !allowed) {
                (void)json_object_set_new(
                        r, "status",
                        json_pack("{s:i, s:s}", "code", (int)code, "message", message));
                snprintf(req->reason, sizeof(req->reason), "%.383s", message);
        }
        if (r && allowed && patch && json_array_size(patch)) {
                if (vt_json_dump(patch, &txt) < 0 ||
                    vt_b64_encode((const uint8_t *)txt, strlen(txt), VT_B64_STD, &b64) < 0) {
                        json_decref(r);
                        r = NULL;
                } else {
                        (void)json_object_set_new(r, "patchType", json_string("JSONPatch"));
                        (void)json_object_set_new(r, "patch", json_string(b64));
                }
        }
        if (!r) {
                vtd_problem(res, req, 500, "InternalError", "out of memory");
                return;
        }
        vtd_json_response(res, 200,
                          json_pack("{s:s, s:s, s:o}", "apiVersion", "admission.k8s.io/v1", "kind",
                                    "AdmissionReview", "response", r));
}

/* ---- mutation ---- */

struct patch {
        json_t *ops;
        bool nomem;
};

/* Adds {"op":"add","path":path,"value":value} (value stolen). */
static void add(struct patch *p, const char *path, json_t *value)
{
        json_t *op = value ? json_pack("{s:s, s:s, s:o}", "op", "add", "path", path, "value", value)
                           : NULL;
        if (!op || json_array_append_new(p->ops, op) < 0)
                p->nomem = true;
}

/* Adds value (stolen) to the list spec.<key>... at path: appended when it exists, else
 * the list [value] is created. */
static void add_to_list(struct patch *p, json_t *l, const char *path, json_t *value)
{
        char at[160];
        if (l) {
                snprintf(at, sizeof(at), "%s/-", path);
                add(p, at, value);
        } else {
                add(p, path, value ? json_pack("[o]", value) : NULL);
        }
}

static json_t *requirement(const struct vtd *s)
{
        json_t *vals = json_array();
        for (size_t i = 0; vals && i < s->cfg.n_k8s_node_label_values; i++)
                if (json_array_append_new(vals, json_string(s->cfg.k8s_node_label_values[i])) < 0)
                        json_decref(TAKE_PTR(vals));
        return vals ? json_pack("{s:s, s:s, s:o}", "key", s->cfg.k8s_node_label_key, "operator",
                                "In", "values", vals)
                    : NULL;
}

/* Node affinity: the requirement in every required term (terms are ORed, the expressions
 * of a term ANDed), or a new term when there is none. */
static void add_affinity(const struct vtd *s, json_t *spec, struct patch *p)
{
        static const char req_path[] =
                "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution";
        json_t *aff = json_object_get(spec, "affinity");
        json_t *na = json_object_get(aff, "nodeAffinity");
        json_t *rq = json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
        json_t *terms = list(rq, "nodeSelectorTerms");
        char at[256];
        if (!json_is_object(aff))
                add(p, "/spec/affinity",
                    json_pack("{s:{s:{s:[{s:[o]}]}}}", "nodeAffinity",
                              "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms",
                              "matchExpressions", requirement(s)));
        else if (!json_is_object(na))
                add(p, "/spec/affinity/nodeAffinity",
                    json_pack("{s:{s:[{s:[o]}]}}", "requiredDuringSchedulingIgnoredDuringExecution",
                              "nodeSelectorTerms", "matchExpressions", requirement(s)));
        else if (!json_is_object(rq))
                add(p, req_path,
                    json_pack("{s:[{s:[o]}]}", "nodeSelectorTerms", "matchExpressions",
                              requirement(s)));
        else if (!terms || !json_array_size(terms)) {
                snprintf(at, sizeof(at), "%s/nodeSelectorTerms", req_path);
                add(p, at, json_pack("[{s:[o]}]", "matchExpressions", requirement(s)));
        } else {
                size_t i;
                json_t *t;
                json_array_foreach (terms, i, t) {
                        snprintf(at, sizeof(at), "%s/nodeSelectorTerms/%zu/matchExpressions",
                                 req_path, i);
                        add_to_list(p, list(t, "matchExpressions"), at, requirement(s));
                }
        }
}

static json_t *init_container(const struct vtd *s, const struct vt_k8s_mapping *m, size_t n)
{
        json_t *cmd = json_pack("[s, s, s, s, s]", "veritee", "agent", "fetch", "--kbs",
                                s->cfg.k8s_server_url);
        json_t *mounts = json_pack("[{s:s, s:s}]", "name", VOLUME, "mountPath", SECRETS_DIR);
        bool ok = cmd && mounts;
        for (size_t i = 0; ok && i < n; i++) {
                char map[sizeof(m->res) + sizeof(SECRETS_DIR) + 32];
                snprintf(map, sizeof(map), "%s=" SECRETS_DIR "/s%zu", m[i].res, i);
                ok = json_array_append_new(cmd, json_string("--map")) == 0 &&
                     json_array_append_new(cmd, json_string(map)) == 0;
        }
        if (ok && s->cfg.k8s_ca_configmap)
                ok = json_array_append_new(cmd, json_string("--cacert")) == 0 &&
                     json_array_append_new(cmd, json_string(CA_DIR "/ca.crt")) == 0 &&
                     json_array_append_new(mounts,
                                           json_pack("{s:s, s:s, s:b}", "name", CA_VOLUME,
                                                     "mountPath", CA_DIR, "readOnly", true)) == 0;
        if (!ok) {
                json_decref(cmd);
                json_decref(mounts);
                return NULL;
        }
        /* no capabilities, no privilege escalation, a read-only root (the agent writes
         * only into the secrets volume); requests and limits for namespaces with quotas */
        return json_pack("{s:s, s:s, s:o, s:o, s:{s:b, s:b, s:{s:[s]}}, s:{s:{s:s, s:s}, "
                         "s:{s:s}}}",
                         "name", INIT_NAME, "image", s->cfg.k8s_agent_image, "command", cmd,
                         "volumeMounts", mounts, "securityContext", "allowPrivilegeEscalation",
                         false, "readOnlyRootFilesystem", true, "capabilities", "drop", "ALL",
                         "resources", "requests", "cpu", "10m", "memory", "32Mi", "limits",
                         "memory", "64Mi");
}

/* The JSONPatch for a pod with n secrets into p->ops; false: the pod is refused. */
static bool mutate(const struct vtd *s, json_t *pod, const struct vt_k8s_mapping *m, size_t n,
                   struct patch *p, struct why *w)
{
        json_t *spec = json_object_get(pod, "spec");
        json_t *inits = list(spec, "initContainers"), *vols = list(spec, "volumes");
        json_t *cs = json_object_get(spec, "containers");
        const char *rc = json_string_value(json_object_get(spec, "runtimeClassName"));
        char at[160];
        size_t i;
        json_t *c;
        if (has_named(vols, VOLUME) || (s->cfg.k8s_ca_configmap && has_named(vols, CA_VOLUME)))
                return refuse(w, "the pod already has a volume named " VOLUME " or " CA_VOLUME);
        if (s->cfg.k8s_runtime_class && rc && strcmp(rc, s->cfg.k8s_runtime_class) != 0)
                return refuse(w,
                              "the pod asks for secrets (" ANNOTATION ") but names runtime class "
                              "%.100s, not %.100s",
                              rc, s->cfg.k8s_runtime_class);
        json_array_foreach (cs, i, c) {
                json_t *vm = list(c, "volumeMounts"), *x;
                size_t j;
                json_array_foreach (vm, j, x) {
                        const char *mp = json_string_value(json_object_get(x, "mountPath"));
                        for (size_t k = 0; mp && k < n; k++)
                                if (strcmp(mp, m[k].path) == 0)
                                        return refuse(w,
                                                      "container %.100s already mounts %s, "
                                                      "where " ANNOTATION " puts a secret",
                                                      json_string_value(json_object_get(c, "name")),
                                                      mp);
                }
        }
        /* the secrets: tmpfs, never on the node's disk */
        add_to_list(p, vols, "/spec/volumes",
                    json_pack("{s:s, s:{s:s, s:s}}", "name", VOLUME, "emptyDir", "medium", "Memory",
                              "sizeLimit", "16Mi"));
        if (s->cfg.k8s_ca_configmap)
                add(p, "/spec/volumes/-",
                    json_pack("{s:s, s:{s:s, s:[{s:s, s:s}]}}", "name", CA_VOLUME, "configMap",
                              "name", s->cfg.k8s_ca_configmap, "items", "key", "ca.crt", "path",
                              "ca.crt"));
        /* first among the init containers: those before it (a mesh's iptables init) could
         * keep it from the network; none of them sees the secrets */
        if (inits)
                add(p, "/spec/initContainers/0", init_container(s, m, n));
        else
                add(p, "/spec/initContainers", json_pack("[o]", init_container(s, m, n)));
        json_array_foreach (cs, i, c) {
                json_t *vm = list(c, "volumeMounts");
                for (size_t k = 0; k < n; k++) {
                        char sub[24];
                        snprintf(sub, sizeof(sub), "s%zu", k);
                        snprintf(at, sizeof(at), "/spec/containers/%zu/volumeMounts", i);
                        json_t *mount =
                                json_pack("{s:s, s:s, s:s, s:b}", "name", VOLUME, "mountPath",
                                          m[k].path, "subPath", sub, "readOnly", true);
                        if (!vm && k == 0) {
                                add(p, at, mount ? json_pack("[o]", mount) : NULL);
                        } else {
                                snprintf(at, sizeof(at), "/spec/containers/%zu/volumeMounts/-", i);
                                add(p, at, mount);
                        }
                }
        }
        add_affinity(s, spec, p);
        if (s->cfg.k8s_runtime_class && !rc)
                add(p, "/spec/runtimeClassName", json_string(s->cfg.k8s_runtime_class));
        json_t *tols = list(spec, "tolerations"), *t;
        bool have = tols != NULL;
        json_array_foreach (s->k8s_tolerations, i, t) {
                bool dup = false;
                size_t j;
                json_t *x;
                json_array_foreach (tols, j, x)
                        dup |= json_equal(x, t);
                if (dup)
                        continue;
                if (have)
                        add(p, "/spec/tolerations/-", json_deep_copy(t));
                else
                        add(p, "/spec/tolerations", json_pack("[o]", json_deep_copy(t)));
                have = true;
        }
        return true;
}

/* ---- validation ---- */

static bool value_allowed(const struct vtd *s, const char *v)
{
        for (size_t i = 0; v && i < s->cfg.n_k8s_node_label_values; i++)
                if (strcmp(v, s->cfg.k8s_node_label_values[i]) == 0)
                        return true;
        return false;
}

/* Does a node selector term require the label, with values among the configured? */
static bool term_requires(const struct vtd *s, json_t *term)
{
        size_t i, j;
        json_t *e, *v;
        json_array_foreach (list(term, "matchExpressions"), i, e) {
                const char *k = json_string_value(json_object_get(e, "key"));
                const char *op = json_string_value(json_object_get(e, "operator"));
                json_t *vals = list(e, "values");
                if (!k || strcmp(k, s->cfg.k8s_node_label_key) != 0 || !op ||
                    strcmp(op, "In") != 0 || !vals || !json_array_size(vals))
                        continue;
                bool all = true;
                json_array_foreach (vals, j, v)
                        all &= value_allowed(s, json_string_value(v));
                if (all)
                        return true;
        }
        return false;
}

static void values_text(const struct vtd *s, char *out, size_t cap)
{
        size_t o = 0;
        out[0] = 0;
        for (size_t i = 0; i < s->cfg.n_k8s_node_label_values && o < cap; i++) {
                int k = snprintf(out + o, cap - o, "%s%s", i ? ", " : "",
                                 s->cfg.k8s_node_label_values[i]);
                if (k < 0)
                        break;
                o += (size_t)k;
        }
}

/* Can the pod land only on confidential nodes (and under the runtime class)? */
static bool placed(const struct vtd *s, json_t *pod, struct why *w)
{
        json_t *spec = json_object_get(pod, "spec");
        const char *key = s->cfg.k8s_node_label_key;
        char vals[160];
        values_text(s, vals, sizeof(vals));
        const char *rc = json_string_value(json_object_get(spec, "runtimeClassName"));
        if (s->cfg.k8s_runtime_class && (!rc || strcmp(rc, s->cfg.k8s_runtime_class) != 0))
                return refuse(w,
                              "the pod asks for secrets (" ANNOTATION ") but runs under runtime "
                              "class %.100s, not %.100s",
                              rc ? rc : "(none)", s->cfg.k8s_runtime_class);
        json_t *ns = json_object_get(spec, "nodeSelector");
        if (value_allowed(s, json_string_value(json_object_get(ns, key))))
                return true;
        json_t *terms = list(
                json_object_get(json_object_get(json_object_get(spec, "affinity"), "nodeAffinity"),
                                "requiredDuringSchedulingIgnoredDuringExecution"),
                "nodeSelectorTerms");
        if (!terms || !json_array_size(terms))
                return refuse(w,
                              "the pod asks for secrets (" ANNOTATION ") but could land on a node "
                              "without the confidential label: neither nodeSelector nor a "
                              "required node affinity asks for %.100s in (%s)",
                              key, vals);
        size_t i;
        json_t *t;
        json_array_foreach (terms, i, t)
                if (!term_requires(s, t))
                        return refuse(w,
                                      "the pod asks for secrets (" ANNOTATION ") but could land "
                                      "on a node without the confidential label: required node "
                                      "affinity term %zu does not require %.100s In (%s)",
                                      i, key, vals);
        return true;
}

/* ---- the routes ---- */

/* The common start: the route is on, HTTPS, the envelope parses. false: answered. */
static bool begin(struct vtd *s, struct vtd_request *req, struct vtd_response *res,
                  struct vt_k8s_review *r)
{
        struct why w = {{0}};
        if (!s->cfg.k8s_webhook) {
                vtd_problem(res, req, 404, "InvalidRequestPath", "Request path is invalid");
                return false;
        }
        if (!s->cfg.tls_certificate) { /* config.c already refuses this; never over plain HTTP */
                vtd_problem(res, req, 403, "HttpsRequired", "the admission webhook is HTTPS only");
                return false;
        }
        struct vt_diag d = {0};
        if (vt_k8s_review_parse(req->body, req->body_len, r, &d) < 0) {
                refused(&w, &d);
                vtd_problem(res, req, 400, "InvalidAdmissionReview", "%s", w.msg);
                return false;
        }
        return true;
}

void vtd_webhook_mutate(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        struct vt_k8s_review r = {0};
        struct why w = {{0}};
        const char *an = NULL;
        struct vt_k8s_mapping m[VT_K8S_MAX_SECRETS];
        size_t n = 0;
        if (!begin(s, req, res, &r))
                goto out;
        if (strcmp(r.operation, "CREATE") != 0) { /* a pod's spec is set once */
                answer(res, req, r.uid, true, 0, NULL, NULL);
                goto out;
        }
        if (!pod_secrets(&r, &an, m, &n, &w)) {
                answer(res, req, r.uid, false, 400, w.msg, NULL);
                goto out;
        }
        /* no secrets, or already mutated (reinvocation): nothing to add */
        if (!an || has_named(list(json_object_get(r.pod, "spec"), "initContainers"), INIT_NAME)) {
                answer(res, req, r.uid, true, 0, NULL, NULL);
                goto out;
        }
        struct patch p = {.ops = json_array()};
        if (!p.ops) {
                vtd_problem(res, req, 500, "InternalError", "out of memory");
                goto out;
        }
        if (!mutate(s, r.pod, m, n, &p, &w))
                answer(res, req, r.uid, false, 403, w.msg, NULL);
        else if (p.nomem)
                vtd_problem(res, req, 500, "InternalError", "out of memory");
        else
                answer(res, req, r.uid, true, 0, NULL, p.ops);
        json_decref(p.ops);
out:
        vt_k8s_review_done(&r);
}

void vtd_webhook_validate(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        struct vt_k8s_review r = {0};
        struct why w = {{0}};
        const char *an = NULL;
        struct vt_k8s_mapping m[VT_K8S_MAX_SECRETS];
        size_t n = 0;
        if (!begin(s, req, res, &r))
                goto out;
        if (strcmp(r.operation, "CREATE") != 0 && strcmp(r.operation, "UPDATE") != 0) {
                answer(res, req, r.uid, true, 0, NULL, NULL);
                goto out;
        }
        if (!pod_secrets(&r, &an, m, &n, &w))
                answer(res, req, r.uid, false, 400, w.msg, NULL);
        else if (an && !placed(s, r.pod, &w))
                answer(res, req, r.uid, false, 403, w.msg, NULL);
        else
                answer(res, req, r.uid, true, 0, NULL, NULL);
out:
        vt_k8s_review_done(&r);
}
