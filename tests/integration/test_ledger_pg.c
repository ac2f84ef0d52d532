/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger on a real PostgreSQL: two "replicas" (two store handles, two appenders)
 * append concurrently to one database and form one tree with no gap, fork or duplicate
 * index; receipts and consistency proofs verify; the audit finds an entry changed in
 * the database and names it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "pgtest.h"
#include "store/store.h"
#include "testutil.h"
#include "token/jwt.h"
#include "util/macro.h"

#define THREADS 8
#define PER     60

static struct vtt_pg *pg;
static char dsn[512], dir[256];

struct app {
        struct vt_ledger *l;
        uint64_t got[PER];
};

static void *appender(void *p)
{
        struct app *a = p;
        for (int i = 0; i < PER; i++) {
                json_auto_t *e = json_pack("{s:i}", "i", i);
                struct vt_diag d = {0};
                if (vt_ledger_append(a->l, "test", e, &a->got[i], &d) < 0)
                        fail_msg("append: %s", d.msg);
        }
        return NULL;
}

static void test_ledger_pg_two_replicas(void **state)
{
        (void)state;
        struct vt_store *s1 = NULL, *s2 = NULL;
        struct vt_diag d = {0};
        if (vt_store_open_with(&vt_store_postgres_ops, dsn, &s1, &d) < 0 ||
            vt_store_open_with(&vt_store_postgres_ops, dsn, &s2, &d) < 0)
                fail_msg("open: %s", d.msg);
        char key[300];
        snprintf(key, sizeof(key), "%s/ledger.pem", dir);
        struct vt_signer *k = NULL;
        assert_int_equal(vt_signer_load_or_create_as(key, "ledger key", &k, NULL), 0);
        json_auto_t *jwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(k));
        struct vt_ledger *l1 = NULL, *l2 = NULL;
        struct vt_ledger_opts o = {.sth_every = 32, .sth_ms = 50};
        assert_int_equal(vt_ledger_open(s1, k, &o, &l1, NULL), 0);
        assert_int_equal(vt_ledger_open(s2, k, &o, &l2, NULL), 0);
        struct app a[THREADS];
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) {
                a[i].l = i % 2 ? l1 : l2;
                assert_int_equal(pthread_create(&t[i], NULL, appender, &a[i]), 0);
        }
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
        /* a receipt for the newest entry, through either replica */
        char *sth = NULL;
        uint64_t size = 0;
        assert_int_equal(vt_ledger_covering_sth(l1, THREADS * PER - 1, &sth, &size, &d), 0);
        assert_int_equal(size, THREADS * PER);
        json_auto_t *rc = NULL;
        assert_int_equal(vt_ledger_receipt_build(s2, THREADS * PER - 1, sth, size, &rc, &d), 0);
        _cleanup_free_ char *txt = json_dumps(rc, JSON_COMPACT);
        if (vt_ledger_receipt_verify(txt, strlen(txt), jwks, NULL, NULL, &d) < 0)
                fail_msg("receipt: %s", d.msg);
        free(sth);
        vt_ledger_close(l1);
        vt_ledger_close(l2);

        static uint8_t seen[THREADS * PER];
        for (int i = 0; i < THREADS; i++)
                for (int j = 0; j < PER; j++) {
                        assert_true(a[i].got[j] < THREADS * PER);
                        assert_int_equal(seen[a[i].got[j]], 0);
                        seen[a[i].got[j]] = 1;
                }
        struct vt_ledger_audit_result r;
        if (vt_ledger_audit_store(s1, jwks, NULL, &r, &d) < 0)
                fail_msg("audit: %s", d.msg);
        assert_int_equal(r.entries, THREADS * PER);
        assert_true(r.sths >= 1);

        /* an entry changed in the database is named */
        char out[64];
        assert_int_equal(vtt_pg_exec(pg, "ledger",
                                     "UPDATE ledger_entries SET entry = replace(entry, '\"i\":', "
                                     "'\"j\":') WHERE idx = 123",
                                     out, sizeof(out)),
                         0);
        vt_diag_clear(&d);
        assert_int_not_equal(vt_ledger_audit_store(s2, jwks, NULL, &r, &d), 0);
        assert_non_null(strstr(d.msg, "entry 123 was changed"));
        vt_store_close(s1);
        vt_store_close(s2);
        vt_signer_free(k);
}

int main(void)
{
        pg = vtt_pg_start(); /* exits 77 (or 1 in CI) without PostgreSQL */
        if (vtt_pg_createdb(pg, "ledger") < 0)
                return 1;
        vtt_pg_dsn(pg, "ledger", dsn, sizeof(dsn));
        vt_test_fresh_dir(dir, sizeof(dir), "ledger-pg");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ledger_pg_two_replicas),
        };
        int r = vtt_run_group_tests(tests, NULL, NULL);
        vt_test_rm_dir(dir);
        return r;
}
