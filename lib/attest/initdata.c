/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init-data (Trustee's InitData, version 0.1.0): {"format":"toml","body":"<TOML>"}. The
 * digest of the body, with the algorithm the TOML names, is what the TEE measured at launch
 * (SNP HOST_DATA, TDX MRCONFIGID, the vTPM's PCR8); the [data] table becomes claims.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "attest/tee.h"
#include "crypto/digest.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/toml.h"

#define MAX_INIT_DATA_BYTES (64u * 1024u)

int vt_initdata_digest(const json_t *toml, const void *body, size_t len, uint8_t ret[64],
                       size_t *ret_len, struct vt_diag *d)
{
        const char *alg = json_string_value(json_object_get(toml, "algorithm"));
        const EVP_MD *md = !alg                         ? NULL
                           : strcmp(alg, "sha256") == 0 ? EVP_sha256()
                           : strcmp(alg, "sha384") == 0 ? EVP_sha384()
                           : strcmp(alg, "sha512") == 0 ? EVP_sha512()
                                                        : NULL;
        if (!md)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "init-data: algorithm must be sha256, sha384 or sha512");
        unsigned dl = 0;
        if (!EVP_Digest(body, len, ret, &dl, md, NULL))
                return vt_diag_set(d, VT_E_CRYPTO, "init-data: the %s digest failed", alg);
        *ret_len = dl;
        return 0;
}

int vt_initdata_check(const json_t *init, const uint8_t *field, size_t field_len, char **ret_hex,
                      json_t **ret_claims, struct vt_diag *d)
{
        const char *format = json_string_value(json_object_get(init, "format"));
        json_t *bj = json_object_get(init, "body");
        const char *body = json_string_value(bj);
        if (!format || strcmp(format, "toml") != 0)
                return vt_diag_set(d, VT_E_FORMAT, "init-data: format must be \"toml\"");
        if (!body || json_string_length(bj) > MAX_INIT_DATA_BYTES)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "init-data: body must be a string of at most %u bytes",
                                   MAX_INIT_DATA_BYTES);
        size_t blen = json_string_length(bj);
        json_auto_t *toml = NULL;
        int e = vt_toml_parse(body, blen, &toml, d);
        if (e < 0)
                return e;
        const char *version = json_string_value(json_object_get(toml, "version"));
        if (!version || strcmp(version, "0.1.0") != 0)
                return vt_diag_set(d, VT_E_FORMAT, "init-data: version must be \"0.1.0\"");
        json_t *data0 = json_object_get(toml, "data");
        const char *dk;
        json_t *dv;
        if (data0 && !json_is_object(data0))
                return vt_diag_set(d, VT_E_FORMAT, "init-data: [data] must be a table");
        json_object_foreach (data0, dk, dv) {
                if (!json_is_string(dv))
                        return vt_diag_set(d, VT_E_FORMAT, "init-data: data.%.64s must be a string",
                                           dk);
        }
        uint8_t dg[64] = {0}, want[64] = {0};
        size_t dl = 0;
        if ((e = vt_initdata_digest(toml, body, blen, dg, &dl, d)) < 0)
                return e;
        memcpy(want, dg, dl < field_len ? dl : field_len);
        if (CRYPTO_memcmp(want, field, field_len) != 0) {
                char w[VT_FINGERPRINT_LEN], h[VT_FINGERPRINT_LEN];
                return vt_diag_set(d, VT_E_BINDING,
                                   "init-data: digest does not match host_data (fingerprints: "
                                   "init-data digest %s, host_data %s)",
                                   vt_fingerprint(want, field_len, w),
                                   vt_fingerprint(field, field_len, h));
        }
        char *hex = malloc(2 * dl + 1);
        if (!hex)
                return VT_E_NOMEM;
        vt_hex_encode(dg, dl, hex);
        /* claims: the [data] table, with embedded TOML documents (aa.toml, cdh.toml)
         * turned into JSON where they parse */
        json_t *data = json_object_get(toml, "data");
        json_t *claims = json_object();
        const char *k;
        json_t *v;
        json_object_foreach (data, k, v) {
                json_t *conv = NULL;
                size_t kl = strlen(k);
                if (json_is_string(v) && kl > 5 && strcmp(k + kl - 5, ".toml") == 0 &&
                    vt_toml_parse(json_string_value(v), json_string_length(v), &conv, NULL) == 0)
                        json_object_set_new(claims, k, conv);
                else
                        json_object_set(claims, k, v);
        }
        *ret_hex = hex;
        *ret_claims = claims;
        return 0;
}

int vt_initdata_sha256(const json_t *init, const char *tee, uint8_t ret[32], struct vt_diag *d)
{
        /* the vTPM extends PCR8 with a SHA-256 digest: only sha256 init-data binds */
        json_t *bj = json_object_get(init, "body");
        json_auto_t *toml = NULL;
        int e;
        if (!json_is_string(bj) || json_string_length(bj) > MAX_INIT_DATA_BYTES)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "init-data: body must be a string of at most %u bytes",
                                   MAX_INIT_DATA_BYTES);
        if ((e = vt_toml_parse(json_string_value(bj), json_string_length(bj), &toml, d)) < 0)
                return e;
        const char *alg = json_string_value(json_object_get(toml, "algorithm"));
        if (!alg || strcmp(alg, "sha256") != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "init-data: %s binds init-data through PCR8, which "
                                   "needs algorithm sha256",
                                   tee);
        if (!EVP_Digest(json_string_value(bj), json_string_length(bj), ret, NULL, EVP_sha256(),
                        NULL))
                return VT_E_CRYPTO;
        return 0;
}
