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

void vtd_problem(struct vtd_response *res, struct vtd_request *req, unsigned status,
                 const char *variant, const char *fmt, ...)
{
        char detail[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
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
        json_auto_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "ts", ts,
                                   "level", r->status >= 500 ? "error" : "info", "msg", "request",
                                   "request_id", r->id, "client", r->client, "method", r->method,
                                   "route", vtd_route_name(r->route), "status", r->status,
                                   "duration_ms", (double)us / 1000.0);
        if (!o)
                return;
        if (r->sub[0])
                json_object_set_new(o, "sub", json_string(r->sub));
        if (r->tee[0])
                json_object_set_new(o, "tee", json_string(r->tee));
        if (r->verdict[0])
                json_object_set_new(o, "verdict", json_string(r->verdict));
        if (r->reason[0])
                json_object_set_new(o, "reason", json_string(r->reason));
        emit(o);
}

void vtd_logv(const char *level, const char *fmt, va_list ap)
{
        char msg[1024], ts[32];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = 0;
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
