/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VT_COLLATERAL_PCCS_H
#define VT_COLLATERAL_PCCS_H

#include <stdbool.h>
#include <stdint.h>

#include "veritee/veritee.h"

/* vt_pccs_fetch gets the collateral of one platform from a PCS/PCCS v4 base URL and
 * returns it as QuoteCollateralV3 JSON (malloc'd). */
int vt_pccs_fetch(const char *base, bool tdx, bool platform_ca, const uint8_t fmspc[6],
                  char **ret_json, struct vt_diag *d);

#endif
