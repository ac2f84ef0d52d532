/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCSP responses about the intermediates of an NVIDIA device chain (RFC 6960 through
 * OpenSSL's OCSP API). The response is verified with a trust store made for the call that
 * holds only the given root at the verification time, so that a shared store is never
 * changed and a response is judged at the time the evidence is.
 */
#include <limits.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "util/macro.h"
#include "verify/nvidia_ocsp.h"

static const char *cn_of(X509 *x, char *buf, size_t cap)
{
        vt_x509_subject_cn(x, buf, cap);
        return buf[0] ? buf : "(no CN)";
}

/* Finds the single response about cert: with a SHA-1 CertID (NVAT) or SHA-384 (NV). */
static int find_status(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer, int *ret_status,
                       int *ret_reason, ASN1_GENERALIZEDTIME **ret_this,
                       ASN1_GENERALIZEDTIME **ret_next)
{
        const EVP_MD *mds[] = {EVP_sha1(), EVP_sha384(), EVP_sha256()};
        for (size_t i = 0; i < ELEMENTSOF(mds); i++) {
                _cleanup_(OCSP_CERTID_freep) OCSP_CERTID *id =
                        OCSP_cert_to_id(mds[i], cert, issuer);
                if (!id)
                        return VT_E_NOMEM;
                ASN1_GENERALIZEDTIME *rev = NULL;
                if (OCSP_resp_find_status(bs, id, ret_status, ret_reason, &rev, ret_this,
                                          ret_next) == 1)
                        return 0;
        }
        ERR_clear_error();
        return VT_E_NOTFOUND;
}

int vt_nv_ocsp_check(const uint8_t *der, size_t len, X509 *cert, X509 *issuer, X509 *root,
                     STACK_OF(X509) * untrusted, int64_t at, int64_t grace,
                     struct vt_nv_ocsp_status *ret, struct vt_diag *d)
{
        _cleanup_(OCSP_RESPONSE_freep) OCSP_RESPONSE *resp = NULL;
        _cleanup_(OCSP_BASICRESP_freep) OCSP_BASICRESP *bs = NULL;
        _cleanup_(X509_STORE_freep) X509_STORE *store = NULL;
        ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
        struct vt_nv_ocsp_status st = {.reason = -1};
        char cn[128], why[160];
        const unsigned char *p = der;
        int e;

        if (!der || !cert || !issuer || !root)
                return VT_E_INVAL;
        if (len == 0 || len > VT_NV_OCSP_MAX_BYTES)
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: OCSP response of %zu bytes", len);
        if (grace < 0 || grace > VT_NV_OCSP_MAX_GRACE)
                return VT_E_INVAL;
        resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
        if (!resp || p != der + len) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: not a DER OCSP response");
        }
        int rs = OCSP_response_status(resp);
        if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL)
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: OCSP response status %s (%d)",
                                   OCSP_response_status_str(rs), rs);
        if (!(bs = OCSP_response_get1_basic(resp))) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: OCSP response is not a basic "
                                   "response");
        }
        if ((e = find_status(bs, cert, issuer, &st.status, &st.reason, &thisupd, &nextupd)) < 0)
                return e == VT_E_NOTFOUND
                               ? vt_diag_set(d, e, "nvidia: OCSP response is not about %s",
                                             cn_of(cert, cn, sizeof(cn)))
                               : e;
        /* signature, signer chain to the root at `at`, signer authorised by the issuer */
        if (!(store = X509_STORE_new()) || X509_STORE_add_cert(store, root) != 1)
                return VT_E_NOMEM;
        X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)at);
        if (OCSP_basic_verify(bs, untrusted, store, 0) != 1)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "nvidia: OCSP response about %s: signature or signer not "
                                   "trusted (%s)",
                                   cn_of(cert, cn, sizeof(cn)),
                                   vt_openssl_reason(why, sizeof(why)));
        if (!thisupd || vt_asn1_time_epoch(thisupd, &st.this_update) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: OCSP response without thisUpdate");
        if (nextupd) {
                if (vt_asn1_time_epoch(nextupd, &st.next_update) < 0)
                        return vt_diag_set(d, VT_E_FORMAT, "nvidia: OCSP nextUpdate unreadable");
        } else {
                st.next_update = st.this_update + VT_NV_OCSP_DEFAULT_TTL;
        }
        if (ret)
                *ret = st;
        if (st.status == V_OCSP_CERTSTATUS_REVOKED)
                return vt_diag_set(d, VT_E_REVOKED, "nvidia: OCSP: %s is revoked (reason %s)",
                                   cn_of(cert, cn, sizeof(cn)),
                                   st.reason >= 0 ? OCSP_crl_reason_str(st.reason) : "unspecified");
        if (st.status != V_OCSP_CERTSTATUS_GOOD)
                return vt_diag_set(d, VT_E_REVOKED,
                                   "nvidia: OCSP: status of %s is unknown to the responder",
                                   cn_of(cert, cn, sizeof(cn)));
        if (st.this_update > at + VT_NV_OCSP_SKEW)
                return vt_diag_set(d, VT_E_EXPIRED,
                                   "nvidia: OCSP response about %s is from the future "
                                   "(thisUpdate after the verification time)",
                                   cn_of(cert, cn, sizeof(cn)));
        if (at > st.next_update + grace) {
                char nu[21];
                vt_time_format_rfc3339(st.next_update, nu);
                return vt_diag_set(d, VT_E_EXPIRED,
                                   "nvidia: OCSP response about %s expired: nextUpdate %s + "
                                   "grace %llds is before the verification time",
                                   cn_of(cert, cn, sizeof(cn)), nu, (long long)grace);
        }
        return 0;
}

int vt_nv_ocsp_request(X509 *cert, X509 *issuer, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(OCSP_REQUEST_freep) OCSP_REQUEST *req = OCSP_REQUEST_new();
        OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
        unsigned char *out = NULL;
        if (!req || !id || !OCSP_request_add0_id(req, id)) {
                OCSP_CERTID_free(id);
                ERR_clear_error();
                return VT_E_NOMEM;
        }
        int n = i2d_OCSP_REQUEST(req, &out);
        if (n <= 0) {
                ERR_clear_error();
                return VT_E_CRYPTO;
        }
        *ret = out; /* OPENSSL_malloc'd: callers free with OPENSSL_free */
        *ret_len = (size_t)n;
        return 0;
}
