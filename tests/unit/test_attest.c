/* SPDX-License-Identifier: Apache-2.0 */
/* lib/attest: the TEE table, vt_attest on sample evidence, reference values, init-data. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attest/attest.h"
#include "attest/tee.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"

static void test_attest_table(void **state)
{
        (void)state;
        static const char *const want[] = {"snp",         "sim",         "tdx", "sgx",
                                           "az-snp-vtpm", "az-tdx-vtpm", "tpm", "sample"};
        assert_int_equal(vt_attest_tee_count(), VT_ATTEST_N_TEES);
        assert_int_equal(vt_attest_tee_count(), sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < vt_attest_tee_count(); i++)
                assert_string_equal(vt_attest_tee_name(i), want[i]);
        assert_null(vt_attest_tee_name(vt_attest_tee_count()));
        /* old spellings and Trustee's tees that veritee does not verify are known */
        assert_true(vt_attest_tee_known("azsnpvtpm"));
        assert_true(vt_attest_tee_known("aztdxvtpm"));
        assert_true(vt_attest_tee_known("cca"));
        assert_false(vt_attest_tee_known("SNP"));
        assert_false(vt_attest_tee_known(""));
        assert_false(vt_attest_tee_known(NULL));
        assert_ptr_equal(vt_attest_tee_find("azsnpvtpm"), &vt_tee_az_snp_vtpm);
}

static void test_attest_accepted(void **state)
{
        (void)state;
        struct vt_attest_ctx c = {0};
        const char *hint = NULL;
        assert_true(vt_attest_tee_accepted(&c, "snp", &hint));
        assert_string_equal(hint, "");
        assert_true(vt_attest_tee_accepted(&c, "aztdxvtpm", &hint));
        assert_false(vt_attest_tee_accepted(&c, "sim", &hint));
        assert_non_null(strstr(hint, "attestation.simulator_root"));
        assert_false(vt_attest_tee_accepted(&c, "sample", &hint));
        assert_non_null(strstr(hint, "attestation.allow_sample"));
        assert_false(vt_attest_tee_accepted(&c, "tpm", &hint));
        assert_non_null(strstr(hint, "attestation.tpm_trusted_aks"));
        assert_false(vt_attest_tee_accepted(&c, "cca", &hint));
        assert_string_equal(hint, "");
        c.allow_sample = true;
        assert_true(vt_attest_tee_accepted(&c, "sample", NULL));
}

static json_t *sample_evidence(const uint8_t rd[48])
{
        char *b64 = NULL;
        assert_int_equal(vt_b64_encode(rd, 48, VT_B64_STD, &b64), 0);
        json_t *j = json_pack("{s:i, s:s}", "svn", 1, "report_data", b64);
        free(b64);
        assert_non_null(j);
        return j;
}

static void test_attest_sample(void **state)
{
        (void)state;
        uint8_t rd[64] = {0};
        for (size_t i = 0; i < 48; i++)
                rd[i] = (uint8_t)(i + 1);
        json_auto_t *ev = sample_evidence(rd);
        struct vt_attest_ctx c = {.allow_sample = true};
        struct vt_attest_result r = {0};
        struct vt_diag d = {0};
        vt_diag_clear(&d);
        assert_int_equal(vt_attest(&c, "sample", ev, rd, NULL, &r, &d), 0);
        assert_int_equal(r.report_data_len, 48);
        assert_int_equal(r.tv.hardware, VT_AR4SI_UNRECOGNIZED_HARDWARE);
        assert_int_equal(r.tv.executables, VT_AR4SI_UNRECOGNIZED_RUNTIME);
        assert_int_equal(vt_ar4si_tier_of(&r.tv), VT_AR4SI_TIER_CONTRAINDICATED);
        assert_non_null(strstr(r.appraisal.msg, "unsigned evidence"));
        assert_int_equal(json_integer_value(json_object_get(r.tee_claims, "svn")), 1);
        assert_false(r.simulated);
        assert_null(r.init_data_hex);
        vt_attest_result_done(&r);

        /* another session's report data */
        rd[0] ^= 1;
        vt_diag_clear(&d);
        assert_int_equal(vt_attest(&c, "sample", ev, rd, NULL, &r, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "does not bind this session"));
        /* not base64 */
        json_auto_t *bad = json_pack("{s:s}", "report_data", "!!");
        vt_diag_clear(&d);
        assert_int_equal(vt_attest(&c, "sample", bad, rd, NULL, &r, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "standard base64"));
        /* a configuration that does not accept it, and a tee nobody verifies */
        c.allow_sample = false;
        vt_diag_clear(&d);
        assert_int_equal(vt_attest(&c, "sample", ev, rd, NULL, &r, &d), VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "tee sample is not supported"));
        vt_diag_clear(&d);
        assert_int_equal(vt_attest(&c, "cca", ev, rd, NULL, &r, &d), VT_E_UNSUPPORTED);
}

static void test_attest_refvals(void **state)
{
        (void)state;
        struct vt_refvals *r = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_refvals_new(&r), 0);
        assert_true(vt_refvals_tee_known("snp"));
        assert_true(vt_refvals_tee_known("az-tdx-vtpm"));
        assert_false(vt_refvals_tee_known("azsnpvtpm"));
        assert_false(vt_refvals_tee_known("tpm"));
        assert_false(vt_refvals_tee_known("sample"));
        assert_false(vt_refvals_tee_known(NULL));
        json_auto_t *empty = json_object();
        vt_diag_clear(&d);
        assert_int_equal(vt_refvals_add(r, "a", "tpm", empty, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "unknown tee \"tpm\" (snp, sim, tdx, sgx, az-snp-vtpm, "
                                      "az-tdx-vtpm)"));
        json_auto_t *badv = json_pack("{s:s}", "no_such_field", "x");
        vt_diag_clear(&d);
        assert_true(vt_refvals_add(r, "b", "snp", badv, &d) < 0);
        assert_non_null(strstr(d.msg, "reference values b"));
        vt_diag_clear(&d);
        assert_int_equal(vt_refvals_add(r, "c", "snp", empty, &d), 0);
        /* the admin API's check: the same parsers, nothing kept */
        vt_diag_clear(&d);
        assert_int_equal(vt_refvals_check("sample", empty, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "unknown tee \"sample\" (snp, sim, tdx, sgx"));
        vt_diag_clear(&d);
        assert_true(vt_refvals_check("az-snp-vtpm", badv, &d) < 0);
        assert_non_null(strstr(d.msg, "no_such_field"));
        assert_int_equal(vt_refvals_check("az-tdx-vtpm", empty, NULL), 0);
        vt_diag_clear(&d);
        assert_int_equal(vt_refvals_add(r, "d", "tdx", empty, &d), 0);
        /* shared: the last reference frees it */
        assert_ptr_equal(vt_refvals_ref(r), r);
        vt_refvals_unref(r);
        vt_refvals_unref(r);
        vt_refvals_unref(NULL);
}

static void test_attest_initdata(void **state)
{
        (void)state;
        const char *body = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n"
                           "\"policy.rego\" = \"package agent_policy\"\n";
        uint8_t dg[32];
        assert_int_equal(EVP_Digest(body, strlen(body), dg, NULL, EVP_sha256(), NULL), 1);
        json_auto_t *init = json_pack("{s:s, s:s}", "format", "toml", "body", body);
        uint8_t field[48] = {0};
        memcpy(field, dg, 32);
        char *hex = NULL;
        json_t *claims = NULL;
        struct vt_diag d = {0};
        /* zero-padded into a 48-byte field (MRCONFIGID) */
        vt_diag_clear(&d);
        assert_int_equal(vt_initdata_check(init, field, sizeof(field), &hex, &claims, &d), 0);
        assert_int_equal(strlen(hex), 64);
        assert_string_equal(json_string_value(json_object_get(claims, "policy.rego")),
                            "package agent_policy");
        free(hex);
        json_decref(claims);
        uint8_t again[32];
        vt_diag_clear(&d);
        assert_int_equal(vt_initdata_sha256(init, "az-snp-vtpm", again, &d), 0);
        assert_memory_equal(again, dg, 32);
        field[3] ^= 1;
        vt_diag_clear(&d);
        assert_int_equal(vt_initdata_check(init, field, 32, &hex, &claims, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "digest does not match host_data"));
        json_auto_t *yaml = json_pack("{s:s, s:s}", "format", "yaml", "body", body);
        vt_diag_clear(&d);
        assert_int_equal(vt_initdata_check(yaml, field, 32, &hex, &claims, &d), VT_E_FORMAT);
        const char *b384 = "version = \"0.1.0\"\nalgorithm = \"sha384\"\n";
        json_auto_t *i384 = json_pack("{s:s, s:s}", "format", "toml", "body", b384);
        vt_diag_clear(&d);
        assert_int_equal(vt_initdata_sha256(i384, "az-snp-vtpm", again, &d), VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "az-snp-vtpm binds init-data through PCR8"));
}

/* The PROVENANCE times of the recorded vectors (tests/vectors, docs in ../shared/testdata). */
#define TDX_AS_OF "2025-06-20T00:00:00Z" /* dcap/PROVENANCE.md: tdx_b0c06f_eval17, UpToDate */
#define VLEK_AT                                                                                    \
        "2025-06-01T00:00:00Z" /* inside the test VLEK's window (2024-12-10..2025-12-10)           \
                                */

static int64_t at(const char *rfc3339)
{
        int64_t t = 0;
        assert_int_equal(vt_time_parse_rfc3339(rfc3339, &t), 0);
        return t;
}

/* Authenticity only, offline: a recorded SNP report with its VCEK file goes through the snp
 * row with no expected report data and no reference values: trusted, the claims are the
 * report's (no "simulated"), the vector stays NONE. The same report with a flipped bit, and
 * the tees without offline verification, are refused naming why. */
static void test_attest_offline_snp(void **state)
{
        (void)state;
        size_t rl = 0, cl = 0;
        _cleanup_free_ uint8_t *rep =
                vt_test_load_vector("snp/msft-tav/turin_attestation_report.bin", &rl);
        _cleanup_free_ uint8_t *vcek = vt_test_load_vector("snp/msft-tav/turin_vcek.pem", &cl);
        struct vt_snp_verifier *v = NULL;
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        const struct vt_attest_ctx c = {.snp_hw = v, .min_tier = VT_AR4SI_TIER_AFFIRMING};
        struct vt_attest_offline off = {
                .evidence = rep, .evidence_len = rl, .snp_leaf = vcek, .snp_leaf_len = cl};
        struct vt_attest_result res = {0};
        struct vt_diag d = {0};
        int e = vt_attest_offline(&c, "snp", &off, &res, &d);
        if (e < 0)
                fail_msg("offline snp: %s", d.msg);
        assert_int_equal(res.snp_product, VT_SNP_PRODUCT_TURIN);
        assert_int_equal(res.snp_signer, VT_SNP_SIGNER_VCEK);
        assert_false(res.simulated);
        assert_string_equal(json_string_value(json_object_get(res.tee_claims, "product")), "Turin");
        assert_int_equal(
                json_integer_value(json_object_get(res.tee_claims, "reported_tcb_microcode")), 81);
        assert_null(json_object_get(res.tee_claims, "simulated"));
        assert_int_equal(vt_ar4si_tier_of(&res.tv), VT_AR4SI_TIER_NONE);
        assert_null(res.init_data_hex);
        vt_attest_result_done(&res);

        /* one bit of the measurement flipped: the signature names it */
        rep[0x90] ^= 1;
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_offline(&c, "snp", &off, &res, &d), VT_E_SIGNATURE);
        assert_non_null(strstr(d.msg, "report signature"));
        assert_null(res.tee_claims);
        rep[0x90] ^= 1;

        /* no offline form: refused by name; and vt_attest never binds nothing */
        vt_diag_clear(&d);
        const struct vt_attest_ctx cs = {.snp_hw = v, .allow_sample = true};
        assert_int_equal(vt_attest_offline(&cs, "sample", &off, &res, &d), VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "sample has no offline verification"));
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_offline(&c, "sim", &off, &res, &d), VT_E_UNSUPPORTED);
        json_auto_t *ev = json_object();
        vt_diag_clear(&d);
        assert_int_equal(vt_attest(&c, "snp", ev, NULL, NULL, &res, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "no expected report data"));
        vt_snp_verifier_free(v);
}

/* The verification time: a VLEK report is trusted at a time inside its certificate's
 * window and refused now, the reason naming the certificate and its window. */
static void test_attest_offline_snp_time(void **state)
{
        (void)state;
        size_t rl = 0, cl = 0;
        _cleanup_free_ uint8_t *rep = vt_test_load_vector("snp/trustee/test-vlek-report.bin", &rl);
        _cleanup_free_ uint8_t *vlek = vt_test_load_vector("snp/trustee/test-vlek.der", &cl);
        struct vt_snp_verifier *v = NULL;
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        const struct vt_attest_ctx c = {.snp_hw = v};
        struct vt_attest_offline off = {.evidence = rep,
                                        .evidence_len = rl,
                                        .snp_leaf = vlek,
                                        .snp_leaf_len = cl,
                                        .at = at(VLEK_AT)};
        struct vt_attest_result res = {0};
        struct vt_diag d = {0};
        int e = vt_attest_offline(&c, "snp", &off, &res, &d);
        if (e < 0)
                fail_msg("VLEK at %s: %s", VLEK_AT, d.msg);
        assert_int_equal(res.snp_signer, VT_SNP_SIGNER_VLEK);
        vt_attest_result_done(&res);

        off.at = at("2026-01-01T00:00:00Z"); /* after the VLEK's notAfter */
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_offline(&c, "snp", &off, &res, &d), VT_E_EXPIRED);
        assert_non_null(strstr(d.msg, "leaf certificate \"SEV-VLEK\" is not valid at "
                                      "2026-01-01T00:00:00Z"));
        vt_snp_verifier_free(v);
}

/* Offline DCAP collateral: the recorded TDX quote with its collateral file is trusted,
 * UpToDate, at its PROVENANCE time; at a later time the collateral has expired and the
 * reason names which part; a policy's checks run; the wrong tee is named. */
static void test_attest_offline_dcap(void **state)
{
        (void)state;
        size_t ql = 0, cl = 0;
        _cleanup_free_ uint8_t *quote =
                vt_test_load_vector("dcap/tdx_b0c06f_eval17/quote.bin", &ql);
        _cleanup_free_ uint8_t *coll_txt =
                vt_test_load_vector("dcap/tdx_b0c06f_eval17/collateral.json", &cl);
        struct vt_dcap_collateral *coll = NULL;
        struct vt_dcap_verifier *v = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_dcap_collateral_parse((const char *)coll_txt, cl, &coll, &d), 0);
        assert_int_equal(vt_dcap_verifier_new(&v), 0);
        const struct vt_attest_ctx c = {.dcap = v};
        struct vt_attest_offline off = {.evidence = quote,
                                        .evidence_len = ql,
                                        .at = at(TDX_AS_OF),
                                        .dcap_collateral = coll};
        struct vt_attest_result res = {0};
        int e = vt_attest_offline(&c, "tdx", &off, &res, &d);
        if (e < 0)
                fail_msg("tdx at %s: %s", TDX_AS_OF, d.msg);
        assert_int_equal(res.tcb_status, VT_TCB_UP_TO_DATE);
        assert_int_equal(json_integer_value(json_object_get(res.tee_claims, "quote_version")), 4);
        assert_int_equal(vt_ar4si_tier_of(&res.tv), VT_AR4SI_TIER_NONE);
        vt_attest_result_done(&res);

        /* a month later: the PCK CRL's next update has passed */
        off.at = at("2025-08-01T00:00:00Z");
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_offline(&c, "tdx", &off, &res, &d), VT_E_EXPIRED);
        assert_non_null(strstr(d.msg, "pck_crl: expired"));
        assert_null(res.tee_claims);
        off.at = at(TDX_AS_OF);

        /* a policy that wants collateral younger than it is on 2025-07-10 (still valid) */
        static const char pol_txt[] = "{\"max_collateral_age_days\": 7}";
        struct vt_dcap_policy *pol = NULL;
        vt_diag_clear(&d);
        if (vt_dcap_policy_parse(pol_txt, sizeof(pol_txt) - 1, &pol, &d) < 0)
                fail_msg("policy: %s", d.msg);
        off.dcap_policy = pol;
        off.at = at("2025-07-10T00:00:00Z");
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_offline(&c, "tdx", &off, &res, &d), VT_E_EXPIRED);
        assert_non_null(strstr(d.msg, "max_collateral_age_days 7"));
        off.at = at(TDX_AS_OF);
        vt_diag_clear(&d);
        e = vt_attest_offline(&c, "tdx", &off, &res, &d);
        if (e < 0)
                fail_msg("tdx with the policy at %s: %s", TDX_AS_OF, d.msg);
        vt_attest_result_done(&res);
        off.dcap_policy = NULL;
        vt_dcap_policy_free(pol);

        /* a TDX quote is not sgx evidence */
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_offline(&c, "sgx", &off, &res, &d), VT_E_FORMAT);
        assert_string_equal(d.msg, "the quote is TDX, not sgx");
        vt_dcap_verifier_free(v);
        vt_dcap_collateral_free(coll);
}

/* The vTPM tees offline: never authenticity only, the quote is bound to the report data
 * given; a failure's reason names the checks that passed before it. */
static void test_attest_offline_az(void **state)
{
        (void)state;
        static const char rd_hex[] =
                "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9a"
                "a398f647caa2338748cd0fd9f5f819ef";
        size_t el = 0;
        _cleanup_free_ uint8_t *ev = vt_test_load_vector("snp/azure/trustee/evidence-v2.json", &el);
        uint8_t rd[48];
        assert_int_equal(vt_hex_decode(rd_hex, rd, sizeof(rd)), 48);
        struct vt_snp_verifier *v = NULL;
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        const struct vt_attest_ctx c = {.snp_hw = v};
        struct vt_attest_offline off = {.evidence = ev,
                                        .evidence_len = el,
                                        .at = at("2025-06-01T00:00:00Z"),
                                        .report_data = rd,
                                        .report_data_len = sizeof(rd)};
        struct vt_attest_result res = {0};
        struct vt_diag d = {0};
        int e = vt_attest_offline(&c, "az-snp-vtpm", &off, &res, &d);
        if (e < 0)
                fail_msg("az-snp-vtpm: %s", d.msg);
        const unsigned want = VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE | VT_AZ_CHECK_PCRS |
                              VT_AZ_CHECK_HCL_BINDING | VT_AZ_CHECK_HW_REPORT;
        assert_int_equal(res.az_checks & want, want);
        char names[160];
        vt_attest_az_checks_text(VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE, names,
                                 sizeof(names));
        assert_string_equal(names, "quote signature, nonce");
        const char *pcr0 = json_string_value(json_object_get(res.tee_claims, "tpm_pcr0"));
        assert_non_null(pcr0);
        assert_memory_equal(pcr0, "84275b2f4312cd4f", 16);
        assert_int_equal(vt_ar4si_tier_of(&res.tv), VT_AR4SI_TIER_NONE);
        vt_attest_result_done(&res);

        /* other report data: the nonce check fails after the signature's */
        rd[0] ^= 1;
        vt_diag_clear(&d);
        assert_true(vt_attest_offline(&c, "azsnpvtpm", &off, &res, &d) < 0);
        assert_non_null(strstr(d.msg, "extraData"));
        assert_non_null(strstr(d.msg, "; passed: quote signature"));
        assert_null(res.tee_claims);
        /* and none: refused, these tees are never authenticity only */
        off.report_data = NULL;
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_offline(&c, "az-snp-vtpm", &off, &res, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "expected report data"));
        vt_snp_verifier_free(v);
}

/* Composite attestation: the additional evidence's shape, and device evidence refused when
 * the context has no NVIDIA verifier (the server's attestation.nvidia is false). The devices
 * themselves are verified in test_composite (a TEST-MADE chain and a re-signed report). */
static void test_attest_devices_refusals(void **state)
{
        (void)state;
        struct vt_attest_ctx c = {0};
        struct vt_attest_devices r;
        struct vt_diag d = {0};
        const uint8_t nonce[32] = {1};
        assert_int_equal(vt_attest_devices(&c, "", nonce, 0, &r, &d), 0);
        assert_int_equal(r.n, 0);
        assert_int_equal(vt_attest_devices(&c, NULL, nonce, 0, &r, &d), 0);
        assert_int_equal(vt_attest_devices(&c, "[1]", nonce, 0, &r, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "keyed by device type"));
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_devices(&c, "{\"nvidia\":{}", nonce, 0, &r, &d), VT_E_FORMAT);
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_devices(&c, "{\"tpmdevice\":{}}", nonce, 0, &r, &d),
                         VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "\"tpmdevice\" is not supported"));
        /* Trustee's unsigned sample device: only with allow_sample, never affirming */
        vt_diag_clear(&d);
        assert_int_equal(
                vt_attest_devices(&c, "{\"sampledevice\":{\"svn\":\"2\"}}", nonce, 0, &r, &d),
                VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "attestation.allow_sample"));
        c.allow_sample = true;
        assert_int_equal(
                vt_attest_devices(&c, "{\"sampledevice\":{\"svn\":\"2\"}}", nonce, 0, &r, &d), 0);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.dev[0].name, "sampledevice0");
        assert_int_equal(vt_ar4si_tier_of(&r.dev[0].tv), VT_AR4SI_TIER_CONTRAINDICATED);
        assert_string_equal(json_string_value(json_object_get(r.dev[0].claims, "svn")), "2");
        vt_attest_devices_done(&r);
        c.allow_sample = false;
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_devices(&c, "{\"nvidia\":{\"device_evidence_list\":[]}}", nonce,
                                           0, &r, &d),
                         VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "attestation.nvidia is false"));
        /* with a verifier, an empty list and a device whose evidence does not parse */
        struct vt_nv_verifier *v = NULL;
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        c.nvidia = v;
        vt_diag_clear(&d);
        assert_int_equal(vt_attest_devices(&c, "{\"nvidia\":{\"device_evidence_list\":[]}}", nonce,
                                           0, &r, &d),
                         VT_E_FORMAT);
        if (!strstr(d.msg, "nvidia"))
                fail_msg("%s", d.msg);
        vt_diag_clear(&d);
        assert_int_equal(
                vt_attest_devices(&c,
                                  "{\"nvidia\":{\"device_evidence_list\":[{\"arch\":\"HOPPER\","
                                  "\"evidence\":\"AAAA\",\"certificate\":\"AAAA\"}]}}",
                                  nonce, 0, &r, &d),
                VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "nvidia device 0 (HOPPER)"));
        vt_nv_verifier_free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_attest_table),
                cmocka_unit_test(test_attest_accepted),
                cmocka_unit_test(test_attest_sample),
                cmocka_unit_test(test_attest_refvals),
                cmocka_unit_test(test_attest_initdata),
                cmocka_unit_test(test_attest_offline_snp),
                cmocka_unit_test(test_attest_offline_snp_time),
                cmocka_unit_test(test_attest_offline_dcap),
                cmocka_unit_test(test_attest_offline_az),
                cmocka_unit_test(test_attest_devices_refusals),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
