/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger in the server: recording decisions (attestation verdicts, releases and
 * denials, admin changes) through lib/ledger's appender, and the read API under
 * /ledger/ (tree heads, entries, receipts, consistency proofs, the key). An entry holds
 * names, verdicts and digests: never a secret, a token, a nonce or raw evidence.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/digest.h"
#include "ledger/ledger.h"
#include "server.h"
#include "token/admin.h"
#include "util/hex.h"
#include "util/json.h"

#define API_PAGE 1000u

int vtd_ledger_init(struct vtd *s, struct vt_diag *d)
{
        int e;
        /* On SQLite the server's own store: the ledger appends on its connection and syncs
         * outside its lock (lib/store/sqlite.c), and a second connection's every commit
         * would empty this one's page cache. On PostgreSQL a pool of its own, as before:
         * its commits wait for the server's sync, holding connections that sessions and
         * releases would otherwise wait for. */
        if (s->cfg.store_backend != VTD_STORE_POSTGRES)
                s->ledger_store = s->store;
        else if ((e = vtd_store_open(&s->cfg, &s->ledger_store, d)) < 0)
                return e;
        /* The /ledger/ API (public by default) reads through a connection of its own on
         * SQLite, so that many page or receipt reads queue on its lock, not on the one
         * that sessions and appends share. It only reads: it empties no other
         * connection's page cache. */
        if (s->cfg.store_backend != VTD_STORE_POSTGRES) {
                if ((e = vtd_store_open(&s->cfg, &s->ledger_reads, d)) < 0)
                        return e;
        } else {
                s->ledger_reads = s->ledger_store;
        }
        if ((e = vt_signer_load_or_create_as(s->cfg.ledger_key, "ledger key", &s->ledger_signer,
                                             d)) < 0)
                return e;
        struct vt_ledger_opts o = {.sth_every = s->cfg.sth_every,
                                   .sth_ms = (int64_t)s->cfg.sth_ms,
                                   .defer_ms = (int64_t)s->cfg.attest_sync_ms};
        return vt_ledger_open(s->ledger_store, s->ledger_signer, &o, &s->ledger, d);
}

void vtd_ledger_done(struct vtd *s)
{
        vt_ledger_close(s->ledger);
        s->ledger = NULL;
        if (s->ledger_reads != s->ledger_store)
                vt_store_close(s->ledger_reads);
        s->ledger_reads = NULL;
        if (s->ledger_store != s->store)
                vt_store_close(s->ledger_store);
        s->ledger_store = NULL;
        vt_signer_free(s->ledger_signer);
        s->ledger_signer = NULL;
}

void vtd_sha256_tag_of(const uint8_t h[static 32], char out[static VTD_SHA256_TAG])
{
        memcpy(out, "sha256:", 7);
        vt_hex_encode(h, 32, out + 7);
}

void vtd_sha256_tag(const void *p, size_t n, char out[static VTD_SHA256_TAG])
{
        uint8_t h[32];
        if (!EVP_Digest(p, n, h, NULL, vt_sha256(), NULL)) {
                memcpy(out, "sha256:?", 9);
                return;
        }
        vtd_sha256_tag_of(h, out);
}

int vtd_json_digest(const json_t *v, char out[static VTD_SHA256_TAG])
{
        return vtd_json_digest_spans(v, NULL, out);
}

int vtd_json_digest_spans(const json_t *v, const struct vt_json_spans *spans,
                          char out[static VTD_SHA256_TAG])
{
        uint8_t h[32];
        int e = vt_jcs_digest_spans(v, spans, vt_sha256(), h, sizeof(h));
        if (e < 0)
                return e;
        vtd_sha256_tag_of(h, out);
        return 0;
}

int vtd_ledger_record(struct vtd *s, struct vtd_request *req, const char *kind, json_t *entry)
{
        return vtd_ledger_record_flags(s, req, kind, entry, 0);
}

int vtd_ledger_record_flags(struct vtd *s, struct vtd_request *req, const char *kind, json_t *entry,
                            unsigned flags)
{
        return vtd_ledger_record_mark(s, req, kind, entry, flags, NULL);
}

int vtd_ledger_record_mark(struct vtd *s, struct vtd_request *req, const char *kind, json_t *entry,
                           unsigned flags, struct vt_store_session_mark *mark)
{
        json_auto_t *e = entry;
        if (!s->ledger)
                return 0;
        if (!e)
                return VT_E_NOMEM;
        if (req && json_object_set_new(e, "request_id", json_string(req->id)) < 0)
                return VT_E_NOMEM;
        struct vt_diag d = {0};
        uint64_t idx;
        int r = vt_ledger_append_mark(s->ledger, kind, e, flags, mark, &idx, &d);
        if (r < 0) {
                vtd_log("error", "ledger: cannot record a %s entry: %s", kind, d.msg);
                return r;
        }
        return 0;
}

/*
 * The read API.
 */

bool vtd_ledger_reader(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (!s->ledger) {
                vtd_problem(res, req, 404, "LedgerNotFound", "the ledger is not enabled");
                return false;
        }
        if (s->cfg.ledger_public)
                return true;
        return vtd_admin_check(s, req, VT_ADMIN_READ, NULL, NULL, res) == 0;
}

/* uint_param reads ?key= as a decimal integer (no sign, no leading '+'); absent: def,
 * or a 400 when def is UINT64_MAX. */
static bool uint_param(struct vtd_request *req, const char *key, uint64_t def, uint64_t *ret,
                       struct vtd_response *res)
{
        const char *v = vtd_query(req, key);
        if (!v) {
                if (def == UINT64_MAX) {
                        vtd_problem(res, req, 400, "InvalidRequest", "?%s= is required", key);
                        return false;
                }
                *ret = def;
                return true;
        }
        uint64_t x = 0;
        size_t n = strlen(v);
        bool ok = n > 0 && n <= 19;
        for (size_t i = 0; ok && i < n; i++) {
                ok = v[i] >= '0' && v[i] <= '9';
                x = x * 10 + (uint64_t)(v[i] - '0');
        }
        if (!ok || x > INT64_MAX) {
                vtd_problem(res, req, 400, "InvalidRequest", "?%s= must be a decimal integer", key);
                return false;
        }
        *ret = x;
        return true;
}

static void store_unavailable(struct vtd_request *req, struct vtd_response *res,
                              const struct vt_diag *d)
{
        vtd_problem(res, req, 503, "StoreError", "the store is unavailable");
        res->retry_after = 1;
        snprintf(req->reason, sizeof(req->reason), "ledger: %.300s", d->msg);
}

void vtd_ledger_api_sth(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (!vtd_ledger_reader(s, req, res))
                return;
        _cleanup_free_ char *sth = NULL;
        uint64_t size = 0;
        struct vt_diag d = {0};
        int e = vt_ledger_covering_sth(s->ledger, UINT64_MAX, &sth, &size, &d);
        if (e == VT_E_NOTFOUND) {
                vtd_problem(res, req, 404, "LedgerEmpty", "no tree head has been signed yet");
                return;
        }
        if (e < 0) {
                store_unavailable(req, res, &d);
                return;
        }
        vtd_json_response(res, 200, json_pack("{s:I, s:s}", "size", (json_int_t)size, "sth", sth));
}

static int add_sth(uint64_t size, int64_t time, const char *sth, void *ud)
{
        json_t *o = json_pack("{s:I, s:I, s:s}", "size", (json_int_t)size, "time", (json_int_t)time,
                              "sth", sth);
        return o && json_array_append_new(ud, o) == 0 ? 0 : VT_E_NOMEM;
}

void vtd_ledger_api_sths(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        uint64_t start, limit;
        if (!vtd_ledger_reader(s, req, res) || !uint_param(req, "start", 0, &start, res) ||
            !uint_param(req, "limit", API_PAGE, &limit, res))
                return;
        if (limit == 0 || limit > API_PAGE) {
                vtd_problem(res, req, 400, "InvalidRequest", "?limit= must be 1..%u", API_PAGE);
                return;
        }
        json_auto_t *a = json_array();
        struct vt_diag d = {0};
        int e = a ? vt_store_ledger_sths(s->ledger_reads, start, (size_t)limit, add_sth, a, &d)
                  : VT_E_NOMEM;
        if (e < 0) {
                store_unavailable(req, res, &d);
                return;
        }
        vtd_json_response(res, 200, json_pack("{s:O}", "sths", a));
}

static int add_entry(const struct vt_ledger_row *row, void *ud)
{
        json_t *entry = json_loadb(row->entry, row->entry_len, JSON_REJECT_DUPLICATES, NULL);
        if (!entry)
                return VT_E_FORMAT;
        json_t *o = json_pack("{s:I, s:o}", "index", (json_int_t)row->index, "entry", entry);
        return o && json_array_append_new(ud, o) == 0 ? 0 : VT_E_NOMEM;
}

void vtd_ledger_api_entries(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        uint64_t start, end, size;
        if (!vtd_ledger_reader(s, req, res) || !uint_param(req, "start", 0, &start, res) ||
            !uint_param(req, "end", UINT64_MAX - 1, &end, res))
                return;
        struct vt_store *st = s->ledger_reads;
        struct vt_diag d = {0};
        if (vt_store_ledger_size(st, &size, &d) < 0) {
                store_unavailable(req, res, &d);
                return;
        }
        if (end > size)
                end = size;
        if (start > end) {
                vtd_problem(res, req, 400, "InvalidRequest",
                            "?start= is past the end (the ledger has %" PRIu64 " entries)", size);
                return;
        }
        if (end - start > API_PAGE)
                end = start + API_PAGE;
        json_auto_t *a = json_array();
        int e = a ? vt_store_ledger_entries(st, start, end, add_entry, a, &d) : VT_E_NOMEM;
        if (e < 0) {
                store_unavailable(req, res, &d);
                return;
        }
        vtd_json_response(res, 200,
                          json_pack("{s:I, s:I, s:I, s:O}", "size", (json_int_t)size, "start",
                                    (json_int_t)start, "end", (json_int_t)end, "entries", a));
}

void vtd_ledger_api_receipt(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (!vtd_ledger_reader(s, req, res))
                return;
        const char *v = req->rest;
        uint64_t index = 0;
        size_t n = strlen(v);
        bool ok = n > 0 && n <= 19;
        for (size_t i = 0; ok && i < n; i++) {
                ok = v[i] >= '0' && v[i] <= '9';
                index = index * 10 + (uint64_t)(v[i] - '0');
        }
        if (!ok || index > INT64_MAX) {
                vtd_problem(res, req, 400, "InvalidRequest",
                            "/ledger/receipts/{index}: the index is a decimal integer");
                return;
        }
        _cleanup_free_ char *sth = NULL;
        uint64_t size = 0;
        struct vt_diag d = {0};
        int e = vt_ledger_covering_sth(s->ledger, index, &sth, &size, &d);
        if (e == VT_E_NOTFOUND) {
                vtd_problem(res, req, 404, "EntryNotFound", "%.300s", d.msg);
                return;
        }
        if (e < 0) {
                store_unavailable(req, res, &d);
                return;
        }
        json_t *r = NULL;
        if ((e = vt_ledger_receipt_build(s->ledger_reads, index, sth, size, &r, &d)) < 0) {
                store_unavailable(req, res, &d);
                return;
        }
        vtd_json_response(res, 200, r);
}

void vtd_ledger_api_consistency(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        uint64_t a, b;
        if (!vtd_ledger_reader(s, req, res) || !uint_param(req, "first", UINT64_MAX, &a, res) ||
            !uint_param(req, "second", UINT64_MAX, &b, res))
                return;
        json_t *p = NULL;
        struct vt_diag d = {0};
        int e = vt_ledger_consistency_build(s->ledger_reads, a, b, &p, &d);
        if (e == VT_E_INVAL) {
                vtd_problem(res, req, 400, "InvalidRequest", "%.300s", d.msg);
                return;
        }
        if (e < 0) {
                store_unavailable(req, res, &d);
                return;
        }
        vtd_json_response(res, 200, p);
}

void vtd_ledger_api_jwks(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        if (!vtd_ledger_reader(s, req, res))
                return;
        vtd_json_response(res, 200, vt_ledger_jwks(s->ledger));
}
