/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bodies of the Azure-compatible API's requests, taken apart and checked before the
 * server acts on them (issue 14; ../shared/notes/azure-apis.md sections 1 and 3): Microsoft
 * Azure Attestation's POST /attest/{type} and Key Vault's key create, import and release.
 * Untrusted JSON in, plain structs out; no I/O, no key is made here (an imported private
 * JWK is turned into a key by lib/crypto's one JWK module). Fuzzed by
 * fuzz/fuzz_azure_request.c.
 */
#ifndef VT_AZURE_REQUEST_H
#define VT_AZURE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "veritee/veritee.h"

#define VT_AZ_MAX_EVIDENCE (1u << 20)    /* a decoded quote or report field */
#define VT_AZ_MAX_DATA     (64u * 1024u) /* runtimeData, initTimeData */
#define VT_AZ_MAX_CHAIN    (64u * 1024u) /* VcekCertChain (PEM) */
#define VT_AZ_MAX_TARGET   (64u * 1024u) /* a release's target token */
#define VT_AZ_OE_HEADER    16u           /* Open Enclave's oe_report_header_t */

/* The attestation types of MAA's /attest/{type}. */
enum vt_az_type {
        VT_AZ_SGX,
        VT_AZ_OPEN_ENCLAVE,
        VT_AZ_SNP,
        VT_AZ_TDX,
        _VT_AZ_TYPE_MAX,
};

/* vt_az_type_name is the path segment of t ("SgxEnclave", ...). */
const char *vt_az_type_name(enum vt_az_type t);
/* vt_az_type_from_path matches a path segment case-insensitively (the sidecar writes
 * "SevSnpVM"); VT_E_NOTFOUND for another. */
int vt_az_type_from_path(const char *segment, enum vt_az_type *ret);

/* runtimeData / initTimeData: {"data": base64url, "dataType": "Binary" | "JSON"}. */
struct vt_az_data {
        bool present;
        uint8_t *bytes;
        size_t len;
        json_t *json; /* dataType JSON: the parsed data, else NULL */
        uint8_t sha256[32];
};

/* An attest request. The evidence is the DCAP quote (SgxEnclave, TdxVm; OpenEnclave with
 * its 16-byte report header checked and removed) or the SEV-SNP report of SevSnpVm's
 * {"SnpReport", "VcekCertChain"} (exactly VT_SNP_REPORT_SIZE bytes), with the chain (PEM
 * text) in chain. Nothing here is verified: the bytes go to lib/attest. */
struct vt_az_attest_request {
        enum vt_az_type type;
        uint8_t *evidence;
        size_t evidence_len;
        uint8_t *chain; /* SevSnpVm: VcekCertChain, NUL-terminated; else NULL */
        size_t chain_len;
        struct vt_az_data runtime, init;
        char *nonce; /* a string, or the text of an integer (the sidecar's); NULL: none */
};

/* vt_az_attest_request_parse takes the body of POST /attest/{type} apart: the evidence
 * field ("quote", or "report" for SevSnpVm and OpenEnclave) in base64url or base64,
 * padded or not; runtimeData and initTimeData with the SHA-256 of their bytes; nonce. What
 * the evidence is (an SGX or a TDX quote), and whether initTimeData can be bound to it
 * (SevSnpVm and TdxVm only), is for the caller to find, by parsing it. VT_E_FORMAT (VT_E_NOMEM)
 * with the check that failed in d; *ret is written only on success. */
int vt_az_attest_request_parse(enum vt_az_type type, const uint8_t *body, size_t len,
                               struct vt_az_attest_request *ret, struct vt_diag *d);
void vt_az_attest_request_done(struct vt_az_attest_request *r);

/* Key Vault's key types (the -HSM forms are the same here). */
enum vt_az_kty {
        VT_AZ_KTY_RSA,
        VT_AZ_KTY_EC,
        VT_AZ_KTY_OCT,
};

/* A key create (POST /keys/{name}/create) or import (PUT /keys/{name}) request. Only
 * exportable keys with a release policy are accepted. */
struct vt_az_key_request {
        enum vt_az_kty kty;
        unsigned key_size; /* create RSA: 2048, 3072, 4096; oct: 128, 192, 256 (bits) */
        char crv[8];       /* create EC: "P-256" or "P-521" */
        /* import: the key (RSA, EC) or its bytes (oct), checked */
        EVP_PKEY *key;
        uint8_t *oct;
        size_t oct_len;
        char *policy; /* the release policy's JSON text (it parses), NUL-terminated */
        size_t policy_len;
        json_t *release_policy; /* the request's release_policy object */
};

/* vt_az_key_request_parse takes a create (import false) or import (import true) body
 * apart. VT_E_FORMAT (VT_E_UNSUPPORTED for a key type or size not kept here, VT_E_NOMEM)
 * with the check in d. */
int vt_az_key_request_parse(bool import, const uint8_t *body, size_t len,
                            struct vt_az_key_request *ret, struct vt_diag *d);
void vt_az_key_request_done(struct vt_az_key_request *r);

/* The wrapping of a release: RSA-OAEP with SHA-1, SHA-256 or SHA-384, then AES-KWP. */
enum vt_az_enc {
        VT_AZ_ENC_CKM_RSA_AES_KEY_WRAP, /* the default */
        VT_AZ_ENC_RSA_AES_KEY_WRAP_256,
        VT_AZ_ENC_RSA_AES_KEY_WRAP_384,
        _VT_AZ_ENC_MAX,
};
const char *vt_az_enc_name(enum vt_az_enc e);

/* A release request (POST /keys/{name}[/{version}]/release): {target, nonce?, enc?}. */
struct vt_az_release_request {
        char *target;
        char *nonce; /* NULL: none */
        enum vt_az_enc enc;
};
int vt_az_release_request_parse(const uint8_t *body, size_t len, struct vt_az_release_request *ret,
                                struct vt_diag *d);
void vt_az_release_request_done(struct vt_az_release_request *r);

/* vt_az_b64_decode decodes base64url or base64, padded or not (MAA's Go clients pad, its
 * JS ones do not), into a fresh buffer of at most max bytes. */
int vt_az_b64_decode(const char *s, size_t max, uint8_t **ret, size_t *ret_len);

#endif
