/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral fetching: a bounded HTTP GET (libcurl) and the AMD KDS naming rules. */
#ifndef VT_COLLATERAL_KDS_H
#define VT_COLLATERAL_KDS_H

#include <stddef.h>
#include <stdint.h>

#include "veritee/snp.h"

#define VT_KDS_DEFAULT_URL "https://kdsintf.amd.com"

#include "collateral/http.h"

/* vt_kds_cache_path names the on-disk cache file for the VCEK of r:
 * DIR/snp-vcek-<Product>-<hwid>-<reported tcb>.der */
int vt_kds_cache_path(const char *dir, enum vt_snp_product p, const struct vt_snp_report *r,
                      char **ret);

#endif
