/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an SEV-SNP report that carries a valid signature, so that what comes after
 * the signature check is fuzzed: TCB against the VCEK's extensions, the chip binding, the
 * claims, init-data and the appraisal against reference values.
 *
 * Plain byte flips never get past an ECDSA P-384 signature. So this target trusts a test
 * chain made at start-up with lib/sim/amdchain (a fresh ARK and ASK, "NOT AMD", added to
 * the verifier as an extra root, as the simulator's is) whose VCEK certifies a fixed test
 * key (FUZZ_VCEK_PEM below, made for this file and used nowhere else), and its
 * LLVMFuzzerCustomMutator mutates the report's signed bytes, field-aware, and re-signs them
 * with that key. Because the key is fixed, the inputs libFuzzer keeps stay valid in a
 * later process, and the replay driver (which has no custom mutator) runs them as they are.
 *
 * Every input goes through vt_attest() as tee "sim" (the report in Trustee's wire JSON
 * with the VCEK and ASK, bound to its own report_data, with an init-data document) against
 * reference values made from the base report, and through vt_snp_verify() directly with the
 * leaf and chain. The VCEK's TCB and hwID match the base report, so a mutation of one field
 * reaches the check of that field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/attest.h"
#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "evidence/snp_wire.h"
#include "sim/amdchain.h"
#include "util/macro.h"
#include "veritee/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
/* libFuzzer's; absent from the replay driver and the seed writer (weak: NULL there) */
__attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static void mutate_bytes(uint8_t *p, size_t len, uint32_t r)
{
        if (LLVMFuzzerMutate)
                (void)LLVMFuzzerMutate(p, len, len);
        else
                p[r % len] ^= (uint8_t)(1u + (r >> 8) % 255u);
}

/* 2025-06-01T00:00:00Z: inside the test chain's validity, fixed for reproducible runs. */
#define FUZZ_VERIFY_AT 1748736000
#define T_2020         INT64_C(1577836800)
#define T_2045         INT64_C(2366841600)
/* The signed part of a report: bytes 0x000-0x29F. */
#define SIGNED_LEN 0x2a0

/* The test VCEK key (P-384), for this fuzz target only. */
static const char FUZZ_VCEK_PEM[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBxxbOPAkg77n7gP/KF\n"
        "atPwW+E2I41jlf4idUeMu71UiWEQmMIhTsyVcNnttIl5JDGhZANiAARU4Dm/0tml\n"
        "o5HLUOcLdgAiLplMSjAu1ylgsTWJb6d13VsInPh328LdOSWqert5m2gZIb04aeNA\n"
        "7FqOAKgl5AciSFpkmmosgH5Fe/P+aEJfgq2D3VJoITK7jCocCBYaZZo=\n"
        "-----END PRIVATE KEY-----\n";

static const struct vt_amd_name fuzz_name = {
        .ou = "Engineering",
        .c = "US",
        .o = "NOT AMD: veritee fuzz test chain",
};

/* The base report's TCB (Milan layout) and identity; the VCEK certifies the same. */
#define TCB_BL    4
#define TCB_TEE   0
#define TCB_SNP   22
#define TCB_UCODE 213

/* The init-data document the attest path sends (its digest is the base report's HOST_DATA). */
static const char INIT_DATA_BODY[] = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n"
                                     "\"aa.toml\" = \"x = 1\"\n";

struct fixture {
        EVP_PKEY *vcek_key;
        uint8_t *vcek_der, *ask_der;
        size_t vcek_len, ask_len;
        struct vt_snp_verifier *verifier;
        struct vt_refvals *refvals;
        json_t *init_data;
        uint8_t base[VT_SNP_REPORT_SIZE];
};

static uint8_t chip_id[64], measurement[48], host_data[32], report_data[64];

static void fill(uint8_t *p, size_t n, uint8_t v)
{
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(v + i);
}

static size_t der_of(X509 *x, uint8_t **ret)
{
        int n = i2d_X509(x, NULL);
        if (n <= 0 || !(*ret = malloc((size_t)n)))
                abort();
        uint8_t *p = *ret;
        if (i2d_X509(x, &p) != n)
                abort();
        return (size_t)n;
}

/* Made once per process; failing here is a bug in the fixture, not in the input. */
static const struct fixture *fixture(void)
{
        static struct fixture f;
        static bool made;
        if (made)
                return &f;
        fill(chip_id, sizeof(chip_id), 0x40);
        fill(measurement, sizeof(measurement), 0x90);
        /* HOST_DATA binds the init-data document (sha256), so its claims are reached */
        if (!EVP_Digest(INIT_DATA_BODY, sizeof(INIT_DATA_BODY) - 1, host_data, NULL, EVP_sha256(),
                        NULL))
                abort();
        fill(report_data, sizeof(report_data), 0x50);

        EVP_PKEY *ark_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        EVP_PKEY *ask_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        X509 *ark = NULL, *ask = NULL, *vcek = NULL;
        if (!ark_key || !ask_key ||
            vt_pem_private_key((const uint8_t *)FUZZ_VCEK_PEM, sizeof(FUZZ_VCEK_PEM) - 1,
                               &f.vcek_key) < 0 ||
            vt_amd_issue_ark(&fuzz_name, 0x10000, "ARK-Milan", ark_key, T_2020, T_2045, &ark,
                             NULL) < 0 ||
            vt_amd_issue_ca(&fuzz_name, 0x10001, "SEV-Milan", ark, ark_key, ask_key, T_2020, T_2045,
                            &ask, NULL) < 0)
                abort();
        const struct vt_amd_leaf l = {
                .cn = "SEV-VCEK",
                .not_before = T_2020,
                .not_after = T_2045,
                .struct_version = 0,
                .product = "Milan-B0",
                .bl = TCB_BL,
                .tee = TCB_TEE,
                .snp = TCB_SNP,
                .ucode = TCB_UCODE,
                .fmc = -1,
                .hwid = chip_id,
                .hwid_len = sizeof(chip_id),
        };
        if (vt_amd_issue_leaf(&fuzz_name, &l, ask, ask_key, f.vcek_key, &vcek, NULL) < 0)
                abort();
        f.vcek_len = der_of(vcek, &f.vcek_der);
        f.ask_len = der_of(ask, &f.ask_der);
        uint8_t *ark_der = NULL;
        size_t ark_len = der_of(ark, &ark_der);
        if (vt_snp_verifier_new(&f.verifier) < 0 ||
            vt_snp_verifier_set_kds(f.verifier, "http://127.0.0.1:9", NULL) < 0 ||
            vt_snp_verifier_set_fetch_limits(f.verifier, 100, 0, 1) < 0 ||
            vt_snp_verifier_add_root(f.verifier, VT_SNP_PRODUCT_MILAN, ark_der, ark_len, NULL) < 0)
                abort();
        free(ark_der);
        X509_free(ark);
        X509_free(ask);
        X509_free(vcek);
        EVP_PKEY_free(ark_key);
        EVP_PKEY_free(ask_key);

        const struct vt_amd_report r = {
                .version = 3,
                .guest_svn = 7,
                .policy = 0x30000,
                .tcb = vt_amd_tcb_raw(0, TCB_BL, TCB_TEE, TCB_SNP, TCB_UCODE, false),
                .report_data = report_data,
                .measurement = measurement,
                .host_data = host_data,
                .chip_id = chip_id,
                .cpuid_fam = 0x19,
                .cpuid_mod = 0x01,
                .cpuid_step = 0x01,
                .fw_major = 1,
                .fw_minor = 55,
                .fw_build = 29,
        };
        vt_amd_report_build(&r, f.base);
        if (vt_amd_report_sign(f.base, f.vcek_key, NULL) < 0)
                abort();

        /* reference values: one the base report meets, one strict one it does not */
        char hex[2 * sizeof(measurement) + 1];
        for (size_t i = 0; i < sizeof(measurement); i++)
                snprintf(hex + 2 * i, 3, "%02x", measurement[i]);
        json_t *good = json_pack("{s:[s], s:{s:i, s:i, s:i, s:i}, s:i, s:b, s:b}", "measurements",
                                 hex, "minimum_tcb", "bootloader", TCB_BL, "tee", TCB_TEE, "snp",
                                 TCB_SNP, "microcode", TCB_UCODE, "minimum_guest_svn", 7,
                                 "debug_allowed", false, "smt_allowed", true);
        json_t *strict = json_pack("{s:[s], s:[s], s:b, s:i}", "measurements", hex, "signers",
                                   "vlek", "single_socket_required", true, "vmpl", 0);
        if (!good || !strict || vt_refvals_new(&f.refvals) < 0 ||
            vt_refvals_add(f.refvals, "good", "sim", good, NULL) < 0 ||
            vt_refvals_add(f.refvals, "strict", "sim", strict, NULL) < 0)
                abort();
        json_decref(good);
        json_decref(strict);
        f.init_data = json_pack("{s:s, s:s}", "format", "toml", "body", INIT_DATA_BODY);
        if (!f.init_data)
                abort();
        made = true;
        return &f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct fixture *f = fixture();
        struct vt_diag d = {0};
        struct vt_snp_result res;
        struct vt_snp_verify_opts o = {
                .leaf = f->vcek_der,
                .leaf_len = f->vcek_len,
                .chain = f->ask_der,
                .chain_len = f->ask_len,
                .at = FUZZ_VERIFY_AT,
        };
        /* VT_FUZZ_VERBOSE=1: what each step said, to check that inputs get past the signature */
        static int verbose = -1;
        if (verbose < 0)
                verbose = getenv("VT_FUZZ_VERBOSE") != NULL;
        int e = vt_snp_verify(f->verifier, data, size, &o, &res, &d);
        if (verbose)
                fprintf(stderr, "verify: %d %s\n", e, d.msg);
        if (size != VT_SNP_REPORT_SIZE)
                return 0;

        /* the KBS path: Trustee's wire JSON with the VCEK and ASK, bound to its own
         * report_data, with and without init-data */
        struct vt_snp_wire_cert certs[2] = {
                {.type = "VCEK", .der = f->vcek_der, .len = f->vcek_len},
                {.type = "ASK", .der = f->ask_der, .len = f->ask_len},
        };
        json_t *ev = NULL;
        if (vt_snp_wire_encode(data, certs, 2, &ev) < 0)
                return 0;
        const struct vt_attest_ctx ctx = {
                .snp_sim = f->verifier,
                .min_tier = VT_AR4SI_TIER_CONTRAINDICATED,
                .refvals = f->refvals,
                .now = FUZZ_VERIFY_AT,
        };
        uint8_t expected[64];
        memcpy(expected, data + 0x50, sizeof(expected)); /* REPORT_DATA */
        for (int k = 0; k < 2; k++) {
                struct vt_attest_result r;
                vt_diag_clear(&d);
                e = vt_attest(&ctx, "sim", ev, expected, k ? f->init_data : NULL, &r, &d);
                if (verbose)
                        fprintf(stderr, "attest%s: %d %s%s\n", k ? " with init-data" : "", e, d.msg,
                                e == 0 ? r.appraisal.msg : "");
                if (e == 0)
                        vt_attest_result_done(&r);
        }
        json_decref(ev);
        return 0;
}

/* Field-aware mutations of the signed bytes: offsets of the fields the checks after the
 * signature read (docs/snp.md, report version 3). */
static const struct {
        uint16_t off, len;
} fields[] = {
        {0x000, 4},  /* VERSION */
        {0x004, 4},  /* GUEST_SVN */
        {0x008, 8},  /* POLICY */
        {0x010, 16}, /* FAMILY_ID */
        {0x020, 16}, /* IMAGE_ID */
        {0x030, 4},  /* VMPL */
        {0x034, 4},  /* SIGNATURE_ALGO */
        {0x038, 8},  /* CURRENT_TCB */
        {0x040, 8},  /* PLATFORM_INFO */
        {0x048, 4},  /* signing key, mask chip key, author key */
        {0x050, 64}, /* REPORT_DATA */
        {0x090, 48}, /* MEASUREMENT */
        {0x0c0, 32}, /* HOST_DATA */
        {0x0e0, 48}, /* ID_KEY_DIGEST */
        {0x110, 48}, /* AUTHOR_KEY_DIGEST */
        {0x140, 32}, /* REPORT_ID */
        {0x180, 8},  /* REPORTED_TCB */
        {0x188, 3},  /* CPUID fam, mod, step */
        {0x1a0, 64}, /* CHIP_ID */
        {0x1e0, 8},  /* COMMITTED_TCB */
        {0x1e8, 3},  /* CURRENT build, minor, major */
        {0x1f0, 8},  /* LAUNCH_TCB */
};

static uint32_t next(uint32_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
        const struct fixture *f = fixture();
        uint32_t s = seed ? seed : 1;
        if (max_size < VT_SNP_REPORT_SIZE)
                return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max_size) : size;
        if (size != VT_SNP_REPORT_SIZE || next(&s) % 64 == 0) {
                memcpy(data, f->base, VT_SNP_REPORT_SIZE);
                size = VT_SNP_REPORT_SIZE;
        }
        unsigned n = 1 + next(&s) % 3;
        for (unsigned i = 0; i < n; i++) {
                unsigned k = next(&s) % ELEMENTSOF(fields);
                uint8_t *p = data + fields[k].off;
                size_t len = fields[k].len;
                switch (next(&s) % 5) {
                case 0: /* libFuzzer's own mutations inside the field */
                        mutate_bytes(p, len, next(&s));
                        break;
                case 1: /* the base report's value back */
                        memcpy(p, f->base + fields[k].off, len);
                        break;
                case 2: /* one byte +-1 (TCB SPLs, SVNs, versions) */
                        p[next(&s) % len] += (next(&s) & 1) ? 1 : 0xff;
                        break;
                case 3: /* one bit */
                        p[next(&s) % len] ^= (uint8_t)(1u << (next(&s) % 8));
                        break;
                default: /* all zero or all 0xff */
                        memset(p, (next(&s) & 1) ? 0xff : 0, len);
                        break;
                }
        }
        /* mostly re-signed; sometimes not, or mutated anywhere in the signed part */
        uint32_t r = next(&s) % 32;
        if (r == 0)
                mutate_bytes(data, SIGNED_LEN, next(&s));
        if (r != 1 && vt_amd_report_sign(data, f->vcek_key, NULL) < 0)
                abort();
        return VT_SNP_REPORT_SIZE;
}

#ifdef VT_FUZZ_SNP_SIGNED_SEEDS
/* fuzz_snp_signed_seeds DIR [N]: writes the base report (seed-base) and N (default 16)
 * re-signed mutations of it (seed-mut-<i>) into DIR, for corpora and replay. */
int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s DIR [N]\n", argv[0]);
                return 2;
        }
        /* N: decimal, at most 999 */
        int n = argc > 2 ? 0 : 16;
        for (const char *c = argc > 2 ? argv[2] : ""; *c >= '0' && *c <= '9' && n < 100; c++)
                n = n * 10 + (*c - '0');
        uint8_t rep[VT_SNP_REPORT_SIZE];
        char path[4096];
        for (int i = -1; i < n; i++) {
                memcpy(rep, fixture()->base, sizeof(rep));
                if (i >= 0)
                        (void)LLVMFuzzerCustomMutator(rep, sizeof(rep), sizeof(rep),
                                                      (unsigned)(i + 1) * 2654435761u);
                if (i < 0)
                        snprintf(path, sizeof(path), "%s/seed-base", argv[1]);
                else
                        snprintf(path, sizeof(path), "%s/seed-mut-%02d", argv[1], i);
                FILE *fp = fopen(path, "wb");
                if (!fp || fwrite(rep, 1, sizeof(rep), fp) != sizeof(rep) || fclose(fp) != 0) {
                        fprintf(stderr, "%s: cannot write %s\n", argv[0], path);
                        return 1;
                }
        }
        return 0;
}
#endif
