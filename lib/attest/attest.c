/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TEE table and the one entry point. Every caller that turns evidence into a verdict
 * (the server's /kbs/v0/attest, `veritee verify`) goes through vt_attest, so that each
 * TEE's checks are written once.
 */
#include <string.h>

#include "attest/tee.h"
#include "util/json.h"
#include "util/macro.h"

/* The order is that of metrics and of the tee lists in messages. */
static const struct vt_tee_ops *const tees[] = {
        &vt_tee_snp,         &vt_tee_sim,         &vt_tee_tdx, &vt_tee_sgx,
        &vt_tee_az_snp_vtpm, &vt_tee_az_tdx_vtpm, &vt_tee_tpm, &vt_tee_sample,
};

_Static_assert(ELEMENTSOF(tees) == VT_ATTEST_N_TEES, "VT_ATTEST_N_TEES is the table's size");

/* Trustee's tees that veritee does not verify: known (a client gets "not accepted", not
 * "unknown") */
static const char *const trustee_other_tees[] = {"cca",    "csv",      "se",
                                                 "nvidia", "hygondcu", "sampledevice"};

const struct vt_tee_ops *vt_attest_tee_find(const char *tee)
{
        for (size_t i = 0; tee && i < ELEMENTSOF(tees); i++)
                if (strcmp(tee, tees[i]->name) == 0 ||
                    (tees[i]->alias && strcmp(tee, tees[i]->alias) == 0))
                        return tees[i];
        return NULL;
}

size_t vt_attest_tee_count(void)
{
        return ELEMENTSOF(tees);
}

const char *vt_attest_tee_name(size_t i)
{
        return i < ELEMENTSOF(tees) ? tees[i]->name : NULL;
}

bool vt_attest_tee_known(const char *tee)
{
        if (vt_attest_tee_find(tee))
                return true;
        for (size_t i = 0; tee && i < ELEMENTSOF(trustee_other_tees); i++)
                if (strcmp(tee, trustee_other_tees[i]) == 0)
                        return true;
        return false;
}

bool vt_attest_tee_accepted(const struct vt_attest_ctx *c, const char *tee, const char **ret_hint)
{
        const struct vt_tee_ops *t = vt_attest_tee_find(tee);
        bool ok = t && (!t->accepted || t->accepted(c));
        if (ret_hint)
                *ret_hint = !ok && t && t->refused_hint ? t->refused_hint : "";
        return ok;
}

void vt_attest_result_done(struct vt_attest_result *r)
{
        if (!r)
                return;
        json_decref(r->tee_claims);
        json_decref(r->init_data_claims);
        free(r->init_data_hex);
        memset(r, 0, sizeof(*r));
}

int vt_attest(const struct vt_attest_ctx *c, const char *tee, const json_t *evidence,
              const uint8_t report_data[64], const json_t *init_data, struct vt_attest_result *ret,
              struct vt_diag *d)
{
        const struct vt_tee_ops *t = vt_attest_tee_find(tee);
        if (!t || (t->accepted && !t->accepted(c)))
                return vt_diag_set(d, VT_E_UNSUPPORTED, "tee %s is not supported",
                                   tee ? tee : "(none)");
        /* the rows take a NULL expected value as authenticity only: never here */
        if (!report_data)
                return vt_diag_set(d, VT_E_INVAL, "%s: no expected report data to bind", t->name);
        struct vt_attest_result out = {.report_data_len = t->report_data_len};
        int e = t->attest(t, c, evidence, report_data, init_data, &out, d);
        if (e < 0) {
                vt_attest_result_done(&out);
                return e;
        }
        *ret = out;
        return 0;
}

int vt_attest_offline(const struct vt_attest_ctx *c, const char *tee,
                      const struct vt_attest_offline *off, struct vt_attest_result *ret,
                      struct vt_diag *d)
{
        const struct vt_tee_ops *t = vt_attest_tee_find(tee);
        if (!c || !off || !ret)
                return vt_diag_set(d, VT_E_INVAL,
                                   "attest: a context, evidence and a result are "
                                   "required");
        if (!t || !t->attest_offline || (t->accepted && !t->accepted(c)))
                return vt_diag_set(d, VT_E_UNSUPPORTED, "tee %s has no offline verification",
                                   tee ? tee : "(none)");
        struct vt_attest_result out = {.report_data_len = t->report_data_len};
        int e = t->attest_offline(t, c, off, &out, d);
        if (e < 0) {
                vt_attest_result_done(&out);
                return e;
        }
        *ret = out;
        return 0;
}
