/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key-encryption keys:
 *   veritee admin kekgen FILE
 *   veritee admin rotate-kek NEW_KEY_FILE --config veriteed.yaml
 * rotate-kek re-wraps every stored data key from the configured KEK to the new one in
 * one transaction (the ciphertexts are not touched), then installs the new key at
 * secrets.kek_file; a running veriteed notices the new KEK id and reloads the file.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../veriteed/config.h"
#include "cli.h"
#include "crypto/seal.h"
#include "store/store.h"
#include "util/file.h"

struct rewrap_ctx {
        const struct vt_kek *old_k, *new_k;
        struct vt_diag *d;
};

static int rewrap_one(const char *path, const char *kek_id, const uint8_t *wdek, size_t len,
                      uint8_t **ret_new, size_t *ret_new_len, void *ud)
{
        struct rewrap_ctx *c = ud;
        if (strcmp(kek_id, vt_kek_id(c->old_k)) != 0)
                return vt_diag_set(c->d, VT_E_CRYPTO,
                                   "%s is sealed under KEK %s, not the configured %s", path, kek_id,
                                   vt_kek_id(c->old_k));
        return vt_rewrap(c->old_k, c->new_k, (const uint8_t *)path, strlen(path), wdek, len,
                         ret_new, ret_new_len, c->d);
}

static int rotate(const char *new_path, const char *config)
{
        struct vtd_config cfg;
        struct vt_diag d = {0};
        struct vt_kek *old_k = NULL, *new_k = NULL;
        struct vt_store *st = NULL;
        size_t n = 0;
        int e;
        if (vtd_config_load(config, &cfg, &d) < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg);
                return EXIT_USAGE;
        }
        if (!cfg.kek_file) {
                fprintf(stderr, "veritee: %s has no secrets.kek_file\n", config);
                vtd_config_done(&cfg);
                return EXIT_USAGE;
        }
        if ((e = vt_kek_load(cfg.kek_file, &old_k, &d)) < 0 ||
            (e = vt_kek_load(new_path, &new_k, &d)) < 0 ||
            (e = vt_store_open(cfg.database, &st, &d)) < 0)
                goto out;
        if (strcmp(vt_kek_id(old_k), vt_kek_id(new_k)) == 0) {
                e = vt_diag_set(&d, VT_E_INVAL, "the new KEK is the configured one");
                goto out;
        }
        struct rewrap_ctx c = {old_k, new_k, &d};
        if ((e = vt_store_resource_rewrap_all(st, vt_kek_id(new_k), rewrap_one, &c, &n)) < 0) {
                if (!d.msg[0])
                        vt_diag_set(&d, e, "re-wrapping failed; nothing changed");
                goto out;
        }
        /* install the new key where the server reads it (atomic rename, 0600) */
        uint8_t *key = NULL;
        size_t kl = 0;
        if ((e = vt_read_file(new_path, 4096, &key, &kl)) < 0) {
                vt_diag_set(&d, e, "cannot read %s", new_path);
                goto out;
        }
        e = vt_write_file_atomic(cfg.kek_file, key, kl, 0600);
        OPENSSL_clear_free(key, kl);
        if (e < 0) {
                vt_diag_set(&d, e,
                            "re-wrapped %zu keys but could not install the new KEK at %s: copy %s "
                            "there now",
                            n, cfg.kek_file, new_path);
                goto out;
        }
        printf("{\"rewrapped\":%zu,\"kek_id\":\"%s\",\"kek_file\":\"%s\"}\n", n, vt_kek_id(new_k),
               cfg.kek_file);
out:
        if (e < 0)
                fprintf(stderr, "veritee: rotate-kek: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
        vt_store_close(st);
        vt_kek_free(old_k);
        vt_kek_free(new_k);
        vtd_config_done(&cfg);
        return e < 0 ? EXIT_REJECTED : 0;
}

int cmd_admin_kek(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        static const char use[] =
                "usage: veritee admin kekgen FILE\n"
                "       veritee admin rotate-kek NEW_KEY_FILE --config veriteed.yaml";
        const char *config = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'h':
                        puts(use);
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind != argc - 1)
                return cli_usage_error("%s", use);
        if (strcmp(argv[0], "kekgen") == 0) {
                struct vt_diag d = {0};
                if (vt_kek_generate(argv[optind], &d) < 0) {
                        fprintf(stderr, "veritee: kekgen: %s\n", d.msg);
                        return EXIT_REJECTED;
                }
                printf("{\"kek_file\":\"%s\"}\n", argv[optind]);
                return 0;
        }
        if (!config)
                return cli_usage_error("rotate-kek needs --config (the server's configuration)");
        return rotate(argv[optind], config);
}
