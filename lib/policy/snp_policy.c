/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SNP reference values and checks (docs/policy.md). Parsed from untrusted JSON with
 * fixed caps; unknown keys are rejected so that a typo never silently disables a check.
 */
#include <string.h>
#include <strings.h>

#include "crypto/digest.h"
#include "util/hex.h"
#include "util/json.h"
#include "veritee/snp.h"

#define MAX_LIST         64
#define MAX_POLICY_BYTES (256u * 1024u)

struct digest_list {
        size_t n;
        uint8_t v[MAX_LIST][48];
};

struct vt_snp_policy {
        bool debug_allowed, migrate_ma_allowed, smt_allowed, single_socket_required;
        bool has_vmpl;
        uint32_t vmpl;
        bool has_min_tcb;
        int min_tcb[5]; /* bootloader tee snp microcode fmc; -1: unchecked */
        struct digest_list measurements, id_keys, author_keys;
        bool has_host_data, has_report_data, has_family_id, has_image_id;
        uint8_t host_data[32], report_data[64], family_id[16], image_id[16];
        bool has_min_guest_svn;
        uint32_t min_guest_svn;
        unsigned products; /* bit per enum vt_snp_product; 0: any */
        unsigned signers;  /* bit 0 vcek, bit 1 vlek; 0: any */
};

void vt_snp_policy_free(struct vt_snp_policy *p)
{
        free(p);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_snp_policy *, vt_snp_policy_free)

static int get_bool(json_t *v, const char *k, bool *out, struct vt_diag *d)
{
        if (!json_is_boolean(v))
                return vt_diag_set(d, VT_E_FORMAT, "policy: %s must be true or false", k);
        *out = json_is_true(v);
        return 0;
}

static int get_uint(json_t *v, const char *k, json_int_t max, json_int_t *out, struct vt_diag *d)
{
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
                return vt_diag_set(d, VT_E_FORMAT, "policy: %s must be an integer 0..%lld", k,
                                   (long long)max);
        *out = json_integer_value(v);
        return 0;
}

/* A hex string of exactly n bytes, or (pad) at most n bytes zero-padded. */
static int get_hex(json_t *v, const char *k, uint8_t *out, size_t n, bool pad, struct vt_diag *d)
{
        if (!json_is_string(v) || json_string_length(v) > 2 * n)
                return vt_diag_set(d, VT_E_FORMAT, "policy: %s must be a hex string of %s%zu bytes",
                                   k, pad ? "at most " : "", n);
        memset(out, 0, n);
        int got = vt_hex_decode(json_string_value(v), out, n);
        if (got < 0 || (!pad && (size_t)got != n))
                return vt_diag_set(d, VT_E_FORMAT, "policy: %s must be a hex string of %s%zu bytes",
                                   k, pad ? "at most " : "", n);
        return 0;
}

static int get_digests(json_t *v, const char *k, struct digest_list *out, struct vt_diag *d)
{
        size_t i;
        json_t *x;
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_LIST)
                return vt_diag_set(d, VT_E_FORMAT, "policy: %s must be a list of 1..%d hex digests",
                                   k, MAX_LIST);
        json_array_foreach (v, i, x) {
                int e = get_hex(x, k, out->v[i], 48, false, d);
                if (e < 0)
                        return e;
        }
        out->n = json_array_size(v);
        return 0;
}

static int parse_min_tcb(json_t *v, struct vt_snp_policy *p, struct vt_diag *d)
{
        static const char *const names[5] = {"bootloader", "tee", "snp", "microcode", "fmc"};
        const char *k;
        json_t *x;
        if (!json_is_object(v))
                return vt_diag_set(d, VT_E_FORMAT, "policy: minimum_tcb must be an object");
        json_object_foreach (v, k, x) {
                size_t i = 0;
                while (i < 5 && strcmp(k, names[i]) != 0)
                        i++;
                if (i == 5)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "policy: minimum_tcb has unknown key \"%s\"", k);
                json_int_t val;
                int e = get_uint(x, k, 255, &val, d);
                if (e < 0)
                        return e;
                p->min_tcb[i] = (int)val;
        }
        p->has_min_tcb = true;
        return 0;
}

static int parse_names(json_t *v, const char *k, unsigned *out, struct vt_diag *d)
{
        size_t i;
        json_t *x;
        if (!json_is_array(v) || json_array_size(v) == 0)
                return vt_diag_set(d, VT_E_FORMAT, "policy: %s must be a non-empty list", k);
        json_array_foreach (v, i, x) {
                const char *s = json_string_value(x);
                enum vt_snp_product pr;
                if (!s)
                        return vt_diag_set(d, VT_E_FORMAT, "policy: %s must hold strings", k);
                if (strcmp(k, "signers") == 0) {
                        if (strcasecmp(s, "vcek") == 0)
                                *out |= 1;
                        else if (strcasecmp(s, "vlek") == 0)
                                *out |= 2;
                        else
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "policy: unknown signer \"%s\" (vcek, vlek)", s);
                } else if (vt_snp_product_from_name(s, &pr) == 0) {
                        *out |= 1u << pr;
                } else {
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "policy: unknown product \"%s\" (Milan, Genoa, Turin)",
                                           s);
                }
        }
        return 0;
}

int vt_snp_policy_parse(const char *json, size_t len, struct vt_snp_policy **ret, struct vt_diag *d)
{
        _cleanup_(vt_snp_policy_freep) struct vt_snp_policy *p = NULL;
        json_error_t je;
        const char *k;
        json_t *v;
        int e = 0;

        if (!json || len > MAX_POLICY_BYTES)
                return vt_diag_set(d, VT_E_INVAL, "policy: larger than %u bytes", MAX_POLICY_BYTES);
        _cleanup_json_ json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                return vt_diag_set(d, VT_E_FORMAT, "policy: invalid JSON at line %d: %s", je.line,
                                   je.text);
        if (!json_is_object(root))
                return vt_diag_set(d, VT_E_FORMAT, "policy: must be a JSON object");
        p = calloc(1, sizeof(*p));
        if (!p)
                return VT_E_NOMEM;
        p->smt_allowed = true;
        for (int i = 0; i < 5; i++)
                p->min_tcb[i] = -1;
        json_object_foreach (root, k, v) {
                json_int_t n;
                if (strcmp(k, "debug_allowed") == 0)
                        e = get_bool(v, k, &p->debug_allowed, d);
                else if (strcmp(k, "migrate_ma_allowed") == 0)
                        e = get_bool(v, k, &p->migrate_ma_allowed, d);
                else if (strcmp(k, "smt_allowed") == 0)
                        e = get_bool(v, k, &p->smt_allowed, d);
                else if (strcmp(k, "single_socket_required") == 0)
                        e = get_bool(v, k, &p->single_socket_required, d);
                else if (strcmp(k, "vmpl") == 0) {
                        if ((e = get_uint(v, k, 3, &n, d)) == 0) {
                                p->has_vmpl = true;
                                p->vmpl = (uint32_t)n;
                        }
                } else if (strcmp(k, "minimum_tcb") == 0)
                        e = parse_min_tcb(v, p, d);
                else if (strcmp(k, "measurements") == 0)
                        e = get_digests(v, k, &p->measurements, d);
                else if (strcmp(k, "id_key_digests") == 0)
                        e = get_digests(v, k, &p->id_keys, d);
                else if (strcmp(k, "author_key_digests") == 0)
                        e = get_digests(v, k, &p->author_keys, d);
                else if (strcmp(k, "host_data") == 0) {
                        e = get_hex(v, k, p->host_data, 32, false, d);
                        p->has_host_data = true;
                } else if (strcmp(k, "report_data") == 0) {
                        e = get_hex(v, k, p->report_data, 64, true, d);
                        p->has_report_data = true;
                } else if (strcmp(k, "family_id") == 0) {
                        e = get_hex(v, k, p->family_id, 16, false, d);
                        p->has_family_id = true;
                } else if (strcmp(k, "image_id") == 0) {
                        e = get_hex(v, k, p->image_id, 16, false, d);
                        p->has_image_id = true;
                } else if (strcmp(k, "minimum_guest_svn") == 0) {
                        if ((e = get_uint(v, k, UINT32_MAX, &n, d)) == 0) {
                                p->has_min_guest_svn = true;
                                p->min_guest_svn = (uint32_t)n;
                        }
                } else if (strcmp(k, "products") == 0)
                        e = parse_names(v, k, &p->products, d);
                else if (strcmp(k, "signers") == 0)
                        e = parse_names(v, k, &p->signers, d);
                else
                        e = vt_diag_set(d, VT_E_FORMAT, "policy: unknown key \"%s\"", k);
                if (e < 0)
                        return e;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* report_data and host_data are the guest's own values (a nonce binding, init-data): the
 * reason names their fingerprints, never the bytes */
static int fail_fingerprint(struct vt_diag *d, const char *field, const uint8_t *want,
                            const uint8_t *have, size_t n)
{
        char w[VT_FINGERPRINT_LEN], h[VT_FINGERPRINT_LEN];
        return vt_diag_set(d, VT_E_POLICY,
                           "snp: %s differs from the reference value "
                           "(fingerprints: %s, expected %s)",
                           field, vt_fingerprint(have, n, h), vt_fingerprint(want, n, w));
}

static int fail_hex(struct vt_diag *d, const char *field, const uint8_t *want, const uint8_t *have,
                    size_t n)
{
        char w[129], h[129];
        vt_hex_encode(want, n, w);
        vt_hex_encode(have, n, h);
        return vt_diag_set(d, VT_E_POLICY, "snp: %s %s, expected %s", field, h, w);
}

static int check_list(const struct digest_list *l, const uint8_t *have, const char *field,
                      struct vt_diag *d)
{
        char h[97];
        if (l->n == 0)
                return 0;
        for (size_t i = 0; i < l->n; i++)
                if (memcmp(l->v[i], have, 48) == 0)
                        return 0;
        vt_hex_encode(have, 48, h);
        if (l->n == 1) {
                char w[97];
                vt_hex_encode(l->v[0], 48, w);
                return vt_diag_set(d, VT_E_POLICY, "snp: %s %s, expected %s", field, h, w);
        }
        return vt_diag_set(d, VT_E_POLICY, "snp: %s %s is not one of the %zu allowed values", field,
                           h, l->n);
}

/* The checks, by AR4SI claim: hardware (platform and TCB), configuration (guest
 * policy, VMPL, launch data), executables (what was launched). */
static int check_platform(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                          struct vt_diag *d)
{
        if (p->products && !(p->products & (1u << r->product)))
                return vt_diag_set(d, VT_E_POLICY, "snp: product %s is not allowed",
                                   vt_snp_product_name(r->product));
        unsigned sk = vt_snp_signing_key(r);
        if (p->signers && !(p->signers & (sk == VT_SNP_SIGNER_VLEK ? 2u : 1u)))
                return vt_diag_set(d, VT_E_POLICY, "snp: signer %s is not allowed",
                                   sk == VT_SNP_SIGNER_VLEK ? "vlek" : "vcek");
        return 0;
}

static int check_tcb(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                     struct vt_diag *d)
{
        if (!p->has_min_tcb)
                return 0;
        const struct vt_snp_tcb *t = &r->reported_tcb;
        const int have[5] = {t->bootloader, t->tee, t->snp, t->microcode, t->fmc};
        static const char *const names[5] = {"bootloader", "tee", "snp", "microcode", "fmc"};
        for (int i = 0; i < 5; i++) {
                if (p->min_tcb[i] < 0 || (i == 4 && !t->turin))
                        continue;
                if (have[i] < p->min_tcb[i])
                        return vt_diag_set(d, VT_E_POLICY,
                                           "snp: reported_tcb.%s 0x%02x < minimum 0x%02x", names[i],
                                           have[i], p->min_tcb[i]);
        }
        return 0;
}

static int check_config(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                        struct vt_diag *d)
{
        if (!p->debug_allowed && (r->policy & VT_SNP_POLICY_DEBUG))
                return vt_diag_set(
                        d, VT_E_POLICY,
                        "snp: policy_debug_allowed is true, expected false (debug not allowed)");
        if (!p->migrate_ma_allowed && (r->policy & VT_SNP_POLICY_MIGRATE_MA))
                return vt_diag_set(d, VT_E_POLICY,
                                   "snp: policy_migrate_ma is true, expected false (migration "
                                   "agent not allowed)");
        if (!p->smt_allowed && (r->platform_info & 1))
                return vt_diag_set(
                        d, VT_E_POLICY,
                        "snp: platform_smt_enabled is true, expected false (SMT not allowed)");
        if (p->single_socket_required && !(r->policy & VT_SNP_POLICY_SINGLE_SOCKET))
                return vt_diag_set(d, VT_E_POLICY,
                                   "snp: policy_single_socket is false, expected true");
        if (p->has_vmpl && r->vmpl != p->vmpl)
                return vt_diag_set(d, VT_E_POLICY, "snp: vmpl %u, expected %u", r->vmpl, p->vmpl);
        if (p->has_host_data && memcmp(p->host_data, r->host_data, 32) != 0)
                return fail_fingerprint(d, "host_data", p->host_data, r->host_data, 32);
        if (p->has_report_data && memcmp(p->report_data, r->report_data, 64) != 0)
                return fail_fingerprint(d, "report_data", p->report_data, r->report_data, 64);
        return 0;
}

static int check_exec(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                      struct vt_diag *d)
{
        int e;
        if ((e = check_list(&p->measurements, r->measurement, "measurement", d)) < 0 ||
            (e = check_list(&p->id_keys, r->id_key_digest, "id_key_digest", d)) < 0 ||
            (e = check_list(&p->author_keys, r->author_key_digest, "author_key_digest", d)) < 0)
                return e;
        if (p->author_keys.n && !(r->signer_info & 1))
                return vt_diag_set(d, VT_E_POLICY,
                                   "snp: author_key_en is false, but an author key is required");
        if (p->has_family_id && memcmp(p->family_id, r->family_id, 16) != 0)
                return fail_hex(d, "family_id", p->family_id, r->family_id, 16);
        if (p->has_image_id && memcmp(p->image_id, r->image_id, 16) != 0)
                return fail_hex(d, "image_id", p->image_id, r->image_id, 16);
        if (p->has_min_guest_svn && r->guest_svn < p->min_guest_svn)
                return vt_diag_set(d, VT_E_POLICY, "snp: guest_svn %u < minimum %u", r->guest_svn,
                                   p->min_guest_svn);
        return 0;
}

int vt_snp_policy_check(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                        struct vt_diag *d)
{
        int e;
        if (!p || !r)
                return VT_E_INVAL;
        if ((e = check_platform(p, r, d)) < 0 || (e = check_config(p, r, d)) < 0 ||
            (e = check_tcb(p, r, d)) < 0 || (e = check_exec(p, r, d)) < 0)
                return e;
        return 0;
}

int vt_snp_policy_appraise(const struct vt_snp_policy *p, const struct vt_snp_report *r,
                           struct vt_ar4si *tv, struct vt_diag *d)
{
        /* genuine hardware (the caller verified the chain), encrypted memory, and the
         * instance bound to the caller's nonce by REPORT_DATA */
        struct vt_ar4si v = {.instance_identity = VT_AR4SI_AFFIRMING,
                             .hardware = VT_AR4SI_AFFIRMING,
                             .runtime_opaque = VT_AR4SI_AFFIRMING};
        if (!p) {
                vt_diag_set(d, VT_E_POLICY, "snp: no reference values for this tee");
                v.configuration = VT_AR4SI_UNSUPPORTABLE_CONFIG;
                v.executables = VT_AR4SI_UNRECOGNIZED_RUNTIME;
                *tv = v;
                return 0;
        }
        v.hardware = check_platform(p, r, d) < 0 ? VT_AR4SI_CONTRAINDICATED
                     : check_tcb(p, r, d) < 0    ? VT_AR4SI_WARNING
                                                 : VT_AR4SI_AFFIRMING;
        v.configuration = check_config(p, r, d) < 0 ? VT_AR4SI_CONTRAINDICATED : VT_AR4SI_AFFIRMING;
        if (p->measurements.n == 0 && p->id_keys.n == 0 && p->author_keys.n == 0) {
                vt_diag_set(d, VT_E_POLICY,
                            "snp: reference values name no measurement or signing key");
                v.executables = check_exec(p, r, d) < 0 ? VT_AR4SI_CONTRAINDICATED
                                                        : VT_AR4SI_UNRECOGNIZED_RUNTIME;
        } else {
                v.executables =
                        check_exec(p, r, d) < 0 ? VT_AR4SI_CONTRAINDICATED : VT_AR4SI_AFFIRMING;
        }
        *tv = v;
        return 0;
}
