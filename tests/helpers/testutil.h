/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for cmocka tests: test vectors from ../shared/testdata, file loading, and the
 * skip bookkeeping that makes a suite whose every case was skipped say so to CTest. */
#ifndef VT_TESTUTIL_H
#define VT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* A test that could not run says skipped, never passed: every skip goes through vtt_skip
 * (which records it and prints the reason) and every suite through vtt_run_group_tests
 * (which exits 77, CTest's SKIP_RETURN_CODE, when every case was skipped). cmocka's own
 * spellings are routed through the same bookkeeping, so that a test written (or merged)
 * with skip() or cmocka_run_group_tests cannot bypass it; write vtt_skip("why") so that
 * the log says why. */
#undef skip
#define skip() vtt_skip_at(__FILE__, __LINE__, "%s", "no reason given (write vtt_skip(\"why\"))")
#undef cmocka_run_group_tests
#define cmocka_run_group_tests(tests, group_setup, group_teardown)                                 \
        vtt_run_group_tests(tests, group_setup, group_teardown)

/* vtt_skip ends the current test case as skipped after printing "skipped: REASON" (a
 * printf format); it is counted for vtt_run_group_tests. Call it from a test case (or from
 * a helper the case calls), not from a group setup: cmocka reports a group setup that
 * skips as failed. Does not return. */
#define vtt_skip(...) vtt_skip_at(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void vtt_skip_at(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* vtt_run_group_tests runs the cases of the array TESTS like cmocka_run_group_tests and
 * returns what main should return: the number of failed cases if any failed, else 77
 * when every case was skipped, else 0. */
#define vtt_run_group_tests(tests, group_setup, group_teardown)                                    \
        vtt_run_group(#tests, tests, sizeof(tests) / sizeof((tests)[0]), group_setup,              \
                      group_teardown)
int vtt_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
                  CMFixtureFunction group_setup, CMFixtureFunction group_teardown);

/* The exit status of a suite whose every case was skipped (CTest SKIP_RETURN_CODE). */
#define VTT_EXIT_SKIPPED 77

/* vt_testdata returns the absolute path of REL under the shared test vectors
 * (env VT_TESTDATA, else the configured default) in a static buffer, or NULL if the
 * test-vector directory is absent or empty (an empty checkout is no vectors, and a test
 * that needs them is skipped rather than failed on a missing file). */
const char *vt_testdata(const char *rel);

/* vt_test_load reads a whole file; fails the test if unreadable. Caller frees. */
uint8_t *vt_test_load(const char *path, size_t *len);

/* vt_test_load_vector reads REL from the shared vectors; NULL (and the test is
 * skipped with "skipped: ../shared/testdata not found") when they are absent. */
uint8_t *vt_test_load_vector(const char *rel, size_t *len);

/* vt_test_helper returns the path of NAME in tests/helpers of the source tree (scripts the
 * tests run, e.g. "oaep_rsa.py") in a static buffer. */
const char *vt_test_helper(const char *name);

/* vt_test_run_capture runs argv (argv[0] a path) with stdout captured into out
 * (NUL-terminated, at most cap - 1 bytes) and stderr to /dev/null; returns the exit
 * status, or -1 if it did not exit normally. Fails the test if it cannot start. */
int vt_test_run_capture(char *const argv[], char *out, size_t cap);

/* vt_test_sh runs a shell command made from fmt (at most 8 KiB); returns its exit
 * status, or -1 if it did not exit normally. */
int vt_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* vt_test_rm_dir removes a directory and everything in it (symbolic links are removed, not
 * followed; errors ignored). */
void vt_test_rm_dir(const char *dir);

/* vt_test_fresh_dir removes the directory in dir (if dir is not empty) and makes a new
 * one, $TMPDIR/vt-test-TAG-XXXXXX (else /tmp), whose path it writes into dir. */
void vt_test_fresh_dir(char *dir, size_t cap, const char *tag);

/* vt_test_count_files returns the number of entries in dir (fails the test if it
 * cannot be read) and writes the name of the last one seen into name (if not NULL). */
int vt_test_count_files(const char *dir, char *name, size_t cap);

/* vt_test_db_int runs sql (a query of one row) on the SQLite file db, opened read-only
 * (waiting up to 5 s for a writer), and returns the row's first column as an integer;
 * fails the test on any error, naming the query. */
long long vt_test_db_int(const char *db, const char *sql);

/* A growing NUL-terminated text, for tests that write JSON piece by piece: vt_test_put
 * appends s (the test fails if memory runs out); free p when done. */
struct vt_test_text {
        char *p;
        size_t len, cap;
};
void vt_test_put(struct vt_test_text *t, const char *s);

/* VT_REQUIRE_TESTDATA skips the current test when the vectors are absent. */
#define VT_REQUIRE_TESTDATA()                                                                      \
        do {                                                                                       \
                if (!vt_testdata(""))                                                              \
                        vtt_skip("../shared/testdata not found");                                  \
        } while (0)

#endif
