/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference values: the file named by attestation.reference_values
 * ({"snp": <SNP policy>, "sim": <SNP policy>}) plus the entries added through the admin
 * API (stored, each {id, tee, value}). Evidence is appraised against every entry for
 * its tee and gets the best vector; a tee with no entry is never affirming.
 * The set is reloaded when the store's reference-value generation changes.
 */
#include <pthread.h>
#include <string.h>

#include "server.h"
#include "util/file.h"
#include "util/json.h"

#define MAX_REFVALS_BYTES (4u << 20)
#define MAX_ENTRIES       1024

struct refval {
        char id[72];
        char tee[16];
        struct vt_snp_policy *p;     /* snp, sim */
        struct vt_dcap_policy *dcap; /* tdx, sgx */
};

struct vtd_refvals {
        struct refval *v;
        size_t n;
        int64_t generation;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

void vtd_refvals_free(struct vtd_refvals *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++) {
                vt_snp_policy_free(r->v[i].p);
                vt_dcap_policy_free(r->v[i].dcap);
        }
        free(r->v);
        free(r);
}

bool vtd_refval_tee_known(const char *tee)
{
        static const char *const known[] = {"snp", "sim",         "tdx",
                                            "sgx", "az-snp-vtpm", "az-tdx-vtpm"};
        for (size_t i = 0; tee && i < ELEMENTSOF(known); i++)
                if (strcmp(tee, known[i]) == 0)
                        return true;
        return false;
}

static int add(struct vtd_refvals *r, const char *id, const char *tee, const json_t *value,
               struct vt_diag *d)
{
        if (!vtd_refval_tee_known(tee))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "reference values: unknown tee \"%.16s\" (snp, sim, tdx, sgx, "
                                   "az-snp-vtpm, az-tdx-vtpm)",
                                   tee);
        if (r->n >= MAX_ENTRIES)
                return vt_diag_set(d, VT_E_LIMIT, "reference values: more than %d entries",
                                   MAX_ENTRIES);
        struct refval *nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
        if (!nv)
                return VT_E_NOMEM;
        r->v = nv;
        struct refval *e = &r->v[r->n];
        memset(e, 0, sizeof(*e));
        snprintf(e->id, sizeof(e->id), "%.64s", id);
        snprintf(e->tee, sizeof(e->tee), "%s", tee);
        _cleanup_free_ char *txt = json_dumps(value, JSON_COMPACT);
        struct vt_diag pd = {0};
        int err;
        if (!txt)
                return VT_E_NOMEM;
        /* az-snp-vtpm is appraised on its SNP report, az-tdx-vtpm on its TD quote */
        bool dcap = strcmp(tee, "tdx") == 0 || strcmp(tee, "sgx") == 0 ||
                    strcmp(tee, "az-tdx-vtpm") == 0;
        err = dcap ? vt_dcap_policy_parse(txt, strlen(txt), &e->dcap, &pd)
                   : vt_snp_policy_parse(txt, strlen(txt), &e->p, &pd);
        if (err < 0)
                return vt_diag_set(d, err, "reference values %s: %s", id, pd.msg);
        r->n++;
        return 0;
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
        return add(c->r, id, tee, v, c->d);
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
        if (store && vt_store_refval_generation(store, &r->generation) < 0)
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
                        if ((e = add(r, id, k, v, d)) < 0) {
                                vtd_refvals_free(r);
                                return e;
                        }
                }
        }
        if (store) {
                struct list_ctx c = {r, d};
                if ((e = vt_store_refval_list(store, NULL, from_store, &c)) < 0) {
                        vtd_refvals_free(r);
                        return e;
                }
        }
        *ret = r;
        return 0;
}

static int rank(const struct vt_ar4si *tv)
{
        enum vt_ear_status st = vt_ear_status_of(tv);
        return st == VT_EAR_AFFIRMING         ? 0
               : st == VT_EAR_WARNING         ? 1
               : st == VT_EAR_CONTRAINDICATED ? 2
                                              : 3;
}

static void reload_if_stale(struct vtd *s)
{
        /* reload when the admin API changed the stored reference values */
        int64_t gen = 0;
        pthread_rwlock_rdlock(&lock);
        bool stale = vt_store_refval_generation(s->store, &gen) == 0 && s->refvals &&
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

/* The evidence being appraised: an SNP report, or a DCAP quote with its TCB result. */
struct subject {
        const struct vt_snp_report *snp;
        const struct vt_dcap_quote *q;
        const struct vt_dcap_result *r;
};

/* The vector of one subject under one entry (NULL: no reference values). */
static void vector_of(const struct refval *e, const struct subject *x, struct vt_ar4si *tv,
                      struct vt_diag *d)
{
        if (x->snp)
                vt_snp_policy_appraise(e ? e->p : NULL, x->snp, tv, d);
        else
                vt_dcap_policy_appraise(e ? e->dcap : NULL, x->q, x->r, tv, d);
}

/* The best vector over every entry for tee of the subject's kind. Thread-safe. */
static void appraise(struct vtd *s, const char *tee, const struct subject *x, struct vt_ar4si *tv,
                     struct vt_diag *d)
{
        reload_if_stale(s);
        pthread_rwlock_rdlock(&lock);
        bool any = false;
        struct vt_ar4si best = {0};
        struct vt_diag best_d = {0};
        for (size_t i = 0; s->refvals && i < s->refvals->n; i++) {
                const struct refval *e = &s->refvals->v[i];
                if (strcmp(e->tee, tee) != 0 || !(x->snp ? (void *)e->p : (void *)e->dcap))
                        continue;
                struct vt_ar4si cand;
                struct vt_diag cd = {0};
                vector_of(e, x, &cand, &cd);
                if (!any || rank(&cand) < rank(&best)) {
                        best = cand;
                        best_d = cd;
                        if (cd.msg[0])
                                snprintf(best_d.msg, sizeof(best_d.msg),
                                         "%.400s (reference values %s)", cd.msg, e->id);
                }
                any = true;
        }
        pthread_rwlock_unlock(&lock);
        if (!any) {
                vector_of(NULL, x, tv, d);
                return;
        }
        *tv = best;
        if (best_d.msg[0])
                vt_diag_set(d, VT_E_POLICY, "%s", best_d.msg);
}

void vtd_appraise_dcap(struct vtd *s, const char *tee, const struct vt_dcap_quote *q,
                       const struct vt_dcap_result *r, struct vt_ar4si *tv, struct vt_diag *d)
{
        const struct subject x = {.q = q, .r = r};
        appraise(s, tee, &x, tv, d);
}

void vtd_appraise(struct vtd *s, const char *tee, const struct vt_snp_report *rep,
                  struct vt_ar4si *tv, struct vt_diag *d)
{
        const struct subject x = {.snp = rep};
        appraise(s, tee, &x, tv, d);
}
