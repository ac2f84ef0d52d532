/* SPDX-License-Identifier: Apache-2.0 */
/* NVIDIA verification internals shared by lib/verify/nvidia*.c, the tests and the fuzzers. */
#ifndef VT_VERIFY_NVIDIA_INTERNAL_H
#define VT_VERIFY_NVIDIA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "veritee/nvidia.h"

/* A verified device chain: leaf, BROM, ICA, Identity CA, root (references held). */
struct vt_nv_chain {
        uint8_t key[32];
        uint64_t tick;
        EVP_PKEY *leaf_key;
        X509 *certs[5];
        bool has_fwid;
        uint8_t fwid[VT_NV_FWID_LEN];
        enum vt_nv_arch arch; /* from the leaf's CN: GH1xx, GB1xx, LS_10 */
        char hwmodel[128];    /* CN of the BROM certificate, as NVIDIA's hwmodel claim */
        char ueid[64];        /* the leaf's serial number in decimal, as NVAT's ueid */
};

void vt_nv_chain_done(struct vt_nv_chain *c);

struct vt_nv_verifier;
/* vt_nv_chain_get returns the verified chain from the cache, or verifies and caches it. */
int vt_nv_chain_get(struct vt_nv_verifier *v, const uint8_t *pem, size_t len, int64_t at,
                    struct vt_nv_chain *ret, struct vt_diag *d);

/* vt_nv_leaf_fwid reads the FWID from the leaf's TCG DICE extension: 2.23.133.5.4.1
 * (Hopper, LS10) or DiceTcbInfo 2.23.133.5.4.1.1 fwids[0] (Blackwell). VT_E_CHAIN when the
 * leaf has none (then it is not a device leaf). */
int vt_nv_leaf_fwid(X509 *leaf, uint8_t out[VT_NV_FWID_LEN], struct vt_diag *d);

/* What the RIM appraisal found (lib/verify/nvidia_rims.c). */
struct vt_nv_rim_outcome {
        char driver_id[96], vbios_id[96]; /* VT_NV_RIM_ID_MAX */
        bool driver_checked, vbios_checked;
        unsigned matched, active;
        char manufacturer[16];
};

#define VT_NV_RIM_ID_MAX 96

struct vt_nvrim;
struct vt_nv_rims; /* the RIM sources and the cache of verified RIMs (nvidia_rims.c) */
int vt_nv_rims_new(const char *dir, const char *url, const char *cache_dir, bool allow_missing,
                   struct vt_nv_rims **ret);
void vt_nv_rims_free(struct vt_nv_rims *r);
/* vt_nv_rims_set_root replaces the pinned CoRIM root (tests: a wrong root must fail). */
int vt_nv_rims_set_root(struct vt_nv_rims *r, const uint8_t *pem, size_t len);

/* vt_nv_rim_ids derives the driver and VBIOS (switch BIOS) RIM IDs from the report's signed
 * opaque fields; driver is "" for a switch. */
int vt_nv_rim_ids(const struct vt_nv_report *rep, enum vt_nv_arch arch, char driver[96],
                  char vbios[96], struct vt_diag *d);

/* vt_nv_rim_check compares one verified RIM with a report: colloquialVersion equals version
 * (case-insensitive), every active golden value matches block index+1 (index 35 skipped when
 * NVDEC0 is 0x55). VT_E_POLICY names the failing index. */
int vt_nv_rim_check(const struct vt_nvrim *rim, const char *id, const char *version,
                    const struct vt_nv_report *rep, unsigned *ret_matched, unsigned *ret_active,
                    struct vt_diag *d);

/* vt_nv_rims_appraise loads the report's RIMs and checks them (both, and no index active in
 * both); VT_E_NOTFOUND "reference values unavailable" when one is missing (unless allowed). */
int vt_nv_rims_appraise(struct vt_nv_rims *r, const struct vt_nv_report *rep, enum vt_nv_arch arch,
                        int64_t at, struct vt_nv_rim_outcome *out, struct vt_diag *d);

/* vt_nv_verifier_rims gives the verifier's RIM state (NULL when RIMs are off). */
struct vt_nv_rims *vt_nv_verifier_rims(struct vt_nv_verifier *v);

/* vt_nv_claims builds the claims JSON of a verified report: Trustee's names (arch, uuid,
 * measurements, config{...}) and the x-nvidia-* appraisal claims. rim may be NULL. */
int vt_nv_claims(const struct vt_nv_report *rep, const struct vt_nv_chain *c,
                 const struct vt_nv_result *res, const struct vt_nv_rim_outcome *rim,
                 const char *uuid, bool root_pinned, char **ret);

#endif
