/* SPDX-License-Identifier: Apache-2.0 */
#include "token/jose.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "crypto/digest.h"
#include "crypto/openssl-util.h"
#include "util/b64.h"
#include "util/macro.h"

/* half the order of P-256, rounded down, big-endian: the largest low S */
static const uint8_t p256_half_order[32] = {
        0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
        0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
};

/* the order of P-256, big-endian */
static const uint8_t p256_order[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
        0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

int vt_jose_check_crit(const json_t *hdr, const char *who, struct vt_diag *d)
{
        if (json_object_get(hdr, "crit"))
                return vt_diag_set(d, VT_E_FORMAT, "%s: crit header is not supported", who);
        return 0;
}

int vt_jose_es256_der(const uint8_t sig[64], uint8_t der[static 80], size_t *der_len,
                      const char *who, struct vt_diag *d)
{
        /* fixed-width big-endian numbers compare as byte strings */
        if (memcmp(sig + 32, p256_half_order, 32) > 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "%s: ES256 signature has a high S (more than half the "
                                   "group order; the signer must use the low one)",
                                   who);
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *s = ECDSA_SIG_new();
        _cleanup_(BN_freep) BIGNUM *r = BN_bin2bn(sig, 32, NULL);
        _cleanup_(BN_freep) BIGNUM *sv = BN_bin2bn(sig + 32, 32, NULL);
        if (!s || !r || !sv || !ECDSA_SIG_set0(s, r, sv)) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        r = sv = NULL; /* owned by s now */
        uint8_t *p = der;
        int dl = i2d_ECDSA_SIG(s, NULL);
        if (dl <= 0 || dl > 80 || i2d_ECDSA_SIG(s, &p) != dl) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        *der_len = (size_t)dl;
        return 0;
}

/* es256_low_s checks r || s (big-endian, 32 bytes each: public values) for 1 <= r, s < n
 * and makes S low (s := n - s when s > n / 2) in place: VT_E_CRYPTO for a pair out of
 * range, which no signer of P-256 makes. */
static int es256_low_s(uint8_t rs[static 64])
{
        static const uint8_t zero[32];
        uint8_t *s = rs + 32;
        if (memcmp(rs, zero, 32) == 0 || memcmp(s, zero, 32) == 0 ||
            memcmp(rs, p256_order, 32) >= 0 || memcmp(s, p256_order, 32) >= 0)
                return VT_E_CRYPTO;
        if (memcmp(s, p256_half_order, 32) <= 0)
                return 0;
        unsigned borrow = 0;
        for (int i = 31; i >= 0; i--) {
                unsigned d = (unsigned)p256_order[i] - s[i] - borrow;
                s[i] = (uint8_t)d;
                borrow = (d >> 8) & 1u;
        }
        return 0;
}

int vt_jose_es256_raw(const uint8_t *der, size_t der_len, uint8_t sig[static 64])
{
        const uint8_t *p = der;
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        bool ok = s && p == der + der_len && BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32 &&
                  BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32;
        ERR_clear_error();
        return ok ? es256_low_s(sig) : VT_E_CRYPTO;
}

/* Reads an integer time claim: 0 and *ret set, 1 when absent, or VT_E_FORMAT. */
static int time_claim(const json_t *claims, const char *name, const char *who, int64_t *ret,
                      struct vt_diag *d)
{
        const json_t *v = json_object_get(claims, name);
        if (!v)
                return 1;
        if (!json_is_integer(v))
                return vt_diag_set(d, VT_E_FORMAT, "%s: %s is not an integer", who, name);
        *ret = (int64_t)json_integer_value(v);
        return 0;
}

int vt_jose_check_times(const json_t *claims, int64_t now, const char *who, struct vt_diag *d)
{
        /* now +- leeway, saturated so that no comparison below can overflow */
        int64_t lo = now > INT64_MIN + VT_JOSE_LEEWAY ? now - VT_JOSE_LEEWAY : INT64_MIN;
        int64_t hi = now < INT64_MAX - VT_JOSE_LEEWAY ? now + VT_JOSE_LEEWAY : INT64_MAX;
        char t1[21], t2[21];
        int64_t exp = 0, nbf = 0, iat = 0;
        int e;

        if ((e = time_claim(claims, "exp", who, &exp, d)) < 0)
                return e;
        if (e > 0)
                return vt_diag_set(d, VT_E_FORMAT, "%s: no exp claim", who);
        if (exp < lo) {
                vt_time_format_rfc3339(exp, t1);
                vt_time_format_rfc3339(now, t2);
                return vt_diag_set(d, VT_E_EXPIRED, "%s: expired at %s (now %s)", who, t1, t2);
        }
        if ((e = time_claim(claims, "nbf", who, &nbf, d)) < 0)
                return e;
        if (e == 0 && nbf > hi) {
                vt_time_format_rfc3339(nbf, t1);
                vt_time_format_rfc3339(now, t2);
                return vt_diag_set(d, VT_E_EXPIRED, "%s: not valid before %s (now %s)", who, t1,
                                   t2);
        }
        if ((e = time_claim(claims, "iat", who, &iat, d)) < 0)
                return e;
        if (e == 0 && iat > hi) {
                vt_time_format_rfc3339(iat, t1);
                vt_time_format_rfc3339(now, t2);
                return vt_diag_set(d, VT_E_EXPIRED,
                                   "%s: issued in the future at %s (now %s); check the clocks", who,
                                   t1, t2);
        }
        return 0;
}

static bool b64url_byte(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
}

int vt_jws_parse(const char *token, size_t max_len, size_t max_header, const char *who,
                 struct vt_jws *ret, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *hb = NULL;
        const char *dot1 = NULL, *dot2 = NULL, *end;
        size_t hl = 0;

        if (!token || strnlen(token, max_len + 1) > max_len)
                return vt_diag_set(d, VT_E_LIMIT, "%s: larger than %zu bytes", who, max_len);
        for (end = token; *end; end++) {
                unsigned char c = (unsigned char)*end;
                if (c == '.') {
                        if (dot2)
                                return vt_diag_set(d, VT_E_FORMAT, "%s: more than three parts",
                                                   who);
                        if (dot1)
                                dot2 = end;
                        else
                                dot1 = end;
                } else if (!b64url_byte(c)) {
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "%s: byte 0x%02x at offset %zu is not base64url", who, c,
                                           (size_t)(end - token));
                }
        }
        if (!dot2)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: not a compact JWS (header.payload.signature)", who);
        if (dot1 == token || dot2 == dot1 + 1)
                return vt_diag_set(d, VT_E_FORMAT, "%s: empty header or payload", who);
        if (vt_b64_decode(token, (size_t)(dot1 - token), VT_B64_URL, max_header, &hb, &hl) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: header is not base64url of at most %zu bytes", who,
                                   max_header);
        json_error_t je;
        json_auto_t *hdr = json_loadb((const char *)hb, hl, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(hdr)) /* what jansson says names a duplicate member ("alg" twice) */
                return vt_diag_set(d, VT_E_FORMAT, "%s: header is not a JSON object (%.80s)", who,
                                   hdr ? "not an object" : je.text);
        int e;
        if ((e = vt_jose_check_crit(hdr, who, d)) < 0)
                return e;
        const json_t *jkid = json_object_get(hdr, "kid");
        if (jkid && (!json_is_string(jkid) || json_string_length(jkid) > VT_JWS_MAX_KID ||
                     strlen(json_string_value(jkid)) != json_string_length(jkid)))
                return vt_diag_set(d, VT_E_FORMAT, "%s: kid is not a short string", who);
        *ret = (struct vt_jws){
                .who = who,
                .alg = json_string_value(json_object_get(hdr, "alg")),
                .kid = json_string_value(jkid),
                .signing = token,
                .signing_len = (size_t)(dot2 - token),
                .payload64 = dot1 + 1,
                .payload64_len = (size_t)(dot2 - dot1 - 1),
                .sig64 = dot2 + 1,
                .sig64_len = (size_t)(end - dot2 - 1),
        };
        ret->hdr = TAKE_PTR(hdr);
        return 0;
}

void vt_jws_done(struct vt_jws *j)
{
        if (!j)
                return;
        json_decref(j->hdr);
        j->hdr = NULL;
}

int vt_jws_alg_of(const struct vt_jws *j, unsigned accepted, enum vt_jws_alg *ret)
{
        static const struct {
                const char *name;
                enum vt_jws_alg alg;
        } algs[] = {{"ES256", VT_JWS_ES256}, {"EdDSA", VT_JWS_EDDSA}};

        if (!j->alg)
                return 1;
        for (size_t i = 0; i < ELEMENTSOF(algs); i++)
                if (strcmp(j->alg, algs[i].name) == 0 && (accepted & algs[i].alg)) {
                        *ret = algs[i].alg;
                        return 0;
                }
        return VT_E_UNSUPPORTED;
}

int vt_jws_signature(const struct vt_jws *j, enum vt_jws_alg alg, struct vt_jws_sig *ret,
                     struct vt_diag *d)
{
        const char *name = alg == VT_JWS_ES256 ? "ES256" : "EdDSA";
        _cleanup_free_ uint8_t *sb = NULL;
        size_t sl = 0;

        if (vt_b64_decode(j->sig64, j->sig64_len, VT_B64_URL, VT_JWS_SIG_LEN, &sb, &sl) < 0 ||
            sl != VT_JWS_SIG_LEN)
                return vt_diag_set(d, VT_E_SIGNATURE, "%s: %s signature must be %d bytes", j->who,
                                   name, VT_JWS_SIG_LEN);
        ret->alg = alg;
        memcpy(ret->raw, sb, VT_JWS_SIG_LEN);
        ret->der_len = 0;
        if (alg == VT_JWS_ES256)
                return vt_jose_es256_der(ret->raw, ret->der, &ret->der_len, j->who, d);
        return 0;
}

bool vt_jws_verify(const struct vt_jws *j, const struct vt_jws_sig *sig, EVP_PKEY *key)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        const uint8_t *in = (const uint8_t *)j->signing;
        bool ok;

        if (!md || !key)
                return false;
        if (sig->alg == VT_JWS_EDDSA)
                ok = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 &&
                     EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
                     EVP_DigestVerify(md, sig->raw, VT_JWS_SIG_LEN, in, j->signing_len) == 1;
        else
                ok = sig->der_len > 0 && EVP_PKEY_is_a(key, "EC") &&
                     EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
                     EVP_DigestVerify(md, sig->der, sig->der_len, in, j->signing_len) == 1;
        ERR_clear_error();
        return ok;
}

int vt_jws_claims(const struct vt_jws *j, size_t max, json_t **ret, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *pb = NULL;
        size_t pl = 0;

        if (vt_b64_decode(j->payload64, j->payload64_len, VT_B64_URL, max, &pb, &pl) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "%s: payload is not base64url", j->who);
        json_t *claims = json_loadb((const char *)pb, pl, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(claims)) {
                json_decref(claims);
                return vt_diag_set(d, VT_E_FORMAT, "%s: claims are not a JSON object", j->who);
        }
        *ret = claims;
        return 0;
}

/* The base64url of the compact JSON of v, in its member order. */
static int b64_json(const json_t *v, char **ret)
{
        _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s)
                return VT_E_NOMEM;
        return vt_b64_encode_public((const uint8_t *)s, strlen(s), VT_B64_URL, ret);
}

int vt_jws_header_b64(const json_t *hdr, char **ret)
{
        if (!hdr)
                return VT_E_INVAL;
        return b64_json(hdr, ret);
}

/* A JWS payload: claims to serialise, or (text non-NULL) the text of a JSON object
 * already serialised, len bytes. h64, when not NULL, is the header's encoding
 * (vt_jws_header_b64), given so that it is not made again for every token. */
struct payload {
        const json_t *claims;
        const char *text;
        size_t len;
        const char *h64;
};

/* signing_input returns "b64(hdr).b64(payload)" in a buffer with room for the signature
 * (*ret_cap bytes in all); *ret_len is the length of the signed part. */
static int signing_input(const json_t *hdr, const struct payload *pl_in, char **ret,
                         size_t *ret_len, size_t *ret_cap)
{
        _cleanup_free_ char *h64_made = NULL, *p64 = NULL;
        const char *h64 = pl_in->h64;
        int e;
        if (!h64) {
                if ((e = b64_json(hdr, &h64_made)) < 0)
                        return e;
                h64 = h64_made;
        }
        if (pl_in->text) /* a JWS payload is public: whoever holds the token reads it */
                e = vt_b64_encode_public((const uint8_t *)pl_in->text, pl_in->len, VT_B64_URL,
                                         &p64);
        else
                e = b64_json(pl_in->claims, &p64);
        if (e < 0)
                return e;
        size_t hl = strlen(h64), pl = strlen(p64);
        /* header.payload.signature: the signature is 86 characters */
        size_t cap = hl + 1 + pl + 1 + 87;
        char *out = malloc(cap);
        if (!out)
                return VT_E_NOMEM;
        memcpy(out, h64, hl);
        out[hl] = '.';
        memcpy(out + hl + 1, p64, pl);
        out[hl + 1 + pl] = 0;
        *ret = out;
        *ret_len = hl + 1 + pl;
        *ret_cap = cap;
        return 0;
}

/* finish appends ".b64url(raw)" to out (signed part of sl bytes, cap bytes in all). */
static int finish(char *out, size_t sl, size_t cap, uint8_t raw[VT_JWS_SIG_LEN])
{
        _cleanup_free_ char *s64 = NULL;
        int e = vt_b64_encode(raw, VT_JWS_SIG_LEN, VT_B64_URL, &s64);
        OPENSSL_cleanse(raw, VT_JWS_SIG_LEN);
        if (e < 0)
                return e;
        snprintf(out + sl, cap - sl, ".%s", s64);
        OPENSSL_cleanse(s64, strlen(s64));
        return 0;
}

int vt_jws_verify_rs256(const struct vt_jws *j, EVP_PKEY *key, struct vt_diag *d)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_free_ uint8_t *sig = NULL;
        size_t sl = 0;

        if (!md)
                return VT_E_NOMEM;
        if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "%s: RS256 needs an RSA key of 2048 bits or more", j->who);
        if (vt_b64_decode(j->sig64, j->sig64_len, VT_B64_URL, 1024, &sig, &sl) < 0 ||
            sl != (size_t)EVP_PKEY_get_size(key))
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "%s: RS256 signature is not base64url of the key's size",
                                   j->who);
        int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
                 EVP_DigestVerify(md, sig, sl, (const uint8_t *)j->signing, j->signing_len) == 1;
        ERR_clear_error();
        return ok ? 0
                  : vt_diag_set(d, VT_E_SIGNATURE, "%s: RS256 signature does not verify", j->who);
}

int vt_jws_sign_rs256(EVP_PKEY *key, const json_t *hdr, const json_t *claims, char **ret)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_free_ char *out = NULL, *s64 = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        size_t sl = 0, cap = 0, n = 0;
        int e;

        if (!md)
                return VT_E_NOMEM;
        if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
                return VT_E_CRYPTO;
        if ((e = signing_input(hdr, &(struct payload){.claims = claims}, &out, &sl, &cap)) < 0)
                return e;
        if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(md, NULL, &n, (const uint8_t *)out, sl) != 1 || !(sig = malloc(n)) ||
            EVP_DigestSign(md, sig, &n, (const uint8_t *)out, sl) != 1) {
                ERR_clear_error();
                return sig ? VT_E_CRYPTO : VT_E_NOMEM;
        }
        if ((e = vt_b64_encode(sig, n, VT_B64_URL, &s64)) < 0)
                return e;
        size_t need = sl + 1 + strlen(s64) + 1;
        if (need > cap) {
                char *grown = realloc(out, need);
                if (!grown)
                        return VT_E_NOMEM;
                out = grown;
        }
        snprintf(out + sl, need - sl, ".%s", s64);
        *ret = TAKE_PTR(out);
        return 0;
}

static int sign_es256_with(vt_jws_es256_fn fn, void *ud, const json_t *hdr, const struct payload *p,
                           char **ret)
{
        _cleanup_free_ char *out = NULL;
        uint8_t md[32], rs[VT_JWS_SIG_LEN], raw[VT_JWS_SIG_LEN];
        unsigned ml = 0;
        size_t sl = 0, cap = 0;
        int e;

        if ((e = signing_input(hdr, p, &out, &sl, &cap)) < 0)
                return e;
        if (EVP_Digest(out, sl, md, &ml, vt_sha256(), NULL) != 1 || ml != sizeof(md)) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        if ((e = fn(md, rs, ud)) < 0)
                return e;
        /* S made low, as verifiers require: a token's signer makes whichever S it makes */
        if ((e = es256_low_s(rs)) < 0)
                return e;
        memcpy(raw, rs, sizeof(raw));
        if ((e = finish(out, sl, cap, raw)) < 0)
                return e;
        *ret = TAKE_PTR(out);
        return 0;
}

int vt_jws_sign_es256_with(vt_jws_es256_fn fn, void *ud, const json_t *hdr, const json_t *claims,
                           char **ret)
{
        return sign_es256_with(fn, ud, hdr, &(struct payload){.claims = claims}, ret);
}

int vt_jws_sign_es256_text_with(vt_jws_es256_fn fn, void *ud, const json_t *hdr,
                                const char *payload, size_t len, char **ret)
{
        if (!payload)
                return VT_E_INVAL;
        return sign_es256_with(fn, ud, hdr, &(struct payload){.text = payload, .len = len}, ret);
}

int vt_jws_sign_es256_h64_with(vt_jws_es256_fn fn, void *ud, const char *h64, const json_t *claims,
                               const char *payload, size_t len, char **ret)
{
        if (!h64 || (!claims && !payload))
                return VT_E_INVAL;
        return sign_es256_with(
                fn, ud, NULL,
                &(struct payload){.claims = claims, .text = payload, .len = len, .h64 = h64}, ret);
}

int vt_jws_sign_failed(struct vt_diag *d)
{
        char reason[256] = "no OpenSSL error queued";
        unsigned long err = ERR_peek_error();
        if (err)
                ERR_error_string_n(err, reason, sizeof(reason));
        ERR_clear_error();
        if (CRYPTO_secure_malloc_initialized())
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "signature failed: %s (OpenSSL secure heap: %zu bytes in use)",
                                   reason, CRYPTO_secure_used());
        return vt_diag_set(d, VT_E_CRYPTO, "signature failed: %s", reason);
}

int vt_jws_sign(EVP_PKEY *key, enum vt_jws_alg alg, const json_t *hdr, const json_t *claims,
                char **ret)
{
        return vt_jws_sign_d(key, alg, hdr, claims, ret, NULL);
}

static int sign_d(EVP_PKEY *key, enum vt_jws_alg alg, const json_t *hdr, const struct payload *p,
                  char **ret, struct vt_diag *d)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_free_ char *out = NULL;
        uint8_t der[80], raw[VT_JWS_SIG_LEN];
        size_t dl = sizeof(der), rl = sizeof(raw), hl_pl = 0, cap = 0;
        int e;

        if (!md)
                return VT_E_NOMEM;
        if ((e = signing_input(hdr, p, &out, &hl_pl, &cap)) < 0)
                return e;
        if (alg == VT_JWS_EDDSA) {
                if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
                    EVP_DigestSign(md, raw, &rl, (const uint8_t *)out, hl_pl) != 1 ||
                    rl != sizeof(raw))
                        return vt_jws_sign_failed(d);
        } else {
                if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
                    EVP_DigestSign(md, der, &dl, (const uint8_t *)out, hl_pl) != 1)
                        return vt_jws_sign_failed(d);
                if ((e = vt_jose_es256_raw(der, dl, raw)) < 0) /* a low S, as verifiers require */
                        return e;
        }
        if ((e = finish(out, hl_pl, cap, raw)) < 0)
                return e;
        *ret = TAKE_PTR(out);
        return 0;
}

int vt_jws_sign_d(EVP_PKEY *key, enum vt_jws_alg alg, const json_t *hdr, const json_t *claims,
                  char **ret, struct vt_diag *d)
{
        return sign_d(key, alg, hdr, &(struct payload){.claims = claims}, ret, d);
}

int vt_jws_sign_text_d(EVP_PKEY *key, enum vt_jws_alg alg, const json_t *hdr, const char *payload,
                       size_t len, char **ret, struct vt_diag *d)
{
        if (!payload)
                return VT_E_INVAL;
        return sign_d(key, alg, hdr, &(struct payload){.text = payload, .len = len}, ret, d);
}
