/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the host hands an SEV-SNP guest, read on the guest side: the GHCB certificate
 * table (configfs-tsm's auxblob, the certificate buffer of SNP_GET_EXT_REPORT) and the
 * firmware's MSG_REPORT_RSP in the /dev/sev-guest ioctl answer. The host controls these
 * bytes, so they go through vt_rd like any other evidence. Bytes in, views out: no I/O,
 * no hashing. Thread-safe.
 */
#ifndef VT_EVIDENCE_SNP_GUEST_H
#define VT_EVIDENCE_SNP_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "evidence/snp_wire.h"
#include "veritee/veritee.h"

#define VT_SNP_CERT_TABLE_ENTRY_SIZE  24u /* GUID, u32 offset, u32 length */
#define VT_SNP_CERT_TABLE_MAX_ENTRIES 64u

/* vt_snp_cert_table_parse reads a GHCB certificate table: {GUID, u32 offset, u32
 * length} entries up to an all-zero one, offsets from the start of buf. Every entry's
 * offset and length must lie inside buf (VT_E_FORMAT), the terminating entry must come
 * within buf and the first VT_SNP_CERT_TABLE_MAX_ENTRIES entries (VT_E_FORMAT). VCEK,
 * VLEK, ASK and ARK entries of non-zero length go to certs (der points into buf:
 * borrowed), at most cap of them and each at most VT_SNP_WIRE_MAX_CERT_BYTES
 * (VT_E_LIMIT); others (the CRL, unknown GUIDs) are skipped. An empty buffer is an
 * empty table. *ret_n is set only on success; certs may be written on failure. */
int vt_snp_cert_table_parse(const uint8_t *buf, size_t len, struct vt_snp_wire_cert *certs,
                            size_t cap, size_t *ret_n, struct vt_diag *d);

/* MSG_REPORT_RSP (SNP ABI, table "MSG_REPORT_RSP"): u32 status, u32 report_size,
 * 24 reserved bytes, the report at 0x20. */
#define VT_SNP_REPORT_RSP_REPORT_AT            0x20u
#define VT_SNP_REPORT_RSP_STATUS_INVALID_PARAM 0x16u

/* vt_snp_report_rsp_parse reads the MSG_REPORT_RSP the driver copied into the
 * snp_report_resp buffer (len bytes, 4000 for the ioctl) and points *ret_report at the
 * VT_SNP_REPORT_SIZE report bytes inside rsp (borrowed). A non-zero status is VT_E_IO
 * (the firmware refused), a report_size other than VT_SNP_REPORT_SIZE VT_E_FORMAT, a
 * buffer too short for the header or the report VT_E_TRUNCATED. The report itself is
 * not parsed here (vt_snp_report_parse does that). */
int vt_snp_report_rsp_parse(const uint8_t *rsp, size_t len, const uint8_t **ret_report,
                            struct vt_diag *d);

#endif
