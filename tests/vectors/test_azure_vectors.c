/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az-snp-vtpm, az-tdx-vtpm and tpm evidence recorded on real Azure CVMs and TPMs
 * (../shared/testdata/snp/azure and kbs/trustee; expected values from their PROVENANCE.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "kbs/rcar.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/macro.h"
#include "veritee/azure.h"
#include "vtdtest.h"

/* Inside every VCEK window of the fixtures (2025-01-28 .. 2030-05-02). */
#define AT "2025-06-01T00:00:00Z"

#define V2_REPORT_DATA                                                                             \
        "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9" \
        "f"                                                                                        \
        "5f819ef"
#define GENOA_REPORT_DATA                                                                          \
        "0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270e" \
        "a"                                                                                        \
        "35d950f"
#define CHALLENGE "6368616c6c656e6765"
#define TPM_REPORT_DATA                                                                            \
        "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393ef0e41a18b3569ab678f1497" \
        "f"                                                                                        \
        "bc5c120"

static struct vt_snp_verifier *SNP;
static struct vt_dcap_verifier *DCAP;

static int setup(void **state)
{
        if (vt_snp_verifier_new(&SNP) < 0 || vt_dcap_verifier_new(&DCAP) < 0)
                return -1;
        /* no KDS, no PCCS: everything must come from the evidence */
        if (vt_snp_verifier_set_kds(SNP, "http://127.0.0.1:9", NULL) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        vt_snp_verifier_free(SNP);
        vt_dcap_verifier_free(DCAP);
        return 0;
}

static int64_t T(const char *s)
{
        int64_t t = 0;
        assert_int_equal(vt_time_parse_rfc3339(s, &t), 0);
        return t;
}

struct rdata {
        uint8_t b[64];
        size_t n;
};

static struct rdata RD(const char *hex) {
        struct rdata r = {0};
        int n = vt_hex_decode(hex, r.b, sizeof(r.b));
        assert_true(n > 0);
        r.n = (size_t)n;
        return r;
}

static struct vt_az_verify_opts
opts_for(const struct rdata *rd)
{
        struct vt_az_verify_opts o = {
                .report_data = rd->b,
                .report_data_len = rd->n,
                .at = T(AT),
                .snp = SNP,
                .dcap = DCAP,
        };
        return o;
}

/* Verifies a fixture file; returns the error, fills res (caller: vt_az_result_done). */
static int verify_file(enum vt_az_tee tee, const char *rel, const struct vt_az_verify_opts *o,
                       struct vt_az_result *res, struct vt_diag *d)
{
        size_t n;
        char *j = (char *)vt_test_load_vector(rel, &n);
        int e = vt_az_verify(tee, j, n, o, res, d);
        free(j);
        return e;
}

static void assert_claim(const char *claims, const char *key, const char *want)
{
        json_t *o = json_loads(claims, 0, NULL);
        assert_non_null(o);
        const char *v = json_string_value(json_object_get(o, key));
        if (!v || strcmp(v, want) != 0)
                fail_msg("claim %s = %s, expected %s", key, v ? v : "(absent)", want);
        json_decref(o);
}

static const struct snp_case {
        const char *file, *report_data, *pcr0_prefix, *chip_prefix;
        unsigned version;
} snp_cases[] = {
        {"snp/azure/trustee/evidence-v0.json", CHALLENGE,
         "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced", "66a5a7b4403a3006", 0},
        {"snp/azure/trustee/evidence-v1.json", CHALLENGE,
         "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced", "66a5a7b4403a3006", 1},
        {"snp/azure/trustee/evidence-v2.json", V2_REPORT_DATA, "84275b2f4312cd4f", NULL, 2},
        {"snp/azure/trustee/evidence-genoa.json", GENOA_REPORT_DATA, "afd689d0bb1c5f36", NULL, 0},
        {"kbs/trustee/az-snp-vtpm/evidence-v1.json", CHALLENGE,
         "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced", "66a5a7b4403a3006", 1},
        {"kbs/trustee/az-snp-vtpm/evidence-v2.json", V2_REPORT_DATA, "84275b2f4312cd4f", NULL, 2},
};

static void test_az_snp_vtpm_fixtures(void **state)
{
        VT_REQUIRE_TESTDATA();
        for (size_t i = 0; i < ELEMENTSOF(snp_cases); i++) {
                const struct snp_case *c = &snp_cases[i];
                struct rdata rd = RD(c->report_data);
                struct vt_az_verify_opts o = opts_for(&rd);
                struct vt_az_result res;
                struct vt_diag d = {0};
                int e = verify_file(VT_AZ_TEE_SNP_VTPM, c->file, &o, &res, &d);
                if (e != 0)
                        fail_msg("%s: %s", c->file, d.msg);
                unsigned want = VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE | VT_AZ_CHECK_PCRS |
                                VT_AZ_CHECK_HCL_BINDING | VT_AZ_CHECK_HW_REPORT |
                                (c->version >= 2 ? VT_AZ_CHECK_USER_DATA : 0);
                assert_int_equal(res.checks, want);
                assert_int_equal(res.version, c->version);
                assert_int_equal(res.pcr_mask, 0xffffff);
                assert_int_equal(res.snp.report.vmpl, 0);
                assert_int_equal(res.snp.report.policy, 0x3001f);
                char pcr0[65], chip[129];
                vt_hex_encode(res.pcrs[0], 32, pcr0);
                vt_hex_encode(res.snp.report.chip_id, 64, chip);
                assert_memory_equal(pcr0, c->pcr0_prefix, strlen(c->pcr0_prefix));
                if (c->chip_prefix)
                        assert_memory_equal(chip, c->chip_prefix, strlen(c->chip_prefix));
                char *claims = NULL;
                assert_int_equal(vt_az_claims_json(&res, &claims), 0);
                json_t *cj = json_loads(claims, 0, NULL);
                assert_non_null(cj);
                const char *p0 = json_string_value(json_object_get(cj, "tpm_pcr0"));
                assert_non_null(p0);
                assert_string_equal(p0, pcr0);
                assert_string_equal(
                        json_string_value(json_object_get(json_object_get(cj, "tpm"), "pcr00")),
                        pcr0);
                assert_string_equal(json_string_value(json_object_get(cj, "report_data")),
                                    c->report_data);
                assert_non_null(json_object_get(cj, "tpm_pcr23"));
                assert_true(json_is_object(json_object_get(cj, "runtime_data")));
                assert_non_null(json_object_get(cj, "measurement"));
                assert_non_null(json_object_get(cj, "hw_report_data"));
                json_decref(cj);
                free(claims);
                vt_az_result_done(&res);
        }
}

/* The genoa fixture's product comes from the report (CPUID 19/11/01). */
static void test_az_snp_vtpm_genoa_product(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct rdata rd = RD(GENOA_REPORT_DATA);
        struct vt_az_verify_opts o = opts_for(&rd);
        struct vt_az_result res;
        struct vt_diag d = {0};
        assert_int_equal(verify_file(VT_AZ_TEE_SNP_VTPM, "snp/azure/trustee/evidence-genoa.json",
                                     &o, &res, &d),
                         0);
        assert_int_equal(res.snp.product, VT_SNP_PRODUCT_GENOA);
        assert_int_equal(res.snp.report.guest_svn, 0x1000b);
        /* PCR8 is not zero here: an init-data digest that does not produce it is refused */
        uint8_t zero[32] = {0};
        assert_int_equal(vt_az_check_init_data(res.pcrs[8], zero, &d), VT_E_BINDING);
        vt_az_result_done(&res);
}

/* hcl-report.bin + tpm-quote-v1.json + vcek.pem as decoded evidence (v1 semantics). */
static struct vt_az_evidence *loose_evidence(void)
{
        size_t hl, ql, vl;
        uint8_t *hcl = vt_test_load_vector("snp/azure/trustee/hcl-report.bin", &hl);
        char *qj = (char *)vt_test_load_vector("snp/azure/trustee/tpm-quote-v1.json", &ql);
        uint8_t *vcek = vt_test_load_vector("snp/azure/trustee/vcek.pem", &vl);
        json_t *q = json_loadb(qj, ql, 0, NULL);
        assert_non_null(q);
        json_t *w = json_pack("{s:i, s:O, s:s, s:s}", "version", 1, "tpm_quote", q, "hcl_report",
                              "AA", "vcek", "AA");
        char *wj = json_dumps(w, JSON_COMPACT);
        struct vt_az_evidence *ev = NULL;
        struct vt_diag d = {0};
        if (vt_az_evidence_parse(VT_AZ_TEE_SNP_VTPM, wj, strlen(wj), &ev, &d) < 0)
                fail_msg("%s", d.msg);
        free(ev->hcl);
        free(ev->vcek);
        ev->hcl = hcl;
        ev->hcl_len = hl;
        ev->vcek = vcek;
        ev->vcek_len = vl;
        free(wj);
        free(qj);
        json_decref(w);
        json_decref(q);
        return ev;
}

static void test_az_snp_vtpm_loose_files(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct vt_az_evidence *ev = loose_evidence();
        struct rdata rd = RD(CHALLENGE);
        struct vt_az_verify_opts o = opts_for(&rd);
        struct vt_az_result res;
        struct vt_diag d = {0};
        if (vt_az_verify_evidence(ev, &o, &res, &d) != 0)
                fail_msg("%s", d.msg);
        char pcr0[65], rdh[129], chip[129];
        vt_hex_encode(res.pcrs[0], 32, pcr0);
        vt_hex_encode(res.hcl->hw_report_data, 64, rdh);
        vt_hex_encode(res.snp.report.chip_id, 64, chip);
        assert_memory_equal(pcr0, "f3a7e99a5f819a03", 16);
        assert_memory_equal(rdh, "b3fbad6514c83cae", 16);
        assert_memory_equal(rdh + 64,
                            "0000000000000000000000000000000000000000000000000000000000000000", 64);
        assert_memory_equal(chip, "19752a447db501a3", 16);
        assert_int_equal(res.snp.report.reported_tcb.raw, 0x7308000000000003ull);
        assert_int_equal(res.snp.report.current_tcb.raw, 0xd208000000000003ull);
        assert_int_equal(res.snp.report.guest_svn, 5);
        vt_az_result_done(&res);

        /* PCR0[0] ^= 1: the PCR digest no longer matches */
        ev->pcrs[0][0] ^= 1;
        vt_diag_clear(&d);
        assert_int_equal(vt_az_verify_evidence(ev, &o, &res, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "PCR digest mismatch"));
        assert_int_equal(res.checks, VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE);
        vt_az_result_done(&res);
        ev->pcrs[0][0] ^= 1;

        /* HCL byte 0x6E0 (inside HCLEkPub) + 1: REPORT_DATA != SHA-256(var data) */
        ev->hcl[0x6e0]++;
        vt_diag_clear(&d);
        assert_int_equal(vt_az_verify_evidence(ev, &o, &res, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "REPORT_DATA"));
        assert_non_null(strstr(d.msg, "SHA-256(runtime data)"));
        assert_int_equal(res.checks,
                         VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE | VT_AZ_CHECK_PCRS);
        vt_az_result_done(&res);
        ev->hcl[0x6e0]--;

        /* a wrong nonce */
        struct rdata wrong = RD("65676e656c6c616863"); /* "egnellahc" */
        o = opts_for(&wrong);
        vt_diag_clear(&d);
        assert_int_equal(vt_az_verify_evidence(ev, &o, &res, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "extraData"));
        vt_az_result_done(&res);

        /* the quote signature byte changed */
        o = opts_for(&rd);
        ev->signature[5] ^= 0x40;
        vt_diag_clear(&d);
        assert_int_equal(vt_az_verify_evidence(ev, &o, &res, &d), VT_E_SIGNATURE);
        assert_non_null(strstr(d.msg, "HCLAkPub"));
        vt_az_result_done(&res);
        ev->signature[5] ^= 0x40;

        /* a VCEK of another chip */
        size_t gl;
        uint8_t *genoa = vt_test_load_vector("snp/azure/trustee/vcek-genoa.pem", &gl);
        uint8_t *keep = ev->vcek;
        size_t keep_len = ev->vcek_len;
        ev->vcek = genoa;
        ev->vcek_len = gl;
        vt_diag_clear(&d);
        assert_true(vt_az_verify_evidence(ev, &o, &res, &d) < 0);
        assert_non_null(strstr(d.msg, "SNP report"));
        assert_false(res.checks & VT_AZ_CHECK_HW_REPORT);
        vt_az_result_done(&res);
        ev->vcek = keep;
        ev->vcek_len = keep_len;
        free(genoa);
        vt_az_evidence_free(ev);
}

/* v1 evidence relabelled v2: the runtime user-data (all zero) does not carry the nonce. */
static void test_az_snp_vtpm_v2_user_data_mismatch(void **state)
{
        VT_REQUIRE_TESTDATA();
        size_t n;
        char *j = (char *)vt_test_load_vector("snp/azure/trustee/evidence-v1.json", &n);
        json_t *o = json_loadb(j, n, 0, NULL);
        json_object_set_new(o, "version", json_integer(2));
        char *j2 = json_dumps(o, JSON_COMPACT);
        struct rdata rd = RD(CHALLENGE);
        struct vt_az_verify_opts vo = opts_for(&rd);
        struct vt_az_result res;
        struct vt_diag d = {0};
        assert_int_equal(vt_az_verify(VT_AZ_TEE_SNP_VTPM, j2, strlen(j2), &vo, &res, &d),
                         VT_E_BINDING);
        assert_non_null(strstr(d.msg, "user-data"));
        assert_int_equal(res.checks, VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE |
                                             VT_AZ_CHECK_PCRS | VT_AZ_CHECK_HCL_BINDING);
        vt_az_result_done(&res);
        free(j2);
        free(j);
        json_decref(o);
}

/* The v2 fixture with a different nonce of the same length: refused at the nonce. */
static void test_az_snp_vtpm_v2_wrong_nonce(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct rdata rd = RD(V2_REPORT_DATA);
        rd.b[47] ^= 1;
        struct vt_az_verify_opts o = opts_for(&rd);
        struct vt_az_result res;
        struct vt_diag d = {0};
        assert_int_equal(
                verify_file(VT_AZ_TEE_SNP_VTPM, "snp/azure/trustee/evidence-v2.json", &o, &res, &d),
                VT_E_BINDING);
        assert_non_null(strstr(d.msg, "extraData"));
        vt_az_result_done(&res);
}

/* Evidence of the wrong tee or a shape of another version is refused, not crashed on. */
static void test_az_wrong_tee(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct rdata rd = RD(CHALLENGE);
        struct vt_az_verify_opts o = opts_for(&rd);
        struct vt_az_result res;
        struct vt_diag d = {0};
        assert_int_equal(
                verify_file(VT_AZ_TEE_TDX_VTPM, "snp/azure/trustee/evidence-v1.json", &o, &res, &d),
                VT_E_FORMAT);
        vt_az_result_done(&res);
        vt_diag_clear(&d);
        assert_int_equal(verify_file(VT_AZ_TEE_SNP_VTPM, "kbs/trustee/az-tdx-vtpm/evidence-v1.json",
                                     &o, &res, &d),
                         VT_E_FORMAT);
        vt_az_result_done(&res);
        vt_diag_clear(&d);
        assert_int_equal(
                verify_file(VT_AZ_TEE_TPM, "snp/azure/trustee/evidence-v0.json", &o, &res, &d),
                VT_E_FORMAT);
        vt_az_result_done(&res);
}

static void test_hcl_kinvolk_parses(void **state)
{
        VT_REQUIRE_TESTDATA();
        size_t n;
        uint8_t *b = vt_test_load_vector("snp/azure/kinvolk/hcl-report-snp.bin", &n);
        struct vt_hcl_report *r = NULL;
        struct vt_diag d = {0};
        if (vt_hcl_report_parse(b, n, &r, &d) < 0)
                fail_msg("%s", d.msg);
        assert_int_equal(n, 2048);
        assert_int_equal(r->version, 1);
        assert_int_equal(r->request_type, 2);
        assert_int_equal(r->report_type, VT_HCL_REPORT_SNP);
        assert_int_equal(r->hash_type, VT_HCL_HASH_SHA256);
        assert_int_equal(r->report_size, 0x20 + 1184 + r->data_size);
        assert_int_equal(r->snp.version, 2);
        assert_int_equal(r->snp.vmpl, 0);
        assert_int_equal(r->snp.policy, 0x3001f);
        assert_int_equal(r->snp.platform_info, 1);
        assert_false(r->has_user_data);
        assert_non_null(r->ak_n);
        assert_int_equal(r->ak_n_len, 256);
        char h[129];
        vt_hex_encode(r->snp.chip_id, 64, h);
        assert_memory_equal(h, "3a5d5b1d059d193e", 16);
        vt_hex_encode(r->hw_report_data, 32, h);
        assert_memory_equal(h, "1d0a466a9eed975e", 16);
        assert_int_equal(vt_hcl_check_binding(r, r->hw_report_data, &d), 0);
        vt_hcl_report_free(r);
        free(b);
}

/* Every cut of a real HCL report before report_size is refused; cuts into the zero
 * padding after it are not a change of the report. */
static void test_hcl_real_truncations(void **state)
{
        VT_REQUIRE_TESTDATA();
        static const char *const files[] = {"snp/azure/trustee/hcl-report.bin",
                                            "snp/azure/kinvolk/hcl-report-snp.bin"};
        for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                size_t n;
                uint8_t *b = vt_test_load_vector(files[f], &n);
                struct vt_hcl_report *r = NULL;
                assert_int_equal(vt_hcl_report_parse(b, n, &r, NULL), 0);
                size_t size = r->report_size;
                vt_hcl_report_free(r);
                for (size_t k = 0; k < n; k++) {
                        uint8_t *c = malloc(k ? k : 1);
                        memcpy(c, b, k);
                        r = NULL;
                        int e = vt_hcl_report_parse(c, k, &r, NULL);
                        if (k < size)
                                assert_int_equal(e, VT_E_TRUNCATED);
                        else
                                assert_int_equal(e, 0);
                        vt_hcl_report_free(r);
                        free(c);
                }
                free(b);
        }
}

static void test_tpm_attest_real_truncations(void **state)
{
        VT_REQUIRE_TESTDATA();
        size_t n;
        char *j = (char *)vt_test_load_vector("snp/azure/trustee/tpm-quote-v1.json", &n);
        json_t *q = json_loadb(j, n, 0, NULL);
        const char *hex = json_string_value(json_object_get(q, "message"));
        uint8_t m[VT_TPM_MAX_ATTEST];
        int ml = vt_hex_decode(hex, m, sizeof(m));
        assert_int_equal(ml, 122);
        struct vt_tpm_attest a;
        assert_int_equal(vt_tpm_attest_parse(m, (size_t)ml, &a, NULL), 0);
        assert_int_equal(a.extra_data_len, 9);
        assert_memory_equal(a.extra_data, "challenge", 9);
        assert_int_equal(a.n_sel, 1);
        assert_int_equal(a.sel[0].hash_alg, VT_TPM_ALG_SHA256);
        assert_int_equal(a.firmware_version, 0x2020031200120003ull);
        for (int k = 0; k < ml; k++) {
                uint8_t *c = malloc(k ? (size_t)k : 1);
                memcpy(c, m, (size_t)k);
                assert_int_equal(vt_tpm_attest_parse(c, (size_t)k, &a, NULL), VT_E_TRUNCATED);
                free(c);
        }
        json_decref(q);
        free(j);
}

/* az-tdx-vtpm: the TPM quote and the HCL binding verify; the TD quote cannot, for want of
 * collateral (the recorded evidence has none and no PCCS is configured). */
static void test_az_tdx_vtpm_no_collateral(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct rdata rd = RD(CHALLENGE);
        struct vt_az_verify_opts o = opts_for(&rd);
        struct vt_az_result res;
        struct vt_diag d = {0};
        int e = verify_file(VT_AZ_TEE_TDX_VTPM, "kbs/trustee/az-tdx-vtpm/evidence-v1.json", &o,
                            &res, &d);
        assert_int_equal(e, VT_E_NOTFOUND);
        assert_non_null(strstr(d.msg, "no collateral"));
        assert_non_null(strstr(d.msg, "TD quote"));
        assert_int_equal(res.checks, VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE |
                                             VT_AZ_CHECK_PCRS | VT_AZ_CHECK_HCL_BINDING);
        assert_int_equal(res.hcl->report_type, VT_HCL_REPORT_TDX);
        assert_int_equal(res.hcl->version, 2);
        char pcr0[65];
        vt_hex_encode(res.pcrs[0], 32, pcr0);
        assert_memory_equal(pcr0, "782b20b10f55cc46", 16);
        vt_az_result_done(&res);

        /* the same evidence with a wrong nonce fails before the TD quote */
        struct rdata wrong = RD("77726f6e67");
        o = opts_for(&wrong);
        vt_diag_clear(&d);
        assert_int_equal(verify_file(VT_AZ_TEE_TDX_VTPM, "kbs/trustee/az-tdx-vtpm/evidence-v1.json",
                                     &o, &res, &d),
                         VT_E_BINDING);
        vt_az_result_done(&res);

        /* no DCAP verifier at all is a caller error, reported as such */
        o = opts_for(&rd);
        o.dcap = NULL;
        vt_diag_clear(&d);
        assert_int_equal(verify_file(VT_AZ_TEE_TDX_VTPM, "kbs/trustee/az-tdx-vtpm/evidence-v1.json",
                                     &o, &res, &d),
                         VT_E_INVAL);
        vt_az_result_done(&res);
}

/* A changed TDREPORT field in the HCL report no longer matches the TD quote. */
static void test_az_tdx_vtpm_tdreport_mismatch(void **state)
{
        VT_REQUIRE_TESTDATA();
        size_t n;
        char *j = (char *)vt_test_load_vector("kbs/trustee/az-tdx-vtpm/evidence-v1.json", &n);
        struct vt_az_evidence *ev = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_az_evidence_parse(VT_AZ_TEE_TDX_VTPM, j, n, &ev, &d), 0);
        ev->hcl[0x20 + 512 + 16] ^= 1; /* TDINFO.MRTD[0] */
        struct rdata rd = RD(CHALLENGE);
        struct vt_az_verify_opts o = opts_for(&rd);
        struct vt_az_result res;
        assert_int_equal(vt_az_verify_evidence(ev, &o, &res, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "mr_td"));
        vt_az_result_done(&res);
        vt_az_evidence_free(ev);
        free(j);
}

static uint8_t *tpm_ak_der(size_t *len)
{
        size_t n;
        char *j = (char *)vt_test_load_vector("kbs/trustee/tpm/tpm_evidence.json", &n);
        json_t *o = json_loadb(j, n, 0, NULL);
        const char *b64 = json_string_value(json_object_get(o, "ak_public"));
        assert_non_null(b64);
        uint8_t *der = malloc(strlen(b64));
        int dl = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)strlen(b64));
        assert_true(dl > 0);
        /* EVP_DecodeBlock counts padding bytes as data */
        size_t bl = strlen(b64);
        dl -= (b64[bl - 1] == '=') + (b64[bl - 2] == '=');
        *len = (size_t)dl;
        json_decref(o);
        free(j);
        return der;
}

static void test_tpm_fixture(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct vt_tpm_aks *aks = NULL;
        struct vt_diag d = {0};
        size_t dl;
        uint8_t *der = tpm_ak_der(&dl);
        assert_int_equal(vt_tpm_aks_new(&aks), 0);
        assert_int_equal(vt_tpm_aks_add(aks, der, dl, &d), 0);
        struct rdata rd = RD(TPM_REPORT_DATA);
        struct vt_az_verify_opts o = opts_for(&rd);
        o.aks = aks;
        struct vt_az_result res;
        int e = verify_file(VT_AZ_TEE_TPM, "kbs/trustee/tpm/tpm_evidence.json", &o, &res, &d);
        if (e)
                fail_msg("%s", d.msg);
        assert_int_equal(res.checks, VT_AZ_CHECK_AK_TRUSTED | VT_AZ_CHECK_QUOTE_SIGNATURE |
                                             VT_AZ_CHECK_NONCE | VT_AZ_CHECK_PCRS);
        char *claims = NULL;
        assert_int_equal(vt_az_claims_json(&res, &claims), 0);
        assert_claim(claims, "tpm_pcr0",
                     "0000000000000000000000000000000000000000000000000000000000000000");
        assert_claim(claims, "report_data", TPM_REPORT_DATA "00000000000000000000000000000000");
        free(claims);
        vt_az_result_done(&res);

        /* the nonce padded to 64 bytes: the same */
        struct rdata padded = RD(TPM_REPORT_DATA "00000000000000000000000000000000");
        o.report_data = padded.b;
        o.report_data_len = padded.n;
        assert_int_equal(
                verify_file(VT_AZ_TEE_TPM, "kbs/trustee/tpm/tpm_evidence.json", &o, &res, &d), 0);
        vt_az_result_done(&res);

        /* only another key trusted: refused */
        struct vt_tpm_aks *other = NULL;
        EVP_PKEY *k = EVP_RSA_gen(2048);
        BIO *b = BIO_new(BIO_s_mem());
        assert_true(PEM_write_bio_PUBKEY(b, k));
        char *pem;
        long pl = BIO_get_mem_data(b, &pem);
        assert_int_equal(vt_tpm_aks_new(&other), 0);
        assert_int_equal(vt_tpm_aks_add(other, (const uint8_t *)pem, (size_t)pl, &d), 0);
        o.report_data = rd.b;
        o.report_data_len = rd.n;
        o.aks = other;
        vt_diag_clear(&d);
        assert_int_equal(
                verify_file(VT_AZ_TEE_TPM, "kbs/trustee/tpm/tpm_evidence.json", &o, &res, &d),
                VT_E_CHAIN);
        assert_non_null(strstr(d.msg, "not trusted"));
        assert_int_equal(res.checks, 0);
        vt_az_result_done(&res);

        /* no trusted keys at all */
        o.aks = NULL;
        vt_diag_clear(&d);
        assert_int_equal(
                verify_file(VT_AZ_TEE_TPM, "kbs/trustee/tpm/tpm_evidence.json", &o, &res, &d),
                VT_E_INVAL);
        vt_az_result_done(&res);

        /* trusted AK, wrong nonce */
        o.aks = aks;
        rd.b[0] ^= 1;
        vt_diag_clear(&d);
        assert_int_equal(
                verify_file(VT_AZ_TEE_TPM, "kbs/trustee/tpm/tpm_evidence.json", &o, &res, &d),
                VT_E_BINDING);
        vt_az_result_done(&res);

        BIO_free(b);
        EVP_PKEY_free(k);
        vt_tpm_aks_free(other);
        vt_tpm_aks_free(aks);
        free(der);
}

/* ---- the CLI contract ---- */

/* Runs the veritee CLI with args; returns the exit status and the first stdout line. */
static int run_cli(const char *args, char *out, size_t cap)
{
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", bin("veritee"), args);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        out[0] = 0;
        if (!fgets(out, (int)cap, f))
                out[0] = 0;
        int st = pclose(f);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_verify_azure(void **state)
{
        VT_REQUIRE_TESTDATA();
        static char out[1 << 16];
        char args[1024];
        snprintf(args, sizeof(args),
                 "verify az-snp-vtpm %s --report-data " V2_REPORT_DATA " --at " AT,
                 vt_testdata("snp/azure/trustee/evidence-v2.json"));
        assert_int_equal(run_cli(args, out, sizeof(out)), 0);
        json_t *j = json_loads(out, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "tee")), "az-snp-vtpm");
        assert_string_equal(json_string_value(json_object_get(j, "verdict")), "trusted");
        const char *pcr0 =
                json_string_value(json_object_get(json_object_get(j, "claims"), "tpm_pcr0"));
        assert_non_null(pcr0);
        assert_memory_equal(pcr0, "84275b2f4312cd4f", 16);
        json_decref(j);

        snprintf(args, sizeof(args), "verify azsnpvtpm %s --report-data 00 --at " AT,
                 vt_testdata("snp/azure/trustee/evidence-v1.json"));
        assert_int_equal(run_cli(args, out, sizeof(out)), 1);
        j = json_loads(out, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(j, "verdict")), "rejected");
        assert_non_null(strstr(json_string_value(json_object_get(j, "reason")), "extraData"));
        json_decref(j);

        snprintf(args, sizeof(args), "verify az-tdx-vtpm %s --report-data " CHALLENGE,
                 vt_testdata("kbs/trustee/az-tdx-vtpm/evidence-v1.json"));
        assert_int_equal(run_cli(args, out, sizeof(out)), 1);
        j = json_loads(out, 0, NULL);
        const char *reason = json_string_value(json_object_get(j, "reason"));
        assert_non_null(strstr(reason, "no collateral"));
        assert_non_null(strstr(reason, "passed: quote signature, nonce, PCR digest, HCL binding"));
        json_decref(j);

        /* usage errors: no report data, tpm without --ak, bad hex */
        snprintf(args, sizeof(args), "verify az-snp-vtpm %s",
                 vt_testdata("snp/azure/trustee/evidence-v2.json"));
        assert_int_equal(run_cli(args, out, sizeof(out)), 2);
        snprintf(args, sizeof(args), "verify tpm %s --report-data 00",
                 vt_testdata("kbs/trustee/tpm/tpm_evidence.json"));
        assert_int_equal(run_cli(args, out, sizeof(out)), 2);
        snprintf(args, sizeof(args), "verify az-snp-vtpm %s --report-data xyz",
                 vt_testdata("snp/azure/trustee/evidence-v2.json"));
        assert_int_equal(run_cli(args, out, sizeof(out)), 2);
}

static void test_cli_verify_tpm(void **state)
{
        VT_REQUIRE_TESTDATA();
        static char out[1 << 16];
        char args[1024], pem[600];
        size_t dl;
        uint8_t *der = tpm_ak_der(&dl);
        const uint8_t *p = der;
        EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)dl);
        assert_non_null(k);
        snprintf(pem, sizeof(pem), "%s/ak.pem", vtt_dir);
        FILE *f = fopen(pem, "w");
        assert_non_null(f);
        assert_true(PEM_write_PUBKEY(f, k));
        fclose(f);
        snprintf(args, sizeof(args), "verify tpm %s --report-data " TPM_REPORT_DATA " --ak %s",
                 vt_testdata("kbs/trustee/tpm/tpm_evidence.json"), pem);
        assert_int_equal(run_cli(args, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "\"verdict\":\"trusted\""));
        assert_non_null(strstr(out, "\"tee\":\"tpm\""));
        EVP_PKEY_free(k);
        free(der);
}

/* ---- the server (KBS) ---- */

/* A TPMS_ATTEST quote over all 24 PCRs with the given extraData, RSASSA-signed by k, as
 * tpm evidence. */
static json_t *tpm_evidence_for(EVP_PKEY *k, const uint8_t nonce[64], const uint8_t *pcr8)
{
        uint8_t m[512], pcrs[24][32], cat[24 * 32], sig[512], tsig[520];
        size_t n = 0, sl = sizeof(sig);
        char h[65];
        memset(pcrs, 0x5a, sizeof(pcrs));
        if (pcr8)
                memcpy(pcrs[8], pcr8, 32);
        static const uint8_t head[] = {0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x00, 0x00, 0x40};
        memcpy(m, head, sizeof(head));
        n = sizeof(head);
        memcpy(m + n, nonce, 64);
        n += 64;
        memset(m + n, 0, 17 + 8); /* clockInfo, firmwareVersion */
        n += 25;
        static const uint8_t sel[] = {0, 0, 0, 1, 0x00, 0x0b, 3, 0xff, 0xff, 0xff, 0x00, 0x20};
        memcpy(m + n, sel, sizeof(sel));
        n += sizeof(sel);
        memcpy(cat, pcrs, sizeof(cat));
        assert_true(EVP_Digest(cat, sizeof(cat), m + n, NULL, EVP_sha256(), NULL));
        n += 32;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k), 1);
        assert_int_equal(EVP_DigestSign(c, sig, &sl, m, n), 1);
        EVP_MD_CTX_free(c);
        tsig[0] = 0x00, tsig[1] = 0x14, tsig[2] = 0x00, tsig[3] = 0x0b;
        tsig[4] = (uint8_t)(sl >> 8), tsig[5] = (uint8_t)sl;
        memcpy(tsig + 6, sig, sl);
        unsigned char *der = NULL;
        int dl = i2d_PUBKEY(k, &der);
        char *ak = NULL, *mb = NULL, *sb = NULL;
        assert_int_equal(vt_b64_encode(der, (size_t)dl, VT_B64_STD, &ak), 0);
        assert_int_equal(vt_b64_encode(m, n, VT_B64_STD, &mb), 0);
        assert_int_equal(vt_b64_encode(tsig, sl + 6, VT_B64_STD, &sb), 0);
        json_t *pa = json_array();
        for (int i = 0; i < 24; i++) {
                vt_hex_encode(pcrs[i], 32, h);
                json_array_append_new(pa, json_string(h));
        }
        json_t *ev = json_pack("{s:s, s:{s:s, s:s, s:o}}", "ak_public", ak, "tpm_quote",
                               "signature", sb, "message", mb, "pcrs", pa);
        OPENSSL_free(der);
        free(ak);
        free(mb);
        free(sb);
        return ev;
}

static char *attest_with(const char *nonce, json_t *jwk, json_t *primary)
{
        json_t *b = json_pack("{s:{s:s, s:O}, s:{s:O, s:s}}", "runtime-data", "nonce", nonce,
                              "tee-pubkey", jwk, "tee-evidence", "primary_evidence", primary,
                              "additional_evidence", "");
        char *t = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        return t;
}

static void expect_status(const struct server *s, const char *body, const char *cookie, long status,
                          const char *log)
{
        struct http h = post(s, "/kbs/v0/attest", body, cookie);
        if (h.status != status)
                fail_msg("status %ld, want %ld: %s", h.status, status, h.body ? h.body : "");
        if (log && !log_has(s, log))
                fail_msg("log lacks \"%s\"", log);
        if (status == 200)
                assert_non_null(strstr(h.body, "\"token\""));
        free(h.body);
}

static void test_server_azure_tees(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct server a = {0}, b = {0};
        char cfg[1024], cookie[128], pem[600];
        EVP_PKEY *k = EVP_RSA_gen(2048);
        snprintf(pem, sizeof(pem), "%s/server-ak.pem", vtt_dir);
        FILE *f = fopen(pem, "w");
        assert_non_null(f);
        assert_true(PEM_write_PUBKEY(f, k));
        fclose(f);

        /* no trusted AKs: az-* accepted, tpm refused at /auth */
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/a\nattestation:\n"
                 "  pccs_url: http://127.0.0.1:9\n  kds_url: http://127.0.0.1:9\n",
                 vtt_dir);
        server_start(&a, "a", cfg);
        struct http h = post(&a, "/kbs/v0/auth",
                             "{\"version\":\"0.4.0\",\"tee\":\"tpm\",\"extra-params\":\"\"}", NULL);
        assert_int_equal(h.status, 401);
        assert_non_null(strstr(h.body, "tpm_trusted_aks"));
        free(h.body);
        json_t *jwk = new_jwk();
        size_t n;
        char *fx = (char *)vt_test_load_vector("kbs/trustee/az-snp-vtpm/evidence-v2.json", &n);
        json_t *primary = json_loadb(fx, n, 0, NULL);
        static const char *const tees[] = {"az-snp-vtpm", "azsnpvtpm"};
        for (size_t i = 0; i < ELEMENTSOF(tees); i++) {
                char *nonce = auth(&a, tees[i], cookie);
                char *body = attest_with(nonce, jwk, primary);
                /* recorded evidence cannot carry this session's binding */
                expect_status(&a, body, cookie, 401, "TPM quote extraData");
                free(body);
                free(nonce);
        }
        json_decref(primary);
        free(fx);
        fx = (char *)vt_test_load_vector("kbs/trustee/az-tdx-vtpm/evidence-v1.json", &n);
        primary = json_loadb(fx, n, 0, NULL);
        char *nonce = auth(&a, "az-tdx-vtpm", cookie);
        char *body = attest_with(nonce, jwk, primary);
        expect_status(&a, body, cookie, 401, "az-tdx-vtpm: TPM quote extraData");
        free(body);
        free(nonce);
        json_decref(primary);
        free(fx);

        /* trusted AK: a quote bound to the session attests; tpm alone is "warning" */
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/b\nattestation:\n"
                 "  minimum_status: warning\n  tpm_trusted_aks:\n    - %s\n"
                 "  pccs_url: http://127.0.0.1:9\n  kds_url: http://127.0.0.1:9\n",
                 vtt_dir, pem);
        server_start(&b, "b", cfg);
        uint8_t rd[64] = {0};
        nonce = auth(&b, "tpm", cookie);
        assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, "", rd), 0);
        json_t *ev = tpm_evidence_for(k, rd, NULL);
        body = attest_with(nonce, jwk, ev);
        expect_status(&b, body, cookie, 200, NULL);
        free(body);
        free(nonce);
        /* another session: the old quote does not bind its nonce */
        nonce = auth(&b, "tpm", cookie);
        body = attest_with(nonce, jwk, ev);
        expect_status(&b, body, cookie, 401, "tpm: TPM quote extraData");
        free(body);
        free(nonce);
        json_decref(ev);
        /* a key that is not trusted */
        EVP_PKEY *k2 = EVP_RSA_gen(2048);
        nonce = auth(&b, "tpm", cookie);
        memset(rd, 0, sizeof(rd));
        assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, "", rd), 0);
        ev = tpm_evidence_for(k2, rd, NULL);
        body = attest_with(nonce, jwk, ev);
        expect_status(&b, body, cookie, 401, "is not trusted");
        free(body);
        free(nonce);
        json_decref(ev);
        EVP_PKEY_free(k2);

        /* init-data (sha256) bound through PCR8; sha384 init-data cannot be */
        static const char toml[] = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n"
                                   "\"policy.rego\" = \"package agent_policy\"\n";
        uint8_t in[64] = {0}, pcr8[32];
        assert_true(EVP_Digest(toml, strlen(toml), in + 32, NULL, EVP_sha256(), NULL));
        assert_true(EVP_Digest(in, sizeof(in), pcr8, NULL, EVP_sha256(), NULL));
        nonce = auth(&b, "tpm", cookie);
        memset(rd, 0, sizeof(rd));
        assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, "", rd), 0);
        ev = tpm_evidence_for(k, rd, pcr8);
        body = attest_with(nonce, jwk, ev);
        json_t *bj = json_loads(body, 0, NULL);
        free(body);
        json_object_set_new(bj, "init-data",
                            json_pack("{s:s, s:s}", "format", "toml", "body", toml));
        body = json_dumps(bj, JSON_COMPACT);
        expect_status(&b, body, cookie, 200, NULL);
        free(body);
        free(nonce);
        /* the same init-data, PCR8 of another */
        nonce = auth(&b, "tpm", cookie);
        memset(rd, 0, sizeof(rd));
        assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, "", rd), 0);
        json_decref(ev);
        ev = tpm_evidence_for(k, rd, NULL);
        json_object_set_new(json_object_get(bj, "runtime-data"), "nonce", json_string(nonce));
        json_object_set_new(json_object_get(bj, "tee-evidence"), "primary_evidence", ev);
        body = json_dumps(bj, JSON_COMPACT);
        expect_status(&b, body, cookie, 401, "init-data: PCR8");
        free(body);
        free(nonce);
        json_decref(bj);

        server_stop(&a);
        server_stop(&b);
        json_decref(jwk);
        EVP_PKEY_free(k);
}

static int group_setup(void **state)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
        snprintf(vtt_dir, sizeof(vtt_dir), "%s/veritee-azure-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(vtt_dir))
                return -1;
        snprintf(vtt_simdir, sizeof(vtt_simdir), "%s/sim", vtt_dir);
        return setup(state);
}

static int group_teardown(void **state)
{
        char cmd[600];
        server_stop_all();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vtt_dir);
        int r = system(cmd);
        curl_global_cleanup();
        return teardown(state) < 0 || r != 0 ? -1 : 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_az_snp_vtpm_fixtures),
                cmocka_unit_test(test_az_snp_vtpm_genoa_product),
                cmocka_unit_test(test_az_snp_vtpm_loose_files),
                cmocka_unit_test(test_az_snp_vtpm_v2_user_data_mismatch),
                cmocka_unit_test(test_az_snp_vtpm_v2_wrong_nonce),
                cmocka_unit_test(test_az_wrong_tee),
                cmocka_unit_test(test_hcl_kinvolk_parses),
                cmocka_unit_test(test_hcl_real_truncations),
                cmocka_unit_test(test_tpm_attest_real_truncations),
                cmocka_unit_test(test_az_tdx_vtpm_no_collateral),
                cmocka_unit_test(test_az_tdx_vtpm_tdreport_mismatch),
                cmocka_unit_test(test_tpm_fixture),
                cmocka_unit_test(test_cli_verify_azure),
                cmocka_unit_test(test_cli_verify_tpm),
                cmocka_unit_test(test_server_azure_tees),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, group_setup, group_teardown);
}
