/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/ctxslots.h"

static EVP_PKEY_CTX *make(EVP_PKEY *key, int (*init)(EVP_PKEY_CTX *))
{
        EVP_PKEY_CTX *x = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (x && init(x) == 1)
                return x;
        EVP_PKEY_CTX_free(x);
        return NULL;
}

EVP_PKEY_CTX *vt_ctx_slot_take(struct vt_ctx_slot *slots, size_t n, EVP_PKEY *key,
                               int (*init)(EVP_PKEY_CTX *), struct vt_ctx_slot **ret_slot)
{
        *ret_slot = NULL;
        for (size_t i = 0; slots && i < n; i++) {
                struct vt_ctx_slot *sl = &slots[i];
                if (atomic_exchange_explicit(&sl->busy, true, memory_order_acquire))
                        continue;
                if (!sl->ctx)
                        sl->ctx = make(key, init);
                if (sl->ctx) {
                        *ret_slot = sl;
                        return sl->ctx;
                }
                atomic_store_explicit(&sl->busy, false, memory_order_release);
                break;
        }
        return make(key, init);
}

void vt_ctx_slot_give(EVP_PKEY_CTX *ctx, struct vt_ctx_slot *sl, bool failed)
{
        if (!sl) {
                EVP_PKEY_CTX_free(ctx);
                return;
        }
        if (failed) {
                EVP_PKEY_CTX_free(sl->ctx);
                sl->ctx = NULL;
        }
        atomic_store_explicit(&sl->busy, false, memory_order_release);
}

void vt_ctx_slots_free(struct vt_ctx_slot *slots, size_t n)
{
        for (size_t i = 0; slots && i < n; i++) {
                EVP_PKEY_CTX_free(slots[i].ctx);
                slots[i].ctx = NULL;
        }
}
