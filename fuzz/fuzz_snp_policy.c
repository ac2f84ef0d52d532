/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an untrusted SNP reference-value policy (JSON). Parses it and, when it
 * parses, checks and appraises (AR4SI) two fixed reports against it: the plain report
 * of fuzz_cert.c and a Turin report in which every checked field is set, so that both
 * outcomes of most checks stay reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "util/wr.h"
#include "veritee/snp.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_snp_policy *, vt_snp_policy_free)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A version 3 Milan report that parses, signed by a VCEK (signer info 0), all else zero.
 * Offsets: include/veritee/snp.h and lib/evidence/snp.c. Same as in fuzz_cert.c. */
static void plain_report(uint8_t r[VT_SNP_REPORT_SIZE])
{
        memset(r, 0, VT_SNP_REPORT_SIZE);
        vt_put_u32le(r + 0x000, 3);       /* version */
        vt_put_u64le(r + 0x008, 0x30000); /* policy: SMT allowed, reserved bit 17 */
        vt_put_u32le(r + 0x034, 1);       /* signature_algo: ECDSA P-384 with SHA-384 */
        r[0x188] = 0x19;                  /* cpuid_fam_id */
        r[0x189] = 0x01;                  /* cpuid_mod_id: Milan */
}

/* A version 5 Turin report signed by a VLEK, with debug, migration agent, single
 * socket, SMT, an author key and non-zero TCB, digests, ids and guest SVN. */
static void busy_report(uint8_t r[VT_SNP_REPORT_SIZE])
{
        plain_report(r);
        vt_put_u32le(r + 0x000, 5);
        vt_put_u32le(r + 0x004, 9);        /* guest_svn */
        vt_put_u64le(r + 0x008, 0x1f0000); /* SMT, reserved, MA, debug, single socket */
        memset(r + 0x010, 0x11, 16);       /* family_id */
        memset(r + 0x020, 0x22, 16);       /* image_id */
        vt_put_u32le(r + 0x030, 2);        /* vmpl */
        vt_put_u64le(r + 0x040, 1);        /* platform_info: SMT enabled */
        vt_put_u32le(r + 0x048, 0x5);      /* signer_info: author key, VLEK */
        memset(r + 0x050, 0x50, 64);       /* report_data */
        memset(r + 0x090, 0x90, 48);       /* measurement */
        memset(r + 0x0c0, 0xc0, 32);       /* host_data */
        memset(r + 0x0e0, 0xe0, 48);       /* id_key_digest */
        memset(r + 0x110, 0x10, 48);       /* author_key_digest */
        /* reported_tcb, Turin layout: fmc 1, bootloader 2, tee 3, snp 4, microcode 5 */
        vt_put_u64le(r + 0x180, 0x0500000004030201ull);
        r[0x188] = 0x1a;            /* cpuid_fam_id */
        r[0x189] = 0x02;            /* cpuid_mod_id: Turin */
        memset(r + 0x1a0, 0xa0, 8); /* chip_id: 8 bytes on Turin */
}

/* Built once; a report that does not parse is a bug in this file, not in the input. */
static const struct vt_snp_report *reports(void)
{
        static struct vt_snp_report r[2];
        static bool done = false;
        uint8_t buf[VT_SNP_REPORT_SIZE];

        if (done)
                return r;
        plain_report(buf);
        if (vt_snp_report_parse(buf, sizeof(buf), &r[0], NULL) < 0)
                abort();
        busy_report(buf);
        if (vt_snp_report_parse(buf, sizeof(buf), &r[1], NULL) < 0)
                abort();
        done = true;
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct vt_snp_report *r = reports();
        _cleanup_(vt_snp_policy_freep) struct vt_snp_policy *p = NULL;
        struct vt_diag d = {0};

        if (vt_snp_policy_parse((const char *)data, size, &p, &d) < 0)
                return 0;
        for (size_t i = 0; i < 2; i++) {
                struct vt_ar4si tv;
                vt_diag_clear(&d);
                (void)vt_snp_policy_check(p, &r[i], &d);
                vt_diag_clear(&d);
                (void)vt_snp_policy_appraise(p, &r[i], &tv, &d);
        }
        return 0;
}
