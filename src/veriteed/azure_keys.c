/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure Key Vault secure key release (issue 14; /work/shared/notes/azure-apis.md section 3):
 * exportable keys with a release policy in Azure's language, created (POST
 * /keys/{name}/create) or imported (PUT /keys/{name}) by an admin, sealed under the KEK like
 * every other secret (at the resource path azure-keys/{name}/key, without a KBS policy, so
 * /kbs/v0/resource never releases them), and released (POST /keys/{name}[/{version}]/release)
 * to the holder of an attestation token of this server's Azure API that the policy accepts:
 * the key material wrapped to the first RSA encryption key of the token's x-ms-runtime.keys
 * (RSA-OAEP of a fresh AES-256 key, then AES key wrap with padding, RFC 5649), in an RS256
 * JWS {"value"} with Key Vault's payload. Every release and refusal goes to the ledger.
 *
 * Key Vault's clients authenticate through a challenge: a request without Authorization
 * gets 401 with WWW-Authenticate naming the resource; they then send a bearer token. For
 * create and import it must be an admin token (VT_ADMIN_WRITE_GLOBAL); for release, whose
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

/* The release policy of a request: {"contentType", "data": base64url(policy JSON),
 * "immutable"}; parsed to check it, its text returned in *ret. */
static int take_policy(const json_t *rp, char **ret, char *why, size_t cap)
{
        const char *data = json_string_value(json_object_get(rp, "data"));
        _cleanup_free_ uint8_t *txt = NULL;
        size_t n = 0;
        struct vt_diag d = {0};
        if (!data) {
                snprintf(why, cap,
                         "release_policy.data (base64url of the policy) is required "
                         "for an exportable key");
                return VT_E_FORMAT;
        }
        size_t l = strlen(data);
        while (l > 0 && data[l - 1] == '=')
                l--;
        if (vt_b64_decode(data, l, VT_B64_URL, VT_RELEASE_MAX_BYTES, &txt, &n) < 0) {
                snprintf(why, cap, "release_policy.data is not base64url");
                return VT_E_FORMAT;
        }
        struct vt_release_policy *p = NULL;
        if (vt_release_policy_parse((const char *)txt, n, &p, &d) < 0) {
                snprintf(why, cap, "%.250s", d.msg);
                return VT_E_FORMAT;
        }
        vt_release_policy_free(p);
        *ret = strndup((const char *)txt, n);
        return *ret ? 0 : VT_E_NOMEM;
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

/* The key material (PKCS#8 DER for RSA and EC, raw bytes for oct) and the public JWK. */
static int make_material(const json_t *b, uint8_t **ret, size_t *ret_len, json_t **ret_jwk,
                         char *why, size_t cap)
{
        const char *kty = json_string_value(json_object_get(b, "kty"));
        json_int_t size = json_integer_value(json_object_get(b, "key_size"));
        const char *crv = json_string_value(json_object_get(b, "crv"));
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        if (!kty) {
                snprintf(why, cap, "kty is required (RSA, EC, oct, or their -HSM forms)");
                return VT_E_FORMAT;
        }
        size_t kl = strcspn(kty, "-");
        if (kl == 3 && strncmp(kty, "oct", 3) == 0) {
                if (!size)
                        size = 256;
                if (size != 128 && size != 192 && size != 256) {
                        snprintf(why, cap, "oct key_size must be 128, 192 or 256");
                        return VT_E_FORMAT;
                }
                uint8_t *k = malloc((size_t)size / 8);
                if (!k || RAND_bytes(k, (int)size / 8) != 1) {
                        free(k);
                        return VT_E_CRYPTO;
                }
                *ret = k;
                *ret_len = (size_t)size / 8;
                *ret_jwk = json_pack("{s:s}", "kty", "oct");
                return *ret_jwk ? 0 : VT_E_NOMEM;
        }
        if (kl == 3 && strncmp(kty, "RSA", 3) == 0) {
                if (!size)
                        size = 2048;
                if (size != 2048 && size != 3072 && size != 4096) {
                        snprintf(why, cap, "RSA key_size must be 2048, 3072 or 4096");
                        return VT_E_FORMAT;
                }
                key = EVP_RSA_gen((unsigned)size);
        } else if (kl == 2 && strncmp(kty, "EC", 2) == 0) {
                if (!crv)
                        crv = "P-256";
                if (strcmp(crv, "P-256") != 0 && strcmp(crv, "P-521") != 0) {
                        snprintf(why, cap, "EC crv must be P-256 or P-521");
                        return VT_E_FORMAT;
                }
                key = EVP_EC_gen(crv);
        } else {
                snprintf(why, cap, "kty %.20s is not RSA, EC or oct", kty);
                return VT_E_FORMAT;
        }
        if (!key)
                return VT_E_CRYPTO;
        return pkcs8_of(key, ret, ret_len, ret_jwk);
}

/* import_material: a private JWK (oct "k"; EC P-256/P-521 with "d"). RSA private JWKs are
 * not imported: lib/crypto turns none into keys (create them here instead). */
static int import_material(const json_t *jwk, uint8_t **ret, size_t *ret_len, json_t **ret_jwk,
                           char *why, size_t cap)
{
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        struct vt_diag d = {0};
        if (kty && strncmp(kty, "oct", 3) == 0) {
                const char *k = json_string_value(json_object_get(jwk, "k"));
                size_t n = 0;
                if (!k || vt_b64_decode(k, strlen(k), VT_B64_URL, 64, ret, &n) < 0 ||
                    (n != 16 && n != 24 && n != 32)) {
                        if (*ret)
                                OPENSSL_cleanse(*ret, n);
                        free(*ret);
                        *ret = NULL;
                        snprintf(why, cap, "key.k must be base64url of 16, 24 or 32 bytes");
                        return VT_E_FORMAT;
                }
                *ret_len = n;
                *ret_jwk = json_pack("{s:s}", "kty", "oct");
                return *ret_jwk ? 0 : VT_E_NOMEM;
        }
        if (kty && strncmp(kty, "EC", 2) == 0) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                _cleanup_json_ json_t *plain = json_deep_copy(jwk);
                if (plain) {
                        json_object_set_new(plain, "kty", json_string("EC"));
                        json_object_del(plain, "key_ops");
                        json_object_del(plain, "kid");
                }
                if (!plain || vt_jwk_private_to_pkey(plain, &key, &d) < 0) {
                        snprintf(why, cap, "key: %.300s",
                                 d.msg[0] ? d.msg : "not an EC private JWK");
                        return VT_E_FORMAT;
                }
                return pkcs8_of(key, ret, ret_len, ret_jwk);
        }
        snprintf(why, cap,
                 "key.kty %.20s cannot be imported (oct, EC P-256/P-521; create RSA "
                 "keys with POST /keys/{name}/create)",
                 kty ? kty : "(none)");
        return VT_E_FORMAT;
}

static void key_path(char out[128], const char *name)
{
        snprintf(out, 128, KEYS_REPO "/%s/key", name);
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

/* create and import: admin only; the record sealed at azure-keys/{name}/key. */
static void put_key(struct vtd *s, struct vtd_request *req, const char *name, bool import,
                    struct vtd_response *res)
{
        struct vt_admin_principal p;
        char why[320] = "", path[128], ver[33];
        uint8_t rnd[16];
        _cleanup_free_ uint8_t *mat = NULL;
        size_t ml = 0;
        _cleanup_json_ json_t *b = NULL, *jwk = NULL, *rec = NULL;
        _cleanup_free_ char *policy = NULL, *text = NULL;
        struct vt_diag d = {0};
        int e;

        if (vtd_admin_check(s, req, VT_ADMIN_WRITE_GLOBAL, NULL, &p, res) < 0)
                return;
        if (!s->kek) {
                kv_error(res, req, 400, "BadParameter",
                         "keys are sealed under the KEK: configure secrets.kek_file");
                return;
        }
        b = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
        const json_t *attrs = json_object_get(b, "attributes");
        if (!json_is_object(b)) {
                kv_error(res, req, 400, "BadParameter", "the body must be a JSON object");
                return;
        }
        if (!json_is_true(json_object_get(attrs, "exportable"))) {
                kv_error(res, req, 400, "BadParameter",
                         "only exportable keys (attributes.exportable: true) with a release "
                         "policy are kept here");
                return;
        }
        if ((e = take_policy(json_object_get(b, "release_policy"), &policy, why, sizeof(why))) <
                    0 ||
            (e = import ? import_material(json_object_get(b, "key"), &mat, &ml, &jwk, why,
                                          sizeof(why))
                        : make_material(b, &mat, &ml, &jwk, why, sizeof(why))) < 0) {
                kv_error(res, req, 400, "BadParameter", "%s", why[0] ? why : vt_strerror(e));
                return;
        }
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
                kv_error(res, req, 500, "InternalError", "no randomness");
                return;
        }
        vt_hex_encode(rnd, sizeof(rnd), ver);
        int64_t now = vtd_now();
        json_t *rp = json_deep_copy(json_object_get(b, "release_policy"));
        json_object_set_new(rp, "contentType", json_string("application/json; charset=utf-8"));
        if (!json_object_get(rp, "immutable"))
                json_object_set_new(rp, "immutable", json_false());
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
        key_path(path, name);
        e = vtd_kek_put(s, path, (const uint8_t *)text, strlen(text), NULL, &d);
        OPENSSL_cleanse(text, strlen(text));
        if (e < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "cannot store the key: %.300s",
                         d.msg);
                return;
        }
        char pd[VTD_SHA256_TAG];
        vtd_sha256_tag(policy, strlen(policy), pd);
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
        char path[128], why[400] = "", caller[VTD_SHA256_TAG], target_d[VTD_SHA256_TAG] = "";
        _cleanup_json_ json_t *b = NULL, *rec = NULL, *claims = NULL;
        _cleanup_free_ uint8_t *wdek = NULL, *ct = NULL, *plain = NULL, *mat = NULL,
                               *wrapped = NULL;
        size_t wl = 0, cl = 0, pl = 0, ml = 0, wrl = 0;
        char kek_id[32];
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
        b = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
        const char *target = json_string_value(json_object_get(b, "target"));
        const char *enc = json_string_value(json_object_get(b, "enc"));
        const EVP_MD *md = NULL;
        if (!enc)
                enc = "CKM_RSA_AES_KEY_WRAP";
        if (strcmp(enc, "CKM_RSA_AES_KEY_WRAP") == 0)
                md = EVP_sha1();
        else if (strcmp(enc, "RSA_AES_KEY_WRAP_256") == 0)
                md = EVP_sha256();
        else if (strcmp(enc, "RSA_AES_KEY_WRAP_384") == 0)
                md = EVP_sha384();
        if (!target || !md) {
                kv_error(res, req, 400, "BadParameter",
                         "the body must be {\"target\": attestation token, \"enc\"?: "
                         "CKM_RSA_AES_KEY_WRAP | RSA_AES_KEY_WRAP_256 | RSA_AES_KEY_WRAP_384}");
                return;
        }
        vtd_sha256_tag(target, strlen(target), target_d);
        key_path(path, name);
        e = vt_store_resource_get(s->store, path, kek_id, &wdek, &wl, &ct, &cl, &d);
        if (e == VT_E_NOTFOUND) {
                /* before the target is verified: answered, not recorded (see below) */
                kv_error(res, req, 404, "KeyNotFound", "release of %s refused: key %s not found",
                         name, name);
                return;
        }
        if (e < 0 || !s->kek ||
            vtd_kek_unseal(s, kek_id, path, wdek, wl, ct, cl, &plain, &pl, &d) < 0) {
                kv_error(res, req, 503, "ServiceUnavailable", "the key cannot be read: %.300s",
                         d.msg);
                return;
        }
        rec = json_loadb((const char *)plain, pl, 0, NULL);
        OPENSSL_cleanse(plain, pl);
        if (!rec) {
                kv_error(res, req, 500, "InternalError", "the key record does not parse");
                return;
        }
        if (version && strcmp(version, json_string_value(json_object_get(rec, "version"))) != 0) {
                kv_error(res, req, 404, "KeyNotFound",
                         "release of %s refused: key %s has no version %.40s", name, name, version);
                return;
        }
        const char *data =
                json_string_value(json_object_get(json_object_get(rec, "release_policy"), "data"));
        size_t dl = data ? strlen(data) : 0;
        while (dl > 0 && data[dl - 1] == '=')
                dl--;
        struct vt_release_policy *pol = NULL;
        if (!data || vt_b64_decode(data, dl, VT_B64_URL, VT_RELEASE_MAX_BYTES, &ptxt, &ptl) < 0 ||
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
        vtd_json_response(res, 200, json_pack("{s:s}", "value", jws));
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
        const char *rest = req->rest, *slash = strchr(rest, '/');
        size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);

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
        if (!name_valid(rest, nl)) {
                kv_error(res, req, 400, "BadParameter",
                         "a key name is 1..64 characters of [0-9a-zA-Z-]");
                return;
        }
        memcpy(name, rest, nl);
        name[nl] = 0;
        const char *op = slash ? slash + 1 : "";
        bool post = strcmp(req->method, "POST") == 0;
        if (!post && !*op) {
                put_key(s, req, name, true, res);
        } else if (post && strcasecmp(op, "create") == 0) {
                put_key(s, req, name, false, res);
        } else if (post && strcasecmp(op, "release") == 0) {
                release_key(s, req, name, NULL, res);
        } else if (post && strlen(op) > 8 && strlen(op) < sizeof(version) + 8 &&
                   strcasecmp(op + strlen(op) - 8, "/release") == 0) {
                snprintf(version, sizeof(version), "%.*s", (int)(strlen(op) - 8), op);
                release_key(s, req, name, version, res);
        } else {
                kv_error(res, req, 404, "NotFound", "no such key operation");
        }
}
