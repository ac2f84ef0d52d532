/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger on a real SQLite store: concurrent appenders get one gapless sequence,
 * tree heads are signed by count and by time, receipts and consistency proofs verify
 * with the key only, and the audit finds every kind of tampering (an entry changed in
 * the database file, an entry deleted, the table truncated against a saved head, a head
 * re-signed with another key) and names where.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ledger/ledger.h"
#include "store/store.h"
#include "testutil.h"
#include "token/jwt.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

struct fx {
        char dir[256];
        char db[300];
        char key[300];
        struct vt_store *store;
        struct vt_signer *signer;
        json_t *jwks;
};

static void fx_open(struct fx *f)
{
        struct vt_diag d = {0};
        assert_int_equal(vt_store_open(f->db, &f->store, &d), 0);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        vt_test_fresh_dir(f->dir, sizeof(f->dir), "ledger");
        snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
        snprintf(f->key, sizeof(f->key), "%s/ledger.pem", f->dir);
        fx_open(f);
        struct vt_diag d = {0};
        assert_int_equal(vt_signer_load_or_create_as(f->key, "ledger key", &f->signer, &d), 0);
        json_t *k = vt_signer_jwk(f->signer);
        f->jwks = json_pack("{s:[o]}", "keys", k);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        vt_store_close(f->store);
        vt_signer_free(f->signer);
        json_decref(f->jwks);
        vt_test_rm_dir(f->dir);
        free(f);
        return 0;
}

struct app_arg {
        struct vt_ledger *l;
        int id, n;
        uint64_t *got;
};

static void *appender_thread(void *p)
{
        struct app_arg *a = p;
        for (int i = 0; i < a->n; i++) {
                json_auto_t *e = json_pack("{s:i, s:i}", "thread", a->id, "i", i);
                struct vt_diag d = {0};
                uint64_t idx = UINT64_MAX;
                int r = vt_ledger_append(a->l, "test", e, &idx, &d);
                if (r < 0)
                        fail_msg("append: %s", d.msg);
                a->got[i] = idx;
        }
        return NULL;
}

/* fill appends n entries from t threads and checks the indexes form 0..n-1 exactly. */
static void fill(struct fx *f, struct vt_ledger *l, int t, int per)
{
        uint64_t before;
        assert_int_equal(vt_store_ledger_size(f->store, &before, NULL), 0);
        pthread_t th[64];
        struct app_arg a[64];
        uint64_t *got = calloc((size_t)(t * per), sizeof(*got));
        for (int i = 0; i < t; i++) {
                a[i] = (struct app_arg){.l = l, .id = i, .n = per, .got = got + i * per};
                assert_int_equal(pthread_create(&th[i], NULL, appender_thread, &a[i]), 0);
        }
        for (int i = 0; i < t; i++)
                pthread_join(th[i], NULL);
        uint8_t *seen = calloc((size_t)(t * per), 1);
        for (int i = 0; i < t * per; i++) {
                assert_true(got[i] >= before && got[i] < before + (uint64_t)(t * per));
                assert_int_equal(seen[got[i] - before], 0);
                seen[got[i] - before] = 1;
        }
        free(seen);
        free(got);
        uint64_t after;
        assert_int_equal(vt_store_ledger_size(f->store, &after, NULL), 0);
        assert_int_equal(after, before + (uint64_t)(t * per));
}

static void audit_ok(struct fx *f, const char *saved, uint64_t want)
{
        struct vt_ledger_audit_result r;
        struct vt_diag d = {0};
        int e = vt_ledger_audit_store(f->store, f->jwks, saved, &r, &d);
        if (e < 0)
                fail_msg("audit: %s", d.msg);
        assert_int_equal(r.entries, want);
}

static void audit_fails(struct fx *f, const char *saved, const char *why)
{
        struct vt_ledger_audit_result r;
        struct vt_diag d = {0};
        int e = vt_ledger_audit_store(f->store, f->jwks, saved, &r, &d);
        if (e == 0)
                fail_msg("the audit passed; expected \"%s\"", why);
        if (!strstr(d.msg, why))
                fail_msg("audit said \"%s\"; expected \"%s\"", d.msg, why);
}

static void sql(struct fx *f, const char *q)
{
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        char *err = NULL;
        if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
                fail_msg("%s: %s", q, err);
        sqlite3_close(db);
}

static long long sql_int(struct fx *f, const char *q)
{
        return vt_test_db_int(f->db, q);
}

static void test_ledger_concurrent_appends(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {.sth_every = 50, .sth_ms = 100000};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        fill(f, l, 64, 20);
        vt_ledger_close(l); /* signs the rest */
        char *sth = NULL;
        uint64_t size = 0;
        assert_int_equal(vt_store_ledger_sth_latest(f->store, &size, &sth, NULL), 0);
        assert_int_equal(size, 1280);
        struct vt_sth h;
        struct vt_diag d = {0};
        assert_int_equal(vt_sth_verify(sth, f->jwks, &h, &d), 0);
        vt_hash root;
        assert_int_equal(vt_ledger_root(f->store, 1280, root, NULL), 0);
        assert_memory_equal(root, h.root, 32);
        free(sth);
        audit_ok(f, NULL, 1280);
}

struct mark_arg {
        struct vt_ledger *l;
        struct vt_store *store;
        int id, n;
};

/* mark_thread: sessions of its own, each attested with its entry (the appender's groups
 * and a caller's own turns alike), once, and a second mark of each refused as a replay */
static void *mark_thread(void *p)
{
        struct mark_arg *a = p;
        for (int i = 0; i < a->n; i++) {
                struct vt_session s = {.created = 1000, .expires = 2000};
                snprintf(s.id, sizeof(s.id), "%016x%016x", (unsigned)a->id, (unsigned)i);
                snprintf(s.tee, sizeof(s.tee), "sample");
                snprintf(s.nonce, sizeof(s.nonce), "n-%d-%d", a->id, i);
                if (vt_store_session_create(a->store, &s, 1000, 100000, NULL) < 0)
                        fail_msg("session create");
                char claims[64];
                snprintf(claims, sizeof(claims), "{\"t\":%d,\"i\":%d}", a->id, i);
                struct vt_store_session_mark m = {s.id, s.nonce, 1001, claims, 1900, 1};
                json_auto_t *e = json_pack("{s:i, s:i}", "thread", a->id, "i", i);
                struct vt_diag d = {0};
                if (vt_ledger_append_mark(a->l, "attest", e, i % 2 ? VT_LEDGER_DEFER_SYNC : 0, &m,
                                          NULL, &d) < 0)
                        fail_msg("append with a mark: %s", d.msg);
                if (m.result != 0)
                        fail_msg("mark %d/%d: %s", a->id, i, vt_strerror(m.result));
                char *got = NULL;
                if (vt_store_session_get_claims(a->store, s.id, 1002, &got, NULL) < 0 ||
                    strcmp(got, claims) != 0)
                        fail_msg("session %d/%d: not attested with its claims", a->id, i);
                free(got);
                m.result = 1;
                if (vt_ledger_append_mark(a->l, "attest", e, 0, &m, NULL, &d) < 0 ||
                    m.result != VT_E_REPLAY)
                        fail_msg("a second mark of %d/%d was not a replay", a->id, i);
        }
        return NULL;
}

/* Entries with session marks: every mark made once, in its entry's transaction, from
 * many threads at once; a mark without claims is refused before anything is queued. */
static void test_ledger_marks(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {.sth_every = 50, .sth_ms = 100000, .defer_ms = 20};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        pthread_t th[8];
        struct mark_arg a[8];
        for (int i = 0; i < 8; i++) {
                a[i] = (struct mark_arg){.l = l, .store = f->store, .id = i, .n = 25};
                assert_int_equal(pthread_create(&th[i], NULL, mark_thread, &a[i]), 0);
        }
        for (int i = 0; i < 8; i++)
                pthread_join(th[i], NULL);
        json_auto_t *e = json_pack("{s:i}", "x", 1);
        struct vt_store_session_mark bad = {"s", "n", 1, NULL, 2, 1};
        struct vt_diag d = {0};
        assert_int_equal(vt_ledger_append_mark(l, "attest", e, 0, &bad, NULL, &d), VT_E_INVAL);
        assert_int_equal(bad.result, 1);
        vt_ledger_close(l);
        audit_ok(f, NULL, 8 * 25 * 2);
}

/* Tree heads come every N entries, or T ms after the first unsigned one. */
static void test_ledger_sth_cadence(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {.sth_every = 10, .sth_ms = 200};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        fill(f, l, 1, 25); /* heads at 10 and 20 at least, by count */
        char *sth = NULL;
        uint64_t size = 0;
        assert_int_equal(vt_store_ledger_sth_latest(f->store, &size, &sth, NULL), 0);
        assert_true(size >= 20);
        free(sth);
        usleep(600 * 1000); /* the rest by time */
        assert_int_equal(vt_store_ledger_sth_latest(f->store, &size, &sth, NULL), 0);
        assert_int_equal(size, 25);
        free(sth);
        vt_ledger_close(l);
        audit_ok(f, NULL, 25);
}

static void test_ledger_receipts_and_consistency(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {.sth_every = 1000000, .sth_ms = 1000000};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        fill(f, l, 4, 10);
        /* no head covers them yet: the receipt asks for one */
        char *sth1 = NULL;
        uint64_t s1 = 0;
        struct vt_diag d = {0};
        assert_int_equal(vt_ledger_covering_sth(l, 39, &sth1, &s1, &d), 0);
        assert_int_equal(s1, 40);
        for (uint64_t i = 0; i < 40; i++) {
                json_auto_t *rc = NULL;
                assert_int_equal(vt_ledger_receipt_build(f->store, i, sth1, s1, &rc, &d), 0);
                _cleanup_free_ char *t = json_dumps(rc, JSON_COMPACT);
                uint64_t idx;
                struct vt_sth h;
                if (vt_ledger_receipt_verify(t, strlen(t), f->jwks, &idx, &h, &d) < 0)
                        fail_msg("receipt %llu: %s", (unsigned long long)i, d.msg);
                assert_int_equal(idx, i);
                /* a changed entry does not verify */
                json_object_set_new(json_object_get(rc, "entry"), "i", json_integer(99));
                _cleanup_free_ char *t2 = json_dumps(rc, JSON_COMPACT);
                vt_diag_clear(&d);
                assert_int_equal(vt_ledger_receipt_verify(t2, strlen(t2), f->jwks, NULL, NULL, &d),
                                 VT_E_SIGNATURE);
                assert_non_null(strstr(d.msg, "inclusion proof"));
        }
        assert_int_equal(vt_ledger_covering_sth(l, 40, &sth1 /* unchanged on error */, &s1, &d),
                         VT_E_NOTFOUND);
        fill(f, l, 2, 7);
        char *sth2 = NULL;
        uint64_t s2 = 0;
        assert_int_equal(vt_ledger_covering_sth(l, 53, &sth2, &s2, &d), 0);
        assert_int_equal(s2, 54);
        struct vt_sth h1, h2;
        assert_int_equal(vt_sth_verify(sth1, f->jwks, &h1, &d), 0);
        assert_int_equal(vt_sth_verify(sth2, f->jwks, &h2, &d), 0);
        json_auto_t *cp = NULL;
        assert_int_equal(vt_ledger_consistency_build(f->store, s1, s2, &cp, &d), 0);
        if (vt_ledger_consistency_verify(cp, &h1, &h2, &d) < 0)
                fail_msg("consistency: %s", d.msg);
        /* against the wrong pair */
        vt_diag_clear(&d);
        h1.root[0] ^= 1;
        assert_int_equal(vt_ledger_consistency_verify(cp, &h1, &h2, &d), VT_E_SIGNATURE);
        free(sth1);
        free(sth2);
        vt_ledger_close(l);

        /* a receipt whose head is signed by another key */
        struct vt_signer *other = NULL;
        char kp[320];
        snprintf(kp, sizeof(kp), "%s/other.pem", f->dir);
        assert_int_equal(vt_signer_load_or_create_as(kp, "ledger key", &other, NULL), 0);
        struct vt_sth h = {.size = 54, .time = 1};
        assert_int_equal(vt_ledger_root(f->store, 54, h.root, NULL), 0);
        char *forged = NULL;
        assert_int_equal(vt_sth_sign(other, &h, &forged), 0);
        json_auto_t *rc = NULL;
        assert_int_equal(vt_ledger_receipt_build(f->store, 3, forged, 54, &rc, &d), 0);
        _cleanup_free_ char *t = json_dumps(rc, JSON_COMPACT);
        vt_diag_clear(&d);
        assert_int_equal(vt_ledger_receipt_verify(t, strlen(t), f->jwks, NULL, NULL, &d),
                         VT_E_SIGNATURE);
        assert_non_null(strstr(d.msg, "no trusted key"));
        free(forged);
        vt_signer_free(other);
}

static void make_ledger(struct fx *f, int n, char **ret_saved)
{
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {.sth_every = 8, .sth_ms = 1000000};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        fill(f, l, 4, n / 4);
        uint64_t s;
        if (ret_saved)
                assert_int_equal(vt_ledger_covering_sth(l, (uint64_t)n - 1, ret_saved, &s, NULL),
                                 0);
        vt_ledger_close(l);
        audit_ok(f, ret_saved ? *ret_saved : NULL, (uint64_t)n);
}

/* receipts_verify builds and verifies the receipt of every entry below size against the
 * head sth of that size. */
static void receipts_verify(struct fx *f, const char *sth, uint64_t size)
{
        for (uint64_t i = 0; i < size; i++) {
                json_auto_t *rc = NULL;
                struct vt_diag d = {0};
                assert_int_equal(vt_ledger_receipt_build(f->store, i, sth, size, &rc, &d), 0);
                _cleanup_free_ char *t = json_dumps(rc, JSON_COMPACT);
                uint64_t idx;
                if (vt_ledger_receipt_verify(t, strlen(t), f->jwks, &idx, NULL, &d) < 0)
                        fail_msg("receipt %llu: %s", (unsigned long long)i, d.msg);
                assert_int_equal(idx, i);
        }
}

/* Schema 9: a group's inner nodes go into the rows of the entries that completed them,
 * none into ledger_nodes; nodes kept in ledger_nodes by a file written before are still
 * found, by receipts and by the frontier's reload; a changed node in a row makes the
 * receipts through it fail; a malformed one is refused by the file. */
static void test_ledger_nodes_in_rows(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {.sth_every = 1000000, .sth_ms = 1000000};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        fill(f, l, 4, 16); /* 64 entries: a complete tree of 63 inner nodes */
        vt_ledger_close(l);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger_nodes"), 0);
        /* the odd indexes complete nodes; entry 63 those of levels 1..6 */
        assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger_entries WHERE nodes IS NOT NULL"),
                         32);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger_entries WHERE nodes IS NOT "
                                    "NULL AND idx % 2 = 0"),
                         0);
        assert_int_equal(sql_int(f, "SELECT sum(length(nodes)) FROM ledger_entries"), 63 * 32);
        assert_int_equal(sql_int(f, "SELECT length(nodes) FROM ledger_entries WHERE idx = 63"),
                         6 * 32);

        /* as a file from before schema 9 has them: every node in ledger_nodes */
        sql(f, "WITH RECURSIVE lv(l) AS (SELECT 1 UNION ALL SELECT l + 1 FROM lv WHERE l < 6) "
               "INSERT INTO ledger_nodes (level, idx, hash) "
               "SELECT l, ((e.idx + 1) >> l) - 1, substr(e.nodes, 32 * l - 31, 32) "
               "FROM ledger_entries e JOIN lv ON length(e.nodes) >= 32 * l; "
               "UPDATE ledger_entries SET nodes = NULL");
        assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger_nodes"), 63);
        /* reopened: the frontier (the node of level 6) comes from ledger_nodes */
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        fill(f, l, 2, 5);
        char *sth = NULL;
        uint64_t size = 0;
        assert_int_equal(vt_ledger_covering_sth(l, 73, &sth, &size, NULL), 0);
        assert_int_equal(size, 74);
        vt_ledger_close(l);
        assert_int_equal(sql_int(f, "SELECT count(*) FROM ledger_nodes"), 63);
        assert_int_equal(sql_int(f, "SELECT sum(length(nodes)) FROM ledger_entries"), 8 * 32);
        receipts_verify(f, sth, 74);
        audit_ok(f, sth, 74);

        /* entry 67 completed (1, 33), the parent of 66 and 67: entry 64's path */
        sql(f, "UPDATE ledger_entries SET nodes = zeroblob(64) WHERE idx = 67");
        json_auto_t *rc = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_ledger_receipt_build(f->store, 64, sth, 74, &rc, &d), 0);
        _cleanup_free_ char *t = json_dumps(rc, JSON_COMPACT);
        assert_int_equal(vt_ledger_receipt_verify(t, strlen(t), f->jwks, NULL, NULL, &d),
                         VT_E_SIGNATURE);
        assert_non_null(strstr(d.msg, "inclusion proof"));
        audit_ok(f, sth, 74); /* the audit recomputes the tree from the entries */

        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db,
                                          "UPDATE ledger_entries SET nodes = zeroblob(31) "
                                          "WHERE idx = 1",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db,
                                          "UPDATE ledger_entries SET nodes = 'text' WHERE idx = 1",
                                          NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
        free(sth);
}

static void test_ledger_tamper_entry(void **state)
{
        struct fx *f = *state;
        make_ledger(f, 40, NULL);
        /* someone with the database file rewrites entry 17 */
        sql(f, "UPDATE ledger_entries SET entry = replace(entry, '\"test\"', '\"tesT\"') "
               "WHERE idx = 17");
        audit_fails(f, NULL, "entry 17 was changed after it was appended");
        /* ... and its leaf hash too (in the entry's row): the tree heads catch it */
        sql(f, "UPDATE ledger_entries SET leaf = zeroblob(32) WHERE idx = 17");
        audit_fails(f, NULL, "entry 17 was changed");
        sql(f, "UPDATE ledger_entries SET leaf = NULL WHERE idx = 17");
        /* heads are signed after groups, so their sizes depend on the interleaving: the
         * first one above 17 fails, and the range it names holds 17 */
        audit_fails(f, NULL, "do not match the signed tree head of size");
        struct vt_ledger_audit_result r;
        struct vt_diag d = {0};
        assert_int_not_equal(vt_ledger_audit_store(f->store, f->jwks, NULL, &r, &d), 0);
        const char *p = strstr(d.msg, "first bad index >= ");
        assert_non_null(p);
        unsigned long lo = strtoul(p + strlen("first bad index >= "), NULL, 10);
        const char *q = strstr(d.msg, "tree head of size ");
        assert_non_null(q);
        unsigned long hi = strtoul(q + strlen("tree head of size "), NULL, 10);
        assert_true(lo <= 17 && 17 < hi);
}

static void test_ledger_tamper_delete(void **state)
{
        struct fx *f = *state;
        make_ledger(f, 40, NULL);
        sql(f, "DELETE FROM ledger_entries WHERE idx = 5");
        audit_fails(f, NULL, "entry 5 is missing");
}

static void test_ledger_tamper_truncate(void **state)
{
        struct fx *f = *state;
        char *saved = NULL;
        make_ledger(f, 40, &saved);
        /* all of it: entries, nodes and heads; the auditor's saved head remembers */
        sql(f, "DELETE FROM ledger_entries WHERE idx >= 30; DELETE FROM ledger_nodes; "
               "DELETE FROM ledger_sths WHERE size > 30");
        audit_fails(f, saved, "fewer than the saved tree head's 40");
        audit_ok(f, NULL, 30); /* without it, nothing can tell */
        sql(f, "DELETE FROM ledger_entries; DELETE FROM ledger_sths");
        audit_fails(f, saved, "fewer than the saved tree head's 40");
        free(saved);
}

static void test_ledger_tamper_resigned(void **state)
{
        struct fx *f = *state;
        make_ledger(f, 16, NULL);
        struct vt_signer *other = NULL;
        char kp[320];
        snprintf(kp, sizeof(kp), "%s/other.pem", f->dir);
        assert_int_equal(vt_signer_load_or_create_as(kp, "ledger key", &other, NULL), 0);
        struct vt_sth h = {.size = 16, .time = 1};
        assert_int_equal(vt_ledger_root(f->store, 16, h.root, NULL), 0);
        char *forged = NULL;
        assert_int_equal(vt_sth_sign(other, &h, &forged), 0);
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, "UPDATE ledger_sths SET sth = ?1 WHERE size = 16",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, forged, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
        audit_fails(f, NULL, "tree head 1: tree head: no trusted key");
        free(forged);
        vt_signer_free(other);
}

/* Two processes' worth of appenders (two store handles, two ledgers) on one file form
 * one tree. */
static void test_ledger_two_appenders_one_file(void **state)
{
        struct fx *f = *state;
        struct vt_store *s2 = NULL;
        assert_int_equal(vt_store_open(f->db, &s2, NULL), 0);
        struct vt_ledger *a = NULL, *b = NULL;
        struct vt_ledger_opts o = {.sth_every = 16, .sth_ms = 50};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &a, NULL), 0);
        assert_int_equal(vt_ledger_open(s2, f->signer, &o, &b, NULL), 0);
        pthread_t th[8];
        struct app_arg args[8];
        uint64_t got[8][50];
        for (int i = 0; i < 8; i++) {
                args[i] = (struct app_arg){.l = i % 2 ? a : b, .id = i, .n = 50, .got = got[i]};
                assert_int_equal(pthread_create(&th[i], NULL, appender_thread, &args[i]), 0);
        }
        for (int i = 0; i < 8; i++)
                pthread_join(th[i], NULL);
        vt_ledger_close(a);
        vt_ledger_close(b);
        vt_store_close(s2);
        uint8_t seen[400] = {0};
        for (int i = 0; i < 8; i++)
                for (int j = 0; j < 50; j++) {
                        assert_true(got[i][j] < 400);
                        assert_int_equal(seen[got[i][j]], 0);
                        seen[got[i][j]] = 1;
                }
        audit_ok(f, NULL, 400);
}

/* A tree head given with a group is written in the group's transaction: it is there
 * when the append returns, and not at all when the append is refused. */
static void test_ledger_store_sth_with_group(void **state)
{
        struct fx *f = *state;
        struct vt_ledger_row rows[2] = {
                {.index = 0, .time = 1, .kind = "test", .entry = "{\"a\":1}", .entry_len = 7},
                {.index = 1, .time = 1, .kind = "test", .entry = "{\"a\":2}", .entry_len = 7},
        };
        struct vt_ledger_sth h = {.size = 2, .time = 5, .sth = "head-of-2"};
        struct vt_diag d = {0};
        /* of the wrong size: refused, nothing written */
        struct vt_ledger_sth bad = {.size = 1, .time = 5, .sth = "head-of-1"};
        assert_int_equal(vt_store_ledger_append_sth(f->store, 0, rows, 2, NULL, 0, &bad, &d),
                         VT_E_INVAL);
        uint64_t size = 0;
        assert_int_equal(vt_store_ledger_size(f->store, &size, NULL), 0);
        assert_int_equal(size, 0);
        assert_int_equal(vt_store_ledger_append_sth(f->store, 0, rows, 2, NULL, 0, &h, &d), 0);
        char *sth = NULL;
        assert_int_equal(vt_store_ledger_sth_latest(f->store, &size, &sth, NULL), 0);
        assert_int_equal(size, 2);
        assert_string_equal(sth, "head-of-2");
        free(sth);
        /* stale: neither the entries nor the head go in */
        struct vt_ledger_row more = {
                .index = 1, .time = 1, .kind = "test", .entry = "{\"a\":3}", .entry_len = 7};
        struct vt_ledger_sth h2 = {.size = 2, .time = 6, .sth = "other-head-of-2"};
        assert_int_equal(vt_store_ledger_append_sth(f->store, 1, &more, 1, NULL, 0, &h2, &d),
                         VT_E_STALE);
        assert_int_equal(vt_store_ledger_sth_latest(f->store, &size, &sth, NULL), 0);
        assert_string_equal(sth, "head-of-2");
        free(sth);
        more.index = 2;
        struct vt_ledger_sth h3 = {.size = 3, .time = 7, .sth = "head-of-3"};
        assert_int_equal(vt_store_ledger_append_sth(f->store, 2, &more, 1, NULL, 0, &h3, &d), 0);
        assert_int_equal(vt_store_ledger_sth_latest(f->store, &size, &sth, NULL), 0);
        assert_int_equal(size, 3);
        assert_string_equal(sth, "head-of-3");
        free(sth);
}

/* Heads by count come with the group that makes them due, of its size exactly. */
static int count_head(uint64_t size, int64_t time, const char *sth, void *ud)
{
        (void)time;
        (void)sth;
        uint64_t *v = ud;
        v[v[0] + 1] = size;
        v[0]++;
        return 0;
}

static void test_ledger_sth_every_exact(void **state)
{
        struct fx *f = *state;
        struct vt_ledger *l = NULL;
        struct vt_ledger_opts o = {.sth_every = 10, .sth_ms = 1000000};
        assert_int_equal(vt_ledger_open(f->store, f->signer, &o, &l, NULL), 0);
        fill(f, l, 1, 35); /* one caller: groups of one entry */
        uint64_t v[16] = {0};
        assert_int_equal(vt_store_ledger_sths(f->store, 0, 10, count_head, v, NULL), 0);
        assert_int_equal(v[0], 3);
        assert_int_equal(v[1], 10);
        assert_int_equal(v[2], 20);
        assert_int_equal(v[3], 30);
        vt_ledger_close(l); /* signs 35 */
        audit_ok(f, NULL, 35);
}

/* The ledger's writer does not checkpoint in its commits; the store's checkpointer keeps
 * the WAL bounded all the same while appends go on without a pause. Each group here
 * writes ~20 WAL frames (overflow pages of 16 KiB entries): 1800 groups would leave
 * ~36,000 frames (148 MB) in a WAL that nobody checkpoints. */
static void test_ledger_wal_bounded(void **state)
{
        struct fx *f = *state;
        enum { GROUPS = 1800, PER = 4, LEN = 16 * 1024 };
        char *text = malloc(LEN + 1);
        assert_non_null(text);
        memset(text, 'x', LEN);
        memcpy(text, "{\"p\":\"", 6);
        memcpy(text + LEN - 2, "\"}", 2);
        text[LEN] = 0;
        char wal[320];
        snprintf(wal, sizeof(wal), "%s-wal", f->db);
        long max = 0;
        for (uint64_t g = 0; g < GROUPS; g++) {
                struct vt_ledger_row rows[PER];
                for (int i = 0; i < PER; i++)
                        rows[i] = (struct vt_ledger_row){.index = g * PER + (uint64_t)i,
                                                         .time = 1,
                                                         .kind = "test",
                                                         .entry = text,
                                                         .entry_len = LEN};
                struct vt_diag d = {0};
                if (vt_store_ledger_append(f->store, g * PER, rows, PER, NULL, 0, &d) < 0)
                        fail_msg("append: %s", d.msg);
                struct stat st;
                if (stat(wal, &st) == 0 && st.st_size > max)
                        max = st.st_size;
        }
        free(text);
        /* 3000 pages (the checkpointer's threshold) and what the writer adds while a
         * checkpoint runs, with room for a loaded machine (6,100 frames were seen with a
         * parallel build starving the checkpointer's thread, 11,480 on a machine whose
         * syncs of the WAL are fast and of the database slow: the writer goes on while the
         * checkpoint syncs, 15,460 there once); half the 36,000 frames of no checkpoint at
         * all */
        long bound = 18000L * (4096 + 24) + 32;
        print_message("the WAL reached %ld bytes\n", max);
        if (max > bound)
                fail_msg("the WAL reached %ld bytes (bound %ld)", max, bound);
        uint64_t size = 0;
        assert_int_equal(vt_store_ledger_size(f->store, &size, NULL), 0);
        assert_int_equal(size, (uint64_t)GROUPS * PER);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_ledger_concurrent_appends, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_marks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_sth_cadence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_receipts_and_consistency, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ledger_nodes_in_rows, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_tamper_entry, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_tamper_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_tamper_truncate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_tamper_resigned, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_two_appenders_one_file, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ledger_store_sth_with_group, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_sth_every_exact, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ledger_wal_bounded, setup, teardown),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
