/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure confidential VMs (SEV-SNP under the paravisor, "az-snp-vtpm"): the guest has no
 * /dev/sev-guest; the paravisor puts the SNP report, requested at VMPL 0, into the vTPM.
 * As kinvolk's azure-cvm-tooling does (vtpm/mod.rs), through tpm2-tss ESAPI:
 *   1. write the 64-byte report data to NV 0x01400002 (defined, owner read/write, if
 *      missing); the paravisor regenerates the HCL report with it as "user-data";
 *   2. read the HCL report from NV 0x01400001 until its runtime JSON carries that
 *      user-data (older firmware has none: wait once, as kinvolk's 3 s sleep);
 *   3. quote the 24 SHA-256 PCRs with the AK at 0x81000003, the 48-byte KBS binding (the
 *      first 48 of the 64 report-data bytes) as the qualifying data (the freshness the
 *      verifier checks), then read the PCRs, and
 *      retry when they moved between the quote and the read;
 *   4. the VCEK from --vcek or Azure's IMDS THIM endpoint.
 * The evidence is Trustee's az-snp-vtpm version 2 JSON.
 *
 * Tested against swtpm with a provisioned, simulator-signed HCL report only; never on an
 * Azure CVM (docs/providers.md).
 */
#define _GNU_SOURCE
#include "collateral/http.h"
#include "provider.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "util/b64.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/azure.h"

/* The quote's qualifying data: the KBS runtime-data binding, a SHA-384 digest (48 bytes,
 * vt_kbs_runtime_binding), unpadded, as Trustee's az-snp-vtpm attester quotes it and its
 * verifier (and veriteed) compares extraData exactly. NV 0x01400002 gets all 64 bytes
 * (the digest and zeros), so the HCL user-data starts with the digest. */
#define VTPM_NONCE_LEN 48

#define NV_HCL_REPORT  0x01400001u
#define NV_USER_DATA   0x01400002u
#define AK_HANDLE      0x81000003u
#define HCL_MAX        (16u * 1024u)
#define N_PCRS         24
#define QUOTE_ATTEMPTS 3
#define POLL_MS        100u
#define THIM_MAX       (256u * 1024u)
#define VCEK_MAX       (64u * 1024u)

struct tpm {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        const char *conf;
};

static const char *tcti_conf(const struct vt_provider_opts *o)
{
        return o->tcti ? o->tcti : VT_VTPM_DEFAULT_TCTI;
}

static void tpm_close(struct tpm *t)
{
        if (t->esys)
                Esys_Finalize(&t->esys);
        if (t->tcti)
                Tss2_TctiLdr_Finalize(&t->tcti);
}

static int tpm_open(const struct vt_provider_opts *o, struct tpm *t, struct vt_diag *d)
{
        TSS2_RC rc;
        memset(t, 0, sizeof(*t));
        t->conf = tcti_conf(o);
        /* tpm2-tss logs every failed probe to stderr; the reasons go into d instead */
        setenv("TSS2_LOG", "all+NONE", 0);
        if ((rc = Tss2_TctiLdr_Initialize(t->conf, &t->tcti)) != TSS2_RC_SUCCESS)
                return vt_diag_set(d, VT_E_NOTFOUND, "no TPM at %s (%s)", t->conf,
                                   Tss2_RC_Decode(rc));
        if ((rc = Esys_Initialize(&t->esys, t->tcti, NULL)) != TSS2_RC_SUCCESS) {
                tpm_close(t);
                return vt_diag_set(d, VT_E_NOTFOUND, "no TPM at %s (%s)", t->conf,
                                   Tss2_RC_Decode(rc));
        }
        return 0;
}

/* An NV index's ESYS handle and public area (Esys_Free it). */
static TSS2_RC nv_open(struct tpm *t, TPM2_HANDLE index, ESYS_TR *ret, TPM2B_NV_PUBLIC **ret_pub)
{
        TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ret);
        if (rc != TSS2_RC_SUCCESS)
                return rc;
        rc = Esys_NV_ReadPublic(t->esys, *ret, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret_pub,
                                NULL);
        if (rc != TSS2_RC_SUCCESS)
                Esys_TR_Close(t->esys, ret);
        return rc;
}

static uint16_t nv_chunk(struct tpm *t)
{
        TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more = 0;
        uint16_t n = 512; /* the spec minimum when the TPM does not say */
        if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, &more,
                               &cap) == TSS2_RC_SUCCESS &&
            cap->data.tpmProperties.count == 1 &&
            cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX) {
                uint32_t v = cap->data.tpmProperties.tpmProperty[0].value;
                if (v >= 64 && v <= sizeof(((TPM2B_MAX_NV_BUFFER *)0)->buffer))
                        n = (uint16_t)v;
        }
        Esys_Free(cap);
        return n;
}

/* Reads a whole NV index (owner auth where the index allows it, as kinvolk does). */
static int nv_read_all(struct tpm *t, TPM2_HANDLE index, size_t max, uint8_t **ret, size_t *ret_len,
                       struct vt_diag *d)
{
        ESYS_TR nv = ESYS_TR_NONE;
        TPM2B_NV_PUBLIC *pub = NULL;
        TSS2_RC rc = nv_open(t, index, &nv, &pub);
        if (rc != TSS2_RC_SUCCESS)
                return vt_diag_set(d, VT_E_NOTFOUND, "vtpm: no NV index 0x%08x at %s (%s)", index,
                                   t->conf, Tss2_RC_Decode(rc));
        size_t size = pub->nvPublic.dataSize;
        ESYS_TR auth = (pub->nvPublic.attributes & TPMA_NV_OWNERREAD) ? ESYS_TR_RH_OWNER : nv;
        Esys_Free(pub);
        if (size == 0 || size > max) {
                Esys_TR_Close(t->esys, &nv);
                return vt_diag_set(d, VT_E_LIMIT, "vtpm: NV index 0x%08x is %zu bytes (1..%zu)",
                                   index, size, max);
        }
        uint8_t *buf = malloc(size);
        uint16_t chunk = nv_chunk(t);
        if (!buf) {
                Esys_TR_Close(t->esys, &nv);
                return VT_E_NOMEM;
        }
        for (size_t off = 0; off < size;) {
                TPM2B_MAX_NV_BUFFER *data = NULL;
                uint16_t n = size - off < chunk ? (uint16_t)(size - off) : chunk;
                rc = Esys_NV_Read(t->esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                  n, (uint16_t)off, &data);
                if (rc != TSS2_RC_SUCCESS || data->size == 0 || data->size > n) {
                        Esys_Free(data);
                        free(buf);
                        Esys_TR_Close(t->esys, &nv);
                        return vt_diag_set(d, VT_E_IO,
                                           "vtpm: reading NV index 0x%08x at offset %zu: %s", index,
                                           off, Tss2_RC_Decode(rc));
                }
                memcpy(buf + off, data->buffer, data->size);
                off += data->size;
                Esys_Free(data);
        }
        Esys_TR_Close(t->esys, &nv);
        *ret = buf;
        *ret_len = size;
        return 0;
}

/* Writes the report data to NV 0x01400002, defining the index first when it is missing. */
static int write_user_data(struct tpm *t, const uint8_t report_data[64], struct vt_diag *d)
{
        ESYS_TR nv = ESYS_TR_NONE;
        TPM2B_NV_PUBLIC *pub = NULL;
        TSS2_RC rc = nv_open(t, NV_USER_DATA, &nv, &pub);
        TPMA_NV attrs;
        if (rc != TSS2_RC_SUCCESS) {
                TPM2B_AUTH none = {0};
                TPM2B_NV_PUBLIC def = {
                        .nvPublic = {.nvIndex = NV_USER_DATA,
                                     .nameAlg = TPM2_ALG_SHA256,
                                     .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD,
                                     .dataSize = 64},
                };
                rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                         ESYS_TR_NONE, &none, &def, &nv);
                if (rc != TSS2_RC_SUCCESS)
                        return vt_diag_set(d, VT_E_IO,
                                           "vtpm: NV index 0x%08x is missing and cannot be "
                                           "defined: %s",
                                           NV_USER_DATA, Tss2_RC_Decode(rc));
                attrs = def.nvPublic.attributes;
        } else {
                attrs = pub->nvPublic.attributes;
                if (pub->nvPublic.dataSize < 64) {
                        unsigned sz = pub->nvPublic.dataSize;
                        Esys_Free(pub);
                        Esys_TR_Close(t->esys, &nv);
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "vtpm: NV index 0x%08x holds %u bytes, not 64",
                                           NV_USER_DATA, sz);
                }
                Esys_Free(pub);
        }
        TPM2B_MAX_NV_BUFFER data = {.size = 64};
        memcpy(data.buffer, report_data, 64);
        ESYS_TR auth = (attrs & TPMA_NV_OWNERWRITE) ? ESYS_TR_RH_OWNER : nv;
        rc = Esys_NV_Write(t->esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &data,
                           0);
        Esys_TR_Close(t->esys, &nv);
        if (rc != TSS2_RC_SUCCESS)
                return vt_diag_set(d, VT_E_IO, "vtpm: writing the report data to 0x%08x: %s",
                                   NV_USER_DATA, Tss2_RC_Decode(rc));
        return 0;
}

/* The HCL report's runtime JSON "user-data": 1 when it is report_data, 0 when it is
 * something else, 2 when there is none (older paravisor firmware). The report is read
 * by the library's one HCL parser (vt_hcl_report_parse), as the verifier reads it. */
static int hcl_user_data(const uint8_t *hcl, size_t len, const uint8_t report_data[64],
                         struct vt_diag *d)
{
        struct vt_hcl_report *r = NULL;
        struct vt_diag pd = {0};
        int e = vt_hcl_report_parse(hcl, len, &r, &pd);
        if (e < 0)
                return vt_diag_set(d, e, "vtpm: NV 0x%08x is not an HCL report (%zu bytes): %s",
                                   NV_HCL_REPORT, len, pd.msg);
        int u = !r->has_user_data                                                      ? 2
                : r->user_data_len == 64 && memcmp(r->user_data, report_data, 64) == 0 ? 1
                                                                                       : 0;
        vt_hcl_report_free(r);
        return u;
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Steps 1 and 2: the HCL report that carries report_data. */
static int get_hcl(struct tpm *t, const struct vt_provider_opts *o, const uint8_t report_data[64],
                   uint8_t **ret, size_t *ret_len, struct vt_diag *d)
{
        unsigned wait = o->hcl_wait_ms ? o->hcl_wait_ms : VT_VTPM_HCL_WAIT_MS;
        int e = write_user_data(t, report_data, d);
        if (e < 0)
                return e;
        for (unsigned waited = 0;;) {
                uint8_t *hcl = NULL;
                size_t len = 0;
                if ((e = nv_read_all(t, NV_HCL_REPORT, HCL_MAX, &hcl, &len, d)) < 0)
                        return e;
                int u = hcl_user_data(hcl, len, report_data, d);
                if (u == 1 || (u == 2 && waited >= wait)) {
                        *ret = hcl;
                        *ret_len = len;
                        return 0;
                }
                free(hcl);
                if (u < 0)
                        return u;
                if (u == 2) { /* no user-data to watch for: give the paravisor its time */
                        sleep_ms(wait);
                        waited = wait;
                        continue;
                }
                if (waited >= wait)
                        return vt_diag_set(d, VT_E_BINDING,
                                           "vtpm: the HCL report's user-data is not the report "
                                           "data %u ms after writing NV 0x%08x (the paravisor did "
                                           "not regenerate it)",
                                           wait, NV_USER_DATA);
                sleep_ms(POLL_MS);
                waited += POLL_MS;
        }
}

/* All 24 SHA-256 PCRs; PCR_Read returns at most 8 per call. */
static int read_pcrs(struct tpm *t, uint8_t pcrs[N_PCRS][32], struct vt_diag *d)
{
        TPML_PCR_SELECTION want = {
                .count = 1,
                .pcrSelections = {{.hash = TPM2_ALG_SHA256,
                                   .sizeofSelect = 3,
                                   .pcrSelect = {0xff, 0xff, 0xff}}},
        };
        unsigned got = 0;
        for (int round = 0; got < N_PCRS && round < N_PCRS; round++) {
                UINT32 counter = 0;
                TPML_PCR_SELECTION *out = NULL;
                TPML_DIGEST *vals = NULL;
                TSS2_RC rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want,
                                           &counter, &out, &vals);
                if (rc != TSS2_RC_SUCCESS) {
                        Esys_Free(out);
                        Esys_Free(vals);
                        return vt_diag_set(d, VT_E_IO, "vtpm: PCR_Read: %s", Tss2_RC_Decode(rc));
                }
                uint32_t k = 0;
                bool bad = vals->count == 0;
                for (uint32_t b = 0; b < out->count && !bad; b++) {
                        const TPMS_PCR_SELECTION *s = &out->pcrSelections[b];
                        if (s->hash != TPM2_ALG_SHA256)
                                continue;
                        for (unsigned i = 0; i < N_PCRS && i / 8 < s->sizeofSelect; i++) {
                                if (!(s->pcrSelect[i / 8] & (1u << (i % 8))))
                                        continue;
                                if (k >= vals->count || vals->digests[k].size != 32) {
                                        bad = true;
                                        break;
                                }
                                memcpy(pcrs[i], vals->digests[k++].buffer, 32);
                                if (want.pcrSelections[0].pcrSelect[i / 8] & (1u << (i % 8))) {
                                        want.pcrSelections[0].pcrSelect[i / 8] &=
                                                (uint8_t) ~(1u << (i % 8));
                                        got++;
                                }
                        }
                }
                Esys_Free(out);
                Esys_Free(vals);
                if (bad)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "vtpm: PCR_Read returned a malformed answer");
        }
        return got == N_PCRS ? 0
                             : vt_diag_set(d, VT_E_IO, "vtpm: the TPM returned %u of 24 PCRs", got);
}

struct quote {
        uint8_t msg[sizeof(((TPM2B_ATTEST *)0)->attestationData)];
        size_t msg_len;
        uint8_t sig[TPM2_MAX_RSA_KEY_BYTES];
        size_t sig_len;
        uint8_t pcrs[N_PCRS][32];
};

/* Step 3: a quote over the PCRs read right after it (retried when they moved). */
static int get_quote(struct tpm *t, const uint8_t report_data[64], struct quote *q,
                     struct vt_diag *d)
{
        ESYS_TR ak = ESYS_TR_NONE;
        TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, AK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, &ak);
        if (rc != TSS2_RC_SUCCESS)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "vtpm: no attestation key at persistent handle 0x%08x (%s)",
                                   AK_HANDLE, Tss2_RC_Decode(rc));
        TPM2B_DATA qual = {.size = VTPM_NONCE_LEN};
        memcpy(qual.buffer, report_data, VTPM_NONCE_LEN);
        TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own: RSASSA-SHA256 */
        TPML_PCR_SELECTION sel = {
                .count = 1,
                .pcrSelections = {{.hash = TPM2_ALG_SHA256,
                                   .sizeofSelect = 3,
                                   .pcrSelect = {0xff, 0xff, 0xff}}},
        };
        int e = 0;
        bool moved = false;
        for (int attempt = 0; attempt < QUOTE_ATTEMPTS; attempt++) {
                TPM2B_ATTEST *att = NULL;
                TPMT_SIGNATURE *sig = NULL;
                TPMS_ATTEST parsed;
                size_t off = 0;
                moved = false;
                rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qual,
                                &scheme, &sel, &att, &sig);
                if (rc != TSS2_RC_SUCCESS) {
                        e = vt_diag_set(d, VT_E_IO, "vtpm: Quote with the AK 0x%08x: %s", AK_HANDLE,
                                        Tss2_RC_Decode(rc));
                        break;
                }
                memset(&parsed, 0, sizeof(parsed));
                if (sig->sigAlg != TPM2_ALG_RSASSA ||
                    sig->signature.rsassa.sig.size > sizeof(q->sig) ||
                    Tss2_MU_TPMS_ATTEST_Unmarshal(att->attestationData, att->size, &off, &parsed) !=
                            TSS2_RC_SUCCESS ||
                    parsed.type != TPM2_ST_ATTEST_QUOTE ||
                    parsed.extraData.size != VTPM_NONCE_LEN ||
                    memcmp(parsed.extraData.buffer, report_data, VTPM_NONCE_LEN) != 0 ||
                    parsed.attested.quote.pcrDigest.size != 32) {
                        Esys_Free(att);
                        Esys_Free(sig);
                        e = vt_diag_set(d, VT_E_FORMAT,
                                        "vtpm: the quote is not an RSASSA-signed quote of the "
                                        "report data over SHA-256 PCRs");
                        break;
                }
                memcpy(q->msg, att->attestationData, att->size);
                q->msg_len = att->size;
                memcpy(q->sig, sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size);
                q->sig_len = sig->signature.rsassa.sig.size;
                uint8_t want[32], digest[32];
                memcpy(want, parsed.attested.quote.pcrDigest.buffer, 32);
                Esys_Free(att);
                Esys_Free(sig);
                if ((e = read_pcrs(t, q->pcrs, d)) < 0)
                        break;
                if (!EVP_Digest(q->pcrs, sizeof(q->pcrs), digest, NULL, EVP_sha256(), NULL)) {
                        e = VT_E_CRYPTO;
                        break;
                }
                if (memcmp(digest, want, 32) == 0)
                        break;
                moved = true; /* a PCR was extended in between: quote again */
        }
        Esys_TR_Close(t->esys, &ak);
        if (moved)
                return vt_diag_set(d, VT_E_IO,
                                   "vtpm: the PCRs changed between the quote and reading them, "
                                   "%d times",
                                   QUOTE_ATTEMPTS);
        return e;
}

/* A certificate (PEM, or DER) as DER. */
static int cert_der(const uint8_t *buf, size_t len, uint8_t **ret, size_t *ret_len)
{
        X509 *x = NULL;
        if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
                BIO *b = BIO_new_mem_buf(buf, (int)len);
                x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
                BIO_free(b);
        } else {
                const unsigned char *p = buf;
                x = d2i_X509(NULL, &p, (long)len);
        }
        unsigned char *der = NULL;
        int n = x ? i2d_X509(x, &der) : -1;
        X509_free(x);
        if (n <= 0)
                return VT_E_FORMAT;
        *ret = malloc((size_t)n);
        if (!*ret) {
                OPENSSL_free(der);
                return VT_E_NOMEM;
        }
        memcpy(*ret, der, (size_t)n);
        OPENSSL_free(der);
        *ret_len = (size_t)n;
        return 0;
}

/* Step 4: the VCEK, from a file or from THIM ({"vcekCert": PEM, "certificateChain": ...}). */
static int get_vcek(const struct vt_provider_opts *o, uint8_t **ret, size_t *ret_len,
                    struct vt_diag *d)
{
        if (o->vcek_file) {
                _cleanup_free_ uint8_t *b = NULL;
                size_t n = 0;
                if (vt_read_file(o->vcek_file, VCEK_MAX, &b, &n) < 0)
                        return vt_diag_set(d, VT_E_IO, "vtpm: cannot read the VCEK %s",
                                           o->vcek_file);
                if (cert_der(b, n, ret, ret_len) < 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "vtpm: %s is not a certificate (PEM or DER)",
                                           o->vcek_file);
                return 0;
        }
        const char *url = o->thim_url ? o->thim_url : VT_VTPM_THIM_URL;
        static const char *const headers[] = {"Metadata: true", NULL};
        struct vt_http_request rq = {
                .url = url, .headers = headers, .max = THIM_MAX, .no_proxy = true};
        struct vt_http_response rs = {0};
        struct vt_diag hd = {0};
        int he = vt_http_do(&rq, &rs, &hd);
        if (he < 0 || rs.status != 200) {
                vt_http_response_done(&rs);
                return vt_diag_set(d, VT_E_NETWORK,
                                   "vtpm: cannot get the VCEK from %s: %s (outside Azure, give it "
                                   "with --vcek FILE)",
                                   url, he < 0 ? hd.msg : "HTTP error");
        }
        _cleanup_free_ char *body = (char *)TAKE_PTR(rs.body);
        size_t body_len = rs.len;
        vt_http_response_done(&rs);
        json_auto_t *j = json_loadb(body ? body : "", body_len, 0, NULL);
        const char *pem = json_string_value(json_object_get(j, "vcekCert"));
        if (!pem || cert_der((const uint8_t *)pem, strlen(pem), ret, ret_len) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "vtpm: %s answered no vcekCert certificate",
                                   url);
        return 0;
}

static int vtpm_probe(const struct vt_provider_opts *o, struct vt_diag *d)
{
        struct tpm t;
        int e = tpm_open(o, &t, d);
        if (e < 0)
                return e;
        ESYS_TR nv = ESYS_TR_NONE;
        TSS2_RC rc = Esys_TR_FromTPMPublic(t.esys, NV_HCL_REPORT, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, &nv);
        if (rc == TSS2_RC_SUCCESS)
                Esys_TR_Close(t.esys, &nv);
        tpm_close(&t);
        if (rc != TSS2_RC_SUCCESS)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "the TPM at %s has no HCL report (NV index 0x%08x): not an "
                                   "Azure confidential VM",
                                   tcti_conf(o), NV_HCL_REPORT);
        return 0;
}

static int vtpm_collect(const struct vt_provider_opts *o, const uint8_t report_data[64],
                        json_t **ret, struct vt_diag *d)
{
        struct tpm t;
        _cleanup_free_ uint8_t *hcl = NULL, *vcek = NULL;
        _cleanup_free_ struct quote *q = calloc(1, sizeof(*q));
        _cleanup_free_ char *hcl64 = NULL, *vcek64 = NULL;
        size_t hl = 0, vl = 0;
        if (!q)
                return VT_E_NOMEM;
        /* the VCEK first: without it there is no point in touching the TPM */
        int e = get_vcek(o, &vcek, &vl, d);
        if (e < 0 || (e = tpm_open(o, &t, d)) < 0)
                return e;
        if ((e = get_hcl(&t, o, report_data, &hcl, &hl, d)) == 0)
                e = get_quote(&t, report_data, q, d);
        tpm_close(&t);
        if (e < 0)
                return e;
        json_auto_t *pcrs = json_array();
        for (int i = 0; pcrs && i < N_PCRS; i++)
                if (json_array_append_new(pcrs, vt_json_hex(q->pcrs[i], 32)) < 0)
                        return VT_E_NOMEM;
        if (!pcrs || vt_b64_encode(hcl, hl, VT_B64_URL, &hcl64) < 0 ||
            vt_b64_encode(vcek, vl, VT_B64_URL, &vcek64) < 0)
                return VT_E_NOMEM;
        *ret = json_pack("{s:i, s:{s:o, s:o, s:O}, s:s, s:s}", "version", 2, "tpm_quote",
                         "signature", vt_json_hex(q->sig, q->sig_len), "message",
                         vt_json_hex(q->msg, q->msg_len), "pcrs", pcrs, "hcl_report", hcl64, "vcek",
                         vcek64);
        return *ret ? 0 : VT_E_NOMEM;
}

const struct vt_provider vt_provider_vtpm = {
        .name = "az-snp-vtpm",
        .via = "vtpm",
        .tee = "az-snp-vtpm",
        .probe = vtpm_probe,
        .collect = vtpm_collect,
};
