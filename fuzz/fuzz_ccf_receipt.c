/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a CCF / Azure Confidential Ledger receipt (JSON) -> vt_ccf_receipt_verify
 * against a fixed service certificate, and the input as the service certificate of a
 * fixed receipt. The service certificate below is self-made (P-256, "CCF Network"; its
 * private key was discarded): the seeds seed-acl-*, seed-ccf-* of corpus/ccf_receipt
 * were made with the same keys and verify against it, so mutations reach every check.
 * A rejection names its reason and leaves ret_info alone; with and without ret_info the
 * verdict is the same; an accepted receipt's info is well-formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ccf.h"
#include "veritee/veritee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char service_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBKzCB0qADAgECAhQM12EWbuas0HtEIz0BaMlAn5PX1DAKBggqhkjOPQQDAjAW\n"
        "MRQwEgYDVQQDDAtDQ0YgTmV0d29yazAeFw0yNjAxMDEwMDAwMDBaFw0zNTEyMzAw\n"
        "MDAwMDBaMBYxFDASBgNVBAMMC0NDRiBOZXR3b3JrMFkwEwYHKoZIzj0CAQYIKoZI\n"
        "zj0DAQcDQgAEIF4+Ugbm9UZPAGXQuwvhYoAKwdPdm1wXtvCs81KyBdnmFmmuYZYn\n"
        "9DkF3DoPa4EBbyG0NyvQh7lokqOt0yopcjAKBggqhkjOPQQDAgNIADBFAiBB+WBK\n"
        "0QSIJgIalgbclq0/eOoB7CCwF5g/fskgw1bCpwIhALgAHCM0ZeZ07FqF4rGzVjLb\n"
        "cNBG/3uv8Ki0yynB9Nfy\n"
        "-----END CERTIFICATE-----\n";

static void check(int e, const struct vt_diag *d, const struct vt_ccf_receipt_info *info,
                  const struct vt_ccf_receipt_info *sentinel)
{
        if (e < 0) {
                if (e != VT_E_NOMEM && d->msg[0] == '\0')
                        abort();
                if (memcmp(info, sentinel, sizeof(*info)) != 0)
                        abort();
                return;
        }
        if (e != 0 || memchr(info->transaction_id, '\0', sizeof(info->transaction_id)) == NULL)
                abort();
        if (info->transaction_id_signed &&
            (info->signature_transaction || !info->transaction_id[0]))
                abort();
        if (info->n_endorsements > VT_CCF_ENDORSEMENTS_MAX)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_ccf_receipt_info info, sentinel;
        struct vt_diag d = {0}, d2 = {0};
        int e, e2;

        memset(&sentinel, 0x5a, sizeof(sentinel));
        memcpy(&info, &sentinel, sizeof(info));
        e = vt_ccf_receipt_verify(data, size, service_pem, sizeof(service_pem) - 1, &info, &d);
        check(e, &d, &info, &sentinel);
        e2 = vt_ccf_receipt_verify(data, size, service_pem, sizeof(service_pem) - 1, NULL, &d2);
        if (e != e2 || strcmp(d.msg, d2.msg) != 0)
                abort();

        /* the input as the service certificate (a receipt that is not JSON after it) */
        memcpy(&info, &sentinel, sizeof(info));
        vt_diag_clear(&d);
        e = vt_ccf_receipt_verify((const uint8_t *)"{}", 2, (const char *)data, size, &info, &d);
        if (e == 0)
                abort();
        check(e, &d, &info, &sentinel);
        return 0;
}
