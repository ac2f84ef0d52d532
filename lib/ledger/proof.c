/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed tree heads, entries' canonical text, receipts and consistency proofs: building
 * them from a store and verifying them with nothing but a key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "util/json.h"
#include "util/macro.h"

int vt_ledger_entry_text(const json_t *entry, char **ret, size_t *ret_len)
{
        if (!json_is_object(entry) || !json_is_string(json_object_get(entry, "kind")) ||
            !json_is_integer(json_object_get(entry, "time")))
                return VT_E_INVAL;
        char *t = NULL;
        size_t n = 0;
        int e = vt_jcs_serialize(entry, &t, &n);
        if (e < 0)
                return e;
        if (n > VT_STORE_MAX_ENTRY) {
                free(t);
                return VT_E_LIMIT;
        }
        *ret = t;
        *ret_len = n;
        return 0;
}

int vt_sth_sign(const struct vt_signer *key, const struct vt_sth *h, char **ret)
{
        char root[2 * VT_MERKLE_HASH_LEN + 1];
        vt_hex_encode(h->root, VT_MERKLE_HASH_LEN, root);
        json_auto_t *c = json_pack("{s:s, s:I, s:I}", "root", root, "size", (json_int_t)h->size,
                                   "time", (json_int_t)h->time);
        if (!c)
                return VT_E_NOMEM;
        return vt_signer_sign_jws(key, VT_STH_TYP, c, ret);
}

/* hash_of reads 64 lowercase hex digits into h. */
static int hash_of(const json_t *v, vt_hash h)
{
        const char *s = json_string_value(v);
        if (!s || strlen(s) != 2 * VT_MERKLE_HASH_LEN)
                return VT_E_FORMAT;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return VT_E_FORMAT;
        return vt_hex_decode(s, h, VT_MERKLE_HASH_LEN) == VT_MERKLE_HASH_LEN ? 0 : VT_E_FORMAT;
}

/* uint_of reads a non-negative JSON integer. */
static int uint_of(const json_t *v, uint64_t *ret)
{
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return VT_E_FORMAT;
        *ret = (uint64_t)json_integer_value(v);
        return 0;
}

static int sth_fields(const json_t *c, struct vt_sth *h, struct vt_diag *d)
{
        uint64_t t;
        if (!json_is_object(c) || json_object_size(c) != 3)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "tree head: the payload must have exactly root, size and time");
        if (hash_of(json_object_get(c, "root"), h->root) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "tree head: root is not 64 lowercase hex");
        if (uint_of(json_object_get(c, "size"), &h->size) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "tree head: size is not an integer >= 0");
        if (uint_of(json_object_get(c, "time"), &t) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "tree head: time is not an integer >= 0");
        h->time = (int64_t)t;
        return 0;
}

static void sth_kid(const char *jws, struct vt_sth *h)
{
        /* the kid for messages: from the header, already checked by the caller */
        h->kid[0] = 0;
        const char *dot = strchr(jws, '.');
        if (!dot)
                return;
        size_t n = 0;
        uint8_t *raw = NULL;
        if (vt_b64_decode(jws, (size_t)(dot - jws), VT_B64_URL, 4096, &raw, &n) < 0)
                return;
        json_auto_t *hd = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
        free(raw);
        const char *kid = json_string_value(json_object_get(hd, "kid"));
        if (kid)
                snprintf(h->kid, sizeof(h->kid), "%s", kid);
}

int vt_sth_verify(const char *jws, const json_t *jwks, struct vt_sth *ret, struct vt_diag *d)
{
        if (!jws || strnlen(jws, VT_STORE_MAX_STH + 1) > VT_STORE_MAX_STH)
                return vt_diag_set(d, VT_E_FORMAT, "tree head: absent or above %u bytes",
                                   VT_STORE_MAX_STH);
        json_auto_t *c = NULL;
        int e = vt_jws_verify_jwks(jws, jwks, "tree head", VT_STH_TYP, &c, d);
        if (e < 0)
                return e;
        struct vt_sth h = {0};
        if ((e = sth_fields(c, &h, d)) < 0)
                return e;
        sth_kid(jws, &h);
        *ret = h;
        return 0;
}

int vt_sth_peek(const char *jws, struct vt_sth *ret, struct vt_diag *d)
{
        if (!jws || strnlen(jws, VT_STORE_MAX_STH + 1) > VT_STORE_MAX_STH)
                return vt_diag_set(d, VT_E_FORMAT, "tree head: absent or above %u bytes",
                                   VT_STORE_MAX_STH);
        const char *a = strchr(jws, '.');
        const char *b = a ? strchr(a + 1, '.') : NULL;
        if (!a || !b || strchr(b + 1, '.'))
                return vt_diag_set(d, VT_E_FORMAT, "tree head: not a compact JWS");
        uint8_t *raw = NULL;
        size_t n = 0;
        if (vt_b64_decode(a + 1, (size_t)(b - a - 1), VT_B64_URL, VT_STORE_MAX_STH, &raw, &n) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "tree head: payload is not base64url");
        json_auto_t *c = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
        free(raw);
        struct vt_sth h = {0};
        int e = sth_fields(c, &h, d);
        if (e < 0)
                return e;
        sth_kid(jws, &h);
        *ret = h;
        return 0;
}

/*
 * From a store.
 */

static int store_node(void *ud, unsigned level, uint64_t index, vt_hash out)
{
        return vt_store_ledger_node(ud, level, index, out, NULL);
}

int vt_ledger_root(struct vt_store *store, uint64_t size, vt_hash ret, struct vt_diag *d)
{
        int e = vt_merkle_root(size, store_node, store, ret);
        if (e < 0)
                return vt_diag_set(d, e,
                                   "ledger: cannot compute the root of %" PRIu64
                                   " entries: a tree node is missing (%s)",
                                   size, vt_strerror(e));
        return 0;
}

static json_t *hex_array(const vt_hash *p, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, vt_json_hex(p[i], VT_MERKLE_HASH_LEN)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

struct one_entry {
        json_t *entry;
        int err;
};

static int take_entry(const struct vt_ledger_row *row, void *ud)
{
        struct one_entry *o = ud;
        o->entry = json_loadb(row->entry, row->entry_len, JSON_REJECT_DUPLICATES, NULL);
        o->err = o->entry ? 0 : VT_E_FORMAT;
        return 0;
}

int vt_ledger_receipt_build(struct vt_store *store, uint64_t index, const char *sth,
                            uint64_t sth_size, json_t **ret, struct vt_diag *d)
{
        if (index >= sth_size)
                return vt_diag_set(d, VT_E_INVAL,
                                   "ledger: entry %" PRIu64 " is not below the tree head's size "
                                   "%" PRIu64,
                                   index, sth_size);
        struct one_entry o = {0};
        int e = vt_store_ledger_entries(store, index, index + 1, take_entry, &o, d);
        if (e < 0)
                return e;
        json_auto_t *entry = o.entry;
        if (!entry)
                return vt_diag_set(d, o.err ? o.err : VT_E_NOTFOUND, "ledger: entry %" PRIu64 " %s",
                                   index, o.err ? "is not JSON" : "not found");
        vt_hash path[VT_MERKLE_MAX_PROOF];
        size_t n = 0;
        if ((e = vt_merkle_inclusion_proof(index, sth_size, store_node, store, path, &n)) < 0)
                return vt_diag_set(d, e, "ledger: no inclusion proof for entry %" PRIu64 ": %s",
                                   index, vt_strerror(e));
        json_t *r =
                json_pack("{s:s, s:I, s:O, s:I, s:o, s:s}", "format", VT_RECEIPT_FORMAT, "index",
                          (json_int_t)index, "entry", entry, "tree_size", (json_int_t)sth_size,
                          "inclusion_path", hex_array(path, n), "sth", sth);
        if (!r)
                return VT_E_NOMEM;
        *ret = r;
        return 0;
}

int vt_ledger_consistency_build(struct vt_store *store, uint64_t a, uint64_t b, json_t **ret,
                                struct vt_diag *d)
{
        uint64_t size;
        int e = vt_store_ledger_size(store, &size, d);
        if (e < 0)
                return e;
        if (a > b || b > size)
                return vt_diag_set(d, VT_E_INVAL,
                                   "ledger: a consistency proof needs first <= second <= %" PRIu64
                                   " (the ledger's size)",
                                   size);
        vt_hash path[VT_MERKLE_MAX_PROOF];
        size_t n = 0;
        if ((e = vt_merkle_consistency_proof(a, b, store_node, store, path, &n)) < 0)
                return vt_diag_set(d, e, "ledger: no consistency proof: %s", vt_strerror(e));
        json_t *r = json_pack("{s:I, s:I, s:o}", "first", (json_int_t)a, "second", (json_int_t)b,
                              "proof", hex_array(path, n));
        if (!r)
                return VT_E_NOMEM;
        *ret = r;
        return 0;
}

/* path_of reads an array of at most VT_MERKLE_MAX_PROOF hex hashes. */
static int path_of(const json_t *a, vt_hash *path, size_t *ret_n, const char *what,
                   struct vt_diag *d)
{
        if (!json_is_array(a))
                return vt_diag_set(d, VT_E_FORMAT, "%s: not an array of hashes", what);
        size_t n = json_array_size(a);
        if (n > VT_MERKLE_MAX_PROOF)
                return vt_diag_set(d, VT_E_FORMAT, "%s: %zu hashes, more than %d", what, n,
                                   VT_MERKLE_MAX_PROOF);
        for (size_t i = 0; i < n; i++)
                if (hash_of(json_array_get(a, i), path[i]) < 0)
                        return vt_diag_set(d, VT_E_FORMAT, "%s[%zu]: not 64 lowercase hex", what,
                                           i);
        *ret_n = n;
        return 0;
}

int vt_ledger_receipt_verify(const char *json, size_t len, const json_t *jwks, uint64_t *ret_index,
                             struct vt_sth *ret_sth, struct vt_diag *d)
{
        if (!json || len > VT_LEDGER_MAX_RECEIPT)
                return vt_diag_set(d, VT_E_FORMAT, "receipt: absent or above %u bytes",
                                   VT_LEDGER_MAX_RECEIPT);
        json_error_t err;
        json_auto_t *r = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(r))
                return vt_diag_set(d, VT_E_FORMAT, "receipt: not a JSON object (%s)", err.text);
        const char *fmt = json_string_value(json_object_get(r, "format"));
        if (!fmt || strcmp(fmt, VT_RECEIPT_FORMAT) != 0)
                return vt_diag_set(d, VT_E_FORMAT, "receipt: format is not %s", VT_RECEIPT_FORMAT);
        uint64_t index, size;
        if (uint_of(json_object_get(r, "index"), &index) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "receipt: index is not an integer >= 0");
        if (uint_of(json_object_get(r, "tree_size"), &size) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "receipt: tree_size is not an integer >= 0");
        const json_t *entry = json_object_get(r, "entry");
        _cleanup_free_ char *text = NULL;
        size_t tl = 0;
        if (vt_ledger_entry_text(entry, &text, &tl) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "receipt: entry is not an object with a kind and a time");
        vt_hash path[VT_MERKLE_MAX_PROOF], leaf;
        size_t n = 0;
        int e = path_of(json_object_get(r, "inclusion_path"), path, &n, "receipt: inclusion_path",
                        d);
        if (e < 0)
                return e;
        struct vt_sth h;
        if ((e = vt_sth_verify(json_string_value(json_object_get(r, "sth")), jwks, &h, d)) < 0)
                return e;
        if (h.size != size)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "receipt: tree_size %" PRIu64 " is not the tree head's size "
                                   "%" PRIu64,
                                   size, h.size);
        if ((e = vt_merkle_leaf_hash(text, tl, leaf)) < 0)
                return e;
        if ((e = vt_merkle_verify_inclusion(leaf, index, size, path, n, h.root, d)) < 0)
                return e;
        if (ret_index)
                *ret_index = index;
        if (ret_sth)
                *ret_sth = h;
        return 0;
}

int vt_ledger_consistency_verify(const json_t *proof, const struct vt_sth *first,
                                 const struct vt_sth *second, struct vt_diag *d)
{
        uint64_t a, b;
        if (uint_of(json_object_get(proof, "first"), &a) < 0 ||
            uint_of(json_object_get(proof, "second"), &b) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "consistency proof: no first and second");
        if (a != first->size || b != second->size)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "consistency proof: between %" PRIu64 " and %" PRIu64
                                   ", not the tree heads' %" PRIu64 " and %" PRIu64,
                                   a, b, first->size, second->size);
        vt_hash path[VT_MERKLE_MAX_PROOF];
        size_t n = 0;
        int e = path_of(json_object_get(proof, "proof"), path, &n, "consistency proof", d);
        if (e < 0)
                return e;
        return vt_merkle_verify_consistency(a, b, first->root, second->root, path, n, d);
}
