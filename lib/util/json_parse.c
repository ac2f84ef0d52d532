/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON text -> jansson tree, accepting what json_loadb(JSON_REJECT_DUPLICATES) of jansson
 * 2.14 accepts and building the same tree, but scanning the buffer with a pointer: no call
 * per byte, integers read in place, strings without escapes handed to jansson straight from
 * the buffer. Containers are kept on an explicit stack (no recursion): a container joins its
 * parent when it opens, so an error only has the root to free.
 */
#define _GNU_SOURCE /* strtod_l */
#include "util/json_parse.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/macro.h"

/* Reals are read by strtod_l in the "C" locale (jansson swaps '.' for the locale's decimal
 * point; the value is the same). */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
        c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* The integers 0..255, one node each for every tree: Trustee's evidence carries its byte
 * arrays as arrays of them (thousands per attest body), and a node of its own for each
 * cost an allocation when built and a free when the tree went. Immortal, as jansson's
 * true, false and null are (refcount (size_t)-1: json_incref and json_decref leave it
 * alone), and never changed: nothing here calls json_integer_set on a parsed tree. */
#define SHARED_INTS 256
static json_t *shared_int[SHARED_INTS];
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void shared_init(void)
{
        for (int i = 0; i < SHARED_INTS; i++) {
                json_t *v = json_integer(i);
                if (!v)
                        return; /* the rest stay NULL: built per use, as before */
                v->refcount = (size_t)-1;
                shared_int[i] = v;
        }
}

static json_t *integer(json_int_t v)
{
        if (v >= 0 && v < SHARED_INTS) {
                pthread_once(&shared_once, shared_init);
                if (shared_int[v])
                        return shared_int[v];
        }
        return json_integer(v);
}

/* plain: a string byte that needs no further look (printable ASCII but '"' and '\\') */
static inline bool plain(uint8_t c)
{
        return (uint8_t)(c - 0x20) < 0x60 && c != '"' && c != '\\';
}

struct jp {
        const uint8_t *buf, *p, *end;
        struct vt_diag *d;
        /* the canonical arrays (NULL: not recorded), and the '[' of the array opened last */
        struct vt_json_spans *spans;
        const uint8_t *arr_open;
        /* decoded strings with escapes: [0] for the pending object key, [1] for a value */
        char *scratch[2];
        size_t scratch_cap[2];
};

static int fail(struct jp *s, const uint8_t *at, const char *what)
{
        return vt_diag_set(s->d, VT_E_FORMAT, "json: %s at byte %zu", what, (size_t)(at - s->buf));
}

static inline void skip_ws(struct jp *s)
{
        const uint8_t *p = s->p, *end = s->end;
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
                p++;
        s->p = p;
}

static inline bool is_digit(uint8_t c)
{
        return c >= '0' && c <= '9';
}

/* utf8_len: the length of the well-formed UTF-8 sequence at r (before end), or 0: no
 * continuation byte or 0xc0/0xc1 first, nothing overlong, no surrogate (U+D800..DFFF), nothing
 * past U+10FFFF (Unicode's table 3-7, which is what jansson's utf8_check_full accepts). */
static size_t utf8_len(const uint8_t *r, const uint8_t *end)
{
        size_t avail = (size_t)(end - r);
        uint8_t c = r[0], lo = 0x80, hi = 0xbf;
        size_t n;
        if (c < 0xc2)
                return 0;
        if (c <= 0xdf)
                n = 2;
        else if (c <= 0xef) {
                n = 3;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c <= 0xf4) {
                n = 4;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (avail < n || r[1] < lo || r[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (r[i] < 0x80 || r[i] > 0xbf)
                        return 0;
        return n;
}

static unsigned hex4(const uint8_t *q)
{
        return (unsigned)(vt_hex_digit(q[0]) << 12 | vt_hex_digit(q[1]) << 8 |
                          vt_hex_digit(q[2]) << 4 | vt_hex_digit(q[3]));
}

static size_t put_utf8(char *t, unsigned cp)
{
        if (cp < 0x80) {
                t[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                t[0] = (char)(0xc0 | cp >> 6);
                t[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                t[0] = (char)(0xe0 | cp >> 12);
                t[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                t[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        t[0] = (char)(0xf0 | cp >> 18);
        t[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        t[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        t[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* decode writes the string body [q, r) (escapes known to be well formed) into scratch slot,
 * checking the surrogates and refusing U+0000. */
static int decode(struct jp *s, const uint8_t *q, const uint8_t *r, int slot, bool key,
                  const char **ret, size_t *ret_len)
{
        size_t need = (size_t)(r - q) + 1; /* a decoded string is never longer */
        if (s->scratch_cap[slot] < need) {
                size_t cap = need < 256 ? 256 : need;
                char *n = realloc(s->scratch[slot], cap);
                if (!n)
                        return VT_E_NOMEM;
                s->scratch[slot] = n;
                s->scratch_cap[slot] = cap;
        }
        char *t = s->scratch[slot], *t0 = t;
        while (q < r) {
                if (*q != '\\') {
                        *t++ = (char)*q++;
                        continue;
                }
                const uint8_t *esc = q;
                uint8_t e = q[1];
                q += 2;
                switch (e) {
                case '"':
                case '\\':
                case '/':
                        *t++ = (char)e;
                        continue;
                case 'b':
                        *t++ = '\b';
                        continue;
                case 'f':
                        *t++ = '\f';
                        continue;
                case 'n':
                        *t++ = '\n';
                        continue;
                case 'r':
                        *t++ = '\r';
                        continue;
                case 't':
                        *t++ = '\t';
                        continue;
                default: /* 'u' */
                        break;
                }
                unsigned cp = hex4(q);
                q += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                        if (r - q < 6 || q[0] != '\\' || q[1] != 'u')
                                return fail(s, esc,
                                            "invalid Unicode: high surrogate without a low one");
                        unsigned lo = hex4(q + 2);
                        if (lo < 0xdc00 || lo > 0xdfff)
                                return fail(s, esc,
                                            "invalid Unicode: high surrogate without a low one");
                        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
                        q += 6;
                } else if (cp >= 0xdc00 && cp <= 0xdfff)
                        return fail(s, esc, "invalid Unicode: low surrogate without a high one");
                else if (cp == 0)
                        return fail(s, esc,
                                    key ? "NUL byte in object key not supported"
                                        : "\\u0000 is not allowed (NUL in a string)");
                t += put_utf8(t, cp);
        }
        *ret = t0;
        *ret_len = (size_t)(t - t0);
        return 0;
}

/* string reads the string at s->p ('"') into *ret (n bytes, not NUL-terminated: a view of
 * the buffer or of scratch slot), leaving s->p after its closing quote. */
static int string(struct jp *s, int slot, bool key, const char **ret, size_t *ret_len)
{
        const uint8_t *q = s->p + 1, *r = q, *end = s->end;
        bool esc = false;
        while (r < end && plain(*r))
                r++;
        if (r < end && *r == '"') { /* the usual case: printable ASCII, no escape */
                *ret = (const char *)q;
                *ret_len = (size_t)(r - q);
                s->p = r + 1;
                return 0;
        }
        for (;;) {
                if (r >= end)
                        return fail(s, r, "premature end of input in a string");
                uint8_t c = *r;
                if (plain(c))
                        r++;
                else if (c == '"')
                        break;
                else if (c == '\\') {
                        if (end - r < 2)
                                return fail(s, r, "premature end of input in a string");
                        uint8_t e = r[1];
                        if (e == 'u') {
                                if (end - r < 6)
                                        return fail(s, r, "premature end of input in a string");
                                for (int i = 2; i < 6; i++)
                                        if (vt_hex_digit(r[i]) < 0)
                                                return fail(s, r, "invalid escape");
                                r += 6;
                        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' ||
                                   e == 'n' || e == 'r' || e == 't')
                                r += 2;
                        else
                                return fail(s, r, "invalid escape");
                        esc = true;
                } else if (c < 0x20) {
                        char what[48];
                        snprintf(what, sizeof(what), "control character 0x%x in a string", c);
                        return fail(s, r, what);
                } else {
                        size_t n = utf8_len(r, end);
                        if (!n) {
                                char what[48];
                                snprintf(what, sizeof(what), "unable to decode byte 0x%x", c);
                                return fail(s, r, what);
                        }
                        r += n;
                }
        }
        s->p = r + 1;
        if (!esc) {
                *ret = (const char *)q;
                *ret_len = (size_t)(r - q);
                return 0;
        }
        return decode(s, q, r, slot, key, ret, ret_len);
}

/* number reads the number at s->p ('-' or a digit) into *ret. */
static int number(struct jp *s, json_t **ret)
{
        const uint8_t *st = s->p, *p = st, *end = s->end;
        bool neg = false, over = false;
        uint64_t m = 0;
        if (*p == '-') {
                neg = true;
                p++;
        }
        if (p >= end || !is_digit(*p))
                return fail(s, st, "invalid number: a digit must follow '-'");
        if (*p == '0') {
                p++;
                if (p < end && is_digit(*p))
                        return fail(s, st, "invalid number: leading zero");
        } else {
                /* up to 19 digits fit a uint64_t; more are too big for a json_int_t anyway */
                size_t nd = 0;
                do {
                        if (nd++ < 19)
                                m = m * 10 + (uint64_t)(*p - '0');
                        p++;
                } while (p < end && is_digit(*p));
                over = nd > 19 || m > (uint64_t)LLONG_MAX + (neg ? 1 : 0);
        }
        if (p >= end || (*p != '.' && *p != 'e' && *p != 'E')) {
                if (over) {
                        s->p = p;
                        return fail(s, st, neg ? "too big negative integer" : "too big integer");
                }
                json_int_t v = neg ? (m == (uint64_t)LLONG_MAX + 1 ? LLONG_MIN : -(json_int_t)m)
                                   : (json_int_t)m;
                *ret = integer(v);
                s->p = p;
                return *ret ? 0 : VT_E_NOMEM;
        }
        if (*p == '.') {
                p++;
                if (p >= end || !is_digit(*p))
                        return fail(s, st, "invalid number: a digit must follow '.'");
                while (p < end && is_digit(*p))
                        p++;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                if (p >= end || !is_digit(*p))
                        return fail(s, st, "invalid number: a digit must follow the exponent");
                while (p < end && is_digit(*p))
                        p++;
        }
        size_t n = (size_t)(p - st);
        char small[64];
        _cleanup_free_ char *big = NULL;
        char *txt = small;
        if (n >= sizeof(small)) {
                txt = big = malloc(n + 1);
                if (!big)
                        return VT_E_NOMEM;
        }
        memcpy(txt, st, n);
        txt[n] = 0;
        pthread_once(&c_locale_once, c_locale_init);
        if (!c_locale)
                return VT_E_NOMEM;
        char *e;
        errno = 0;
        double v = strtod_l(txt, &e, c_locale);
        if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
                return fail(s, st, "real number overflow");
        if (e != txt + n || !isfinite(v))
                return fail(s, st, "invalid number");
        *ret = json_real(v);
        s->p = p;
        return *ret ? 0 : VT_E_NOMEM;
}

/* Outcomes of small_ints: where the general parse goes on. */
enum run_end {
        RUN_NONE,  /* nothing read: the element at s->p is not one (general path) */
        RUN_VALUE, /* stopped after a ',': the next element is not one (value) */
        RUN_CLOSE, /* stopped before the array's ']', which follows its last element (next) */
};

/* keep_byte appends v to spans->bytes, growing it; false when that fails (nothing more is
 * recorded then: full). */
static bool keep_byte(struct vt_json_spans *sp, unsigned v)
{
        if (sp->nbytes == sp->bytes_cap) {
                size_t cap = sp->bytes_cap ? 2 * sp->bytes_cap : 4096;
                uint8_t *b = realloc(sp->bytes, cap);
                if (!b) {
                        sp->full = true;
                        return false;
                }
                sp->bytes = b;
                sp->bytes_cap = cap;
        }
        sp->bytes[sp->nbytes++] = (uint8_t)v;
        return true;
}

/* small_ints appends to the array a the run of integers 0..255 that starts at s->p, each
 * written in one to three digits and followed at once by ',' or ']': the bytes of evidence
 * in Trustee's wire form, thousands per attest body, without the per-value dispatch and
 * number()'s generality. It stops before an element written any other way (whitespace
 * before its ',', a sign, a leading zero, four digits, a fraction, a NUL after it: the
 * general path then reads or refuses it exactly as before) and says where it stopped, or
 * returns VT_E_NOMEM. The caller checked the nesting depth for a value in a. With keep
 * (a run that may be all of a canonical array), each value also goes to spans->bytes,
 * for span_add to record or the caller to drop; keep ends quietly when that store cannot
 * grow. */
static int small_ints(struct jp *s, json_t *a, bool keep)
{
        const uint8_t *p = s->p, *end = s->end;
        int r = RUN_NONE;
        pthread_once(&shared_once, shared_init);
        if (keep && s->spans->full)
                keep = false;
        while (p < end && is_digit(*p)) {
                const uint8_t *q = p;
                unsigned v = (unsigned)(*q++ - '0');
                if (v && q < end && is_digit(*q)) {
                        v = v * 10 + (unsigned)(*q++ - '0');
                        if (q < end && is_digit(*q))
                                v = v * 10 + (unsigned)(*q++ - '0');
                }
                if (q >= end || (*q != ',' && *q != ']') || v >= SHARED_INTS || !shared_int[v])
                        break;
                if (json_array_append_new(a, shared_int[v]) < 0)
                        return VT_E_NOMEM;
                if (keep)
                        keep = keep_byte(s->spans, v);
                if (*q == ']') {
                        p = q;
                        r = RUN_CLOSE;
                        break;
                }
                p = q + 1;
                r = RUN_VALUE;
        }
        s->p = p;
        return r;
}

/* span_add records the array a, whose text runs from the '[' at open to the ']' at close
 * and whose elements small_ints kept from boff on (to spans->nbytes): best effort (see
 * struct vt_json_spans); what it does not record it drops from spans->bytes. */
static void span_add(struct jp *s, const json_t *a, const uint8_t *open, const uint8_t *close,
                     size_t boff)
{
        struct vt_json_spans *sp = s->spans;
        size_t len = (size_t)(close - open) + 1;
        if (sp->full || len < VT_JSON_SPAN_MIN) {
                sp->nbytes = boff;
                return;
        }
        if (sp->n == sp->cap) {
                size_t cap = sp->cap ? 2 * sp->cap : 32;
                struct vt_json_span *v = realloc(sp->v, cap * sizeof(*v));
                if (!v) {
                        sp->full = true;
                        sp->nbytes = boff;
                        return;
                }
                sp->v = v;
                sp->cap = cap;
        }
        sp->v[sp->n++] =
                (struct vt_json_span){a, (size_t)(open - s->buf), len, boff, sp->nbytes - boff};
}

/* literal reads true, false or null at s->p. */
static int literal(struct jp *s, json_t **ret)
{
        const uint8_t *p = s->p;
        size_t avail = (size_t)(s->end - p);
        if (avail >= 4 && memcmp(p, "true", 4) == 0) {
                *ret = json_true();
                s->p = p + 4;
        } else if (avail >= 5 && memcmp(p, "false", 5) == 0) {
                *ret = json_false();
                s->p = p + 5;
        } else if (avail >= 4 && memcmp(p, "null", 4) == 0) {
                *ret = json_null();
                s->p = p + 4;
        } else
                return fail(s, p, "invalid token (a value expected)");
        return 0;
}

static int parse(struct jp *s, json_t **ret)
{
        json_t *root = NULL;
        json_t *small[32], **stack = small, **grown = NULL;
        size_t depth = 0, cap = ELEMENTSOF(small);
        const char *key = NULL;
        size_t klen = 0;
        int r;

        skip_ws(s);
        if (s->p >= s->end || (*s->p != '{' && *s->p != '['))
                return fail(s, s->p, "'[' or '{' expected");

value:
        /* a value: the first, an array element or an object member (key, klen) */
        {
                json_t *v = NULL, *top = depth ? stack[depth - 1] : NULL;
                bool open = false;
                if (depth >= VT_JSON_MAX_DEPTH) {
                        r = fail(s, s->p, "maximum parsing depth reached");
                        goto out;
                }
                if (s->p >= s->end) {
                        r = fail(s, s->p, "premature end of input: a value expected");
                        goto out;
                }
                if (top && is_digit(*s->p) && json_is_array(top)) {
                        /* a run from the byte after the '[' of the array opened last (so
                         * top, and nothing read in it yet) to its ']' is all of top, written
                         * canonically */
                        bool whole = s->spans && s->p == s->arr_open + 1;
                        size_t boff = whole ? s->spans->nbytes : 0;
                        r = small_ints(s, top, whole);
                        if (r < 0)
                                goto out;
                        if (r == RUN_CLOSE && whole)
                                span_add(s, top, s->arr_open, s->p, boff);
                        else if (whole)
                                s->spans->nbytes = boff; /* not all of top: dropped */
                        if (r == RUN_CLOSE)
                                goto next;
                        if (r == RUN_VALUE) {
                                skip_ws(s);
                                goto value;
                        }
                }
                switch (*s->p) {
                case '{':
                        v = json_object();
                        open = true;
                        break;
                case '[':
                        v = json_array();
                        open = true;
                        s->arr_open = s->p;
                        break;
                case '"': {
                        const char *str;
                        size_t n;
                        r = string(s, 1, false, &str, &n);
                        if (r < 0)
                                goto out;
                        v = json_stringn_nocheck(str, n);
                        break;
                }
                case 't':
                case 'f':
                case 'n':
                        r = literal(s, &v);
                        goto token;
                case '-':
                case '0' ... '9':
                        r = number(s, &v);
                token:
                        if (r < 0)
                                goto out;
                        /* jansson 2.14 reads a number or a literal one byte too far and puts
                         * that byte back; its stream cannot put back a NUL byte (NUL marks its
                         * one-character buffer as empty), so one NUL right after such a
                         * token is skipped, and json_loadb accepts "[1\0]" as [1]. */
                        if (s->p < s->end && *s->p == 0)
                                s->p++;
                        break;
                default:
                        r = fail(s, s->p, "invalid token (a value expected)");
                        goto out;
                }
                if (!v) {
                        r = VT_E_NOMEM;
                        goto out;
                }
                /* both adders take v, also when they fail */
                if (!top)
                        root = v;
                else if (json_is_array(top) ? json_array_append_new(top, v) < 0
                                            : json_object_setn_new_nocheck(top, key, klen, v) < 0) {
                        r = VT_E_NOMEM;
                        goto out;
                }
                if (!open)
                        goto next;
                if (depth == cap) {
                        json_t **n = realloc(grown, 2 * cap * sizeof(*n));
                        if (!n) {
                                r = VT_E_NOMEM;
                                goto out;
                        }
                        if (!grown)
                                memcpy(n, small, sizeof(small));
                        stack = grown = n;
                        cap *= 2;
                }
                stack[depth++] = v;
                s->p++;
                skip_ws(s);
                if (json_is_array(v)) {
                        if (s->p < s->end && *s->p == ']') {
                                s->p++;
                                depth--;
                                goto next;
                        }
                        goto value;
                }
                if (s->p < s->end && *s->p == '}') {
                        s->p++;
                        depth--;
                        goto next;
                }
                goto member;
        }

next:
        /* after a value: a separator, the end of its container, or the end of the text */
        if (!depth)
                goto done;
        skip_ws(s);
        if (s->p >= s->end) {
                r = fail(s, s->p, "premature end of input");
                goto out;
        }
        if (json_is_array(stack[depth - 1])) {
                if (*s->p == ',') {
                        s->p++;
                        skip_ws(s);
                        goto value;
                }
                if (*s->p != ']') {
                        r = fail(s, s->p, "',' or ']' expected");
                        goto out;
                }
        } else {
                if (*s->p == ',') {
                        s->p++;
                        skip_ws(s);
                        goto member;
                }
                if (*s->p != '}') {
                        r = fail(s, s->p, "',' or '}' expected");
                        goto out;
                }
        }
        s->p++;
        depth--;
        goto next;

member:
        /* an object member: "key" : value */
        if (s->p >= s->end || *s->p != '"') {
                r = fail(s, s->p, "string or '}' expected");
                goto out;
        }
        {
                const uint8_t *at = s->p;
                r = string(s, 0, true, &key, &klen);
                if (r < 0)
                        goto out;
                if (json_object_getn(stack[depth - 1], key, klen)) {
                        r = fail(s, at, "duplicate object key");
                        goto out;
                }
        }
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') {
                r = fail(s, s->p, "':' expected");
                goto out;
        }
        s->p++;
        skip_ws(s);
        goto value;

done:
        skip_ws(s);
        if (s->p != s->end) {
                r = fail(s, s->p, "end of file expected");
                goto out;
        }
        *ret = TAKE_PTR(root);
        r = 0;
out:
        free(grown);
        json_decref(root);
        return r;
}

static int parse_text(const uint8_t *buf, size_t len, json_t **ret, struct vt_json_spans *spans,
                      struct vt_diag *d)
{
        static const uint8_t empty[1];
        if (!buf)
                buf = empty, len = 0;
        struct jp s = {.buf = buf, .p = buf, .end = buf + len, .d = d, .spans = spans};
        int r = parse(&s, ret);
        free(s.scratch[0]);
        free(s.scratch[1]);
        if (r == VT_E_NOMEM)
                vt_diag_set(d, VT_E_NOMEM, "json: out of memory");
        return r;
}

int vt_json_parse(const uint8_t *buf, size_t len, json_t **ret, struct vt_diag *d)
{
        return parse_text(buf, len, ret, NULL, d);
}

static int span_cmp(const void *a, const void *b)
{
        uintptr_t x = (uintptr_t)((const struct vt_json_span *)a)->node;
        uintptr_t y = (uintptr_t)((const struct vt_json_span *)b)->node;
        return x < y ? -1 : x > y;
}

int vt_json_parse_spans(const uint8_t *buf, size_t len, json_t **ret, struct vt_json_spans *spans,
                        struct vt_diag *d)
{
        if (!spans)
                return vt_json_parse(buf, len, ret, d);
        *spans = (struct vt_json_spans){.text = buf};
        int r = parse_text(buf, len, ret, spans, d);
        if (r < 0)
                vt_json_spans_done(spans);
        else if (spans->n > 1)
                qsort(spans->v, spans->n, sizeof(*spans->v), span_cmp);
        return r;
}

const struct vt_json_span *vt_json_span_find(const struct vt_json_spans *spans, const json_t *node)
{
        if (!spans || !spans->n)
                return NULL;
        struct vt_json_span key = {.node = node};
        return bsearch(&key, spans->v, spans->n, sizeof(*spans->v), span_cmp);
}

bool vt_json_span_bytes(const struct vt_json_spans *spans, const json_t *a, uint8_t *out, size_t n)
{
        const struct vt_json_span *sp = vt_json_span_find(spans, a);
        if (!sp || sp->count != n)
                return false;
        if (n)
                memcpy(out, spans->bytes + sp->boff, n);
        return true;
}

void vt_json_spans_done(struct vt_json_spans *spans)
{
        if (!spans)
                return;
        free(spans->v);
        free(spans->bytes);
        *spans = (struct vt_json_spans){0};
}

bool vt_json_identical(const json_t *a, const json_t *b)
{
        if (json_typeof(a) != json_typeof(b))
                return false;
        switch (json_typeof(a)) {
        case JSON_OBJECT: {
                if (json_object_size(a) != json_object_size(b))
                        return false;
                void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
                for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
                                 ib = json_object_iter_next((json_t *)b, ib)) {
                        size_t n = json_object_iter_key_len(ia);
                        if (n != json_object_iter_key_len(ib) ||
                            memcmp(json_object_iter_key(ia), json_object_iter_key(ib), n) != 0 ||
                            !vt_json_identical(json_object_iter_value(ia),
                                               json_object_iter_value(ib)))
                                return false;
                }
                return !ia && !ib;
        }
        case JSON_ARRAY:
                if (json_array_size(a) != json_array_size(b))
                        return false;
                for (size_t i = 0; i < json_array_size(a); i++)
                        if (!vt_json_identical(json_array_get(a, i), json_array_get(b, i)))
                                return false;
                return true;
        case JSON_STRING:
                return json_string_length(a) == json_string_length(b) &&
                       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) ==
                               0;
        case JSON_INTEGER:
                return json_integer_value(a) == json_integer_value(b);
        case JSON_REAL: {
                double x = json_real_value(a), y = json_real_value(b);
                return memcmp(&x, &y, sizeof(x)) == 0;
        }
        default:
                return true;
        }
}
