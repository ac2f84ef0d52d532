/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VCEK fetching from AMD KDS, with recorded certificates served by a local HTTP
 * server (tests/helpers/httpd.c) on 127.0.0.1, never the internet: the exact KDS
 * URL (Milan 64-byte hwID, Turin 8-byte hwID with fmcSPL), the disk cache, the
 * error paths, the cases where no request may be made, and the CLI.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "testutil.h"

#include "httpd.h"
#include "util/file.h"
#include "veritee/snp.h"

/* The msft-tav VCEKs are valid 2026-02-05 .. 2033-02-05 (PROVENANCE.md). */
#define T_2027_01_01 INT64_C(1798761600)
#define T_2040_01_01 INT64_C(2208988800)
#define AT_RFC3339   "2027-01-01T00:00:00Z"

#define MILAN_REPORT "snp/msft-tav/milan_attestation_report.bin"
#define MILAN_VCEK   "snp/msft-tav/milan_vcek.pem"
#define TURIN_REPORT "snp/msft-tav/turin_attestation_report.bin"
#define TURIN_VCEK   "snp/msft-tav/turin_vcek.pem"
#define TURIN_PATH   "/vcek/v1/Turin/59790fb1c39f35c1?fmcSPL=1&blSPL=1&teeSPL=1&snpSPL=4&ucodeSPL=81"

/* A report, its VCEK as KDS serves it (DER) and the path+query KDS would use. */
struct vec {
        uint8_t *report;
        size_t report_len;
        uint8_t *vcek;
        size_t vcek_len;
        char path[512];
        char cache[256]; /* a fresh mkdtemp directory */
};

static uint8_t *pem_to_der(const uint8_t *pem, size_t len, size_t *ret_len)
{
        BIO *b = BIO_new_mem_buf(pem, (int)len);
        assert_non_null(b);
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(x);
        unsigned char *der = NULL;
        int n = i2d_X509(x, &der);
        X509_free(x);
        assert_true(n > 0);
        uint8_t *out = malloc((size_t)n);
        assert_non_null(out);
        memcpy(out, der, (size_t)n);
        OPENSSL_free(der);
        *ret_len = (size_t)n;
        return out;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
        for (size_t i = 0; i < n; i++)
                snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static uint64_t le64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

/* The Milan KDS path, derived here from the raw report bytes and PROVENANCE.md facts,
 * independently of lib/collateral/kds.c. */
static void milan_path(const uint8_t *rep, char *buf, size_t cap)
{
        const uint8_t *tcb = rep + 0x180;
        char chip[129];
        char query[128];

        /* REPORTED_TCB 0xDB18000000000004: bl 4 (byte 0), tee 0 (1), snp 0x18 (6), ucode 0xDB (7)
         * (PROVENANCE.md); CHIP_ID is report bytes 0x1a0..0x1df */
        assert_int_equal(le64(tcb), UINT64_C(0xdb18000000000004));
        snprintf(query, sizeof(query), "?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", tcb[0], tcb[1],
                 tcb[6], tcb[7]);
        assert_string_equal(query, "?blSPL=4&teeSPL=0&snpSPL=24&ucodeSPL=219");
        hex(rep + 0x1a0, 64, chip); /* CHIP_ID, all 64 bytes */
        assert_int_equal(strncmp(chip, "4ffb5cb4fd594f3f", 16), 0);
        snprintf(buf, cap, "/vcek/v1/Milan/%s%s", chip, query);
}

/* The same for Turin: TCB bytes fmc/bl/tee/snp in 0..3, ucode in 7; 8-byte hwID. */
static void turin_path(const uint8_t *rep, char *buf, size_t cap)
{
        const uint8_t *tcb = rep + 0x180;
        char chip[17];
        assert_int_equal(le64(tcb), UINT64_C(0x5100000004010101));
        hex(rep + 0x1a0, 8, chip);
        snprintf(buf, cap, "/vcek/v1/Turin/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                 chip, tcb[0], tcb[1], tcb[2], tcb[3], tcb[7]);
}

/* Replaces v's cache directory by a fresh, empty one. */
static void vec_new_cache(struct vec *v)
{
        vt_test_fresh_dir(v->cache, sizeof(v->cache), "kds");
}

static void vec_load(struct vec *v, const char *report, const char *vcek_pem)
{
        size_t pem_len = 0;
        memset(v, 0, sizeof(*v));
        v->report = vt_test_load_vector(report, &v->report_len); /* skips without vectors */
        uint8_t *pem = vt_test_load_vector(vcek_pem, &pem_len);
        v->vcek = pem_to_der(pem, pem_len, &v->vcek_len);
        free(pem);
        vec_new_cache(v);
}

static void vec_done(struct vec *v)
{
        vt_test_rm_dir(v->cache);
        free(v->report);
        free(v->vcek);
}

static struct test_httpd *serve(const char *path, int status, const void *body, size_t len)
{
        struct test_route r = {.path = path, .status = status, .body = body, .body_len = len};
        struct test_httpd *h = test_httpd_start(&r, path ? 1 : 0);
        assert_non_null(h);
        return h;
}

/* Verifies with a fresh verifier that fetches from base_url (cache may be NULL). */
static int kds_verify(const char *base_url, const char *cache, const uint8_t *rep, size_t len,
                      int64_t at, enum vt_snp_product product, struct vt_snp_result *res,
                      struct vt_diag *d)
{
        struct vt_snp_verifier *v = NULL;
        struct vt_snp_result r_local;
        struct vt_snp_verify_opts o = {.at = at, .product = product};
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        assert_int_equal(vt_snp_verifier_set_kds(v, base_url, cache), 0);
        vt_diag_clear(d);
        int e = vt_snp_verify(v, rep, len, &o, res ? res : &r_local, d);
        vt_snp_verifier_free(v);
        return e;
}

static void expect_rc(int got, int want, const struct vt_diag *d)
{
        if (got != want)
                print_message("expected %s (%d), got %s (%d): %s\n", vt_strerror(want), want,
                              vt_strerror(got), got, d->msg);
        assert_int_equal(got, want);
}

static void expect_msg(const struct vt_diag *d, const char *part)
{
        if (!strstr(d->msg, part)) {
                print_message("diag \"%s\" lacks \"%s\"\n", d->msg, part);
                fail();
        }
}

static void test_kds_milan_fetch(void **state)
{
        struct vec v;
        struct vt_snp_report r;
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char base[64], want[600], name[256];
        char *url = NULL;

        vec_load(&v, MILAN_REPORT, MILAN_VCEK);
        milan_path(v.report, v.path, sizeof(v.path));
        struct test_httpd *h = serve(v.path, 200, v.vcek, v.vcek_len);
        test_httpd_url(h, base, sizeof(base));

        /* the library names the same URL, with or without a trailing slash on the base */
        assert_int_equal(vt_snp_report_parse(v.report, v.report_len, &r, &d), 0);
        assert_int_equal(r.product, VT_SNP_PRODUCT_MILAN);
        snprintf(want, sizeof(want), "%s%s", base, v.path);
        assert_int_equal(vt_snp_kds_vcek_url(base, VT_SNP_PRODUCT_MILAN, &r, &url), 0);
        assert_string_equal(url, want);
        free(url);
        char slash[80];
        snprintf(slash, sizeof(slash), "%s/", base);
        assert_int_equal(vt_snp_kds_vcek_url(slash, VT_SNP_PRODUCT_MILAN, &r, &url), 0);
        assert_string_equal(url, want);
        free(url);

        int e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01,
                           VT_SNP_PRODUCT_UNKNOWN, &res, &d);
        expect_rc(e, 0, &d);
        assert_int_equal(test_httpd_hits(h), 1);
        assert_string_equal(test_httpd_last_path(h), v.path);
        assert_int_equal(res.product, VT_SNP_PRODUCT_MILAN);
        assert_int_equal(res.signer, VT_SNP_SIGNER_VCEK);
        assert_true(res.root_builtin);

        /* the fetched DER is in the cache, under a name with the product */
        assert_int_equal(vt_test_count_files(v.cache, name, sizeof(name)), 1);
        assert_int_equal(strncmp(name, "snp-vcek-Milan-", 15), 0);
        char path[512];
        uint8_t *cached = NULL;
        size_t cached_len = 0;
        snprintf(path, sizeof(path), "%s/%s", v.cache, name);
        assert_int_equal(vt_read_file(path, 1u << 20, &cached, &cached_len), 0);
        assert_int_equal(cached_len, v.vcek_len);
        assert_memory_equal(cached, v.vcek, v.vcek_len);
        free(cached);

        test_httpd_stop(h);
        vec_done(&v);
}

static void test_kds_turin_fetch(void **state)
{
        struct vec v;
        struct vt_snp_report r;
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char base[64], want[600];
        char *url = NULL;

        vec_load(&v, TURIN_REPORT, TURIN_VCEK);
        turin_path(v.report, v.path, sizeof(v.path));
        assert_string_equal(v.path, TURIN_PATH);
        struct test_httpd *h = serve(TURIN_PATH, 200, v.vcek, v.vcek_len);
        test_httpd_url(h, base, sizeof(base));

        assert_int_equal(vt_snp_report_parse(v.report, v.report_len, &r, &d), 0);
        assert_int_equal(r.product, VT_SNP_PRODUCT_TURIN);
        assert_int_equal(vt_snp_kds_vcek_url(base, VT_SNP_PRODUCT_TURIN, &r, &url), 0);
        snprintf(want, sizeof(want), "%s%s", base, TURIN_PATH);
        assert_string_equal(url, want);
        free(url);
        assert_int_equal(
                vt_snp_kds_vcek_url("https://kdsintf.amd.com", VT_SNP_PRODUCT_TURIN, &r, &url), 0);
        assert_string_equal(url, "https://kdsintf.amd.com" TURIN_PATH);
        free(url);

        int e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01,
                           VT_SNP_PRODUCT_UNKNOWN, &res, &d);
        expect_rc(e, 0, &d);
        assert_int_equal(test_httpd_hits(h), 1);
        assert_string_equal(test_httpd_last_path(h), TURIN_PATH);
        assert_int_equal(res.product, VT_SNP_PRODUCT_TURIN);
        assert_int_equal(vt_test_count_files(v.cache, NULL, 0), 1);

        test_httpd_stop(h);
        vec_done(&v);
}

static void test_kds_disk_cache(void **state)
{
        struct vec v;
        struct vt_diag d = {0};
        char base[64], stopped[64], name[256], path[600];

        vec_load(&v, MILAN_REPORT, MILAN_VCEK);
        milan_path(v.report, v.path, sizeof(v.path));

        /* first verification fetches and fills the cache */
        struct test_httpd *h = serve(v.path, 200, v.vcek, v.vcek_len);
        test_httpd_url(h, stopped, sizeof(stopped));
        int e = kds_verify(stopped, v.cache, v.report, v.report_len, T_2027_01_01,
                           VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        expect_rc(e, 0, &d);
        assert_int_equal(test_httpd_hits(h), 1);
        assert_int_equal(vt_test_count_files(v.cache, name, sizeof(name)), 1);
        snprintf(path, sizeof(path), "%s/%s", v.cache, name);
        test_httpd_stop(h);

        /* a fresh verifier with the same cache needs no server: 0 requests to a live
         * one, and it works against the stopped one too */
        h = serve(NULL, 0, NULL, 0);
        test_httpd_url(h, base, sizeof(base));
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        expect_rc(e, 0, &d);
        assert_int_equal(test_httpd_hits(h), 0);
        test_httpd_stop(h);
        e = kds_verify(stopped, v.cache, v.report, v.report_len, T_2027_01_01,
                       VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        expect_rc(e, 0, &d);

        /* at 2040 the cached VCEK (to 2033) is not used: the fetch is attempted and the
         * stopped server cannot answer ... */
        e = kds_verify(stopped, v.cache, v.report, v.report_len, T_2040_01_01,
                       VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        expect_rc(e, VT_E_NETWORK, &d);
        expect_msg(&d, "/vcek/v1/Milan/");
        /* ... and a server that answers gets its certificate checked by the window anyway */
        h = serve(v.path, 200, v.vcek, v.vcek_len);
        test_httpd_url(h, base, sizeof(base));
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2040_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        expect_rc(e, VT_E_EXPIRED, &d);
        expect_msg(&d, "leaf certificate \"SEV-VCEK\"");
        assert_int_equal(test_httpd_hits(h), 1);

        /* a damaged cache file is ignored, fetched again and replaced */
        assert_int_equal(vt_write_file_atomic(path, "garbage", 7, 0644), 0);
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        expect_rc(e, 0, &d);
        assert_int_equal(test_httpd_hits(h), 2);
        uint8_t *cached = NULL;
        size_t cached_len = 0;
        assert_int_equal(vt_read_file(path, 1u << 20, &cached, &cached_len), 0);
        assert_int_equal(cached_len, v.vcek_len);
        assert_memory_equal(cached, v.vcek, v.vcek_len);
        free(cached);

        test_httpd_stop(h);
        vec_done(&v);
}

static void test_kds_http_errors(void **state)
{
        struct vec v;
        struct vt_diag d = {0};
        char base[64], url[700];

        vec_load(&v, MILAN_REPORT, MILAN_VCEK);
        milan_path(v.report, v.path, sizeof(v.path));

        /* unknown path: 404 -> NOTFOUND naming the URL and the status */
        struct test_httpd *h = serve(NULL, 0, NULL, 0);
        test_httpd_url(h, base, sizeof(base));
        snprintf(url, sizeof(url), "%s%s", base, v.path);
        int e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01,
                           VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        expect_rc(e, VT_E_NOTFOUND, &d);
        expect_msg(&d, url);
        expect_msg(&d, "404");
        assert_int_equal(test_httpd_hits(h), 1);
        assert_string_equal(test_httpd_last_path(h), v.path);
        test_httpd_stop(h);

        /* a server error */
        static const char oops[] = "oops";
        h = serve(v.path, 500, oops, sizeof(oops) - 1);
        test_httpd_url(h, base, sizeof(base));
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        expect_rc(e, VT_E_NETWORK, &d);
        expect_msg(&d, "500");
        test_httpd_stop(h);

        /* a 200 whose body is not a certificate */
        static const char html[] = "<html>KDS is resting</html>";
        h = serve(v.path, 200, html, sizeof(html) - 1);
        test_httpd_url(h, base, sizeof(base));
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        expect_rc(e, VT_E_FORMAT, &d);
        expect_msg(&d, "not a certificate");
        test_httpd_stop(h);

        /* an empty body */
        h = serve(v.path, 200, "", 0);
        test_httpd_url(h, base, sizeof(base));
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        expect_rc(e, VT_E_FORMAT, &d);
        test_httpd_stop(h);

        /* a body beyond the certificate cap is cut off, not buffered */
        size_t big_len = 256u * 1024u;
        uint8_t *big = malloc(big_len);
        assert_non_null(big);
        memset(big, 'A', big_len);
        h = serve(v.path, 200, big, big_len);
        free(big);
        test_httpd_url(h, base, sizeof(base));
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        assert_true(e < 0);
        expect_msg(&d, "exceeds");
        test_httpd_stop(h);

        /* nothing of the above reached the cache */
        assert_int_equal(vt_test_count_files(v.cache, NULL, 0), 0);
        vec_done(&v);
}

/* A real VCEK of another Milan chip served at this chip's URL */
static void test_kds_other_chip(void **state)
{
        struct vec v;
        struct vt_diag d = {0};
        char base[64];
        size_t other_len = 0;

        vec_load(&v, MILAN_REPORT, MILAN_VCEK);
        milan_path(v.report, v.path, sizeof(v.path));
        uint8_t *other = vt_test_load_vector("snp/gsg/milan_v2_vcek.der", &other_len);
        struct test_httpd *h = serve(v.path, 200, other, other_len);
        test_httpd_url(h, base, sizeof(base));
        int e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01,
                           VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        if (e != VT_E_SIGNATURE && e != VT_E_BINDING) {
                print_message("got %s (%d): %s\n", vt_strerror(e), e, d.msg);
                fail();
        }
        assert_int_equal(test_httpd_hits(h), 1);
        test_httpd_stop(h);
        free(other);

        /* a Genoa VCEK at the Milan URL: chains to the wrong root */
        vec_new_cache(&v);
        other = vt_test_load_vector("snp/trustee/e2e-vcek-genoa-siena.der", &other_len);
        h = serve(v.path, 200, other, other_len);
        test_httpd_url(h, base, sizeof(base));
        e = kds_verify(base, v.cache, v.report, v.report_len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN,
                       NULL, &d);
        expect_rc(e, VT_E_CHAIN, &d);
        expect_msg(&d, "Genoa");
        assert_int_equal(test_httpd_hits(h), 1);
        test_httpd_stop(h);
        free(other);
        vec_done(&v);
}

static void test_kds_no_request(void **state)
{
        struct vt_diag d = {0};
        char base[64];
        size_t len = 0;
        VT_REQUIRE_TESTDATA(); /* before the server starts: a skip must not leak it */
        struct test_httpd *h = serve(NULL, 0, NULL, 0);
        test_httpd_url(h, base, sizeof(base));

        /* a VLEK-signed report: KDS does not publish VLEKs */
        uint8_t *vlek = vt_test_load_vector("snp/trustee/test-vlek-report.bin", &len);
        int e = kds_verify(base, NULL, vlek, len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        expect_rc(e, VT_E_NOTFOUND, &d);
        expect_msg(&d, "VLEK, which KDS does not publish");
        free(vlek);

        /* a masked (all-zero) CHIP_ID: no URL to ask */
        uint8_t *rep = vt_test_load_vector(MILAN_REPORT, &len);
        memset(rep + 0x1a0, 0, 64);
        e = kds_verify(base, NULL, rep, len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        expect_rc(e, VT_E_NOTFOUND, &d);
        expect_msg(&d, "chip_id is masked");
        free(rep);

        /* a version 2 report has no CPUID: the product must be given */
        rep = vt_test_load_vector("snp/gsg/milan_v2_attestation.bin", &len);
        e = kds_verify(base, NULL, rep, len, T_2027_01_01, VT_SNP_PRODUCT_UNKNOWN, NULL, &d);
        expect_rc(e, VT_E_NOTFOUND, &d);
        expect_msg(&d, "product unknown");
        assert_int_equal(test_httpd_hits(h), 0);

        /* with the product given it asks (and this server has nothing) */
        e = kds_verify(base, NULL, rep, len, T_2027_01_01, VT_SNP_PRODUCT_MILAN, NULL, &d);
        expect_rc(e, VT_E_NOTFOUND, &d);
        assert_int_equal(test_httpd_hits(h), 1);
        assert_int_equal(strncmp(test_httpd_last_path(h), "/vcek/v1/Milan/3ac3fe21e13fb099", 31),
                         0);
        free(rep);
        test_httpd_stop(h);
}

static void test_kds_cli(void **state)
{
        struct vec v;
        char base[64], bin[4096], report[4096], out[65536];
        const char *dir = getenv("VT_BIN");

        if (!dir || !*dir)
                vtt_skip("VT_BIN not set");
        vec_load(&v, MILAN_REPORT, MILAN_VCEK);
        milan_path(v.report, v.path, sizeof(v.path));
        snprintf(bin, sizeof(bin), "%s/veritee", dir);
        snprintf(report, sizeof(report), "%s", vt_testdata(MILAN_REPORT));

        struct test_httpd *h = serve(v.path, 200, v.vcek, v.vcek_len);
        test_httpd_url(h, base, sizeof(base));
        char *argv[] = {bin,           "verify", "snp",  report,     "--kds-url", base,
                        "--cache-dir", v.cache,  "--at", AT_RFC3339, NULL};
        int rc = vt_test_run_capture(argv, out, sizeof(out));
        if (rc != 0)
                print_message("veritee exit %d, stdout: %s\n", rc, out);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "\"verdict\":\"trusted\""));
        assert_int_equal(test_httpd_hits(h), 1);
        assert_string_equal(test_httpd_last_path(h), v.path);
        assert_int_equal(vt_test_count_files(v.cache, NULL, 0), 1);
        test_httpd_stop(h);

        /* an empty KDS and an empty cache: rejected, exit 1, the reason names the 404 */
        vec_new_cache(&v);
        h = serve(NULL, 0, NULL, 0);
        test_httpd_url(h, base, sizeof(base));
        rc = vt_test_run_capture(argv, out, sizeof(out));
        assert_int_equal(rc, 1);
        assert_non_null(strstr(out, "\"verdict\":\"rejected\""));
        assert_non_null(strstr(out, "404"));
        test_httpd_stop(h);
        vec_done(&v);
}

/* Connects to the test server, sends req (len bytes), returns the answer. */
static size_t raw_exchange(int port, const void *req, size_t len, char *out, size_t cap)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        size_t got = 0;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        if (len > 0)
                assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
        (void)shutdown(fd, SHUT_WR);
        for (;;) {
                ssize_t k = recv(fd, out + got, cap - 1 - got, 0);
                if (k <= 0)
                        break;
                got += (size_t)k;
                if (got == cap - 1)
                        break;
        }
        out[got] = 0;
        close(fd);
        return got;
}

/* The helper server survives junk and answers well-formed requests. */
static void test_httpd_robust(void **state)
{
        static const char body[] = "hello";
        static const char junk[] = "\x01\x02garbage with no request line\r\n\r\n";
        static const char get[] = "GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n";
        static const char head[] = "HEAD /a?b=c HTTP/1.0\r\n\r\n";
        static const char other[] = "GET /nope HTTP/1.1\r\n\r\n";
        char out[4096];
        struct test_httpd *h = serve("/a?b=c", 0, body, sizeof(body) - 1);
        int port = test_httpd_port(h);
        assert_true(port > 0);

        raw_exchange(port, junk, sizeof(junk) - 1, out, sizeof(out));
        assert_int_equal(strncmp(out, "HTTP/1.1 400 ", 13), 0);
        /* 20 KiB without a line end: the server stops reading at its cap */
        char *flood = malloc(20 * 1024);
        assert_non_null(flood);
        memset(flood, 'A', 20 * 1024);
        raw_exchange(port, flood, 20 * 1024, out, sizeof(out));
        free(flood);
        assert_int_equal(strncmp(out, "HTTP/1.1 400 ", 13), 0);
        /* a client that says nothing */
        raw_exchange(port, NULL, 0, out, sizeof(out));
        assert_string_equal(out, "");

        raw_exchange(port, get, sizeof(get) - 1, out, sizeof(out));
        assert_int_equal(strncmp(out, "HTTP/1.1 200 OK\r\n", 17), 0);
        assert_non_null(strstr(out, "Content-Length: 5\r\n"));
        assert_non_null(strstr(out, "Connection: close\r\n"));
        assert_non_null(strstr(out, "\r\n\r\nhello"));
        assert_string_equal(test_httpd_last_path(h), "/a?b=c");
        raw_exchange(port, head, sizeof(head) - 1, out, sizeof(out));
        assert_int_equal(strncmp(out, "HTTP/1.1 200 OK\r\n", 17), 0);
        assert_null(strstr(out, "hello"));
        raw_exchange(port, other, sizeof(other) - 1, out, sizeof(out));
        assert_int_equal(strncmp(out, "HTTP/1.1 404 ", 13), 0);
        assert_string_equal(test_httpd_last_path(h), "/nope");
        assert_int_equal(test_httpd_hits(h), 5);
        test_httpd_stop(h);
}

int main(void)
{
        /* only ever talk to 127.0.0.1 directly, whatever proxy the environment names */
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_httpd_robust),    cmocka_unit_test(test_kds_milan_fetch),
                cmocka_unit_test(test_kds_turin_fetch), cmocka_unit_test(test_kds_disk_cache),
                cmocka_unit_test(test_kds_http_errors), cmocka_unit_test(test_kds_other_chip),
                cmocka_unit_test(test_kds_no_request),  cmocka_unit_test(test_kds_cli),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
