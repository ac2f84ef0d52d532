/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA GPU and NVSwitch verification on reports recorded on real hardware
 * (../shared/testdata/nvidia, expected verdicts and nonces from its PROVENANCE.md).
 * OCSP is off here (no real OCSP response exists; tests/unit/test_nvidia_ocsp.c covers it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "httpd.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/hex.h"
#include "verify/nvidia_internal.h"
#include "verify/nvidia_rim.h"
#include "veritee/nvidia.h"

static struct vt_nv_verifier *V;

#define NONCE_931D "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
#define NONCE_COCO "87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fec"
#define RD_COCO48  NONCE_COCO "e279b616efefc2aae21da80cf5581250"
#define NONCE_535  "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66"
#define NONCE_580  "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca"
#define NONCE_590  "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"
#define NONCE_HGX  "4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e"
#define NONCE_SWB  "ea038ed5"

static int setup(void **state)
{
        (void)state;
        if (vt_nv_verifier_new(&V) < 0)
                return -1;
        return vt_nv_verifier_set_ocsp(V, VT_NV_OCSP_OFF, NULL, 0);
}

static int teardown(void **state)
{
        (void)state;
        vt_nv_verifier_free(V);
        return 0;
}

static int64_t T(const char *s)
{
        int64_t t = 0;
        assert_int_equal(vt_time_parse_rfc3339(s, &t), 0);
        return t;
}

static void nonce_of(const char *hex, uint8_t out[32])
{
        uint8_t b[64] = {0};
        assert_true(vt_hex_decode(hex, b, sizeof(b)) >= 32);
        memcpy(out, b, 32); /* longer report data is cut to 32 bytes (Trustee) */
}

/* Verifies report bytes with chain bytes and the nonce at 2026-01-01. */
static int verify_bytes(const uint8_t *rb, size_t rl, const uint8_t *cb, size_t cl,
                        const char *nonce_hex, struct vt_nv_result *res, struct vt_diag *d)
{
        uint8_t n[32];
        nonce_of(nonce_hex, n);
        struct vt_nv_verify_opts o = {.nonce = n, .at = T("2026-01-01T00:00:00Z")};
        struct vt_nv_result r = {0};
        vt_diag_clear(d);
        int e = vt_nv_verify(V, rb, rl, cb, cl, &o, res ? res : &r, d);
        if (!res)
                vt_nv_result_done(&r);
        return e;
}

static int verify_files(const char *report, const char *chain, const char *nonce_hex,
                        struct vt_nv_result *res, struct vt_diag *d)
{
        size_t rl, cl;
        uint8_t *rb = vt_test_load_vector(report, &rl);
        uint8_t *cb = vt_test_load_vector(chain, &cl);
        int e = verify_bytes(rb, rl, cb, cl, nonce_hex, res, d);
        free(rb);
        free(cb);
        return e;
}

static json_t *claims_of(const struct vt_nv_result *res)
{
        json_t *j = json_loads(res->claims, 0, NULL);
        assert_non_null(j);
        return j;
}

static const struct valid {
        const char *dir, *nonce, *arch, *driver, *vbios;
        bool fwid, trailing_zero;
} valid[] = {
        {"gpu/hopper_550.90.07", NONCE_931D, "Hopper", "550.90.07", "96.00.9f.00.01", true, false},
        {"gpu/hopper_coco_580.95.05", NONCE_COCO, "Hopper", "580.95.05", "96.00.74.00.1a", true,
         true},
        {"gpu/hopper_535.86.09", NONCE_535, "Hopper", "535.86.09", "96.00.5e.00.01", false, false},
        {"gpu/hopper_580.159.03", NONCE_580, "Hopper", "580.159.03", "96.00.74.00.20", true, false},
        {"gpu/blackwell_575.32", NONCE_931D, "Blackwell", "575.32", "97.00.88.00.0f", true, false},
        {"switch/ls10_96.10.55", NONCE_931D, "LS10", NULL, "96.10.55.00.01", false, false},
};

static void test_valid_reports(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
                const struct valid *t = &valid[i];
                char rp[128], cp[128];
                struct vt_nv_result res = {0};
                struct vt_diag d = {0};
                snprintf(rp, sizeof(rp), "nvidia/%s/report.hex", t->dir);
                snprintf(cp, sizeof(cp), "nvidia/%s/certchain.pem", t->dir);
                int e = verify_files(rp, cp, t->nonce, &res, &d);
                if (e)
                        fail_msg("%s: %s", t->dir, d.msg);
                json_t *c = claims_of(&res);
                assert_string_equal(json_string_value(json_object_get(c, "arch")), t->arch);
                json_t *cfg = json_object_get(c, "config");
                if (t->driver)
                        assert_string_equal(
                                json_string_value(json_object_get(cfg, "driver_version")),
                                t->driver);
                assert_string_equal(json_string_value(json_object_get(cfg, "vbios_version")),
                                    t->vbios);
                assert_int_equal(json_object_size(json_object_get(c, "measurements")),
                                 strcmp(t->arch, "LS10") == 0 ? 31 : 64);
                assert_int_equal(json_object_get(cfg, "fwid") != NULL, t->fwid);
                assert_string_equal(json_string_value(json_object_get(
                                            c, strcmp(t->arch, "LS10") == 0
                                                       ? "x-nvidia-switch-attestation-report-"
                                                         "cert-chain-ocsp-status"
                                                       : "x-nvidia-gpu-attestation-report-cert-"
                                                         "chain-ocsp-status")),
                                    "not-checked");
                assert_false(res.ocsp_checked);
                assert_int_equal(res.ar4si.hardware, VT_AR4SI_WARNING); /* no OCSP */
                assert_int_equal(res.ar4si.executables, VT_AR4SI_UNRECOGNIZED_RUNTIME);
                json_decref(c);
                vt_nv_result_done(&res);
        }
}

/* The Blackwell leaf carries the FWID in DiceTcbInfo fwids[0]; its NVAT ueid is the serial. */
static void test_blackwell_fwid_and_ueid(void **state)
{
        (void)state;
        struct vt_nv_result res = {0};
        struct vt_diag d = {0};
        assert_int_equal(verify_files("nvidia/gpu/blackwell_575.32/report.hex",
                                      "nvidia/gpu/blackwell_575.32/certchain.pem", NONCE_931D, &res,
                                      &d),
                         0);
        json_t *c = claims_of(&res);
        assert_string_equal(json_string_value(json_object_get(c, "ueid")),
                            "474146966256510137525212816567191319424869109849");
        assert_non_null(json_object_get(c, "x-nvidia-gpu-attestation-report-cert-chain-fwid-"
                                           "match"));
        json_decref(c);
        vt_nv_result_done(&res);
}

/* Trustee's local-verifier claims for hopper_550.90.07 are a subset of ours, value by value. */
static void test_trustee_claims(void **state)
{
        (void)state;
        size_t rl, cl, el;
        uint8_t *rb = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/report.hex", &rl);
        uint8_t *cb = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/certchain.pem", &cl);
        uint8_t *eb = vt_test_load_vector(
                "nvidia/gpu/hopper_550.90.07/expected_claims_trustee.json", &el);
        uint8_t n[32];
        nonce_of(NONCE_931D, n);
        struct vt_nv_verify_opts o = {.nonce = n,
                                      .at = T("2026-01-01T00:00:00Z"),
                                      .uuid = "1111-2222-33333-444444-555555"};
        struct vt_nv_result res = {0};
        struct vt_diag d = {0};
        assert_int_equal(vt_nv_verify(V, rb, rl, cb, cl, &o, &res, &d), 0);
        json_t *mine = claims_of(&res), *exp = json_loadb((const char *)eb, el, 0, NULL);
        assert_non_null(exp);
        const char *k;
        json_t *val;
        json_object_foreach (exp, k, val) {
                json_t *m = json_object_get(mine, k);
                if (!m)
                        fail_msg("claim %s missing", k);
                if (json_is_object(val)) {
                        const char *k2;
                        json_t *v2;
                        json_object_foreach (val, k2, v2) {
                                if (!json_equal(v2, json_object_get(m, k2)))
                                        fail_msg("claim %s.%s differs from Trustee's", k, k2);
                        }
                } else if (!json_equal(val, m)) {
                        fail_msg("claim %s differs from Trustee's", k);
                }
        }
        json_decref(mine);
        json_decref(exp);
        vt_nv_result_done(&res);
        free(rb);
        free(cb);
        free(eb);
}

/* Verifies every device of an evidence JSON with nonce; returns how many verified. */
static size_t verify_json(const char *path, const char *nonce_hex, size_t *ret_sw)
{
        size_t len, ok = 0, sw = 0;
        char *txt = (char *)vt_test_load_vector(path, &len);
        struct vt_nv_evidence *ev = NULL;
        struct vt_diag d = {0};
        if (vt_nv_evidence_parse(txt, len, &ev, &d) < 0)
                fail_msg("%s: %s", path, d.msg);
        for (size_t i = 0; i < ev->n; i++) {
                struct vt_nv_result res = {0};
                int e = verify_bytes(ev->dev[i].report, ev->dev[i].report_len, ev->dev[i].chain,
                                     ev->dev[i].chain_len, nonce_hex, &res, &d);
                if (e)
                        fail_msg("%s[%zu]: %s", path, i, d.msg);
                if (ev->dev[i].arch != VT_NV_ARCH_UNKNOWN)
                        assert_int_equal(ev->dev[i].arch, res.arch);
                if (ev->dev[i].has_nonce) {
                        uint8_t n[32];
                        nonce_of(nonce_hex, n);
                        assert_memory_equal(ev->dev[i].nonce, n, 32);
                }
                sw += res.arch == VT_NV_ARCH_LS10;
                ok++;
                vt_nv_result_done(&res);
        }
        vt_nv_evidence_free(ev);
        free(txt);
        if (ret_sw)
                *ret_sw = sw;
        return ok;
}

static void test_json_forms(void **state)
{
        (void)state;
        size_t sw = 0;
        assert_int_equal(
                verify_json("nvidia/gpu/hopper_590.12_json/evidence.json", NONCE_590, NULL), 1);
        assert_int_equal(
                verify_json("nvidia/gpu/hopper_570.86.10_json/evidence.json", NONCE_931D, NULL), 1);
        assert_int_equal(verify_json("nvidia/ppcie_hgx8/gpu_evidence.json", NONCE_HGX, &sw), 8);
        assert_int_equal(sw, 0);
        assert_int_equal(verify_json("nvidia/ppcie_hgx8/switch_evidence.json", NONCE_HGX, &sw), 4);
        assert_int_equal(sw, 4);
        /* KBS additional evidence: the 48-byte report data cut to 32 bytes */
        assert_int_equal(
                verify_json("nvidia/kbs/additional_evidence_hopper_coco.json", RD_COCO48, NULL), 1);
}

/* The KBS form's inner JSON directly, and refusals of malformed evidence JSON. */
static void test_json_refusals(void **state)
{
        (void)state;
        struct vt_nv_evidence *ev = NULL;
        struct vt_diag d = {0};
        static const char *const bad[] = {
                "{}",
                "[]",
                "{\"nvidia\":{\"device_evidence_list\":[{\"arch\":\"HOPPER\"}]}}",
                "[{\"arch\":\"VOLTA\",\"evidence\":\"00\",\"certificate\":\"\"}]",
                "[{\"evidence\":\"!!\",\"certificate\":\"QQ==\"}]",
                "[{\"evidence\":\"EeA=\",\"certificate\":\"QQ==\",\"nonce\":\"00\"}]",
                "[{\"evidence\":\"EeA=\",\"evidence\":\"EeA=\",\"certificate\":\"QQ==\"}]",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vt_diag_clear(&d);
                if (vt_nv_evidence_parse(bad[i], strlen(bad[i]), &ev, &d) == 0)
                        fail_msg("accepted %s", bad[i]);
                assert_true(d.msg[0] != 0);
        }
        const char *ok = "{\"nvidia\":{\"device_evidence_list\":[{\"arch\":\"LS10\",\"uuid\":"
                         "\"u\",\"evidence\":\"11e001ff\",\"certificate\":\"QQ==\"}]}}";
        assert_int_equal(vt_nv_evidence_parse(ok, strlen(ok), &ev, &d), 0);
        assert_int_equal(ev->n, 1);
        assert_int_equal(ev->dev[0].arch, VT_NV_ARCH_LS10);
        assert_int_equal(ev->dev[0].report_len, 4); /* hex evidence (older attesters) */
        assert_string_equal(ev->dev[0].uuid, "u");
        vt_nv_evidence_free(ev);
}

static void expect(int e, int want, const struct vt_diag *d, const char *needle)
{
        if (e != want)
                fail_msg("got %d (%s), want %d", e, d->msg, want);
        if (!strstr(d->msg, needle))
                fail_msg("reason \"%s\" does not say \"%s\"", d->msg, needle);
}

static void test_negatives(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        expect(verify_files("nvidia/negative/hopper_badsig_report.hex",
                            "nvidia/negative/hopper_badsig_certchain.pem", NONCE_931D, NULL, &d),
               VT_E_SIGNATURE, &d, "signature");
        /* the switch's nonce starts ea038ed5; the test checks the signature with it */
        size_t rl, cl;
        uint8_t *rb = vt_test_load_vector("nvidia/negative/switch_badsig_report.hex", &rl);
        uint8_t *cb = vt_test_load_vector("nvidia/switch/ls10_96.10.55/certchain.pem", &cl);
        struct vt_nv_report *rep = NULL;
        assert_int_equal(vt_nv_report_parse(rb, rl, &rep, &d), 0);
        char nh[65];
        vt_hex_encode(rep->nonce, 32, nh);
        assert_memory_equal(nh, NONCE_SWB, 8);
        expect(verify_bytes(rb, rl, cb, cl, nh, NULL, &d), VT_E_SIGNATURE, &d, "signature");
        vt_nv_report_free(rep);
        free(rb);
        free(cb);
        static const struct {
                const char *chain, *needle;
        } chains[] = {
                {"nvidia/negative/chain_root_only.pem", "1 certificate"},
                {"nvidia/negative/chain_missing_intermediate.pem", "error 20"},
                {"nvidia/negative/chain_missing_leaf.pem", "no FWID extension"},
        };
        for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++)
                expect(verify_files("nvidia/gpu/hopper_550.90.07/report.hex", chains[i].chain,
                                    NONCE_931D, NULL, &d),
                       VT_E_CHAIN, &d, chains[i].needle);
        /* a report checked against another device's chain */
        expect(verify_files("nvidia/gpu/hopper_550.90.07/report.hex",
                            "nvidia/gpu/hopper_535.86.09/certchain.pem", NONCE_931D, NULL, &d),
               VT_E_SIGNATURE, &d, "does not verify with the leaf key");
        /* wrong nonces: another vector's, and NVAT's "bad nonce" zeros */
        expect(verify_files("nvidia/gpu/hopper_550.90.07/report.hex",
                            "nvidia/gpu/hopper_550.90.07/certchain.pem", NONCE_535, NULL, &d),
               VT_E_BINDING, &d, "nonce");
        expect(verify_files("nvidia/gpu/hopper_535.86.09/report.hex",
                            "nvidia/gpu/hopper_535.86.09/certchain.pem",
                            "0000000000000000000000000000000000000000000000000000000000000000",
                            NULL, &d),
               VT_E_BINDING, &d, "nonce");
        /* a chain verified before the Blackwell chain's notBefore (2023-06-20) */
        uint8_t n[32];
        nonce_of(NONCE_931D, n);
        uint8_t *r2 = vt_test_load_vector("nvidia/gpu/blackwell_575.32/report.hex", &rl);
        uint8_t *c2 = vt_test_load_vector("nvidia/gpu/blackwell_575.32/certchain.pem", &cl);
        struct vt_nv_verify_opts o = {.nonce = n, .at = T("2023-01-01T00:00:00Z")};
        struct vt_nv_result res = {0};
        vt_diag_clear(&d);
        expect(vt_nv_verify(V, r2, rl, c2, cl, &o, &res, &d), VT_E_CHAIN, &d, "not yet valid");
        free(r2);
        free(c2);
}

/* Loads a report.hex vector as bytes. */
static uint8_t *load_report(const char *path, size_t *len)
{
        size_t hl;
        uint8_t *h = vt_test_load_vector(path, &hl);
        struct vt_nv_report *rep = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_nv_report_parse(h, hl, &rep, &d), 0);
        uint8_t *b = malloc(rep->len + 2);
        assert_non_null(b);
        memcpy(b, rep->bytes, rep->len);
        *len = rep->len;
        vt_nv_report_free(rep);
        free(h);
        return b;
}

/* Every single-byte change of the signed range and of the signature is refused. */
static void test_byte_flips(void **state)
{
        (void)state;
        size_t len, cl;
        uint8_t *b = load_report("nvidia/gpu/hopper_550.90.07/report.hex", &len);
        uint8_t *cb = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/certchain.pem", &cl);
        struct vt_diag d = {0};
        assert_int_equal(verify_bytes(b, len, cb, cl, NONCE_931D, NULL, &d), 0);
        assert_int_equal(len, 4117);
        size_t flips = 0;
        for (size_t i = 0; i < len; i++) {
                b[i] ^= 0x01;
                if (verify_bytes(b, len, cb, cl, NONCE_931D, NULL, &d) == 0)
                        fail_msg("a flip of byte %zu was accepted", i);
                b[i] ^= 0x01;
                flips++;
        }
        assert_int_equal(flips, len);
        assert_int_equal(verify_bytes(b, len, cb, cl, NONCE_931D, NULL, &d), 0);
        free(b);
        free(cb);
}

/* Every truncation is refused; after the signature only a single 0x00 is tolerated. */
static void test_truncations_and_trailing(void **state)
{
        (void)state;
        size_t len, cl, clen, ccl;
        uint8_t *b = load_report("nvidia/gpu/hopper_550.90.07/report.hex", &len);
        uint8_t *cb = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/certchain.pem", &cl);
        struct vt_diag d = {0};
        for (size_t n = 0; n < len; n++)
                if (verify_bytes(b, n, cb, cl, NONCE_931D, NULL, &d) == 0)
                        fail_msg("a truncation to %zu bytes was accepted", n);
        b[len] = 0x00;
        assert_int_equal(verify_bytes(b, len + 1, cb, cl, NONCE_931D, NULL, &d), 0);
        b[len] = 0x01;
        expect(verify_bytes(b, len + 1, cb, cl, NONCE_931D, NULL, &d), VT_E_TRAILING, &d,
               "after the signature");
        b[len] = 0x00;
        b[len + 1] = 0x00;
        expect(verify_bytes(b, len + 2, cb, cl, NONCE_931D, NULL, &d), VT_E_TRAILING, &d,
               "2 bytes after the signature");
        /* the CoCo capture ends with the 0x00: it verifies with and without it */
        uint8_t *c = load_report("nvidia/gpu/hopper_coco_580.95.05/report.hex", &clen);
        uint8_t *cc = vt_test_load_vector("nvidia/gpu/hopper_coco_580.95.05/certchain.pem", &ccl);
        struct vt_nv_report *rep = NULL;
        assert_int_equal(vt_nv_report_parse(c, clen, &rep, &d), 0);
        assert_true(rep->trailing_zero);
        assert_int_equal(rep->signed_len, clen - 97);
        vt_nv_report_free(rep);
        assert_int_equal(verify_bytes(c, clen, cc, ccl, NONCE_COCO, NULL, &d), 0);
        assert_int_equal(verify_bytes(c, clen - 1, cc, ccl, NONCE_COCO, NULL, &d), 0);
        free(b);
        free(cb);
        free(c);
        free(cc);
}

/* Opaque data: unknown and duplicate types, wrong fixed sizes, a version above 1. */
static void test_opaque_refusals(void **state)
{
        (void)state;
        struct vt_nv_field f[VT_NV_OPAQUE_MAX_TYP + 1];
        struct vt_diag d = {0};
        static const struct {
                uint8_t b[16];
                size_t n;
                const char *needle;
        } bad[] = {
                {{27, 0, 1, 0, 0}, 5, "unknown type 27"},
                {{0, 0, 1, 0, 0}, 5, "unknown type 0"},
                {{11, 0, 1, 0, 0x55, 11, 0, 1, 0, 0x55}, 10, "appears twice"},
                {{20, 0, 2, 0, 1, 2}, 6, "FWID has 2 bytes"},
                {{34, 0, 2, 0, 2, 0}, 6, "version 2"},
                {{12, 0, 3, 0, 1, 2, 3}, 7, "MSRSCNT"},
                {{3, 0, 9, 0, '5', '5'}, 6, "announces 9 bytes"},
                {{3, 0, 1}, 3, "truncated"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vt_diag_clear(&d);
                assert_true(vt_nv_opaque_parse(bad[i].b, bad[i].n, 0, f, &d) < 0);
                if (!strstr(d.msg, bad[i].needle))
                        fail_msg("case %zu: \"%s\" does not say \"%s\"", i, d.msg, bad[i].needle);
        }
        static const uint8_t ok[] = {3, 0, 4, 0, '5', '.', '1', 0, 36, 0, 2, 0, 2, 0};
        assert_int_equal(vt_nv_opaque_parse(ok, sizeof(ok), 100, f, &d), 0);
        assert_true(f[3].present);
        assert_int_equal(f[3].off, 104);
        assert_int_equal(f[36].len, 2);
}

/* RIM IDs from the signed opaque fields (notes §3.2). */
static void test_rim_ids(void **state)
{
        (void)state;
        static const struct {
                const char *dir;
                enum vt_nv_arch arch;
                const char *driver, *vbios;
        } t[] = {
                {"gpu/hopper_550.90.07", VT_NV_ARCH_HOPPER, "NV_GPU_DRIVER_GH100_550.90.07",
                 "NV_GPU_VBIOS_1010_0200_882_96009F0001"},
                {"gpu/hopper_535.86.09", VT_NV_ARCH_HOPPER, "NV_GPU_DRIVER_GH100_535.86.09",
                 "NV_GPU_VBIOS_1010_0200_882_96005E0001"},
                {"gpu/hopper_580.159.03", VT_NV_ARCH_HOPPER, "NV_GPU_DRIVER_GH100_580.159.03",
                 "NV_GPU_VBIOS_1010_0205_862_9600740020"},
                {"gpu/blackwell_575.32", VT_NV_ARCH_BLACKWELL, "NV_GPU_CC_DRIVER_GB100_575.32",
                 "NV_GPU_VBIOS_G525_0220_886_970088000F"},
                {"switch/ls10_96.10.55", VT_NV_ARCH_LS10, "",
                 "NV_SWITCH_BIOS_5612_0002_890_9610550001"},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char p[128], drv[96], vb[96];
                size_t len;
                struct vt_nv_report *rep = NULL;
                struct vt_diag d = {0};
                snprintf(p, sizeof(p), "nvidia/%s/report.hex", t[i].dir);
                uint8_t *b = vt_test_load_vector(p, &len);
                assert_int_equal(vt_nv_report_parse(b, len, &rep, &d), 0);
                assert_int_equal(vt_nv_rim_ids(rep, t[i].arch, drv, vb, &d), 0);
                assert_string_equal(drv, t[i].driver);
                assert_string_equal(vb, t[i].vbios);
                vt_nv_report_free(rep);
                free(b);
        }
}

/* Verifies dir's report with RIMs from rimdir at time at. */
static int verify_rims(const char *dir, const char *nonce, const char *rimdir, bool allow_missing,
                       const char *at, struct vt_nv_result *res, struct vt_diag *d)
{
        char rp[128], cp[128];
        size_t rl, cl;
        snprintf(rp, sizeof(rp), "nvidia/%s/report.hex", dir);
        snprintf(cp, sizeof(cp), "nvidia/%s/certchain.pem", dir);
        uint8_t *rb = vt_test_load_vector(rp, &rl);
        uint8_t *cb = vt_test_load_vector(cp, &cl);
        struct vt_nv_verifier *v = NULL;
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_OFF, NULL, 0), 0);
        assert_int_equal(vt_nv_verifier_set_rim(v, rimdir, NULL, NULL, allow_missing), 0);
        uint8_t n[32];
        nonce_of(nonce, n);
        struct vt_nv_verify_opts o = {.nonce = n, .at = T(at)};
        struct vt_nv_result r = {0};
        vt_diag_clear(d);
        int e = vt_nv_verify(v, rb, rl, cb, cl, &o, res ? res : &r, d);
        if (e == 0 && res == NULL)
                vt_nv_result_done(&r);
        /* a second verification is served from the caches and gives the same answer */
        struct vt_nv_result r2 = {0};
        struct vt_diag d2 = {0};
        assert_int_equal(vt_nv_verify(v, rb, rl, cb, cl, &o, &r2, &d2), e);
        vt_nv_result_done(&r2);
        vt_nv_verifier_free(v);
        free(rb);
        free(cb);
        return e;
}

/* The report/RIM pairings of PROVENANCE.md. */
static void test_rim_pairings(void **state)
{
        (void)state;
        const char *rims = vt_testdata("nvidia/rims");
        struct vt_nv_result res = {0};
        struct vt_diag d = {0};
        if (!rims)
                vtt_skip("skipped: ../shared/testdata not found");
        char rimdir[1024];
        snprintf(rimdir, sizeof(rimdir), "%s", rims);
        /* hopper_535.86.09 vs the 2023 VBIOS RIM: 12/12 (no driver RIM exists: the operator
         * override lets the VBIOS appraisal stand alone) */
        int e = verify_rims("gpu/hopper_535.86.09", NONCE_535, rimdir, true, "2024-06-01T00:00:00Z",
                            &res, &d);
        if (e)
                fail_msg("%s", d.msg);
        assert_true(res.rim_checked);
        assert_int_equal(res.rim_matched, 12);
        assert_int_equal(res.rim_active, 12);
        assert_int_equal(res.ar4si.executables, VT_AR4SI_UNRECOGNIZED_RUNTIME); /* partial */
        json_t *c = claims_of(&res);
        assert_string_equal(json_string_value(json_object_get(c, "measres")), "partial");
        assert_string_equal(json_string_value(json_object_get(c, "oemid")), "5703");
        json_decref(c);
        vt_nv_result_done(&res);
        /* without the override a missing RIM is "reference values unavailable" */
        expect(verify_rims("gpu/hopper_535.86.09", NONCE_535, rimdir, false, "2024-06-01T00:00:00Z",
                           NULL, &d),
               VT_E_NOTFOUND, &d,
               "reference values unavailable: RIM NV_GPU_DRIVER_GH100_535.86.09");
        /* outside the RIM signer's window (L4 expired 2025-06-22) */
        expect(verify_rims("gpu/hopper_535.86.09", NONCE_535, rimdir, true, "2026-01-01T00:00:00Z",
                           NULL, &d),
               VT_E_CHAIN, &d, "NV_GPU_VBIOS_1010_0200_882_96005E0001");
        /* the switch vs its BIOS RIM: 31/31, everything appraised */
        e = verify_rims("switch/ls10_96.10.55", NONCE_931D, rimdir, false, "2026-06-01T00:00:00Z",
                        &res, &d);
        if (e)
                fail_msg("%s", d.msg);
        assert_int_equal(res.rim_matched, 31);
        assert_int_equal(res.ar4si.executables, VT_AR4SI_AFFIRMING);
        assert_int_equal(res.ar4si.configuration, VT_AR4SI_AFFIRMING);
        c = claims_of(&res);
        assert_string_equal(json_string_value(json_object_get(c, "measres")), "success");
        json_decref(c);
        vt_nv_result_done(&res);
        /* NVIDIA re-issued VBIOS RIMs with a new index 9: the older ones fail there only */
        expect(verify_rims("gpu/hopper_coco_580.95.05", NONCE_COCO, rimdir, true,
                           "2024-06-01T00:00:00Z", NULL, &d),
               VT_E_POLICY, &d, "index 9 ");
        expect(verify_rims("gpu/hopper_580.159.03", NONCE_580, rimdir, true, "2024-06-01T00:00:00Z",
                           NULL, &d),
               VT_E_POLICY, &d, "index 9 ");
}

/* The genuinely re-signed VBIOS RIM (same tagId, index 9 = 059b32...) against 535.86.09, and
 * a wrong RIM root. */
static void test_rim_resigned_and_root(void **state)
{
        (void)state;
        size_t len;
        uint8_t *x = vt_test_load_vector(
                "nvidia/negative/rim_resigned_mismatch_vbios_96005E0001.xml", &len);
        char dir[512] = "", path[600];
        vt_test_fresh_dir(dir, sizeof(dir), "nvrim");
        snprintf(path, sizeof(path), "%s/NV_GPU_VBIOS_1010_0200_882_96005E0001.xml", dir);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(x, 1, len, f), len);
        fclose(f);
        free(x);
        struct vt_diag d = {0};
        expect(verify_rims("gpu/hopper_535.86.09", NONCE_535, dir, true, "2024-06-01T00:00:00Z",
                           NULL, &d),
               VT_E_POLICY, &d, "index 9 ");
        vt_test_rm_dir(dir);
        /* RIMs chained to another root are refused */
        size_t rl, cl, wl;
        uint8_t *rb = vt_test_load_vector("nvidia/switch/ls10_96.10.55/report.hex", &rl);
        uint8_t *cb = vt_test_load_vector("nvidia/switch/ls10_96.10.55/certchain.pem", &cl);
        uint8_t *wb = vt_test_load_vector("nvidia/negative/wrong_rim_root.pem", &wl);
        struct vt_nv_verifier *v = NULL;
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_OFF, NULL, 0), 0);
        assert_int_equal(vt_nv_verifier_set_rim(v, vt_testdata("nvidia/rims"), NULL, NULL, false),
                         0);
        assert_int_equal(vt_nv_rims_set_root(vt_nv_verifier_rims(v), wb, wl), 0);
        uint8_t n[32];
        nonce_of(NONCE_931D, n);
        struct vt_nv_verify_opts o = {.nonce = n, .at = T("2026-06-01T00:00:00Z")};
        struct vt_nv_result res = {0};
        vt_diag_clear(&d);
        expect(vt_nv_verify(v, rb, rl, cb, cl, &o, &res, &d), VT_E_CHAIN, &d,
               "NV_SWITCH_BIOS_5612_0002_890_9610550001");
        vt_nv_verifier_free(v);
        free(rb);
        free(cb);
        free(wb);
}

/* RIMs fetched from the service (here a local mirror answering its JSON) once, kept in the
 * cache directory; a missing RIM is asked for once an hour, not per verification; a verifier
 * without network reads the cache directory. */
static void test_rim_fetch_and_cache(void **state)
{
        (void)state;
        size_t xl, rl, cl;
        uint8_t *x = vt_test_load_vector(
                "nvidia/rims/NV_GPU_VBIOS_1010_0200_882_96005E0001.swidtag", &xl);
        char *b64 = NULL;
        assert_int_equal(vt_b64_encode(x, xl, VT_B64_STD, &b64), 0);
        json_t *j = json_pack("{s:s, s:s, s:s}", "id", "NV_GPU_VBIOS_1010_0200_882_96005E0001",
                              "rim", b64, "request_id", "test");
        char *body = json_dumps(j, JSON_COMPACT);
        struct test_route routes[] = {
                {.path = "/v1/rim/NV_GPU_VBIOS_1010_0200_882_96005E0001",
                 .body = body,
                 .body_len = strlen(body)},
        };
        struct test_httpd *h = test_httpd_start(routes, 1);
        assert_non_null(h);
        char base[64], url[128], cache[512] = "";
        snprintf(url, sizeof(url), "%s/v1/rim/", test_httpd_url(h, base, sizeof(base)));
        vt_test_fresh_dir(cache, sizeof(cache), "nvrimcache");
        uint8_t *rb = vt_test_load_vector("nvidia/gpu/hopper_535.86.09/report.hex", &rl);
        uint8_t *cb = vt_test_load_vector("nvidia/gpu/hopper_535.86.09/certchain.pem", &cl);
        uint8_t n[32];
        nonce_of(NONCE_535, n);
        struct vt_nv_verify_opts o = {.nonce = n, .at = T("2024-06-01T00:00:00Z")};
        struct vt_diag d = {0};
        struct vt_nv_verifier *v = NULL;
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_OFF, NULL, 0), 0);
        assert_int_equal(vt_nv_verifier_set_rim(v, NULL, url, cache, true), 0);
        for (int k = 0; k < 3; k++) {
                struct vt_nv_result res = {0};
                vt_diag_clear(&d);
                if (vt_nv_verify(v, rb, rl, cb, cl, &o, &res, &d))
                        fail_msg("%s", d.msg);
                assert_int_equal(res.rim_matched, 12);
                vt_nv_result_done(&res);
        }
        /* the VBIOS RIM once, the missing driver RIM (404) once */
        assert_int_equal(test_httpd_hits(h), 2);
        vt_nv_verifier_free(v);
        test_httpd_stop(h);
        /* offline: the cache directory alone */
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_OFF, NULL, 0), 0);
        assert_int_equal(vt_nv_verifier_set_rim(v, NULL, NULL, cache, true), 0);
        struct vt_nv_result res = {0};
        vt_diag_clear(&d);
        if (vt_nv_verify(v, rb, rl, cb, cl, &o, &res, &d))
                fail_msg("%s", d.msg);
        assert_int_equal(res.rim_matched, 12);
        vt_nv_result_done(&res);
        vt_nv_verifier_free(v);
        vt_test_rm_dir(cache);
        free(rb);
        free(cb);
        free(x);
        free(b64);
        free(body);
        json_decref(j);
}

/* One verifier shared by threads that verify different devices at once (chain, RIM caches). */
struct mt_job {
        struct vt_nv_verifier *v;
        const uint8_t *rep, *chain;
        size_t rl, cl;
        uint8_t nonce[32];
        int64_t at;
        int failures;
        unsigned expect_matched;
};

static void *mt_run(void *arg)
{
        struct mt_job *j = arg;
        for (int i = 0; i < 20; i++) {
                struct vt_nv_verify_opts o = {.nonce = j->nonce, .at = j->at};
                struct vt_nv_result res = {0};
                struct vt_diag d = {0};
                if (vt_nv_verify(j->v, j->rep, j->rl, j->chain, j->cl, &o, &res, &d) != 0 ||
                    res.rim_matched != j->expect_matched)
                        j->failures++;
                vt_nv_result_done(&res);
        }
        return NULL;
}

static void test_threads(void **state)
{
        (void)state;
        static const struct {
                const char *dir, *nonce;
                unsigned matched;
        } dev[] = {
                {"gpu/hopper_535.86.09", NONCE_535, 12},
                {"switch/ls10_96.10.55", NONCE_931D, 31},
        };
        struct vt_nv_verifier *v = NULL;
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_OFF, NULL, 0), 0);
        const char *rims = vt_testdata("nvidia/rims");
        if (!rims)
                vtt_skip("skipped: ../shared/testdata not found");
        char rimdir[1024];
        snprintf(rimdir, sizeof(rimdir), "%s", rims);
        assert_int_equal(vt_nv_verifier_set_rim(v, rimdir, NULL, NULL, true), 0);
        struct mt_job jobs[4];
        pthread_t th[4];
        uint8_t *bufs[8];
        for (int i = 0; i < 4; i++) {
                char rp[128], cp[128];
                snprintf(rp, sizeof(rp), "nvidia/%s/report.hex", dev[i % 2].dir);
                snprintf(cp, sizeof(cp), "nvidia/%s/certchain.pem", dev[i % 2].dir);
                jobs[i] = (struct mt_job){.v = v, .expect_matched = dev[i % 2].matched};
                bufs[2 * i] = vt_test_load_vector(rp, &jobs[i].rl);
                bufs[2 * i + 1] = vt_test_load_vector(cp, &jobs[i].cl);
                jobs[i].rep = bufs[2 * i];
                jobs[i].chain = bufs[2 * i + 1];
                nonce_of(dev[i % 2].nonce, jobs[i].nonce);
                /* a time inside both RIM windows does not exist: the switch RIM is from 2026,
                 * the VBIOS RIM's signer expired in 2025, so each device at its own time */
                jobs[i].at = T(i % 2 ? "2026-06-01T00:00:00Z" : "2024-06-01T00:00:00Z");
        }
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&th[i], NULL, mt_run, &jobs[i]), 0);
        for (int i = 0; i < 4; i++) {
                pthread_join(th[i], NULL);
                assert_int_equal(jobs[i].failures, 0);
        }
        for (int i = 0; i < 8; i++)
                free(bufs[i]);
        vt_nv_verifier_free(v);
}

/* Index 35 (block 36) is not compared when NVDEC0 is disabled (0x55), and is when enabled:
 * the 550.144.03 driver RIM's golden values put into a recorded report's blocks. */
static void test_rim_nvdec0_skip(void **state)
{
        (void)state;
        size_t xl, hl, rl;
        uint8_t *x = vt_test_load_vector("nvidia/rims/NV_GPU_DRIVER_GH100_550.144.03.xml", &xl);
        uint8_t *h = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/report.hex", &hl);
        uint8_t *rootpem =
                vt_test_load_vector("nvidia/roots/nvidia_corim_signing_root_ca.pem", &rl);
        struct vt_diag d = {0};
        X509 *root = NULL;
        BIO *b = BIO_new_mem_buf(rootpem, (int)rl);
        root = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(root);
        struct vt_nvrim *rim = NULL;
        if (vt_nvrim_load(x, xl, root, (time_t)T("2025-06-01T00:00:00Z"), &rim, &d) < 0)
                fail_msg("%s", d.msg);
        struct vt_nv_report *rep = NULL;
        assert_int_equal(vt_nv_report_parse(h, hl, &rep, &d), 0);
        assert_true(vt_nvrim_active(rim, 35));
        for (unsigned i = 0; i < rep->n_blocks; i++) {
                unsigned idx = rep->blocks[i].index - 1u;
                const uint8_t *g;
                size_t gl;
                if (vt_nvrim_active(rim, idx) && vt_nvrim_golden(rim, idx, 0, &g, &gl) == 0) {
                        memcpy(rep->blocks[i].value, g, gl);
                        rep->blocks[i].len = (uint16_t)gl;
                }
        }
        memset(rep->blocks[35].value, 0xee, rep->blocks[35].len); /* block 36 = index 35 */
        const uint8_t *nv;
        size_t nl;
        assert_int_equal(vt_nv_report_field(rep, VT_NV_OPQ_NVDEC0_STATUS, &nv, &nl), 0);
        assert_int_equal(nv[0], 0x55);
        unsigned matched = 0, active = 0;
        vt_diag_clear(&d);
        if (vt_nv_rim_check(rim, "driver", "550.144.03", rep, &matched, &active, &d))
                fail_msg("%s", d.msg);
        assert_int_equal(active, 20);                                /* 7, 21..40 without 35 */
        rep->bytes[rep->opaque[VT_NV_OPQ_NVDEC0_STATUS].off] = 0xaa; /* NVDEC0 enabled */
        vt_diag_clear(&d);
        expect(vt_nv_rim_check(rim, "driver", "550.144.03", rep, &matched, &active, &d),
               VT_E_POLICY, &d, "index 35");
        /* and the version must be the RIM's */
        vt_diag_clear(&d);
        expect(vt_nv_rim_check(rim, "driver", "550.90.07", rep, NULL, NULL, &d), VT_E_POLICY, &d,
               "colloquialVersion");
        vt_nvrim_free(rim);
        X509_free(root);
        vt_nv_report_free(rep);
        free(x);
        free(h);
        free(rootpem);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_reports),
                cmocka_unit_test(test_blackwell_fwid_and_ueid),
                cmocka_unit_test(test_trustee_claims),
                cmocka_unit_test(test_json_forms),
                cmocka_unit_test(test_json_refusals),
                cmocka_unit_test(test_negatives),
                cmocka_unit_test(test_byte_flips),
                cmocka_unit_test(test_truncations_and_trailing),
                cmocka_unit_test(test_opaque_refusals),
                cmocka_unit_test(test_rim_ids),
                cmocka_unit_test(test_rim_pairings),
                cmocka_unit_test(test_rim_resigned_and_root),
                cmocka_unit_test(test_rim_fetch_and_cache),
                cmocka_unit_test(test_threads),
                cmocka_unit_test(test_rim_nvdec0_skip),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
