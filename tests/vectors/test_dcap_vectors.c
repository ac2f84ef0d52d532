/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP verification on quotes and collateral recorded from real Intel hardware
 * (../shared/testdata/dcap/vectors.json): every vector at its as-of time with the verdict
 * and TCB status that Intel's rules give (PROVENANCE.md says which answer is right where
 * the peers disagree), plus the negative cases.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/json.h"
#include "veritee/dcap.h"

static struct vt_dcap_verifier *V;

static int setup(void **state)
{
        return vt_dcap_verifier_new(&V);
}

static int teardown(void **state)
{
        vt_dcap_verifier_free(V);
        return 0;
}

static int64_t T(const char *s)
{
        int64_t t = 0;
        assert_int_equal(vt_time_parse_rfc3339(s, &t), 0);
        return t;
}

static struct vt_dcap_collateral *load_collateral(const char *rel, uint8_t **ret_text,
                                                  size_t *ret_len)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        struct vt_dcap_collateral *c = NULL;
        struct vt_diag d = {0};
        if (vt_dcap_collateral_parse((const char *)b, n, &c, &d) < 0)
                fail_msg("%s: %s", rel, d.msg);
        if (ret_text) {
                *ret_text = b;
                *ret_len = n;
        } else {
                free(b);
        }
        return c;
}

/* Verifies with every status accepted, so that the status itself can be compared. */
static int verify(const char *quote_rel, const struct vt_dcap_collateral *c, int64_t at,
                  struct vt_dcap_result *res, struct vt_dcap_quote **q, struct vt_diag *d)
{
        size_t n;
        char rel[256];
        snprintf(rel, sizeof(rel), "dcap/%s", quote_rel);
        uint8_t *b = vt_test_load_vector(rel, &n);
        struct vt_dcap_policy_opts all = {.accepted_statuses = (1u << _VT_TCB_STATUS_MAX) - 1};
        int e = vt_dcap_verify(V, b, n, c, at, &all, q, res, d);
        free(b);
        return e;
}

/* The end of the signature data of a v4/v5 quote (header + body + length field + data). */
static size_t sig_end(const uint8_t *b, size_t n)
{
        size_t at =
                b[0] == 5 ? 54 + (size_t)(b[50] | b[51] << 8 | b[52] << 16 | (uint32_t)b[53] << 24)
                          : (b[0] == 4 ? 632 : 432);
        if (at + 4 > n)
                return n;
        return at + 4 +
               (size_t)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | (uint32_t)b[at + 3] << 24);
}

static void test_dcap_vectors_table(void **state)
{
        size_t n;
        uint8_t *b = vt_test_load_vector("dcap/vectors.json", &n);
        json_auto_t *root = json_loadb((const char *)b, n, 0, NULL);
        free(b);
        size_t i;
        json_t *v;
        unsigned checked = 0;
        json_array_foreach (json_object_get(root, "vectors"), i, v) {
                const char *id = json_string_value(json_object_get(v, "id"));
                const char *qp = json_string_value(json_object_get(v, "quote"));
                const char *cp = json_string_value(json_object_get(v, "collateral"));
                const char *expect = json_string_value(json_object_get(v, "expect_intel_rules"));
                const char *at = json_string_value(json_object_get(v, "as_of"));
                char rel[256];
                snprintf(rel, sizeof(rel), "dcap/%s", cp);
                struct vt_dcap_collateral *c = load_collateral(rel, NULL, NULL);
                struct vt_dcap_result res;
                struct vt_dcap_quote *q = NULL;
                struct vt_diag d = {0};
                int e = verify(qp, c, T(at), &res, &q, &d);
                bool reject = strncmp(expect, "reject", 6) == 0;
                if (e == VT_E_TRAILING) {
                        /* go-tdx-guest's SPR_E4 quote carries "extra bytes(only for testing
                         * purpose)" after its signature data: refused as it is (only zero padding
                         * may follow); without them the TCB verdict must still be the expected one
                         */
                        size_t qn;
                        snprintf(rel, sizeof(rel), "dcap/%s", qp);
                        uint8_t *qb = vt_test_load_vector(rel, &qn);
                        struct vt_dcap_policy_opts all = {.accepted_statuses =
                                                                  (1u << _VT_TCB_STATUS_MAX) - 1};
                        d = (struct vt_diag){0};
                        e = vt_dcap_verify(V, qb, sig_end(qb, qn), c, T(at), &all, &q, &res, &d);
                        free(qb);
                }
                if (reject) {
                        if (e == 0)
                                fail_msg("%s: accepted (%s), expected %s", id,
                                         vt_tcb_status_name(res.status), expect);
                        if (strstr(expect, "TCB_NOT_SUPPORTED") &&
                            !strstr(d.msg, "no matching TCB level"))
                                fail_msg("%s: reason \"%s\", expected no matching TCB level", id,
                                         d.msg);
                } else {
                        if (e != 0)
                                fail_msg("%s: %s", id, d.msg);
                        char want[64];
                        size_t k = 0;
                        while (expect[k] && expect[k] != ' ' && k + 1 < sizeof(want)) {
                                want[k] = expect[k];
                                k++;
                        }
                        want[k] = 0;
                        if (strcmp(vt_tcb_status_name(res.status), want) != 0)
                                fail_msg("%s: status %s, expected %s", id,
                                         vt_tcb_status_name(res.status), want);
                        /* advisories named in the expectation are reported */
                        for (const char *p = strstr(expect, "INTEL-SA-"); p;
                             p = strstr(p + 1, "INTEL-SA-")) {
                                bool found = false;
                                for (size_t a = 0; a < res.n_advisories; a++)
                                        if (strncmp(res.advisory_ids[a], p, 14) == 0)
                                                found = true;
                                if (!found)
                                        fail_msg("%s: advisory %.14s missing", id, p);
                        }
                        /* a debug TD passes DCAP, and the default policy refuses it */
                        struct vt_diag pd = {0};
                        int pe = vt_dcap_policy_check(NULL, q, &pd);
                        if (strstr(expect, "DEBUG"))
                                assert_int_equal(pe, VT_E_POLICY);
                        else if (pe != 0)
                                fail_msg("%s: default policy: %s", id, pd.msg);
                }
                vt_dcap_quote_free(q);
                vt_dcap_collateral_free(c);
                checked++;
        }
        assert_true(checked >= 10);
}

/* Collateral windows: after nextUpdate, before issueDate, and the PCK CRL expiring first. */
static void test_dcap_vectors_windows(void **state)
{
        struct vt_dcap_collateral *c =
                load_collateral("dcap/tdx_b0c06f_eval17/collateral.json", NULL, NULL);
        struct vt_dcap_result res;
        struct vt_dcap_quote *q = NULL;
        struct vt_diag d = {0};
        assert_int_equal(
                verify("tdx_b0c06f_eval17/quote.bin", c, T("2025-06-20T00:00:00Z"), &res, &q, &d),
                0);
        vt_dcap_quote_free(q);
        q = NULL;
        assert_int_not_equal(
                verify("tdx_b0c06f_eval17/quote.bin", c, T("2025-08-01T00:00:00Z"), &res, &q, &d),
                0);
        d = (struct vt_diag){0};
        assert_int_not_equal(
                verify("tdx_b0c06f_eval17/quote.bin", c, T("2025-06-01T00:00:00Z"), &res, &q, &d),
                0);
        d = (struct vt_diag){0};
        /* the PCK CRL expired at 10:00:35 while the TCB info is still valid: reject */
        assert_int_not_equal(
                verify("tdx_b0c06f_eval17/quote.bin", c, T("2025-07-19T10:10:00Z"), &res, &q, &d),
                0);
        assert_non_null(strstr(d.msg, "crl"));
        vt_dcap_collateral_free(c);
}

/* max_collateral_age_days: the age is measured from the older issueDate to the
 * verification time; a policy refuses collateral older than it allows. */
static void test_dcap_vectors_collateral_age(void **state)
{
        struct vt_dcap_collateral *c =
                load_collateral("dcap/tdx_b0c06f_eval17/collateral.json", NULL, NULL);
        struct vt_dcap_result fresh, old;
        struct vt_dcap_quote *q = NULL;
        struct vt_diag d = {0};
        assert_int_equal(
                verify("tdx_b0c06f_eval17/quote.bin", c, T("2025-06-20T00:00:00Z"), &fresh, &q, &d),
                0);
        vt_dcap_quote_free(q);
        q = NULL;
        assert_int_equal(
                verify("tdx_b0c06f_eval17/quote.bin", c, T("2025-07-10T00:00:00Z"), &old, &q, &d),
                0);
        vt_dcap_quote_free(q);
        assert_true(fresh.collateral_age >= 0 && fresh.collateral_age < 7 * 86400);
        assert_int_equal(old.collateral_age - fresh.collateral_age, 20 * 86400);

        struct vt_dcap_policy *p = NULL;
        const char *week = "{\"max_collateral_age_days\": 7}";
        assert_int_equal(vt_dcap_policy_parse(week, strlen(week), &p, &d), 0);
        assert_int_equal(vt_dcap_policy_check_collateral(p, &fresh, &d), 0);
        assert_int_equal(vt_dcap_policy_check_collateral(p, &old, &d), VT_E_EXPIRED);
        assert_non_null(strstr(d.msg, "max_collateral_age_days 7"));
        /* exactly at the limit is accepted, one second past it is not */
        struct vt_dcap_result edge = fresh;
        edge.collateral_age = 7 * 86400;
        assert_int_equal(vt_dcap_policy_check_collateral(p, &edge, &d), 0);
        edge.collateral_age++;
        assert_int_equal(vt_dcap_policy_check_collateral(p, &edge, &d), VT_E_EXPIRED);
        vt_dcap_policy_free(p);
        /* no policy, or a policy without the key: no limit */
        assert_int_equal(vt_dcap_policy_check_collateral(NULL, &old, &d), 0);
        const char *none = "{\"debug_allowed\": false}";
        assert_int_equal(vt_dcap_policy_parse(none, strlen(none), &p, &d), 0);
        assert_int_equal(vt_dcap_policy_check_collateral(p, &old, &d), 0);
        vt_dcap_policy_free(p);
        /* out of range or of the wrong type */
        static const char *const bad[] = {
                "{\"max_collateral_age_days\": 0}", "{\"max_collateral_age_days\": 3651}",
                "{\"max_collateral_age_days\": \"7\"}", "{\"max_collateral_age_days\": 1.5}",
                "{\"max_collateral_age_days\": -1}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                p = NULL;
                d = (struct vt_diag){0};
                assert_int_equal(vt_dcap_policy_parse(bad[i], strlen(bad[i]), &p, &d), VT_E_FORMAT);
                assert_null(p);
                assert_non_null(strstr(d.msg, "max_collateral_age_days"));
        }
        vt_dcap_collateral_free(c);
}

/* Edited collateral and quotes are refused. */
static void test_dcap_vectors_tampering(void **state)
{
        uint8_t *text = NULL;
        size_t n;
        struct vt_dcap_collateral *c =
                load_collateral("dcap/tdx_b0c06f_eval17/collateral.json", &text, &n);
        struct vt_dcap_result res;
        struct vt_dcap_quote *q = NULL;
        struct vt_diag d = {0};
        vt_dcap_collateral_free(c);
        /* one space added inside the signed tcb_info bytes */
        json_auto_t *j = json_loadb((const char *)text, n, 0, NULL);
        const char *ti = json_string_value(json_object_get(j, "tcb_info"));
        char *edited = malloc(strlen(ti) + 2);
        edited[0] = 0;
        strncat(edited, ti, 1);
        strncat(edited, " ", 2);
        strncat(edited, ti + 1, strlen(ti));
        json_object_set_new(j, "tcb_info", json_string(edited));
        free(edited);
        char *txt = json_dumps(j, 0);
        if (vt_dcap_collateral_parse(txt, strlen(txt), &c, &d) == 0) {
                assert_int_not_equal(verify("tdx_b0c06f_eval17/quote.bin", c,
                                            T("2025-06-20T00:00:00Z"), &res, &q, &d),
                                     0);
                assert_non_null(strstr(d.msg, "tcb_info"));
                vt_dcap_collateral_free(c);
        }
        free(txt);
        free(text);
        /* flipped report data (file byte 568) */
        c = load_collateral("dcap/tdx_b0c06f_eval17/collateral.json", NULL, NULL);
        uint8_t *b = vt_test_load_vector("dcap/tdx_b0c06f_eval17/quote.bin", &n);
        b[568] ^= 1;
        struct vt_dcap_policy_opts all = {.accepted_statuses = (1u << _VT_TCB_STATUS_MAX) - 1};
        d = (struct vt_diag){0};
        assert_int_equal(
                vt_dcap_verify(V, b, n, c, T("2025-06-20T00:00:00Z"), &all, NULL, &res, &d),
                VT_E_SIGNATURE);
        b[568] ^= 1;
        /* the QE report and its signature, after the same bytes verified once (the
         * verifier remembers verified QE reports): a changed byte is still refused */
        assert_int_equal(
                vt_dcap_verify(V, b, n, c, T("2025-06-20T00:00:00Z"), &all, NULL, &res, NULL), 0);
        struct vt_dcap_quote *pq = NULL;
        assert_int_equal(vt_dcap_quote_parse(b, n, &pq, NULL), 0);
        const uint8_t *qr = memmem(b, n, pq->qe_report_raw, sizeof(pq->qe_report_raw));
        const uint8_t *qs = memmem(b, n, pq->qe_report_signature, 64);
        assert_non_null(qr);
        assert_non_null(qs);
        size_t at_byte[] = {(size_t)(qr - b), (size_t)(qr - b) + 383, (size_t)(qs - b),
                            (size_t)(qs - b) + 63};
        for (size_t k = 0; k < sizeof(at_byte) / sizeof(at_byte[0]); k++) {
                b[at_byte[k]] ^= 0x10;
                d = (struct vt_diag){0};
                assert_int_equal(
                        vt_dcap_verify(V, b, n, c, T("2025-06-20T00:00:00Z"), &all, NULL, &res, &d),
                        VT_E_SIGNATURE);
                assert_non_null(strstr(d.msg, "QE report signature"));
                b[at_byte[k]] ^= 0x10;
        }
        /* every truncation of the signed quote is refused without a crash (cutting only
         * trailing zero padding leaves a valid quote) */
        size_t end = pq->raw_len;
        vt_dcap_quote_free(pq);
        for (size_t k = 0; k < end; k++) {
                uint8_t *copy = malloc(k ? k : 1);
                memcpy(copy, b, k);
                assert_int_not_equal(vt_dcap_verify(V, copy, k, c, T("2025-06-20T00:00:00Z"), &all,
                                                    NULL, &res, NULL),
                                     0);
                free(copy);
        }
        free(b);
        vt_dcap_collateral_free(c);
}

/* The synthetic set from Intel's QVL (a fake root with the real name) is refused. */
static void test_dcap_vectors_synthetic_root(void **state)
{
        size_t n;
        uint8_t *b = vt_test_load_vector("dcap/negative/intel_qvl_synthetic_tdx/quote.dat", &n);
        struct vt_dcap_collateral *c =
                load_collateral("dcap/tdx_b0c06f_eval17/collateral.json", NULL, NULL);
        struct vt_dcap_result res;
        struct vt_diag d = {0};
        int e = vt_dcap_verify(V, b, n, c, T("2025-06-20T00:00:00Z"), NULL, NULL, &res, &d);
        assert_int_not_equal(e, 0);
        free(b);
        vt_dcap_collateral_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dcap_vectors_table),
                cmocka_unit_test(test_dcap_vectors_windows),
                cmocka_unit_test(test_dcap_vectors_collateral_age),
                cmocka_unit_test(test_dcap_vectors_tampering),
                cmocka_unit_test(test_dcap_vectors_synthetic_root),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
