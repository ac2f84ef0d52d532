/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA GPU / NVSwitch verification: the request nonce (constant time), the device chain
 * to the pinned NVIDIA Device Identity CA at the verification time, ECDSA P-384/SHA-384 by
 * the leaf over the exact signed range (79 + L1 + L2 bytes), the FWID of the leaf's TCG DICE
 * extension against the report's, OCSP for the three intermediates, and the RIM golden
 * values (lib/verify/nvidia_rim.c). Verified chains are cached by the SHA-256 of the chain
 * bytes, the root and the hour of the verification time, OCSP answers by certificate until
 * nextUpdate, so that a warm verification costs one SHA-384 and one P-384 verify.
 * Facts: docs/nvidia.md, ../shared/notes/nvidia-gpu.md.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "collateral/http.h"
#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/hex.h"
#include "util/macro.h"
#include "util/rd.h"
#include "verify/nvidia_internal.h"
#include "verify/nvidia_ocsp.h"
#include "veritee/nvidia.h"

/* NVIDIA Device Identity CA (O=NVIDIA), P-384, serial 2D3670B1CA100411C1FEC0E82A065B54,
 * 2021-11-05..9999-12-31; public, as nvtrust's verifier_device_root.pem and Trustee's
 * nvidia_device_root.pem. Pinned by the SHA-256 of its DER, checked when a verifier is made:
 * 102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48 */
static const char nvidia_device_root_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIICCzCCAZCgAwIBAgIQLTZwscoQBBHB/sDoKgZbVDAKBggqhkjOPQQDAzA1MSIw\n"
        "IAYDVQQDDBlOVklESUEgRGV2aWNlIElkZW50aXR5IENBMQ8wDQYDVQQKDAZOVklE\n"
        "SUEwIBcNMjExMTA1MDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMDUxIjAgBgNVBAMM\n"
        "GU5WSURJQSBEZXZpY2UgSWRlbnRpdHkgQ0ExDzANBgNVBAoMBk5WSURJQTB2MBAG\n"
        "ByqGSM49AgEGBSuBBAAiA2IABA5MFKM7+KViZljbQSlgfky/RRnEQScW9NDZF8SX\n"
        "gAW96r6u/Ve8ZggtcYpPi2BS4VFu6KfEIrhN6FcHG7WP05W+oM+hxj7nyA1r1jkB\n"
        "2Ry70YfThX3Ba1zOryOP+MJ9vaNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B\n"
        "Af8EBAMCAQYwHQYDVR0OBBYEFFeF/4PyY8xlfWi3Olv0jUrL+0lfMB8GA1UdIwQY\n"
        "MBaAFFeF/4PyY8xlfWi3Olv0jUrL+0lfMAoGCCqGSM49BAMDA2kAMGYCMQCPeFM3\n"
        "TASsKQVaT+8S0sO9u97PVGCpE9d/I42IT7k3UUOLSR/qvJynVOD1vQKVXf0CMQC+\n"
        "EY55WYoDBvs2wPAH1Gw4LbcwUN8QCff8bFmV4ZxjCRr4WXTLFHBKjbfneGSBWwA=\n"
        "-----END CERTIFICATE-----\n";

static const uint8_t nvidia_device_root_sha256[32] = {
        0x10, 0x2b, 0xf6, 0x59, 0xd5, 0x41, 0x96, 0x14, 0xc9, 0xd8, 0xe6,
        0xae, 0xce, 0xbc, 0x80, 0x45, 0x4e, 0xb2, 0x6b, 0x1d, 0xf6, 0xa7,
        0x69, 0xac, 0x72, 0x0b, 0x9a, 0x69, 0x0b, 0x16, 0x7b, 0x48,
};

#define OID_TCG_DICE_FWID     "2.23.133.5.4.1"   /* Hopper, LS10: SEQ{INT, SPKI, FWID} */
#define OID_TCG_DICE_TCB_INFO "2.23.133.5.4.1.1" /* Blackwell: DiceTcbInfo, fwids [6] */
#define CHAIN_DEPTH           5                  /* leaf, BROM, ICA, Identity, root */
#define CHAIN_CACHE_MAX       128
#define OCSP_CACHE_MAX        128
#define OCSP_OFFLINE_MAX      64
#define DEFAULT_OCSP_URL      "http://ocsp.ndis.nvidia.com"
#define DEFAULT_OCSP_GRACE    3600

struct ocsp_entry {
        uint8_t cert_sha256[32];
        struct vt_nv_ocsp_status st;
        uint64_t tick;
};

struct raw_der {
        uint8_t *p;
        size_t len;
};

struct vt_nv_verifier {
        pthread_mutex_t lock;
        X509 *root;
        uint8_t root_sha256[32];
        bool root_pinned; /* false: a test root from vt_nv_verifier_set_root */
        uint64_t tick;
        struct vt_nv_chain chains[CHAIN_CACHE_MAX];
        size_t n_chains;
        /* OCSP */
        enum vt_nv_ocsp_mode ocsp_mode;
        char *ocsp_url;
        int64_t ocsp_grace;
        struct raw_der offline[OCSP_OFFLINE_MAX];
        size_t n_offline;
        struct ocsp_entry ocsp[OCSP_CACHE_MAX];
        size_t n_ocsp;
        struct vt_nv_rims *rims; /* NULL: RIMs not checked */
};

void vt_nv_chain_done(struct vt_nv_chain *c)
{
        EVP_PKEY_free(c->leaf_key);
        for (size_t i = 0; i < ELEMENTSOF(c->certs); i++)
                X509_free(c->certs[i]);
        memset(c, 0, sizeof(*c));
}

/* Copies a cache entry; the copy holds its own references. */
static int chain_copy(const struct vt_nv_chain *src, struct vt_nv_chain *dst)
{
        *dst = *src;
        if (dst->leaf_key && EVP_PKEY_up_ref(dst->leaf_key) != 1)
                return VT_E_CRYPTO;
        for (size_t i = 0; i < ELEMENTSOF(dst->certs); i++)
                if (dst->certs[i] && X509_up_ref(dst->certs[i]) != 1)
                        return VT_E_CRYPTO;
        return 0;
}

static int load_root(const uint8_t *pem, size_t len, X509 **ret, uint8_t sha[32], struct vt_diag *d)
{
        X509 *x = NULL;
        if (vt_x509_parse_one(pem, len, &x) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: root is not one certificate");
        if (vt_x509_der_sha256(x, sha) < 0) {
                X509_free(x);
                return VT_E_CRYPTO;
        }
        *ret = x;
        return 0;
}

int vt_nv_verifier_new(struct vt_nv_verifier **ret)
{
        struct vt_nv_verifier *v = calloc(1, sizeof(*v));
        if (!v)
                return VT_E_NOMEM;
        pthread_mutex_init(&v->lock, NULL);
        v->ocsp_grace = DEFAULT_OCSP_GRACE;
        if (!(v->ocsp_url = strdup(DEFAULT_OCSP_URL)) ||
            load_root((const uint8_t *)nvidia_device_root_pem, strlen(nvidia_device_root_pem),
                      &v->root, v->root_sha256, NULL) < 0 ||
            CRYPTO_memcmp(v->root_sha256, nvidia_device_root_sha256, 32) != 0) {
                vt_nv_verifier_free(v);
                return VT_E_CRYPTO;
        }
        v->root_pinned = true;
        *ret = v;
        return 0;
}

void vt_nv_verifier_free(struct vt_nv_verifier *v)
{
        if (!v)
                return;
        for (size_t i = 0; i < v->n_chains; i++)
                vt_nv_chain_done(&v->chains[i]);
        for (size_t i = 0; i < v->n_offline; i++)
                free(v->offline[i].p);
        vt_nv_rims_free(v->rims);
        X509_free(v->root);
        free(v->ocsp_url);
        pthread_mutex_destroy(&v->lock);
        free(v);
}

int vt_nv_verifier_set_root(struct vt_nv_verifier *v, const uint8_t *pem, size_t len,
                            struct vt_diag *d)
{
        X509 *x = NULL;
        uint8_t sha[32];
        int e = load_root(pem, len, &x, sha, d);
        if (e < 0)
                return e;
        X509_free(v->root);
        v->root = x;
        memcpy(v->root_sha256, sha, 32);
        v->root_pinned = CRYPTO_memcmp(sha, nvidia_device_root_sha256, 32) == 0;
        for (size_t i = 0; i < v->n_chains; i++)
                vt_nv_chain_done(&v->chains[i]);
        v->n_chains = 0;
        return 0;
}

int vt_nv_verifier_set_ocsp(struct vt_nv_verifier *v, enum vt_nv_ocsp_mode mode, const char *url,
                            int64_t grace_s)
{
        if (mode != VT_NV_OCSP_REQUIRE && mode != VT_NV_OCSP_OFF)
                return VT_E_INVAL;
        if (grace_s < 0 || grace_s > VT_NV_OCSP_MAX_GRACE)
                return VT_E_INVAL;
        if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
                return VT_E_INVAL;
        char *u = NULL;
        if (url && !(u = strdup(url)))
                return VT_E_NOMEM;
        free(v->ocsp_url);
        v->ocsp_url = u;
        v->ocsp_mode = mode;
        v->ocsp_grace = grace_s;
        return 0;
}

int vt_nv_verifier_add_ocsp(struct vt_nv_verifier *v, const uint8_t *der, size_t len,
                            struct vt_diag *d)
{
        if (!der || len == 0 || len > VT_NV_OCSP_MAX_BYTES)
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: OCSP response of %zu bytes", len);
        const unsigned char *p = der;
        OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
        bool whole = r && p == der + len;
        OCSP_RESPONSE_free(r);
        ERR_clear_error();
        if (!whole)
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: not a DER OCSP response");
        if (v->n_offline >= OCSP_OFFLINE_MAX)
                return vt_diag_set(d, VT_E_LIMIT, "nvidia: at most %d OCSP responses",
                                   OCSP_OFFLINE_MAX);
        if (!(v->offline[v->n_offline].p = malloc(len)))
                return VT_E_NOMEM;
        memcpy(v->offline[v->n_offline].p, der, len);
        v->offline[v->n_offline++].len = len;
        return 0;
}

int vt_nv_verifier_set_rim(struct vt_nv_verifier *v, const char *dir, const char *url,
                           const char *cache_dir, bool allow_missing)
{
        struct vt_nv_rims *r = NULL;
        if (dir || url || cache_dir) {
                int e = vt_nv_rims_new(dir, url, cache_dir, allow_missing, &r);
                if (e < 0)
                        return e;
        }
        vt_nv_rims_free(v->rims);
        v->rims = r;
        return 0;
}

struct vt_nv_rims *vt_nv_verifier_rims(struct vt_nv_verifier *v)
{
        return v->rims;
}

/* ---- FWID ---- */

/* Hopper/LS10 (2.23.133.5.4.1): SEQ{INTEGER, SubjectPublicKeyInfo, SEQ{hashAlg, OCTET(48)}}. */
static int fwid_hopper(const uint8_t *p, size_t n, uint8_t out[VT_NV_FWID_LEN])
{
        struct vt_rd r, seq, fw, dig;
        vt_rd_init(&r, p, n);
        if (vt_rd_der(&r, VT_DER_SEQUENCE, &seq) < 0 || vt_rd_done(&r) < 0 ||
            vt_rd_der_skip(&seq, VT_DER_INTEGER) < 0 || vt_rd_der_skip(&seq, VT_DER_SEQUENCE) < 0 ||
            vt_rd_der(&seq, VT_DER_SEQUENCE, &fw) < 0 || vt_rd_done(&seq) < 0 ||
            vt_rd_der_skip(&fw, VT_DER_OID) < 0 || vt_rd_der(&fw, VT_DER_OCTET_STRING, &dig) < 0 ||
            vt_rd_done(&fw) < 0 || dig.len != VT_NV_FWID_LEN)
                return VT_E_FORMAT;
        memcpy(out, dig.p, VT_NV_FWID_LEN);
        return 0;
}

/* Blackwell (2.23.133.5.4.1.1, TCG DiceTcbInfo): fwids [6] IMPLICIT SEQUENCE OF
 * FWID{hashAlg OID, digest OCTET STRING}; the device's FWID is fwids[0]. */
static int fwid_dice_tcb_info(const uint8_t *p, size_t n, uint8_t out[VT_NV_FWID_LEN])
{
        struct vt_rd r, seq, fwids, fw, dig;
        const unsigned fwids_tag = VT_DER_CONTEXT | VT_DER_CONSTRUCTED | 6;
        vt_rd_init(&r, p, n);
        if (vt_rd_der(&r, VT_DER_SEQUENCE, &seq) < 0 || vt_rd_done(&r) < 0)
                return VT_E_FORMAT;
        while (vt_rd_left(&seq) && !vt_rd_der_peek_tag(&seq, fwids_tag)) {
                struct vt_rd any;
                unsigned tag;
                if (vt_rd_der_any(&seq, &any, &tag, NULL) < 0 || (tag & 0x1f) > 5)
                        return VT_E_FORMAT;
        }
        if (vt_rd_der(&seq, fwids_tag, &fwids) < 0 || vt_rd_der(&fwids, VT_DER_SEQUENCE, &fw) < 0 ||
            vt_rd_der_skip(&fw, VT_DER_OID) < 0 || vt_rd_der(&fw, VT_DER_OCTET_STRING, &dig) < 0 ||
            vt_rd_done(&fw) < 0 || dig.len != VT_NV_FWID_LEN)
                return VT_E_FORMAT;
        memcpy(out, dig.p, VT_NV_FWID_LEN);
        return 0;
}

int vt_nv_leaf_fwid(X509 *leaf, uint8_t out[VT_NV_FWID_LEN], struct vt_diag *d)
{
        const uint8_t *p;
        size_t n;
        char cn[128];
        if (vt_x509_ext_data(leaf, OID_TCG_DICE_TCB_INFO, &p, &n) == 0)
                return fwid_dice_tcb_info(p, n, out) < 0
                               ? vt_diag_set(d, VT_E_CHAIN,
                                             "nvidia: leaf DiceTcbInfo (2.23.133.5.4.1.1) has "
                                             "no 48-byte fwids[0]")
                               : 0;
        if (vt_x509_ext_data(leaf, OID_TCG_DICE_FWID, &p, &n) == 0)
                return fwid_hopper(p, n, out) < 0
                               ? vt_diag_set(d, VT_E_CHAIN,
                                             "nvidia: leaf FWID extension (2.23.133.5.4.1) is "
                                             "not SEQ{INTEGER, SPKI, SEQ{alg, OCTET(48)}}")
                               : 0;
        vt_x509_subject_cn(leaf, cn, sizeof(cn));
        return vt_diag_set(d, VT_E_CHAIN,
                           "nvidia: leaf \"%s\" has no FWID extension (2.23.133.5.4.1 or "
                           "2.23.133.5.4.1.1): not a device leaf (is the leaf missing from the "
                           "chain?)",
                           cn);
}

/* ---- chain ---- */

static enum vt_nv_arch arch_of_leaf(const char *cn)
{
        if (strncmp(cn, "GH1", 3) == 0)
                return VT_NV_ARCH_HOPPER;
        if (strncmp(cn, "GB1", 3) == 0 || strncmp(cn, "GB2", 3) == 0)
                return VT_NV_ARCH_BLACKWELL;
        if (strncmp(cn, "LS_10", 5) == 0 || strncmp(cn, "LS10", 4) == 0)
                return VT_NV_ARCH_LS10;
        return VT_NV_ARCH_UNKNOWN;
}

/* Verifies the PEM chain (leaf first) to the root at `at`; fills *ret (its own references). */
static int chain_verify(X509 *root, const uint8_t *pem, size_t len, int64_t at,
                        struct vt_nv_chain *ret, struct vt_diag *d)
{
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *untrusted = NULL;
        _cleanup_(X509_STORE_freep) X509_STORE *store = NULL;
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = NULL;
        struct vt_nv_chain c = {0};
        char cn[128];
        int e;

        if ((e = vt_x509_parse_many(pem, len, &sk)) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: certificate chain is not a PEM chain (%s)",
                                   vt_strerror(e));
        int n = sk_X509_num(sk);
        if (n < 2)
                return vt_diag_set(d, VT_E_CHAIN,
                                   "nvidia: certificate chain has %d certificate: it must hold the "
                                   "signing leaf and its issuers up to the root",
                                   n);
        X509 *leaf = sk_X509_value(sk, 0);
        if (!(untrusted = sk_X509_new_null()))
                return VT_E_NOMEM;
        for (int i = 1; i < n; i++) {
                X509 *x = sk_X509_value(sk, i);
                if (X509_up_ref(x) != 1 || !sk_X509_push(untrusted, x)) {
                        X509_free(x);
                        return VT_E_NOMEM;
                }
        }
        if (!(store = X509_STORE_new()) || X509_STORE_add_cert(store, root) != 1 ||
            !(ctx = X509_STORE_CTX_new()) || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1)
                return VT_E_NOMEM;
        X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
        if (X509_verify_cert(ctx) != 1) {
                int err = X509_STORE_CTX_get_error(ctx);
                int depth = X509_STORE_CTX_get_error_depth(ctx);
                ERR_clear_error();
                vt_x509_subject_cn(leaf, cn, sizeof(cn));
                return vt_diag_set(d, VT_E_CHAIN,
                                   "nvidia: chain of \"%s\" does not verify to the NVIDIA Device "
                                   "Identity CA: %s (OpenSSL error %d at depth %d)",
                                   cn, X509_verify_cert_error_string(err), err, depth);
        }
        if ((e = vt_nv_leaf_fwid(leaf, c.fwid, d)) < 0)
                return e;
        c.has_fwid = true;
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
        if (sk_X509_num(built) != CHAIN_DEPTH)
                return vt_diag_set(d, VT_E_CHAIN,
                                   "nvidia: chain has %d certificates from leaf to root, a "
                                   "device chain has %d",
                                   sk_X509_num(built), CHAIN_DEPTH);
        for (int i = 0; i < CHAIN_DEPTH; i++) {
                X509 *x = sk_X509_value(built, i);
                if (X509_up_ref(x) != 1)
                        return VT_E_CRYPTO;
                c.certs[i] = x;
        }
        if (!(c.leaf_key = X509_get_pubkey(leaf)) || vt_ec_curve_nid(c.leaf_key) != NID_secp384r1) {
                vt_nv_chain_done(&c);
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CHAIN, "nvidia: leaf key is not ECDSA P-384");
        }
        vt_x509_subject_cn(leaf, cn, sizeof(cn));
        c.arch = arch_of_leaf(cn);
        vt_x509_subject_cn(c.certs[1], c.hwmodel, sizeof(c.hwmodel));
        BIGNUM *sn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
        char *dec = sn ? BN_bn2dec(sn) : NULL;
        if (dec)
                snprintf(c.ueid, sizeof(c.ueid), "%s", dec);
        OPENSSL_free(dec);
        BN_free(sn);
        *ret = c;
        return 0;
}

/* The cache key: SHA-256 of the chain bytes, the root's DER hash and the hour of `at`. */
static int chain_key(const uint8_t *pem, size_t len, const uint8_t root[32], int64_t at,
                     uint8_t out[32])
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *m = EVP_MD_CTX_new();
        uint8_t hour[8];
        uint64_t h = (uint64_t)(at / 3600);
        for (int i = 0; i < 8; i++)
                hour[i] = (uint8_t)(h >> (56 - 8 * i));
        if (!m || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(m, pem, len) != 1 || EVP_DigestUpdate(m, root, 32) != 1 ||
            EVP_DigestUpdate(m, hour, 8) != 1 || EVP_DigestFinal_ex(m, out, NULL) != 1)
                return VT_E_CRYPTO;
        return 0;
}

int vt_nv_chain_get(struct vt_nv_verifier *v, const uint8_t *pem, size_t len, int64_t at,
                    struct vt_nv_chain *ret, struct vt_diag *d)
{
        uint8_t key[32];
        struct vt_nv_chain c;
        int e;

        if ((e = chain_key(pem, len, v->root_sha256, at, key)) < 0)
                return e;
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < v->n_chains; i++)
                if (CRYPTO_memcmp(v->chains[i].key, key, 32) == 0) {
                        v->chains[i].tick = ++v->tick;
                        e = chain_copy(&v->chains[i], ret);
                        pthread_mutex_unlock(&v->lock);
                        return e;
                }
        X509 *root = v->root;
        X509_up_ref(root);
        pthread_mutex_unlock(&v->lock);
        e = chain_verify(root, pem, len, at, &c, d);
        X509_free(root);
        if (e < 0)
                return e;
        memcpy(c.key, key, 32);
        pthread_mutex_lock(&v->lock);
        size_t slot = v->n_chains;
        if (slot == CHAIN_CACHE_MAX) {
                slot = 0;
                for (size_t i = 1; i < v->n_chains; i++)
                        if (v->chains[i].tick < v->chains[slot].tick)
                                slot = i;
                vt_nv_chain_done(&v->chains[slot]);
        } else {
                v->n_chains++;
        }
        c.tick = ++v->tick;
        v->chains[slot] = c;
        e = chain_copy(&v->chains[slot], ret);
        pthread_mutex_unlock(&v->lock);
        return e;
}

/* ---- OCSP ---- */

static bool ocsp_cached(struct vt_nv_verifier *v, const uint8_t sha[32], int64_t at,
                        struct vt_nv_ocsp_status *ret)
{
        bool hit = false;
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < v->n_ocsp; i++)
                if (CRYPTO_memcmp(v->ocsp[i].cert_sha256, sha, 32) == 0 &&
                    v->ocsp[i].st.status == V_OCSP_CERTSTATUS_GOOD &&
                    at >= v->ocsp[i].st.this_update - VT_NV_OCSP_SKEW &&
                    at <= v->ocsp[i].st.next_update + v->ocsp_grace) {
                        v->ocsp[i].tick = ++v->tick;
                        *ret = v->ocsp[i].st;
                        hit = true;
                        break;
                }
        pthread_mutex_unlock(&v->lock);
        return hit;
}

static void ocsp_remember(struct vt_nv_verifier *v, const uint8_t sha[32],
                          const struct vt_nv_ocsp_status *st)
{
        pthread_mutex_lock(&v->lock);
        size_t slot = v->n_ocsp;
        for (size_t i = 0; i < v->n_ocsp; i++)
                if (CRYPTO_memcmp(v->ocsp[i].cert_sha256, sha, 32) == 0)
                        slot = i;
        if (slot == OCSP_CACHE_MAX) {
                slot = 0;
                for (size_t i = 1; i < v->n_ocsp; i++)
                        if (v->ocsp[i].tick < v->ocsp[slot].tick)
                                slot = i;
        } else if (slot == v->n_ocsp) {
                v->n_ocsp++;
        }
        memcpy(v->ocsp[slot].cert_sha256, sha, 32);
        v->ocsp[slot].st = *st;
        v->ocsp[slot].tick = ++v->tick;
        pthread_mutex_unlock(&v->lock);
}

/* Asks the responder about cert; the answer is checked like an offline one. */
static int ocsp_fetch(const char *url, X509 *cert, X509 *issuer, uint8_t **ret, size_t *ret_len,
                      struct vt_diag *d)
{
        uint8_t *req = NULL;
        size_t rl;
        int e = vt_nv_ocsp_request(cert, issuer, &req, &rl);
        if (e < 0)
                return e;
        static const char *const hdrs[] = {"Content-Type: application/ocsp-request",
                                           "Accept: application/ocsp-response", NULL};
        struct vt_http_request rq = {
                .method = "POST",
                .url = url,
                .headers = hdrs,
                .body = req,
                .body_len = rl,
                .max = VT_NV_OCSP_MAX_BYTES,
                .timeout_ms = 10000,
        };
        struct vt_http_response rs = {0};
        e = vt_http_do(&rq, &rs, d);
        OPENSSL_free(req);
        if (e < 0)
                return e;
        if (rs.status != 200 || rs.len == 0) {
                long st = rs.status;
                vt_http_response_done(&rs);
                return vt_diag_set(d, VT_E_NETWORK, "nvidia: OCSP responder %s answered %ld", url,
                                   st);
        }
        *ret = TAKE_PTR(rs.body);
        *ret_len = rs.len;
        vt_http_response_done(&rs);
        return 0;
}

/* Checks certs[i] (i = 1..3; issuer certs[i+1]) with a cached, offline or fetched response. */
static int ocsp_one(struct vt_nv_verifier *v, const struct vt_nv_chain *c, int i, int64_t at,
                    struct vt_diag *d)
{
        X509 *cert = c->certs[i], *issuer = c->certs[i + 1];
        struct vt_nv_ocsp_status st;
        uint8_t sha[32];
        char cn[128];
        int e;

        if (vt_x509_der_sha256(cert, sha) < 0)
                return VT_E_CRYPTO;
        if (ocsp_cached(v, sha, at, &st))
                return 0;
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *untrusted = sk_X509_new_null();
        if (!untrusted)
                return VT_E_NOMEM;
        for (int k = 1; k < CHAIN_DEPTH - 1; k++) {
                if (X509_up_ref(c->certs[k]) != 1 || !sk_X509_push(untrusted, c->certs[k])) {
                        X509_free(c->certs[k]);
                        return VT_E_NOMEM;
                }
        }
        X509 *root = c->certs[CHAIN_DEPTH - 1];
        for (size_t k = 0; k < v->n_offline; k++) {
                struct vt_diag od = {0};
                e = vt_nv_ocsp_check(v->offline[k].p, v->offline[k].len, cert, issuer, root,
                                     untrusted, at, v->ocsp_grace, &st, &od);
                if (e == VT_E_NOTFOUND)
                        continue;
                if (e == 0 || e == VT_E_REVOKED)
                        ocsp_remember(v, sha, &st);
                if (e < 0)
                        return vt_diag_set(d, e, "%s", od.msg);
                return 0;
        }
        if (!v->ocsp_url) {
                vt_x509_subject_cn(cert, cn, sizeof(cn));
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "nvidia: no OCSP response for \"%s\" and no responder "
                                   "configured (give --ocsp FILE, or --no-ocsp to skip "
                                   "revocation)",
                                   cn);
        }
        _cleanup_free_ uint8_t *resp = NULL;
        size_t rl = 0;
        struct vt_diag fd = {0};
        if ((e = ocsp_fetch(v->ocsp_url, cert, issuer, &resp, &rl, &fd)) < 0) {
                vt_x509_subject_cn(cert, cn, sizeof(cn));
                return vt_diag_set(d, e,
                                   "nvidia: OCSP for \"%s\": %s (give --ocsp FILE offline, or "
                                   "--no-ocsp)",
                                   cn, fd.msg);
        }
        e = vt_nv_ocsp_check(resp, rl, cert, issuer, root, untrusted, at, v->ocsp_grace, &st, d);
        if (e == 0 || e == VT_E_REVOKED)
                ocsp_remember(v, sha, &st);
        return e;
}

/* ---- the verification ---- */

void vt_nv_result_done(struct vt_nv_result *r)
{
        if (!r)
                return;
        free(r->claims);
        memset(r, 0, sizeof(*r));
}

static void report_freep(struct vt_nv_report **r)
{
        vt_nv_report_free(*r);
}

static int sha384(const uint8_t *p, size_t n, uint8_t out[48])
{
        unsigned int ol = 0;
        return EVP_Digest(p, n, out, &ol, EVP_sha384(), NULL) == 1 && ol == 48 ? 0 : VT_E_CRYPTO;
}

int vt_nv_verify(struct vt_nv_verifier *v, const uint8_t *report, size_t report_len,
                 const uint8_t *chain, size_t chain_len, const struct vt_nv_verify_opts *o,
                 struct vt_nv_result *ret, struct vt_diag *d)
{
        _cleanup_(report_freep) struct vt_nv_report *rep = NULL;
        _cleanup_(vt_nv_chain_done) struct vt_nv_chain c = {0};
        struct vt_nv_result res = {0};
        struct vt_nv_rim_outcome rim = {0};
        uint8_t dig[48];
        int64_t at;
        int e;

        if (!v || !report || !chain || !o || !o->nonce || !ret)
                return VT_E_INVAL;
        at = o->at ? o->at : (int64_t)time(NULL);
        if ((e = vt_nv_report_parse(report, report_len, &rep, d)) < 0)
                return e;
        if (CRYPTO_memcmp(rep->nonce, o->nonce, VT_NV_NONCE_LEN) != 0)
                return vt_diag_set(d, VT_E_BINDING,
                                   "nvidia: report nonce does not equal the expected nonce (a "
                                   "replayed or foreign report)");
        if ((e = vt_nv_chain_get(v, chain, chain_len, at, &c, d)) < 0)
                return e;
        if ((e = sha384(rep->bytes, rep->signed_len, dig)) < 0)
                return e;
        if (vt_ecdsa_verify_rs(c.leaf_key, dig, sizeof(dig), rep->sig_r, rep->sig_s, 48) != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "nvidia: report signature (ECDSA P-384, SHA-384 over %zu "
                                   "bytes) does not verify with the leaf key",
                                   rep->signed_len);
        const uint8_t *fw;
        size_t fwl;
        bool report_fwid = vt_nv_report_field(rep, VT_NV_OPQ_FWID, &fw, &fwl) == 0;
        if (report_fwid && (fwl != VT_NV_FWID_LEN || CRYPTO_memcmp(fw, c.fwid, fwl) != 0)) {
                char a[17], b[17];
                vt_hex_encode(fw, 8, a);
                vt_hex_encode(c.fwid, 8, b);
                return vt_diag_set(d, VT_E_BINDING,
                                   "nvidia: FWID in the report (%s...) differs from the leaf "
                                   "certificate's (%s...)",
                                   a, b);
        }
        if (v->ocsp_mode == VT_NV_OCSP_REQUIRE) {
                for (int i = 1; i <= 3; i++)
                        if ((e = ocsp_one(v, &c, i, at, d)) < 0)
                                return e;
                res.ocsp_checked = true;
        } else {
                snprintf(res.note, sizeof(res.note), "OCSP not checked (--no-ocsp)");
        }
        if (v->rims) {
                if ((e = vt_nv_rims_appraise(v->rims, rep, c.arch, at, &rim, d)) < 0)
                        return e;
                res.rim_checked = true;
                res.rim_matched = rim.matched;
                res.rim_active = rim.active;
                if (!rim.vbios_checked || (c.arch != VT_NV_ARCH_LS10 && !rim.driver_checked)) {
                        size_t l = strlen(res.note);
                        snprintf(res.note + l, sizeof(res.note) - l,
                                 "%sRIM %s unavailable (allowed by the operator)", l ? "; " : "",
                                 rim.vbios_checked ? rim.driver_id : rim.vbios_id);
                }
        } else {
                size_t l = strlen(res.note);
                snprintf(res.note + l, sizeof(res.note) - l, "%sRIMs not checked (no --rim-dir)",
                         l ? "; " : "");
        }
        res.arch = c.arch;
        if ((e = vt_nv_claims(rep, &c, &res, res.rim_checked ? &rim : NULL, o->uuid, v->root_pinned,
                              &res.claims)) < 0)
                return e;
        /* AR4SI: the device (hardware) is vouched for by NVIDIA's chain; without a
         * revocation check that is a warning. The measurements are affirmed only by RIMs. */
        res.ar4si.instance_identity = VT_AR4SI_AFFIRMING;
        res.ar4si.hardware = !v->root_pinned    ? VT_AR4SI_UNRECOGNIZED_HARDWARE
                             : res.ocsp_checked ? VT_AR4SI_AFFIRMING
                                                : VT_AR4SI_WARNING;
        bool all_rims = res.rim_checked && rim.vbios_checked &&
                        (c.arch == VT_NV_ARCH_LS10 || rim.driver_checked);
        res.ar4si.executables = all_rims ? VT_AR4SI_AFFIRMING : VT_AR4SI_UNRECOGNIZED_RUNTIME;
        res.ar4si.configuration = all_rims ? VT_AR4SI_AFFIRMING : VT_AR4SI_UNSUPPORTABLE_CONFIG;
        *ret = res;
        return 0;
}
