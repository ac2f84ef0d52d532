/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCSP for NVIDIA device chains. No real OCSP response from NVIDIA's responder is stored
 * anywhere, so everything here is TEST-MADE with OpenSSL's API: a P-384 chain shaped like
 * NVIDIA's (root, Identity CA, Provisioner ICA, BROM, FMC leaf with the FWID extension) and
 * responses signed by the issuers or by a delegated test responder. The last case re-signs a
 * recorded Hopper report with the test leaf to run the whole verification with OCSP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/openssl-util.h"
#include "httpd.h"
#include "nvchain.h"
#include "testutil.h"
#include "verify/nvidia_internal.h"
#include "verify/nvidia_ocsp.h"
#include "veritee/nvidia.h"

#define GRACE 3600

/* root, identity, ica, brom, leaf (test-made, shaped like NVIDIA's: tests/helpers/nvchain.h) */
static struct nvchain CH;
#define N (CH.n)
static int64_t NOW;
static const uint8_t FWID[48] = {0xf5, 0xc3, 0x84, 0xae}; /* hopper_550's starts so */

static int setup(void **state)
{
        (void)state;
        NOW = (int64_t)time(NULL);
        nvchain_make(&CH, NOW, FWID);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        nvchain_free(&CH);
        return 0;
}

struct resp_spec {
        X509 *cert, *issuer; /* the status is about cert (issued by issuer) */
        X509 *signer;        /* NULL: the issuer signs */
        EVP_PKEY *signer_key;
        int status, reason;         /* V_OCSP_CERTSTATUS_*, CRL reason or -1 */
        int64_t this_off, next_off; /* from NOW; next_off 0: no nextUpdate */
        int resp_status;            /* OCSP_RESPONSE_STATUS_* */
        const EVP_MD *id_md;        /* CertID hash, NULL: SHA-1 */
};

/* A TEST-MADE OCSP response (DER, malloc'd). */
static uint8_t *make_resp(const struct resp_spec *s, size_t *len)
{
        OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
        OCSP_CERTID *id = OCSP_cert_to_id(s->id_md ? s->id_md : EVP_sha1(), s->cert, s->issuer);
        ASN1_TIME *tu = ASN1_TIME_set(NULL, (time_t)(NOW + s->this_off));
        ASN1_TIME *nu = s->next_off ? ASN1_TIME_set(NULL, (time_t)(NOW + s->next_off)) : NULL;
        ASN1_TIME *rt = ASN1_TIME_set(NULL, (time_t)(NOW - 3600));
        assert_non_null(OCSP_basic_add1_status(bs, id, s->status, s->reason, rt, tu, nu));
        X509 *signer = s->signer ? s->signer : s->issuer;
        EVP_PKEY *sk = s->signer_key;
        STACK_OF(X509) *extra = sk_X509_new_null();
        if (s->signer)
                sk_X509_push(extra, s->signer);
        assert_int_equal(OCSP_basic_sign(bs, signer, sk, EVP_sha384(), extra, 0), 1);
        OCSP_RESPONSE *r = OCSP_response_create(s->resp_status, s->resp_status ? NULL : bs);
        assert_non_null(r);
        unsigned char *der = NULL;
        int n = i2d_OCSP_RESPONSE(r, &der);
        assert_true(n > 0);
        uint8_t *out = malloc((size_t)n);
        memcpy(out, der, (size_t)n);
        *len = (size_t)n;
        OPENSSL_free(der);
        OCSP_RESPONSE_free(r);
        OCSP_BASICRESP_free(bs);
        OCSP_CERTID_free(id);
        ASN1_TIME_free(tu);
        ASN1_TIME_free(nu);
        ASN1_TIME_free(rt);
        sk_X509_free(extra);
        return out;
}

/* The response about certs[i] signed by its issuer, good, now-60 .. now+3600. */
static struct resp_spec good(int i)
{
        return (struct resp_spec){.cert = N[i].cert,
                                  .issuer = N[i - 1].cert,
                                  .signer_key = N[i - 1].key,
                                  .status = V_OCSP_CERTSTATUS_GOOD,
                                  .reason = -1,
                                  .this_off = -60,
                                  .next_off = 3600};
}

static int check(const struct resp_spec *s, int64_t at, struct vt_diag *d)
{
        size_t len;
        uint8_t *der = make_resp(s, &len);
        STACK_OF(X509) *u = sk_X509_new_null();
        for (int i = 1; i < 4; i++)
                sk_X509_push(u, N[i].cert);
        vt_diag_clear(d);
        int e = vt_nv_ocsp_check(der, len, s->cert, s->issuer, N[0].cert, u, at, GRACE, NULL, d);
        sk_X509_free(u);
        free(der);
        return e;
}

static void expect(int e, int want, const struct vt_diag *d, const char *needle)
{
        if (e != want)
                fail_msg("got %d (%s), want %d", e, d->msg, want);
        if (needle && !strstr(d->msg, needle))
                fail_msg("reason \"%s\" does not say \"%s\"", d->msg, needle);
}

static void test_ocsp_good(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        for (int i = 1; i <= 3; i++) {
                struct resp_spec s = good(i);
                expect(check(&s, NOW, &d), 0, &d, NULL);
                s.id_md = EVP_sha384(); /* NV's CertID hash */
                expect(check(&s, NOW, &d), 0, &d, NULL);
        }
}

static void test_ocsp_not_about_this_cert(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        struct resp_spec s = good(2);
        size_t len;
        uint8_t *der = make_resp(&s, &len);
        vt_diag_clear(&d);
        expect(vt_nv_ocsp_check(der, len, N[3].cert, N[2].cert, N[0].cert, NULL, NOW, GRACE, NULL,
                                &d),
               VT_E_NOTFOUND, &d, "not about");
        free(der);
}

static void test_ocsp_revoked_unknown(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        struct resp_spec s = good(2);
        s.status = V_OCSP_CERTSTATUS_REVOKED;
        s.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
        expect(check(&s, NOW, &d), VT_E_REVOKED, &d, "keyCompromise");
        s.reason = OCSP_REVOKED_STATUS_CERTIFICATEHOLD; /* no --allow-hold: refused too */
        expect(check(&s, NOW, &d), VT_E_REVOKED, &d, "certificateHold");
        s.status = V_OCSP_CERTSTATUS_UNKNOWN;
        s.reason = -1;
        expect(check(&s, NOW, &d), VT_E_REVOKED, &d, "unknown");
}

static void test_ocsp_window(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        struct resp_spec s = good(1);
        expect(check(&s, NOW + 3600 + GRACE - 1, &d), 0, &d, NULL); /* inside the grace */
        expect(check(&s, NOW + 3600 + GRACE + 1, &d), VT_E_EXPIRED, &d, "nextUpdate");
        s.this_off = 3600; /* from the future */
        s.next_off = 7200;
        expect(check(&s, NOW, &d), VT_E_EXPIRED, &d, "future");
        s.this_off = -60; /* no nextUpdate: an hour after thisUpdate */
        s.next_off = 0;
        expect(check(&s, NOW + 1800, &d), 0, &d, NULL);
        expect(check(&s, NOW + 3600 + GRACE + 60, &d), VT_E_EXPIRED, &d, "nextUpdate");
}

static void test_ocsp_signer(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        /* a key outside the chain */
        EVP_PKEY *k = nvchain_p384();
        X509 *rogue =
                nvchain_cert(NOW, "TEST rogue responder", k, NULL, NULL, false, "OCSPSigning", 7);
        struct resp_spec s = good(2);
        s.signer = rogue;
        s.signer_key = k;
        expect(check(&s, NOW, &d), VT_E_SIGNATURE, &d, "not trusted");
        /* delegated by the issuer with id-kp-OCSPSigning: accepted */
        EVP_PKEY *dk = nvchain_p384();
        X509 *del = nvchain_cert(NOW, "TEST delegated responder", dk, N[1].cert, N[1].key, false,
                                 "OCSPSigning", 8);
        s.signer = del;
        s.signer_key = dk;
        expect(check(&s, NOW, &d), 0, &d, NULL);
        /* issued by the issuer but without the OCSP signing purpose: refused */
        X509 *noeku =
                nvchain_cert(NOW, "TEST not a responder", dk, N[1].cert, N[1].key, false, NULL, 9);
        s.signer = noeku;
        expect(check(&s, NOW, &d), VT_E_SIGNATURE, &d, NULL);
        /* a delegated responder of another CA of the chain (not the cert's issuer) */
        X509 *other = nvchain_cert(NOW, "TEST other responder", dk, N[2].cert, N[2].key, false,
                                   "OCSPSigning", 10);
        s.signer = other;
        expect(check(&s, NOW, &d), VT_E_SIGNATURE, &d, NULL);
        X509_free(rogue);
        X509_free(del);
        X509_free(noeku);
        X509_free(other);
        EVP_PKEY_free(k);
        EVP_PKEY_free(dk);
}

static void test_ocsp_malformed(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        struct resp_spec s = good(2);
        s.resp_status = OCSP_RESPONSE_STATUS_TRYLATER;
        expect(check(&s, NOW, &d), VT_E_FORMAT, &d, "trylater");
        static const uint8_t junk[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
        vt_diag_clear(&d);
        assert_true(vt_nv_ocsp_check(junk, sizeof(junk), N[2].cert, N[1].cert, N[0].cert, NULL, NOW,
                                     GRACE, NULL, &d) < 0);
        /* every byte flip of a good response is refused or still says exactly "good" about
         * this certificate (flips in unsigned parts, e.g. the certs field, may be harmless) */
        s = good(2);
        size_t len;
        uint8_t *der = make_resp(&s, &len);
        size_t refused = 0;
        for (size_t i = 0; i < len; i++) {
                der[i] ^= 0x01;
                struct vt_nv_ocsp_status st = {0};
                vt_diag_clear(&d);
                int e = vt_nv_ocsp_check(der, len, N[2].cert, N[1].cert, N[0].cert, NULL, NOW,
                                         GRACE, &st, &d);
                if (e == 0)
                        assert_int_equal(st.status, V_OCSP_CERTSTATUS_GOOD);
                else
                        refused++;
                der[i] ^= 0x01;
        }
        assert_true(refused > len * 9 / 10);
        free(der);
}

/* The whole verification with OCSP: a recorded Hopper report re-signed by the test leaf
 * (rebuilt with the report's FWID), the test chain as PEM (leaf first) and the test root. */
struct resigned {
        struct vt_nv_report *rep;
        char *pem, *rootpem;
        size_t pl, rl;
};

static void resign(struct resigned *R)
{
        R->rep = nvchain_hopper(&CH, NULL);
        R->pem = nvchain_pem(&CH, &R->pl);
        R->rootpem = nvchain_root_pem(&CH, &R->rl);
}

static void resigned_done(struct resigned *R)
{
        free(R->pem);
        free(R->rootpem);
        vt_nv_report_free(R->rep);
}

static void test_verify_with_ocsp(void **state)
{
        (void)state;
        struct resigned R;
        resign(&R);
        struct vt_nv_report *rep = R.rep;
        char *pem = R.pem, *rootpem = R.rootpem;
        size_t pl = R.pl, rl = R.rl;
        struct vt_diag d = {0};

        struct vt_nv_verifier *v = NULL;
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        assert_int_equal(vt_nv_verifier_set_root(v, (uint8_t *)rootpem, (size_t)rl, &d), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_REQUIRE, NULL, GRACE), 0);
        struct vt_nv_verify_opts o = {.nonce = rep->nonce, .at = NOW};
        struct vt_nv_result res = {0};
        /* no response for any intermediate, no responder: refused, saying what to do */
        expect(vt_nv_verify(v, rep->bytes, rep->len, (uint8_t *)pem, (size_t)pl, &o, &res, &d),
               VT_E_NOTFOUND, &d, "--no-ocsp");
        for (int i = 1; i <= 2; i++) {
                struct resp_spec s = good(i);
                size_t len;
                uint8_t *der = make_resp(&s, &len);
                assert_int_equal(vt_nv_verifier_add_ocsp(v, der, len, &d), 0);
                free(der);
        }
        /* the BROM (certs[3]... here N[3]) is still missing: named */
        vt_diag_clear(&d);
        expect(vt_nv_verify(v, rep->bytes, rep->len, (uint8_t *)pem, (size_t)pl, &o, &res, &d),
               VT_E_NOTFOUND, &d, "TEST GH100 A01 GSP BROM");
        struct resp_spec s3 = good(3);
        size_t l3;
        uint8_t *d3 = make_resp(&s3, &l3);
        assert_int_equal(vt_nv_verifier_add_ocsp(v, d3, l3, &d), 0);
        free(d3);
        vt_diag_clear(&d);
        int e = vt_nv_verify(v, rep->bytes, rep->len, (uint8_t *)pem, (size_t)pl, &o, &res, &d);
        if (e)
                fail_msg("%s", d.msg);
        assert_true(res.ocsp_checked);
        assert_int_equal(res.ar4si.hardware, VT_AR4SI_UNRECOGNIZED_HARDWARE); /* test root */
        json_t *c = json_loads(res.claims, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(
                                    c, "x-nvidia-gpu-attestation-report-cert-chain-ocsp-status")),
                            "good");
        assert_string_equal(json_string_value(json_object_get(
                                    c, "x-nvidia-gpu-attestation-report-cert-chain-root")),
                            "extra (not NVIDIA)");
        json_decref(c);
        vt_nv_result_done(&res);
        /* past nextUpdate + grace the cached answers no longer count: refused */
        o.at = NOW + 3600 + GRACE + 120;
        vt_diag_clear(&d);
        expect(vt_nv_verify(v, rep->bytes, rep->len, (uint8_t *)pem, (size_t)pl, &o, &res, &d),
               VT_E_EXPIRED, &d, "expired");
        /* a revoked ICA in a fresh verifier */
        struct vt_nv_verifier *v2 = NULL;
        assert_int_equal(vt_nv_verifier_new(&v2), 0);
        assert_int_equal(vt_nv_verifier_set_root(v2, (uint8_t *)rootpem, (size_t)rl, &d), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v2, VT_NV_OCSP_REQUIRE, NULL, GRACE), 0);
        for (int i = 1; i <= 3; i++) {
                struct resp_spec s = good(i);
                if (i == 2) {
                        s.status = V_OCSP_CERTSTATUS_REVOKED;
                        s.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
                }
                size_t len;
                uint8_t *der = make_resp(&s, &len);
                assert_int_equal(vt_nv_verifier_add_ocsp(v2, der, len, &d), 0);
                free(der);
        }
        o.at = NOW;
        vt_diag_clear(&d);
        expect(vt_nv_verify(v2, rep->bytes, rep->len, (uint8_t *)pem, (size_t)pl, &o, &res, &d),
               VT_E_REVOKED, &d, "revoked");
        vt_nv_verifier_free(v2);
        vt_nv_verifier_free(v);
        resigned_done(&R);
}

/* The responder is asked (POST to the configured URL) for what no offline response covers, and
 * its answer is cached until nextUpdate: a second verification does not ask again. */
static void test_verify_ocsp_fetched_and_cached(void **state)
{
        (void)state;
        struct resigned R;
        resign(&R);
        struct vt_diag d = {0};
        struct resp_spec s3 = good(3); /* the BROM's, from the responder */
        size_t l3;
        uint8_t *d3 = make_resp(&s3, &l3);
        struct test_route routes[] = {{.path = "/ocsp", .body = d3, .body_len = l3}};
        struct test_httpd *h = test_httpd_start(routes, 1);
        assert_non_null(h);
        char base[64], url[96];
        snprintf(url, sizeof(url), "%s/ocsp", test_httpd_url(h, base, sizeof(base)));
        struct vt_nv_verifier *v = NULL;
        assert_int_equal(vt_nv_verifier_new(&v), 0);
        assert_int_equal(vt_nv_verifier_set_root(v, (uint8_t *)R.rootpem, (size_t)R.rl, &d), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_REQUIRE, url, GRACE), 0);
        for (int i = 1; i <= 2; i++) {
                struct resp_spec s = good(i);
                size_t len;
                uint8_t *der = make_resp(&s, &len);
                assert_int_equal(vt_nv_verifier_add_ocsp(v, der, len, &d), 0);
                free(der);
        }
        struct vt_nv_verify_opts o = {.nonce = R.rep->nonce, .at = NOW};
        for (int k = 0; k < 3; k++) {
                struct vt_nv_result res = {0};
                vt_diag_clear(&d);
                int e = vt_nv_verify(v, R.rep->bytes, R.rep->len, (uint8_t *)R.pem, (size_t)R.pl,
                                     &o, &res, &d);
                if (e)
                        fail_msg("%s", d.msg);
                assert_true(res.ocsp_checked);
                vt_nv_result_done(&res);
        }
        assert_int_equal(test_httpd_hits(h), 1);
        char req[512];
        assert_int_equal(test_httpd_request(h, 0, req, sizeof(req)), 1);
        assert_string_equal(req, "/ocsp");
        vt_nv_verifier_free(v);
        /* a responder that answers 404: refused, naming the certificate and the way out */
        struct vt_nv_verifier *v2 = NULL;
        char bad[96];
        snprintf(bad, sizeof(bad), "%s/none", base);
        assert_int_equal(vt_nv_verifier_new(&v2), 0);
        assert_int_equal(vt_nv_verifier_set_root(v2, (uint8_t *)R.rootpem, (size_t)R.rl, &d), 0);
        assert_int_equal(vt_nv_verifier_set_ocsp(v2, VT_NV_OCSP_REQUIRE, bad, GRACE), 0);
        struct vt_nv_result res = {0};
        vt_diag_clear(&d);
        expect(vt_nv_verify(v2, R.rep->bytes, R.rep->len, (uint8_t *)R.pem, (size_t)R.pl, &o, &res,
                            &d),
               VT_E_NETWORK, &d, "OCSP for \"TEST GH100 A01 GSP BROM\"");
        vt_nv_verifier_free(v2);
        test_httpd_stop(h);
        free(d3);
        resigned_done(&R);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ocsp_good),
                cmocka_unit_test(test_ocsp_not_about_this_cert),
                cmocka_unit_test(test_ocsp_revoked_unknown),
                cmocka_unit_test(test_ocsp_window),
                cmocka_unit_test(test_ocsp_signer),
                cmocka_unit_test(test_ocsp_malformed),
                cmocka_unit_test(test_verify_with_ocsp),
                cmocka_unit_test(test_verify_ocsp_fetched_and_cached),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
