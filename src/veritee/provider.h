/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence providers for the guest agent. Each provider knows one way to get signed
 * evidence from a TEE (the simulator today; configfs-tsm, /dev/sev-guest and the
 * Azure vTPM next) and produces the KBS "primary_evidence" JSON for its tee.
 */
#ifndef VT_AGENT_PROVIDER_H
#define VT_AGENT_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "veritee/veritee.h"

struct vt_provider_opts {
        const char *sim_dir; /* sim: the simulator directory */
        /* sim: the launch digest of the init-data the host would have put in HOST_DATA
         * (on hardware the host sets it at launch; the simulator plays the host) */
        const uint8_t *init_data_digest;
        size_t init_data_digest_len;
};

struct vt_provider {
        const char *name; /* --tee value */
        const char *tee;  /* KBS tee string sent in /auth */
        /* probe returns 0 when usable on this machine, else an error with the reason
         * (what is missing) in d. */
        int (*probe)(const struct vt_provider_opts *o, struct vt_diag *d);
        /* collect returns new primary_evidence JSON whose signed report data is
         * report_data (64 bytes; SNP and TDX take all 64). */
        int (*collect)(const struct vt_provider_opts *o, const uint8_t report_data[64],
                       json_t **ret, struct vt_diag *d);
};

/* vt_provider_find returns the provider named name; "auto" picks the first whose
 * probe succeeds, and fills d with every provider's reason when none does. */
const struct vt_provider *vt_provider_find(const char *name, const struct vt_provider_opts *o,
                                           struct vt_diag *d);

extern const struct vt_provider vt_provider_sim;

#endif
