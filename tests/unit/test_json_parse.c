/* SPDX-License-Identifier: Apache-2.0 */
/* vt_json_parse (lib/util/json_parse.c) against jansson's json_loadb(JSON_REJECT_DUPLICATES),
 * which it stands in for: every case runs both and expects the same verdict and, when both
 * accept, the same tree node by node. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"
#include "kbs/request.h"
#include "util/json_parse.h"
#include "util/macro.h"
#include "veritee/veritee.h"

/* both parses n bytes with jansson and with vt_json_parse, fails the test unless they agree
 * (verdict, and the tree when accepted), and returns the verdict; *ret (may be NULL) gets
 * our tree, d (may be NULL) our reason. */
static bool both_n(const char *text, size_t n, json_t **ret, struct vt_diag *d)
{
        json_error_t je;
        struct vt_diag dd = {0};
        json_t *ours = NULL;
        json_t *theirs = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
        int e = vt_json_parse((const uint8_t *)text, n, &ours, &dd);
        if ((e == 0) != (theirs != NULL)) {
                for (size_t i = 0; i < n && i < 200; i++)
                        fprintf(stderr, "%02x", (unsigned char)text[i]);
                fprintf(stderr, "\n");
                fail_msg("%.*s%s: jansson %s, vt_json_parse %s", (int)(n < 80 ? n : 80), text,
                         n < 80 ? "" : "...", theirs ? "accepted" : je.text,
                         e == 0 ? "accepted" : dd.msg);
        }
        if (e < 0) {
                assert_int_equal(e, VT_E_FORMAT);
                assert_non_null(strstr(dd.msg, " at byte "));
        } else if (!json_equal(theirs, ours) || !vt_json_identical(theirs, ours))
                fail_msg("%.*s: the trees differ", (int)(n < 80 ? n : 80), text);
        json_decref(theirs);
        if (d)
                *d = dd;
        if (ret)
                *ret = ours;
        else
                json_decref(ours);
        return e == 0;
}

static bool both(const char *text)
{
        return both_n(text, strlen(text), NULL, NULL);
}

/* accept/refuse: both parsers agree, with this verdict */
static void accept(const char *text)
{
        if (!both(text))
                fail_msg("refused: %s", text);
}

/* refuse expects both to refuse and our reason to contain why, at byte offset at */
static void refuse_at(const char *text, size_t n, const char *why, size_t at)
{
        struct vt_diag d = {0};
        if (both_n(text, n, NULL, &d))
                fail_msg("accepted: %s", text);
        if (why && !strstr(d.msg, why))
                fail_msg("%s: reason \"%s\", expected \"%s\"", text, d.msg, why);
        char want[40];
        snprintf(want, sizeof(want), " at byte %zu", at);
        if (at != SIZE_MAX && !strstr(d.msg, want))
                fail_msg("%s: reason \"%s\", expected the offset%s", text, d.msg, want);
}

static void refuse(const char *text, const char *why)
{
        refuse_at(text, strlen(text), why, SIZE_MAX);
}

static json_t *parse_ok(const char *text)
{
        json_t *j = NULL;
        if (!both_n(text, strlen(text), &j, NULL))
                fail_msg("refused: %s", text);
        return j;
}

static void test_json_parse_top_level(void **state)
{
        (void)state;
        accept("{}");
        accept("[]");
        accept(" \t\r\n{ \t\r\n} \t\r\n");
        accept("[ ]");
        refuse_at("", 0, "'[' or '{' expected", 0);
        refuse("   ", "'[' or '{' expected");
        refuse_at("1", 1, "'[' or '{' expected", 0);
        refuse("\"a\"", "'[' or '{' expected");
        refuse("true", "'[' or '{' expected");
        refuse("null", "'[' or '{' expected");
        refuse_at("{} x", 4, "end of file expected", 3);
        refuse("{}{}", "end of file expected");
        refuse("[][]", "end of file expected");
        refuse("{}\f", "end of file expected");
        refuse("{}\v", "end of file expected");
        refuse_at("{}\0", 3, "end of file expected", 2);
        refuse_at("\xef\xbb\xbf{}", 5, NULL, 0); /* a byte-order mark is not whitespace */
        refuse("{", "string or '}' expected");
        refuse("[", "premature end of input");
        refuse("[1", "premature end of input");
        refuse("{\"a\"", "':' expected");
        refuse("{\"a\":", "premature end of input");
        refuse("]", "'[' or '{' expected");
        /* NULL with length 0 is an empty text */
        struct vt_diag d = {0};
        json_t *j = NULL;
        assert_int_equal(vt_json_parse(NULL, 0, &j, &d), VT_E_FORMAT);
        assert_null(j);
        assert_non_null(strstr(d.msg, "'[' or '{' expected at byte 0"));
}

static void test_json_parse_structure(void **state)
{
        (void)state;
        accept("[1,2,3]");
        accept("[[],{},[[]],{\"a\":{}}]");
        accept("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}");
        accept("{\"\":0}"); /* an empty key */
        refuse("[1,]", "invalid token (a value expected)");
        refuse("[,1]", NULL);
        refuse("[1 2]", "',' or ']' expected");
        refuse("[1:2]", "',' or ']' expected");
        refuse("{\"a\":1,}", "string or '}' expected");
        refuse("{,}", "string or '}' expected");
        refuse("{\"a\" 1}", "':' expected");
        refuse("{\"a\":1 \"b\":2}", "',' or '}' expected");
        refuse("{1:2}", "string or '}' expected");
        refuse("{a:1}", "string or '}' expected");
        refuse("{\"a\":1]", "',' or '}' expected");
        refuse("[1}", "',' or ']' expected");
        refuse("{\"a\"::1}", NULL);
        /* members in document order, as jansson keeps them */
        json_t *j = parse_ok("{\"z\":1,\"a\":2,\"m\":3}");
        const char *k[3] = {0};
        size_t i = 0;
        const char *key;
        json_t *v;
        json_object_foreach (j, key, v)
                k[i++] = key;
        assert_string_equal(k[0], "z");
        assert_string_equal(k[1], "a");
        assert_string_equal(k[2], "m");
        json_decref(j);
}

static void test_json_parse_literals(void **state)
{
        (void)state;
        json_t *j = parse_ok("[true,false,null]");
        assert_true(json_is_true(json_array_get(j, 0)));
        assert_true(json_is_false(json_array_get(j, 1)));
        assert_true(json_is_null(json_array_get(j, 2)));
        json_decref(j);
        refuse("[tru]", "invalid token");
        refuse("[nul]", "invalid token");
        refuse("[True]", "invalid token");
        refuse("[NULL]", "invalid token");
        refuse("[truex]", NULL);
        refuse("[true false]", NULL);
        refuse("[nan]", "invalid token");
        refuse("[Infinity]", "invalid token");
        refuse("[undefined]", "invalid token");
        refuse("[fals", "invalid token");
        refuse("['a']", "invalid token");
}

/* jansson's stream cannot put back a NUL byte: one NUL right after a number or a literal
 * is skipped (and nowhere else) */
static void test_json_parse_nul_after_token(void **state)
{
        (void)state;
        json_t *j = NULL;
        assert_true(both_n("[1\0]", sizeof("[1\0]") - 1, &j, NULL));
        assert_int_equal(json_array_size(j), 1);
        json_decref(j);
        assert_true(both_n("[0\0,-2.5e1\0,true\0,false\0,null\0]",
                           sizeof("[0\0,-2.5e1\0,true\0,false\0,null\0]") - 1, NULL, NULL));
        assert_true(both_n("{\"a\":1\0}", sizeof("{\"a\":1\0}") - 1, NULL, NULL));
        assert_true(both_n("{\"a\":1\0 ,\"b\":null\0\n}", sizeof("{\"a\":1\0 ,\"b\":null\0\n}") - 1,
                           NULL, NULL));
        refuse_at("[1\0\0]", sizeof("[1\0\0]") - 1, "',' or ']' expected", 3);
        refuse_at("[1 \0]", sizeof("[1 \0]") - 1, "',' or ']' expected", 3);
        refuse_at("[\"a\"\0]", sizeof("[\"a\"\0]") - 1, "',' or ']' expected", 4);
        refuse_at("[[]\0]", sizeof("[[]\0]") - 1, "',' or ']' expected", 3);
        refuse_at("[1,\0 2]", sizeof("[1,\0 2]") - 1, "invalid token", 3);
        refuse_at("[]\0", sizeof("[]\0") - 1, "end of file expected", 2);
}

static void test_json_parse_integers(void **state)
{
        (void)state;
        json_t *j = parse_ok("[0,-0,1,-1,255,9223372036854775807,-9223372036854775808]");
        const json_int_t want[] = {0, 0, 1, -1, 255, INT64_MAX, INT64_MIN};
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_true(json_is_integer(json_array_get(j, i)));
                assert_true(json_integer_value(json_array_get(j, i)) == want[i]);
        }
        json_decref(j);
        refuse("[9223372036854775808]", "too big integer");
        refuse("[-9223372036854775809]", "too big negative integer");
        refuse("[18446744073709551616]", "too big integer");
        refuse("[99999999999999999999]", "too big integer");
        refuse("[123456789012345678901234567890]", "too big integer");
        refuse("[-123456789012345678901234567890]", "too big negative integer");
        refuse_at("[1,00]", 6, "leading zero", 3);
        refuse("[01]", "leading zero");
        refuse("[-01]", "leading zero");
        refuse("[+1]", "invalid token");
        refuse("[-]", "a digit must follow '-'");
        refuse("[- 1]", "a digit must follow '-'");
        refuse("[--1]", "a digit must follow '-'");
        refuse("[-a]", "a digit must follow '-'");
        refuse("[0x10]", NULL);
        refuse("[1-2]", NULL);
        refuse("[1 2]", NULL);
        refuse("[.5]", "invalid token");
        /* the integers of a Trustee byte array and of its structure, at every width */
        accept("[0,1,9,10,99,100,255,1000,65535,4294967295,4294967296,999999999999999999,"
               "1000000000000000000,-999999999999999999,-1000000000000000000]");
}

/* Runs of integers 0..255 (read by small_ints without the per-value dispatch) and every
 * way an element can leave such a run: the same verdicts, trees and error offsets as
 * jansson's. */
static void test_json_parse_small_int_runs(void **state)
{
        (void)state;
        static const char *const ok[] = {
                "[0]",
                "[255]",
                "[256]",
                "[0,1,2]",
                "[9,99,255,256,999,1000,0]",
                "[1,2 ,3]",
                "[1, 2,3]",
                "[1,\n2]",
                "[1,2]  ",
                "[[1,2],[3,4],[]]",
                "[1,-2,3]",
                "[1,2.5,3]",
                "[1,2e1,3]",
                "[1,\"a\",2]",
                "[1,true,2,null]",
                "{\"a\":[1,2],\"b\":3}",
                "[1,[2,[3]],4]",
                "[1,{\"x\":2},3]",
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                accept(ok[i]);
        refuse_at("[1,2,]", 6, "invalid token", 5);
        refuse_at("[1,2,03]", 8, "leading zero", 5);
        refuse_at("[1,2,00,3]", 10, "leading zero", 5);
        refuse_at("[1,2", 4, "premature end of input", 4);
        refuse_at("[1,2,", 5, "premature end of input", 5);
        refuse_at("[1,2 3]", 7, "',' or ']' expected", 5);
        refuse_at("[1,2}", 5, "',' or ']' expected", 4);
        refuse_at("[1,2]x", 6, "end of file expected", 5);
        refuse("[1,2,+3]", "invalid token");
        /* a NUL after a number is skipped (jansson's put-back), also inside a run */
        static const char nul[] = "[1,2\0,3]";
        assert_true(both_n(nul, sizeof(nul) - 1, NULL, NULL));
        json_t *j = parse_ok("[0,10,100,200,255,7]");
        const json_int_t want[] = {0, 10, 100, 200, 255, 7};
        assert_int_equal(json_array_size(j), ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_true(json_integer_value(json_array_get(j, i)) == want[i]);
        json_decref(j);
}

/* The integers 0..255 are one immortal node each, shared by every tree (Trustee's byte
 * arrays); 256 and -1 are nodes of their own. Freeing a tree leaves the shared ones as
 * they were; a deep copy gets nodes of its own. */
static void test_json_parse_shared_small_ints(void **state)
{
        (void)state;
        static const char text[] = "[0, 1, 255, 256, -1, 7, 7]";
        json_t *a = NULL, *b = NULL;
        assert_int_equal(vt_json_parse((const uint8_t *)text, strlen(text), &a, NULL), 0);
        assert_int_equal(vt_json_parse((const uint8_t *)text, strlen(text), &b, NULL), 0);
        for (size_t i = 0; i < json_array_size(a); i++) {
                json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
                json_int_t v = json_integer_value(x);
                assert_int_equal(v, json_integer_value(y));
                if (v >= 0 && v <= 255) {
                        assert_ptr_equal(x, y);
                        assert_true(x->refcount == (size_t)-1);
                } else {
                        assert_ptr_not_equal(x, y);
                        assert_int_equal(x->refcount, 1);
                }
        }
        assert_ptr_equal(json_array_get(a, 5), json_array_get(a, 6));
        json_t *seven = json_array_get(a, 5), *copy = json_deep_copy(a);
        assert_non_null(copy);
        assert_ptr_not_equal(json_array_get(copy, 5), seven);
        assert_true(json_equal(copy, b));
        json_decref(copy);
        json_decref(a);
        json_decref(b);
        /* still there, still 7, still immortal */
        assert_int_equal(json_integer_value(seven), 7);
        assert_true(seven->refcount == (size_t)-1);
        json_t *c = NULL;
        assert_int_equal(vt_json_parse((const uint8_t *)"[7]", 3, &c, NULL), 0);
        assert_ptr_equal(json_array_get(c, 0), seven);
        json_decref(c);
}

static void test_json_parse_reals(void **state)
{
        (void)state;
        json_t *j = parse_ok("[1.0,1e2,1E2,1e+2,1e-2,-0.0,0.5,1.5e300,1e-400,"
                             "10000000000000000000000.5,99999999999999999999e0,"
                             "2.2250738585072011e-308,4.9e-324,1.7976931348623157e308]");
        for (size_t i = 0; i < json_array_size(j); i++)
                assert_true(json_is_real(json_array_get(j, i)));
        assert_true(json_real_value(json_array_get(j, 1)) == 100.0);
        assert_true(json_real_value(json_array_get(j, 8)) == 0.0); /* underflow is accepted */
        json_decref(j);
        refuse("[1e400]", "real number overflow");
        refuse("[-1e400]", "real number overflow");
        refuse("[1.8e308]", "real number overflow");
        refuse("[1.]", "a digit must follow '.'");
        refuse("[1.e5]", "a digit must follow '.'");
        refuse("[1e]", "a digit must follow the exponent");
        refuse("[1e+]", "a digit must follow the exponent");
        refuse("[1E-]", "a digit must follow the exponent");
        refuse("[1e5.5]", NULL);
        refuse("[1.5.5]", NULL);
        refuse("[01.5]", "leading zero");
        refuse("[-.5]", "a digit must follow '-'");
        refuse("[1.5", "premature end of input");
        /* a real longer than the parser's stack copy */
        char big[400];
        size_t n = 0;
        big[n++] = '[';
        big[n++] = '-';
        for (int i = 0; i < 150; i++)
                big[n++] = (char)('0' + (i % 9) + 1);
        big[n++] = '.';
        for (int i = 0; i < 150; i++)
                big[n++] = (char)('0' + (i % 10));
        memcpy(big + n, "e-140]", 7);
        accept(big);
        /* reals in exactly the bits strtod gives (compared bit for bit by vt_json_identical) */
        accept("[0.1,0.2,0.30000000000000004,3.141592653589793,2.718281828459045e-10,"
               "123456789.123456789e-3,5e-324,1e23,8.98846567431158e307]");
}

static void test_json_parse_strings(void **state)
{
        (void)state;
        json_t *j = parse_ok("[\"\",\"abc\",\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\u0041\\u00e9\\u20AC"
                             "\\ud83d\\ude00\",\"\x7f\",\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]");
        assert_string_equal(json_string_value(json_array_get(j, 2)), "\"\\/\b\f\n\r\t");
        assert_string_equal(json_string_value(json_array_get(j, 3)),
                            "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
        assert_string_equal(json_string_value(json_array_get(j, 5)),
                            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
        json_decref(j);
        /* escapes */
        refuse("[\"\\a\"]", "invalid escape");
        refuse("[\"\\x41\"]", "invalid escape");
        refuse("[\"\\U0041\"]", "invalid escape");
        refuse("[\"\\u12\"]", "invalid escape");
        refuse("[\"\\u12G4\"]", "invalid escape");
        refuse("[\"\\", "premature end of input");
        refuse("[\"\\u00", "premature end of input");
        refuse("[\"abc", "premature end of input");
        refuse("[\"abc\\\"]", "premature end of input");
        accept("[\"\\u0001\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\\uFFFF\\uD7FF\\uE000\"]");
        /* surrogates: pairs only, a high one followed by a low one */
        accept("[\"\\uD800\\uDC00\\uDBFF\\uDFFF\\ud834\\udd1e\"]");
        refuse("[\"\\ud83d\"]", "high surrogate without a low one");
        refuse("[\"\\ud83dx\"]", "high surrogate without a low one");
        refuse("[\"\\ud83d\\n\"]", "high surrogate without a low one");
        refuse("[\"\\ud83d\\u0041\"]", "high surrogate without a low one");
        refuse("[\"\\ud83d\\ud83d\"]", "high surrogate without a low one");
        refuse("[\"\\ude00\"]", "low surrogate without a high one");
        refuse("[\"\\ude00\\ud83d\"]", "low surrogate without a high one");
        refuse("[\"\\ud83d\\ude0\"]", "invalid escape");
        /* NUL: escaped or raw, in a value or a key */
        refuse_at("[\"ab\\u0000\"]", 11, "\\u0000 is not allowed", 4);
        refuse_at("{\"a\\u0000\":1}", 13, "NUL byte in object key", 3);
        refuse_at("[\"a\0\"]", 5, "control character 0x0", 3);
        /* raw control characters */
        refuse("[\"\x01\"]", "control character 0x1");
        refuse("[\"\x1f\"]", "control character 0x1f");
        refuse("[\"a\nb\"]", "control character 0xa");
        refuse("[\"\t\"]", "control character 0x9");
        refuse("[\"\r\"]", "control character 0xd");
        /* UTF-8 as jansson checks it */
        accept("[\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80"
               "\x80\xf4\x8f\xbf\xbf\xf3\xbf\xbf\xbf\"]");
        refuse_at("[\"s\xff\xfeim\"]", 8, "unable to decode byte 0xff", 3);
        refuse("[\"\xc0\xaf\"]", "unable to decode byte 0xc0");         /* overlong '/' */
        refuse("[\"\xc1\xbf\"]", "unable to decode byte 0xc1");         /* overlong */
        refuse("[\"\xe0\x80\xaf\"]", "unable to decode byte 0xe0");     /* overlong, 3 bytes */
        refuse("[\"\xe0\x9f\xbf\"]", "unable to decode byte 0xe0");     /* overlong, 3 bytes */
        refuse("[\"\xf0\x80\x80\xaf\"]", "unable to decode byte 0xf0"); /* overlong, 4 */
        refuse("[\"\xf0\x8f\xbf\xbf\"]", "unable to decode byte 0xf0"); /* overlong, 4 */
        refuse("[\"\xed\xa0\x80\"]", "unable to decode byte 0xed");     /* U+D800 */
        refuse("[\"\xed\xbf\xbf\"]", "unable to decode byte 0xed");     /* U+DFFF */
        refuse("[\"\xf4\x90\x80\x80\"]", "unable to decode byte 0xf4"); /* U+110000 */
        refuse("[\"\xf5\x80\x80\x80\"]", "unable to decode byte 0xf5");
        refuse("[\"\xf8\x88\x80\x80\x80\"]", "unable to decode byte 0xf8");
        refuse("[\"\xfe\"]", "unable to decode byte 0xfe");
        refuse("[\"\x80\"]", "unable to decode byte 0x80"); /* a lone continuation byte */
        refuse("[\"\xbf\"]", "unable to decode byte 0xbf");
        refuse("[\"\xc3\"]", "unable to decode byte 0xc3");               /* cut by the quote */
        refuse("[\"\xe2\x82\"]", "unable to decode byte 0xe2");           /* cut by the quote */
        refuse("[\"\xc3\x28\"]", "unable to decode byte 0xc3");           /* not a continuation */
        refuse_at("[\"\xf0\x9f\x98", 6, "unable to decode byte 0xf0", 2); /* cut by the end */
        /* outside strings, any byte above 0x7f */
        refuse("[\xc3\xa9]", "invalid token");
        refuse("{\"a\":1}\xc3\xa9", "end of file expected");
        /* keys go through the same checks */
        accept("{\"\\u00e9\":1,\"\xc3\xa8\":2,\"\\ud83d\\ude00\":3,\"a\\nb\":4}");
        refuse("{\"\xc0\xaf\":1}", "unable to decode byte 0xc0");
        refuse("{\"\\ud800\":1}", "high surrogate without a low one");
        refuse("{\"a\x01\":1}", "control character 0x1");
        /* a long string with an escape at its end (the decoding buffer grows) */
        char *s = malloc(10010);
        assert_non_null(s);
        s[0] = '[';
        s[1] = '"';
        memset(s + 2, 'x', 9990);
        memcpy(s + 9992, "\\u00e9\xc3\xa9\"]", 11);
        accept(s);
        free(s);
}

static void test_json_parse_keys(void **state)
{
        (void)state;
        refuse_at("{\"a\":1,\"a\":2}", 13, "duplicate object key", 7);
        refuse("{\"a\":1,\"\\u0061\":2}", "duplicate object key");
        refuse("{\"a\":{\"b\":1},\"c\":2,\"a\":[]}", "duplicate object key");
        refuse("{\"\":1,\"\":2}", "duplicate object key");
        refuse("{\"\xc3\xa9\":1,\"\\u00e9\":2}", "duplicate object key");
        /* the same key in different objects, and keys that differ only after a NUL-free
         * prefix or in length */
        accept("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}");
        accept("{\"a\":1,\"ab\":2,\"abc\":3,\"A\":4}");
        /* a key decoded from escapes stays whole while its value is a string with escapes */
        json_t *j = parse_ok("{\"k\\u00e9y\":\"v\\u00e0l\",\"n\\t\":{\"\\\"\":\"\\\\\"}}");
        assert_string_equal(json_string_value(json_object_get(j, "k\xc3\xa9y")), "v\xc3\xa0l");
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "n\t"), "\"")),
                            "\\");
        json_decref(j);
}

/* nested: depth open brackets (arrays, or objects {"k": when obj), then mid, then closes */
static char *nested(size_t depth, bool obj, const char *mid)
{
        size_t per = obj ? 5 : 1, n = depth * per * 2 + strlen(mid) + 1;
        char *s = malloc(n), *t = s;
        assert_non_null(s);
        for (size_t i = 0; i < depth; i++) {
                memcpy(t, obj ? "{\"k\":" : "[", per);
                t += per;
        }
        memcpy(t, mid, strlen(mid));
        t += strlen(mid);
        for (size_t i = 0; i < depth; i++)
                *t++ = obj ? '}' : ']';
        *t = 0;
        return s;
}

static void depth_case(size_t depth, bool obj, const char *mid, bool ok)
{
        _cleanup_free_ char *s = nested(depth, obj, mid);
        struct vt_diag d = {0};
        if (both_n(s, strlen(s), NULL, &d) != ok)
                fail_msg("depth %zu (%s, \"%s\"): %s", depth, obj ? "objects" : "arrays", mid,
                         ok ? "refused" : "accepted");
        if (!ok && !strstr(d.msg, "maximum parsing depth reached"))
                fail_msg("depth %zu: reason %s", depth, d.msg);
}

/* mixed: objs objects {"k": around arrays empty arrays; both parsers' verdict */
static bool mixed(size_t objs, size_t arrays)
{
        size_t n = objs * 6 + arrays * 2;
        _cleanup_free_ char *s = malloc(n);
        assert_non_null(s);
        char *t = s;
        for (size_t i = 0; i < objs; i++, t += 5)
                memcpy(t, "{\"k\":", 5);
        memset(t, '[', arrays);
        memset(t + arrays, ']', arrays);
        memset(t + 2 * arrays, '}', objs);
        return both_n(s, n, NULL, NULL);
}

static void test_json_parse_depth(void **state)
{
        (void)state;
        assert_int_equal(VT_JSON_MAX_DEPTH, JSON_PARSER_MAX_DEPTH);
        /* 2048 containers, empty innermost: accepted; 2049: refused */
        depth_case(2048, false, "", true);
        depth_case(2049, false, "", false);
        depth_case(2048, false, "[]", false);
        depth_case(2048, true, "{}", false);
        depth_case(2047, true, "{}", true);
        /* a scalar counts as a level */
        depth_case(2047, false, "1", true);
        depth_case(2048, false, "1", false);
        depth_case(2047, true, "\"x\"", true);
        depth_case(2048, true, "null", false);
        depth_case(20000, false, "", false);
        /* mixed: objects around arrays, the innermost array at level objs + arrays */
        assert_true(mixed(1000, 1048));
        assert_false(mixed(1000, 1049));
        assert_true(mixed(2047, 1));
        assert_false(mixed(2047, 2));
}

/* splitmix64, for reproducible test data (the C library generator is banned here) */
static uint64_t next(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static void put_bytes(struct vt_test_text *b, uint64_t *x, size_t n)
{
        char num[8];
        vt_test_put(b, "[");
        for (size_t i = 0; i < n; i++) {
                snprintf(num, sizeof(num), "%s%u", i ? "," : "", (unsigned)(next(x) & 0xff));
                vt_test_put(b, num);
        }
        vt_test_put(b, "]");
}

/* attest_body: a KBS attest body of Trustee's SNP wire shape (the report's fields and a
 * VCEK, ASK and ARK as arrays of bytes: about 6,000 integers), with random bytes */
static char *attest_body(uint64_t seed, size_t *len)
{
        static const struct {
                const char *name;
                size_t n;
        } fields[] = {{"family_id", 16},         {"image_id", 16},
                      {"report_data", 64},       {"measurement", 48},
                      {"host_data", 32},         {"id_key_digest", 48},
                      {"author_key_digest", 48}, {"report_id", 32},
                      {"report_id_ma", 32},      {"chip_id", 64}};
        static const char *const tcb = "{\"fmc\":null,\"bootloader\":10,\"tee\":0,\"snp\":23,"
                                       "\"microcode\":25}";
        struct vt_test_text b = {0};
        uint64_t x = seed;
        vt_test_put(
                &b,
                "{\"runtime-data\":{\"nonce\":\"bm9uY2U=\",\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":"
                "\"P-256\",\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\",\"y\":"
                "\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\"}},\"tee-evidence\":{"
                "\"primary_evidence\":{\"attestation_report\":{\"version\":3,\"guest_svn\":0,"
                "\"policy\":196608,\"vmpl\":0,\"sig_algo\":1,\"plat_info\":37,\"key_info\":0,"
                "\"current_tcb\":");
        vt_test_put(&b, tcb);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                vt_test_put(&b, ",\"");
                vt_test_put(&b, fields[i].name);
                vt_test_put(&b, "\":");
                put_bytes(&b, &x, fields[i].n);
        }
        vt_test_put(&b, ",\"reported_tcb\":");
        vt_test_put(&b, tcb);
        vt_test_put(&b, ",\"committed_tcb\":");
        vt_test_put(&b, tcb);
        vt_test_put(&b, ",\"launch_tcb\":");
        vt_test_put(&b, tcb);
        vt_test_put(
                &b,
                ",\"current\":{\"major\":1,\"minor\":55,\"build\":40},\"committed\":{\"major\":1,"
                "\"minor\":55,\"build\":40},\"signature\":{\"r\":");
        put_bytes(&b, &x, 72);
        vt_test_put(&b, ",\"s\":");
        put_bytes(&b, &x, 72);
        vt_test_put(&b, "}},\"cert_chain\":[{\"cert_type\":\"VCEK\",\"data\":");
        put_bytes(&b, &x, 1360);
        vt_test_put(&b, "},{\"cert_type\":\"ASK\",\"data\":");
        put_bytes(&b, &x, 1600);
        vt_test_put(&b, "},{\"cert_type\":\"ARK\",\"data\":");
        put_bytes(&b, &x, 1600);
        vt_test_put(&b, "}]},\"additional_evidence\":\"\"}}");
        *len = b.len;
        return b.p;
}

static void test_json_parse_attest_body(void **state)
{
        (void)state;
        size_t n;
        _cleanup_free_ char *body = attest_body(1, &n);
        json_t *j = NULL;
        assert_true(both_n(body, n, &j, NULL));
        json_t *data = json_object_get(
                json_array_get(json_object_get(json_object_get(json_object_get(j, "tee-evidence"),
                                                               "primary_evidence"),
                                               "cert_chain"),
                               2),
                "data");
        assert_int_equal(json_array_size(data), 1600);
        json_decref(j);
        /* the server's reader takes it too */
        struct vt_diag d = {0};
        assert_int_equal(vt_kbs_body_parse((const uint8_t *)body, n, &j, &d), 0);
        json_decref(j);
}

/* every truncation of a valid body is refused by both, and every prefix that ends a
 * value inside it too (the walk STYLE.md asks of every parser) */
static void test_json_parse_truncations(void **state)
{
        (void)state;
        size_t n;
        _cleanup_free_ char *body = attest_body(2, &n);
        for (size_t i = 0; i < n; i += (i < 2000 || n - i < 2000) ? 1 : 7)
                if (both_n(body, i, NULL, NULL))
                        fail_msg("a body cut to %zu of %zu bytes was accepted", i, n);
        const char *small = "{\"a\":[1,-2,3.5e1,\"x\\u00e9\\ud83d\\ude00\xc3\xa9\",true,false,"
                            "null,{},[]],\"b\":{\"c\":\"d\"}}";
        for (size_t i = 0; i < strlen(small); i++)
                assert_false(both_n(small, i, NULL, NULL));
        assert_true(both(small));
}

/* mutations of valid documents: a byte replaced, inserted or removed, thousands of times,
 * with bytes that matter to the grammar; both parsers must agree on every one */
static void test_json_parse_mutations(void **state)
{
        (void)state;
        static const char alphabet[] = "{}[],:\"\\/-+.eE0123456789abfnrtuxADFtruefalsenull \t\n\r"
                                       "\x00\x01\x1f\x7f\x80\xbf\xc0\xc2\xdf\xe0\xed\xef\xf0\xf4"
                                       "\xf5\xff";
        static const char *const docs[] = {
                "{\"a\":[1,-2,3.5e1,\"x\\u00e9\",true,false,null,{},[]],\"b\":{\"c\":\"d\"}}",
                "[\"\\ud83d\\ude00\",\"\xc3\xa9\xe2\x82\xac\",\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
                "[9223372036854775807,-9223372036854775808,0,-0,1e308,1.5e-300]",
                "{\"k\":{\"k\":{\"k\":[[[[\"v\"]]]]}},\"l\":1}",
        };
        uint64_t x = 42;
        char m[256];
        size_t agreed = 0, accepted = 0;
        for (size_t round = 0; round < 20000; round++) {
                const char *doc = docs[round % ELEMENTSOF(docs)];
                size_t n = strlen(doc);
                memcpy(m, doc, n);
                for (int k = 0; k < 1 + (int)(next(&x) % 3); k++) {
                        size_t at = (size_t)(next(&x) % (n + 1));
                        char c = alphabet[next(&x) % (sizeof(alphabet) - 1)];
                        switch (next(&x) % 3) {
                        case 0:
                                if (at < n)
                                        m[at] = c;
                                break;
                        case 1:
                                if (n + 1 < sizeof(m)) {
                                        memmove(m + at + 1, m + at, n - at);
                                        m[at] = c;
                                        n++;
                                }
                                break;
                        default:
                                if (at < n) {
                                        memmove(m + at, m + at + 1, n - at - 1);
                                        n--;
                                }
                        }
                }
                accepted += both_n(m, n, NULL, NULL);
                agreed++;
        }
        assert_int_equal(agreed, 20000);
        assert_true(accepted > 100); /* the walk also reaches documents that parse */
}

/* vt_kbs_body_parse reads through vt_json_parse: its reasons name the check and offset */
static void test_json_parse_kbs_body(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        json_t *j = NULL;
        const char *bad = "{\"version\":\"0.4.0\",\"tee\":01}";
        assert_int_equal(vt_kbs_body_parse((const uint8_t *)bad, strlen(bad), &j, &d), VT_E_FORMAT);
        assert_null(j);
        assert_string_equal(d.msg, "json: invalid number: leading zero at byte 25");
        vt_diag_clear(&d);
        const char *arr = "[{}]";
        assert_int_equal(vt_kbs_body_parse((const uint8_t *)arr, 4, &j, &d), VT_E_FORMAT);
        assert_string_equal(d.msg, "body is not a JSON object");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_parse_top_level),
                cmocka_unit_test(test_json_parse_structure),
                cmocka_unit_test(test_json_parse_literals),
                cmocka_unit_test(test_json_parse_nul_after_token),
                cmocka_unit_test(test_json_parse_integers),
                cmocka_unit_test(test_json_parse_shared_small_ints),
                cmocka_unit_test(test_json_parse_small_int_runs),
                cmocka_unit_test(test_json_parse_reals),
                cmocka_unit_test(test_json_parse_strings),
                cmocka_unit_test(test_json_parse_keys),
                cmocka_unit_test(test_json_parse_depth),
                cmocka_unit_test(test_json_parse_attest_body),
                cmocka_unit_test(test_json_parse_truncations),
                cmocka_unit_test(test_json_parse_mutations),
                cmocka_unit_test(test_json_parse_kbs_body),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
