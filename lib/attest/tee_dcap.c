/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tees tdx and sgx: {"quote": "<standard base64 DCAP quote>", "cc_eventlog": ...}, verified
 * to Intel's root with collateral from the PCCS. The report data is the quote's 64-byte
 * field; init-data goes in MRCONFIGID (48 bytes, TDX only).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "attest/tee.h"
#include "util/b64.h"
#include "util/json.h"

static int attest_dcap(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                       const json_t *evidence, const uint8_t expected[64], const json_t *init,
                       struct vt_attest_result *out, struct vt_diag *d)
{
        const char *tee = t->name;
        const char *b64 = json_string_value(json_object_get(evidence, "quote"));
        _cleanup_free_ uint8_t *quote = NULL;
        size_t ql = 0;
        struct vt_dcap_quote *q = NULL;
        struct vt_dcap_result res;
        int e;
        if (!b64 || vt_b64_decode(b64, strlen(b64), VT_B64_STD, 1u << 20, &quote, &ql) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: evidence must be {\"quote\": standard base64}", tee);
        /* every status is verified here; which ones are acceptable is appraisal */
        struct vt_dcap_policy_opts all = {.accepted_statuses = (1u << _VT_TCB_STATUS_MAX) - 1};
        if ((e = vt_dcap_verify(c->dcap, quote, ql, NULL, c->now, &all, &q, &res, d)) < 0)
                return e;
        bool tdx = t == &vt_tee_tdx;
        if ((q->body_type == VT_DCAP_BODY_SGX) == tdx) {
                vt_dcap_quote_free(q);
                return vt_diag_set(d, VT_E_FORMAT, "%s: the quote is %s", tee, tdx ? "SGX" : "TDX");
        }
        const uint8_t *rd = tdx ? q->td.report_data : q->sgx.report_data;
        if (CRYPTO_memcmp(rd, expected, 64) != 0) {
                vt_dcap_quote_free(q);
                return vt_diag_set(
                        d, VT_E_BINDING,
                        "%s: report_data does not bind this session's nonce and tee-pubkey", tee);
        }
        if (tdx && init && !json_is_null(init) &&
            (e = vt_initdata_check(init, q->td.mr_config_id, 48, &out->init_data_hex,
                                   &out->init_data_claims, d)) < 0) {
                vt_dcap_quote_free(q);
                return e;
        }
        _cleanup_free_ char *claims = NULL;
        if ((e = vt_dcap_claims_json(q, &res, &claims)) < 0) {
                vt_dcap_quote_free(q);
                return e;
        }
        out->tee_claims = json_loads(claims, 0, NULL);
        out->tcb_status = res.status;
        vt_refvals_appraise_dcap(c->refvals, tee, q, &res, &out->tv, &out->appraisal);
        vt_dcap_quote_free(q);
        return out->tee_claims ? 0 : VT_E_NOMEM;
}

/* attest_dcap_offline: the quote's bytes with the collateral, time and policy the caller
 * loaded; authenticity only: the statuses the policy accepts, its checks of the quote and
 * of the collateral's age. */
static int attest_dcap_offline(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                               const struct vt_attest_offline *off, struct vt_attest_result *out,
                               struct vt_diag *d)
{
        const char *tee = t->name;
        if (!c->dcap)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "%s: no verifier", tee);
        const struct vt_dcap_policy *pol = off->dcap_policy;
        struct vt_dcap_policy_opts po = {.accepted_statuses = vt_dcap_policy_statuses(pol)};
        struct vt_dcap_quote *q = NULL;
        struct vt_dcap_result res;
        int e = vt_dcap_verify(c->dcap, off->evidence, off->evidence_len, off->dcap_collateral,
                               off->at, &po, &q, &res, d);
        bool tdx = t == &vt_tee_tdx;
        /* a status refused (VT_E_TCB) still leaves the quote: the wrong kind is named too */
        if ((e == 0 || e == VT_E_TCB) && q && (q->body_type == VT_DCAP_BODY_SGX) == tdx)
                e = vt_diag_set(d, VT_E_FORMAT, "the quote is %s, not %s", tdx ? "SGX" : "TDX",
                                tee);
        if (e == 0)
                e = vt_dcap_policy_check(pol, q, d);
        if (e == 0)
                e = vt_dcap_policy_check_collateral(pol, &res, d);
        _cleanup_free_ char *claims = NULL;
        if (e == 0)
                e = vt_dcap_claims_json(q, &res, &claims);
        if (e == 0) {
                out->tee_claims = json_loads(claims, 0, NULL);
                out->tcb_status = res.status;
                e = out->tee_claims ? 0 : VT_E_NOMEM;
        }
        vt_dcap_quote_free(q);
        return e;
}

const struct vt_tee_ops vt_tee_tdx = {
        .name = "tdx",
        .report_data_len = 64,
        .refvals = VT_REFVAL_DCAP,
        .attest = attest_dcap,
        .attest_offline = attest_dcap_offline,
};

const struct vt_tee_ops vt_tee_sgx = {
        .name = "sgx",
        .report_data_len = 64,
        .refvals = VT_REFVAL_DCAP,
        .attest = attest_dcap,
        .attest_offline = attest_dcap_offline,
};
