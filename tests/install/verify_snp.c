/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Built by tests/install/run.sh against the installed <veritee/...> headers and
 * libveritee.so only (through pkg-config): verifies one recorded SEV-SNP report with its
 * VCEK, as a program of someone else's would. Prints the verdict and the measurement.
 * usage: verify_snp REPORT VCEK
 */
#include <stdio.h>
#include <stdlib.h>

#include <veritee/snp.h>

static unsigned char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        unsigned char *buf = malloc(1 << 16);
        size_t n = buf ? fread(buf, 1, 1 << 16, f) : 0;
        fclose(f);
        *len = n;
        return buf;
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: verify_snp REPORT VCEK\n");
                return 2;
        }
        size_t rl = 0, cl = 0;
        unsigned char *rep = slurp(argv[1], &rl), *vcek = slurp(argv[2], &cl);
        struct vt_snp_verifier *v = NULL;
        struct vt_snp_result res;
        struct vt_diag d = {0};
        int e;
        if (!rep || !vcek || vt_snp_verifier_new(&v) < 0) {
                fprintf(stderr, "verify_snp: cannot read the inputs\n");
                return 2;
        }
        struct vt_snp_verify_opts o = {.leaf = vcek, .leaf_len = cl};
        e = vt_snp_verify(v, rep, rl, &o, &res, &d);
        if (e < 0) {
                printf("rejected: %s: %s\n", vt_strerror(e), d.msg);
        } else {
                printf("verified: %s, measurement ", vt_snp_product_name(res.product));
                for (size_t i = 0; i < sizeof(res.report.measurement); i++)
                        printf("%02x", res.report.measurement[i]);
                printf("\n");
        }
        vt_snp_verifier_free(v);
        free(rep);
        free(vcek);
        return e < 0 ? 1 : 0;
}
