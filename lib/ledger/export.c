/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The export file: a streaming writer, and a reader that splits the document itself so
 * that a file of a million entries is never one jansson tree. The splitter only finds
 * where a value ends (strings with their escapes, brackets to a depth cap); jansson
 * parses every piece, so a piece the splitter cut wrongly is refused there.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/export.h"
#include "util/json.h"
#include "util/macro.h"
#include "util/rd.h"

#define MAX_DEPTH 128
#define MAX_KEY   64

/*
 * Writing.
 */

struct vt_ledger_export_writer {
        FILE *f;
        uint64_t sths, entries;
        bool in_entries;
};

int vt_ledger_export_writer_new(FILE *out, const json_t *jwks, struct vt_ledger_export_writer **ret,
                                struct vt_diag *d)
{
        if (!out || !json_is_array(json_object_get(jwks, "keys")))
                return vt_diag_set(d, VT_E_INVAL, "export: a jwks {\"keys\":[...]} is required");
        _cleanup_free_ char *k = json_dumps(jwks, JSON_COMPACT);
        struct vt_ledger_export_writer *w = calloc(1, sizeof(*w));
        if (!k || !w) {
                free(w);
                return vt_diag_set(d, VT_E_NOMEM, "export: out of memory");
        }
        w->f = out;
        if (fprintf(out, "{\"format\":\"%s\",\n\"jwks\":%s,\n\"sths\":[", VT_LEDGER_EXPORT_FMT, k) <
            0) {
                free(w);
                return vt_diag_set(d, VT_E_IO, "export: cannot write");
        }
        *ret = w;
        return 0;
}

static bool jws_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
}

int vt_ledger_export_write_sth(struct vt_ledger_export_writer *w, const char *jws,
                               struct vt_diag *d)
{
        if (w->in_entries)
                return vt_diag_set(d, VT_E_INVAL, "export: tree heads come before the entries");
        size_t n = jws ? strnlen(jws, VT_STORE_MAX_STH + 1) : 0;
        if (n == 0 || n > VT_STORE_MAX_STH)
                return vt_diag_set(d, VT_E_INVAL,
                                   "export: tree head %" PRIu64 " is empty or "
                                   "above %u bytes",
                                   w->sths, VT_STORE_MAX_STH);
        for (size_t i = 0; i < n; i++)
                if (!jws_char(jws[i]))
                        return vt_diag_set(d, VT_E_INVAL,
                                           "export: tree head %" PRIu64 " is not a compact JWS",
                                           w->sths);
        if (fprintf(w->f, "%s\"%s\"", w->sths ? ",\n" : "\n", jws) < 0)
                return vt_diag_set(d, VT_E_IO, "export: cannot write");
        w->sths++;
        return 0;
}

int vt_ledger_export_write_entry(struct vt_ledger_export_writer *w, uint64_t index,
                                 const char *text, size_t len, struct vt_diag *d)
{
        json_auto_t *v = text ? json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (!json_is_object(v))
                return vt_diag_set(d, VT_E_FORMAT, "export: entry %" PRIu64 " is not a JSON object",
                                   index);
        if (!w->in_entries && fputs("],\n\"entries\":[", w->f) < 0)
                return vt_diag_set(d, VT_E_IO, "export: cannot write");
        w->in_entries = true;
        if (fprintf(w->f, "%s{\"index\":%" PRIu64 ",\"entry\":", w->entries ? ",\n" : "\n", index) <
                    0 ||
            fwrite(text, 1, len, w->f) != len || fputc('}', w->f) == EOF)
                return vt_diag_set(d, VT_E_IO, "export: cannot write");
        w->entries++;
        return 0;
}

void vt_ledger_export_writer_free(struct vt_ledger_export_writer *w)
{
        free(w);
}

int vt_ledger_export_writer_finish(struct vt_ledger_export_writer *w, struct vt_diag *d)
{
        if (!w)
                return vt_diag_set(d, VT_E_INVAL, "export: no writer");
        FILE *f = w->f;
        bool ok = (w->in_entries || fputs("],\n\"entries\":[", f) >= 0) && fputs("\n]}\n", f) >= 0;
        free(w);
        if (!ok || fflush(f) != 0 || ferror(f))
                return vt_diag_set(d, VT_E_IO, "export: cannot write");
        return 0;
}

struct store_walk {
        struct vt_ledger_export_writer *w;
        struct vt_diag *d;
        uint64_t next_sth;
};

static int walk_sth(uint64_t size, int64_t time, const char *sth, void *ud)
{
        struct store_walk *s = ud;
        (void)time;
        s->next_sth = size + 1;
        return vt_ledger_export_write_sth(s->w, sth, s->d);
}

static int walk_entry(const struct vt_ledger_row *row, void *ud)
{
        struct store_walk *s = ud;
        return vt_ledger_export_write_entry(s->w, row->index, row->entry, row->entry_len, s->d);
}

int vt_ledger_export_store(struct vt_store *store, const json_t *jwks, FILE *out, struct vt_diag *d)
{
        struct store_walk s = {.d = d};
        int e = vt_ledger_export_writer_new(out, jwks, &s.w, d);
        if (e < 0)
                return e;
        for (;;) {
                uint64_t before = s.next_sth;
                if ((e = vt_store_ledger_sths(store, s.next_sth, 1000, walk_sth, &s, d)) < 0)
                        goto fail;
                if (s.next_sth == before)
                        break;
        }
        uint64_t size;
        if ((e = vt_store_ledger_size(store, &size, d)) < 0)
                goto fail;
        for (uint64_t i = 0; i < size; i += VT_STORE_LEDGER_PAGE) {
                uint64_t end = size - i > VT_STORE_LEDGER_PAGE ? i + VT_STORE_LEDGER_PAGE : size;
                if ((e = vt_store_ledger_entries(store, i, end, walk_entry, &s, d)) < 0)
                        goto fail;
        }
        return vt_ledger_export_writer_finish(s.w, d);
fail:
        vt_ledger_export_writer_free(s.w);
        return e;
}

/*
 * Reading.
 */

struct vt_ledger_export {
        const uint8_t *base; /* the file, for offsets in reasons */
        json_t *jwks;
        struct vt_rd sths, entries; /* the arrays, brackets included */
};

static size_t off_of(const struct vt_ledger_export *x, const struct vt_rd *r)
{
        return (size_t)(r->p - x->base);
}

static bool is_ws(uint8_t c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct vt_rd *r)
{
        size_t n = 0;
        while (n < r->len && is_ws(r->p[n]))
                n++;
        vt_rd_skip(r, n);
}

/* expect consumes the byte c after whitespace. */
static int expect(const struct vt_ledger_export *x, struct vt_rd *r, char c, const char *what,
                  struct vt_diag *d)
{
        skip_ws(r);
        uint8_t got;
        size_t off = off_of(x, r);
        if (vt_rd_u8(r, &got) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED, "export: %s: the file ends at byte %zu", what,
                                   off);
        if (got != (uint8_t)c)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "export: %s: expected '%c' at byte %zu, found 0x%02x", what, c,
                                   off, got);
        return 0;
}

/* peek_is says whether the next byte after whitespace is c (consuming it if so). */
static bool peek_is(struct vt_rd *r, char c)
{
        skip_ws(r);
        if (r->len && r->p[0] == (uint8_t)c) {
                vt_rd_skip(r, 1);
                return true;
        }
        return false;
}

/* string_end returns the index just after the string that opens at p[i] ('"'), or 0
 * when it does not end inside p[0..len). */
static size_t string_end(const uint8_t *p, size_t len, size_t i)
{
        for (i++; i < len; i++) {
                if (p[i] == '\\')
                        i++;
                else if (p[i] == '"')
                        return i + 1;
        }
        return 0;
}

/* take_value cuts the next JSON value (after whitespace) out of r into *ret: a string,
 * an object or array to its matching bracket, or a scalar to the next delimiter. Its
 * syntax inside is jansson's to check. At most max bytes. */
static int take_value(const struct vt_ledger_export *x, struct vt_rd *r, size_t max,
                      const char *what, struct vt_rd *ret, struct vt_diag *d)
{
        skip_ws(r);
        const uint8_t *p = r->p;
        size_t len = r->len, i = 0, off = off_of(x, r);
        if (!len)
                return vt_diag_set(d, VT_E_TRUNCATED, "export: %s: the file ends at byte %zu", what,
                                   off);
        if (p[0] == '"') {
                if (!(i = string_end(p, len, 0)))
                        return vt_diag_set(d, VT_E_TRUNCATED,
                                           "export: %s: the string at byte %zu does not end", what,
                                           off);
        } else if (p[0] == '{' || p[0] == '[') {
                unsigned depth = 0;
                for (;;) {
                        if (i >= len)
                                return vt_diag_set(d, VT_E_TRUNCATED,
                                                   "export: %s: the value at byte %zu does not "
                                                   "end",
                                                   what, off);
                        if (i > max)
                                break;
                        uint8_t c = p[i];
                        if (c == '"') {
                                size_t e = string_end(p, len, i);
                                if (!e)
                                        return vt_diag_set(d, VT_E_TRUNCATED,
                                                           "export: %s: a string in the value at "
                                                           "byte %zu does not end",
                                                           what, off);
                                i = e;
                                continue;
                        }
                        if (c == '{' || c == '[') {
                                if (++depth > MAX_DEPTH)
                                        return vt_diag_set(d, VT_E_LIMIT,
                                                           "export: %s: the value at byte %zu "
                                                           "nests deeper than %d",
                                                           what, off, MAX_DEPTH);
                        } else if ((c == '}' || c == ']') && --depth == 0) {
                                i++;
                                break;
                        }
                        i++;
                }
        } else {
                while (i < len && i <= max && !is_ws(p[i]) && p[i] != ',' && p[i] != '}' &&
                       p[i] != ']' && p[i] != ':')
                        i++;
                if (i == 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "export: %s: unexpected 0x%02x at byte %zu", what, p[0],
                                           off);
        }
        if (i > max)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "export: %s: the value at byte %zu is above %zu bytes", what,
                                   off, max);
        return vt_rd_sub(r, i, ret);
}

/* load parses the view v with jansson (any value, no duplicate keys). */
static int load(const struct vt_ledger_export *x, const struct vt_rd *v, const char *what,
                json_t **ret, struct vt_diag *d)
{
        json_error_t err;
        json_t *j = json_loadb((const char *)v->p, v->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                               &err);
        if (!j)
                return vt_diag_set(d, VT_E_FORMAT, "export: %s at byte %zu: %s", what, off_of(x, v),
                                   err.text);
        *ret = j;
        return 0;
}

enum { M_FORMAT = 1, M_JWKS = 2, M_STHS = 4, M_ENTRIES = 8, M_ALL = 15 };

/* member reads one "key": value pair of the top-level object. */
static int member(struct vt_ledger_export *x, struct vt_rd *r, unsigned *seen, struct vt_diag *d)
{
        struct vt_rd kv, v;
        json_auto_t *key = NULL;
        int e;
        if ((e = take_value(x, r, MAX_KEY, "a member name", &kv, d)) < 0 ||
            (e = load(x, &kv, "a member name", &key, d)) < 0)
                return e;
        const char *k = json_string_value(key);
        if (!k)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "export: a member name at byte %zu is not a "
                                   "string",
                                   off_of(x, &kv));
        static const struct {
                const char *name;
                unsigned bit;
        } known[] = {
                {"format", M_FORMAT}, {"jwks", M_JWKS}, {"sths", M_STHS}, {"entries", M_ENTRIES}};
        unsigned bit = 0;
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strcmp(k, known[i].name) == 0)
                        bit = known[i].bit;
        if (!bit)
                return vt_diag_set(d, VT_E_FORMAT, "export: unknown member \"%.32s\" at byte %zu",
                                   k, off_of(x, &kv));
        if (*seen & bit)
                return vt_diag_set(d, VT_E_FORMAT, "export: member \"%s\" appears twice", k);
        *seen |= bit;
        if ((e = expect(x, r, ':', k, d)) < 0)
                return e;
        size_t max = bit == M_FORMAT ? 256 : bit == M_JWKS ? VT_LEDGER_EXPORT_MAX_JWKS : SIZE_MAX;
        if ((e = take_value(x, r, max, k, &v, d)) < 0)
                return e;
        if (bit == M_STHS || bit == M_ENTRIES) {
                if (v.p[0] != '[')
                        return vt_diag_set(d, VT_E_FORMAT, "export: %s is not an array", k);
                if (bit == M_STHS)
                        x->sths = v;
                else
                        x->entries = v;
                return 0;
        }
        json_auto_t *j = NULL;
        if ((e = load(x, &v, k, &j, d)) < 0)
                return e;
        if (bit == M_FORMAT) {
                const char *f = json_string_value(j);
                if (!f || strcmp(f, VT_LEDGER_EXPORT_FMT) != 0)
                        return vt_diag_set(d, VT_E_FORMAT, "export: format is not %s",
                                           VT_LEDGER_EXPORT_FMT);
                return 0;
        }
        if (!json_is_array(json_object_get(j, "keys")))
                return vt_diag_set(d, VT_E_FORMAT, "export: jwks is not {\"keys\":[...]}");
        x->jwks = TAKE_PTR(j);
        return 0;
}

int vt_ledger_export_parse(const char *data, size_t len, struct vt_ledger_export **ret,
                           struct vt_diag *d)
{
        if (!data || len > VT_LEDGER_EXPORT_MAX)
                return vt_diag_set(d, VT_E_LIMIT, "export: absent or above %llu bytes",
                                   (unsigned long long)VT_LEDGER_EXPORT_MAX);
        struct vt_ledger_export *x = calloc(1, sizeof(*x));
        if (!x)
                return vt_diag_set(d, VT_E_NOMEM, "export: out of memory");
        x->base = (const uint8_t *)data;
        struct vt_rd r;
        vt_rd_init(&r, x->base, len);
        unsigned seen = 0;
        int e = expect(x, &r, '{', "the document", d);
        while (e == 0) {
                if ((e = member(x, &r, &seen, d)) < 0)
                        break;
                if (peek_is(&r, '}'))
                        break;
                e = expect(x, &r, ',', "the document", d);
        }
        if (e == 0) {
                skip_ws(&r);
                if (vt_rd_done(&r) < 0)
                        e = vt_diag_set(d, VT_E_TRAILING,
                                        "export: bytes after the document at "
                                        "byte %zu",
                                        off_of(x, &r));
        }
        if (e == 0 && seen != M_ALL)
                e = vt_diag_set(d, VT_E_FORMAT, "export: member \"%s\" is missing",
                                !(seen & M_FORMAT) ? "format"
                                : !(seen & M_JWKS) ? "jwks"
                                : !(seen & M_STHS) ? "sths"
                                                   : "entries");
        if (e < 0) {
                vt_ledger_export_free(x);
                return e;
        }
        *ret = x;
        return 0;
}

void vt_ledger_export_free(struct vt_ledger_export *x)
{
        if (!x)
                return;
        json_decref(x->jwks);
        free(x);
}

const json_t *vt_ledger_export_jwks(const struct vt_ledger_export *x)
{
        return x->jwks;
}

/* An iterator over the elements of an array view. */
struct elems {
        struct vt_rd r;
        size_t n;
};

/* next_elem sets *ret to the next element; 1 when there is one, 0 at the end. */
static int next_elem(const struct vt_ledger_export *x, struct elems *it, const char *what,
                     struct vt_rd *ret, struct vt_diag *d)
{
        int e;
        if (it->n == 0 && (e = expect(x, &it->r, '[', what, d)) < 0)
                return e;
        if (peek_is(&it->r, ']')) {
                skip_ws(&it->r);
                if (vt_rd_done(&it->r) < 0)
                        return vt_diag_set(d, VT_E_FORMAT, "export: %s: bytes after its end", what);
                return 0;
        }
        if (it->n > 0 && (e = expect(x, &it->r, ',', what, d)) < 0)
                return e;
        if ((e = take_value(x, &it->r, VT_LEDGER_EXPORT_MAX_ELEM, what, ret, d)) < 0)
                return e;
        it->n++;
        return 1;
}

/* uint_member reads a JSON integer >= 0. */
static bool uint_member(const json_t *o, const char *k, uint64_t *ret)
{
        const json_t *v = json_object_get(o, k);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return false;
        *ret = (uint64_t)json_integer_value(v);
        return true;
}

static int audit_sths(const struct vt_ledger_export *x, struct vt_ledger_audit *a, char **latest,
                      struct vt_diag *d)
{
        struct elems it = {.r = x->sths};
        struct vt_rd v;
        uint64_t best = 0;
        int e;
        while ((e = next_elem(x, &it, "sths", &v, d)) > 0) {
                json_auto_t *j = NULL;
                if ((e = load(x, &v, "a tree head", &j, d)) < 0)
                        return e;
                const char *s = json_string_value(j);
                if (!s)
                        return vt_diag_set(d, VT_E_FORMAT, "export: tree head %zu is not a string",
                                           it.n - 1);
                if ((e = vt_ledger_audit_sth(a, s, d)) < 0)
                        return e;
                struct vt_sth h;
                if (latest && vt_sth_peek(s, &h, NULL) == 0 && (!*latest || h.size >= best)) {
                        char *c = strdup(s);
                        if (!c)
                                return VT_E_NOMEM;
                        free(*latest);
                        *latest = c;
                        best = h.size;
                }
        }
        return e;
}

static int audit_entries(const struct vt_ledger_export *x, struct vt_ledger_audit *a,
                         struct vt_diag *d)
{
        struct elems it = {.r = x->entries};
        struct vt_rd v;
        int e;
        while ((e = next_elem(x, &it, "entries", &v, d)) > 0) {
                json_auto_t *j = NULL;
                if ((e = load(x, &v, "an entry", &j, d)) < 0)
                        return e;
                uint64_t index;
                const json_t *entry = json_object_get(j, "entry");
                if (!json_is_object(j) || json_object_size(j) != 2 ||
                    !uint_member(j, "index", &index) || !json_is_object(entry))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "export: element %zu of entries is not "
                                           "{\"index\":i,\"entry\":{...}}",
                                           it.n - 1);
                _cleanup_free_ char *text = NULL;
                size_t tl = 0;
                if ((e = vt_ledger_entry_text(entry, &text, &tl)) < 0)
                        return vt_diag_set(d, VT_E_FORMAT, "entry %" PRIu64 ": %s", index,
                                           e == VT_E_LIMIT ? "above the size limit"
                                                           : "not an object with a kind and a "
                                                             "time");
                if ((e = vt_ledger_audit_entry(a, index, text, tl, NULL, d)) < 0)
                        return e;
        }
        return e;
}

int vt_ledger_export_audit(const struct vt_ledger_export *x, const json_t *jwks,
                           const char *saved_sth, struct vt_ledger_audit_result *ret,
                           char **ret_latest_sth, struct vt_diag *d)
{
        struct vt_ledger_audit *a = NULL;
        _cleanup_free_ char *latest = NULL;
        int e = vt_ledger_audit_new(jwks, saved_sth, &a, d);
        if (e < 0)
                return e;
        if ((e = audit_sths(x, a, ret_latest_sth ? &latest : NULL, d)) == 0 &&
            (e = audit_entries(x, a, d)) == 0)
                e = vt_ledger_audit_finish(a, ret, d);
        vt_ledger_audit_free(a);
        if (e < 0)
                return e;
        if (ret_latest_sth)
                *ret_latest_sth = TAKE_PTR(latest);
        return 0;
}
