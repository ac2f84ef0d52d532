/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin API: resources (PUT/POST/DELETE /kbs/v0/resource/<path>), their release
 * policies (/kbs/v0/resource-policy/<path>), the list (/kbs/v0/resources) and reference
 * values (/kbs/v0/reference-value). Every request carries an admin token
 * (lib/token/admin.c) whose role allows the operation on the repository.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "policy/release.h"
#include "attest/attest.h"
#include "kbs/request.h"
#include "server.h"
#include "store/keyring.h"
#include "token/admin.h"
#include "util/b64.h"
#include "util/json.h"

int vtd_admin_check(struct vtd *s, struct vtd_request *req, int op, const char *repo,
                    struct vt_admin_principal *ret_p, struct vtd_response *res)
{
        const char *authz = req->authz;
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
        if (vt_admin_authorize(&p, (enum vt_admin_op)op, repo, &d) < 0) {
                vtd_problem(res, req, 403, "AdminAuthAccess",
                            "admin access denied for %.100s: %.300s",
                            p.sub[0] ? p.sub : "a token without sub", d.msg);
                return VT_E_POLICY;
        }
        /* every admin request's log line names who made it */
        snprintf(req->sub, sizeof(req->sub), "%.63s", p.sub[0] ? p.sub : "(no sub)");
        if (ret_p)
                *ret_p = p;
        return 0;
}

/* The digests an admin entry in the ledger gives of what changed (never the values): of
 * a resource's sealed ciphertext, of a policy's text, of a reference value's JSON. NULL
 * for none. */
static bool resource_digest(struct vtd *s, const char *path, char out[VTD_SHA256_TAG])
{
        _cleanup_free_ uint8_t *wdek = NULL, *ct = NULL;
        size_t wl = 0, cl = 0;
        char kek_id[32];
        if (vt_store_resource_get(s->store, path, kek_id, &wdek, &wl, &ct, &cl, NULL) < 0)
                return false;
        vtd_sha256_tag(ct, cl, out);
        return true;
}

static bool policy_digest(struct vtd *s, const char *path, char out[VTD_SHA256_TAG])
{
        _cleanup_free_ char *p = NULL;
        if (vt_store_policy_get(s->store, path, &p, NULL) < 0)
                return false;
        vtd_sha256_tag(p, strlen(p), out);
        return true;
}

struct refval_find {
        const char *id;
        char *out;
        bool found;
};

static int refval_find_cb(const char *id, const char *tee, const char *json, void *ud)
{
        struct refval_find *f = ud;
        (void)tee;
        if (strcmp(id, f->id) == 0) {
                vtd_sha256_tag(json, strlen(json), f->out);
                f->found = true;
        }
        return 0;
}

static bool refval_digest(struct vtd *s, const char *id, char out[VTD_SHA256_TAG])
{
        struct refval_find f = {.id = id, .out = out};
        return vt_store_refval_list(s->store, NULL, refval_find_cb, &f, NULL) == 0 && f.found;
}

/* admin_record puts an admin change into the ledger: who (the token's sub, else its
 * role), what, on what, and digests before and after. Returns false, having answered
 * 503, when the entry could not be made durable: the change is in the store but not
 * attributed, and the caller must not report success. */
static bool admin_record(struct vtd *s, struct vtd_request *req, const struct vt_admin_principal *p,
                         const char *op, const char *target, const char *before, const char *after,
                         struct vtd_response *res)
{
        json_t *e =
                json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "who", p->sub[0] ? p->sub : "(no sub)",
                          "role", vt_admin_role_name(p->role), "op", op, "target", target, "before",
                          before ? json_string(before) : json_null(), "after",
                          after ? json_string(after) : json_null());
        if (vtd_ledger_record(s, req, "admin", e) == 0)
                return true;
        vtd_problem(res, req, 503, "LedgerError",
                    "the change was made but could not be recorded in the ledger; retry");
        res->retry_after = 1;
        return false;
}

/* store_secret seals secret under the current KEK and writes it, with policy (already
 * validated) in the same transaction when it is not NULL; then answers. */
static void store_secret(struct vtd *s, struct vtd_request *req, const struct vt_admin_principal *p,
                         const char *path, const uint8_t *secret, size_t len, const char *policy,
                         struct vtd_response *res)
{
        struct vt_diag d = {0};
        char before[VTD_SHA256_TAG], after[VTD_SHA256_TAG];
        bool had = resource_digest(s, path, before);
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
        bool has = resource_digest(s, path, after);
        if (!admin_record(s, req, p, policy ? "resource.put+policy" : "resource.put", path,
                          had ? before : NULL, has ? after : NULL, res))
                return;
        snprintf(req->reason, sizeof(req->reason), "stored %s (%zu bytes)%s", path, len,
                 policy ? " and its policy" : "");
        /* a put without a policy keeps the one the resource had, if any */
        char pd[VTD_SHA256_TAG];
        bool has_policy = policy || policy_digest(s, path, pd);
        json_t *ans = json_pack("{s:s, s:I, s:b}", "stored", path, "size", (json_int_t)len,
                                "has_policy", has_policy);
        if (ans && policy)
                json_object_set_new(ans, "policy", json_string(path));
        vtd_json_response(res, 200, ans);
}

/* store_error answers a failed store call with 503; the store's reason (busy, disk
 * full, I/O error) goes to the log only. */
static void store_error(struct vtd_request *req, struct vtd_response *res, const struct vt_diag *d)
{
        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
        snprintf(req->reason, sizeof(req->reason), "the store is unavailable: %.300s", d->msg);
}

/* resource_target checks the path of a resource or policy request and its admin token;
 * on failure it fills res and returns false. */
static bool resource_target(struct vtd *s, struct vtd_request *req, enum vt_admin_op op,
                            struct vt_admin_principal *p, struct vtd_response *res)
{
        char repo[VT_REPO_NAME_MAX + 1];
        if (!vtd_repo_of(req, req->rest, repo, res))
                return false;
        if (!vt_resource_path_valid(req->rest)) {
                vtd_problem(res, req, 404, "InvalidRequestPath", "Request path is invalid");
                return false;
        }
        return vtd_admin_check(s, req, op, repo, p, res) == 0;
}

void vtd_admin_resource_delete(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        const char *path = req->rest;
        struct vt_admin_principal p;
        if (!resource_target(s, req, VT_ADMIN_WRITE_RESOURCE, &p, res))
                return;
        struct vt_diag d = {0};
        char before[VTD_SHA256_TAG];
        bool had = resource_digest(s, path, before);
        int e = vt_store_resource_delete(s->store, path, &d);
        if (e == VT_E_NOTFOUND)
                vtd_problem(res, req, 404, "ResourceNotFound", "no resource %s", path);
        else if (e < 0)
                store_error(req, res, &d);
        else if (admin_record(s, req, &p, "resource.delete", path, had ? before : NULL, NULL, res))
                vtd_json_member_response(res, 200, "deleted", path);
}

void vtd_admin_resource_put(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        struct vt_admin_principal p;
        if (!resource_target(s, req, VT_ADMIN_WRITE_RESOURCE, &p, res))
                return;
        store_secret(s, req, &p, req->rest, req->body ? req->body : (const uint8_t *)"",
                     req->body_len, NULL, res);
}

/*
 * Bulk import: POST /kbs/v0/resources/batch with
 *   {"items": [{"path": "R/T/G", "value": "<base64>", "policy": {...}?}, ...]}
 * (1..VT_STORE_BATCH_MAX items). Every item is checked first (path, the writer's
 * repositories, base64, policy): any fault is a 400 naming the item, and nothing is
 * stored. Then all are sealed under the current KEK and stored in ONE transaction. The
 * ledger gets admin entries of op "resource.import" listing each path with the digest of
 * its sealed value and of its policy, as many items per entry as fit in BATCH_ENTRY_MAX
 * bytes (an entry is capped at VT_STORE_MAX_ENTRY), numbered "part" of "parts".
 */
#define BATCH_ENTRY_MAX (40u * 1024u)

struct batch_in {
        struct vt_keyring_item *items;
        char **policies; /* compact JSON text, or NULL */
        uint8_t **values;
        size_t n;
};

static void batch_in_free(struct batch_in *b)
{
        if (b->items)
                vt_keyring_items_clear(b->items, b->n);
        for (size_t i = 0; i < b->n; i++) {
                if (b->values)
                        OPENSSL_clear_free(b->values[i], b->items ? b->items[i].len : 0);
                if (b->policies)
                        free(b->policies[i]);
        }
        free(b->items);
        free(b->values);
        free(b->policies);
}

/* batch_item reads item i of the body into b; on a fault it writes the reason. */
static bool batch_item(const json_t *it, size_t i, const struct vt_admin_principal *p,
                       struct batch_in *b, char *why, size_t wn)
{
        const char *path = json_string_value(json_object_get(it, "path"));
        const char *val = json_string_value(json_object_get(it, "value"));
        const json_t *pol = json_object_get(it, "policy");
        struct vt_diag d = {0};
        if (!json_is_object(it) || !path || !val) {
                snprintf(why, wn, "items[%zu]: an object with string \"path\" and \"value\"", i);
                return false;
        }
        if (!vt_resource_path_valid(path)) {
                snprintf(why, wn, "items[%zu]: path is not REPO/TYPE/TAG", i);
                return false;
        }
        char repo[VT_REPO_NAME_MAX + 1];
        size_t rl = strcspn(path, "/");
        memcpy(repo, path, rl);
        repo[rl] = 0;
        if (vt_admin_authorize(p, VT_ADMIN_WRITE_RESOURCE, repo, &d) < 0) {
                snprintf(why, wn, "items[%zu] (%s): %.200s", i, path, d.msg);
                return false;
        }
        size_t vl = 0;
        if (vt_b64_decode(val, strlen(val), VT_B64_STD, VT_STORE_MAX_CT, &b->values[i], &vl) < 0) {
                snprintf(why, wn, "items[%zu] (%s): value is not base64", i, path);
                return false;
        }
        b->items[i] = (struct vt_keyring_item){.path = path, .secret = b->values[i], .len = vl};
        if (pol && !json_is_null(pol)) {
                struct vt_release_policy *rp = NULL;
                b->policies[i] = json_dumps(pol, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (!b->policies[i] || !json_is_object(pol) ||
                    vt_release_policy_parse(b->policies[i], strlen(b->policies[i]), &rp, &d) < 0) {
                        snprintf(why, wn, "items[%zu] (%s): policy: %.200s", i, path,
                                 d.msg[0] ? d.msg : "not a JSON object");
                        return false;
                }
                vt_release_policy_free(rp);
                b->items[i].policy = b->policies[i];
        }
        return true;
}

/* batch_record writes the ledger entries of a stored batch; false after answering 503. */
static bool batch_record(struct vtd *s, struct vtd_request *req, const struct vt_admin_principal *p,
                         const struct batch_in *b, struct vtd_response *res)
{
        /* the parts first, so that each entry can say how many there are */
        size_t parts = 0, start = 0;
        while (start < b->n) {
                size_t sz = 0, i = start;
                while (i < b->n &&
                       (i == start || sz + strlen(b->items[i].path) + 200 <= BATCH_ENTRY_MAX))
                        sz += strlen(b->items[i++].path) + 200;
                parts++;
                start = i;
        }
        start = 0;
        for (size_t part = 1; part <= parts; part++) {
                json_t *list = json_array();
                size_t sz = 0, i = start;
                for (; list && i < b->n &&
                       (i == start || sz + strlen(b->items[i].path) + 200 <= BATCH_ENTRY_MAX);
                     i++) {
                        const struct vt_keyring_item *it = &b->items[i];
                        char cd[VTD_SHA256_TAG], pd[VTD_SHA256_TAG];
                        sz += strlen(it->path) + 200;
                        vtd_sha256_tag(it->ct, it->ct_len, cd);
                        if (it->policy)
                                vtd_sha256_tag(it->policy, strlen(it->policy), pd);
                        if (json_array_append_new(list, json_pack("[s, s, o]", it->path, cd,
                                                                  it->policy ? json_string(pd)
                                                                             : json_null())) < 0) {
                                json_decref(list);
                                list = NULL;
                        }
                }
                json_t *e =
                        list ? json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o}", "who",
                                         p->sub[0] ? p->sub : "(no sub)", "role",
                                         vt_admin_role_name(p->role), "op", "resource.import",
                                         "count", (json_int_t)(i - start), "part", (json_int_t)part,
                                         "parts", (json_int_t)parts, "items", list)
                             : NULL;
                if (vtd_ledger_record(s, req, "admin", e) < 0) {
                        vtd_problem(res, req, 503, "LedgerError",
                                    "the secrets were stored but could not be recorded in the "
                                    "ledger; retry");
                        res->retry_after = 1;
                        return false;
                }
                start = i;
        }
        return true;
}

void vtd_admin_resource_batch(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        struct vt_admin_principal p;
        /* who first (401), then what each item may do (403 naming it) */
        if (vtd_admin_check(s, req, VT_ADMIN_READ, NULL, &p, res) < 0)
                return;
        if (!s->kek) {
                vtd_problem(res, req, 503, "PluginInternalError",
                            "secrets.kek_file is not configured");
                return;
        }
        json_auto_t *body = json_loadb((const char *)(req->body ? req->body : (const uint8_t *)""),
                                       req->body_len, JSON_REJECT_DUPLICATES, NULL);
        const json_t *items = json_object_get(body, "items");
        size_t n = json_array_size(items);
        if (!json_is_array(items) || n == 0 || n > VT_STORE_BATCH_MAX) {
                vtd_problem(res, req, 400, "InvalidRequest",
                            "the body must be {\"items\": [...]} with 1..%d items",
                            VT_STORE_BATCH_MAX);
                return;
        }
        struct batch_in b = {.n = n};
        b.items = calloc(n, sizeof(*b.items));
        b.values = calloc(n, sizeof(*b.values));
        b.policies = calloc(n, sizeof(*b.policies));
        char why[512];
        if (!b.items || !b.values || !b.policies) {
                batch_in_free(&b);
                vtd_problem(res, req, 500, "InternalError", "out of memory");
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (!batch_item(json_array_get(items, i), i, &p, &b, why, sizeof(why))) {
                        batch_in_free(&b);
                        vtd_problem(res, req, strstr(why, "may not") ? 403 : 400,
                                    strstr(why, "may not") ? "AdminAuthAccess" : "InvalidRequest",
                                    "%s (nothing was stored)", why);
                        return;
                }
        }
        struct vt_diag d = {0};
        size_t bad = 0;
        int e = vtd_kek_put_batch(s, b.items, n, &bad, &d);
        if (e < 0) {
                batch_in_free(&b);
                if (e == VT_E_INVAL || e == VT_E_LIMIT)
                        vtd_problem(res, req, 400, "InvalidRequest",
                                    "items[%zu]: refused by the store (nothing was stored)", bad);
                else if (e == VT_E_STORE || e == VT_E_STALE)
                        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                else
                        vtd_problem(res, req, 500, "PluginInternalError",
                                    "cannot seal the secrets");
                snprintf(req->reason, sizeof(req->reason), "batch of %zu: %.300s", n, d.msg);
                return;
        }
        size_t with_policy = 0;
        for (size_t i = 0; i < n; i++)
                with_policy += b.items[i].policy != NULL;
        bool ok = batch_record(s, req, &p, &b, res);
        batch_in_free(&b);
        if (!ok)
                return;
        snprintf(req->reason, sizeof(req->reason), "stored a batch of %zu secrets (%zu policies)",
                 n, with_policy);
        vtd_json_response(res, 200,
                          json_pack("{s:I, s:I}", "stored", (json_int_t)n, "policies",
                                    (json_int_t)with_policy));
}

void vtd_admin_policy_get(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        _cleanup_free_ char *p = NULL;
        if (!resource_target(s, req, VT_ADMIN_READ, NULL, res))
                return;
        if (vt_store_policy_get(s->store, req->rest, &p, NULL) < 0) {
                vtd_problem(res, req, 404, "PolicyNotFound", "no release policy for %s", req->rest);
                return;
        }
        json_t *j = json_loads(p, 0, NULL);
        vtd_json_response(res, 200, j ? j : json_null());
}

void vtd_admin_policy_put(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        const char *path = req->rest;
        struct vt_diag d = {0};
        int e;
        struct vt_admin_principal p;
        if (!resource_target(s, req, VT_ADMIN_WRITE_RESOURCE, &p, res))
                return;
        /* A policy, or (put with policy) a policy, one NUL byte and the secret: JSON text
         * never holds a NUL byte, so the two cannot be confused (docs/admin.md). The
         * policy is checked before anything changes. */
        const uint8_t *body = req->body ? req->body : (const uint8_t *)"";
        const uint8_t *secret = NULL;
        size_t pl = 0, sl = 0;
        vt_kbs_policy_body_split(body, req->body_len, &pl, &secret, &sl);
        struct vt_release_policy *pol = NULL;
        if ((e = vt_release_policy_parse((const char *)body, pl, &pol, &d)) < 0) {
                vtd_problem(res, req, 400, "ParsePolicyError", "Failed to parse policy: %.300s",
                            d.msg);
                return;
        }
        vt_release_policy_free(pol);
        if (secret) {
                store_secret(s, req, &p, path, secret, sl, (const char *)body, res);
                return;
        }
        vt_diag_clear(&d);
        char before[VTD_SHA256_TAG], after[VTD_SHA256_TAG];
        bool had = policy_digest(s, path, before);
        e = vt_store_policy_set(s->store, path, (const char *)req->body, vtd_now(), &d);
        if (e == VT_E_NOTFOUND)
                vtd_problem(res, req, 404, "ResourceNotFound",
                            "no resource %s: store the secret first", path);
        else if (e < 0)
                store_error(req, res, &d);
        else if (vtd_sha256_tag(req->body, req->body_len, after),
                 admin_record(s, req, &p, "policy.set", path, had ? before : NULL, after, res)) {
                snprintf(req->reason, sizeof(req->reason), "policy set for %s", path);
                vtd_json_member_response(res, 200, "policy", path);
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

void vtd_admin_list(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        const char *repo = req->query_repo;
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
        /* a page at a time: ?limit= (1..VT_STORE_PAGE_MAX, default 1000) and ?cursor=, the
         * opaque "next" of the previous page (base64url of the last path it held) */
        size_t limit = 1000;
        const char *lq = vtd_query(req, "limit"), *cq = vtd_query(req, "cursor");
        if (lq) {
                unsigned long long v = 0;
                size_t i = 0;
                for (; lq[i] >= '0' && lq[i] <= '9' && i < 6; i++)
                        v = v * 10 + (unsigned)(lq[i] - '0');
                if (i == 0 || lq[i] || v < 1 || v > VT_STORE_PAGE_MAX) {
                        vtd_problem(res, req, 400, "InvalidRequest", "limit must be 1..%d",
                                    VT_STORE_PAGE_MAX);
                        return;
                }
                limit = (size_t)v;
        }
        _cleanup_free_ uint8_t *after = NULL;
        size_t al = 0;
        if (cq && (vt_b64_decode(cq, strlen(cq), VT_B64_URL, 255, &after, &al) < 0 ||
                   memchr(after, 0, al) || !vt_resource_path_valid((char *)after))) {
                vtd_problem(res, req, 400, "InvalidRequest",
                            "cursor is not one this server gave (the \"next\" of a page)");
                return;
        }
        if (vtd_admin_check(s, req, VT_ADMIN_READ, repo, NULL, res) < 0)
                return;
        json_auto_t *a = json_array();
        struct vt_diag d = {0};
        if (!a ||
            vt_store_resource_page(s->store, repo, (char *)after, limit, list_cb, a, &d) < 0) {
                store_error(req, res, &d);
                return;
        }
        json_t *ans = json_pack("{s:O}", "resources", a);
        size_t n = json_array_size(a);
        if (ans && n == limit) { /* perhaps more: where the next page starts */
                const char *last =
                        json_string_value(json_object_get(json_array_get(a, n - 1), "path"));
                _cleanup_free_ char *next = NULL;
                if (last &&
                    vt_b64_encode((const uint8_t *)last, strlen(last), VT_B64_URL, &next) == 0)
                        json_object_set_new(ans, "next", json_string(next));
        }
        vtd_json_response(res, 200, ans);
}

static int refval_cb(const char *id, const char *tee, const char *json, void *ud)
{
        json_t *a = ud;
        json_t *v = json_loads(json, 0, NULL);
        return json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s}", "id", id, "tee", tee,
                                                  "value", v ? v : json_null(), "source",
                                                  "admin API")) < 0
                       ? VT_E_NOMEM
                       : 0;
}

void vtd_admin_refval_list(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (vtd_admin_check(s, req, VT_ADMIN_READ, NULL, NULL, res) < 0)
                return;
        json_auto_t *a = json_array();
        struct vt_diag d = {0};
        /* both sources the server appraises against, each entry marked with its own */
        if (a && vtd_refvals_file_list(s->cfg.reference_values, a, &d) < 0) {
                vtd_problem(res, req, 500, "ReferenceValueError",
                            "the configured reference-value file cannot be read");
                snprintf(req->reason, sizeof(req->reason), "%.300s", d.msg);
                return;
        }
        if (!a || vt_store_refval_list(s->store, NULL, refval_cb, a, &d) < 0) {
                store_error(req, res, &d);
                return;
        }
        vtd_json_response(res, 200, json_pack("{s:O}", "reference_values", a));
}

void vtd_admin_refval_delete(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        const char *id = req->rest;
        struct vt_admin_principal p;
        if (vtd_admin_check(s, req, VT_ADMIN_WRITE_GLOBAL, NULL, &p, res) < 0)
                return;
        struct vt_diag d = {0};
        char before[VTD_SHA256_TAG];
        bool had = id && *id && refval_digest(s, id, before);
        int e = id && *id ? vt_store_refval_delete(s->store, id, &d) : VT_E_NOTFOUND;
        if (e == VT_E_NOTFOUND || e == VT_E_INVAL)
                vtd_problem(res, req, 404, "ReferenceValueNotFound", "no reference value %.64s",
                            id ? id : "");
        else if (e < 0)
                store_error(req, res, &d);
        else if (admin_record(s, req, &p, "refval.delete", id, had ? before : NULL, NULL, res))
                vtd_json_member_response(res, 200, "deleted", id);
}

void vtd_admin_refval_add(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        struct vt_diag d = {0};
        int e;
        struct vt_admin_principal p;
        if (vtd_admin_check(s, req, VT_ADMIN_WRITE_GLOBAL, NULL, &p, res) < 0)
                return;
        json_auto_t *body = NULL;
        const char *rid = NULL, *tee = NULL;
        json_t *value = NULL;
        if (vt_kbs_refval_body_parse(req->body, req->body_len, &body, &rid, &tee, &value, &d) < 0) {
                vtd_problem(res, req, 400, "SerdeError", "%s", d.msg);
                return;
        }
        /* the library's check by the tee's row: the parser its appraisal will use */
        if (vt_refvals_check(tee, value, &d) < 0) {
                vtd_problem(res, req, 400, "SerdeError", "%s%.300s",
                            vt_refvals_tee_known(tee) ? "reference value: " : "", d.msg);
                return;
        }
        _cleanup_free_ char *txt = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!txt) {
                vtd_problem(res, req, 500, "InternalError", "out of memory");
                return;
        }
        vt_diag_clear(&d);
        char before[VTD_SHA256_TAG], after[VTD_SHA256_TAG];
        bool had = vt_refval_id_valid(rid) && refval_digest(s, rid, before);
        e = vt_store_refval_add(s->store, rid, tee, txt, vtd_now(), &d);
        if (e == VT_E_INVAL)
                vtd_problem(res, req, 400, "SerdeError",
                            "reference value id must be [A-Za-z0-9_.-]{1,64}");
        else if (e < 0)
                store_error(req, res, &d);
        else if (vtd_sha256_tag(txt, strlen(txt), after),
                 admin_record(s, req, &p, "refval.add", rid, had ? before : NULL, after, res)) {
                snprintf(req->reason, sizeof(req->reason), "reference value %.64s set for %s", rid,
                         tee);
                vtd_json_member_response(res, 200, "id", rid);
        }
}

/* What a Trustee kbs-client sends (set-resource-policy, set-attestation-policy) is
 * answered with the equivalent here; nothing is read or changed. */
void vtd_admin_trustee_attestation_policy(struct vtd *s, struct vtd_request *req,
                                          struct vtd_response *res)
{
        (void)s;
        vtd_problem(res, req, 400, "UnsupportedPolicy",
                    "veriteed has no attestation policy document (Trustee's OPA policy): "
                    "evidence is appraised against reference values: POST "
                    "/kbs/v0/reference-value or `veritee refval add ID --tee TEE FILE` "
                    "(docs/policy.md)");
}

void vtd_admin_trustee_resource_policy(struct vtd *s, struct vtd_request *req,
                                       struct vtd_response *res)
{
        (void)s;
        vtd_problem(res, req, 400, "UnsupportedPolicy",
                    "per-resource policies: veriteed has no global resource policy (Trustee's "
                    "OPA policy); each secret has its own release policy: PUT "
                    "/kbs/v0/resource-policy/REPO/TYPE/TAG or `veritee policy set REPO/TYPE/TAG "
                    "FILE` (docs/policy-release.md)");
}
