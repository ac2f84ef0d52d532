/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/digest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "util/hex.h"

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
