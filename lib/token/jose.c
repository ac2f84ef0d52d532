/* SPDX-License-Identifier: Apache-2.0 */
#include "token/jose.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

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
        ECDSA_SIG *s = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, 32, NULL), *sv = BN_bin2bn(sig + 32, 32, NULL);
        int e = VT_E_CRYPTO;
        if (s && r && sv && ECDSA_SIG_set0(s, r, sv)) {
                r = sv = NULL; /* owned by s now */
                uint8_t *p = der;
                int dl = i2d_ECDSA_SIG(s, NULL);
                if (dl > 0 && dl <= 80 && i2d_ECDSA_SIG(s, &p) == dl) {
                        *der_len = (size_t)dl;
                        e = 0;
                }
        }
        BN_free(r);
        BN_free(sv);
        ECDSA_SIG_free(s);
        ERR_clear_error();
        return e;
}

int vt_jose_es256_raw(const uint8_t *der, size_t der_len, uint8_t sig[static 64])
{
        const uint8_t *p = der;
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        BIGNUM *n = BN_bin2bn(p256_order, 32, NULL), *low = NULL;
        bool ok = s && n && p == der + der_len &&
                  BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32 &&
                  BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32;
        if (ok && memcmp(sig + 32, p256_half_order, 32) > 0)
                ok = (low = BN_new()) && BN_sub(low, n, ECDSA_SIG_get0_s(s)) &&
                     BN_bn2binpad(low, sig + 32, 32) == 32;
        BN_free(low);
        BN_free(n);
        ECDSA_SIG_free(s);
        ERR_clear_error();
        return ok ? 0 : VT_E_CRYPTO;
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
