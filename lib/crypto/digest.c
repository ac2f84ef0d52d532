/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/digest.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "util/hex.h"

const char *vt_fingerprint(const uint8_t *p, size_t n, char out[static VT_FINGERPRINT_LEN])
{
        uint8_t h[32];
        if (!EVP_Digest(p, n, h, NULL, EVP_sha256(), NULL)) {
                ERR_clear_error();
                snprintf(out, VT_FINGERPRINT_LEN, "sha256:?");
                return out;
        }
        memcpy(out, "sha256:", 7);
        vt_hex_encode(h, 8, out + 7);
        return out;
}
