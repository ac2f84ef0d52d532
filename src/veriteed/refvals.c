/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference values: the file named by attestation.reference_values ({<tee>: <policy>})
 * plus the entries added through the admin API (stored, each {id, tee, value}), loaded
 * into one set of lib/attest (which parses and appraises them: vt_attest). The set is
 * reloaded when the store's reference-value generation changes.
 */
#include <pthread.h>
#include <string.h>

#include "server.h"
#include "util/file.h"
#include "util/json.h"

#define MAX_REFVALS_BYTES (4u << 20)

struct vtd_refvals {
        struct vt_refvals *set; /* lib/attest: parsed per tee, appraised by vt_attest */
        int64_t generation;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

void vtd_refvals_free(struct vtd_refvals *r)
{
        if (!r)
                return;
        vt_refvals_unref(r->set);
        free(r);
}

struct list_ctx {
        struct vtd_refvals *r;
        struct vt_diag *d;
};

static int from_store(const char *id, const char *tee, const char *json, void *ud)
{
        struct list_ctx *c = ud;
        json_auto_t *v = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
        if (!v)
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "reference values %s: stored value is not JSON", id);
        return vt_refvals_add(c->r->set, id, tee, v, c->d);
}

int vtd_refvals_load(const char *path, struct vt_store *store, struct vtd_refvals **ret,
                     struct vt_diag *d)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        json_error_t je;
        const char *k;
        json_t *v;
        int e;
        struct vtd_refvals *r = calloc(1, sizeof(*r));
        if (!r)
                return VT_E_NOMEM;
        if ((e = vt_refvals_new(&r->set)) < 0) {
                free(r);
                return e;
        }
        if (store && vt_store_refval_generation(store, &r->generation, NULL) < 0)
                r->generation = -1;
        if (path) {
                if ((e = vt_read_file(path, MAX_REFVALS_BYTES, &buf, &len)) < 0) {
                        vtd_refvals_free(r);
                        return vt_diag_set(d, e, "reference values: cannot read %s", path);
                }
                json_auto_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
                if (!json_is_object(root)) {
                        vtd_refvals_free(r);
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "reference values %s: not a JSON object (line %d)", path,
                                           je.line);
                }
                json_object_foreach (root, k, v) {
                        char id[72];
                        snprintf(id, sizeof(id), "file:%.32s", k);
                        if ((e = vt_refvals_add(r->set, id, k, v, d)) < 0) {
                                vtd_refvals_free(r);
                                return e;
                        }
                }
        }
        if (store) {
                struct list_ctx c = {r, d};
                if ((e = vt_store_refval_list(store, NULL, from_store, &c, NULL)) < 0) {
                        vtd_refvals_free(r);
                        return e;
                }
        }
        *ret = r;
        return 0;
}

int vtd_refvals_file_list(const char *path, json_t *out, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        const char *k;
        json_t *v;
        int e;
        if (!path)
                return 0;
        if ((e = vt_read_file(path, MAX_REFVALS_BYTES, &buf, &len)) < 0)
                return vt_diag_set(d, e, "reference values: cannot read %s", path);
        json_auto_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(root))
                return vt_diag_set(d, VT_E_FORMAT, "reference values %s: not a JSON object", path);
        json_object_foreach (root, k, v) {
                char id[72];
                snprintf(id, sizeof(id), "file:%.32s", k);
                if (json_array_append_new(out, json_pack("{s:s, s:s, s:O, s:s}", "id", id, "tee", k,
                                                         "value", v, "source", "configuration")) <
                    0)
                        return VT_E_NOMEM;
        }
        return 0;
}

static void reload_if_stale(struct vtd *s)
{
        /* reload when the admin API changed the stored reference values */
        int64_t gen = 0;
        pthread_rwlock_rdlock(&lock);
        bool stale = vt_store_refval_generation(s->store, &gen, NULL) == 0 && s->refvals &&
                     gen != s->refvals->generation;
        pthread_rwlock_unlock(&lock);
        if (stale) {
                struct vtd_refvals *fresh = NULL;
                struct vt_diag ld = {0};
                if (vtd_refvals_load(s->cfg.reference_values, s->store, &fresh, &ld) == 0) {
                        pthread_rwlock_wrlock(&lock);
                        vtd_refvals_free(s->refvals);
                        s->refvals = fresh;
                        pthread_rwlock_unlock(&lock);
                }
        }
}

struct vt_refvals *vtd_refvals_current(struct vtd *s)
{
        reload_if_stale(s);
        pthread_rwlock_rdlock(&lock);
        struct vt_refvals *r = s->refvals ? vt_refvals_ref(s->refvals->set) : NULL;
        pthread_rwlock_unlock(&lock);
        return r;
}
