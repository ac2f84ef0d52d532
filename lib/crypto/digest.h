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

/* "sha256:" and 16 hex digits, and a NUL */
#define VT_FINGERPRINT_LEN 24

/* vt_fingerprint writes "sha256:" and the first 8 bytes of SHA-256(p[0..n)) in lowercase
 * hex into out and returns out ("sha256:?" if hashing fails). Thread-safe. */
const char *vt_fingerprint(const uint8_t *p, size_t n, char out[static VT_FINGERPRINT_LEN]);

#endif
