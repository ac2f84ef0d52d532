/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP quote verification (Intel QVL order, spec 4.1.2.4.x): PCK chain to the pinned
 * Intel SGX Root CA and the collateral's CRLs, the QE report signature by the PCK key,
 * the QE report's binding of the attestation key, the quote signature over the exact
 * bytes, then TCB evaluation against the collateral (dcap_tcb.c). Verified PCK chains
 * are cached by their PEM text and verified QE reports by their bytes, so a warm
 * verification costs one ECDSA P-256 verification (the quote's).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <stdio.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "collateral/pccs.h"
#include "crypto/jwk.h"
#include "crypto/x509.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/rd.h"
#include "verify/dcap_collateral.h"
#include "verify/dcap_internal.h"

#define SGX_EXT_OID   "1.2.840.113741.1.13.1"
#define PCK_CACHE_MAX 128

/* ---- the SGX extension of PCK certificates ---- */

/* 1.2.840.113741.1.13.1 and its TCB arc .2, as DER OID contents */
static const uint8_t sgx_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
static const uint8_t sgx_tcb_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x02};

/* OID contents as X.690 8.19 has them: arcs in base 128, no 0x80 leading an arc. */
static bool oid_valid(const struct vt_rd *oid)
{
        if (oid->len == 0 || oid->p[oid->len - 1] & 0x80)
                return false;
        for (size_t i = 0; i < oid->len; i++)
                if (oid->p[i] == 0x80 && (i == 0 || !(oid->p[i - 1] & 0x80)))
                        return false;
        return true;
}

/* Reads an item SEQUENCE { OID, value } of the extension: *ret_sub is what the OID has
 * below prefix (empty when the OID is not under prefix), *ret_value the whole value
 * element and *ret_tag its tag. */
static int item(struct vt_rd *r, const uint8_t *prefix, size_t plen, struct vt_rd *ret_sub,
                struct vt_rd *ret_value, unsigned *ret_tag)
{
        struct vt_rd seq, oid, value;
        unsigned tag;
        if (vt_rd_der(r, VT_DER_SEQUENCE, &seq) < 0 || vt_rd_der(&seq, VT_DER_OID, &oid) < 0 ||
            !oid_valid(&oid) || vt_rd_der_any(&seq, &value, &tag, NULL) < 0 || vt_rd_done(&seq) < 0)
                return VT_E_FORMAT;
        *ret_sub = oid;
        if (oid.len > plen && memcmp(oid.p, prefix, plen) == 0)
                (void)vt_rd_skip(ret_sub, plen);
        else
                (void)vt_rd_skip(ret_sub, oid.len);
        *ret_value = value;
        *ret_tag = tag;
        return 0;
}

/* The sub-identifier is exactly the one arc a (below 128). */
static bool sub_is(const struct vt_rd *sub, uint8_t a)
{
        return sub->len == 1 && sub->p[0] == a;
}

static int octets(struct vt_rd *v, uint8_t *out, size_t n)
{
        struct vt_rd c;
        if (vt_rd_der(v, VT_DER_OCTET_STRING, &c) < 0 || c.len != n)
                return VT_E_FORMAT;
        memcpy(out, c.p, n);
        return 0;
}

static int integer(struct vt_rd *v, unsigned tag, uint64_t max, uint64_t *out)
{
        uint64_t x;
        if ((tag != VT_DER_INTEGER && tag != VT_DER_ENUMERATED) ||
            vt_rd_der_uint64(v, tag, &x) < 0 || x > max)
                return VT_E_FORMAT;
        *out = x;
        return 0;
}

/* TCB: SEQUENCE of { OID .2.N, INTEGER | OCTET STRING }; N 1..16 are the component
 * SVNs, 17 the PCESVN, 18 the CPUSVN; all 17 SVNs must be there. */
static int tcb(struct vt_rd *v, struct vt_pck_ext *e)
{
        struct vt_rd seq;
        unsigned comps = 0;
        if (vt_rd_der(v, VT_DER_SEQUENCE, &seq) < 0)
                return VT_E_FORMAT;
        while (vt_rd_left(&seq) > 0) {
                struct vt_rd sub, value;
                unsigned tag;
                uint64_t x = 0, idx = 0;
                if (item(&seq, sgx_tcb_oid, sizeof(sgx_tcb_oid), &sub, &value, &tag) < 0)
                        return VT_E_FORMAT;
                /* one arc; numbers from 1000 on were never SGX TCB components */
                for (size_t i = 0; i < sub.len && idx < 1000; i++)
                        idx = idx << 7 | (sub.p[i] & 0x7f);
                if (sub.len == 0 || idx == 0 || idx >= 1000)
                        return VT_E_FORMAT;
                if (idx <= 16) {
                        if (integer(&value, tag, 255, &x) < 0)
                                return VT_E_FORMAT;
                        e->comp_svn[idx - 1] = (uint8_t)x;
                        comps |= 1u << (idx - 1);
                } else if (idx == 17) {
                        if (integer(&value, tag, 65535, &x) < 0)
                                return VT_E_FORMAT;
                        e->pcesvn = (uint16_t)x;
                        comps |= 1u << 16;
                } else if (idx == 18) {
                        if (octets(&value, e->cpusvn, 16) < 0)
                                return VT_E_FORMAT;
                }
        }
        return comps == 0x1ffff ? 0 : VT_E_FORMAT;
}

int vt_pck_ext_parse_der(const uint8_t *p, size_t n, struct vt_pck_ext *ret, struct vt_diag *d)
{
        struct vt_pck_ext e = {.sgx_type = -1};
        unsigned seen = 0;
        struct vt_rd r, top;
        vt_rd_init(&r, p, n);
        if (vt_rd_der(&r, VT_DER_SEQUENCE, &top) < 0 || vt_rd_done(&r) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: PCK SGX extension is not a DER sequence");
        int err = 0;
        while (vt_rd_left(&top) > 0 && !err) {
                struct vt_rd sub, value;
                unsigned tag;
                uint64_t x = 0;
                if (item(&top, sgx_oid, sizeof(sgx_oid), &sub, &value, &tag) < 0) {
                        err = VT_E_FORMAT;
                } else if (sub_is(&sub, 1)) {
                        err = octets(&value, e.ppid, 16);
                } else if (sub_is(&sub, 3)) {
                        err = octets(&value, e.pce_id, 2);
                        seen |= 1;
                } else if (sub_is(&sub, 4)) {
                        err = octets(&value, e.fmspc, 6);
                        seen |= 2;
                } else if (sub_is(&sub, 5)) {
                        err = integer(&value, tag, 2, &x);
                        e.sgx_type = (int)x;
                } else if (sub_is(&sub, 2)) {
                        err = tcb(&value, &e);
                        seen |= 4;
                }
        }
        if (err || seen != 7)
                return vt_diag_set(
                        d, VT_E_FORMAT,
                        "dcap: PCK SGX extension lacks or mangles FMSPC, PCE-ID or the TCB");
        *ret = e;
        return 0;
}

int vt_pck_ext_parse(X509 *pck, struct vt_pck_ext *ret, struct vt_diag *d)
{
        const uint8_t *p;
        size_t n;
        if (vt_x509_ext_data(pck, SGX_EXT_OID, &p, &n) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "dcap: PCK certificate has no SGX extension");
        return vt_pck_ext_parse_der(p, n, ret, d);
}

/* ---- the verifier ---- */

struct pck_entry {
        char *pem; /* the PEM chain as received: the cache key (compared, not hashed) */
        size_t pem_len;
        EVP_PKEY *leaf_key;
        X509 *leaf, *inter;
        struct vt_pck_ext ext;
        int64_t nb, na; /* the chain's common validity window */
        uint64_t tick;
};

#define COLL_CACHE_MAX 32
#define AK_CACHE_MAX   16
#define QE_CACHE_MAX   16

/* Collateral fetched from the PCCS, by platform (tee, CA, FMSPC), as the JSON text. */
struct coll_entry {
        char key[320]; /* PCCS URL | tee-ca-fmspc */
        struct vt_dcap_collateral *c;
        int64_t expires;
        unsigned refs; /* callers using c; the slot is reused only at 0 */
};

struct vt_dcap_verifier {
        pthread_mutex_t lock;
        struct pck_entry cache[PCK_CACHE_MAX];
        size_t n;
        uint64_t tick;
        struct coll_entry coll[COLL_CACHE_MAX];
        size_t coll_next;
        /* attestation keys seen lately: building a P-256 key costs ~10% of a verification */
        struct {
                uint8_t xy[64];
                EVP_PKEY *key;
        } ak[AK_CACHE_MAX];
        size_t ak_next;
        /* QE reports that verified under a PCK key: a platform's QE signs the same report
         * for every quote until its TCB changes, so a warm verification skips the check */
        struct {
                uint8_t pck[65], report[VT_SGX_REPORT_SIZE], sig[64];
                bool set;
        } qe[QE_CACHE_MAX];
        size_t qe_next;
        char *pccs_url, *cache_dir;
};

static void pck_entry_done(struct pck_entry *e)
{
        free(e->pem);
        EVP_PKEY_free(e->leaf_key);
        X509_free(e->leaf);
        X509_free(e->inter);
        memset(e, 0, sizeof(*e));
}

int vt_dcap_verifier_new(struct vt_dcap_verifier **ret)
{
        struct vt_dcap_verifier *v = calloc(1, sizeof(*v));
        if (!v)
                return VT_E_NOMEM;
        pthread_mutex_init(&v->lock, NULL);
        *ret = v;
        return 0;
}

void vt_dcap_verifier_free(struct vt_dcap_verifier *v)
{
        if (!v)
                return;
        for (size_t i = 0; i < v->n; i++)
                pck_entry_done(&v->cache[i]);
        for (size_t i = 0; i < COLL_CACHE_MAX; i++)
                vt_dcap_collateral_free(v->coll[i].c);
        for (size_t i = 0; i < AK_CACHE_MAX; i++)
                EVP_PKEY_free(v->ak[i].key);
        free(v->pccs_url);
        free(v->cache_dir);
        pthread_mutex_destroy(&v->lock);
        free(v);
}

int vt_dcap_verifier_set_pccs(struct vt_dcap_verifier *v, const char *base_url,
                              const char *cache_dir)
{
        char *u = base_url ? strdup(base_url) : NULL, *c = cache_dir ? strdup(cache_dir) : NULL;
        if ((base_url && !u) || (cache_dir && !c)) {
                free(u);
                free(c);
                return VT_E_NOMEM;
        }
        free(v->pccs_url);
        free(v->cache_dir);
        v->pccs_url = u;
        v->cache_dir = c;
        return 0;
}

static int verify_ecdsa_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
        uint8_t dg[32];
        if (!EVP_Digest(msg, len, dg, NULL, EVP_sha256(), NULL))
                return VT_E_CRYPTO;
        return vt_ecdsa_verify_rs(key, dg, sizeof(dg), sig, sig + 32, 32);
}

/* qe_report_verify checks the QE report's signature by the PCK key, or finds that
 * these very bytes (key, report, signature) verified before. */
static int qe_report_verify(struct vt_dcap_verifier *v, EVP_PKEY *pck,
                            const struct vt_dcap_quote *q)
{
        uint8_t pub[65];
        size_t n = 0;
        if (!EVP_PKEY_get_octet_string_param(pck, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) ||
            n != sizeof(pub)) {
                ERR_clear_error(); /* not an uncompressed point: verify without the cache */
                return verify_ecdsa_raw(pck, q->qe_report_raw, sizeof(q->qe_report_raw),
                                        q->qe_report_signature);
        }
        bool seen = false;
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < QE_CACHE_MAX && !seen; i++)
                seen = v->qe[i].set && memcmp(v->qe[i].pck, pub, sizeof(pub)) == 0 &&
                       memcmp(v->qe[i].report, q->qe_report_raw, sizeof(q->qe_report_raw)) == 0 &&
                       memcmp(v->qe[i].sig, q->qe_report_signature, 64) == 0;
        pthread_mutex_unlock(&v->lock);
        if (seen)
                return 0;
        int e = verify_ecdsa_raw(pck, q->qe_report_raw, sizeof(q->qe_report_raw),
                                 q->qe_report_signature);
        if (e < 0)
                return e;
        pthread_mutex_lock(&v->lock);
        size_t slot = v->qe_next++ % QE_CACHE_MAX;
        memcpy(v->qe[slot].pck, pub, sizeof(pub));
        memcpy(v->qe[slot].report, q->qe_report_raw, sizeof(q->qe_report_raw));
        memcpy(v->qe[slot].sig, q->qe_report_signature, 64);
        v->qe[slot].set = true;
        pthread_mutex_unlock(&v->lock);
        return 0;
}

/* A raw X||Y P-256 point as a key. */
static EVP_PKEY *raw_p256(const uint8_t xy[64])
{
        EVP_PKEY *k = NULL;
        return vt_ec_public_from_xy(vt_jwk_curve_named("P-256"), xy, xy + 32, &k) == 0 ? k : NULL;
}

/* The attestation key as an EVP_PKEY, from the cache or built and cached (a reference
 * the caller frees). */
static EVP_PKEY *attestation_key(struct vt_dcap_verifier *v, const uint8_t xy[64])
{
        EVP_PKEY *k = NULL;
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < AK_CACHE_MAX; i++)
                if (v->ak[i].key && memcmp(v->ak[i].xy, xy, 64) == 0) {
                        k = v->ak[i].key;
                        EVP_PKEY_up_ref(k);
                        break;
                }
        pthread_mutex_unlock(&v->lock);
        if (k)
                return k;
        k = raw_p256(xy);
        if (!k)
                return NULL;
        pthread_mutex_lock(&v->lock);
        size_t slot = v->ak_next++ % AK_CACHE_MAX;
        EVP_PKEY_free(v->ak[slot].key);
        memcpy(v->ak[slot].xy, xy, 64);
        v->ak[slot].key = k;
        EVP_PKEY_up_ref(k);
        pthread_mutex_unlock(&v->lock);
        return k;
}

static bool is_ecdsa_sha256(X509 *x)
{
        return X509_get_signature_nid(x) == NID_ecdsa_with_SHA256;
}

/* Parses and verifies the PCK chain (leaf, CA, root) of a quote; cached. */
static int pck_chain(struct vt_dcap_verifier *v, const struct vt_dcap_quote *q,
                     struct pck_entry *ret, struct vt_diag *d)
{
        if (!q->pck_chain_pem)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "dcap: the quote carries no PCK certificate chain "
                                   "(certification data type %u)",
                                   q->pck_cert_type);
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < v->n; i++)
                if (v->cache[i].pem_len == q->pck_chain_len &&
                    memcmp(v->cache[i].pem, q->pck_chain_pem, q->pck_chain_len) == 0) {
                        v->cache[i].tick = ++v->tick;
                        *ret = v->cache[i];
                        ret->pem = NULL; /* the cache keeps its copy */
                        EVP_PKEY_up_ref(ret->leaf_key);
                        X509_up_ref(ret->leaf);
                        X509_up_ref(ret->inter);
                        pthread_mutex_unlock(&v->lock);
                        return 0;
                }
        pthread_mutex_unlock(&v->lock);

        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        struct pck_entry e = {0};
        char cn[128];
        int err;
        if (vt_x509_parse_many((const uint8_t *)q->pck_chain_pem, q->pck_chain_len, &sk) < 0 ||
            sk_X509_num(sk) != 3)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "dcap: the PCK chain is not three PEM certificates");
        X509 *leaf = sk_X509_value(sk, 0), *inter = sk_X509_value(sk, 1),
             *root = sk_X509_value(sk, 2);
        if (!vt_intel_root_is_pinned(root))
                return vt_diag_set(
                        d, VT_E_CHAIN,
                        "dcap: PCK chain root is not the Intel SGX Root CA (pinned by key)");
        vt_x509_subject_cn(leaf, cn, sizeof(cn));
        if (!strstr(cn, "SGX PCK Certificate"))
                return vt_diag_set(d, VT_E_CHAIN,
                                   "dcap: PCK leaf CN \"%s\" is not an SGX PCK Certificate", cn);
        EVP_PKEY *root_key = X509_get0_pubkey(root), *inter_key = X509_get0_pubkey(inter);
        if (!root_key || !inter_key || !is_ecdsa_sha256(inter) || !is_ecdsa_sha256(leaf) ||
            X509_NAME_cmp(X509_get_issuer_name(inter), X509_get_subject_name(root)) != 0 ||
            X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(inter)) != 0 ||
            X509_verify(inter, root_key) != 1 || X509_verify(leaf, inter_key) != 1 ||
            X509_check_ca(inter) < 1) {
                ERR_clear_error();
                return vt_diag_set(
                        d, VT_E_CHAIN,
                        "dcap: PCK chain signatures do not verify to the Intel SGX Root CA");
        }
        if ((err = vt_pck_ext_parse(leaf, &e.ext, d)) < 0)
                return err;
        int64_t nb[3], na[3];
        X509 *certs[3] = {leaf, inter, root};
        for (int i = 0; i < 3; i++)
                if (vt_x509_window(certs[i], &nb[i], &na[i]) < 0)
                        return vt_diag_set(d, VT_E_FORMAT, "dcap: unreadable certificate validity");
        e.nb = nb[0] > nb[1] ? nb[0] : nb[1];
        e.nb = e.nb > nb[2] ? e.nb : nb[2];
        e.na = na[0] < na[1] ? na[0] : na[1];
        e.na = e.na < na[2] ? e.na : na[2];
        e.leaf_key = X509_get_pubkey(leaf);
        e.leaf = X509_dup(leaf);
        e.inter = X509_dup(inter);
        if (!e.leaf_key || !e.leaf || !e.inter ||
            vt_ec_curve_nid(e.leaf_key) != NID_X9_62_prime256v1) {
                pck_entry_done(&e);
                return vt_diag_set(d, VT_E_CHAIN, "dcap: PCK leaf key is not P-256");
        }
        e.pem = malloc(q->pck_chain_len);
        if (!e.pem) {
                pck_entry_done(&e);
                return VT_E_NOMEM;
        }
        memcpy(e.pem, q->pck_chain_pem, q->pck_chain_len);
        e.pem_len = q->pck_chain_len;
        pthread_mutex_lock(&v->lock);
        size_t slot = v->n;
        if (slot == PCK_CACHE_MAX) {
                slot = 0;
                for (size_t i = 1; i < v->n; i++)
                        if (v->cache[i].tick < v->cache[slot].tick)
                                slot = i;
                pck_entry_done(&v->cache[slot]);
        } else {
                v->n++;
        }
        e.tick = ++v->tick;
        v->cache[slot] = e;
        *ret = e;
        ret->pem = NULL;
        EVP_PKEY_up_ref(ret->leaf_key);
        X509_up_ref(ret->leaf);
        X509_up_ref(ret->inter);
        pthread_mutex_unlock(&v->lock);
        return 0;
}

static int check_revocation(const struct vt_dcap_collateral *c, const struct pck_entry *e,
                            struct vt_diag *d)
{
        X509_CRL *pck_crl = vt_dcap_collateral_pck_crl(c),
                 *root_crl = vt_dcap_collateral_root_crl(c);
        X509_REVOKED *r = NULL;
        if (!pck_crl || !root_crl)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "dcap: collateral lacks the PCK or root CA CRL");
        /* the PCK CRL must be the one of the leaf's issuer (Platform or Processor CA) */
        if (X509_NAME_cmp(X509_CRL_get_issuer(pck_crl), X509_get_issuer_name(e->leaf)) != 0)
                return vt_diag_set(d, VT_E_CHAIN,
                                   "dcap: the PCK CRL is not issued by the PCK certificate's CA");
        if (X509_CRL_get0_by_serial(pck_crl, &r, X509_get0_serialNumber(e->leaf)) == 1)
                return vt_diag_set(d, VT_E_REVOKED, "dcap: the PCK certificate is revoked");
        if (X509_CRL_get0_by_serial(root_crl, &r, X509_get0_serialNumber(e->inter)) == 1)
                return vt_diag_set(d, VT_E_REVOKED, "dcap: the PCK CA certificate is revoked");
        return 0;
}

/* Collateral for the quote's platform from memory, the disk cache or the PCCS; only
 * collateral that verifies at `at` is returned or remembered. A parsed collateral is kept
 * in memory (its signatures are checked once); *ret_ent is then set and the caller gives
 * it back with coll_release, else the caller owns *ret. */
static int fetch_collateral(struct vt_dcap_verifier *v, const struct vt_dcap_quote *q,
                            const struct pck_entry *e, int64_t at, struct vt_dcap_collateral **ret,
                            struct coll_entry **ret_ent, struct vt_diag *d)
{
        char issuer[128], fm[13], key[320], file[48];
        bool tdx = q->body_type != VT_DCAP_BODY_SGX;
        vt_x509_issuer_cn(e->leaf, issuer, sizeof(issuer));
        bool platform = strstr(issuer, "Platform") != NULL;
        vt_hex_encode(e->ext.fmspc, 6, fm);
        snprintf(file, sizeof(file), "%s-%s-%s", tdx ? "tdx" : "sgx",
                 platform ? "platform" : "processor", fm);
        snprintf(key, sizeof(key), "%.260s|%s", v->pccs_url ? v->pccs_url : "", file);
        _cleanup_free_ char *json = NULL, *path = NULL;
        int err;
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < COLL_CACHE_MAX; i++) {
                struct coll_entry *ce = &v->coll[i];
                if (ce->c && strcmp(ce->key, key) == 0 && at <= ce->expires) {
                        ce->refs++;
                        *ret = ce->c;
                        *ret_ent = ce;
                        pthread_mutex_unlock(&v->lock);
                        return 0;
                }
        }
        pthread_mutex_unlock(&v->lock);
        if (v->cache_dir && asprintf(&path, "%s/dcap-%s.json", v->cache_dir, file) > 0) {
                uint8_t *b = NULL;
                size_t n;
                if (vt_read_file(path, 4u << 20, &b, &n) == 0)
                        json = (char *)b;
        }
        struct vt_dcap_collateral *c = NULL;
        int64_t exp = 0;
        bool fresh = false;
        if (json && (vt_dcap_collateral_parse(json, strlen(json), &c, NULL) < 0 ||
                     vt_dcap_collateral_verify(c, at, &exp, NULL) < 0)) {
                vt_dcap_collateral_free(c);
                c = NULL;
                free(TAKE_PTR(json));
        }
        if (!json) {
                if (!v->pccs_url)
                        return vt_diag_set(
                                d, VT_E_NOTFOUND,
                                "dcap: no collateral (give a collateral file or a PCCS URL)");
                if ((err = vt_pccs_fetch(v->pccs_url, tdx, platform, e->ext.fmspc, &json, d)) < 0)
                        return err;
                if ((err = vt_dcap_collateral_parse(json, strlen(json), &c, d)) < 0 ||
                    (err = vt_dcap_collateral_verify(c, at, &exp, d)) < 0) {
                        vt_dcap_collateral_free(c);
                        return err;
                }
                fresh = true;
        }
        if (fresh && path)
                (void)vt_write_file_atomic(path, json, strlen(json), 0644);
        /* remember it in a slot no caller is using: the same platform's, else an empty or
         * the first idle one */
        pthread_mutex_lock(&v->lock);
        struct coll_entry *slot = NULL;
        for (size_t i = 0; i < COLL_CACHE_MAX && !slot; i++)
                if (v->coll[i].refs == 0 && (!v->coll[i].c || strcmp(v->coll[i].key, key) == 0))
                        slot = &v->coll[i];
        for (size_t i = 0; i < COLL_CACHE_MAX && !slot; i++)
                if (v->coll[(v->coll_next + i) % COLL_CACHE_MAX].refs == 0)
                        slot = &v->coll[(v->coll_next++ + i) % COLL_CACHE_MAX];
        if (slot) {
                vt_dcap_collateral_free(slot->c);
                snprintf(slot->key, sizeof(slot->key), "%s", key);
                slot->c = c;
                slot->expires = exp;
                slot->refs = 1;
                *ret_ent = slot;
        } else {
                *ret_ent = NULL;
        }
        pthread_mutex_unlock(&v->lock);
        *ret = c;
        return 0;
}

static void coll_release(struct vt_dcap_verifier *v, struct coll_entry *ce)
{
        pthread_mutex_lock(&v->lock);
        ce->refs--;
        pthread_mutex_unlock(&v->lock);
}

int vt_dcap_verify(struct vt_dcap_verifier *v, const uint8_t *buf, size_t len,
                   const struct vt_dcap_collateral *c, int64_t at,
                   const struct vt_dcap_policy_opts *opts, struct vt_dcap_quote **ret_quote,
                   struct vt_dcap_result *ret, struct vt_diag *d)
{
        struct vt_dcap_quote *q = NULL;
        struct pck_entry e = {0};
        EVP_PKEY *ak = NULL;
        struct vt_dcap_result res = {0};
        struct vt_dcap_collateral *fetched = NULL;
        struct coll_entry *cached = NULL;
        int64_t earliest = 0;
        int err;
        if (!v || !buf || !ret)
                return VT_E_INVAL;
        if (!at)
                at = (int64_t)time(NULL);
        if ((err = vt_dcap_quote_parse(buf, len, &q, d)) < 0)
                return err;
        if ((err = pck_chain(v, q, &e, d)) < 0)
                goto out;
        if (!c) {
                struct vt_dcap_collateral *got = NULL;
                if ((err = fetch_collateral(v, q, &e, at, &got, &cached, d)) < 0)
                        goto out;
                if (!cached)
                        fetched = got;
                c = got;
        }
        if ((err = vt_dcap_collateral_verify(c, at, &earliest, d)) < 0)
                goto out;
        if (at < e.nb || at > e.na) {
                char t[21];
                vt_time_format_rfc3339(at, t);
                err = vt_diag_set(d, VT_E_EXPIRED,
                                  "dcap: a PCK chain certificate is not valid at %s", t);
                goto out;
        }
        if ((err = check_revocation(c, &e, d)) < 0)
                goto out;
        /* the QE report is signed by the PCK key */
        if (qe_report_verify(v, e.leaf_key, q) < 0) {
                err = vt_diag_set(d, VT_E_SIGNATURE,
                                  "dcap: QE report signature does not verify with the PCK key");
                goto out;
        }
        /* the QE report binds the attestation key: SHA-256(AK || auth data) */
        {
                uint8_t h[32];
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
                         EVP_DigestUpdate(md, q->attest_key, 64) &&
                         EVP_DigestUpdate(md, q->qe_auth_data, q->qe_auth_len) &&
                         EVP_DigestFinal_ex(md, h, NULL);
                EVP_MD_CTX_free(md);
                static const uint8_t zero[32];
                if (!ok || memcmp(h, q->qe_report.report_data, 32) != 0 ||
                    memcmp(q->qe_report.report_data + 32, zero, 32) != 0) {
                        err = vt_diag_set(d, VT_E_BINDING,
                                          "dcap: QE report data does not bind the attestation key "
                                          "(SHA-256(AK || auth data))");
                        goto out;
                }
        }
        /* the quote signature over header and body */
        ak = attestation_key(v, q->attest_key);
        if (!ak || verify_ecdsa_raw(ak, q->raw, q->signed_len, q->signature) < 0) {
                err = vt_diag_set(d, VT_E_SIGNATURE,
                                  "dcap: quote signature does not verify with the attestation key");
                goto out;
        }
        if ((err = vt_dcap_tcb_evaluate(c, q, &e.ext, &res, d)) < 0)
                goto out;
        res.collateral_earliest_expiry = earliest;
        res.collateral_age =
                at - (c->tcb.issue_date < c->qe.issue_date ? c->tcb.issue_date : c->qe.issue_date);
        unsigned accepted =
                opts && opts->accepted_statuses ? opts->accepted_statuses : 1u << VT_TCB_UP_TO_DATE;
        if (!(accepted & (1u << res.status)))
                err = vt_diag_set(d, VT_E_TCB, "dcap: TCB status %s is not accepted by the policy",
                                  vt_tcb_status_name(res.status));
out:
        vt_dcap_collateral_free(fetched);
        if (cached)
                coll_release(v, cached);
        EVP_PKEY_free(ak);
        pck_entry_done(&e);
        if (err == 0 || err == VT_E_TCB) {
                *ret = res;
                if (ret_quote)
                        *ret_quote = q;
                else
                        vt_dcap_quote_free(q);
        } else {
                vt_dcap_quote_free(q);
        }
        return err;
}

/* ---- claims ---- */

#define SETJ(k, v)                                                                                 \
        do {                                                                                       \
                if (vt_json_set(o, (k), (v)) < 0)                                                  \
                        return VT_E_NOMEM;                                                         \
        } while (0)

int vt_dcap_claims_json(const struct vt_dcap_quote *q, const struct vt_dcap_result *r, char **ret)
{
        json_auto_t *o = json_object(), *adv = json_array();
        char key[16];
        if (!o || !adv)
                return VT_E_NOMEM;
        SETJ("quote_version", json_integer(q->version));
        if (q->body_type == VT_DCAP_BODY_SGX) {
                const struct vt_sgx_report_body *b = &q->sgx;
                SETJ("mr_enclave", vt_json_hex(b->mr_enclave, 32));
                SETJ("mr_signer", vt_json_hex(b->mr_signer, 32));
                SETJ("isv_prod_id", json_integer(b->isv_prod_id));
                SETJ("isv_svn", json_integer(b->isv_svn));
                SETJ("config_svn", json_integer(b->config_svn));
                SETJ("config_id", vt_json_hex(b->config_id, 64));
                SETJ("cpu_svn", vt_json_hex(b->cpusvn, 16));
                SETJ("misc_select", json_integer(b->miscselect));
                SETJ("attributes", vt_json_hex(b->attributes, 16));
                SETJ("debug", json_boolean(b->attributes[0] & 2));
                SETJ("isv_family_id", vt_json_hex(b->isv_family_id, 16));
                SETJ("isv_ext_prod_id", vt_json_hex(b->isv_ext_prod_id, 16));
                SETJ("report_data", vt_json_hex(b->report_data, 64));
        } else {
                const struct vt_td_report_body *b = &q->td;
                SETJ("mr_td", vt_json_hex(b->mr_td, 48));
                SETJ("mr_seam", vt_json_hex(b->mr_seam, 48));
                SETJ("mrsigner_seam", vt_json_hex(b->mr_signer_seam, 48));
                SETJ("mr_config_id", vt_json_hex(b->mr_config_id, 48));
                SETJ("mr_owner", vt_json_hex(b->mr_owner, 48));
                SETJ("mr_owner_config", vt_json_hex(b->mr_owner_config, 48));
                for (int i = 0; i < 4; i++) {
                        snprintf(key, sizeof(key), "rtmr_%d", i);
                        SETJ(key, vt_json_hex(b->rtmr[i], 48));
                }
                SETJ("report_data", vt_json_hex(b->report_data, 64));
                SETJ("tcb_svn", vt_json_hex(b->tee_tcb_svn, 16));
                SETJ("td_attributes", json_integer((json_int_t)b->td_attributes));
                SETJ("td_attributes_debug", json_boolean(b->td_attributes & 1));
                SETJ("td_attributes_sept_ve_disable",
                     json_boolean(b->td_attributes & (1ull << 28)));
                SETJ("td_attributes_protection_keys",
                     json_boolean(b->td_attributes & (1ull << 30)));
                SETJ("td_attributes_key_locker", json_boolean(b->td_attributes & (1ull << 31)));
                SETJ("td_attributes_perfmon", json_boolean(b->td_attributes & (1ull << 63)));
                SETJ("xfam", json_integer((json_int_t)b->xfam));
                SETJ("seam_attributes", json_integer((json_int_t)b->seam_attributes));
                if (q->body_type == VT_DCAP_BODY_TD15) {
                        SETJ("tcb_svn_2", vt_json_hex(b->tee_tcb_svn2, 16));
                        SETJ("mr_servicetd", vt_json_hex(b->mr_service_td, 48));
                }
        }
        if (r) {
                SETJ("tcb_status", json_string(vt_tcb_status_name(r->status)));
                for (size_t i = 0; i < r->n_advisories; i++)
                        if (json_array_append_new(adv, json_string(r->advisory_ids[i])) < 0)
                                return VT_E_NOMEM;
                SETJ("advisory_ids", json_incref(adv));
                SETJ("fmspc", vt_json_hex(r->fmspc, 6));
                SETJ("pce_id", vt_json_hex(r->pce_id, 2));
                if (r->tdx_module_id[0])
                        SETJ("tdx_module_id", json_string(r->tdx_module_id));
        }
        return vt_json_dump(o, ret);
}
