/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets in memory and on disk (issue 16): veriteed runs with core dumps off
 * (/proc/PID/limits: core size 0) and non-dumpable (proc(5): the files of a non-dumpable
 * process's /proc/PID are owned by root, so the server runs as another user for the
 * check), and the flows that carry secrets -- `veritee secret put` from a file, from
 * standard input and from the environment, direct admin PUTs (also rejected ones),
 * attested releases with `veritee agent get-resource`, a denied release, a KEK rotation
 * -- write none of the secret values they used, nor the KEK, into any log: the server's
 * log and every CLI's standard error and output are searched for each value raw, in
 * lowercase and uppercase hex and in base64 and base64url (with and without padding).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/seal.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "vtdtest.h"

extern char **environ;

#define NOBODY 65534

static struct vt_sim_guest guest;
static char cfg_path[512], kek_path[512], token_path[512], admin_authz[2048], runas[96];
static struct server S;

/* the secret values: text, binary, and one passed through the environment */
static char sec_text[64], sec_env[64];
static uint8_t sec_bin[32];

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static int setup(void **state)
{
        char p[512], key[512], pub[512], m[97], rv[256], hex[25];
        struct vt_diag d = {0};
        char *jwt = NULL;
        uint8_t r[12];
        (void)state;
        if (vtt_setup_sim("hygiene", &guest) < 0)
                return -1;
        /* distinctive values: random, so that a hit cannot be a coincidence */
        if (RAND_bytes(r, sizeof(r)) != 1 || RAND_bytes(sec_bin, sizeof(sec_bin)) != 1)
                return -1;
        vt_hex_encode(r, sizeof(r), hex);
        snprintf(sec_text, sizeof(sec_text), "hygiene-text-%s", hex);
        if (RAND_bytes(r, sizeof(r)) != 1)
                return -1;
        vt_hex_encode(r, sizeof(r), hex);
        snprintf(sec_env, sizeof(sec_env), "hygiene-env-%s", hex);

        vt_hex_encode(guest.measurement, 48, m);
        path_in(kek_path, sizeof(kek_path), "kek");
        path_in(key, sizeof(key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        if (vt_kek_generate(kek_path, &d) < 0 || vt_admin_keygen(key, pub, &d) < 0 ||
            vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "hygiene", &jwt, &d) < 0)
                return -1;
        snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", jwt);
        path_in(token_path, sizeof(token_path), "admin.jwt");
        write_text(token_path, jwt);
        free(jwt);
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", m);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        char cfg[2048];
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "  pccs_url: http://127.0.0.1:9\n  kds_url: http://127.0.0.1:9\n"
                 "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n",
                 vtt_dir, vtt_dir, vtt_simdir, kek_path, pub);
        path_in(cfg_path, sizeof(cfg_path), "hygiene.yaml");
        write_text(cfg_path, cfg);
        /* as root, the server and the CLIs run as nobody: proc(5) shows a non-dumpable
         * process's /proc/PID files as root's only when it runs as someone else */
        if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0) {
                snprintf(runas, sizeof(runas),
                         "/usr/bin/setpriv --reuid=%d --regid=%d --clear-groups ", NOBODY, NOBODY);
                if (vt_test_sh("chown -R %d:%d '%s'", NOBODY, NOBODY, vtt_dir) != 0)
                        return -1;
                /* nobody must reach the directory (a TMPDIR under a private home, no
                 * CAP_SETUID in a container): else everything runs as root */
                if (vt_test_sh("%s/bin/sh -c 'test -w \"%s\"' 2>/dev/null", runas, vtt_dir) != 0) {
                        printf("running as root: nobody cannot use %s\n", vtt_dir);
                        runas[0] = 0;
                }
        }
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (S.pid > 0) {
                kill(S.pid, SIGKILL);
                waitpid(S.pid, NULL, 0);
        }
        if (!getenv("VT_KEEP_TMP"))
                (void)vt_test_sh("rm -rf '%s'", vtt_dir);
        curl_global_cleanup();
        return 0;
}

/* start the server (as nobody when root), its log in DIR/veriteed.log */
static void start(void)
{
        char cmd[2048];
        path_in(S.log, sizeof(S.log), "veriteed.log");
        snprintf(cmd, sizeof(cmd), "exec %s'%s' --config '%s' 2>>'%s' >/dev/null", runas,
                 bin("veriteed"), cfg_path, S.log);
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        assert_int_equal(posix_spawn(&S.pid, argv[0], NULL, NULL, argv, environ), 0);
        for (int i = 0; i < 3000; i++) {
                char *l = slurp(S.log);
                const char *h = l ? strstr(l, "listening on http://127.0.0.1:") : NULL;
                if (h) {
                        unsigned port = 0;
                        assert_int_equal(sscanf(h, "listening on http://127.0.0.1:%u", &port), 1);
                        snprintf(S.url, sizeof(S.url), "http://127.0.0.1:%u", port);
                        free(l);
                        return;
                }
                free(l);
                if (waitpid(S.pid, NULL, WNOHANG) == S.pid) {
                        char *m = slurp(S.log);
                        S.pid = 0;
                        fail_msg("veriteed exited: %s", m ? m : "");
                }
                usleep(5000);
        }
        fail_msg("veriteed did not start");
}

/* cli runs `veritee ARGS` (as nobody when root) with its output in DIR/cli-N.out and
 * .err; returns its exit status. */
static int cli(const char *args)
{
        static unsigned n;
        char out[512], err[512];
        snprintf(out, sizeof(out), "%s/cli-%u.out", vtt_dir, n);
        snprintf(err, sizeof(err), "%s/cli-%u.err", vtt_dir, n++);
        return vt_test_sh("cd '%s' && %s'%s' %s >'%s' 2>'%s'", vtt_dir, runas, bin("veritee"), args,
                          out, err);
}

static void put_direct(const char *path, const uint8_t *v, size_t n, const char *authz, long want)
{
        char route[256];
        snprintf(route, sizeof(route), "/kbs/v0/resource/%s", path);
        struct http h = request_full(&S, "PUT", route, (const char *)v, n, NULL, authz);
        if (h.status != want)
                fail_msg("PUT %s: HTTP %ld, want %ld: %s", path, h.status, want,
                         h.body ? h.body : "");
        free(h.body);
}

/* the needles: a value raw, in hex (both cases) and base64 (std and url, padded or not) */
struct needles {
        char *v[16];
        size_t len[16];
        char what[16][48];
        size_t n;
};

static void add(struct needles *nd, const void *p, size_t len, const char *what)
{
        assert_true(nd->n < 16);
        nd->v[nd->n] = malloc(len + 1);
        assert_non_null(nd->v[nd->n]);
        memcpy(nd->v[nd->n], p, len);
        nd->v[nd->n][len] = 0;
        nd->len[nd->n] = len;
        snprintf(nd->what[nd->n], sizeof(nd->what[0]), "%s", what);
        nd->n++;
}

static void needles_of(struct needles *nd, const uint8_t *v, size_t len)
{
        char *hex = malloc(2 * len + 1), *b = NULL;
        assert_non_null(hex);
        add(nd, v, len, "raw");
        vt_hex_encode(v, len, hex);
        add(nd, hex, 2 * len, "hex");
        for (size_t i = 0; i < 2 * len; i++)
                if (hex[i] >= 'a' && hex[i] <= 'f')
                        hex[i] = (char)(hex[i] - 'a' + 'A');
        add(nd, hex, 2 * len, "HEX");
        free(hex);
        assert_int_equal(vt_b64_encode(v, len, VT_B64_STD, &b), 0);
        add(nd, b, strlen(b), "base64");
        /* without padding, and only the part no neighbouring byte can change */
        size_t bl = strlen(b);
        while (bl && b[bl - 1] == '=')
                bl--;
        add(nd, b, bl - (bl % 4 ? 1 : 0), "base64 (unpadded)");
        free(b);
        assert_int_equal(vt_b64_encode(v, len, VT_B64_URL, &b), 0);
        bl = strlen(b);
        while (bl && b[bl - 1] == '=')
                bl--;
        add(nd, b, bl - (bl % 4 ? 1 : 0), "base64url");
        free(b);
}

static void needles_free(struct needles *nd)
{
        for (size_t i = 0; i < nd->n; i++)
                free(nd->v[i]);
        nd->n = 0;
}

/* search fails the test when a log in DIR (veriteed.log, cli-*.out, cli-*.err) holds any
 * form of value; returns how many files were searched. */
static size_t search(const char *name, const uint8_t *v, size_t len)
{
        struct needles nd = {0};
        glob_t g;
        char pat[512];
        size_t files = 0;
        needles_of(&nd, v, len);
        snprintf(pat, sizeof(pat), "%s/*.log", vtt_dir);
        assert_int_equal(glob(pat, 0, NULL, &g), 0);
        snprintf(pat, sizeof(pat), "%s/cli-*", vtt_dir);
        assert_int_equal(glob(pat, GLOB_APPEND, NULL, &g), 0);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                uint8_t *buf = NULL;
                size_t bl = 0;
                assert_int_equal(vt_read_file(g.gl_pathv[i], 64u << 20, &buf, &bl), 0);
                for (size_t k = 0; k < nd.n; k++)
                        if (memmem(buf, bl, nd.v[k], nd.len[k]))
                                fail_msg("%s holds the %s in %s form", g.gl_pathv[i], name,
                                         nd.what[k]);
                free(buf);
                files++;
        }
        globfree(&g);
        needles_free(&nd);
        return files;
}

static void expect_file(const char *name, const void *v, size_t len)
{
        char p[512];
        uint8_t *buf = NULL;
        size_t bl = 0;
        path_in(p, sizeof(p), name);
        assert_int_equal(vt_read_file(p, 1 << 20, &buf, &bl), 0);
        assert_int_equal(bl, len);
        assert_memory_equal(buf, v, len);
        free(buf);
        unlink(p); /* the secret itself, by design: not a log */
}

static void test_secret_hygiene_process(void **state)
{
        (void)state;
        char p[64], line[256];
        start();
        /* core dumps off */
        snprintf(p, sizeof(p), "/proc/%d/limits", (int)S.pid);
        char *lim = slurp(p);
        assert_non_null(lim);
        const char *c = strstr(lim, "Max core file size");
        assert_non_null(c);
        snprintf(line, sizeof(line), "%.*s", (int)strcspn(c, "\n"), c);
        unsigned long soft = 1, hard = 1;
        if (sscanf(line, "Max core file size %lu %lu", &soft, &hard) != 2 || soft || hard)
                fail_msg("veriteed may dump core: \"%s\"", line);
        free(lim);
        /* non-dumpable: its /proc/PID files belong to root although it runs as another */
        struct stat st;
        snprintf(p, sizeof(p), "/proc/%d/status", (int)S.pid);
        char *status = slurp(p);
        assert_non_null(status);
        const char *u = strstr(status, "\nUid:");
        unsigned ruid = 0;
        assert_non_null(u);
        assert_int_equal(sscanf(u, "\nUid: %u", &ruid), 1);
        free(status);
        /* and its private keys are on the locked heap */
        char *l = NULL;
        const char *k = NULL;
        for (int i = 0; i < 500 && !k; i++) { /* logged just after "listening on" */
                free(l);
                if (i)
                        usleep(10000);
                l = slurp(S.log);
                k = l ? strstr(l, "private keys in locked memory: ") : NULL;
        }
        size_t used = 0;
        if (!k || sscanf(k, "private keys in locked memory: %zu", &used) != 1 || used == 0)
                fail_msg("no private key in locked memory: %s", l ? l : "");
        free(l);
        if (ruid == 0)
                vtt_skip("veriteed runs as root here (it cannot be run as another user): its "
                         "dumpable flag cannot be seen in /proc");
        assert_int_equal(stat(p, &st), 0);
        if (st.st_uid != 0)
                fail_msg("veriteed (uid %u) is dumpable: %s is owned by uid %u", ruid, p,
                         (unsigned)st.st_uid);
        print_message("veriteed (uid %u): core size limit 0, not dumpable, %zu bytes of private "
                      "keys locked\n",
                      ruid, used);
}

static void test_secret_hygiene_logs(void **state)
{
        (void)state;
        char args[2048], f[512];
        if (!S.pid)
                start();
        char demo[512];
        path_in(demo, sizeof(demo), "release.json");
        write_text(demo, "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\","
                         "\"equals\":\"affirming\"}]}");
        if (*runas)
                assert_int_equal(vt_test_sh("chown %d '%s'", NOBODY, demo), 0);
        /* secret put from a file, from standard input and from the environment */
        path_in(f, sizeof(f), "in-text");
        write_text(f, sec_text);
        if (*runas)
                assert_int_equal(vt_test_sh("chown %d '%s'", NOBODY, f), 0);
        snprintf(args, sizeof(args),
                 "secret put hyg/key/text '%s' --policy '%s' --url %s --token '%s'", f, demo, S.url,
                 token_path);
        assert_int_equal(cli(args), 0);
        unlink(f);
        path_in(f, sizeof(f), "in-bin");
        assert_int_equal(vt_write_file_atomic(f, sec_bin, sizeof(sec_bin), 0600), 0);
        if (*runas)
                assert_int_equal(vt_test_sh("chown %d '%s'", NOBODY, f), 0);
        snprintf(args, sizeof(args),
                 "secret put hyg/key/bin - --policy '%s' --url %s --token '%s' <'%s'", demo, S.url,
                 token_path, f);
        assert_int_equal(cli(args), 0);
        unlink(f);
        snprintf(args, sizeof(args),
                 "secret put hyg/key/env --from-env HYG --policy '%s' --url %s --token '%s'", demo,
                 S.url, token_path);
        setenv("HYG", sec_env, 1);
        assert_int_equal(cli(args), 0);
        unsetenv("HYG");
        /* direct admin PUTs: accepted, and refused (no token, a wrong path) with the body */
        put_direct("hyg/key/direct", (const uint8_t *)sec_text, strlen(sec_text), admin_authz, 200);
        put_direct("hyg/key/direct", (const uint8_t *)sec_text, strlen(sec_text), NULL, 401);
        put_direct("hyg/key/x/../y", (const uint8_t *)sec_env, strlen(sec_env), admin_authz, 404);
        /* attested releases, each value to a file (the secret, not a log) */
        static const struct {
                const char *path, *out;
        } rel[] = {{"hyg/key/text", "out-text"},
                   {"hyg/key/bin", "out-bin"},
                   {"hyg/key/env", "out-env"}};
        for (size_t i = 0; i < 3; i++) {
                snprintf(args, sizeof(args),
                         "agent get-resource --url %s --tee sim --sim-dir '%s' %s -o '%s/%s'",
                         S.url, vtt_simdir, rel[i].path, vtt_dir, rel[i].out);
                if (cli(args) != 0) {
                        (void)vt_test_sh("cat '%s'/cli-*.err >&2", vtt_dir);
                        fail_msg("agent get-resource %s failed", rel[i].path);
                }
        }
        expect_file("out-text", sec_text, strlen(sec_text));
        expect_file("out-bin", sec_bin, sizeof(sec_bin));
        expect_file("out-env", sec_env, strlen(sec_env));
        /* a denied release: the secret "direct" has no policy (deny by default) */
        snprintf(
                args, sizeof(args),
                "agent get-resource --url %s --tee sim --sim-dir '%s' hyg/key/direct -o '%s/out-d'",
                S.url, vtt_simdir, vtt_dir);
        assert_int_not_equal(cli(args), 0);
        /* a KEK rotation: the old and the new KEK must not be logged either */
        uint8_t *old_kek = NULL, *new_kek = NULL;
        size_t okl = 0, nkl = 0;
        char newk[512];
        struct vt_diag d = {0};
        assert_int_equal(vt_read_file(kek_path, 4096, &old_kek, &okl), 0);
        path_in(newk, sizeof(newk), "kek.new-input");
        assert_int_equal(vt_kek_generate(newk, &d), 0);
        assert_int_equal(vt_read_file(newk, 4096, &new_kek, &nkl), 0);
        if (*runas)
                assert_int_equal(vt_test_sh("chown %d '%s'", NOBODY, newk), 0);
        snprintf(args, sizeof(args), "admin rotate-kek '%s' --config '%s'", newk, cfg_path);
        assert_int_equal(cli(args), 0);
        unlink(newk);
        /* and the secrets are still released after it */
        snprintf(args, sizeof(args),
                 "agent get-resource --url %s --tee sim --sim-dir '%s' hyg/key/text -o "
                 "'%s/out-text'",
                 S.url, vtt_simdir, vtt_dir);
        assert_int_equal(cli(args), 0);
        expect_file("out-text", sec_text, strlen(sec_text));
        /* stop the server: its log is complete */
        kill(S.pid, SIGTERM);
        waitpid(S.pid, NULL, 0);
        S.pid = 0;

        size_t files = search("text secret", (const uint8_t *)sec_text, strlen(sec_text));
        search("binary secret", sec_bin, sizeof(sec_bin));
        search("secret from the environment", (const uint8_t *)sec_env, strlen(sec_env));
        /* a KEK file holds its key in hex on one line: search the key bytes */
        uint8_t kb[64];
        size_t kl = 0;
        for (int k = 0; k < 2; k++) {
                const uint8_t *kf = k ? new_kek : old_kek;
                size_t kfl = k ? nkl : okl;
                while (kfl && (kf[kfl - 1] == '\n' || kf[kfl - 1] == '\r'))
                        kfl--;
                char hexk[65];
                assert_true(kfl == 64);
                memcpy(hexk, kf, 64);
                hexk[64] = 0;
                int r = vt_hex_decode(hexk, kb, sizeof(kb));
                assert_int_equal(r, 32);
                kl = (size_t)r;
                OPENSSL_cleanse(hexk, sizeof(hexk));
                search(k ? "new KEK" : "old KEK", kb, kl);
        }
        OPENSSL_clear_free(old_kek, okl);
        OPENSSL_clear_free(new_kek, nkl);
        /* the logs are there and say something: the search could have found a value */
        char lp[512];
        path_in(lp, sizeof(lp), "veriteed.log");
        char *l = slurp(lp);
        assert_non_null(l);
        assert_non_null(strstr(l, "hyg/key/text"));
        free(l);
        print_message("%zu logs searched (veriteed and %s): no secret value, no KEK, in any "
                      "form\n",
                      files, "every CLI run's stdout and stderr");
}

/* Key memory: with RLIMIT_MEMLOCK too small to lock the private keys, veriteed says so
 * and starts; with secrets.require_locked_memory it refuses to. (As root, CAP_IPC_LOCK
 * ignores the limit: the server runs as nobody for this.) */
static void test_secret_hygiene_memlock(void **state)
{
        char req[512], err[512];
        (void)state;
        if (!*runas && geteuid() == 0)
                vtt_skip("veriteed runs as root here: CAP_IPC_LOCK ignores RLIMIT_MEMLOCK");
        path_in(req, sizeof(req), "required.yaml");
        char *c = slurp(cfg_path);
        assert_non_null(c);
        char *sec = strstr(c, "secrets:\n");
        assert_non_null(sec);
        *sec = 0;
        char text[4096];
        snprintf(text, sizeof(text), "%ssecrets:\n  require_locked_memory: true\n%s", c,
                 sec + strlen("secrets:\n"));
        free(c);
        write_text(req, text);
        if (*runas)
                assert_int_equal(vt_test_sh("chown %d '%s'", NOBODY, req), 0);
        path_in(err, sizeof(err), "memlock.log");
        assert_int_equal(vt_test_sh("ulimit -l 8 && %s'%s' --config '%s' --check-config "
                                    "2>'%s' >/dev/null",
                                    runas, bin("veriteed"), cfg_path, err),
                         0);
        char *l = slurp(err);
        assert_non_null(l);
        if (!strstr(l, "\"level\":\"warning\",\"msg\":\"private keys are not locked in memory: "
                       "mlock failed (RLIMIT_MEMLOCK 8192 bytes"))
                fail_msg("no warning about unlocked keys: %s", l);
        free(l);
        assert_int_not_equal(vt_test_sh("ulimit -l 8 && %s'%s' --config '%s' --check-config "
                                        "2>'%s' >/dev/null",
                                        runas, bin("veriteed"), req, err),
                             0);
        l = slurp(err);
        assert_non_null(l);
        if (!strstr(l, "start-up failed: secrets.require_locked_memory is true"))
                fail_msg("required but not locked, and no refusal: %s", l);
        free(l);
        /* with room to lock (the server of the other cases), no warning */
        assert_int_equal(vt_test_sh("ulimit -l 1024 && %s'%s' --config '%s' --check-config "
                                    "2>'%s' >/dev/null",
                                    runas, bin("veriteed"), req, err),
                         0);
        l = slurp(err);
        assert_non_null(l);
        assert_null(strstr(l, "not locked"));
        free(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secret_hygiene_process),
                cmocka_unit_test(test_secret_hygiene_memlock),
                cmocka_unit_test(test_secret_hygiene_logs),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        signal(SIGPIPE, SIG_IGN);
        return vtt_run_group_tests(tests, setup, teardown);
}
