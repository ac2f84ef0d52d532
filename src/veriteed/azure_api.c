/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Azure-compatible attestation API (issue 14; /work/shared/notes/azure-apis.md section
 * 1): POST /attest/{SgxEnclave,OpenEnclave,SevSnpVm,TdxVm} in Microsoft Azure Attestation's
 * request shapes, answered with {"token": an RS256 JWT with MAA's claim names}, and GET
 * /certs, the JWKS (with x5c) that token's kid is found in. Evidence goes through the one
 * pipeline, vt_attest, with the server's reference values: what is acceptable here is what
 * is acceptable on /kbs/v0/attest. Only this file knows Azure's names; the request bodies
 * are taken apart by lib/azure. The tokens of other authorities (release targets) are
 * checked with their keys: from a JWKS file, or fetched from the authority (its discovery
 * document's jwks_uri, else ISSUER/certs) and cached.
 *
 * Binding: SHA-256 of runtimeData must be the first 32 bytes of the report data (MAA's rule
 * for SGX and TDX, and what its SNP clients send: SHA-256 then 32 zero bytes), SHA-256 of
 * initTimeData HOST_DATA (SNP) or the first 32 bytes of MRCONFIGID (TDX).
 */
#define _GNU_SOURCE
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <sys/stat.h>

#include <openssl/err.h>

#include "azure/request.h"
#include "crypto/jwk.h"
#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "collateral/http.h"
#include "crypto/x509.h"
#include "evidence/snp_wire.h"
#include "server.h"
#include "token/jose.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"

/* A signing key of another authority (azure.trusted_authorities). */
struct az_authority_key {
        char *iss;
        char *kid;
        EVP_PKEY *key;
};

#define AZ_MAX_AUTHORITY_KEYS 64
#define AZ_MAX_FETCHED        16 /* authorities whose keys are fetched */
#define AZ_REFETCH_MIN_S      30 /* an unknown kid fetches again at most this often */

/* An authority of azure.trusted_authorities named without a file: its keys are fetched
 * (its discovery document's jwks_uri, else ISSUER/certs) and kept jwks_ttl seconds. The
 * lock is held during a fetch: one fetch per authority at a time, bounded by the timeout. */
struct az_fetched {
        char *iss;
        pthread_mutex_t lock;
        int64_t fetched_at; /* the keys' time (0: none) */
        int64_t tried_at;   /* the last attempt, successful or not */
        struct az_authority_key keys[AZ_MAX_AUTHORITY_KEYS];
        size_t n;
};

struct vtd_azure {
        EVP_PKEY *key;
        X509 *cert;
        char kid[48]; /* base64url SHA-256 of the certificate's DER */
        json_t *jwks;
        struct az_authority_key others[AZ_MAX_AUTHORITY_KEYS];
        size_t n_others;
        struct az_fetched fetched[AZ_MAX_FETCHED];
        size_t n_fetched;
};

/* The api-versions MAA's clients send (the JS SDK 2020-10-01, SNP/TDX GA 2022-08-01,
 * current stable 2025-06-01). */
static const char *const api_versions[] = {"2020-10-01", "2022-08-01", "2025-06-01"};

/* az_error answers in Azure's error shape {"error": {"code", "message"}} and keeps the
 * message as the request's logged reason. */
static void az_error(struct vtd_response *res, struct vtd_request *req, unsigned status,
                     const char *code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void az_error(struct vtd_response *res, struct vtd_request *req, unsigned status,
                     const char *code, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(req->reason, sizeof(req->reason), "%.380s", msg);
        vtd_json_response(res, status,
                          json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

/* ---- the signing key: RSA-2048 and a self-signed certificate, one PEM file ---- */

static int make_key(const char *path, struct vtd_azure *az, struct vt_diag *d)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_RSA_gen(2048);
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        X509_NAME *name;
        uint8_t serial[16];

        if (!key || !x || !b || RAND_bytes(serial, sizeof(serial)) != 1)
                return vt_diag_set(d, VT_E_CRYPTO, "azure.signing_key: cannot make a key");
        serial[0] &= 0x7f;
        BIGNUM *sn = BN_bin2bn(serial, sizeof(serial), NULL);
        name = X509_get_subject_name(x);
        bool ok = sn && X509_set_version(x, 2) == 1 &&
                  BN_to_ASN1_INTEGER(sn, X509_get_serialNumber(x)) &&
                  X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
                  X509_gmtime_adj(X509_getm_notAfter(x), 10L * 366 * 86400) &&
                  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                             (const unsigned char *)"veritee Azure-compatible "
                                                                    "attestation",
                                             -1, -1, 0) == 1 &&
                  X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, key) == 1 &&
                  X509_sign(x, key, EVP_sha256()) > 0 &&
                  PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1 &&
                  PEM_write_bio_X509(b, x) == 1;
        BN_free(sn);
        if (!ok) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO, "azure.signing_key: cannot make a key");
        }
        char *pem = NULL;
        long n = BIO_get_mem_data(b, &pem);
        int e = vt_write_file_atomic(path, pem, (size_t)n, 0600);
        if (e < 0)
                return vt_diag_set(d, e, "azure.signing_key: cannot write %s", path);
        az->key = TAKE_PTR(key);
        az->cert = TAKE_PTR(x);
        return 0;
}

static int load_key(const char *path, struct vtd_azure *az, struct vt_diag *d)
{
        uint8_t *buf = NULL;
        size_t n = 0;
        int e = vt_read_private_file(path, 64u * 1024u, false, "azure.signing_key", &buf, &n, d);
        if (e < 0)
                return e;
        _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(buf, (int)n);
        if (b) {
                az->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
                az->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
        }
        OPENSSL_clear_free(buf, n + 1);
        ERR_clear_error();
        if (!az->key || !az->cert || EVP_PKEY_get_base_id(az->key) != EVP_PKEY_RSA ||
            EVP_PKEY_get_bits(az->key) < 2048 || X509_check_private_key(az->cert, az->key) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT,
                                   "azure.signing_key %s: must hold an RSA key of at least 2048 "
                                   "bits and then its certificate (PEM)",
                                   path);
        }
        return 0;
}

static json_t *bn_b64(const EVP_PKEY *key, const char *param)
{
        BIGNUM *bn = NULL;
        json_t *v = NULL;
        if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
                return NULL;
        int n = BN_num_bytes(bn);
        uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
        char *s = NULL;
        if (buf && BN_bn2bin(bn, buf) == n && vt_b64_encode(buf, (size_t)n, VT_B64_URL, &s) == 0)
                v = json_string(s);
        free(s);
        free(buf);
        BN_free(bn);
        return v;
}

/* jwks_rsa_keys appends the RSA keys of jwks with a kid (at least 2048 bits; others are
 * skipped) to keys[*n], iss their issuer, and counts them in *ret_found. */
static int jwks_rsa_keys(const json_t *jwks, const char *iss, size_t iss_len,
                         struct az_authority_key *keys, size_t *n, size_t *ret_found,
                         struct vt_diag *d)
{
        const json_t *k;
        size_t i, found = 0;
        json_array_foreach (json_object_get(jwks, "keys"), i, k) {
                const char *kty = json_string_value(json_object_get(k, "kty"));
                const char *kid = json_string_value(json_object_get(k, "kid"));
                const char *n64 = json_string_value(json_object_get(k, "n"));
                const char *e64 = json_string_value(json_object_get(k, "e"));
                _cleanup_free_ uint8_t *nb = NULL, *eb = NULL;
                size_t nl = 0, el = 0;
                EVP_PKEY *key = NULL;
                if (!kty || strcmp(kty, "RSA") != 0 || !kid || strlen(kid) > 256 || !n64 || !e64 ||
                    vt_b64_decode(n64, strlen(n64), VT_B64_URL, 1024, &nb, &nl) < 0 ||
                    vt_b64_decode(e64, strlen(e64), VT_B64_URL, 8, &eb, &el) < 0 || nl < 256 ||
                    vt_rsa_public_from_ne(nb, nl, eb, el, &key) < 0)
                        continue;
                if (*n == AZ_MAX_AUTHORITY_KEYS) {
                        EVP_PKEY_free(key);
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "azure.trusted_authorities: more than %d keys",
                                           AZ_MAX_AUTHORITY_KEYS);
                }
                struct az_authority_key *o = &keys[(*n)++];
                o->iss = strndup(iss, iss_len);
                o->kid = strdup(kid);
                o->key = key;
                if (!o->iss || !o->kid)
                        return VT_E_NOMEM;
                found++;
        }
        *ret_found = found;
        return 0;
}

static void keys_free(struct az_authority_key *keys, size_t *n)
{
        for (size_t i = 0; i < *n; i++) {
                free(keys[i].iss);
                free(keys[i].kid);
                EVP_PKEY_free(keys[i].key);
        }
        *n = 0;
}

/* fetchable_url: https://, or http:// to the loopback address (tests, a sidecar). */
static bool fetchable_url(const char *u)
{
        if (strncmp(u, "https://", 8) == 0)
                return u[8] != 0;
        static const char *const loop[] = {"http://127.0.0.1", "http://localhost", "http://[::1]"};
        for (size_t i = 0; i < ELEMENTSOF(loop); i++) {
                size_t l = strlen(loop[i]);
                if (strncmp(u, loop[i], l) == 0 && (u[l] == 0 || u[l] == ':' || u[l] == '/'))
                        return true;
        }
        return false;
}

/* load_authority reads one azure.trusted_authorities entry: "ISSUER JWKS_FILE" (the RSA
 * keys of the JWKS, each with its kid), or "ISSUER" alone (its keys are fetched when a
 * token of it comes). */
static int load_authority(struct vtd_azure *az, const char *entry, struct vt_diag *d)
{
        const char *sp = strchr(entry, ' ');
        if (!sp) {
                if (!fetchable_url(entry))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "azure.trusted_authorities: \"%.100s\" is not "
                                           "\"ISSUER JWKS_FILE\" nor an https:// issuer (or "
                                           "http:// to 127.0.0.1, [::1], localhost) whose keys "
                                           "are fetched",
                                           entry);
                if (az->n_fetched == AZ_MAX_FETCHED)
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "azure.trusted_authorities: more than %d issuers "
                                           "whose keys are fetched",
                                           AZ_MAX_FETCHED);
                struct az_fetched *f = &az->fetched[az->n_fetched];
                if (!(f->iss = strdup(entry)))
                        return VT_E_NOMEM;
                pthread_mutex_init(&f->lock, NULL);
                az->n_fetched++;
                return 0;
        }
        if (sp == entry || !sp[1])
                return vt_diag_set(d, VT_E_FORMAT,
                                   "azure.trusted_authorities: \"%.100s\" is not \"ISSUER "
                                   "JWKS_FILE\"",
                                   entry);
        const char *file = sp + 1;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t n = 0, found = 0;
        int e = vt_read_file(file, 1u << 20, &buf, &n);
        if (e < 0)
                return vt_diag_set(d, e, "azure.trusted_authorities: cannot read %s", file);
        _cleanup_json_ json_t *jwks =
                json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
        if ((e = jwks_rsa_keys(jwks, entry, (size_t)(sp - entry), az->others, &az->n_others, &found,
                               d)) < 0)
                return e;
        if (!found)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "azure.trusted_authorities: %s holds no RSA key with a kid",
                                   file);
        return 0;
}

/* iss_equal compares issuers with and without a trailing slash. */
static bool iss_equal(const char *a, const char *b)
{
        size_t al = strlen(a), bl = strlen(b);
        while (al > 0 && a[al - 1] == '/')
                al--;
        while (bl > 0 && b[bl - 1] == '/')
                bl--;
        return al == bl && strncmp(a, b, al) == 0;
}

/* fetch_json GETs url (fetchable_url) within the configured bounds and parses it. */
static int fetch_json(const struct vtd *s, const char *url, json_t **ret, struct vt_diag *d)
{
        if (!fetchable_url(url))
                return vt_diag_set(d, VT_E_POLICY,
                                   "%.200s is not https:// (or http:// to the loopback address)",
                                   url);
        struct vt_http_request rq = {
                .url = url,
                .max = s->cfg.azure_jwks_max,
                .timeout_ms = (long)s->cfg.azure_fetch_timeout_ms,
        };
        _cleanup_free_ uint8_t *body = NULL;
        size_t n = 0;
        int e = vt_http_get_checked(&rq, NULL, &body, &n, d);
        if (e < 0)
                return e;
        json_error_t je;
        json_t *j = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(j)) {
                json_decref(j);
                return vt_diag_set(d, VT_E_FORMAT, "GET %.200s: not a JSON object", url);
        }
        *ret = j;
        return 0;
}

/* fetch_keys fetches the JWKS of f (its discovery document's jwks_uri, else f->iss/certs)
 * and replaces its keys. Called with f->lock held. */
static int fetch_keys(const struct vtd *s, struct az_fetched *f, int64_t now, struct vt_diag *d)
{
        char base[VTD_URL_MAX], url[VTD_URL_MAX + 64];
        size_t bl = strlen(f->iss);
        while (bl > 0 && f->iss[bl - 1] == '/')
                bl--;
        snprintf(base, sizeof(base), "%.*s", (int)bl, f->iss);
        struct vt_diag d1 = {0}, d2 = {0};
        _cleanup_json_ json_t *oidc = NULL, *jwks = NULL;
        f->tried_at = now;
        snprintf(url, sizeof(url), "%s/.well-known/openid-configuration", base);
        int e = fetch_json(s, url, &oidc, &d1);
        const char *ju = json_string_value(json_object_get(oidc, "jwks_uri"));
        if (e == 0 && !ju)
                e = vt_diag_set(&d1, VT_E_FORMAT, "%.200s has no jwks_uri", url);
        if (e == 0)
                e = fetch_json(s, ju, &jwks, &d1);
        if (e < 0) {
                /* MAA's own path */
                snprintf(url, sizeof(url), "%s/certs", base);
                if (fetch_json(s, url, &jwks, &d2) < 0)
                        /* not VT_E_NOTFOUND (a 404), which the caller reads as "no such
                         * kid" */
                        return vt_diag_set(d, VT_E_NETWORK,
                                           "the keys of authority %.100s cannot be fetched: "
                                           "%.150s; %.150s",
                                           f->iss, d1.msg, d2.msg);
        }
        struct az_authority_key keys[AZ_MAX_AUTHORITY_KEYS] = {0};
        size_t n = 0, found = 0;
        if ((e = jwks_rsa_keys(jwks, f->iss, strlen(f->iss), keys, &n, &found, &d1)) < 0 ||
            !found) {
                keys_free(keys, &n);
                return vt_diag_set(
                        d, e < 0 && e != VT_E_NOTFOUND ? e : VT_E_FORMAT,
                        "the JWKS of authority %.100s holds no RSA key with a kid%s%.150s", f->iss,
                        e < 0 ? ": " : "", e < 0 ? d1.msg : "");
        }
        keys_free(f->keys, &f->n);
        memcpy(f->keys, keys, sizeof(keys));
        f->n = n;
        f->fetched_at = now;
        return 0;
}

/* fetched_key finds kid among the keys of the fetched authority f, fetching them when
 * they are older than azure.authority_jwks_ttl_seconds (or when kid is unknown and the
 * last attempt is AZ_REFETCH_MIN_S old). The key is returned with a reference of its own;
 * VT_E_NOTFOUND when the authority has no such kid. */
static int fetched_key(const struct vtd *s, struct az_fetched *f, const char *kid, EVP_PKEY **ret,
                       struct vt_diag *d)
{
        int64_t now = vtd_now();
        int e = 0;
        pthread_mutex_lock(&f->lock);
        bool fresh = f->fetched_at && now - f->fetched_at < (int64_t)s->cfg.azure_jwks_ttl;
        const struct az_authority_key *k = NULL;
        for (size_t i = 0; fresh && i < f->n && !k; i++)
                if (strcmp(f->keys[i].kid, kid) == 0)
                        k = &f->keys[i];
        if (!k && (!f->tried_at || now - f->tried_at >= AZ_REFETCH_MIN_S ||
                   (!fresh && f->tried_at == f->fetched_at))) {
                e = fetch_keys(s, f, now, d);
                for (size_t i = 0; e == 0 && i < f->n && !k; i++)
                        if (strcmp(f->keys[i].kid, kid) == 0)
                                k = &f->keys[i];
        } else if (!k && !fresh) {
                e = vt_diag_set(d, VT_E_NETWORK,
                                "the keys of authority %.100s could not be fetched %" PRId64
                                " s ago; the next attempt is after %d s",
                                f->iss, now - f->tried_at, AZ_REFETCH_MIN_S);
        }
        if (e == 0 && !k)
                e = VT_E_NOTFOUND;
        if (e == 0 && EVP_PKEY_up_ref(k->key) == 1)
                *ret = k->key;
        else if (e == 0)
                e = VT_E_NOMEM;
        pthread_mutex_unlock(&f->lock);
        return e;
}

int vtd_azure_init(struct vtd *s, struct vt_diag *d)
{
        struct vtd_azure *az = calloc(1, sizeof(*az));
        struct stat st;
        int e;

        if (!az)
                return VT_E_NOMEM;
        s->azure = az;
        if (stat(s->cfg.azure_key, &st) < 0)
                e = make_key(s->cfg.azure_key, az, d);
        else
                e = load_key(s->cfg.azure_key, az, d);
        if (e < 0)
                return e;
        int dl = i2d_X509(az->cert, NULL);
        _cleanup_free_ uint8_t *der = dl > 0 ? malloc((size_t)dl) : NULL;
        uint8_t *p = der, md[32];
        _cleanup_free_ char *x5c = NULL, *kid = NULL;
        if (!der || i2d_X509(az->cert, &p) != dl ||
            EVP_Digest(der, (size_t)dl, md, NULL, EVP_sha256(), NULL) != 1 ||
            vt_b64_encode(md, sizeof(md), VT_B64_URL, &kid) < 0 ||
            vt_b64_encode(der, (size_t)dl, VT_B64_STD, &x5c) < 0)
                return vt_diag_set(d, VT_E_CRYPTO, "azure.signing_key: cannot encode the cert");
        snprintf(az->kid, sizeof(az->kid), "%s", kid);
        json_t *n = bn_b64(az->key, OSSL_PKEY_PARAM_RSA_N),
               *ex = bn_b64(az->key, OSSL_PKEY_PARAM_RSA_E);
        az->jwks = n && ex ? json_pack("{s:[{s:s, s:s, s:s, s:s, s:o, s:o, s:[s]}]}", "keys", "kty",
                                       "RSA", "kid", az->kid, "use", "sig", "alg", "RS256", "n", n,
                                       "e", ex, "x5c", x5c)
                           : NULL;
        if (!az->jwks) {
                json_decref(n);
                json_decref(ex);
                return vt_diag_set(d, VT_E_NOMEM, "azure.signing_key: cannot build the JWKS");
        }
        for (size_t i = 0; i < s->cfg.n_azure_authorities; i++)
                if ((e = load_authority(az, s->cfg.azure_authorities[i], d)) < 0)
                        return e;
        return 0;
}

void vtd_azure_done(struct vtd *s)
{
        struct vtd_azure *az = s->azure;
        if (!az)
                return;
        EVP_PKEY_free(az->key);
        X509_free(az->cert);
        keys_free(az->others, &az->n_others);
        for (size_t i = 0; i < az->n_fetched; i++) {
                keys_free(az->fetched[i].keys, &az->fetched[i].n);
                free(az->fetched[i].iss);
                pthread_mutex_destroy(&az->fetched[i].lock);
        }
        json_decref(az->jwks);
        free(az);
        s->azure = NULL;
}

/* ---- requests ---- */

/* enabled answers 404 when the API is off. */
static bool enabled(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (s->cfg.azure_enabled && s->azure)
                return true;
        az_error(res, req, 404, "NotFound", "Request path is invalid (azure.enabled is false)");
        return false;
}

static json_t *hexj(const uint8_t *p, size_t n)
{
        char h[2 * 64 + 1];
        vt_hex_encode(p, n, h);
        return json_string(h);
}

/* One request, taken apart (lib/azure) and put in Trustee's wire form for vt_attest. */
struct az_req {
        struct vt_az_attest_request in;
        enum vt_az_type type;
        const char *tee;  /* for vt_attest */
        json_t *evidence; /* Trustee's wire form for vt_attest */
        uint8_t expected[64];
        struct vt_dcap_quote *quote; /* sgx, tdx: for the claims */
        struct vt_snp_report snp;    /* snp: for the claims */
        bool sim_allowed;            /* snp: the simulator root may be tried */
};

static void az_req_done(struct az_req *r)
{
        json_decref(r->evidence);
        vt_dcap_quote_free(r->quote);
        vt_az_attest_request_done(&r->in);
}

/* DCAP quote (SgxEnclave, OpenEnclave without its header, TdxVm). */
static int take_quote(struct az_req *r, char *why, size_t cap)
{
        struct vt_diag d = {0};
        const uint8_t *p = r->in.evidence;
        size_t n = r->in.evidence_len;
        if (vt_dcap_quote_parse(p, n, &r->quote, &d) < 0) {
                snprintf(why, cap, "the quote does not parse: %.250s", d.msg);
                return VT_E_FORMAT;
        }
        bool sgx = r->quote->body_type == VT_DCAP_BODY_SGX;
        if (sgx != (r->type != VT_AZ_TDX)) {
                snprintf(why, cap, "the quote is %s, not for /attest/%s", sgx ? "SGX" : "TDX",
                         vt_az_type_name(r->type));
                return VT_E_FORMAT;
        }
        memcpy(r->expected, sgx ? r->quote->sgx.report_data : r->quote->td.report_data, 64);
        r->tee = sgx ? "sgx" : "tdx";
        _cleanup_free_ char *std = NULL;
        if (vt_b64_encode(p, n, VT_B64_STD, &std) < 0)
                return VT_E_NOMEM;
        r->evidence = json_pack("{s:s}", "quote", std);
        return r->evidence ? 0 : VT_E_NOMEM;
}

/* SNP: the report and its VCEK chain (PEM) in Trustee's SNP wire form. */
static int take_snp(struct az_req *r, char *why, size_t cap)
{
        struct vt_diag d = {0};
        const uint8_t *rep = r->in.evidence;
        if (vt_snp_report_parse(rep, r->in.evidence_len, &r->snp, &d) < 0) {
                snprintf(why, cap, "SnpReport is not a %d-byte SNP report: %.250s",
                         VT_SNP_REPORT_SIZE, d.msg);
                return VT_E_FORMAT;
        }
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        if (vt_x509_parse_many(r->in.chain, r->in.chain_len, &sk) < 0 || sk_X509_num(sk) < 1) {
                ERR_clear_error();
                snprintf(why, cap, "VcekCertChain is not a PEM chain (VCEK, ASK, ARK)");
                return VT_E_FORMAT;
        }
        struct vt_snp_wire_cert certs[3] = {0};
        size_t nc = 0;
        int e = 0;
        for (int i = 0; i < sk_X509_num(sk) && nc < ELEMENTSOF(certs); i++) {
                X509 *x = sk_X509_value(sk, i);
                char cn[64];
                vt_x509_subject_cn(x, cn, sizeof(cn));
                const char *type = i == 0   ? (strstr(cn, "VLEK") ? "VLEK" : "VCEK")
                                   : i == 1 ? (strstr(cn, "ASVK") ? "ASVK" : "ASK")
                                            : "ARK";
                int dl = i2d_X509(x, NULL);
                uint8_t *der = dl > 0 ? malloc((size_t)dl) : NULL, *p = der;
                if (!der || i2d_X509(x, &p) != dl) {
                        free(der);
                        e = VT_E_NOMEM;
                        break;
                }
                snprintf(certs[nc].type, sizeof(certs[nc].type), "%s", type);
                certs[nc].der = der;
                certs[nc++].len = (size_t)dl;
        }
        if (e == 0)
                e = vt_snp_wire_encode(rep, certs, nc, &r->evidence);
        for (size_t i = 0; i < nc; i++)
                free(certs[i].der);
        if (e < 0) {
                snprintf(why, cap, "the report cannot be put in Trustee's SNP form");
                return e;
        }
        memcpy(r->expected, r->snp.report_data, 64);
        r->tee = "snp";
        return 0;
}

static int parse_request(struct vtd *s, struct vtd_request *req, struct az_req *r, char *why,
                         size_t cap)
{
        struct vt_diag d = {0};
        int e = vt_az_attest_request_parse(r->type, req->body, req->body_len, &r->in, &d);
        if (e < 0) {
                snprintf(why, cap, "%.300s", d.msg[0] ? d.msg : vt_strerror(e));
                return e;
        }
        if ((e = r->type == VT_AZ_SNP ? take_snp(r, why, cap) : take_quote(r, why, cap)) < 0)
                return e;
        if (r->in.init.present && r->type != VT_AZ_SNP && r->type != VT_AZ_TDX) {
                snprintf(why, cap, "initTimeData is bound for SevSnpVm and TdxVm only");
                return VT_E_FORMAT;
        }
        r->sim_allowed = r->type == VT_AZ_SNP && s->snp_sim;
        /* the binding: SHA-256(runtimeData) is the first 32 bytes; the rest is the report's */
        if (r->in.runtime.present)
                memcpy(r->expected, r->in.runtime.sha256, 32);
        return 0;
}

/* The claims of MAA's token for the verified evidence. */
static json_t *claims_of(struct vtd *s, struct vtd_request *req, const struct az_req *r,
                         const struct vt_attest_result *ver, const char *status)
{
        char ib[VTD_URL_MAX], jti[65];
        uint8_t rnd[32];
        int64_t now = vtd_now();
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                return NULL;
        vt_hex_encode(rnd, sizeof(rnd), jti);
        json_t *c = json_object();
        if (!c)
                return NULL;
        json_object_set_new(c, "iss", json_string(vtd_issuer(s, req->port, ib)));
        json_object_set_new(c, "iat", json_integer(now));
        json_object_set_new(c, "nbf", json_integer(now));
        json_object_set_new(c, "exp", json_integer(now + (json_int_t)s->cfg.azure_ttl));
        json_object_set_new(c, "jti", json_string(jti));
        if (r->in.nonce)
                json_object_set_new(c, "nonce", json_string(r->in.nonce));
        json_object_set_new(c, "x-ms-ver", json_string("1.0"));
        if (r->in.runtime.json)
                json_object_set(c, "x-ms-runtime", r->in.runtime.json);
        if (r->in.init.json)
                json_object_set(c, "x-ms-inittime", r->in.init.json);
        bool affirming = strcmp(status, "affirming") == 0;
        if (r->type == VT_AZ_SNP) {
                const struct vt_snp_report *p = &r->snp;
                json_object_set_new(c, "x-ms-attestation-type", json_string("sevsnpvm"));
                json_object_set_new(
                        c, "x-ms-compliance-status",
                        json_string(affirming ? "azure-compliant-cvm" : "veritee-not-affirming"));
                json_object_set_new(c, "x-ms-sevsnpvm-authorkeydigest",
                                    hexj(p->author_key_digest, 48));
                json_object_set_new(c, "x-ms-sevsnpvm-bootloader-svn",
                                    json_integer(p->reported_tcb.bootloader));
                json_object_set_new(c, "x-ms-sevsnpvm-familyId", hexj(p->family_id, 16));
                json_object_set_new(c, "x-ms-sevsnpvm-guestsvn", json_integer(p->guest_svn));
                json_object_set_new(c, "x-ms-sevsnpvm-hostdata", hexj(p->host_data, 32));
                json_object_set_new(c, "x-ms-sevsnpvm-idkeydigest", hexj(p->id_key_digest, 48));
                json_object_set_new(c, "x-ms-sevsnpvm-imageId", hexj(p->image_id, 16));
                json_object_set_new(c, "x-ms-sevsnpvm-is-debuggable",
                                    json_boolean(p->policy & VT_SNP_POLICY_DEBUG));
                json_object_set_new(c, "x-ms-sevsnpvm-launchmeasurement", hexj(p->measurement, 48));
                json_object_set_new(c, "x-ms-sevsnpvm-microcode-svn",
                                    json_integer(p->reported_tcb.microcode));
                json_object_set_new(c, "x-ms-sevsnpvm-migration-allowed",
                                    json_boolean(p->policy & VT_SNP_POLICY_MIGRATE_MA));
                json_object_set_new(c, "x-ms-sevsnpvm-reportdata", hexj(p->report_data, 64));
                json_object_set_new(c, "x-ms-sevsnpvm-reportid", hexj(p->report_id, 32));
                json_object_set_new(c, "x-ms-sevsnpvm-smt-allowed",
                                    json_boolean(p->policy & VT_SNP_POLICY_SMT));
                json_object_set_new(c, "x-ms-sevsnpvm-snpfw-svn",
                                    json_integer(p->reported_tcb.snp));
                json_object_set_new(c, "x-ms-sevsnpvm-tee-svn", json_integer(p->reported_tcb.tee));
                json_object_set_new(c, "x-ms-sevsnpvm-vmpl", json_integer(p->vmpl));
        } else if (r->type == VT_AZ_TDX) {
                const struct vt_td_report_body *t = &r->quote->td;
                json_object_set_new(c, "x-ms-attestation-type", json_string("tdxvm"));
                json_object_set_new(
                        c, "x-ms-compliance-status",
                        json_string(affirming ? "azure-compliant-cvm" : "veritee-not-affirming"));
                json_object_set_new(c, "tdx_mrtd", hexj(t->mr_td, 48));
                json_object_set_new(c, "tdx_mrconfigid", hexj(t->mr_config_id, 48));
                json_object_set_new(c, "tdx_mrowner", hexj(t->mr_owner, 48));
                json_object_set_new(c, "tdx_mrseam", hexj(t->mr_seam, 48));
                for (int i = 0; i < 4; i++) {
                        char k[16];
                        snprintf(k, sizeof(k), "tdx_rtmr%d", i);
                        json_object_set_new(c, k, hexj(t->rtmr[i], 48));
                }
                json_object_set_new(c, "tdx_report_data", hexj(t->report_data, 64));
                json_object_set_new(c, "tdx_td_attributes_debug",
                                    json_boolean(t->td_attributes & 1));
        } else {
                const struct vt_sgx_report_body *b = &r->quote->sgx;
                bool debug = b->attributes[0] & 2;
                _cleanup_free_ char *ehd = NULL;
                json_object_set_new(c, "x-ms-attestation-type", json_string("sgx"));
                json_object_set_new(c, "x-ms-sgx-is-debuggable", json_boolean(debug));
                json_object_set_new(c, "x-ms-sgx-mrenclave", hexj(b->mr_enclave, 32));
                json_object_set_new(c, "x-ms-sgx-mrsigner", hexj(b->mr_signer, 32));
                json_object_set_new(c, "x-ms-sgx-product-id", json_integer(b->isv_prod_id));
                json_object_set_new(c, "x-ms-sgx-svn", json_integer(b->isv_svn));
                json_object_set_new(c, "x-ms-sgx-config-id", hexj(b->config_id, 64));
                json_object_set_new(c, "x-ms-sgx-report-data", hexj(b->report_data, 64));
                if (r->in.runtime.present &&
                    vt_b64_encode(r->in.runtime.bytes, r->in.runtime.len, VT_B64_URL, &ehd) == 0)
                        json_object_set_new(c, "x-ms-sgx-ehd", json_string(ehd));
                /* the deprecated aliases older policies name */
                json_object_set_new(c, "is-debuggable", json_boolean(debug));
                json_object_set_new(c, "sgx-mrenclave", hexj(b->mr_enclave, 32));
                json_object_set_new(c, "sgx-mrsigner", hexj(b->mr_signer, 32));
                json_object_set_new(c, "product-id", json_integer(b->isv_prod_id));
                json_object_set_new(c, "svn", json_integer(b->isv_svn));
                json_object_set_new(c, "tee", json_string("sgx"));
        }
        /* what veritee's appraisal said, under a name of its own */
        json_t *v = json_pack("{s:s, s:s, s:b}", "tee", ver->simulated ? "sim" : r->tee,
                              "ear.status", status, "simulated", ver->simulated);
        if (v && ver->tee_claims)
                json_object_set(v, "tee_claims", ver->tee_claims);
        json_object_set_new(c, "x-ms-veritee", v);
        return c;
}

void vtd_azure_attest(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        struct az_req r = {0};
        struct vt_attest_result ver = {0};
        char why[320] = "";
        /* declared before the first goto: cleanup runs on every exit */
        _cleanup_json_ json_t *claims = NULL, *hdr = NULL;
        _cleanup_free_ char *tok = NULL;

        if (!enabled(s, req, res))
                return;
        const char *av = vtd_query(req, "api-version");
        size_t i = 0;
        while (av && i < ELEMENTSOF(api_versions) && strcmp(av, api_versions[i]) != 0)
                i++;
        if (!av || i == ELEMENTSOF(api_versions)) {
                az_error(res, req, 400, av ? "UnsupportedApiVersion" : "MissingApiVersionParameter",
                         "api-version must be one of 2020-10-01, 2022-08-01, 2025-06-01%s%.40s",
                         av ? "; got " : "", av ? av : "");
                return;
        }
        if (vt_az_type_from_path(req->rest, &r.type) < 0) {
                az_error(res, req, 404, "NotFound",
                         "unknown attestation type \"%.40s\" (SgxEnclave, OpenEnclave, SevSnpVm, "
                         "TdxVm)",
                         req->rest);
                return;
        }
        int e = parse_request(s, req, &r, why, sizeof(why));
        if (e < 0) {
                az_error(res, req, 400, "InvalidParameter", "%s", why[0] ? why : vt_strerror(e));
                goto out;
        }
        snprintf(req->tee, sizeof(req->tee), "%s", r.tee);

        /* the one pipeline, with the server's reference values (kbs.c does the same) */
        struct vt_diag d = {0};
        int64_t at = 0;
        if (s->cfg.verify_at)
                (void)vt_time_parse_rfc3339(s->cfg.verify_at, &at);
        while (sem_wait(&s->verify) < 0)
                ;
        struct vt_refvals *refvals = vtd_refvals_current(s);
        struct vt_attest_ctx ctx = {
                .snp_hw = s->snp_hw,
                .snp_sim = s->snp_sim,
                .dcap = s->dcap,
                .tpm_aks = s->cfg.tpm_aks,
                .allow_sample = false,
                .min_tier = s->cfg.min_status,
                .refvals = refvals,
                .client = req->client,
                .now = at ? at : vtd_now(),
        };
        e = vt_attest(&ctx, r.tee, r.evidence, r.expected, NULL, &ver, &d);
        if (e == VT_E_CHAIN && r.sim_allowed) {
                /* a report the simulator made: its chain ends at attestation.simulator_root */
                struct vt_diag d2 = {0};
                vt_attest_result_done(&ver);
                ver = (struct vt_attest_result){0};
                int e2 = vt_attest(&ctx, "sim", r.evidence, r.expected, NULL, &ver, &d2);
                if (e2 == 0 || e2 != VT_E_CHAIN) {
                        e = e2;
                        d = d2;
                        r.tee = "sim";
                }
        }
        vt_refvals_unref(refvals);
        sem_post(&s->verify);
        if (e < 0) {
                vtd_count_verification(s, r.tee, "rejected");
                snprintf(req->verdict, sizeof(req->verdict), "rejected");
                az_error(res, req, 400, "InvalidParameter", "attestation failed: %s",
                         d.msg[0] ? d.msg : vt_strerror(e));
                goto out;
        }
        enum vt_ear_status st = vt_ear_status_of(&ver.tv);
        const char *stn = vt_ear_status_name(st);
        vtd_count_verification(s, r.tee, stn);
        snprintf(req->verdict, sizeof(req->verdict), "%s", stn);
        if (st == VT_EAR_NONE || (enum vt_ar4si_tier)st > s->cfg.min_status) {
                az_error(res, req, 400, "PolicyEvaluationError", "appraisal %s: %s", stn,
                         ver.appraisal.msg[0] ? ver.appraisal.msg : "not affirming");
                goto out;
        }
        /* initTimeData: SHA-256 of it is HOST_DATA (SNP) or starts MRCONFIGID (TDX) */
        if (r.in.init.present) {
                const uint8_t *launch =
                        r.type == VT_AZ_SNP ? r.snp.host_data : r.quote->td.mr_config_id;
                if (memcmp(launch, r.in.init.sha256, 32) != 0) {
                        az_error(res, req, 400, "InvalidParameter",
                                 "initTimeData: its SHA-256 is not the report's %s",
                                 r.type == VT_AZ_SNP ? "HOST_DATA" : "MRCONFIGID");
                        goto out;
                }
        }
        claims = claims_of(s, req, &r, &ver, stn);
        char ib[VTD_URL_MAX], jku[VTD_URL_MAX + 8];
        snprintf(jku, sizeof(jku), "%s/certs", vtd_issuer(s, req->port, ib));
        hdr = json_pack("{s:s, s:s, s:s, s:s}", "alg", "RS256", "jku", jku, "kid", s->azure->kid,
                        "typ", "JWT");
        if (!claims || !hdr || vt_jws_sign_rs256(s->azure->key, hdr, claims, &tok) < 0) {
                az_error(res, req, 500, "InternalError", "cannot sign the token");
                goto out;
        }
        vtd_json_member_response(res, 200, "token", tok);
out:
        vt_attest_result_done(&ver);
        az_req_done(&r);
}

int vtd_azure_sign(struct vtd *s, const json_t *claims, const char *typ, bool x5c, char **ret)
{
        if (!s->azure)
                return VT_E_INVAL;
        _cleanup_json_ json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "kid", s->azure->kid);
        if (!hdr)
                return VT_E_NOMEM;
        if (typ)
                json_object_set_new(hdr, "typ", json_string(typ));
        if (x5c)
                json_object_set(
                        hdr, "x5c",
                        json_object_get(json_array_get(json_object_get(s->azure->jwks, "keys"), 0),
                                        "x5c"));
        return vt_jws_sign_rs256(s->azure->key, hdr, claims, ret);
}

int vtd_azure_verify_token(struct vtd *s, unsigned port, const char *token, json_t **ret,
                           struct vt_diag *d)
{
        struct vt_jws j = {0};
        json_t *claims = NULL;
        char ib[VTD_URL_MAX];
        int e;
        if (!s->azure)
                return vt_diag_set(d, VT_E_INVAL, "target: the Azure API is off");
        if ((e = vt_jws_parse(token, 64u * 1024u, 4096, "target", &j, d)) < 0)
                return e;
        /* the key: our own, or one of an authority of azure.trusted_authorities, which
         * then must be the token's issuer */
        EVP_PKEY *key = NULL;
        const char *want_iss = NULL;
        if (j.kid && strcmp(j.kid, s->azure->kid) == 0) {
                key = s->azure->key;
                want_iss = vtd_issuer(s, port, ib);
        }
        for (size_t i = 0; !key && j.kid && i < s->azure->n_others; i++)
                if (strcmp(j.kid, s->azure->others[i].kid) == 0) {
                        key = s->azure->others[i].key;
                        want_iss = s->azure->others[i].iss;
                }
        /* an authority whose keys are fetched: chosen by the (not yet verified) iss among
         * the configured ones only, never fetched from where a token points; the verified
         * iss must then be that authority */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *fkey = NULL;
        if (!key && j.kid && j.alg && strcmp(j.alg, "RS256") == 0 && s->azure->n_fetched) {
                _cleanup_json_ json_t *pre = NULL;
                struct vt_diag d0 = {0};
                const char *piss = NULL;
                if (vt_jws_claims(&j, 1u << 20, &pre, &d0) == 0)
                        piss = json_string_value(json_object_get(pre, "iss"));
                for (size_t i = 0; piss && i < s->azure->n_fetched; i++) {
                        struct az_fetched *f = &s->azure->fetched[i];
                        if (!iss_equal(piss, f->iss))
                                continue;
                        struct vt_diag df = {0};
                        int fe = fetched_key(s, f, j.kid, &fkey, &df);
                        if (fe < 0 && fe != VT_E_NOTFOUND) {
                                vt_jws_done(&j);
                                return vt_diag_set(d, fe, "target: %.400s", df.msg);
                        }
                        if (fe == 0) {
                                key = fkey;
                                want_iss = f->iss;
                        }
                        break;
                }
        }
        if (!j.alg || strcmp(j.alg, "RS256") != 0)
                e = vt_diag_set(d, VT_E_SIGNATURE, "target: alg %.20s is not RS256",
                                j.alg ? j.alg : "(none)");
        else if (!key)
                e = vt_diag_set(d, VT_E_SIGNATURE,
                                "target: kid %.60s is not a key of this server or of "
                                "azure.trusted_authorities",
                                j.kid ? j.kid : "(none)");
        else if ((e = vt_jws_verify_rs256(&j, key, d)) == 0 &&
                 (e = vt_jws_claims(&j, 1u << 20, &claims, d)) == 0 &&
                 (e = vt_jose_check_times(claims, vtd_now(), "target", d)) == 0) {
                const char *iss = json_string_value(json_object_get(claims, "iss"));
                if (!iss || !iss_equal(iss, want_iss))
                        e = vt_diag_set(d, VT_E_POLICY,
                                        "target: iss %.100s is not %.100s, whose key signed it",
                                        iss ? iss : "(none)", want_iss);
        }
        vt_jws_done(&j);
        if (e < 0) {
                json_decref(claims);
                return e;
        }
        *ret = claims;
        return 0;
}

const json_t *vtd_azure_public_jwk(const struct vtd *s)
{
        if (!s->cfg.azure_enabled || !s->azure)
                return NULL;
        return json_array_get(json_object_get(s->azure->jwks, "keys"), 0);
}

void vtd_azure_certs(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (!enabled(s, req, res))
                return;
        vtd_json_response(res, 200, json_incref(s->azure->jwks));
}
