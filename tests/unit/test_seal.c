/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "testutil.h"
#include "crypto/seal.h"
#include "util/hex.h"
#include "util/macro.h"
#include "veritee/veritee.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_kek *, vt_kek_free)

/* ---- OpenSSL's allocator, watched: no freed block may hold a secret ---- */

#define MARKER "veritee-secret-marker-0123456789"

static bool watch_ok; /* the hooks are installed */
static bool watching; /* look at blocks as they are freed */
static uint8_t watch_key[VT_KEK_SIZE];
static bool watch_key_set;
static unsigned leaked; /* freed blocks that held MARKER or watch_key */

struct hdr {
        size_t n;
        size_t pad; /* keeps the block 16-byte aligned */
};

static bool holds(const uint8_t *p, size_t n, const void *needle, size_t m)
{
        return n >= m && memmem(p, n, needle, m) != NULL;
}

static void inspect(struct hdr *h)
{
        const uint8_t *p = (const uint8_t *)(h + 1);
        if (!watching)
                return;
        if (holds(p, h->n, MARKER, sizeof(MARKER) - 1) ||
            (watch_key_set && holds(p, h->n, watch_key, 16)))
                leaked++;
}

static void *w_malloc(size_t n, const char *file, int line)
{
        struct hdr *h = malloc(sizeof(*h) + n);
        if (!h)
                return NULL;
        h->n = n;
        return h + 1;
}

static void w_free(void *p, const char *file, int line)
{
        if (!p)
                return;
        struct hdr *h = (struct hdr *)p - 1;
        inspect(h);
        free(h);
}

static void *w_realloc(void *p, size_t n, const char *file, int line)
{
        if (!p)
                return w_malloc(n, file, line);
        struct hdr *h = (struct hdr *)p - 1;
        void *q = w_malloc(n, file, line);
        if (!q)
                return NULL;
        memcpy(q, p, h->n < n ? h->n : n);
        w_free(p, file, line);
        return q;
}

/* ---- files ---- */

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static int setup(void **state)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/vt-seal-XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmp_path returns a new path name in the test directory (static buffer per slot). */
static const char *tmp_path(const char *name)
{
        static char buf[8][256];
        static unsigned slot;
        char *p = buf[slot++ % 8];
        snprintf(p, 256, "%s/%s", tmpdir, name);
        return p;
}

/* write_file (re)creates name with exactly these bytes and mode; returns its path. */
static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
        const char *path = tmp_path(name);
        unlink(path);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(close(fd), 0);
        return path;
}

static const uint8_t key1[VT_KEK_SIZE] = {
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba,
        0x98, 0x76, 0x54, 0x32, 0x10, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a,
        0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

static struct vt_kek *load_ok(const char *path)
{
        struct vt_kek *k = NULL;
        struct vt_diag d = {0};
        int e = vt_kek_load(path, &k, &d);
        if (e < 0)
                fail_msg("loading %s: %d %s", path, e, d.msg);
        assert_non_null(k);
        return k;
}

/* kek_of writes key (raw) to a fresh 0600 file and loads it. */
static struct vt_kek *kek_of(const char *name, const uint8_t key[VT_KEK_SIZE])
{
        return load_ok(write_file(name, key, VT_KEK_SIZE, 0600));
}

static struct vt_kek *random_kek(const char *name)
{
        const char *path = tmp_path(name);
        unlink(path);
        assert_int_equal(vt_kek_generate(path, NULL), 0);
        return load_ok(path);
}

/* check_load_err expects err and a message holding part; *ret stays untouched. */
static void check_load_err(const char *path, int err, const char *part)
{
        struct vt_kek *k = (struct vt_kek *)0x1;
        struct vt_diag d = {0};
        int e = vt_kek_load(path, &k, &d);
        if (e != err)
                fail_msg("loading %s returned %d (%s), expected %d", path, e, d.msg, err);
        assert_int_equal(d.err, err);
        assert_ptr_equal(k, (struct vt_kek *)0x1);
        if (!strstr(d.msg, part))
                fail_msg("loading %s said \"%s\", expected \"...%s...\"", path, d.msg, part);
}

/* ---- sealing ---- */

struct sealed {
        uint8_t *wdek, *ct;
        size_t wdek_len, ct_len;
};

static void sealed_done(struct sealed *s)
{
        free(s->wdek);
        free(s->ct);
        *s = (struct sealed){0};
}

static struct sealed seal_ok(const struct vt_kek *k, const char *aad, const uint8_t *secret,
                             size_t len)
{
        struct sealed s = {0};
        assert_int_equal(vt_seal(k, (const uint8_t *)aad, aad ? strlen(aad) : 0, secret, len,
                                 &s.wdek, &s.wdek_len, &s.ct, &s.ct_len),
                         0);
        assert_int_equal(s.wdek_len, VT_SEAL_WDEK_SIZE);
        assert_int_equal(s.ct_len, len + VT_SEAL_OVERHEAD);
        return s;
}

static void check_unseal(const struct vt_kek *k, const char *aad, const struct sealed *s,
                         const uint8_t *want, size_t want_len)
{
        uint8_t *out = NULL;
        size_t len = 0;
        struct vt_diag d = {0};
        int e = vt_unseal(k, (const uint8_t *)aad, aad ? strlen(aad) : 0, s->wdek, s->wdek_len,
                          s->ct, s->ct_len, &out, &len, &d);
        if (e < 0)
                fail_msg("unseal: %d %s", e, d.msg);
        assert_non_null(out);
        assert_int_equal(len, want_len);
        if (want_len > 0)
                assert_memory_equal(out, want, want_len);
        OPENSSL_clear_free(out, len);
}

/* unseal_err expects err, a message holding part and no output. */
static void unseal_err(const struct vt_kek *k, const char *aad, const uint8_t *wdek,
                       size_t wdek_len, const uint8_t *ct, size_t ct_len, int err, const char *part)
{
        uint8_t *out = (uint8_t *)0x1;
        size_t len = 12345;
        struct vt_diag d = {0};
        int e = vt_unseal(k, (const uint8_t *)aad, aad ? strlen(aad) : 0, wdek, wdek_len, ct,
                          ct_len, &out, &len, &d);
        if (e != err)
                fail_msg("unseal returned %d (%s), expected %d", e, d.msg, err);
        assert_int_equal(d.err, err);
        assert_ptr_equal(out, (uint8_t *)0x1);
        assert_int_equal(len, 12345);
        if (!strstr(d.msg, part))
                fail_msg("unseal said \"%s\", expected \"...%s...\"", d.msg, part);
}

static uint8_t *pattern(size_t n)
{
        uint8_t *p = malloc(n > 0 ? n : 1);
        assert_non_null(p);
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(i * 131 + 7);
        if (n >= sizeof(MARKER) - 1)
                memcpy(p, MARKER, sizeof(MARKER) - 1);
        return p;
}

static void test_seal_round_trip(void **state)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("rt.key", key1);
        static const size_t sizes[] = {0, 1, 16, 31, 4096, 1u << 20};

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_free_ uint8_t *secret = pattern(sizes[i]);
                struct sealed s = seal_ok(k, "kbs:///default/key/one", secret, sizes[i]);
                check_unseal(k, "kbs:///default/key/one", &s, secret, sizes[i]);
                /* the ciphertext does not hold the secret */
                if (sizes[i] >= 16)
                        assert_false(holds(s.ct, s.ct_len, secret, 16));
                sealed_done(&s);
        }
        /* no aad at all is an aad too */
        struct sealed s = seal_ok(k, NULL, (const uint8_t *)"x", 1);
        check_unseal(k, NULL, &s, (const uint8_t *)"x", 1);
        check_unseal(k, "", &s, (const uint8_t *)"x", 1);
        unseal_err(k, "a", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                   "wrapped data key does not authenticate");
        sealed_done(&s);
}

static void test_seal_fresh_keys(void **state)
{
        /* the same secret twice: new data key and nonces, nothing in common */
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("fresh.key", key1);
        struct sealed a = seal_ok(k, "n", (const uint8_t *)"same secret", 11);
        struct sealed b = seal_ok(k, "n", (const uint8_t *)"same secret", 11);

        assert_memory_not_equal(a.wdek, b.wdek, VT_SEAL_NONCE_SIZE);
        assert_memory_not_equal(a.wdek + VT_SEAL_NONCE_SIZE, b.wdek + VT_SEAL_NONCE_SIZE,
                                VT_KEK_SIZE);
        assert_memory_not_equal(a.ct, b.ct, a.ct_len);
        /* a data key opens only its own ciphertext */
        unseal_err(k, "n", a.wdek, a.wdek_len, b.ct, b.ct_len, VT_E_CRYPTO,
                   "unseal: the ciphertext does not authenticate");
        sealed_done(&a);
        sealed_done(&b);
}

static void test_seal_wrong_aad_or_kek(void **state)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("w1.key", key1);
        _cleanup_(vt_kek_freep) struct vt_kek *other = random_kek("w2.key");
        struct sealed s = seal_ok(k, "kbs:///default/key/one", (const uint8_t *)"hunter2", 7);
        char want[128];

        unseal_err(k, "kbs:///default/key/two", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                   "unseal: the wrapped data key does not authenticate under KEK");
        unseal_err(k, "kbs:///default/key/one ", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                   "does not authenticate");
        unseal_err(k, NULL, s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                   "does not authenticate");
        snprintf(want, sizeof(want), "under KEK %s for this name", vt_kek_id(other));
        unseal_err(other, "kbs:///default/key/one", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                   want);
        check_unseal(k, "kbs:///default/key/one", &s, (const uint8_t *)"hunter2", 7);
        sealed_done(&s);
}

static void test_seal_flipped_bytes(void **state)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("flip.key", key1);
        _cleanup_free_ uint8_t *secret = pattern(100);
        struct sealed s = seal_ok(k, "aad", secret, 100);
        static const uint8_t bits[] = {0x01, 0x80};

        for (size_t b = 0; b < ELEMENTSOF(bits); b++) {
                for (size_t i = 0; i < s.wdek_len; i++) {
                        s.wdek[i] ^= bits[b];
                        unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                                   "wrapped data key does not authenticate");
                        s.wdek[i] ^= bits[b];
                }
                for (size_t i = 0; i < s.ct_len; i++) {
                        s.ct[i] ^= bits[b];
                        unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                                   "the ciphertext does not authenticate");
                        s.ct[i] ^= bits[b];
                }
        }
        /* shorter by one byte: still long enough to try, and it does not authenticate */
        unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct, s.ct_len - 1, VT_E_CRYPTO,
                   "the ciphertext does not authenticate");
        unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct + 1, s.ct_len - 1, VT_E_CRYPTO,
                   "the ciphertext does not authenticate");
        check_unseal(k, "aad", &s, secret, 100);
        sealed_done(&s);

        /* a few bytes of a large ciphertext too */
        _cleanup_free_ uint8_t *big = pattern(1u << 20);
        s = seal_ok(k, "aad", big, 1u << 20);
        static const size_t at[] = {
                0, 11, 12, 4096, (1u << 20) + 11, (1u << 20) + 12, (1u << 20) + 27};
        for (size_t i = 0; i < ELEMENTSOF(at); i++) {
                s.ct[at[i]] ^= 0x40;
                unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                           "the ciphertext does not authenticate");
                s.ct[at[i]] ^= 0x40;
        }
        check_unseal(k, "aad", &s, big, 1u << 20);
        sealed_done(&s);
}

static void test_seal_lengths(void **state)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("len.key", key1);
        struct sealed s = seal_ok(k, "aad", (const uint8_t *)"abc", 3);
        uint8_t longer[VT_SEAL_WDEK_SIZE + 1] = {0};

        memcpy(longer, s.wdek, s.wdek_len);
        unseal_err(k, "aad", s.wdek, s.wdek_len - 1, s.ct, s.ct_len, VT_E_FORMAT,
                   "unseal: a wrapped data key must have 60 bytes, not 59");
        unseal_err(k, "aad", longer, sizeof(longer), s.ct, s.ct_len, VT_E_FORMAT, "not 61");
        unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct, VT_SEAL_OVERHEAD - 1, VT_E_FORMAT,
                   "unseal: a ciphertext must have at least 28 bytes, not 27");
        unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct, 0, VT_E_FORMAT, "not 0");
        /* exactly the overhead: an empty secret whose tag does not match */
        unseal_err(k, "aad", s.wdek, s.wdek_len, s.ct, VT_SEAL_OVERHEAD, VT_E_CRYPTO,
                   "the ciphertext does not authenticate");
        sealed_done(&s);
}

static void test_seal_args(void **state)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("args.key", key1);
        uint8_t *w = NULL, *c = NULL, *out = NULL, one = 1, aad[VT_SEAL_MAX_AAD + 1] = {0};
        size_t wl = 0, cl = 0, ol = 0;
        struct vt_diag d = {0};

        assert_int_equal(vt_seal(NULL, NULL, 0, &one, 1, &w, &wl, &c, &cl), VT_E_INVAL);
        assert_int_equal(vt_seal(k, NULL, 1, &one, 1, &w, &wl, &c, &cl), VT_E_INVAL);
        assert_int_equal(vt_seal(k, NULL, 0, NULL, 1, &w, &wl, &c, &cl), VT_E_INVAL);
        assert_int_equal(vt_seal(k, NULL, 0, &one, 1, NULL, &wl, &c, &cl), VT_E_INVAL);
        assert_int_equal(vt_seal(k, NULL, 0, &one, 1, &w, &wl, NULL, &cl), VT_E_INVAL);
        /* the caps are checked before anything is read */
        assert_int_equal(vt_seal(k, NULL, 0, &one, VT_SEAL_MAX_SECRET + 1, &w, &wl, &c, &cl),
                         VT_E_LIMIT);
        assert_int_equal(vt_seal(k, aad, sizeof(aad), &one, 1, &w, &wl, &c, &cl), VT_E_LIMIT);
        assert_null(w);
        assert_null(c);
        /* an empty secret may be NULL */
        assert_int_equal(vt_seal(k, aad, VT_SEAL_MAX_AAD, NULL, 0, &w, &wl, &c, &cl), 0);
        assert_int_equal(vt_unseal(k, aad, VT_SEAL_MAX_AAD, w, wl, c, cl, &out, &ol, &d), 0);
        assert_non_null(out);
        assert_int_equal(ol, 0);
        OPENSSL_clear_free(out, 1);
        out = NULL;
        assert_int_equal(vt_unseal(k, aad, sizeof(aad), w, wl, c, cl, &out, &ol, &d), VT_E_LIMIT);
        assert_int_equal(vt_unseal(NULL, NULL, 0, w, wl, c, cl, &out, &ol, NULL), VT_E_INVAL);
        assert_int_equal(vt_unseal(k, NULL, 0, NULL, wl, c, cl, &out, &ol, NULL), VT_E_INVAL);
        assert_int_equal(vt_unseal(k, NULL, 0, w, wl, c, cl, NULL, &ol, NULL), VT_E_INVAL);
        assert_int_equal(vt_rewrap(k, NULL, NULL, 0, w, wl, &out, &ol, NULL), VT_E_INVAL);
        assert_null(out);
        assert_null(vt_kek_id(NULL));
        vt_kek_free(NULL);
        free(w);
        free(c);
}

/* The blobs are what seal.h says: open them with plain OpenSSL. */
static void gcm_open_by_hand(const uint8_t *key, const uint8_t *aad, size_t aad_len,
                             const uint8_t *blob, size_t blob_len, uint8_t *out)
{
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        size_t len = blob_len - 28;
        int n = 0;

        assert_non_null(ctx);
        assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, blob), 1);
        assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len), 1);
        assert_int_equal(EVP_DecryptUpdate(ctx, out, &n, blob + 12, (int)len), 1);
        assert_int_equal(
                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(blob + 12 + len)), 1);
        assert_int_equal(EVP_DecryptFinal_ex(ctx, out + len, &n), 1);
        EVP_CIPHER_CTX_free(ctx);
}

static void test_seal_format(void **state)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("fmt.key", key1);
        struct sealed s = seal_ok(k, "kbs:///a/b/c", (const uint8_t *)"the secret", 10);
        uint8_t dek[32], out[10];
        static const char dek_aad[] = "veritee-dek:kbs:///a/b/c";

        gcm_open_by_hand(key1, (const uint8_t *)dek_aad, strlen(dek_aad), s.wdek, s.wdek_len, dek);
        gcm_open_by_hand(dek, (const uint8_t *)"kbs:///a/b/c", 12, s.ct, s.ct_len, out);
        assert_memory_equal(out, "the secret", 10);
        OPENSSL_cleanse(dek, sizeof(dek));
        sealed_done(&s);
}

static void test_rewrap(void **state)
{
        _cleanup_(vt_kek_freep) struct vt_kek *old_k = kek_of("old.key", key1);
        _cleanup_(vt_kek_freep) struct vt_kek *new_k = random_kek("new.key");
        _cleanup_free_ uint8_t *secret = pattern(1000);
        struct sealed s = seal_ok(old_k, "row", secret, 1000);
        struct vt_diag d = {0};
        uint8_t *nw = NULL;
        size_t nl = 0;

        assert_string_not_equal(vt_kek_id(old_k), vt_kek_id(new_k));
        assert_int_equal(vt_rewrap(old_k, new_k, (const uint8_t *)"row", 3, s.wdek, s.wdek_len, &nw,
                                   &nl, &d),
                         0);
        assert_int_equal(nl, VT_SEAL_WDEK_SIZE);
        assert_memory_not_equal(nw, s.wdek, nl);
        struct sealed r = {.wdek = nw, .wdek_len = nl, .ct = s.ct, .ct_len = s.ct_len};
        /* the new KEK opens the same ciphertext, the old one does not open the new blob */
        check_unseal(new_k, "row", &r, secret, 1000);
        unseal_err(old_k, "row", r.wdek, r.wdek_len, r.ct, r.ct_len, VT_E_CRYPTO,
                   "wrapped data key does not authenticate");
        unseal_err(new_k, "row", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                   "wrapped data key does not authenticate");
        /* the aad stays bound */
        unseal_err(new_k, "other row", r.wdek, r.wdek_len, r.ct, r.ct_len, VT_E_CRYPTO,
                   "wrapped data key does not authenticate");
        /* and back */
        uint8_t *back = NULL;
        size_t bl = 0;
        assert_int_equal(vt_rewrap(new_k, old_k, (const uint8_t *)"row", 3, nw, nl, &back, &bl, &d),
                         0);
        r.wdek = back;
        check_unseal(old_k, "row", &r, secret, 1000);
        free(back);

        /* rewrap with the wrong old KEK, the wrong aad, a changed byte: nothing comes out */
        uint8_t *none = (uint8_t *)0x1;
        vt_diag_clear(&d);
        assert_int_equal(vt_rewrap(new_k, old_k, (const uint8_t *)"row", 3, s.wdek, s.wdek_len,
                                   &none, &nl, &d),
                         VT_E_CRYPTO);
        assert_non_null(strstr(d.msg, vt_kek_id(new_k)));
        assert_int_equal(vt_rewrap(old_k, new_k, (const uint8_t *)"rox", 3, s.wdek, s.wdek_len,
                                   &none, &nl, NULL),
                         VT_E_CRYPTO);
        s.wdek[20] ^= 1;
        assert_int_equal(vt_rewrap(old_k, new_k, (const uint8_t *)"row", 3, s.wdek, s.wdek_len,
                                   &none, &nl, NULL),
                         VT_E_CRYPTO);
        assert_int_equal(
                vt_rewrap(old_k, new_k, (const uint8_t *)"row", 3, s.wdek, 59, &none, &nl, NULL),
                VT_E_FORMAT);
        assert_ptr_equal(none, (uint8_t *)0x1);
        free(nw);
        sealed_done(&s);
}

/* ---- KEK files ---- */

static void test_kek_modes(void **state)
{
        static const mode_t ok[] = {0600, 0400, 0200, 0700, 0000};
        static const struct {
                mode_t mode;
                const char *msg;
        } bad[] = {
                {0640, "has mode 0640; a key-encryption key must not be accessible by group or "
                       "others (chmod 600)"},
                {0604, "has mode 0604"},
                {0644, "has mode 0644"},
                {0660, "has mode 0660"},
                {0606, "has mode 0606"},
                {0610, "has mode 0610"},
                {0601, "has mode 0601"},
                {0620, "has mode 0620"},
                {0602, "has mode 0602"},
                {0777, "has mode 0777"},
        };

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                const char *path = write_file("mode.key", key1, VT_KEK_SIZE, ok[i]);
                if (geteuid() == 0 || (ok[i] & 0400)) {
                        struct vt_kek *k = load_ok(path);
                        vt_kek_free(k);
                } else {
                        /* not readable by its owner: cannot be opened */
                        check_load_err(path, VT_E_IO, "kek: cannot open");
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *path = write_file("mode.key", key1, VT_KEK_SIZE, bad[i].mode);
                char want[256];
                snprintf(want, sizeof(want), "kek: %s %s", path, bad[i].msg);
                check_load_err(path, VT_E_INVAL, want);
        }
}

static void test_kek_contents(void **state)
{
        char hex[66], upper[66];
        uint8_t md[32];
        unsigned mdl = 0;
        char want_id[17];

        vt_hex_encode(key1, VT_KEK_SIZE, hex);
        for (size_t i = 0; i < 64; i++)
                upper[i] = (char)(hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i]);

        /* the id: SHA-256("veritee-kek" || key), first 8 bytes */
        uint8_t in[11 + 32];
        memcpy(in, "veritee-kek", 11);
        memcpy(in + 11, key1, 32);
        assert_int_equal(EVP_Digest(in, sizeof(in), md, &mdl, EVP_sha256(), NULL), 1);
        vt_hex_encode(md, 8, want_id);

        /* raw, hex, hex and newline, upper-case hex: the same key */
        const char *paths[4] = {
                write_file("raw.key", key1, 32, 0600),
                write_file("hex.key", hex, 64, 0600),
                NULL,
                write_file("upper.key", upper, 64, 0600),
        };
        hex[64] = '\n';
        paths[2] = write_file("hexnl.key", hex, 65, 0600);
        for (size_t i = 0; i < 4; i++) {
                _cleanup_(vt_kek_freep) struct vt_kek *k = load_ok(paths[i]);
                assert_string_equal(vt_kek_id(k), want_id);
        }

        static const uint8_t zero[64] = {0};
        uint8_t bytes[80];
        memset(bytes, 'a', sizeof(bytes));
        check_load_err(write_file("empty.key", "", 0, 0600), VT_E_FORMAT,
                       "must hold 32 raw bytes or 64 hex digits (and an optional newline), not 0 "
                       "bytes");
        check_load_err(write_file("31.key", key1, 31, 0600), VT_E_FORMAT, "not 31 bytes");
        memcpy(bytes, key1, 32);
        check_load_err(write_file("33.key", bytes, 33, 0600), VT_E_FORMAT, "not 33 bytes");
        check_load_err(write_file("63.key", hex, 63, 0600), VT_E_FORMAT, "not 63 bytes");
        hex[64] = 'a';
        check_load_err(write_file("65.key", hex, 65, 0600), VT_E_FORMAT, "not 65 bytes");
        hex[64] = '\r';
        hex[65] = '\n';
        check_load_err(write_file("crlf.key", hex, 66, 0600), VT_E_FORMAT,
                       "not more than 65 bytes");
        check_load_err(write_file("80.key", bytes, 80, 0600), VT_E_FORMAT,
                       "not more than 65 bytes");
        hex[10] = 'g';
        check_load_err(write_file("nothex.key", hex, 64, 0600), VT_E_FORMAT,
                       "holds 64 characters that are not all hex digits");
        hex[10] = ' ';
        check_load_err(write_file("space.key", hex, 64, 0600), VT_E_FORMAT, "not all hex");
        check_load_err(write_file("zero.key", zero, 32, 0600), VT_E_FORMAT,
                       "holds an all-zero key");
        memset(bytes, '0', 64);
        check_load_err(write_file("zerohex.key", bytes, 64, 0600), VT_E_FORMAT,
                       "holds an all-zero key");
}

static void test_kek_not_regular(void **state)
{
        const char *dir = tmp_path("adir");
        const char *fifo = tmp_path("fifo");

        assert_int_equal(mkdir(dir, 0700), 0);
        check_load_err(dir, VT_E_INVAL, "is not a regular file");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        check_load_err(fifo, VT_E_INVAL, "is not a regular file");
        check_load_err("/dev/null", VT_E_INVAL, "kek: /dev/null is not a regular file");
        check_load_err(tmp_path("missing.key"), VT_E_IO, "No such file or directory");
        struct vt_kek *k = (struct vt_kek *)0x1;
        assert_int_equal(vt_kek_load(NULL, &k, NULL), VT_E_INVAL);
        assert_int_equal(vt_kek_load("/dev/null", NULL, NULL), VT_E_INVAL);
}

static void test_kek_symlinks(void **state)
{
        /* decided: a symlink is followed and the file it ends at is checked (Kubernetes
         * secret volumes and systemd credentials are symlinks to 0400/0600 files) */
        const char *target = write_file("target.key", key1, VT_KEK_SIZE, 0600);
        const char *link = tmp_path("link.key");
        const char *link2 = tmp_path("link2.key");

        unlink(link);
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(symlink(link, link2), 0);
        struct vt_kek *k = load_ok(link);
        struct vt_kek *k2 = load_ok(link2);
        assert_string_equal(vt_kek_id(k), vt_kek_id(k2));
        vt_kek_free(k);
        vt_kek_free(k2);
        /* the target's mode counts, not the link's */
        assert_int_equal(chmod(target, 0644), 0);
        char want[256];
        snprintf(want, sizeof(want), "kek: %s has mode 0644", link);
        check_load_err(link, VT_E_INVAL, want);
        /* dangling */
        assert_int_equal(unlink(target), 0);
        check_load_err(link, VT_E_IO, "kek: cannot open");
}

static void test_kek_generate(void **state)
{
        const char *path = tmp_path("gen.key");
        const char *path2 = tmp_path("gen2.key");
        struct vt_diag d = {0};
        struct stat st;
        char want[256];

        unlink(path);
        /* exactly 0600 whatever the umask */
        mode_t old = umask(0277);
        assert_int_equal(vt_kek_generate(path, &d), 0);
        umask(0);
        assert_int_equal(vt_kek_generate(path2, &d), 0);
        umask(old);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, 65);
        assert_int_equal(stat(path2, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        size_t len = 0;
        _cleanup_free_ uint8_t *before = vt_test_load(path, &len);
        assert_int_equal(len, 65);
        assert_int_equal(before[64], '\n');
        _cleanup_(vt_kek_freep) struct vt_kek *k = load_ok(path);
        _cleanup_(vt_kek_freep) struct vt_kek *k2 = load_ok(path2);
        assert_int_equal(strlen(vt_kek_id(k)), 16);
        assert_string_not_equal(vt_kek_id(k), vt_kek_id(k2));

        /* never overwrites: not a file, not through a symlink, not a dangling one */
        snprintf(want, sizeof(want), "kek: %s exists; refusing to overwrite a key-encryption key",
                 path);
        vt_diag_clear(&d);
        assert_int_equal(vt_kek_generate(path, &d), VT_E_INVAL);
        assert_string_equal(d.msg, want);
        _cleanup_free_ uint8_t *after = vt_test_load(path, &len);
        assert_memory_equal(before, after, 65);
        const char *link = tmp_path("gen-link.key"), *dangling = tmp_path("gen-dangling.key");
        assert_int_equal(symlink(path, link), 0);
        assert_int_equal(vt_kek_generate(link, NULL), VT_E_INVAL);
        assert_int_equal(symlink(tmp_path("nowhere"), dangling), 0);
        assert_int_equal(vt_kek_generate(dangling, NULL), VT_E_INVAL);
        assert_int_equal(access(tmp_path("nowhere"), F_OK), -1);

        vt_diag_clear(&d);
        assert_int_equal(vt_kek_generate(tmp_path("no/such/dir.key"), &d), VT_E_IO);
        assert_non_null(strstr(d.msg, "kek: cannot create"));
        assert_int_equal(vt_kek_generate(NULL, NULL), VT_E_INVAL);
}

static void test_kek_memory(void **state)
{
        /* vt_kek_id is stable and the key works after many loads and frees */
        const char *path = write_file("mem.key", key1, VT_KEK_SIZE, 0600);
        for (int i = 0; i < 100; i++) {
                _cleanup_(vt_kek_freep) struct vt_kek *k = load_ok(path);
                struct sealed s = seal_ok(k, "m", (const uint8_t *)"abc", 3);
                check_unseal(k, "m", &s, (const uint8_t *)"abc", 3);
                sealed_done(&s);
        }
}

static void test_no_secret_in_freed_memory(void **state)
{
        if (!watch_ok)
                vtt_skip("CRYPTO_set_mem_functions was refused");
        _cleanup_(vt_kek_freep) struct vt_kek *k = kek_of("watch.key", key1);
        _cleanup_free_ uint8_t *secret = pattern(4096);
        memcpy(watch_key, key1, VT_KEK_SIZE);
        watch_key_set = true;
        leaked = 0;
        watching = true;

        struct sealed s = seal_ok(k, "w", secret, 4096);
        /* success: the caller wipes */
        check_unseal(k, "w", &s, secret, 4096);
        /* a changed byte far from the marker: the buffer held plaintext when the tag
         * failed, and must have been wiped before it was freed */
        s.ct[s.ct_len - 100] ^= 1;
        unseal_err(k, "w", s.wdek, s.wdek_len, s.ct, s.ct_len, VT_E_CRYPTO,
                   "the ciphertext does not authenticate");
        s.ct[s.ct_len - 100] ^= 1;
        uint8_t *nw = NULL;
        size_t nl = 0;
        _cleanup_(vt_kek_freep) struct vt_kek *k2 = random_kek("watch2.key");
        assert_int_equal(
                vt_rewrap(k, k2, (const uint8_t *)"w", 1, s.wdek, s.wdek_len, &nw, &nl, NULL), 0);
        free(nw);
        _cleanup_(vt_kek_freep) struct vt_kek *k3 = kek_of("watch3.key", key1);
        assert_string_equal(vt_kek_id(k3), vt_kek_id(k));

        watching = false;
        watch_key_set = false;
        assert_int_equal(leaked, 0);
        sealed_done(&s);
}

int main(void)
{
        /* before OpenSSL allocates anything */
        watch_ok = CRYPTO_set_mem_functions(w_malloc, w_realloc, w_free) == 1;

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seal_round_trip),
                cmocka_unit_test(test_seal_fresh_keys),
                cmocka_unit_test(test_seal_wrong_aad_or_kek),
                cmocka_unit_test(test_seal_flipped_bytes),
                cmocka_unit_test(test_seal_lengths),
                cmocka_unit_test(test_seal_args),
                cmocka_unit_test(test_seal_format),
                cmocka_unit_test(test_rewrap),
                cmocka_unit_test(test_kek_modes),
                cmocka_unit_test(test_kek_contents),
                cmocka_unit_test(test_kek_not_regular),
                cmocka_unit_test(test_kek_symlinks),
                cmocka_unit_test(test_kek_generate),
                cmocka_unit_test(test_kek_memory),
                cmocka_unit_test(test_no_secret_in_freed_memory),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
