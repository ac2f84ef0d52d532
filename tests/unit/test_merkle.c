/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9162 trees, proofs and their verification, for every tree of 1 to 64 leaves,
 * against a naive reference written from the RFC's definitions over an array of leaves
 * (no stored nodes, no frontier).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ledger/merkle.h"
#include "testutil.h"
#include "util/hex.h"
#include "veritee/veritee.h"

#define MAXN 64

static vt_hash leaves[MAXN];

/* The stored nodes of the tree under test: filled by vt_merkle_frontier_push. */
static vt_hash nodes[7][MAXN];
static bool have[7][MAXN];

static void sha256_2(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c,
                     size_t cn, vt_hash out)
{
        EVP_MD_CTX *x = EVP_MD_CTX_new();
        assert_non_null(x);
        assert_true(EVP_DigestInit_ex(x, EVP_sha256(), NULL));
        assert_true(EVP_DigestUpdate(x, a, an));
        assert_true(EVP_DigestUpdate(x, b, bn));
        if (c)
                assert_true(EVP_DigestUpdate(x, c, cn));
        assert_true(EVP_DigestFinal_ex(x, out, NULL));
        EVP_MD_CTX_free(x);
}

/* MTH(D[lo:hi]) as RFC 9162 2.1.1 defines it, over the leaf hashes. */
static void ref_mth(size_t lo, size_t hi, vt_hash out)
{
        size_t n = hi - lo;
        if (n == 1) {
                memcpy(out, leaves[lo], 32);
                return;
        }
        size_t k = 1;
        while (k * 2 < n)
                k *= 2;
        vt_hash l, r;
        static const uint8_t one = 1;
        ref_mth(lo, lo + k, l);
        ref_mth(lo + k, hi, r);
        sha256_2(&one, 1, l, 32, r, 32, out);
}

/* PATH(m, D[lo:hi]) of RFC 9162 2.1.3.1. */
static void ref_path(size_t m, size_t lo, size_t hi, vt_hash *p, size_t *n)
{
        size_t sz = hi - lo;
        if (sz == 1)
                return;
        size_t k = 1;
        while (k * 2 < sz)
                k *= 2;
        if (m < k) {
                ref_path(m, lo, lo + k, p, n);
                ref_mth(lo + k, hi, p[(*n)++]);
        } else {
                ref_path(m - k, lo + k, hi, p, n);
                ref_mth(lo, lo + k, p[(*n)++]);
        }
}

/* SUBPROOF(m, D[lo:hi], b) of RFC 9162 2.1.4.1. */
static void ref_subproof(size_t m, size_t lo, size_t hi, bool b, vt_hash *p, size_t *n)
{
        size_t sz = hi - lo;
        if (m == sz) {
                if (!b)
                        ref_mth(lo, hi, p[(*n)++]);
                return;
        }
        size_t k = 1;
        while (k * 2 < sz)
                k *= 2;
        if (m <= k) {
                ref_subproof(m, lo, lo + k, b, p, n);
                ref_mth(lo + k, hi, p[(*n)++]);
        } else {
                ref_subproof(m - k, lo + k, hi, false, p, n);
                ref_mth(lo, lo + k, p[(*n)++]);
        }
}

static int get_node(void *ud, unsigned level, uint64_t index, vt_hash out)
{
        (void)ud;
        if (level >= 7 || index >= MAXN || !have[level][index])
                return VT_E_NOTFOUND;
        memcpy(out, nodes[level][index], 32);
        return 0;
}

/* build appends the MAXN leaves through a frontier, storing what each push completes,
 * and checks the root after every push against the reference. */
static void build(void)
{
        struct vt_merkle_frontier f = {0};
        struct vt_merkle_node out[VT_MERKLE_MAX_LEVEL + 1];
        memset(have, 0, sizeof(have));
        for (size_t i = 0; i < MAXN; i++) {
                int n = vt_merkle_frontier_push(&f, leaves[i], out);
                assert_true(n >= 1);
                for (int j = 0; j < n; j++) {
                        assert_true(out[j].level < 7 && out[j].index < MAXN);
                        assert_false(have[out[j].level][out[j].index]); /* each node once */
                        memcpy(nodes[out[j].level][out[j].index], out[j].hash, 32);
                        have[out[j].level][out[j].index] = true;
                }
                vt_hash a, b, c;
                assert_int_equal(vt_merkle_frontier_root(&f, a), 0);
                ref_mth(0, i + 1, b);
                assert_memory_equal(a, b, 32);
                assert_int_equal(vt_merkle_root(i + 1, get_node, NULL, c), 0);
                assert_memory_equal(c, b, 32);
                struct vt_merkle_frontier g;
                assert_int_equal(vt_merkle_frontier_load(&g, i + 1, get_node, NULL), 0);
                assert_int_equal(vt_merkle_frontier_root(&g, c), 0);
                assert_memory_equal(c, b, 32);
        }
}

static int setup(void **state)
{
        (void)state;
        for (size_t i = 0; i < MAXN; i++) {
                char e[32];
                int n = snprintf(e, sizeof(e), "entry %zu", i);
                assert_int_equal(vt_merkle_leaf_hash(e, (size_t)n, leaves[i]), 0);
        }
        return 0;
}

static void test_merkle_hashes(void **state)
{
        (void)state;
        /* RFC 9162: leaf = H(0x00 || d), node = H(0x01 || l || r), empty = H(""). */
        static const uint8_t zero = 0, one = 1;
        vt_hash a, b;
        assert_int_equal(vt_merkle_leaf_hash("abc", 3, a), 0);
        sha256_2(&zero, 1, (const uint8_t *)"abc", 3, NULL, 0, b);
        assert_memory_equal(a, b, 32);
        assert_int_equal(vt_merkle_node_hash(leaves[0], leaves[1], a), 0);
        sha256_2(&one, 1, leaves[0], 32, leaves[1], 32, b);
        assert_memory_equal(a, b, 32);
        vt_merkle_empty_root(a);
        char hex[65];
        vt_hex_encode(a, 32, hex);
        assert_string_equal(hex,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        vt_hash r;
        assert_int_equal(vt_merkle_root(0, get_node, NULL, r), 0);
        assert_memory_equal(r, a, 32);
}

static void test_merkle_roots(void **state)
{
        (void)state;
        build();
}

/* Every leaf of every tree of 1..64: the proof equals the reference's, verifies, and
 * fails when any hash is changed, with a wrong index, size or leaf, or cut short. */
static void test_merkle_inclusion(void **state)
{
        (void)state;
        build();
        for (size_t n = 1; n <= MAXN; n++) {
                vt_hash root;
                ref_mth(0, n, root);
                for (size_t m = 0; m < n; m++) {
                        vt_hash p[VT_MERKLE_MAX_PROOF], q[VT_MERKLE_MAX_PROOF];
                        size_t pn = 0, qn = 0;
                        assert_int_equal(vt_merkle_inclusion_proof(m, n, get_node, NULL, p, &pn),
                                         0);
                        ref_path(m, 0, n, q, &qn);
                        assert_int_equal(pn, qn);
                        assert_memory_equal(p, q, pn * 32);
                        struct vt_diag d = {0};
                        assert_int_equal(
                                vt_merkle_verify_inclusion(leaves[m], m, n, p, pn, root, &d), 0);
                        for (size_t i = 0; i < pn; i++) {
                                p[i][i % 32] ^= 1;
                                assert_int_equal(vt_merkle_verify_inclusion(leaves[m], m, n, p, pn,
                                                                            root, &d),
                                                 VT_E_SIGNATURE);
                                p[i][i % 32] ^= 1;
                        }
                        if (n > 1) {
                                assert_int_equal(vt_merkle_verify_inclusion(leaves[(m + 1) % n], m,
                                                                            n, p, pn, root, &d),
                                                 VT_E_SIGNATURE);
                                assert_int_equal(vt_merkle_verify_inclusion(leaves[m], (m + 1) % n,
                                                                            n, p, pn, root, &d),
                                                 VT_E_SIGNATURE);
                                assert_int_equal(vt_merkle_verify_inclusion(leaves[m], m, n, p,
                                                                            pn - 1, root, &d),
                                                 VT_E_SIGNATURE);
                        }
                        vt_diag_clear(&d);
                        assert_int_equal(
                                vt_merkle_verify_inclusion(leaves[m], m, m, p, pn, root, &d),
                                VT_E_SIGNATURE);
                        assert_non_null(strstr(d.msg, "not below the tree size"));
                }
                vt_hash p[VT_MERKLE_MAX_PROOF];
                size_t pn;
                assert_int_equal(vt_merkle_inclusion_proof(n, n, get_node, NULL, p, &pn),
                                 VT_E_INVAL);
        }
}

/* Every pair 1 <= a <= b <= 64: the proof equals the reference's, verifies, and fails
 * when a hash, a root or a size is changed. */
static void test_merkle_consistency(void **state)
{
        (void)state;
        build();
        for (size_t b = 1; b <= MAXN; b++) {
                vt_hash rb;
                ref_mth(0, b, rb);
                for (size_t a = 1; a <= b; a++) {
                        vt_hash ra;
                        ref_mth(0, a, ra);
                        vt_hash p[VT_MERKLE_MAX_PROOF], q[VT_MERKLE_MAX_PROOF];
                        size_t pn = 0, qn = 0;
                        assert_int_equal(vt_merkle_consistency_proof(a, b, get_node, NULL, p, &pn),
                                         0);
                        if (a < b)
                                ref_subproof(a, 0, b, true, q, &qn);
                        assert_int_equal(pn, qn);
                        assert_memory_equal(p, q, pn * 32);
                        struct vt_diag d = {0};
                        assert_int_equal(vt_merkle_verify_consistency(a, b, ra, rb, p, pn, &d), 0);
                        for (size_t i = 0; i < pn; i++) {
                                p[i][3] ^= 0x40;
                                assert_int_equal(
                                        vt_merkle_verify_consistency(a, b, ra, rb, p, pn, &d),
                                        VT_E_SIGNATURE);
                                p[i][3] ^= 0x40;
                        }
                        vt_hash bad;
                        memcpy(bad, ra, 32);
                        bad[0] ^= 1;
                        assert_int_equal(vt_merkle_verify_consistency(a, b, bad, rb, p, pn, &d),
                                         VT_E_SIGNATURE);
                        memcpy(bad, rb, 32);
                        bad[0] ^= 1;
                        assert_int_equal(vt_merkle_verify_consistency(a, b, ra, bad, p, pn, &d),
                                         VT_E_SIGNATURE);
                        if (a < b) {
                                assert_int_equal(
                                        vt_merkle_verify_consistency(a, b, ra, rb, p, pn - 1, &d),
                                        VT_E_SIGNATURE);
                                if (a > 1)
                                        assert_int_equal(vt_merkle_verify_consistency(
                                                                 a - 1, b, ra, rb, p, pn, &d),
                                                         VT_E_SIGNATURE);
                        }
                }
                /* the ledger shrank */
                struct vt_diag d = {0};
                vt_diag_clear(&d);
                assert_int_equal(vt_merkle_verify_consistency(b + 1, b, rb, rb, NULL, 0, &d),
                                 VT_E_SIGNATURE);
                assert_non_null(strstr(d.msg, "shrank"));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merkle_hashes),
                cmocka_unit_test(test_merkle_roots),
                cmocka_unit_test(test_merkle_inclusion),
                cmocka_unit_test(test_merkle_consistency),
        };
        return vtt_run_group_tests(tests, setup, NULL);
}
