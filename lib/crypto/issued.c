/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/issued.h"

#include "crypto/digest.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct issued_slot {
        uint8_t digest[32];
        uint8_t claims_digest[32];
        json_t *claims; /* NULL: empty */
};

struct vt_issued {
        pthread_mutex_t lock;
        size_t n, next;
        struct issued_slot slot[];
};

struct vt_issued *vt_issued_new(size_t n)
{
        if (n == 0 || n > 65536)
                return NULL;
        struct vt_issued *c = calloc(1, sizeof(*c) + n * sizeof(c->slot[0]));
        if (!c)
                return NULL;
        if (pthread_mutex_init(&c->lock, NULL) != 0) {
                free(c);
                return NULL;
        }
        c->n = n;
        return c;
}

void vt_issued_free(struct vt_issued *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                json_decref(c->slot[i].claims);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

static int digest_of(const char *token, uint8_t out[32])
{
        return EVP_Digest(token, strlen(token), out, NULL, vt_sha256(), NULL) == 1 ? 0 : -1;
}

void vt_issued_put(struct vt_issued *c, const char *token, json_t *claims,
                   const uint8_t claims_digest[static 32])
{
        uint8_t dg[32];
        if (!c || !token || !claims || digest_of(token, dg) < 0)
                return;
        /* a reference, not a copy: the claims are not changed after their token is signed,
         * and copying them (hundreds of nodes with the TEE's claims) cost as much as the
         * token's signature */
        json_t *ref = json_incref(claims), *old;
        pthread_mutex_lock(&c->lock);
        struct issued_slot *sl = &c->slot[c->next];
        c->next = (c->next + 1) % c->n;
        old = sl->claims;
        memcpy(sl->digest, dg, sizeof(dg));
        memcpy(sl->claims_digest, claims_digest, sizeof(sl->claims_digest));
        sl->claims = ref;
        pthread_mutex_unlock(&c->lock);
        json_decref(old);
}

json_t *vt_issued_get(struct vt_issued *c, const char *token, uint8_t *ret_digest)
{
        uint8_t dg[32];
        json_t *ret = NULL;
        if (!c || !token || digest_of(token, dg) < 0)
                return NULL;
        pthread_mutex_lock(&c->lock);
        /* newest first: a token is fetched with soon after it is signed */
        for (size_t k = 1; k <= c->n && !ret; k++) {
                struct issued_slot *sl = &c->slot[(c->next + c->n - k) % c->n];
                if (sl->claims && CRYPTO_memcmp(sl->digest, dg, sizeof(dg)) == 0) {
                        ret = json_incref(sl->claims);
                        if (ret_digest)
                                memcpy(ret_digest, sl->claims_digest, 32);
                }
        }
        pthread_mutex_unlock(&c->lock);
        return ret;
}
