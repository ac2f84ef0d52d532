/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an OCSP response about an intermediate of an NVIDIA device chain,
 * vt_nv_ocsp_check (lib/verify/nvidia_ocsp.c). A P-384 root, an issuer and a certificate are
 * made at start-up (test-made, not NVIDIA's), and a stranger with its own self-signed
 * certificate. Two uses of every input:
 *
 * 1. the input as the DER response: the parser, the response status and the CertID lookup
 *    (SHA-1, SHA-384, SHA-256); no fuzzed input can sign under the start-up keys, so this
 *    stops before the signature;
 * 2. the input as the recipe of a response that the target signs itself (signed_response):
 *    first bytes choose the status, revocation reason, CertID digest, the certificate it is
 *    about (the right one or its issuer), thisUpdate and nextUpdate around now (or none),
 *    the signer (the issuer, the root, the certificate itself or the stranger) and whether
 *    the signer's certificate is included, so that the signature, signer, time and status
 *    checks after the lookup are fuzzed too.
 *
 * Its promises: only the documented errors, each with a reason; success only for a good
 * status. Seeds: fuzz/corpus/ocsp/seed-* (scripts/gen-fuzz-seeds.sh, made with `openssl
 * ocsp` under a throw-away CA).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "verify/nvidia_ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *root, *issuer, *cert, *stranger;
static EVP_PKEY *root_key, *issuer_key, *cert_key, *stranger_key;

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
        /* every one a CA, as in a device chain: OpenSSL takes no signer chain without it */
        BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
        if (!bc)
                abort();
        bc->ca = 1;
        if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) != 1)
                abort();
        BASIC_CONSTRAINTS_free(bc);
        if (X509_sign(x, by_key ? by_key : key, EVP_sha384()) <= 0)
                abort();
        return x;
}

static void setup(void)
{
        root_key = EVP_EC_gen("P-384");
        issuer_key = EVP_EC_gen("P-384");
        cert_key = EVP_EC_gen("P-384");
        stranger_key = EVP_EC_gen("P-384");
        if (!root_key || !issuer_key || !cert_key || !stranger_key)
                abort();
        root = make("FUZZ root", root_key, NULL, NULL, 1);
        issuer = make("FUZZ-CA", issuer_key, root, root_key, 2);
        cert = make("FUZZ-ICA", cert_key, issuer, issuer_key, 3);
        stranger = make("FUZZ-CA", stranger_key, NULL, NULL, 4);
}

/* check runs vt_nv_ocsp_check on der and holds it to the target's promises. */
static void check(const uint8_t *der, size_t len)
{
        struct vt_nv_ocsp_status st = {0};
        struct vt_diag d = {0};
        int e = vt_nv_ocsp_check(der, len, cert, issuer, root, NULL, (int64_t)time(NULL), 3600, &st,
                                 &d);
        if (getenv("VT_FUZZ_VERBOSE"))
                fprintf(stderr, "ocsp: %d %s\n", e, d.msg);
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
}

static int32_t s32(const uint8_t *p)
{
        return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* signed_response: the response that data describes, signed as it says (see the top of the file).
 */
static void signed_response(const uint8_t *data, size_t size)
{
        if (size < 11)
                return;
        const uint8_t b = data[0], c = data[10];
        static const int statuses[] = {V_OCSP_CERTSTATUS_GOOD, V_OCSP_CERTSTATUS_REVOKED,
                                       V_OCSP_CERTSTATUS_UNKNOWN};
        const EVP_MD *mds[] = {EVP_sha1(), EVP_sha384(), EVP_sha256(), EVP_sha512()};
        X509 *signers[] = {issuer, root, cert, stranger};
        EVP_PKEY *keys[] = {issuer_key, root_key, cert_key, stranger_key};
        const int status = statuses[b % 3];
        const size_t who = (b >> 4) & 3;
        /* seconds around now: thisUpdate within about +-4.5 hours, nextUpdate after it */
        const time_t now = time(NULL);
        const long this_off = s32(data + 1) % 16384, next_off = s32(data + 5) % 65536;
        const int reason = (int)(int8_t)data[9] % 11;

        OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
        OCSP_CERTID *id = (c & 1) ? OCSP_cert_to_id(mds[(b >> 2) & 3], issuer, root)
                                  : OCSP_cert_to_id(mds[(b >> 2) & 3], cert, issuer);
        ASN1_TIME *thisupd = ASN1_TIME_adj(NULL, now, 0, this_off);
        ASN1_TIME *nextupd = (b & 0x40) ? NULL : ASN1_TIME_adj(NULL, now, 0, this_off + next_off);
        OCSP_RESPONSE *resp = NULL;
        unsigned char *der = NULL;
        int len = 0;
        if (!bs || !id || !thisupd || (!(b & 0x40) && !nextupd))
                abort();
        if (!OCSP_basic_add1_status(bs, id, status, reason < 0 ? -1 : reason, thisupd, thisupd,
                                    nextupd) ||
            !OCSP_basic_sign(bs, signers[who], keys[who], (c & 2) ? EVP_sha256() : EVP_sha384(),
                             NULL, (b & 0x80) ? OCSP_NOCERTS : 0) ||
            !(resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) ||
            (len = i2d_OCSP_RESPONSE(resp, &der)) <= 0)
                abort();
        check(der, (size_t)len);
        OPENSSL_free(der);
        OCSP_RESPONSE_free(resp);
        ASN1_TIME_free(nextupd);
        ASN1_TIME_free(thisupd);
        OCSP_CERTID_free(id);
        OCSP_BASICRESP_free(bs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!root)
                setup();
        check(data, size);
        signed_response(data, size);
        return 0;
}
