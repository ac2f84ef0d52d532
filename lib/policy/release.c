/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Release policies (docs/policy-release.md): a tree of allOf/anyOf groups over conditions
 * on token claims. Parsed from untrusted JSON with fixed caps; unknown keys are rejected so
 * that a typo never silently widens who receives a secret. The parsed policy keeps the
 * document and borrows its operands from it; claim pointers are split into tokens once, so
 * that evaluation only reads and allocates nothing until it has a failure to print.
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

/* One reference token of a claim pointer, unescaped. */
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
        /* condition */
        const char *claim; /* the pointer as written, borrowed from the document */
        struct rp_token *tok;
        size_t ntok;
        enum rp_op op;
        const json_t *arg; /* borrowed from the document */
};

struct vt_release_policy {
        json_t *doc;
        struct rp_node root;
};

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

static int parse_claim(struct parse_ctx *c, const json_t *v, struct rp_node *out)
{
        const char *s = json_string_value(v);

        if (!s)
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s.claim must be a string (a JSON pointer)",
                                   c->path);
        size_t len = json_string_length(v), ntok = 0;
        if (s[0] != '/')
                return vt_diag_set(c->d, VT_E_FORMAT,
                                   "release policy: %s.claim \"%.64s\" must be a JSON pointer "
                                   "starting with \"/\"",
                                   c->path, s);
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
        const json_t *claim = NULL;
        const char *k;
        json_t *v;
        int e;

        out->group = false;
        out->op = _OP_MAX;
        json_object_foreach ((json_t *)obj, k, v) {
                enum rp_op op = 0;
                if (strcmp(k, "claim") == 0) {
                        claim = v;
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
                        if (!json_is_string(v) || strcmp(json_string_value(v), "1.0") != 0)
                                return vt_diag_set(c->d, VT_E_FORMAT,
                                                   "release policy: $.version must be \"1.0\"");
                } else {
                        return vt_diag_set(c->d, VT_E_FORMAT,
                                           "release policy: unknown key \"%s\" at %s (%s)", k,
                                           c->path,
                                           top ? "the top level has allOf or anyOf, and version"
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
        if (!p->doc)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "release policy: invalid JSON at line %d column %d: %s", je.line,
                                   je.column, je.text);
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

static bool eval_cond(const struct rp_node *n, const json_t *claims, struct why *w)
{
        const json_t *v = claims, *x;
        bool ok = false;
        size_t i;
        int r;

        for (size_t t = 0; v && t < n->ntok; t++)
                v = step(v, n->tok[t].key, n->tok[t].len);
        switch (n->op) {
        case OP_EXISTS:
                ok = (v != NULL) == json_is_true(n->arg);
                break;
        case OP_EQUALS:
                ok = v && json_equal(v, n->arg);
                break;
        case OP_NOT_EQUALS:
                /* a missing claim never satisfies a negative test */
                ok = v && !json_equal(v, n->arg);
                break;
        case OP_IN:
                json_array_foreach (n->arg, i, x)
                        if (v && json_equal(v, x)) {
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
        for (size_t i = 0; i < n->n; i++) {
                struct why wi;
                bool ok = eval_node(&n->kids[i], claims, &wi);
                if (!n->any && !ok) {
                        *w = wi;
                        return false;
                }
                if (n->any && ok)
                        return true;
                if (i == 0)
                        first = wi;
        }
        if (!n->any)
                return true;
        /* anyOf: say why its first alternative failed */
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
