/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"
#include "policy/release.h"
#include "token/ear.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_release_policy *, vt_release_policy_free)

#define EAR_CLAIMS "kbs/trustee/ear/example.token.claims.json"
#define CPU0       "/submods/cpu0"
#define EVIDENCE   CPU0 "/ear.veraison.annotated-evidence"

/* parse_n parses exactly n bytes from a heap copy, so that AddressSanitizer sees any read
 * past the end. */
static int parse_n(const char *text, size_t n, struct vt_release_policy **ret, struct vt_diag *d)
{
        _cleanup_free_ char *copy = malloc(n > 0 ? n : 1);
        assert_non_null(copy);
        if (n > 0)
                memcpy(copy, text, n);
        return vt_release_policy_parse(copy, n, ret, d);
}

static struct vt_release_policy *parse_ok(const char *text)
{
        struct vt_release_policy *p = NULL;
        struct vt_diag d = {0};
        int e = parse_n(text, strlen(text), &p, &d);

        if (e < 0)
                fail_msg("parsing %s failed: %d %s", text, e, d.msg);
        assert_non_null(p);
        return p;
}

/* check_parse_err expects err and a message holding part; *ret stays untouched. */
static void check_parse_err(const char *text, int err, const char *part)
{
        struct vt_release_policy *p = (struct vt_release_policy *)0x1;
        struct vt_diag d = {0};
        int e = parse_n(text, strlen(text), &p, &d);

        if (e != err)
                fail_msg("parsing %s returned %d (%s), expected %d", text, e, d.msg, err);
        assert_int_equal(d.err, err);
        assert_ptr_equal(p, (struct vt_release_policy *)0x1);
        if (!strstr(d.msg, part))
                fail_msg("parsing %s gave \"%s\", expected \"...%s...\"", text, d.msg, part);
}

static json_t *claims_of(const char *text)
{
        json_error_t je;
        json_t *c = json_loads(text, 0, &je);
        if (!c)
                fail_msg("bad claims in test: %s: %s", text, je.text);
        return c;
}

/* check_eval evaluates policy text against claims; want_msg NULL: must pass, else it must
 * fail with exactly this message. */
static void check_eval(const char *policy, const json_t *claims, const char *want_msg)
{
        _cleanup_(vt_release_policy_freep) struct vt_release_policy *p = parse_ok(policy);
        struct vt_diag d = {0};
        int e = vt_release_policy_eval(p, claims, &d);

        if (!want_msg) {
                if (e != 0)
                        fail_msg("policy %s denied: %d %s", policy, e, d.msg);
                assert_int_equal(d.err, 0);
                assert_string_equal(d.msg, "");
                return;
        }
        if (e != VT_E_POLICY)
                fail_msg("policy %s returned %d, expected a denial \"%s\"", policy, e, want_msg);
        assert_int_equal(d.err, VT_E_POLICY);
        if (strcmp(d.msg, want_msg) != 0)
                fail_msg("policy %s\n  said \"%s\"\nwanted \"%s\"", policy, d.msg, want_msg);
        /* without a diag it denies just the same */
        assert_int_equal(vt_release_policy_eval(p, claims, NULL), VT_E_POLICY);
}

/* one condition as a whole policy */
static void check_cond(const char *cond, const json_t *claims, const char *want_msg)
{
        char policy[1024];
        snprintf(policy, sizeof(policy), "{\"allOf\":[%s]}", cond);
        check_eval(policy, claims, want_msg);
}

/* ---- JSON pointers ---- */

static void test_pointer_rfc6901(void **state)
{
        /* the example of RFC 6901 section 5, plus a few */
        _cleanup_json_ json_t *doc = claims_of(
                "{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"e^f\":3,\"g|h\":4,"
                "\"i\\\\j\":5,\"k\\\"l\":6,\" \":7,\"m~n\":8,\"~1\":9,\"01\":10,"
                "\"o\":{\"\":{\"p\":11}}}");
        static const struct {
                const char *ptr;
                json_int_t want;
        } ints[] = {
                {"/", 0},     {"/a~1b", 1}, {"/c%d", 2},  {"/e^f", 3}, {"/g|h", 4}, {"/i\\j", 5},
                {"/k\"l", 6}, {"/ ", 7},    {"/m~0n", 8}, {"/~01", 9}, {"/01", 10}, {"/o//p", 11},
        };

        assert_ptr_equal(vt_json_pointer(doc, ""), doc);
        assert_ptr_equal(vt_json_pointer(doc, "/foo"), json_object_get(doc, "foo"));
        assert_string_equal(json_string_value(vt_json_pointer(doc, "/foo/0")), "bar");
        assert_string_equal(json_string_value(vt_json_pointer(doc, "/foo/1")), "baz");
        /* "/01" names an object member: the index rules are for arrays only */
        for (size_t i = 0; i < ELEMENTSOF(ints); i++) {
                const json_t *v = vt_json_pointer(doc, ints[i].ptr);
                if (!json_is_integer(v) || json_integer_value(v) != ints[i].want)
                        fail_msg("pointer %s: expected %lld", ints[i].ptr, (long long)ints[i].want);
        }
}

static void test_pointer_refused(void **state)
{
        _cleanup_json_ json_t *doc =
                claims_of("{\"foo\":[\"bar\",\"baz\"],\"m~n\":8,\"a/b\":1,\"n\":5,\"s\":\"str\"}");
        static const char *const none[] = {
                "foo",                       /* no leading "/" */
                "#/foo",                     /* URI fragments are not pointers here */
                "/foo/-",                    /* the element after the last: never present */
                "/foo/01",                   /* leading zero */
                "/foo/00",                   /* leading zero */
                "/foo/2",                    /* out of range */
                "/foo/+1",                   /* sign */
                "/foo/-1",                   /* sign */
                "/foo/ 1",                   /* space */
                "/foo/1 ",                   /* space */
                "/foo/1a",                   /* not a number */
                "/foo/0x1",                  /* not decimal */
                "/foo/",                     /* empty token on an array */
                "/foo/18446744073709551616", /* overflows size_t */
                "/foo/99999999999999999999999999",
                "/m~2n",    /* bad escape */
                "/m~",      /* "~" at the end */
                "/m~n",     /* unescaped "~" */
                "/a/b",     /* "/" must be written ~1 */
                "/n/0",     /* into a number */
                "/s/0",     /* into a string */
                "/missing", /* no such member */
                "/foo/0/x", /* into a string */
        };

        for (size_t i = 0; i < ELEMENTSOF(none); i++)
                if (vt_json_pointer(doc, none[i]))
                        fail_msg("pointer %s found something", none[i]);
        assert_null(vt_json_pointer(NULL, "/foo"));
        assert_null(vt_json_pointer(doc, NULL));
}

static void test_pointer_long_escaped(void **state)
{
        /* a token with escapes longer than the stack buffer is unescaped on the heap */
        char key[301], ptr[1024];
        size_t n = 0;

        memset(key, 'k', 300);
        key[300] = 0;
        key[150] = '~';
        key[299] = '/';
        n = (size_t)snprintf(ptr, sizeof(ptr), "/%.150s~0%.148s~1", key, key + 151);
        assert_true(n < sizeof(ptr));
        _cleanup_json_ json_t *doc = json_pack("{s:i}", key, 42);
        assert_non_null(doc);
        assert_int_equal(json_integer_value(vt_json_pointer(doc, ptr)), 42);
        ptr[n - 1] = '2';
        assert_null(vt_json_pointer(doc, ptr));
}

/* ---- operators ---- */

static const char op_claims[] =
        "{\"s\":\"affirming\",\"n\":219,\"r\":1.5,\"b\":true,\"f\":false,\"nul\":null,"
        "\"o\":{\"x\":[1,2]},\"big\":9007199254740993,\"neg\":-3,\"fr\":219.0,"
        "\"a\":[\"x\",{\"y\":\"z\"}]}";

static void test_op_equals(void **state)
{
        _cleanup_json_ json_t *c = claims_of(op_claims);

        check_cond("{\"claim\":\"/s\",\"equals\":\"affirming\"}", c, NULL);
        check_cond("{\"claim\":\"/s\",\"equals\":\"warning\"}", c,
                   "claim /s is \"affirming\", expected equals \"warning\"");
        check_cond("{\"claim\":\"/zz\",\"equals\":\"affirming\"}", c, "claim /zz is missing");
        check_cond("{\"claim\":\"/n\",\"equals\":219}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"equals\":220}", c, "claim /n is 219, expected equals 220");
        /* a number is not its string, and an integer is not a real */
        check_cond("{\"claim\":\"/n\",\"equals\":\"219\"}", c,
                   "claim /n is 219, expected equals \"219\"");
        check_cond("{\"claim\":\"/fr\",\"equals\":219}", c,
                   "claim /fr is 219.0, expected equals 219");
        check_cond("{\"claim\":\"/b\",\"equals\":true}", c, NULL);
        check_cond("{\"claim\":\"/b\",\"equals\":1}", c, "claim /b is true, expected equals 1");
        check_cond("{\"claim\":\"/nul\",\"equals\":null}", c, NULL);
        check_cond("{\"claim\":\"/o\",\"equals\":{\"x\":[1,2]}}", c, NULL);
        check_cond("{\"claim\":\"/o\",\"equals\":{\"x\":[2,1]}}", c,
                   "claim /o is {\"x\":[1,2]}, expected equals {\"x\":[2,1]}");
        check_cond("{\"claim\":\"/a/1/y\",\"equals\":\"z\"}", c, NULL);
        check_cond("{\"claim\":\"/a/2/y\",\"equals\":\"z\"}", c, "claim /a/2/y is missing");
}

static void test_op_not_equals(void **state)
{
        _cleanup_json_ json_t *c = claims_of(op_claims);

        check_cond("{\"claim\":\"/s\",\"notEquals\":\"warning\"}", c, NULL);
        check_cond("{\"claim\":\"/s\",\"notEquals\":\"affirming\"}", c,
                   "claim /s is \"affirming\", expected notEquals \"affirming\"");
        /* a missing claim never satisfies a negative test */
        check_cond("{\"claim\":\"/zz\",\"notEquals\":\"affirming\"}", c, "claim /zz is missing");
        check_cond("{\"claim\":\"/f\",\"notEquals\":true}", c, NULL);
        check_cond("{\"claim\":\"/nul\",\"notEquals\":null}", c,
                   "claim /nul is null, expected notEquals null");
        check_cond("{\"claim\":\"/n\",\"notEquals\":\"219\"}", c, NULL);
}

static void test_op_in(void **state)
{
        _cleanup_json_ json_t *c = claims_of(op_claims);

        check_cond("{\"claim\":\"/s\",\"in\":[\"warning\",\"affirming\"]}", c, NULL);
        check_cond("{\"claim\":\"/s\",\"in\":[\"warning\",\"none\"]}", c,
                   "claim /s is \"affirming\", expected in [\"warning\",\"none\"]");
        check_cond("{\"claim\":\"/zz\",\"in\":[\"warning\",\"affirming\"]}", c,
                   "claim /zz is missing");
        check_cond("{\"claim\":\"/n\",\"in\":[1,219,3]}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"in\":[\"219\"]}", c,
                   "claim /n is 219, expected in [\"219\"]");
        check_cond("{\"claim\":\"/o/x\",\"in\":[[1],[1,2]]}", c, NULL);
        check_cond("{\"claim\":\"/nul\",\"in\":[null]}", c, NULL);
}

static void test_op_exists(void **state)
{
        _cleanup_json_ json_t *c = claims_of(op_claims);

        check_cond("{\"claim\":\"/s\",\"exists\":true}", c, NULL);
        check_cond("{\"claim\":\"/zz\",\"exists\":true}", c, "claim /zz is missing");
        check_cond("{\"claim\":\"/zz\",\"exists\":false}", c, NULL);
        check_cond("{\"claim\":\"/s\",\"exists\":false}", c,
                   "claim /s is \"affirming\", expected exists false");
        /* null is a value: the claim is there */
        check_cond("{\"claim\":\"/nul\",\"exists\":true}", c, NULL);
        check_cond("{\"claim\":\"/nul/x\",\"exists\":false}", c, NULL);
        check_cond("{\"claim\":\"/a/-\",\"exists\":false}", c, NULL);
        check_cond("{\"claim\":\"/a/01\",\"exists\":false}", c, NULL);
        check_cond("{\"claim\":\"/a/1\",\"exists\":true}", c, NULL);
}

static void test_op_gte_lte(void **state)
{
        _cleanup_json_ json_t *c = claims_of(op_claims);

        check_cond("{\"claim\":\"/n\",\"gte\":219}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"gte\":218}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"gte\":220}", c, "claim /n is 219, expected gte 220");
        check_cond("{\"claim\":\"/n\",\"lte\":219}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"lte\":218}", c, "claim /n is 219, expected lte 218");
        check_cond("{\"claim\":\"/neg\",\"lte\":-3}", c, NULL);
        check_cond("{\"claim\":\"/neg\",\"gte\":0}", c, "claim /neg is -3, expected gte 0");
        /* reals on either side */
        check_cond("{\"claim\":\"/n\",\"gte\":218.5}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"gte\":219.5}", c, "claim /n is 219, expected gte 219.5");
        check_cond("{\"claim\":\"/n\",\"lte\":219.0}", c, NULL);
        check_cond("{\"claim\":\"/r\",\"gte\":1}", c, NULL);
        check_cond("{\"claim\":\"/r\",\"lte\":1}", c, "claim /r is 1.5, expected lte 1");
        check_cond("{\"claim\":\"/r\",\"lte\":1.5}", c, NULL);
        check_cond("{\"claim\":\"/fr\",\"gte\":219}", c, NULL);
        check_cond("{\"claim\":\"/fr\",\"lte\":219}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"gte\":-1e300}", c, NULL);
        check_cond("{\"claim\":\"/n\",\"lte\":1e300}", c, NULL);
        /* 2^53 + 1 compared exactly, not through a double */
        check_cond("{\"claim\":\"/big\",\"gte\":9007199254740992.0}", c, NULL);
        check_cond("{\"claim\":\"/big\",\"lte\":9007199254740992.0}", c,
                   "claim /big is 9007199254740993, expected lte 9007199254740992.0");
        check_cond("{\"claim\":\"/big\",\"gte\":9007199254740994}", c,
                   "claim /big is 9007199254740993, expected gte 9007199254740994");
        /* not a number: false, never an error */
        check_cond("{\"claim\":\"/s\",\"gte\":1}", c, "claim /s is \"affirming\", expected gte 1");
        check_cond("{\"claim\":\"/b\",\"lte\":1}", c, "claim /b is true, expected lte 1");
        check_cond("{\"claim\":\"/nul\",\"gte\":0}", c, "claim /nul is null, expected gte 0");
        check_cond("{\"claim\":\"/o\",\"gte\":0}", c, "claim /o is {\"x\":[1,2]}, expected gte 0");
        check_cond("{\"claim\":\"/zz\",\"gte\":0}", c, "claim /zz is missing");
        check_cond("{\"claim\":\"/zz\",\"lte\":0}", c, "claim /zz is missing");
}

/* ---- groups ---- */

static void test_groups(void **state)
{
        _cleanup_json_ json_t *c = claims_of("{\"a\":1,\"b\":2,\"c\":3}");
#define A_OK  "{\"claim\":\"/a\",\"equals\":1}"
#define A_BAD "{\"claim\":\"/a\",\"equals\":0}"
#define B_OK  "{\"claim\":\"/b\",\"equals\":2}"
#define B_BAD "{\"claim\":\"/b\",\"equals\":0}"
#define C_OK  "{\"claim\":\"/c\",\"equals\":3}"
#define C_BAD "{\"claim\":\"/c\",\"equals\":0}"

        check_eval("{\"allOf\":[" A_OK "," B_OK "," C_OK "]}", c, NULL);
        check_eval("{\"allOf\":[" A_OK "," B_BAD "," C_BAD "]}", c,
                   "claim /b is 2, expected equals 0");
        check_eval("{\"anyOf\":[" A_BAD "," B_BAD "," C_OK "]}", c, NULL);
        check_eval("{\"anyOf\":[" A_BAD "," B_BAD "]}", c,
                   "claim /a is 1, expected equals 0 (and 1 other alternative failed)");
        check_eval("{\"anyOf\":[" A_BAD "," B_BAD "," C_BAD "]}", c,
                   "claim /a is 1, expected equals 0 (and 2 other alternatives failed)");
        check_eval("{\"anyOf\":[{\"allOf\":[" A_OK "," B_BAD "]}," C_OK "]}", c, NULL);
        check_eval("{\"anyOf\":[{\"allOf\":[" A_OK "," B_BAD "]}]}", c,
                   "claim /b is 2, expected equals 0");
        /* the reason is the condition that made the whole fail, not an alternative that
         * failed on the way to one that held */
        check_eval("{\"allOf\":[{\"anyOf\":[" A_BAD "," B_OK "]}," C_BAD "]}", c,
                   "claim /c is 3, expected equals 0");
        check_eval("{\"allOf\":[{\"anyOf\":[" A_BAD "," B_OK "]},{\"anyOf\":[" C_OK "]}]}", c,
                   NULL);
        check_eval("{\"version\":\"1.0\",\"allOf\":[{\"anyOf\":[{\"allOf\":[" A_OK "]}," B_BAD
                   "]},{\"anyOf\":[" C_BAD "," B_BAD "]}]}",
                   c, "claim /c is 3, expected equals 0 (and 1 other alternative failed)");
}

/* nest(depth) builds depth nested groups around one condition. */
static char *nest(unsigned depth, const char *cond)
{
        size_t cap = strlen(cond) + 32 * depth + 8, off = 0;
        char *s = malloc(cap);
        assert_non_null(s);
        for (unsigned i = 0; i < depth; i++)
                off += (size_t)snprintf(s + off, cap - off, "{\"%s\":[", i % 2 ? "anyOf" : "allOf");
        off += (size_t)snprintf(s + off, cap - off, "%s", cond);
        for (unsigned i = 0; i < depth; i++)
                off += (size_t)snprintf(s + off, cap - off, "]}");
        return s;
}

static void test_groups_depth(void **state)
{
        _cleanup_json_ json_t *c = claims_of("{\"a\":1}");
        _cleanup_free_ char *eight = nest(8, A_OK), *nine = nest(9, A_OK), *bad = nest(8, A_BAD);

        check_eval(eight, c, NULL);
        check_eval(bad, c, "claim /a is 1, expected equals 0");
        check_parse_err(nine, VT_E_LIMIT,
                        "release policy: $.allOf[0].anyOf[0].allOf[0].anyOf[0].allOf[0].anyOf[0]."
                        "allOf[0].anyOf[0] nests allOf/anyOf deeper than 8");
}

static void test_groups_many_conditions(void **state)
{
        _cleanup_json_ json_t *c = claims_of("{\"a\":1}");
        size_t cap = 300 * sizeof(A_OK) + 64;
        _cleanup_free_ char *s = malloc(cap);
        size_t off = (size_t)snprintf(s, cap, "{\"allOf\":[");

        /* 256 conditions, in groups of 16 */
        for (int g = 0; g < 16; g++) {
                off += (size_t)snprintf(s + off, cap - off, "%s{\"allOf\":[", g ? "," : "");
                for (int i = 0; i < 16; i++)
                        off += (size_t)snprintf(s + off, cap - off, "%s" A_OK, i ? "," : "");
                off += (size_t)snprintf(s + off, cap - off, "]}");
        }
        snprintf(s + off, cap - off, "]}");
        check_eval(s, c, NULL);
        /* one more */
        snprintf(s + off, cap - off, "," A_OK "]}");
        check_parse_err(s, VT_E_LIMIT, "release policy: more than 256 conditions at $.allOf[16]");
}

/* ---- parse errors ---- */

static void test_parse_errors(void **state)
{
        static const struct {
                const char *json;
                int err;
                const char *msg;
        } cases[] = {
                {"{\"allOf\":[{\"claim\":\"/a\",\"equal\":1}]}", VT_E_FORMAT,
                 "release policy: unknown key \"equal\" at $.allOf[0] (a condition has \"claim\" "
                 "and one of equals, notEquals, in, exists, gte, lte)"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"exists\":true}],\"anyof\":[]}", VT_E_FORMAT,
                 "release policy: unknown key \"anyof\" at $ (the top level has allOf or anyOf, "
                 "and version)"},
                {"{\"allOf\":[{\"anyOf\":[{\"claim\":\"/a\",\"exists\":true}],\"version\":\"1.0\"}"
                 "]}",
                 VT_E_FORMAT,
                 "release policy: unknown key \"version\" at $.allOf[0] (a group has allOf or "
                 "anyOf, and authority at the top level's items)"},
                {"{\"allOf\":[{\"anyOf\":[{\"authority\":\"https://a\",\"anyOf\":[{\"claim\":"
                 "\"/a\",\"exists\":true}]}]}]}",
                 VT_E_FORMAT,
                 "release policy: unknown key \"authority\" at $.allOf[0].anyOf[0] (a group has "
                 "allOf or anyOf)"},
                {"{\"anyOf\":[{\"authority\":1,\"allOf\":[{\"claim\":\"a\",\"equals\":1}]}]}",
                 VT_E_FORMAT,
                 "release policy: $.anyOf[0].authority must be a non-empty string (an issuer "
                 "URL)"},
                {"{\"anyOf\":[{\"authority\":\"\",\"allOf\":[{\"claim\":\"a\",\"equals\":1}]}]}",
                 VT_E_FORMAT, "release policy: $.anyOf[0].authority must be a non-empty string"},
                {"{\"anyOf\":[{\"authority\":\"https://a\",\"claim\":\"a\",\"equals\":1}]}",
                 VT_E_FORMAT,
                 "release policy: unknown key \"authority\" at $.anyOf[0] (a "
                 "condition has"},
                {"{\"allOf\":[{\"claim\":\"a\",\"condition\":\"equals\"}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0] has \"condition\" but no \"value\""},
                {"{\"allOf\":[{\"claim\":\"a\",\"value\":1}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].condition must name an operator (equals, "
                 "notEquals, in, exists, gte, lte)"},
                {"{\"allOf\":[{\"claim\":\"a\",\"condition\":\"matches\",\"value\":1}]}",
                 VT_E_FORMAT, "release policy: $.allOf[0].condition must name an operator"},
                {"{\"allOf\":[{\"claim\":\"a\",\"condition\":\"equals\",\"value\":1,"
                 "\"equals\":1}]}",
                 VT_E_FORMAT,
                 "release policy: $.allOf[0] has two operators, \"equals\" and \"condition\""},
                {"{\"allOf\":[{\"claim\":\"a\",\"condition\":\"gte\",\"value\":\"1\"}]}",
                 VT_E_FORMAT, "release policy: $.allOf[0].gte must be a number"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"equals\":1,\"allOf\":[]}]}", VT_E_FORMAT,
                 "release policy: unknown key \"allOf\" at $.allOf[0]"},
                {"{\"anyOf\":[{\"allOf\":[{\"claim\":\"/a\",\"exists\":true}]},{\"claim\":\"/b\","
                 "\"equals\":1,\"in\":[1]}]}",
                 VT_E_FORMAT,
                 "release policy: $.anyOf[1] has two operators, \"equals\" and \"in\" (use allOf "
                 "for both)"},
                {"{\"allOf\":[]}", VT_E_FORMAT,
                 "release policy: $.allOf must be a non-empty array"},
                {"{\"anyOf\":[{\"allOf\":[]}]}", VT_E_FORMAT,
                 "release policy: $.anyOf[0].allOf must be a non-empty array"},
                {"{\"anyOf\":{}}", VT_E_FORMAT,
                 "release policy: $.anyOf must be a non-empty array"},
                {"{\"allOf\":[{\"claim\":\"submods..cpu0\",\"exists\":true}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].claim \"submods..cpu0\" must be a JSON pointer "
                 "starting with \"/\" or a dot path of non-empty names"},
                {"{\"allOf\":[{\"claim\":\".a\",\"exists\":true}]}", VT_E_FORMAT,
                 "or a dot path of non-empty names"},
                {"{\"allOf\":[{\"claim\":\"a.\",\"exists\":true}]}", VT_E_FORMAT,
                 "or a dot path of non-empty names"},
                {"{\"allOf\":[{\"claim\":\"\",\"exists\":true}]}", VT_E_FORMAT,
                 "must be a JSON pointer starting with \"/\" or a dot path"},
                {"{\"allOf\":[{\"claim\":\"/a~2\",\"exists\":true}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].claim \"/a~2\": \"~\" must be followed by 0 or 1 in "
                 "a JSON pointer"},
                {"{\"allOf\":[{\"claim\":\"/a~\",\"exists\":true}]}", VT_E_FORMAT,
                 "must be followed by 0 or 1"},
                {"{\"allOf\":[{\"claim\":5,\"exists\":true}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].claim must be a string (a JSON pointer or a dot "
                 "path)"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"in\":[]}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].in must be a non-empty array"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"in\":\"x\"}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].in must be a non-empty array"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"gte\":\"219\"}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].gte must be a number"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"lte\":true}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].lte must be a number"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"exists\":1}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].exists must be true or false"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"equals\":1.5}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].equals: a real number cannot be compared for "
                 "equality (use an integer, or gte/lte)"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"notEquals\":{\"x\":[1,2.0]}}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].notEquals: a real number cannot be compared"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"in\":[1,2.5]}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0].in[1]: a real number cannot be compared"},
                {"{\"allOf\":[{\"claim\":\"/a\"}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0] has no operator (equals, notEquals, in, exists, gte, "
                 "lte)"},
                {"{\"allOf\":[{\"equals\":1}]}", VT_E_FORMAT,
                 "release policy: $.allOf[0] lacks \"claim\" (or \"allOf\"/\"anyOf\" for a "
                 "group)"},
                {"{\"allOf\":[{}]}", VT_E_FORMAT, "release policy: $.allOf[0] lacks \"claim\""},
                {"{\"allOf\":[1]}", VT_E_FORMAT,
                 "release policy: $.allOf[0] must be an object (a condition or an allOf/anyOf "
                 "group)"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"exists\":true}],\"anyOf\":[{\"claim\":\"/a\","
                 "\"exists\":true}]}",
                 VT_E_FORMAT, "release policy: $ has both allOf and anyOf (nest one in the other)"},
                {"{\"allOf\":[{\"allOf\":[{\"claim\":\"/a\",\"exists\":true}],\"anyOf\":[{"
                 "\"claim\":\"/a\",\"exists\":true}]}]}",
                 VT_E_FORMAT, "release policy: $.allOf[0] has both allOf and anyOf"},
                {"{}", VT_E_FORMAT, "release policy: $ needs \"allOf\" or \"anyOf\""},
                {"{\"version\":\"1.0\"}", VT_E_FORMAT, "release policy: $ needs \"allOf\""},
                {"{\"claim\":\"/a\",\"exists\":true}", VT_E_FORMAT,
                 "release policy: unknown key \"claim\" at $"},
                {"{\"version\":\"2.0\",\"allOf\":[{\"claim\":\"/a\",\"exists\":true}]}",
                 VT_E_FORMAT, "release policy: $.version must be \"1.0\""},
                {"{\"version\":1.0,\"allOf\":[{\"claim\":\"/a\",\"exists\":true}]}", VT_E_FORMAT,
                 "release policy: $.version must be \"1.0\" (or Azure's \"1.0.0\")"},
                {"{\"version\":\"1.0.1\",\"allOf\":[{\"claim\":\"/a\",\"exists\":true}]}",
                 VT_E_FORMAT, "release policy: $.version must be \"1.0\" (or Azure's \"1.0.0\")"},
                {"[]", VT_E_FORMAT, "release policy: $ must be a JSON object"},
                {"\"allOf\"", VT_E_FORMAT, "release policy: invalid JSON"},
                {"", VT_E_FORMAT, "release policy: invalid JSON at line"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"exists\":true}]} x", VT_E_FORMAT,
                 "release policy: invalid JSON"},
                {"{\"allOf\":[{\"claim\":\"/a\",\"exists\":true,\"exists\":false}]}", VT_E_FORMAT,
                 "release policy: invalid JSON at line 1 column 46: duplicate object key"},
                {"{\"allOf\":[{\"claim\":\"/a\\u0000b\",\"exists\":true}]}", VT_E_FORMAT,
                 "release policy: invalid JSON"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_parse_err(cases[i].json, cases[i].err, cases[i].msg);
}

static void test_parse_limits(void **state)
{
        struct vt_release_policy *p = NULL;
        struct vt_diag d = {0};
        size_t n = VT_RELEASE_MAX_BYTES + 1;
        _cleanup_free_ char *big = malloc(n);
        static const char head[] = "{\"allOf\":[{\"claim\":\"/a\",\"exists\":true}]}";

        /* whitespace makes a valid document of 64 KiB, and one byte more is refused */
        memset(big, ' ', n);
        memcpy(big, head, sizeof(head) - 1);
        assert_int_equal(vt_release_policy_parse(big, n - 1, &p, &d), 0);
        vt_release_policy_free(p);
        p = NULL;
        assert_int_equal(vt_release_policy_parse(big, n, &p, &d), VT_E_LIMIT);
        assert_string_equal(d.msg, "release policy: larger than 65536 bytes");
        assert_null(p);

        vt_diag_clear(&d);
        assert_int_equal(vt_release_policy_parse(NULL, 0, &p, &d), VT_E_INVAL);
        assert_int_equal(vt_release_policy_parse(head, sizeof(head) - 1, NULL, NULL), VT_E_INVAL);
        vt_release_policy_free(NULL);
        assert_int_equal(vt_release_policy_eval(NULL, NULL, NULL), VT_E_INVAL);
}

static void test_parse_truncations(void **state)
{
        static const char doc[] =
                "{\"version\":\"1.0\",\"anyOf\":[{\"allOf\":[{\"claim\":\"/submods/cpu0/"
                "ear.status\",\"equals\":\"affirming\"},{\"claim\":\"/submods/cpu0/"
                "ear.veraison.annotated-evidence/snp/measurement\",\"in\":[\"ab\",\"cd\"]},"
                "{\"claim\":\"/submods/cpu0/ear.veraison.annotated-evidence/snp/"
                "reported_tcb_microcode\",\"gte\":219},{\"claim\":\"/a~0b~1c/0\",\"notEquals\":"
                "{\"k\":[null,true,false,-1]}},{\"claim\":\"/x\",\"exists\":false},{\"claim\":"
                "\"/y\",\"lte\":1.5e2}]},{\"anyOf\":[{\"claim\":\"/submods/cpu0/veritee."
                "simulated\",\"equals\":true}]}]}";
        const size_t len = sizeof(doc) - 1;

        for (size_t n = 0; n <= len; n++) {
                struct vt_release_policy *p = NULL;
                struct vt_diag d = {0};
                int e = parse_n(doc, n, &p, &d);
                if (n < len) {
                        if (e >= 0)
                                fail_msg("a prefix of %zu bytes parsed", n);
                        assert_null(p);
                        assert_int_equal(d.err, e);
                } else {
                        if (e < 0)
                                fail_msg("the document did not parse: %s", d.msg);
                        vt_release_policy_free(p);
                }
        }
}

/* ---- EAR claims (../shared/testdata) ---- */

static json_t *ear_claims(void)
{
        size_t len = 0;
        _cleanup_free_ uint8_t *buf = vt_test_load_vector(EAR_CLAIMS, &len);
        json_error_t je;
        json_t *c = json_loadb((const char *)buf, len, 0, &je);
        if (!c)
                fail_msg("%s: %s", EAR_CLAIMS, je.text);
        return c;
}

static void test_ear_example(void **state)
{
        VT_REQUIRE_TESTDATA();
        _cleanup_json_ json_t *c = ear_claims();

        /* the token is contraindicated, so a policy that wants affirming evidence denies */
        check_eval("{\"version\":\"1.0\",\"anyOf\":[{\"allOf\":[{\"claim\":\"" CPU0
                   "/ear.status\",\"equals\":\"affirming\"}]}]}",
                   c,
                   "claim /submods/cpu0/ear.status is \"contraindicated\", expected equals "
                   "\"affirming\"");
        check_eval("{\"allOf\":[{\"claim\":\"" CPU0 "/ear.status\",\"in\":[\"affirming\","
                   "\"warning\"]}]}",
                   c,
                   "claim /submods/cpu0/ear.status is \"contraindicated\", expected in "
                   "[\"affirming\",\"warning\"]");
        /* its SGX enclave measurement matches */
        check_eval("{\"allOf\":[{\"claim\":\"" EVIDENCE "/sgx/body/mr_enclave\",\"equals\":"
                   "\"8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68\"},"
                   "{\"claim\":\"" EVIDENCE "/sgx/body/mr_signer\",\"in\":["
                   "\"83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e\"]}]}",
                   c, NULL);
        check_eval("{\"allOf\":[{\"claim\":\"" EVIDENCE "/sgx/body/mr_enclave\",\"equals\":"
                   "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
                   c,
                   "claim /submods/cpu0/ear.veraison.annotated-evidence/sgx/body/mr_enclave is "
                   "\"8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68\", "
                   "expected equals "
                   "\"0000000000000000000000000000000000000000000000000000000000000000\"");
        /* arrays, numbers and the trustworthiness vector */
        check_eval("{\"allOf\":[{\"claim\":\"" EVIDENCE "/sgx/advisory_ids/9\",\"equals\":"
                   "\"INTEL-SA-00960\"},{\"claim\":\"" EVIDENCE "/sgx/advisory_ids/10\","
                   "\"exists\":false},{\"claim\":\"" EVIDENCE "/sgx/pck_crl_num\",\"gte\":1},"
                   "{\"claim\":\"/exp\",\"gte\":1760426434},{\"claim\":\"/eat_profile\","
                   "\"equals\":\"tag:github.com,2024:confidential-containers/Trustee\"}]}",
                   c, NULL);
        check_eval("{\"allOf\":[{\"claim\":\"" CPU0 "/ear.trustworthiness-vector/hardware\","
                   "\"lte\":32}]}",
                   c,
                   "claim /submods/cpu0/ear.trustworthiness-vector/hardware is 97, expected "
                   "lte 32");
        check_eval("{\"allOf\":[{\"claim\":\"" EVIDENCE "/sgx/tcb_status\",\"in\":[\"UpToDate\","
                   "\"SWHardeningNeeded\"]}]}",
                   c,
                   "claim /submods/cpu0/ear.veraison.annotated-evidence/sgx/tcb_status is "
                   "\"OutOfDate\", expected in [\"UpToDate\",\"SWHardeningNeeded\"]");
        /* no SNP evidence in this token: deny, also for a negative test */
        check_eval("{\"allOf\":[{\"claim\":\"" EVIDENCE "/snp/reported_tcb_microcode\",\"gte\":"
                   "219}]}",
                   c,
                   "claim /submods/cpu0/ear.veraison.annotated-evidence/snp/"
                   "reported_tcb_microcode is missing");
        check_eval("{\"allOf\":[{\"claim\":\"" EVIDENCE "/snp/policy_debug_allowed\","
                   "\"notEquals\":true}]}",
                   c,
                   "claim /submods/cpu0/ear.veraison.annotated-evidence/snp/"
                   "policy_debug_allowed is missing");
        /* a Trustee token has no veritee.simulated claim: "equals false" denies it */
        check_eval("{\"allOf\":[{\"claim\":\"" CPU0 "/veritee.simulated\",\"equals\":false}]}", c,
                   "claim /submods/cpu0/veritee.simulated is missing");
        check_eval("{\"allOf\":[{\"claim\":\"" EVIDENCE "/init_data_claims\",\"equals\":null},"
                   "{\"claim\":\"" EVIDENCE "/snp\",\"exists\":false}]}",
                   c, NULL);
}

/* ---- the examples in docs/policy-release.md parse ---- */

static void test_doc_examples(void **state)
{
        /* the source tree from this file's path: .../tests/unit/test_release.c */
        char path[4096];
        const char *tail = strstr(__FILE__, "tests/unit/test_release.c");
        if (!tail || __FILE__[0] != '/')
                vtt_skip("source tree not known");
        snprintf(path, sizeof(path), "%.*sdocs/policy-release.md", (int)(tail - __FILE__),
                 __FILE__);
        size_t len = 0, found = 0;
        _cleanup_free_ uint8_t *md = vt_test_load(path, &len);
        const char *p = (const char *)md;
        while ((p = strstr(p, "```json\n"))) {
                p += 8;
                const char *end = strstr(p, "```");
                assert_non_null(end);
                struct vt_release_policy *pol = NULL;
                struct vt_diag d = {0};
                /* blocks that show claims, not policies, have no allOf/anyOf */
                _cleanup_free_ char *block = strndup(p, (size_t)(end - p));
                if (strstr(block, "\"allOf\"") || strstr(block, "\"anyOf\"")) {
                        if (vt_release_policy_parse(block, strlen(block), &pol, &d) < 0)
                                fail_msg("docs example\n%s\ndoes not parse: %s", block, d.msg);
                        vt_release_policy_free(pol);
                        found++;
                }
                p = end + 3;
        }
        assert_true(found >= 4);
}

/* ---- Azure Key Vault's documents, as written in the field ---- */

#define AZ_SKR_POLICY "azure/skr/cvm_datadisk_skr_policy.json"
#define AZ_CVM_CLAIMS "azure/maa/cvm_azurevm_token_body_decoded.json"
#define AZ_REGO       "azure/aci/cce_policy.rego"

static json_t *vector_json(const char *rel)
{
        size_t len = 0;
        _cleanup_free_ uint8_t *buf = vt_test_load_vector(rel, &len);
        json_error_t je;
        json_t *c = json_loadb((const char *)buf, len, 0, &je);
        if (!c)
                fail_msg("%s: %s", rel, je.text);
        return c;
}

static void test_azure_field_policy(void **state)
{
        VT_REQUIRE_TESTDATA();
        size_t len = 0;
        _cleanup_free_ uint8_t *doc = vt_test_load_vector(AZ_SKR_POLICY, &len);
        _cleanup_(vt_release_policy_freep) struct vt_release_policy *p = NULL;
        struct vt_diag d = {0};

        /* the real data-disk policy: version 1.0.0, 26 authorities, dot paths */
        if (parse_n((const char *)doc, len, &p, &d) < 0)
                fail_msg("%s: %s", AZ_SKR_POLICY, d.msg);

        /* the real CVM token body comes from a test instance no authority names */
        _cleanup_json_ json_t *c = vector_json(AZ_CVM_CLAIMS);
        assert_int_equal(vt_release_policy_eval(p, c, &d), VT_E_POLICY);
        assert_string_equal(d.msg, "claim iss is \"https://sharedeus.eus.test.attest.azure.net\", "
                                   "expected authority \"https://sharedeus.eus.attest.azure.net/\" "
                                   "(and 25 other alternatives failed)");

        /* the same claims from authorities written with and without "/" release */
        static const char *const issuers[] = {
                "https://sharedeus.eus.attest.azure.net",    /* policy: with "/" */
                "https://sharedeus.eus.attest.azure.net/",   /* as written */
                "https://sharedscus.scus.attest.azure.net/", /* policy: without */
                "HTTPS://SharedUKS.uks.attest.azure.net",    /* the host is case-insensitive */
        };
        for (size_t i = 0; i < ELEMENTSOF(issuers); i++) {
                json_object_set_new(c, "iss", json_string(issuers[i]));
                vt_diag_clear(&d);
                if (vt_release_policy_eval(p, c, &d) != 0)
                        fail_msg("iss %s denied: %s", issuers[i], d.msg);
        }

        /* a path is not a host: its case counts, and so does any other difference */
        static const char *const strangers[] = {
                "https://sharedeus.eus.attest.azure.net/x",
                "https://sharedeus.eus.attest.azure.net.evil.example",
                "http://sharedeus.eus.attest.azure.net",
                "https://sharedeus.eus.attest.azure.ne",
        };
        for (size_t i = 0; i < ELEMENTSOF(strangers); i++) {
                json_object_set_new(c, "iss", json_string(strangers[i]));
                assert_int_equal(vt_release_policy_eval(p, c, NULL), VT_E_POLICY);
        }
        json_object_del(c, "iss");
        vt_diag_clear(&d);
        assert_int_equal(vt_release_policy_eval(p, c, &d), VT_E_POLICY);
        assert_string_equal(d.msg, "claim iss is missing or not a string, expected authority "
                                   "\"https://sharedeus.eus.attest.azure.net/\" (and 25 other "
                                   "alternatives failed)");

        /* a trusted issuer, but a CVM that is not compliant */
        json_object_set_new(c, "iss", json_string("https://sharedweu.weu.attest.azure.net"));
        json_t *tee = json_object_get(c, "x-ms-isolation-tee");
        json_object_set_new(tee, "x-ms-compliance-status", json_string("not-compliant"));
        vt_diag_clear(&d);
        assert_int_equal(vt_release_policy_eval(p, c, &d), VT_E_POLICY);
        /* the reason is that of the issuer's own authority, not of the first one */
        assert_string_equal(d.msg, "claim x-ms-isolation-tee.x-ms-compliance-status is "
                                   "\"not-compliant\", expected equals \"azure-compliant-cvm\" "
                                   "(and 25 other alternatives failed)");
        json_object_set_new(tee, "x-ms-compliance-status", json_string("azure-compliant-cvm"));
        assert_int_equal(vt_release_policy_eval(p, c, NULL), 0);
        json_object_set_new(tee, "x-ms-attestation-type", json_string("sgx"));
        assert_int_equal(vt_release_policy_eval(p, c, NULL), VT_E_POLICY);
}

/* one authority, its conditions as given */
static void check_azure(const char *conds, const char *claims_text, const char *want_msg)
{
        char policy[2048];
        _cleanup_json_ json_t *c = claims_of(claims_text);
        snprintf(policy, sizeof(policy),
                 "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://maa.example/\","
                 "\"allOf\":[%s]}]}",
                 conds);
        check_eval(policy, c, want_msg);
}

static void test_azure_loose_equals(void **state)
{
        /* the sidecar's ACI example spells booleans and integers as strings */
        static const char sidecar[] =
                "{\"claim\":\"x-ms-sevsnpvm-is-debuggable\",\"equals\":\"false\"},"
                "{\"claim\":\"x-ms-sevsnpvm-vmpl\",\"equals\":\"0\"},"
                "{\"claim\":\"x-ms-attestation-type\",\"equals\":\"sevsnpvm\"}";
        static const char pysdk[] = "{\"claim\":\"x-ms-sevsnpvm-is-debuggable\",\"equals\":false},"
                                    "{\"claim\":\"x-ms-sevsnpvm-vmpl\",\"equals\":0}";
        static const char good[] = "{\"iss\":\"https://maa.example\",\"x-ms-attestation-type\":"
                                   "\"sevsnpvm\",\"x-ms-sevsnpvm-is-debuggable\":false,"
                                   "\"x-ms-sevsnpvm-vmpl\":0}";

        check_azure(sidecar, good, NULL);
        check_azure(pysdk, good, NULL);
        check_azure(sidecar,
                    "{\"iss\":\"https://maa.example\",\"x-ms-attestation-type\":\"sevsnpvm\","
                    "\"x-ms-sevsnpvm-is-debuggable\":true,\"x-ms-sevsnpvm-vmpl\":0}",
                    "claim x-ms-sevsnpvm-is-debuggable is true, expected equals \"false\"");
        check_azure(pysdk,
                    "{\"iss\":\"https://maa.example\",\"x-ms-sevsnpvm-is-debuggable\":false,"
                    "\"x-ms-sevsnpvm-vmpl\":\"2\"}",
                    "claim x-ms-sevsnpvm-vmpl is \"2\", expected equals 0");
        /* text, not numbers: "00" is not 0, nor "0.0", nor " 0" */
        check_azure("{\"claim\":\"n\",\"equals\":\"00\"}",
                    "{\"iss\":\"https://maa.example\",\"n\":0}",
                    "claim n is 0, expected equals \"00\"");
        check_azure("{\"claim\":\"n\",\"equals\":\"0\"}",
                    "{\"iss\":\"https://maa.example\",\"n\":0.0}",
                    "claim n is 0.0, expected equals \"0\"");
        check_azure("{\"claim\":\"n\",\"equals\":\"null\"}",
                    "{\"iss\":\"https://maa.example\",\"n\":null}", NULL);
        /* loose also for notEquals and in; objects still compare exactly */
        check_azure("{\"claim\":\"v\",\"notEquals\":\"1\"}",
                    "{\"iss\":\"https://maa.example\",\"v\":1}",
                    "claim v is 1, expected notEquals \"1\"");
        check_azure("{\"claim\":\"v\",\"in\":[\"3\",\"1\"]}",
                    "{\"iss\":\"https://maa.example\",\"v\":1}", NULL);
        check_azure("{\"claim\":\"o\",\"equals\":{\"a\":\"1\"}}",
                    "{\"iss\":\"https://maa.example\",\"o\":{\"a\":1}}",
                    "claim o is {\"a\":1}, expected equals {\"a\":\"1\"}");

        /* our own 1.0 documents stay exact and typed */
        _cleanup_json_ json_t *c = claims_of(good);
        check_eval("{\"version\":\"1.0\",\"allOf\":[{\"claim\":\"x-ms-sevsnpvm-vmpl\","
                   "\"equals\":\"0\"}]}",
                   c, "claim x-ms-sevsnpvm-vmpl is 0, expected equals \"0\"");
        check_eval("{\"allOf\":[{\"claim\":\"x-ms-sevsnpvm-is-debuggable\",\"equals\":\"false\"}]}",
                   c, "claim x-ms-sevsnpvm-is-debuggable is false, expected equals \"false\"");
}

static void test_azure_dot_paths(void **state)
{
        _cleanup_json_ json_t *c =
                claims_of("{\"iss\":\"https://maa.example\",\"a\":{\"b\":{\"c\":\"x\"},"
                          "\"l\":[\"y\"]},\"a.b\":\"flat\",\"s/t\":1,\"ear.status\":2}");

        check_cond("{\"claim\":\"a.b.c\",\"equals\":\"x\"}", c, NULL);
        /* every "." steps into an object: a member named "a.b" needs a pointer */
        check_cond("{\"claim\":\"a.b\",\"equals\":{\"c\":\"x\"}}", c, NULL);
        check_cond("{\"claim\":\"/a.b\",\"equals\":\"flat\"}", c, NULL);
        check_cond("{\"claim\":\"ear.status\",\"exists\":true}", c, "claim ear.status is missing");
        /* a dot path names no array element, and "/" is just a character in it */
        check_cond("{\"claim\":\"a.l.0\",\"exists\":true}", c, "claim a.l.0 is missing");
        check_cond("{\"claim\":\"/a/l/0\",\"equals\":\"y\"}", c, NULL);
        check_cond("{\"claim\":\"s/t\",\"equals\":1}", c, NULL);
        check_cond("{\"claim\":\"a.b.c.d\",\"exists\":false}", c, NULL);
}

static void test_azure_authorities(void **state)
{
        static const char policy[] =
                "{\"version\":\"1.0.0\",\"anyOf\":["
                "{\"authority\":\"https://one.example/\",\"allOf\":[{\"claim\":\"t\",\"equals\":"
                "\"a\"}]},"
                "{\"authority\":\"https://two.example\",\"anyOf\":[{\"claim\":\"t\",\"equals\":"
                "\"b\"},{\"claim\":\"t\",\"condition\":\"equals\",\"value\":\"c\"}]}]}";
        _cleanup_json_ json_t *one_a = claims_of("{\"iss\":\"https://one.example\",\"t\":\"a\"}");
        _cleanup_json_ json_t *one_b = claims_of("{\"iss\":\"https://one.example\",\"t\":\"b\"}");
        _cleanup_json_ json_t *two_b = claims_of("{\"iss\":\"https://two.example/\",\"t\":\"b\"}");
        _cleanup_json_ json_t *two_c = claims_of("{\"iss\":\"https://two.example\",\"t\":\"c\"}");
        _cleanup_json_ json_t *two_a = claims_of("{\"iss\":\"https://two.example\",\"t\":\"a\"}");
        _cleanup_json_ json_t *no_iss = claims_of("{\"t\":\"a\"}");

        check_eval(policy, one_a, NULL);
        check_eval(policy, two_b, NULL);
        check_eval(policy, two_c, NULL); /* the older {condition, value} form */
        /* what one authority vouches for does not count under another */
        check_eval(policy, one_b,
                   "claim t is \"b\", expected equals \"a\" (and 1 other "
                   "alternative failed)");
        check_eval(policy, two_a,
                   "claim t is \"a\", expected equals \"b\" (and 2 other alternatives failed)");
        _cleanup_json_ json_t *three = claims_of("{\"iss\":\"https://three.example\",\"t\":\"a\"}");
        check_eval(policy, three,
                   "claim iss is \"https://three.example\", expected authority "
                   "\"https://one.example/\" (and 1 other alternative failed)");
        check_eval(policy, no_iss,
                   "claim iss is missing or not a string, expected authority "
                   "\"https://one.example/\" (and 1 other alternative failed)");
}

static void test_rego_refused(void **state)
{
        static const char *const rego[] = {
                "package policy\n\nimport rego.v1\n\ndefault allow = false\n\nallow if {\n"
                "    input[\"submods\"][\"cpu0\"][\"ear.status\"] == \"affirming\"\n}\n",
                "# Trustee resource policy\n\n  # another comment\npackage policy\ndefault allow "
                ":= true\n",
                "default allow = false\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(rego); i++)
                check_parse_err(rego[i], VT_E_FORMAT,
                                "release policy: this is a Rego policy (Trustee's language); "
                                "veritee's release policies are JSON in the style of Azure Key "
                                "Vault's: see docs/policy-release.md, \"From a Rego policy\", for "
                                "the JSON equivalent");
        /* not Rego: the JSON error stays */
        check_parse_err("packages {", VT_E_FORMAT, "release policy: invalid JSON at line 1");
        check_parse_err("package", VT_E_FORMAT, "release policy: invalid JSON at line 1");

        /* the real CCE policy of a confidential ACI group */
        VT_REQUIRE_TESTDATA();
        size_t len = 0;
        _cleanup_free_ uint8_t *doc = vt_test_load_vector(AZ_REGO, &len);
        struct vt_release_policy *p = NULL;
        struct vt_diag d = {0};
        assert_int_equal(parse_n((const char *)doc, len, &p, &d), VT_E_FORMAT);
        assert_null(p);
        assert_non_null(strstr(d.msg, "this is a Rego policy"));
}

/* ---- many threads on one policy ---- */

struct thread_arg {
        const struct vt_release_policy *p;
        const json_t *ok, *bad;
        int failures;
};

/* Composite attestation: a token with a device submodule beside cpu0 (vt_ear_claims, as
 * veriteed makes it). A policy can require /submods/gpu0/ear.status; a token without the GPU
 * is denied, naming the missing claim. */
static void test_eval_composite_submods(void **state)
{
        (void)state;
        struct vt_ar4si cpu = {.instance_identity = 2, .hardware = 2, .executables = 2},
                        gpu = {.instance_identity = 2, .hardware = 2, .executables = 2},
                        gpu_bad = {.instance_identity = 2, .hardware = 97};
        _cleanup_json_ json_t *cpu_claims = json_pack("{s:s}", "measurement", "00");
        _cleanup_json_ json_t *gpu_claims = json_pack("{s:s}", "x-nvidia-arch", "HOPPER");
        struct vt_ear_submod sub = {
                .name = "gpu0", .tee = "nvidia", .claims = gpu_claims, .tv = &gpu};
        struct vt_ear_input in = {.issuer = "https://kbs.test",
                                  .iat = 1000,
                                  .ttl = 300,
                                  .policy_id = "default",
                                  .tee = "snp",
                                  .tee_claims = cpu_claims,
                                  .report_data = (const uint8_t *)"0123456789abcdef",
                                  .report_data_len = 16,
                                  .tv = &cpu,
                                  .submods = &sub,
                                  .n_submods = 1};
        _cleanup_json_ json_t *with = vt_ear_claims(&in);
        assert_non_null(with);
        /* the device submodule has cpu0's shape */
        json_t *g = json_object_get(json_object_get(with, "submods"), "gpu0");
        assert_string_equal(json_string_value(json_object_get(g, "ear.status")), "affirming");
        assert_non_null(
                json_object_get(json_object_get(g, "ear.trustworthiness-vector"), "hardware"));
        json_t *ev = json_object_get(g, "ear.veraison.annotated-evidence");
        assert_string_equal(
                json_string_value(json_object_get(json_object_get(ev, "nvidia"), "x-nvidia-arch")),
                "HOPPER");
        const char *pol = "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":"
                          "\"affirming\"},{\"claim\":\"/submods/gpu0/ear.status\",\"equals\":"
                          "\"affirming\"}]}";
        check_eval(pol, with, NULL);
        /* a GPU that is not affirming */
        sub.tv = &gpu_bad;
        _cleanup_json_ json_t *bad = vt_ear_claims(&in);
        check_eval(pol, bad,
                   "claim /submods/gpu0/ear.status is \"contraindicated\", expected "
                   "equals \"affirming\"");
        /* no GPU at all */
        in.n_submods = 0;
        _cleanup_json_ json_t *without = vt_ear_claims(&in);
        assert_null(json_object_get(json_object_get(without, "submods"), "gpu0"));
        struct vt_diag d = {0};
        _cleanup_(vt_release_policy_freep) struct vt_release_policy *p = parse_ok(pol);
        assert_int_equal(vt_release_policy_eval(p, without, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "/submods/gpu0/ear.status"));
}

static void *eval_thread(void *arg)
{
        struct thread_arg *a = arg;
        for (int i = 0; i < 2000; i++) {
                struct vt_diag d = {0};
                if (vt_release_policy_eval(a->p, a->ok, &d) != 0)
                        a->failures++;
                if (vt_release_policy_eval(a->p, a->bad, &d) != VT_E_POLICY ||
                    strcmp(d.msg, "claim /s is \"warning\", expected equals \"affirming\"") != 0)
                        a->failures++;
        }
        return NULL;
}

static void test_eval_threads(void **state)
{
        _cleanup_(vt_release_policy_freep) struct vt_release_policy *p =
                parse_ok("{\"allOf\":[{\"claim\":\"/s\",\"equals\":\"affirming\"},{\"claim\":"
                         "\"/n\",\"gte\":3},{\"claim\":\"/l\",\"in\":[[1],[2]]}]}");
        _cleanup_json_ json_t *ok = claims_of("{\"s\":\"affirming\",\"n\":4,\"l\":[2]}");
        _cleanup_json_ json_t *bad = claims_of("{\"s\":\"warning\",\"n\":4,\"l\":[2]}");
        struct thread_arg args[4];
        pthread_t t[4];

        for (int i = 0; i < 4; i++) {
                args[i] = (struct thread_arg){p, ok, bad, 0};
                assert_int_equal(pthread_create(&t[i], NULL, eval_thread, &args[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                assert_int_equal(pthread_join(t[i], NULL), 0);
                assert_int_equal(args[i].failures, 0);
        }
}

static void test_eval_long_values(void **state)
{
        /* values too long for the message are cut, and the operator still shows */
        char s[600];
        memset(s, 'v', sizeof(s) - 1);
        s[sizeof(s) - 1] = 0;
        _cleanup_json_ json_t *c = json_pack("{s:s}", "s", s);
        _cleanup_(vt_release_policy_freep) struct vt_release_policy *p =
                parse_ok("{\"allOf\":[{\"claim\":\"/s\",\"equals\":\"affirming\"}]}");
        struct vt_diag d = {0};

        assert_int_equal(vt_release_policy_eval(p, c, &d), VT_E_POLICY);
        char want[512];
        snprintf(want, sizeof(want), "claim /s is \"%.159s..., expected equals \"affirming\"", s);
        assert_string_equal(d.msg, want);
        /* the first reason wins */
        struct vt_diag d2 = {0};
        vt_diag_set(&d2, VT_E_IO, "earlier");
        assert_int_equal(vt_release_policy_eval(p, c, &d2), VT_E_POLICY);
        assert_string_equal(d2.msg, "earlier");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pointer_rfc6901),
                cmocka_unit_test(test_pointer_refused),
                cmocka_unit_test(test_pointer_long_escaped),
                cmocka_unit_test(test_op_equals),
                cmocka_unit_test(test_op_not_equals),
                cmocka_unit_test(test_op_in),
                cmocka_unit_test(test_op_exists),
                cmocka_unit_test(test_op_gte_lte),
                cmocka_unit_test(test_groups),
                cmocka_unit_test(test_groups_depth),
                cmocka_unit_test(test_groups_many_conditions),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_parse_limits),
                cmocka_unit_test(test_parse_truncations),
                cmocka_unit_test(test_ear_example),
                cmocka_unit_test(test_doc_examples),
                cmocka_unit_test(test_azure_field_policy),
                cmocka_unit_test(test_azure_loose_equals),
                cmocka_unit_test(test_azure_dot_paths),
                cmocka_unit_test(test_azure_authorities),
                cmocka_unit_test(test_rego_refused),
                cmocka_unit_test(test_eval_threads),
                cmocka_unit_test(test_eval_composite_submods),
                cmocka_unit_test(test_eval_long_values),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
