/* SPDX-License-Identifier: Apache-2.0 */
/* veritee verify: offline verification with the command contract in README.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attest/attest.h"
#include "cli.h"
#include "util/hex.h"
#include "util/macro.h"
#include "veritee/azure.h"
#include "veritee/dcap.h"
#include "veritee/nvidia.h"
#include "veritee/snp.h"

/* Prints the verdict object and returns the exit code. claims (borrowed) may be NULL: {}. */
static int print_verdict(const char *tee, bool trusted, const char *reason, json_t *claims)
{
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "tee", tee, "verdict",
                              trusted ? "trusted" : "rejected", "reason", reason, "claims",
                              claims ? json_incref(claims) : json_object());
        char *s = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
        if (!s) {
                fprintf(stderr, "veritee: out of memory\n");
                json_decref(o);
                return EXIT_USAGE;
        }
        printf("%s\n", s);
        free(s);
        json_decref(o);
        if (!trusted)
                fprintf(stderr, "veritee: rejected: %s\n", reason);
        return trusted ? EXIT_TRUSTED : EXIT_REJECTED;
}

/* Returned by the option steps below when the command goes on (0 is an exit code). */
#define CLI_GO_ON (-1)

/* One option that takes a value: getopt_long's val and where its argument goes. */
struct opt_slot {
        int val;
        const char **value;
};

/* next_option runs getopt_long, storing each option that has a slot (the list ends with a NULL
 * value), and returns the first option that has none, or -1 at the end of the options. */
static int next_option(int argc, char **argv, const struct option *opts,
                       const struct opt_slot *slots)
{
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                const struct opt_slot *s = slots;
                while (s->value && s->val != c)
                        s++;
                if (!s->value)
                        return c;
                *s->value = optarg;
        }
        return -1;
}

/* Parses --at into *ret (left alone when at is NULL); returns 0 or -1 after saying why. */
static int parse_at(const char *at, int64_t *ret)
{
        if (at && vt_time_parse_rfc3339(at, ret) < 0) {
                cli_usage_error("--at: \"%s\" is not an RFC 3339 time (2025-06-01T00:00:00Z)", at);
                return -1;
        }
        return 0;
}

/* Prints the rejection for error e (the diagnostic when there is one) and returns the exit code. */
static int print_failure(const char *tee, int e, const struct vt_diag *d)
{
        return print_verdict(tee, false, d->msg[0] ? d->msg : vt_strerror(e), NULL);
}

static void policy_freep(struct vt_snp_policy **p)
{
        vt_snp_policy_free(*p);
}
static void verifier_freep(struct vt_snp_verifier **v)
{
        vt_snp_verifier_free(*v);
}

/* Adds the --trust-root PEM as an extra root; returns 0 or -1 after saying why. */
static int snp_add_root(struct vt_snp_verifier *v, const char *trust_root, struct vt_diag *d)
{
        size_t tl;
        _cleanup_free_ uint8_t *tr = cli_read(trust_root, CLI_MAX_CERT, &tl);
        if (!tr)
                return -1;
        if (vt_snp_verifier_add_root(v, VT_SNP_PRODUCT_MILAN, tr, tl, d) < 0) {
                fprintf(stderr, "veritee: --trust-root %s: %s\n", trust_root, d->msg);
                return -1;
        }
        return 0;
}

/* Prints the verdict for vt_attest_offline's result e and returns the exit code. */
static int snp_print_result(int e, const struct vt_attest_result *res, bool has_policy,
                            const struct vt_diag *d)
{
        if (e < 0)
                return print_failure("snp", e, d);
        char reason[256];
        snprintf(reason, sizeof(reason),
                 "signature, %s chain to the %s%s root, TCB and chip binding verified; %s",
                 res->snp_signer == VT_SNP_SIGNER_VLEK ? "VLEK" : "VCEK",
                 vt_snp_product_name(res->snp_product),
                 res->simulated ? " (extra, not AMD)" : " AMD",
                 has_policy ? "policy satisfied" : "no policy given (authenticity only)");
        return print_verdict("snp", true, reason, res->tee_claims);
}

static int verify_snp(int argc, char **argv)
{
        static const struct option opts[] = {
                {"cert", required_argument, NULL, 'c'},
                {"chain", required_argument, NULL, 'C'},
                {"crl", required_argument, NULL, 'r'},
                {"at", required_argument, NULL, 'a'},
                {"policy", required_argument, NULL, 'p'},
                {"kds-url", required_argument, NULL, 'k'},
                {"cache-dir", required_argument, NULL, 'd'},
                {"product", required_argument, NULL, 'P'},
                {"help", no_argument, NULL, 'h'},
                {"trust-root", required_argument, NULL, 'T'},
                {0},
        };
        const char *cert = NULL, *chain = NULL, *crl = NULL, *at = NULL, *policy = NULL,
                   *kds = NULL, *cache = NULL, *product = NULL, *trust_root = NULL;
        struct vt_attest_offline vo = {0};
        _cleanup_free_ uint8_t *rep = NULL, *leaf = NULL, *ch = NULL, *crlb = NULL, *pol = NULL;
        _cleanup_(policy_freep) struct vt_snp_policy *sp = NULL;
        _cleanup_(verifier_freep) struct vt_snp_verifier *v = NULL;
        struct vt_diag d = {0};
        size_t len = 0, plen = 0;
        int c;

        const struct opt_slot slots[] = {
                {'c', &cert}, {'C', &chain}, {'r', &crl},     {'a', &at},         {'p', &policy},
                {'k', &kds},  {'d', &cache}, {'P', &product}, {'T', &trust_root}, {0, NULL},
        };

        optind = 1;
        if ((c = next_option(argc, argv, opts, slots)) != -1) {
                if (c != 'h')
                        return EXIT_USAGE;
                puts("usage: veritee verify snp REPORT [--cert LEAF] [--chain PEM] [--crl "
                     "FILE] "
                     "[--at RFC3339] [--policy FILE] [--kds-url URL] [--cache-dir DIR] "
                     "[--product NAME] [--trust-root PEM]");
                return 0;
        }
        if (optind != argc - 1)
                return cli_usage_error("usage: veritee verify snp REPORT [OPTIONS]");
        if (parse_at(at, &vo.at) < 0)
                return EXIT_USAGE;
        if (product && vt_snp_product_from_name(product, &vo.snp_product) < 0)
                return cli_usage_error("--product: unknown product \"%s\" (Milan, Genoa, Turin)",
                                       product);
        if (!(rep = cli_read(argv[optind], CLI_MAX_EVIDENCE, &len)))
                return EXIT_USAGE;
        if (cert && !(leaf = cli_read(cert, CLI_MAX_CERT, &vo.snp_leaf_len)))
                return EXIT_USAGE;
        if (chain && !(ch = cli_read(chain, CLI_MAX_CERT, &vo.snp_chain_len)))
                return EXIT_USAGE;
        if (crl && !(crlb = cli_read(crl, CLI_MAX_CERT * 2, &vo.snp_crl_len)))
                return EXIT_USAGE;
        if (policy) {
                if (!(pol = cli_read(policy, CLI_MAX_CERT, &plen)))
                        return EXIT_USAGE;
                if (vt_snp_policy_parse((const char *)pol, plen, &sp, &d) < 0) {
                        fprintf(stderr, "veritee: %s: %s\n", policy, d.msg);
                        return EXIT_USAGE;
                }
        }
        vo.evidence = rep;
        vo.evidence_len = len;
        vo.snp_leaf = leaf;
        vo.snp_chain = ch;
        vo.snp_crl = crlb;
        vo.snp_policy = sp;
        if (vt_snp_verifier_new(&v) < 0 || vt_snp_verifier_set_kds(v, kds, cache) < 0) {
                fprintf(stderr, "veritee: cannot set up the verifier\n");
                return EXIT_USAGE;
        }

        if (trust_root && snp_add_root(v, trust_root, &d) < 0)
                return EXIT_USAGE;
        /* the library's pipeline, authenticity only (with the policy, if one is given) */
        const struct vt_attest_ctx ctx = {.snp_hw = v};
        struct vt_attest_result res = {0};
        int e = vt_attest_offline(&ctx, "snp", &vo, &res, &d);
        int rc = snp_print_result(e, &res, sp != NULL, &d);
        vt_attest_result_done(&res);
        return rc;
}

/* Prints the verdict for vt_attest_offline's result e and returns the exit code. */
static int dcap_print_result(const char *tee, int e, const struct vt_attest_result *res,
                             bool has_policy, const struct vt_diag *d)
{
        if (e < 0)
                return print_failure(tee, e, d);
        char reason[256];
        snprintf(reason, sizeof(reason),
                 "quote, QE report and PCK chain verified to the Intel SGX Root CA; TCB "
                 "status %s; policy "
                 "satisfied%s",
                 vt_tcb_status_name(res->tcb_status),
                 has_policy ? "" : " (default: UpToDate only, no debug)");
        return print_verdict(tee, true, reason, res->tee_claims);
}

static int verify_dcap(const char *tee, int argc, char **argv)
{
        static const struct option opts[] = {
                {"collateral", required_argument, NULL, 'c'},
                {"pccs-url", required_argument, NULL, 'u'},
                {"cache-dir", required_argument, NULL, 'd'},
                {"at", required_argument, NULL, 'a'},
                {"policy", required_argument, NULL, 'p'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *collateral = NULL, *pccs = NULL, *cache = NULL, *at = NULL, *policy = NULL;
        struct vt_diag d = {0};
        int64_t t = 0;
        int c;
        const struct opt_slot slots[] = {
                {'c', &collateral}, {'u', &pccs},   {'d', &cache},
                {'a', &at},         {'p', &policy}, {0, NULL},
        };

        optind = 1;
        if ((c = next_option(argc, argv, opts, slots)) != -1) {
                if (c != 'h')
                        return EXIT_USAGE;
                printf("usage: veritee verify %s QUOTE [--collateral FILE | --pccs-url "
                       "URL] [--cache-dir DIR] "
                       "[--at RFC3339] [--policy FILE]\n",
                       tee);
                return 0;
        }
        if (optind != argc - 1)
                return cli_usage_error("usage: veritee verify %s QUOTE [--collateral FILE | "
                                       "--pccs-url URL] [OPTIONS]",
                                       tee);
        if (collateral && pccs)
                return cli_usage_error("give --collateral or --pccs-url, not both");
        if (parse_at(at, &t) < 0)
                return EXIT_USAGE;
        size_t ql, cl = 0, pl = 0;
        _cleanup_free_ uint8_t *quote = cli_read(argv[optind], CLI_MAX_EVIDENCE, &ql);
        if (!quote)
                return EXIT_USAGE;
        _cleanup_free_ uint8_t *coll_txt = collateral ? cli_read(collateral, 4u << 20, &cl) : NULL;
        _cleanup_free_ uint8_t *pol_txt = policy ? cli_read(policy, 256u * 1024u, &pl) : NULL;
        if ((collateral && !coll_txt) || (policy && !pol_txt))
                return EXIT_USAGE;
        struct vt_dcap_policy *pol = NULL;
        if (pol_txt && vt_dcap_policy_parse((const char *)pol_txt, pl, &pol, &d) < 0) {
                fprintf(stderr, "veritee: %s: %s\n", policy, d.msg);
                return EXIT_USAGE;
        }
        struct vt_dcap_collateral *coll = NULL;
        struct vt_dcap_verifier *v = NULL;
        struct vt_attest_result res = {0};
        int rc;
        if (coll_txt && vt_dcap_collateral_parse((const char *)coll_txt, cl, &coll, &d) < 0) {
                rc = print_verdict(tee, false, d.msg, NULL);
                vt_dcap_policy_free(pol);
                return rc;
        }
        if (vt_dcap_verifier_new(&v) < 0 || vt_dcap_verifier_set_pccs(v, pccs, cache) < 0) {
                vt_dcap_collateral_free(coll);
                vt_dcap_policy_free(pol);
                return EXIT_USAGE;
        }
        /* the library's pipeline, authenticity only, under the policy (or the default) */
        const struct vt_attest_ctx ctx = {.dcap = v};
        const struct vt_attest_offline off = {
                .evidence = quote,
                .evidence_len = ql,
                .at = t,
                .dcap_collateral = coll,
                .dcap_policy = pol,
        };
        int e = vt_attest_offline(&ctx, tee, &off, &res, &d);
        rc = dcap_print_result(tee, e, &res, pol != NULL, &d);
        vt_attest_result_done(&res);
        vt_dcap_verifier_free(v);
        vt_dcap_collateral_free(coll);
        vt_dcap_policy_free(pol);
        return rc;
}

/* What `veritee verify az-snp-vtpm|az-tdx-vtpm|tpm` was asked to do. */
struct az_args {
        enum vt_az_tee tee;
        const char *evidence, *rd_hex, *init_hex, *at, *collateral, *pccs, *cache;
        const char *aks_paths[16];
        size_t n_aks;
};

/* The verifiers one azure run owns; az_run_done frees them. */
struct az_run {
        struct vt_snp_verifier *snp;
        struct vt_dcap_verifier *dcap;
        struct vt_dcap_collateral *coll;
        struct vt_tpm_aks *aks;
};

static void az_run_done(struct az_run *r)
{
        vt_tpm_aks_free(r->aks);
        vt_snp_verifier_free(r->snp);
        vt_dcap_collateral_free(r->coll);
        vt_dcap_verifier_free(r->dcap);
}

/* Reads the command line into *a; returns CLI_GO_ON or the exit code (help, usage error). */
static int az_parse_options(const char *name, int argc, char **argv, struct az_args *a)
{
        static const struct option opts[] = {
                {"report-data", required_argument, NULL, 'r'},
                {"init-data-digest", required_argument, NULL, 'i'},
                {"at", required_argument, NULL, 'a'},
                {"collateral", required_argument, NULL, 'c'},
                {"pccs-url", required_argument, NULL, 'u'},
                {"cache-dir", required_argument, NULL, 'd'},
                {"ak", required_argument, NULL, 'k'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const struct opt_slot slots[] = {
                {'r', &a->rd_hex}, {'i', &a->init_hex}, {'a', &a->at}, {'c', &a->collateral},
                {'u', &a->pccs},   {'d', &a->cache},    {0, NULL},
        };
        int c;

        if (vt_az_tee_from_name(name, &a->tee) < 0)
                return cli_usage_error("verify: unknown tee \"%s\"", name);
        optind = 1;
        while ((c = next_option(argc, argv, opts, slots)) != -1) {
                if (c == 'k') {
                        if (a->n_aks >= ELEMENTSOF(a->aks_paths))
                                return cli_usage_error("--ak: at most %zu keys",
                                                       ELEMENTSOF(a->aks_paths));
                        a->aks_paths[a->n_aks++] = optarg;
                        continue;
                }
                if (c != 'h')
                        return EXIT_USAGE;
                printf("usage: veritee verify %s EVIDENCE.json --report-data HEX [--at "
                       "RFC3339] [--init-data-digest HEX] [--collateral FILE | --pccs-url "
                       "URL] [--cache-dir DIR] [--ak PEM ...]\n",
                       vt_az_tee_name(a->tee));
                return 0;
        }
        if (optind != argc - 1)
                return cli_usage_error("usage: veritee verify %s EVIDENCE.json --report-data HEX "
                                       "[OPTIONS]",
                                       name);
        a->evidence = argv[optind];
        return CLI_GO_ON;
}

/* Checks the option values and puts them into *vo (pointing into rd and init); returns 0 or
 * EXIT_USAGE after saying which option is wrong. */
static int az_check_options(const struct az_args *a, struct vt_attest_offline *vo, uint8_t rd[64],
                            uint8_t init[32])
{
        int n;

        if (!a->rd_hex)
                return cli_usage_error("--report-data HEX is required (the expected TPM quote "
                                       "nonce, 1..64 bytes)");
        if ((n = vt_hex_decode(a->rd_hex, rd, 64)) <= 0)
                return cli_usage_error("--report-data: \"%s\" is not hex of 1..64 bytes",
                                       a->rd_hex);
        vo->report_data = rd;
        vo->report_data_len = (size_t)n;
        if (a->init_hex) {
                if (vt_hex_decode(a->init_hex, init, 32) != 32)
                        return cli_usage_error("--init-data-digest: \"%s\" is not 32 bytes of hex "
                                               "(SHA-256)",
                                               a->init_hex);
                vo->init_data_digest = init;
        }
        if (parse_at(a->at, &vo->at) < 0)
                return EXIT_USAGE;
        if (a->collateral && a->pccs)
                return cli_usage_error("give --collateral or --pccs-url, not both");
        if (a->tee != VT_AZ_TEE_TDX_VTPM && (a->collateral || a->pccs || a->cache))
                return cli_usage_error("--collateral, --pccs-url and --cache-dir are for "
                                       "az-tdx-vtpm");
        if (a->tee != VT_AZ_TEE_TPM && a->n_aks)
                return cli_usage_error("--ak is for tee tpm (az-* evidence carries its AK)");
        if (a->tee == VT_AZ_TEE_TPM && !a->n_aks)
                return cli_usage_error("tpm: give the trusted attestation keys with --ak PEM");
        return 0;
}

/* Loads the trusted AKs given with --ak into run->aks; returns 0 or -1 after saying why. */
static int az_load_aks(const struct az_args *a, struct az_run *run, struct vt_diag *d)
{
        if (vt_tpm_aks_new(&run->aks) < 0)
                return -1;
        for (size_t i = 0; i < a->n_aks; i++) {
                size_t kl;
                _cleanup_free_ uint8_t *kb = cli_read(a->aks_paths[i], CLI_MAX_CERT, &kl);
                if (!kb)
                        return -1;
                if (vt_tpm_aks_add(run->aks, kb, kl, d) < 0) {
                        fprintf(stderr, "veritee: --ak %s: %s\n", a->aks_paths[i], d->msg);
                        return -1;
                }
        }
        return 0;
}

/* Sets up the verifier the tee needs and hangs it on *ctx (the collateral on *vo); returns
 * CLI_GO_ON or the exit code. */
static int az_setup(const struct az_args *a, const uint8_t *coll_txt, size_t cl, struct az_run *run,
                    struct vt_attest_ctx *ctx, struct vt_attest_offline *vo, struct vt_diag *d)
{
        if (a->tee == VT_AZ_TEE_TPM) {
                if (az_load_aks(a, run, d) < 0)
                        return EXIT_USAGE;
                ctx->tpm_aks = run->aks;
        } else if (a->tee == VT_AZ_TEE_SNP_VTPM) {
                if (vt_snp_verifier_new(&run->snp) < 0)
                        return EXIT_USAGE;
                ctx->snp_hw = run->snp;
        } else {
                if (vt_dcap_verifier_new(&run->dcap) < 0 ||
                    vt_dcap_verifier_set_pccs(run->dcap, a->pccs, a->cache) < 0)
                        return EXIT_USAGE;
                if (coll_txt &&
                    vt_dcap_collateral_parse((const char *)coll_txt, cl, &run->coll, d) < 0)
                        return print_verdict(vt_az_tee_name(a->tee), false, d->msg, NULL);
                ctx->dcap = run->dcap;
                vo->dcap_collateral = run->coll;
        }
        return CLI_GO_ON;
}

/* Prints the verdict for vt_attest_offline's result e (a failure's reason names the checks
 * that passed) and returns the exit code. */
static int az_print_result(enum vt_az_tee tee, int e, const struct vt_attest_result *res,
                           const struct vt_diag *d)
{
        char passed[160], reason[sizeof(d->msg) + 200];

        if (e < 0)
                return print_failure(vt_az_tee_name(tee), e, d);
        vt_attest_az_checks_text(res->az_checks, passed, sizeof(passed));
        if (tee == VT_AZ_TEE_SNP_VTPM)
                snprintf(reason, sizeof(reason),
                         "%s verified; SNP report: VCEK chain to the %s AMD root, VMPL 0", passed,
                         vt_snp_product_name(res->snp_product));
        else if (tee == VT_AZ_TEE_TDX_VTPM)
                snprintf(reason, sizeof(reason),
                         "%s verified; TD quote: PCK chain to the Intel SGX Root CA, TCB status %s",
                         passed, vt_tcb_status_name(res->tcb_status));
        else
                snprintf(reason, sizeof(reason), "%s verified", passed);
        return print_verdict(vt_az_tee_name(tee), true, reason, res->tee_claims);
}

/* veritee verify az-snp-vtpm|az-tdx-vtpm|tpm EVIDENCE.json --report-data HEX ... */
static int verify_azure(const char *name, int argc, char **argv)
{
        struct az_args a = {0};
        struct vt_attest_offline vo = {0};
        struct vt_attest_ctx ctx = {0};
        struct vt_diag d = {0};
        uint8_t rd[64], init[32];
        int rc;

        if ((rc = az_parse_options(name, argc, argv, &a)) != CLI_GO_ON)
                return rc;
        if ((rc = az_check_options(&a, &vo, rd, init)) != 0)
                return rc;

        size_t el = 0, cl = 0;
        _cleanup_free_ uint8_t *ev = cli_read(a.evidence, CLI_MAX_EVIDENCE, &el);
        _cleanup_free_ uint8_t *coll_txt =
                a.collateral ? cli_read(a.collateral, 4u << 20, &cl) : NULL;
        if (!ev || (a.collateral && !coll_txt))
                return EXIT_USAGE;
        struct az_run run = {0};
        struct vt_attest_result res = {0};
        rc = az_setup(&a, coll_txt, cl, &run, &ctx, &vo, &d);
        if (rc == CLI_GO_ON) {
                /* the library's pipeline, bound to --report-data (and --init-data-digest) */
                vo.evidence = ev;
                vo.evidence_len = el;
                vt_diag_clear(&d);
                int e = vt_attest_offline(&ctx, vt_az_tee_name(a.tee), &vo, &res, &d);
                rc = az_print_result(a.tee, e, &res, &d);
        }
        vt_attest_result_done(&res);
        az_run_done(&run);
        return rc;
}

/* What `veritee verify nvidia-gpu` was asked to do. */
struct nv_args {
        const char *evidence, *chain, *nonce_hex, *rim_dir, *rim_url, *rim_cache, *at, *uuid,
                *ocsp_url, *grace;
        const char *ocsp_files[16];
        size_t n_ocsp;
        bool no_ocsp, rim_allow_missing;
};

#define NV_USAGE                                                                                   \
        "usage: veritee verify nvidia-gpu REPORT|EVIDENCE.json --nonce HEX [--cert-chain PEM] "    \
        "[--rim-dir DIR] [--rim-url URL] [--rim-cache DIR] [--ocsp FILE ...] [--ocsp-url URL] "    \
        "[--ocsp-grace SECONDS] [--no-ocsp] [--rim-allow-missing] [--at RFC3339] [--uuid UUID]"

static int nv_parse_options(int argc, char **argv, struct nv_args *a)
{
        static const struct option opts[] = {
                {"cert-chain", required_argument, NULL, 'c'},
                {"nonce", required_argument, NULL, 'n'},
                {"rim-dir", required_argument, NULL, 'r'},
                {"rim-url", required_argument, NULL, 'R'},
                {"rim-cache", required_argument, NULL, 'C'},
                {"ocsp", required_argument, NULL, 'o'},
                {"ocsp-url", required_argument, NULL, 'O'},
                {"ocsp-grace", required_argument, NULL, 'g'},
                {"no-ocsp", no_argument, NULL, 'N'},
                {"rim-allow-missing", no_argument, NULL, 'M'},
                {"at", required_argument, NULL, 'a'},
                {"uuid", required_argument, NULL, 'u'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const struct opt_slot slots[] = {
                {'c', &a->chain},   {'n', &a->nonce_hex}, {'r', &a->rim_dir},
                {'R', &a->rim_url}, {'C', &a->rim_cache}, {'O', &a->ocsp_url},
                {'g', &a->grace},   {'a', &a->at},        {'u', &a->uuid},
                {0, NULL},
        };
        int c;

        optind = 1;
        while ((c = next_option(argc, argv, opts, slots)) != -1) {
                if (c == 'o') {
                        if (a->n_ocsp >= ELEMENTSOF(a->ocsp_files))
                                return cli_usage_error("--ocsp: at most %zu files",
                                                       ELEMENTSOF(a->ocsp_files));
                        a->ocsp_files[a->n_ocsp++] = optarg;
                        continue;
                }
                if (c == 'N' || c == 'M') {
                        *(c == 'N' ? &a->no_ocsp : &a->rim_allow_missing) = true;
                        continue;
                }
                if (c != 'h')
                        return EXIT_USAGE;
                puts(NV_USAGE
                     "\n\n"
                     "Verifies an NVIDIA confidential-computing GPU (Hopper, Blackwell) or "
                     "NVSwitch\n"
                     "(LS10) attestation report: the request nonce equals --nonce (32 bytes; "
                     "longer\n"
                     "report data is cut to 32 bytes as Trustee does), the chain verifies to the\n"
                     "pinned NVIDIA Device Identity CA, the leaf signs the report (ECDSA P-384), "
                     "the\n"
                     "leaf's FWID equals the report's, OCSP says good for the three intermediates\n"
                     "(--ocsp DER files, else the responder --ocsp-url; --no-ocsp skips it and "
                     "the\n"
                     "claims say so) and, with --rim-dir or --rim-url, the measurements match the\n"
                     "driver and VBIOS (switch BIOS) RIMs. REPORT is raw or hex with "
                     "--cert-chain,\n"
                     "or an evidence JSON (NVAT list, or KBS "
                     "{\"nvidia\":{\"device_evidence_list\"}})\n"
                     "that carries the chains. Exit 0 trusted, 1 rejected, 2 usage.");
                return 0;
        }
        if (optind != argc - 1)
                return cli_usage_error(NV_USAGE);
        a->evidence = argv[optind];
        if (!a->nonce_hex)
                return cli_usage_error("--nonce HEX is required (the 32-byte nonce the report "
                                       "must carry)");
        if (a->no_ocsp && (a->n_ocsp || a->ocsp_url))
                return cli_usage_error("--no-ocsp with --ocsp or --ocsp-url");
        return CLI_GO_ON;
}

static void nv_verifier_freep(struct vt_nv_verifier **v)
{
        vt_nv_verifier_free(*v);
}
static void nv_evidence_freep(struct vt_nv_evidence **e)
{
        vt_nv_evidence_free(*e);
}

/* Sets up the verifier from the options; returns 0 or EXIT_USAGE after saying why. */
static int nv_setup(const struct nv_args *a, struct vt_nv_verifier *v)
{
        struct vt_diag d = {0};
        int64_t grace = 3600;
        if (a->grace) {
                char *end = NULL;
                long long g = strtoll(a->grace, &end, 10);
                if (!end || *end || g < 0 || g > 7 * 24 * 3600)
                        return cli_usage_error("--ocsp-grace: seconds, 0..604800");
                grace = g;
        }
        const char *url = a->ocsp_url;
        if (!url && !a->n_ocsp)
                url = "http://ocsp.ndis.nvidia.com";
        if (vt_nv_verifier_set_ocsp(v, a->no_ocsp ? VT_NV_OCSP_OFF : VT_NV_OCSP_REQUIRE, url,
                                    grace) < 0)
                return cli_usage_error("--ocsp-url: \"%s\" is not an http(s) URL", url);
        if ((a->rim_dir || a->rim_url || a->rim_cache) &&
            vt_nv_verifier_set_rim(v, a->rim_dir, a->rim_url, a->rim_cache, a->rim_allow_missing) <
                    0)
                return cli_usage_error("--rim-url: \"%s\" is not an http(s) URL", a->rim_url);
        if (!a->rim_dir && !a->rim_url && !a->rim_cache && a->rim_allow_missing)
                return cli_usage_error("--rim-allow-missing needs --rim-dir, --rim-url or "
                                       "--rim-cache");
        for (size_t i = 0; i < a->n_ocsp; i++) {
                size_t l;
                _cleanup_free_ uint8_t *b = cli_read(a->ocsp_files[i], 64u * 1024u, &l);
                if (!b)
                        return EXIT_USAGE;
                if (vt_nv_verifier_add_ocsp(v, b, l, &d) < 0) {
                        fprintf(stderr, "veritee: --ocsp %s: %s\n", a->ocsp_files[i], d.msg);
                        return EXIT_USAGE;
                }
        }
        return 0;
}

/* The nonce: hex of 1..64 bytes, cut or zero-padded to 32 (Trustee's regularize_data). */
static int nv_nonce(const char *hex, uint8_t out[32])
{
        uint8_t b[64] = {0};
        int n = vt_hex_decode(hex, b, sizeof(b));
        if (n <= 0)
                return cli_usage_error("--nonce: \"%s\" is not hex of 1..64 bytes", hex);
        memcpy(out, b, 32);
        return 0;
}

static bool looks_json(const uint8_t *p, size_t n)
{
        while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
                p++;
                n--;
        }
        return n && (*p == '{' || *p == '[');
}

/* Verifies one device; on success adds its claims under name to all. */
static int nv_one(struct vt_nv_verifier *v, const uint8_t *rep, size_t rl, const uint8_t *chain,
                  size_t cl, const struct vt_nv_verify_opts *o, const char *name, json_t *all,
                  struct vt_nv_result *res, struct vt_diag *d)
{
        int e = vt_nv_verify(v, rep, rl, chain, cl, o, res, d);
        if (e < 0) {
                if (name) {
                        char m[sizeof(d->msg)];
                        snprintf(m, sizeof(m), "%s", d->msg);
                        vt_diag_clear(d);
                        vt_diag_set(d, e, "%s: %s", name, m);
                }
                return e;
        }
        json_t *c = json_loads(res->claims, 0, NULL);
        if (!c)
                return VT_E_NOMEM;
        if (name)
                json_object_set_new(all, name, c);
        else {
                json_object_update(all, c);
                json_decref(c);
        }
        return 0;
}

/* veritee verify nvidia-gpu REPORT --nonce HEX ... */
static int verify_nvidia(int argc, char **argv)
{
        struct nv_args a = {0};
        _cleanup_(nv_verifier_freep) struct vt_nv_verifier *v = NULL;
        _cleanup_(nv_evidence_freep) struct vt_nv_evidence *ev = NULL;
        struct vt_diag d = {0};
        uint8_t nonce[32];
        int rc;

        if ((rc = nv_parse_options(argc, argv, &a)) != CLI_GO_ON)
                return rc;
        struct vt_nv_verify_opts o = {.nonce = nonce, .uuid = a.uuid};
        if (nv_nonce(a.nonce_hex, nonce) != 0 || parse_at(a.at, &o.at) < 0)
                return EXIT_USAGE;
        if (vt_nv_verifier_new(&v) < 0)
                return EXIT_USAGE;
        if ((rc = nv_setup(&a, v)) != 0)
                return rc;
        size_t el, cl = 0;
        _cleanup_free_ uint8_t *evb = cli_read(a.evidence, CLI_MAX_EVIDENCE, &el);
        _cleanup_free_ uint8_t *chain = a.chain ? cli_read(a.chain, CLI_MAX_CERT, &cl) : NULL;
        if (!evb || (a.chain && !chain))
                return EXIT_USAGE;
        json_t *all = json_object();
        struct vt_nv_result res = {0};
        unsigned ocsp = 0, rims = 0, n = 0, ngpu = 0, nsw = 0, matched = 0;
        char note[256] = "";
        int e = 0;
        if (!all)
                return EXIT_USAGE;
        if (!looks_json(evb, el)) {
                if (!chain) {
                        json_decref(all);
                        return cli_usage_error("--cert-chain PEM is required with a raw or hex "
                                               "report");
                }
                e = nv_one(v, evb, el, chain, cl, &o, NULL, all, &res, &d);
                n = 1;
                ocsp = res.ocsp_checked;
                rims = res.rim_checked;
                matched = res.rim_matched;
                snprintf(note, sizeof(note), "%s", res.note);
                vt_nv_result_done(&res);
        } else if ((e = vt_nv_evidence_parse((const char *)evb, el, &ev, &d)) == 0) {
                for (size_t i = 0; e == 0 && i < ev->n; i++) {
                        char name[32];
                        bool sw = ev->dev[i].arch == VT_NV_ARCH_LS10;
                        snprintf(name, sizeof(name), "%s%u", sw ? "switch" : "gpu",
                                 sw ? nsw++ : ngpu++);
                        struct vt_nv_verify_opts oi = o;
                        if (!oi.uuid && ev->dev[i].uuid[0])
                                oi.uuid = ev->dev[i].uuid;
                        e = nv_one(v, ev->dev[i].report, ev->dev[i].report_len, ev->dev[i].chain,
                                   ev->dev[i].chain_len, &oi, ev->n > 1 ? name : NULL, all, &res,
                                   &d);
                        if (e == 0 && ev->dev[i].arch != VT_NV_ARCH_UNKNOWN &&
                            ev->dev[i].arch != res.arch)
                                e = vt_diag_set(&d, VT_E_BINDING,
                                                "nvidia: %s: evidence says arch %s, the "
                                                "certificate is a %s device",
                                                name, vt_nv_arch_name(ev->dev[i].arch),
                                                vt_nv_arch_name(res.arch));
                        ocsp += res.ocsp_checked;
                        rims += res.rim_checked;
                        matched += res.rim_matched;
                        if (res.note[0])
                                snprintf(note, sizeof(note), "%s", res.note);
                        vt_nv_result_done(&res);
                        n++;
                }
        }
        if (e < 0) {
                json_decref(all);
                return print_failure("nvidia-gpu", e, &d);
        }
        /* the library's note without what the reason says already */
        const char *rim_note = strstr(note, "RIM ");
        if (!rim_note || rims != n)
                rim_note = "";
        char reason[512];
        snprintf(reason, sizeof(reason),
                 "%u device%s: nonce, signature (ECDSA P-384), chain to the NVIDIA Device "
                 "Identity CA and FWID verified; OCSP %s; %s%u golden values matched%s%s",
                 n, n == 1 ? "" : "s", ocsp == n ? "good" : "not checked (--no-ocsp)",
                 rims == n ? "RIMs: " : "RIMs not checked (no --rim-dir/--rim-url), ", matched,
                 rim_note[0] ? "; " : "", rim_note);
        rc = print_verdict("nvidia-gpu", true, reason, all);
        json_decref(all);
        return rc;
}

int cmd_verify(int argc, char **argv)
{
        if (argc < 2)
                return cli_usage_error("usage: veritee verify snp REPORT [OPTIONS]");
        if (strcmp(argv[1], "snp") == 0)
                return verify_snp(argc - 1, argv + 1);
        if (strcmp(argv[1], "tdx") == 0 || strcmp(argv[1], "sgx") == 0)
                return verify_dcap(argv[1], argc - 1, argv + 1);
        if (strcmp(argv[1], "az-snp-vtpm") == 0 || strcmp(argv[1], "az-tdx-vtpm") == 0 ||
            strcmp(argv[1], "azsnpvtpm") == 0 || strcmp(argv[1], "aztdxvtpm") == 0 ||
            strcmp(argv[1], "tpm") == 0)
                return verify_azure(argv[1], argc - 1, argv + 1);
        if (strcmp(argv[1], "nvidia-gpu") == 0)
                return verify_nvidia(argc - 1, argv + 1);
        return cli_usage_error("verify: unknown tee \"%s\" (known: snp, tdx, sgx, az-snp-vtpm, "
                               "az-tdx-vtpm, tpm, nvidia-gpu)",
                               argv[1]);
}
