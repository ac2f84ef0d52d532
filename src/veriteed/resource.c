/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret release (KBS GET /kbs/v0/resource/<repo>/<type>/<tag>); the admin API that
 * stores resources and policies is admin.c.
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
#include "policy/release.h"
#include "server.h"
#include "token/jose.h"
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

/* A name over VT_REPO_NAME_MAX bytes is refused here, before any other check, with 400:
 * cutting it to fit would let a writer of "r" act on every repository named "r...". */
bool vtd_repo_of(struct vtd_request *req, const char *path, char out[VT_REPO_NAME_MAX + 1],
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

/* The token of a request: Bearer first (CoCo's data hub uses it), then the session; for a
 * token we signed (exactly its text), also the claims' digest recorded at its issue, in
 * digest (*have_digest), which the release's ledger entry gives. */
static int request_claims(struct vtd *s, const char *authz, const char *cookie, json_t **ret,
                          uint8_t digest[static 32], bool *have_digest, struct vt_diag *d)
{
        *have_digest = false;
        if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
                /* exactly the text of a token we signed: its claims as signed, times checked
                 * as vt_jwt_verify does; any other text is verified in full */
                json_t *mine = vt_issued_get(s->issued, authz + 7, digest);
                if (!mine)
                        return vt_jwt_verify(authz + 7, s->token_jwks, vtd_now(), ret, d);
                int e = vt_jose_check_times(mine, vtd_now(), "token", d);
                if (e < 0) {
                        json_decref(mine);
                        return e;
                }
                *ret = mine;
                *have_digest = true;
                return 0;
        }
        if (cookie && strlen(cookie) == 32) {
                _cleanup_free_ char *claims = NULL;
                int e = vt_store_session_get_claims(s->store, cookie, vtd_now(), &claims, NULL);
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

/* The ledger's view of a release decision: the resource, who (the token's jti and the
 * digest of its claims, which the attestation entry also gives: claims_digest when the
 * token's issue recorded it, else computed), under which policy. */
static json_t *release_entry(const char *path, const json_t *claims, const uint8_t *claims_digest,
                             const char *policy)
{
        char cd[VTD_SHA256_TAG], pd[VTD_SHA256_TAG];
        const char *jti = json_string_value(json_object_get(claims, "jti"));
        if (claims_digest)
                vtd_sha256_tag_of(claims_digest, cd);
        else if (vtd_json_digest(claims, cd) < 0)
                return NULL;
        if (policy)
                vtd_sha256_tag(policy, strlen(policy), pd);
        return json_pack("{s:s, s:o, s:s, s:o}", "resource", path, "token_id",
                         jti ? json_string(jti) : json_null(), "claims_digest", cd, "policy_digest",
                         policy ? json_string(pd) : json_null());
}

/* deny answers a denial to a holder of a verified token and records it in the ledger
 * (denials before a token verifies are anonymous and only logged and counted: recording
 * them would let anyone grow the ledger without bound). */
static void deny(struct vtd *s, struct vtd_request *req, const char *path, const json_t *claims,
                 const uint8_t *claims_digest, const char *policy, unsigned status,
                 const char *variant, const char *detail, struct vtd_response *res)
{
        char why[sizeof(req->reason)];
        memcpy(why, req->reason, sizeof(why));
        vtd_problem(res, req, status, variant, "%s", detail);
        memcpy(req->reason, why, sizeof(why)); /* the log gets the reason, the client not */
        json_t *e = release_entry(path, claims, claims_digest, policy);
        if (e)
                json_object_set_new(e, "reason", json_string(req->reason));
        (void)vtd_ledger_record(s, req, "deny", e);
}

void vtd_resource_get(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        const char *path = req->rest;
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
        if (!vtd_repo_of(req, path, repo, res))
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
        uint8_t cdg[32];
        bool have_cdg = false;
        if ((e = request_claims(s, req->authz, req->cookie, &claims, cdg, &have_cdg, &d)) < 0) {
                vtd_count_release(s, VTD_DENY_TOKEN);
                vtd_problem(res, req, 401, "TokenVerifierError", "Token Verifier error");
                snprintf(req->reason, sizeof(req->reason), "release %s: %.300s", path, d.msg);
                return;
        }
        const uint8_t *cd = have_cdg ? cdg : NULL; /* NULL: the ledger entry computes it */
        vt_diag_clear(&d);
        /* the key and its policy from one snapshot: a policy replaced in between pairs
         * with neither */
        e = vt_store_release_get(s->store, path, kek_id, &wdek, &wl, &ct, &cl, &policy, &d);
        if (e < 0 && e != VT_E_NOTFOUND) {
                /* not a decision: the store is down (a replica's database restarting) */
                vtd_count_release(s, VTD_RELEASE_ERROR);
                vtd_problem(res, req, 503, "StoreError", "the store is unavailable; retry");
                snprintf(req->reason, sizeof(req->reason), "release %s: store unavailable: %.300s",
                         path, d.msg);
                return;
        }
        if (e < 0) {
                snprintf(req->reason, sizeof(req->reason), "release %s: no such resource", path);
                /* Trustee's status and type, which guests expect; the detail says what is
                 * wrong: whether a name exists is no secret to a TEE whose token verified */
                char detail[1024];
                snprintf(detail, sizeof(detail),
                         "no resource %s is stored (the attestation was accepted; the operator "
                         "stores it with: veritee secret put %s FILE)",
                         path, path);
                vtd_count_release(s, VTD_DENY_NOT_FOUND);
                deny(s, req, path, claims, cd, NULL, 401, "PluginInternalError", detail, res);
                return;
        }
        if (!policy) {
                snprintf(req->reason, sizeof(req->reason),
                         "release %s: no release policy (no policy, no release)", path);
                vtd_count_release(s, VTD_DENY_NO_POLICY);
                deny(s, req, path, claims, cd, NULL, 401, "PolicyDeny", "Access denied by policy",
                     res);
                return;
        }
        if ((e = vt_release_policy_parse(policy, strlen(policy), &pol, &d)) == 0)
                e = vt_release_policy_eval(pol, claims, &d);
        vt_release_policy_free(pol);
        if (e < 0) {
                snprintf(req->reason, sizeof(req->reason), "release %s denied: %.300s", path,
                         d.msg);
                vtd_count_release(s, VTD_DENY_POLICY);
                deny(s, req, path, claims, cd, policy, 401, "PolicyDeny", "Access denied by policy",
                     res);
                return;
        }
        const json_t *key = tee_key_of(s, claims);
        if (!key) {
                snprintf(req->reason, sizeof(req->reason),
                         "release %s: the token has no tee-pubkey", path);
                vtd_count_release(s, VTD_DENY_TEE_KEY);
                deny(s, req, path, claims, cd, policy, 401, "AttestationError",
                     "Attestation error: Failed to extract Tee public key from claims", res);
                return;
        }
        uint8_t *secret = NULL;
        size_t sl = 0;
        if ((e = vtd_kek_unseal(s, kek_id, path, wdek, wl, ct, cl, &secret, &sl, &d)) < 0) {
                vtd_count_release(s, VTD_RELEASE_ERROR);
                vtd_problem(res, req, 500, "PluginInternalError", "Plugin internal error");
                snprintf(req->reason, sizeof(req->reason), "release %s: %.300s", path, d.msg);
                return;
        }
        e = vt_jwe_encrypt(key, secret, sl, &jwe, &d);
        OPENSSL_clear_free(secret, sl);
        if (e < 0) {
                vtd_count_release(s, VTD_DENY_TEE_KEY);
                vtd_problem(res, req, 401, "JweError", "JWE failed");
                snprintf(req->reason, sizeof(req->reason), "release %s: %.300s", path, d.msg);
                return;
        }
        /* the release is in the ledger, durably, before the secret leaves */
        if (vtd_ledger_record(s, req, "release", release_entry(path, claims, cd, policy)) < 0) {
                vtd_count_release(s, VTD_RELEASE_ERROR);
                vtd_problem(res, req, 503, "LedgerError",
                            "the release could not be recorded; retry");
                res->retry_after = 1;
                snprintf(req->reason, sizeof(req->reason),
                         "release %s withheld: the ledger entry could not be made durable", path);
                return;
        }
        snprintf(req->verdict, sizeof(req->verdict), "released");
        snprintf(req->reason, sizeof(req->reason), "released %s", path);
        vtd_count_release(s, VTD_RELEASED);
        vtd_json_response(res, 200, json_incref(jwe));
}
