/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `veritee ledger` against a ledger built through the library in a temporary SQLite file:
 * verify --db and --file (after export) pass and print the counts with each key form
 * (private PEM, public PEM, JWKS); an entry changed or deleted in the database file, a
 * ledger truncated below a head saved with --save-sth, a wrong key: each exits 1 with
 * the reason naming the index. Receipts built with vt_ledger_receipt_build verify, and a
 * changed one does not. The export reader refuses every truncation of a valid export.
 * `veritee bench ledger` runs and prints its figures.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <sqlite3.h>

#include "httpd.h"
#include "ledger/export.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "testutil.h"
#include "token/jwt.h"
#include "util/file.h"
#include "util/macro.h"

#define N_ENTRIES 40

struct fx {
        char dir[256];
        char db[320], key[320], pub[320], jwks[320], other[320], out[320];
        char bin[512];
        char *text; /* the last command's stdout and stderr */
};

static void write_file(const char *path, const char *text)
{
        assert_int_equal(vt_write_file_atomic(path, text, strlen(text), 0600), 0);
}

/* build makes a ledger of N_ENTRIES entries (tree heads every 8) signed with f->key. */
static void build(struct fx *f)
{
        struct vt_store *store = NULL;
        struct vt_signer *signer = NULL;
        struct vt_ledger *l = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_store_open(f->db, &store, &d), 0);
        assert_int_equal(vt_signer_load_or_create_as(f->key, "ledger key", &signer, &d), 0);
        struct vt_ledger_opts o = {.sth_every = 8, .sth_ms = 1000000};
        assert_int_equal(vt_ledger_open(store, signer, &o, &l, &d), 0);
        for (int i = 0; i < N_ENTRIES; i++) {
                json_auto_t *e = json_pack("{s:i, s:s}", "i", i, "resource", "default/db/pw");
                uint64_t idx;
                if (vt_ledger_append(l, "test", e, &idx, &d) < 0)
                        fail_msg("append: %s", d.msg);
                assert_int_equal(idx, (uint64_t)i);
        }
        vt_ledger_close(l); /* signs the rest */

        /* the key's other forms: a public PEM and a JWKS */
        json_auto_t *jwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(signer));
        _cleanup_free_ char *jt = json_dumps(jwks, JSON_COMPACT);
        write_file(f->jwks, jt);
        FILE *in = fopen(f->key, "r");
        assert_non_null(in);
        EVP_PKEY *pk = PEM_read_PrivateKey(in, NULL, NULL, NULL);
        fclose(in);
        assert_non_null(pk);
        FILE *out = fopen(f->pub, "w");
        assert_non_null(out);
        assert_int_equal(PEM_write_PUBKEY(out, pk), 1);
        fclose(out);
        EVP_PKEY_free(pk);
        vt_signer_free(signer);
        vt_store_close(store);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        vt_test_fresh_dir(f->dir, sizeof(f->dir), "cli-ledger");
        snprintf(f->db, sizeof(f->db), "%s/db.sqlite", f->dir);
        snprintf(f->key, sizeof(f->key), "%s/ledger.pem", f->dir);
        snprintf(f->pub, sizeof(f->pub), "%s/ledger.pub.pem", f->dir);
        snprintf(f->jwks, sizeof(f->jwks), "%s/ledger.jwks", f->dir);
        snprintf(f->other, sizeof(f->other), "%s/other.pem", f->dir);
        snprintf(f->out, sizeof(f->out), "%s/out.txt", f->dir);
        const char *b = getenv("VT_BIN");
        snprintf(f->bin, sizeof(f->bin), "%s/veritee", b ? b : "build/bin");
        build(f);
        struct vt_signer *other = NULL;
        assert_int_equal(vt_signer_load_or_create_as(f->other, "other key", &other, NULL), 0);
        vt_signer_free(other);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        free(f->text);
        vt_test_rm_dir(f->dir);
        free(f);
        return 0;
}

/* run runs `veritee ARGS` (a printf format) with stdout and stderr into f->text and
 * returns its exit status. */
__attribute__((format(printf, 2, 3))) static int run(struct fx *f, const char *fmt, ...)
{
        char args[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(args, sizeof(args), fmt, ap);
        va_end(ap);
        int st = vt_test_sh("%s %s >%s 2>&1", f->bin, args, f->out);
        free(f->text);
        size_t n;
        f->text = (char *)vt_test_load(f->out, &n);
        print_message("$ veritee %s -> %d\n%s", args, st, f->text);
        return st;
}

static void has(const struct fx *f, const char *what)
{
        if (!strstr(f->text, what))
                fail_msg("expected \"%s\" in the output", what);
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

static void test_cli_ledger_verify_db(void **state)
{
        struct fx *f = *state;
        const char *keys[] = {f->key, f->pub, f->jwks};
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(run(f, "ledger verify --db %s --key %s", f->db, keys[i]), 0);
                has(f, "ledger verified: 40 entries, ");
                has(f, " signed tree heads, root ");
                has(f, "latest head size 40 signed ");
        }
        assert_int_equal(run(f, "ledger verify --db %s --key %s --json", f->db, f->pub), 0);
        has(f, "\"verified\":true");
        has(f, "\"entries\":40");
        /* --db needs a key; a key of another ledger is refused, naming the head */
        assert_int_equal(run(f, "ledger verify --db %s", f->db), 2);
        has(f, "--db needs --key");
        assert_int_equal(run(f, "ledger verify --db %s --key %s", f->db, f->other), 1);
        has(f, "veritee: ledger verify: tree head 0: tree head: no trusted key");
        /* a missing database is not created */
        assert_int_equal(run(f, "ledger verify --db %s/none.sqlite --key %s", f->dir, f->pub), 2);
        assert_int_not_equal(access(f->db, F_OK), -1);
}

static void test_cli_ledger_export_file(void **state)
{
        struct fx *f = *state;
        char exp[400];
        snprintf(exp, sizeof(exp), "%s/export.json", f->dir);
        assert_int_equal(run(f, "ledger export --db %s --key %s --out %s", f->db, f->pub, exp), 0);
        assert_int_equal(run(f, "ledger verify --file %s --key %s", exp, f->jwks), 0);
        has(f, "ledger verified: 40 entries, ");
        has(f, "latest head size 40 signed ");
        /* without --key: the file's own key, with the warning */
        assert_int_equal(run(f, "ledger verify --file %s", exp), 0);
        has(f, "WARNING: no --key");
        has(f, "ledger verified: 40 entries, ");
        assert_int_equal(run(f, "ledger verify --file %s --key %s", exp, f->other), 1);
        has(f, "no trusted key");
        /* export refuses --db without a key */
        assert_int_equal(run(f, "ledger export --db %s", f->db), 2);
}

static void test_cli_ledger_tamper_entry(void **state)
{
        struct fx *f = *state;
        char exp[400];
        snprintf(exp, sizeof(exp), "%s/export.json", f->dir);
        sql(f, "UPDATE ledger_entries SET entry = replace(entry, '\"test\"', '\"tesT\"') "
               "WHERE idx = 17");
        assert_int_equal(run(f, "ledger verify --db %s --key %s", f->db, f->pub), 1);
        has(f, "veritee: ledger verify: entry 17 was changed after it was appended");
        /* an export carries no leaf hashes: the tree heads find it */
        assert_int_equal(run(f, "ledger export --db %s --key %s --out %s", f->db, f->pub, exp), 0);
        assert_int_equal(run(f, "ledger verify --file %s --key %s --json", exp, f->pub), 1);
        has(f, "do not match the signed tree head of size 24");
        has(f, "first bad index >= 16");
        has(f, "\"verified\":false");
}

static void test_cli_ledger_tamper_delete(void **state)
{
        struct fx *f = *state;
        sql(f, "DELETE FROM ledger_entries WHERE idx = 5");
        assert_int_equal(run(f, "ledger verify --db %s --key %s", f->db, f->key), 1);
        has(f, "veritee: ledger verify: entry 5 is missing");
}

static void test_cli_ledger_truncate_saved(void **state)
{
        struct fx *f = *state;
        char saved[400];
        snprintf(saved, sizeof(saved), "%s/saved.sth", f->dir);
        assert_int_equal(
                run(f, "ledger verify --db %s --key %s --save-sth %s", f->db, f->pub, saved), 0);
        assert_int_equal(run(f, "ledger verify --db %s --key %s --sth %s", f->db, f->pub, saved),
                         0);
        sql(f, "DELETE FROM ledger_entries WHERE idx >= 30; DELETE FROM ledger_nodes; "
               "DELETE FROM ledger_sths WHERE size > 30");
        assert_int_equal(run(f, "ledger verify --db %s --key %s --sth %s", f->db, f->pub, saved),
                         1);
        has(f, "fewer than the saved tree head's 40: entries 30.. were removed");
        /* without the saved head nothing can tell */
        assert_int_equal(run(f, "ledger verify --db %s --key %s", f->db, f->pub), 0);
        has(f, "ledger verified: 30 entries");
}

static void test_cli_ledger_verify_receipt(void **state)
{
        struct fx *f = *state;
        struct vt_store *store = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_store_open(f->db, &store, &d), 0);
        _cleanup_free_ char *sth = NULL;
        uint64_t size = 0;
        assert_int_equal(vt_store_ledger_sth_latest(store, &size, &sth, &d), 0);
        json_auto_t *rc = NULL;
        assert_int_equal(vt_ledger_receipt_build(store, 3, sth, size, &rc, &d), 0);
        vt_store_close(store);
        char path[400], bad[400];
        snprintf(path, sizeof(path), "%s/receipt.json", f->dir);
        snprintf(bad, sizeof(bad), "%s/bad.json", f->dir);
        _cleanup_free_ char *t = json_dumps(rc, JSON_INDENT(2));
        write_file(path, t);
        assert_int_equal(run(f, "ledger verify-receipt %s --key %s", path, f->pub), 0);
        has(f, "receipt verified: entry 3 (kind test, time ");
        has(f, "tree of 40 entries");
        assert_int_equal(run(f, "ledger verify-receipt --key %s %s --json", f->jwks, path), 0);
        has(f, "\"index\":3");
        /* another key, a changed entry */
        assert_int_equal(run(f, "ledger verify-receipt %s --key %s", path, f->other), 1);
        has(f, "no trusted key");
        json_object_set_new(json_object_get(rc, "entry"), "i", json_integer(4));
        _cleanup_free_ char *t2 = json_dumps(rc, JSON_COMPACT);
        write_file(bad, t2);
        assert_int_equal(run(f, "ledger verify-receipt %s --key %s", bad, f->pub), 1);
        has(f, "veritee: ledger verify-receipt: ");
        has(f, "inclusion proof");
        assert_int_equal(run(f, "ledger verify-receipt %s", path), 2);
}

/* Every truncation of a valid export is refused, with a reason. */
static void test_cli_ledger_export_truncations(void **state)
{
        struct fx *f = *state;
        char exp[400];
        snprintf(exp, sizeof(exp), "%s/export.json", f->dir);
        assert_int_equal(run(f, "ledger export --db %s --key %s --out %s", f->db, f->pub, exp), 0);
        size_t n;
        _cleanup_free_ char *text = (char *)vt_test_load(exp, &n);
        json_auto_t *jwks = json_loadb(text, n, 0, NULL); /* small: a whole parse is fine */
        assert_non_null(jwks);
        struct vt_ledger_export *x = NULL;
        struct vt_ledger_audit_result r;
        struct vt_diag d = {0};
        assert_int_equal(vt_ledger_export_parse(text, n, &x, &d), 0);
        assert_int_equal(
                vt_ledger_export_audit(x, json_object_get(jwks, "jwks"), NULL, &r, NULL, &d), 0);
        assert_int_equal(r.entries, N_ENTRIES);
        vt_ledger_export_free(x);
        for (size_t k = 0; k + 1 < n; k++) { /* the last byte is a newline */
                vt_diag_clear(&d);
                x = NULL;
                int e = vt_ledger_export_parse(text, k, &x, &d);
                if (e == 0)
                        fail_msg("a prefix of %zu of %zu bytes parsed", k, n);
                assert_true(d.msg[0] != 0);
        }
}

/*
 * --server against the API as documented (GET /ledger/jwks, /ledger/sths,
 * /ledger/entries, /ledger/consistency, /ledger/receipts/N), its answers made by the
 * library from the fixture's store and served by the test HTTP server.
 */
struct api {
        struct test_route r[32];
        char *paths[32], *bodies[32];
        size_t n;
};

static void api_add(struct api *a, char *path, json_t *body)
{
        assert_true(a->n < 32);
        assert_non_null(path);
        assert_non_null(body);
        a->paths[a->n] = path;
        a->bodies[a->n] = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        a->r[a->n] = (struct test_route){
                .path = path, .body = a->bodies[a->n], .body_len = strlen(a->bodies[a->n])};
        a->n++;
}

static void api_free(struct api *a)
{
        for (size_t i = 0; i < a->n; i++) {
                free(a->paths[i]);
                free(a->bodies[i]);
        }
}

static int sth_row(uint64_t size, int64_t time, const char *sth, void *ud)
{
        json_array_append_new(ud, json_pack("{s:I, s:I, s:s}", "size", (json_int_t)size, "time",
                                            (json_int_t)time, "sth", sth));
        return 0;
}

static int entry_row(const struct vt_ledger_row *row, void *ud)
{
        json_t *e = json_loadb(row->entry, row->entry_len, 0, NULL);
        json_array_append_new(ud,
                              json_pack("{s:I, s:o}", "index", (json_int_t)row->index, "entry", e));
        return 0;
}

/* api_build makes the answers: tamper 1 changes entry 17, tamper 2 a consistency proof. */
static void api_build(struct fx *f, struct api *a, int tamper)
{
        struct vt_store *store = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_store_open(f->db, &store, &d), 0);
        size_t n;
        _cleanup_free_ char *jt = (char *)vt_test_load(f->jwks, &n);
        api_add(a, strdup("/ledger/jwks"), json_loads(jt, 0, NULL));
        json_t *sths = json_array(), *entries = json_array();
        assert_int_equal(vt_store_ledger_sths(store, 0, 1000, sth_row, sths, &d), 0);
        assert_int_equal(vt_store_ledger_entries(store, 0, 1000, entry_row, entries, &d), 0);
        if (tamper == 1)
                json_object_set_new(json_object_get(json_array_get(entries, 17), "entry"), "i",
                                    json_integer(99));
        uint64_t prev = 0;
        size_t i;
        json_t *v;
        json_array_foreach (sths, i, v) {
                uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "size"));
                if (prev) {
                        json_t *p = NULL;
                        assert_int_equal(vt_ledger_consistency_build(store, prev, size, &p, &d), 0);
                        if (tamper == 2 && i == 2)
                                json_array_set_new(json_object_get(p, "proof"), 0,
                                                   json_string("00000000000000000000000000000000"
                                                               "00000000000000000000000000000000"));
                        char *path = NULL;
                        assert_true(asprintf(&path, "/ledger/consistency?first=%llu&second=%llu",
                                             (unsigned long long)prev,
                                             (unsigned long long)size) > 0);
                        api_add(a, path, p);
                }
                prev = size;
        }
        /* from a saved head of size 16 to the latest */
        json_t *p16 = NULL;
        assert_int_equal(vt_ledger_consistency_build(store, 16, N_ENTRIES, &p16, &d), 0);
        api_add(a, strdup("/ledger/consistency?first=16&second=40"), p16);
        const char *latest = json_string_value(json_object_get(json_array_get(sths, 4), "sth"));
        json_t *rc = NULL;
        assert_int_equal(vt_ledger_receipt_build(store, 3, latest, N_ENTRIES, &rc, &d), 0);
        api_add(a, strdup("/ledger/receipts/3"), rc);
        api_add(a, strdup("/ledger/sths?start=0&limit=1000"), json_pack("{s:o}", "sths", sths));
        api_add(a, strdup("/ledger/entries?start=0&end=1000"),
                json_pack("{s:o}", "entries", entries));
        vt_store_close(store);
}

/* sths_of returns the parsed answer of /ledger/sths (kept until the next call). */
static json_t *sths_of(const struct api *a)
{
        static json_t *j;
        json_decref(j);
        j = NULL;
        for (size_t i = 0; i < a->n; i++)
                if (strncmp(a->paths[i], "/ledger/sths", 12) == 0)
                        j = json_loads(a->bodies[i], 0, NULL);
        assert_non_null(j);
        return j;
}

static void test_cli_ledger_server(void **state)
{
        struct fx *f = *state;
        struct api a = {0};
        api_build(f, &a, 0);
        struct test_httpd *h = test_httpd_start(a.r, a.n);
        assert_non_null(h);
        char url[64], tok[400], exp[400], rcpt[400];
        test_httpd_url(h, url, sizeof(url));
        snprintf(tok, sizeof(tok), "%s/token", f->dir);
        snprintf(exp, sizeof(exp), "%s/export.json", f->dir);
        snprintf(rcpt, sizeof(rcpt), "%s/receipt.json", f->dir);
        write_file(tok, "not.checked.by-the-test-server\n"); /* JWT-shaped: the CLI checks */

        assert_int_equal(run(f, "ledger verify --server %s --token %s --key %s", url, tok, f->pub),
                         0);
        has(f, "ledger verified: 40 entries, 5 signed tree heads, 4 consistency proofs, root ");
        /* without --key: the server's key, with its thumbprint and the advice */
        assert_int_equal(run(f, "ledger verify --server %s --token %s", url, tok), 0);
        has(f, "trusting the ledger key the server sent (kid ");
        has(f, "--key PEM|JWKS");
        assert_int_equal(
                run(f, "ledger verify --server %s --token %s --key %s", url, tok, f->other), 1);
        has(f, "no trusted key");
        /* a head saved at size 16: the ledger still holds it, and the server proves it */
        char saved[400];
        snprintf(saved, sizeof(saved), "%s/saved.sth", f->dir);
        write_file(saved, json_string_value(json_object_get(
                                  json_array_get(json_object_get(sths_of(&a), "sths"), 1), "sth")));
        assert_int_equal(run(f, "ledger verify --server %s --token %s --key %s --sth %s", url, tok,
                             f->pub, saved),
                         0);
        has(f, "5 signed tree heads, 5 consistency proofs");
        assert_int_equal(run(f, "ledger export --server %s --token %s --out %s", url, tok, exp), 0);
        assert_int_equal(run(f, "ledger verify --file %s --key %s", exp, f->key), 0);
        has(f, "ledger verified: 40 entries, 5 signed tree heads, root ");
        assert_int_equal(run(f, "ledger receipt 3 --server %s --token %s --out %s", url, tok, rcpt),
                         0);
        assert_int_equal(run(f, "ledger verify-receipt %s --key %s", rcpt, f->pub), 0);
        has(f, "receipt verified: entry 3 ");
        assert_int_equal(run(f, "ledger receipt 4 --server %s --token %s", url, tok), 1);
        has(f, "HTTP 404");
        assert_int_equal(run(f, "ledger verify --server %s --token %s", url, tok + 1), 2);
        test_httpd_stop(h);
        api_free(&a);
        /* nobody listening */
        assert_int_equal(run(f, "ledger verify --server %s --token %s --key %s", url, tok, f->pub),
                         2);

        /* a server that changed entry 17, or serves a bad consistency proof */
        for (int t = 1; t <= 2; t++) {
                struct api b = {0};
                api_build(f, &b, t);
                h = test_httpd_start(b.r, b.n);
                assert_non_null(h);
                test_httpd_url(h, url, sizeof(url));
                assert_int_equal(
                        run(f, "ledger verify --server %s --token %s --key %s", url, tok, f->pub),
                        1);
                if (t == 1) {
                        has(f, "do not match the signed tree head of size 24");
                        has(f, "first bad index >= 16");
                } else {
                        has(f, "the server's consistency proof between the tree heads of size 16 "
                               "and 24 does not verify");
                }
                test_httpd_stop(h);
                api_free(&b);
        }
}

static void test_cli_ledger_usage(void **state)
{
        struct fx *f = *state;
        assert_int_equal(run(f, "ledger --help"), 0);
        has(f, "ledger verify-receipt FILE --key PEM|JWKS");
        assert_int_equal(run(f, "ledger export --help"), 0);
        has(f, "veritee-ledger-export/1");
        assert_int_equal(run(f, "ledger frobnicate"), 2);
        assert_int_equal(run(f, "ledger receipt x --server http://127.0.0.1:1 --token %s", f->key),
                         2);
        has(f, "is not an entry index");
        assert_int_equal(run(f, "ledger verify --db %s --file %s --key %s", f->db, f->db, f->pub),
                         2);
}

static void test_cli_ledger_bench(void **state)
{
        struct fx *f = *state;
        assert_int_equal(run(f, "bench ledger --seconds 1 --max-entries 10000"), 0);
        has(f, "receipt build at 1000 entries");
        has(f, "receipt verify at 10000 entries");
        has(f, "durable appends, 1 thread");
        has(f, "durable appends, 64 threads");
        /* never on an existing file */
        assert_int_equal(run(f, "bench ledger --db %s --seconds 1", f->db), 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_cli_ledger_verify_db, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_export_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_tamper_entry, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_tamper_delete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_truncate_saved, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_verify_receipt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_export_truncations, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_server, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_usage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_ledger_bench, setup, teardown),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
