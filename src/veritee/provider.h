/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence providers for the guest agent. Each provider knows one way to get signed
 * evidence from a TEE (configfs-tsm for SNP and TDX, /dev/sev-guest, the Azure vTPM, the
 * simulator) and produces the KBS "primary_evidence" JSON for its tee. docs/providers.md
 * says which of them ran on hardware (none yet) and which only against fakes.
 */
#ifndef VT_AGENT_PROVIDER_H
#define VT_AGENT_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/snp_wire.h"
#include "veritee/veritee.h"

struct vt_provider_opts {
        const char *sim_dir; /* sim: the simulator directory */
        /* sim: the launch digest of the init-data the host would have put in HOST_DATA
         * (on hardware the host sets it at launch; the simulator plays the host) */
        const uint8_t *init_data_digest;
        size_t init_data_digest_len;
        /* configfs-tsm: the report directory (NULL: VT_TSM_DEFAULT_PATH) */
        const char *tsm_path;
        /* sev-guest: the device (NULL: VT_SEV_GUEST_DEFAULT_PATH) */
        const char *sev_guest_path;
        /* az-snp-vtpm: the tpm2-tss TCTI configuration (NULL: VT_VTPM_DEFAULT_TCTI) */
        const char *tcti;
        /* az-snp-vtpm: the VCEK (PEM or DER) instead of asking Azure's IMDS THIM endpoint */
        const char *vcek_file;
        /* az-snp-vtpm: the THIM URL (NULL: VT_VTPM_THIM_URL) */
        const char *thim_url;
        /* az-snp-vtpm: how long to wait for the paravisor to put the report data into the HCL
         * report after it is written to NV 0x01400002 (0: VT_VTPM_HCL_WAIT_MS) */
        unsigned hcl_wait_ms;
};

#define VT_TSM_DEFAULT_PATH       "/sys/kernel/config/tsm/report"
#define VT_SEV_GUEST_DEFAULT_PATH "/dev/sev-guest"
#define VT_VTPM_DEFAULT_TCTI      "device:/dev/tpmrm0"
#define VT_VTPM_THIM_URL          "http://169.254.169.254/metadata/THIM/amd/certification"
#define VT_VTPM_HCL_WAIT_MS       3000u

struct vt_provider {
        const char *name; /* --tee value (several providers may share one: snp) */
        const char
                *via; /* the mechanism: configfs-tsm, sev-guest, vtpm, sim (also a --tee value) */
        const char *tee; /* KBS tee string sent in /auth */
        /* probe returns 0 when usable on this machine, else an error with the reason
         * (what is missing) in d. */
        int (*probe)(const struct vt_provider_opts *o, struct vt_diag *d);
        /* collect returns new primary_evidence JSON whose signed report data is
         * report_data (64 bytes; SNP and TDX take all 64). */
        int (*collect)(const struct vt_provider_opts *o, const uint8_t report_data[64],
                       json_t **ret, struct vt_diag *d);
};

/* vt_provider_find returns the provider named name (its name or its via). When several
 * match (snp: configfs-tsm, then sev-guest) and for "auto" (configfs-tsm, sev-guest,
 * vTPM, sim in this order) it returns the first whose probe succeeds, and fills d with
 * every candidate's reason when none does. A single match is returned unprobed. */
const struct vt_provider *vt_provider_find(const char *name, const struct vt_provider_opts *o,
                                           struct vt_diag *d);

extern const struct vt_provider vt_provider_tsm_snp;
extern const struct vt_provider vt_provider_tsm_tdx;
extern const struct vt_provider vt_provider_sevguest;
extern const struct vt_provider vt_provider_vtpm;
extern const struct vt_provider vt_provider_sim;

/* vt_snp_evidence builds tee "snp" evidence (Trustee's wire JSON) from a report and a
 * GHCB certificate table (may be empty), read by vt_snp_cert_table_parse
 * (lib/evidence/snp_guest.h). */
int vt_snp_evidence(const uint8_t report[VT_SNP_REPORT_SIZE], const uint8_t *table,
                    size_t table_len, json_t **ret, struct vt_diag *d);

/* NVIDIA GPUs (provider_nvml.c, libnvidia-ml through dlopen): vt_nvml_collect asks every
 * GPU for a report with the 32-byte request nonce and its certificate chain, and returns
 * the KBS additional evidence {"nvidia":{"device_evidence_list":[...]}} as JSON text in *ret
 * (malloc'd). Without the library, without confidential computing mode, with DevTools mode
 * or without a GPU it fails and d says which (VT_E_NOTFOUND when there is simply no GPU
 * evidence to give). */
int vt_nvml_collect(const uint8_t nonce[32], char **ret, struct vt_diag *d);
/* The pieces, also used by the tests: one device_evidence_list entry (arch, uuid, the report
 * and the PEM chain in base64), and the additional-evidence text of a list of them. */
int vt_nvml_device_entry(const char *arch, const char *uuid, const uint8_t *report,
                         size_t report_len, const char *chain_pem, size_t chain_len, json_t **ret);
int vt_nvml_additional_evidence(json_t *devices, char **ret);

#endif
