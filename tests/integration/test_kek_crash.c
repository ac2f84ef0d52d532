/* SPDX-License-Identifier: Apache-2.0 */
/*
 * KEK rotation under SIGKILL (issue 9). The real veriteed takes puts over the admin API
 * (a value counts as acknowledged only on HTTP 200) while `veritee admin rotate-kek`
 * runs again and again beside it; the server and rotate-kek are killed with SIGKILL at
 * random points (the server also during its start-up recovery), at least 50 kills in all.
 * Afterwards, on a fresh start, every acknowledged secret is readable, with the latest
 * acknowledged value or a later one that was attempted: all of them through the library
 * (the store, the keyring, unseal), a sample through the server with an attested fetch;
 * no rotation that was not killed failed, and a further rotation succeeds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "crypto/jwe.h"
#include "crypto/seal.h"
#include "store/keyring.h"
#include "store/store.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/hex.h"
#include "vtdtest.h"

extern char **environ;

/* Enough paths that most puts of a run write a path of their own (a lost secret is
 * rarely hidden by a later overwrite), and some write one again. */
#define N_PATHS   1024
#define MIN_KILLS 50
#define MAX_KILLS 70
#define MAX_SECS  75

static struct vt_sim_guest guest;
static char cfg_text[2048], cfg_path[512], kek_path[512], admin_authz[2048];

/* shared between the orchestrator, the writer and the rotator */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char cur_url[64];                        /* "" while the server is down */
static long acked[N_PATHS], attempted[N_PATHS]; /* value numbers; -1: none */
static pid_t rot_pid;
static atomic_bool stop;
static atomic_long n_acked, n_put_fail, n_rot_ok, n_rot_killed, n_rot_failed;
static char rot_failure[512];

static uint64_t rng_state;

static uint64_t rnd(void)
{
        /* xorshift64*: the test's own randomness, its seed printed for a rerun */
        uint64_t x = rng_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rng_state = x;
        return x * 0x2545F4914F6CDD1DULL;
}

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static void secret_path(char *buf, size_t n, int i)
{
        snprintf(buf, n, "crash/key/p%04d", i);
}

static int setup(void **state)
{
        char p[512], key[512], pub[512], measurement[97];
        struct vt_diag d = {0};
        char *jwt = NULL;
        (void)state;
        if (vtt_setup_sim("kekcrash", &guest) < 0)
                return -1;
        vt_hex_encode(guest.measurement, 48, measurement);
        path_in(kek_path, sizeof(kek_path), "kek");
        path_in(key, sizeof(key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        if (vt_kek_generate(kek_path, &d) < 0 || vt_admin_keygen(key, pub, &d) < 0 ||
            vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "test", &jwt, &d) < 0)
                return -1;
        snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", jwt);
        free(jwt);
        char rv[256];
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        snprintf(cfg_text, sizeof(cfg_text),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n",
                 vtt_dir, vtt_dir, vtt_simdir, kek_path, pub);
        path_in(cfg_path, sizeof(cfg_path), "crash.yaml");
        write_text(cfg_path, cfg_text);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        if (!getenv("VT_KEEP_TMP") && vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

/* spawn starts a program with stderr to log (stdout away); returns its pid. */
static pid_t spawn(char *const argv[], const char *log)
{
        posix_spawn_file_actions_t fa;
        pid_t pid = 0;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        return e == 0 ? pid : -1;
}

/* server_up starts veriteed (log DIR/srv-N.log) and waits for "listening on"; its URL
 * goes to url. A server that exits while starting fails the test: after any kill, the
 * next start must recover. */
static pid_t server_up(unsigned n, char url[64])
{
        char log[512];
        snprintf(log, sizeof(log), "%s/srv-%u.log", vtt_dir, n);
        char *argv[] = {(char *)bin("veriteed"), "--config", cfg_path, NULL};
        pid_t pid = spawn(argv, log);
        assert_true(pid > 0);
        for (int i = 0; i < 2000; i++) {
                char *l = slurp(log);
                const char *h = l ? strstr(l, "listening on http://127.0.0.1:") : NULL;
                if (h) {
                        unsigned port = 0;
                        assert_int_equal(sscanf(h, "listening on http://127.0.0.1:%u", &port), 1);
                        snprintf(url, 64, "http://127.0.0.1:%u", port);
                        free(l);
                        return pid;
                }
                free(l);
                int st;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        char *m = slurp(log);
                        fail_msg("veriteed start %u exited: %s", n, m ? m : "");
                }
                usleep(5 * 1000);
        }
        fail_msg("veriteed start %u: not listening after 10 s", n);
        return -1;
}

static void reap(pid_t pid)
{
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
        (void)p;
        (void)ud;
        return sz * n;
}

/* http_put stores value at path on the server at url: the HTTP status, or -1. */
static long http_put(const char *url, const char *path, const char *value)
{
        char u[512], *ah = NULL;
        long status = -1;
        CURL *c = curl_easy_init();
        if (!c || asprintf(&ah, "Authorization: %s", admin_authz) < 0)
                return -1;
        struct curl_slist *hdr = curl_slist_append(NULL, ah);
        hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
        snprintf(u, sizeof(u), "%s/kbs/v0/resource/%s", url, path);
        curl_easy_setopt(c, CURLOPT_URL, u);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, value);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(value));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 8000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        free(ah);
        return status;
}

static void value_of(char *buf, size_t n, int i, long v)
{
        snprintf(buf, n, "p%04d-v%ld", i, v);
}

/* writer: puts to the paths in turn, value numbers growing; records what was attempted
 * and what was acknowledged. */
static void *writer(void *arg)
{
        (void)arg;
        for (long v = 0; !atomic_load(&stop);) {
                char url[64], path[64], value[64];
                int i = (int)(v % N_PATHS);
                pthread_mutex_lock(&mu);
                snprintf(url, sizeof(url), "%s", cur_url);
                if (url[0])
                        attempted[i] = v;
                pthread_mutex_unlock(&mu);
                if (!url[0]) {
                        usleep(2000);
                        continue;
                }
                secret_path(path, sizeof(path), i);
                value_of(value, sizeof(value), i, v);
                long st = http_put(url, path, value);
                if (st == 200) {
                        pthread_mutex_lock(&mu);
                        acked[i] = v;
                        pthread_mutex_unlock(&mu);
                        atomic_fetch_add(&n_acked, 1);
                } else {
                        atomic_fetch_add(&n_put_fail, 1);
                }
                v++;
        }
        return NULL;
}

/* rotator: rotate-kek to a fresh key, again and again; counts the outcomes. */
static void *rotator(void *arg)
{
        (void)arg;
        for (unsigned n = 0; !atomic_load(&stop); n++) {
                char key[512], log[512];
                struct vt_diag d = {0};
                snprintf(key, sizeof(key), "%s/new-%u", vtt_dir, n);
                snprintf(log, sizeof(log), "%s/rotate.log", vtt_dir);
                if (vt_kek_generate(key, &d) < 0)
                        break;
                char *argv[] = {(char *)bin("veritee"),
                                "admin",
                                "rotate-kek",
                                key,
                                "--config",
                                cfg_path,
                                NULL};
                pthread_mutex_lock(&mu);
                pid_t pid = spawn(argv, log);
                rot_pid = pid;
                pthread_mutex_unlock(&mu);
                if (pid <= 0)
                        break;
                int st = 0;
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
                pthread_mutex_lock(&mu);
                rot_pid = 0;
                pthread_mutex_unlock(&mu);
                if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                        atomic_fetch_add(&n_rot_ok, 1);
                else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
                        atomic_fetch_add(&n_rot_killed, 1);
                else {
                        atomic_fetch_add(&n_rot_failed, 1);
                        snprintf(rot_failure, sizeof(rot_failure), "rotation %u: status %d", n, st);
                }
                usleep(1000 * (useconds_t)(rnd() % 20));
        }
        return NULL;
}

/* check_all reads every secret with the library (store, keyring, unseal) and checks it
 * against what was acknowledged and attempted; the values go to got[] for the server
 * sample. Returns how many secrets exist. */
static int check_all(char got[N_PATHS][64])
{
        char db[512], first[512] = "";
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL;
        struct vt_diag d = {0};
        int present = 0, bad = 0;
        snprintf(db, sizeof(db), "%s/state/veritee.db", vtt_dir);
        assert_int_equal(vt_store_open(db, &st, &d), 0);
        assert_int_equal(vt_keyring_new(kek_path, NULL, NULL, &kr), 0);
        for (int i = 0; i < N_PATHS; i++) {
                char path[64], kek[32], why[400] = "";
                uint8_t *w = NULL, *c = NULL, *plain = NULL;
                size_t wl, cl, pl;
                got[i][0] = 0;
                secret_path(path, sizeof(path), i);
                int e = vt_store_resource_get(st, path, kek, &w, &wl, &c, &cl, NULL);
                if (e == VT_E_NOTFOUND) {
                        if (acked[i] >= 0)
                                snprintf(why, sizeof(why), "acknowledged v%ld, but it is gone",
                                         acked[i]);
                } else {
                        struct vt_diag ud = {0};
                        assert_int_equal(e, 0);
                        if (vt_keyring_unseal(kr, kek, path, w, wl, c, cl, &plain, &pl, &ud) < 0) {
                                snprintf(why, sizeof(why),
                                         "(acknowledged v%ld) is unreadable: %.300s", acked[i],
                                         ud.msg);
                        } else {
                                int pi = -1;
                                long v = -1;
                                snprintf(got[i], 64, "%.*s", (int)pl, (const char *)plain);
                                OPENSSL_clear_free(plain, pl);
                                if (sscanf(got[i], "p%d-v%ld", &pi, &v) != 2 || pi != i)
                                        snprintf(why, sizeof(why), "holds \"%s\"", got[i]);
                                else if (v < acked[i] || v > attempted[i])
                                        snprintf(why, sizeof(why),
                                                 "holds v%ld; acknowledged v%ld, last attempted "
                                                 "v%ld",
                                                 v, acked[i], attempted[i]);
                                else
                                        present++;
                        }
                        free(w);
                        free(c);
                }
                if (why[0] && bad++ == 0)
                        snprintf(first, sizeof(first), "%s %s", path, why);
        }
        vt_keyring_free(kr);
        vt_store_close(st);
        if (bad)
                fail_msg("%d secrets lost or wrong; the first: %s", bad, first);
        return present;
}

static long fetch(const struct server *s, const char *path, char **ret)
{
        EVP_PKEY *k = NULL;
        json_auto_t *jwk = new_jwk_key((void **)&k);
        char *token = attest_token(s, &guest, jwk);
        char url[512], *authz = NULL;
        struct vt_diag d = {0};
        assert_true(asprintf(&authz, "Bearer %s", token) > 0);
        snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
        struct http h = request_full(s, "GET", url, NULL, 0, NULL, authz);
        long status = h.status;
        *ret = NULL;
        if (status == 200) {
                json_auto_t *jwe = json_loads(h.body, 0, NULL);
                uint8_t *plain = NULL;
                size_t pl = 0;
                assert_non_null(jwe);
                if (vt_jwe_decrypt(k, jwe, &plain, &pl, &d) < 0)
                        fail_msg("JWE of %s: %s", path, d.msg);
                *ret = strndup((const char *)plain, pl);
                OPENSSL_clear_free(plain, pl);
        }
        free(h.body);
        free(authz);
        free(token);
        EVP_PKEY_free(k);
        return status;
}

/* sample_through_server gives a few secrets a policy and fetches them attested. */
static void sample_through_server(const struct server *s, char got[N_PATHS][64])
{
        static const char pol[] =
                "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"}]}";
        int done = 0;
        for (int i = 0; i < N_PATHS && done < 4; i += 5) {
                char path[64], url[128], *v = NULL;
                if (!got[i][0])
                        continue;
                secret_path(path, sizeof(path), i);
                snprintf(url, sizeof(url), "/kbs/v0/resource-policy/%s", path);
                struct http h = request_full(s, "PUT", url, pol, strlen(pol), NULL, admin_authz);
                assert_int_equal(h.status, 200);
                free(h.body);
                long st = fetch(s, path, &v);
                if (st != 200)
                        fail_msg("fetch %s through the server: HTTP %ld", path, st);
                assert_string_equal(v, got[i]);
                free(v);
                done++;
        }
        assert_true(done > 0);
}

static void test_kek_crash_loop(void **state)
{
        pthread_t wt, rt;
        unsigned starts = 0, kills = 0, server_kills = 0, startup_kills = 0, rot_kills = 0;
        char url[64];
        (void)state;
        rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        if (!rng_state)
                rng_state = 1;
        print_message("seed %llu\n", (unsigned long long)rng_state);
        for (int i = 0; i < N_PATHS; i++)
                acked[i] = attempted[i] = -1;

        pid_t srv = server_up(starts++, url);
        pthread_mutex_lock(&mu);
        snprintf(cur_url, sizeof(cur_url), "%s", url);
        pthread_mutex_unlock(&mu);
        assert_int_equal(pthread_create(&wt, NULL, writer, NULL), 0);
        assert_int_equal(pthread_create(&rt, NULL, rotator, NULL), 0);

        time_t t0 = time(NULL);
        while (kills < MAX_KILLS && (kills < MIN_KILLS || time(NULL) - t0 < 20) &&
               time(NULL) - t0 < MAX_SECS) {
                usleep(1000 * (useconds_t)(20 + rnd() % 150));
                if (rnd() % 5 < 2) {
                        /* the server, in the middle of whatever it does */
                        pthread_mutex_lock(&mu);
                        cur_url[0] = 0;
                        pthread_mutex_unlock(&mu);
                        kill(srv, SIGKILL);
                        reap(srv);
                        kills++;
                        server_kills++;
                        if (rnd() % 3 == 0) {
                                /* and again during its start-up (recovery) */
                                char log[512];
                                snprintf(log, sizeof(log), "%s/srv-%u.log", vtt_dir, starts++);
                                char *argv[] = {(char *)bin("veriteed"), "--config", cfg_path,
                                                NULL};
                                pid_t p = spawn(argv, log);
                                assert_true(p > 0);
                                usleep((useconds_t)(rnd() % 40000));
                                kill(p, SIGKILL);
                                reap(p);
                                kills++;
                                startup_kills++;
                        }
                        srv = server_up(starts++, url);
                        pthread_mutex_lock(&mu);
                        snprintf(cur_url, sizeof(cur_url), "%s", url);
                        pthread_mutex_unlock(&mu);
                } else {
                        /* rotate-kek, at a random point of its run */
                        pthread_mutex_lock(&mu);
                        pid_t p = rot_pid;
                        pthread_mutex_unlock(&mu);
                        usleep((useconds_t)(rnd() % 8000));
                        pthread_mutex_lock(&mu);
                        if (p > 0 && rot_pid == p && kill(p, SIGKILL) == 0) {
                                kills++;
                                rot_kills++;
                        }
                        pthread_mutex_unlock(&mu);
                }
        }
        atomic_store(&stop, true);
        pthread_join(wt, NULL);
        pthread_join(rt, NULL);
        kill(srv, SIGKILL);
        reap(srv);
        kills++;
        server_kills++;

        /* a fresh start recovers whatever the last kill left */
        static char got[N_PATHS][64], again[N_PATHS][64];
        struct server s = {0};
        srv = server_up(starts++, url);
        s.pid = srv;
        snprintf(s.url, sizeof(s.url), "%s", url);
        int present = check_all(got);
        sample_through_server(&s, got);
        /* nothing half-done is left beside the key file */
        assert_int_equal(
                vt_test_sh("ls '%s' | grep -q '^kek\\.\\(tmp\\|[0-9a-f]\\{16\\}\\)'", vtt_dir), 1);
        /* and a further rotation succeeds, and every secret is still readable */
        char key[512];
        struct vt_diag d = {0};
        snprintf(key, sizeof(key), "%s/final.kek", vtt_dir);
        assert_int_equal(vt_kek_generate(key, &d), 0);
        assert_int_equal(vt_test_sh("'%s' admin rotate-kek '%s' --config '%s' >/dev/null",
                                    bin("veritee"), key, cfg_path),
                         0);
        assert_int_equal(check_all(again), present);
        for (int i = 0; i < N_PATHS; i++)
                assert_string_equal(again[i], got[i]);
        sample_through_server(&s, got);
        kill(srv, SIGTERM);
        reap(srv);

        print_message("kills %u (server %u, of which during start-up %u; rotate-kek %u), "
                      "puts acknowledged %ld, failed %ld, rotations completed %ld, killed %ld, "
                      "failed %ld; %d secrets present, all readable\n",
                      kills, server_kills, startup_kills, rot_kills, atomic_load(&n_acked),
                      atomic_load(&n_put_fail), atomic_load(&n_rot_ok), atomic_load(&n_rot_killed),
                      atomic_load(&n_rot_failed), present);
        if (atomic_load(&n_rot_failed) != 0)
                fail_msg("a rotation that was not killed failed (%s; see %s/rotate.log)",
                         rot_failure, vtt_dir);
        assert_true(kills >= MIN_KILLS);
        assert_true(atomic_load(&n_rot_ok) > 0);
        assert_true(atomic_load(&n_acked) > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kek_crash_loop),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        signal(SIGPIPE, SIG_IGN);
        return vtt_run_group_tests(tests, setup, teardown);
}
