/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Appraisal policy for DCAP quotes (docs/dcap.md): accepted TCB statuses (default
 * UpToDate only), debug (default refused), SEPT_VE_DISABLE, MRSERVICETD, and reference
 * lists for TDX (mr_td, mr_config_id, rtmr_0..3) and SGX (mr_enclave, mr_signer,
 * isv_prod_id, minimum isv_svn). Unknown keys are errors.
 */
#include <string.h>

#include "util/hex.h"
#include "util/json.h"
#include "veritee/dcap.h"

#define MAX_LIST 64

/* The TCB status names, as Intel spells them, are the vocabulary of accepted_tcb_statuses:
 * they live here, and lib/verify names a status through them (verify may use policy; policy
 * never uses verify, see docs/ARCHITECTURE.md). */
static const char *const status_names[_VT_TCB_STATUS_MAX] = {
        [VT_TCB_UP_TO_DATE] = "UpToDate",
        [VT_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
        [VT_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
        [VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
        [VT_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
        [VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
        [VT_TCB_OUT_OF_DATE] = "OutOfDate",
        [VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
        [VT_TCB_REVOKED] = "Revoked",
};

const char *vt_tcb_status_name(enum vt_tcb_status s)
{
        return (unsigned)s < _VT_TCB_STATUS_MAX ? status_names[s] : "unknown";
}

int vt_tcb_status_from_name(const char *name, enum vt_tcb_status *ret)
{
        for (int i = 0; name && i < _VT_TCB_STATUS_MAX; i++)
                if (strcmp(name, status_names[i]) == 0) {
                        *ret = (enum vt_tcb_status)i;
                        return 0;
                }
        return VT_E_NOTFOUND;
}

struct list {
        size_t n, len;
        uint8_t v[MAX_LIST][48];
};

struct vt_dcap_policy {
        unsigned accepted;
        bool debug_allowed, sept_ve_disable_required, mr_service_td_allowed;
        struct list mr_td, mr_config_id, rtmr[4], mr_enclave, mr_signer;
        int isv_prod_id; /* -1: any */
        int min_isv_svn; /* -1: any */
        int64_t max_age; /* seconds; 0: no limit */
};

void vt_dcap_policy_free(struct vt_dcap_policy *p)
{
        free(p);
}

static int get_list(json_t *v, const char *k, size_t len, struct list *out, struct vt_diag *d)
{
        size_t i;
        json_t *x;
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_LIST)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "dcap policy: %s must be a list of 1..%d hex values", k,
                                   MAX_LIST);
        json_array_foreach (v, i, x) {
                const char *s = json_string_value(x);
                if (!s || strlen(s) != 2 * len || vt_hex_decode(s, out->v[i], 48) != (int)len)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "dcap policy: %s values must be %zu bytes of hex", k,
                                           len);
        }
        out->n = json_array_size(v);
        out->len = len;
        return 0;
}

int vt_dcap_policy_parse(const char *json, size_t len, struct vt_dcap_policy **ret,
                         struct vt_diag *d)
{
        json_error_t je;
        const char *k;
        json_t *v;
        int e = 0;
        if (!json || len > 256u * 1024u)
                return vt_diag_set(d, VT_E_LIMIT, "dcap policy: larger than 256 KiB");
        json_auto_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(root))
                return vt_diag_set(d, VT_E_FORMAT, "dcap policy: not a JSON object (line %d)",
                                   je.line);
        struct vt_dcap_policy *p = calloc(1, sizeof(*p));
        if (!p)
                return VT_E_NOMEM;
        p->isv_prod_id = -1;
        p->min_isv_svn = -1;
        json_object_foreach (root, k, v) {
                if (strcmp(k, "accepted_tcb_statuses") == 0) {
                        size_t i;
                        json_t *x;
                        if (!json_is_array(v) || json_array_size(v) == 0)
                                e = vt_diag_set(d, VT_E_FORMAT,
                                                "dcap policy: accepted_tcb_statuses must be a "
                                                "non-empty list");
                        json_array_foreach (v, i, x) {
                                enum vt_tcb_status st;
                                if (e == 0 &&
                                    vt_tcb_status_from_name(json_string_value(x), &st) < 0)
                                        e = vt_diag_set(d, VT_E_FORMAT,
                                                        "dcap policy: unknown TCB status %s",
                                                        json_string_value(x) ? json_string_value(x)
                                                                             : "(not a string)");
                                else if (e == 0)
                                        p->accepted |= 1u << st;
                        }
                } else if (strcmp(k, "debug_allowed") == 0 ||
                           strcmp(k, "sept_ve_disable_required") == 0 ||
                           strcmp(k, "mr_service_td_allowed") == 0) {
                        bool *b = k[0] == 'd'   ? &p->debug_allowed
                                  : k[0] == 's' ? &p->sept_ve_disable_required
                                                : &p->mr_service_td_allowed;
                        if (!json_is_boolean(v))
                                e = vt_diag_set(d, VT_E_FORMAT,
                                                "dcap policy: %s must be true or false", k);
                        *b = json_is_true(v);
                } else if (strcmp(k, "mr_td") == 0) {
                        e = get_list(v, k, 48, &p->mr_td, d);
                } else if (strcmp(k, "mr_config_id") == 0) {
                        e = get_list(v, k, 48, &p->mr_config_id, d);
                } else if (strncmp(k, "rtmr_", 5) == 0 && k[5] >= '0' && k[5] <= '3' && k[6] == 0) {
                        e = get_list(v, k, 48, &p->rtmr[k[5] - '0'], d);
                } else if (strcmp(k, "mr_enclave") == 0) {
                        e = get_list(v, k, 32, &p->mr_enclave, d);
                } else if (strcmp(k, "mr_signer") == 0) {
                        e = get_list(v, k, 32, &p->mr_signer, d);
                } else if (strcmp(k, "isv_prod_id") == 0 || strcmp(k, "minimum_isv_svn") == 0) {
                        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                            json_integer_value(v) > 65535)
                                e = vt_diag_set(d, VT_E_FORMAT,
                                                "dcap policy: %s must be an integer 0..65535", k);
                        else if (k[0] == 'i')
                                p->isv_prod_id = (int)json_integer_value(v);
                        else
                                p->min_isv_svn = (int)json_integer_value(v);
                } else if (strcmp(k, "max_collateral_age_days") == 0) {
                        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                            json_integer_value(v) > 3650)
                                e = vt_diag_set(d, VT_E_FORMAT,
                                                "dcap policy: %s must be an integer 1..3650", k);
                        else
                                p->max_age = (int64_t)json_integer_value(v) * 86400;
                } else {
                        e = vt_diag_set(d, VT_E_FORMAT, "dcap policy: unknown key \"%s\"", k);
                }
                if (e < 0) {
                        free(p);
                        return e;
                }
        }
        *ret = p;
        return 0;
}

static int in_list(const struct list *l, const uint8_t *have, const char *field, struct vt_diag *d)
{
        char h[97];
        if (l->n == 0)
                return 0;
        for (size_t i = 0; i < l->n; i++)
                if (memcmp(l->v[i], have, l->len) == 0)
                        return 0;
        vt_hex_encode(have, l->len, h);
        return vt_diag_set(d, VT_E_POLICY, "dcap: %s %s is not one of the %zu allowed values",
                           field, h, l->n);
}

unsigned vt_dcap_policy_statuses(const struct vt_dcap_policy *p)
{
        return p && p->accepted ? p->accepted : 1u << VT_TCB_UP_TO_DATE;
}

int vt_dcap_policy_check(const struct vt_dcap_policy *p, const struct vt_dcap_quote *q,
                         struct vt_diag *d)
{
        static const struct vt_dcap_policy defaults = {.isv_prod_id = -1, .min_isv_svn = -1};
        static const uint8_t zero48[48];
        int e;
        if (!p)
                p = &defaults;
        if (q->body_type == VT_DCAP_BODY_SGX) {
                const struct vt_sgx_report_body *b = &q->sgx;
                if (!p->debug_allowed && (b->attributes[0] & 2))
                        return vt_diag_set(d, VT_E_POLICY,
                                           "sgx: the enclave is in debug mode (attributes.DEBUG)");
                if ((e = in_list(&p->mr_enclave, b->mr_enclave, "mr_enclave", d)) < 0 ||
                    (e = in_list(&p->mr_signer, b->mr_signer, "mr_signer", d)) < 0)
                        return e;
                if (p->isv_prod_id >= 0 && b->isv_prod_id != p->isv_prod_id)
                        return vt_diag_set(d, VT_E_POLICY, "sgx: isv_prod_id %u, expected %d",
                                           b->isv_prod_id, p->isv_prod_id);
                if (p->min_isv_svn >= 0 && b->isv_svn < p->min_isv_svn)
                        return vt_diag_set(d, VT_E_POLICY, "sgx: isv_svn %u < minimum %d",
                                           b->isv_svn, p->min_isv_svn);
                return 0;
        }
        const struct vt_td_report_body *b = &q->td;
        if (!p->debug_allowed && (b->td_attributes & 1))
                return vt_diag_set(d, VT_E_POLICY,
                                   "tdx: the TD is in debug mode (td_attributes.DEBUG)");
        if (p->sept_ve_disable_required && !(b->td_attributes & (1ull << 28)))
                return vt_diag_set(d, VT_E_POLICY, "tdx: td_attributes.SEPT_VE_DISABLE is not set");
        if (!p->mr_service_td_allowed && q->body_type == VT_DCAP_BODY_TD15 &&
            memcmp(b->mr_service_td, zero48, 48) != 0)
                return vt_diag_set(d, VT_E_POLICY,
                                   "tdx: MRSERVICETD is not zero (a service TD is bound)");
        if ((e = in_list(&p->mr_td, b->mr_td, "mr_td", d)) < 0 ||
            (e = in_list(&p->mr_config_id, b->mr_config_id, "mr_config_id", d)) < 0)
                return e;
        for (int i = 0; i < 4; i++) {
                char f[8] = "rtmr_0";
                f[5] = (char)('0' + i);
                if ((e = in_list(&p->rtmr[i], b->rtmr[i], f, d)) < 0)
                        return e;
        }
        return 0;
}

int vt_dcap_policy_check_collateral(const struct vt_dcap_policy *p, const struct vt_dcap_result *r,
                                    struct vt_diag *d)
{
        if (!r)
                return VT_E_INVAL;
        if (!p || !p->max_age || r->collateral_age <= p->max_age)
                return 0;
        return vt_diag_set(d, VT_E_EXPIRED,
                           "dcap: collateral is %.1f days old at the verification time "
                           "(TCB info or QE identity issueDate), more than "
                           "max_collateral_age_days %lld",
                           (double)r->collateral_age / 86400.0, (long long)(p->max_age / 86400));
}

bool vt_dcap_policy_has_references(const struct vt_dcap_policy *p)
{
        if (!p)
                return false;
        bool any = p->mr_td.n || p->mr_config_id.n || p->mr_enclave.n || p->mr_signer.n;
        for (int i = 0; i < 4; i++)
                any = any || p->rtmr[i].n;
        return any;
}

void vt_dcap_policy_appraise(const struct vt_dcap_policy *p, const struct vt_dcap_quote *q,
                             const struct vt_dcap_result *r, struct vt_ar4si *tv, struct vt_diag *d)
{
        struct vt_ar4si v = {.instance_identity = VT_AR4SI_AFFIRMING,
                             .runtime_opaque = VT_AR4SI_AFFIRMING};
        unsigned ok = vt_dcap_policy_statuses(p);
        v.hardware = r->status == VT_TCB_REVOKED ? VT_AR4SI_CONTRAINDICATED
                     : (ok & (1u << r->status))  ? VT_AR4SI_AFFIRMING
                                                 : VT_AR4SI_WARNING;
        if (v.hardware != VT_AR4SI_AFFIRMING)
                vt_diag_set(d, VT_E_TCB, "dcap: TCB status %s is not accepted",
                            vt_tcb_status_name(r->status));
        /* collateral older than the policy allows: the TCB status may be out of date */
        else if (vt_dcap_policy_check_collateral(p, r, d) < 0)
                v.hardware = VT_AR4SI_WARNING;
        v.configuration = vt_dcap_policy_check(p, q, d) < 0 ? VT_AR4SI_CONTRAINDICATED
                          : p                               ? VT_AR4SI_AFFIRMING
                                                            : VT_AR4SI_UNSUPPORTABLE_CONFIG;
        v.executables =
                !p ? VT_AR4SI_UNRECOGNIZED_RUNTIME
                : vt_dcap_policy_has_references(p)
                        ? (v.configuration == VT_AR4SI_CONTRAINDICATED ? VT_AR4SI_CONTRAINDICATED
                                                                       : VT_AR4SI_AFFIRMING)
                        : VT_AR4SI_UNRECOGNIZED_RUNTIME;
        if (!p)
                vt_diag_set(d, VT_E_POLICY, "dcap: no reference values for this tee");
        else if (v.executables == VT_AR4SI_UNRECOGNIZED_RUNTIME)
                vt_diag_set(d, VT_E_POLICY, "dcap: reference values name no measurement");
        *tv = v;
}
