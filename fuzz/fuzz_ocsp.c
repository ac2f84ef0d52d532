/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an OCSP response about an intermediate of an NVIDIA device chain,
 * vt_nv_ocsp_check (lib/verify/nvidia_ocsp.c). A P-384 root, an issuer and a certificate are
 * made at start-up (test-made, not NVIDIA's); no fuzzed input can sign under them, so the
 * target reaches the DER parser, the response status, the CertID lookup (SHA-1, SHA-384,
 * SHA-256) and the signer checks. Its promises: only the documented errors, each with a reason;
 * success only for a good status. Seeds: fuzz/corpus/ocsp/seed-* (scripts/gen-fuzz-seeds.sh,
 * made with `openssl ocsp` under a throw-away CA).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "verify/nvidia_ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *root, *issuer, *cert;

static X509 *make(const char *cn, EVP_PKEY *key, X509 *by, EVP_PKEY *by_key, long serial)
{
        X509 *x = X509_new();
        X509_NAME *n = X509_NAME_new();
        if (!x || !n)
                abort();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_subject_name(x, n);
        X509_set_issuer_name(x, by ? X509_get_subject_name(by) : n);
        X509_NAME_free(n);
        X509_gmtime_adj(X509_getm_notBefore(x), -86400);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
        X509_set_pubkey(x, key);
        if (X509_sign(x, by_key ? by_key : key, EVP_sha384()) <= 0)
                abort();
        return x;
}

static void setup(void)
{
        EVP_PKEY *k0 = EVP_EC_gen("P-384"), *k1 = EVP_EC_gen("P-384"), *k2 = EVP_EC_gen("P-384");
        if (!k0 || !k1 || !k2)
                abort();
        root = make("FUZZ root", k0, NULL, NULL, 1);
        issuer = make("FUZZ-CA", k1, root, k0, 2);
        cert = make("FUZZ-ICA", k2, issuer, k1, 3);
        EVP_PKEY_free(k0);
        EVP_PKEY_free(k1);
        EVP_PKEY_free(k2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!root)
                setup();
        struct vt_nv_ocsp_status st = {0};
        struct vt_diag d = {0};
        int e = vt_nv_ocsp_check(data, size, cert, issuer, root, NULL, (int64_t)time(NULL), 3600,
                                 &st, &d);
        switch (e) {
        case 0:
                if (st.status != V_OCSP_CERTSTATUS_GOOD)
                        abort();
                break;
        case VT_E_NOTFOUND:
        case VT_E_FORMAT:
        case VT_E_SIGNATURE:
        case VT_E_REVOKED:
        case VT_E_EXPIRED:
        case VT_E_NOMEM:
                if (e != VT_E_NOMEM && !d.msg[0])
                        abort();
                break;
        default:
                abort();
        }
        return 0;
}
