/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny HTTP/1.1 server for tests: one thread, 127.0.0.1 only, an ephemeral port,
 * one request per connection (Connection: close), canned answers by exact
 * path+query. Unknown paths answer 404. Requests are read up to 8 KiB; anything
 * that is not a request line answers 400. Never use it for anything but tests.
 */
#ifndef VT_TEST_HTTPD_H
#define VT_TEST_HTTPD_H

#include <stddef.h>

/* One canned answer. path is the request target exactly as the client sends it
 * ("/vcek/v1/Milan/ab..?blSPL=4&..."); status 0 means 200. headers (optional, NULL for
 * none) are extra response header lines sent after the standard ones, each written
 * "Name: value\r\n" (the PCS issuer-chain headers, for example); test_httpd_start
 * refuses a block that does not end in CRLF or that holds a bare CR or LF. */
struct test_route {
        const char *path;
        int status;
        const void *body;
        size_t body_len;
        const char *headers;
};

struct test_httpd;

/* test_httpd_start copies the n routes and starts serving them on 127.0.0.1 on
 * an ephemeral port. Returns NULL on failure (errno set). Free with
 * test_httpd_stop. */
struct test_httpd *test_httpd_start(const struct test_route *routes, size_t n);

/* test_httpd_port returns the port the server listens on. */
int test_httpd_port(const struct test_httpd *h);

/* test_httpd_url writes "http://127.0.0.1:PORT" into buf and returns buf. */
const char *test_httpd_url(const struct test_httpd *h, char *buf, size_t cap);

/* test_httpd_hits returns how many connections were answered (requests, including
 * malformed ones). Thread-safe. */
unsigned test_httpd_hits(struct test_httpd *h);

/* test_httpd_last_path returns the request target of the newest well-formed
 * request ("" if none) in a buffer owned by h that stays valid until the next call
 * or test_httpd_stop. Call it from one thread only. */
const char *test_httpd_last_path(struct test_httpd *h);

/* test_httpd_request copies the target of the i-th well-formed request (0: the
 * oldest; the first TEST_HTTPD_MAX_LOG are kept) into buf (truncated to cap) and
 * returns 1, or returns 0 when there is no such request. Thread-safe. */
#define TEST_HTTPD_MAX_LOG 64u
int test_httpd_request(struct test_httpd *h, unsigned i, char *buf, size_t cap);

/* test_httpd_stop stops the server thread, closes the socket and frees h
 * (NULL is a no-op). The port is free again afterwards. */
void test_httpd_stop(struct test_httpd *h);

#endif
