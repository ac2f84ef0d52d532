/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee tpm: a TPM quote whose extraData is this session's binding digest (zero-padded to 64
 * bytes), signed by an AK the server trusts (attestation.tpm_trusted_aks). The verification
 * is the vTPM tees' (tee_azure.c) without the HCL report.
 */
#include <string.h>

#include "attest/tee.h"

static int attest_tpm(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                      const json_t *evidence, const uint8_t report_data[64], const json_t *init,
                      struct vt_attest_result *out, struct vt_diag *d)
{
        struct vt_az_result res;
        memset(&res, 0, sizeof(res));
        int e = vt_tee_az_verify(t, c, evidence, report_data, init, out, &res, d);
        vt_az_result_done(&res);
        if (e < 0)
                return e;
        /* a trusted AK says which TPM; nothing here says what runs on it */
        out->tv = (struct vt_ar4si){.instance_identity = VT_AR4SI_AFFIRMING,
                                    .hardware = VT_AR4SI_AFFIRMING,
                                    .executables = VT_AR4SI_UNRECOGNIZED_RUNTIME,
                                    .configuration = VT_AR4SI_UNSUPPORTABLE_CONFIG};
        vt_diag_set(&out->appraisal, VT_E_POLICY, "tpm: no reference values for the PCRs");
        return 0;
}

static bool tpm_accepted(const struct vt_attest_ctx *c)
{
        return vt_tpm_aks_count(c->tpm_aks) > 0;
}

const struct vt_tee_ops vt_tee_tpm = {
        .name = "tpm",
        .report_data_len = 48,
        .accepted = tpm_accepted,
        .refused_hint = " (no trusted TPM keys: attestation.tpm_trusted_aks)",
        .attest = attest_tpm,
        .attest_offline = vt_tee_az_offline,
};
