/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SEV-SNP simulator (lib/sim/sim.c): the directory it makes, the chain's shape,
 * and the one property that matters most: the verifier accepts its reports only
 * after its root is added, and then reports every field as asked. The RSA-4096
 * keys are generated once, in the group setup (and once more for --force).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/x509.h"
#include "veritee/sim.h"
#include "veritee/snp.h"

static struct {
        char base[64]; /* mkdtemp */
        char dir[96];  /* base/sim: created by vt_sim_init */
        uint8_t *root;
        size_t root_len;
        struct vt_sim_guest guest;
} S;

static void verifier_freep(struct vt_snp_verifier **v)
{
        vt_snp_verifier_free(*v);
}

static char *path_in(const char *dir, const char *name)
{
        static char buf[4][256];
        static int k;
        char *p = buf[k++ % 4];
        snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
        return p;
}

static unsigned file_mode(const char *path)
{
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return (unsigned)(st.st_mode & 07777);
}

/* Counts the files in dir whose name starts with prefix and ends with suffix. */
static size_t count_files(const char *dir, const char *prefix, const char *suffix)
{
        DIR *dp = opendir(dir);
        struct dirent *de;
        size_t n = 0;
        assert_non_null(dp);
        while ((de = readdir(dp))) {
                size_t l = strlen(de->d_name), sl = strlen(suffix);
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && l >= sl &&
                    strcmp(de->d_name + l - sl, suffix) == 0)
                        n++;
        }
        closedir(dp);
        return n;
}

static void rm_tree(const char *dir)
{
        DIR *dp = opendir(dir);
        struct dirent *de;
        if (!dp)
                return;
        while ((de = readdir(dp))) {
                char p[512];
                struct stat st;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
                if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        rm_tree(p);
                else
                        unlink(p);
        }
        closedir(dp);
        rmdir(dir);
}

static int group_setup(void **state)
{
        struct vt_diag d = {0};
        snprintf(S.base, sizeof(S.base), "/tmp/vt-test-sim-XXXXXX");
        if (!mkdtemp(S.base))
                return -1;
        snprintf(S.dir, sizeof(S.dir), "%s/sim", S.base);
        if (vt_sim_init(S.dir, false, &d) < 0) {
                fprintf(stderr, "vt_sim_init: %s\n", d.msg);
                return -1;
        }
        if (vt_sim_load_guest(S.dir, &S.guest, &d) < 0) {
                fprintf(stderr, "vt_sim_load_guest: %s\n", d.msg);
                return -1;
        }
        S.root = vt_test_load(path_in(S.dir, "root.pem"), &S.root_len);
        return 0;
}

static int group_teardown(void **state)
{
        free(S.root);
        rm_tree(S.base);
        return 0;
}

static const uint8_t *rd_of(uint8_t seed, uint8_t rd[64])
{
        for (int i = 0; i < 64; i++)
                rd[i] = (uint8_t)(seed + i);
        return rd;
}

/* Signs a report for g; *chain is the PEM chain (VCEK, ASK, ARK). */
static void make_report(const struct vt_sim_guest *g, const uint8_t rd[64],
                        uint8_t rep[VT_SNP_REPORT_SIZE], char **chain)
{
        struct vt_diag d = {0};
        int e = vt_sim_report(S.dir, g, rd, rep, chain, &d);
        if (e < 0)
                print_message("vt_sim_report: %s\n", d.msg);
        assert_int_equal(e, 0);
}

/* Verifies with the chain PEM as the leaf (its first certificate) and the chain. */
static int verify(struct vt_snp_verifier *v, const uint8_t *rep, const char *chain,
                  struct vt_snp_result *res, struct vt_diag *d)
{
        struct vt_snp_verify_opts o = {
                .leaf = (const uint8_t *)chain,
                .leaf_len = strlen(chain),
                .chain = (const uint8_t *)chain,
                .chain_len = strlen(chain),
        };
        return vt_snp_verify(v, rep, VT_SNP_REPORT_SIZE, &o, res, d);
}

static struct vt_snp_verifier *trusting_verifier(const uint8_t *root, size_t len)
{
        struct vt_snp_verifier *v = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        int e = vt_snp_verifier_add_root(v, VT_SNP_PRODUCT_MILAN, root, len, &d);
        if (e < 0)
                print_message("add_root: %s\n", d.msg);
        assert_int_equal(e, 0);
        return v;
}

static void test_sim_init_layout(void **state)
{
        struct stat st;
        assert_int_equal(stat(S.dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 077, 0); /* 0700 (or stricter under umask) */
        assert_int_equal(file_mode(path_in(S.dir, "ark.key")), 0600);
        assert_int_equal(file_mode(path_in(S.dir, "ask.key")), 0600);
        assert_int_equal(file_mode(path_in(S.dir, "root.pem")), 0644);
        assert_int_equal(file_mode(path_in(S.dir, "guest.json")), 0644);
        /* exactly these four: no temporary file left behind */
        assert_int_equal(count_files(S.dir, "", ""), 4);

        char *p = NULL;
        assert_int_equal(vt_sim_root_path(S.dir, &p), 0);
        assert_string_equal(p, path_in(S.dir, "root.pem"));
        free(p);

        /* The keys are PEM private keys that match the certificates. */
        size_t len;
        uint8_t *k = vt_test_load(path_in(S.dir, "ask.key"), &len);
        assert_non_null(strstr((char *)k, "-----BEGIN PRIVATE KEY-----"));
        OPENSSL_cleanse(k, len);
        free(k);
}

static void test_sim_guest_defaults(void **state)
{
        static const uint8_t zero[64] = {0};
        const struct vt_sim_guest *g = &S.guest;
        assert_int_equal(g->policy, 0x30000);
        assert_int_equal(g->guest_svn, 1);
        assert_int_equal(g->vmpl, 0);
        assert_int_equal(g->bootloader, 3);
        assert_int_equal(g->tee, 0);
        assert_int_equal(g->snp, 8);
        assert_int_equal(g->microcode, 115);
        assert_memory_equal(g->host_data, zero, 32);
        assert_memory_equal(g->family_id, zero, 16);
        assert_memory_equal(g->image_id, zero, 16);
        assert_memory_not_equal(g->chip_id, zero, 64);
        assert_memory_not_equal(g->measurement, zero, 48);

        /* Numbers are integers and byte strings are hex in the file. */
        size_t len;
        char *j = (char *)vt_test_load(path_in(S.dir, "guest.json"), &len);
        assert_non_null(strstr(j, "\"policy\": 196608"));
        assert_non_null(strstr(j, "\"microcode\": 115"));
        assert_non_null(strstr(j, "\"host_data\": \"0000000000000000"));
        free(j);
}

static void test_sim_init_refuses_overwrite(void **state)
{
        struct vt_diag d = {0};
        size_t len;
        assert_int_equal(vt_sim_init(S.dir, false, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "force"));
        uint8_t *now = vt_test_load(path_in(S.dir, "root.pem"), &len);
        assert_int_equal(len, S.root_len);
        assert_memory_equal(now, S.root, len);
        free(now);

        /* Not a directory. */
        vt_diag_clear(&d);
        assert_int_equal(vt_sim_init(path_in(S.dir, "root.pem"), false, &d), VT_E_INVAL);
}

static void test_sim_chain_shape(void **state)
{
        uint8_t rep[VT_SNP_REPORT_SIZE], rd[64];
        char *chain = NULL;
        STACK_OF(X509) *sk = NULL;
        char cn[64], buf[256];

        make_report(&S.guest, rd_of(1, rd), rep, &chain);
        assert_int_equal(vt_x509_parse_many((uint8_t *)chain, strlen(chain), &sk), 0);
        assert_int_equal(sk_X509_num(sk), 3);
        X509 *vcek = sk_X509_value(sk, 0), *ask = sk_X509_value(sk, 1), *ark = sk_X509_value(sk, 2);
        static const char *const cns[3] = {"SEV-VCEK", "SEV-Milan", "ARK-Milan"};
        for (int i = 0; i < 3; i++) {
                X509 *x = sk_X509_value(sk, i);
                vt_x509_subject_cn(x, cn, sizeof(cn));
                assert_string_equal(cn, cns[i]);
                /* The names say what this is. */
                X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf));
                assert_non_null(strstr(buf, "O=veritee simulator (NOT AMD)"));
                assert_non_null(strstr(buf, "OU=Simulated"));
        }
        assert_int_equal(vt_x509_verify_pss384(ark, X509_get0_pubkey(ark)), 0);
        assert_int_equal(vt_x509_verify_pss384(ask, X509_get0_pubkey(ark)), 0);
        assert_int_equal(vt_x509_verify_pss384(vcek, X509_get0_pubkey(ask)), 0);
        assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(ark)), 4096);
        assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(ask)), 4096);
        assert_int_equal(vt_ec_curve_nid(X509_get0_pubkey(vcek)), NID_secp384r1);
        assert_int_equal(X509_check_ca(ark), 1);
        assert_int_equal(X509_check_ca(ask), 1);
        assert_int_equal(X509_check_ca(vcek), 0);
        assert_int_equal(X509_get_pathlen(ask), 0);
        assert_true(X509_get_key_usage(ark) & KU_KEY_CERT_SIGN);
        assert_true(X509_get_key_usage(ark) & KU_CRL_SIGN);

        /* The PSS parameters are AMD's: MGF1-SHA-384, salt 48. */
        const X509_ALGOR *alg = NULL;
        X509_get0_signature(NULL, &alg, ask);
        RSA_PSS_PARAMS *pss =
                ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), alg->parameter);
        assert_non_null(pss);
        assert_int_equal(ASN1_INTEGER_get(pss->saltLength), 48);
        X509_ALGOR *mgf1md = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
                                                       pss->maskGenAlgorithm->parameter);
        assert_non_null(mgf1md);
        assert_int_equal(OBJ_obj2nid(mgf1md->algorithm), NID_sha384);
        X509_ALGOR_free(mgf1md);
        RSA_PSS_PARAMS_free(pss);

        /* Validity: 25 years for the CAs, 7 for the VCEK. */
        int64_t nb, na;
        assert_int_equal(vt_x509_window(ark, &nb, &na), 0);
        assert_true(na - nb >= INT64_C(25) * 365 * 86400 && na - nb <= INT64_C(25) * 366 * 86400);
        assert_int_equal(vt_x509_window(vcek, &nb, &na), 0);
        assert_true(na - nb >= INT64_C(7) * 365 * 86400 &&
                    na - nb <= INT64_C(7) * 366 * 86400 + 86400);

        /* hwID is the guest's raw chip id; productName Milan-B0. */
        const uint8_t *p;
        size_t n;
        assert_int_equal(vt_x509_ext_data(vcek, "1.3.6.1.4.1.3704.1.4", &p, &n), 0);
        assert_int_equal(n, 64);
        assert_memory_equal(p, S.guest.chip_id, 64);
        assert_int_equal(vt_x509_ext_data(vcek, "1.3.6.1.4.1.3704.1.2", &p, &n), 0);
        assert_int_equal(n, 10);
        assert_memory_equal(p, "\x16\x08Milan-B0", 10);
        assert_int_equal(vt_x509_ext_data(vcek, "1.3.6.1.4.1.3704.1.3.8", &p, &n), 0);
        assert_memory_equal(p, "\x02\x01\x73", 3); /* microcode 115 */

        sk_X509_pop_free(sk, X509_free);
        free(chain);
}

static void test_sim_report_untrusted(void **state)
{
        _cleanup_(verifier_freep) struct vt_snp_verifier *v = NULL;
        uint8_t rep[VT_SNP_REPORT_SIZE], rd[64];
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char *chain = NULL;

        make_report(&S.guest, rd_of(2, rd), rep, &chain);
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        /* The supplied ARK is not pinned. */
        assert_int_equal(verify(v, rep, chain, &res, &d), VT_E_CHAIN);
        assert_non_null(strstr(d.msg, "pinned"));
        /* Without the supplied chain: no trusted intermediate. */
        struct vt_snp_verify_opts o = {.leaf = (uint8_t *)chain, .leaf_len = strlen(chain)};
        vt_diag_clear(&d);
        assert_int_equal(vt_snp_verify(v, rep, sizeof(rep), &o, &res, &d), VT_E_CHAIN);
        assert_non_null(strstr(d.msg, "pinned"));
        free(chain);
}

static void check_fields(const struct vt_snp_result *res, const struct vt_sim_guest *g,
                         const uint8_t rd[64])
{
        const struct vt_snp_report *r = &res->report;
        assert_false(res->root_builtin);
        assert_int_equal(res->product, VT_SNP_PRODUCT_MILAN);
        assert_int_equal(res->signer, VT_SNP_SIGNER_VCEK);
        assert_int_equal(r->version, 3);
        assert_memory_equal(r->report_data, rd, 64);
        assert_memory_equal(r->measurement, g->measurement, 48);
        assert_memory_equal(r->host_data, g->host_data, 32);
        assert_memory_equal(r->family_id, g->family_id, 16);
        assert_memory_equal(r->image_id, g->image_id, 16);
        assert_memory_equal(r->chip_id, g->chip_id, 64);
        assert_int_equal(r->policy, g->policy);
        assert_int_equal(r->guest_svn, g->guest_svn);
        assert_int_equal(r->vmpl, g->vmpl);
        const struct vt_snp_tcb *tcbs[4] = {&r->reported_tcb, &r->current_tcb, &r->committed_tcb,
                                            &r->launch_tcb};
        for (int i = 0; i < 4; i++) {
                assert_int_equal(tcbs[i]->bootloader, g->bootloader);
                assert_int_equal(tcbs[i]->tee, g->tee);
                assert_int_equal(tcbs[i]->snp, g->snp);
                assert_int_equal(tcbs[i]->microcode, g->microcode);
        }
        assert_int_equal(r->cpuid_fam_id, 0x19);
        assert_int_equal(r->cpuid_mod_id, 0x01);
        assert_int_equal(r->cpuid_step, 0x01);
        assert_int_equal(r->platform_info, 1);
        assert_int_equal(r->signer_info, 0);
        assert_int_equal(r->current_major, 1);
        assert_int_equal(r->current_minor, 55);
        assert_int_equal(r->current_build, 0);
        assert_int_equal(r->committed_major, 1);
        assert_int_equal(r->committed_minor, 55);
        for (int i = 0; i < 32; i++)
                assert_int_equal(r->report_id_ma[i], 0xff);
}

static void test_sim_report_trusted(void **state)
{
        _cleanup_(verifier_freep) struct vt_snp_verifier *v = NULL;
        uint8_t rep[VT_SNP_REPORT_SIZE], rd[64];
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char *chain = NULL;

        make_report(&S.guest, rd_of(3, rd), rep, &chain);
        v = trusting_verifier(S.root, S.root_len);
        int e = verify(v, rep, chain, &res, &d);
        if (e < 0)
                print_message("verify: %s\n", d.msg);
        assert_int_equal(e, 0);
        check_fields(&res, &S.guest, rd);
        assert_false(res.report.policy & VT_SNP_POLICY_DEBUG);

        /* The leaf alone is enough once the bundle (ARK + ASK) is trusted. */
        struct vt_snp_verify_opts o = {.leaf = (uint8_t *)chain, .leaf_len = strlen(chain)};
        assert_int_equal(vt_snp_verify(v, rep, sizeof(rep), &o, &res, &d), 0);
        assert_false(res.root_builtin);
        free(chain);
}

static void test_sim_report_custom(void **state)
{
        _cleanup_(verifier_freep) struct vt_snp_verifier *v = NULL;
        uint8_t rep[VT_SNP_REPORT_SIZE], rep2[VT_SNP_REPORT_SIZE], rd[64];
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char *chain = NULL, *chain2 = NULL;
        struct vt_sim_guest g = S.guest;

        for (int i = 0; i < 48; i++)
                g.measurement[i] = (uint8_t)(0x80 + i);
        for (int i = 0; i < 32; i++)
                g.host_data[i] = (uint8_t)(0x40 + i);
        memset(g.family_id, 0x11, 16);
        memset(g.image_id, 0x22, 16);
        g.vmpl = 2;
        g.guest_svn = 7;
        g.policy |= VT_SNP_POLICY_DEBUG; /* what --debug does */
        g.bootloader = 4;
        g.tee = 1;
        g.snp = 9;
        g.microcode = 0xd1; /* >= 0x80: a two-byte DER INTEGER in the VCEK */

        size_t before = count_files(S.dir, "vcek-", ".pem");
        make_report(&g, rd_of(4, rd), rep, &chain);
        assert_int_equal(count_files(S.dir, "vcek-", ".pem"), before + 1);
        assert_int_equal(file_mode(path_in(S.dir, "vcek-d109000000000104.key")), 0600);
        assert_int_equal(file_mode(path_in(S.dir, "vcek-d109000000000104.pem")), 0644);

        v = trusting_verifier(S.root, S.root_len);
        int e = verify(v, rep, chain, &res, &d);
        if (e < 0)
                print_message("verify: %s\n", d.msg);
        assert_int_equal(e, 0);
        check_fields(&res, &g, rd);
        assert_true(res.report.policy & VT_SNP_POLICY_DEBUG);

        /* The default TCB's VCEK still verifies with the same verifier. */
        make_report(&S.guest, rd, rep2, &chain2);
        assert_int_equal(verify(v, rep2, chain2, &res, &d), 0);
        check_fields(&res, &S.guest, rd);

        /* A report cannot borrow the other TCB's VCEK. */
        vt_diag_clear(&d);
        assert_int_equal(verify(v, rep2, chain, &res, &d), VT_E_SIGNATURE);
        free(chain);
        free(chain2);
}

static void test_sim_vcek_reused(void **state)
{
        uint8_t rep[VT_SNP_REPORT_SIZE], rep2[VT_SNP_REPORT_SIZE], rd[64];
        char *chain = NULL, *chain2 = NULL;

        make_report(&S.guest, rd_of(5, rd), rep, &chain);
        size_t n = count_files(S.dir, "vcek-", ".key");
        make_report(&S.guest, rd, rep2, &chain2);
        assert_int_equal(count_files(S.dir, "vcek-", ".key"), n);
        assert_string_equal(chain, chain2);
        /* Same VCEK, fresh report id and signature. */
        assert_memory_not_equal(rep + 0x140, rep2 + 0x140, 32);
        assert_memory_equal(rep, rep2, 0x140);
        assert_int_equal(file_mode(path_in(S.dir, "vcek-7308000000000003.key")), 0600);
        free(chain2);

        /* A damaged certificate, or a guest with another chip id, gets a new VCEK. */
        _cleanup_(verifier_freep) struct vt_snp_verifier *v = trusting_verifier(S.root, S.root_len);
        struct vt_snp_result res;
        struct vt_diag d = {0};
        FILE *f = fopen(path_in(S.dir, "vcek-7308000000000003.pem"), "w");
        assert_non_null(f);
        fputs("not a certificate\n", f);
        fclose(f);
        make_report(&S.guest, rd, rep2, &chain2);
        assert_string_not_equal(chain, chain2);
        assert_int_equal(verify(v, rep2, chain2, &res, &d), 0);
        free(chain2);
        struct vt_sim_guest other = S.guest;
        other.chip_id[0] ^= 0xff;
        make_report(&other, rd, rep2, &chain2);
        assert_int_equal(verify(v, rep2, chain2, &res, &d), 0);
        assert_memory_equal(res.report.chip_id, other.chip_id, 64);
        free(chain2);
        make_report(&S.guest, rd, rep2, &chain2);
        assert_int_equal(verify(v, rep2, chain2, &res, &d), 0);
        assert_memory_equal(res.report.chip_id, S.guest.chip_id, 64);
        free(chain2);
        free(chain);
}

static void test_sim_tamper(void **state)
{
        _cleanup_(verifier_freep) struct vt_snp_verifier *v = NULL;
        uint8_t rep[VT_SNP_REPORT_SIZE], bad[VT_SNP_REPORT_SIZE], rd[64];
        struct vt_snp_result res;
        struct vt_diag d = {0};
        char *chain = NULL;

        make_report(&S.guest, rd_of(6, rd), rep, &chain);
        v = trusting_verifier(S.root, S.root_len);
        assert_int_equal(verify(v, rep, chain, &res, &d), 0);
        /* Every signed byte, and every byte of R and S. */
        for (size_t i = 0; i < 0x330; i++) {
                memcpy(bad, rep, sizeof(bad));
                bad[i] ^= 0x01;
                vt_diag_clear(&d);
                int e = verify(v, bad, chain, &res, &d);
                if (e == 0)
                        fail_msg("flipping byte 0x%zx was accepted", i);
        }
        assert_int_equal(verify(v, rep, chain, &res, &d), 0);
        free(chain);
}

static void test_sim_report_rejects_bad_guest(void **state)
{
        uint8_t rep[VT_SNP_REPORT_SIZE], rd[64] = {0};
        struct vt_diag d = {0};
        char *chain = NULL;
        struct vt_sim_guest g = S.guest;

        g.policy = 0x10000; /* bit 17 clear */
        assert_int_equal(vt_sim_report(S.dir, &g, rd, rep, &chain, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "bit 17"));
        g = S.guest;
        g.policy |= 1ull << 40;
        assert_int_equal(vt_sim_report(S.dir, &g, rd, rep, &chain, NULL), VT_E_INVAL);
        g = S.guest;
        g.vmpl = 4;
        assert_int_equal(vt_sim_report(S.dir, &g, rd, rep, &chain, NULL), VT_E_INVAL);
        assert_null(chain);
        /* No simulator there. */
        vt_diag_clear(&d);
        assert_int_equal(vt_sim_report(S.base, &S.guest, rd, rep, &chain, &d), VT_E_IO);
        assert_non_null(strstr(d.msg, "sim init"));
}

/* Writes text as DIR/guest.json of a scratch directory and loads it. */
static int load_text(const char *text, struct vt_sim_guest *g, struct vt_diag *d)
{
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/g", S.base);
        mkdir(dir, 0700);
        FILE *f = fopen(path_in(dir, "guest.json"), "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        vt_diag_clear(d);
        return vt_sim_load_guest(dir, g, d);
}

#define H16 "00112233445566778899aabbccddeeff"
#define H32 H16 H16
#define H48 H32 H16
#define H64 H32 H32

static void test_sim_load_guest_strict(void **state)
{
        static const char good[] = "{\"measurement\":\"" H48 "\",\"host_data\":\"" H32
                                   "\",\"family_id\":\"" H16 "\",\"image_id\":\"" H16
                                   "\",\"chip_id\":\"" H64 "\",\"policy\":196608,\"guest_svn\":2,"
                                   "\"vmpl\":1,\"tcb\":{\"bootloader\":1,\"tee\":2,\"snp\":3,"
                                   "\"microcode\":200}}";
        static const struct {
                const char *from, *to, *why;
        } bad[] = {
                {"\"vmpl\":1", "\"vmpl\":1,\"extra\":1", "unknown key"},
                {"\"vmpl\":1,", "", "lacks"},
                {"\"vmpl\":1", "\"vmpl\":4", "vmpl"},
                {"\"vmpl\":1", "\"vmpl\":\"1\"", "vmpl"},
                {"\"vmpl\":1", "\"vmpl\":1.0", "vmpl"},
                {"\"vmpl\":1", "\"vmpl\":1,\"vmpl\":2", "duplicate"},
                {"\"policy\":196608", "\"policy\":65536", "bit 17"},
                {"\"policy\":196608", "\"policy\":67305472", "63:26"},
                {"\"policy\":196608", "\"policy\":-1", "policy"},
                {"\"guest_svn\":2", "\"guest_svn\":4294967296", "guest_svn"},
                {"\"microcode\":200", "\"microcode\":256", "microcode"},
                {"\"microcode\":200", "\"microcode\":200,\"fmc\":1", "unknown key"},
                {",\"microcode\":200", "", "lacks"},
                {"\"host_data\":\"" H32, "\"host_data\":\"" H16, "host_data"},
                {"\"host_data\":\"" H32, "\"host_data\":\"" H32 "00", "host_data"},
                {"\"family_id\":\"" H16, "\"family_id\":\"zz112233445566778899aabbccddeeff",
                 "family_id"},
                {"\"chip_id\":\"" H64, "\"chip_id\":\"" H64 "0", "chip_id"},
                {"\"image_id\":\"" H16, "\"image_id\":\"00\\u00002233445566778899aabbccddeeff0",
                 "line"},
                {"\"tcb\":{", "\"tcb\":[{", "line"},
        };
        struct vt_sim_guest g;
        struct vt_diag d = {0};

        int e = load_text(good, &g, &d);
        if (e < 0)
                print_message("good: %s\n", d.msg);
        assert_int_equal(e, 0);
        assert_int_equal(g.vmpl, 1);
        assert_int_equal(g.guest_svn, 2);
        assert_int_equal(g.microcode, 200);
        assert_int_equal(g.chip_id[63], 0xff);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char text[1024];
                const char *at = strstr(good, bad[i].from);
                assert_non_null(at);
                snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, bad[i].to,
                         at + strlen(bad[i].from));
                e = load_text(text, &g, &d);
                if (e != VT_E_FORMAT || !strstr(d.msg, bad[i].why))
                        fail_msg("case %zu (%s): %d \"%s\"", i, bad[i].why, e, d.msg);
        }
        assert_int_equal(load_text("[]", &g, &d), VT_E_FORMAT);
        assert_int_equal(load_text("", &g, &d), VT_E_FORMAT);
}

/* Last: re-creates the simulator. Old VCEKs go, and the old root no longer verifies
 * the new simulator's reports. */
static void test_sim_reinit_force(void **state)
{
        _cleanup_(verifier_freep) struct vt_snp_verifier *old = NULL, *fresh = NULL;
        uint8_t rep[VT_SNP_REPORT_SIZE], rd[64];
        struct vt_snp_result res;
        struct vt_diag d = {0};
        struct vt_sim_guest g;
        char *chain = NULL;
        size_t len;

        assert_true(count_files(S.dir, "vcek-", ".pem") > 0);
        int e = vt_sim_init(S.dir, true, &d);
        if (e < 0)
                print_message("init --force: %s\n", d.msg);
        assert_int_equal(e, 0);
        assert_int_equal(count_files(S.dir, "vcek-", ""), 0);
        assert_int_equal(file_mode(path_in(S.dir, "ark.key")), 0600);
        assert_int_equal(file_mode(path_in(S.dir, "ask.key")), 0600);
        uint8_t *root = vt_test_load(path_in(S.dir, "root.pem"), &len);
        assert_memory_not_equal(root, S.root, len < S.root_len ? len : S.root_len);
        assert_int_equal(vt_sim_load_guest(S.dir, &g, &d), 0);
        assert_memory_not_equal(g.chip_id, S.guest.chip_id, 64);

        make_report(&g, rd_of(7, rd), rep, &chain);
        old = trusting_verifier(S.root, S.root_len);
        assert_int_equal(verify(old, rep, chain, &res, &d), VT_E_CHAIN);
        fresh = trusting_verifier(root, len);
        assert_int_equal(verify(fresh, rep, chain, &res, &d), 0);
        check_fields(&res, &g, rd);
        free(root);
        free(chain);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sim_init_layout),
                cmocka_unit_test(test_sim_guest_defaults),
                cmocka_unit_test(test_sim_init_refuses_overwrite),
                cmocka_unit_test(test_sim_chain_shape),
                cmocka_unit_test(test_sim_report_untrusted),
                cmocka_unit_test(test_sim_report_trusted),
                cmocka_unit_test(test_sim_report_custom),
                cmocka_unit_test(test_sim_vcek_reused),
                cmocka_unit_test(test_sim_tamper),
                cmocka_unit_test(test_sim_report_rejects_bad_guest),
                cmocka_unit_test(test_sim_load_guest_strict),
                cmocka_unit_test(test_sim_reinit_force),
        };
        return vtt_run_group_tests(tests, group_setup, group_teardown);
}
