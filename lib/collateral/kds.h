/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral fetching: a bounded HTTP GET (libcurl) and the AMD KDS naming rules. */
#ifndef VT_COLLATERAL_KDS_H
#define VT_COLLATERAL_KDS_H

#include <stddef.h>
#include <stdint.h>

#include "veritee/snp.h"

#define VT_KDS_DEFAULT_URL "https://kdsintf.amd.com"

#include "collateral/http.h"

/*
 * The gate in front of KDS for a server: fetches happen on a request's thread, so they
 * are bounded. At most max_in_flight at once and one per client; the same URL is not
 * fetched twice at once; a URL whose fetch failed is not fetched again for retry_s
 * seconds (a negative cache, so that varying chip ids cost one fetch each and a failing
 * KDS is not hammered). Over a limit the caller is refused at once (VT_E_LIMIT) rather
 * than made to wait. Thread-safe.
 */
#define VT_KDS_NEGATIVE_MAX 512

struct vt_kds_gate;

/* vt_kds_gate_new makes a gate; max_in_flight 0 means no fetch at all. */
int vt_kds_gate_new(unsigned max_in_flight, unsigned retry_s, struct vt_kds_gate **ret);
void vt_kds_gate_free(struct vt_kds_gate *g);

/* vt_kds_gate_enter takes a place for fetching url_hash (SHA-256 of the URL) for client
 * (NULL: no per-client limit) at time now, or says why not: VT_E_NETWORK (failed within
 * retry_s), VT_E_UNSUPPORTED (fetching is off), VT_E_LIMIT (in flight already: this URL,
 * this client, or max_in_flight). vt_kds_gate_leave gives the place back and remembers a
 * failure. */
int vt_kds_gate_enter(struct vt_kds_gate *g, const uint8_t url_hash[32], const char *client,
                      int64_t now, struct vt_diag *d);
void vt_kds_gate_leave(struct vt_kds_gate *g, const uint8_t url_hash[32], bool failed, int64_t now);

/* vt_kds_get fetches url (status 200, a non-empty body of at most max bytes) within
 * timeout_ms (0: 30 s); errors as vt_http_get. */
int vt_kds_get(const char *url, size_t max, long timeout_ms, uint8_t **ret, size_t *ret_len,
               struct vt_diag *d);

/* vt_kds_cache_path names the on-disk cache file for the VCEK of r:
 * DIR/snp-vcek-<Product>-<hwid>-<reported tcb>.der */
int vt_kds_cache_path(const char *dir, enum vt_snp_product p, const struct vt_snp_report *r,
                      char **ret);

#endif
