/* SPDX-License-Identifier: Apache-2.0 */
/* The client-body readers of lib/kbs/request.c and lib/k8s/admission.c, directly (the
 * server's answers to them are in test_server and test_webhook). */
#include <string.h>

#include "testutil.h"
#include "k8s/admission.h"
#include "kbs/request.h"
#include "util/json.h"
#include "util/macro.h"

#define JWK                                                                                        \
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\"," \
        "\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\"}"

static const uint8_t *u8(const char *s)
{
        return (const uint8_t *)s;
}

static void test_body_parse(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        json_t *j = NULL;
        assert_int_equal(vt_kbs_body_parse(NULL, 0, &j, &d), VT_E_FORMAT);
        assert_null(j);
        vt_diag_clear(&d);
        assert_int_equal(vt_kbs_body_parse(u8("[1]"), 3, &j, &d), VT_E_FORMAT);
        assert_string_equal(d.msg, "body is not a JSON object");
        vt_diag_clear(&d);
        const char *dup = "{\"a\":1,\"a\":2}";
        assert_int_equal(vt_kbs_body_parse(u8(dup), strlen(dup), &j, &d), VT_E_FORMAT);
        assert_non_null(strstr(d.msg, "duplicate"));
        const char *ok = "{\"version\":\"0.4.0\",\"tee\":\"snp\"}";
        assert_int_equal(vt_kbs_body_parse(u8(ok), strlen(ok), &j, NULL), 0);
        struct vt_kbs_auth a;
        vt_kbs_auth_read(j, &a);
        assert_string_equal(a.version, "0.4.0");
        assert_string_equal(a.tee, "snp");
        json_decref(j);
        const char *nums = "{\"version\":4,\"tee\":null}";
        assert_int_equal(vt_kbs_body_parse(u8(nums), strlen(nums), &j, NULL), 0);
        vt_kbs_auth_read(j, &a);
        assert_null(a.version);
        assert_null(a.tee);
        json_decref(j);
}

static int attest_read(const char *text, size_t max, struct vt_diag *d)
{
        json_auto_t *j = json_loads(text, 0, NULL);
        struct vt_kbs_attest ab;
        assert_non_null(j);
        int e = vt_kbs_attest_read(j, (const uint8_t *)text, strlen(text), max, &ab, d);
        if (e == 0) {
                assert_string_equal(ab.nonce, "n");
                assert_non_null(ab.primary);
                assert_non_null(ab.additional);
        }
        return e;
}

static void test_attest_read(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        const char *good = "{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":" JWK "},"
                           "\"tee-evidence\":{\"primary_evidence\":{\"svn\":\"1\"}}}";
        assert_int_equal(attest_read(good, 1 << 20, &d), 0);
        /* the compact tee-evidence is 32 bytes */
        assert_int_equal(attest_read(good, 31, &d), VT_E_LIMIT);
        assert_string_equal(d.msg, "tee-evidence larger than 31 bytes");
        vt_diag_clear(&d);
        assert_int_equal(attest_read(good, 32, &d), 0);
        const char *no_pe = "{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":" JWK "},"
                            "\"tee-evidence\":{\"additional_evidence\":\"\"}}";
        assert_int_equal(attest_read(no_pe, 1 << 20, &d), VT_E_FORMAT);
        vt_diag_clear(&d);
        const char *add_num = "{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":" JWK "},"
                              "\"tee-evidence\":{\"primary_evidence\":1,\"additional_evidence\":"
                              "1}}";
        assert_int_equal(attest_read(add_num, 1 << 20, &d), VT_E_FORMAT);
        vt_diag_clear(&d);
        const char *bad_key = "{\"runtime-data\":{\"nonce\":\"n\",\"tee-pubkey\":{\"kty\":\"EC\"}},"
                              "\"tee-evidence\":{\"primary_evidence\":1}}";
        assert_int_equal(attest_read(bad_key, 1 << 20, &d), VT_E_POLICY);
        assert_true(strncmp(d.msg, "tee-pubkey: ", 12) == 0);
}

static void test_refval_body(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        json_t *root = NULL, *value = NULL;
        const char *id = NULL, *tee = NULL;
        const char *ok = "{\"id\":\"a\",\"tee\":\"snp\",\"value\":{}}";
        assert_int_equal(vt_kbs_refval_body_parse(u8(ok), strlen(ok), &root, &id, &tee, &value, &d),
                         0);
        assert_string_equal(id, "a");
        assert_string_equal(tee, "snp");
        assert_true(json_is_object(value));
        json_decref(root);
        static const char *const bad[] = {
                "",
                "{\"id\":\"a\",\"tee\":\"snp\",\"value\":[]}",
                "{\"id\":\"a\",\"tee\":\"snp\",\"value\":{},\"x\":1}",
                "{\"id\":1,\"tee\":\"snp\",\"value\":{}}",
                "{\"id\":\"a\",\"id\":\"b\",\"tee\":\"snp\",\"value\":{}}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                vt_diag_clear(&d);
                assert_int_equal(vt_kbs_refval_body_parse(u8(bad[i]), strlen(bad[i]), &root, &id,
                                                          &tee, &value, &d),
                                 VT_E_FORMAT);
                assert_string_equal(d.msg,
                                    "reference value must be {\"id\",\"tee\",\"value\":{...}}");
        }
        assert_int_equal(vt_kbs_refval_body_parse(NULL, 0, &root, &id, &tee, &value, NULL),
                         VT_E_FORMAT);
}

static void test_policy_split(void **state)
{
        (void)state;
        size_t pl = 9, sl = 9;
        const uint8_t *s = u8("x");
        vt_kbs_policy_body_split(u8("{}"), 2, &pl, &s, &sl);
        assert_int_equal(pl, 2);
        assert_null(s);
        assert_int_equal(sl, 0);
        static const uint8_t b[] = {'{', '}', 0, 's', 0, 'x'};
        vt_kbs_policy_body_split(b, sizeof(b), &pl, &s, &sl);
        assert_int_equal(pl, 2);
        assert_ptr_equal(s, b + 3);
        assert_int_equal(sl, 3); /* the secret may hold NUL bytes */
        vt_kbs_policy_body_split(b, 3, &pl, &s, &sl);
        assert_int_equal(sl, 0);
        assert_ptr_equal(s, b + 3);
        vt_kbs_policy_body_split(NULL, 0, &pl, &s, &sl);
        assert_int_equal(pl, 0);
        assert_null(s);
}

#define REVIEW(op, pod)                                                                            \
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"       \
        "\"uid\":\"u1\",\"operation\":\"" op "\",\"kind\":{\"group\":\"\",\"kind\":\"Pod\"},"      \
        "\"object\":" pod "}}"
#define POD(annotations)                                                                           \
        "{\"metadata\":{\"annotations\":" annotations                                              \
        "},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}"

/* secrets_of: the annotation's entries of review text, or the error (d says why). */
static int secrets_of(const char *text, struct vt_k8s_mapping *m, size_t *n, struct vt_diag *d)
{
        struct vt_k8s_review r;
        const char *an = NULL;
        int e = vt_k8s_review_parse(u8(text), strlen(text), &r, d);
        if (e == 0)
                e = vt_k8s_review_pod(&r, d);
        if (e == 0)
                e = vt_k8s_pod_secrets(r.pod, &an, m, n, d);
        vt_k8s_review_done(&r);
        return e;
}

static void test_admission(void **state)
{
        (void)state;
        struct vt_diag d = {0};
        struct vt_k8s_mapping m[VT_K8S_MAX_SECRETS];
        size_t n = 9;
        assert_int_equal(
                secrets_of(REVIEW("CREATE",
                                  POD("{\"veritee.io/secrets\":\"r/t/a=/s/a, r/t/b=/s/b\"}")),
                           m, &n, &d),
                0);
        assert_int_equal(n, 2);
        assert_string_equal(m[0].res, "r/t/a");
        assert_string_equal(m[1].path, "/s/b");
        assert_int_equal(secrets_of(REVIEW("CREATE", POD("{}")), m, &n, &d), 0);
        assert_int_equal(n, 0);
        static const struct {
                const char *text, *why;
        } bad[] = {
                {"", "no body"},
                {"{", "the body is not JSON"},
                {"{\"apiVersion\":\"v1\",\"kind\":\"AdmissionReview\"}", "apiVersion must be"},
                {REVIEW("CREATE", POD("{\"veritee.io/secrets\":\"r/t/a=/s/../x\"}")),
                 "is not an absolute path"},
                {REVIEW("CREATE", POD("{\"veritee.io/secrets\":\"r/t/a=/s/a,r/t/b=/s/a\"}")),
                 "given twice"},
                {REVIEW("CREATE", POD("{\"veritee.io/secrets\":\"r/t=/s/a\"}")),
                 "is not a resource path"},
                {REVIEW("CREATE", POD("{\"veritee.io/secrets\":1}")), "must be a string"},
                {REVIEW("CREATE", POD("{\"veritee.io/secrets\":\" , \"}")), "is not REPO/TYPE"},
                {REVIEW("CREATE", "{\"spec\":{\"containers\":[]}}"), "spec.containers must be"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                vt_diag_clear(&d);
                assert_int_equal(secrets_of(bad[i].text, m, &n, &d), VT_E_FORMAT);
                if (!strstr(d.msg, bad[i].why))
                        fail_msg("case %zu: \"%s\" does not say \"%s\"", i, d.msg, bad[i].why);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_body_parse),  cmocka_unit_test(test_attest_read),
                cmocka_unit_test(test_refval_body), cmocka_unit_test(test_policy_split),
                cmocka_unit_test(test_admission),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
