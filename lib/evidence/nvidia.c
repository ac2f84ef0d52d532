/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA GPU / NVSwitch evidence parser: the SPDM 1.1 GET_MEASUREMENTS request (37 bytes)
 * followed by the MEASUREMENTS response, its measurement blocks and opaque data, and the JSON
 * forms the reports travel in. Bytes in, struct out; no I/O, no keys, no hashing.
 * Layout: docs/nvidia.md, ../shared/notes/nvidia-gpu.md §2.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"
#include "util/rd.h"
#include "veritee/nvidia.h"

#define SPDM_VERSION_11       0x11
#define SPDM_GET_MEASUREMENTS 0xe0
#define SPDM_MEASUREMENTS     0x60
#define DMTF_SPEC             0x01

static const char *const opaque_names[VT_NV_OPAQUE_MAX_TYP + 1] = {
        [VT_NV_OPQ_CERT_ISSUER_NAME] = "CERT_ISSUER_NAME",
        [VT_NV_OPQ_CERT_AUTHORITY_KEY_ID] = "CERT_AUTHORITY_KEY_IDENTIFIER",
        [VT_NV_OPQ_DRIVER_VERSION] = "DRIVER_VERSION",
        [VT_NV_OPQ_GPU_INFO] = "GPU_INFO",
        [VT_NV_OPQ_SKU] = "SKU",
        [VT_NV_OPQ_VBIOS_VERSION] = "VBIOS_VERSION",
        [VT_NV_OPQ_MANUFACTURER_ID] = "MANUFACTURER_ID",
        [VT_NV_OPQ_TAMPER_DETECTION] = "TAMPER_DETECTION",
        [VT_NV_OPQ_SMC] = "SMC",
        [VT_NV_OPQ_VPR] = "VPR",
        [VT_NV_OPQ_NVDEC0_STATUS] = "NVDEC0_STATUS",
        [VT_NV_OPQ_MSRSCNT] = "MSRSCNT",
        [VT_NV_OPQ_CPRINFO] = "CPRINFO",
        [VT_NV_OPQ_BOARD_ID] = "BOARD_ID",
        [VT_NV_OPQ_CHIP_SKU] = "CHIP_SKU",
        [VT_NV_OPQ_CHIP_SKU_MOD] = "CHIP_SKU_MOD",
        [VT_NV_OPQ_PROJECT] = "PROJECT",
        [VT_NV_OPQ_PROJECT_SKU] = "PROJECT_SKU",
        [VT_NV_OPQ_PROJECT_SKU_MOD] = "PROJECT_SKU_MOD",
        [VT_NV_OPQ_FWID] = "FWID",
        [VT_NV_OPQ_PROTECTED_PCIE_STATUS] = "PROTECTED_PCIE_STATUS",
        [VT_NV_OPQ_SWITCH_PDI] = "SWITCH_PDI",
        [VT_NV_OPQ_FLOORSWEPT_PORTS] = "FLOORSWEPT_PORTS",
        [VT_NV_OPQ_POSITION_ID] = "POSITION_ID",
        [VT_NV_OPQ_LOCK_SWITCH_STATUS] = "LOCK_SWITCH_STATUS",
        [VT_NV_OPQ_SWITCH_GPU_PDIS] = "SWITCH_GPU_PDIS",
        [VT_NV_OPQ_GPU_LINK_CONN] = "GPU_LINK_CONN",
        [VT_NV_OPQ_SYS_ENABLE_STATUS] = "SYS_ENABLE_STATUS",
        [VT_NV_OPQ_OPAQUE_DATA_VERSION] = "OPAQUE_DATA_VERSION",
        [VT_NV_OPQ_CHIP_INFO] = "CHIP_INFO",
        [VT_NV_OPQ_FEATURE_FLAG] = "FEATURE_FLAG",
};

const char *vt_nv_opaque_name(unsigned type)
{
        return type <= VT_NV_OPAQUE_MAX_TYP ? opaque_names[type] : NULL;
}

const char *vt_nv_arch_name(enum vt_nv_arch a)
{
        switch (a) {
        case VT_NV_ARCH_HOPPER:
                return "HOPPER";
        case VT_NV_ARCH_BLACKWELL:
                return "BLACKWELL";
        case VT_NV_ARCH_LS10:
                return "LS10";
        default:
                return "UNKNOWN";
        }
}

int vt_nv_arch_from_name(const char *s, enum vt_nv_arch *ret)
{
        static const enum vt_nv_arch all[] = {VT_NV_ARCH_HOPPER, VT_NV_ARCH_BLACKWELL,
                                              VT_NV_ARCH_LS10};
        if (!s)
                return VT_E_INVAL;
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (strcasecmp(s, vt_nv_arch_name(all[i])) == 0) {
                        *ret = all[i];
                        return 0;
                }
        return VT_E_NOTFOUND;
}

/* A fixed size for the types whose encoding the notes pin down; 0: any size. */
static unsigned opaque_fixed_size(unsigned t)
{
        switch (t) {
        case VT_NV_OPQ_FWID:
                return VT_NV_FWID_LEN;
        case VT_NV_OPQ_NVDEC0_STATUS:
        case VT_NV_OPQ_PROTECTED_PCIE_STATUS:
                return 1;
        case VT_NV_OPQ_OPAQUE_DATA_VERSION:
        case VT_NV_OPQ_FEATURE_FLAG:
                return 2;
        default:
                return 0;
        }
}

int vt_nv_opaque_parse(const uint8_t *p, size_t len, size_t base_off, struct vt_nv_field *fields,
                       struct vt_diag *d)
{
        struct vt_rd r;
        struct vt_nv_field f[VT_NV_OPAQUE_MAX_TYP + 1] = {0};

        vt_rd_init(&r, p, len);
        while (vt_rd_left(&r) > 0) {
                size_t at = r.off;
                uint16_t type, size;
                struct vt_rd data;
                if (vt_rd_u16le(&r, &type) < 0 || vt_rd_u16le(&r, &size) < 0)
                        return vt_diag_set(d, VT_E_TRUNCATED,
                                           "nvidia: opaque data: field header at offset %zu "
                                           "truncated",
                                           base_off + at);
                if (vt_rd_sub(&r, size, &data) < 0)
                        return vt_diag_set(d, VT_E_TRUNCATED,
                                           "nvidia: opaque data: type %u at offset %zu announces "
                                           "%u bytes, %zu left",
                                           type, base_off + at, size, vt_rd_left(&r));
                const char *name = vt_nv_opaque_name(type);
                if (!name)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "nvidia: opaque data: unknown type %u at offset %zu",
                                           type, base_off + at);
                if (f[type].present)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "nvidia: opaque data: %s (type %u) appears twice", name,
                                           type);
                unsigned fixed = opaque_fixed_size(type);
                if ((fixed && size != fixed) || (type == VT_NV_OPQ_MSRSCNT && size % 4) ||
                    size == 0)
                        return vt_diag_set(d, VT_E_FORMAT, "nvidia: opaque data: %s has %u bytes%s",
                                           name, size, fixed ? ", expected a fixed size" : "");
                if (type == VT_NV_OPQ_OPAQUE_DATA_VERSION) {
                        uint16_t ver;
                        struct vt_rd vr = data;
                        (void)vt_rd_u16le(&vr, &ver);
                        if (ver > 1)
                                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                                   "nvidia: opaque data version %u (at most 1 "
                                                   "is known)",
                                                   ver);
                }
                f[type] = (struct vt_nv_field){
                        .present = true, .len = size, .off = base_off + at + 4};
        }
        memcpy(fields, f, sizeof(f));
        return 0;
}

/* Turns hex text (optionally followed by whitespace) into bytes; VT_E_FORMAT if it is not. */
static int hex_text(const uint8_t *buf, size_t len, uint8_t **ret, size_t *ret_len)
{
        while (len > 0 && isspace(buf[len - 1]))
                len--;
        if (len == 0 || len % 2 || len / 2 > VT_NV_MAX_REPORT)
                return VT_E_FORMAT;
        _cleanup_free_ uint8_t *out = malloc(len / 2);
        if (!out)
                return VT_E_NOMEM;
        for (size_t i = 0; i < len; i += 2) {
                int v = 0;
                for (size_t k = 0; k < 2; k++) {
                        int c = buf[i + k], n;
                        if (c >= '0' && c <= '9')
                                n = c - '0';
                        else if (c >= 'a' && c <= 'f')
                                n = c - 'a' + 10;
                        else if (c >= 'A' && c <= 'F')
                                n = c - 'A' + 10;
                        else
                                return VT_E_FORMAT;
                        v = v << 4 | n;
                }
                out[i / 2] = (uint8_t)v;
        }
        *ret = TAKE_PTR(out);
        *ret_len = len / 2;
        return 0;
}

void vt_nv_report_free(struct vt_nv_report *r)
{
        if (!r)
                return;
        free(r->bytes);
        free(r);
}

static void report_freep(struct vt_nv_report **r)
{
        vt_nv_report_free(*r);
}

/* The 37-byte request: version, code, "signature requested", all blocks, nonce, slot 0. */
static int parse_request(struct vt_rd *r, struct vt_nv_report *rep, struct vt_diag *d)
{
        uint8_t ver, code;
        if (vt_rd_u8(r, &ver) < 0 || vt_rd_u8(r, &code) < 0 || vt_rd_u8(r, &rep->param1) < 0 ||
            vt_rd_u8(r, &rep->param2) < 0 || vt_rd_bytes(r, rep->nonce, VT_NV_NONCE_LEN) < 0 ||
            vt_rd_u8(r, &rep->slot) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "nvidia: report: GET_MEASUREMENTS request truncated (%zu "
                                   "bytes, 37 needed)",
                                   r->off);
        if (ver != SPDM_VERSION_11)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: request SPDM version 0x%02x (only 0x11, SPDM "
                                   "1.1, is accepted)",
                                   ver);
        if (code != SPDM_GET_MEASUREMENTS)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: request code 0x%02x is not GET_MEASUREMENTS "
                                   "(0xe0)",
                                   code);
        if (!(rep->param1 & 0x01))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: request param1 0x%02x does not ask for a "
                                   "signature",
                                   rep->param1);
        if (rep->slot != 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: request slot %u (only slot 0 is used)",
                                   rep->slot);
        return 0;
}

/* One measurement block: Index, MeasurementSpecification, MeasurementSize, then the DMTF
 * measurement {ValueType, ValueSize, Value} filling it exactly. */
static int parse_block(struct vt_rd *rec, unsigned nr, unsigned prev_index, struct vt_nv_block *b,
                       struct vt_diag *d)
{
        uint8_t spec;
        uint16_t msize, vsize;
        struct vt_rd m;
        size_t at = 45 + rec->off;

        if (vt_rd_u8(rec, &b->index) < 0 || vt_rd_u8(rec, &spec) < 0 ||
            vt_rd_u16le(rec, &msize) < 0 || vt_rd_sub(rec, msize, &m) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "nvidia: report: measurement block %u at offset %zu truncated",
                                   nr, at);
        if (b->index == 0 || b->index <= prev_index)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: measurement block %u has index %u (indices "
                                   "start at 1 and increase)",
                                   nr, b->index);
        if (spec != DMTF_SPEC)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: block %u measurement specification 0x%02x "
                                   "(only 1, DMTF, is accepted)",
                                   b->index, spec);
        if (vt_rd_u8(&m, &b->value_type) < 0 || vt_rd_u16le(&m, &vsize) < 0 ||
            vsize != vt_rd_left(&m))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: block %u: DMTF value does not fill its %u "
                                   "bytes",
                                   b->index, msize);
        if (vsize > VT_NV_MAX_MEAS_LEN)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: block %u value of %u bytes (at most %u)",
                                   b->index, vsize, VT_NV_MAX_MEAS_LEN);
        b->len = vsize;
        (void)vt_rd_bytes(&m, b->value, vsize);
        return 0;
}

static int parse_response(struct vt_rd *r, struct vt_nv_report *rep, struct vt_diag *d)
{
        uint8_t ver, code, p1, p2, l1b[3];
        struct vt_rd rec, opq;

        if (vt_rd_u8(r, &ver) < 0 || vt_rd_u8(r, &code) < 0 || vt_rd_u8(r, &p1) < 0 ||
            vt_rd_u8(r, &p2) < 0 || vt_rd_u8(r, &rep->n_blocks) < 0 || vt_rd_bytes(r, l1b, 3) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "nvidia: report: MEASUREMENTS header truncated");
        if (ver != SPDM_VERSION_11)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: response SPDM version 0x%02x (only 0x11)", ver);
        if (code != SPDM_MEASUREMENTS)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: response code 0x%02x is not MEASUREMENTS "
                                   "(0x60)",
                                   code);
        rep->record_len = (uint32_t)l1b[0] | (uint32_t)l1b[1] << 8 | (uint32_t)l1b[2] << 16;
        if (vt_rd_sub(r, rep->record_len, &rec) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "nvidia: report: measurement record of %u bytes runs past the "
                                   "report",
                                   rep->record_len);
        unsigned prev = 0;
        for (unsigned i = 0; i < rep->n_blocks; i++) {
                int e = parse_block(&rec, i + 1, prev, &rep->blocks[i], d);
                if (e < 0)
                        return e;
                prev = rep->blocks[i].index;
        }
        if (vt_rd_left(&rec))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: report: %zu bytes after the %u measurement blocks",
                                   vt_rd_left(&rec), rep->n_blocks);
        if (vt_rd_bytes(r, rep->responder_nonce, VT_NV_NONCE_LEN) < 0 ||
            vt_rd_u16le(r, &rep->opaque_len) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "nvidia: report: responder nonce or opaque length truncated");
        rep->opaque_off = r->off;
        if (vt_rd_sub(r, rep->opaque_len, &opq) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "nvidia: report: opaque data of %u bytes runs past the report",
                                   rep->opaque_len);
        return vt_nv_opaque_parse(opq.p, opq.len, rep->opaque_off, rep->opaque, d);
}

int vt_nv_report_parse(const uint8_t *buf, size_t len, struct vt_nv_report **ret, struct vt_diag *d)
{
        _cleanup_(report_freep) struct vt_nv_report *rep = NULL;
        struct vt_rd r;
        int e;

        if (!buf || !ret)
                return VT_E_INVAL;
        if (!(rep = calloc(1, sizeof(*rep))))
                return VT_E_NOMEM;
        if (len > 0 && buf[0] != SPDM_VERSION_11) {
                /* not a raw report: hex text */
                if ((e = hex_text(buf, len, &rep->bytes, &rep->len)) < 0)
                        return vt_diag_set(d, e,
                                           "nvidia: report is neither SPDM 1.1 bytes nor hex "
                                           "(first byte 0x%02x)",
                                           buf[0]);
        } else {
                if (len > VT_NV_MAX_REPORT)
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "nvidia: report of %zu bytes (at most %u)", len,
                                           VT_NV_MAX_REPORT);
                if (!(rep->bytes = malloc(len ? len : 1)))
                        return VT_E_NOMEM;
                memcpy(rep->bytes, buf, len);
                rep->len = len;
        }
        vt_rd_init(&r, rep->bytes, rep->len);
        if ((e = parse_request(&r, rep, d)) < 0 || (e = parse_response(&r, rep, d)) < 0)
                return e;
        rep->signed_len = r.off;
        if (vt_rd_bytes(&r, rep->sig_r, 48) < 0 || vt_rd_bytes(&r, rep->sig_s, 48) < 0)
                return vt_diag_set(d, VT_E_TRUNCATED,
                                   "nvidia: report: signature truncated (%zu of 96 bytes)",
                                   rep->len - rep->signed_len);
        /* One 0x00 after the signature occurs on a real capture (Trustee's CoCo CI report):
         * accept exactly that, outside the signed range, and nothing else. */
        if (vt_rd_left(&r) == 1 && r.p[0] == 0x00) {
                rep->trailing_zero = true;
                (void)vt_rd_skip(&r, 1);
        }
        if (vt_rd_done(&r) < 0)
                return vt_diag_set(d, VT_E_TRAILING,
                                   "nvidia: report: %zu bytes after the signature (only a single "
                                   "0x00 is tolerated)",
                                   vt_rd_left(&r));
        *ret = TAKE_PTR(rep);
        return 0;
}

int vt_nv_report_field(const struct vt_nv_report *r, unsigned type, const uint8_t **ret,
                       size_t *ret_len)
{
        if (type > VT_NV_OPAQUE_MAX_TYP || !r->opaque[type].present)
                return VT_E_NOTFOUND;
        *ret = r->bytes + r->opaque[type].off;
        *ret_len = r->opaque[type].len;
        return 0;
}

int vt_nv_report_string(const struct vt_nv_report *r, unsigned type, char *buf, size_t cap)
{
        const uint8_t *p;
        size_t n;
        if (vt_nv_report_field(r, type, &p, &n) < 0)
                return VT_E_NOTFOUND;
        while (n > 0 && p[n - 1] == 0)
                n--;
        if (n + 1 > cap)
                return VT_E_LIMIT;
        for (size_t i = 0; i < n; i++)
                if (p[i] < 0x20 || p[i] > 0x7e)
                        return VT_E_FORMAT;
        memcpy(buf, p, n);
        buf[n] = 0;
        return 0;
}

int vt_nv_report_vbios_version(const struct vt_nv_report *r, char *buf, size_t cap)
{
        const uint8_t *p;
        size_t n;
        if (vt_nv_report_field(r, VT_NV_OPQ_VBIOS_VERSION, &p, &n) < 0)
                return VT_E_NOTFOUND;
        if (n != 8) /* LS10: ASCII "96.10.55.00.01" */
                return vt_nv_report_string(r, VT_NV_OPQ_VBIOS_VERSION, buf, cap);
        /* the first half reversed and dotted, then byte 4: 00 9f 00 96 01 -> 96.00.9f.00.01 */
        int w = snprintf(buf, cap, "%02x.%02x.%02x.%02x.%02x", p[3], p[2], p[1], p[0], p[4]);
        return w < 0 || (size_t)w >= cap ? VT_E_LIMIT : 0;
}

/* ---- JSON evidence ---- */

void vt_nv_evidence_free(struct vt_nv_evidence *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->n; i++) {
                free(e->dev[i].report);
                free(e->dev[i].chain);
        }
        free(e);
}

static void evidence_freep(struct vt_nv_evidence **e)
{
        vt_nv_evidence_free(*e);
}

/* The report of one device: hex (older attesters) or base64. */
static int decode_report(const char *s, struct vt_nv_device *dev)
{
        size_t n = strlen(s);
        if (hex_text((const uint8_t *)s, n, &dev->report, &dev->report_len) == 0)
                return 0;
        return vt_b64_decode(s, n, VT_B64_STD, VT_NV_MAX_REPORT, &dev->report, &dev->report_len);
}

static int parse_device(json_t *o, size_t i, struct vt_nv_device *dev, struct vt_diag *d)
{
        const char *arch = json_string_value(json_object_get(o, "arch"));
        const char *ev = json_string_value(json_object_get(o, "evidence"));
        const char *cert = json_string_value(json_object_get(o, "certificate"));
        const char *uuid = json_string_value(json_object_get(o, "uuid"));
        const char *nonce = json_string_value(json_object_get(o, "nonce"));

        if (!json_is_object(o) || !ev || !cert)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: evidence[%zu]: needs \"evidence\" and "
                                   "\"certificate\" strings",
                                   i);
        if (arch && vt_nv_arch_from_name(arch, &dev->arch) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: evidence[%zu]: unknown arch \"%.32s\"",
                                   i, arch);
        if (uuid && snprintf(dev->uuid, sizeof(dev->uuid), "%s", uuid) >= (int)sizeof(dev->uuid))
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: evidence[%zu]: uuid too long", i);
        if (decode_report(ev, dev) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: evidence[%zu]: \"evidence\" is neither hex nor "
                                   "base64 of at most %u bytes",
                                   i, VT_NV_MAX_REPORT);
        if (vt_b64_decode(cert, strlen(cert), VT_B64_STD, 64u * 1024u, &dev->chain,
                          &dev->chain_len) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: evidence[%zu]: \"certificate\" is not base64 of a "
                                   "PEM chain",
                                   i);
        if (nonce) {
                _cleanup_free_ uint8_t *nb = NULL;
                size_t nl = 0;
                if (hex_text((const uint8_t *)nonce, strlen(nonce), &nb, &nl) < 0 ||
                    nl != VT_NV_NONCE_LEN)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "nvidia: evidence[%zu]: \"nonce\" is not 32 bytes "
                                           "of hex",
                                           i);
                memcpy(dev->nonce, nb, VT_NV_NONCE_LEN);
                dev->has_nonce = true;
        }
        return 0;
}

int vt_nv_evidence_parse(const char *json, size_t len, struct vt_nv_evidence **ret,
                         struct vt_diag *d)
{
        _cleanup_(json_decrefp) json_t *root = NULL, *inner = NULL;
        _cleanup_(evidence_freep) struct vt_nv_evidence *ev = NULL;
        json_error_t je;
        json_t *list;

        if (!json || !ret)
                return VT_E_INVAL;
        if (len > (size_t)VT_NV_MAX_DEVICES * 96u * 1024u)
                return vt_diag_set(d, VT_E_LIMIT, "nvidia: evidence JSON of %zu bytes", len);
        if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)))
                return vt_diag_set(d, VT_E_FORMAT, "nvidia: evidence JSON: %s (line %d)", je.text,
                                   je.line);
        list = root;
        if (json_is_object(list)) {
                const char *s = json_string_value(json_object_get(list, "additional_evidence"));
                if (s) {
                        if (!(inner = json_loads(s, JSON_REJECT_DUPLICATES, &je)))
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "nvidia: additional_evidence: %s", je.text);
                        list = inner;
                }
                list = json_object_get(json_object_get(list, "nvidia"), "device_evidence_list");
        }
        if (!json_is_array(list) || json_array_size(list) == 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: evidence JSON is neither a device list nor "
                                   "{\"nvidia\":{\"device_evidence_list\":[...]}}");
        if (json_array_size(list) > VT_NV_MAX_DEVICES)
                return vt_diag_set(d, VT_E_LIMIT, "nvidia: %zu devices (at most %u)",
                                   json_array_size(list), VT_NV_MAX_DEVICES);
        if (!(ev = calloc(1, sizeof(*ev))))
                return VT_E_NOMEM;
        for (size_t i = 0; i < json_array_size(list); i++) {
                ev->n = i + 1;
                int e = parse_device(json_array_get(list, i), i, &ev->dev[i], d);
                if (e < 0)
                        return e;
        }
        *ret = TAKE_PTR(ev);
        return 0;
}
