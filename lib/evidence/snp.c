/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SEV-SNP ATTESTATION_REPORT parser. Bytes in, struct out; no I/O, no keys.
 * Offsets: SNP ABI (AMD 56860) as implemented by go-sev-guest and virtee/sev,
 * summarised in docs/snp.md.
 */
#include <strings.h>

#include "evidence/snp_internal.h"
#include "util/rd.h"
#include "veritee/snp.h"

static const char *const product_names[_VT_SNP_PRODUCT_MAX] = {
        [VT_SNP_PRODUCT_UNKNOWN] = "unknown",
        [VT_SNP_PRODUCT_MILAN] = "Milan",
        [VT_SNP_PRODUCT_GENOA] = "Genoa",
        [VT_SNP_PRODUCT_TURIN] = "Turin",
};

const char *vt_snp_product_name(enum vt_snp_product p)
{
        if ((unsigned)p >= _VT_SNP_PRODUCT_MAX)
                return "unknown";
        return product_names[p];
}

int vt_snp_product_from_name(const char *name, enum vt_snp_product *ret)
{
        static const struct {
                const char *name;
                enum vt_snp_product p;
        } map[] = {
                {"milan", VT_SNP_PRODUCT_MILAN},   {"genoa", VT_SNP_PRODUCT_GENOA},
                {"bergamo", VT_SNP_PRODUCT_GENOA}, {"siena", VT_SNP_PRODUCT_GENOA},
                {"turin", VT_SNP_PRODUCT_TURIN},
        };
        if (!name)
                return VT_E_INVAL;
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
                if (strcasecmp(name, map[i].name) == 0) {
                        *ret = map[i].p;
                        return 0;
                }
        return VT_E_NOTFOUND;
}

void vt_snp_tcb_decode(uint64_t raw, bool turin, struct vt_snp_tcb *ret)
{
        struct vt_snp_tcb t = {.raw = raw, .turin = turin};
        if (turin) {
                t.fmc = (uint8_t)raw;
                t.bootloader = (uint8_t)(raw >> 8);
                t.tee = (uint8_t)(raw >> 16);
                t.snp = (uint8_t)(raw >> 24);
        } else {
                t.bootloader = (uint8_t)raw;
                t.tee = (uint8_t)(raw >> 8);
                t.snp = (uint8_t)(raw >> 48);
        }
        t.microcode = (uint8_t)(raw >> 56);
        *ret = t;
}

void vt_snp_report_set_layout(struct vt_snp_report *r, bool turin)
{
        vt_snp_tcb_decode(r->current_tcb.raw, turin, &r->current_tcb);
        vt_snp_tcb_decode(r->reported_tcb.raw, turin, &r->reported_tcb);
        vt_snp_tcb_decode(r->committed_tcb.raw, turin, &r->committed_tcb);
        vt_snp_tcb_decode(r->launch_tcb.raw, turin, &r->launch_tcb);
}

static bool all_zero(const uint8_t *p, size_t n)
{
        uint8_t acc = 0;
        for (size_t i = 0; i < n; i++)
                acc |= p[i];
        return acc == 0;
}

enum vt_snp_product vt_snp_product_from_cpuid(uint8_t fam, uint8_t model)
{
        if (fam == 0x19) {
                if (model <= 0x0f)
                        return VT_SNP_PRODUCT_MILAN;
                if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))
                        return VT_SNP_PRODUCT_GENOA;
        } else if (fam == 0x1a) {
                if (model <= 0x1f)
                        return VT_SNP_PRODUCT_TURIN;
        }
        return VT_SNP_PRODUCT_UNKNOWN;
}

/* Reads n reserved bytes that must be zero, naming the offset of the first offender. */
static int rd_mbz(struct vt_rd *rd, size_t n, const char *what, struct vt_diag *d)
{
        size_t bad;
        int e = vt_rd_zero(rd, n, &bad);
        if (e == VT_E_RESERVED)
                return vt_diag_set(
                        d, e, "snp: reserved byte at offset 0x%zx (%s) is 0x%02x, must be zero",
                        bad, what, rd->p[bad - rd->off]);
        if (e < 0)
                return vt_diag_set(d, e, "snp: report truncated in %s", what);
        return 0;
}

/* Reads a 72-byte little-endian signature component into 48 big-endian bytes. */
static int rd_sig_component(struct vt_rd *rd, uint8_t out[48], const char *what, struct vt_diag *d)
{
        uint8_t le[48];
        int e = vt_rd_bytes(rd, le, sizeof(le));
        if (e < 0)
                return vt_diag_set(d, e, "snp: report truncated in signature %s", what);
        for (size_t i = 0; i < 48; i++)
                out[i] = le[47 - i];
        return rd_mbz(rd, 24, what, d);
}

int vt_snp_report_parse(const uint8_t *buf, size_t len, struct vt_snp_report *ret,
                        struct vt_diag *d)
{
        struct vt_snp_report r = {0};
        struct vt_rd rd;
        int e;

        if (!buf || !ret)
                return VT_E_INVAL;
        if (len != VT_SNP_REPORT_SIZE)
                return vt_diag_set(d, len < VT_SNP_REPORT_SIZE ? VT_E_TRUNCATED : VT_E_TRAILING,
                                   "snp: report length %zu, expected %u", len, VT_SNP_REPORT_SIZE);
        vt_rd_init(&rd, buf, len);

        /* The length is exact, so the fixed-size reads below cannot fail; their
         * results are still checked because the reader is the only bounds check. */
#define RD(call)                                                                                   \
        do {                                                                                       \
                if ((e = (call)) < 0)                                                              \
                        return vt_diag_set(d, e, "snp: report truncated at offset 0x%zx", rd.off); \
        } while (0)

        RD(vt_rd_u32le(&rd, &r.version));
        if (r.version != 2 && r.version != 3 && r.version != 5)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "snp: unknown report version %u (accepted: 2, 3, 5)", r.version);
        RD(vt_rd_u32le(&rd, &r.guest_svn));
        RD(vt_rd_u64le(&rd, &r.policy));
        if (!(r.policy & VT_SNP_POLICY_RESERVED1))
                return vt_diag_set(d, VT_E_RESERVED,
                                   "snp: policy 0x%llx has reserved bit 17 clear, must be 1",
                                   (unsigned long long)r.policy);
        if (r.policy >> 26)
                return vt_diag_set(d, VT_E_RESERVED,
                                   "snp: policy 0x%llx has reserved bits 63:26 set",
                                   (unsigned long long)r.policy);
        RD(vt_rd_bytes(&rd, r.family_id, 16));
        RD(vt_rd_bytes(&rd, r.image_id, 16));
        RD(vt_rd_u32le(&rd, &r.vmpl));
        RD(vt_rd_u32le(&rd, &r.signature_algo));
        if (r.signature_algo != 1)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "snp: unknown signature algorithm %u (expected 1, ECDSA P-384 "
                                   "with SHA-384)",
                                   r.signature_algo);
        RD(vt_rd_u64le(&rd, &r.current_tcb.raw));
        RD(vt_rd_u64le(&rd, &r.platform_info));
        RD(vt_rd_u32le(&rd, &r.signer_info));
        if (r.signer_info >> 5)
                return vt_diag_set(d, VT_E_RESERVED,
                                   "snp: signer info 0x%x has reserved bits 31:5 set",
                                   r.signer_info);
        unsigned sk = (r.signer_info >> 2) & 7;
        if (sk != VT_SNP_SIGNER_VCEK && sk != VT_SNP_SIGNER_VLEK && sk != VT_SNP_SIGNER_NONE)
                return vt_diag_set(d, VT_E_RESERVED, "snp: signing key %u is reserved", sk);
        if ((e = rd_mbz(&rd, 4, "reserved 0x04c", d)) < 0)
                return e;
        RD(vt_rd_bytes(&rd, r.report_data, 64));
        RD(vt_rd_bytes(&rd, r.measurement, 48));
        RD(vt_rd_bytes(&rd, r.host_data, 32));
        RD(vt_rd_bytes(&rd, r.id_key_digest, 48));
        RD(vt_rd_bytes(&rd, r.author_key_digest, 48));
        RD(vt_rd_bytes(&rd, r.report_id, 32));
        RD(vt_rd_bytes(&rd, r.report_id_ma, 32));
        RD(vt_rd_u64le(&rd, &r.reported_tcb.raw));
        if (r.version >= 3) {
                RD(vt_rd_u8(&rd, &r.cpuid_fam_id));
                RD(vt_rd_u8(&rd, &r.cpuid_mod_id));
                RD(vt_rd_u8(&rd, &r.cpuid_step));
                if ((e = rd_mbz(&rd, 21, "reserved 0x18b", d)) < 0)
                        return e;
        } else if ((e = rd_mbz(&rd, 24, "reserved 0x188", d)) < 0) {
                return e;
        }
        RD(vt_rd_bytes(&rd, r.chip_id, 64));
        RD(vt_rd_u64le(&rd, &r.committed_tcb.raw));
        RD(vt_rd_u8(&rd, &r.current_build));
        RD(vt_rd_u8(&rd, &r.current_minor));
        RD(vt_rd_u8(&rd, &r.current_major));
        if ((e = rd_mbz(&rd, 1, "reserved 0x1eb", d)) < 0)
                return e;
        RD(vt_rd_u8(&rd, &r.committed_build));
        RD(vt_rd_u8(&rd, &r.committed_minor));
        RD(vt_rd_u8(&rd, &r.committed_major));
        if ((e = rd_mbz(&rd, 1, "reserved 0x1ef", d)) < 0)
                return e;
        RD(vt_rd_u64le(&rd, &r.launch_tcb.raw));
        if (r.version >= 5) {
                RD(vt_rd_u64le(&rd, &r.launch_mit_vector));
                RD(vt_rd_u64le(&rd, &r.current_mit_vector));
                if ((e = rd_mbz(&rd, 0x98, "reserved 0x208", d)) < 0)
                        return e;
        } else if ((e = rd_mbz(&rd, 0xa8, "reserved 0x1f8", d)) < 0) {
                return e;
        }
        if ((e = rd_sig_component(&rd, r.sig_r, "R", d)) < 0)
                return e;
        if ((e = rd_sig_component(&rd, r.sig_s, "S", d)) < 0)
                return e;
        if ((e = rd_mbz(&rd, 0x170, "signature reserved 0x330", d)) < 0)
                return e;
        if ((e = vt_rd_done(&rd)) < 0)
                return vt_diag_set(d, e, "snp: trailing bytes after report");
#undef RD

        if (r.version >= 3)
                r.product = vt_snp_product_from_cpuid(r.cpuid_fam_id, r.cpuid_mod_id);
        else if (!all_zero(r.chip_id, 8) && all_zero(r.chip_id + 8, 56))
                r.product = VT_SNP_PRODUCT_TURIN; /* v2 Turin: only an 8-byte chip id */
        else
                r.product = VT_SNP_PRODUCT_UNKNOWN;
        vt_snp_report_set_layout(&r, r.product == VT_SNP_PRODUCT_TURIN);
        *ret = r;
        return 0;
}
