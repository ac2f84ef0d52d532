/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TOML 1.0 subset for Confidential Containers init-data (see toml.h), parsed by
 * recursive descent straight into jansson values.
 *
 * Table rules, which TOML leaves to the parser to track: a table is created
 *  - implicitly, as a prefix of a [header] ([a.b] creates a), and may later be
 *    defined once by its own header;
 *  - by a [header], and is then defined: a second header for it is an error, and so
 *    are dotted keys from another section reaching into it;
 *  - by dotted keys (a.b = 1 creates a), and may then only be extended by dotted keys
 *    of the same section (the same header block or inline table); headers may pass
 *    through it to define sub-tables but may not define it;
 *  - as an inline table { ... }, which is complete as written: nothing may add to it.
 * Every table of the first three kinds is recorded in a small pointer-keyed hash;
 * an object that is not recorded is an inline table.
 *
 * Deliberately refused: dates and times, arrays of tables, inf and nan, NUL in
 * strings and keys (C consumers of the result would silently truncate there).
 */
#include "util/toml.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"

#define TOML_MAX_BYTES  (256u * 1024u)
#define TOML_MAX_DEPTH  16
#define TOML_MAX_NUMBER 128 /* characters in one number */

enum tbl_kind {
        TBL_IMPLICIT = 1,
        TBL_HEADER,
        TBL_DOTTED,
};

struct tbl {
        const json_t *obj; /* NULL: free slot */
        enum tbl_kind kind;
        unsigned section; /* TBL_DOTTED: the section whose dotted keys created it */
};

struct parser {
        const char *s;
        size_t len, pos;
        struct vt_diag *d;
        struct tbl *tbl; /* open addressing, linear probing, cap a power of two */
        size_t tbl_cap, tbl_n;
        unsigned sections; /* sections started so far: the root, headers, inline tables */
};

/* A dotted key: each part is NUL-terminated (NUL inside a key is refused). */
struct keypath {
        char *part[TOML_MAX_DEPTH];
        size_t n;
        size_t pos; /* where the key starts, for messages */
};

static void keypath_clear(struct keypath *k)
{
        for (size_t i = 0; i < k->n; i++)
                free(k->part[i]);
        k->n = 0;
}

struct sbuf {
        char *p;
        size_t len, cap;
};

static void sbuf_free(struct sbuf *b)
{
        free(b->p);
        b->p = NULL;
}

static int sbuf_put(struct sbuf *b, const char *p, size_t n)
{
        /* +1 keeps room for a terminating NUL */
        if (n + 1 > b->cap - b->len) {
                size_t cap = b->cap ? b->cap : 64;
                while (cap - b->len < n + 1) {
                        if (cap > SIZE_MAX / 2)
                                return VT_E_NOMEM;
                        cap *= 2;
                }
                char *q = realloc(b->p, cap);
                if (!q)
                        return VT_E_NOMEM;
                b->p = q;
                b->cap = cap;
        }
        memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = 0;
        return 0;
}

static int sbuf_putc(struct sbuf *b, char c)
{
        return sbuf_put(b, &c, 1);
}

/* ---- messages ---- */

static unsigned line_of(const struct parser *p, size_t at)
{
        unsigned line = 1;
        for (size_t i = 0; i < at && i < p->len; i++)
                if (p->s[i] == '\n')
                        line++;
        return line;
}

__attribute__((format(printf, 4, 5))) static int perr(const struct parser *p, size_t at, int err,
                                                      const char *fmt, ...)
{
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return vt_diag_set(p->d, err, "toml: line %u: %s", line_of(p, at), msg);
}

static size_t newline_len(const struct parser *p);

/* what names the character at pos for a message ("'x'", "end of line", ...). */
static const char *what(const struct parser *p, char buf[16])
{
        if (p->pos >= p->len)
                return "end of input";
        unsigned char c = (unsigned char)p->s[p->pos];
        if (newline_len(p) > 0)
                return "end of line";
        if (c > 0x20 && c < 0x7f)
                snprintf(buf, 16, "'%c'", c);
        else
                snprintf(buf, 16, "byte 0x%02x", c);
        return buf;
}

/* keyname copies key into buf for a message: at most 40 bytes (cut at a UTF-8
 * boundary), control characters shown as '?'. */
static const char *keyname(const char *key, char buf[48])
{
        size_t n = strlen(key), i;

        if (n > 40) {
                n = 40;
                while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
                        n--;
        }
        for (i = 0; i < n; i++)
                buf[i] = (unsigned char)key[i] < 0x20 || key[i] == 0x7f ? '?' : key[i];
        if (n < strlen(key)) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = 0;
        return buf;
}

/* ---- table bookkeeping ---- */

static size_t tbl_slot(const struct parser *p, const json_t *obj)
{
        uint64_t h = (uint64_t)(uintptr_t)obj;
        h ^= h >> 29;
        h *= 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
        size_t i = (size_t)h & (p->tbl_cap - 1);
        while (p->tbl[i].obj && p->tbl[i].obj != obj)
                i = (i + 1) & (p->tbl_cap - 1);
        return i;
}

static struct tbl *tbl_find(const struct parser *p, const json_t *obj)
{
        if (p->tbl_cap == 0)
                return NULL;
        size_t i = tbl_slot(p, obj);
        return p->tbl[i].obj ? &p->tbl[i] : NULL;
}

static int tbl_add(struct parser *p, const json_t *obj, enum tbl_kind kind, unsigned section)
{
        if (2 * (p->tbl_n + 1) > p->tbl_cap) {
                size_t cap = p->tbl_cap ? 2 * p->tbl_cap : 64;
                struct tbl *old = p->tbl;
                size_t old_cap = p->tbl_cap;
                p->tbl = calloc(cap, sizeof(*p->tbl));
                if (!p->tbl) {
                        p->tbl = old;
                        return VT_E_NOMEM;
                }
                p->tbl_cap = cap;
                for (size_t i = 0; i < old_cap; i++)
                        if (old[i].obj)
                                p->tbl[tbl_slot(p, old[i].obj)] = old[i];
                free(old);
        }
        p->tbl[tbl_slot(p, obj)] = (struct tbl){obj, kind, section};
        p->tbl_n++;
        return 0;
}

/* ---- lexical helpers ---- */

static int peek(const struct parser *p, size_t off)
{
        return p->pos + off < p->len ? (unsigned char)p->s[p->pos + off] : -1;
}

static bool is_bare(int c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

static bool is_control(int c)
{
        return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* newline_len returns 1 for "\n", 2 for "\r\n" at pos, else 0. */
static size_t newline_len(const struct parser *p)
{
        if (peek(p, 0) == '\n')
                return 1;
        if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
                return 2;
        return 0;
}

static void skip_ws(struct parser *p)
{
        while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
                p->pos++;
}

/* skip_comment skips a '#' comment up to (not including) the end of its line. */
static int skip_comment(struct parser *p)
{
        if (peek(p, 0) != '#')
                return 0;
        while (p->pos < p->len && newline_len(p) == 0) {
                if (is_control(peek(p, 0)))
                        return perr(p, p->pos, VT_E_FORMAT, "control character 0x%02x in comment",
                                    peek(p, 0));
                p->pos++;
        }
        return 0;
}

/* expect_eol accepts optional whitespace and comment, then a newline or the end. */
static int expect_eol(struct parser *p)
{
        char buf[16];
        int e;

        skip_ws(p);
        if ((e = skip_comment(p)) < 0)
                return e;
        if (p->pos >= p->len)
                return 0;
        size_t n = newline_len(p);
        if (n == 0)
                return perr(p, p->pos, VT_E_FORMAT, "expected end of line, found %s", what(p, buf));
        p->pos += n;
        return 0;
}

/* skip_blank skips whitespace, comments and newlines (inside arrays). */
static int skip_blank(struct parser *p)
{
        for (;;) {
                int e;
                skip_ws(p);
                if ((e = skip_comment(p)) < 0)
                        return e;
                size_t n = newline_len(p);
                if (n == 0)
                        return 0;
                p->pos += n;
        }
}

/* utf8_bad returns the offset of the first byte of s that is not part of valid UTF-8
 * (shortest form, no surrogates, at most U+10FFFF), or len. */
static size_t utf8_bad(const unsigned char *s, size_t len)
{
        size_t i = 0;
        while (i < len) {
                unsigned char c = s[i];
                size_t n;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        cp = c & 0x07;
                } else {
                        return i;
                }
                if (len - i - 1 < n)
                        return i;
                for (size_t j = 1; j <= n; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return i;
                        cp = cp << 6 | (s[i + j] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return i;
                i += n + 1;
        }
        return len;
}

static int put_utf8(struct sbuf *b, uint32_t cp)
{
        char u[4];
        size_t n;
        if (cp < 0x80) {
                u[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | cp >> 6);
                u[1] = (char)(0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                u[0] = (char)(0xe0 | cp >> 12);
                u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                u[2] = (char)(0x80 | (cp & 0x3f));
                n = 3;
        } else {
                u[0] = (char)(0xf0 | cp >> 18);
                u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
                u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
                u[3] = (char)(0x80 | (cp & 0x3f));
                n = 4;
        }
        return sbuf_put(b, u, n);
}

/* hexval: a hex digit's value, 99 for none (compared against a base below) */
static int hexval(int c)
{
        int v = vt_hex_digit(c);
        return v < 0 ? 99 : v;
}

/* ---- strings ---- */

/* parse_escape reads the escape sequence after a backslash (pos at the backslash). */
static int parse_escape(struct parser *p, struct sbuf *b)
{
        size_t at = p->pos;
        int c = peek(p, 1), e;
        char buf[16];

        p->pos += 2;
        switch (c) {
        case 'b':
                return sbuf_putc(b, '\b');
        case 't':
                return sbuf_putc(b, '\t');
        case 'n':
                return sbuf_putc(b, '\n');
        case 'f':
                return sbuf_putc(b, '\f');
        case 'r':
                return sbuf_putc(b, '\r');
        case '"':
                return sbuf_putc(b, '"');
        case '\\':
                return sbuf_putc(b, '\\');
        case 'u':
        case 'U': {
                size_t n = c == 'u' ? 4 : 8;
                uint32_t cp = 0;
                for (size_t i = 0; i < n; i++) {
                        int h = hexval(peek(p, 0));
                        if (h > 15)
                                return perr(p, at, VT_E_FORMAT, "\\%c escape needs %zu hex digits",
                                            c, n);
                        cp = cp << 4 | (uint32_t)h;
                        p->pos++;
                }
                if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return perr(p, at, VT_E_FORMAT, "\\%c%0*X is not a Unicode scalar value", c,
                                    (int)n, cp);
                if (cp == 0)
                        return perr(p, at, VT_E_FORMAT, "NUL character in string");
                if ((e = put_utf8(b, cp)) < 0)
                        return e;
                return 0;
        }
        default:
                p->pos = at + 1;
                return perr(p, at, VT_E_FORMAT, "invalid escape: backslash followed by %s",
                            what(p, buf));
        }
}

/* parse_string reads a basic ("), literal ('), multi-line basic (""") or multi-line
 * literal (''') string at pos into b. */
static int parse_string(struct parser *p, struct sbuf *b)
{
        size_t start = p->pos;
        int q = peek(p, 0), e;
        bool ml = peek(p, 1) == q && peek(p, 2) == q;
        bool basic = q == '"';

        /* an empty string: "" or '' */
        if (!ml && peek(p, 1) == q) {
                p->pos += 2;
                return sbuf_put(b, "", 0);
        }
        p->pos += ml ? 3 : 1;
        if (ml) /* a newline right after the opening delimiter is not content */
                p->pos += newline_len(p);
        if ((e = sbuf_put(b, "", 0)) < 0)
                return e;
        for (;;) {
                if (p->pos >= p->len)
                        return perr(p, start, VT_E_FORMAT, "unterminated string");
                int c = peek(p, 0);
                if (c == q) {
                        if (!ml) {
                                p->pos++;
                                return 0;
                        }
                        /* up to two quotes may precede the closing delimiter */
                        size_t n = 0;
                        while (peek(p, n) == q)
                                n++;
                        if (n >= 3) {
                                if (n > 5)
                                        return perr(p, p->pos, VT_E_FORMAT,
                                                    "too many quotes at the end of a string");
                                p->pos += n;
                                return sbuf_put(b, q == '"' ? "\"\"" : "''", n - 3);
                        }
                        if ((e = sbuf_put(b, p->s + p->pos, n)) < 0)
                                return e;
                        p->pos += n;
                        continue;
                }
                if (c == '\\' && basic) {
                        if (ml) {
                                /* line-ending backslash: trim it, the newline and all
                                 * whitespace and newlines up to the next content */
                                size_t k = 1;
                                while (peek(p, k) == ' ' || peek(p, k) == '\t')
                                        k++;
                                if (peek(p, k) == '\n' ||
                                    (peek(p, k) == '\r' && peek(p, k + 1) == '\n')) {
                                        p->pos += k;
                                        while (peek(p, 0) == ' ' || peek(p, 0) == '\t' ||
                                               newline_len(p) > 0)
                                                p->pos += newline_len(p) ? newline_len(p) : 1;
                                        continue;
                                }
                        }
                        if ((e = parse_escape(p, b)) < 0)
                                return e;
                        continue;
                }
                size_t nl = newline_len(p);
                if (nl > 0) {
                        if (!ml)
                                return perr(p, start, VT_E_FORMAT, "unterminated string");
                        /* "\r\n" becomes "\n" (the Rust toml crate folds CRLF too) */
                        if ((e = sbuf_putc(b, '\n')) < 0)
                                return e;
                        p->pos += nl;
                        continue;
                }
                if (c == 0)
                        return perr(p, p->pos, VT_E_FORMAT, "NUL character in string");
                if (is_control(c))
                        return perr(p, p->pos, VT_E_FORMAT, "control character 0x%02x in string",
                                    c);
                /* copy a run of plain bytes (UTF-8 was checked up front) */
                size_t n = 1;
                while (p->pos + n < p->len) {
                        int d = (unsigned char)p->s[p->pos + n];
                        if (d == q || d == '\\' || d == '\r' || d == '\n' || is_control(d))
                                break;
                        n++;
                }
                if ((e = sbuf_put(b, p->s + p->pos, n)) < 0)
                        return e;
                p->pos += n;
        }
}

/* ---- keys ---- */

static int parse_simple_key(struct parser *p, char **ret)
{
        _cleanup_(sbuf_free) struct sbuf b = {0};
        size_t start = p->pos;
        char buf[16];
        int c = peek(p, 0), e;

        if (c == '"' || c == '\'') {
                if (peek(p, 1) == c && peek(p, 2) == c)
                        return perr(p, start, VT_E_FORMAT, "a multi-line string cannot be a key");
                if ((e = parse_string(p, &b)) < 0)
                        return e;
                if (strlen(b.p) != b.len)
                        return perr(p, start, VT_E_FORMAT, "NUL character in key");
        } else if (is_bare(c)) {
                size_t n = 0;
                while (is_bare(peek(p, n)))
                        n++;
                if ((e = sbuf_put(&b, p->s + p->pos, n)) < 0)
                        return e;
                p->pos += n;
        } else {
                return perr(p, start, VT_E_FORMAT, "expected a key, found %s", what(p, buf));
        }
        *ret = TAKE_PTR(b.p);
        return 0;
}

/* parse_key reads a possibly dotted key: a . "b.c" . 'd' */
static int parse_key(struct parser *p, struct keypath *k)
{
        k->pos = p->pos;
        for (;;) {
                int e;
                if (k->n == TOML_MAX_DEPTH)
                        return perr(p, k->pos, VT_E_LIMIT, "key has more than %d parts",
                                    TOML_MAX_DEPTH);
                if ((e = parse_simple_key(p, &k->part[k->n])) < 0)
                        return e;
                k->n++;
                skip_ws(p);
                if (peek(p, 0) != '.')
                        return 0;
                p->pos++;
                skip_ws(p);
        }
}

/* ---- numbers ---- */

/* digits_us consumes digits of base with single underscores between them; returns the
 * number of digits, or -1 for a misplaced underscore. */
static long digits_us(const char *t, size_t n, size_t *i, int base)
{
        long count = 0;
        while (*i < n) {
                if (t[*i] == '_') {
                        if (count == 0 || *i + 1 >= n || hexval(t[*i + 1]) >= base)
                                return -1;
                        (*i)++;
                        continue;
                }
                if (hexval(t[*i]) >= base)
                        break;
                count++;
                (*i)++;
        }
        return count;
}

static int parse_number(struct parser *p, json_t **ret)
{
        size_t start = p->pos, n = 0, i = 0;
        const char *t = p->s + p->pos;
        bool neg = false;

        /* dates (1979-05-27, 1979-05-27T07:32:00Z) and times (07:32:00) */
        if ((hexval(peek(p, 0)) < 10 && hexval(peek(p, 1)) < 10 && hexval(peek(p, 2)) < 10 &&
             hexval(peek(p, 3)) < 10 && peek(p, 4) == '-') ||
            (hexval(peek(p, 0)) < 10 && hexval(peek(p, 1)) < 10 && peek(p, 2) == ':'))
                return perr(p, start, VT_E_UNSUPPORTED,
                            "unsupported: dates and times are not accepted");

        while (is_bare(peek(p, n)) || peek(p, n) == '+' || peek(p, n) == '.')
                n++;
        if (n > TOML_MAX_NUMBER)
                return perr(p, start, VT_E_FORMAT, "number longer than %d characters",
                            TOML_MAX_NUMBER);
        p->pos += n;

        if (t[0] == '+' || t[0] == '-') {
                neg = t[0] == '-';
                i = 1;
        }
        if ((n - i == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)))
                return perr(p, start, VT_E_UNSUPPORTED, "unsupported: inf and nan");

        int base = 10;
        if (n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
                if (i > 0)
                        return perr(p, start, VT_E_FORMAT,
                                    "a sign is not allowed on hex, octal or binary integers");
                base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
                i += 2;
        }
        size_t ds = i;
        long nd = digits_us(t, n, &i, base);
        if (nd <= 0)
                goto bad;
        bool is_float = false;
        if (base == 10) {
                if (t[ds] == '0' && nd > 1)
                        return perr(p, start, VT_E_FORMAT, "leading zero in number '%.*s'", (int)n,
                                    t);
                if (i < n && t[i] == '.') {
                        i++;
                        if (digits_us(t, n, &i, 10) <= 0)
                                goto bad;
                        is_float = true;
                }
                if (i < n && (t[i] == 'e' || t[i] == 'E')) {
                        i++;
                        if (i < n && (t[i] == '+' || t[i] == '-'))
                                i++;
                        if (digits_us(t, n, &i, 10) <= 0)
                                goto bad;
                        is_float = true;
                }
        }
        if (i != n)
                goto bad;

        if (is_float) {
                char buf[TOML_MAX_NUMBER + 1];
                size_t k = 0;
                for (size_t j = 0; j < n; j++)
                        if (t[j] != '_')
                                buf[k++] = t[j];
                buf[k] = 0;
                /* assumes the "C" LC_NUMERIC locale (veritee never calls setlocale) */
                char *end = NULL;
                double v = strtod(buf, &end);
                if (end != buf + k)
                        goto bad;
                if (!isfinite(v))
                        return perr(p, start, VT_E_FORMAT, "float '%.*s' is out of range", (int)n,
                                    t);
                *ret = json_real(v);
                return *ret ? 0 : VT_E_NOMEM;
        }

        uint64_t v = 0;
        for (size_t j = ds; j < n; j++) {
                if (t[j] == '_')
                        continue;
                uint64_t dv = (uint64_t)hexval(t[j]);
                if (v > (UINT64_MAX - dv) / (uint64_t)base)
                        goto range;
                v = v * (uint64_t)base + dv;
        }
        if (v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
                goto range;
        json_int_t iv =
                neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v) : (json_int_t)v;
        *ret = json_integer(iv);
        return *ret ? 0 : VT_E_NOMEM;

range:
        return perr(p, start, VT_E_FORMAT, "integer '%.*s' is out of range (64-bit signed)", (int)n,
                    t);
bad:
        return perr(p, start, VT_E_FORMAT, "invalid number '%.*s'", (int)n, t);
}

/* ---- values ---- */

static int parse_value(struct parser *p, size_t depth, json_t **ret);
static int insert_kv(struct parser *p, json_t *table, size_t depth, const struct keypath *k,
                     json_t *value, unsigned section);

static int parse_array(struct parser *p, size_t depth, json_t **ret)
{
        _cleanup_json_ json_t *arr = json_array();
        size_t start = p->pos;
        char buf[16];
        int e;

        if (!arr)
                return VT_E_NOMEM;
        p->pos++; /* [ */
        for (;;) {
                if ((e = skip_blank(p)) < 0)
                        return e;
                if (peek(p, 0) == ']')
                        break;
                _cleanup_json_ json_t *v = NULL;
                if ((e = parse_value(p, depth + 1, &v)) < 0)
                        return e;
                if (json_array_append(arr, v) < 0)
                        return VT_E_NOMEM;
                if ((e = skip_blank(p)) < 0)
                        return e;
                if (peek(p, 0) == ',') {
                        p->pos++;
                        continue;
                }
                if (peek(p, 0) == ']')
                        break;
                if (p->pos >= p->len)
                        return perr(p, start, VT_E_FORMAT, "unterminated array");
                return perr(p, p->pos, VT_E_FORMAT, "expected ',' or ']' in array, found %s",
                            what(p, buf));
        }
        p->pos++; /* ] */
        *ret = TAKE_PTR(arr);
        return 0;
}

static int parse_inline_table(struct parser *p, size_t depth, json_t **ret)
{
        _cleanup_json_ json_t *obj = json_object();
        unsigned section = ++p->sections;
        char buf[16];
        int e;

        if (!obj)
                return VT_E_NOMEM;
        p->pos++; /* { */
        skip_ws(p);
        if (peek(p, 0) == '}') {
                p->pos++;
                *ret = TAKE_PTR(obj);
                return 0;
        }
        for (;;) {
                _cleanup_(keypath_clear) struct keypath k = {0};
                _cleanup_json_ json_t *v = NULL;

                skip_ws(p);
                if (peek(p, 0) == '}')
                        return perr(p, p->pos, VT_E_FORMAT, "trailing comma in inline table");
                if ((e = parse_key(p, &k)) < 0)
                        return e;
                if (peek(p, 0) != '=')
                        return perr(p, p->pos, VT_E_FORMAT, "expected '=' after key, found %s",
                                    what(p, buf));
                p->pos++;
                skip_ws(p);
                if ((e = parse_value(p, depth + k.n, &v)) < 0 ||
                    (e = insert_kv(p, obj, depth, &k, v, section)) < 0)
                        return e;
                skip_ws(p);
                if (peek(p, 0) == ',') {
                        p->pos++;
                        continue;
                }
                if (peek(p, 0) == '}')
                        break;
                return perr(p, p->pos, VT_E_FORMAT,
                            "expected ',' or '}' in inline table (on one line), found %s",
                            what(p, buf));
        }
        p->pos++; /* } */
        *ret = TAKE_PTR(obj);
        return 0;
}

/* parse_value reads one value at pos; depth is the nesting level it would have as a
 * table or array (the root table is 0). */
static int parse_value(struct parser *p, size_t depth, json_t **ret)
{
        char buf[16];
        int c = peek(p, 0);

        switch (c) {
        case '"':
        case '\'': {
                _cleanup_(sbuf_free) struct sbuf b = {0};
                int e = parse_string(p, &b);
                if (e < 0)
                        return e;
                *ret = json_stringn(b.p, b.len);
                return *ret ? 0 : VT_E_NOMEM;
        }
        case '[':
        case '{':
                if (depth > TOML_MAX_DEPTH)
                        return perr(p, p->pos, VT_E_LIMIT, "nesting deeper than %d",
                                    TOML_MAX_DEPTH);
                return c == '[' ? parse_array(p, depth, ret) : parse_inline_table(p, depth, ret);
        case 't':
        case 'f': {
                const char *w = c == 't' ? "true" : "false";
                size_t n = strlen(w);
                if (p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0 &&
                    !is_bare(peek(p, n))) {
                        p->pos += n;
                        *ret = json_boolean(c == 't');
                        return 0;
                }
                break;
        }
        case 'i':
        case 'n':
                if (p->len - p->pos >= 3 &&
                    (memcmp(p->s + p->pos, "inf", 3) == 0 || memcmp(p->s + p->pos, "nan", 3) == 0))
                        return perr(p, p->pos, VT_E_UNSUPPORTED, "unsupported: inf and nan");
                break;
        default:
                if (c == '+' || c == '-' || (c >= '0' && c <= '9'))
                        return parse_number(p, ret);
                break;
        }
        return perr(p, p->pos, VT_E_FORMAT, "expected a value, found %s", what(p, buf));
}

/* ---- tables ---- */

/* insert_kv stores value (borrowed) under the dotted key k in table (at depth), creating
 * the tables of the key's prefix as dotted-key tables of section. */
static int insert_kv(struct parser *p, json_t *table, size_t depth, const struct keypath *k,
                     json_t *value, unsigned section)
{
        char buf[48];
        json_t *t = table;
        int e;

        if (depth + k->n - 1 > TOML_MAX_DEPTH)
                return perr(p, k->pos, VT_E_LIMIT, "nesting deeper than %d", TOML_MAX_DEPTH);
        for (size_t i = 0; i + 1 < k->n; i++) {
                json_t *child = json_object_get(t, k->part[i]);
                if (!child) {
                        child = json_object();
                        if ((e = vt_json_set(t, k->part[i], child)) < 0 ||
                            (e = tbl_add(p, child, TBL_DOTTED, section)) < 0)
                                return e;
                } else {
                        const struct tbl *m = json_is_object(child) ? tbl_find(p, child) : NULL;
                        if (!json_is_object(child))
                                return perr(p, k->pos, VT_E_FORMAT,
                                            "key '%s' already holds a value, not a table",
                                            keyname(k->part[i], buf));
                        if (!m)
                                return perr(p, k->pos, VT_E_FORMAT,
                                            "cannot add keys to inline table '%s'",
                                            keyname(k->part[i], buf));
                        if (m->kind != TBL_DOTTED || m->section != section)
                                return perr(p, k->pos, VT_E_FORMAT,
                                            "cannot add keys to table '%s' defined elsewhere",
                                            keyname(k->part[i], buf));
                }
                t = child;
        }
        const char *last = k->part[k->n - 1];
        if (json_object_get(t, last))
                return perr(p, k->pos, VT_E_FORMAT, "duplicate key '%s'", keyname(last, buf));
        if (json_object_set(t, last, value) < 0)
                return VT_E_NOMEM;
        return 0;
}

/* parse_header reads [a.b.c] and returns the table it defines. */
static int parse_header(struct parser *p, json_t *root, json_t **ret, size_t *ret_depth)
{
        _cleanup_(keypath_clear) struct keypath k = {0};
        size_t start = p->pos;
        char buf[48];
        json_t *t = root;
        int e;

        if (peek(p, 1) == '[')
                return perr(p, start, VT_E_UNSUPPORTED, "unsupported: arrays of tables ([[...]])");
        p->pos++;
        skip_ws(p);
        if ((e = parse_key(p, &k)) < 0)
                return e;
        if (peek(p, 0) != ']')
                return perr(p, p->pos, VT_E_FORMAT, "expected ']' after table name, found %s",
                            what(p, buf));
        p->pos++;
        if ((e = expect_eol(p)) < 0)
                return e;

        for (size_t i = 0; i < k.n; i++) {
                json_t *child = json_object_get(t, k.part[i]);
                bool last = i + 1 == k.n;
                if (!child) {
                        child = json_object();
                        if ((e = vt_json_set(t, k.part[i], child)) < 0 ||
                            (e = tbl_add(p, child, last ? TBL_HEADER : TBL_IMPLICIT, 0)) < 0)
                                return e;
                        t = child;
                        continue;
                }
                if (!json_is_object(child))
                        return perr(p, start, VT_E_FORMAT,
                                    "key '%s' already holds a value, not a table",
                                    keyname(k.part[i], buf));
                struct tbl *m = tbl_find(p, child);
                if (!m)
                        return perr(p, start, VT_E_FORMAT, "cannot add to inline table '%s'",
                                    keyname(k.part[i], buf));
                if (last) {
                        if (m->kind == TBL_HEADER)
                                return perr(p, start, VT_E_FORMAT, "table '%s' is defined twice",
                                            keyname(k.part[i], buf));
                        if (m->kind == TBL_DOTTED)
                                return perr(p, start, VT_E_FORMAT,
                                            "table '%s' already defined by dotted keys",
                                            keyname(k.part[i], buf));
                        m->kind = TBL_HEADER;
                }
                t = child;
        }
        *ret = t;
        *ret_depth = k.n;
        return 0;
}

static int parse_document(struct parser *p, json_t *root)
{
        json_t *cur = root;
        size_t depth = 0;
        unsigned section = 0;
        char buf[16];
        int e;

        /* a UTF-8 byte order mark is not content */
        if (p->len >= 3 && memcmp(p->s, "\xef\xbb\xbf", 3) == 0)
                p->pos = 3;
        while (p->pos < p->len) {
                skip_ws(p);
                int c = peek(p, 0);
                if (c < 0 || c == '#' || newline_len(p) > 0) {
                        if ((e = expect_eol(p)) < 0)
                                return e;
                        continue;
                }
                if (c == '[') {
                        if ((e = parse_header(p, root, &cur, &depth)) < 0)
                                return e;
                        section = ++p->sections;
                        continue;
                }

                _cleanup_(keypath_clear) struct keypath k = {0};
                _cleanup_json_ json_t *v = NULL;
                if ((e = parse_key(p, &k)) < 0)
                        return e;
                if (peek(p, 0) != '=')
                        return perr(p, p->pos, VT_E_FORMAT, "expected '=' after key, found %s",
                                    what(p, buf));
                p->pos++;
                skip_ws(p);
                if ((e = parse_value(p, depth + k.n, &v)) < 0 ||
                    (e = insert_kv(p, cur, depth, &k, v, section)) < 0 || (e = expect_eol(p)) < 0)
                        return e;
        }
        return 0;
}

int vt_toml_parse(const char *text, size_t len, json_t **ret, struct vt_diag *d)
{
        struct parser p = {.s = text, .len = len, .d = d};
        _cleanup_json_ json_t *root = NULL;
        int e;

        if (!ret || (!text && len > 0))
                return VT_E_INVAL;
        if (len > TOML_MAX_BYTES)
                return vt_diag_set(d, VT_E_LIMIT, "toml: input is %zu bytes, more than %u", len,
                                   TOML_MAX_BYTES);
        size_t bad = utf8_bad((const unsigned char *)text, len);
        if (bad < len)
                return perr(&p, bad, VT_E_FORMAT, "invalid UTF-8 (byte 0x%02x)",
                            (unsigned char)text[bad]);
        root = json_object();
        if (!root)
                return VT_E_NOMEM;
        e = parse_document(&p, root);
        free(p.tbl);
        if (e < 0)
                return e;
        *ret = TAKE_PTR(root);
        return 0;
}
