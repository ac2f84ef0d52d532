/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator's commands against a running veriteed's admin API:
 *   veritee secret put REPO/TYPE/TAG FILE [--policy FILE] | rm REPO/TYPE/TAG | ls [--repo R]
 *   veritee secret import DIR|FILE.jsonl [--policy FILE] [--batch N] (import.c)
 *   veritee policy get|set REPO/TYPE/TAG [FILE]
 *   veritee refval add ID --tee snp|sim FILE | ls | rm ID
 * Each takes --url URL (alias --server; else $VERITEE_SERVER; default
 * http://127.0.0.1:8080) and --token FILE (else $VERITEE_TOKEN; an admin JWT, see `veritee
 * admin token`), prints JSON with --json, and says what failed in one line.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "collateral/http.h"
#include "store/store.h"
#include "util/file.h"
#include "util/json.h"

#define MAX_ANSWER (8u << 20)

struct remote {
        const char *server; /* as given (--url/--server), may be NULL */
        char *url;          /* what is used: cli_server() */
        const char *token_file;
        bool json;
        char *token;
};

struct buf {
        char *p;
        size_t len;
};

long cli_http_call(const char *server, const char *token, const char *method, const char *path,
                   const void *body, size_t len, const char *content_type, size_t max,
                   char **ret_body, size_t *ret_len)
{
        _cleanup_free_ char *url = NULL, *authz = NULL, *ct = NULL;
        struct vt_http_response rs = {0};
        struct vt_diag d = {0};
        if (asprintf(&url, "%s%s", server, path) < 0 ||
            asprintf(&authz, "Authorization: Bearer %s", token) < 0 ||
            asprintf(&ct, "Content-Type: %s", content_type ? content_type : "application/json") < 0)
                return -1;
        const char *headers[] = {authz, ct, NULL};
        struct vt_http_request rq = {.method = method,
                                     .url = url,
                                     .headers = headers,
                                     .body = body,
                                     .body_len = len,
                                     .max = max};
        int e = vt_http_do(&rq, &rs, &d);
        OPENSSL_cleanse(authz, strlen(authz));
        if (e < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg);
                return -1;
        }
        *ret_body = (char *)TAKE_PTR(rs.body);
        *ret_len = rs.len;
        long status = rs.status;
        vt_http_response_done(&rs);
        return status;
}

/* One admin request; returns the HTTP status (or -1) and the answer. */
static long call(struct remote *r, const char *method, const char *path, const void *body,
                 size_t len, const char *content_type, struct buf *ans)
{
        return cli_http_call(r->url, r->token, method, path, body, len, content_type, MAX_ANSWER,
                             &ans->p, &ans->len);
}

/* Whether t (n bytes) looks like a compact JWS: three base64url parts, two dots. */
static bool looks_like_jwt(const char *t, size_t n)
{
        size_t dots = 0;
        for (size_t i = 0; i < n; i++) {
                char c = t[i];
                if (c == '.')
                        dots++;
                else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_'))
                        return false;
        }
        return dots == 2;
}

char *cli_read_token(const char *path)
{
        size_t n;
        uint8_t *t = cli_read(path, 64u * 1024u, &n);
        if (!t)
                return NULL;
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
                t[--n] = 0;
        const char *s = (const char *)t, *why = NULL;
        if (strstr(s, "-----BEGIN"))
                why = strstr(s, "PRIVATE KEY") ? "a PEM private key"
                                               : "a PEM file (a key or certificate)";
        else if (n > 0 && s[0] == '{')
                why = "JSON (a key?)";
        else if (!looks_like_jwt(s, n))
                why = "no JWT (three base64url parts separated by dots)";
        if (why) {
                fprintf(stderr,
                        "veritee: %s holds %s, not an admin token; --token (or VERITEE_TOKEN) "
                        "names a file with a token, made from the admin key with: veritee admin "
                        "token --key PRIVATE_KEY --role admin > admin.jwt\n",
                        path, why);
                OPENSSL_clear_free(t, n);
                return NULL;
        }
        return (char *)t;
}

/* print_resources prints a list of resources, one line each. */
static void print_resources(json_t *list)
{
        size_t i;
        json_t *v;
        json_array_foreach (list, i, v) {
                printf("%s\t%lld bytes\tpolicy:%s\n", json_string_value(json_object_get(v, "path")),
                       (long long)json_integer_value(json_object_get(v, "size")),
                       json_is_true(json_object_get(v, "has_policy")) ? "yes"
                                                                      : "NO (never released)");
        }
}

/* Prints the outcome: the JSON answer with --json, else a line; returns the exit code. */
static int report(struct remote *r, long status, struct buf *ans, const char *what)
{
        json_auto_t *j = ans->p ? json_loads(ans->p, 0, NULL) : NULL;
        int rc = status == 200 ? 0 : EXIT_REJECTED;
        if (status < 0)
                rc = EXIT_REJECTED;
        else if (status != 200) {
                const char *detail = json_string_value(json_object_get(j, "detail"));
                if (detail)
                        fprintf(stderr, "veritee: %s: HTTP %ld: %s\n", what, status, detail);
                else if (ans->p && ans->len > 0 && !j)
                        /* never someone else's HTML page in a terminal */
                        fprintf(stderr,
                                "veritee: %s: HTTP %ld, and the answer is not veriteed's JSON "
                                "(%zu bytes%s): is %s a veriteed?\n",
                                what, status, ans->len,
                                ans->p[strspn(ans->p, " \t\r\n")] == '<' ? " of HTML" : "", r->url);
                else
                        fprintf(stderr, "veritee: %s: HTTP %ld: %s\n", what, status,
                                ans->p ? ans->p : "");
        } else if (r->json || !json_is_object(j)) {
                printf("%s\n", ans->p ? ans->p : "");
        } else {
                const char *k;
                json_t *v;
                json_t *list = json_object_get(j, "resources");
                json_t *rv = json_object_get(j, "reference_values");
                size_t i;
                if (json_is_array(list)) {
                        print_resources(list);
                } else if (json_is_array(rv)) {
                        json_array_foreach (rv, i, v) {
                                _cleanup_free_ char *val =
                                        json_dumps(json_object_get(v, "value"), JSON_COMPACT);
                                const char *src = json_string_value(json_object_get(v, "source"));
                                printf("%s\t%s\t%s\t%s\n",
                                       json_string_value(json_object_get(v, "id")),
                                       json_string_value(json_object_get(v, "tee")),
                                       src ? src : "admin API", val ? val : "");
                        }
                } else {
                        json_object_foreach (j, k, v) {
                                _cleanup_free_ char *val =
                                        json_is_string(v)
                                                ? NULL
                                                : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                                printf("%s: %s\n", k,
                                       json_is_string(v) ? json_string_value(v) : (val ? val : ""));
                        }
                }
        }
        free(ans->p);
        return rc;
}

/* What a command is given: the verb, its positional arguments and the options. */
struct remote_args {
        const char *verb;
        char **pos;
        int n;
        const char *tee, *policy, *repo, *from_env, *limit, *batch;
};

static int parse_common(int argc, char **argv, struct remote *r, struct remote_args *a,
                        const char *use)
{
        static const struct option opts[] = {
                {"url", required_argument, NULL, 's'},
                {"server", required_argument, NULL, 's'},
                {"token", required_argument, NULL, 't'},
                {"from-env", required_argument, NULL, 'e'},
                {"limit", required_argument, NULL, 'l'},
                {"batch", required_argument, NULL, 'b'},
                {"json", no_argument, NULL, 'j'},
                {"tee", required_argument, NULL, 'T'},
                {"policy", required_argument, NULL, 'p'},
                {"repo", required_argument, NULL, 'r'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        r->server = optarg;
                        break;
                case 't':
                        r->token_file = optarg;
                        break;
                case 'j':
                        r->json = true;
                        break;
                case 'T':
                        a->tee = optarg;
                        break;
                case 'p':
                        a->policy = optarg;
                        break;
                case 'r':
                        a->repo = optarg;
                        break;
                case 'e':
                        a->from_env = optarg;
                        break;
                case 'l':
                        if (strspn(optarg, "0123456789") != strlen(optarg) || !*optarg ||
                            strlen(optarg) > 5) {
                                cli_usage_error("--limit must be a page size of 1..10000");
                                return -1;
                        }
                        a->limit = optarg;
                        break;
                case 'b':
                        if (strspn(optarg, "0123456789") != strlen(optarg) || !*optarg ||
                            strlen(optarg) > 4) {
                                cli_usage_error("--batch must be 1..%d", VT_STORE_BATCH_MAX);
                                return -1;
                        }
                        a->batch = optarg;
                        break;
                case 'h':
                        puts(use);
                        return 1;
                default:
                        return -1;
                }
        }
        if (!(r->url = cli_server(r->server, "http://127.0.0.1:8080")))
                return -1;
        if (!(r->token_file = cli_token_path(r->token_file))) {
                cli_usage_error("--token FILE (or VERITEE_TOKEN=FILE) is required (make one with "
                                "veritee admin token)");
                return -1;
        }
        if (!(r->token = cli_read_token(r->token_file)))
                return -1;
        return 0;
}

static void remote_done(struct remote *r)
{
        free(r->url);
        if (r->token)
                OPENSSL_clear_free(r->token, strlen(r->token));
}

static int need_path(const char *p)
{
        size_t rl = p ? strcspn(p, "/") : 0;
        if (rl > VT_REPO_NAME_MAX)
                return cli_usage_error("\"%.*s...\": repository name of %zu bytes is too long "
                                       "(at most %d)",
                                       16, p, rl, VT_REPO_NAME_MAX);
        if (!p || !vt_resource_path_valid(p))
                return cli_usage_error(
                        "\"%s\" is not REPO/TYPE/TAG (segments [A-Za-z0-9_-][A-Za-z0-9_.-]*)",
                        p ? p : "");
        return 0;
}

/* The value of `secret put`: the FILE argument ("-": standard input) or the environment
 * variable of --from-env. NULL after saying why. */
static uint8_t *read_secret(const struct remote_args *a, size_t *ret_len)
{
        if (!a->from_env)
                return cli_read(a->pos[1], 16u << 20, ret_len);
        const char *v = getenv(a->from_env);
        if (!v) {
                fprintf(stderr, "veritee: secret put: --from-env %s: the variable is not set\n",
                        a->from_env);
                return NULL;
        }
        size_t n = strlen(v);
        uint8_t *d = malloc(n + 1);
        if (!d)
                return NULL;
        memcpy(d, v, n + 1);
        *ret_len = n;
        return d;
}

/* What a stored secret means for its release, in words: a secret without a policy is
 * never released (deny by default), which a bare "stored" hid. */
static int put_said(const struct remote_args *a, struct buf *ans)
{
        json_auto_t *j = ans->p ? json_loads(ans->p, 0, NULL) : NULL;
        long long size = (long long)json_integer_value(json_object_get(j, "size"));
        if (a->policy)
                printf("stored %s (%lld bytes) with the release policy in %s\n", a->pos[0], size,
                       a->policy);
        else if (json_is_true(json_object_get(j, "has_policy")))
                printf("stored %s (%lld bytes); its release policy is unchanged\n", a->pos[0],
                       size);
        else
                printf("stored %s (%lld bytes)\n"
                       "note: %s has no release policy, so it is released to nobody (deny by "
                       "default) until one is set: veritee policy set %s POLICY.json\n",
                       a->pos[0], size, a->pos[0], a->pos[0]);
        free(ans->p);
        return 0;
}

/* secret ls: every page of /kbs/v0/resources, following "next" (--limit: the page
 * size), printed as one listing (with --json, one object holding them all). Each page is
 * printed as it arrives and then freed, so that listing a million secrets takes the
 * memory of one page; should a later page fail, the pages before have been printed (with
 * --json, an unterminated object) and the exit status says it failed. */
static int list_all(struct remote *r, const struct remote_args *a, const char *repo_esc)
{
        _cleanup_free_ char *cursor = NULL;
        char path[1024];
        size_t printed = 0;
        if (r->json)
                fputs("{\"resources\":[", stdout);
        for (;;) {
                struct buf ans = {0};
                int n = snprintf(path, sizeof(path), "/kbs/v0/resources?limit=%s%s%s%s%s",
                                 a->limit ? a->limit : "1000", repo_esc ? "&repo=" : "",
                                 repo_esc ? repo_esc : "", cursor ? "&cursor=" : "",
                                 cursor ? cursor : "");
                if (n < 0 || (size_t)n >= sizeof(path))
                        return EXIT_REJECTED;
                long st = call(r, "GET", path, NULL, 0, NULL, &ans);
                if (st != 200) {
                        fflush(stdout);
                        return report(r, st, &ans, "secret ls");
                }
                json_auto_t *j = ans.p ? json_loads(ans.p, 0, NULL) : NULL;
                free(ans.p);
                json_t *page = json_object_get(j, "resources");
                if (!json_is_array(page)) {
                        fflush(stdout);
                        fprintf(stderr, "veritee: secret ls: the answer has no resources list\n");
                        return EXIT_REJECTED;
                }
                if (r->json) {
                        size_t i;
                        json_t *v;
                        json_array_foreach (page, i, v) {
                                _cleanup_free_ char *t = json_dumps(v, JSON_COMPACT);
                                if (!t)
                                        return EXIT_REJECTED;
                                printf("%s%s", printed++ ? "," : "", t);
                        }
                } else {
                        print_resources(page);
                }
                const char *next = json_string_value(json_object_get(j, "next"));
                free(cursor);
                cursor = next ? strdup(next) : NULL;
                if (next && !cursor)
                        return EXIT_REJECTED; /* out of memory: never a silently short list */
                if (!cursor)
                        break;
        }
        if (r->json)
                puts("]}");
        return fflush(stdout) == 0 ? 0 : EXIT_REJECTED;
}

static int secret_run(struct remote *r, const struct remote_args *a, const char *use)
{
        struct buf ans = {0};
        char path[512];
        if (strcmp(a->verb, "put") == 0 && a->n == (a->from_env ? 1 : 2)) {
                if (need_path(a->pos[0]))
                        return EXIT_USAGE;
                size_t n, pn = 0;
                uint8_t *data = read_secret(a, &n);
                _cleanup_free_ uint8_t *pol =
                        a->policy ? cli_read(a->policy, 64u * 1024u, &pn) : NULL;
                if (!data || (a->policy && !pol)) {
                        if (data)
                                OPENSSL_clear_free(data, n);
                        return EXIT_USAGE;
                }
                long st;
                if (!a->policy) {
                        snprintf(path, sizeof(path), "/kbs/v0/resource/%s", a->pos[0]);
                        st = call(r, "POST", path, data, n, "application/octet-stream", &ans);
                        OPENSSL_clear_free(data, n);
                } else {
                        /* Value and policy in one request, committed in one transaction:
                         * the policy, a NUL byte, the value (docs/admin.md). A refused
                         * policy leaves the old value and policy in place. */
                        if (memchr(pol, 0, pn)) {
                                OPENSSL_clear_free(data, n);
                                return cli_usage_error("%s holds a NUL byte: not a JSON policy",
                                                       a->policy);
                        }
                        size_t bl = pn + 1 + n;
                        uint8_t *body = malloc(bl);
                        if (!body) {
                                OPENSSL_clear_free(data, n);
                                return EXIT_REJECTED;
                        }
                        memcpy(body, pol, pn);
                        body[pn] = 0;
                        memcpy(body + pn + 1, data, n);
                        OPENSSL_clear_free(data, n);
                        snprintf(path, sizeof(path), "/kbs/v0/resource-policy/%s", a->pos[0]);
                        st = call(r, "PUT", path, body, bl, "application/octet-stream", &ans);
                        OPENSSL_clear_free(body, bl);
                }
                if (st != 200 || r->json)
                        return report(r, st, &ans, "secret put");
                return put_said(a, &ans);
        }
        if (strcmp(a->verb, "import") == 0 && a->n == 1)
                return cli_secret_import(r->url, r->token, a->pos[0], a->policy,
                                         a->batch ? strtoul(a->batch, NULL, 10) : 500, r->json);
        if (strcmp(a->verb, "rm") == 0 && a->n == 1) {
                if (need_path(a->pos[0]))
                        return EXIT_USAGE;
                snprintf(path, sizeof(path), "/kbs/v0/resource/%s", a->pos[0]);
                return report(r, call(r, "DELETE", path, NULL, 0, NULL, &ans), &ans, "secret rm");
        }
        if (strcmp(a->verb, "ls") == 0 && a->n == 0) {
                _cleanup_free_ char *esc = NULL;
                if (a->repo && !vt_resource_repo_valid(a->repo))
                        return cli_usage_error("--repo must be a repository name of 1..%d bytes "
                                               "([A-Za-z0-9_-][A-Za-z0-9_.-]*)",
                                               VT_REPO_NAME_MAX);
                if (a->repo && !(esc = curl_easy_escape(NULL, a->repo, 0)))
                        return EXIT_USAGE;
                return list_all(r, a, esc);
        }
        return cli_usage_error("%s", use);
}

static int policy_run(struct remote *r, const struct remote_args *a, const char *use)
{
        struct buf ans = {0};
        char path[512];
        bool get = strcmp(a->verb, "get") == 0, set = strcmp(a->verb, "set") == 0;
        if (!((get && a->n == 1) || (set && a->n == 2)))
                return cli_usage_error("%s", use);
        if (need_path(a->pos[0]))
                return EXIT_USAGE;
        snprintf(path, sizeof(path), "/kbs/v0/resource-policy/%s", a->pos[0]);
        if (get) {
                r->json = true; /* a policy is JSON: print it as it is */
                return report(r, call(r, "GET", path, NULL, 0, NULL, &ans), &ans, "policy get");
        }
        size_t n;
        _cleanup_free_ uint8_t *pol = cli_read(a->pos[1], 64u * 1024u, &n);
        return pol ? report(r, call(r, "PUT", path, pol, n, NULL, &ans), &ans, "policy set")
                   : EXIT_USAGE;
}

static int refval_run(struct remote *r, const struct remote_args *a, const char *use)
{
        struct buf ans = {0};
        char path[512];
        if (strcmp(a->verb, "add") == 0 && a->n == 2 && a->tee) {
                size_t n;
                _cleanup_free_ uint8_t *txt = cli_read(a->pos[1], 256u * 1024u, &n);
                json_auto_t *v = txt ? json_loadb((const char *)txt, n, 0, NULL) : NULL;
                if (!v) {
                        if (txt)
                                fprintf(stderr, "veritee: %s is not JSON\n", a->pos[1]);
                        return EXIT_USAGE;
                }
                json_auto_t *body =
                        json_pack("{s:s, s:s, s:O}", "id", a->pos[0], "tee", a->tee, "value", v);
                _cleanup_free_ char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
                if (!b)
                        return EXIT_USAGE;
                return report(r,
                              call(r, "POST", "/kbs/v0/reference-value", b, strlen(b), NULL, &ans),
                              &ans, "refval add");
        }
        if (strcmp(a->verb, "ls") == 0 && a->n == 0)
                return report(r, call(r, "GET", "/kbs/v0/reference-value", NULL, 0, NULL, &ans),
                              &ans, "refval ls");
        if (strcmp(a->verb, "rm") == 0 && a->n == 1) {
                _cleanup_free_ char *esc = curl_easy_escape(NULL, a->pos[0], 0);
                snprintf(path, sizeof(path), "/kbs/v0/reference-value/%s", esc ? esc : "");
                return report(r, call(r, "DELETE", path, NULL, 0, NULL, &ans), &ans, "refval rm");
        }
        return cli_usage_error("%s", use);
}

/* The shared part of every admin command: options, the token, libcurl, clean-up. */
static int run_remote(int argc, char **argv, const char *use,
                      int (*fn)(struct remote *r, const struct remote_args *a, const char *use))
{
        struct remote r = {0};
        struct remote_args a = {0};
        int rc;
        if (argc < 2)
                return cli_usage_error("%s", use);
        a.verb = argv[1];
        if ((rc = parse_common(argc - 1, argv + 1, &r, &a, use)) != 0) {
                remote_done(&r);
                return rc > 0 ? 0 : EXIT_USAGE;
        }
        a.pos = argv + optind + 1;
        a.n = argc - (optind + 1);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = fn(&r, &a, use);
        remote_done(&r);
        curl_global_cleanup();
        return rc;
}

int cmd_secret(int argc, char **argv)
{
        return run_remote(
                argc, argv,
                "usage: veritee secret put REPO/TYPE/TAG FILE|-|--from-env VAR [--policy FILE] | "
                "rm "
                "REPO/TYPE/TAG | ls [--repo R] [--limit PAGE]\n"
                "       veritee secret import DIR|FILE.jsonl [--policy FILE] [--batch N]\n"
                "  (with --url URL or VERITEE_SERVER, --token FILE or VERITEE_TOKEN, [--json]; "
                "FILE - reads standard input)",
                secret_run);
}

int cmd_policy(int argc, char **argv)
{
        return run_remote(
                argc, argv,
                "usage: veritee policy get REPO/TYPE/TAG | set REPO/TYPE/TAG FILE\n"
                "  (with --url URL or VERITEE_SERVER, --token FILE or VERITEE_TOKEN, [--json])",
                policy_run);
}

int cmd_refval(int argc, char **argv)
{
        return run_remote(argc, argv,
                          "usage: veritee refval add ID --tee "
                          "snp|sim|tdx|sgx|az-snp-vtpm|az-tdx-vtpm FILE | ls "
                          "| rm ID\n"
                          "  (with --url URL or VERITEE_SERVER, --token FILE or VERITEE_TOKEN, "
                          "[--json])",
                          refval_run);
}
