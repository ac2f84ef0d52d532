/* SPDX-License-Identifier: Apache-2.0 */
/* veriteed: the attestation and key-broker server. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "server.h"
#include "util/file.h"
#include "util/macro.h"

static const char usage[] =
        "Usage: veriteed [--config FILE] [--check-config]\n"
        "\n"
        "The veritee attestation and key-broker server (KBS protocol 0.4.0).\n"
        "\n"
        "  --config FILE     YAML configuration (docs/configuration.md); default: built-in "
        "defaults\n"
        "  --check-config    load the configuration and the keys it names, then exit\n"
        "  --version         print the version\n"
        "  --help            print this text\n";

static void server_done(struct vtd *s)
{
        vt_store_close(s->store);
        vt_signer_free(s->signer);
        vt_snp_verifier_free(s->snp_hw);
        vt_snp_verifier_free(s->snp_sim);
        vtd_refvals_free(s->refvals);
        vtd_config_done(&s->cfg);
}

static int mkdir_p(const char *path, mode_t mode)
{
        char buf[4096];
        if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
                return -1;
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                                return -1;
                        *p = '/';
                }
        return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

static int server_init(struct vtd *s, struct vt_diag *d)
{
        int e;
        if (mkdir_p(s->cfg.state_dir, 0700) < 0)
                return vt_diag_set(d, VT_E_IO, "cannot create state_dir %s: %s", s->cfg.state_dir,
                                   strerror(errno));
        if ((e = vt_store_open(s->cfg.database, &s->store, d)) < 0)
                return e;
        if ((e = vt_signer_load_or_create(s->cfg.token_key, &s->signer, d)) < 0)
                return e;
        if ((e = vtd_refvals_load(s->cfg.reference_values, &s->refvals, d)) < 0)
                return e;
        (void)mkdir_p(s->cfg.kds_cache_dir, 0700);
        if ((e = vt_snp_verifier_new(&s->snp_hw)) < 0 ||
            (e = vt_snp_verifier_set_kds(s->snp_hw, s->cfg.kds_url, s->cfg.kds_cache_dir)) < 0)
                return vt_diag_set(d, e, "cannot set up the SNP verifier");
        if (s->cfg.simulator_root) {
                _cleanup_free_ uint8_t *pem = NULL;
                size_t n;
                if ((e = vt_read_file(s->cfg.simulator_root, 1u << 20, &pem, &n)) < 0)
                        return vt_diag_set(d, e, "cannot read attestation.simulator_root %s",
                                           s->cfg.simulator_root);
                if ((e = vt_snp_verifier_new(&s->snp_sim)) < 0 ||
                    (e = vt_snp_verifier_set_kds(s->snp_sim, s->cfg.kds_url,
                                                 s->cfg.kds_cache_dir)) < 0 ||
                    (e = vt_snp_verifier_add_root(s->snp_sim, VT_SNP_PRODUCT_MILAN, pem, n, d)) < 0)
                        return e;
        }
        s->started = vtd_now();
        return 0;
}

static void *sweeper(void *arg)
{
        struct vtd *s = arg;
        for (;;) {
                sleep(60);
                size_t n = 0;
                if (vt_store_sweep(s->store, vtd_now(), &n) == 0 && n)
                        vtd_log("debug", "swept %zu expired sessions", n);
        }
        return NULL;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"check-config", no_argument, NULL, 'C'},
                {"version", no_argument, NULL, 'V'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *config = NULL;
        bool check = false;
        int c;
        while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'C':
                        check = true;
                        break;
                case 'V':
                        printf("veriteed %s\n", VT_VERSION);
                        return 0;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                default:
                        fputs(usage, stderr);
                        return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "veriteed: unexpected argument \"%s\"\n%s", argv[optind], usage);
                return 2;
        }

        static struct vtd s;
        struct vt_diag d = {0};
        if (vtd_config_load(config, &s.cfg, &d) < 0) {
                fprintf(stderr, "veriteed: %s\n", d.msg);
                return 2;
        }
        if (server_init(&s, &d) < 0) {
                vtd_log("error", "start-up failed: %s", d.msg);
                server_done(&s);
                return 1;
        }
        if (check) {
                printf("veriteed: configuration ok\n");
                server_done(&s);
                return 0;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct vtd_http *h = NULL;
        if (vtd_http_start(&s, &h, &d) < 0) {
                vtd_log("error", "start-up failed: %s", d.msg);
                server_done(&s);
                return 1;
        }
        pthread_t sw;
        pthread_create(&sw, NULL, sweeper, &s);
        pthread_detach(sw);
        char host[160];
        snprintf(host, sizeof(host), "%s", s.cfg.listen);
        char *colon = strrchr(host, ':');
        if (colon)
                *colon = 0;
        vtd_log("info", "veriteed %s listening on %s://%s:%u (store %s, token key id %s)",
                VT_VERSION, s.cfg.tls_certificate ? "https" : "http", host, h->port, s.cfg.database,
                vt_signer_kid(s.signer));
        if (s.snp_sim)
                vtd_log("warning",
                        "SIMULATOR TRUSTED: tee \"sim\" evidence signed by the veritee simulator "
                        "root %s is accepted; "
                        "it is not hardware, and its tokens say veritee.simulated=true",
                        s.cfg.simulator_root);
        if (s.cfg.allow_sample)
                vtd_log("warning", "tee \"sample\" (unsigned evidence) is accepted: "
                                   "attestation.allow_sample is true");
        if (!s.cfg.reference_values)
                vtd_log("warning", "no reference values configured: no evidence can be affirming");
        int sig = 0;
        sigwait(&set, &sig);
        vtd_log("info", "signal %d: stopping", sig);
        vtd_http_stop(h);
        server_done(&s);
        return 0;
}
