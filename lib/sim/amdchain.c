/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/amdchain.h"

#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/macro.h"
#include "util/wr.h"

static int crypto_fail(struct vt_diag *d, const char *what)
{
        char buf[256];
        return vt_diag_set(d, VT_E_CRYPTO, "sim: %s: %s", what,
                           vt_openssl_reason(buf, sizeof(buf)));
}

static int add_name_entry(X509_NAME *n, const char *field, const char *value)
{
        return !value || X509_NAME_add_entry_by_txt(n, field, MBSTRING_ASC,
                                                    (const unsigned char *)value, -1, -1, 0);
}

int vt_amd_name_new(const struct vt_amd_name *n, const char *cn, X509_NAME **ret, struct vt_diag *d)
{
        _cleanup_(X509_NAME_freep) X509_NAME *name = X509_NAME_new();

        if (!name)
                return VT_E_NOMEM;
        if (!add_name_entry(name, "OU", n->ou) || !add_name_entry(name, "C", n->c) ||
            !add_name_entry(name, "O", n->o) || !add_name_entry(name, "CN", cn))
                return crypto_fail(d, "cannot build a name");
        *ret = TAKE_PTR(name);
        return 0;
}

int vt_amd_cert_new(const struct vt_amd_name *n, uint64_t serial, const char *cn, X509 *issuer,
                    EVP_PKEY *pub, int64_t nb, int64_t na, X509 **ret, struct vt_diag *d)
{
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(X509_NAME_freep) X509_NAME *subj = NULL;
        int e;

        if (!x)
                return VT_E_NOMEM;
        if ((e = vt_amd_name_new(n, cn, &subj, d)) < 0)
                return e;
        if (!X509_set_version(x, X509_VERSION_3) ||
            !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
            !X509_set_subject_name(x, subj) ||
            !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subj) ||
            !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) || !X509_set_pubkey(x, pub))
                return crypto_fail(d, "cannot build a certificate");
        *ret = TAKE_PTR(x);
        return 0;
}

int vt_amd_add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value, struct vt_diag *d)
{
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext =
                X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
        if (!ext || !X509_add_ext(x, ext, -1))
                return crypto_fail(d, "cannot add a certificate extension");
        return 0;
}

int vt_amd_add_raw_ext(X509 *x, const char *oid, const uint8_t *der, size_t len, struct vt_diag *d)
{
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        _cleanup_(ASN1_OCTET_STRING_freep) ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        if (!obj || !os || !ASN1_OCTET_STRING_set(os, der, (int)len))
                return crypto_fail(d, "cannot build an AMD extension");
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext =
                X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
        if (!ext || !X509_add_ext(x, ext, -1))
                return crypto_fail(d, "cannot add an AMD extension");
        return 0;
}

size_t vt_amd_der_small_int(uint8_t v, uint8_t der[static 4])
{
        der[0] = 0x02;
        if (v < 0x80) {
                der[1] = 0x01;
                der[2] = v;
                return 3;
        }
        der[1] = 0x02;
        der[2] = 0x00;
        der[3] = v;
        return 4;
}

int vt_amd_add_int_ext(X509 *x, const char *oid, uint8_t v, struct vt_diag *d)
{
        uint8_t der[4];
        return vt_amd_add_raw_ext(x, oid, der, vt_amd_der_small_int(v, der), d);
}

int vt_amd_add_ia5_ext(X509 *x, const char *oid, const char *s, struct vt_diag *d)
{
        uint8_t der[2 + 127];
        size_t n = strlen(s);
        if (n > 127)
                return vt_diag_set(d, VT_E_INVAL, "sim: %s longer than 127 bytes", oid);
        der[0] = 0x16; /* IA5String */
        der[1] = (uint8_t)n;
        memcpy(der + 2, s, n);
        return vt_amd_add_raw_ext(x, oid, der, n + 2, d);
}

int vt_amd_sign_ctx(EVP_PKEY *key, EVP_MD_CTX **ret, struct vt_diag *d)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pc = NULL; /* owned by m */
        if (!m)
                return VT_E_NOMEM;
        if (EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, key) != 1)
                return crypto_fail(d, "cannot sign");
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
            (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) <= 0 ||
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) <= 0))
                return crypto_fail(d, "cannot sign with RSA-PSS");
        *ret = TAKE_PTR(m);
        return 0;
}

int vt_amd_sign_cert(X509 *x, EVP_PKEY *key, struct vt_diag *d)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = NULL;
        int e = vt_amd_sign_ctx(key, &m, d);
        if (e < 0)
                return e;
        if (X509_sign_ctx(x, m) <= 0)
                return crypto_fail(d, "cannot sign a certificate");
        return 0;
}

int vt_amd_issue_ark(const struct vt_amd_name *n, uint64_t serial, const char *cn, EVP_PKEY *key,
                     int64_t nb, int64_t na, X509 **ret, struct vt_diag *d)
{
        _cleanup_(X509_freep) X509 *x = NULL;
        int e;
        if ((e = vt_amd_cert_new(n, serial, cn, NULL, key, nb, na, &x, d)) < 0 ||
            (e = vt_amd_add_conf_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE", d)) < 0 ||
            (e = vt_amd_add_conf_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign", d)) <
                    0 ||
            (e = vt_amd_sign_cert(x, key, d)) < 0)
                return e;
        *ret = TAKE_PTR(x);
        return 0;
}

int vt_amd_issue_ca(const struct vt_amd_name *n, uint64_t serial, const char *cn, X509 *ark,
                    EVP_PKEY *ark_key, EVP_PKEY *key, int64_t nb, int64_t na, X509 **ret,
                    struct vt_diag *d)
{
        _cleanup_(X509_freep) X509 *x = NULL;
        int e;
        if ((e = vt_amd_cert_new(n, serial, cn, ark, key, nb, na, &x, d)) < 0 ||
            (e = vt_amd_add_conf_ext(x, ark, NID_basic_constraints, "critical,CA:TRUE,pathlen:0",
                                     d)) < 0 ||
            (e = vt_amd_add_conf_ext(x, ark, NID_key_usage, "critical,keyCertSign,cRLSign", d)) <
                    0 ||
            (e = vt_amd_sign_cert(x, ark_key, d)) < 0)
                return e;
        *ret = TAKE_PTR(x);
        return 0;
}

int vt_amd_issue_leaf(const struct vt_amd_name *n, const struct vt_amd_leaf *l, X509 *issuer,
                      EVP_PKEY *issuer_key, EVP_PKEY *key, X509 **ret, struct vt_diag *d)
{
        _cleanup_(X509_freep) X509 *x = NULL;
        int e;

        if ((e = vt_amd_cert_new(n, l->serial, l->cn, issuer, key, l->not_before, l->not_after, &x,
                                 d)) < 0)
                return e;
        if (l->struct_version >= 0 &&
            (e = vt_amd_add_int_ext(x, VT_AMD_OID "1", (uint8_t)l->struct_version, d)) < 0)
                return e;
        if (l->product && l->product[0] &&
            (e = vt_amd_add_ia5_ext(x, VT_AMD_OID "2", l->product, d)) < 0)
                return e;
        if ((e = vt_amd_add_int_ext(x, VT_AMD_OID "3.1", l->bl, d)) < 0 ||
            (e = vt_amd_add_int_ext(x, VT_AMD_OID "3.2", l->tee, d)) < 0 ||
            (e = vt_amd_add_int_ext(x, VT_AMD_OID "3.3", l->snp, d)) < 0)
                return e;
        if (l->reserved_spls)
                if ((e = vt_amd_add_int_ext(x, VT_AMD_OID "3.4", 0, d)) < 0 ||
                    (e = vt_amd_add_int_ext(x, VT_AMD_OID "3.5", 0, d)) < 0 ||
                    (e = vt_amd_add_int_ext(x, VT_AMD_OID "3.6", 0, d)) < 0 ||
                    (e = vt_amd_add_int_ext(x, VT_AMD_OID "3.7", 0, d)) < 0)
                        return e;
        if ((e = vt_amd_add_int_ext(x, VT_AMD_OID "3.8", l->ucode, d)) < 0)
                return e;
        if (l->fmc >= 0 && (e = vt_amd_add_int_ext(x, VT_AMD_OID "3.9", (uint8_t)l->fmc, d)) < 0)
                return e;
        if (l->hwid && (e = vt_amd_add_raw_ext(x, VT_AMD_OID "4", l->hwid, l->hwid_len, d)) < 0)
                return e;
        if (l->csp_id && (e = vt_amd_add_ia5_ext(x, VT_AMD_OID "5", l->csp_id, d)) < 0)
                return e;
        if ((e = vt_amd_sign_cert(x, issuer_key, d)) < 0)
                return e;
        *ret = TAKE_PTR(x);
        return 0;
}

uint64_t vt_amd_tcb_raw(uint8_t fmc, uint8_t bl, uint8_t tee, uint8_t snp, uint8_t ucode,
                        bool turin)
{
        if (turin)
                return (uint64_t)fmc | (uint64_t)bl << 8 | (uint64_t)tee << 16 |
                       (uint64_t)snp << 24 | (uint64_t)ucode << 56;
        return (uint64_t)bl | (uint64_t)tee << 8 | (uint64_t)snp << 48 | (uint64_t)ucode << 56;
}

static void put_bytes(uint8_t *p, const uint8_t *src, size_t n)
{
        if (src)
                memcpy(p, src, n);
}

void vt_amd_report_build(const struct vt_amd_report *r, uint8_t rep[VT_SNP_REPORT_SIZE])
{
        const uint8_t fw[3] = {r->fw_build, r->fw_minor, r->fw_major};

        memset(rep, 0, VT_SNP_REPORT_SIZE);
        vt_put_u32le(rep + 0x000, r->version);
        vt_put_u32le(rep + 0x004, r->guest_svn);
        vt_put_u64le(rep + 0x008, r->policy);
        put_bytes(rep + 0x010, r->family_id, 16);
        put_bytes(rep + 0x020, r->image_id, 16);
        vt_put_u32le(rep + 0x030, r->vmpl);
        vt_put_u32le(rep + 0x034, 1);      /* ECDSA P-384 with SHA-384 */
        vt_put_u64le(rep + 0x038, r->tcb); /* current */
        vt_put_u64le(rep + 0x040, r->platform_info);
        vt_put_u32le(rep + 0x048, (r->signing_key & 7) << 2);
        put_bytes(rep + 0x050, r->report_data, 64);
        put_bytes(rep + 0x090, r->measurement, 48);
        put_bytes(rep + 0x0c0, r->host_data, 32);
        /* 0x0e0 ID_KEY_DIGEST, 0x110 AUTHOR_KEY_DIGEST: no ID block */
        put_bytes(rep + 0x140, r->report_id, 32);
        memset(rep + 0x160, 0xff, 32);     /* REPORT_ID_MA: no migration agent */
        vt_put_u64le(rep + 0x180, r->tcb); /* reported */
        if (r->version >= 3) {
                rep[0x188] = r->cpuid_fam;
                rep[0x189] = r->cpuid_mod;
                rep[0x18a] = r->cpuid_step;
        }
        put_bytes(rep + 0x1a0, r->chip_id, 64);
        vt_put_u64le(rep + 0x1e0, r->tcb); /* committed */
        memcpy(rep + 0x1e8, fw, 3);        /* current build, minor, major */
        memcpy(rep + 0x1ec, fw, 3);        /* committed */
        vt_put_u64le(rep + 0x1f0, r->tcb); /* launch */
}

int vt_amd_report_sign(uint8_t rep[VT_SNP_REPORT_SIZE], EVP_PKEY *key, struct vt_diag *d)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = NULL;
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
        uint8_t der[256];
        size_t dl = sizeof(der);
        int e;

        if ((e = vt_amd_sign_ctx(key, &m, d)) < 0)
                return e;
        if (EVP_DigestSign(m, der, &dl, rep, VT_SNP_SIGNED_SIZE) != 1)
                return crypto_fail(d, "cannot sign the report");
        const uint8_t *p = der;
        sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
        if (!sig)
                return crypto_fail(d, "cannot decode the report signature");
        memset(rep + VT_SNP_SIGNED_SIZE, 0, VT_SNP_REPORT_SIZE - VT_SNP_SIGNED_SIZE);
        if (BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), rep + 0x2a0, 72) != 72 ||
            BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), rep + 0x2e8, 72) != 72)
                return crypto_fail(d, "cannot store the report signature");
        return 0;
}
