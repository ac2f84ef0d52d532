/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KEK keyring (lib/store/keyring.h) on a real SQLite store and real key files: a
 * database from schema 3 adopts kek_file; a put sealed under a retired KEK is refused and
 * sealed again; each state a killed rotation can leave (committed, not installed; staged,
 * not committed) is resumed or rolled back; a current KEK in neither file is refused by
 * name; a rotation rewraps rows under any KEK a file holds and names a row whose KEK no
 * file holds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/seal.h"
#include "store/keyring.h"
#include "store/store.h"
#include "testutil.h"
#include "util/file.h"

#define T0 1748736000

struct fx {
        char dir[256], db[300], kek[300];
        char notes[8192];
};

static void collect(const char *msg, void *ud)
{
        struct fx *f = ud;
        size_t n = strlen(f->notes);
        snprintf(f->notes + n, sizeof(f->notes) - n, "%s\n", msg);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        struct vt_diag d = {0};
        vt_test_fresh_dir(f->dir, sizeof(f->dir), "keyring");
        snprintf(f->db, sizeof(f->db), "%s/veritee.db", f->dir);
        snprintf(f->kek, sizeof(f->kek), "%s/kek", f->dir);
        if (vt_kek_generate(f->kek, &d) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        vt_test_rm_dir(f->dir);
        free(f);
        return 0;
}

static struct vt_kek *load(const char *path)
{
        struct vt_kek *k = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_kek_load(path, &k, &d), 0);
        return k;
}

static struct vt_kek *new_key(struct fx *f, const char *name, char path[320])
{
        struct vt_diag d = {0};
        snprintf(path, 320, "%s/%s", f->dir, name);
        assert_int_equal(vt_kek_generate(path, &d), 0);
        return load(path);
}

static void copy_file(const char *from, const char *to)
{
        uint8_t *b = NULL;
        size_t n = 0;
        assert_int_equal(vt_read_file(from, 4096, &b, &n), 0);
        assert_int_equal(vt_write_file_atomic(to, b, n, 0600), 0);
        OPENSSL_clear_free(b, n + 1);
}

static void expect_secret(struct vt_keyring *kr, struct vt_store *st, const char *path,
                          const char *want)
{
        char kek[32];
        uint8_t *w = NULL, *c = NULL, *p = NULL;
        size_t wl, cl, pl;
        struct vt_diag d = {0};
        assert_int_equal(vt_store_resource_get(st, path, kek, &w, &wl, &c, &cl, NULL), 0);
        if (vt_keyring_unseal(kr, kek, path, w, wl, c, cl, &p, &pl, &d) < 0)
                fail_msg("%s: %s", path, d.msg);
        assert_int_equal(pl, strlen(want));
        assert_memory_equal(p, want, pl);
        OPENSSL_clear_free(p, pl);
        free(w);
        free(c);
}

static void put(struct vt_keyring *kr, struct vt_store *st, const char *path, const char *v)
{
        struct vt_diag d = {0};
        if (vt_keyring_put(kr, st, path, (const uint8_t *)v, strlen(v), NULL, T0, NULL, &d) < 0)
                fail_msg("put %s: %s", path, d.msg);
}

/* A raw row sealed under k, written while no KEK is recorded (as schema 3 did). */
static void put_raw(struct vt_store *st, const struct vt_kek *k, const char *path, const char *v)
{
        uint8_t *w = NULL, *c = NULL;
        size_t wl, cl;
        assert_int_equal(vt_seal(k, (const uint8_t *)path, strlen(path), (const uint8_t *)v,
                                 strlen(v), &w, &wl, &c, &cl),
                         0);
        assert_int_equal(
                vt_store_resource_put(st, path, vt_kek_id(k), w, wl, c, cl, strlen(v), T0, NULL),
                0);
        free(w);
        free(c);
}

static void open_all(struct fx *f, struct vt_store **st, struct vt_keyring **kr)
{
        struct vt_diag d = {0};
        assert_int_equal(vt_store_open(f->db, st, &d), 0);
        assert_int_equal(vt_keyring_new(f->kek, collect, f, kr), 0);
}

/* A schema 3 database (no KEK record, rows under kek_file's KEK) adopts kek_file; a put
 * sealed under a KEK that is no longer current is refused by the store (VT_E_STALE). */
static void test_keyring_adopt_and_stale(void **state)
{
        struct fx *f = *state;
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL;
        struct vt_diag d = {0};
        char cur[32], p2[320];
        open_all(f, &st, &kr);
        struct vt_kek *k1 = load(f->kek);
        put_raw(st, k1, "r/k/old", "from schema 3");
        assert_int_equal(vt_store_kek_current(st, cur, NULL, NULL), VT_E_NOTFOUND);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        assert_int_equal(vt_store_kek_current(st, cur, NULL, NULL), 0);
        assert_string_equal(cur, vt_kek_id(k1));
        assert_non_null(strstr(f->notes, "KEK: adopted KEK"));
        expect_secret(kr, st, "r/k/old", "from schema 3");
        /* rotate; a row sealed under the retired KEK is refused, nothing written */
        struct vt_kek *k2 = new_key(f, "kek2", p2);
        assert_int_equal(vt_keyring_rotate(kr, st, p2, NULL, NULL, &d), 0);
        uint8_t *w = NULL, *c = NULL;
        size_t wl, cl;
        assert_int_equal(vt_seal(k1, (const uint8_t *)"r/k/new", 7, (const uint8_t *)"x", 1, &w,
                                 &wl, &c, &cl),
                         0);
        assert_int_equal(
                vt_store_resource_put(st, "r/k/new", vt_kek_id(k1), w, wl, c, cl, 1, T0, NULL),
                VT_E_STALE);
        assert_int_equal(vt_store_resource_put_policy(st, "r/k/old", vt_kek_id(k1), w, wl, c, cl, 1,
                                                      "{}", T0, NULL),
                         VT_E_STALE);
        char *pol = NULL;
        assert_int_equal(vt_store_policy_get(st, "r/k/old", &pol, NULL), VT_E_NOTFOUND);
        free(w);
        free(c);
        /* the keyring's put seals under the current KEK */
        char used[32];
        assert_int_equal(
                vt_keyring_put(kr, st, "r/k/new", (const uint8_t *)"new", 3, "{}", T0, used, &d),
                0);
        assert_string_equal(used, vt_kek_id(k2));
        assert_int_equal(vt_store_policy_get(st, "r/k/new", &pol, NULL), 0);
        free(pol);
        expect_secret(kr, st, "r/k/new", "new");
        expect_secret(kr, st, "r/k/old", "from schema 3");
        vt_kek_free(k1);
        vt_kek_free(k2);
        vt_keyring_free(kr);
        vt_store_close(st);
}

/* Killed after the commit, before the install: kek_file still holds the old KEK, the
 * staged file the new one. A fresh keyring reads the staged key; recovery installs it. */
static void test_keyring_resume(void **state)
{
        struct fx *f = *state;
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL, *kr2 = NULL;
        struct vt_diag d = {0};
        char p2[320], staged[400], keep[400];
        open_all(f, &st, &kr);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        put(kr, st, "r/k/a", "A");
        snprintf(keep, sizeof(keep), "%s/kek1.copy", f->dir);
        copy_file(f->kek, keep);
        struct vt_kek *k2 = new_key(f, "kek2", p2);
        assert_int_equal(vt_keyring_rotate(kr, st, p2, NULL, NULL, &d), 0);
        /* undo the install: the state a kill between commit and rename leaves */
        snprintf(staged, sizeof(staged), "%s.%s", f->kek, vt_kek_id(k2));
        assert_int_equal(rename(f->kek, staged), 0);
        assert_int_equal(rename(keep, f->kek), 0);
        assert_int_equal(vt_keyring_new(f->kek, collect, f, &kr2), 0);
        expect_secret(kr2, st, "r/k/a", "A"); /* a running server finds the staged key */
        put(kr2, st, "r/k/b", "B");
        f->notes[0] = 0;
        assert_int_equal(vt_keyring_recover(kr2, st, &d), 0);
        assert_non_null(strstr(f->notes, "KEK: resumed an interrupted rotation"));
        assert_int_equal(access(staged, F_OK), -1);
        struct vt_kek *now = load(f->kek);
        assert_string_equal(vt_kek_id(now), vt_kek_id(k2));
        vt_kek_free(now);
        vt_keyring_free(kr2);
        assert_int_equal(vt_keyring_new(f->kek, NULL, NULL, &kr2), 0);
        expect_secret(kr2, st, "r/k/a", "A");
        expect_secret(kr2, st, "r/k/b", "B");
        vt_kek_free(k2);
        vt_keyring_free(kr2);
        vt_keyring_free(kr);
        vt_store_close(st);
}

/* Killed after staging, before the commit: the staged key is removed (no row names it),
 * so are temporary files; a copy of another, unrelated name is left alone. */
static void test_keyring_rollback(void **state)
{
        struct fx *f = *state;
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL;
        struct vt_diag d = {0};
        char p3[320], staged[400], tmp[400], other[400];
        open_all(f, &st, &kr);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        put(kr, st, "r/k/a", "A");
        struct vt_kek *k3 = new_key(f, "kek3", p3);
        snprintf(staged, sizeof(staged), "%s.%s", f->kek, vt_kek_id(k3));
        snprintf(tmp, sizeof(tmp), "%s.tmpAbC123", f->kek);
        snprintf(other, sizeof(other), "%s.backup", f->kek);
        copy_file(p3, staged);
        copy_file(p3, tmp);
        copy_file(p3, other);
        f->notes[0] = 0;
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        assert_non_null(strstr(f->notes, "KEK: rolled back an interrupted rotation"));
        assert_int_equal(access(staged, F_OK), -1);
        assert_int_equal(access(tmp, F_OK), -1);
        assert_int_equal(access(other, F_OK), 0);
        expect_secret(kr, st, "r/k/a", "A");
        vt_kek_free(k3);
        vt_keyring_free(kr);
        vt_store_close(st);
}

/* The current KEK in neither file: refused, naming both ids and what to do. */
static void test_keyring_refuses_missing_current(void **state)
{
        struct fx *f = *state;
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL;
        struct vt_diag d = {0};
        char p2[320], keep[400];
        open_all(f, &st, &kr);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        struct vt_kek *k1 = load(f->kek);
        snprintf(keep, sizeof(keep), "%s/kek1.copy", f->dir);
        copy_file(f->kek, keep);
        struct vt_kek *k2 = new_key(f, "kek2", p2);
        assert_int_equal(vt_keyring_rotate(kr, st, p2, NULL, NULL, &d), 0);
        assert_int_equal(rename(keep, f->kek), 0); /* the operator put the old key back */
        assert_int_equal(vt_keyring_recover(kr, st, &d), VT_E_NOTFOUND);
        assert_non_null(strstr(d.msg, vt_kek_id(k2)));
        assert_non_null(strstr(d.msg, vt_kek_id(k1)));
        assert_non_null(strstr(d.msg, "put the key whose id is"));
        vt_kek_free(k1);
        vt_kek_free(k2);
        vt_keyring_free(kr);
        vt_store_close(st);
}

/* Rows under another KEK that a file holds are rewrapped; a row under a KEK that no file
 * holds stops the rotation, is named, and nothing changes. */
static void test_keyring_rotate_mixed_rows(void **state)
{
        struct fx *f = *state;
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL;
        struct vt_diag d = {0};
        char px[320], pl[320], p4[320], p5[320], sx[400], cur[32];
        open_all(f, &st, &kr);
        struct vt_kek *kx = new_key(f, "kx", px);   /* known: kept as kek.<id> */
        struct vt_kek *kl = new_key(f, "lost", pl); /* its file goes away */
        put_raw(st, kx, "r/k/x", "under X");
        put_raw(st, kl, "r/k/lost", "under a lost key");
        snprintf(sx, sizeof(sx), "%s.%s", f->kek, vt_kek_id(kx));
        copy_file(px, sx);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        assert_non_null(strstr(f->notes, "KEK: kept"));
        put(kr, st, "r/k/a", "A");
        struct vt_kek *k4 = new_key(f, "kek4", p4);
        assert_int_equal(vt_keyring_rotate(kr, st, p4, NULL, NULL, &d), VT_E_NOTFOUND);
        assert_non_null(strstr(d.msg, "r/k/lost"));
        assert_non_null(strstr(d.msg, vt_kek_id(kl)));
        assert_int_equal(vt_store_kek_current(st, cur, NULL, NULL), 0);
        struct vt_kek *k1 = load(f->kek);
        assert_string_equal(cur, vt_kek_id(k1));
        char staged4[400];
        snprintf(staged4, sizeof(staged4), "%s.%s", f->kek, vt_kek_id(k4));
        assert_int_equal(access(staged4, F_OK), -1);
        /* the operator deletes the lost secret; the rotation then rewraps every row */
        assert_int_equal(vt_store_resource_delete(st, "r/k/lost", NULL), 0);
        struct vt_kek *k5 = new_key(f, "kek5", p5);
        size_t n = 0;
        d = (struct vt_diag){0};
        assert_int_equal(vt_keyring_rotate(kr, st, p5, &n, NULL, &d), 0);
        assert_int_equal(n, 2);
        assert_int_equal(vt_store_kek_count(st, vt_kek_id(k5), &n, NULL), 0);
        assert_int_equal(n, 2);
        expect_secret(kr, st, "r/k/x", "under X");
        expect_secret(kr, st, "r/k/a", "A");
        /* the next recovery drops the key of X: no row names it any more */
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        assert_int_equal(access(sx, F_OK), -1);
        vt_kek_free(kx);
        vt_kek_free(kl);
        vt_kek_free(k1);
        vt_kek_free(k4);
        vt_kek_free(k5);
        vt_keyring_free(kr);
        vt_store_close(st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_keyring_adopt_and_stale, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keyring_resume, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keyring_rollback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keyring_refuses_missing_current, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_keyring_rotate_mixed_rows, setup, teardown),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
