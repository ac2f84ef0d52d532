/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP plumbing on libmicrohttpd: routing, bounded bodies, limits, one structured log
 * line per request, metrics. API handlers live in their own files (kbs.c, ...).
 */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"

#define PROBLEM_PREFIX "https://github.com/confidential-containers/kbs/errors/"

static atomic_long active_connections;

int64_t vtd_now(void)
{
        return (int64_t)time(NULL);
}

static uint64_t now_us(void)
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

static void log_request(const struct vtd_request *r)
{
        char ts[32];
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        time_t t = now.tv_sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_auto_t *o =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "ts", ts, "level",
                          r->status >= 500 ? "error" : "info", "msg", "request", "request_id",
                          r->id, "method", r->method, "route", vtd_route_name(r->route), "status",
                          r->status, "duration_ms", (double)(now_us() - r->start_us) / 1000.0);
        if (!o)
                return;
        if (r->tee[0])
                json_object_set_new(o, "tee", json_string(r->tee));
        if (r->verdict[0])
                json_object_set_new(o, "verdict", json_string(r->verdict));
        if (r->reason[0])
                json_object_set_new(o, "reason", json_string(r->reason));
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        if (line) {
                fprintf(stderr, "%s\n", line);
                free(line);
        }
}

void vtd_log(const char *level, const char *fmt, ...)
{
        char msg[1024], ts[32];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_auto_t *o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level, "msg", msg);
        char *line =
                o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
        if (line) {
                fprintf(stderr, "%s\n", line);
                free(line);
        }
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
                                                      "other"};
        return (unsigned)r < _ROUTE_MAX ? names[r] : "other";
}

/* Methods a route accepts, as a bit set. */
enum { M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8 };

static unsigned method_bit(const char *m)
{
        return strcmp(m, "GET") == 0      ? M_GET
               : strcmp(m, "POST") == 0   ? M_POST
               : strcmp(m, "PUT") == 0    ? M_PUT
               : strcmp(m, "DELETE") == 0 ? M_DELETE
                                          : 0;
}

/* Maps a URL to a route, the methods it takes and the rest of the path after a prefix. */
static enum vtd_route route_of(const char *url, unsigned *methods, const char **rest)
{
        static const struct {
                const char *path;
                enum vtd_route r;
                unsigned methods;
                bool prefix;
        } table[] = {
                {"/kbs/v0/auth", ROUTE_AUTH, M_POST, false},
                {"/kbs/v0/attest", ROUTE_ATTEST, M_POST, false},
                {"/.well-known/jwks.json", ROUTE_JWKS, M_GET, false},
                {"/.well-known/openid-configuration", ROUTE_OIDC, M_GET, false},
                {"/healthz", ROUTE_HEALTHZ, M_GET, false},
                {"/readyz", ROUTE_READYZ, M_GET, false},
                {"/metrics", ROUTE_METRICS, M_GET, false},
                {"/kbs/v0/resources", ROUTE_RESOURCES, M_GET, false},
                {"/kbs/v0/resource/", ROUTE_RESOURCE, M_GET | M_POST | M_PUT | M_DELETE, true},
                {"/kbs/v0/resource-policy/", ROUTE_RESOURCE_POLICY, M_GET | M_POST | M_PUT, true},
                {"/kbs/v0/reference-value", ROUTE_REFVAL, M_GET | M_POST, false},
                {"/kbs/v0/reference-value/", ROUTE_REFVAL, M_DELETE, true},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                size_t n = strlen(table[i].path);
                if (table[i].prefix ? strncmp(url, table[i].path, n) == 0
                                    : strcmp(url, table[i].path) == 0) {
                        *methods = table[i].methods;
                        *rest = url + (table[i].prefix ? n : strlen(url));
                        return table[i].r;
                }
        }
        *methods = 0;
        *rest = "";
        return ROUTE_OTHER;
}

/* Whether a raw URI hides something from its decoded form: libmicrohttpd decodes the URL
 * before the handler sees it, and there %00 ends the string early ("key%00.txt" would
 * be "key") and %2F becomes a '/' that was not a separator. */
static bool uri_hides(const char *uri)
{
        size_t path_len = strcspn(uri, "?");
        for (const char *p = strchr(uri, '%'); p; p = strchr(p + 1, '%')) {
                if (p[1] == '0' && p[2] == '0')
                        return true;
                if (p[1] == '2' && (p[2] == 'f' || p[2] == 'F') && (size_t)(p - uri) < path_len)
                        return true;
        }
        return false;
}

/* Whether the URI the handler got is the whole raw URI. A raw NUL in the request line
 * also ends the string early, in the raw URI as much as in the decoded one; what gives it
 * away is the distance from the URL to the HTTP version, which libmicrohttpd parses
 * from the end of the line: it is the raw URI's length plus the NUL put in place of the
 * space, unless a NUL came earlier. ("" is libmicrohttpd's version for a line without
 * one, which it answers itself.) */
static bool uri_whole(const struct vtd_request *r, const char *url, const char *version)
{
        if (!version || !*version)
                return true;
        return (uintptr_t)version - (uintptr_t)url == r->raw_uri_len + 1;
}

/* The key under which a client's sessions and connections are counted: its IPv4
 * address, or the /64 of an IPv6 address (one host usually holds a whole /64). */
static void client_key(const struct sockaddr *sa, char out[48])
{
        char a[INET6_ADDRSTRLEN];
        snprintf(out, 48, "unknown");
        if (sa && sa->sa_family == AF_INET) {
                if (inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a)))
                        snprintf(out, 48, "%s", a);
        } else if (sa && sa->sa_family == AF_INET6) {
                struct in6_addr in = ((const struct sockaddr_in6 *)sa)->sin6_addr;
                if (IN6_IS_ADDR_V4MAPPED(&in)) {
                        if (inet_ntop(AF_INET, &in.s6_addr[12], a, sizeof(a)))
                                snprintf(out, 48, "%s", a);
                        return;
                }
                memset(&in.s6_addr[8], 0, 8);
                if (inet_ntop(AF_INET6, &in, a, sizeof(a)))
                        snprintf(out, 48, "%.44s/64", a);
        }
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
        struct vtd_request *r = calloc(1, sizeof(*r));
        uint8_t id[8];
        if (!r)
                return NULL;
        r->raw_uri_len = strlen(uri);
        r->raw_uri_hides = uri_hides(uri);
        r->start_us = now_us();
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        client_key(ci ? ci->client_addr : NULL, r->client);
        if (RAND_bytes(id, sizeof(id)) != 1)
                memset(id, 0, sizeof(id));
        vt_hex_encode(id, sizeof(id), r->id);
        return r;
}

static void conn_mark(struct MHD_Connection *c, bool receiving);

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        struct vtd *s = cls;
        struct vtd_request *r = *con_cls;
        conn_mark(c, true); /* a kept-alive connection's next request starts now */
        if (!r)
                return;
        if (r->status == 0)
                r->status = 499; /* the client went away before an answer */
        vtd_metrics_count_request(s, r->route, r->status, now_us() - r->start_us);
        log_request(r);
        if (r->body)
                OPENSSL_clear_free(r->body, r->body_len);
        free(r);
        *con_cls = NULL;
}

/*
 * The request deadline. connection_timeout_seconds is an idle timeout: a client that
 * sends a byte now and then keeps a connection (and its place under max_connections)
 * for ever. So every connection has a slot with the time its current request started
 * (the accept, or the end of the previous response on a kept-alive connection) and a
 * watchdog shuts down the socket of a request not received in whole within
 * limits.request_timeout_seconds; libmicrohttpd then sees the end of the stream and
 * closes the connection. Once the request is complete (a response is queued) the
 * deadline no longer applies: verification time is not the client's.
 *
 * libmicrohttpd calls the CLOSED notification before it closes the fd, and the slot is
 * freed there under h->lock, so the watchdog (which shuts fds down only under h->lock)
 * never touches an fd that has been closed and perhaps reused.
 */
struct vtd_conn {
        struct vtd_http *h;
        int fd;            /* -1: free slot */
        bool receiving;    /* a request is being received: the deadline applies */
        uint64_t start_us; /* when that request started (monotonic) */
};

static struct vtd_conn *conn_of(struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return ci ? ci->socket_context : NULL;
}

/* conn_mark: a request starts being received (receiving) or is complete. */
static void conn_mark(struct MHD_Connection *c, bool receiving)
{
        struct vtd_conn *k = conn_of(c);
        if (!k)
                return;
        pthread_mutex_lock(&k->h->lock);
        k->receiving = receiving;
        k->start_us = now_us();
        pthread_mutex_unlock(&k->h->lock);
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
        struct vtd_http *h = cls;
        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                atomic_fetch_add(&active_connections, 1);
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                pthread_mutex_lock(&h->lock);
                for (size_t i = 0; ci && i < h->n_conns; i++)
                        if (h->conns[i].fd < 0) {
                                h->conns[i].fd = ci->connect_fd;
                                h->conns[i].receiving = true;
                                h->conns[i].start_us = now_us();
                                *socket_context = &h->conns[i];
                                break;
                        }
                pthread_mutex_unlock(&h->lock);
                return;
        }
        atomic_fetch_sub(&active_connections, 1);
        struct vtd_conn *k = *socket_context;
        if (k) {
                pthread_mutex_lock(&h->lock);
                k->fd = -1;
                k->receiving = false;
                pthread_mutex_unlock(&h->lock);
                *socket_context = NULL;
        }
}

static void *watchdog_main(void *arg)
{
        struct vtd_http *h = arg;
        uint64_t limit_us = (uint64_t)h->s->cfg.request_timeout * 1000000u;
        pthread_mutex_lock(&h->lock);
        while (!h->stop) {
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_nsec += 200 * 1000 * 1000;
                if (until.tv_nsec >= 1000000000) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000;
                }
                (void)pthread_cond_timedwait(&h->wake, &h->lock, &until);
                if (h->stop)
                        break;
                uint64_t now = now_us();
                unsigned cut = 0;
                for (size_t i = 0; i < h->n_conns; i++) {
                        struct vtd_conn *k = &h->conns[i];
                        if (k->fd >= 0 && k->receiving && now - k->start_us > limit_us) {
                                (void)shutdown(k->fd, SHUT_RDWR);
                                k->receiving = false;
                                cut++;
                        }
                }
                if (cut) {
                        pthread_mutex_unlock(&h->lock);
                        vtd_log("warning",
                                "closed %u connection(s) that had not sent a whole request within "
                                "%u s (limits.request_timeout_seconds)",
                                cut, h->s->cfg.request_timeout);
                        pthread_mutex_lock(&h->lock);
                }
        }
        pthread_mutex_unlock(&h->lock);
        return NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct vtd_request *req,
                                     struct vtd_response *res)
{
        const char *body = res->body ? res->body : "";
        struct MHD_Response *r;
        if (res->body)
                r = MHD_create_response_from_buffer(strlen(res->body), res->body,
                                                    MHD_RESPMEM_MUST_FREE);
        else
                r = MHD_create_response_from_buffer(0, (void *)body, MHD_RESPMEM_PERSISTENT);
        if (!r) {
                free(res->body);
                free(res->set_cookie);
                return MHD_NO;
        }
        res->body = NULL;
        if (res->content_type)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(r, "X-Request-Id", req->id);
        if (res->set_cookie)
                MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, res->set_cookie);
        if (res->retry_after) {
                char ra[16];
                snprintf(ra, sizeof(ra), "%u", res->retry_after);
                MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        }
        free(res->set_cookie);
        req->status = res->status;
        enum MHD_Result ret = MHD_queue_response(c, res->status, r);
        conn_mark(c, false); /* the request is complete: the deadline no longer applies */
        MHD_destroy_response(r);
        return ret;
}

static void readyz(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (vt_store_ping(s->store) < 0) {
                vtd_problem(res, req, 503, "NotReady", "the store does not answer");
                return;
        }
        vtd_json_response(res, 200, json_pack("{s:s}", "status", "ready"));
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
        struct vtd *s = cls;
        struct vtd_request *req = *con_cls;
        struct vtd_response res = {0};
        unsigned methods;
        const char *rest;
        if (!req)
                return MHD_NO;
        req->route = route_of(url, &methods, &rest);
        bool body = method_bit(method) & (M_POST | M_PUT);
        if (!req->started) {
                req->started = true;
                snprintf(req->method, sizeof(req->method), "%.7s", method);
                if (atomic_load(&active_connections) > (long)s->cfg.max_connections) {
                        res.retry_after = 1;
                        vtd_problem(&res, req, 503, "ServiceUnavailable",
                                    "too many connections (limit %u)", s->cfg.max_connections);
                        return send_response(c, req, &res);
                }
                if (req->raw_uri_hides || !uri_whole(req, url, version)) {
                        vtd_problem(&res, req, 400, "InvalidRequestPath",
                                    "the URL holds a NUL byte (raw or %%00) or an encoded "
                                    "slash (%%2F)");
                        return send_response(c, req, &res);
                }
                if (req->route == ROUTE_OTHER) {
                        vtd_problem(&res, req, 404, "InvalidRequestPath",
                                    "Request path is invalid");
                        return send_response(c, req, &res);
                }
                if (!(method_bit(method) & methods)) {
                        vtd_problem(&res, req, 405, "MethodNotAllowed",
                                    "method %.7s not allowed here", method);
                        return send_response(c, req, &res);
                }
                if (body) {
                        const char *cl = MHD_lookup_connection_value(
                                c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                        char *end = NULL;
                        unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
                        if (cl && (!end || *end || n > s->cfg.max_body)) {
                                vtd_problem(&res, req, 413, "PayloadTooLarge",
                                            "request body larger than %zu bytes", s->cfg.max_body);
                                return send_response(c, req, &res);
                        }
                }
                return MHD_YES;
        }
        if (*upload_data_size) {
                if (!req->body_too_big && req->body_len + *upload_data_size <= s->cfg.max_body) {
                        uint8_t *nb = realloc(req->body, req->body_len + *upload_data_size + 1);
                        if (!nb)
                                return MHD_NO;
                        req->body = nb;
                        memcpy(req->body + req->body_len, upload_data, *upload_data_size);
                        req->body_len += *upload_data_size;
                        req->body[req->body_len] = 0;
                } else {
                        req->body_too_big = true;
                }
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (req->body_too_big) {
                vtd_problem(&res, req, 413, "PayloadTooLarge", "request body larger than %zu bytes",
                            s->cfg.max_body);
                return send_response(c, req, &res);
        }
        switch (req->route) {
        case ROUTE_AUTH:
                vtd_kbs_auth(s, req, &res);
                break;
        case ROUTE_ATTEST:
                vtd_kbs_attest(s, req,
                               MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id"),
                               &res);
                break;
        case ROUTE_JWKS:
                vtd_jwks(s, &res);
                break;
        case ROUTE_OIDC: {
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
                const union MHD_DaemonInfo *di =
                        ci ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
                vtd_oidc(s, di ? di->port : 0, &res);
                break;
        }
        case ROUTE_HEALTHZ:
                vtd_json_response(&res, 200, json_pack("{s:s}", "status", "ok"));
                break;
        case ROUTE_READYZ:
                readyz(s, req, &res);
                break;
        case ROUTE_METRICS:
                vtd_metrics_text(s, &res);
                break;
        case ROUTE_RESOURCE: {
                const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                                MHD_HTTP_HEADER_AUTHORIZATION);
                if (strcmp(method, "GET") == 0)
                        vtd_resource_get(
                                s, req, rest, authz,
                                MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id"),
                                &res);
                else
                        vtd_admin_resource(s, req, method, rest, authz, &res);
                break;
        }
        case ROUTE_RESOURCE_POLICY:
                vtd_admin_policy(s, req, method, rest,
                                 MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_AUTHORIZATION),
                                 &res);
                break;
        case ROUTE_RESOURCES:
                vtd_admin_list(s, req,
                               MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "repo"),
                               MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                           MHD_HTTP_HEADER_AUTHORIZATION),
                               &res);
                break;
        case ROUTE_REFVAL:
                vtd_admin_refval(s, req, method, rest,
                                 MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_AUTHORIZATION),
                                 &res);
                break;
        default:
                vtd_problem(&res, req, 404, "InvalidRequestPath", "Request path is invalid");
        }
        return send_response(c, req, &res);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sl,
                        struct vt_diag *d)
{
        char host[128], port[16];
        const char *colon = strrchr(listen, ':');
        if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host) ||
            strlen(colon + 1) >= sizeof(port))
                return vt_diag_set(d, VT_E_FORMAT, "listen: \"%s\" is not HOST:PORT", listen);
        const char *h = listen;
        size_t hl = (size_t)(colon - listen);
        if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
                h++;
                hl -= 2;
        }
        memcpy(host, h, hl);
        host[hl] = 0;
        snprintf(port, sizeof(port), "%s", colon + 1);
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                                 .ai_socktype = SOCK_STREAM},
                        *ai = NULL;
        if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "listen: \"%s\" is not a numeric address and port", listen);
        memcpy(ss, ai->ai_addr, ai->ai_addrlen);
        *sl = ai->ai_addrlen;
        freeaddrinfo(ai);
        return 0;
}

int vtd_http_start(struct vtd *s, struct vtd_http **ret, struct vt_diag *d)
{
        struct sockaddr_storage ss;
        socklen_t sl;
        int e;
        if ((e = parse_listen(s->cfg.listen, &ss, &sl, d)) < 0)
                return e;
        struct vtd_http *h = calloc(1, sizeof(*h));
        if (!h)
                return VT_E_NOMEM;
        h->s = s;
        h->n_conns = (size_t)s->cfg.max_connections + 64; /* MHD_OPTION_CONNECTION_LIMIT */
        h->conns = calloc(h->n_conns, sizeof(*h->conns));
        pthread_condattr_t ca;
        if (!h->conns || pthread_condattr_init(&ca) != 0) {
                free(h->conns);
                free(h);
                return VT_E_NOMEM;
        }
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&h->wake, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&h->lock, NULL);
        for (size_t i = 0; i < h->n_conns; i++)
                h->conns[i] = (struct vtd_conn){.h = h, .fd = -1};
        /* A thread per connection: a request that waits (a collateral fetch, a slow
         * verification) holds up no other connection, as a worker of a pool would every
         * connection it has accepted. Connections are bounded (max_connections, per
         * client, the request deadline), and so is the verification work (s->verify). */
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_POLL | MHD_USE_ERROR_LOG;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        if (s->cfg.tls_certificate) {
                size_t n;
                if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
                        vtd_http_stop(h);
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "tls: this libmicrohttpd has no TLS support");
                }
                if ((e = vt_read_file(s->cfg.tls_certificate, 1u << 20, &h->cert, &n)) < 0 ||
                    (e = vt_read_file(s->cfg.tls_private_key, 1u << 20, &h->key, &h->key_len)) <
                            0) {
                        vtd_http_stop(h);
                        return vt_diag_set(d, e,
                                           "tls: cannot read the certificate or the private key");
                }
                flags |= MHD_USE_TLS;
        }
        h->d = MHD_start_daemon(
                flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->n_conns, MHD_OPTION_CONNECTION_TIMEOUT,
                s->cfg.connection_timeout, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                s->cfg.max_connections_per_client, MHD_OPTION_URI_LOG_CALLBACK, uri_log, s,
                MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_NOTIFY_CONNECTION,
                notify_connection, h, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
                s->cfg.tls_certificate ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, h->key,
                MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_END);
        if (!h->d) {
                vtd_http_stop(h);
                return vt_diag_set(d, VT_E_IO, "http: cannot listen on %s", s->cfg.listen);
        }
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info ? info->port : 0;
        if (pthread_create(&h->watchdog, NULL, watchdog_main, h) != 0) {
                vtd_http_stop(h);
                return vt_diag_set(d, VT_E_NOMEM, "http: cannot start the request watchdog");
        }
        h->watchdog_running = true;
        *ret = h;
        return 0;
}

void vtd_http_stop(struct vtd_http *h)
{
        if (!h)
                return;
        if (h->watchdog_running) {
                pthread_mutex_lock(&h->lock);
                h->stop = true;
                pthread_cond_signal(&h->wake);
                pthread_mutex_unlock(&h->lock);
                pthread_join(h->watchdog, NULL);
        }
        /* after the watchdog: closing connections still takes h->lock */
        if (h->d)
                MHD_stop_daemon(h->d);
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        free(h->conns);
        free(h->cert);
        if (h->key)
                OPENSSL_clear_free(h->key, h->key_len);
        free(h);
}
