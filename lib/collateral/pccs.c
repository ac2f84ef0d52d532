/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel PCS / PCCS v4 collateral for one quote: the PCK CRL of its CA, TCB info for its
 * FMSPC (SGX or TDX), the QE identity (QE or TD_QE) and the root CA CRL, assembled into
 * the QuoteCollateralV3 JSON that vt_dcap_collateral_parse reads (the signed bodies are
 * kept as the exact bytes received).
 */
#define _GNU_SOURCE
#include "collateral/pccs.h"

#include <stdio.h>
#include <string.h>

#include "collateral/kds.h"
#include "util/hex.h"
#include "util/json.h"

#define MAX_BODY (1u << 20)

/* An issuer chain header, URL-decoded: PEM is printable ASCII. */
static bool pem_text(const char *s)
{
        for (; *s; s++)
                if (*s != '\n' && *s != '\r' && (*s < 0x20 || *s > 0x7e))
                        return false;
        return true;
}

/* The value of key in a JSON body {"key":{...},"signature":"hex"}, as the exact bytes. */
static int split_signed(const uint8_t *body, size_t len, const char *key, char **ret_raw,
                        char **ret_sig, struct vt_diag *d)
{
        json_auto_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
        const char *sig = json_string_value(json_object_get(j, "signature"));
        char pat[64];
        if (!json_is_object(json_object_get(j, key)) || !sig)
                return vt_diag_set(d, VT_E_FORMAT, "pccs: answer lacks %s or signature", key);
        /* find "key": and the balanced object after it, in the bytes as received */
        snprintf(pat, sizeof(pat), "\"%s\"", key);
        const char *b = (const char *)body, *end = b + len;
        const char *p = memmem(b, len, pat, strlen(pat));
        if (!p)
                return vt_diag_set(d, VT_E_FORMAT, "pccs: %s not found", key);
        p += strlen(pat);
        while (p < end && (*p == ' ' || *p == ':' || *p == '\n' || *p == '\r' || *p == '\t'))
                p++;
        if (p >= end || *p != '{')
                return vt_diag_set(d, VT_E_FORMAT, "pccs: %s is not an object", key);
        const char *q = p;
        int depth = 0;
        bool in_str = false;
        for (; q < end; q++) {
                if (in_str) {
                        if (*q == '\\')
                                q++;
                        else if (*q == '"')
                                in_str = false;
                } else if (*q == '"') {
                        in_str = true;
                } else if (*q == '{') {
                        depth++;
                } else if (*q == '}' && --depth == 0) {
                        break;
                }
        }
        if (q >= end)
                return vt_diag_set(d, VT_E_FORMAT, "pccs: %s is not a balanced object", key);
        *ret_raw = strndup(p, (size_t)(q - p + 1));
        *ret_sig = strdup(sig);
        return *ret_raw && *ret_sig ? 0 : VT_E_NOMEM;
}

/* DER starts with 0x30, which is also the character '0', so the first byte cannot tell
 * DER from hex text: text is printable ASCII throughout and either PEM armour or hex. */
static bool crl_is_text(const uint8_t *b, size_t len)
{
        bool hex = true;
        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                uint8_t c = b[i];
                if (c != '\t' && c != '\n' && c != '\r' && (c < 0x20 || c > 0x7e))
                        return false;
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == '\n' || c == '\r' || c == ' ' || c == '\t'))
                        hex = false;
        }
        return hex || (len >= 5 && memcmp(b, "-----", 5) == 0);
}

/* A CRL answer as hex of DER: PCS gives PEM (or DER with encoding=der), PCCS hex. */
static int crl_hex(const uint8_t *body, size_t len, char **ret)
{
        char *h = malloc(2 * len + 1);
        if (!h)
                return VT_E_NOMEM;
        if (crl_is_text(body, len)) {
                /* PEM or hex text: pass it through; the collateral parser accepts all three */
                memcpy(h, body, len);
                h[len] = 0;
        } else {
                vt_hex_encode(body, len, h);
        }
        *ret = h;
        return 0;
}

int vt_pccs_fetch(const char *base, bool tdx, bool platform_ca, const uint8_t fmspc[6],
                  char **ret_json, struct vt_diag *d)
{
        _cleanup_free_ char *url = NULL, *pck_chain = NULL, *tcb_chain = NULL, *qe_chain = NULL,
                            *tcb_raw = NULL, *tcb_sig = NULL, *qe_raw = NULL, *qe_sig = NULL,
                            *pck_crl = NULL, *root_crl = NULL;
        _cleanup_free_ uint8_t *body = NULL;
        char *hdr = NULL, fm[13];
        size_t len;
        int e;
        size_t bl = strlen(base);
        while (bl > 0 && base[bl - 1] == '/')
                bl--;
        vt_hex_encode(fmspc, 6, fm);
#define GET(path_fmt, header, out_hdr, ...)                                                        \
        do {                                                                                       \
                free(url);                                                                         \
                free(TAKE_PTR(body));                                                              \
                url = NULL;                                                                        \
                if (asprintf(&url, "%.*s" path_fmt, (int)bl, base, __VA_ARGS__) < 0)               \
                        return VT_E_NOMEM;                                                         \
                if ((e = vt_http_get_header(url, MAX_BODY, header, &hdr, &body, &len, d)) < 0)     \
                        return e;                                                                  \
                if (header) {                                                                      \
                        uint8_t *dec_ = NULL;                                                      \
                        size_t hl_ = 0;                                                            \
                        e = vt_pct_decode(hdr, strlen(hdr), false, &dec_, &hl_);                   \
                        out_hdr = (char *)dec_;                                                    \
                        free(hdr);                                                                 \
                        hdr = NULL;                                                                \
                        if (e == VT_E_NOMEM)                                                       \
                                return e;                                                          \
                        if (e < 0)                                                                 \
                                return vt_diag_set(d, e,                                           \
                                                   "pccs: %s header of %s: bad percent-encoding",  \
                                                   header, url);                                   \
                        if (!pem_text(out_hdr))                                                    \
                                return vt_diag_set(d, VT_E_FORMAT,                                 \
                                                   "pccs: %s header of %s is not PEM text",        \
                                                   header, url);                                   \
                }                                                                                  \
        } while (0)
        GET("/sgx/certification/v4/pckcrl?ca=%s&encoding=der", "SGX-PCK-CRL-Issuer-Chain",
            pck_chain, platform_ca ? "platform" : "processor");
        if ((e = crl_hex(body, len, &pck_crl)) < 0)
                return e;
        GET("/%s/certification/v4/tcb?fmspc=%s", "TCB-Info-Issuer-Chain", tcb_chain,
            tdx ? "tdx" : "sgx", fm);
        if ((e = split_signed(body, len, "tcbInfo", &tcb_raw, &tcb_sig, d)) < 0)
                return e;
        GET("/%s/certification/v4/qe/identity%s", "SGX-Enclave-Identity-Issuer-Chain", qe_chain,
            tdx ? "tdx" : "sgx", "");
        if ((e = split_signed(body, len, "enclaveIdentity", &qe_raw, &qe_sig, d)) < 0)
                return e;
        char *unused = NULL;
        GET("/sgx/certification/v4/rootcacrl%s", (const char *)NULL, unused, "");
        (void)unused;
        if ((e = crl_hex(body, len, &root_crl)) < 0)
                return e;
#undef GET
        json_auto_t *o = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "pck_crl_issuer_chain", pck_chain,
                "root_ca_crl", root_crl, "pck_crl", pck_crl, "tcb_info_issuer_chain", tcb_chain,
                "tcb_info", tcb_raw, "tcb_info_signature", tcb_sig, "qe_identity_issuer_chain",
                qe_chain, "qe_identity", qe_raw, "qe_identity_signature", qe_sig);
        if (!o)
                return VT_E_NOMEM;
        *ret_json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        return *ret_json ? 0 : VT_E_NOMEM;
}
