/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee agent: the guest side of the KBS protocol 0.4.0.
 *   veritee agent attest --url URL (alias --kbs) [--tee auto|snp|tdx|az-snp-vtpm|sim] [--sim-dir
 * DIR]
 *                        [--init-data FILE] [--tsm-path DIR] [--sev-guest DEV] [--tcti CONF]
 *                        [--vcek FILE]
 * runs /auth and /attest with an ephemeral P-256 key and prints the attestation token.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "attest/attest.h"
#include "cli.h"
#include "kbs/rcar.h"
#include "provider.h"
#include "util/b64.h"
#include "util/file.h"
#include "collateral/http.h"
#include "crypto/jwe.h"
#include "crypto/jwk.h"
#include "crypto/openssl-util.h"
#include "store/store.h"
#include "util/json.h"
#include "util/toml.h"

#define MAX_ANSWER (4u << 20)

/* POSTs body (JSON) to base+path on the agent's handle (its cookie jar); returns the
 * status and the answer parsed as JSON (NULL if not JSON). */
static int post_json(CURL *c, const char *base, const char *path, const json_t *body, long *status,
                     json_t **ret, struct vt_diag *d)
{
        static const char *const headers[] = {"Content-Type: application/json", NULL};
        _cleanup_free_ char *url = NULL, *txt = json_dumps(body, JSON_COMPACT);
        struct vt_http_response rs = {0};
        if (!txt || asprintf(&url, "%s%s", base, path) < 0)
                return VT_E_NOMEM;
        struct vt_http_request rq = {.url = url,
                                     .headers = headers,
                                     .body = txt,
                                     .body_len = strlen(txt),
                                     .max = MAX_ANSWER,
                                     .handle = c};
        int e = vt_http_do(&rq, &rs, d);
        if (e < 0)
                return e;
        *status = rs.status;
        *ret = rs.body ? json_loads((const char *)rs.body, 0, NULL) : NULL;
        vt_http_response_done(&rs);
        return 0;
}

static int fail_answer(const char *what, long status, json_t *ans, struct vt_diag *d)
{
        const char *detail = json_string_value(json_object_get(ans, "detail"));
        return vt_diag_set(d, VT_E_POLICY, "%s: HTTP %ld%s%s", what, status, detail ? ": " : "",
                           detail ? detail : "");
}

/* An ephemeral P-256 key and its public JWK (alg ECDH-ES+A256KW, as CoCo guests send). */
static int make_tee_key(EVP_PKEY **ret_key, json_t **ret_jwk)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = EVP_EC_gen("P-256");
        int e;
        if (!k)
                return VT_E_CRYPTO;
        if ((e = vt_jwk_from_private(k, ret_jwk)) < 0)
                return e;
        *ret_key = TAKE_PTR(k);
        return 0;
}

/* One agent run: a KBS connection (with its cookie jar), the evidence provider, and,
 * once attested, the TEE key (private, in memory only) and the token. */
struct agent {
        char *base;
        const struct vt_provider *p;
        struct vt_provider_opts po;
        const char *init_data;
        size_t init_len;
        CURL *c;
        EVP_PKEY *key;
        char *token;
        const char *gpu; /* --gpu auto|off|required */
};

/* The additional evidence of this attestation: NVIDIA GPU evidence bound to the device
 * nonce (the first 32 bytes of SHA-384(JCS({nonce, tee-pubkey})), as Trustee's guest binds
 * it), or "" (malloc'd either way). --gpu auto leaves it out quietly where there is no NVIDIA
 * driver at all and says why on other failures; required fails; off never asks. */
static int gpu_evidence(const struct agent *a, const char *nonce, const json_t *jwk, char **ret,
                        struct vt_diag *d)
{
        uint8_t dn[48];
        char *add = NULL;
        struct vt_diag gd = {0};
        if (strcmp(a->gpu, "off") != 0) {
                int e = vt_kbs_device_binding(nonce, jwk, dn);
                if (e < 0)
                        return vt_diag_set(d, e, "cannot compute the device binding");
                e = vt_nvml_collect(dn, &add, &gd);
                if (e < 0 && strcmp(a->gpu, "required") == 0)
                        return vt_diag_set(d, e, "%s (--gpu required)", gd.msg);
                if (e < 0 && !strstr(gd.msg, "libnvidia-ml.so.1 not found"))
                        fprintf(stderr, "veritee: %s; attesting without GPU evidence\n", gd.msg);
        }
        *ret = add ? add : strdup("");
        return *ret ? 0 : VT_E_NOMEM;
}

static void agent_done(struct agent *a)
{
        if (a->c)
                curl_easy_cleanup(a->c);
        EVP_PKEY_free(a->key);
        if (a->token)
                OPENSSL_clear_free(a->token, strlen(a->token));
        free(a->base);
        memset(a, 0, sizeof(*a));
}

static int agent_init(struct agent *a, const char *kbs)
{
        size_t bl = strlen(kbs);
        a->base = strndup(kbs, bl);
        if (!a->base)
                return VT_E_NOMEM;
        while (bl > 0 && a->base[bl - 1] == '/')
                a->base[--bl] = 0;
        a->c = curl_easy_init();
        if (!a->c)
                return VT_E_NOMEM;
        curl_easy_setopt(a->c, CURLOPT_COOKIEFILE,
                         ""); /* in-memory cookie engine: kbs-session-id */
        curl_easy_setopt(a->c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(a->c, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(a->c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(a->c, CURLOPT_USERAGENT, "veritee-agent/" VT_VERSION);
        return 0;
}

/* Runs RCAR: a fresh TEE key, evidence bound to it and the nonce, the token. */
static int agent_attest(struct agent *a, struct vt_diag *d)
{
        json_auto_t *auth = NULL, *chal = NULL, *jwk = NULL, *ev = NULL, *att = NULL, *ans = NULL;
        long status = 0;
        int e;
        EVP_PKEY_free(a->key);
        a->key = NULL;
        if (a->token) {
                OPENSSL_clear_free(a->token, strlen(a->token));
                a->token = NULL;
        }
        auth = json_pack("{s:s, s:s, s:s}", "version", VT_KBS_PROTOCOL_VERSION, "tee", a->p->tee,
                         "extra-params", "");
        if ((e = post_json(a->c, a->base, "/kbs/v0/auth", auth, &status, &chal, d)) < 0)
                return e;
        const char *nonce = json_string_value(json_object_get(chal, "nonce"));
        if (status != 200 || !nonce)
                return fail_answer("auth", status, chal, d);
        if ((e = make_tee_key(&a->key, &jwk)) < 0)
                return vt_diag_set(d, e, "cannot make the TEE key");
        _cleanup_free_ char *additional = NULL;
        if ((e = gpu_evidence(a, nonce, jwk, &additional, d)) < 0)
                return e;
        uint8_t rd[64] = {0};
        if ((e = vt_kbs_runtime_binding(nonce, jwk, additional, rd)) < 0)
                return vt_diag_set(d, e, "cannot compute the runtime-data binding");
        if ((e = a->p->collect(&a->po, rd, &ev, d)) < 0)
                return e;
        att = json_pack("{s:{s:s, s:O}, s:{s:O, s:s}}", "runtime-data", "nonce", nonce,
                        "tee-pubkey", jwk, "tee-evidence", "primary_evidence", ev,
                        "additional_evidence", additional);
        if (!att)
                return VT_E_NOMEM;
        if (a->init_data)
                json_object_set_new(att, "init-data",
                                    json_pack("{s:s, s:s%}", "format", "toml", "body", a->init_data,
                                              a->init_len));
        if ((e = post_json(a->c, a->base, "/kbs/v0/attest", att, &status, &ans, d)) < 0)
                return e;
        const char *token = json_string_value(json_object_get(ans, "token"));
        if (status != 200 || !token)
                return fail_answer("attest", status, ans, d);
        a->token = strdup(token);
        return a->token ? 0 : VT_E_NOMEM;
}

/* token_refused says whether a 401 answer refused the token itself (missing, expired, not
 * ours: RFC 7807 type ".../TokenVerifierError"), which a fresh attestation can mend, rather
 * than the release (policy, no such resource), which it cannot. */
static bool token_refused(const json_t *problem)
{
        const char *type = json_string_value(json_object_get(problem, "type"));
        static const char suffix[] = "/TokenVerifierError";
        size_t n = type ? strlen(type) : 0;
        return n >= sizeof(suffix) - 1 && strcmp(type + n - (sizeof(suffix) - 1), suffix) == 0;
}

/* GETs one resource with the token, re-attesting once when the token was refused (not
 * when the release was: a policy denial is final, and attesting again would only load the
 * server), and decrypts the JWE with the TEE key. The plaintext is freed with
 * OPENSSL_clear_free. */
static int agent_get(struct agent *a, const char *path, uint8_t **ret, size_t *ret_len,
                     struct vt_diag *d)
{
        for (int attempt = 0; attempt < 2; attempt++) {
                if (!a->token || attempt == 1) {
                        int e = agent_attest(a, d);
                        if (e < 0)
                                return e;
                }
                _cleanup_free_ char *url = NULL, *authz = NULL;
                struct vt_http_response rs = {0};
                if (asprintf(&url, "%s/kbs/v0/resource/%s", a->base, path) < 0 ||
                    asprintf(&authz, "Authorization: Bearer %s", a->token) < 0)
                        return VT_E_NOMEM;
                const char *headers[] = {authz, NULL};
                struct vt_http_request rq = {
                        .url = url, .headers = headers, .max = MAX_ANSWER, .handle = a->c};
                int e = vt_http_do(&rq, &rs, d);
                OPENSSL_cleanse(authz, strlen(authz));
                if (e < 0)
                        return e;
                long status = rs.status;
                json_auto_t *j = rs.body ? json_loads((const char *)rs.body, 0, NULL) : NULL;
                vt_http_response_done(&rs);
                if (status == 401 && attempt == 0 && token_refused(j))
                        continue; /* the token expired or was not accepted: attest again */
                if (status != 200)
                        return fail_answer(path, status, j, d);
                return vt_jwe_decrypt(a->key, j, ret, ret_len, d);
        }
        return vt_diag_set(d, VT_E_POLICY, "%s: refused after a fresh attestation", path);
}

/* Options shared by the agent's commands. */
struct agent_cli {
        const char *kbs, *tee, *init, *out, *cacert, *gpu;
        char **maps;
        size_t n_maps;
        struct vt_provider_opts po;
};

static int parse_agent_opts(int argc, char **argv, struct agent_cli *o, const char *use)
{
        static const struct option opts[] = {
                {"url", required_argument, NULL, 'k'},
                {"kbs", required_argument, NULL, 'k'},
                {"tee", required_argument, NULL, 't'},
                {"sim-dir", required_argument, NULL, 's'},
                {"init-data", required_argument, NULL, 'i'},
                {"output", required_argument, NULL, 'o'},
                {"map", required_argument, NULL, 'm'},
                {"cacert", required_argument, NULL, 'C'},
                {"tsm-path", required_argument, NULL, 'T'},
                {"sev-guest", required_argument, NULL, 'G'},
                {"tcti", required_argument, NULL, 'P'},
                {"vcek", required_argument, NULL, 'V'},
                {"gpu", required_argument, NULL, 'g'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
                switch (c) {
                case 'k':
                        o->kbs = optarg;
                        break;
                case 't':
                        o->tee = optarg;
                        break;
                case 's':
                        o->po.sim_dir = optarg;
                        break;
                case 'i':
                        o->init = optarg;
                        break;
                case 'o':
                        o->out = optarg;
                        break;
                case 'C':
                        o->cacert = optarg;
                        break;
                case 'T':
                        o->po.tsm_path = optarg;
                        break;
                case 'G':
                        o->po.sev_guest_path = optarg;
                        break;
                case 'P':
                        o->po.tcti = optarg;
                        break;
                case 'V':
                        o->po.vcek_file = optarg;
                        break;
                case 'g':
                        if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "off") != 0 &&
                            strcmp(optarg, "required") != 0) {
                                cli_usage_error("agent: --gpu must be auto, off or required");
                                return -1;
                        }
                        o->gpu = optarg;
                        break;
                case 'm':
                        if (o->n_maps >= 256)
                                return cli_usage_error("--map: at most 256");
                        o->maps[o->n_maps++] = optarg;
                        break;
                case 'h':
                        puts(use);
                        return 1;
                default:
                        return -1;
                }
        }
        if (!o->kbs && !(o->kbs = getenv("VERITEE_SERVER"))) {
                cli_usage_error("agent: --url URL (the key broker; or VERITEE_SERVER) is required");
                return -1;
        }
        return 0;
}

static int setup_agent(struct agent *a, struct agent_cli *o, uint8_t *digest, uint8_t **init_txt,
                       struct vt_diag *d)
{
        const struct vt_provider *p = vt_provider_find(o->tee, &o->po, d);
        if (!p)
                return VT_E_NOTFOUND;
        if (p->probe(&o->po, d) < 0)
                return vt_diag_set(d, VT_E_NOTFOUND, "tee %s is not available here", p->name);
        if (o->init) {
                json_auto_t *toml = NULL;
                size_t len = 0;
                if (vt_read_file(o->init, 64u * 1024u, init_txt, &len) < 0)
                        return vt_diag_set(d, VT_E_IO, "cannot read init-data %s", o->init);
                if (vt_toml_parse((const char *)*init_txt, len, &toml, d) < 0)
                        return VT_E_FORMAT;
                size_t dl = 0;
                struct vt_diag id = {0};
                if (vt_initdata_digest(toml, *init_txt, len, digest, &dl, &id) < 0)
                        return vt_diag_set(d, VT_E_FORMAT, "%s: %s", o->init, id.msg);
                o->po.init_data_digest = digest;
                o->po.init_data_digest_len = dl;
                a->init_data = (const char *)*init_txt;
                a->init_len = len;
        }
        a->p = p;
        a->po = o->po;
        a->gpu = o->gpu ? o->gpu : "auto";
        int e = agent_init(a, o->kbs);
        if (e == 0 && o->cacert)
                curl_easy_setopt(a->c, CURLOPT_CAINFO, o->cacert); /* a KBS with its own CA */
        return e;
}

/* Writes data to path atomically (temporary file + rename in the same directory), 0400. */
static int write_secret(const char *path, const uint8_t *data, size_t len)
{
        return vt_write_file_atomic(path, data, len, 0400);
}

int cmd_agent(int argc, char **argv)
{
        static const char use[] = "usage: veritee agent attest --url URL [--tee "
                                  "auto|snp|tdx|az-snp-vtpm|sim] "
                                  "[--sim-dir DIR] [--init-data FILE]\n"
                                  "         evidence: [--tsm-path DIR] [--sev-guest DEV] "
                                  "[--tcti CONF] [--vcek FILE] [--gpu auto|off|required]\n"
                                  "       veritee agent get-resource --url URL REPO/TYPE/TAG [-o "
                                  "FILE] [--tee ...] [--sim-dir DIR]\n"
                                  "       veritee agent fetch --url URL --map REPO/TYPE/TAG=PATH "
                                  "[--map ...] [--tee ...] [--sim-dir DIR]";
        char *maps[256];
        struct agent_cli o = {.tee = "auto", .maps = maps};
        struct agent a = {0};
        struct vt_diag d = {0};
        _cleanup_free_ uint8_t *init_txt = NULL;
        uint8_t digest[64];
        int e, r;
        if (argc < 2)
                return cli_usage_error("%s", use);
        /* the TEE key and fetched secrets must not end up in a core file */
        struct rlimit nocore = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &nocore);
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        const char *verb = argv[1];
        if (strcmp(verb, "attest") != 0 && strcmp(verb, "get-resource") != 0 &&
            strcmp(verb, "fetch") != 0)
                return cli_usage_error("agent: unknown command \"%s\"\n%s", verb, use);
        if ((r = parse_agent_opts(argc - 1, argv + 1, &o, use)) != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        int rest = optind + 1; /* positional arguments, relative to argv */
        bool get = strcmp(verb, "get-resource") == 0, fetch = strcmp(verb, "fetch") == 0;
        if ((get && rest != argc - 1) || (!get && rest != argc) || (fetch && o.n_maps == 0))
                return cli_usage_error("%s", use);
        if (get && !vt_resource_path_valid(argv[rest]))
                return cli_usage_error("\"%s\" is not REPO/TYPE/TAG", argv[rest]);
        for (size_t i = 0; i < o.n_maps; i++) {
                char *eq = strchr(o.maps[i], '=');
                if (!eq || eq[1] == 0)
                        return cli_usage_error("--map %s: expected REPO/TYPE/TAG=PATH", o.maps[i]);
                *eq = 0;
                if (!vt_resource_path_valid(o.maps[i]))
                        return cli_usage_error("--map: \"%s\" is not REPO/TYPE/TAG", o.maps[i]);
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if ((e = setup_agent(&a, &o, digest, &init_txt, &d)) < 0)
                goto out;
        if (strcmp(verb, "attest") == 0) {
                /* the token alone, as jose jws ver -i FILE reads a compact JWS (a newline
                 * after it breaks the signature check); the prompt on a line of its own */
                if ((e = agent_attest(&a, &d)) == 0 &&
                    (fputs(a.token, stdout) == EOF ||
                     (isatty(STDOUT_FILENO) && fputc('\n', stdout) == EOF)))
                        e = VT_E_IO;
                goto out;
        }
        if (get) {
                uint8_t *secret = NULL;
                size_t sl = 0;
                if ((e = agent_get(&a, argv[rest], &secret, &sl, &d)) < 0)
                        goto out;
                if (o.out)
                        e = write_secret(o.out, secret, sl) < 0
                                    ? vt_diag_set(&d, VT_E_IO, "cannot write %s", o.out)
                                    : 0;
                else if (fwrite(secret, 1, sl, stdout) != sl)
                        e = VT_E_IO;
                /* the prompt on a line of its own; a file or a pipe gets the exact bytes */
                else if (sl > 0 && secret[sl - 1] != '\n' && isatty(STDOUT_FILENO))
                        e = fputc('\n', stdout) == EOF ? VT_E_IO : 0;
                OPENSSL_clear_free(secret, sl);
                goto out;
        }
        /* fetch: everything first, then write; nothing is written if any fetch fails */
        uint8_t *secrets[256] = {0};
        size_t lens[256] = {0};
        for (size_t i = 0; i < o.n_maps && e == 0; i++)
                e = agent_get(&a, o.maps[i], &secrets[i], &lens[i], &d);
        for (size_t i = 0; i < o.n_maps && e == 0; i++) {
                const char *dst = o.maps[i] + strlen(o.maps[i]) + 1;
                if (write_secret(dst, secrets[i], lens[i]) < 0)
                        e = vt_diag_set(&d, VT_E_IO, "cannot write %s", dst);
                else
                        fprintf(stderr, "veritee: wrote %s (%zu bytes) from %s\n", dst, lens[i],
                                o.maps[i]);
        }
        for (size_t i = 0; i < o.n_maps; i++)
                if (secrets[i])
                        OPENSSL_clear_free(secrets[i], lens[i]);
out:
        agent_done(&a);
        curl_global_cleanup();
        if (e < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
                return EXIT_REJECTED;
        }
        return 0;
}
