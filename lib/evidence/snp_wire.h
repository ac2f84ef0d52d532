/* SPDX-License-Identifier: Apache-2.0 */
/* Trustee's SNP evidence JSON <-> report bytes and certificates. */
#ifndef VT_EVIDENCE_SNP_WIRE_H
#define VT_EVIDENCE_SNP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/json_parse.h"
#include "veritee/snp.h"

#define VT_SNP_WIRE_MAX_CERTS      6
#define VT_SNP_WIRE_MAX_CERT_BYTES (16u * 1024u)

struct vt_snp_wire_cert {
        char type[16]; /* "VCEK", "VLEK", "ASK", "ARK", ... as sent */
        uint8_t *der;
        size_t len;
};

struct vt_snp_wire {
        uint8_t report[VT_SNP_REPORT_SIZE];
        struct vt_snp_wire_cert certs[VT_SNP_WIRE_MAX_CERTS];
        size_t n_certs;
};

/* vt_snp_wire_decode rebuilds the report bytes and copies the certificates. The
 * caller releases *ret with vt_snp_wire_done. */
int vt_snp_wire_decode(const json_t *evidence, struct vt_snp_wire *ret, struct vt_diag *d);
/* vt_snp_wire_decode_spans is vt_snp_wire_decode (the same result and errors) for evidence
 * parsed with vt_json_parse_spans: the byte arrays recorded in spans (may be NULL) are
 * copied from the bytes the parse kept. */
int vt_snp_wire_decode_spans(const json_t *evidence, const struct vt_json_spans *spans,
                             struct vt_snp_wire *ret, struct vt_diag *d);
void vt_snp_wire_done(struct vt_snp_wire *w);
/* vt_snp_wire_find returns the first certificate of the given type, or NULL. */
const struct vt_snp_wire_cert *vt_snp_wire_find(const struct vt_snp_wire *w, const char *type);

/* vt_snp_wire_encode is the inverse: the wire JSON for a report and certificates
 * (checked to decode back to the same bytes). */
int vt_snp_wire_encode(const uint8_t report[VT_SNP_REPORT_SIZE],
                       const struct vt_snp_wire_cert *certs, size_t n_certs, json_t **ret);

#endif
