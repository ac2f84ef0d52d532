/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA confidential-computing GPU (Hopper, Blackwell) and NVSwitch (LS10) evidence: the
 * SPDM 1.1 GET_MEASUREMENTS request and MEASUREMENTS response a device signs, its opaque
 * data, the JSON forms it travels in (NVAT/nvtrust serialised list, KBS additional evidence),
 * and its verification: ECDSA P-384 by the device leaf, the chain to the pinned NVIDIA Device
 * Identity CA, the FWID binding, OCSP for the intermediates and the RIM golden values.
 * Facts: docs/nvidia.md and ../shared/notes/nvidia-gpu.md.
 */
#ifndef VERITEE_NVIDIA_H
#define VERITEE_NVIDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/ar4si.h"
#include "veritee/veritee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VT_NV_NONCE_LEN      32u
#define VT_NV_SIG_LEN        96u   /* raw r||s, P-384 */
#define VT_NV_REQUEST_LEN    37u   /* GET_MEASUREMENTS with nonce and slot */
#define VT_NV_MAX_REPORT     8192u /* NVML's attestationReport[0x2000] */
#define VT_NV_MAX_BLOCKS     255u
#define VT_NV_MAX_MEAS_LEN   64u /* a measurement value above this is refused */
#define VT_NV_FWID_LEN       48u
#define VT_NV_MAX_DEVICES    16u /* devices in one JSON evidence list (PPCIE: 8 + 4) */
#define VT_NV_OPAQUE_MAX_TYP 36u /* highest opaque type known */

/* Opaque data types (NV OPAQUE_DATA_TYPES, Trustee OpaqueDataType, NVAT). */
enum vt_nv_opaque_type {
        VT_NV_OPQ_CERT_ISSUER_NAME = 1,
        VT_NV_OPQ_CERT_AUTHORITY_KEY_ID = 2,
        VT_NV_OPQ_DRIVER_VERSION = 3,
        VT_NV_OPQ_GPU_INFO = 4,
        VT_NV_OPQ_SKU = 5,
        VT_NV_OPQ_VBIOS_VERSION = 6,
        VT_NV_OPQ_MANUFACTURER_ID = 7,
        VT_NV_OPQ_TAMPER_DETECTION = 8,
        VT_NV_OPQ_SMC = 9,
        VT_NV_OPQ_VPR = 10,
        VT_NV_OPQ_NVDEC0_STATUS = 11,
        VT_NV_OPQ_MSRSCNT = 12,
        VT_NV_OPQ_CPRINFO = 13,
        VT_NV_OPQ_BOARD_ID = 14,
        VT_NV_OPQ_CHIP_SKU = 15,
        VT_NV_OPQ_CHIP_SKU_MOD = 16,
        VT_NV_OPQ_PROJECT = 17,
        VT_NV_OPQ_PROJECT_SKU = 18,
        VT_NV_OPQ_PROJECT_SKU_MOD = 19,
        VT_NV_OPQ_FWID = 20,
        VT_NV_OPQ_PROTECTED_PCIE_STATUS = 21,
        VT_NV_OPQ_SWITCH_PDI = 22,
        VT_NV_OPQ_FLOORSWEPT_PORTS = 23,
        VT_NV_OPQ_POSITION_ID = 24,
        VT_NV_OPQ_LOCK_SWITCH_STATUS = 25,
        VT_NV_OPQ_SWITCH_GPU_PDIS = 26,
        VT_NV_OPQ_GPU_LINK_CONN = 32,
        VT_NV_OPQ_SYS_ENABLE_STATUS = 33,
        VT_NV_OPQ_OPAQUE_DATA_VERSION = 34,
        VT_NV_OPQ_CHIP_INFO = 35,
        VT_NV_OPQ_FEATURE_FLAG = 36,
};

/* vt_nv_opaque_name returns the name of a known opaque type ("DRIVER_VERSION"), else NULL. */
VT_EXPORT const char *vt_nv_opaque_name(unsigned type);

enum vt_nv_arch {
        VT_NV_ARCH_UNKNOWN = 0,
        VT_NV_ARCH_HOPPER,
        VT_NV_ARCH_BLACKWELL,
        VT_NV_ARCH_LS10, /* NVSwitch */
};

/* vt_nv_arch_name: "HOPPER", "BLACKWELL", "LS10" or "UNKNOWN" (the JSON spelling). */
VT_EXPORT const char *vt_nv_arch_name(enum vt_nv_arch a);
/* vt_nv_arch_from_name parses the JSON spelling (case-insensitive). */
VT_EXPORT int vt_nv_arch_from_name(const char *s, enum vt_nv_arch *ret);

/* One measurement block: Index (1-based), the DMTF value type and the value. */
struct vt_nv_block {
        uint8_t index;
        uint8_t value_type; /* bits 6:0 kind (1 mutable firmware), bit 7 raw bit stream */
        uint16_t len;
        uint8_t value[VT_NV_MAX_MEAS_LEN];
};

/* Where an opaque field is in the report (its data, without type and size). */
struct vt_nv_field {
        bool present;
        uint16_t len;
        size_t off; /* offset in the report bytes */
};

/* A parsed report. It owns a copy of the bytes it was parsed from; every offset points
 * into `bytes`. The signed range is bytes[0 .. signed_len). */
struct vt_nv_report {
        uint8_t *bytes;
        size_t len;
        size_t signed_len;  /* 79 + L1 + L2 */
        bool trailing_zero; /* one 0x00 after the signature (seen on real hardware) */
        uint8_t param1, param2, slot;
        uint8_t nonce[VT_NV_NONCE_LEN]; /* request nonce: the challenge */
        uint8_t responder_nonce[VT_NV_NONCE_LEN];
        uint8_t n_blocks; /* NumberOfBlocks */
        uint32_t record_len;
        uint16_t opaque_len;
        size_t opaque_off;
        struct vt_nv_block blocks[VT_NV_MAX_BLOCKS];
        struct vt_nv_field opaque[VT_NV_OPAQUE_MAX_TYP + 1]; /* indexed by type */
        uint8_t sig_r[48], sig_s[48];
};

/* vt_nv_report_parse parses a report (raw bytes, or lowercase/uppercase hex text, optionally
 * ending in whitespace) of at most VT_NV_MAX_REPORT bytes into a new *ret. It checks the
 * SPDM 1.1 request (version 0x11, code 0xE0, signature requested, slot 0) and response
 * (0x11, 0x60), every block (1-based increasing index, DMTF specification 1, the DMTF value
 * filling its block, values up to 64 bytes), the opaque data (vt_nv_opaque_parse), and takes
 * the signed length from the parse: after the 96-byte signature, nothing is accepted but a
 * single 0x00 byte (one real Hopper capture ends with it; it is outside the signed range).
 * VT_E_FORMAT/TRUNCATED/TRAILING name the field and offset. Thread-safe; no I/O. */
VT_EXPORT int vt_nv_report_parse(const uint8_t *buf, size_t len, struct vt_nv_report **ret,
                                 struct vt_diag *diag);
VT_EXPORT void vt_nv_report_free(struct vt_nv_report *r);

/* vt_nv_opaque_parse checks opaque data: repeated {type u16le, size u16le, data}, every type
 * known (vt_nv_opaque_name), none twice, the fixed sizes right (FWID 48, NVDEC0, PPCIE status
 * 1 byte, opaque data version 2 bytes and at most 1, MSRSCNT a multiple of 4), nothing left
 * over. fields[t] (VT_NV_OPAQUE_MAX_TYP + 1 entries) gets each field's place, with offsets
 * counted from base_off. Thread-safe. */
VT_EXPORT int vt_nv_opaque_parse(const uint8_t *p, size_t len, size_t base_off,
                                 struct vt_nv_field *fields, struct vt_diag *diag);

/* Decoded opaque fields. Each returns 0 or VT_E_NOTFOUND when the field is absent. Strings
 * are NUL-terminated printable ASCII (the padding NULs cut; VT_E_FORMAT otherwise). */
VT_EXPORT int vt_nv_report_string(const struct vt_nv_report *r, unsigned type, char *buf,
                                  size_t cap);
/* The VBIOS version as NVIDIA prints it, "96.00.9f.00.01" (GPU: 8 bytes; LS10: ASCII). */
VT_EXPORT int vt_nv_report_vbios_version(const struct vt_nv_report *r, char *buf, size_t cap);
/* A field's bytes (borrowed from r). */
VT_EXPORT int vt_nv_report_field(const struct vt_nv_report *r, unsigned type, const uint8_t **ret,
                                 size_t *ret_len);

/* One device of a JSON evidence list. */
struct vt_nv_device {
        enum vt_nv_arch arch;
        char uuid[80];
        uint8_t *report; /* raw report bytes (decoded from base64 or hex) */
        size_t report_len;
        uint8_t *chain; /* PEM chain text (decoded from base64, or as given) */
        size_t chain_len;
        bool has_nonce;
        uint8_t nonce[VT_NV_NONCE_LEN]; /* the list's own "nonce" (NVAT form), if any */
};

struct vt_nv_evidence {
        size_t n;
        struct vt_nv_device dev[VT_NV_MAX_DEVICES];
};

/* vt_nv_evidence_parse reads evidence JSON in one of the forms devices travel in:
 *  - NVAT/nvtrust serialised: [{"arch","nonce","evidence":b64,"certificate":b64 PEM}, ...]
 *  - KBS additional evidence: {"nvidia":{"device_evidence_list":[{"arch","uuid","evidence":
 *    b64 or hex,"certificate":b64 PEM}]}} (also wrapped as {"additional_evidence":"<that
 *    JSON as a string>"}).
 * At most VT_NV_MAX_DEVICES devices, each report at most VT_NV_MAX_REPORT bytes. The reports
 * are not parsed here. Thread-safe. */
VT_EXPORT int vt_nv_evidence_parse(const char *json, size_t len, struct vt_nv_evidence **ret,
                                   struct vt_diag *diag);
VT_EXPORT void vt_nv_evidence_free(struct vt_nv_evidence *e);

/* ---- verification (lib/verify/nvidia.c) ---- */

/* The verifier: the pinned NVIDIA Device Identity CA (built in), a cache of verified chains
 * (keyed by SHA-256 of the chain bytes, the root and the hour of the verification time),
 * OCSP responses (verified, kept until nextUpdate) and RIMs (verified, by ID and content
 * hash). Configure with vt_nv_verifier_set_* before sharing; after that vt_nv_verify is
 * thread-safe. */
struct vt_nv_verifier;

VT_EXPORT int vt_nv_verifier_new(struct vt_nv_verifier **ret);
VT_EXPORT void vt_nv_verifier_free(struct vt_nv_verifier *v);

enum vt_nv_ocsp_mode {
        VT_NV_OCSP_REQUIRE = 0, /* default: every intermediate needs a good, fresh response */
        VT_NV_OCSP_OFF,         /* --no-ocsp: not checked; claims say so */
};

/* vt_nv_verifier_set_ocsp: the mode, the responder URL (NULL: none, offline responses
 * only; the default is http://ocsp.ndis.nvidia.com) and the grace after nextUpdate in seconds
 * (at most 7 days) during which a response is still accepted. */
VT_EXPORT int vt_nv_verifier_set_ocsp(struct vt_nv_verifier *v, enum vt_nv_ocsp_mode mode,
                                      const char *url, int64_t grace_s);
/* vt_nv_verifier_add_ocsp adds an OCSP response (DER) obtained offline. It is checked when
 * a chain needs it (signature, signer chain, status, window). */
VT_EXPORT int vt_nv_verifier_add_ocsp(struct vt_nv_verifier *v, const uint8_t *der, size_t len,
                                      struct vt_diag *diag);
/* vt_nv_verifier_set_rim: the directory RIMs are read from (files named <ID>, <ID>.xml or
 * <ID>.swidtag; NULL: none), the RIM service base URL (NULL: no fetching; NVIDIA's service is
 * https://rim.attestation.nvidia.com/v1/rim/, a mirror answers the same JSON) and a cache
 * directory where fetched RIMs are kept (NULL: memory only). RIMs are verified against the
 * pinned NVIDIA CoRIM signing Root CA at the verification time and kept in memory by ID and
 * content hash; a source is looked at again after an hour. allow_missing is the operator
 * override for firmware NVIDIA has no RIM for yet: a RIM that cannot be found is then left out
 * (the claims say so) instead of failing with "reference values unavailable"; a RIM that is
 * found must still match. RIM checking is off until this is called with a directory, a URL or
 * a cache directory (offline: the RIMs fetched before). */
VT_EXPORT int vt_nv_verifier_set_rim(struct vt_nv_verifier *v, const char *dir, const char *url,
                                     const char *cache_dir, bool allow_missing);
/* vt_nv_verifier_set_root replaces the pinned root (PEM). For tests with a test-made chain
 * only: the claims then say "x-nvidia-root":"extra (not NVIDIA)". */
VT_EXPORT int vt_nv_verifier_set_root(struct vt_nv_verifier *v, const uint8_t *pem, size_t len,
                                      struct vt_diag *diag);

struct vt_nv_verify_opts {
        const uint8_t *nonce; /* the expected 32-byte request nonce; required */
        int64_t at;           /* verification time (0: now) */
        const char *uuid;     /* the device's UUID for the claims, or NULL */
};

struct vt_nv_result {
        char *claims; /* JSON object with Trustee's names and x-nvidia-* appraisal claims */
        struct vt_ar4si ar4si;
        enum vt_nv_arch arch;
        bool ocsp_checked, rim_checked;
        unsigned rim_matched, rim_active; /* golden values matched / compared */
        char note[256];                   /* what was not checked and why, or "" */
};

/* vt_nv_verify verifies one device's report (raw or hex) against its PEM chain (leaf first):
 * parse, the nonce (constant time), the chain to the pinned root at opts->at (cached), the
 * FWID in the leaf against the report's, ECDSA P-384/SHA-384 over the signed range, OCSP for
 * the intermediates (unless off), the RIMs (when configured). Authenticity failures are
 * errors (VT_E_SIGNATURE, VT_E_CHAIN, VT_E_BINDING for the nonce, VT_E_REVOKED/EXPIRED for
 * OCSP); a RIM mismatch is also an error (VT_E_POLICY naming the index), RIMs that cannot be
 * found VT_E_NOTFOUND ("reference values unavailable"). On success *ret is filled (free with
 * vt_nv_result_done). Thread-safe. */
VT_EXPORT int vt_nv_verify(struct vt_nv_verifier *v, const uint8_t *report, size_t report_len,
                           const uint8_t *chain, size_t chain_len,
                           const struct vt_nv_verify_opts *opts, struct vt_nv_result *ret,
                           struct vt_diag *diag);
VT_EXPORT void vt_nv_result_done(struct vt_nv_result *r);

#ifdef __cplusplus
}
#endif
#endif
