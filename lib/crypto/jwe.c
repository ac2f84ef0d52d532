/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWE for KBS resource responses (RFC 7516 flattened JSON, RFC 7518 algorithms).
 *
 * Wire compatibility targets Trustee's kbs/src/jwe: the protected header is serde's
 * {"alg","enc","epk":{"crv","kty","x","y"}} and the GCM AAD is the ASCII of the
 * "protected" member exactly as received; the header is emitted in the form the guest
 * re-serialises (vt_jwe_protected_serialize), so both readings give the same AAD. Decryption never
 * hands out plaintext before GCM has checked the tag; every secret (CEK, ECDH Z, KEK) lives in a
 * struct secret that is cleansed on every path out.
 */
#include "crypto/jwe.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "crypto/digest.h"
#include "crypto/jwk.h"
#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"

#define ALG_ECDH "ECDH-ES+A256KW"
#define ALG_OAEP "RSA-OAEP-256"
#define ENC_GCM  "A256GCM"

#define CEK_LEN 32
#define IV_LEN  12
#define TAG_LEN 16
#define KW_LEN  40 /* RFC 3394 wrap of a 32-byte key */

#define MAX_HEADER    8192u /* decoded protected header */
#define MAX_RSA_BYTES 1024u /* 8192-bit modulus, the largest vt_jwk_to_pkey accepts */

/* A fixed-size secret on the stack (CEK, Z, KEK, an RSA-OAEP output). */
struct secret {
        size_t n;
        uint8_t b[MAX_RSA_BYTES];
};

static void secret_wipe(struct secret *s)
{
        OPENSSL_cleanse(s, sizeof(*s));
}

/* The plaintext being decrypted: OPENSSL_malloc'd, as the caller frees it with
 * OPENSSL_clear_free. */
struct plain {
        uint8_t *p;
        size_t n;
};

static void plain_wipe(struct plain *b)
{
        OPENSSL_clear_free(b->p, b->n);
}

/* ecdh puts the shared x-coordinate (RFC 7518 "Z", padded to the field size) in z. */
/* peer_checked checks the peer's public key for ECDH: on one of our curves (P-256, P-384,
 * P-521: cofactor 1), the quick check (not the point at infinity, coordinates in range,
 * on the curve) proves all there is to prove, since every point on the curve is then in
 * the group of prime order. The full check, which EVP_PKEY_derive_set_peer makes by
 * default, adds a multiplication by the group order: a scalar multiplication, as much as
 * the ECDH itself, for nothing. Any other key gets OpenSSL's full check (validate). */
static bool peer_checked(EVP_PKEY *peer, int *validate)
{
        *validate = 1;
        if (!vt_jwk_curve_of(peer))
                return true;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *chk =
                EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
        if (!chk || EVP_PKEY_public_check_quick(chk) != 1)
                return false;
        *validate = 0;
        return true;
}

static int ecdh(EVP_PKEY *priv, EVP_PKEY *peer, struct secret *z)
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
                EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
        size_t n = sizeof(z->b);
        int validate;

        if (!ctx || !peer_checked(peer, &validate) || EVP_PKEY_derive_init(ctx) != 1 ||
            EVP_PKEY_derive_set_peer_ex(ctx, peer, validate) != 1 ||
            EVP_PKEY_derive(ctx, z->b, &n) != 1) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        z->n = n;
        return 0;
}

/* eph_group returns curve c's group for eph_ecdh, made at its first use and then shared by
 * every thread for the life of the process (EC_POINT_mul and the other calls of eph_ecdh
 * take it const: read only), or NULL. */
static const EC_GROUP *eph_group(const struct vt_jwk_curve *c)
{
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        static EC_GROUP *groups[VT_JWK_CURVES];
        size_t i = vt_jwk_curve_index(c);
        if (i >= VT_JWK_CURVES)
                return NULL;
        pthread_mutex_lock(&mu);
        if (!groups[i]) {
                int nid = OBJ_sn2nid(c->ossl);
                groups[i] = nid != NID_undef ? EC_GROUP_new_by_curve_name(nid) : NULL;
                ERR_clear_error();
        }
        const EC_GROUP *g = groups[i];
        pthread_mutex_unlock(&mu);
        return g;
}

/* eph_ecdh makes ECDH-ES's ephemeral key on curve c and its agreement with the recipient's
 * public point (px, py; c->n bytes each): the ephemeral public point's coordinates into ex and ey
 * (c->n bytes each), the shared x-coordinate into z. The private scalar is drawn as OpenSSL's EC
 * key generation draws one (uniform in [1, order - 1], in the secure heap, flagged constant time),
 * both multiplications are EC_POINT_mul's, the very calls OpenSSL's key generation and ECDH make
 * (its constant-time code for a secret scalar), and the scalar is cleared before this returns. What
 * it leaves out is an EVP_PKEY for a key used once: setting its type up, a context to derive with
 * and the coordinates exported again took more than the two multiplications (about 100 us against
 * 70 per JWE, measured cold). The recipient's point gets the quick check (on the curve, not at
 * infinity), which proves all there is on these curves of cofactor 1. */
static int eph_ecdh(const struct vt_jwk_curve *c, const uint8_t *px, const uint8_t *py, uint8_t *ex,
                    uint8_t *ey, struct secret *z)
{
        const EC_GROUP *g = eph_group(c);
        uint8_t enc[1 + 2 * 66];
        size_t n = c->n, elen = 1 + 2 * c->n;
        if (!g || n > 66 || n > sizeof(z->b))
                return VT_E_CRYPTO;
        enc[0] = 0x04;
        memcpy(enc + 1, px, n);
        memcpy(enc + 1 + n, py, n);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        _cleanup_(EC_POINT_freep) EC_POINT *peer = EC_POINT_new(g), *eph = EC_POINT_new(g);
        _cleanup_(EC_POINT_clear_freep) EC_POINT *shared = EC_POINT_new(g);
        _cleanup_(BN_clear_freep) BIGNUM *k = BN_secure_new(), *zx = BN_new();
        const BIGNUM *order = EC_GROUP_get0_order(g);
        bool ok = ctx && peer && eph && shared && k && zx && order &&
                  EC_POINT_oct2point(g, peer, enc, elen, ctx) == 1 &&
                  EC_POINT_is_on_curve(g, peer, ctx) == 1 && EC_POINT_is_at_infinity(g, peer) == 0;
        /* zero comes once in 2^256 draws; a generator that keeps giving it is broken */
        for (int i = 0; ok; i++) {
                ok = i < 8 && BN_priv_rand_range_ex(k, order, 0, ctx) == 1;
                if (ok && !BN_is_zero(k))
                        break;
        }
        if (ok)
                BN_set_flags(k, BN_FLG_CONSTTIME);
        ok = ok && EC_POINT_mul(g, eph, k, NULL, NULL, ctx) == 1 &&
             EC_POINT_point2oct(g, eph, POINT_CONVERSION_UNCOMPRESSED, enc, elen, ctx) == elen &&
             EC_POINT_mul(g, shared, NULL, peer, k, ctx) == 1 &&
             EC_POINT_is_at_infinity(g, shared) == 0 &&
             EC_POINT_get_affine_coordinates(g, shared, zx, NULL, ctx) == 1 &&
             BN_bn2binpad(zx, z->b, (int)n) == (int)n;
        if (!ok) {
                ERR_clear_error();
                OPENSSL_cleanse(z->b, n);
                return VT_E_CRYPTO;
        }
        z->n = n;
        memcpy(ex, enc + 1, n);
        memcpy(ey, enc + 1 + n, n);
        return 0;
}

static void put_be32(uint8_t b[4], uint32_t v)
{
        b[0] = (uint8_t)(v >> 24);
        b[1] = (uint8_t)(v >> 16);
        b[2] = (uint8_t)(v >> 8);
        b[3] = (uint8_t)v;
}

int vt_jwe_concat_kdf(const uint8_t *z, size_t zlen, const char *alg_id, uint8_t ret_kek[32])
{
        /* round 1 of 1 (keydatalen 256 = one SHA-256 output); empty apu and apv are
         * length-prefixed with 0; SuppPubInfo is keydatalen in bits */
        static const uint8_t counter[4] = {0, 0, 0, 1}, empty[4] = {0, 0, 0, 0},
                             keydatalen[4] = {0, 0, 1, 0};
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        _cleanup_(secret_wipe) struct secret k = {0};
        unsigned int outl = 0;
        uint8_t alen[4];
        size_t n;

        if (!z || !alg_id || !ret_kek)
                return VT_E_INVAL;
        n = strlen(alg_id);
        if (n > 255)
                return VT_E_INVAL;
        put_be32(alen, (uint32_t)n);
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return VT_E_NOMEM;
        if (EVP_DigestInit_ex(ctx, vt_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(ctx, counter, sizeof(counter)) != 1 ||
            EVP_DigestUpdate(ctx, z, zlen) != 1 || EVP_DigestUpdate(ctx, alen, sizeof(alen)) != 1 ||
            EVP_DigestUpdate(ctx, alg_id, n) != 1 ||
            EVP_DigestUpdate(ctx, empty, sizeof(empty)) != 1 ||
            EVP_DigestUpdate(ctx, empty, sizeof(empty)) != 1 ||
            EVP_DigestUpdate(ctx, keydatalen, sizeof(keydatalen)) != 1 ||
            EVP_DigestFinal_ex(ctx, k.b, &outl) != 1 || outl != 32) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        memcpy(ret_kek, k.b, 32);
        return 0;
}

/* a256kw runs AES-256 key wrap (enc 1) or unwrap (enc 0) of inl bytes into exactly
 * outl bytes of out. */
static int a256kw(int enc, const uint8_t kek[32], const uint8_t *in, size_t inl, uint8_t *out,
                  size_t outl)
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        _cleanup_(secret_wipe) struct secret buf = {0};
        int l1 = 0, l2 = 0;

        if (!ctx)
                return VT_E_NOMEM;
        EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        if (EVP_CipherInit_ex(ctx, vt_aes_256_wrap(), NULL, kek, NULL, enc) != 1 ||
            EVP_CipherUpdate(ctx, buf.b, &l1, in, (int)inl) != 1 ||
            EVP_CipherFinal_ex(ctx, buf.b + l1, &l2) != 1 || (size_t)l1 + (size_t)l2 != outl) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        memcpy(out, buf.b, outl);
        return 0;
}

int vt_jwe_a256kw_wrap(const uint8_t kek[32], const uint8_t cek[32], uint8_t ret_wrapped[40])
{
        if (!kek || !cek || !ret_wrapped)
                return VT_E_INVAL;
        return a256kw(1, kek, cek, CEK_LEN, ret_wrapped, KW_LEN);
}

int vt_jwe_a256kw_unwrap(const uint8_t kek[32], const uint8_t wrapped[40], uint8_t ret_cek[32])
{
        if (!kek || !wrapped || !ret_cek)
                return VT_E_INVAL;
        return a256kw(0, kek, wrapped, KW_LEN, ret_cek, CEK_LEN);
}

/* rsa_oaep256 encrypts (enc 1) or decrypts with RSAES-OAEP, SHA-256 and MGF1-SHA-256
 * (RFC 7518 section 4.3); *outl is the size of out on entry. */
static int rsa_oaep256(EVP_PKEY *key, int enc, const uint8_t *in, size_t inl, uint8_t *out,
                       size_t *outl)
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
                EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        int ok;

        if (!ctx)
                return VT_E_NOMEM;
        ok = (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
             (enc ? EVP_PKEY_encrypt(ctx, out, outl, in, inl)
                  : EVP_PKEY_decrypt(ctx, out, outl, in, inl)) == 1;
        ERR_clear_error();
        return ok ? 0 : VT_E_CRYPTO;
}

/* gcm runs A256GCM over n bytes (n <= VT_JWE_MAX_PLAINTEXT, so int lengths hold):
 * enc 1 seals in into out and writes tag; enc 0 opens in into out and checks tag,
 * returning VT_E_CRYPTO (out then holds unauthenticated bytes the caller must wipe). */
static int gcm(int enc, const uint8_t cek[32], const uint8_t iv[12], const char *aad, size_t aadl,
               const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16])
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int l = 0;

        if (!ctx)
                return VT_E_NOMEM;
        if (EVP_CipherInit_ex(ctx, vt_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
            EVP_CipherInit_ex(ctx, NULL, NULL, cek, iv, enc) != 1 ||
            EVP_CipherUpdate(ctx, NULL, &l, (const uint8_t *)aad, (int)aadl) != 1 ||
            (n > 0 && (EVP_CipherUpdate(ctx, out, &l, in, (int)n) != 1 || (size_t)l != n)) ||
            (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1) ||
            EVP_CipherFinal_ex(ctx, out + n, &l) != 1 || l != 0 ||
            (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        return 0;
}

/* recipient_key validates the recipient JWK, refusing RSA1_5 before anything else. */
static int recipient_key(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d)
{
        const char *alg = json_string_value(json_object_get(jwk, "alg"));

        if (alg && strcmp(alg, "RSA1_5") == 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwe: recipient alg RSA1_5 is refused (PKCS#1 v1.5 padding "
                                   "oracle); use RSA-OAEP-256 or ECDH-ES+A256KW");
        return vt_jwk_to_pkey(jwk, ret, d);
}

int vt_jwe_protected_serialize(const json_t *hdr, char **ret)
{
        const char *alg = json_string_value(json_object_get(hdr, "alg"));
        const char *enc = json_string_value(json_object_get(hdr, "enc"));
        if (!json_is_object(hdr) || !alg || !enc)
                return VT_E_INVAL;
        /* the members after alg and enc, sorted by jansson, nested objects too */
        _cleanup_json_ json_t *rest = json_deep_copy(hdr), *head = NULL;
        if (!rest)
                return VT_E_NOMEM;
        json_object_del(rest, "alg");
        json_object_del(rest, "enc");
        head = json_pack("{s:s, s:s}", "alg", alg, "enc", enc);
        const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
        _cleanup_free_ char *h = head ? json_dumps(head, flags) : NULL;
        _cleanup_free_ char *r = json_dumps(rest, JSON_COMPACT | JSON_SORT_KEYS);
        if (!h || !r)
                return VT_E_NOMEM;
        size_t hl = strlen(h), rl = strlen(r);
        char *out = malloc(hl + rl + 1);
        if (!out)
                return VT_E_NOMEM;
        /* {"alg":..,"enc":..} + {..rest..} -> {"alg":..,"enc":..,..rest..} */
        memcpy(out, h, hl - 1);
        if (rl > 2) {
                out[hl - 1] = ',';
                memcpy(out + hl, r + 1, rl - 1);
                out[hl + rl - 1] = 0;
        } else {
                out[hl - 1] = '}';
                out[hl] = 0;
        }
        *ret = out;
        return 0;
}

static int seal(const char *hdr_json, const uint8_t *ek, size_t ek_len, const uint8_t cek[32],
                const uint8_t iv[12], const uint8_t *pt, size_t len, json_t **ret,
                struct vt_diag *d);

/* encrypt_to encrypts to pub, with the ephemeral key eph for an EC pub (a caller's: tests
 * and vectors; encrypt_fresh makes new ones). */
static int encrypt_to(EVP_PKEY *pub, EVP_PKEY *eph, const uint8_t cek[32], const uint8_t iv[12],
                      const uint8_t *pt, size_t len, json_t **ret, struct vt_diag *d)
{
        _cleanup_json_ json_t *hdr = json_object();
        _cleanup_free_ char *hdr_json = NULL;
        _cleanup_(secret_wipe) struct secret z = {0}, kek = {0};
        uint8_t ek[MAX_RSA_BYTES];
        size_t ek_len;
        int e;

        if (!hdr)
                return VT_E_NOMEM;
        if (EVP_PKEY_is_a(pub, "EC")) {
                const struct vt_jwk_curve *c = vt_jwk_curve_of(pub);
                _cleanup_json_ json_t *epk = NULL;

                if (!c)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "jwe: recipient EC curve not supported (P-256, P-521)");
                if (vt_jwk_curve_of(eph) != c) {
                        return vt_diag_set(d, VT_E_INVAL,
                                           "jwe: the ephemeral key is not on the recipient's "
                                           "curve %s",
                                           c->crv);
                } else if (ecdh(eph, pub, &z) < 0) {
                        return vt_diag_set(d, VT_E_CRYPTO,
                                           "jwe: ECDH with the recipient's %s key failed", c->crv);
                } else {
                        e = vt_jwk_from_pkey(eph, VT_JWK_EPK, NULL, &epk);
                }
                if (e < 0)
                        return vt_diag_set(d, e, "jwe: encoding epk failed");
                if ((e = vt_jwe_concat_kdf(z.b, z.n, ALG_ECDH, kek.b)) < 0 ||
                    (e = vt_jwe_a256kw_wrap(kek.b, cek, ek)) < 0)
                        return vt_diag_set(d, e, "jwe: deriving or wrapping the CEK failed");
                ek_len = KW_LEN;
                if ((e = vt_json_set(hdr, "alg", json_string(ALG_ECDH))) < 0 ||
                    (e = vt_json_set(hdr, "enc", json_string(ENC_GCM))) < 0)
                        return e;
                e = vt_json_set(hdr, "epk", epk); /* takes epk even on failure */
                epk = NULL;
                if (e < 0)
                        return e;
        } else if (EVP_PKEY_is_a(pub, "RSA")) {
                ek_len = sizeof(ek);
                if (rsa_oaep256(pub, 1, cek, CEK_LEN, ek, &ek_len) < 0)
                        return vt_diag_set(d, VT_E_CRYPTO,
                                           "jwe: RSA-OAEP-256 encryption of the CEK failed");
                if ((e = vt_json_set(hdr, "alg", json_string(ALG_OAEP))) < 0 ||
                    (e = vt_json_set(hdr, "enc", json_string(ENC_GCM))) < 0)
                        return e;
        } else {
                return vt_diag_set(d, VT_E_UNSUPPORTED, "jwe: recipient key type not supported");
        }

        if ((e = vt_jwe_protected_serialize(hdr, &hdr_json)) < 0)
                return e;
        return seal(hdr_json, ek, ek_len, cek, iv, pt, len, ret, d);
}

/* encrypt_fresh is encrypt_to for an EC recipient (px, py on c) and a new ephemeral key,
 * whose protected header it writes itself: {"alg","enc","epk":{"crv","kty","x","y"}},
 * byte for byte what vt_jwe_protected_serialize writes for it. */
static int encrypt_fresh(const struct vt_jwk_curve *c, const uint8_t *px, const uint8_t *py,
                         const uint8_t cek[32], const uint8_t iv[12], const uint8_t *pt, size_t len,
                         json_t **ret, struct vt_diag *d)
{
        _cleanup_(secret_wipe) struct secret z = {0}, kek = {0};
        _cleanup_free_ char *x = NULL, *y = NULL;
        uint8_t ex[66], ey[66], ek[KW_LEN];
        char hdr[384];
        int e;

        if (eph_ecdh(c, px, py, ex, ey, &z) < 0)
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "jwe: a %s ephemeral key and its ECDH with the recipient's "
                                   "key failed",
                                   c->crv);
        if ((e = vt_jwe_concat_kdf(z.b, z.n, ALG_ECDH, kek.b)) < 0 ||
            (e = vt_jwe_a256kw_wrap(kek.b, cek, ek)) < 0)
                return vt_diag_set(d, e, "jwe: deriving or wrapping the CEK failed");
        if ((e = vt_b64_encode_public(ex, c->n, VT_B64_URL, &x)) < 0 ||
            (e = vt_b64_encode_public(ey, c->n, VT_B64_URL, &y)) < 0)
                return e;
        int n = snprintf(hdr, sizeof(hdr),
                         "{\"alg\":\"" ALG_ECDH "\",\"enc\":\"" ENC_GCM
                         "\",\"epk\":{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}}",
                         c->crv, x, y);
        if (n < 0 || (size_t)n >= sizeof(hdr))
                return VT_E_INVAL;
        return seal(hdr, ek, KW_LEN, cek, iv, pt, len, ret, d);
}

/* seal finishes a JWE: the protected header (hdr_json) base64url, the plaintext under
 * A256GCM with it as the additional data, and the flattened serialisation. */
static int seal(const char *hdr_json, const uint8_t *ek, size_t ek_len, const uint8_t cek[32],
                const uint8_t iv[12], const uint8_t *pt, size_t len, json_t **ret,
                struct vt_diag *d)
{
        _cleanup_json_ json_t *out = NULL;
        _cleanup_free_ char *prot = NULL;
        _cleanup_free_ uint8_t *ct = NULL;
        uint8_t tag[TAG_LEN];
        int e;

        if ((e = vt_b64_encode_public((const uint8_t *)hdr_json, strlen(hdr_json), VT_B64_URL,
                                      &prot)) < 0)
                return e;
        ct = malloc(len > 0 ? len : 1);
        if (!ct)
                return VT_E_NOMEM;
        if ((e = gcm(1, cek, iv, prot, strlen(prot), pt, len, ct, tag)) < 0)
                return vt_diag_set(d, e, "jwe: A256GCM encryption failed");

        out = json_object();
        if (!out)
                return VT_E_NOMEM;
        if ((e = vt_json_set(out, "protected", json_string(prot))) < 0 ||
            (e = vt_json_set_b64(out, "encrypted_key", ek, ek_len)) < 0 ||
            (e = vt_json_set_b64(out, "iv", iv, IV_LEN)) < 0 ||
            (e = vt_json_set_b64(out, "ciphertext", ct, len)) < 0 ||
            (e = vt_json_set_b64(out, "tag", tag, TAG_LEN)) < 0)
                return e;
        *ret = TAKE_PTR(out);
        return 0;
}

int vt_jwe_encrypt_with(const json_t *recipient_jwk, EVP_PKEY *ephemeral, const uint8_t cek[32],
                        const uint8_t iv[12], const uint8_t *plaintext, size_t len, json_t **ret,
                        struct vt_diag *d)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL;
        int e;

        if (!recipient_jwk || !cek || !iv || (!plaintext && len > 0) || !ret)
                return VT_E_INVAL;
        if (len > VT_JWE_MAX_PLAINTEXT)
                return vt_diag_set(d, VT_E_LIMIT, "jwe: plaintext of %zu bytes exceeds %u", len,
                                   VT_JWE_MAX_PLAINTEXT);
        if ((e = recipient_key(recipient_jwk, &pub, d)) < 0)
                return e;
        const char *kty = json_string_value(json_object_get(recipient_jwk, "kty"));
        if (!ephemeral && kty && strcmp(kty, "EC") == 0) {
                /* the curve and the point from the JWK that recipient_key has just checked
                 * (no asking the key for what the JWK says) */
                const struct vt_jwk_curve *c = vt_jwk_curve_named(
                        json_string_value(json_object_get(recipient_jwk, "crv")));
                const json_t *xj = json_object_get(recipient_jwk, "x"),
                             *yj = json_object_get(recipient_jwk, "y");
                _cleanup_free_ uint8_t *x = NULL, *y = NULL;
                size_t xl = 0, yl = 0;
                if (!c || !json_is_string(xj) || !json_is_string(yj) ||
                    vt_b64_decode(json_string_value(xj), json_string_length(xj), VT_B64_URL, c->n,
                                  &x, &xl) < 0 ||
                    vt_b64_decode(json_string_value(yj), json_string_length(yj), VT_B64_URL, c->n,
                                  &y, &yl) < 0 ||
                    xl != c->n || yl != c->n)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "jwe: the recipient JWK's crv, x or y did not read "
                                           "back after its check");
                return encrypt_fresh(c, x, y, cek, iv, plaintext, len, ret, d);
        }
        return encrypt_to(pub, ephemeral, cek, iv, plaintext, len, ret, d);
}

int vt_jwe_encrypt(const json_t *recipient_jwk, const uint8_t *plaintext, size_t len, json_t **ret,
                   struct vt_diag *d)
{
        _cleanup_(secret_wipe) struct secret cek = {0};
        uint8_t iv[IV_LEN];

        /* a fresh CEK and IV for every message; the rest is vt_jwe_encrypt_with */
        if (RAND_priv_bytes(cek.b, CEK_LEN) != 1 || RAND_bytes(iv, IV_LEN) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO, "jwe: the random generator failed");
        }
        return vt_jwe_encrypt_with(recipient_jwk, NULL, cek.b, iv, plaintext, len, ret, d);
}

/* b64_member decodes the string member k of obj (named where for messages) into
 * exactly want bytes (0: any length up to max). */
static int b64_member(const json_t *obj, const char *where, const char *k, size_t max, size_t want,
                      uint8_t **ret, size_t *ret_len, struct vt_diag *d)
{
        const json_t *v = json_object_get(obj, k);
        const char *s = json_string_value(v);
        uint8_t *p = NULL;
        size_t n = 0;
        int e;

        if (!s)
                return vt_diag_set(d, VT_E_FORMAT, "%s: member \"%s\" missing or not a string",
                                   where, k);
        e = vt_b64_decode(s, json_string_length(v), VT_B64_URL, max, &p, &n);
        if (e == VT_E_NOMEM)
                return e;
        if (e == VT_E_LIMIT)
                return vt_diag_set(d, VT_E_FORMAT, "%s: member \"%s\" is longer than %zu bytes",
                                   where, k, max);
        if (e < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: member \"%s\" is not base64url without padding", where, k);
        if (want && n != want) {
                OPENSSL_cleanse(p, n);
                free(p);
                return vt_diag_set(d, VT_E_FORMAT, "%s: member \"%s\" is %zu bytes, expected %zu",
                                   where, k, n, want);
        }
        *ret = p;
        *ret_len = n;
        return 0;
}

/* hdr_get looks a header parameter up in the (disjoint) header objects. */
static const json_t *hdr_get(const json_t *const hdrs[3], const char *k)
{
        for (size_t i = 0; i < 3; i++) {
                const json_t *v = hdrs[i] ? json_object_get(hdrs[i], k) : NULL;
                if (v)
                        return v;
        }
        return NULL;
}

static const char *const hdr_names[3] = {"protected", "header", "unprotected"};

/* joint_header parses the protected header into *ret_prot and checks the three header
 * objects (RFC 7516 section 7.2.1: protected, shared unprotected, per-recipient
 * unprotected) for shape and disjointness. */
static int joint_header(const json_t *jwe, json_t **ret_prot, const json_t *hdrs[3],
                        struct vt_diag *d)
{
        _cleanup_free_ uint8_t *raw = NULL;
        _cleanup_json_ json_t *prot = NULL;
        json_error_t jerr;
        size_t n;
        int e;

        if ((e = b64_member(jwe, "jwe", "protected", MAX_HEADER, 0, &raw, &n, d)) < 0)
                return e;
        prot = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
        if (!prot)
                return vt_diag_set(d, VT_E_FORMAT, "jwe: protected header is not JSON: %s",
                                   jerr.text);
        if (!json_is_object(prot))
                return vt_diag_set(d, VT_E_FORMAT, "jwe: protected header is not a JSON object");
        hdrs[0] = prot;
        hdrs[1] = json_object_get(jwe, "header");
        hdrs[2] = json_object_get(jwe, "unprotected");
        for (size_t i = 1; i < 3; i++)
                if (hdrs[i] && !json_is_object(hdrs[i]))
                        return vt_diag_set(d, VT_E_FORMAT, "jwe: member \"%s\" is not an object",
                                           hdr_names[i]);
        for (size_t i = 0; i < 3; i++) {
                const char *k;
                json_t *v;

                if (!hdrs[i])
                        continue;
                json_object_foreach ((json_t *)hdrs[i], k, v)
                        for (size_t j = i + 1; j < 3; j++)
                                if (hdrs[j] && json_object_get(hdrs[j], k))
                                        return vt_diag_set(d, VT_E_FORMAT,
                                                           "jwe: header parameter \"%s\" is in "
                                                           "both \"%s\" and \"%s\"",
                                                           k, hdr_names[i], hdr_names[j]);
        }
        *ret_prot = TAKE_PTR(prot);
        return 0;
}

/* unwrap_ecdh recovers the CEK of an ECDH-ES+A256KW recipient. */
static int unwrap_ecdh(EVP_PKEY *key, const struct vt_jwk_curve *c, const json_t *epk,
                       const uint8_t *ek, struct secret *cek, struct vt_diag *d)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *peer = NULL;
        _cleanup_(secret_wipe) struct secret z = {0}, kek = {0};
        struct vt_diag sub = {0};
        const char *kty, *crv;
        int e;

        if (!json_is_object(epk))
                return vt_diag_set(d, VT_E_FORMAT, "jwe: header \"epk\" missing or not an object");
        kty = json_string_value(json_object_get(epk, "kty"));
        if (!kty || strcmp(kty, "EC") != 0)
                return vt_diag_set(d, VT_E_FORMAT, "jwe: epk kty must be EC");
        crv = json_string_value(json_object_get(epk, "crv"));
        if (crv && strcmp(crv, c->crv) != 0)
                return vt_diag_set(d, VT_E_CRYPTO, "jwe: epk curve %s is not the key's curve %s",
                                   crv, c->crv);
        /* the checks of a tee-pubkey: kty EC, the curve, coordinate sizes, the point on
         * the curve, no private members */
        if ((e = vt_jwk_to_pkey(epk, &peer, &sub)) < 0)
                return vt_diag_set(d, e, "jwe: epk: %s", sub.msg);
        if (ecdh(key, peer, &z) < 0)
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "jwe: ECDH of the key with epk failed (not a private key?)");
        if ((e = vt_jwe_concat_kdf(z.b, z.n, ALG_ECDH, kek.b)) < 0)
                return vt_diag_set(d, e, "jwe: Concat KDF failed");
        if (vt_jwe_a256kw_unwrap(kek.b, ek, cek->b) < 0)
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "jwe: A256KW unwrap of encrypted_key failed (wrong key, or "
                                   "epk or encrypted_key altered)");
        cek->n = CEK_LEN;
        return 0;
}

int vt_jwe_decrypt(EVP_PKEY *key, const json_t *jwe, uint8_t **ret, size_t *ret_len,
                   struct vt_diag *d)
{
        static const char *const members[] = {"protected", "encrypted_key", "iv", "ciphertext",
                                              "tag"};
        _cleanup_json_ json_t *prot = NULL;
        _cleanup_free_ uint8_t *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL;
        _cleanup_(secret_wipe) struct secret cek = {0};
        _cleanup_(plain_wipe) struct plain pt = {0};
        const json_t *hdrs[3] = {NULL, NULL, NULL};
        const char *alg, *enc, *want, *protected_s;
        const struct vt_jwk_curve *c = NULL;
        size_t ek_len, iv_len, ct_len, tag_len, ek_want;
        bool is_ec;
        int e;

        if (!key || !jwe || !ret || !ret_len)
                return VT_E_INVAL;
        if (!json_is_object(jwe))
                return vt_diag_set(d, VT_E_FORMAT, "jwe: not a JSON object");
        if (json_object_get(jwe, "recipients"))
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwe: general serialisation (\"recipients\") is not "
                                   "supported, only flattened");
        if (json_object_get(jwe, "aad"))
                return vt_diag_set(d, VT_E_UNSUPPORTED, "jwe: member \"aad\" is not supported");
        for (size_t i = 0; i < ELEMENTSOF(members); i++)
                if (!json_is_string(json_object_get(jwe, members[i])))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "jwe: member \"%s\" missing or not a string",
                                           members[i]);

        is_ec = EVP_PKEY_is_a(key, "EC");
        if (is_ec) {
                c = vt_jwk_curve_of(key);
                if (!c)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "jwe: the key's EC curve is not P-256 or P-521");
        } else if (!EVP_PKEY_is_a(key, "RSA")) {
                return vt_diag_set(d, VT_E_UNSUPPORTED, "jwe: key type %s not supported (EC, RSA)",
                                   EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key)
                                                                : "(unknown)");
        }

        if ((e = joint_header(jwe, &prot, hdrs, d)) < 0)
                return e;
        if (hdr_get(hdrs, "zip"))
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwe: header \"zip\" (compression) is refused");
        if (hdr_get(hdrs, "crit"))
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwe: header \"crit\" names extensions this decoder does "
                                   "not implement");
        enc = json_string_value(hdr_get(hdrs, "enc"));
        if (!enc)
                return vt_diag_set(d, VT_E_FORMAT, "jwe: header \"enc\" missing or not a string");
        if (strcmp(enc, ENC_GCM) != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "jwe: enc %s not supported (A256GCM)", enc);
        alg = json_string_value(hdr_get(hdrs, "alg"));
        if (!alg)
                return vt_diag_set(d, VT_E_FORMAT, "jwe: header \"alg\" missing or not a string");
        if (strcmp(alg, "RSA1_5") == 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwe: alg RSA1_5 is refused (PKCS#1 v1.5 padding oracle)");
        if (strcmp(alg, ALG_ECDH) != 0 && strcmp(alg, ALG_OAEP) != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwe: alg %s not supported (ECDH-ES+A256KW, RSA-OAEP-256)", alg);
        want = is_ec ? ALG_ECDH : ALG_OAEP;
        if (strcmp(alg, want) != 0)
                return vt_diag_set(d, VT_E_CRYPTO, "jwe: alg %s does not fit the %s key (%s)", alg,
                                   is_ec ? "EC" : "RSA", want);

        ek_want = is_ec ? KW_LEN : (size_t)EVP_PKEY_get_size(key);
        if ((e = b64_member(jwe, "jwe", "encrypted_key", MAX_RSA_BYTES, ek_want, &ek, &ek_len, d)) <
                    0 ||
            (e = b64_member(jwe, "jwe", "iv", 64, IV_LEN, &iv, &iv_len, d)) < 0 ||
            (e = b64_member(jwe, "jwe", "tag", 64, TAG_LEN, &tag, &tag_len, d)) < 0 ||
            (e = b64_member(jwe, "jwe", "ciphertext", VT_JWE_MAX_PLAINTEXT, 0, &ct, &ct_len, d)) <
                    0)
                return e;

        if (is_ec) {
                if ((e = unwrap_ecdh(key, c, hdr_get(hdrs, "epk"), ek, &cek, d)) < 0)
                        return e;
        } else {
                cek.n = sizeof(cek.b);
                if (rsa_oaep256(key, 0, ek, ek_len, cek.b, &cek.n) < 0 || cek.n != CEK_LEN)
                        return vt_diag_set(d, VT_E_CRYPTO,
                                           "jwe: RSA-OAEP-256 decryption of encrypted_key failed "
                                           "(wrong key, not a private key, or altered)");
        }

        pt.p = OPENSSL_malloc(ct_len > 0 ? ct_len : 1);
        if (!pt.p)
                return VT_E_NOMEM;
        pt.n = ct_len;
        protected_s = json_string_value(json_object_get(jwe, "protected"));
        if (gcm(0, cek.b, iv, protected_s, strlen(protected_s), ct, ct_len, pt.p, tag) < 0)
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "jwe: A256GCM authentication failed (wrong key, or "
                                   "protected, iv, ciphertext or tag altered)");
        *ret_len = pt.n;
        *ret = TAKE_PTR(pt.p);
        return 0;
}
