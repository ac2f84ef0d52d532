/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "collateral/http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "util/dlib.h"

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

/* libcurl is opened on first use (util/dlib.h): a server that fetches nothing never maps it
 * nor what it pulls in (GnuTLS's and Kerberos's peers, LDAP, SASL, SSH, nghttp2, ...). */
VT_DLSYM_DECL(curl_easy_cleanup);
VT_DLSYM_DECL(curl_easy_getinfo);
VT_DLSYM_DECL(curl_easy_init);
VT_DLSYM_DECL(curl_easy_perform);
VT_DLSYM_DECL(curl_easy_setopt);
VT_DLSYM_DECL(curl_easy_strerror);
VT_DLSYM_DECL(curl_global_init);
VT_DLSYM_DECL(curl_slist_append);
VT_DLSYM_DECL(curl_slist_free_all);

static const struct vt_dlsym curl_syms[] = {
        VT_DLSYM(curl_easy_cleanup), VT_DLSYM(curl_easy_getinfo), VT_DLSYM(curl_easy_init),
        VT_DLSYM(curl_easy_perform), VT_DLSYM(curl_easy_setopt),  VT_DLSYM(curl_easy_strerror),
        VT_DLSYM(curl_global_init),  VT_DLSYM(curl_slist_append), VT_DLSYM(curl_slist_free_all),
};

static void curl_init_once(void)
{
        sym_curl_global_init(CURL_GLOBAL_DEFAULT);
}

static struct vt_dlib libcurl = VT_DLIB(VT_SONAME_CURL, curl_syms, curl_init_once);

void vt_http_response_done(struct vt_http_response *r)
{
        free(r->body);
        free(r->header);
        memset(r, 0, sizeof(*r));
}

int vt_http_do(const struct vt_http_request *r, struct vt_http_response *ret, struct vt_diag *d)
{
        struct sink s = {.max = r->max};
        struct header_sink hs = {.name = r->capture_header};
        struct curl_slist *h = NULL;
        const char *method = r->method ? r->method : r->body ? "POST" : "GET";
        if (!r->url || (strncmp(r->url, "http://", 7) != 0 && strncmp(r->url, "https://", 8) != 0))
                return vt_diag_set(d, VT_E_INVAL,
                                   "http: only http:// and https:// URLs are fetched");
        int e = vt_dlib_load(&libcurl, d);
        if (e < 0)
                return e;
        CURL *c = r->handle ? r->handle : sym_curl_easy_init();
        if (!c)
                return VT_E_NOMEM;
        for (const char *const *l = r->headers; l && *l; l++)
                h = sym_curl_slist_append(h, *l);
        sym_curl_easy_setopt(c, CURLOPT_URL, r->url);
        sym_curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        sym_curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        long timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : 30000L;
        sym_curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        sym_curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                             timeout_ms < 10000L ? timeout_ms : 10000L);
        sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        sym_curl_easy_setopt(c, CURLOPT_USERAGENT, "veritee/" VT_VERSION);
        sym_curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        sym_curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, r->capture_header ? header_write : NULL);
        sym_curl_easy_setopt(c, CURLOPT_HEADERDATA, r->capture_header ? &hs : NULL);
        if (r->cacert)
                sym_curl_easy_setopt(c, CURLOPT_CAINFO, r->cacert);
        sym_curl_easy_setopt(c, CURLOPT_NOPROXY, r->no_proxy ? "*" : NULL);
        if (r->body) {
                sym_curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
                sym_curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
                sym_curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
                                     strcmp(method, "POST") == 0 ? NULL : method);
        } else {
                sym_curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
                sym_curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
                                     strcmp(method, "GET") == 0 ? NULL : method);
        }
        CURLcode cr = sym_curl_easy_perform(c);
        long status = 0;
        sym_curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        /* leave a reused handle without pointers into this frame */
        sym_curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
        sym_curl_easy_setopt(c, CURLOPT_HEADERDATA, NULL);
        sym_curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, NULL);
        sym_curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
        if (!r->handle)
                sym_curl_easy_cleanup(c);
        sym_curl_slist_free_all(h);
        if (s.too_big)
                e = vt_diag_set(d, VT_E_LIMIT, "http: answer to %s %s exceeds %zu bytes", method,
                                r->url, r->max);
        else if (cr != CURLE_OK)
                e = vt_diag_set(d, VT_E_NETWORK, "http: %s %s failed: %s", method, r->url,
                                sym_curl_easy_strerror(cr));
        if (e < 0) {
                free(s.buf);
                free(hs.value);
                return e;
        }
        ret->status = status;
        ret->body = s.buf;
        ret->len = s.len;
        ret->header = hs.value;
        return 0;
}

int vt_http_get_checked(const struct vt_http_request *rq, char **ret_header, uint8_t **ret,
                        size_t *ret_len, struct vt_diag *d)
{
        struct vt_http_response rs = {0};
        const char *url = rq->url, *header = rq->capture_header;
        int e = vt_http_do(rq, &rs, d);
        if (e < 0)
                return e;
        if (rs.status != 200)
                e = vt_diag_set(d, rs.status == 404 ? VT_E_NOTFOUND : VT_E_NETWORK,
                                "http: GET %s answered status %ld", url, rs.status);
        else if (rs.len == 0)
                e = vt_diag_set(d, VT_E_FORMAT, "http: GET %s answered an empty body", url);
        else if (header && !rs.header)
                e = vt_diag_set(d, VT_E_FORMAT, "http: GET %s: no %s header", url, header);
        if (e < 0) {
                vt_http_response_done(&rs);
                return e;
        }
        *ret = rs.body;
        *ret_len = rs.len;
        if (ret_header)
                *ret_header = rs.header;
        else
                free(rs.header);
        return 0;
}

int vt_http_get_header(const char *url, size_t max, const char *header, char **ret_header,
                       uint8_t **ret, size_t *ret_len, struct vt_diag *d)
{
        struct vt_http_request rq = {.url = url, .max = max, .capture_header = header};
        return vt_http_get_checked(&rq, ret_header, ret, ret_len, d);
}

int vt_http_get(const char *url, size_t max, uint8_t **ret, size_t *ret_len, struct vt_diag *d)
{
        return vt_http_get_header(url, max, NULL, NULL, ret, ret_len, d);
}
