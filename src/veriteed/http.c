/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP plumbing on libmicrohttpd: the route table (each row with its handler), bounded
 * bodies, limits, one structured log line per request, metrics. API handlers live in
 * their own files (kbs.c, resource.c, admin.c, wellknown.c); the request record and
 * the response helpers in response.c.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"

static atomic_long active_connections;

/* Methods a route accepts, as a bit set; JSON_BODY in the same set says that its body
 * must be declared JSON (Content-Type: application/json, as Trustee's server requires: a
 * body sent as text/plain or a form is refused before it is read). */
enum { M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8, M_HEAD = 16, JSON_BODY = 32 };

static unsigned method_bit(const char *m)
{
        return strcmp(m, "GET") == 0      ? M_GET
               : strcmp(m, "POST") == 0   ? M_POST
               : strcmp(m, "PUT") == 0    ? M_PUT
               : strcmp(m, "DELETE") == 0 ? M_DELETE
               : strcmp(m, "HEAD") == 0   ? M_HEAD
                                          : 0;
}

/* HEAD is a GET without the body (libmicrohttpd leaves the body out), on every GET route
 * but a resource's: there a GET releases a secret, recorded in the ledger, which a HEAD
 * must not do. */
static unsigned methods_of(const struct vtd_route_row *row);

/* The Allow header's value for a set of methods. */
static void allow_text(unsigned m, char *buf, size_t n)
{
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = {{M_GET, "GET"},
                     {M_HEAD, "HEAD"},
                     {M_POST, "POST"},
                     {M_PUT, "PUT"},
                     {M_DELETE, "DELETE"}};
        size_t at = 0;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if ((m & names[i].bit) && at < n)
                        at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? ", " : "",
                                               names[i].name);
}

/* The well-known documents and probes, in the handler shape of the route table. */
static void route_jwks(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        (void)req;
        vtd_jwks(s, res);
}

/* ---- http.trusted_proxies ---- */

/* An address or a network of http.trusted_proxies. */
struct vtd_proxy {
        int family; /* AF_INET, AF_INET6 */
        uint8_t addr[16];
        unsigned bits;
};

int vtd_proxies_parse(struct vtd *s, struct vt_diag *d)
{
        if (!s->cfg.n_trusted_proxies)
                return 0;
        s->proxies = calloc(s->cfg.n_trusted_proxies, sizeof(*s->proxies));
        if (!s->proxies)
                return VT_E_NOMEM;
        for (size_t i = 0; i < s->cfg.n_trusted_proxies; i++) {
                const char *v = s->cfg.trusted_proxies[i];
                struct vtd_proxy *p = &s->proxies[i];
                char a[INET6_ADDRSTRLEN];
                const char *slash = strchr(v, '/');
                size_t al = slash ? (size_t)(slash - v) : strlen(v);
                bool ok = al > 0 && al < sizeof(a);
                unsigned bits = 0;
                if (ok) {
                        memcpy(a, v, al);
                        a[al] = 0;
                        p->family = strchr(a, ':') ? AF_INET6 : AF_INET;
                        ok = inet_pton(p->family, a, p->addr) == 1;
                }
                unsigned max = p->family == AF_INET6 ? 128 : 32;
                if (ok && slash) {
                        /* 1 to 3 digits, at most the address's bits */
                        const char *q = slash + 1;
                        ok = *q && strlen(q) <= 3;
                        for (; ok && *q; q++) {
                                ok = *q >= '0' && *q <= '9';
                                bits = bits * 10 + (unsigned)(*q - '0');
                        }
                        ok = ok && bits <= max;
                } else {
                        bits = max;
                }
                if (!ok)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "config: http.trusted_proxies: \"%s\" is not an "
                                           "address or ADDRESS/BITS (IPv4 or IPv6)",
                                           v);
                p->bits = bits;
        }
        s->n_proxies = s->cfg.n_trusted_proxies;
        return 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
        if (memcmp(a, b, bits / 8) != 0)
                return false;
        if (bits % 8 == 0)
                return true;
        uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));
        return (a[bits / 8] & mask) == (b[bits / 8] & mask);
}

/* Whether the connection's peer is one of http.trusted_proxies (an IPv4-mapped IPv6
 * address counts as the IPv4 address). */
static bool from_trusted_proxy(const struct vtd *s, struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        uint8_t a[16];
        int fam;
        if (!sa)
                return false;
        if (sa->sa_family == AF_INET) {
                fam = AF_INET;
                memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        } else if (sa->sa_family == AF_INET6) {
                const struct in6_addr *in = &((const struct sockaddr_in6 *)sa)->sin6_addr;
                fam = IN6_IS_ADDR_V4MAPPED(in) ? AF_INET : AF_INET6;
                memcpy(a, fam == AF_INET ? &in->s6_addr[12] : in->s6_addr, fam == AF_INET ? 4 : 16);
        } else {
                return false;
        }
        for (size_t i = 0; i < s->n_proxies; i++)
                if (s->proxies[i].family == fam &&
                    prefix_equal(a, s->proxies[i].addr, s->proxies[i].bits))
                        return true;
        return false;
}

/* The first element of a forwarded header ("a, b" gives "a"), trimmed, into out; false
 * when it is empty or too long. */
static bool first_element(const char *v, char *out, size_t cap)
{
        while (*v == ' ' || *v == '\t')
                v++;
        size_t n = strcspn(v, ", \t");
        if (!n || n >= cap)
                return false;
        memcpy(out, v, n);
        out[n] = 0;
        return true;
}

/* The base URL a trusted proxy names with X-Forwarded-Proto and X-Forwarded-Host, in
 * place of the scheme and the host of the public base (its path kept), into out; false
 * when the peer is not a trusted proxy, it sent neither header, or one is malformed
 * (proto http or https; host letters, digits and .-:[] only). */
static bool forwarded_base(const struct vtd *s, struct vtd_request *req, char *out, size_t cap)
{
        struct MHD_Connection *c = req->conn;
        if (!s->n_proxies || !c || !from_trusted_proxy(s, c))
                return false;
        const char *xp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
        const char *xh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Host");
        if (!xp && !xh)
                return false;
        char base[VTD_URL_MAX], proto[8], host[256];
        vtd_public_base(s, req->port, base);
        const char *auth = strstr(base, "://") + 3;
        const char *path = auth + strcspn(auth, "/");
        if (xp && (!first_element(xp, proto, sizeof(proto)) ||
                   (strcmp(proto, "http") != 0 && strcmp(proto, "https") != 0)))
                return false;
        if (xh && !first_element(xh, host, sizeof(host)))
                return false;
        for (const char *p = host; xh && *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
                            *p))
                        return false;
        int n = snprintf(out, cap, "%.*s://%.*s%s",
                         xp ? (int)strlen(proto) : (int)(auth - 3 - base), xp ? proto : base,
                         xh ? (int)strlen(host) : (int)(path - auth), xh ? host : auth, path);
        return n > 0 && (size_t)n < cap;
}

static void route_oidc(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        char fwd[VTD_URL_MAX];
        vtd_oidc(s, req->port, forwarded_base(s, req, fwd, sizeof(fwd)) ? fwd : NULL, res);
}

static void route_metrics(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        (void)req;
        vtd_metrics_text(s, res);
}

static void route_healthz(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        (void)s;
        (void)req;
        vtd_json_member_response(res, 200, "status", "ok");
}

static void route_readyz(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        struct vt_diag d = {0};
        if (vt_store_ping(s->store, &d) < 0) {
                vtd_problem(res, req, 503, "NotReady", "the store does not answer");
                snprintf(req->reason, sizeof(req->reason), "the store does not answer: %.300s",
                         d.msg);
                return;
        }
        vtd_json_member_response(res, 200, "status", "ready");
}

static void route_attest(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        vtd_kbs_attest(s, req, req->cookie, res);
}

/* A row of the route table: a path (or a prefix, whose rest the handler gets in
 * req->rest), the methods it takes, the route id for metrics and logs, the handler. */
struct vtd_route_row {
        const char *path;
        bool prefix;
        unsigned methods;
        enum vtd_route route;
        void (*handler)(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
};

static const struct vtd_route_row routes[] = {
        {"/kbs/v0/auth", false, M_POST | JSON_BODY, ROUTE_AUTH, vtd_kbs_auth},
        {"/kbs/v0/attest", false, M_POST | JSON_BODY, ROUTE_ATTEST, route_attest},
        {"/.well-known/jwks.json", false, M_GET, ROUTE_JWKS, route_jwks},
        {"/.well-known/openid-configuration", false, M_GET, ROUTE_OIDC, route_oidc},
        {"/healthz", false, M_GET, ROUTE_HEALTHZ, route_healthz},
        {"/readyz", false, M_GET, ROUTE_READYZ, route_readyz},
        {"/metrics", false, M_GET, ROUTE_METRICS, route_metrics},
        {"/kbs/v0/resources", false, M_GET, ROUTE_RESOURCES, vtd_admin_list},
        {"/kbs/v0/resources/batch", false, M_POST | JSON_BODY, ROUTE_RESOURCES,
         vtd_admin_resource_batch},
        {"/kbs/v0/resource/", true, M_GET, ROUTE_RESOURCE, vtd_resource_get},
        {"/kbs/v0/resource/", true, M_POST | M_PUT, ROUTE_RESOURCE, vtd_admin_resource_put},
        {"/kbs/v0/resource/", true, M_DELETE, ROUTE_RESOURCE, vtd_admin_resource_delete},
        {"/kbs/v0/resource-policy/", true, M_GET, ROUTE_RESOURCE_POLICY, vtd_admin_policy_get},
        {"/kbs/v0/resource-policy/", true, M_POST | M_PUT, ROUTE_RESOURCE_POLICY,
         vtd_admin_policy_put},
        /* Trustee's global policy documents, which veriteed does not have: said, not 404 */
        {"/kbs/v0/resource-policy", false, M_GET | M_POST, ROUTE_RESOURCE_POLICY,
         vtd_admin_trustee_resource_policy},
        {"/kbs/v0/attestation-policy", false, M_GET | M_POST, ROUTE_RESOURCE_POLICY,
         vtd_admin_trustee_attestation_policy},
        {"/kbs/v0/reference-value", false, M_GET, ROUTE_REFVAL, vtd_admin_refval_list},
        {"/kbs/v0/reference-value", false, M_POST, ROUTE_REFVAL, vtd_admin_refval_add},
        {"/kbs/v0/reference-value/", true, M_DELETE, ROUTE_REFVAL, vtd_admin_refval_delete},
        {"/ledger/sth", false, M_GET, ROUTE_LEDGER, vtd_ledger_api_sth},
        {"/ledger/sths", false, M_GET, ROUTE_LEDGER, vtd_ledger_api_sths},
        {"/ledger/entries", false, M_GET, ROUTE_LEDGER, vtd_ledger_api_entries},
        {"/ledger/receipts/", true, M_GET, ROUTE_LEDGER, vtd_ledger_api_receipt},
        {"/ledger/consistency", false, M_GET, ROUTE_LEDGER, vtd_ledger_api_consistency},
        {"/ledger/jwks", false, M_GET, ROUTE_LEDGER, vtd_ledger_api_jwks},
        {"/ledger/", false, M_GET, ROUTE_LEDGER, vtd_ledger_page},
        {"/ledger", false, M_GET, ROUTE_LEDGER, vtd_ledger_page},
        /* issue 13: the Kubernetes admission webhook (webhook.c) */
        {"/k8s/mutate", false, M_POST, ROUTE_K8S, vtd_webhook_mutate},
        {"/k8s/validate", false, M_POST, ROUTE_K8S, vtd_webhook_validate},
        /* issue 14: the Azure-compatible API (azure_api.c; 404 unless azure.enabled), its
         * paths matched case-insensitively (Azure's clients vary the case) */
        {"/attest/", true, M_POST, ROUTE_AZURE, vtd_azure_attest},
        {"/certs", false, M_GET, ROUTE_AZURE, vtd_azure_certs},
        {"/keys", false, M_GET, ROUTE_AZURE, vtd_azure_keys},
        {"/keys/", true, M_GET | M_POST | M_PUT | M_DELETE, ROUTE_AZURE, vtd_azure_keys},
};

/* route_of finds the row for a URL and a method. It returns the route id of the first
 * row whose path matches (ROUTE_OTHER: none), and sets *ret_row to the row that also
 * takes the method (NULL: the path is known, the method is not) and *rest to the path
 * after its prefix. */
static unsigned methods_of(const struct vtd_route_row *row)
{
        return row->methods | ((row->methods & M_GET) && row->route != ROUTE_RESOURCE ? M_HEAD : 0);
}

static enum vtd_route route_of(const char *url, const char *method,
                               const struct vtd_route_row **ret_row, const char **rest,
                               unsigned *ret_allowed)
{
        enum vtd_route r = ROUTE_OTHER;
        unsigned m = method_bit(method);
        *ret_row = NULL;
        *rest = "";
        *ret_allowed = 0;
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct vtd_route_row *row = &routes[i];
                size_t n = strlen(row->path);
                bool nocase = row->route == ROUTE_AZURE;
                bool match = nocase ? (row->prefix ? strncasecmp(url, row->path, n) == 0
                                                   : strcasecmp(url, row->path) == 0)
                                    : (row->prefix ? strncmp(url, row->path, n) == 0
                                                   : strcmp(url, row->path) == 0);
                if (!match)
                        continue;
                if (r == ROUTE_OTHER)
                        r = row->route;
                if (row->route == r)
                        *ret_allowed |= methods_of(row);
                if (row->route == r && (methods_of(row) & m)) {
                        *ret_row = row;
                        *rest = url + (row->prefix ? n : strlen(url));
                        return r;
                }
        }
        return r;
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

/* Request ids: a per-process random key plus a counter, through splitmix64's finaliser (a
 * bijection of 64-bit words). Unique within a process, unrelated across processes and
 * replicas as random ids are, and without a call into the DRBG for every request. An id
 * correlates a request's log line, its answer (X-Request-Id) and its ledger entry; it is
 * not a secret, and nothing grants anything to whoever knows or guesses one. */
static uint64_t request_key;
static atomic_uint_fast64_t request_seq;
static pthread_once_t request_key_once = PTHREAD_ONCE_INIT;

static void request_key_init(void)
{
        uint8_t k[8];
        if (RAND_bytes(k, sizeof(k)) != 1) /* the process would not get far without a DRBG */
                memset(k, 0, sizeof(k));
        memcpy(&request_key, k, sizeof(k));
}

static void request_id(char out[17])
{
        pthread_once(&request_key_once, request_key_init);
        uint64_t z = request_key + atomic_fetch_add_explicit(&request_seq, 1, memory_order_relaxed);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        uint8_t id[8];
        for (int i = 0; i < 8; i++)
                id[i] = (uint8_t)(z >> (56 - 8 * i));
        vt_hex_encode(id, sizeof(id), out);
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
        struct vtd_request *r = calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        r->route = ROUTE_OTHER; /* until the handler sees it: MHD may refuse it first */
        r->raw_uri_len = strlen(uri);
        r->raw_uri_hides = uri_hides(uri);
        r->start_us = vtd_now_us();
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        client_key(ci ? ci->client_addr : NULL, r->client);
        request_id(r->id);
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
        if (r->status == 0) {
                /* no answer of ours: say why (libmicrohttpd answers 431, 505 or 400 itself
                 * to what it cannot parse, and logs that line unstructured) */
                r->status = 499;
                if (!r->reason[0])
                        snprintf(r->reason, sizeof(r->reason), "%s",
                                 toe == MHD_REQUEST_TERMINATED_WITH_ERROR
                                         ? "no answer of veriteed: libmicrohttpd refused the "
                                           "request (a header over its memory limit, an "
                                           "unsupported HTTP version, a malformed request)"
                                 : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
                                         ? "the connection was idle past "
                                           "limits.connection_timeout_seconds"
                                         : "the client went away or was cut off before its "
                                           "request was whole");
        }
        vtd_metrics_count_request(s, r->route, r->status, vtd_now_us() - r->start_us);
        vtd_log_request(r);
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
        k->start_us = vtd_now_us();
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
                                h->conns[i].start_us = vtd_now_us();
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
                uint64_t now = vtd_now_us();
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
                free(res->www_authenticate);
                return MHD_NO;
        }
        res->body = NULL;
        if (res->content_type)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
        if (res->csp) {
                MHD_add_response_header(r, "Content-Security-Policy", res->csp);
                MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
                MHD_add_response_header(r, "X-Frame-Options", "DENY");
                MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                res->status == 200 && res->cache_control ? res->cache_control
                                                                         : "no-store");
        if (res->vary)
                MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, res->vary);
        if (res->www_authenticate)
                MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, res->www_authenticate);
        free(res->www_authenticate);
        res->www_authenticate = NULL;
        MHD_add_response_header(r, "X-Request-Id", req->id);
        if (res->allow[0])
                MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
        if (res->set_cookie)
                MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, res->set_cookie);
        /* every 503 says when to come back: a store or ledger that is down, a full server */
        if (res->status == 503 && !res->retry_after)
                res->retry_after = 1;
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

/* Whether a Content-Type value is application/json, parameters (charset) allowed. */
static bool is_json_type(const char *v)
{
        static const char t[] = "application/json";
        if (!v)
                return false;
        while (*v == ' ' || *v == '\t')
                v++;
        if (strncasecmp(v, t, sizeof(t) - 1) != 0)
                return false;
        v += sizeof(t) - 1;
        return *v == 0 || *v == ';' || *v == ' ' || *v == '\t';
}

/* admit checks a request when its headers have arrived: the connection limit, the
 * URL, the route and method, the announced body size. It answers a refused request and
 * returns false. */
static bool admit(struct vtd *s, struct MHD_Connection *c, struct vtd_request *req, const char *url,
                  const char *method, const char *version, struct vtd_response *res)
{
        if (atomic_load(&active_connections) > (long)s->cfg.max_connections) {
                res->retry_after = 1;
                vtd_problem(res, req, 503, "ServiceUnavailable", "too many connections (limit %u)",
                            s->cfg.max_connections);
                return false;
        }
        if (req->raw_uri_hides || !uri_whole(req, url, version)) {
                vtd_problem(res, req, 400, "InvalidRequestPath",
                            "the URL holds a NUL byte (raw or %%00) or an encoded slash (%%2F)");
                return false;
        }
        if (req->route == ROUTE_OTHER) {
                vtd_problem(res, req, 404, "InvalidRequestPath", "Request path is invalid");
                return false;
        }
        if (!req->row) {
                char allow[64];
                allow_text(req->allowed, allow, sizeof(allow));
                vtd_problem(res, req, 405, "MethodNotAllowed",
                            "method %.7s not allowed here (allowed: %s)", method, allow);
                snprintf(res->allow, sizeof(res->allow), "%s", allow);
                return false;
        }
        if (req->row->methods & JSON_BODY) {
                const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_CONTENT_TYPE);
                if (!is_json_type(ct)) {
                        vtd_problem(res, req, 415, "UnsupportedMediaType",
                                    "Content-Type must be application/json, got %.40s%s",
                                    ct ? ct : "none", ct && strlen(ct) > 40 ? "..." : "");
                        return false;
                }
        }
        if (method_bit(method) & (M_POST | M_PUT)) {
                const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
                char *end = NULL;
                unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
                if (cl && (!end || *end || n > s->cfg.max_body)) {
                        vtd_problem(res, req, 413, "PayloadTooLarge",
                                    "request body larger than %zu bytes", s->cfg.max_body);
                        return false;
                }
        }
        return true;
}

/* accumulate appends a piece of the body, up to limits.max_body_bytes; past it the
 * body is dropped and the request answered with 413 once whole. */
static bool accumulate(struct vtd *s, struct vtd_request *req, const char *data, size_t n)
{
        if (req->body_too_big || req->body_len + n > s->cfg.max_body) {
                req->body_too_big = true;
                return true;
        }
        /* not realloc: a body may be a secret (an admin PUT), and realloc would leave the
         * old copy in freed memory uncleansed */
        uint8_t *nb = malloc(req->body_len + n + 1);
        if (!nb)
                return false;
        if (req->body) {
                memcpy(nb, req->body, req->body_len);
                OPENSSL_clear_free(req->body, req->body_len + 1);
        }
        req->body = nb;
        memcpy(req->body + req->body_len, data, n);
        req->body_len += n;
        req->body[req->body_len] = 0;
        return true;
}

const char *vtd_query(const struct vtd_request *req, const char *key)
{
        if (!req->conn)
                return NULL;
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* dispatch gives the handler of the request's row what it reads from the connection and
 * calls it. */
static void dispatch(struct vtd *s, struct MHD_Connection *c, struct vtd_request *req,
                     struct vtd_response *res)
{
        req->authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        req->cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id");
        req->query_repo = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "repo");
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
        const union MHD_DaemonInfo *di =
                ci ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        req->port = di ? di->port : 0;
        req->conn = c;
        req->row->handler(s, req, res);
        req->authz = req->cookie = req->query_repo = NULL;
        req->conn = NULL;
}

/* libmicrohttpd's access handler: called once with the headers, then with each piece of
 * the body, then once more when the body is complete. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
        struct vtd *s = cls;
        struct vtd_request *req = *con_cls;
        struct vtd_response res = {0};
        if (!req)
                return MHD_NO;
        req->route = route_of(url, method, &req->row, &req->rest, &req->allowed);
        if (!req->started) {
                req->started = true;
                snprintf(req->method, sizeof(req->method), "%.7s", method);
                if (!admit(s, c, req, url, method, version, &res))
                        return send_response(c, req, &res);
                return MHD_YES;
        }
        if (*upload_data_size) {
                if (!accumulate(s, req, upload_data, *upload_data_size))
                        return MHD_NO;
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (req->body_too_big) {
                vtd_problem(&res, req, 413, "PayloadTooLarge", "request body larger than %zu bytes",
                            s->cfg.max_body);
                return send_response(c, req, &res);
        }
        /* The request is in whole: the deadline stops here, not when the response is
         * queued. Waiting for a verification slot is not the client's time; cut then, an
         * attestation spent its nonce and its answer was lost (the load test found it). */
        conn_mark(c, false);
        dispatch(s, c, req, &res);
        req->rest = NULL;
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

/* libmicrohttpd's messages, through veriteed's logger as JSON lines (its format strings are
 * its own, not a client's) */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        (void)cls;
        vtd_logv("warning", fmt, ap);
}

/* listen_socket binds and listens on ss; on failure the diagnosis says which address,
 * why (errno) and what to do. */
static int listen_socket(const struct sockaddr_storage *ss, socklen_t sl, const char *listen_at,
                         struct vt_diag *d)
{
        int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return vt_diag_set(d, VT_E_IO, "http: cannot listen on %s: socket: %s", listen_at,
                                   strerror(errno));
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ss->ss_family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        /* the backlog libmicrohttpd itself uses: a burst of connections beyond a small one
         * would wait for SYN retries (a second each) before the per-client limit could
         * refuse them at once */
        if (bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, SOMAXCONN) < 0) {
                int err = errno;
                close(fd);
                const char *hint =
                        err == EADDRINUSE      ? "another process listens there: stop it, or set "
                                                 "listen: in the configuration to another address"
                        : err == EACCES        ? "ports below 1024 need root or "
                                                 "CAP_NET_BIND_SERVICE: use a higher port"
                        : err == EADDRNOTAVAIL ? "no interface of this machine has that address"
                                               : "check the listen: setting";
                return vt_diag_set(d, VT_E_IO, "http: cannot listen on %s: %s (%s)", listen_at,
                                   strerror(err), hint);
        }
        return fd;
}

int vtd_http_start(struct vtd *s, struct vtd_http **ret, struct vt_diag *d)
{
        struct sockaddr_storage ss;
        socklen_t sl = 0;
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
        /* The socket is ours, so that a failure says why (libmicrohttpd's own message named
         * port 0 and went to stderr as plain text) */
        int lfd = listen_socket(&ss, sl, s->cfg.listen, d);
        if (lfd < 0) {
                vtd_http_stop(h);
                return lfd;
        }
        h->d = MHD_start_daemon(
                flags, 0, NULL, NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, lfd,
                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)h->n_conns, MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.connection_timeout,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.max_connections_per_client,
                MHD_OPTION_URI_LOG_CALLBACK, uri_log, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                MHD_OPTION_NOTIFY_CONNECTION, notify_connection, h,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
                s->cfg.tls_certificate ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, h->key,
                MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_END);
        if (!h->d) {
                if (fcntl(lfd, F_GETFD) >= 0) /* libmicrohttpd closes it only once started */
                        close(lfd);
                vtd_http_stop(h);
                return vt_diag_set(d, VT_E_IO,
                                   "http: cannot serve on %s: libmicrohttpd did not start (its "
                                   "message is logged above)",
                                   s->cfg.listen);
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
