/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A secret is never sent before its release entry is durable: clients fetch secrets in
 * a loop while veriteed is killed with SIGKILL at a random moment, again and again; after
 * each restart every secret a client received has its release entry (found by the
 * X-Request-Id of the answer), and the ledger verifies. Alongside, a client attests in a
 * loop: every attestation answered has its attest entry after the restart, although those
 * entries are answered once committed and synced later (ledger.attest_sync_ms, here
 * 1000 ms, so that kills land before their sync).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto/seal.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/hex.h"
#include "util/json.h"
#include "vtdtest.h"

#define ROUNDS  5
#define CLIENTS 4
#define MAX_GOT 20000

static struct vt_sim_guest guest;
static struct server S;
static char cfg_text[4096], admin_authz[1024], reader_authz[1024];

static pthread_mutex_t got_lock = PTHREAD_MUTEX_INITIALIZER;
static char got[MAX_GOT][24];
static size_t n_got;
static char attested[MAX_GOT][24]; /* under got_lock */
static size_t n_attested;

static const char *policy =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"}]}";

static void bearer_of(const char *key, enum vt_admin_role role, char *out, size_t n)
{
        char *jwt = NULL;
        struct vt_diag d = {0};
        if (vt_admin_token_make(key, role, NULL, 0, 3600, "crash-test", &jwt, &d) < 0)
                fail_msg("admin token: %s", d.msg);
        snprintf(out, n, "Bearer %s", jwt);
        free(jwt);
}

static int setup(void **state)
{
        char p[512], key[512], pub[512], rv[256];
        struct vt_diag d = {0};
        (void)state;
        if (vtt_setup_sim("ledger-crash", &guest) < 0)
                return -1;
        snprintf(p, sizeof(p), "%s/kek", vtt_dir);
        if (vt_kek_generate(p, &d) < 0)
                return -1;
        snprintf(key, sizeof(key), "%s/admin.key", vtt_dir);
        snprintf(pub, sizeof(pub), "%s/admin.pub", vtt_dir);
        if (vt_admin_keygen(key, pub, &d) < 0)
                return -1;
        bearer_of(key, VT_ROLE_ADMIN, admin_authz, sizeof(admin_authz));
        bearer_of(key, VT_ROLE_READER, reader_authz, sizeof(reader_authz));
        char m[97];
        vt_hex_encode(guest.measurement, 48, m);
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", m);
        snprintf(p, sizeof(p), "%s/rv.json", vtt_dir);
        write_text(p, rv);
        /* heads rarely by count, often by time: kills land between them too */
        snprintf(cfg_text, sizeof(cfg_text),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s]\n"
                 "ledger:\n  sth_every_entries: 100\n  sth_every_ms: 50\n"
                 "  attest_sync_ms: 1000\n",
                 vtt_dir, vtt_dir, vtt_simdir, vtt_dir, pub);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        if (!getenv("VT_KEEP_TMP"))
                (void)vt_test_sh("rm -rf '%s'", vtt_dir);
        curl_global_cleanup();
        return 0;
}

struct client {
        char authz[8192];
        atomic_bool *stop;
        unsigned ok;
};

static void *client_main(void *arg)
{
        struct client *c = arg;
        char path[64];
        for (unsigned i = 0; !atomic_load(c->stop); i++) {
                snprintf(path, sizeof(path), "/kbs/v0/resource/crash/key/k%u", i % 4);
                char rid[24];
                long st = try_get(&S, path, c->authz, rid);
                if (st == 200 && rid[0]) {
                        pthread_mutex_lock(&got_lock);
                        if (n_got < MAX_GOT)
                                memcpy(got[n_got++], rid, sizeof(got[0]));
                        pthread_mutex_unlock(&got_lock);
                        c->ok++;
                }
                if (st == 0) /* no answer: the server is gone */
                        break;
        }
        return NULL;
}

/* attester_main: auth and attest in a loop until told to stop or the server is gone;
 * records the X-Request-Id of every attestation answered 200. */
static void *attester_main(void *arg)
{
        atomic_bool *stop = arg;
        json_auto_t *jwk = new_jwk();
        while (!atomic_load(stop)) {
                char cookie[128];
                char *nonce = try_auth(&S, "sim", cookie);
                if (!nonce)
                        break; /* no answer: the server is gone */
                char *body = attest_body(nonce, &guest, jwk, jwk);
                free(nonce);
                struct http h = try_request_full(&S, NULL, "/kbs/v0/attest", body, strlen(body),
                                                 cookie, NULL);
                free(body);
                free(h.body);
                if (h.status == 200 && h.request_id[0]) {
                        pthread_mutex_lock(&got_lock);
                        if (n_attested < MAX_GOT)
                                memcpy(attested[n_attested++], h.request_id, sizeof(attested[0]));
                        pthread_mutex_unlock(&got_lock);
                }
                if (h.status == 0)
                        break;
        }
        return NULL;
}

/* check_found fails unless each answer in ids[*checked..n) has its entry of kind (found
 * by the answer's X-Request-Id), and moves *checked to n. */
static void check_found(const json_t *entries, const char *kind, char (*ids)[24], size_t n,
                        size_t *checked, int round)
{
        for (size_t i = *checked; i < n; i++)
                if (!ledger_find(entries, kind, ids[i]))
                        fail_msg("round %d: request %s was answered but its %s entry is not in "
                                 "the ledger (%zu entries)",
                                 round, ids[i], kind, json_array_size(entries));
        *checked = n;
}

static void test_ledger_crash_loop(void **state)
{
        (void)state;
        unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
        print_message("seed %u\n", seed);
        size_t checked = 0, checked_attest = 0;
        for (int round = 0; round < ROUNDS; round++) {
                server_start(&S, "crash", cfg_text);
                if (round == 0)
                        for (int k = 0; k < 4; k++) {
                                char path[64], body[512];
                                snprintf(path, sizeof(path),
                                         "/kbs/v0/resource-policy/crash/key/k%d", k);
                                int n = snprintf(body, sizeof(body), "%s%csecret-%d", policy, 0, k);
                                struct http h = request_full(&S, "PUT", path, body, (size_t)n, NULL,
                                                             admin_authz);
                                assert_int_equal(h.status, 200);
                                free(h.body);
                        }
                /* every survivor of the last kill is in the ledger, which verifies */
                json_auto_t *entries = ledger_audit(&S, reader_authz, NULL);
                check_found(entries, "release", got, n_got, &checked, round);
                check_found(entries, "attest", attested, n_attested, &checked_attest, round);

                atomic_bool stop = false;
                pthread_t at;
                assert_int_equal(pthread_create(&at, NULL, attester_main, &stop), 0);
                struct client cl[CLIENTS];
                pthread_t th[CLIENTS];
                for (int i = 0; i < CLIENTS; i++) {
                        json_auto_t *jwk = new_jwk();
                        char *tok = attest_token(&S, &guest, jwk);
                        snprintf(cl[i].authz, sizeof(cl[i].authz), "Bearer %s", tok);
                        free(tok);
                        cl[i].stop = &stop;
                        cl[i].ok = 0;
                        assert_int_equal(pthread_create(&th[i], NULL, client_main, &cl[i]), 0);
                }
                usleep((useconds_t)(150000 + rand_r(&seed) % 600000));
                kill(S.pid, SIGKILL); /* no shutdown: whatever is in flight is cut */
                waitpid(S.pid, NULL, 0);
                S.pid = 0;
                atomic_store(&stop, true);
                unsigned ok = 0;
                for (int i = 0; i < CLIENTS; i++) {
                        pthread_join(th[i], NULL);
                        ok += cl[i].ok;
                }
                pthread_join(at, NULL);
                print_message("round %d: %u secrets received, %zu attestations answered in all "
                              "before the kill\n",
                              round, ok, n_attested);
        }
        server_start(&S, "crash", cfg_text);
        json_auto_t *entries = ledger_audit(&S, reader_authz, NULL);
        check_found(entries, "release", got, n_got, &checked, ROUNDS);
        check_found(entries, "attest", attested, n_attested, &checked_attest, ROUNDS);
        print_message("%zu secrets received and %zu attestations answered in %d rounds, each "
                      "with its entry; the ledger (%zu entries) verifies\n",
                      n_got, n_attested, ROUNDS, json_array_size(entries));
        assert_true(n_got > 0);
        assert_true(n_attested > 0);
        server_stop(&S);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ledger_crash_loop),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
