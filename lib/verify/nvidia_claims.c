/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Claims of a verified NVIDIA report. The evidence claims carry Trustee's names (its `gpu`
 * class: arch, uuid, measurements{"<1-based block>":hex}, config{driver_version,
 * vbios_version, chip_sku, project, project_sku, fwid, measurement_count, nvdec0_status, ...});
 * what Trustee does not appraise (chain, OCSP, RIMs) is said with NVIDIA's x-nvidia-* names
 * (nvtrust local verifier, claims 3.0). See docs/nvidia.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/hex.h"
#include "util/macro.h"
#include "verify/nvidia_internal.h"

enum kind { K_STR, K_HEX, K_CHAR, K_U16, K_COUNTS };

/* How each opaque type appears in config{} (Trustee's names where it has them). */
static const struct {
        unsigned type;
        const char *name;
        enum kind kind;
} config_fields[] = {
        {VT_NV_OPQ_DRIVER_VERSION, "driver_version", K_STR},
        {VT_NV_OPQ_GPU_INFO, "gpu_info", K_HEX},
        {VT_NV_OPQ_NVDEC0_STATUS, "nvdec0_status", K_CHAR},
        {VT_NV_OPQ_MSRSCNT, "measurement_count", K_COUNTS},
        {VT_NV_OPQ_CPRINFO, "cpr_info", K_HEX},
        {VT_NV_OPQ_BOARD_ID, "board_id", K_HEX},
        {VT_NV_OPQ_CHIP_SKU, "chip_sku", K_STR},
        {VT_NV_OPQ_CHIP_SKU_MOD, "chip_sku_mod", K_STR},
        {VT_NV_OPQ_PROJECT, "project", K_STR},
        {VT_NV_OPQ_PROJECT_SKU, "project_sku", K_STR},
        {VT_NV_OPQ_PROJECT_SKU_MOD, "project_sku_mod", K_HEX},
        {VT_NV_OPQ_FWID, "fwid", K_HEX},
        {VT_NV_OPQ_PROTECTED_PCIE_STATUS, "protected_pcie_status", K_CHAR},
        {VT_NV_OPQ_SWITCH_PDI, "switch_pdi", K_HEX},
        {VT_NV_OPQ_FLOORSWEPT_PORTS, "floorswept_ports", K_HEX},
        {VT_NV_OPQ_POSITION_ID, "position_id", K_HEX},
        {VT_NV_OPQ_LOCK_SWITCH_STATUS, "lock_switch_status", K_HEX},
        {VT_NV_OPQ_SWITCH_GPU_PDIS, "switch_gpu_pdis", K_HEX},
        {VT_NV_OPQ_GPU_LINK_CONN, "gpu_link_conn", K_HEX},
        {VT_NV_OPQ_SYS_ENABLE_STATUS, "sys_enable_status", K_HEX},
        {VT_NV_OPQ_OPAQUE_DATA_VERSION, "opaque_data_version", K_U16},
        {VT_NV_OPQ_CHIP_INFO, "chip_info", K_STR},
        {VT_NV_OPQ_FEATURE_FLAG, "feature_flag", K_U16},
        {VT_NV_OPQ_CERT_ISSUER_NAME, "cert_issuer_name", K_HEX},
        {VT_NV_OPQ_CERT_AUTHORITY_KEY_ID, "cert_authority_key_identifier", K_HEX},
        {VT_NV_OPQ_SKU, "sku", K_HEX},
        {VT_NV_OPQ_MANUFACTURER_ID, "manufacturer_id", K_HEX},
        {VT_NV_OPQ_TAMPER_DETECTION, "tamper_detection", K_HEX},
        {VT_NV_OPQ_SMC, "smc", K_HEX},
        {VT_NV_OPQ_VPR, "vpr", K_HEX},
};

static json_t *hex_json(const uint8_t *p, size_t n)
{
        char *s = malloc(2 * n + 1);
        if (!s)
                return NULL;
        vt_hex_encode(p, n, s);
        json_t *j = json_string(s);
        free(s);
        return j;
}

static json_t *field_json(const struct vt_nv_report *rep, unsigned type, enum kind k)
{
        const uint8_t *p;
        size_t n;
        char buf[256];
        if (vt_nv_report_field(rep, type, &p, &n) < 0)
                return NULL;
        switch (k) {
        case K_STR:
                if (vt_nv_report_string(rep, type, buf, sizeof(buf)) == 0)
                        return json_string(buf);
                return hex_json(p, n); /* not printable: say the bytes */
        case K_CHAR:
                /* Trustee decodes the status byte as text: 0x55 -> "U", 0xAA -> hex */
                if (p[0] >= 0x20 && p[0] < 0x7f)
                        return json_stringn((const char *)p, 1);
                return hex_json(p, n);
        case K_U16:
                return json_integer(p[0] | p[1] << 8);
        case K_COUNTS: {
                json_t *o = json_object();
                for (size_t i = 0; o && i + 4 <= n; i += 4) {
                        char key[24];
                        snprintf(key, sizeof(key), "%zu", i / 4 + 1);
                        uint32_t c = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
                                     (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
                        json_object_set_new(o, key, json_integer(c));
                }
                return o;
        }
        case K_HEX:
        default:
                return hex_json(p, n);
        }
}

static const char *arch_claim(enum vt_nv_arch a)
{
        return a == VT_NV_ARCH_HOPPER      ? "Hopper"
               : a == VT_NV_ARCH_BLACKWELL ? "Blackwell"
               : a == VT_NV_ARCH_LS10      ? "LS10"
                                           : "unknown";
}

/* Sets prefix + name to value (a new reference) in o; returns -1 on failure. */
static int xset(json_t *o, const char *prefix, const char *name, json_t *value)
{
        char key[160];
        snprintf(key, sizeof(key), "x-nvidia-%s-%s", prefix, name);
        return value ? json_object_set_new(o, key, value) : -1;
}

static int rim_claims(json_t *o, const char *pfx, const struct vt_nv_rim_outcome *rim)
{
        int bad = 0;
        const struct {
                const char *which;
                bool checked;
        } rims[] = {{"driver", rim->driver_checked}, {"vbios", rim->vbios_checked}};
        for (size_t i = 0; i < ELEMENTSOF(rims); i++) {
                char name[96];
                static const char *const steps[] = {"fetched", "signature-verified",
                                                    "version-match", "measurements-available"};
                for (size_t k = 0; k < ELEMENTSOF(steps); k++) {
                        snprintf(name, sizeof(name), "%s-rim-%s", rims[i].which, steps[k]);
                        bad |= xset(o, pfx, name, json_boolean(rims[i].checked));
                }
        }
        if (rim->driver_id[0])
                bad |= xset(o, pfx, "driver-rim-id", json_string(rim->driver_id));
        if (rim->vbios_id[0])
                bad |= xset(o, pfx, "vbios-rim-id", json_string(rim->vbios_id));
        bad |= xset(o, pfx, "vbios-index-no-conflict",
                    json_boolean(rim->driver_checked && rim->vbios_checked));
        if (rim->manufacturer[0])
                bad |= json_object_set_new(o, "oemid", json_string(rim->manufacturer));
        return bad;
}

int vt_nv_claims(const struct vt_nv_report *rep, const struct vt_nv_chain *c,
                 const struct vt_nv_result *res, const struct vt_nv_rim_outcome *rim,
                 const char *uuid, bool root_pinned, char **ret)
{
        json_t *o = json_object(), *cfg = json_object(), *meas = json_object();
        const char *pfx = c->arch == VT_NV_ARCH_LS10 ? "switch" : "gpu";
        char vb[64];
        int bad = !o || !cfg || !meas;

        for (unsigned i = 0; !bad && i < rep->n_blocks; i++) {
                char key[8];
                snprintf(key, sizeof(key), "%u", rep->blocks[i].index);
                bad |= json_object_set_new(meas, key,
                                           hex_json(rep->blocks[i].value, rep->blocks[i].len));
        }
        for (size_t i = 0; !bad && i < ELEMENTSOF(config_fields); i++) {
                json_t *j = field_json(rep, config_fields[i].type, config_fields[i].kind);
                if (j)
                        bad |= json_object_set_new(cfg, config_fields[i].name, j);
        }
        if (!bad && vt_nv_report_vbios_version(rep, vb, sizeof(vb)) == 0)
                bad |= json_object_set_new(cfg, "vbios_version", json_string(vb));
        if (bad) {
                json_decref(o);
                json_decref(cfg);
                json_decref(meas);
                return VT_E_NOMEM;
        }
        bad |= json_object_set_new(o, "arch", json_string(arch_claim(c->arch)));
        bad |= json_object_set_new(o, "uuid", json_string(uuid ? uuid : ""));
        bad |= json_object_set_new(o, "measurements", meas);
        bad |= json_object_set_new(o, "config", cfg);
        bad |= json_object_set_new(o, "hwmodel", json_string(c->hwmodel));
        bad |= json_object_set_new(o, "ueid", json_string(c->ueid));
        bad |= xset(o, pfx, "attestation-report-parsed", json_true());
        bad |= xset(o, pfx, "attestation-report-nonce-match", json_true());
        bad |= xset(o, pfx, "attestation-report-signature-verified", json_true());
        if (rep->opaque[VT_NV_OPQ_FWID].present)
                bad |= xset(o, pfx, "attestation-report-cert-chain-fwid-match", json_true());
        else /* old firmware: nothing to compare (as nvtrust) */
                bad |= xset(o, pfx, "attestation-report-fwid-absent", json_true());
        bad |= xset(o, pfx, "attestation-report-cert-chain-status", json_string("valid"));
        bad |= xset(o, pfx, "attestation-report-cert-chain-root",
                    json_string(root_pinned ? "NVIDIA Device Identity CA" : "extra (not NVIDIA)"));
        bad |= xset(o, pfx, "attestation-report-cert-chain-ocsp-status",
                    json_string(res->ocsp_checked ? "good" : "not-checked"));
        char drv[96];
        if (vt_nv_report_string(rep, VT_NV_OPQ_DRIVER_VERSION, drv, sizeof(drv)) == 0)
                bad |= xset(o, pfx, "driver-version", json_string(drv));
        if (vt_nv_report_vbios_version(rep, vb, sizeof(vb)) == 0)
                bad |= xset(o, pfx, c->arch == VT_NV_ARCH_LS10 ? "bios-version" : "vbios-version",
                            json_string(vb));
        if (rim)
                bad |= rim_claims(o, pfx, rim);
        bool all = rim && rim->vbios_checked && (c->arch == VT_NV_ARCH_LS10 || rim->driver_checked);
        bad |= json_object_set_new(o, "measres",
                                   json_string(all                ? "success"
                                               : res->rim_checked ? "partial"
                                                                  : "not-appraised"));
        if (rim)
                bad |= xset(o, pfx, "rim-measurements-matched", json_integer(rim->matched));
        if (res->note[0])
                bad |= json_object_set_new(o, "x-nvidia-not-checked", json_string(res->note));
        char *s = bad ? NULL : json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!s)
                return VT_E_NOMEM;
        *ret = s;
        return 0;
}
