/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a request body of the Azure-compatible API (lib/azure/request.c). The first
 * byte chooses the parser, the rest is the body: 0..3 POST /attest/{SgxEnclave,
 * OpenEnclave, SevSnpVm, TdxVm} (vt_az_attest_request_parse), 4 a key create, 5 a key
 * import (private JWKs through lib/crypto), 6 a release (vt_az_key_request_parse,
 * vt_az_release_request_parse). What a successful parse returns is checked against its
 * documented bounds, and the body is also matched as an attestation type's path segment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azure/request.h"
#include "util/macro.h"
#include "veritee/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_diag d = {0};
        enum vt_az_type t;

        if (size < 1)
                return 0;
        unsigned which = data[0] % 7u;
        const uint8_t *body = data + 1;
        size_t n = size - 1;
        if (n <= 64 && !memchr(body, 0, n)) {
                char seg[65];
                memcpy(seg, body, n);
                seg[n] = 0;
                if (vt_az_type_from_path(seg, &t) == 0 && strlen(vt_az_type_name(t)) != n)
                        abort();
        }
        if (which < 4) {
                struct vt_az_attest_request r = {0};
                if (vt_az_attest_request_parse((enum vt_az_type)which, body, n, &r, &d) == 0) {
                        if (!r.evidence || r.evidence_len > VT_AZ_MAX_EVIDENCE)
                                abort();
                        if (which == VT_AZ_SNP &&
                            (r.evidence_len != VT_SNP_REPORT_SIZE || !r.chain))
                                abort();
                        if (r.runtime.present && r.runtime.len > VT_AZ_MAX_DATA)
                                abort();
                        vt_az_attest_request_done(&r);
                } else if (!d.msg[0]) {
                        abort(); /* every refusal names its check */
                }
        } else if (which < 6) {
                struct vt_az_key_request r = {0};
                if (vt_az_key_request_parse(which == 5, body, n, &r, &d) == 0) {
                        if (!r.policy || !r.release_policy)
                                abort();
                        if (which == 5 && r.kty != VT_AZ_KTY_OCT && !r.key)
                                abort();
                        vt_az_key_request_done(&r);
                }
        } else {
                struct vt_az_release_request r = {0};
                if (vt_az_release_request_parse(body, n, &r, &d) == 0) {
                        if (!r.target || r.enc >= _VT_AZ_ENC_MAX)
                                abort();
                        vt_az_release_request_done(&r);
                }
        }
        return 0;
}
