/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CCF / Azure Confidential Ledger receipts: parse the JSON into fixed-size fields (every
 * length capped), then recompute the leaf and the root, bind the node certificate to
 * nodeId, check the node's signature over the root and walk the endorsements up to the
 * trusted service certificate. Facts: CCF doc/use_apps/verify_tx.rst and the Azure SDK's
 * receipt verification (see /work/shared/notes/azure-apis.md section 4).
 */
#include "ledger/ccf.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"

#define SIG_MAX_B64   256 /* a P-384 DER signature is at most 104 bytes */
#define SIG_MAX_BYTES 160
#define TXID_PART_MAX 20 /* digits of a uint64 */

/* The two spellings of a receipt: Azure Confidential Ledger's and native CCF's. */
enum form {
        FORM_CAMEL,
        FORM_SNAKE,
};

struct name {
        const char *camel, *snake;
};

static const struct name N_CERT = {"cert", "cert"};
static const struct name N_LEAF = {"leaf", "leaf"};
static const struct name N_LEAF_COMPONENTS = {"leafComponents", "leaf_components"};
static const struct name N_CLAIMS_DIGEST = {"claimsDigest", "claims_digest"};
static const struct name N_COMMIT_EVIDENCE = {"commitEvidence", "commit_evidence"};
static const struct name N_WRITE_SET_DIGEST = {"writeSetDigest", "write_set_digest"};
static const struct name N_NODE_ID = {"nodeId", "node_id"};
static const struct name N_PROOF = {"proof", "proof"};
static const struct name N_SIGNATURE = {"signature", "signature"};
static const struct name N_ENDORSEMENTS = {"serviceEndorsements", "service_endorsements"};

static const char *nm(enum form f, struct name n)
{
        return f == FORM_CAMEL ? n.camel : n.snake;
}

/* One parsed receipt: fixed-size fields, certificates owned. */
struct receipt {
        enum form form;
        X509 *node_cert;
        uint8_t node_id[32];
        bool has_leaf; /* a signature-transaction receipt */
        uint8_t leaf[32];
        uint8_t write_set_digest[32];
        uint8_t claims_digest[32];
        const char *commit_evidence; /* borrowed from the JSON tree */
        size_t commit_evidence_len;
        size_t n_proof;
        uint8_t proof[VT_CCF_PROOF_MAX][32];
        bool proof_left[VT_CCF_PROOF_MAX];
        uint8_t *sig;
        size_t sig_len;
        STACK_OF(X509) * endorsements;
        char txid[48];
        bool txid_signed;
};

static void receipt_done(struct receipt *r)
{
        X509_free(r->node_cert);
        free(r->sig);
        if (r->endorsements)
                sk_X509_pop_free(r->endorsements, X509_free);
}

/* member looks up a field under the receipt's spelling; the other spelling beside it
 * would make the receipt ambiguous, so it is refused. *ret is NULL when absent. */
static int member(const json_t *o, enum form f, struct name n, json_t **ret, struct vt_diag *d)
{
        const char *other = f == FORM_CAMEL ? n.snake : n.camel;
        if (strcmp(n.camel, n.snake) != 0 && json_object_get(o, other))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: %s in a %s receipt (mixed spellings)", other,
                                   f == FORM_CAMEL ? "camelCase" : "snake_case");
        *ret = json_object_get(o, nm(f, n));
        return 0;
}

static int get_hex32(const json_t *v, const char *field, uint8_t out[32], struct vt_diag *d)
{
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s missing", field);
        if (!json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not a string", field);
        if (json_string_length(v) != 64 || vt_hex_decode(json_string_value(v), out, 32) != 32)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not 64 hex digits", field);
        return 0;
}

static bool is_digits(const char *s, size_t n)
{
        if (n == 0 || n > TXID_PART_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* txid_ok says whether s[0..n) is "view.seqno" (decimal). */
static bool txid_ok(const char *s, size_t n)
{
        const char *dot = memchr(s, '.', n);
        if (!dot)
                return false;
        size_t a = (size_t)(dot - s);
        return is_digits(s, a) && is_digits(dot + 1, n - a - 1);
}

static bool is_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                        return false;
        }
        return n > 0;
}

/* commitEvidence is "ce:<view>.<seqno>:<hex nonce>"; its TxID goes to r->txid. */
static int parse_commit_evidence(const json_t *v, const char *field, struct receipt *r,
                                 struct vt_diag *d)
{
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s missing", field);
        if (!json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not a string", field);
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n > VT_CCF_COMMIT_EVIDENCE_MAX)
                return vt_diag_set(d, VT_E_LIMIT, "ccf receipt: %s longer than %u bytes", field,
                                   VT_CCF_COMMIT_EVIDENCE_MAX);
        const char *colon = n > 3 ? memchr(s + 3, ':', n - 3) : NULL;
        if (n < 3 || memcmp(s, "ce:", 3) != 0 || !colon ||
            !txid_ok(s + 3, (size_t)(colon - s - 3)) ||
            !is_hex(colon + 1, n - (size_t)(colon + 1 - s)))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not ce:<view>.<seqno>:<hex>",
                                   field);
        size_t tl = (size_t)(colon - s - 3);
        memcpy(r->txid, s + 3, tl);
        r->txid[tl] = '\0';
        r->txid_signed = true;
        r->commit_evidence = s;
        r->commit_evidence_len = n;
        return 0;
}

/* parse_one_cert reads a JSON string holding exactly one PEM certificate. */
static int parse_one_cert(const json_t *v, const char *what, X509 **ret, struct vt_diag *d)
{
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s missing", what);
        if (!json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not a string", what);
        size_t n = json_string_length(v);
        if (n > VT_CERT_MAX_BYTES)
                return vt_diag_set(d, VT_E_LIMIT, "ccf receipt: %s longer than %u bytes", what,
                                   VT_CERT_MAX_BYTES);
        int e = n ? vt_x509_parse_many((const uint8_t *)json_string_value(v), n, &sk) : VT_E_FORMAT;
        if (e == VT_E_NOMEM)
                return vt_diag_set(d, e, "ccf receipt: %s: out of memory", what);
        if (e < 0)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not a PEM certificate",
                                   what);
        if (sk_X509_num(sk) != 1)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: %s holds %d certificates, expected 1", what,
                                   sk_X509_num(sk));
        *ret = sk_X509_shift(sk);
        return 0;
}

static int parse_proof(const json_t *v, struct receipt *r, struct vt_diag *d)
{
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: proof missing");
        if (!json_is_array(v))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: proof is not an array");
        size_t n = json_array_size(v);
        if (n > VT_CCF_PROOF_MAX)
                return vt_diag_set(d, VT_E_LIMIT, "ccf receipt: proof has %zu steps, more than %d",
                                   n, VT_CCF_PROOF_MAX);
        for (size_t i = 0; i < n; i++) {
                const json_t *el = json_array_get(v, i);
                char field[40];
                if (!json_is_object(el))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "ccf receipt: proof[%zu] is not an object", i);
                const json_t *l = json_object_get(el, "left"), *rt = json_object_get(el, "right");
                if (l && rt)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "ccf receipt: proof[%zu]: both left and right", i);
                if (!l && !rt)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "ccf receipt: proof[%zu]: neither left nor right", i);
                if (json_object_size(el) != 1)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "ccf receipt: proof[%zu]: members besides %s", i,
                                           l ? "left" : "right");
                snprintf(field, sizeof(field), "proof[%zu].%s", i, l ? "left" : "right");
                int e = get_hex32(l ? l : rt, field, r->proof[i], d);
                if (e < 0)
                        return e;
                r->proof_left[i] = l != NULL;
        }
        r->n_proof = n;
        return 0;
}

static int parse_signature(const json_t *v, struct receipt *r, struct vt_diag *d)
{
        if (!v)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: signature missing");
        if (!json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: signature is not a string");
        size_t n = json_string_length(v);
        if (n == 0 || n > SIG_MAX_B64)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: signature length %zu is not 1..%d base64 "
                                   "characters",
                                   n, SIG_MAX_B64);
        int e = vt_b64_decode(json_string_value(v), n, VT_B64_STD, SIG_MAX_BYTES, &r->sig,
                              &r->sig_len);
        if (e == VT_E_NOMEM)
                return vt_diag_set(d, e, "ccf receipt: signature: out of memory");
        if (e < 0 || r->sig_len == 0)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: signature is not base64");
        return 0;
}

static int parse_endorsements(const json_t *v, const char *field, struct receipt *r,
                              struct vt_diag *d)
{
        r->endorsements = sk_X509_new_null();
        if (!r->endorsements)
                return vt_diag_set(d, VT_E_NOMEM, "ccf receipt: out of memory");
        if (!v) /* native CCF before 2.0 and receipts of a never-recovered service */
                return 0;
        if (!json_is_array(v))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not an array", field);
        size_t n = json_array_size(v);
        if (n > VT_CCF_ENDORSEMENTS_MAX)
                return vt_diag_set(d, VT_E_LIMIT, "ccf receipt: %s has %zu entries, more than %d",
                                   field, n, VT_CCF_ENDORSEMENTS_MAX);
        for (size_t i = 0; i < n; i++) {
                char what[48];
                X509 *x = NULL;
                snprintf(what, sizeof(what), "%s[%zu]", field, i);
                int e = parse_one_cert(json_array_get(v, i), what, &x, d);
                if (e < 0)
                        return e;
                if (!sk_X509_push(r->endorsements, x)) {
                        X509_free(x);
                        return vt_diag_set(d, VT_E_NOMEM, "ccf receipt: out of memory");
                }
        }
        return 0;
}

/* unwrap finds the receipt object: ACL's GET .../receipt answers
 * {state, transactionId, receipt, applicationClaims}; a bare receipt is its own. */
static int unwrap(const json_t *top, const json_t **ret, struct receipt *r, struct vt_diag *d)
{
        const json_t *inner = json_object_get(top, "receipt");
        if (!inner) {
                *ret = top;
                return 0;
        }
        if (!json_is_object(inner))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: receipt is not an object");
        if (json_object_get(top, "nodeId") || json_object_get(top, "node_id") ||
            json_object_get(top, "signature"))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: receipt fields both in the wrapper and in "
                                   "its receipt member");
        const json_t *state = json_object_get(top, "state");
        if (state && (!json_is_string(state) || strcmp(json_string_value(state), "Ready") != 0)) {
                /* echo the state only when it is a short word (it is untrusted text) */
                const char *sv = json_is_string(state) ? json_string_value(state) : "";
                bool word = json_is_string(state) && json_string_length(state) <= 32;
                for (const char *c = sv; word && *c; c++)
                        word = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z');
                if (word && *sv)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "ccf receipt: state is \"%s\", not Ready", sv);
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: state is not \"Ready\"");
        }
        const json_t *txid = json_object_get(top, "transactionId");
        if (txid) {
                if (!json_is_string(txid) ||
                    !txid_ok(json_string_value(txid), json_string_length(txid)))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "ccf receipt: transactionId is not <view>.<seqno>");
                memcpy(r->txid, json_string_value(txid), json_string_length(txid) + 1);
        }
        *ret = inner;
        return 0;
}

static int parse(const json_t *top, struct receipt *r, struct vt_diag *d)
{
        const json_t *o = NULL;
        json_t *v = NULL;
        int e;

        if (!json_is_object(top))
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: not a JSON object");
        e = unwrap(top, &o, r, d);
        if (e < 0)
                return e;
        bool camel = json_object_get(o, "nodeId") != NULL,
             snake = json_object_get(o, "node_id") != NULL;
        if (camel && snake)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: both nodeId and node_id (mixed spellings)");
        if (!camel && !snake)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: nodeId missing");
        r->form = camel ? FORM_CAMEL : FORM_SNAKE;
        enum form f = r->form;

        if ((e = member(o, f, N_NODE_ID, &v, d)) < 0 ||
            (e = get_hex32(v, nm(f, N_NODE_ID), r->node_id, d)) < 0)
                return e;
        if ((e = member(o, f, N_CERT, &v, d)) < 0 ||
            (e = parse_one_cert(v, "cert", &r->node_cert, d)) < 0)
                return e;

        json_t *leaf = NULL, *lc = NULL;
        if ((e = member(o, f, N_LEAF, &leaf, d)) < 0 ||
            (e = member(o, f, N_LEAF_COMPONENTS, &lc, d)) < 0)
                return e;
        if (leaf && lc)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: both leaf and %s",
                                   nm(f, N_LEAF_COMPONENTS));
        if (!leaf && !lc)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: neither %s nor leaf",
                                   nm(f, N_LEAF_COMPONENTS));
        if (leaf) {
                if ((e = get_hex32(leaf, "leaf", r->leaf, d)) < 0)
                        return e;
                r->has_leaf = true;
        } else {
                if (!json_is_object(lc))
                        return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: %s is not an object",
                                           nm(f, N_LEAF_COMPONENTS));
                if ((e = member(lc, f, N_WRITE_SET_DIGEST, &v, d)) < 0 ||
                    (e = get_hex32(v, nm(f, N_WRITE_SET_DIGEST), r->write_set_digest, d)) < 0)
                        return e;
                if ((e = member(lc, f, N_COMMIT_EVIDENCE, &v, d)) < 0 ||
                    (e = parse_commit_evidence(v, nm(f, N_COMMIT_EVIDENCE), r, d)) < 0)
                        return e;
                if ((e = member(lc, f, N_CLAIMS_DIGEST, &v, d)) < 0)
                        return e;
                /* native CCF leaves claims_digest out when the application set no
                 * claims; the leaf then holds zeros (ACL always sends it) */
                if ((v || f == FORM_CAMEL) &&
                    (e = get_hex32(v, nm(f, N_CLAIMS_DIGEST), r->claims_digest, d)) < 0)
                        return e;
        }
        if ((e = member(o, f, N_PROOF, &v, d)) < 0 || (e = parse_proof(v, r, d)) < 0)
                return e;
        if (r->has_leaf && r->n_proof > 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: a signature-transaction receipt (leaf) with a "
                                   "non-empty proof");
        if ((e = member(o, f, N_SIGNATURE, &v, d)) < 0 || (e = parse_signature(v, r, d)) < 0)
                return e;
        if ((e = member(o, f, N_ENDORSEMENTS, &v, d)) < 0 ||
            (e = parse_endorsements(v, nm(f, N_ENDORSEMENTS), r, d)) < 0)
                return e;

        /* the wrapper's transactionId is not signed; the one in commitEvidence is */
        const json_t *wtx = o != top ? json_object_get(top, "transactionId") : NULL;
        if (wtx && r->commit_evidence) {
                size_t tl = strlen(r->txid);
                if (json_string_length(wtx) != tl ||
                    memcmp(json_string_value(wtx), r->txid, tl) != 0)
                        return vt_diag_set(d, VT_E_BINDING,
                                           "ccf receipt: transactionId %s does not match "
                                           "commitEvidence's %s",
                                           json_string_value(wtx), r->txid);
        }
        return 0;
}

/* sha256_3 hashes the concatenation of up to three byte strings (n = 0 skips one). */
static int sha256_3(const void *a, size_t an, const void *b, size_t bn, const void *c, size_t cn,
                    uint8_t out[32])
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned int len = 0;
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(ctx, a, an) != 1 || EVP_DigestUpdate(ctx, b, bn) != 1 ||
            EVP_DigestUpdate(ctx, c, cn) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1 ||
            len != 32) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        return 0;
}

static int compute_root(const struct receipt *r, uint8_t root[32], struct vt_diag *d)
{
        uint8_t h[32], ce[32];
        if (r->has_leaf) {
                memcpy(root, r->leaf, 32);
                return 0;
        }
        if (sha256_3(r->commit_evidence, r->commit_evidence_len, NULL, 0, NULL, 0, ce) < 0 ||
            sha256_3(r->write_set_digest, 32, ce, 32, r->claims_digest, 32, h) < 0)
                return vt_diag_set(d, VT_E_CRYPTO, "ccf receipt: SHA-256 failed");
        for (size_t i = 0; i < r->n_proof; i++) {
                int e = r->proof_left[i] ? sha256_3(r->proof[i], 32, h, 32, NULL, 0, h)
                                         : sha256_3(h, 32, r->proof[i], 32, NULL, 0, h);
                if (e < 0)
                        return vt_diag_set(d, VT_E_CRYPTO, "ccf receipt: SHA-256 failed");
        }
        memcpy(root, h, 32);
        return 0;
}

/* ec_key_ok: CCF node and service identities are ECDSA P-256 or P-384 keys. */
static bool ec_key_ok(EVP_PKEY *k)
{
        int nid = k ? vt_ec_curve_nid(k) : NID_undef;
        return nid == NID_X9_62_prime256v1 || nid == NID_secp384r1;
}

static int check_node_id(const struct receipt *r, struct vt_diag *d)
{
        uint8_t spki[32];
        char want[65], got[65];
        if (vt_x509_spki_sha256(r->node_cert, spki) < 0) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "ccf receipt: cannot hash the certificate's public key");
        }
        if (CRYPTO_memcmp(spki, r->node_id, 32) != 0) {
                vt_hex_encode(r->node_id, 32, want);
                vt_hex_encode(spki, 32, got);
                return vt_diag_set(d, VT_E_BINDING,
                                   "ccf receipt: %s does not match the certificate's key (%s is "
                                   "%.16s..., SHA-256 of the certificate's SPKI is %.16s...)",
                                   nm(r->form, N_NODE_ID), nm(r->form, N_NODE_ID), want, got);
        }
        return 0;
}

/* check_root_signature: ECDSA over the 32-byte root used directly as a SHA-256 prehash
 * (not SHA-256(root)), hence EVP_PKEY_verify rather than EVP_DigestVerify. */
static int check_root_signature(const struct receipt *r, const uint8_t root[32], struct vt_diag *d)
{
        EVP_PKEY *k = X509_get0_pubkey(r->node_cert);
        if (!ec_key_ok(k)) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "ccf receipt: the node certificate's key is not an EC P-256 or "
                                   "P-384 key");
        }
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
        if (!ctx || EVP_PKEY_verify_init(ctx) != 1 ||
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO, "ccf receipt: cannot set up ECDSA verification");
        }
        int ok = EVP_PKEY_verify(ctx, r->sig, r->sig_len, root, 32);
        ERR_clear_error();
        if (ok != 1)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "ccf receipt: signature over the root does not verify with the "
                                   "node certificate's key");
        return 0;
}

/* check_signed: child's certificate signature verifies under signer's key. */
static int check_signed(X509 *child, const char *child_name, X509 *signer, const char *signer_name,
                        struct vt_diag *d)
{
        EVP_PKEY *k = X509_get0_pubkey(signer);
        if (!ec_key_ok(k)) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "ccf receipt: the key of %s is not an EC P-256 or P-384 key",
                                   signer_name);
        }
        int ok = X509_verify(child, k);
        ERR_clear_error();
        if (ok != 1)
                return vt_diag_set(d, VT_E_CHAIN, "ccf receipt: %s is not signed by %s", child_name,
                                   signer_name);
        return 0;
}

/* check_endorsements walks node cert <- endorsements[0] <- ... <- service cert. */
static int check_endorsements(const struct receipt *r, X509 *service, struct vt_diag *d)
{
        char child_name[48] = "the node certificate", signer_name[48];
        X509 *child = r->node_cert;
        int n = sk_X509_num(r->endorsements);
        for (int i = 0; i <= n; i++) {
                X509 *signer = i < n ? sk_X509_value(r->endorsements, i) : service;
                if (i < n)
                        snprintf(signer_name, sizeof(signer_name), "%s[%d]",
                                 nm(r->form, N_ENDORSEMENTS), i);
                else
                        snprintf(signer_name, sizeof(signer_name), "the service certificate");
                int e = check_signed(child, child_name, signer, signer_name, d);
                if (e < 0)
                        return e;
                child = signer;
                memcpy(child_name, signer_name, sizeof(child_name));
        }
        return 0;
}

static int load_service_cert(const char *pem, size_t len, X509 **ret, struct vt_diag *d)
{
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        if (len == 0)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: the service certificate is empty");
        if (len > VT_CERT_MAX_BYTES)
                return vt_diag_set(d, VT_E_LIMIT,
                                   "ccf receipt: the service certificate is longer than %u bytes",
                                   VT_CERT_MAX_BYTES);
        int e = vt_x509_parse_many((const uint8_t *)pem, len, &sk);
        if (e == VT_E_NOMEM)
                return vt_diag_set(d, e, "ccf receipt: out of memory");
        if (e < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: the service certificate is not a PEM certificate");
        if (sk_X509_num(sk) != 1)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "ccf receipt: the service certificate file holds %d "
                                   "certificates, expected 1",
                                   sk_X509_num(sk));
        *ret = sk_X509_shift(sk);
        return 0;
}

int vt_ccf_receipt_verify(const uint8_t *receipt_json, size_t len, const char *service_cert_pem,
                          size_t pem_len, struct vt_ccf_receipt_info *ret_info, struct vt_diag *d)
{
        _cleanup_(receipt_done) struct receipt r = {0};
        _cleanup_(X509_freep) X509 *service = NULL;
        _cleanup_json_ json_t *top = NULL;
        json_error_t jerr;
        uint8_t root[32];
        int e;

        if (!receipt_json || !service_cert_pem)
                return vt_diag_set(d, VT_E_INVAL, "ccf receipt: no receipt or service certificate");
        if (len > VT_CCF_RECEIPT_MAX_BYTES)
                return vt_diag_set(d, VT_E_LIMIT, "ccf receipt: %zu bytes, more than %u", len,
                                   VT_CCF_RECEIPT_MAX_BYTES);
        e = load_service_cert(service_cert_pem, pem_len, &service, d);
        if (e < 0)
                return e;
        top = json_loadb((const char *)receipt_json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!top)
                return vt_diag_set(d, VT_E_FORMAT, "ccf receipt: not JSON: %s at byte %d",
                                   jerr.text, jerr.position);
        if ((e = parse(top, &r, d)) < 0)
                return e;
        if ((e = compute_root(&r, root, d)) < 0 || (e = check_node_id(&r, d)) < 0 ||
            (e = check_root_signature(&r, root, d)) < 0 ||
            (e = check_endorsements(&r, service, d)) < 0)
                return e;

        if (ret_info) {
                memset(ret_info, 0, sizeof(*ret_info));
                memcpy(ret_info->transaction_id, r.txid, sizeof(r.txid));
                ret_info->transaction_id_signed = r.txid_signed;
                memcpy(ret_info->root, root, 32);
                memcpy(ret_info->node_id, r.node_id, 32);
                memcpy(ret_info->claims_digest, r.claims_digest, 32);
                ret_info->signature_transaction = r.has_leaf;
                ret_info->n_endorsements = (size_t)sk_X509_num(r.endorsements);
        }
        return 0;
}
