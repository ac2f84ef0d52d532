/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's public functions: each calls its back end through the ops table
 * (store_impl.h); the checks of names and paths that every back end shares are here.
 */
#include "store/store.h"

#include <string.h>

#include "store/store_impl.h"

int vt_store_open_with(const struct vt_store_ops *backend, const char *path, struct vt_store **ret,
                       struct vt_diag *d)
{
        if (!backend)
                return vt_diag_set(d, VT_E_INVAL, "store: no back end");
        return backend->open(path, ret, d);
}

int vt_store_open(const char *path, struct vt_store **ret, struct vt_diag *d)
{
        return vt_store_open_with(&vt_store_sqlite_ops, path, ret, d);
}

const char *vt_store_backend_name(const struct vt_store_ops *backend)
{
        return backend ? backend->name : "none";
}

/* result names a failure the back end left unexplained (a missing resource, a bad
 * argument) after the operation, so that every failure reaches the caller with a reason. */
static int result(int r, const char *op, struct vt_diag *d)
{
        if (r < 0)
                vt_diag_set(d, r, "store: %s: %s", op, vt_strerror(r));
        return r;
}

void vt_store_close(struct vt_store *s)
{
        if (s)
                s->ops->close(s);
}

int vt_store_session_create(struct vt_store *s, const struct vt_session *sess, int64_t now,
                            size_t max_live, struct vt_diag *d)
{
        return vt_store_session_open(s, sess, now, max_live, 0, d);
}

int vt_store_schema_version(struct vt_store *s, int *ret, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->schema_version(s, ret, d), "schema version", d);
}

int vt_store_ping(struct vt_store *s, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->ping(s, d), "ping", d);
}

int vt_store_session_open(struct vt_store *s, const struct vt_session *sess, int64_t now,
                          size_t max_open, size_t max_open_per_client, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_open(s, sess, now, max_open, max_open_per_client, d),
                      "session open", d);
}

int vt_store_session_get(struct vt_store *s, const char *id, int64_t now, struct vt_session *ret,
                         struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_get(s, id, now, ret, d), "session get", d);
}

int vt_store_session_claim(struct vt_store *s, const char *id, const char *nonce, int64_t now,
                           struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_claim(s, id, nonce, now, d), "session claim", d);
}

int vt_store_session_attest(struct vt_store *s, const char *id, const char *nonce, int64_t now,
                            const char *claims_json, int64_t expires, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_attest(s, id, nonce, now, claims_json, expires, d),
                      "session attest", d);
}

int vt_store_session_set_state(struct vt_store *s, const char *id, enum vt_session_state st,
                               struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_set_state(s, id, st, d), "session set state", d);
}

int vt_store_session_set_claims(struct vt_store *s, const char *id, const char *claims_json,
                                struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_set_claims(s, id, claims_json, d), "session set claims", d);
}

int vt_store_session_set_attested(struct vt_store *s, const char *id, const char *claims_json,
                                  int64_t expires, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_set_attested(s, id, claims_json, expires, d),
                      "session set attested", d);
}

int vt_store_session_get_claims(struct vt_store *s, const char *id, int64_t now, char **ret,
                                struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_get_claims(s, id, now, ret, d), "session get claims", d);
}

int vt_store_session_count_live(struct vt_store *s, int64_t now, size_t *ret, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->session_count_live(s, now, ret, d), "session count live", d);
}

int vt_store_sweep(struct vt_store *s, int64_t now, size_t *ret_n, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->sweep(s, now, ret_n, d), "sweep", d);
}

int vt_store_resource_put(struct vt_store *s, const char *path, const char *kek_id,
                          const uint8_t *wdek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
                          size_t plain_len, int64_t now, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->resource_put(s, path, kek_id, wdek, wdek_len, ct, ct_len, plain_len,
                                           now, d),
                      "resource put", d);
}

int vt_store_resource_put_policy(struct vt_store *s, const char *path, const char *kek_id,
                                 const uint8_t *wdek, size_t wdek_len, const uint8_t *ct,
                                 size_t ct_len, size_t plain_len, const char *policy, int64_t now,
                                 struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->resource_put_policy(s, path, kek_id, wdek, wdek_len, ct, ct_len,
                                                  plain_len, policy, now, d),
                      "resource put policy", d);
}

int vt_store_resource_put_batch(struct vt_store *s, const char *kek_id,
                                const struct vt_resource_item *items, size_t n, int64_t now,
                                size_t *ret_bad, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        if (!items || n == 0 || n > VT_STORE_BATCH_MAX)
                return vt_diag_set(d, VT_E_INVAL, "store: a batch holds 1..%d resources",
                                   VT_STORE_BATCH_MAX);
        return result(s->ops->resource_put_batch(s, kek_id, items, n, now, ret_bad, d),
                      "resource put batch", d);
}

int vt_store_set_cache(struct vt_store *s, size_t kib, struct vt_diag *d)
{
        if (!s || kib == 0)
                return vt_diag_set(d, VT_E_INVAL, "store: set cache: no store or size 0");
        if (!s->ops->set_cache)
                return 0;
        return result(s->ops->set_cache(s, kib, d), "set cache", d);
}

int vt_store_resource_get(struct vt_store *s, const char *path, char kek_id[32], uint8_t **wdek,
                          size_t *wdek_len, uint8_t **ct, size_t *ct_len, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->resource_get(s, path, kek_id, wdek, wdek_len, ct, ct_len, d),
                      "resource get", d);
}

int vt_store_release_get(struct vt_store *s, const char *path, char kek_id[32], uint8_t **wdek,
                         size_t *wdek_len, uint8_t **ct, size_t *ct_len, char **ret_policy,
                         struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        if (!ret_policy)
                return vt_diag_set(d, VT_E_INVAL, "store: release get: no place for the policy");
        return result(
                s->ops->release_get(s, path, kek_id, wdek, wdek_len, ct, ct_len, ret_policy, d),
                "release get", d);
}

int vt_store_resource_delete(struct vt_store *s, const char *path, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->resource_delete(s, path, d), "resource delete", d);
}

int vt_store_resource_list(struct vt_store *s, const char *repo_or_null,
                           int (*cb)(const struct vt_resource_meta *m, void *ud), void *ud,
                           struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->resource_list(s, repo_or_null, NULL, 0, cb, ud, d), "resource list",
                      d);
}

int vt_store_resource_page(struct vt_store *s, const char *repo_or_null, const char *after,
                           size_t limit, int (*cb)(const struct vt_resource_meta *m, void *ud),
                           void *ud, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        if (limit == 0 || limit > VT_STORE_PAGE_MAX)
                return vt_diag_set(d, VT_E_INVAL, "store: a page holds 1..%d rows",
                                   VT_STORE_PAGE_MAX);
        if (after && !vt_resource_path_valid(after))
                return vt_diag_set(d, VT_E_INVAL, "store: the page cursor is not a resource path");
        return result(s->ops->resource_list(s, repo_or_null, after, limit, cb, ud, d),
                      "resource list", d);
}

int vt_store_resource_rewrap_all(struct vt_store *s, const char *new_kek_id,
                                 int (*rewrap)(const char *path, const char *kek_id,
                                               const uint8_t *wdek, size_t len, uint8_t **ret_new,
                                               size_t *ret_new_len, void *ud),
                                 void *ud, size_t *ret_count, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->resource_rewrap_all(s, new_kek_id, rewrap, ud, ret_count, d),
                      "resource rewrap all", d);
}

int vt_store_kek_current(struct vt_store *s, char ret_id[32], int64_t *ret_generation,
                         struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->kek_current(s, ret_id, ret_generation, d), "kek current", d);
}

int vt_store_kek_adopt(struct vt_store *s, const char *kek_id, char ret_id[32], struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->kek_adopt(s, kek_id, ret_id, d), "kek adopt", d);
}

int vt_store_kek_count(struct vt_store *s, const char *kek_id, size_t *ret, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->kek_count(s, kek_id, ret, d), "kek count", d);
}

int vt_store_policy_set(struct vt_store *s, const char *path, const char *json, int64_t now,
                        struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->policy_set(s, path, json, now, d), "policy set", d);
}

int vt_store_policy_get(struct vt_store *s, const char *path, char **ret_json, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->policy_get(s, path, ret_json, d), "policy get", d);
}

int vt_store_refval_add(struct vt_store *s, const char *id, const char *tee, const char *json,
                        int64_t now, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->refval_add(s, id, tee, json, now, d), "refval add", d);
}

int vt_store_refval_delete(struct vt_store *s, const char *id, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->refval_delete(s, id, d), "refval delete", d);
}

int vt_store_refval_list(struct vt_store *s, const char *tee_or_null,
                         int (*cb)(const char *id, const char *tee, const char *json, void *ud),
                         void *ud, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->refval_list(s, tee_or_null, cb, ud, d), "refval list", d);
}

int vt_store_refval_generation(struct vt_store *s, int64_t *ret, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->refval_generation(s, ret, d), "refval generation", d);
}

bool vt_store_session_mark_valid(const struct vt_store_session_mark *m)
{
        return m && m->id && m->nonce && m->claims_json &&
               strnlen(m->claims_json, VT_STORE_MAX_JSON + 1) <= VT_STORE_MAX_JSON;
}

static int ledger_append(struct vt_store *s, uint64_t expect_size, const struct vt_ledger_row *rows,
                         size_t n, const struct vt_ledger_hash *nodes, size_t m,
                         const struct vt_ledger_sth *sth, bool sync, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        if (n == 0 || !rows || (m && !nodes))
                return vt_diag_set(d, VT_E_INVAL, "store: ledger append: nothing to append");
        for (size_t i = 0; i < n; i++) {
                const struct vt_ledger_row *r = &rows[i];
                if (r->index != expect_size + i)
                        return vt_diag_set(d, VT_E_INVAL,
                                           "store: ledger append: entry %zu has index %llu, not "
                                           "%llu",
                                           i, (unsigned long long)r->index,
                                           (unsigned long long)(expect_size + i));
                if (!r->kind || !*r->kind || strlen(r->kind) > VT_STORE_MAX_KIND || !r->entry ||
                    r->entry_len == 0 || memchr(r->entry, 0, r->entry_len))
                        return vt_diag_set(d, VT_E_INVAL,
                                           "store: ledger append: entry %llu has no kind or text",
                                           (unsigned long long)r->index);
                if (r->entry_len > VT_STORE_MAX_ENTRY)
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "store: ledger append: entry %llu is %zu bytes, above "
                                           "%u",
                                           (unsigned long long)r->index, r->entry_len,
                                           VT_STORE_MAX_ENTRY);
                if (r->mark && !vt_store_session_mark_valid(r->mark))
                        return vt_diag_set(d, VT_E_INVAL,
                                           "store: ledger append: entry %llu's session mark has "
                                           "no session, nonce or claims (or claims above %u "
                                           "bytes)",
                                           (unsigned long long)r->index, VT_STORE_MAX_JSON);
        }
        for (size_t i = 0; i < m; i++)
                if (nodes[i].level > 63 || nodes[i].index > (UINT64_MAX >> nodes[i].level))
                        return vt_diag_set(d, VT_E_INVAL,
                                           "store: ledger append: node %zu out of "
                                           "place",
                                           i);
        if (sth && (!sth->sth || !*sth->sth || sth->size != expect_size + n))
                return vt_diag_set(d, VT_E_INVAL,
                                   "store: ledger append: the tree head is not of size %llu",
                                   (unsigned long long)(expect_size + n));
        if (sth && strnlen(sth->sth, VT_STORE_MAX_STH + 1) > VT_STORE_MAX_STH)
                return vt_diag_set(d, VT_E_LIMIT, "store: ledger tree head above %u bytes",
                                   VT_STORE_MAX_STH);
        return result(s->ops->ledger_append(s, expect_size, rows, n, nodes, m, sth, sync, d),
                      "ledger append", d);
}

int vt_store_ledger_append(struct vt_store *s, uint64_t expect_size,
                           const struct vt_ledger_row *rows, size_t n,
                           const struct vt_ledger_hash *nodes, size_t m, struct vt_diag *d)
{
        return vt_store_ledger_append_sth(s, expect_size, rows, n, nodes, m, NULL, d);
}

int vt_store_ledger_append_unsynced(struct vt_store *s, uint64_t expect_size,
                                    const struct vt_ledger_row *rows, size_t n,
                                    const struct vt_ledger_hash *nodes, size_t m, struct vt_diag *d)
{
        return ledger_append(s, expect_size, rows, n, nodes, m, NULL, false, d);
}

int vt_store_ledger_sync(struct vt_store *s, struct vt_diag *d)
{
        if (!s)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        if (!s->ops->ledger_sync)
                return 0;
        return result(s->ops->ledger_sync(s, d), "ledger sync", d);
}

int vt_store_ledger_append_sth(struct vt_store *s, uint64_t expect_size,
                               const struct vt_ledger_row *rows, size_t n,
                               const struct vt_ledger_hash *nodes, size_t m,
                               const struct vt_ledger_sth *sth, struct vt_diag *d)
{
        return ledger_append(s, expect_size, rows, n, nodes, m, sth, true, d);
}

int vt_store_ledger_size(struct vt_store *s, uint64_t *ret, struct vt_diag *d)
{
        if (!s || !ret)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->ledger_size(s, ret, d), "ledger size", d);
}

int vt_store_ledger_node(struct vt_store *s, unsigned level, uint64_t index, uint8_t ret[static 32],
                         struct vt_diag *d)
{
        if (!s || level > 63)
                return vt_diag_set(d, VT_E_INVAL, "store: ledger node: bad argument");
        return s->ops->ledger_node(s, level, index, ret, d);
}

int vt_store_ledger_entries(struct vt_store *s, uint64_t start, uint64_t end,
                            int (*cb)(const struct vt_ledger_row *row, void *ud), void *ud,
                            struct vt_diag *d)
{
        if (!s || !cb || start > end || start > INT64_MAX || end > INT64_MAX)
                return vt_diag_set(d, VT_E_INVAL, "store: ledger entries: bad range");
        if (end - start > VT_STORE_LEDGER_PAGE)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "store: ledger entries: at most %u entries a call",
                                   VT_STORE_LEDGER_PAGE);
        return result(s->ops->ledger_entries(s, start, end, cb, ud, d), "ledger entries", d);
}

int vt_store_ledger_sth_put(struct vt_store *s, uint64_t size, int64_t time, const char *sth,
                            struct vt_diag *d)
{
        if (!s || !sth || !*sth || size > INT64_MAX)
                return vt_diag_set(d, VT_E_INVAL, "store: ledger tree head: bad argument");
        if (strnlen(sth, VT_STORE_MAX_STH + 1) > VT_STORE_MAX_STH)
                return vt_diag_set(d, VT_E_LIMIT, "store: ledger tree head above %u bytes",
                                   VT_STORE_MAX_STH);
        return result(s->ops->ledger_sth_put(s, size, time, sth, d), "ledger tree head put", d);
}

int vt_store_ledger_sth_latest(struct vt_store *s, uint64_t *ret_size, char **ret_sth,
                               struct vt_diag *d)
{
        if (!s || !ret_size || !ret_sth)
                return vt_diag_set(d, VT_E_INVAL, "store: no store");
        return result(s->ops->ledger_sth_latest(s, ret_size, ret_sth, d), "ledger tree head", d);
}

int vt_store_ledger_sths(struct vt_store *s, uint64_t from_size, size_t max,
                         int (*cb)(uint64_t size, int64_t time, const char *sth, void *ud),
                         void *ud, struct vt_diag *d)
{
        if (!s || !cb || from_size > INT64_MAX)
                return vt_diag_set(d, VT_E_INVAL, "store: ledger tree heads: bad argument");
        return result(s->ops->ledger_sths(s, from_size, max, cb, ud, d), "ledger tree heads", d);
}

/* path_char: [A-Za-z0-9_-], and '.' except as a segment's first character (so that
 * "." and ".." are never segments). No locale: the set is ASCII whatever LC_CTYPE says. */
static bool path_char(char c, bool first)
{
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-')
                return true;
        return c == '.' && !first;
}

/* segment_len returns the length of the valid segment at p, which ends at '/' or NUL,
 * or 0 if the segment is empty or has a character outside the set. */
static size_t segment_len(const char *p)
{
        size_t n = 0;
        for (; p[n] && p[n] != '/'; n++)
                if (!path_char(p[n], n == 0))
                        return 0;
        return n;
}

#define RESOURCE_PATH_MAX sizeof(((struct vt_resource_meta *)0)->path)

bool vt_resource_path_valid(const char *path)
{
        /* Fewer than 256 bytes: a path fits struct vt_resource_meta.path. */
        if (!path || strnlen(path, RESOURCE_PATH_MAX) >= RESOURCE_PATH_MAX)
                return false;
        const char *p = path;
        for (int i = 0; i < 3; i++) {
                size_t n = segment_len(p);
                if (n == 0 || (i == 0 && n > VT_REPO_NAME_MAX))
                        return false;
                p += n;
                if (i < 2) {
                        if (*p != '/')
                                return false;
                        p++;
                }
        }
        return *p == 0;
}

bool vt_resource_repo_valid(const char *repo)
{
        size_t n = repo ? segment_len(repo) : 0;
        return n > 0 && n <= VT_REPO_NAME_MAX && repo[n] == 0;
}

#define REFVAL_ID_MAX 64

bool vt_refval_id_valid(const char *id)
{
        if (!id)
                return false;
        size_t n = strnlen(id, REFVAL_ID_MAX + 1);
        if (n == 0 || n > REFVAL_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!path_char(id[i], false))
                        return false;
        return true;
}
