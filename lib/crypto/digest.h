/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fingerprints of evidence fields for rejection reasons. Logs never carry raw evidence
 * (docs/configuration.md): where a reason must say which value it saw (report_data,
 * host_data, a TPM quote's extraData, ...), it names a fingerprint instead, which an
 * operator can recompute from a value they hold but which gives nothing of the value away.
 */
#ifndef VT_CRYPTO_DIGEST_H
#define VT_CRYPTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "util/json_parse.h"

/* vt_sha256 returns SHA-256 fetched once for the process: EVP_sha256() makes OpenSSL 3 look
 * the implementation up again at every digest, under a lock that busy threads queue on
 * (the ledger's appenders, the issued-token cache). Thread-safe. */
const EVP_MD *vt_sha256(void);
/* vt_sha384: the same for SHA-384 (an SNP report's digest, the KBS runtime-data binding). */
const EVP_MD *vt_sha384(void);
/* vt_aes_256_gcm and vt_aes_256_wrap: the ciphers, fetched once in the same way (the JWE's
 * content and key wrap, the sealed resources). Thread-safe. All four are freed by
 * OpenSSL's cleanup at exit. */
const EVP_CIPHER *vt_aes_256_gcm(void);
const EVP_CIPHER *vt_aes_256_wrap(void);

/* "sha256:" and 16 hex digits, and a NUL */
#define VT_FINGERPRINT_LEN 24

/* vt_fingerprint writes "sha256:" and the first 8 bytes of SHA-256(p[0..n)) in lowercase
 * hex into out and returns out ("sha256:?" if hashing fails). Thread-safe. */
const char *vt_fingerprint(const uint8_t *p, size_t n, char out[static VT_FINGERPRINT_LEN]);

/* vt_jcs_digest hashes the RFC 8785 canonical form of v with md into out (out_len bytes,
 * exactly md's size), the text streamed into the hash as it is written (vt_jcs_write): no
 * copy of it is held, however large v is. VT_E_INVAL for a wrong out_len, JCS's errors for
 * what JCS refuses, VT_E_NOMEM (also for a failed hash update) or VT_E_CRYPTO when OpenSSL
 * fails. Thread-safe for values nobody modifies. */
int vt_jcs_digest(const json_t *v, const EVP_MD *md, uint8_t *out, size_t out_len);

/* vt_jcs_digest_spans is vt_jcs_digest through vt_jcs_write_spans: for a tree that
 * vt_json_parse_spans read into spans and that is unchanged since. */
int vt_jcs_digest_spans(const json_t *v, const struct vt_json_spans *spans, const EVP_MD *md,
                        uint8_t *out, size_t out_len);

#endif
