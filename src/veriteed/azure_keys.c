/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure Key Vault secure key release (issue 14; /work/shared/notes/azure-apis.md section 3):
 * exportable keys with a release policy in Azure's language, created (POST
 * /keys/{name}/create) or imported (PUT /keys/{name}) by an admin, sealed under the KEK like
 * every other secret (each version at the resource path azure-keys/{name}/{version}, without
 * a KBS policy, so /kbs/v0/resource never releases them; a version is 16 hex digits of its
 * creation time in microseconds, then 16 random ones, so that path order is creation order
 * and the newest is the current one), read (GET /keys, /keys/{name}[/{version}],
 * /keys/{name}/versions: public members only), deleted (DELETE /keys/{name}: every version)
 * and released (POST /keys/{name}[/{version}]/release)
 * to the holder of an attestation token of this server's Azure API that the policy accepts:
 * the key material wrapped to the first RSA encryption key of the token's x-ms-runtime.keys
 * (RSA-OAEP of a fresh AES-256 key, then AES key wrap with padding, RFC 5649), in an RS256
 * JWS {"value"} with Key Vault's payload. Every release and refusal goes to the ledger.
 *
 * Key Vault's clients authenticate through a challenge: a request without Authorization
 * gets 401 with WWW-Authenticate naming the resource; they then send a bearer token. For
 * create, import and delete it must be an admin token (VT_ADMIN_WRITE_GLOBAL), for reading
 * one of any admin role (VT_ADMIN_READ), refused in Key Vault's error shape; for release, whose
 * authority is the attestation token, any bearer is taken as the caller's name (its digest
 * goes to the ledger).
 */
#define _GNU_SOURCE
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azure/request.h"
#include "crypto/jwk.h"
#include "crypto/openssl-util.h"
#include "policy/release.h"
#include "server.h"
#include "store/store.h"
#include "token/admin.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"

#define KEYS_REPO        "azure-keys"
#define KEY_NAME_MAX     64
#define KEY_MATERIAL_MAX (16u * 1024u)

static void kv_error(struct vtd_response *res, struct vtd_request *req, unsigned status,
                     const char *code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void kv_error(struct vtd_response *res, struct vtd_request *req, unsigned status,
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

/* The challenge of Key Vault's clients: 401 and where to get a token. */
static void challenge(struct vtd_response *res, struct vtd_request *req)
{
        kv_error(res, req, 401, "Unauthorized", "AKV10000: Request is missing a Bearer token");
        free(res->www_authenticate);
        res->www_authenticate = strdup("Bearer authorization=\"https://login.microsoftonline.com/"
                                       "common\", resource=\"https://vault.azure.net\"");
}

static bool name_valid(const char *n, size_t len)
{
        if (len == 0 || len > KEY_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
                      (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
                        return false;
        return true;
}

static json_t *b64u(const uint8_t *p, size_t n)
{
        char *s = NULL;
        if (vt_b64_encode(p, n, VT_B64_URL, &s) < 0)
                return NULL;
        json_t *v = json_string(s);
        OPENSSL_clear_free(s, strlen(s));
        return v;
}

/* pkcs8_of gives key's PKCS#8 DER (the material a release wraps) and its public JWK. */
static int pkcs8_of(EVP_PKEY *key, uint8_t **ret, size_t *ret_len, json_t **ret_jwk)
{
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
        uint8_t *der = NULL;
        int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
        PKCS8_PRIV_KEY_INFO_free(p8);
        if (n <= 0 || vt_jwk_from_pkey(key, VT_JWK_ALG_LAST, NULL, ret_jwk) < 0) {
                if (n > 0)
                        OPENSSL_clear_free(der, (size_t)n);
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        /* into malloc'd memory, as everything else here */
        uint8_t *m = malloc((size_t)n);
        if (m)
                memcpy(m, der, (size_t)n);
        OPENSSL_clear_free(der, (size_t)n);
        if (!m) {
                json_decref(*ret_jwk);
                return VT_E_NOMEM;
        }
        *ret = m;
        *ret_len = (size_t)n;
        return 0;
}

/* The key material (PKCS#8 DER for RSA and EC, the raw bytes for oct) and the public JWK
 * of a checked request: made here for a create, taken from the request for an import. */
static int material_of(struct vt_az_key_request *kr, bool import, uint8_t **ret, size_t *ret_len,
                       json_t **ret_jwk)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        if (kr->kty == VT_AZ_KTY_OCT) {
                size_t n = import ? kr->oct_len : kr->key_size / 8;
                uint8_t *k = malloc(n);
                if (!k)
                        return VT_E_NOMEM;
                if (import)
                        memcpy(k, kr->oct, n);
                else if (RAND_bytes(k, (int)n) != 1) {
                        free(k);
                        return VT_E_CRYPTO;
                }
                *ret = k;
                *ret_len = n;
                *ret_jwk = json_pack("{s:s}", "kty", "oct");
                return *ret_jwk ? 0 : VT_E_NOMEM;
        }
        if (import)
                key = TAKE_PTR(kr->key);
        else
                key = kr->kty == VT_AZ_KTY_RSA ? EVP_RSA_gen(kr->key_size) : EVP_EC_gen(kr->crv);
        if (!key)
                return VT_E_CRYPTO;
        return pkcs8_of(key, ret, ret_len, ret_jwk);
}

/* A version: 16 hex digits of the time in microseconds (at least one more than after,
 * the newest version's, so that path order stays creation order when the clock steps
 * back), then 16 random hex digits. */
static int new_version(const char *after, char out[33])
{
        struct timespec ts;
        uint8_t rnd[8];
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u, prev = 0;
        if (after && sscanf(after, "%16" SCNx64, &prev) == 1 && us <= prev)
                us = prev + 1;
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                return VT_E_CRYPTO;
        snprintf(out, 17, "%016" PRIx64, us);
        vt_hex_encode(rnd, sizeof(rnd), out + 16);
        return 0;
}

static void key_path(char out[128], const char *name, const char *version)
{
        snprintf(out, 128, KEYS_REPO "/%s/%s", name, version);
}

/* The versions of a key (or of every key: name NULL), in creation order. */
struct versions {
        const char *name;
        size_t n, cap;
        struct version_meta {
                char name[KEY_NAME_MAX + 1];
                char version[33];
                int64_t created, updated;
        } * v;
};

static int versions_cb(const struct vt_resource_meta *m, void *ud)
{
        struct versions *vs = ud;
        const char *p = m->path + strlen(KEYS_REPO "/"), *slash = strchr(p, '/');
        if (!slash || (size_t)(slash - p) > KEY_NAME_MAX || strlen(slash + 1) != 32)
                return 0;
        if (vs->name && (strlen(vs->name) != (size_t)(slash - p) ||
                         strncmp(vs->name, p, (size_t)(slash - p)) != 0))
                return 0;
        if (vs->n == vs->cap) {
                size_t cap = vs->cap ? vs->cap * 2 : 8;
                struct version_meta *nv = reallocarray(vs->v, cap, sizeof(*nv));
                if (!nv)
                        return VT_E_NOMEM;
                vs->v = nv;
                vs->cap = cap;
        }
        struct version_meta *v = &vs->v[vs->n++];
        snprintf(v->name, sizeof(v->name), "%.*s", (int)(slash - p), p);
        snprintf(v->version, sizeof(v->version), "%s", slash + 1);
        v->created = m->created;
        v->updated = m->updated;
        return 0;
}

static int versions_of(struct vtd *s, const char *name, struct versions *ret, struct vt_diag *d)
{
        *ret = (struct versions){.name = name};
        int e = vt_store_resource_list(s->store, KEYS_REPO, versions_cb, ret, d);
        if (e < 0) {
                free(ret->v);
                ret->v = NULL;
        }
        return e;
}

/* read_record unseals the record of name at version (NULL: the newest). */
static int read_record(struct vtd *s, const char *name, const char *version, json_t **ret,
                       struct vt_diag *d)
{
        char path[128], kek_id[32], newest[33] = "";
        _cleanup_free_ uint8_t *wdek = NULL, *ct = NULL, *plain = NULL;
        size_t wl = 0, cl = 0, pl = 0;
        int e;
        if (!version) {
                struct versions vs;
                if ((e = versions_of(s, name, &vs, d)) < 0)
                        return e;
                if (vs.n)
                        snprintf(newest, sizeof(newest), "%s", vs.v[vs.n - 1].version);
                free(vs.v);
                if (!newest[0])
                        return VT_E_NOTFOUND;
                version = newest;
        }
        if (strlen(version) != 32)
                return VT_E_NOTFOUND;
        key_path(path, name, version);
        if (!vt_resource_path_valid(path))
                return VT_E_NOTFOUND;
        e = vt_store_resource_get(s->store, path, kek_id, &wdek, &wl, &ct, &cl, d);
        if (e < 0)
                return e;
        if (!s->kek || (e = vtd_kek_unseal(s, kek_id, path, wdek, wl, ct, cl, &plain, &pl, d)) < 0)
                return e < 0 ? e : VT_E_STORE;
        json_t *rec = json_loadb((const char *)plain, pl, 0, NULL);
        OPENSSL_cleanse(plain, pl);
        if (!rec)
                return vt_diag_set(d, VT_E_FORMAT, "the key record does not parse");
        *ret = rec;
        return 0;
}

static void key_url(struct vtd *s, struct vtd_request *req, const char *name, const char *version,
                    char *out, size_t cap)
{
        char ib[VTD_URL_MAX];
        snprintf(out, cap, "%s/keys/%s%s%s", vtd_issuer(s, req->port, ib), name, version ? "/" : "",
                 version ? version : "");
}

/* The key bundle Key Vault answers: the public JWK with kid and key_ops, attributes, the
 * release policy. rec is the sealed record. */
static json_t *bundle(struct vtd *s, struct vtd_request *req, const json_t *rec)
{
        char url[VTD_URL_MAX + 200];
        const char *name = json_string_value(json_object_get(rec, "name"));
        const char *version = json_string_value(json_object_get(rec, "version"));
        json_t *key = json_deep_copy(json_object_get(rec, "jwk"));
        key_url(s, req, name, version, url, sizeof(url));
        json_object_set_new(key, "kid", json_string(url));
        bool oct = strcmp(json_string_value(json_object_get(key, "kty")), "oct") == 0;
        json_object_set_new(
                key, "key_ops",
                oct ? json_pack("[s,s,s,s]", "encrypt", "decrypt", "wrapKey", "unwrapKey")
                    : json_pack("[s,s]", "sign", "verify"));
        return json_pack("{s:o, s:O, s:O}", "key", key, "attributes",
                         json_object_get(rec, "attributes"), "release_policy",
                         json_object_get(rec, "release_policy"));
}

/* kv_admin checks the bearer as an admin token allowed op, answering a refusal in Key
 * Vault's shape (401 with the challenge, 403), not the admin API's RFC 7807 one. */
static int kv_admin(struct vtd *s, struct vtd_request *req, int op, struct vt_admin_principal *p,
                    struct vtd_response *res)
{
        struct vtd_response scratch = {0};
        if (vtd_admin_check(s, req, op, NULL, p, &scratch) == 0)
                return 0;
        unsigned status = scratch.status == 403 ? 403 : 401;
        free(scratch.body);
        free(scratch.set_cookie);
        free(scratch.www_authenticate);
        char why[sizeof(req->reason)];
        snprintf(why, sizeof(why), "%s", req->reason);
        if (status == 401) {
                challenge(res, req);
                kv_error(res, req, 401, "Unauthorized", "%s", why);
        } else {
                kv_error(res, req, 403, "Forbidden", "%s", why);
        }
        return VT_E_POLICY;
}

/* create and import: admin only; a new version sealed at azure-keys/{name}/{version}. */
static void put_key(struct vtd *s, struct vtd_request *req, const char *name, bool import,
                    struct vtd_response *res)
{
        struct vt_admin_principal p;
        char path[128], ver[33];
        _cleanup_free_ uint8_t *mat = NULL;
        size_t ml = 0;
        _cleanup_json_ json_t *jwk = NULL, *rec = NULL;
        _cleanup_free_ char *text = NULL;
        struct vt_az_key_request kr = {0};
        struct vt_diag d = {0};
        int e;

        if (kv_admin(s, req, VT_ADMIN_WRITE_GLOBAL, &p, res) < 0)
                return;
        if (!s->kek) {
                kv_error(res, req, 400, "BadParameter",
                         "keys are sealed under the KEK: configure secrets.kek_file");
                return;
        }
        if ((e = vt_az_key_request_parse(import, req->body, req->body_len, &kr, &d)) < 0) {
                kv_error(res, req, 400, "BadParameter", "%s", d.msg[0] ? d.msg : vt_strerror(e));
                return;
        }
        e = material_of(&kr, import, &mat, &ml, &jwk);
        struct versions vs = {0};
        if (e == 0 && (e = versions_of(s, name, &vs, &d)) == 0)
                e = new_version(vs.n ? vs.v[vs.n - 1].version : NULL, ver);
        free(vs.v);
        if (e < 0) {
                vt_az_key_request_done(&kr);
                kv_error(res, req, 500, "InternalError", "cannot make the key: %s", vt_strerror(e));
                return;
        }
        int64_t now = vtd_now();
        json_t *rp = json_deep_copy(kr.release_policy);
        json_object_set_new(rp, "contentType", json_string("application/json; charset=utf-8"));
        if (!json_object_get(rp, "immutable"))
                json_object_set_new(rp, "immutable", json_false());
        char pd[VTD_SHA256_TAG];
        vtd_sha256_tag(kr.policy, kr.policy_len, pd);
        vt_az_key_request_done(&kr);
        rec = json_pack("{s:s, s:s, s:o, s:{s:b, s:b, s:I, s:I, s:s}, s:o}", "name", name,
                        "version", ver, "material", b64u(mat, ml), "attributes", "enabled", 1,
                        "exportable", 1, "created", (json_int_t)now, "updated", (json_int_t)now,
                        "recoveryLevel", "Purgeable", "release_policy", rp);
        if (rec)
                json_object_set(rec, "jwk", jwk);
        text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
        OPENSSL_cleanse(mat, ml);
        if (!text) {
                kv_error(res, req, 500, "InternalError", "out of memory");
                return;
        }
        key_path(path, name, ver);
        e = vtd_kek_put(s, path, (const uint8_t *)text, strlen(text), NULL, &d);
        OPENSSL_cleanse(text, strlen(text));
        if (e < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "cannot store the key: %.300s",
                         d.msg);
                return;
        }
        json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "version", ver, "kty",
                                  json_string_value(json_object_get(jwk, "kty")), "policy", pd,
                                  "by", p.sub);
        if (vtd_ledger_record(s, req, import ? "azure-key-import" : "azure-key-create", entry) <
            0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the ledger did not record it");
                return;
        }
        json_object_del(rec, "material");
        vtd_json_response(res, 200, bundle(s, req, rec));
}

/* Key Vault's KeyItem: the kid and the attributes, no key material. */
static json_t *key_item(struct vtd *s, struct vtd_request *req, const struct version_meta *v,
                        bool with_version)
{
        char url[VTD_URL_MAX + 200];
        key_url(s, req, v->name, with_version ? v->version : NULL, url, sizeof(url));
        return json_pack("{s:s, s:{s:b, s:b, s:I, s:I, s:s}}", "kid", url, "attributes", "enabled",
                         1, "exportable", 1, "created", (json_int_t)v->created, "updated",
                         (json_int_t)v->updated, "recoveryLevel", "Purgeable");
}

/* GET /keys (name NULL: the newest version of each key) and GET /keys/{name}/versions. */
static void list_keys(struct vtd *s, struct vtd_request *req, const char *name,
                      struct vtd_response *res)
{
        struct versions vs;
        struct vt_diag d = {0};
        if (kv_admin(s, req, VT_ADMIN_READ, NULL, res) < 0)
                return;
        if (versions_of(s, name, &vs, &d) < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "cannot list the keys: %.300s",
                         d.msg);
                return;
        }
        json_t *items = json_array();
        for (size_t i = 0; i < vs.n; i++) {
                /* the list of keys shows each once, by its newest version */
                if (!name && i + 1 < vs.n && strcmp(vs.v[i].name, vs.v[i + 1].name) == 0)
                        continue;
                json_array_append_new(items, key_item(s, req, &vs.v[i], name != NULL));
        }
        size_t n = vs.n;
        free(vs.v);
        if (name && n == 0) {
                json_decref(items);
                kv_error(res, req, 404, "KeyNotFound", "key %s not found", name);
                return;
        }
        vtd_json_response(res, 200, json_pack("{s:o, s:n}", "value", items, "nextLink"));
}

/* GET /keys/{name}[/{version}]: the key bundle, public members only. */
static void get_key(struct vtd *s, struct vtd_request *req, const char *name, const char *version,
                    struct vtd_response *res)
{
        _cleanup_json_ json_t *rec = NULL;
        struct vt_diag d = {0};
        if (kv_admin(s, req, VT_ADMIN_READ, NULL, res) < 0)
                return;
        int e = read_record(s, name, version, &rec, &d);
        if (e == VT_E_NOTFOUND) {
                kv_error(res, req, 404, "KeyNotFound", "key %s%s%.40s not found", name,
                         version ? " version " : "", version ? version : "");
                return;
        }
        if (e < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the key cannot be read: %.300s",
                         d.msg);
                return;
        }
        json_object_del(rec, "material");
        vtd_json_response(res, 200, bundle(s, req, rec));
}

/* DELETE /keys/{name}: every version, at once (no soft delete: the answer has no
 * recoveryId, which tells Key Vault's clients the deletion is complete). */
static void delete_key(struct vtd *s, struct vtd_request *req, const char *name,
                       struct vtd_response *res)
{
        struct vt_admin_principal p;
        _cleanup_json_ json_t *rec = NULL;
        struct vt_diag d = {0};
        struct versions vs;
        char path[128];
        if (kv_admin(s, req, VT_ADMIN_WRITE_GLOBAL, &p, res) < 0)
                return;
        int e = read_record(s, name, NULL, &rec, &d);
        if (e == VT_E_NOTFOUND) {
                kv_error(res, req, 404, "KeyNotFound", "key %s not found", name);
                return;
        }
        if (e < 0 || (e = versions_of(s, name, &vs, &d)) < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the key cannot be read: %.300s",
                         d.msg);
                return;
        }
        size_t deleted = 0;
        for (size_t i = 0; i < vs.n && e >= 0; i++) {
                key_path(path, name, vs.v[i].version);
                e = vt_store_resource_delete(s->store, path, &d);
                if (e == 0)
                        deleted++;
                else if (e == VT_E_NOTFOUND) /* deleted meanwhile */
                        e = 0;
        }
        free(vs.v);
        /* what was deleted is recorded, even when a store error stopped it halfway */
        json_t *entry = json_pack("{s:s, s:I, s:s}", "name", name, "versions", (json_int_t)deleted,
                                  "by", p.sub);
        if (vtd_ledger_record(s, req, "azure-key-delete", entry) < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the ledger did not record it");
                return;
        }
        if (e < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "cannot delete the key: %.300s",
                         d.msg);
                return;
        }
        json_object_del(rec, "material");
        vtd_json_response(res, 200, bundle(s, req, rec));
}

/* The first RSA key of the token's x-ms-runtime.keys meant for encryption. */
static const json_t *wrapping_jwk(const json_t *claims)
{
        const json_t *k;
        size_t i;
        json_array_foreach (json_object_get(json_object_get(claims, "x-ms-runtime"), "keys"), i,
                            k) {
                const char *kty = json_string_value(json_object_get(k, "kty"));
                const char *use = json_string_value(json_object_get(k, "use"));
                const json_t *ops = json_object_get(k, "key_ops"), *o;
                bool enc = use && strcmp(use, "enc") == 0;
                size_t j;
                json_array_foreach (ops, j, o)
                        enc = enc ||
                              (json_is_string(o) && (strcmp(json_string_value(o), "encrypt") == 0 ||
                                                     strcmp(json_string_value(o), "wrapKey") == 0));
                if (kty && strcmp(kty, "RSA") == 0 && enc)
                        return k;
        }
        return NULL;
}

/* wrap: RSA-OAEP (md) of a fresh AES-256 key, then that key's AES key wrap with padding
 * (RFC 5649) of m. */
static int wrap(EVP_PKEY *rsa, const EVP_MD *md, const uint8_t *m, size_t ml, uint8_t **ret,
                size_t *ret_len)
{
        uint8_t kek[32];
        size_t rl = (size_t)EVP_PKEY_get_size(rsa), cl = 0;
        int l1 = 0, l2 = 0;
        uint8_t *out = malloc(rl + ml + 16);
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(rsa, NULL);
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
        bool ok = out && pc && cc && RAND_bytes(kek, sizeof(kek)) == 1 &&
                  EVP_PKEY_encrypt_init(pc) == 1 &&
                  EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_rsa_oaep_md(pc, md) == 1 &&
                  EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) == 1 &&
                  EVP_PKEY_encrypt(pc, out, &rl, kek, sizeof(kek)) == 1;
        if (ok) {
                EVP_CIPHER_CTX_set_flags(cc, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
                ok = EVP_EncryptInit_ex(cc, EVP_aes_256_wrap_pad(), NULL, kek, NULL) == 1 &&
                     EVP_EncryptUpdate(cc, out + rl, &l1, m, (int)ml) == 1 &&
                     EVP_EncryptFinal_ex(cc, out + rl + l1, &l2) == 1;
                cl = rl + (size_t)l1 + (size_t)l2;
        }
        OPENSSL_cleanse(kek, sizeof(kek));
        if (!ok) {
                free(out);
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        *ret = out;
        *ret_len = cl;
        return 0;
}

/* release: every outcome is recorded in the ledger before the answer. */
static void release_key(struct vtd *s, struct vtd_request *req, const char *name,
                        const char *version, struct vtd_response *res)
{
        char why[400] = "", caller[VTD_SHA256_TAG], target_d[VTD_SHA256_TAG] = "";
        _cleanup_json_ json_t *rec = NULL, *claims = NULL;
        _cleanup_free_ uint8_t *mat = NULL, *wrapped = NULL;
        size_t ml = 0, wrl = 0;
        _cleanup_(vt_az_release_request_done) struct vt_az_release_request rr = {0};
        struct vt_diag d = {0};
        unsigned status = 403;
        const char *code = "Forbidden";
        const char *policy_txt = NULL;
        /* every cleanup variable is declared here, before the first goto */
        _cleanup_free_ uint8_t *ptxt = NULL;
        size_t ptl = 0;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *rsa = NULL;
        _cleanup_json_ json_t *wpub = NULL, *payload = NULL;
        _cleanup_free_ char *hsm_text = NULL, *jws = NULL;
        int e;

        vtd_sha256_tag(req->authz, strlen(req->authz), caller);
        if ((e = vt_az_release_request_parse(req->body, req->body_len, &rr, &d)) < 0) {
                kv_error(res, req, 400, "BadParameter", "%s", d.msg);
                return;
        }
        const char *target = rr.target, *enc = vt_az_enc_name(rr.enc);
        const EVP_MD *md = rr.enc == VT_AZ_ENC_RSA_AES_KEY_WRAP_256   ? EVP_sha256()
                           : rr.enc == VT_AZ_ENC_RSA_AES_KEY_WRAP_384 ? EVP_sha384()
                                                                      : EVP_sha1();
        vtd_sha256_tag(target, strlen(target), target_d);
        e = read_record(s, name, version, &rec, &d);
        if (e == VT_E_NOTFOUND) {
                /* before the target is verified: answered, not recorded (see below) */
                if (version)
                        kv_error(res, req, 404, "KeyNotFound",
                                 "release of %s refused: key %s has no version %.40s", name, name,
                                 version);
                else
                        kv_error(res, req, 404, "KeyNotFound",
                                 "release of %s refused: key %s not found", name, name);
                return;
        }
        if (e < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the key cannot be read: %.300s",
                         d.msg);
                return;
        }
        const char *data =
                json_string_value(json_object_get(json_object_get(rec, "release_policy"), "data"));
        struct vt_release_policy *pol = NULL;
        if (!data || vt_az_b64_decode(data, VT_RELEASE_MAX_BYTES, &ptxt, &ptl) < 0 ||
            vt_release_policy_parse((const char *)ptxt, ptl, &pol, &d) < 0) {
                kv_error(res, req, 500, "InternalError",
                         "the stored release policy does not parse");
                return;
        }
        policy_txt = (const char *)ptxt;
        if ((e = vtd_azure_verify_token(s, req->port, target, &claims, &d)) < 0) {
                /* not a decision about a verified TEE: answered and logged, not recorded
                 * (anyone can send a target, and recording it would let them grow the
                 * ledger without bound; the same rule as /kbs/v0/resource) */
                vt_release_policy_free(pol);
                kv_error(res, req, status, code, "release of %s refused: %.390s", name, d.msg);
                return;
        }
        if ((e = vt_release_policy_eval(pol, claims, &d)) < 0) {
                vt_release_policy_free(pol);
                snprintf(why, sizeof(why), "%.390s", d.msg);
                goto deny;
        }
        vt_release_policy_free(pol);
        const json_t *wk = wrapping_jwk(claims);
        wpub = wk ? json_deep_copy(wk) : NULL;
        if (wpub) {
                /* the members lib/crypto's JWK check does not take */
                json_object_del(wpub, "key_ops");
                json_object_del(wpub, "use");
                json_object_del(wpub, "kid");
        }
        if (!wpub || vt_jwk_to_pkey(wpub, &rsa, &d) < 0) {
                status = 400;
                code = "BadParameter";
                snprintf(why, sizeof(why),
                         "target: x-ms-runtime.keys has no usable RSA encryption key%s%.*s",
                         d.msg[0] ? ": " : "", (int)300, d.msg);
                goto deny;
        }
        const char *m64 = json_string_value(json_object_get(rec, "material"));
        if (!m64 || vt_b64_decode(m64, strlen(m64), VT_B64_URL, KEY_MATERIAL_MAX, &mat, &ml) < 0 ||
            wrap(rsa, md, mat, ml, &wrapped, &wrl) < 0) {
                if (mat)
                        OPENSSL_cleanse(mat, ml);
                kv_error(res, req, 500, "InternalError", "cannot wrap the key");
                return;
        }
        OPENSSL_cleanse(mat, ml);
        /* key_hsm: {"schema_version", "header": {"alg": "dir", "enc", "kid"}, "ciphertext"} */
        const char *wkid = json_string_value(json_object_get(wk, "kid"));
        json_t *hsm = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o}", "schema_version", "1.0", "header",
                                "alg", "dir", "enc", enc, "kid", wkid ? wkid : "", "ciphertext",
                                b64u(wrapped, wrl));
        hsm_text = hsm ? json_dumps(hsm, JSON_COMPACT) : NULL;
        json_decref(hsm);
        json_t *bun = bundle(s, req, rec);
        json_t *key = json_object_get(bun, "key");
        if (hsm_text)
                json_object_set_new(key, "key_hsm",
                                    b64u((const uint8_t *)hsm_text, strlen(hsm_text)));
        char url[VTD_URL_MAX + 200];
        key_url(s, req, name, NULL, url, sizeof(url));
        const char *av = vtd_query(req, "api-version");
        payload = json_pack("{s:{s:s, s:s, s:s}, s:{s:o}}", "request", "api-version", av ? av : "",
                            "enc", enc, "kid", url, "response", "key", bun);
        if (!payload || vtd_azure_sign(s, payload, NULL, true, &jws) < 0) {
                kv_error(res, req, 500, "InternalError", "cannot sign the release");
                return;
        }
        char pd[VTD_SHA256_TAG];
        vtd_sha256_tag(policy_txt, ptl, pd);
        json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", name,
                                  "version", json_string_value(json_object_get(rec, "version")),
                                  "decision", "released", "policy", pd, "target", target_d,
                                  "caller", caller, "enc", enc, "wrapped_to", wkid ? wkid : "");
        if (vtd_ledger_record(s, req, "azure-key-release", entry) < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the ledger did not record it");
                return;
        }
        vtd_json_member_response(res, 200, "value", jws);
        return;
deny:;
        json_t *dentry = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "decision", "denied",
                                   "reason", why, "target", target_d, "caller", caller);
        if (vtd_ledger_record(s, req, "azure-key-release", dentry) < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the ledger did not record it");
                return;
        }
        kv_error(res, req, status, code, "release of %s refused: %s", name, why);
}

void vtd_azure_keys(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        char name[KEY_NAME_MAX + 1], version[64] = "";
        const char *rest = req->rest ? req->rest : "", *slash = strchr(rest, '/');
        size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);
        const char *m = req->method;

        if (!s->cfg.azure_enabled || !s->azure) {
                kv_error(res, req, 404, "NotFound",
                         "Request path is invalid (azure.enabled is false)");
                return;
        }
        /* Key Vault's clients send a first request without a token and expect the challenge */
        if (!req->authz || strncasecmp(req->authz, "Bearer ", 7) != 0) {
                challenge(res, req);
                return;
        }
        if (!vtd_query(req, "api-version")) {
                kv_error(res, req, 400, "BadParameter", "api-version is required");
                return;
        }
        bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
        if (!*rest && get) {
                list_keys(s, req, NULL, res);
                return;
        }
        if (!name_valid(rest, nl)) {
                kv_error(res, req, 400, "BadParameter",
                         "a key name is 1..64 characters of [0-9a-zA-Z-]");
                return;
        }
        memcpy(name, rest, nl);
        name[nl] = 0;
        /* the operation: "", "/" (Key Vault's clients ask GET /keys/{name}/ for the newest
         * version), "create", "release", "versions", "{version}", "{version}/release" */
        const char *op = slash ? slash + 1 : "";
        size_t ol = strlen(op);
        if (ol > 0 && op[ol - 1] == '/')
                ol--;
        if (ol >= sizeof(version)) {
                kv_error(res, req, 404, "NotFound", "no such key operation");
                return;
        }
        snprintf(version, sizeof(version), "%.*s", (int)ol, op);
        bool has_release = ol >= 7 && strncasecmp(version + ol - 7, "release", 7) == 0 &&
                           (ol == 7 || version[ol - 8] == '/');
        if (strcmp(m, "PUT") == 0 && !*version)
                put_key(s, req, name, true, res);
        else if (post && strcasecmp(version, "create") == 0)
                put_key(s, req, name, false, res);
        else if (post && has_release) {
                version[ol > 7 ? ol - 8 : 0] = 0;
                release_key(s, req, name, *version ? version : NULL, res);
        } else if (get && strcasecmp(version, "versions") == 0)
                list_keys(s, req, name, res);
        else if (get && !strchr(version, '/'))
                get_key(s, req, name, *version ? version : NULL, res);
        else if (strcmp(m, "DELETE") == 0 && !*version)
                delete_key(s, req, name, res);
        else
                kv_error(res, req, 404, "NotFound", "no such key operation");
}
