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
#include "crypto/pkcs11.h"
#include "crypto/x509.h"
#include "token/jose.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/json.h"

#define MAX_TOKEN_BYTES (256u * 1024u)

struct vt_signer {
        EVP_PKEY *key;                       /* the private key, or for p11 the public key */
        struct vt_p11_key *p11;              /* a key in a PKCS#11 token, which signs */
        char kid[VT_JWK_THUMBPRINT_LEN + 1]; /* RFC 7638 thumbprint */
};

void vt_signer_free(struct vt_signer *s)
{
        if (!s)
                return;
        EVP_PKEY_free(s->key);
        vt_p11_key_free(s->p11);
        OPENSSL_cleanse(s, sizeof(*s));
        free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_signer *, vt_signer_free)

int vt_signer_load_or_create(const char *path, struct vt_signer **ret, struct vt_diag *d)
{
        return vt_signer_load_or_create_as(path, "token key", ret, d);
}

int vt_signer_load_or_create_as(const char *path, const char *what, struct vt_signer **ret,
                                struct vt_diag *d)
{
        _cleanup_(vt_signer_freep) struct vt_signer *s = calloc(1, sizeof(*s));
        struct stat st;
        int e;
        if (!s)
                return VT_E_NOMEM;
        if (vt_p11_is_uri(path)) {
                /* the key stays in the token: we keep its public half for kid and JWKS */
                if ((e = vt_p11_key_open(path, NULL, VT_P11_EC_P256, what, &s->p11, d)) < 0 ||
                    (e = vt_p11_ec_public(s->p11, &s->key)) < 0)
                        return e;
        } else if (stat(path, &st) == 0) {
                uint8_t *pem = NULL;
                size_t n = 0;
                if ((e = vt_read_private_file(path, 64u * 1024u, false, what, &pem, &n, d)) < 0)
                        return e;
                (void)vt_pem_private_key(pem, n, &s->key);
                OPENSSL_clear_free(pem, n + 1);
                if (!s->key || vt_ec_curve_nid(s->key) != NID_X9_62_prime256v1) {
                        ERR_clear_error();
                        return vt_diag_set(d, VT_E_FORMAT, "%s %s is not a P-256 private key (PEM)",
                                           what, path);
                }
        } else if (errno == ENOENT) {
                s->key = EVP_EC_gen("P-256");
                if (!s->key)
                        return vt_diag_set(d, VT_E_CRYPTO, "cannot generate the %s", what);
                _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_secmem()); /* cleared when freed */
                if (!b || !PEM_write_bio_PrivateKey(b, s->key, NULL, NULL, 0, NULL, NULL))
                        return VT_E_CRYPTO;
                char *pem = NULL;
                long n = BIO_get_mem_data(b, &pem);
                if ((e = vt_write_file_atomic(path, pem, (size_t)n, 0600)) < 0)
                        return vt_diag_set(d, e, "cannot write %s %s", what, path);
        } else {
                return vt_diag_set(d, VT_E_IO, "cannot stat %s %s", what, path);
        }
        if ((e = vt_jwk_thumbprint(s->key, s->kid)) < 0)
                return vt_diag_set(d, e, "%s %s: cannot derive the public key", what, path);
        *ret = TAKE_PTR(s);
        return 0;
}

const char *vt_signer_kid(const struct vt_signer *s)
{
        return s->kid;
}

/* The published JWK of a token key: public members, alg ES256, use sig, kid. */
static json_t *token_jwk(EVP_PKEY *key, const char *kid)
{
        json_t *j = NULL;
        if (vt_jwk_from_pkey(key, VT_JWK_ALG_LAST, "ES256", &j) < 0)
                return NULL;
        if (vt_json_set(j, "use", json_string("sig")) < 0 ||
            vt_json_set(j, "kid", json_string(kid)) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

json_t *vt_signer_jwk(const struct vt_signer *s)
{
        return token_jwk(s->key, s->kid);
}

int vt_jwt_key_file_jwk(const char *path, const char *what, json_t **ret, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *text = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
        char kid[VT_JWK_THUMBPRINT_LEN + 1];
        size_t n;
        int e;
        if ((e = vt_read_file(path, 64u * 1024u, &text, &n)) < 0)
                return vt_diag_set(d, e, "%s %s: cannot read it (at most 64 KiB)", what, path);
        if (memmem(text, n, "PRIVATE KEY-----", 16)) {
                /* a private key keeps the rules of a signing key: its owner's alone */
                uint8_t *pem = NULL;
                size_t pl = 0;
                OPENSSL_cleanse(text, n); /* read again below, once its mode is checked */
                if ((e = vt_read_private_file(path, 64u * 1024u, true, what, &pem, &pl, d)) < 0)
                        return e;
                (void)vt_pem_private_key(pem, pl, &pk);
                OPENSSL_clear_free(pem, pl + 1);
        } else {
                X509 *x = NULL;
                if (vt_x509_parse_one(text, n, &x) == 0) {
                        pk = X509_get_pubkey(x);
                        X509_free(x);
                } else {
                        _cleanup_(BIO_free_allp) BIO *b = BIO_new_mem_buf(text, (int)n);
                        pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
                }
        }
        ERR_clear_error();
        if (!pk || vt_ec_curve_nid(pk) != NID_X9_62_prime256v1)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s %s holds no P-256 key (PEM private key, public key or "
                                   "certificate)",
                                   what, path);
        if ((e = vt_jwk_thumbprint(pk, kid)) < 0)
                return vt_diag_set(d, e, "%s %s: cannot derive the key id", what, path);
        json_t *j = token_jwk(pk, kid);
        if (!j)
                return VT_E_NOMEM;
        *ret = j;
        return 0;
}

static int p11_sign(const uint8_t md[32], uint8_t sig[64], void *ud)
{
        return vt_p11_ecdsa_sign(ud, md, sig, NULL);
}

/* sign: the one place a signer signs, with its key or in its token */
static int sign(const struct vt_signer *s, const json_t *h, const json_t *claims, char **ret)
{
        if (s->p11)
                return vt_jws_sign_es256_with(p11_sign, s->p11, h, claims, ret);
        return vt_jws_sign(s->key, VT_JWS_ES256, h, claims, ret);
}

bool vt_signer_is_pkcs11(const struct vt_signer *s)
{
        return s && s->p11;
}

int vt_signer_sign_jws(const struct vt_signer *s, const char *typ, const json_t *claims, char **ret)
{
        json_auto_t *h = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", typ, "kid", s->kid);
        if (!h)
                return VT_E_NOMEM;
        return sign(s, h, claims, ret);
}

int vt_jwt_sign(const struct vt_signer *s, const json_t *claims, char **ret)
{
        json_auto_t *jwk = vt_signer_jwk(s);
        json_auto_t *h = jwk ? json_pack("{s:s, s:s, s:s, s:O}", "alg", "ES256", "typ", "JWT",
                                         "kid", s->kid, "jwk", jwk)
                             : NULL;
        if (!h)
                return VT_E_NOMEM;
        return sign(s, h, claims, ret);
}

bool vt_jwt_key_usable(const json_t *jwk)
{
        return vt_jwk_to_verify_key(jwk, NULL, NULL) == 0;
}

int vt_jws_verify_jwks(const char *token, const json_t *jwks, const char *who, const char *typ,
                       json_t **ret_claims, struct vt_diag *d)
{
        _cleanup_(vt_jws_done) struct vt_jws jws = {0};
        struct vt_jws_sig sig;
        enum vt_jws_alg alg;
        int e;

        if ((e = vt_jws_parse(token, MAX_TOKEN_BYTES, 4096, who, &jws, d)) < 0)
                return e;
        if (vt_jws_alg_of(&jws, VT_JWS_ES256, &alg) != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "%s: algorithm %s is not accepted (ES256 only)", who,
                                   jws.alg ? jws.alg : "(none)");
        if (typ) {
                const char *t = json_string_value(json_object_get(jws.hdr, "typ"));
                if (!t || strcmp(t, typ) != 0)
                        return vt_diag_set(d, VT_E_FORMAT, "%s: header typ is %s, not %s", who,
                                           t ? t : "(none)", typ);
        }
        if ((e = vt_jws_signature(&jws, alg, &sig, d)) < 0)
                return e;
        const json_t *keys = json_object_get(jwks, "keys");
        struct vt_diag why = {0}; /* why the first key with this kid was refused */
        size_t i;
        json_t *k;
        bool any = false, ok = false;
        json_array_foreach (keys, i, k) {
                const char *kkid = json_string_value(json_object_get(k, "kid"));
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
                if (jws.kid && kkid && strcmp(jws.kid, kkid) != 0)
                        continue;
                if (vt_jwk_to_verify_key(k, &pk, &why) < 0)
                        continue;
                any = true;
                if ((ok = vt_jws_verify(&jws, &sig, pk)))
                        break;
        }
        if (!any)
                return vt_diag_set(d, VT_E_SIGNATURE, "%s: no trusted key%s%s%s%s%s", who,
                                   jws.kid ? " with kid " : "", jws.kid ? jws.kid : "",
                                   why.msg[0] ? " (" : "", why.msg, why.msg[0] ? ")" : "");
        if (!ok)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "%s: signature does not verify with a trusted key", who);
        json_auto_t *claims = NULL;
        if ((e = vt_jws_claims(&jws, MAX_TOKEN_BYTES, &claims, d)) < 0)
                return e;
        *ret_claims = TAKE_PTR(claims);
        return 0;
}

int vt_jwt_verify(const char *token, const json_t *jwks, int64_t now, json_t **ret_claims,
                  struct vt_diag *d)
{
        json_auto_t *claims = NULL;
        int e = vt_jws_verify_jwks(token, jwks, "token", NULL, &claims, d);
        if (e < 0)
                return e;
        if ((e = vt_jose_check_times(claims, now, "token", d)) < 0)
                return e;
        *ret_claims = TAKE_PTR(claims);
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
