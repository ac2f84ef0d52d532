/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an untrusted Azure HCL report (vTPM NV index 0x01400001). Parses it,
 * computes the runtime-data digest and the REPORT_DATA binding, and runs the az-snp-vtpm
 * and az-tdx-vtpm verification on it with a fixed TPM quote whose signature cannot
 * verify, so verification never reaches the SNP or DCAP verifiers (no network).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "veritee/azure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A TPMS_ATTEST quote with extraData "n" over no PCRs. */
static const uint8_t attest[] = {
        0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x00, 0x00, 0x01, 'n', 0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,   0,    1,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,   0x00, 0x00,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t sig[256];
        struct vt_hcl_report *r = NULL;
        struct vt_diag d = {0};
        uint8_t dg[64];

        if (vt_hcl_report_parse(data, size, &r, &d) == 0) {
                (void)vt_hcl_report_var_digest(r, dg);
                (void)vt_hcl_check_binding(r, r->hw_report_data, &d);
                vt_hcl_report_free(r);
        }
        /* the whole verification entry point, for both HCL-based tees */
        struct vt_az_evidence ev = {
                .message = (uint8_t *)attest,
                .message_len = sizeof(attest),
                .signature = sig,
                .signature_len = sizeof(sig),
                .hcl = (uint8_t *)data,
                .hcl_len = size,
        };
        static const uint8_t nonce[] = {'n'};
        struct vt_az_verify_opts o = {.report_data = nonce, .report_data_len = 1, .at = 1748736000};
        for (int t = VT_AZ_TEE_SNP_VTPM; t <= VT_AZ_TEE_TDX_VTPM; t++) {
                struct vt_az_result res;
                ev.tee = (enum vt_az_tee)t;
                ev.version = size > 0 ? data[0] % 3 : 0;
                vt_diag_clear(&d);
                (void)vt_az_verify_evidence(&ev, &o, &res, &d);
                char *claims = NULL;
                if (vt_az_claims_json(&res, &claims) == 0)
                        free(claims);
                vt_az_result_done(&res);
        }
        return 0;
}
