/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "testutil.h"
#include "util/hex.h"
#include "veritee/veritee.h"

static void test_hex_roundtrip(void **state)
{
        uint8_t in[] = {0x00, 0x7f, 0x80, 0xff, 0x0a};
        char s[11];
        uint8_t out[5];
        vt_hex_encode(in, sizeof(in), s);
        assert_string_equal(s, "007f80ff0a");
        assert_int_equal(vt_hex_decode("007F80fF0a", out, sizeof(out)), 5);
        assert_memory_equal(in, out, 5);
        assert_int_equal(vt_hex_decode("abc", out, sizeof(out)), VT_E_FORMAT);
        assert_int_equal(vt_hex_decode("zz", out, sizeof(out)), VT_E_FORMAT);
        assert_int_equal(vt_hex_decode("000000000000", out, sizeof(out)), VT_E_INVAL);
        assert_int_equal(vt_hex_decode("", out, sizeof(out)), 0);
}

static void test_time_rfc3339(void **state)
{
        int64_t t;
        char buf[21];
        assert_int_equal(vt_time_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(vt_time_parse_rfc3339("2025-06-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 1748736000);
        assert_int_equal(vt_time_parse_rfc3339("2025-06-01T02:00:00.123+02:00", &t), 0);
        assert_int_equal(t, 1748736000);
        assert_int_equal(vt_time_parse_rfc3339("2024-02-29T12:00:00Z", &t), 0);
        assert_int_equal(vt_time_parse_rfc3339("2025-02-29T00:00:00Z", &t), VT_E_FORMAT);
        assert_int_equal(vt_time_parse_rfc3339("2000-02-29T00:00:00Z", &t), 0);
        assert_int_equal(vt_time_parse_rfc3339("1900-02-29T00:00:00Z", &t), VT_E_FORMAT);
        vt_time_format_rfc3339(253402300800, buf);
        assert_int_equal(strlen(buf), 17);
        vt_time_format_rfc3339(1748736000, buf);
        assert_string_equal(buf, "2025-06-01T00:00:00Z");
        const char *bad[] = {"",
                             "2025-06-01",
                             "2025-13-01T00:00:00Z",
                             "2025-06-31T00:00:00Z",
                             "2025-06-01T24:00:00Z",
                             "2025-06-01T00:00:00",
                             "2025-06-01T00:00:00Zjunk",
                             "2025-06-01T00:00:00+0200",
                             "20x5-06-01T00:00:00Z",
                             "2025-06-01T00:00:00."};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(vt_time_parse_rfc3339(bad[i], &t), VT_E_FORMAT);
}

static void test_strerror(void **state)
{
        for (int e = 0; e > _VT_E_MIN; e--)
                assert_true(strcmp(vt_strerror(e), "unknown error") != 0);
        assert_string_equal(vt_strerror(1), "unknown error");
        assert_string_equal(vt_strerror(-1000), "unknown error");
        struct vt_diag d = {0};
        assert_int_equal(vt_diag_set(&d, VT_E_TCB, "first %d", 1), VT_E_TCB);
        assert_int_equal(vt_diag_set(&d, VT_E_FORMAT, "second"), VT_E_FORMAT);
        assert_string_equal(d.msg, "first 1");
        assert_int_equal(d.err, VT_E_TCB);
        vt_diag_clear(&d);
        assert_int_equal(d.err, 0);
        assert_int_equal(vt_diag_set(NULL, VT_E_IO, "x"), VT_E_IO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hex_roundtrip),
                cmocka_unit_test(test_time_rfc3339),
                cmocka_unit_test(test_strerror),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
