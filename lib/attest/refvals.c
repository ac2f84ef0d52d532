/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference values: entries {id, tee, value}, each parsed with the policy of its tee's row.
 * Evidence is appraised against every entry for its tee and gets the best vector; a tee
 * with no entry gets the vector of no reference values (never affirming).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "attest/tee.h"
#include "util/macro.h"

#define MAX_ENTRIES 1024

struct refval {
        char id[72];
        char tee[16];
        struct vt_snp_policy *p;     /* VT_REFVAL_SNP */
        struct vt_dcap_policy *dcap; /* VT_REFVAL_DCAP */
};

struct vt_refvals {
        atomic_uint refs;
        struct refval *v;
        size_t n;
};

int vt_refvals_new(struct vt_refvals **ret)
{
        struct vt_refvals *r = calloc(1, sizeof(*r));
        if (!r)
                return VT_E_NOMEM;
        atomic_init(&r->refs, 1);
        *ret = r;
        return 0;
}

struct vt_refvals *vt_refvals_ref(struct vt_refvals *r)
{
        if (r)
                atomic_fetch_add(&r->refs, 1);
        return r;
}

void vt_refvals_unref(struct vt_refvals *r)
{
        if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
                return;
        for (size_t i = 0; i < r->n; i++) {
                vt_snp_policy_free(r->v[i].p);
                vt_dcap_policy_free(r->v[i].dcap);
        }
        free(r->v);
        free(r);
}

static enum vt_refval_kind kind_of(const char *tee)
{
        const struct vt_tee_ops *t = tee ? vt_attest_tee_find(tee) : NULL;
        /* the reference values of a tee are keyed by its current name */
        return t && strcmp(t->name, tee) == 0 ? t->refvals : VT_REFVAL_NONE;
}

bool vt_refvals_tee_known(const char *tee)
{
        return kind_of(tee) != VT_REFVAL_NONE;
}

/* The tees that take reference values, for messages: "snp, sim, ...". */
static void refval_tee_names(char *buf, size_t cap)
{
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; i < vt_attest_tee_count(); i++) {
                const char *n = vt_attest_tee_name(i);
                if (!vt_refvals_tee_known(n))
                        continue;
                int w = snprintf(buf + off, cap - off, "%s%s", off ? ", " : "", n);
                if (w < 0 || (size_t)w >= cap - off)
                        break;
                off += (size_t)w;
        }
}

/* Parses value with the policy of kind; the parser's reason in d. */
static int parse_value(enum vt_refval_kind kind, const json_t *value, struct vt_snp_policy **ret_p,
                       struct vt_dcap_policy **ret_dcap, struct vt_diag *d)
{
        _cleanup_free_ char *txt = json_dumps(value, JSON_COMPACT);
        if (!txt)
                return VT_E_NOMEM;
        /* az-snp-vtpm is appraised on its SNP report, az-tdx-vtpm on its TD quote */
        return kind == VT_REFVAL_DCAP ? vt_dcap_policy_parse(txt, strlen(txt), ret_dcap, d)
                                      : vt_snp_policy_parse(txt, strlen(txt), ret_p, d);
}

int vt_refvals_check(const char *tee, const json_t *value, struct vt_diag *d)
{
        enum vt_refval_kind kind = kind_of(tee);
        if (kind == VT_REFVAL_NONE) {
                char names[128];
                refval_tee_names(names, sizeof(names));
                return vt_diag_set(d, VT_E_FORMAT, "unknown tee \"%.16s\" (%s)", tee ? tee : "",
                                   names);
        }
        struct vt_snp_policy *p = NULL;
        struct vt_dcap_policy *dcap = NULL;
        int e = parse_value(kind, value, &p, &dcap, d);
        vt_snp_policy_free(p);
        vt_dcap_policy_free(dcap);
        return e;
}

int vt_refvals_add(struct vt_refvals *r, const char *id, const char *tee, const json_t *value,
                   struct vt_diag *d)
{
        enum vt_refval_kind kind = kind_of(tee);
        if (kind == VT_REFVAL_NONE) {
                char names[128];
                refval_tee_names(names, sizeof(names));
                return vt_diag_set(d, VT_E_FORMAT, "reference values: unknown tee \"%.16s\" (%s)",
                                   tee ? tee : "", names);
        }
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
        struct vt_diag pd = {0};
        int err = parse_value(kind, value, &e->p, &e->dcap, &pd);
        if (err == VT_E_NOMEM)
                return err;
        if (err < 0)
                return vt_diag_set(d, err, "reference values %s: %s", id, pd.msg);
        r->n++;
        return 0;
}

static int rank(const struct vt_ar4si *tv)
{
        enum vt_ar4si_tier st = vt_ar4si_tier_of(tv);
        return st == VT_AR4SI_TIER_AFFIRMING         ? 0
               : st == VT_AR4SI_TIER_WARNING         ? 1
               : st == VT_AR4SI_TIER_CONTRAINDICATED ? 2
                                                     : 3;
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

/* The best vector over every entry for tee of the subject's kind. */
static void appraise(const struct vt_refvals *r, const char *tee, const struct subject *x,
                     struct vt_ar4si *tv, struct vt_diag *d)
{
        bool any = false;
        struct vt_ar4si best = {0};
        struct vt_diag best_d = {0};
        for (size_t i = 0; r && i < r->n; i++) {
                const struct refval *e = &r->v[i];
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
        if (!any) {
                vector_of(NULL, x, tv, d);
                return;
        }
        *tv = best;
        if (best_d.msg[0])
                vt_diag_set(d, VT_E_POLICY, "%s", best_d.msg);
}

void vt_refvals_appraise_snp(const struct vt_refvals *r, const char *tee,
                             const struct vt_snp_report *rep, struct vt_ar4si *tv,
                             struct vt_diag *d)
{
        const struct subject x = {.snp = rep};
        appraise(r, tee, &x, tv, d);
}

void vt_refvals_appraise_dcap(const struct vt_refvals *r, const char *tee,
                              const struct vt_dcap_quote *q, const struct vt_dcap_result *res,
                              struct vt_ar4si *tv, struct vt_diag *d)
{
        const struct subject x = {.q = q, .r = res};
        appraise(r, tee, &x, tv, d);
}
