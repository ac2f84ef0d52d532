/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The appender: one thread per ledger takes what callers queued, hashes it onto the
 * tree's right edge (the frontier), writes entries and completed nodes in one synced
 * transaction, and wakes the group's callers: itself when they are a few, else through
 * the waker thread, which wakes them while the appender commits the next group. Group
 * commit: the entries that arrive while one group is being synced form the next, so the
 * cost of a sync is shared by all of them; waking a large group's callers (a system call
 * each) does not hold up the next group's commit. A group whose every entry was appended
 * with VT_LEDGER_DEFER_SYNC is committed without its sync while the oldest such entry is
 * younger than defer_ms: the next synced group or tree head, or the appender's timer, syncs
 * it (the WAL's sync covers every commit before it). A caller that finds the ledger idle
 * (no turn under way, nothing queued) runs the turn for its own entry on its own thread:
 * the hand-off to the appender and back cost more context switches than the commit.
 * Several processes may append to one store: the store refuses a group built on a stale
 * size (VT_E_STALE), and the thread reloads the frontier and builds it again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/ledger.h"
#include "util/macro.h"

#define STALE_MS      10000 /* another process keeps appending: retry this long */
#define COVER_WAIT_MS 5000
#define DEFAULT_EVERY 1000
#define DEFAULT_MS    1000
#define DEFAULT_BATCH 1024
#define DIRECT_WAKE   4 /* groups up to this size are woken by the appender itself */
#define SMALL_GROUP   8 /* groups up to this size are built on the stack (commit) */

struct waiter {
        struct waiter *next;
        struct waiter *wnext; /* on the waker's list */
        const char *kind;
        char *text;
        size_t len;
        int64_t time;
        bool defer; /* VT_LEDGER_DEFER_SYNC: woken after the commit, synced later */
        struct vt_store_session_mark *mark; /* marked in the entry's transaction; NULL: none */
        vt_hash leaf;                       /* hashed by the caller's thread, not the appender's */
        /* Posted by the appender once the fields below are set; it owns the waiter from
         * when it takes the group off the queue until then. A semaphore, not a condition
         * variable under mu: the woken caller returns without taking mu again (64 of
         * them would queue on it behind the appender and each other). */
        sem_t wake;
        int err;
        uint64_t index;
        struct vt_diag diag;
};

struct vt_ledger {
        struct vt_store *store;
        const struct vt_signer *key;
        struct vt_ledger_opts o;

        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t work; /* the appender waits on it */
        pthread_cond_t done; /* appenders and tree-head waiters wait on it */
        struct waiter *head, *tail;
        bool stop, sth_wanted;
        /* A turn (turn()) is under way: the appender's, or a caller's that found the
         * ledger idle and appended its entry itself (the fields below are the turn's) */
        bool busy;
        /* the appender asleep until then (ms; INT64_MAX: until woken), or -1: awake */
        int64_t asleep_until;

        /* the waker: committed groups whose callers are still asleep (wmu) */
        pthread_t waker;
        pthread_mutex_t wmu;
        pthread_cond_t wwork;
        struct waiter *whead, *wtail;
        bool wstop;

        /* the turn's own: the appender's, or the caller's that set busy */
        struct vt_merkle_frontier f;
        bool f_valid;
        uint64_t signed_size;   /* the largest tree head known to be signed */
        int64_t first_unsigned; /* ms; 0 when every entry is signed */
        int64_t unsynced_since; /* ms, the first commit not synced yet; 0 when none */
};

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
        clock_gettime(CLOCK_REALTIME, ts);
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (ms % 1000) * 1000000;
        if (ts->tv_nsec >= 1000000000) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000;
        }
}

static int store_node(void *ud, unsigned level, uint64_t index, vt_hash out)
{
        return vt_store_ledger_node(ud, level, index, out, NULL);
}

/* reload reads the size and right edge of the tree from the store. */
static int reload(struct vt_ledger *l, struct vt_diag *d)
{
        uint64_t size;
        int e = vt_store_ledger_size(l->store, &size, d);
        if (e < 0)
                return e;
        if ((e = vt_merkle_frontier_load(&l->f, size, store_node, l->store)) < 0)
                return vt_diag_set(d, e,
                                   "ledger: the tree's right edge at size %" PRIu64
                                   " is missing from the store (%s)",
                                   size, vt_strerror(e));
        l->f_valid = true;
        return 0;
}

/* backoff sleeps a little, longer after each lost race and at random, so that two
 * replicas appending at the same pace do not keep losing to each other in lockstep. */
static void backoff(int attempt, unsigned *seed)
{
        long us = 200L * (attempt < 10 ? attempt + 1 : 10) + (long)(rand_r(seed) % 1000);
        struct timespec ts = {0, us * 1000L};
        nanosleep(&ts, NULL);
}

/* head_due tells whether the tree of size entries is to be signed now: sth_every entries
 * since the last tree head, one waiting for sth_ms, or a head wanted (want). */
static bool head_due(const struct vt_ledger *l, uint64_t size, int64_t now, bool want)
{
        if (size <= l->signed_size)
                return false;
        return want || size - l->signed_size >= l->o.sth_every ||
               (l->first_unsigned && now - l->first_unsigned >= l->o.sth_ms);
}

/* commit writes the group [first, ...) of n waiters; on success their indexes are set.
 * When a tree head is due once the group is in (head_due, want), it signs the head of
 * the tree with the group and writes it in the group's transaction: one sync for both,
 * not one more for the head. *signed_ret tells whether it did. With sync false the group
 * is committed without its sync, unless it carries a head: so it is synced when sync or
 * *signed_ret. */
static int commit(struct vt_ledger *l, struct waiter *first, size_t n, bool want, bool sync,
                  bool *signed_ret, struct vt_diag *d)
{
        *signed_ret = false;
        int64_t until = now_ms() + STALE_MS;
        unsigned seed = (unsigned)(uintptr_t)first ^ (unsigned)now_ms();
        /* a group of a few (a caller's own turn, the appender's at a few clients) on the
         * stack: 4 KB, and no malloc of a large chunk on every append */
        struct vt_ledger_row rows_few[SMALL_GROUP];
        struct vt_ledger_hash nodes_few[2 * SMALL_GROUP + VT_MERKLE_MAX_LEVEL + 1];
        size_t cap = 2 * n + VT_MERKLE_MAX_LEVEL + 1;
        _cleanup_free_ struct vt_ledger_row *rows_many = NULL;
        _cleanup_free_ struct vt_ledger_hash *nodes_many = NULL;
        struct vt_ledger_row *rows = rows_few;
        struct vt_ledger_hash *nodes = nodes_few;
        if (n > SMALL_GROUP) {
                rows = rows_many = calloc(n, sizeof(*rows));
                nodes = nodes_many = calloc(cap, sizeof(*nodes));
                if (!rows || !nodes)
                        return vt_diag_set(d, VT_E_NOMEM, "ledger: out of memory");
        }
        for (int attempt = 0;; attempt++) {
                int e;
                if (!l->f_valid && (e = reload(l, d)) < 0)
                        return e;
                struct vt_merkle_frontier f = l->f;
                size_t m = 0, i = 0;
                for (struct waiter *w = first; i < n; w = w->next, i++) {
                        struct vt_merkle_node out[VT_MERKLE_MAX_LEVEL + 1];
                        rows[i] = (struct vt_ledger_row){.index = f.size,
                                                         .time = w->time,
                                                         .kind = w->kind,
                                                         .entry = w->text,
                                                         .entry_len = w->len,
                                                         .mark = w->mark};
                        int k = vt_merkle_frontier_push(&f, w->leaf, out);
                        if (k < 0)
                                return vt_diag_set(d, k, "ledger: the tree is full");
                        for (int j = 0; j < k && m < cap; j++) {
                                nodes[m].level = out[j].level;
                                nodes[m].index = out[j].index;
                                memcpy(nodes[m++].hash, out[j].hash, VT_MERKLE_HASH_LEN);
                        }
                }
                /* A signature that fails leaves the head to sign() after the commit: the
                 * entries go in all the same. */
                _cleanup_free_ char *jws = NULL;
                struct vt_ledger_sth sth = {.size = f.size, .time = now_ms()};
                bool head = head_due(l, f.size, sth.time, want);
                if (head) {
                        struct vt_sth h = {.size = f.size, .time = sth.time};
                        head = vt_merkle_frontier_root(&f, h.root) == 0 &&
                               vt_sth_sign(l->key, &h, &jws) == 0;
                        sth.sth = jws;
                }
                struct vt_diag sd = {0};
                /* a tree head only with a synced group: none may cover what a power cut
                 * could take back */
                if (head || sync)
                        e = vt_store_ledger_append_sth(l->store, l->f.size, rows, n, nodes, m,
                                                       head ? &sth : NULL, &sd);
                else
                        e = vt_store_ledger_append_unsynced(l->store, l->f.size, rows, n, nodes, m,
                                                            &sd);
                if (e == VT_E_STALE && now_ms() < until) {
                        l->f_valid = false; /* another process appended: build on its tree */
                        backoff(attempt, &seed);
                        continue;
                }
                if (e < 0) {
                        l->f_valid = false;
                        return vt_diag_set(d, e, "%s", sd.msg[0] ? sd.msg : vt_strerror(e));
                }
                i = 0;
                for (struct waiter *w = first; i < n; w = w->next, i++)
                        w->index = rows[i].index;
                l->f = f;
                if (head) {
                        l->signed_size = f.size;
                        l->first_unsigned = 0;
                        *signed_ret = true;
                }
                return 0;
        }
}

/* sign signs and records a tree head of the whole tree as it is now. */
static int sign(struct vt_ledger *l, struct vt_diag *d)
{
        uint64_t size;
        int e = vt_store_ledger_size(l->store, &size, d);
        if (e < 0)
                return e;
        if (!l->f_valid || size != l->f.size)
                if ((e = reload(l, d)) < 0)
                        return e;
        if (l->f.size == 0 || l->f.size <= l->signed_size) {
                l->first_unsigned = 0;
                return 0;
        }
        struct vt_sth h = {.size = l->f.size, .time = now_ms()};
        if ((e = vt_merkle_frontier_root(&l->f, h.root)) < 0)
                return e;
        _cleanup_free_ char *jws = NULL;
        if ((e = vt_sth_sign(l->key, &h, &jws)) < 0)
                return vt_diag_set(d, e, "ledger: cannot sign a tree head");
        if ((e = vt_store_ledger_sth_put(l->store, h.size, h.time, jws, d)) < 0)
                return e;
        l->unsynced_since = 0; /* the head's put is synced, and with it all before it */
        l->signed_size = h.size;
        l->first_unsigned = 0;
        return 0;
}

/* to_waker queues the group of n waiters at first, their results set, for the waker. */
static void to_waker(struct vt_ledger *l, struct waiter *first, size_t n)
{
        struct waiter *w = first, *last = NULL;
        for (size_t i = 0; i < n; i++, w = w->next) {
                w->wnext = NULL;
                if (last)
                        last->wnext = w;
                last = w;
        }
        pthread_mutex_lock(&l->wmu);
        if (l->wtail)
                l->wtail->wnext = first;
        else
                l->whead = first;
        l->wtail = last;
        pthread_cond_signal(&l->wwork);
        pthread_mutex_unlock(&l->wmu);
}

/* waker wakes the callers of committed groups, each through its own semaphore, so that
 * those queued for the next group sleep on; it stops once told to and its list is
 * empty. */
static void *waker(void *arg)
{
        struct vt_ledger *l = arg;
        pthread_setname_np(pthread_self(), "vt-ledger-wake");
        pthread_mutex_lock(&l->wmu);
        for (;;) {
                while (!l->whead && !l->wstop)
                        pthread_cond_wait(&l->wwork, &l->wmu);
                struct waiter *w = l->whead;
                if (!w)
                        break;
                l->whead = l->wtail = NULL;
                pthread_mutex_unlock(&l->wmu);
                while (w) {
                        struct waiter *next = w->wnext; /* w is gone once posted */
                        sem_post(&w->wake);
                        w = next;
                }
                pthread_mutex_lock(&l->wmu);
        }
        pthread_mutex_unlock(&l->wmu);
        return NULL;
}

/* next_due is when the next turn is due without an entry (ms), or 0: a tree head waiting
 * for sth_ms, deferred entries waiting for defer_ms. */
static int64_t next_due(const struct vt_ledger *l)
{
        int64_t due = 0;
        if (l->first_unsigned)
                due = l->first_unsigned + l->o.sth_ms;
        if (l->unsynced_since && (!due || l->unsynced_since + l->o.defer_ms < due))
                due = l->unsynced_since + l->o.defer_ms;
        return due;
}

/* turn appends the group of n waiters at first (n may be 0: a head or a sync only) and
 * sets each one's result, without waking anyone; then signs a tree head or syncs the
 * deferred entries if either is due. The caller set busy. */
static void turn(struct vt_ledger *l, struct waiter *first, size_t n, bool wanted, bool stopping)
{
        /* synced now unless every entry of the group may wait and the deferred ones are
         * not due */
        bool sync = l->o.defer_ms <= 0 || stopping ||
                    (l->unsynced_since && now_ms() - l->unsynced_since >= l->o.defer_ms);
        size_t i = 0;
        for (struct waiter *w = first; i < n && !sync; i++, w = w->next)
                sync = !w->defer;
        struct vt_diag d = {0};
        bool signed_now = false;
        int e = n ? commit(l, first, n, wanted || stopping, sync, &signed_now, &d) : 0;
        if (n && e == 0 && !l->first_unsigned && l->f.size > l->signed_size)
                l->first_unsigned = now_ms();
        if (n && e == 0) {
                if (sync || signed_now) /* a group with a head is synced */
                        l->unsynced_since = 0;
                else if (!l->unsynced_since)
                        l->unsynced_since = now_ms();
        }
        int64_t t = now_ms();
        /* the separate put: a head wanted or due with no group, or one whose signature
         * failed in commit */
        if (e == 0 && !signed_now && (wanted || stopping || head_due(l, l->f.size, t, false))) {
                struct vt_diag sd = {0};
                /* a failed signature is retried at the next occasion; the entries are
                 * durable and the callers may go on */
                if (sign(l, &sd) < 0)
                        l->first_unsigned = t;
        }
        /* deferred entries due (or the last turn): their sync on its own */
        if (l->unsynced_since && (stopping || t - l->unsynced_since >= l->o.defer_ms)) {
                struct vt_diag sd = {0};
                /* a failed sync is retried defer_ms later; the next synced group or head
                 * syncs them too */
                l->unsynced_since = vt_store_ledger_sync(l->store, &sd) == 0 ? 0 : t;
        }
        i = 0;
        for (struct waiter *w = first; i < n; i++, w = w->next) {
                w->err = e;
                if (e < 0)
                        w->diag = d;
        }
}

/* turn_over ends a turn (l->mu held): the appender is woken if there is work for it, or
 * if the turn made something due before the appender's alarm. */
static void turn_over(struct vt_ledger *l)
{
        l->busy = false;
        if (l->asleep_until >= 0) {
                int64_t due = next_due(l);
                if (l->head || l->sth_wanted || l->stop || (due && due < l->asleep_until))
                        pthread_cond_signal(&l->work);
        }
        pthread_cond_broadcast(&l->done); /* tree-head waiters */
}

static void *appender(void *arg)
{
        struct vt_ledger *l = arg;
        pthread_setname_np(pthread_self(), "vt-ledger"); /* as top and perf show it */
        pthread_mutex_lock(&l->mu);
        for (;;) {
                while (l->busy || (!l->head && !l->stop && !l->sth_wanted)) {
                        /* a caller's turn: its end wakes us if there is work (turn_over) */
                        int64_t due = l->busy ? 0 : next_due(l);
                        if (due) {
                                int64_t wait = due - now_ms();
                                if (wait <= 0)
                                        break;
                                struct timespec ts;
                                deadline_in(&ts, wait);
                                l->asleep_until = due;
                                pthread_cond_timedwait(&l->work, &l->mu, &ts);
                        } else {
                                l->asleep_until = INT64_MAX;
                                pthread_cond_wait(&l->work, &l->mu);
                        }
                        l->asleep_until = -1;
                }
                /* take a group */
                struct waiter *first = l->head, *last = NULL;
                size_t n = 0;
                for (struct waiter *w = first; w && n < l->o.max_batch; w = w->next) {
                        last = w;
                        n++;
                }
                if (n) {
                        l->head = last->next;
                        if (!l->head)
                                l->tail = NULL;
                }
                bool wanted = l->sth_wanted, stopping = l->stop && !l->head;
                l->sth_wanted = false;
                l->busy = true;
                pthread_mutex_unlock(&l->mu);

                turn(l, first, n, wanted, stopping);
                /* the group is ours alone until its callers are woken */
                if (n > DIRECT_WAKE) {
                        to_waker(l, first, n);
                } else {
                        /* a small group: its few posts cost less than the hand-off to the
                         * waker and the waker's wake-up */
                        struct waiter *w = first;
                        for (size_t i = 0; i < n; i++) {
                                struct waiter *next = w->next; /* w is gone once posted */
                                sem_post(&w->wake);
                                w = next;
                        }
                }
                pthread_mutex_lock(&l->mu);
                turn_over(l); /* awake: it only clears busy and wakes tree-head waiters */
                /* Only after a turn that began stopping, so that it signed the last
                 * entries: the callers just woken may return and close before we get
                 * here, setting stop after this turn looked at it. */
                if (stopping)
                        break;
        }
        pthread_mutex_unlock(&l->mu);
        return NULL;
}

static void stop_waker(struct vt_ledger *l)
{
        pthread_mutex_lock(&l->wmu);
        l->wstop = true;
        pthread_cond_signal(&l->wwork);
        pthread_mutex_unlock(&l->wmu);
        pthread_join(l->waker, NULL);
}

static void ledger_free(struct vt_ledger *l)
{
        pthread_mutex_destroy(&l->mu);
        pthread_mutex_destroy(&l->wmu);
        pthread_cond_destroy(&l->work);
        pthread_cond_destroy(&l->done);
        pthread_cond_destroy(&l->wwork);
        free(l);
}

int vt_ledger_open(struct vt_store *store, const struct vt_signer *key,
                   const struct vt_ledger_opts *opts, struct vt_ledger **ret, struct vt_diag *d)
{
        if (!store || !key || !ret)
                return vt_diag_set(d, VT_E_INVAL, "ledger: a store and a key are required");
        struct vt_ledger *l = calloc(1, sizeof(*l));
        if (!l)
                return vt_diag_set(d, VT_E_NOMEM, "ledger: out of memory");
        l->store = store;
        l->key = key;
        if (opts)
                l->o = *opts;
        if (!l->o.sth_every)
                l->o.sth_every = DEFAULT_EVERY;
        if (l->o.sth_ms <= 0)
                l->o.sth_ms = DEFAULT_MS;
        if (!l->o.max_batch)
                l->o.max_batch = DEFAULT_BATCH;
        int e = reload(l, d);
        if (e == 0) {
                _cleanup_free_ char *sth = NULL;
                uint64_t size = 0;
                e = vt_store_ledger_sth_latest(store, &size, &sth, NULL);
                if (e == 0 || e == VT_E_NOTFOUND) {
                        l->signed_size = e == 0 ? size : 0;
                        e = 0;
                }
                /* entries left unsigned by a crash are signed soon */
                if (l->f.size > l->signed_size)
                        l->first_unsigned = now_ms() - l->o.sth_ms;
        }
        if (e < 0) {
                free(l);
                return e;
        }
        pthread_mutex_init(&l->mu, NULL);
        l->asleep_until = -1;
        pthread_mutex_init(&l->wmu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_cond_init(&l->work, &ca);
        pthread_cond_init(&l->done, &ca);
        pthread_cond_init(&l->wwork, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&l->waker, NULL, waker, l) != 0) {
                ledger_free(l);
                return vt_diag_set(d, VT_E_NOMEM, "ledger: cannot start the waker thread");
        }
        if (pthread_create(&l->thread, NULL, appender, l) != 0) {
                stop_waker(l);
                ledger_free(l);
                return vt_diag_set(d, VT_E_NOMEM, "ledger: cannot start the appender thread");
        }
        *ret = l;
        return 0;
}

void vt_ledger_close(struct vt_ledger *l)
{
        if (!l)
                return;
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->work);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
        stop_waker(l); /* after the appender: it queues the last groups */
        ledger_free(l);
}

int vt_ledger_append(struct vt_ledger *l, const char *kind, const json_t *entry,
                     uint64_t *ret_index, struct vt_diag *d)
{
        return vt_ledger_append_flags(l, kind, entry, 0, ret_index, d);
}

/* queue_and_wait queues w for the appender (l->mu held, released) and sleeps until its
 * turn is over. */
static int queue_and_wait(struct vt_ledger *l, struct waiter *w)
{
        if (sem_init(&w->wake, 0, 0) != 0) {
                pthread_mutex_unlock(&l->mu);
                return VT_E_NOMEM;
        }
        if (l->tail)
                l->tail->next = w;
        else
                l->head = w;
        l->tail = w;
        pthread_cond_signal(&l->work);
        pthread_mutex_unlock(&l->mu);
        /* glibc's sem_post touches nothing of the semaphore after the waiter can see the
         * post, so the waiter may destroy it then (glibc bug 12674) */
        while (sem_wait(&w->wake) != 0)
                ; /* EINTR */
        sem_destroy(&w->wake);
        return 0;
}

int vt_ledger_append_flags(struct vt_ledger *l, const char *kind, const json_t *entry,
                           unsigned flags, uint64_t *ret_index, struct vt_diag *d)
{
        return vt_ledger_append_mark(l, kind, entry, flags, NULL, ret_index, d);
}

int vt_ledger_append_mark(struct vt_ledger *l, const char *kind, const json_t *entry,
                          unsigned flags, struct vt_store_session_mark *mark, uint64_t *ret_index,
                          struct vt_diag *d)
{
        if (flags & ~VT_LEDGER_DEFER_SYNC)
                return vt_diag_set(d, VT_E_INVAL, "ledger: unknown flags");
        if (!l || !kind || !*kind || strlen(kind) > VT_STORE_MAX_KIND || !json_is_object(entry))
                return vt_diag_set(d, VT_E_INVAL, "ledger: an entry is an object with a kind");
        if (mark && !vt_store_session_mark_valid(mark))
                return vt_diag_set(d, VT_E_INVAL,
                                   "ledger: a session mark needs a session, a nonce and claims "
                                   "(at most %u bytes)",
                                   VT_STORE_MAX_JSON);
        json_auto_t *e = json_deep_copy(entry);
        struct waiter w = {.kind = kind,
                           .time = now_ms(),
                           .defer = (flags & VT_LEDGER_DEFER_SYNC) != 0,
                           .mark = mark};
        if (!e || json_object_set_new(e, "kind", json_string(kind)) < 0 ||
            json_object_set_new(e, "time", json_integer(w.time)) < 0)
                return vt_diag_set(d, VT_E_NOMEM, "ledger: out of memory");
        int r = vt_ledger_entry_text(e, &w.text, &w.len);
        if (r < 0)
                return vt_diag_set(d, r, "ledger: the entry cannot be written (%s)",
                                   vt_strerror(r));
        if ((r = vt_merkle_leaf_hash(w.text, w.len, w.leaf)) < 0) {
                free(w.text);
                return vt_diag_set(d, r, "ledger: cannot hash the entry");
        }

        pthread_mutex_lock(&l->mu);
        if (l->stop) {
                pthread_mutex_unlock(&l->mu);
                free(w.text);
                return vt_diag_set(d, VT_E_STORE, "ledger: closing");
        }
        if (!l->busy && !l->head && !l->sth_wanted) {
                /* Idle: this thread appends its entry itself, a group of one, rather than
                 * wake the appender and sleep until the appender wakes it (two context
                 * switches each way, most of an append's cost at a few clients). Entries
                 * that come meanwhile queue for the appender, as behind any turn. */
                l->busy = true;
                pthread_mutex_unlock(&l->mu);
                turn(l, &w, 1, false, false);
                pthread_mutex_lock(&l->mu);
                turn_over(l);
                pthread_mutex_unlock(&l->mu);
        } else if (queue_and_wait(l, &w) < 0) {
                free(w.text);
                return vt_diag_set(d, VT_E_NOMEM, "ledger: semaphore");
        }
        free(w.text);
        if (w.err < 0)
                return vt_diag_set(d, w.err, "%s", w.diag.msg[0] ? w.diag.msg : vt_strerror(w.err));
        if (ret_index)
                *ret_index = w.index;
        return 0;
}

struct vt_store *vt_ledger_store(struct vt_ledger *l)
{
        return l->store;
}

json_t *vt_ledger_jwks(const struct vt_ledger *l)
{
        json_t *k = vt_signer_jwk(l->key);
        json_t *s = k ? json_pack("{s:[o]}", "keys", k) : NULL;
        return s;
}

int vt_ledger_covering_sth(struct vt_ledger *l, uint64_t index, char **ret, uint64_t *ret_size,
                           struct vt_diag *d)
{
        int64_t until = now_ms() + COVER_WAIT_MS;
        for (;;) {
                char *sth = NULL;
                uint64_t size = 0;
                int e = vt_store_ledger_sth_latest(l->store, &size, &sth, d);
                if (e < 0 && e != VT_E_NOTFOUND)
                        return e;
                if (e == 0 && (index == UINT64_MAX || index < size)) {
                        *ret = sth;
                        *ret_size = size;
                        return 0;
                }
                free(sth);
                if (index == UINT64_MAX)
                        return vt_diag_set(d, VT_E_NOTFOUND, "ledger: no tree head signed yet");
                uint64_t have;
                if ((e = vt_store_ledger_size(l->store, &have, d)) < 0)
                        return e;
                if (index >= have)
                        return vt_diag_set(d, VT_E_NOTFOUND,
                                           "ledger: no entry %" PRIu64 " (the ledger has %" PRIu64
                                           ")",
                                           index, have);
                if (now_ms() >= until)
                        return vt_diag_set(d, VT_E_STALE,
                                           "ledger: no tree head covers entry %" PRIu64 " yet",
                                           index);
                struct timespec ts;
                deadline_in(&ts, 100);
                pthread_mutex_lock(&l->mu);
                l->sth_wanted = true;
                pthread_cond_signal(&l->work);
                pthread_cond_timedwait(&l->done, &l->mu, &ts);
                pthread_mutex_unlock(&l->mu);
        }
}
