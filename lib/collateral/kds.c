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

/* ---- the gate: bounded fetches ---- */

struct kds_flight {
        uint8_t url_hash[32];
        char client[48];
        bool has_client;
};

struct kds_failure {
        uint8_t url_hash[32];
        int64_t until; /* not fetched again before this time */
};

struct vt_kds_gate {
        pthread_mutex_t lock;
        unsigned max_in_flight, retry_s;
        struct kds_flight *flights; /* max_in_flight of them; n_flights used */
        unsigned n_flights;
        struct kds_failure failures[VT_KDS_NEGATIVE_MAX];
        size_t next_failure;
};

int vt_kds_gate_new(unsigned max_in_flight, unsigned retry_s, struct vt_kds_gate **ret)
{
        struct vt_kds_gate *g = calloc(1, sizeof(*g));
        if (!g)
                return VT_E_NOMEM;
        g->flights = calloc(max_in_flight ? max_in_flight : 1, sizeof(*g->flights));
        if (!g->flights) {
                free(g);
                return VT_E_NOMEM;
        }
        pthread_mutex_init(&g->lock, NULL);
        g->max_in_flight = max_in_flight;
        g->retry_s = retry_s;
        *ret = g;
        return 0;
}

void vt_kds_gate_free(struct vt_kds_gate *g)
{
        if (!g)
                return;
        pthread_mutex_destroy(&g->lock);
        free(g->flights);
        free(g);
}

static int gate_check_locked(struct vt_kds_gate *g, const uint8_t url_hash[32], const char *client,
                             int64_t now, struct vt_diag *d)
{
        for (size_t i = 0; i < VT_KDS_NEGATIVE_MAX; i++) {
                const struct kds_failure *f = &g->failures[i];
                if (f->until > now && memcmp(f->url_hash, url_hash, 32) == 0)
                        return vt_diag_set(d, VT_E_NETWORK,
                                           "snp: the VCEK for this chip and TCB could not be "
                                           "fetched from KDS; not tried again for %lld s",
                                           (long long)(f->until - now));
        }
        if (g->max_in_flight == 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "snp: the evidence carries no VCEK and this verifier does not "
                                   "fetch from KDS");
        for (unsigned i = 0; i < g->n_flights; i++) {
                const struct kds_flight *f = &g->flights[i];
                if (memcmp(f->url_hash, url_hash, 32) == 0)
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "snp: the VCEK for this chip and TCB is being fetched "
                                           "from KDS already; retry shortly");
                if (client && f->has_client && strcmp(f->client, client) == 0)
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "snp: a VCEK fetch from KDS for this client is in "
                                           "flight already (one per client); retry later");
        }
        if (g->n_flights >= g->max_in_flight)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "snp: %u VCEK fetches from KDS in flight (the limit); retry "
                                   "later",
                                   g->max_in_flight);
        return 0;
}

int vt_kds_gate_enter(struct vt_kds_gate *g, const uint8_t url_hash[32], const char *client,
                      int64_t now, struct vt_diag *d)
{
        if (!g || !url_hash)
                return VT_E_INVAL;
        pthread_mutex_lock(&g->lock);
        int e = gate_check_locked(g, url_hash, client, now, d);
        if (e == 0) {
                struct kds_flight *f = &g->flights[g->n_flights++];
                memcpy(f->url_hash, url_hash, 32);
                f->has_client = client != NULL;
                snprintf(f->client, sizeof(f->client), "%s", client ? client : "");
        }
        pthread_mutex_unlock(&g->lock);
        return e;
}

void vt_kds_gate_leave(struct vt_kds_gate *g, const uint8_t url_hash[32], bool failed, int64_t now)
{
        if (!g || !url_hash)
                return;
        pthread_mutex_lock(&g->lock);
        for (unsigned i = 0; i < g->n_flights; i++)
                if (memcmp(g->flights[i].url_hash, url_hash, 32) == 0) {
                        g->flights[i] = g->flights[--g->n_flights];
                        break;
                }
        if (failed && g->retry_s) {
                struct kds_failure *f = &g->failures[g->next_failure++ % VT_KDS_NEGATIVE_MAX];
                memcpy(f->url_hash, url_hash, 32);
                f->until = now + (int64_t)g->retry_s;
        }
        pthread_mutex_unlock(&g->lock);
}

int vt_kds_get(const char *url, size_t max, long timeout_ms, uint8_t **ret, size_t *ret_len,
               struct vt_diag *d)
{
        struct vt_http_request rq = {.url = url, .max = max, .timeout_ms = timeout_ms};
        return vt_http_get_checked(&rq, NULL, ret, ret_len, d);
}
