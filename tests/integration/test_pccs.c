/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP collateral fetching from a PCS/PCCS v4 service: recorded Intel PCS answers
 * (tdx_50806f_eval15_gtg: TCB info, TD_QE identity, Platform CA CRL, root CA CRL, and
 * the issuer chains as URL-encoded headers) served by tests/helpers/httpd.c on
 * 127.0.0.1, never the internet. Covers the exact request targets, the memory and disk
 * caches, the CRL encodings PCS and PCCS use, the HTTP error paths, an edited TCB info
 * that must not be cached, and `veritee verify tdx --pccs-url` with and without a policy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "testutil.h"

#include "collateral/kds.h"
#include "httpd.h"
#include "util/file.h"
#include "veritee/dcap.h"

#define VEC "dcap/tdx_50806f_eval15_gtg/"

/* 2023-07-01T01:00:00Z (go-tdx-guest's currentTime); the collateral window is
 * 2023-06-18T08:42:58Z .. 2023-07-08T07:24:59Z (PROVENANCE.md), the QE identity's
 * nextUpdate being the earliest expiry. */
#define AT_RFC3339   "2023-07-01T01:00:00Z"
#define AT           INT64_C(1688173200)
#define EARLIEST_EXP INT64_C(1688801099)

/* The PCS v4 request targets for this quote: TDX, PCK issued by the Platform CA, FMSPC
 * 50806F000000 (the quote's PCK certificate; the TCB info says "50806f000000"). The
 * FMSPC is sent as lower-case hex, which PCS and PCCS accept. */
#define P_PCKCRL "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
#define P_TCB    "/tdx/certification/v4/tcb?fmspc=50806f000000"
#define P_QE     "/tdx/certification/v4/qe/identity"
#define P_ROOT   "/sgx/certification/v4/rootcacrl"

#define CACHE_FILE "dcap-tdx-platform-50806f000000.json"

/* The recorded answers, the headers PCS sends with them, and a scratch directory. */
struct pcs {
        uint8_t *quote, *tcb, *qe, *pck_crl, *root_crl;
        size_t quote_len, tcb_len, qe_len, pck_crl_len, root_crl_len;
        char *root_crl_hex;  /* what PCCS answers on /rootcacrl */
        char *tcb_chain_pem; /* tcb_info_issuer_chain.pem, also the QE identity's */
        char *h_tcb, *h_qe, *h_pck;
        char dir[256];
};

enum {
        R_PCKCRL,
        R_TCB,
        R_QE,
        R_ROOT,
        N_ROUTES,
};

/* Percent-encodes everything but RFC 3986 unreserved characters, as PCS does. */
static char *url_encode(const uint8_t *s, size_t n)
{
        static const char hexd[] = "0123456789ABCDEF";
        char *out = malloc(3 * n + 1), *o = out;
        assert_non_null(out);
        for (size_t i = 0; i < n; i++) {
                uint8_t c = s[i];
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~') {
                        *o++ = (char)c;
                } else {
                        *o++ = '%';
                        *o++ = hexd[c >> 4];
                        *o++ = hexd[c & 15];
                }
        }
        *o = 0;
        return out;
}

/* "Name: <URL-encoded pem>\r\n" */
static char *chain_header(const char *name, const uint8_t *pem, size_t len)
{
        char *enc = url_encode(pem, len), *h = NULL;
        assert_true(asprintf(&h, "%s: %s\r\n", name, enc) > 0);
        free(enc);
        return h;
}

static char *to_hex(const uint8_t *p, size_t n)
{
        static const char hexd[] = "0123456789abcdef";
        char *h = malloc(2 * n + 1);
        assert_non_null(h);
        for (size_t i = 0; i < n; i++) {
                h[2 * i] = hexd[p[i] >> 4];
                h[2 * i + 1] = hexd[p[i] & 15];
        }
        h[2 * n] = 0;
        return h;
}

static void new_dir(struct pcs *p)
{
        vt_test_fresh_dir(p->dir, sizeof(p->dir), "pccs");
}

static void pcs_load(struct pcs *p)
{
        size_t n = 0;
        memset(p, 0, sizeof(*p));
        p->quote = vt_test_load_vector(VEC "quote_debug_td.bin", &p->quote_len); /* or skip */
        p->tcb = vt_test_load_vector(VEC "pcs_tcbinfo_response.json", &p->tcb_len);
        p->qe = vt_test_load_vector(VEC "pcs_qe_identity_response.json", &p->qe_len);
        p->pck_crl = vt_test_load_vector(VEC "pck_crl_platform.der", &p->pck_crl_len);
        p->root_crl = vt_test_load_vector(VEC "root_ca_crl.der", &p->root_crl_len);
        p->root_crl_hex = to_hex(p->root_crl, p->root_crl_len);
        p->tcb_chain_pem = (char *)vt_test_load_vector(VEC "tcb_info_issuer_chain.pem", &n);
        p->h_tcb = chain_header("TCB-Info-Issuer-Chain", (uint8_t *)p->tcb_chain_pem, n);
        p->h_qe = chain_header("SGX-Enclave-Identity-Issuer-Chain", (uint8_t *)p->tcb_chain_pem, n);
        uint8_t *pck_chain = vt_test_load_vector(VEC "pck_crl_issuer_chain.pem", &n);
        p->h_pck = chain_header("SGX-PCK-CRL-Issuer-Chain", pck_chain, n);
        free(pck_chain);
        new_dir(p);
}

static void pcs_done(struct pcs *p)
{
        vt_test_rm_dir(p->dir);
        free(p->quote);
        free(p->tcb);
        free(p->qe);
        free(p->pck_crl);
        free(p->root_crl);
        free(p->root_crl_hex);
        free(p->tcb_chain_pem);
        free(p->h_tcb);
        free(p->h_qe);
        free(p->h_pck);
}

/* The four routes as PCCS serves them: DER PCK CRL, hex root CA CRL. */
static void pcs_routes(const struct pcs *p, struct test_route r[N_ROUTES])
{
        r[R_PCKCRL] = (struct test_route){.path = P_PCKCRL,
                                          .body = p->pck_crl,
                                          .body_len = p->pck_crl_len,
                                          .headers = p->h_pck};
        r[R_TCB] = (struct test_route){
                .path = P_TCB, .body = p->tcb, .body_len = p->tcb_len, .headers = p->h_tcb};
        r[R_QE] = (struct test_route){
                .path = P_QE, .body = p->qe, .body_len = p->qe_len, .headers = p->h_qe};
        r[R_ROOT] = (struct test_route){
                .path = P_ROOT, .body = p->root_crl_hex, .body_len = strlen(p->root_crl_hex)};
}

static struct test_httpd *serve(const struct test_route *r, size_t n, char *url, size_t cap)
{
        struct test_httpd *h = test_httpd_start(r, n);
        assert_non_null(h);
        test_httpd_url(h, url, cap);
        return h;
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

/* One vt_dcap_verify of the quote with collateral NULL: from v's PCCS and caches. */
static int verify_with(struct vt_dcap_verifier *v, const struct pcs *p, struct vt_dcap_result *res,
                       struct vt_diag *d)
{
        struct vt_dcap_quote *q = NULL;
        vt_diag_clear(d);
        memset(res, 0, sizeof(*res));
        int e = vt_dcap_verify(v, p->quote, p->quote_len, NULL, AT, NULL, &q, res, d);
        if (e == 0) {
                assert_non_null(q);
                assert_int_equal(q->body_type, VT_DCAP_BODY_TD10);
                assert_true(q->td.td_attributes & 1); /* a debug TD: a policy matter */
        }
        vt_dcap_quote_free(q);
        return e;
}

static int verify_once(const char *url, const char *cache, const struct pcs *p,
                       struct vt_dcap_result *res, struct vt_diag *d)
{
        struct vt_dcap_verifier *v = NULL;
        assert_int_equal(vt_dcap_verifier_new(&v), 0);
        assert_int_equal(vt_dcap_verifier_set_pccs(v, url, cache), 0);
        int e = verify_with(v, p, res, d);
        vt_dcap_verifier_free(v);
        return e;
}

static void expect_uptodate(const struct vt_dcap_result *res)
{
        static const uint8_t fmspc[6] = {0x50, 0x80, 0x6f, 0x00, 0x00, 0x00};
        assert_int_equal(res->status, VT_TCB_UP_TO_DATE);
        assert_memory_equal(res->fmspc, fmspc, 6);
        assert_int_equal(res->collateral_earliest_expiry, EARLIEST_EXP);
}

static void expect_requests(struct test_httpd *h, const char *const *want, unsigned n)
{
        char got[1024];
        for (unsigned i = 0; i < n; i++) {
                assert_true(test_httpd_request(h, i, got, sizeof(got)));
                assert_string_equal(got, want[i]);
        }
        assert_false(test_httpd_request(h, n, got, sizeof(got)));
        assert_int_equal(test_httpd_hits(h), n);
}

/* A JSON string member of the file at path. */
static char *json_file_string(const char *path, const char *key)
{
        json_error_t je;
        json_t *j = json_load_file(path, 0, &je);
        assert_non_null(j);
        const char *s = json_string_value(json_object_get(j, key));
        assert_non_null(s);
        char *r = strdup(s);
        json_decref(j);
        assert_non_null(r);
        return r;
}

/* Fetch, verify, the memory cache, the disk cache with the server gone. */
static void test_pccs_fetch_and_cache(void **state)
{
        static const char *const want[] = {P_PCKCRL, P_TCB, P_QE, P_ROOT};
        struct pcs p;
        struct test_route r[N_ROUTES];
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        char url[64], name[256], path[512];
        (void)state;

        pcs_load(&p);
        pcs_routes(&p, r);
        struct test_httpd *h = serve(r, N_ROUTES, url, sizeof(url));

        struct vt_dcap_verifier *v = NULL;
        assert_int_equal(vt_dcap_verifier_new(&v), 0);
        assert_int_equal(vt_dcap_verifier_set_pccs(v, url, p.dir), 0);
        expect_rc(verify_with(v, &p, &res, &d), 0, &d);
        expect_uptodate(&res);
        expect_requests(h, want, N_ROUTES);

        /* the same verifier again: from memory, no request */
        expect_rc(verify_with(v, &p, &res, &d), 0, &d);
        expect_uptodate(&res);
        assert_int_equal(test_httpd_hits(h), N_ROUTES);
        vt_dcap_verifier_free(v);

        /* one file in the cache, in QuoteCollateralV3 form, with the signed bytes as sent */
        assert_int_equal(vt_test_count_files(p.dir, name, sizeof(name)), 1);
        assert_string_equal(name, CACHE_FILE);
        snprintf(path, sizeof(path), "%s/%s", p.dir, CACHE_FILE);
        char *got = json_file_string(path, "tcb_info");
        char *ref = json_file_string(vt_testdata(VEC "collateral.json"), "tcb_info");
        assert_string_equal(got, ref);
        assert_non_null(strstr((const char *)p.tcb, ref)); /* exactly a slice of the answer */
        free(got);
        free(ref);
        got = json_file_string(path, "tcb_info_issuer_chain");
        assert_string_equal(got, p.tcb_chain_pem); /* the header, URL-decoded */
        free(got);
        test_httpd_stop(h);

        /* a second verifier with the same cache verifies with the server gone */
        expect_rc(verify_once(url, p.dir, &p, &res, &d), 0, &d);
        expect_uptodate(&res);
        assert_int_equal(vt_test_count_files(p.dir, NULL, 0), 1);

        /* without the cache it has to ask, and nobody answers */
        expect_rc(verify_once(url, NULL, &p, &res, &d), VT_E_NETWORK, &d);
        expect_msg(&d, P_PCKCRL);

        /* a cache file that no longer verifies is not used: the server is asked */
        uint8_t *b = NULL;
        size_t n = 0;
        assert_int_equal(vt_read_file(path, 1u << 20, &b, &n), 0);
        char *sig = strstr((char *)b, "\"tcb_info_signature\":\"");
        assert_non_null(sig);
        sig += strlen("\"tcb_info_signature\":\"");
        *sig = *sig == '0' ? '1' : '0';
        assert_int_equal(vt_write_file_atomic(path, b, n, 0644), 0);
        free(b);
        h = serve(r, N_ROUTES, url, sizeof(url));
        expect_rc(verify_once(url, p.dir, &p, &res, &d), 0, &d);
        expect_uptodate(&res);
        expect_requests(h, want, N_ROUTES);
        test_httpd_stop(h);
        pcs_done(&p);
}

/* The CRL encodings: PCS sends PEM or (encoding=der) DER, PCCS hex; the root CA CRL
 * comes as hex from PCCS and as DER from the root certificate's CDP. */
static void test_pccs_crl_forms(void **state)
{
        struct pcs p;
        struct test_route r[N_ROUTES];
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        char url[64];
        (void)state;

        pcs_load(&p);
        const unsigned char *q = p.pck_crl;
        X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)p.pck_crl_len);
        assert_non_null(crl);
        BIO *bio = BIO_new(BIO_s_mem());
        assert_non_null(bio);
        assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
        char *pem_data = NULL;
        long pem_len = BIO_get_mem_data(bio, &pem_data);
        assert_true(pem_len > 0);
        char *pck_hex = to_hex(p.pck_crl, p.pck_crl_len);

        const struct {
                const char *what;
                const void *pck;
                size_t pck_len;
                const void *root;
                size_t root_len;
        } forms[] = {
                {"pck DER, root DER", p.pck_crl, p.pck_crl_len, p.root_crl, p.root_crl_len},
                {"pck PEM, root hex", pem_data, (size_t)pem_len, p.root_crl_hex,
                 strlen(p.root_crl_hex)},
                {"pck hex, root hex", pck_hex, strlen(pck_hex), p.root_crl_hex,
                 strlen(p.root_crl_hex)},
                {"pck hex, root hex + LF", pck_hex, strlen(pck_hex), p.root_crl_hex,
                 strlen(p.root_crl_hex)},
        };
        char *root_lf = NULL;
        assert_true(asprintf(&root_lf, "%s\n", p.root_crl_hex) > 0);
        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                print_message("CRL form: %s\n", forms[i].what);
                pcs_routes(&p, r);
                r[R_PCKCRL].body = forms[i].pck;
                r[R_PCKCRL].body_len = forms[i].pck_len;
                r[R_ROOT].body = i == 3 ? root_lf : forms[i].root;
                r[R_ROOT].body_len = i == 3 ? strlen(root_lf) : forms[i].root_len;
                struct test_httpd *h = serve(r, N_ROUTES, url, sizeof(url));
                expect_rc(verify_once(url, NULL, &p, &res, &d), 0, &d);
                expect_uptodate(&res);
                assert_int_equal(test_httpd_hits(h), N_ROUTES);
                test_httpd_stop(h);
        }
        free(root_lf);
        free(pck_hex);
        BIO_free(bio);
        X509_CRL_free(crl);
        pcs_done(&p);
}

/* Every failure names what failed, and nothing reaches the cache. */
static void test_pccs_http_errors(void **state)
{
        static const char html[] = "<html>PCCS is resting</html>";
        static const char trunc_json[] = "{\"tcbInfo\":{\"id\":\"TDX\"";
        struct pcs p;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        char url[64];
        (void)state;

        pcs_load(&p);
        const struct {
                const char *what;
                int route;
                int status;       /* -1: drop the route (404) */
                bool no_header;   /* drop the issuer-chain header */
                const char *hdr;  /* replace the issuer-chain header */
                bool tcb_answer;  /* answer with the TCB info response */
                const char *body; /* answer with this text */
                int want;
                const char *msg, *msg2;
        } cases[] = {
                {"404 TCB info", R_TCB, -1, false, NULL, false, NULL, VT_E_NOTFOUND, P_TCB, "404"},
                {"404 PCK CRL", R_PCKCRL, -1, false, NULL, false, NULL, VT_E_NOTFOUND, P_PCKCRL,
                 "404"},
                {"404 QE identity", R_QE, -1, false, NULL, false, NULL, VT_E_NOTFOUND, P_QE, "404"},
                {"404 root CRL", R_ROOT, -1, false, NULL, false, NULL, VT_E_NOTFOUND, P_ROOT,
                 "404"},
                {"500 TCB info", R_TCB, 500, false, NULL, false, NULL, VT_E_NETWORK, P_TCB, "500"},
                {"no TCB-Info-Issuer-Chain", R_TCB, 0, true, NULL, false, NULL, VT_E_FORMAT,
                 "TCB-Info-Issuer-Chain", P_TCB},
                {"no SGX-Enclave-Identity-Issuer-Chain", R_QE, 0, true, NULL, false, NULL,
                 VT_E_FORMAT, "SGX-Enclave-Identity-Issuer-Chain", P_QE},
                {"no SGX-PCK-CRL-Issuer-Chain", R_PCKCRL, 0, true, NULL, false, NULL, VT_E_FORMAT,
                 "SGX-PCK-CRL-Issuer-Chain", P_PCKCRL},
                {"junk TCB-Info-Issuer-Chain", R_TCB, 0, false, "TCB-Info-Issuer-Chain: junk\r\n",
                 false, NULL, VT_E_FORMAT, "tcb_info_issuer_chain", NULL},
                /* not UTF-8 once URL-decoded: cannot be JSON text, must not read as "out of
                 * memory" */
                {"binary TCB-Info-Issuer-Chain", R_TCB, 0, false,
                 "TCB-Info-Issuer-Chain: %FF%FE%30\r\n", false, NULL, VT_E_FORMAT, "", NULL},
                {"junk TCB info", R_TCB, 0, false, NULL, false, html, VT_E_FORMAT, "tcbInfo", NULL},
                {"truncated TCB info", R_TCB, 0, false, NULL, false, trunc_json, VT_E_FORMAT,
                 "tcbInfo", NULL},
                {"TCB info answer on the QE route", R_QE, 0, false, NULL, true, NULL, VT_E_FORMAT,
                 "enclaveIdentity", NULL},
                {"junk QE identity", R_QE, 0, false, NULL, false, html, VT_E_FORMAT,
                 "enclaveIdentity", NULL},
                {"junk PCK CRL", R_PCKCRL, 0, false, NULL, false, html, VT_E_FORMAT, "pck_crl",
                 NULL},
                {"junk root CRL", R_ROOT, 0, false, NULL, false, html, VT_E_FORMAT, "root_ca_crl",
                 NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                print_message("case: %s\n", cases[i].what);
                struct test_route all[N_ROUTES], kept[N_ROUTES];
                size_t nk = 0;
                pcs_routes(&p, all);
                struct test_route *t = &all[cases[i].route];
                if (cases[i].status > 0)
                        t->status = cases[i].status;
                if (cases[i].no_header)
                        t->headers = NULL;
                if (cases[i].hdr)
                        t->headers = cases[i].hdr;
                if (cases[i].tcb_answer) {
                        t->body = p.tcb;
                        t->body_len = p.tcb_len;
                } else if (cases[i].body) {
                        t->body = cases[i].body;
                        t->body_len = strlen(cases[i].body);
                }
                for (int k = 0; k < N_ROUTES; k++)
                        if (!(k == cases[i].route && cases[i].status < 0))
                                kept[nk++] = all[k];
                new_dir(&p);
                struct test_httpd *h = serve(kept, nk, url, sizeof(url));
                int e = verify_once(url, p.dir, &p, &res, &d);
                expect_rc(e, cases[i].want, &d);
                assert_true(d.msg[0] != 0);
                expect_msg(&d, cases[i].msg);
                if (cases[i].msg2)
                        expect_msg(&d, cases[i].msg2);
                assert_int_equal(vt_test_count_files(p.dir, NULL, 0), 0);
                test_httpd_stop(h);
        }
        pcs_done(&p);
}

/* A PCS answer whose tcbInfo lost its integrity: rejected by signature, not cached
 * (on disk or in memory), and the good answer is fetched afterwards. */
static void test_pccs_tampered_tcbinfo(void **state)
{
        static const char *const want[] = {P_PCKCRL, P_TCB, P_QE, P_ROOT};
        struct pcs p;
        struct test_route r[N_ROUTES];
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        char url[64];
        (void)state;

        pcs_load(&p);
        uint8_t *bad = malloc(p.tcb_len);
        assert_non_null(bad);
        memcpy(bad, p.tcb, p.tcb_len);
        /* one byte of the signed object: issueDate 08:42:58 -> 08:42:57 (still valid JSON,
         * still a valid time, and the window still holds AT) */
        char *at = memmem(bad, p.tcb_len, "\"issueDate\":\"2023-06-18T08:42:58Z\"", 34);
        assert_non_null(at);
        assert_true(at < (char *)memmem(bad, p.tcb_len, "\"signature\"", 11));
        assert_int_equal(at[31], '8');
        at[31] = '7';
        pcs_routes(&p, r);
        r[R_TCB].body = bad;

        struct vt_dcap_verifier *v = NULL;
        assert_int_equal(vt_dcap_verifier_new(&v), 0);
        struct test_httpd *h = serve(r, N_ROUTES, url, sizeof(url));
        assert_int_equal(vt_dcap_verifier_set_pccs(v, url, p.dir), 0);
        expect_rc(verify_with(v, &p, &res, &d), VT_E_SIGNATURE, &d);
        expect_msg(&d, "tcb_info");
        expect_msg(&d, "signature");
        assert_int_equal(vt_test_count_files(p.dir, NULL, 0), 0);
        /* asked again, the verifier asks again: nothing was remembered */
        expect_rc(verify_with(v, &p, &res, &d), VT_E_SIGNATURE, &d);
        assert_int_equal(test_httpd_hits(h), 2 * N_ROUTES);
        test_httpd_stop(h);

        /* the genuine answers from another server: fetched, verified, cached */
        pcs_routes(&p, r);
        h = serve(r, N_ROUTES, url, sizeof(url));
        assert_int_equal(vt_dcap_verifier_set_pccs(v, url, p.dir), 0);
        expect_rc(verify_with(v, &p, &res, &d), 0, &d);
        expect_uptodate(&res);
        expect_requests(h, want, N_ROUTES);
        assert_int_equal(vt_test_count_files(p.dir, NULL, 0), 1);
        test_httpd_stop(h);
        vt_dcap_verifier_free(v);
        free(bad);
        pcs_done(&p);
}

/* veritee verify tdx --pccs-url: trusted with a policy that allows debug TDs, rejected
 * (exit 1, naming the debug attribute) without one. */
static void test_pccs_cli(void **state)
{
        static const char policy_json[] = "{\"debug_allowed\":true}\n";
        struct pcs p;
        struct test_route r[N_ROUTES];
        char url[64], bin[4096], quote[4096], policy[512], out[65536];
        const char *dir = getenv("VT_BIN");
        (void)state;

        if (!dir || !*dir)
                vtt_skip("VT_BIN not set");
        pcs_load(&p);
        snprintf(bin, sizeof(bin), "%s/veritee", dir);
        snprintf(quote, sizeof(quote), "%s", vt_testdata(VEC "quote_debug_td.bin"));
        snprintf(policy, sizeof(policy), "%s/policy.json", p.dir);
        assert_int_equal(vt_write_file_atomic(policy, policy_json, sizeof(policy_json) - 1, 0644),
                         0);
        pcs_routes(&p, r);
        struct test_httpd *h = serve(r, N_ROUTES, url, sizeof(url));

        char *with[] = {bin,    "verify",   "tdx",      quote,  "--pccs-url", url,
                        "--at", AT_RFC3339, "--policy", policy, NULL};
        int rc = vt_test_run_capture(with, out, sizeof(out));
        if (rc != 0)
                print_message("veritee exit %d, stdout: %s\n", rc, out);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "\"verdict\":\"trusted\""));
        assert_non_null(strstr(out, "UpToDate"));
        assert_non_null(strstr(out, "\"td_attributes_debug\":true"));
        assert_int_equal(test_httpd_hits(h), N_ROUTES);

        char *without[] = {bin, "verify", "tdx",      quote, "--pccs-url",
                           url, "--at",   AT_RFC3339, NULL};
        rc = vt_test_run_capture(without, out, sizeof(out));
        if (rc != 1)
                print_message("veritee exit %d, stdout: %s\n", rc, out);
        assert_int_equal(rc, 1);
        assert_non_null(strstr(out, "\"verdict\":\"rejected\""));
        assert_non_null(strstr(out, "debug"));
        assert_int_equal(test_httpd_hits(h), 2 * N_ROUTES);
        test_httpd_stop(h);
        pcs_done(&p);
}

/* The helper's extra headers reach the client verbatim; bad header blocks are refused. */
static void test_httpd_headers(void **state)
{
        struct test_route ok = {.path = "/x", .body = "b", .body_len = 1, .headers = "A: 1\r\n"};
        struct test_route bad[] = {
                {.path = "/x", .headers = "A: 1"},
                {.path = "/x", .headers = "A: 1\nB: 2\r\n"},
                {.path = "/x", .headers = "A: 1\rB: 2\r\n"},
        };
        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                errno = 0;
                assert_null(test_httpd_start(&bad[i], 1));
                assert_int_equal(errno, EINVAL);
        }
        struct test_httpd *h = test_httpd_start(&ok, 1);
        assert_non_null(h);
        char base[64], url[80], buf[8], *hv = NULL;
        uint8_t *body = NULL;
        size_t len = 0;
        struct vt_diag d = {0};
        assert_false(test_httpd_request(h, 0, buf, sizeof(buf)));
        snprintf(url, sizeof(url), "%s/x", test_httpd_url(h, base, sizeof(base)));
        assert_int_equal(vt_http_get_header(url, 64, "a", &hv, &body, &len, &d), 0);
        assert_string_equal(hv, "1");
        assert_int_equal(len, 1);
        assert_int_equal(body[0], 'b');
        assert_true(test_httpd_request(h, 0, buf, sizeof(buf)));
        assert_string_equal(buf, "/x");
        free(hv);
        free(body);
        test_httpd_stop(h);
}

int main(void)
{
        /* only ever talk to 127.0.0.1 directly, whatever proxy the environment names */
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_httpd_headers),
                cmocka_unit_test(test_pccs_fetch_and_cache),
                cmocka_unit_test(test_pccs_crl_forms),
                cmocka_unit_test(test_pccs_http_errors),
                cmocka_unit_test(test_pccs_tampered_tcbinfo),
                cmocka_unit_test(test_pccs_cli),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
