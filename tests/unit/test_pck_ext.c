/* SPDX-License-Identifier: Apache-2.0 */
/* The PCK certificate's SGX extension, read with vt_rd's DER getters
 * (vt_pck_ext_parse_der in lib/verify/dcap_verify.c), on a recorded Intel PCK leaf. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/x509.h"
#include "testutil.h"
#include "verify/dcap_internal.h"

#define SGX_EXT_OID "1.2.840.113741.1.13.1"

/* The leaf of the PEM chain inside the recorded SGX quote. */
static X509 *pck_leaf(void)
{
        size_t len = 0;
        uint8_t *q = vt_test_load_vector("dcap/sgx_00a067_eval17/quote.bin", &len);
        if (!q)
                return NULL;
        const char *pem = memmem(q, len, "-----BEGIN CERTIFICATE-----", 27);
        assert_non_null(pem);
        BIO *b = BIO_new_mem_buf(pem, (int)(len - (size_t)((const uint8_t *)pem - q)));
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        free(q);
        assert_non_null(x);
        return x;
}

static void test_pck_ext_recorded(void **state)
{
        X509 *x = pck_leaf();
        if (!x)
                skip();
        struct vt_pck_ext e;
        struct vt_diag d = {0};
        const uint8_t *p;
        size_t n;
        assert_int_equal(vt_pck_ext_parse(x, &e, &d), 0);
        assert_int_equal(vt_x509_ext_data(x, SGX_EXT_OID, &p, &n), 0);
        struct vt_pck_ext e2;
        assert_int_equal(vt_pck_ext_parse_der(p, n, &e2, &d), 0);
        assert_memory_equal(&e, &e2, sizeof(e));
        /* FMSPC 00a067 (the vector's name), SGX type 0..2 */
        assert_memory_equal(e.fmspc, "\x00\xa0\x67", 3);
        assert_true(e.sgx_type >= 0 && e.sgx_type <= 2);
        X509_free(x);
}

/* Every truncation of the extension is refused and leaves the output alone. */
static void test_pck_ext_truncations(void **state)
{
        X509 *x = pck_leaf();
        if (!x)
                skip();
        const uint8_t *p;
        size_t n;
        assert_int_equal(vt_x509_ext_data(x, SGX_EXT_OID, &p, &n), 0);
        for (size_t cut = 0; cut < n; cut++) {
                struct vt_pck_ext e;
                memset(&e, 0x5a, sizeof(e));
                struct vt_diag d = {0};
                assert_int_equal(vt_pck_ext_parse_der(p, cut, &e, &d), VT_E_FORMAT);
                assert_int_equal(e.fmspc[0], 0x5a);
        }
        /* and a byte after the top SEQUENCE */
        uint8_t *more = malloc(n + 1);
        memcpy(more, p, n);
        more[n] = 0;
        struct vt_pck_ext e;
        struct vt_diag d = {0};
        assert_int_equal(vt_pck_ext_parse_der(more, n + 1, &e, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "not a DER sequence"));
        free(more);
        X509_free(x);
}

/* The same extension, re-encoded with a non-minimal length or an indefinite length on
 * the outer SEQUENCE, is not DER and is refused. */
static void test_pck_ext_not_der(void **state)
{
        X509 *x = pck_leaf();
        if (!x)
                skip();
        const uint8_t *p;
        size_t n;
        assert_int_equal(vt_x509_ext_data(x, SGX_EXT_OID, &p, &n), 0);
        /* the recorded one starts 30 82 LL LL: re-encode with three length octets */
        assert_int_equal(p[0], 0x30);
        assert_int_equal(p[1], 0x82);
        uint8_t *b = malloc(n + 1);
        b[0] = 0x30, b[1] = 0x83, b[2] = 0x00;
        memcpy(b + 3, p + 2, n - 2);
        struct vt_pck_ext e;
        struct vt_diag d = {0};
        assert_int_equal(vt_pck_ext_parse_der(b, n + 1, &e, &d), VT_E_FORMAT);
        /* indefinite length with an end-of-contents marker */
        uint8_t *c = malloc(n + 2);
        c[0] = 0x30, c[1] = 0x80;
        memcpy(c + 2, p + 4, n - 4);
        c[n - 2] = 0, c[n - 1] = 0;
        assert_int_equal(vt_pck_ext_parse_der(c, n, &e, &d), VT_E_FORMAT);
        /* an SVN as a negative INTEGER: find the first TCB component INTEGER 02 01 xx
         * after the OID ...0d 01 02 01 and make it 0x80 */
        static const uint8_t comp1[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d,
                                        0x01, 0x0d, 0x01, 0x02, 0x01};
        const uint8_t *at = memmem(p, n, comp1, sizeof(comp1));
        assert_non_null(at);
        size_t i = (size_t)(at - p) + sizeof(comp1);
        assert_int_equal(p[i], 0x02);
        assert_int_equal(p[i + 1], 0x01);
        memcpy(b, p, n);
        b[i + 2] = 0x80;
        vt_diag_clear(&d);
        assert_int_equal(vt_pck_ext_parse_der(b, n, &e, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "lacks or mangles"));
        free(b);
        free(c);
        X509_free(x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pck_ext_recorded),
                cmocka_unit_test(test_pck_ext_truncations),
                cmocka_unit_test(test_pck_ext_not_der),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
