/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one builder of AMD-shaped SEV-SNP certificates and reports, used by the
 * simulator (sim.c) and by the tests (tests/helpers/snpchain.c): ARK (self-signed
 * RSA) -> ASK/ASVK -> VCEK/VLEK (EC P-384 with the 1.3.6.1.4.1.3704.1.* extensions),
 * all signed with RSASSA-PSS, SHA-384, MGF1-SHA-384 and a 48-byte salt (AMD's
 * parameters, the only ones the verifier accepts); version-3 report bodies and their
 * ECDSA P-384 signature. The callers choose names, serials, windows and keys (the
 * tests also make deliberately wrong ones with these same functions).
 * Internal to lib/ and tests; not exported. Functions return 0 or a negative VT_E_*,
 * the reason ("sim: ...") in d; all are thread-safe.
 */
#ifndef VT_SIM_AMDCHAIN_H
#define VT_SIM_AMDCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "veritee/snp.h"

#define VT_AMD_OID "1.3.6.1.4.1.3704.1."

/* The subject name of every certificate of a chain but its CN: OU, C (NULL: none), O. */
struct vt_amd_name {
        const char *ou, *c, *o;
};

/* vt_amd_name_new makes the X509_NAME n with CN cn. */
int vt_amd_name_new(const struct vt_amd_name *n, const char *cn, X509_NAME **ret,
                    struct vt_diag *d);

/* vt_amd_cert_new makes a v3 certificate without extensions: serial, the name n with
 * CN cn, issued by issuer (NULL: self-issued), for the public part of pub, valid from
 * nb to na (seconds since the epoch). Unsigned. */
int vt_amd_cert_new(const struct vt_amd_name *n, uint64_t serial, const char *cn, X509 *issuer,
                    EVP_PKEY *pub, int64_t nb, int64_t na, X509 **ret, struct vt_diag *d);

/* vt_amd_add_conf_ext adds the extension nid with OpenSSL's config value ("critical,
 * CA:TRUE"), with issuer (NULL: x itself) as the issuer of x. */
int vt_amd_add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value, struct vt_diag *d);

/* vt_amd_add_raw_ext adds a non-critical extension oid whose OCTET STRING holds
 * exactly der[0..len). */
int vt_amd_add_raw_ext(X509 *x, const char *oid, const uint8_t *der, size_t len, struct vt_diag *d);

/* vt_amd_der_small_int writes the DER INTEGER 0..255 as KDS does (02 01 v, or
 * 02 02 00 v from 0x80 on) into der and returns its length (3 or 4). */
size_t vt_amd_der_small_int(uint8_t v, uint8_t der[static 4]);

/* vt_amd_add_int_ext and vt_amd_add_ia5_ext add an AMD extension holding a small
 * DER INTEGER or an IA5String (at most 127 bytes). */
int vt_amd_add_int_ext(X509 *x, const char *oid, uint8_t v, struct vt_diag *d);
int vt_amd_add_ia5_ext(X509 *x, const char *oid, const char *s, struct vt_diag *d);

/* vt_amd_sign_ctx returns a SHA-384 digest-sign context for key: RSASSA-PSS with
 * MGF1-SHA-384 and a 48-byte salt for RSA keys, plain ECDSA otherwise. */
int vt_amd_sign_ctx(EVP_PKEY *key, EVP_MD_CTX **ret, struct vt_diag *d);

/* vt_amd_sign_cert signs x with key (vt_amd_sign_ctx). */
int vt_amd_sign_cert(X509 *x, EVP_PKEY *key, struct vt_diag *d);

/* vt_amd_issue_ark makes the self-signed ARK of key: basicConstraints critical CA,
 * keyUsage critical keyCertSign and cRLSign. */
int vt_amd_issue_ark(const struct vt_amd_name *n, uint64_t serial, const char *cn, EVP_PKEY *key,
                     int64_t nb, int64_t na, X509 **ret, struct vt_diag *d);

/* vt_amd_issue_ca makes an intermediate (ASK, ASVK) for key, signed by ark/ark_key:
 * basicConstraints critical CA with pathlen 0, keyUsage as the ARK's. */
int vt_amd_issue_ca(const struct vt_amd_name *n, uint64_t serial, const char *cn, X509 *ark,
                    EVP_PKEY *ark_key, EVP_PKEY *key, int64_t nb, int64_t na, X509 **ret,
                    struct vt_diag *d);

/* vt_amd_tcb_raw packs a TCB_VERSION: the Milan/Genoa layout (byte 0 bootloader, 1 tee,
 * 6 snp, 7 microcode) or, with turin, fmc/bl/tee/snp in bytes 0-3 and microcode in 7. */
uint64_t vt_amd_tcb_raw(uint8_t fmc, uint8_t bl, uint8_t tee, uint8_t snp, uint8_t ucode,
                        bool turin);

/* What a VCEK or VLEK certifies. */
struct vt_amd_leaf {
        const char *cn;  /* "SEV-VCEK" */
        uint64_t serial; /* KDS uses 0 */
        int64_t not_before, not_after;
        int struct_version;          /* the .1 extension; < 0: absent */
        const char *product;         /* the .2 extension ("Milan-B0"); NULL or "": absent */
        uint8_t bl, tee, snp, ucode; /* the .3.1, .3.2, .3.3 and .3.8 SPLs */
        bool reserved_spls;          /* also .3.4 to .3.7, as 0 (as KDS writes them) */
        int fmc;                     /* the .3.9 fmcSPL; < 0: absent */
        const uint8_t *hwid;         /* the .4 extension, raw; NULL: absent */
        size_t hwid_len;
        const char *csp_id; /* the .5 extension of a VLEK; NULL: absent */
};

/* vt_amd_issue_leaf certifies the public part of key as l says, signed by
 * issuer/issuer_key. No keyUsage or basicConstraints, as KDS issues them. */
int vt_amd_issue_leaf(const struct vt_amd_name *n, const struct vt_amd_leaf *l, X509 *issuer,
                      EVP_PKEY *issuer_key, EVP_PKEY *key, X509 **ret, struct vt_diag *d);

/* The fields of a report body; NULL pointers leave their bytes zero. */
struct vt_amd_report {
        uint32_t version;
        uint32_t guest_svn;
        uint64_t policy;
        const uint8_t *family_id, *image_id; /* 16 bytes each */
        uint32_t vmpl;
        uint64_t tcb; /* current, reported, committed and launch TCB */
        uint64_t platform_info;
        uint32_t signing_key;                     /* 0 VCEK, 1 VLEK (bits 4:2 of 0x048) */
        const uint8_t *report_data;               /* 64 bytes */
        const uint8_t *measurement;               /* 48 bytes */
        const uint8_t *host_data;                 /* 32 bytes */
        const uint8_t *report_id;                 /* 32 bytes */
        const uint8_t *chip_id;                   /* 64 bytes */
        uint8_t cpuid_fam, cpuid_mod, cpuid_step; /* written from version 3 on */
        uint8_t fw_major, fw_minor, fw_build;     /* current = committed */
};

/* vt_amd_report_build writes the unsigned 1184-byte report of r (signature area zero;
 * REPORT_ID_MA all 0xff, no migration agent; signature algorithm 1, ECDSA P-384). */
void vt_amd_report_build(const struct vt_amd_report *r, uint8_t rep[VT_SNP_REPORT_SIZE]);

/* vt_amd_report_sign signs SHA-384(rep[0..0x29f]) with key (ECDSA) and stores R and S
 * as 72-byte little-endian fields at 0x2a0 and 0x2e8. */
int vt_amd_report_sign(uint8_t rep[VT_SNP_REPORT_SIZE], EVP_PKEY *key, struct vt_diag *d);

#endif
