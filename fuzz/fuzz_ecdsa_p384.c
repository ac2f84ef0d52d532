/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an ECDSA P-384 signature (r, s and the digest, as evidence carries them)
 * through vt_ecdsa_verify_rs with the key's fixed-base table (crypto/ecfixed.h) against
 * OpenSSL's own EVP_PKEY_verify: the verdicts must be the same, and the table's path must
 * have been taken. The key and a base signature are fixed (private scalar 1..48 and nonce
 * 48..1, computed here), so that a corpus replays to the same verdicts.
 *
 * First byte, low bit 0: the rest is XORed over the base signature's r, s and digest (48
 * bytes each), so that an empty rest is a valid signature and short inputs stay near it;
 * low bit 1: the rest is r (48 bytes), s (48 bytes) and a digest of 1 to 64 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "crypto/ecfixed.h"
#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "veritee/veritee.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;
static uint8_t base_r[48], base_s[48], base_digest[48];

/* fixed_key makes the key of private scalar d and its signature of base_digest with the
 * nonce k (s = k^-1 (e + r d) mod n). */
static int fixed_key(void)
{
        uint8_t db[48], kb[48], pub[97];
        for (int i = 0; i < 48; i++) {
                db[i] = (uint8_t)(i + 1);
                kb[i] = (uint8_t)(48 - i);
                base_digest[i] = (uint8_t)(0xa5 ^ i);
        }
        _cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
        _cleanup_(BN_CTX_freep) BN_CTX *ctx = BN_CTX_new();
        _cleanup_(BN_freep) BIGNUM *d = BN_bin2bn(db, 48, NULL);
        _cleanup_(BN_freep) BIGNUM *k = BN_bin2bn(kb, 48, NULL);
        _cleanup_(BN_freep) BIGNUM *e = BN_bin2bn(base_digest, 48, NULL);
        _cleanup_(BN_freep) BIGNUM *r = BN_new(), *s = BN_new(), *ki = BN_new();
        EC_POINT *p = g ? EC_POINT_new(g) : NULL;
        const BIGNUM *n = g ? EC_GROUP_get0_order(g) : NULL;
        int ok = p && ctx && d && k && e && r && s && ki &&
                 EC_POINT_mul(g, p, k, NULL, NULL, ctx) &&
                 EC_POINT_get_affine_coordinates(g, p, r, NULL, ctx) && BN_nnmod(r, r, n, ctx) &&
                 BN_mod_mul(s, r, d, n, ctx) && BN_mod_add(s, s, e, n, ctx) &&
                 BN_mod_inverse(ki, k, n, ctx) && BN_mod_mul(s, s, ki, n, ctx) &&
                 BN_bn2binpad(r, base_r, 48) == 48 && BN_bn2binpad(s, base_s, 48) == 48 &&
                 EC_POINT_mul(g, p, d, NULL, NULL, ctx) &&
                 EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), ctx) ==
                         sizeof(pub);
        EC_POINT_free(p);
        if (!ok)
                return -1;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-384", 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)),
                OSSL_PARAM_construct_end(),
        };
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *kc =
                EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!kc || EVP_PKEY_fromdata_init(kc) != 1 ||
            EVP_PKEY_fromdata(kc, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return -1;
        return 0;
}

/* OpenSSL's verdict: 1 valid, 0 not. */
static int reference(const uint8_t *r, const uint8_t *s, const uint8_t *digest, size_t dlen)
{
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *br = BN_bin2bn(r, 48, NULL), *bs = BN_bin2bn(s, 48, NULL);
        if (!sig || !br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
                BN_free(br);
                BN_free(bs);
                abort();
        }
        uint8_t der[128], *p = der;
        int dl = i2d_ECDSA_SIG(sig, &p);
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
        if (dl <= 0 || !ctx || EVP_PKEY_verify_init(ctx) != 1)
                abort();
        return EVP_PKEY_verify(ctx, der, (size_t)dl, digest, dlen) == 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        /* the base signature verifies through EVP (the key's slot), then through its table */
        if (fixed_key() < 0 || vt_ecdsa_verify_rs(key, base_digest, 48, base_r, base_s, 48) != 0 ||
            vt_ecdsa_verify_rs(key, base_digest, 48, base_r, base_s, 48) != 0)
                abort();
        struct vt_ecfix_stats st;
        vt_ecfix_stats(&st);
        if (st.tables != 1)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t r[48], s[48], digest[64];
        size_t dlen = 48;
        if (!key)
                LLVMFuzzerInitialize(NULL, NULL);
        if (size == 0)
                return 0;
        memcpy(r, base_r, 48);
        memcpy(s, base_s, 48);
        memcpy(digest, base_digest, 48);
        if (!(data[0] & 1)) {
                for (size_t i = 1; i < size && i <= 144; i++) {
                        uint8_t *t = i <= 48 ? &r[i - 1] : i <= 96 ? &s[i - 49] : &digest[i - 97];
                        *t ^= data[i];
                }
        } else {
                if (size < 1 + 96 + 1)
                        return 0;
                memcpy(r, data + 1, 48);
                memcpy(s, data + 49, 48);
                dlen = size - 97 > 64 ? 64 : size - 97;
                memcpy(digest, data + 97, dlen);
        }
        struct vt_ecfix_stats before, after;
        vt_ecfix_stats(&before);
        int e = vt_ecdsa_verify_rs(key, digest, dlen, r, s, 48);
        vt_ecfix_stats(&after);
        if (e == VT_E_NOMEM)
                return 0;
        if ((e != 0 && e != VT_E_SIGNATURE) || (e == 0) != reference(r, s, digest, dlen) ||
            after.fast != before.fast + 1)
                abort();
        return 0;
}
