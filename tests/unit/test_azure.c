/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPMS_ATTEST, TPMT_SIGNATURE and HCL report parsers on synthetic inputs (every field,
 * every truncation), the PCR digest and init-data rules, and whole az-snp-vtpm / tpm
 * verifications with keys made here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "testutil.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/macro.h"
#include "util/wr.h"
#include "veritee/azure.h"

/* ---- builders ---- */

struct buf {
        uint8_t b[8192];
        size_t n;
};

static void be16(struct buf *w, uint16_t v)
{
        w->b[w->n++] = (uint8_t)(v >> 8);
        w->b[w->n++] = (uint8_t)v;
}
static void be32(struct buf *w, uint32_t v)
{
        be16(w, (uint16_t)(v >> 16));
        be16(w, (uint16_t)v);
}
static void be64(struct buf *w, uint64_t v)
{
        be32(w, (uint32_t)(v >> 32));
        be32(w, (uint32_t)v);
}
static void put(struct buf *w, const void *p, size_t n)
{
        memcpy(w->b + w->n, p, n);
        w->n += n;
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
        assert_true(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL));
}

/* 24 distinct PCR values. */
static void make_pcrs(uint8_t pcrs[VT_TPM_NUM_PCRS][32])
{
        for (unsigned i = 0; i < VT_TPM_NUM_PCRS; i++)
                for (unsigned j = 0; j < 32; j++)
                        pcrs[i][j] = (uint8_t)(i * 7 + j);
}

/* A TPMS_ATTEST quote over PCRs `mask` of the SHA-256 bank with extraData nonce. */
static void make_attest(struct buf *w, const uint8_t *nonce, size_t nl,
                        const uint8_t pcrs[VT_TPM_NUM_PCRS][32], uint32_t mask)
{
        uint8_t cat[VT_TPM_NUM_PCRS * 32], dg[32];
        size_t cl = 0;
        w->n = 0;
        be32(w, VT_TPM_GENERATED_VALUE);
        be16(w, VT_TPM_ST_ATTEST_QUOTE);
        be16(w, 34);
        be16(w, VT_TPM_ALG_SHA256);
        for (int i = 0; i < 32; i++)
                w->b[w->n++] = (uint8_t)(0xa0 + i);
        be16(w, (uint16_t)nl);
        put(w, nonce, nl);
        be64(w, 0x0102030405060708ull); /* clock */
        be32(w, 7);                     /* resetCount */
        be32(w, 9);                     /* restartCount */
        w->b[w->n++] = 1;               /* safe */
        be64(w, 0x2020031200120003ull);
        be32(w, 1);
        be16(w, VT_TPM_ALG_SHA256);
        w->b[w->n++] = 3;
        w->b[w->n++] = (uint8_t)mask;
        w->b[w->n++] = (uint8_t)(mask >> 8);
        w->b[w->n++] = (uint8_t)(mask >> 16);
        for (unsigned i = 0; i < VT_TPM_NUM_PCRS; i++)
                if (mask & (1u << i)) {
                        memcpy(cat + cl, pcrs[i], 32);
                        cl += 32;
                }
        sha256(cat, cl, dg);
        be16(w, 32);
        put(w, dg, 32);
}

/* ---- TPMS_ATTEST ---- */

static void test_tpm_attest_fields(void **state)
{
        uint8_t pcrs[VT_TPM_NUM_PCRS][32];
        struct buf w;
        struct vt_tpm_attest a;
        struct vt_diag d = {0};
        make_pcrs(pcrs);
        make_attest(&w, (const uint8_t *)"nonce", 5, pcrs, 0xffffff);
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, &d), 0);
        assert_int_equal(a.magic, VT_TPM_GENERATED_VALUE);
        assert_int_equal(a.type, VT_TPM_ST_ATTEST_QUOTE);
        assert_int_equal(a.qualified_signer_len, 34);
        assert_int_equal(a.qualified_signer[0], 0x00);
        assert_int_equal(a.qualified_signer[1], 0x0b);
        assert_int_equal(a.qualified_signer[33], 0xa0 + 31);
        assert_int_equal(a.extra_data_len, 5);
        assert_memory_equal(a.extra_data, "nonce", 5);
        assert_int_equal(a.clock, 0x0102030405060708ull);
        assert_int_equal(a.reset_count, 7);
        assert_int_equal(a.restart_count, 9);
        assert_int_equal(a.safe, 1);
        assert_int_equal(a.firmware_version, 0x2020031200120003ull);
        assert_int_equal(a.n_sel, 1);
        assert_int_equal(a.sel[0].hash_alg, VT_TPM_ALG_SHA256);
        assert_int_equal(a.sel[0].size_of_select, 3);
        assert_int_equal(a.sel[0].select[2], 0xff);
        assert_int_equal(a.pcr_digest_len, 32);
        uint32_t mask = 0;
        assert_int_equal(vt_tpm_check_pcrs(&a, pcrs, &mask, &d), 0);
        assert_int_equal(mask, 0xffffff);
}

static void test_tpm_attest_truncations(void **state)
{
        uint8_t pcrs[VT_TPM_NUM_PCRS][32];
        struct buf w;
        struct vt_tpm_attest a;
        make_pcrs(pcrs);
        make_attest(&w, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32, pcrs, 0x0103);
        for (size_t n = 0; n < w.n; n++) {
                struct vt_diag d = {0};
                uint8_t *c = malloc(n ? n : 1);
                memcpy(c, w.b, n);
                assert_int_equal(vt_tpm_attest_parse(c, n, &a, &d), VT_E_TRUNCATED);
                assert_non_null(strstr(d.msg, "truncated"));
                free(c);
        }
        w.b[w.n++] = 0;
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), VT_E_TRAILING);
}

static void test_tpm_attest_rejects(void **state)
{
        uint8_t pcrs[VT_TPM_NUM_PCRS][32];
        struct buf w;
        struct vt_tpm_attest a;
        struct vt_diag d = {0};
        make_pcrs(pcrs);
        make_attest(&w, (const uint8_t *)"n", 1, pcrs, 0xffffff);
        const size_t safe_off = 4 + 2 + 2 + 34 + 2 + 1 + 8 + 4 + 4;
        const size_t count_off = safe_off + 1 + 8;

        w.b[0] ^= 1; /* magic */
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "magic"));
        w.b[0] ^= 1;
        w.b[5] = 0x17; /* TPM_ST_ATTEST_CERTIFY */
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), VT_E_UNSUPPORTED);
        w.b[5] = 0x18;
        w.b[6] = 0x10; /* qualifiedSigner size 0x1022 */
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), VT_E_FORMAT);
        w.b[6] = 0;
        w.b[safe_off] = 2;
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), VT_E_FORMAT);
        w.b[safe_off] = 1;
        w.b[count_off + 3] = VT_TPM_MAX_BANKS + 1;
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), VT_E_FORMAT);
        w.b[count_off + 3] = 1;
        w.b[count_off + 6] = VT_TPM_MAX_SELECT + 1; /* sizeofSelect */
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), VT_E_FORMAT);
        w.b[count_off + 6] = 3;
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), 0);
        uint8_t big[VT_TPM_MAX_ATTEST + 1] = {0};
        assert_int_equal(vt_tpm_attest_parse(big, sizeof(big), &a, NULL), VT_E_LIMIT);
}

static void test_tpm_pcr_digest(void **state)
{
        uint8_t pcrs[VT_TPM_NUM_PCRS][32];
        struct buf w;
        struct vt_tpm_attest a;
        struct vt_diag d = {0};
        uint32_t mask = 0;
        make_pcrs(pcrs);
        /* a subset: only PCRs 0, 1, 8 and 23 are covered */
        make_attest(&w, (const uint8_t *)"n", 1, pcrs, 0x800103);
        assert_int_equal(vt_tpm_attest_parse(w.b, w.n, &a, NULL), 0);
        assert_int_equal(vt_tpm_check_pcrs(&a, pcrs, &mask, &d), 0);
        assert_int_equal(mask, 0x800103);
        /* an unselected PCR may change, a selected one may not */
        pcrs[5][0] ^= 1;
        assert_int_equal(vt_tpm_check_pcrs(&a, pcrs, NULL, NULL), 0);
        pcrs[23][31] ^= 1;
        assert_int_equal(vt_tpm_check_pcrs(&a, pcrs, NULL, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "PCR digest mismatch"));
        pcrs[23][31] ^= 1;
        /* a selection of the SHA-1 bank: values not sent */
        a.sel[0].hash_alg = VT_TPM_ALG_SHA1;
        vt_diag_clear(&d);
        assert_int_equal(vt_tpm_check_pcrs(&a, pcrs, NULL, &d), VT_E_UNSUPPORTED);
        a.sel[0].hash_alg = VT_TPM_ALG_SHA256;
        /* PCR 24 and beyond */
        a.sel[0].size_of_select = 4;
        a.sel[0].select[3] = 1;
        assert_int_equal(vt_tpm_check_pcrs(&a, pcrs, NULL, NULL), VT_E_FORMAT);
        a.sel[0].select[3] = 0;
        a.pcr_digest_len = 20;
        assert_int_equal(vt_tpm_check_pcrs(&a, pcrs, NULL, NULL), VT_E_UNSUPPORTED);
}

/* ---- TPMT_SIGNATURE ---- */

static void test_tpm_signature_parse(void **state)
{
        struct buf w = {.n = 0};
        struct vt_tpm_signature s;
        be16(&w, VT_TPM_ALG_RSASSA);
        be16(&w, VT_TPM_ALG_SHA256);
        be16(&w, 256);
        for (int i = 0; i < 256; i++)
                w.b[w.n++] = (uint8_t)i;
        assert_int_equal(vt_tpm_signature_parse(w.b, w.n, &s, NULL), 0);
        assert_int_equal(s.sig_alg, VT_TPM_ALG_RSASSA);
        assert_int_equal(s.hash_alg, VT_TPM_ALG_SHA256);
        assert_int_equal(s.sig_len, 256);
        assert_int_equal(s.sig[255], 255);
        for (size_t n = 0; n < w.n; n++)
                assert_int_equal(vt_tpm_signature_parse(w.b, n, &s, NULL), VT_E_TRUNCATED);
        w.b[w.n++] = 0;
        assert_int_equal(vt_tpm_signature_parse(w.b, w.n, &s, NULL), VT_E_TRAILING);

        w.n = 0;
        be16(&w, VT_TPM_ALG_ECDSA);
        be16(&w, VT_TPM_ALG_SHA384);
        be16(&w, 48);
        memset(w.b + w.n, 0x11, 48);
        w.n += 48;
        be16(&w, 47);
        memset(w.b + w.n, 0x22, 47);
        w.n += 47;
        assert_int_equal(vt_tpm_signature_parse(w.b, w.n, &s, NULL), 0);
        assert_int_equal(s.r_len, 48);
        assert_int_equal(s.s_len, 47);
        assert_int_equal(s.s[46], 0x22);
        for (size_t n = 0; n < w.n; n++)
                assert_int_equal(vt_tpm_signature_parse(w.b, n, &s, NULL), VT_E_TRUNCATED);
        w.b[1] = 0x1a; /* TPM_ALG_ECSCHNORR */
        assert_int_equal(vt_tpm_signature_parse(w.b, w.n, &s, NULL), VT_E_UNSUPPORTED);
        w.b[1] = 0x14;
        w.n = 4;
        be16(&w, VT_TPM_MAX_SIG + 1);
        assert_int_equal(vt_tpm_signature_parse(w.b, w.n, &s, NULL), VT_E_FORMAT);
}

/* ---- HCL report ---- */

/* A TDX HCL report (the TDREPORT only needs its type byte) with var as runtime data,
 * REPORT_DATA bound to it, padded with zeros to total bytes. */
static size_t make_hcl(uint8_t *b, size_t total, uint32_t type, const char *var,
                       const uint8_t *snp_report)
{
        size_t vl = strlen(var), size = 0x4d4 + vl;
        uint8_t h[32];
        memset(b, 0, total);
        memcpy(b, "HCLA", 4);
        vt_put_u32le(b + 4, 1);
        vt_put_u32le(b + 8, (uint32_t)size);
        vt_put_u32le(b + 12, 2);
        if (snp_report)
                memcpy(b + 0x20, snp_report, VT_SNP_REPORT_SIZE);
        vt_put_u32le(b + 0x4c0, (uint32_t)(20 + vl));
        vt_put_u32le(b + 0x4c4, 1);
        vt_put_u32le(b + 0x4c8, type);
        vt_put_u32le(b + 0x4cc, 1);
        vt_put_u32le(b + 0x4d0, (uint32_t)vl);
        memcpy(b + 0x4d4, var, vl);
        sha256(var, vl, h);
        if (type == VT_HCL_REPORT_TDX) {
                b[0x20] = 0x81;
                memcpy(b + 0x20 + 128, h, 32);
        } else {
                memcpy(b + 0x20 + 0x50, h, 32);
        }
        return size;
}

/* A minimal SNP report v2 that parses (no valid signature). */
static void make_snp(uint8_t r[VT_SNP_REPORT_SIZE])
{
        memset(r, 0, VT_SNP_REPORT_SIZE);
        vt_put_u32le(r, 2);
        vt_put_u32le(r + 8, 0x30000);
        vt_put_u32le(r + 0x34, 1);
}

static const char runtime_json[] =
        "{\"keys\":[{\"kid\":\"HCLAkPub\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\",\"e\":\"AQAB\","
        "\"n\":\"wL5VTf-mGHrEmZRuCN8cX8Hn0Sd0W-8l4p8R2q7VbOo\"},{\"kid\":\"HCLEkPub\",\"kty\":"
        "\"RSA\",\"e\":\"AQAB\",\"n\":\"AQAB\"}],\"vm-configuration\":{\"secure-boot\":true},"
        "\"user-data\":\"00FF00ff\"}";

static void test_hcl_fields(void **state)
{
        uint8_t b[2600];
        size_t size = make_hcl(b, sizeof(b), VT_HCL_REPORT_TDX, runtime_json, NULL);
        struct vt_hcl_report *r = NULL;
        struct vt_diag d = {0};
        if (vt_hcl_report_parse(b, sizeof(b), &r, &d) < 0)
                fail_msg("%s", d.msg);
        assert_int_equal(r->version, 1);
        assert_int_equal(r->report_size, size);
        assert_int_equal(r->request_type, 2);
        assert_int_equal(r->report_type, VT_HCL_REPORT_TDX);
        assert_int_equal(r->hash_type, VT_HCL_HASH_SHA256);
        assert_int_equal(r->var_len, strlen(runtime_json));
        assert_memory_equal(r->var_data, runtime_json, r->var_len);
        assert_int_equal(r->padding, sizeof(b) - size);
        assert_int_equal(r->tdreport.report_type[0], 0x81);
        assert_int_equal(r->ak_n_len, 32);
        assert_int_equal(r->ak_e_len, 3);
        assert_true(r->has_user_data);
        assert_int_equal(r->user_data_len, 4);
        assert_memory_equal(r->user_data, "\x00\xff\x00\xff", 4);
        assert_int_equal(vt_hcl_check_binding(r, r->hw_report_data, &d), 0);
        uint8_t rd[64];
        memcpy(rd, r->hw_report_data, 64);
        rd[63] = 1;
        assert_int_equal(vt_hcl_check_binding(r, rd, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "tail not zero"));
        vt_hcl_report_free(r);
        /* no padding at all is fine too */
        assert_int_equal(vt_hcl_report_parse(b, size, &r, NULL), 0);
        assert_int_equal(r->padding, 0);
        vt_hcl_report_free(r);
}

static void test_hcl_truncations(void **state)
{
        uint8_t b[2600];
        size_t size = make_hcl(b, sizeof(b), VT_HCL_REPORT_TDX, runtime_json, NULL);
        for (size_t n = 0; n < sizeof(b); n++) {
                struct vt_hcl_report *r = NULL;
                struct vt_diag d = {0};
                uint8_t *c = malloc(n ? n : 1);
                memcpy(c, b, n);
                int e = vt_hcl_report_parse(c, n, &r, &d);
                if (n < size) {
                        assert_int_equal(e, VT_E_TRUNCATED);
                        assert_non_null(strstr(d.msg, "truncated"));
                } else {
                        assert_int_equal(e, 0);
                }
                vt_hcl_report_free(r);
                free(c);
        }
}

static void expect_hcl(const uint8_t *b, size_t n, int err, const char *msg)
{
        struct vt_hcl_report *r = NULL;
        struct vt_diag d = {0};
        int e = vt_hcl_report_parse(b, n, &r, &d);
        if (e != err || (msg && !strstr(d.msg, msg)))
                fail_msg("got %d \"%s\", expected %d \"%s\"", e, d.msg, err, msg ? msg : "");
        vt_hcl_report_free(r);
}

static void test_hcl_rejects(void **state)
{
        uint8_t b[2600], c[2600];
        make_hcl(b, sizeof(b), VT_HCL_REPORT_TDX, runtime_json, NULL);
#define MUT(off, val, err, msg)                                                                    \
        do {                                                                                       \
                memcpy(c, b, sizeof(b));                                                           \
                c[off] = (uint8_t)(val);                                                           \
                expect_hcl(c, sizeof(c), err, msg);                                                \
        } while (0)
        MUT(0, 'X', VT_E_FORMAT, "HCLA");
        MUT(4, 3, VT_E_UNSUPPORTED, "header version");
        MUT(8, b[8] + 1, VT_E_FORMAT, "report_size");
        MUT(0x10, 1, VT_E_FORMAT, "status");
        MUT(0x1c, 1, VT_E_RESERVED, "reserved");
        MUT(0x4c0, b[0x4c0] + 1, VT_E_FORMAT, "data_size");
        MUT(0x4c4, 2, VT_E_UNSUPPORTED, "IGVM");
        MUT(0x4c8, 3, VT_E_UNSUPPORTED, "report_type");
        MUT(0x4cc, 4, VT_E_UNSUPPORTED, "hash_type");
        MUT(0x4d2, 1, VT_E_LIMIT, "variable data");
        MUT(0x20, 0x80, VT_E_FORMAT, "TDREPORT");
        MUT(0x20 + 1024, 1, VT_E_RESERVED, "after the TDREPORT");
        MUT(sizeof(b) - 1, 1, VT_E_TRAILING, "after the report");
        MUT(0x4d4, '[', VT_E_FORMAT, "JSON");
        MUT(0x4c8, 2, VT_E_UNSUPPORTED, "hardware report"); /* a TDREPORT is no SNP report */
#undef MUT
        uint8_t big[VT_HCL_MAX_REPORT + 1];
        memcpy(big, b, sizeof(b));
        expect_hcl(big, sizeof(big), VT_E_LIMIT, NULL);

        static const char *const bad_json[] = {
                "{\"keys\":{}}",
                "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"EC\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
                "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"A+B\",\"e\":\"AQAB\"}]}",
                "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":"
                "\"AQABAQABAQAB\"}]}",
                "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
                "{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
                "{\"user-data\":\"0\"}",
                "{\"user-data\":\"zz\"}",
                "{\"user-data\":1}",
                "{\"user-data\":"
                "\"00000000000000000000000000000000000000000000000000000000000000000000"
                "00000000000000000000000000000000000000000000000000000000000000\"}",
                "{\"a\":1,\"a\":2}",
                "{} x",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_json); i++) {
                make_hcl(c, sizeof(c), VT_HCL_REPORT_TDX, bad_json[i], NULL);
                expect_hcl(c, sizeof(c), VT_E_FORMAT, "hcl:");
        }
        /* no HCLAkPub parses (old firmware variants); verification then fails */
        make_hcl(c, sizeof(c), VT_HCL_REPORT_TDX, "{}", NULL);
        expect_hcl(c, sizeof(c), 0, NULL);
}

static void test_hcl_snp_and_hashes(void **state)
{
        uint8_t b[2600], snp[VT_SNP_REPORT_SIZE];
        struct vt_hcl_report *r = NULL;
        struct vt_diag d = {0};
        make_snp(snp);
        make_hcl(b, sizeof(b), VT_HCL_REPORT_SNP, runtime_json, snp);
        if (vt_hcl_report_parse(b, sizeof(b), &r, &d) < 0)
                fail_msg("%s", d.msg);
        assert_int_equal(r->snp.version, 2);
        assert_int_equal(vt_hcl_check_binding(r, r->hw_report_data, &d), 0);
        vt_hcl_report_free(r);
        /* SHA-384 of the runtime data */
        vt_put_u32le(b + 0x4cc, VT_HCL_HASH_SHA384);
        uint8_t h[48];
        unsigned hl;
        assert_true(EVP_Digest(runtime_json, strlen(runtime_json), h, &hl, EVP_sha384(), NULL));
        memcpy(b + 0x20 + 0x50, h, 48);
        assert_int_equal(vt_hcl_report_parse(b, sizeof(b), &r, &d), 0);
        assert_int_equal(vt_hcl_check_binding(r, r->hw_report_data, &d), 0);
        vt_hcl_report_free(r);
}

/* ---- init-data ---- */

static void test_init_data(void **state)
{
        uint8_t digest[32], in[64] = {0}, pcr8[32];
        struct vt_diag d = {0};
        for (int i = 0; i < 32; i++)
                digest[i] = (uint8_t)(0x40 + i);
        memcpy(in + 32, digest, 32);
        sha256(in, sizeof(in), pcr8);
        assert_int_equal(vt_az_check_init_data(pcr8, digest, &d), 0);
        digest[0] ^= 1;
        assert_int_equal(vt_az_check_init_data(pcr8, digest, &d), VT_E_BINDING);
        assert_non_null(strstr(d.msg, "PCR8"));
        assert_int_equal(vt_az_check_init_data(NULL, digest, NULL), VT_E_INVAL);
}

static void test_tee_names(void **state)
{
        enum vt_az_tee t;
        assert_int_equal(vt_az_tee_from_name("az-snp-vtpm", &t), 0);
        assert_int_equal(t, VT_AZ_TEE_SNP_VTPM);
        assert_int_equal(vt_az_tee_from_name("azsnpvtpm", &t), 0);
        assert_int_equal(t, VT_AZ_TEE_SNP_VTPM);
        assert_int_equal(vt_az_tee_from_name("aztdxvtpm", &t), 0);
        assert_int_equal(t, VT_AZ_TEE_TDX_VTPM);
        assert_int_equal(vt_az_tee_from_name("tpm", &t), 0);
        assert_int_equal(t, VT_AZ_TEE_TPM);
        assert_int_equal(vt_az_tee_from_name("snp", &t), VT_E_NOTFOUND);
        assert_string_equal(vt_az_tee_name(VT_AZ_TEE_TDX_VTPM), "az-tdx-vtpm");
}

/* ---- whole verifications with keys made here ---- */

static char *b64(const uint8_t *p, size_t n, enum vt_b64 mode)
{
        char *s = NULL;
        assert_int_equal(vt_b64_encode(p, n, mode, &s), 0);
        return s;
}

static json_t *hex_pcrs(const uint8_t pcrs[VT_TPM_NUM_PCRS][32])
{
        json_t *a = json_array();
        char h[65];
        for (unsigned i = 0; i < VT_TPM_NUM_PCRS; i++) {
                vt_hex_encode(pcrs[i], 32, h);
                json_array_append_new(a, json_string(h));
        }
        return a;
}

static size_t sign(EVP_PKEY *k, const EVP_MD *md, int padding, const uint8_t *m, size_t ml,
                   uint8_t *sig, size_t cap)
{
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pc = NULL;
        size_t sl = cap;
        assert_int_equal(EVP_DigestSignInit(c, &pc, md, NULL, k), 1);
        if (padding)
                assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, padding), 1);
        assert_int_equal(EVP_DigestSign(c, sig, &sl, m, ml), 1);
        EVP_MD_CTX_free(c);
        return sl;
}

/* tpm evidence for key k signed with scheme alg; returns the JSON text. */
static char *tpm_evidence(EVP_PKEY *k, uint16_t alg, const uint8_t *nonce, size_t nl,
                          uint8_t pcrs[VT_TPM_NUM_PCRS][32])
{
        struct buf m, s = {.n = 0};
        uint8_t sig[1024];
        make_attest(&m, nonce, nl, pcrs, 0xffffff);
        be16(&s, alg);
        be16(&s, VT_TPM_ALG_SHA256);
        if (alg == VT_TPM_ALG_ECDSA) {
                size_t sl = sign(k, EVP_sha256(), 0, m.b, m.n, sig, sizeof(sig));
                const uint8_t *p = sig;
                ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
                uint8_t r[32], ss[32];
                assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), r, 32), 32);
                assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), ss, 32), 32);
                ECDSA_SIG_free(es);
                be16(&s, 32);
                put(&s, r, 32);
                be16(&s, 32);
                put(&s, ss, 32);
        } else {
                size_t sl =
                        sign(k, EVP_sha256(),
                             alg == VT_TPM_ALG_RSAPSS ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING,
                             m.b, m.n, sig, sizeof(sig));
                be16(&s, (uint16_t)sl);
                put(&s, sig, sl);
        }
        unsigned char *der = NULL;
        int dl = i2d_PUBKEY(k, &der);
        char *ak = b64(der, (size_t)dl, VT_B64_STD), *mb = b64(m.b, m.n, VT_B64_STD),
             *sb = b64(s.b, s.n, VT_B64_STD);
        json_t *o = json_pack("{s:s, s:{s:s, s:s, s:o}}", "ak_public", ak, "tpm_quote", "signature",
                              sb, "message", mb, "pcrs", hex_pcrs(pcrs));
        char *txt = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        OPENSSL_free(der);
        free(ak);
        free(mb);
        free(sb);
        return txt;
}

static struct vt_tpm_aks *trust(EVP_PKEY *k)
{
        struct vt_tpm_aks *a = NULL;
        BIO *b = BIO_new(BIO_s_mem());
        char *pem;
        assert_true(PEM_write_bio_PUBKEY(b, k));
        long pl = BIO_get_mem_data(b, &pem);
        assert_int_equal(vt_tpm_aks_new(&a), 0);
        assert_int_equal(vt_tpm_aks_add(a, (const uint8_t *)pem, (size_t)pl, NULL), 0);
        BIO_free(b);
        return a;
}

static void test_tpm_tee_schemes(void **state)
{
        EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
        uint8_t pcrs[VT_TPM_NUM_PCRS][32], nonce[64] = {0}, init[32], in[64] = {0};
        struct vt_az_result res;
        struct vt_diag d = {0};
        for (int i = 0; i < 48; i++)
                nonce[i] = (uint8_t)(i + 1);
        for (int i = 0; i < 32; i++)
                init[i] = (uint8_t)(0x77 ^ i);
        make_pcrs(pcrs);
        memcpy(in + 32, init, 32);
        sha256(in, sizeof(in), pcrs[8]);
        struct {
                EVP_PKEY *k;
                uint16_t alg;
        } cases[] = {{rsa, VT_TPM_ALG_RSASSA}, {rsa, VT_TPM_ALG_RSAPSS}, {ec, VT_TPM_ALG_ECDSA}};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *ev = tpm_evidence(cases[i].k, cases[i].alg, nonce, 64, pcrs);
                struct vt_tpm_aks *aks = trust(cases[i].k);
                struct vt_az_verify_opts o = {.report_data = nonce,
                                              .report_data_len = 48,
                                              .aks = aks,
                                              .init_data_digest = init};
                vt_diag_clear(&d);
                if (vt_az_verify(VT_AZ_TEE_TPM, ev, strlen(ev), &o, &res, &d) != 0)
                        fail_msg("scheme 0x%04x: %s", cases[i].alg, d.msg);
                assert_true(res.checks & VT_AZ_CHECK_INIT_DATA);
                char *claims = NULL;
                assert_int_equal(vt_az_claims_json(&res, &claims), 0);
                json_t *c = json_loads(claims, 0, NULL);
                char h[65];
                vt_hex_encode(pcrs[8], 32, h);
                assert_string_equal(json_string_value(json_object_get(c, "init_data")), h);
                assert_string_equal(json_string_value(json_object_get(c, "tpm_pcr8")), h);
                assert_string_equal(json_string_value(json_object_get(c, "tee")), "tpm");
                json_decref(c);
                free(claims);
                vt_az_result_done(&res);
                /* another init-data digest */
                init[0] ^= 1;
                assert_int_equal(vt_az_verify(VT_AZ_TEE_TPM, ev, strlen(ev), &o, &res, &d),
                                 VT_E_BINDING);
                vt_az_result_done(&res);
                init[0] ^= 1;
                /* the other key trusted */
                struct vt_tpm_aks *other = trust(cases[i].k == rsa ? ec : rsa);
                o.aks = other;
                assert_int_equal(vt_az_verify(VT_AZ_TEE_TPM, ev, strlen(ev), &o, &res, &d),
                                 VT_E_CHAIN);
                vt_az_result_done(&res);
                vt_tpm_aks_free(other);
                vt_tpm_aks_free(aks);
                free(ev);
        }
        /* a signature made by another key of the same type, under the trusted key */
        EVP_PKEY *rsa2 = EVP_RSA_gen(2048);
        char *ev = tpm_evidence(rsa2, VT_TPM_ALG_RSASSA, nonce, 64, pcrs);
        json_t *j = json_loads(ev, 0, NULL);
        unsigned char *der = NULL;
        int dl = i2d_PUBKEY(rsa, &der);
        char *ak = b64(der, (size_t)dl, VT_B64_STD);
        json_object_set_new(j, "ak_public", json_string(ak));
        char *ev2 = json_dumps(j, JSON_COMPACT);
        struct vt_tpm_aks *aks = trust(rsa);
        struct vt_az_verify_opts o = {.report_data = nonce, .report_data_len = 48, .aks = aks};
        vt_diag_clear(&d);
        assert_int_equal(vt_az_verify(VT_AZ_TEE_TPM, ev2, strlen(ev2), &o, &res, &d),
                         VT_E_SIGNATURE);
        assert_int_equal(res.checks, VT_AZ_CHECK_AK_TRUSTED);
        vt_az_result_done(&res);
        vt_tpm_aks_free(aks);
        free(ev2);
        free(ak);
        OPENSSL_free(der);
        json_decref(j);
        free(ev);
        EVP_PKEY_free(rsa2);
        EVP_PKEY_free(rsa);
        EVP_PKEY_free(ec);
}

/* az-snp-vtpm with a synthetic HCL report: the TPM and HCL checks pass (v1 and v2), the
 * user-data rule bites for v2, and the SNP report (no real signature) is refused last. */
static void test_az_snp_synthetic(void **state)
{
        EVP_PKEY *rsa = EVP_RSA_gen(2048);
        BIGNUM *n = NULL;
        assert_true(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n));
        uint8_t nb[256], nonce[48], pcrs[VT_TPM_NUM_PCRS][32], snp[VT_SNP_REPORT_SIZE];
        assert_int_equal(BN_bn2binpad(n, nb, 256), 256);
        BN_free(n);
        for (int i = 0; i < 48; i++)
                nonce[i] = (uint8_t)(0xc0 ^ i);
        char *nb64 = b64(nb, 256, VT_B64_URL), nh[97], var[2048];
        vt_hex_encode(nonce, 48, nh);
        snprintf(var, sizeof(var),
                 "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\"}],"
                 "\"user-data\":\"%s00000000000000000000000000000000\"}",
                 nb64, nh);
        make_pcrs(pcrs);
        make_snp(snp);
        uint8_t *hcl = calloc(1, 2600);
        make_hcl(hcl, 2600, VT_HCL_REPORT_SNP, var, snp);
        struct buf m;
        uint8_t sig[512];
        make_attest(&m, nonce, 48, pcrs, 0xffffff);
        size_t sl = sign(rsa, EVP_sha256(), RSA_PKCS1_PADDING, m.b, m.n, sig, sizeof(sig));
        char *mh = malloc(2 * m.n + 1), *sh = malloc(2 * sl + 1);
        vt_hex_encode(m.b, m.n, mh);
        vt_hex_encode(sig, sl, sh);
        char *hb = b64(hcl, 2600, VT_B64_URL);

        struct vt_snp_verifier *snpv = NULL;
        assert_int_equal(vt_snp_verifier_new(&snpv), 0);
        for (int version = 1; version <= 2; version++) {
                json_t *o = json_pack("{s:i, s:{s:s, s:s, s:o}, s:s, s:s}", "version", version,
                                      "tpm_quote", "signature", sh, "message", mh, "pcrs",
                                      hex_pcrs(pcrs), "hcl_report", hb, "vcek", "AAAA");
                char *ev = json_dumps(o, JSON_COMPACT);
                struct vt_az_verify_opts vo = {
                        .report_data = nonce, .report_data_len = 48, .snp = snpv};
                struct vt_az_result res;
                struct vt_diag d = {0};
                assert_int_equal(vt_az_verify(VT_AZ_TEE_SNP_VTPM, ev, strlen(ev), &vo, &res, &d),
                                 VT_E_FORMAT);
                assert_non_null(strstr(d.msg, "az-snp-vtpm: SNP report"));
                unsigned want = VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE | VT_AZ_CHECK_PCRS |
                                VT_AZ_CHECK_HCL_BINDING |
                                (version == 2 ? VT_AZ_CHECK_USER_DATA : 0);
                assert_int_equal(res.checks, want);
                vt_az_result_done(&res);
                /* a shorter expected report data: a prefix of user-data, but not extraData */
                vo.report_data_len = 32;
                vt_diag_clear(&d);
                assert_int_equal(vt_az_verify(VT_AZ_TEE_SNP_VTPM, ev, strlen(ev), &vo, &res, &d),
                                 VT_E_BINDING);
                assert_non_null(strstr(d.msg, "extraData"));
                vt_az_result_done(&res);
                /* the SNP verifier is required */
                vo.report_data_len = 48;
                vo.snp = NULL;
                assert_int_equal(vt_az_verify(VT_AZ_TEE_SNP_VTPM, ev, strlen(ev), &vo, &res, &d),
                                 VT_E_INVAL);
                vt_az_result_done(&res);
                /* a report data of more than 64 bytes */
                vo.report_data_len = 65;
                assert_int_equal(vt_az_verify(VT_AZ_TEE_SNP_VTPM, ev, strlen(ev), &vo, &res, &d),
                                 VT_E_INVAL);
                vt_az_result_done(&res);
                free(ev);
                json_decref(o);
        }
        vt_snp_verifier_free(snpv);
        free(hb);
        free(mh);
        free(sh);
        free(hcl);
        free(nb64);
        EVP_PKEY_free(rsa);
}

static void test_evidence_parse_rejects(void **state)
{
        static const struct {
                enum vt_az_tee tee;
                const char *json;
                int err;
                const char *msg; /* in the reason, when given */
        } cases[] = {
                {VT_AZ_TEE_SNP_VTPM, "[]", VT_E_FORMAT, NULL},
                {VT_AZ_TEE_SNP_VTPM, "{\"version\":3}", VT_E_UNSUPPORTED, NULL},
                {VT_AZ_TEE_SNP_VTPM, "{\"version\":\"1\"}", VT_E_UNSUPPORTED, NULL},
                {VT_AZ_TEE_SNP_VTPM, "{\"version\":1}", VT_E_FORMAT, NULL},
                {VT_AZ_TEE_SNP_VTPM,
                 "{\"version\":1,\"tpm_quote\":{\"message\":\"zz\",\"signature\":\"00\",\"pcrs\":[]"
                 "}}",
                 VT_E_FORMAT, NULL},
                {VT_AZ_TEE_SNP_VTPM,
                 "{\"quote\":{\"message\":[1,256],\"signature\":[1],\"pcrs\":[]}}", VT_E_FORMAT,
                 "message[1] is not a byte"},
                {VT_AZ_TEE_SNP_VTPM,
                 "{\"quote\":{\"message\":[1,2,null],\"signature\":[1],\"pcrs\":[]}}", VT_E_FORMAT,
                 "message[2] is not a byte"},
                {VT_AZ_TEE_SNP_VTPM,
                 "{\"quote\":{\"message\":[1],\"signature\":[0.0],\"pcrs\":[]}}", VT_E_FORMAT,
                 "signature[0] is not a byte"},
                {VT_AZ_TEE_SNP_VTPM, "{\"quote\":{\"message\":[],\"signature\":[1],\"pcrs\":[]}}",
                 VT_E_FORMAT, NULL},
                {VT_AZ_TEE_TPM, "{\"ak_public\":\"AA==\",\"tpm_quote\":{}}", VT_E_FORMAT, NULL},
                {VT_AZ_TEE_TPM, "{\"ak_public\":\"AA\"}", VT_E_FORMAT, NULL},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct vt_az_evidence *ev = NULL;
                struct vt_diag d = {0};
                int e = vt_az_evidence_parse(cases[i].tee, cases[i].json, strlen(cases[i].json),
                                             &ev, &d);
                if (e != cases[i].err)
                        fail_msg("case %zu: %d (%s), expected %d", i, e, d.msg, cases[i].err);
                if (cases[i].msg && !strstr(d.msg, cases[i].msg))
                        fail_msg("case %zu: \"%s\" does not say \"%s\"", i, d.msg, cases[i].msg);
                assert_null(ev);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tpm_attest_fields),
                cmocka_unit_test(test_tpm_attest_truncations),
                cmocka_unit_test(test_tpm_attest_rejects),
                cmocka_unit_test(test_tpm_pcr_digest),
                cmocka_unit_test(test_tpm_signature_parse),
                cmocka_unit_test(test_hcl_fields),
                cmocka_unit_test(test_hcl_truncations),
                cmocka_unit_test(test_hcl_rejects),
                cmocka_unit_test(test_hcl_snp_and_hashes),
                cmocka_unit_test(test_init_data),
                cmocka_unit_test(test_tee_names),
                cmocka_unit_test(test_tpm_tee_schemes),
                cmocka_unit_test(test_az_snp_synthetic),
                cmocka_unit_test(test_evidence_parse_rejects),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
