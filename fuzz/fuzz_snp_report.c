/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an untrusted SEV-SNP attestation report. Parses the bytes, renders both
 * JSON views and the KDS URLs of a parsed report, and runs the whole verification
 * entry point on them. The verifier gets a fixed, unparseable leaf certificate, so
 * verification stops at the leaf and never fetches anything from KDS.
 */
#include <stdint.h>
#include <stdlib.h>

#include "util/macro.h"
#include "veritee/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2025-06-01T00:00:00Z: a fixed verification time keeps runs reproducible. */
#define FUZZ_VERIFY_AT 1748736000

/* Created on first use and kept for the life of the process, as a server would. */
static struct vt_snp_verifier *verifier(void)
{
        static struct vt_snp_verifier *v = NULL;

        if (v)
                return v;
        /* Failing here is a bug in the built-in roots, not in the input. */
        if (vt_snp_verifier_new(&v) < 0)
                abort();
        /* A closed local port, in case a change ever makes the verifier fetch anyway. */
        if (vt_snp_verifier_set_kds(v, "http://127.0.0.1:9", NULL) < 0)
                abort();
        return v;
}

static void render(const struct vt_snp_report *r)
{
        for (int p = VT_SNP_PRODUCT_UNKNOWN; p < _VT_SNP_PRODUCT_MAX; p++) {
                _cleanup_free_ char *url = NULL;
                (void)vt_snp_kds_vcek_url("https://kds.invalid/", p, r, &url);
        }
        _cleanup_free_ char *json = NULL, *claims = NULL;
        (void)vt_snp_report_json(r, &json);
        (void)vt_snp_claims_json(r, &claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint8_t not_a_cert[] = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        struct vt_snp_verify_opts opts = {
                .leaf = not_a_cert,
                .leaf_len = sizeof(not_a_cert) - 1,
                .at = FUZZ_VERIFY_AT,
        };
        struct vt_snp_report r;
        struct vt_snp_result res;
        struct vt_diag d = {0};

        if (vt_snp_report_parse(data, size, &r, &d) == 0)
                render(&r);

        vt_diag_clear(&d);
        (void)vt_snp_verify(verifier(), data, size, &opts, &res, &d);

        /* The product override takes another path through the checks before the leaf. */
        opts.product = size > 0 ? (enum vt_snp_product)(data[0] % _VT_SNP_PRODUCT_MAX)
                                : VT_SNP_PRODUCT_UNKNOWN;
        vt_diag_clear(&d);
        (void)vt_snp_verify(verifier(), data, size, &opts, &res, &d);
        return 0;
}
