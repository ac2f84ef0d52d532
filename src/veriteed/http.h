/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VTD_HTTP_H
#define VTD_HTTP_H

#include "server.h"

struct vtd_http {
        struct MHD_Daemon *d;
        uint8_t *cert, *key;
        size_t key_len;
        uint16_t port;
};

int vtd_http_start(struct vtd *s, struct vtd_http **ret, struct vt_diag *d);
void vtd_http_stop(struct vtd_http *h);
const char *vtd_route_name(enum vtd_route r);

#endif
