/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SEV-SNP verification on reports recorded on real hardware
 * (../shared/testdata/snp, expected values from its PROVENANCE.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/hex.h"
#include "veritee/snp.h"

static struct vt_snp_verifier *V;

static int setup(void **state)
{
        return vt_snp_verifier_new(&V);
}

static int teardown(void **state)
{
        vt_snp_verifier_free(V);
        return 0;
}

static int64_t T(const char *s)
{
        int64_t t = 0;
        assert_int_equal(vt_time_parse_rfc3339(s, &t), 0);
        return t;
}

/* Verifies REPORT with LEAF at time AT (NULL: now); returns the error and fills res/diag. */
static int verify_files(const char *report, const char *leaf, const char *at,
                        const struct vt_snp_policy *pol, struct vt_snp_result *res,
                        struct vt_diag *d)
{
        size_t rl, ll;
        uint8_t *rb = vt_test_load_vector(report, &rl);
        uint8_t *lb = vt_test_load_vector(leaf, &ll);
        struct vt_snp_verify_opts o = {
                .leaf = lb, .leaf_len = ll, .at = at ? T(at) : 0, .policy = pol};
        int e = vt_snp_verify(V, rb, rl, &o, res, d);
        free(rb);
        free(lb);
        return e;
}

static const struct valid {
        const char *report, *leaf, *at;
        enum vt_snp_product product;
        uint32_t version, vmpl;
        uint64_t policy, platform_info, reported_tcb;
        enum vt_snp_signer signer;
        const char *chip_prefix, *measurement;
} valid[] = {
        {"snp/gsg/milan_v2_attestation.bin", "snp/gsg/milan_v2_vcek.der", NULL,
         VT_SNP_PRODUCT_MILAN, 2, 0, 0xb0000, 0x1, 0x4405000000000002ull, VT_SNP_SIGNER_VCEK,
         "3ac3fe21e13fb099",
         "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e"
         "4872b01"},
        {"snp/virtee/milan_v2_report.bin", "snp/virtee/milan_v2_vcek.der", NULL,
         VT_SNP_PRODUCT_MILAN, 2, 0, 0x30000, 0x1, 0x7308000000000003ull, VT_SNP_SIGNER_VCEK,
         "d49554ec717f4e5b",
         "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480c"
         "d81841f"},
        {"snp/trustee/test-report.bin", "snp/trustee/test-vcek.der", NULL, VT_SNP_PRODUCT_MILAN, 2,
         0, 0x3001f, 0x1, 0x7308000000000003ull, VT_SNP_SIGNER_VCEK, "c38427a30d4c7af9",
         "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f905"
         "0d3d38c"},
        {"snp/trustee/test-vlek-report.bin", "snp/trustee/test-vlek.der", "2025-06-01T00:00:00Z",
         VT_SNP_PRODUCT_MILAN, 3, 1, 0x30000, 0x27, 0xd918000000000004ull, VT_SNP_SIGNER_VLEK,
         "0000000000000000",
         "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a5"
         "70d7bf0"},
        {"snp/trustee/e2e-report-genoa-siena.bin", "snp/trustee/e2e-vcek-genoa-siena.der", NULL,
         VT_SNP_PRODUCT_GENOA, 3, 0, 0x30000, 0x25, 0x191700000000000aull, VT_SNP_SIGNER_VCEK,
         "371c55d6d15cb50f",
         "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974dd50b315"
         "506e73e"},
        {"snp/msft-tav/milan_attestation_report.bin", "snp/msft-tav/milan_vcek.pem", NULL,
         VT_SNP_PRODUCT_MILAN, 3, 0, 0x3001f, 0x25, 0xdb18000000000004ull, VT_SNP_SIGNER_VCEK,
         "4ffb5cb4fd594f3f",
         "5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439487c609388ed7f98189887920ab2fa0096903a0"
         "c23fca1"},
        {"snp/msft-tav/genoa_attestation_report.bin", "snp/msft-tav/genoa_vcek.pem", NULL,
         VT_SNP_PRODUCT_GENOA, 3, 0, 0x3001f, 0x27, 0x541700000000000aull, VT_SNP_SIGNER_VCEK,
         "b1e24a27bbc3a4d5",
         "5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439487c609388ed7f98189887920ab2fa0096903a0"
         "c23fca1"},
        {"snp/msft-tav/turin_attestation_report.bin", "snp/msft-tav/turin_vcek.pem", NULL,
         VT_SNP_PRODUCT_TURIN, 5, 0, 0x3001f, 0x65, 0x5100000004010101ull, VT_SNP_SIGNER_VCEK,
         "59790fb1c39f35c1",
         "6d6c354511d6f7c6d7504668903dc5bdc066a048b651840d8d03fb85299ebfa142fccf1d1b0baca496841bdf2"
         "43619d4"},
};

static void test_snp_vectors_valid(void **state)
{
        VT_REQUIRE_TESTDATA();
        for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
                const struct valid *v = &valid[i];
                struct vt_snp_result res;
                struct vt_diag d = {0};
                char hex[129];
                int e = verify_files(v->report, v->leaf, v->at, NULL, &res, &d);
                if (e != 0)
                        fail_msg("%s: %s", v->report, d.msg);
                assert_int_equal(res.product, v->product);
                assert_int_equal(res.signer, v->signer);
                assert_true(res.root_builtin);
                assert_int_equal(res.report.version, v->version);
                assert_int_equal(res.report.vmpl, v->vmpl);
                assert_true(res.report.policy == v->policy);
                assert_true(res.report.platform_info == v->platform_info);
                assert_true(res.report.reported_tcb.raw == v->reported_tcb);
                vt_hex_encode(res.report.chip_id, 8, hex);
                assert_string_equal(hex, v->chip_prefix);
                vt_hex_encode(res.report.measurement, 48, hex);
                assert_string_equal(hex, v->measurement);
        }
}

/* Specific field facts from PROVENANCE.md. */
static void test_snp_vectors_fields(void **state)
{
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char hex[129];
        VT_REQUIRE_TESTDATA();
        assert_int_equal(verify_files("snp/msft-tav/turin_attestation_report.bin",
                                      "snp/msft-tav/turin_vcek.pem", NULL, NULL, &res, &d),
                         0);
        assert_true(res.report.reported_tcb.turin);
        assert_int_equal(res.report.reported_tcb.fmc, 1);
        assert_int_equal(res.report.reported_tcb.bootloader, 1);
        assert_int_equal(res.report.reported_tcb.tee, 1);
        assert_int_equal(res.report.reported_tcb.snp, 4);
        assert_int_equal(res.report.reported_tcb.microcode, 0x51);
        assert_true(res.report.launch_mit_vector == 0x3f && res.report.current_mit_vector == 0x3f);
        assert_int_equal(res.report.guest_svn, 2);
        assert_int_equal(res.report.cpuid_fam_id, 0x1a);
        assert_int_equal(res.report.current_major, 1);
        assert_int_equal(res.report.current_minor, 55);
        assert_int_equal(res.report.current_build, 65);
        char *claims = NULL;
        assert_int_equal(vt_snp_claims_json(&res.report, &claims), 0);
        assert_non_null(strstr(claims, "\"reported_tcb_fmc\":1"));
        assert_non_null(strstr(claims, "\"product\":\"Turin\""));
        free(claims);

        /* trustee/test-report: the VCEK matches REPORTED (0x73), not CURRENT (0xce), TCB */
        assert_int_equal(verify_files("snp/trustee/test-report.bin", "snp/trustee/test-vcek.der",
                                      NULL, NULL, &res, &d),
                         0);
        assert_int_equal(res.report.current_tcb.microcode, 0xce);
        assert_int_equal(res.report.reported_tcb.microcode, 0x73);
        assert_int_equal(res.report.guest_svn, 4);
        assert_int_equal(res.report.family_id[0], 1);
        assert_int_equal(res.report.image_id[0], 2);
        vt_hex_encode(res.report.report_data, 32, hex);
        assert_string_equal(hex,
                            "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2");

        assert_int_equal(verify_files("snp/gsg/milan_v2_attestation.bin",
                                      "snp/gsg/milan_v2_vcek.der", NULL, NULL, &res, &d),
                         0);
        vt_hex_encode(res.report.report_data, 8, hex);
        assert_string_equal(hex, "0102030405000000");
        assert_int_equal(res.report.current_major, 1);
        assert_int_equal(res.report.current_minor, 49);
        assert_int_equal(res.report.current_build, 3);
        assert_int_equal(res.report.cpuid_fam_id, 0);

        assert_int_equal(verify_files("snp/trustee/e2e-report-genoa-siena.bin",
                                      "snp/trustee/e2e-vcek-genoa-siena.der", NULL, NULL, &res, &d),
                         0);
        assert_int_equal(res.report.cpuid_mod_id, 0xa0);
        assert_int_equal(res.report.cpuid_step, 2);
}

static void test_snp_vectors_vlek_expired(void **state)
{
        struct vt_snp_result res;
        struct vt_diag d = {0};
        VT_REQUIRE_TESTDATA();
        assert_int_equal(verify_files("snp/trustee/test-vlek-report.bin",
                                      "snp/trustee/test-vlek.der", NULL, NULL, &res, &d),
                         VT_E_EXPIRED);
        assert_non_null(strstr(d.msg, "SEV-VLEK"));
        assert_non_null(strstr(d.msg, "2025-12-10"));
        d = (struct vt_diag){0};
        assert_int_equal(verify_files("snp/trustee/test-vlek-report.bin",
                                      "snp/trustee/test-vlek.der", "2024-12-01T00:00:00Z", NULL,
                                      &res, &d),
                         VT_E_EXPIRED);
        /* an ordinary VCEK, after its window (msft-tav VCEKs end 2033-02-05) */
        d = (struct vt_diag){0};
        assert_int_equal(verify_files("snp/msft-tav/genoa_attestation_report.bin",
                                      "snp/msft-tav/genoa_vcek.pem", "2034-01-01T00:00:00Z", NULL,
                                      &res, &d),
                         VT_E_EXPIRED);
        assert_non_null(strstr(d.msg, "leaf certificate \"SEV-VCEK\""));
}

static void test_snp_vectors_bad(void **state)
{
        static const struct {
                const char *file, *leaf;
                int err;
                const char *reason;
        } bad[] = {
                {"snp/bad/turin_v5_measurement_bit0_flipped.bin", "snp/msft-tav/turin_vcek.pem",
                 VT_E_SIGNATURE, "signature"},
                {"snp/bad/turin_v5_sig_r_lsb_flipped.bin", "snp/msft-tav/turin_vcek.pem",
                 VT_E_SIGNATURE, "signature"},
                {"snp/bad/turin_v5_policy_debug_set.bin", "snp/msft-tav/turin_vcek.pem",
                 VT_E_SIGNATURE, "signature"},
                {"snp/bad/turin_v5_sig_reserved_nonzero.bin", "snp/msft-tav/turin_vcek.pem",
                 VT_E_RESERVED, "offset 0x3a0"},
                {"snp/bad/milan_v2_reported_ucode_plus1.bin", "snp/gsg/milan_v2_vcek.der",
                 VT_E_SIGNATURE, "signature"},
                {"snp/bad/milan_v2_chip_id_byte0_flipped.bin", "snp/gsg/milan_v2_vcek.der",
                 VT_E_SIGNATURE, "signature"},
        };
        VT_REQUIRE_TESTDATA();
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct vt_snp_result res;
                struct vt_diag d = {0};
                int e = verify_files(bad[i].file, bad[i].leaf, NULL, NULL, &res, &d);
                if (e != bad[i].err || !strstr(d.msg, bad[i].reason))
                        fail_msg("%s: got %d (%s), want %d with \"%s\"", bad[i].file, e, d.msg,
                                 bad[i].err, bad[i].reason);
        }

        /* DEBUG set is rejected on its own by the default policy, signature aside */
        size_t len;
        uint8_t *b = vt_test_load_vector("snp/bad/turin_v5_policy_debug_set.bin", &len);
        struct vt_snp_report r;
        struct vt_snp_policy *p = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_snp_report_parse(b, len, &r, NULL), 0);
        assert_int_equal(vt_snp_policy_parse("{}", 2, &p, NULL), 0);
        assert_int_equal(vt_snp_policy_check(p, &r, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "policy_debug_allowed"));
        vt_snp_policy_free(p);
        free(b);
}

/* Each of the 1184 truncations of a valid report, and each single-byte flip of its
 * signed range, is rejected. */
static void test_snp_vectors_truncations_and_flips(void **state)
{
        size_t rl, ll;
        uint8_t *rb = vt_test_load_vector("snp/msft-tav/turin_attestation_report.bin", &rl);
        uint8_t *lb = vt_test_load_vector("snp/msft-tav/turin_vcek.pem", &ll);
        struct vt_snp_verify_opts o = {.leaf = lb, .leaf_len = ll};
        struct vt_snp_result res;
        assert_int_equal(rl, VT_SNP_REPORT_SIZE);
        assert_int_equal(vt_snp_verify(V, rb, rl, &o, &res, NULL), 0);
        for (size_t n = 0; n < rl; n++) {
                uint8_t *copy = malloc(n ? n : 1);
                memcpy(copy, rb, n);
                assert_int_equal(vt_snp_verify(V, copy, n, &o, &res, NULL), VT_E_TRUNCATED);
                free(copy);
        }
        for (size_t i = 0; i < VT_SNP_SIGNED_SIZE; i++) {
                struct vt_diag d = {0};
                rb[i] ^= 0x01;
                int e = vt_snp_verify(V, rb, rl, &o, &res, &d);
                rb[i] ^= 0x01;
                if (e == 0)
                        fail_msg("flipping byte 0x%zx was accepted", i);
        }
        assert_int_equal(vt_snp_verify(V, rb, rl, &o, &res, NULL), 0);
        free(rb);
        free(lb);
}

static void test_snp_vectors_wrong_leaf_and_chain(void **state)
{
        struct vt_snp_result res;
        struct vt_diag d = {0};
        VT_REQUIRE_TESTDATA();
        /* another chip's VCEK of the same product: signature */
        assert_int_equal(verify_files("snp/msft-tav/milan_attestation_report.bin",
                                      "snp/gsg/milan_v2_vcek.der", NULL, NULL, &res, &d),
                         VT_E_SIGNATURE);
        /* a VCEK of another product: chain/product mismatch */
        d = (struct vt_diag){0};
        assert_int_equal(verify_files("snp/msft-tav/milan_attestation_report.bin",
                                      "snp/msft-tav/genoa_vcek.pem", NULL, NULL, &res, &d),
                         VT_E_CHAIN);
        assert_non_null(strstr(d.msg, "Genoa"));
        /* a Turin VCEK that is not this chip's: chain fine, signature not */
        d = (struct vt_diag){0};
        assert_int_equal(verify_files("snp/msft-tav/turin_attestation_report.bin",
                                      "snp/virtee/turin_vcek_only.der", NULL, NULL, &res, &d),
                         VT_E_SIGNATURE);
        /* synthetic VCEKs whose signature does not chain to AMD */
        d = (struct vt_diag){0};
        assert_int_equal(verify_files("snp/trustee/test-report.bin",
                                      "snp/trustee/test-vcek-invalid-legacy.der", NULL, NULL, &res,
                                      &d),
                         VT_E_CHAIN);
        assert_non_null(strstr(d.msg, "chain"));
        d = (struct vt_diag){0};
        assert_int_equal(verify_files("snp/trustee/test-report.bin",
                                      "snp/trustee/test-vcek-invalid-new.der", NULL, NULL, &res,
                                      &d),
                         VT_E_CHAIN);
        /* the product the caller expects must match the report's CPUID */
        size_t rl, ll;
        uint8_t *rb = vt_test_load_vector("snp/msft-tav/turin_attestation_report.bin", &rl);
        uint8_t *lb = vt_test_load_vector("snp/msft-tav/turin_vcek.pem", &ll);
        struct vt_snp_verify_opts o = {.leaf = lb, .leaf_len = ll, .product = VT_SNP_PRODUCT_GENOA};
        d = (struct vt_diag){0};
        assert_int_equal(vt_snp_verify(V, rb, rl, &o, &res, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "Turin"));
        /* a supplied root that is not a pinned AMD key is refused */
        size_t cl;
        uint8_t *foreign = vt_test_load_vector("dcap/roots/Intel_SGX_Root_CA.pem", &cl);
        o = (struct vt_snp_verify_opts){
                .leaf = lb, .leaf_len = ll, .chain = foreign, .chain_len = cl};
        d = (struct vt_diag){0};
        assert_int_equal(vt_snp_verify(V, rb, rl, &o, &res, &d), VT_E_CHAIN);
        assert_non_null(strstr(d.msg, "pinned"));
        free(foreign);
        /* the real AMD chain, supplied, is accepted (ARK matches the pin) */
        uint8_t *chain = vt_test_load_vector("snp/roots/turin_vcek_cert_chain.pem", &cl);
        o = (struct vt_snp_verify_opts){
                .leaf = lb, .leaf_len = ll, .chain = chain, .chain_len = cl};
        assert_int_equal(vt_snp_verify(V, rb, rl, &o, &res, NULL), 0);
        free(chain);
        /* a VCEK signed under the Milan ASK presented with the Milan ASVK: the VCEK
         * still needs the ASK, which is built in, so the supplied ASVK does not help
         * a forgery; a VLEK must chain through an ASVK */
        free(rb);
        free(lb);
}

/* The SNP report inside an Azure HCL report (offset 0x20) verifies with its VCEK. */
static void test_snp_vectors_azure_hcl_inner(void **state)
{
        size_t hl, ll;
        uint8_t *hcl = vt_test_load_vector("snp/azure/trustee/hcl-report.bin", &hl);
        uint8_t *lb = vt_test_load_vector("snp/azure/trustee/vcek.pem", &ll);
        struct vt_snp_verify_opts o = {.leaf = lb, .leaf_len = ll, .chain = lb, .chain_len = ll};
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char hex[17];
        assert_true(hl >= 0x20 + VT_SNP_REPORT_SIZE);
        int e = vt_snp_verify(V, hcl + 0x20, VT_SNP_REPORT_SIZE, &o, &res, &d);
        if (e)
                fail_msg("%s", d.msg);
        assert_int_equal(res.product, VT_SNP_PRODUCT_MILAN);
        assert_int_equal(res.report.guest_svn, 5);
        assert_true(res.report.reported_tcb.raw == 0x7308000000000003ull);
        assert_true(res.report.current_tcb.raw == 0xd208000000000003ull);
        vt_hex_encode(res.report.chip_id, 8, hex);
        assert_string_equal(hex, "19752a447db501a3");
        /* the older kinvolk HCL report parses (no VCEK is published for it) */
        size_t kl;
        uint8_t *k = vt_test_load_vector("snp/azure/kinvolk/hcl-report-snp.bin", &kl);
        struct vt_snp_report r;
        assert_int_equal(vt_snp_report_parse(k + 0x20, VT_SNP_REPORT_SIZE, &r, NULL), 0);
        vt_hex_encode(r.chip_id, 8, hex);
        assert_string_equal(hex, "3a5d5b1d059d193e");
        free(k);
        free(hcl);
        free(lb);
}

static int check_policy(const char *report, const char *leaf, const char *json, struct vt_diag *d)
{
        struct vt_snp_policy *p = NULL;
        struct vt_snp_result res;
        int e = vt_snp_policy_parse(json, strlen(json), &p, d);
        if (e < 0)
                return e;
        e = verify_files(report, leaf, NULL, p, &res, d);
        vt_snp_policy_free(p);
        return e;
}

static void test_snp_vectors_policy(void **state)
{
        static const char *const R = "snp/trustee/test-report.bin",
                                 *const L = "snp/trustee/test-vcek.der";
        static const char *const M = "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef8"
                                     "27c23500644e0e692e6be917f9050d3d38c";
        static const struct {
                const char *json, *reason; /* reason NULL: accepted */
        } cases[] = {
                {"{}", NULL},
                {"{\"measurements\":[\""
                 "00"
                 "\"]}",
                 "policy: measurements"},
                {"{\"vmpl\":0,\"minimum_tcb\":{\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":"
                 "115},"
                 "\"minimum_guest_svn\":4,\"family_id\":\"01000000000000000000000000000000\","
                 "\"image_id\":\"02000000000000000000000000000000\",\"products\":[\"Milan\"],"
                 "\"signers\":[\"vcek\"]}",
                 NULL},
                {"{\"minimum_tcb\":{\"microcode\":116}}",
                 "reported_tcb.microcode 0x73 < minimum 0x74"},
                {"{\"minimum_tcb\":{\"snp\":9}}", "reported_tcb.snp 0x08 < minimum 0x09"},
                {"{\"minimum_guest_svn\":5}", "guest_svn 4 < minimum 5"},
                {"{\"vmpl\":1}", "vmpl 0, expected 1"},
                {"{\"family_id\":\"02000000000000000000000000000000\"}", "family_id 0100"},
                {"{\"image_id\":\"01000000000000000000000000000000\"}", "image_id 0200"},
                {"{\"products\":[\"Genoa\",\"Turin\"]}", "product Milan is not allowed"},
                {"{\"signers\":[\"vlek\"]}", "signer vcek is not allowed"},
                {"{\"smt_allowed\":false}", "platform_smt_enabled is true"},
                {"{\"single_socket_required\":true}", "policy_single_socket is false"},
                {"{\"host_data\":"
                 "\"0100000000000000000000000000000000000000000000000000000000000000\"}",
                 "host_data differs from the reference value (fingerprints: sha256:"},
                {"{\"report_data\":"
                 "\"ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e3\"}",
                 "report_data differs from the reference value (fingerprints: sha256:"},
                {"{\"author_key_digests\":[\""
                 "000000000000000000000000000000000000000000000000"
                 "000000000000000000000000000000000000000000000000"
                 "\"]}",
                 "author_key_en is false"},
                {"{\"debug\":false}", "unknown key \"debug\""},
                {"{\"vmpl\":4}", "vmpl must be an integer 0..3"},
                {"{\"minimum_tcb\":{\"ucode\":1}}", "unknown key \"ucode\""},
                {"[]", "must be a JSON object"},
                {"{\"vmpl\":0,\"vmpl\":0}", "invalid JSON"},
        };
        VT_REQUIRE_TESTDATA();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vt_diag d = {0};
                int e = check_policy(R, L, cases[i].json, &d);
                if (!cases[i].reason ? e != 0 : (e == 0 || !strstr(d.msg, cases[i].reason)))
                        fail_msg("policy %s: got %d \"%s\", want %s", cases[i].json, e, d.msg,
                                 cases[i].reason ? cases[i].reason : "accepted");
        }
        /* measurement allow-lists: a match among several, and a miss naming the field */
        char json[512];
        struct vt_diag d = {0};
        snprintf(json, sizeof(json), "{\"measurements\":[\"%096d\",\"%s\"]}", 0, M);
        assert_int_equal(check_policy(R, L, json, &d), 0);
        snprintf(json, sizeof(json), "{\"measurements\":[\"%096d\"]}", 0);
        assert_int_equal(check_policy(R, L, json, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "measurement a1f39304"));
        assert_non_null(strstr(d.msg, "expected 0000"));
        /* report_data shorter than 64 bytes is zero-padded */
        d = (struct vt_diag){0};
        assert_int_equal(
                check_policy(
                        R, L,
                        "{\"report_data\":"
                        "\"ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2\"}",
                        &d),
                0);
        /* debug: gsg report allows debug (policy 0xb0000) and is refused by default */
        d = (struct vt_diag){0};
        assert_int_equal(check_policy("snp/gsg/milan_v2_attestation.bin",
                                      "snp/gsg/milan_v2_vcek.der", "{}", &d),
                         VT_E_POLICY);
        assert_non_null(strstr(d.msg, "policy_debug_allowed"));
        d = (struct vt_diag){0};
        assert_int_equal(check_policy("snp/gsg/milan_v2_attestation.bin",
                                      "snp/gsg/milan_v2_vcek.der", "{\"debug_allowed\":true}", &d),
                         0);
        /* id_key_digest from the report's ID block */
        size_t rl;
        uint8_t *rb = vt_test_load_vector(R, &rl);
        char idk[97];
        vt_hex_encode(rb + 0xe0, 48, idk);
        assert_int_equal(strncmp(idk, "0356215882a82527", 16), 0);
        snprintf(json, sizeof(json), "{\"id_key_digests\":[\"%s\"]}", idk);
        assert_int_equal(check_policy(R, L, json, &d), 0);
        idk[0] = '1';
        snprintf(json, sizeof(json), "{\"id_key_digests\":[\"%s\"]}", idk);
        d = (struct vt_diag){0};
        assert_int_equal(check_policy(R, L, json, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "id_key_digest"));
        free(rb);
        /* migration agent: a VLEK report with MIGRATE_MA would fail; the Turin report does not have
         * it */
        d = (struct vt_diag){0};
        assert_int_equal(check_policy("snp/msft-tav/turin_attestation_report.bin",
                                      "snp/msft-tav/turin_vcek.pem",
                                      "{\"minimum_tcb\":{\"fmc\":2}}", &d),
                         VT_E_POLICY);
        assert_non_null(strstr(d.msg, "reported_tcb.fmc 0x01 < minimum 0x02"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snp_vectors_valid),
                cmocka_unit_test(test_snp_vectors_fields),
                cmocka_unit_test(test_snp_vectors_vlek_expired),
                cmocka_unit_test(test_snp_vectors_bad),
                cmocka_unit_test(test_snp_vectors_truncations_and_flips),
                cmocka_unit_test(test_snp_vectors_wrong_leaf_and_chain),
                cmocka_unit_test(test_snp_vectors_azure_hcl_inner),
                cmocka_unit_test(test_snp_vectors_policy),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
