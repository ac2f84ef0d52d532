/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Release policies (docs/policy-release.md): a tree of allOf/anyOf groups over conditions
 * on token claims. Parsed from untrusted JSON with fixed caps; unknown keys are rejected so
 * that a typo never silently widens who receives a secret. The parsed policy keeps the
 * document and borrows its operands from it; claim pointers are split into tokens once, so
 * that evaluation only reads and allocates nothing until it has a failure to print.
 *
 * Azure Key Vault's documents are read as written in the field: "version": "1.0.0",
 * authorities (a group that holds only for tokens of that issuer), claims named by dot
 * paths, the older {"claim", "condition": "equals", "value"} form, and, in a 1.0.0
 * document, scalars compared on their text ("false" equals false), as Azure releases on
 * both spellings.
 */
#include "policy/release.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/json.h"
#include "util/macro.h"

enum rp_op {
        OP_EQUALS,
        OP_NOT_EQUALS,
        OP_IN,
        OP_EXISTS,
        OP_GTE,
        OP_LTE,
        _OP_MAX,
};

static const char *const op_names[_OP_MAX] = {
        [OP_EQUALS] = "equals", [OP_NOT_EQUALS] = "notEquals",
        [OP_IN] = "in",         [OP_EXISTS] = "exists",
        [OP_GTE] = "gte",       [OP_LTE] = "lte",
};

/* One reference token of a claim pointer, unescaped (or one name of a dot path). */
struct rp_token {
        const char *key;
        size_t len;
};

struct rp_node {
        bool group;
        /* group */
        bool any; /* anyOf; else allOf */
        struct rp_node *kids;
        size_t n;
        const json_t *authority; /* an Azure authority: the issuer this group is for */
        /* condition */
        const char *claim; /* the pointer or dot path as written, borrowed from the document */
        bool dot;          /* a dot path: its names step into objects only */
        bool loose;        /* compare scalars on their text (a 1.0.0 document) */
        struct rp_token *tok;
        size_t ntok;
        enum rp_op op;
        const json_t *arg; /* borrowed from the document */
};

struct vt_release_policy {
        json_t *doc;
        struct rp_node root;
};

/* The versions a document may name: ours, and Azure Key Vault's (whose scalars compare
 * loosely). */
#define VERSION_OURS  "1.0"
#define VERSION_AZURE "1.0.0"

/* ---- JSON pointers (RFC 6901) ---- */

/* parse_index returns true and the index if s[0..n) is a canonical array index: decimal
 * digits, no leading zero (except "0" itself), no sign, no overflow. "-" is not one. */
static bool parse_index(const char *s, size_t n, size_t *ret)
{
        size_t v = 0;

        if (n == 0 || (n > 1 && s[0] == '0'))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                size_t digit = (size_t)(s[i] - '0');
                if (v > (SIZE_MAX - digit) / 10)
                        return false;
                v = v * 10 + digit;
        }
        *ret = v;
        return true;
}

/* unescape decodes s[0..n) ("~0" -> "~", "~1" -> "/") into out (room for n bytes); false
 * for a "~" followed by anything else. */
static bool unescape(const char *s, size_t n, char *out, size_t *ret_len)
{
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] != '~') {
                        out[o++] = s[i];
                        continue;
                }
                if (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1'))
                        return false;
                out[o++] = s[i + 1] == '0' ? '~' : '/';
                i++;
        }
        *ret_len = o;
        return true;
}

/* step returns the member key[0..len) of an object or the element it names of an array. */
static const json_t *step(const json_t *v, const char *key, size_t len)
{
        size_t i;

        if (json_is_object(v))
                return json_object_getn(v, key, len);
        if (json_is_array(v) && parse_index(key, len, &i))
                return json_array_get(v, i);
        return NULL;
}

const json_t *vt_json_pointer(const json_t *root, const char *ptr)
{
        const json_t *v = root;
        const char *p = ptr;

        if (!root || !ptr || (*p != 0 && *p != '/'))
                return NULL;
        while (v && *p == '/') {
                p++;
                size_t n = strcspn(p, "/");
                if (!memchr(p, '~', n)) {
                        v = step(v, p, n);
                } else {
                        /* only tokens with escapes need a copy; most fit on the stack */
                        char small[128];
                        _cleanup_free_ char *big = n > sizeof(small) ? malloc(n) : NULL;
                        char *buf = n > sizeof(small) ? big : small;
                        size_t len;
                        if (!buf || !unescape(p, n, buf, &len))
                                return NULL;
                        v = step(v, buf, len);
                }
                p += n;
        }
        return v;
}

/* ---- parsing ---- */

struct parse_ctx {
        struct vt_diag *d;
        size_t nconds;
        bool loose;     /* an Azure 1.0.0 document */
        char path[256]; /* where in the document we are, "$.anyOf[0].allOf[2]" */
        size_t plen;
};

/* path_push appends to the path and returns the old length for path_pop; a path too long
 * for the buffer is cut short (it only serves messages). */
static size_t path_push(struct parse_ctx *c, const char *key, size_t index)
{
        size_t old = c->plen;
        int k = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, ".%s[%zu]", key, index);

        if (k > 0)
                c->plen += (size_t)k < sizeof(c->path) - c->plen ? (size_t)k
                                                                 : sizeof(c->path) - c->plen - 1;
        return old;
}

static void path_pop(struct parse_ctx *c, size_t old)
{
        c->plen = old;
        c->path[old] = 0;
}

static void node_done(struct rp_node *n)
{
        if (n->group) {
                for (size_t i = 0; i < n->n; i++)
                        node_done(&n->kids[i]);
                free(n->kids);
        } else {
                free(n->tok);
        }
        *n = (struct rp_node){0};
}

/* has_real is true if v holds a real number anywhere: equality of reals is not offered
 * (1.0 is not 1 and 0.1 + 0.2 is not 0.3), use gte and lte. */
static bool has_real(const json_t *v)
{
        const char *k;
        const json_t *x;
        size_t i;

        if (json_is_real(v))
                return true;
        if (json_is_object(v)) {
                json_object_foreach ((json_t *)v, k, x)
                        if (has_real(x))
                                return true;
        } else if (json_is_array(v)) {
                json_array_foreach (v, i, x)
                        if (has_real(x))
                                return true;
        }
        return false;
}

/* parse_dot_path splits an Azure dot path ("x-ms-isolation-tee.x-ms-attestation-type")
 * into its names. */
static int parse_dot_path(struct parse_ctx *c, const char *s, size_t len, struct rp_node *out)
{
        size_t ntok = 1;

        if (len == 0 || s[0] == '.' || s[len - 1] == '.' || strstr(s, ".."))
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s.claim \"%.64s\" must be a JSON pointer "
                                   "starting with \"/\" or a dot path of non-empty names",
                                   c->path, s);
        for (size_t i = 0; i < len; i++)
                ntok += s[i] == '.';
        struct rp_token *tok = calloc(ntok, sizeof(*tok));
        if (!tok)
                return VT_E_NOMEM;
        const char *p = s;
        for (size_t i = 0; i < ntok; i++) {
                size_t n = strcspn(p, ".");
                tok[i] = (struct rp_token){p, n};
                p += n + 1;
        }
        out->claim = s;
        out->dot = true;
        out->tok = tok;
        out->ntok = ntok;
        return 0;
}

static int parse_claim(struct parse_ctx *c, const json_t *v, struct rp_node *out)
{
        const char *s = json_string_value(v);

        if (!s)
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s.claim must be a string (a JSON pointer "
                                   "or a dot path)",
                                   c->path);
        size_t len = json_string_length(v), ntok = 0;
        if (s[0] != '/')
                return parse_dot_path(c, s, len, out);
        for (size_t i = 0; i < len; i++)
                ntok += s[i] == '/';
        /* the tokens, then their unescaped bytes (never longer than the pointer) */
        struct rp_token *tok = calloc(1, ntok * sizeof(*tok) + len);
        if (!tok)
                return VT_E_NOMEM;
        char *keys = (char *)(tok + ntok);
        const char *p = s;
        for (size_t i = 0; i < ntok; i++) {
                size_t n = strcspn(++p, "/"), got;
                if (!unescape(p, n, keys, &got)) {
                        free(tok);
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s.claim \"%.64s\": \"~\" must be "
                                           "followed by 0 or 1 in a JSON pointer",
                                           c->path, s);
                }
                tok[i] = (struct rp_token){keys, got};
                keys += got;
                p += n;
        }
        out->claim = s;
        out->tok = tok;
        out->ntok = ntok;
        return 0;
}

static int parse_operand(struct parse_ctx *c, struct rp_node *n)
{
        const char *op = op_names[n->op];
        const json_t *v = n->arg, *x;
        size_t i;

        switch (n->op) {
        case OP_EQUALS:
        case OP_NOT_EQUALS:
                if (has_real(v))
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s.%s: a real number cannot be "
                                           "compared for equality (use an integer, or gte/lte)",
                                           c->path, op);
                return 0;
        case OP_IN:
                if (!json_is_array(v) || json_array_size(v) == 0)
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s.in must be a non-empty array",
                                           c->path);
                json_array_foreach (v, i, x)
                        if (has_real(x))
                                return vt_diag_set(c->d, VT_E_FORMAT,
                                                   "release policy: %s.in[%zu]: a real number "
                                                   "cannot be compared for equality (use an "
                                                   "integer, or gte/lte)",
                                                   c->path, i);
                return 0;
        case OP_EXISTS:
                if (!json_is_boolean(v))
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s.exists must be true or false",
                                           c->path);
                return 0;
        case OP_GTE:
        case OP_LTE:
                if (!json_is_number(v))
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s.%s must be a number", c->path, op);
                return 0;
        default:
                return VT_E_FORMAT;
        }
}

static int parse_condition(struct parse_ctx *c, const json_t *obj, struct rp_node *out)
{
        const json_t *claim = NULL, *cond = NULL, *value = NULL;
        const char *k;
        json_t *v;
        int e;

        out->group = false;
        out->loose = c->loose;
        out->op = _OP_MAX;
        json_object_foreach ((json_t *)obj, k, v) {
                enum rp_op op = 0;
                if (strcmp(k, "claim") == 0) {
                        claim = v;
                        continue;
                }
                /* Azure's older form: {"claim", "condition": "equals", "value"} */
                if (strcmp(k, "condition") == 0) {
                        cond = v;
                        continue;
                }
                if (strcmp(k, "value") == 0) {
                        value = v;
                        continue;
                }
                while (op < _OP_MAX && strcmp(k, op_names[op]) != 0)
                        op++;
                if (op == _OP_MAX)
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: unknown key \"%s\" at %s (a "
                                           "condition has \"claim\" and one of equals, "
                                           "notEquals, in, exists, gte, lte)",
                                           k, c->path);
                if (out->op != _OP_MAX)
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s has two operators, \"%s\" and "
                                           "\"%s\" (use allOf for both)",
                                           c->path, op_names[out->op], k);
                out->op = op;
                out->arg = v;
        }
        if (cond || value) {
                enum rp_op op = 0;
                const char *name = json_string_value(cond);
                while (name && op < _OP_MAX && strcmp(name, op_names[op]) != 0)
                        op++;
                if (!name || op == _OP_MAX)
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s.condition must name an operator "
                                           "(equals, notEquals, in, exists, gte, lte)",
                                           c->path);
                if (!value)
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s has \"condition\" but no "
                                           "\"value\"",
                                           c->path);
                if (out->op != _OP_MAX)
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: %s has two operators, \"%s\" and "
                                           "\"condition\" (use allOf for both)",
                                           c->path, op_names[out->op]);
                out->op = op;
                out->arg = value;
        }
        if (!claim)
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s lacks \"claim\" (or \"allOf\"/\"anyOf\" "
                                   "for a group)",
                                   c->path);
        if (out->op == _OP_MAX)
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s has no operator (equals, notEquals, in, "
                                   "exists, gte, lte)",
                                   c->path);
        if (++c->nconds > VT_RELEASE_MAX_CONDITIONS)
                return vt_diag_set(c->d, VT_E_LIMIT,
                                   "release policy: more than %d conditions at %s",
                                   VT_RELEASE_MAX_CONDITIONS, c->path);
        if ((e = parse_operand(c, out)) < 0)
                return e;
        return parse_claim(c, claim, out);
}

static int parse_item(struct parse_ctx *c, const json_t *obj, unsigned depth, bool top,
                      struct rp_node *out);

/* parse_group parses {"allOf"|"anyOf": [...]} (and "version" at the top) at depth 1.. */
static int parse_group(struct parse_ctx *c, const json_t *obj, unsigned depth, bool top,
                       struct rp_node *out)
{
        const json_t *list = NULL, *x;
        const char *k, *name = NULL;
        json_t *v;
        size_t i;
        int e;

        if (depth > VT_RELEASE_MAX_DEPTH)
                return vt_diag_set(c->d, VT_E_LIMIT,
                                   "release policy: %s nests allOf/anyOf deeper than %d", c->path,
                                   VT_RELEASE_MAX_DEPTH);
        json_object_foreach ((json_t *)obj, k, v) {
                if (strcmp(k, "allOf") == 0 || strcmp(k, "anyOf") == 0) {
                        if (list)
                                return vt_diag_set(c->d, VT_E_FORMAT,
                                                   "release policy: %s has both allOf and anyOf "
                                                   "(nest one in the other)",
                                                   c->path);
                        list = v;
                        name = k;
                } else if (top && strcmp(k, "version") == 0) {
                        const char *ver = json_string_value(v);
                        if (!ver ||
                            (strcmp(ver, VERSION_OURS) != 0 && strcmp(ver, VERSION_AZURE) != 0))
                                return vt_diag_set(c->d, VT_E_FORMAT,
                                                   "release policy: $.version must be \"1.0\" "
                                                   "(or Azure's \"1.0.0\")");
                } else if (depth == 2 && strcmp(k, "authority") == 0) {
                        const char *a = json_string_value(v);
                        if (!a || !*a)
                                return vt_diag_set(c->d, VT_E_FORMAT,
                                                   "release policy: %s.authority must be a "
                                                   "non-empty string (an issuer URL)",
                                                   c->path);
                        out->authority = v;
                } else {
                        return vt_diag_set(
                                c->d, VT_E_FORMAT, "release policy: unknown key \"%s\" at %s (%s)",
                                k, c->path,
                                top          ? "the top level has allOf or anyOf, and version"
                                : depth == 2 ? "a group has allOf or anyOf, and authority "
                                               "at the top level's items"
                                             : "a group has allOf or anyOf");
                }
        }
        if (!list)
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s needs \"allOf\" or \"anyOf\"", c->path);
        if (!json_is_array(list) || json_array_size(list) == 0)
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s.%s must be a non-empty array", c->path,
                                   name);
        out->group = true;
        out->any = strcmp(name, "anyOf") == 0;
        out->kids = calloc(json_array_size(list), sizeof(*out->kids));
        if (!out->kids)
                return VT_E_NOMEM;
        json_array_foreach (list, i, x) {
                size_t old = path_push(c, name, i);
                out->n = i + 1; /* node_done frees what was parsed so far */
                e = parse_item(c, x, depth + 1, false, &out->kids[i]);
                if (e < 0)
                        return e;
                path_pop(c, old);
        }
        return 0;
}

static int parse_item(struct parse_ctx *c, const json_t *obj, unsigned depth, bool top,
                      struct rp_node *out)
{
        if (!json_is_object(obj))
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   top ? "release policy: %s must be a JSON object"
                                       : "release policy: %s must be an object (a condition or "
                                         "an allOf/anyOf group)",
                                   c->path);
        if (top || (!json_object_get(obj, "claim") &&
                    (json_object_get(obj, "allOf") || json_object_get(obj, "anyOf"))))
                return parse_group(c, obj, depth, top, out);
        return parse_condition(c, obj, out);
}

void vt_release_policy_free(struct vt_release_policy *p)
{
        if (!p)
                return;
        node_done(&p->root);
        json_decref(p->doc);
        free(p);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_release_policy *, vt_release_policy_free)

/* looks_like_rego is true if the first word of the text, past blank lines and "#" comments,
 * is one a Rego module starts with ("package"; "import" and "default" in fragments). Only
 * asked of text that is not JSON, to name the language in the error. */
static bool looks_like_rego(const char *s, size_t len)
{
        static const char *const words[] = {"package", "import", "default"};
        size_t i = 0;

        for (;;) {
                while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
                        i++;
                if (i < len && s[i] == '#') {
                        while (i < len && s[i] != '\n')
                                i++;
                        continue;
                }
                break;
        }
        for (size_t w = 0; w < ELEMENTSOF(words); w++) {
                size_t n = strlen(words[w]);
                if (len - i > n && memcmp(s + i, words[w], n) == 0 &&
                    (s[i + n] == ' ' || s[i + n] == '\t'))
                        return true;
        }
        return false;
}

int vt_release_policy_parse(const char *json, size_t len, struct vt_release_policy **ret,
                            struct vt_diag *d)
{
        _cleanup_(vt_release_policy_freep) struct vt_release_policy *p = NULL;
        struct parse_ctx c = {.d = d, .path = "$", .plen = 1};
        json_error_t je;
        int e;

        if (!json || !ret)
                return vt_diag_set(d, VT_E_INVAL, "release policy: no document");
        if (len > VT_RELEASE_MAX_BYTES)
                return vt_diag_set(d, VT_E_LIMIT, "release policy: larger than %u bytes",
                                   VT_RELEASE_MAX_BYTES);
        p = calloc(1, sizeof(*p));
        if (!p)
                return VT_E_NOMEM;
        p->doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
        if (!p->doc && looks_like_rego(json, len))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "release policy: this is a Rego policy (Trustee's language); "
                                   "veritee's release policies are JSON in the style of Azure Key "
                                   "Vault's: see docs/policy-release.md, \"From a Rego policy\", "
                                   "for the JSON equivalent");
        if (!p->doc)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "release policy: invalid JSON at line %d column %d: %s", je.line,
                                   je.column, je.text);
        if (json_is_object(p->doc)) {
                const char *ver = json_string_value(json_object_get(p->doc, "version"));
                c.loose = ver && strcmp(ver, VERSION_AZURE) == 0;
        }
        if ((e = parse_item(&c, p->doc, 1, true, &p->root)) < 0)
                return e;
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- evaluation ---- */

/* cmp_int_real orders an integer and a finite real exactly (a double cannot hold every
 * 64-bit integer, so neither is converted to the other's type). */
static int cmp_int_real(json_int_t i, double x)
{
        if (x >= 0x1p63)
                return -1;
        if (x < -0x1p63)
                return 1;
        json_int_t t = (json_int_t)x; /* towards zero, in range */
        if (i != t)
                return i < t ? -1 : 1;
        double frac = x - (double)t; /* exact */
        return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* num_cmp orders two numbers (-1, 0, 1); false if they are unordered (NaN). */
static bool num_cmp(const json_t *a, const json_t *b, int *ret)
{
        if (json_is_integer(a) && json_is_integer(b)) {
                json_int_t x = json_integer_value(a), y = json_integer_value(b);
                *ret = x < y ? -1 : x > y ? 1 : 0;
                return true;
        }
        if (json_is_real(a) && isnan(json_real_value(a)))
                return false;
        if (json_is_real(b) && isnan(json_real_value(b)))
                return false;
        if (json_is_integer(a)) {
                *ret = cmp_int_real(json_integer_value(a), json_real_value(b));
        } else if (json_is_integer(b)) {
                *ret = -cmp_int_real(json_integer_value(b), json_real_value(a));
        } else {
                double x = json_real_value(a), y = json_real_value(b);
                *ret = x < y ? -1 : x > y ? 1 : 0;
        }
        return true;
}

/* Why a node failed: the condition, the claim's value (NULL: missing), and how many
 * other alternatives of anyOf groups on the way failed as well. */
struct why {
        const struct rp_node *cond;
        const json_t *val;
        size_t others;
};

/* scalar_text gives the text a loose comparison sees: a string's content, an integer in
 * decimal, true, false, null; false for reals, arrays and objects. buf holds 32 bytes. */
static bool scalar_text(const json_t *v, char *buf, const char **ret, size_t *ret_len)
{
        const char *t;

        switch (json_typeof(v)) {
        case JSON_STRING:
                *ret = json_string_value(v);
                *ret_len = json_string_length(v);
                return true;
        case JSON_INTEGER:
                *ret_len =
                        (size_t)snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                *ret = buf;
                return true;
        case JSON_TRUE:
                t = "true";
                break;
        case JSON_FALSE:
                t = "false";
                break;
        case JSON_NULL:
                t = "null";
                break;
        default:
                return false;
        }
        *ret = t;
        *ret_len = strlen(t);
        return true;
}

/* same is json_equal, or, for a loose (Azure 1.0.0) condition, scalars equal by text:
 * "false" is false and "0" is 0, as Azure releases on both spellings. */
static bool same(const json_t *v, const json_t *arg, bool loose)
{
        char b1[32], b2[32];
        const char *s1, *s2;
        size_t l1, l2;

        if (loose && scalar_text(v, b1, &s1, &l1) && scalar_text(arg, b2, &s2, &l2))
                return l1 == l2 && memcmp(s1, s2, l1) == 0;
        return json_equal(v, arg);
}

/* authority_len is the length of an issuer URL without its trailing "/"s: Azure's
 * authorities are written with and without one. */
static size_t authority_len(const char *s, size_t n)
{
        while (n > 0 && s[n - 1] == '/')
                n--;
        return n;
}

/* authority_match is true if the token issuer iss is the authority a: equal but for
 * trailing "/"s, and for case up to the end of the host (scheme and host are
 * case-insensitive, the path is not). */
static bool authority_match(const json_t *iss, const json_t *a)
{
        const char *x = json_string_value(iss), *y = json_string_value(a);
        if (!x || !y)
                return false;
        size_t nx = authority_len(x, json_string_length(iss));
        size_t ny = authority_len(y, json_string_length(a));
        if (nx != ny)
                return false;
        const char *sep = strstr(y, "://");
        size_t host_end = sep ? (size_t)(sep - y) + 3 : 0;
        host_end += strcspn(y + host_end, "/?#");
        for (size_t i = 0; i < nx; i++) {
                char cx = x[i], cy = y[i];
                if (i < host_end) {
                        cx = (char)(cx >= 'A' && cx <= 'Z' ? cx + 32 : cx);
                        cy = (char)(cy >= 'A' && cy <= 'Z' ? cy + 32 : cy);
                }
                if (cx != cy)
                        return false;
        }
        return true;
}

static bool eval_cond(const struct rp_node *n, const json_t *claims, struct why *w)
{
        const json_t *v = claims, *x;
        bool ok = false;
        size_t i;
        int r;

        for (size_t t = 0; v && t < n->ntok; t++)
                v = n->dot ? (json_is_object(v) ? json_object_getn(v, n->tok[t].key, n->tok[t].len)
                                                : NULL)
                           : step(v, n->tok[t].key, n->tok[t].len);
        switch (n->op) {
        case OP_EXISTS:
                ok = (v != NULL) == json_is_true(n->arg);
                break;
        case OP_EQUALS:
                ok = v && same(v, n->arg, n->loose);
                break;
        case OP_NOT_EQUALS:
                /* a missing claim never satisfies a negative test */
                ok = v && !same(v, n->arg, n->loose);
                break;
        case OP_IN:
                json_array_foreach (n->arg, i, x)
                        if (v && same(v, x, n->loose)) {
                                ok = true;
                                break;
                        }
                break;
        case OP_GTE:
                ok = v && json_is_number(v) && num_cmp(v, n->arg, &r) && r >= 0;
                break;
        case OP_LTE:
                ok = v && json_is_number(v) && num_cmp(v, n->arg, &r) && r <= 0;
                break;
        default:
                break;
        }
        if (!ok)
                *w = (struct why){.cond = n, .val = v};
        return ok;
}

/* eval_node is true if n holds; else *w says why. Depth is bounded by the parser. */
static bool eval_node(const struct rp_node *n, const json_t *claims, struct why *w)
{
        struct why first = {0};

        if (!n->group)
                return eval_cond(n, claims, w);
        if (n->authority) {
                const json_t *iss = json_object_get(claims, "iss");
                if (!authority_match(iss, n->authority)) {
                        *w = (struct why){.cond = n, .val = iss};
                        return false;
                }
        }
        for (size_t i = 0; i < n->n; i++) {
                struct why wi;
                bool ok = eval_node(&n->kids[i], claims, &wi);
                if (!n->any && !ok) {
                        *w = wi;
                        return false;
                }
                if (n->any && ok)
                        return true;
                /* the first alternative, or rather the first whose authority is the
                 * token's issuer: its reason is the one that helps */
                if (n->any && (i == 0 || (first.cond->group && !wi.cond->group)))
                        first = wi;
        }
        if (!n->any)
                return true;
        /* anyOf: say why its first (issuer-matching) alternative failed */
        first.others += n->n - 1;
        *w = first;
        return false;
}

/* Values in messages are cut to this many bytes, so that the operator still shows. */
#define CLIP 160

static int clip_len(const char *s)
{
        size_t n = strlen(s);
        return (int)(n > CLIP ? CLIP : n);
}

static int fail(const struct why *w, struct vt_diag *d)
{
        char others[64] = "";

        if (!d)
                return VT_E_POLICY;
        if (w->others)
                snprintf(others, sizeof(others), " (and %zu other alternative%s failed)", w->others,
                         w->others == 1 ? "" : "s");
        if (w->cond->group) {
                /* an authority that is not the token's issuer */
                const char *want = json_string_value(w->cond->authority);
                const char *iss = json_string_value(w->val);
                if (!iss)
                        return vt_diag_set(d, VT_E_POLICY,
                                           "claim iss is missing or not a string, expected "
                                           "authority \"%.*s\"%s",
                                           clip_len(want), want, others);
                return vt_diag_set(d, VT_E_POLICY,
                                   "claim iss is \"%.*s\", expected authority \"%.*s\"%s",
                                   clip_len(iss), iss, clip_len(want), want, others);
        }
        const char *claim = w->cond->claim;
        if (!w->val)
                return vt_diag_set(d, VT_E_POLICY, "claim %.*s%s is missing%s", clip_len(claim),
                                   claim, strlen(claim) > CLIP ? "..." : "", others);
        /* the failure path may allocate: the values are printed as JSON */
        _cleanup_free_ char *have = json_dumps(w->val, JSON_ENCODE_ANY | JSON_COMPACT);
        _cleanup_free_ char *want = json_dumps(w->cond->arg, JSON_ENCODE_ANY | JSON_COMPACT);
        const char *h = have ? have : "(a value)", *x = want ? want : "(a value)";
        return vt_diag_set(d, VT_E_POLICY, "claim %.*s%s is %.*s%s, expected %s %.*s%s%s",
                           clip_len(claim), claim, strlen(claim) > CLIP ? "..." : "", clip_len(h),
                           h, strlen(h) > CLIP ? "..." : "", op_names[w->cond->op], clip_len(x), x,
                           strlen(x) > CLIP ? "..." : "", others);
}

int vt_release_policy_eval(const struct vt_release_policy *p, const json_t *claims,
                           struct vt_diag *d)
{
        struct why w = {0};

        if (!p || !claims)
                return vt_diag_set(d, VT_E_INVAL, "release policy: no policy or no claims");
        if (eval_node(&p->root, claims, &w))
                return 0;
        return fail(&w, d);
}
