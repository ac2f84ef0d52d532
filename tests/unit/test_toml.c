/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"
#include "util/json.h"
#include "util/macro.h"
#include "util/toml.h"
#include "veritee/veritee.h"

/* Confidential Containers init-data, as the kata agent receives it. */
static const char initdata[] = "version = \"0.1.0\"\n"
                               "algorithm = \"sha384\"\n"
                               "[data]\n"
                               "\"aa.toml\" = '''\n"
                               "[token_configs]\n"
                               "[token_configs.kbs]\n"
                               "url = \"http://127.0.0.1:8080\"\n"
                               "'''\n"
                               "\"policy.rego\" = \"\"\"\n"
                               "package agent_policy\n"
                               "default AllowRequestsFailingPolicy := true\n"
                               "\"\"\"\n";

/* parse_n parses exactly n bytes from a heap copy, so that AddressSanitizer sees any
 * read past the end. */
static int parse_n(const char *text, size_t n, json_t **ret, struct vt_diag *d)
{
        _cleanup_free_ char *copy = malloc(n > 0 ? n : 1);
        assert_non_null(copy);
        if (n > 0)
                memcpy(copy, text, n);
        return vt_toml_parse(copy, n, ret, d);
}

/* check_ok parses text and expects the JSON want. */
static void check_ok(const char *text, const char *want_json)
{
        _cleanup_json_ json_t *got = NULL;
        _cleanup_json_ json_t *want = json_loads(want_json, 0, NULL);
        struct vt_diag d = {0};

        if (!want)
                fail_msg("bad expected JSON in test: %s", want_json);
        int e = parse_n(text, strlen(text), &got, &d);
        if (e < 0)
                fail_msg("parsing\n%s\nfailed: %d %s", text, e, d.msg);
        if (!json_equal(got, want)) {
                _cleanup_free_ char *s = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
                fail_msg("parsing\n%s\ngave %s\nwant  %s", text, s, want_json);
        }
}

/* check_err_n expects err with a message "toml: line <line>: ...<part>...". */
static void check_err_n(const char *text, size_t n, int err, unsigned line, const char *part)
{
        json_t *got = (json_t *)0x1;
        struct vt_diag d = {0};
        char prefix[64];
        int e = parse_n(text, n, &got, &d);

        if (e != err)
                fail_msg("parsing\n%.*s\nreturned %d (%s), expected %d", (int)n, text, e, d.msg,
                         err);
        assert_int_equal(d.err, err);
        assert_ptr_equal(got, (json_t *)0x1);
        snprintf(prefix, sizeof(prefix), "toml: line %u: ", line);
        if (strncmp(d.msg, prefix, strlen(prefix)) != 0 || !strstr(d.msg, part))
                fail_msg("parsing\n%.*s\ngave message \"%s\", expected \"%s...%s...\"", (int)n,
                         text, d.msg, prefix, part);
}

static void check_err(const char *text, int err, unsigned line, const char *part)
{
        check_err_n(text, strlen(text), err, line, part);
}

static void test_toml_initdata(void **state)
{
        check_ok(initdata, "{\"version\":\"0.1.0\",\"algorithm\":\"sha384\",\"data\":{"
                           "\"aa.toml\":\"[token_configs]\\n[token_configs.kbs]\\n"
                           "url = \\\"http://127.0.0.1:8080\\\"\\n\","
                           "\"policy.rego\":\"package agent_policy\\n"
                           "default AllowRequestsFailingPolicy := true\\n\"}}");

        /* the same with CRLF line ends: the newlines inside multi-line strings become \n */
        _cleanup_free_ char *crlf = malloc(2 * sizeof(initdata));
        size_t k = 0;
        for (const char *c = initdata; *c; c++) {
                if (*c == '\n')
                        crlf[k++] = '\r';
                crlf[k++] = *c;
        }
        crlf[k] = 0;
        _cleanup_json_ json_t *a = NULL, *b = NULL;
        assert_int_equal(vt_toml_parse(initdata, strlen(initdata), &a, NULL), 0);
        assert_int_equal(vt_toml_parse(crlf, k, &b, NULL), 0);
        assert_true(json_equal(a, b));
}

/* Every prefix of the example either parses or fails with a message naming a line. */
static void test_toml_truncations(void **state)
{
        size_t len = strlen(initdata), ok = 0;
        for (size_t n = 0; n <= len; n++) {
                json_t *v = NULL;
                struct vt_diag d = {0};
                int e = parse_n(initdata, n, &v, &d);
                if (e == 0) {
                        assert_true(json_is_object(v));
                        json_decref(v);
                        ok++;
                        continue;
                }
                assert_int_equal(e, VT_E_FORMAT);
                assert_null(v);
                if (strncmp(d.msg, "toml: line ", 11) != 0)
                        fail_msg("prefix of %zu bytes: message \"%s\"", n, d.msg);
        }
        assert_true(ok > 10);
        /* and every suffix */
        for (size_t n = 0; n <= len; n++) {
                json_t *v = NULL;
                if (parse_n(initdata + n, len - n, &v, NULL) == 0)
                        json_decref(v);
        }
}

static void test_toml_comments_and_layout(void **state)
{
        check_ok("", "{}");
        check_ok("\n\n", "{}");
        check_ok("# only a comment", "{}");
        check_ok("  # indented comment\n\t\n# another\r\n", "{}");
        check_ok("a = 1 # trailing comment\nb = 2#tight\n", "{\"a\":1,\"b\":2}");
        check_ok("  a=1\n\tb\t=\t2", "{\"a\":1,\"b\":2}");
        check_ok("a = 1\r\nb = 2\r\n", "{\"a\":1,\"b\":2}");
        check_ok("\xef\xbb\xbf"
                 "a = 1",
                 "{\"a\":1}");
        check_ok("# comment with unicode \xc3\xa9 and \t tab\na = 1", "{\"a\":1}");
}

static void test_toml_keys(void **state)
{
        check_ok("bare_key-1 = 1\n1234 = 2\n\"quoted key\" = 3\n'literal \\key' = 4",
                 "{\"bare_key-1\":1,\"1234\":2,\"quoted key\":3,\"literal \\\\key\":4}");
        check_ok("\"\" = 1", "{\"\":1}");
        check_ok("\"\\u00e9\\n\" = 1", "{\"\xc3\xa9\\n\":1}");
        check_ok("a.b.c = 1\na.b.d = 2\na.e = 3", "{\"a\":{\"b\":{\"c\":1,\"d\":2},\"e\":3}}");
        check_ok("a . b = 1\na.\"b.c\" = 2\na.'d' = 3", "{\"a\":{\"b\":1,\"b.c\":2,\"d\":3}}");
        check_ok("true = true\nfalse = 1\ninf = 2\nnan = 3",
                 "{\"true\":true,\"false\":1,\"inf\":2,\"nan\":3}");
        check_ok("3.14 = 1", "{\"3\":{\"14\":1}}");
        check_ok("\"=\" = \"=\"\n\"a=b\" = 'c=d'", "{\"=\":\"=\",\"a=b\":\"c=d\"}");
}

static void test_toml_tables(void **state)
{
        check_ok("[a]\nx = 1\n[b]\ny = 2", "{\"a\":{\"x\":1},\"b\":{\"y\":2}}");
        check_ok("[a.b]\nx = 1\n[a]\ny = 2", "{\"a\":{\"b\":{\"x\":1},\"y\":2}}");
        check_ok("[a.\"b.c\"]\nx = 1\n[ a . 'd' ]", "{\"a\":{\"b.c\":{\"x\":1},\"d\":{}}}");
        check_ok("[a]\n[a.b]\n[a.c]", "{\"a\":{\"b\":{},\"c\":{}}}");
        check_ok("top = 1\n[t]\nk = 2\n  [t.sub]  # indented header\n  k = 3",
                 "{\"top\":1,\"t\":{\"k\":2,\"sub\":{\"k\":3}}}");
        /* sub-tables of tables made by dotted keys */
        check_ok("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
                 "[fruit.apple.texture]\nsmooth = true",
                 "{\"fruit\":{\"apple\":{\"color\":\"red\",\"taste\":{\"sweet\":true},"
                 "\"texture\":{\"smooth\":true}}}}");
        check_ok("a.b = 1\n[a.c]\nd = 2", "{\"a\":{\"b\":1,\"c\":{\"d\":2}}}");
}

static void test_toml_strings(void **state)
{
        check_ok("s = \"tab\\tnl\\nquote\\\" bs\\\\ b\\b f\\f r\\r\"",
                 "{\"s\":\"tab\\tnl\\nquote\\\" bs\\\\ b\\b f\\f r\\r\"}");
        check_ok("s = \"\\u00e9 \\u20AC \\U0001F600 \\U0010FFFF\"",
                 "{\"s\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"}");
        check_ok("s = \"raw \xc3\xa9 \xf0\x9f\x98\x80\tand tab\"",
                 "{\"s\":\"raw \xc3\xa9 \xf0\x9f\x98\x80\\tand tab\"}");
        check_ok("s = 'C:\\Users\\nodejs\\templates'",
                 "{\"s\":\"C:\\\\Users\\\\nodejs\\\\templates\"}");
        check_ok("s = '<\\i\\c*\\s*>'\nt = ''", "{\"s\":\"<\\\\i\\\\c*\\\\s*>\",\"t\":\"\"}");
        check_ok("s = \"\"", "{\"s\":\"\"}");
        check_ok("s = \"# not a comment\" # comment", "{\"s\":\"# not a comment\"}");

        /* multi-line basic: first newline trimmed, line-ending backslash */
        check_ok("s = \"\"\"\nRoses are red\nViolets are blue\"\"\"",
                 "{\"s\":\"Roses are red\\nViolets are blue\"}");
        check_ok("s = \"\"\"\r\none\r\ntwo\"\"\"", "{\"s\":\"one\\ntwo\"}");
        check_ok("s = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\"\"\"",
                 "{\"s\":\"The quick brown fox jumps over the lazy dog.\"}");
        check_ok("s = \"\"\"\\\n       The quick brown \\  \n       fox.\\\n       \"\"\"",
                 "{\"s\":\"The quick brown fox.\"}");
        check_ok("s = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"",
                 "{\"s\":\"Here are two quotation marks: \\\"\\\". Simple enough.\"}");
        check_ok("s = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"",
                 "{\"s\":\"Here are three quotation marks: \\\"\\\"\\\".\"}");
        check_ok("s = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
                 "{\"s\":\"\\\"This,\\\" she said, \\\"is just a pointless statement.\\\"\"}");
        check_ok("s = \"\"\"a\"\"\"\"\"", "{\"s\":\"a\\\"\\\"\"}");
        check_ok("s = \"\"\"\"\"\"", "{\"s\":\"\"}");
        check_ok("s = \"\"\"tab\there \\u00e9\"\"\"", "{\"s\":\"tab\\there \xc3\xa9\"}");

        /* multi-line literal */
        check_ok("s = '''\nThe first newline is\ntrimmed in raw strings.\n   All other "
                 "whitespace\n   is preserved.\n'''",
                 "{\"s\":\"The first newline is\\ntrimmed in raw strings.\\n   All other "
                 "whitespace\\n   is preserved.\\n\"}");
        check_ok("s = '''I [dw]on't need \\d{2} apples'''",
                 "{\"s\":\"I [dw]on't need \\\\d{2} apples\"}");
        check_ok("s = '''Here are fifteen quotation marks: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''",
                 "{\"s\":\"Here are fifteen quotation marks: "
                 "\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\\\"\"}");
        check_ok("s = ''''That,' she said, 'is still pointless.''''",
                 "{\"s\":\"'That,' she said, 'is still pointless.'\"}");
        check_ok("s = '''a'''''", "{\"s\":\"a''\"}");
        check_ok("s = '''one '' two ' three'''", "{\"s\":\"one '' two ' three\"}");
        check_ok("s = '''\\n is not an escape # nor a comment'''",
                 "{\"s\":\"\\\\n is not an escape # nor a comment\"}");
}

static void test_toml_numbers(void **state)
{
        check_ok("a = 99\nb = +42\nc = 0\nd = -17\ne = +0\nf = -0",
                 "{\"a\":99,\"b\":42,\"c\":0,\"d\":-17,\"e\":0,\"f\":0}");
        check_ok("a = 1_000\nb = 5_349_221\nc = 1_2_3_4_5",
                 "{\"a\":1000,\"b\":5349221,\"c\":12345}");
        check_ok("a = 0xDEADBEEF\nb = 0xdead_beef\nc = 0o01234567\nd = 0o755\ne = 0b11010110\n"
                 "f = 0x0\ng = 0x7fffffffffffffff",
                 "{\"a\":3735928559,\"b\":3735928559,\"c\":342391,\"d\":493,\"e\":214,\"f\":0,"
                 "\"g\":9223372036854775807}");
        check_ok("a = 9223372036854775807\nb = -9223372036854775808",
                 "{\"a\":9223372036854775807,\"b\":-9223372036854775808}");
        check_ok("a = 1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\n"
                 "g = 6.626e-34\nh = 224_617.445_991\ni = 0.5\nj = -0.0\nk = 1e-400",
                 "{\"a\":1.0,\"b\":3.1415,\"c\":-0.01,\"d\":5e+22,\"e\":1e6,\"f\":-0.02,"
                 "\"g\":6.626e-34,\"h\":224617.445991,\"i\":0.5,\"j\":-0.0,\"k\":0.0}");
        check_ok("t = true\nf = false", "{\"t\":true,\"f\":false}");

        /* integers and floats stay distinct */
        _cleanup_json_ json_t *v = NULL;
        assert_int_equal(vt_toml_parse("i = 1\nf = 1.0", 13, &v, NULL), 0);
        assert_true(json_is_integer(json_object_get(v, "i")));
        assert_true(json_is_real(json_object_get(v, "f")));
}

static void test_toml_arrays(void **state)
{
        check_ok("a = []\nb = [ ]\nc = [1, 2, 3]\nd = [\"x\", 'y', \"\"\"z\"\"\"]",
                 "{\"a\":[],\"b\":[],\"c\":[1,2,3],\"d\":[\"x\",\"y\",\"z\"]}");
        check_ok("a = [ [ 1, 2 ], [\"a\", \"b\", \"c\"], [] ]",
                 "{\"a\":[[1,2],[\"a\",\"b\",\"c\"],[]]}");
        check_ok("mixed = [ 0.1, 0.2, 0.5, 1, 2, 5, \"s\", true, {a = 1} ]",
                 "{\"mixed\":[0.1,0.2,0.5,1,2,5,\"s\",true,{\"a\":1}]}");
        check_ok("a = [\n  1,\n  2, # two\n  # a comment line\n\n  3,\n]\nb = 4",
                 "{\"a\":[1,2,3],\"b\":4}");
        check_ok("a = [\r\n 1 ,\r\n 2 ]", "{\"a\":[1,2]}");
        check_ok("a = [1,]", "{\"a\":[1]}");
        check_ok("a = [ \"]\", ',', \"#\" ] # ]", "{\"a\":[\"]\",\",\",\"#\"]}");
}

static void test_toml_inline_tables(void **state)
{
        check_ok("name = { first = \"Tom\", last = \"Preston-Werner\" }",
                 "{\"name\":{\"first\":\"Tom\",\"last\":\"Preston-Werner\"}}");
        check_ok("point = {x=1,y=2}\nanimal = { type.name = \"pug\", type.size = 1 }",
                 "{\"point\":{\"x\":1,\"y\":2},\"animal\":{\"type\":{\"name\":\"pug\","
                 "\"size\":1}}}");
        check_ok("e = {}\nn = { a = { b = [ { c = 1 } ] } }",
                 "{\"e\":{},\"n\":{\"a\":{\"b\":[{\"c\":1}]}}}");
        check_ok("[t]\ni = { \"k.x\" = 'v', 'q' = [1, 2] }",
                 "{\"t\":{\"i\":{\"k.x\":\"v\",\"q\":[1,2]}}}");
}

static void test_toml_refuse_unsupported(void **state)
{
        check_err("a = 1979-05-27", VT_E_UNSUPPORTED, 1, "unsupported: dates");
        check_err("x = 1\na = 1979-05-27T07:32:00Z", VT_E_UNSUPPORTED, 2, "unsupported: dates");
        check_err("a = 1979-05-27 07:32:00", VT_E_UNSUPPORTED, 1, "unsupported: dates");
        check_err("a = 07:32:00", VT_E_UNSUPPORTED, 1, "unsupported: dates");
        check_err("a = [1, 2000-01-01]", VT_E_UNSUPPORTED, 1, "unsupported: dates");
        check_err("[[products]]\nname = \"x\"", VT_E_UNSUPPORTED, 1,
                  "unsupported: arrays of tables");
        check_err("a = 1\n\n  [[b]]", VT_E_UNSUPPORTED, 3, "unsupported: arrays of tables");
        check_err("a = inf", VT_E_UNSUPPORTED, 1, "inf and nan");
        check_err("a = +inf", VT_E_UNSUPPORTED, 1, "inf and nan");
        check_err("a = -inf", VT_E_UNSUPPORTED, 1, "inf and nan");
        check_err("a = nan", VT_E_UNSUPPORTED, 1, "inf and nan");
        check_err("a = -nan", VT_E_UNSUPPORTED, 1, "inf and nan");
}

static void test_toml_refuse_duplicates(void **state)
{
        check_err("a = 1\na = 2", VT_E_FORMAT, 2, "duplicate key 'a'");
        check_err("a = 1\n\"a\" = 2", VT_E_FORMAT, 2, "duplicate key 'a'");
        check_err("a = 1\n'a' = 2", VT_E_FORMAT, 2, "duplicate key 'a'");
        check_err("[t]\nx = 1\n\n\nx = 2", VT_E_FORMAT, 5, "duplicate key 'x'");
        check_err("a.b = 1\na.b = 2", VT_E_FORMAT, 2, "duplicate key 'b'");
        check_err("a.b = 1\na = 2", VT_E_FORMAT, 2, "duplicate key 'a'");
        check_err("a = 1\na.b = 2", VT_E_FORMAT, 2, "already holds a value");
        check_err("a = { x = 1, x = 2 }", VT_E_FORMAT, 1, "duplicate key 'x'");
        check_err("[a]\n[a]", VT_E_FORMAT, 2, "table 'a' is defined twice");
        check_err("[a.b]\n[a.b]", VT_E_FORMAT, 2, "defined twice");
        check_err("[a]\nb = 1\n[a.b]", VT_E_FORMAT, 3, "already holds a value");
        check_err("[a.b]\nc = 1\n[a]\nb = 2", VT_E_FORMAT, 4, "duplicate key 'b'");
        check_err("[fruit]\napple.color = 1\n[fruit.apple]", VT_E_FORMAT, 3,
                  "already defined by dotted keys");
        check_err("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", VT_E_FORMAT, 4, "defined elsewhere");
        check_err("a = { b = 1 }\na.c = 2", VT_E_FORMAT, 2, "inline table 'a'");
        check_err("a = { b = 1 }\n[a]", VT_E_FORMAT, 2, "inline table 'a'");
        check_err("a = { b = 1 }\n[a.c]", VT_E_FORMAT, 2, "inline table 'a'");
        check_err("a = { b = {c = 1}, b.d = 2 }", VT_E_FORMAT, 1, "inline table 'b'");
        check_err("a = [1]\n[a]", VT_E_FORMAT, 2, "already holds a value");
        check_err("a = [1]\n[a.b]", VT_E_FORMAT, 2, "already holds a value");
}

static void test_toml_refuse_strings(void **state)
{
        check_err("a = \"x\x01y\"", VT_E_FORMAT, 1, "control character 0x01 in string");
        check_err("a = 'x\x1fy'", VT_E_FORMAT, 1, "control character 0x1f");
        check_err("a = \"x\x7fy\"", VT_E_FORMAT, 1, "control character 0x7f");
        check_err("a = \"\"\"\nx\x08y\"\"\"", VT_E_FORMAT, 2, "control character 0x08");
        check_err("a = '''\n\nx\x0cy'''", VT_E_FORMAT, 3, "control character 0x0c");
        check_err("a = \"x\ry\"", VT_E_FORMAT, 1, "control character 0x0d");
        check_err("a = '''x\ry'''", VT_E_FORMAT, 1, "control character 0x0d");
        check_err_n("a = \"x\0y\"", 9, VT_E_FORMAT, 1, "NUL character in string");
        check_err("a = \"x\\u0000y\"", VT_E_FORMAT, 1, "NUL character in string");
        check_err("\"\\u0000\" = 1", VT_E_FORMAT, 1, "NUL character");
        check_err("a = \"abc", VT_E_FORMAT, 1, "unterminated string");
        check_err("a = \"abc\nb = 1", VT_E_FORMAT, 1, "unterminated string");
        check_err("a = 'abc\n'", VT_E_FORMAT, 1, "unterminated string");
        check_err("a = \"\"\"abc\n\ndef\"\"", VT_E_FORMAT, 1, "unterminated string");
        check_err("a = '''abc''", VT_E_FORMAT, 1, "unterminated string");
        check_err("a = \"\\x41\"", VT_E_FORMAT, 1, "invalid escape: backslash followed by 'x'");
        check_err("a = \"\\e\"", VT_E_FORMAT, 1, "invalid escape");
        check_err("a = \"\\ \"", VT_E_FORMAT, 1, "invalid escape");
        check_err("a = \"\\u12\"", VT_E_FORMAT, 1, "\\u escape needs 4 hex digits");
        check_err("a = \"\\U0001F60\"", VT_E_FORMAT, 1, "\\U escape needs 8 hex digits");
        check_err("a = \"\\uD800\"", VT_E_FORMAT, 1, "not a Unicode scalar value");
        check_err("a = \"\\U00110000\"", VT_E_FORMAT, 1, "not a Unicode scalar value");
        check_err("a = \"x\\\ny\"", VT_E_FORMAT, 1, "invalid escape");
        check_err("a = \"\"\"x\"\"\"\"\"\"", VT_E_FORMAT, 1, "too many quotes");
        check_err("a = '''x''''''", VT_E_FORMAT, 1, "too many quotes");
        check_err("\"\"\"k\"\"\" = 1", VT_E_FORMAT, 1, "multi-line string cannot be a key");
}

static void test_toml_refuse_syntax(void **state)
{
        check_err("a", VT_E_FORMAT, 1, "expected '=' after key, found end of input");
        check_err("a\n= 1", VT_E_FORMAT, 1, "expected '=' after key, found end of line");
        check_err("a = ", VT_E_FORMAT, 1, "expected a value, found end of input");
        check_err("a =\n1", VT_E_FORMAT, 1, "expected a value, found end of line");
        check_err("= 1", VT_E_FORMAT, 1, "expected a key, found '='");
        check_err("a = 1 2", VT_E_FORMAT, 1, "expected end of line, found '2'");
        check_err("a = 1\nb = \"x\" y", VT_E_FORMAT, 2, "expected end of line");
        check_err("a = truex", VT_E_FORMAT, 1, "expected a value");
        check_err("a = True", VT_E_FORMAT, 1, "expected a value");
        check_err("a = b", VT_E_FORMAT, 1, "expected a value");
        check_err("a.b. = 1", VT_E_FORMAT, 1, "expected a key");
        check_err("a..b = 1", VT_E_FORMAT, 1, "expected a key");
        check_err("a b = 1", VT_E_FORMAT, 1, "expected '='");
        check_err("[]", VT_E_FORMAT, 1, "expected a key, found ']'");
        check_err("[a", VT_E_FORMAT, 1, "expected ']' after table name");
        check_err("[a]]", VT_E_FORMAT, 1, "expected end of line");
        check_err("[a] x = 1", VT_E_FORMAT, 1, "expected end of line");
        check_err("a = [1 2]", VT_E_FORMAT, 1, "expected ',' or ']' in array");
        check_err("a = [1,,2]", VT_E_FORMAT, 1, "expected a value, found ','");
        check_err("a = [,]", VT_E_FORMAT, 1, "expected a value");
        check_err("a = [1,\n2", VT_E_FORMAT, 1, "unterminated array");
        check_err("a = [1,\n2,\n", VT_E_FORMAT, 3, "expected a value, found end of input");
        check_err("a = {x = 1", VT_E_FORMAT, 1, "expected ',' or '}' in inline table");
        check_err("a = {x = 1,\ny = 2}", VT_E_FORMAT, 1, "expected a key, found end of line");
        check_err("a = {\nx = 1}", VT_E_FORMAT, 1, "expected a key, found end of line");
        check_err("a = {x = 1,}", VT_E_FORMAT, 1, "trailing comma in inline table");
        check_err("a = {x}", VT_E_FORMAT, 1, "expected '=' after key");
        check_err("a = 1\rb = 2", VT_E_FORMAT, 1, "expected end of line");
        check_err("\x01 = 1", VT_E_FORMAT, 1, "expected a key, found byte 0x01");
        check_err("# comment \x01", VT_E_FORMAT, 1, "control character 0x01 in comment");
        check_err("a = 1 # x\x7f", VT_E_FORMAT, 1, "control character 0x7f in comment");
        check_err("a = 1\n# x\ry", VT_E_FORMAT, 2, "control character 0x0d in comment");
        check_err_n("a = 1\n\0", 7, VT_E_FORMAT, 2, "expected a key, found byte 0x00");
}

static void test_toml_refuse_numbers(void **state)
{
        static const char *const bad[] = {
                "01",   "-01",  "00",  "0_1",  "1__0",  "_1",   "1_",     "1._5", "1.", ".5",
                "1.e5", "1e",   "1e+", "1e_5", "1.5.3", "1-2",  "+",      "-",    "0x", "0xg",
                "0X10", "0x_1", "0b2", "0o8",  "1e5e",  "0.1_", "1E5_",   "+-1",  "1+", "0b",
                "0o",   "--1",  "12a", "1__",  "0xx1",  "1_e5", "3.e+20",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char text[64];
                snprintf(text, sizeof(text), "x = 1\nv = %s", bad[i]);
                check_err(text, VT_E_FORMAT, 2,
                          strchr("._", bad[i][0]) ? "expected a value" : "number");
        }
        check_err("a = -0x10", VT_E_FORMAT, 1, "sign is not allowed");
        check_err("a = +0b1", VT_E_FORMAT, 1, "sign is not allowed");
        check_err("a = 9223372036854775808", VT_E_FORMAT, 1, "out of range");
        check_err("a = -9223372036854775809", VT_E_FORMAT, 1, "out of range");
        check_err("a = 0x8000000000000000", VT_E_FORMAT, 1, "out of range");
        check_err("a = 99999999999999999999999", VT_E_FORMAT, 1, "out of range");
        check_err("a = 1e400", VT_E_FORMAT, 1, "out of range");
        check_err("a = -1.8e308", VT_E_FORMAT, 1, "out of range");
        check_err("a = 01", VT_E_FORMAT, 1, "leading zero");

        char longnum[200];
        memset(longnum, '1', sizeof(longnum));
        memcpy(longnum, "a = ", 4);
        longnum[sizeof(longnum) - 1] = 0;
        check_err(longnum, VT_E_FORMAT, 1, "number longer than 128 characters");
}

static void test_toml_refuse_utf8(void **state)
{
        check_err("a = \"\xff\"", VT_E_FORMAT, 1, "invalid UTF-8 (byte 0xff)");
        check_err("a = 1\nb = 2\n# \xc0\x80 overlong", VT_E_FORMAT, 3, "invalid UTF-8");
        check_err("a = '\xed\xa0\x80'", VT_E_FORMAT, 1, "invalid UTF-8"); /* surrogate */
        check_err("a = '\xf4\x90\x80\x80'", VT_E_FORMAT, 1, "invalid UTF-8");
        check_err("a = '\xe2\x82'", VT_E_FORMAT, 1, "invalid UTF-8");
        check_err("\n\na = '\xe2\x82", VT_E_FORMAT, 3, "invalid UTF-8");
        check_err("a = 1 \x80", VT_E_FORMAT, 1, "invalid UTF-8 (byte 0x80)");
        check_err("\xc3\xa9 = 1", VT_E_FORMAT, 1, "expected a key, found byte 0xc3");
}

static void test_toml_limits(void **state)
{
        /* size: 256 KiB is accepted, one byte more is not */
        size_t n = 256u * 1024u;
        _cleanup_free_ char *big = malloc(n + 1);
        assert_non_null(big);
        memset(big, '#', n + 1);
        memcpy(big, "a=1\n", 4);
        {
                _cleanup_json_ json_t *v = NULL;
                assert_int_equal(vt_toml_parse(big, n, &v, NULL), 0);
                assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
        }
        {
                json_t *v = NULL;
                struct vt_diag d = {0};
                assert_int_equal(vt_toml_parse(big, n + 1, &v, &d), VT_E_LIMIT);
                assert_string_equal(d.msg, "toml: input is 262145 bytes, more than 262144");
                assert_null(v);
        }

        /* nesting: 16 levels below the root, in every way of nesting */
        char text[512];
        int k;
        k = snprintf(text, sizeof(text), "a = ");
        for (int i = 0; i < 16; i++)
                k += snprintf(text + k, sizeof(text) - (size_t)k, "[");
        for (int i = 0; i < 16; i++)
                k += snprintf(text + k, sizeof(text) - (size_t)k, "]");
        {
                _cleanup_json_ json_t *v = NULL;
                assert_int_equal(vt_toml_parse(text, strlen(text), &v, NULL), 0);
        }
        check_err("a = [[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]", VT_E_LIMIT, 1,
                  "nesting deeper than 16");
        check_err("a = {b={c={d={e={f={g={h={i={j={k={l={m={n={o={p={q={}}}}}}}}}}}}}}}}}",
                  VT_E_LIMIT, 1, "nesting deeper than 16");
        check_ok("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p = 1",
                 "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{"
                 "\"l\":{\"m\":{\"n\":{\"o\":{\"p\":1}}}}}}}}}}}}}}}}");
        check_err("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = 1", VT_E_LIMIT, 1,
                  "key has more than 16 parts");
        check_err("[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q]", VT_E_LIMIT, 1,
                  "key has more than 16 parts");
        check_ok("[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p]\nx = 1",
                 "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{"
                 "\"l\":{\"m\":{\"n\":{\"o\":{\"p\":{\"x\":1}}}}}}}}}}}}}}}}}");
        check_err("[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p]\nx = []", VT_E_LIMIT, 2,
                  "nesting deeper than 16");
        check_err("[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o]\nx.y = []", VT_E_LIMIT, 2,
                  "nesting deeper than 16");
        check_err("[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o]\nx.y.z = 1", VT_E_LIMIT, 2,
                  "nesting deeper than 16");
        check_err("a = [[[[[[[[[[[[[[[{b.c = 1}]]]]]]]]]]]]]]]", VT_E_LIMIT, 1,
                  "nesting deeper than 16");
}

static void test_toml_args(void **state)
{
        json_t *v = NULL;
        assert_int_equal(vt_toml_parse(NULL, 0, &v, NULL), 0);
        assert_true(json_is_object(v));
        assert_int_equal(json_object_size(v), 0);
        json_decref(v);
        v = NULL;
        assert_int_equal(vt_toml_parse(NULL, 1, &v, NULL), VT_E_INVAL);
        assert_int_equal(vt_toml_parse("a = 1", 5, NULL, NULL), VT_E_INVAL);
        /* len, not a NUL, ends the text */
        assert_int_equal(vt_toml_parse("a = 1\nb = oops", 5, &v, NULL), 0);
        assert_int_equal(json_object_size(v), 1);
        json_decref(v);
        /* the first reason wins */
        struct vt_diag d = {0};
        vt_diag_set(&d, VT_E_IO, "earlier");
        assert_int_equal(vt_toml_parse("a = ", 4, &v, &d), VT_E_FORMAT);
        assert_string_equal(d.msg, "earlier");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_toml_initdata),
                cmocka_unit_test(test_toml_truncations),
                cmocka_unit_test(test_toml_comments_and_layout),
                cmocka_unit_test(test_toml_keys),
                cmocka_unit_test(test_toml_tables),
                cmocka_unit_test(test_toml_strings),
                cmocka_unit_test(test_toml_numbers),
                cmocka_unit_test(test_toml_arrays),
                cmocka_unit_test(test_toml_inline_tables),
                cmocka_unit_test(test_toml_refuse_unsupported),
                cmocka_unit_test(test_toml_refuse_duplicates),
                cmocka_unit_test(test_toml_refuse_strings),
                cmocka_unit_test(test_toml_refuse_syntax),
                cmocka_unit_test(test_toml_refuse_numbers),
                cmocka_unit_test(test_toml_refuse_utf8),
                cmocka_unit_test(test_toml_limits),
                cmocka_unit_test(test_toml_args),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
