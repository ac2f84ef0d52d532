/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the init-data of a KBS attest body ({"format":"toml","body":<input>}). The
 * document's digest is computed first so that vt_initdata_check is given both a launch
 * field that matches (reaching the claims, embedded *.toml documents included) and one that
 * does not; then the vTPM's SHA-256 form.
 */
#include <stdint.h>
#include <stdlib.h>

#include "attest/attest.h"
#include "attest/tee.h"
#include "util/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *init = json_pack("{s:s, s:o}", "format", "toml", "body",
                                 json_stringn_nocheck((const char *)data, size));
        if (!init)
                return 0;
        uint8_t field[64] = {0}, zero[64] = {0}, sha[32];
        size_t fl = 0;
        json_t *toml = NULL;
        struct vt_diag d = {0};
        if (vt_toml_parse((const char *)data, size, &toml, NULL) == 0) {
                (void)vt_initdata_digest(toml, data, size, field, &fl, NULL);
                json_decref(toml);
        }
        static const size_t lens[] = {32, 48};
        for (size_t i = 0; i < 2; i++) {
                for (int k = 0; k < 2; k++) {
                        char *hex = NULL;
                        json_t *claims = NULL;
                        vt_diag_clear(&d);
                        if (vt_initdata_check(init, k ? zero : field, lens[i], &hex, &claims, &d) ==
                            0) {
                                free(hex);
                                json_decref(claims);
                        }
                }
        }
        vt_diag_clear(&d);
        (void)vt_initdata_sha256(init, "az-snp-vtpm", sha, &d);
        json_decref(init);
        return 0;
}
