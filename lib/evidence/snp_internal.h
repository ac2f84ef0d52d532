/* SPDX-License-Identifier: Apache-2.0 */
/* Internal SNP helpers shared by lib/evidence, lib/verify and lib/attest. */
#ifndef VT_EVIDENCE_SNP_INTERNAL_H
#define VT_EVIDENCE_SNP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/snp.h"

/* vt_snp_tcb_decode splits a raw TCB_VERSION with the Turin or the older layout. */
void vt_snp_tcb_decode(uint64_t raw, bool turin, struct vt_snp_tcb *ret);
/* vt_snp_report_set_layout re-decodes every TCB of r with the given layout. */
void vt_snp_report_set_layout(struct vt_snp_report *r, bool turin);
/* vt_snp_product_from_cpuid maps CPUID family/model to a product (UNKNOWN if none). */
enum vt_snp_product vt_snp_product_from_cpuid(uint8_t fam, uint8_t model);
/* vt_snp_claims returns the flat claims of r as a new object in *ret: the tree whose compact
 * text, in member order, vt_snp_claims_json returns (an attestation builds its claims on it
 * without that text's round trip). */
int vt_snp_claims(const struct vt_snp_report *r, json_t **ret);

#endif
