/* SPDX-License-Identifier: Apache-2.0 */
/* veritee: the command-line tool. One verb family per file. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/file.h"
#include "veritee/veritee.h"

static const char usage[] =
        "Usage: veritee COMMAND [ARGS...]\n"
        "\n"
        "Verify confidential-computing (TEE) evidence, attest to a key broker and manage its\n"
        "secrets.\n"
        "\n"
        "Commands:\n"
        "  inspect snp REPORT           print every field of an SEV-SNP report as JSON\n"
        "  verify snp REPORT [OPTIONS]  verify an SEV-SNP report to the AMD roots\n"
        "      --cert LEAF              VCEK or VLEK certificate (PEM or DER); default: fetch from "
        "KDS\n"
        "      --chain PEM              ASK/ASVK (and ARK) certificates; default: built in\n"
        "      --crl FILE               AMD CRL (PEM or DER) to check the intermediate against\n"
        "      --at RFC3339             verify at this time instead of now\n"
        "      --policy FILE            reference values and checks (docs/policy.md)\n"
        "      --kds-url URL            AMD KDS base URL or mirror (default "
        "https://kdsintf.amd.com)\n"
        "      --cache-dir DIR          keep fetched certificates here (default: none)\n"
        "      --product NAME           Milan, Genoa or Turin, for version 2 reports\n"
        "      --trust-root PEM         also trust this root bundle (e.g. the simulator's "
        "root.pem)\n"
        "  verify tdx|sgx QUOTE [--collateral FILE | --pccs-url URL] [--cache-dir DIR] [--at "
        "RFC3339]\n"
        "      [--policy FILE]          verify an Intel DCAP quote (TDX v4/v5, SGX v3) to the "
        "Intel root\n"
        "  verify az-snp-vtpm|az-tdx-vtpm|tpm EVIDENCE.json --report-data HEX [--at RFC3339]\n"
        "      [--init-data-digest HEX] [--collateral FILE | --pccs-url URL] [--cache-dir DIR]\n"
        "      [--ak PEM ...]           verify Azure vTPM evidence or a TPM quote (docs/azure.md)\n"
        "  verify nvidia-gpu REPORT|EVIDENCE.json --nonce HEX [--cert-chain PEM] [--rim-dir DIR]\n"
        "      [--rim-url URL] [--ocsp FILE ...] [--no-ocsp] [--at RFC3339]\n"
        "                               verify NVIDIA GPU or NVSwitch evidence to the NVIDIA roots "
        "(docs/nvidia.md)\n"
        "  inspect tdx|sgx QUOTE        print every field of a DCAP quote as JSON\n"
        "  bench snp [--seconds N] [--threads N] [--report FILE --cert FILE]\n"
        "                               measure full SNP verifications per second (warm chain "
        "cache)\n"
        "  bench tdx|sgx [--seconds N] [--threads N] [--quote FILE --collateral FILE --at "
        "RFC3339]\n"
        "                               measure full DCAP verifications per second (warm "
        "caches)\n"
        "  bench nvidia-gpu [--seconds N] [--threads N]\n"
        "                               NVIDIA GPU verifications per second beside one P-384 "
        "verify\n"
        "  bench azure [--seconds N] [--threads N] [--evidence FILE --report-data HEX --at "
        "RFC3339]\n"
        "                               Azure vTPM (az-snp-vtpm) verifications per second\n"
        "  bench ledger [--seconds N] [--db FILE] [--max-entries N] [--json]\n"
        "                               measure durable ledger appends (1 and 64 threads) and\n"
        "                               receipts per second at 10^3..10^6 entries\n"
        "  sim init DIR [--force]       create a labelled SEV-SNP simulator (NOT AMD) in DIR\n"
        "  sim report DIR --report-data HEX [--measurement HEX] [--host-data HEX] [--debug]\n"
        "      [--vmpl N] [--tcb BL:TEE:SNP:UCODE] [--guest-svn N] [--policy HEX] [-o FILE]\n"
        "      [--chain-out PEM]        sign a version-3 report with the simulator's VCEK\n"
        "  agent attest --url URL [--tee auto|snp|tdx|az-snp-vtpm|sim] [--sim-dir DIR] "
        "[--init-data FILE]\n"
        "      [--tsm-path DIR] [--sev-guest DEV] [--tcti TCTI] [--vcek FILE] [--cacert PEM]\n"
        "      [--gpu auto|off|required]  NVIDIA GPU evidence beside the CPU's (NVML; default "
        "auto)\n"
        "                               attest to a key broker (KBS 0.4.0) and print the token\n"
        "  agent get-resource --url URL REPO/TYPE/TAG [-o FILE] [--tee ...] [--sim-dir DIR]\n"
        "                               attest, fetch one secret, decrypt it, write it (0400)\n"
        "  agent fetch --url URL --map REPO/TYPE/TAG=PATH [--map ...] [--tee ...] [--sim-dir DIR]\n"
        "                               fetch all, then write each atomically (0400); none on "
        "failure\n"
        "  secret put REPO/TYPE/TAG FILE|-|--from-env VAR [--policy FILE] | rm REPO/TYPE/TAG\n"
        "      | ls [--repo R] [--limit PAGE]\n"
        "      | import DIR|FILE.jsonl [--policy FILE] [--batch N]   --url URL --token FILE "
        "[--json]\n"
        "                               store, remove, list or import many secrets (admin API,\n"
        "                               docs/admin.md)\n"
        "  policy get REPO/TYPE/TAG | set REPO/TYPE/TAG FILE\n"
        "      --url URL --token FILE [--json]\n"
        "                               read or set a secret's release policy (admin API)\n"
        "  refval add ID --tee snp|sim|tdx|sgx|az-snp-vtpm|az-tdx-vtpm FILE | ls | rm ID\n"
        "      --url URL --token FILE [--json]\n"
        "                               manage stored reference values (admin API)\n"
        "  ledger verify (--url URL --token FILE | --db FILE | --file EXPORT) [--key PEM|JWKS]\n"
        "      [--sth SAVED_STH_FILE] [--save-sth FILE] [--json]\n"
        "                               recompute the ledger, check every signed tree head and\n"
        "                               that it only grew since a saved head\n"
        "  ledger receipt INDEX --url URL --token FILE [--out FILE]\n"
        "                               fetch the receipt of one ledger entry\n"
        "  ledger verify-receipt FILE --key PEM|JWKS [--json]\n"
        "                               check a receipt offline with the ledger key\n"
        "  ledger verify-receipt --ccf RECEIPT --service-cert PEM [--json]\n"
        "                               check an Azure Confidential Ledger / CCF receipt\n"
        "  ledger export (--url URL --token FILE | --db FILE --key PEM|JWKS) [--out FILE]\n"
        "                               write the whole ledger to one JSON file (for verify "
        "--file)\n"
        "  admin keygen [--out PREFIX]  make an Ed25519 key pair for veriteed's admin API\n"
        "  admin token --key KEY --role admin|writer|reader [--repo R]... [--ttl DURATION]\n"
        "      [--sub TEXT]             print a bearer token for veriteed's admin API\n"
        "  admin kekgen FILE            make a key-encryption key (0600) for secrets.kek_file\n"
        "  admin rotate-kek NEW_KEY_FILE --config veriteed.yaml\n"
        "                               re-wrap every stored data key under a new KEK\n"
        "  version                      print the version\n"
        "  help                         print this text\n"
        "\n"
        "Remote commands take --url URL (the old --server and, for agent, --kbs still work),\n"
        "else $VERITEE_SERVER; admin ones --token FILE, else $VERITEE_TOKEN. A FILE of - is\n"
        "standard input.\n"
        "\n"
        "verify prints one JSON object {\"tee\",\"verdict\",\"reason\",\"claims\"} and exits\n"
        "0 when trusted, 1 when rejected, 2 for a usage error or unreadable input.\n";

int cli_usage_error(const char *fmt, ...)
{
        va_list ap;
        fputs("veritee: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see veritee --help)\n", stderr);
        return EXIT_USAGE;
}

uint8_t *cli_read(const char *path, size_t max, size_t *ret_len)
{
        uint8_t *buf = NULL;
        bool in = strcmp(path, "-") == 0;
        int e = in ? vt_read_fd(STDIN_FILENO, max, &buf, ret_len)
                   : vt_read_file(path, max, &buf, ret_len);
        if (e == VT_E_INVAL)
                fprintf(stderr, "veritee: %s is larger than %zu bytes\n",
                        in ? "standard input" : path, max);
        else if (e < 0)
                fprintf(stderr, "veritee: cannot read %s: %s\n", in ? "standard input" : path,
                        e == VT_E_IO ? strerror(errno) : vt_strerror(e));
        return e < 0 ? NULL : buf;
}

char *cli_server(const char *opt, const char *def)
{
        const char *env = getenv("VERITEE_SERVER");
        const char *u = opt ? opt : (env && *env ? env : def);
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/') /* "http://host:8080/" + "/kbs/v0/..." */
                n--;
        char *r = strndup(u, n);
        if (!r)
                fprintf(stderr, "veritee: out of memory\n");
        return r;
}

const char *cli_token_path(const char *opt)
{
        const char *env = getenv("VERITEE_TOKEN");
        return opt ? opt : (env && *env ? env : NULL);
}

/* usage_of prints the lines of the usage text for one command: each line that starts
 * with "  CMD " and the indented lines that continue it. */
static int usage_of(const char *cmd)
{
        size_t n = strlen(cmd);
        bool in = false;
        printf("Usage:\n");
        for (const char *l = usage; *l;) {
                const char *e = strchr(l, '\n');
                size_t len = e ? (size_t)(e - l) : strlen(l);
                if (len > n + 2 && strncmp(l, "  ", 2) == 0 && strncmp(l + 2, cmd, n) == 0 &&
                    l[n + 2] == ' ')
                        in = true;
                else if (len < 4 || strncmp(l, "    ", 4) != 0)
                        in = false;
                if (in)
                        printf("%.*s\n", (int)len, l);
                l += len + (e ? 1 : 0);
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
            strcmp(argv[1], "-h") == 0) {
                fputs(usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? EXIT_USAGE : 0;
        }
        if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
                printf("veritee %s\n", VT_VERSION);
                return 0;
        }
        /* CMD --help for the families without a help of their own */
        static const char *const families[] = {"inspect", "verify", "bench",  "agent",
                                               "secret",  "policy", "refval", "ledger"};
        for (size_t i = 0; argc == 3 && i < sizeof(families) / sizeof(families[0]); i++)
                if (strcmp(argv[1], families[i]) == 0 &&
                    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0 ||
                     strcmp(argv[2], "help") == 0))
                        return usage_of(argv[1]);
        if (strcmp(argv[1], "inspect") == 0)
                return cmd_inspect(argc - 1, argv + 1);
        if (strcmp(argv[1], "verify") == 0)
                return cmd_verify(argc - 1, argv + 1);
        if (strcmp(argv[1], "bench") == 0)
                return cmd_bench(argc - 1, argv + 1);
        if (strcmp(argv[1], "sim") == 0)
                return cmd_sim(argc - 1, argv + 1);
        if (strcmp(argv[1], "agent") == 0)
                return cmd_agent(argc - 1, argv + 1);
        if (strcmp(argv[1], "secret") == 0)
                return cmd_secret(argc - 1, argv + 1);
        if (strcmp(argv[1], "policy") == 0)
                return cmd_policy(argc - 1, argv + 1);
        if (strcmp(argv[1], "refval") == 0)
                return cmd_refval(argc - 1, argv + 1);
        if (strcmp(argv[1], "ledger") == 0)
                return cmd_ledger(argc - 1, argv + 1);
        if (strcmp(argv[1], "admin") == 0)
                return cmd_admin(argc - 1, argv + 1);
        return cli_usage_error("unknown command \"%s\"", argv[1]);
}
