/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP collateral (lib/verify/dcap_collateral.c) and TCB evaluation (dcap_tcb.c).
 *
 * With ../shared/testdata/dcap: every collateral.json parses and verifies at its vector's
 * as_of time and fails outside its window; mutations of the signed bodies, chains and
 * CRLs are caught; the synthetic Intel QVL root is refused; the real quotes evaluate to
 * the statuses in PROVENANCE.md. Without it those cases skip. The TCB rules themselves
 * are exercised on synthetic TCB info and QE identities built here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <jansson.h>
#include <openssl/pem.h>

#include "crypto/x509.h"
#include "util/hex.h"
#include "verify/dcap_collateral.h"
#include "verify/dcap_internal.h"

#define DAY INT64_C(86400)

static int64_t T(const char *s)
{
        int64_t t = 0;
        assert_int_equal(vt_time_parse_rfc3339(s, &t), 0);
        return t;
}

static void assert_msg(const struct vt_diag *d, const char *part)
{
        if (!strstr(d->msg, part))
                fail_msg("diag \"%s\" lacks \"%s\"", d->msg, part);
}

/* ---- helpers for the recorded collateral ---- */

static char *load_text(const char *rel, size_t *len)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        char *s = realloc(b, n + 1);
        assert_non_null(s);
        s[n] = 0;
        if (len)
                *len = n;
        return s;
}

static int parse_str(const char *s, struct vt_dcap_collateral **c, struct vt_diag *d)
{
        vt_diag_clear(d);
        return vt_dcap_collateral_parse(s, strlen(s), c, d);
}

/* Parses s (must succeed) and verifies it at at; returns the error and fills d. */
static int verify_str(const char *s, int64_t at, int64_t *earliest, struct vt_diag *d)
{
        struct vt_dcap_collateral *c = NULL;
        int e = parse_str(s, &c, d);
        if (e < 0)
                fail_msg("parse: %s", d->msg);
        e = vt_dcap_collateral_verify(c, at, earliest, d);
        vt_dcap_collateral_free(c);
        return e;
}

/* The collateral JSON text with key set to value (a new malloc'd string). */
static char *with_key(const char *json, const char *key, const char *value)
{
        json_t *o = json_loads(json, 0, NULL);
        assert_non_null(o);
        assert_int_equal(json_object_set_new(o, key, json_string(value)), 0);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        assert_non_null(s);
        return s;
}

static const char *get_key(const json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        assert_non_null(s);
        return s;
}

static char *b0c06f(void)
{
        return load_text("dcap/tdx_b0c06f_eval17/collateral.json", NULL);
}

/* ---- recorded vectors ---- */

static void test_coll_vectors_verify(void **state)
{
        VT_REQUIRE_TESTDATA();
        json_t *vec = json_load_file(vt_testdata("dcap/vectors.json"), 0, NULL);
        assert_non_null(vec);
        const json_t *list = json_object_get(vec, "vectors"), *v;
        size_t i, done = 0;
        assert_true(json_array_size(list) >= 8);
        json_array_foreach (list, i, v) {
                const char *rel = get_key(v, "collateral");
                const json_t *w = json_object_get(v, "window");
                char path[256];
                struct vt_diag d = {0};
                int64_t at = T(get_key(v, "as_of")),
                        from = T(json_string_value(json_array_get(w, 0))),
                        to = T(json_string_value(json_array_get(w, 1))), earliest = 0;
                snprintf(path, sizeof(path), "dcap/%s", rel);
                char *s = load_text(path, NULL);

                if (verify_str(s, at, &earliest, &d) != 0)
                        fail_msg("%s at %s: %s", rel, get_key(v, "as_of"), d.msg);
                /* the earliest expiry is the end of the window PROVENANCE.md gives */
                assert_int_equal(earliest, to);
                /* both ends are inside */
                assert_int_equal(verify_str(s, from, NULL, &d), 0);
                assert_int_equal(verify_str(s, to, NULL, &d), 0);
                /* outside: "next update ... has passed" / "... is in the future" */
                assert_int_equal(verify_str(s, at + 60 * DAY, NULL, &d), VT_E_EXPIRED);
                assert_msg(&d, "next update ");
                assert_msg(&d, " has passed");
                assert_int_equal(verify_str(s, to + 1, NULL, &d), VT_E_EXPIRED);
                assert_int_equal(verify_str(s, from - 1, NULL, &d), VT_E_EXPIRED);
                assert_msg(&d, "is in the future");
                assert_int_equal(verify_str(s, at - 60 * DAY, NULL, &d), VT_E_EXPIRED);
                free(s);
                done++;
        }
        assert_int_equal(done, json_array_size(list));
        json_decref(vec);
}

/* vectors.json "negative" on tdx_b0c06f_eval17 */
static void test_coll_b0c06f_times(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        struct vt_diag d = {0};
        assert_int_equal(verify_str(s, T("2025-06-20T00:00:00Z"), NULL, &d), 0);
        /* after nextUpdate */
        assert_int_equal(verify_str(s, T("2025-08-01T00:00:00Z"), NULL, &d), VT_E_EXPIRED);
        assert_msg(&d, "has passed");
        /* before issueDate */
        assert_int_equal(verify_str(s, T("2025-06-01T00:00:00Z"), NULL, &d), VT_E_EXPIRED);
        assert_msg(&d, "in the future");
        /* the PCK CRL expired at 10:00:35 while the TCB info is valid until 10:16:03 */
        assert_int_equal(verify_str(s, T("2025-07-19T10:10:00Z"), NULL, &d), VT_E_EXPIRED);
        assert_msg(&d, "pck_crl: expired");
        assert_msg(&d, "2025-07-19T10:00:35Z");
        assert_int_equal(verify_str(s, T("2025-07-19T10:00:35Z"), NULL, &d), 0);
        assert_int_equal(verify_str(s, T("2025-07-19T10:00:36Z"), NULL, &d), VT_E_EXPIRED);
        assert_msg(&d, "pck_crl: expired");
        free(s);
}

/* The alternative TCB info of the 90C06F set expires (2026-03-03) before everything else
 * (2026-03-20): its own message. */
static void test_coll_tcb_info_expiry_message(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = load_text("dcap/tdx_90c06f_eval18/collateral_alt_tcbinfo_20260201.json", NULL);
        struct vt_diag d = {0};
        assert_int_equal(verify_str(s, T("2026-03-10T00:00:00Z"), NULL, &d), VT_E_EXPIRED);
        assert_msg(&d, "tcb_info: next update 2026-03-03T14:49:26Z has passed");
        free(s);
        s = b0c06f();
        assert_int_equal(verify_str(s, T("2025-06-19T10:30:00Z"), NULL, &d), VT_E_EXPIRED);
        assert_msg(&d, "qe_identity: issue date 2025-06-19T10:32:27Z is in the future");
        free(s);
}

static void test_coll_tcb_info_whitespace(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        json_t *o = json_loads(s, 0, NULL);
        const char *ti = get_key(o, "tcb_info");
        /* one space after the opening brace: still the same JSON, not the signed bytes */
        size_t n = strlen(ti);
        char *mod = malloc(n + 2);
        assert_non_null(mod);
        mod[0] = '{';
        mod[1] = ' ';
        memcpy(mod + 2, ti + 1, n);
        char *m = with_key(s, "tcb_info", mod);
        struct vt_diag d = {0};
        assert_int_equal(verify_str(m, T("2025-06-20T00:00:00Z"), NULL, &d), VT_E_SIGNATURE);
        assert_msg(&d, "tcb_info: signature does not verify");
        free(m);
        free(mod);
        json_decref(o);
        free(s);
}

static void test_coll_tcb_info_reserialized(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        json_t *o = json_loads(s, 0, NULL);
        json_t *ti = json_loads(get_key(o, "tcb_info"), 0, NULL);
        assert_non_null(ti);
        char *re = json_dumps(ti, JSON_COMPACT | JSON_SORT_KEYS);
        assert_non_null(re);
        assert_string_not_equal(re, get_key(o, "tcb_info"));
        char *m = with_key(s, "tcb_info", re);
        struct vt_diag d = {0};
        assert_int_equal(verify_str(m, T("2025-06-20T00:00:00Z"), NULL, &d), VT_E_SIGNATURE);
        assert_msg(&d, "tcb_info: signature does not verify");
        free(m);
        free(re);
        json_decref(ti);
        json_decref(o);
        free(s);
}

static void test_coll_qe_identity_changed(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        json_t *o = json_loads(s, 0, NULL);
        char *qe = strdup(get_key(o, "qe_identity"));
        assert_non_null(qe);
        /* "isvprodid":2 -> "isvprodid":3 */
        char *p = strstr(qe, "\"isvprodid\":2");
        assert_non_null(p);
        p[strlen("\"isvprodid\":")] = '3';
        char *m = with_key(s, "qe_identity", qe);
        struct vt_diag d = {0};
        assert_int_equal(verify_str(m, T("2025-06-20T00:00:00Z"), NULL, &d), VT_E_SIGNATURE);
        assert_msg(&d, "qe_identity: signature does not verify");
        free(m);
        free(qe);
        json_decref(o);
        free(s);
}

static void test_coll_signature_flipped(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        json_t *o = json_loads(s, 0, NULL);
        char *sig = strdup(get_key(o, "tcb_info_signature"));
        assert_non_null(sig);
        sig[10] = sig[10] == '0' ? '1' : '0';
        char *m = with_key(s, "tcb_info_signature", sig);
        struct vt_diag d = {0};
        assert_int_equal(verify_str(m, T("2025-06-20T00:00:00Z"), NULL, &d), VT_E_SIGNATURE);
        assert_msg(&d, "tcb_info: signature does not verify");
        free(m);
        /* the QE identity's signature in the TCB info's place */
        m = with_key(s, "tcb_info_signature", get_key(o, "qe_identity_signature"));
        assert_int_equal(verify_str(m, T("2025-06-20T00:00:00Z"), NULL, &d), VT_E_SIGNATURE);
        free(m);
        free(sig);
        json_decref(o);
        free(s);
}

static void test_coll_wrong_chains(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        json_t *o = json_loads(s, 0, NULL);
        struct vt_diag d = {0};
        int64_t at = T("2025-06-20T00:00:00Z");
        /* the PCK CA cannot sign TCB info */
        char *m = with_key(s, "tcb_info_issuer_chain", get_key(o, "pck_crl_issuer_chain"));
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        assert_msg(&d, "tcb_info_issuer_chain: certificate \"Intel SGX PCK Platform CA\" is not "
                       "Intel SGX TCB Signing");
        free(m);
        m = with_key(s, "pck_crl_issuer_chain", get_key(o, "tcb_info_issuer_chain"));
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        assert_msg(&d, "pck_crl_issuer_chain");
        free(m);
        /* the intermediate alone: the chain must end in the root */
        const char *chain = get_key(o, "tcb_info_issuer_chain");
        const char *end = strstr(chain, "-----END CERTIFICATE-----");
        assert_non_null(end);
        char *one = strndup(chain, (size_t)(end - chain) + strlen("-----END CERTIFICATE-----\n"));
        m = with_key(s, "tcb_info_issuer_chain", one);
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        assert_msg(&d, "expected 2 certificates");
        free(m);
        free(one);
        /* the PCK CRL swapped for the root CRL: not issued by the PCK CA */
        m = with_key(s, "pck_crl", get_key(o, "root_ca_crl"));
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        assert_msg(&d, "pck_crl: not issued by \"Intel SGX PCK Platform CA\"");
        free(m);
        /* and a CRL of the Processor CA with the Platform CA's chain (SGX vector's CRL) */
        char *sgx = load_text("dcap/sgx_00a067_eval17/collateral.json", NULL);
        json_t *so = json_loads(sgx, 0, NULL);
        m = with_key(s, "pck_crl", get_key(so, "pck_crl"));
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        free(m);
        json_decref(so);
        free(sgx);
        json_decref(o);
        free(s);
}

static X509 *load_cert(const char *rel)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        X509 *x = NULL;
        assert_int_equal(vt_x509_parse_one(b, n, &x), 0);
        free(b);
        return x;
}

static void test_coll_synthetic_root(void **state)
{
        VT_REQUIRE_TESTDATA();
        X509 *real = load_cert("dcap/roots/Intel_SGX_Root_CA.pem");
        X509 *real_der = load_cert("dcap/roots/Intel_SGX_Root_CA.der");
        X509 *fake = load_cert("dcap/negative/intel_qvl_synthetic_tdx/trustedRootCaCert.pem");
        char cn[64];
        assert_true(vt_intel_root_is_pinned(real));
        assert_true(vt_intel_root_is_pinned(real_der));
        /* same name, another key */
        vt_x509_subject_cn(fake, cn, sizeof(cn));
        assert_string_equal(cn, "Intel SGX Root CA");
        assert_false(vt_intel_root_is_pinned(fake));
        assert_false(vt_intel_root_is_pinned(NULL));
        X509_free(real);
        X509_free(real_der);
        X509_free(fake);

        /* the synthetic chains in a real collateral */
        char *s = b0c06f();
        struct vt_diag d = {0};
        int64_t at = T("2025-06-20T00:00:00Z");
        char *chain = load_text("dcap/negative/intel_qvl_synthetic_tdx/tcbSignChain.pem", NULL);
        char *m = with_key(s, "tcb_info_issuer_chain", chain);
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        assert_msg(&d, "root CA not pinned (synthetic?)");
        free(m);
        m = with_key(s, "qe_identity_issuer_chain", chain);
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        assert_msg(&d, "qe_identity_issuer_chain: root CA not pinned (synthetic?)");
        free(m);
        free(chain);
        chain = load_text("dcap/negative/intel_qvl_synthetic_tdx/pckSignChain.pem", NULL);
        m = with_key(s, "pck_crl_issuer_chain", chain);
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_CHAIN);
        assert_msg(&d, "root CA not pinned (synthetic?)");
        free(m);
        free(chain);
        /* the synthetic root CRL (same issuer name, other key) */
        size_t n;
        uint8_t *der =
                vt_test_load_vector("dcap/negative/intel_qvl_synthetic_tdx/rootCaCrl.der", &n);
        char *hex = malloc(2 * n + 1);
        assert_non_null(hex);
        vt_hex_encode(der, n, hex);
        m = with_key(s, "root_ca_crl", hex);
        assert_int_equal(verify_str(m, at, NULL, &d), VT_E_SIGNATURE);
        assert_msg(&d, "root_ca_crl: signature does not verify");
        free(m);
        free(hex);
        free(der);
        free(s);
}

/* A DER CRL (hex) of the collateral as PEM text. */
static char *crl_pem(const char *hex)
{
        size_t n = strlen(hex) / 2;
        uint8_t *der = malloc(n);
        assert_non_null(der);
        assert_int_equal(vt_hex_decode(hex, der, n), (int)n);
        X509_CRL *crl = NULL;
        assert_int_equal(vt_crl_parse(der, n, &crl), 0);
        BIO *b = BIO_new(BIO_s_mem());
        assert_true(PEM_write_bio_X509_CRL(b, crl));
        char *p;
        long l = BIO_get_mem_data(b, &p);
        char *s = strndup(p, (size_t)l);
        BIO_free(b);
        X509_CRL_free(crl);
        free(der);
        return s;
}

static char *hex_of(const char *text)
{
        size_t n = strlen(text);
        char *h = malloc(2 * n + 1);
        assert_non_null(h);
        vt_hex_encode((const uint8_t *)text, n, h);
        return h;
}

static void test_coll_crl_forms(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        json_t *o = json_loads(s, 0, NULL);
        struct vt_diag d = {0};
        int64_t at = T("2025-06-20T00:00:00Z");
        const char *keys[] = {"root_ca_crl", "pck_crl"};
        for (int k = 0; k < 2; k++) {
                const char *hex = get_key(o, keys[k]);
                char *pem = crl_pem(hex);
                char *forms[5];
                forms[0] = pem;         /* PEM as PCS returns it */
                forms[1] = hex_of(hex); /* hex of the PCCS hex body */
                forms[2] = hex_of(pem); /* hex of PEM */
                forms[3] = strdup(hex); /* upper case, whitespace around */
                forms[4] = malloc(strlen(hex) + 4);
                for (char *p = forms[3]; *p; p++)
                        if (*p >= 'a' && *p <= 'f')
                                *p = (char)(*p - 'a' + 'A');
                snprintf(forms[4], strlen(hex) + 4, " %s\n", hex);
                for (int f = 0; f < 5; f++) {
                        char *m = with_key(s, keys[k], forms[f]);
                        if (verify_str(m, at, NULL, &d) != 0)
                                fail_msg("%s form %d: %s", keys[k], f, d.msg);
                        free(m);
                        free(forms[f]);
                }
                /* hex of hex of hex: one level of re-encoding only */
                char *h1 = hex_of(hex), *h2 = hex_of(h1);
                char *m = with_key(s, keys[k], h2);
                struct vt_dcap_collateral *c = NULL;
                assert_int_equal(parse_str(m, &c, &d), VT_E_FORMAT);
                free(m);
                free(h1);
                free(h2);
        }
        json_decref(o);
        free(s);
}

static void test_coll_memo(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        struct vt_dcap_collateral *c = NULL;
        struct vt_diag d = {0};
        int64_t e1 = 0, e2 = 0;
        assert_int_equal(parse_str(s, &c, &d), 0);
        /* the static checks run once; windows every time */
        assert_int_equal(vt_dcap_collateral_verify(c, T("2025-06-20T00:00:00Z"), &e1, &d), 0);
        assert_int_equal(vt_dcap_collateral_verify(c, T("2025-06-25T00:00:00Z"), &e2, &d), 0);
        assert_int_equal(e1, e2);
        assert_int_equal(vt_dcap_collateral_verify(c, T("2025-08-01T00:00:00Z"), NULL, &d),
                         VT_E_EXPIRED);
        vt_diag_clear(&d);
        assert_int_equal(vt_dcap_collateral_verify(c, T("2025-06-20T00:00:00Z"), NULL, &d), 0);
        assert_non_null(vt_dcap_collateral_root_crl(c));
        assert_non_null(vt_dcap_collateral_pck_crl(c));
        assert_null(vt_dcap_collateral_root_crl(NULL));
        vt_dcap_collateral_free(c);
        free(s);
}

static void test_coll_parse_errors(void **state)
{
        VT_REQUIRE_TESTDATA();
        char *s = b0c06f();
        json_t *o = json_loads(s, 0, NULL);
        struct vt_dcap_collateral *c = NULL;
        struct vt_diag d = {0};
        static const char *const keys[] = {
                "pck_crl_issuer_chain",     "root_ca_crl", "pck_crl",
                "tcb_info_issuer_chain",    "tcb_info",    "tcb_info_signature",
                "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature",
        };
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                json_t *m = json_deep_copy(o);
                json_object_del(m, keys[i]);
                char *t = json_dumps(m, JSON_COMPACT);
                assert_int_equal(parse_str(t, &c, &d), VT_E_FORMAT);
                assert_msg(&d, keys[i]);
                free(t);
                json_object_set_new(m, keys[i], json_integer(1));
                t = json_dumps(m, JSON_COMPACT);
                assert_int_equal(parse_str(t, &c, &d), VT_E_FORMAT);
                assert_msg(&d, "is not a string");
                free(t);
                json_object_set_new(m, keys[i], json_string("00zz"));
                t = json_dumps(m, JSON_COMPACT);
                assert_true(parse_str(t, &c, &d) < 0);
                free(t);
                json_decref(m);
        }
        /* unknown keys are ignored */
        json_t *m = json_deep_copy(o);
        json_object_set_new(m, "pck_certificate_chain", json_string("x"));
        char *t = json_dumps(m, JSON_COMPACT);
        assert_int_equal(parse_str(t, &c, &d), 0);
        vt_dcap_collateral_free(c);
        free(t);
        json_decref(m);
        /* ... up to 32 keys in all */
        m = json_deep_copy(o);
        for (int k = 0; k < 24; k++) {
                char key[16];
                snprintf(key, sizeof(key), "extra%d", k);
                json_object_set_new(m, key, json_string("x"));
        }
        t = json_dumps(m, JSON_COMPACT);
        assert_int_equal(parse_str(t, &c, &d), VT_E_LIMIT);
        assert_msg(&d, "more than 32 keys");
        free(t);
        json_decref(m);
        /* a NUL inside a value */
        m = json_deep_copy(o);
        json_object_set_new(m, "tcb_info_signature", json_stringn("a\0b", 3));
        t = json_dumps(m, JSON_COMPACT);
        assert_int_equal(parse_str(t, &c, &d), VT_E_FORMAT);
        free(t);
        json_decref(m);
        /* duplicate keys, not an object, not JSON, too large */
        size_t n = strlen(s);
        char *dup = malloc(n + 64);
        snprintf(dup, n + 64, "{\"pck_crl\":\"00\",%s", s + 1);
        assert_int_equal(parse_str(dup, &c, &d), VT_E_FORMAT);
        free(dup);
        assert_int_equal(parse_str("[]", &c, &d), VT_E_FORMAT);
        assert_int_equal(parse_str("{", &c, &d), VT_E_FORMAT);
        assert_int_equal(vt_dcap_collateral_parse(s, VT_DCAP_COLL_MAX_JSON + 1, &c, &d),
                         VT_E_LIMIT);
        assert_int_equal(vt_dcap_collateral_parse(NULL, 0, &c, &d), VT_E_INVAL);
        json_decref(o);
        free(s);
}

/* Every truncation of a real collateral is refused (the JSON is cut). */
static void test_coll_truncations(void **state)
{
        VT_REQUIRE_TESTDATA();
        size_t n;
        char *s = load_text("dcap/sgx_00a067_eval17/collateral.json", &n);
        struct vt_dcap_collateral *c = NULL;
        struct vt_diag d = {0};
        for (size_t k = 0; k < n; k++) {
                /* trailing whitespace after the closing brace is still whole JSON */
                bool whole = true;
                for (size_t j = k; j < n; j++)
                        whole = whole && (s[j] == ' ' || s[j] == '\n' || s[j] == '\r');
                if (whole)
                        break;
                vt_diag_clear(&d);
                assert_true(vt_dcap_collateral_parse(s, k, &c, &d) < 0);
        }
        assert_int_equal(vt_dcap_collateral_parse(s, n, &c, &d), 0);
        vt_dcap_collateral_free(c);
        free(s);
}

/* ---- synthetic TCB info and QE identities ---- */

static const char TDQE_MRSIGNER[] =
        "DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5";
static const char QE_MRSIGNER[] =
        "8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF";
static const char ZERO48[] = "000000000000000000000000000000000000000000000000000000000000000000000"
                             "000000000000000000000000000";

static json_t *comps(const uint8_t svn[16])
{
        json_t *a = json_array();
        for (int i = 0; i < 16; i++)
                json_array_append_new(a, json_pack("{s:i}", "svn", svn[i]));
        return a;
}

static json_t *advs(const char *a1, const char *a2)
{
        json_t *a = json_array();
        if (a1)
                json_array_append_new(a, json_string(a1));
        if (a2)
                json_array_append_new(a, json_string(a2));
        return a;
}

/* A platform level: sgx components all sgx except [7] = sgx8, pcesvn, tdx components
 * {tdx0, 0, tdx2, 0...} (NULL tdx: none, for SGX). */
static json_t *plevel(int sgx, int sgx8, int pce, const int *tdx, const char *status,
                      const char *a1, const char *a2)
{
        uint8_t s[16] = {0}, t[16] = {0};
        for (int i = 0; i < 8; i++)
                s[i] = (uint8_t)sgx;
        s[7] = (uint8_t)sgx8;
        json_t *tcb = json_pack("{s:o, s:i}", "sgxtcbcomponents", comps(s), "pcesvn", pce);
        if (tdx) {
                t[0] = (uint8_t)tdx[0];
                t[2] = (uint8_t)tdx[1];
                json_object_set_new(tcb, "tdxtcbcomponents", comps(t));
        }
        json_t *l = json_pack("{s:o, s:s, s:s}", "tcb", tcb, "tcbDate", "2024-11-13T00:00:00Z",
                              "tcbStatus", status);
        if (a1)
                json_object_set_new(l, "advisoryIDs", advs(a1, a2));
        return l;
}

static json_t *ilevel(int isvsvn, const char *status, const char *a1)
{
        json_t *l = json_pack("{s:{s:i}, s:s, s:s}", "tcb", "isvsvn", isvsvn, "tcbDate",
                              "2024-03-13T00:00:00Z", "tcbStatus", status);
        if (a1)
                json_object_set_new(l, "advisoryIDs", advs(a1, NULL));
        return l;
}

static json_t *tcb_info(bool tdx, const char *fmspc, json_t *levels)
{
        json_t *t = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:i}", "id", tdx ? "TDX" : "SGX",
                              "version", 3, "issueDate", "2026-02-18T10:58:51Z", "nextUpdate",
                              "2026-03-20T10:58:51Z", "fmspc", fmspc, "pceId", "0000", "tcbType", 0,
                              "tcbEvaluationDataNumber", 18);
        if (tdx) {
                json_object_set_new(t, "tdxModule",
                                    json_pack("{s:s, s:s, s:s}", "mrsigner", ZERO48, "attributes",
                                              "0000000000000000", "attributesMask",
                                              "FFFFFFFFFFFFFFFF"));
                json_t *m1 = json_pack(
                        "{s:s, s:s, s:s, s:s, s:[o, o, o]}", "id", "TDX_01", "mrsigner", ZERO48,
                        "attributes", "0000000000000000", "attributesMask", "FFFFFFFFFFFFFFFF",
                        "tcbLevels", ilevel(4, "OutOfDate", "INTEL-SA-01036"),
                        ilevel(6, "UpToDate", NULL), ilevel(2, "Revoked", "INTEL-SA-00001"));
                json_t *m3 =
                        json_pack("{s:s, s:s, s:s, s:s, s:[o]}", "id", "tdx_03", "mrsigner", ZERO48,
                                  "attributes", "0000000000000000", "attributesMask",
                                  "FFFFFFFFFFFFFFFF", "tcbLevels", ilevel(3, "UpToDate", NULL));
                json_object_set_new(t, "tdxModuleIdentities", json_pack("[o, o]", m3, m1));
        }
        json_object_set_new(t, "tcbLevels", levels);
        return t;
}

static json_t *qe_identity(bool tdx, json_t *levels)
{
        return json_pack("{s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:o}", "id",
                         tdx ? "TD_QE" : "QE", "version", 2, "issueDate", "2026-02-18T10:42:15Z",
                         "nextUpdate", "2026-03-20T10:42:15Z", "tcbEvaluationDataNumber", 18,
                         "miscselect", "00000000", "miscselectMask", "FFFFFFFF", "attributes",
                         "11000000000000000000000000000000", "attributesMask",
                         "FBFFFFFFFFFFFFFF0000000000000000", "mrsigner",
                         tdx ? TDQE_MRSIGNER : QE_MRSIGNER, "isvprodid", tdx ? 2 : 1, "tcbLevels",
                         levels);
}

static json_t *qe_levels_default(void)
{
        return json_pack("[o, o, o]", ilevel(2, "Revoked", "INTEL-SA-00002"),
                         ilevel(4, "UpToDate", NULL), ilevel(3, "OutOfDate", "INTEL-SA-00615"));
}

/* tdx platform levels: out of JSON order on purpose */
static json_t *tdx_levels_default(void)
{
        static const int t53[2] = {5, 3}, t52[2] = {5, 2}, t33[2] = {3, 3};
        return json_pack("[o, o, o, o]",
                         plevel(2, 5, 13, t52, "OutOfDate", "INTEL-SA-01079", "INTEL-SA-01036"),
                         plevel(3, 5, 13, t53, "UpToDate", NULL, NULL),
                         plevel(2, 5, 5, t33, "OutOfDate", "INTEL-SA-00837", NULL),
                         plevel(3, 5, 13, t33, "ConfigurationNeeded", "INTEL-SA-00999", NULL));
}

static char *dump(json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        assert_non_null(s);
        return s;
}

static struct vt_dcap_collateral *bodies(json_t *ti, json_t *qe)
{
        char *a = dump(ti), *b = dump(qe);
        struct vt_dcap_collateral *c = NULL;
        struct vt_diag d = {0};
        if (vt_dcap_collateral_parse_bodies(a, strlen(a), b, strlen(b), &c, &d) < 0)
                fail_msg("parse bodies: %s", d.msg);
        free(a);
        free(b);
        return c;
}

/* A TDX 1.0 quote whose module (TDX_01, isvsvn 6) and platform (tee_tcb_svn[2] = 3) are
 * current, and a PCK at SGX components 3.., component 8 = 5, PCESVN 13. */
static void tdx_quote(struct vt_dcap_quote *q, struct vt_pck_ext *pck)
{
        memset(q, 0, sizeof(*q));
        q->version = 4;
        q->att_key_type = 2;
        q->tee_type = 0x81;
        q->body_type = VT_DCAP_BODY_TD10;
        q->td.tee_tcb_svn[0] = 6;
        q->td.tee_tcb_svn[1] = 1;
        q->td.tee_tcb_svn[2] = 3;
        q->qe_report.isv_prod_id = 2;
        q->qe_report.isv_svn = 4;
        q->qe_report.attributes[0] = 0x15; /* 0x11 and DEBUG (bit 2 of byte 0 is masked out) */
        assert_int_equal(vt_hex_decode(TDQE_MRSIGNER, q->qe_report.mr_signer, 32), 32);
        memset(pck, 0, sizeof(*pck));
        memset(pck->comp_svn, 3, 8);
        pck->comp_svn[7] = 5;
        pck->pcesvn = 13;
        pck->fmspc[0] = 0x90;
        pck->fmspc[1] = 0xc0;
        pck->fmspc[2] = 0x6f;
}

static void sgx_quote(struct vt_dcap_quote *q, struct vt_pck_ext *pck)
{
        tdx_quote(q, pck);
        q->version = 3;
        q->tee_type = 0;
        q->body_type = VT_DCAP_BODY_SGX;
        memset(&q->td, 0, sizeof(q->td));
        q->qe_report.isv_prod_id = 1;
        assert_int_equal(vt_hex_decode(QE_MRSIGNER, q->qe_report.mr_signer, 32), 32);
        pck->fmspc[0] = 0x00;
        pck->fmspc[1] = 0xa0;
        pck->fmspc[2] = 0x67;
        pck->fmspc[3] = 0x11;
}

static struct vt_dcap_collateral *tdx_coll(void)
{
        return bodies(tcb_info(true, "90c06f000000", tdx_levels_default()),
                      qe_identity(true, qe_levels_default()));
}

static int eval(const struct vt_dcap_collateral *c, const struct vt_dcap_quote *q,
                const struct vt_pck_ext *pck, struct vt_dcap_result *res, struct vt_diag *d)
{
        vt_diag_clear(d);
        memset(res, 0xa5, sizeof(*res));
        return vt_dcap_tcb_evaluate(c, q, pck, res, d);
}

static void test_tcb_tdx_uptodate(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        /* levels were given out of order and are sorted on parse */
        assert_int_equal(c->tcb.n_levels, 4);
        assert_string_equal(c->tcb.levels[0].status == VT_TCB_UP_TO_DATE ? "ok" : "no", "ok");
        assert_int_equal(c->tcb.levels[1].status, VT_TCB_CONFIGURATION_NEEDED);
        assert_int_equal(c->tcb.levels[3].pcesvn, 5);
        assert_int_equal(c->qe.levels[0].isvsvn, 4);
        if (eval(c, &q, &pck, &res, &d) != 0)
                fail_msg("%s", d.msg);
        assert_int_equal(res.status, VT_TCB_UP_TO_DATE);
        assert_int_equal(res.n_advisories, 0);
        assert_string_equal(res.tdx_module_id, "TDX_01");
        assert_int_equal(res.fmspc[0], 0x90);
        assert_int_equal(res.collateral_earliest_expiry, 0);
        vt_dcap_collateral_free(c);
}

static void test_tcb_tdx_module_outofdate(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        /* module isvsvn 5: the OutOfDate module level (4) downgrades UpToDate */
        q.td.tee_tcb_svn[0] = 5;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        assert_int_equal(res.n_advisories, 1);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-01036");
        /* a revoked module level revokes */
        q.td.tee_tcb_svn[0] = 2;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_REVOKED);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-00001");
        /* below every module level */
        q.td.tee_tcb_svn[0] = 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "TDX module TDX_01 ISV SVN is 1, needs 2");
        vt_dcap_collateral_free(c);
}

static void test_tcb_tdx_config_needed_module_ood(void **state)
{
        static const int t33[2] = {3, 3};
        struct vt_dcap_collateral *c =
                bodies(tcb_info(true, "90C06F000000",
                                json_pack("[o]", plevel(3, 5, 13, t33, "ConfigurationNeeded",
                                                        "INTEL-SA-00999", NULL))),
                       qe_identity(true, qe_levels_default()));
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_CONFIGURATION_NEEDED);
        q.td.tee_tcb_svn[0] = 4;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
        /* advisories: platform level first, then the module level's */
        assert_int_equal(res.n_advisories, 2);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-00999");
        assert_string_equal(res.advisory_ids[1], "INTEL-SA-01036");
        vt_dcap_collateral_free(c);
}

static void test_tcb_qe_status(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        q.qe_report.isv_svn = 3; /* OutOfDate */
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        assert_int_equal(res.n_advisories, 1);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-00615");
        q.qe_report.isv_svn = 2; /* Revoked */
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_REVOKED);
        q.qe_report.isv_svn = 1; /* below every level */
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "no matching QE TCB level: QE isvsvn is 1, needs 2");
        q.qe_report.isv_svn = 9; /* above: the highest level applies */
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_UP_TO_DATE);
        vt_dcap_collateral_free(c);
}

static void test_tcb_qe_identity_mismatch(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        q.qe_report.mr_signer[31] ^= 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "QE mrsigner");
        tdx_quote(&q, &pck);
        q.qe_report.isv_prod_id = 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "isvprodid 1 is not 2");
        tdx_quote(&q, &pck);
        q.qe_report.attributes[0] = 0x13; /* bit 1 is not masked */
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "QE attributes");
        tdx_quote(&q, &pck);
        q.qe_report.miscselect = 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "miscselect");
        vt_dcap_collateral_free(c);
        /* the SGX QE identity for a TDX quote */
        c = bodies(tcb_info(true, "90C06F000000", tdx_levels_default()),
                   qe_identity(false, qe_levels_default()));
        tdx_quote(&q, &pck);
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "qe_identity is for QE, a TDX quote needs TD_QE");
        vt_dcap_collateral_free(c);
}

static void test_tcb_no_match(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        pck.comp_svn[7] = 3; /* below 5 in every level */
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "no matching TCB level: sgx component 8 is 3, needs 5");
        assert_int_equal(d.err, VT_E_TCB);
        /* res untouched */
        assert_int_equal(((uint8_t *)&res)[0], 0xa5);
        tdx_quote(&q, &pck);
        pck.pcesvn = 4;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "pcesvn is 4, needs 5");
        tdx_quote(&q, &pck);
        q.td.tee_tcb_svn[2] = 1; /* below every level's tdx component 3 */
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "tdx component 3 (tee_tcb_svn[2]) is 1, needs 3");
        vt_dcap_collateral_free(c);
}

static void test_tcb_tdx_levels(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        /* tee_tcb_svn[2] = 2: the TDX level is the OutOfDate {5,2} one */
        q.td.tee_tcb_svn[2] = 2;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        assert_int_equal(res.n_advisories, 2);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-01079");
        assert_string_equal(res.advisory_ids[1], "INTEL-SA-01036");
        /* with tee_tcb_svn[1] = 0 the components count from index 0 (tdxModule applies):
         * tee_tcb_svn[0] = 4 < 5 of the {5,x} levels, so the {3,3} pcesvn-5 level matches */
        tdx_quote(&q, &pck);
        q.td.tee_tcb_svn[0] = 4;
        q.td.tee_tcb_svn[1] = 0;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_CONFIGURATION_NEEDED);
        assert_string_equal(res.tdx_module_id, "");
        /* lower PCK comps: only the pcesvn-5 {3,3} level with sgx 2 remains */
        memset(pck.comp_svn, 2, 7);
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-00837");
        vt_dcap_collateral_free(c);
}

static void test_tcb_tdx_module_mismatch(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        q.td.tee_tcb_svn[1] = 2;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "TDX module mismatch: tcb_info has no module identity TDX_02");
        /* the id compares case-insensitively ("tdx_03" in the JSON) */
        q.td.tee_tcb_svn[1] = 3;
        q.td.tee_tcb_svn[0] = 3;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_string_equal(res.tdx_module_id, "TDX_03");
        tdx_quote(&q, &pck);
        q.td.mr_signer_seam[0] = 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "mrsignerseam");
        tdx_quote(&q, &pck);
        q.td.seam_attributes = 1ull << 40;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "seam_attributes 0000000000010000 must be zero");
        vt_dcap_collateral_free(c);
}

static void test_tcb_wrong_collateral(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        pck.fmspc[5] = 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "PCK FMSPC 90c06f000001 does not match tcb_info fmspc 90c06f000000");
        tdx_quote(&q, &pck);
        pck.pce_id[1] = 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "PCE-ID");
        /* an SGX quote against TDX TCB info */
        sgx_quote(&q, &pck);
        memcpy(pck.fmspc, c->tcb.fmspc, 6);
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "tcb_info is for TDX, the quote is SGX");
        /* tee_type disagreeing with the body */
        tdx_quote(&q, &pck);
        q.tee_type = 0;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_int_equal(vt_dcap_tcb_evaluate(NULL, &q, &pck, &res, &d), VT_E_INVAL);
        vt_dcap_collateral_free(c);
}

static void test_tcb_sgx(void **state)
{
        static const char *const st[] = {"SWHardeningNeeded", "ConfigurationAndSWHardeningNeeded"};
        struct vt_dcap_collateral *c = bodies(
                tcb_info(
                        false, "00A067110000",
                        json_pack("[o, o, o]",
                                  plevel(3, 0, 13, NULL, st[1], "INTEL-SA-00289", "INTEL-SA-00615"),
                                  plevel(3, 5, 13, NULL, st[0], "INTEL-SA-00615", NULL),
                                  plevel(2, 0, 13, NULL, "OutOfDate", "INTEL-SA-00828", NULL))),
                qe_identity(false, qe_levels_default()));
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        sgx_quote(&q, &pck);
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_SW_HARDENING_NEEDED);
        assert_int_equal(res.n_advisories, 1);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-00615");
        assert_string_equal(res.tdx_module_id, "");
        pck.comp_svn[7] = 0;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
        /* QE OutOfDate: C+SWH -> OutOfDateConfigurationNeeded; advisories deduplicated */
        q.qe_report.isv_svn = 3;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
        assert_int_equal(res.n_advisories, 2);
        assert_string_equal(res.advisory_ids[0], "INTEL-SA-00289");
        assert_string_equal(res.advisory_ids[1], "INTEL-SA-00615");
        q.qe_report.isv_svn = 4;
        memset(pck.comp_svn, 2, 8);
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        /* the TD QE identity for an SGX quote */
        vt_dcap_collateral_free(c);
        c = bodies(tcb_info(false, "00A067110000",
                            json_pack("[o]", plevel(1, 0, 1, NULL, "UpToDate", NULL, NULL))),
                   qe_identity(true, qe_levels_default()));
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "qe_identity is for TD_QE, an SGX quote needs QE");
        vt_dcap_collateral_free(c);
}

static void test_tcb_relaunch(void **state)
{
        struct vt_dcap_collateral *c = tdx_coll();
        struct vt_dcap_quote q;
        struct vt_pck_ext pck;
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        tdx_quote(&q, &pck);
        q.version = 5;
        q.body_type = VT_DCAP_BODY_TD15;
        q.td.tee_tcb_svn[0] = 4; /* the module at launch: OutOfDate */
        /* the module loaded now meets the newest module level (6) and tdx component 2 */
        q.td.tee_tcb_svn2[0] = 6;
        q.td.tee_tcb_svn2[1] = 1;
        q.td.tee_tcb_svn2[2] = 3;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_TD_RELAUNCH_ADVISED);
        /* the same on a TDX 1.0 body: no relaunch check */
        q.body_type = VT_DCAP_BODY_TD10;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        q.body_type = VT_DCAP_BODY_TD15;
        /* not yet updated */
        q.td.tee_tcb_svn2[0] = 5;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        /* updated to a module without an identity */
        q.td.tee_tcb_svn2[1] = 2;
        assert_int_equal(eval(c, &q, &pck, &res, &d), VT_E_TCB);
        assert_msg(&d, "TDX_02 (tee_tcb_svn2[1] = 2)");
        /* tee_tcb_svn2[1] = 0: judged by the newest platform level's tdx components 0, 2 */
        q.td.tee_tcb_svn2[1] = 0;
        q.td.tee_tcb_svn2[0] = 5;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_TD_RELAUNCH_ADVISED);
        /* an out-of-date QE: no relaunch advice */
        q.qe_report.isv_svn = 3;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_OUT_OF_DATE);
        vt_dcap_collateral_free(c);

        /* the ConfigurationNeeded variant */
        static const int t53[2] = {5, 3};
        c = bodies(tcb_info(true, "90C06F000000",
                            json_pack("[o]",
                                      plevel(3, 5, 13, t53, "ConfigurationNeeded", NULL, NULL))),
                   qe_identity(true, qe_levels_default()));
        q.qe_report.isv_svn = 4;
        q.td.tee_tcb_svn2[0] = 6;
        q.td.tee_tcb_svn2[1] = 1;
        assert_int_equal(eval(c, &q, &pck, &res, &d), 0);
        assert_int_equal(res.status, VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);
        vt_dcap_collateral_free(c);
}

/* Bodies that must not parse; each names what is wrong. */
static void test_bodies_errors(void **state)
{
        static const struct {
                const char *path, *set, *msg;
        } cases[] = {
                {"tcbLevels.0.tcbStatus", "\"Perfect\"", "unknown tcbStatus \"Perfect\""},
                {"tcbLevels.0.tcbStatus", "\"TDRelaunchAdvised\"", "unknown tcbStatus"},
                {"tcbLevels.0.tcb.pcesvn", "65536", "pcesvn"},
                {"tcbLevels.0.tcb.sgxtcbcomponents.3.svn", "256", "sgxtcbcomponents[3]"},
                {"tcbLevels.0.tcb.sgxtcbcomponents.3.svn", "-1", "not an integer"},
                {"tcbLevels.0.tcb.sgxtcbcomponents.3.svn", "1.0", "not an integer"},
                {"tcbLevels.0.tcb.tdxtcbcomponents", "[]", "fewer than 16"},
                {"tcbLevels.0.tcbDate", "\"yesterday\"", "RFC 3339"},
                {"tcbLevels.0.advisoryIDs", "[\"INTEL-SA-000000000000000001\"]", "advisoryIDs[0]"},
                {"tcbLevels.0.advisoryIDs", "[\"A B\"]", "printable"},
                {"tcbLevels.0.advisoryIDs", "\"INTEL-SA-00001\"", "not an array"},
                {"tcbLevels", "[]", "fewer than 1"},
                {"version", "2", "version 2 is not supported"},
                {"tcbType", "1", "tcbType 1"},
                {"id", "\"SEV\"", "neither SGX nor TDX"},
                {"fmspc", "\"90C06F\"", "fmspc"},
                {"fmspc", "\"90C06F00000G\"", "fmspc"},
                {"pceId", "null", "pceId"},
                {"nextUpdate", "\"2026-01-01T00:00:00Z\"", "nextUpdate is before issueDate"},
                {"tdxModule", "null", "tdxModule"},
                {"tdxModule.mrsigner", "\"00\"", "mrsigner"},
                {"tdxModuleIdentities.0.id", "\"TDX_01\"", "appears twice"},
                {"tdxModuleIdentities.1.tcbLevels", "[]", "fewer than 1"},
                {"tdxModuleIdentities.1.tcbLevels.0.tcb.isvsvn", "\"6\"", "isvsvn"},
                {"tcbEvaluationDataNumber", "-1", "tcbEvaluationDataNumber"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *ti = tcb_info(true, "90C06F000000", tdx_levels_default());
                json_t *parent = ti, *val = json_loads(cases[i].set, JSON_DECODE_ANY, NULL);
                char path[128], *tok, *last = NULL;
                assert_non_null(val);
                snprintf(path, sizeof(path), "%s", cases[i].path);
                /* walk all but the last component */
                for (tok = path; tok;) {
                        char *dot = strchr(tok, '.');
                        if (dot)
                                *dot = 0;
                        if (last) {
                                parent = json_is_array(parent)
                                                 ? json_array_get(parent, (size_t)(last[0] - '0'))
                                                 : json_object_get(parent, last);
                                assert_non_null(parent);
                        }
                        last = tok;
                        tok = dot ? dot + 1 : NULL;
                }
                if (json_is_array(parent))
                        json_array_set_new(parent, (size_t)(last[0] - '0'), val);
                else
                        json_object_set_new(parent, last, val);
                char *a = dump(ti), *b = dump(qe_identity(true, qe_levels_default()));
                struct vt_dcap_collateral *c = NULL;
                struct vt_diag d = {0};
                if (vt_dcap_collateral_parse_bodies(a, strlen(a), b, strlen(b), &c, &d) >= 0)
                        fail_msg("case %zu (%s = %s) parsed", i, cases[i].path, cases[i].set);
                if (!strstr(d.msg, cases[i].msg))
                        fail_msg("case %zu: \"%s\" lacks \"%s\"", i, d.msg, cases[i].msg);
                free(a);
                free(b);
        }
}

static void test_bodies_limits(void **state)
{
        static const int t53[2] = {5, 3};
        struct vt_dcap_collateral *c = NULL;
        struct vt_diag d = {0};
        /* 129 levels */
        json_t *levels = json_array();
        for (int i = 0; i < 129; i++)
                json_array_append_new(levels, plevel(3, 5, i, t53, "UpToDate", NULL, NULL));
        char *a = dump(tcb_info(true, "90C06F000000", levels));
        char *b = dump(qe_identity(true, qe_levels_default()));
        assert_int_equal(vt_dcap_collateral_parse_bodies(a, strlen(a), b, strlen(b), &c, &d),
                         VT_E_LIMIT);
        assert_msg(&d, "more than 128");
        free(a);
        /* duplicate keys in a signed body */
        const char *dup = "{\"id\":\"TDX\",\"id\":\"SGX\"}";
        vt_diag_clear(&d);
        assert_int_equal(vt_dcap_collateral_parse_bodies(dup, strlen(dup), b, strlen(b), &c, &d),
                         VT_E_FORMAT);
        assert_msg(&d, "duplicate");
        /* trailing bytes after the object */
        char *good = dump(tcb_info(true, "90C06F000000", tdx_levels_default()));
        size_t n = strlen(good);
        char *tr = malloc(n + 3);
        memcpy(tr, good, n);
        memcpy(tr + n, "{}", 3);
        vt_diag_clear(&d);
        assert_int_equal(vt_dcap_collateral_parse_bodies(tr, n + 2, b, strlen(b), &c, &d),
                         VT_E_FORMAT);
        free(tr);
        /* the QE identity: wrong id, version */
        json_t *q = qe_identity(true, qe_levels_default());
        json_object_set_new(q, "id", json_string("QAE"));
        char *qs = dump(q);
        vt_diag_clear(&d);
        assert_int_equal(vt_dcap_collateral_parse_bodies(good, n, qs, strlen(qs), &c, &d),
                         VT_E_FORMAT);
        assert_msg(&d, "not QE, QVE or TD_QE");
        free(qs);
        q = qe_identity(true, qe_levels_default());
        json_object_set_new(q, "version", json_integer(1));
        qs = dump(q);
        vt_diag_clear(&d);
        assert_int_equal(vt_dcap_collateral_parse_bodies(good, n, qs, strlen(qs), &c, &d),
                         VT_E_UNSUPPORTED);
        free(qs);
        /* every truncation of both bodies fails and leaks nothing */
        for (size_t k = 0; k < n; k++) {
                vt_diag_clear(&d);
                assert_true(vt_dcap_collateral_parse_bodies(good, k, b, strlen(b), &c, &d) < 0);
        }
        for (size_t k = 0; k < strlen(b); k++) {
                vt_diag_clear(&d);
                assert_true(vt_dcap_collateral_parse_bodies(good, n, b, k, &c, &d) < 0);
        }
        assert_int_equal(vt_dcap_collateral_parse_bodies(good, n, b, strlen(b), &c, &d), 0);
        /* a bodies-only collateral never verifies */
        vt_diag_clear(&d);
        assert_int_equal(vt_dcap_collateral_verify(c, T("2026-02-19T00:00:00Z"), NULL, &d),
                         VT_E_NOTFOUND);
        assert_null(vt_dcap_collateral_pck_crl(c));
        vt_dcap_collateral_free(c);
        free(good);
        free(b);
}

/* ---- the recorded quotes evaluated against their collateral ---- */

/* The SGX extension of a PCK leaf (FMSPC, PCE-ID, component SVNs, PCESVN), read here with a
 * small generic DER walk so that these cases check the TCB rules only. */
static void pck_items(const ASN1_TYPE *seq, struct vt_pck_ext *e, int depth)
{
        const unsigned char *p = seq->value.sequence->data;
        ASN1_SEQUENCE_ANY *items = d2i_ASN1_SEQUENCE_ANY(NULL, &p, seq->value.sequence->length);
        assert_non_null(items);
        for (int i = 0; i < sk_ASN1_TYPE_num(items); i++) {
                const ASN1_TYPE *it = sk_ASN1_TYPE_value(items, i);
                assert_int_equal(it->type, V_ASN1_SEQUENCE);
                const unsigned char *q = it->value.sequence->data;
                ASN1_SEQUENCE_ANY *kv = d2i_ASN1_SEQUENCE_ANY(NULL, &q, it->value.sequence->length);
                assert_non_null(kv);
                assert_int_equal(sk_ASN1_TYPE_num(kv), 2);
                char oid[64];
                const ASN1_TYPE *k = sk_ASN1_TYPE_value(kv, 0), *v = sk_ASN1_TYPE_value(kv, 1);
                assert_true(OBJ_obj2txt(oid, sizeof(oid), k->value.object, 1) > 0);
                const char *sub = oid + strlen("1.2.840.113741.1.13.1");
                unsigned idx = 0;
                if (depth == 1 && strncmp(sub, ".2.", 3) == 0) {
                        for (const char *c = sub + 3; *c; c++)
                                idx = idx * 10 + (unsigned)(*c - '0');
                        if (idx >= 1 && idx <= 16)
                                e->comp_svn[idx - 1] = (uint8_t)ASN1_INTEGER_get(v->value.integer);
                        else if (idx == 17)
                                e->pcesvn = (uint16_t)ASN1_INTEGER_get(v->value.integer);
                } else if (depth == 0 && strcmp(sub, ".2") == 0) {
                        pck_items(v, e, 1);
                } else if (depth == 0 && strcmp(sub, ".3") == 0) {
                        assert_int_equal(v->value.octet_string->length, 2);
                        memcpy(e->pce_id, v->value.octet_string->data, 2);
                } else if (depth == 0 && strcmp(sub, ".4") == 0) {
                        assert_int_equal(v->value.octet_string->length, 6);
                        memcpy(e->fmspc, v->value.octet_string->data, 6);
                }
                sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
        }
        sk_ASN1_TYPE_pop_free(items, ASN1_TYPE_free);
}

static void pck_ext(X509 *leaf, struct vt_pck_ext *e)
{
        const uint8_t *p;
        size_t n;
        memset(e, 0, sizeof(*e));
        assert_int_equal(vt_x509_ext_data(leaf, "1.2.840.113741.1.13.1", &p, &n), 0);
        ASN1_TYPE *top = d2i_ASN1_TYPE(NULL, &p, (long)n);
        assert_non_null(top);
        assert_int_equal(top->type, V_ASN1_SEQUENCE);
        pck_items(top, e, 0);
        ASN1_TYPE_free(top);
}

static int eval_vector(const char *quote, const char *coll, struct vt_dcap_result *res,
                       struct vt_diag *d)
{
        char qp[256], cp[256];
        size_t ql;
        snprintf(qp, sizeof(qp), "dcap/%s", quote);
        snprintf(cp, sizeof(cp), "dcap/%s", coll);
        uint8_t *qb = vt_test_load_vector(qp, &ql);
        char *cs = load_text(cp, NULL);
        struct vt_dcap_quote *q = NULL;
        struct vt_dcap_collateral *c = NULL;
        STACK_OF(X509) *sk = NULL;
        struct vt_pck_ext pck;
        vt_diag_clear(d);
        if (vt_dcap_quote_parse(qb, ql, &q, d) == VT_E_TRAILING) {
                /* go-tdx-guest's SPR_E4 quote ends in "\nextra bytes(only for testing
                 * purpose)\n" (39 bytes), not zeros: cut after the PEM chain */
                static const char end[] = "-----END CERTIFICATE-----\n";
                size_t cut = 0;
                for (size_t k = 0; k + sizeof(end) - 1 <= ql; k++)
                        if (memcmp(qb + k, end, sizeof(end) - 1) == 0)
                                cut = k + sizeof(end) - 1;
                print_message("%s: trailing bytes, parsed up to %zu of %zu\n", quote, cut, ql);
                vt_diag_clear(d);
                ql = cut;
        }
        if (!q && vt_dcap_quote_parse(qb, ql, &q, d) < 0)
                fail_msg("%s: %s", quote, d->msg);
        assert_int_equal(parse_str(cs, &c, d), 0);
        assert_int_equal(
                vt_x509_parse_many((const uint8_t *)q->pck_chain_pem, q->pck_chain_len, &sk), 0);
        pck_ext(sk_X509_value(sk, 0), &pck);
        /* cross-check the library's reader of the same extension */
        struct vt_pck_ext lib;
        if (vt_pck_ext_parse(sk_X509_value(sk, 0), &lib, d) < 0)
                fail_msg("%s: vt_pck_ext_parse: %s", quote, d->msg);
        assert_memory_equal(lib.comp_svn, pck.comp_svn, 16);
        assert_int_equal(lib.pcesvn, pck.pcesvn);
        assert_memory_equal(lib.fmspc, pck.fmspc, 6);
        assert_memory_equal(lib.pce_id, pck.pce_id, 2);
        int e = vt_dcap_tcb_evaluate(c, q, &pck, res, d);
        sk_X509_pop_free(sk, X509_free);
        vt_dcap_collateral_free(c);
        vt_dcap_quote_free(q);
        free(cs);
        free(qb);
        return e;
}

static void test_tcb_vectors(void **state)
{
        VT_REQUIRE_TESTDATA();
        static const struct {
                const char *quote, *coll;
                int err;
                enum vt_tcb_status status;
                const char *adv0, *adv1, *module, *msg;
        } v[] = {
                {"tdx_b0c06f_eval17/quote.bin", "tdx_b0c06f_eval17/collateral.json", 0,
                 VT_TCB_UP_TO_DATE, NULL, NULL, "TDX_01", NULL},
                {"sgx_00a067_eval17/quote.bin", "sgx_00a067_eval17/collateral.json", 0,
                 VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, "INTEL-SA-00289", "INTEL-SA-00615",
                 NULL, NULL},
                {"tdx_20a06f_eval17/quote.bin", "tdx_20a06f_eval17/collateral.json", 0,
                 VT_TCB_UP_TO_DATE, NULL, NULL, "TDX_01", NULL},
                {"tdx_90c06f_eval18/quote_v5_uptodate.bin", "tdx_90c06f_eval18/collateral.json", 0,
                 VT_TCB_UP_TO_DATE, NULL, NULL, "TDX_01", NULL},
                {"tdx_90c06f_eval18/quote_v5_uptodate.bin",
                 "tdx_90c06f_eval18/collateral_alt_tcbinfo_20260201.json", 0, VT_TCB_UP_TO_DATE,
                 NULL, NULL, "TDX_01", NULL},
                {"tdx_b0c06f_eval17/quote_notsupported_a.bin", "tdx_b0c06f_eval17/collateral.json",
                 VT_E_TCB, 0, NULL, NULL, NULL, "sgx component 8 is 3, needs 5"},
                {"tdx_b0c06f_eval17/quote_notsupported_b.bin", "tdx_b0c06f_eval17/collateral.json",
                 VT_E_TCB, 0, NULL, NULL, NULL, "no matching TCB level"},
                {"tdx_90c06f_eval18/quote_v5_notsupported_a.bin",
                 "tdx_90c06f_eval18/collateral.json", VT_E_TCB, 0, NULL, NULL, NULL,
                 "sgx component 8 is 3, needs 5"},
                {"tdx_90c06f_eval18/quote_v5_notsupported_b_servicetd.bin",
                 "tdx_90c06f_eval18/collateral.json", VT_E_TCB, 0, NULL, NULL, NULL,
                 "no matching TCB level"},
                {"tdx_50806f_eval15_gtg/quote_notsupported.bin",
                 "tdx_50806f_eval15_gtg/collateral.json", VT_E_TCB, 0, NULL, NULL, NULL,
                 "no matching TCB level"},
                {"tdx_50806f_eval15_gtg/quote_debug_td.bin",
                 "tdx_50806f_eval15_gtg/collateral.json", 0, VT_TCB_UP_TO_DATE, NULL, NULL, NULL,
                 NULL},
        };
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                struct vt_dcap_result res;
                struct vt_diag d = {0};
                int e = eval_vector(v[i].quote, v[i].coll, &res, &d);
                print_message("%s: %s %s\n", v[i].quote,
                              e == 0 ? vt_tcb_status_name(res.status) : d.msg,
                              e == 0 ? res.tdx_module_id : "");
                if (e != v[i].err)
                        fail_msg("%s: got %d (%s), want %d", v[i].quote, e, d.msg, v[i].err);
                if (e < 0) {
                        assert_msg(&d, v[i].msg);
                        continue;
                }
                assert_int_equal(res.status, v[i].status);
                assert_int_equal(res.n_advisories, v[i].adv0 ? (v[i].adv1 ? 2 : 1) : 0);
                if (v[i].adv0)
                        assert_string_equal(res.advisory_ids[0], v[i].adv0);
                if (v[i].adv1)
                        assert_string_equal(res.advisory_ids[1], v[i].adv1);
                assert_string_equal(res.tdx_module_id, v[i].module ? v[i].module : "");
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_coll_vectors_verify),
                cmocka_unit_test(test_coll_b0c06f_times),
                cmocka_unit_test(test_coll_tcb_info_expiry_message),
                cmocka_unit_test(test_coll_tcb_info_whitespace),
                cmocka_unit_test(test_coll_tcb_info_reserialized),
                cmocka_unit_test(test_coll_qe_identity_changed),
                cmocka_unit_test(test_coll_signature_flipped),
                cmocka_unit_test(test_coll_wrong_chains),
                cmocka_unit_test(test_coll_synthetic_root),
                cmocka_unit_test(test_coll_crl_forms),
                cmocka_unit_test(test_coll_memo),
                cmocka_unit_test(test_coll_parse_errors),
                cmocka_unit_test(test_coll_truncations),
                cmocka_unit_test(test_tcb_tdx_uptodate),
                cmocka_unit_test(test_tcb_tdx_module_outofdate),
                cmocka_unit_test(test_tcb_tdx_config_needed_module_ood),
                cmocka_unit_test(test_tcb_qe_status),
                cmocka_unit_test(test_tcb_qe_identity_mismatch),
                cmocka_unit_test(test_tcb_no_match),
                cmocka_unit_test(test_tcb_tdx_levels),
                cmocka_unit_test(test_tcb_tdx_module_mismatch),
                cmocka_unit_test(test_tcb_wrong_collateral),
                cmocka_unit_test(test_tcb_sgx),
                cmocka_unit_test(test_tcb_relaunch),
                cmocka_unit_test(test_bodies_errors),
                cmocka_unit_test(test_bodies_limits),
                cmocka_unit_test(test_tcb_vectors),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
