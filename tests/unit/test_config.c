/* SPDX-License-Identifier: Apache-2.0 */
/* lib/config: the option table, the loader built on it, and docs/configuration.md, whose
 * option table must list the same keys, defaults and ranges as the code's. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "testutil.h"
#include "util/macro.h"

static char dir[256];
static char path[300];

static int setup(void **state)
{
        (void)state;
        vt_test_fresh_dir(dir, sizeof(dir), "config");
        snprintf(path, sizeof(path), "%s/c.yaml", dir);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        vt_test_rm_dir(dir);
        return 0;
}

/* load writes text to a file and loads it; returns what vt_config_load returned, the
 * message in d. */
static int load(const char *text, struct vt_config *c, struct vt_diag *d)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        vt_diag_clear(d);
        return vt_config_load(path, c, d);
}

/* expect_error loads text and expects VT_E_FORMAT with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
        struct vt_config c;
        struct vt_diag d = {0};
        assert_int_equal(load(text, &c, &d), VT_E_FORMAT);
        assert_string_equal(d.msg, msg);
}

static uint64_t get_uint(const struct vt_config *c, const struct vt_config_item *it)
{
        const uint8_t *f = (const uint8_t *)c + it->offset;
        if (it->size == sizeof(uint32_t)) {
                uint32_t x;
                memcpy(&x, f, sizeof(x));
                return x;
        }
        uint64_t x;
        memcpy(&x, f, sizeof(x));
        return x;
}

/* The section and name of a key: "limits" and "threads" of "limits.threads"; "" and the key
 * at the top level. */
static void split(const char *key, char *sec, size_t cap, const char **name)
{
        const char *dot = strchr(key, '.');
        snprintf(sec, cap, "%.*s", dot ? (int)(dot - key) : 0, key);
        *name = dot ? dot + 1 : key;
}

/* A YAML file setting key to the value text. */
static void yaml_of(const char *key, const char *value, char *out, size_t cap)
{
        char sec[64];
        const char *name;
        split(key, sec, sizeof(sec), &name);
        if (*sec)
                snprintf(out, cap, "%s:\n  %s: %s\n", sec, name, value);
        else
                snprintf(out, cap, "%s: %s\n", name, value);
}

static void test_config_table_rows(void **state)
{
        size_t n;
        const struct vt_config_item *items = vt_config_items(&n);
        (void)state;
        assert_true(n >= 38);
        for (size_t i = 0; i < n; i++) {
                const struct vt_config_item *it = &items[i];
                assert_true(it->offset < sizeof(struct vt_config));
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(items[j].key, it->key);
                if (it->type == VT_CONFIG_UINT) {
                        assert_true(it->size == 4 || it->size == 8);
                        assert_true(it->size == 8 || it->max <= UINT32_MAX);
                        assert_true(it->max <= INT64_MAX);
                        assert_true(it->min <= it->def && it->def <= it->max);
                }
                if (it->type == VT_CONFIG_CUSTOM)
                        assert_non_null(it->parse);
                if (it->def_in_state_dir)
                        assert_true(it->type == VT_CONFIG_STRING && it->def_str);
        }
}

/* No file: every row's default. */
static void test_config_defaults(void **state)
{
        struct vt_config c;
        struct vt_diag d = {0};
        size_t n;
        const struct vt_config_item *items = vt_config_items(&n);
        (void)state;
        assert_int_equal(vt_config_load(NULL, &c, &d), 0);
        for (size_t i = 0; i < n; i++) {
                const struct vt_config_item *it = &items[i];
                char *s, want[256];
                if (it->type == VT_CONFIG_UINT && strcmp(it->key, "limits.max_evidence_bytes"))
                        assert_int_equal(get_uint(&c, it), it->def);
                if (it->type != VT_CONFIG_STRING)
                        continue;
                /* only a string row's offset holds a char * (others may be misaligned for it) */
                memcpy(&s, (uint8_t *)&c + it->offset, sizeof(s));
                if (!it->def_str) {
                        assert_null(s);
                        continue;
                }
                snprintf(want, sizeof(want), "%s%s%s",
                         it->def_in_state_dir ? "/var/lib/veritee" : "",
                         it->def_in_state_dir ? "/" : "", it->def_str);
                assert_string_equal(s, want);
        }
        assert_int_equal(c.max_evidence, 2 * 1024 * 1024);
        assert_int_equal(c.max_body, 3 * 1024 * 1024);
        assert_int_equal(c.min_status, VT_AR4SI_TIER_AFFIRMING);
        assert_false(c.allow_sample);
        assert_int_equal(c.n_admin_keys, 0);
        vt_config_done(&c);
}

/* Every integer row: its bounds load, one past them is refused with the row's range. */
static void test_config_bounds(void **state)
{
        size_t n;
        const struct vt_config_item *items = vt_config_items(&n);
        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct vt_config_item *it = &items[i];
                struct vt_config c;
                struct vt_diag d = {0};
                char text[256], v[32], msg[256];
                if (it->type != VT_CONFIG_UINT)
                        continue;
                snprintf(msg, sizeof(msg), "config: %s must be an integer %" PRIu64 "..%" PRIu64,
                         it->key, it->min, it->max);
                uint64_t ok[] = {it->min, it->max};
                for (size_t k = 0; k < ELEMENTSOF(ok); k++) {
                        snprintf(v, sizeof(v), "%" PRIu64, ok[k]);
                        yaml_of(it->key, v, text, sizeof(text));
                        /* max_evidence_bytes is at most max_body_bytes */
                        if (strcmp(it->key, "limits.max_evidence_bytes") == 0) {
                                size_t used = strlen(text);
                                snprintf(text + used, sizeof(text) - used,
                                         "  max_body_bytes: 67108864\n");
                        }
                        assert_int_equal(load(text, &c, &d), 0);
                        assert_int_equal(get_uint(&c, it), ok[k]);
                        vt_config_done(&c);
                }
                snprintf(v, sizeof(v), "%" PRIu64, it->max + 1);
                yaml_of(it->key, v, text, sizeof(text));
                expect_error(text, msg);
                if (it->min > 0) {
                        snprintf(v, sizeof(v), "%" PRIu64, it->min - 1);
                        yaml_of(it->key, v, text, sizeof(text));
                        expect_error(text, msg);
                }
                for (size_t k = 0; k < 4; k++) {
                        static const char *const bad[] = {"-1", "0x10", "1x", "[1]"};
                        yaml_of(it->key, bad[k], text, sizeof(text));
                        expect_error(text, msg);
                }
        }
}

/* An unknown key in each section, and at the top level, is refused by its full name. */
static void test_config_unknown_keys(void **state)
{
        size_t n;
        const struct vt_config_item *items = vt_config_items(&n);
        (void)state;
        expect_error("bogus: 1\n", "config: unknown key \"bogus\"");
        for (size_t i = 0; i < n; i++) {
                char sec[64], text[256], msg[256];
                const char *name;
                split(items[i].key, sec, sizeof(sec), &name);
                if (!*sec)
                        continue;
                snprintf(text, sizeof(text), "%s:\n  bogus: 1\n", sec);
                snprintf(msg, sizeof(msg), "config: unknown key \"%s.bogus\"", sec);
                expect_error(text, msg);
                snprintf(text, sizeof(text), "%s: 1\n", sec);
                snprintf(msg, sizeof(msg), "config: %s must be a mapping", sec);
                expect_error(text, msg);
        }
        expect_error("- a\n", "config: the document must be a mapping");
}

static void test_config_types(void **state)
{
        (void)state;
        expect_error("listen: [a]\n", "config: config.listen must be a string");
        expect_error("tls:\n  certificate: [a]\n", "config: tls.certificate must be a string");
        expect_error("attestation:\n  allow_sample: yes\n",
                     "config: attestation.allow_sample must be true or false");
        expect_error("attestation:\n  minimum_status: good\n",
                     "config: attestation.minimum_status must be affirming or warning");
        expect_error("admin:\n  keys: [a, [b]]\n", "config: admin.keys must be a list of strings");
        expect_error("admin:\n  keys: {a: b}\n",
                     "config: admin.keys must be a list of at most 64 strings");
        expect_error("public_url: ftp://a\n",
                     "config: public_url must be http(s)://HOST[:PORT][/PATH] (no spaces, query "
                     "or fragment), under 256 bytes");
        expect_error("tls:\n  certificate: a\n",
                     "config: tls needs both certificate and private_key");
}

/* Every row set at once (values freed by vt_config_done), and what the checks across
 * options and the derived defaults make of them. */
static void test_config_values(void **state)
{
        struct vt_config c;
        struct vt_diag d = {0};
        (void)state;
        assert_int_equal(load("listen: '[::1]:0'\npublic_url: https://kbs.example/x//\n"
                              "tls: {certificate: c.pem, private_key: k.pem}\nstate_dir: /s\n"
                              "token: {issuer: me, ttl_seconds: 60, audience: rp,\n"
                              "  jwks_max_age_seconds: 20, next_signing_key: n.pem,\n"
                              "  retired_keys: [o1.pem, o2.pem]}\n"
                              "http: {trusted_proxies: 10.0.0.0/8}\n"
                              "attestation:\n  minimum_status: warning\n  allow_sample: true\n"
                              "  reference_values: r.json\n  simulator_root: root.pem\n"
                              "  kds_url: http://kds\n  tpm_trusted_aks: ak.pub\n"
                              "limits: {max_body_bytes: 2048, max_evidence_bytes: 4096}\n"
                              "secrets: {kek_file: kek}\nadmin: {keys: [a.pub, b.pub]}\n"
                              "tokens: {trusted_jwks: [j], trusted_certs: [c], "
                              "extra_teekey_paths: [/p]}\n",
                              &c, &d),
                         0);
        assert_string_equal(c.listen, "[::1]:0");
        assert_string_equal(c.public_url, "https://kbs.example/x");
        assert_string_equal(c.database, "/s/veritee.db");
        assert_string_equal(c.token_key, "/s/token-signing-key.pem");
        assert_string_equal(c.kds_cache_dir, "/s/kds-cache");
        assert_string_equal(c.dcap_cache_dir, "/s/dcap-cache");
        assert_string_equal(c.token_issuer, "me");
        assert_int_equal(c.token_ttl, 60);
        assert_string_equal(c.token_audience, "rp");
        assert_int_equal(c.jwks_max_age, 20);
        assert_string_equal(c.token_next_key, "n.pem");
        assert_int_equal(c.n_token_retired_keys, 2);
        assert_string_equal(c.token_retired_keys[1], "o2.pem");
        assert_int_equal(c.n_trusted_proxies, 1);
        assert_string_equal(c.trusted_proxies[0], "10.0.0.0/8");
        assert_int_equal(c.min_status, VT_AR4SI_TIER_WARNING);
        assert_true(c.allow_sample);
        assert_int_equal(c.max_evidence, 2048); /* at most max_body */
        assert_int_equal(c.n_tpm_trusted_aks, 1);
        assert_string_equal(c.tpm_trusted_aks[0], "ak.pub");
        assert_int_equal(c.n_admin_keys, 2);
        assert_string_equal(c.admin_keys[1], "b.pub");
        assert_string_equal(c.extra_teekey_paths[0], "/p");
        vt_config_done(&c);
}

/* ---- docs/configuration.md ---- */

/* The first cell of the option table's row that names key (in backquotes), and its
 * second cell (the default), or NULL. */
static const char *doc_row(const char *doc, const char *key, char *def, size_t cap)
{
        char want[128];
        snprintf(want, sizeof(want), "`%s`", key);
        for (const char *l = doc; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *bar = strchr(l + 1, '|'), *end = strchr(l, '\n');
                if (strncmp(l, "| `", 3) != 0 || !bar || (end && bar > end))
                        continue;
                const char *hit = strstr(l, want);
                if (!hit || hit > bar)
                        continue;
                const char *e2 = strchr(bar + 1, '|');
                assert_non_null(e2);
                snprintf(def, cap, "%.*s", (int)(e2 - bar - 1), bar + 1);
                return l;
        }
        return NULL;
}

/* How the page writes a number: sizes of _bytes options in KiB or MiB. */
static void shown(const char *key, uint64_t v, char *out, size_t cap)
{
        bool bytes = strstr(key, "_bytes") != NULL;
        if (bytes && v >= 1048576 && v % 1048576 == 0)
                snprintf(out, cap, "%" PRIu64 " MiB", v / 1048576);
        else if (bytes && v >= 1024 && v % 1024 == 0)
                snprintf(out, cap, "%" PRIu64 " KiB", v / 1024);
        else
                snprintf(out, cap, "%" PRIu64, v);
}

static void test_config_docs_list_every_row(void **state)
{
        size_t n, len;
        const struct vt_config_item *items = vt_config_items(&n);
        _cleanup_free_ char *doc =
                (char *)vt_test_load(vt_test_helper("../../docs/configuration.md"), &len);
        (void)state;
        for (size_t i = 0; i < n; i++) {
                const struct vt_config_item *it = &items[i];
                char def[512], want[256], a[32], b[32], c[32];
                if (!doc_row(doc, it->key, def, sizeof(def)))
                        fail_msg("docs/configuration.md has no row for %s", it->key);
                if (it->type == VT_CONFIG_UINT) {
                        shown(it->key, it->def, a, sizeof(a));
                        shown(it->key, it->min, b, sizeof(b));
                        shown(it->key, it->max, c, sizeof(c));
                        snprintf(want, sizeof(want), " %s (%s..%s) ", a, b, c);
                } else if (it->type == VT_CONFIG_BOOL) {
                        snprintf(want, sizeof(want), " `%s` ", it->def ? "true" : "false");
                } else if (it->def_str) {
                        snprintf(want, sizeof(want), " `%s%s` ",
                                 it->def_in_state_dir ? "STATE_DIR/" : "", it->def_str);
                } else {
                        continue; /* no default in the table: the page says what happens */
                }
                if (strcmp(def, want) != 0)
                        fail_msg("docs/configuration.md: %s has default \"%s\", the table \"%s\"",
                                 it->key, def, want);
        }
}

/* Does the page's YAML example set key ("name:" at the top level, "  name:" under
 * "section:")? */
static bool in_example(const char *doc, const char *key)
{
        char sec[64], want[128];
        const char *name, *l = strstr(doc, "```yaml\n"), *end;
        assert_non_null(l);
        end = strstr(l + 8, "```");
        assert_non_null(end);
        split(key, sec, sizeof(sec), &name);
        bool inside = !*sec;
        snprintf(want, sizeof(want), "%s%s:", *sec ? "  " : "", name);
        for (l = strchr(l, '\n') + 1; l < end; l = strchr(l, '\n') + 1) {
                if (*sec && l[0] != ' ')
                        inside = strncmp(l, sec, strlen(sec)) == 0 && l[strlen(sec)] == ':';
                if (inside && strncmp(l, want, strlen(want)) == 0)
                        return true;
        }
        return false;
}

static void test_config_docs_example(void **state)
{
        size_t n, len;
        const struct vt_config_item *items = vt_config_items(&n);
        _cleanup_free_ char *doc =
                (char *)vt_test_load(vt_test_helper("../../docs/configuration.md"), &len);
        (void)state;
        for (size_t i = 0; i < n; i++)
                if (!in_example(doc, items[i].key))
                        fail_msg("docs/configuration.md: the YAML example does not set %s",
                                 items[i].key);
}

static void test_config_docs_no_other_row(void **state)
{
        size_t n, len, rows = 0;
        const struct vt_config_item *items = vt_config_items(&n);
        _cleanup_free_ char *doc =
                (char *)vt_test_load(vt_test_helper("../../docs/configuration.md"), &len);
        const char *table = strstr(doc, "| key | default | meaning |");
        (void)state;
        assert_non_null(table);
        for (const char *l = strchr(table, '\n') + 1; strncmp(l, "|", 1) == 0;
             l = strchr(l, '\n') + 1) {
                const char *bar = strchr(l + 1, '|');
                if (strncmp(l, "|---", 4) == 0)
                        continue;
                /* every backquoted key in the first cell is a row of the table */
                for (const char *k = strchr(l, '`'); k && k < bar; k = strchr(k, '`')) {
                        const char *e = strchr(k + 1, '`');
                        bool found = false;
                        assert_non_null(e);
                        for (size_t i = 0; i < n; i++)
                                found |= strlen(items[i].key) == (size_t)(e - k - 1) &&
                                         strncmp(items[i].key, k + 1, e - k - 1) == 0;
                        if (!found)
                                fail_msg("docs/configuration.md lists %.*s, which is no option",
                                         (int)(e - k - 1), k + 1);
                        rows++;
                        k = e + 1;
                }
        }
        assert_int_equal(rows, n);
}

/* store.backend and where the PostgreSQL DSN comes from: store.dsn_file (one line, not
 * readable by others) or VERITEE_PG_DSN; sqlite stays the default. */
static void test_config_store_backend(void **state)
{
        (void)state;
        struct vt_config c;
        struct vt_diag d = {0};
        char *dsn = NULL, yaml[600], file[300];
        unsetenv(VTD_PG_DSN_ENV);
        assert_int_equal(load("listen: 127.0.0.1:1\n", &c, &d), 0);
        assert_int_equal(c.store_backend, VTD_STORE_SQLITE);
        vt_config_done(&c);
        expect_error("store:\n  backend: mysql\n",
                     "config: store.backend must be sqlite or postgres");
        expect_error("store:\n  backend: postgres\n",
                     "config: store.backend postgres needs store.dsn_file or the environment "
                     "variable VERITEE_PG_DSN");
        expect_error("store:\n  dsn_file: /x\n",
                     "config: store.dsn_file is for store.backend postgres");

        /* the environment variable */
        setenv(VTD_PG_DSN_ENV, "host=db dbname=v", 1);
        assert_int_equal(load("store:\n  backend: postgres\n", &c, &d), 0);
        assert_int_equal(c.store_backend, VTD_STORE_POSTGRES);
        assert_int_equal(vt_config_store_dsn(&c, &dsn, &d), 0);
        assert_string_equal(dsn, "host=db dbname=v");
        free(dsn);
        vt_config_done(&c);
        unsetenv(VTD_PG_DSN_ENV);

        /* the file: its line without the newline; refused when others may read it */
        snprintf(file, sizeof(file), "%s/pg.dsn", dir);
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fputs("postgresql://v:pw@db/v\n", f);
        fclose(f);
        assert_int_equal(chmod(file, 0600), 0);
        snprintf(yaml, sizeof(yaml), "store:\n  backend: postgres\n  dsn_file: %s\n", file);
        assert_int_equal(load(yaml, &c, &d), 0);
        assert_int_equal(vt_config_store_dsn(&c, &dsn, &d), 0);
        assert_string_equal(dsn, "postgresql://v:pw@db/v");
        free(dsn);
        assert_int_equal(chmod(file, 0644), 0);
        vt_diag_clear(&d);
        dsn = NULL;
        assert_int_equal(vt_config_store_dsn(&c, &dsn, &d), VT_E_INVAL);
        assert_null(dsn);
        assert_non_null(strstr(d.msg, "readable by others"));
        assert_null(strstr(d.msg, "pw@"));
        vt_config_done(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_table_rows),
                cmocka_unit_test(test_config_defaults),
                cmocka_unit_test_setup_teardown(test_config_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_unknown_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_types, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_values, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_store_backend, setup, teardown),
                cmocka_unit_test(test_config_docs_list_every_row),
                cmocka_unit_test(test_config_docs_no_other_row),
                cmocka_unit_test(test_config_docs_example),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
