/* SPDX-License-Identifier: Apache-2.0 */
/* TEST-MADE NVIDIA-shaped chains and re-signed reports (nvchain.h). */
#include "nvchain.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testutil.h"

EVP_PKEY *nvchain_p384(void)
{
        EVP_PKEY *k = EVP_EC_gen("P-384");
        assert_non_null(k);
        return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
}

/* The Hopper FWID extension: SEQ{INTEGER 1, SPKI, SEQ{sha384, OCTET STRING(48)}}. */
static void add_fwid(X509 *x, EVP_PKEY *brom_key, const uint8_t fwid[48])
{
        uint8_t der[256], *p = der, *spki = NULL;
        int sl = i2d_PUBKEY(brom_key, &spki);
        assert_int_equal(sl, 120);
        static const uint8_t alg[] = {0x30, 0x3d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                      0x65, 0x03, 0x04, 0x02, 0x02, 0x04, 0x30};
        *p++ = 0x30;
        *p++ = 0x81;
        *p++ = (uint8_t)(3 + sl + sizeof(alg) + 48);
        *p++ = 0x02;
        *p++ = 0x01;
        *p++ = 0x01;
        memcpy(p, spki, (size_t)sl);
        p += sl;
        memcpy(p, alg, sizeof(alg));
        p += sizeof(alg);
        memcpy(p, fwid, 48);
        p += 48;
        OPENSSL_free(spki);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ASN1_OBJECT *obj = OBJ_txt2obj("2.23.133.5.4.1", 1);
        assert_true(ASN1_OCTET_STRING_set(os, der, (int)(p - der)));
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
        ASN1_OBJECT_free(obj);
        ASN1_OCTET_STRING_free(os);
}

X509 *nvchain_cert(int64_t now, const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                   bool ca, const char *eku, long serial)
{
        X509 *x = X509_new();
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_NAME *n = X509_NAME_new();
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"TEST-MADE", -1, -1,
                                   0);
        X509_set_subject_name(x, n);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
        X509_NAME_free(n);
        ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - 86400));
        ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + 86400 * 3650));
        X509_set_pubkey(x, key);
        add_ext(x, issuer ? issuer : x, NID_basic_constraints,
                ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        add_ext(x, issuer ? issuer : x, NID_key_usage,
                ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
        if (eku)
                add_ext(x, issuer ? issuer : x, NID_ext_key_usage, eku);
        assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha384()) > 0);
        return x;
}

static const char *const cns[] = {"TEST NVIDIA Device Identity CA", "TEST GH100 Identity",
                                  "TEST GH100 Provisioner ICA 1", "TEST GH100 A01 GSP BROM",
                                  "GH100 A01 GSP FMC LF (TEST)"};

void nvchain_set_leaf_fwid(struct nvchain *c, const uint8_t fwid[48])
{
        X509_free(c->n[4].cert);
        X509 *x = nvchain_cert(c->now, cns[4], c->n[4].key, c->n[3].cert, c->n[3].key, false, NULL,
                               104);
        add_fwid(x, c->n[3].key, fwid);
        assert_true(X509_sign(x, c->n[3].key, EVP_sha384()) > 0);
        c->n[4].cert = x;
}

void nvchain_make(struct nvchain *c, int64_t now, const uint8_t fwid[48])
{
        memset(c, 0, sizeof(*c));
        c->now = now;
        for (int i = 0; i < 5; i++) {
                c->n[i].key = nvchain_p384();
                c->n[i].cert = nvchain_cert(now, cns[i], c->n[i].key, i ? c->n[i - 1].cert : NULL,
                                            i ? c->n[i - 1].key : NULL, i < 4, NULL, 100 + i);
        }
        nvchain_set_leaf_fwid(c, fwid);
}

void nvchain_free(struct nvchain *c)
{
        for (int i = 0; i < 5; i++) {
                EVP_PKEY_free(c->n[i].key);
                X509_free(c->n[i].cert);
        }
        memset(c, 0, sizeof(*c));
}

void nvchain_resign(const struct nvchain *c, struct vt_nv_report *rep, const uint8_t *nonce)
{
        if (nonce) { /* the request nonce: bytes 4..36 of GET_MEASUREMENTS, signed */
                memcpy(rep->bytes + 4, nonce, VT_NV_NONCE_LEN);
                memcpy(rep->nonce, nonce, VT_NV_NONCE_LEN);
        }
        uint8_t dig[48], sig[128];
        unsigned dl = 0;
        size_t sl = sizeof(sig);
        assert_int_equal(EVP_Digest(rep->bytes, rep->signed_len, dig, &dl, EVP_sha384(), NULL), 1);
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(c->n[4].key, NULL);
        assert_int_equal(EVP_PKEY_sign_init(pc), 1);
        assert_int_equal(EVP_PKEY_sign(pc, sig, &sl, dig, dl), 1);
        EVP_PKEY_CTX_free(pc);
        const unsigned char *sp = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &sp, (long)sl);
        assert_non_null(es);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rep->bytes + rep->signed_len, 48);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rep->bytes + rep->signed_len + 48, 48);
        ECDSA_SIG_free(es);
}

static char *pem_of(const struct nvchain *c, int from, int to, size_t *len)
{
        BIO *b = BIO_new(BIO_s_mem());
        assert_non_null(b);
        for (int i = from; i >= to; i--)
                assert_int_equal(PEM_write_bio_X509(b, c->n[i].cert), 1);
        char *p;
        long l = BIO_get_mem_data(b, &p);
        char *out = malloc((size_t)l + 1);
        assert_non_null(out);
        memcpy(out, p, (size_t)l);
        out[l] = 0;
        BIO_free(b);
        if (len)
                *len = (size_t)l;
        return out;
}

char *nvchain_pem(const struct nvchain *c, size_t *len)
{
        return pem_of(c, 4, 0, len);
}

char *nvchain_root_pem(const struct nvchain *c, size_t *len)
{
        return pem_of(c, 0, 0, len);
}

struct vt_nv_report *nvchain_hopper(struct nvchain *c, const uint8_t *nonce)
{
        size_t hl;
        uint8_t *hex = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/report.hex", &hl);
        struct vt_nv_report *rep = NULL;
        struct vt_diag d = {0};
        if (vt_nv_report_parse(hex, hl, &rep, &d) < 0)
                fail_msg("hopper report: %s", d.msg);
        free(hex);
        /* the test leaf's FWID must be the report's */
        const uint8_t *fw;
        size_t fl;
        assert_int_equal(vt_nv_report_field(rep, VT_NV_OPQ_FWID, &fw, &fl), 0);
        assert_int_equal(fl, 48);
        nvchain_set_leaf_fwid(c, fw);
        nvchain_resign(c, rep, nonce);
        return rep;
}
