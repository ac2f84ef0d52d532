/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tees az-snp-vtpm and az-tdx-vtpm (and their old spellings): Azure's vTPM evidence, a TPM
 * quote whose extraData is this session's 48-byte binding digest (Trustee compares it
 * exactly), signed by the vTPM's AK, which the HCL report of the SNP report or TD quote
 * vouches for. init-data is bound through PCR8 = SHA-256(0^32 || SHA-256(init-data)). The
 * appraisal is that of the SNP report (az-snp-vtpm) or the TD quote (az-tdx-vtpm).
 * tee_tpm.c uses the same verification for a bare TPM with a trusted AK.
 */
#include <stdio.h>
#include <string.h>

#include "attest/tee.h"
#include "util/json.h"
#include "util/macro.h"

int vt_tee_az_verify(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                     const json_t *evidence, const uint8_t digest[48], const json_t *init,
                     struct vt_attest_result *out, struct vt_az_result *res, struct vt_diag *d)
{
        enum vt_az_tee at;
        uint8_t init_dg[32];
        int e;
        if (vt_az_tee_from_name(t->name, &at) < 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "tee %s is not supported", t->name);
        if (init && !json_is_null(init)) {
                if ((e = vt_initdata_sha256(init, t->name, init_dg, d)) < 0)
                        return e;
                /* the format checks and the claims; the digest is compared with itself */
                if ((e = vt_initdata_check(init, init_dg, sizeof(init_dg), &out->init_data_hex,
                                           &out->init_data_claims, d)) < 0)
                        return e;
        }
        _cleanup_free_ char *txt = json_dumps(evidence, JSON_COMPACT);
        if (!txt)
                return VT_E_NOMEM;
        /* every TCB status is verified here; which ones are acceptable is appraisal */
        struct vt_dcap_policy_opts all = {.accepted_statuses = (1u << _VT_TCB_STATUS_MAX) - 1};
        struct vt_az_verify_opts o = {
                .report_data = digest,
                .report_data_len = 48,
                .init_data_digest = init && !json_is_null(init) ? init_dg : NULL,
                .at = c->now,
                .snp = c->snp_hw,
                .dcap = c->dcap,
                .dcap_opts = &all,
                .aks = c->tpm_aks,
        };
        if ((e = vt_az_verify(at, txt, strlen(txt), &o, res, d)) < 0)
                return e;
        _cleanup_free_ char *claims = NULL;
        if ((e = vt_az_claims_json(res, &claims)) < 0)
                return e;
        out->tee_claims = json_loads(claims, 0, NULL);
        return out->tee_claims ? 0 : VT_E_NOMEM;
}

void vt_attest_az_checks_text(unsigned checks, char *buf, size_t cap)
{
        static const char *const names[] = {"trusted AK",      "quote signature", "nonce",
                                            "PCR digest",      "HCL binding",     "user-data",
                                            "hardware report", "init-data"};
        size_t o = 0;
        if (!cap)
                return;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(names) && o < cap; i++)
                if (checks & (1u << i)) {
                        int k = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", names[i]);
                        if (k < 0)
                                break;
                        o += (size_t)k;
                }
}

/* passed_into_diag ends the reason of failure e in d with the checks that passed. */
static void passed_into_diag(int e, unsigned checks, struct vt_diag *d)
{
        char passed[160], msg[sizeof(d->msg)];
        if (!d)
                return;
        vt_attest_az_checks_text(checks, passed, sizeof(passed));
        if (!passed[0])
                return;
        /* the reason is cut, not the list of what passed */
        const char *why = d->msg[0] ? d->msg : vt_strerror(e);
        int room = (int)(sizeof(msg) - strlen(passed) - sizeof("; passed: "));
        if (snprintf(msg, sizeof(msg), "%.*s; passed: %s", room, why, passed) < 0)
                return;
        vt_diag_clear(d);
        vt_diag_set(d, e, "%s", msg);
}

int vt_tee_az_offline(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                      const struct vt_attest_offline *off, struct vt_attest_result *out,
                      struct vt_diag *d)
{
        enum vt_az_tee at;
        if (vt_az_tee_from_name(t->name, &at) < 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "tee %s is not supported", t->name);
        if (!off->report_data || !off->report_data_len)
                return vt_diag_set(d, VT_E_INVAL,
                                   "%s: the expected report data (the TPM quote's extraData) "
                                   "is required",
                                   t->name);
        struct vt_dcap_policy_opts po = {.accepted_statuses =
                                                 vt_dcap_policy_statuses(off->dcap_policy)};
        const struct vt_az_verify_opts o = {
                .report_data = off->report_data,
                .report_data_len = off->report_data_len,
                .init_data_digest = off->init_data_digest,
                .at = off->at,
                .snp = c->snp_hw,
                .snp_policy = off->snp_policy,
                .dcap = c->dcap,
                .collateral = off->dcap_collateral,
                .dcap_opts = &po,
                .aks = c->tpm_aks,
        };
        struct vt_az_result res;
        memset(&res, 0, sizeof(res));
        int e = vt_az_verify(at, (const char *)off->evidence, off->evidence_len, &o, &res, d);
        _cleanup_free_ char *claims = NULL;
        if (e == 0)
                e = vt_az_claims_json(&res, &claims);
        if (e == 0 && !(out->tee_claims = json_loads(claims, 0, NULL)))
                e = VT_E_NOMEM;
        if (e < 0) {
                passed_into_diag(e, res.checks, d);
        } else {
                out->az_checks = res.checks;
                out->snp_product = res.snp.product;
                out->tcb_status = res.dcap.status;
        }
        vt_az_result_done(&res);
        return e;
}

static int attest_az(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                     const json_t *evidence, const uint8_t report_data[64], const json_t *init,
                     struct vt_attest_result *out, struct vt_diag *d)
{
        struct vt_az_result res;
        memset(&res, 0, sizeof(res));
        int e = vt_tee_az_verify(t, c, evidence, report_data, init, out, &res, d);
        if (e == 0) {
                if (t == &vt_tee_az_snp_vtpm)
                        vt_refvals_appraise_snp(c->refvals, t->name, &res.snp.report, &out->tv,
                                                &out->appraisal);
                else
                        vt_refvals_appraise_dcap(c->refvals, t->name, res.td, &res.dcap, &out->tv,
                                                 &out->appraisal);
        }
        vt_az_result_done(&res);
        return e;
}

const struct vt_tee_ops vt_tee_az_snp_vtpm = {
        .name = "az-snp-vtpm",
        .alias = "azsnpvtpm",
        .report_data_len = 48,
        .refvals = VT_REFVAL_SNP,
        .attest = attest_az,
        .attest_offline = vt_tee_az_offline,
};

const struct vt_tee_ops vt_tee_az_tdx_vtpm = {
        .name = "az-tdx-vtpm",
        .alias = "aztdxvtpm",
        .report_data_len = 48,
        .refvals = VT_REFVAL_DCAP,
        .attest = attest_az,
        .attest_offline = vt_tee_az_offline,
};
