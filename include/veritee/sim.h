/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TEE simulator: an honest, labelled trust root. It makes an AMD-shaped chain
 * (RSA-4096 RSASSA-PSS/SHA-384 root and intermediate whose names say "veritee
 * simulator", P-384 VCEKs with the TCB and hwID extensions) and signs real
 * version-3 SEV-SNP reports with it, so that every verification code path runs
 * without hardware. A verifier trusts it only after vt_snp_verifier_add_root() with
 * the simulator's root bundle; results then have root_builtin == false.
 *
 * Directory layout (created by vt_sim_init, keys 0600):
 *   root.pem       ARK + ASK certificates (the bundle to trust)
 *   ark.key, ask.key   the root and intermediate private keys (PEM)
 *   guest.json     the simulated guest (measurement, policy, tcb, chip_id, ...)
 *   vcek-<tcb>.pem/.key   VCEKs issued on demand, one per reported TCB
 */
#ifndef VERITEE_SIM_H
#define VERITEE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/snp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vt_sim_guest {
        uint8_t measurement[48];
        uint8_t host_data[32];
        uint8_t family_id[16], image_id[16];
        uint8_t chip_id[64];
        uint64_t policy; /* guest policy bits; default 0x30000 (SMT allowed, bit 17) */
        uint32_t guest_svn;
        uint32_t vmpl;
        uint8_t bootloader, tee, snp, microcode; /* reported = current = committed TCB */
};

/* vt_sim_init creates the simulator in dir (created if missing, mode 0700): a new
 * root and intermediate, and a guest with a random chip id and measurement. Refuses
 * (VT_E_INVAL) to overwrite an existing simulator unless force. */
VT_EXPORT int vt_sim_init(const char *dir, bool force, struct vt_diag *d);

/* vt_sim_load_guest reads dir/guest.json. */
VT_EXPORT int vt_sim_load_guest(const char *dir, struct vt_sim_guest *ret, struct vt_diag *d);

/* vt_sim_report signs a version-3 Milan-layout report for g with report_data,
 * issuing (and keeping in dir) a VCEK for g's TCB and chip id if there is none yet.
 * Writes the 1184 bytes to out and a malloc'd PEM chain (VCEK, ASK, ARK) to
 * *ret_chain_pem. */
VT_EXPORT int vt_sim_report(const char *dir, const struct vt_sim_guest *g,
                            const uint8_t report_data[64], uint8_t out[VT_SNP_REPORT_SIZE],
                            char **ret_chain_pem, struct vt_diag *d);

/* vt_sim_root_path writes dir + "/root.pem" into a malloc'd string. */
VT_EXPORT int vt_sim_root_path(const char *dir, char **ret);

#ifdef __cplusplus
}
#endif
#endif
