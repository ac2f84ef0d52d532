/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/dlib.h"
#include "util/hex.h"
#include "veritee/veritee.h"

/* Percent-decoding (PCCS's header values, PKCS#11 URIs): either case of hex, a '%' without
 * two hex digits refused, %00 refused unless asked for, never longer than the input. */
static void test_pct_decode(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                bool nul_ok;
                int r;
                const char *out;
                size_t len;
        } c[] = {
                {"", false, 0, "", 0},
                {"plain", false, 0, "plain", 5},
                {"-----BEGIN%20CERT-----%0a%0A", false, 0, "-----BEGIN CERT-----\n\n", 22},
                {"%41%7e%7E", false, 0, "A~~", 3},
                {"a%00b", true, 0, "a\0b", 3},
                {"a%00b", false, VT_E_FORMAT, NULL, 0},
                {"%4", false, VT_E_FORMAT, NULL, 0},
                {"%", false, VT_E_FORMAT, NULL, 0},
                {"ab%", false, VT_E_FORMAT, NULL, 0},
                {"%zz", false, VT_E_FORMAT, NULL, 0},
                {"%4g", false, VT_E_FORMAT, NULL, 0},
        };
        for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
                uint8_t *out = NULL;
                size_t len = 99;
                int r = vt_pct_decode(c[i].in, strlen(c[i].in), c[i].nul_ok, &out, &len);
                if (r != c[i].r)
                        fail_msg("\"%s\": %d, want %d", c[i].in, r, c[i].r);
                if (r == 0) {
                        assert_int_equal(len, c[i].len);
                        assert_memory_equal(out, c[i].out, len);
                        assert_int_equal(out[len], 0);
                        free(out);
                } else {
                        assert_null(out);
                }
        }
}

static void test_hex_roundtrip(void **state)
{
        uint8_t in[] = {0x00, 0x7f, 0x80, 0xff, 0x0a};
        char s[11];
        uint8_t out[5];
        vt_hex_encode(in, sizeof(in), s);
        assert_string_equal(s, "007f80ff0a");
        assert_int_equal(vt_hex_decode("007F80fF0a", out, sizeof(out)), 5);
        assert_memory_equal(in, out, 5);
        assert_int_equal(vt_hex_decode("abc", out, sizeof(out)), VT_E_FORMAT);
        assert_int_equal(vt_hex_decode("zz", out, sizeof(out)), VT_E_FORMAT);
        assert_int_equal(vt_hex_decode("000000000000", out, sizeof(out)), VT_E_INVAL);
        assert_int_equal(vt_hex_decode("", out, sizeof(out)), 0);
}

static void test_time_rfc3339(void **state)
{
        int64_t t;
        char buf[21];
        assert_int_equal(vt_time_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(vt_time_parse_rfc3339("2025-06-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 1748736000);
        assert_int_equal(vt_time_parse_rfc3339("2025-06-01T02:00:00.123+02:00", &t), 0);
        assert_int_equal(t, 1748736000);
        assert_int_equal(vt_time_parse_rfc3339("2024-02-29T12:00:00Z", &t), 0);
        assert_int_equal(vt_time_parse_rfc3339("2025-02-29T00:00:00Z", &t), VT_E_FORMAT);
        assert_int_equal(vt_time_parse_rfc3339("2000-02-29T00:00:00Z", &t), 0);
        assert_int_equal(vt_time_parse_rfc3339("1900-02-29T00:00:00Z", &t), VT_E_FORMAT);
        vt_time_format_rfc3339(253402300800, buf);
        assert_int_equal(strlen(buf), 17);
        vt_time_format_rfc3339(1748736000, buf);
        assert_string_equal(buf, "2025-06-01T00:00:00Z");
        const char *bad[] = {"",
                             "2025-06-01",
                             "2025-13-01T00:00:00Z",
                             "2025-06-31T00:00:00Z",
                             "2025-06-01T24:00:00Z",
                             "2025-06-01T00:00:00",
                             "2025-06-01T00:00:00Zjunk",
                             "2025-06-01T00:00:00+0200",
                             "20x5-06-01T00:00:00Z",
                             "2025-06-01T00:00:00."};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(vt_time_parse_rfc3339(bad[i], &t), VT_E_FORMAT);
}

static void test_strerror(void **state)
{
        for (int e = 0; e > _VT_E_MIN; e--)
                assert_true(strcmp(vt_strerror(e), "unknown error") != 0);
        assert_string_equal(vt_strerror(1), "unknown error");
        assert_string_equal(vt_strerror(-1000), "unknown error");
        struct vt_diag d = {0};
        assert_int_equal(vt_diag_set(&d, VT_E_TCB, "first %d", 1), VT_E_TCB);
        assert_int_equal(vt_diag_set(&d, VT_E_FORMAT, "second"), VT_E_FORMAT);
        assert_string_equal(d.msg, "first 1");
        assert_int_equal(d.err, VT_E_TCB);
        vt_diag_clear(&d);
        assert_int_equal(d.err, 0);
        assert_int_equal(vt_diag_set(NULL, VT_E_IO, "x"), VT_E_IO);
}

/* vt_dlib: a library opened on first use is opened once, whatever the number of threads
 * asking at the same time, and its init runs once after the symbols were found. */
VT_DLSYM_DECL(cos);
static const struct vt_dlsym libm_syms[] = {VT_DLSYM(cos)};
static int libm_inits;
static void libm_init(void)
{
        libm_inits++; /* under the loader's lock */
}
static struct vt_dlib libm_lib = VT_DLIB("libm.so.6", libm_syms, libm_init);

static void *dlib_load_thread(void *arg)
{
        (void)arg;
        return (void *)(intptr_t)vt_dlib_load(&libm_lib, NULL);
}

static void test_dlib_loads_once(void **state)
{
        assert_null(sym_cos);
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
                assert_int_equal(pthread_create(&t[i], NULL, dlib_load_thread, NULL), 0);
        for (int i = 0; i < 8; i++) {
                void *r;
                assert_int_equal(pthread_join(t[i], &r), 0);
                assert_int_equal((int)(intptr_t)r, 0);
        }
        assert_int_equal(libm_inits, 1);
        assert_non_null(sym_cos);
        assert_true(sym_cos(0.0) == 1.0);
        assert_int_equal(vt_dlib_load(&libm_lib, NULL), 0);
        assert_int_equal(libm_inits, 1);
}

static void (*sym_vt_missing)(void);
static const struct vt_dlsym missing_syms[] = {{"vt_missing", (void **)&sym_vt_missing}};
static int missing_inits;
static void missing_init(void)
{
        missing_inits++;
}

/* a missing library or symbol is VT_E_UNSUPPORTED naming it, on every call, and init never
 * runs */
static void test_dlib_missing(void **state)
{
        struct vt_dlib nolib =
                VT_DLIB("libveritee-no-such-library.so.0", missing_syms, missing_init);
        struct vt_dlib nosym = VT_DLIB("libm.so.6", missing_syms, missing_init);
        for (int i = 0; i < 2; i++) {
                struct vt_diag d = {0};
                assert_int_equal(vt_dlib_load(&nolib, &d), VT_E_UNSUPPORTED);
                assert_non_null(strstr(d.msg, "libveritee-no-such-library.so.0 could not be "
                                              "loaded: "));
                struct vt_diag d2 = {0};
                assert_int_equal(vt_dlib_load(&nosym, &d2), VT_E_UNSUPPORTED);
                assert_string_equal(d2.msg, "libm.so.6 has no vt_missing");
        }
        assert_int_equal(missing_inits, 0);
        assert_null(sym_vt_missing);
}

/* Whether a library named name is mapped in this process. */
static bool mapped(const char *name)
{
        FILE *f = fopen("/proc/self/maps", "re");
        char line[1024];
        bool found = false;
        assert_non_null(f);
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, name) != NULL;
        fclose(f);
        return found;
}

/* A held library (libyaml, while a configuration is read) is open from the first hold to
 * the last release, unmapped after it, and opened again by the next hold. */
static void test_dlib_hold_release(void **state)
{
        static const char *(*sym_yaml_get_version_string)(void);
        static const struct vt_dlsym syms[] = {
                {"yaml_get_version_string", (void **)&sym_yaml_get_version_string}};
        static struct vt_dlib yaml = VT_DLIB(VT_SONAME_YAML, syms, NULL);
        assert_false(mapped(VT_SONAME_YAML)); /* not linked: config.c holds it */
        for (int round = 0; round < 2; round++) {
                assert_int_equal(vt_dlib_hold(&yaml, NULL), 0);
                assert_int_equal(vt_dlib_hold(&yaml, NULL), 0);
                assert_true(mapped(VT_SONAME_YAML));
                assert_non_null(sym_yaml_get_version_string());
                vt_dlib_release(&yaml);
                assert_true(mapped(VT_SONAME_YAML));
                assert_non_null(sym_yaml_get_version_string);
                vt_dlib_release(&yaml);
                assert_false(mapped(VT_SONAME_YAML));
                assert_null(sym_yaml_get_version_string);
        }
        vt_dlib_release(&yaml); /* an unpaired release changes nothing */
        struct vt_dlib none = VT_DLIB("libveritee-no-such-library.so.0", syms, NULL);
        struct vt_diag d = {0};
        assert_int_equal(vt_dlib_hold(&none, &d), VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "libveritee-no-such-library.so.0 could not be loaded"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hex_roundtrip),     cmocka_unit_test(test_pct_decode),
                cmocka_unit_test(test_time_rfc3339),      cmocka_unit_test(test_strerror),
                cmocka_unit_test(test_dlib_loads_once),   cmocka_unit_test(test_dlib_missing),
                cmocka_unit_test(test_dlib_hold_release),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
