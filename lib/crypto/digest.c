/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/digest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/openssl-util.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "veritee/veritee.h"

static EVP_MD *sha256_fetched; /* kept for the process's life */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
        sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *vt_sha256(void)
{
        pthread_once(&sha256_once, sha256_fetch);
        return sha256_fetched ? sha256_fetched : EVP_sha256();
}

static EVP_MD *sha384_fetched; /* kept for the process's life */
static pthread_once_t sha384_once = PTHREAD_ONCE_INIT;

static void sha384_fetch(void)
{
        sha384_fetched = EVP_MD_fetch(NULL, "SHA384", NULL);
}

const EVP_MD *vt_sha384(void)
{
        pthread_once(&sha384_once, sha384_fetch);
        return sha384_fetched ? sha384_fetched : EVP_sha384();
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
