/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCSP for the NVIDIA device chain (internal): one response about one certificate, checked
 * the way NVIDIA's verifiers do (../shared/notes/nvidia-gpu.md §3.1): the response's
 * signature by its signer, the signer's chain to the trust store (the pinned root), the signer
 * authorised for the certificate's issuer, the CertID (SHA-1 or SHA-384), status good, and the
 * window thisUpdate .. nextUpdate (+ a bounded grace) around the verification time.
 */
#ifndef VT_VERIFY_NVIDIA_OCSP_H
#define VT_VERIFY_NVIDIA_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "veritee/veritee.h"

#define VT_NV_OCSP_MAX_BYTES (64u * 1024u)
#define VT_NV_OCSP_MAX_GRACE (7 * 24 * 3600)
/* A response without nextUpdate is taken as valid for an hour after thisUpdate (as NVAT). */
#define VT_NV_OCSP_DEFAULT_TTL 3600
/* Clock skew tolerated on thisUpdate in the future. */
#define VT_NV_OCSP_SKEW 300

struct vt_nv_ocsp_status {
        int64_t this_update, next_update; /* next_update: thisUpdate + TTL when absent */
        int status;                       /* V_OCSP_CERTSTATUS_GOOD / _REVOKED / _UNKNOWN */
        int reason;                       /* revocation reason, or -1 */
};

/* vt_nv_ocsp_check checks the DER OCSP response der[0..len) about `cert` (issued by `issuer`)
 * at time `at`, with `root` the only trust anchor and `untrusted` (may be NULL) the
 * certificates that may complete the signer's chain. Returns 0 when the status is good and
 * at <= nextUpdate + grace; VT_E_NOTFOUND when the response is about another certificate;
 * VT_E_FORMAT (not an OCSP response, or an unsuccessful one), VT_E_SIGNATURE (signature or
 * signer), VT_E_REVOKED (revoked or unknown: the reason names it), VT_E_EXPIRED (past
 * nextUpdate + grace, or thisUpdate in the future). *ret (may be NULL) gets the status
 * whenever the response was authentic. Thread-safe. */
int vt_nv_ocsp_check(const uint8_t *der, size_t len, X509 *cert, X509 *issuer, X509 *root,
                     STACK_OF(X509) * untrusted, int64_t at, int64_t grace,
                     struct vt_nv_ocsp_status *ret, struct vt_diag *d);

/* vt_nv_ocsp_request builds a DER OCSP request for cert (issued by issuer) without a nonce
 * (so that responses can be cached and shared), CertID with SHA-1 as NVAT. Caller frees
 * *ret with OPENSSL_free. */
int vt_nv_ocsp_request(X509 *cert, X509 *issuer, uint8_t **ret, size_t *ret_len);

#endif
