/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KEK keyring: the key files and the store's current-KEK record kept in agreement.
 *
 * Files: secrets.kek_file holds the current KEK; during a rotation the new KEK is staged
 * beside it as "<kek_file>.<id>" (id: vt_kek_id, 16 hex digits). The store records
 * which KEK is current (vt_store_kek_current); it, not the file, decides. A key id is
 * resolved from the staged sibling first, then from kek_file (in that order a resolver
 * that races the rename of the sibling onto kek_file still finds the key).
 *
 * Rotation (vt_keyring_rotate), under an exclusive flock(2) of "<kek_file>.lock":
 *   1. recovery (below);
 *   2. the new key is written to "<kek_file>.<new id>", file and directory fsync'd;
 *   3. one transaction rewraps every data key (each under whatever KEK the files
 *      resolve for it) to the new KEK and makes the new KEK current; commit with
 *      synchronous=FULL;
 *   4. rename("<kek_file>.<new id>", kek_file), directory fsync'd.
 * A write sealed under the old KEK that commits after step 3 is refused (VT_E_STALE)
 * and vt_keyring_put seals it again. At every instant each KEK that a row names is in
 * kek_file or in its sibling, so a rotation killed at any point loses nothing.
 *
 * Recovery (vt_keyring_recover, and step 1 above), under the same lock:
 *   - no KEK recorded (a database from before schema 4): kek_file's KEK is adopted;
 *   - the store's current KEK is not kek_file's but its sibling exists: the rotation had
 *     committed, so it is resumed (the sibling is renamed onto kek_file);
 *   - a sibling of another KEK that no row names: the rotation never committed, so it is
 *     rolled back (the sibling is removed); temporary files left by a killed write go too;
 *   - the current KEK is in neither file: refused (VT_E_NOTFOUND naming both ids).
 * Each action is reported through the note callback (for the program's log).
 *
 * HSM keys: a key file may hold a "pkcs11:" URI instead of a key (crypto/seal.h), and
 * vt_keyring_rotate takes a URI as the new key: the staged file then holds the URI. So
 * the files above hold references, the dance is the same and so is its crash safety; the
 * key itself stays in its token, which veritee never writes to (a rolled-back rotation
 * removes only the reference; a retired HSM key is left in the token for the
 * administrator to destroy).
 */
#ifndef VT_STORE_KEYRING_H
#define VT_STORE_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/seal.h"
#include "store/store.h"
#include "veritee/veritee.h"

struct vt_keyring;

/* A note for the program's log (the library does not log): msg is valid during the
 * call. It never holds key material. */
typedef void (*vt_keyring_note_fn)(const char *msg, void *ud);

/* vt_keyring_new makes a keyring over kek_file (copied). note (may be NULL) is told what
 * recovery and rotation do, and when a KEK is loaded into the cache. No I/O. */
int vt_keyring_new(const char *kek_file, vt_keyring_note_fn note, void *ud,
                   struct vt_keyring **ret);

/* vt_keyring_free wipes the cached keys and frees kr; NULL is fine. */
void vt_keyring_free(struct vt_keyring *kr);

/* vt_keyring_load loads the KEK whose id is kek_id from "<kek_file>.<kek_id>" or
 * kek_file, bypassing the cache. VT_E_NOTFOUND (the diag names both files) if neither
 * holds it; other vt_kek_load errors as they come. *ret is freed with vt_kek_free. */
int vt_keyring_load(const struct vt_keyring *kr, const char *kek_id, struct vt_kek **ret,
                    struct vt_diag *d);

/* vt_keyring_recover reconciles the files with the store (above), under the lock. It
 * must run before a server uses kr. 0 when kek_file holds the current KEK afterwards. */
int vt_keyring_recover(struct vt_keyring *kr, struct vt_store *st, struct vt_diag *d);

/* vt_keyring_rotate makes the KEK in new_key_file (or named by it, a pkcs11: URI) current
 * (above). On success
 * *ret_count (may be NULL) is the number of data keys rewrapped and ret_id (may be NULL)
 * the new id. Any row whose KEK no file holds stops the rotation before anything
 * changes, and the error names the row and its KEK. */
int vt_keyring_rotate(struct vt_keyring *kr, struct vt_store *st, const char *new_key_file,
                      size_t *ret_count, char ret_id[32], struct vt_diag *d);

/* vt_keyring_put seals secret[0..len) for path under the store's current KEK and writes
 * it (with policy, when not NULL, in the same transaction: see
 * vt_store_resource_put_policy). When a rotation commits in between (VT_E_STALE) it
 * seals again under the new current KEK, at most 8 times. ret_kek_id (may be NULL)
 * receives the KEK used. Thread-safe (keys are cached: the current and the previous). */
int vt_keyring_put(struct vt_keyring *kr, struct vt_store *st, const char *path,
                   const uint8_t *secret, size_t len, const char *policy, int64_t now,
                   char ret_kek_id[32], struct vt_diag *d);

/* One secret of vt_keyring_put_batch: path, secret[0..len) and policy (NULL: keep the
 * resource's policy) are borrowed; ct/ct_len receive the sealed ciphertext (so that the
 * caller can digest it for its records) and are freed by vt_keyring_items_clear. */
struct vt_keyring_item {
        const char *path;
        const uint8_t *secret;
        size_t len;
        const char *policy;
        uint8_t *ct;
        size_t ct_len;
};

/* vt_keyring_put_batch is vt_keyring_put of n items (1..VT_STORE_BATCH_MAX) in one store
 * transaction (vt_store_resource_put_batch): all are sealed under the current KEK and
 * stored, or none is. *ret_bad (may be NULL) is set to the index of an item the store
 * refused. Thread-safe. */
int vt_keyring_put_batch(struct vt_keyring *kr, struct vt_store *st, struct vt_keyring_item *items,
                         size_t n, int64_t now, size_t *ret_bad, char ret_kek_id[32],
                         struct vt_diag *d);

/* vt_keyring_items_clear frees the ciphertexts vt_keyring_put_batch left in items. */
void vt_keyring_items_clear(struct vt_keyring_item *items, size_t n);

/* vt_keyring_unseal unseals a row read from the store (vt_unseal with the KEK kek_id,
 * from the cache or the files). VT_E_NOTFOUND if no file holds kek_id: a rotation may
 * have committed since the row was read, so read it again once. Thread-safe. */
int vt_keyring_unseal(struct vt_keyring *kr, const char *kek_id, const char *path,
                      const uint8_t *wdek, size_t wl, const uint8_t *ct, size_t cl,
                      uint8_t **ret_secret, size_t *ret_len, struct vt_diag *d);

#endif
