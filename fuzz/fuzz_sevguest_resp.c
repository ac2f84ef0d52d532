/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the MSG_REPORT_RSP in the answer of /dev/sev-guest's SNP_GET_EXT_REPORT
 * (struct snp_report_resp: status, report_size, reserved, the report at 0x20). Parses
 * it with vt_snp_report_rsp_parse, checks that the report it points at lies inside the
 * input, and parses that report with vt_snp_report_parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/snp_guest.h"
#include "veritee/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *report = NULL;
        struct vt_diag d = {0};
        if (vt_snp_report_rsp_parse(data, size, &report, &d) < 0) {
                if (report)
                        abort();
                return 0;
        }
        if (report != data + VT_SNP_REPORT_RSP_REPORT_AT ||
            size < VT_SNP_REPORT_RSP_REPORT_AT + VT_SNP_REPORT_SIZE)
                abort();
        struct vt_snp_report r;
        vt_diag_clear(&d);
        (void)vt_snp_report_parse(report, VT_SNP_REPORT_SIZE, &r, &d);
        return 0;
}
