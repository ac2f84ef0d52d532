/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a GHCB certificate table as the host hands it to an SEV-SNP guest
 * (configfs-tsm auxblob, the SNP_GET_EXT_REPORT certificate buffer). Parses it with
 * vt_snp_cert_table_parse, checks that every certificate it returns lies inside the
 * input, and encodes the certificates into Trustee's SNP wire JSON with a fixed report,
 * as the agent's providers do.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/snp_guest.h"
#include "evidence/snp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t report[VT_SNP_REPORT_SIZE];
        struct vt_snp_wire_cert certs[VT_SNP_WIRE_MAX_CERTS];
        struct vt_diag d = {0};
        size_t n = 0;
        if (vt_snp_cert_table_parse(data, size, certs, VT_SNP_WIRE_MAX_CERTS, &n, &d) < 0)
                return 0;
        if (n > VT_SNP_WIRE_MAX_CERTS)
                abort();
        for (size_t i = 0; i < n; i++)
                if (certs[i].len == 0 || certs[i].len > VT_SNP_WIRE_MAX_CERT_BYTES ||
                    certs[i].der < data || certs[i].der > data + size ||
                    certs[i].len > (size_t)(data + size - certs[i].der))
                        abort();
        json_t *j = NULL;
        if (vt_snp_wire_encode(report, certs, n, &j) == 0)
                json_decref(j);
        return 0;
}
