/* SPDX-License-Identifier: Apache-2.0 */
/* The per-request record and the response: problem documents, JSON bodies, log lines. */
#include "response.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/json.h"

#define PROBLEM_PREFIX "https://github.com/confidential-containers/kbs/errors/"

int64_t vtd_now(void)
{
        return (int64_t)time(NULL);
}

uint64_t vtd_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* valid_utf8 replaces, in place, every byte of s that does not belong to a well-formed
 * UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF) by '?'.
 * A detail quotes what the client sent (a method, a Content-Type, a tee name cut to a
 * width, a parser's message) and a JSON string must be UTF-8: without this the answer
 * could not be written at all. */
static void valid_utf8(char *s)
{
        uint8_t *p = (uint8_t *)s;
        while (*p) {
                unsigned n = *p < 0x80             ? 1
                             : (*p & 0xe0) == 0xc0 ? 2
                             : (*p & 0xf0) == 0xe0 ? 3
                             : (*p & 0xf8) == 0xf0 ? 4
                                                   : 0;
                bool ok = n > 0;
                for (unsigned i = 1; ok && i < n; i++)
                        ok = (p[i] & 0xc0) == 0x80;
                if (ok && n > 1) {
                        uint32_t cp = *p & (0x7f >> n);
                        for (unsigned i = 1; i < n; i++)
                                cp = (cp << 6) | (p[i] & 0x3f);
                        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
                        ok = cp >= min[n] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
                }
                if (!ok) {
                        *p++ = '?';
                        continue;
                }
                p += n;
        }
}

void vtd_problem(struct vtd_response *res, struct vtd_request *req, unsigned status,
                 const char *variant, const char *fmt, ...)
{
        char detail[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        valid_utf8(detail);
        char type[160];
        snprintf(type, sizeof(type), PROBLEM_PREFIX "%s", variant);
        snprintf(req->reason, sizeof(req->reason), "%.383s", detail);
        vtd_json_response(res, status, json_pack("{s:s, s:s}", "type", type, "detail", detail));
        res->content_type = "application/problem+json";
}

/* put_member writes "k":"v" at o (a plain key and value: no escape) and returns the end */
static char *put_member(char *o, const char *k, size_t kl, const char *v, size_t vl)
{
        *o++ = '"';
        memcpy(o, k, kl);
        o += kl;
        memcpy(o, "\":\"", 3);
        o += 3;
        memcpy(o, v, vl);
        o += vl;
        *o++ = '"';
        return o;
}

/* flat_text: obj written as json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes it, when it
 * is an object of strings that all need no escape and are printable ASCII (a token, a nonce,
 * a problem's type and detail, most answers): one pass over each text, where jansson's
 * writer takes a long token character by character. NULL for anything else, which jansson
 * writes. */
static char *flat_text(const json_t *obj)
{
        const char *k;
        json_t *v;
        size_t n = 3; /* {} and the NUL */
        if (!json_is_object(obj))
                return NULL;
        json_object_foreach ((json_t *)obj, k, v) {
                size_t kl = json_object_iter_key_len(json_object_key_to_iter(k)),
                       vl = json_string_length(v);
                if (!json_is_string(v) || !vt_json_plain(k, kl, true) ||
                    !vt_json_plain(json_string_value(v), vl, true))
                        return NULL;
                n += kl + vl + 6; /* "k":"v", */
        }
        char *out = malloc(n), *o = out;
        if (!out)
                return NULL;
        *o++ = '{';
        json_object_foreach ((json_t *)obj, k, v) {
                size_t kl = json_object_iter_key_len(json_object_key_to_iter(k)),
                       vl = json_string_length(v);
                if (o > out + 1)
                        *o++ = ',';
                o = put_member(o, k, kl, json_string_value(v), vl);
        }
        *o++ = '}';
        *o = 0;
        return out;
}

void vtd_json_response(struct vtd_response *res, unsigned status, json_t *obj)
{
        free(res->body);
        res->body = flat_text(obj);
        if (!res->body && obj)
                res->body = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(obj);
        res->status = res->body ? status : 500;
        res->content_type = "application/json";
}

void vtd_json_member_response(struct vtd_response *res, unsigned status, const char *key,
                              const char *value)
{
        size_t kl = strlen(key), vl = value ? strlen(value) : 0;
        char *out = NULL;
        if (value && vt_json_plain(key, kl, true) && vt_json_plain(value, vl, true) &&
            (out = malloc(kl + vl + 8))) {
                /* {"key":"value"}: what flat_text writes for the object */
                char *o = out;
                *o++ = '{';
                o = put_member(o, key, kl, value, vl);
                memcpy(o, "}", 2); /* and the NUL */
                free(res->body);
                res->body = out;
                res->status = status;
                res->content_type = "application/json";
                return;
        }
        vtd_json_response(res, status, value ? json_pack("{s:s}", key, value) : NULL);
}

const char *vtd_route_name(enum vtd_route r)
{
        static const char *const names[_ROUTE_MAX] = {"/kbs/v0/auth",
                                                      "/kbs/v0/attest",
                                                      "/.well-known/jwks.json",
                                                      "/.well-known/openid-configuration",
                                                      "/healthz",
                                                      "/readyz",
                                                      "/metrics",
                                                      "/kbs/v0/resource",
                                                      "/kbs/v0/resource-policy",
                                                      "/kbs/v0/resources",
                                                      "/kbs/v0/reference-value",
                                                      "/ledger",
                                                      "/k8s",
                                                      "azure",
                                                      "other"};
        return (unsigned)r < _ROUTE_MAX ? names[r] : "other";
}

/* An RFC 3339 UTC timestamp with milliseconds, 2026-12-03T08:01:02.345Z; the part up to
 * the second is formatted once a second per thread (every request writes a line) */
static void timestamp(char ts[32])
{
        static _Thread_local time_t sec = -1;
        static _Thread_local char upto[24];
        static _Thread_local size_t n;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec != sec) {
                struct tm tm;
                time_t t = now.tv_sec;
                gmtime_r(&t, &tm);
                n = strftime(upto, sizeof(upto), "%Y-%m-%dT%H:%M:%S", &tm);
                sec = now.tv_sec;
        }
        unsigned ms = (unsigned)(now.tv_nsec / 1000000);
        memcpy(ts, upto, n);
        ts[n] = '.';
        ts[n + 1] = (char)('0' + ms / 100);
        ts[n + 2] = (char)('0' + ms / 10 % 10);
        ts[n + 3] = (char)('0' + ms % 10);
        ts[n + 4] = 'Z';
        ts[n + 5] = 0;
}

/* A log line is written straight into a buffer, as json_dumps(JSON_COMPACT |
 * JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9)) would write it, with
 * no JSON values built: one per request, so it is on every flow's path. The buffer holds
 * the longest line; were one longer, it would lose its last members, never be left
 * unterminated. */
struct logline {
        char b[8192]; /* every character of the longest line escaped (\\u0001: 6 bytes) */
        size_t n;
        bool full;
};

static void ll_put(struct logline *l, const char *s, size_t n)
{
        if (l->full || n > sizeof(l->b) - 2 - l->n) { /* room for "}\n" */
                l->full = true;
                return;
        }
        memcpy(l->b + l->n, s, n);
        l->n += n;
}

static void ll_u16(struct logline *l, unsigned u)
{
        static const char hex[] = "0123456789ABCDEF";
        char e[6] = {'\\',       'u', hex[(u >> 12) & 15], hex[(u >> 8) & 15], hex[(u >> 4) & 15],
                     hex[u & 15]};
        ll_put(l, e, 6);
}

/* a JSON string of s, which is UTF-8 (valid_utf8), every character past ASCII escaped */
static void ll_str(struct logline *l, const char *s)
{
        const uint8_t *p = (const uint8_t *)s;
        ll_put(l, "\"", 1);
        while (*p) {
                size_t run = 0;
                while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
                        run++;
                ll_put(l, (const char *)p, run);
                p += run;
                if (!*p)
                        break;
                static const char short_esc[] = "\b\f\n\r\t\"\\";
                static const char short_chr[] = "bfnrt\"\\";
                const char *e = strchr(short_esc, *p);
                if (*p < 0x80 && e) {
                        char two[2] = {'\\', short_chr[e - short_esc]};
                        ll_put(l, two, 2);
                        p++;
                        continue;
                }
                if (*p < 0x80) {
                        ll_u16(l, *p++);
                        continue;
                }
                /* the caller's strings are UTF-8 (valid_utf8, or ours); a byte that
                 * does not start a whole sequence is written '?' all the same */
                unsigned n = (*p & 0xe0) == 0xc0   ? 2
                             : (*p & 0xf0) == 0xe0 ? 3
                             : (*p & 0xf8) == 0xf0 ? 4
                                                   : 0;
                uint32_t cp = n ? *p & (0x7f >> n) : 0;
                for (unsigned i = 1; i < n; i++) {
                        if ((p[i] & 0xc0) != 0x80) {
                                n = 0;
                                break;
                        }
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
                if (n && (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
                        n = 0; /* overlong, a surrogate, or past Unicode */
                if (!n) {
                        ll_put(l, "?", 1);
                        p++;
                        continue;
                }
                p += n;
                if (cp >= 0x10000) {
                        cp -= 0x10000;
                        ll_u16(l, 0xd800 | (cp >> 10));
                        ll_u16(l, 0xdc00 | (cp & 0x3ff));
                } else {
                        ll_u16(l, cp);
                }
        }
        ll_put(l, "\"", 1);
}

/* ,"key":"value" (or {"key":... for the first) */
static void ll_kv(struct logline *l, const char *key, const char *value)
{
        size_t at = l->n;
        ll_put(l, l->n ? "," : "{", 1);
        ll_str(l, key);
        ll_put(l, ":", 1);
        ll_str(l, value);
        if (l->full)
                l->n = at; /* whole members only */
}

/* ,"key":x with the real x as jansson writes it with precision 9: %.9g, ".0" when it
 * looks like an integer, no '+' and no leading zeros in the exponent */
static void ll_real(struct logline *l, const char *key, double x)
{
        char num[40], out[80];
        int k = snprintf(num, sizeof(num), "%.9g", x);
        size_t o = (size_t)snprintf(out, 40, ",\"%.32s\":", key);
        if (k <= 0 || (size_t)k >= sizeof(num))
                return;
        for (const char *c = num; *c; c++) {
                out[o++] = *c;
                if (*c == 'e') {
                        if (c[1] == '+')
                                c++;
                        else if (c[1] == '-')
                                out[o++] = *++c;
                        while (c[1] == '0' && c[2])
                                c++;
                }
        }
        if (!strpbrk(num, ".e")) {
                out[o++] = '.';
                out[o++] = '0';
        }
        ll_put(l, out, o);
}

/* ll_key writes ,"key": (a plain key of ours, cut at 32 bytes) into out (at least 37
 * bytes) and returns its length */
static size_t ll_key(char *out, const char *key)
{
        size_t k = strnlen(key, 32);
        out[0] = ',';
        out[1] = '"';
        memcpy(out + 2, key, k);
        out[k + 2] = '"';
        out[k + 3] = ':';
        return k + 4;
}

/* ,"key":x for x = us / 1000, byte for byte what ll_real writes, without printf for
 * durations under 10^6 ms (nine significant digits, so %.9g is exact): the whole
 * milliseconds, then the three decimals without their trailing zeros, ".0" at least. */
static void ll_ms(struct logline *l, const char *key, uint64_t us)
{
        if (us >= 1000000000u) {
                ll_real(l, key, (double)us / 1000.0);
                return;
        }
        char out[64], digits[8];
        size_t o = ll_key(out, key), nd = 0;
        uint64_t ms = us / 1000;
        do
                digits[nd++] = (char)('0' + ms % 10);
        while ((ms /= 10) > 0);
        while (nd)
                out[o++] = digits[--nd];
        unsigned frac = (unsigned)(us % 1000);
        out[o++] = '.';
        out[o++] = (char)('0' + frac / 100);
        if (frac % 100) {
                out[o++] = (char)('0' + frac / 10 % 10);
                if (frac % 10)
                        out[o++] = (char)('0' + frac % 10);
        }
        ll_put(l, out, o);
}

/* ,"key":u */
static void ll_uint(struct logline *l, const char *key, unsigned u)
{
        char out[64], digits[12];
        size_t o = ll_key(out, key), nd = 0;
        do
                digits[nd++] = (char)('0' + u % 10);
        while ((u /= 10) > 0);
        while (nd)
                out[o++] = digits[--nd];
        ll_put(l, out, o);
}

static void ll_emit(struct logline *l)
{
        l->full = false; /* the closing brace always has its room */
        ll_put(l, "}\n", 2);
        fwrite(l->b, 1, l->n, stderr);
}

/* the line's first three members, ts, level and msg, with msg made UTF-8 */
static void ll_start(struct logline *l, const char *level, char *msg)
{
        char ts[32];
        timestamp(ts);
        valid_utf8(msg);
        l->n = 0;
        l->full = false;
        ll_kv(l, "ts", ts);
        ll_kv(l, "level", level);
        ll_kv(l, "msg", msg);
}

_Static_assert(
        6 * (sizeof(((struct vtd_request *)0)->id) + sizeof(((struct vtd_request *)0)->client) +
             sizeof(((struct vtd_request *)0)->method) + sizeof(((struct vtd_request *)0)->tee) +
             sizeof(((struct vtd_request *)0)->verdict) +
             sizeof(((struct vtd_request *)0)->reason) + sizeof(((struct vtd_request *)0)->sub)) +
                        512 <
                sizeof(((struct logline *)0)->b),
        "a request's log line fits its buffer");

void vtd_log_request(const struct vtd_request *r)
{
        /* whole microseconds, as milliseconds with three decimals */
        uint64_t us = vtd_now_us() - r->start_us;
        /* what the client sent, cut to a width, may end inside a character or not be
         * UTF-8 at all: a JSON string must be, or the line would be lost */
        char method[sizeof(r->method)], tee[sizeof(r->tee)], reason[sizeof(r->reason)],
                sub[sizeof(r->sub)], msg[] = "request";
        memcpy(method, r->method, sizeof(method));
        memcpy(tee, r->tee, sizeof(tee));
        memcpy(reason, r->reason, sizeof(reason));
        memcpy(sub, r->sub, sizeof(sub));
        method[sizeof(method) - 1] = tee[sizeof(tee) - 1] = reason[sizeof(reason) - 1] =
                sub[sizeof(sub) - 1] = 0;
        valid_utf8(method);
        valid_utf8(tee);
        valid_utf8(reason);
        valid_utf8(sub);
        struct logline l;
        ll_start(&l, r->status >= 500 ? "error" : "info", msg);
        ll_kv(&l, "request_id", r->id);
        ll_kv(&l, "client", r->client);
        ll_kv(&l, "method", method);
        ll_kv(&l, "route", vtd_route_name(r->route));
        ll_uint(&l, "status", r->status);
        ll_ms(&l, "duration_ms", us);
        if (sub[0])
                ll_kv(&l, "sub", sub);
        if (tee[0])
                ll_kv(&l, "tee", tee);
        if (r->verdict[0])
                ll_kv(&l, "verdict", r->verdict);
        if (reason[0])
                ll_kv(&l, "reason", reason);
        ll_emit(&l);
}

void vtd_logv(const char *level, const char *fmt, va_list ap)
{
        char msg[1024];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = 0;
        /* libmicrohttpd's messages may quote what a client sent: made UTF-8 */
        struct logline l;
        ll_start(&l, level, msg);
        ll_emit(&l);
}

void vtd_log(const char *level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vtd_logv(level, fmt, ap);
        va_end(ap);
}
