/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral fetching: a bounded HTTP GET (libcurl) and the AMD KDS naming rules. */
#ifndef VT_COLLATERAL_KDS_H
#define VT_COLLATERAL_KDS_H

#include <stddef.h>
#include <stdint.h>

#include "veritee/snp.h"

#define VT_KDS_DEFAULT_URL "https://kdsintf.amd.com"

/* vt_http_get fetches url (http or https only, redirects not followed, 30 s timeout)
 * into a fresh buffer of at most max bytes. A non-200 status is VT_E_NOTFOUND for
 * 404 and VT_E_NETWORK otherwise, with the status in diag. */
int vt_http_get(const char *url, size_t max, uint8_t **ret, size_t *ret_len, struct vt_diag *d);

/* vt_http_get_header is vt_http_get that also returns the value of one response header
 * (malloc'd; VT_E_FORMAT when absent). */
int vt_http_get_header(const char *url, size_t max, const char *header, char **ret_header,
                       uint8_t **ret, size_t *ret_len, struct vt_diag *d);

/* vt_kds_cache_path names the on-disk cache file for the VCEK of r:
 * DIR/snp-vcek-<Product>-<hwid>-<reported tcb>.der */
int vt_kds_cache_path(const char *dir, enum vt_snp_product p, const struct vt_snp_report *r,
                      char **ret);

#endif
