/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An AMD-shaped SEV-SNP test PKI built with OpenSSL 3: ARK (self-signed RSA,
 * RSASSA-PSS SHA-384/MGF1-SHA-384/salt 48) -> ASK -> VCEK (EC P-384 with the AMD
 * 1.3.6.1.4.1.3704.1.* extensions), signed SNP reports and ARK-signed CRLs.
 * Only for tests: the keys are not protected. The certificates and reports come from
 * the one builder the simulator uses too (lib/sim/amdchain.h); this file adds the test
 * defaults (names, windows, serials), CRLs and exports.
 * Functions return 0 or a negative VT_E_* code (VT_E_CRYPTO for OpenSSL failures).
 */
#ifndef VT_TEST_SNPCHAIN_H
#define VT_TEST_SNPCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "veritee/snp.h"

struct snpchain {
        char product[16]; /* "Milan": CNs are ARK-<product> and SEV-<product> */
        EVP_PKEY *ark_key, *ask_key;
        X509 *ark, *ask;
};

struct snpchain_opts {
        const char *product;             /* NULL: "Milan" */
        int rsa_bits;                    /* 0: 2048 (AMD uses 4096; tests want speed) */
        int64_t not_before, not_after;   /* 0: 2020-01-01 .. 2045-01-01 */
        uint64_t ark_serial, ask_serial; /* 0: 0x10000 and 0x10001, as AMD's Milan */
};

/* snpchain_new generates the ARK and ASK keys and certificates. o may be NULL.
 * Free with snpchain_free. */
int snpchain_new(const struct snpchain_opts *o, struct snpchain **ret);
void snpchain_free(struct snpchain *c);

/* snpchain_issue_ca issues a CA certificate (basicConstraints CA, pathlen 0,
 * keyUsage keyCertSign+cRLSign) for key, signed by the ARK with RSA-PSS. Used for
 * the ASK; an ASVK is the same with CN "SEV-VLEK-<product>". */
int snpchain_issue_ca(const struct snpchain *c, const char *cn, uint64_t serial, EVP_PKEY *key,
                      int64_t not_before, int64_t not_after, X509 **ret);

/* TCB parts. fmc < 0: no fmcSPL extension, legacy (Milan/Genoa) layout. */
struct snpchain_tcb {
        uint8_t bl, tee, snp, ucode;
        int fmc;
};

/* snpchain_tcb_raw packs t into a TCB_VERSION: legacy layout (byte0 bl, byte1 tee,
 * byte6 snp, byte7 ucode) or, with turin, fmc/bl/tee/snp in bytes 0-3. */
uint64_t snpchain_tcb_raw(const struct snpchain_tcb *t, bool turin);

struct snpchain_vcek_opts {
        struct snpchain_tcb tcb;
        const uint8_t *hwid; /* raw bytes in the .4 extension; NULL: no hwID */
        size_t hwid_len;
        const char *product_name;      /* NULL: "<product>-B0"; "" : no .2 extension */
        int struct_version;            /* .1 value; < 0: absent */
        const char *cn;                /* NULL: "SEV-VCEK" */
        const char *csp_id;            /* VLEK .5 extension; NULL: absent */
        uint64_t serial;               /* AMD uses 0 */
        int64_t not_before, not_after; /* 0: 2024-01-01 .. 2031-01-01 */
        EVP_PKEY *issuer_key;          /* NULL: the chain's ASK */
        X509 *issuer;                  /* NULL: the chain's ASK */
};

/* snpchain_vcek_opts_init fills o with a Milan VCEK for tcb and a 64-byte hwid
 * (borrowed). */
void snpchain_vcek_opts_init(struct snpchain_vcek_opts *o, const struct snpchain_tcb *tcb,
                             const uint8_t *hwid, size_t hwid_len);

/* snpchain_issue_vcek certifies the public part of key (borrowed) as a leaf. */
int snpchain_issue_vcek(const struct snpchain *c, const struct snpchain_vcek_opts *o, EVP_PKEY *key,
                        X509 **ret);

/* snpchain_new_p384 generates an EC P-384 key. */
int snpchain_new_p384(EVP_PKEY **ret);
/* snpchain_new_rsa generates an RSA key of bits bits. */
int snpchain_new_rsa(int bits, EVP_PKEY **ret);

struct snpchain_report_opts {
        uint32_t version;                         /* 0: 3 */
        uint8_t cpuid_fam, cpuid_mod, cpuid_step; /* v3+; all 0: 0x19/0x01/0x01 (Milan) */
        uint64_t policy;                          /* 0: 0x30000 */
        uint32_t vmpl;
        uint32_t signing_key;                 /* 0 VCEK, 1 VLEK */
        uint64_t reported_tcb;                /* also current, committed and launch TCB */
        const uint8_t *chip_id;               /* 64 bytes; NULL: all zero (masked) */
        const uint8_t *report_data;           /* 64 bytes; NULL: all zero */
        const uint8_t *measurement;           /* 48 bytes; NULL: all zero */
        uint8_t fw_major, fw_minor, fw_build; /* current = committed; all 0: 1.55.29 */
};

/* snpchain_report_build writes an unsigned 1184-byte report (signature area zero). */
void snpchain_report_build(const struct snpchain_report_opts *o, uint8_t rep[VT_SNP_REPORT_SIZE]);

/* snpchain_report_sign signs SHA-384(rep[0..0x29f]) with the P-384 key and stores R
 * and S as 72-byte little-endian fields at 0x2a0 and 0x2e8. */
int snpchain_report_sign(uint8_t rep[VT_SNP_REPORT_SIZE], EVP_PKEY *key);

struct snpchain_crl_opts {
        EVP_PKEY *signer;        /* NULL: the ARK key; RSA keys sign with PSS */
        const char *issuer_cn;   /* NULL: the ARK's subject name */
        const uint64_t *revoked; /* serials to list */
        size_t n_revoked;
        int64_t last_update; /* 0: 2025-01-01 */
        int64_t next_update; /* 0: 2035-01-01; < 0: omitted */
};

/* snpchain_crl builds a v2 CRL. o may be NULL (an empty CRL signed by the ARK). */
int snpchain_crl(const struct snpchain *c, const struct snpchain_crl_opts *o, X509_CRL **ret);

/* Exports into malloc'd buffers (one extra NUL byte after the data). */
int snpchain_cert_der(X509 *x, uint8_t **ret, size_t *ret_len);
int snpchain_cert_pem(X509 *x, uint8_t **ret, size_t *ret_len);
int snpchain_crl_der(X509_CRL *crl, uint8_t **ret, size_t *ret_len);
int snpchain_crl_pem(X509_CRL *crl, uint8_t **ret, size_t *ret_len);
/* snpchain_root_bundle_pem writes the ARK then the ASK, PEM (for
 * vt_snp_verifier_add_root). */
int snpchain_root_bundle_pem(const struct snpchain *c, uint8_t **ret, size_t *ret_len);

#endif
