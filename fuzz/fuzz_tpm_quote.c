/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an untrusted TPM quote. The input goes to the TPMS_ATTEST parser (and,
 * when it parses, to the PCR digest check over fixed PCR values), to the TPMT_SIGNATURE
 * parser, and as evidence JSON to vt_az_evidence_parse and vt_az_verify for each of the
 * tees az-snp-vtpm, az-tdx-vtpm and tpm. The tpm tee trusts one fixed key, made on first
 * use; the HCL tees get no SNP or DCAP verifier, so nothing is fetched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "veritee/azure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct vt_tpm_aks *trusted(void)
{
        static struct vt_tpm_aks *a = NULL;
        if (a)
                return a;
        EVP_PKEY *k = EVP_EC_gen("P-256");
        unsigned char *der = NULL;
        int n = k ? i2d_PUBKEY(k, &der) : -1;
        /* failing here is a bug in the setup, not in the input */
        if (n <= 0 || vt_tpm_aks_new(&a) < 0 || vt_tpm_aks_add(a, der, (size_t)n, NULL) < 0)
                abort();
        OPENSSL_free(der);
        EVP_PKEY_free(k);
        return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t pcrs[VT_TPM_NUM_PCRS][32];
        struct vt_tpm_attest a;
        struct vt_tpm_signature s;
        struct vt_diag d = {0};
        uint32_t mask;

        if (vt_tpm_attest_parse(data, size, &a, &d) == 0)
                (void)vt_tpm_check_pcrs(&a, pcrs, &mask, &d);
        vt_diag_clear(&d);
        (void)vt_tpm_signature_parse(data, size, &s, &d);

        static const uint8_t nonce[64] = {'n'};
        struct vt_az_verify_opts o = {
                .report_data = nonce,
                .report_data_len = size > 0 ? 1 + data[0] % 64 : 1,
                .init_data_digest = size > 1 && (data[1] & 1) ? nonce : NULL,
                .at = 1748736000,
                .aks = trusted(),
        };
        for (int t = VT_AZ_TEE_SNP_VTPM; t <= VT_AZ_TEE_TPM; t++) {
                struct vt_az_result res;
                char *claims = NULL;
                vt_diag_clear(&d);
                (void)vt_az_verify((enum vt_az_tee)t, (const char *)data, size, &o, &res, &d);
                if (vt_az_claims_json(&res, &claims) == 0)
                        free(claims);
                vt_az_result_done(&res);
        }
        return 0;
}
