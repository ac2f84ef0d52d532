/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an NVIDIA RIM (SWID tag XML with an enveloped XML-DSig), lib/verify/nvidia_rim.c.
 *
 * Two calls per input:
 * 1. The whole input is the RIM, loaded against a self-signed P-384 root made at start-up
 *    (no fuzzed input can sign under it, so this reaches the parser, the XML limits and the
 *    signature structure checks, the digest and the ECDSA check).
 * 2. The input is the *content* of a SoftwareIdentity element (Meta, Payload, ...): the
 *    target wraps it in a root element, computes the SHA-384 of its C14N 1.1 form, writes a
 *    SignedInfo in canonical form (so its canonical bytes are known here without calling the
 *    library), signs it with the start-up key and appends the ds:Signature with the root as
 *    KeyInfo. These documents pass the signature, so the SWID/Measurement parser and
 *    vt_nvrim_match/no_conflict are fuzzed too. Seeds: fuzz/corpus/nvidia_rim/seed-* are
 *    synthetic SWID contents (call 2) and whole documents (call 1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/openssl-util.h"
#include "util/b64.h"
#include "util/macro.h"
#include "verify/nvidia_rim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2030-01-01T00:00:00Z: inside the start-up root's validity. */
#define FUZZ_AT 1893456000

#define NS_SWID     "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define NS_DS       "http://www.w3.org/2000/09/xmldsig#"
#define NS_HASH     "http://www.w3.org/2001/04/xmlenc#sha384"
#define MAX_CONTENT (256u * 1024u)

static EVP_PKEY *key;
static X509 *root;
static char *root_b64;

static void setup(void)
{
        if (key)
                return;
        key = EVP_EC_gen("P-384");
        root = X509_new();
        X509_NAME *nm = X509_NAME_new();
        if (!key || !root || !nm || !X509_set_version(root, 2) ||
            !ASN1_INTEGER_set(X509_get_serialNumber(root), 1) ||
            !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                                        (const unsigned char *)"fuzz RIM root", -1, -1, 0) ||
            !X509_set_subject_name(root, nm) || !X509_set_issuer_name(root, nm) ||
            !ASN1_TIME_set(X509_getm_notBefore(root), 946684800) ||         /* 2000 */
            !ASN1_TIME_set(X509_getm_notAfter(root), (time_t)4102444800) || /* 2100 */
            !X509_set_pubkey(root, key) || !X509_sign(root, key, EVP_sha384()))
                abort();
        X509_NAME_free(nm);
        unsigned char *der = NULL;
        int dl = i2d_X509(root, &der);
        if (dl <= 0 || vt_b64_encode(der, (size_t)dl, VT_B64_STD, &root_b64) < 0)
                abort();
        OPENSSL_free(der);
}

static void load(const uint8_t *xml, size_t len)
{
        static int verbose = -1;
        struct vt_nvrim *rim = NULL;
        struct vt_diag d = {0};
        int e = vt_nvrim_load(xml, len, root, FUZZ_AT, &rim, &d);
        if (verbose < 0)
                verbose = getenv("VT_FUZZ_VERBOSE") != NULL;
        if (verbose) /* VT_FUZZ_VERBOSE=1 fuzz_nvidia_rim_replay FILE: the verdicts */
                fprintf(stderr, "nvidia_rim: %zu bytes: %s %s\n", len, vt_strerror(e), d.msg);
        if (e < 0)
                return;
        /* measurements made of the RIM's own golden values, then one changed */
        static struct vt_nvrim_meas m[VT_NVRIM_MAX_INDEX];
        size_t n = 0;
        for (unsigned i = 0; i < VT_NVRIM_MAX_INDEX; i++) {
                const uint8_t *g;
                size_t gl;
                if (vt_nvrim_golden(rim, i, vt_nvrim_alternatives(rim, i) - 1, &g, &gl) < 0)
                        continue;
                m[n].index = i;
                m[n].len = gl;
                memcpy(m[n].digest, g, gl);
                n++;
        }
        unsigned matched;
        if (vt_nvrim_match(rim, m, n, NULL, &matched, &d) < 0)
                abort(); /* a RIM must match its own golden values */
        if (n) {
                m[0].digest[0] ^= 1;
                (void)vt_nvrim_match(rim, m, n, NULL, &matched, &d);
                uint8_t skip[VT_NVRIM_MAX_INDEX / 8];
                memset(skip, 0xff, sizeof(skip));
                if (vt_nvrim_match(rim, m, 0, skip, &matched, &d) < 0 || matched != 0)
                        abort();
        }
        (void)vt_nvrim_no_conflict(rim, rim, &d);
        (void)vt_nvrim_tag_id(rim);
        (void)vt_nvrim_version(rim);
        (void)vt_nvrim_manufacturer_id(rim);
        vt_nvrim_free(rim);
}

/* Appends s to the buffer b (cap checked by the caller's sizing). */
static void put(char *b, size_t *off, const char *s, size_t n)
{
        memcpy(b + *off, s, n);
        *off += n;
}
#define PUTS(b, off, s) put(b, off, s, strlen(s))

static const char prefix[] =
        "<SoftwareIdentity xmlns=\"" NS_SWID "\" xmlns:ns2=\"" NS_HASH "\" tagId=\"fuzz\">";
static const char suffix[] = "</SoftwareIdentity>";

static const char si_open_canon[] =
        "<ds:SignedInfo xmlns=\"" NS_SWID "\" xmlns:ds=\"" NS_DS "\" xmlns:ns2=\"" NS_HASH "\">";
static const char si_open_doc[] = "<ds:SignedInfo>";
static const char si_body[] =
        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\">"
        "</ds:CanonicalizationMethod>"
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384\">"
        "</ds:SignatureMethod><ds:Reference URI=\"\"><ds:Transforms>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\">"
        "</ds:Transform><ds:Transform Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\">"
        "</ds:Transform></ds:Transforms>"
        "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\">"
        "</ds:DigestMethod><ds:DigestValue>";
static const char si_close[] = "</ds:DigestValue></ds:Reference></ds:SignedInfo>";

static void sign_and_load(const uint8_t *data, size_t size)
{
        if (size > MAX_CONTENT)
                return;
        size_t cap = sizeof(prefix) + size + sizeof(suffix) + 8192;
        _cleanup_free_ char *doc = malloc(cap);
        if (!doc)
                abort();
        size_t off = 0;
        PUTS(doc, &off, prefix);
        put(doc, &off, (const char *)data, size);
        size_t body_end = off;
        PUTS(doc, &off, suffix);

        /* digest: C14N 1.1 of the document without the Signature (not yet appended) */
        xmlDocPtr x = xmlReadMemory(doc, (int)off, NULL, "UTF-8",
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!x)
                return;
        xmlChar *c14n = NULL;
        int cl = x->intSubset ? -1 : xmlC14NDocDumpMemory(x, NULL, XML_C14N_1_1, NULL, 0, &c14n);
        xmlFreeDoc(x);
        if (cl < 0) {
                xmlFree(c14n);
                return;
        }
        uint8_t h[48];
        unsigned hl = 0;
        int ok = EVP_Digest(c14n, (size_t)cl, h, &hl, EVP_sha384(), NULL);
        xmlFree(c14n);
        _cleanup_free_ char *dv = NULL;
        if (ok != 1 || vt_b64_encode(h, 48, VT_B64_STD, &dv) < 0)
                abort();

        /* SignedInfo in canonical form, with the namespaces in scope at its place */
        char si[2048];
        int sl = snprintf(si, sizeof(si), "%s%s%s%s", si_open_canon, si_body, dv, si_close);
        if (sl < 0 || (size_t)sl >= sizeof(si))
                abort();
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        uint8_t der[160];
        size_t derl = sizeof(der);
        if (!md || EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) != 1 ||
            EVP_DigestSign(md, der, &derl, (const uint8_t *)si, (size_t)sl) != 1)
                abort();
        const unsigned char *p = der;
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derl);
        uint8_t rs[96];
        if (!es || BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 48) != 48 ||
            BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 48, 48) != 48)
                abort();
        _cleanup_free_ char *sv = NULL;
        if (vt_b64_encode(rs, sizeof(rs), VT_B64_STD, &sv) < 0)
                abort();

        off = body_end;
        PUTS(doc, &off, "<ds:Signature xmlns:ds=\"" NS_DS "\">");
        PUTS(doc, &off, si_open_doc);
        PUTS(doc, &off, si_body);
        PUTS(doc, &off, dv);
        PUTS(doc, &off, si_close);
        PUTS(doc, &off, "<ds:SignatureValue>");
        PUTS(doc, &off, sv);
        PUTS(doc, &off, "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
        if (off + strlen(root_b64) + 256 > cap)
                abort();
        PUTS(doc, &off, root_b64);
        PUTS(doc, &off, "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>");
        PUTS(doc, &off, suffix);
        load((const uint8_t *)doc, off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        setup();
        load(data, size);
        sign_and_load(data, size);
        return 0;
}
