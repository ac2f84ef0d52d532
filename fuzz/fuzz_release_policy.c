/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an untrusted release policy (JSON). Parses it and, when it parses,
 * evaluates it against fixed claim sets: an EAR token shaped like the attestation
 * service's (SNP claims, init-data claims, a trustworthiness vector, arrays, null, a
 * real and keys that need ~0/~1 escapes) and an empty object, so that every operator sees
 * present, missing and wrongly typed claims. The input, as a string, is also looked up
 * as a JSON pointer in the token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/release.h"
#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_release_policy *, vt_release_policy_free)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char token[] =
        "{\"eat_profile\":\"tag:github.com,2024:confidential-containers/Trustee\","
        "\"iat\":1760426134,\"exp\":1760426434,\"iss\":\"veritee\","
        "\"submods\":{\"cpu0\":{\"ear.status\":\"affirming\","
        "\"ear.trustworthiness-vector\":{\"instance-identity\":2,\"configuration\":2,"
        "\"executables\":33,\"file-system\":0,\"hardware\":2,\"runtime-opaque\":2,"
        "\"storage-opaque\":0,\"sourced-data\":0},"
        "\"ear.appraisal-policy-id\":\"default\","
        "\"ear.veraison.annotated-evidence\":{\"snp\":{\"measurement\":\"ab\","
        "\"reported_tcb_microcode\":219,\"policy_debug_allowed\":false,\"simulated\":false,"
        "\"big\":9007199254740993,\"neg\":-5,\"real\":1.5},"
        "\"report_data\":\"00\",\"runtime_data_claims\":null,\"init_data\":\"cd\","
        "\"init_data_claims\":{\"aa.toml\":{\"token_configs\":{\"kbs\":{\"url\":\"x\"}}},"
        "\"a/b\":\"slash\",\"m~n\":\"tilde\",\"\":\"empty\"},"
        "\"list\":[\"x\",{\"y\":[1,2,3]},null,true]},"
        "\"veritee.simulated\":false}}}";

static const json_t *claims(size_t i)
{
        static json_t *c[2];

        if (!c[0]) {
                c[0] = json_loads(token, 0, NULL);
                c[1] = json_object();
                /* a claim set that does not load is a bug in this file */
                if (!c[0] || !c[1])
                        abort();
        }
        return c[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(vt_release_policy_freep) struct vt_release_policy *p = NULL;
        struct vt_diag d = {0};

        if (size <= 4096 && !memchr(data, 0, size)) {
                _cleanup_free_ char *ptr = malloc(size + 1);
                if (ptr) {
                        memcpy(ptr, data, size);
                        ptr[size] = 0;
                        (void)vt_json_pointer(claims(0), ptr);
                }
        }
        if (vt_release_policy_parse((const char *)data, size, &p, &d) < 0)
                return 0;
        for (size_t i = 0; i < 2; i++) {
                vt_diag_clear(&d);
                (void)vt_release_policy_eval(p, claims(i), &d);
                (void)vt_release_policy_eval(p, claims(i), NULL);
        }
        return 0;
}
