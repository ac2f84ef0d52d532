/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret release (KBS GET /kbs/v0/resource/<repo>/<type>/<tag>) and the admin API for
 * resources, their release policies and reference values.
 *
 * Release: a token (session cookie or Bearer) verified against our signing key and the
 * configured extra keys; the resource's release policy evaluated on its claims (no
 * policy, no release); the TEE key taken from the token claims in Trustee's JSON-pointer
 * order; the secret unsealed and returned as a flattened JWE. Denials are 401 (so that
 * guests re-attest) and the reason goes to the log only.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/seal.h"
#include "policy/release.h"
#include "server.h"
#include "token/admin.h"
#include "util/json.h"

static const char *const default_teekey_paths[] = {
        "/tdx/attester_runtime_data/tee-pubkey",
        "/tdx/attester_user_data/tee-pubkey",
        "/customized_claims/runtime_data/tee-pubkey",
        "/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey",
        "/tee-pubkey",
};

static const json_t *tee_key_of(const struct vtd *s, const json_t *claims)
{
        for (size_t i = 0; i < s->cfg.n_extra_teekey_paths; i++) {
                const json_t *k = vt_json_pointer(claims, s->cfg.extra_teekey_paths[i]);
                if (k)
                        return k;
        }
        for (size_t i = 0; i < ELEMENTSOF(default_teekey_paths); i++) {
                const json_t *k = vt_json_pointer(claims, default_teekey_paths[i]);
                if (k)
                        return k;
        }
        return NULL;
}

/* repo_of copies the repository of a resource path (its first segment) into out, whole.
 * A name over VT_REPO_NAME_MAX bytes is refused here, before any other check, with 400:
 * cutting it to fit would let a writer of "r" act on every repository named "r...". */
static bool repo_of(struct vtd_request *req, const char *path, char out[VT_REPO_NAME_MAX + 1],
                    struct vtd_response *res)
{
        size_t n = strcspn(path, "/");
        if (n > VT_REPO_NAME_MAX) {
                vtd_problem(res, req, 400, "InvalidRequestPath",
                            "repository name of %zu bytes is too long (at most %d)", n,
                            VT_REPO_NAME_MAX);
                return false;
        }
        memcpy(out, path, n);
        out[n] = 0;
        return true;
}

/* The token of a request: Bearer first (CoCo's data hub uses it), then the session. */
static int request_claims(struct vtd *s, const char *authz, const char *cookie, json_t **ret,
                          struct vt_diag *d)
{
        if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
                return vt_jwt_verify(authz + 7, s->token_jwks, vtd_now(), ret, d);
        if (cookie && strlen(cookie) == 32) {
                _cleanup_free_ char *claims = NULL;
                int e = vt_store_session_get_claims(s->store, cookie, vtd_now(), &claims);
                if (e == VT_E_EXPIRED)
                        return vt_diag_set(d, VT_E_EXPIRED, "session expired");
                if (e < 0)
                        return vt_diag_set(d, VT_E_NOTFOUND,
                                           "the session has no attestation token");
                json_t *j = json_loads(claims, 0, NULL);
                if (!j)
                        return vt_diag_set(d, VT_E_FORMAT, "session claims unreadable");
                json_t *exp = json_object_get(j, "exp");
                if (!json_is_integer(exp) || json_integer_value(exp) < vtd_now()) {
                        json_decref(j);
                        return vt_diag_set(d, VT_E_EXPIRED, "the session's token expired");
                }
                *ret = j;
                return 0;
        }
        return vt_diag_set(d, VT_E_NOTFOUND,
                           "no token: neither Authorization: Bearer nor a session cookie");
}

void vtd_resource_get(struct vtd *s, struct vtd_request *req, const char *path, const char *authz,
                      const char *cookie, struct vtd_response *res)
{
        struct vt_diag d = {0};
        json_auto_t *claims = NULL, *jwe = NULL;
        _cleanup_free_ char *policy = NULL;
        _cleanup_free_ uint8_t *wdek = NULL, *ct = NULL;
        size_t wl = 0, cl = 0;
        char kek_id[32];
        struct vt_release_policy *pol = NULL;
        int e;

        char repo[VT_REPO_NAME_MAX + 1];
        snprintf(req->verdict, sizeof(req->verdict), "denied");
        if (!repo_of(req, path, repo, res))
                return;
        if (!vt_resource_path_valid(path)) {
                vtd_problem(res, req, 404, "InvalidRequestPath", "Request path is invalid");
                return;
        }
        if (!s->kek) {
                vtd_problem(res, req, 404, "PluginNotFound",
                            "no resource storage (secrets.kek_file is not configured)");
                return;
        }
        if ((e = request_claims(s, authz, cookie, &claims, &d)) < 0) {
                vtd_problem(res, req, 401, "TokenVerifierError", "Token Verifier error");
                snprintf(req->reason, sizeof(req->reason), "release %s: %.300s", path, d.msg);
                return;
        }
        e = vt_store_resource_get(s->store, path, kek_id, &wdek, &wl, &ct, &cl);
        if (e < 0) {
                vtd_problem(res, req, 401, "PluginInternalError", "Plugin internal error");
                snprintf(req->reason, sizeof(req->reason), "release %s: %s", path,
                         e == VT_E_NOTFOUND ? "no such resource" : "store unavailable");
                return;
        }
        if (vt_store_policy_get(s->store, path, &policy) < 0) {
                vtd_problem(res, req, 401, "PolicyDeny", "Access denied by policy");
                snprintf(req->reason, sizeof(req->reason),
                         "release %s: no release policy (no policy, no release)", path);
                return;
        }
        if ((e = vt_release_policy_parse(policy, strlen(policy), &pol, &d)) == 0)
                e = vt_release_policy_eval(pol, claims, &d);
        vt_release_policy_free(pol);
        if (e < 0) {
                vtd_problem(res, req, 401, "PolicyDeny", "Access denied by policy");
                snprintf(req->reason, sizeof(req->reason), "release %s denied: %.300s", path,
                         d.msg);
                return;
        }
        const json_t *key = tee_key_of(s, claims);
        if (!key) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: Failed to extract Tee public key from claims");
                snprintf(req->reason, sizeof(req->reason),
                         "release %s: the token has no tee-pubkey", path);
                return;
        }
        uint8_t *secret = NULL;
        size_t sl = 0;
        if ((e = vtd_kek_unseal(s, kek_id, path, wdek, wl, ct, cl, &secret, &sl, &d)) < 0) {
                vtd_problem(res, req, 500, "PluginInternalError", "Plugin internal error");
                snprintf(req->reason, sizeof(req->reason), "release %s: %.300s", path, d.msg);
                return;
        }
        e = vt_jwe_encrypt(key, secret, sl, &jwe, &d);
        OPENSSL_clear_free(secret, sl);
        if (e < 0) {
                vtd_problem(res, req, 401, "JweError", "JWE failed");
                snprintf(req->reason, sizeof(req->reason), "release %s: %.300s", path, d.msg);
                return;
        }
        snprintf(req->verdict, sizeof(req->verdict), "released");
        snprintf(req->reason, sizeof(req->reason), "released %s", path);
        vtd_json_response(res, 200, json_incref(jwe));
}

/* ---- admin ---- */

/* Authenticates and authorizes an admin request; on failure fills res and returns <0. */
static int admin_check(struct vtd *s, struct vtd_request *req, const char *authz,
                       enum vt_admin_op op, const char *repo, struct vtd_response *res)
{
        struct vt_admin_principal p;
        struct vt_diag d = {0};
        if (!s->admin) {
                vtd_problem(res, req, 401, "AdminAuthAccess",
                            "the admin API is disabled (no admin.keys configured)");
                return VT_E_POLICY;
        }
        if (!authz || vt_admin_authenticate(s->admin, authz, vtd_now(), &p, &d) < 0) {
                vtd_problem(res, req, 401, "AdminAuthAccess", "admin access denied: %.300s",
                            authz ? d.msg : "no Authorization: Bearer token");
                return VT_E_POLICY;
        }
        /* authenticated, but this principal may not do this: 403 */
        if (vt_admin_authorize(&p, op, repo, &d) < 0) {
                vtd_problem(res, req, 403, "AdminAuthAccess",
                            "admin access denied for %.100s: %.300s", p.sub, d.msg);
                return VT_E_POLICY;
        }
        return 0;
}

/* store_secret seals secret under the current KEK and writes it, with policy (already
 * validated) in the same transaction when it is not NULL; then answers. */
static void store_secret(struct vtd *s, struct vtd_request *req, const char *path,
                         const uint8_t *secret, size_t len, const char *policy,
                         struct vtd_response *res)
{
        struct vt_diag d = {0};
        if (!s->kek) {
                vtd_problem(res, req, 503, "PluginInternalError",
                            "secrets.kek_file is not configured");
                return;
        }
        int e = vtd_kek_put(s, path, secret, len, policy, &d);
        if (e < 0) {
                if (e == VT_E_STORE || e == VT_E_STALE)
                        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                else
                        vtd_problem(res, req, 500, "PluginInternalError", "cannot seal the secret");
                /* d names paths and KEK ids, never a secret */
                snprintf(req->reason, sizeof(req->reason), "store %s: %.300s", path, d.msg);
                return;
        }
        snprintf(req->reason, sizeof(req->reason), "stored %s (%zu bytes)%s", path, len,
                 policy ? " and its policy" : "");
        json_t *ans = json_pack("{s:s, s:I}", "stored", path, "size", (json_int_t)len);
        if (ans && policy)
                json_object_set_new(ans, "policy", json_string(path));
        vtd_json_response(res, 200, ans);
}

void vtd_admin_resource(struct vtd *s, struct vtd_request *req, const char *method,
                        const char *path, const char *authz, struct vtd_response *res)
{
        char repo[VT_REPO_NAME_MAX + 1];
        int e;
        if (!repo_of(req, path, repo, res))
                return;
        if (!vt_resource_path_valid(path)) {
                vtd_problem(res, req, 404, "InvalidRequestPath", "Request path is invalid");
                return;
        }
        if (admin_check(s, req, authz, VT_ADMIN_WRITE_RESOURCE, repo, res) < 0)
                return;
        if (strcmp(method, "DELETE") == 0) {
                e = vt_store_resource_delete(s->store, path);
                if (e == VT_E_NOTFOUND)
                        vtd_problem(res, req, 404, "ResourceNotFound", "no resource %s", path);
                else if (e < 0)
                        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                else
                        vtd_json_response(res, 200, json_pack("{s:s}", "deleted", path));
                return;
        }
        store_secret(s, req, path, req->body ? req->body : (const uint8_t *)"", req->body_len, NULL,
                     res);
}

void vtd_admin_policy(struct vtd *s, struct vtd_request *req, const char *method, const char *path,
                      const char *authz, struct vtd_response *res)
{
        char repo[VT_REPO_NAME_MAX + 1];
        struct vt_diag d = {0};
        int e;
        if (!repo_of(req, path, repo, res))
                return;
        if (!vt_resource_path_valid(path)) {
                vtd_problem(res, req, 404, "InvalidRequestPath", "Request path is invalid");
                return;
        }
        bool write = strcmp(method, "GET") != 0;
        if (admin_check(s, req, authz, write ? VT_ADMIN_WRITE_RESOURCE : VT_ADMIN_READ, repo, res) <
            0)
                return;
        if (!write) {
                _cleanup_free_ char *p = NULL;
                e = vt_store_policy_get(s->store, path, &p);
                if (e < 0) {
                        vtd_problem(res, req, 404, "PolicyNotFound", "no release policy for %s",
                                    path);
                        return;
                }
                json_t *j = json_loads(p, 0, NULL);
                vtd_json_response(res, 200, j ? j : json_null());
                return;
        }
        /* A policy, or (put with policy) a policy, one NUL byte and the secret: JSON text
         * never holds a NUL byte, so the two cannot be confused (docs/admin.md). The
         * policy is checked before anything changes. */
        const uint8_t *body = req->body ? req->body : (const uint8_t *)"";
        const uint8_t *nul = memchr(body, 0, req->body_len);
        size_t pl = nul ? (size_t)(nul - body) : req->body_len;
        struct vt_release_policy *pol = NULL;
        if ((e = vt_release_policy_parse((const char *)body, pl, &pol, &d)) < 0) {
                vtd_problem(res, req, 400, "ParsePolicyError", "Failed to parse policy: %.300s",
                            d.msg);
                return;
        }
        vt_release_policy_free(pol);
        if (nul) {
                store_secret(s, req, path, nul + 1, req->body_len - pl - 1, (const char *)body,
                             res);
                return;
        }
        e = vt_store_policy_set(s->store, path, (const char *)req->body, vtd_now());
        if (e == VT_E_NOTFOUND)
                vtd_problem(res, req, 404, "ResourceNotFound",
                            "no resource %s: store the secret first", path);
        else if (e < 0)
                vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
        else {
                snprintf(req->reason, sizeof(req->reason), "policy set for %s", path);
                vtd_json_response(res, 200, json_pack("{s:s}", "policy", path));
        }
}

static int list_cb(const struct vt_resource_meta *m, void *ud)
{
        json_t *a = ud;
        return json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:b, s:s}", "path", m->path,
                                                  "size", (json_int_t)m->size, "created",
                                                  (json_int_t)m->created, "updated",
                                                  (json_int_t)m->updated, "has_policy",
                                                  m->has_policy, "kek_id", m->kek_id)) < 0
                       ? VT_E_NOMEM
                       : 0;
}

void vtd_admin_list(struct vtd *s, struct vtd_request *req, const char *repo, const char *authz,
                    struct vtd_response *res)
{
        /* ?repo= is client input like a path: checked before anything else, and a bad one
         * is the client's mistake (400), not the store's */
        if (repo && strnlen(repo, VT_REPO_NAME_MAX + 1) > VT_REPO_NAME_MAX) {
                vtd_problem(res, req, 400, "InvalidRequestPath",
                            "repo of %zu bytes is too long (at most %d)", strlen(repo),
                            VT_REPO_NAME_MAX);
                return;
        }
        if (repo && !vt_resource_repo_valid(repo)) {
                vtd_problem(res, req, 400, "InvalidRequestPath",
                            "repo must be one path segment [A-Za-z0-9_-][A-Za-z0-9_.-]*");
                return;
        }
        if (admin_check(s, req, authz, VT_ADMIN_READ, repo, res) < 0)
                return;
        json_auto_t *a = json_array();
        if (!a || vt_store_resource_list(s->store, repo, list_cb, a) < 0) {
                vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                return;
        }
        vtd_json_response(res, 200, json_pack("{s:O}", "resources", a));
}

static int refval_cb(const char *id, const char *tee, const char *json, void *ud)
{
        json_t *a = ud;
        json_t *v = json_loads(json, 0, NULL);
        return json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "id", id, "tee", tee, "value",
                                                  v ? v : json_null())) < 0
                       ? VT_E_NOMEM
                       : 0;
}

void vtd_admin_refval(struct vtd *s, struct vtd_request *req, const char *method, const char *id,
                      const char *authz, struct vtd_response *res)
{
        struct vt_diag d = {0};
        int e;
        if (strcmp(method, "GET") == 0) {
                if (admin_check(s, req, authz, VT_ADMIN_READ, NULL, res) < 0)
                        return;
                json_auto_t *a = json_array();
                if (!a || vt_store_refval_list(s->store, NULL, refval_cb, a) < 0) {
                        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                        return;
                }
                vtd_json_response(res, 200, json_pack("{s:O}", "reference_values", a));
                return;
        }
        if (admin_check(s, req, authz, VT_ADMIN_WRITE_GLOBAL, NULL, res) < 0)
                return;
        if (strcmp(method, "DELETE") == 0) {
                e = id && *id ? vt_store_refval_delete(s->store, id) : VT_E_NOTFOUND;
                if (e == VT_E_NOTFOUND || e == VT_E_INVAL)
                        vtd_problem(res, req, 404, "ReferenceValueNotFound",
                                    "no reference value %.64s", id ? id : "");
                else if (e < 0)
                        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                else
                        vtd_json_response(res, 200, json_pack("{s:s}", "deleted", id));
                return;
        }
        json_auto_t *body = json_loadb((const char *)(req->body ? req->body : (uint8_t *)""),
                                       req->body_len, JSON_REJECT_DUPLICATES, NULL);
        const char *rid = json_string_value(json_object_get(body, "id"));
        const char *tee = json_string_value(json_object_get(body, "tee"));
        json_t *value = json_object_get(body, "value");
        if (!rid || !tee || !json_is_object(value) || json_object_size(body) != 3) {
                vtd_problem(res, req, 400, "SerdeError",
                            "reference value must be {\"id\",\"tee\",\"value\":{...}}");
                return;
        }
        if (!vtd_refval_tee_known(tee)) {
                vtd_problem(res, req, 400, "SerdeError",
                            "unknown tee \"%.16s\" (snp, sim, tdx, sgx, az-snp-vtpm, az-tdx-vtpm)",
                            tee);
                return;
        }
        _cleanup_free_ char *txt = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
        /* the same parser the appraisal will use: SNP for snp/sim/az-snp-vtpm, DCAP otherwise */
        bool dcap = strcmp(tee, "tdx") == 0 || strcmp(tee, "sgx") == 0 ||
                    strcmp(tee, "az-tdx-vtpm") == 0;
        struct vt_snp_policy *p = NULL;
        struct vt_dcap_policy *dp = NULL;
        if (!txt || (dcap ? vt_dcap_policy_parse(txt, strlen(txt), &dp, &d)
                          : vt_snp_policy_parse(txt, strlen(txt), &p, &d)) < 0) {
                vtd_problem(res, req, 400, "SerdeError", "reference value: %.300s", d.msg);
                return;
        }
        vt_snp_policy_free(p);
        vt_dcap_policy_free(dp);
        e = vt_store_refval_add(s->store, rid, tee, txt, vtd_now());
        if (e == VT_E_INVAL)
                vtd_problem(res, req, 400, "SerdeError",
                            "reference value id must be [A-Za-z0-9_.-]{1,64}");
        else if (e < 0)
                vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
        else {
                snprintf(req->reason, sizeof(req->reason), "reference value %.64s set for %s", rid,
                         tee);
                vtd_json_response(res, 200, json_pack("{s:s}", "id", rid));
        }
}
