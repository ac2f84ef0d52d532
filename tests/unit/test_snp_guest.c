/* SPDX-License-Identifier: Apache-2.0 */
/* The guest-side readers of host-controlled bytes: the GHCB certificate table and
 * MSG_REPORT_RSP (lib/evidence/snp_guest.c). */
#include <string.h>

#include "testutil.h"
#include "evidence/snp_guest.h"
#include "util/wr.h"

static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t ask_guid[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t crl_guid[16] = {0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d,
                                     0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea};

static void entry(struct vt_wr *w, const uint8_t guid[16], uint32_t off, uint32_t len)
{
        assert_int_equal(vt_wr_bytes(w, guid, 16), 0);
        assert_int_equal(vt_wr_u32le(w, off), 0);
        assert_int_equal(vt_wr_u32le(w, len), 0);
}

/* VCEK, CRL, ASK entries and the terminator (96 bytes), then the three blobs. */
static size_t make_table(uint8_t *buf, size_t cap)
{
        struct vt_wr w;
        vt_wr_init(&w, buf, cap);
        entry(&w, vcek_guid, 96, 5);
        entry(&w, crl_guid, 101, 3);
        entry(&w, ask_guid, 104, 4);
        assert_int_equal(vt_wr_zero(&w, 24), 0);
        assert_int_equal(vt_wr_bytes(&w, "vcek!", 5), 0);
        assert_int_equal(vt_wr_bytes(&w, "crl", 3), 0);
        assert_int_equal(vt_wr_bytes(&w, "ask!", 4), 0);
        return w.len;
}

static void test_cert_table_valid(void **state)
{
        uint8_t buf[256];
        size_t len = make_table(buf, sizeof(buf)), n = 99;
        struct vt_snp_wire_cert certs[VT_SNP_WIRE_MAX_CERTS];
        struct vt_diag d = {0};
        assert_int_equal(vt_snp_cert_table_parse(buf, len, certs, VT_SNP_WIRE_MAX_CERTS, &n, &d),
                         0);
        assert_int_equal(n, 2); /* the CRL is skipped */
        assert_string_equal(certs[0].type, "VCEK");
        assert_ptr_equal(certs[0].der, buf + 96);
        assert_int_equal(certs[0].len, 5);
        assert_string_equal(certs[1].type, "ASK");
        assert_ptr_equal(certs[1].der, buf + 104);
        assert_int_equal(certs[1].len, 4);
        /* the driver's zeroed page with nothing from the host, and no bytes at all */
        uint8_t zero[4096] = {0};
        n = 99;
        assert_int_equal(vt_snp_cert_table_parse(zero, sizeof(zero), certs, 6, &n, &d), 0);
        assert_int_equal(n, 0);
        n = 99;
        assert_int_equal(vt_snp_cert_table_parse(NULL, 0, certs, 6, &n, &d), 0);
        assert_int_equal(n, 0);
        /* an entry of length zero names no certificate */
        struct vt_wr w;
        vt_wr_init(&w, buf, sizeof(buf));
        entry(&w, vcek_guid, 0, 0);
        assert_int_equal(vt_wr_zero(&w, 24), 0);
        assert_int_equal(vt_snp_cert_table_parse(buf, w.len, certs, 6, &n, &d), 0);
        assert_int_equal(n, 0);
}

/* Every truncation: within the first entry there is no terminating entry; from then on
 * a blob an entry points at is cut (outside the bytes), which is checked entry by entry
 * before the terminator is reached. Never a success, never a read past. */
static void test_cert_table_truncations(void **state)
{
        uint8_t buf[256];
        size_t len = make_table(buf, sizeof(buf));
        for (size_t cut = 1; cut < len; cut++) {
                size_t n = 99;
                struct vt_snp_wire_cert certs[VT_SNP_WIRE_MAX_CERTS];
                struct vt_diag d = {0};
                int e = vt_snp_cert_table_parse(buf, cut, certs, VT_SNP_WIRE_MAX_CERTS, &n, &d);
                assert_int_equal(e, VT_E_FORMAT);
                assert_int_equal(n, 99);
                if (cut < VT_SNP_CERT_TABLE_ENTRY_SIZE)
                        assert_non_null(strstr(d.msg, "no terminating entry"));
                else
                        assert_non_null(strstr(d.msg, "outside the"));
        }
}

static void expect_table(const uint8_t *buf, size_t len, size_t cap, int want, const char *why)
{
        struct vt_snp_wire_cert certs[VT_SNP_WIRE_MAX_CERTS];
        struct vt_diag d = {0};
        size_t n = 99;
        assert_int_equal(vt_snp_cert_table_parse(buf, len, certs, cap, &n, &d), want);
        assert_int_equal(n, 99);
        if (!strstr(d.msg, why))
                fail_msg("\"%s\" does not say \"%s\"", d.msg, why);
}

static void test_cert_table_refused(void **state)
{
        static uint8_t buf[64 * 1024];
        struct vt_wr w;
        /* an offset past the end, and one whose length wraps past it */
        vt_wr_init(&w, buf, 64);
        entry(&w, vcek_guid, 64, 1);
        assert_int_equal(vt_wr_zero(&w, 24), 0);
        expect_table(buf, 64, 6, VT_E_FORMAT, "entry 0: offset 64 length 1 outside the 64 bytes");
        vt_wr_init(&w, buf, 64);
        entry(&w, crl_guid, 48, 0xffffffffu);
        expect_table(buf, 64, 6, VT_E_FORMAT, "entry 0: offset 48 length 4294967295 outside");
        vt_wr_init(&w, buf, 64);
        entry(&w, crl_guid, 0xffffffffu, 2);
        expect_table(buf, 64, 6, VT_E_FORMAT, "offset 4294967295 length 2 outside");
        /* an unknown GUID is skipped, but its offset is still checked */
        static const uint8_t other[16] = {1};
        vt_wr_init(&w, buf, 72);
        entry(&w, other, 100, 1);
        assert_int_equal(vt_wr_zero(&w, 24), 0);
        expect_table(buf, 72, 6, VT_E_FORMAT, "outside the 72 bytes");
        /* no terminator within the buffer: entries all the way */
        vt_wr_init(&w, buf, 48);
        entry(&w, other, 0, 1);
        entry(&w, other, 0, 1);
        expect_table(buf, 48, 6, VT_E_FORMAT, "no terminating entry within 48 bytes");
        /* no terminator within 64 entries */
        vt_wr_init(&w, buf, sizeof(buf));
        for (int i = 0; i < 65; i++)
                entry(&w, other, 0, 1);
        assert_int_equal(vt_wr_zero(&w, 24), 0);
        expect_table(buf, w.len, 6, VT_E_FORMAT, "no terminating entry");
        /* more certificates than the caller has room for */
        vt_wr_init(&w, buf, sizeof(buf));
        entry(&w, vcek_guid, 0, 1);
        entry(&w, ask_guid, 0, 1);
        assert_int_equal(vt_wr_zero(&w, 24), 0);
        expect_table(buf, w.len, 1, VT_E_LIMIT, "more than 1 certificates");
        /* a certificate above the cap */
        vt_wr_init(&w, buf, sizeof(buf));
        entry(&w, vcek_guid, 48, VT_SNP_WIRE_MAX_CERT_BYTES + 1);
        assert_int_equal(vt_wr_zero(&w, 24), 0);
        expect_table(buf, sizeof(buf), 6, VT_E_LIMIT, "VCEK is 16385 bytes (cap 16384)");
}

/* A MSG_REPORT_RSP as in struct snp_report_resp (4000 bytes). */
static void make_rsp(uint8_t rsp[4000], uint32_t status, uint32_t size)
{
        memset(rsp, 0, 4000);
        vt_put_u32le(rsp, status);
        vt_put_u32le(rsp + 4, size);
        for (size_t i = 0; i < VT_SNP_REPORT_SIZE; i++)
                rsp[VT_SNP_REPORT_RSP_REPORT_AT + i] = (uint8_t)(i * 7 + 1);
}

static void test_report_rsp(void **state)
{
        uint8_t rsp[4000];
        const uint8_t *report = NULL;
        struct vt_diag d = {0};
        make_rsp(rsp, 0, VT_SNP_REPORT_SIZE);
        assert_int_equal(vt_snp_report_rsp_parse(rsp, sizeof(rsp), &report, &d), 0);
        assert_ptr_equal(report, rsp + 0x20);
        /* exactly header and report is enough */
        report = NULL;
        assert_int_equal(vt_snp_report_rsp_parse(rsp, 0x20 + VT_SNP_REPORT_SIZE, &report, &d), 0);
        assert_ptr_equal(report, rsp + 0x20);
        /* every truncation */
        for (size_t cut = 0; cut < 0x20 + VT_SNP_REPORT_SIZE; cut++) {
                report = NULL;
                vt_diag_clear(&d);
                assert_int_equal(vt_snp_report_rsp_parse(rsp, cut, &report, &d), VT_E_TRUNCATED);
                assert_null(report);
                assert_non_null(strstr(d.msg, cut < 0x20 ? "header" : "runs past"));
        }
        /* the firmware's refusal */
        make_rsp(rsp, 0x16, VT_SNP_REPORT_SIZE);
        vt_diag_clear(&d);
        assert_int_equal(vt_snp_report_rsp_parse(rsp, sizeof(rsp), &report, &d), VT_E_IO);
        assert_string_equal(d.msg, "the firmware answered status 0x16 (invalid parameter)");
        make_rsp(rsp, 0x27, VT_SNP_REPORT_SIZE);
        vt_diag_clear(&d);
        assert_int_equal(vt_snp_report_rsp_parse(rsp, sizeof(rsp), &report, &d), VT_E_IO);
        assert_string_equal(d.msg, "the firmware answered status 0x27");
        /* a report of another size, including one that would run past the buffer */
        make_rsp(rsp, 0, 1000);
        vt_diag_clear(&d);
        assert_int_equal(vt_snp_report_rsp_parse(rsp, sizeof(rsp), &report, &d), VT_E_FORMAT);
        assert_string_equal(d.msg, "report_size 1000, expected 1184");
        make_rsp(rsp, 0, 0xffffffffu);
        vt_diag_clear(&d);
        assert_int_equal(vt_snp_report_rsp_parse(rsp, sizeof(rsp), &report, &d), VT_E_FORMAT);
        assert_null(report);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cert_table_valid),
                cmocka_unit_test(test_cert_table_truncations),
                cmocka_unit_test(test_cert_table_refused),
                cmocka_unit_test(test_report_rsp),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
