/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: JSON text -> jansson -> vt_jwk_to_pkey (a TEE's public JWK, kbs
 * tee-pubkey). Validation only (ret NULL) and conversion must agree; a P-256 key that
 * converts must survive vt_jwk_p256_public (without its alg) -> vt_jwk_to_pkey as the
 * same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/jwk.h"
#include "token/jwt.h"
#include "util/json.h"
#include "veritee/veritee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_json_ json_t *jwk = json_loadb((const char *)data, size, 0, NULL);
        _cleanup_json_ json_t *pub = NULL;
        EVP_PKEY *key = NULL, *again = NULL;
        struct vt_diag d = {0};
        int e, v;

        if (!jwk)
                return 0;
        v = vt_jwk_to_pkey(jwk, NULL, NULL);
        e = vt_jwk_to_pkey(jwk, &key, &d);
        if (e == VT_E_NOMEM || v == VT_E_NOMEM) {
                EVP_PKEY_free(key);
                return 0;
        }
        if ((e == 0) != (v == 0))
                abort();
        if (e < 0) {
                if (key || d.msg[0] == '\0')
                        abort();
                return 0;
        }
        if (!key)
                abort();
        pub = vt_jwk_p256_public(key);
        if (pub) {
                /* a signing key's JWK (alg ES256) is not a TEE key: drop the alg */
                json_object_del(pub, "alg");
                if (vt_jwk_to_pkey(pub, &again, NULL) < 0 || !again)
                        abort();
                if (EVP_PKEY_eq(key, again) != 1)
                        abort();
                EVP_PKEY_free(again);
        }
        EVP_PKEY_free(key);
        return 0;
}
