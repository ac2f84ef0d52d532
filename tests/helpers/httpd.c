/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HTTPD_MAX_REQUEST 8192u

struct route {
        char *path;
        int status;
        uint8_t *body;
        size_t body_len;
        char *headers; /* NULL or CRLF-terminated lines */
};

struct test_httpd {
        int lfd;
        int wake[2]; /* self-pipe: a byte on wake[1] stops the thread */
        int port;
        pthread_t thread;
        pthread_mutex_t lock;
        unsigned hits;
        char last[HTTPD_MAX_REQUEST + 1];
        char last_copy[HTTPD_MAX_REQUEST + 1];
        char *log[TEST_HTTPD_MAX_LOG]; /* targets of well-formed requests, oldest first */
        unsigned n_log;
        struct route *routes;
        size_t n_routes;
};

static const char *reason_phrase(int status)
{
        switch (status) {
        case 200:
                return "OK";
        case 400:
                return "Bad Request";
        case 404:
                return "Not Found";
        case 500:
                return "Internal Server Error";
        case 503:
                return "Service Unavailable";
        default:
                return "Status";
        }
}

static int send_all(int fd, const void *p, size_t n)
{
        const uint8_t *b = p;
        while (n > 0) {
                ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                b += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Reads until the end of the header block, EOF, a timeout or the cap. Returns the
 * number of bytes read; buf is NUL-terminated. */
static size_t read_request(int fd, char *buf, size_t cap)
{
        size_t len = 0;
        buf[0] = 0;
        while (len < cap) {
                ssize_t k = recv(fd, buf + len, cap - len, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t)k;
                buf[len] = 0;
                if (memmem(buf, len, "\r\n\r\n", 4) || memmem(buf, len, "\n\n", 2))
                        break;
        }
        return len;
}

static bool is_tchar(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* Splits "METHOD SP TARGET SP HTTP/1.x" out of the first line of req (modified in
 * place). Returns false for anything else. */
static bool parse_request_line(char *req, size_t len, char **ret_method, char **ret_target)
{
        char *eol = memchr(req, '\n', len);
        if (!eol)
                return false;
        *eol = 0;
        if (eol > req && eol[-1] == '\r')
                eol[-1] = 0;
        char *sp1 = strchr(req, ' ');
        if (!sp1 || sp1 == req)
                return false;
        *sp1 = 0;
        for (const char *m = req; *m; m++)
                if (!is_tchar(*m))
                        return false;
        char *target = sp1 + 1;
        char *sp2 = strchr(target, ' ');
        if (!sp2 || target[0] != '/')
                return false;
        *sp2 = 0;
        if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
                return false;
        for (const char *t = target; *t; t++)
                if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
                        return false;
        *ret_method = req;
        *ret_target = target;
        return true;
}

static void respond(int fd, int status, const char *extra, const uint8_t *body, size_t len,
                    bool head)
{
        char hdr[256];
        int n = snprintf(hdr, sizeof(hdr),
                         "HTTP/1.1 %d %s\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n",
                         status, reason_phrase(status), len);
        if (n < 0 || (size_t)n >= sizeof(hdr))
                return;
        if (send_all(fd, hdr, (size_t)n) < 0)
                return;
        if (extra && send_all(fd, extra, strlen(extra)) < 0)
                return;
        if (send_all(fd, "\r\n", 2) < 0)
                return;
        if (!head && len > 0)
                (void)send_all(fd, body, len);
}

/* A header block is "Name: value\r\n" lines: CR only before LF, LF only after CR. */
static bool headers_ok(const char *s)
{
        size_t n = strlen(s);
        if (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n')
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\r' && s[i + 1] != '\n')
                        return false;
                if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
                        return false;
        }
        return true;
}

static void serve_one(struct test_httpd *h, int fd)
{
        static const char not_found[] = "not found\n";
        static const char bad[] = "bad request\n";
        char *req = malloc(HTTPD_MAX_REQUEST + 1);
        char *method = NULL, *target = NULL;
        struct timeval tv = {.tv_sec = 5};

        if (!req)
                return;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        size_t len = read_request(fd, req, HTTPD_MAX_REQUEST);
        if (len == 0) {
                free(req);
                return;
        }
        bool ok = parse_request_line(req, len, &method, &target);

        const struct route *rt = NULL;
        pthread_mutex_lock(&h->lock);
        h->hits++;
        if (ok) {
                snprintf(h->last, sizeof(h->last), "%s", target);
                if (h->n_log < TEST_HTTPD_MAX_LOG && (h->log[h->n_log] = strdup(target)))
                        h->n_log++;
                for (size_t i = 0; i < h->n_routes && !rt; i++)
                        if (strcmp(h->routes[i].path, target) == 0)
                                rt = &h->routes[i];
        }
        pthread_mutex_unlock(&h->lock);

        bool head = ok && strcmp(method, "HEAD") == 0;
        if (!ok)
                respond(fd, 400, NULL, (const uint8_t *)bad, sizeof(bad) - 1, false);
        else if (!rt)
                respond(fd, 404, NULL, (const uint8_t *)not_found, sizeof(not_found) - 1, head);
        else
                respond(fd, rt->status ? rt->status : 200, rt->headers, rt->body, rt->body_len,
                        head);

        /* Let the client read the answer before the socket closes: unread request
         * bytes would otherwise turn the close into a reset. Bounded in time and size. */
        (void)shutdown(fd, SHUT_WR);
        tv = (struct timeval){.tv_usec = 200000};
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (int i = 0; i < 16; i++)
                if (recv(fd, req, HTTPD_MAX_REQUEST, 0) <= 0)
                        break;
        free(req);
}

static void *httpd_main(void *arg)
{
        struct test_httpd *h = arg;
        for (;;) {
                struct pollfd p[2] = {{.fd = h->lfd, .events = POLLIN},
                                      {.fd = h->wake[0], .events = POLLIN}};
                int r = poll(p, 2, -1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 || p[1].revents)
                        break;
                if (!(p[0].revents & POLLIN))
                        continue;
                int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue; /* EAGAIN (client gone) or a transient error */
                serve_one(h, fd);
                close(fd);
        }
        return NULL;
}

static void httpd_free(struct test_httpd *h)
{
        if (h->lfd >= 0)
                close(h->lfd);
        for (int i = 0; i < 2; i++)
                if (h->wake[i] >= 0)
                        close(h->wake[i]);
        for (size_t i = 0; i < h->n_routes; i++) {
                free(h->routes[i].path);
                free(h->routes[i].body);
                free(h->routes[i].headers);
        }
        free(h->routes);
        for (unsigned i = 0; i < h->n_log; i++)
                free(h->log[i]);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

struct test_httpd *test_httpd_start(const struct test_route *routes, size_t n)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        socklen_t sl = sizeof(sa);
        struct test_httpd *h = calloc(1, sizeof(*h));
        int one = 1;

        if (!h)
                return NULL;
        h->lfd = h->wake[0] = h->wake[1] = -1;
        pthread_mutex_init(&h->lock, NULL);
        if (n > 0) {
                h->routes = calloc(n, sizeof(*h->routes));
                if (!h->routes)
                        goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                struct route *r = &h->routes[h->n_routes++];
                r->status = routes[i].status;
                r->path = strdup(routes[i].path ? routes[i].path : "");
                r->body_len = routes[i].body_len;
                r->body = malloc(r->body_len ? r->body_len : 1);
                if (!r->path || !r->body)
                        goto fail;
                if (routes[i].headers) {
                        if (!headers_ok(routes[i].headers)) {
                                errno = EINVAL;
                                goto fail;
                        }
                        if (!(r->headers = strdup(routes[i].headers)))
                                goto fail;
                }
                if (r->body_len)
                        memcpy(r->body, routes[i].body, r->body_len);
        }

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (h->lfd < 0)
                goto fail;
        (void)setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(h->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(h->lfd, 16) < 0 ||
            getsockname(h->lfd, (struct sockaddr *)&sa, &sl) < 0)
                goto fail;
        h->port = ntohs(sa.sin_port);
        if (pipe2(h->wake, O_CLOEXEC) < 0)
                goto fail;
        if (pthread_create(&h->thread, NULL, httpd_main, h) != 0)
                goto fail;
        return h;
fail:;
        int saved = errno;
        httpd_free(h);
        errno = saved;
        return NULL;
}

int test_httpd_port(const struct test_httpd *h)
{
        return h ? h->port : -1;
}

const char *test_httpd_url(const struct test_httpd *h, char *buf, size_t cap)
{
        snprintf(buf, cap, "http://127.0.0.1:%d", test_httpd_port(h));
        return buf;
}

unsigned test_httpd_hits(struct test_httpd *h)
{
        pthread_mutex_lock(&h->lock);
        unsigned n = h->hits;
        pthread_mutex_unlock(&h->lock);
        return n;
}

const char *test_httpd_last_path(struct test_httpd *h)
{
        pthread_mutex_lock(&h->lock);
        memcpy(h->last_copy, h->last, sizeof(h->last_copy));
        pthread_mutex_unlock(&h->lock);
        return h->last_copy;
}

int test_httpd_request(struct test_httpd *h, unsigned i, char *buf, size_t cap)
{
        int found = 0;
        pthread_mutex_lock(&h->lock);
        if (i < h->n_log) {
                snprintf(buf, cap, "%s", h->log[i]);
                found = 1;
        }
        pthread_mutex_unlock(&h->lock);
        return found;
}

void test_httpd_stop(struct test_httpd *h)
{
        if (!h)
                return;
        ssize_t k;
        do
                k = write(h->wake[1], "x", 1);
        while (k < 0 && errno == EINTR);
        pthread_join(h->thread, NULL);
        httpd_free(h);
}
