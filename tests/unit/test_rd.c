/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "testutil.h"
#include "util/rd.h"
#include "util/wr.h"
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

/* The reader is exactly as before: a failing getter consumes nothing. */
static void assert_untouched(const struct vt_rd *r, const uint8_t *p, size_t len)
{
        assert_ptr_equal(r->p, p);
        assert_int_equal(r->len, len);
        assert_int_equal(r->off, 0);
}

typedef int (*lp_getter)(struct vt_rd *, struct vt_rd *);

static void check_length_prefixed(lp_getter get, const uint8_t *in, size_t len, size_t width,
                                  size_t body)
{
        struct vt_rd r, sub;
        /* every truncation fails and consumes nothing */
        for (size_t n = 0; n < len; n++) {
                vt_rd_init(&r, in, n);
                sub.p = NULL;
                assert_int_equal(get(&r, &sub), VT_E_TRUNCATED);
                assert_untouched(&r, in, n);
                assert_null(sub.p);
        }
        vt_rd_init(&r, in, len);
        assert_int_equal(get(&r, &sub), 0);
        assert_ptr_equal(sub.p, in + width);
        assert_int_equal(sub.len, body);
        assert_int_equal(sub.off, width);
        assert_int_equal(r.off, width + body);
        assert_int_equal(vt_rd_done(&r), 0);
}

static void test_rd_length_prefixed(void **state)
{
        static const uint8_t u8[] = {3, 'a', 'b', 'c'};
        static const uint8_t u16le[] = {2, 0, 'a', 'b'};
        static const uint8_t u16be[] = {0, 2, 'a', 'b'};
        static const uint8_t u32le[] = {1, 0, 0, 0, 'a'};
        static const uint8_t u32be[] = {0, 0, 0, 1, 'a'};
        static const uint8_t empty[] = {0, 0};
        check_length_prefixed(vt_rd_u8_length_prefixed, u8, sizeof(u8), 1, 3);
        check_length_prefixed(vt_rd_u16le_length_prefixed, u16le, sizeof(u16le), 2, 2);
        check_length_prefixed(vt_rd_u16be_length_prefixed, u16be, sizeof(u16be), 2, 2);
        check_length_prefixed(vt_rd_u32le_length_prefixed, u32le, sizeof(u32le), 4, 1);
        check_length_prefixed(vt_rd_u32be_length_prefixed, u32be, sizeof(u32be), 4, 1);
        check_length_prefixed(vt_rd_u16be_length_prefixed, empty, sizeof(empty), 2, 0);
        /* the byte order is the one asked for: 0x0200 bytes are not there */
        struct vt_rd r, sub;
        vt_rd_init(&r, u16le, sizeof(u16le));
        assert_int_equal(vt_rd_u16be_length_prefixed(&r, &sub), VT_E_TRUNCATED);
        assert_untouched(&r, u16le, sizeof(u16le));
        /* a huge 32-bit length does not wrap */
        static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'a'};
        vt_rd_init(&r, huge, sizeof(huge));
        assert_int_equal(vt_rd_u32le_length_prefixed(&r, &sub), VT_E_TRUNCATED);
        assert_untouched(&r, huge, sizeof(huge));
}

/* SEQUENCE { INTEGER 5, OCTET STRING "ab" } */
static const uint8_t der_seq[] = {0x30, 0x07, 0x02, 0x01, 0x05, 0x04, 0x02, 'a', 'b'};

static void test_rd_der_getters(void **state)
{
        struct vt_rd r, seq, c, el;
        unsigned tag = 0;
        size_t hdr = 0;
        uint64_t v = 0;
        vt_rd_init(&r, der_seq, sizeof(der_seq));
        assert_true(vt_rd_der_peek_tag(&r, VT_DER_SEQUENCE));
        assert_false(vt_rd_der_peek_tag(&r, VT_DER_INTEGER));
        assert_int_equal(vt_rd_der(&r, VT_DER_SEQUENCE, &seq), 0);
        assert_int_equal(vt_rd_done(&r), 0);
        assert_ptr_equal(seq.p, der_seq + 2);
        assert_int_equal(seq.len, 7);
        assert_int_equal(seq.off, 2);
        assert_int_equal(vt_rd_der_uint64(&seq, VT_DER_INTEGER, &v), 0);
        assert_int_equal(v, 5);
        assert_int_equal(vt_rd_der_any(&seq, &el, &tag, &hdr), 0);
        assert_int_equal(tag, VT_DER_OCTET_STRING);
        assert_int_equal(hdr, 2);
        assert_int_equal(el.len, 4);
        assert_ptr_equal(el.p, der_seq + 5);
        assert_int_equal(vt_rd_done(&seq), 0);
        assert_false(vt_rd_der_peek_tag(&seq, VT_DER_OCTET_STRING));
        /* skip; any with NULL outputs */
        vt_rd_init(&r, der_seq + 2, 7);
        assert_int_equal(vt_rd_der_skip(&r, VT_DER_INTEGER), 0);
        assert_int_equal(vt_rd_der(&r, VT_DER_OCTET_STRING, &c), 0);
        assert_memory_equal(c.p, "ab", 2);
        vt_rd_init(&r, der_seq, sizeof(der_seq));
        assert_int_equal(vt_rd_der_any(&r, &el, NULL, NULL), 0);
        assert_int_equal(el.len, sizeof(der_seq));
        /* an empty element */
        static const uint8_t null_el[] = {0x05, 0x00};
        vt_rd_init(&r, null_el, sizeof(null_el));
        assert_int_equal(vt_rd_der(&r, VT_DER_NULL, &c), 0);
        assert_int_equal(c.len, 0);
        /* a context-specific constructed tag [1] */
        static const uint8_t ctx[] = {0xa1, 0x03, 0x02, 0x01, 0x07};
        vt_rd_init(&r, ctx, sizeof(ctx));
        assert_true(vt_rd_der_peek_tag(&r, VT_DER_CONTEXT | VT_DER_CONSTRUCTED | 1));
        assert_int_equal(vt_rd_der(&r, VT_DER_CONTEXT | VT_DER_CONSTRUCTED | 1, &c), 0);
        assert_int_equal(vt_rd_der_uint64(&c, VT_DER_INTEGER, &v), 0);
        assert_int_equal(v, 7);
}

/* Every getter on every truncation of a valid element fails and consumes nothing. */
static void test_rd_der_truncations(void **state)
{
        for (size_t n = 0; n < sizeof(der_seq); n++) {
                struct vt_rd r, c = {0};
                uint64_t v = 42;
                unsigned tag = 99;
                size_t hdr = 99;
                vt_rd_init(&r, der_seq, n);
                assert_int_equal(vt_rd_der(&r, VT_DER_SEQUENCE, &c), VT_E_TRUNCATED);
                assert_int_equal(vt_rd_der_any(&r, &c, &tag, &hdr), VT_E_TRUNCATED);
                assert_int_equal(vt_rd_der_skip(&r, VT_DER_SEQUENCE), VT_E_TRUNCATED);
                assert_untouched(&r, der_seq, n);
                assert_null(c.p);
                assert_int_equal(tag, 99);
                assert_int_equal(hdr, 99);
                /* the INTEGER inside, truncated */
                if (n >= 2 && n < 5) {
                        vt_rd_init(&r, der_seq + 2, n - 2);
                        assert_int_equal(vt_rd_der_uint64(&r, VT_DER_INTEGER, &v), VT_E_TRUNCATED);
                        assert_untouched(&r, der_seq + 2, n - 2);
                        assert_int_equal(v, 42);
                }
        }
        /* a long-form length whose length octets are cut */
        static const uint8_t cut[] = {0x04, 0x82, 0x01};
        struct vt_rd r, c;
        vt_rd_init(&r, cut, sizeof(cut));
        assert_int_equal(vt_rd_der(&r, VT_DER_OCTET_STRING, &c), VT_E_TRUNCATED);
        assert_untouched(&r, cut, sizeof(cut));
}

static void expect_der(const uint8_t *in, size_t len, unsigned tag, int want)
{
        struct vt_rd r, c = {0};
        vt_rd_init(&r, in, len);
        assert_int_equal(vt_rd_der(&r, tag, &c), want);
        if (want < 0) {
                assert_untouched(&r, in, len);
                assert_null(c.p);
                unsigned t = 99;
                assert_int_equal(vt_rd_der_any(&r, &c, &t, NULL),
                                 want == VT_E_FORMAT && tag != in[0] ? 0 : want);
                if (t == 99)
                        assert_untouched(&r, in, len);
        } else {
                assert_int_equal(vt_rd_done(&r), 0);
        }
}

static void test_rd_der_lengths(void **state)
{
        uint8_t big[4 + 300];
        memset(big, 0xaa, sizeof(big));
        /* long form, one and two length octets */
        big[0] = VT_DER_OCTET_STRING, big[1] = 0x81, big[2] = 0x80;
        expect_der(big, 3 + 0x80, VT_DER_OCTET_STRING, 0);
        big[1] = 0x82, big[2] = 0x01, big[3] = 0x2c;
        expect_der(big, 4 + 300, VT_DER_OCTET_STRING, 0);
        struct vt_rd r, c;
        vt_rd_init(&r, big, sizeof(big));
        assert_int_equal(vt_rd_der(&r, VT_DER_OCTET_STRING, &c), 0);
        assert_int_equal(c.len, 300);
        assert_int_equal(c.off, 4);
        /* the long form for a length below 128 is not minimal */
        static const uint8_t nm1[] = {0x04, 0x81, 0x01, 'a'};
        expect_der(nm1, sizeof(nm1), VT_DER_OCTET_STRING, VT_E_FORMAT);
        /* a leading zero length octet is not minimal */
        big[1] = 0x82, big[2] = 0x00, big[3] = 0x80;
        expect_der(big, 4 + 0x80, VT_DER_OCTET_STRING, VT_E_FORMAT);
        static const uint8_t nm2[] = {0x04, 0x82, 0x00, 0x01, 'a'};
        expect_der(nm2, sizeof(nm2), VT_DER_OCTET_STRING, VT_E_FORMAT);
        /* the indefinite length is BER, not DER */
        static const uint8_t indef[] = {0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00};
        expect_der(indef, sizeof(indef), VT_DER_SEQUENCE, VT_E_FORMAT);
        /* more than four length octets, and the reserved 0xff */
        static const uint8_t five[] = {0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00};
        expect_der(five, sizeof(five), VT_DER_OCTET_STRING, VT_E_FORMAT);
        static const uint8_t ff[] = {0x04, 0xff, 0x01};
        expect_der(ff, sizeof(ff), VT_DER_OCTET_STRING, VT_E_FORMAT);
        /* a length past the end, in both forms */
        static const uint8_t past[] = {0x04, 0x03, 'a', 'b'};
        expect_der(past, sizeof(past), VT_DER_OCTET_STRING, VT_E_TRUNCATED);
        static const uint8_t pastl[] = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 'a'};
        expect_der(pastl, sizeof(pastl), VT_DER_OCTET_STRING, VT_E_TRUNCATED);
}

static void test_rd_der_tags(void **state)
{
        /* the wrong tag */
        expect_der(der_seq, sizeof(der_seq), VT_DER_SET, VT_E_FORMAT);
        expect_der(der_seq, sizeof(der_seq), VT_DER_OCTET_STRING, VT_E_FORMAT);
        /* the high-tag-number form is refused by every getter */
        static const uint8_t high[] = {0x1f, 0x21, 0x00};
        struct vt_rd r, c;
        vt_rd_init(&r, high, sizeof(high));
        assert_int_equal(vt_rd_der(&r, 0x1f, &c), VT_E_FORMAT);
        assert_int_equal(vt_rd_der_any(&r, &c, NULL, NULL), VT_E_FORMAT);
        assert_untouched(&r, high, sizeof(high));
        assert_false(vt_rd_der_peek_tag(&r, VT_DER_SEQUENCE));
        vt_rd_init(&r, NULL, 0);
        assert_false(vt_rd_der_peek_tag(&r, 0));
        assert_int_equal(vt_rd_der_any(&r, &c, NULL, NULL), VT_E_TRUNCATED);
}

static void expect_uint(const uint8_t *in, size_t len, unsigned tag, int want, uint64_t value)
{
        struct vt_rd r;
        uint64_t v = 0x5555;
        vt_rd_init(&r, in, len);
        assert_int_equal(vt_rd_der_uint64(&r, tag, &v), want);
        if (want == 0) {
                assert_true(v == value);
                assert_int_equal(vt_rd_done(&r), 0);
        } else {
                assert_true(v == 0x5555);
                assert_untouched(&r, in, len);
        }
}

static void test_rd_der_uint64(void **state)
{
        static const uint8_t zero[] = {0x02, 0x01, 0x00};
        static const uint8_t x80[] = {0x02, 0x02, 0x00, 0x80};
        static const uint8_t max[] = {0x02, 0x09, 0x00, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff};
        static const uint8_t enm[] = {0x0a, 0x01, 0x02};
        static const uint8_t empty[] = {0x02, 0x00};
        static const uint8_t neg[] = {0x02, 0x01, 0x80};
        static const uint8_t pad0[] = {0x02, 0x02, 0x00, 0x7f};
        static const uint8_t padff[] = {0x02, 0x02, 0xff, 0x80};
        static const uint8_t big[] = {0x02, 0x09, 0x01, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00};
        static const uint8_t str[] = {0x04, 0x01, 0x05};
        expect_uint(zero, sizeof(zero), VT_DER_INTEGER, 0, 0);
        expect_uint(x80, sizeof(x80), VT_DER_INTEGER, 0, 0x80);
        expect_uint(max, sizeof(max), VT_DER_INTEGER, 0, UINT64_MAX);
        expect_uint(enm, sizeof(enm), VT_DER_ENUMERATED, 0, 2);
        expect_uint(enm, sizeof(enm), VT_DER_INTEGER, VT_E_FORMAT, 0);
        expect_uint(empty, sizeof(empty), VT_DER_INTEGER, VT_E_FORMAT, 0);
        expect_uint(neg, sizeof(neg), VT_DER_INTEGER, VT_E_FORMAT, 0);
        expect_uint(pad0, sizeof(pad0), VT_DER_INTEGER, VT_E_FORMAT, 0);
        expect_uint(padff, sizeof(padff), VT_DER_INTEGER, VT_E_FORMAT, 0);
        expect_uint(big, sizeof(big), VT_DER_INTEGER, VT_E_FORMAT, 0);
        expect_uint(str, sizeof(str), VT_DER_INTEGER, VT_E_FORMAT, 0);
}

static void test_wr_puts(void **state)
{
        uint8_t b[8];
        vt_put_u16le(b, 0x0102);
        assert_memory_equal(b, "\x02\x01", 2);
        vt_put_u32le(b, 0x01020304);
        assert_memory_equal(b, "\x04\x03\x02\x01", 4);
        vt_put_u64le(b, 0x0102030405060708ull);
        assert_memory_equal(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
        vt_put_u16be(b, 0x0102);
        assert_memory_equal(b, "\x01\x02", 2);
        vt_put_u32be(b, 0x01020304);
        assert_memory_equal(b, "\x01\x02\x03\x04", 4);
        /* what the writer puts, the reader gets back */
        uint8_t buf[32];
        struct vt_wr w;
        vt_wr_init(&w, buf, sizeof(buf));
        assert_int_equal(vt_wr_u8(&w, 0xab), 0);
        assert_int_equal(vt_wr_u16le(&w, 0x1234), 0);
        assert_int_equal(vt_wr_u32le(&w, 0xdeadbeef), 0);
        assert_int_equal(vt_wr_u64le(&w, 0x0102030405060708ull), 0);
        assert_int_equal(vt_wr_u16be(&w, 0x1234), 0);
        assert_int_equal(vt_wr_u32be(&w, 0xdeadbeef), 0);
        assert_int_equal(vt_wr_bytes(&w, "xy", 2), 0);
        assert_int_equal(vt_wr_zero(&w, 3), 0);
        assert_int_equal(w.len, 1 + 2 + 4 + 8 + 2 + 4 + 2 + 3);
        struct vt_rd r;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        char xy[2];
        vt_rd_init(&r, buf, w.len);
        assert_int_equal(vt_rd_u8(&r, &u8), 0);
        assert_int_equal(u8, 0xab);
        assert_int_equal(vt_rd_u16le(&r, &u16), 0);
        assert_int_equal(u16, 0x1234);
        assert_int_equal(vt_rd_u32le(&r, &u32), 0);
        assert_int_equal(u32, 0xdeadbeef);
        assert_int_equal(vt_rd_u64le(&r, &u64), 0);
        assert_true(u64 == 0x0102030405060708ull);
        assert_int_equal(vt_rd_u16be(&r, &u16), 0);
        assert_int_equal(u16, 0x1234);
        assert_int_equal(vt_rd_u32be(&r, &u32), 0);
        assert_int_equal(u32, 0xdeadbeef);
        assert_int_equal(vt_rd_bytes(&r, xy, 2), 0);
        assert_memory_equal(xy, "xy", 2);
        assert_int_equal(vt_rd_zero(&r, 3, NULL), 0);
        assert_int_equal(vt_rd_done(&r), 0);
}

/* A writer that is full writes nothing and says so. */
static void test_wr_limits(void **state)
{
        for (size_t cap = 0; cap < 8; cap++) {
                uint8_t buf[8];
                memset(buf, 0x5a, sizeof(buf));
                struct vt_wr w;
                vt_wr_init(&w, buf, cap);
                assert_int_equal(vt_wr_u64le(&w, 0), VT_E_LIMIT);
                assert_int_equal(vt_wr_bytes(&w, "123456789", cap + 1), VT_E_LIMIT);
                assert_int_equal(vt_wr_zero(&w, cap + 1), VT_E_LIMIT);
                if (cap < 4) {
                        assert_int_equal(vt_wr_u32le(&w, 0), VT_E_LIMIT);
                        assert_int_equal(vt_wr_u32be(&w, 0), VT_E_LIMIT);
                }
                if (cap < 2) {
                        assert_int_equal(vt_wr_u16le(&w, 0), VT_E_LIMIT);
                        assert_int_equal(vt_wr_u16be(&w, 0), VT_E_LIMIT);
                }
                if (cap < 1)
                        assert_int_equal(vt_wr_u8(&w, 0), VT_E_LIMIT);
                assert_int_equal(w.len, 0);
                for (size_t i = 0; i < sizeof(buf); i++)
                        assert_int_equal(buf[i], 0x5a);
                assert_int_equal(vt_wr_zero(&w, cap), 0);
                assert_int_equal(w.len, cap);
        }
        struct vt_wr w;
        vt_wr_init(&w, NULL, 10);
        assert_int_equal(vt_wr_u8(&w, 0), VT_E_LIMIT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rd_getters),      cmocka_unit_test(test_rd_truncations),
                cmocka_unit_test(test_rd_sub_and_zero), cmocka_unit_test(test_rd_length_prefixed),
                cmocka_unit_test(test_rd_der_getters),  cmocka_unit_test(test_rd_der_truncations),
                cmocka_unit_test(test_rd_der_lengths),  cmocka_unit_test(test_rd_der_tags),
                cmocka_unit_test(test_rd_der_uint64),   cmocka_unit_test(test_wr_puts),
                cmocka_unit_test(test_wr_limits),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
