/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "token/jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "crypto/jwk.h"
#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "token/jose.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/json.h"

#define MAX_TOKEN_BYTES (256u * 1024u)

struct vt_signer {
        EVP_PKEY *key;
        char kid[VT_JWK_THUMBPRINT_LEN + 1]; /* RFC 7638 thumbprint */
};

void vt_signer_free(struct vt_signer *s)
{
        if (!s)
                return;
        EVP_PKEY_free(s->key);
        OPENSSL_cleanse(s, sizeof(*s));
        free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_signer *, vt_signer_free)

/* Never prompt for a passphrase: an encrypted key file is an error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
        (void)buf, (void)size, (void)rwflag, (void)u;
        return -1;
}

int vt_signer_load_or_create(const char *path, struct vt_signer **ret, struct vt_diag *d)
{
        _cleanup_(vt_signer_freep) struct vt_signer *s = calloc(1, sizeof(*s));
        struct stat st;
        int e;
        if (!s)
                return VT_E_NOMEM;
        if (stat(path, &st) == 0) {
                uint8_t *pem = NULL;
                size_t n = 0;
                if ((e = vt_read_private_file(path, 64u * 1024u, false, "token key", &pem, &n, d)) <
                    0)
                        return e;
                BIO *b = BIO_new_mem_buf(pem, (int)n);
                s->key = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
                BIO_free(b);
                OPENSSL_clear_free(pem, n + 1);
                if (!s->key || vt_ec_curve_nid(s->key) != NID_X9_62_prime256v1) {
                        ERR_clear_error();
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "token key %s is not a P-256 private key (PEM)", path);
                }
        } else if (errno == ENOENT) {
                s->key = EVP_EC_gen("P-256");
                if (!s->key)
                        return vt_diag_set(d, VT_E_CRYPTO, "cannot generate the token signing key");
                BIO *b = BIO_new(BIO_s_secmem()); /* cleared when freed */
                if (!b || !PEM_write_bio_PrivateKey(b, s->key, NULL, NULL, 0, NULL, NULL)) {
                        BIO_free(b);
                        return VT_E_CRYPTO;
                }
                char *pem = NULL;
                long n = BIO_get_mem_data(b, &pem);
                e = vt_write_file_atomic(path, pem, (size_t)n, 0600);
                BIO_free_all(b);
                if (e < 0)
                        return vt_diag_set(d, e, "cannot write token key %s", path);
        } else {
                return vt_diag_set(d, VT_E_IO, "cannot stat token key %s", path);
        }
        if ((e = vt_jwk_thumbprint(s->key, s->kid)) < 0)
                return vt_diag_set(d, e, "token key %s: cannot derive the public key", path);
        *ret = TAKE_PTR(s);
        return 0;
}

const char *vt_signer_kid(const struct vt_signer *s)
{
        return s->kid;
}

json_t *vt_signer_jwk(const struct vt_signer *s)
{
        json_t *j = NULL;
        if (vt_jwk_from_pkey(s->key, VT_JWK_ALG_LAST, "ES256", &j) < 0)
                return NULL;
        if (vt_json_set(j, "use", json_string("sig")) < 0 ||
            vt_json_set(j, "kid", json_string(s->kid)) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

int vt_jwt_sign(const struct vt_signer *s, const json_t *claims, char **ret)
{
        _cleanup_free_ char *hdr = NULL, *payload = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL,
                            *input = NULL, *out = NULL;
        json_t *jwk = vt_signer_jwk(s);
        json_t *h = jwk ? json_pack("{s:s, s:s, s:s, s:o}", "alg", "ES256", "typ", "JWT", "kid",
                                    s->kid, "jwk", jwk)
                        : NULL;
        uint8_t der[80], raw[64];
        size_t dl = sizeof(der);
        int e = VT_E_NOMEM;
        if (!h)
                return VT_E_NOMEM;
        hdr = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(h);
        payload = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!hdr || !payload)
                return VT_E_NOMEM;
        if ((e = vt_b64_encode((const uint8_t *)hdr, strlen(hdr), VT_B64_URL, &h64)) < 0 ||
            (e = vt_b64_encode((const uint8_t *)payload, strlen(payload), VT_B64_URL, &p64)) < 0)
                return e;
        if (asprintf(&input, "%s.%s", h64, p64) < 0)
                return VT_E_NOMEM;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->key) != 1 ||
            EVP_DigestSign(md, der, &dl, (const uint8_t *)input, strlen(input)) != 1) {
                EVP_MD_CTX_free(md);
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        EVP_MD_CTX_free(md);
        if ((e = vt_jose_es256_raw(der, dl, raw)) < 0) /* a low S, as verifiers require */
                return e;
        if ((e = vt_b64_encode(raw, sizeof(raw), VT_B64_URL, &s64)) < 0)
                return e;
        if (asprintf(&out, "%s.%s", input, s64) < 0)
                return VT_E_NOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

bool vt_jwt_key_usable(const json_t *jwk)
{
        return vt_jwk_to_verify_key(jwk, NULL, NULL) == 0;
}

int vt_jwt_verify(const char *token, const json_t *jwks, int64_t now, json_t **ret_claims,
                  struct vt_diag *d)
{
        _cleanup_free_ uint8_t *hb = NULL, *pb = NULL, *sb = NULL;
        size_t hl, pl, sl, tl;
        if (!token || (tl = strlen(token)) > MAX_TOKEN_BYTES)
                return vt_diag_set(d, VT_E_LIMIT, "token: larger than %u bytes", MAX_TOKEN_BYTES);
        const char *dot1 = strchr(token, '.');
        const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        if (!dot1 || !dot2 || strchr(dot2 + 1, '.'))
                return vt_diag_set(d, VT_E_FORMAT, "token: not a compact JWS (three parts)");
        if (vt_b64_decode(token, (size_t)(dot1 - token), VT_B64_URL, 4096, &hb, &hl) < 0 ||
            vt_b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), VT_B64_URL, MAX_TOKEN_BYTES, &pb,
                          &pl) < 0 ||
            vt_b64_decode(dot2 + 1, strlen(dot2 + 1), VT_B64_URL, 64, &sb, &sl) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "token: a part is not base64url");
        json_auto_t *hdr = json_loadb((const char *)hb, hl, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(hdr))
                return vt_diag_set(d, VT_E_FORMAT, "token: header is not a JSON object");
        const char *alg = json_string_value(json_object_get(hdr, "alg"));
        if (!alg || strcmp(alg, "ES256") != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "token: algorithm %s is not accepted (ES256 only)",
                                   alg ? alg : "(none)");
        int e;
        if ((e = vt_jose_check_crit(hdr, "token", d)) < 0)
                return e;
        if (sl != 64)
                return vt_diag_set(d, VT_E_SIGNATURE, "token: ES256 signature must be 64 bytes");
        uint8_t der[80];
        size_t dl = 0;
        if ((e = vt_jose_es256_der(sb, der, &dl, "token", d)) < 0)
                return e;
        const char *kid = json_string_value(json_object_get(hdr, "kid"));
        const json_t *keys = json_object_get(jwks, "keys");
        size_t i;
        json_t *k;
        struct vt_diag why = {0}; /* why the first key with this kid was refused */
        bool any = false, ok = false;
        json_array_foreach (keys, i, k) {
                const char *kkid = json_string_value(json_object_get(k, "kid"));
                EVP_PKEY *pk = NULL;
                if (kid && kkid && strcmp(kid, kkid) != 0)
                        continue;
                if (vt_jwk_to_verify_key(k, &pk, &why) < 0)
                        continue;
                any = true;
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                if (md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
                    EVP_DigestVerify(md, der, dl, (const uint8_t *)token, (size_t)(dot2 - token)) ==
                            1)
                        ok = true;
                EVP_MD_CTX_free(md);
                EVP_PKEY_free(pk);
                ERR_clear_error();
                if (ok)
                        break;
        }
        if (!any)
                return vt_diag_set(d, VT_E_SIGNATURE, "token: no trusted key%s%s%s%s%s",
                                   kid ? " with kid " : "", kid ? kid : "", why.msg[0] ? " (" : "",
                                   why.msg, why.msg[0] ? ")" : "");
        if (!ok)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "token: signature does not verify with a trusted key");
        json_t *claims = json_loadb((const char *)pb, pl, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(claims)) {
                json_decref(claims);
                return vt_diag_set(d, VT_E_FORMAT, "token: claims are not a JSON object");
        }
        if ((e = vt_jose_check_times(claims, now, "token", d)) < 0) {
                json_decref(claims);
                return e;
        }
        *ret_claims = claims;
        (void)tl;
        return 0;
}

json_t *vt_jwk_p256_public(EVP_PKEY *key)
{
        json_t *j = NULL;
        if (!key || vt_ec_curve_nid(key) != NID_X9_62_prime256v1) {
                ERR_clear_error();
                return NULL;
        }
        return vt_jwk_from_pkey(key, VT_JWK_ALG_LAST, "ES256", &j) < 0 ? NULL : j;
}
