/* SPDX-License-Identifier: Apache-2.0 */
/* veritee bench: full verifications per second with a warm chain cache. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util/macro.h"
#include "veritee/snp.h"

#define DEFAULT_REPORT "../shared/testdata/snp/msft-tav/milan_attestation_report.bin"
#define DEFAULT_CERT   "../shared/testdata/snp/msft-tav/milan_vcek.pem"

struct worker {
        struct vt_snp_verifier *v;
        const uint8_t *rep;
        size_t rep_len;
        const struct vt_snp_verify_opts *opts;
        double seconds;
        uint64_t done;
        int err;
        pthread_t th;
};

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
        struct worker *w = arg;
        struct vt_snp_result res;
        double end = now() + w->seconds;
        while (now() < end) {
                for (int i = 0; i < 16; i++) {
                        int e = vt_snp_verify(w->v, w->rep, w->rep_len, w->opts, &res, NULL);
                        if (e < 0) {
                                w->err = e;
                                return NULL;
                        }
                        w->done++;
                }
        }
        return NULL;
}

int cmd_bench(int argc, char **argv)
{
        static const struct option opts[] = {
                {"seconds", required_argument, NULL, 's'},
                {"threads", required_argument, NULL, 't'},
                {"report", required_argument, NULL, 'r'},
                {"cert", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *report = DEFAULT_REPORT, *cert = DEFAULT_CERT;
        double seconds = 3;
        int threads = 1, c;

        if (argc < 2 || strcmp(argv[1], "snp") != 0)
                return cli_usage_error("usage: veritee bench snp [--seconds N] [--threads N] "
                                       "[--report FILE --cert FILE]");
        argc--;
        argv++;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                char *end = NULL;
                switch (c) {
                case 's':
                        seconds = strtod(optarg, &end);
                        if (!end || *end || seconds <= 0 || seconds > 3600)
                                return cli_usage_error("--seconds: expected 0 < N <= 3600");
                        break;
                case 't': {
                        unsigned long t = strtoul(optarg, &end, 10);
                        if (!end || *end || t < 1 || t > 256)
                                return cli_usage_error("--threads: expected 1..256");
                        threads = (int)t;
                        break;
                }
                case 'r':
                        report = optarg;
                        break;
                case 'c':
                        cert = optarg;
                        break;
                case 'h':
                        puts("usage: veritee bench snp [--seconds N] [--threads N] [--report FILE "
                             "--cert FILE]");
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind != argc)
                return cli_usage_error("bench: unexpected argument \"%s\"", argv[optind]);
        size_t rl, cl;
        _cleanup_free_ uint8_t *rep = cli_read(report, CLI_MAX_EVIDENCE, &rl);
        _cleanup_free_ uint8_t *leaf = rep ? cli_read(cert, CLI_MAX_CERT, &cl) : NULL;
        if (!rep || !leaf)
                return EXIT_USAGE;
        struct vt_snp_verifier *v = NULL;
        if (vt_snp_verifier_new(&v) < 0)
                return EXIT_USAGE;
        struct vt_snp_verify_opts vo = {.leaf = leaf, .leaf_len = cl};
        struct vt_snp_result res;
        struct vt_diag d = {0};
        /* warm the chain cache and make sure the vector verifies at all */
        if (vt_snp_verify(v, rep, rl, &vo, &res, &d) < 0) {
                fprintf(stderr, "veritee: bench vector does not verify: %s\n", d.msg);
                vt_snp_verifier_free(v);
                return EXIT_REJECTED;
        }
        struct worker *w = calloc((size_t)threads, sizeof(*w));
        if (!w) {
                vt_snp_verifier_free(v);
                return EXIT_USAGE;
        }
        double t0 = now();
        for (int i = 0; i < threads; i++) {
                w[i] = (struct worker){
                        .v = v, .rep = rep, .rep_len = rl, .opts = &vo, .seconds = seconds};
                pthread_create(&w[i].th, NULL, run, &w[i]);
        }
        uint64_t total = 0;
        int err = 0;
        for (int i = 0; i < threads; i++) {
                pthread_join(w[i].th, NULL);
                total += w[i].done;
                if (w[i].err)
                        err = w[i].err;
        }
        double el = now() - t0;
        free(w);
        vt_snp_verifier_free(v);
        if (err) {
                fprintf(stderr, "veritee: verification failed during the benchmark: %s\n",
                        vt_strerror(err));
                return EXIT_REJECTED;
        }
        printf("{\"op\":\"snp_verify\",\"threads\":%d,\"per_sec\":%.1f}\n", threads,
               (double)total / el);
        return 0;
}
