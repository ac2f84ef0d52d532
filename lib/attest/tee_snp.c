/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tees snp and sim: Trustee's SNP wire JSON (the report, and certificates the host sent
 * along), verified to the pinned AMD roots (sim: or to the configured simulator root);
 * report_data binds the session, HOST_DATA the init-data.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "attest/tee.h"
#include "crypto/digest.h"
#include "evidence/snp_internal.h"
#include "evidence/snp_wire.h"
#include "util/json.h"

/* Without a VCEK in the evidence, verification fetches one from KDS: first the checks
 * that need no certificate, so that a report that does not bind this session, or that
 * the reference values refuse anyway, costs no fetch. The appraisal of the report as
 * sent equals that of the verified one when its CPUID names the product (the layout is
 * then the same); otherwise only the binding is checked here. */
static int precheck(const struct vt_attest_ctx *c, const char *tee,
                    const uint8_t report[VT_SNP_REPORT_SIZE], const uint8_t expected[64],
                    struct vt_diag *d)
{
        struct vt_snp_report r;
        int e = vt_snp_report_parse(report, VT_SNP_REPORT_SIZE, &r, d);
        if (e < 0)
                return e;
        if (CRYPTO_memcmp(r.report_data, expected, 64) != 0)
                return vt_diag_set(d, VT_E_BINDING,
                                   "%s: report_data does not bind this session's nonce and "
                                   "tee-pubkey (checked before fetching the VCEK)",
                                   tee);
        if (r.product == VT_SNP_PRODUCT_UNKNOWN)
                return 0;
        struct vt_ar4si tv;
        struct vt_diag ad = {0};
        vt_refvals_appraise_snp(c->refvals, tee, &r, &tv, &ad);
        enum vt_ar4si_tier st = vt_ar4si_tier_of(&tv);
        if (st == VT_AR4SI_TIER_NONE || st > c->min_tier)
                return vt_diag_set(d, VT_E_POLICY, "appraisal %s (before fetching the VCEK): %s",
                                   vt_ar4si_tier_name(st), ad.msg[0] ? ad.msg : "not affirming");
        return 0;
}

/* snp_verified: what both forms do with a verified report: sim's root, the binding of
 * report_data to expected, init-data against HOST_DATA, Trustee's claims and the appraisal;
 * expected NULL: authenticity only (no binding, init-data or appraisal, and the claims are
 * the report's alone: "simulated" is for a token's claims). */
static int snp_verified(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                        const struct vt_snp_result *res, const uint8_t *expected,
                        const json_t *init, struct vt_attest_result *out, struct vt_diag *d)
{
        const char *tee = t->name;
        int e;
        if (t == &vt_tee_sim && res->root_builtin)
                return vt_diag_set(d, VT_E_CHAIN,
                                   "sim: evidence is rooted in AMD, send it as tee snp");
        if (expected && CRYPTO_memcmp(res->report.report_data, expected, 64) != 0) {
                char h[VT_FINGERPRINT_LEN], w2[VT_FINGERPRINT_LEN];
                return vt_diag_set(d, VT_E_BINDING,
                                   "%s: report_data does not bind this session's nonce and "
                                   "tee-pubkey (fingerprints: report_data %s, expected %s)",
                                   tee, vt_fingerprint(res->report.report_data, 64, h),
                                   vt_fingerprint(expected, 64, w2));
        }
        if (expected && init && !json_is_null(init) &&
            (e = vt_initdata_check(init, res->report.host_data, 32, &out->init_data_hex,
                                   &out->init_data_claims, d)) < 0)
                return e;
        if ((e = vt_snp_claims(&res->report, &out->tee_claims)) < 0)
                return e;
        out->simulated = !res->root_builtin;
        out->snp_product = res->product;
        out->snp_signer = res->signer;
        if (!expected)
                return 0;
        json_object_set_new(out->tee_claims, "simulated", json_boolean(out->simulated));
        vt_refvals_appraise_snp(c->refvals, tee, &res->report, &out->tv, &out->appraisal);
        return 0;
}

static int attest_snp(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                      const json_t *evidence, const uint8_t expected[64], const json_t *init,
                      struct vt_attest_result *out, struct vt_diag *d)
{
        const char *tee = t->name;
        struct vt_snp_wire w;
        struct vt_snp_result res;
        int e = vt_snp_wire_decode_spans(evidence, c->spans, &w, d);
        if (e < 0)
                return e;
        bool sim = t == &vt_tee_sim;
        struct vt_snp_verify_opts o = {.client = c->client};
        const struct vt_snp_wire_cert *leaf = vt_snp_wire_find(&w, "VCEK");
        if (!leaf)
                leaf = vt_snp_wire_find(&w, "VLEK");
        if (leaf) {
                o.leaf = leaf->der;
                o.leaf_len = leaf->len;
        } else if ((e = precheck(c, tee, w.report, expected, d)) < 0) {
                vt_snp_wire_done(&w);
                return e;
        }
        /* an intermediate sent along (ASK or ASVK) is a hint; roots are always the pinned ones */
        const struct vt_snp_wire_cert *inter = vt_snp_wire_find(&w, "ASK");
        if (!inter)
                inter = vt_snp_wire_find(&w, "ASVK");
        if (inter) {
                o.chain = inter->der;
                o.chain_len = inter->len;
        }
        e = vt_snp_verify(sim ? c->snp_sim : c->snp_hw, w.report, sizeof(w.report), &o, &res, d);
        vt_snp_wire_done(&w);
        if (e < 0)
                return e;
        return snp_verified(t, c, &res, expected, init, out, d);
}

/* attest_snp_offline: the report's bytes with the certificates, CRL, time and policy the
 * caller loaded; authenticity only. */
static int attest_snp_offline(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                              const struct vt_attest_offline *off, struct vt_attest_result *out,
                              struct vt_diag *d)
{
        struct vt_snp_verifier *v = t == &vt_tee_sim ? c->snp_sim : c->snp_hw;
        if (!v)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "%s: no verifier", t->name);
        const struct vt_snp_verify_opts o = {
                .leaf = off->snp_leaf,
                .leaf_len = off->snp_leaf_len,
                .chain = off->snp_chain,
                .chain_len = off->snp_chain_len,
                .crl = off->snp_crl,
                .crl_len = off->snp_crl_len,
                .at = off->at,
                .product = off->snp_product,
                .policy = off->snp_policy,
                .client = c->client,
        };
        struct vt_snp_result res;
        int e = vt_snp_verify(v, off->evidence, off->evidence_len, &o, &res, d);
        if (e < 0)
                return e;
        return snp_verified(t, c, &res, NULL, NULL, out, d);
}

static bool sim_accepted(const struct vt_attest_ctx *c)
{
        return c->snp_sim != NULL;
}

const struct vt_tee_ops vt_tee_snp = {
        .name = "snp",
        .report_data_len = 64,
        .refvals = VT_REFVAL_SNP,
        .attest = attest_snp,
        .attest_offline = attest_snp_offline,
};

const struct vt_tee_ops vt_tee_sim = {
        .name = "sim",
        .report_data_len = 64,
        .refvals = VT_REFVAL_SNP,
        .accepted = sim_accepted,
        .refused_hint = " (the simulator is not trusted: attestation.simulator_root)",
        .attest = attest_snp,
        .attest_offline = attest_snp_offline,
};
