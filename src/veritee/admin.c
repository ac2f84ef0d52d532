/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee admin: keys and bearer tokens for veriteed's admin API (docs/admin.md).
 * `keygen` writes an Ed25519 key pair; `token` signs a token with a role. The private
 * key is only ever read by the library, which cleanses its bytes; nothing here prints
 * it.
 */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "token/admin.h"
#include "util/macro.h"

#define DEFAULT_PREFIX "./veritee-admin"

static const char keygen_usage[] =
        "usage: veritee admin keygen [--out PREFIX]\n"
        "  writes PREFIX.key (Ed25519 private key, mode 0600) and PREFIX.pub (public key);\n"
        "  PREFIX defaults to " DEFAULT_PREFIX "; existing files are never overwritten";
static const char token_usage[] =
        "usage: veritee admin token --key PRIVATE_KEY --role admin|writer|reader [--repo NAME]...\n"
        "           [--ttl DURATION] [--sub TEXT]\n"
        "  prints a bearer token for veriteed's admin API; a writer needs one --repo per\n"
        "  repository (at most 16); DURATION is 3600s, 30m, 1h or 7d (default 1h, at most 30d)";

static int unknown_option(const char *verb, char **argv)
{
        if (optopt)
                return cli_usage_error("admin %s: unknown option -%c", verb, optopt);
        return cli_usage_error("admin %s: unknown option \"%s\"", verb, argv[optind - 1]);
}

static int fail(const struct vt_diag *d, int e)
{
        if (d->msg[0])
                fprintf(stderr, "veritee: %s\n", d->msg);
        else
                fprintf(stderr, "veritee: admin: %s\n", vt_strerror(e));
        return EXIT_REJECTED;
}

/* prefix + suffix in a malloc'd string; NULL when out of memory. */
static char *concat(const char *prefix, const char *suffix)
{
        size_t n = strlen(prefix) + strlen(suffix) + 1;
        char *p = malloc(n);
        if (p)
                snprintf(p, n, "%s%s", prefix, suffix);
        return p;
}

static bool yaml_safe(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '/' || c == '.' || c == '_' || c == '-' || c == '+' || c == '@';
}

/* Prints a path (it ends in ".pub", so never a YAML bool, null or number) as a flow
 * scalar: plain when every character is safe and it does not start with an indicator,
 * else double-quoted. */
static void print_yaml_scalar(const char *s)
{
        bool plain = s[0] && s[0] != '-' && s[0] != '@';
        for (const char *c = s; *c && plain; c++)
                plain = yaml_safe(*c);
        if (plain) {
                fputs(s, stdout);
                return;
        }
        putchar('"');
        for (const char *c = s; *c; c++) {
                unsigned char u = (unsigned char)*c;
                if (u == '"' || u == '\\')
                        printf("\\%c", u);
                else if (u < 0x20 || u == 0x7f)
                        printf("\\x%02x", u);
                else
                        putchar(u);
        }
        putchar('"');
}

static int admin_keygen(int argc, char **argv)
{
        static const struct option opts[] = {
                {"out", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        _cleanup_free_ char *priv = NULL, *pub = NULL, *abs_pub = NULL;
        const char *prefix = DEFAULT_PREFIX;
        struct vt_admin_keys *keys = NULL;
        struct vt_diag d = {0};
        int c, e;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        prefix = optarg;
                        break;
                case 'h':
                        puts(keygen_usage);
                        return 0;
                case ':':
                        return cli_usage_error("admin keygen: %s needs a value", argv[optind - 1]);
                default:
                        return unknown_option("keygen", argv);
                }
        }
        if (optind != argc)
                return cli_usage_error("admin keygen: unexpected argument \"%s\"", argv[optind]);
        size_t pl = strlen(prefix);
        if (pl == 0 || prefix[pl - 1] == '/')
                return cli_usage_error("admin keygen: --out PREFIX names files (PREFIX.key, "
                                       "PREFIX.pub), not a directory");
        if (!(priv = concat(prefix, ".key")) || !(pub = concat(prefix, ".pub"))) {
                fprintf(stderr, "veritee: out of memory\n");
                return EXIT_REJECTED;
        }
        if ((e = vt_admin_keygen(priv, pub, &d)) < 0)
                return fail(&d, e);

        /* veriteed runs elsewhere: give it an absolute path */
        abs_pub = realpath(pub, NULL);
        const char *paths[] = {pub};
        vt_diag_clear(&d);
        if (vt_admin_keys_load(paths, 1, &keys, &d) < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg);
                return EXIT_REJECTED;
        }
        printf("private key: %s (mode 0600; keep it secret: it signs admin tokens)\n", priv);
        printf("public key:  %s\n", pub);
        printf("key id:      %s\n", vt_admin_keys_kid(keys, 0));
        printf("add to veriteed's configuration:\nadmin:\n  keys: [");
        print_yaml_scalar(abs_pub ? abs_pub : pub);
        printf("]\n");
        vt_admin_keys_free(keys);
        return 0;
}

/* DURATION: digits with an optional unit s, m, h or d (none: seconds); 1 s..30 days. */
static bool parse_ttl(const char *s, int64_t *ret)
{
        uint64_t v = 0, unit = 1;
        size_t i = 0;
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                if (i >= 9)
                        return false; /* more than 30 days whatever the unit */
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (i == 0)
                return false;
        switch (s[i]) {
        case 0:
                break;
        case 's':
                break;
        case 'm':
                unit = 60;
                break;
        case 'h':
                unit = 3600;
                break;
        case 'd':
                unit = 86400;
                break;
        default:
                return false;
        }
        if (s[i] && s[i + 1])
                return false;
        v *= unit;
        if (v < 1 || v > VT_ADMIN_MAX_TTL)
                return false;
        *ret = (int64_t)v;
        return true;
}

static bool valid_text(const char *s, size_t max)
{
        size_t n = strlen(s);
        if (n == 0 || n > max)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static int admin_token(int argc, char **argv)
{
        static const struct option opts[] = {
                {"key", required_argument, NULL, 'k'},
                {"role", required_argument, NULL, 'r'},
                {"repo", required_argument, NULL, 'R'},
                {"ttl", required_argument, NULL, 't'},
                {"sub", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *key = NULL, *role_s = NULL, *ttl_s = NULL, *sub = NULL;
        const char *repos[VT_ADMIN_MAX_REPOS];
        size_t n_repos = 0;
        enum vt_admin_role role;
        int64_t ttl = 3600;
        struct vt_diag d = {0};
        char *jwt = NULL;
        int c, e;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case 'k':
                        key = optarg;
                        break;
                case 'r':
                        role_s = optarg;
                        break;
                case 'R':
                        if (n_repos == VT_ADMIN_MAX_REPOS)
                                return cli_usage_error("admin token: at most %d --repo",
                                                       VT_ADMIN_MAX_REPOS);
                        if (!valid_text(optarg, VT_REPO_NAME_MAX))
                                return cli_usage_error("admin token: --repo must be 1..%d "
                                                       "bytes without control characters",
                                                       VT_REPO_NAME_MAX);
                        repos[n_repos++] = optarg;
                        break;
                case 't':
                        ttl_s = optarg;
                        break;
                case 's':
                        sub = optarg;
                        break;
                case 'h':
                        puts(token_usage);
                        return 0;
                case ':':
                        return cli_usage_error("admin token: %s needs a value", argv[optind - 1]);
                default:
                        return unknown_option("token", argv);
                }
        }
        if (optind != argc)
                return cli_usage_error("admin token: unexpected argument \"%s\"", argv[optind]);
        if (!key)
                return cli_usage_error("admin token: --key PRIVATE_KEY is required");
        if (!role_s)
                return cli_usage_error("admin token: --role admin|writer|reader is required");
        if (vt_admin_role_parse(role_s, &role) < 0)
                return cli_usage_error("admin token: --role must be admin, writer or reader");
        if (role == VT_ROLE_WRITER && n_repos == 0)
                return cli_usage_error("admin token: --role writer needs at least one --repo");
        if (role != VT_ROLE_WRITER && n_repos > 0)
                return cli_usage_error("admin token: --repo only applies to --role writer");
        if (ttl_s && !parse_ttl(ttl_s, &ttl))
                return cli_usage_error("admin token: --ttl must be a duration like 3600s, 30m, "
                                       "1h or 7d, at most 30d");
        if (sub && !valid_text(sub, VT_ADMIN_SUB_MAX - 1))
                return cli_usage_error("admin token: --sub must be 1..%d bytes without control "
                                       "characters",
                                       VT_ADMIN_SUB_MAX - 1);

        if ((e = vt_admin_token_make(key, role, repos, n_repos, ttl, sub, &jwt, &d)) < 0)
                return fail(&d, e);
        size_t n = strlen(jwt);
        bool ok = printf("%s\n", jwt) > 0 && fflush(stdout) == 0;
        OPENSSL_cleanse(jwt, n);
        free(jwt);
        if (!ok) {
                fprintf(stderr, "veritee: admin token: cannot write to stdout\n");
                return EXIT_REJECTED;
        }
        return 0;
}

int cmd_admin(int argc, char **argv)
{
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                          strcmp(argv[1], "help") == 0)) {
                printf("%s\n%s\n", keygen_usage, token_usage);
                return 0;
        }
        if (argc < 2)
                return cli_usage_error("usage: veritee admin keygen|token ...");
        if (strcmp(argv[1], "keygen") == 0)
                return admin_keygen(argc - 1, argv + 1);
        if (strcmp(argv[1], "token") == 0)
                return admin_token(argc - 1, argv + 1);
        if (strcmp(argv[1], "kekgen") == 0 || strcmp(argv[1], "rotate-kek") == 0)
                return cmd_admin_kek(argc - 1, argv + 1);
        return cli_usage_error(
                "admin: unknown command \"%s\" (known: keygen, token, kekgen, rotate-kek)",
                argv[1]);
}
