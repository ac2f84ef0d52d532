/* SPDX-License-Identifier: Apache-2.0 */
/* SNP report parser on synthetic reports: every field, every reserved byte, every truncation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/wr.h"
#include "veritee/snp.h"

/* A structurally valid report of the given version with distinct values in every field. */
static void make_report(uint8_t r[VT_SNP_REPORT_SIZE], uint32_t version)
{
        memset(r, 0, VT_SNP_REPORT_SIZE);
        vt_put_u32le(r + 0x000, version);
        vt_put_u32le(r + 0x004, 7);
        vt_put_u64le(r + 0x008, 0x3001f);
        memset(r + 0x010, 0x11, 16);
        memset(r + 0x020, 0x22, 16);
        vt_put_u32le(r + 0x030, 1);
        vt_put_u32le(r + 0x034, 1);
        vt_put_u64le(r + 0x038, 0xd315000000000004ull);
        vt_put_u64le(r + 0x040, 0x25);
        vt_put_u32le(r + 0x048, 0x3); /* author key en, mask chip key, VCEK */
        for (int i = 0; i < 64; i++)
                r[0x050 + i] = (uint8_t)i;
        memset(r + 0x090, 0x90, 48);
        memset(r + 0x0c0, 0xc0, 32);
        memset(r + 0x0e0, 0xe0, 48);
        memset(r + 0x110, 0x10, 48);
        memset(r + 0x140, 0x40, 32);
        memset(r + 0x160, 0xff, 32);
        vt_put_u64le(r + 0x180, 0xdb18000000000004ull);
        if (version >= 3) {
                r[0x188] = 0x19;
                r[0x189] = 0x11;
                r[0x18a] = 0x01;
        }
        memset(r + 0x1a0, 0xa0, 64);
        vt_put_u64le(r + 0x1e0, 0xdb18000000000004ull);
        r[0x1e8] = 29, r[0x1e9] = 55, r[0x1ea] = 1;
        r[0x1ec] = 29, r[0x1ed] = 55, r[0x1ee] = 1;
        vt_put_u64le(r + 0x1f0, 0xdb18000000000004ull);
        if (version >= 5) {
                vt_put_u64le(r + 0x1f8, 0x3f);
                vt_put_u64le(r + 0x200, 0x1f);
        }
        r[0x2a0] = 0x01; /* R little-endian: least significant byte first */
        r[0x2a0 + 47] = 0xaa;
        r[0x2e8] = 0x02;
        r[0x2e8 + 47] = 0xbb;
}

static void test_snp_parse_fields(void **state)
{
        uint8_t b[VT_SNP_REPORT_SIZE];
        struct vt_snp_report r;
        struct vt_diag d = {0};
        make_report(b, 3);
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), 0);
        assert_int_equal(r.version, 3);
        assert_int_equal(r.guest_svn, 7);
        assert_true(r.policy == 0x3001f);
        assert_int_equal(r.family_id[15], 0x11);
        assert_int_equal(r.image_id[0], 0x22);
        assert_int_equal(r.vmpl, 1);
        assert_true(r.platform_info == 0x25);
        assert_int_equal(vt_snp_signing_key(&r), 0);
        assert_int_equal(r.signer_info, 3);
        assert_int_equal(r.report_data[63], 63);
        assert_int_equal(r.measurement[47], 0x90);
        assert_int_equal(r.host_data[0], 0xc0);
        assert_int_equal(r.id_key_digest[0], 0xe0);
        assert_int_equal(r.author_key_digest[0], 0x10);
        assert_int_equal(r.report_id[0], 0x40);
        assert_int_equal(r.report_id_ma[31], 0xff);
        assert_int_equal(r.cpuid_fam_id, 0x19);
        assert_int_equal(r.cpuid_mod_id, 0x11);
        assert_int_equal(r.cpuid_step, 1);
        assert_int_equal(r.product, VT_SNP_PRODUCT_GENOA);
        assert_false(r.reported_tcb.turin);
        assert_int_equal(r.reported_tcb.bootloader, 4);
        assert_int_equal(r.reported_tcb.tee, 0);
        assert_int_equal(r.reported_tcb.snp, 0x18);
        assert_int_equal(r.reported_tcb.microcode, 0xdb);
        assert_int_equal(r.current_tcb.microcode, 0xd3);
        assert_int_equal(r.current_tcb.snp, 0x15);
        assert_int_equal(r.current_major, 1);
        assert_int_equal(r.current_minor, 55);
        assert_int_equal(r.current_build, 29);
        assert_int_equal(r.committed_build, 29);
        assert_int_equal(r.chip_id[63], 0xa0);
        /* R/S are converted to big-endian 48-byte integers */
        assert_int_equal(r.sig_r[47], 0x01);
        assert_int_equal(r.sig_r[0], 0xaa);
        assert_int_equal(r.sig_s[47], 0x02);
        assert_int_equal(r.sig_s[0], 0xbb);

        make_report(b, 5);
        b[0x188] = 0x1a; /* Turin: Turin TCB layout */
        b[0x189] = 0x02;
        vt_put_u64le(b + 0x180, 0x5100000004010101ull);
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), 0);
        assert_int_equal(r.product, VT_SNP_PRODUCT_TURIN);
        assert_true(r.reported_tcb.turin);
        assert_int_equal(r.reported_tcb.fmc, 1);
        assert_int_equal(r.reported_tcb.bootloader, 1);
        assert_int_equal(r.reported_tcb.tee, 1);
        assert_int_equal(r.reported_tcb.snp, 4);
        assert_int_equal(r.reported_tcb.microcode, 0x51);
        assert_true(r.launch_mit_vector == 0x3f);
        assert_true(r.current_mit_vector == 0x1f);

        make_report(b, 2);
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), 0);
        assert_int_equal(r.product, VT_SNP_PRODUCT_UNKNOWN);
        memset(b + 0x1a8, 0, 56); /* v2 with an 8-byte chip id: Turin */
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), 0);
        assert_int_equal(r.product, VT_SNP_PRODUCT_TURIN);
}

static void test_snp_parse_json(void **state)
{
        uint8_t b[VT_SNP_REPORT_SIZE];
        struct vt_snp_report r;
        char *js = NULL;
        make_report(b, 5);
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, NULL), 0);
        assert_int_equal(vt_snp_report_json(&r, &js), 0);
        assert_non_null(strstr(js, "\"measurement\":\"909090"));
        assert_non_null(strstr(js, "\"debug_allowed\":false"));
        assert_non_null(strstr(js, "\"current_mit_vector\":31"));
        assert_non_null(strstr(
                js, "\"reported_tcb\":{\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":219"));
        free(js);
        assert_int_equal(vt_snp_claims_json(&r, &js), 0);
        assert_non_null(strstr(js, "\"reported_tcb_microcode\":219"));
        assert_non_null(strstr(js, "\"policy_debug_allowed\":false"));
        assert_non_null(strstr(js, "\"platform_smt_enabled\":true"));
        assert_non_null(strstr(js, "\"signer\":\"vcek\""));
        free(js);
        /* a TCB of 2^63 or more (microcode 0xde, as on a GCP Genoa host): raw as unsigned hex,
         * not a negative number */
        vt_put_u64le(b + 0x180, 0xde1b000000000004ull);
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, NULL), 0);
        assert_int_equal(vt_snp_report_json(&r, &js), 0);
        assert_non_null(strstr(js, "\"reported_tcb\":{\"bootloader\":4,\"tee\":0,\"snp\":27,"
                                   "\"microcode\":222,\"raw\":\"0xde1b000000000004\"}"));
        assert_null(strstr(js, "-2442358372918362108"));
        free(js);
        assert_int_equal(vt_snp_claims_json(&r, &js), 0);
        assert_non_null(strstr(js, "\"reported_tcb_microcode\":222"));
        free(js);
}

static void test_snp_parse_truncations(void **state)
{
        uint8_t b[VT_SNP_REPORT_SIZE + 1];
        struct vt_snp_report r;
        for (uint32_t v = 2; v <= 5; v += (v == 3 ? 2 : 1)) {
                make_report(b, v);
                for (size_t n = 0; n < VT_SNP_REPORT_SIZE; n++) {
                        struct vt_diag d = {0};
                        uint8_t *copy = malloc(n ? n : 1);
                        memcpy(copy, b, n);
                        assert_int_equal(vt_snp_report_parse(copy, n, &r, &d), VT_E_TRUNCATED);
                        assert_non_null(strstr(d.msg, "length"));
                        free(copy);
                }
                b[VT_SNP_REPORT_SIZE] = 0;
                assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, NULL), VT_E_TRAILING);
        }
}

/* Every reserved (must-be-zero) byte, per version, is rejected and named by offset. */
static void test_snp_parse_reserved(void **state)
{
        static const struct {
                uint32_t version;
                size_t start, end;
        } ranges[] = {
                {2, 0x04c, 0x050}, {2, 0x188, 0x1a0}, {2, 0x1eb, 0x1ec}, {2, 0x1ef, 0x1f0},
                {2, 0x1f8, 0x2a0}, {3, 0x18b, 0x1a0}, {3, 0x1f8, 0x2a0}, {5, 0x208, 0x2a0},
                {5, 0x2d0, 0x2e8}, {5, 0x318, 0x330}, {5, 0x330, 0x4a0}, {3, 0x04c, 0x050},
        };
        uint8_t b[VT_SNP_REPORT_SIZE];
        struct vt_snp_report r;
        for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
                for (size_t off = ranges[i].start; off < ranges[i].end; off++) {
                        struct vt_diag d = {0};
                        char want[32];
                        make_report(b, ranges[i].version);
                        b[off] = 0x5a;
                        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), VT_E_RESERVED);
                        snprintf(want, sizeof(want), "offset 0x%zx", off);
                        assert_non_null(strstr(d.msg, want));
                }
}

static void test_snp_parse_rejects(void **state)
{
        uint8_t b[VT_SNP_REPORT_SIZE];
        struct vt_snp_report r;
        struct vt_diag d;
        static const uint32_t bad_versions[] = {0, 1, 4, 6, 0x100, 0xffffffff};
        for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
                make_report(b, 3);
                vt_put_u32le(b, bad_versions[i]);
                d = (struct vt_diag){0};
                assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), VT_E_UNSUPPORTED);
                assert_non_null(strstr(d.msg, "version"));
        }
        make_report(b, 3);
        vt_put_u32le(b + 0x34, 2);
        d = (struct vt_diag){0};
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "signature algorithm 2"));
        make_report(b, 3);
        vt_put_u64le(b + 0x08, 0x1001f); /* bit 17 clear */
        d = (struct vt_diag){0};
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), VT_E_RESERVED);
        assert_non_null(strstr(d.msg, "bit 17"));
        make_report(b, 3);
        vt_put_u64le(b + 0x08, 0x3001f | (1ull << 26));
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, NULL), VT_E_RESERVED);
        make_report(b, 3);
        vt_put_u32le(b + 0x48, 1u << 5);
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, NULL), VT_E_RESERVED);
        for (uint32_t sk = 2; sk <= 6; sk++) {
                make_report(b, 3);
                vt_put_u32le(b + 0x48, sk << 2);
                d = (struct vt_diag){0};
                assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, &d), VT_E_RESERVED);
                assert_non_null(strstr(d.msg, "signing key"));
        }
        make_report(b, 3);
        vt_put_u32le(b + 0x48, 7u << 2);
        assert_int_equal(vt_snp_report_parse(b, sizeof(b), &r, NULL), 0);
        assert_int_equal(vt_snp_signing_key(&r), 7);
        assert_int_equal(vt_snp_report_parse(NULL, 0, &r, NULL), VT_E_INVAL);
}

static void test_snp_products(void **state)
{
        enum vt_snp_product p;
        assert_int_equal(vt_snp_product_from_name("siena", &p), 0);
        assert_int_equal(p, VT_SNP_PRODUCT_GENOA);
        assert_int_equal(vt_snp_product_from_name("Bergamo", &p), 0);
        assert_int_equal(p, VT_SNP_PRODUCT_GENOA);
        assert_int_equal(vt_snp_product_from_name("TURIN", &p), 0);
        assert_int_equal(p, VT_SNP_PRODUCT_TURIN);
        assert_int_equal(vt_snp_product_from_name("Venice", &p), VT_E_NOTFOUND);
        assert_string_equal(vt_snp_product_name(VT_SNP_PRODUCT_MILAN), "Milan");
        assert_string_equal(vt_snp_product_name((enum vt_snp_product)99), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snp_parse_fields),
                cmocka_unit_test(test_snp_parse_json),
                cmocka_unit_test(test_snp_parse_truncations),
                cmocka_unit_test(test_snp_parse_reserved),
                cmocka_unit_test(test_snp_parse_rejects),
                cmocka_unit_test(test_snp_products),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
