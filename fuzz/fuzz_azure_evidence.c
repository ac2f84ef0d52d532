/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: Azure vTPM and plain TPM evidence JSON (Trustee wire formats) ->
 * vt_az_evidence_parse for each tee (az-snp-vtpm, az-tdx-vtpm, tpm). A rejection
 * leaves *ret alone and names its reason; accepted evidence respects the caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "veritee/azure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const enum vt_az_tee tees[] = {VT_AZ_TEE_SNP_VTPM, VT_AZ_TEE_TDX_VTPM,
                                              VT_AZ_TEE_TPM};

        for (size_t i = 0; i < sizeof(tees) / sizeof(tees[0]); i++) {
                static struct vt_az_evidence sentinel;
                struct vt_az_evidence *ev = &sentinel;
                struct vt_diag d = {0};
                int e = vt_az_evidence_parse(tees[i], (const char *)data, size, &ev, &d);

                if (e < 0) {
                        if (ev != &sentinel || (e != VT_E_NOMEM && d.msg[0] == '\0'))
                                abort();
                        continue;
                }
                if (!ev || ev->tee != tees[i])
                        abort();
                if (ev->message_len > VT_AZ_MAX_EVIDENCE ||
                    ev->signature_len > VT_AZ_MAX_EVIDENCE || ev->hcl_len > VT_AZ_MAX_EVIDENCE ||
                    ev->vcek_len > VT_AZ_MAX_EVIDENCE || ev->td_quote_len > VT_AZ_MAX_EVIDENCE ||
                    ev->ak_public_len > VT_AZ_MAX_EVIDENCE)
                        abort();
                vt_az_evidence_free(ev);
        }
        return 0;
}
