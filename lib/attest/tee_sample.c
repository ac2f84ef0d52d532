/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee sample: Trustee's unsigned sample evidence {"svn", "report_data"}; only the binding
 * is checked. Never better than "warning": no hardware vouches for it.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "attest/tee.h"
#include "util/b64.h"
#include "util/json.h"

static int attest_sample(const struct vt_tee_ops *t, const struct vt_attest_ctx *c,
                         const json_t *evidence, const uint8_t expected[64], const json_t *init,
                         struct vt_attest_result *out, struct vt_diag *d)
{
        (void)t;
        (void)c;
        (void)init;
        const char *rd = json_string_value(json_object_get(evidence, "report_data"));
        _cleanup_free_ uint8_t *b = NULL;
        size_t bl = 0;
        if (!rd || vt_b64_decode(rd, strlen(rd), VT_B64_STD, 64, &b, &bl) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "sample: report_data must be standard base64");
        if (bl != 48 || CRYPTO_memcmp(b, expected, 48) != 0)
                return vt_diag_set(
                        d, VT_E_BINDING,
                        "sample: report_data does not bind this session's nonce and tee-pubkey");
        out->tee_claims = json_pack("{s:O?, s:s, s:b}", "svn", json_object_get(evidence, "svn"),
                                    "launch_digest", "abcde", "debug", 0);
        out->tv = (struct vt_ar4si){.instance_identity = VT_AR4SI_AFFIRMING,
                                    .hardware = VT_AR4SI_UNRECOGNIZED_HARDWARE,
                                    .executables = VT_AR4SI_UNRECOGNIZED_RUNTIME,
                                    .configuration = VT_AR4SI_UNSUPPORTABLE_CONFIG};
        vt_diag_set(&out->appraisal, VT_E_POLICY, "sample: unsigned evidence from no hardware");
        return out->tee_claims ? 0 : VT_E_NOMEM;
}

static bool sample_accepted(const struct vt_attest_ctx *c)
{
        return c->allow_sample;
}

const struct vt_tee_ops vt_tee_sample = {
        .name = "sample",
        .report_data_len = 48,
        .accepted = sample_accepted,
        .refused_hint = " (unsigned sample evidence needs attestation.allow_sample)",
        .attest = attest_sample,
};
