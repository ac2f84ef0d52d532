/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memmem */
/*
 * NVIDIA RIMs: an ISO 19770-2 SWID tag with an enveloped XML-DSig (see nvidia_rim.h and
 * ../shared/notes/nvidia-gpu.md §3.2).
 *
 * Why libxml2 + OpenSSL and not xmlsec1: a RIM uses exactly one profile of XML-DSig (one
 * Reference URI="", the transforms enveloped-signature + C14N 1.1, SHA-384, ecdsa-sha384,
 * the certificates in KeyInfo/X509Data). Checking that fixed profile by hand is about 300
 * lines: the parse and the C14N 1.1 come from libxml2 (xmlC14NExecute), the digest, the
 * ECDSA check and the chain from the OpenSSL code the rest of veritee already uses. xmlsec1
 * would add a second crypto dispatch layer (and its own key/chain store, its own notion of
 * time and its many algorithms, transforms, URI and XPath dereferencing) that we would then
 * have to restrict back to that profile; the attack surface of XML-DSig is mostly in what
 * a general implementation accepts. So every element of the Signature is checked here
 * against the one shape we accept, and everything else is refused.
 *
 * Against signature wrapping: the only Reference is URI="" with the enveloped transform,
 * so the digest covers the whole document except the one ds:Signature (which must be a
 * child of the root), and Meta/Payload are read only from direct children of that root
 * SoftwareIdentity element.
 *
 * Against XML attacks: bounded input, XML_PARSE_NONET, no DTD loading, no entity
 * substitution, and any DOCTYPE (internal or external subset) is refused, so no entity
 * other than the five predefined ones can occur.
 */
#include "verify/nvidia_rim.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/b64.h"
#include "util/dlib.h"
#include "util/hex.h"
#include "util/macro.h"

#define RIM_MAX_BYTES     (4u * 1024u * 1024u)
#define RIM_MAX_ALT       16u
#define RIM_MAX_RESOURCES 1024u
#define RIM_MAX_ATTR      512u /* tagId, version, manufacturer id */
#define RIM_MAX_B64       (64u * 1024u)

#define NS_SWID   "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define NS_DS     "http://www.w3.org/2000/09/xmldsig#"
#define NS_SHA384 "http://www.w3.org/2001/04/xmlenc#sha384"
#define NS_RIMIM                                                                                   \
        "https://trustedcomputinggroup.org/resource/"                                              \
        "tcg-reference-integrity-manifest-rim-information-model/"

#define ALG_C14N11    "http://www.w3.org/2006/12/xml-c14n11"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_SHA384    "http://www.w3.org/2001/04/xmldsig-more#sha384"
#define ALG_ECDSA384  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"

struct rim_entry {
        bool present, active;
        uint8_t nalt;
        uint8_t size;
        uint8_t *hashes; /* nalt * size bytes */
};

struct vt_nvrim {
        char *tag_id, *version, *manufacturer_id;
        char label[160]; /* "GH100 96.00.5E.00.01": names the RIM in messages */
        struct rim_entry e[VT_NVRIM_MAX_INDEX];
};

/* libxml2 is opened on first use (util/dlib.h): vt_nvrim_load loads it before anything here
 * calls it. xmlStructuredError and xmlStructuredErrorContext are libxml2's macros over
 * these two functions (its thread-local copies). */
VT_DLSYM_DECL(xmlC14NExecute);
VT_DLSYM_DECL(xmlCtxtGetLastError);
VT_DLSYM_DECL(xmlCtxtReadMemory);
VT_DLSYM_DECL(xmlDocGetRootElement);
VT_DLSYM_DECL(xmlFree); /* a variable: a pointer to libxml2's free function */
VT_DLSYM_DECL(xmlFreeDoc);
VT_DLSYM_DECL(xmlFreeParserCtxt);
VT_DLSYM_DECL(xmlGetNoNsProp);
VT_DLSYM_DECL(xmlGetNsProp);
VT_DLSYM_DECL(xmlInitParser);
VT_DLSYM_DECL(xmlNewParserCtxt);
VT_DLSYM_DECL(xmlNodeGetContent);
VT_DLSYM_DECL(xmlOutputBufferClose);
VT_DLSYM_DECL(xmlOutputBufferCreateIO);
VT_DLSYM_DECL(xmlSetStructuredErrorFunc);
VT_DLSYM_DECL(xmlStopParser);
VT_DLSYM_DECL(xmlStrEqual);
VT_DLSYM_DECL(xmlStrcasecmp);
VT_DLSYM_DECL(__xmlStructuredError);
VT_DLSYM_DECL(__xmlStructuredErrorContext);

static const struct vt_dlsym xml_syms[] = {
        VT_DLSYM(xmlC14NExecute),
        VT_DLSYM(xmlCtxtGetLastError),
        VT_DLSYM(xmlCtxtReadMemory),
        VT_DLSYM(xmlDocGetRootElement),
        VT_DLSYM(xmlFree),
        VT_DLSYM(xmlFreeDoc),
        VT_DLSYM(xmlFreeParserCtxt),
        VT_DLSYM(xmlGetNoNsProp),
        VT_DLSYM(xmlGetNsProp),
        VT_DLSYM(xmlInitParser),
        VT_DLSYM(xmlNewParserCtxt),
        VT_DLSYM(xmlNodeGetContent),
        VT_DLSYM(xmlOutputBufferClose),
        VT_DLSYM(xmlOutputBufferCreateIO),
        VT_DLSYM(xmlSetStructuredErrorFunc),
        VT_DLSYM(xmlStopParser),
        VT_DLSYM(xmlStrEqual),
        VT_DLSYM(xmlStrcasecmp),
        VT_DLSYM(__xmlStructuredError),
        VT_DLSYM(__xmlStructuredErrorContext),
};

static void xml_init(void)
{
        sym_xmlInitParser(); /* libxml2's global state, once, before any thread parses */
}

static struct vt_dlib libxml2 = VT_DLIB(VT_SONAME_XML2, xml_syms, xml_init);

static void xmlFreeDocp(xmlDocPtr *p)
{
        if (*p)
                sym_xmlFreeDoc(*p);
}

static void xmlFreeParserCtxtp(xmlParserCtxtPtr *p)
{
        if (*p)
                sym_xmlFreeParserCtxt(*p);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_nvrim *, vt_nvrim_free)

static void xml_freep(xmlChar **p)
{
        if (*p)
                (*sym_xmlFree)(*p);
}
#define _cleanup_xml_ _cleanup_(xml_freep)

void vt_nvrim_free(struct vt_nvrim *rim)
{
        if (!rim)
                return;
        for (size_t i = 0; i < VT_NVRIM_MAX_INDEX; i++)
                free(rim->e[i].hashes);
        free(rim->tag_id);
        free(rim->version);
        free(rim->manufacturer_id);
        free(rim);
}

const char *vt_nvrim_tag_id(const struct vt_nvrim *rim)
{
        return rim->tag_id;
}

const char *vt_nvrim_version(const struct vt_nvrim *rim)
{
        return rim->version;
}

const char *vt_nvrim_manufacturer_id(const struct vt_nvrim *rim)
{
        return rim->manufacturer_id;
}

const char *vt_nvrim_name(const struct vt_nvrim *rim)
{
        return rim->label;
}

int vt_nvrim_active(const struct vt_nvrim *rim, unsigned i)
{
        return i < VT_NVRIM_MAX_INDEX && rim->e[i].active ? 1 : 0;
}

unsigned vt_nvrim_alternatives(const struct vt_nvrim *rim, unsigned i)
{
        return i < VT_NVRIM_MAX_INDEX ? rim->e[i].nalt : 0;
}

int vt_nvrim_golden(const struct vt_nvrim *rim, unsigned i, unsigned alt, const uint8_t **ret,
                    size_t *ret_len)
{
        if (i >= VT_NVRIM_MAX_INDEX || alt >= rim->e[i].nalt)
                return VT_E_NOTFOUND;
        *ret = rim->e[i].hashes + (size_t)alt * rim->e[i].size;
        *ret_len = rim->e[i].size;
        return 0;
}

/* ---- parsing ---- */

/* Any DOCTYPE stops the parser: no DTD, so no entity besides the predefined five. */
static void sax_subset(void *ctx, const xmlChar *name _unused_, const xmlChar *eid _unused_,
                       const xmlChar *sid _unused_)
{
        xmlParserCtxtPtr c = ctx;
        c->_private = (void *)1;
        sym_xmlStopParser(c);
}

static void sax_entity(void *ctx, const xmlChar *name _unused_, int type _unused_,
                       const xmlChar *pid _unused_, const xmlChar *sid _unused_,
                       xmlChar *content _unused_)
{
        xmlParserCtxtPtr c = ctx;
        c->_private = (void *)1;
        sym_xmlStopParser(c);
}

static int parse_doc(const uint8_t *xml, size_t len, xmlDocPtr *ret, struct vt_diag *d)
{
        if (len == 0 || len > RIM_MAX_BYTES)
                return vt_diag_set(d, VT_E_FORMAT, "rim: size %zu outside 1..%u bytes", len,
                                   RIM_MAX_BYTES);
        /* An entity declaration is refused before parsing (no expansion can start); any
         * DOCTYPE stops the parser in sax_subset (the tests exercise both paths). */
        if (memmem(xml, len, "<!ENTITY", 8))
                return vt_diag_set(d, VT_E_FORMAT, "rim: ENTITY declarations not allowed");
        _cleanup_(xmlFreeParserCtxtp) xmlParserCtxtPtr c = sym_xmlNewParserCtxt();
        if (!c)
                return VT_E_NOMEM;
        c->sax->internalSubset = sax_subset;
        c->sax->externalSubset = sax_subset;
        c->sax->entityDecl = sax_entity;
        c->_private = NULL;
        int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
        _cleanup_(xmlFreeDocp) xmlDocPtr doc =
                sym_xmlCtxtReadMemory(c, (const char *)xml, (int)len, NULL, "UTF-8", opts);
        if (c->_private)
                return vt_diag_set(d, VT_E_FORMAT, "rim: DOCTYPE not allowed (parser stopped)");
        if (!doc || !c->wellFormed) {
                const xmlError *er = sym_xmlCtxtGetLastError(c);
                return vt_diag_set(d, VT_E_FORMAT, "rim: not well-formed XML (line %d)",
                                   er ? er->line : 0);
        }
        if (doc->intSubset || doc->extSubset) /* unreachable after sax_subset; kept as a net */
                return vt_diag_set(d, VT_E_FORMAT, "rim: DTD not allowed");
        *ret = TAKE_PTR(doc);
        return 0;
}

static bool is_el(const xmlNode *n, const char *ns, const char *name)
{
        return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
               sym_xmlStrEqual(n->ns->href, BAD_CAST ns) && sym_xmlStrEqual(n->name, BAD_CAST name);
}

/* Next element sibling starting at n; any non-blank text, or a node of another kind
 * than element/text/comment is an error (NULL with *bad set). */
static xmlNode *next_el(xmlNode *n, bool *bad)
{
        for (; n; n = n->next) {
                if (n->type == XML_ELEMENT_NODE)
                        return n;
                if (n->type == XML_TEXT_NODE) {
                        for (const xmlChar *s = n->content; s && *s; s++)
                                if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
                                        *bad = true;
                                        return NULL;
                                }
                        continue;
                }
                if (n->type == XML_COMMENT_NODE)
                        continue;
                *bad = true;
                return NULL;
        }
        return NULL;
}

/* The children of a ds: element, which must be exactly the element names listed. */
static int ds_children(xmlNode *parent, const char *const *names, xmlNode **out, size_t n,
                       struct vt_diag *d)
{
        bool bad = false;
        xmlNode *c = next_el(parent->children, &bad);
        for (size_t i = 0; i < n; i++) {
                if (!is_el(c, NS_DS, names[i]))
                        return vt_diag_set(d, VT_E_FORMAT, "rim: ds:%s: expected ds:%s",
                                           (const char *)parent->name, names[i]);
                out[i] = c;
                c = next_el(c->next, &bad);
        }
        if (c || bad)
                return vt_diag_set(d, VT_E_FORMAT, "rim: ds:%s: unexpected content",
                                   (const char *)parent->name);
        return 0;
}

/* The element has exactly the attribute Algorithm=alg (and no element children). */
static int want_alg(xmlNode *n, const char *alg, struct vt_diag *d)
{
        bool bad = false;
        if (next_el(n->children, &bad) || bad)
                return vt_diag_set(d, VT_E_FORMAT, "rim: ds:%s has content", (const char *)n->name);
        _cleanup_xml_ xmlChar *a = sym_xmlGetNoNsProp(n, BAD_CAST "Algorithm");
        if (!a || !sym_xmlStrEqual(a, BAD_CAST alg))
                return vt_diag_set(d, VT_E_SIGNATURE, "rim: ds:%s Algorithm %.100s is not %s",
                                   (const char *)n->name, a ? (const char *)a : "(none)", alg);
        return 0;
}

static size_t count_attrs(xmlNode *n)
{
        size_t k = 0;
        for (xmlAttr *a = n->properties; a; a = a->next)
                k++;
        return k;
}

/* Text content of an element with only text (and whitespace), base64 decoded. */
static int b64_content(xmlNode *n, size_t max, uint8_t **ret, size_t *ret_len, struct vt_diag *d)
{
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type != XML_TEXT_NODE)
                        return vt_diag_set(d, VT_E_FORMAT, "rim: ds:%s: not text",
                                           (const char *)n->name);
        _cleanup_xml_ xmlChar *t = sym_xmlNodeGetContent(n);
        if (!t)
                return vt_diag_set(d, VT_E_FORMAT, "rim: ds:%s empty", (const char *)n->name);
        size_t tl = strlen((const char *)t);
        if (tl > RIM_MAX_B64)
                return vt_diag_set(d, VT_E_FORMAT, "rim: ds:%s too long", (const char *)n->name);
        size_t k = 0;
        for (size_t i = 0; i < tl; i++)
                if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
                        t[k++] = t[i];
        int r = vt_b64_decode((const char *)t, k, VT_B64_STD, max, ret, ret_len);
        if (r < 0)
                return vt_diag_set(d, VT_E_FORMAT, "rim: ds:%s: bad base64", (const char *)n->name);
        return 0;
}

/* ---- C14N 1.1 over a subtree, or the document minus a subtree ---- */

struct vis {
        const xmlNode *sub;
        bool include; /* true: only `sub`'s subtree; false: everything but it */
};

static bool under(const xmlNode *n, const xmlNode *top)
{
        for (; n; n = n->parent)
                if (n == top)
                        return true;
        return false;
}

static int c14n_visible(void *user, xmlNodePtr node, xmlNodePtr parent)
{
        const struct vis *v = user;
        const xmlNode *n = node;
        /* namespace nodes are xmlNs cast to xmlNode: only `type` may be read */
        if (node->type == XML_NAMESPACE_DECL)
                n = parent;
        bool in = n && under(n, v->sub);
        return v->include ? in : !in;
}

static int md_write(void *ctx, const char *buf, int len)
{
        return EVP_DigestUpdate(ctx, buf, (size_t)len) == 1 ? len : -1;
}

/* SHA-384 of the C14N 1.1 (without comments) of `sub`'s subtree (include) or of the whole
 * document without it (the enveloped-signature transform). The visibility callback makes
 * the subtree a document subset, so SignedInfo comes out with its in-scope namespaces. */
static int c14n_sha384(xmlDocPtr doc, const xmlNode *sub, bool include, uint8_t out[48],
                       struct vt_diag *d)
{
        struct vis v = {.sub = sub, .include = include};
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestInit_ex(md, EVP_sha384(), NULL) != 1)
                return VT_E_NOMEM;
        xmlOutputBufferPtr ob = sym_xmlOutputBufferCreateIO(md_write, NULL, md, NULL);
        if (!ob)
                return VT_E_NOMEM;
        int n = sym_xmlC14NExecute(doc, c14n_visible, &v, XML_C14N_1_1, NULL, 0, ob);
        int c = sym_xmlOutputBufferClose(ob);
        unsigned ol = 0;
        if (n < 0 || c < 0)
                return vt_diag_set(d, VT_E_FORMAT, "rim: C14N 1.1 of %s failed",
                                   include ? "SignedInfo" : "the document");
        if (EVP_DigestFinal_ex(md, out, &ol) != 1 || ol != 48)
                return VT_E_CRYPTO;
        return 0;
}

/* ---- the signature ---- */

/* The one ds:Signature in the document; it must be a child of the root. */
static int count_sigs(xmlNode *n, xmlNode **found, unsigned *k)
{
        for (; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (is_el(n, NS_DS, "Signature")) {
                        if (++*k > 1)
                                return -1;
                        *found = n;
                }
                if (count_sigs(n->children, found, k) < 0)
                        return -1;
        }
        return 0;
}

static int load_certs(xmlNode *keyinfo, STACK_OF(X509) * *ret, struct vt_diag *d)
{
        static const char *const x509data[] = {"X509Data"};
        xmlNode *xd;
        int r = ds_children(keyinfo, x509data, &xd, 1, d);
        if (r < 0)
                return r;
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = sk_X509_new_null();
        if (!sk)
                return VT_E_NOMEM;
        bool bad = false;
        for (xmlNode *c = next_el(xd->children, &bad); c; c = next_el(c->next, &bad)) {
                if (!is_el(c, NS_DS, "X509Certificate"))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "rim: ds:X509Data: only ds:X509Certificate allowed");
                if (sk_X509_num(sk) >= VT_CHAIN_MAX_CERTS)
                        return vt_diag_set(d, VT_E_FORMAT, "rim: more than %d certificates",
                                           VT_CHAIN_MAX_CERTS);
                _cleanup_free_ uint8_t *der = NULL;
                size_t dl = 0;
                r = b64_content(c, VT_CERT_MAX_BYTES, &der, &dl, d);
                if (r < 0)
                        return r;
                const unsigned char *p = der;
                X509 *x = d2i_X509(NULL, &p, (long)dl);
                if (!x || p != der + dl) {
                        X509_free(x);
                        ERR_clear_error();
                        return vt_diag_set(d, VT_E_FORMAT, "rim: certificate %d is not DER",
                                           sk_X509_num(sk));
                }
                if (!sk_X509_push(sk, x)) {
                        X509_free(x);
                        return VT_E_NOMEM;
                }
        }
        if (bad)
                return vt_diag_set(d, VT_E_FORMAT, "rim: ds:X509Data: unexpected content");
        if (sk_X509_num(sk) < 1)
                return vt_diag_set(d, VT_E_FORMAT, "rim: no signing certificate in KeyInfo");
        *ret = TAKE_PTR(sk);
        return 0;
}

static int verify_chain(STACK_OF(X509) * certs, X509 *root, time_t at, struct vt_diag *d)
{
        _cleanup_(X509_STORE_freep) X509_STORE *st = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        if (!st || !ctx || X509_STORE_add_cert(st, root) != 1)
                return VT_E_NOMEM;
        X509 *leaf = sk_X509_value(certs, 0);
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *untrusted = sk_X509_new_null();
        if (!untrusted)
                return VT_E_NOMEM;
        for (int i = 1; i < sk_X509_num(certs); i++) {
                X509 *x = sk_X509_value(certs, i);
                if (!X509_up_ref(x))
                        return VT_E_NOMEM;
                if (!sk_X509_push(untrusted, x)) {
                        X509_free(x);
                        return VT_E_NOMEM;
                }
        }
        if (X509_STORE_CTX_init(ctx, st, leaf, untrusted) != 1)
                return VT_E_NOMEM;
        X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_time(vp, at);
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);
        int ok = X509_verify_cert(ctx);
        int err = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        if (ok != 1) {
                char cn[128];
                X509 *at_cert = X509_STORE_CTX_get_current_cert(ctx);
                vt_x509_subject_cn(at_cert ? at_cert : leaf, cn, sizeof(cn));
                return vt_diag_set(d, VT_E_CHAIN,
                                   "rim: signer chain to the pinned RIM root: %s (at \"%s\")",
                                   X509_verify_cert_error_string(err), cn);
        }
        return 0;
}

static int check_signature(xmlDocPtr doc, xmlNode *root_el, X509 *root, time_t at,
                           struct vt_diag *d)
{
        xmlNode *sig = NULL;
        unsigned k = 0;
        if (count_sigs(doc->children, &sig, &k) < 0)
                return vt_diag_set(d, VT_E_SIGNATURE, "rim: more than one ds:Signature");
        if (!sig)
                return vt_diag_set(d, VT_E_SIGNATURE, "rim: no ds:Signature");
        if (sig->parent != root_el)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "rim: ds:Signature is not a child of SoftwareIdentity");
        if (count_attrs(sig))
                return vt_diag_set(d, VT_E_FORMAT, "rim: ds:Signature has attributes");

        static const char *const sig_names[] = {"SignedInfo", "SignatureValue", "KeyInfo"};
        static const char *const si_names[] = {"CanonicalizationMethod", "SignatureMethod",
                                               "Reference"};
        static const char *const ref_names[] = {"Transforms", "DigestMethod", "DigestValue"};
        static const char *const tr_names[] = {"Transform", "Transform"};
        xmlNode *s[3], *si[3], *ref[3], *tr[2];
        int r = ds_children(sig, sig_names, s, 3, d);
        if (r < 0)
                return r;
        r = ds_children(s[0], si_names, si, 3, d);
        if (r < 0)
                return r;
        r = ds_children(si[2], ref_names, ref, 3, d);
        if (r < 0)
                return r;
        r = ds_children(ref[0], tr_names, tr, 2, d);
        if (r < 0)
                return r;
        if (count_attrs(s[0]) || count_attrs(s[1]) || count_attrs(s[2]) || count_attrs(ref[0]) ||
            count_attrs(ref[2]) || count_attrs(si[0]) != 1 || count_attrs(si[1]) != 1 ||
            count_attrs(ref[1]) != 1 || count_attrs(tr[0]) != 1 || count_attrs(tr[1]) != 1)
                return vt_diag_set(d, VT_E_FORMAT, "rim: unexpected attributes in ds:Signature");
        if ((r = want_alg(si[0], ALG_C14N11, d)) < 0 ||
            (r = want_alg(si[1], ALG_ECDSA384, d)) < 0 ||
            (r = want_alg(tr[0], ALG_ENVELOPED, d)) < 0 ||
            (r = want_alg(tr[1], ALG_C14N11, d)) < 0 || (r = want_alg(ref[1], ALG_SHA384, d)) < 0)
                return r;
        /* the one Reference is the whole document: URI="" and nothing else */
        _cleanup_xml_ xmlChar *uri = sym_xmlGetNoNsProp(si[2], BAD_CAST "URI");
        if (!uri || uri[0] || count_attrs(si[2]) != 1)
                return vt_diag_set(d, VT_E_SIGNATURE, "rim: ds:Reference must be URI=\"\" only");

        /* 1. digest of the document without the Signature */
        _cleanup_free_ uint8_t *dv = NULL;
        size_t dvl = 0;
        if ((r = b64_content(ref[2], 64, &dv, &dvl, d)) < 0)
                return r;
        if (dvl != 48)
                return vt_diag_set(d, VT_E_SIGNATURE, "rim: DigestValue is %zu bytes, not 48", dvl);
        uint8_t h[48];
        if ((r = c14n_sha384(doc, sig, false, h, d)) < 0)
                return r;
        if (CRYPTO_memcmp(h, dv, 48) != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "rim: digest of the document does not match DigestValue");

        /* 2. ecdsa-sha384 over SignedInfo with the KeyInfo leaf */
        _cleanup_free_ uint8_t *sv = NULL;
        size_t svl = 0;
        if ((r = b64_content(s[1], 256, &sv, &svl, d)) < 0)
                return r;
        if (svl != 96)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "rim: SignatureValue is %zu bytes, not 96 (r||s)", svl);
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *certs = NULL;
        if ((r = load_certs(s[2], &certs, d)) < 0)
                return r;
        X509 *leaf = sk_X509_value(certs, 0);
        if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
            !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
                return vt_diag_set(d, VT_E_CHAIN, "rim: signer key usage lacks digitalSignature");
        EVP_PKEY *key = X509_get0_pubkey(leaf);
        if (!key || vt_ec_curve_nid(key) != NID_secp384r1)
                return vt_diag_set(d, VT_E_SIGNATURE, "rim: signer key is not ECDSA P-384");
        if ((r = c14n_sha384(doc, s[0], true, h, d)) < 0)
                return r;
        r = vt_ecdsa_verify_rs(key, h, 48, sv, sv + 48, 48);
        if (r == VT_E_SIGNATURE)
                return vt_diag_set(d, r, "rim: ecdsa-sha384 signature over SignedInfo is invalid");
        if (r < 0)
                return vt_diag_set(d, r, "rim: ecdsa-sha384 verification failed");

        /* 3. the signer chains to the pinned root at `at` */
        return verify_chain(certs, root, at, d);
}

/* ---- the SWID content ---- */

static int attr_str(xmlNode *n, const char *ns, const char *name, bool required, char **ret,
                    struct vt_diag *d)
{
        _cleanup_xml_ xmlChar *v = ns ? sym_xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns)
                                      : sym_xmlGetNoNsProp(n, BAD_CAST name);
        if (!v) {
                if (!required) {
                        *ret = NULL;
                        return 0;
                }
                return vt_diag_set(d, VT_E_FORMAT, "rim: %s: attribute %s missing",
                                   (const char *)n->name, name);
        }
        size_t l = strlen((const char *)v);
        if (l == 0 || l > RIM_MAX_ATTR)
                return vt_diag_set(d, VT_E_FORMAT, "rim: %s: attribute %s length %zu",
                                   (const char *)n->name, name, l);
        for (size_t i = 0; i < l; i++)
                if (v[i] < 0x20 || v[i] > 0x7e)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "rim: %s: attribute %s not printable ASCII",
                                           (const char *)n->name, name);
        char *s = strdup((const char *)v);
        if (!s)
                return VT_E_NOMEM;
        *ret = s;
        return 0;
}

static int attr_uint(xmlNode *n, const char *name, unsigned max, unsigned *ret, unsigned idx,
                     struct vt_diag *d)
{
        _cleanup_xml_ xmlChar *v = sym_xmlGetNoNsProp(n, BAD_CAST name);
        unsigned long x = 0;
        size_t l = v ? strlen((const char *)v) : 0;
        if (l == 0 || l > 6)
                return vt_diag_set(d, VT_E_FORMAT, "rim: Resource #%u: %s missing or too long", idx,
                                   name);
        for (size_t i = 0; i < l; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return vt_diag_set(d, VT_E_FORMAT, "rim: Resource #%u: %s not a number",
                                           idx, name);
                x = x * 10 + (unsigned)(v[i] - '0');
        }
        if (x > max)
                return vt_diag_set(d, VT_E_FORMAT, "rim: Resource #%u: %s %lu > %u", idx, name, x,
                                   max);
        *ret = (unsigned)x;
        return 0;
}

static int parse_resource(struct vt_nvrim *rim, xmlNode *n, unsigned k, struct vt_diag *d)
{
        unsigned index, nalt, size;
        int r;
        if ((r = attr_uint(n, "index", VT_NVRIM_MAX_INDEX - 1, &index, k, d)) < 0 ||
            (r = attr_uint(n, "alternatives", RIM_MAX_ALT, &nalt, k, d)) < 0 ||
            (r = attr_uint(n, "size", VT_NVRIM_MAX_DIGEST, &size, k, d)) < 0)
                return r;
        if (nalt == 0 || size == 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "rim: index %u: alternatives and size must be > 0", index);
        struct rim_entry *e = &rim->e[index];
        if (e->present)
                return vt_diag_set(d, VT_E_FORMAT, "rim: index %u appears twice", index);
        _cleanup_xml_ xmlChar *act = sym_xmlGetNoNsProp(n, BAD_CAST "active");
        if (act && !sym_xmlStrcasecmp(act, BAD_CAST "true"))
                e->active = true;
        else if (act && !sym_xmlStrcasecmp(act, BAD_CAST "false"))
                e->active = false;
        else
                return vt_diag_set(d, VT_E_FORMAT, "rim: index %u: active is not True/False",
                                   index);
        e->hashes = calloc(nalt, size);
        if (!e->hashes)
                return VT_E_NOMEM;
        e->present = true;
        e->nalt = (uint8_t)nalt;
        e->size = (uint8_t)size;
        for (unsigned a = 0; a < nalt; a++) {
                char name[16];
                snprintf(name, sizeof(name), "Hash%u", a);
                _cleanup_xml_ xmlChar *hx = sym_xmlGetNsProp(n, BAD_CAST name, BAD_CAST NS_SHA384);
                if (!hx || strlen((const char *)hx) != 2 * (size_t)size ||
                    vt_hex_decode((const char *)hx, e->hashes + (size_t)a * size, size) !=
                            (int)size)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "rim: index %u: %s missing or not %u bytes of hex",
                                           index, name, size);
        }
        return 0;
}

static int parse_swid(struct vt_nvrim *rim, xmlNode *root_el, struct vt_diag *d)
{
        int r = attr_str(root_el, NULL, "tagId", true, &rim->tag_id, d);
        if (r < 0)
                return r;
        xmlNode *meta = NULL, *payload = NULL;
        for (xmlNode *c = root_el->children; c; c = c->next) {
                if (is_el(c, NS_SWID, "Meta")) {
                        if (meta)
                                return vt_diag_set(d, VT_E_FORMAT, "rim: two Meta elements");
                        meta = c;
                } else if (is_el(c, NS_SWID, "Payload")) {
                        if (payload)
                                return vt_diag_set(d, VT_E_FORMAT, "rim: two Payload elements");
                        payload = c;
                }
        }
        if (!meta)
                return vt_diag_set(d, VT_E_FORMAT, "rim: no Meta element");
        if (!payload)
                return vt_diag_set(d, VT_E_FORMAT, "rim: no Payload element");
        if ((r = attr_str(meta, NULL, "colloquialVersion", true, &rim->version, d)) < 0 ||
            (r = attr_str(meta, NS_RIMIM, "FirmwareManufacturerId", true, &rim->manufacturer_id,
                          d)) < 0)
                return r;
        _cleanup_xml_ xmlChar *nm = sym_xmlGetNoNsProp(root_el, BAD_CAST "name");
        snprintf(rim->label, sizeof(rim->label), "%.40s %.100s",
                 nm && nm[0] ? (const char *)nm : "?", rim->version);
        for (char *p = rim->label; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        *p = '?';

        unsigned k = 0, nmeas = 0;
        for (xmlNode *c = payload->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                if (++k > RIM_MAX_RESOURCES)
                        return vt_diag_set(d, VT_E_FORMAT, "rim: more than %u Payload elements",
                                           RIM_MAX_RESOURCES);
                if (!is_el(c, NS_SWID, "Resource"))
                        continue;
                _cleanup_xml_ xmlChar *type = sym_xmlGetNoNsProp(c, BAD_CAST "type");
                if (!type || !sym_xmlStrEqual(type, BAD_CAST "Measurement"))
                        continue;
                if ((r = parse_resource(rim, c, k - 1, d)) < 0)
                        return r;
                nmeas++;
        }
        if (nmeas == 0)
                return vt_diag_set(d, VT_E_FORMAT, "rim: no Measurement resources");
        return 0;
}

/* Library code does not print: libxml2's messages (the parser's are off already, C14N's are
 * not) go to this handler while a RIM is loaded, and the caller's handler is restored. */
static void xml_quiet(void *ctx _unused_, xmlErrorPtr e _unused_)
{
}

static int load(const uint8_t *xml, size_t len, X509 *root, time_t at, struct vt_nvrim **ret,
                struct vt_diag *d);

int vt_nvrim_load(const uint8_t *xml, size_t len, X509 *root, time_t at, struct vt_nvrim **ret,
                  struct vt_diag *d)
{
        if (!xml || !root || !ret)
                return VT_E_INVAL;
        int r = vt_dlib_load(&libxml2, d);
        if (r < 0)
                return r;
        xmlStructuredErrorFunc prev = *sym___xmlStructuredError(); /* thread-local in libxml2 */
        void *prev_ctx = *sym___xmlStructuredErrorContext();
        sym_xmlSetStructuredErrorFunc(NULL, xml_quiet);
        r = load(xml, len, root, at, ret, d);
        sym_xmlSetStructuredErrorFunc(prev_ctx, prev);
        return r;
}

static int load(const uint8_t *xml, size_t len, X509 *root, time_t at, struct vt_nvrim **ret,
                struct vt_diag *d)
{
        _cleanup_(xmlFreeDocp) xmlDocPtr doc = NULL;
        int r = parse_doc(xml, len, &doc, d);
        if (r < 0)
                return r;
        xmlNode *root_el = sym_xmlDocGetRootElement(doc);
        if (!is_el(root_el, NS_SWID, "SoftwareIdentity"))
                return vt_diag_set(d, VT_E_FORMAT, "rim: root element is not SoftwareIdentity");
        r = check_signature(doc, root_el, root, at, d);
        if (r < 0)
                return r;
        _cleanup_(vt_nvrim_freep) struct vt_nvrim *rim = calloc(1, sizeof(*rim));
        if (!rim)
                return VT_E_NOMEM;
        r = parse_swid(rim, root_el, d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rim);
        return 0;
}

/* ---- appraisal ---- */

static bool skipped(const uint8_t *skip, unsigned i)
{
        return skip && (skip[i / 8] >> (i % 8)) & 1;
}

int vt_nvrim_match(const struct vt_nvrim *rim, const struct vt_nvrim_meas *m, size_t n,
                   const uint8_t *skip, unsigned *ret_matched, struct vt_diag *d)
{
        if (!rim || (!m && n))
                return VT_E_INVAL;
        uint8_t seen[VT_NVRIM_MAX_INDEX / 8] = {0};
        for (size_t j = 0; j < n; j++) {
                unsigned i = m[j].index;
                if (i >= VT_NVRIM_MAX_INDEX)
                        continue; /* no RIM index can name it */
                if (seen[i / 8] & (1u << (i % 8)))
                        return vt_diag_set(d, VT_E_POLICY, "rim %s: index %u measured twice",
                                           rim->label, i);
                seen[i / 8] |= (uint8_t)(1u << (i % 8));
        }
        unsigned matched = 0;
        for (unsigned i = 0; i < VT_NVRIM_MAX_INDEX; i++) {
                const struct rim_entry *e = &rim->e[i];
                if (!e->active || skipped(skip, i))
                        continue;
                const struct vt_nvrim_meas *got = NULL;
                for (size_t j = 0; j < n && !got; j++)
                        if (m[j].index == i)
                                got = &m[j];
                if (!got)
                        return vt_diag_set(d, VT_E_POLICY, "rim %s: index %u has no measurement",
                                           rim->label, i);
                bool ok = false;
                if (got->len == e->size)
                        for (unsigned a = 0; a < e->nalt && !ok; a++)
                                ok = memcmp(got->digest, e->hashes + (size_t)a * e->size,
                                            e->size) == 0;
                if (!ok) {
                        char hx[2 * 8 + 1];
                        size_t show = got->len < 8 ? got->len : 8;
                        vt_hex_encode(got->digest, show, hx);
                        return vt_diag_set(d, VT_E_POLICY,
                                           "rim %s: index %u matches none of its %u alternatives "
                                           "(measured %zu bytes %s…, golden %u bytes)",
                                           rim->label, i, e->nalt, got->len, hx, e->size);
                }
                matched++;
        }
        if (ret_matched)
                *ret_matched = matched;
        return 0;
}

int vt_nvrim_no_conflict(const struct vt_nvrim *a, const struct vt_nvrim *b, struct vt_diag *d)
{
        if (!a || !b)
                return VT_E_INVAL;
        for (unsigned i = 0; i < VT_NVRIM_MAX_INDEX; i++)
                if (a->e[i].active && b->e[i].active)
                        return vt_diag_set(d, VT_E_POLICY,
                                           "rims %s and %s both have an active value at index %u",
                                           a->label, b->label, i);
        return 0;
}
