/* SPDX-License-Identifier: Apache-2.0 */
/* The one bounded HTTP client (libcurl) of the library, the agent and the CLI. */
#ifndef VT_COLLATERAL_HTTP_H
#define VT_COLLATERAL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/veritee.h"

struct vt_http_request {
        const char *method;         /* NULL: GET, or POST when body is set */
        const char *url;            /* http:// or https:// only */
        const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
        const void *body;           /* request body, or NULL */
        size_t body_len;
        size_t max;                 /* answer cap in bytes */
        const char *capture_header; /* a response header to return, or NULL */
        void *handle;               /* a CURL * to reuse (its cookie jar), or NULL */
        const char *cacert;         /* CA bundle for https, or NULL: the system's */
        bool no_proxy;              /* never use a proxy (link-local metadata services) */
        long timeout_ms;            /* the whole request; 0: 30 s */
};

struct vt_http_response {
        long status;
        uint8_t *body; /* NUL-terminated after len bytes */
        size_t len;
        char *header; /* the captured header's value, or NULL */
};

/* vt_http_do performs one request: redirects are not followed, timeout_ms (30 s). Transport
 * failures are VT_E_NETWORK ("METHOD URL: reason"), an answer over max VT_E_LIMIT; any
 * HTTP status is a success here and is in ret->status. Release with
 * vt_http_response_done. Thread-safe (one handle per thread). */
int vt_http_do(const struct vt_http_request *r, struct vt_http_response *ret, struct vt_diag *d);
void vt_http_response_done(struct vt_http_response *r);

/* vt_http_get fetches url and requires status 200 and a non-empty body: 404 is
 * VT_E_NOTFOUND, other statuses VT_E_NETWORK, with the status in diag. */
int vt_http_get(const char *url, size_t max, uint8_t **ret, size_t *ret_len, struct vt_diag *d);

/* vt_http_get_checked runs the GET rq (url, cap, timeout, header to capture) and accepts
 * only status 200 with a non-empty body (and the captured header, when rq asks for one):
 * VT_E_NOTFOUND for 404, VT_E_NETWORK for another status, VT_E_FORMAT otherwise, each
 * naming the URL. Outputs as vt_http_get_header. */
int vt_http_get_checked(const struct vt_http_request *rq, char **ret_header, uint8_t **ret,
                        size_t *ret_len, struct vt_diag *d);

/* vt_http_get_header is vt_http_get that also returns one response header's value
 * (malloc'd; VT_E_FORMAT when absent). */
int vt_http_get_header(const char *url, size_t max, const char *header, char **ret_header,
                       uint8_t **ret, size_t *ret_len, struct vt_diag *d);

#endif
