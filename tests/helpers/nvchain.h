/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TEST-MADE NVIDIA-shaped device chains for tests. No NVIDIA key signs anything here: a
 * P-384 chain shaped like NVIDIA's (root "TEST NVIDIA Device Identity CA", Identity CA,
 * Provisioner ICA, BROM, FMC leaf with the Hopper FWID extension, O=TEST-MADE) is made with
 * OpenSSL's API, and a recorded Hopper report is re-signed with the test leaf (its request
 * nonce replaced first, inside the signed range). A verifier only accepts it with the test
 * root set (vt_nv_verifier_set_root, attestation.nvidia_test_root), and its claims then say
 * "x-nvidia-gpu-attestation-report-cert-chain-root": "extra (not NVIDIA)".
 */
#ifndef VT_TEST_NVCHAIN_H
#define VT_TEST_NVCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "veritee/nvidia.h"

struct nvchain_node {
        EVP_PKEY *key;
        X509 *cert;
};

/* n[0] root, n[1] identity, n[2] ICA, n[3] BROM, n[4] leaf */
struct nvchain {
        struct nvchain_node n[5];
        int64_t now; /* certificates are valid from now - 1 day for 10 years */
};

/* nvchain_p384 makes a P-384 key; nvchain_cert a certificate (O=TEST-MADE) for key, valid
 * from now - 1 day for 10 years, issued by issuer (NULL: self-signed), a CA or not, with an
 * extended key usage (OpenSSL's spelling, NULL: none). Both fail the test on error. */
EVP_PKEY *nvchain_p384(void);
X509 *nvchain_cert(int64_t now, const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                   bool ca, const char *eku, long serial);
/* nvchain_make makes a chain whose leaf carries fwid (48 bytes). Fails the test on error. */
void nvchain_make(struct nvchain *c, int64_t now, const uint8_t fwid[48]);
void nvchain_free(struct nvchain *c);
/* nvchain_set_leaf_fwid rebuilds the leaf (same key, same serial) with another FWID. */
void nvchain_set_leaf_fwid(struct nvchain *c, const uint8_t fwid[48]);
/* nvchain_resign sets the report's request nonce (offset 4 of the 37-byte request; NULL:
 * keep it) and re-signs the signed range with the leaf key (ECDSA P-384, SHA-384). */
void nvchain_resign(const struct nvchain *c, struct vt_nv_report *rep, const uint8_t *nonce);
/* nvchain_pem returns the chain as PEM, leaf first (malloc'd, NUL-terminated; *len without
 * the NUL); nvchain_root_pem the root alone. */
char *nvchain_pem(const struct nvchain *c, size_t *len);
char *nvchain_root_pem(const struct nvchain *c, size_t *len);
/* nvchain_hopper loads the recorded Hopper 550.90.07 report (testdata
 * nvidia/gpu/hopper_550.90.07/report.hex; the test is skipped without it), rebuilds c's
 * leaf with the report's FWID and re-signs it with nonce (NULL: the recorded one). */
struct vt_nv_report *nvchain_hopper(struct nvchain *c, const uint8_t *nonce);

#endif
