/* SPDX-License-Identifier: Apache-2.0 */
#include "kbs/rcar.h"

#include <openssl/evp.h>

#include "util/jcs.h"
#include "util/json.h"
#include "veritee/veritee.h"

int vt_kbs_device_binding(const char *nonce, const json_t *jwk, uint8_t out[48])
{
        json_auto_t *o = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", (json_t *)jwk);
        _cleanup_free_ char *canon = NULL;
        size_t cl = 0;
        int e;
        if (!o)
                return VT_E_NOMEM;
        if ((e = vt_jcs_serialize(o, &canon, &cl)) < 0)
                return e;
        return EVP_Digest(canon, cl, out, NULL, EVP_sha384(), NULL) ? 0 : VT_E_CRYPTO;
}

int vt_kbs_runtime_binding(const char *nonce, const json_t *jwk, const char *additional,
                           uint8_t out[48])
{
        json_auto_t *o = json_pack("{s:s, s:s, s:O}", "additional-evidence", additional, "nonce",
                                   nonce, "tee-pubkey", (json_t *)jwk);
        _cleanup_free_ char *canon = NULL;
        size_t cl = 0;
        int e;
        if (!o)
                return VT_E_NOMEM;
        if ((e = vt_jcs_serialize(o, &canon, &cl)) < 0)
                return e;
        return EVP_Digest(canon, cl, out, NULL, EVP_sha384(), NULL) ? 0 : VT_E_CRYPTO;
}
