/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
/* Published documents: JWKS, OpenID discovery, Prometheus metrics. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server.h"

void vtd_public_base(const struct vtd *s, unsigned port, char out[static VTD_URL_MAX])
{
        if (s->cfg.public_url) {
                snprintf(out, VTD_URL_MAX, "%s", s->cfg.public_url);
                return;
        }
        /* listen is HOST:PORT (config.c); the port actually bound replaces it, so that
         * "port 0" names the port chosen */
        const char *colon = strrchr(s->cfg.listen, ':');
        int hl = colon ? (int)(colon - s->cfg.listen) : (int)strlen(s->cfg.listen);
        snprintf(out, VTD_URL_MAX, "%s://%.*s:%u", s->cfg.tls_certificate ? "https" : "http",
                 hl < 256 ? hl : 256, s->cfg.listen, port);
}

const char *vtd_issuer(const struct vtd *s, unsigned port, char buf[static VTD_URL_MAX])
{
        if (s->cfg.token_issuer)
                return s->cfg.token_issuer;
        vtd_public_base(s, port, buf);
        return buf;
}

/* Appends a key's JWK (stolen) unless its kid is there already (the same file named
 * twice, or the next key swapped in and still named as next). */
static int publish(json_t *keys, json_t *jwk, const char *what)
{
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        size_t i;
        json_t *k;
        json_array_foreach (keys, i, k)
                if (kid && json_equal(json_object_get(k, "kid"), json_object_get(jwk, "kid"))) {
                        vtd_log("warning", "%s: key %s is published already", what, kid);
                        json_decref(jwk);
                        return 0;
                }
        return json_array_append_new(keys, jwk) < 0 ? VT_E_NOMEM : 0;
}

int vtd_jwks_build(struct vtd *s, struct vt_diag *d)
{
        json_t *keys = json_array();
        int e;
        s->jwks = json_pack("{s:o}", "keys", keys);
        if (!s->jwks || (e = publish(keys, vt_signer_jwk(s->signer), "token.signing_key")) < 0)
                return VT_E_NOMEM;
        if (s->cfg.token_next_key) {
                /* made like the signing key when absent, so that swapping it in later
                 * is renaming two settings */
                struct vt_signer *next = NULL;
                if ((e = vt_signer_load_or_create_as(s->cfg.token_next_key,
                                                     "token.next_signing_key", &next, d)) < 0)
                        return e;
                json_t *jwk = vt_signer_jwk(next);
                vt_signer_free(next);
                if (!jwk || (e = publish(keys, jwk, "token.next_signing_key")) < 0)
                        return VT_E_NOMEM;
        }
        for (size_t i = 0; i < s->cfg.n_token_retired_keys; i++) {
                json_t *jwk = NULL;
                if ((e = vt_jwt_key_file_jwk(s->cfg.token_retired_keys[i], "token.retired_keys",
                                             &jwk, d)) < 0)
                        return e;
                if ((e = publish(keys, jwk, "token.retired_keys")) < 0)
                        return e;
        }
        /* a relying party holds the JWKS this long: a key published as next is known to
         * every one of them once this has passed, well within the overlap (token.ttl) */
        unsigned age = s->cfg.jwks_max_age;
        if (!age)
                age = s->cfg.token_ttl / 2 < 300 ? (unsigned)(s->cfg.token_ttl / 2) : 300;
        snprintf(s->jwks_cache, sizeof(s->jwks_cache), "public, max-age=%u", age);
        return 0;
}

void vtd_jwks(struct vtd *s, struct vtd_response *res)
{
        /* with the Azure-compatible API on, its RS256 key too: the discovery document
         * names one issuer for both kinds of token, so its jwks_uri must lead to both keys
         * (a Key Vault-like relying party that trusts us as an authority looks here) */
        const json_t *az = vtd_azure_public_jwk(s);
        json_t *doc = az ? json_deep_copy(s->jwks) : json_incref(s->jwks);
        if (az && doc)
                json_array_append(json_object_get(doc, "keys"), (json_t *)az);
        vtd_json_response(res, 200, doc);
        res->cache_control = s->jwks_cache;
}

void vtd_oidc(struct vtd *s, unsigned port, const char *forwarded, struct vtd_response *res)
{
        /* From the configuration, never from the request's Host header: a Host header is
         * the client's to choose, and a discovery document that names the client's host
         * as where our keys live would let whoever can reach us, or sits in front of a
         * cache, point verifiers at keys of their own. Only a trusted proxy's
         * X-Forwarded-Proto/-Host name jwks_uri (forwarded); the issuer never changes
         * per request: it is what the tokens say. */
        char base[VTD_URL_MAX], ib[VTD_URL_MAX], jwks[VTD_URL_MAX + 32];
        if (forwarded)
                snprintf(base, sizeof(base), "%s", forwarded);
        else
                vtd_public_base(s, port, base);
        snprintf(jwks, sizeof(jwks), "%s/.well-known/jwks.json", base);
        json_t *doc =
                json_pack("{s:s, s:s, s:[s], s:[s], s:[s]}", "issuer", vtd_issuer(s, port, ib),
                          "jwks_uri", jwks, "id_token_signing_alg_values_supported", "ES256",
                          "response_types_supported", "token", "subject_types_supported", "public");
        /* the Azure-compatible API (azure_api.c) signs RS256 under the same issuer; its key
         * is in the same JWKS, as MAA's discovery document leads to its /certs */
        if (doc && vtd_azure_public_jwk(s))
                json_array_append_new(json_object_get(doc, "id_token_signing_alg_values_supported"),
                                      json_string("RS256"));
        vtd_json_response(res, 200, doc);
        res->cache_control = s->jwks_cache;
        if (s->n_proxies)
                res->vary = "X-Forwarded-Proto, X-Forwarded-Host";
}

static const char *const route_names[_ROUTE_MAX] = {"auth",
                                                    "attest",
                                                    "jwks",
                                                    "openid-configuration",
                                                    "healthz",
                                                    "readyz",
                                                    "metrics",
                                                    "resource",
                                                    "resource-policy",
                                                    "resources",
                                                    "reference-value",
                                                    "ledger",
                                                    "k8s",
                                                    "azure",
                                                    "other"};
static const unsigned status_codes[VTD_N_STATUS] = {200, 400, 401, 403, 404, 405,
                                                    413, 429, 500, 503, 0};
static const char *const verdict_names[VTD_N_VERDICT] = {"affirming", "warning", "contraindicated",
                                                         "rejected"};
/* latency bucket upper bounds in seconds */
static const double buckets[VTD_N_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,   0.25,   0.5,   1,    5};

void vtd_count_verification(struct vtd *s, const char *tee, const char *verdict)
{
        /* the library's tees, then "other" */
        size_t t = VTD_N_TEES - 1, v = VTD_N_VERDICT - 1;
        for (size_t i = 0; i < VTD_N_TEES - 1 && i < vt_attest_tee_count(); i++)
                if (strcmp(tee, vt_attest_tee_name(i)) == 0)
                        t = i;
        for (size_t i = 0; i < VTD_N_VERDICT; i++)
                if (strcmp(verdict, verdict_names[i]) == 0)
                        v = i;
        atomic_fetch_add(&s->metrics.verifications[t][v], 1);
}

static const char *const release_names[_VTD_RELEASE_MAX] = {
        "released",       "denied_token", "denied_not_found", "denied_no_policy", "denied_policy",
        "denied_tee_key", "error"};

void vtd_count_release(struct vtd *s, enum vtd_release what)
{
        if ((unsigned)what < _VTD_RELEASE_MAX)
                atomic_fetch_add(&s->metrics.releases[what], 1);
}

void vtd_metrics_count_request(struct vtd *s, enum vtd_route r, unsigned status, uint64_t dur_us)
{
        size_t k = VTD_N_STATUS - 1;
        for (size_t i = 0; i < VTD_N_STATUS - 1; i++)
                if (status_codes[i] == status)
                        k = i;
        if ((unsigned)r >= _ROUTE_MAX)
                r = ROUTE_OTHER;
        atomic_fetch_add(&s->metrics.requests[r][k], 1);
        double sec = (double)dur_us / 1e6;
        for (size_t i = 0; i < VTD_N_BUCKETS; i++)
                if (sec <= buckets[i]) {
                        atomic_fetch_add(&s->metrics.latency_bucket[r][i], 1);
                        break;
                }
        atomic_fetch_add(&s->metrics.latency_count[r], 1);
        atomic_fetch_add(&s->metrics.latency_sum_us[r], dur_us);
}

/* The process's own figures, under the names Prometheus' client libraries use. */
static void process_metrics(FILE *f, const struct vtd *s)
{
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
                fprintf(f,
                        "# HELP process_cpu_seconds_total Total user and system CPU time spent "
                        "in seconds.\n"
                        "# TYPE process_cpu_seconds_total counter\n"
                        "process_cpu_seconds_total %.6f\n",
                        (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
        /* resident set from /proc/self/statm (pages), open descriptors from /proc/self/fd */
        FILE *sm = fopen("/proc/self/statm", "re");
        unsigned long size = 0, rss = 0;
        if (sm && fscanf(sm, "%lu %lu", &size, &rss) == 2)
                fprintf(f,
                        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                        "# TYPE process_resident_memory_bytes gauge\n"
                        "process_resident_memory_bytes %lu\n"
                        "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                        "# TYPE process_virtual_memory_bytes gauge\n"
                        "process_virtual_memory_bytes %lu\n",
                        rss * (unsigned long)sysconf(_SC_PAGESIZE),
                        size * (unsigned long)sysconf(_SC_PAGESIZE));
        if (sm)
                fclose(sm);
        DIR *d = opendir("/proc/self/fd");
        if (d) {
                unsigned long n = 0;
                for (struct dirent *e; (e = readdir(d));)
                        if (e->d_name[0] != '.')
                                n++;
                closedir(d);
                fprintf(f,
                        "# HELP process_open_fds Number of open file descriptors.\n"
                        "# TYPE process_open_fds gauge\n"
                        "process_open_fds %lu\n",
                        n > 0 ? n - 1 : 0); /* less the one opendir holds */
        }
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
                fprintf(f,
                        "# HELP process_max_fds Maximum number of open file descriptors.\n"
                        "# TYPE process_max_fds gauge\n"
                        "process_max_fds %lu\n",
                        (unsigned long)rl.rlim_cur);
        fprintf(f,
                "# HELP process_start_time_seconds Start time of the process since unix epoch "
                "in seconds.\n"
                "# TYPE process_start_time_seconds gauge\n"
                "process_start_time_seconds %lld\n",
                (long long)s->started);
}

void vtd_metrics_text(struct vtd *s, struct vtd_response *res)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                res->status = 500;
                return;
        }
        fprintf(f, "# HELP veritee_http_requests_total HTTP requests by route and status.\n"
                   "# TYPE veritee_http_requests_total counter\n");
        for (size_t r = 0; r < _ROUTE_MAX; r++)
                for (size_t k = 0; k < VTD_N_STATUS; k++) {
                        unsigned long n = atomic_load(&s->metrics.requests[r][k]);
                        if (!n)
                                continue;
                        if (status_codes[k])
                                fprintf(f,
                                        "veritee_http_requests_total{route=\"%s\",status=\"%u\"} "
                                        "%lu\n",
                                        route_names[r], status_codes[k], n);
                        else
                                fprintf(f,
                                        "veritee_http_requests_total{route=\"%s\",status=\"other\"}"
                                        " %lu\n",
                                        route_names[r], n);
                }
        fprintf(f, "# HELP veritee_verifications_total Evidence verifications by tee and verdict.\n"
                   "# TYPE veritee_verifications_total counter\n");
        for (size_t t = 0; t < VTD_N_TEES; t++)
                for (size_t v = 0; v < VTD_N_VERDICT; v++)
                        fprintf(f, "veritee_verifications_total{tee=\"%s\",verdict=\"%s\"} %lu\n",
                                t < VTD_N_TEES - 1 && t < vt_attest_tee_count()
                                        ? vt_attest_tee_name(t)
                                        : "other",
                                verdict_names[v], atomic_load(&s->metrics.verifications[t][v]));
        fprintf(f, "# HELP veritee_releases_total Resource requests by outcome (released, or "
                   "the class of the refusal).\n"
                   "# TYPE veritee_releases_total counter\n");
        for (size_t i = 0; i < _VTD_RELEASE_MAX; i++)
                fprintf(f, "veritee_releases_total{outcome=\"%s\"} %lu\n", release_names[i],
                        atomic_load(&s->metrics.releases[i]));
        fprintf(f, "# HELP veritee_http_request_duration_seconds Request latency by route.\n"
                   "# TYPE veritee_http_request_duration_seconds histogram\n");
        for (size_t r = 0; r < _ROUTE_MAX; r++) {
                unsigned long count = atomic_load(&s->metrics.latency_count[r]);
                if (!count)
                        continue;
                unsigned long cum = 0;
                for (size_t i = 0; i < VTD_N_BUCKETS; i++) {
                        cum += atomic_load(&s->metrics.latency_bucket[r][i]);
                        fprintf(f,
                                "veritee_http_request_duration_seconds_bucket{route=\"%s\",le=\"%"
                                "g\"}"
                                " %lu\n",
                                route_names[r], buckets[i], cum);
                }
                fprintf(f,
                        "veritee_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                        "%lu\n",
                        route_names[r], count);
                fprintf(f, "veritee_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                        route_names[r], (double)atomic_load(&s->metrics.latency_sum_us[r]) / 1e6);
                fprintf(f, "veritee_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                        route_names[r], count);
        }
        fprintf(f, "# HELP veritee_build_info The version of veriteed; always 1.\n"
                   "# TYPE veritee_build_info gauge\n"
                   "veritee_build_info{version=\"" VT_VERSION "\"} 1\n");
        process_metrics(f, s);
        fclose(f);
        res->status = 200;
        res->body = buf;
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
