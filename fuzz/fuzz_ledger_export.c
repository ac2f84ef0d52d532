/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a ledger export file (veritee-ledger-export/1) -> vt_ledger_export_parse,
 * then vt_ledger_export_audit against a fixed JWKS (one P-256 key) without and with a
 * saved tree head, and against the file's own jwks. What an audit returns must hold
 * together; a refusal must say why.
 *
 * The key is the throwaway of fuzz_ledger_receipt.c; the valid seeds
 * (fuzz/corpus/ledger_export/seed-*) are exports of small ledgers signed with it, and
 * the saved head is the head of size 3 of seed-seven.json.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/export.h"
#include "ledger/ledger.h"
#include "veritee/veritee.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char jwks_text[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                                "\"x\":\"3Pg7rYDtPfsXen33YclQXPzD18sO_Jt0ATQRabUrYqs\","
                                "\"y\":\"DbW4DHn_G6QcRwe_Ng-gUnUwWLWiN_nkcfeh60OlDy4\","
                                "\"alg\":\"ES256\",\"use\":\"sig\","
                                "\"kid\":\"JfNXkAUsrV_n-SgSxM8XrvS6LUFukDXNo7sveDMD26c\"}]}";

static const char saved_sth[] =
        "eyJhbGciOiJFUzI1NiIsInR5cCI6InZlcml0ZWUtc3RoK2p3cyIsImtpZCI6IkpmTlhrQVVzclZfbi1TZ1N4TThYcn"
        "ZTNkxVRnVrRFhObzdzdmVETUQyNmMifQ."
        "eyJyb290IjoiMjYwNDc0N2Y1ZDU2YTFjYzJmMDMxZjYwMGIyNmJmMTYzZmZiZDg1YzcyNzE5ZTA3ZTM0MTlhZjM0YT"
        "NjZmQ5NSIsInNpemUiOjMsInRpbWUiOjE3OTYyMzY2Mjk5ODR9.EVG-"
        "YPoFMPqBjCUEvTluAXFZYH9grp5qWpv9a73Qjkhnlndtwy1MP64gH56ubQPbxAPmjm1ovnNK3HfgbIE8Ig";

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

static void audit(const struct vt_ledger_export *x, const json_t *keys, const char *saved)
{
        struct vt_ledger_audit_result r;
        struct vt_diag d = {0};
        char *latest = NULL;
        int e = vt_ledger_export_audit(x, keys, saved, &r, &latest, &d);
        if (e == 0) {
                if (r.last_good > r.entries || r.latest.size > r.entries)
                        abort();
                if (r.latest.size > 0 && !latest)
                        abort();
                if (latest && strlen(latest) > VT_STORE_MAX_STH)
                        abort();
                free(latest);
        } else if (latest || (e != VT_E_NOMEM && d.msg[0] == '\0')) {
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_ledger_export *x = NULL;
        struct vt_diag d = {0};

        setup();
        int e = vt_ledger_export_parse((const char *)data, size, &x, &d);
        if (e < 0) {
                if (x || (e != VT_E_NOMEM && d.msg[0] == '\0'))
                        abort();
                return 0;
        }
        if (!json_is_array(json_object_get(vt_ledger_export_jwks(x), "keys")))
                abort();
        audit(x, jwks, NULL);
        audit(x, jwks, saved_sth);
        audit(x, vt_ledger_export_jwks(x), NULL);
        vt_ledger_export_free(x);
        return 0;
}
