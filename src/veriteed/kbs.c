/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
/*
 * The attestation half of the KBS protocol 0.4.0 (Trustee wire format):
 *   POST /kbs/v0/auth    {"version","tee","extra-params"} -> {"nonce","extra-params"} + cookie
 *   POST /kbs/v0/attest  {"runtime-data","tee-evidence","init-data"?} -> {"token"}
 * The broker only ever handles verified claims: evidence is verified and appraised by
 * libveritee, and what reaches the token is the verified report's claims.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto/digest.h"
#include "crypto/jwk.h"
#include "evidence/snp_wire.h"
#include "kbs/rcar.h"
#include "server.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/toml.h"
#include "veritee/azure.h"

#define KBS_PROTOCOL_VERSION VT_KBS_PROTOCOL_VERSION
#define MAX_INIT_DATA_BYTES  (64u * 1024u)

static const char *const known_tees[] = {
        "snp",       "sim", "sample", "tdx", "sgx", "az-snp-vtpm", "az-tdx-vtpm", "azsnpvtpm",
        "aztdxvtpm", "tpm", "cca",    "csv", "se",  "nvidia",      "hygondcu",    "sampledevice"};

static bool tee_supported(const struct vtd *s, const char *tee)
{
        return strcmp(tee, "snp") == 0 || strcmp(tee, "tdx") == 0 || strcmp(tee, "sgx") == 0 ||
               (strcmp(tee, "sim") == 0 && s->snp_sim) ||
               (strcmp(tee, "sample") == 0 && s->cfg.allow_sample) ||
               strcmp(tee, "az-snp-vtpm") == 0 || strcmp(tee, "az-tdx-vtpm") == 0 ||
               strcmp(tee, "azsnpvtpm") == 0 || strcmp(tee, "aztdxvtpm") == 0 ||
               (strcmp(tee, "tpm") == 0 && vt_tpm_aks_count(s->cfg.tpm_aks) > 0);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
        size_t i = 0;
        for (; src && src[i] && i + 1 < cap; i++)
                dst[i] = src[i];
        dst[i] = 0;
}

static json_t *parse_body(struct vtd_request *req, struct vtd_response *res)
{
        json_error_t je;
        json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(j)) {
                json_decref(j);
                vtd_problem(res, req, 400, "SerdeError", "Serialize/Deserialize failed: %s",
                            j ? "body is not a JSON object" : je.text);
                return NULL;
        }
        return j;
}

static void http_date(int64_t t, char *buf, size_t cap)
{
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void vtd_kbs_auth(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        json_auto_t *body = parse_body(req, res);
        if (!body)
                return;
        const char *version = json_string_value(json_object_get(body, "version"));
        const char *tee = json_string_value(json_object_get(body, "tee"));
        copy_str(req->tee, sizeof(req->tee), tee);
        if (!version || strcmp(version, KBS_PROTOCOL_VERSION) != 0) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Auth failed: KBS Client Protocol "
                            "Version Mismatch: "
                            "expected %s, got %.32s",
                            KBS_PROTOCOL_VERSION, version ? version : "(none)");
                return;
        }
        bool known = false;
        for (size_t i = 0; tee && i < ELEMENTSOF(known_tees); i++)
                if (strcmp(tee, known_tees[i]) == 0)
                        known = true;
        if (!known) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Auth failed: unknown tee \"%.24s\"",
                            tee ? tee : "");
                return;
        }
        if (!tee_supported(s, tee)) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Auth failed: tee \"%s\" is not "
                            "accepted by this "
                            "server%s",
                            tee,
                            strcmp(tee, "sample") == 0
                                    ? " (unsigned sample evidence needs attestation.allow_sample)"
                            : strcmp(tee, "sim") == 0
                                    ? " (the simulator is not trusted: attestation.simulator_root)"
                            : strcmp(tee, "tpm") == 0
                                    ? " (no trusted TPM keys: attestation.tpm_trusted_aks)"
                                    : "");
                return;
        }
        uint8_t id[16], nonce[32];
        struct vt_session sess = {0};
        _cleanup_free_ char *nonce64 = NULL;
        if (RAND_bytes(id, sizeof(id)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1 ||
            vt_b64_encode(nonce, sizeof(nonce), VT_B64_STD, &nonce64) < 0) {
                vtd_problem(res, req, 500, "InternalError", "cannot create a session");
                return;
        }
        vt_hex_encode(id, sizeof(id), sess.id);
        copy_str(sess.tee, sizeof(sess.tee), tee);
        copy_str(sess.nonce, sizeof(sess.nonce), nonce64);
        copy_str(sess.client, sizeof(sess.client), req->client);
        int64_t now = vtd_now();
        sess.created = now;
        /* an unused challenge lives briefly: anyone may ask for one, and until it is used
         * it holds a place under limits.max_sessions */
        sess.expires = now + (s->cfg.unattested_ttl < s->cfg.session_ttl ? s->cfg.unattested_ttl
                                                                         : s->cfg.session_ttl);
        sess.state = VT_SESSION_AUTHED;
        struct vt_diag sd = {0};
        int e = vt_store_session_open(s->store, &sess, now, s->cfg.max_sessions,
                                      s->cfg.max_sessions_per_client, &sd);
        if (e == VT_E_LIMIT) {
                res->retry_after = 5;
                vtd_problem(res, req, 429, "TooManySessions", "%s; retry later", sd.msg);
                return;
        }
        if (e < 0) {
                vtd_problem(res, req, 503, "StoreError", "the session store is unavailable");
                return;
        }
        char date[64];
        http_date(sess.expires, date, sizeof(date));
        if (asprintf(&res->set_cookie, "kbs-session-id=%s; Expires=%s; Path=/kbs/v0; HttpOnly%s",
                     sess.id, date, s->cfg.tls_certificate ? "; Secure" : "") < 0)
                res->set_cookie = NULL;
        vtd_json_response(res, 200, json_pack("{s:s, s:s}", "nonce", nonce64, "extra-params", ""));
}

/* init-data: {"format":"toml","body":"<TOML>"}: digest (algorithm from the TOML) must
 * equal the TEE's launch field, zero-padded or truncated to its size. */
static int check_init_data(const json_t *init, const uint8_t *field, size_t field_len,
                           char **ret_hex, json_t **ret_claims, struct vt_diag *d)
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
        const char *alg = json_string_value(json_object_get(toml, "algorithm"));
        const EVP_MD *md = !alg                         ? NULL
                           : strcmp(alg, "sha256") == 0 ? EVP_sha256()
                           : strcmp(alg, "sha384") == 0 ? EVP_sha384()
                           : strcmp(alg, "sha512") == 0 ? EVP_sha512()
                                                        : NULL;
        if (!md)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "init-data: algorithm must be sha256, sha384 or sha512");
        uint8_t dg[64] = {0}, want[64] = {0};
        unsigned dl = 0;
        if (!EVP_Digest(body, blen, dg, &dl, md, NULL))
                return VT_E_CRYPTO;
        memcpy(want, dg, dl < field_len ? dl : field_len);
        if (memcmp(want, field, field_len) != 0) {
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

struct verified {
        json_t *tee_claims;
        struct vt_ar4si tv;
        bool simulated;
        char *init_hex;
        json_t *init_claims;
        struct vt_diag appraisal;
};

static void verified_done(struct verified *v)
{
        json_decref(v->tee_claims);
        json_decref(v->init_claims);
        free(v->init_hex);
}

/* Without a VCEK in the evidence, verification fetches one from KDS: first the checks
 * that need no certificate, so that a report that does not bind this session, or that
 * the reference values refuse anyway, costs no fetch. The appraisal of the report as
 * sent equals that of the verified one when its CPUID names the product (the layout is
 * then the same); otherwise only the binding is checked here. */
static int precheck_snp(struct vtd *s, const char *tee, const uint8_t report[VT_SNP_REPORT_SIZE],
                        const uint8_t expected[64], struct vt_diag *d)
{
        struct vt_snp_report r;
        int e = vt_snp_report_parse(report, VT_SNP_REPORT_SIZE, &r, d);
        if (e < 0)
                return e;
        if (memcmp(r.report_data, expected, 64) != 0)
                return vt_diag_set(d, VT_E_BINDING,
                                   "%s: report_data does not bind this session's nonce and "
                                   "tee-pubkey (checked before fetching the VCEK)",
                                   tee);
        if (r.product == VT_SNP_PRODUCT_UNKNOWN)
                return 0;
        struct vt_ar4si tv;
        struct vt_diag ad = {0};
        vtd_appraise(s, tee, &r, &tv, &ad);
        enum vt_ear_status st = vt_ear_status_of(&tv);
        if (st == VT_EAR_NONE || st > s->cfg.min_status)
                return vt_diag_set(d, VT_E_POLICY, "appraisal %s (before fetching the VCEK): %s",
                                   vt_ear_status_name(st), ad.msg[0] ? ad.msg : "not affirming");
        return 0;
}

static int verify_snp_like(struct vtd *s, const char *tee, const char *client,
                           const json_t *primary, const uint8_t expected[64], const json_t *init,
                           struct verified *out, struct vt_diag *d)
{
        struct vt_snp_wire w;
        struct vt_snp_result res;
        int e = vt_snp_wire_decode(primary, &w, d);
        if (e < 0)
                return e;
        bool sim = strcmp(tee, "sim") == 0;
        struct vt_snp_verify_opts o = {.client = client};
        const struct vt_snp_wire_cert *leaf = vt_snp_wire_find(&w, "VCEK");
        if (!leaf)
                leaf = vt_snp_wire_find(&w, "VLEK");
        if (leaf) {
                o.leaf = leaf->der;
                o.leaf_len = leaf->len;
        } else if ((e = precheck_snp(s, tee, w.report, expected, d)) < 0) {
                vt_snp_wire_done(&w);
                return e;
        }
        /* an intermediate sent along (ASK or ASVK) is a hint; roots are always the pinned ones */
        const struct vt_snp_wire_cert *inter = vt_snp_wire_find(&w, "ASK");
        if (!inter)
                inter = vt_snp_wire_find(&w, "ASVK");
        if (inter) {
                o.chain = inter->der;
                o.chain_len = inter->len;
        }
        e = vt_snp_verify(sim ? s->snp_sim : s->snp_hw, w.report, sizeof(w.report), &o, &res, d);
        vt_snp_wire_done(&w);
        if (e < 0)
                return e;
        if (sim && res.root_builtin)
                return vt_diag_set(d, VT_E_CHAIN,
                                   "sim: evidence is rooted in AMD, send it as tee snp");
        if (memcmp(res.report.report_data, expected, 64) != 0) {
                char h[VT_FINGERPRINT_LEN], w2[VT_FINGERPRINT_LEN];
                return vt_diag_set(d, VT_E_BINDING,
                                   "%s: report_data does not bind this session's nonce and "
                                   "tee-pubkey (fingerprints: report_data %s, expected %s)",
                                   tee, vt_fingerprint(res.report.report_data, 64, h),
                                   vt_fingerprint(expected, 64, w2));
        }
        if (init && !json_is_null(init) &&
            (e = check_init_data(init, res.report.host_data, 32, &out->init_hex, &out->init_claims,
                                 d)) < 0)
                return e;
        _cleanup_free_ char *claims = NULL;
        if ((e = vt_snp_claims_json(&res.report, &claims)) < 0)
                return e;
        out->tee_claims = json_loads(claims, 0, NULL);
        if (!out->tee_claims)
                return VT_E_NOMEM;
        out->simulated = !res.root_builtin;
        json_object_set_new(out->tee_claims, "simulated", json_boolean(out->simulated));
        vtd_appraise(s, tee, &res.report, &out->tv, &out->appraisal);
        return 0;
}

/* tee "tdx" / "sgx": {"quote": "<standard base64 DCAP quote>", "cc_eventlog": ...}. The report
 * data is the quote's 64-byte field; init-data goes in MRCONFIGID (48 bytes). */
static int verify_dcap_evidence(struct vtd *s, const char *tee, const json_t *primary,
                                const uint8_t expected[64], const json_t *init,
                                struct verified *out, struct vt_diag *d)
{
        const char *b64 = json_string_value(json_object_get(primary, "quote"));
        _cleanup_free_ uint8_t *quote = NULL;
        size_t ql = 0;
        struct vt_dcap_quote *q = NULL;
        struct vt_dcap_result res;
        int e;
        if (!b64 || vt_b64_decode(b64, strlen(b64), VT_B64_STD, 1u << 20, &quote, &ql) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: evidence must be {\"quote\": standard base64}", tee);
        /* every status is verified here; which ones are acceptable is appraisal */
        struct vt_dcap_policy_opts all = {.accepted_statuses = (1u << _VT_TCB_STATUS_MAX) - 1};
        if ((e = vt_dcap_verify(s->dcap, quote, ql, NULL, vtd_now(), &all, &q, &res, d)) < 0)
                return e;
        bool tdx = strcmp(tee, "tdx") == 0;
        if ((q->body_type == VT_DCAP_BODY_SGX) == tdx) {
                vt_dcap_quote_free(q);
                return vt_diag_set(d, VT_E_FORMAT, "%s: the quote is %s", tee, tdx ? "SGX" : "TDX");
        }
        const uint8_t *rd = tdx ? q->td.report_data : q->sgx.report_data;
        if (memcmp(rd, expected, 64) != 0) {
                vt_dcap_quote_free(q);
                return vt_diag_set(
                        d, VT_E_BINDING,
                        "%s: report_data does not bind this session's nonce and tee-pubkey", tee);
        }
        if (tdx && init && !json_is_null(init) &&
            (e = check_init_data(init, q->td.mr_config_id, 48, &out->init_hex, &out->init_claims,
                                 d)) < 0) {
                vt_dcap_quote_free(q);
                return e;
        }
        _cleanup_free_ char *claims = NULL;
        if ((e = vt_dcap_claims_json(q, &res, &claims)) < 0) {
                vt_dcap_quote_free(q);
                return e;
        }
        out->tee_claims = json_loads(claims, 0, NULL);
        vtd_appraise_dcap(s, tee, q, &res, &out->tv, &out->appraisal);
        vt_dcap_quote_free(q);
        return out->tee_claims ? 0 : VT_E_NOMEM;
}

/* tees az-snp-vtpm, az-tdx-vtpm (and their old spellings) and tpm: a TPM quote whose extraData
 * is this session's 48-byte binding digest (Trustee compares it exactly; tpm zero-pads it to 64
 * bytes). init-data is bound through PCR8 = SHA-256(0^32 || SHA-256(init-data)). */
static int verify_az_evidence(struct vtd *s, const char *tee, const json_t *primary,
                              const uint8_t digest[48], const json_t *init, struct verified *out,
                              struct vt_diag *d)
{
        enum vt_az_tee t;
        uint8_t init_dg[32];
        struct vt_az_result res;
        int e;
        if (vt_az_tee_from_name(tee, &t) < 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED, "tee %s is not supported", tee);
        if (init && !json_is_null(init)) {
                /* the vTPM extends PCR8 with a SHA-256 digest: only sha256 init-data binds */
                json_t *bj = json_object_get(init, "body");
                json_auto_t *toml = NULL;
                if (!json_is_string(bj) || json_string_length(bj) > MAX_INIT_DATA_BYTES)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "init-data: body must be a string of at most %u bytes",
                                           MAX_INIT_DATA_BYTES);
                if ((e = vt_toml_parse(json_string_value(bj), json_string_length(bj), &toml, d)) <
                    0)
                        return e;
                const char *alg = json_string_value(json_object_get(toml, "algorithm"));
                if (!alg || strcmp(alg, "sha256") != 0)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "init-data: %s binds init-data through PCR8, which "
                                           "needs algorithm sha256",
                                           tee);
                if (!EVP_Digest(json_string_value(bj), json_string_length(bj), init_dg, NULL,
                                EVP_sha256(), NULL))
                        return VT_E_CRYPTO;
                /* the format checks and the claims; the digest is compared with itself */
                if ((e = check_init_data(init, init_dg, sizeof(init_dg), &out->init_hex,
                                         &out->init_claims, d)) < 0)
                        return e;
        }
        _cleanup_free_ char *txt = json_dumps(primary, JSON_COMPACT);
        if (!txt)
                return VT_E_NOMEM;
        /* every TCB status is verified here; which ones are acceptable is appraisal */
        struct vt_dcap_policy_opts all = {.accepted_statuses = (1u << _VT_TCB_STATUS_MAX) - 1};
        struct vt_az_verify_opts o = {
                .report_data = digest,
                .report_data_len = 48,
                .init_data_digest = init && !json_is_null(init) ? init_dg : NULL,
                .at = vtd_now(),
                .snp = s->snp_hw,
                .dcap = s->dcap,
                .dcap_opts = &all,
                .aks = s->cfg.tpm_aks,
        };
        if ((e = vt_az_verify(t, txt, strlen(txt), &o, &res, d)) < 0) {
                vt_az_result_done(&res);
                return e;
        }
        _cleanup_free_ char *claims = NULL;
        if ((e = vt_az_claims_json(&res, &claims)) < 0) {
                vt_az_result_done(&res);
                return e;
        }
        out->tee_claims = json_loads(claims, 0, NULL);
        if (t == VT_AZ_TEE_SNP_VTPM) {
                vtd_appraise(s, vt_az_tee_name(t), &res.snp.report, &out->tv, &out->appraisal);
        } else if (t == VT_AZ_TEE_TDX_VTPM) {
                vtd_appraise_dcap(s, vt_az_tee_name(t), res.td, &res.dcap, &out->tv,
                                  &out->appraisal);
        } else {
                /* a trusted AK says which TPM; nothing here says what runs on it */
                out->tv = (struct vt_ar4si){.instance_identity = VT_AR4SI_AFFIRMING,
                                            .hardware = VT_AR4SI_AFFIRMING,
                                            .executables = VT_AR4SI_UNRECOGNIZED_RUNTIME,
                                            .configuration = VT_AR4SI_UNSUPPORTABLE_CONFIG};
                vt_diag_set(&out->appraisal, VT_E_POLICY, "tpm: no reference values for the PCRs");
        }
        vt_az_result_done(&res);
        return out->tee_claims ? 0 : VT_E_NOMEM;
}

/* tee "sample": unsigned; only the binding is checked. Never better than "warning". */
static int verify_sample(const json_t *primary, const uint8_t expected[48], struct verified *out,
                         struct vt_diag *d)
{
        const char *rd = json_string_value(json_object_get(primary, "report_data"));
        _cleanup_free_ uint8_t *b = NULL;
        size_t bl = 0;
        if (!rd || vt_b64_decode(rd, strlen(rd), VT_B64_STD, 64, &b, &bl) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "sample: report_data must be standard base64");
        if (bl != 48 || memcmp(b, expected, 48) != 0)
                return vt_diag_set(
                        d, VT_E_BINDING,
                        "sample: report_data does not bind this session's nonce and tee-pubkey");
        out->tee_claims = json_pack("{s:O?, s:s, s:b}", "svn", json_object_get(primary, "svn"),
                                    "launch_digest", "abcde", "debug", 0);
        out->tv = (struct vt_ar4si){.instance_identity = VT_AR4SI_AFFIRMING,
                                    .hardware = VT_AR4SI_UNRECOGNIZED_HARDWARE,
                                    .executables = VT_AR4SI_UNRECOGNIZED_RUNTIME,
                                    .configuration = VT_AR4SI_UNSUPPORTABLE_CONFIG};
        vt_diag_set(&out->appraisal, VT_E_POLICY, "sample: unsigned evidence from no hardware");
        return out->tee_claims ? 0 : VT_E_NOMEM;
}

void vtd_kbs_attest(struct vtd *s, struct vtd_request *req, const char *cookie,
                    struct vtd_response *res)
{
        struct vt_session sess;
        struct vt_diag d = {0};
        struct verified ver = {0};
        int64_t now = vtd_now();
        int e;

        if (!cookie || strlen(cookie) != 32) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: no kbs-session-id "
                            "cookie");
                return;
        }
        e = vt_store_session_get(s->store, cookie, now, &sess);
        if (e == 0 || e == VT_E_EXPIRED)
                copy_str(req->tee, sizeof(req->tee), sess.tee);
        if (e == VT_E_NOTFOUND || e == VT_E_EXPIRED) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: session %s",
                            e == VT_E_EXPIRED ? "expired" : "not found");
                return;
        }
        if (e < 0) {
                vtd_problem(res, req, 503, "StoreError", "the session store is unavailable");
                return;
        }
        json_auto_t *body = parse_body(req, res);
        if (!body)
                return;
        json_t *rt = json_object_get(body, "runtime-data");
        json_t *te = json_object_get(body, "tee-evidence");
        json_t *init = json_object_get(body, "init-data");
        const char *nonce = json_string_value(json_object_get(rt, "nonce"));
        json_t *jwk = json_object_get(rt, "tee-pubkey");
        json_t *primary = json_object_get(te, "primary_evidence");
        json_t *addj = json_object_get(te, "additional_evidence");
        const char *additional = addj ? json_string_value(addj) : "";
        if (!json_is_object(rt) || !nonce || !jwk || !json_is_object(te) || !primary ||
            !additional) {
                vtd_problem(res, req, 400, "SerdeError",
                            "Serialize/Deserialize failed: attestation needs "
                            "runtime-data{nonce,tee-pubkey} and "
                            "tee-evidence{primary_evidence,additional_evidence}");
                return;
        }
        _cleanup_free_ char *ev_txt = json_dumps(te, JSON_COMPACT);
        if (!ev_txt || strlen(ev_txt) > s->cfg.max_evidence) {
                vtd_problem(res, req, 413, "PayloadTooLarge", "tee-evidence larger than %zu bytes",
                            s->cfg.max_evidence);
                return;
        }
        if (vt_jwk_to_pkey(jwk, NULL, &d) < 0) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: tee-pubkey: %s",
                            d.msg);
                return;
        }
        /* the nonce is single-use: claim it before doing any verification work */
        e = vt_store_session_claim(s->store, sess.id, nonce, now);
        if (e < 0) {
                const char *why = e == VT_E_BINDING ? "nonce does not match the session's challenge"
                                  : e == VT_E_REPLAY   ? "nonce already used"
                                  : e == VT_E_EXPIRED  ? "session expired"
                                  : e == VT_E_NOTFOUND ? "session not found"
                                                       : "session store unavailable";
                vtd_problem(res, req, e == VT_E_STORE ? 503 : 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: %s", why);
                return;
        }
        uint8_t digest[48], expected[64] = {0};
        if (vt_kbs_runtime_binding(nonce, jwk, additional, digest) < 0) {
                vtd_problem(res, req, 500, "InternalError",
                            "cannot compute the runtime-data binding");
                return;
        }
        memcpy(expected, digest, 48);
        /* at most limits.threads verifications at once (CPU, and KDS/PCCS fetches, which
         * are bounded below that); the others wait their turn on their own connection */
        while (sem_wait(&s->verify) < 0)
                ;
        if (strcmp(sess.tee, "sample") == 0)
                e = verify_sample(primary, digest, &ver, &d);
        else if (strcmp(sess.tee, "snp") == 0 || strcmp(sess.tee, "sim") == 0)
                e = verify_snp_like(s, sess.tee, req->client, primary, expected, init, &ver, &d);
        else if (strcmp(sess.tee, "tdx") == 0 || strcmp(sess.tee, "sgx") == 0)
                e = verify_dcap_evidence(s, sess.tee, primary, expected, init, &ver, &d);
        else if (vt_az_tee_from_name(sess.tee, &(enum vt_az_tee){0}) == 0)
                e = verify_az_evidence(s, sess.tee, primary, digest, init, &ver, &d);
        else
                e = vt_diag_set(&d, VT_E_UNSUPPORTED, "tee %s is not supported", sess.tee);
        sem_post(&s->verify);
        if (e < 0) {
                vtd_count_verification(s, sess.tee, "rejected");
                copy_str(req->verdict, sizeof(req->verdict), "rejected");
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: %s",
                            d.msg[0] ? d.msg : vt_strerror(e));
                verified_done(&ver);
                return;
        }
        enum vt_ear_status st = vt_ear_status_of(&ver.tv);
        vtd_count_verification(s, sess.tee, vt_ear_status_name(st));
        copy_str(req->verdict, sizeof(req->verdict), vt_ear_status_name(st));
        if (st == VT_EAR_NONE || st > s->cfg.min_status) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: appraisal %s: %s",
                            vt_ear_status_name(st),
                            ver.appraisal.msg[0] ? ver.appraisal.msg : "not affirming");
                verified_done(&ver);
                return;
        }
        json_auto_t *rtc = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", jwk);
        if (rtc && additional[0])
                json_object_set_new(rtc, "additional-evidence", json_string(additional));
        struct vt_ear_input in = {
                .issuer = s->cfg.token_issuer,
                .iat = now,
                .ttl = s->cfg.token_ttl,
                .policy_id = "default",
                .tee = sess.tee,
                .tee_claims = ver.tee_claims,
                .report_data = expected,
                .report_data_len = (strcmp(sess.tee, "snp") == 0 || strcmp(sess.tee, "sim") == 0 ||
                                    strcmp(sess.tee, "tdx") == 0 || strcmp(sess.tee, "sgx") == 0)
                                           ? 64 /* padded into the hardware report's field */
                                           : 48,
                .runtime_data = rtc,
                .init_data_hex = ver.init_hex,
                .init_data_claims = ver.init_claims,
                .tv = &ver.tv,
                .simulated = ver.simulated,
        };
        json_auto_t *claims = vt_ear_claims(&in);
        _cleanup_free_ char *token = NULL;
        if (!claims || vt_jwt_sign(s->signer, claims, &token) < 0) {
                vtd_problem(res, req, 500, "InternalError", "cannot sign the attestation token");
                verified_done(&ver);
                return;
        }
        /* the session now holds the token's claims (for resources fetched with the cookie):
         * it lives session.ttl_seconds, and never past the token's exp */
        int64_t expires = now + (s->cfg.token_ttl < s->cfg.session_ttl ? s->cfg.token_ttl
                                                                       : s->cfg.session_ttl);
        _cleanup_free_ char *claims_txt = json_dumps(claims, JSON_COMPACT);
        if (claims_txt)
                (void)vt_store_session_set_attested(s->store, sess.id, claims_txt, expires);
        else
                (void)vt_store_session_set_state(s->store, sess.id, VT_SESSION_ATTESTED);
        char date[64];
        http_date(claims_txt ? expires : sess.expires, date, sizeof(date));
        if (asprintf(&res->set_cookie, "kbs-session-id=%s; Expires=%s; Path=/kbs/v0; HttpOnly%s",
                     sess.id, date, s->cfg.tls_certificate ? "; Secure" : "") < 0)
                res->set_cookie = NULL;
        if (ver.simulated)
                snprintf(req->reason, sizeof(req->reason),
                         "simulated evidence (veritee simulator root)");
        vtd_json_response(res, 200, json_pack("{s:s}", "token", token));
        verified_done(&ver);
}
