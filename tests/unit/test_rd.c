/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"
#include "util/rd.h"
#include "veritee/veritee.h"

static const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x09};

static void test_rd_getters(void **state)
{
        struct vt_rd r;
        uint8_t b;
        uint16_t w;
        uint32_t d;
        uint64_t q;
        vt_rd_init(&r, data, sizeof(data));
        assert_int_equal(vt_rd_u8(&r, &b), 0);
        assert_int_equal(b, 1);
        assert_int_equal(vt_rd_u16le(&r, &w), 0);
        assert_int_equal(w, 0x0302);
        assert_int_equal(vt_rd_u32le(&r, &d), 0);
        assert_int_equal(d, 0x07060504);
        assert_int_equal(r.off, 7);
        vt_rd_init(&r, data, sizeof(data));
        assert_int_equal(vt_rd_u64le(&r, &q), 0);
        assert_true(q == 0x0807060504030201ull);
        assert_int_equal(vt_rd_zero(&r, 2, NULL), 0);
        assert_int_equal(vt_rd_done(&r), VT_E_TRAILING);
        assert_int_equal(vt_rd_u8(&r, &b), 0);
        assert_int_equal(vt_rd_done(&r), 0);
        vt_rd_init(&r, data, 4);
        assert_int_equal(vt_rd_u16be(&r, &w), 0);
        assert_int_equal(w, 0x0102);
        vt_rd_init(&r, data, 4);
        assert_int_equal(vt_rd_u32be(&r, &d), 0);
        assert_int_equal(d, 0x01020304);
}

/* Every getter on every short input fails and leaves the reader unchanged. */
static void test_rd_truncations(void **state)
{
        for (size_t n = 0; n < 8; n++) {
                struct vt_rd r;
                uint8_t buf[8];
                uint64_t q;
                uint32_t d;
                uint16_t w;
                struct vt_rd sub;
                vt_rd_init(&r, data, n);
                assert_int_equal(vt_rd_u64le(&r, &q), VT_E_TRUNCATED);
                assert_int_equal(vt_rd_bytes(&r, buf, n + 1), VT_E_TRUNCATED);
                assert_int_equal(vt_rd_sub(&r, n + 1, &sub), VT_E_TRUNCATED);
                assert_int_equal(vt_rd_skip(&r, n + 1), VT_E_TRUNCATED);
                assert_int_equal(vt_rd_zero(&r, n + 1, NULL), VT_E_TRUNCATED);
                if (n < 4)
                        assert_int_equal(vt_rd_u32le(&r, &d), VT_E_TRUNCATED);
                if (n < 2)
                        assert_int_equal(vt_rd_u16le(&r, &w), VT_E_TRUNCATED);
                assert_int_equal(r.len, n);
                assert_ptr_equal(r.p, data);
                assert_int_equal(r.off, 0);
        }
}

static void test_rd_sub_and_zero(void **state)
{
        struct vt_rd r, sub;
        size_t bad = 0;
        uint8_t b;
        vt_rd_init(&r, data, sizeof(data));
        assert_int_equal(vt_rd_skip(&r, 2), 0);
        assert_int_equal(vt_rd_sub(&r, 3, &sub), 0);
        assert_int_equal(sub.len, 3);
        assert_int_equal(sub.off, 2);
        assert_int_equal(vt_rd_u8(&sub, &b), 0);
        assert_int_equal(b, 3);
        assert_int_equal(r.off, 5);
        /* bytes 5..7 are non-zero: reserved check names the first offender */
        assert_int_equal(vt_rd_zero(&r, 3, &bad), VT_E_RESERVED);
        assert_int_equal(bad, 5);
        assert_int_equal(r.off, 5);
        assert_int_equal(vt_rd_skip(&r, 3), 0);
        assert_int_equal(vt_rd_zero(&r, 2, &bad), 0);
        vt_rd_init(&r, NULL, 10);
        assert_int_equal(r.len, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rd_getters),
                cmocka_unit_test(test_rd_truncations),
                cmocka_unit_test(test_rd_sub_and_zero),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
