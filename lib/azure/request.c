/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "azure/request.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/jwk.h"
#include "crypto/openssl-util.h"
#include "policy/release.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"
#include "util/rd.h"
#include "veritee/snp.h"

static const char *const type_names[_VT_AZ_TYPE_MAX] = {
        [VT_AZ_SGX] = "SgxEnclave",
        [VT_AZ_OPEN_ENCLAVE] = "OpenEnclave",
        [VT_AZ_SNP] = "SevSnpVm",
        [VT_AZ_TDX] = "TdxVm",
};

static const char *const enc_names[_VT_AZ_ENC_MAX] = {
        [VT_AZ_ENC_CKM_RSA_AES_KEY_WRAP] = "CKM_RSA_AES_KEY_WRAP",
        [VT_AZ_ENC_RSA_AES_KEY_WRAP_256] = "RSA_AES_KEY_WRAP_256",
        [VT_AZ_ENC_RSA_AES_KEY_WRAP_384] = "RSA_AES_KEY_WRAP_384",
};

const char *vt_az_type_name(enum vt_az_type t)
{
        return t < _VT_AZ_TYPE_MAX ? type_names[t] : "?";
}

int vt_az_type_from_path(const char *segment, enum vt_az_type *ret)
{
        for (size_t t = 0; segment && t < _VT_AZ_TYPE_MAX; t++)
                if (strcasecmp(segment, type_names[t]) == 0) {
                        *ret = (enum vt_az_type)t;
                        return 0;
                }
        return VT_E_NOTFOUND;
}

const char *vt_az_enc_name(enum vt_az_enc e)
{
        return e < _VT_AZ_ENC_MAX ? enc_names[e] : "?";
}

int vt_az_b64_decode(const char *s, size_t max, uint8_t **ret, size_t *ret_len)
{
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '=')
                n--;
        _cleanup_free_ char *t = strndup(s, n);
        if (!t)
                return VT_E_NOMEM;
        for (size_t i = 0; i < n; i++)
                t[i] = t[i] == '+' ? '-' : t[i] == '/' ? '_' : t[i];
        return vt_b64_decode(t, n, VT_B64_URL, max, ret, ret_len);
}

/* body_object parses a request body: a JSON object, no duplicate keys. */
static int body_object(const uint8_t *body, size_t len, json_t **ret, struct vt_diag *d)
{
        json_error_t je;
        json_t *b = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(b)) {
                json_decref(b);
                return vt_diag_set(d, VT_E_FORMAT, "the body must be a JSON object: %.200s",
                                   b ? "not an object" : je.text);
        }
        *ret = b;
        return 0;
}

static void data_done(struct vt_az_data *x)
{
        if (x->bytes)
                OPENSSL_cleanse(x->bytes, x->len);
        free(x->bytes);
        json_decref(x->json);
        *x = (struct vt_az_data){0};
}

static int data_parse(const json_t *v, const char *name, struct vt_az_data *out, struct vt_diag *d)
{
        if (!v || json_is_null(v))
                return 0;
        const char *data = json_string_value(json_object_get(v, "data"));
        const char *type = json_string_value(json_object_get(v, "dataType"));
        if (!json_is_object(v) || !data)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s must be {\"data\": base64url, \"dataType\": ...}", name);
        if (json_object_get(v, "dataType") && !type)
                return vt_diag_set(d, VT_E_FORMAT, "%s.dataType must be a string", name);
        if (type && strcasecmp(type, "JSON") != 0 && strcasecmp(type, "Binary") != 0)
                return vt_diag_set(d, VT_E_FORMAT, "%s.dataType must be \"Binary\" or \"JSON\"",
                                   name);
        if (vt_az_b64_decode(data, VT_AZ_MAX_DATA, &out->bytes, &out->len) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "%s.data is not base64url (of at most %u bytes)",
                                   name, VT_AZ_MAX_DATA);
        if (type && strcasecmp(type, "JSON") == 0) {
                out->json = json_loadb((const char *)out->bytes, out->len, JSON_REJECT_DUPLICATES,
                                       NULL);
                if (!out->json)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "%s.data is not JSON although dataType is JSON", name);
        }
        if (EVP_Digest(out->bytes, out->len, out->sha256, NULL, EVP_sha256(), NULL) != 1)
                return vt_diag_set(d, VT_E_CRYPTO, "%s: SHA-256 failed", name);
        out->present = true;
        return 0;
}

/* oe_report takes Open Enclave's remote report apart: oe_report_header_t {u32 version 1,
 * u32 report_type 2 (OE_REPORT_TYPE_SGX_REMOTE), u64 report_size} (little-endian), then
 * exactly report_size bytes of SGX quote. Bytes that do not start with version 1 are
 * taken as the quote itself (a DCAP quote starts with its version, 3). */
static int oe_report(struct vt_az_attest_request *r, struct vt_diag *d)
{
        struct vt_rd rd;
        uint32_t version = 0, type = 0;
        uint64_t size = 0;
        vt_rd_init(&rd, r->evidence, r->evidence_len);
        if (vt_rd_u32le(&rd, &version) < 0 || version != 1)
                return 0;
        if (vt_rd_u32le(&rd, &type) < 0 || vt_rd_u64le(&rd, &size) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "the report: its Open Enclave header is truncated");
        if (type != 2)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "the report: Open Enclave report_type %u is not 2 "
                                   "(OE_REPORT_TYPE_SGX_REMOTE)",
                                   type);
        if (size != vt_rd_left(&rd))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "the report: Open Enclave report_size %llu is not the %zu "
                                   "bytes that follow the header",
                                   (unsigned long long)size, vt_rd_left(&rd));
        memmove(r->evidence, r->evidence + VT_AZ_OE_HEADER, (size_t)size);
        r->evidence_len = (size_t)size;
        return 0;
}

/* snp_report: base64url of {"SnpReport": base64url(report), "VcekCertChain":
 * base64url(PEM), "Endorsements"?}. */
static int snp_report(struct vt_az_attest_request *r, const char *b64, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *outer = NULL;
        size_t ol = 0;
        if (vt_az_b64_decode(b64, VT_AZ_MAX_EVIDENCE, &outer, &ol) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "the report is not base64url");
        _cleanup_json_ json_t *o =
                json_loadb((const char *)outer, ol, JSON_REJECT_DUPLICATES, NULL);
        const char *sr = json_string_value(json_object_get(o, "SnpReport"));
        const char *chain = json_string_value(json_object_get(o, "VcekCertChain"));
        if (!sr || !chain)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "the report must be base64url of {\"SnpReport\", "
                                   "\"VcekCertChain\"}");
        if (vt_az_b64_decode(sr, 4096, &r->evidence, &r->evidence_len) < 0 ||
            r->evidence_len != VT_SNP_REPORT_SIZE)
                return vt_diag_set(d, VT_E_FORMAT, "SnpReport is not a %d-byte SNP report",
                                   VT_SNP_REPORT_SIZE);
        if (vt_az_b64_decode(chain, VT_AZ_MAX_CHAIN, &r->chain, &r->chain_len) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "VcekCertChain is not base64url");
        return 0;
}

void vt_az_attest_request_done(struct vt_az_attest_request *r)
{
        free(r->evidence);
        free(r->chain);
        data_done(&r->runtime);
        data_done(&r->init);
        free(r->nonce);
        *r = (struct vt_az_attest_request){0};
}

int vt_az_attest_request_parse(enum vt_az_type type, const uint8_t *body, size_t len,
                               struct vt_az_attest_request *ret, struct vt_diag *d)
{
        _cleanup_json_ json_t *b = NULL;
        struct vt_az_attest_request r = {.type = type};
        int e;

        if (type >= _VT_AZ_TYPE_MAX)
                return VT_E_INVAL;
        if ((e = body_object(body, len, &b, d)) < 0)
                return e;
        const char *field = type == VT_AZ_SNP || type == VT_AZ_OPEN_ENCLAVE ? "report" : "quote";
        const char *ev = json_string_value(json_object_get(b, field));
        if (!ev)
                return vt_diag_set(d, VT_E_FORMAT, "the body lacks \"%s\" (a string)", field);
        if ((e = data_parse(json_object_get(b, "runtimeData"), "runtimeData", &r.runtime, d)) < 0 ||
            (e = data_parse(json_object_get(b, "initTimeData"), "initTimeData", &r.init, d)) < 0)
                goto fail;
        /* nonce: MAA's spec says string; the sidecar sends a JSON number */
        const json_t *nonce = json_object_get(b, "nonce");
        char t[32];
        if (json_is_integer(nonce)) {
                snprintf(t, sizeof(t), "%" JSON_INTEGER_FORMAT, json_integer_value(nonce));
                r.nonce = strdup(t);
        } else if (json_is_string(nonce)) {
                r.nonce = strndup(json_string_value(nonce), json_string_length(nonce));
        } else if (nonce && !json_is_null(nonce)) {
                e = vt_diag_set(d, VT_E_FORMAT, "nonce must be a string or an integer");
                goto fail;
        }
        if (nonce && !json_is_null(nonce) && !r.nonce) {
                e = VT_E_NOMEM;
                goto fail;
        }
        if (type == VT_AZ_SNP) {
                if ((e = snp_report(&r, ev, d)) < 0)
                        goto fail;
        } else {
                if (vt_az_b64_decode(ev, VT_AZ_MAX_EVIDENCE, &r.evidence, &r.evidence_len) < 0) {
                        e = vt_diag_set(d, VT_E_FORMAT,
                                        "the %s is not base64url (of at most 1 MiB)", field);
                        goto fail;
                }
                if (type == VT_AZ_OPEN_ENCLAVE && (e = oe_report(&r, d)) < 0)
                        goto fail;
        }

        *ret = r;
        return 0;
fail:
        vt_az_attest_request_done(&r);
        return e;
}

/* ---- Key Vault ---- */

void vt_az_key_request_done(struct vt_az_key_request *r)
{
        EVP_PKEY_free(r->key);
        if (r->oct)
                OPENSSL_cleanse(r->oct, r->oct_len);
        free(r->oct);
        free(r->policy);
        json_decref(r->release_policy);
        *r = (struct vt_az_key_request){0};
}

/* kty_of: "RSA", "EC", "oct" and their -HSM forms. */
static int kty_of(const char *kty, const char *where, enum vt_az_kty *ret, struct vt_diag *d)
{
        static const char *const names[] = {"RSA", "EC", "oct"};
        if (!kty)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%skty is required (RSA, EC, oct, or their -HSM forms)", where);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                size_t l = strlen(names[i]);
                if (strncmp(kty, names[i], l) == 0 &&
                    (kty[l] == 0 || strcmp(kty + l, "-HSM") == 0)) {
                        *ret = (enum vt_az_kty)i;
                        return 0;
                }
        }
        return vt_diag_set(d, VT_E_UNSUPPORTED, "%skty %.20s is not RSA, EC or oct", where, kty);
}

/* The release policy: {"contentType"?, "data": base64url(policy JSON), "immutable"?},
 * decoded and parsed to check it. */
static int take_policy(const json_t *rp, struct vt_az_key_request *r, struct vt_diag *d)
{
        const char *data = json_string_value(json_object_get(rp, "data"));
        struct vt_diag pd = {0};
        if (!json_is_object(rp) || !data)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "release_policy.data (base64url of the policy) is required "
                                   "for an exportable key");
        uint8_t *txt = NULL;
        size_t n = 0;
        if (vt_az_b64_decode(data, VT_RELEASE_MAX_BYTES, &txt, &n) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "release_policy.data is not base64url");
        r->policy = (char *)txt; /* NUL-terminated by vt_b64_decode */
        r->policy_len = n;
        struct vt_release_policy *p = NULL;
        if (vt_release_policy_parse(r->policy, n, &p, &pd) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "%.400s", pd.msg);
        vt_release_policy_free(p);
        r->release_policy = json_incref((json_t *)rp);
        return 0;
}

/* import_key: a private JWK (oct "k"; EC P-256/P-521 or RSA with every private member),
 * through lib/crypto's JWK checks. */
static int import_key(const json_t *jwk, struct vt_az_key_request *r, struct vt_diag *d)
{
        struct vt_diag kd = {0};
        int e;
        if (!json_is_object(jwk))
                return vt_diag_set(d, VT_E_FORMAT, "key must be a JWK object");
        if ((e = kty_of(json_string_value(json_object_get(jwk, "kty")), "key.", &r->kty, d)) < 0)
                return e;
        if (r->kty == VT_AZ_KTY_OCT) {
                const char *k = json_string_value(json_object_get(jwk, "k"));
                if (!k || vt_az_b64_decode(k, 64, &r->oct, &r->oct_len) < 0 ||
                    (r->oct_len != 16 && r->oct_len != 24 && r->oct_len != 32))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "key.k must be base64url of 16, 24 or 32 bytes");
                r->key_size = (unsigned)r->oct_len * 8;
                return 0;
        }
        /* lib/crypto takes the plain JWK members; Key Vault adds kid, key_ops, -HSM */
        _cleanup_json_ json_t *plain = json_deep_copy(jwk);
        if (!plain)
                return VT_E_NOMEM;
        json_object_set_new(plain, "kty", json_string(r->kty == VT_AZ_KTY_RSA ? "RSA" : "EC"));
        json_object_del(plain, "key_ops");
        json_object_del(plain, "kid");
        if (vt_jwk_private_to_pkey(plain, &r->key, &kd) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "key: %.400s",
                                   kd.msg[0] ? kd.msg : "not a private JWK");
        r->key_size = (unsigned)EVP_PKEY_get_bits(r->key);
        return 0;
}

/* create_params: kty, key_size, crv of a create. */
static int create_params(const json_t *b, struct vt_az_key_request *r, struct vt_diag *d)
{
        const json_t *ks = json_object_get(b, "key_size");
        const char *crv = json_string_value(json_object_get(b, "crv"));
        int e;
        if ((e = kty_of(json_string_value(json_object_get(b, "kty")), "", &r->kty, d)) < 0)
                return e;
        if (ks && !json_is_integer(ks))
                return vt_diag_set(d, VT_E_FORMAT, "key_size must be an integer");
        json_int_t size = json_integer_value(ks);
        switch (r->kty) {
        case VT_AZ_KTY_OCT:
                if (!size)
                        size = 256;
                if (size != 128 && size != 192 && size != 256)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "oct key_size must be 128, 192 or 256");
                break;
        case VT_AZ_KTY_RSA:
                if (!size)
                        size = 2048;
                if (size != 2048 && size != 3072 && size != 4096)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "RSA key_size must be 2048, 3072 or 4096");
                break;
        case VT_AZ_KTY_EC:
                if (!crv)
                        crv = "P-256";
                if (strcmp(crv, "P-256") != 0 && strcmp(crv, "P-521") != 0)
                        return vt_diag_set(d, VT_E_UNSUPPORTED, "EC crv must be P-256 or P-521");
                snprintf(r->crv, sizeof(r->crv), "%s", crv);
                size = 0;
                break;
        }
        r->key_size = (unsigned)size;
        return 0;
}

int vt_az_key_request_parse(bool import, const uint8_t *body, size_t len,
                            struct vt_az_key_request *ret, struct vt_diag *d)
{
        _cleanup_json_ json_t *b = NULL;
        struct vt_az_key_request r = {0};
        int e;

        if ((e = body_object(body, len, &b, d)) < 0)
                return e;
        if (!json_is_true(json_object_get(json_object_get(b, "attributes"), "exportable")))
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "only exportable keys (attributes.exportable: true) with a "
                                   "release policy are kept here");
        if ((e = take_policy(json_object_get(b, "release_policy"), &r, d)) < 0 ||
            (e = import ? import_key(json_object_get(b, "key"), &r, d) : create_params(b, &r, d)) <
                    0) {
                vt_az_key_request_done(&r);
                return e;
        }
        *ret = r;
        return 0;
}

void vt_az_release_request_done(struct vt_az_release_request *r)
{
        free(r->target);
        free(r->nonce);
        *r = (struct vt_az_release_request){0};
}

int vt_az_release_request_parse(const uint8_t *body, size_t len, struct vt_az_release_request *ret,
                                struct vt_diag *d)
{
        _cleanup_json_ json_t *b = NULL;
        struct vt_az_release_request r = {.enc = VT_AZ_ENC_CKM_RSA_AES_KEY_WRAP};
        int e;
        static const char usage[] = "the body must be {\"target\": attestation token, \"nonce\"?, "
                                    "\"enc\"?: CKM_RSA_AES_KEY_WRAP | RSA_AES_KEY_WRAP_256 | "
                                    "RSA_AES_KEY_WRAP_384}";

        if ((e = body_object(body, len, &b, d)) < 0)
                return vt_diag_set(d, e, "%s", usage);
        const json_t *target = json_object_get(b, "target"), *enc = json_object_get(b, "enc"),
                     *nonce = json_object_get(b, "nonce");
        if (!json_is_string(target) || json_string_length(target) == 0 ||
            json_string_length(target) > VT_AZ_MAX_TARGET ||
            (enc && !json_is_null(enc) && !json_is_string(enc)) ||
            (nonce && !json_is_null(nonce) && !json_is_string(nonce)))
                return vt_diag_set(d, VT_E_FORMAT, "%s", usage);
        if (json_is_string(enc)) {
                size_t i = 0;
                while (i < _VT_AZ_ENC_MAX && strcmp(json_string_value(enc), enc_names[i]) != 0)
                        i++;
                if (i == _VT_AZ_ENC_MAX)
                        return vt_diag_set(d, VT_E_FORMAT, "%s", usage);
                r.enc = (enum vt_az_enc)i;
        }
        r.target = strndup(json_string_value(target), json_string_length(target));
        if (json_is_string(nonce))
                r.nonce = strndup(json_string_value(nonce), json_string_length(nonce));
        if (!r.target || (json_is_string(nonce) && !r.nonce)) {
                vt_az_release_request_done(&r);
                return VT_E_NOMEM;
        }
        *ret = r;
        return 0;
}
