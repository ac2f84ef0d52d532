/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key-encryption keys:
 *   veritee admin kekgen FILE
 *   veritee admin rotate-kek NEW_KEY_FILE|PKCS11_URI --config veriteed.yaml
 * rotate-kek stages the new key beside secrets.kek_file (fsync'd), rewraps every stored
 * data key to it and makes it current in one transaction (the ciphertexts are not
 * touched), then renames it onto secrets.kek_file; a running veriteed follows the
 * store's current KEK. An interrupted rotation is resumed or rolled back first
 * (lib/store/keyring.h). The new KEK may be a "pkcs11:" URI naming an AES-256 key in a
 * PKCS#11 token (an HSM): then the staged file, and kek_file after the rotation, hold
 * that URI, and the token wraps the data keys.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "cli.h"
#include "crypto/seal.h"
#include "store/keyring.h"
#include "store/store.h"

static void rotate_note(const char *msg, void *ud)
{
        (void)ud;
        fprintf(stderr, "veritee: rotate-kek: %s\n", msg);
}

/* store_open opens the server's store: the back end its configuration names (a
 * PostgreSQL DSN from store.dsn_file or VERITEE_PG_DSN, as veriteed reads it). */
static int store_open(const struct vt_config *c, struct vt_store **ret, struct vt_diag *d)
{
        if (c->store_backend != VTD_STORE_POSTGRES) {
                struct vt_store *s = NULL;
                int e = vt_store_open_with(&vt_store_sqlite_ops, c->database, &s, d);
                if (e == 0 && (e = vt_store_set_cache(s, c->sqlite_cache_mib * 1024, d)) < 0)
                        vt_store_close(s);
                if (e == 0)
                        *ret = s;
                return e;
        }
        char *dsn = NULL;
        int e = vt_config_store_dsn(c, &dsn, d);
        if (e < 0)
                return e;
        e = vt_store_open_with(&vt_store_postgres_ops, dsn, ret, d);
        explicit_bzero(dsn, strlen(dsn)); /* it may hold a password */
        free(dsn);
        return e;
}

static int rotate(const char *new_path, const char *config)
{
        struct vt_config cfg;
        struct vt_diag d = {0};
        struct vt_keyring *kr = NULL;
        struct vt_store *st = NULL;
        size_t n = 0;
        char id[32];
        int e;
        if (vt_config_load(config, &cfg, &d) < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg);
                return EXIT_USAGE;
        }
        if (!cfg.kek_file) {
                fprintf(stderr, "veritee: %s has no secrets.kek_file\n", config);
                vt_config_done(&cfg);
                return EXIT_USAGE;
        }
        if ((e = store_open(&cfg, &st, &d)) < 0 ||
            (e = vt_keyring_new(cfg.kek_file, rotate_note, NULL, &kr)) < 0 ||
            (e = vt_keyring_rotate(kr, st, new_path, &n, id, &d)) < 0)
                goto out;
        printf("{\"rewrapped\":%zu,\"kek_id\":\"%s\",\"kek_file\":\"%s\"}\n", n, id, cfg.kek_file);
out:
        if (e < 0)
                fprintf(stderr, "veritee: rotate-kek: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
        vt_keyring_free(kr);
        vt_store_close(st);
        vt_config_done(&cfg);
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
                "       veritee admin rotate-kek NEW_KEY_FILE --config veriteed.yaml\n"
                "       veritee admin rotate-kek 'pkcs11:token=T;object=K?pin-source=file:PIN' "
                "--config veriteed.yaml";
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
