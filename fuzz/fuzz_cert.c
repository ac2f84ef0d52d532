/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: untrusted certificate input (VCEK/VLEK leaf, ASK/ARK chain, CRL; PEM or
 * DER) given to vt_snp_verify() together with a fixed, well-formed report.
 *
 * Input layout: the whole input is the leaf in the first call. For the second call
 * the first byte chooses a split point in the rest, as a fraction byte/255 of its
 * length: the part before it is the leaf, the part after it the chain (a split that
 * leaves either part empty skips this call). The third call passes the whole input
 * as leaf and as CRL.
 *
 * A CRL is only read once the leaf chains to a pinned AMD root, which no fuzzed
 * certificate can, and a chain only once the leaf parses; so the input also goes
 * straight to the chain and CRL parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/x509.h"
#include "util/macro.h"
#include "util/wr.h"
#include "veritee/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2025-06-01T00:00:00Z: a fixed verification time keeps runs reproducible. */
#define FUZZ_VERIFY_AT 1748736000

/* A version 3 Milan report that parses, signed by a VCEK (signer info 0), all else zero.
 * Offsets: include/veritee/snp.h and lib/evidence/snp.c. Same as in fuzz_snp_policy.c. */
static const uint8_t *fixed_report(void)
{
        static uint8_t r[VT_SNP_REPORT_SIZE];
        static bool done = false;

        if (done)
                return r;
        vt_put_u32le(r + 0x000, 3);       /* version */
        vt_put_u64le(r + 0x008, 0x30000); /* policy: SMT allowed, reserved bit 17 */
        vt_put_u32le(r + 0x034, 1);       /* signature_algo: ECDSA P-384 with SHA-384 */
        r[0x188] = 0x19;                  /* cpuid_fam_id */
        r[0x189] = 0x01;                  /* cpuid_mod_id: Milan */
        done = true;
        return r;
}

/* Created on first use and kept for the life of the process, as a server would. */
static struct vt_snp_verifier *verifier(void)
{
        static struct vt_snp_verifier *v = NULL;

        if (v)
                return v;
        /* Failing here is a bug in the built-in roots, not in the input. */
        if (vt_snp_verifier_new(&v) < 0)
                abort();
        /* Every call passes a leaf, so nothing is fetched; a closed port just in case. */
        if (vt_snp_verifier_set_kds(v, "http://127.0.0.1:9", NULL) < 0)
                abort();
        return v;
}

static void verify(const struct vt_snp_verify_opts *opts)
{
        struct vt_snp_result res;
        struct vt_diag d = {0};

        (void)vt_snp_verify(verifier(), fixed_report(), VT_SNP_REPORT_SIZE, opts, &res, &d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;

        /* 1: the whole input is the leaf. */
        struct vt_snp_verify_opts whole = {.leaf = data, .leaf_len = size, .at = FUZZ_VERIFY_AT};
        verify(&whole);

        /* 2: leaf and chain, split by the first byte. */
        size_t rest = size - 1;
        size_t split = rest * data[0] / 255;
        if (split > 0 && split < rest) {
                struct vt_snp_verify_opts two = {
                        .leaf = data + 1,
                        .leaf_len = split,
                        .chain = data + 1 + split,
                        .chain_len = rest - split,
                        .at = FUZZ_VERIFY_AT,
                };
                verify(&two);
        }

        /* 3: the whole input as leaf and as CRL. */
        struct vt_snp_verify_opts crl_opts = whole;
        crl_opts.crl = data;
        crl_opts.crl_len = size;
        verify(&crl_opts);

        /* 4: the chain and CRL parsers, which the calls above rarely or never reach. */
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *chain = NULL;
        if (vt_x509_parse_many(data, size, &chain) == 0) {
                for (int i = 0; i < sk_X509_num(chain); i++) {
                        X509 *x = sk_X509_value(chain, i);
                        char cn[64];
                        int64_t nb, na;
                        vt_x509_subject_cn(x, cn, sizeof(cn));
                        vt_x509_issuer_cn(x, cn, sizeof(cn));
                        (void)vt_x509_window(x, &nb, &na);
                }
        }
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        if (vt_crl_parse(data, size, &crl) == 0) {
                int64_t t;
                (void)vt_crl_is_pss384(crl);
                (void)vt_asn1_time_epoch(X509_CRL_get0_lastUpdate(crl), &t);
                (void)vt_asn1_time_epoch(X509_CRL_get0_nextUpdate(crl), &t);
        }
        return 0;
}
