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

void vtd_json_response(struct vtd_response *res, unsigned status, json_t *obj)
{
        free(res->body);
        res->body = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(obj);
        res->status = res->body ? status : 500;
        res->content_type = "application/json";
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

/* An RFC 3339 UTC timestamp with milliseconds: 2026-12-03T08:01:02.345Z */
static void timestamp(char ts[32])
{
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        time_t t = now.tv_sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(ts, 32, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, 32 - n, ".%03ldZ", now.tv_nsec / 1000000);
}

/* One log line: JSON, ASCII, and reals with at most 9 significant digits, so that a
 * duration of 0.563 ms is written 0.563 and not 0.56299999999999994. */
static void emit(const json_t *o)
{
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
                                           JSON_REAL_PRECISION(9));
        if (line) {
                fprintf(stderr, "%s\n", line);
                free(line);
        }
}

void vtd_log_request(const struct vtd_request *r)
{
        char ts[32];
        timestamp(ts);
        /* whole microseconds, as milliseconds with three decimals */
        uint64_t us = vtd_now_us() - r->start_us;
        /* what the client sent, cut to a width, may end inside a character or not be
         * UTF-8 at all: a JSON string must be, or the line would be lost */
        char method[sizeof(r->method)], tee[sizeof(r->tee)], reason[sizeof(r->reason)],
                sub[sizeof(r->sub)];
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
        json_auto_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "ts", ts,
                                   "level", r->status >= 500 ? "error" : "info", "msg", "request",
                                   "request_id", r->id, "client", r->client, "method", method,
                                   "route", vtd_route_name(r->route), "status", r->status,
                                   "duration_ms", (double)us / 1000.0);
        if (!o)
                return;
        if (sub[0])
                json_object_set_new(o, "sub", json_string(sub));
        if (tee[0])
                json_object_set_new(o, "tee", json_string(tee));
        if (r->verdict[0])
                json_object_set_new(o, "verdict", json_string(r->verdict));
        if (reason[0])
                json_object_set_new(o, "reason", json_string(reason));
        emit(o);
}

void vtd_logv(const char *level, const char *fmt, va_list ap)
{
        char msg[1024], ts[32];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = 0;
        valid_utf8(msg); /* libmicrohttpd's messages may quote what a client sent */
        timestamp(ts);
        json_auto_t *o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg", msg);
        if (o)
                emit(o);
}

void vtd_log(const char *level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vtd_logv(level, fmt, ap);
        va_end(ap);
}
