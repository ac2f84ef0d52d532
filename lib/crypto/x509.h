/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL wrappers for certificates, CRLs and signatures (internal). */
#ifndef VT_CRYPTO_X509_H
#define VT_CRYPTO_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/openssl-util.h"
#include "util/macro.h"

/* Caps on untrusted certificate input. */
#define VT_CERT_MAX_BYTES  (64u * 1024u)
#define VT_CHAIN_MAX_CERTS 8

/* vt_x509_parse_one parses exactly one certificate, PEM or DER (whole input must be
 * consumed for DER). */
int vt_x509_parse_one(const uint8_t *buf, size_t len, X509 **ret);
/* vt_x509_parse_many parses a PEM bundle (up to VT_CHAIN_MAX_CERTS) or one DER cert. */
int vt_x509_parse_many(const uint8_t *buf, size_t len, STACK_OF(X509) * *ret);
/* vt_crl_parse parses one CRL, PEM or DER. */
int vt_crl_parse(const uint8_t *buf, size_t len, X509_CRL **ret);

/* vt_x509_cn copies the subject (issuer) commonName into buf; "" if none. */
void vt_x509_subject_cn(X509 *x, char *buf, size_t cap);
void vt_x509_issuer_cn(X509 *x, char *buf, size_t cap);

/* vt_asn1_time_epoch converts an ASN.1 time to seconds since the epoch. */
int vt_asn1_time_epoch(const ASN1_TIME *t, int64_t *ret);

/* vt_crl_is_pss384 returns 1 if the CRL is signed with RSASSA-PSS and SHA-384. */
int vt_crl_is_pss384(const X509_CRL *crl);

/* vt_x509_window returns notBefore/notAfter as seconds since the epoch. */
int vt_x509_window(X509 *x, int64_t *ret_not_before, int64_t *ret_not_after);

/* vt_x509_ext_data finds the extension with dotted OID and returns its raw value
 * (the OCTET STRING contents; borrowed from x). VT_E_NOTFOUND if absent. */
int vt_x509_ext_data(X509 *x, const char *oid, const uint8_t **ret, size_t *ret_len);

/* vt_x509_spki_sha256 hashes the DER SubjectPublicKeyInfo of x. */
int vt_x509_spki_sha256(X509 *x, uint8_t out[32]);

/* vt_x509_der_sha256 hashes the DER encoding of x. */
int vt_x509_der_sha256(X509 *x, uint8_t out[32]);

/* vt_x509_verify_rsa_pss_sha384 checks that x is signed by issuer_key with
 * RSASSA-PSS/SHA-384 (the AMD chain's algorithm); VT_E_CHAIN otherwise. */
int vt_x509_verify_pss384(X509 *x, EVP_PKEY *issuer_key);

/* vt_ecdsa_verify_rs verifies an ECDSA signature given as big-endian r and s of
 * n bytes each over a precomputed digest. VT_E_SIGNATURE on mismatch. */
int vt_ecdsa_verify_rs(EVP_PKEY *key, const uint8_t *digest, size_t dlen, const uint8_t *r,
                       const uint8_t *s, size_t n);

/* vt_ecdsa_verify_rs_seen is vt_ecdsa_verify_rs with what vt_ecfix_key_of filled known with
 * for key (crypto/ecfixed.h; NULL: looked at here), for a caller that keeps the key: its
 * curve and point are not asked of the key at every verification. */
struct vt_ecfix_key;
int vt_ecdsa_verify_rs_seen(EVP_PKEY *key, const struct vt_ecfix_key *known, const uint8_t *digest,
                            size_t dlen, const uint8_t *r, const uint8_t *s, size_t n);

/* vt_ec_curve_nid returns the curve NID of an EC key, or NID_undef. */
int vt_ec_curve_nid(EVP_PKEY *key);

/* vt_openssl_reason returns the newest OpenSSL error string (and clears the queue). */
const char *vt_openssl_reason(char *buf, size_t cap);

#endif
