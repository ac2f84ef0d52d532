/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "collateral/kds.h"
#include "collateral/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>

#include <curl/curl.h>

#include "evidence/snp_internal.h"
#include "util/hex.h"
#include "util/macro.h"

static size_t hwid_len(enum vt_snp_product p)
{
        return p == VT_SNP_PRODUCT_TURIN ? 8 : 64;
}

int vt_snp_kds_vcek_url(const char *base_url, enum vt_snp_product p, const struct vt_snp_report *r,
                        char **ret)
{
        char hw[129];
        char *u = NULL;
        struct vt_snp_tcb t;
        if (!base_url || !r || p == VT_SNP_PRODUCT_UNKNOWN || (unsigned)p >= _VT_SNP_PRODUCT_MAX)
                return VT_E_INVAL;
        size_t bl = strlen(base_url);
        while (bl > 0 && base_url[bl - 1] == '/')
                bl--;
        vt_hex_encode(r->chip_id, hwid_len(p), hw);
        /* the TCB parts must be read with the product's layout, whatever the report guessed */
        vt_snp_tcb_decode(r->reported_tcb.raw, p == VT_SNP_PRODUCT_TURIN, &t);
        int n;
        if (p == VT_SNP_PRODUCT_TURIN)
                n = asprintf(
                        &u, "%.*s/vcek/v1/%s/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                        (int)bl, base_url, vt_snp_product_name(p), hw, t.fmc, t.bootloader, t.tee,
                        t.snp, t.microcode);
        else
                n = asprintf(&u, "%.*s/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                             (int)bl, base_url, vt_snp_product_name(p), hw, t.bootloader, t.tee,
                             t.snp, t.microcode);
        if (n < 0)
                return VT_E_NOMEM;
        *ret = u;
        return 0;
}

int vt_kds_cache_path(const char *dir, enum vt_snp_product p, const struct vt_snp_report *r,
                      char **ret)
{
        char hw[129];
        char *s = NULL;
        vt_hex_encode(r->chip_id, hwid_len(p), hw);
        if (asprintf(&s, "%s/snp-vcek-%s-%s-%016llx.der", dir, vt_snp_product_name(p), hw,
                     (unsigned long long)r->reported_tcb.raw) < 0)
                return VT_E_NOMEM;
        *ret = s;
        return 0;
}
