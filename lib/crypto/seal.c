/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Envelope encryption of secrets at rest (seal.h). Key material lives in three places
 * only: the KEK on its own locked page, data keys in stack arrays wiped on every return,
 * and a decrypted secret in the caller's OPENSSL_malloc'd buffer (wiped here if it does
 * not authenticate). OpenSSL wipes its own cipher contexts when they are freed.
 */
#include "crypto/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/digest.h"
#include "crypto/openssl-util.h"
#include "crypto/pkcs11.h"
#include "util/hex.h"
#include "util/macro.h"

#define KEK_ID_LABEL     "veritee-kek"
#define KEK_P11_ID_LABEL "veritee-kek-pkcs11"
#define DEK_AAD          "veritee-dek:"
/* the longest key file: 64 hex digits and "\n"; one more byte to see it is longer */
#define KEK_FILE_MAX (2 * VT_KEK_SIZE + 1)
/* what we read of a file: a pkcs11: URI may be longer than a key */
#define KEK_READ_MAX (VT_P11_MAX_URI + 1)

struct vt_kek {
        uint8_t key[VT_KEK_SIZE];
        /* an HSM KEK: key is unused, the token's AES key wraps */
        struct vt_p11_key *p11;
        char id[17];
        bool locked;
        size_t map_len;
};

static void cleanse_key(uint8_t (*p)[VT_KEK_SIZE])
{
        OPENSSL_cleanse(*p, sizeof(*p));
}
#define _cleanup_key_ _cleanup_(cleanse_key)

static void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

/* ---- the KEK ---- */

/* kek_alloc maps a fresh zeroed page for one KEK, so that nothing else shares its memory:
 * it is locked (when RLIMIT_MEMLOCK allows), kept out of core dumps, and unmapped whole. */
static struct vt_kek *kek_alloc(void)
{
        long ps = sysconf(_SC_PAGESIZE);
        size_t n = ps > 0 ? (size_t)ps : 4096;

        if (n < sizeof(struct vt_kek))
                n = sizeof(struct vt_kek);
        void *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return NULL;
        struct vt_kek *k = m;
        k->map_len = n;
        k->locked = mlock(m, n) == 0;
#ifdef MADV_DONTDUMP
        (void)madvise(m, n, MADV_DONTDUMP);
#endif
        return k;
}

void vt_kek_free(struct vt_kek *k)
{
        if (!k)
                return;
        size_t n = k->map_len;
        bool locked = k->locked;
        vt_p11_key_free(k->p11);
        OPENSSL_cleanse(k, n);
        if (locked)
                (void)munlock(k, n);
        (void)munmap(k, n);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_kek *, vt_kek_free)

const char *vt_kek_id(const struct vt_kek *k)
{
        return k ? k->id : NULL;
}

static int kek_set_id(struct vt_kek *k)
{
        uint8_t in[sizeof(KEK_ID_LABEL) - 1 + VT_KEK_SIZE], md[32];
        unsigned mdlen = 0;

        memcpy(in, KEK_ID_LABEL, sizeof(KEK_ID_LABEL) - 1);
        memcpy(in + sizeof(KEK_ID_LABEL) - 1, k->key, VT_KEK_SIZE);
        int ok = EVP_Digest(in, sizeof(in), md, &mdlen, vt_sha256(), NULL);
        OPENSSL_cleanse(in, sizeof(in));
        if (!ok || mdlen != sizeof(md))
                return VT_E_CRYPTO;
        vt_hex_encode(md, 8, k->id);
        return 0;
}

/* read_small reads up to cap bytes of fd into buf; *ret_len is how many it got. */
static int read_small(int fd, uint8_t *buf, size_t cap, size_t *ret_len)
{
        size_t got = 0;

        while (got < cap) {
                ssize_t r = read(fd, buf + got, cap - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        break;
                got += (size_t)r;
        }
        *ret_len = got;
        return 0;
}

static void cleanse_file(uint8_t (*p)[KEK_READ_MAX + 1])
{
        OPENSSL_cleanse(*p, sizeof(*p));
}

int vt_kek_load(const char *path, struct vt_kek **ret, struct vt_diag *d)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = NULL;
        _cleanup_(cleanse_file) uint8_t buf[KEK_READ_MAX + 1];
        _cleanup_(closep) int fd = -1;
        static const uint8_t zero[VT_KEK_SIZE];
        struct stat st;
        size_t len = 0;
        int e;

        if (!path || !ret)
                return vt_diag_set(d, VT_E_INVAL, "kek: no path");
        /* symlinks are followed (systemd credentials, Kubernetes secret volumes); fstat
         * checks the file actually opened, so there is no window between check and use */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return vt_diag_set(d, VT_E_IO, "kek: cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return vt_diag_set(d, VT_E_IO, "kek: cannot stat %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return vt_diag_set(d, VT_E_INVAL, "kek: %s is not a regular file", path);
        if (st.st_mode & 077)
                return vt_diag_set(d, VT_E_INVAL,
                                   "kek: %s has mode %04o; a key-encryption key must not be "
                                   "accessible by group or others (chmod 600)",
                                   path, (unsigned)(st.st_mode & 07777));
        if ((e = read_small(fd, buf, KEK_READ_MAX, &len)) < 0)
                return vt_diag_set(d, VT_E_IO, "kek: cannot read %s: %s", path, strerror(-e));
        if (len >= sizeof(VT_P11_SCHEME) - 1 && memcmp(buf, VT_P11_SCHEME, 7) == 0) {
                /* a reference to an HSM key: the URI, one line */
                while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                        len--;
                if (len > VT_P11_MAX_URI || memchr(buf, '\n', len) || memchr(buf, 0, len))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "kek: %s must hold one pkcs11: URI of at most %u bytes",
                                           path, VT_P11_MAX_URI);
                buf[len] = 0;
                struct vt_diag ud = {0};
                if ((e = vt_kek_open_uri((const char *)buf, ret, &ud)) < 0)
                        return vt_diag_set(d, e, "%s (the URI in %s)", ud.msg, path);
                return 0;
        }
        k = kek_alloc();
        if (!k)
                return VT_E_NOMEM;
        if (len == VT_KEK_SIZE) {
                memcpy(k->key, buf, VT_KEK_SIZE);
        } else if (len == 2 * VT_KEK_SIZE ||
                   (len == 2 * VT_KEK_SIZE + 1 && buf[2 * VT_KEK_SIZE] == '\n')) {
                buf[2 * VT_KEK_SIZE] = 0;
                if (vt_hex_decode((const char *)buf, k->key, VT_KEK_SIZE) != VT_KEK_SIZE)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "kek: %s holds 64 characters that are not all hex "
                                           "digits",
                                           path);
        } else {
                return vt_diag_set(d, VT_E_FORMAT,
                                   "kek: %s must hold 32 raw bytes or 64 hex digits (and an "
                                   "optional newline), not %s%zu bytes",
                                   path, len > KEK_FILE_MAX ? "more than " : "",
                                   len > KEK_FILE_MAX ? (size_t)KEK_FILE_MAX : len);
        }
        if (CRYPTO_memcmp(k->key, zero, VT_KEK_SIZE) == 0)
                return vt_diag_set(d, VT_E_FORMAT, "kek: %s holds an all-zero key", path);
        if (kek_set_id(k) < 0)
                return vt_diag_set(d, VT_E_CRYPTO, "kek: cannot hash the key of %s", path);
        *ret = TAKE_PTR(k);
        return 0;
}

int vt_kek_open_uri(const char *uri, struct vt_kek **ret, struct vt_diag *d)
{
        _cleanup_(vt_kek_freep) struct vt_kek *k = NULL;
        uint8_t fp[32];
        int e;

        if (!uri || !ret)
                return vt_diag_set(d, VT_E_INVAL, "kek: no URI");
        k = kek_alloc();
        if (!k)
                return VT_E_NOMEM;
        if ((e = vt_p11_key_open(uri, NULL, VT_P11_AES, "kek", &k->p11, d)) < 0)
                return e;
        vt_p11_key_fingerprint(k->p11, KEK_P11_ID_LABEL, fp);
        vt_hex_encode(fp, 8, k->id);
        *ret = TAKE_PTR(k);
        return 0;
}

int vt_kek_open(const char *spec, struct vt_kek **ret, struct vt_diag *d)
{
        return vt_p11_is_uri(spec) ? vt_kek_open_uri(spec, ret, d) : vt_kek_load(spec, ret, d);
}

bool vt_kek_is_pkcs11(const struct vt_kek *k)
{
        return k && k->p11;
}

static void cleanse_hex(char (*p)[2 * VT_KEK_SIZE + 2])
{
        OPENSSL_cleanse(*p, sizeof(*p));
}

int vt_kek_generate(const char *path, struct vt_diag *d)
{
        _cleanup_key_ uint8_t key[VT_KEK_SIZE];
        _cleanup_(cleanse_hex) char hex[2 * VT_KEK_SIZE + 2];
        size_t left = 2 * VT_KEK_SIZE + 1, off = 0;
        int fd, err;

        if (!path)
                return vt_diag_set(d, VT_E_INVAL, "kek: no path");
        if (RAND_priv_bytes(key, sizeof(key)) != 1)
                return vt_diag_set(d, VT_E_CRYPTO, "kek: no random bytes for a new key");
        vt_hex_encode(key, VT_KEK_SIZE, hex);
        hex[2 * VT_KEK_SIZE] = '\n';
        hex[2 * VT_KEK_SIZE + 1] = 0;
        /* O_EXCL: never replace a key (rows wrapped with it would be lost); it also fails
         * on a symlink, dangling or not */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0 && errno == EEXIST)
                return vt_diag_set(d, VT_E_INVAL,
                                   "kek: %s exists; refusing to overwrite a key-encryption key",
                                   path);
        if (fd < 0)
                return vt_diag_set(d, VT_E_IO, "kek: cannot create %s: %s", path, strerror(errno));
        /* exactly 0600 whatever the umask, before the first byte is written */
        if (fchmod(fd, 0600) < 0)
                goto fail;
        while (left > 0) {
                ssize_t w = write(fd, hex + off, left);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w == 0)
                        errno = EIO;
                if (w <= 0)
                        goto fail;
                off += (size_t)w;
                left -= (size_t)w;
        }
        if (fsync(fd) < 0)
                goto fail;
        if (close(fd) < 0) {
                fd = -1;
                goto fail;
        }
        return 0;
fail:
        err = errno;
        if (fd >= 0)
                close(fd);
        unlink(path);
        return vt_diag_set(d, VT_E_IO, "kek: cannot write %s: %s", path, strerror(err));
}

/* ---- AES-256-GCM ---- */

/* gcm_seal writes nonce || ciphertext || tag of in[0..len) under key to out, with the aad
 * aad1 || aad2. */
static int gcm_seal(const uint8_t key[VT_KEK_SIZE], const uint8_t *aad1, size_t aad1_len,
                    const uint8_t *aad2, size_t aad2_len, const uint8_t *in, size_t len,
                    uint8_t *out)
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        uint8_t *ct = out + VT_SEAL_NONCE_SIZE;
        int n = 0;

        if (!ctx || RAND_bytes(out, VT_SEAL_NONCE_SIZE) != 1 ||
            EVP_EncryptInit_ex(ctx, vt_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VT_SEAL_NONCE_SIZE, NULL) != 1 ||
            EVP_EncryptInit_ex(ctx, NULL, NULL, key, out) != 1)
                goto fail;
        if (aad1_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad1, (int)aad1_len) != 1)
                goto fail;
        if (aad2_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad2, (int)aad2_len) != 1)
                goto fail;
        if (len > 0 && (EVP_EncryptUpdate(ctx, ct, &n, in, (int)len) != 1 || (size_t)n != len))
                goto fail;
        if (EVP_EncryptFinal_ex(ctx, ct + len, &n) != 1 || n != 0 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VT_SEAL_TAG_SIZE, ct + len) != 1)
                goto fail;
        return 0;
fail:
        ERR_clear_error();
        return VT_E_CRYPTO;
}

/* gcm_open decrypts blob (nonce || ciphertext || tag, blob_len >= VT_SEAL_OVERHEAD) into
 * out (blob_len - VT_SEAL_OVERHEAD bytes). If the tag does not match, out is wiped. */
static int gcm_open(const uint8_t key[VT_KEK_SIZE], const uint8_t *aad1, size_t aad1_len,
                    const uint8_t *aad2, size_t aad2_len, const uint8_t *blob, size_t blob_len,
                    uint8_t *out)
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        size_t len = blob_len - VT_SEAL_OVERHEAD;
        const uint8_t *ct = blob + VT_SEAL_NONCE_SIZE;
        uint8_t tag[VT_SEAL_TAG_SIZE];
        int n = 0;

        memcpy(tag, ct + len, sizeof(tag));
        if (!ctx || EVP_DecryptInit_ex(ctx, vt_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VT_SEAL_NONCE_SIZE, NULL) != 1 ||
            EVP_DecryptInit_ex(ctx, NULL, NULL, key, blob) != 1)
                goto fail;
        if (aad1_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad1, (int)aad1_len) != 1)
                goto fail;
        if (aad2_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad2, (int)aad2_len) != 1)
                goto fail;
        if (len > 0 && (EVP_DecryptUpdate(ctx, out, &n, ct, (int)len) != 1 || (size_t)n != len))
                goto fail;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VT_SEAL_TAG_SIZE, tag) != 1 ||
            EVP_DecryptFinal_ex(ctx, out + len, &n) != 1)
                goto fail;
        return 0;
fail:
        if (len > 0)
                OPENSSL_cleanse(out, len);
        ERR_clear_error();
        return VT_E_CRYPTO;
}

/* dek_aad: "veritee-dek:" || aad in one buffer, as PKCS#11 takes it. */
static uint8_t *dek_aad(const uint8_t *aad, size_t aad_len, size_t *ret_len)
{
        uint8_t *b = malloc(sizeof(DEK_AAD) - 1 + aad_len);
        if (!b)
                return NULL;
        memcpy(b, DEK_AAD, sizeof(DEK_AAD) - 1);
        if (aad_len)
                memcpy(b + sizeof(DEK_AAD) - 1, aad, aad_len);
        *ret_len = sizeof(DEK_AAD) - 1 + aad_len;
        return b;
}

static int wrap_dek(const struct vt_kek *k, const uint8_t *aad, size_t aad_len,
                    const uint8_t dek[VT_KEK_SIZE], uint8_t out[VT_SEAL_WDEK_SIZE])
{
        if (k->p11) {
                size_t al = 0;
                _cleanup_free_ uint8_t *a = dek_aad(aad, aad_len, &al);
                if (!a)
                        return VT_E_NOMEM;
                return vt_p11_gcm_encrypt(k->p11, a, al, dek, VT_KEK_SIZE, out, NULL);
        }
        return gcm_seal(k->key, (const uint8_t *)DEK_AAD, sizeof(DEK_AAD) - 1, aad, aad_len, dek,
                        VT_KEK_SIZE, out);
}

static int unwrap_dek(const struct vt_kek *k, const uint8_t *aad, size_t aad_len,
                      const uint8_t *wdek, size_t wdek_len, uint8_t dek[VT_KEK_SIZE],
                      struct vt_diag *d)
{
        if (wdek_len != VT_SEAL_WDEK_SIZE)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "unseal: a wrapped data key must have %d bytes, not %zu",
                                   VT_SEAL_WDEK_SIZE, wdek_len);
        if (k->p11) {
                size_t al = 0;
                struct vt_diag pd = {0};
                _cleanup_free_ uint8_t *a = dek_aad(aad, aad_len, &al);
                if (!a)
                        return VT_E_NOMEM;
                if (vt_p11_gcm_decrypt(k->p11, a, al, wdek, wdek_len, dek, &pd) < 0)
                        return vt_diag_set(d, VT_E_CRYPTO,
                                           "unseal: the wrapped data key does not unwrap under "
                                           "HSM KEK %s for this name (another KEK, another name, "
                                           "or changed bytes): %s",
                                           k->id, pd.msg);
                return 0;
        }
        if (gcm_open(k->key, (const uint8_t *)DEK_AAD, sizeof(DEK_AAD) - 1, aad, aad_len, wdek,
                     wdek_len, dek) < 0)
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "unseal: the wrapped data key does not authenticate under "
                                   "KEK %s for this name (another KEK, another name, or changed "
                                   "bytes)",
                                   k->id);
        return 0;
}

static bool aad_ok(const uint8_t *aad, size_t aad_len)
{
        return aad || aad_len == 0;
}

int vt_seal(const struct vt_kek *k, const uint8_t *aad, size_t aad_len, const uint8_t *secret,
            size_t len, uint8_t **ret_wrapped_dek, size_t *ret_wdek_len, uint8_t **ret_ct,
            size_t *ret_ct_len)
{
        _cleanup_key_ uint8_t dek[VT_KEK_SIZE];
        _cleanup_free_ uint8_t *wdek = NULL, *ct = NULL;

        if (!k || !aad_ok(aad, aad_len) || (!secret && len > 0) || !ret_wrapped_dek ||
            !ret_wdek_len || !ret_ct || !ret_ct_len)
                return VT_E_INVAL;
        if (len > VT_SEAL_MAX_SECRET || aad_len > VT_SEAL_MAX_AAD)
                return VT_E_LIMIT;
        wdek = malloc(VT_SEAL_WDEK_SIZE);
        ct = malloc(len + VT_SEAL_OVERHEAD);
        if (!wdek || !ct)
                return VT_E_NOMEM;
        if (RAND_priv_bytes(dek, sizeof(dek)) != 1 ||
            gcm_seal(dek, aad, aad_len, NULL, 0, secret, len, ct) < 0 ||
            wrap_dek(k, aad, aad_len, dek, wdek) < 0)
                return VT_E_CRYPTO;
        *ret_wrapped_dek = TAKE_PTR(wdek);
        *ret_wdek_len = VT_SEAL_WDEK_SIZE;
        *ret_ct = TAKE_PTR(ct);
        *ret_ct_len = len + VT_SEAL_OVERHEAD;
        return 0;
}

int vt_unseal(const struct vt_kek *k, const uint8_t *aad, size_t aad_len,
              const uint8_t *wrapped_dek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
              uint8_t **ret_secret, size_t *ret_len, struct vt_diag *d)
{
        _cleanup_key_ uint8_t dek[VT_KEK_SIZE];
        int e;

        if (!k || !aad_ok(aad, aad_len) || !wrapped_dek || !ct || !ret_secret || !ret_len)
                return vt_diag_set(d, VT_E_INVAL, "unseal: missing argument");
        if (aad_len > VT_SEAL_MAX_AAD)
                return vt_diag_set(d, VT_E_LIMIT, "unseal: aad longer than %u bytes",
                                   VT_SEAL_MAX_AAD);
        if (ct_len < VT_SEAL_OVERHEAD)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "unseal: a ciphertext must have at least %d bytes, not %zu",
                                   VT_SEAL_OVERHEAD, ct_len);
        size_t len = ct_len - VT_SEAL_OVERHEAD;
        if (len > VT_SEAL_MAX_SECRET)
                return vt_diag_set(d, VT_E_LIMIT, "unseal: a secret of more than %u bytes",
                                   VT_SEAL_MAX_SECRET);
        if ((e = unwrap_dek(k, aad, aad_len, wrapped_dek, wdek_len, dek, d)) < 0)
                return e;
        uint8_t *out = OPENSSL_malloc(len > 0 ? len : 1);
        if (!out)
                return VT_E_NOMEM;
        if (gcm_open(dek, aad, aad_len, NULL, 0, ct, ct_len, out) < 0) {
                OPENSSL_clear_free(out, len > 0 ? len : 1);
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "unseal: the ciphertext does not authenticate under its data "
                                   "key for this name (changed bytes, or another row's "
                                   "ciphertext)");
        }
        *ret_secret = out;
        *ret_len = len;
        return 0;
}

int vt_rewrap(const struct vt_kek *old_k, const struct vt_kek *new_k, const uint8_t *aad,
              size_t aad_len, const uint8_t *wrapped_dek, size_t wdek_len, uint8_t **ret_new_wdek,
              size_t *ret_len, struct vt_diag *d)
{
        _cleanup_key_ uint8_t dek[VT_KEK_SIZE];
        _cleanup_free_ uint8_t *out = NULL;
        int e;

        if (!old_k || !new_k || !aad_ok(aad, aad_len) || !wrapped_dek || !ret_new_wdek || !ret_len)
                return vt_diag_set(d, VT_E_INVAL, "rewrap: missing argument");
        if (aad_len > VT_SEAL_MAX_AAD)
                return vt_diag_set(d, VT_E_LIMIT, "rewrap: aad longer than %u bytes",
                                   VT_SEAL_MAX_AAD);
        if ((e = unwrap_dek(old_k, aad, aad_len, wrapped_dek, wdek_len, dek, d)) < 0)
                return e;
        out = malloc(VT_SEAL_WDEK_SIZE);
        if (!out)
                return VT_E_NOMEM;
        if (wrap_dek(new_k, aad, aad_len, dek, out) < 0)
                return vt_diag_set(d, VT_E_CRYPTO, "rewrap: cannot wrap under KEK %s", new_k->id);
        *ret_new_wdek = TAKE_PTR(out);
        *ret_len = VT_SEAL_WDEK_SIZE;
        return 0;
}
