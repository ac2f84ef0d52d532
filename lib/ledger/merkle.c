/* SPDX-License-Identifier: Apache-2.0 */
#include "ledger/merkle.h"

#include <string.h>

#include <openssl/evp.h>

#include "crypto/digest.h"
#include "crypto/openssl-util.h"
#include "util/hex.h"

int vt_merkle_leaf_hash(const void *entry, size_t len, vt_hash out)
{
        static const uint8_t zero = 0x00;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (!c || !EVP_DigestInit_ex(c, vt_sha256(), NULL) || !EVP_DigestUpdate(c, &zero, 1) ||
            !EVP_DigestUpdate(c, entry, len) || !EVP_DigestFinal_ex(c, out, NULL))
                return VT_E_CRYPTO;
        return 0;
}

int vt_merkle_node_hash(const vt_hash left, const vt_hash right, vt_hash out)
{
        uint8_t buf[1 + 2 * VT_MERKLE_HASH_LEN];
        buf[0] = 0x01;
        memcpy(buf + 1, left, VT_MERKLE_HASH_LEN);
        memcpy(buf + 1 + VT_MERKLE_HASH_LEN, right, VT_MERKLE_HASH_LEN);
        return EVP_Digest(buf, sizeof(buf), out, NULL, vt_sha256(), NULL) ? 0 : VT_E_CRYPTO;
}

void vt_merkle_empty_root(vt_hash out)
{
        /* SHA-256 of the empty string */
        static const vt_hash e = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                  0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                  0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
        memcpy(out, e, VT_MERKLE_HASH_LEN);
}

int vt_merkle_frontier_push(struct vt_merkle_frontier *f, const vt_hash leaf,
                            struct vt_merkle_node *out)
{
        if (f->size >= (UINT64_C(1) << VT_MERKLE_MAX_LEVEL))
                return VT_E_LIMIT;
        uint64_t idx = f->size;
        unsigned level = 0;
        vt_hash cur;
        int n = 0, e;

        memcpy(cur, leaf, VT_MERKLE_HASH_LEN);
        out[n].level = 0;
        out[n].index = idx;
        memcpy(out[n++].hash, cur, VT_MERKLE_HASH_LEN);
        /* a right child closes its parent, whose left child is the frontier's node */
        while (idx & 1) {
                if ((e = vt_merkle_node_hash(f->node[level], cur, cur)) < 0)
                        return e;
                idx >>= 1;
                level++;
                out[n].level = level;
                out[n].index = idx;
                memcpy(out[n++].hash, cur, VT_MERKLE_HASH_LEN);
        }
        memcpy(f->node[level], cur, VT_MERKLE_HASH_LEN);
        f->size++;
        return n;
}

int vt_merkle_frontier_root(const struct vt_merkle_frontier *f, vt_hash out)
{
        if (f->size == 0) {
                vt_merkle_empty_root(out);
                return 0;
        }
        /* The tree hash splits at the largest power of two: the subtrees of the set bits,
         * combined from the smallest (rightmost) up. */
        bool have = false;
        vt_hash r;
        for (unsigned l = 0; l <= VT_MERKLE_MAX_LEVEL; l++) {
                if (!(f->size >> l & 1))
                        continue;
                if (!have) {
                        memcpy(r, f->node[l], VT_MERKLE_HASH_LEN);
                        have = true;
                } else {
                        int e = vt_merkle_node_hash(f->node[l], r, r);
                        if (e < 0)
                                return e;
                }
        }
        memcpy(out, r, VT_MERKLE_HASH_LEN);
        return 0;
}

int vt_merkle_frontier_load(struct vt_merkle_frontier *f, uint64_t size, vt_merkle_node_fn get,
                            void *ud)
{
        struct vt_merkle_frontier t = {.size = size};
        for (unsigned l = 0; l <= VT_MERKLE_MAX_LEVEL; l++) {
                if (!(size >> l & 1))
                        continue;
                int e = get(ud, l, (size >> l) - 1, t.node[l]);
                if (e < 0)
                        return e;
        }
        *f = t;
        return 0;
}

/* largest_pow2_below returns the largest power of two k < n (n >= 2). */
static uint64_t largest_pow2_below(uint64_t n)
{
        uint64_t k = 1;
        while (k << 1 < n)
                k <<= 1;
        return k;
}

static bool is_pow2(uint64_t n)
{
        return n && !(n & (n - 1));
}

static unsigned log2_of(uint64_t n)
{
        unsigned l = 0;
        while (n >>= 1)
                l++;
        return l;
}

/* mth sets out to the tree hash of leaves [start, end) (start < end): a stored node
 * when the range is a perfect aligned subtree, else split as RFC 9162 does. Ranges met
 * by the proof algorithms are of that form (start a multiple of the split). */
static int mth(uint64_t start, uint64_t end, vt_merkle_node_fn get, void *ud, vt_hash out)
{
        uint64_t n = end - start;
        if (is_pow2(n) && start % n == 0)
                return get(ud, log2_of(n), start / n, out);
        uint64_t k = largest_pow2_below(n);
        vt_hash l, r;
        int e;
        if ((e = mth(start, start + k, get, ud, l)) < 0 ||
            (e = mth(start + k, end, get, ud, r)) < 0)
                return e;
        return vt_merkle_node_hash(l, r, out);
}

int vt_merkle_root(uint64_t size, vt_merkle_node_fn get, void *ud, vt_hash out)
{
        if (size == 0) {
                vt_merkle_empty_root(out);
                return 0;
        }
        return mth(0, size, get, ud, out);
}

/* PATH(m, D[start:end]) of RFC 9162 2.1.3.1, appended to path in the order the verifier
 * reads it (leaf side first). */
static int path_of(uint64_t m, uint64_t start, uint64_t end, vt_merkle_node_fn get, void *ud,
                   vt_hash *path, size_t *n)
{
        uint64_t size = end - start;
        if (size == 1)
                return 0;
        uint64_t k = largest_pow2_below(size);
        int e;
        if (m < k) {
                if ((e = path_of(m, start, start + k, get, ud, path, n)) < 0)
                        return e;
                e = mth(start + k, end, get, ud, path[*n]);
        } else {
                if ((e = path_of(m - k, start + k, end, get, ud, path, n)) < 0)
                        return e;
                e = mth(start, start + k, get, ud, path[*n]);
        }
        if (e < 0)
                return e;
        (*n)++;
        return 0;
}

int vt_merkle_inclusion_proof(uint64_t index, uint64_t size, vt_merkle_node_fn get, void *ud,
                              vt_hash *path, size_t *ret_n)
{
        if (index >= size || size > (UINT64_C(1) << VT_MERKLE_MAX_LEVEL))
                return VT_E_INVAL;
        size_t n = 0;
        int e = path_of(index, 0, size, get, ud, path, &n);
        if (e < 0)
                return e;
        *ret_n = n;
        return 0;
}

/* SUBPROOF(m, D[start:end], b) of RFC 9162 2.1.4.1. */
static int subproof(uint64_t m, uint64_t start, uint64_t end, bool b, vt_merkle_node_fn get,
                    void *ud, vt_hash *path, size_t *n)
{
        uint64_t size = end - start;
        int e;
        if (m == size) {
                if (b)
                        return 0;
                if ((e = mth(start, end, get, ud, path[*n])) < 0)
                        return e;
                (*n)++;
                return 0;
        }
        uint64_t k = largest_pow2_below(size);
        if (m <= k) {
                if ((e = subproof(m, start, start + k, b, get, ud, path, n)) < 0)
                        return e;
                e = mth(start + k, end, get, ud, path[*n]);
        } else {
                if ((e = subproof(m - k, start + k, end, false, get, ud, path, n)) < 0)
                        return e;
                e = mth(start, start + k, get, ud, path[*n]);
        }
        if (e < 0)
                return e;
        (*n)++;
        return 0;
}

int vt_merkle_consistency_proof(uint64_t first, uint64_t second, vt_merkle_node_fn get, void *ud,
                                vt_hash *path, size_t *ret_n)
{
        if (first > second || second > (UINT64_C(1) << VT_MERKLE_MAX_LEVEL))
                return VT_E_INVAL;
        size_t n = 0;
        if (first > 0 && first < second) {
                int e = subproof(first, 0, second, true, get, ud, path, &n);
                if (e < 0)
                        return e;
        }
        *ret_n = n;
        return 0;
}

static void hex_of(const vt_hash h, char out[2 * VT_MERKLE_HASH_LEN + 1])
{
        vt_hex_encode(h, VT_MERKLE_HASH_LEN, out);
}

int vt_merkle_verify_inclusion(const vt_hash leaf, uint64_t index, uint64_t size,
                               const vt_hash *path, size_t n, const vt_hash root, struct vt_diag *d)
{
        if (index >= size)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "inclusion proof: index %llu is not below the tree size %llu",
                                   (unsigned long long)index, (unsigned long long)size);
        uint64_t fn = index, sn = size - 1;
        vt_hash r;
        int e;
        memcpy(r, leaf, VT_MERKLE_HASH_LEN);
        for (size_t i = 0; i < n; i++) {
                if (sn == 0)
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "inclusion proof: %zu hashes, more than a tree of "
                                           "size %llu needs",
                                           n, (unsigned long long)size);
                if ((fn & 1) || fn == sn) {
                        if ((e = vt_merkle_node_hash(path[i], r, r)) < 0)
                                return e;
                        if (!(fn & 1))
                                while (!(fn & 1) && fn != 0) {
                                        fn >>= 1;
                                        sn >>= 1;
                                }
                } else if ((e = vt_merkle_node_hash(r, path[i], r)) < 0) {
                        return e;
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "inclusion proof: %zu hashes, fewer than a tree of size %llu "
                                   "needs",
                                   n, (unsigned long long)size);
        if (memcmp(r, root, VT_MERKLE_HASH_LEN) != 0) {
                char a[2 * VT_MERKLE_HASH_LEN + 1], b[2 * VT_MERKLE_HASH_LEN + 1];
                hex_of(r, a);
                hex_of(root, b);
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "inclusion proof: entry %llu leads to root %s, not to the "
                                   "tree head's %s",
                                   (unsigned long long)index, a, b);
        }
        return 0;
}

int vt_merkle_verify_consistency(uint64_t first, uint64_t second, const vt_hash first_root,
                                 const vt_hash second_root, const vt_hash *path, size_t n,
                                 struct vt_diag *d)
{
        if (first > second)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "consistency proof: the first tree (%llu) is larger than the "
                                   "second (%llu): the ledger shrank",
                                   (unsigned long long)first, (unsigned long long)second);
        if (first == 0)
                return 0;
        if (first == second) {
                if (n != 0)
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "consistency proof: trees of equal size need an "
                                           "empty proof");
                if (memcmp(first_root, second_root, VT_MERKLE_HASH_LEN) != 0)
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "consistency proof: two tree heads of size %llu "
                                           "with different roots (a fork)",
                                           (unsigned long long)first);
                return 0;
        }
        if (n == 0)
                return vt_diag_set(d, VT_E_SIGNATURE, "consistency proof: empty");
        if (n > VT_MERKLE_MAX_PROOF)
                return vt_diag_set(d, VT_E_SIGNATURE, "consistency proof: %zu hashes, too many", n);

        /* With first a power of two, the first tree is a node of the second and its
         * root is the proof's implicit first value. */
        const vt_hash *p = path;
        size_t np = n, i = 0;
        vt_hash fr, sr;
        int e;
        uint64_t fn = first - 1, sn = second - 1;
        if (is_pow2(first)) {
                memcpy(fr, first_root, VT_MERKLE_HASH_LEN);
                memcpy(sr, first_root, VT_MERKLE_HASH_LEN);
        } else {
                memcpy(fr, p[0], VT_MERKLE_HASH_LEN);
                memcpy(sr, p[0], VT_MERKLE_HASH_LEN);
                i = 1;
        }
        while (fn & 1) {
                fn >>= 1;
                sn >>= 1;
        }
        for (; i < np; i++) {
                if (sn == 0)
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "consistency proof: %zu hashes, more than needed", n);
                if ((fn & 1) || fn == sn) {
                        if ((e = vt_merkle_node_hash(p[i], fr, fr)) < 0 ||
                            (e = vt_merkle_node_hash(p[i], sr, sr)) < 0)
                                return e;
                        if (!(fn & 1))
                                while (!(fn & 1) && fn != 0) {
                                        fn >>= 1;
                                        sn >>= 1;
                                }
                } else if ((e = vt_merkle_node_hash(sr, p[i], sr)) < 0) {
                        return e;
                }
                fn >>= 1;
                sn >>= 1;
        }
        if (sn != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "consistency proof: %zu hashes, fewer than needed", n);
        if (memcmp(fr, first_root, VT_MERKLE_HASH_LEN) != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "consistency proof: does not lead to the root of the tree of "
                                   "size %llu: the ledger was rewritten below that size",
                                   (unsigned long long)first);
        if (memcmp(sr, second_root, VT_MERKLE_HASH_LEN) != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "consistency proof: does not lead to the root of the tree of "
                                   "size %llu",
                                   (unsigned long long)second);
        return 0;
}
