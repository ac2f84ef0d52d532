/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SEV-SNP verification: leaf (VCEK/VLEK) chain to a pinned AMD root, report
 * signature over the raw signed bytes, leaf TCB/hwID binding, optional CRL and
 * reference-value policy. Verified leaves are cached by the SHA-256 of their DER
 * and of the intermediate, so a warm verification costs one SHA-384 and one
 * ECDSA P-384 verify.
 */
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "collateral/kds.h"
#include "crypto/digest.h"
#include "crypto/ecfixed.h"
#include "crypto/x509.h"
#include "evidence/snp_internal.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/rd.h"
#include "verify/amd_roots.h"
#include "veritee/snp.h"

#define VT_MAX_ROOTS       16
#define VT_LEAF_CACHE_MAX  256
#define VT_FETCH_CACHE_MAX 64
#define AMD_OID            "1.3.6.1.4.1.3704.1."

struct root {
        enum vt_snp_product product;
        bool builtin;
        X509 *ark;
        EVP_PKEY *ark_key;
        uint8_t ark_spki[32];
        X509 *inter[4]; /* ASK, ASVK (or whatever a bundle added) */
        size_t n_inter;
};

/* Values of the AMD extensions of a VCEK/VLEK. -1: absent. */
struct leaf_ext {
        int struct_version;
        char product_name[32];
        int bl, tee, snp, ucode, fmc;
        uint8_t hwid[64];
        size_t hwid_len;
        bool has_csp_id;
};

struct leaf_entry {
        uint8_t key_hash[32]; /* SHA-256(SHA-256(leaf bytes) || SHA-256(chain bytes)) */
        EVP_PKEY *key;
        struct vt_ecfix_key point; /* key's, for its verifications (vt_ecdsa_verify_rs_seen) */
        struct leaf_ext ext;
        enum vt_snp_product product;
        enum vt_snp_signer signer;
        bool builtin;
        int64_t nb[3], na[3]; /* leaf, intermediate, root */
        char cn[3][64];
        X509 *inter_cert; /* for CRL serial checks */
        const struct root *root;
        uint64_t tick;
};

/* A leaf fetched for a report without one, by URL (product, hwID, TCB). */
struct mem_leaf {
        uint8_t url_hash[32];
        uint8_t *buf;
        size_t len;
};

struct vt_snp_verifier {
        pthread_mutex_t lock;
        struct root roots[VT_MAX_ROOTS];
        size_t n_roots;
        /* verified chains: n_cache used of cap_cache, grown on a miss up to
         * VT_LEAF_CACHE_MAX (a server sees few chips; an idle one none: ~115 KiB not
         * kept resident per verifier) */
        struct leaf_entry *cache;
        size_t n_cache, cap_cache;
        uint64_t tick;
        struct mem_leaf fetched[VT_FETCH_CACHE_MAX];
        size_t fetched_next;
        char *kds_url;
        char *cache_dir;
        long fetch_timeout_ms;    /* 0: 30 s */
        struct vt_kds_gate *gate; /* NULL: no limits on fetches */
};

static void root_done(struct root *r)
{
        X509_free(r->ark);
        EVP_PKEY_free(r->ark_key);
        for (size_t i = 0; i < r->n_inter; i++)
                X509_free(r->inter[i]);
        memset(r, 0, sizeof(*r));
}

static void leaf_entry_done(struct leaf_entry *e)
{
        EVP_PKEY_free(e->key);
        X509_free(e->inter_cert);
        memset(e, 0, sizeof(*e));
}

void vt_snp_verifier_free(struct vt_snp_verifier *v)
{
        if (!v)
                return;
        for (size_t i = 0; i < v->n_roots; i++)
                root_done(&v->roots[i]);
        for (size_t i = 0; i < v->n_cache; i++)
                leaf_entry_done(&v->cache[i]);
        free(v->cache);
        for (size_t i = 0; i < VT_FETCH_CACHE_MAX; i++)
                free(v->fetched[i].buf);
        pthread_mutex_destroy(&v->lock);
        free(v->kds_url);
        free(v->cache_dir);
        vt_kds_gate_free(v->gate);
        free(v);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_snp_verifier *, vt_snp_verifier_free)

static bool is_self_signed(X509 *x)
{
        return X509_check_issued(x, x) == X509_V_OK;
}

/* Adds a root from a bundle: exactly one self-signed certificate (the ARK) and any
 * number of intermediates that the ARK signed. */
static int add_root_bundle(struct vt_snp_verifier *v, enum vt_snp_product p, bool builtin,
                           const uint8_t *buf, size_t len, const uint8_t *pin, struct vt_diag *d)
{
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        struct root r = {.product = p, .builtin = builtin};
        int e;

        if (v->n_roots >= VT_MAX_ROOTS)
                return vt_diag_set(d, VT_E_INVAL, "snp: too many trusted roots");
        if ((e = vt_x509_parse_many(buf, len, &sk)) < 0)
                return vt_diag_set(d, e, "snp: root bundle: cannot parse certificates");
        for (int i = 0; i < sk_X509_num(sk); i++) {
                X509 *x = sk_X509_value(sk, i);
                if (is_self_signed(x)) {
                        if (r.ark) {
                                root_done(&r);
                                return vt_diag_set(
                                        d, VT_E_CHAIN,
                                        "snp: root bundle has two self-signed certificates");
                        }
                        r.ark = X509_dup(x);
                }
        }
        if (!r.ark)
                return vt_diag_set(d, VT_E_CHAIN, "snp: root bundle has no self-signed ARK");
        r.ark_key = X509_get_pubkey(r.ark);
        if (!r.ark_key || vt_x509_spki_sha256(r.ark, r.ark_spki) < 0) {
                root_done(&r);
                return vt_diag_set(d, VT_E_CRYPTO, "snp: root: cannot read ARK key");
        }
        if (pin) {
                uint8_t h[32];
                if (vt_x509_der_sha256(r.ark, h) < 0 || memcmp(h, pin, 32) != 0) {
                        root_done(&r);
                        return vt_diag_set(d, VT_E_CHAIN,
                                           "snp: built-in ARK does not match its pin");
                }
        }
        if (vt_x509_verify_pss384(r.ark, r.ark_key) < 0) {
                root_done(&r);
                return vt_diag_set(
                        d, VT_E_CHAIN,
                        "snp: ARK self-signature is not RSA-PSS/SHA-384 or does not verify");
        }
        for (int i = 0; i < sk_X509_num(sk); i++) {
                X509 *x = sk_X509_value(sk, i);
                if (is_self_signed(x))
                        continue;
                if (r.n_inter >= ELEMENTSOF(r.inter) ||
                    X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(r.ark)) != 0 ||
                    vt_x509_verify_pss384(x, r.ark_key) < 0) {
                        root_done(&r);
                        return vt_diag_set(
                                d, VT_E_CHAIN,
                                "snp: root bundle intermediate %d is not signed by its ARK", i);
                }
                r.inter[r.n_inter++] = X509_dup(x);
        }
        v->roots[v->n_roots++] = r;
        return 0;
}

int vt_snp_verifier_new(struct vt_snp_verifier **ret)
{
        _cleanup_(vt_snp_verifier_freep) struct vt_snp_verifier *v = calloc(1, sizeof(*v));
        struct vt_diag d = {0};
        if (!v)
                return VT_E_NOMEM;
        pthread_mutex_init(&v->lock, NULL);
        v->kds_url = strdup(VT_KDS_DEFAULT_URL);
        if (!v->kds_url)
                return VT_E_NOMEM;
        for (size_t i = 0; i < vt_amd_roots_count; i++) {
                const struct vt_amd_root *a = &vt_amd_roots[i];
                char bundle[12 * 1024];
                int n = snprintf(bundle, sizeof(bundle), "%s%s%s", a->ark_pem, a->ask_pem,
                                 a->asvk_pem);
                if (n < 0 || (size_t)n >= sizeof(bundle))
                        return VT_E_INVAL;
                int e = add_root_bundle(v, a->product, true, (const uint8_t *)bundle, (size_t)n,
                                        a->ark_sha256, &d);
                if (e < 0)
                        return e;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

int vt_snp_verifier_set_kds(struct vt_snp_verifier *v, const char *base_url, const char *cache_dir)
{
        char *u = NULL, *c = NULL;
        if (!v)
                return VT_E_INVAL;
        if (base_url && !(u = strdup(base_url)))
                return VT_E_NOMEM;
        if (cache_dir && !(c = strdup(cache_dir))) {
                free(u);
                return VT_E_NOMEM;
        }
        if (u) {
                free(v->kds_url);
                v->kds_url = u;
        }
        free(v->cache_dir);
        v->cache_dir = c;
        return 0;
}

int vt_snp_verifier_set_fetch_limits(struct vt_snp_verifier *v, unsigned timeout_ms,
                                     unsigned max_in_flight, unsigned retry_s)
{
        struct vt_kds_gate *g = NULL;
        if (!v)
                return VT_E_INVAL;
        int e = vt_kds_gate_new(max_in_flight, retry_s, &g);
        if (e < 0)
                return e;
        vt_kds_gate_free(v->gate);
        v->gate = g;
        v->fetch_timeout_ms = (long)timeout_ms;
        return 0;
}

int vt_snp_verifier_add_root(struct vt_snp_verifier *v, enum vt_snp_product p, const uint8_t *cert,
                             size_t len, struct vt_diag *d)
{
        if (!v || p == VT_SNP_PRODUCT_UNKNOWN || (unsigned)p >= _VT_SNP_PRODUCT_MAX)
                return VT_E_INVAL;
        pthread_mutex_lock(&v->lock);
        int e = add_root_bundle(v, p, false, cert, len, NULL, d);
        pthread_mutex_unlock(&v->lock);
        return e;
}

/* ---- leaf extensions ---- */

static int ext_int(X509 *x, const char *oid, int *ret, const char *what, struct vt_diag *d)
{
        const uint8_t *p;
        size_t n;
        int e = vt_x509_ext_data(x, oid, &p, &n);
        if (e == VT_E_NOTFOUND) {
                *ret = -1;
                return 0;
        }
        if (e < 0)
                return vt_diag_set(d, VT_E_FORMAT, "snp: leaf extension %s is duplicated", what);
        /* DER INTEGER 0..255 and nothing after it */
        struct vt_rd r;
        uint64_t val = 0;
        vt_rd_init(&r, p, n);
        if (vt_rd_der_uint64(&r, VT_DER_INTEGER, &val) < 0 || vt_rd_done(&r) < 0 || val > 255)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "snp: leaf extension %s is not an INTEGER 0..255", what);
        *ret = (int)val;
        return 0;
}

static int parse_leaf_ext(X509 *x, struct leaf_ext *ret, struct vt_diag *d)
{
        struct leaf_ext le = {.struct_version = -1};
        const uint8_t *p;
        size_t n;
        int e;

        if ((e = ext_int(x, AMD_OID "1", &le.struct_version, "structVersion", d)) < 0 ||
            (e = ext_int(x, AMD_OID "3.1", &le.bl, "blSPL", d)) < 0 ||
            (e = ext_int(x, AMD_OID "3.2", &le.tee, "teeSPL", d)) < 0 ||
            (e = ext_int(x, AMD_OID "3.3", &le.snp, "snpSPL", d)) < 0 ||
            (e = ext_int(x, AMD_OID "3.8", &le.ucode, "ucodeSPL", d)) < 0 ||
            (e = ext_int(x, AMD_OID "3.9", &le.fmc, "fmcSPL", d)) < 0)
                return e;
        if (le.bl < 0 || le.tee < 0 || le.snp < 0 || le.ucode < 0)
                return vt_diag_set(
                        d, VT_E_FORMAT,
                        "snp: leaf lacks a TCB extension (blSPL, teeSPL, snpSPL, ucodeSPL)");
        e = vt_x509_ext_data(x, AMD_OID "2", &p, &n);
        if (e == 0) {
                /* one DER IA5String, short enough for product_name, and nothing after it */
                struct vt_rd r, s;
                vt_rd_init(&r, p, n);
                if (vt_rd_der(&r, VT_DER_IA5STRING, &s) < 0 || vt_rd_done(&r) < 0 ||
                    s.len >= sizeof(le.product_name))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "snp: leaf productName is not a short IA5String");
                for (size_t i = 0; i < s.len; i++) {
                        if (s.p[i] < 0x20 || s.p[i] > 0x7e)
                                return vt_diag_set(
                                        d, VT_E_FORMAT,
                                        "snp: leaf productName has a non-printable byte");
                        le.product_name[i] = (char)s.p[i];
                }
        } else if (e != VT_E_NOTFOUND) {
                return vt_diag_set(d, VT_E_FORMAT, "snp: leaf productName is duplicated");
        }
        e = vt_x509_ext_data(x, AMD_OID "4", &p, &n);
        if (e == 0) {
                /* raw bytes; some tools wrap them in an OCTET STRING (of 64 or 8 bytes) */
                struct vt_rd r, s;
                vt_rd_init(&r, p, n);
                if ((n == 66 || n == 10) && vt_rd_der(&r, VT_DER_OCTET_STRING, &s) == 0 &&
                    vt_rd_done(&r) == 0) {
                        p = s.p;
                        n = s.len;
                }
                if (n != 64 && n != 8)
                        return vt_diag_set(
                                d, VT_E_FORMAT,
                                "snp: leaf hwID has %zu bytes (expected 64, or 8 on Turin)", n);
                memcpy(le.hwid, p, n);
                le.hwid_len = n;
        } else if (e != VT_E_NOTFOUND) {
                return vt_diag_set(d, VT_E_FORMAT, "snp: leaf hwID is duplicated");
        }
        le.has_csp_id = vt_x509_ext_data(x, AMD_OID "5", &p, &n) == 0;
        *ret = le;
        return 0;
}

static enum vt_snp_product product_from_leaf_name(const char *name)
{
        char base[32];
        enum vt_snp_product p;
        size_t i = 0;
        for (; name[i] && name[i] != '-' && i + 1 < sizeof(base); i++)
                base[i] = name[i];
        base[i] = 0;
        if (vt_snp_product_from_name(base, &p) < 0)
                return VT_SNP_PRODUCT_UNKNOWN;
        return p;
}

/* ---- chain ---- */

static void fmt_time(int64_t t, char buf[21])
{
        vt_time_format_rfc3339(t, buf);
}

/* Builds and verifies leaf -> intermediate -> pinned root; fills a cache entry. */
static int verify_chain(struct vt_snp_verifier *v, X509 *leaf, STACK_OF(X509) * extra,
                        struct leaf_entry *ret, struct vt_diag *d)
{
        struct leaf_entry le = {0};
        char lcn[64], icn[64];
        int e;

        vt_x509_subject_cn(leaf, lcn, sizeof(lcn));
        if (strcmp(lcn, "SEV-VCEK") == 0)
                le.signer = VT_SNP_SIGNER_VCEK;
        else if (strcmp(lcn, "SEV-VLEK") == 0)
                le.signer = VT_SNP_SIGNER_VLEK;
        else
                return vt_diag_set(d, VT_E_CHAIN,
                                   "snp: leaf CN \"%s\" is neither SEV-VCEK nor SEV-VLEK", lcn);
        le.key = X509_get_pubkey(leaf);
        if (!le.key || vt_ec_curve_nid(le.key) != NID_secp384r1) {
                EVP_PKEY_free(le.key);
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CHAIN, "snp: leaf key is not EC P-384");
        }
        vt_ecfix_key_of(le.key, &le.point);
        if ((e = parse_leaf_ext(leaf, &le.ext, d)) < 0)
                goto fail;

        /* A supplied ARK is only acceptable if it is one of the pinned roots. */
        for (int i = 0; extra && i < sk_X509_num(extra); i++) {
                X509 *x = sk_X509_value(extra, i);
                if (!is_self_signed(x))
                        continue;
                uint8_t spki[32];
                bool pinned = false;
                if (vt_x509_spki_sha256(x, spki) == 0)
                        for (size_t k = 0; k < v->n_roots; k++)
                                if (memcmp(spki, v->roots[k].ark_spki, 32) == 0)
                                        pinned = true;
                if (!pinned) {
                        char cn[64];
                        vt_x509_subject_cn(x, cn, sizeof(cn));
                        e = vt_diag_set(
                                d, VT_E_CHAIN,
                                "snp: supplied root \"%s\" does not match any pinned AMD root key",
                                cn);
                        goto fail;
                }
        }

        /* Candidate intermediates: the supplied ones first, then each root's own. */
        X509 *inter = NULL;
        const struct root *root = NULL;
        vt_x509_issuer_cn(leaf, icn, sizeof(icn));
        for (int pass = 0; pass < 2 && !inter; pass++) {
                for (size_t k = 0; k < v->n_roots && !inter; k++) {
                        const struct root *r = &v->roots[k];
                        size_t n =
                                pass == 0 ? (extra ? (size_t)sk_X509_num(extra) : 0) : r->n_inter;
                        for (size_t j = 0; j < n && !inter; j++) {
                                X509 *c = pass == 0 ? sk_X509_value(extra, (int)j) : r->inter[j];
                                if (is_self_signed(c))
                                        continue;
                                if (X509_NAME_cmp(X509_get_subject_name(c),
                                                  X509_get_issuer_name(leaf)) != 0 ||
                                    X509_NAME_cmp(X509_get_issuer_name(c),
                                                  X509_get_subject_name(r->ark)) != 0)
                                        continue;
                                if (vt_x509_verify_pss384(c, r->ark_key) < 0)
                                        continue;
                                if (vt_x509_verify_pss384(leaf, X509_get0_pubkey(c)) < 0)
                                        continue;
                                inter = c;
                                root = r;
                        }
                }
        }
        if (!inter) {
                e = vt_diag_set(d, VT_E_CHAIN,
                                "snp: chain: no trusted intermediate \"%s\" signs the %s with "
                                "RSA-PSS/SHA-384 under a pinned AMD root",
                                icn, lcn);
                goto fail;
        }
        vt_x509_subject_cn(inter, icn, sizeof(icn));
        if (X509_check_ca(inter) < 1) {
                e = vt_diag_set(d, VT_E_CHAIN, "snp: chain: intermediate \"%s\" is not a CA", icn);
                goto fail;
        }
        bool vlek_inter = strncmp(icn, "SEV-VLEK-", 9) == 0;
        if ((le.signer == VT_SNP_SIGNER_VLEK) != vlek_inter) {
                e = vt_diag_set(d, VT_E_CHAIN, "snp: chain: %s must be issued by %s, not \"%s\"",
                                lcn,
                                le.signer == VT_SNP_SIGNER_VLEK ? "the ASVK (SEV-VLEK-*)"
                                                                : "the ASK (SEV-*)",
                                icn);
                goto fail;
        }
        le.product = root->product;
        le.builtin = root->builtin;
        le.root = root;
        if (le.ext.product_name[0]) {
                enum vt_snp_product lp = product_from_leaf_name(le.ext.product_name);
                if (lp != le.product) {
                        e = vt_diag_set(d, VT_E_CHAIN,
                                        "snp: leaf productName \"%s\" does not match the %s root",
                                        le.ext.product_name, vt_snp_product_name(le.product));
                        goto fail;
                }
        }
        if (le.ext.struct_version >= 0 &&
            le.ext.struct_version != (le.product == VT_SNP_PRODUCT_TURIN ? 1 : 0)) {
                e = vt_diag_set(d, VT_E_CHAIN, "snp: leaf structVersion %d does not fit %s",
                                le.ext.struct_version, vt_snp_product_name(le.product));
                goto fail;
        }
        if (le.signer == VT_SNP_SIGNER_VCEK && le.ext.hwid_len == 0) {
                e = vt_diag_set(d, VT_E_FORMAT, "snp: VCEK has no hwID extension");
                goto fail;
        }
        if (le.product == VT_SNP_PRODUCT_TURIN && le.ext.fmc < 0) {
                e = vt_diag_set(d, VT_E_FORMAT, "snp: Turin leaf has no fmcSPL extension");
                goto fail;
        }
        X509 *certs[3] = {leaf, inter, root->ark};
        for (int i = 0; i < 3; i++) {
                if (vt_x509_window(certs[i], &le.nb[i], &le.na[i]) < 0) {
                        e = vt_diag_set(d, VT_E_FORMAT,
                                        "snp: certificate has an unreadable validity window");
                        goto fail;
                }
                vt_x509_subject_cn(certs[i], le.cn[i], sizeof(le.cn[i]));
        }
        le.inter_cert = X509_dup(inter);
        if (!le.inter_cert) {
                e = VT_E_NOMEM;
                goto fail;
        }
        *ret = le;
        return 0;
fail:
        leaf_entry_done(&le);
        return e;
}

static int check_windows(const struct leaf_entry *le, int64_t at, struct vt_diag *d)
{
        static const char *const role[3] = {"leaf", "intermediate", "root"};
        for (int i = 0; i < 3; i++) {
                if (at < le->nb[i] || at > le->na[i]) {
                        char a[21], b[21], c[21];
                        fmt_time(at, a);
                        fmt_time(le->nb[i], b);
                        fmt_time(le->na[i], c);
                        return vt_diag_set(
                                d, VT_E_EXPIRED,
                                "snp: %s certificate \"%s\" is not valid at %s (valid %s to %s)",
                                role[i], le->cn[i], a, b, c);
                }
        }
        return 0;
}

static int check_crl(const struct leaf_entry *le, const uint8_t *buf, size_t len, int64_t at,
                     struct vt_diag *d)
{
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        X509_REVOKED *rev = NULL;
        int e = vt_crl_parse(buf, len, &crl);
        if (e < 0)
                return vt_diag_set(d, e, "snp: crl: cannot parse (PEM or DER expected)");
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(le->root->ark)) != 0)
                return vt_diag_set(d, VT_E_CHAIN, "snp: crl: issuer is not the chain's root \"%s\"",
                                   le->cn[2]);
        if (X509_CRL_verify(crl, le->root->ark_key) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "snp: crl: signature does not verify with \"%s\"", le->cn[2]);
        }
        if (!vt_crl_is_pss384(crl))
                return vt_diag_set(d, VT_E_SIGNATURE, "snp: crl: not signed with RSA-PSS/SHA-384");
        const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
        const ASN1_TIME *last = X509_CRL_get0_lastUpdate(crl);
        int64_t tl, tn;
        if (!last || vt_asn1_time_epoch(last, &tl) < 0 ||
            (next && vt_asn1_time_epoch(next, &tn) < 0))
                return vt_diag_set(d, VT_E_FORMAT, "snp: crl: unreadable update times");
        if (tl > at)
                return vt_diag_set(d, VT_E_EXPIRED,
                                   "snp: crl: not yet valid at the verification time");
        if (next && tn < at)
                return vt_diag_set(d, VT_E_EXPIRED,
                                   "snp: crl: next update has passed at the verification time");
        if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(le->inter_cert)) == 1)
                return vt_diag_set(d, VT_E_REVOKED,
                                   "snp: intermediate \"%s\" is revoked by the CRL", le->cn[1]);
        return 0;
}

static int cache_key(const uint8_t *leaf, size_t leaf_len, const uint8_t *chain, size_t chain_len,
                     uint8_t out[32])
{
        uint8_t h[64];
        if (!EVP_Digest(leaf, leaf_len, h, NULL, EVP_sha256(), NULL) ||
            !EVP_Digest(chain ? chain : (const uint8_t *)"", chain ? chain_len : 0, h + 32, NULL,
                        EVP_sha256(), NULL) ||
            !EVP_Digest(h, sizeof(h), out, NULL, EVP_sha256(), NULL))
                return VT_E_CRYPTO;
        return 0;
}

/* grow_cache doubles v's leaf cache (8 entries first, at most VT_LEAF_CACHE_MAX). Called
 * with v->lock held, on a miss: a chain was just parsed and verified, which costs far more
 * than the copy. */
static int grow_cache(struct vt_snp_verifier *v)
{
        size_t cap = v->cap_cache ? v->cap_cache * 2 : 8;
        if (cap > VT_LEAF_CACHE_MAX)
                cap = VT_LEAF_CACHE_MAX;
        struct leaf_entry *c = reallocarray(v->cache, cap, sizeof(*c));
        if (!c)
                return VT_E_NOMEM;
        v->cache = c;
        v->cap_cache = cap;
        return 0;
}

/* Looks the leaf (raw bytes as given, plus the raw supplied chain) up in the cache, or
 * parses and verifies its chain and caches it. Copies the entry, with its own
 * references, into *ret. A warm lookup parses nothing. */
static int get_leaf(struct vt_snp_verifier *v, const uint8_t *leaf_buf, size_t leaf_len,
                    const uint8_t *chain, size_t chain_len, struct leaf_entry *ret,
                    struct vt_diag *d)
{
        _cleanup_(X509_freep) X509 *leaf = NULL;
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *extra = NULL;
        uint8_t kh[32];
        int e;
        if ((e = cache_key(leaf_buf, leaf_len, chain, chain_len, kh)) < 0)
                return e;
        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < v->n_cache; i++) {
                struct leaf_entry *c = &v->cache[i];
                if (memcmp(c->key_hash, kh, 32) != 0)
                        continue;
                c->tick = ++v->tick;
                *ret = *c;
                EVP_PKEY_up_ref(ret->key);
                X509_up_ref(ret->inter_cert);
                pthread_mutex_unlock(&v->lock);
                return 0;
        }
        pthread_mutex_unlock(&v->lock);

        if ((e = vt_x509_parse_one(leaf_buf, leaf_len, &leaf)) < 0)
                return vt_diag_set(d, e, "snp: cannot parse the leaf certificate (PEM or DER)");
        if (chain && (e = vt_x509_parse_many(chain, chain_len, &extra)) < 0)
                return vt_diag_set(d, e, "snp: cannot parse the certificate chain (PEM or DER)");
        struct leaf_entry le;
        pthread_mutex_lock(&v->lock);
        e = verify_chain(v, leaf, extra, &le, d);
        if (e < 0) {
                pthread_mutex_unlock(&v->lock);
                return e;
        }
        memcpy(le.key_hash, kh, 32);
        size_t slot = v->n_cache;
        if (slot == VT_LEAF_CACHE_MAX) {
                slot = 0;
                for (size_t i = 1; i < v->n_cache; i++)
                        if (v->cache[i].tick < v->cache[slot].tick)
                                slot = i;
                leaf_entry_done(&v->cache[slot]);
        } else if (slot == v->cap_cache && grow_cache(v) < 0) {
                /* verified but not cached: the caller gets the references */
                pthread_mutex_unlock(&v->lock);
                *ret = le;
                return 0;
        } else {
                v->n_cache++;
        }
        le.tick = ++v->tick;
        v->cache[slot] = le;
        *ret = le;
        EVP_PKEY_up_ref(ret->key);
        X509_up_ref(ret->inter_cert);
        pthread_mutex_unlock(&v->lock);
        return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
        uint8_t acc = 0;
        for (size_t i = 0; i < n; i++)
                acc |= p[i];
        return acc == 0;
}

static int check_tcb_binding(const struct vt_snp_report *r, const struct leaf_entry *le,
                             const char *lname, struct vt_diag *d)
{
        const struct vt_snp_tcb *t = &r->reported_tcb;
        const struct {
                const char *field, *ext;
                int have, want;
        } parts[] = {
                {"bootloader", "blSPL", t->bootloader, le->ext.bl},
                {"tee", "teeSPL", t->tee, le->ext.tee},
                {"snp", "snpSPL", t->snp, le->ext.snp},
                {"microcode", "ucodeSPL", t->microcode, le->ext.ucode},
                {"fmc", "fmcSPL", t->fmc, t->turin ? le->ext.fmc : t->fmc},
        };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                if (parts[i].have != parts[i].want)
                        return vt_diag_set(
                                d, VT_E_TCB, "snp: reported_tcb.%s 0x%02x != %s %s 0x%02x",
                                parts[i].field, parts[i].have, lname, parts[i].ext, parts[i].want);
        return 0;
}

static int check_hwid(const struct vt_snp_report *r, const struct leaf_entry *le, struct vt_diag *d)
{
        char want[129], have[129];
        if (le->signer != VT_SNP_SIGNER_VCEK)
                return 0;
        if (all_zero(r->chip_id, 64))
                return 0; /* MASK_CHIP_ID: the host zeroed the chip id */
        bool turin = le->product == VT_SNP_PRODUCT_TURIN;
        size_t n = turin ? 8 : 64;
        if (le->ext.hwid_len != n)
                return vt_diag_set(d, VT_E_FORMAT, "snp: VCEK hwID has %zu bytes, %s uses %zu",
                                   le->ext.hwid_len, vt_snp_product_name(le->product), n);
        if (memcmp(r->chip_id, le->ext.hwid, n) != 0 || (turin && !all_zero(r->chip_id + 8, 56))) {
                vt_hex_encode(le->ext.hwid, n, want);
                vt_hex_encode(r->chip_id, turin ? 64 : n, have);
                return vt_diag_set(d, VT_E_BINDING, "snp: chip_id %s != VCEK hwID %s", have, want);
        }
        return 0;
}

/* A leaf found for a report without one: from memory, the disk cache or KDS. It is
 * remembered (memory, disk) only after it verified, so that one bad answer from a
 * mirror cannot poison the caches. */
struct fetched_leaf {
        uint8_t *buf;
        size_t len;
        uint8_t url_hash[32];
        char *cache_path;
        enum { FROM_MEMORY, FROM_DISK, FROM_NETWORK } source;
};

static void fetched_leaf_done(struct fetched_leaf *f)
{
        free(f->buf);
        free(f->cache_path);
        memset(f, 0, sizeof(*f));
}

static int fetch_leaf(struct vt_snp_verifier *v, const struct vt_snp_report *r,
                      enum vt_snp_product p, int64_t at, const char *client,
                      struct fetched_leaf *ret, struct vt_diag *d)
{
        _cleanup_free_ char *url = NULL, *path = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int e;

        if (vt_snp_signing_key(r) == VT_SNP_SIGNER_VLEK)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "snp: report is signed by a VLEK, which KDS does not publish: "
                                   "pass the VLEK certificate (--cert)");
        if (p == VT_SNP_PRODUCT_UNKNOWN)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "snp: product unknown (version %u report without CPUID): pass "
                                   "--product or the VCEK (--cert)",
                                   r->version);
        if (all_zero(r->chip_id, 64))
                return vt_diag_set(
                        d, VT_E_NOTFOUND,
                        "snp: chip_id is masked, KDS cannot serve the VCEK: pass it with --cert");
        pthread_mutex_lock(&v->lock);
        e = vt_snp_kds_vcek_url(v->kds_url, p, r, &url);
        if (e == 0 && v->cache_dir)
                e = vt_kds_cache_path(v->cache_dir, p, r, &path);
        if (e == 0 && !EVP_Digest(url, strlen(url), ret->url_hash, NULL, EVP_sha256(), NULL))
                e = VT_E_CRYPTO;
        for (size_t i = 0; e == 0 && i < VT_FETCH_CACHE_MAX; i++) {
                struct mem_leaf *m = &v->fetched[i];
                if (m->buf && memcmp(m->url_hash, ret->url_hash, 32) == 0) {
                        ret->buf = malloc(m->len);
                        if (!ret->buf) {
                                e = VT_E_NOMEM;
                                break;
                        }
                        memcpy(ret->buf, m->buf, m->len);
                        ret->len = m->len;
                        ret->source = FROM_MEMORY;
                        pthread_mutex_unlock(&v->lock);
                        return 0;
                }
        }
        pthread_mutex_unlock(&v->lock);
        if (e < 0)
                return vt_diag_set(d, e, "snp: cannot build the KDS URL");

        ret->source = FROM_NETWORK;
        if (path && vt_read_file(path, VT_CERT_MAX_BYTES, &buf, &len) == 0) {
                X509 *x = NULL;
                int64_t nb, na;
                if (vt_x509_parse_one(buf, len, &x) == 0 && vt_x509_window(x, &nb, &na) == 0 &&
                    at >= nb && at <= na)
                        ret->source = FROM_DISK;
                else
                        free(TAKE_PTR(buf));
                X509_free(x);
        }
        if (ret->source == FROM_NETWORK) {
                /* the gate (a server's): bounded in number, per client and in time, and
                 * a failure is remembered, so that no client can hold every thread */
                int64_t now = (int64_t)time(NULL);
                if (v->gate && (e = vt_kds_gate_enter(v->gate, ret->url_hash, client, now, d)) < 0)
                        return e;
                X509 *x = NULL;
                e = vt_kds_get(url, VT_CERT_MAX_BYTES, v->fetch_timeout_ms, &buf, &len, d);
                if (e == 0 && vt_x509_parse_one(buf, len, &x) < 0)
                        e = vt_diag_set(d, VT_E_FORMAT,
                                        "snp: KDS answer from %s is not a certificate", url);
                X509_free(x);
                if (v->gate)
                        vt_kds_gate_leave(v->gate, ret->url_hash, e < 0, (int64_t)time(NULL));
                if (e < 0)
                        return e;
        }
        ret->buf = TAKE_PTR(buf);
        ret->len = len;
        ret->cache_path = TAKE_PTR(path);
        return 0;
}

/* Called once the fetched leaf verified (or failed to). */
static void fetched_leaf_settle(struct vt_snp_verifier *v, struct fetched_leaf *f, bool verified)
{
        if (!f->buf || f->source == FROM_MEMORY)
                return;
        if (!verified) {
                /* a cached file that does not verify is dropped, so the next call fetches again */
                if (f->source == FROM_DISK && f->cache_path)
                        (void)unlink(f->cache_path);
                return;
        }
        /* A cache that cannot be written is not fatal: the certificate is still good. */
        if (f->source == FROM_NETWORK && f->cache_path)
                (void)vt_write_file_atomic(f->cache_path, f->buf, f->len, 0644);
        uint8_t *copy = malloc(f->len);
        if (!copy)
                return;
        memcpy(copy, f->buf, f->len);
        pthread_mutex_lock(&v->lock);
        struct mem_leaf *m = &v->fetched[v->fetched_next++ % VT_FETCH_CACHE_MAX];
        free(m->buf);
        memcpy(m->url_hash, f->url_hash, 32);
        m->buf = copy;
        m->len = f->len;
        pthread_mutex_unlock(&v->lock);
}

int vt_snp_verify(struct vt_snp_verifier *v, const uint8_t *buf, size_t len,
                  const struct vt_snp_verify_opts *o, struct vt_snp_result *ret, struct vt_diag *d)
{
        static const struct vt_snp_verify_opts none = {0};
        struct vt_snp_report r;
        struct fetched_leaf fetched = {0};
        const uint8_t *leaf = o ? o->leaf : NULL;
        size_t leaf_len = o ? o->leaf_len : 0;
        struct leaf_entry le = {0};
        int e;

        if (!v || !buf || !ret)
                return VT_E_INVAL;
        if (!o)
                o = &none;
        int64_t at = o->at ? o->at : (int64_t)time(NULL);

        if ((e = vt_snp_report_parse(buf, len, &r, d)) < 0)
                return e;
        unsigned sk = vt_snp_signing_key(&r);
        if (sk == VT_SNP_SIGNER_NONE)
                return vt_diag_set(d, VT_E_SIGNATURE, "snp: report is not signed (signing key 7)");

        enum vt_snp_product p = r.product;
        if (o->product != VT_SNP_PRODUCT_UNKNOWN) {
                if (p != VT_SNP_PRODUCT_UNKNOWN && p != o->product)
                        return vt_diag_set(d, VT_E_POLICY, "snp: report CPUID says %s, expected %s",
                                           vt_snp_product_name(p), vt_snp_product_name(o->product));
                p = o->product;
        }

        if (!leaf) {
                if ((e = fetch_leaf(v, &r, p, at, o->client, &fetched, d)) < 0) {
                        fetched_leaf_done(&fetched);
                        return e;
                }
                leaf = fetched.buf;
                leaf_len = fetched.len;
        }
        bool authentic = false;
        if ((e = get_leaf(v, leaf, leaf_len, o->chain, o->chain_len, &le, d)) < 0)
                goto out;
        const char *lname = le.signer == VT_SNP_SIGNER_VLEK ? "VLEK" : "VCEK";
        if (p != VT_SNP_PRODUCT_UNKNOWN && p != le.product) {
                e = vt_diag_set(d, VT_E_CHAIN,
                                "snp: report is from %s but the %s chains to the %s root",
                                vt_snp_product_name(p), lname, vt_snp_product_name(le.product));
                goto out;
        }
        p = le.product;
        vt_snp_report_set_layout(&r, p == VT_SNP_PRODUCT_TURIN);
        r.product = p;
        if ((unsigned)le.signer != sk) {
                e = vt_diag_set(d, VT_E_CHAIN,
                                "snp: report signing key is %s but the certificate is a %s",
                                sk == VT_SNP_SIGNER_VLEK ? "VLEK" : "VCEK", lname);
                goto out;
        }
        if ((e = check_windows(&le, at, d)) < 0)
                goto out;
        if (o->crl && (e = check_crl(&le, o->crl, o->crl_len, at, d)) < 0)
                goto out;

        uint8_t digest[48];
        if (!EVP_Digest(buf, VT_SNP_SIGNED_SIZE, digest, NULL, vt_sha384(), NULL)) {
                e = VT_E_CRYPTO;
                goto out;
        }
        e = vt_ecdsa_verify_rs_seen(le.key, &le.point, digest, sizeof(digest), r.sig_r, r.sig_s,
                                    48);
        if (e < 0) {
                e = vt_diag_set(d, e,
                                "snp: report signature (ECDSA P-384/SHA-384 over 0x000-0x29f) does "
                                "not verify with the %s",
                                lname);
                goto out;
        }
        if ((e = check_tcb_binding(&r, &le, lname, d)) < 0)
                goto out;
        if ((e = check_hwid(&r, &le, d)) < 0)
                goto out;
        authentic = true;
        if (o->policy && (e = vt_snp_policy_check(o->policy, &r, d)) < 0)
                goto out;

        ret->report = r;
        ret->product = p;
        ret->signer = le.signer;
        ret->root_builtin = le.builtin;
        e = 0;
out:
        fetched_leaf_settle(v, &fetched, authentic);
        fetched_leaf_done(&fetched);
        EVP_PKEY_free(le.key);
        X509_free(le.inter_cert);
        return e;
}
