/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/x509.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/ecfixed.h"
#include "veritee/veritee.h"

static bool looks_pem(const uint8_t *buf, size_t len)
{
        static const char tag[] = "-----BEGIN";
        /* PEM may be preceded by text; search a bounded prefix for the tag. */
        for (size_t i = 0; i + sizeof(tag) - 1 <= len && i < 4096; i++)
                if (memcmp(buf + i, tag, sizeof(tag) - 1) == 0)
                        return true;
        return false;
}

int vt_x509_parse_one(const uint8_t *buf, size_t len, X509 **ret)
{
        X509 *x = NULL;
        if (!buf || len == 0 || len > VT_CERT_MAX_BYTES || len > INT32_MAX)
                return VT_E_INVAL;
        if (looks_pem(buf, len)) {
                BIO *b = BIO_new_mem_buf(buf, (int)len);
                if (!b)
                        return VT_E_NOMEM;
                x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                BIO_free(b);
        } else {
                const uint8_t *p = buf;
                x = d2i_X509(NULL, &p, (long)len);
                if (x && p != buf + len) {
                        X509_free(x);
                        ERR_clear_error();
                        return VT_E_TRAILING;
                }
        }
        if (!x) {
                ERR_clear_error();
                return VT_E_FORMAT;
        }
        *ret = x;
        return 0;
}

int vt_x509_parse_many(const uint8_t *buf, size_t len, STACK_OF(X509) * *ret)
{
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        if (!buf || len == 0 || len > VT_CERT_MAX_BYTES * VT_CHAIN_MAX_CERTS || len > INT32_MAX)
                return VT_E_INVAL;
        sk = sk_X509_new_null();
        if (!sk)
                return VT_E_NOMEM;
        if (!looks_pem(buf, len)) {
                X509 *x = NULL;
                int e = vt_x509_parse_one(buf, len, &x);
                if (e < 0)
                        return e;
                if (!sk_X509_push(sk, x)) {
                        X509_free(x);
                        return VT_E_NOMEM;
                }
                *ret = TAKE_PTR(sk);
                return 0;
        }
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        if (!b)
                return VT_E_NOMEM;
        for (;;) {
                X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                if (!x)
                        break;
                if (sk_X509_num(sk) >= VT_CHAIN_MAX_CERTS || !sk_X509_push(sk, x)) {
                        X509_free(x);
                        BIO_free(b);
                        return VT_E_INVAL;
                }
        }
        BIO_free(b);
        ERR_clear_error();
        if (sk_X509_num(sk) == 0)
                return VT_E_FORMAT;
        *ret = TAKE_PTR(sk);
        return 0;
}

int vt_crl_parse(const uint8_t *buf, size_t len, X509_CRL **ret)
{
        X509_CRL *c = NULL;
        if (!buf || len == 0 || len > 1024u * 1024u)
                return VT_E_INVAL;
        if (looks_pem(buf, len)) {
                BIO *b = BIO_new_mem_buf(buf, (int)len);
                if (!b)
                        return VT_E_NOMEM;
                c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
                BIO_free(b);
        } else {
                const uint8_t *p = buf;
                c = d2i_X509_CRL(NULL, &p, (long)len);
                if (c && p != buf + len) {
                        X509_CRL_free(c);
                        ERR_clear_error();
                        return VT_E_TRAILING;
                }
        }
        if (!c) {
                ERR_clear_error();
                return VT_E_FORMAT;
        }
        *ret = c;
        return 0;
}

static void name_cn(X509_NAME *n, char *buf, size_t cap)
{
        buf[0] = 0;
        if (!n || cap == 0)
                return;
        int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
        if (i < 0)
                return;
        ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
        int l = ASN1_STRING_length(s);
        const unsigned char *d = ASN1_STRING_get0_data(s);
        size_t k = 0;
        for (int j = 0; j < l && k + 1 < cap; j++)
                buf[k++] = (d[j] >= 0x20 && d[j] < 0x7f) ? (char)d[j] : '?';
        buf[k] = 0;
}

void vt_x509_subject_cn(X509 *x, char *buf, size_t cap)
{
        name_cn(X509_get_subject_name(x), buf, cap);
}

void vt_x509_issuer_cn(X509 *x, char *buf, size_t cap)
{
        name_cn(X509_get_issuer_name(x), buf, cap);
}

int vt_asn1_time_epoch(const ASN1_TIME *t, int64_t *ret)
{
        struct tm tm;
        if (!t || !ASN1_TIME_to_tm(t, &tm))
                return VT_E_FORMAT;
        /* timegm semantics without the GNU extension's locale issues */
        int64_t y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        int64_t days = era * 146097 + doe - 719468;
        *ret = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
        return 0;
}

int vt_x509_window(X509 *x, int64_t *ret_not_before, int64_t *ret_not_after)
{
        int64_t nb, na;
        if (vt_asn1_time_epoch(X509_get0_notBefore(x), &nb) < 0 ||
            vt_asn1_time_epoch(X509_get0_notAfter(x), &na) < 0)
                return VT_E_FORMAT;
        *ret_not_before = nb;
        *ret_not_after = na;
        return 0;
}

int vt_x509_ext_data(X509 *x, const char *oid, const uint8_t **ret, size_t *ret_len)
{
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        if (!obj)
                return VT_E_INVAL;
        int i = X509_get_ext_by_OBJ(x, obj, -1);
        if (i < 0)
                return VT_E_NOTFOUND;
        /* a duplicate extension is ambiguous: refuse it */
        if (X509_get_ext_by_OBJ(x, obj, i) >= 0)
                return VT_E_FORMAT;
        ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, i));
        *ret = ASN1_STRING_get0_data(os);
        *ret_len = (size_t)ASN1_STRING_length(os);
        return 0;
}

int vt_x509_spki_sha256(X509 *x, uint8_t out[32])
{
        unsigned char *der = NULL;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
        if (n <= 0)
                return VT_E_CRYPTO;
        int ok = EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL);
        OPENSSL_free(der);
        return ok ? 0 : VT_E_CRYPTO;
}

int vt_x509_der_sha256(X509 *x, uint8_t out[32])
{
        unsigned int n = 32;
        return X509_digest(x, EVP_sha256(), out, &n) ? 0 : VT_E_CRYPTO;
}

int vt_x509_verify_pss384(X509 *x, EVP_PKEY *issuer_key)
{
        int mdnid = 0, pknid = 0;
        if (X509_get_signature_nid(x) != NID_rsassaPss)
                return VT_E_CHAIN;
        if (!X509_get_signature_info(x, &mdnid, &pknid, NULL, NULL) || mdnid != NID_sha384) {
                ERR_clear_error();
                return VT_E_CHAIN;
        }
        int r = X509_verify(x, issuer_key);
        if (r != 1) {
                ERR_clear_error();
                return VT_E_CHAIN;
        }
        return 0;
}

int vt_ecdsa_verify_rs(EVP_PKEY *key, const uint8_t *digest, size_t dlen, const uint8_t *r,
                       const uint8_t *s, size_t n)
{
        return vt_ecdsa_verify_rs_seen(key, NULL, digest, dlen, r, s, n);
}

int vt_ecdsa_verify_rs_seen(EVP_PKEY *key, const struct vt_ecfix_key *known, const uint8_t *digest,
                            size_t dlen, const uint8_t *r, const uint8_t *s, size_t n)
{
        /* a P-384 key verifying again: through its table (crypto/ecfixed.h); should that
         * fail for want of memory, EVP answers */
        struct vt_ecfix_key seen;
        int fast;
        if (known) {
                seen = *known;
                fast = vt_ecfix_verify_seen(&seen, digest, dlen, r, s, n);
        } else {
                fast = vt_ecfix_verify(key, digest, dlen, r, s, n, &seen);
        }
        if (fast == 0 || fast == VT_E_SIGNATURE)
                return fast;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        uint8_t der[2 * 72 + 16];
        unsigned char *p = der;
        ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *br = BN_bin2bn(r, (int)n, NULL), *bs = BN_bin2bn(s, (int)n, NULL);
        int e = VT_E_CRYPTO;
        if (!sig || !br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
                BN_free(br);
                BN_free(bs);
                ECDSA_SIG_free(sig);
                return VT_E_NOMEM;
        }
        if (i2d_ECDSA_SIG(sig, NULL) > (int)sizeof(der))
                goto out;
        int dl = i2d_ECDSA_SIG(sig, &p);
        if (dl <= 0)
                goto out;
        ctx = EVP_PKEY_CTX_new(key, NULL);
        if (!ctx || EVP_PKEY_verify_init(ctx) != 1)
                goto out;
        e = EVP_PKEY_verify(ctx, der, (size_t)dl, digest, dlen) == 1 ? 0 : VT_E_SIGNATURE;
        if (e == 0 && fast == VT_ECFIX_PASS)
                vt_ecfix_remember(&seen); /* a valid signature: its key's table next time */
out:
        ECDSA_SIG_free(sig);
        ERR_clear_error();
        return e;
}

int vt_ec_curve_nid(EVP_PKEY *key)
{
        char name[64];
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
                return NID_undef;
        if (!EVP_PKEY_get_group_name(key, name, sizeof(name), NULL))
                return NID_undef;
        int nid = OBJ_sn2nid(name);
        return nid != NID_undef ? nid : EC_curve_nist2nid(name);
}

const char *vt_openssl_reason(char *buf, size_t cap)
{
        unsigned long e = ERR_peek_last_error();
        if (!e)
                snprintf(buf, cap, "no OpenSSL reason");
        else
                ERR_error_string_n(e, buf, cap);
        ERR_clear_error();
        return buf;
}

int vt_crl_is_pss384(const X509_CRL *crl)
{
        const X509_ALGOR *alg = NULL;
        const ASN1_OBJECT *obj = NULL;
        const void *pval = NULL;
        int ptype = 0, ok = 0;
        X509_CRL_get0_signature(crl, NULL, &alg);
        if (!alg)
                return 0;
        X509_ALGOR_get0(&obj, &ptype, &pval, alg);
        if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE)
                return 0;
        RSA_PSS_PARAMS *pss =
                ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), alg->parameter);
        if (pss && pss->hashAlgorithm && OBJ_obj2nid(pss->hashAlgorithm->algorithm) == NID_sha384)
                ok = 1;
        RSA_PSS_PARAMS_free(pss);
        ERR_clear_error();
        return ok;
}
