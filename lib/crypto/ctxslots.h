/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSL key contexts kept between calls, a few at a time. Setting a context up
 * (EVP_PKEY_CTX_new_from_pkey and an init: the provider lookups, the curve's group) can
 * cost more than the operation it is for: a token's signature (lib/token/jwt.c). A slot
 * holds one context, made on its first take and kept; a slot serves one thread at a time,
 * taken by an atomic exchange. When every slot is taken the caller gets a context of its
 * own, freed when given back. Internal to lib/.
 */
#ifndef VT_CRYPTO_CTXSLOTS_H
#define VT_CRYPTO_CTXSLOTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

struct vt_ctx_slot {
        atomic_bool busy;
        EVP_PKEY_CTX *ctx;
};

/* vt_ctx_slot_take returns a context on key, set up by init (EVP_PKEY_keygen_init,
 * EVP_PKEY_sign_init, ...): the first free slot's of the n at slots (made there if empty),
 * or one made for this call when every slot is taken or a slot's cannot be made. *ret_slot
 * is its slot, or NULL for the caller's own. NULL when no context can be made (OpenSSL's
 * error queued). Give it back with vt_ctx_slot_give. */
EVP_PKEY_CTX *vt_ctx_slot_take(struct vt_ctx_slot *slots, size_t n, EVP_PKEY *key,
                               int (*init)(EVP_PKEY_CTX *), struct vt_ctx_slot **ret_slot);

/* vt_ctx_slot_give returns ctx from vt_ctx_slot_take: to its slot sl, or freed (sl NULL).
 * failed: the operation on it failed, and a slot's context is freed too (made again by the
 * next taker), so that no context in a state of failure is kept. */
void vt_ctx_slot_give(EVP_PKEY_CTX *ctx, struct vt_ctx_slot *sl, bool failed);

/* vt_ctx_slots_free frees the contexts of n slots (none may be taken). */
void vt_ctx_slots_free(struct vt_ctx_slot *slots, size_t n);

#endif
