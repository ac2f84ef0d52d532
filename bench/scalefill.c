/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scalefill: fills a veriteed state directory for the scale figures of issue 19
 * (bench/scale.sh runs it). A bench helper, not a server path: it writes representative
 * rows through the store's own API (lib/store, lib/ledger's Merkle frontier), because
 * making a million past flows through HTTP would take hours.
 *
 *   scalefill --state DIR [--secrets N] [--flows N] [--vacuum] [--pg]
 *
 * DIR is veriteed's state_dir: DIR/veritee.db (the default store.sqlite), DIR/kek (the
 * secrets.kek_file the server is given; generated when absent) and
 * DIR/ledger-signing-key.pem (the default ledger.signing_key; created when absent, so
 * that the server signs with the same key as the tree heads written here).
 *
 *   --secrets N  until the store holds N resources: adds scale/tNN/sNNNNNNN, a 50-byte
 *                value each, sealed under DIR/kek with the release policy bench/loadgen
 *                uses, 1000 per transaction (vt_keyring_put_batch, as the bulk import).
 *   --flows N    until the ledger holds 2N entries and the store N live sessions: per
 *                past flow an "attest" and a "release" entry (canonical JSON of the size
 *                the server writes, appended with their Merkle nodes in batches of
 *                50,000, vt_store_ledger_append), one signed tree head at the end, and
 *                an attested session with its token's claims (vt_store_session_create,
 *                vt_store_session_set_attested) that expires in three hours (the
 *                server's expire after session.ttl_seconds, at most an hour: these stay
 *                for the whole of bench/scale.sh): the worst case, where the sweeper
 *                has not deleted any session of those flows yet.
 *   --vacuum     then VACUUM the database (sqlite3 CLI semantics, through SQLite) and
 *                print its size, the resources, the ledger entries and the sessions.
 *
 *   --pg         the store is PostgreSQL instead: a server of its own, started as the
 *                tests start theirs (tests/helpers/pgtest.c: initdb in a temporary
 *                directory, 127.0.0.1, removed at exit), database "scale"; --vacuum then
 *                runs VACUUM FULL and prints the database's size and each table's with
 *                its indexes and TOAST (pg_total_relation_size). DIR holds the KEK and
 *                the ledger key only.
 *
 * Prints what it added and how long it took. Refuses nothing that exists: it only adds.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "crypto/seal.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "store/keyring.h"
#include "store/store.h"
#include "token/jwt.h"
#include "util/hex.h"

#include "pgtest.h"

#define SECRET_BATCH 1000u
#define LEDGER_BATCH 50000u
#define ENTRY_MAX    768u

/* the policy bench/loadgen stores with its secret */
static const char policy[] = "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":"
                             "\"affirming\"}]}";

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int die(const char *what, const struct vt_diag *d, int e)
{
        fprintf(stderr, "scalefill: %s: %s\n", what, d && d->msg[0] ? d->msg : vt_strerror(e));
        return 1;
}

static int fill_secrets(struct vt_store *st, const char *kek_file, size_t want)
{
        struct vt_diag d = {0};
        struct vt_keyring *kr = NULL;
        char kid[32];
        size_t have = 0;
        int e;
        if ((e = vt_keyring_new(kek_file, NULL, NULL, &kr)) < 0)
                return die("keyring", NULL, e);
        if ((e = vt_keyring_recover(kr, st, &d)) < 0 ||
            (e = vt_store_kek_current(st, kid, NULL, &d)) < 0 ||
            (e = vt_store_kek_count(st, kid, &have, &d)) < 0) {
                vt_keyring_free(kr);
                return die("the current KEK", &d, e);
        }
        static struct vt_keyring_item items[SECRET_BATCH];
        static char paths[SECRET_BATCH][64], values[SECRET_BATCH][80];
        double t0 = now_s();
        size_t added = 0;
        while (have + added < want) {
                size_t n = want - have - added > SECRET_BATCH ? SECRET_BATCH : want - have - added;
                for (size_t i = 0; i < n; i++) {
                        size_t k = have + added + i;
                        snprintf(paths[i], sizeof(paths[i]), "scale/t%02zu/s%07zu", k % 100, k);
                        /* 50 bytes, as the bulk import figure's values */
                        snprintf(values[i], sizeof(values[i]), "scale secret %07zu %029zu", k,
                                 k * 2654435761u);
                        items[i] = (struct vt_keyring_item){.path = paths[i],
                                                            .secret = (const uint8_t *)values[i],
                                                            .len = strlen(values[i]),
                                                            .policy = policy};
                }
                e = vt_keyring_put_batch(kr, st, items, n, time(NULL), NULL, NULL, &d);
                vt_keyring_items_clear(items, n);
                if (e < 0) {
                        vt_keyring_free(kr);
                        return die("put batch", &d, e);
                }
                added += n;
                if (added % 100000 == 0)
                        fprintf(stderr, "scalefill: %zu secrets added\n", added);
        }
        vt_keyring_free(kr);
        double el = now_s() - t0;
        printf("scalefill: secrets: %zu added (now %zu) in %.1f s (%.0f/s)\n", added, have + added,
               el, el > 0 ? (double)added / el : 0.0);
        return 0;
}

static int store_node(void *ud, unsigned level, uint64_t index, vt_hash out)
{
        return vt_store_ledger_node(ud, level, index, out, NULL);
}

/* entry_text writes past flow k's entry (attest when even, release when odd) as the
 * server writes them (canonical JSON: sorted keys, the same fields, digests and ids of
 * the same lengths; about 330 bytes each). */
static int entry_text(uint64_t ix, int64_t t, char *p, size_t cap)
{
        uint64_t k = ix / 2, h = k * 0x9e3779b97f4a7c15u;
        char cd[80], tok[40], rid[24];
        snprintf(cd, sizeof(cd), "sha256:%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, h,
                 k, ~h, ~k);
        snprintf(tok, sizeof(tok), "%016" PRIx64 "%016" PRIx64, h ^ 7, k);
        snprintf(rid, sizeof(rid), "%016" PRIx64, ix * 0x2545f4914f6cdd1du);
        if (ix % 2 == 0)
                return snprintf(p, cap,
                                "{\"claims_digest\":\"%s\",\"evidence_digest\":\"sha256:%016" PRIx64
                                "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "\",\"kind\":\"attest\","
                                "\"request_id\":\"%s\",\"status\":\"affirming\",\"tee\":\"sim\","
                                "\"time\":%" PRId64 ",\"token_id\":\"%s\"}",
                                cd, h ^ 1, k ^ 1, ~h ^ 1, ~k ^ 1, rid, t, tok);
        return snprintf(
                p, cap,
                "{\"claims_digest\":\"%s\",\"kind\":\"release\",\"policy_digest\":"
                "\"sha256:aec7487c8c179d6db9c1ee8e3806a42a0ae4f649fcd86c2c791e42b256fb145b\","
                "\"request_id\":\"%s\",\"resource\":\"load/key/secret\",\"time\":%" PRId64
                ",\"token_id\":\"%s\"}",
                cd, rid, t, tok);
}

static int fill_ledger(struct vt_store *st, const struct vt_signer *key, uint64_t want)
{
        struct vt_diag d = {0};
        struct vt_merkle_frontier f = {0};
        uint64_t size = 0;
        int e;
        if ((e = vt_store_ledger_size(st, &size, &d)) < 0)
                return die("ledger size", &d, e);
        if (size >= want) {
                printf("scalefill: ledger: %" PRIu64 " entries already\n", size);
                return 0;
        }
        if ((e = vt_merkle_frontier_load(&f, size, store_node, st)) < 0)
                return die("the ledger's right edge", NULL, e);
        struct vt_ledger_row *rows = calloc(LEDGER_BATCH, sizeof(*rows));
        struct vt_ledger_hash *nodes = calloc(2 * LEDGER_BATCH + 64, sizeof(*nodes));
        char *text = malloc((size_t)LEDGER_BATCH * ENTRY_MAX);
        int rc = 0;
        double t0 = now_s();
        uint64_t from = size;
        if (!rows || !nodes || !text) {
                rc = die("fill", NULL, VT_E_NOMEM);
                goto out;
        }
        while (f.size < want) {
                size_t n = want - f.size > LEDGER_BATCH ? LEDGER_BATCH : (size_t)(want - f.size);
                size_t m = 0;
                uint64_t first = f.size;
                int64_t t = wall_ms();
                for (size_t i = 0; i < n; i++) {
                        char *p = text + i * ENTRY_MAX;
                        uint64_t ix = first + i;
                        int k = entry_text(ix, t, p, ENTRY_MAX);
                        rows[i] = (struct vt_ledger_row){.index = ix,
                                                         .time = t,
                                                         .kind = ix % 2 ? "release" : "attest",
                                                         .entry = p,
                                                         .entry_len = (size_t)k};
                        vt_hash leaf;
                        struct vt_merkle_node out[VT_MERKLE_MAX_LEVEL + 1];
                        if ((e = vt_merkle_leaf_hash(p, (size_t)k, leaf)) < 0 ||
                            (e = vt_merkle_frontier_push(&f, leaf, out)) < 0) {
                                rc = die("merkle", NULL, e);
                                goto out;
                        }
                        for (int j = 0; j < e; j++) {
                                nodes[m].level = out[j].level;
                                nodes[m].index = out[j].index;
                                memcpy(nodes[m++].hash, out[j].hash, VT_MERKLE_HASH_LEN);
                        }
                }
                if ((e = vt_store_ledger_append(st, first, rows, n, nodes, m, &d)) < 0) {
                        rc = die("ledger append", &d, e);
                        goto out;
                }
        }
        struct vt_sth h = {.size = f.size, .time = wall_ms()};
        char *sth = NULL;
        if ((e = vt_merkle_frontier_root(&f, h.root)) < 0 || (e = vt_sth_sign(key, &h, &sth)) < 0) {
                rc = die("sign a tree head", NULL, e);
                goto out;
        }
        e = vt_store_ledger_sth_put(st, h.size, h.time, sth, &d);
        free(sth);
        if (e < 0) {
                rc = die("store a tree head", &d, e);
                goto out;
        }
        double el = now_s() - t0;
        printf("scalefill: ledger: %" PRIu64 " entries added (now %" PRIu64 ") in %.1f s\n",
               f.size - from, f.size, el);
out:
        free(rows);
        free(nodes);
        free(text);
        return rc;
}

static int fill_sessions(struct vt_store *st, size_t want)
{
        struct vt_diag d = {0};
        size_t have = 0;
        int64_t now = time(NULL);
        int e;
        if ((e = vt_store_session_count_live(st, now, &have, &d)) < 0)
                return die("count sessions", &d, e);
        double t0 = now_s();
        size_t added = 0;
        char claims[4096];
        for (; have + added < want; added++) {
                struct vt_session s = {.created = now, .expires = now + 300};
                uint8_t rnd[16 + 32];
                if (RAND_bytes(rnd, sizeof(rnd)) != 1)
                        return die("RAND_bytes", NULL, VT_E_CRYPTO);
                vt_hex_encode(rnd, 16, s.id);
                snprintf(s.tee, sizeof(s.tee), "sim");
                vt_hex_encode(rnd + 16, 24, s.nonce); /* 48 characters, as a base64 nonce */
                snprintf(s.client, sizeof(s.client), "127.1.%zu.%zu", added / 250 % 250,
                         added % 250 + 1);
                /* the claims of a simulator token as the server keeps them: the EAR
                 * with the annotated evidence (about 2,200 bytes; the report's fields
                 * other than these are runs of zeros and flags of the same length) */
                snprintf(claims, sizeof(claims),
                         "{\"eat_profile\":\"tag:github.com,2024:confidential-containers/"
                         "Trustee\",\"iat\":%" PRId64 ",\"nbf\":%" PRId64 ",\"exp\":%" PRId64
                         ",\"iss\":\"http://127.0.0.1:8080\",\"ear.verifier-id\":{\"developer\":"
                         "\"https://github.com/veritee/veritee\",\"build\":\"veritee 0.1.0\"},"
                         "\"submods\":{\"cpu0\":{\"ear.status\":\"affirming\","
                         "\"ear.trustworthiness-vector\":{\"instance-identity\":2,"
                         "\"configuration\":2,\"executables\":2,\"hardware\":2},"
                         "\"ear.appraisal-policy-id\":\"default\","
                         "\"ear.veraison.annotated-evidence\":{\"sim\":{\"version\":3,"
                         "\"product\":\"Milan\",\"measurement\":\"%s%s%s\",\"report_data\":"
                         "\"%s%s%s%s\",\"chip_id\":\"%s%s%s%s\",\"report_id\":\"%s%s\","
                         "\"fields\":\"%0950d\"},\"runtime_data_claims\":{\"nonce\":\"%s\","
                         "\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%.43s\","
                         "\"y\":\"%.43s\"}}}}},\"jti\":\"%s\"}",
                         now, now, now + 300, s.id, s.id, s.id, s.id, s.id, s.id, s.id, s.id, s.id,
                         s.id, s.id, s.id, s.id, 0, s.nonce, s.nonce, s.nonce, s.id);
                if ((e = vt_store_session_create(st, &s, now, SIZE_MAX, &d)) < 0 ||
                    (e = vt_store_session_set_attested(st, s.id, claims, now + 3 * 3600, &d)) < 0)
                        return die("session", &d, e);
                if ((added + 1) % 100000 == 0)
                        fprintf(stderr, "scalefill: %zu sessions added\n", added + 1);
        }
        double el = now_s() - t0;
        printf("scalefill: sessions: %zu added (now %zu live) in %.1f s (%.0f/s)\n", added,
               have + added, el, el > 0 ? (double)added / el : 0.0);
        return 0;
}

static long long file_size(const char *p)
{
        struct stat sb;
        return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

static int vacuum(const char *db)
{
        sqlite3 *h = NULL;
        const char *q[] = {"PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM",
                           "PRAGMA wal_checkpoint(TRUNCATE)"};
        if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
                fprintf(stderr, "scalefill: open %s: %s\n", db, sqlite3_errmsg(h));
                sqlite3_close(h);
                return 1;
        }
        sqlite3_busy_timeout(h, 10000);
        for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
                if (sqlite3_exec(h, q[i], NULL, NULL, NULL) != SQLITE_OK) {
                        fprintf(stderr, "scalefill: %s: %s\n", q[i], sqlite3_errmsg(h));
                        sqlite3_close(h);
                        return 1;
                }
        /* rows per table, and bytes per table where SQLite has the dbstat table */
        const char *c = "SELECT (SELECT count(*) FROM resources), (SELECT count(*) FROM "
                        "ledger_entries), (SELECT count(*) FROM sessions)";
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(h, c, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
                printf("scalefill: vacuumed: %lld bytes; %lld resources, %lld ledger entries, "
                       "%lld sessions\n",
                       file_size(db), (long long)sqlite3_column_int64(s, 0),
                       (long long)sqlite3_column_int64(s, 1),
                       (long long)sqlite3_column_int64(s, 2));
        sqlite3_finalize(s);
        if (sqlite3_prepare_v2(h,
                               "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC",
                               -1, &s, NULL) == SQLITE_OK) {
                while (sqlite3_step(s) == SQLITE_ROW)
                        printf("scalefill:   %-28s %lld bytes\n",
                               (const char *)sqlite3_column_text(s, 0),
                               (long long)sqlite3_column_int64(s, 1));
                sqlite3_finalize(s);
        }
        sqlite3_close(h);
        return 0;
}

static int pg_vacuum(struct vtt_pg *pg)
{
        char out[4096];
        const char *q[] = {
                "VACUUM FULL",
                "SELECT pg_database_size('scale') || ' bytes; ' || (SELECT count(*) FROM "
                "resources) || ' resources, ' || (SELECT count(*) FROM ledger_entries) || ' ledger "
                "entries, ' || (SELECT count(*) FROM sessions) || ' sessions'",
                "SELECT string_agg(format('%-28s %s bytes', relname, "
                "pg_total_relation_size(c.oid)), E'\n' ORDER BY pg_total_relation_size(c.oid) "
                "DESC) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                "n.nspname = current_schema() AND c.relkind = 'r'",
        };
        for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
                if (vtt_pg_exec(pg, "scale", q[i], out, sizeof(out)) < 0) {
                        fprintf(stderr, "scalefill: postgres: %s\n", out);
                        return 1;
                }
                if (i == 1)
                        printf("scalefill: postgres, vacuumed (VACUUM FULL): %s\n", out);
                else if (i == 2)
                        printf("scalefill: postgres tables with their indexes and TOAST:\n%s\n",
                               out);
        }
        return 0;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: scalefill --state DIR [--secrets N] [--flows N] [--vacuum] [--pg]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        const char *dir = NULL;
        long long secrets = -1, flows = -1;
        bool vac = false, use_pg = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
                        dir = argv[++i];
                else if (strcmp(argv[i], "--secrets") == 0 && i + 1 < argc)
                        secrets = strtoll(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--flows") == 0 && i + 1 < argc)
                        flows = strtoll(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--vacuum") == 0)
                        vac = true;
                else if (strcmp(argv[i], "--pg") == 0)
                        use_pg = true;
                else
                        usage();
        }
        if (!dir)
                usage();
        char db[600], kek[600], lk[600];
        snprintf(db, sizeof(db), "%s/veritee.db", dir);
        snprintf(kek, sizeof(kek), "%s/kek", dir);
        snprintf(lk, sizeof(lk), "%s/ledger-signing-key.pem", dir);
        (void)mkdir(dir, 0700);
        struct vt_diag d = {0};
        struct vt_store *st = NULL;
        struct vt_signer *key = NULL;
        int e, rc = 0;
        if (access(kek, F_OK) != 0 && (e = vt_kek_generate(kek, &d)) < 0)
                return die("kek", &d, e);
        struct vtt_pg *pg = NULL;
        if (use_pg) {
                pg = vtt_pg_start(); /* or exits */
                if (vtt_pg_createdb(pg, "scale") < 0)
                        return 1;
                vtt_pg_dsn(pg, "scale", db, sizeof(db));
        }
        if ((e = vt_store_open_with(use_pg ? &vt_store_postgres_ops : &vt_store_sqlite_ops, db, &st,
                                    &d)) < 0)
                return die(use_pg ? "postgres" : db, &d, e);
        if (secrets >= 0)
                rc = fill_secrets(st, kek, (size_t)secrets);
        if (rc == 0 && flows >= 0) {
                if ((e = vt_signer_load_or_create_as(lk, "ledger key", &key, &d)) < 0)
                        rc = die("ledger key", &d, e);
                else
                        rc = fill_ledger(st, key, 2 * (uint64_t)flows);
                if (rc == 0)
                        rc = fill_sessions(st, (size_t)flows);
                vt_signer_free(key);
        }
        vt_store_close(st);
        if (rc == 0 && vac)
                rc = pg ? pg_vacuum(pg) : vacuum(db);
        return rc;
}
