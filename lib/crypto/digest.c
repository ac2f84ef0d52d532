/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/digest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/openssl-util.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "veritee/veritee.h"

/* The algorithms of the per-request paths, fetched once: EVP_sha256() and its like make
 * OpenSSL 3 look the implementation up again at every use. They are freed by OpenSSL's own
 * cleanup at exit (OPENSSL_atexit), with everything else it fetched. */
static struct {
        EVP_MD *sha256, *sha384;
        EVP_CIPHER *aes_256_gcm, *aes_256_wrap; /* the wrap: RFC 3394 */
} fetched;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetched_free(void)
{
        EVP_MD_free(fetched.sha256);
        EVP_MD_free(fetched.sha384);
        EVP_CIPHER_free(fetched.aes_256_gcm);
        EVP_CIPHER_free(fetched.aes_256_wrap);
        memset(&fetched, 0, sizeof(fetched)); /* a later caller gets OpenSSL's own again */
}

static void fetch_all(void)
{
        fetched.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        fetched.sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
        fetched.aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
        fetched.aes_256_wrap = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
        (void)OPENSSL_atexit(fetched_free); /* if it cannot register, they live to the end */
        ERR_clear_error();
}

const EVP_MD *vt_sha256(void)
{
        pthread_once(&fetch_once, fetch_all);
        return fetched.sha256 ? fetched.sha256 : EVP_sha256();
}

const EVP_MD *vt_sha384(void)
{
        pthread_once(&fetch_once, fetch_all);
        return fetched.sha384 ? fetched.sha384 : EVP_sha384();
}

const EVP_CIPHER *vt_aes_256_gcm(void)
{
        pthread_once(&fetch_once, fetch_all);
        return fetched.aes_256_gcm ? fetched.aes_256_gcm : EVP_aes_256_gcm();
}

const EVP_CIPHER *vt_aes_256_wrap(void)
{
        pthread_once(&fetch_once, fetch_all);
        return fetched.aes_256_wrap ? fetched.aes_256_wrap : EVP_aes_256_wrap();
}

const char *vt_fingerprint(const uint8_t *p, size_t n, char out[static VT_FINGERPRINT_LEN])
{
        uint8_t h[32];
        if (!EVP_Digest(p, n, h, NULL, vt_sha256(), NULL)) {
                ERR_clear_error();
                snprintf(out, VT_FINGERPRINT_LEN, "sha256:?");
                return out;
        }
        memcpy(out, "sha256:", 7);
        vt_hex_encode(h, 8, out + 7);
        return out;
}

static int digest_sink(void *arg, const void *p, size_t n)
{
        return EVP_DigestUpdate(arg, p, n) == 1 ? 0 : -1;
}

int vt_jcs_digest(const json_t *v, const EVP_MD *md, uint8_t *out, size_t out_len)
{
        return vt_jcs_digest_spans(v, NULL, md, out, out_len);
}

int vt_jcs_digest_spans(const json_t *v, const struct vt_json_spans *spans, const EVP_MD *md,
                        uint8_t *out, size_t out_len)
{
        if (!v || !md || !out || out_len != (size_t)EVP_MD_get_size(md))
                return VT_E_INVAL;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned n = 0;
        if (!ctx)
                return VT_E_NOMEM;
        if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        int e = vt_jcs_write_spans(v, spans, digest_sink, ctx);
        if (e < 0) {
                ERR_clear_error();
                return e; /* a failed update comes back as VT_E_NOMEM (vt_jcs_write) */
        }
        if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != out_len) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        return 0;
}
