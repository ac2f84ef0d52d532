/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: untrusted DCAP collateral. Two uses of every input:
 *
 * 1. the whole input as QuoteCollateralV3 JSON to vt_dcap_collateral_parse; what parses
 *    is verified at a fixed time (no fuzzed chain reaches the pinned Intel root, so this
 *    stops at the chain checks) and evaluated against fixed quotes;
 * 2. split at the first NUL byte into a tcb_info and a qe_identity body for
 *    vt_dcap_collateral_parse_bodies (no certificates needed), then the TCB evaluation
 *    of fixed TDX 1.0, TDX 1.5 and SGX quotes against them (module identity, QE identity,
 *    level matching, status merge, TD relaunch, advisory IDs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify/dcap_collateral.h"
#include "verify/dcap_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-02-19T00:00:00Z: a fixed verification time keeps runs reproducible. */
#define FUZZ_VERIFY_AT 1771459200

/* PCK, TD and QE values in the middle of the ranges the seeds use. */
static void fixed_inputs(struct vt_dcap_quote q[3], struct vt_pck_ext pck[2])
{
        static const uint8_t tdqe[32] = {0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17,
                                         0x47, 0x4e, 0x34, 0xa7, 0xfc, 0x43, 0xed, 0x03,
                                         0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba, 0xbd, 0xdf,
                                         0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5};
        static const uint8_t qe[32] = {0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e,
                                       0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
                                       0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b,
                                       0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff};
        memset(q, 0, 3 * sizeof(*q));
        memset(pck, 0, 2 * sizeof(*pck));
        /* TDX 1.0: module TDX_01 at ISV SVN 4, tdx component 2 = 3 */
        q[0].version = 4;
        q[0].att_key_type = 2;
        q[0].tee_type = 0x81;
        q[0].body_type = VT_DCAP_BODY_TD10;
        q[0].td.tee_tcb_svn[0] = 4;
        q[0].td.tee_tcb_svn[1] = 1;
        q[0].td.tee_tcb_svn[2] = 3;
        q[0].qe_report.isv_prod_id = 2;
        q[0].qe_report.isv_svn = 4;
        q[0].qe_report.attributes[0] = 0x11;
        memcpy(q[0].qe_report.mr_signer, tdqe, 32);
        /* TDX 1.5: the same, with a newer module loaded since (relaunch advice) */
        q[1] = q[0];
        q[1].version = 5;
        q[1].body_type = VT_DCAP_BODY_TD15;
        q[1].td.tee_tcb_svn2[0] = 6;
        q[1].td.tee_tcb_svn2[1] = 1;
        q[1].td.tee_tcb_svn2[2] = 3;
        /* SGX */
        q[2] = q[0];
        memset(&q[2].td, 0, sizeof(q[2].td));
        q[2].version = 3;
        q[2].tee_type = 0;
        q[2].body_type = VT_DCAP_BODY_SGX;
        q[2].qe_report.isv_prod_id = 1;
        memcpy(q[2].qe_report.mr_signer, qe, 32);

        static const uint8_t fm_tdx[6] = {0x90, 0xc0, 0x6f, 0, 0, 0};
        static const uint8_t fm_sgx[6] = {0x00, 0xa0, 0x67, 0x11, 0, 0};
        for (int i = 0; i < 2; i++) {
                memset(pck[i].comp_svn, 3, 8);
                pck[i].comp_svn[7] = 5;
                pck[i].pcesvn = 13;
        }
        memcpy(pck[0].fmspc, fm_tdx, 6);
        memcpy(pck[1].fmspc, fm_sgx, 6);
}

static void evaluate(const struct vt_dcap_collateral *c)
{
        struct vt_dcap_quote q[3];
        struct vt_pck_ext pck[2];
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        fixed_inputs(q, pck);
        for (int i = 0; i < 3; i++) {
                /* also with the collateral's own FMSPC and PCE-ID, to get past that check */
                struct vt_pck_ext p = pck[i == 2];
                (void)vt_dcap_tcb_evaluate(c, &q[i], &p, &res, &d);
                vt_diag_clear(&d);
                memcpy(p.fmspc, c->tcb.fmspc, 6);
                memcpy(p.pce_id, c->tcb.pce_id, 2);
                (void)vt_dcap_tcb_evaluate(c, &q[i], &p, &res, &d);
                vt_diag_clear(&d);
                /* and a platform below and above every level */
                memset(p.comp_svn, 0, 16);
                (void)vt_dcap_tcb_evaluate(c, &q[i], &p, &res, &d);
                vt_diag_clear(&d);
                memset(p.comp_svn, 255, 16);
                p.pcesvn = 65535;
                (void)vt_dcap_tcb_evaluate(c, &q[i], &p, &res, &d);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_dcap_collateral *c = NULL;
        struct vt_diag d = {0};
        int64_t earliest;

        /* 1: the whole collateral */
        if (vt_dcap_collateral_parse((const char *)data, size, &c, &d) == 0) {
                vt_diag_clear(&d);
                (void)vt_dcap_collateral_verify(c, FUZZ_VERIFY_AT, &earliest, &d);
                (void)vt_dcap_collateral_root_crl(c);
                (void)vt_dcap_collateral_pck_crl(c);
                evaluate(c);
                vt_dcap_collateral_free(c);
                c = NULL;
        }

        /* 2: two bodies split at the first NUL */
        const uint8_t *nul = memchr(data, 0, size);
        if (!nul)
                return 0;
        size_t a = (size_t)(nul - data);
        vt_diag_clear(&d);
        if (vt_dcap_collateral_parse_bodies((const char *)data, a, (const char *)nul + 1,
                                            size - a - 1, &c, &d) == 0) {
                vt_diag_clear(&d);
                /* a bodies-only collateral must never verify */
                if (vt_dcap_collateral_verify(c, FUZZ_VERIFY_AT, &earliest, &d) == 0)
                        abort();
                evaluate(c);
                vt_dcap_collateral_free(c);
        }
        return 0;
}
