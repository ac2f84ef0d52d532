/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veriteed's log lines (src/veriteed/response.c) are written straight into a buffer, as
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9))
 * wrote them when they were built as jansson values. Checked here against jansson itself:
 * each line, for requests whose fields are random bytes (quotes, backslashes, control
 * characters, multi-byte UTF-8, bytes that are no UTF-8 at all) and durations of every
 * magnitude, must parse, and must be byte for byte what jansson writes of what it parsed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "response.h"
#include "testutil.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void) /* splitmix64: reproducible */
{
        uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* fills s (cap bytes, NUL included) with up to cap - 1 bytes of every kind */
static void random_text(char *s, size_t cap)
{
        static const char *const pieces[] = {"\"",
                                             "\\",
                                             "\n",
                                             "\t",
                                             "\x01",
                                             "\x1f",
                                             "\x7f",
                                             "/",
                                             "\xc3\xa9",
                                             "\xe2\x80\xa8",
                                             "\xf0\x9f\x94\x91",
                                             "\xff",
                                             "\xc3",
                                             "\xed\xa0\x80",
                                             "plain",
                                             " "};
        size_t n = 0, want = next() % cap;
        while (n < want) {
                const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
                size_t l = strlen(p);
                if (n + l >= cap)
                        break;
                memcpy(s + n, p, l);
                n += l;
        }
        s[n] = 0;
}

/* runs f(arg) with stderr going to a file and returns what it wrote (malloc'd) */
static char *capture(void (*f)(void *), void *arg)
{
        FILE *tmp = tmpfile();
        assert_non_null(tmp);
        fflush(stderr);
        int saved = dup(2);
        assert_true(saved >= 0);
        assert_true(dup2(fileno(tmp), 2) >= 0);
        f(arg);
        fflush(stderr);
        assert_true(dup2(saved, 2) >= 0);
        close(saved);
        long n = ftell(tmp);
        if (n <= 0)
                n = lseek(fileno(tmp), 0, SEEK_END);
        assert_true(n > 0);
        char *buf = calloc(1, (size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fileno(tmp), buf, (size_t)n, 0), n);
        fclose(tmp);
        return buf;
}

/* the line (one, ending in a newline) parses and is what jansson writes of it */
static void check_line(const char *line, const char *msg)
{
        size_t n = strlen(line);
        assert_true(n > 1 && line[n - 1] == '\n' && !memchr(line, '\n', n - 1));
        json_error_t je;
        json_t *j = json_loadb(line, n - 1, 0, &je);
        if (!j)
                fail_msg("a log line does not parse (%s): %s", je.text, line);
        char *again = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
                                            JSON_REAL_PRECISION(9));
        assert_non_null(again);
        if (strlen(again) != n - 1 || memcmp(again, line, n - 1) != 0)
                fail_msg("a log line differs from jansson's:\n ours:    %.*s\n jansson: %s",
                         (int)(n - 1), line, again);
        assert_string_equal(json_string_value(json_object_get(j, "msg")), msg);
        free(again);
        json_decref(j);
}

static void log_request(void *arg)
{
        vtd_log_request(arg);
}

static void test_log_request_lines(void **state)
{
        (void)state;
        for (int i = 0; i < 3000; i++) {
                struct vtd_request r = {0};
                snprintf(r.id, sizeof(r.id), "%016llx", (unsigned long long)next());
                random_text(r.client, sizeof(r.client));
                random_text(r.method, sizeof(r.method));
                random_text(r.tee, sizeof(r.tee));
                random_text(r.verdict, sizeof(r.verdict));
                random_text(r.reason, sizeof(r.reason));
                random_text(r.sub, sizeof(r.sub));
                r.route = (enum vtd_route)(next() % (_ROUTE_MAX + 1));
                r.status = (unsigned)(next() % 600);
                /* durations from zero to one that wraps (a start in the future): the
                 * reals in plain and in exponent form */
                uint64_t now = vtd_now_us(), back = next() % 5;
                r.start_us = back == 0   ? now
                             : back == 1 ? now - next() % 1000
                             : back == 2 ? now - next() % 10000000000ull
                             : back == 3 ? now + 1 + next() % 1000
                                         : 0;
                char *line = capture(log_request, &r);
                check_line(line, "request");
                /* a real always, as jansson wrote 0.0 and 100.0, never an integer */
                json_t *j = json_loads(line, 0, NULL);
                assert_true(json_is_real(json_object_get(j, "duration_ms")));
                assert_true(json_is_integer(json_object_get(j, "status")));
                json_decref(j);
                free(line);
        }
}

static void log_message(void *arg)
{
        vtd_log("warning", "%s", (const char *)arg);
}

static void test_log_message_lines(void **state)
{
        (void)state;
        for (int i = 0; i < 1000; i++) {
                char msg[1024];
                random_text(msg, sizeof(msg));
                char *line = capture(log_message, msg);
                json_t *j = json_loads(line, 0, NULL);
                assert_non_null(j);
                /* the message as written: made UTF-8, trailing newlines dropped */
                char *want = strdup(json_string_value(json_object_get(j, "msg")));
                json_decref(j);
                check_line(line, want);
                free(want);
                free(line);
        }
}

/* A token's alphabet: what the responses write directly */
static const char alpha[] = "ABCXYZabcxyz0189-_.~ !#$%&'()*+,/:;<=>?@[]^`{|}";

/* member_text fills t (cap bytes) with a random key or value: half the time of alpha
 * only, else random_text's text of every kind. */
static void member_text(char *t, size_t cap)
{
        if (next() % 2) {
                size_t n = next() % cap;
                for (size_t c = 0; c < n; c++)
                        t[c] = alpha[next() % (sizeof(alpha) - 1)];
                t[n] = 0;
        } else {
                random_text(t, cap);
        }
}

/* vtd_json_response writes an object of plain ASCII strings itself and leaves anything else
 * to jansson: either way the body is what json_dumps writes of the object (objects of zero to
 * three members, keys and values random texts of every kind or a token's alphabet, now and
 * then a member that is no string; text that is no UTF-8 makes json_pack fail: 500). */
static void test_json_response_flat(void **state)
{
        (void)state;
        for (int i = 0; i < 3000; i++) {
                json_t *obj = json_object();
                size_t members = next() % 4;
                bool built = true;
                for (size_t m = 0; m < members && built; m++) {
                        char k[32], v[256];
                        member_text(k, sizeof(k));
                        member_text(v, sizeof(v));
                        json_t *val = next() % 8 == 0 ? json_integer(i) : json_string(v);
                        built = val && json_object_set_new(obj, k, val) == 0;
                }
                if (!built) { /* no UTF-8: jansson refused the text */
                        json_decref(obj);
                        obj = NULL;
                }
                char *want = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
                struct vtd_response res = {0};
                vtd_json_response(&res, 200, obj);
                if (want) {
                        assert_int_equal(res.status, 200);
                        assert_string_equal(res.body, want);
                        assert_string_equal(res.content_type, "application/json");
                } else {
                        assert_int_equal(res.status, 500);
                        assert_null(res.body);
                }
                free(want);
                free(res.body);
        }
        /* a key with a NUL: jansson's text (escaped), not one cut at the NUL */
        json_t *nul = json_object();
        json_object_setn_new(nul, "a\0b", 3, json_string("x"));
        char *want = json_dumps(nul, JSON_COMPACT | JSON_PRESERVE_ORDER);
        struct vtd_response res = {0};
        vtd_json_response(&res, 200, nul);
        assert_string_equal(res.body, want);
        free(want);
        free(res.body);
}

/* vtd_json_member_response gives what vtd_json_response gives for json_pack("{s:s}", key,
 * value): random keys and values, of a token's alphabet (written directly) and of every
 * kind (left to jansson; no UTF-8: 500), a token of 64 KiB, and a NULL value (500). */
static void test_json_member_response(void **state)
{
        (void)state;
        for (int i = 0; i < 3000; i++) {
                char k[32], v[512];
                member_text(k, sizeof(k));
                member_text(v, sizeof(v));
                struct vtd_response a = {0}, b = {0};
                vtd_json_response(&a, 201, json_pack("{s:s}", k, v));
                vtd_json_member_response(&b, 201, k, v);
                assert_int_equal(a.status, b.status);
                if (a.body) {
                        assert_non_null(b.body);
                        assert_string_equal(a.body, b.body);
                        assert_string_equal(b.content_type, "application/json");
                } else {
                        assert_null(b.body);
                }
                free(a.body);
                free(b.body);
        }
        size_t n = 64 * 1024;
        char *tok = malloc(n + 1);
        assert_non_null(tok);
        for (size_t c = 0; c < n; c++)
                tok[c] = alpha[c % 14];
        tok[n] = 0;
        struct vtd_response a = {0}, b = {0}, c = {0};
        vtd_json_response(&a, 200, json_pack("{s:s}", "token", tok));
        vtd_json_member_response(&b, 200, "token", tok);
        assert_string_equal(a.body, b.body);
        vtd_json_member_response(&c, 200, "token", NULL);
        assert_int_equal(c.status, 500);
        assert_null(c.body);
        free(a.body);
        free(b.body);
        free(tok);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log_request_lines),
                cmocka_unit_test(test_log_message_lines),
                cmocka_unit_test(test_json_response_flat),
                cmocka_unit_test(test_json_member_response),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
