/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VT_VERIFY_AMD_ROOTS_H
#define VT_VERIFY_AMD_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "veritee/snp.h"

struct vt_amd_root {
        enum vt_snp_product product;
        const char *ark_pem, *ask_pem, *asvk_pem;
        uint8_t ark_sha256[32]; /* pin: SHA-256 of the ARK's DER encoding */
};

extern const struct vt_amd_root vt_amd_roots[];
extern const size_t vt_amd_roots_count;

#endif
