/* SPDX-License-Identifier: Apache-2.0 */
#include "snpchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/macro.h"

#define AMD_OID "1.3.6.1.4.1.3704.1."

/* Defaults, seconds since the epoch. */
#define T_2020_01_01 INT64_C(1577836800)
#define T_2024_01_01 INT64_C(1704067200)
#define T_2025_01_01 INT64_C(1735689600)
#define T_2031_01_01 INT64_C(1924992000)
#define T_2035_01_01 INT64_C(2051222400)
#define T_2045_01_01 INT64_C(2366841600)

static int crypto_fail(void)
{
        ERR_clear_error();
        return VT_E_CRYPTO;
}

int snpchain_new_p384(EVP_PKEY **ret)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        if (!k)
                return crypto_fail();
        *ret = k;
        return 0;
}

int snpchain_new_rsa(int bits, EVP_PKEY **ret)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
        if (!k)
                return crypto_fail();
        *ret = k;
        return 0;
}

/* A digest-sign context with SHA-384: RSASSA-PSS with MGF1-SHA-384 and a 48-byte
 * salt for RSA keys (the AMD parameters), plain ECDSA otherwise. */
static int sign_ctx(EVP_PKEY *key, EVP_MD_CTX **ret)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pc = NULL;
        if (!m)
                return VT_E_NOMEM;
        if (EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, key) != 1)
                return crypto_fail();
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
            (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) <= 0 ||
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) <= 0))
                return crypto_fail();
        *ret = TAKE_PTR(m);
        return 0;
}

static int amd_name(const char *cn, X509_NAME **ret)
{
        _cleanup_(X509_NAME_freep) X509_NAME *n = X509_NAME_new();
        if (!n)
                return VT_E_NOMEM;
        if (!X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Engineering",
                                        -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1,
                                        0) ||
            !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                        (const unsigned char *)"Advanced Micro Devices (test)", -1,
                                        -1, 0) ||
            !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0))
                return crypto_fail();
        *ret = TAKE_PTR(n);
        return 0;
}

/* A v3 certificate shell: serial, names, window, public key; no extensions. */
static int cert_shell(uint64_t serial, const char *cn, X509 *issuer, EVP_PKEY *pub, int64_t nb,
                      int64_t na, X509 **ret)
{
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(X509_NAME_freep) X509_NAME *subj = NULL;
        int e;
        if (!x)
                return VT_E_NOMEM;
        if ((e = amd_name(cn, &subj)) < 0)
                return e;
        if (!X509_set_version(x, 2) || !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
            !X509_set_subject_name(x, subj) ||
            !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subj) ||
            !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) || !X509_set_pubkey(x, pub))
                return crypto_fail();
        *ret = TAKE_PTR(x);
        return 0;
}

static int add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext =
                X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
        if (!ext || !X509_add_ext(x, ext, -1))
                return crypto_fail();
        return 0;
}

/* Adds a non-critical extension whose OCTET STRING holds exactly der[0..len). */
static int add_raw_ext(X509 *x, const char *oid, const uint8_t *der, size_t len)
{
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        _cleanup_(ASN1_OCTET_STRING_freep) ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        if (!obj || !os || !ASN1_OCTET_STRING_set(os, der, (int)len))
                return crypto_fail();
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext =
                X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
        if (!ext || !X509_add_ext(x, ext, -1))
                return crypto_fail();
        return 0;
}

/* DER INTEGER 0..255 the way KDS writes it: 02 01 v, or 02 02 00 v from 0x80. */
static int add_int_ext(X509 *x, const char *oid, unsigned v)
{
        uint8_t der[4] = {0x02, 0x01, (uint8_t)v};
        if (v >= 0x80) {
                der[1] = 0x02;
                der[2] = 0x00;
                der[3] = (uint8_t)v;
                return add_raw_ext(x, oid, der, 4);
        }
        return add_raw_ext(x, oid, der, 3);
}

static int add_ia5_ext(X509 *x, const char *oid, const char *s)
{
        uint8_t der[130];
        size_t n = strlen(s);
        if (n > 127)
                return VT_E_INVAL;
        der[0] = 0x16;
        der[1] = (uint8_t)n;
        memcpy(der + 2, s, n);
        return add_raw_ext(x, oid, der, n + 2);
}

static int sign_cert(X509 *x, EVP_PKEY *key)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = NULL;
        int e = sign_ctx(key, &m);
        if (e < 0)
                return e;
        if (X509_sign_ctx(x, m) <= 0)
                return crypto_fail();
        return 0;
}

int snpchain_issue_ca(const struct snpchain *c, const char *cn, uint64_t serial, EVP_PKEY *key,
                      int64_t not_before, int64_t not_after, X509 **ret)
{
        static const char bc[] = "critical,CA:TRUE,pathlen:0";
        _cleanup_(X509_freep) X509 *x = NULL;
        int e;
        if ((e = cert_shell(serial, cn, c->ark, key, not_before, not_after, &x)) < 0 ||
            (e = add_conf_ext(x, c->ark, NID_basic_constraints, bc)) < 0 ||
            (e = add_conf_ext(x, c->ark, NID_key_usage, "critical,keyCertSign,cRLSign")) < 0 ||
            (e = sign_cert(x, c->ark_key)) < 0)
                return e;
        *ret = TAKE_PTR(x);
        return 0;
}

void snpchain_free(struct snpchain *c)
{
        if (!c)
                return;
        EVP_PKEY_free(c->ark_key);
        EVP_PKEY_free(c->ask_key);
        X509_free(c->ark);
        X509_free(c->ask);
        free(c);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct snpchain *, snpchain_free)

int snpchain_new(const struct snpchain_opts *o, struct snpchain **ret)
{
        static const struct snpchain_opts none = {0};
        _cleanup_(snpchain_freep) struct snpchain *c = calloc(1, sizeof(*c));
        char cn[64];
        int e;

        if (!c)
                return VT_E_NOMEM;
        if (!o)
                o = &none;
        int bits = o->rsa_bits ? o->rsa_bits : 2048;
        int64_t nb = o->not_before ? o->not_before : T_2020_01_01;
        int64_t na = o->not_after ? o->not_after : T_2045_01_01;
        snprintf(c->product, sizeof(c->product), "%s", o->product ? o->product : "Milan");

        if ((e = snpchain_new_rsa(bits, &c->ark_key)) < 0 ||
            (e = snpchain_new_rsa(bits, &c->ask_key)) < 0)
                return e;
        snprintf(cn, sizeof(cn), "ARK-%s", c->product);
        if ((e = cert_shell(o->ark_serial ? o->ark_serial : 0x10000, cn, NULL, c->ark_key, nb, na,
                            &c->ark)) < 0 ||
            (e = add_conf_ext(c->ark, NULL, NID_basic_constraints, "critical,CA:TRUE")) < 0 ||
            (e = add_conf_ext(c->ark, NULL, NID_key_usage, "critical,keyCertSign,cRLSign")) < 0 ||
            (e = sign_cert(c->ark, c->ark_key)) < 0)
                return e;
        snprintf(cn, sizeof(cn), "SEV-%s", c->product);
        if ((e = snpchain_issue_ca(c, cn, o->ask_serial ? o->ask_serial : 0x10001, c->ask_key, nb,
                                   na, &c->ask)) < 0)
                return e;
        *ret = TAKE_PTR(c);
        return 0;
}

uint64_t snpchain_tcb_raw(const struct snpchain_tcb *t, bool turin)
{
        if (turin)
                return (uint64_t)(uint8_t)t->fmc | (uint64_t)t->bl << 8 | (uint64_t)t->tee << 16 |
                       (uint64_t)t->snp << 24 | (uint64_t)t->ucode << 56;
        return (uint64_t)t->bl | (uint64_t)t->tee << 8 | (uint64_t)t->snp << 48 |
               (uint64_t)t->ucode << 56;
}

void snpchain_vcek_opts_init(struct snpchain_vcek_opts *o, const struct snpchain_tcb *tcb,
                             const uint8_t *hwid, size_t hwid_len)
{
        *o = (struct snpchain_vcek_opts){
                .tcb = *tcb,
                .hwid = hwid,
                .hwid_len = hwid_len,
                .struct_version = 0,
        };
}

int snpchain_issue_vcek(const struct snpchain *c, const struct snpchain_vcek_opts *o, EVP_PKEY *key,
                        X509 **ret)
{
        _cleanup_(X509_freep) X509 *x = NULL;
        X509 *issuer = o->issuer ? o->issuer : c->ask;
        EVP_PKEY *ikey = o->issuer_key ? o->issuer_key : c->ask_key;
        char pname[32];
        int e;

        if ((e = cert_shell(o->serial, o->cn ? o->cn : "SEV-VCEK", issuer, key,
                            o->not_before ? o->not_before : T_2024_01_01,
                            o->not_after ? o->not_after : T_2031_01_01, &x)) < 0)
                return e;
        if (o->product_name)
                snprintf(pname, sizeof(pname), "%s", o->product_name);
        else
                snprintf(pname, sizeof(pname), "%s-B0", c->product);
        if (o->struct_version >= 0 &&
            (e = add_int_ext(x, AMD_OID "1", (unsigned)o->struct_version)) < 0)
                return e;
        if (pname[0] && (e = add_ia5_ext(x, AMD_OID "2", pname)) < 0)
                return e;
        if ((e = add_int_ext(x, AMD_OID "3.1", o->tcb.bl)) < 0 ||
            (e = add_int_ext(x, AMD_OID "3.2", o->tcb.tee)) < 0 ||
            (e = add_int_ext(x, AMD_OID "3.3", o->tcb.snp)) < 0 ||
            (e = add_int_ext(x, AMD_OID "3.8", o->tcb.ucode)) < 0)
                return e;
        if (o->tcb.fmc >= 0 && (e = add_int_ext(x, AMD_OID "3.9", (unsigned)o->tcb.fmc)) < 0)
                return e;
        if (o->hwid && (e = add_raw_ext(x, AMD_OID "4", o->hwid, o->hwid_len)) < 0)
                return e;
        if (o->csp_id && (e = add_ia5_ext(x, AMD_OID "5", o->csp_id)) < 0)
                return e;
        if ((e = sign_cert(x, ikey)) < 0)
                return e;
        *ret = TAKE_PTR(x);
        return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

void snpchain_report_build(const struct snpchain_report_opts *o, uint8_t rep[VT_SNP_REPORT_SIZE])
{
        uint32_t version = o->version ? o->version : 3;
        bool cpuid_default = !o->cpuid_fam && !o->cpuid_mod && !o->cpuid_step;
        bool fw_default = !o->fw_major && !o->fw_minor && !o->fw_build;
        uint8_t fw[3] = {o->fw_build, o->fw_minor, o->fw_major};
        if (fw_default) {
                fw[0] = 29;
                fw[1] = 55;
                fw[2] = 1;
        }

        memset(rep, 0, VT_SNP_REPORT_SIZE);
        put_le32(rep + 0x000, version);
        put_le64(rep + 0x008, o->policy ? o->policy : 0x30000);
        put_le32(rep + 0x030, o->vmpl);
        put_le32(rep + 0x034, 1); /* ECDSA P-384 with SHA-384 */
        put_le64(rep + 0x038, o->reported_tcb);
        put_le32(rep + 0x048, (o->signing_key & 7) << 2);
        if (o->report_data)
                memcpy(rep + 0x050, o->report_data, 64);
        if (o->measurement)
                memcpy(rep + 0x090, o->measurement, 48);
        memset(rep + 0x160, 0xff, 32); /* REPORT_ID_MA: no migration agent */
        put_le64(rep + 0x180, o->reported_tcb);
        if (version >= 3) {
                rep[0x188] = cpuid_default ? 0x19 : o->cpuid_fam;
                rep[0x189] = cpuid_default ? 0x01 : o->cpuid_mod;
                rep[0x18a] = cpuid_default ? 0x01 : o->cpuid_step;
        }
        if (o->chip_id)
                memcpy(rep + 0x1a0, o->chip_id, 64);
        put_le64(rep + 0x1e0, o->reported_tcb);
        memcpy(rep + 0x1e8, fw, 3);
        memcpy(rep + 0x1ec, fw, 3);
        put_le64(rep + 0x1f0, o->reported_tcb);
}

int snpchain_report_sign(uint8_t rep[VT_SNP_REPORT_SIZE], EVP_PKEY *key)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = NULL;
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
        uint8_t der[256];
        size_t dl = sizeof(der);
        int e;

        if ((e = sign_ctx(key, &m)) < 0)
                return e;
        if (EVP_DigestSign(m, der, &dl, rep, VT_SNP_SIGNED_SIZE) != 1)
                return crypto_fail();
        const uint8_t *p = der;
        sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
        if (!sig)
                return crypto_fail();
        memset(rep + VT_SNP_SIGNED_SIZE, 0, VT_SNP_REPORT_SIZE - VT_SNP_SIGNED_SIZE);
        if (BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rep + 0x2a0, 72) != 72 ||
            BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), rep + 0x2e8, 72) != 72)
                return crypto_fail();
        return 0;
}

int snpchain_crl(const struct snpchain *c, const struct snpchain_crl_opts *o, X509_CRL **ret)
{
        static const struct snpchain_crl_opts none = {0};
        _cleanup_(X509_CRL_freep) X509_CRL *crl = X509_CRL_new();
        _cleanup_(X509_NAME_freep) X509_NAME *name = NULL;
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *last = ASN1_TIME_new(), *next = ASN1_TIME_new();
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = NULL;
        int e;

        if (!o)
                o = &none;
        if (!crl || !last || !next)
                return VT_E_NOMEM;
        if (o->issuer_cn && (e = amd_name(o->issuer_cn, &name)) < 0)
                return e;
        if (!X509_CRL_set_version(crl, 1) ||
            !X509_CRL_set_issuer_name(crl, name ? name : X509_get_subject_name(c->ark)) ||
            !ASN1_TIME_set(last, (time_t)(o->last_update ? o->last_update : T_2025_01_01)) ||
            !X509_CRL_set1_lastUpdate(crl, last))
                return crypto_fail();
        if (o->next_update >= 0 &&
            (!ASN1_TIME_set(next, (time_t)(o->next_update ? o->next_update : T_2035_01_01)) ||
             !X509_CRL_set1_nextUpdate(crl, next)))
                return crypto_fail();
        for (size_t i = 0; i < o->n_revoked; i++) {
                _cleanup_(X509_REVOKED_freep) X509_REVOKED *r = X509_REVOKED_new();
                _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *s = ASN1_INTEGER_new();
                if (!r || !s || !ASN1_INTEGER_set_uint64(s, o->revoked[i]) ||
                    !X509_REVOKED_set_serialNumber(r, s) ||
                    !X509_REVOKED_set_revocationDate(r, last))
                        return crypto_fail();
                if (!X509_CRL_add0_revoked(crl, r))
                        return crypto_fail();
                r = NULL; /* owned by the CRL now */
        }
        if (!X509_CRL_sort(crl))
                return crypto_fail();
        if ((e = sign_ctx(o->signer ? o->signer : c->ark_key, &m)) < 0)
                return e;
        if (X509_CRL_sign_ctx(crl, m) <= 0)
                return crypto_fail();
        *ret = TAKE_PTR(crl);
        return 0;
}

/* Copies a memory BIO's contents into a malloc'd, NUL-terminated buffer. */
static int bio_take(BIO *b, uint8_t **ret, size_t *ret_len)
{
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        if (n <= 0)
                return crypto_fail();
        uint8_t *out = malloc((size_t)n + 1);
        if (!out)
                return VT_E_NOMEM;
        memcpy(out, p, (size_t)n);
        out[n] = 0;
        *ret = out;
        *ret_len = (size_t)n;
        return 0;
}

int snpchain_cert_pem(X509 *x, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return VT_E_NOMEM;
        if (!PEM_write_bio_X509(b, x))
                return crypto_fail();
        return bio_take(b, ret, ret_len);
}

int snpchain_cert_der(X509 *x, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return VT_E_NOMEM;
        if (!i2d_X509_bio(b, x))
                return crypto_fail();
        return bio_take(b, ret, ret_len);
}

int snpchain_crl_pem(X509_CRL *crl, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return VT_E_NOMEM;
        if (!PEM_write_bio_X509_CRL(b, crl))
                return crypto_fail();
        return bio_take(b, ret, ret_len);
}

int snpchain_crl_der(X509_CRL *crl, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return VT_E_NOMEM;
        if (!i2d_X509_CRL_bio(b, crl))
                return crypto_fail();
        return bio_take(b, ret, ret_len);
}

int snpchain_root_bundle_pem(const struct snpchain *c, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return VT_E_NOMEM;
        if (!PEM_write_bio_X509(b, c->ark) || !PEM_write_bio_X509(b, c->ask))
                return crypto_fail();
        return bio_take(b, ret, ret_len);
}
