/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's evidence providers against stand-ins for the hardware interfaces:
 *   - configfs-tsm against a fake report tree (tests/helpers/fake_tsm.c) that answers
 *     with simulator-signed SNP reports and the GHCB certificate table, or with a TDX
 *     quote template; including another writer bumping `generation` in between;
 *   - the real agent with --tee snp --tsm-path FAKE against a real veriteed that trusts
 *     the simulator for tee "sim" only: the evidence is tee "snp" signed by the
 *     simulator, so the server must refuse it (the simulator is not an AMD root). That is
 *     the decision here: the agent does not relabel hardware-path evidence as "sim"; the
 *     evidence itself is checked in-process against the simulator root instead;
 *   - the Azure vTPM provider against swtpm (started here on 127.0.0.1 and stopped at
 *     the end), provisioned with tpm2-tools like an Azure CVM's vTPM: an HCL report in
 *     NV 0x01400001 whose SNP REPORT_DATA binds the runtime JSON with HCLAkPub, NV
 *     0x01400002 for the user data, an RSA-2048 AK at 0x81000003;
 *   - /dev/sev-guest: only its probe and its failure on something that is not the
 *     device (the ioctl cannot run here).
 * Nothing here ran on SNP, TDX or Azure hardware.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "evidence/snp_wire.h"
#include "fake_tsm.h"
#include "provider.h"
#include "testutil.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/wr.h"
#include "veritee/dcap.h"
#include "veritee/nvidia.h"
#if __has_include("veritee/azure.h")
#include "veritee/azure.h"
#endif
#include "vtdtest.h"

extern char **environ;

static struct server S;
static struct fake_tsm *snp_tree, *tdx_tree;
static char snp_root[512], tdx_root[512], tdx_quote[512];
static bool have_tpm; /* swtpm and tpm2-tools are installed (scripts/deps.sh) */
static struct {
        pid_t pid;
        unsigned port;
        char tcti[96];
        char env[160];
        char ak_pem[512];
        char vcek_pem[512];
        uint8_t pcr8[32];
        uint8_t *hcl;
        size_t hcl_len;
} T;

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

/* tpm2-tools against our swtpm; output to DIR/tpm2.log */
static int tpm2(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int tpm2(const char *fmt, ...)
{
        char args[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(args, sizeof(args), fmt, ap);
        va_end(ap);
        return vt_test_sh("%s %s >>'%s/tpm2.log' 2>&1", T.env, args, vtt_dir);
}

static struct vt_provider_opts opts(void)
{
        struct vt_provider_opts o = {
                .tsm_path = snp_root,
                .sev_guest_path = "/nonexistent/sev-guest",
                .tcti = "swtpm:host=127.0.0.1,port=1",
        };
        return o;
}

/* ---- swtpm ---- */

static bool port_free(unsigned port)
{
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        if (s >= 0)
                close(s);
        return ok;
}

static bool port_open(unsigned port)
{
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        if (s >= 0)
                close(s);
        return ok;
}

static int swtpm_start(void)
{
        char state[512], srv[64], ctrl[64], sdir[600], log[600];
        path_in(state, sizeof(state), "tpmstate");
        if (mkdir(state, 0700) < 0)
                return -1;
        for (int i = 0; i < 200 && !T.port; i++) {
                unsigned p = 20000 + (unsigned)(getpid() * 7 + i * 13) % 40000;
                if (port_free(p) && port_free(p + 1))
                        T.port = p;
        }
        if (!T.port)
                return -1;
        snprintf(srv, sizeof(srv), "type=tcp,port=%u,bindaddr=127.0.0.1", T.port);
        snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%u,bindaddr=127.0.0.1", T.port + 1);
        snprintf(sdir, sizeof(sdir), "dir=%s", state);
        snprintf(log, sizeof(log), "file=%s/swtpm.log", vtt_dir);
        char *argv[] = {"swtpm",      "socket",  "--tpm2",
                        "--server",   srv,       "--ctrl",
                        ctrl,         "--flags", "not-need-init,startup-clear",
                        "--tpmstate", sdir,      "--log",
                        log,          NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        int e = posix_spawnp(&T.pid, "swtpm", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (e != 0) {
                fprintf(stderr, "swtpm: %s\n", strerror(e));
                T.pid = 0;
                return -1;
        }
        for (int i = 0; i < 200; i++) {
                if (port_open(T.port))
                        break;
                usleep(25 * 1000);
        }
        snprintf(T.tcti, sizeof(T.tcti), "swtpm:host=127.0.0.1,port=%u", T.port);
        snprintf(T.env, sizeof(T.env), "TPM2TOOLS_TCTI='%s' TSS2_LOG=all+NONE", T.tcti);
        return port_open(T.port) ? 0 : -1;
}

static void swtpm_stop(void)
{
        if (T.pid > 0) {
                int st;
                kill(T.pid, SIGTERM);
                waitpid(T.pid, &st, 0);
                T.pid = 0;
        }
}

/* The AK's public key as the JWK the HCL runtime JSON carries (kid HCLAkPub). */
static json_t *ak_jwk(const char *pem_path)
{
        size_t len = 0;
        uint8_t *pem = vt_test_load(pem_path, &len);
        BIO *b = BIO_new_mem_buf(pem, (int)len);
        EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
        BIO_free(b);
        free(pem);
        assert_non_null(k);
        BIGNUM *n = NULL, *e = NULL;
        assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n));
        assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e));
        uint8_t nb[512], eb[8];
        int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
        char *n64 = NULL, *e64 = NULL;
        assert_int_equal(vt_b64_encode(nb, (size_t)nl, VT_B64_URL, &n64), 0);
        assert_int_equal(vt_b64_encode(eb, (size_t)el, VT_B64_URL, &e64), 0);
        json_t *j = json_pack("{s:s, s:s, s:[s], s:s, s:s}", "kid", "HCLAkPub", "kty", "RSA",
                              "key_ops", "sign", "e", e64, "n", n64);
        free(n64);
        free(e64);
        BN_free(n);
        BN_free(e);
        EVP_PKEY_free(k);
        return j;
}

/* An HCL report as the paravisor writes it: "HCLA" header, a simulator SNP report whose
 * REPORT_DATA[0..32] is SHA-256 of the runtime JSON (with HCLAkPub and, when user_data
 * is non-NULL, "user-data"), then that JSON. */
static uint8_t *make_hcl(const uint8_t *user_data, size_t *ret_len)
{
        struct vt_sim_guest g;
        struct vt_diag d = {0};
        json_auto_t *rt = json_pack("{s:[o], s:{s:b, s:b, s:b}}", "keys", ak_jwk(T.ak_pem),
                                    "vm-configuration", "console-enabled", false, "secure-boot",
                                    true, "tpm-enabled", true);
        if (user_data) {
                char hex[129];
                vt_hex_encode(user_data, 64, hex);
                for (char *c = hex; *c; c++)
                        if (*c >= 'a' && *c <= 'f')
                                *c = (char)(*c - 'a' + 'A'); /* Azure's hex is upper case */
                json_object_set_new(rt, "user-data", json_string(hex));
        }
        char *js = json_dumps(rt, JSON_COMPACT);
        size_t jl = strlen(js);
        uint8_t rd[64] = {0}, report[VT_SNP_REPORT_SIZE];
        char *chain = NULL;
        assert_true(EVP_Digest(js, jl, rd, NULL, EVP_sha256(), NULL));
        assert_int_equal(vt_sim_load_guest(vtt_simdir, &g, &d), 0);
        g.vmpl = 0;
        assert_int_equal(vt_sim_report(vtt_simdir, &g, rd, report, &chain, &d), 0);
        /* the VCEK (the chain's first certificate), for --vcek */
        char *end = strstr(chain, "-----END CERTIFICATE-----");
        assert_non_null(end);
        end += strlen("-----END CERTIFICATE-----\n");
        assert_int_equal(vt_write_file_atomic(T.vcek_pem, chain, (size_t)(end - chain), 0600), 0);
        free(chain);
        size_t len = 0x4d4 + jl;
        uint8_t *h = calloc(1, len);
        memcpy(h, "HCLA", 4);
        vt_put_u32le(h + 4, 1);
        vt_put_u32le(h + 8, (uint32_t)(0x20 + VT_SNP_REPORT_SIZE + 20 + jl));
        vt_put_u32le(h + 12, 2);
        memcpy(h + 0x20, report, sizeof(report));
        vt_put_u32le(h + 0x4c0, (uint32_t)(20 + jl));
        vt_put_u32le(h + 0x4c4, 1);
        vt_put_u32le(h + 0x4c8, 2); /* SNP */
        vt_put_u32le(h + 0x4cc, 1); /* SHA-256 */
        vt_put_u32le(h + 0x4d0, (uint32_t)jl);
        memcpy(h + 0x4d4, js, jl);
        free(js);
        *ret_len = len;
        return h;
}

/* (Re)writes NV 0x01400001 with an HCL report. */
static void provision_hcl(const uint8_t *user_data)
{
        char f[512];
        path_in(f, sizeof(f), "hcl.bin");
        free(T.hcl);
        T.hcl = make_hcl(user_data, &T.hcl_len);
        assert_int_equal(vt_write_file_atomic(f, T.hcl, T.hcl_len, 0600), 0);
        tpm2("tpm2_nvundefine -C o 0x01400001");
        assert_int_equal(
                tpm2("tpm2_nvdefine 0x01400001 -C o -s %zu -a 'ownerread|ownerwrite'", T.hcl_len),
                0);
        assert_int_equal(tpm2("tpm2_nvwrite 0x01400001 -C o -i '%s'", f), 0);
}

static int swtpm_provision(void)
{
        char ctx[512], pcr[65];
        path_in(ctx, sizeof(ctx), "ak.ctx");
        path_in(T.ak_pem, sizeof(T.ak_pem), "ak.pem");
        path_in(T.vcek_pem, sizeof(T.vcek_pem), "vcek.pem");
        /* an RSA-2048 restricted signing key (RSASSA-SHA256), persisted like Azure's AK */
        if (tpm2("tpm2_createprimary -C o -G rsa2048:rsassa-sha256:null -a "
                 "'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' -c '%s'",
                 ctx) != 0 ||
            tpm2("tpm2_evictcontrol -C o -c '%s' 0x81000003", ctx) != 0 ||
            tpm2("tpm2_flushcontext -t") != 0 ||
            tpm2("tpm2_readpublic -c 0x81000003 -f pem -o '%s'", T.ak_pem) != 0 ||
            tpm2("tpm2_nvdefine 0x01400002 -C o -s 64 -a 'ownerread|ownerwrite'") != 0)
                return -1;
        /* PCR 8 as init-data would set it: SHA-256(32 zero bytes || measured digest) */
        uint8_t m[32], buf[64] = {0};
        memset(m, 0x5a, sizeof(m));
        memcpy(buf + 32, m, 32);
        EVP_Digest(buf, sizeof(buf), T.pcr8, NULL, EVP_sha256(), NULL);
        vt_hex_encode(m, 32, pcr);
        return tpm2("tpm2_pcrextend 8:sha256=%s", pcr) == 0 ? 0 : -1;
}

/* ---- setup ---- */

static int setup(void **state)
{
        char p[512], cfg[2048];
        struct vt_diag d = {0};
        curl_global_init(CURL_GLOBAL_DEFAULT);
        snprintf(vtt_dir, sizeof(vtt_dir), "%s/veritee-providers-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(vtt_dir))
                return -1;
        snprintf(vtt_simdir, sizeof(vtt_simdir), "%s/sim", vtt_dir);
        if (vt_sim_init(vtt_simdir, false, &d) < 0) {
                fprintf(stderr, "sim: %s\n", d.msg);
                return -1;
        }
        path_in(snp_root, sizeof(snp_root), "tsm-snp");
        path_in(tdx_root, sizeof(tdx_root), "tsm-tdx");
        if (fake_tsm_start(snp_root, FAKE_TSM_SNP, vtt_simdir, NULL, &snp_tree) < 0)
                return -1;
        const char *q = vt_testdata("dcap/quotes_only/tdx_v4_00a06d080000_trustee.bin");
        if (q) {
                snprintf(tdx_quote, sizeof(tdx_quote), "%s", q);
                if (fake_tsm_start(tdx_root, FAKE_TSM_TDX, NULL, tdx_quote, &tdx_tree) < 0)
                        return -1;
        }
        struct vt_sim_guest g;
        char rv[256], m[97];
        if (vt_sim_load_guest(vtt_simdir, &g, &d) < 0)
                return -1;
        vt_hex_encode(g.measurement, 48, m);
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", m);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "  kds_url: http://127.0.0.1:9\n",
                 vtt_dir, vtt_dir, vtt_simdir);
        server_start(&S, "providers", cfg);
        have_tpm =
                vt_test_sh("command -v swtpm >/dev/null && command -v tpm2_nvdefine >/dev/null") ==
                0;
        if (!have_tpm)
                fprintf(stderr, "swtpm or tpm2-tools missing: the vTPM tests are skipped\n");
        else if (swtpm_start() < 0 || swtpm_provision() < 0) {
                fprintf(stderr, "swtpm could not be started and provisioned (see %s)\n", vtt_dir);
                return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        swtpm_stop();
        server_stop_all();
        fake_tsm_stop(snp_tree);
        fake_tsm_stop(tdx_tree);
        free(T.hcl);
        curl_global_cleanup();
        if (getenv("VT_KEEP_TMP"))
                return 0;
        return vt_test_sh("rm -rf '%s'", vtt_dir) == 0 ? 0 : -1;
}

/* ---- configfs-tsm ---- */

static void random_rd(uint8_t rd[64])
{
        assert_int_equal(RAND_bytes(rd, 64), 1);
}

/* report data as the agent makes it: a 48-byte SHA-384 binding and 16 zero bytes */
static void binding_rd(uint8_t rd[64])
{
        random_rd(rd);
        memset(rd + 48, 0, 16);
}

static size_t count_entries(const char *dir)
{
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
        FILE *f = popen(cmd, "r");
        unsigned n = 99;
        assert_non_null(f);
        assert_int_equal(fscanf(f, "%u", &n), 1);
        pclose(f);
        return n;
}

/* The evidence is the simulator's report with our report data and the VCEK/ASK/ARK from
 * auxblob; it verifies against the simulator root (not against AMD's). */
static void test_tsm_snp_collect(void **state)
{
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64];
        random_rd(rd);
        const struct vt_provider *p = vt_provider_find("snp", &o, &d);
        assert_non_null(p);
        assert_string_equal(p->via, "configfs-tsm");
        assert_string_equal(p->tee, "snp");
        json_auto_t *ev = NULL;
        unsigned before = fake_tsm_answers(snp_tree);
        int e = p->collect(&o, rd, &ev, &d);
        if (e < 0)
                fail_msg("collect: %s", d.msg);
        assert_int_equal(fake_tsm_answers(snp_tree), before + 1);
        struct vt_snp_wire w;
        assert_int_equal(vt_snp_wire_decode(ev, &w, &d), 0);
        assert_memory_equal(w.report + 0x50, rd, 64);
        assert_int_equal(w.n_certs, 3);
        assert_string_equal(w.certs[0].type, "VCEK");
        assert_string_equal(w.certs[1].type, "ASK");
        assert_string_equal(w.certs[2].type, "ARK");
        size_t rl = 0;
        char rp[512];
        snprintf(rp, sizeof(rp), "%s/root.pem", vtt_simdir);
        uint8_t *root = vt_test_load(rp, &rl);
        struct vt_snp_verifier *v = NULL;
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        assert_int_equal(vt_snp_verifier_add_root(v, VT_SNP_PRODUCT_MILAN, root, rl, &d), 0);
        struct vt_snp_verify_opts vo = {.leaf = w.certs[0].der,
                                        .leaf_len = w.certs[0].len,
                                        .chain = w.certs[1].der,
                                        .chain_len = w.certs[1].len};
        struct vt_snp_result res;
        e = vt_snp_verify(v, w.report, sizeof(w.report), &vo, &res, &d);
        if (e < 0)
                fail_msg("verify: %s", d.msg);
        assert_false(res.root_builtin);
        vt_snp_verifier_free(v);
        free(root);
        vt_snp_wire_done(&w);
        /* the entry is gone again (the provider removed the files a real configfs has) */
        assert_int_equal(count_entries(snp_root), 0);
}

static void test_tsm_snp_no_certs(void **state)
{
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64];
        random_rd(rd);
        fake_tsm_no_certs(snp_tree, true);
        json_auto_t *ev = NULL;
        int e = vt_provider_tsm_snp.collect(&o, rd, &ev, &d);
        fake_tsm_no_certs(snp_tree, false);
        if (e < 0)
                fail_msg("collect: %s", d.msg);
        struct vt_snp_wire w;
        assert_int_equal(vt_snp_wire_decode(ev, &w, &d), 0);
        assert_int_equal(w.n_certs, 0);
        assert_memory_equal(w.report + 0x50, rd, 64);
        vt_snp_wire_done(&w);
}

/* generation moves by two over our one write once: the provider retries and succeeds */
static void test_tsm_generation_race_retried(void **state)
{
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64];
        random_rd(rd);
        unsigned before = fake_tsm_answers(snp_tree);
        fake_tsm_race(snp_tree, 1);
        json_auto_t *ev = NULL;
        int e = vt_provider_tsm_snp.collect(&o, rd, &ev, &d);
        if (e < 0)
                fail_msg("collect: %s", d.msg);
        assert_int_equal(fake_tsm_answers(snp_tree), before + 2);
        struct vt_snp_wire w;
        assert_int_equal(vt_snp_wire_decode(ev, &w, &d), 0);
        assert_memory_equal(w.report + 0x50, rd, 64);
        vt_snp_wire_done(&w);
}

/* another writer every time: the provider gives up and says why */
static void test_tsm_generation_race_gives_up(void **state)
{
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64];
        random_rd(rd);
        unsigned before = fake_tsm_answers(snp_tree);
        fake_tsm_race(snp_tree, -1);
        json_auto_t *ev = NULL;
        int e = vt_provider_tsm_snp.collect(&o, rd, &ev, &d);
        fake_tsm_race(snp_tree, 0);
        assert_true(e < 0);
        assert_null(ev);
        print_message("refused: %s\n", d.msg);
        assert_non_null(strstr(d.msg, "generation went from"));
        assert_non_null(strstr(d.msg, "another writer"));
        assert_non_null(strstr(d.msg, "gave up after 3 attempts"));
        assert_int_equal(fake_tsm_answers(snp_tree), before + 3);
        assert_int_equal(count_entries(snp_root), 0);
}

static void test_tsm_tdx_collect(void **state)
{
        VT_REQUIRE_TESTDATA();
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64];
        random_rd(rd);
        o.tsm_path = tdx_root;
        const struct vt_provider *p = vt_provider_find("tdx", &o, &d);
        assert_ptr_equal(p, &vt_provider_tsm_tdx);
        assert_int_equal(p->probe(&o, &d), 0);
        json_auto_t *ev = NULL;
        int e = p->collect(&o, rd, &ev, &d);
        if (e < 0)
                fail_msg("collect: %s", d.msg);
        const char *b64 = json_string_value(json_object_get(ev, "quote"));
        assert_non_null(b64);
        uint8_t *quote = NULL;
        size_t ql = 0;
        assert_int_equal(vt_b64_decode(b64, strlen(b64), VT_B64_STD, 1u << 20, &quote, &ql), 0);
        struct vt_dcap_quote *q = NULL;
        assert_int_equal(vt_dcap_quote_parse(quote, ql, &q, &d), 0);
        assert_memory_equal(q->td.report_data, rd, 64);
        vt_dcap_quote_free(q);
        free(quote);
        /* "snp" on a TDX guest: configfs-tsm says which provider it has; no sev-guest */
        vt_diag_clear(&d);
        assert_null(vt_provider_find("snp", &o, &d));
        print_message("snp on tdx: %s\n", d.msg);
        assert_non_null(strstr(d.msg, "is provided by tdx_guest, not sev_guest"));
        assert_non_null(strstr(d.msg, "no /nonexistent/sev-guest"));
        /* --tee configfs-tsm picks whichever the tree provides */
        assert_ptr_equal(vt_provider_find("configfs-tsm", &o, &d), &vt_provider_tsm_tdx);
}

/* The real agent, --tee snp through configfs-tsm, against a real veriteed: the report is
 * signed by the simulator, which the server trusts for tee "sim" only, so "snp" is
 * refused by the chain check, and the agent says so. */
static void test_agent_tsm_snp_refused_by_server(void **state)
{
        char err[512];
        path_in(err, sizeof(err), "agent.err");
        unsigned before = fake_tsm_answers(snp_tree);
        int rc = vt_test_sh("'%s' agent attest --kbs %s --tee snp --tsm-path '%s' "
                            "--sev-guest /nonexistent >/dev/null 2>'%s'",
                            bin("veritee"), S.url, snp_root, err);
        char *msg = slurp(err);
        print_message("agent: %s", msg ? msg : "");
        assert_int_equal(rc, 1);
        assert_int_equal(fake_tsm_answers(snp_tree), before + 1); /* it did collect */
        assert_non_null(msg);
        assert_non_null(strstr(msg, "attest: HTTP 401"));
        assert_non_null(strstr(msg, "snp: chain:"));
        assert_non_null(strstr(msg, "pinned AMD root"));
        free(msg);
        /* the same agent and server with the simulator provider are accepted */
        rc = vt_test_sh("'%s' agent attest --kbs %s --tee sim --sim-dir '%s' >/dev/null 2>'%s'",
                        bin("veritee"), S.url, vtt_simdir, err);
        msg = slurp(err);
        if (rc != 0)
                fail_msg("agent --tee sim: %s", msg ? msg : "");
        free(msg);
}

/* ---- probes ---- */

static void test_probe_reasons(void **state)
{
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        o.tsm_path = "/nonexistent/tsm/report";
        assert_true(vt_provider_tsm_snp.probe(&o, &d) < 0);
        assert_string_equal(d.msg, "no /nonexistent/tsm/report (configfs-tsm needs Linux >= 6.7 "
                                   "and a TEE guest)");
        vt_diag_clear(&d);
        assert_true(vt_provider_sevguest.probe(&o, &d) < 0);
        assert_non_null(strstr(d.msg, "no /nonexistent/sev-guest"));
        vt_diag_clear(&d);
        assert_true(vt_provider_vtpm.probe(&o, &d) < 0);
        assert_non_null(strstr(d.msg, "no TPM at swtpm:host=127.0.0.1,port=1"));
        vt_diag_clear(&d);
        /* auto with nothing usable: every reason */
        assert_null(vt_provider_find("auto", &o, &d));
        print_message("auto: %s\n", d.msg);
        assert_non_null(strstr(d.msg, "configfs-tsm"));
        assert_non_null(strstr(d.msg, "sev-guest"));
        assert_non_null(strstr(d.msg, "no TPM at"));
        assert_non_null(strstr(d.msg, "--sim-dir"));
        /* auto falls through to the simulator */
        o.sim_dir = vtt_simdir;
        assert_ptr_equal(vt_provider_find("auto", &o, &d), &vt_provider_sim);
        /* and takes configfs-tsm first when there is one */
        o.tsm_path = snp_root;
        assert_ptr_equal(vt_provider_find("auto", &o, &d), &vt_provider_tsm_snp);
        vt_diag_clear(&d);
        assert_null(vt_provider_find("nitro", &o, &d));
        assert_non_null(strstr(d.msg, "unknown tee \"nitro\""));
        /* a directory nobody answers is not configfs-tsm */
        char dead[512];
        path_in(dead, sizeof(dead), "not-tsm");
        assert_int_equal(mkdir(dead, 0700), 0);
        o.tsm_path = dead;
        vt_diag_clear(&d);
        assert_true(vt_provider_tsm_snp.probe(&o, &d) < 0);
        assert_non_null(strstr(d.msg, "is not configfs-tsm"));
        assert_int_equal(count_entries(dead), 0);
}

/* /dev/sev-guest: a file that is not the device fails with the ioctl's reason */
static void test_sevguest_not_a_device(void **state)
{
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        char f[512];
        uint8_t rd[64] = {0};
        path_in(f, sizeof(f), "not-sev-guest");
        write_text(f, "");
        o.sev_guest_path = f;
        assert_int_equal(vt_provider_sevguest.probe(&o, &d), 0);
        json_auto_t *ev = NULL;
        assert_true(vt_provider_sevguest.collect(&o, rd, &ev, &d) < 0);
        print_message("sev-guest: %s\n", d.msg);
        assert_non_null(strstr(d.msg, "SNP_GET_EXT_REPORT"));
}

/* ---- the Azure vTPM against swtpm ---- */

#define REQUIRE_TPM()                                                                              \
        do {                                                                                       \
                if (!have_tpm)                                                                     \
                        vtt_skip("swtpm/tpm2-tools not installed");                                \
        } while (0)

static uint16_t be16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What a verifier checks in the quote (trustee az_snp_vtpm steps 1-3), by hand: the
 * TPMS_ATTEST magic and type, extraData == nonce (the 48-byte KBS binding), pcrDigest ==
 * SHA-256 of the PCRs, and the RSASSA-PKCS1-v1_5/SHA-256 signature with the AK. Returns
 * NULL or the failed check. */
static const char *check_quote(const json_t *ev, const uint8_t nonce[48], const char *ak_pem)
{
        const json_t *tq = json_object_get(ev, "tpm_quote");
        const char *msg_hex = json_string_value(json_object_get(tq, "message"));
        const char *sig_hex = json_string_value(json_object_get(tq, "signature"));
        const json_t *pcrs = json_object_get(tq, "pcrs");
        static uint8_t msg[2048], sig[512], all[24 * 32];
        if (!msg_hex || !sig_hex || json_array_size(pcrs) != 24)
                return "shape";
        int ml = vt_hex_decode(msg_hex, msg, sizeof(msg));
        int sl = vt_hex_decode(sig_hex, sig, sizeof(sig));
        if (ml < 10 || sl <= 0)
                return "hex";
        for (size_t i = 0; i < 24; i++)
                if (vt_hex_decode(json_string_value(json_array_get(pcrs, i)), all + 32 * i, 32) !=
                    32)
                        return "pcr hex";
        size_t at = 0;
        if (be32(msg) != 0xff544347 || be16(msg + 4) != 0x8018)
                return "magic/type";
        at = 6;
        at += 2 + be16(msg + at); /* qualifiedSigner */
        uint16_t xl = be16(msg + at);
        if (xl != 48 || memcmp(msg + at + 2, nonce, 48) != 0)
                return "extraData";
        at += 2 + xl;
        at += 17 + 8; /* clockInfo, firmwareVersion */
        uint32_t nsel = be32(msg + at);
        at += 4;
        for (uint32_t i = 0; i < nsel; i++)
                at += 3 + msg[at + 2];
        uint16_t dl = be16(msg + at);
        uint8_t digest[32];
        EVP_Digest(all, sizeof(all), digest, NULL, EVP_sha256(), NULL);
        if (dl != 32 || at + 2 + dl != (size_t)ml || memcmp(msg + at + 2, digest, 32) != 0)
                return "pcrDigest";
        size_t kl = 0;
        uint8_t *pem = vt_test_load(ak_pem, &kl);
        BIO *b = BIO_new_mem_buf(pem, (int)kl);
        EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
        BIO_free(b);
        free(pem);
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        int ok = k && c && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, k) == 1 &&
                 EVP_DigestVerify(c, sig, (size_t)sl, msg, (size_t)ml) == 1;
        EVP_MD_CTX_free(c);
        EVP_PKEY_free(k);
        return ok ? NULL : "signature";
}

static void test_vtpm_collect(void **state)
{
        REQUIRE_TPM();
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64], other[64];
        binding_rd(rd);
        binding_rd(other);
        provision_hcl(rd); /* the paravisor already put our report data in (v2 firmware) */
        o.tcti = T.tcti;
        o.vcek_file = T.vcek_pem;
        o.hcl_wait_ms = 500;
        o.tsm_path = "/nonexistent";
        assert_int_equal(vt_provider_vtpm.probe(&o, &d), 0);
        assert_ptr_equal(vt_provider_find("auto", &o, &d), &vt_provider_vtpm);
        json_auto_t *ev = NULL;
        int e = vt_provider_vtpm.collect(&o, rd, &ev, &d);
        if (e < 0)
                fail_msg("collect: %s", d.msg);
        assert_int_equal(json_integer_value(json_object_get(ev, "version")), 2);
        /* the quote checks a verifier makes */
        const char *why = check_quote(ev, rd, T.ak_pem);
        if (why)
                fail_msg("quote check failed: %s", why);
        /* the same quote does not pass for another nonce */
        assert_string_equal(check_quote(ev, other, T.ak_pem), "extraData");
        /* PCR 8 as extended, PCR 0 untouched */
        const json_t *pcrs = json_object_get(json_object_get(ev, "tpm_quote"), "pcrs");
        char h8[65], z[65];
        vt_hex_encode(T.pcr8, 32, h8);
        memset(z, '0', 64);
        z[64] = 0;
        assert_string_equal(json_string_value(json_array_get(pcrs, 8)), h8);
        assert_string_equal(json_string_value(json_array_get(pcrs, 0)), z);
        /* the HCL report as provisioned, the VCEK as given */
        const char *h64 = json_string_value(json_object_get(ev, "hcl_report"));
        const char *v64 = json_string_value(json_object_get(ev, "vcek"));
        uint8_t *hcl = NULL, *vcek = NULL;
        size_t hl = 0, vl = 0;
        assert_int_equal(vt_b64_decode(h64, strlen(h64), VT_B64_URL, 1u << 20, &hcl, &hl), 0);
        assert_int_equal(hl, T.hcl_len);
        assert_memory_equal(hcl, T.hcl, hl);
        assert_int_equal(vt_b64_decode(v64, strlen(v64), VT_B64_URL, 1u << 20, &vcek, &vl), 0);
        const unsigned char *vp = vcek;
        X509 *x = d2i_X509(NULL, &vp, (long)vl);
        assert_non_null(x);
        X509_free(x);
        free(hcl);
        free(vcek);
        /* the report data went to NV 0x01400002 for the paravisor */
        char out[512];
        path_in(out, sizeof(out), "userdata.bin");
        assert_int_equal(tpm2("tpm2_nvread 0x01400002 -C o -s 64 -o '%s'", out), 0);
        size_t ul = 0;
        uint8_t *ud = vt_test_load(out, &ul);
        assert_int_equal(ul, 64);
        assert_memory_equal(ud, rd, 64);
        free(ud);
#if __has_include("veritee/azure.h")
        /* the library's az-snp-vtpm verifier (what veriteed runs), trusting the simulator */
        {
                char rp[512], *txt = json_dumps(ev, JSON_COMPACT);
                size_t rl = 0;
                snprintf(rp, sizeof(rp), "%s/root.pem", vtt_simdir);
                uint8_t *root = vt_test_load(rp, &rl);
                struct vt_snp_verifier *v = NULL;
                struct vt_az_result res;
                assert_int_equal(vt_snp_verifier_new(&v), 0);
                assert_int_equal(vt_snp_verifier_add_root(v, VT_SNP_PRODUCT_MILAN, root, rl, &d),
                                 0);
                struct vt_az_verify_opts ao = {.report_data = rd, .report_data_len = 48, .snp = v};
                vt_diag_clear(&d);
                e = vt_az_verify(VT_AZ_TEE_SNP_VTPM, txt, strlen(txt), &ao, &res, &d);
                print_message("vt_az_verify: %d %s (checks 0x%x)\n", e, d.msg, res.checks);
                unsigned tpm_checks = VT_AZ_CHECK_QUOTE_SIGNATURE | VT_AZ_CHECK_NONCE |
                                      VT_AZ_CHECK_PCRS | VT_AZ_CHECK_HCL_BINDING |
                                      VT_AZ_CHECK_USER_DATA;
                assert_int_equal(res.checks & tpm_checks, tpm_checks);
                assert_int_equal(e, 0);
                vt_az_result_done(&res);
                /* another nonce: refused at the nonce check */
                ao.report_data = other;
                vt_diag_clear(&d);
                assert_true(vt_az_verify(VT_AZ_TEE_SNP_VTPM, txt, strlen(txt), &ao, &res, &d) < 0);
                assert_int_equal(res.checks & VT_AZ_CHECK_NONCE, 0);
                vt_az_result_done(&res);
                vt_snp_verifier_free(v);
                free(root);
                free(txt);
        }
#endif
        /* a tampered message does not verify */
        json_t *tq = json_object_get(ev, "tpm_quote");
        char *m = strdup(json_string_value(json_object_get(tq, "message")));
        size_t mlen = strlen(m);
        m[mlen - 1] = m[mlen - 1] == '0' ? '1' : '0';
        json_object_set_new(tq, "message", json_string(m));
        free(m);
        assert_non_null(check_quote(ev, rd, T.ak_pem));
}

/* The paravisor did not (here: cannot) regenerate the report with our data: refused. */
static void test_vtpm_stale_hcl_refused(void **state)
{
        REQUIRE_TPM();
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64], old[64];
        binding_rd(rd);
        binding_rd(old);
        provision_hcl(old);
        o.tcti = T.tcti;
        o.vcek_file = T.vcek_pem;
        o.hcl_wait_ms = 300;
        json_auto_t *ev = NULL;
        assert_true(vt_provider_vtpm.collect(&o, rd, &ev, &d) < 0);
        print_message("stale: %s\n", d.msg);
        assert_non_null(strstr(d.msg, "user-data is not the report data 300 ms after"));
}

/* Older paravisor firmware has no user-data: wait once (kinvolk's sleep), then go on. */
static void test_vtpm_old_firmware_waits(void **state)
{
        REQUIRE_TPM();
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64];
        binding_rd(rd);
        provision_hcl(NULL);
        o.tcti = T.tcti;
        o.vcek_file = T.vcek_pem;
        o.hcl_wait_ms = 200;
        json_auto_t *ev = NULL;
        int e = vt_provider_vtpm.collect(&o, rd, &ev, &d);
        if (e < 0)
                fail_msg("collect: %s", d.msg);
        assert_null(check_quote(ev, rd, T.ak_pem));
}

static void test_vtpm_reasons(void **state)
{
        REQUIRE_TPM();
        struct vt_provider_opts o = opts();
        struct vt_diag d = {0};
        uint8_t rd[64] = {0};
        o.tcti = T.tcti;
        /* no VCEK: outside Azure THIM does not answer (here: nothing listens) */
        o.thim_url = "http://127.0.0.1:9/metadata/THIM/amd/certification";
        json_auto_t *ev = NULL;
        assert_true(vt_provider_vtpm.collect(&o, rd, &ev, &d) < 0);
        print_message("no vcek: %s\n", d.msg);
        assert_non_null(strstr(d.msg, "--vcek FILE"));
        /* a TPM that is not Azure's vTPM */
        assert_int_equal(tpm2("tpm2_nvundefine -C o 0x01400001"), 0);
        vt_diag_clear(&d);
        assert_true(vt_provider_vtpm.probe(&o, &d) < 0);
        assert_non_null(strstr(d.msg, "has no HCL report (NV index 0x01400001): not an Azure "
                                      "confidential VM"));
}

/* The agent's GPU evidence (provider_nvml.c): a recorded Hopper report and its chain, put
 * into a device_evidence_list entry and the additional-evidence text, read back by the
 * server's parser byte for byte; and on this machine, which has no NVIDIA driver, the
 * reason the agent gives (a machine with libnvidia-ml skips that half, saying so). */
static void test_nvml_evidence(void **state)
{
        (void)state;
        size_t hl = 0, cl = 0;
        uint8_t *hex = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/report.hex", &hl);
        if (!hex)
                skip();
        uint8_t *chain = vt_test_load_vector("nvidia/gpu/hopper_550.90.07/certchain.pem", &cl);
        assert_non_null(chain);
        struct vt_nv_report *rep = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_nv_report_parse(hex, hl, &rep, &d), 0);
        json_t *entry = NULL;
        assert_int_equal(vt_nvml_device_entry("HOPPER", "GPU-1111", rep->bytes, rep->len,
                                              (const char *)chain, cl, &entry),
                         0);
        json_auto_t *list = json_array();
        json_array_append_new(list, entry);
        char *text = NULL;
        assert_int_equal(vt_nvml_additional_evidence(list, &text), 0);
        struct vt_nv_evidence *ev = NULL;
        assert_int_equal(vt_nv_evidence_parse(text, strlen(text), &ev, &d), 0);
        assert_int_equal(ev->n, 1);
        assert_int_equal(ev->dev[0].arch, VT_NV_ARCH_HOPPER);
        assert_string_equal(ev->dev[0].uuid, "GPU-1111");
        assert_int_equal(ev->dev[0].report_len, rep->len);
        assert_memory_equal(ev->dev[0].report, rep->bytes, rep->len);
        assert_int_equal(ev->dev[0].chain_len, cl);
        assert_memory_equal(ev->dev[0].chain, chain, cl);
        vt_nv_evidence_free(ev);
        free(text);
        vt_nv_report_free(rep);
        free(hex);
        free(chain);

        void *so = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
        if (so) {
                dlclose(so);
                print_message("skipped: libnvidia-ml is installed here; the no-driver reason "
                              "is not checked\n");
                return;
        }
        uint8_t nonce[32] = {1};
        char *add = NULL;
        vt_diag_clear(&d);
        assert_int_equal(vt_nvml_collect(nonce, &add, &d), VT_E_NOTFOUND);
        assert_null(add);
        assert_string_equal(d.msg, "no NVIDIA GPU evidence: libnvidia-ml.so.1 not found (no "
                                   "NVIDIA driver in this guest)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tsm_snp_collect),
                cmocka_unit_test(test_tsm_snp_no_certs),
                cmocka_unit_test(test_tsm_generation_race_retried),
                cmocka_unit_test(test_tsm_generation_race_gives_up),
                cmocka_unit_test(test_tsm_tdx_collect),
                cmocka_unit_test(test_agent_tsm_snp_refused_by_server),
                cmocka_unit_test(test_probe_reasons),
                cmocka_unit_test(test_sevguest_not_a_device),
                cmocka_unit_test(test_vtpm_collect),
                cmocka_unit_test(test_vtpm_stale_hcl_refused),
                cmocka_unit_test(test_vtpm_old_firmware_waits),
                cmocka_unit_test(test_vtpm_reasons),
                cmocka_unit_test(test_nvml_evidence),
        };
        setenv("no_proxy", "127.0.0.1,localhost", 1);
        setenv("NO_PROXY", "127.0.0.1,localhost", 1);
        return vtt_run_group_tests(tests, setup, teardown);
}
