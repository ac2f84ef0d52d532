/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a ledger receipt (veritee-receipt/1 JSON) -> vt_ledger_receipt_verify
 * against a fixed JWKS (one P-256 key). On success the index must lie inside the tree
 * head's size; a refusal must say why.
 *
 * The key is a throwaway made for the ledger targets (vt_signer_load_or_create); only its
 * public half is here. The valid seeds (fuzz/corpus/ledger_receipt/seed-*) are receipts of
 * small ledgers signed with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "veritee/veritee.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char jwks_text[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                                "\"x\":\"3Pg7rYDtPfsXen33YclQXPzD18sO_Jt0ATQRabUrYqs\","
                                "\"y\":\"DbW4DHn_G6QcRwe_Ng-gUnUwWLWiN_nkcfeh60OlDy4\","
                                "\"alg\":\"ES256\",\"use\":\"sig\","
                                "\"kid\":\"JfNXkAUsrV_n-SgSxM8XrvS6LUFukDXNo7sveDMD26c\"}]}";

static json_t *jwks;

static void setup(void)
{
        if (jwks)
                return;
        jwks = json_loads(jwks_text, 0, NULL);
        if (!jwks)
                abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_diag d = {0};
        struct vt_sth h;
        uint64_t index = UINT64_MAX;

        setup();
        memset(&h, 0xa5, sizeof(h));
        int e = vt_ledger_receipt_verify((const char *)data, size, jwks, &index, &h, &d);
        if (e == 0) {
                if (index >= h.size || memchr(h.kid, 0, sizeof(h.kid)) == NULL)
                        abort();
        } else if (e != VT_E_NOMEM && d.msg[0] == '\0') {
                abort();
        }
        return 0;
}
