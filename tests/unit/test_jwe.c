/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWE (lib/crypto/jwe.c): the derived Trustee vector with its intermediate values and
 * a byte-for-byte known-answer encryption; round trips on P-256, P-521, RSA-2048 and
 * RSA-4096; interoperability in both directions with an independent implementation
 * (the jose CLI, libjose); and rejections, including every single-bit change of a
 * P-256 JWE. Keys are generated once, in the group setup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/ctxslots.h"
#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/x509.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

extern char **environ;

#define VECTOR "kbs/derived/rcar-binding-and-jwe-vectors.json"

static struct {
        EVP_PKEY *p256, *p256b, *p521, *rsa2048, *rsa2048b, *rsa4096;
        char dir[64]; /* mkdtemp, for the files jose reads and writes */
} S;

/* the files of the interoperability tests, in S.dir */
static struct {
        char alg[128], key[128], pub[128], ours[128], theirs[128], pt[128], out[128];
} P;

static EVP_PKEY *gen_ec(const char *crv)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", crv);
        if (!k)
                fail_msg("cannot generate an EC %s key", crv);
        return k;
}

static EVP_PKEY *gen_rsa(size_t bits)
{
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
        if (!k)
                fail_msg("cannot generate an RSA-%zu key", bits);
        return k;
}

static int group_setup(void **state)
{
        S.p256 = gen_ec("P-256");
        S.p256b = gen_ec("P-256");
        S.p521 = gen_ec("P-521");
        S.rsa2048 = gen_rsa(2048);
        S.rsa2048b = gen_rsa(2048);
        S.rsa4096 = gen_rsa(4096);
        snprintf(S.dir, sizeof(S.dir), "/tmp/vt-test-jwe-XXXXXX");
        if (!mkdtemp(S.dir))
                return -1;
        snprintf(P.alg, sizeof(P.alg), "%s/jose-alg.txt", S.dir);
        snprintf(P.key, sizeof(P.key), "%s/key.jwk", S.dir);
        snprintf(P.pub, sizeof(P.pub), "%s/pub.jwk", S.dir);
        snprintf(P.ours, sizeof(P.ours), "%s/ours.jwe", S.dir);
        snprintf(P.theirs, sizeof(P.theirs), "%s/theirs.jwe", S.dir);
        snprintf(P.pt, sizeof(P.pt), "%s/pt.bin", S.dir);
        snprintf(P.out, sizeof(P.out), "%s/out.bin", S.dir);
        return 0;
}

static int group_teardown(void **state)
{
        DIR *dir = opendir(S.dir);
        struct dirent *de;

        while (dir && (de = readdir(dir))) {
                char p[512];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "%s/%s", S.dir, de->d_name);
                unlink(p);
        }
        if (dir)
                closedir(dir);
        rmdir(S.dir);
        EVP_PKEY_free(S.p256);
        EVP_PKEY_free(S.p256b);
        EVP_PKEY_free(S.p521);
        EVP_PKEY_free(S.rsa2048);
        EVP_PKEY_free(S.rsa2048b);
        EVP_PKEY_free(S.rsa4096);
        return 0;
}

/* ---- helpers ---- */

static json_t *pub_jwk(EVP_PKEY *k)
{
        json_t *j = NULL;
        assert_int_equal(vt_jwk_from_private(k, &j), 0);
        return j;
}

static json_t *encrypt_ok(EVP_PKEY *k, const uint8_t *pt, size_t n)
{
        _cleanup_json_ json_t *jwk = pub_jwk(k);
        struct vt_diag d = {0};
        json_t *jwe = NULL;
        int e = vt_jwe_encrypt(jwk, pt, n, &jwe, &d);
        if (e != 0)
                fail_msg("vt_jwe_encrypt: %d %s", e, d.msg);
        return jwe;
}

static void decrypt_ok(EVP_PKEY *k, const json_t *jwe, const uint8_t *want, size_t n)
{
        struct vt_diag d = {0};
        uint8_t *pt = NULL;
        size_t len = 0;
        int e = vt_jwe_decrypt(k, jwe, &pt, &len, &d);
        if (e != 0)
                fail_msg("vt_jwe_decrypt: %d %s", e, d.msg);
        assert_non_null(pt);
        assert_int_equal(len, n);
        if (n > 0)
                assert_memory_equal(pt, want, n);
        OPENSSL_clear_free(pt, len);
}

/* decrypt_bad expects err (any negative error when err is 0) with a reason containing
 * why (unless NULL), and the outputs untouched. */
static void decrypt_bad(EVP_PKEY *k, const json_t *jwe, int err, const char *why)
{
        struct vt_diag d = {0};
        uint8_t *pt = (uint8_t *)"untouched";
        size_t len = 99;
        int e = vt_jwe_decrypt(k, jwe, &pt, &len, &d);

        if (err ? e != err : e >= 0)
                fail_msg("vt_jwe_decrypt returned %d (%s), expected %d (%s)", e, d.msg, err,
                         why ? why : "");
        if (why && !strstr(d.msg, why))
                fail_msg("reason \"%s\" does not mention \"%s\"", d.msg, why);
        assert_int_equal(d.err, e);
        assert_string_equal((const char *)pt, "untouched");
        assert_int_equal(len, 99);
}

static uint8_t *member_bytes(const json_t *jwe, const char *k, size_t *n)
{
        const char *s = json_string_value(json_object_get(jwe, k));
        uint8_t *p = NULL;
        assert_non_null(s);
        assert_int_equal(vt_b64_decode(s, strlen(s), VT_B64_URL, 64u << 20, &p, n), 0);
        return p;
}

static void set_member_bytes(json_t *jwe, const char *k, const uint8_t *p, size_t n)
{
        _cleanup_free_ char *s = NULL;
        assert_int_equal(vt_b64_encode(p, n, VT_B64_URL, &s), 0);
        assert_int_equal(json_object_set_new(jwe, k, json_string(s)), 0);
}

static json_t *protected_header(const json_t *jwe)
{
        _cleanup_free_ uint8_t *raw = NULL;
        json_error_t jerr;
        size_t n;
        json_t *h;

        raw = member_bytes(jwe, "protected", &n);
        h = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(h))
                fail_msg("protected header: %s", jerr.text);
        return h;
}

static void set_protected_text(json_t *jwe, const char *text)
{
        set_member_bytes(jwe, "protected", (const uint8_t *)text, strlen(text));
}

static void set_protected(json_t *jwe, const json_t *hdr)
{
        _cleanup_free_ char *s = NULL;
        assert_int_equal(vt_json_dump(hdr, &s), 0);
        set_protected_text(jwe, s);
}

static json_t *clone(const json_t *j)
{
        json_t *c = json_deep_copy(j);
        assert_non_null(c);
        return c;
}

static uint8_t *hex_bytes(const char *hex, size_t *n)
{
        size_t cap = strlen(hex) / 2 + 1;
        uint8_t *p = malloc(cap);
        int k;
        assert_non_null(p);
        k = vt_hex_decode(hex, p, cap);
        assert_true(k >= 0);
        *n = (size_t)k;
        return p;
}

static uint8_t *random_bytes(size_t n)
{
        uint8_t *p = malloc(n > 0 ? n : 1);
        assert_non_null(p);
        assert_int_equal(RAND_bytes(p, (int)n), 1);
        return p;
}

/* ---- the derived Trustee vector ---- */

static void test_jwe_vector_trustee_p256(void **state)
{
        _cleanup_free_ uint8_t *file = NULL, *z = NULL, *kek_want = NULL, *cek_want = NULL;
        _cleanup_free_ uint8_t *iv_want = NULL, *ek = NULL, *iv = NULL;
        _cleanup_json_ json_t *root = NULL, *hdr = NULL, *ephj = NULL, *mine = NULL;
        _cleanup_json_ json_t *again = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *eph = NULL, *epk = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *dctx = NULL;
        const json_t *v, *resp, *epkj;
        struct vt_diag d = {0};
        uint8_t kek[32], cek[32], z2[32];
        size_t len, zl, kl, cl, il, ekl, ivl, z2l = sizeof(z2);
        const char *pt_want;

        file = vt_test_load_vector(VECTOR, &len);
        root = json_loadb((const char *)file, len, 0, NULL);
        assert_non_null(root);
        v = json_object_get(root, "jwe_ecdh_es_a256kw_p256");
        resp = json_object_get(v, "response");
        assert_non_null(resp);
        pt_want = json_string_value(json_object_get(v, "plaintext_utf8"));
        assert_string_equal(pt_want, "this is a test data");

        /* the whole thing */
        if (vt_jwk_private_to_pkey(json_object_get(v, "recipient_private_jwk"), &key, &d) < 0)
                fail_msg("recipient key: %s", d.msg);
        decrypt_ok(key, resp, (const uint8_t *)pt_want, strlen(pt_want));

        /* the protected header: alg, enc, epk{crv,kty,x,y}, nothing else */
        hdr = protected_header(resp);
        assert_int_equal(json_object_size(hdr), 3);
        assert_string_equal(json_string_value(json_object_get(hdr, "alg")), "ECDH-ES+A256KW");
        assert_string_equal(json_string_value(json_object_get(hdr, "enc")), "A256GCM");
        epkj = json_object_get(hdr, "epk");
        assert_int_equal(json_object_size(epkj), 4);
        assert_string_equal(json_string_value(json_object_get(epkj, "crv")), "P-256");
        assert_string_equal(json_string_value(json_object_get(epkj, "kty")), "EC");

        /* ECDH: the recipient's d with epk gives ecdh_z_hex */
        z = hex_bytes(json_string_value(json_object_get(v, "ecdh_z_hex")), &zl);
        assert_int_equal(zl, 32);
        assert_int_equal(vt_jwk_to_pkey(epkj, &epk, NULL), 0);
        dctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        assert_non_null(dctx);
        assert_int_equal(EVP_PKEY_derive_init(dctx), 1);
        assert_int_equal(EVP_PKEY_derive_set_peer(dctx, epk), 1);
        assert_int_equal(EVP_PKEY_derive(dctx, z2, &z2l), 1);
        assert_int_equal(z2l, 32);
        assert_memory_equal(z2, z, 32);

        /* Concat KDF on Z, then the unwrap of encrypted_key */
        kek_want = hex_bytes(json_string_value(json_object_get(v, "concat_kdf_kek_hex")), &kl);
        assert_int_equal(vt_jwe_concat_kdf(z, zl, "ECDH-ES+A256KW", kek), 0);
        assert_memory_equal(kek, kek_want, 32);
        ek = member_bytes(resp, "encrypted_key", &ekl);
        assert_int_equal(ekl, 40);
        cek_want = hex_bytes(json_string_value(json_object_get(v, "cek_hex")), &cl);
        assert_int_equal(vt_jwe_a256kw_unwrap(kek, ek, cek), 0);
        assert_memory_equal(cek, cek_want, 32);
        iv_want = hex_bytes(json_string_value(json_object_get(v, "iv_hex")), &il);
        iv = member_bytes(resp, "iv", &ivl);
        assert_int_equal(ivl, 12);
        assert_memory_equal(iv, iv_want, 12);

        /* wrap is the inverse, and a wrong KEK does not unwrap */
        {
                uint8_t w[40], bad[32];
                assert_int_equal(vt_jwe_a256kw_wrap(kek, cek, w), 0);
                assert_memory_equal(w, ek, 40);
                memcpy(bad, kek, 32);
                bad[0] ^= 1;
                assert_int_equal(vt_jwe_a256kw_unwrap(bad, ek, cek), VT_E_CRYPTO);
        }

        /* the KBS's ephemeral d belongs to epk ... */
        ephj = clone(epkj);
        assert_int_equal(json_object_set_new(ephj, "d",
                                             json_deep_copy(json_object_get(
                                                     v, "kbs_ephemeral_private_d_b64url"))),
                         0);
        if (vt_jwk_private_to_pkey(ephj, &eph, &d) < 0)
                fail_msg("ephemeral key: %s", d.msg);

        /* ... so encrypting with the same ephemeral key, CEK and IV reproduces Trustee's
         * response byte for byte (protected header included) */
        mine = pub_jwk(key);
        if (vt_jwe_encrypt_with(mine, eph, cek_want, iv_want, (const uint8_t *)pt_want,
                                strlen(pt_want), &again, &d) < 0)
                fail_msg("vt_jwe_encrypt_with: %s", d.msg);
        assert_int_equal(json_object_size(again), 5);
        assert_true(json_equal(again, (json_t *)resp));
        {
                _cleanup_free_ char *s = NULL;
                assert_int_equal(vt_json_dump(again, &s), 0);
                assert_non_null(strstr(s, "{\"protected\":\"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIs"));
        }

        /* and the public JWK the agent would send is the vector's tee-pubkey */
        assert_true(json_equal(mine, json_object_get(json_object_get(root, "runtime_data_binding"),
                                                     "tee_pubkey_jwk")));
}

/* ---- round trips ---- */

static void check_shape(EVP_PKEY *k, const json_t *jwe, size_t n)
{
        static const char *const members[] = {"protected", "encrypted_key", "iv", "ciphertext",
                                              "tag"};
        _cleanup_json_ json_t *hdr = protected_header(jwe);
        _cleanup_free_ char *hs = NULL;
        const char *k0;
        json_t *v;
        size_t i = 0, ekl, l;
        bool ec = EVP_PKEY_is_a(k, "EC");

        /* exactly the five members, in KT Response order */
        assert_int_equal(json_object_size(jwe), 5);
        json_object_foreach ((json_t *)jwe, k0, v)
                assert_string_equal(k0, members[i++]);
        free(member_bytes(jwe, "encrypted_key", &ekl));
        assert_int_equal(ekl, ec ? 40 : (size_t)EVP_PKEY_get_size(k));
        free(member_bytes(jwe, "iv", &l));
        assert_int_equal(l, 12);
        free(member_bytes(jwe, "tag", &l));
        assert_int_equal(l, 16);
        free(member_bytes(jwe, "ciphertext", &l));
        assert_int_equal(l, n);
        assert_int_equal(vt_json_dump(hdr, &hs), 0);
        /* its bytes are vt_jwe_protected_serialize's for it (a new EC ephemeral key's header
         * is written directly, not through it) */
        _cleanup_free_ uint8_t *raw = member_bytes(jwe, "protected", &l);
        _cleanup_free_ char *canon = NULL;
        assert_int_equal(vt_jwe_protected_serialize(hdr, &canon), 0);
        assert_int_equal(l, strlen(canon));
        assert_memory_equal(raw, canon, l);
        if (ec) {
                const char *crv = EVP_PKEY_get_bits(k) == 256 ? "P-256" : "P-521";
                char want[128];
                snprintf(want, sizeof(want),
                         "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",\"epk\":{\"crv\":\"%s\","
                         "\"kty\":\"EC\",\"x\":\"",
                         crv);
                assert_memory_equal(hs, want, strlen(want));
                assert_int_equal(vt_jwk_to_pkey(json_object_get(hdr, "epk"), NULL, NULL), 0);
        } else {
                assert_string_equal(hs, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}");
        }
}

static void roundtrip(EVP_PKEY *k)
{
        static const size_t sizes[] = {0, 1, 31, 32, 4096, 1u << 20};

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_free_ uint8_t *pt = random_bytes(sizes[i]);
                _cleanup_json_ json_t *a = encrypt_ok(k, pt, sizes[i]);
                _cleanup_json_ json_t *b = encrypt_ok(k, pt, sizes[i]);

                check_shape(k, a, sizes[i]);
                decrypt_ok(k, a, pt, sizes[i]);
                decrypt_ok(k, b, pt, sizes[i]);
                /* fresh CEK, IV (and ephemeral key) every time */
                assert_false(json_equal(json_object_get(a, "encrypted_key"),
                                        json_object_get(b, "encrypted_key")));
                assert_false(json_equal(json_object_get(a, "iv"), json_object_get(b, "iv")));
                if (EVP_PKEY_is_a(k, "EC")) /* the protected header carries the epk */
                        assert_false(json_equal(json_object_get(a, "protected"),
                                                json_object_get(b, "protected")));
        }
}

/* Ephemeral keys (lib/crypto/jwe.c's eph_ecdh: each curve's group made once and shared by
 * every thread), from 12 threads at once: every JWE decrypts with the recipient's key
 * (OpenSSL's ECDH through EVP, the other way), and no two of them share an ephemeral key,
 * on either curve. */
#define EPH_THREADS 12
#define EPH_EACH    16

struct eph_arg {
        EVP_PKEY *k;
        json_t *jwk;
        char *epk_x[EPH_EACH];
        int bad;
};

static void *eph_thread(void *p)
{
        struct eph_arg *a = p;
        static const uint8_t pt[] = "the secret";
        for (int i = 0; i < EPH_EACH; i++) {
                json_t *jwe = NULL;
                uint8_t *out = NULL;
                size_t n = 0;
                if (vt_jwe_encrypt(a->jwk, pt, sizeof(pt), &jwe, NULL) != 0 ||
                    vt_jwe_decrypt(a->k, jwe, &out, &n, NULL) != 0 || n != sizeof(pt) ||
                    memcmp(out, pt, n) != 0) {
                        a->bad++;
                } else {
                        json_t *hdr = NULL;
                        const char *prot = json_string_value(json_object_get(jwe, "protected"));
                        uint8_t *raw = NULL;
                        size_t rl = 0;
                        if (prot &&
                            vt_b64_decode(prot, strlen(prot), VT_B64_URL, 4096, &raw, &rl) == 0)
                                hdr = json_loadb((const char *)raw, rl, 0, NULL);
                        const char *x = json_string_value(
                                json_object_get(json_object_get(hdr, "epk"), "x"));
                        a->epk_x[i] = x ? strdup(x) : NULL;
                        if (!a->epk_x[i])
                                a->bad++;
                        json_decref(hdr);
                        free(raw);
                }
                free(out);
                json_decref(jwe);
        }
        return NULL;
}

static void test_jwe_ephemeral_keys_threads(void **state)
{
        (void)state;
        struct eph_arg a[EPH_THREADS];
        pthread_t th[EPH_THREADS];
        for (int t = 0; t < EPH_THREADS; t++) {
                a[t] = (struct eph_arg){.k = t % 3 == 2 ? S.p521 : S.p256};
                a[t].jwk = pub_jwk(a[t].k);
                assert_int_equal(pthread_create(&th[t], NULL, eph_thread, &a[t]), 0);
        }
        for (int t = 0; t < EPH_THREADS; t++)
                pthread_join(th[t], NULL);
        for (int t = 0; t < EPH_THREADS; t++) {
                assert_int_equal(a[t].bad, 0);
                for (int i = 0; i < EPH_EACH; i++)
                        for (int u = t; u < EPH_THREADS; u++)
                                for (int j = u == t ? i + 1 : 0; j < EPH_EACH; j++)
                                        assert_string_not_equal(a[t].epk_x[i], a[u].epk_x[j]);
        }
        for (int t = 0; t < EPH_THREADS; t++) {
                for (int i = 0; i < EPH_EACH; i++)
                        free(a[t].epk_x[i]);
                json_decref(a[t].jwk);
        }
}

static void test_jwe_roundtrip_p256(void **state)
{
        roundtrip(S.p256);
}

static void test_jwe_roundtrip_p521(void **state)
{
        roundtrip(S.p521);
}

static void test_jwe_roundtrip_rsa2048(void **state)
{
        roundtrip(S.rsa2048);
}

static void test_jwe_roundtrip_rsa4096(void **state)
{
        roundtrip(S.rsa4096);
}

/* the 16 MiB cap: exactly VT_JWE_MAX_PLAINTEXT round-trips, one byte more is refused */
static void test_jwe_size_cap(void **state)
{
        _cleanup_json_ json_t *jwk = pub_jwk(S.p256), *jwe = NULL, *big = NULL;
        _cleanup_free_ uint8_t *pt = calloc(1, VT_JWE_MAX_PLAINTEXT + 1);
        _cleanup_free_ char *s = NULL;
        struct vt_diag d = {0};
        json_t *out = (json_t *)"untouched";
        size_t chars;

        assert_non_null(pt);
        assert_int_equal(vt_jwe_encrypt(jwk, pt, VT_JWE_MAX_PLAINTEXT + 1, &out, &d), VT_E_LIMIT);
        assert_string_equal((const char *)out, "untouched");
        jwe = encrypt_ok(S.p256, pt, VT_JWE_MAX_PLAINTEXT);
        decrypt_ok(S.p256, jwe, pt, VT_JWE_MAX_PLAINTEXT);

        /* a ciphertext of 16 MiB + 1 byte: base64url of zero bytes is all 'A' */
        chars = ((size_t)VT_JWE_MAX_PLAINTEXT + 1) / 3 * 4 + 3; /* (16 MiB + 1) % 3 == 2 */
        assert_int_equal((VT_JWE_MAX_PLAINTEXT + 1) % 3, 2);
        s = malloc(chars + 1);
        assert_non_null(s);
        memset(s, 'A', chars);
        s[chars] = 0;
        big = clone(jwe);
        assert_int_equal(json_object_set_new(big, "ciphertext", json_string(s)), 0);
        decrypt_bad(S.p256, big, VT_E_FORMAT, "\"ciphertext\" is longer than 16777216 bytes");
}

/* ---- interoperability with the jose CLI (libjose) ---- */

/* run spawns argv (looked up on PATH) with stdout to out_path (if given) and returns
 * its exit status, or -errno if it could not be started. */
static int run(char *const argv[], const char *out_path)
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int st = 0, e;

        posix_spawn_file_actions_init(&fa);
        if (out_path)
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path,
                                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
        e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (e != 0)
                return -e;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_file(const char *path, const void *p, size_t n)
{
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(p, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
}

static void write_json(const char *path, const json_t *j)
{
        _cleanup_free_ char *s = NULL;
        assert_int_equal(vt_json_dump(j, &s), 0);
        write_file(path, s, strlen(s));
}

static json_t *read_json(const char *path)
{
        _cleanup_free_ uint8_t *buf = NULL;
        json_error_t jerr;
        size_t n;
        json_t *j;

        buf = vt_test_load(path, &n);
        j = json_loadb((const char *)buf, n, 0, &jerr);
        if (!j)
                fail_msg("%s: %s", path, jerr.text);
        return j;
}

static void set_bn(json_t *j, const char *k, EVP_PKEY *key, const char *param, int pad)
{
        _cleanup_(BN_clear_freep) BIGNUM *bn = NULL;
        uint8_t buf[1024];
        int n;

        assert_int_equal(EVP_PKEY_get_bn_param(key, param, &bn), 1);
        n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
        assert_true(n > 0);
        set_member_bytes(j, k, buf, (size_t)n);
        OPENSSL_cleanse(buf, sizeof(buf));
}

/* private_jwk is the full private JWK libjose needs: EC d, or all RSA CRT members. */
static json_t *private_jwk(EVP_PKEY *k)
{
        json_t *j = pub_jwk(k);

        json_object_del(j, "alg");
        if (EVP_PKEY_is_a(k, "EC")) {
                set_bn(j, "d", k, OSSL_PKEY_PARAM_PRIV_KEY, (EVP_PKEY_get_bits(k) + 7) / 8);
        } else {
                set_bn(j, "d", k, OSSL_PKEY_PARAM_RSA_D, 0);
                set_bn(j, "p", k, OSSL_PKEY_PARAM_RSA_FACTOR1, 0);
                set_bn(j, "q", k, OSSL_PKEY_PARAM_RSA_FACTOR2, 0);
                set_bn(j, "dp", k, OSSL_PKEY_PARAM_RSA_EXPONENT1, 0);
                set_bn(j, "dq", k, OSSL_PKEY_PARAM_RSA_EXPONENT2, 0);
                set_bn(j, "qi", k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0);
        }
        return j;
}

/* jose_supports returns whether `jose alg` lists alg; fails the test when jose is not
 * installed. */
static bool jose_supports(const char *alg)
{
        char *const argv[] = {"jose", "alg", NULL};
        _cleanup_free_ uint8_t *list = NULL;
        const char *out = P.alg;
        size_t n, al = strlen(alg);
        int e = run(argv, out);

        if (e == -ENOENT)
                fail_msg("jose is not on PATH: the interoperability tests need the Debian "
                         "package \"jose\" (scripts/deps.sh installs it)");
        if (e != 0)
                fail_msg("`jose alg` failed (%d)", e);
        list = vt_test_load(out, &n);
        for (const char *p = (const char *)list; p && p < (const char *)list + n;) {
                const char *nl = memchr(p, '\n', (size_t)((const char *)list + n - p));
                size_t l = nl ? (size_t)(nl - p) : (size_t)((const char *)list + n - p);
                if (l == al && memcmp(p, alg, al) == 0)
                        return true;
                p = nl ? nl + 1 : NULL;
        }
        return false;
}

static void compare_file(const char *path, const uint8_t *want, size_t n)
{
        _cleanup_free_ uint8_t *got = NULL;
        size_t len;

        got = vt_test_load(path, &len);
        assert_int_equal(len, n);
        if (n > 0)
                assert_memory_equal(got, want, n);
}

/* jose_both_ways: our JWE decrypted by `jose jwe dec`, and jose's JWE (flattened
 * JSON, epk in its unprotected "header") decrypted by vt_jwe_decrypt. */
static void jose_both_ways(EVP_PKEY *k, const char *alg)
{
        static const size_t sizes[] = {1, 19, 4096, 100000};
        _cleanup_json_ json_t *priv = private_jwk(k), *pub = pub_jwk(k);
        char tmpl[128];

        snprintf(tmpl, sizeof(tmpl), "{\"protected\":{\"alg\":\"%s\",\"enc\":\"A256GCM\"}}", alg);
        write_json(P.key, priv);
        write_json(P.pub, pub);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_free_ uint8_t *pt = random_bytes(sizes[i]);
                _cleanup_json_ json_t *ours = encrypt_ok(k, pt, sizes[i]), *theirs = NULL;
                char *const dec[] = {"jose", "jwe", "dec", "-i",  P.ours,
                                     "-k",   P.key, "-O",  P.out, NULL};
                char *const enc[] = {"jose", "jwe", "enc", "-i", tmpl,     "-I",
                                     P.pt,   "-k",  P.pub, "-o", P.theirs, NULL};
                int e;

                write_json(P.ours, ours);
                unlink(P.out);
                e = run(dec, NULL);
                if (e != 0)
                        fail_msg("`jose jwe dec` of our %s JWE (%zu bytes) exited %d", alg,
                                 sizes[i], e);
                compare_file(P.out, pt, sizes[i]);

                write_file(P.pt, pt, sizes[i]);
                e = run(enc, NULL);
                if (e != 0)
                        fail_msg("`jose jwe enc` with %s exited %d", alg, e);
                theirs = read_json(P.theirs);
                {
                        _cleanup_json_ json_t *h = protected_header(theirs);
                        assert_string_equal(json_string_value(json_object_get(h, "alg")), alg);
                        assert_string_equal(json_string_value(json_object_get(h, "enc")),
                                            "A256GCM");
                }
                decrypt_ok(k, theirs, pt, sizes[i]);
        }
}

static void test_jwe_jose_p256(void **state)
{
        assert_true(jose_supports("ECDH-ES+A256KW"));
        jose_both_ways(S.p256, "ECDH-ES+A256KW");
}

static void test_jwe_jose_p521(void **state)
{
        assert_true(jose_supports("ECDH-ES+A256KW"));
        jose_both_ways(S.p521, "ECDH-ES+A256KW");
}

/* Fallback for RSA-OAEP-256 when libjose lacks it (jose <= 12 built against OpenSSL 3
 * does not register any RSA-OAEP algorithm; fixed upstream in latchset/jose#145):
 * the same two directions with python3-cryptography (tests/helpers/oaep_rsa.py, which
 * exits 77 without it). */

static void python_both_ways(EVP_PKEY *k)
{
        _cleanup_json_ json_t *priv = private_jwk(k), *theirs = NULL, *ours = NULL;
        _cleanup_free_ uint8_t *pt = random_bytes(4096);
        char py[4096];
        snprintf(py, sizeof(py), "%s", vt_test_helper("oaep_rsa.py"));
        char *const dec[] = {"python3", py, "dec", P.key, P.ours, P.out, NULL};
        char *const enc[] = {"python3", py, "enc", P.key, P.pt, P.theirs, NULL};
        int e;

        write_json(P.key, priv);
        ours = encrypt_ok(k, pt, 4096);
        write_json(P.ours, ours);
        e = run(dec, NULL);
        if (e == -ENOENT || e == 77)
                vtt_skip("jose lacks RSA-OAEP-256 and python3-cryptography is not available for "
                         "the fallback cross-check");
        if (e != 0)
                fail_msg("python3-cryptography could not decrypt our RSA-OAEP-256 JWE (%d)", e);
        compare_file(P.out, pt, 4096);
        write_file(P.pt, pt, 4096);
        e = run(enc, NULL);
        if (e != 0)
                fail_msg("python3-cryptography could not encrypt with RSA-OAEP-256 (%d)", e);
        theirs = read_json(P.theirs);
        decrypt_ok(k, theirs, pt, 4096);
}

static void test_jwe_jose_rsa_oaep_256(void **state)
{
        if (jose_supports("RSA-OAEP-256")) {
                jose_both_ways(S.rsa2048, "RSA-OAEP-256");
                return;
        }
        print_message("note: this jose has no RSA-OAEP-256 (libjose before latchset/jose#145 "
                      "with OpenSSL 3); cross-checking with python3-cryptography instead\n");
        python_both_ways(S.rsa2048);
        python_both_ways(S.rsa4096);
}

/* ---- rejections ---- */

static void test_jwe_refuses_rsa1_5(void **state)
{
        _cleanup_json_ json_t *jwk = pub_jwk(S.rsa2048), *jwe = NULL, *hdr = NULL;
        struct vt_diag d = {0};
        json_t *out = (json_t *)"untouched";

        assert_int_equal(json_object_set_new(jwk, "alg", json_string("RSA1_5")), 0);
        assert_int_equal(vt_jwe_encrypt(jwk, (const uint8_t *)"x", 1, &out, &d), VT_E_UNSUPPORTED);
        assert_non_null(strstr(d.msg, "RSA1_5 is refused"));
        assert_string_equal((const char *)out, "untouched");

        /* and a JWE that says RSA1_5 */
        jwe = encrypt_ok(S.rsa2048, (const uint8_t *)"secret", 6);
        hdr = protected_header(jwe);
        assert_int_equal(json_object_set_new(hdr, "alg", json_string("RSA1_5")), 0);
        set_protected(jwe, hdr);
        decrypt_bad(S.rsa2048, jwe, VT_E_UNSUPPORTED, "RSA1_5 is refused");
}

/* flip_bit returns a copy of jwe with bit (i % 8) of byte i / 8 of member k flipped. */
static json_t *flip_bit(const json_t *jwe, const char *k, size_t i)
{
        _cleanup_free_ uint8_t *p = NULL;
        json_t *c = clone(jwe);
        size_t n;

        p = member_bytes(jwe, k, &n);
        assert_true(i / 8 < n);
        p[i / 8] ^= (uint8_t)(1u << (i % 8));
        set_member_bytes(c, k, p, n);
        return c;
}

/* Every single-bit change of every member of a P-256 JWE is rejected; tampering with
 * the RSA JWE's first and last bytes too. */
static void test_jwe_rejects_any_bit_flip(void **state)
{
        static const char *const members[] = {"protected", "encrypted_key", "iv", "ciphertext",
                                              "tag"};
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"secret payload", 14);
        _cleanup_json_ json_t *rsa = encrypt_ok(S.rsa2048, (const uint8_t *)"secret payload", 14);
        unsigned tried = 0;

        for (size_t m = 0; m < ELEMENTSOF(members); m++) {
                size_t n, nr;
                free(member_bytes(ec, members[m], &n));
                free(member_bytes(rsa, members[m], &nr));
                for (size_t i = 0; i < 8 * n; i++, tried++) {
                        _cleanup_json_ json_t *t = flip_bit(ec, members[m], i);
                        /* protected: whatever still parses fails on the tag */
                        decrypt_bad(S.p256, t, strcmp(members[m], "protected") ? VT_E_CRYPTO : 0,
                                    NULL);
                }
                for (size_t i = 0; i < 8 * nr; i += (i == 7 ? 8 * nr - 15 : 1)) {
                        _cleanup_json_ json_t *t = flip_bit(rsa, members[m], i);
                        decrypt_bad(S.rsa2048, t, strcmp(members[m], "protected") ? VT_E_CRYPTO : 0,
                                    NULL);
                }
        }
        print_message("%u single-bit changes of a P-256 JWE rejected\n", tried);
}

/* reprotect returns a copy of jwe whose protected member is hdr as text (with an
 * extra space when spaced), i.e. the same or another header under another AAD. */
static json_t *reprotect(const json_t *jwe, const json_t *hdr, bool spaced)
{
        _cleanup_free_ char *s = NULL;
        json_t *t = clone(jwe);
        char buf[1024];

        assert_int_equal(vt_json_dump(hdr, &s), 0);
        snprintf(buf, sizeof(buf), "%s%s", s, spaced ? " " : "");
        set_protected_text(t, buf);
        return t;
}

static void test_jwe_rejects_tampering(void **state)
{
        static const struct {
                const char *member;
                size_t bit;
                const char *why;
        } flips[] = {
                {"tag", 0, "A256GCM authentication failed"},
                {"ciphertext", 3, "A256GCM authentication failed"},
                {"iv", 95, "A256GCM authentication failed"},
                {"encrypted_key", 17, "A256KW unwrap"},
        };
        _cleanup_json_ json_t *jwe = encrypt_ok(S.p256, (const uint8_t *)"secret payload", 14);
        _cleanup_json_ json_t *hdr = protected_header(jwe);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *other = gen_ec("P-256");

        /* each of tag, ciphertext, iv, encrypted_key: the reason names the failed check */
        for (size_t i = 0; i < ELEMENTSOF(flips); i++) {
                _cleanup_json_ json_t *t = flip_bit(jwe, flips[i].member, flips[i].bit);
                decrypt_bad(S.p256, t, VT_E_CRYPTO, flips[i].why);
        }
        /* the protected header re-encoded with the same meaning: the AAD changed */
        {
                _cleanup_json_ json_t *t = reprotect(jwe, hdr, true);
                decrypt_bad(S.p256, t, VT_E_CRYPTO, "A256GCM authentication failed");
        }
        {
                _cleanup_json_ json_t *h =
                        json_pack("{s:O,s:O,s:O}", "enc", json_object_get(hdr, "enc"), "alg",
                                  json_object_get(hdr, "alg"), "epk", json_object_get(hdr, "epk"));
                _cleanup_json_ json_t *t = reprotect(jwe, h, false);
                decrypt_bad(S.p256, t, VT_E_CRYPTO, "A256GCM authentication failed");
        }
        /* an unknown parameter added */
        {
                _cleanup_json_ json_t *h = clone(hdr), *t = NULL;
                assert_int_equal(json_object_set_new(h, "kid", json_string("x")), 0);
                t = reprotect(jwe, h, false);
                decrypt_bad(S.p256, t, VT_E_CRYPTO, "A256GCM authentication failed");
        }
        /* another valid epk: another KEK */
        {
                _cleanup_json_ json_t *h = clone(hdr), *t = NULL;
                json_t *epk = NULL;
                assert_int_equal(vt_jwk_from_private(other, &epk), 0);
                json_object_del(epk, "alg");
                assert_int_equal(json_object_set_new(h, "epk", epk), 0);
                t = reprotect(jwe, h, false);
                decrypt_bad(S.p256, t, VT_E_CRYPTO, "A256KW unwrap");
        }
}

static void test_jwe_rejects_wrong_key(void **state)
{
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"x", 1);
        _cleanup_json_ json_t *ec521 = encrypt_ok(S.p521, (const uint8_t *)"x", 1);
        _cleanup_json_ json_t *rsa = encrypt_ok(S.rsa2048, (const uint8_t *)"x", 1);
        _cleanup_json_ json_t *rsa4k = encrypt_ok(S.rsa4096, (const uint8_t *)"x", 1);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pubonly = NULL;
        _cleanup_json_ json_t *pj = pub_jwk(S.p256);

        decrypt_bad(S.p256b, ec, VT_E_CRYPTO, "A256KW unwrap of encrypted_key failed");
        decrypt_bad(S.p521, ec, VT_E_CRYPTO, "epk curve P-256 is not the key's curve P-521");
        decrypt_bad(S.p256, ec521, VT_E_CRYPTO, "epk curve P-521 is not the key's curve P-256");
        decrypt_bad(S.rsa2048b, rsa, VT_E_CRYPTO, "RSA-OAEP-256 decryption");
        decrypt_bad(S.rsa4096, rsa, VT_E_FORMAT, "\"encrypted_key\" is 256 bytes, expected 512");
        decrypt_bad(S.rsa2048, rsa4k, VT_E_FORMAT, "\"encrypted_key\" is 512 bytes, expected 256");
        /* alg that does not fit the key type */
        decrypt_bad(S.rsa2048, ec, VT_E_CRYPTO, "alg ECDH-ES+A256KW does not fit the RSA key");
        decrypt_bad(S.p256, rsa, VT_E_CRYPTO, "alg RSA-OAEP-256 does not fit the EC key");
        /* a public key cannot decrypt */
        assert_int_equal(vt_jwk_to_pkey(pj, &pubonly, NULL), 0);
        decrypt_bad(pubonly, ec, VT_E_CRYPTO, "not a private key");
}

static void test_jwe_rejects_lengths(void **state)
{
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"x", 1);
        _cleanup_json_ json_t *rsa = encrypt_ok(S.rsa2048, (const uint8_t *)"x", 1);
        static const struct {
                const char *member;
                size_t n;
                const char *why;
        } bad[] = {
                {"encrypted_key", 0, "\"encrypted_key\" is 0 bytes, expected 40"},
                {"encrypted_key", 32, "\"encrypted_key\" is 32 bytes, expected 40"},
                {"encrypted_key", 39, "\"encrypted_key\" is 39 bytes, expected 40"},
                {"encrypted_key", 41, "\"encrypted_key\" is 41 bytes, expected 40"},
                {"encrypted_key", 48, "\"encrypted_key\" is 48 bytes, expected 40"},
                {"iv", 0, "\"iv\" is 0 bytes, expected 12"},
                {"iv", 11, "\"iv\" is 11 bytes, expected 12"},
                {"iv", 13, "\"iv\" is 13 bytes, expected 12"},
                {"iv", 16, "\"iv\" is 16 bytes, expected 12"},
                {"tag", 0, "\"tag\" is 0 bytes, expected 16"},
                {"tag", 4, "\"tag\" is 4 bytes, expected 16"}, /* truncated GCM tags */
                {"tag", 12, "\"tag\" is 12 bytes, expected 16"},
                {"tag", 15, "\"tag\" is 15 bytes, expected 16"},
                {"tag", 17, "\"tag\" is 17 bytes, expected 16"},
        };
        uint8_t zeros[64] = {0};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_json_ json_t *t = clone(ec);
                set_member_bytes(t, bad[i].member, zeros, bad[i].n);
                decrypt_bad(S.p256, t, VT_E_FORMAT, bad[i].why);
        }
        for (size_t n = 0; n < 300; n += (n == 0 ? 40 : n == 40 ? 215 : 1)) {
                _cleanup_json_ json_t *t = clone(rsa);
                _cleanup_free_ uint8_t *p = calloc(1, n + 1);
                if (n == 256)
                        continue;
                set_member_bytes(t, "encrypted_key", p, n);
                decrypt_bad(S.rsa2048, t, VT_E_FORMAT, "expected 256");
        }
        {
                /* 1025 bytes: above the 8192-bit cap before any RSA */
                _cleanup_json_ json_t *t = clone(rsa);
                _cleanup_free_ uint8_t *p = calloc(1, 1025);
                set_member_bytes(t, "encrypted_key", p, 1025);
                decrypt_bad(S.rsa2048, t, VT_E_FORMAT, "is longer than 1024 bytes");
        }
}

static void test_jwe_rejects_header(void **state)
{
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"x", 1);
        _cleanup_json_ json_t *hdr = protected_header(ec);
        static const struct {
                const char *k;
                const char *v; /* JSON text; NULL deletes */
                int err;
                const char *why;
        } cases[] = {
                {"enc", "\"A128GCM\"", VT_E_UNSUPPORTED, "enc A128GCM not supported"},
                {"enc", "\"A256CBC-HS512\"", VT_E_UNSUPPORTED, "enc A256CBC-HS512 not supported"},
                {"enc", NULL, VT_E_FORMAT, "header \"enc\" missing"},
                {"enc", "256", VT_E_FORMAT, "header \"enc\" missing or not a string"},
                {"alg", NULL, VT_E_FORMAT, "header \"alg\" missing"},
                {"alg", "\"ECDH-ES\"", VT_E_UNSUPPORTED, "alg ECDH-ES not supported"},
                {"alg", "\"dir\"", VT_E_UNSUPPORTED, "alg dir not supported"},
                {"alg", "\"A256KW\"", VT_E_UNSUPPORTED, "alg A256KW not supported"},
                {"alg", "\"RSA-OAEP\"", VT_E_UNSUPPORTED, "alg RSA-OAEP not supported"},
                {"alg", "\"RSA-OAEP-256\"", VT_E_CRYPTO, "does not fit the EC key"},
                {"zip", "\"DEF\"", VT_E_UNSUPPORTED, "\"zip\" (compression) is refused"},
                {"crit", "[\"exp\"]", VT_E_UNSUPPORTED, "\"crit\""},
                {"epk", NULL, VT_E_FORMAT, "header \"epk\" missing or not an object"},
                {"epk", "\"x\"", VT_E_FORMAT, "header \"epk\" missing or not an object"},
                {"epk", "{\"kty\":\"EC\",\"crv\":\"P-384\"}", VT_E_CRYPTO, "epk curve P-384"},
                {"epk", "{\"kty\":\"RSA\",\"crv\":\"P-256\"}", VT_E_FORMAT, "epk kty must be EC"},
                {"epk", "{\"crv\":\"P-256\"}", VT_E_FORMAT, "epk kty must be EC"},
                {"epk", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}", VT_E_FORMAT,
                 "epk: jwk: P-256 coordinates must be 32 bytes"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_t *t = clone(ec), *h = clone(hdr);
                if (cases[i].v)
                        assert_int_equal(
                                json_object_set_new(h, cases[i].k,
                                                    json_loads(cases[i].v, JSON_DECODE_ANY, NULL)),
                                0);
                else
                        json_object_del(h, cases[i].k);
                set_protected(t, h);
                decrypt_bad(S.p256, t, cases[i].err, cases[i].why);
        }

        /* epk: off the curve, or carrying a private member */
        {
                _cleanup_json_ json_t *t = clone(ec), *h = clone(hdr);
                json_t *epk = json_object_get(h, "epk");
                _cleanup_free_ uint8_t *y = member_bytes(epk, "y", &(size_t){0});
                y[31] ^= 1;
                set_member_bytes(epk, "y", y, 32);
                set_protected(t, h);
                decrypt_bad(S.p256, t, VT_E_FORMAT,
                            "epk: jwk: the P-256 point is not on the curve");
        }
        {
                _cleanup_json_ json_t *t = clone(ec), *h = clone(hdr);
                json_t *epk = json_object_get(h, "epk");
                assert_int_equal(json_object_set_new(epk, "d", json_string("AA")), 0);
                set_protected(t, h);
                decrypt_bad(S.p256, t, VT_E_FORMAT, "private member \"d\"");
        }

        /* the header text itself */
        {
                static const struct {
                        const char *text;
                        const char *why;
                } texts[] = {
                        {"", "protected header is not JSON"},
                        {"[]", "protected header is not a JSON object"},
                        {"\"alg\"", "protected header is not JSON"}, /* no DECODE_ANY */
                        {"{\"alg\":\"ECDH-ES+A256KW\",\"alg\":\"ECDH-ES+A256KW\"}",
                         "protected header is not JSON: duplicate"},
                        {"{\"alg\":\"ECDH-ES+A256KW\"", "protected header is not JSON"},
                };
                for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                        _cleanup_json_ json_t *t = clone(ec);
                        set_protected_text(t, texts[i].text);
                        decrypt_bad(S.p256, t, VT_E_FORMAT, texts[i].why);
                }
        }

        /* a header parameter in two places, zip in the unprotected header */
        {
                _cleanup_json_ json_t *t = clone(ec);
                assert_int_equal(
                        json_object_set_new(t, "header", json_pack("{s:s}", "enc", "A256GCM")), 0);
                decrypt_bad(S.p256, t, VT_E_FORMAT,
                            "header parameter \"enc\" is in both \"protected\" and \"header\"");
        }
        {
                _cleanup_json_ json_t *t = clone(ec);
                assert_int_equal(
                        json_object_set_new(t, "unprotected", json_pack("{s:s}", "zip", "DEF")), 0);
                decrypt_bad(S.p256, t, VT_E_UNSUPPORTED, "\"zip\"");
        }
        {
                _cleanup_json_ json_t *t = clone(ec);
                assert_int_equal(json_object_set_new(t, "header", json_string("x")), 0);
                decrypt_bad(S.p256, t, VT_E_FORMAT, "member \"header\" is not an object");
        }
        {
                /* epk moved to the unprotected "header" (where libjose writes it) is found
                 * there (the key unwraps), but the protected string, the AAD, changed */
                _cleanup_json_ json_t *t = clone(ec), *h = clone(hdr);
                assert_int_equal(
                        json_object_set_new(t, "header",
                                            json_pack("{s:O}", "epk", json_object_get(h, "epk"))),
                        0);
                json_object_del(h, "epk");
                set_protected(t, h);
                decrypt_bad(S.p256, t, VT_E_CRYPTO, "A256GCM authentication failed");
        }
}

static void test_jwe_rejects_members(void **state)
{
        static const char *const members[] = {"protected", "encrypted_key", "iv", "ciphertext",
                                              "tag"};
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"0123456789abcdefghij", 20);
        _cleanup_json_ json_t *arr = json_array();

        for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                char why[64];
                _cleanup_json_ json_t *t = clone(ec), *u = clone(ec);
                snprintf(why, sizeof(why), "member \"%s\" missing or not a string", members[i]);
                json_object_del(t, members[i]);
                decrypt_bad(S.p256, t, VT_E_FORMAT, why);
                assert_int_equal(json_object_set_new(u, members[i], json_integer(1)), 0);
                decrypt_bad(S.p256, u, VT_E_FORMAT, why);
        }
        decrypt_bad(S.p256, arr, VT_E_FORMAT, "not a JSON object");
        {
                _cleanup_json_ json_t *t = clone(ec);
                assert_int_equal(json_object_set_new(t, "aad", json_string("AA")), 0);
                decrypt_bad(S.p256, t, VT_E_UNSUPPORTED, "\"aad\" is not supported");
        }
        {
                _cleanup_json_ json_t *t = clone(ec);
                assert_int_equal(json_object_set_new(t, "recipients", json_array()), 0);
                decrypt_bad(S.p256, t, VT_E_UNSUPPORTED, "\"recipients\"");
        }
        {
                /* members RFC 7516 does not define are ignored */
                _cleanup_json_ json_t *t = clone(ec);
                assert_int_equal(json_object_set_new(t, "x-extra", json_true()), 0);
                decrypt_ok(S.p256, t, (const uint8_t *)"0123456789abcdefghij", 20);
        }

        /* base64: padding, the standard alphabet, whitespace, non-canonical bits */
        {
                static const char *const which[] = {"protected", "encrypted_key", "ciphertext",
                                                    "tag"};
                for (size_t i = 0; i < ELEMENTSOF(which); i++) {
                        _cleanup_json_ json_t *t = clone(ec);
                        const char *s = json_string_value(json_object_get(ec, which[i]));
                        size_t n = strlen(s);
                        char buf[4096], why[96];

                        assert_true(n % 4 != 0); /* so padding is due */
                        snprintf(buf, sizeof(buf), "%s%s", s, n % 4 == 2 ? "==" : "=");
                        assert_int_equal(json_object_set_new(t, which[i], json_string(buf)), 0);
                        snprintf(why, sizeof(why), "member \"%s\" is not base64url without padding",
                                 which[i]);
                        decrypt_bad(S.p256, t, VT_E_FORMAT, why);
                }
        }
        {
                _cleanup_json_ json_t *t = clone(ec);
                assert_int_equal(json_object_set_new(t, "iv", json_string("nK1VW57nbG67zU+c")), 0);
                decrypt_bad(S.p256, t, VT_E_FORMAT, "\"iv\" is not base64url");
                assert_int_equal(json_object_set_new(t, "iv", json_string("nK1VW57n bG67zUyc")), 0);
                decrypt_bad(S.p256, t, VT_E_FORMAT, "\"iv\" is not base64url");
                json_object_set(t, "iv", json_object_get(ec, "iv"));
                /* 16 bytes: "...fQ" is canonical, "...fR" has non-zero trailing bits */
                assert_int_equal(
                        json_object_set_new(t, "tag", json_string("Eh41pGaS8AgXOQToIlglfR")), 0);
                decrypt_bad(S.p256, t, VT_E_FORMAT, "\"tag\" is not base64url");
        }
}

static void test_jwe_rejects_keys(void **state)
{
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"x", 1);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *p384 = gen_ec("P-384");
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        _cleanup_json_ json_t *j = NULL, *p384j = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv",
                                                            "P-384", "x", "AA", "y", "AA");
        struct vt_diag d = {0};
        json_t *out = NULL;

        assert_non_null(ed);
        decrypt_bad(p384, ec, VT_E_UNSUPPORTED, "not P-256 or P-521");
        decrypt_bad(ed, ec, VT_E_UNSUPPORTED, "key type ED25519 not supported");
        assert_int_equal(vt_jwk_from_private(p384, &j), VT_E_UNSUPPORTED);
        assert_int_equal(vt_jwk_from_private(ed, &j), VT_E_UNSUPPORTED);
        assert_null(j);
        /* recipient JWKs go through vt_jwk_to_pkey */
        assert_int_equal(vt_jwe_encrypt(p384j, (const uint8_t *)"x", 1, &out, &d),
                         VT_E_UNSUPPORTED);
        assert_null(out);
        assert_non_null(strstr(d.msg, "P-384"));
}

static void test_jwe_args(void **state)
{
        _cleanup_json_ json_t *jwk = pub_jwk(S.p256);
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"x", 1);
        json_t *out = NULL;
        uint8_t *pt = NULL, k[32] = {0}, w[40] = {0};
        size_t n = 0;

        assert_int_equal(vt_jwe_encrypt(NULL, (const uint8_t *)"x", 1, &out, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwe_encrypt(jwk, NULL, 1, &out, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwe_encrypt(jwk, (const uint8_t *)"x", 1, NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwe_encrypt(jwk, NULL, 0, &out, NULL), 0); /* empty plaintext */
        json_decref(out);
        assert_int_equal(vt_jwe_decrypt(NULL, ec, &pt, &n, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwe_decrypt(S.p256, NULL, &pt, &n, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwe_decrypt(S.p256, ec, NULL, &n, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwe_decrypt(S.p256, ec, &pt, NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwk_from_private(NULL, &out), VT_E_INVAL);
        assert_int_equal(vt_jwk_private_to_pkey(NULL, NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_jwe_concat_kdf(NULL, 0, "x", k), VT_E_INVAL);
        assert_int_equal(vt_jwe_a256kw_unwrap(k, w, NULL), VT_E_INVAL);
        /* the ephemeral key of vt_jwe_encrypt_with must be on the recipient's curve */
        assert_int_equal(
                vt_jwe_encrypt_with(jwk, S.p521, k, k, (const uint8_t *)"x", 1, &out, NULL),
                VT_E_INVAL);
        assert_null(pt);
}

/* ---- JWK conversions ---- */

static void test_jwe_jwk_from_private(void **state)
{
        _cleanup_json_ json_t *ec = pub_jwk(S.p521), *rsa = pub_jwk(S.rsa2048);
        static const char *const ec_order[] = {"kty", "crv", "alg", "x", "y"};
        static const char *const rsa_order[] = {"kty", "alg", "n", "e"};
        const char *k;
        json_t *v;
        size_t i = 0;

        json_object_foreach (ec, k, v)
                assert_string_equal(k, ec_order[i++]);
        assert_int_equal(i, 5);
        assert_string_equal(json_string_value(json_object_get(ec, "crv")), "P-521");
        assert_int_equal(strlen(json_string_value(json_object_get(ec, "x"))), 88); /* 66 bytes */
        assert_int_equal(vt_jwk_to_pkey(ec, NULL, NULL), 0);
        i = 0;
        json_object_foreach (rsa, k, v)
                assert_string_equal(k, rsa_order[i++]);
        assert_int_equal(i, 4);
        assert_string_equal(json_string_value(json_object_get(rsa, "alg")), "RSA-OAEP-256");
        assert_string_equal(json_string_value(json_object_get(rsa, "e")), "AQAB");
        assert_int_equal(strlen(json_string_value(json_object_get(rsa, "n"))), 342); /* 256 B */
        assert_int_equal(vt_jwk_to_pkey(rsa, NULL, NULL), 0);
}

static void test_jwe_jwk_private_to_pkey(void **state)
{
        _cleanup_json_ json_t *good = private_jwk(S.p256), *good521 = private_jwk(S.p521);
        _cleanup_json_ json_t *other = private_jwk(S.p256b), *rsa = private_jwk(S.rsa2048);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL, *k521 = NULL;
        _cleanup_json_ json_t *ec = encrypt_ok(S.p256, (const uint8_t *)"abc", 3);
        struct vt_diag d = {0};
        uint8_t zero[32] = {0}, order[32];
        EVP_PKEY *untouched = (EVP_PKEY *)"untouched";

        assert_int_equal(vt_jwk_private_to_pkey(good, &k, &d), 0);
        decrypt_ok(k, ec, (const uint8_t *)"abc", 3);
        assert_int_equal(vt_jwk_private_to_pkey(good521, &k521, &d), 0);
        assert_int_equal(EVP_PKEY_get_bits(k521), 521);

        /* d of another key */
        {
                _cleanup_json_ json_t *t = clone(good);
                json_object_set(t, "d", json_object_get(other, "d"));
                assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "does not belong to (x, y)"));
                vt_diag_clear(&d);
        }
        /* d = 0 and d = the group order */
        {
                static const char n256[] =
                        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
                _cleanup_json_ json_t *t = clone(good);
                set_member_bytes(t, "d", zero, 32);
                assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
                vt_diag_clear(&d);
                assert_int_equal(vt_hex_decode(n256, order, sizeof(order)), 32);
                set_member_bytes(t, "d", order, 32);
                assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
                vt_diag_clear(&d);
        }
        /* d of the wrong size; missing */
        {
                _cleanup_json_ json_t *t = clone(good);
                set_member_bytes(t, "d", zero, 31);
                assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "\"d\" is 31 bytes, expected 32"));
                vt_diag_clear(&d);
                json_object_del(t, "d");
                assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "member \"d\" missing"));
                vt_diag_clear(&d);
        }
        /* RSA private JWKs too (test_jwe_jwk_rsa_private_to_pkey checks them) */
        EVP_PKEY *rk = NULL;
        assert_int_equal(vt_jwk_private_to_pkey(rsa, &rk, &d), 0);
        assert_int_equal(EVP_PKEY_eq(rk, S.rsa2048), 1);
        EVP_PKEY_free(rk);
        /* an RSA public JWK is not a private one */
        json_object_del(rsa, "d");
        vt_diag_clear(&d);
        assert_int_equal(vt_jwk_private_to_pkey(rsa, &untouched, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "member \"d\" missing"));
        assert_ptr_equal(untouched, (EVP_PKEY *)"untouched");
}

/* rsa_private_jwk writes every member of key's private JWK (RFC 7518 section 6.3.2). */
static json_t *rsa_private_jwk(EVP_PKEY *key)
{
        static const char *const m[][2] = {
                {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
                {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
                {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
                {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
        };
        json_t *j = json_pack("{s:s}", "kty", "RSA");
        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                BIGNUM *bn = NULL;
                assert_int_equal(EVP_PKEY_get_bn_param(key, m[i][1], &bn), 1);
                uint8_t buf[512];
                int n = BN_bn2bin(bn, buf);
                char *s = NULL;
                assert_int_equal(vt_b64_encode(buf, (size_t)n, VT_B64_URL, &s), 0);
                json_object_set_new(j, m[i][0], json_string(s));
                free(s);
                BN_clear_free(bn);
        }
        return j;
}

static void test_jwe_jwk_rsa_private_to_pkey(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        EVP_PKEY *key = EVP_RSA_gen(2048), *got = NULL, *untouched = (EVP_PKEY *)"untouched";
        assert_non_null(key);
        json_t *j = rsa_private_jwk(key);
        assert_int_equal(vt_jwk_private_to_pkey(j, &got, &d), 0);
        assert_int_equal(EVP_PKEY_eq(key, got), 1);
        EVP_PKEY_free(got);
        /* each private member changed, or missing: refused */
        static const char *const members[] = {"d", "p", "q", "dp", "dq", "qi"};
        for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                json_t *t = json_deep_copy(j);
                char *v = strdup(json_string_value(json_object_get(t, members[i])));
                v[5] = v[5] == 'A' ? 'B' : 'A';
                json_object_set_new(t, members[i], json_string(v));
                free(v);
                vt_diag_clear(&d);
                assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "do not belong together"));
                json_object_del(t, members[i]);
                vt_diag_clear(&d);
                assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "missing"));
                json_decref(t);
        }
        /* more than two primes; an even e; a 1024-bit key */
        json_t *t = json_deep_copy(j);
        json_object_set_new(t, "oth", json_array());
        assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_UNSUPPORTED);
        json_decref(t);
        t = json_deep_copy(j);
        json_object_set_new(t, "e", json_string("AQAC"));
        vt_diag_clear(&d);
        assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "\"e\" must be odd"));
        json_decref(t);
        EVP_PKEY *small = EVP_RSA_gen(1024);
        t = rsa_private_jwk(small);
        vt_diag_clear(&d);
        assert_int_equal(vt_jwk_private_to_pkey(t, &untouched, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "2048 to 4096 bits"));
        json_decref(t);
        EVP_PKEY_free(small);
        assert_ptr_equal(untouched, (EVP_PKEY *)"untouched");
        json_decref(j);
        EVP_PKEY_free(key);
}

/* The cache of built EC keys (vt_ec_public_from_xy) serves only the exact point: the same
 * point again is the same checked key; the other point with the same x (y negated, also on
 * the curve) is a different key with its own coordinates; a point off the curve is refused
 * every time, never served. */
static void test_jwe_ec_key_cache(void **state)
{
        (void)state;
        const struct vt_jwk_curve *c = vt_jwk_curve_named("P-256");
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *orig = gen_ec("P-256");
        uint8_t x[32], y[32], ny[32], back_x[32], back_y[32];
        assert_int_equal(vt_ec_public_xy(orig, c, x, y), 0);

        EVP_PKEY *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL;
        assert_int_equal(vt_ec_public_from_xy(c, x, y, &k1), 0);
        unsigned long hits = vt_ec_public_cache_hits();
        assert_int_equal(vt_ec_public_from_xy(c, x, y, &k2), 0);
        assert_int_equal(vt_ec_public_cache_hits(), hits + 1);
        assert_ptr_equal(k1, k2);
        assert_int_equal(EVP_PKEY_eq(k1, orig), 1);

        /* -P = (x, p - y): on the curve, a different key */
        _cleanup_(BN_freep) BIGNUM *p = NULL, *by = BN_bin2bn(y, 32, NULL);
        assert_true(
                BN_hex2bn(&p, "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF") >
                0);
        assert_int_equal(BN_sub(by, p, by), 1);
        assert_int_equal(BN_bn2binpad(by, ny, 32), 32);
        hits = vt_ec_public_cache_hits();
        assert_int_equal(vt_ec_public_from_xy(c, x, ny, &k3), 0);
        assert_int_equal(vt_ec_public_cache_hits(), hits);
        assert_ptr_not_equal(k3, k1);
        assert_int_not_equal(EVP_PKEY_eq(k3, orig), 1);
        assert_int_equal(vt_ec_public_xy(k3, c, back_x, back_y), 0);
        assert_memory_equal(back_x, x, 32);
        assert_memory_equal(back_y, ny, 32);

        /* one bit of y changed: off the curve, refused, and again (nothing was cached) */
        y[31] ^= 1;
        for (int i = 0; i < 2; i++) {
                k4 = (EVP_PKEY *)"untouched";
                assert_int_equal(vt_ec_public_from_xy(c, x, y, &k4), VT_E_FORMAT);
                assert_ptr_equal(k4, (EVP_PKEY *)"untouched");
        }
        y[31] ^= 1;
        /* the original point is still served, and the key works */
        assert_int_equal(vt_ec_public_from_xy(c, x, y, &k4), 0);
        assert_int_equal(EVP_PKEY_eq(k4, orig), 1);
        EVP_PKEY_free(k1);
        EVP_PKEY_free(k2);
        EVP_PKEY_free(k3);
        EVP_PKEY_free(k4);

        /* P-521 has a model key of its own: two keys built one after the other keep their
         * own coordinates */
        const struct vt_jwk_curve *c5 = vt_jwk_curve_named("P-521");
        for (int i = 0; i < 2; i++) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *o5 = gen_ec("P-521");
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *k5 = NULL;
                uint8_t x5[66], y5[66], bx5[66], by5[66];
                assert_int_equal(vt_ec_public_xy(o5, c5, x5, y5), 0);
                assert_int_equal(vt_ec_public_from_xy(c5, x5, y5, &k5), 0);
                assert_int_equal(EVP_PKEY_eq(k5, o5), 1);
                assert_int_equal(vt_ec_public_xy(k5, c5, bx5, by5), 0);
                assert_memory_equal(bx5, x5, 66);
                assert_memory_equal(by5, y5, 66);
        }
}

/* vt_ec_public_xy reads the point as encoded (uncompressed), and a key set to compressed
 * points through its coordinates: both give what OpenSSL's x and y parameters say. */
static void test_jwe_ec_public_xy_forms(void **state)
{
        (void)state;
        const char *curves[] = {"P-256", "P-521"};
        for (size_t i = 0; i < ELEMENTSOF(curves); i++) {
                const struct vt_jwk_curve *c = vt_jwk_curve_named(curves[i]);
                for (int compressed = 0; compressed < 2; compressed++) {
                        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = gen_ec(curves[i]);
                        if (compressed)
                                assert_int_equal(EVP_PKEY_set_utf8_string_param(
                                                         k,
                                                         OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                         "compressed"),
                                                 1);
                        _cleanup_(BN_freep) BIGNUM *bx = NULL, *by = NULL;
                        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx),
                                         1);
                        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by),
                                         1);
                        uint8_t x[66], y[66], wx[66], wy[66];
                        assert_int_equal(BN_bn2binpad(bx, wx, (int)c->n), (int)c->n);
                        assert_int_equal(BN_bn2binpad(by, wy, (int)c->n), (int)c->n);
                        assert_int_equal(vt_ec_public_xy(k, c, x, y), 0);
                        assert_memory_equal(x, wx, c->n);
                        assert_memory_equal(y, wy, c->n);
                }
        }
}

/* crypto/ctxslots.h, which holds the signer's contexts: a slot's
 * context is made once and handed out again; with every slot taken a caller gets one of
 * its own; a context given back as failed is made anew by the next taker. */
static void test_ctx_slots(void **state)
{
        (void)state;
        EVP_PKEY *key = EVP_EC_gen("P-256");
        assert_non_null(key);
        struct vt_ctx_slot slots[2] = {0};
        struct vt_ctx_slot *s0, *s1, *s2;
        EVP_PKEY_CTX *a = vt_ctx_slot_take(slots, 2, key, EVP_PKEY_sign_init, &s0);
        EVP_PKEY_CTX *b = vt_ctx_slot_take(slots, 2, key, EVP_PKEY_sign_init, &s1);
        EVP_PKEY_CTX *c = vt_ctx_slot_take(slots, 2, key, EVP_PKEY_sign_init, &s2);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_ptr_equal(s0, &slots[0]);
        assert_ptr_equal(s1, &slots[1]);
        assert_null(s2); /* both taken: its own */
        assert_true(c != a && c != b);
        uint8_t md[32] = {1}, der[80];
        size_t dl = sizeof(der);
        assert_int_equal(EVP_PKEY_sign(c, der, &dl, md, sizeof(md)), 1);
        vt_ctx_slot_give(c, s2, false);
        vt_ctx_slot_give(a, s0, false);
        /* kept: the same context again */
        assert_ptr_equal(vt_ctx_slot_take(slots, 2, key, EVP_PKEY_sign_init, &s0), a);
        assert_ptr_equal(s0, &slots[0]);
        /* failed: freed, and the next taker gets a new one */
        vt_ctx_slot_give(a, s0, true);
        assert_null(slots[0].ctx);
        EVP_PKEY_CTX *d = vt_ctx_slot_take(slots, 2, key, EVP_PKEY_sign_init, &s0);
        assert_non_null(d);
        assert_ptr_equal(s0, &slots[0]);
        dl = sizeof(der);
        assert_int_equal(EVP_PKEY_sign(d, der, &dl, md, sizeof(md)), 1);
        vt_ctx_slot_give(d, s0, false);
        vt_ctx_slot_give(b, s1, false);
        vt_ctx_slots_free(slots, 2);
        assert_null(slots[0].ctx);
        assert_null(slots[1].ctx);
        EVP_PKEY_free(key);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jwe_ec_public_xy_forms),
                cmocka_unit_test(test_jwe_vector_trustee_p256),
                cmocka_unit_test(test_jwe_ephemeral_keys_threads),
                cmocka_unit_test(test_ctx_slots),
                cmocka_unit_test(test_jwe_roundtrip_p256),
                cmocka_unit_test(test_jwe_roundtrip_p521),
                cmocka_unit_test(test_jwe_roundtrip_rsa2048),
                cmocka_unit_test(test_jwe_roundtrip_rsa4096),
                cmocka_unit_test(test_jwe_size_cap),
                cmocka_unit_test(test_jwe_jose_p256),
                cmocka_unit_test(test_jwe_jose_p521),
                cmocka_unit_test(test_jwe_jose_rsa_oaep_256),
                cmocka_unit_test(test_jwe_refuses_rsa1_5),
                cmocka_unit_test(test_jwe_rejects_any_bit_flip),
                cmocka_unit_test(test_jwe_rejects_tampering),
                cmocka_unit_test(test_jwe_rejects_wrong_key),
                cmocka_unit_test(test_jwe_rejects_lengths),
                cmocka_unit_test(test_jwe_rejects_header),
                cmocka_unit_test(test_jwe_rejects_members),
                cmocka_unit_test(test_jwe_rejects_keys),
                cmocka_unit_test(test_jwe_args),
                cmocka_unit_test(test_jwe_jwk_from_private),
                cmocka_unit_test(test_jwe_jwk_private_to_pkey),
                cmocka_unit_test(test_jwe_jwk_rsa_private_to_pkey),
                cmocka_unit_test(test_jwe_ec_key_cache),
        };
        return vtt_run_group_tests(tests, group_setup, group_teardown);
}
