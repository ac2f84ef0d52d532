/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veriteed: the per-request record, the response and their helpers (response.c). The
 * router (http.c) and the API files (kbs.c, resource.c, admin.c, ...) both use these and
 * neither includes the other.
 */
#ifndef VTD_RESPONSE_H
#define VTD_RESPONSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Routes, for metrics and logs. */
enum vtd_route {
        ROUTE_AUTH,
        ROUTE_ATTEST,
        ROUTE_JWKS,
        ROUTE_OIDC,
        ROUTE_HEALTHZ,
        ROUTE_READYZ,
        ROUTE_METRICS,
        ROUTE_RESOURCE,
        ROUTE_RESOURCE_POLICY,
        ROUTE_RESOURCES,
        ROUTE_REFVAL,
        ROUTE_LEDGER,
        ROUTE_K8S,   /* the admission webhook (webhook.c) */
        ROUTE_AZURE, /* issue 14: the Azure-compatible API (azure_api.c) */
        ROUTE_OTHER,
        _ROUTE_MAX,
};

struct vtd_route_row; /* a row of the route table (http.c) */

/* The per-request record: filled by handlers, logged once when the request ends. */
struct vtd_request {
        char id[17];
        char client[48]; /* the client's address (IPv6: its /64), for per-client limits */
        enum vtd_route route;
        char method[8];
        uint64_t start_us;
        unsigned status;
        char tee[24];
        char verdict[24];
        char reason[384];
        char sub[64]; /* the admin token's sub, once vtd_admin_check let it through */
        /* body */
        uint8_t *body;
        size_t body_len;
        bool body_too_big;
        bool started;
        /* the raw URI, before libmicrohttpd decodes it (http.c uri_log) */
        size_t raw_uri_len;
        bool raw_uri_hides; /* %00 anywhere, or %2F in the path */
        /* set by the router for the handler; borrowed, valid while the handler runs */
        const struct vtd_route_row *row; /* the route matched (path and method) */
        const char *rest;                /* the path after a prefix route ("" otherwise) */
        const char *authz;               /* Authorization header, or NULL */
        const char *cookie;              /* the kbs-session-id cookie, or NULL */
        const char *query_repo;          /* ?repo=, or NULL */
        unsigned port;                   /* the port the server is bound to */
        void *conn;                      /* the connection, for vtd_query (http.c) */
        unsigned allowed;                /* the methods the path takes (http.c) */
};

/* vtd_query returns the value of the query parameter key of the request (?key=value,
 * decoded), or NULL. Valid while the handler runs. */
const char *vtd_query(const struct vtd_request *req, const char *key);

/* A response: status, body and headers (owned). */
struct vtd_response {
        unsigned status;
        char *body;
        const char *content_type;
        char *set_cookie;
        unsigned retry_after;
        const char *csp;           /* Content-Security-Policy (HTML pages), or NULL */
        const char *cache_control; /* Cache-Control; NULL: no-store */
        const char *vary;          /* Vary, or NULL */
        char *www_authenticate;    /* WWW-Authenticate (owned), or NULL */
        char allow[64];            /* Allow (a 405's), or "" */
};

/* vtd_problem fills an RFC 7807 error response ("type" under Trustee's error URL
 * prefix, "detail") and records reason for the log. */
void vtd_problem(struct vtd_response *res, struct vtd_request *req, unsigned status,
                 const char *variant, const char *detail_fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* vtd_json_response serialises obj (stolen) as the body, compact, in member order (an
 * object of plain ASCII strings directly, anything else through jansson); a NULL obj, or one
 * jansson cannot write, is a 500 without a body. */
void vtd_json_response(struct vtd_response *res, unsigned status, json_t *obj);

/* vtd_json_member_response is vtd_json_response with {key: value} (value a string; NULL
 * answers 500), written without building the object: the attest answer is one member of
 * several kilobytes. */
void vtd_json_member_response(struct vtd_response *res, unsigned status, const char *key,
                              const char *value);

/* vtd_log writes one structured log line to stderr. Thread-safe. */
void vtd_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* vtd_logv: the same with a va_list (libmicrohttpd's messages come this way); a trailing
 * newline of the message is dropped. */
void vtd_logv(const char *level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* vtd_log_request writes the log line of a finished request. Thread-safe. */
void vtd_log_request(const struct vtd_request *r);

/* vtd_route_name returns the name of a route in logs ("other" for none). */
const char *vtd_route_name(enum vtd_route r);

/* vtd_now returns the wall-clock time in seconds; vtd_now_us a monotonic clock in µs. */
int64_t vtd_now(void);
uint64_t vtd_now_us(void);

#endif
