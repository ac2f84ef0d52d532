/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA reference integrity manifests (RIMs): SWID tags with an enveloped XML-DSig
 * (C14N 1.1, SHA-384, ECDSA P-384) that list, per measurement index, the golden values a
 * GPU, its VBIOS or an NVSwitch BIOS may report. See ../shared/notes/nvidia-gpu.md §3.2.
 *
 * The RIM module owns everything XML; the GPU verifier (lib/verify/nvidia.c) hands it the
 * measurements it parsed from a signed SPDM report and gets back which index failed.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "veritee/veritee.h"

#define VT_NVRIM_MAX_INDEX  256 /* RIM indices are 0-based; SPDM block = index + 1 */
#define VT_NVRIM_MAX_DIGEST 64

struct vt_nvrim; /* opaque: a verified RIM */

/* One measurement from the report: RIM index (SPDM block index - 1) and its digest. */
struct vt_nvrim_meas {
        unsigned index;
        size_t len;
        uint8_t digest[VT_NVRIM_MAX_DIGEST];
};

/*
 * vt_nvrim_load parses the RIM XML (no network, no entity expansion, bounded size), checks
 * the enveloped signature (Reference URI="", C14N 1.1, SHA-384 digest, ecdsa-sha384) with
 * the leaf of the KeyInfo certificates, and the chain of those certificates to `root`
 * (the pinned NVIDIA CoRIM signing root; the only trust anchor) valid at time `at`.
 * Errors: VT_E_FORMAT (not a RIM, names the element), VT_E_SIGNATURE (digest or signature),
 * VT_E_CHAIN (chain or validity window), with the failed check in `d`.
 */
int vt_nvrim_load(const uint8_t *xml, size_t len, X509 *root, time_t at, struct vt_nvrim **ret,
                  struct vt_diag *d);
void vt_nvrim_free(struct vt_nvrim *rim);

/* The SWID tag's tagId, Meta colloquialVersion and FirmwareManufacturerId (borrowed). */
const char *vt_nvrim_tag_id(const struct vt_nvrim *rim);
const char *vt_nvrim_version(const struct vt_nvrim *rim);
const char *vt_nvrim_manufacturer_id(const struct vt_nvrim *rim);
/* 1 if index `i` has an active golden value in this RIM, else 0. */
int vt_nvrim_active(const struct vt_nvrim *rim, unsigned i);
/* vt_nvrim_alternatives returns how many golden values index `i` lists (active or not;
 * 0 if the RIM has no entry for i). vt_nvrim_golden points *ret (borrowed from rim) at
 * alternative `alt` of index `i` and sets *ret_len; VT_E_NOTFOUND if there is none. For
 * claims and tests. */
unsigned vt_nvrim_alternatives(const struct vt_nvrim *rim, unsigned i);
int vt_nvrim_golden(const struct vt_nvrim *rim, unsigned i, unsigned alt, const uint8_t **ret,
                    size_t *ret_len);

/*
 * vt_nvrim_match checks that every active golden value of `rim` equals one of its
 * alternatives in the measurement of `m` with the same index (same length), except at the
 * indices set in `skip` (a bitmap of VT_NVRIM_MAX_INDEX bits, may be NULL; e.g. index 35
 * when NVDEC0 is disabled), which are not compared.
 * VT_E_POLICY names the first failing index ("rim NAME: index 9 matches none of its 1
 * alternatives") or a missing measurement. *ret_matched (may be NULL) counts matches.
 */
int vt_nvrim_match(const struct vt_nvrim *rim, const struct vt_nvrim_meas *m, size_t n,
                   const uint8_t *skip, unsigned *ret_matched, struct vt_diag *d);

/* Driver and VBIOS RIMs must not both have an active value at one index:
 * VT_E_POLICY naming the index if they do. */
int vt_nvrim_no_conflict(const struct vt_nvrim *a, const struct vt_nvrim *b, struct vt_diag *d);
