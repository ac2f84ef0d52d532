/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KEK keyring (keyring.h): key files beside secrets.kek_file, the store's current-KEK
 * record, rotation and crash recovery. Key material is only ever in struct vt_kek (its
 * own wiped page) and, while a key file is copied to its staged name, in a buffer wiped
 * after use.
 */
#define _GNU_SOURCE
#include "store/keyring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "crypto/pkcs11.h"
#include "util/file.h"
#include "util/macro.h"

/* How often vt_keyring_put seals again when rotations keep committing under it. */
#define PUT_ATTEMPTS 8
/* Keys cached by a server: the current and the previous. */
#define CACHE_SLOTS 2
/* A rotation says how far it has come every this many data keys (note). */
#define ROTATE_PROGRESS 10000
/* KEKs a rotation may meet in the rows (each loaded once). */
#define ROTATE_KEYS 16

struct vt_keyring {
        char *kek_file;
        vt_keyring_note_fn note;
        void *ud;
        /* the cache: slot 0 is the most recently loaded key */
        pthread_rwlock_t lock;
        struct vt_kek *slot[CACHE_SLOTS];
};

static void note(const struct vt_keyring *kr, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void note(const struct vt_keyring *kr, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        if (!kr->note)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        kr->note(msg, kr->ud);
}

int vt_keyring_new(const char *kek_file, vt_keyring_note_fn fn, void *ud, struct vt_keyring **ret)
{
        if (!kek_file || !*kek_file || !ret)
                return VT_E_INVAL;
        struct vt_keyring *kr = calloc(1, sizeof(*kr));
        if (!kr)
                return VT_E_NOMEM;
        kr->kek_file = strdup(kek_file);
        if (!kr->kek_file || pthread_rwlock_init(&kr->lock, NULL) != 0) {
                free(kr->kek_file);
                free(kr);
                return VT_E_NOMEM;
        }
        kr->note = fn;
        kr->ud = ud;
        *ret = kr;
        return 0;
}

void vt_keyring_free(struct vt_keyring *kr)
{
        if (!kr)
                return;
        for (size_t i = 0; i < CACHE_SLOTS; i++)
                vt_kek_free(kr->slot[i]);
        pthread_rwlock_destroy(&kr->lock);
        free(kr->kek_file);
        free(kr);
}

/* staged_path: "<kek_file>.<id>". */
static int staged_path(const struct vt_keyring *kr, const char *id, char **ret)
{
        return asprintf(ret, "%s.%s", kr->kek_file, id) < 0 ? VT_E_NOMEM : 0;
}

/* load_if: the key at path if it loads and its id is id; else VT_E_NOTFOUND (a missing
 * file, another key) or the load error of a file that exists but is not a key. */
static int load_if(const char *path, const char *id, struct vt_kek **ret, struct vt_diag *d)
{
        struct vt_kek *k = NULL;
        struct vt_diag ld = {0};
        if (access(path, F_OK) < 0)
                return VT_E_NOTFOUND;
        int e = vt_kek_load(path, &k, &ld);
        if (e < 0) {
                /* it may have been renamed away in between: only report what is there */
                if (access(path, F_OK) < 0)
                        return VT_E_NOTFOUND;
                return vt_diag_set(d, e, "%s", ld.msg);
        }
        if (strcmp(vt_kek_id(k), id) != 0) {
                vt_kek_free(k);
                return VT_E_NOTFOUND;
        }
        *ret = k;
        return 0;
}

int vt_keyring_load(const struct vt_keyring *kr, const char *kek_id, struct vt_kek **ret,
                    struct vt_diag *d)
{
        _cleanup_free_ char *staged = NULL;
        if (!kr || !kek_id || !*kek_id || strchr(kek_id, '/') || !ret)
                return vt_diag_set(d, VT_E_INVAL, "keyring: no KEK id");
        int e = staged_path(kr, kek_id, &staged);
        if (e < 0)
                return e;
        /* the sibling first: a rotation renames it onto kek_file, so whoever finds it
         * gone finds the key in kek_file (unless a later rotation retired it) */
        e = load_if(staged, kek_id, ret, d);
        if (e != VT_E_NOTFOUND)
                return e;
        e = load_if(kr->kek_file, kek_id, ret, d);
        if (e != VT_E_NOTFOUND)
                return e;
        return vt_diag_set(d, VT_E_NOTFOUND, "no key file holds KEK %s (neither %s nor %s)", kek_id,
                           kr->kek_file, staged);
}

/* ---- the cache (servers) ---- */

/* with_key runs fn with the KEK kek_id, from the cache or loaded into it; the key stays
 * valid during fn (the cache's read lock is held). */
static int with_key(struct vt_keyring *kr, const char *kek_id,
                    int (*fn)(const struct vt_kek *k, void *ctx), void *ctx, struct vt_diag *d)
{
        for (int pass = 0; pass < 2; pass++) {
                pthread_rwlock_rdlock(&kr->lock);
                for (size_t i = 0; i < CACHE_SLOTS; i++)
                        if (kr->slot[i] && strcmp(vt_kek_id(kr->slot[i]), kek_id) == 0) {
                                int e = fn(kr->slot[i], ctx);
                                pthread_rwlock_unlock(&kr->lock);
                                return e;
                        }
                pthread_rwlock_unlock(&kr->lock);
                if (pass == 1)
                        break;
                struct vt_kek *k = NULL;
                int e = vt_keyring_load(kr, kek_id, &k, d);
                if (e < 0)
                        return e;
                pthread_rwlock_wrlock(&kr->lock);
                bool have = false, first = !kr->slot[0];
                for (size_t i = 0; i < CACHE_SLOTS; i++)
                        have |= kr->slot[i] && strcmp(vt_kek_id(kr->slot[i]), kek_id) == 0;
                if (!have) {
                        vt_kek_free(kr->slot[CACHE_SLOTS - 1]);
                        memmove(&kr->slot[1], &kr->slot[0],
                                (CACHE_SLOTS - 1) * sizeof(kr->slot[0]));
                        kr->slot[0] = TAKE_PTR(k);
                }
                pthread_rwlock_unlock(&kr->lock);
                if (!have)
                        note(kr, "key-encryption key %s: KEK %s (from %s or its staged copy)",
                             first ? "loaded" : "reloaded", kek_id, kr->kek_file);
                vt_kek_free(k);
        }
        /* loaded, then pushed out by two others before we could use it */
        return vt_diag_set(d, VT_E_STALE, "KEK %s was evicted while loading", kek_id);
}

struct seal_ctx {
        const char *path;
        const uint8_t *secret;
        size_t len;
        uint8_t *wdek, *ct;
        size_t wl, cl;
};

static int seal_fn(const struct vt_kek *k, void *ctx)
{
        struct seal_ctx *c = ctx;
        return vt_seal(k, (const uint8_t *)c->path, strlen(c->path), c->secret, c->len, &c->wdek,
                       &c->wl, &c->ct, &c->cl);
}

int vt_keyring_put(struct vt_keyring *kr, struct vt_store *st, const char *path,
                   const uint8_t *secret, size_t len, const char *policy, int64_t now,
                   char ret_kek_id[32], struct vt_diag *d)
{
        if (!kr || !st || !path || (!secret && len > 0))
                return vt_diag_set(d, VT_E_INVAL, "keyring: put: missing argument");
        int e = VT_E_STALE;
        char cur[32];
        struct vt_diag sd = {0}; /* the store's reason */
        for (int i = 0; i < PUT_ATTEMPTS && e == VT_E_STALE; i++) {
                struct seal_ctx c = {.path = path, .secret = secret, .len = len};
                struct vt_diag kd = {0};
                vt_diag_clear(&sd);
                if ((e = vt_store_kek_current(st, cur, NULL, &sd)) < 0)
                        return e == VT_E_NOTFOUND
                                       ? vt_diag_set(d, e, "the store records no current KEK")
                                       : vt_diag_set(d, e, "cannot read the current KEK: %s",
                                                     sd.msg);
                e = with_key(kr, cur, seal_fn, &c, &kd);
                if (e == VT_E_NOTFOUND || e == VT_E_STALE) {
                        /* retired by a rotation between our read and the load: read again */
                        if (i == PUT_ATTEMPTS - 1)
                                return vt_diag_set(d, e, "%s", kd.msg);
                        e = VT_E_STALE;
                        continue;
                }
                if (e < 0)
                        return vt_diag_set(d, e, "cannot seal %s under KEK %s%s%s", path, cur,
                                           kd.msg[0] ? ": " : "", kd.msg);
                e = policy ? vt_store_resource_put_policy(st, path, cur, c.wdek, c.wl, c.ct, c.cl,
                                                          len, policy, now, &sd)
                           : vt_store_resource_put(st, path, cur, c.wdek, c.wl, c.ct, c.cl, len,
                                                   now, &sd);
                free(c.wdek);
                free(c.ct);
        }
        if (e == VT_E_STALE)
                return vt_diag_set(d, e, "the current KEK changed %d times during the write of %s",
                                   PUT_ATTEMPTS, path);
        if (e < 0)
                return vt_diag_set(d, e, "cannot store %s: %s", path, sd.msg);
        if (ret_kek_id)
                memcpy(ret_kek_id, cur, sizeof(cur));
        return 0;
}

struct batch_seal_ctx {
        struct vt_keyring_item *items;
        struct vt_resource_item *rows;
        size_t n;
};

/* batch_seal_fn seals every item under one key (the cache's lock held once). */
static int batch_seal_fn(const struct vt_kek *k, void *ctx)
{
        struct batch_seal_ctx *c = ctx;
        for (size_t i = 0; i < c->n; i++) {
                struct vt_keyring_item *it = &c->items[i];
                struct vt_resource_item *row = &c->rows[i];
                uint8_t *w = NULL, *ct = NULL;
                size_t wl = 0, cl = 0;
                int e = vt_seal(k, (const uint8_t *)it->path, strlen(it->path), it->secret, it->len,
                                &w, &wl, &ct, &cl);
                if (e < 0)
                        return e;
                *row = (struct vt_resource_item){.path = it->path,
                                                 .wdek = w,
                                                 .wdek_len = wl,
                                                 .ct = ct,
                                                 .ct_len = cl,
                                                 .plain_len = it->len,
                                                 .policy = it->policy};
                it->ct = ct; /* the item owns it; rows borrow it */
                it->ct_len = cl;
        }
        return 0;
}

void vt_keyring_items_clear(struct vt_keyring_item *items, size_t n)
{
        for (size_t i = 0; items && i < n; i++) {
                free(items[i].ct);
                items[i].ct = NULL;
                items[i].ct_len = 0;
        }
}

static void rows_clear(struct vt_resource_item *rows, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free((void *)rows[i].wdek);
                rows[i] = (struct vt_resource_item){0};
        }
}

int vt_keyring_put_batch(struct vt_keyring *kr, struct vt_store *st, struct vt_keyring_item *items,
                         size_t n, int64_t now, size_t *ret_bad, char ret_kek_id[32],
                         struct vt_diag *d)
{
        if (!kr || !st || !items || n == 0 || n > VT_STORE_BATCH_MAX)
                return vt_diag_set(d, VT_E_INVAL, "keyring: put batch: missing argument");
        for (size_t i = 0; i < n; i++)
                if (!items[i].path || (!items[i].secret && items[i].len > 0))
                        return vt_diag_set(d, VT_E_INVAL, "keyring: put batch: item %zu", i);
        _cleanup_free_ struct vt_resource_item *rows = calloc(n, sizeof(*rows));
        if (!rows)
                return vt_diag_set(d, VT_E_NOMEM, "keyring: out of memory");
        int e = VT_E_STALE;
        char cur[32];
        struct vt_diag sd = {0};
        for (int i = 0; i < PUT_ATTEMPTS && e == VT_E_STALE; i++) {
                struct batch_seal_ctx c = {.items = items, .rows = rows, .n = n};
                struct vt_diag kd = {0};
                vt_diag_clear(&sd);
                vt_keyring_items_clear(items, n);
                if ((e = vt_store_kek_current(st, cur, NULL, &sd)) < 0)
                        return e == VT_E_NOTFOUND
                                       ? vt_diag_set(d, e, "the store records no current KEK")
                                       : vt_diag_set(d, e, "cannot read the current KEK: %s",
                                                     sd.msg);
                e = with_key(kr, cur, batch_seal_fn, &c, &kd);
                if (e == VT_E_NOTFOUND || e == VT_E_STALE) {
                        rows_clear(rows, n);
                        if (i == PUT_ATTEMPTS - 1)
                                return vt_diag_set(d, e, "%s", kd.msg);
                        e = VT_E_STALE;
                        continue;
                }
                if (e < 0) {
                        rows_clear(rows, n);
                        vt_keyring_items_clear(items, n);
                        return vt_diag_set(d, e, "cannot seal a batch under KEK %s%s%s", cur,
                                           kd.msg[0] ? ": " : "", kd.msg);
                }
                e = vt_store_resource_put_batch(st, cur, rows, n, now, ret_bad, &sd);
                rows_clear(rows, n);
        }
        if (e < 0)
                vt_keyring_items_clear(items, n);
        if (e == VT_E_STALE)
                return vt_diag_set(d, e, "the current KEK changed %d times during a batch write",
                                   PUT_ATTEMPTS);
        if (e < 0)
                return vt_diag_set(d, e, "cannot store the batch: %s", sd.msg);
        if (ret_kek_id)
                memcpy(ret_kek_id, cur, sizeof(cur));
        return 0;
}

struct unseal_ctx {
        const char *path;
        const uint8_t *wdek, *ct;
        size_t wl, cl;
        uint8_t *out;
        size_t out_len;
        struct vt_diag *d;
};

static int unseal_fn(const struct vt_kek *k, void *ctx)
{
        struct unseal_ctx *c = ctx;
        return vt_unseal(k, (const uint8_t *)c->path, strlen(c->path), c->wdek, c->wl, c->ct, c->cl,
                         &c->out, &c->out_len, c->d);
}

int vt_keyring_unseal(struct vt_keyring *kr, const char *kek_id, const char *path,
                      const uint8_t *wdek, size_t wl, const uint8_t *ct, size_t cl,
                      uint8_t **ret_secret, size_t *ret_len, struct vt_diag *d)
{
        if (!kr || !kek_id || !path || !ret_secret || !ret_len)
                return vt_diag_set(d, VT_E_INVAL, "keyring: unseal: missing argument");
        struct unseal_ctx c = {path, wdek, ct, wl, cl, NULL, 0, d};
        int e = with_key(kr, kek_id, unseal_fn, &c, d);
        if (e < 0)
                return e;
        *ret_secret = c.out;
        *ret_len = c.out_len;
        return 0;
}

/* ---- recovery and rotation (one process at a time: the lock file) ---- */

static int lock_take(const struct vt_keyring *kr, int *ret_fd, struct vt_diag *d)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s.lock", kr->kek_file) < 0)
                return VT_E_NOMEM;
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return vt_diag_set(d, VT_E_IO, "cannot open the KEK lock %s: %s", p,
                                   strerror(errno));
        int r;
        while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
                ;
        if (r < 0) {
                int err = errno;
                close(fd);
                return vt_diag_set(d, VT_E_IO, "cannot lock %s: %s", p, strerror(err));
        }
        *ret_fd = fd;
        return 0;
}

static void lock_drop(int fd)
{
        if (fd >= 0)
                close(fd); /* releases the flock */
}

static bool is_kek_id(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n == 16;
}

/* is_tmp: "tmp" and the six characters of mkostemp, as vt_write_file_atomic names them. */
static bool is_tmp(const char *s)
{
        return strncmp(s, "tmp", 3) == 0 && strlen(s) == 9 && !strchr(s, '/');
}

/* clean_siblings removes what a killed rotation left beside kek_file: staged keys that no
 * row names and that are not current (rolled back), a copy of the current key, and
 * temporary files of interrupted writes. cur is the current KEK, which kek_file holds. */
static int clean_siblings(struct vt_keyring *kr, struct vt_store *st, const char *cur,
                          struct vt_diag *d)
{
        const char *slash = strrchr(kr->kek_file, '/');
        _cleanup_free_ char *dir =
                slash ? strndup(kr->kek_file,
                                slash == kr->kek_file ? 1 : (size_t)(slash - kr->kek_file))
                      : strdup(".");
        const char *base = slash ? slash + 1 : kr->kek_file;
        size_t bl = strlen(base);
        bool removed = false;
        if (!dir)
                return VT_E_NOMEM;
        DIR *dh = opendir(dir);
        if (!dh)
                return vt_diag_set(d, VT_E_IO, "cannot list %s: %s", dir, strerror(errno));
        struct dirent *de;
        int e = 0;
        while (e == 0 && (de = readdir(dh))) {
                const char *n = de->d_name;
                if (strncmp(n, base, bl) != 0 || n[bl] != '.')
                        continue;
                const char *rest = n + bl + 1;
                _cleanup_free_ char *full = NULL;
                if (asprintf(&full, "%s/%s", dir, n) < 0) {
                        e = VT_E_NOMEM;
                        break;
                }
                char idpart[17] = "";
                if (strlen(rest) == 16 + 4 + 6 && rest[16] == '.' && is_tmp(rest + 17))
                        memcpy(idpart, rest, 16);
                if (is_tmp(rest) || (idpart[0] && is_kek_id(idpart))) {
                        if (unlink(full) == 0) {
                                removed = true;
                                note(kr,
                                     "KEK: removed %s, a temporary file left by an "
                                     "interrupted write",
                                     full);
                        }
                        continue;
                }
                if (!is_kek_id(rest))
                        continue;
                struct vt_kek *k = NULL;
                struct vt_diag ld = {0};
                if (vt_kek_load(full, &k, &ld) < 0 || strcmp(vt_kek_id(k), rest) != 0) {
                        vt_kek_free(k);
                        note(kr, "KEK: left %s alone: it does not hold the KEK its name says",
                             full);
                        continue;
                }
                vt_kek_free(k);
                size_t rows = 0;
                struct vt_diag sd = {0};
                if (strcmp(rest, cur) != 0 && (e = vt_store_kek_count(st, rest, &rows, &sd)) < 0) {
                        vt_diag_set(d, e, "cannot count the secrets under KEK %s: %s", rest,
                                    sd.msg);
                        break;
                }
                if (rows > 0) {
                        note(kr,
                             "KEK: kept %s: %zu secrets are still sealed under KEK %s (the next "
                             "rotation rewraps them)",
                             full, rows, rest);
                        continue;
                }
                if (unlink(full) < 0) {
                        e = vt_diag_set(d, VT_E_IO, "cannot remove %s: %s", full, strerror(errno));
                        break;
                }
                removed = true;
                if (strcmp(rest, cur) == 0)
                        note(kr, "KEK: removed %s, a second copy of the current KEK %s in %s", full,
                             cur, kr->kek_file);
                else
                        note(kr,
                             "KEK: rolled back an interrupted rotation: removed the staged key %s "
                             "(KEK %s is not current and no secret is sealed under it)",
                             full, rest);
        }
        closedir(dh);
        if (e == 0 && removed && vt_fsync_parent(kr->kek_file) < 0)
                e = vt_diag_set(d, VT_E_IO, "cannot fsync the directory of %s: %s", kr->kek_file,
                                strerror(errno));
        return e;
}

/* recover_locked: keyring.h; the caller holds the lock. */
static int recover_locked(struct vt_keyring *kr, struct vt_store *st, char cur[32],
                          struct vt_diag *d)
{
        struct vt_kek *fk = NULL;
        struct vt_diag fd = {0};
        int fe = vt_kek_load(kr->kek_file, &fk, &fd);
        char fid[32] = "";
        if (fe == 0)
                snprintf(fid, sizeof(fid), "%s", vt_kek_id(fk));
        vt_kek_free(fk);

        int e = vt_store_kek_current(st, cur, NULL, NULL);
        if (e == VT_E_NOTFOUND) {
                if (fe < 0)
                        return vt_diag_set(d, fe, "%s", fd.msg);
                struct vt_diag sd = {0};
                if ((e = vt_store_kek_adopt(st, fid, cur, &sd)) < 0)
                        return vt_diag_set(d, e, "cannot record the current KEK: %s", sd.msg);
                if (strcmp(cur, fid) == 0)
                        note(kr,
                             "KEK: adopted KEK %s of %s as the current KEK (the database had no "
                             "KEK record: secrets written before schema 4 are sealed under it)",
                             fid, kr->kek_file);
        } else if (e < 0) {
                return vt_diag_set(d, e, "cannot read the current KEK from the store");
        }
        if (strcmp(cur, fid) != 0) {
                _cleanup_free_ char *staged = NULL;
                struct vt_kek *sk = NULL;
                if ((e = staged_path(kr, cur, &staged)) < 0)
                        return e;
                e = load_if(staged, cur, &sk, d);
                vt_kek_free(sk);
                if (e == VT_E_NOTFOUND)
                        return vt_diag_set(
                                d, VT_E_NOTFOUND,
                                "the database says KEK %s is current, but %s %s%s and %s does "
                                "not exist: put the key whose id is %s at %s (or restore the "
                                "database that goes with %s)",
                                cur, kr->kek_file,
                                fe == 0 ? "holds KEK " : "cannot be read: ", fe == 0 ? fid : fd.msg,
                                staged, cur, kr->kek_file, kr->kek_file);
                if (e < 0)
                        return e;
                if (rename(staged, kr->kek_file) < 0)
                        return vt_diag_set(d, VT_E_IO, "cannot rename %s to %s: %s", staged,
                                           kr->kek_file, strerror(errno));
                if (vt_fsync_parent(kr->kek_file) < 0)
                        return vt_diag_set(d, VT_E_IO, "cannot fsync the directory of %s: %s",
                                           kr->kek_file, strerror(errno));
                note(kr,
                     "KEK: resumed an interrupted rotation: the database says KEK %s is current; "
                     "installed %s as %s (which held %s)",
                     cur, staged, kr->kek_file, fe == 0 ? fid : "no key");
        }
        return clean_siblings(kr, st, cur, d);
}

int vt_keyring_recover(struct vt_keyring *kr, struct vt_store *st, struct vt_diag *d)
{
        if (!kr || !st)
                return vt_diag_set(d, VT_E_INVAL, "keyring: recover: missing argument");
        int lfd = -1;
        char cur[32];
        int e = lock_take(kr, &lfd, d);
        if (e < 0)
                return e;
        e = recover_locked(kr, st, cur, d);
        lock_drop(lfd);
        return e;
}

/* What the rewrap callback of a rotation needs: the new key and the old keys met so far. */
struct rotate_ctx {
        const struct vt_keyring *kr;
        const struct vt_kek *new_k;
        struct vt_kek *old[ROTATE_KEYS];
        size_t n_old;
        size_t done; /* data keys rewrapped so far */
        struct vt_diag *d;
};

static int rotate_rewrap(const char *path, const char *kek_id, const uint8_t *wdek, size_t len,
                         uint8_t **ret_new, size_t *ret_new_len, void *ud)
{
        struct rotate_ctx *c = ud;
        const struct vt_kek *k = NULL;
        if (strcmp(kek_id, vt_kek_id(c->new_k)) == 0)
                k = c->new_k;
        for (size_t i = 0; !k && i < c->n_old; i++)
                if (strcmp(kek_id, vt_kek_id(c->old[i])) == 0)
                        k = c->old[i];
        if (!k) {
                struct vt_kek *l = NULL;
                struct vt_diag ld = {0};
                int e = c->n_old < ROTATE_KEYS ? vt_keyring_load(c->kr, kek_id, &l, &ld)
                                               : VT_E_LIMIT;
                if (e < 0)
                        return vt_diag_set(
                                c->d, e,
                                "%s is sealed under KEK %s, which no key file holds (%s); restore "
                                "that key as %s.%s or delete the secret, then rotate again; "
                                "nothing changed",
                                path, kek_id, e == VT_E_LIMIT ? "too many KEKs" : ld.msg,
                                c->kr->kek_file, kek_id);
                k = c->old[c->n_old++] = l;
        }
        int e = vt_rewrap(k, c->new_k, (const uint8_t *)path, strlen(path), wdek, len, ret_new,
                          ret_new_len, c->d);
        if (e >= 0 && ++c->done % ROTATE_PROGRESS == 0)
                note(c->kr, "rewrapping: %zu data keys so far (not committed yet)", c->done);
        return e;
}

static void cleanse_free(uint8_t *p, size_t n)
{
        if (p)
                OPENSSL_clear_free(p, n);
}

/* stage writes the new key's file to "<kek_file>.<id>" (file and directory fsync'd); for
 * an HSM key named by its URI the staged file holds the URI. */
static int stage(const char *new_key_file, const char *staged, struct vt_diag *d)
{
        uint8_t *key = NULL;
        size_t kl = 0;
        int e;
        if (vt_p11_is_uri(new_key_file)) {
                _cleanup_free_ char *line = NULL;
                if (asprintf(&line, "%s\n", new_key_file) < 0)
                        return VT_E_NOMEM;
                e = vt_write_file_atomic(staged, line, strlen(line), 0600);
                if (e < 0)
                        return vt_diag_set(d, e, "cannot stage the new KEK's URI at %s: %s", staged,
                                           strerror(errno));
                return 0;
        }
        e = vt_read_file(new_key_file, 8192, &key, &kl);
        if (e < 0)
                return vt_diag_set(d, e, "cannot read %s", new_key_file);
        e = vt_write_file_atomic(staged, key, kl, 0600);
        int err = errno;
        cleanse_free(key, kl + 1); /* vt_read_file adds a NUL */
        if (e < 0)
                return vt_diag_set(d, e, "cannot stage the new KEK at %s: %s", staged,
                                   strerror(err));
        return 0;
}

static int rotate_locked(struct vt_keyring *kr, struct vt_store *st, const char *new_key_file,
                         size_t *ret_count, char ret_id[32], struct vt_diag *d)
{
        char cur[32];
        int e = recover_locked(kr, st, cur, d);
        if (e < 0)
                return e;
        struct vt_kek *nk = NULL;
        if ((e = vt_kek_open(new_key_file, &nk, d)) < 0)
                return e;
        struct rotate_ctx c = {.kr = kr, .new_k = nk, .d = d};
        _cleanup_free_ char *staged = NULL;
        size_t n = 0;
        char nid[32];
        snprintf(nid, sizeof(nid), "%s", vt_kek_id(nk));
        if (strcmp(nid, cur) == 0) {
                e = vt_diag_set(d, VT_E_INVAL, "the new KEK %s is already the current one", nid);
                goto out;
        }
        if ((e = staged_path(kr, nid, &staged)) < 0 || (e = stage(new_key_file, staged, d)) < 0)
                goto out;
        /* the commit point: before it the new key is durable beside kek_file, after it
         * every row is under the new key and the store says it is current */
        struct vt_diag sd = {0};
        e = vt_store_resource_rewrap_all(st, nid, rotate_rewrap, &c, &n, &sd);
        if (e < 0) {
                char now_cur[32];
                size_t rows = 1;
                if (!d || !d->msg[0])
                        vt_diag_set(d, e, "rewrapping failed; nothing changed: %s", sd.msg);
                /* Remove the staged key only if the store confirms that the transaction did
                 * not commit (a failed COMMIT may still have reached the disk); else the
                 * next recovery decides. */
                if (vt_store_kek_current(st, now_cur, NULL, NULL) == 0 &&
                    strcmp(now_cur, nid) != 0 && vt_store_kek_count(st, nid, &rows, NULL) == 0 &&
                    rows == 0 && unlink(staged) == 0)
                        (void)vt_fsync_parent(staged);
                goto out;
        }
        if (rename(staged, kr->kek_file) < 0 || vt_fsync_parent(kr->kek_file) < 0) {
                e = vt_diag_set(d, VT_E_IO,
                                "rewrapped %zu data keys and KEK %s is now current, but it could "
                                "not be installed at %s (%s): it stays in %s, where the server "
                                "finds it; the next start or rotate-kek installs it",
                                n, nid, kr->kek_file, strerror(errno), staged);
                goto out;
        }
        note(kr, "KEK: rotated from KEK %s to KEK %s: %zu data keys rewrapped, %s installed", cur,
             nid, n, kr->kek_file);
        if (ret_count)
                *ret_count = n;
        if (ret_id)
                memcpy(ret_id, nid, sizeof(nid));
out:
        for (size_t i = 0; i < c.n_old; i++)
                vt_kek_free(c.old[i]);
        vt_kek_free(nk);
        return e;
}

int vt_keyring_rotate(struct vt_keyring *kr, struct vt_store *st, const char *new_key_file,
                      size_t *ret_count, char ret_id[32], struct vt_diag *d)
{
        if (!kr || !st || !new_key_file)
                return vt_diag_set(d, VT_E_INVAL, "keyring: rotate: missing argument");
        int lfd = -1;
        int e = lock_take(kr, &lfd, d);
        if (e < 0)
                return e;
        e = rotate_locked(kr, st, new_key_file, ret_count, ret_id, d);
        lock_drop(lfd);
        return e;
}
