/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP collateral: the QuoteCollateralV3 JSON (dcap-qvl's interchange format) parsed into
 * certificates, CRLs and the TCB info / QE identity structs, and its verification: every
 * issuer chain ends in the Intel SGX Root CA pinned by public key, the CRLs and the
 * signed bodies verify (ECDSA P-256 over the exact bytes received, never a
 * re-serialisation), and every validity window holds at the verification time.
 */
#include "verify/dcap_collateral.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

#include "crypto/jwk.h"
#include "crypto/x509.h"
#include "util/hex.h"
#include "util/json.h"
#include "verify/dcap_internal.h"

/* All advisory IDs of one collateral (the pool that levels point into). */
#define MAX_ADV_TOTAL 8192u

/* ---- small JSON readers; every failure names the field ---- */

/* Where in the input a field is, for messages ("tcb_info.tcbLevels[3].tcb"). */
#define WHERE_MAX 128
static void __attribute__((format(printf, 2, 3))) where_fmt(char w[WHERE_MAX], const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w, WHERE_MAX, fmt, ap);
        va_end(ap);
}

static int str_field(const json_t *o, const char *key, const char *where, const char **ret,
                     size_t *ret_len, struct vt_diag *d)
{
        const json_t *v = json_object_get(o, key);
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: missing \"%s\"", where, key);
        if (!json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" is not a string", where, key);
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strlen(s) != n)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" contains a NUL", where, key);
        *ret = s;
        if (ret_len)
                *ret_len = n;
        return 0;
}

static int int_field(const json_t *o, const char *key, const char *where, int64_t min, int64_t max,
                     int64_t *ret, struct vt_diag *d)
{
        const json_t *v = json_object_get(o, key);
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: missing \"%s\"", where, key);
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" is not an integer %lld..%lld",
                                   where, key, (long long)min, (long long)max);
        *ret = json_integer_value(v);
        return 0;
}

/* Exactly n bytes as 2n hex digits, either case. */
static int hex_field(const json_t *o, const char *key, const char *where, uint8_t *out, size_t n,
                     struct vt_diag *d)
{
        const char *s;
        size_t len;
        int r = str_field(o, key, where, &s, &len, d);
        if (r < 0)
                return r;
        if (len != 2 * n || vt_hex_decode(s, out, n) != (int)n)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" is not %zu hex digits", where,
                                   key, 2 * n);
        return 0;
}

static int time_field(const json_t *o, const char *key, const char *where, int64_t *ret,
                      struct vt_diag *d)
{
        const char *s;
        int r = str_field(o, key, where, &s, NULL, d);
        if (r < 0)
                return r;
        if (vt_time_parse_rfc3339(s, ret) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" is not an RFC 3339 time",
                                   where, key);
        return 0;
}

static int array_field(const json_t *o, const char *key, const char *where, size_t min, size_t max,
                       const json_t **ret, struct vt_diag *d)
{
        const json_t *v = json_object_get(o, key);
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: missing \"%s\"", where, key);
        if (!json_is_array(v))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" is not an array", where, key);
        if (json_array_size(v) < min)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" has fewer than %zu entries",
                                   where, key, min);
        if (json_array_size(v) > max)
                return vt_diag_set(d, VT_E_LIMIT, "dcap: %s: \"%s\" has more than %zu entries",
                                   where, key, max);
        *ret = v;
        return 0;
}

static int object_field(const json_t *o, const char *key, const char *where, const json_t **ret,
                        struct vt_diag *d)
{
        const json_t *v = json_object_get(o, key);
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: missing \"%s\"", where, key);
        if (!json_is_object(v))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: \"%s\" is not an object", where, key);
        *ret = v;
        return 0;
}

/* The statuses Intel writes into TCB info and enclave identities; anything else is
 * rejected (an unknown status must not be mistaken for a good one). */
static const struct {
        const char *name;
        enum vt_tcb_status status;
} json_statuses[] = {
        {"UpToDate", VT_TCB_UP_TO_DATE},
        {"SWHardeningNeeded", VT_TCB_SW_HARDENING_NEEDED},
        {"ConfigurationNeeded", VT_TCB_CONFIGURATION_NEEDED},
        {"ConfigurationAndSWHardeningNeeded", VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED},
        {"OutOfDate", VT_TCB_OUT_OF_DATE},
        {"OutOfDateConfigurationNeeded", VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED},
        {"Revoked", VT_TCB_REVOKED},
};

static int status_field(const json_t *o, const char *where, enum vt_tcb_status *ret,
                        struct vt_diag *d)
{
        const char *s;
        int r = str_field(o, "tcbStatus", where, &s, NULL, d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(json_statuses); i++)
                if (strcmp(s, json_statuses[i].name) == 0) {
                        *ret = json_statuses[i].status;
                        return 0;
                }
        return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: unknown tcbStatus \"%.40s\"", where, s);
}

/* advisoryIDs (optional) into the collateral's pool. */
static int advisories(struct vt_dcap_collateral *c, const json_t *o, const char *where,
                      struct vt_dcap_adv *ret, struct vt_diag *d)
{
        const json_t *a = json_object_get(o, "advisoryIDs");
        struct vt_dcap_adv adv = {.first = (uint32_t)c->n_adv, .n = 0};
        size_t i;
        const json_t *v;
        if (!a) {
                *ret = adv;
                return 0;
        }
        int r = array_field(o, "advisoryIDs", where, 0, VT_DCAP_COLL_MAX_ADV_EACH, &a, d);
        if (r < 0)
                return r;
        json_array_foreach (a, i, v) {
                const char *s = json_string_value(v);
                size_t n = s ? json_string_length(v) : 0;
                if (!s || n == 0 || n >= VT_DCAP_COLL_ADV_LEN)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "dcap: %s: advisoryIDs[%zu] is not a string of 1..%u "
                                           "characters",
                                           where, i, VT_DCAP_COLL_ADV_LEN - 1);
                for (size_t k = 0; k < n; k++)
                        if (s[k] <= 0x20 || s[k] >= 0x7f)
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "dcap: %s: advisoryIDs[%zu] has a character "
                                                   "other than printable ASCII",
                                                   where, i);
                if (c->n_adv == c->cap_adv) {
                        if (c->cap_adv >= MAX_ADV_TOTAL)
                                return vt_diag_set(d, VT_E_LIMIT,
                                                   "dcap: collateral has more than %u advisory IDs",
                                                   MAX_ADV_TOTAL);
                        size_t cap = c->cap_adv ? 2 * c->cap_adv : 64;
                        void *p = realloc(c->adv, cap * sizeof(*c->adv));
                        if (!p)
                                return VT_E_NOMEM;
                        c->adv = p;
                        c->cap_adv = cap;
                }
                memcpy(c->adv[c->n_adv], s, n + 1);
                c->n_adv++;
                adv.n++;
        }
        *ret = adv;
        return 0;
}

/* ---- TCB levels ---- */

static int svn_components(const json_t *tcb, const char *key, const char *where, uint8_t out[16],
                          struct vt_diag *d)
{
        const json_t *a, *v;
        size_t i;
        char w[WHERE_MAX];
        int r = array_field(tcb, key, where, 16, 16, &a, d);
        if (r < 0)
                return r;
        json_array_foreach (a, i, v) {
                int64_t x;
                where_fmt(w, "%s.%s[%zu]", where, key, i);
                if (!json_is_object(v))
                        return vt_diag_set(d, VT_E_FORMAT, "dcap: %s is not an object", w);
                if ((r = int_field(v, "svn", w, 0, 255, &x, d)) < 0)
                        return r;
                out[i] = (uint8_t)x;
        }
        return 0;
}

static int isv_level(struct vt_dcap_collateral *c, const json_t *l, const char *where,
                     struct vt_dcap_isv_level *out, struct vt_diag *d)
{
        const json_t *tcb;
        int64_t x;
        char w[WHERE_MAX];
        int r;
        if (!json_is_object(l))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s is not an object", where);
        if ((r = object_field(l, "tcb", where, &tcb, d)) < 0)
                return r;
        where_fmt(w, "%s.tcb", where);
        if ((r = int_field(tcb, "isvsvn", w, 0, 65535, &x, d)) < 0)
                return r;
        out->isvsvn = (uint16_t)x;
        if ((r = time_field(l, "tcbDate", where, &out->tcb_date, d)) < 0 ||
            (r = status_field(l, where, &out->status, d)) < 0 ||
            (r = advisories(c, l, where, &out->adv, d)) < 0)
                return r;
        return 0;
}

/* tcbLevels of a module or enclave identity, sorted by isvsvn (descending, stable). */
static int isv_levels(struct vt_dcap_collateral *c, const json_t *o, const char *where,
                      struct vt_dcap_isv_level **ret, size_t *ret_n, struct vt_diag *d)
{
        const json_t *a, *v;
        size_t i, n;
        char w[WHERE_MAX];
        int r = array_field(o, "tcbLevels", where, 1, VT_DCAP_COLL_MAX_ISV, &a, d);
        if (r < 0)
                return r;
        n = json_array_size(a);
        struct vt_dcap_isv_level *lv = calloc(n, sizeof(*lv));
        if (!lv)
                return VT_E_NOMEM;
        json_array_foreach (a, i, v) {
                where_fmt(w, "%s.tcbLevels[%zu]", where, i);
                if ((r = isv_level(c, v, w, &lv[i], d)) < 0) {
                        free(lv);
                        return r;
                }
        }
        for (i = 1; i < n; i++) {
                struct vt_dcap_isv_level t = lv[i];
                size_t k = i;
                for (; k > 0 && lv[k - 1].isvsvn < t.isvsvn; k--)
                        lv[k] = lv[k - 1];
                lv[k] = t;
        }
        *ret = lv;
        *ret_n = n;
        return 0;
}

/* Descending order of platform levels, as Intel's QVL keeps them (a std::set ordered by
 * the SGX components, then PCESVN, then the TDX components). */
static int level_cmp(const struct vt_dcap_tcb_level *a, const struct vt_dcap_tcb_level *b)
{
        int r = memcmp(a->sgx_svn, b->sgx_svn, 16);
        if (r)
                return r;
        if (a->pcesvn != b->pcesvn)
                return a->pcesvn < b->pcesvn ? -1 : 1;
        return memcmp(a->tdx_svn, b->tdx_svn, 16);
}

static int tcb_level(struct vt_dcap_collateral *c, const json_t *l, const char *where, bool tdx,
                     struct vt_dcap_tcb_level *out, struct vt_diag *d)
{
        const json_t *tcb;
        int64_t x;
        char w[WHERE_MAX];
        int r;
        if (!json_is_object(l))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s is not an object", where);
        if ((r = object_field(l, "tcb", where, &tcb, d)) < 0)
                return r;
        where_fmt(w, "%s.tcb", where);
        if ((r = svn_components(tcb, "sgxtcbcomponents", w, out->sgx_svn, d)) < 0 ||
            (r = int_field(tcb, "pcesvn", w, 0, 65535, &x, d)) < 0)
                return r;
        out->pcesvn = (uint16_t)x;
        /* TDX only; a level without it constrains nothing (all zero) */
        if (tdx && json_object_get(tcb, "tdxtcbcomponents") &&
            (r = svn_components(tcb, "tdxtcbcomponents", w, out->tdx_svn, d)) < 0)
                return r;
        if ((r = time_field(l, "tcbDate", where, &out->tcb_date, d)) < 0 ||
            (r = status_field(l, where, &out->status, d)) < 0 ||
            (r = advisories(c, l, where, &out->adv, d)) < 0)
                return r;
        return 0;
}

static int module_fields(const json_t *o, const char *where, struct vt_dcap_tdx_module *m,
                         struct vt_diag *d)
{
        int r;
        if ((r = hex_field(o, "mrsigner", where, m->mrsigner, 48, d)) < 0 ||
            (r = hex_field(o, "attributes", where, m->attributes, 8, d)) < 0 ||
            (r = hex_field(o, "attributesMask", where, m->attributes_mask, 8, d)) < 0)
                return r;
        return 0;
}

static int tdx_modules(struct vt_dcap_collateral *c, const json_t *ti, struct vt_diag *d)
{
        struct vt_dcap_tcb_info *t = &c->tcb;
        const json_t *o, *a, *v;
        size_t i;
        char w[WHERE_MAX];
        int r;
        if ((r = object_field(ti, "tdxModule", "tcb_info", &o, d)) < 0 ||
            (r = module_fields(o, "tcb_info.tdxModule", &t->tdx_module, d)) < 0)
                return r;
        t->has_tdx_module = true;
        if (!json_object_get(ti, "tdxModuleIdentities"))
                return 0;
        if ((r = array_field(ti, "tdxModuleIdentities", "tcb_info", 0, VT_DCAP_COLL_MAX_MODULES, &a,
                             d)) < 0)
                return r;
        if (json_array_size(a) == 0)
                return 0;
        t->modules = calloc(json_array_size(a), sizeof(*t->modules));
        if (!t->modules)
                return VT_E_NOMEM;
        json_array_foreach (a, i, v) {
                struct vt_dcap_tdx_module *m = &t->modules[i];
                const char *id;
                size_t idlen;
                where_fmt(w, "tcb_info.tdxModuleIdentities[%zu]", i);
                if (!json_is_object(v))
                        return vt_diag_set(d, VT_E_FORMAT, "dcap: %s is not an object", w);
                if ((r = str_field(v, "id", w, &id, &idlen, d)) < 0)
                        return r;
                if (idlen == 0 || idlen >= sizeof(m->id))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "dcap: %s: \"id\" is not 1..%zu characters", w,
                                           sizeof(m->id) - 1);
                for (size_t k = 0; k < i; k++)
                        if (strcasecmp(t->modules[k].id, id) == 0)
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "dcap: tcb_info: module identity \"%s\" appears "
                                                   "twice",
                                                   id);
                memcpy(m->id, id, idlen + 1);
                if ((r = module_fields(v, w, m, d)) < 0 ||
                    (r = isv_levels(c, v, w, &m->levels, &m->n_levels, d)) < 0)
                        return r;
                t->n_modules = i + 1;
        }
        return 0;
}

static int parse_tcb_info(struct vt_dcap_collateral *c, const json_t *ti, struct vt_diag *d)
{
        struct vt_dcap_tcb_info *t = &c->tcb;
        const char *id;
        const json_t *a, *v;
        int64_t x;
        size_t i, n;
        char w[WHERE_MAX];
        int r;
        if (!json_is_object(ti))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: tcb_info is not a JSON object");
        if ((r = str_field(ti, "id", "tcb_info", &id, NULL, d)) < 0)
                return r;
        if (strcmp(id, "TDX") == 0)
                t->tdx = true;
        else if (strcmp(id, "SGX") != 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "dcap: tcb_info: id \"%.16s\" is neither SGX nor TDX", id);
        if ((r = int_field(ti, "version", "tcb_info", 0, UINT32_MAX, &x, d)) < 0)
                return r;
        if (x != 3)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: tcb_info: version %lld is not supported (only 3, PCS API "
                                   "v4)",
                                   (long long)x);
        t->version = (uint32_t)x;
        if ((r = time_field(ti, "issueDate", "tcb_info", &t->issue_date, d)) < 0 ||
            (r = time_field(ti, "nextUpdate", "tcb_info", &t->next_update, d)) < 0)
                return r;
        if (t->next_update < t->issue_date)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "dcap: tcb_info: nextUpdate is before issueDate");
        if ((r = hex_field(ti, "fmspc", "tcb_info", t->fmspc, 6, d)) < 0 ||
            (r = hex_field(ti, "pceId", "tcb_info", t->pce_id, 2, d)) < 0 ||
            (r = int_field(ti, "tcbType", "tcb_info", 0, UINT32_MAX, &x, d)) < 0)
                return r;
        if (x != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: tcb_info: tcbType %lld is not supported (only 0)",
                                   (long long)x);
        t->tcb_type = 0;
        if ((r = int_field(ti, "tcbEvaluationDataNumber", "tcb_info", 0, UINT32_MAX, &x, d)) < 0)
                return r;
        t->eval_number = (uint32_t)x;
        if (t->tdx && (r = tdx_modules(c, ti, d)) < 0)
                return r;
        if ((r = array_field(ti, "tcbLevels", "tcb_info", 1, VT_DCAP_COLL_MAX_LEVELS, &a, d)) < 0)
                return r;
        n = json_array_size(a);
        t->levels = calloc(n, sizeof(*t->levels));
        if (!t->levels)
                return VT_E_NOMEM;
        json_array_foreach (a, i, v) {
                where_fmt(w, "tcb_info.tcbLevels[%zu]", i);
                if ((r = tcb_level(c, v, w, t->tdx, &t->levels[i], d)) < 0)
                        return r;
                t->n_levels = i + 1;
        }
        /* sorted here, never trusted to arrive sorted (stable: equal levels keep JSON order) */
        for (i = 1; i < n; i++) {
                struct vt_dcap_tcb_level l = t->levels[i];
                size_t k = i;
                for (; k > 0 && level_cmp(&t->levels[k - 1], &l) < 0; k--)
                        t->levels[k] = t->levels[k - 1];
                t->levels[k] = l;
        }
        return 0;
}

static int parse_qe_identity(struct vt_dcap_collateral *c, const json_t *ei, struct vt_diag *d)
{
        struct vt_dcap_qe_identity *q = &c->qe;
        const char *id;
        int64_t x;
        int r;
        if (!json_is_object(ei))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: qe_identity is not a JSON object");
        if ((r = str_field(ei, "id", "qe_identity", &id, NULL, d)) < 0)
                return r;
        if (strcmp(id, "QE") == 0)
                q->id = VT_DCAP_ID_QE;
        else if (strcmp(id, "QVE") == 0)
                q->id = VT_DCAP_ID_QVE;
        else if (strcmp(id, "TD_QE") == 0)
                q->id = VT_DCAP_ID_TD_QE;
        else
                return vt_diag_set(d, VT_E_FORMAT,
                                   "dcap: qe_identity: id \"%.16s\" is not QE, QVE or TD_QE", id);
        if ((r = int_field(ei, "version", "qe_identity", 0, UINT32_MAX, &x, d)) < 0)
                return r;
        if (x != 2)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "dcap: qe_identity: version %lld is not supported (only 2)",
                                   (long long)x);
        q->version = 2;
        if ((r = time_field(ei, "issueDate", "qe_identity", &q->issue_date, d)) < 0 ||
            (r = time_field(ei, "nextUpdate", "qe_identity", &q->next_update, d)) < 0)
                return r;
        if (q->next_update < q->issue_date)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "dcap: qe_identity: nextUpdate is before issueDate");
        if ((r = int_field(ei, "tcbEvaluationDataNumber", "qe_identity", 0, UINT32_MAX, &x, d)) < 0)
                return r;
        q->eval_number = (uint32_t)x;
        if ((r = hex_field(ei, "miscselect", "qe_identity", q->miscselect, 4, d)) < 0 ||
            (r = hex_field(ei, "miscselectMask", "qe_identity", q->miscselect_mask, 4, d)) < 0 ||
            (r = hex_field(ei, "attributes", "qe_identity", q->attributes, 16, d)) < 0 ||
            (r = hex_field(ei, "attributesMask", "qe_identity", q->attributes_mask, 16, d)) < 0 ||
            (r = hex_field(ei, "mrsigner", "qe_identity", q->mrsigner, 32, d)) < 0 ||
            (r = int_field(ei, "isvprodid", "qe_identity", 0, 65535, &x, d)) < 0)
                return r;
        q->isvprodid = (uint16_t)x;
        return isv_levels(c, ei, "qe_identity", &q->levels, &q->n_levels, d);
}

/* Parses one signed body: a copy of its exact bytes is kept for the signature check. */
static int parse_body(struct vt_dcap_collateral *c, const char *raw, size_t len, bool tcb,
                      struct vt_diag *d)
{
        const char *what = tcb ? "tcb_info" : "qe_identity";
        json_error_t jerr;
        if (!raw || len == 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s is empty", what);
        if (len > VT_DCAP_COLL_MAX_BODY)
                return vt_diag_set(d, VT_E_LIMIT, "dcap: %s is larger than %u bytes", what,
                                   VT_DCAP_COLL_MAX_BODY);
        /* duplicate keys are refused: two parsers must not read different values from the
         * same signed bytes */
        json_auto_t *j = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: not JSON: %s (offset %d)", what,
                                   jerr.text, jerr.position);
        char *copy = malloc(len + 1);
        if (!copy)
                return VT_E_NOMEM;
        memcpy(copy, raw, len);
        copy[len] = 0;
        if (tcb) {
                c->tcb_info_raw = copy;
                c->tcb_info_len = len;
                return parse_tcb_info(c, j, d);
        }
        c->qe_identity_raw = copy;
        c->qe_identity_len = len;
        return parse_qe_identity(c, j, d);
}

/* ---- certificates and CRLs ---- */

static bool is_space(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool all_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                      (s[i] >= 'A' && s[i] <= 'F')))
                        return false;
        return n > 0 && n % 2 == 0;
}

static bool starts_pem(const char *s, size_t n)
{
        return n >= 10 && memcmp(s, "-----BEGIN", 10) == 0;
}

/* Decodes n hex digits (all_hex) into a new buffer. */
static uint8_t *unhex(const char *s, size_t n)
{
        char *z = malloc(n + 1);
        uint8_t *out = malloc(n / 2 + 1);
        if (!z || !out) {
                free(z);
                free(out);
                return NULL;
        }
        memcpy(z, s, n);
        z[n] = 0;
        if (vt_hex_decode(z, out, n / 2) != (int)(n / 2)) {
                free(out);
                out = NULL;
        }
        free(z);
        return out;
}

/* A CRL given as hex of DER (the QuoteCollateralV3 form; PCCS rootcacrl), PEM (what PCS
 * returns by default) or hex of either (a PCCS hex body hex-encoded once more). */
static int crl_from_string(const char *s, size_t n, const char *what, X509_CRL **ret,
                           struct vt_diag *d)
{
        while (n > 0 && is_space(*s))
                s++, n--;
        while (n > 0 && is_space(s[n - 1]))
                n--;
        if (starts_pem(s, n)) {
                if (n > 2 * VT_DCAP_COLL_MAX_CRL)
                        return vt_diag_set(d, VT_E_LIMIT, "dcap: %s is too large", what);
                if (vt_crl_parse((const uint8_t *)s, n, ret) < 0)
                        return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: not a PEM CRL", what);
                return 0;
        }
        if (!all_hex(s, n))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s is neither hex DER nor PEM", what);
        if (n / 2 > 2 * VT_DCAP_COLL_MAX_CRL)
                return vt_diag_set(d, VT_E_LIMIT, "dcap: %s is too large", what);
        _cleanup_free_ uint8_t *bin = unhex(s, n);
        size_t len = n / 2;
        if (!bin)
                return VT_E_NOMEM;
        if (starts_pem((const char *)bin, len) || all_hex((const char *)bin, len)) {
                /* hex of a text form: one more level, never more */
                if (starts_pem((const char *)bin, len)) {
                        if (vt_crl_parse(bin, len, ret) < 0)
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "dcap: %s: hex of something that is not a PEM "
                                                   "CRL",
                                                   what);
                        return 0;
                }
                uint8_t *der = unhex((const char *)bin, len);
                if (!der)
                        return VT_E_NOMEM;
                free(bin);
                bin = der;
                len /= 2;
        }
        if (len > VT_DCAP_COLL_MAX_CRL)
                return vt_diag_set(d, VT_E_LIMIT, "dcap: %s is larger than %u bytes", what,
                                   VT_DCAP_COLL_MAX_CRL);
        if (vt_crl_parse(bin, len, ret) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: not a DER CRL", what);
        return 0;
}

static int chain_from_string(const char *s, size_t n, const char *what, STACK_OF(X509) * *ret,
                             struct vt_diag *d)
{
        if (n > VT_DCAP_COLL_MAX_CHAIN)
                return vt_diag_set(d, VT_E_LIMIT, "dcap: %s is larger than %u bytes", what,
                                   VT_DCAP_COLL_MAX_CHAIN);
        if (!starts_pem(s, n) || vt_x509_parse_many((const uint8_t *)s, n, ret) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s is not a PEM certificate chain", what);
        return 0;
}

static int sig_from_string(const char *s, size_t n, const char *what, uint8_t out[64],
                           struct vt_diag *d)
{
        if (n != 128 || vt_hex_decode(s, out, 64) != 64)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "dcap: %s is not 128 hex digits (r||s of ECDSA P-256)", what);
        return 0;
}

/* ---- the collateral object ---- */

static struct vt_dcap_collateral *collateral_new(void)
{
        struct vt_dcap_collateral *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        if (pthread_mutex_init(&c->lock, NULL) != 0) {
                free(c);
                return NULL;
        }
        return c;
}

void vt_dcap_collateral_free(struct vt_dcap_collateral *c)
{
        if (!c)
                return;
        free(c->tcb_info_raw);
        free(c->qe_identity_raw);
        if (c->pck_crl_chain)
                sk_X509_pop_free(c->pck_crl_chain, X509_free);
        if (c->tcb_info_chain)
                sk_X509_pop_free(c->tcb_info_chain, X509_free);
        if (c->qe_identity_chain)
                sk_X509_pop_free(c->qe_identity_chain, X509_free);
        X509_CRL_free(c->root_crl);
        X509_CRL_free(c->pck_crl);
        for (size_t i = 0; i < c->tcb.n_modules; i++)
                free(c->tcb.modules[i].levels);
        free(c->tcb.modules);
        free(c->tcb.levels);
        free(c->qe.levels);
        free(c->adv);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_dcap_collateral *, vt_dcap_collateral_free)

int vt_dcap_collateral_parse_bodies(const char *tcb_info, size_t tcb_len, const char *qe_identity,
                                    size_t qe_len, struct vt_dcap_collateral **ret,
                                    struct vt_diag *d)
{
        _cleanup_(vt_dcap_collateral_freep) struct vt_dcap_collateral *c = NULL;
        int r;
        if (!ret)
                return VT_E_INVAL;
        c = collateral_new();
        if (!c)
                return VT_E_NOMEM;
        if ((r = parse_body(c, tcb_info, tcb_len, true, d)) < 0 ||
            (r = parse_body(c, qe_identity, qe_len, false, d)) < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int vt_dcap_collateral_parse(const char *json, size_t len, struct vt_dcap_collateral **ret,
                             struct vt_diag *d)
{
        static const char *const keys[] = {
                "pck_crl_issuer_chain",     "root_ca_crl", "pck_crl",
                "tcb_info_issuer_chain",    "tcb_info",    "tcb_info_signature",
                "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature",
        };
        const char *v[ELEMENTSOF(keys)];
        size_t n[ELEMENTSOF(keys)];
        json_error_t jerr;
        int r;
        if (!json || !ret)
                return VT_E_INVAL;
        if (len > VT_DCAP_COLL_MAX_JSON)
                return vt_diag_set(d, VT_E_LIMIT, "dcap: collateral is larger than %u bytes",
                                   VT_DCAP_COLL_MAX_JSON);
        json_auto_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: collateral: not JSON: %s (offset %d)",
                                   jerr.text, jerr.position);
        if (!json_is_object(j))
                return vt_diag_set(d, VT_E_FORMAT, "dcap: collateral is not a JSON object");
        /* Unknown keys are ignored (newer dcap-qvl versions add optional ones); nothing
         * outside the signed bodies is trusted anyway. */
        if (json_object_size(j) > VT_DCAP_COLL_MAX_KEYS)
                return vt_diag_set(d, VT_E_LIMIT, "dcap: collateral has more than %u keys",
                                   VT_DCAP_COLL_MAX_KEYS);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if ((r = str_field(j, keys[i], "collateral", &v[i], &n[i], d)) < 0)
                        return r;

        _cleanup_(vt_dcap_collateral_freep) struct vt_dcap_collateral *c = collateral_new();
        if (!c)
                return VT_E_NOMEM;
        /* the bodies first: they are the most structured input */
        if ((r = parse_body(c, v[4], n[4], true, d)) < 0 ||
            (r = parse_body(c, v[7], n[7], false, d)) < 0 ||
            (r = sig_from_string(v[5], n[5], "tcb_info_signature", c->tcb_info_sig, d)) < 0 ||
            (r = sig_from_string(v[8], n[8], "qe_identity_signature", c->qe_identity_sig, d)) < 0 ||
            (r = chain_from_string(v[0], n[0], "pck_crl_issuer_chain", &c->pck_crl_chain, d)) < 0 ||
            (r = chain_from_string(v[3], n[3], "tcb_info_issuer_chain", &c->tcb_info_chain, d)) <
                    0 ||
            (r = chain_from_string(v[6], n[6], "qe_identity_issuer_chain", &c->qe_identity_chain,
                                   d)) < 0 ||
            (r = crl_from_string(v[1], n[1], "root_ca_crl", &c->root_crl, d)) < 0 ||
            (r = crl_from_string(v[2], n[2], "pck_crl", &c->pck_crl, d)) < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

X509_CRL *vt_dcap_collateral_root_crl(const struct vt_dcap_collateral *c)
{
        return c ? c->root_crl : NULL;
}

X509_CRL *vt_dcap_collateral_pck_crl(const struct vt_dcap_collateral *c)
{
        return c ? c->pck_crl : NULL;
}

/* ---- verification ---- */

bool vt_intel_root_is_pinned(X509 *x)
{
        uint8_t want[64], got[64];
        EVP_PKEY *k = x ? X509_get0_pubkey(x) : NULL;
        bool ok =
                k && vt_ec_curve_nid(k) == NID_X9_62_prime256v1 &&
                vt_ec_public_xy(k, vt_jwk_curve_named("P-256"), got, got + 32) == 0 &&
                vt_hex_decode(VT_INTEL_ROOT_SPKI_XY_HEX, want, sizeof(want)) == (int)sizeof(want) &&
                memcmp(want, got, sizeof(want)) == 0;
        ERR_clear_error();
        return ok;
}

static void fmt_time(int64_t t, char buf[21])
{
        vt_time_format_rfc3339(t, buf);
}

/* An issuer chain: exactly [issuer, Intel SGX Root CA], the root pinned by key, the issuer
 * one of the expected names, signed by the root with ECDSA-SHA256, with a P-256 key. */
static int check_chain(STACK_OF(X509) * sk, const char *what, const char *cn1, const char *cn2,
                       struct vt_diag *d)
{
        char cn[96];
        if (!sk || sk_X509_num(sk) != 2)
                return vt_diag_set(d, VT_E_CHAIN,
                                   "dcap: %s: expected 2 certificates (issuer, Intel SGX Root CA), "
                                   "got %d",
                                   what, sk ? sk_X509_num(sk) : 0);
        X509 *inter = sk_X509_value(sk, 0), *root = sk_X509_value(sk, 1);
        if (!vt_intel_root_is_pinned(root))
                return vt_diag_set(d, VT_E_CHAIN,
                                   "dcap: %s: root CA not pinned (synthetic?): its key is not the "
                                   "Intel SGX Root CA key",
                                   what);
        vt_x509_subject_cn(inter, cn, sizeof(cn));
        if (strcmp(cn, cn1) != 0 && (!cn2 || strcmp(cn, cn2) != 0))
                return vt_diag_set(d, VT_E_CHAIN, "dcap: %s: certificate \"%s\" is not %s%s%s",
                                   what, cn, cn1, cn2 ? " or " : "", cn2 ? cn2 : "");
        EVP_PKEY *ik = X509_get0_pubkey(inter);
        if (X509_NAME_cmp(X509_get_issuer_name(inter), X509_get_subject_name(root)) != 0 ||
            X509_get_signature_nid(inter) != NID_ecdsa_with_SHA256 ||
            X509_verify(inter, X509_get0_pubkey(root)) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CHAIN,
                                   "dcap: %s: \"%s\" is not signed by the Intel SGX Root CA", what,
                                   cn);
        }
        if (!ik || vt_ec_curve_nid(ik) != NID_X9_62_prime256v1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CHAIN, "dcap: %s: \"%s\" does not have a P-256 key",
                                   what, cn);
        }
        return 0;
}

static int check_crl(X509_CRL *crl, X509 *issuer, const char *what, struct vt_diag *d)
{
        char cn[96];
        vt_x509_subject_cn(issuer, cn, sizeof(cn));
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
                return vt_diag_set(d, VT_E_CHAIN, "dcap: %s: not issued by \"%s\"", what, cn);
        if (X509_CRL_get_signature_nid(crl) != NID_ecdsa_with_SHA256 ||
            X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "dcap: %s: signature does not verify with the key of \"%s\"",
                                   what, cn);
        }
        return 0;
}

static int not_revoked(X509_CRL *root_crl, STACK_OF(X509) * sk, const char *what, struct vt_diag *d)
{
        X509_REVOKED *rev = NULL;
        X509 *inter = sk_X509_value(sk, 0);
        char cn[96];
        if (X509_CRL_get0_by_cert(root_crl, &rev, inter) == 1) {
                vt_x509_subject_cn(inter, cn, sizeof(cn));
                return vt_diag_set(d, VT_E_REVOKED,
                                   "dcap: %s: \"%s\" is revoked by the root CA CRL", what, cn);
        }
        return 0;
}

static int check_body_sig(const char *raw, size_t len, const uint8_t sig[64], X509 *signer,
                          const char *what, struct vt_diag *d)
{
        uint8_t dg[32];
        if (!EVP_Digest(raw, len, dg, NULL, EVP_sha256(), NULL))
                return VT_E_CRYPTO;
        int r = vt_ecdsa_verify_rs(X509_get0_pubkey(signer), dg, sizeof(dg), sig, sig + 32, 32);
        if (r == VT_E_NOMEM)
                return r;
        if (r < 0)
                return vt_diag_set(
                        d, VT_E_SIGNATURE,
                        "dcap: %s: signature does not verify (ECDSA P-256 over the exact "
                        "bytes, TCB Signing key)",
                        what);
        return 0;
}

/* Everything that does not depend on the time: run once per collateral. */
static int check_static(const struct vt_dcap_collateral *c, struct vt_diag *d)
{
        static const char tcb_cn[] = "Intel SGX TCB Signing";
        int r;
        if (!c->pck_crl_chain || !c->tcb_info_chain || !c->qe_identity_chain || !c->root_crl ||
            !c->pck_crl)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "dcap: collateral has no issuer chains or CRLs");
        if ((r = check_chain(c->tcb_info_chain, "tcb_info_issuer_chain", tcb_cn, NULL, d)) < 0 ||
            (r = check_chain(c->qe_identity_chain, "qe_identity_issuer_chain", tcb_cn, NULL, d)) <
                    0 ||
            (r = check_chain(c->pck_crl_chain, "pck_crl_issuer_chain", "Intel SGX PCK Platform CA",
                             "Intel SGX PCK Processor CA", d)) < 0)
                return r;
        /* the root CRL is signed by the (pinned) root */
        if ((r = check_crl(c->root_crl, sk_X509_value(c->pck_crl_chain, 1), "root_ca_crl", d)) < 0)
                return r;
        if ((r = not_revoked(c->root_crl, c->tcb_info_chain, "tcb_info_issuer_chain", d)) < 0 ||
            (r = not_revoked(c->root_crl, c->qe_identity_chain, "qe_identity_issuer_chain", d)) <
                    0 ||
            (r = not_revoked(c->root_crl, c->pck_crl_chain, "pck_crl_issuer_chain", d)) < 0)
                return r;
        /* the PCK CRL is signed by the PCK CA of its chain */
        if ((r = check_crl(c->pck_crl, sk_X509_value(c->pck_crl_chain, 0), "pck_crl", d)) < 0)
                return r;
        if ((r = check_body_sig(c->tcb_info_raw, c->tcb_info_len, c->tcb_info_sig,
                                sk_X509_value(c->tcb_info_chain, 0), "tcb_info", d)) < 0 ||
            (r = check_body_sig(c->qe_identity_raw, c->qe_identity_len, c->qe_identity_sig,
                                sk_X509_value(c->qe_identity_chain, 0), "qe_identity", d)) < 0)
                return r;
        return 0;
}

static int check_cert_windows(STACK_OF(X509) * sk, const char *what, int64_t at, int64_t *earliest,
                              struct vt_diag *d)
{
        for (int i = 0; i < sk_X509_num(sk); i++) {
                X509 *x = sk_X509_value(sk, i);
                int64_t nb, na;
                char cn[96], t[21];
                vt_x509_subject_cn(x, cn, sizeof(cn));
                if (vt_x509_window(x, &nb, &na) < 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "dcap: %s: \"%s\" has an unreadable validity", what, cn);
                if (at < nb) {
                        fmt_time(nb, t);
                        return vt_diag_set(d, VT_E_EXPIRED,
                                           "dcap: %s: \"%s\" is not yet valid (not before %s)",
                                           what, cn, t);
                }
                if (at > na) {
                        fmt_time(na, t);
                        return vt_diag_set(d, VT_E_EXPIRED, "dcap: %s: \"%s\" expired at %s", what,
                                           cn, t);
                }
                if (na < *earliest)
                        *earliest = na;
        }
        return 0;
}

static int check_crl_window(X509_CRL *crl, const char *what, int64_t at, int64_t *earliest,
                            struct vt_diag *d)
{
        const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
        int64_t tu, nx;
        char t[21];
        if (vt_asn1_time_epoch(X509_CRL_get0_lastUpdate(crl), &tu) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: unreadable thisUpdate", what);
        if (!nu || vt_asn1_time_epoch(nu, &nx) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: %s: no readable nextUpdate", what);
        if (at < tu) {
                fmt_time(tu, t);
                return vt_diag_set(d, VT_E_EXPIRED,
                                   "dcap: %s: not yet valid: this update %s is in the future", what,
                                   t);
        }
        if (at > nx) {
                fmt_time(nx, t);
                return vt_diag_set(d, VT_E_EXPIRED, "dcap: %s: expired: next update %s has passed",
                                   what, t);
        }
        if (nx < *earliest)
                *earliest = nx;
        return 0;
}

static int check_body_window(int64_t issue, int64_t next, const char *what, int64_t at,
                             int64_t *earliest, struct vt_diag *d)
{
        char t[21];
        if (at < issue) {
                fmt_time(issue, t);
                return vt_diag_set(d, VT_E_EXPIRED, "dcap: %s: issue date %s is in the future",
                                   what, t);
        }
        if (at > next) {
                fmt_time(next, t);
                return vt_diag_set(d, VT_E_EXPIRED, "dcap: %s: next update %s has passed", what, t);
        }
        if (next < *earliest)
                *earliest = next;
        return 0;
}

int vt_dcap_collateral_verify(const struct vt_dcap_collateral *c, int64_t at,
                              int64_t *ret_earliest_expiry, struct vt_diag *d)
{
        /* the memo fields are the only ones written; the collateral is heap-allocated */
        struct vt_dcap_collateral *m = (struct vt_dcap_collateral *)c;
        int64_t earliest = INT64_MAX;
        int r;
        if (!c)
                return VT_E_INVAL;
        pthread_mutex_lock(&m->lock);
        if (!m->checked) {
                struct vt_diag ld = {0};
                m->check_err = check_static(c, &ld);
                if (m->check_err < 0 && !ld.msg[0])
                        snprintf(ld.msg, sizeof(ld.msg), "dcap: collateral: %s",
                                 vt_strerror(m->check_err));
                memcpy(m->check_msg, ld.msg, sizeof(m->check_msg));
                /* running out of memory is not a property of the collateral: try again */
                m->checked = m->check_err != VT_E_NOMEM && m->check_err != VT_E_CRYPTO;
                r = m->check_err;
        } else {
                r = m->check_err;
        }
        if (r < 0) {
                char msg[sizeof(m->check_msg)];
                memcpy(msg, m->check_msg, sizeof(msg));
                pthread_mutex_unlock(&m->lock);
                return vt_diag_set(d, r, "%s", msg);
        }
        pthread_mutex_unlock(&m->lock);

        if ((r = check_cert_windows(c->tcb_info_chain, "tcb_info_issuer_chain", at, &earliest, d)) <
                    0 ||
            (r = check_cert_windows(c->qe_identity_chain, "qe_identity_issuer_chain", at, &earliest,
                                    d)) < 0 ||
            (r = check_cert_windows(c->pck_crl_chain, "pck_crl_issuer_chain", at, &earliest, d)) <
                    0 ||
            (r = check_crl_window(c->root_crl, "root_ca_crl", at, &earliest, d)) < 0 ||
            (r = check_crl_window(c->pck_crl, "pck_crl", at, &earliest, d)) < 0 ||
            (r = check_body_window(c->tcb.issue_date, c->tcb.next_update, "tcb_info", at, &earliest,
                                   d)) < 0 ||
            (r = check_body_window(c->qe.issue_date, c->qe.next_update, "qe_identity", at,
                                   &earliest, d)) < 0)
                return r;
        if (ret_earliest_expiry)
                *ret_earliest_expiry = earliest;
        return 0;
}
