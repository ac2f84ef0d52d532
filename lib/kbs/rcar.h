/* SPDX-License-Identifier: Apache-2.0 */
/* KBS protocol 0.4.0 (RCAR) pieces shared by the broker and the agent. */
#ifndef VT_KBS_RCAR_H
#define VT_KBS_RCAR_H

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

#endif
