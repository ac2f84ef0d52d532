/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util/file.h"

extern char **environ;

#ifndef VT_TESTDATA_DEFAULT
#define VT_TESTDATA_DEFAULT "../shared/testdata"
#endif
#ifndef VT_TEST_HELPERS_DIR
#error "VT_TEST_HELPERS_DIR (tests/helpers of the source tree) is set by tests/CMakeLists.txt"
#endif

/* Cases that ended in vtt_skip in this process (cmocka runs the cases one after another in
 * the calling process, and a case ends at its first skip). */
static size_t vtt_skipped;

void vtt_skip_at(const char *file, int line, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        print_message("skipped: %s\n", msg);
        vtt_skipped++;
        _skip(file, line);
        abort(); /* _skip does not return */
}

int vtt_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
                  CMFixtureFunction group_setup, CMFixtureFunction group_teardown)
{
        vtt_skipped = 0;
        int failed = _cmocka_run_group_tests(name, tests, n, group_setup, group_teardown);
        if (failed != 0)
                return failed;
        if (n > 0 && vtt_skipped >= n) {
                print_message(
                        "%s: all %zu cases skipped: exit %d, reported as skipped, not passed\n",
                        program_invocation_short_name, n, VTT_EXIT_SKIPPED);
                return VTT_EXIT_SKIPPED;
        }
        return 0;
}

const char *vt_testdata(const char *rel)
{
        static __thread char buf[4096];
        const char *base = getenv("VT_TESTDATA");
        struct stat st;
        if (!base || !*base)
                base = VT_TESTDATA_DEFAULT;
        if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode))
                return NULL;
        DIR *d = opendir(base);
        bool empty = true;
        if (!d)
                return NULL;
        for (struct dirent *de; empty && (de = readdir(d));)
                empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
        closedir(d);
        if (empty)
                return NULL;
        snprintf(buf, sizeof(buf), "%s/%s", base, rel);
        return buf;
}

uint8_t *vt_test_load(const char *path, size_t *len)
{
        uint8_t *buf = NULL;
        int e = vt_read_file(path, 64u << 20, &buf, len);
        if (e < 0)
                fail_msg("cannot read %s", path);
        return buf;
}

uint8_t *vt_test_load_vector(const char *rel, size_t *len)
{
        const char *p = vt_testdata(rel);
        if (!p)
                vtt_skip("../shared/testdata not found");
        return vt_test_load(p, len);
}

const char *vt_test_helper(const char *name)
{
        static __thread char buf[4096];
        snprintf(buf, sizeof(buf), "%s/%s", VT_TEST_HELPERS_DIR, name);
        return buf;
}

int vt_test_run_capture(char *const argv[], char *out, size_t cap)
{
        posix_spawn_file_actions_t fa;
        int p[2];
        pid_t pid;
        size_t len = 0;
        int status = 0;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
        assert_int_equal(posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO), 0);
        assert_int_equal(
                posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0), 0);
        int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        if (e != 0) {
                close(p[0]);
                print_message("cannot run %s: %s\n", argv[0], strerror(e));
                fail();
        }
        for (;;) {
                ssize_t k = read(p[0], out + len, cap - 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t)k;
                if (len == cap - 1)
                        break;
        }
        out[len] = 0;
        close(p[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int vt_test_sh(const char *fmt, ...)
{
        char cmd[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        int st = system(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void vt_test_rm_dir(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    unlinkat(dirfd(d), de->d_name, 0) == 0 || errno != EISDIR)
                        continue;
                /* a directory (a server's state: its caches): its contents first; a
                 * symbolic link is removed above, never followed */
                char sub[4096];
                if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < sizeof(sub))
                        vt_test_rm_dir(sub);
        }
        closedir(d);
        (void)rmdir(dir);
}

void vt_test_fresh_dir(char *dir, size_t cap, const char *tag)
{
        const char *tmp = getenv("TMPDIR");
        if (dir[0])
                vt_test_rm_dir(dir);
        snprintf(dir, cap, "%s/vt-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
        assert_non_null(mkdtemp(dir));
}

int vt_test_count_files(const char *dir, char *name, size_t cap)
{
        DIR *d = opendir(dir);
        int n = 0;
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                n++;
                if (name)
                        snprintf(name, cap, "%s", de->d_name);
        }
        closedir(d);
        return n;
}

long long vt_test_db_int(const char *db, const char *sql)
{
        sqlite3 *h = NULL;
        sqlite3_stmt *st = NULL;
        if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
                fail_msg("open %s: %s", db, h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_busy_timeout(h, 5000);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
                fail_msg("%s: %s", sql, sqlite3_errmsg(h));
        if (sqlite3_step(st) != SQLITE_ROW)
                fail_msg("%s: no row (%s)", sql, sqlite3_errmsg(h));
        long long v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(h);
        return v;
}

void vt_test_put(struct vt_test_text *t, const char *s)
{
        size_t n = strlen(s);
        if (t->len + n + 1 > t->cap) {
                t->cap = 2 * (t->len + n + 1);
                t->p = realloc(t->p, t->cap);
                assert_non_null(t->p);
        }
        memcpy(t->p + t->len, s, n + 1);
        t->len += n;
}
