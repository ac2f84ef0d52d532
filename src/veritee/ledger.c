/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee ledger: auditing the tamper-evident ledger from outside the server.
 *   verify          recompute the whole tree from a server, a database file or an export,
 *                   check every signed tree head, the server's consistency proofs, and with
 *                   a head saved earlier that the ledger only grew since
 *   receipt         fetch the receipt of one entry
 *   verify-receipt  check a receipt offline with the ledger key
 *   export          the whole ledger in one JSON file (lib/ledger/export.h)
 * The checks are lib/ledger's (vt_ledger_audit_*, vt_ledger_receipt_verify,
 * vt_ledger_consistency_verify); this file fetches, pages and reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "cli.h"
#include "crypto/jwk.h"
#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "ledger/ccf.h"
#include "ledger/export.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "token/jwt.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"

#define MAX_KEYFILE (1u << 20)
#define MAX_ANSWER  (1u << 20)   /* a head list page, a receipt, a proof, a JWKS */
#define MAX_PAGE    (128u << 20) /* a page of up to PAGE entries of up to 64 KiB */
#define PAGE        1000u
#define MAX_HEADS   (1u << 22)
#define DEFAULT_URL "http://127.0.0.1:8080"

static const char verify_usage[] =
        "usage: veritee ledger verify (--url URL --token FILE | --db FILE | --file EXPORT)\n"
        "           [--key PEM|JWKS] [--sth SAVED_STH_FILE] [--save-sth FILE] [--json]\n"
        "  recomputes the whole Merkle tree from the entries and checks every signed tree head\n"
        "  (signature and root); with --url also every consistency proof between consecutive\n"
        "  heads; with --sth that the ledger still holds a head saved earlier (it only grew).\n"
        "  --key: the ledger's public key (PEM public or private P-256 key, or a JWKS); needed\n"
        "  with --db; without it --url trusts the server's /ledger/jwks and --file the key\n"
        "  inside the file, which proves nothing against the operator. --save-sth writes the\n"
        "  latest head for a later --sth. Exit 0 verified, 1 not, 2 usage or unreadable input.";
static const char receipt_usage[] =
        "usage: veritee ledger receipt INDEX --url URL --token FILE [--out FILE]\n"
        "  fetches the receipt of entry INDEX (format veritee-receipt/1) and prints or writes it";
static const char verify_receipt_usage[] =
        "usage: veritee ledger verify-receipt FILE --key PEM|JWKS [--json]\n"
        "       veritee ledger verify-receipt --ccf RECEIPT --service-cert PEM [--json]\n"
        "  checks a receipt with the ledger key only: the tree head's signature and the\n"
        "  inclusion proof of the entry in it; with --ccf, a receipt of Azure Confidential\n"
        "  Ledger or CCF against the service's certificate (leaf, Merkle proof, the node's\n"
        "  signature over the root, the endorsements up to the service certificate)";
static const char export_usage[] =
        "usage: veritee ledger export (--url URL --token FILE | --db FILE --key PEM|JWKS)\n"
        "           [--out FILE]\n"
        "  writes the whole ledger, every signed tree head and the key set as one JSON file\n"
        "  (veritee-ledger-export/1) for `veritee ledger verify --file`";
static const char family_usage[] =
        "usage: veritee ledger verify|receipt|verify-receipt|export ... (veritee ledger VERB "
        "--help)";

/* Everything the verbs take; each verb refuses what it does not use. */
struct opts {
        const char *server, *token_file, *db, *file, *key, *sth, *save_sth, *out;
        bool json;
        const char *ccf, *service_cert; /* verify-receipt --ccf (lib/ledger/ccf.c) */
};

enum {
        O_SERVER = 1 << 0,
        O_TOKEN = 1 << 1,
        O_DB = 1 << 2,
        O_FILE = 1 << 3,
        O_KEY = 1 << 4,
        O_STH = 1 << 5,
        O_SAVE = 1 << 6,
        O_OUT = 1 << 7,
        O_JSON = 1 << 8,
        O_CCF = 1 << 9,
        O_CERT = 1 << 10,
};

static const struct {
        struct option o;
        unsigned bit;
} options[] = {
        {{"url", required_argument, NULL, 's'}, O_SERVER},
        {{"server", required_argument, NULL, 's'}, O_SERVER},
        {{"token", required_argument, NULL, 't'}, O_TOKEN},
        {{"db", required_argument, NULL, 'd'}, O_DB},
        {{"file", required_argument, NULL, 'f'}, O_FILE},
        {{"key", required_argument, NULL, 'k'}, O_KEY},
        {{"sth", required_argument, NULL, 'S'}, O_STH},
        {{"save-sth", required_argument, NULL, 'W'}, O_SAVE},
        {{"out", required_argument, NULL, 'o'}, O_OUT},
        {{"json", no_argument, NULL, 'j'}, O_JSON},
        {{"ccf", required_argument, NULL, 'C'}, O_CCF},
        {{"service-cert", required_argument, NULL, 'E'}, O_CERT},
};

/* parse reads the options of a verb (argv[0] is the verb) allowing those in allowed;
 * returns 0, 1 for --help (printed), or EXIT_USAGE. Positional arguments are left at
 * argv[optind..]. */
static int parse(int argc, char **argv, unsigned allowed, const char *use, struct opts *o)
{
        struct option lo[ELEMENTSOF(options) + 2];
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(options); i++)
                lo[n++] = options[i].o;
        lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
        lo[n] = (struct option){0};
        int c, idx;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", lo, &idx)) != -1) {
                if (c == 'h') {
                        puts(use);
                        return 1;
                }
                if (c == '?' || c == ':')
                        return cli_usage_error("ledger %s: unknown option or missing value "
                                               "\"%s\"",
                                               argv[0], argv[optind - 1]);
                unsigned bit = 0;
                const char *name = "";
                for (size_t i = 0; i < ELEMENTSOF(options); i++)
                        if (options[i].o.val == c) {
                                bit = options[i].bit;
                                name = options[i].o.name;
                        }
                if (!(allowed & bit))
                        return cli_usage_error("ledger %s: --%s does not apply here", argv[0],
                                               name);
                switch (c) {
                case 's':
                        o->server = optarg;
                        break;
                case 't':
                        o->token_file = optarg;
                        break;
                case 'd':
                        o->db = optarg;
                        break;
                case 'f':
                        o->file = optarg;
                        break;
                case 'k':
                        o->key = optarg;
                        break;
                case 'S':
                        o->sth = optarg;
                        break;
                case 'W':
                        o->save_sth = optarg;
                        break;
                case 'o':
                        o->out = optarg;
                        break;
                case 'j':
                        o->json = true;
                        break;
                case 'C':
                        o->ccf = optarg;
                        break;
                case 'E':
                        o->service_cert = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        }
        return 0;
}

/*
 * Keys.
 */

/* kid_of writes the RFC 7638 thumbprint of the first key of jwks that verifies ES256
 * (computed here, not the "kid" the key claims). */
static bool kid_of(const json_t *jwks, char out[static VT_JWK_THUMBPRINT_LEN + 1])
{
        size_t i;
        json_t *k;
        json_array_foreach (json_object_get(jwks, "keys"), i, k) {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
                if (vt_jwk_to_verify_key(k, &pk, NULL) == 0 && vt_jwk_thumbprint(pk, out) == 0)
                        return true;
        }
        snprintf(out, VT_JWK_THUMBPRINT_LEN + 1, "(none)");
        return false;
}

/* jwks_check refuses a key set with no key that verifies ES256. */
static int jwks_check(const json_t *jwks, const char *where)
{
        const json_t *keys = json_object_get(jwks, "keys");
        struct vt_diag why = {0};
        size_t i;
        json_t *k;
        json_array_foreach (keys, i, k) {
                if (vt_jwk_to_verify_key(k, NULL, &why) == 0)
                        return 0;
        }
        fprintf(stderr, "veritee: %s: no P-256 ES256 public key%s%s%s\n", where,
                why.msg[0] ? " (" : "", why.msg, why.msg[0] ? ")" : "");
        return EXIT_USAGE;
}

/* pem_key reads a PEM public key or, failing that, an unencrypted PEM private key. */
static EVP_PKEY *pem_key(const uint8_t *buf, size_t len)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(buf, (int)len);
        EVP_PKEY *pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        if (!pk) {
                ERR_clear_error();
                if (vt_pem_private_key(buf, len, &pk) < 0)
                        pk = NULL;
                ERR_clear_error();
        }
        return pk;
}

/* load_key reads --key: a JWKS (or one JWK), a PEM public key or a PEM private key (its
 * public half; the file's bytes are cleansed). Returns a new JWKS, or NULL after
 * printing why. */
static json_t *load_key(const char *path)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int e = vt_read_file(path, MAX_KEYFILE, &buf, &len);
        if (e < 0) {
                fprintf(stderr, "veritee: --key %s: %s\n", path,
                        e == VT_E_INVAL ? "larger than 1 MiB" : "cannot read");
                return NULL;
        }
        size_t i = 0;
        while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
                i++;
        json_t *jwks = NULL;
        if (i < len && buf[i] == '{') {
                json_error_t err;
                json_auto_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
                if (!j)
                        fprintf(stderr, "veritee: --key %s: not JSON (%s)\n", path, err.text);
                else if (json_is_array(json_object_get(j, "keys")))
                        jwks = json_incref(j);
                else if (json_object_get(j, "kty"))
                        jwks = json_pack("{s:[O]}", "keys", j);
                else
                        fprintf(stderr,
                                "veritee: --key %s: a JSON key must be a JWKS "
                                "{\"keys\":[...]} or a JWK\n",
                                path);
        } else {
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = pem_key(buf, len);
                json_t *jwk = pk ? vt_jwk_p256_public(pk) : NULL;
                char kid[VT_JWK_THUMBPRINT_LEN + 1];
                if (!pk)
                        fprintf(stderr,
                                "veritee: --key %s: neither a JWKS nor a PEM public or "
                                "private key\n",
                                path);
                else if (!jwk)
                        fprintf(stderr,
                                "veritee: --key %s: not a P-256 key (the ledger signs "
                                "with ES256)\n",
                                path);
                else if (vt_jwk_thumbprint(pk, kid) == 0 &&
                         json_object_set_new(jwk, "kid", json_string(kid)) == 0)
                        jwks = json_pack("{s:[o]}", "keys", TAKE_PTR(jwk));
                if (pk && jwk && !jwks)
                        fprintf(stderr, "veritee: --key %s: cannot make its JWK\n", path);
                json_decref(jwk);
        }
        OPENSSL_cleanse(buf, len);
        free(buf);
        if (jwks && jwks_check(jwks, path) != 0) {
                json_decref(jwks);
                return NULL;
        }
        return jwks;
}

/*
 * The server.
 */

struct srv {
        char *url; /* without trailing slashes */
        char *token;
        bool transport_failed; /* the failure was the network or HTTP, not the ledger */
};

static int srv_open(struct srv *s, const struct opts *o)
{
        const char *tf = cli_token_path(o->token_file);
        if (!tf)
                return cli_usage_error("ledger: --url needs --token FILE or VERITEE_TOKEN (a "
                                       "reader token: veritee admin token --role reader)");
        if (!(s->url = cli_server(o->server, DEFAULT_URL)))
                return EXIT_USAGE;
        if (!(s->token = cli_read_token(tf))) {
                free(s->url);
                s->url = NULL;
                return EXIT_USAGE;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return 0;
}

static void srv_close(struct srv *s)
{
        free(s->url);
        s->url = NULL;
        if (s->token) {
                OPENSSL_clear_free(s->token, strlen(s->token));
                curl_global_cleanup();
        }
}

/* srv_get_raw fetches path; 200 with a JSON object in *ret (and, when ret_raw is given,
 * the answer as received in *ret_raw), or a reason in d. */
static int srv_get_raw(struct srv *s, const char *path, size_t max, json_t **ret, char **ret_raw,
                       struct vt_diag *d)
{
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        long st = cli_http_call(s->url, s->token, "GET", path, NULL, 0, NULL, max, &body, &len);
        s->transport_failed = true;
        if (st < 0)
                return vt_diag_set(d, VT_E_NETWORK, "GET %s failed", path);
        json_error_t err;
        json_auto_t *j = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &err) : NULL;
        if (st != 200) {
                const char *detail = json_string_value(json_object_get(j, "detail"));
                return vt_diag_set(d, st == 404 ? VT_E_NOTFOUND : VT_E_NETWORK,
                                   "GET %s: HTTP %ld%s%s", path, st, detail ? ": " : "",
                                   detail ? detail : "");
        }
        if (!json_is_object(j))
                return vt_diag_set(d, VT_E_FORMAT, "GET %s: the answer is not a JSON object", path);
        s->transport_failed = false;
        *ret = TAKE_PTR(j);
        if (ret_raw)
                *ret_raw = TAKE_PTR(body);
        return 0;
}

static int srv_get(struct srv *s, const char *path, size_t max, json_t **ret, struct vt_diag *d)
{
        return srv_get_raw(s, path, max, ret, NULL, d);
}

/* What a walk of the server's ledger hands on. */
struct walk_cb {
        int (*sth)(void *ud, const char *jws, struct vt_diag *d);
        int (*entry)(void *ud, uint64_t index, const json_t *entry, struct vt_diag *d);
};

/* walk_server pages through /ledger/sths, then /ledger/entries, in order. */
static int walk_server(struct srv *s, const struct walk_cb *cb, void *ud, struct vt_diag *d)
{
        char path[128];
        uint64_t start = 0;
        int e;
        for (bool more = true; more;) {
                snprintf(path, sizeof(path), "/ledger/sths?start=%" PRIu64 "&limit=%u", start,
                         PAGE);
                json_auto_t *j = NULL;
                if ((e = srv_get(s, path, MAX_ANSWER, &j, d)) < 0)
                        return e;
                const json_t *a = json_object_get(j, "sths");
                if (!json_is_array(a) || json_array_size(a) > PAGE)
                        return vt_diag_set(d, VT_E_FORMAT, "GET %s: no sths array of at most %u",
                                           path, PAGE);
                size_t i;
                json_t *v;
                json_array_foreach (a, i, v) {
                        const json_t *sz = json_object_get(v, "size");
                        const char *jws = json_string_value(json_object_get(v, "sth"));
                        if (!json_is_integer(sz) || json_integer_value(sz) < 0 || !jws ||
                            (uint64_t)json_integer_value(sz) < start)
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "GET %s: element %zu is not {\"size\":n >= "
                                                   "%" PRIu64 ",\"sth\":\"...\"} in size order",
                                                   path, i, start);
                        start = (uint64_t)json_integer_value(sz) + 1;
                        if ((e = cb->sth(ud, jws, d)) < 0)
                                return e;
                }
                more = json_array_size(a) == PAGE;
        }
        start = 0;
        for (bool more = true; more;) {
                snprintf(path, sizeof(path), "/ledger/entries?start=%" PRIu64 "&end=%" PRIu64,
                         start, start + PAGE);
                json_auto_t *j = NULL;
                if ((e = srv_get(s, path, MAX_PAGE, &j, d)) < 0)
                        return e;
                const json_t *a = json_object_get(j, "entries");
                if (!json_is_array(a) || json_array_size(a) > PAGE)
                        return vt_diag_set(d, VT_E_FORMAT, "GET %s: no entries array of at most %u",
                                           path, PAGE);
                size_t i;
                json_t *v;
                json_array_foreach (a, i, v) {
                        const json_t *ix = json_object_get(v, "index");
                        const json_t *entry = json_object_get(v, "entry");
                        if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
                            !json_is_object(entry))
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "GET %s: element %zu is not "
                                                   "{\"index\":i,\"entry\":{...}}",
                                                   path, i);
                        if ((e = cb->entry(ud, (uint64_t)json_integer_value(ix), entry, d)) < 0)
                                return e;
                }
                start += json_array_size(a);
                more = json_array_size(a) == PAGE;
        }
        return 0;
}

/* The server's key set, trusted on its word: say so, with the thumbprint to pin. */
static int server_jwks(struct srv *s, const char *verb, json_t **ret)
{
        struct vt_diag d = {0};
        json_auto_t *j = NULL;
        if (srv_get(s, "/ledger/jwks", MAX_ANSWER, &j, &d) < 0) {
                fprintf(stderr, "veritee: ledger %s: %s\n", verb, d.msg);
                return EXIT_USAGE;
        }
        if (jwks_check(j, "the server's /ledger/jwks") != 0)
                return EXIT_REJECTED;
        *ret = TAKE_PTR(j);
        return 0;
}

/*
 * verify
 */

struct verify_run {
        struct vt_ledger_audit *audit;
        char **heads; /* the tree heads' texts, in size order (--server) */
        size_t n_heads, cap_heads;
        uint64_t proofs;
        char *latest; /* the largest head's text */
};

static int run_sth(void *ud, const char *jws, struct vt_diag *d)
{
        struct verify_run *v = ud;
        int e = vt_ledger_audit_sth(v->audit, jws, d);
        if (e < 0)
                return e;
        if (v->n_heads == v->cap_heads) {
                size_t c = v->cap_heads ? 2 * v->cap_heads : 64;
                char **p = c <= MAX_HEADS ? realloc(v->heads, c * sizeof(*p)) : NULL;
                if (!p)
                        return vt_diag_set(d, VT_E_LIMIT, "more than %u tree heads", MAX_HEADS);
                v->heads = p;
                v->cap_heads = c;
        }
        if (!(v->heads[v->n_heads] = strdup(jws)))
                return VT_E_NOMEM;
        v->n_heads++;
        return 0;
}

static int run_entry(void *ud, uint64_t index, const json_t *entry, struct vt_diag *d)
{
        struct verify_run *v = ud;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int e = vt_ledger_entry_text(entry, &text, &len);
        if (e < 0)
                return vt_diag_set(d, VT_E_FORMAT, "entry %" PRIu64 ": %s", index,
                                   e == VT_E_LIMIT ? "above the size limit"
                                                   : "not an object with a kind and a time");
        return vt_ledger_audit_entry(v->audit, index, text, len, NULL, d);
}

/* consistency fetches and checks the proof between two verified heads. */
static int consistency(struct srv *s, const struct vt_sth *a, const struct vt_sth *b,
                       struct vt_diag *d)
{
        char path[128];
        snprintf(path, sizeof(path), "/ledger/consistency?first=%" PRIu64 "&second=%" PRIu64,
                 a->size, b->size);
        json_auto_t *p = NULL;
        int e = srv_get(s, path, MAX_ANSWER, &p, d);
        if (e < 0)
                return e;
        struct vt_diag why = {0};
        if ((e = vt_ledger_consistency_verify(p, a, b, &why)) < 0)
                return vt_diag_set(d, e,
                                   "the server's consistency proof between the tree heads of size "
                                   "%" PRIu64 " and %" PRIu64 " does not verify: %s",
                                   a->size, b->size, why.msg);
        return 0;
}

/* consistency_all checks the proofs between consecutive heads, and from a saved head to
 * the latest. */
static int consistency_all(struct srv *s, struct verify_run *v, const json_t *jwks,
                           const char *saved, struct vt_diag *d)
{
        struct vt_sth prev = {0}, cur = {0};
        int e;
        for (size_t i = 0; i < v->n_heads; i++) {
                if ((e = vt_sth_verify(v->heads[i], jwks, &cur, d)) < 0)
                        return e;
                if (i > 0 && prev.size > 0 && prev.size < cur.size) {
                        if ((e = consistency(s, &prev, &cur, d)) < 0)
                                return e;
                        v->proofs++;
                }
                prev = cur;
        }
        struct vt_sth h;
        if (saved && v->n_heads && vt_sth_verify(saved, jwks, &h, NULL) == 0 && h.size > 0 &&
            h.size < cur.size) {
                if ((e = consistency(s, &h, &cur, d)) < 0)
                        return e;
                v->proofs++;
        }
        return 0;
}

static void verify_run_done(struct verify_run *v)
{
        for (size_t i = 0; i < v->n_heads; i++)
                free(v->heads[i]);
        free(v->heads);
        free(v->latest);
        vt_ledger_audit_free(v->audit);
}

/* read_saved reads a --sth file: one compact JWS. */
static char *read_saved(const char *path)
{
        size_t n;
        char *t = (char *)cli_read(path, VT_STORE_MAX_STH + 64, &n);
        if (!t)
                return NULL;
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
                t[--n] = 0;
        struct vt_diag d = {0};
        struct vt_sth h;
        if (vt_sth_peek(t, &h, &d) < 0) {
                fprintf(stderr, "veritee: --sth %s: %s\n", path, d.msg);
                free(t);
                return NULL;
        }
        return t;
}

/* map_file maps a whole file of at most max bytes read-only. */
static int map_file(const char *path, size_t max, void **ret, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                fprintf(stderr, "veritee: cannot read %s\n", path);
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        if ((uint64_t)st.st_size > max) {
                fprintf(stderr, "veritee: %s is larger than %zu bytes\n", path, max);
                close(fd);
                return -1;
        }
        void *p = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
        close(fd);
        if (st.st_size && p == MAP_FAILED) {
                fprintf(stderr, "veritee: cannot map %s\n", path);
                return -1;
        }
        *ret = p;
        *ret_len = (size_t)st.st_size;
        return 0;
}

/* open_db opens an existing store (vt_store_open would create a missing one). */
static int open_db(const char *path, struct vt_store **ret)
{
        struct stat st;
        struct vt_diag d = {0};
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                fprintf(stderr, "veritee: --db %s: no such database file\n", path);
                return EXIT_USAGE;
        }
        if (vt_store_open(path, ret, &d) < 0) {
                fprintf(stderr, "veritee: --db %s: %s\n", path, d.msg);
                return EXIT_USAGE;
        }
        return 0;
}

static void time_of(int64_t ms, char buf[static 21])
{
        vt_time_format_rfc3339(ms / 1000, buf);
}

static void print_verified(const struct opts *o, const struct vt_ledger_audit_result *r,
                           const struct verify_run *v, bool proofs, const char *kid)
{
        char root[2 * VT_MERKLE_HASH_LEN + 1], t[21];
        vt_hex_encode(r->root, VT_MERKLE_HASH_LEN, root);
        time_of(r->latest.time, t);
        uint64_t above = r->entries - r->latest.size;
        if (o->json) {
                json_auto_t *j = json_pack("{s:b, s:I, s:I, s:s, s:s}", "verified", 1, "entries",
                                           (json_int_t)r->entries, "sths", (json_int_t)r->sths,
                                           "root", root, "kid", kid);
                if (j && r->latest.size)
                        json_object_set_new(j, "latest",
                                            json_pack("{s:I, s:I, s:s}", "size",
                                                      (json_int_t)r->latest.size, "time",
                                                      (json_int_t)r->latest.time, "sth",
                                                      v->latest ? v->latest : ""));
                if (j && proofs)
                        json_object_set_new(j, "consistency_proofs",
                                            json_integer((json_int_t)v->proofs));
                _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
                printf("%s\n", s ? s : "{\"verified\":true}");
                return;
        }
        printf("ledger verified: %" PRIu64 " entries, %" PRIu64 " signed tree heads", r->entries,
               r->sths);
        if (proofs)
                printf(", %" PRIu64 " consistency proofs", v->proofs);
        printf(", root %s", root);
        if (r->latest.size)
                printf(", latest head size %" PRIu64 " signed %s", r->latest.size, t);
        else
                printf(", no signed tree head yet: nothing is signed");
        if (r->latest.size && above)
                printf(" (%" PRIu64 " newer entries not yet under a signed head)", above);
        printf("\n");
}

static int verify_failed(const struct opts *o, const char *verb, const char *why, int rc)
{
        fprintf(stderr, "veritee: ledger %s: %s\n", verb, why);
        if (o->json) {
                json_auto_t *j = json_pack("{s:b, s:s}", "verified", 0, "reason", why);
                _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
                if (s)
                        printf("%s\n", s);
        }
        return rc;
}

static int save_head(const char *path, const char *sth)
{
        if (!sth) {
                fprintf(stderr, "veritee: ledger verify: no signed tree head to save in %s\n",
                        path);
                return EXIT_REJECTED;
        }
        _cleanup_free_ char *t = NULL;
        if (asprintf(&t, "%s\n", sth) < 0 || vt_write_file_atomic(path, t, strlen(t), 0644) < 0) {
                fprintf(stderr, "veritee: --save-sth %s: cannot write: %s\n", path,
                        strerror(errno));
                return EXIT_USAGE;
        }
        return 0;
}

static int verify_server(const struct opts *o, json_t *jwks, const char *saved,
                         struct verify_run *v, struct vt_ledger_audit_result *r, struct vt_diag *d,
                         bool *transport, char *kid)
{
        struct srv s = {0};
        int rc = srv_open(&s, o);
        if (rc)
                return rc;
        json_auto_t *fetched = NULL;
        if (!jwks) {
                if ((rc = server_jwks(&s, "verify", &fetched)) != 0) {
                        srv_close(&s);
                        return rc;
                }
                kid_of(fetched, kid);
                fprintf(stderr,
                        "veritee: ledger verify: trusting the ledger key the server sent (kid "
                        "%s): whoever runs the server could sign another history with it; pin "
                        "the key you expect with --key PEM|JWKS\n",
                        kid);
                jwks = fetched;
        }
        kid_of(jwks, kid);
        static const struct walk_cb cb = {.sth = run_sth, .entry = run_entry};
        int e = vt_ledger_audit_new(jwks, saved, &v->audit, d);
        if (e == 0)
                e = walk_server(&s, &cb, v, d);
        if (e == 0)
                e = vt_ledger_audit_finish(v->audit, r, d);
        if (e == 0)
                e = consistency_all(&s, v, jwks, saved, d);
        if (e == 0 && v->n_heads && !(v->latest = strdup(v->heads[v->n_heads - 1])))
                e = VT_E_NOMEM;
        *transport = e < 0 && s.transport_failed;
        srv_close(&s);
        return e < 0 ? -1 : 0;
}

static int ledger_verify(int argc, char **argv)
{
        struct opts o = {0};
        int rc = parse(argc, argv,
                       O_SERVER | O_TOKEN | O_DB | O_FILE | O_KEY | O_STH | O_SAVE | O_JSON,
                       verify_usage, &o);
        if (rc)
                return rc == 1 ? 0 : rc;
        if (optind != argc)
                return cli_usage_error("ledger verify: unexpected argument \"%s\"", argv[optind]);
        if (!!o.server + !!o.db + !!o.file != 1)
                return cli_usage_error("ledger verify: give exactly one of --url URL, --db "
                                       "FILE, --file EXPORT");
        if (o.token_file && !o.server)
                return cli_usage_error("ledger verify: --token goes with --url");
        if (o.db && !o.key)
                return cli_usage_error("ledger verify: --db needs --key (the ledger's public "
                                       "key: PEM or JWKS)");
        json_auto_t *jwks = NULL;
        if (o.key && !(jwks = load_key(o.key)))
                return EXIT_USAGE;
        _cleanup_free_ char *saved = NULL;
        if (o.sth && !(saved = read_saved(o.sth)))
                return EXIT_USAGE;

        struct verify_run v = {0};
        struct vt_ledger_audit_result r = {0};
        struct vt_diag d = {0};
        char kid[VT_JWK_THUMBPRINT_LEN + 1] = "";
        int e = 0;
        bool transport = false;
        if (o.server) {
                rc = verify_server(&o, jwks, saved, &v, &r, &d, &transport, kid);
                if (rc > 0) {
                        verify_run_done(&v);
                        return rc;
                }
                e = rc;
        } else if (o.db) {
                struct vt_store *store = NULL;
                if ((rc = open_db(o.db, &store)) != 0)
                        return rc;
                e = vt_ledger_audit_store(store, jwks, saved, &r, &d);
                uint64_t size;
                if (e == 0 && vt_store_ledger_sth_latest(store, &size, &v.latest, NULL) < 0)
                        v.latest = NULL;
                vt_store_close(store);
        } else {
                void *map = NULL;
                size_t len = 0;
                if (map_file(o.file, VT_LEDGER_EXPORT_MAX, &map, &len) < 0)
                        return EXIT_USAGE;
                struct vt_ledger_export *x = NULL;
                e = vt_ledger_export_parse(map ? map : "", len, &x, &d);
                if (e == 0 && !jwks) {
                        jwks = json_incref((json_t *)vt_ledger_export_jwks(x));
                        kid_of(jwks, kid);
                        fprintf(stderr,
                                "veritee: ledger verify: WARNING: no --key: checking against the "
                                "key inside %s itself (kid %s); this shows the file is "
                                "self-consistent, not that the operator did not rewrite it: pin "
                                "the ledger key with --key PEM|JWKS\n",
                                o.file, kid);
                }
                if (e == 0)
                        e = vt_ledger_export_audit(x, jwks, saved, &r, &v.latest, &d);
                vt_ledger_export_free(x);
                if (map)
                        munmap(map, len);
        }
        if (e < 0) {
                rc = verify_failed(&o, "verify", d.msg[0] ? d.msg : vt_strerror(e),
                                   transport ? EXIT_USAGE : EXIT_REJECTED);
                verify_run_done(&v);
                return rc;
        }
        if (jwks && !kid[0])
                kid_of(jwks, kid);
        print_verified(&o, &r, &v, o.server != NULL, kid);
        rc = o.save_sth ? save_head(o.save_sth, v.latest) : 0;
        verify_run_done(&v);
        return rc;
}

/*
 * receipt, verify-receipt
 */

static int parse_index(const char *s, uint64_t *ret)
{
        char *end = NULL;
        errno = 0;
        unsigned long long v = s && *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
        if (!end || *end || errno || v > INT64_MAX)
                return cli_usage_error("ledger: \"%s\" is not an entry index", s ? s : "");
        *ret = v;
        return 0;
}

static int ledger_receipt(int argc, char **argv)
{
        struct opts o = {0};
        int rc = parse(argc, argv, O_SERVER | O_TOKEN | O_OUT, receipt_usage, &o);
        if (rc)
                return rc == 1 ? 0 : rc;
        uint64_t index = 0;
        if (optind + 1 != argc)
                return cli_usage_error("%s", receipt_usage);
        if ((rc = parse_index(argv[optind], &index)) != 0)
                return rc;
        struct srv s = {0};
        if ((rc = srv_open(&s, &o)) != 0)
                return rc;
        char path[64];
        snprintf(path, sizeof(path), "/ledger/receipts/%" PRIu64, index);
        struct vt_diag d = {0};
        json_auto_t *j = NULL;
        _cleanup_free_ char *t = NULL;
        int e = srv_get_raw(&s, path, VT_LEDGER_MAX_RECEIPT, &j, &t, &d);
        srv_close(&s);
        if (e < 0) {
                fprintf(stderr, "veritee: ledger receipt: %s\n", d.msg);
                return e == VT_E_NOTFOUND ? EXIT_REJECTED : EXIT_USAGE;
        }
        /* as received: the bytes a later verify-receipt reads are the server's */
        size_t n = strlen(t);
        bool nl = n > 0 && t[n - 1] == '\n';
        if (!o.out) {
                printf("%s%s", t, nl ? "" : "\n");
                return 0;
        }
        _cleanup_free_ char *tn = NULL;
        if (asprintf(&tn, "%s%s", t, nl ? "" : "\n") < 0 ||
            vt_write_file_atomic(o.out, tn, strlen(tn), 0644) < 0) {
                fprintf(stderr, "veritee: --out %s: cannot write: %s\n", o.out, strerror(errno));
                return EXIT_USAGE;
        }
        return 0;
}

/* verify_ccf checks a CCF / Azure Confidential Ledger receipt against the service's
 * certificate. */
static int verify_ccf(const struct opts *o)
{
        if (!o->service_cert)
                return cli_usage_error("ledger verify-receipt: --ccf needs --service-cert PEM "
                                       "(the ledger's service certificate)");
        if (o->key)
                return cli_usage_error("ledger verify-receipt: --key is for veritee receipts, "
                                       "not with --ccf");
        size_t len, pl;
        _cleanup_free_ uint8_t *text = cli_read(o->ccf, 1u << 20, &len);
        if (!text)
                return EXIT_USAGE;
        _cleanup_free_ uint8_t *pem = cli_read(o->service_cert, 256u * 1024u, &pl);
        if (!pem)
                return EXIT_USAGE;
        struct vt_ccf_receipt_info info;
        struct vt_diag d = {0};
        int e = vt_ccf_receipt_verify(text, len, (const char *)pem, pl, &info, &d);
        if (e < 0)
                return verify_failed(o, "verify-receipt", d.msg[0] ? d.msg : vt_strerror(e),
                                     EXIT_REJECTED);
        char root[65], node[65];
        vt_hex_encode(info.root, 32, root);
        vt_hex_encode(info.node_id, 32, node);
        if (o->json) {
                json_auto_t *j =
                        json_pack("{s:b, s:s, s:b, s:s, s:s, s:b, s:I}", "verified", 1,
                                  "transaction_id", info.transaction_id, "transaction_id_signed",
                                  info.transaction_id_signed, "root", root, "node_id", node,
                                  "signature_transaction", info.signature_transaction,
                                  "endorsements", (json_int_t)info.n_endorsements);
                _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
                printf("%s\n", s ? s : "{\"verified\":true}");
                return 0;
        }
        printf("ccf receipt verified: transaction %s%s, root %s signed by node %s, %zu "
               "endorsement(s) up to the service certificate%s\n",
               info.transaction_id[0] ? info.transaction_id : "(unnamed)",
               info.transaction_id_signed ? "" : " (id not covered by the signature)", root, node,
               info.n_endorsements, info.signature_transaction ? " (a signature transaction)" : "");
        return 0;
}

static int ledger_verify_receipt(int argc, char **argv)
{
        struct opts o = {0};
        int rc = parse(argc, argv, O_KEY | O_JSON | O_CCF | O_CERT, verify_receipt_usage, &o);
        if (rc)
                return rc == 1 ? 0 : rc;
        if (o.ccf) {
                if (optind != argc)
                        return cli_usage_error("%s", verify_receipt_usage);
                return verify_ccf(&o);
        }
        if (o.service_cert)
                return cli_usage_error("ledger verify-receipt: --service-cert goes with --ccf");
        if (optind + 1 != argc)
                return cli_usage_error("%s", verify_receipt_usage);
        if (!o.key)
                return cli_usage_error("ledger verify-receipt: --key PEM|JWKS (the ledger's "
                                       "public key) is required");
        json_auto_t *jwks = load_key(o.key);
        if (!jwks)
                return EXIT_USAGE;
        size_t len;
        _cleanup_free_ char *text = (char *)cli_read(argv[optind], VT_LEDGER_MAX_RECEIPT, &len);
        if (!text)
                return EXIT_USAGE;
        uint64_t index;
        struct vt_sth h;
        struct vt_diag d = {0};
        int e = vt_ledger_receipt_verify(text, len, jwks, &index, &h, &d);
        if (e < 0)
                return verify_failed(&o, "verify-receipt", d.msg[0] ? d.msg : vt_strerror(e),
                                     EXIT_REJECTED);
        /* verified: the entry's fields for the report */
        json_auto_t *r = json_loadb(text, len, 0, NULL);
        const json_t *entry = json_object_get(r, "entry");
        const char *kind = json_string_value(json_object_get(entry, "kind"));
        int64_t et = (int64_t)json_integer_value(json_object_get(entry, "time"));
        char t1[21], t2[21];
        time_of(et, t1);
        time_of(h.time, t2);
        if (o.json) {
                json_auto_t *j = json_pack("{s:b, s:I, s:s, s:I, s:I, s:I, s:s}", "verified", 1,
                                           "index", (json_int_t)index, "kind", kind ? kind : "",
                                           "time", (json_int_t)et, "tree_size", (json_int_t)h.size,
                                           "sth_time", (json_int_t)h.time, "kid", h.kid);
                _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
                printf("%s\n", s ? s : "{\"verified\":true}");
                return 0;
        }
        printf("receipt verified: entry %" PRIu64 " (kind %s, time %s) is in the ledger's tree "
               "of %" PRIu64 " entries, head signed %s by key %s\n",
               index, kind ? kind : "?", t1, h.size, t2, h.kid);
        return 0;
}

/*
 * export
 */

struct export_run {
        struct vt_ledger_export_writer *w;
        uint64_t sths, entries;
};

static int export_sth(void *ud, const char *jws, struct vt_diag *d)
{
        struct export_run *x = ud;
        x->sths++;
        return vt_ledger_export_write_sth(x->w, jws, d);
}

static int export_entry(void *ud, uint64_t index, const json_t *entry, struct vt_diag *d)
{
        struct export_run *x = ud;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int e = vt_ledger_entry_text(entry, &text, &len);
        if (e < 0)
                return vt_diag_set(d, VT_E_FORMAT, "entry %" PRIu64 ": %s", index,
                                   e == VT_E_LIMIT ? "above the size limit"
                                                   : "not an object with a kind and a time");
        x->entries++;
        return vt_ledger_export_write_entry(x->w, index, text, len, d);
}

static int ledger_export(int argc, char **argv)
{
        struct opts o = {0};
        int rc = parse(argc, argv, O_SERVER | O_TOKEN | O_DB | O_KEY | O_OUT, export_usage, &o);
        if (rc)
                return rc == 1 ? 0 : rc;
        if (optind != argc)
                return cli_usage_error("ledger export: unexpected argument \"%s\"", argv[optind]);
        if (!!o.server + !!o.db != 1)
                return cli_usage_error("ledger export: give exactly one of --url URL, --db "
                                       "FILE");
        if (o.db && !o.key)
                return cli_usage_error("ledger export: --db needs --key (the ledger's public "
                                       "key, written into the export)");
        if (o.server && o.key)
                return cli_usage_error("ledger export: --url writes the server's "
                                       "/ledger/jwks; --key goes with --db");
        json_auto_t *jwks = NULL;
        if (o.key && !(jwks = load_key(o.key)))
                return EXIT_USAGE;
        struct srv s = {0};
        struct vt_store *store = NULL;
        if (o.server && (rc = srv_open(&s, &o)) != 0)
                return rc;
        if (o.server && (rc = server_jwks(&s, "export", &jwks)) != 0) {
                srv_close(&s);
                return rc;
        }
        if (o.db && (rc = open_db(o.db, &store)) != 0)
                return rc;

        _cleanup_free_ char *tmp = NULL;
        FILE *f = stdout;
        if (o.out) {
                if (asprintf(&tmp, "%s.partial", o.out) < 0 || !(f = fopen(tmp, "we"))) {
                        fprintf(stderr, "veritee: --out %s: cannot write: %s\n", o.out,
                                strerror(errno));
                        srv_close(&s);
                        vt_store_close(store);
                        return EXIT_USAGE;
                }
        }
        struct vt_diag d = {0};
        struct export_run x = {0};
        int e;
        if (o.server) {
                static const struct walk_cb cb = {.sth = export_sth, .entry = export_entry};
                e = vt_ledger_export_writer_new(f, jwks, &x.w, &d);
                if (e == 0 && (e = walk_server(&s, &cb, &x, &d)) < 0)
                        vt_ledger_export_writer_free(x.w);
                else if (e == 0)
                        e = vt_ledger_export_writer_finish(x.w, &d);
        } else {
                e = vt_ledger_export_store(store, jwks, f, &d);
                if (e == 0 && vt_store_ledger_size(store, &x.entries, NULL) < 0)
                        x.entries = 0;
        }
        srv_close(&s);
        vt_store_close(store);
        if (o.out) {
                bool ok = e == 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
                ok = fclose(f) == 0 && ok;
                if (ok && rename(tmp, o.out) < 0)
                        ok = false;
                if (!ok) {
                        unlink(tmp);
                        if (e == 0)
                                e = vt_diag_set(&d, VT_E_IO, "--out %s: cannot write: %s", o.out,
                                                strerror(errno));
                }
        }
        if (e < 0) {
                fprintf(stderr, "veritee: ledger export: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
                return EXIT_USAGE;
        }
        if (o.out)
                fprintf(stderr, "veritee: ledger export: %" PRIu64 " entries written to %s\n",
                        x.entries, o.out);
        return 0;
}

int cmd_ledger(int argc, char **argv)
{
        static const struct {
                const char *verb;
                int (*fn)(int argc, char **argv);
        } verbs[] = {
                {"verify", ledger_verify},
                {"receipt", ledger_receipt},
                {"verify-receipt", ledger_verify_receipt},
                {"export", ledger_export},
        };
        if (argc < 2)
                return cli_usage_error("%s", family_usage);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(argv[1], verbs[i].verb) == 0)
                        return verbs[i].fn(argc - 1, argv + 1);
        return cli_usage_error("ledger: unknown verb \"%s\"; %s", argv[1], family_usage);
}
