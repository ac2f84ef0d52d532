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
#include "sim/amdchain.h"
#include "util/macro.h"

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

static const struct vt_amd_name test_name = {
        .ou = "Engineering",
        .c = "US",
        .o = "Advanced Micro Devices (test)",
};

int snpchain_issue_ca(const struct snpchain *c, const char *cn, uint64_t serial, EVP_PKEY *key,
                      int64_t not_before, int64_t not_after, X509 **ret)
{
        return vt_amd_issue_ca(&test_name, serial, cn, c->ark, c->ark_key, key, not_before,
                               not_after, ret, NULL);
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
        if ((e = vt_amd_issue_ark(&test_name, o->ark_serial ? o->ark_serial : 0x10000, cn,
                                  c->ark_key, nb, na, &c->ark, NULL)) < 0)
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
        return vt_amd_tcb_raw((uint8_t)t->fmc, t->bl, t->tee, t->snp, t->ucode, turin);
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
        char pname[32];
        if (o->product_name)
                snprintf(pname, sizeof(pname), "%s", o->product_name);
        else
                snprintf(pname, sizeof(pname), "%s-B0", c->product);
        const struct vt_amd_leaf l = {
                .cn = o->cn ? o->cn : "SEV-VCEK",
                .serial = o->serial,
                .not_before = o->not_before ? o->not_before : T_2024_01_01,
                .not_after = o->not_after ? o->not_after : T_2031_01_01,
                .struct_version = o->struct_version,
                .product = pname,
                .bl = o->tcb.bl,
                .tee = o->tcb.tee,
                .snp = o->tcb.snp,
                .ucode = o->tcb.ucode,
                .fmc = o->tcb.fmc,
                .hwid = o->hwid,
                .hwid_len = o->hwid_len,
                .csp_id = o->csp_id,
        };
        return vt_amd_issue_leaf(&test_name, &l, o->issuer ? o->issuer : c->ask,
                                 o->issuer_key ? o->issuer_key : c->ask_key, key, ret, NULL);
}

void snpchain_report_build(const struct snpchain_report_opts *o, uint8_t rep[VT_SNP_REPORT_SIZE])
{
        bool cpuid_default = !o->cpuid_fam && !o->cpuid_mod && !o->cpuid_step;
        bool fw_default = !o->fw_major && !o->fw_minor && !o->fw_build;
        const struct vt_amd_report r = {
                .version = o->version ? o->version : 3,
                .policy = o->policy ? o->policy : 0x30000,
                .vmpl = o->vmpl,
                .tcb = o->reported_tcb,
                .signing_key = o->signing_key,
                .report_data = o->report_data,
                .measurement = o->measurement,
                .chip_id = o->chip_id,
                .cpuid_fam = cpuid_default ? 0x19 : o->cpuid_fam,
                .cpuid_mod = cpuid_default ? 0x01 : o->cpuid_mod,
                .cpuid_step = cpuid_default ? 0x01 : o->cpuid_step,
                .fw_major = fw_default ? 1 : o->fw_major,
                .fw_minor = fw_default ? 55 : o->fw_minor,
                .fw_build = fw_default ? 29 : o->fw_build,
        };
        vt_amd_report_build(&r, rep);
}

int snpchain_report_sign(uint8_t rep[VT_SNP_REPORT_SIZE], EVP_PKEY *key)
{
        return vt_amd_report_sign(rep, key, NULL);
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
        if (o->issuer_cn && (e = vt_amd_name_new(&test_name, o->issuer_cn, &name, NULL)) < 0)
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
        if ((e = vt_amd_sign_ctx(o->signer ? o->signer : c->ark_key, &m, NULL)) < 0)
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
