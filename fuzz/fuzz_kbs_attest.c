/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the body of POST /kbs/v0/attest and the tee evidence in it. The server's
 * reader (lib/kbs/request.c: shape, evidence size limit, tee-pubkey), the runtime-data
 * binding, then vt_attest() for every tee of the table with the body's primary_evidence and
 * init-data, bound to the body's own runtime data (so sample evidence that names it gets
 * through). The verifiers never fetch: the SNP ones have fetching off, the DCAP one a
 * closed local port as its PCCS.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "kbs/rcar.h"
#include "kbs/request.h"
#include "veritee/dcap.h"
#include "veritee/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2025-06-01T00:00:00Z */
#define FUZZ_VERIFY_AT 1748736000

static struct vt_snp_verifier *snp_verifier(void)
{
        struct vt_snp_verifier *v = NULL;
        if (vt_snp_verifier_new(&v) < 0 ||
            vt_snp_verifier_set_kds(v, "http://127.0.0.1:9", NULL) < 0 ||
            vt_snp_verifier_set_fetch_limits(v, 100, 0, 1) < 0)
                abort();
        return v;
}

static const struct vt_attest_ctx *ctx(void)
{
        static struct vt_attest_ctx c;
        static bool made;
        if (made)
                return &c;
        struct vt_dcap_verifier *dv = NULL;
        if (vt_dcap_verifier_new(&dv) < 0 ||
            vt_dcap_verifier_set_pccs(dv, "http://127.0.0.1:9", NULL) < 0)
                abort();
        c = (struct vt_attest_ctx){
                .snp_hw = snp_verifier(),
                .snp_sim = snp_verifier(),
                .dcap = dv,
                .allow_sample = true,
                .min_tier = VT_AR4SI_TIER_CONTRAINDICATED,
                .now = FUZZ_VERIFY_AT,
        };
        made = true;
        return &c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const tees[] = {"snp",         "sim",         "tdx", "sgx",
                                           "az-snp-vtpm", "az-tdx-vtpm", "tpm", "sample"};
        struct vt_diag d = {0};
        json_t *body = NULL;
        if (vt_kbs_body_parse(data, size, &body, &d) < 0)
                return 0;
        struct vt_kbs_attest ab;
        uint8_t expected[64] = {0};
        /* the count that the raw text spares agrees with the full count at the limits
         * around the body's own length */
        for (size_t lim = size > 2 ? size - 2 : 0; lim <= size + 1; lim++) {
                struct vt_kbs_attest a1, a2;
                if ((vt_kbs_attest_read(body, data, size, lim, &a1, NULL) == VT_E_LIMIT) !=
                    (vt_kbs_attest_read(body, NULL, 0, lim, &a2, NULL) == VT_E_LIMIT))
                        abort();
        }
        if (vt_kbs_attest_read(body, data, size, 1u << 20, &ab, &d) == 0 &&
            vt_kbs_runtime_binding(ab.nonce, ab.jwk, ab.additional, expected) == 0) {
                for (size_t i = 0; i < sizeof(tees) / sizeof(tees[0]); i++) {
                        struct vt_attest_result r;
                        vt_diag_clear(&d);
                        if (vt_attest(ctx(), tees[i], ab.primary, expected, ab.init, &r, &d) == 0)
                                vt_attest_result_done(&r);
                }
        }
        json_decref(body);
        return 0;
}
