/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash loops (issue 16): the real veriteed (and `veritee admin rotate-kek`) killed with
 * SIGKILL at random points while a client writes secrets and release policies over the
 * admin API, in four scenarios:
 *   writes    secret and policy writes (each also a ledger append) on SQLite; the server
 *             is killed at random, sometimes again during its start-up recovery;
 *   kek       the same writes while rotate-kek runs beside them: killed at a random
 *             point, or exactly between its database commit and the rename of the new key
 *             onto secrets.kek_file (tests/helpers/crash_shim.c), and the server killed
 *             in its start-up recovery at the same rename;
 *   ledger    the writes plus attested secret fetches (release entries) on SQLite;
 *   pg        two replicas on one real PostgreSQL database (tests/helpers/pgtest.h), one
 *             of them killed at random while the other keeps taking writes.
 * After every kill the server is started again and the test checks: every write that got
 * HTTP 200 is there (the acknowledged value or a later attempted one), nothing is
 * half-written (every secret unseals with the library, every policy parses with its
 * right value), every acknowledged write and every secret received has its ledger entry
 * and the ledger audits, and a further rotate-kek succeeds.
 * Kills per scenario: VT_CRASH_KILLS (default 8; the long run in docs/SECURITY.md uses
 * 50). VT_CRASH_ONLY=NAME runs one scenario.
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
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "crypto/jwe.h"
#include "crypto/seal.h"
#include "pgtest.h"
#include "store/keyring.h"
#include "store/store.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/hex.h"
#include "vtdtest.h"

extern char **environ;

#define N_PATHS  256
#define MAX_ACKS 200000

enum scen { S_WRITES, S_KEK, S_LEDGER, S_PG };
static const char *const scen_name[] = {"writes", "kek", "ledger", "pg"};

static struct vt_sim_guest guest;
static struct vtt_pg *pg;
static char admin_pub[512], admin_authz[2048], kek_path[512], dsn[256];
static char cfg_path[2][512];
static enum scen cur;
static unsigned kills_wanted = 8;

/* shared by the orchestrator and the client threads */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char cur_url[2][64]; /* "" while that server is down or being checked */
static long acked[N_PATHS], attempted[N_PATHS], packed[N_PATHS], pattempted[N_PATHS];
static char (*acked_rid)[24]; /* request ids of acknowledged writes: their ledger entries */
static size_t n_acked_rid, rid_checked;
static char (*released_rid)[24]; /* request ids of secrets received by a fetcher */
static size_t n_released, rel_checked;
static atomic_bool stop;
static atomic_long n_ok, n_fail, n_refused, n_rel; /* n_refused: an HTTP answer but not 200 */
static long first_refused;
static atomic_int busy; /* client threads inside a request */
static uint64_t rng_state;

static uint64_t rnd(void)
{
        uint64_t x = rng_state; /* xorshift64*, its seed printed for a rerun */
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        rng_state = x;
        return x * 0x2545F4914F6CDD1DULL;
}

static const char release_policy[] =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"}]}";

static void secret_path(char *buf, size_t n, int i)
{
        snprintf(buf, n, "crash/key/p%03d", i);
}

/* ---- processes ---- */

/* spawn starts argv with stderr to log and, when shim_onto is not NULL, the crash shim
 * preloaded to kill it at the rename onto that path. */
static pid_t spawn(char *const argv[], const char *log, const char *shim_onto)
{
        posix_spawn_file_actions_t fa;
        pid_t pid = 0;
        size_t n = 0;
        while (environ[n])
                n++;
        char **env = calloc(n + 4, sizeof(char *));
        char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        size_t m = 0;
        assert_non_null(env);
        for (size_t i = 0; i < n; i++)
                if (!shim_onto || (strncmp(environ[i], "ASAN_OPTIONS=", 13) != 0 &&
                                   strncmp(environ[i], "LD_PRELOAD=", 11) != 0))
                        env[m++] = environ[i];
        if (shim_onto) {
                const char *ao = getenv("ASAN_OPTIONS"), *lp = getenv("LD_PRELOAD");
                /* after whatever is preloaded already (a sanitizer runtime comes first) */
                assert_true(asprintf(&e1, "LD_PRELOAD=%s%s%s", lp ? lp : "", lp && *lp ? ":" : "",
                                     VT_CRASH_SHIM) > 0);
                assert_true(asprintf(&e2, "VT_CRASH_RENAME_ONTO=%s", shim_onto) > 0);
                /* a sanitizer runtime wants to come first; the shim only wraps rename */
                assert_true(asprintf(&e3, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", ao ? ao : "",
                                     ao && *ao ? ":" : "") > 0);
                env[m++] = e1;
                env[m++] = e2;
                env[m++] = e3;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        free(e1);
        free(e2);
        free(e3);
        free(env);
        return e == 0 ? pid : -1;
}

static int reap(pid_t pid)
{
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return st;
}

static unsigned starts;
static pid_t live[2]; /* the servers up now: killed by teardown when a check failed */

/* server_up starts replica r and waits for "listening on"; its URL goes to url. A start
 * that fails fails the test: after any kill the next start must recover. With shim_onto
 * the start may be killed by the shim: then it returns 0. */
static pid_t server_up(int r, char url[64], const char *shim_onto)
{
        char log[512];
        snprintf(log, sizeof(log), "%s/srv-%s-%u.log", vtt_dir, scen_name[cur], starts++);
        char *argv[] = {(char *)bin("veriteed"), "--config", cfg_path[r], NULL};
        pid_t pid = spawn(argv, log, shim_onto);
        assert_true(pid > 0);
        for (int i = 0; i < 3000; i++) {
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
                        if (shim_onto && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
                                return 0;
                        char *m = slurp(log);
                        fail_msg("veriteed start (%s) exited: %s", log, m ? m : "");
                }
                usleep(5 * 1000);
        }
        kill(pid, SIGKILL);
        reap(pid);
        fail_msg("veriteed start (%s): not listening after 15 s", log);
        return -1;
}

/* rotate runs rotate-kek to a fresh key; with shim it is killed at the rename onto
 * kek_file; with kill_after_us > 0 it is killed then. Returns its wait status. */
static int rotate(const char *shim_onto, long kill_after_us)
{
        static unsigned n;
        char key[512], log[512];
        struct vt_diag d = {0};
        snprintf(key, sizeof(key), "%s/new-%s-%u", vtt_dir, scen_name[cur], n++);
        snprintf(log, sizeof(log), "%s/rotate.log", vtt_dir);
        assert_int_equal(vt_kek_generate(key, &d), 0);
        char *argv[] = {
                (char *)bin("veritee"), "admin", "rotate-kek", key, "--config", cfg_path[0], NULL};
        pid_t pid = spawn(argv, log, shim_onto);
        assert_true(pid > 0);
        if (kill_after_us > 0) {
                usleep((useconds_t)kill_after_us);
                kill(pid, SIGKILL);
        }
        int st = reap(pid);
        unlink(key);
        return st;
}

/* ---- the clients ---- */

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
        char *rid = ud;
        size_t len = sz * n;
        if (len > 14 && strncasecmp(p, "X-Request-Id:", 13) == 0) {
                const char *v = p + 13;
                while (*v == ' ')
                        v++;
                size_t l = strcspn(v, "\r\n");
                snprintf(rid, 24, "%.*s", (int)(l < 23 ? l : 23), v);
        }
        return len;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
        (void)p;
        (void)ud;
        return sz * n;
}

/* http_put PUTs body to url+route: the HTTP status (-1 when none) and the request id. */
static long http_put(const char *url, const char *route, const char *ctype, const char *body,
                     char rid[24])
{
        char u[512], *ah = NULL, ch[128];
        long status = -1;
        CURL *c = curl_easy_init();
        rid[0] = 0;
        if (!c || asprintf(&ah, "Authorization: %s", admin_authz) < 0)
                return -1;
        snprintf(ch, sizeof(ch), "Content-Type: %s", ctype);
        struct curl_slist *hdr = curl_slist_append(NULL, ah);
        hdr = curl_slist_append(hdr, ch);
        snprintf(u, sizeof(u), "%s%s", url, route);
        curl_easy_setopt(c, CURLOPT_URL, u);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, rid);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 8000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        free(ah);
        return status;
}

static void policy_of(char *buf, size_t n, int i, long v)
{
        /* releasable (anyOf with the affirming status) and naming its value number */
        snprintf(buf, n,
                 "{\"anyOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
                 "{\"claim\":\"/crash\",\"equals\":\"p%03d-v%ld\"}]}",
                 i, v);
}

/* pick_url: a live server's URL (alternating between replicas), or false. */
static bool pick_url(long v, char url[64])
{
        pthread_mutex_lock(&mu);
        int r = (int)(v & 1);
        if (!cur_url[r][0])
                r ^= 1;
        snprintf(url, 64, "%s", cur_url[r]);
        pthread_mutex_unlock(&mu);
        return url[0] != 0;
}

/* writer: puts a secret or a policy to the paths in turn, value numbers growing. */
static void *writer(void *arg)
{
        (void)arg;
        for (long v = 0; !atomic_load(&stop);) {
                char url[64], path[64], route[128], body[256], rid[24];
                /* every third write sets the policy of the secret written just before */
                bool pol = v % 3 == 2;
                int i = (int)((pol ? v - 1 : v) % N_PATHS);
                atomic_fetch_add(&busy, 1);
                pthread_mutex_lock(&mu);
                bool up = cur_url[0][0] || cur_url[1][0];
                if (up) {
                        if (pol)
                                pattempted[i] = v;
                        else
                                attempted[i] = v;
                }
                pthread_mutex_unlock(&mu);
                if (!up || !pick_url(v, url)) {
                        atomic_fetch_sub(&busy, 1);
                        usleep(2000);
                        continue;
                }
                secret_path(path, sizeof(path), i);
                if (pol) {
                        snprintf(route, sizeof(route), "/kbs/v0/resource-policy/%s", path);
                        policy_of(body, sizeof(body), i, v);
                } else {
                        snprintf(route, sizeof(route), "/kbs/v0/resource/%s", path);
                        snprintf(body, sizeof(body), "p%03d-v%ld", i, v);
                }
                long st =
                        http_put(url, route, pol ? "application/json" : "application/octet-stream",
                                 body, rid);
                if (st == 200) {
                        pthread_mutex_lock(&mu);
                        if (pol)
                                packed[i] = v;
                        else
                                acked[i] = v;
                        if (rid[0] && n_acked_rid < MAX_ACKS)
                                memcpy(acked_rid[n_acked_rid++], rid, 24);
                        pthread_mutex_unlock(&mu);
                        atomic_fetch_add(&n_ok, 1);
                } else {
                        atomic_fetch_add(&n_fail, 1);
                        if (st > 0 && atomic_fetch_add(&n_refused, 1) == 0)
                                first_refused = st;
                }
                atomic_fetch_sub(&busy, 1);
                v++;
        }
        return NULL;
}

/* fetcher (ledger scenario): attested fetches of the secrets with a release policy; a
 * secret received must have its release entry. The token is renewed per server start. */
static void *fetcher(void *arg)
{
        (void)arg;
        char have_url[64] = "", authz[8192] = "";
        for (unsigned n = 0; !atomic_load(&stop); n++) {
                char url[64], path[128], rid[24];
                pthread_mutex_lock(&mu);
                snprintf(url, sizeof(url), "%s", cur_url[0]);
                if (url[0])
                        atomic_fetch_add(&busy, 1);
                pthread_mutex_unlock(&mu);
                if (!url[0]) {
                        usleep(2000);
                        continue;
                }
                struct server s = {0};
                snprintf(s.url, sizeof(s.url), "%s", url);
                if (strcmp(url, have_url) != 0) {
                        /* attest_token asserts; a server killed under it would fail the
                         * test, so it is only called while that server is known up:
                         * a kill waits for busy == 0 */
                        json_auto_t *jwk = new_jwk();
                        char *tok = attest_token(&s, &guest, jwk);
                        snprintf(authz, sizeof(authz), "Bearer %s", tok);
                        free(tok);
                        snprintf(have_url, sizeof(have_url), "%s", url);
                }
                atomic_fetch_sub(&busy, 1);
                snprintf(path, sizeof(path), "/kbs/v0/resource/crash/rel/r%u", n % 4);
                long st = try_get(&s, path, authz, rid);
                if (st == 200 && rid[0]) {
                        pthread_mutex_lock(&mu);
                        if (n_released < MAX_ACKS)
                                memcpy(released_rid[n_released++], rid, 24);
                        pthread_mutex_unlock(&mu);
                        atomic_fetch_add(&n_rel, 1);
                }
        }
        return NULL;
}

/* ---- the checks ---- */

static void store_open(struct vt_store **st)
{
        struct vt_diag d = {0};
        char db[512];
        int e;
        if (cur == S_PG) {
                e = vt_store_open_with(&vt_store_postgres_ops, dsn, st, &d);
        } else {
                snprintf(db, sizeof(db), "%s/state-%s/veritee.db", vtt_dir, scen_name[cur]);
                e = vt_store_open(db, st, &d);
        }
        if (e < 0)
                fail_msg("open the store: %s", d.msg);
}

/* check_store reads every secret (unsealed with the library's keyring) and policy and
 * checks them against what was acknowledged and attempted. Returns how many exist. */
static char lib_value[N_PATHS][64]; /* what the library read, "" when absent */
static bool has_policy[N_PATHS];

static int check_store(const char *when)
{
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL;
        int present = 0, bad = 0;
        char first[600] = "";
        store_open(&st);
        assert_int_equal(vt_keyring_new(kek_path, NULL, NULL, &kr), 0);
        for (int i = 0; i < N_PATHS; i++) {
                char path[64], kek[32], why[400] = "", got[64] = "";
                lib_value[i][0] = 0;
                has_policy[i] = false;
                uint8_t *w = NULL, *c = NULL, *plain = NULL;
                size_t wl, cl, pl;
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
                                         "(acknowledged v%ld) does not unseal: %.300s", acked[i],
                                         ud.msg);
                        } else {
                                int pi = -1;
                                long v = -1;
                                snprintf(got, sizeof(got), "%.*s", (int)pl, (const char *)plain);
                                OPENSSL_clear_free(plain, pl);
                                if (sscanf(got, "p%d-v%ld", &pi, &v) != 2 || pi != i)
                                        snprintf(why, sizeof(why), "holds \"%s\"", got);
                                else if (v < acked[i] || v > attempted[i])
                                        snprintf(why, sizeof(why),
                                                 "holds v%ld; acknowledged v%ld, last attempted "
                                                 "v%ld",
                                                 v, acked[i], attempted[i]);
                                else {
                                        present++;
                                        snprintf(lib_value[i], sizeof(lib_value[i]), "%s", got);
                                }
                        }
                        free(w);
                        free(c);
                }
                char *pj = NULL;
                e = vt_store_policy_get(st, path, &pj, NULL);
                if (e == VT_E_NOTFOUND) {
                        if (packed[i] >= 0 && !why[0])
                                snprintf(why, sizeof(why), "policy v%ld acknowledged, but gone",
                                         packed[i]);
                } else if (e == 0) {
                        const char *m = strstr(pj, "\"equals\":\"p");
                        int pi = -1;
                        long v = -1;
                        json_auto_t *j = json_loads(pj, 0, NULL);
                        if (!j || !m || sscanf(m, "\"equals\":\"p%d-v%ld", &pi, &v) != 2 || pi != i)
                                snprintf(why, sizeof(why), "policy is \"%.200s\"", pj);
                        else if ((v < packed[i] || v > pattempted[i]) && !why[0])
                                snprintf(why, sizeof(why),
                                         "policy v%ld; acknowledged v%ld, last attempted v%ld", v,
                                         packed[i], pattempted[i]);
                        else
                                has_policy[i] = true;
                        free(pj);
                } else {
                        fail_msg("policy of %s: %s", path, vt_strerror(e));
                }
                if (why[0] && bad++ == 0)
                        snprintf(first, sizeof(first), "%s %s", path, why);
        }
        vt_keyring_free(kr);
        vt_store_close(st);
        if (bad)
                fail_msg("%s: %d secrets or policies lost, wrong or half-written; the first: %s",
                         when, bad, first);
        return present;
}

/* check_ledger audits the ledger through server s and finds the entry of every
 * acknowledged write and every received secret since the last check. */
static size_t check_ledger(const struct server *s, const char *when)
{
        json_auto_t *entries = ledger_audit(s, admin_authz, NULL);
        pthread_mutex_lock(&mu);
        size_t na = n_acked_rid, nr = n_released;
        pthread_mutex_unlock(&mu);
        for (; rid_checked < na; rid_checked++)
                if (!ledger_find(entries, "admin", acked_rid[rid_checked]))
                        fail_msg("%s: acknowledged write %s has no ledger entry (%zu entries)",
                                 when, acked_rid[rid_checked], json_array_size(entries));
        for (; rel_checked < nr; rel_checked++)
                if (!ledger_find(entries, "release", released_rid[rel_checked]))
                        fail_msg("%s: release %s reached the client but is not in the ledger", when,
                                 released_rid[rel_checked]);
        return json_array_size(entries);
}

/* check_no_leftovers: nothing staged or temporary beside the key file. */
static void check_no_leftovers(const char *when)
{
        if (vt_test_sh("ls '%s' | grep '^kek\\.' | grep -qv '^kek\\.lock$'", vtt_dir) == 0) {
                (void)vt_test_sh("ls -l '%s' >&2", vtt_dir);
                fail_msg("%s: a staged or temporary key is left beside %s", when, kek_path);
        }
}

/* quiesce waits until no client is inside a request (all servers' URLs are cleared). */
static void quiesce(void)
{
        for (int i = 0; i < 2000 && atomic_load(&busy) > 0; i++)
                usleep(5000);
}

/* check_all: with the clients paused, the store, the ledger, a further rotation (which
 * must succeed and leave every secret readable), and nothing left over. */
static void check_all(const struct server *s, const char *when)
{
        quiesce();
        int present = check_store(when);
        check_ledger(s, when);
        int st = rotate(NULL, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("%s: a further rotate-kek failed (status %d; see %s/rotate.log)", when, st,
                         vtt_dir);
        check_no_leftovers(when);
        assert_int_equal(check_store(when), present);
}

/* sample_through_server fetches a few secrets that have a (releasable) policy with an
 * attested client and compares them with what the library read. */
static void sample_through_server(const struct server *s)
{
        int done = 0;
        for (int i = (int)(rnd() % 7); i < N_PATHS && done < 4; i += 7) {
                if (!lib_value[i][0] || !has_policy[i])
                        continue;
                EVP_PKEY *k = NULL;
                json_auto_t *jwk = new_jwk_key((void **)&k);
                char *token = attest_token(s, &guest, jwk);
                char url[128], path[64], *authz = NULL;
                struct vt_diag d = {0};
                secret_path(path, sizeof(path), i);
                assert_true(asprintf(&authz, "Bearer %s", token) > 0);
                snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
                struct http h = request_full(s, "GET", url, NULL, 0, NULL, authz);
                if (h.status != 200)
                        fail_msg("fetch %s through the server: HTTP %ld %s", path, h.status,
                                 h.body ? h.body : "");
                json_auto_t *jwe = json_loads(h.body, 0, NULL);
                uint8_t *plain = NULL;
                size_t pl = 0;
                assert_non_null(jwe);
                if (vt_jwe_decrypt(k, jwe, &plain, &pl, &d) < 0)
                        fail_msg("JWE of %s: %s", path, d.msg);
                if (pl != strlen(lib_value[i]) || memcmp(plain, lib_value[i], pl) != 0)
                        fail_msg("%s: the server released \"%.*s\", the store holds \"%s\"", path,
                                 (int)pl, (const char *)plain, lib_value[i]);
                OPENSSL_clear_free(plain, pl);
                free(h.body);
                free(authz);
                free(token);
                EVP_PKEY_free(k);
                done++;
        }
        assert_true(done > 0);
}

/* ---- the scenarios ---- */

static void write_config(int r, const char *state, const char *extra)
{
        char p[512], text[4096];
        snprintf(p, sizeof(p), "%s/%s.yaml", vtt_dir, state);
        snprintf(text, sizeof(text),
                 "listen: 127.0.0.1:0\nstate_dir: %s/%s\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "  pccs_url: http://127.0.0.1:9\n  kds_url: http://127.0.0.1:9\n"
                 "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n"
                 "ledger:\n  sth_every_entries: 50\n  sth_every_ms: 50\n%s",
                 vtt_dir, state, vtt_dir, vtt_simdir, kek_path, admin_pub, extra);
        write_text(p, text);
        snprintf(cfg_path[r], sizeof(cfg_path[r]), "%s", p);
}

static void reset_records(void)
{
        for (int i = 0; i < N_PATHS; i++)
                acked[i] = attempted[i] = packed[i] = pattempted[i] = -1;
        n_acked_rid = rid_checked = n_released = rel_checked = 0;
        atomic_store(&stop, false);
        atomic_store(&n_ok, 0);
        atomic_store(&n_fail, 0);
        atomic_store(&n_refused, 0);
        first_refused = 0;
        atomic_store(&n_rel, 0);
        cur_url[0][0] = cur_url[1][0] = 0;
}

static void set_url(int r, const char *url)
{
        pthread_mutex_lock(&mu);
        snprintf(cur_url[r], sizeof(cur_url[r]), "%s", url);
        pthread_mutex_unlock(&mu);
}

static void kill_server(pid_t *pid)
{
        for (int q = 0; q < 2; q++)
                if (live[q] == *pid)
                        live[q] = 0;
        kill(*pid, SIGKILL);
        reap(*pid);
        *pid = 0;
}

static void note_live(int r, pid_t pid)
{
        live[r] = pid;
}

/* the client threads of the scenario running (still running when a check failed) */
static pthread_t wt, ft;
static bool wt_on, ft_on;

/* leftovers: what a failed scenario left running is stopped before the next one */
static void stop_leftovers(void)
{
        atomic_store(&stop, true);
        if (wt_on)
                pthread_join(wt, NULL);
        if (ft_on)
                pthread_join(ft, NULL);
        wt_on = ft_on = false;
        for (int q = 0; q < 2; q++)
                if (live[q] > 0) {
                        kill(live[q], SIGKILL);
                        reap(live[q]);
                        live[q] = 0;
                }
}

static void run_scenario(enum scen sc)
{
        const char *only = getenv("VT_CRASH_ONLY");
        if (only && strcmp(only, scen_name[sc]) != 0)
                vtt_skip("VT_CRASH_ONLY=%s", only);
        stop_leftovers();
        cur = sc;
        reset_records();
        int nsrv = sc == S_PG ? 2 : 1;
        char state[2][32], url[64];
        pid_t pid[2] = {0, 0};
        struct server s[2];
        memset(s, 0, sizeof(s));
        if (sc == S_PG) {
                char dsn_file[512], extra[1024];
                if (vtt_pg_createdb(pg, "crash") < 0)
                        fail_msg("createdb");
                vtt_pg_dsn(pg, "crash", dsn, sizeof(dsn));
                snprintf(dsn_file, sizeof(dsn_file), "%s/pg.dsn", vtt_dir);
                write_text(dsn_file, dsn);
                /* keys shared through configuration, not made per replica */
                snprintf(extra, sizeof(extra),
                         "token:\n  signing_key: %s/token.pem\n"
                         "store:\n  backend: postgres\n  dsn_file: %s\n",
                         vtt_dir, dsn_file);
                for (int r = 0; r < 2; r++) {
                        char ex2[1200];
                        snprintf(state[r], sizeof(state[r]), "state-pg-%c", 'a' + r);
                        snprintf(ex2, sizeof(ex2), "%s", extra);
                        /* the ledger key must be one for both replicas too */
                        char *at = strstr(ex2, "store:");
                        assert_non_null(at);
                        write_config(r, state[r], "");
                        char p[512], text[4096];
                        snprintf(p, sizeof(p), "%s/%s.yaml", vtt_dir, state[r]);
                        char *old = slurp(p);
                        /* replace "ledger:" section with one that names the shared key */
                        char *l = strstr(old, "ledger:\n");
                        assert_non_null(l);
                        *l = 0;
                        snprintf(text, sizeof(text),
                                 "%sledger:\n  signing_key: %s/ledger.pem\n  sth_every_ms: 50\n%s",
                                 old, vtt_dir, ex2);
                        free(old);
                        write_text(p, text);
                }
        } else {
                snprintf(state[0], sizeof(state[0]), "state-%s", scen_name[sc]);
                write_config(0, state[0], "");
        }
        for (int r = 0; r < nsrv; r++) {
                pid[r] = server_up(r, url, NULL);
                note_live(r, pid[r]);
                s[r].pid = pid[r];
                snprintf(s[r].url, sizeof(s[r].url), "%s", url);
        }
        if (sc == S_LEDGER)
                for (int k = 0; k < 4; k++) {
                        char p[96], body[512];
                        snprintf(p, sizeof(p), "/kbs/v0/resource-policy/crash/rel/r%d", k);
                        int n = snprintf(body, sizeof(body), "%s%crel-%d", release_policy, 0, k);
                        struct http h =
                                request_full(&s[0], "PUT", p, body, (size_t)n, NULL, admin_authz);
                        assert_int_equal(h.status, 200);
                        free(h.body);
                }
        assert_int_equal(pthread_create(&wt, NULL, writer, NULL), 0);
        wt_on = true;
        if (sc == S_LEDGER) {
                assert_int_equal(pthread_create(&ft, NULL, fetcher, NULL), 0);
                ft_on = true;
        }
        for (int r = 0; r < nsrv; r++)
                set_url(r, s[r].url);

        unsigned iter = 0, kills = 0, startup_kills = 0, rot_kills = 0, commit_kills = 0,
                 recovery_kills = 0;
        time_t t0 = time(NULL);
        while (kills < kills_wanted) {
                char when[96];
                usleep(1000 * (useconds_t)(40 + rnd() % 300));
                int r = nsrv == 2 ? (int)(rnd() & 1) : 0;
                bool staged = false; /* a rotation committed, its key not yet renamed */
                if (sc == S_KEK) {
                        unsigned how = iter++ % 3;
                        if (how == 0) {
                                /* killed between the commit and the rename onto kek_file */
                                int st = rotate(kek_path, 0);
                                assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
                                kills++;
                                commit_kills++;
                                /* the new key waits beside kek_file, staged */
                                staged = vt_test_sh("ls '%s' | grep -q '^kek\\.[0-9a-f]'",
                                                    vtt_dir) == 0;
                                assert_true(staged);
                        } else if (how == 1) {
                                /* rotate-kek killed at a random point of its run */
                                int st = rotate(NULL, (long)(rnd() % 60000) + 1);
                                if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
                                        kills++;
                                        rot_kills++;
                                } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                        fail_msg("rotate-kek (not killed) failed: status %d", st);
                        }
                }
                /* the server, in the middle of whatever it does */
                set_url(r, "");
                if (sc == S_LEDGER) /* the fetcher attests only to a server known up */
                        quiesce();
                kill_server(&pid[r]);
                kills++;
                if (staged && commit_kills % 2 == 0 &&
                    vt_test_sh("ls '%s' | grep -q '^kek\\.[0-9a-f]'", vtt_dir) == 0) {
                        /* a pending rename for the start-up recovery: kill it right there */
                        if (server_up(r, url, kek_path) == 0) {
                                kills++;
                                recovery_kills++;
                        } else {
                                fail_msg("start-up recovery did not rename the staged key");
                        }
                } else if (rnd() % 3 == 0) {
                        /* and again during its start-up (recovery) */
                        char log[512];
                        snprintf(log, sizeof(log), "%s/srv-%s-%u.log", vtt_dir, scen_name[sc],
                                 starts++);
                        char *argv[] = {(char *)bin("veriteed"), "--config", cfg_path[r], NULL};
                        pid_t p = spawn(argv, log, NULL);
                        assert_true(p > 0);
                        usleep((useconds_t)(rnd() % 40000));
                        kill(p, SIGKILL);
                        reap(p);
                        kills++;
                        startup_kills++;
                }
                pid[r] = server_up(r, url, NULL);
                note_live(r, pid[r]);
                s[r].pid = pid[r];
                snprintf(s[r].url, sizeof(s[r].url), "%s", url);
                /* check with every client paused */
                for (int q = 0; q < nsrv; q++)
                        set_url(q, "");
                snprintf(when, sizeof(when), "%s, after kill %u", scen_name[sc], kills);
                check_all(&s[r], when);
                for (int q = 0; q < nsrv; q++)
                        set_url(q, s[q].url);
        }
        atomic_store(&stop, true);
        for (int q = 0; q < nsrv; q++)
                set_url(q, "");
        pthread_join(wt, NULL);
        if (sc == S_LEDGER)
                pthread_join(ft, NULL);
        wt_on = ft_on = false;
        /* the last word: every server killed, then a fresh start */
        for (int q = 0; q < nsrv; q++)
                kill_server(&pid[q]);
        kills += (unsigned)nsrv;
        pid[0] = server_up(0, url, NULL);
        note_live(0, pid[0]);
        s[0].pid = pid[0];
        snprintf(s[0].url, sizeof(s[0].url), "%s", url);
        check_all(&s[0], "after the last kill");
        size_t entries = check_ledger(&s[0], "at the end");
        sample_through_server(&s[0]);
        if (sc != S_PG) {
                /* and the offline audit of the database file with the ledger's key */
                char st_dir[512];
                snprintf(st_dir, sizeof(st_dir), "%s/%s", vtt_dir, state[0]);
                if (vt_test_sh("'%s' ledger verify --db '%s/veritee.db' --key "
                               "'%s/ledger-signing-key.pem' >'%s/verify.out' 2>&1",
                               bin("veritee"), st_dir, st_dir, vtt_dir) != 0) {
                        (void)vt_test_sh("cat '%s/verify.out' >&2", vtt_dir);
                        fail_msg("veritee ledger verify --db failed");
                }
        }
        kill(pid[0], SIGTERM);
        reap(pid[0]);
        live[0] = 0;
        print_message(
                "%s: %u kills (%u during start-up, %u of rotate-kek at random, %u of "
                "rotate-kek between commit and rename, %u in start-up recovery at that "
                "rename) in %lds; writes acknowledged %ld, not acknowledged %ld (%ld "
                "answered, the first HTTP %ld); secrets received %ld; ledger %zu entries; lost 0\n",
                scen_name[sc], kills, startup_kills, rot_kills, commit_kills, recovery_kills,
                (long)(time(NULL) - t0), atomic_load(&n_ok), atomic_load(&n_fail),
                atomic_load(&n_refused), first_refused, atomic_load(&n_rel), entries);
        assert_true(atomic_load(&n_ok) > 0);
        if (sc == S_LEDGER)
                assert_true(atomic_load(&n_rel) > 0);
}

static void test_crash_writes(void **state)
{
        (void)state;
        run_scenario(S_WRITES);
}

static void test_crash_kek(void **state)
{
        (void)state;
        run_scenario(S_KEK);
}

static void test_crash_ledger(void **state)
{
        (void)state;
        run_scenario(S_LEDGER);
}

static void test_crash_pg(void **state)
{
        (void)state;
        if (!pg && !getenv("VT_CRASH_ONLY"))
                vtt_skip("postgresql not installed");
        if (!pg)
                vtt_skip("VT_CRASH_ONLY=%s", getenv("VT_CRASH_ONLY"));
        run_scenario(S_PG);
}

static int setup(void **state)
{
        char p[512], key[512], m[97], rv[256];
        struct vt_diag d = {0};
        char *jwt = NULL;
        (void)state;
        if (vtt_setup_sim("crashloop", &guest) < 0)
                return -1;
        vt_hex_encode(guest.measurement, 48, m);
        snprintf(kek_path, sizeof(kek_path), "%s/kek", vtt_dir);
        snprintf(key, sizeof(key), "%s/admin.key", vtt_dir);
        snprintf(admin_pub, sizeof(admin_pub), "%s/admin.pub", vtt_dir);
        if (vt_kek_generate(kek_path, &d) < 0 || vt_admin_keygen(key, admin_pub, &d) < 0 ||
            vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "crash", &jwt, &d) < 0)
                return -1;
        snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", jwt);
        free(jwt);
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", m);
        snprintf(p, sizeof(p), "%s/rv.json", vtt_dir);
        write_text(p, rv);
        acked_rid = calloc(MAX_ACKS, 24);
        released_rid = calloc(MAX_ACKS, 24);
        return acked_rid && released_rid ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        stop_leftovers();
        if (!getenv("VT_KEEP_TMP"))
                (void)vt_test_sh("rm -rf '%s'", vtt_dir);
        free(acked_rid);
        free(released_rid);
        curl_global_cleanup();
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crash_writes),
                cmocka_unit_test(test_crash_kek),
                cmocka_unit_test(test_crash_ledger),
                cmocka_unit_test(test_crash_pg),
        };
        const char *k = getenv("VT_CRASH_KILLS");
        if (k && *k) {
                char *end = NULL;
                unsigned long v = strtoul(k, &end, 10);
                if (!end || *end || v == 0 || v > 100000) {
                        fprintf(stderr, "VT_CRASH_KILLS: a positive number\n");
                        return 1;
                }
                kills_wanted = (unsigned)v;
        }
        rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        if (getenv("VT_CRASH_SEED"))
                rng_state = strtoull(getenv("VT_CRASH_SEED"), NULL, 10);
        if (!rng_state)
                rng_state = 1;
        printf("seed %llu (VT_CRASH_SEED), %u kills per scenario (VT_CRASH_KILLS)\n",
               (unsigned long long)rng_state, kills_wanted);
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        signal(SIGPIPE, SIG_IGN);
        const char *only = getenv("VT_CRASH_ONLY");
        if ((!only || strcmp(only, "pg") == 0) && (vtt_pg_available() || getenv("CI")))
                pg = vtt_pg_start(); /* in CI, fails when PostgreSQL is not installed */
        else if (!only || strcmp(only, "pg") == 0)
                printf("pg scenario skipped: postgresql not installed\n");
        return vtt_run_group_tests(tests, setup, teardown);
}
