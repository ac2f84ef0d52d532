/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GHCB certificate table and MSG_REPORT_RSP as an SEV-SNP guest receives them from
 * its host (docs/snp.md, shared notes "Linux guest interfaces"): uapi/linux/sev-guest.h,
 * GHCB spec 56421 (the table), SNP ABI 56860 (MSG_REPORT_RSP).
 */
#include "evidence/snp_guest.h"

#include <stdio.h>
#include <string.h>

#include "util/macro.h"
#include "util/rd.h"

/* GUIDs in the byte order of their RFC 4122 string, as go-sev-guest reads them */
static const struct {
        const char *type;
        uint8_t guid[16];
} cert_guids[] = {
        {"VCEK",
         {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
          0xcd}},
        {"VLEK",
         {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
          0xa1}},
        {"ASK",
         {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
          0x82}},
        {"ARK",
         {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
          0xae}},
};

int vt_snp_cert_table_parse(const uint8_t *buf, size_t len, struct vt_snp_wire_cert *certs,
                            size_t cap, size_t *ret_n, struct vt_diag *d)
{
        struct vt_rd table;
        size_t n = 0;
        vt_rd_init(&table, buf, len);
        for (size_t i = 0; len > 0; i++) {
                struct vt_rd entry, end, all, cert;
                uint8_t guid[16];
                uint32_t off, sz;
                if (i >= VT_SNP_CERT_TABLE_MAX_ENTRIES ||
                    vt_rd_sub(&table, VT_SNP_CERT_TABLE_ENTRY_SIZE, &entry) < 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "certificate table: no terminating entry within %zu "
                                           "bytes",
                                           len);
                end = entry;
                if (vt_rd_zero(&end, VT_SNP_CERT_TABLE_ENTRY_SIZE, NULL) == 0)
                        break;
                /* 24 bytes are there: these cannot fail */
                (void)vt_rd_bytes(&entry, guid, sizeof(guid));
                (void)vt_rd_u32le(&entry, &off);
                (void)vt_rd_u32le(&entry, &sz);
                vt_rd_init(&all, buf, len);
                if (vt_rd_skip(&all, off) < 0 || vt_rd_sub(&all, sz, &cert) < 0)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "certificate table entry %zu: offset %u length %u "
                                           "outside the %zu bytes",
                                           i, off, sz, len);
                for (size_t k = 0; k < ELEMENTSOF(cert_guids) && sz > 0; k++) {
                        if (memcmp(guid, cert_guids[k].guid, sizeof(guid)) != 0)
                                continue;
                        if (n >= cap)
                                return vt_diag_set(d, VT_E_LIMIT,
                                                   "certificate table: more than %zu certificates",
                                                   cap);
                        if (sz > VT_SNP_WIRE_MAX_CERT_BYTES)
                                return vt_diag_set(
                                        d, VT_E_LIMIT, "certificate table: %s is %u bytes (cap %u)",
                                        cert_guids[k].type, sz, VT_SNP_WIRE_MAX_CERT_BYTES);
                        memset(&certs[n], 0, sizeof(certs[n]));
                        snprintf(certs[n].type, sizeof(certs[n].type), "%s", cert_guids[k].type);
                        certs[n].der = (uint8_t *)cert.p;
                        certs[n].len = cert.len;
                        n++;
                }
        }
        *ret_n = n;
        return 0;
}

int vt_snp_report_rsp_parse(const uint8_t *rsp, size_t len, const uint8_t **ret_report,
                            struct vt_diag *d)
{
        struct vt_rd r, report;
        uint32_t status, size;
        vt_rd_init(&r, rsp, len);
        if (vt_rd_u32le(&r, &status) < 0 || vt_rd_u32le(&r, &size) < 0 ||
            vt_rd_skip(&r, VT_SNP_REPORT_RSP_REPORT_AT - 8) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "MSG_REPORT_RSP: %zu bytes, shorter than its 0x%x-byte header",
                                   len, VT_SNP_REPORT_RSP_REPORT_AT);
        if (status != 0)
                return vt_diag_set(d, VT_E_IO, "the firmware answered status 0x%x%s", status,
                                   status == VT_SNP_REPORT_RSP_STATUS_INVALID_PARAM
                                           ? " (invalid parameter)"
                                           : "");
        if (size != VT_SNP_REPORT_SIZE)
                return vt_diag_set(d, VT_E_FORMAT, "report_size %u, expected %u", size,
                                   VT_SNP_REPORT_SIZE);
        if (vt_rd_sub(&r, size, &report) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "MSG_REPORT_RSP: the %u-byte report runs past the %zu bytes",
                                   size, len);
        *ret_report = report.p;
        return 0;
}
