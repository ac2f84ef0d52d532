/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee agent: the guest side of the KBS protocol 0.4.0.
 *   veritee agent attest --kbs URL [--tee auto|sim] [--sim-dir DIR] [--init-data FILE]
 * runs /auth and /attest with an ephemeral P-256 key and prints the attestation token.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "cli.h"
#include "kbs/rcar.h"
#include "provider.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/json.h"
#include "util/toml.h"

#define MAX_ANSWER (4u << 20)

struct answer {
        char *buf;
        size_t len;
        bool too_big;
};

static size_t answer_write(char *p, size_t size, size_t n, void *ud)
{
        struct answer *a = ud;
        size_t k = size * n;
        if (k > MAX_ANSWER - a->len) {
                a->too_big = true;
                return 0;
        }
        char *nb = realloc(a->buf, a->len + k + 1);
        if (!nb)
                return 0;
        a->buf = nb;
        memcpy(a->buf + a->len, p, k);
        a->len += k;
        a->buf[a->len] = 0;
        return k;
}

/* POSTs body (JSON) to base+path with the handle's cookies; returns the status and the
 * answer parsed as JSON (NULL if not JSON). */
static int post_json(CURL *c, const char *base, const char *path, const json_t *body, long *status,
                     json_t **ret, struct vt_diag *d)
{
        _cleanup_free_ char *url = NULL, *txt = json_dumps(body, JSON_COMPACT);
        struct answer a = {0};
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        if (!txt || asprintf(&url, "%s%s", base, path) < 0) {
                curl_slist_free_all(h);
                return VT_E_NOMEM;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, txt);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        CURLcode cr = curl_easy_perform(c);
        curl_slist_free_all(h);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        if (cr != CURLE_OK) {
                free(a.buf);
                return vt_diag_set(d, VT_E_NETWORK, "POST %s: %s", url,
                                   a.too_big ? "answer too large" : curl_easy_strerror(cr));
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        *ret = a.buf ? json_loads(a.buf, 0, NULL) : NULL;
        free(a.buf);
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
        EVP_PKEY *k = EVP_EC_gen("P-256");
        uint8_t pub[65];
        size_t n = 0;
        _cleanup_free_ char *x = NULL, *y = NULL;
        if (!k ||
            !EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) ||
            n != 65 || vt_b64_encode(pub + 1, 32, VT_B64_URL, &x) < 0 ||
            vt_b64_encode(pub + 33, 32, VT_B64_URL, &y) < 0) {
                EVP_PKEY_free(k);
                return VT_E_CRYPTO;
        }
        *ret_jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "alg",
                             "ECDH-ES+A256KW", "x", x, "y", y);
        *ret_key = k;
        return *ret_jwk ? 0 : VT_E_NOMEM;
}

/* vt_agent_attest runs RCAR and returns the token (malloc'd). */
static int agent_attest(const char *kbs, const struct vt_provider *p,
                        const struct vt_provider_opts *po, const char *init_data, size_t init_len,
                        char **ret_token, struct vt_diag *d)
{
        json_auto_t *auth = NULL, *chal = NULL, *jwk = NULL, *ev = NULL, *att = NULL, *ans = NULL;
        EVP_PKEY *key = NULL;
        long status = 0;
        int e;
        size_t bl = strlen(kbs);
        _cleanup_free_ char *base = strndup(kbs, bl);
        if (!base)
                return VT_E_NOMEM;
        while (bl > 0 && base[bl - 1] == '/')
                base[--bl] = 0;
        CURL *c = curl_easy_init();
        if (!c)
                return VT_E_NOMEM;
        curl_easy_setopt(c, CURLOPT_COOKIEFILE, ""); /* in-memory cookie engine: kbs-session-id */
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "veritee-agent/" VT_VERSION);

        auth = json_pack("{s:s, s:s, s:s}", "version", VT_KBS_PROTOCOL_VERSION, "tee", p->tee,
                         "extra-params", "");
        if ((e = post_json(c, base, "/kbs/v0/auth", auth, &status, &chal, d)) < 0)
                goto out;
        const char *nonce = json_string_value(json_object_get(chal, "nonce"));
        if (status != 200 || !nonce) {
                e = fail_answer("auth", status, chal, d);
                goto out;
        }
        if ((e = make_tee_key(&key, &jwk)) < 0) {
                vt_diag_set(d, e, "cannot make the TEE key");
                goto out;
        }
        uint8_t rd[64] = {0};
        if ((e = vt_kbs_runtime_binding(nonce, jwk, "", rd)) < 0) {
                vt_diag_set(d, e, "cannot compute the runtime-data binding");
                goto out;
        }
        if ((e = p->collect(po, rd, &ev, d)) < 0)
                goto out;
        att = json_pack("{s:{s:s, s:O}, s:{s:O, s:s}}", "runtime-data", "nonce", nonce,
                        "tee-pubkey", jwk, "tee-evidence", "primary_evidence", ev,
                        "additional_evidence", "");
        if (!att) {
                e = VT_E_NOMEM;
                goto out;
        }
        if (init_data)
                json_object_set_new(
                        att, "init-data",
                        json_pack("{s:s, s:s%}", "format", "toml", "body", init_data, init_len));
        if ((e = post_json(c, base, "/kbs/v0/attest", att, &status, &ans, d)) < 0)
                goto out;
        const char *token = json_string_value(json_object_get(ans, "token"));
        if (status != 200 || !token) {
                e = fail_answer("attest", status, ans, d);
                goto out;
        }
        *ret_token = strdup(token);
        e = *ret_token ? 0 : VT_E_NOMEM;
out:
        EVP_PKEY_free(key);
        curl_easy_cleanup(c);
        return e;
}

int cmd_agent(int argc, char **argv)
{
        static const struct option opts[] = {
                {"kbs", required_argument, NULL, 'k'},
                {"tee", required_argument, NULL, 't'},
                {"sim-dir", required_argument, NULL, 's'},
                {"init-data", required_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        static const char use[] =
                "usage: veritee agent attest --kbs URL [--tee auto|sim] [--sim-dir DIR] "
                "[--init-data FILE]";
        const char *kbs = NULL, *tee = "auto", *init = NULL;
        struct vt_provider_opts po = {0};
        struct vt_diag d = {0};
        int c;
        if (argc < 2 || strcmp(argv[1], "attest") != 0)
                return cli_usage_error("%s", use);
        argc--;
        argv++;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'k':
                        kbs = optarg;
                        break;
                case 't':
                        tee = optarg;
                        break;
                case 's':
                        po.sim_dir = optarg;
                        break;
                case 'i':
                        init = optarg;
                        break;
                case 'h':
                        puts(use);
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        }
        if (!kbs || optind != argc)
                return cli_usage_error("%s", use);
        const struct vt_provider *p = vt_provider_find(tee, &po, &d);
        if (!p) {
                fprintf(stderr, "veritee: %s\n", d.msg);
                return EXIT_USAGE;
        }
        if (p->probe(&po, &d) < 0) {
                fprintf(stderr, "veritee: tee %s is not available here: %s\n", p->name, d.msg);
                return EXIT_REJECTED;
        }
        _cleanup_free_ uint8_t *init_txt = NULL;
        size_t init_len = 0;
        uint8_t digest[64];
        if (init) {
                json_auto_t *toml = NULL;
                if (vt_read_file(init, 64u * 1024u, &init_txt, &init_len) < 0) {
                        fprintf(stderr, "veritee: cannot read init-data %s\n", init);
                        return EXIT_USAGE;
                }
                if (vt_toml_parse((const char *)init_txt, init_len, &toml, &d) < 0) {
                        fprintf(stderr, "veritee: %s: %s\n", init, d.msg);
                        return EXIT_USAGE;
                }
                const char *alg = json_string_value(json_object_get(toml, "algorithm"));
                const EVP_MD *md = !alg                         ? NULL
                                   : strcmp(alg, "sha256") == 0 ? EVP_sha256()
                                   : strcmp(alg, "sha384") == 0 ? EVP_sha384()
                                   : strcmp(alg, "sha512") == 0 ? EVP_sha512()
                                                                : NULL;
                unsigned dl = 0;
                if (!md || !EVP_Digest(init_txt, init_len, digest, &dl, md, NULL)) {
                        fprintf(stderr, "veritee: %s: algorithm must be sha256, sha384 or sha512\n",
                                init);
                        return EXIT_USAGE;
                }
                po.init_data_digest = digest;
                po.init_data_digest_len = dl;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        _cleanup_free_ char *token = NULL;
        int e = agent_attest(kbs, p, &po, (const char *)init_txt, init_len, &token, &d);
        curl_global_cleanup();
        if (e < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
                return EXIT_REJECTED;
        }
        printf("%s\n", token);
        return 0;
}
