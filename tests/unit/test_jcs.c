/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/digest.h"
#include "testutil.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

/* jcs_of returns the canonical form of v (the test fails if there is none). */
static char *jcs_of(const json_t *v)
{
        char *s = NULL;
        size_t n = 0;
        int e = vt_jcs_serialize(v, &s, &n);
        if (e < 0)
                fail_msg("vt_jcs_serialize: %s", vt_strerror(e));
        assert_int_equal(strlen(s), n);
        return s;
}

/* check_text parses JSON text (any value) and expects want as its canonical form. */
static void check_text(const char *text, const char *want)
{
        json_error_t err;
        _cleanup_json_ json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (!v)
                fail_msg("test input does not parse: %s: %s", text, err.text);
        _cleanup_free_ char *s = jcs_of(v);
        assert_string_equal(s, want);
}

static void sha384_hex(const char *s, size_t n, char hex[97])
{
        uint8_t md[48];
        unsigned len = 0;
        assert_int_equal(EVP_Digest(s, n, md, &len, EVP_sha384(), NULL), 1);
        assert_int_equal(len, 48);
        vt_hex_encode(md, 48, hex);
}

/* RFC 8785 section 3.2.2 (and appendix): the sample object. */
static void test_jcs_rfc8785_example(void **state)
{
        check_text("{\n"
                   "  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, "
                   "0.000000000000000000000000001],\n"
                   "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
                   "  \"literals\": [null, true, false]\n"
                   "}",
                   "{\"literals\":[null,true,false],"
                   "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                   "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

/* RFC 8785 section 3.2.3: sorting by UTF-16 code units. */
static void test_jcs_rfc8785_sorting(void **state)
{
        check_text("{\n"
                   "  \"\\u20ac\": \"Euro Sign\",\n"
                   "  \"\\r\": \"Carriage Return\",\n"
                   "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                   "  \"1\": \"One\",\n"
                   "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
                   "  \"\\u0080\": \"Control\",\n"
                   "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
                   "}",
                   "{\"\\r\":\"Carriage Return\","
                   "\"1\":\"One\","
                   "\"\xc2\x80\":\"Control\","
                   "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                   "\"\xe2\x82\xac\":\"Euro Sign\","
                   "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                   "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* Where UTF-16 order and UTF-8 (code point) order disagree: U+10000 and above are
 * surrogate pairs (0xd800..0xdbff) and sort before U+E000..U+FFFF. */
static void test_jcs_sort_utf16(void **state)
{
        check_text("{\"\\uffff\":3,\"\\ue000\":2,\"\\ud83d\\ude00\":1,\"z\":0,"
                   "\"\\udbff\\udfff\":4,\"\\ud800\\udc00\":5}",
                   "{\"z\":0,\"\xf0\x90\x80\x80\":5,\"\xf0\x9f\x98\x80\":1,"
                   "\"\xf4\x8f\xbf\xbf\":4,\"\xee\x80\x80\":2,\"\xef\xbf\xbf\":3}");
        /* prefixes first; nested objects sorted too, arrays keep their order */
        check_text("{\"b\":[{\"y\":1,\"x\":2},3],\"ab\":{},\"a\":[],\"\":null,\"aa\":true}",
                   "{\"\":null,\"a\":[],\"aa\":true,\"ab\":{},\"b\":[{\"x\":2,\"y\":1},3]}");

        /* a key with NUL sorts after its prefix and is escaped */
        _cleanup_json_ json_t *o = json_object();
        assert_int_equal(json_object_setn_new(o, "a\0b", 3, json_integer(2)), 0);
        assert_int_equal(json_object_set_new(o, "a", json_integer(1)), 0);
        assert_int_equal(json_object_set_new(o, "a\x01", json_integer(3)), 0);
        _cleanup_free_ char *s = jcs_of(o);
        assert_string_equal(s, "{\"a\":1,\"a\\u0000b\":2,\"a\\u0001\":3}");
}

/* Keys of one and two characters from code points around every boundary of UTF-8 lengths
 * and of the UTF-16 order (ASCII, two and three bytes, U+E000..U+FFFF, supplementary),
 * mixed in one object: sorted exactly as by their UTF-16 code units, which the test
 * computes itself. The byte comparison (keys without 0xee..0xf4) and the UTF-16 one meet. */
struct k16 {
        char utf8[9];
        uint16_t u[4];
        size_t n;
};

static int cmp_k16(const void *pa, const void *pb)
{
        const struct k16 *a = pa, *b = pb;
        for (size_t i = 0;; i++) {
                if (i == a->n || i == b->n)
                        return a->n == b->n ? 0 : i == a->n ? -1 : 1;
                if (a->u[i] != b->u[i])
                        return a->u[i] < b->u[i] ? -1 : 1;
        }
}

static size_t put_cp(struct k16 *k, size_t o, uint32_t cp)
{
        if (cp < 0x10000) {
                k->u[k->n++] = (uint16_t)cp;
        } else {
                k->u[k->n++] = (uint16_t)(0xd800 | (cp - 0x10000) >> 10);
                k->u[k->n++] = (uint16_t)(0xdc00 | ((cp - 0x10000) & 0x3ff));
        }
        if (cp < 0x80) {
                k->utf8[o++] = (char)cp;
        } else if (cp < 0x800) {
                k->utf8[o++] = (char)(0xc0 | cp >> 6);
                k->utf8[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                k->utf8[o++] = (char)(0xe0 | cp >> 12);
                k->utf8[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
                k->utf8[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
                k->utf8[o++] = (char)(0xf0 | cp >> 18);
                k->utf8[o++] = (char)(0x80 | (cp >> 12 & 0x3f));
                k->utf8[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
                k->utf8[o++] = (char)(0x80 | (cp & 0x3f));
        }
        return o;
}

static void test_jcs_sort_mixed(void **state)
{
        (void)state;
        static const uint32_t cps[] = {0x41,   0x7f,   0xe9,   0x7ff,   0x800,   0xd7ff,
                                       0xe000, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff};
        enum { NC = sizeof(cps) / sizeof(cps[0]), NK = NC + NC * NC };
        struct k16 keys[NK];
        size_t nk = 0;
        for (size_t a = 0; a < NC; a++)
                for (size_t b = 0; b <= NC; b++) {
                        struct k16 *k = &keys[nk++];
                        memset(k, 0, sizeof(*k));
                        size_t o = put_cp(k, 0, cps[a]);
                        if (b < NC)
                                o = put_cp(k, o, cps[b]);
                        k->utf8[o] = 0;
                }
        assert_int_equal(nk, NK);
        /* inserted in an order unrelated to the sorted one */
        _cleanup_json_ json_t *obj = json_object();
        for (size_t i = 0; i < NK; i++)
                assert_int_equal(
                        json_object_set_new(obj, keys[(i * 37) % NK].utf8, json_integer(1)), 0);
        assert_int_equal(json_object_size(obj), NK);
        qsort(keys, NK, sizeof(keys[0]), cmp_k16);
        _cleanup_free_ char *want = malloc(NK * 16 + 2);
        size_t wl = 0;
        want[wl++] = '{';
        for (size_t i = 0; i < NK; i++)
                wl += (size_t)snprintf(want + wl, NK * 16 + 2 - wl, "%s\"%s\":1", i ? "," : "",
                                       keys[i].utf8);
        want[wl++] = '}';
        want[wl] = 0;
        _cleanup_free_ char *got = jcs_of(obj);
        assert_string_equal(got, want);

        /* small objects (sorted in place by the writer) and those just above: every size
         * from 1 to 24, from windows of the keys in yet another order */
        for (size_t size = 1; size <= 24; size++)
                for (size_t start = 0; start + size <= NK; start += 7) {
                        struct k16 sub[24];
                        _cleanup_json_ json_t *small = json_object();
                        for (size_t i = 0; i < size; i++) {
                                sub[i] = keys[(start + i) * 61 % NK];
                                assert_int_equal(
                                        json_object_set_new(small, sub[i].utf8, json_integer(2)),
                                        0);
                        }
                        qsort(sub, size, sizeof(sub[0]), cmp_k16);
                        char w[24 * 16 + 2];
                        size_t n = 0;
                        w[n++] = '{';
                        for (size_t i = 0; i < size; i++)
                                n += (size_t)snprintf(w + n, sizeof(w) - n, "%s\"%s\":2",
                                                      i ? "," : "", sub[i].utf8);
                        w[n++] = '}';
                        w[n] = 0;
                        _cleanup_free_ char *g = jcs_of(small);
                        assert_string_equal(g, w);
                }
}

struct collect {
        char *p;
        size_t len, calls, fail_at;
};

static int collect_sink(void *arg, const void *p, size_t n)
{
        struct collect *c = arg;
        if (++c->calls == c->fail_at)
                return -1;
        assert_true(n > 0);
        c->p = realloc(c->p, c->len + n + 1);
        assert_non_null(c->p);
        memcpy(c->p + c->len, p, n);
        c->len += n;
        c->p[c->len] = 0;
        return 0;
}

/* vt_jcs_write hands a sink exactly vt_jcs_serialize's text, whatever the sizes of the
 * pieces: many small ones crossing its buffer, strings longer than the buffer (written past
 * it), escapes at the edges; a sink's failure stops it. */
static void test_jcs_write_stream(void **state)
{
        (void)state;
        _cleanup_json_ json_t *root = json_object();
        _cleanup_json_ json_t *bytes = json_array();
        for (int i = 0; i < 20000; i++)
                json_array_append_new(bytes, json_integer((i * 7919) % 300 - 20));
        json_object_set(root, "bytes", bytes);
        char *lng = malloc(30001);
        assert_non_null(lng);
        for (int i = 0; i < 30000; i++)
                lng[i] = i % 997 == 0 ? '"' : i % 1009 == 0 ? '\n' : (char)('a' + i % 26);
        lng[30000] = 0;
        json_object_set_new(root, "long", json_string(lng));
        free(lng);
        for (int i = 0; i < 3000; i++) {
                char k[16];
                snprintf(k, sizeof(k), "k%d", (i * 31) % 3000);
                json_object_set_new(root, k,
                                    json_pack("{s:f, s:[s, b, n]}", "r", i / 7.0, "a",
                                              "\xc3\xa9t\xc3\xa9", i & 1));
        }
        _cleanup_free_ char *want = NULL;
        size_t wl = 0;
        assert_int_equal(vt_jcs_serialize(root, &want, &wl), 0);
        assert_true(wl > 100000);
        json_t *vals[] = {root, bytes, json_object_get(root, "long"), json_object_get(root, "k7")};
        for (size_t i = 0; i < ELEMENTSOF(vals); i++) {
                _cleanup_free_ char *one = NULL;
                size_t ol = 0;
                assert_int_equal(vt_jcs_serialize(vals[i], &one, &ol), 0);
                struct collect c = {0};
                assert_int_equal(vt_jcs_write(vals[i], collect_sink, &c), 0);
                assert_int_equal(c.len, ol);
                assert_memory_equal(c.p, one, ol);
                free(c.p);
        }
        /* the sink fails on its third piece: the writing stops there */
        struct collect c = {.fail_at = 3};
        assert_int_equal(vt_jcs_write(root, collect_sink, &c), VT_E_NOMEM);
        assert_int_equal(c.calls, 3);
        free(c.p);
        /* what JCS refuses is refused the same */
        _cleanup_json_ json_t *bad = json_object();
        json_object_set_new(bad, "x", json_stringn_nocheck("\xff", 1));
        struct collect c2 = {0};
        assert_int_equal(vt_jcs_write(bad, collect_sink, &c2), VT_E_FORMAT);
        free(c2.p);
        assert_int_equal(vt_jcs_write(NULL, collect_sink, &c), VT_E_INVAL);
        assert_int_equal(vt_jcs_write(root, NULL, NULL), VT_E_INVAL);
}

/* vt_jcs_digest is the digest of vt_jcs_serialize's text, for SHA-256 and SHA-384, on a
 * value larger than its streaming buffer; a wrong output size, a value JCS refuses and
 * missing arguments are refused with their own errors. */
static void test_jcs_digest(void **state)
{
        (void)state;
        _cleanup_json_ json_t *v = json_object();
        _cleanup_json_ json_t *arr = json_array();
        for (int i = 0; i < 9000; i++)
                json_array_append_new(arr, json_integer(i % 256));
        json_object_set(v, "bytes", arr);
        json_object_set_new(v, "a\u00e9", json_string("x\"y"));
        _cleanup_free_ char *t = NULL;
        size_t tl = 0;
        assert_int_equal(vt_jcs_serialize(v, &t, &tl), 0);
        assert_true(tl > 8192);
        const EVP_MD *mds[] = {vt_sha256(), EVP_sha384()};
        for (size_t i = 0; i < ELEMENTSOF(mds); i++) {
                uint8_t want[64], got[64];
                unsigned wl = 0;
                size_t n = (size_t)EVP_MD_get_size(mds[i]);
                assert_int_equal(EVP_Digest(t, tl, want, &wl, mds[i], NULL), 1);
                assert_int_equal(vt_jcs_digest(v, mds[i], got, n), 0);
                assert_memory_equal(got, want, n);
                assert_int_equal(vt_jcs_digest(v, mds[i], got, n - 1), VT_E_INVAL);
        }
        uint8_t h[32];
        _cleanup_json_ json_t *bad = json_object();
        json_object_set_new(bad, "x", json_stringn_nocheck("\xff", 1));
        assert_int_equal(vt_jcs_digest(bad, vt_sha256(), h, 32), VT_E_FORMAT);
        assert_int_equal(vt_jcs_digest(NULL, vt_sha256(), h, 32), VT_E_INVAL);
        assert_int_equal(vt_jcs_digest(v, NULL, h, 32), VT_E_INVAL);
}

/* spans_check parses text (n bytes) with vt_json_parse_spans and, if it is accepted, expects
 * vt_jcs_write_spans to give exactly vt_jcs_serialize's text or its same refusal, and the
 * digests to agree; returns how many arrays were recorded (-1: text refused). */
static int spans_check(const char *text, size_t n)
{
        struct vt_json_spans sp = {0};
        json_t *v = NULL;
        int e = vt_json_parse_spans((const uint8_t *)text, n, &v, &sp, NULL);
        if (e < 0) {
                assert_int_equal(sp.n, 0);
                assert_null(sp.v);
                return -1;
        }
        for (size_t i = 0; i < sp.n; i++) {
                assert_true(json_is_array(sp.v[i].node));
                assert_true(sp.v[i].len >= VT_JSON_SPAN_MIN && sp.v[i].off + sp.v[i].len <= n);
                assert_int_equal(text[sp.v[i].off], '[');
                assert_int_equal(text[sp.v[i].off + sp.v[i].len - 1], ']');
                assert_ptr_equal(vt_json_span_find(&sp, sp.v[i].node), &sp.v[i]);
                /* the bytes the parse kept for it are the nodes' bytes; with another
                 * count nothing is copied */
                size_t k = json_array_size(sp.v[i].node);
                uint8_t *from_text = malloc(k + 1), *from_nodes = malloc(k + 1);
                size_t at = 0;
                assert_non_null(from_text);
                assert_non_null(from_nodes);
                assert_true(vt_json_bytes(sp.v[i].node, from_nodes, k, &at));
                assert_true(vt_json_span_bytes(&sp, sp.v[i].node, from_text, k));
                assert_memory_equal(from_text, from_nodes, k);
                memset(from_text, 0xa5, k + 1);
                assert_false(vt_json_span_bytes(&sp, sp.v[i].node, from_text, k + 1));
                assert_int_equal(from_text[k], 0xa5); /* nothing past what it has */
                assert_false(k && vt_json_span_bytes(&sp, sp.v[i].node, from_text, k - 1));
                assert_false(vt_json_span_bytes(NULL, sp.v[i].node, from_text, k));
                free(from_text);
                free(from_nodes);
        }
        uint8_t one;
        assert_false(vt_json_span_bytes(&sp, json_null(), &one, 1));
        assert_null(vt_json_span_find(&sp, v == (json_t *)sp.v ? NULL : json_null()));
        char *want = NULL;
        size_t wl = 0;
        int we = vt_jcs_serialize(v, &want, &wl);
        struct collect c = {0};
        int ge = vt_jcs_write_spans(v, &sp, collect_sink, &c);
        assert_int_equal(ge, we);
        if (we == 0) {
                assert_int_equal(c.len, wl);
                assert_memory_equal(c.p, want, wl);
                uint8_t a[32], b[32];
                assert_int_equal(vt_jcs_digest(v, vt_sha256(), a, 32), 0);
                assert_int_equal(vt_jcs_digest_spans(v, &sp, vt_sha256(), b, 32), 0);
                assert_memory_equal(a, b, 32);
        }
        int rec = (int)sp.n;
        free(c.p);
        free(want);
        json_decref(v);
        vt_json_spans_done(&sp);
        assert_int_equal(sp.n, 0);
        return rec;
}

/* gen appends a random JSON value to b, at most five levels deep: mostly arrays of small
 * integers (Trustee's byte arrays), sometimes written non-canonically (whitespace, 256 and
 * more, signs, leading zeros, reals, nested values), inside objects with unsorted keys. */
static void gen(struct vt_test_text *b, unsigned *seed, unsigned depth)
{
        unsigned k = (unsigned)rand_r(seed) % 10;
        char t[32];
        if (depth > 4 || k < 2) {
                static const char *const scalars[] = {"7",   "\"s\"", "true", "null",
                                                      "1.5", "-3",    "300",  "\"\\u00e9\""};
                vt_test_put(b, scalars[(unsigned)rand_r(seed) % ELEMENTSOF(scalars)]);
        } else if (k < 8) {
                /* an array of integers, canonical unless a flaw is drawn */
                unsigned len = (unsigned)rand_r(seed) % 40, flaw = (unsigned)rand_r(seed) % 4;
                unsigned where = len ? (unsigned)rand_r(seed) % (len + 1) : 0;
                vt_test_put(b, flaw == 1 && where == 0 ? "[ " : "[");
                for (unsigned i = 0; i < len; i++) {
                        if (i)
                                vt_test_put(b, flaw == 1 && where == i ? ", " : ",");
                        unsigned v = (unsigned)rand_r(seed) % 256;
                        if (flaw == 2 && where == i) {
                                static const char *const odd[] = {"256", "-1",   "1.0", "1e2",
                                                                  "01",  "1000", "[1]", "\"1\""};
                                vt_test_put(b, odd[(unsigned)rand_r(seed) % ELEMENTSOF(odd)]);
                        } else {
                                snprintf(t, sizeof(t), "%u", v);
                                vt_test_put(b, t);
                        }
                }
                vt_test_put(b, flaw == 3 && where == len ? " ]" : "]");
        } else if (k < 9) {
                vt_test_put(b, "[");
                for (unsigned i = 0, n = (unsigned)rand_r(seed) % 4; i < n; i++) {
                        if (i)
                                vt_test_put(b, ",");
                        gen(b, seed, depth + 1);
                }
                vt_test_put(b, "]");
        } else {
                vt_test_put(b, "{");
                for (unsigned i = 0, n = (unsigned)rand_r(seed) % 4; i < n; i++) {
                        snprintf(t, sizeof(t), "%s\"%c%u\":", i ? "," : "",
                                 "zyxa"[(unsigned)rand_r(seed) % 4], i);
                        vt_test_put(b, t);
                        gen(b, seed, depth + 1);
                }
                vt_test_put(b, "}");
        }
}

/* vt_jcs_write_spans copies the arrays that vt_json_parse_spans recorded (those written
 * exactly as JCS writes them, at least VT_JSON_SPAN_MIN bytes) and writes the same text as
 * vt_jcs_serialize: on chosen texts, where a byte of whitespace, a 256, a sign or a real
 * anywhere in an array keeps it out, on thousands of random ones, and at the depth limit. */
static void test_jcs_spans(void **state)
{
        (void)state;
        static const char long_arr[] = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,255]";
        char t[512];
        snprintf(t, sizeof(t), "{\"b\":%s,\"a\":[%s,%s]}", long_arr, long_arr, long_arr);
        assert_int_equal(spans_check(t, strlen(t)), 3);
        /* a run dropped between two recorded arrays (its bytes were kept until its 256):
         * the arrays after it still get their own bytes */
        snprintf(t, sizeof(t), "{\"b\":%s,\"x\":%s,\"a\":%s}",
                 "[200,201,202,203,204,205,206,207,208,209]",
                 "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,256]",
                 "[90,91,92,93,94,95,96,97,98,99,100,101]");
        assert_int_equal(spans_check(t, strlen(t)), 2);
        static const char *const out[] = {
                "[ 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,255]",
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,255 ]",
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14, 15,16,255]",
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,256]",
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,-1]",
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,1.0]",
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,[1]]",
                "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,\"1\"]",
                "[1,2,3,4,5,6,7,8,9,10,11,12]", /* shorter than VT_JSON_SPAN_MIN */
                "[\"a\",1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,255]",
        };
        for (size_t i = 0; i < ELEMENTSOF(out); i++)
                assert_int_equal(spans_check(out[i], strlen(out[i])), 0);
        /* inside the refused and the NUL-skipping texts jansson accepts */
        static const char refused[] = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,0x]";
        static const char nul[] = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,2\0]";
        assert_int_equal(spans_check(refused, sizeof(refused) - 1), -1);
        assert_int_equal(spans_check(nul, sizeof(nul) - 1), 0);

        /* random texts: the same text every time, and many arrays recorded */
        unsigned seed = 18, recorded = 0, accepted = 0;
        for (int i = 0; i < 3000; i++) {
                struct vt_test_text b = {0};
                vt_test_put(&b, "{\"e\":");
                gen(&b, &seed, 0);
                vt_test_put(&b, ",\"d\":");
                gen(&b, &seed, 0);
                vt_test_put(&b, "}");
                int r = spans_check(b.p, b.len);
                if (r >= 0) {
                        accepted++;
                        recorded += (unsigned)r;
                }
                free(b.p);
        }
        assert_true(accepted > 1000 && recorded > 1000);

        /* an array recorded at the depth where JCS stops (512): refused the same */
        for (unsigned levels = 510; levels <= 513; levels++) {
                struct vt_test_text b = {0};
                for (unsigned i = 0; i < levels; i++)
                        vt_test_put(&b, "[");
                vt_test_put(&b, long_arr);
                for (unsigned i = 0; i < levels; i++)
                        vt_test_put(&b, "]");
                assert_int_equal(spans_check(b.p, b.len), 1);
                free(b.p);
        }
}

/* vt_json_plain: what a JSON string holds unescaped, every byte value tried alone */
static void test_json_plain(void **state)
{
        (void)state;
        for (int c = 0; c < 256; c++) {
                char s[3] = {'a', (char)c, 'b'};
                bool esc = c < 0x20 || c == '"' || c == '\\';
                assert_int_equal(vt_json_plain(s, 3, false), !esc);
                assert_int_equal(vt_json_plain(s, 3, true), !esc && c < 0x7f);
        }
        assert_true(vt_json_plain("", 0, true));
        assert_true(vt_json_plain("eyJhbGciOiJFUzI1NiJ9.e30.c2ln-_", 31, true));
        /* every byte value at every place of texts of 1 to 24 bytes, the others plain (up
         * to '~', the last plain byte, and down to ' ', the first): eight bytes at a time
         * and one by one give the same answers */
        for (size_t len = 1; len <= 24; len++)
                for (size_t at = 0; at < len; at++)
                        for (int c = 0; c < 256; c++) {
                                char s[24];
                                for (size_t i = 0; i < len; i++)
                                        s[i] = (char)(i % 2 ? '~' : ' ');
                                s[at] = (char)c;
                                bool esc = c < 0x20 || c == '"' || c == '\\';
                                assert_int_equal(vt_json_plain(s, len, false), !esc);
                                assert_int_equal(vt_json_plain(s, len, true), !esc && c < 0x7f);
                        }
        /* random texts, several such bytes at once (a borrow between lanes) */
        unsigned seed = 7;
        for (int k = 0; k < 20000; k++) {
                char s[40];
                size_t len = (size_t)rand_r(&seed) % sizeof(s);
                bool esc = false, high = false;
                for (size_t i = 0; i < len; i++) {
                        unsigned c = (unsigned)rand_r(&seed) % 8
                                             ? 0x20 + (unsigned)rand_r(&seed) % 0x5f
                                             : (unsigned)rand_r(&seed) % 256;
                        s[i] = (char)c;
                        esc = esc || c < 0x20 || c == '"' || c == '\\';
                        high = high || c >= 0x7f;
                }
                assert_int_equal(vt_json_plain(s, len, false), !esc);
                assert_int_equal(vt_json_plain(s, len, true), !esc && !high);
        }
}

/* vt_json_bytes: every byte value read; the first element that is not a byte (of any other
 * type, out of range, or missing past the array's end) named by its index */
static void test_json_bytes(void **state)
{
        (void)state;
        _cleanup_json_ json_t *a = json_array();
        uint8_t out[256];
        size_t at = 99;
        for (int i = 0; i < 256; i++)
                json_array_append_new(a, json_integer(255 - i));
        assert_true(vt_json_bytes(a, out, 256, &at));
        for (int i = 0; i < 256; i++)
                assert_int_equal(out[i], 255 - i);
        assert_int_equal(at, 99);
        json_t *bad[] = {json_integer(-1), json_integer(256), json_string("0"), json_real(0.0),
                         json_null(),      json_false(),      json_array(),     json_object()};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_json_ json_t *c = json_deep_copy(a);
                json_array_set_new(c, 17, bad[i]);
                assert_false(vt_json_bytes(c, out, 256, &at));
                assert_int_equal(at, 17);
        }
        assert_false(vt_json_bytes(a, out, 257, &at)); /* past the end */
        assert_int_equal(at, 256);
}

/* Trustee attestation-service/src/lib.rs unit test. */
static void test_jcs_trustee_unit_vector(void **state)
{
        _cleanup_json_ json_t *v =
                json_loads("{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}", 0, NULL);
        _cleanup_free_ char *s = NULL;
        size_t n;
        char hex[97];

        assert_non_null(v);
        assert_int_equal(vt_jcs_serialize(v, &s, &n), 0);
        assert_string_equal(s, "{\"a\":\"test\",\"b\":1,\"c\":{\"d\":\"e\"}}");
        sha384_hex(s, n, hex);
        assert_string_equal(hex, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f"
                                 "525cd22c4597480a186427c813ca941da78870c3");
        assert_memory_equal(hex, "e71ce8e7", 8);
        assert_string_equal(hex + 92, "70c3");
}

/* ../shared/testdata/kbs/derived: the KBS runtime-data binding (JCS of
 * additional-evidence, nonce and tee-pubkey, then SHA-384), and the Trustee vector. */
static void test_jcs_kbs_binding_vector(void **state)
{
        size_t len;
        _cleanup_free_ uint8_t *raw =
                vt_test_load_vector("kbs/derived/rcar-binding-and-jwe-vectors.json", &len);
        json_error_t err;
        _cleanup_json_ json_t *j = json_loadb((const char *)raw, len, 0, &err);
        if (!j)
                fail_msg("vector file: %s", err.text);

        const struct {
                const char *section, *input, *canonical, *digest;
        } cases[] = {
                {"runtime_data_binding", "hashed_object_before_canonicalization",
                 "jcs_canonical_json", "sha384_hex"},
                {"as_unit_vector_lib_rs", "input", "jcs", "sha384_hex"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *c = json_object_get(j, cases[i].section);
                json_t *in = json_object_get(c, cases[i].input);
                const char *want = json_string_value(json_object_get(c, cases[i].canonical));
                const char *digest = json_string_value(json_object_get(c, cases[i].digest));
                _cleanup_free_ char *s = NULL;
                size_t n;
                char hex[97];

                if (!json_is_object(in) || !want || !digest)
                        fail_msg("vector %s is incomplete", cases[i].section);
                assert_int_equal(vt_jcs_serialize(in, &s, &n), 0);
                assert_string_equal(s, want);
                sha384_hex(s, n, hex);
                assert_string_equal(hex, digest);
        }
        /* the binding object's keys are out of order in the file */
        const char *first = json_object_iter_key(
                json_object_iter(json_object_get(json_object_get(j, "runtime_data_binding"),
                                                 "hashed_object_before_canonicalization")));
        assert_string_equal(first, "tee-pubkey");
}

static void test_jcs_strings(void **state)
{
        char all[32];
        for (size_t i = 0; i < sizeof(all); i++)
                all[i] = (char)i;
        _cleanup_json_ json_t *v = json_stringn(all, sizeof(all));
        assert_non_null(v);
        _cleanup_free_ char *s = jcs_of(v);
        assert_string_equal(s, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
                               "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
                               "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
                               "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");

        /* '/', DEL, U+2028 and non-BMP characters are not escaped; '"' and '\' are */
        check_text("\"a/b\\u007f\\u2028\\ud83d\\ude00 \\\"q\\\" \\\\ \\u00e9\"",
                   "\"a/b\x7f\xe2\x80\xa8\xf0\x9f\x98\x80 \\\"q\\\" \\\\ \xc3\xa9\"");
        check_text("\"\"", "\"\"");
}

static void test_jcs_numbers(void **state)
{
        static const struct {
                double x;
                const char *want;
        } reals[] = {
                {0.0, "0"},
                {-0.0, "0"},
                {1.0, "1"},
                {-1.5, "-1.5"},
                {100.0, "100"},
                {0.5, "0.5"},
                {4.50, "4.5"},
                {2e-3, "0.002"},
                {0.1 + 0.2, "0.30000000000000004"},
                {333333333.33333329, "333333333.3333333"},
                {1e21, "1e+21"},
                {1e20, "100000000000000000000"},
                {123e18, "123000000000000000000"},
                {1e16, "10000000000000000"},
                {12345678901234567890.0, "12345678901234567000"},
                {9223372036854775808.0, "9223372036854776000"},
                {1180591620717411303424.0, "1.1805916207174113e+21"},
                {1e30, "1e+30"},
                {-1e30, "-1e+30"},
                {1e-6, "0.000001"},
                {1.5e-6, "0.0000015"},
                {1e-7, "1e-7"},
                {9.5367431640625e-07, "9.5367431640625e-7"},
                {1e-27, "1e-27"},
                {5e-324, "5e-324"},
                {2.2250738585072014e-308, "2.2250738585072014e-308"},
                {8.98846567431158e+307, "8.98846567431158e+307"},
                {1.7976931348623157e308, "1.7976931348623157e+308"},
                {-1.7976931348623157e308, "-1.7976931348623157e+308"},
                {9007199254740993.0, "9007199254740992"},
        };
        for (size_t i = 0; i < ELEMENTSOF(reals); i++) {
                _cleanup_json_ json_t *v = json_real(reals[i].x);
                _cleanup_free_ char *s = jcs_of(v);
                if (strcmp(s, reals[i].want) != 0)
                        fail_msg("%.17g: got %s, want %s", reals[i].x, s, reals[i].want);
        }

        /* integers print as they are (json_integer, not doubles) */
        check_text("[0,-0,-1,9007199254740993,9223372036854775807,-9223372036854775808]",
                   "[0,0,-1,9007199254740993,9223372036854775807,-9223372036854775808]");
        /* every power of ten and its neighbours, both signs, as printf prints them */
        for (json_int_t t = 1;; t *= 10) {
                json_int_t vals[] = {t - 1, t, t + 1, -(t - 1), -t, -(t + 1)};
                for (size_t i = 0; i < ELEMENTSOF(vals); i++) {
                        char want[32];
                        _cleanup_json_ json_t *v = json_integer(vals[i]);
                        _cleanup_free_ char *s = jcs_of(v);
                        snprintf(want, sizeof(want), "%" JSON_INTEGER_FORMAT, vals[i]);
                        if (strcmp(s, want) != 0)
                                fail_msg("integer: got %s, want %s", s, want);
                }
                if (t > INT64_MAX / 10)
                        break;
        }
        /* and as elements of an array (the byte arrays' path, with its own digits below
         * 1000): every value from -3 to 1100, then the powers of ten and their neighbours */
        _cleanup_json_ json_t *arr = json_array();
        char want[65536];
        size_t wl = 0;
        want[wl++] = '[';
        for (json_int_t x = -3; x <= 1100; x++) {
                json_array_append_new(arr, json_integer(x));
                wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%s%" JSON_INTEGER_FORMAT,
                                       x > -3 ? "," : "", x);
        }
        for (json_int_t t = 1000;; t *= 10) {
                json_int_t vals[] = {t - 1, t, t + 1, -t};
                for (size_t i = 0; i < ELEMENTSOF(vals); i++) {
                        json_array_append_new(arr, json_integer(vals[i]));
                        wl += (size_t)snprintf(want + wl, sizeof(want) - wl,
                                               ",%" JSON_INTEGER_FORMAT, vals[i]);
                }
                if (t > INT64_MAX / 10)
                        break;
        }
        want[wl++] = ']';
        want[wl] = 0;
        _cleanup_free_ char *as = jcs_of(arr);
        assert_string_equal(as, want);
        check_text("[1.0,-0.0,1E2,1e-7,0.000001,0.10,-2.5e-3]",
                   "[1,0,100,1e-7,0.000001,0.1,-0.0025]");
}

/* jansson itself refuses NaN and infinities, so JCS cannot be handed them; the
 * check in jcs.c is a second line. */
static void test_jcs_nan_inf(void **state)
{
        assert_null(json_real(NAN));
        assert_null(json_real(INFINITY));
        assert_null(json_real(-INFINITY));
        _cleanup_json_ json_t *r = json_real(1.0);
        assert_int_equal(json_real_set(r, NAN), -1);
        assert_null(json_loads("[1e400]", 0, NULL));
}

static void test_jcs_invalid_utf8(void **state)
{
        static const char *const bad[] = {
                "\xff",     "\xc0\x80", "\xc1\xbf",      "\xed\xa0\x80", "\xf4\x90\x80\x80",
                "\xe2\x82", "\x80",     "a\xf0\x9f\x98",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = (char *)"untouched";
                size_t n = 99;
                _cleanup_json_ json_t *v = json_stringn_nocheck(bad[i], strlen(bad[i]));
                _cleanup_json_ json_t *o = json_object();
                _cleanup_json_ json_t *a = json_pack("[i,{s:[O]}]", 1, "k", v);
                assert_non_null(v);
                assert_non_null(a);
                assert_int_equal(vt_jcs_serialize(v, &s, &n), VT_E_FORMAT);
                assert_int_equal(vt_jcs_serialize(a, &s, &n), VT_E_FORMAT);
                assert_int_equal(json_object_set_new_nocheck(o, bad[i], json_null()), 0);
                assert_int_equal(vt_jcs_serialize(o, &s, &n), VT_E_FORMAT);
                assert_string_equal(s, "untouched");
                assert_int_equal(n, 99);
        }
}

static void test_jcs_structure(void **state)
{
        check_text("{}", "{}");
        check_text("[]", "[]");
        check_text("null", "null");
        check_text("true", "true");
        check_text("[{},[],[[]],{\"a\":{}}]", "[{},[],[[]],{\"a\":{}}]");
        check_text("{ \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } }", "{\"a\":[1,2],\"b\":{}}");

        /* ret_len is optional */
        _cleanup_json_ json_t *v = json_pack("{s:i}", "k", 1);
        _cleanup_free_ char *s = NULL;
        assert_int_equal(vt_jcs_serialize(v, &s, NULL), 0);
        assert_string_equal(s, "{\"k\":1}");
        assert_int_equal(vt_jcs_serialize(NULL, &s, NULL), VT_E_INVAL);
}

static json_t *nest(size_t depth)
{
        json_t *v = json_integer(7);
        for (size_t i = 0; i < depth && v; i++) {
                json_t *a = i % 2 ? json_array() : json_object();
                if (!a)
                        break;
                if (json_is_array(a))
                        json_array_append_new(a, v);
                else
                        json_object_set_new(a, "k", v);
                v = a;
        }
        return v;
}

/* Deep values (and cycles, which jansson does not prevent) stop at 512 levels. */
static void test_jcs_depth(void **state)
{
        _cleanup_json_ json_t *ok = nest(512), *deep = nest(513);
        char *s = NULL;
        size_t n;

        assert_int_equal(vt_jcs_serialize(ok, &s, &n), 0);
        free(s);
        s = NULL;
        assert_int_equal(vt_jcs_serialize(deep, &s, &n), VT_E_LIMIT);
        assert_null(s);

        /* jansson refuses an array holding itself, but not a longer cycle */
        json_t *a = json_array(), *b = json_array();
        assert_int_equal(json_array_append_new(a, b), 0);
        assert_int_equal(json_array_append(b, a), 0);
        assert_int_equal(vt_jcs_serialize(a, &s, &n), VT_E_LIMIT);
        json_array_clear(b);
        json_decref(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jcs_rfc8785_example),
                cmocka_unit_test(test_jcs_rfc8785_sorting),
                cmocka_unit_test(test_jcs_sort_utf16),
                cmocka_unit_test(test_jcs_sort_mixed),
                cmocka_unit_test(test_jcs_write_stream),
                cmocka_unit_test(test_jcs_digest),
                cmocka_unit_test(test_jcs_spans),
                cmocka_unit_test(test_json_plain),
                cmocka_unit_test(test_json_bytes),
                cmocka_unit_test(test_jcs_trustee_unit_vector),
                cmocka_unit_test(test_jcs_kbs_binding_vector),
                cmocka_unit_test(test_jcs_strings),
                cmocka_unit_test(test_jcs_numbers),
                cmocka_unit_test(test_jcs_nan_inf),
                cmocka_unit_test(test_jcs_invalid_utf8),
                cmocka_unit_test(test_jcs_structure),
                cmocka_unit_test(test_jcs_depth),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
