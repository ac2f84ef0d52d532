/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON view of a parsed DCAP quote (veritee inspect tdx|sgx): every field. Byte fields
 * are lowercase hex; 64-bit bit fields (attributes, xfam) are "0x" and 16 hex digits,
 * because a JSON number cannot carry bit 63 to every reader.
 */
#include <inttypes.h>
#include <stdio.h>

#include "util/json.h"
#include "veritee/dcap.h"

#define SETJ(o, k, v)                                                                              \
        do {                                                                                       \
                if ((e = vt_json_set((o), (k), (v))) < 0)                                          \
                        return e;                                                                  \
        } while (0)

static json_t *json_u64hex(uint64_t v)
{
        char s[19];
        snprintf(s, sizeof(s), "0x%016" PRIx64, v);
        return json_string(s);
}

static uint64_t le64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

static const struct {
        const char *name;
        unsigned bit;
} sgx_attribute_bits[] = {
        {"init", 0},          {"debug", 1},          {"mode64bit", 2},
        {"provision_key", 4}, {"einittoken_key", 5}, {"kss", 7},
};

static const struct {
        const char *name;
        unsigned bit;
} td_attribute_bits[] = {
        {"debug", 0}, {"sept_ve_disable", 28}, {"pks", 30}, {"kl", 31}, {"perfmon", 63},
};

/* Adds the fields of an SGX report body (the enclave's or the QE's) to o. */
static int sgx_body_json(json_t *o, const struct vt_sgx_report_body *b)
{
        _cleanup_json_ json_t *attr = json_object();
        uint64_t flags = le64(b->attributes), xfrm = le64(b->attributes + 8);
        int e;
        if (!attr)
                return VT_E_NOMEM;
        SETJ(o, "cpusvn", vt_json_hex(b->cpusvn, 16));
        SETJ(o, "miscselect", json_integer(b->miscselect));
        SETJ(o, "isv_ext_prod_id", vt_json_hex(b->isv_ext_prod_id, 16));
        SETJ(attr, "raw", vt_json_hex(b->attributes, 16));
        SETJ(attr, "flags", json_u64hex(flags));
        SETJ(attr, "xfrm", json_u64hex(xfrm));
        for (size_t i = 0; i < ELEMENTSOF(sgx_attribute_bits); i++)
                SETJ(attr, sgx_attribute_bits[i].name,
                     json_boolean((flags >> sgx_attribute_bits[i].bit) & 1));
        SETJ(o, "attributes", json_incref(attr));
        SETJ(o, "mr_enclave", vt_json_hex(b->mr_enclave, 32));
        SETJ(o, "mr_signer", vt_json_hex(b->mr_signer, 32));
        SETJ(o, "config_id", vt_json_hex(b->config_id, 64));
        SETJ(o, "isv_prod_id", json_integer(b->isv_prod_id));
        SETJ(o, "isv_svn", json_integer(b->isv_svn));
        SETJ(o, "config_svn", json_integer(b->config_svn));
        SETJ(o, "isv_family_id", vt_json_hex(b->isv_family_id, 16));
        SETJ(o, "report_data", vt_json_hex(b->report_data, 64));
        return 0;
}

static int td_body_json(json_t *o, const struct vt_td_report_body *b, bool td15)
{
        _cleanup_json_ json_t *attr = json_object();
        int e;
        if (!attr)
                return VT_E_NOMEM;
        SETJ(o, "tee_tcb_svn", vt_json_hex(b->tee_tcb_svn, 16));
        SETJ(o, "mr_seam", vt_json_hex(b->mr_seam, 48));
        SETJ(o, "mr_signer_seam", vt_json_hex(b->mr_signer_seam, 48));
        SETJ(o, "seam_attributes", json_u64hex(b->seam_attributes));
        SETJ(attr, "raw", json_u64hex(b->td_attributes));
        for (size_t i = 0; i < ELEMENTSOF(td_attribute_bits); i++)
                SETJ(attr, td_attribute_bits[i].name,
                     json_boolean((b->td_attributes >> td_attribute_bits[i].bit) & 1));
        SETJ(o, "td_attributes", json_incref(attr));
        SETJ(o, "xfam", json_u64hex(b->xfam));
        SETJ(o, "mr_td", vt_json_hex(b->mr_td, 48));
        SETJ(o, "mr_config_id", vt_json_hex(b->mr_config_id, 48));
        SETJ(o, "mr_owner", vt_json_hex(b->mr_owner, 48));
        SETJ(o, "mr_owner_config", vt_json_hex(b->mr_owner_config, 48));
        for (size_t i = 0; i < 4; i++) {
                char k[8];
                snprintf(k, sizeof(k), "rtmr_%zu", i);
                SETJ(o, k, vt_json_hex(b->rtmr[i], 48));
        }
        SETJ(o, "report_data", vt_json_hex(b->report_data, 64));
        if (td15) {
                SETJ(o, "tee_tcb_svn2", vt_json_hex(b->tee_tcb_svn2, 16));
                SETJ(o, "mr_service_td", vt_json_hex(b->mr_service_td, 48));
        }
        return 0;
}

/* Printable ASCII and line breaks: what a PEM chain is made of. */
static bool is_text(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t')
                        return false;
        }
        return true;
}

/* The PCK certification data. A type 5 chain is shown as text when it is text (some
 * generators put DER there; it is then "pck_chain_hex"). The PPID forms of v3 (types 1-4)
 * are not kept in the struct, so they are shown from raw: they are its last bytes. */
static int cert_data_json(json_t *o, const struct vt_dcap_quote *q)
{
        int e;
        SETJ(o, "pck_cert_type", json_integer(q->pck_cert_type));
        if (q->pck_chain_pem) {
                SETJ(o, "pck_chain_len", json_integer((json_int_t)q->pck_chain_len));
                if (is_text(q->pck_chain_pem, q->pck_chain_len))
                        SETJ(o, "pck_chain_pem", json_stringn(q->pck_chain_pem, q->pck_chain_len));
                else
                        SETJ(o, "pck_chain_hex",
                             vt_json_hex((const uint8_t *)q->pck_chain_pem, q->pck_chain_len));
                return 0;
        }
        /* v3 signature data: sig, AK, QE report, QE report sig, auth size, auth data,
         * type, size, data. */
        size_t off = q->signed_len + 4 + 64 + 64 + VT_SGX_REPORT_SIZE + 64 + 2 + q->qe_auth_len + 6;
        if (q->version == 3 && q->raw && off <= q->raw_len)
                SETJ(o, "cert_data", vt_json_hex(q->raw + off, q->raw_len - off));
        return 0;
}

int vt_dcap_quote_json(const struct vt_dcap_quote *q, char **ret)
{
        _cleanup_json_ json_t *o = json_object(), *qe = json_object();
        static const uint32_t body_sizes[] = {[VT_DCAP_BODY_SGX] = VT_SGX_REPORT_SIZE,
                                              [VT_DCAP_BODY_TD10] = VT_TD10_REPORT_SIZE,
                                              [VT_DCAP_BODY_TD15] = VT_TD15_REPORT_SIZE};
        bool sgx;
        int e;

        if (!q || !ret)
                return VT_E_INVAL;
        if (q->body_type < VT_DCAP_BODY_SGX || q->body_type > VT_DCAP_BODY_TD15)
                return VT_E_INVAL;
        if (!o || !qe)
                return VT_E_NOMEM;
        sgx = q->body_type == VT_DCAP_BODY_SGX;
        SETJ(o, "tee", json_string(sgx ? "sgx" : "tdx"));
        SETJ(o, "version", json_integer(q->version));
        SETJ(o, "att_key_type", json_integer(q->att_key_type));
        SETJ(o, "tee_type", json_integer(q->tee_type));
        SETJ(o, "qe_svn", json_integer(q->qe_svn));
        SETJ(o, "pce_svn", json_integer(q->pce_svn));
        SETJ(o, "qe_vendor_id", vt_json_hex(q->qe_vendor_id, 16));
        SETJ(o, "user_data", vt_json_hex(q->user_data, 20));
        SETJ(o, "body_type", json_integer(q->body_type));
        SETJ(o, "body_size", json_integer(body_sizes[q->body_type]));
        if (sgx)
                e = sgx_body_json(o, &q->sgx);
        else
                e = td_body_json(o, &q->td, q->body_type == VT_DCAP_BODY_TD15);
        if (e < 0)
                return e;
        SETJ(o, "signed_len", json_integer((json_int_t)q->signed_len));
        SETJ(o, "signature", vt_json_hex(q->signature, 64));
        SETJ(o, "attest_key", vt_json_hex(q->attest_key, 64));
        SETJ(o, "cert_data_type", json_integer(q->cert_data_type));
        if ((e = sgx_body_json(qe, &q->qe_report)) < 0)
                return e;
        SETJ(o, "qe_report", json_incref(qe));
        SETJ(o, "qe_report_signature", vt_json_hex(q->qe_report_signature, 64));
        SETJ(o, "qe_auth_data", vt_json_hex(q->qe_auth_data, q->qe_auth_len));
        if ((e = cert_data_json(o, q)) < 0)
                return e;
        SETJ(o, "quote_len", json_integer((json_int_t)q->raw_len));
        SETJ(o, "trailing_zeros", json_integer((json_int_t)q->trailing_zeros));
        return vt_json_dump(o, ret);
}
