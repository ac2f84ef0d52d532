/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CCF / Azure Confidential Ledger receipts (lib/ledger/ccf.c): the two real ACL receipts
 * of ../shared/testdata/azure/ccf with their service certificates, cross-paired, tampered
 * field by field and truncated; and receipts made here with fresh keys for what the real
 * ones do not carry (service endorsements, snake_case, signature transactions, P-384,
 * the wrapper, the caps). The synthetic receipts' leaf, root and node id are computed here
 * independently of the library.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/openssl-util.h"
#include "ledger/ccf.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

/* ---- helpers ---- */

static char *dump(const json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(s);
        return s;
}

static int verify_text(const char *txt, size_t len, const char *pem,
                       struct vt_ccf_receipt_info *info, struct vt_diag *d)
{
        vt_diag_clear(d);
        return vt_ccf_receipt_verify((const uint8_t *)txt, len, pem, strlen(pem), info, d);
}

static int verify_json(const json_t *j, const char *pem, struct vt_ccf_receipt_info *info,
                       struct vt_diag *d)
{
        _cleanup_free_ char *s = dump(j);
        return verify_text(s, strlen(s), pem, info, d);
}

/* expect_ok / expect_fail: the verdict, and for a failure the code and the reason. */
static void expect_ok(const json_t *j, const char *pem, struct vt_ccf_receipt_info *info)
{
        struct vt_diag d = {0};
        int e = verify_json(j, pem, info, &d);
        if (e != 0)
                fail_msg("expected success, got %s: %s", vt_strerror(e), d.msg);
}

static void expect_fail(const json_t *j, const char *pem, int err, const char *reason)
{
        struct vt_diag d = {0};
        struct vt_ccf_receipt_info info;
        memset(&info, 0xa5, sizeof(info));
        int e = verify_json(j, pem, &info, &d);
        if (e != err || !strstr(d.msg, reason))
                fail_msg("expected %s \"%s\", got %s \"%s\"", vt_strerror(err), reason,
                         vt_strerror(e), d.msg);
        /* ret_info is written only on success */
        for (size_t i = 0; i < sizeof(info); i++)
                assert_int_equal(((uint8_t *)&info)[i], 0xa5);
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
        assert_int_equal(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL), 1);
}

static void sha256_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
        uint8_t buf[64];
        memcpy(buf, a, 32);
        memcpy(buf + 32, b, 32);
        sha256(buf, 64, out);
}

static void hex32(const uint8_t b[32], char out[65])
{
        vt_hex_encode(b, 32, out);
}

/* ---- the real vectors ---- */

struct vec {
        char *receipt; /* NUL-terminated */
        size_t len;
        char *pem;
        json_t *json;
};

static void vec_load(struct vec *v, const char *receipt_rel, const char *pem_rel)
{
        size_t n = 0, pn = 0;
        uint8_t *r = vt_test_load_vector(receipt_rel, &n);
        uint8_t *p = vt_test_load_vector(pem_rel, &pn);
        v->receipt = calloc(1, n + 1);
        v->pem = calloc(1, pn + 1);
        assert_non_null(v->receipt);
        assert_non_null(v->pem);
        memcpy(v->receipt, r, n);
        memcpy(v->pem, p, pn);
        v->len = n;
        free(r);
        free(p);
        json_error_t err;
        v->json = json_loadb(v->receipt, n, 0, &err);
        if (!v->json)
                fail_msg("%s: %s", receipt_rel, err.text);
}

static void vec_free(struct vec *v)
{
        free(v->receipt);
        free(v->pem);
        json_decref(v->json);
}

static void load_235(struct vec *v)
{
        vec_load(v, "azure/ccf/receipt_2.35.json", "azure/ccf/service_cert_2.35.pem");
}

static void load_16(struct vec *v)
{
        vec_load(v, "azure/ccf/receipt_16.7415.json", "azure/ccf/service_cert_16.7415.pem");
}

static void test_ccf_real_receipts_verify(void **state)
{
        (void)state;
        struct vec a = {0}, b = {0};
        struct vt_ccf_receipt_info info;
        struct vt_diag d = {0};
        char hex[65];

        load_235(&a);
        load_16(&b);
        assert_int_equal(verify_text(a.receipt, a.len, a.pem, &info, &d), 0);
        assert_string_equal(info.transaction_id, "2.35");
        assert_true(info.transaction_id_signed);
        assert_false(info.signature_transaction);
        assert_int_equal(info.n_endorsements, 0);
        hex32(info.root, hex);
        /* PROVENANCE.md: root = 283afa44...5101 */
        assert_memory_equal(hex, "283afa44", 8);
        assert_memory_equal(hex + 60, "5101", 4);
        hex32(info.node_id, hex);
        assert_string_equal(hex,
                            "708c2e71b2533e5eb38e05cc344390d133c8fb336cb80481ab4e5e902e6131a5");
        for (size_t i = 0; i < 32; i++)
                assert_int_equal(info.claims_digest[i], 0);

        assert_int_equal(verify_text(b.receipt, b.len, b.pem, &info, &d), 0);
        assert_string_equal(info.transaction_id, "16.7415");
        hex32(info.root, hex);
        assert_memory_equal(hex, "b27c68aa", 8);
        assert_memory_equal(hex + 60, "0a47", 4);

        /* no ret_info is fine */
        assert_int_equal(verify_text(a.receipt, a.len, a.pem, NULL, NULL), 0);
        vec_free(&a);
        vec_free(&b);
}

static void test_ccf_real_cross_paired(void **state)
{
        (void)state;
        struct vec a = {0}, b = {0};
        load_235(&a);
        load_16(&b);
        expect_fail(a.json, b.pem, VT_E_CHAIN,
                    "ccf receipt: the node certificate is not signed by the service certificate");
        expect_fail(b.json, a.pem, VT_E_CHAIN,
                    "ccf receipt: the node certificate is not signed by the service certificate");
        vec_free(&a);
        vec_free(&b);
}

/* set_str replaces the string at obj[key] (obj borrowed). */
static void set_str(json_t *obj, const char *key, const char *s)
{
        assert_int_equal(json_object_set_new(obj, key, json_string(s)), 0);
}

static json_t *lc_of(json_t *r)
{
        json_t *lc = json_object_get(r, "leafComponents");
        assert_non_null(lc);
        return lc;
}

/* tamper_each_char changes every character of the string obj[key] in turn (hex digit to
 * another hex digit, base64 to another base64 character, anything else to 'x') and
 * expects a failure; for a hex or base64 position the failure must be `err` naming
 * `reason` (a base64 change may also be refused as non-canonical). */
static void tamper_each_char(json_t *root, json_t *obj, const char *key, const char *pem, int err,
                             const char *reason)
{
        _cleanup_free_ char *orig = strdup(json_string_value(json_object_get(obj, key)));
        size_t n = strlen(orig);
        assert_non_null(orig);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *t = strdup(orig);
                struct vt_diag d = {0};
                char c = t[i];
                bool hexc = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                bool b64c = hexc || (c >= 'A' && c <= 'Z') || (c >= 'g' && c <= 'z') || c == '+' ||
                            c == '/';
                t[i] = hexc ? (c == '0' ? '1' : '0') : b64c ? (c == 'A' ? 'B' : 'A') : 'x';
                set_str(obj, key, t);
                int e = verify_json(root, pem, NULL, &d);
                if (e >= 0)
                        fail_msg("%s[%zu] '%c' -> '%c' still verifies", key, i, c, t[i]);
                assert_true(d.msg[0] != '\0');
                /* a base64 change may be non-canonical; "ce:" is made of hex letters */
                if ((hexc || b64c) && !(e == err && strstr(d.msg, reason)) &&
                    !(e == VT_E_FORMAT &&
                      (strstr(d.msg, "signature is not base64") || strstr(d.msg, "is not ce:"))))
                        fail_msg("%s[%zu] '%c' -> '%c': %s \"%s\"", key, i, c, t[i], vt_strerror(e),
                                 d.msg);
        }
        set_str(obj, key, orig);
        expect_ok(root, pem, NULL);
}

static void test_ccf_real_tamper_fields(void **state)
{
        (void)state;
        struct vec a = {0};
        load_235(&a);
        json_t *r = a.json, *lc = lc_of(r);
        const char *sigfail = "ccf receipt: signature over the root does not verify";

        tamper_each_char(r, lc, "writeSetDigest", a.pem, VT_E_SIGNATURE, sigfail);
        tamper_each_char(r, lc, "claimsDigest", a.pem, VT_E_SIGNATURE, sigfail);
        tamper_each_char(r, lc, "commitEvidence", a.pem, VT_E_SIGNATURE, sigfail);
        tamper_each_char(r, r, "nodeId", a.pem, VT_E_BINDING,
                         "ccf receipt: nodeId does not match the certificate's key");
        tamper_each_char(r, r, "signature", a.pem, VT_E_SIGNATURE, sigfail);
        json_t *proof = json_object_get(r, "proof");
        for (size_t i = 0; i < json_array_size(proof); i++)
                tamper_each_char(r, json_array_get(proof, i), "left", a.pem, VT_E_SIGNATURE,
                                 sigfail);
        vec_free(&a);
}

static void test_ccf_real_tamper_structure(void **state)
{
        (void)state;
        struct vec a = {0}, b = {0};
        load_235(&a);
        load_16(&b);
        json_t *r = a.json;
        json_t *proof = json_object_get(r, "proof");
        const char *sigfail = "ccf receipt: signature over the root does not verify";

        /* left becomes right */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_t *p1 = json_array_get(json_object_get(c, "proof"), 1);
                json_object_set(p1, "right", json_object_get(p1, "left"));
                json_object_del(p1, "left");
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
        }
        /* a proof step dropped, one added, two swapped */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_array_remove(json_object_get(c, "proof"), 2);
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
                json_array_append(json_object_get(c, "proof"), json_array_get(proof, 2));
                expect_ok(c, a.pem, NULL);
                json_array_append(json_object_get(c, "proof"), json_array_get(proof, 2));
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
        }
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_t *p = json_object_get(c, "proof");
                json_t *first = json_incref(json_array_get(p, 0));
                json_array_set(p, 0, json_array_get(p, 1));
                json_array_set_new(p, 1, first);
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
        }
        /* malformed proof steps */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_t *p = json_object_get(c, "proof");
                json_array_append_new(p, json_pack("{s:s}", "up", "00"));
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: proof[3]: neither left nor right");
                json_array_set_new(p, 3,
                                   json_pack("{s:O,s:O}", "left",
                                             json_object_get(json_array_get(proof, 0), "left"),
                                             "right",
                                             json_object_get(json_array_get(proof, 0), "left")));
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: proof[3]: both left and right");
                json_array_set_new(p, 3,
                                   json_pack("{s:s,s:i}", "left",
                                             "5e949d6d17b88900aeb8fb292f041075272d3b58108f2"
                                             "016a3ceea2a47ffad8f",
                                             "extra", 1));
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: proof[3]: members besides left");
                json_array_set_new(p, 3, json_pack("{s:s}", "right", "5e949d"));
                expect_fail(c, a.pem, VT_E_FORMAT,
                            "ccf receipt: proof[3].right is not 64 hex digits");
                json_array_set_new(p, 3, json_string("left"));
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: proof[3] is not an object");
                json_object_set_new(c, "proof", json_object());
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: proof is not an array");
                json_object_del(c, "proof");
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: proof missing");
        }
        /* the other receipt's node certificate: its key is not nodeId; with its nodeId
         * too, its key did not make this signature */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_object_set(c, "cert", json_object_get(b.json, "cert"));
                expect_fail(c, a.pem, VT_E_BINDING,
                            "ccf receipt: nodeId does not match the certificate's key");
                json_object_set(c, "nodeId", json_object_get(b.json, "nodeId"));
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
                /* and the other receipt's signature over a different root */
                json_object_set(c, "signature", json_object_get(b.json, "signature"));
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
        }
        /* the service certificate as the node certificate */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                set_str(c, "cert", a.pem);
                expect_fail(c, a.pem, VT_E_BINDING,
                            "ccf receipt: nodeId does not match the certificate's key");
        }
        /* the other receipt's signature */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_object_set(c, "signature", json_object_get(b.json, "signature"));
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
        }
        /* the other receipt's leaf components (a transaction of another service) */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_object_set(c, "leafComponents", json_object_get(b.json, "leafComponents"));
                expect_fail(c, a.pem, VT_E_SIGNATURE, sigfail);
        }
        /* missing, mistyped and mixed-spelling fields */
        {
                static const char *const must[] = {"cert", "nodeId", "signature"};
                for (size_t i = 0; i < ELEMENTSOF(must); i++) {
                        _cleanup_json_ json_t *c = json_deep_copy(r);
                        char want[64];
                        json_object_del(c, must[i]);
                        snprintf(want, sizeof(want), "ccf receipt: %s missing", must[i]);
                        expect_fail(c, a.pem, VT_E_FORMAT, want);
                }
                static const char *const lcmust[] = {"writeSetDigest", "commitEvidence",
                                                     "claimsDigest"};
                for (size_t i = 0; i < ELEMENTSOF(lcmust); i++) {
                        _cleanup_json_ json_t *c = json_deep_copy(r);
                        char want[64];
                        json_object_del(lc_of(c), lcmust[i]);
                        snprintf(want, sizeof(want), "ccf receipt: %s missing", lcmust[i]);
                        expect_fail(c, a.pem, VT_E_FORMAT, want);
                        json_object_set_new(lc_of(c), lcmust[i], json_integer(1));
                        snprintf(want, sizeof(want), "ccf receipt: %s is not a string", lcmust[i]);
                        expect_fail(c, a.pem, VT_E_FORMAT, want);
                }
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_object_del(c, "leafComponents");
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: neither leafComponents nor leaf");
                json_object_set_new(c, "leafComponents", json_deep_copy(lc_of(r)));
                json_object_set(c, "node_id", json_object_get(r, "nodeId"));
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: both nodeId and node_id");
                json_object_del(c, "node_id");
                json_object_set(c, "leaf_components", lc_of(r));
                expect_fail(c, a.pem, VT_E_FORMAT,
                            "ccf receipt: leaf_components in a camelCase receipt");
                json_object_del(c, "leaf_components");
                json_object_set(lc_of(c), "write_set_digest",
                                json_object_get(lc_of(r), "writeSetDigest"));
                expect_fail(c, a.pem, VT_E_FORMAT,
                            "ccf receipt: write_set_digest in a camelCase receipt");
                json_object_del(lc_of(c), "write_set_digest");
                set_str(lc_of(c), "commitEvidence", "ce:2.35");
                expect_fail(c, a.pem, VT_E_FORMAT,
                            "ccf receipt: commitEvidence is not ce:<view>.<seqno>:<hex>");
                set_str(lc_of(c), "commitEvidence", "xx:2.35:00");
                expect_fail(c, a.pem, VT_E_FORMAT,
                            "ccf receipt: commitEvidence is not ce:<view>.<seqno>:<hex>");
                json_object_set(lc_of(c), "commitEvidence",
                                json_object_get(lc_of(r), "commitEvidence"));
                expect_ok(c, a.pem, NULL);
                set_str(c, "signature", "not base64!");
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: signature is not base64");
                set_str(c, "cert",
                        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: cert is not a PEM certificate");
                /* two certificates in cert */
                char two[2048];
                snprintf(two, sizeof(two), "%s%s", json_string_value(json_object_get(r, "cert")),
                         a.pem);
                set_str(c, "cert", two);
                expect_fail(c, a.pem, VT_E_FORMAT, "ccf receipt: cert holds 2 certificates");
                set_str(c, "serviceEndorsements", "x");
                json_object_set(c, "cert", json_object_get(r, "cert"));
                set_str(c, "signature", json_string_value(json_object_get(r, "signature")));
                expect_fail(c, a.pem, VT_E_FORMAT,
                            "ccf receipt: serviceEndorsements is not an array");
                json_object_set_new(c, "serviceEndorsements", json_pack("[s]", "junk"));
                expect_fail(c, a.pem, VT_E_FORMAT,
                            "ccf receipt: serviceEndorsements[0] is not a PEM certificate");
        }
        /* an extra endorsement (the service certificate endorsing itself would verify,
         * so endorse with the other service's certificate) */
        {
                _cleanup_json_ json_t *c = json_deep_copy(r);
                json_object_set_new(c, "serviceEndorsements", json_pack("[s]", b.pem));
                expect_fail(c, a.pem, VT_E_CHAIN,
                            "ccf receipt: the node certificate is not signed by "
                            "serviceEndorsements[0]");
        }
        /* wrong service certificate inputs */
        {
                struct vt_diag d = {0};
                assert_int_equal(vt_ccf_receipt_verify((const uint8_t *)a.receipt, a.len, "junk", 4,
                                                       NULL, &d),
                                 VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "the service certificate is not a PEM certificate"));
                char two[2048];
                snprintf(two, sizeof(two), "%s%s", a.pem, b.pem);
                vt_diag_clear(&d);
                assert_int_equal(verify_text(a.receipt, a.len, two, NULL, &d), VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "holds 2 certificates, expected 1"));
                vt_diag_clear(&d);
                assert_int_equal(vt_ccf_receipt_verify((const uint8_t *)a.receipt, a.len, a.pem, 0,
                                                       NULL, &d),
                                 VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "the service certificate is empty"));
                vt_diag_clear(&d);
                assert_int_equal(vt_ccf_receipt_verify(NULL, 0, a.pem, strlen(a.pem), NULL, &d),
                                 VT_E_INVAL);
        }
        vec_free(&a);
        vec_free(&b);
}

static void test_ccf_real_wrapper(void **state)
{
        (void)state;
        struct vec a = {0};
        struct vt_ccf_receipt_info info;
        load_235(&a);
        _cleanup_json_ json_t *w =
                json_pack("{s:s,s:s,s:O,s:[]}", "state", "Ready", "transactionId", "2.35",
                          "receipt", a.json, "applicationClaims");
        assert_non_null(w);
        expect_ok(w, a.pem, &info);
        assert_string_equal(info.transaction_id, "2.35");
        assert_true(info.transaction_id_signed);

        set_str(w, "transactionId", "2.36");
        expect_fail(w, a.pem, VT_E_BINDING,
                    "ccf receipt: transactionId 2.36 does not match commitEvidence's 2.35");
        set_str(w, "transactionId", "2.35x");
        expect_fail(w, a.pem, VT_E_FORMAT, "ccf receipt: transactionId is not <view>.<seqno>");
        set_str(w, "transactionId", "2.35");
        set_str(w, "state", "Loading");
        expect_fail(w, a.pem, VT_E_FORMAT, "ccf receipt: state is \"Loading\", not Ready");
        json_object_set_new(w, "state", json_integer(7));
        expect_fail(w, a.pem, VT_E_FORMAT, "ccf receipt: state is not \"Ready\"");
        set_str(w, "state", "\x1b[2J");
        expect_fail(w, a.pem, VT_E_FORMAT, "ccf receipt: state is not \"Ready\"");
        json_object_del(w, "state");
        expect_ok(w, a.pem, NULL);
        json_object_set(w, "nodeId", json_object_get(a.json, "nodeId"));
        expect_fail(w, a.pem, VT_E_FORMAT, "receipt fields both in the wrapper");
        json_object_del(w, "nodeId");
        json_object_set_new(w, "receipt", json_string("x"));
        expect_fail(w, a.pem, VT_E_FORMAT, "ccf receipt: receipt is not an object");
        vec_free(&a);
}

/* Every prefix of a receipt (and of the service certificate) short of its closing
 * brace (END line) fails cleanly with a reason. */
static void test_ccf_real_truncations(void **state)
{
        (void)state;
        struct vec a = {0};
        load_235(&a);
        size_t end = (size_t)(strrchr(a.receipt, '}') - a.receipt) + 1;
        for (size_t n = 0; n < a.len; n++) {
                struct vt_diag d = {0};
                _cleanup_free_ char *t = malloc(n + 1);
                assert_non_null(t);
                memcpy(t, a.receipt, n);
                int e = vt_ccf_receipt_verify((const uint8_t *)t, n, a.pem, strlen(a.pem), NULL,
                                              &d);
                if (n < end) {
                        if (e != VT_E_FORMAT || !strstr(d.msg, "ccf receipt: not JSON"))
                                fail_msg("prefix %zu: %s \"%s\"", n, vt_strerror(e), d.msg);
                } else {
                        assert_int_equal(e, 0);
                }
        }
        const char *endline = strstr(a.pem, "-----END CERTIFICATE-----");
        assert_non_null(endline);
        size_t pend = (size_t)(endline - a.pem) + strlen("-----END CERTIFICATE-----");
        for (size_t n = 0; n < pend; n++) {
                struct vt_diag d = {0};
                int e = vt_ccf_receipt_verify((const uint8_t *)a.receipt, a.len, a.pem, n, NULL,
                                              &d);
                if (e != VT_E_FORMAT || d.msg[0] == '\0')
                        fail_msg("pem prefix %zu: %s \"%s\"", n, vt_strerror(e), d.msg);
        }
        vec_free(&a);
}

static void test_ccf_json_text(void **state)
{
        (void)state;
        struct vec a = {0};
        struct vt_diag d = {0};
        load_235(&a);
        /* a duplicate key: the second nodeId would otherwise decide */
        {
                size_t n = a.len + 128;
                _cleanup_free_ char *t = malloc(n);
                assert_non_null(t);
                int k = snprintf(
                        t, n,
                        "{\"nodeId\":\"a16d14661618d220365594fc4986f4401ff74785b70818b00e65"
                        "90bb3c1a1a5d\",%s",
                        strchr(a.receipt, '{') + 1);
                assert_true(k > 0 && (size_t)k < n);
                assert_int_equal(verify_text(t, (size_t)k, a.pem, NULL, &d), VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "ccf receipt: not JSON: duplicate object key"));
        }
        /* not an object; trailing garbage; over the cap */
        assert_int_equal(verify_text("[1]", 3, a.pem, NULL, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "ccf receipt: not a JSON object"));
        {
                _cleanup_free_ char *t = malloc(a.len + 2);
                assert_non_null(t);
                memcpy(t, a.receipt, a.len);
                memcpy(t + a.len, "{}", 2);
                assert_int_equal(verify_text(t, a.len + 2, a.pem, NULL, &d), VT_E_FORMAT);
        }
        {
                size_t n = VT_CCF_RECEIPT_MAX_BYTES + 1;
                _cleanup_free_ char *t = malloc(n);
                assert_non_null(t);
                memset(t, ' ', n);
                memcpy(t, a.receipt, a.len);
                assert_int_equal(verify_text(t, n, a.pem, NULL, &d), VT_E_LIMIT);
                assert_non_null(strstr(d.msg, "more than 1048576"));
                /* the same bytes under the cap verify (trailing whitespace is JSON) */
                assert_int_equal(verify_text(t, n - 1, a.pem, NULL, &d), 0);
        }
        vec_free(&a);
}

/* ---- synthetic receipts: fresh keys, endorsement chains, both spellings ---- */

struct synth {
        EVP_PKEY *svc, *e1, *e0, *node, *node384;
        X509 *svc_cert;
        X509 *e1_cert;      /* an older service identity, endorsed by the service */
        X509 *e0_cert;      /* an even older one, endorsed by e1 */
        X509 *node_cert;    /* signed by e0 */
        X509 *node384_cert; /* P-384, signed by the service directly */
        char *svc_pem, *e1_pem, *e0_pem, *node_pem, *node384_pem;
};

static X509 *mk_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *issuer_key)
{
        static long serial = 1;
        X509 *x = X509_new();
        assert_non_null(x);
        assert_int_equal(X509_set_version(x, 2), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
        assert_int_equal(X509_set_pubkey(x, pub), 1);
        assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                                    (const unsigned char *)cn, -1, -1, 0),
                         1);
        assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                                        : X509_get_subject_name(x)),
                         1);
        assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
        return x;
}

static char *pem_of(X509 *x)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        char *p = NULL;
        assert_non_null(b);
        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        long n = BIO_get_mem_data(b, &p);
        char *s = calloc(1, (size_t)n + 1);
        assert_non_null(s);
        memcpy(s, p, (size_t)n);
        return s;
}

static struct synth S;

static int synth_setup(void **state)
{
        (void)state;
        S.svc = EVP_EC_gen("P-384");
        S.e1 = EVP_EC_gen("P-256");
        S.e0 = EVP_EC_gen("P-384");
        S.node = EVP_EC_gen("P-256");
        S.node384 = EVP_EC_gen("P-384");
        if (!S.svc || !S.e1 || !S.e0 || !S.node || !S.node384)
                return -1;
        S.svc_cert = mk_cert("CCF Network", S.svc, NULL, S.svc);
        S.e1_cert = mk_cert("CCF Network", S.e1, S.svc_cert, S.svc);
        S.e0_cert = mk_cert("CCF Network", S.e0, S.e1_cert, S.e1);
        S.node_cert = mk_cert("CCF Node", S.node, S.e0_cert, S.e0);
        S.node384_cert = mk_cert("CCF Node", S.node384, S.svc_cert, S.svc);
        S.svc_pem = pem_of(S.svc_cert);
        S.e1_pem = pem_of(S.e1_cert);
        S.e0_pem = pem_of(S.e0_cert);
        S.node_pem = pem_of(S.node_cert);
        S.node384_pem = pem_of(S.node384_cert);
        return 0;
}

static int synth_teardown(void **state)
{
        (void)state;
        EVP_PKEY *k[] = {S.svc, S.e1, S.e0, S.node, S.node384};
        X509 *x[] = {S.svc_cert, S.e1_cert, S.e0_cert, S.node_cert, S.node384_cert};
        char *p[] = {S.svc_pem, S.e1_pem, S.e0_pem, S.node_pem, S.node384_pem};
        for (size_t i = 0; i < ELEMENTSOF(k); i++) {
                EVP_PKEY_free(k[i]);
                X509_free(x[i]);
                free(p[i]);
        }
        return 0;
}

static void node_id_of(EVP_PKEY *k, char out[65])
{
        unsigned char *der = NULL;
        uint8_t h[32];
        int n = i2d_PUBKEY(k, &der);
        assert_true(n > 0);
        sha256(der, (size_t)n, h);
        OPENSSL_free(der);
        hex32(h, out);
}

static char *sign_root(EVP_PKEY *k, const uint8_t root[32])
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
        uint8_t sig[160];
        size_t n = sizeof(sig);
        char *b64 = NULL;
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
        assert_int_equal(EVP_PKEY_sign(ctx, sig, &n, root, 32), 1);
        assert_int_equal(vt_b64_encode(sig, n, VT_B64_STD, &b64), 0);
        return b64;
}

struct ropts {
        bool snake;
        bool sigtx;
        bool no_claims; /* leave claims_digest out */
        EVP_PKEY *key;  /* signs the root; NULL: S.node */
        const char *cert_pem;
        EVP_PKEY *cert_key; /* the key of cert_pem, for nodeId */
        const char *const *endorse;
        size_t n_endorse;
        size_t n_proof;
};

/* make_receipt builds a receipt for TxID 4.42 as CCF would, signed by o->key. */
static json_t *make_receipt(const struct ropts *o)
{
        const char *ce =
                "ce:4.42:9f6c2d1a8b7e4f30a1b2c3d4e5f60718293a4b5c6d7e8f9001122334455667788";
        uint8_t wsd[32], claims[32] = {0}, ced[32], h[32], buf[96];
        char hex[65], nid[65];
        json_t *r = json_object();
        assert_non_null(r);

        sha256("write set", 9, wsd);
        if (!o->no_claims)
                sha256("claims", 6, claims);
        if (o->sigtx) {
                sha256("root of everything", 18, h);
                hex32(h, hex);
                json_object_set_new(r, "leaf", json_string(hex));
        } else {
                sha256(ce, strlen(ce), ced);
                memcpy(buf, wsd, 32);
                memcpy(buf + 32, ced, 32);
                memcpy(buf + 64, claims, 32);
                sha256(buf, 96, h);
                json_t *lc = json_object();
                hex32(wsd, hex);
                json_object_set_new(lc, o->snake ? "write_set_digest" : "writeSetDigest",
                                    json_string(hex));
                json_object_set_new(lc, o->snake ? "commit_evidence" : "commitEvidence",
                                    json_string(ce));
                if (!o->no_claims) {
                        hex32(claims, hex);
                        json_object_set_new(lc, o->snake ? "claims_digest" : "claimsDigest",
                                            json_string(hex));
                }
                json_object_set_new(r, o->snake ? "leaf_components" : "leafComponents", lc);
        }
        json_t *proof = json_array();
        for (size_t i = 0; i < o->n_proof; i++) {
                uint8_t sib[32];
                uint8_t seed = (uint8_t)i;
                sha256(&seed, 1, sib);
                hex32(sib, hex);
                bool left = i % 3 != 1;
                json_array_append_new(proof, json_pack("{s:s}", left ? "left" : "right", hex));
                if (left)
                        sha256_pair(sib, h, h);
                else
                        sha256_pair(h, sib, h);
        }
        json_object_set_new(r, "proof", proof);
        node_id_of(o->cert_key ? o->cert_key : S.node, nid);
        json_object_set_new(r, o->snake ? "node_id" : "nodeId", json_string(nid));
        json_object_set_new(r, "cert", json_string(o->cert_pem ? o->cert_pem : S.node_pem));
        _cleanup_free_ char *sig = sign_root(o->key ? o->key : S.node, h);
        json_object_set_new(r, "signature", json_string(sig));
        json_t *en = json_array();
        for (size_t i = 0; i < o->n_endorse; i++)
                json_array_append_new(en, json_string(o->endorse[i]));
        json_object_set_new(r, o->snake ? "service_endorsements" : "serviceEndorsements", en);
        return r;
}

static void test_ccf_synth_endorsement_chain(void **state)
{
        (void)state;
        struct vt_ccf_receipt_info info;
        const char *chain[] = {S.e0_pem, S.e1_pem};
        for (int snake = 0; snake <= 1; snake++) {
                const char *f = snake ? "service_endorsements" : "serviceEndorsements";
                char want[128];
                struct ropts o = {.snake = snake, .endorse = chain, .n_endorse = 2, .n_proof = 7};
                _cleanup_json_ json_t *r = make_receipt(&o);
                expect_ok(r, S.svc_pem, &info);
                assert_int_equal(info.n_endorsements, 2);
                assert_string_equal(info.transaction_id, "4.42");
                assert_true(info.transaction_id_signed);
                assert_false(info.signature_transaction);

                /* the node certificate against the wrong service */
                expect_fail(r, S.e1_pem, VT_E_CHAIN, "is not signed by the service certificate");
                /* drop the first endorsement */
                json_array_remove(json_object_get(r, f), 0);
                snprintf(want, sizeof(want),
                         "ccf receipt: the node certificate is not signed by %s[0]", f);
                expect_fail(r, S.svc_pem, VT_E_CHAIN, want);
                /* swapped */
                json_array_append_new(json_object_get(r, f), json_string(S.e0_pem));
                expect_fail(r, S.svc_pem, VT_E_CHAIN, want);
                /* only the first: it is not signed by the service */
                json_array_clear(json_object_get(r, f));
                json_array_append_new(json_object_get(r, f), json_string(S.e0_pem));
                snprintf(want, sizeof(want),
                         "ccf receipt: %s[0] is not signed by the service certificate", f);
                expect_fail(r, S.svc_pem, VT_E_CHAIN, want);
                /* none */
                json_array_clear(json_object_get(r, f));
                expect_fail(r, S.svc_pem, VT_E_CHAIN,
                            "ccf receipt: the node certificate is not signed by the service "
                            "certificate");
                /* an extra, unrelated one at the end */
                json_array_append_new(json_object_get(r, f), json_string(S.e0_pem));
                json_array_append_new(json_object_get(r, f), json_string(S.e1_pem));
                json_array_append_new(json_object_get(r, f), json_string(S.node384_pem));
                snprintf(want, sizeof(want), "ccf receipt: %s[1] is not signed by %s[2]", f, f);
                expect_fail(r, S.svc_pem, VT_E_CHAIN, want);
                /* too many */
                json_array_clear(json_object_get(r, f));
                for (int i = 0; i <= VT_CCF_ENDORSEMENTS_MAX; i++)
                        json_array_append_new(json_object_get(r, f), json_string(S.e0_pem));
                snprintf(want, sizeof(want), "ccf receipt: %s has 17 entries, more than 16", f);
                expect_fail(r, S.svc_pem, VT_E_LIMIT, want);
        }
}

static void test_ccf_synth_forms(void **state)
{
        (void)state;
        struct vt_ccf_receipt_info info;
        /* P-384 node key, no endorsements, both spellings, claims */
        for (int snake = 0; snake <= 1; snake++) {
                struct ropts o = {.snake = snake,
                                  .key = S.node384,
                                  .cert_pem = S.node384_pem,
                                  .cert_key = S.node384,
                                  .n_proof = 3};
                _cleanup_json_ json_t *r = make_receipt(&o);
                uint8_t claims[32];
                expect_ok(r, S.svc_pem, &info);
                sha256("claims", 6, claims);
                assert_memory_equal(info.claims_digest, claims, 32);
                assert_int_equal(info.n_endorsements, 0);
                /* the endorsement list may be absent */
                json_object_del(r, snake ? "service_endorsements" : "serviceEndorsements");
                expect_ok(r, S.svc_pem, NULL);
                /* signed by another key than the certificate's */
                struct ropts o2 = o;
                o2.key = S.e0;
                _cleanup_json_ json_t *r2 = make_receipt(&o2);
                expect_fail(r2, S.svc_pem, VT_E_SIGNATURE,
                            "ccf receipt: signature over the root does not verify");
        }
        /* no claims digest: native CCF may leave it out, ACL always sends it */
        {
                struct ropts o = {.snake = true,
                                  .key = S.node384,
                                  .cert_pem = S.node384_pem,
                                  .cert_key = S.node384,
                                  .no_claims = true,
                                  .n_proof = 1};
                _cleanup_json_ json_t *r = make_receipt(&o);
                expect_ok(r, S.svc_pem, NULL);
                o.snake = false;
                _cleanup_json_ json_t *c = make_receipt(&o);
                json_object_del(lc_of(c), "claimsDigest");
                expect_fail(c, S.svc_pem, VT_E_FORMAT, "ccf receipt: claimsDigest missing");
        }
        /* the longest proof, and one step more */
        {
                struct ropts o = {.key = S.node384,
                                  .cert_pem = S.node384_pem,
                                  .cert_key = S.node384,
                                  .n_proof = VT_CCF_PROOF_MAX};
                _cleanup_json_ json_t *r = make_receipt(&o);
                expect_ok(r, S.svc_pem, NULL);
                json_array_append(json_object_get(r, "proof"),
                                  json_array_get(json_object_get(r, "proof"), 0));
                expect_fail(r, S.svc_pem, VT_E_LIMIT,
                            "ccf receipt: proof has 65 steps, more than 64");
        }
}

static void test_ccf_synth_signature_transaction(void **state)
{
        (void)state;
        struct vt_ccf_receipt_info info;
        for (int snake = 0; snake <= 1; snake++) {
                struct ropts o = {.snake = snake,
                                  .sigtx = true,
                                  .key = S.node384,
                                  .cert_pem = S.node384_pem,
                                  .cert_key = S.node384};
                _cleanup_json_ json_t *r = make_receipt(&o);
                uint8_t want[32];
                expect_ok(r, S.svc_pem, &info);
                assert_true(info.signature_transaction);
                assert_string_equal(info.transaction_id, "");
                assert_false(info.transaction_id_signed);
                sha256("root of everything", 18, want);
                assert_memory_equal(info.root, want, 32);

                /* wrapped: the transaction id comes from the (unsigned) wrapper */
                _cleanup_json_ json_t *w = json_pack("{s:s,s:s,s:O}", "state", "Ready",
                                                     "transactionId", "4.50", "receipt", r);
                expect_ok(w, S.svc_pem, &info);
                assert_string_equal(info.transaction_id, "4.50");
                assert_false(info.transaction_id_signed);

                /* the leaf is what is signed */
                _cleanup_json_ json_t *c = json_deep_copy(r);
                char zeros[65];
                memset(zeros, '0', 64);
                zeros[64] = '\0';
                set_str(c, "leaf", zeros);
                expect_fail(c, S.svc_pem, VT_E_SIGNATURE,
                            "ccf receipt: signature over the root does not verify");
                /* a proof beside leaf */
                json_object_set(c, "leaf", json_object_get(r, "leaf"));
                json_array_append_new(json_object_get(c, "proof"),
                                      json_pack("{s:O}", "left", json_object_get(r, "leaf")));
                expect_fail(c, S.svc_pem, VT_E_FORMAT,
                            "ccf receipt: a signature-transaction receipt (leaf) with a non-empty "
                            "proof");
                /* leaf and leaf components */
                json_array_clear(json_object_get(c, "proof"));
                json_object_set_new(c, snake ? "leaf_components" : "leafComponents", json_object());
                expect_fail(c, S.svc_pem, VT_E_FORMAT, "ccf receipt: both leaf and");
        }
}

static void test_ccf_synth_key_types(void **state)
{
        (void)state;
        /* an RSA node certificate (its nodeId right): refused by key type */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *rsa = EVP_RSA_gen(2048);
        assert_non_null(rsa);
        _cleanup_(X509_freep) X509 *rc = mk_cert("CCF Node", rsa, S.svc_cert, S.svc);
        _cleanup_free_ char *rpem = pem_of(rc);
        struct ropts o = {.key = S.node384, .cert_pem = rpem, .cert_key = rsa, .n_proof = 2};
        _cleanup_json_ json_t *r = make_receipt(&o);
        expect_fail(r, S.svc_pem, VT_E_UNSUPPORTED,
                    "ccf receipt: the node certificate's key is not an EC P-256 or P-384 key");
        /* an RSA service certificate */
        _cleanup_(X509_freep) X509 *rs = mk_cert("CCF Network", rsa, NULL, rsa);
        _cleanup_free_ char *rspem = pem_of(rs);
        struct ropts o2 = {
                .key = S.node384, .cert_pem = S.node384_pem, .cert_key = S.node384, .n_proof = 2};
        _cleanup_json_ json_t *r2 = make_receipt(&o2);
        expect_fail(
                r2, rspem, VT_E_UNSUPPORTED,
                "ccf receipt: the key of the service certificate is not an EC P-256 or P-384 key");
        /* a P-521 node key */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k521 = EVP_EC_gen("P-521");
        assert_non_null(k521);
        _cleanup_(X509_freep) X509 *c521 = mk_cert("CCF Node", k521, S.svc_cert, S.svc);
        _cleanup_free_ char *p521 = pem_of(c521);
        struct ropts o3 = {.key = k521, .cert_pem = p521, .cert_key = k521, .n_proof = 2};
        _cleanup_json_ json_t *r3 = make_receipt(&o3);
        expect_fail(r3, S.svc_pem, VT_E_UNSUPPORTED,
                    "ccf receipt: the node certificate's key is not an EC P-256 or P-384 key");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ccf_real_receipts_verify),
                cmocka_unit_test(test_ccf_real_cross_paired),
                cmocka_unit_test(test_ccf_real_tamper_fields),
                cmocka_unit_test(test_ccf_real_tamper_structure),
                cmocka_unit_test(test_ccf_real_wrapper),
                cmocka_unit_test(test_ccf_real_truncations),
                cmocka_unit_test(test_ccf_json_text),
                cmocka_unit_test(test_ccf_synth_endorsement_chain),
                cmocka_unit_test(test_ccf_synth_forms),
                cmocka_unit_test(test_ccf_synth_signature_transaction),
                cmocka_unit_test(test_ccf_synth_key_types),
        };
        return vtt_run_group_tests(tests, synth_setup, synth_teardown);
}
