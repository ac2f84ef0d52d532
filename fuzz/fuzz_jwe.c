/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: JSON text -> jansson -> vt_jwe_decrypt with a fixed P-256 key (the
 * agent's side of a KBS resource response). Every rejection must be FORMAT, CRYPTO or
 * UNSUPPORTED (or NOMEM) with a reason, and leave the outputs alone; whatever decrypts
 * must survive a round trip through vt_jwe_encrypt to the same key.
 *
 * The key is a throwaway made for this target (jose jwk gen), not a test vector.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/x509.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/veritee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                              "\"x\":\"7ChEk1KunZj6IqYON9X5f9P2lhLIvbbtEJjyz0I_Y7Q\","
                              "\"y\":\"SX7drkFUG2UoFcjuk5rYmPTArza2B2FlzFlF7AYB5h4\","
                              "\"d\":\"i58XgEOHKLW7Os67arfcwMEfGlJWrLFGDLSFlxzoqgo\"}";

static EVP_PKEY *fixed_key(void)
{
        static EVP_PKEY *key;

        if (!key) {
                _cleanup_json_ json_t *j = json_loads(key_jwk, 0, NULL);
                if (!j || vt_jwk_private_to_pkey(j, &key, NULL) < 0)
                        abort();
        }
        return key;
}

/* roundtrip re-encrypts a plaintext that decrypted to the key and decrypts it again. */
static void roundtrip(EVP_PKEY *key, const uint8_t *pt, size_t n)
{
        _cleanup_json_ json_t *pub = NULL, *jwe = NULL;
        uint8_t *back = NULL;
        size_t m = 0;

        if (vt_jwk_from_private(key, &pub) < 0 || vt_jwe_encrypt(pub, pt, n, &jwe, NULL) < 0 ||
            vt_jwe_decrypt(key, jwe, &back, &m, NULL) < 0)
                abort();
        if (m != n || (n > 0 && memcmp(back, pt, n) != 0))
                abort();
        OPENSSL_clear_free(back, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_json_ json_t *jwe = json_loadb((const char *)data, size, 0, NULL);
        EVP_PKEY *key = fixed_key();
        struct vt_diag d = {0};
        uint8_t *pt = (uint8_t *)"untouched";
        size_t n = 7;
        int e;

        if (!jwe)
                return 0;
        e = vt_jwe_decrypt(key, jwe, &pt, &n, &d);
        if (e == 0) {
                if (!pt)
                        abort();
                roundtrip(key, pt, n);
                OPENSSL_clear_free(pt, n);
                return 0;
        }
        if (e == VT_E_NOMEM)
                return 0;
        if (e != VT_E_FORMAT && e != VT_E_CRYPTO && e != VT_E_UNSUPPORTED)
                abort();
        /* every rejection names its check; nothing leaks out */
        if (d.err != e || d.msg[0] == '\0' || n != 7 || strcmp((const char *)pt, "untouched") != 0)
                abort();
        return 0;
}
