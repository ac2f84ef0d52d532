/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VTD_HTTP_H
#define VTD_HTTP_H

#include "server.h"

#include <pthread.h>

struct vtd_conn; /* a connection being watched for the request deadline (http.c) */

struct vtd_http {
        struct MHD_Daemon *d;
        struct vtd *s;
        uint8_t *cert, *key;
        size_t key_len;
        uint16_t port;
        /* the request deadline: every open connection, and a watchdog thread that cuts
         * those whose request is not complete limits.request_timeout_seconds after it
         * started. lock also orders a cut against MHD closing the fd. */
        pthread_mutex_t lock;
        pthread_cond_t wake; /* CLOCK_MONOTONIC */
        struct vtd_conn *conns;
        size_t n_conns;
        pthread_t watchdog;
        bool watchdog_running, stop;
};

/* vtd_proxies_parse reads http.trusted_proxies (addresses, ADDRESS/BITS) into s->proxies;
 * the first that is neither stops start-up with a reason naming it. */
int vtd_proxies_parse(struct vtd *s, struct vt_diag *d);

int vtd_http_start(struct vtd *s, struct vtd_http **ret, struct vt_diag *d);
void vtd_http_stop(struct vtd_http *h);

#endif
