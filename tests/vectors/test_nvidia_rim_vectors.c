/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA RIMs (lib/verify/nvidia_rim.c) on the NVIDIA-signed samples in
 * ../shared/testdata/nvidia (expected verdicts and chain windows from its PROVENANCE.md),
 * plus edited copies of them made in memory.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/x509.h"
#include "testutil.h"
#include "util/hex.h"
#include "verify/nvidia_rim.h"

#define RIM_ROOT "nvidia/roots/nvidia_corim_signing_root_ca.pem"

static time_t T(const char *s)
{
        int64_t t = 0;
        assert_int_equal(vt_time_parse_rfc3339(s, &t), 0);
        return (time_t)t;
}

static X509 *load_cert(const char *rel)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        X509 *x = NULL;
        assert_int_equal(vt_x509_parse_one(b, n, &x), 0);
        free(b);
        return x;
}

static int load_at(const char *rel, const char *root, const char *at, struct vt_nvrim **ret,
                   struct vt_diag *d)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        X509 *r = load_cert(root ? root : RIM_ROOT);
        vt_diag_clear(d);
        int e = vt_nvrim_load(b, n, r, T(at), ret, d);
        X509_free(r);
        free(b);
        return e;
}

static int load_buf(const uint8_t *b, size_t n, const char *at, struct vt_nvrim **ret,
                    struct vt_diag *d)
{
        X509 *r = load_cert(RIM_ROOT);
        vt_diag_clear(d);
        int e = vt_nvrim_load(b, n, r, T(at), ret, d);
        X509_free(r);
        return e;
}

static const struct valid {
        const char *file, *at, *before, *after, *version, *tag_prefix;
        unsigned active[2][2]; /* up to two ranges [lo, hi] ... */
        unsigned extra;        /* ... plus one single index (or ~0u) */
} valid[] = {
        {"nvidia/rims/NV_GPU_VBIOS_1010_0200_882_96005E0001.swidtag",
         "2024-06-01T00:00:00Z",
         "2023-06-01T00:00:00Z",
         "2025-07-01T00:00:00Z",
         "96.00.5E.00.01",
         "560b6686b372407d",
         {{0, 6}, {8, 12}},
         ~0u},
        {"nvidia/rims/NV_GPU_VBIOS_1010_0200_882_960074001A.swidtag",
         "2024-06-01T00:00:00Z",
         "2023-09-01T00:00:00Z",
         "2025-10-01T00:00:00Z",
         "96.00.74.00.1A",
         "",
         {{0, 6}, {8, 12}},
         ~0u},
        {"nvidia/rims/NV_GPU_VBIOS_1010_0205_862_9600740020.swidtag",
         "2024-06-01T00:00:00Z",
         "2023-09-01T00:00:00Z",
         "2025-10-01T00:00:00Z",
         "96.00.74.00.20",
         "",
         {{0, 6}, {8, 12}},
         ~0u},
        {"nvidia/rims/NV_GPU_DRIVER_GH100_545.00_test_no_gpu.swidtag",
         "2024-06-01T00:00:00Z",
         "2023-06-01T00:00:00Z",
         "2025-07-01T00:00:00Z",
         "545.00",
         "",
         {{21, 40}, {21, 40}},
         7},
        {"nvidia/rims/NV_GPU_DRIVER_GH100_550.144.03.xml",
         "2025-06-01T00:00:00Z",
         "2024-12-01T00:00:00Z",
         "2027-01-15T00:00:00Z",
         "550.144.03",
         "",
         {{21, 40}, {21, 40}},
         7},
        {"nvidia/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml",
         "2026-06-01T00:00:00Z",
         "2026-05-01T00:00:00Z",
         "2027-12-01T00:00:00Z",
         "96.10.55.00.01",
         "",
         {{0, 30}, {0, 30}},
         ~0u},
};

static bool want_active(const struct valid *v, unsigned i)
{
        for (int k = 0; k < 2; k++)
                if (i >= v->active[k][0] && i <= v->active[k][1])
                        return true;
        return i == v->extra;
}

static void test_nvrim_valid_in_window(void **state)
{
        (void)state;
        for (size_t k = 0; k < ELEMENTSOF(valid); k++) {
                const struct valid *v = &valid[k];
                struct vt_nvrim *rim = NULL;
                struct vt_diag d;
                int e = load_at(v->file, NULL, v->at, &rim, &d);
                if (e)
                        fail_msg("%s: %s (%s)", v->file, d.msg, vt_strerror(e));
                assert_string_equal(vt_nvrim_version(rim), v->version);
                assert_string_equal(vt_nvrim_manufacturer_id(rim), "5703");
                assert_true(strncmp(vt_nvrim_tag_id(rim), v->tag_prefix, strlen(v->tag_prefix)) ==
                            0);
                assert_true(strlen(vt_nvrim_tag_id(rim)) > 0);
                for (unsigned i = 0; i < VT_NVRIM_MAX_INDEX; i++)
                        if (vt_nvrim_active(rim, i) != (want_active(v, i) ? 1 : 0))
                                fail_msg("%s: index %u active=%d", v->file, i,
                                         vt_nvrim_active(rim, i));
                vt_nvrim_free(rim);
        }
}

static void test_nvrim_valid_outside_window(void **state)
{
        (void)state;
        for (size_t k = 0; k < ELEMENTSOF(valid); k++) {
                const struct valid *v = &valid[k];
                const char *when[] = {v->before, v->after};
                for (int w = 0; w < 2; w++) {
                        struct vt_nvrim *rim = NULL;
                        struct vt_diag d;
                        int e = load_at(v->file, NULL, when[w], &rim, &d);
                        if (e != VT_E_CHAIN)
                                fail_msg("%s at %s: %d %s", v->file, when[w], e, d.msg);
                        assert_null(rim);
                        assert_non_null(strstr(d.msg, "chain"));
                }
        }
}

static void expect_reject(const char *file, const char *at, int err, const char *why)
{
        struct vt_nvrim *rim = NULL;
        struct vt_diag d;
        int e = load_at(file, NULL, at, &rim, &d);
        if (e != err || (why && !strstr(d.msg, why)))
                fail_msg("%s: got %d \"%s\", want %d \"%s\"", file, e, d.msg, err, why);
        assert_null(rim);
}

static void test_nvrim_negative(void **state)
{
        (void)state;
        expect_reject("nvidia/negative/rim_bad_signature_driver_550.144.03.xml",
                      "2025-06-01T00:00:00Z", VT_E_SIGNATURE, "signature over SignedInfo");
        expect_reject("nvidia/negative/rim_debug_root_chain_driver.xml", "2025-06-01T00:00:00Z",
                      VT_E_CHAIN, "chain");
        expect_reject("nvidia/negative/rim_tampered_driver_535.86.09.xml", "2024-06-01T00:00:00Z",
                      VT_E_SIGNATURE, "digest");
        /* the signer was valid only on 2025-01-01; the digest is wrong whenever */
        expect_reject("nvidia/negative/rim_expired_tampered_driver_570.124.03.xml",
                      "2025-01-01T12:00:00Z", VT_E_SIGNATURE, "digest");
        expect_reject("nvidia/negative/rim_expired_tampered_driver_570.124.03.xml",
                      "2025-06-01T00:00:00Z", VT_E_SIGNATURE, NULL);
}

static void test_nvrim_wrong_root(void **state)
{
        (void)state;
        struct vt_nvrim *rim = NULL;
        struct vt_diag d;
        int e = load_at("nvidia/rims/NV_GPU_DRIVER_GH100_550.144.03.xml",
                        "nvidia/negative/wrong_rim_root.pem", "2025-06-01T00:00:00Z", &rim, &d);
        assert_int_equal(e, VT_E_CHAIN);
        assert_null(rim);
}

/* Measurements made from alternative `alt` (or the last one) of every index of rim. */
static size_t meas_from(const struct vt_nvrim *rim, unsigned alt, struct vt_nvrim_meas *m)
{
        size_t n = 0;
        for (unsigned i = 0; i < VT_NVRIM_MAX_INDEX; i++) {
                unsigned na = vt_nvrim_alternatives(rim, i);
                if (!na)
                        continue;
                const uint8_t *g;
                size_t gl;
                assert_int_equal(vt_nvrim_golden(rim, i, alt < na ? alt : na - 1, &g, &gl), 0);
                m[n].index = i;
                m[n].len = gl;
                memcpy(m[n].digest, g, gl);
                n++;
        }
        return n;
}

static unsigned count_active(const struct vt_nvrim *rim)
{
        unsigned k = 0;
        for (unsigned i = 0; i < VT_NVRIM_MAX_INDEX; i++)
                k += (unsigned)vt_nvrim_active(rim, i);
        return k;
}

static void test_nvrim_match_self(void **state)
{
        (void)state;
        static struct vt_nvrim_meas m[VT_NVRIM_MAX_INDEX];
        for (size_t k = 0; k < ELEMENTSOF(valid); k++) {
                struct vt_nvrim *rim = NULL;
                struct vt_diag d;
                assert_int_equal(load_at(valid[k].file, NULL, valid[k].at, &rim, &d), 0);
                for (unsigned alt = 0; alt < 4; alt++) {
                        size_t n = meas_from(rim, alt, m);
                        unsigned matched = 0;
                        vt_diag_clear(&d);
                        if (vt_nvrim_match(rim, m, n, NULL, &matched, &d))
                                fail_msg("%s alt %u: %s", valid[k].file, alt, d.msg);
                        assert_int_equal(matched, count_active(rim));
                }

                /* one changed byte at the first active index: POLICY naming it */
                size_t n = meas_from(rim, 0, m);
                unsigned first = 0;
                while (!vt_nvrim_active(rim, first))
                        first++;
                for (size_t j = 0; j < n; j++)
                        if (m[j].index == first)
                                m[j].digest[m[j].len - 1] ^= 1;
                char want[64];
                snprintf(want, sizeof(want), "index %u matches none", first);
                vt_diag_clear(&d);
                assert_int_equal(vt_nvrim_match(rim, m, n, NULL, NULL, &d), VT_E_POLICY);
                assert_non_null(strstr(d.msg, want));

                /* ... which the skip bitmap leaves out */
                uint8_t skip[VT_NVRIM_MAX_INDEX / 8] = {0};
                skip[first / 8] |= (uint8_t)(1u << (first % 8));
                unsigned matched = 0;
                assert_int_equal(vt_nvrim_match(rim, m, n, skip, &matched, &d), 0);
                assert_int_equal(matched, count_active(rim) - 1);

                /* a missing measurement, and one of the wrong length */
                vt_diag_clear(&d);
                size_t j0 = 0;
                while (m[j0].index != first)
                        j0++;
                m[j0].index = VT_NVRIM_MAX_INDEX + 5;
                assert_int_equal(vt_nvrim_match(rim, m, n, NULL, NULL, &d), VT_E_POLICY);
                assert_non_null(strstr(d.msg, "no measurement"));
                n = meas_from(rim, 0, m);
                m[j0].len = 32;
                assert_int_equal(vt_nvrim_match(rim, m, n, NULL, NULL, &d), VT_E_POLICY);
                vt_nvrim_free(rim);
        }
}

/* The measurement blocks of an SPDM 1.1 report (hex file), as RIM-indexed digests. */
static size_t report_meas(const char *rel, struct vt_nvrim_meas *m)
{
        size_t hl;
        uint8_t *hx = vt_test_load_vector(rel, &hl);
        char *s = calloc(1, hl + 1);
        assert_non_null(s);
        memcpy(s, hx, hl);
        while (hl && (s[hl - 1] == '\n' || s[hl - 1] == '\r'))
                s[--hl] = 0;
        uint8_t *r = malloc(hl / 2);
        assert_non_null(r);
        assert_int_equal(vt_hex_decode(s, r, hl / 2), (int)(hl / 2));
        size_t rl = hl / 2;
        assert_true(rl > 45);
        unsigned nb = r[41];
        size_t l1 = (size_t)r[42] | (size_t)r[43] << 8 | (size_t)r[44] << 16;
        assert_true(45 + l1 <= rl);
        size_t off = 45, n = 0;
        for (unsigned b = 0; b < nb; b++) {
                assert_true(off + 7 <= 45 + l1);
                unsigned idx = r[off], vsize = r[off + 5] | r[off + 6] << 8;
                assert_true(idx >= 1 && vsize <= VT_NVRIM_MAX_DIGEST && off + 7 + vsize <= 45 + l1);
                m[n].index = idx - 1;
                m[n].len = vsize;
                memcpy(m[n].digest, r + off + 7, vsize);
                n++;
                off += 4 + (size_t)(r[off + 2] | r[off + 3] << 8);
        }
        free(r);
        free(s);
        free(hx);
        return n;
}

static void test_nvrim_match_reports(void **state)
{
        (void)state;
        static struct vt_nvrim_meas m[VT_NVRIM_MAX_INDEX];
        struct vt_nvrim *rim = NULL, *resigned = NULL;
        struct vt_diag d;
        unsigned matched = 0;

        /* Hopper 535.86.09 vs the 2023 VBIOS RIM: 12/12 */
        size_t n = report_meas("nvidia/gpu/hopper_535.86.09/report.hex", m);
        assert_int_equal(load_at("nvidia/rims/NV_GPU_VBIOS_1010_0200_882_96005E0001.swidtag", NULL,
                                 "2024-06-01T00:00:00Z", &rim, &d),
                         0);
        assert_int_equal(vt_nvrim_match(rim, m, n, NULL, &matched, &d), 0);
        assert_int_equal(matched, 12);

        /* the re-signed RIM (same tagId) loads, but fails at index 9 only */
        if (load_at("nvidia/negative/rim_resigned_mismatch_vbios_96005E0001.xml", NULL,
                    "2024-06-01T00:00:00Z", &resigned, &d))
                fail_msg("resigned: %s", d.msg);
        assert_string_equal(vt_nvrim_tag_id(resigned), vt_nvrim_tag_id(rim));
        vt_diag_clear(&d);
        assert_int_equal(vt_nvrim_match(resigned, m, n, NULL, NULL, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "index 9 matches none of its 1 alternatives"));
        uint8_t skip[VT_NVRIM_MAX_INDEX / 8] = {0};
        skip[1] = 1u << 1; /* index 9 */
        assert_int_equal(vt_nvrim_match(resigned, m, n, skip, &matched, &d), 0);
        assert_int_equal(matched, 11);
        vt_nvrim_free(resigned);
        vt_nvrim_free(rim);
        rim = NULL;

        /* CoCo 580.95.05 vs 960074001A: fails at index 9 */
        n = report_meas("nvidia/gpu/hopper_coco_580.95.05/report.hex", m);
        assert_int_equal(load_at("nvidia/rims/NV_GPU_VBIOS_1010_0200_882_960074001A.swidtag", NULL,
                                 "2024-06-01T00:00:00Z", &rim, &d),
                         0);
        vt_diag_clear(&d);
        assert_int_equal(vt_nvrim_match(rim, m, n, NULL, NULL, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "index 9 "));
        vt_nvrim_free(rim);
        rim = NULL;

        /* LS10 vs its BIOS RIM: 31/31 */
        n = report_meas("nvidia/switch/ls10_96.10.55/report.hex", m);
        assert_int_equal(load_at("nvidia/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml", NULL,
                                 "2026-06-01T00:00:00Z", &rim, &d),
                         0);
        assert_int_equal(vt_nvrim_match(rim, m, n, NULL, &matched, &d), 0);
        assert_int_equal(matched, 31);
        vt_nvrim_free(rim);
}

static void test_nvrim_no_conflict(void **state)
{
        (void)state;
        struct vt_nvrim *vb = NULL, *drv = NULL, *drv2 = NULL;
        struct vt_diag d;
        assert_int_equal(load_at(valid[0].file, NULL, valid[0].at, &vb, &d), 0);
        assert_int_equal(load_at(valid[4].file, NULL, valid[4].at, &drv, &d), 0);
        assert_int_equal(load_at(valid[3].file, NULL, valid[3].at, &drv2, &d), 0);
        assert_int_equal(vt_nvrim_no_conflict(vb, drv, &d), 0);
        assert_int_equal(vt_nvrim_no_conflict(drv, vb, &d), 0);
        vt_diag_clear(&d);
        assert_int_equal(vt_nvrim_no_conflict(drv, drv2, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "index 7"));
        vt_nvrim_free(vb);
        vt_nvrim_free(drv);
        vt_nvrim_free(drv2);
}

/* A copy of a valid RIM with the first occurrence of `from` replaced by `to`. */
static uint8_t *edited(const char *rel, const char *from, const char *to, size_t *len)
{
        size_t n;
        uint8_t *b = vt_test_load_vector(rel, &n);
        uint8_t *p = memmem(b, n, from, strlen(from));
        assert_non_null(p);
        size_t fl = strlen(from), tl = strlen(to), off = (size_t)(p - b);
        uint8_t *o = malloc(n - fl + tl);
        assert_non_null(o);
        memcpy(o, b, off);
        memcpy(o + off, to, tl);
        memcpy(o + off + tl, b + off + fl, n - off - fl);
        *len = n - fl + tl;
        free(b);
        return o;
}

#define VBIOS5E "nvidia/rims/NV_GPU_VBIOS_1010_0200_882_96005E0001.swidtag"

static void expect_edit(const char *from, const char *to, int err, const char *why)
{
        size_t n;
        uint8_t *b = edited(VBIOS5E, from, to, &n);
        struct vt_nvrim *rim = NULL;
        struct vt_diag d;
        int e = load_buf(b, n, "2024-06-01T00:00:00Z", &rim, &d);
        if (e != err || (why && !strstr(d.msg, why)))
                fail_msg("edit %s -> %s: got %d \"%s\", want %d \"%s\"", from, to, e, d.msg, err,
                         why);
        assert_null(rim);
        free(b);
}

static void test_nvrim_edits(void **state)
{
        (void)state;
        /* one hex digit of a golden value */
        expect_edit("ns2:Hash0=\"c3f65ef7", "ns2:Hash0=\"c3f65ef8", VT_E_SIGNATURE, "digest");
        /* an attribute moved into the signed content the parser reads */
        expect_edit("active=\"False\"", "active=\"True\"", VT_E_SIGNATURE, "digest");
        /* a broken SignatureValue (still 96 bytes of base64) */
        expect_edit("<ds:SignatureValue>s5JY", "<ds:SignatureValue>t5JY", VT_E_SIGNATURE,
                    "SignedInfo");
        /* a SignatureValue of the wrong length */
        expect_edit("<ds:SignatureValue>s5JY", "<ds:SignatureValue>", VT_E_SIGNATURE, "not 96");
        /* a changed DigestValue */
        expect_edit("<ds:DigestValue>D3Bc", "<ds:DigestValue>E3Bc", VT_E_SIGNATURE, "digest");
        /* algorithms other than the one profile */
        expect_edit("xmldsig-more#ecdsa-sha384", "xmldsig-more#ecdsa-sha256", VT_E_SIGNATURE,
                    "Algorithm");
        expect_edit("Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/><ds:SignatureMethod",
                    "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod",
                    VT_E_SIGNATURE, "Algorithm");
        expect_edit("<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\"",
                    "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"",
                    VT_E_SIGNATURE, "Algorithm");
        /* a Reference to something else than the whole document */
        expect_edit("<ds:Reference URI=\"\">", "<ds:Reference URI=\"#x\">", VT_E_SIGNATURE, "URI");
        /* without the enveloped transform */
        expect_edit("<ds:Transform "
                    "Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
                    "", VT_E_FORMAT, "ds:Transforms");
        /* a second Signature (wrapping) */
        expect_edit("<ns0:Entity ",
                    "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/><ns0:Entity ",
                    VT_E_SIGNATURE, "more than one");
        /* a DOCTYPE before the root */
        expect_edit("<SoftwareIdentity ", "<!DOCTYPE SoftwareIdentity><SoftwareIdentity ",
                    VT_E_FORMAT, "DOCTYPE");
}

static void test_nvrim_xxe(void **state)
{
        (void)state;
        VT_REQUIRE_TESTDATA();
        static const char *const docs[] = {
                "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" "
                "tagId=\"&e;\"/>",
                "<?xml version=\"1.0\"?><!DOCTYPE s SYSTEM \"http://127.0.0.1:1/x.dtd\">"
                "<SoftwareIdentity/>",
                "<!DOCTYPE a [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;\">]>"
                "<a>&b;</a>",
                "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" "
                "tagId=\"x\"/>",
                "<x>&nosuch;</x>",
                "",
                "<",
        };
        static const int want[] = {VT_E_FORMAT, VT_E_FORMAT, VT_E_FORMAT, VT_E_SIGNATURE,
                                   VT_E_FORMAT, VT_E_FORMAT, VT_E_FORMAT};
        for (size_t k = 0; k < ELEMENTSOF(docs); k++) {
                struct vt_nvrim *rim = NULL;
                struct vt_diag d;
                int e = load_buf((const uint8_t *)docs[k], strlen(docs[k]), "2024-06-01T00:00:00Z",
                                 &rim, &d);
                if (e != want[k])
                        fail_msg("doc %zu: %d %s", k, e, d.msg);
                assert_null(rim);
        }
        /* UTF-16 with a DOCTYPE: refused too (the parser reads UTF-8 only) */
        const char *a = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>";
        size_t al = strlen(a);
        uint8_t *u = calloc(2, al + 1);
        assert_non_null(u);
        u[0] = 0xff;
        u[1] = 0xfe;
        for (size_t i = 0; i < al; i++)
                u[2 + 2 * i] = (uint8_t)a[i];
        struct vt_nvrim *rim = NULL;
        struct vt_diag d;
        assert_int_equal(load_buf(u, 2 + 2 * al, "2024-06-01T00:00:00Z", &rim, &d), VT_E_FORMAT);
        free(u);
}

static void test_nvrim_truncations(void **state)
{
        (void)state;
        size_t n;
        uint8_t *b = vt_test_load_vector(VBIOS5E, &n);
        X509 *root = load_cert(RIM_ROOT);
        const char *end = "</SoftwareIdentity>";
        uint8_t *endp = memmem(b, n, end, strlen(end));
        assert_non_null(endp);
        size_t complete = (size_t)(endp - b) + strlen(end);
        unsigned tried = 0;
        for (size_t l = 0; l < n; l++) {
                if (l % 97 && l + 64 < n)
                        continue;
                uint8_t *c = malloc(l ? l : 1); /* exact size, so ASan sees overreads */
                assert_non_null(c);
                memcpy(c, b, l);
                struct vt_nvrim *rim = NULL;
                struct vt_diag d;
                vt_diag_clear(&d);
                int e = vt_nvrim_load(c, l, root, T("2024-06-01T00:00:00Z"), &rim, &d);
                if (l >= complete) {
                        assert_int_equal(e, 0);
                        vt_nvrim_free(rim);
                } else {
                        if (e >= 0)
                                fail_msg("truncation at %zu accepted", l);
                        assert_null(rim);
                }
                free(c);
                tried++;
        }
        assert_true(tried > 200);
        X509_free(root);
        free(b);
}

/* Not a check: prints how many RIM loads (parse + C14N + ECDSA + chain) run per second, the
 * cost a RIM cache saves on each attestation. */
static void test_nvrim_load_rate(void **state)
{
        (void)state;
        size_t n;
        uint8_t *b = vt_test_load_vector(VBIOS5E, &n);
        X509 *root = load_cert(RIM_ROOT);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        unsigned k = 0;
        double el = 0;
        do {
                struct vt_nvrim *rim = NULL;
                assert_int_equal(vt_nvrim_load(b, n, root, T("2024-06-01T00:00:00Z"), &rim, NULL),
                                 0);
                vt_nvrim_free(rim);
                k++;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        } while (el < 0.5);
        printf("nvidia rim: %u loads in %.3f s = %.0f loads/s (%zu-byte RIM)\n", k, el,
               (double)k / el, n);
        X509_free(root);
        free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nvrim_valid_in_window),
                cmocka_unit_test(test_nvrim_valid_outside_window),
                cmocka_unit_test(test_nvrim_negative),
                cmocka_unit_test(test_nvrim_wrong_root),
                cmocka_unit_test(test_nvrim_match_self),
                cmocka_unit_test(test_nvrim_match_reports),
                cmocka_unit_test(test_nvrim_no_conflict),
                cmocka_unit_test(test_nvrim_edits),
                cmocka_unit_test(test_nvrim_xxe),
                cmocka_unit_test(test_nvrim_truncations),
                cmocka_unit_test(test_nvrim_load_rate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
