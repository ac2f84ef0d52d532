/* SPDX-License-Identifier: Apache-2.0 */
/* JSON views of an SNP report: every field (inspect) and the flat claims (verify, tokens). */
#include <inttypes.h>
#include <stdio.h>

#include "evidence/snp_internal.h"
#include "util/json.h"
#include "util/macro.h"
#include "veritee/snp.h"

static json_t *tcb_json(const struct vt_snp_tcb *t)
{
        json_t *o = json_object();
        char raw[19];
        if (!o)
                return NULL;
        /* raw as "0x" and 16 hex digits: a TCB is a full 64-bit value (microcode is its top
         * byte), which a JSON integer (jansson: int64) cannot hold from 2^63 on and which
         * many readers round from 2^53 on */
        snprintf(raw, sizeof(raw), "0x%016" PRIx64, t->raw);
        int e = 0;
        if (t->turin)
                e |= vt_json_set(o, "fmc", json_integer(t->fmc));
        e |= vt_json_set(o, "bootloader", json_integer(t->bootloader));
        e |= vt_json_set(o, "tee", json_integer(t->tee));
        e |= vt_json_set(o, "snp", json_integer(t->snp));
        e |= vt_json_set(o, "microcode", json_integer(t->microcode));
        e |= vt_json_set(o, "raw", json_string(raw));
        if (e) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static const struct {
        const char *name;
        unsigned bit;
} policy_bits[] = {
        {"smt_allowed", 16},        {"reserved_must_be_one", 17},
        {"migrate_ma_allowed", 18}, {"debug_allowed", 19},
        {"single_socket", 20},      {"cxl_allowed", 21},
        {"mem_aes_256_xts", 22},    {"rapl_dis", 23},
        {"ciphertext_hiding", 24},  {"page_swap_disable", 25},
};

static const struct {
        const char *name;
        unsigned bit;
} platform_bits[] = {
        {"smt_enabled", 0},
        {"tsme_enabled", 1},
        {"ecc_enabled", 2},
        {"rapl_disabled", 3},
        {"ciphertext_hiding_enabled", 4},
        {"alias_check_complete", 5},
        {"bit6", 6},
        {"tio_enabled", 7},
};

#define SETJ(o, k, v)                                                                              \
        do {                                                                                       \
                if ((e = vt_json_set((o), (k), (v))) < 0)                                          \
                        return e;                                                                  \
        } while (0)

int vt_snp_report_json(const struct vt_snp_report *r, char **ret)
{
        _cleanup_json_ json_t *o = json_object(), *pol = json_object(), *pi = json_object(),
                              *si = json_object();
        int e;
        if (!o || !pol || !pi || !si)
                return VT_E_NOMEM;
        SETJ(o, "version", json_integer(r->version));
        SETJ(o, "guest_svn", json_integer(r->guest_svn));
        SETJ(pol, "raw", json_integer((json_int_t)r->policy));
        SETJ(pol, "abi_minor", json_integer(r->policy & 0xff));
        SETJ(pol, "abi_major", json_integer((r->policy >> 8) & 0xff));
        for (size_t i = 0; i < ELEMENTSOF(policy_bits); i++)
                SETJ(pol, policy_bits[i].name, json_boolean((r->policy >> policy_bits[i].bit) & 1));
        SETJ(o, "policy", json_incref(pol));
        SETJ(o, "family_id", vt_json_hex(r->family_id, 16));
        SETJ(o, "image_id", vt_json_hex(r->image_id, 16));
        SETJ(o, "vmpl", json_integer(r->vmpl));
        SETJ(o, "signature_algo", json_integer(r->signature_algo));
        SETJ(o, "current_tcb", tcb_json(&r->current_tcb));
        SETJ(pi, "raw", json_integer((json_int_t)r->platform_info));
        for (size_t i = 0; i < ELEMENTSOF(platform_bits); i++)
                SETJ(pi, platform_bits[i].name,
                     json_boolean((r->platform_info >> platform_bits[i].bit) & 1));
        SETJ(o, "platform_info", json_incref(pi));
        SETJ(si, "raw", json_integer(r->signer_info));
        SETJ(si, "author_key_en", json_boolean(r->signer_info & 1));
        SETJ(si, "mask_chip_key", json_boolean((r->signer_info >> 1) & 1));
        SETJ(si, "signing_key", json_integer(vt_snp_signing_key(r)));
        SETJ(o, "signer_info", json_incref(si));
        SETJ(o, "report_data", vt_json_hex(r->report_data, 64));
        SETJ(o, "measurement", vt_json_hex(r->measurement, 48));
        SETJ(o, "host_data", vt_json_hex(r->host_data, 32));
        SETJ(o, "id_key_digest", vt_json_hex(r->id_key_digest, 48));
        SETJ(o, "author_key_digest", vt_json_hex(r->author_key_digest, 48));
        SETJ(o, "report_id", vt_json_hex(r->report_id, 32));
        SETJ(o, "report_id_ma", vt_json_hex(r->report_id_ma, 32));
        SETJ(o, "reported_tcb", tcb_json(&r->reported_tcb));
        if (r->version >= 3) {
                SETJ(o, "cpuid_fam_id", json_integer(r->cpuid_fam_id));
                SETJ(o, "cpuid_mod_id", json_integer(r->cpuid_mod_id));
                SETJ(o, "cpuid_step", json_integer(r->cpuid_step));
        }
        SETJ(o, "chip_id", vt_json_hex(r->chip_id, 64));
        SETJ(o, "committed_tcb", tcb_json(&r->committed_tcb));
        SETJ(o, "current_build", json_integer(r->current_build));
        SETJ(o, "current_minor", json_integer(r->current_minor));
        SETJ(o, "current_major", json_integer(r->current_major));
        SETJ(o, "committed_build", json_integer(r->committed_build));
        SETJ(o, "committed_minor", json_integer(r->committed_minor));
        SETJ(o, "committed_major", json_integer(r->committed_major));
        SETJ(o, "launch_tcb", tcb_json(&r->launch_tcb));
        if (r->version >= 5) {
                SETJ(o, "launch_mit_vector", json_integer((json_int_t)r->launch_mit_vector));
                SETJ(o, "current_mit_vector", json_integer((json_int_t)r->current_mit_vector));
        }
        SETJ(o, "signature_r", vt_json_hex(r->sig_r, 48));
        SETJ(o, "signature_s", vt_json_hex(r->sig_s, 48));
        SETJ(o, "product", json_string(vt_snp_product_name(r->product)));
        return vt_json_dump(o, ret);
}

static int add_tcb_claims(json_t *o, const char *prefix, const struct vt_snp_tcb *t)
{
        char k[48];
        int e;
        const struct {
                const char *n;
                uint8_t v;
        } parts[] = {{"bootloader", t->bootloader},
                     {"tee", t->tee},
                     {"snp", t->snp},
                     {"microcode", t->microcode},
                     {"fmc", t->fmc}};
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (i == 4 && !t->turin)
                        break;
                snprintf(k, sizeof(k), "%s_%s", prefix, parts[i].n);
                SETJ(o, k, json_integer(parts[i].v));
        }
        return 0;
}

int vt_snp_claims(const struct vt_snp_report *r, json_t **ret)
{
        _cleanup_json_ json_t *o = json_object();
        int e;
        if (!r || !ret)
                return VT_E_INVAL;
        if (!o)
                return VT_E_NOMEM;
        SETJ(o, "version", json_integer(r->version));
        SETJ(o, "product", json_string(vt_snp_product_name(r->product)));
        SETJ(o, "signer",
             json_string(vt_snp_signing_key(r) == VT_SNP_SIGNER_VLEK ? "vlek" : "vcek"));
        SETJ(o, "measurement", vt_json_hex(r->measurement, 48));
        SETJ(o, "report_data", vt_json_hex(r->report_data, 64));
        SETJ(o, "host_data", vt_json_hex(r->host_data, 32));
        SETJ(o, "chip_id", vt_json_hex(r->chip_id, 64));
        SETJ(o, "id_key_digest", vt_json_hex(r->id_key_digest, 48));
        SETJ(o, "author_key_digest", vt_json_hex(r->author_key_digest, 48));
        SETJ(o, "family_id", vt_json_hex(r->family_id, 16));
        SETJ(o, "image_id", vt_json_hex(r->image_id, 16));
        SETJ(o, "report_id", vt_json_hex(r->report_id, 32));
        SETJ(o, "report_id_ma", vt_json_hex(r->report_id_ma, 32));
        SETJ(o, "guest_svn", json_integer(r->guest_svn));
        SETJ(o, "vmpl", json_integer(r->vmpl));
        SETJ(o, "policy", json_integer((json_int_t)r->policy));
        SETJ(o, "policy_abi_major", json_integer((r->policy >> 8) & 0xff));
        SETJ(o, "policy_abi_minor", json_integer(r->policy & 0xff));
        SETJ(o, "policy_smt_allowed", json_boolean(r->policy & VT_SNP_POLICY_SMT));
        SETJ(o, "policy_migrate_ma", json_boolean(r->policy & VT_SNP_POLICY_MIGRATE_MA));
        SETJ(o, "policy_debug_allowed", json_boolean(r->policy & VT_SNP_POLICY_DEBUG));
        SETJ(o, "policy_single_socket", json_boolean(r->policy & VT_SNP_POLICY_SINGLE_SOCKET));
        SETJ(o, "policy_cxl_allowed", json_boolean(r->policy & VT_SNP_POLICY_CXL_ALLOW));
        SETJ(o, "policy_mem_aes_256_xts", json_boolean(r->policy & VT_SNP_POLICY_MEM_AES_256));
        SETJ(o, "policy_rapl_dis", json_boolean(r->policy & VT_SNP_POLICY_RAPL_DIS));
        SETJ(o, "policy_ciphertext_hiding", json_boolean(r->policy & VT_SNP_POLICY_CIPHERTEXT));
        SETJ(o, "policy_page_swap_disable", json_boolean(r->policy & VT_SNP_POLICY_PAGE_SWAP_DIS));
        SETJ(o, "platform_info", json_integer((json_int_t)r->platform_info));
        SETJ(o, "platform_smt_enabled", json_boolean(r->platform_info & 1));
        SETJ(o, "platform_tsme_enabled", json_boolean(r->platform_info & 2));
        SETJ(o, "platform_ecc_enabled", json_boolean(r->platform_info & 4));
        SETJ(o, "platform_rapl_disabled", json_boolean(r->platform_info & 8));
        SETJ(o, "platform_ciphertext_hiding_enabled", json_boolean(r->platform_info & 16));
        SETJ(o, "platform_alias_check_complete", json_boolean(r->platform_info & 32));
        SETJ(o, "platform_tio_enabled", json_boolean(r->platform_info & 128));
        SETJ(o, "author_key_en", json_boolean(r->signer_info & 1));
        SETJ(o, "mask_chip_key", json_boolean(r->signer_info & 2));
        if ((e = add_tcb_claims(o, "reported_tcb", &r->reported_tcb)) < 0 ||
            (e = add_tcb_claims(o, "current_tcb", &r->current_tcb)) < 0 ||
            (e = add_tcb_claims(o, "committed_tcb", &r->committed_tcb)) < 0 ||
            (e = add_tcb_claims(o, "launch_tcb", &r->launch_tcb)) < 0)
                return e;
        SETJ(o, "current_build", json_integer(r->current_build));
        SETJ(o, "current_minor", json_integer(r->current_minor));
        SETJ(o, "current_major", json_integer(r->current_major));
        SETJ(o, "committed_build", json_integer(r->committed_build));
        SETJ(o, "committed_minor", json_integer(r->committed_minor));
        SETJ(o, "committed_major", json_integer(r->committed_major));
        if (r->version >= 3) {
                SETJ(o, "cpuid_fam_id", json_integer(r->cpuid_fam_id));
                SETJ(o, "cpuid_mod_id", json_integer(r->cpuid_mod_id));
                SETJ(o, "cpuid_step", json_integer(r->cpuid_step));
        }
        if (r->version >= 5) {
                SETJ(o, "launch_mit_vector", json_integer((json_int_t)r->launch_mit_vector));
                SETJ(o, "current_mit_vector", json_integer((json_int_t)r->current_mit_vector));
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int vt_snp_claims_json(const struct vt_snp_report *r, char **ret)
{
        _cleanup_json_ json_t *o = NULL;
        int e = vt_snp_claims(r, &o);
        return e < 0 ? e : vt_json_dump(o, ret);
}
