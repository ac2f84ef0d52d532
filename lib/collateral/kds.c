/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "collateral/kds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>

#include <curl/curl.h>

#include "evidence/snp_internal.h"
#include "util/hex.h"
#include "util/macro.h"

struct sink {
        uint8_t *buf;
        size_t len, max;
        bool too_big;
};

static size_t sink_write(char *p, size_t size, size_t nmemb, void *ud)
{
        struct sink *s = ud;
        size_t n = size * nmemb;
        if (n > s->max - s->len) {
                s->too_big = true;
                return 0;
        }
        uint8_t *nb = realloc(s->buf, s->len + n + 1);
        if (!nb)
                return 0;
        s->buf = nb;
        memcpy(s->buf + s->len, p, n);
        s->len += n;
        s->buf[s->len] = 0;
        return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct header_sink {
        const char *name;
        char *value;
};

static size_t header_write(char *p, size_t size, size_t nmemb, void *ud)
{
        struct header_sink *h = ud;
        size_t n = size * nmemb, nl = strlen(h->name);
        if (!h->value && n > nl + 1 && strncasecmp(p, h->name, nl) == 0 && p[nl] == ':') {
                const char *v = p + nl + 1;
                size_t vl = n - nl - 1;
                while (vl && (*v == ' ' || *v == '\t'))
                        v++, vl--;
                while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                        vl--;
                if (vl <= 64 * 1024)
                        h->value = strndup(v, vl);
        }
        return n;
}

int vt_http_get(const char *url, size_t max, uint8_t **ret, size_t *ret_len, struct vt_diag *d)
{
        return vt_http_get_header(url, max, NULL, NULL, ret, ret_len, d);
}

int vt_http_get_header(const char *url, size_t max, const char *header, char **ret_header,
                       uint8_t **ret, size_t *ret_len, struct vt_diag *d)
{
        struct sink s = {.max = max};
        struct header_sink hs = {.name = header};
        long status = 0;
        int e = 0;

        if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
                return vt_diag_set(d, VT_E_INVAL,
                                   "http: only http:// and https:// URLs are fetched");
        pthread_once(&curl_once, curl_init_once);
        CURL *c = curl_easy_init();
        if (!c)
                return VT_E_NOMEM;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "veritee/" VT_VERSION);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        if (header) {
                curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_write);
                curl_easy_setopt(c, CURLOPT_HEADERDATA, &hs);
        }
        CURLcode cr = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        if (s.too_big)
                e = vt_diag_set(d, VT_E_INVAL, "http: answer from %s exceeds %zu bytes", url, max);
        else if (cr != CURLE_OK)
                e = vt_diag_set(d, VT_E_NETWORK, "http: GET %s failed: %s", url,
                                curl_easy_strerror(cr));
        else if (status != 200)
                e = vt_diag_set(d, status == 404 ? VT_E_NOTFOUND : VT_E_NETWORK,
                                "http: GET %s answered status %ld", url, status);
        else if (s.len == 0)
                e = vt_diag_set(d, VT_E_FORMAT, "http: GET %s answered an empty body", url);
        if (e == 0 && header && !hs.value)
                e = vt_diag_set(d, VT_E_FORMAT, "http: GET %s: no %s header", url, header);
        if (e < 0) {
                free(s.buf);
                free(hs.value);
                return e;
        }
        *ret = s.buf;
        *ret_len = s.len;
        if (ret_header)
                *ret_header = hs.value;
        else
                free(hs.value);
        return 0;
}

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
