/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key-encryption keys in the server (lib/store/keyring.h). At start-up the keyring is
 * reconciled with the store: an interrupted `veritee admin rotate-kek` is resumed or
 * rolled back, and the log says which. Afterwards the store decides which KEK is
 * current: a put seals under it and its transaction checks that it is still current
 * (else it seals again), and a row is unsealed with the KEK it names, loaded from
 * secrets.kek_file or its staged sibling. Rotation therefore needs no restart and no
 * write is ever sealed under a retired key.
 */
#include <string.h>

#include "server.h"
#include "store/keyring.h"
#include "util/macro.h"

static void kek_note(const char *msg, void *ud)
{
        (void)ud;
        vtd_log("info", "%s", msg);
}

int vtd_kek_init(struct vtd *s, struct vt_diag *d)
{
        int e = vt_keyring_new(s->cfg.kek_file, kek_note, NULL, &s->kek);
        if (e < 0)
                return vt_diag_set(d, e, "secrets.kek_file: %s", vt_strerror(e));
        if ((e = vt_keyring_recover(s->kek, s->store, d)) < 0)
                return e;
        char cur[32];
        if ((e = vt_store_kek_current(s->store, cur, NULL, NULL)) < 0)
                return vt_diag_set(d, e, "cannot read the current KEK");
        vtd_log("info", "key-encryption key: KEK %s (%s) is current", cur, s->cfg.kek_file);
        return 0;
}

int vtd_kek_put(struct vtd *s, const char *path, const uint8_t *secret, size_t len,
                const char *policy, struct vt_diag *d)
{
        return vt_keyring_put(s->kek, s->store, path, secret, len, policy, vtd_now(), NULL, d);
}

int vtd_kek_put_batch(struct vtd *s, struct vt_keyring_item *items, size_t n, size_t *ret_bad,
                      struct vt_diag *d)
{
        return vt_keyring_put_batch(s->kek, s->store, items, n, vtd_now(), ret_bad, NULL, d);
}

int vtd_kek_unseal(struct vtd *s, const char *kek_id, const char *path, const uint8_t *wdek,
                   size_t wl, const uint8_t *ct, size_t cl, uint8_t **ret, size_t *ret_len,
                   struct vt_diag *d)
{
        struct vt_diag ud = {0};
        int e = vt_keyring_unseal(s->kek, kek_id, path, wdek, wl, ct, cl, ret, ret_len, &ud);
        if (e != VT_E_NOTFOUND)
                return e < 0 ? vt_diag_set(d, e, "%s", ud.msg) : 0;
        /* No file holds the row's KEK: a rotation may have rewrapped the row and retired
         * the key after we read it. Read the row again, once. */
        _cleanup_free_ uint8_t *w2 = NULL, *c2 = NULL;
        size_t wl2, cl2;
        char kid2[32];
        if (vt_store_resource_get(s->store, path, kid2, &w2, &wl2, &c2, &cl2, NULL) < 0 ||
            strcmp(kid2, kek_id) == 0)
                return vt_diag_set(d, VT_E_CRYPTO, "secret %s is sealed under KEK %s: %s", path,
                                   kek_id, ud.msg);
        return vt_keyring_unseal(s->kek, kid2, path, w2, wl2, c2, cl2, ret, ret_len, d);
}
