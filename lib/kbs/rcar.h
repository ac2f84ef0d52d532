/* SPDX-License-Identifier: Apache-2.0 */
/* KBS protocol 0.4.0 (RCAR) pieces shared by the broker and the agent. */
#ifndef VT_KBS_RCAR_H
#define VT_KBS_RCAR_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define VT_KBS_PROTOCOL_VERSION "0.4.0"

/* vt_kbs_device_binding computes what additional devices (GPUs, switches) are bound to:
 * SHA-384(JCS({"nonce": nonce, "tee-pubkey": jwk})), without the additional evidence (which
 * carries their reports). A device's 32-byte request nonce is its first 32 bytes (Trustee's
 * regularize_data); the CPU report data then binds the device evidence itself. */
int vt_kbs_device_binding(const char *nonce, const json_t *jwk, uint8_t out[48]);

/* vt_kbs_runtime_binding computes the report data the TEE must sign:
 * SHA-384(JCS({"additional-evidence": additional, "nonce": nonce, "tee-pubkey": jwk})). */
int vt_kbs_runtime_binding(const char *nonce, const json_t *jwk, const char *additional,
                           uint8_t out[48]);

/* vt_kbs_version_ok says whether a client's "version" meets Trustee's requirement
 * (kbs/src/attestation/backend.rs: semver::VersionReq "=0.4.0"): a SemVer 2.0.0 version
 * (MAJOR.MINOR.PATCH, no leading zeros, optional -pre-release and +build) equal to 0.4.0.
 * Build metadata is ignored ("0.4.0+abc" matches); a pre-release never equals the release
 * ("0.4.0-rc1" does not), nor does any other version ("0.4.1", "0.4", "v0.4.0"). */
bool vt_kbs_version_ok(const char *version);

/* vt_kbs_nonce_equal says whether the nonce a client sent back (got) is its session's
 * challenge (want). The characters are compared in constant time (CRYPTO_memcmp), so the
 * time taken does not tell how long a prefix of a guess was right; only the lengths are
 * compared as usual (a challenge is 44 characters of base64, which is no secret). An empty
 * or NULL nonce equals nothing. */
bool vt_kbs_nonce_equal(const char *want, const char *got);

#endif
