/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an untrusted DCAP appraisal policy (JSON). Parses it and, when it
 * parses, checks four fixed quotes against it: zero-filled TDX 1.5, TDX 1.0 and SGX
 * quotes, and a TDX 1.5 quote with debug, SEPT_VE_DISABLE, a service TD and non-zero
 * measurements, so that both outcomes of most checks stay reachable; and the collateral
 * age limit against four ages.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "veritee/dcap.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_dcap_policy *, vt_dcap_policy_free)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_QUOTES 5

static const struct vt_dcap_quote *quotes(void)
{
        static struct vt_dcap_quote q[N_QUOTES];
        static bool done = false;

        if (done)
                return q;
        memset(q, 0, sizeof(q));
        q[0].version = 4, q[0].tee_type = 0x81, q[0].body_type = VT_DCAP_BODY_TD15;
        q[1].version = 4, q[1].tee_type = 0x81, q[1].body_type = VT_DCAP_BODY_TD10;
        q[2].version = 3, q[2].tee_type = 0, q[2].body_type = VT_DCAP_BODY_SGX;
        q[3] = q[0];
        q[3].td.td_attributes = 1 | (1ull << 28);
        memset(q[3].td.mr_td, 0x11, 48);
        memset(q[3].td.mr_config_id, 0x22, 48);
        for (int i = 0; i < 4; i++)
                memset(q[3].td.rtmr[i], 0x30 + i, 48);
        memset(q[3].td.mr_service_td, 0x44, 48);
        q[4] = q[2];
        q[4].sgx.attributes[0] = 2;
        memset(q[4].sgx.mr_enclave, 0x55, 32);
        memset(q[4].sgx.mr_signer, 0x66, 32);
        q[4].sgx.isv_prod_id = 7, q[4].sgx.isv_svn = 3;
        done = true;
        return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct vt_dcap_quote *q = quotes();
        _cleanup_(vt_dcap_policy_freep) struct vt_dcap_policy *p = NULL;
        struct vt_diag d = {0};
        int e;

        e = vt_dcap_policy_parse((const char *)data, size, &p, &d);
        if (e < 0) {
                if (p || (e != VT_E_NOMEM && d.msg[0] == '\0'))
                        abort();
                return 0;
        }
        (void)vt_dcap_policy_statuses(p);
        (void)vt_dcap_policy_has_references(p);
        /* collateral ages on both sides of any limit a policy can set (1..3650 days) */
        static const int64_t ages[] = {0, 86400, 86401, 3650LL * 86400 + 1};
        for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
                struct vt_dcap_result r = {.collateral_age = ages[i]};
                vt_diag_clear(&d);
                e = vt_dcap_policy_check_collateral(p, &r, &d);
                if (e < 0 && d.msg[0] == '\0')
                        abort();
        }
        for (size_t i = 0; i < N_QUOTES; i++) {
                vt_diag_clear(&d);
                e = vt_dcap_policy_check(p, &q[i], &d);
                if (e < 0 && d.msg[0] == '\0')
                        abort();
        }
        return 0;
}
