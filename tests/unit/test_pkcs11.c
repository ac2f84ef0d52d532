/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 7512 pkcs11: URIs (lib/crypto/pkcs11.h): the attributes veritee reads, percent-
 * decoding, every truncation of a valid URI, and each refusal by its reason. The keys
 * themselves are tested against SoftHSM2 in tests/integration/test_hsm.c.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "crypto/pkcs11.h"
#include "testutil.h"
#include "util/macro.h"

static void test_pkcs11_uri_parse(void **state)
{
        (void)state;
        struct vt_p11_uri *u = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_p11_uri_parse("pkcs11:token=my%20hsm;object=kek;id=%01%ff;"
                                          "type=secret-key?module-name=softhsm2&pin-source="
                                          "file:///etc/pin",
                                          &u, &d),
                         0);
        assert_string_equal(u->token, "my hsm");
        assert_string_equal(u->object, "kek");
        assert_int_equal(u->id_len, 2);
        assert_int_equal(u->id[1], 0xff);
        assert_string_equal(u->type, "secret-key");
        assert_string_equal(u->module_name, "softhsm2");
        assert_string_equal(u->pin_source, "/etc/pin");
        vt_p11_uri_free(u);
        static const struct {
                const char *uri, *why;
        } bad[] = {
                {"pkcs11:token=a;object=b?pin-value=1234", "pin-value is refused"},
                {"pkcs11:token=a;object=b%4", "bad percent-encoding"},
                {"pkcs11:token=a;object=b;object=c", "repeated"},
                {"pkcs11:token=a;colour=b", "unknown path attribute"},
                {"pkcs11:object=b", "names no token"},
                {"pkcs11:token=a", "names no key"},
                {"pkcs11:token=a;object=b;type=cert", "type=cert"},
                {"pkcs11:token=a;id=", "id must have"},
        };
        /* every truncation parses or is refused with a reason (never read past its end) */
        const char *full = "pkcs11:token=vt;object=k%41;id=%01%02;type=private?module-path=/m"
                           "&pin-source=file:/p";
        for (size_t n = 0; n <= strlen(full); n++) {
                char *cut = strndup(full, n);
                vt_diag_clear(&d);
                u = NULL;
                int e = vt_p11_uri_parse(cut, &u, &d);
                if (e < 0)
                        assert_true(d.msg[0] != 0);
                else
                        assert_non_null(u);
                vt_p11_uri_free(u);
                free(cut);
        }
        u = NULL;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                vt_diag_clear(&d);
                u = NULL;
                assert_true(vt_p11_uri_parse(bad[i].uri, &u, &d) < 0);
                assert_null(u);
                if (!strstr(d.msg, bad[i].why))
                        fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].uri, d.msg, bad[i].why);
        }
}

static void test_pkcs11_is_uri(void **state)
{
        (void)state;
        assert_true(vt_p11_is_uri("pkcs11:token=a;object=b"));
        assert_false(vt_p11_is_uri("/etc/veritee/kek"));
        assert_false(vt_p11_is_uri("pkcs11"));
        assert_false(vt_p11_is_uri(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pkcs11_uri_parse),
                cmocka_unit_test(test_pkcs11_is_uri),
        };
        return vtt_run_group_tests(tests, NULL, NULL);
}
