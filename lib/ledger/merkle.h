/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 9162 Merkle trees (Certificate Transparency 2.0, section 2.1) over SHA-256:
 * leaf hash H(0x00 || entry), node hash H(0x01 || left || right), the tree hash of n
 * leaves splitting at the largest power of two below n; inclusion and consistency
 * proofs, their generation and their verification.
 *
 * The tree is kept as its perfect subtrees: node (level, index) is the hash of the 2^level
 * leaves [index * 2^level, (index + 1) * 2^level), level 0 being the leaf hashes. An
 * append completes at most one node per level, and any tree hash or proof needs
 * O(log^2 n) of them, so that a proof costs the same at a thousand entries as at a
 * million. Where the nodes live (the store, memory) is the caller's: generation asks a
 * callback for them. Internal to lib/ledger; thread-safe (no state).
 */
#ifndef VT_LEDGER_MERKLE_H
#define VT_LEDGER_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/veritee.h"

#define VT_MERKLE_HASH_LEN  32
#define VT_MERKLE_MAX_LEVEL 63
/* A proof of a tree below 2^63 leaves has at most 63 (inclusion) or 64 (consistency,
 * with the first tree's hash prepended) hashes. */
#define VT_MERKLE_MAX_PROOF 64

typedef uint8_t vt_hash[VT_MERKLE_HASH_LEN];

/* vt_merkle_leaf_hash sets out to H(0x00 || entry). */
int vt_merkle_leaf_hash(const void *entry, size_t len, vt_hash out);

/* vt_merkle_node_hash sets out to H(0x01 || left || right); out may alias either. */
int vt_merkle_node_hash(const vt_hash left, const vt_hash right, vt_hash out);

/* vt_merkle_empty_root sets out to the tree hash of no leaves, H(""). */
void vt_merkle_empty_root(vt_hash out);

/*
 * The right edge of a tree, all an append needs: for each bit l set in size, the
 * perfect subtree node (l, (size >> l) - 1).
 */
struct vt_merkle_frontier {
        uint64_t size;
        vt_hash node[VT_MERKLE_MAX_LEVEL + 1];
};

/* A node completed by an append, to be stored. */
struct vt_merkle_node {
        unsigned level;
        uint64_t index;
        vt_hash hash;
};

/* vt_merkle_frontier_push appends a leaf hash to f and writes the nodes it completes
 * (the leaf itself at level 0, then one per level it closes) into out, which has room
 * for VT_MERKLE_MAX_LEVEL + 1; returns their number, or VT_E_LIMIT when the tree is full. */
int vt_merkle_frontier_push(struct vt_merkle_frontier *f, const vt_hash leaf,
                            struct vt_merkle_node *out);

/* vt_merkle_frontier_root sets out to the tree hash of the tree f describes. */
int vt_merkle_frontier_root(const struct vt_merkle_frontier *f, vt_hash out);

/* A source of perfect subtree hashes: writes node (level, index) into out, or returns a
 * negative VT_E_* (VT_E_NOTFOUND when it does not exist). */
typedef int (*vt_merkle_node_fn)(void *ud, unsigned level, uint64_t index, vt_hash out);

/* vt_merkle_frontier_load fills f for a tree of size leaves from get. */
int vt_merkle_frontier_load(struct vt_merkle_frontier *f, uint64_t size, vt_merkle_node_fn get,
                            void *ud);

/* vt_merkle_root sets out to the tree hash of leaves [0, size) from get. */
int vt_merkle_root(uint64_t size, vt_merkle_node_fn get, void *ud, vt_hash out);

/* vt_merkle_inclusion_proof writes the RFC 9162 inclusion proof (PATH) of leaf index in
 * the tree of size leaves into path (room for VT_MERKLE_MAX_PROOF), its length into
 * *ret_n. VT_E_INVAL if index >= size. */
int vt_merkle_inclusion_proof(uint64_t index, uint64_t size, vt_merkle_node_fn get, void *ud,
                              vt_hash *path, size_t *ret_n);

/* vt_merkle_consistency_proof writes the RFC 9162 consistency proof (PROOF) from the tree
 * of first leaves to the tree of second leaves. VT_E_INVAL unless first <= second; the
 * proof is empty when first is 0 or equal to second. */
int vt_merkle_consistency_proof(uint64_t first, uint64_t second, vt_merkle_node_fn get, void *ud,
                                vt_hash *path, size_t *ret_n);

/* vt_merkle_verify_inclusion checks an inclusion proof (RFC 9162 2.1.3.2) of the leaf
 * hash leaf at index in a tree of size leaves with root hash root. 0, or
 * VT_E_SIGNATURE with the reason in d. */
int vt_merkle_verify_inclusion(const vt_hash leaf, uint64_t index, uint64_t size,
                               const vt_hash *path, size_t n, const vt_hash root,
                               struct vt_diag *d);

/* vt_merkle_verify_consistency checks a consistency proof (RFC 9162 2.1.4.2) between
 * the tree of first leaves with root first_root and that of second leaves with root
 * second_root (first <= second; first 0 is consistent with anything; equal sizes need
 * an empty proof and equal roots). 0, or VT_E_SIGNATURE with the reason in d. */
int vt_merkle_verify_consistency(uint64_t first, uint64_t second, const vt_hash first_root,
                                 const vt_hash second_root, const vt_hash *path, size_t n,
                                 struct vt_diag *d);

#endif
