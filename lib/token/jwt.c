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
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto/ctxslots.h"
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

/* Signing contexts on the signer's key, kept between signatures (crypto/ctxslots.h):
 * EVP_DigestSignInit looks the algorithms up in OpenSSL's provider tables again for every
 * token, which cost more than the P-256 signature itself. They hold a reference to the
 * key, never more of it, and go with the signer. */
#define SIGN_SLOTS 4

struct vt_signer {
        EVP_PKEY *key;                       /* the private key, or for p11 the public key */
        struct vt_ctx_slot *slots;           /* SIGN_SLOTS, for key (not p11) */
        struct vt_p11_key *p11;              /* a key in a PKCS#11 token, which signs */
        char kid[VT_JWK_THUMBPRINT_LEN + 1]; /* RFC 7638 thumbprint */
        json_t *x5c; /* the key's certificate chain (RFC 7515 x5c), or NULL */
        json_t *hdr; /* the protected header of its JWTs (jwt_header), built when it changes */
        char *hdr64; /* hdr's encoding, the first part of every JWT it signs */
};

void vt_signer_free(struct vt_signer *s)
{
        if (!s)
                return;
        vt_ctx_slots_free(s->slots, SIGN_SLOTS);
        free(s->slots);
        EVP_PKEY_free(s->key);
        vt_p11_key_free(s->p11);
        json_decref(s->x5c);
        json_decref(s->hdr);
        free(s->hdr64);
        OPENSSL_cleanse(s, sizeof(*s));
        free(s);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_signer *, vt_signer_free)

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

/* jwt_header builds the protected header of s's JWTs, the same for every token: ES256,
 * JWT, the kid and the public key as a JWK. With a certificate chain, x5c both in the
 * header (RFC 7515) and in its jwk, where Trustee's token verifier looks for it
 * (kbs/src/crypto/jwt.rs). Built once and when x5c changes, not for every token (the JWK
 * from the key's coordinates cost more than the rest of the header). */
static int jwt_header(struct vt_signer *s)
{
        json_auto_t *jwk = token_jwk(s->key, s->kid);
        if (!jwk || (s->x5c && vt_json_set(jwk, "x5c", json_incref(s->x5c)) < 0))
                return VT_E_NOMEM;
        json_t *h = json_pack("{s:s, s:s, s:s, s:O}", "alg", "ES256", "typ", "JWT", "kid", s->kid,
                              "jwk", jwk);
        char *h64 = NULL;
        if (!h || (s->x5c && vt_json_set(h, "x5c", json_incref(s->x5c)) < 0) ||
            vt_jws_header_b64(h, &h64) < 0) {
                json_decref(h);
                return VT_E_NOMEM;
        }
        json_decref(s->hdr);
        s->hdr = h;
        free(s->hdr64);
        s->hdr64 = h64;
        return 0;
}

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
        if (!s->p11 && !(s->slots = calloc(SIGN_SLOTS, sizeof(*s->slots))))
                return VT_E_NOMEM;
        if ((e = vt_jwk_thumbprint(s->key, s->kid)) < 0)
                return vt_diag_set(d, e, "%s %s: cannot derive the public key", what, path);
        if ((e = jwt_header(s)) < 0)
                return vt_diag_set(d, e, "%s %s: cannot build the tokens' header", what, path);
        *ret = TAKE_PTR(s);
        return 0;
}

const char *vt_signer_kid(const struct vt_signer *s)
{
        return s->kid;
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

/* ctx_sign signs the digest md with the context ud (EVP_PKEY_sign_init done): r || s,
 * S made low. */
static int ctx_sign(const uint8_t md[32], uint8_t sig[64], void *ud)
{
        uint8_t der[80];
        size_t dl = sizeof(der);
        if (EVP_PKEY_sign(ud, der, &dl, md, 32) != 1)
                return VT_E_CRYPTO;
        return vt_jose_es256_raw(der, dl, sig);
}

/* with_fn signs through fn with the header h, or its encoding h64 when not NULL */
static int with_fn(vt_jws_es256_fn fn, void *ud, const json_t *h, const char *h64,
                   const json_t *claims, const char *text, size_t len, char **ret)
{
        if (h64)
                return vt_jws_sign_es256_h64_with(fn, ud, h64, claims, claims ? NULL : text, len,
                                                  ret);
        return claims ? vt_jws_sign_es256_with(fn, ud, h, claims, ret)
                      : vt_jws_sign_es256_text_with(fn, ud, h, text, len, ret);
}

/* sign: the one place a signer signs, with its key or in its token; claims (JSON) or the
 * payload's text (len bytes); h64: h's encoding, or NULL */
static int sign(const struct vt_signer *s, const json_t *h, const char *h64, const json_t *claims,
                const char *text, size_t len, char **ret, struct vt_diag *d)
{
        if (s->p11) {
                int e = with_fn(p11_sign, s->p11, h, h64, claims, text, len, ret);
                if (e == VT_E_CRYPTO)
                        return vt_diag_set(d, e,
                                           "PKCS#11 token key: the signature failed, or its r or "
                                           "s is outside [1, order - 1]");
                return e;
        }
        struct vt_ctx_slot *sl;
        EVP_PKEY_CTX *ctx = vt_ctx_slot_take(s->slots, SIGN_SLOTS, s->key, EVP_PKEY_sign_init, &sl);
        if (!ctx) /* as before the slots: OpenSSL's reason in d */
                return claims ? vt_jws_sign_d(s->key, VT_JWS_ES256, h, claims, ret, d)
                              : vt_jws_sign_text_d(s->key, VT_JWS_ES256, h, text, len, ret, d);
        int e = with_fn(ctx_sign, ctx, h, h64, claims, text, len, ret);
        vt_ctx_slot_give(ctx, sl, e == VT_E_CRYPTO);
        return e == VT_E_CRYPTO ? vt_jws_sign_failed(d) : e;
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
        return sign(s, h, NULL, claims, NULL, 0, ret, NULL);
}

int vt_jwt_sign(const struct vt_signer *s, const json_t *claims, char **ret)
{
        return vt_jwt_sign_d(s, claims, ret, NULL);
}

int vt_jwt_sign_text_d(const struct vt_signer *s, const char *payload, size_t len, char **ret,
                       struct vt_diag *d)
{
        if (!payload)
                return VT_E_INVAL;
        return sign(s, s->hdr, s->hdr64, NULL, payload, len, ret, d);
}

int vt_jwt_sign_d(const struct vt_signer *s, const json_t *claims, char **ret, struct vt_diag *d)
{
        if (!claims)
                return VT_E_INVAL;
        return sign(s, s->hdr, s->hdr64, claims, NULL, 0, ret, d);
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

/* ---- the token key's certificate (x5c) ---- */

static void x509_stack_freep(STACK_OF(X509) * *p)
{
        if (*p)
                sk_X509_pop_free(*p, X509_free);
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        int ok = ext && X509_add_ext(x, ext, -1) == 1;
        X509_EXTENSION_free(ext);
        return ok ? 0 : VT_E_CRYPTO;
}

/* make_cert certifies pub: issued by issuer (NULL: self-issued) and signed with sign_key;
 * valid from now - 60 s for a year, never past the issuer's notAfter. */
static int make_cert(EVP_PKEY *pub, X509 *issuer, EVP_PKEY *sign_key, int64_t now, X509 **ret)
{
        _cleanup_(X509_freep) X509 *x = X509_new();
        uint8_t serial[16];
        int64_t not_after = now + 365 * 86400, inb, ina;
        if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
                return VT_E_CRYPTO;
        serial[0] &= 0x7f; /* a positive INTEGER */
        serial[0] |= 0x01;
        if (issuer && vt_x509_window(issuer, &inb, &ina) == 0 && ina < not_after)
                not_after = ina;
        _cleanup_(BN_freep) BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
        X509_NAME *name = X509_get_subject_name(x);
        if (!bn || X509_set_version(x, X509_VERSION_3) != 1 ||
            !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
            !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - 60)) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) ||
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       (const unsigned char *)"veriteed token signing key", -1, -1,
                                       0) != 1 ||
            X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) != 1 ||
            X509_set_pubkey(x, pub) != 1)
                return VT_E_CRYPTO;
        if (add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,digitalSignature") < 0 ||
            add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") < 0 ||
            (issuer && add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") < 0))
                return VT_E_CRYPTO;
        if (X509_sign(x, sign_key, EVP_sha256()) <= 0)
                return VT_E_CRYPTO;
        *ret = TAKE_PTR(x);
        return 0;
}

static int chain_to_x5c(STACK_OF(X509) * chain, json_t **ret)
{
        json_auto_t *a = json_array();
        if (!a)
                return VT_E_NOMEM;
        for (int i = 0; i < sk_X509_num(chain); i++) {
                unsigned char *der = NULL;
                int n = i2d_X509(sk_X509_value(chain, i), &der);
                char *b64 = NULL;
                int e = n > 0 ? vt_b64_encode(der, (size_t)n, VT_B64_STD, &b64) : VT_E_CRYPTO;
                OPENSSL_free(der);
                if (e < 0 || json_array_append_new(a, json_string(b64)) < 0) {
                        free(b64);
                        return e < 0 ? e : VT_E_NOMEM;
                }
                free(b64);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int read_certs(const char *path, const char *what, STACK_OF(X509) * *ret, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *pem = NULL;
        size_t n = 0;
        int e = vt_read_file(path, 1u << 20, &pem, &n);
        if (e < 0)
                return vt_diag_set(d, e, "cannot read %s %s", what, path);
        if (vt_x509_parse_many(pem, n, ret) < 0 || sk_X509_num(*ret) < 1)
                return vt_diag_set(d, VT_E_FORMAT, "%s %s holds no PEM certificate", what, path);
        return 0;
}

int vt_signer_certify(struct vt_signer *s, const struct vt_signer_cert_opts *o, int64_t now,
                      struct vt_diag *d)
{
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = NULL;
        int e;
        if (o->chain_file) {
                if ((e = read_certs(o->chain_file, "token.certificate_chain", &chain, d)) < 0)
                        return e;
                if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(chain, 0)), s->key) != 1)
                        return vt_diag_set(d, VT_E_BINDING,
                                           "token.certificate_chain %s: the first certificate "
                                           "is not for the token signing key",
                                           o->chain_file);
        } else if (o->ca_cert_file || o->ca_key_file) {
                _cleanup_(x509_stack_freep) STACK_OF(X509) *ca = NULL;
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL;
                _cleanup_free_ uint8_t *pem = NULL;
                size_t n = 0;
                X509 *leaf = NULL;
                if (!o->ca_cert_file || !o->ca_key_file)
                        return vt_diag_set(d, VT_E_INVAL,
                                           "token.ca_certificate and token.ca_key go together");
                if ((e = read_certs(o->ca_cert_file, "token.ca_certificate", &ca, d)) < 0)
                        return e;
                if ((e = vt_read_private_file(o->ca_key_file, 64u * 1024u, false, "token.ca_key",
                                              &pem, &n, d)) < 0)
                        return e;
                (void)vt_pem_private_key(pem, n, &ca_key);
                OPENSSL_cleanse(pem, n);
                if (!ca_key || EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(ca, 0)), ca_key) != 1) {
                        ERR_clear_error();
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "token.ca_key %s is not the private key of "
                                           "token.ca_certificate",
                                           o->ca_key_file);
                }
                if (make_cert(s->key, sk_X509_value(ca, 0), ca_key, now, &leaf) < 0) {
                        ERR_clear_error();
                        return vt_diag_set(d, VT_E_CRYPTO,
                                           "cannot certify the token key with token.ca_key");
                }
                chain = sk_X509_new_null();
                if (!chain || !sk_X509_push(chain, leaf)) {
                        X509_free(leaf);
                        return VT_E_NOMEM;
                }
                /* then the CA certificate and what its file carries after it */
                while (sk_X509_num(ca) > 0) {
                        X509 *c = sk_X509_shift(ca);
                        if (!sk_X509_push(chain, c)) {
                                X509_free(c);
                                return VT_E_NOMEM;
                        }
                }
        } else if (o->self_signed) {
                X509 *leaf = NULL;
                if (s->p11)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "token.self_signed_certificate needs a token key in "
                                           "a file, not in PKCS#11");
                if (make_cert(s->key, NULL, s->key, now, &leaf) < 0) {
                        ERR_clear_error();
                        return vt_diag_set(d, VT_E_CRYPTO, "cannot self-sign the token key");
                }
                chain = sk_X509_new_null();
                if (!chain || !sk_X509_push(chain, leaf)) {
                        X509_free(leaf);
                        return VT_E_NOMEM;
                }
        } else {
                return 0;
        }
        json_t *x5c = NULL;
        if ((e = chain_to_x5c(chain, &x5c)) < 0)
                return vt_diag_set(d, e, "cannot encode the token key's certificate chain");
        json_decref(s->x5c);
        s->x5c = x5c;
        if ((e = jwt_header(s)) < 0)
                return vt_diag_set(d, e, "cannot build the tokens' header");
        if (o->write_to) {
                _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
                for (int i = 0; b && i < sk_X509_num(chain); i++)
                        if (!PEM_write_bio_X509(b, sk_X509_value(chain, i)))
                                return VT_E_CRYPTO;
                char *p = NULL;
                long n = b ? BIO_get_mem_data(b, &p) : 0;
                if (!b || (e = vt_write_file_atomic(o->write_to, p, (size_t)n, 0644)) < 0)
                        return vt_diag_set(d, b ? e : VT_E_NOMEM, "cannot write %s", o->write_to);
        }
        return 0;
}

const json_t *vt_signer_x5c(const struct vt_signer *s)
{
        return s->x5c;
}
