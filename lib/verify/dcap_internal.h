/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP internals shared by the collateral, TCB and quote-verification files. */
#ifndef VT_VERIFY_DCAP_INTERNAL_H
#define VT_VERIFY_DCAP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "veritee/dcap.h"

#define VT_INTEL_ROOT_SPKI_XY_HEX                                                                  \
        "0ba9c4c0c0c86193a3fe23d6b02cda10a8bbd4e88e48b4458561a36e705525f5"                         \
        "67918e2edc88e40d860bd0cc4ee26aacc988e505a953558c453f6b0904ae7394"

/* The SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1). */
struct vt_pck_ext {
        uint8_t ppid[16];
        uint8_t comp_svn[16]; /* .2.1 .. .2.16 */
        uint16_t pcesvn;      /* .2.17 */
        uint8_t cpusvn[16];   /* .2.18 */
        uint8_t pce_id[2];
        uint8_t fmspc[6];
        int sgx_type;
};

/* vt_pck_ext_parse reads the SGX extension of a PCK leaf; vt_pck_ext_parse_der reads
 * the extension's value (the DER inside its OCTET STRING). VT_E_FORMAT when an item
 * is missing or malformed; *ret is set only on success. */
int vt_pck_ext_parse(X509 *pck, struct vt_pck_ext *ret, struct vt_diag *d);
int vt_pck_ext_parse_der(const uint8_t *p, size_t n, struct vt_pck_ext *ret, struct vt_diag *d);

/* vt_intel_root_is_pinned returns true if x is the Intel SGX Root CA by public key. */
bool vt_intel_root_is_pinned(X509 *x);

/* Collateral after vt_dcap_collateral_verify: chains to the pinned root, CRLs,
 * signatures over the exact bytes, windows at time at. Fills earliest expiry. */
int vt_dcap_collateral_verify(const struct vt_dcap_collateral *c, int64_t at,
                              int64_t *ret_earliest_expiry, struct vt_diag *d);

/* The CRLs of the collateral, for the PCK chain checks (borrowed). */
X509_CRL *vt_dcap_collateral_root_crl(const struct vt_dcap_collateral *c);
X509_CRL *vt_dcap_collateral_pck_crl(const struct vt_dcap_collateral *c);

/* vt_dcap_tcb_evaluate applies TCB info and QE identity to a verified quote: FMSPC and
 * PCE id match, TDX module identity (tee_tcb_svn[1]), QE identity (mrsigner, isvprodid,
 * masked miscselect/attributes, QE TCB level), platform TCB level (SGX components and
 * PCESVN from the PCK extension; TDX components from tee_tcb_svn, skipping 0 and 1 when a
 * module identity applies), status merge (module, QE, TD relaunch) and advisory IDs.
 * "No matching TCB level" is VT_E_TCB naming the component that falls short. */
int vt_dcap_tcb_evaluate(const struct vt_dcap_collateral *c, const struct vt_dcap_quote *q,
                         const struct vt_pck_ext *pck, struct vt_dcap_result *ret,
                         struct vt_diag *d);

#endif
