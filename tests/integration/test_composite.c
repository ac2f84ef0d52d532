/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Composite attestation end to end (issue 15) with TEST-MADE device evidence: the real
 * veriteed with the simulator (SNP-shaped CPU evidence) and attestation.nvidia on, trusting a
 * TEST-MADE NVIDIA-shaped device chain (attestation.nvidia_test_root; tests/helpers/nvchain.h).
 * The GPU report is a recorded Hopper report re-signed by the test leaf with the device nonce
 * of the session; no NVIDIA key signed anything here. The guest binds the CPU report data to
 * {nonce, tee-pubkey, additional-evidence}; the token gets submods cpu0 and gpu0; a release
 * policy on /submods/gpu0 releases only after an attestation with the GPU.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "crypto/seal.h"
#include "kbs/rcar.h"
#include "nvchain.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "util/json.h"
#include "vtdtest.h"

static struct vt_sim_guest guest;
static struct server S, OFF; /* OFF: the same without attestation.nvidia */
static struct nvchain CH;    /* TEST-MADE chain the server trusts (nvidia_test_root) */
static struct nvchain OTHER; /* TEST-MADE chain nobody trusts */
static char cfg_text[4096], tok_admin[600], measurement[97];
static const char secret_text[] = "composite test secret 5d1e";
static bool have_vectors;

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static int setup(void **state)
{
        char p[512], key[512], pub[512];
        struct vt_diag d = {0};
        (void)state;
        have_vectors = vt_testdata("nvidia/gpu/hopper_550.90.07/report.hex") != NULL;
        if (vtt_setup_sim("composite", &guest) < 0)
                return -1;
        vt_hex_encode(guest.measurement, 48, measurement);
        path_in(p, sizeof(p), "kek");
        if (vt_kek_generate(p, &d) < 0)
                return -1;
        path_in(key, sizeof(key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        if (vt_admin_keygen(key, pub, &d) < 0)
                return -1;
        char *jwt = NULL;
        if (vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "test", &jwt, &d) < 0)
                return -1;
        path_in(tok_admin, sizeof(tok_admin), "admin.jwt");
        write_text(tok_admin, jwt);
        free(jwt);
        char rv[512];
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        /* the TEST-MADE device chains (the leaf's FWID is set from the report later) */
        static const uint8_t fw0[48] = {0};
        nvchain_make(&CH, (int64_t)time(NULL), fw0);
        nvchain_make(&OTHER, (int64_t)time(NULL), fw0);
        char *root = nvchain_root_pem(&CH, NULL);
        path_in(p, sizeof(p), "nvidia-test-root.pem");
        write_text(p, root);
        free(root);
        /* OCSP off and no RIMs: nothing here can reach NVIDIA, and the test chain has no
         * responder; the claims say what was not checked */
        snprintf(cfg_text, sizeof(cfg_text),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "  nvidia: true\n  nvidia_test_root: %s/nvidia-test-root.pem\n"
                 "  nvidia_ocsp: false\n  nvidia_rim_url: \"\"\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s]\nledger:\n  public: true\n",
                 vtt_dir, vtt_dir, vtt_simdir, vtt_dir, vtt_dir, pub);
        server_start(&S, "composite", cfg_text);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        nvchain_free(&CH);
        nvchain_free(&OTHER);
        if (getenv("VT_KEEP_TMP"))
                return 0;
        if (vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

/* The additional evidence of one TEST-MADE Hopper device: the recorded report re-signed by
 * chain c with the 32-byte request nonce (a JSON text, malloc'd). */
static char *gpu_evidence(struct nvchain *c, const uint8_t nonce[32])
{
        struct vt_nv_report *rep = nvchain_hopper(c, nonce);
        size_t pl;
        char *pem = nvchain_pem(c, &pl);
        char *rep64 = NULL, *pem64 = NULL;
        assert_int_equal(vt_b64_encode(rep->bytes, rep->len, VT_B64_STD, &rep64), 0);
        assert_int_equal(vt_b64_encode((const uint8_t *)pem, pl, VT_B64_STD, &pem64), 0);
        json_auto_t *j =
                json_pack("{s:{s:[{s:s, s:s, s:s, s:s}]}}", "nvidia", "device_evidence_list",
                          "arch", "HOPPER", "uuid", "GPU-00000000-test-made-0000-000000000000",
                          "evidence", rep64, "certificate", pem64);
        char *out = json_dumps(j, JSON_COMPACT);
        assert_non_null(out);
        free(rep64);
        free(pem64);
        free(pem);
        vt_nv_report_free(rep);
        return out;
}

/* The device nonce of a session: the first 32 bytes of SHA-384(JCS({nonce, tee-pubkey})). */
static void device_nonce(const char *nonce, json_t *jwk, uint8_t out[32])
{
        uint8_t dg[48];
        assert_int_equal(vt_kbs_device_binding(nonce, jwk, dg), 0);
        memcpy(out, dg, 32);
}

/* auth + attest with the given additional evidence maker; returns the answer. */
struct attempt {
        struct http h;
        char cookie[128];
};

enum gpu_case { GPU_GOOD, GPU_CPU_BINDING, GPU_OTHER_SESSION, GPU_UNTRUSTED, GPU_UNKNOWN_TYPE };

static struct attempt attest_with_gpu_at(const struct server *srv, json_t *jwk, enum gpu_case k)
{
        struct attempt a = {0};
        char *nonce = auth(srv, "sim", a.cookie);
        uint8_t dn[32];
        char *add = NULL;
        switch (k) {
        case GPU_GOOD:
        case GPU_UNTRUSTED:
                device_nonce(nonce, jwk, dn);
                add = gpu_evidence(k == GPU_GOOD ? &CH : &OTHER, dn);
                break;
        case GPU_CPU_BINDING: { /* bound like the CPU (with "additional-evidence": "") */
                uint8_t rd[48];
                assert_int_equal(vt_kbs_runtime_binding(nonce, jwk, "", rd), 0);
                add = gpu_evidence(&CH, rd);
                break;
        }
        case GPU_OTHER_SESSION: { /* a report made for another session's nonce */
                char c2[128];
                char *n2 = auth(srv, "sim", c2);
                device_nonce(n2, jwk, dn);
                free(n2);
                add = gpu_evidence(&CH, dn);
                break;
        }
        case GPU_UNKNOWN_TYPE:
                add = strdup("{\"dpu\":{\"evidence\":\"\"}}");
                break;
        }
        char *body = attest_body_additional(nonce, &guest, jwk, jwk, add);
        a.h = post(srv, "/kbs/v0/attest", body, a.cookie);
        if (a.h.cookie[0])
                memcpy(a.cookie, a.h.cookie, sizeof(a.cookie));
        free(body);
        free(add);
        free(nonce);
        return a;
}

static struct attempt attest_with_gpu(json_t *jwk, enum gpu_case k)
{
        return attest_with_gpu_at(&S, jwk, k);
}

/* token_payload returns the decoded payload of a compact token (malloc'd, *ret_n bytes). */
static uint8_t *token_payload(const char *token, size_t *ret_n)
{
        const char *p = strchr(token, '.'), *q = p ? strchr(p + 1, '.') : NULL;
        assert_non_null(q);
        uint8_t *raw = NULL;
        assert_int_equal(
                vt_b64_decode(p + 1, (size_t)(q - p - 1), VT_B64_URL, 1u << 20, &raw, ret_n), 0);
        return raw;
}

static json_t *token_claims(const char *token)
{
        size_t n = 0;
        uint8_t *raw = token_payload(token, &n);
        json_t *c = json_loadb((const char *)raw, n, 0, NULL);
        assert_non_null(c);
        free(raw);
        return c;
}

/* The token's payload is the claims' one canonical text: JCS of itself, byte for byte, and
 * the attestation entry's claims_digest is the SHA-256 of exactly those bytes. */
static void payload_is_claims_text(const char *token, const json_t *entry)
{
        size_t n = 0;
        uint8_t *raw = token_payload(token, &n);
        json_t *c = json_loadb((const char *)raw, n, 0, NULL);
        assert_non_null(c);
        char *jcs = NULL;
        size_t jl = 0;
        assert_int_equal(vt_jcs_serialize(c, &jcs, &jl), 0);
        if (jl != n || memcmp(jcs, raw, n) != 0)
                fail_msg("the token's payload is not in JCS form (%zu bytes, JCS %zu)", n, jl);
        uint8_t h[32];
        char want[7 + 65] = "sha256:";
        assert_int_equal(EVP_Digest(raw, n, h, NULL, EVP_sha256(), NULL), 1);
        vt_hex_encode(h, sizeof(h), want + 7);
        const char *got = json_string_value(json_object_get(entry, "claims_digest"));
        assert_non_null(got);
        assert_string_equal(got, want);
        free(jcs);
        json_decref(c);
        free(raw);
}

static void put_secret(const char *name, const char *policy)
{
        char sec[512], pol[512];
        path_in(sec, sizeof(sec), "secret.txt");
        path_in(pol, sizeof(pol), "policy.json");
        write_text(sec, secret_text);
        write_text(pol, policy);
        char *tok = slurp(tok_admin);
        assert_int_equal(vt_test_sh("'%s' secret put %s '%s' --policy '%s' --server %s "
                                    "--token '%s' >/dev/null",
                                    bin("veritee"), name, sec, pol, S.url, tok_admin),
                         0);
        free(tok);
}

/* The policy needs the CPU affirming (simulated, this test's simulator) and a verified GPU
 * submodule. With the TEST-MADE root the GPU is honestly "contraindicated": its hardware claim
 * is 97 (unrecognized hardware: the chain ends at a root that is not NVIDIA's), so the policy
 * accepts that status only together with the claim saying the root is the test root. A real
 * deployment requires "/submods/gpu0/ear.status" equals "affirming" (docs/nvidia.md). */
static const char *policy_gpu =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
        "{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true},"
        "{\"claim\":\"/submods/gpu0/ear.status\",\"in\":[\"affirming\",\"contraindicated\"]},"
        "{\"claim\":\"/submods/gpu0/ear.veraison.annotated-evidence/nvidia/"
        "x-nvidia-gpu-attestation-report-cert-chain-root\",\"equals\":\"extra (not NVIDIA)\"}]}";

static void test_composite_gpu_release(void **state)
{
        (void)state;
        if (!have_vectors)
                vtt_skip("../shared/testdata not found");
        assert_true(log_has(&S, "NVIDIA TEST ROOT TRUSTED"));
        put_secret("default/key/gpu", policy_gpu);
        json_auto_t *jwk = new_jwk();
        struct attempt a = attest_with_gpu(jwk, GPU_GOOD);
        if (a.h.status != 200)
                fail_msg("attest with the TEST-MADE GPU: %ld %s", a.h.status, a.h.body);
        json_auto_t *j = json_loads(a.h.body, 0, NULL);
        const char *tok = json_string_value(json_object_get(j, "token"));
        assert_non_null(tok);
        /* the additional evidence rides in cpu0's runtime_data_claims: a large token */
        print_message("token with one GPU: %zu bytes (attest body answer %zu bytes)\n", strlen(tok),
                      a.h.len);
        json_auto_t *c = token_claims(tok);
        json_t *sub = json_object_get(c, "submods");
        assert_int_equal(json_object_size(sub), 2);
        json_t *cpu0 = json_object_get(sub, "cpu0"), *gpu0 = json_object_get(sub, "gpu0");
        assert_non_null(cpu0);
        assert_non_null(gpu0);
        assert_string_equal(json_string_value(json_object_get(cpu0, "ear.status")), "affirming");
        /* the test root: hardware 97 (unrecognized), so contraindicated, and said so */
        assert_string_equal(json_string_value(json_object_get(gpu0, "ear.status")),
                            "contraindicated");
        json_t *tv = json_object_get(gpu0, "ear.trustworthiness-vector");
        assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), 97);
        json_t *nv =
                json_object_get(json_object_get(gpu0, "ear.veraison.annotated-evidence"), "nvidia");
        assert_non_null(nv);
        assert_string_equal(json_string_value(json_object_get(
                                    nv, "x-nvidia-gpu-attestation-report-cert-chain-root")),
                            "extra (not NVIDIA)");
        /* the runtime data the CPU bound carries the device evidence */
        const char *ae = json_string_value(
                json_object_get(json_object_get(json_object_get(cpu0, "ear.veraison.annotated-"
                                                                      "evidence"),
                                                "runtime_data_claims"),
                                "additional-evidence"));
        assert_non_null(ae);
        assert_non_null(strstr(ae, "device_evidence_list"));
        /* the ledger's attest entry names the device and its status */
        json_auto_t *entries = ledger_audit(&S, NULL, NULL);
        const json_t *e = ledger_find(entries, "attest", a.h.request_id);
        assert_non_null(e);
        payload_is_claims_text(tok, e);
        char *et = json_dumps(e, JSON_COMPACT);
        if (!strstr(et, "\"devices\":[{\"name\":\"gpu0\",\"status\":\"contraindicated\"}]"))
                fail_msg("ledger attest entry lacks the device: %s", et);
        free(et);
        /* the session's cookie fetches the secret under the GPU policy */
        struct http r = request(&S, "/kbs/v0/resource/default/key/gpu", NULL, 0, a.cookie);
        if (r.status != 200)
                fail_msg("release with the GPU: %ld %s", r.status, r.body ? r.body : "");
        free(r.body);
        /* and the token itself as a bearer token (about 30 KB with one GPU: below the
         * server's 128 KiB per-connection limit; eight GPUs would not be) */
        char *authz = NULL;
        assert_true(asprintf(&authz, "Bearer %s", tok) > 0);
        struct http rb =
                request_full(&S, "GET", "/kbs/v0/resource/default/key/gpu", NULL, 0, NULL, authz);
        if (rb.status != 200)
                fail_msg("bearer release with the GPU: %ld %s", rb.status, rb.body ? rb.body : "");
        /* both releases give the attestation's claims_digest: with the cookie from the
         * session's claims, with the Bearer token from the digest its issue recorded */
        json_auto_t *after = ledger_audit(&S, NULL, NULL);
        const char *want = json_string_value(
                json_object_get(ledger_find(after, "attest", a.h.request_id), "claims_digest"));
        assert_non_null(want);
        const char *rids[] = {r.request_id, rb.request_id};
        for (size_t i = 0; i < 2; i++) {
                const json_t *rel = ledger_find(after, "release", rids[i]);
                if (!rel)
                        fail_msg("no release entry for request %s", rids[i]);
                assert_string_equal(json_string_value(json_object_get(rel, "claims_digest")), want);
        }
        free(rb.body);
        free(authz);
        free(a.h.body);
}

/* The same policy refuses a token from an attestation without the GPU. */
static void test_composite_no_gpu_refused(void **state)
{
        (void)state;
        put_secret("default/key/gpu2", policy_gpu);
        json_auto_t *jwk = new_jwk();
        char *token = attest_token(&S, &guest, jwk);
        json_auto_t *c = token_claims(token);
        assert_int_equal(json_object_size(json_object_get(c, "submods")), 1);
        char authz[16384];
        snprintf(authz, sizeof(authz), "Bearer %s", token);
        struct http r =
                request_full(&S, "GET", "/kbs/v0/resource/default/key/gpu2", NULL, 0, NULL, authz);
        if (r.status == 200)
                fail_msg("released without a GPU");
        assert_true(r.status == 401 || r.status == 403);
        free(r.body);
        free(token);
}

static void expect_refused(enum gpu_case k, const char *needle)
{
        json_auto_t *jwk = new_jwk();
        struct attempt a = attest_with_gpu(jwk, k);
        if (a.h.status != 401)
                fail_msg("want 401, got %ld: %s", a.h.status, a.h.body ? a.h.body : "");
        if (!strstr(a.h.body ? a.h.body : "", needle))
                fail_msg("answer \"%s\" does not say \"%s\"", a.h.body, needle);
        free(a.h.body);
}

/* TEST-MADE reports with the wrong nonce, from an untrusted chain, an unknown device type. */
static void test_composite_refusals(void **state)
{
        (void)state;
        if (!have_vectors)
                vtt_skip("../shared/testdata not found");
        /* bound like the CPU report (with additional-evidence) instead of {nonce, tee-pubkey} */
        expect_refused(GPU_CPU_BINDING, "device nonce");
        /* re-signed for another session */
        expect_refused(GPU_OTHER_SESSION, "device nonce");
        /* signed by a TEST-MADE chain the server does not trust */
        expect_refused(GPU_UNTRUSTED, "nvidia device 0 (HOPPER");
        /* a device type nobody verifies is refused, not ignored */
        expect_refused(GPU_UNKNOWN_TYPE, "device type \\\"dpu\\\" is not supported");
}

/* A server without attestation.nvidia refuses device evidence, naming the setting, and
 * still attests the same guest without it. */
static void test_composite_nvidia_off(void **state)
{
        (void)state;
        if (!have_vectors)
                vtt_skip("../shared/testdata not found");
        char cfg[2048];
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state-off\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n",
                 vtt_dir, vtt_dir, vtt_simdir);
        server_start(&OFF, "composite-off", cfg);
        json_auto_t *jwk = new_jwk();
        struct attempt a = attest_with_gpu_at(&OFF, jwk, GPU_GOOD);
        assert_int_equal(a.h.status, 401);
        if (!strstr(a.h.body, "attestation.nvidia is false"))
                fail_msg("%s", a.h.body);
        free(a.h.body);
        char *token = attest_token(&OFF, &guest, jwk);
        free(token);
        server_stop(&OFF);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_composite_gpu_release),
                cmocka_unit_test(test_composite_no_gpu_refused),
                cmocka_unit_test(test_composite_refusals),
                cmocka_unit_test(test_composite_nvidia_off),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
