/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/jwk.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "util/b64.h"
#include "util/macro.h"

static int b64_member(const json_t *jwk, const char *k, size_t max, uint8_t **ret, size_t *len,
                      struct vt_diag *d)
{
        const char *s = json_string_value(json_object_get(jwk, k));
        if (!s)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: member \"%s\" missing or not a string", k);
        if (vt_b64_decode(s, strlen(s), VT_B64_URL, max, ret, len) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "jwk: member \"%s\" is not base64url of at most %zu bytes", k,
                                   max);
        return 0;
}

static int from_params(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **ret)
{
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        EVP_PKEY *key = NULL;
        int e = VT_E_FORMAT;
        if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1) {
                /* fromdata does not check an EC point: do it. For RSA the public check of
                 * OpenSSL 3.0 runs a randomised primality test on n, which can accept or
                 * refuse the same key from one call to the next (found by fuzz_jwk); the
                 * RSA branch does its deterministic checks (size, odd n and e) itself. */
                if (strcmp(type, "EC") == 0) {
                        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
                        if (chk && EVP_PKEY_public_check(chk) == 1)
                                e = 0;
                        EVP_PKEY_CTX_free(chk);
                } else {
                        e = 0;
                }
        }
        OSSL_PARAM_free(params);
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        if (e == 0 && ret)
                *ret = key;
        else
                EVP_PKEY_free(key);
        return e;
}

int vt_jwk_to_pkey(const json_t *jwk, EVP_PKEY **ret, struct vt_diag *d)
{
        static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "k"};
        if (!json_is_object(jwk))
                return vt_diag_set(d, VT_E_FORMAT, "jwk: not a JSON object");
        for (size_t i = 0; i < ELEMENTSOF(private_members); i++)
                if (json_object_get(jwk, private_members[i]))
                        return vt_diag_set(d, VT_E_FORMAT, "jwk: contains private member \"%s\"",
                                           private_members[i]);
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        json_t *algj = json_object_get(jwk, "alg");
        const char *alg = json_string_value(algj);
        if (algj && !alg)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: alg must be a string");
        if (!kty)
                return vt_diag_set(d, VT_E_FORMAT, "jwk: kty missing");
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return VT_E_NOMEM;
        int e;
        if (strcmp(kty, "EC") == 0) {
                const char *crv = json_string_value(json_object_get(jwk, "crv"));
                size_t n = crv && strcmp(crv, "P-256") == 0   ? 32
                           : crv && strcmp(crv, "P-521") == 0 ? 66
                                                              : 0;
                _cleanup_free_ uint8_t *x = NULL, *y = NULL;
                size_t xl, yl;
                uint8_t pub[1 + 2 * 66];
                if (!n) {
                        OSSL_PARAM_BLD_free(bld);
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "jwk: EC curve %s not supported (P-256, P-521)",
                                           crv ? crv : "(none)");
                }
                if (alg && strcmp(alg, "ECDH-ES+A256KW") != 0) {
                        OSSL_PARAM_BLD_free(bld);
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "jwk: alg %s not supported for EC (ECDH-ES+A256KW)",
                                           alg);
                }
                if ((e = b64_member(jwk, "x", n, &x, &xl, d)) < 0 ||
                    (e = b64_member(jwk, "y", n, &y, &yl, d)) < 0) {
                        OSSL_PARAM_BLD_free(bld);
                        return e;
                }
                if (xl != n || yl != n) {
                        OSSL_PARAM_BLD_free(bld);
                        return vt_diag_set(d, VT_E_FORMAT, "jwk: %s coordinates must be %zu bytes",
                                           crv, n);
                }
                pub[0] = 0x04;
                memcpy(pub + 1, x, n);
                memcpy(pub + 1 + n, y, n);
                if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, crv, 0) ||
                    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                                      1 + 2 * n)) {
                        OSSL_PARAM_BLD_free(bld);
                        return VT_E_NOMEM;
                }
                e = from_params("EC", bld, ret);
                OSSL_PARAM_BLD_free(bld);
                return e < 0 ? vt_diag_set(d, e, "jwk: the %s point is not on the curve", crv) : 0;
        }
        if (strcmp(kty, "RSA") == 0) {
                _cleanup_free_ uint8_t *nb = NULL, *eb = NULL;
                size_t nl, el;
                if (alg && strcmp(alg, "RSA-OAEP-256") != 0 && strcmp(alg, "RSA1_5") != 0) {
                        OSSL_PARAM_BLD_free(bld);
                        return vt_diag_set(d, VT_E_UNSUPPORTED, "jwk: alg %s not supported for RSA",
                                           alg);
                }
                if ((e = b64_member(jwk, "n", 1024, &nb, &nl, d)) < 0 ||
                    (e = b64_member(jwk, "e", 8, &eb, &el, d)) < 0) {
                        OSSL_PARAM_BLD_free(bld);
                        return e;
                }
                BIGNUM *bn = BN_bin2bn(nb, (int)nl, NULL), *be = BN_bin2bn(eb, (int)el, NULL);
                int bits = bn ? BN_num_bits(bn) : 0;
                if (bits < 2048 || bits > 8192 || !BN_is_odd(bn) || !be || BN_is_zero(be) ||
                    !BN_is_odd(be) || BN_is_one(be)) {
                        BN_free(bn);
                        BN_free(be);
                        OSSL_PARAM_BLD_free(bld);
                        return vt_diag_set(
                                d, VT_E_FORMAT,
                                "jwk: RSA modulus must be odd and 2048..8192 bits, e odd and > 1");
                }
                /* the builder keeps pointers to the BIGNUMs until it is turned into params */
                int ok = OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
                         OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
                e = ok ? from_params("RSA", bld, ret) : VT_E_NOMEM;
                OSSL_PARAM_BLD_free(bld);
                BN_free(bn);
                BN_free(be);
                return e < 0 ? vt_diag_set(d, e, "jwk: invalid RSA public key") : 0;
        }
        OSSL_PARAM_BLD_free(bld);
        return vt_diag_set(d, VT_E_UNSUPPORTED, "jwk: kty %s not supported (EC, RSA)", kty);
}
