/* SPDX-License-Identifier: Apache-2.0 */
#include "walvfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every file of this VFS is a struct wfile followed by the default VFS's file, to which
 * every call goes. A WAL file also buffers writes (buf, under mu); the main database file
 * of a connection in WAL mode knows its WAL file (wal), so that its shared-memory calls,
 * through which SQLite publishes frames and hands the write lock on, write the buffer
 * out first: the commit frame's page normally empties the buffer, and these calls make
 * sure that nothing is left in it when a reader could look at the WAL or another writer
 * could write to it.
 */

#define WAL_FRAME_HEADER 24
#define BUF_FIRST        (16u * 1024u)

struct wfile {
        sqlite3_file base;
        sqlite3_file *real; /* the default VFS's file, right after this struct */
        struct wfile *db;   /* a WAL file: its main database file (NULL when not known) */
        struct wfile *wal;  /* a main database file: its open WAL file, or NULL */
        bool is_wal;
        pthread_mutex_t mu; /* a WAL file: guards what follows */
        uint8_t *buf;
        size_t len, cap;
        sqlite3_int64 off;  /* the file offset of buf[0] */
        bool commit_header; /* the last buffered write was a commit frame's header */
        unsigned writes;    /* SQLite's writes in buf */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs wal_vfs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool registered;
static atomic_ulong n_flushes, n_writes;

static size_t real_offset(void)
{
        return (sizeof(struct wfile) + 15u) & ~(size_t)15u;
}

/* flush_locked writes the buffer out with one call (w->mu held); it is empty after,
 * whatever the outcome, as SQLite treats a failed write as the end of the transaction. */
static int flush_locked(struct wfile *w)
{
        if (w->len == 0)
                return SQLITE_OK;
        int rc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->len, w->off);
        atomic_fetch_add(&n_flushes, 1);
        atomic_fetch_add(&n_writes, w->writes);
        w->len = 0;
        w->writes = 0;
        w->commit_header = false;
        return rc;
}

static int flush(struct wfile *w)
{
        if (!w || !w->is_wal)
                return SQLITE_OK;
        pthread_mutex_lock(&w->mu);
        int rc = flush_locked(w);
        pthread_mutex_unlock(&w->mu);
        return rc;
}

static bool reserve(struct wfile *w, size_t need)
{
        if (need <= w->cap)
                return true;
        size_t cap = w->cap ? w->cap : BUF_FIRST;
        while (cap < need)
                cap *= 2;
        if (cap > VT_WALVFS_BUF_MAX)
                cap = VT_WALVFS_BUF_MAX;
        uint8_t *b = realloc(w->buf, cap);
        if (!b)
                return false;
        w->buf = b;
        w->cap = cap;
        return true;
}

static int wal_write(struct wfile *w, const void *p, int amt, sqlite3_int64 ofst)
{
        size_t n = (size_t)amt;
        int rc = SQLITE_OK;
        pthread_mutex_lock(&w->mu);
        if (w->len > 0 &&
            (w->off + (sqlite3_int64)w->len != ofst || w->len + n > VT_WALVFS_BUF_MAX))
                rc = flush_locked(w);
        if (rc == SQLITE_OK && (n > VT_WALVFS_BUF_MAX || !reserve(w, w->len + n))) {
                /* too big to buffer, or no memory to: written now, as without the buffer */
                rc = flush_locked(w);
                if (rc == SQLITE_OK)
                        rc = w->real->pMethods->xWrite(w->real, p, amt, ofst);
                pthread_mutex_unlock(&w->mu);
                return rc;
        }
        if (rc != SQLITE_OK) {
                pthread_mutex_unlock(&w->mu);
                return rc;
        }
        if (w->len == 0)
                w->off = ofst;
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        w->writes++;
        if (n == WAL_FRAME_HEADER) {
                /* a frame header: bytes 4..7 are the database's size in pages after the
                 * commit, not 0 only in a transaction's last frame */
                const uint8_t *h = p;
                w->commit_header = (h[4] | h[5] | h[6] | h[7]) != 0;
        } else if (w->commit_header) {
                rc = flush_locked(w); /* the commit frame's page: the transaction is whole */
        }
        pthread_mutex_unlock(&w->mu);
        return rc;
}

/* The io methods: every one goes to the real file; a WAL file's write goes through the
 * buffer, and its other calls write the buffer out first. */
#define W(f) ((struct wfile *)(f))

static int x_close(sqlite3_file *f)
{
        struct wfile *w = W(f);
        int rc = flush(w);
        int rc2 = w->real->pMethods ? w->real->pMethods->xClose(w->real) : SQLITE_OK;
        if (w->is_wal) {
                if (w->db && w->db->wal == w)
                        w->db->wal = NULL;
                free(w->buf);
                pthread_mutex_destroy(&w->mu);
        } else if (w->wal) {
                w->wal->db = NULL;
        }
        return rc != SQLITE_OK ? rc : rc2;
}

static int x_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 ofst)
{
        int rc = flush(W(f));
        return rc != SQLITE_OK ? rc : W(f)->real->pMethods->xRead(W(f)->real, p, amt, ofst);
}

static int x_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 ofst)
{
        struct wfile *w = W(f);
        if (w->is_wal && amt > 0)
                return wal_write(w, p, amt, ofst);
        return w->real->pMethods->xWrite(w->real, p, amt, ofst);
}

static int x_truncate(sqlite3_file *f, sqlite3_int64 size)
{
        int rc = flush(W(f));
        return rc != SQLITE_OK ? rc : W(f)->real->pMethods->xTruncate(W(f)->real, size);
}

static int x_sync(sqlite3_file *f, int flags)
{
        int rc = flush(W(f));
        return rc != SQLITE_OK ? rc : W(f)->real->pMethods->xSync(W(f)->real, flags);
}

static int x_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
        int rc = flush(W(f));
        return rc != SQLITE_OK ? rc : W(f)->real->pMethods->xFileSize(W(f)->real, size);
}

static int x_lock(sqlite3_file *f, int lock)
{
        return W(f)->real->pMethods->xLock(W(f)->real, lock);
}

static int x_unlock(sqlite3_file *f, int lock)
{
        return W(f)->real->pMethods->xUnlock(W(f)->real, lock);
}

static int x_check_reserved(sqlite3_file *f, int *out)
{
        return W(f)->real->pMethods->xCheckReservedLock(W(f)->real, out);
}

static int x_file_control(sqlite3_file *f, int op, void *arg)
{
        int rc = flush(W(f));
        if (rc != SQLITE_OK)
                return rc;
        return W(f)->real->pMethods->xFileControl(W(f)->real, op, arg);
}

static int x_sector_size(sqlite3_file *f)
{
        return W(f)->real->pMethods->xSectorSize(W(f)->real);
}

static int x_device_characteristics(sqlite3_file *f)
{
        return W(f)->real->pMethods->xDeviceCharacteristics(W(f)->real);
}

/* the shared-memory calls are made on the main database file; through them SQLite
 * publishes frames (a barrier around the WAL index's header) and hands the WAL's locks
 * on, so the WAL's buffer is written out before each */
static int x_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
        struct wfile *w = W(f);
        if (w->real->pMethods->iVersion < 2)
                return SQLITE_IOERR_SHMMAP;
        return w->real->pMethods->xShmMap(w->real, pg, pgsz, extend, pp);
}

static int x_shm_lock(sqlite3_file *f, int ofst, int n, int flags)
{
        struct wfile *w = W(f);
        if (w->real->pMethods->iVersion < 2)
                return SQLITE_IOERR_SHMLOCK;
        /* What the buffer can hold here is what a rolled-back transaction spilled to the
         * WAL (a commit empties it at its last frame): frames that no reader will use,
         * written out before the write lock passes to a writer that writes over them. A
         * failure to write them changes nothing that SQLite relies on. */
        (void)flush(w->wal);
        return w->real->pMethods->xShmLock(w->real, ofst, n, flags);
}

static void x_shm_barrier(sqlite3_file *f)
{
        struct wfile *w = W(f);
        /* a barrier has no way to fail: a failed write here shows again at the next
         * call that writes the buffer, which is then empty; SQLite would have seen the
         * same failure at the frame's own write */
        (void)flush(w->wal);
        if (w->real->pMethods->iVersion >= 2)
                w->real->pMethods->xShmBarrier(w->real);
}

static int x_shm_unmap(sqlite3_file *f, int del)
{
        struct wfile *w = W(f);
        if (w->real->pMethods->iVersion < 2)
                return SQLITE_OK;
        return w->real->pMethods->xShmUnmap(w->real, del);
}

static int x_fetch(sqlite3_file *f, sqlite3_int64 ofst, int amt, void **pp)
{
        struct wfile *w = W(f);
        if (w->real->pMethods->iVersion < 3) {
                *pp = NULL;
                return SQLITE_OK;
        }
        int rc = flush(w);
        return rc != SQLITE_OK ? rc : w->real->pMethods->xFetch(w->real, ofst, amt, pp);
}

static int x_unfetch(sqlite3_file *f, sqlite3_int64 ofst, void *p)
{
        struct wfile *w = W(f);
        if (w->real->pMethods->iVersion < 3)
                return SQLITE_OK;
        return w->real->pMethods->xUnfetch(w->real, ofst, p);
}

static const sqlite3_io_methods io_methods = {
        .iVersion = 3,
        .xClose = x_close,
        .xRead = x_read,
        .xWrite = x_write,
        .xTruncate = x_truncate,
        .xSync = x_sync,
        .xFileSize = x_file_size,
        .xLock = x_lock,
        .xUnlock = x_unlock,
        .xCheckReservedLock = x_check_reserved,
        .xFileControl = x_file_control,
        .xSectorSize = x_sector_size,
        .xDeviceCharacteristics = x_device_characteristics,
        .xShmMap = x_shm_map,
        .xShmLock = x_shm_lock,
        .xShmBarrier = x_shm_barrier,
        .xShmUnmap = x_shm_unmap,
        .xFetch = x_fetch,
        .xUnfetch = x_unfetch,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
        (void)vfs;
        struct wfile *w = W(f);
        memset(w, 0, sizeof(*w));
        w->real = (sqlite3_file *)((char *)f + real_offset());
        int rc = base_vfs->xOpen(base_vfs, name, w->real, flags, out);
        if (rc != SQLITE_OK || !w->real->pMethods) {
                w->base.pMethods = NULL; /* xClose is not called on a file that failed */
                return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
        }
        if ((flags & SQLITE_OPEN_WAL) && name) {
                pthread_mutex_init(&w->mu, NULL);
                w->is_wal = true;
                sqlite3_file *db = sqlite3_database_file_object(name);
                if (db && db->pMethods == &io_methods) {
                        w->db = W(db);
                        W(db)->wal = w;
                }
        }
        w->base.pMethods = &io_methods;
        return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
        (void)vfs;
        return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
        (void)vfs;
        return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
        (void)vfs;
        return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
        (void)vfs;
        return base_vfs->xDlOpen(base_vfs, name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
        (void)vfs;
        base_vfs->xDlError(base_vfs, n, msg);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
        (void)vfs;
        return base_vfs->xDlSym(base_vfs, h, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
        (void)vfs;
        base_vfs->xDlClose(base_vfs, h);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
        (void)vfs;
        return base_vfs->xRandomness(base_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
        (void)vfs;
        return base_vfs->xSleep(base_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
        (void)vfs;
        return base_vfs->xCurrentTime(base_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
        (void)vfs;
        return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, out) : 0;
}

static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
        (void)vfs;
        if (base_vfs->iVersion >= 2 && base_vfs->xCurrentTimeInt64)
                return base_vfs->xCurrentTimeInt64(base_vfs, out);
        double d = 0;
        int rc = base_vfs->xCurrentTime(base_vfs, &d);
        *out = (sqlite3_int64)(d * 86400000.0);
        return rc;
}

static void register_once(void)
{
        base_vfs = sqlite3_vfs_find(NULL);
        if (!base_vfs)
                return;
        wal_vfs = (sqlite3_vfs){
                .iVersion = 2,
                .szOsFile = (int)(real_offset() + (size_t)base_vfs->szOsFile),
                .mxPathname = base_vfs->mxPathname,
                .zName = "veritee-wal",
                .xOpen = v_open,
                .xDelete = v_delete,
                .xAccess = v_access,
                .xFullPathname = v_full_pathname,
                .xDlOpen = v_dlopen,
                .xDlError = v_dlerror,
                .xDlSym = v_dlsym,
                .xDlClose = v_dlclose,
                .xRandomness = v_randomness,
                .xSleep = v_sleep,
                .xCurrentTime = v_current_time,
                .xGetLastError = v_last_error,
                .xCurrentTimeInt64 = v_current_time64,
        };
        registered = sqlite3_vfs_register(&wal_vfs, 0) == SQLITE_OK;
}

const char *vt_walvfs_name(void)
{
        pthread_once(&once, register_once);
        return registered ? wal_vfs.zName : NULL;
}

void vt_walvfs_stats(unsigned long *ret_flushes, unsigned long *ret_writes)
{
        *ret_flushes = atomic_load(&n_flushes);
        *ret_writes = atomic_load(&n_writes);
}
