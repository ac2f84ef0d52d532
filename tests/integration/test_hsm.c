/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys in a PKCS#11 token (lib/crypto/pkcs11.h) against a real SoftHSM2 set up in a
 * temporary directory: a token initialised by softhsm2-util, keys generated inside it by
 * C_GenerateKey / C_GenerateKeyPair (sensitive, not extractable). Sealing and unsealing
 * through the token's AES key; its value cannot be read out and an extractable key is
 * refused; an ES256 token signed in the token verifies with the published JWK; the KEK
 * rotates file -> HSM -> file with every secret readable at each step (through p11-kit's
 * registered modules and through module-path), a rotation to the HSM killed between
 * commit and install is resumed; a wrong PIN fails naming the token. Then the real
 * veriteed with all three keys in the token: its JWKS is the token's key, an attestation
 * token verifies with it, secrets are released across `veritee admin rotate-kek`
 * HSM -> file -> HSM while it runs, and the ledger's tree heads verify with the token's
 * ledger key.
 *
 * Without softhsm2 the suite is skipped, or fails when CI is set.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#include "crypto/jwe.h"
#include "crypto/pkcs11.h"
#include "crypto/seal.h"
#include "store/keyring.h"
#include "store/store.h"
#include "testutil.h"
#include "token/admin.h"
#include "token/jwt.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/macro.h"
#include "vtdtest.h"

#define T0 1748736000

static const char *const MODULES[] = {
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
};

static struct {
        bool ready;
        char why[256];
        char dir[256];
        const char *module;
        char pin[320], badpin[320];
} g;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
        (void)sb;
        (void)flag;
        (void)f;
        return remove(p) < 0 ? 0 : 0;
}

static void write_mode(const char *path, const char *s, unsigned mode)
{
        assert_int_equal(vt_write_file_atomic(path, s, strlen(s), mode), 0);
}

/* make_keys generates the suite's keys in the token "vt" with the module directly. */
static int make_keys(void)
{
        CK_FUNCTION_LIST *m = p11_kit_module_load(g.module, 0);
        CK_SLOT_ID slots[8];
        CK_ULONG ns = 8;
        CK_SESSION_HANDLE s;
        CK_BBOOL t = CK_TRUE, f = CK_FALSE;
        CK_ULONG len = 32;
        int rc = -1;
        if (!m || p11_kit_module_initialize(m) != CKR_OK)
                return -1;
        if (m->C_GetSlotList(CK_TRUE, slots, &ns) != CKR_OK || ns < 1 ||
            m->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) !=
                    CKR_OK ||
            m->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4) != CKR_OK)
                goto out;
        static const struct {
                const char *label;
                uint8_t id;
                bool extractable;
        } aes[] = {{"kek1", 1, false}, {"kek2", 2, false}, {"leaky", 3, true}};
        for (size_t i = 0; i < 3; i++) {
                CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
                CK_ATTRIBUTE a[] = {
                        {CKA_TOKEN, &t, sizeof(t)},
                        {CKA_PRIVATE, &t, sizeof(t)},
                        {CKA_SENSITIVE, &t, sizeof(t)},
                        {CKA_EXTRACTABLE, aes[i].extractable ? &t : &f, sizeof(t)},
                        {CKA_ENCRYPT, &t, sizeof(t)},
                        {CKA_DECRYPT, &t, sizeof(t)},
                        {CKA_VALUE_LEN, &len, sizeof(len)},
                        {CKA_LABEL, (void *)aes[i].label, strlen(aes[i].label)},
                        {CKA_ID, (void *)&aes[i].id, 1},
                };
                CK_OBJECT_HANDLE h;
                if (m->C_GenerateKey(s, &mech, a, ELEMENTSOF(a), &h) != CKR_OK)
                        goto out;
        }
        static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
        static const struct {
                const char *label;
                uint8_t id;
        } ec[] = {{"tokkey", 0x10}, {"ledgerkey", 0x11}};
        for (size_t i = 0; i < 2; i++) {
                CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
                CK_ATTRIBUTE pub[] = {
                        {CKA_TOKEN, &t, sizeof(t)},
                        {CKA_VERIFY, &t, sizeof(t)},
                        {CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
                        {CKA_LABEL, (void *)ec[i].label, strlen(ec[i].label)},
                        {CKA_ID, (void *)&ec[i].id, 1},
                };
                CK_ATTRIBUTE priv[] = {
                        {CKA_TOKEN, &t, sizeof(t)},
                        {CKA_PRIVATE, &t, sizeof(t)},
                        {CKA_SENSITIVE, &t, sizeof(t)},
                        {CKA_EXTRACTABLE, &f, sizeof(f)},
                        {CKA_SIGN, &t, sizeof(t)},
                        {CKA_LABEL, (void *)ec[i].label, strlen(ec[i].label)},
                        {CKA_ID, (void *)&ec[i].id, 1},
                };
                CK_OBJECT_HANDLE hp, hk;
                if (m->C_GenerateKeyPair(s, &mech, pub, ELEMENTSOF(pub), priv, ELEMENTSOF(priv),
                                         &hp, &hk) != CKR_OK)
                        goto out;
        }
        rc = 0;
out:
        p11_kit_module_finalize(m);
        p11_kit_module_release(m);
        return rc;
}

static int group_setup(void **state)
{
        (void)state;
        char conf[320], tokens[320], cmd[1024];
        for (size_t i = 0; i < ELEMENTSOF(MODULES) && !g.module; i++)
                if (access(MODULES[i], R_OK) == 0)
                        g.module = MODULES[i];
        if (!g.module || access("/usr/bin/softhsm2-util", X_OK) < 0) {
                if (getenv("CI")) {
                        fprintf(stderr, "softhsm2 not installed (scripts/deps.sh test)\n");
                        return -1;
                }
                snprintf(g.why, sizeof(g.why), "softhsm2 not installed (scripts/deps.sh test)");
                return 0;
        }
        vt_test_fresh_dir(g.dir, sizeof(g.dir), "hsm");
        snprintf(tokens, sizeof(tokens), "%s/tokens", g.dir);
        snprintf(conf, sizeof(conf), "%s/softhsm2.conf", g.dir);
        if (mkdir(tokens, 0700) < 0)
                return -1;
        FILE *fp = fopen(conf, "w");
        if (!fp)
                return -1;
        fprintf(fp, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens);
        fclose(fp);
        setenv("SOFTHSM2_CONF", conf, 1);
        snprintf(cmd, sizeof(cmd),
                 "softhsm2-util --init-token --free --label vt --pin 1234 --so-pin 5678 "
                 ">/dev/null");
        if (system(cmd) != 0) {
                fprintf(stderr, "softhsm2-util --init-token failed\n");
                return -1;
        }
        snprintf(g.pin, sizeof(g.pin), "%s/pin", g.dir);
        snprintf(g.badpin, sizeof(g.badpin), "%s/badpin", g.dir);
        if (vt_write_file_atomic(g.pin, "1234\n", 5, 0600) < 0 ||
            vt_write_file_atomic(g.badpin, "9999\n", 5, 0600) < 0)
                return -1;
        if (make_keys() < 0) {
                fprintf(stderr, "cannot generate the test keys in SoftHSM2\n");
                return -1;
        }
        g.ready = true;
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        server_stop_all();
        if (g.dir[0] && !getenv("VT_KEEP_TMP"))
                nftw(g.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        if (vtt_dir[0] && !getenv("VT_KEEP_TMP"))
                (void)vt_test_sh("rm -rf '%s'", vtt_dir);
        return 0;
}

static void need_hsm(void)
{
        if (!g.ready)
                vtt_skip("%s", g.why);
}

/* uri: a URI of the token "vt" for the object label; with_module adds module-path (else
 * p11-kit's registered modules are searched). */
static void uri(char *out, size_t cap, const char *attrs, bool with_module, const char *pin)
{
        if (with_module)
                snprintf(out, cap, "pkcs11:token=vt;%s?module-path=%s&pin-source=file:%s", attrs,
                         g.module, pin);
        else
                snprintf(out, cap, "pkcs11:token=vt;%s?pin-source=%s", attrs, pin);
}

static void test_hsm_seal_unseal(void **state)
{
        (void)state;
        need_hsm();
        char u1[1024], u1b[1024], u2[1024];
        struct vt_kek *k1 = NULL, *k1b = NULL, *k2 = NULL;
        struct vt_diag d = {0};
        uri(u1, sizeof(u1), "object=kek1;type=secret-key", true, g.pin);
        uri(u1b, sizeof(u1b), "id=%01", false, g.pin); /* the same key, by id, via p11-kit */
        uri(u2, sizeof(u2), "object=kek2", true, g.pin);
        if (vt_kek_open_uri(u1, &k1, &d) < 0 || vt_kek_open_uri(u1b, &k1b, &d) < 0 ||
            vt_kek_open(u2, &k2, &d) < 0)
                fail_msg("%s", d.msg);
        assert_true(vt_kek_is_pkcs11(k1));
        assert_int_equal(strlen(vt_kek_id(k1)), 16);
        assert_string_equal(vt_kek_id(k1), vt_kek_id(k1b));
        assert_string_not_equal(vt_kek_id(k1), vt_kek_id(k2));

        const char *secret = "the database password";
        uint8_t *w = NULL, *c = NULL, *p = NULL;
        size_t wl, cl, pl;
        assert_int_equal(vt_seal(k1, (const uint8_t *)"r/a/b", 5, (const uint8_t *)secret,
                                 strlen(secret), &w, &wl, &c, &cl),
                         0);
        assert_int_equal(wl, VT_SEAL_WDEK_SIZE);
        /* another session of the same key unwraps it */
        if (vt_unseal(k1b, (const uint8_t *)"r/a/b", 5, w, wl, c, cl, &p, &pl, &d) < 0)
                fail_msg("%s", d.msg);
        assert_int_equal(pl, strlen(secret));
        assert_memory_equal(p, secret, pl);
        OPENSSL_clear_free(p, pl);
        /* another name, another key, a changed byte: refused */
        vt_diag_clear(&d);
        assert_int_equal(vt_unseal(k1, (const uint8_t *)"r/a/c", 5, w, wl, c, cl, &p, &pl, &d),
                         VT_E_CRYPTO);
        assert_non_null(strstr(d.msg, "does not unwrap under HSM KEK"));
        assert_int_equal(vt_unseal(k2, (const uint8_t *)"r/a/b", 5, w, wl, c, cl, &p, &pl, NULL),
                         VT_E_CRYPTO);
        w[20] ^= 1;
        assert_int_equal(vt_unseal(k1, (const uint8_t *)"r/a/b", 5, w, wl, c, cl, &p, &pl, NULL),
                         VT_E_CRYPTO);
        w[20] ^= 1;
        /* rewrap to the other HSM key */
        uint8_t *w2 = NULL;
        size_t w2l;
        assert_int_equal(vt_rewrap(k1, k2, (const uint8_t *)"r/a/b", 5, w, wl, &w2, &w2l, &d), 0);
        assert_int_equal(vt_unseal(k2, (const uint8_t *)"r/a/b", 5, w2, w2l, c, cl, &p, &pl, &d),
                         0);
        assert_memory_equal(p, secret, pl);
        OPENSSL_clear_free(p, pl);
        free(w2);
        free(w);
        free(c);
        vt_kek_free(k1);
        vt_kek_free(k1b);
        vt_kek_free(k2);
}

static void test_hsm_key_stays_in_token(void **state)
{
        (void)state;
        need_hsm();
        /* the token refuses to give the KEK's value */
        CK_FUNCTION_LIST *m = p11_kit_module_load(g.module, 0);
        assert_non_null(m);
        assert_int_equal(p11_kit_module_initialize(m), CKR_OK);
        CK_SLOT_ID slot[4];
        CK_ULONG ns = 4, got = 0;
        CK_SESSION_HANDLE s;
        assert_int_equal(m->C_GetSlotList(CK_TRUE, slot, &ns), CKR_OK);
        assert_int_equal(m->C_OpenSession(slot[0], CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
        CK_RV rv = m->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4);
        assert_true(rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN);
        CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
        CK_ATTRIBUTE tpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, "kek1", 4}};
        CK_OBJECT_HANDLE h;
        assert_int_equal(m->C_FindObjectsInit(s, tpl, 2), CKR_OK);
        assert_int_equal(m->C_FindObjects(s, &h, 1, &got), CKR_OK);
        assert_int_equal(m->C_FindObjectsFinal(s), CKR_OK);
        assert_int_equal(got, 1);
        uint8_t val[64];
        CK_ATTRIBUTE a = {CKA_VALUE, val, sizeof(val)};
        assert_int_equal(m->C_GetAttributeValue(s, h, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
        assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
        m->C_CloseSession(s);
        p11_kit_module_finalize(m);
        p11_kit_module_release(m);

        /* an extractable key is refused as a KEK, naming the attribute */
        char u[1024];
        struct vt_kek *k = NULL;
        struct vt_diag d = {0};
        uri(u, sizeof(u), "object=leaky", true, g.pin);
        assert_int_equal(vt_kek_open_uri(u, &k, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "CKA_EXTRACTABLE"));
        /* no such key: named */
        vt_diag_clear(&d);
        uri(u, sizeof(u), "object=nope", true, g.pin);
        assert_int_equal(vt_kek_open_uri(u, &k, &d), VT_E_NOTFOUND);
        assert_non_null(strstr(d.msg, "no AES key labelled nope"));
        /* no such token: named */
        vt_diag_clear(&d);
        snprintf(u, sizeof(u), "pkcs11:token=other;object=kek1?module-path=%s&pin-source=%s",
                 g.module, g.pin);
        assert_int_equal(vt_kek_open_uri(u, &k, &d), VT_E_NOTFOUND);
        assert_non_null(strstr(d.msg, "no token \"other\""));
}

static void test_hsm_wrong_pin(void **state)
{
        (void)state;
        need_hsm();
        char u[1024], kf[320];
        struct vt_kek *k = NULL;
        struct vt_diag d = {0};
        uri(u, sizeof(u), "object=kek1", true, g.badpin);
        assert_int_equal(vt_kek_open_uri(u, &k, &d), VT_E_INVAL);
        if (!strstr(d.msg, "kek: login to token \"vt\" failed: CKR_PIN_INCORRECT, a wrong PIN"))
                fail_msg("%s", d.msg);
        assert_non_null(strstr(d.msg, g.badpin));
        /* the same through a KEK file that holds the URI: the file is named too */
        snprintf(kf, sizeof(kf), "%s/kek-wrongpin", g.dir);
        write_mode(kf, u, 0600);
        vt_diag_clear(&d);
        assert_int_equal(vt_kek_load(kf, &k, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "token \"vt\""));
        assert_non_null(strstr(d.msg, kf));
        /* a PIN file others may read is refused before it is used */
        char loose[320];
        snprintf(loose, sizeof(loose), "%s/loosepin", g.dir);
        write_mode(loose, "1234\n", 0644);
        uri(u, sizeof(u), "object=kek1", true, loose);
        vt_diag_clear(&d);
        assert_true(vt_kek_open_uri(u, &k, &d) < 0);
        assert_non_null(strstr(d.msg, "chmod 600"));
        /* and a signer */
        struct vt_signer *s = NULL;
        uri(u, sizeof(u), "object=tokkey;type=private", true, g.badpin);
        vt_diag_clear(&d);
        assert_true(vt_signer_load_or_create_as(u, "token key", &s, &d) < 0);
        assert_non_null(strstr(d.msg, "token key: login to token \"vt\" failed"));
}

static void test_hsm_es256(void **state)
{
        (void)state;
        need_hsm();
        char u[1024];
        struct vt_signer *s = NULL, *l = NULL;
        struct vt_diag d = {0};
        uri(u, sizeof(u), "object=tokkey;type=private", true, g.pin);
        if (vt_signer_load_or_create_as(u, "token key", &s, &d) < 0)
                fail_msg("%s", d.msg);
        uri(u, sizeof(u), "id=%11", false, g.pin);
        if (vt_signer_load_or_create_as(u, "ledger key", &l, &d) < 0)
                fail_msg("%s", d.msg);
        assert_true(vt_signer_is_pkcs11(s));
        assert_string_not_equal(vt_signer_kid(s), vt_signer_kid(l));
        json_auto_t *jwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(s));
        json_auto_t *ljwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(l));
        assert_non_null(jwks);
        assert_null(json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "d"));
        /* many signatures: about half come from the token with a high S, and every one
         * must verify (verifiers take only the low S) */
        for (int i = 0; i < 24; i++) {
                json_auto_t *claims = json_pack("{s:s, s:I, s:i}", "sub", "hsm", "exp",
                                                (json_int_t)T0 + 600, "n", i);
                char *tok = NULL;
                json_t *got = NULL;
                assert_int_equal(vt_jwt_sign(s, claims, &tok), 0);
                vt_diag_clear(&d);
                if (vt_jwt_verify(tok, jwks, T0, &got, &d) < 0)
                        fail_msg("token %d: %s", i, d.msg);
                assert_int_equal(json_integer_value(json_object_get(got, "n")), i);
                json_decref(got);
                /* not with the other key */
                assert_int_equal(vt_jwt_verify(tok, ljwks, T0, &got, NULL), VT_E_SIGNATURE);
                free(tok);
                assert_int_equal(vt_signer_sign_jws(l, "sth+jwt", claims, &tok), 0);
                vt_diag_clear(&d);
                if (vt_jws_verify_jwks(tok, ljwks, "sth", "sth+jwt", &got, &d) < 0)
                        fail_msg("sth %d: %s", i, d.msg);
                json_decref(got);
                free(tok);
        }
        vt_signer_free(s);
        vt_signer_free(l);
}

static void expect_secret(struct vt_keyring *kr, struct vt_store *st, const char *path,
                          const char *want, char kek_out[32])
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
        if (kek_out)
                memcpy(kek_out, kek, 32);
}

static void put(struct vt_keyring *kr, struct vt_store *st, const char *path, const char *v)
{
        struct vt_diag d = {0};
        if (vt_keyring_put(kr, st, path, (const uint8_t *)v, strlen(v), NULL, T0, NULL, &d) < 0)
                fail_msg("put %s: %s", path, d.msg);
}

static void expect_all(struct vt_keyring *kr, struct vt_store *st, const char *want_kek)
{
        char k[32];
        expect_secret(kr, st, "r/a/1", "one", k);
        assert_string_equal(k, want_kek);
        expect_secret(kr, st, "r/a/2", "two", k);
        assert_string_equal(k, want_kek);
        expect_secret(kr, st, "r/b/3", "three", k);
        assert_string_equal(k, want_kek);
}

/* file -> HSM (by URI, p11-kit's modules) -> file, secrets readable at every step, by
 * the rotating keyring and by a fresh one (a restarted server). */
static void test_hsm_rotate_file_hsm_file(void **state)
{
        (void)state;
        need_hsm();
        char dir[256] = "", db[300], kek[300], back[300], u[1024], id1[32], id2[32], id3[32];
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL, *kr2 = NULL;
        struct vt_diag d = {0};
        struct vt_kek *k = NULL;
        size_t n = 0;
        vt_test_fresh_dir(dir, sizeof(dir), "hsm-rotate");
        snprintf(db, sizeof(db), "%s/veritee.db", dir);
        snprintf(kek, sizeof(kek), "%s/kek", dir);
        snprintf(back, sizeof(back), "%s/kek-back", dir);
        assert_int_equal(vt_kek_generate(kek, &d), 0);
        assert_int_equal(vt_store_open(db, &st, &d), 0);
        assert_int_equal(vt_keyring_new(kek, NULL, NULL, &kr), 0);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        put(kr, st, "r/a/1", "one");
        put(kr, st, "r/a/2", "two");
        assert_int_equal(vt_store_kek_current(st, id1, NULL, NULL), 0);

        /* to the HSM */
        uri(u, sizeof(u), "object=kek2;type=secret-key", false, g.pin);
        if (vt_keyring_rotate(kr, st, u, &n, id2, &d) < 0)
                fail_msg("to the HSM: %s", d.msg);
        assert_int_equal(n, 2);
        assert_string_not_equal(id1, id2);
        put(kr, st, "r/b/3", "three");
        expect_all(kr, st, id2);
        /* kek_file now holds the URI (and the file key is gone: every row is rewrapped) */
        uint8_t *b = NULL;
        size_t bl = 0;
        assert_int_equal(vt_read_file(kek, 8192, &b, &bl), 0);
        assert_int_equal(strncmp((char *)b, "pkcs11:", 7), 0);
        OPENSSL_clear_free(b, bl + 1);
        assert_int_equal(vt_kek_load(kek, &k, &d), 0);
        assert_true(vt_kek_is_pkcs11(k));
        assert_string_equal(vt_kek_id(k), id2);
        vt_kek_free(k);
        assert_int_equal(vt_keyring_new(kek, NULL, NULL, &kr2), 0);
        assert_int_equal(vt_keyring_recover(kr2, st, &d), 0);
        expect_all(kr2, st, id2);
        vt_keyring_free(kr2);

        /* the same key again: refused, nothing changes */
        uri(u, sizeof(u), "id=%02", true, g.pin);
        vt_diag_clear(&d);
        assert_int_equal(vt_keyring_rotate(kr, st, u, NULL, NULL, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "already the current one"));

        /* back to a file */
        assert_int_equal(vt_kek_generate(back, &d), 0);
        if (vt_keyring_rotate(kr, st, back, &n, id3, &d) < 0)
                fail_msg("back to a file: %s", d.msg);
        assert_int_equal(n, 3);
        expect_all(kr, st, id3);
        assert_int_equal(vt_kek_load(kek, &k, &d), 0);
        assert_false(vt_kek_is_pkcs11(k));
        assert_string_equal(vt_kek_id(k), id3);
        vt_kek_free(k);
        assert_int_equal(vt_keyring_new(kek, NULL, NULL, &kr2), 0);
        assert_int_equal(vt_keyring_recover(kr2, st, &d), 0);
        expect_all(kr2, st, id3);
        vt_keyring_free(kr2);
        vt_keyring_free(kr);
        vt_store_close(st);
        vt_test_rm_dir(dir);
}

struct rw {
        struct vt_kek *old, *nk;
};

static int rewrap_cb(const char *path, const char *kek_id, const uint8_t *wdek, size_t len,
                     uint8_t **ret_new, size_t *ret_new_len, void *ud)
{
        struct rw *r = ud;
        (void)kek_id;
        return vt_rewrap(r->old, r->nk, (const uint8_t *)path, strlen(path), wdek, len, ret_new,
                         ret_new_len, NULL);
}

/* A rotation to the HSM killed after its commit, before the install: kek_file still holds
 * the file key, "<kek_file>.<HSM id>" the URI. A server finds the HSM key through the
 * staged file, and recovery installs it. */
static void test_hsm_rotate_resume(void **state)
{
        (void)state;
        need_hsm();
        char dir[256] = "", db[300], kek[300], staged[400], u[1024], line[1100];
        struct vt_store *st = NULL;
        struct vt_keyring *kr = NULL;
        struct vt_diag d = {0};
        struct rw r = {0};
        vt_test_fresh_dir(dir, sizeof(dir), "hsm-resume");
        snprintf(db, sizeof(db), "%s/veritee.db", dir);
        snprintf(kek, sizeof(kek), "%s/kek", dir);
        assert_int_equal(vt_kek_generate(kek, &d), 0);
        assert_int_equal(vt_store_open(db, &st, &d), 0);
        assert_int_equal(vt_keyring_new(kek, NULL, NULL, &kr), 0);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        put(kr, st, "r/a/1", "one");
        put(kr, st, "r/a/2", "two");
        put(kr, st, "r/b/3", "three");
        vt_keyring_free(kr);
        /* what vt_keyring_rotate does up to its commit, then "killed" */
        uri(u, sizeof(u), "object=kek1", true, g.pin);
        assert_int_equal(vt_kek_load(kek, &r.old, &d), 0);
        assert_int_equal(vt_kek_open_uri(u, &r.nk, &d), 0);
        snprintf(staged, sizeof(staged), "%s.%s", kek, vt_kek_id(r.nk));
        snprintf(line, sizeof(line), "%s\n", u);
        write_mode(staged, line, 0600);
        assert_int_equal(vt_store_resource_rewrap_all(st, vt_kek_id(r.nk), rewrap_cb, &r, NULL, &d),
                         0);
        /* a server started now reads every row */
        assert_int_equal(vt_keyring_new(kek, NULL, NULL, &kr), 0);
        expect_all(kr, st, vt_kek_id(r.nk));
        vt_keyring_free(kr);
        assert_int_equal(vt_keyring_new(kek, NULL, NULL, &kr), 0);
        assert_int_equal(vt_keyring_recover(kr, st, &d), 0);
        assert_int_equal(access(staged, F_OK), -1);
        struct vt_kek *now = NULL;
        assert_int_equal(vt_kek_load(kek, &now, &d), 0);
        assert_string_equal(vt_kek_id(now), vt_kek_id(r.nk));
        vt_kek_free(now);
        expect_all(kr, st, vt_kek_id(r.nk));
        vt_keyring_free(kr);
        vt_kek_free(r.old);
        vt_kek_free(r.nk);
        vt_store_close(st);
        vt_test_rm_dir(dir);
}

/* Many threads on one HSM KEK and one HSM signer: one session and a mutex per key. */
struct conc {
        struct vt_kek *k;
        struct vt_signer *s;
        json_t *jwks;
        int fails;
};

static void *conc_worker(void *ud)
{
        struct conc *c = ud;
        for (int i = 0; i < 40; i++) {
                char name[32], val[32];
                uint8_t *w = NULL, *ct = NULL, *p = NULL;
                size_t wl, cl, pl;
                snprintf(name, sizeof(name), "r/c/%d", i);
                snprintf(val, sizeof(val), "v%d-%p", i, (void *)&i);
                if (vt_seal(c->k, (const uint8_t *)name, strlen(name), (const uint8_t *)val,
                            strlen(val), &w, &wl, &ct, &cl) < 0 ||
                    vt_unseal(c->k, (const uint8_t *)name, strlen(name), w, wl, ct, cl, &p, &pl,
                              NULL) < 0 ||
                    pl != strlen(val) || memcmp(p, val, pl) != 0)
                        __atomic_add_fetch(&c->fails, 1, __ATOMIC_SEQ_CST);
                if (p)
                        OPENSSL_clear_free(p, pl);
                free(w);
                free(ct);
                json_t *claims = json_pack("{s:I}", "exp", (json_int_t)T0 + 60), *got = NULL;
                char *tok = NULL;
                if (vt_jwt_sign(c->s, claims, &tok) < 0 ||
                    vt_jwt_verify(tok, c->jwks, T0, &got, NULL) < 0)
                        __atomic_add_fetch(&c->fails, 1, __ATOMIC_SEQ_CST);
                json_decref(got);
                json_decref(claims);
                free(tok);
        }
        return NULL;
}

static void test_hsm_threads(void **state)
{
        (void)state;
        need_hsm();
        char u[1024];
        struct conc c = {0};
        struct vt_diag d = {0};
        pthread_t th[6];
        uri(u, sizeof(u), "object=kek1", true, g.pin);
        assert_int_equal(vt_kek_open_uri(u, &c.k, &d), 0);
        uri(u, sizeof(u), "object=tokkey;type=private", true, g.pin);
        assert_int_equal(vt_signer_load_or_create_as(u, "token key", &c.s, &d), 0);
        c.jwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(c.s));
        for (size_t i = 0; i < ELEMENTSOF(th); i++)
                assert_int_equal(pthread_create(&th[i], NULL, conc_worker, &c), 0);
        for (size_t i = 0; i < ELEMENTSOF(th); i++)
                pthread_join(th[i], NULL);
        assert_int_equal(c.fails, 0);
        json_decref(c.jwks);
        vt_signer_free(c.s);
        vt_kek_free(c.k);
}

/* The token drops every session (as a restarted or reconnected HSM does): the next
 * operations open a new session, log in again and succeed. */
static void test_hsm_session_lost(void **state)
{
        (void)state;
        need_hsm();
        char u[1024];
        struct vt_kek *k = NULL;
        struct vt_signer *s = NULL;
        struct vt_diag d = {0};
        uint8_t *w = NULL, *c = NULL, *p = NULL;
        size_t wl, cl, pl;
        uri(u, sizeof(u), "object=kek1", true, g.pin);
        assert_int_equal(vt_kek_open_uri(u, &k, &d), 0);
        uri(u, sizeof(u), "object=tokkey;type=private", true, g.pin);
        assert_int_equal(vt_signer_load_or_create_as(u, "token key", &s, &d), 0);
        assert_int_equal(
                vt_seal(k, (const uint8_t *)"r/s/1", 5, (const uint8_t *)"x", 1, &w, &wl, &c, &cl),
                0);
        /* a witness session of our own, and the module underneath p11-kit's sharing */
        CK_FUNCTION_LIST *m = p11_kit_module_load(g.module, 0);
        CK_FUNCTION_LIST *raw = p11_kit_module_load(g.module, P11_KIT_MODULE_UNMANAGED);
        CK_SLOT_ID slot[4];
        CK_ULONG ns = 4;
        CK_SESSION_HANDLE wit;
        CK_SESSION_INFO si;
        assert_non_null(m);
        assert_non_null(raw);
        assert_int_equal(p11_kit_module_initialize(m), CKR_OK);
        CK_RV rv = raw->C_Initialize(NULL);
        assert_true(rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);
        assert_int_equal(m->C_GetSlotList(CK_TRUE, slot, &ns), CKR_OK);
        assert_int_equal(m->C_OpenSession(slot[0], CKF_SERIAL_SESSION, NULL, NULL, &wit), CKR_OK);
        assert_int_equal(raw->C_CloseAllSessions(slot[0]), CKR_OK);
        assert_int_equal(m->C_GetSessionInfo(wit, &si), CKR_SESSION_HANDLE_INVALID);
        /* every key of ours lost its session too; each operation recovers */
        if (vt_unseal(k, (const uint8_t *)"r/s/1", 5, w, wl, c, cl, &p, &pl, &d) < 0)
                fail_msg("after the token dropped the sessions: %s", d.msg);
        assert_int_equal(pl, 1);
        OPENSSL_clear_free(p, pl);
        json_auto_t *jwks = json_pack("{s:[o]}", "keys", vt_signer_jwk(s));
        json_auto_t *claims = json_pack("{s:I}", "exp", (json_int_t)T0 + 60);
        json_t *got = NULL;
        char *tok = NULL;
        assert_int_equal(vt_jwt_sign(s, claims, &tok), 0);
        assert_int_equal(vt_jwt_verify(tok, jwks, T0, &got, &d), 0);
        json_decref(got);
        free(tok);
        free(w);
        free(c);
        vt_signer_free(s);
        vt_kek_free(k);
        p11_kit_module_finalize(m);
        p11_kit_module_release(m);
        p11_kit_module_release(raw);
}

/* ---- the real veriteed ---- */

static struct server S;
static struct vt_sim_guest guest;
static char admin_authz[2048];

static const char *policy_affirming_sim =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
        "{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true}]}";

static void admin(const char *method, const char *path, const void *body, size_t len, long want)
{
        struct http h = request_full(&S, method, path, body, len, NULL, admin_authz);
        if (h.status != want)
                fail_msg("%s %s: HTTP %ld, want %ld: %s (log %s)", method, path, h.status, want,
                         h.body ? h.body : "", S.log);
        free(h.body);
}

static void put_secret(const char *path, const char *value)
{
        char url[512];
        snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
        admin("POST", url, value, strlen(value), 200);
        snprintf(url, sizeof(url), "/kbs/v0/resource-policy/%s", path);
        admin("PUT", url, policy_affirming_sim, strlen(policy_affirming_sim), 200);
}

/* expect_release attests (the token must verify with jwks), fetches path, decrypts it. */
static void expect_release(const json_t *jwks, const char *path, const char *want)
{
        EVP_PKEY *k = NULL;
        json_auto_t *jwk = new_jwk_key((void **)&k);
        char *token = attest_token(&S, &guest, jwk);
        char url[512], *authz = NULL;
        struct vt_diag d = {0};
        json_t *claims = NULL;
        if (vt_jwt_verify(token, jwks, time(NULL), &claims, &d) < 0)
                fail_msg("the attestation token does not verify with the JWKS: %s", d.msg);
        json_decref(claims);
        assert_true(asprintf(&authz, "Bearer %s", token) > 0);
        snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
        struct http h = request_full(&S, "GET", url, NULL, 0, NULL, authz);
        if (h.status != 200)
                fail_msg("GET %s: HTTP %ld (log %s)", path, h.status, S.log);
        json_auto_t *jwe = json_loads(h.body, 0, NULL);
        uint8_t *plain = NULL;
        size_t pl = 0;
        assert_non_null(jwe);
        if (vt_jwe_decrypt(k, jwe, &plain, &pl, &d) < 0)
                fail_msg("JWE of %s: %s", path, d.msg);
        assert_int_equal(pl, strlen(want));
        assert_memory_equal(plain, want, pl);
        OPENSSL_clear_free(plain, pl);
        free(h.body);
        free(authz);
        free(token);
        EVP_PKEY_free(k);
}

static void rotate_cli(const char *cfg, const char *to)
{
        if (vt_test_sh("'%s' admin rotate-kek '%s' --config '%s' >/dev/null 2>>'%s/rotate.err'",
                       bin("veritee"), to, cfg, vtt_dir) != 0)
                fail_msg("rotate-kek to %s failed: see %s/rotate.err", to, vtt_dir);
}

static void test_hsm_server(void **state)
{
        (void)state;
        need_hsm();
        char key[512], pub[512], kek[512], cfg[512], back[512], text[8192];
        char u_kek1[1024], u_kek2[1024], u_tok[1024], u_led[1024], line[1100];
        struct vt_diag d = {0};
        char *jwt = NULL;
        assert_int_equal(vtt_setup_sim("hsm", &guest), 0);
        char measurement[97];
        vt_hex_encode(guest.measurement, 48, measurement);
        snprintf(key, sizeof(key), "%s/admin.key", vtt_dir);
        snprintf(pub, sizeof(pub), "%s/admin.pub", vtt_dir);
        snprintf(kek, sizeof(kek), "%s/kek", vtt_dir);
        snprintf(back, sizeof(back), "%s/kek-file", vtt_dir);
        snprintf(cfg, sizeof(cfg), "%s/hsm.yaml", vtt_dir);
        assert_int_equal(vt_admin_keygen(key, pub, &d), 0);
        assert_int_equal(vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "test", &jwt, &d),
                         0);
        snprintf(admin_authz, sizeof(admin_authz), "Bearer %s", jwt);
        free(jwt);
        snprintf(text, sizeof(text), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        snprintf(line, sizeof(line), "%s/rv.json", vtt_dir);
        write_text(line, text);
        uri(u_kek1, sizeof(u_kek1), "object=kek1;type=secret-key", true, g.pin);
        uri(u_kek2, sizeof(u_kek2), "object=kek2", false, g.pin);
        uri(u_tok, sizeof(u_tok), "object=tokkey;type=private", true, g.pin);
        uri(u_led, sizeof(u_led), "object=ledgerkey", false, g.pin);
        snprintf(line, sizeof(line), "%s\n", u_kek1);
        write_mode(kek, line, 0600);
        snprintf(text, sizeof(text),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "token:\n  signing_key: '%s'\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n"
                 "ledger:\n  signing_key: '%s'\n  sth_every_ms: 10\n",
                 vtt_dir, u_tok, vtt_dir, vtt_simdir, kek, pub, u_led);
        write_text(cfg, text);
        server_start(&S, "hsm", text);

        /* the JWKS is the token's public key */
        struct vt_signer *ts = NULL, *ls = NULL;
        assert_int_equal(vt_signer_load_or_create_as(u_tok, "token key", &ts, &d), 0);
        assert_int_equal(vt_signer_load_or_create_as(u_led, "ledger key", &ls, &d), 0);
        struct http h = request(&S, "/.well-known/jwks.json", NULL, 0, NULL);
        assert_int_equal(h.status, 200);
        json_auto_t *jwks = json_loads(h.body, 0, NULL);
        free(h.body);
        assert_non_null(jwks);
        assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_object_get(jwks, "keys"), 0), "kid")),
                            vt_signer_kid(ts));

        /* secrets across rotations HSM -> file -> HSM, the server running */
        put_secret("default/hsm/a", "value of A");
        expect_release(jwks, "default/hsm/a", "value of A");
        assert_int_equal(vt_kek_generate(back, &d), 0);
        rotate_cli(cfg, back);
        put_secret("default/hsm/b", "value of B");
        expect_release(jwks, "default/hsm/a", "value of A");
        rotate_cli(cfg, u_kek2);
        expect_release(jwks, "default/hsm/a", "value of A");
        expect_release(jwks, "default/hsm/b", "value of B");
        struct vt_kek *now = NULL, *k2 = NULL;
        assert_int_equal(vt_kek_load(kek, &now, &d), 0);
        assert_int_equal(vt_kek_open_uri(u_kek2, &k2, &d), 0);
        assert_string_equal(vt_kek_id(now), vt_kek_id(k2));
        vt_kek_free(now);
        vt_kek_free(k2);

        /* the ledger's tree heads verify with the token's ledger key */
        json_t *ljwks = NULL;
        json_auto_t *entries = ledger_audit(&S, admin_authz, &ljwks);
        assert_true(json_array_size(entries) > 0);
        assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_object_get(ljwks, "keys"), 0), "kid")),
                            vt_signer_kid(ls));
        json_decref(ljwks);
        vt_signer_free(ts);
        vt_signer_free(ls);
        server_stop_all();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hsm_seal_unseal),
                cmocka_unit_test(test_hsm_key_stays_in_token),
                cmocka_unit_test(test_hsm_wrong_pin),
                cmocka_unit_test(test_hsm_es256),
                cmocka_unit_test(test_hsm_threads),
                cmocka_unit_test(test_hsm_session_lost),
                cmocka_unit_test(test_hsm_rotate_file_hsm_file),
                cmocka_unit_test(test_hsm_rotate_resume),
                cmocka_unit_test(test_hsm_server),
        };
        return vtt_run_group_tests(tests, group_setup, group_teardown);
}
