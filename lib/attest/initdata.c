/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init-data (Trustee's InitData, version 0.1.0): {"format":"toml","body":"<TOML>"}. The
 * digest of the body, with the algorithm the TOML names, is what the TEE measured at launch
 * (SNP HOST_DATA, TDX MRCONFIGID, the vTPM's PCR8); the [data] table becomes claims.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "attest/tee.h"
#include "crypto/digest.h"
#include "crypto/openssl-util.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/toml.h"

#define MAX_INIT_DATA_BYTES (64u * 1024u)

int vt_initdata_digest(const json_t *toml, const void *body, size_t len, uint8_t ret[64],
                       size_t *ret_len, struct vt_diag *d)
{
        /* kbs-types' HashAlgorithm, as serde reads it (lowercase names only) */
        const char *alg = json_string_value(json_object_get(toml, "algorithm"));
        const char *ossl = !alg                         ? NULL
                           : strcmp(alg, "sha256") == 0 ? "SHA256"
                           : strcmp(alg, "sha384") == 0 ? "SHA384"
                           : strcmp(alg, "sha512") == 0 ? "SHA512"
                           : strcmp(alg, "sm3") == 0    ? "SM3"
                                                        : NULL;
        if (!ossl)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "init-data: algorithm must be sha256, sha384, sha512 or sm3");
        _cleanup_(EVP_MD_freep) EVP_MD *md = EVP_MD_fetch(NULL, ossl, NULL);
        if (!md) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "init-data: algorithm %s is not available in this OpenSSL", alg);
        }
        unsigned dl = 0;
        if (!EVP_Digest(body, len, ret, &dl, md, NULL))
                return vt_diag_set(d, VT_E_CRYPTO, "init-data: the %s digest failed", alg);
        *ret_len = dl;
        return 0;
}

/* As Trustee's attestation service (parse_init_data, extract_policy_data): a "policy.rego"
 * member (the Kata agent policy) whose text holds "policy_data := {" followed by exactly one
 * JSON object up to the end (trailing whitespace aside) is replaced by that object under
 * "agent_policy_claims", so release policies can look at the agent policy; otherwise it
 * stays as it is. */
static void agent_policy_claims(json_t *claims)
{
        static const char pattern[] = "policy_data := {";
        const char *rego = json_string_value(json_object_get(claims, "policy.rego"));
        const char *at = rego ? strstr(rego, pattern) : NULL;
        if (!at)
                return;
        const char *js = at + sizeof(pattern) - 2; /* from the '{' */
        json_t *pd = json_loads(js, JSON_REJECT_DUPLICATES, NULL);
        if (!pd)
                return;
        if (vt_json_set(claims, "agent_policy_claims", pd) == 0)
                json_object_del(claims, "policy.rego");
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
        /* Trustee reads version as any string (attestation-service Initdata) */
        if (!json_is_string(json_object_get(toml, "version")))
                return vt_diag_set(d, VT_E_FORMAT, "init-data: version must be a string");
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
        agent_policy_claims(claims);
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
