/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee secret import DIR|FILE.jsonl [--policy FILE] [--batch N]: many secrets at once
 * through POST /kbs/v0/resources/batch (docs/admin.md "Importing many secrets").
 *
 *   DIR: every regular file DIR/REPO/TYPE/TAG is the secret REPO/TYPE/TAG, its bytes the
 *        value. Any other file (another depth, a name that is not a segment) is refused.
 *   FILE.jsonl: one JSON object a line (empty lines skipped):
 *        {"path": "R/T/G", "value": "...", "encoding": "text"|"base64", "policy": {...}}
 *        "encoding" is "text" when absent (value is the UTF-8 text itself); "base64" is
 *        standard base64 with padding. "policy" (optional) is a release policy object.
 * --policy FILE is the release policy of every secret that has none of its own.
 *
 * The whole input is read and checked first (paths, encodings, policies, by the same
 * library checks the server applies); a bad line or file stops the import before
 * anything is sent, naming the line or file. Then batches of up to N (default 500, at
 * most VT_STORE_BATCH_MAX) secrets are sent; each batch is stored in one transaction.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "policy/release.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"

#define IMPORT_MAX_VALUE (16u << 20)    /* as for secret put */
#define IMPORT_BODY_MAX  (768u * 1024u) /* a request stays below limits.max_body_bytes */

struct import {
        const char *server, *token;
        size_t batch;
        json_t *policy;    /* --policy, or NULL */
        bool send;         /* false: the checking pass */
        json_t *items;     /* the batch being built */
        size_t body;       /* its estimated size */
        const char *first; /* where it starts (line or file), for messages */
        char first_buf[512];
        size_t n, n_policy, batches;
};

static int check_policy(const json_t *pol, const char *where)
{
        _cleanup_free_ char *txt = json_dumps(pol, JSON_COMPACT | JSON_PRESERVE_ORDER);
        struct vt_release_policy *rp = NULL;
        struct vt_diag d = {0};
        if (!json_is_object(pol) || !txt ||
            vt_release_policy_parse(txt, strlen(txt), &rp, &d) < 0) {
                fprintf(stderr, "veritee: secret import: %s: policy: %s\n", where,
                        d.msg[0] ? d.msg : "not a JSON object");
                return EXIT_USAGE;
        }
        vt_release_policy_free(rp);
        return 0;
}

static int flush(struct import *im)
{
        size_t n = json_array_size(im->items);
        if (!im->send || n == 0)
                return 0;
        json_auto_t *body = json_pack("{s:O}", "items", im->items);
        _cleanup_free_ char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_array_clear(im->items);
        im->body = 0;
        if (!txt)
                return EXIT_REJECTED;
        _cleanup_free_ char *ans = NULL;
        size_t al = 0;
        long st = cli_http_call(im->server, im->token, "POST", "/kbs/v0/resources/batch", txt,
                                strlen(txt), "application/json", 1u << 20, &ans, &al);
        OPENSSL_cleanse(txt, strlen(txt));
        if (st != 200) {
                json_auto_t *j = ans ? json_loads(ans, 0, NULL) : NULL;
                const char *detail = json_string_value(json_object_get(j, "detail"));
                fprintf(stderr,
                        "veritee: secret import: the batch of %zu starting at %s was refused "
                        "(HTTP %ld): %s; %zu secrets in earlier batches are stored\n",
                        n, im->first, st, detail ? detail : "no reason given", im->n);
                return EXIT_REJECTED;
        }
        im->n += n;
        im->batches++;
        fprintf(stderr, "veritee: secret import: %zu secrets stored\n", im->n);
        return 0;
}

/* add takes one checked secret (value: n bytes) into the batch, sending it when full. */
static int add(struct import *im, const char *where, const char *path, const uint8_t *value,
               size_t n, const json_t *policy)
{
        const json_t *pol = policy ? policy : im->policy;
        if (!im->send) {
                im->n++;
                im->n_policy += pol != NULL;
                return 0;
        }
        _cleanup_free_ char *b64 = NULL;
        if (vt_b64_encode(value, n, VT_B64_STD, &b64) < 0)
                return EXIT_REJECTED;
        size_t sz = strlen(path) + strlen(b64) + 64;
        _cleanup_free_ char *pt = pol ? json_dumps(pol, JSON_COMPACT) : NULL;
        sz += pt ? strlen(pt) : 0;
        if (json_array_size(im->items) > 0 && im->body + sz > IMPORT_BODY_MAX) {
                int e = flush(im);
                if (e)
                        return e;
        }
        if (json_array_size(im->items) == 0) {
                snprintf(im->first_buf, sizeof(im->first_buf), "%s", where);
                im->first = im->first_buf;
        }
        json_t *it = json_pack("{s:s, s:s}", "path", path, "value", b64);
        OPENSSL_cleanse(b64, strlen(b64));
        if (!it || (pol && json_object_set(it, "policy", (json_t *)pol) < 0) ||
            json_array_append_new(im->items, it) < 0)
                return EXIT_REJECTED;
        im->body += sz;
        return json_array_size(im->items) >= im->batch ? flush(im) : 0;
}

static int check_path(const char *where, const char *path)
{
        if (!vt_resource_path_valid(path)) {
                fprintf(stderr,
                        "veritee: secret import: %s: \"%.300s\" is not REPO/TYPE/TAG (segments "
                        "[A-Za-z0-9_-][A-Za-z0-9_.-]*)\n",
                        where, path);
                return EXIT_USAGE;
        }
        return 0;
}

/* ---- JSON lines ---- */

static int jsonl_line(struct import *im, const char *file, size_t lineno, const char *line,
                      size_t len)
{
        char where[512];
        snprintf(where, sizeof(where), "%.400s line %zu", file, lineno);
        json_error_t err;
        json_auto_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(j)) {
                fprintf(stderr, "veritee: secret import: %s: not a JSON object%s%s\n", where,
                        j ? "" : ": ", j ? "" : err.text);
                return EXIT_USAGE;
        }
        const char *key;
        json_t *v;
        json_object_foreach (j, key, v) {
                if (strcmp(key, "path") && strcmp(key, "value") && strcmp(key, "encoding") &&
                    strcmp(key, "policy")) {
                        fprintf(stderr,
                                "veritee: secret import: %s: unknown key \"%.64s\" (path, "
                                "value, encoding, policy)\n",
                                where, key);
                        return EXIT_USAGE;
                }
        }
        const char *path = json_string_value(json_object_get(j, "path"));
        const char *val = json_string_value(json_object_get(j, "value"));
        json_t *enc_j = json_object_get(j, "encoding");
        const char *enc = enc_j ? json_string_value(enc_j) : "text";
        json_t *pol = json_object_get(j, "policy");
        if (!path || !val) {
                fprintf(stderr,
                        "veritee: secret import: %s: \"path\" and \"value\" must be "
                        "strings\n",
                        where);
                return EXIT_USAGE;
        }
        int e = check_path(where, path);
        if (e)
                return e;
        if (!enc || (strcmp(enc, "text") && strcmp(enc, "base64"))) {
                fprintf(stderr,
                        "veritee: secret import: %s: encoding must be \"text\" or \"base64\"\n",
                        where);
                return EXIT_USAGE;
        }
        if (pol && (e = check_policy(pol, where)))
                return e;
        size_t vl = json_string_length(json_object_get(j, "value"));
        if (strcmp(enc, "text") == 0) {
                if (vl > IMPORT_MAX_VALUE || memchr(val, 0, vl)) {
                        fprintf(stderr, "veritee: secret import: %s: the text value %s\n", where,
                                vl > IMPORT_MAX_VALUE ? "is too long" : "holds a NUL");
                        return EXIT_USAGE;
                }
                return add(im, where, path, (const uint8_t *)val, vl, pol);
        }
        uint8_t *bin = NULL;
        size_t bl = 0;
        if (vt_b64_decode(val, vl, VT_B64_STD, IMPORT_MAX_VALUE, &bin, &bl) < 0) {
                fprintf(stderr,
                        "veritee: secret import: %s: value is not standard base64 (with "
                        "padding, no whitespace)\n",
                        where);
                return EXIT_USAGE;
        }
        e = add(im, where, path, bin, bl, pol);
        OPENSSL_clear_free(bin, bl);
        return e;
}

static int import_jsonl(struct import *im, const char *file)
{
        FILE *f = fopen(file, "re");
        if (!f) {
                fprintf(stderr, "veritee: secret import: %s: %s\n", file, strerror(errno));
                return EXIT_USAGE;
        }
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t n;
        int e = 0;
        while (e == 0 && (n = getline(&line, &cap, f)) >= 0) {
                lineno++;
                size_t len = (size_t)n;
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        len--;
                if (strspn(line, " \t") == len)
                        continue;
                e = jsonl_line(im, file, lineno, line, len);
        }
        if (line)
                OPENSSL_clear_free(line, cap);
        fclose(f);
        return e;
}

/* ---- a directory tree ---- */

static int skip_dots(const struct dirent *de)
{
        return strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

/* walk visits dir (rel: the path below the import root, depth segments) in name order. */
static int walk(struct import *im, const char *dir, const char *rel, int depth)
{
        struct dirent **names = NULL;
        int n = scandir(dir, &names, skip_dots, alphasort);
        if (n < 0) {
                fprintf(stderr, "veritee: secret import: %s: %s\n", dir, strerror(errno));
                return EXIT_USAGE;
        }
        int e = 0;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *full = NULL, *r = NULL;
                if (e == 0 && (asprintf(&full, "%s/%s", dir, names[i]->d_name) < 0 ||
                               asprintf(&r, "%s%s%s", rel, *rel ? "/" : "", names[i]->d_name) < 0))
                        e = EXIT_REJECTED;
                struct stat stt;
                if (e == 0 && stat(full, &stt) < 0) {
                        fprintf(stderr, "veritee: secret import: %s: %s\n", full, strerror(errno));
                        e = EXIT_USAGE;
                }
                if (e == 0 && depth < 2 && S_ISDIR(stt.st_mode))
                        e = walk(im, full, r, depth + 1);
                else if (e == 0 && depth == 2 && S_ISREG(stt.st_mode)) {
                        if ((e = check_path(full, r)) == 0) {
                                size_t vl = 0;
                                uint8_t *v = cli_read(full, IMPORT_MAX_VALUE, &vl);
                                e = v ? add(im, full, r, v, vl, NULL) : EXIT_USAGE;
                                if (v)
                                        OPENSSL_clear_free(v, vl);
                        }
                } else if (e == 0) {
                        fprintf(stderr,
                                "veritee: secret import: %s: not a secret (files are "
                                "DIR/REPO/TYPE/TAG)\n",
                                full);
                        e = EXIT_USAGE;
                }
                free(names[i]);
        }
        free(names);
        return e;
}

static int run_pass(struct import *im, const char *src, bool is_dir)
{
        int e = is_dir ? walk(im, src, "", 0) : import_jsonl(im, src);
        return e ? e : flush(im);
}

int cli_secret_import(const char *server, const char *token, const char *src,
                      const char *policy_file, size_t batch, bool json)
{
        struct stat st;
        if (stat(src, &st) < 0) {
                fprintf(stderr, "veritee: secret import: %s: %s\n", src, strerror(errno));
                return EXIT_USAGE;
        }
        if (batch == 0 || batch > VT_STORE_BATCH_MAX)
                return cli_usage_error("--batch must be 1..%d", VT_STORE_BATCH_MAX);
        json_auto_t *pol = NULL;
        if (policy_file) {
                size_t pn = 0;
                _cleanup_free_ uint8_t *p = cli_read(policy_file, 64u * 1024u, &pn);
                json_error_t err;
                if (!p)
                        return EXIT_USAGE;
                if (!(pol = json_loadb((const char *)p, pn, JSON_REJECT_DUPLICATES, &err))) {
                        fprintf(stderr, "veritee: secret import: %s: %s\n", policy_file, err.text);
                        return EXIT_USAGE;
                }
                int e = check_policy(pol, policy_file);
                if (e)
                        return e;
        }
        json_auto_t *items = json_array();
        struct import im = {.server = server,
                            .token = token,
                            .batch = batch,
                            .policy = pol,
                            .items = items,
                            .first = src};
        if (!items)
                return EXIT_REJECTED;
        bool is_dir = S_ISDIR(st.st_mode);
        /* pass 1 checks everything and sends nothing; pass 2 sends */
        int e = run_pass(&im, src, is_dir);
        if (e)
                return e;
        if (im.n == 0) {
                fprintf(stderr, "veritee: secret import: %s holds no secrets\n", src);
                return EXIT_USAGE;
        }
        size_t total = im.n, with_policy = im.n_policy;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        im.send = true;
        im.n = 0;
        if ((e = run_pass(&im, src, is_dir)))
                return e;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (json)
                printf("{\"stored\":%zu,\"policies\":%zu,\"batches\":%zu,\"seconds\":%.3f}\n",
                       total, with_policy, im.batches, secs);
        else
                printf("imported %zu secrets (%zu with a release policy) in %zu batches, %.2f s "
                       "(%.0f secrets/s)\n",
                       total, with_policy, im.batches, secs, secs > 0 ? (double)total / secs : 0.0);
        return 0;
}
