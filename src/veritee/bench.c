/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee bench: full verifications per second with warm caches, on 1..N threads.
 *   snp:     vt_snp_verify of a recorded report with its VCEK (chain cache warm, and from
 *            the second call the VCEK's P-384 table: crypto/ecfixed.h).
 *   tdx|sgx: vt_dcap_verify of a recorded quote with its collateral parsed once and the
 *            PCK chain cache warm (the first call warms both).
 *   nvidia-gpu: vt_nv_verify of a recorded Hopper report with its chain and VBIOS RIM (chain
 *            and RIM caches warm, OCSP off: no real response exists), next to one ECDSA
 *            P-384 verify measured in the same run, as a ratio.
 *   azure:   vt_az_verify of recorded az-snp-vtpm evidence (Trustee's JSON, as a guest sends
 *            it: decoded, the TPM quote's RSA signature by HCLAkPub, nonce, PCRs, the HCL
 *            binding, then the SNP report with the VCEK it carries; SNP chain cache warm,
 *            no KDS).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "cli.h"
#include "util/hex.h"
#include "util/macro.h"
#include "veritee/azure.h"
#include "veritee/dcap.h"
#include "veritee/nvidia.h"
#include "veritee/snp.h"

#define DEFAULT_REPORT "snp/msft-tav/milan_attestation_report.bin"
#define DEFAULT_CERT   "snp/msft-tav/milan_vcek.pem"
#define TDX_DIR        "dcap/tdx_b0c06f_eval17"
#define SGX_DIR        "dcap/sgx_00a067_eval17"
#define DCAP_AT        "2025-06-20T00:00:00Z" /* inside both default vectors' windows */
#define NV_DIR         "nvidia/gpu/hopper_535.86.09"
#define NV_RIMS        "nvidia/rims"
#define NV_NONCE       "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66"
#define NV_AT          "2024-06-01T00:00:00Z" /* inside the VBIOS RIM signer's window */
#define AZ_EVIDENCE    "snp/azure/trustee/evidence-v1.json"
#define AZ_NONCE       "6368616c6c656e6765"   /* "challenge": the vector's TPM extraData */
#define AZ_AT          "2025-06-01T00:00:00Z" /* inside the VCEK's window */

#define USAGE                                                                                      \
        "usage: veritee bench snp [--seconds N] [--threads N] [--report FILE --cert FILE]\n"       \
        "       veritee bench tdx|sgx [--seconds N] [--threads N] [--quote FILE --collateral "     \
        "FILE --at RFC3339]\n"                                                                     \
        "       veritee bench nvidia-gpu [--seconds N] [--threads N]\n"                            \
        "       veritee bench azure [--seconds N] [--threads N] [--evidence FILE --report-data "   \
        "HEX --at RFC3339]\n"                                                                      \
        "       veritee bench ledger [--seconds N] [--db FILE] [--max-entries N] [--json]"

/* One verification of whatever the benchmark measures; < 0 stops it. */
typedef int (*bench_fn)(void *ctx);

struct worker {
        bench_fn fn;
        void *ctx;
        double seconds;
        uint64_t done;
        int err;
        pthread_t th;
};

struct snp_ctx {
        struct vt_snp_verifier *v;
        const uint8_t *rep;
        size_t rep_len;
        const struct vt_snp_verify_opts *opts;
};

struct dcap_ctx {
        struct vt_dcap_verifier *v;
        const uint8_t *quote;
        size_t quote_len;
        const struct vt_dcap_collateral *coll;
        int64_t at;
        const struct vt_dcap_policy_opts *opts;
};

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int snp_once(void *arg)
{
        struct snp_ctx *c = arg;
        struct vt_snp_result res;
        return vt_snp_verify(c->v, c->rep, c->rep_len, c->opts, &res, NULL);
}

static int dcap_once(void *arg)
{
        struct dcap_ctx *c = arg;
        struct vt_dcap_result res;
        return vt_dcap_verify(c->v, c->quote, c->quote_len, c->coll, c->at, c->opts, NULL, &res,
                              NULL);
}

static void *run(void *arg)
{
        struct worker *w = arg;
        double end = now() + w->seconds;
        while (now() < end) {
                for (int i = 0; i < 16; i++) {
                        int e = w->fn(w->ctx);
                        if (e < 0) {
                                w->err = e;
                                return NULL;
                        }
                        w->done++;
                }
        }
        return NULL;
}

/* Runs fn on `threads` threads for `seconds`; *ret_rate gets the operations per second. */
static int measure_rate(bench_fn fn, void *ctx, int threads, double seconds, double *ret_rate)
{
        struct worker *w = calloc((size_t)threads, sizeof(*w));
        int started = 0, err = 0;
        uint64_t total = 0;
        if (!w)
                return EXIT_USAGE;
        double t0 = now();
        for (; started < threads; started++) {
                w[started] = (struct worker){.fn = fn, .ctx = ctx, .seconds = seconds};
                if (pthread_create(&w[started].th, NULL, run, &w[started]) != 0) {
                        err = VT_E_NOMEM;
                        break;
                }
        }
        for (int i = 0; i < started; i++) {
                pthread_join(w[i].th, NULL);
                total += w[i].done;
                if (w[i].err)
                        err = w[i].err;
        }
        double el = now() - t0;
        free(w);
        if (err) {
                fprintf(stderr, "veritee: verification failed during the benchmark: %s\n",
                        vt_strerror(err));
                return EXIT_REJECTED;
        }
        *ret_rate = (double)total / el;
        return 0;
}

/* Runs fn on `threads` threads for `seconds` and prints the JSON line. */
static int measure(const char *op, bench_fn fn, void *ctx, int threads, double seconds)
{
        double rate;
        int rc = measure_rate(fn, ctx, threads, seconds, &rate);
        if (rc == 0)
                printf("{\"op\":\"%s\",\"threads\":%d,\"per_sec\":%.1f}\n", op, threads, rate);
        return rc;
}

/* The default vector file rel under VT_TESTDATA (default ../shared/testdata). */
static const char *vector(const char *rel, char *buf, size_t cap)
{
        const char *base = getenv("VT_TESTDATA");
        snprintf(buf, cap, "%s/%s", base && *base ? base : "../shared/testdata", rel);
        return buf;
}

static int bench_snp(const char *report, const char *cert, int threads, double seconds)
{
        char rb[4096], cb[4096];
        size_t rl, cl;
        _cleanup_free_ uint8_t *rep = cli_read(
                report ? report : vector(DEFAULT_REPORT, rb, sizeof(rb)), CLI_MAX_EVIDENCE, &rl);
        _cleanup_free_ uint8_t *leaf =
                rep ? cli_read(cert ? cert : vector(DEFAULT_CERT, cb, sizeof(cb)), CLI_MAX_CERT,
                               &cl)
                    : NULL;
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
        struct snp_ctx c = {.v = v, .rep = rep, .rep_len = rl, .opts = &vo};
        int rc = measure("snp_verify", snp_once, &c, threads, seconds);
        vt_snp_verifier_free(v);
        return rc;
}

static int bench_dcap(bool tdx, const char *quote, const char *collateral, const char *at,
                      int threads, double seconds)
{
        char qb[4096], cb[4096], rel[64];
        const char *dir = tdx ? TDX_DIR : SGX_DIR;
        size_t ql, cl;
        int64_t t;
        if (vt_time_parse_rfc3339(at ? at : DCAP_AT, &t) < 0)
                return cli_usage_error("--at: \"%s\" is not an RFC 3339 time", at);
        if (!quote) {
                snprintf(rel, sizeof(rel), "%s/quote.bin", dir);
                quote = vector(rel, qb, sizeof(qb));
        }
        if (!collateral) {
                snprintf(rel, sizeof(rel), "%s/collateral.json", dir);
                collateral = vector(rel, cb, sizeof(cb));
        }
        _cleanup_free_ uint8_t *q = cli_read(quote, CLI_MAX_EVIDENCE, &ql);
        _cleanup_free_ uint8_t *ctext = q ? cli_read(collateral, 4u << 20, &cl) : NULL;
        if (!q || !ctext)
                return EXIT_USAGE;
        struct vt_diag d = {0};
        struct vt_dcap_collateral *coll = NULL;
        struct vt_dcap_verifier *v = NULL;
        if (vt_dcap_collateral_parse((const char *)ctext, cl, &coll, &d) < 0) {
                fprintf(stderr, "veritee: %s: %s\n", collateral, d.msg);
                return EXIT_USAGE;
        }
        if (vt_dcap_verifier_new(&v) < 0) {
                vt_dcap_collateral_free(coll);
                return EXIT_USAGE;
        }
        /* the benchmark measures the work, not the verdict: every TCB status counts (the
         * default SGX vector is ConfigurationAndSWHardeningNeeded) */
        struct vt_dcap_policy_opts po = {.accepted_statuses = (1u << _VT_TCB_STATUS_MAX) - 1};
        struct vt_dcap_quote *parsed = NULL;
        struct vt_dcap_result res;
        int rc = 0;
        /* warm the PCK chain cache and the collateral's checks; the vector must verify */
        int e = vt_dcap_verify(v, q, ql, coll, t, &po, &parsed, &res, &d);
        if (e < 0) {
                fprintf(stderr, "veritee: bench vector does not verify: %s\n",
                        d.msg[0] ? d.msg : vt_strerror(e));
                rc = EXIT_REJECTED;
        } else if ((parsed->body_type == VT_DCAP_BODY_SGX) == tdx) {
                fprintf(stderr, "veritee: bench: the quote is %s, not %s\n", tdx ? "SGX" : "TDX",
                        tdx ? "TDX" : "SGX");
                rc = EXIT_USAGE;
        } else {
                struct dcap_ctx c = {
                        .v = v, .quote = q, .quote_len = ql, .coll = coll, .at = t, .opts = &po};
                rc = measure(tdx ? "tdx_verify" : "sgx_verify", dcap_once, &c, threads, seconds);
        }
        vt_dcap_quote_free(parsed);
        vt_dcap_verifier_free(v);
        vt_dcap_collateral_free(coll);
        return rc;
}

struct nv_ctx {
        struct vt_nv_verifier *v;
        const uint8_t *rep, *chain;
        size_t rep_len, chain_len;
        const struct vt_nv_verify_opts *opts;
};

static int nv_once(void *arg)
{
        struct nv_ctx *c = arg;
        struct vt_nv_result res;
        int e = vt_nv_verify(c->v, c->rep, c->rep_len, c->chain, c->chain_len, c->opts, &res, NULL);
        if (e == 0)
                vt_nv_result_done(&res);
        return e;
}

/* The floor: one ECDSA P-384 verify of a SHA-384 digest (a fresh EVP_PKEY_CTX each time, as
 * the verifier does). */
struct p384_ctx {
        EVP_PKEY *key;
        uint8_t dig[48], sig[128];
        size_t sig_len;
};

static int p384_once(void *arg)
{
        struct p384_ctx *c = arg;
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(c->key, NULL);
        int ok = pc && EVP_PKEY_verify_init(pc) == 1 &&
                 EVP_PKEY_verify(pc, c->sig, c->sig_len, c->dig, sizeof(c->dig)) == 1;
        EVP_PKEY_CTX_free(pc);
        return ok ? 0 : VT_E_SIGNATURE;
}

static int p384_setup(struct p384_ctx *c)
{
        c->key = EVP_EC_gen("P-384");
        memset(c->dig, 0x5a, sizeof(c->dig));
        c->sig_len = sizeof(c->sig);
        EVP_PKEY_CTX *pc = c->key ? EVP_PKEY_CTX_new(c->key, NULL) : NULL;
        int ok = pc && EVP_PKEY_sign_init(pc) == 1 &&
                 EVP_PKEY_sign(pc, c->sig, &c->sig_len, c->dig, sizeof(c->dig)) == 1;
        EVP_PKEY_CTX_free(pc);
        return ok ? 0 : -1;
}

static int bench_nvidia(int threads, double seconds)
{
        char rb[4096], cb[4096], db[4096];
        size_t rl, cl;
        uint8_t nonce[32];
        int64_t at;
        (void)vt_time_parse_rfc3339(NV_AT, &at);
        if (vt_hex_decode(NV_NONCE, nonce, sizeof(nonce)) != (int)sizeof(nonce))
                return EXIT_USAGE;
        _cleanup_free_ uint8_t *rep =
                cli_read(vector(NV_DIR "/report.hex", rb, sizeof(rb)), CLI_MAX_EVIDENCE, &rl);
        _cleanup_free_ uint8_t *chain =
                rep ? cli_read(vector(NV_DIR "/certchain.pem", cb, sizeof(cb)), CLI_MAX_CERT, &cl)
                    : NULL;
        if (!rep || !chain)
                return EXIT_USAGE;
        /* the evidence as it arrives from a guest, raw bytes (the JSON forms carry base64) */
        struct vt_nv_report *parsed = NULL;
        struct vt_diag d = {0};
        if (vt_nv_report_parse(rep, rl, &parsed, &d) < 0) {
                fprintf(stderr, "veritee: bench vector: %s\n", d.msg);
                return EXIT_REJECTED;
        }
        memcpy(rep, parsed->bytes, parsed->len);
        rl = parsed->len;
        vt_nv_report_free(parsed);
        struct vt_nv_verifier *v = NULL;
        if (vt_nv_verifier_new(&v) < 0 || vt_nv_verifier_set_ocsp(v, VT_NV_OCSP_OFF, NULL, 0) < 0 ||
            vt_nv_verifier_set_rim(v, vector(NV_RIMS, db, sizeof(db)), NULL, NULL, true) < 0) {
                vt_nv_verifier_free(v);
                return EXIT_USAGE;
        }
        struct vt_nv_verify_opts o = {.nonce = nonce, .at = at};
        struct vt_nv_result res;
        /* warm the chain and RIM caches; the vector must verify and its RIM match */
        if (vt_nv_verify(v, rep, rl, chain, cl, &o, &res, &d) < 0) {
                fprintf(stderr, "veritee: bench vector does not verify: %s\n", d.msg);
                vt_nv_verifier_free(v);
                return EXIT_REJECTED;
        }
        unsigned matched = res.rim_matched;
        vt_nv_result_done(&res);
        struct nv_ctx c = {
                .v = v, .rep = rep, .rep_len = rl, .chain = chain, .chain_len = cl, .opts = &o};
        struct p384_ctx p = {0};
        double nv = 0, floor = 0;
        int rc = p384_setup(&p) < 0 ? EXIT_USAGE : 0;
        /* alternate the two in slices, so that a machine shared with other work slows both
         * alike */
        for (int k = 0; !rc && k < 4; k++) {
                double f1 = 0, n1 = 0;
                rc = measure_rate(p384_once, &p, threads, seconds / 4, &f1);
                if (!rc)
                        rc = measure_rate(nv_once, &c, threads, seconds / 4, &n1);
                floor += f1 / 4;
                nv += n1 / 4;
        }
        if (!rc)
                printf("{\"op\":\"nvidia_gpu_verify\",\"threads\":%d,\"per_sec\":%.1f,"
                       "\"p384_verify_per_sec\":%.1f,\"ratio\":%.3f,\"rim_matched\":%u}\n",
                       threads, nv, floor, floor > 0 ? nv / floor : 0.0, matched);
        EVP_PKEY_free(p.key);
        vt_nv_verifier_free(v);
        return rc;
}

struct az_ctx {
        const char *json;
        size_t len;
        const struct vt_az_verify_opts *opts;
};

static int az_once(void *arg)
{
        struct az_ctx *c = arg;
        struct vt_az_result res;
        int e = vt_az_verify(VT_AZ_TEE_SNP_VTPM, c->json, c->len, c->opts, &res, NULL);
        vt_az_result_done(&res);
        return e;
}

static int bench_azure(const char *evidence, const char *report_data, const char *at, int threads,
                       double seconds)
{
        char eb[4096];
        size_t el;
        uint8_t rd[64];
        int64_t t;
        int n = vt_hex_decode(report_data ? report_data : AZ_NONCE, rd, sizeof(rd));
        if (n <= 0)
                return cli_usage_error("--report-data: expected 1..64 bytes of hex");
        if (vt_time_parse_rfc3339(at ? at : AZ_AT, &t) < 0)
                return cli_usage_error("--at: \"%s\" is not an RFC 3339 time", at);
        _cleanup_free_ char *json = (char *)cli_read(
                evidence ? evidence : vector(AZ_EVIDENCE, eb, sizeof(eb)), VT_AZ_MAX_EVIDENCE, &el);
        if (!json)
                return EXIT_USAGE;
        struct vt_snp_verifier *snp = NULL;
        /* no KDS: the VCEK comes with the evidence, nothing is fetched */
        if (vt_snp_verifier_new(&snp) < 0 ||
            vt_snp_verifier_set_kds(snp, "http://127.0.0.1:9", NULL) < 0) {
                vt_snp_verifier_free(snp);
                return EXIT_USAGE;
        }
        struct vt_az_verify_opts o = {
                .report_data = rd, .report_data_len = (size_t)n, .at = t, .snp = snp};
        struct vt_az_result res;
        struct vt_diag d = {0};
        /* warm the SNP chain cache; the vector must verify */
        int e = vt_az_verify(VT_AZ_TEE_SNP_VTPM, json, el, &o, &res, &d);
        vt_az_result_done(&res);
        int rc;
        if (e < 0) {
                fprintf(stderr, "veritee: bench vector does not verify: %s\n",
                        d.msg[0] ? d.msg : vt_strerror(e));
                rc = EXIT_REJECTED;
        } else {
                struct az_ctx c = {.json = json, .len = el, .opts = &o};
                rc = measure("azure_snp_vtpm_verify", az_once, &c, threads, seconds);
        }
        vt_snp_verifier_free(snp);
        return rc;
}

int cmd_bench(int argc, char **argv)
{
        static const struct option opts[] = {
                {"seconds", required_argument, NULL, 's'},
                {"threads", required_argument, NULL, 't'},
                {"report", required_argument, NULL, 'r'},
                {"cert", required_argument, NULL, 'c'},
                {"quote", required_argument, NULL, 'q'},
                {"collateral", required_argument, NULL, 'C'},
                {"at", required_argument, NULL, 'a'},
                {"evidence", required_argument, NULL, 'e'},
                {"report-data", required_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *report = NULL, *cert = NULL, *quote = NULL, *collateral = NULL, *at = NULL;
        const char *evidence = NULL, *report_data = NULL;
        double seconds = 3;
        int threads = 1, c;

        if (argc >= 2 && strcmp(argv[1], "ledger") == 0)
                return cmd_bench_ledger(argc - 1, argv + 1);
        if (argc < 2 || (strcmp(argv[1], "snp") != 0 && strcmp(argv[1], "tdx") != 0 &&
                         strcmp(argv[1], "sgx") != 0 && strcmp(argv[1], "nvidia-gpu") != 0 &&
                         strcmp(argv[1], "azure") != 0))
                return cli_usage_error(USAGE);
        const char *tee = argv[1];
        bool snp = strcmp(tee, "snp") == 0;
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
                case 'q':
                        quote = optarg;
                        break;
                case 'C':
                        collateral = optarg;
                        break;
                case 'a':
                        at = optarg;
                        break;
                case 'e':
                        evidence = optarg;
                        break;
                case 'd':
                        report_data = optarg;
                        break;
                case 'h':
                        puts(USAGE);
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind != argc)
                return cli_usage_error("bench: unexpected argument \"%s\"", argv[optind]);
        bool azure = strcmp(tee, "azure") == 0;
        if (azure) {
                if (report || cert || quote || collateral)
                        return cli_usage_error("bench azure: --evidence, --report-data, --at");
                return bench_azure(evidence, report_data, at, threads, seconds);
        }
        if (evidence || report_data)
                return cli_usage_error("bench %s: --evidence and --report-data are for azure", tee);
        if (snp && (quote || collateral || at))
                return cli_usage_error("bench snp: --quote, --collateral and --at are for tdx|sgx");
        if (!snp && (report || cert))
                return cli_usage_error("bench %s: --report and --cert are for snp", tee);
        if (strcmp(tee, "nvidia-gpu") == 0) {
                if (report || cert || quote || collateral || at)
                        return cli_usage_error("bench nvidia-gpu: only --seconds and --threads");
                return bench_nvidia(threads, seconds);
        }
        if (snp)
                return bench_snp(report, cert, threads, seconds);
        return bench_dcap(strcmp(tee, "tdx") == 0, quote, collateral, at, threads, seconds);
}
