/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key-encryption key in the server. `veritee admin rotate-kek` re-wraps every data
 * key in one transaction and then installs the new key at secrets.kek_file; when a row
 * names a KEK this process does not hold, it reloads the file once and carries on, so
 * rotation needs no restart.
 */
#include <pthread.h>
#include <string.h>

#include "crypto/seal.h"
#include "server.h"

static pthread_mutex_t kek_lock = PTHREAD_MUTEX_INITIALIZER;

int vtd_kek_seal(struct vtd *s, const char *path, const uint8_t *secret, size_t len,
                 char kek_id[32], uint8_t **wdek, size_t *wl, uint8_t **ct, size_t *cl)
{
        pthread_mutex_lock(&kek_lock);
        int e = vt_seal(s->kek, (const uint8_t *)path, strlen(path), secret, len, wdek, wl, ct, cl);
        snprintf(kek_id, 32, "%s", vt_kek_id(s->kek));
        pthread_mutex_unlock(&kek_lock);
        return e;
}

int vtd_kek_unseal(struct vtd *s, const char *kek_id, const char *path, const uint8_t *wdek,
                   size_t wl, const uint8_t *ct, size_t cl, uint8_t **ret, size_t *ret_len,
                   struct vt_diag *d)
{
        pthread_mutex_lock(&kek_lock);
        if (strcmp(kek_id, vt_kek_id(s->kek)) != 0) {
                struct vt_kek *fresh = NULL;
                struct vt_diag ld = {0};
                if (vt_kek_load(s->cfg.kek_file, &fresh, &ld) == 0 &&
                    strcmp(kek_id, vt_kek_id(fresh)) == 0) {
                        vt_kek_free(s->kek);
                        s->kek = fresh;
                        vtd_log("info", "key-encryption key reloaded from %s (id %s)",
                                s->cfg.kek_file, kek_id);
                } else {
                        vt_kek_free(fresh);
                        pthread_mutex_unlock(&kek_lock);
                        return vt_diag_set(
                                d, VT_E_CRYPTO,
                                "secret %s is sealed under KEK %s, which %s does not hold", path,
                                kek_id, s->cfg.kek_file);
                }
        }
        int e = vt_unseal(s->kek, (const uint8_t *)path, strlen(path), wdek, wl, ct, cl, ret,
                          ret_len, d);
        pthread_mutex_unlock(&kek_lock);
        return e;
}
