/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SNP verification against a generated AMD-shaped chain (tests/helpers/snpchain.c):
 * the CRL check (which AMD's own keys cannot exercise), report signature, TCB and
 * hwID binding, chip-id masking and validity windows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "crypto/x509.h"
#include "snpchain.h"
#include "veritee/snp.h"

#define T_2023_06_01 INT64_C(1685577600)
#define T_2025_06_01 INT64_C(1748736000)
#define T_2026_01_01 INT64_C(1767225600) /* the verification time of these tests */
#define T_2027_01_01 INT64_C(1798761600)
#define T_2032_01_01 INT64_C(1956528000)

#define ARK_SERIAL 0x10000u
#define ASK_SERIAL 0x10001u

/* Generated once per binary: RSA key generation is the slow part. */
static struct {
        struct snpchain *chain;
        EVP_PKEY *vcek_key;
        X509 *vcek;
        uint8_t *vcek_der, *vcek_pem, *bundle;
        size_t vcek_der_len, vcek_pem_len, bundle_len;
        uint8_t hwid[64];
        uint8_t report[VT_SNP_REPORT_SIZE];
} g;

static const struct snpchain_tcb tcb = {.bl = 4, .tee = 0, .snp = 0x18, .ucode = 0xdb, .fmc = -1};

static void make_report(const uint8_t *chip_id, EVP_PKEY *key, uint8_t rep[VT_SNP_REPORT_SIZE])
{
        struct snpchain_report_opts ro = {
                .reported_tcb = snpchain_tcb_raw(&tcb, false),
                .chip_id = chip_id,
        };
        snpchain_report_build(&ro, rep);
        assert_int_equal(snpchain_report_sign(rep, key), 0);
}

static int group_setup(void **state)
{
        struct snpchain_vcek_opts vo;
        if (snpchain_new(NULL, &g.chain) < 0 || snpchain_new_p384(&g.vcek_key) < 0)
                return -1;
        for (size_t i = 0; i < sizeof(g.hwid); i++)
                g.hwid[i] = (uint8_t)(0xa0 + i); /* begins with 0xa0: not DER-looking */
        snpchain_vcek_opts_init(&vo, &tcb, g.hwid, sizeof(g.hwid));
        if (snpchain_issue_vcek(g.chain, &vo, g.vcek_key, &g.vcek) < 0 ||
            snpchain_cert_der(g.vcek, &g.vcek_der, &g.vcek_der_len) < 0 ||
            snpchain_cert_pem(g.vcek, &g.vcek_pem, &g.vcek_pem_len) < 0 ||
            snpchain_root_bundle_pem(g.chain, &g.bundle, &g.bundle_len) < 0)
                return -1;
        struct snpchain_report_opts ro = {
                .reported_tcb = snpchain_tcb_raw(&tcb, false),
                .chip_id = g.hwid,
        };
        snpchain_report_build(&ro, g.report);
        return snpchain_report_sign(g.report, g.vcek_key) < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
        X509_free(g.vcek);
        EVP_PKEY_free(g.vcek_key);
        snpchain_free(g.chain);
        free(g.vcek_der);
        free(g.vcek_pem);
        free(g.bundle);
        return 0;
}

/* A verifier that trusts the built-in AMD roots and the test ARK (with its ASK). */
static struct vt_snp_verifier *test_verifier(void)
{
        struct vt_snp_verifier *v = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        int e = vt_snp_verifier_add_root(v, VT_SNP_PRODUCT_MILAN, g.bundle, g.bundle_len, &d);
        if (e < 0)
                print_message("add_root: %s\n", d.msg);
        assert_int_equal(e, 0);
        return v;
}

struct check {
        const uint8_t *report; /* NULL: g.report */
        const uint8_t *leaf;   /* NULL: g.vcek_der */
        size_t leaf_len;
        const uint8_t *chain;
        size_t chain_len;
        const uint8_t *crl;
        size_t crl_len;
        int64_t at;                /* 0: 2026-01-01 */
        struct vt_snp_verifier *v; /* NULL: a fresh test_verifier() */
};

/* Verifies with a fresh verifier; returns the result code, diag in *d. */
static int run(const struct check *c, struct vt_snp_result *res, struct vt_diag *d)
{
        struct vt_snp_verifier *v = c->v ? c->v : test_verifier();
        struct vt_snp_result r_local;
        struct vt_snp_verify_opts o = {
                .leaf = c->leaf ? c->leaf : g.vcek_der,
                .leaf_len = c->leaf ? c->leaf_len : g.vcek_der_len,
                .chain = c->chain,
                .chain_len = c->chain_len,
                .crl = c->crl,
                .crl_len = c->crl_len,
                .at = c->at ? c->at : T_2026_01_01,
        };
        vt_diag_clear(d);
        int e = vt_snp_verify(v, c->report ? c->report : g.report, VT_SNP_REPORT_SIZE, &o,
                              res ? res : &r_local, d);
        if (!c->v)
                vt_snp_verifier_free(v);
        return e;
}

/* Asserts the result code, printing the diagnostic when it differs. */
static void expect(const struct check *c, int want, const char *msg_part)
{
        struct vt_diag d = {0};
        int e = run(c, NULL, &d);
        if (e != want)
                print_message("expected %s (%d), got %s (%d): %s\n", vt_strerror(want), want,
                              vt_strerror(e), e, d.msg);
        assert_int_equal(e, want);
        if (msg_part && !strstr(d.msg, msg_part)) {
                print_message("diag \"%s\" lacks \"%s\"\n", d.msg, msg_part);
                fail();
        }
}

/* Builds a CRL and returns it as DER or PEM (caller frees). */
static uint8_t *crl_bytes(const struct snpchain_crl_opts *o, bool pem, size_t *len)
{
        X509_CRL *crl = NULL;
        uint8_t *buf = NULL;
        assert_int_equal(snpchain_crl(g.chain, o, &crl), 0);
        assert_int_equal(pem ? snpchain_crl_pem(crl, &buf, len) : snpchain_crl_der(crl, &buf, len),
                         0);
        X509_CRL_free(crl);
        return buf;
}

static void test_chain_sanity(void **state)
{
        struct vt_snp_result res;
        struct vt_diag d = {0};
        struct vt_snp_report r;

        /* the generated chain has AMD's shape */
        assert_int_equal(X509_get_signature_nid(g.chain->ark), NID_rsassaPss);
        assert_int_equal(X509_get_signature_nid(g.chain->ask), NID_rsassaPss);
        assert_int_equal(X509_get_signature_nid(g.vcek), NID_rsassaPss);
        assert_int_equal(vt_x509_verify_pss384(g.chain->ask, g.chain->ark_key), 0);
        assert_int_equal(vt_x509_verify_pss384(g.vcek, g.chain->ask_key), 0);
        assert_int_equal(vt_snp_report_parse(g.report, sizeof(g.report), &r, &d), 0);
        assert_int_equal(r.product, VT_SNP_PRODUCT_MILAN);
        assert_int_equal(r.reported_tcb.raw, UINT64_C(0xdb18000000000004));

        struct check c = {0};
        int e = run(&c, &res, &d);
        if (e < 0)
                print_message("verify: %s\n", d.msg);
        assert_int_equal(e, 0);
        assert_int_equal(res.product, VT_SNP_PRODUCT_MILAN);
        assert_int_equal(res.signer, VT_SNP_SIGNER_VCEK);
        assert_false(res.root_builtin);
        assert_int_equal(res.report.reported_tcb.microcode, 0xdb);
        assert_memory_equal(res.report.chip_id, g.hwid, 64);

        /* the leaf in PEM form too */
        c.leaf = g.vcek_pem;
        c.leaf_len = g.vcek_pem_len;
        expect(&c, 0, NULL);
}

static void test_chain_untrusted_root(void **state)
{
        struct vt_snp_verifier *v = NULL;
        struct vt_snp_result res;
        struct vt_diag d = {0};
        struct vt_snp_verify_opts o = {
                .leaf = g.vcek_der, .leaf_len = g.vcek_der_len, .at = T_2026_01_01};

        /* without add_root the test chain ends nowhere */
        assert_int_equal(vt_snp_verifier_new(&v), 0);
        assert_int_equal(vt_snp_verify(v, g.report, sizeof(g.report), &o, &res, &d), VT_E_CHAIN);
        /* a bundle without the self-signed ARK is refused */
        uint8_t *ask = NULL;
        size_t ask_len = 0;
        assert_int_equal(snpchain_cert_pem(g.chain->ask, &ask, &ask_len), 0);
        vt_diag_clear(&d);
        assert_int_equal(vt_snp_verifier_add_root(v, VT_SNP_PRODUCT_MILAN, ask, ask_len, &d),
                         VT_E_CHAIN);
        assert_non_null(strstr(d.msg, "ARK"));
        free(ask);
        vt_snp_verifier_free(v);
}

/* (a) a CRL that lists nothing (or only other serials) changes nothing */
static void test_crl_empty_ok(void **state)
{
        static const uint64_t others[] = {ARK_SERIAL, 0 /* the VCEK's */, 0x10101, 0x20002};
        size_t len = 0;
        uint8_t *crl = crl_bytes(NULL, false, &len);
        struct check c = {.crl = crl, .crl_len = len};
        expect(&c, 0, NULL);
        free(crl);

        struct snpchain_crl_opts o = {.revoked = others, .n_revoked = ELEMENTSOF(others)};
        crl = crl_bytes(&o, false, &len);
        c = (struct check){.crl = crl, .crl_len = len};
        expect(&c, 0, NULL);
        free(crl);

        /* nextUpdate is optional */
        o = (struct snpchain_crl_opts){.next_update = -1};
        crl = crl_bytes(&o, false, &len);
        c = (struct check){.crl = crl, .crl_len = len};
        expect(&c, 0, NULL);
        free(crl);
}

/* (b) the ASK serial listed: revoked, and the message names the intermediate */
static void test_crl_revoked_ask(void **state)
{
        static const uint64_t revoked[] = {0x2, ASK_SERIAL, 0x20002};
        struct snpchain_crl_opts o = {.revoked = revoked, .n_revoked = ELEMENTSOF(revoked)};
        size_t len = 0;
        uint8_t *crl = crl_bytes(&o, false, &len);
        struct check c = {.crl = crl, .crl_len = len};
        expect(&c, VT_E_REVOKED, "intermediate \"SEV-Milan\"");
        free(crl);
}

/* (c) a CRL that names the ARK but is signed by another key */
static void test_crl_wrong_signer(void **state)
{
        size_t len = 0;
        /* the ASK key (RSA-PSS SHA-384, the same algorithm) */
        struct snpchain_crl_opts o = {.signer = g.chain->ask_key};
        uint8_t *crl = crl_bytes(&o, false, &len);
        struct check c = {.crl = crl, .crl_len = len};
        expect(&c, VT_E_SIGNATURE, "crl: signature");
        free(crl);

        /* an EC key */
        o = (struct snpchain_crl_opts){.signer = g.vcek_key};
        crl = crl_bytes(&o, false, &len);
        c = (struct check){.crl = crl, .crl_len = len};
        expect(&c, VT_E_SIGNATURE, "crl: signature");
        free(crl);

        /* the ARK's own CRL with one signature bit flipped (the signature is last) */
        crl = crl_bytes(NULL, false, &len);
        crl[len - 1] ^= 1;
        c = (struct check){.crl = crl, .crl_len = len};
        expect(&c, VT_E_SIGNATURE, NULL);
        free(crl);

        /* signed by the ARK but naming another issuer */
        o = (struct snpchain_crl_opts){.issuer_cn = "ARK-Genoa"};
        crl = crl_bytes(&o, false, &len);
        c = (struct check){.crl = crl, .crl_len = len};
        expect(&c, VT_E_CHAIN, "issuer");
        free(crl);
}

/* (d) a CRL outside its own window at the verification time */
static void test_crl_stale(void **state)
{
        size_t len = 0;
        struct snpchain_crl_opts o = {.next_update = T_2025_06_01};
        uint8_t *crl = crl_bytes(&o, false, &len);
        struct check c = {.crl = crl, .crl_len = len};
        expect(&c, VT_E_EXPIRED, "next update");
        /* the same CRL is fine at a time before its nextUpdate */
        c.at = T_2025_06_01 - 86400;
        expect(&c, 0, NULL);
        free(crl);

        /* lastUpdate after the verification time: not yet valid */
        o = (struct snpchain_crl_opts){.last_update = T_2027_01_01};
        crl = crl_bytes(&o, false, &len);
        c = (struct check){.crl = crl, .crl_len = len};
        expect(&c, VT_E_EXPIRED, "not yet valid");
        free(crl);
}

static void expect_crl_rejected(struct vt_snp_verifier *v, const uint8_t *buf, size_t len)
{
        struct check c = {.crl = buf, .crl_len = len, .v = v};
        struct vt_diag d = {0};
        int e = run(&c, NULL, &d);
        if (e != VT_E_FORMAT && e != VT_E_TRAILING && e != VT_E_INVAL) {
                print_message("CRL of %zu bytes: got %s (%d): %s\n", len, vt_strerror(e), e, d.msg);
                fail();
        }
        assert_non_null(strstr(d.msg, "crl"));
}

/* (e) bytes that are not a CRL: a parse error, never a crash or a pass */
static void test_crl_garbage(void **state)
{
        static const char junk[] = "not a CRL at all";
        static const char bad_pem[] =
                "-----BEGIN X509 CRL-----\nAAAAAAAA\n-----END X509 CRL-----\n";
        uint8_t noise[512];
        uint32_t x = 2463534242u; /* xorshift32: deterministic noise */
        size_t len = 0;
        /* one verifier for the whole walk: its leaf cache keeps each call to the CRL check */
        struct vt_snp_verifier *v = test_verifier();

        expect_crl_rejected(v, (const uint8_t *)junk, sizeof(junk) - 1);
        expect_crl_rejected(v, (const uint8_t *)bad_pem, sizeof(bad_pem) - 1);
        for (size_t i = 0; i < sizeof(noise); i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                noise[i] = (uint8_t)x;
        }
        expect_crl_rejected(v, noise, sizeof(noise));
        noise[0] = 0x30; /* a SEQUENCE with a nonsense body */
        expect_crl_rejected(v, noise, sizeof(noise));
        /* a certificate is not a CRL */
        expect_crl_rejected(v, g.vcek_der, g.vcek_der_len);

        uint8_t *crl = crl_bytes(NULL, false, &len);
        /* every truncation of a valid DER CRL */
        for (size_t n = 1; n < len; n++)
                expect_crl_rejected(v, crl, n);
        /* trailing bytes after it */
        uint8_t *longer = malloc(len + 1);
        assert_non_null(longer);
        memcpy(longer, crl, len);
        longer[len] = 0;
        expect_crl_rejected(v, longer, len + 1);
        free(longer);
        free(crl);
        vt_snp_verifier_free(v);
}

/* (f) PEM and DER forms are equivalent */
static void test_crl_pem_and_der(void **state)
{
        static const uint64_t revoked[] = {ASK_SERIAL};
        struct snpchain_crl_opts o = {.revoked = revoked, .n_revoked = 1};
        for (int pem = 0; pem < 2; pem++) {
                size_t len = 0;
                uint8_t *crl = crl_bytes(NULL, pem, &len);
                if (pem)
                        assert_non_null(strstr((const char *)crl, "-----BEGIN X509 CRL-----"));
                struct check c = {.crl = crl, .crl_len = len};
                expect(&c, 0, NULL);
                free(crl);

                crl = crl_bytes(&o, pem, &len);
                c = (struct check){.crl = crl, .crl_len = len};
                expect(&c, VT_E_REVOKED, "SEV-Milan");
                free(crl);
        }
}

static void test_report_other_key(void **state)
{
        uint8_t rep[VT_SNP_REPORT_SIZE];
        EVP_PKEY *other = NULL;
        assert_int_equal(snpchain_new_p384(&other), 0);
        make_report(g.hwid, other, rep);
        struct check c = {.report = rep};
        expect(&c, VT_E_SIGNATURE, "report signature");
        EVP_PKEY_free(other);

        /* one flipped bit inside the signed range */
        memcpy(rep, g.report, sizeof(rep));
        rep[0x90] ^= 1;
        expect(&c, VT_E_SIGNATURE, NULL);
}

/* Issues a VCEK for g.vcek_key with o and returns it as DER (caller frees). */
static uint8_t *vcek_variant(const struct snpchain_vcek_opts *o, size_t *len)
{
        X509 *x = NULL;
        uint8_t *der = NULL;
        assert_int_equal(snpchain_issue_vcek(g.chain, o, g.vcek_key, &x), 0);
        assert_int_equal(snpchain_cert_der(x, &der, len), 0);
        X509_free(x);
        return der;
}

static void test_vcek_tcb_mismatch(void **state)
{
        struct snpchain_vcek_opts vo;
        struct snpchain_tcb t = tcb;
        size_t len = 0;

        t.ucode = 0xdc;
        snpchain_vcek_opts_init(&vo, &t, g.hwid, sizeof(g.hwid));
        uint8_t *der = vcek_variant(&vo, &len);
        struct check c = {.leaf = der, .leaf_len = len};
        expect(&c, VT_E_TCB, "reported_tcb.microcode");
        free(der);

        t = tcb;
        t.snp = 0x17;
        snpchain_vcek_opts_init(&vo, &t, g.hwid, sizeof(g.hwid));
        der = vcek_variant(&vo, &len);
        c = (struct check){.leaf = der, .leaf_len = len};
        expect(&c, VT_E_TCB, "reported_tcb.snp");
        free(der);
}

static void test_vcek_hwid_mismatch(void **state)
{
        struct snpchain_vcek_opts vo;
        uint8_t hw[64];
        size_t len = 0;

        memcpy(hw, g.hwid, sizeof(hw));
        hw[63] ^= 0x01;
        snpchain_vcek_opts_init(&vo, &tcb, hw, sizeof(hw));
        uint8_t *der = vcek_variant(&vo, &len);
        struct check c = {.leaf = der, .leaf_len = len};
        expect(&c, VT_E_BINDING, "chip_id");
        free(der);
}

/* MASK_CHIP_ID: a zero CHIP_ID cannot be compared, so it is accepted */
static void test_chip_id_masked(void **state)
{
        uint8_t rep[VT_SNP_REPORT_SIZE];
        make_report(NULL, g.vcek_key, rep);
        struct check c = {.report = rep};
        expect(&c, 0, NULL);
}

static void test_leaf_window(void **state)
{
        struct check c = {.at = T_2023_06_01};
        expect(&c, VT_E_EXPIRED, "leaf certificate \"SEV-VCEK\"");
        c.at = T_2032_01_01;
        expect(&c, VT_E_EXPIRED, "leaf certificate");
        c.at = T_2027_01_01;
        expect(&c, 0, NULL);

        /* a VCEK that expired before the verification time */
        struct snpchain_vcek_opts vo;
        size_t len = 0;
        snpchain_vcek_opts_init(&vo, &tcb, g.hwid, sizeof(g.hwid));
        vo.not_after = T_2025_06_01;
        uint8_t *der = vcek_variant(&vo, &len);
        c = (struct check){.leaf = der, .leaf_len = len};
        expect(&c, VT_E_EXPIRED, "not valid at 2026-01-01T00:00:00Z");
        free(der);
}

/* A VLEK path built the same way: ASVK supplied as the chain, VLEK leaf, signing key 1. */
static void test_vlek_chain(void **state)
{
        X509 *asvk = NULL, *vlek = NULL;
        uint8_t *asvk_pem = NULL, *vlek_der = NULL;
        size_t asvk_len = 0, vlek_len = 0;
        uint8_t rep[VT_SNP_REPORT_SIZE];
        struct snpchain_vcek_opts vo;
        struct vt_snp_result res;
        struct vt_diag d = {0};

        /* key reuse keeps the test fast; the verifier only looks at names and signatures */
        assert_int_equal(snpchain_issue_ca(g.chain, "SEV-VLEK-Milan", 0x10101, g.chain->ask_key,
                                           INT64_C(1577836800), INT64_C(2366841600), &asvk),
                         0);
        snpchain_vcek_opts_init(&vo, &tcb, NULL, 0);
        vo.cn = "SEV-VLEK";
        vo.product_name = "Milan";
        vo.csp_id = "CN=test.example";
        vo.issuer = asvk;
        vo.issuer_key = g.chain->ask_key;
        assert_int_equal(snpchain_issue_vcek(g.chain, &vo, g.vcek_key, &vlek), 0);
        assert_int_equal(snpchain_cert_der(vlek, &vlek_der, &vlek_len), 0);
        assert_int_equal(snpchain_cert_pem(asvk, &asvk_pem, &asvk_len), 0);

        struct snpchain_report_opts ro = {
                .reported_tcb = snpchain_tcb_raw(&tcb, false),
                .signing_key = 1,
        };
        snpchain_report_build(&ro, rep);
        assert_int_equal(snpchain_report_sign(rep, g.vcek_key), 0);

        struct check c = {.report = rep,
                          .leaf = vlek_der,
                          .leaf_len = vlek_len,
                          .chain = asvk_pem,
                          .chain_len = asvk_len};
        int e = run(&c, &res, &d);
        if (e < 0)
                print_message("vlek: %s\n", d.msg);
        assert_int_equal(e, 0);
        assert_int_equal(res.signer, VT_SNP_SIGNER_VLEK);

        /* the VCEK report with the VLEK: signing key mismatch */
        c.report = g.report;
        expect(&c, VT_E_CHAIN, "signing key");

        X509_free(asvk);
        X509_free(vlek);
        free(asvk_pem);
        free(vlek_der);
}

/* The verifier's cache of verified chains grows on misses (8 entries first, doubled up to
 * 256) and then evicts the least recently used: 264 chips, each with its own VCEK key,
 * verified twice over in one verifier, all pass; a chip's report with another chip's VCEK
 * fails whether that VCEK is cached or not. */
#define N_CHIPS 264

static void test_leaf_cache_many_chips(void **state)
{
        static uint8_t reps[N_CHIPS][VT_SNP_REPORT_SIZE];
        uint8_t *der[N_CHIPS];
        size_t der_len[N_CHIPS];
        struct vt_snp_verifier *v = test_verifier();
        for (unsigned i = 0; i < N_CHIPS; i++) {
                uint8_t hwid[64];
                EVP_PKEY *key = NULL;
                X509 *x = NULL;
                struct snpchain_vcek_opts vo;
                for (size_t k = 0; k < sizeof(hwid); k++)
                        hwid[k] = (uint8_t)(0xa0 + k);
                hwid[62] = (uint8_t)(i >> 8);
                hwid[63] = (uint8_t)i;
                assert_int_equal(snpchain_new_p384(&key), 0);
                snpchain_vcek_opts_init(&vo, &tcb, hwid, sizeof(hwid));
                assert_int_equal(snpchain_issue_vcek(g.chain, &vo, key, &x), 0);
                assert_int_equal(snpchain_cert_der(x, &der[i], &der_len[i]), 0);
                make_report(hwid, key, reps[i]);
                X509_free(x);
                EVP_PKEY_free(key);
        }
        for (int round = 0; round < 2; round++)
                for (unsigned i = 0; i < N_CHIPS; i++) {
                        struct check c = {
                                .report = reps[i], .leaf = der[i], .leaf_len = der_len[i], .v = v};
                        expect(&c, 0, NULL);
                }
        /* the last chips are cached, the first were evicted: both ways round */
        struct check c = {.report = reps[N_CHIPS - 1],
                          .leaf = der[N_CHIPS - 2],
                          .leaf_len = der_len[N_CHIPS - 2],
                          .v = v};
        expect(&c, VT_E_SIGNATURE, "does not verify with the VCEK");
        c = (struct check){.report = reps[0], .leaf = der[1], .leaf_len = der_len[1], .v = v};
        expect(&c, VT_E_SIGNATURE, "does not verify with the VCEK");
        for (unsigned i = 0; i < N_CHIPS; i++)
                free(der[i]);
        vt_snp_verifier_free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_chain_sanity),
                cmocka_unit_test(test_chain_untrusted_root),
                cmocka_unit_test(test_crl_empty_ok),
                cmocka_unit_test(test_crl_revoked_ask),
                cmocka_unit_test(test_crl_wrong_signer),
                cmocka_unit_test(test_crl_stale),
                cmocka_unit_test(test_crl_garbage),
                cmocka_unit_test(test_crl_pem_and_der),
                cmocka_unit_test(test_report_other_key),
                cmocka_unit_test(test_vcek_tcb_mismatch),
                cmocka_unit_test(test_vcek_hwid_mismatch),
                cmocka_unit_test(test_chip_id_masked),
                cmocka_unit_test(test_leaf_window),
                cmocka_unit_test(test_vlek_chain),
                cmocka_unit_test(test_leaf_cache_many_chips),
        };
        return vtt_run_group_tests(tests, group_setup, group_teardown);
}
