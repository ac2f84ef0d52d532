/* SPDX-License-Identifier: Apache-2.0 */
/* veriteed: the attestation and key-broker server. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "crypto/seal.h"
#include "crypto/secheap.h"
#include "crypto/x509.h"
#include "http.h"
#include "store/keyring.h"
#include "token/admin.h"
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
        vtd_ledger_done(s); /* commits what is queued and signs a last tree head */
        vt_store_close(s->store);
        vt_signer_free(s->signer);
        vtd_azure_done(s);
        vt_snp_verifier_free(s->snp_hw);
        vt_snp_verifier_free(s->snp_sim);
        vt_dcap_verifier_free(s->dcap);
        vt_nv_verifier_free(s->nvidia);
        vtd_refvals_free(s->refvals);
        vt_keyring_free(s->kek);
        vt_admin_keys_free(s->admin);
        json_decref(s->jwks);
        json_decref(s->token_jwks);
        vt_issued_free(s->issued);
        free(s->proxies);
        json_decref(s->k8s_tolerations);
        vt_tpm_aks_free(s->cfg.tpm_aks);
        vt_config_done(&s->cfg);
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

/* The keys that verify bearer tokens at the resource endpoint: the ones we publish (the
 * signing key, the next one, the retired ones: their tokens verify until they expire), the
 * configured JWKS files and the public keys of the configured certificates. */
static int build_token_jwks(struct vtd *s, struct vt_diag *d)
{
        json_t *keys = json_deep_copy(json_object_get(s->jwks, "keys"));
        s->token_jwks = json_pack("{s:o}", "keys", keys);
        if (!s->token_jwks)
                return VT_E_NOMEM;
        for (size_t i = 0; i < s->cfg.n_trusted_jwks; i++) {
                const char *path = s->cfg.trusted_jwks[i];
                _cleanup_free_ uint8_t *text = NULL;
                size_t n, used = 0, k;
                json_t *key;
                if (vt_read_file(path, 1u << 20, &text, &n) < 0)
                        return vt_diag_set(d, VT_E_IO,
                                           "tokens.trusted_jwks: cannot read %s (at most 1 MiB)",
                                           path);
                json_auto_t *j = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, NULL);
                json_t *ks = json_object_get(j, "keys");
                if (!json_is_array(ks))
                        return vt_diag_set(
                                d, VT_E_FORMAT,
                                "tokens.trusted_jwks: %s is not a JWKS ({\"keys\":[...]})", path);
                /* only keys that can verify a token (ES256: public P-256); a set with
                 * none is a mistake worth stopping for */
                json_array_foreach (ks, k, key)
                        if (vt_jwt_key_usable(key) && json_array_append(keys, key) == 0)
                                used++;
                if (!used)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "tokens.trusted_jwks: %s holds no public P-256 key "
                                           "(tokens are ES256)",
                                           path);
        }
        for (size_t i = 0; i < s->cfg.n_trusted_certs; i++) {
                _cleanup_free_ uint8_t *pem = NULL;
                size_t n;
                X509 *x = NULL;
                EVP_PKEY *pk = NULL;
                if (vt_read_file(s->cfg.trusted_certs[i], 1u << 20, &pem, &n) < 0)
                        return vt_diag_set(d, VT_E_IO, "tokens.trusted_certs: cannot read %s",
                                           s->cfg.trusted_certs[i]);
                if (vt_x509_parse_one(pem, n, &x) == 0) {
                        pk = X509_get_pubkey(x);
                        X509_free(x);
                } else {
                        BIO *b = BIO_new_mem_buf(pem, (int)n);
                        pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
                        BIO_free(b);
                }
                json_t *jwk = vt_jwk_p256_public(pk);
                EVP_PKEY_free(pk);
                if (!jwk)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "tokens.trusted_certs: %s holds no P-256 certificate or "
                                           "public key (tokens are ES256)",
                                           s->cfg.trusted_certs[i]);
                json_array_append_new(keys, jwk);
        }
        return 0;
}

/* attestation.tpm_trusted_aks: the TPM attestation keys whose quotes tee tpm accepts. */
static int load_tpm_aks(struct vt_config *c, struct vt_diag *d)
{
        int e;
        if (!c->n_tpm_trusted_aks)
                return 0;
        if ((e = vt_tpm_aks_new(&c->tpm_aks)) < 0)
                return e;
        for (size_t i = 0; i < c->n_tpm_trusted_aks; i++) {
                _cleanup_free_ uint8_t *pem = NULL;
                size_t n;
                struct vt_diag kd = {0};
                if ((e = vt_read_file(c->tpm_trusted_aks[i], 1u << 20, &pem, &n)) < 0)
                        return vt_diag_set(d, e, "attestation.tpm_trusted_aks: cannot read %s",
                                           c->tpm_trusted_aks[i]);
                if ((e = vt_tpm_aks_add(c->tpm_aks, pem, n, &kd)) < 0)
                        return vt_diag_set(d, e, "attestation.tpm_trusted_aks: %s: %s",
                                           c->tpm_trusted_aks[i], kd.msg);
        }
        return 0;
}

/* VCEK fetches run inside a verification (limits.threads at once): bounded so that they
 * never hold every verification slot (at most limits.threads - 1; with one, none). */
static unsigned kds_fetches(const struct vt_config *c)
{
        return c->kds_max_fetches < c->threads ? c->kds_max_fetches : c->threads - 1;
}

static int set_kds(struct vt_snp_verifier *v, const struct vt_config *c)
{
        int e = vt_snp_verifier_set_kds(v, c->kds_url, c->kds_cache_dir);
        if (e == 0)
                e = vt_snp_verifier_set_fetch_limits(v, c->kds_timeout * 1000u, kds_fetches(c),
                                                     c->kds_retry);
        return e;
}

/* store_open opens the configured back end: SQLite at store.sqlite, or PostgreSQL at the
 * DSN from store.dsn_file or VERITEE_PG_DSN (never from the command line). */
int vtd_store_open(const struct vt_config *c, struct vt_store **ret, struct vt_diag *d)
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

/* The NVIDIA device verifier (attestation.nvidia): OCSP as configured, offline OCSP
 * responses, RIMs, and for tests only an extra root (attestation.nvidia_test_root). */
static int nvidia_init(struct vtd *s, struct vt_diag *d)
{
        const struct vt_config *c = &s->cfg;
        int e;
        if ((e = vt_nv_verifier_new(&s->nvidia)) < 0)
                return vt_diag_set(d, e, "cannot set up the NVIDIA verifier");
        const char *url = c->nvidia_ocsp_url && c->nvidia_ocsp_url[0] ? c->nvidia_ocsp_url : NULL;
        if ((e = vt_nv_verifier_set_ocsp(s->nvidia,
                                         c->nvidia_ocsp ? VT_NV_OCSP_REQUIRE : VT_NV_OCSP_OFF, url,
                                         c->nvidia_ocsp_grace)) < 0)
                return vt_diag_set(d, e, "attestation.nvidia_ocsp_url \"%s\" is not an http(s) URL",
                                   url);
        const char *rim_url = c->nvidia_rim_url && c->nvidia_rim_url[0] ? c->nvidia_rim_url : NULL;
        /* RIMs are checked when there is somewhere to get them: a directory or a service
         * (nvidia_rim_url: "" and no nvidia_rim_dir turn the check off) */
        if (c->nvidia_rim_dir || rim_url) {
                if (c->nvidia_rim_cache_dir)
                        (void)mkdir_p(c->nvidia_rim_cache_dir, 0700);
                if ((e = vt_nv_verifier_set_rim(s->nvidia, c->nvidia_rim_dir, rim_url,
                                                c->nvidia_rim_cache_dir,
                                                c->nvidia_rim_allow_missing)) < 0)
                        return vt_diag_set(d, e,
                                           "attestation.nvidia_rim_url \"%s\" is not an "
                                           "http(s) URL",
                                           rim_url ? rim_url : "");
        }
        for (size_t i = 0; i < c->n_nvidia_ocsp_responses; i++) {
                _cleanup_free_ uint8_t *der = NULL;
                size_t n;
                if ((e = vt_read_file(c->nvidia_ocsp_responses[i], 1u << 20, &der, &n)) < 0)
                        return vt_diag_set(d, e, "cannot read attestation.nvidia_ocsp_responses %s",
                                           c->nvidia_ocsp_responses[i]);
                struct vt_diag od = {0};
                if ((e = vt_nv_verifier_add_ocsp(s->nvidia, der, n, &od)) < 0)
                        return vt_diag_set(d, e, "attestation.nvidia_ocsp_responses %s: %s",
                                           c->nvidia_ocsp_responses[i], od.msg);
        }
        if (c->nvidia_test_root) {
                _cleanup_free_ uint8_t *pem = NULL;
                size_t n;
                if ((e = vt_read_file(c->nvidia_test_root, 1u << 20, &pem, &n)) < 0)
                        return vt_diag_set(d, e, "cannot read attestation.nvidia_test_root %s",
                                           c->nvidia_test_root);
                struct vt_diag rd = {0};
                if ((e = vt_nv_verifier_set_root(s->nvidia, pem, n, &rd)) < 0)
                        return vt_diag_set(d, e, "attestation.nvidia_test_root %s: %s",
                                           c->nvidia_test_root, rd.msg);
        }
        return 0;
}

static int server_init(struct vtd *s, struct vt_diag *d)
{
        int e;
        if (mkdir_p(s->cfg.state_dir, 0700) < 0)
                return vt_diag_set(d, VT_E_IO, "cannot create state_dir %s: %s", s->cfg.state_dir,
                                   strerror(errno));
        if ((e = vtd_store_open(&s->cfg, &s->store, d)) < 0)
                return e;
        _cleanup_free_ char *chain_out = NULL;
        if ((s->cfg.token_ca_cert || s->cfg.token_self_signed) && !s->cfg.token_cert_chain &&
            asprintf(&chain_out, "%s/token-certificate-chain.pem", s->cfg.state_dir) < 0)
                return VT_E_NOMEM;
        const struct vt_signer_cert_opts co = {
                .chain_file = s->cfg.token_cert_chain,
                .ca_cert_file = s->cfg.token_ca_cert,
                .ca_key_file = s->cfg.token_ca_key,
                .self_signed = s->cfg.token_self_signed,
                .write_to = chain_out,
        };
        if ((e = vt_signer_load_or_create(s->cfg.token_key, &s->signer, d)) < 0 ||
            (e = vt_signer_certify(s->signer, &co, vtd_now(), d)) < 0 ||
            (e = vtd_jwks_build(s, d)) < 0 || (e = vtd_proxies_parse(s, d)) < 0 ||
            (e = vtd_webhook_init(s, d)) < 0)
                return e;
        if ((e = vtd_refvals_load(s->cfg.reference_values, s->store, &s->refvals, d)) < 0)
                return e;
        (void)mkdir_p(s->cfg.kds_cache_dir, 0700);
        if ((e = vt_snp_verifier_new(&s->snp_hw)) < 0 || (e = set_kds(s->snp_hw, &s->cfg)) < 0)
                return vt_diag_set(d, e, "cannot set up the SNP verifier");
        (void)mkdir_p(s->cfg.dcap_cache_dir, 0700);
        if ((e = vt_dcap_verifier_new(&s->dcap)) < 0 ||
            (e = vt_dcap_verifier_set_pccs(s->dcap, s->cfg.pccs_url, s->cfg.dcap_cache_dir)) < 0)
                return vt_diag_set(d, e, "cannot set up the DCAP verifier");
        if (s->cfg.simulator_root) {
                _cleanup_free_ uint8_t *pem = NULL;
                size_t n;
                if ((e = vt_read_file(s->cfg.simulator_root, 1u << 20, &pem, &n)) < 0)
                        return vt_diag_set(d, e, "cannot read attestation.simulator_root %s",
                                           s->cfg.simulator_root);
                if ((e = vt_snp_verifier_new(&s->snp_sim)) < 0 ||
                    (e = set_kds(s->snp_sim, &s->cfg)) < 0 ||
                    (e = vt_snp_verifier_add_root(s->snp_sim, VT_SNP_PRODUCT_MILAN, pem, n, d)) < 0)
                        return e;
        }
        if (s->cfg.nvidia_test_root && !s->cfg.nvidia)
                return vt_diag_set(d, VT_E_INVAL,
                                   "attestation.nvidia_test_root needs attestation.nvidia: true");
        if (s->cfg.nvidia && (e = nvidia_init(s, d)) < 0)
                return e;
        if ((e = vtd_ledger_init(s, d)) < 0)
                return e;
        if (s->cfg.azure_enabled && (e = vtd_azure_init(s, d)) < 0)
                return e;
        if (s->cfg.kek_file && (e = vtd_kek_init(s, d)) < 0)
                return e;
        if (s->cfg.n_admin_keys && (e = vt_admin_keys_load((const char *const *)s->cfg.admin_keys,
                                                           s->cfg.n_admin_keys, &s->admin, d)) < 0)
                return e;
        if ((e = build_token_jwks(s, d)) < 0)
                return e;
        /* the tokens of the attestations in flight, for their first fetch: 128 slots of
         * about 16 KiB of claims each (2 MiB at rest). With 32, at 64 clients a token was
         * often pushed out by the other clients' attestations before its own fetch, which
         * then verified it in full (a P-256 verification and a parse: 5 % of the CPU) */
        if (!(s->issued = vt_issued_new(128)))
                return vt_diag_set(d, VT_E_NOMEM, "cannot make the issued-token cache");
        if ((e = load_tpm_aks(&s->cfg, d)) < 0)
                return e;
        if (sem_init(&s->verify, 0, s->cfg.threads) < 0)
                return vt_diag_set(d, VT_E_NOMEM, "cannot make the verification semaphore");
        s->started = vtd_now();
        return 0;
}

/* The sweeper deletes expired sessions every session.sweep_interval_seconds and gives
 * their space back; it is woken and joined at shutdown. */
struct sweeper {
        struct vtd *s;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake; /* CLOCK_MONOTONIC */
        bool stop;
};

static void *sweeper_main(void *arg)
{
        struct sweeper *w = arg;
        pthread_mutex_lock(&w->lock);
        while (!w->stop) {
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_sec += w->s->cfg.sweep_interval;
                while (!w->stop && pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0)
                        ;
                if (w->stop)
                        break;
                pthread_mutex_unlock(&w->lock);
                size_t n = 0;
                struct vt_diag d = {0};
                if (vt_store_sweep(w->s->store, vtd_now(), &n, &d) < 0)
                        vtd_log("warning", "sweeping expired sessions failed: %s", d.msg);
                else if (n)
                        vtd_log("debug", "swept %zu expired sessions", n);
                pthread_mutex_lock(&w->lock);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

static int sweeper_start(struct sweeper *w, struct vtd *s)
{
        pthread_condattr_t ca;
        w->s = s;
        w->stop = false;
        if (pthread_condattr_init(&ca) != 0)
                return VT_E_NOMEM;
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        int r = pthread_cond_init(&w->wake, &ca);
        pthread_condattr_destroy(&ca);
        if (r != 0)
                return VT_E_NOMEM;
        pthread_mutex_init(&w->lock, NULL);
        if (pthread_create(&w->thread, NULL, sweeper_main, w) != 0) {
                pthread_cond_destroy(&w->wake);
                pthread_mutex_destroy(&w->lock);
                return VT_E_NOMEM;
        }
        return 0;
}

static void sweeper_stop(struct sweeper *w)
{
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
}

/* Returned by parse_args when the server goes on (0 is an exit code). */
#define MAIN_GO_ON (-1)

/* Reads the command line; returns MAIN_GO_ON or the exit code (--version, --help, errors). */
static int parse_args(int argc, char **argv, const char **ret_config, bool *ret_check)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"check-config", no_argument, NULL, 'C'},
                {"version", no_argument, NULL, 'V'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        *ret_config = optarg;
                        break;
                case 'C':
                        *ret_check = true;
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
        return MAIN_GO_ON;
}

/* no core dumps and no ptrace by other users' processes: the KEK, unsealed secrets
 * and the token key live in this process (the KEK page is also excluded from
 * dumps on its own) */
/* bound_malloc_arenas: glibc gives a process up to 8 malloc arenas per CPU, and a thread
 * that meets a locked one makes another; each keeps what its threads freed. With a
 * connection thread per client, every request's JSON values freed into a dozen arenas,
 * the RSS under load was 33.8 MiB with the default and 30.0 MiB with 2 arenas at 64
 * clients (two cores), at no loss of throughput. One arena per online CPU (at least two),
 * unless the operator set MALLOC_ARENA_MAX, which glibc has already applied. Linked with
 * jemalloc (VT_JEMALLOC, the default build), glibc's malloc is not used and jemalloc keeps
 * its own arenas (its defaults; MALLOC_CONF tunes them). */
static void bound_malloc_arenas(void)
{
#ifndef VT_JEMALLOC
        if (getenv("MALLOC_ARENA_MAX") || getenv("GLIBC_TUNABLES"))
                return;
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        (void)mallopt(M_ARENA_MAX, (int)(n < 2 ? 2 : n > 64 ? 64 : n));
#endif
}

static void harden_process(void)
{
        struct rlimit nocore = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &nocore);
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* lock_key_memory puts OpenSSL's private keys (the token and ledger signing keys: their
 * private scalars and the PEM text they are read from) on OpenSSL's secure heap: locked
 * into memory with mlock(2), between guard pages and out of core dumps. The KEK has its
 * own locked page (lib/crypto/seal.c). The heap also holds every thread's DRBG states and
 * the temporaries of signatures (crypto/secheap.h), so it is sized for every thread the
 * server may run: a connection thread each (at most limits.max_connections + 64, http.c)
 * and a few of its own. A fixed 32 KiB ran out at 64 clients and failed signatures.
 * Where RLIMIT_MEMLOCK does not allow it (the soft limit is first raised towards the hard
 * one) the keys stay in ordinary memory, with a warning, unless
 * secrets.require_locked_memory says to refuse to start. Returns 0, or -1 after logging
 * why. */
#define OWN_THREADS 16 /* main, libmicrohttpd's polling thread, the watchdog, the sweeper */
static int lock_key_memory(const struct vt_config *c)
{
        size_t bytes = vt_secure_heap_bytes((unsigned long)c->max_connections + 64 + OWN_THREADS);
        struct rlimit rl = {0, 0};
        if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur < bytes + 65536 && rl.rlim_max > rl.rlim_cur) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_MEMLOCK, &rl);
        }
        int r = CRYPTO_secure_malloc_initialized()
                        ? 1
                        : CRYPTO_secure_malloc_init(bytes, VT_SECURE_HEAP_MINSIZE);
        if (r == 1)
                return 0;
        char lim[32] = "unknown";
        if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
                if (rl.rlim_cur == RLIM_INFINITY)
                        snprintf(lim, sizeof(lim), "unlimited");
                else
                        snprintf(lim, sizeof(lim), "%llu bytes", (unsigned long long)rl.rlim_cur);
        }
        vtd_log(c->require_locked_memory ? "error" : "warning",
                "private keys are not locked in memory: %s (RLIMIT_MEMLOCK %s, %zu bytes "
                "wanted for limits.max_connections %u; raise it, e.g. LimitMEMLOCK= in the "
                "systemd unit, or lower limits.max_connections)",
                r == 2 ? "mlock failed" : "OpenSSL's secure heap could not be set up", lim, bytes,
                c->max_connections);
        return c->require_locked_memory ? -1 : 0;
}

/* Logs where the server listens and warns about every setting that widens what it accepts. */
static void log_startup(const struct vtd *s, unsigned port)
{
        char host[160];
        snprintf(host, sizeof(host), "%s", s->cfg.listen);
        char *colon = strrchr(host, ':');
        if (colon)
                *colon = 0;
        vtd_log("info", "veriteed %s listening on %s://%s:%u (store %s, token key id %s)",
                VT_VERSION, s->cfg.tls_certificate ? "https" : "http", host, port,
                s->cfg.store_backend == VTD_STORE_POSTGRES ? "postgres" : s->cfg.database,
                vt_signer_kid(s->signer));
        char ib[VTD_URL_MAX];
        const char *iss = vtd_issuer(s, port, ib);
        vtd_log("info", "token issuer %s (%s), %zu key(s) published, %s", iss,
                s->cfg.token_issuer ? "token.issuer" : "the public URL",
                json_array_size(json_object_get(s->jwks, "keys")), s->jwks_cache);
        if (!s->cfg.public_url && !s->cfg.token_issuer &&
            (strncmp(host, "0.0.0.0", 7) == 0 || strncmp(host, "[::]", 4) == 0))
                vtd_log("warning",
                        "the token issuer %s names a wildcard address: set public_url "
                        "to the URL relying parties reach this server at",
                        iss);
        if (s->snp_sim)
                vtd_log("warning",
                        "SIMULATOR TRUSTED: tee \"sim\" evidence signed by the veritee simulator "
                        "root %s is accepted; "
                        "it is not hardware, and its tokens say veritee.simulated=true",
                        s->cfg.simulator_root);
        if (s->nvidia && s->cfg.nvidia_test_root)
                vtd_log("warning",
                        "NVIDIA TEST ROOT TRUSTED: device evidence whose chain ends at "
                        "attestation.nvidia_test_root %s is accepted; it is not NVIDIA, and its "
                        "claims say \"x-nvidia-gpu-attestation-report-cert-chain-root\": "
                        "\"extra (not NVIDIA)\"",
                        s->cfg.nvidia_test_root);
        if (s->nvidia)
                vtd_log("info",
                        "NVIDIA device evidence (additional_evidence) accepted: OCSP %s, "
                        "RIMs %s",
                        s->cfg.nvidia_ocsp ? "required" : "off (attestation.nvidia_ocsp)",
                        s->cfg.nvidia_rim_dir || (s->cfg.nvidia_rim_url && s->cfg.nvidia_rim_url[0])
                                ? "checked"
                                : "not checked");
        if (kds_fetches(&s->cfg) < s->cfg.kds_max_fetches)
                vtd_log("warning",
                        "at most %u VCEK fetch(es) from KDS at once (attestation.kds_max_fetches "
                        "is %u, limits.threads %u: fetches never hold every thread)",
                        kds_fetches(&s->cfg), s->cfg.kds_max_fetches, s->cfg.threads);
        if (s->cfg.allow_sample)
                vtd_log("warning",
                        "DEVELOPMENT ONLY: tee \"sample\" (unsigned evidence) is accepted: "
                        "attestation.allow_sample is true; its tokens are contraindicated and "
                        "say veritee.sample=true, and anyone can get one");
        if (s->cfg.token_self_signed && !s->cfg.token_cert_chain && !s->cfg.token_ca_cert)
                vtd_log("warning", "DEVELOPMENT ONLY: the token key's certificate (x5c) is "
                                   "self-signed (token.self_signed_certificate); a relying "
                                   "party must trust that very certificate");
        if (vt_signer_x5c(s->signer))
                vtd_log("info", "tokens carry x5c: %zu certificate(s)%s%s",
                        json_array_size(vt_signer_x5c(s->signer)),
                        s->cfg.token_cert_chain ? "" : ", written to ",
                        s->cfg.token_cert_chain ? "" : "STATE_DIR/token-certificate-chain.pem");
        if (!s->cfg.reference_values)
                vtd_log("warning", "no reference values file configured: only reference values "
                                   "added through the "
                                   "admin API can make evidence affirming");
        if (CRYPTO_secure_malloc_initialized())
                vtd_log("info",
                        "private keys in locked memory: %zu bytes of the secure heap in use",
                        CRYPTO_secure_used());
        vtd_log("info", "secret release %s; admin API %s",
                s->kek ? "enabled (secrets sealed under the store's current KEK)"
                       : "disabled (no secrets.kek_file)",
                s->admin ? "enabled" : "disabled (no admin.keys)");
}

int main(int argc, char **argv)
{
        const char *config = NULL;
        bool check = false;
        int rc;

        if ((rc = parse_args(argc, argv, &config, &check)) != MAIN_GO_ON)
                return rc;
        harden_process();
        bound_malloc_arenas();

        static struct vtd s;
        struct vt_diag d = {0};
        if (vt_config_load(config, &s.cfg, &d) < 0) {
                fprintf(stderr, "veriteed: %s\n", d.msg);
                return 2;
        }
        if (lock_key_memory(&s.cfg) < 0) {
                vtd_log("error", "start-up failed: secrets.require_locked_memory is true");
                vt_config_done(&s.cfg);
                return 1;
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
        static struct sweeper sw;
        if (sweeper_start(&sw, &s) < 0) {
                vtd_log("error", "start-up failed: cannot start the session sweeper");
                vtd_http_stop(h);
                server_done(&s);
                return 1;
        }
        log_startup(&s, h->port);
        int sig = 0;
        sigwait(&set, &sig);
        vtd_log("info", "signal %d: stopping", sig);
        vtd_http_stop(h);
        sweeper_stop(&sw);
        server_done(&s);
        return 0;
}
