/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference values per tee, from the JSON file named by attestation.reference_values:
 *   {"snp": <SNP policy (docs/policy.md)>, "sim": <SNP policy for the simulator>}
 * A tee without an entry has no reference values: its evidence is never affirming.
 */
#include <string.h>

#include "server.h"
#include "util/file.h"
#include "util/json.h"

#define MAX_REFVALS_BYTES (4u << 20)

struct vtd_refvals {
        struct vt_snp_policy *snp, *sim;
};

void vtd_refvals_free(struct vtd_refvals *r)
{
        if (!r)
                return;
        vt_snp_policy_free(r->snp);
        vt_snp_policy_free(r->sim);
        free(r);
}

int vtd_refvals_load(const char *path, struct vtd_refvals **ret, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        json_error_t je;
        const char *k;
        json_t *v;
        int e;
        struct vtd_refvals *r = calloc(1, sizeof(*r));
        if (!r)
                return VT_E_NOMEM;
        if (!path) {
                *ret = r;
                return 0;
        }
        if ((e = vt_read_file(path, MAX_REFVALS_BYTES, &buf, &len)) < 0) {
                free(r);
                return vt_diag_set(d, e, "reference values: cannot read %s", path);
        }
        json_auto_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(root)) {
                free(r);
                return vt_diag_set(d, VT_E_FORMAT,
                                   "reference values %s: not a JSON object (line %d: %s)", path,
                                   je.line, root ? "" : je.text);
        }
        json_object_foreach (root, k, v) {
                struct vt_snp_policy **slot = strcmp(k, "snp") == 0   ? &r->snp
                                              : strcmp(k, "sim") == 0 ? &r->sim
                                                                      : NULL;
                if (!slot) {
                        vtd_refvals_free(r);
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "reference values %s: unknown tee \"%s\" (snp, sim)",
                                           path, k);
                }
                _cleanup_free_ char *txt = json_dumps(v, JSON_COMPACT);
                struct vt_diag pd = {0};
                if (!txt || (e = vt_snp_policy_parse(txt, strlen(txt), slot, &pd)) < 0) {
                        vtd_refvals_free(r);
                        return vt_diag_set(d, txt ? e : VT_E_NOMEM, "reference values %s: %s: %s",
                                           path, k, pd.msg);
                }
        }
        *ret = r;
        return 0;
}

const struct vt_snp_policy *vtd_refvals_snp(const struct vtd_refvals *r, const char *tee)
{
        if (!r)
                return NULL;
        if (strcmp(tee, "snp") == 0)
                return r->snp;
        if (strcmp(tee, "sim") == 0)
                return r->sim;
        return NULL;
}
