/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP quote parser: synthetic quotes of every version and body type (every field at
 * its offset, every truncation, every length and type check), then the recorded quotes
 * of ../shared/testdata/dcap (facts from PROVENANCE.md, truncations, mutations).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"
#include "util/wr.h"
#include "veritee/dcap.h"

static const uint8_t intel_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                         0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

static const char fake_chain[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
                                 "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
                                 "-----BEGIN CERTIFICATE-----\nCCCC\n-----END CERTIFICATE-----\n";

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

/* ---- a synthetic quote builder ---- */

struct qb {
        uint8_t b[8192];
        size_t n;
};

static size_t qb_put(struct qb *q, const void *p, size_t n)
{
        size_t at = q->n;
        assert_true(q->n + n <= sizeof(q->b));
        memcpy(q->b + q->n, p, n);
        q->n += n;
        return at;
}
static size_t qb_fill(struct qb *q, size_t n, uint8_t seed)
{
        size_t at = q->n;
        assert_true(q->n + n <= sizeof(q->b));
        for (size_t i = 0; i < n; i++)
                q->b[q->n + i] = (uint8_t)(seed + i * 7);
        q->n += n;
        return at;
}
static size_t qb_u16(struct qb *q, uint16_t v)
{
        uint8_t t[2];
        vt_put_u16le(t, v);
        return qb_put(q, t, 2);
}
static size_t qb_u32(struct qb *q, uint32_t v)
{
        uint8_t t[4];
        vt_put_u32le(t, v);
        return qb_put(q, t, 4);
}

/* Where the builder put things, for the checks. */
struct layout {
        size_t body, body_size, len_off, sig, qe_report, inner_type, chain, end;
        unsigned body_type;
};

/* A structurally valid quote of the given version (v5: body_type 1-3); in v3 the PCK
 * certification data is of cert_type (5: fake_chain with a NUL, else 16 bytes). */
static void build_quote(struct qb *q, unsigned version, unsigned body_type, unsigned cert_type,
                        struct layout *l)
{
        static const unsigned sizes[] = {0, VT_SGX_REPORT_SIZE, VT_TD10_REPORT_SIZE,
                                         VT_TD15_REPORT_SIZE};
        memset(q, 0, sizeof(*q));
        memset(l, 0, sizeof(*l));
        if (version == 3)
                body_type = VT_DCAP_BODY_SGX;
        else if (version == 4)
                body_type = VT_DCAP_BODY_TD10;
        l->body_type = body_type;
        l->body_size = sizes[body_type];
        qb_u16(q, (uint16_t)version);
        qb_u16(q, 2);
        qb_u32(q, body_type == VT_DCAP_BODY_SGX ? 0 : 0x81);
        qb_u16(q, 10);
        qb_u16(q, 15);
        qb_put(q, intel_vendor, 16);
        qb_fill(q, 20, 0xd0);
        if (version == 5) {
                qb_u16(q, (uint16_t)body_type);
                qb_u32(q, (uint32_t)l->body_size);
        }
        l->body = qb_fill(q, l->body_size, 0x01);
        l->len_off = qb_u32(q, 0);
        l->sig = qb_fill(q, 64, 0x51);
        qb_fill(q, 64, 0x52);
        size_t cds_off = 0;
        if (version != 3) {
                qb_u16(q, 6);
                cds_off = qb_u32(q, 0);
        }
        l->qe_report = qb_fill(q, VT_SGX_REPORT_SIZE, 0x33);
        qb_fill(q, 64, 0x53);
        qb_u16(q, 32);
        qb_fill(q, 32, 0x54);
        l->inner_type = qb_u16(q, (uint16_t)(version == 3 ? cert_type : 5));
        if (version != 3 || cert_type == 5) {
                qb_u32(q, sizeof(fake_chain)); /* with its NUL */
                l->chain = qb_put(q, fake_chain, sizeof(fake_chain));
        } else {
                qb_u32(q, 16);
                l->chain = qb_fill(q, 16, 0x77);
        }
        l->end = q->n;
        vt_put_u32le(q->b + l->len_off, (uint32_t)(q->n - l->len_off - 4));
        if (cds_off)
                vt_put_u32le(q->b + cds_off, (uint32_t)(q->n - cds_off - 4));
}

static struct vt_dcap_quote *parse_ok(const uint8_t *b, size_t n)
{
        struct vt_dcap_quote *q = NULL;
        struct vt_diag d = {0};
        int e = vt_dcap_quote_parse(b, n, &q, &d);
        if (e < 0)
                fail_msg("parse failed: %d %s", e, d.msg);
        assert_non_null(q);
        return q;
}

/* Parses a changed copy of b and expects err with needle in the message. */
static void expect_reject(const uint8_t *b, size_t n, int err, const char *needle)
{
        struct vt_dcap_quote *q = (struct vt_dcap_quote *)1;
        struct vt_diag d = {0};
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        if (n)
                memcpy(copy, b, n);
        int e = vt_dcap_quote_parse(copy, n, &q, &d);
        free(copy);
        if (e != err || !strstr(d.msg, needle))
                fail_msg("want %d with \"%s\", got %d \"%s\"", err, needle, e, d.msg);
        assert_ptr_equal(q, (struct vt_dcap_quote *)1); /* untouched on failure */
}

/* Every proper prefix of a valid quote is rejected, reading only what it was given. */
static void walk_truncations(const uint8_t *b, size_t raw_len)
{
        for (size_t n = 0; n < raw_len; n++) {
                struct vt_dcap_quote *q = NULL;
                struct vt_diag d = {0};
                uint8_t *copy = malloc(n ? n : 1);
                assert_non_null(copy);
                memcpy(copy, b, n);
                int e = vt_dcap_quote_parse(copy, n, &q, &d);
                free(copy);
                if (e != VT_E_TRUNCATED && e != VT_E_FORMAT)
                        fail_msg("prefix of %zu bytes: %d %s", n, e, d.msg);
                assert_null(q);
                assert_true(d.msg[0] != 0);
        }
}

static void check_sgx_body(const struct vt_sgx_report_body *s, const uint8_t *p)
{
        assert_memory_equal(s->cpusvn, p, 16);
        assert_int_equal(s->miscselect, get32(p + 16));
        assert_memory_equal(s->isv_ext_prod_id, p + 32, 16);
        assert_memory_equal(s->attributes, p + 48, 16);
        assert_memory_equal(s->mr_enclave, p + 64, 32);
        assert_memory_equal(s->mr_signer, p + 128, 32);
        assert_memory_equal(s->config_id, p + 192, 64);
        assert_int_equal(s->isv_prod_id, get16(p + 256));
        assert_int_equal(s->isv_svn, get16(p + 258));
        assert_int_equal(s->config_svn, get16(p + 260));
        assert_memory_equal(s->isv_family_id, p + 304, 16);
        assert_memory_equal(s->report_data, p + 320, 64);
}

static void check_td_body(const struct vt_td_report_body *t, const uint8_t *p, bool td15)
{
        static const uint8_t zero[48];
        assert_memory_equal(t->tee_tcb_svn, p, 16);
        assert_memory_equal(t->mr_seam, p + 16, 48);
        assert_memory_equal(t->mr_signer_seam, p + 64, 48);
        assert_true(t->seam_attributes == get64(p + 112));
        assert_true(t->td_attributes == get64(p + 120));
        assert_true(t->xfam == get64(p + 128));
        assert_memory_equal(t->mr_td, p + 136, 48);
        assert_memory_equal(t->mr_config_id, p + 184, 48);
        assert_memory_equal(t->mr_owner, p + 232, 48);
        assert_memory_equal(t->mr_owner_config, p + 280, 48);
        for (int i = 0; i < 4; i++)
                assert_memory_equal(t->rtmr[i], p + 328 + 48 * i, 48);
        assert_memory_equal(t->report_data, p + 520, 64);
        if (td15) {
                assert_memory_equal(t->tee_tcb_svn2, p + 584, 16);
                assert_memory_equal(t->mr_service_td, p + 600, 48);
        } else {
                assert_memory_equal(t->tee_tcb_svn2, zero, 16);
                assert_memory_equal(t->mr_service_td, zero, 48);
        }
}

/* Every field of every version and body type lands where the layout says. */
static void test_dcap_parse_synthetic_fields(void **state)
{
        static const struct {
                unsigned version, body_type;
                size_t signed_len;
        } cases[] = {{3, 1, 432}, {4, 2, 632}, {5, 1, 438}, {5, 2, 638}, {5, 3, 702}};
        struct qb b;
        struct layout l;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                build_quote(&b, cases[i].version, cases[i].body_type, 5, &l);
                struct vt_dcap_quote *q = parse_ok(b.b, b.n);
                assert_int_equal(q->version, cases[i].version);
                assert_int_equal(q->att_key_type, 2);
                assert_int_equal(q->body_type, cases[i].body_type);
                assert_int_equal(q->tee_type, cases[i].body_type == 1 ? 0 : 0x81);
                assert_int_equal(q->qe_svn, 10);
                assert_int_equal(q->pce_svn, 15);
                assert_memory_equal(q->qe_vendor_id, intel_vendor, 16);
                assert_memory_equal(q->user_data, b.b + 28, 20);
                assert_int_equal(q->signed_len, cases[i].signed_len);
                assert_int_equal(l.len_off, cases[i].signed_len);
                if (cases[i].body_type == VT_DCAP_BODY_SGX)
                        check_sgx_body(&q->sgx, b.b + l.body);
                else
                        check_td_body(&q->td, b.b + l.body, cases[i].body_type == 3);
                assert_memory_equal(q->signature, b.b + l.sig, 64);
                assert_memory_equal(q->attest_key, b.b + l.sig + 64, 64);
                assert_int_equal(q->cert_data_type, cases[i].version == 3 ? 5 : 6);
                assert_memory_equal(q->qe_report_raw, b.b + l.qe_report, VT_SGX_REPORT_SIZE);
                check_sgx_body(&q->qe_report, b.b + l.qe_report);
                assert_memory_equal(q->qe_report_signature, b.b + l.qe_report + 384, 64);
                assert_int_equal(q->qe_auth_len, 32);
                assert_memory_equal(q->qe_auth_data, b.b + l.qe_report + 450, 32);
                assert_int_equal(q->pck_cert_type, 5);
                assert_int_equal(q->pck_chain_len, strlen(fake_chain));
                assert_string_equal(q->pck_chain_pem, fake_chain);
                assert_int_equal(q->raw_len, b.n);
                assert_memory_equal(q->raw, b.b, b.n);
                assert_int_equal(q->trailing_zeros, 0);
                vt_dcap_quote_free(q);
        }
        vt_dcap_quote_free(NULL);
}

static void test_dcap_parse_synthetic_truncations(void **state)
{
        struct qb b;
        struct layout l;
        for (unsigned v = 3; v <= 5; v++)
                for (unsigned t = 1; t <= 3; t++) {
                        if (v != 5 && t > 1)
                                continue;
                        build_quote(&b, v, t, 5, &l);
                        walk_truncations(b.b, b.n);
                }
}

/* Zero padding after the quote is counted; anything else is named by its offset. */
static void test_dcap_parse_trailing(void **state)
{
        static uint8_t big[(1u << 20) + 1];
        struct qb b;
        struct layout l;
        build_quote(&b, 4, 0, 5, &l);
        size_t n = b.n;
        memcpy(big, b.b, n);
        memset(big + n, 0, sizeof(big) - n);

        struct vt_dcap_quote *q = parse_ok(big, 8000);
        assert_int_equal(q->trailing_zeros, 8000 - n);
        assert_int_equal(q->raw_len, n);
        vt_dcap_quote_free(q);

        q = parse_ok(big, 1u << 20); /* the largest buffer accepted */
        assert_int_equal(q->trailing_zeros, (1u << 20) - n);
        vt_dcap_quote_free(q);
        expect_reject(big, sizeof(big), VT_E_LIMIT, "exceeds the cap");

        char want[64];
        big[n + 41] = 0x01;
        snprintf(want, sizeof(want), "offset 0x%zx after the signature data", n + 41);
        expect_reject(big, 8000, VT_E_TRAILING, want);
        big[n + 41] = 0;
        big[n] = 0xff;
        snprintf(want, sizeof(want), "byte 0xff at offset 0x%zx", n);
        expect_reject(big, n + 1, VT_E_TRAILING, want);
}

static void test_dcap_parse_synthetic_rejects(void **state)
{
        struct qb b;
        struct layout l;

        build_quote(&b, 4, 0, 5, &l);
        uint8_t *p = b.b;
        vt_put_u16le(p, 6);
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "quote version 6");
        vt_put_u16le(p, 2);
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "quote version 2");
        vt_put_u16le(p, 4);
        vt_put_u16le(p + 2, 3);
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "att_key_type 3 (ECDSA-384");
        vt_put_u16le(p + 2, 1);
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "att_key_type 1");
        vt_put_u16le(p + 2, 2);
        p[27] ^= 1;
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "qe_vendor_id 939a7233f79c4ca9940a0db3957f0606");
        p[27] ^= 1;
        vt_put_u32le(p + 4, 0);
        expect_reject(p, b.n, VT_E_FORMAT, "tee_type 0x0 at offset 0x4");
        vt_put_u32le(p + 4, 0x81);

        /* Certification data: the declared size must be used up exactly. */
        size_t cdt = l.sig + 128, cds = cdt + 2;
        uint32_t size = get32(p + cds);
        vt_put_u32le(p + cds, size - 1);
        expect_reject(p, b.n, VT_E_FORMAT, "inner cert_data_size");
        vt_put_u32le(p + cds, size + 1);
        expect_reject(p, b.n, VT_E_FORMAT, "cert_data_size");
        vt_put_u32le(p + cds, 0);
        expect_reject(p, b.n, VT_E_FORMAT, "ends inside the QE report");
        vt_put_u32le(p + cds, size);
        /* one spare byte inside both lengths: unused by the certification data */
        uint8_t one_more[sizeof(b.b) + 1];
        memcpy(one_more, p, b.n);
        one_more[b.n] = 0;
        vt_put_u32le(one_more + l.len_off, get32(p + l.len_off) + 1);
        vt_put_u32le(one_more + cds, size + 1);
        expect_reject(one_more, b.n + 1, VT_E_FORMAT, "1 bytes unused");

        /* QE authentication data cap and length */
        size_t auth = l.qe_report + 448;
        vt_put_u16le(p + auth, 4097);
        expect_reject(p, b.n, VT_E_LIMIT, "qe_auth_data_size 4097");
        vt_put_u16le(p + auth, 4000);
        expect_reject(p, b.n, VT_E_FORMAT, "qe_auth_data_size 4000");
        vt_put_u16le(p + auth, 32);

        /* inner certification data: cap, type, emptiness */
        vt_put_u32le(p + l.inner_type + 2, 16385);
        expect_reject(p, b.n, VT_E_LIMIT, "inner cert_data_size 16385");
        vt_put_u32le(p + l.inner_type + 2, sizeof(fake_chain));
        vt_put_u16le(p + l.inner_type, 3);
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "inner cert_data_type 3");
        vt_put_u16le(p + l.inner_type, 5);
        memset(p + l.chain, 0, sizeof(fake_chain));
        expect_reject(p, b.n, VT_E_FORMAT, "PCK certificate chain");

        /* the signature data length: cap, and too small for the fixed fields */
        build_quote(&b, 4, 0, 5, &l);
        vt_put_u32le(p + l.len_off, 70000);
        expect_reject(p, b.n, VT_E_LIMIT, "signature data length 70000");
        vt_put_u32le(p + l.len_off, 100);
        expect_reject(p, b.n, VT_E_FORMAT,
                      "signature data (signature data length 100 at offset 0x278) ends inside "
                      "the attestation key");

        /* v5 descriptor */
        build_quote(&b, 5, 3, 5, &l);
        vt_put_u16le(p + 48, 4);
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "body_type 4 at offset 0x30");
        vt_put_u16le(p + 48, 0);
        expect_reject(p, b.n, VT_E_UNSUPPORTED, "body_type 0");
        vt_put_u16le(p + 48, 2);
        expect_reject(p, b.n, VT_E_FORMAT,
                      "body_size 648 at offset 0x32 does not match body_type 2");
        vt_put_u16le(p + 48, 3);
        vt_put_u32le(p + 50, 584);
        expect_reject(p, b.n, VT_E_FORMAT, "body_size 584");
        vt_put_u32le(p + 50, 648);
        vt_put_u16le(p + 48, 1);
        vt_put_u32le(p + 50, 384);
        expect_reject(p, b.n, VT_E_FORMAT, "tee_type 0x81 at offset 0x4 does not match the SGX");
        build_quote(&b, 5, 1, 5, &l);
        vt_put_u32le(p + 4, 0x81);
        expect_reject(p, b.n, VT_E_FORMAT, "tee_type 0x81 at offset 0x4 does not match the SGX");

        /* v3: types 1-4 are kept without a chain; others are refused */
        for (unsigned t = 1; t <= 4; t++) {
                build_quote(&b, 3, 0, t, &l);
                struct vt_dcap_quote *q = parse_ok(b.b, b.n);
                assert_int_equal(q->pck_cert_type, t);
                assert_int_equal(q->cert_data_type, t);
                assert_null(q->pck_chain_pem);
                assert_int_equal(q->pck_chain_len, 0);
                char *js = NULL;
                assert_int_equal(vt_dcap_quote_json(q, &js), 0);
                assert_non_null(strstr(js, "\"cert_data\":\"777e858c"));
                free(js);
                vt_dcap_quote_free(q);
        }
        build_quote(&b, 3, 0, 6, &l);
        expect_reject(b.b, b.n, VT_E_UNSUPPORTED, "cert_data_type 6 at offset 0x");
        build_quote(&b, 3, 0, 0, &l);
        expect_reject(b.b, b.n, VT_E_UNSUPPORTED, "cert_data_type 0");
        build_quote(&b, 3, 0, 5, &l);
        vt_put_u32le(p + 4, 0x81);
        expect_reject(p, b.n, VT_E_FORMAT, "tee_type 0x81");

        expect_reject(NULL, 0, VT_E_TRUNCATED, "version");
        struct vt_dcap_quote *q = NULL;
        assert_int_equal(vt_dcap_quote_parse(b.b, b.n, NULL, NULL), VT_E_INVAL);
        assert_int_equal(vt_dcap_quote_parse(NULL, 5, &q, NULL), VT_E_INVAL);
        /* no diag: still the code */
        vt_put_u16le(p, 9);
        assert_int_equal(vt_dcap_quote_parse(b.b, b.n, &q, NULL), VT_E_UNSUPPORTED);
        assert_null(q);
}

static void test_dcap_parse_json(void **state)
{
        struct qb b;
        struct layout l;
        char *js = NULL;

        build_quote(&b, 5, 3, 5, &l);
        b.b[l.body + 120] = 0x01; /* debug */
        b.b[l.body + 123] = 0xd0; /* sept_ve_disable, pks, kl */
        b.b[l.body + 127] = 0x80; /* perfmon */
        struct vt_dcap_quote *q = parse_ok(b.b, b.n);
        assert_int_equal(vt_dcap_quote_json(q, &js), 0);
        json_t *o = json_loads(js, 0, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "tee")), "tdx");
        assert_int_equal(json_integer_value(json_object_get(o, "version")), 5);
        assert_int_equal(json_integer_value(json_object_get(o, "body_type")), 3);
        assert_int_equal(json_integer_value(json_object_get(o, "tee_type")), 0x81);
        json_t *ta = json_object_get(o, "td_attributes");
        assert_true(json_is_true(json_object_get(ta, "debug")));
        assert_true(json_is_true(json_object_get(ta, "sept_ve_disable")));
        assert_true(json_is_true(json_object_get(ta, "pks")));
        assert_true(json_is_true(json_object_get(ta, "kl")));
        assert_true(json_is_true(json_object_get(ta, "perfmon")));
        char want[20];
        snprintf(want, sizeof(want), "0x%016llx", (unsigned long long)q->td.td_attributes);
        assert_string_equal(json_string_value(json_object_get(ta, "raw")), want);
        assert_int_equal(strlen(json_string_value(json_object_get(o, "mr_td"))), 96);
        assert_non_null(json_object_get(o, "rtmr_3"));
        assert_non_null(json_object_get(o, "mr_service_td"));
        assert_string_equal(json_string_value(json_object_get(o, "pck_chain_pem")), fake_chain);
        assert_int_equal(json_integer_value(json_object_get(o, "pck_chain_len")),
                         strlen(fake_chain));
        assert_int_equal(json_integer_value(json_object_get(o, "trailing_zeros")), 0);
        assert_int_equal(
                json_integer_value(json_object_get(json_object_get(o, "qe_report"), "isv_svn")),
                q->qe_report.isv_svn);
        assert_string_equal(json_string_value(json_object_get(o, "qe_vendor_id")),
                            "939a7233f79c4ca9940a0db3957f0607");
        json_decref(o);
        free(js);
        vt_dcap_quote_free(q);

        build_quote(&b, 4, 0, 5, &l);
        q = parse_ok(b.b, b.n);
        assert_int_equal(vt_dcap_quote_json(q, &js), 0);
        assert_null(strstr(js, "mr_service_td"));
        assert_non_null(strstr(js, "\"tee\":\"tdx\""));
        free(js);
        vt_dcap_quote_free(q);

        build_quote(&b, 3, 0, 5, &l);
        b.b[l.body + 48] = 0x06; /* debug, mode64bit */
        q = parse_ok(b.b, b.n);
        assert_int_equal(vt_dcap_quote_json(q, &js), 0);
        o = json_loads(js, 0, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "tee")), "sgx");
        json_t *at = json_object_get(o, "attributes");
        assert_true(json_is_true(json_object_get(at, "debug")));
        assert_true(json_is_true(json_object_get(at, "mode64bit")));
        assert_true(json_is_false(json_object_get(at, "init")));
        assert_int_equal(strlen(json_string_value(json_object_get(o, "mr_enclave"))), 64);
        assert_null(json_object_get(o, "mr_td"));
        json_decref(o);
        free(js);
        vt_dcap_quote_free(q);
}

/* ---- recorded quotes ---- */

static struct vt_dcap_quote *parse_vector(const char *rel, uint8_t **ret_buf, size_t *ret_len)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        struct vt_dcap_quote *q = NULL;
        struct vt_diag d = {0};
        int e = vt_dcap_quote_parse(b, n, &q, &d);
        if (e < 0)
                fail_msg("%s: %d %s", rel, e, d.msg);
        assert_memory_equal(q->raw, b, q->raw_len);
        assert_int_equal(q->raw_len + q->trailing_zeros, n);
        char *js = NULL;
        assert_int_equal(vt_dcap_quote_json(q, &js), 0);
        json_t *o = json_loads(js, 0, NULL);
        if (!o)
                fail_msg("%s: JSON view does not parse", rel);
        assert_int_equal(json_integer_value(json_object_get(o, "version")), q->version);
        json_decref(o);
        free(js);
        if (ret_buf) {
                *ret_buf = b;
                *ret_len = n;
        } else {
                free(b);
        }
        return q;
}

static size_t count(const char *s, const char *needle)
{
        size_t k = 0;
        for (const char *p = s; (p = strstr(p, needle)); p++)
                k++;
        return k;
}

/* Every quote named in vectors.json (and the others in the directory) parses, with the
 * version and TEE that vectors.json gives. */
static void test_dcap_parse_vectors_all(void **state)
{
        VT_REQUIRE_TESTDATA();
        json_t *v = json_load_file(vt_testdata("dcap/vectors.json"), 0, NULL);
        assert_non_null(v);
        size_t i, n = 0;
        json_t *x;
        json_array_foreach (json_object_get(v, "vectors"), i, x) {
                const char *path = json_string_value(json_object_get(x, "quote"));
                const char *tee = json_string_value(json_object_get(x, "tee"));
                char rel[256];
                assert_non_null(path);
                snprintf(rel, sizeof(rel), "dcap/%s", path);
                if (strcmp(path, "tdx_50806f_eval15_gtg/quote_notsupported.bin") == 0)
                        continue; /* not zero-padded: test_dcap_parse_vectors_spr_e4 */
                struct vt_dcap_quote *q = parse_vector(rel, NULL, NULL);
                assert_int_equal(q->version,
                                 json_integer_value(json_object_get(x, "quote_version")));
                assert_int_equal(q->tee_type, strcmp(tee, "SGX") == 0 ? 0 : 0x81);
                assert_int_equal(q->pck_cert_type, 5);
                assert_int_equal(count(q->pck_chain_pem, "-----BEGIN CERTIFICATE-----"), 3);
                assert_int_equal(strlen(q->pck_chain_pem), q->pck_chain_len);
                vt_dcap_quote_free(q);
                n++;
        }
        json_array_foreach (json_object_get(v, "negative"), i, x) {
                const char *path = json_string_value(json_object_get(x, "quote"));
                char rel[256];
                if (!path)
                        continue;
                snprintf(rel, sizeof(rel), "dcap/%s", path);
                vt_dcap_quote_free(parse_vector(rel, NULL, NULL));
                n++;
        }
        json_decref(v);
        assert_true(n >= 11);
        static const char *const others[] = {
                "dcap/quotes_only/tdx_v4_00a06d080000_trustee.bin",
                "dcap/quotes_only/sgx_v3_occlum_00606a000000.bin",
                "dcap/quotes_only/tdx_v4_azure_00806f050000.bin",
                "dcap/quotes_only/tdx_v4_gce_cos113_trailing_bytes.bin",
        };
        for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
                struct vt_dcap_quote *q = parse_vector(others[i], NULL, NULL);
                assert_int_equal(count(q->pck_chain_pem, "-----BEGIN CERTIFICATE-----"), 3);
                vt_dcap_quote_free(q);
        }
}

/* Facts that PROVENANCE.md and docs/dcap.md state about single quotes. */
static void test_dcap_parse_vectors_facts(void **state)
{
        static const uint8_t zero48[48];
        struct vt_dcap_quote *q;
        VT_REQUIRE_TESTDATA();

        /* QVLRS TDX v4 sample: a 5006-byte QGS buffer, 70 zeros after the quote. */
        q = parse_vector("dcap/tdx_b0c06f_eval17/quote.bin", NULL, NULL);
        assert_int_equal(q->version, 4);
        assert_int_equal(q->body_type, VT_DCAP_BODY_TD10);
        assert_int_equal(q->signed_len, 632);
        assert_int_equal(q->raw_len, 4936);
        assert_int_equal(q->trailing_zeros, 70);
        assert_int_equal(q->cert_data_type, 6);
        assert_int_equal(q->qe_auth_len, 32);
        assert_int_equal(q->qe_report.isv_prod_id, 2); /* the TD-QE */
        assert_int_equal(q->qe_report.isv_svn, 6);
        assert_int_equal(q->qe_svn, 0);
        assert_int_equal(q->pce_svn, 0);
        assert_int_equal(q->td.report_data[0], q->raw[568]); /* file byte 568 */
        assert_true(q->td.seam_attributes == 0);
        assert_true(q->td.td_attributes == 0x10000000); /* SEPT_VE_DISABLE */
        vt_dcap_quote_free(q);

        /* QVLRS SGX v3 sample: QE svn 10 in the header and in the QE report. */
        q = parse_vector("dcap/sgx_00a067_eval17/quote.bin", NULL, NULL);
        assert_int_equal(q->version, 3);
        assert_int_equal(q->body_type, VT_DCAP_BODY_SGX);
        assert_int_equal(q->tee_type, 0);
        assert_int_equal(q->signed_len, 432);
        assert_int_equal(q->qe_svn, 10);
        assert_int_equal(q->qe_report.isv_svn, 10);
        assert_int_equal(q->qe_report.isv_prod_id, 1); /* the SGX QE */
        assert_int_equal(q->pce_svn, 15);
        assert_int_equal(q->cert_data_type, 5);
        assert_int_equal(q->pck_cert_type, 5);
        assert_non_null(strstr(q->pck_chain_pem, "BEGIN CERTIFICATE"));
        assert_int_equal(q->trailing_zeros, 0);
        assert_int_equal(q->raw_len, 4600);
        vt_dcap_quote_free(q);

        /* GTG v5 sample: body type 3 (TDX 1.5), module TDX_01 isvsvn 11, no service TD. */
        q = parse_vector("dcap/tdx_90c06f_eval18/quote_v5_uptodate.bin", NULL, NULL);
        assert_int_equal(q->version, 5);
        assert_int_equal(q->body_type, VT_DCAP_BODY_TD15);
        assert_int_equal(q->signed_len, 702);
        assert_int_equal(q->td.tee_tcb_svn[0], 11);
        assert_int_equal(q->td.tee_tcb_svn[1], 1);
        assert_memory_equal(q->td.mr_service_td, zero48, 48);
        vt_dcap_quote_free(q);
        q = parse_vector("dcap/tdx_90c06f_eval18/quote_v5_notsupported_a.bin", NULL, NULL);
        assert_int_equal(q->body_type, VT_DCAP_BODY_TD15);
        vt_dcap_quote_free(q);
        q = parse_vector("dcap/tdx_90c06f_eval18/quote_v5_notsupported_b_servicetd.bin", NULL,
                         NULL);
        assert_int_equal(q->body_type, VT_DCAP_BODY_TD15);
        assert_memory_not_equal(q->td.mr_service_td, zero48, 48);
        vt_dcap_quote_free(q);

        q = parse_vector("dcap/tdx_50806f_eval15_gtg/quote_debug_td.bin", NULL, NULL);
        assert_true(q->td.td_attributes & 1);
        vt_dcap_quote_free(q);

        q = parse_vector("dcap/quotes_only/sgx_v3_occlum_00606a000000.bin", NULL, NULL);
        assert_int_equal(q->version, 3);
        assert_int_equal(q->sgx.miscselect, 1);
        vt_dcap_quote_free(q);
        q = parse_vector("dcap/quotes_only/tdx_v4_azure_00806f050000.bin", NULL, NULL);
        assert_true(q->td.td_attributes == 0);
        vt_dcap_quote_free(q);

        /* GTG cos-113: an 8000-byte buffer, 3065 zeros after the signature data. */
        q = parse_vector("dcap/quotes_only/tdx_v4_gce_cos113_trailing_bytes.bin", NULL, NULL);
        assert_int_equal(q->raw_len + q->trailing_zeros, 8000);
        assert_int_equal(q->trailing_zeros, 3065);
        vt_dcap_quote_free(q);

        /* IQVL's synthetic quote: parses (the verifier rejects its root). Its type 5
         * "chain" is DER, not PEM, and it has no QE authentication data. */
        q = parse_vector("dcap/negative/intel_qvl_synthetic_tdx/quote.dat", NULL, NULL);
        assert_int_equal(q->version, 4);
        assert_int_equal(q->qe_auth_len, 0);
        assert_int_equal(q->pck_cert_type, 5);
        assert_int_equal((uint8_t)q->pck_chain_pem[0], 0x30);
        char *js = NULL;
        assert_int_equal(vt_dcap_quote_json(q, &js), 0);
        assert_non_null(strstr(js, "\"pck_chain_hex\":\"30820288"));
        free(js);
        vt_dcap_quote_free(q);
}

/* GTG's SPR_E4 quote is followed by 39 bytes of text, not zeros (PROVENANCE.md says
 * "39 trailing zero bytes"): "\nextra bytes(only for testing purpose)\n". The quote itself
 * is fine and parses once the text is cut off. */
static void test_dcap_parse_vectors_spr_e4(void **state)
{
        size_t n;
        uint8_t *b = vt_test_load_vector("dcap/tdx_50806f_eval15_gtg/quote_notsupported.bin", &n);
        assert_int_equal(n, 4974);
        assert_memory_equal(b + 4935, "\nextra bytes(only for testing purpose)\n", 39);
        expect_reject(b, n, VT_E_TRAILING, "byte 0x0a at offset 0x1347 after the signature data");
        struct vt_dcap_quote *q = parse_ok(b, 4935);
        assert_int_equal(q->version, 4);
        assert_int_equal(q->trailing_zeros, 0);
        assert_false(q->td.td_attributes & (1u << 28)); /* lacks SEPT_VE_DISABLE */
        vt_dcap_quote_free(q);
        free(b);
}

static void test_dcap_parse_vectors_truncations(void **state)
{
        static const char *const files[] = {
                "dcap/tdx_b0c06f_eval17/quote.bin",
                "dcap/tdx_90c06f_eval18/quote_v5_uptodate.bin",
                "dcap/sgx_00a067_eval17/quote.bin",
        };
        VT_REQUIRE_TESTDATA();
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                uint8_t *b;
                size_t n;
                struct vt_dcap_quote *q = parse_vector(files[i], &b, &n);
                walk_truncations(b, q->raw_len);
                vt_dcap_quote_free(q);
                free(b);
        }
}

/* The mutations of the brief, on one recorded quote of each kind. */
static void mutate_vector(const char *rel)
{
        uint8_t *b;
        size_t n;
        char want[96];
        struct vt_dcap_quote *q = parse_vector(rel, &b, &n);
        size_t lo = q->signed_len, sd = lo + 4, raw_len = q->raw_len;
        uint32_t sig_len = get32(b + lo);
        unsigned version = q->version;
        uint8_t *p = calloc(1, n + 16);
        assert_non_null(p);
        memcpy(p, b, n);

        vt_put_u16le(p, 6);
        expect_reject(p, n, VT_E_UNSUPPORTED, "quote version 6 at offset 0x0");
        vt_put_u16le(p, (uint16_t)version);
        vt_put_u16le(p + 2, 3);
        expect_reject(p, n, VT_E_UNSUPPORTED, "att_key_type 3");
        vt_put_u16le(p + 2, 2);
        p[12] ^= 0x80;
        expect_reject(p, n, VT_E_UNSUPPORTED, "qe_vendor_id 139a7233");
        p[12] ^= 0x80;
        vt_put_u32le(p + 4, q->tee_type ^ 0x81);
        expect_reject(p, n, VT_E_FORMAT, "tee_type");
        vt_put_u32le(p + 4, q->tee_type);

        /* signature data length +1 / -1 */
        vt_put_u32le(p + lo, sig_len + 1);
        if (q->trailing_zeros)
                expect_reject(p, n, VT_E_FORMAT, "signature data length");
        else
                expect_reject(p, n, VT_E_TRUNCATED, "signature data length");
        vt_put_u32le(p + lo, sig_len - 1);
        expect_reject(p, n, VT_E_FORMAT, "signature data length");
        vt_put_u32le(p + lo, sig_len);

        /* after the signature data: a zero is padding, anything else is refused */
        if (!q->trailing_zeros) {
                struct vt_dcap_quote *q2 = parse_ok(p, n + 1);
                assert_int_equal(q2->trailing_zeros, 1);
                vt_dcap_quote_free(q2);
        }
        p[raw_len] = 0x01;
        snprintf(want, sizeof(want), "byte 0x01 at offset 0x%zx after the signature data", raw_len);
        expect_reject(p, q->trailing_zeros ? n : n + 1, VT_E_TRAILING, want);
        p[raw_len] = 0;

        if (version == 3) {
                /* flat: the PCK certification data type follows the auth data */
                size_t ct = sd + 64 + 64 + 384 + 64 + 2 + q->qe_auth_len;
                assert_int_equal(get16(p + ct), 5);
                vt_put_u16le(p + ct, 7);
                expect_reject(p, n, VT_E_UNSUPPORTED, "cert_data_type 7");
                vt_put_u16le(p + ct, 4); /* a PPID form: kept, no chain */
                struct vt_dcap_quote *q2 = parse_ok(p, n);
                assert_int_equal(q2->pck_cert_type, 4);
                assert_null(q2->pck_chain_pem);
                vt_dcap_quote_free(q2);
                vt_put_u16le(p + ct, 5);
        } else {
                assert_int_equal(get16(p + sd + 128), 6);
                vt_put_u16le(p + sd + 128, 7);
                expect_reject(p, n, VT_E_UNSUPPORTED, "cert_data_type 7");
                vt_put_u16le(p + sd + 128, 6);
                size_t inner = sd + 134 + 384 + 64 + 2 + q->qe_auth_len;
                assert_int_equal(get16(p + inner), 5);
                vt_put_u16le(p + inner, 4);
                expect_reject(p, n, VT_E_UNSUPPORTED, "inner cert_data_type 4");
                vt_put_u16le(p + inner, 5);
                uint32_t cds = get32(p + sd + 130);
                vt_put_u32le(p + sd + 130, cds - 1);
                expect_reject(p, n, VT_E_FORMAT, "inner cert_data_size");
                vt_put_u32le(p + sd + 130, cds);
        }
        if (version == 5) {
                assert_int_equal(get32(p + 50), 648);
                vt_put_u32le(p + 50, 584);
                expect_reject(p, n, VT_E_FORMAT, "body_size 584 at offset 0x32");
                vt_put_u32le(p + 50, 648);
                vt_put_u16le(p + 48, 2);
                expect_reject(p, n, VT_E_FORMAT, "body_size 648 at offset 0x32");
                vt_put_u16le(p + 48, 3);
        }
        /* all changes undone: it parses again */
        vt_dcap_quote_free(parse_ok(p, n));
        free(p);
        free(b);
        vt_dcap_quote_free(q);
}

static void test_dcap_parse_vectors_mutations(void **state)
{
        VT_REQUIRE_TESTDATA();
        mutate_vector("dcap/tdx_b0c06f_eval17/quote.bin");
        mutate_vector("dcap/tdx_90c06f_eval18/quote_v5_uptodate.bin");
        mutate_vector("dcap/sgx_00a067_eval17/quote.bin");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dcap_parse_synthetic_fields),
                cmocka_unit_test(test_dcap_parse_synthetic_truncations),
                cmocka_unit_test(test_dcap_parse_trailing),
                cmocka_unit_test(test_dcap_parse_synthetic_rejects),
                cmocka_unit_test(test_dcap_parse_json),
                cmocka_unit_test(test_dcap_parse_vectors_all),
                cmocka_unit_test(test_dcap_parse_vectors_facts),
                cmocka_unit_test(test_dcap_parse_vectors_spr_e4),
                cmocka_unit_test(test_dcap_parse_vectors_truncations),
                cmocka_unit_test(test_dcap_parse_vectors_mutations),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
