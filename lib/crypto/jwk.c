/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/jwk.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "crypto/openssl-util.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"

#define ALG_ECDH  "ECDH-ES+A256KW"
#define ALG_OAEP  "RSA-OAEP-256"
#define ALG_RSA15 "RSA1_5"
#define ALG_ES256 "ES256"

static const struct vt_jwk_curve curves[] = {
        {"P-256", "prime256v1", 32},
        {"P-521", "secp521r1", 66},
};

static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "k"};

const struct vt_jwk_curve *vt_jwk_curve_named(const char *crv)
{
        for (size_t i = 0; crv && i < ELEMENTSOF(curves); i++)
                if (strcmp(crv, curves[i].crv) == 0)
                        return &curves[i];
        return NULL;
}

size_t vt_jwk_curve_index(const struct vt_jwk_curve *c)
{
        static_assert(ELEMENTSOF(curves) == VT_JWK_CURVES, "VT_JWK_CURVES");
        for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                if (c == &curves[i])
                        return i;
        return SIZE_MAX;
}

const struct vt_jwk_curve *vt_jwk_curve_of(EVP_PKEY *key)
{
        char name[64];

        if (!key || !EVP_PKEY_is_a(key, "EC") ||
            EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                           NULL) != 1) {
                ERR_clear_error();
                return NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(curves); i++)
                if (strcmp(name, curves[i].ossl) == 0 || strcmp(name, curves[i].crv) == 0)
                        return &curves[i];
        return NULL;
}

/* Builds a public key of type from the parameters of bld. */
static int from_params(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **ret)
{
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
                EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;

        if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
                ERR_clear_error();
                return VT_E_FORMAT;
        }
        if (ret)
                *ret = TAKE_PTR(key);
        return 0;
}

/* The public keys built from (x, y) most recently, so that a key met again (the token
 * signing key in every Bearer check, a tee-pubkey at attest and again at release) is not
 * decoded and checked again. Keyed by the exact encoded point (curve size, 04 || x || y),
 * compared in full: a point that differs in one bit is a miss and goes through every
 * check. Only keys that passed the checks enter. Direct-mapped; EVP_PKEY is reference
 * counted and safe to share between threads for verification and derivation. 256 slots
 * (about 1 KiB per key held): a tee-pubkey must survive, between its attest and its
 * release, the keys of every other flow in flight; with 32, at 64 clients almost none
 * did, and each flow built and checked its key twice. */
#define EC_CACHE_SLOTS 256
static struct ec_cache_slot {
        size_t len;
        uint8_t pub[1 + 2 * 66];
        EVP_PKEY *key;
} ec_cache[EC_CACHE_SLOTS];
static pthread_mutex_t ec_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong ec_cache_hits;

static size_t ec_cache_slot_of(const uint8_t *pub, size_t len)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a: only spreads the slots */
        for (size_t i = 0; i < len; i++)
                h = (h ^ pub[i]) * 1099511628211ULL;
        return (size_t)(h % EC_CACHE_SLOTS);
}

static EVP_PKEY *ec_cache_get(const uint8_t *pub, size_t len)
{
        EVP_PKEY *k = NULL;
        struct ec_cache_slot *sl = &ec_cache[ec_cache_slot_of(pub, len)];
        pthread_mutex_lock(&ec_cache_lock);
        if (sl->key && sl->len == len && memcmp(sl->pub, pub, len) == 0 &&
            EVP_PKEY_up_ref(sl->key) == 1)
                k = sl->key;
        pthread_mutex_unlock(&ec_cache_lock);
        if (k)
                atomic_fetch_add(&ec_cache_hits, 1);
        return k;
}

static void ec_cache_put(const uint8_t *pub, size_t len, EVP_PKEY *key)
{
        struct ec_cache_slot *sl = &ec_cache[ec_cache_slot_of(pub, len)];
        EVP_PKEY *old = NULL;
        if (EVP_PKEY_up_ref(key) != 1)
                return;
        pthread_mutex_lock(&ec_cache_lock);
        old = sl->key;
        sl->key = key;
        sl->len = len;
        memcpy(sl->pub, pub, len);
        pthread_mutex_unlock(&ec_cache_lock);
        EVP_PKEY_free(old);
}

/* Per curve of the table, a checked key that new public keys are copied from
 * (EVP_PKEY_dup, then the point replaced): building a key from parameters builds the
 * curve's group from its name every time, most of what a new key costs (about 40 us
 * against 11). The point's checks are the same either way: the point is decoded and put
 * on the curve by the key manager, then checked here. Kept for the life of the process. */
static EVP_PKEY *curve_model[ELEMENTSOF(curves)];
static pthread_mutex_t curve_model_lock = PTHREAD_MUTEX_INITIALIZER;

/* model_copy copies the model of curve c with the public point pub into *ret: 0, or 1 when
 * there is no model yet (the caller builds from parameters), or VT_E_FORMAT, VT_E_NOMEM. */
static int model_copy(const struct vt_jwk_curve *c, const uint8_t *pub, size_t len, EVP_PKEY **ret)
{
        size_t i = vt_jwk_curve_index(c);
        if (i == SIZE_MAX)
                return 1;
        pthread_mutex_lock(&curve_model_lock);
        EVP_PKEY *m = curve_model[i];
        pthread_mutex_unlock(&curve_model_lock);
        if (!m)
                return 1;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = EVP_PKEY_dup(m);
        if (!key) {
                ERR_clear_error();
                return VT_E_NOMEM;
        }
        if (EVP_PKEY_set1_encoded_public_key(key, pub, len) != 1) {
                ERR_clear_error();
                return VT_E_FORMAT;
        }
        *ret = TAKE_PTR(key);
        return 0;
}

static void model_keep(const struct vt_jwk_curve *c, EVP_PKEY *key)
{
        size_t i = vt_jwk_curve_index(c);
        if (i == SIZE_MAX)
                return;
        pthread_mutex_lock(&curve_model_lock);
        if (!curve_model[i] && EVP_PKEY_up_ref(key) == 1)
                curve_model[i] = key;
        pthread_mutex_unlock(&curve_model_lock);
}

unsigned long vt_ec_public_cache_hits(void)
{
        return atomic_load(&ec_cache_hits);
}

int vt_ec_public_from_xy(const struct vt_jwk_curve *c, const uint8_t *x, const uint8_t *y,
                         EVP_PKEY **ret)
{
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *chk = NULL;
        uint8_t pub[1 + 2 * 66];
        int e;

        if (!c || c->n > 66)
                return VT_E_INVAL;
        pub[0] = 0x04;
        memcpy(pub + 1, x, c->n);
        memcpy(pub + 1 + c->n, y, c->n);
        size_t len = 1 + 2 * c->n;
        if ((key = ec_cache_get(pub, len))) {
                if (ret)
                        *ret = TAKE_PTR(key);
                return 0;
        }
        if ((e = model_copy(c, pub, len, &key)) < 0)
                return e;
        bool first = e == 1;
        if (first) {
                bld = OSSL_PARAM_BLD_new();
                if (!bld ||
                    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->crv, 0) ||
                    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len))
                        return VT_E_NOMEM;
                if ((e = from_params("EC", bld, &key)) < 0)
                        return e;
        }
        /* whatever the decoder of this OpenSSL checks, the point is checked here: not the
         * point at infinity, coordinates in range, on the curve. The quick check leaves out
         * only the multiplication by the group order, which proves nothing more on these
         * curves: the curves of this table have cofactor 1, so every point on them is in
         * the group of prime order (and that multiplication cost a scalar multiplication,
         * as much as an ECDH, for every key). */
        chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!chk || EVP_PKEY_public_check_quick(chk) != 1) {
                ERR_clear_error();
                return VT_E_FORMAT;
        }
        if (first)
                model_keep(c, key);
        ec_cache_put(pub, len, key);
        if (ret)
                *ret = TAKE_PTR(key);
        return 0;
}

int vt_ec_public_xy(EVP_PKEY *key, const struct vt_jwk_curve *c, uint8_t *x, uint8_t *y)
{
        _cleanup_(BN_freep) BIGNUM *bx = NULL, *by = NULL;
        uint8_t pt[1 + 2 * 66];
        size_t n = 0;

        if (!key || !c || c->n > 66)
                return VT_E_CRYPTO;
        /* the point encoded uncompressed (04 || x || y): one conversion of the point to
         * affine coordinates, where asking for x and then for y made one each */
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
                                            &n) == 1 &&
            n == 1 + 2 * c->n && pt[0] == 0x04) {
                memcpy(x, pt + 1, c->n);
                memcpy(y, pt + 1 + c->n, c->n);
                return 0;
        }
        ERR_clear_error();
        /* another form (a key set to compressed points): the coordinates one by one */
        if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
            BN_bn2binpad(bx, x, (int)c->n) != (int)c->n ||
            BN_bn2binpad(by, y, (int)c->n) != (int)c->n) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        return 0;
}

int vt_rsa_public_from_ne(const uint8_t *n, size_t nl, const uint8_t *e, size_t el, EVP_PKEY **ret)
{
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(BN_freep) BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL);
        _cleanup_(BN_freep) BIGNUM *be = BN_bin2bn(e, (int)el, NULL);

        if (!bld || !bn || !be)
                return VT_E_NOMEM;
        /* the builder keeps pointers to the BIGNUMs until it is turned into params. The
         * public check of OpenSSL 3.0 runs a randomised primality test on n, which can
         * accept or refuse the same key from one call to the next (found by fuzz_jwk):
         * callers do their deterministic checks (size, odd n and e) themselves. */
        if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
                return VT_E_NOMEM;
        return from_params("RSA", bld, ret);
}

/* b64_member decodes the base64url string member k of the JWK: at most max bytes, and
 * exactly want when want is not 0 (a private scalar: cleansed when refused). */
static int b64_member(const json_t *jwk, const char *k, size_t max, size_t want, uint8_t **ret,
                      size_t *len, struct vt_diag *d)
{
        const char *s = json_string_value(json_object_get(jwk, k));
        uint8_t *p = NULL;
        size_t n = 0;
        int e;

        if (!s)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: member \"%s\" missing or not a string", k);
        e = vt_b64_decode(s, json_string_length(json_object_get(jwk, k)), VT_B64_URL, max, &p, &n);
        if (e == VT_E_NOMEM)
                return e;
        if (e < 0 && !want)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "jwk: member \"%s\" is not base64url of at most %zu bytes", k,
                                   max);
        if (e == VT_E_LIMIT)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: member \"%s\" is longer than %zu bytes", k,
                                   max);
        if (e < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "jwk: member \"%s\" is not base64url without padding", k);
        if (want && n != want) {
                OPENSSL_cleanse(p, n);
                free(p);
                return vt_diag_set(d, VT_E_FORMAT, "jwk: member \"%s\" is %zu bytes, expected %zu",
                                   k, n, want);
        }
        *ret = p;
        *len = n;
        return 0;
}

/* The EC part of a public JWK of curve c: x and y of c's size, the point on the curve. */
static int ec_point(const json_t *jwk, const struct vt_jwk_curve *c, EVP_PKEY **ret,
                    struct vt_diag *d)
{
        _cleanup_free_ uint8_t *x = NULL, *y = NULL;
        size_t xl, yl;
        int e;

        if ((e = b64_member(jwk, "x", c->n, 0, &x, &xl, d)) < 0 ||
            (e = b64_member(jwk, "y", c->n, 0, &y, &yl, d)) < 0)
                return e;
        if (xl != c->n || yl != c->n)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: %s coordinates must be %zu bytes", c->crv,
                                   c->n);
        e = vt_ec_public_from_xy(c, x, y, ret);
        if (e == VT_E_FORMAT)
                return vt_diag_set(d, e, "jwk: the %s point is not on the curve", c->crv);
        return e;
}

/* A public JWK: an object without private members. */
static int public_object(const json_t *jwk, struct vt_diag *d)
{
        if (!json_is_object(jwk))
                return vt_diag_set(d, VT_E_FORMAT, "jwk: not a JSON object");
        for (size_t i = 0; i < ELEMENTSOF(private_members); i++)
                if (json_object_get(jwk, private_members[i]))
                        return vt_diag_set(d, VT_E_FORMAT, "jwk: contains private member \"%s\"",
                                           private_members[i]);
        return 0;
}

int vt_jwk_to_pkey(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d)
{
        int e;

        if ((e = public_object(jwk, d)) < 0)
                return e;
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        json_t *algj = json_object_get(jwk, "alg");
        const char *alg = json_string_value(algj);
        if (algj && !alg)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: alg must be a string");
        if (!kty)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: kty missing");
        if (strcmp(kty, "EC") == 0) {
                const char *crv = json_string_value(json_object_get(jwk, "crv"));
                const struct vt_jwk_curve *c = vt_jwk_curve_named(crv);
                if (!c)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "jwk: EC curve %s not supported (P-256, P-521)",
                                           crv ? crv : "(none)");
                if (alg && strcmp(alg, ALG_ECDH) != 0)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "jwk: alg %s not supported for EC (" ALG_ECDH ")", alg);
                return ec_point(jwk, c, ret, d);
        }
        if (strcmp(kty, "RSA") == 0) {
                _cleanup_free_ uint8_t *nb = NULL, *eb = NULL;
                _cleanup_(BN_freep) BIGNUM *bn = NULL, *be = NULL;
                size_t nl, el;
                if (alg && strcmp(alg, ALG_OAEP) != 0 && strcmp(alg, ALG_RSA15) != 0)
                        return vt_diag_set(d, VT_E_UNSUPPORTED, "jwk: alg %s not supported for RSA",
                                           alg);
                if ((e = b64_member(jwk, "n", 1024, 0, &nb, &nl, d)) < 0 ||
                    (e = b64_member(jwk, "e", 8, 0, &eb, &el, d)) < 0)
                        return e;
                bn = BN_bin2bn(nb, (int)nl, NULL);
                be = BN_bin2bn(eb, (int)el, NULL);
                int bits = bn ? BN_num_bits(bn) : 0;
                if (bits < 2048 || bits > 8192 || !BN_is_odd(bn) || !be || BN_is_zero(be) ||
                    !BN_is_odd(be) || BN_is_one(be))
                        return vt_diag_set(
                                d, VT_E_FORMAT,
                                "jwk: RSA modulus must be odd and 2048..8192 bits, e odd and > 1");
                e = vt_rsa_public_from_ne(nb, nl, eb, el, ret);
                return e < 0 ? vt_diag_set(d, e, "jwk: invalid RSA public key") : 0;
        }
        return vt_diag_set(d, VT_E_UNSUPPORTED, "jwk: kty %s not supported (EC, RSA)", kty);
}

int vt_jwk_to_verify_key(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d)
{
        const json_t *use = json_object_get(jwk, "use"), *alg = json_object_get(jwk, "alg");
        const json_t *ops = json_object_get(jwk, "key_ops"), *op;
        size_t i;
        bool verify = !ops;
        int e;

        if ((e = public_object(jwk, d)) < 0)
                return e;
        json_array_foreach (ops, i, op)
                verify = verify ||
                         (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0);
        if (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
                return vt_diag_set(d, VT_E_UNSUPPORTED, "jwk: use is not \"sig\"");
        if (alg && (!json_is_string(alg) || strcmp(json_string_value(alg), ALG_ES256) != 0))
                return vt_diag_set(d, VT_E_UNSUPPORTED, "jwk: alg is not " ALG_ES256);
        if (ops && !verify)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "jwk: key_ops does not include verify");
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        if (!kty || strcmp(kty, "EC") != 0 || !crv || strcmp(crv, "P-256") != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwk: kty %s crv %s cannot verify " ALG_ES256 " (EC P-256)",
                                   kty ? kty : "(none)", crv ? crv : "(none)");
        return ec_point(jwk, vt_jwk_curve_named(crv), ret, d);
}

/* An RSA private JWK (RFC 7518 section 6.3.2): n of 2048..4096 bits without a leading
 * zero byte, e odd and at least 3 (at most 8 bytes), and every CRT member (d, p, q, dp,
 * dq, qi; no "oth": two primes only), checked together by OpenSSL's pairwise check
 * (n = p q, d e = 1, the CRT exponents and coefficient, p and q prime). */
static int rsa_private(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d)
{
        static const struct {
                const char *member, *param;
                bool half; /* at most half of n's bytes (plus one) */
        } parts[] = {
                {"n", OSSL_PKEY_PARAM_RSA_N, false},
                {"e", OSSL_PKEY_PARAM_RSA_E, false},
                {"d", OSSL_PKEY_PARAM_RSA_D, false},
                {"p", OSSL_PKEY_PARAM_RSA_FACTOR1, true},
                {"q", OSSL_PKEY_PARAM_RSA_FACTOR2, true},
                {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1, true},
                {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2, true},
                {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1, true},
        };
        BIGNUM *bn[ELEMENTSOF(parts)] = {0};
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        size_t nl = 0;
        int e = 0;

        if (!bld)
                return VT_E_NOMEM;
        if (json_object_get(jwk, "oth"))
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwk: RSA keys of more than two primes (\"oth\") are not "
                                   "supported");
        for (size_t i = 0; i < ELEMENTSOF(parts) && e == 0; i++) {
                uint8_t *b = NULL;
                size_t bl = 0;
                size_t max = i == 1 ? 8 : parts[i].half ? nl / 2 + 1 : i == 0 ? 512 : nl;
                if ((e = b64_member(jwk, parts[i].member, max, 0, &b, &bl, d)) < 0)
                        break;
                if (i == 0 && (bl < 256 || b[0] == 0))
                        e = vt_diag_set(d, VT_E_FORMAT,
                                        "jwk: \"n\" must be 2048 to 4096 bits without a leading "
                                        "zero byte");
                else if (i == 1 && (bl == 0 || (b[bl - 1] & 1) == 0 || (bl == 1 && b[0] < 3)))
                        e = vt_diag_set(d, VT_E_FORMAT, "jwk: \"e\" must be odd and at least 3");
                if (i == 0)
                        nl = bl;
                if (e == 0 && !(bn[i] = i < 2 ? BN_bin2bn(b, (int)bl, NULL) : BN_secure_new()))
                        e = VT_E_NOMEM;
                if (e == 0 && i >= 2 && !BN_bin2bn(b, (int)bl, bn[i]))
                        e = VT_E_NOMEM;
                if (e == 0 && !OSSL_PARAM_BLD_push_BN(bld, parts[i].param, bn[i]))
                        e = VT_E_NOMEM;
                OPENSSL_clear_free(b, bl);
        }
        if (e == 0 && !(params = OSSL_PARAM_BLD_to_param(bld)))
                e = VT_E_NOMEM;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                BN_clear_free(bn[i]);
        if (e < 0)
                return e;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT, "jwk: cannot build the RSA key pair");
        }
        chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!chk || EVP_PKEY_pairwise_check(chk) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT,
                                   "jwk: the RSA private members do not belong together (n = p "
                                   "q, d, dp, dq, qi)");
        }
        *ret = TAKE_PTR(key);
        return 0;
}

int vt_jwk_private_to_pkey(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d)
{
        static const char *const public_members[] = {"kty", "crv", "x", "y"};
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pub = NULL, *key = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = NULL;
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(BN_clear_freep) BIGNUM *priv = NULL;
        _cleanup_json_ json_t *pubj = NULL;
        const struct vt_jwk_curve *c;
        const char *kty, *crv;
        uint8_t point[1 + 2 * 66], *db = NULL;
        size_t plen = 0, dl = 0;
        int e;

        if (!jwk || !ret)
                return VT_E_INVAL;
        if (!json_is_object(jwk))
                return vt_diag_set(d, VT_E_FORMAT, "jwk: not a JSON object");
        kty = json_string_value(json_object_get(jwk, "kty"));
        if (kty && strcmp(kty, "RSA") == 0)
                return rsa_private(jwk, ret, d);
        if (!kty || strcmp(kty, "EC") != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwk: private key kty %s not supported (EC, RSA)",
                                   kty ? kty : "(none)");
        crv = json_string_value(json_object_get(jwk, "crv"));
        c = vt_jwk_curve_named(crv);
        if (!c)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "jwk: EC curve %s not supported (P-256, P-521)",
                                   crv ? crv : "(none)");

        /* the public half goes through the tee-pubkey checks (sizes, point on curve) */
        pubj = json_object();
        if (!pubj)
                return VT_E_NOMEM;
        for (size_t i = 0; i < ELEMENTSOF(public_members); i++) {
                json_t *v = json_object_get(jwk, public_members[i]);
                if (v && json_object_set(pubj, public_members[i], v) < 0)
                        return VT_E_NOMEM;
        }
        if ((e = vt_jwk_to_pkey(pubj, &pub, d)) < 0)
                return e;
        if (EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
                                            &plen) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO, "jwk: cannot encode the public point");
        }

        /* RFC 7518 section 6.2.2.1: d is exactly the size of the curve order */
        if ((e = b64_member(jwk, "d", c->n, c->n, &db, &dl, d)) < 0)
                return e;
        priv = BN_secure_new();
        bool ok = priv && BN_bin2bn(db, (int)dl, priv);
        OPENSSL_clear_free(db, dl);
        if (!ok)
                return VT_E_NOMEM;
        bld = OSSL_PARAM_BLD_new();
        if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, plen) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) ||
            !(params = OSSL_PARAM_BLD_to_param(bld)))
                return VT_E_NOMEM;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT, "jwk: cannot build the %s key pair", c->crv);
        }
        /* full check: the public point, 0 < d < order, and d * G == (x, y) */
        chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!chk || EVP_PKEY_check(chk) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT,
                                   "jwk: \"d\" is out of range or does not belong to (x, y)");
        }
        *ret = TAKE_PTR(key);
        return 0;
}

static int set_str(json_t *obj, const char *k, const char *v)
{
        return v ? vt_json_set(obj, k, json_string(v)) : 0;
}

int vt_jwk_from_ec_xy(const struct vt_jwk_curve *c, const uint8_t *x, const uint8_t *y,
                      enum vt_jwk_layout layout, const char *alg, json_t **ret)
{
        _cleanup_json_ json_t *j = json_object();
        const char *alg_first = layout == VT_JWK_ALG_FIRST ? alg : NULL;
        const char *alg_last = layout == VT_JWK_ALG_LAST ? alg : NULL;
        int e;

        if (!c || !x || !y || !ret)
                return VT_E_INVAL;
        if (!j)
                return VT_E_NOMEM;
        if (layout == VT_JWK_EPK)
                e = set_str(j, "crv", c->crv) ?: set_str(j, "kty", "EC");
        else
                e = set_str(j, "kty", "EC") ?: set_str(j, "crv", c->crv)
                                                ?: set_str(j, "alg", alg_first);
        if (e < 0 || (e = vt_json_set_b64(j, "x", x, c->n)) < 0 ||
            (e = vt_json_set_b64(j, "y", y, c->n)) < 0 || (e = set_str(j, "alg", alg_last)) < 0)
                return e;
        *ret = TAKE_PTR(j);
        return 0;
}

int vt_jwk_from_pkey(EVP_PKEY *key, enum vt_jwk_layout layout, const char *alg, json_t **ret)
{
        _cleanup_json_ json_t *j = json_object();
        const struct vt_jwk_curve *c;
        const char *alg_first = layout == VT_JWK_ALG_FIRST ? alg : NULL;
        const char *alg_last = layout == VT_JWK_ALG_LAST ? alg : NULL;
        int e;

        if (!key || !ret)
                return VT_E_INVAL;
        if (!j)
                return VT_E_NOMEM;
        if ((c = vt_jwk_curve_of(key))) {
                uint8_t x[66], y[66];
                if ((e = vt_ec_public_xy(key, c, x, y)) < 0)
                        return e;
                return vt_jwk_from_ec_xy(c, x, y, layout, alg, ret);
        } else if (EVP_PKEY_is_a(key, "RSA") && layout != VT_JWK_EPK) {
                _cleanup_(BN_freep) BIGNUM *n = NULL, *ex = NULL;
                _cleanup_free_ uint8_t *nb = NULL;
                uint8_t eb[16];
                int nl, el;

                if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
                    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &ex) != 1 ||
                    BN_num_bytes(ex) > (int)sizeof(eb)) {
                        ERR_clear_error();
                        return VT_E_CRYPTO;
                }
                nb = malloc((size_t)BN_num_bytes(n) + 1);
                if (!nb)
                        return VT_E_NOMEM;
                /* RFC 7518 section 6.3.1: unsigned big-endian, no leading zeros */
                nl = BN_bn2bin(n, nb);
                el = BN_bn2bin(ex, eb);
                if ((e = set_str(j, "kty", "RSA")) < 0 || (e = set_str(j, "alg", alg_first)) < 0 ||
                    (e = vt_json_set_b64(j, "n", nb, (size_t)nl)) < 0 ||
                    (e = vt_json_set_b64(j, "e", eb, (size_t)el)) < 0 ||
                    (e = set_str(j, "alg", alg_last)) < 0)
                        return e;
        } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 && layout != VT_JWK_EPK) {
                uint8_t raw[32];
                size_t n = sizeof(raw);
                if (!EVP_PKEY_get_raw_public_key(key, raw, &n) || n != sizeof(raw)) {
                        ERR_clear_error();
                        return VT_E_CRYPTO;
                }
                if ((e = set_str(j, "kty", "OKP")) < 0 || (e = set_str(j, "crv", "Ed25519")) < 0 ||
                    (e = set_str(j, "alg", alg_first)) < 0 ||
                    (e = vt_json_set_b64(j, "x", raw, n)) < 0 ||
                    (e = set_str(j, "alg", alg_last)) < 0)
                        return e;
        } else {
                ERR_clear_error();
                return VT_E_UNSUPPORTED;
        }
        *ret = TAKE_PTR(j);
        return 0;
}

int vt_jwk_from_private(EVP_PKEY *key, json_t **ret)
{
        if (!key || !ret)
                return VT_E_INVAL;
        if (vt_jwk_curve_of(key))
                return vt_jwk_from_pkey(key, VT_JWK_ALG_FIRST, ALG_ECDH, ret);
        if (EVP_PKEY_is_a(key, "RSA"))
                return vt_jwk_from_pkey(key, VT_JWK_ALG_FIRST, ALG_OAEP, ret);
        return VT_E_UNSUPPORTED;
}

int vt_jwk_thumbprint(EVP_PKEY *key, char ret[static VT_JWK_THUMBPRINT_LEN + 1])
{
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *text = NULL, *b = NULL;
        uint8_t h[32];
        int e;

        /* RFC 7638: the required members only (no alg), in lexicographic order, no
         * whitespace */
        if ((e = vt_jwk_from_pkey(key, VT_JWK_ALG_LAST, NULL, &j)) < 0)
                return e;
        text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return VT_E_NOMEM;
        if (!EVP_Digest(text, strlen(text), h, NULL, EVP_sha256(), NULL)) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        if ((e = vt_b64_encode(h, sizeof(h), VT_B64_URL, &b)) < 0)
                return e;
        if (strlen(b) != VT_JWK_THUMBPRINT_LEN)
                return VT_E_CRYPTO;
        memcpy(ret, b, VT_JWK_THUMBPRINT_LEN + 1);
        return 0;
}
