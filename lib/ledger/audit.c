/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline audit: recompute the tree from the entries alone (a frontier, so memory
 * stays O(log n) whatever the size), and hold every signed tree head against the root
 * of the recomputed tree of its size. Agreeing roots at every head also prove that
 * consecutive heads are consistent: each is a prefix of the next.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "util/macro.h"

#define MAX_STHS (1u << 22)

struct vt_ledger_audit {
        const json_t *jwks;
        struct vt_sth *sths; /* verified, sorted by size before the first entry */
        size_t n, cap, next;
        bool sorted;
        bool have_saved;
        struct vt_sth saved;
        struct vt_merkle_frontier f;
        uint64_t last_good;
        uint64_t checked;
};

int vt_ledger_audit_new(const json_t *jwks, const char *saved_sth, struct vt_ledger_audit **ret,
                        struct vt_diag *d)
{
        struct vt_ledger_audit *a = calloc(1, sizeof(*a));
        if (!a)
                return VT_E_NOMEM;
        a->jwks = jwks;
        if (saved_sth) {
                int e = vt_sth_verify(saved_sth, jwks, &a->saved, d);
                if (e < 0) {
                        free(a);
                        return vt_diag_set(d, e, "saved tree head does not verify");
                }
                a->have_saved = true;
        }
        *ret = a;
        return 0;
}

void vt_ledger_audit_free(struct vt_ledger_audit *a)
{
        if (!a)
                return;
        free(a->sths);
        free(a);
}

int vt_ledger_audit_sth(struct vt_ledger_audit *a, const char *sth, struct vt_diag *d)
{
        if (a->sorted)
                return vt_diag_set(d, VT_E_INVAL, "audit: tree heads come before the entries");
        struct vt_sth h;
        struct vt_diag why = {0};
        int e = vt_sth_verify(sth, a->jwks, &h, &why);
        if (e < 0)
                return vt_diag_set(d, e, "tree head %zu: %s", a->n, why.msg);
        if (a->n == a->cap) {
                size_t c = a->cap ? a->cap * 2 : 64;
                if (c > MAX_STHS)
                        return vt_diag_set(d, VT_E_LIMIT, "audit: more than %u tree heads",
                                           MAX_STHS);
                struct vt_sth *p = realloc(a->sths, c * sizeof(*p));
                if (!p)
                        return VT_E_NOMEM;
                a->sths = p;
                a->cap = c;
        }
        a->sths[a->n++] = h;
        return 0;
}

static int by_size(const void *x, const void *y)
{
        const struct vt_sth *a = x, *b = y;
        return a->size < b->size ? -1 : a->size > b->size;
}

static void hexs(const vt_hash h, char out[65])
{
        vt_hex_encode(h, VT_MERKLE_HASH_LEN, out);
}

/* sort_sths orders the heads and refuses two of one size with different roots. */
static int sort_sths(struct vt_ledger_audit *a, struct vt_diag *d)
{
        if (a->n)
                qsort(a->sths, a->n, sizeof(*a->sths), by_size);
        for (size_t i = 1; i < a->n; i++)
                if (a->sths[i].size == a->sths[i - 1].size &&
                    memcmp(a->sths[i].root, a->sths[i - 1].root, VT_MERKLE_HASH_LEN) != 0)
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "two signed tree heads of size %" PRIu64
                                           " with different roots: the ledger forked",
                                           a->sths[i].size);
        a->sorted = true;
        return 0;
}

/* check_size holds the heads (and the saved one) of the current size against the root. */
static int check_size(struct vt_ledger_audit *a, struct vt_diag *d)
{
        vt_hash root;
        bool have = false;
        int e;
        while (a->next < a->n && a->sths[a->next].size <= a->f.size) {
                const struct vt_sth *h = &a->sths[a->next];
                if (h->size < a->f.size) /* only for size 0 heads, skipped */
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "tree head of size %" PRIu64 " out of order", h->size);
                if (!have) {
                        if ((e = vt_merkle_frontier_root(&a->f, root)) < 0)
                                return e;
                        have = true;
                }
                if (memcmp(root, h->root, VT_MERKLE_HASH_LEN) != 0) {
                        char x[65], y[65];
                        hexs(root, x);
                        hexs(h->root, y);
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "entries 0..%" PRIu64 " do not match the signed tree "
                                           "head of size %" PRIu64 " (root %s, recomputed %s): "
                                           "an entry at index %" PRIu64 "..%" PRIu64
                                           " was changed, inserted or removed after it was "
                                           "signed; first bad index >= %" PRIu64,
                                           h->size - 1, h->size, y, x, a->last_good, h->size - 1,
                                           a->last_good);
                }
                a->last_good = h->size;
                a->checked++;
                a->next++;
        }
        if (a->have_saved && a->saved.size == a->f.size) {
                if (!have && (e = vt_merkle_frontier_root(&a->f, root)) < 0)
                        return e;
                if (memcmp(root, a->saved.root, VT_MERKLE_HASH_LEN) != 0)
                        return vt_diag_set(d, VT_E_SIGNATURE,
                                           "the ledger no longer contains the saved tree head of "
                                           "size %" PRIu64 ": entries below it were changed "
                                           "(first bad index >= %" PRIu64 ")",
                                           a->saved.size, a->last_good);
        }
        return 0;
}

int vt_ledger_audit_entry(struct vt_ledger_audit *a, uint64_t index, const char *text, size_t len,
                          const uint8_t *stored_leaf, struct vt_diag *d)
{
        int e;
        if (!a->sorted) {
                if ((e = sort_sths(a, d)) < 0)
                        return e;
                /* heads of size 0 say nothing */
                while (a->next < a->n && a->sths[a->next].size == 0)
                        a->next++;
        }
        if (index != a->f.size)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   index > a->f.size ? "entry %" PRIu64 " is missing (the next "
                                                       "entry has index %" PRIu64 ")"
                                                     : "entry %" PRIu64 " appears twice or out "
                                                       "of order (index %" PRIu64 ")",
                                   a->f.size, index);
        if (!text || len == 0 || len > VT_STORE_MAX_ENTRY)
                return vt_diag_set(d, VT_E_FORMAT, "entry %" PRIu64 ": empty or too long", index);
        /* the stored text must be canonical: a receipt re-canonicalises its entry */
        json_auto_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "kind")) ||
            !json_is_integer(json_object_get(v, "time")))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "entry %" PRIu64 ": not a JSON object with a kind and a time",
                                   index);
        _cleanup_free_ char *canon = NULL;
        size_t cl = 0;
        if ((e = vt_jcs_serialize(v, &canon, &cl)) < 0)
                return vt_diag_set(d, e, "entry %" PRIu64 ": cannot canonicalise", index);
        if (cl != len || memcmp(canon, text, len) != 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "entry %" PRIu64 ": not in canonical form (RFC 8785)", index);
        vt_hash leaf;
        if ((e = vt_merkle_leaf_hash(text, len, leaf)) < 0)
                return e;
        if (stored_leaf && memcmp(stored_leaf, leaf, VT_MERKLE_HASH_LEN) != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "entry %" PRIu64 " was changed after it was appended: its "
                                   "text no longer matches its leaf hash",
                                   index);
        struct vt_merkle_node out[VT_MERKLE_MAX_LEVEL + 1];
        if ((e = vt_merkle_frontier_push(&a->f, leaf, out)) < 0)
                return e;
        return check_size(a, d);
}

int vt_ledger_audit_finish(struct vt_ledger_audit *a, struct vt_ledger_audit_result *ret,
                           struct vt_diag *d)
{
        int e;
        if (!a->sorted && (e = sort_sths(a, d)) < 0)
                return e;
        while (a->next < a->n && a->sths[a->next].size == 0)
                a->next++;
        if (a->next < a->n)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "a signed tree head covers %" PRIu64 " entries but the ledger "
                                   "has %" PRIu64 ": entries %" PRIu64 ".. were removed",
                                   a->sths[a->n - 1].size, a->f.size, a->f.size);
        if (a->have_saved && a->saved.size > a->f.size)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "the ledger has %" PRIu64 " entries, fewer than the saved "
                                   "tree head's %" PRIu64 ": entries %" PRIu64 ".. were removed",
                                   a->f.size, a->saved.size, a->f.size);
        struct vt_ledger_audit_result r = {
                .entries = a->f.size,
                .sths = a->checked,
                .last_good = a->last_good,
        };
        if (a->n)
                r.latest = a->sths[a->n - 1];
        if ((e = vt_merkle_frontier_root(&a->f, r.root)) < 0)
                return e;
        *ret = r;
        return 0;
}

struct store_walk {
        struct vt_ledger_audit *a;
        struct vt_store *store;
        struct vt_diag *d;
        uint64_t next_sth;
};

static int walk_sth(uint64_t size, int64_t time, const char *sth, void *ud)
{
        struct store_walk *w = ud;
        (void)time;
        w->next_sth = size + 1;
        return vt_ledger_audit_sth(w->a, sth, w->d);
}

static int walk_entry(const struct vt_ledger_row *row, void *ud)
{
        struct store_walk *w = ud;
        uint8_t leaf[VT_MERKLE_HASH_LEN];
        int e = vt_store_ledger_node(w->store, 0, row->index, leaf, NULL);
        if (e < 0 && e != VT_E_NOTFOUND)
                return vt_diag_set(w->d, e, "entry %" PRIu64 ": cannot read its leaf hash",
                                   row->index);
        return vt_ledger_audit_entry(w->a, row->index, row->entry, row->entry_len,
                                     e == 0 ? leaf : NULL, w->d);
}

int vt_ledger_audit_store(struct vt_store *store, const json_t *jwks, const char *saved_sth,
                          struct vt_ledger_audit_result *ret, struct vt_diag *d)
{
        struct vt_ledger_audit *a = NULL;
        int e = vt_ledger_audit_new(jwks, saved_sth, &a, d);
        if (e < 0)
                return e;
        struct store_walk w = {.a = a, .store = store, .d = d};
        for (;;) {
                uint64_t before = w.next_sth;
                if ((e = vt_store_ledger_sths(store, w.next_sth, 1000, walk_sth, &w, d)) < 0)
                        goto out;
                if (w.next_sth == before)
                        break;
        }
        uint64_t size;
        if ((e = vt_store_ledger_size(store, &size, d)) < 0)
                goto out;
        for (uint64_t i = 0; i < size; i += VT_STORE_LEDGER_PAGE) {
                uint64_t end = size - i > VT_STORE_LEDGER_PAGE ? i + VT_STORE_LEDGER_PAGE : size;
                if ((e = vt_store_ledger_entries(store, i, end, walk_entry, &w, d)) < 0)
                        goto out;
        }
        e = vt_ledger_audit_finish(a, ret, d);
out:
        vt_ledger_audit_free(a);
        return e;
}
