/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 8785 JSON Canonicalization Scheme. The output is hashed and compared with what
 * other implementations hash (Trustee's attestation service: serde_json with
 * canon_json::CanonicalFormatter), so every byte matters: key order by UTF-16 code
 * units, ECMAScript string escaping and ECMAScript Number::toString for reals.
 *
 * Integers (json_integer) are printed as plain decimal. JCS proper would first turn
 * them into IEEE doubles, which changes integers beyond 2^53; canon_json prints i64
 * and u64 as they are, and so do we.
 *
 * Numbers go through snprintf/strtod, which assume the "C" LC_NUMERIC locale (the
 * default: nothing in veritee calls setlocale).
 */
#include "util/jcs.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

/* jansson parses at most JSON_PARSER_MAX_DEPTH (2048) levels; values built in code
 * could be deeper, or even cyclic. Canonical forms that deep are never legitimate. */
#define JCS_MAX_DEPTH 512

/* The output: a growing malloc'd buffer, or (sink set) a fixed one handed to sink whenever
 * the next piece does not fit, so that a digest of a large value needs no large buffer. */
struct jbuf {
        char *p;
        size_t len, cap;
        int (*sink)(void *arg, const void *p, size_t n);
        void *sink_arg;
        const struct vt_json_spans *spans; /* arrays whose parsed text is canonical, or NULL */
};

static int jb_flush(struct jbuf *b)
{
        int e = b->len ? b->sink(b->sink_arg, b->p, b->len) : 0;
        b->len = 0;
        return e < 0 ? VT_E_NOMEM : 0;
}

static int jb_reserve(struct jbuf *b, size_t n)
{
        if (n <= b->cap - b->len)
                return 0;
        if (b->sink) { /* n is at most 64 here (jb_put takes larger pieces past the buffer) */
                int e = jb_flush(b);
                return e < 0 ? e : n <= b->cap ? 0 : VT_E_LIMIT;
        }
        if (n > SIZE_MAX / 2 - b->len)
                return VT_E_NOMEM;
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
                cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
                return VT_E_NOMEM;
        b->p = p;
        b->cap = cap;
        return 0;
}

static int jb_put(struct jbuf *b, const void *p, size_t n)
{
        if (b->sink && n > b->cap - b->len) {
                int e = jb_flush(b);
                if (e < 0)
                        return e;
                if (n > b->cap) /* a long string's run: straight to the sink */
                        return b->sink(b->sink_arg, p, n) < 0 ? VT_E_NOMEM : 0;
        }
        int e = jb_reserve(b, n);
        if (e < 0)
                return e;
        if (n > 0)
                memcpy(b->p + b->len, p, n);
        b->len += n;
        return 0;
}

static int jb_putc(struct jbuf *b, char c)
{
        return jb_put(b, &c, 1);
}

static int jb_puts(struct jbuf *b, const char *s)
{
        return jb_put(b, s, strlen(s));
}

/* utf8_next decodes one scalar value at s[*i] (strict: shortest form, no surrogates,
 * at most U+10FFFF), advances *i and returns it, or returns -1. */
static int32_t utf8_next(const uint8_t *s, size_t len, size_t *i)
{
        size_t k = *i;
        uint8_t c = s[k];
        uint32_t cp, min;
        size_t n;

        if (c < 0x80) {
                *i = k + 1;
                return c;
        }
        if (c >= 0xc2 && c <= 0xdf) {
                n = 1;
                cp = c & 0x1f;
                min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 2;
                cp = c & 0x0f;
                min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 3;
                cp = c & 0x07;
                min = 0x10000;
        } else {
                return -1;
        }
        if (len - k - 1 < n)
                return -1;
        for (size_t j = 1; j <= n; j++) {
                if ((s[k + j] & 0xc0) != 0x80)
                        return -1;
                cp = cp << 6 | (s[k + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
        *i = k + 1 + n;
        return (int32_t)cp;
}

/* utf8_valid checks s; *ret_bytewise says whether s has no byte from 0xee,
 * so that it sorts among its like by bytes (cmp_members). */
static bool utf8_valid(const char *s, size_t len, bool *ret_bytewise)
{
        size_t i = 0;
        bool bw = true;
        while (i < len) {
                if ((uint8_t)s[i] < 0x80) /* ASCII, most of what is written: no call */
                        i++;
                else {
                        if ((uint8_t)s[i] >= 0xee)
                                bw = false;
                        if (utf8_next((const uint8_t *)s, len, &i) < 0)
                                return false;
                }
        }
        *ret_bytewise = bw;
        return true;
}

/* put_string writes s as an RFC 8785 (ECMAScript JSON.stringify) string literal:
 * only '"', '\\' and the C0 controls are escaped; everything else, '/' and DEL
 * included, is copied as UTF-8. */
static int put_string(struct jbuf *b, const char *s, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        size_t run = 0; /* start of the pending unescaped bytes */
        int e;

        if ((e = jb_putc(b, '"')) < 0)
                return e;
        /* printable ASCII but '"' and '\\' (names, hex, base64: nearly every string of
         * claims and evidence) goes out as it is, checked eight bytes at a time */
        if (vt_json_plain(s, len, true)) {
                if ((e = jb_put(b, s, len)) < 0)
                        return e;
                return jb_putc(b, '"');
        }
        /* one pass: a byte from 0x80 starts a sequence, checked (shortest form, no
         * surrogates) and copied as it is; an invalid one fails the whole text */
        for (size_t i = 0; i < len; i++) {
                uint8_t c = (uint8_t)s[i];
                char esc[6] = {'\\', 0, 0, 0, 0, 0};
                size_t n = 2;

                if (c >= 0x80) {
                        size_t k = i;
                        if (utf8_next((const uint8_t *)s, len, &k) < 0)
                                return VT_E_FORMAT;
                        i = k - 1;
                        continue;
                }
                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                switch (c) {
                case '"':
                case '\\':
                        esc[1] = (char)c;
                        break;
                case '\b':
                        esc[1] = 'b';
                        break;
                case '\f':
                        esc[1] = 'f';
                        break;
                case '\n':
                        esc[1] = 'n';
                        break;
                case '\r':
                        esc[1] = 'r';
                        break;
                case '\t':
                        esc[1] = 't';
                        break;
                default:
                        esc[1] = 'u';
                        esc[2] = '0';
                        esc[3] = '0';
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 0xf];
                        n = 6;
                        break;
                }
                if ((e = jb_put(b, s + run, i - run)) < 0 || (e = jb_put(b, esc, n)) < 0)
                        return e;
                run = i + 1;
        }
        if ((e = jb_put(b, s + run, len - run)) < 0)
                return e;
        return jb_putc(b, '"');
}

/* Object members, sorted before output. */
struct member {
        const char *key;
        size_t klen;
        const json_t *value;
        bool bytewise; /* no byte from 0xee in key (cmp_members) */
};

/* utf16_next returns the next UTF-16 code unit of the (valid UTF-8) string at *i,
 * using *pending for the low surrogate of a supplementary character. */
static uint16_t utf16_next(const char *s, size_t len, size_t *i, uint16_t *pending)
{
        if (*pending) {
                uint16_t u = *pending;
                *pending = 0;
                return u;
        }
        uint32_t cp = (uint32_t)utf8_next((const uint8_t *)s, len, i);
        if (cp < 0x10000)
                return (uint16_t)cp;
        cp -= 0x10000;
        *pending = (uint16_t)(0xdc00 | (cp & 0x3ff));
        return (uint16_t)(0xd800 | cp >> 10);
}

/* cmp_members orders keys by their UTF-16 code units (RFC 8785 3.2.3). This is the
 * order of code points except that U+10000 and above (surrogate pairs, 0xd800..)
 * sort before U+E000..U+FFFF, so plain UTF-8 byte order would be wrong for them. Two keys
 * with neither (no byte from 0xee: every lead byte of U+E000 and above is 0xee..0xf4) are
 * in code point order, which is UTF-8's byte order: compared as bytes. */
static int cmp_members(const void *pa, const void *pb)
{
        const struct member *a = pa, *b = pb;
        size_t i = 0, j = 0;
        uint16_t pa16 = 0, pb16 = 0;

        if (a->bytewise && b->bytewise) {
                int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);
                if (c != 0)
                        return c < 0 ? -1 : 1;
                return a->klen == b->klen ? 0 : a->klen < b->klen ? -1 : 1;
        }

        for (;;) {
                bool ea = i >= a->klen && !pa16, eb = j >= b->klen && !pb16;
                if (ea || eb)
                        return ea && eb ? 0 : ea ? -1 : 1;
                uint16_t ua = utf16_next(a->key, a->klen, &i, &pa16);
                uint16_t ub = utf16_next(b->key, b->klen, &j, &pb16);
                if (ua != ub)
                        return ua < ub ? -1 : 1;
        }
}

/* put_real writes a finite double the way ECMAScript Number::toString does: the
 * shortest digit string that reads back as the same double (the one closest to it
 * when there is a choice), in plain notation for 1e-6 <= |x| < 1e21, else as d.ddde±n. */
static int put_real(struct jbuf *b, double x)
{
        char buf[40], digits[20], out[48];
        int k = 0, exp10 = 0;

        if (!isfinite(x))
                return VT_E_FORMAT;
        if (x == 0) /* also -0 */
                return jb_putc(b, '0');

        for (int p = 1;; p++) {
                /* "%.*e" is correctly rounded: the closest p-digit decimal to x. Where the
                 * rounding interval of x is symmetric, that one reads back as x if any
                 * p-digit decimal does, so the first p that reads back gives the shortest
                 * and closest digits. The interval is lopsided only for powers of two;
                 * all 2098 of those were checked against Python's repr (shortest, closest)
                 * and need nothing more. 17 digits always read back. */
                if (p > 17)
                        return VT_E_FORMAT;
                int m = snprintf(buf, sizeof(buf), "%.*e", p - 1, fabs(x));
                if (m < 0 || (size_t)m >= sizeof(buf))
                        return VT_E_FORMAT;
                if (strtod(buf, NULL) != fabs(x))
                        continue;
                k = 0;
                for (const char *c = buf; *c && *c != 'e'; c++)
                        if (*c >= '0' && *c <= '9')
                                digits[k++] = *c;
                const char *ep = strchr(buf, 'e');
                if (!ep)
                        return VT_E_FORMAT;
                for (const char *c = ep + 2; *c; c++)
                        exp10 = exp10 * 10 + (*c - '0');
                if (ep[1] == '-')
                        exp10 = -exp10;
                break;
        }
        while (k > 1 && digits[k - 1] == '0')
                k--;

        /* x = 0.d1d2..dk * 10^n in the terms of ECMA-262 Number::toString */
        int n = exp10 + 1, o = 0;
        if (x < 0)
                out[o++] = '-';
        if (k <= n && n <= 21) {
                memcpy(out + o, digits, (size_t)k);
                o += k;
                for (int i = k; i < n; i++)
                        out[o++] = '0';
        } else if (0 < n && n <= 21) {
                memcpy(out + o, digits, (size_t)n);
                o += n;
                out[o++] = '.';
                memcpy(out + o, digits + n, (size_t)(k - n));
                o += k - n;
        } else if (-6 < n && n <= 0) {
                out[o++] = '0';
                out[o++] = '.';
                for (int i = 0; i < -n; i++)
                        out[o++] = '0';
                memcpy(out + o, digits, (size_t)k);
                o += k;
        } else {
                out[o++] = digits[0];
                if (k > 1) {
                        out[o++] = '.';
                        memcpy(out + o, digits + 1, (size_t)(k - 1));
                        o += k - 1;
                }
                int m = snprintf(out + o, sizeof(out) - (size_t)o, "e%c%d", n - 1 < 0 ? '-' : '+',
                                 abs(n - 1));
                if (m < 0 || (size_t)m >= sizeof(out) - (size_t)o)
                        return VT_E_FORMAT;
                o += m;
        }
        return jb_put(b, out, (size_t)o);
}

static int put_value(struct jbuf *b, const json_t *v, unsigned depth);

/* SMALL_OBJECT: objects of up to this many members (nearly all of a token's claims and
 * of evidence) keep their members on the stack and are sorted by insertion, in place:
 * no allocation and no qsort per object */
#define SMALL_OBJECT 16

static void sort_members(struct member *m, size_t n)
{
        if (n > SMALL_OBJECT) {
                qsort(m, n, sizeof(*m), cmp_members);
                return;
        }
        for (size_t i = 1; i < n; i++) {
                struct member x = m[i];
                size_t j = i;
                for (; j > 0 && cmp_members(&m[j - 1], &x) > 0; j--)
                        m[j] = m[j - 1];
                m[j] = x;
        }
}

static int put_object(struct jbuf *b, const json_t *v, unsigned depth)
{
        size_t n = json_object_size(v), i = 0;
        struct member few[SMALL_OBJECT];
        _cleanup_free_ struct member *many = NULL;
        struct member *m = few;
        const char *key;
        size_t klen;
        json_t *value;
        int e;

        if (n > SMALL_OBJECT) {
                m = many = calloc(n, sizeof(*m));
                if (!m)
                        return VT_E_NOMEM;
        }
        /* jansson's foreach macros take a non-const object; nothing is modified */
        json_object_keylen_foreach((json_t *)v, key, klen, value)
        {
                if (i == n)
                        return VT_E_FORMAT;
                bool bw;
                if (!utf8_valid(key, klen, &bw))
                        return VT_E_FORMAT;
                m[i++] = (struct member){key, klen, value, bw};
        }
        if (i != n)
                return VT_E_FORMAT;
        if (n > 1)
                sort_members(m, n);

        if ((e = jb_putc(b, '{')) < 0)
                return e;
        for (i = 0; i < n; i++) {
                if ((i > 0 && (e = jb_putc(b, ',')) < 0) ||
                    (e = put_string(b, m[i].key, m[i].klen)) < 0 || (e = jb_putc(b, ':')) < 0 ||
                    (e = put_value(b, m[i].value, depth + 1)) < 0)
                        return e;
        }
        return jb_putc(b, '}');
}

/* put_int writes v in decimal at the end of num (32 bytes) and returns its length: what
 * snprintf("%lld") writes, without its cost (evidence in Trustee's wire form is thousands
 * of integers, one per byte). */
static int put_int(char num[32], json_int_t v)
{
        /* in unsigned arithmetic, so that the most negative value has a magnitude */
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        int m = 0;
        do {
                num[31 - m++] = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                num[31 - m++] = '-';
        return m;
}

/* put_small writes v (below 1000: a byte of a byte array) in decimal at o and returns its
 * length, digit by digit without put_int's loop. */
static inline size_t put_small(char *o, unsigned v)
{
        if (v < 10) {
                o[0] = (char)('0' + v);
                return 1;
        }
        if (v < 100) {
                o[0] = (char)('0' + v / 10);
                o[1] = (char)('0' + v % 10);
                return 2;
        }
        o[0] = (char)('0' + v / 100);
        o[1] = (char)('0' + v / 10 % 10);
        o[2] = (char)('0' + v % 10);
        return 3;
}

static int put_value(struct jbuf *b, const json_t *v, unsigned depth)
{
        char num[32];
        int e, m;

        if (!v)
                return VT_E_INVAL;
        if (depth > JCS_MAX_DEPTH)
                return VT_E_LIMIT;
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return put_object(b, v, depth);
        case JSON_ARRAY:
                if (b->spans && depth + 1 <= JCS_MAX_DEPTH) {
                        /* its text as parsed is its canonical text (a non-empty array of
                         * integers at depth + 1, which the walk below writes the same) */
                        const struct vt_json_span *sp = vt_json_span_find(b->spans, v);
                        if (sp)
                                return jb_put(b, b->spans->text + sp->off, sp->len);
                }
                if ((e = jb_putc(b, '[')) < 0)
                        return e;
                for (size_t i = 0, n = json_array_size(v); i < n; i++) {
                        const json_t *x = json_array_get(v, i);
                        if (json_is_integer(x) && depth + 1 <= JCS_MAX_DEPTH) {
                                /* the usual element of evidence (a byte of a Trustee byte
                                 * array): written in place, its comma and digits at once */
                                if ((e = jb_reserve(b, 1 + sizeof(num))) < 0)
                                        return e;
                                if (i > 0)
                                        b->p[b->len++] = ',';
                                json_int_t iv = json_integer_value(x);
                                if (iv >= 0 && iv < 1000) {
                                        b->len += put_small(b->p + b->len, (unsigned)iv);
                                        continue;
                                }
                                m = put_int(num, iv);
                                memcpy(b->p + b->len, num + sizeof(num) - m, (size_t)m);
                                b->len += (size_t)m;
                        } else if ((i > 0 && (e = jb_putc(b, ',')) < 0) ||
                                   (e = put_value(b, x, depth + 1)) < 0) {
                                return e;
                        }
                }
                return jb_putc(b, ']');
        case JSON_STRING:
                return put_string(b, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                m = put_int(num, json_integer_value(v));
                return jb_put(b, num + sizeof(num) - m, (size_t)m);
        case JSON_REAL:
                return put_real(b, json_real_value(v));
        case JSON_TRUE:
                return jb_puts(b, "true");
        case JSON_FALSE:
                return jb_puts(b, "false");
        case JSON_NULL:
                return jb_puts(b, "null");
        }
        return VT_E_FORMAT;
}

int vt_jcs_write(const json_t *v, int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
        return vt_jcs_write_spans(v, NULL, sink, arg);
}

int vt_jcs_write_spans(const json_t *v, const struct vt_json_spans *spans,
                       int (*sink)(void *arg, const void *p, size_t n), void *arg)
{
        char buf[8192];
        struct jbuf b = {
                .p = buf, .cap = sizeof(buf), .sink = sink, .sink_arg = arg, .spans = spans};
        if (!v || !sink)
                return VT_E_INVAL;
        int e = put_value(&b, v, 0);
        if (e >= 0)
                e = jb_flush(&b);
        return e < 0 ? e : 0;
}

int vt_jcs_serialize(const json_t *v, char **ret, size_t *ret_len)
{
        struct jbuf b = {0};
        int e;

        if (!v || !ret)
                return VT_E_INVAL;
        e = put_value(&b, v, 0);
        if (e >= 0)
                e = jb_putc(&b, 0);
        if (e < 0) {
                free(b.p);
                return e;
        }
        *ret = b.p;
        if (ret_len)
                *ret_len = b.len - 1;
        return 0;
}
