/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The auditors' page: GET /ledger/ renders the ledger as one read-only HTML document on
 * the server (no script, no external asset): the latest signed tree head and whether its
 * signature verifies with the ledger key, a filter form (GET), and a table of entries,
 * newest first, each with a link to its receipt and whether that receipt verifies.
 *
 * Everything taken from an entry or from the query goes through put_esc (HTML text and
 * quoted attributes) or put_query (URLs); only numbers and fixed strings are written
 * otherwise. The one <style> block is allowed by its hash in the Content-Security-Policy,
 * which allows nothing else. Filters are applied here over a bounded window: at most
 * PAGE_SCAN entries are examined and PAGE_ROWS shown per request, with a link to older
 * entries.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ledger/ledger.h"
#include "server.h"
#include "token/admin.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"

#define PAGE_SCAN    10000u /* entries examined per request at most */
#define PAGE_ROWS    100u   /* rows shown per request at most */
#define SCAN_CHUNK   500u   /* entries read from the store at once */
#define FILTER_MAX   256u   /* bytes of a text filter */
#define UTF8_REPLACE "\xef\xbf\xbd"

static const char style[] =
        "body{font:14px/1.45 'DejaVu Sans',sans-serif;margin:1.5em 2em;color:#1d2329;"
        "background:#fff}"
        "h1{font-size:1.5em;margin:0 0 .6em}h2{font-size:1.15em;margin:1.2em 0 .4em}"
        "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0}"
        "dt{font-weight:bold}dd{margin:0}"
        "code,.mono{font-family:'DejaVu Sans Mono',monospace;font-size:.92em;word-break:break-all}"
        "form{display:flex;flex-wrap:wrap;gap:.6em 1em;align-items:end;padding:.7em;"
        "background:#f3f5f7;border:1px solid #d5dbe1;border-radius:4px}"
        "label{display:flex;flex-direction:column;font-size:.85em;color:#46505a}"
        "input,select,button{font:inherit;font-size:1.1em;padding:.15em .3em}"
        "table{border-collapse:collapse;width:100%;margin-top:.8em}"
        "th,td{border-bottom:1px solid #dde2e7;padding:.3em .5em;text-align:left;"
        "vertical-align:top}"
        "th{background:#eef1f4;font-size:.9em}"
        "tr.kind-deny td.kind{color:#a3111f;font-weight:bold}"
        "tr.kind-release td.kind{color:#17692f;font-weight:bold}"
        ".ok{color:#17692f}.bad{color:#a3111f;font-weight:bold}.pending{color:#8a5a00}"
        ".note{color:#46505a;font-size:.9em}.error{color:#a3111f;font-weight:bold}"
        "nav{margin-top:.8em}nav a{margin-right:1.2em}";

static char csp[256];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

/* csp_init computes the policy once: the hash of the style block is the only source of
 * style allowed; if it cannot be computed, no style at all is allowed. */
static void csp_init(void)
{
        uint8_t h[32];
        _cleanup_free_ char *b = NULL;
        if (!EVP_Digest(style, sizeof(style) - 1, h, NULL, EVP_sha256(), NULL) ||
            vt_b64_encode(h, sizeof(h), VT_B64_STD, &b) < 0) {
                snprintf(csp, sizeof(csp),
                         "default-src 'none'; style-src 'none'; img-src 'none'; "
                         "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
                return;
        }
        snprintf(csp, sizeof(csp),
                 "default-src 'none'; style-src 'sha256-%s'; img-src 'none'; "
                 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                 b);
}

/*
 * The document being written.
 */

struct html {
        char *p;
        size_t len, cap;
        bool oom;
};

static void put_n(struct html *h, const char *s, size_t n)
{
        if (h->oom || n == 0)
                return;
        if (h->len + n + 1 > h->cap) {
                size_t c = h->cap ? h->cap : 16384;
                while (c < h->len + n + 1)
                        c *= 2;
                char *np = realloc(h->p, c);
                if (!np) {
                        h->oom = true;
                        return;
                }
                h->p = np;
                h->cap = c;
        }
        memcpy(h->p + h->len, s, n);
        h->len += n;
        h->p[h->len] = 0;
}

static void put(struct html *h, const char *s)
{
        put_n(h, s, strlen(s));
}

/* putf writes a short formatted piece: numbers and fixed strings only, never a value
 * from an entry or the query (those go through put_esc). */
static void putf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct html *h, const char *fmt, ...)
{
        char b[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b, sizeof(b), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(b)) {
                h->oom = true; /* a cut would be a wrong page: fail it */
                return;
        }
        put_n(h, b, (size_t)n);
}

/* put_esc writes s as HTML text that is also safe inside a double- or single-quoted
 * attribute value: & < > " ' become character references, and C0 controls (but tab, LF
 * and CR) and DEL, which HTML does not allow, become U+FFFD. Other bytes, UTF-8 included,
 * are copied. */
static void put_esc(struct html *h, const char *s)
{
        const char *run = s;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                const char *r = c == '&'    ? "&amp;"
                                : c == '<'  ? "&lt;"
                                : c == '>'  ? "&gt;"
                                : c == '"'  ? "&quot;"
                                : c == '\'' ? "&#39;"
                                : ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                                        ? UTF8_REPLACE
                                        : NULL;
                if (!r)
                        continue;
                put_n(h, run, (size_t)(s - run));
                put(h, r);
                run = s + 1;
        }
        put_n(h, run, (size_t)(s - run));
}

/* put_query writes "&amp;key=" and v percent-encoded (all but RFC 3986 unreserved
 * characters), for a link inside an attribute. */
static void put_query(struct html *h, const char *key, const char *v)
{
        static const char hexd[] = "0123456789ABCDEF";
        put(h, "&amp;");
        put(h, key);
        put(h, "=");
        for (; *v; v++) {
                unsigned char c = (unsigned char)*v;
                bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
                char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};
                if (plain)
                        put_n(h, (const char *)&c, 1);
                else
                        put_n(h, e, 3);
        }
}

static void put_time_ms(struct html *h, int64_t ms)
{
        char t[21];
        vt_time_format_rfc3339(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000), t);
        put_esc(h, t);
}

/*
 * Filters, from the query.
 */

static const char *const kinds[] = {"attest", "release", "deny", "admin"};

struct filter {
        const char *kind;      /* NULL: any */
        const char *resource;  /* a part of the resource (release, deny) or target (admin) */
        const char *tee;       /* a part of the tee (attest) */
        const char *from, *to; /* as given, for the form */
        int64_t from_ms;       /* time >= from_ms */
        int64_t to_ms;         /* time < to_ms */
        uint64_t before;       /* index < before */
};

/* parse_time reads an RFC 3339 time or a date (YYYY-MM-DD, midnight UTC) into ms; end
 * makes it the end of that second or day (an exclusive bound). */
static bool parse_time(const char *v, bool end, int64_t *ret)
{
        int64_t t;
        bool date = strlen(v) == 10;
        char b[32];
        if (date)
                snprintf(b, sizeof(b), "%sT00:00:00Z", v);
        if (vt_time_parse_rfc3339(date ? b : v, &t) < 0)
                return false;
        if (end)
                t += date ? 86400 : 1;
        if (t > INT64_MAX / 1000 || t < INT64_MIN / 1000)
                return false;
        *ret = t * 1000;
        return true;
}

static const char *text_param(const struct vtd_request *req, const char *key)
{
        const char *v = vtd_query(req, key);
        return v && *v ? v : NULL;
}

/* parse_filter reads the query into f; false with the reason in why (plain text). */
static bool parse_filter(const struct vtd_request *req, struct filter *f, char *why, size_t wn)
{
        *f = (struct filter){.from_ms = INT64_MIN, .to_ms = INT64_MAX, .before = UINT64_MAX};
        const char *k = text_param(req, "kind");
        if (k) {
                for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                        if (strcmp(k, kinds[i]) == 0)
                                f->kind = kinds[i];
                if (!f->kind) {
                        snprintf(why, wn, "kind must be one of attest, release, deny, admin");
                        return false;
                }
        }
        f->resource = text_param(req, "resource");
        f->tee = text_param(req, "tee");
        if ((f->resource && strlen(f->resource) > FILTER_MAX) ||
            (f->tee && strlen(f->tee) > FILTER_MAX)) {
                snprintf(why, wn, "a text filter is at most %u bytes", FILTER_MAX);
                return false;
        }
        f->from = text_param(req, "from");
        f->to = text_param(req, "to");
        if (f->from && !parse_time(f->from, false, &f->from_ms)) {
                snprintf(why, wn, "from must be an RFC 3339 time or a date (YYYY-MM-DD)");
                return false;
        }
        if (f->to && !parse_time(f->to, true, &f->to_ms)) {
                snprintf(why, wn, "to must be an RFC 3339 time or a date (YYYY-MM-DD)");
                return false;
        }
        const char *b = text_param(req, "before");
        if (b) {
                uint64_t x = 0;
                size_t n = strlen(b);
                bool ok = n <= 19;
                for (size_t i = 0; ok && i < n; i++) {
                        ok = b[i] >= '0' && b[i] <= '9';
                        x = x * 10 + (uint64_t)(b[i] - '0');
                }
                if (!ok || x > INT64_MAX) {
                        snprintf(why, wn, "before must be a decimal entry index");
                        return false;
                }
                f->before = x;
        }
        return true;
}

static const char *str_of(const json_t *e, const char *key)
{
        return json_string_value(json_object_get(e, key));
}

/* The resource column: the resource of a release or denial, the target of an admin
 * change. */
static const char *resource_of(const json_t *e)
{
        const char *r = str_of(e, "resource");
        return r ? r : str_of(e, "target");
}

/*
 * The scan: entries below f->before, newest first, until PAGE_ROWS match or PAGE_SCAN
 * were examined.
 */

struct chunk {
        const struct filter *f;
        json_t *rows; /* [{"index", "time", "kind", "entry"}] of the matches, in index order */
};

static int chunk_row(const struct vt_ledger_row *row, void *ud)
{
        struct chunk *c = ud;
        const struct filter *f = c->f;
        if ((f->kind && strcmp(row->kind, f->kind) != 0) || row->time < f->from_ms ||
            row->time >= f->to_ms)
                return 0;
        json_t *e = json_loadb(row->entry, row->entry_len, JSON_REJECT_DUPLICATES, NULL);
        if (!e) /* shown as such: an auditor wants to see it */
                e = json_pack("{s:s}", "reason", "(the stored entry is not JSON)");
        if (!e)
                return VT_E_NOMEM;
        const char *r = resource_of(e), *t = str_of(e, "tee");
        if ((f->resource && (!r || !strstr(r, f->resource))) ||
            (f->tee && (!t || !strstr(t, f->tee)))) {
                json_decref(e);
                return 0;
        }
        json_t *o = json_pack("{s:I, s:I, s:s, s:o}", "index", (json_int_t)row->index, "time",
                              (json_int_t)row->time, "kind", row->kind, "entry", e);
        return o && json_array_append_new(c->rows, o) == 0 ? 0 : VT_E_NOMEM;
}

struct scan {
        json_t *rows;     /* the matches shown, newest first */
        uint64_t low;     /* the lowest index examined */
        uint64_t high;    /* one past the highest index examined */
        uint64_t older;   /* the before= of the "older" link; 0: none */
        bool window_full; /* stopped at PAGE_SCAN entries, not at PAGE_ROWS rows */
};

static int scan(struct vt_store *st, uint64_t size, const struct filter *f, struct scan *ret,
                struct vt_diag *d)
{
        uint64_t hi = f->before < size ? f->before : size, scanned = 0;
        json_auto_t *rows = json_array();
        if (!rows)
                return VT_E_NOMEM;
        *ret = (struct scan){.low = hi, .high = hi};
        while (hi > 0 && scanned < PAGE_SCAN && json_array_size(rows) < PAGE_ROWS) {
                uint64_t n = PAGE_SCAN - scanned < SCAN_CHUNK ? PAGE_SCAN - scanned : SCAN_CHUNK;
                uint64_t lo = hi > n ? hi - n : 0;
                json_auto_t *got = json_array();
                struct chunk c = {.f = f, .rows = got};
                int e = got ? vt_store_ledger_entries(st, lo, hi, chunk_row, &c, d) : VT_E_NOMEM;
                if (e < 0)
                        return e;
                for (size_t i = json_array_size(got); i > 0; i--) {
                        json_t *o = json_array_get(got, i - 1);
                        if (json_array_append(rows, o) < 0)
                                return VT_E_NOMEM;
                        if (json_array_size(rows) == PAGE_ROWS) {
                                /* entries below this one were not all looked at */
                                lo = (uint64_t)json_integer_value(json_object_get(o, "index"));
                                break;
                        }
                }
                scanned += hi - lo;
                hi = lo;
        }
        ret->low = hi;
        ret->older = hi;
        ret->window_full = hi > 0 && json_array_size(rows) < PAGE_ROWS;
        ret->rows = TAKE_PTR(rows);
        return 0;
}

/*
 * The sections.
 */

static void put_head(struct html *h)
{
        put(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
               "<meta name=\"robots\" content=\"noindex\">"
               "<title>veritee ledger</title><style>");
        put(h, style);
        put(h, "</style></head>\n<body>\n<h1>veritee ledger</h1>\n");
}

/* put_sth writes the latest tree head and whether it verifies; false: it does not (the
 * rows then say so through their receipts). */
static void put_sth(struct html *h, const char *sth, uint64_t size, const json_t *jwks)
{
        put(h, "<section id=\"sth\"><h2>Latest signed tree head</h2>\n");
        if (!sth) {
                put(h, "<p class=\"pending\">No tree head has been signed yet.</p></section>\n");
                return;
        }
        struct vt_sth t = {0};
        struct vt_diag d = {0};
        int e = vt_sth_verify(sth, jwks, &t, &d);
        struct vt_diag d2 = {0};
        if (e < 0 && vt_sth_peek(sth, &t, &d2) < 0)
                t = (struct vt_sth){.size = size};
        char root[2 * VT_MERKLE_HASH_LEN + 1];
        vt_hex_encode(t.root, VT_MERKLE_HASH_LEN, root);
        putf(h, "<dl><dt>Size</dt><dd id=\"sth-size\">%" PRIu64 " entries</dd>", t.size);
        put(h, "<dt>Root</dt><dd><code id=\"sth-root\">");
        put_esc(h, root);
        put(h, "</code></dd><dt>Signed at</dt><dd>");
        put_time_ms(h, t.time);
        put(h, "</dd><dt>Key id</dt><dd><code>");
        put_esc(h, t.kid);
        put(h, "</code></dd><dt>Signature</dt>");
        if (e == 0) {
                put(h, "<dd id=\"sth-verdict\" class=\"ok\">verifies with the ledger key</dd>");
        } else {
                put(h, "<dd id=\"sth-verdict\" class=\"bad\">does NOT verify with the ledger "
                       "key: ");
                put_esc(h, d.msg);
                put(h, "</dd>");
        }
        put(h, "</dl>\n<p class=\"note\">The tree head as signed: <a href=\"/ledger/sth\">"
               "/ledger/sth</a>; the ledger key: <a href=\"/ledger/jwks\">/ledger/jwks</a>.</p>"
               "</section>\n");
}

static void put_option(struct html *h, const char *value, const char *label, const char *cur)
{
        put(h, "<option value=\"");
        put(h, value);
        put(h, "\"");
        if ((cur && strcmp(cur, value) == 0) || (!cur && !*value))
                put(h, " selected");
        put(h, ">");
        put(h, label);
        put(h, "</option>");
}

static void put_input(struct html *h, const char *label, const char *name, const char *value,
                      const char *placeholder)
{
        putf(h, "<label>%s<input type=\"text\" name=\"%s\" maxlength=\"%u\"", label, name,
             FILTER_MAX);
        put(h, " placeholder=\"");
        put(h, placeholder);
        put(h, "\" value=\"");
        put_esc(h, value ? value : "");
        put(h, "\"></label>");
}

/* put_form writes the filter form with the values of the query (raw: they may be what
 * was refused). */
static void put_form(struct html *h, const struct vtd_request *req)
{
        const char *k = text_param(req, "kind");
        put(h, "<section id=\"filters\"><h2>Entries</h2>\n"
               "<form method=\"get\" action=\"/ledger/\"><label>Kind<select name=\"kind\">");
        put_option(h, "", "any", k);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                put_option(h, kinds[i], kinds[i], k);
        put(h, "</select></label>");
        put_input(h, "Resource or target", "resource", text_param(req, "resource"),
                  "default/key/db");
        put_input(h, "TEE", "tee", text_param(req, "tee"), "any");
        put_input(h, "From", "from", text_param(req, "from"), "2026-01-31 or RFC 3339");
        put_input(h, "To", "to", text_param(req, "to"), "2026-01-31 or RFC 3339");
        put(h, "<button type=\"submit\">Filter</button><a href=\"/ledger/\">clear</a></form>"
               "</section>\n");
}

/* put_status writes what was decided: an attestation's status (and reason), a denial's
 * reason, who made an admin change. */
static void put_status(struct html *h, const char *kind, const json_t *e)
{
        const char *reason = str_of(e, "reason");
        if (strcmp(kind, "attest") == 0) {
                put_esc(h, str_of(e, "status") ? str_of(e, "status") : "?");
        } else if (strcmp(kind, "release") == 0) {
                put(h, "released");
        } else if (strcmp(kind, "deny") == 0) {
                put(h, "denied");
        } else if (strcmp(kind, "admin") == 0) {
                put_esc(h, str_of(e, "op") ? str_of(e, "op") : "?");
                put(h, " by ");
                put_esc(h, str_of(e, "who") ? str_of(e, "who") : "?");
                put(h, " (");
                put_esc(h, str_of(e, "role") ? str_of(e, "role") : "?");
                put(h, ")");
        }
        if (reason) {
                put(h, ": ");
                put_esc(h, reason);
        }
}

/* put_verdict builds the receipt of entry index against the latest tree head and checks
 * it as an auditor would, with the ledger's public keys. */
static void put_verdict(struct html *h, struct vt_store *st, uint64_t index, const char *sth,
                        uint64_t sth_size, const json_t *jwks)
{
        if (!sth || index >= sth_size) {
                put(h, "<td class=\"receipt pending\">not yet covered by a signed tree head</td>");
                return;
        }
        struct vt_diag d = {0};
        json_auto_t *r = NULL;
        _cleanup_free_ char *txt = NULL;
        uint64_t got = 0;
        struct vt_sth t = {0};
        int e = vt_ledger_receipt_build(st, index, sth, sth_size, &r, &d);
        if (e == 0 && !(txt = json_dumps(r, JSON_COMPACT)))
                e = vt_diag_set(&d, VT_E_NOMEM, "out of memory");
        if (e == 0)
                e = vt_ledger_receipt_verify(txt, strlen(txt), jwks, &got, &t, &d);
        if (e == 0 && got != index)
                e = vt_diag_set(&d, VT_E_FORMAT, "the receipt is for entry %" PRIu64, got);
        if (e < 0) {
                put(h, "<td class=\"receipt bad\">does not verify: ");
                put_esc(h, d.msg);
                put(h, "</td>");
                return;
        }
        putf(h, "<td class=\"receipt ok\">verified against tree head of size %" PRIu64 "</td>",
             t.size);
}

static void put_row(struct html *h, struct vt_store *st, const json_t *o, const char *sth,
                    uint64_t sth_size, const json_t *jwks)
{
        uint64_t index = (uint64_t)json_integer_value(json_object_get(o, "index"));
        const char *kind = str_of(o, "kind");
        const json_t *e = json_object_get(o, "entry");
        const char *cls = "other";
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (strcmp(kind, kinds[i]) == 0)
                        cls = kinds[i];
        putf(h,
             "<tr class=\"entry kind-%s\" id=\"e%" PRIu64 "\"><td class=\"index\">%" PRIu64
             "</td><td class=\"time mono\">",
             cls, index, index);
        put_time_ms(h, json_integer_value(json_object_get(o, "time")));
        put(h, "</td><td class=\"kind\">");
        put_esc(h, kind);
        put(h, "</td><td class=\"resource\">");
        put_esc(h, resource_of(e) ? resource_of(e) : "");
        put(h, "</td><td class=\"tee\">");
        put_esc(h, str_of(e, "tee") ? str_of(e, "tee") : "");
        put(h, "</td><td class=\"status\">");
        put_status(h, kind, e);
        put(h, "</td><td class=\"token mono\">");
        put_esc(h, str_of(e, "token_id") ? str_of(e, "token_id") : "");
        putf(h, "</td><td><a href=\"/ledger/receipts/%" PRIu64 "\">receipt</a></td>", index);
        put_verdict(h, st, index, sth, sth_size, jwks);
        put(h, "</tr>\n");
}

/* put_older writes the link to the entries below older with the same filters. */
static void put_older(struct html *h, const struct filter *f, uint64_t older)
{
        putf(h, "<a id=\"older\" href=\"/ledger/?before=%" PRIu64, older);
        if (f->kind)
                put_query(h, "kind", f->kind);
        if (f->resource)
                put_query(h, "resource", f->resource);
        if (f->tee)
                put_query(h, "tee", f->tee);
        if (f->from)
                put_query(h, "from", f->from);
        if (f->to)
                put_query(h, "to", f->to);
        put(h, "\">older entries</a>");
}

static void put_table(struct html *h, struct vt_store *st, uint64_t size, const struct filter *f,
                      const struct scan *sc, const char *sth, uint64_t sth_size, const json_t *jwks)
{
        size_t n = json_array_size(sc->rows);
        putf(h, "<p class=\"note\" id=\"summary\">The ledger holds %" PRIu64 " entries; %zu shown",
             size, n);
        if (sc->high > sc->low)
                putf(h, " from the %" PRIu64 " examined (index %" PRIu64 " to %" PRIu64 ")",
                     sc->high - sc->low, sc->low, sc->high - 1);
        putf(h, ", newest first (at most %u rows and %u entries examined per page).</p>\n",
             PAGE_ROWS, PAGE_SCAN);
        put(h, "<table id=\"entries\"><thead><tr><th>#</th><th>Time (UTC)</th><th>Kind</th>"
               "<th>Resource or target</th><th>TEE</th><th>Status or reason</th><th>Token id</th>"
               "<th>Receipt</th><th>Receipt check</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < n; i++)
                put_row(h, st, json_array_get(sc->rows, i), sth, sth_size, jwks);
        put(h, "</tbody></table>\n");
        if (n == 0)
                put(h, "<p class=\"note\" id=\"empty\">No entry matches.</p>\n");
        put(h, "<nav>");
        if (sc->older > 0)
                put_older(h, f, sc->older);
        if (sc->window_full)
                putf(h,
                     " <span class=\"note\">(the entries below index %" PRIu64
                     " were not examined)</span>",
                     sc->older);
        if (f->before != UINT64_MAX)
                put(h, "<a href=\"/ledger/\">newest entries</a>");
        put(h, "</nav>\n");
}

void vtd_ledger_page(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (!vtd_ledger_reader(s, req, res))
                return;
        pthread_once(&csp_once, csp_init);
        struct vt_store *st = s->ledger_reads;
        struct vt_diag d = {0};
        _cleanup_free_ char *sth = NULL;
        uint64_t sth_size = 0, size = 0;
        int e = vt_ledger_covering_sth(s->ledger, UINT64_MAX, &sth, &sth_size, &d);
        if (e == VT_E_NOTFOUND)
                e = 0;
        if (e == 0)
                e = vt_store_ledger_size(st, &size, &d);
        if (e < 0) {
                vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                res->retry_after = 1;
                snprintf(req->reason, sizeof(req->reason), "ledger page: %.300s", d.msg);
                return;
        }
        json_auto_t *jwks = vt_ledger_jwks(s->ledger);
        struct html h = {0};
        struct filter f;
        char why[160];
        unsigned status = 200;
        put_head(&h);
        put_sth(&h, sth, sth_size, jwks);
        put_form(&h, req);
        if (!parse_filter(req, &f, why, sizeof(why))) {
                status = 400;
                put(&h, "<p class=\"error\" id=\"error\">");
                put_esc(&h, why);
                put(&h, "</p>\n");
                snprintf(req->reason, sizeof(req->reason), "ledger page: %s", why);
        } else {
                struct scan sc = {0};
                e = scan(st, size, &f, &sc, &d);
                if (e < 0) {
                        free(h.p);
                        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
                        res->retry_after = 1;
                        snprintf(req->reason, sizeof(req->reason), "ledger page: %.300s", d.msg);
                        return;
                }
                put_table(&h, st, size, &f, &sc, sth, sth_size, jwks);
                json_decref(sc.rows);
        }
        put(&h, "</body></html>\n");
        if (h.oom || !jwks) {
                free(h.p);
                vtd_problem(res, req, 500, "InternalError", "out of memory");
                return;
        }
        free(res->body);
        res->body = h.p;
        res->status = status;
        res->content_type = "text/html; charset=utf-8";
        res->csp = csp;
}
