/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee sim: the labelled SEV-SNP simulator (docs/simulator.md). `init` makes a
 * root that says "veritee simulator (NOT AMD)"; `report` signs version-3 reports
 * with it. Nothing verifies them unless that root is trusted explicitly.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/macro.h"
#include "veritee/sim.h"

static const char init_usage[] = "usage: veritee sim init DIR [--force]";
static const char report_usage[] =
        "usage: veritee sim report DIR --report-data HEX [--measurement HEX] [--host-data HEX]\n"
        "           [--debug] [--vmpl N] [--tcb BL:TEE:SNP:UCODE] [--guest-svn N] [--policy HEX]\n"
        "           [-o REPORT_FILE] [--chain-out PEM_FILE]";

/* Parses a number at s: decimal, or hexadecimal with 0x (hex: always hexadecimal,
 * 0x optional). No sign, no blanks; *end is where it stopped. */
static bool parse_num(const char *s, bool hex, unsigned long long max, unsigned long long *ret,
                      const char **end)
{
        int base = hex ? 16 : 10;
        char *e = NULL;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
        }
        /* strtoull would accept a second 0x, a sign or blanks: only digits may start */
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                return false;
        if (!(base == 16 ? isxdigit((unsigned char)s[0]) : isdigit((unsigned char)s[0])))
                return false;
        errno = 0;
        unsigned long long v = strtoull(s, &e, base);
        if (errno != 0 || v > max)
                return false;
        *ret = v;
        *end = e;
        return true;
}

/* A whole-string number. */
static bool parse_uint(const char *s, bool hex, unsigned long long max, unsigned long long *ret)
{
        const char *end;
        unsigned long long v;
        if (!parse_num(s, hex, max, &v, &end) || *end)
                return false;
        *ret = v;
        return true;
}

/* BL:TEE:SNP:UCODE, each 0..255 (decimal or 0x hex). */
static bool parse_tcb(const char *s, struct vt_sim_guest *g)
{
        uint8_t *parts[4] = {&g->bootloader, &g->tee, &g->snp, &g->microcode};
        uint8_t v[4];
        for (int i = 0; i < 4; i++) {
                unsigned long long x;
                const char *end;
                if (!parse_num(s, false, 255, &x, &end) || *end != (i < 3 ? ':' : '\0'))
                        return false;
                v[i] = (uint8_t)x;
                s = end + 1;
        }
        for (int i = 0; i < 4; i++)
                *parts[i] = v[i];
        return true;
}

/* Exactly n bytes of hex (pad: at most n, zero-padded on the right). */
static bool parse_hex(const char *s, uint8_t *out, size_t n, bool pad)
{
        uint8_t buf[64];
        size_t len = strlen(s);
        if (n > sizeof(buf) || len % 2 || len > 2 * n || (!pad && len != 2 * n))
                return false;
        memset(buf, 0, sizeof(buf));
        if (vt_hex_decode(s, buf, n) < 0)
                return false;
        memcpy(out, buf, n);
        return true;
}

/* dir + "/" + name in a malloc'd string; NULL when out of memory. */
static char *join(const char *dir, const char *name)
{
        size_t n = strlen(dir) + 1 + strlen(name) + 1;
        char *p = malloc(n);
        if (p)
                snprintf(p, n, "%s/%s", dir, name);
        return p;
}

static int print_json(json_t *o)
{
        char *s = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s) {
                fprintf(stderr, "veritee: out of memory\n");
                return EXIT_REJECTED;
        }
        printf("%s\n", s);
        free(s);
        return 0;
}

/* After getopt_long returned '?': optopt is the letter of an unknown short option,
 * 0 for an unknown long one (then the word just consumed names it). */
static int unknown_option(const char *verb, char **argv)
{
        if (optopt)
                return cli_usage_error("sim %s: unknown option -%c", verb, optopt);
        return cli_usage_error("sim %s: unknown option \"%s\"", verb, argv[optind - 1]);
}

static int fail(const char *verb, int e, const struct vt_diag *d)
{
        /* library reasons already start with "sim: " */
        if (d->msg[0])
                fprintf(stderr, "veritee: %s\n", d->msg);
        else
                fprintf(stderr, "veritee: sim %s: %s\n", verb, vt_strerror(e));
        return EXIT_REJECTED;
}

static int sim_init(int argc, char **argv)
{
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        _cleanup_free_ char *root = NULL, *guest = NULL;
        struct vt_diag d = {0};
        bool force = false;
        int c, e;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case 'h':
                        puts(init_usage);
                        return 0;
                default:
                        return unknown_option("init", argv);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error("%s", init_usage);
        const char *dir = argv[optind];
        if ((e = vt_sim_init(dir, force, &d)) < 0)
                return fail("init", e, &d);
        if (vt_sim_root_path(dir, &root) < 0 || !(guest = join(dir, "guest.json"))) {
                fprintf(stderr, "veritee: out of memory\n");
                return EXIT_REJECTED;
        }
        return print_json(json_pack("{s:s, s:s}", "root", root, "guest", guest));
}

/* What `veritee sim report` was asked to do; NULL options keep the guest's values. */
struct report_args {
        const char *dir, *report_data, *measurement, *host_data, *vmpl, *tcb, *svn, *policy, *out,
                *chain_out;
        bool debug;
};

/* Returned by report_parse_options when the command goes on (0 is an exit code). */
#define SIM_GO_ON (-1)

/* Reads the command line into *a; returns SIM_GO_ON or the exit code (help, usage error). */
static int report_parse_options(int argc, char **argv, struct report_args *a)
{
        static const struct option opts[] = {
                {"report-data", required_argument, NULL, 'r'},
                {"measurement", required_argument, NULL, 'm'},
                {"host-data", required_argument, NULL, 'H'},
                {"debug", no_argument, NULL, 'D'},
                {"vmpl", required_argument, NULL, 'v'},
                {"tcb", required_argument, NULL, 't'},
                {"guest-svn", required_argument, NULL, 's'},
                {"policy", required_argument, NULL, 'p'},
                {"output", required_argument, NULL, 'o'},
                {"chain-out", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        a->report_data = optarg;
                        break;
                case 'm':
                        a->measurement = optarg;
                        break;
                case 'H':
                        a->host_data = optarg;
                        break;
                case 'D':
                        a->debug = true;
                        break;
                case 'v':
                        a->vmpl = optarg;
                        break;
                case 't':
                        a->tcb = optarg;
                        break;
                case 's':
                        a->svn = optarg;
                        break;
                case 'p':
                        a->policy = optarg;
                        break;
                case 'o':
                        a->out = optarg;
                        break;
                case 'c':
                        a->chain_out = optarg;
                        break;
                case 'h':
                        puts(report_usage);
                        return 0;
                case ':':
                        return cli_usage_error("sim report: %s needs a value", argv[optind - 1]);
                default:
                        return unknown_option("report", argv);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error("usage: veritee sim report DIR --report-data HEX [OPTIONS]");
        a->dir = argv[optind];
        return SIM_GO_ON;
}

/* Checks every option value, before the simulator directory is touched: the report data into
 * rd, the guest overrides into *o. Returns 0 or EXIT_USAGE after saying which option is wrong. */
static int report_check_options(const struct report_args *a, uint8_t rd[64], struct vt_sim_guest *o)
{
        unsigned long long n;

        if (!a->report_data)
                return cli_usage_error("sim report: --report-data HEX is required");
        if (!parse_hex(a->report_data, rd, 64, true))
                return cli_usage_error("sim report: --report-data must be at most 64 bytes of hex");
        if (a->measurement && !parse_hex(a->measurement, o->measurement, 48, false))
                return cli_usage_error("sim report: --measurement must be 48 bytes of hex");
        if (a->host_data && !parse_hex(a->host_data, o->host_data, 32, false))
                return cli_usage_error("sim report: --host-data must be 32 bytes of hex");
        if (a->vmpl && !parse_uint(a->vmpl, false, 3, &n))
                return cli_usage_error("sim report: --vmpl must be 0..3");
        o->vmpl = a->vmpl ? (uint32_t)n : 0;
        if (a->tcb && !parse_tcb(a->tcb, o))
                return cli_usage_error(
                        "sim report: --tcb must be BL:TEE:SNP:UCODE, each 0..255 (e.g. 3:0:8:115)");
        if (a->svn && !parse_uint(a->svn, false, UINT32_MAX, &n))
                return cli_usage_error("sim report: --guest-svn must be 0..4294967295");
        o->guest_svn = a->svn ? (uint32_t)n : 0;
        if (a->policy && (!parse_uint(a->policy, true, UINT64_MAX, &n) ||
                          !(n & VT_SNP_POLICY_RESERVED1) || (n >> 26) != 0))
                return cli_usage_error("sim report: --policy must be hex with bit 17 set and bits "
                                       "63:26 clear (e.g. 30000)");
        o->policy = a->policy ? n : 0;
        return 0;
}

/* Puts the overrides the options asked for (from o) into the guest g. */
static void report_apply(const struct report_args *a, const struct vt_sim_guest *o,
                         struct vt_sim_guest *g)
{
        if (a->measurement)
                memcpy(g->measurement, o->measurement, sizeof(g->measurement));
        if (a->host_data)
                memcpy(g->host_data, o->host_data, sizeof(g->host_data));
        if (a->vmpl)
                g->vmpl = o->vmpl;
        if (a->tcb) {
                g->bootloader = o->bootloader;
                g->tee = o->tee;
                g->snp = o->snp;
                g->microcode = o->microcode;
        }
        if (a->svn)
                g->guest_svn = o->guest_svn;
        if (a->policy)
                g->policy = o->policy;
        if (a->debug)
                g->policy |= VT_SNP_POLICY_DEBUG;
}

/* Writes the report and the chain (into the directory unless -o/--chain-out say otherwise) and
 * prints where they went; returns the exit code. */
static int report_write(const struct report_args *a, const uint8_t *rep, size_t rep_len,
                        const char *chain)
{
        _cleanup_free_ char *out_path = NULL, *chain_path = NULL;
        const char *out = a->out, *chain_out = a->chain_out;

        if ((!out && !(out_path = join(a->dir, "report.bin"))) ||
            (!chain_out && !(chain_path = join(a->dir, "chain.pem")))) {
                fprintf(stderr, "veritee: out of memory\n");
                return EXIT_REJECTED;
        }
        if (!out)
                out = out_path;
        if (!chain_out)
                chain_out = chain_path;
        if (vt_write_file_atomic(out, rep, rep_len, 0644) < 0) {
                fprintf(stderr, "veritee: sim report: cannot write %s\n", out);
                return EXIT_REJECTED;
        }
        if (vt_write_file_atomic(chain_out, chain, strlen(chain), 0644) < 0) {
                fprintf(stderr, "veritee: sim report: cannot write %s\n", chain_out);
                return EXIT_REJECTED;
        }
        return print_json(json_pack("{s:s, s:s}", "report", out, "chain", chain_out));
}

static int sim_report(int argc, char **argv)
{
        struct report_args a = {0};
        _cleanup_free_ char *chain = NULL;
        uint8_t rd[64] = {0}, rep[VT_SNP_REPORT_SIZE];
        struct vt_sim_guest g, o = {0};
        struct vt_diag d = {0};
        int e;

        if ((e = report_parse_options(argc, argv, &a)) != SIM_GO_ON)
                return e;
        if ((e = report_check_options(&a, rd, &o)) != 0)
                return e;
        if ((e = vt_sim_load_guest(a.dir, &g, &d)) < 0)
                return fail("report", e, &d);
        report_apply(&a, &o, &g);
        if ((e = vt_sim_report(a.dir, &g, rd, rep, &chain, &d)) < 0)
                return fail("report", e, &d);
        return report_write(&a, rep, sizeof(rep), chain);
}

int cmd_sim(int argc, char **argv)
{
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                          strcmp(argv[1], "help") == 0)) {
                printf("%s\n%s\n", init_usage, report_usage);
                return 0;
        }
        if (argc < 2)
                return cli_usage_error("usage: veritee sim init|report DIR ...");
        if (strcmp(argv[1], "init") == 0)
                return sim_init(argc - 1, argv + 1);
        if (strcmp(argv[1], "report") == 0)
                return sim_report(argc - 1, argv + 1);
        return cli_usage_error("sim: unknown command \"%s\" (known: init, report)", argv[1]);
}
