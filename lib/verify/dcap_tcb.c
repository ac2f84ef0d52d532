/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCB evaluation of a verified DCAP quote against verified collateral, with the semantics
 * of Intel's QVL (QuoteVerifier.cpp 4.1.2.4.9-17, TcbLevelCheck.cpp, TdxModuleCheck.cpp,
 * TDRelaunchCheck.cpp): FMSPC and PCE-ID, the TDX module identity, the QE identity and
 * its TCB level, the platform TCB level (levels sorted here, never trusted to arrive
 * sorted), the status merge and the advisory IDs. Facts: docs/dcap.md.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/hex.h"
#include "verify/dcap_collateral.h"
#include "verify/dcap_internal.h"

#define TEE_TYPE_TDX 0x81u

_Static_assert(VT_DCAP_COLL_ADV_LEN == sizeof(((struct vt_dcap_result *)0)->advisory_ids[0]),
               "advisory IDs of the collateral must fit the result");

/* What a module or QE TCB level says about its component. */
enum comp_state {
        COMP_UP_TO_DATE,
        COMP_OUT_OF_DATE,
        COMP_REVOKED,
};

static const char *status_name(enum vt_tcb_status s)
{
        static const char *const names[_VT_TCB_STATUS_MAX] = {
                [VT_TCB_UP_TO_DATE] = "UpToDate",
                [VT_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
                [VT_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
                [VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] =
                        "ConfigurationAndSWHardeningNeeded",
                [VT_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
                [VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] =
                        "TDRelaunchAdvisedConfigurationNeeded",
                [VT_TCB_OUT_OF_DATE] = "OutOfDate",
                [VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
                [VT_TCB_REVOKED] = "Revoked",
        };
        return (unsigned)s < _VT_TCB_STATUS_MAX ? names[s] : "unknown";
}

/* convergeTcbStatusWithTdxModuleStatus / ...WithQeTcbStatus: an out-of-date module or QE
 * downgrades the platform status, a revoked one revokes it. */
static enum vt_tcb_status converge(enum vt_tcb_status platform, enum comp_state comp)
{
        if (comp == COMP_REVOKED)
                return VT_TCB_REVOKED;
        if (comp == COMP_OUT_OF_DATE) {
                if (platform == VT_TCB_UP_TO_DATE || platform == VT_TCB_SW_HARDENING_NEEDED)
                        return VT_TCB_OUT_OF_DATE;
                if (platform == VT_TCB_CONFIGURATION_NEEDED ||
                    platform == VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
                        return VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
        }
        return platform;
}

static bool config_needed(enum vt_tcb_status s)
{
        return s == VT_TCB_CONFIGURATION_NEEDED || s == VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
               s == VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
               s == VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

static const struct vt_dcap_tdx_module *find_module(const struct vt_dcap_tcb_info *t,
                                                    const char *id)
{
        for (size_t i = 0; i < t->n_modules; i++)
                if (strcasecmp(t->modules[i].id, id) == 0)
                        return &t->modules[i];
        return NULL;
}

/* The first level (descending isvsvn) that svn meets, or NULL. */
static const struct vt_dcap_isv_level *isv_match(const struct vt_dcap_isv_level *lv, size_t n,
                                                 unsigned svn)
{
        for (size_t i = 0; i < n; i++)
                if (svn >= lv[i].isvsvn)
                        return &lv[i];
        return NULL;
}

/* ---- platform TCB levels ---- */

struct shortfall {
        enum { SF_SGX, SF_PCE, SF_TDX } kind;
        unsigned idx, have, need;
};

/* Counts how far the platform falls short of level l; *first is the first shortfall. tee
 * is NULL for SGX; tdx_from is 2 when the module identity judges tee_tcb_svn[0..1]. */
static size_t shortfalls(const struct vt_dcap_tcb_level *l, const struct vt_pck_ext *pck,
                         const uint8_t *tee, unsigned tdx_from, bool sgx_only,
                         struct shortfall *first)
{
        size_t n = 0;
        struct shortfall sf = {0};
        for (unsigned i = 0; i < 16; i++)
                if (pck->comp_svn[i] < l->sgx_svn[i] && n++ == 0)
                        sf = (struct shortfall){SF_SGX, i, pck->comp_svn[i], l->sgx_svn[i]};
        if (pck->pcesvn < l->pcesvn && n++ == 0)
                sf = (struct shortfall){SF_PCE, 0, pck->pcesvn, l->pcesvn};
        if (tee && !sgx_only)
                for (unsigned i = tdx_from; i < 16; i++)
                        if (tee[i] < l->tdx_svn[i] && n++ == 0)
                                sf = (struct shortfall){SF_TDX, i, tee[i], l->tdx_svn[i]};
        if (first)
                *first = sf;
        return n;
}

static int no_match(const struct vt_dcap_tcb_info *t, const struct vt_pck_ext *pck,
                    const uint8_t *tee, unsigned tdx_from, struct vt_diag *d)
{
        size_t best = SIZE_MAX, bi = 0;
        struct shortfall sf = {0}, cur;
        char what[64], date[21];
        /* the closest level: fewest shortfalls, the least demanding one on a tie */
        for (size_t i = 0; i < t->n_levels; i++) {
                size_t n = shortfalls(&t->levels[i], pck, tee, tdx_from, false, &cur);
                if (n > 0 && n <= best) {
                        best = n;
                        bi = i;
                        sf = cur;
                }
        }
        if (sf.kind == SF_SGX)
                snprintf(what, sizeof(what), "sgx component %u is %u, needs %u", sf.idx + 1,
                         sf.have, sf.need);
        else if (sf.kind == SF_PCE)
                snprintf(what, sizeof(what), "pcesvn is %u, needs %u", sf.have, sf.need);
        else
                snprintf(what, sizeof(what), "tdx component %u (tee_tcb_svn[%u]) is %u, needs %u",
                         sf.idx + 1, sf.idx, sf.have, sf.need);
        vt_time_format_rfc3339(t->levels[bi].tcb_date, date);
        return vt_diag_set(d, VT_E_TCB,
                           "dcap: no matching TCB level: %s (closest of %zu levels: %s, tcbDate "
                           "%s, %zu shortfall%s)",
                           what, t->n_levels, status_name(t->levels[bi].status), date, best,
                           best == 1 ? "" : "s");
}

/* ---- advisory IDs ---- */

static int add_advisories(struct vt_dcap_result *res, const struct vt_dcap_collateral *c,
                          struct vt_dcap_adv adv, struct vt_diag *d)
{
        for (uint32_t i = 0; i < adv.n; i++) {
                const char *id = c->adv[adv.first + i];
                bool dup = false;
                for (size_t k = 0; k < res->n_advisories && !dup; k++)
                        dup = strcmp(res->advisory_ids[k], id) == 0;
                if (dup)
                        continue;
                if (res->n_advisories == VT_DCAP_MAX_ADVISORIES)
                        return vt_diag_set(d, VT_E_LIMIT, "dcap: more than %u advisory IDs apply",
                                           VT_DCAP_MAX_ADVISORIES);
                snprintf(res->advisory_ids[res->n_advisories++], sizeof(res->advisory_ids[0]), "%s",
                         id);
        }
        return 0;
}

/* ---- the checks ---- */

static int check_module_identity(const struct vt_dcap_tcb_info *t, const struct vt_dcap_quote *q,
                                 const struct vt_dcap_tdx_module **ret_mod, char mod_id[16],
                                 struct vt_diag *d)
{
        const struct vt_td_report_body *b = &q->td;
        const struct vt_dcap_tdx_module *m = &t->tdx_module, *mod = NULL;
        const char *name = "tdxModule";
        uint8_t sa[8];
        char h1[97], h2[97];
        mod_id[0] = 0;
        if (b->tee_tcb_svn[1] > 0) {
                snprintf(mod_id, 16, "TDX_%02X", b->tee_tcb_svn[1]);
                mod = find_module(t, mod_id);
                if (!mod)
                        return vt_diag_set(d, VT_E_TCB,
                                           "dcap: TDX module mismatch: tcb_info has no module "
                                           "identity %s (tee_tcb_svn[1] = %u)",
                                           mod_id, b->tee_tcb_svn[1]);
                m = mod;
                name = mod_id;
        } else if (!t->has_tdx_module) {
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: TDX module mismatch: tcb_info has no "
                                   "tdxModule");
        }
        if (memcmp(m->mrsigner, b->mr_signer_seam, 48) != 0) {
                vt_hex_encode(b->mr_signer_seam, 48, h1);
                vt_hex_encode(m->mrsigner, 48, h2);
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: TDX module mismatch: mrsignerseam %s is not the mrsigner "
                                   "%s of %s",
                                   h1, h2, name);
        }
        /* Intel's QVL requires every byte 0 and equal to the identity's attributes */
        for (unsigned i = 0; i < 8; i++)
                sa[i] = (uint8_t)(b->seam_attributes >> (8 * i));
        for (unsigned i = 0; i < 8; i++)
                if (sa[i] != 0 || (sa[i] & m->attributes_mask[i]) != m->attributes[i]) {
                        vt_hex_encode(sa, 8, h1);
                        vt_hex_encode(m->attributes, 8, h2);
                        return vt_diag_set(d, VT_E_TCB,
                                           "dcap: TDX module mismatch: seam_attributes %s must be "
                                           "zero and match the attributes %s of %s",
                                           h1, h2, name);
                }
        *ret_mod = mod;
        return 0;
}

static int check_qe_identity(const struct vt_dcap_qe_identity *e, const struct vt_dcap_quote *q,
                             bool tdx, const struct vt_dcap_isv_level **ret_level,
                             struct vt_diag *d)
{
        const struct vt_sgx_report_body *r = &q->qe_report;
        enum vt_dcap_enclave_id want = tdx ? VT_DCAP_ID_TD_QE : VT_DCAP_ID_QE;
        uint8_t misc[4];
        char h1[65], h2[65];
        if (e->id != want)
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: QE identity mismatch: qe_identity is for %s, %s quote "
                                   "needs %s",
                                   e->id == VT_DCAP_ID_QE    ? "QE"
                                   : e->id == VT_DCAP_ID_QVE ? "QVE"
                                                             : "TD_QE",
                                   tdx ? "a TDX" : "an SGX", tdx ? "TD_QE" : "QE");
        if (memcmp(r->mr_signer, e->mrsigner, 32) != 0) {
                vt_hex_encode(r->mr_signer, 32, h1);
                vt_hex_encode(e->mrsigner, 32, h2);
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: QE identity mismatch: QE mrsigner %s is not %s", h1, h2);
        }
        if (r->isv_prod_id != e->isvprodid)
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: QE identity mismatch: QE isvprodid %u is not %u",
                                   r->isv_prod_id, e->isvprodid);
        for (unsigned i = 0; i < 4; i++)
                misc[i] = (uint8_t)(r->miscselect >> (8 * i));
        for (unsigned i = 0; i < 4; i++)
                if ((misc[i] & e->miscselect_mask[i]) != e->miscselect[i])
                        return vt_diag_set(d, VT_E_TCB,
                                           "dcap: QE identity mismatch: QE miscselect 0x%08x "
                                           "masked is not the identity's",
                                           r->miscselect);
        for (unsigned i = 0; i < 16; i++)
                if ((r->attributes[i] & e->attributes_mask[i]) != e->attributes[i]) {
                        vt_hex_encode(r->attributes, 16, h1);
                        return vt_diag_set(d, VT_E_TCB,
                                           "dcap: QE identity mismatch: QE attributes %s masked "
                                           "are not the identity's",
                                           h1);
                }
        const struct vt_dcap_isv_level *l = isv_match(e->levels, e->n_levels, r->isv_svn);
        if (!l)
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: no matching QE TCB level: QE isvsvn is %u, needs %u",
                                   r->isv_svn, e->levels[e->n_levels - 1].isvsvn);
        *ret_level = l;
        return 0;
}

/* TDRelaunchCheck.cpp: the TD runs on an out-of-date module only because it has not been
 * relaunched since a TD-preserving update; tee_tcb_svn2 (the module loaded now) meets the
 * newest level. */
static int check_relaunch(const struct vt_dcap_tcb_info *t, const struct vt_dcap_quote *q,
                          enum vt_tcb_status sgx_status, enum comp_state module, enum comp_state qe,
                          enum vt_tcb_status *io, struct vt_diag *d)
{
        const uint8_t *svn2 = q->td.tee_tcb_svn2;
        const struct vt_dcap_tcb_level *latest = &t->levels[0];
        enum vt_tcb_status tdx_status = *io;
        bool meets;
        if (qe != COMP_UP_TO_DATE || module != COMP_OUT_OF_DATE)
                return 0;
        if (sgx_status != VT_TCB_UP_TO_DATE && sgx_status != VT_TCB_SW_HARDENING_NEEDED &&
            sgx_status != VT_TCB_CONFIGURATION_NEEDED &&
            sgx_status != VT_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
                return 0;
        if (tdx_status != VT_TCB_OUT_OF_DATE &&
            tdx_status != VT_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
                return 0;
        if (svn2[1] == 0) {
                meets = svn2[0] >= latest->tdx_svn[0] && svn2[2] >= latest->tdx_svn[2];
        } else {
                char id[16];
                snprintf(id, sizeof(id), "TDX_%02X", svn2[1]);
                const struct vt_dcap_tdx_module *m2 = find_module(t, id);
                if (!m2)
                        return vt_diag_set(d, VT_E_TCB,
                                           "dcap: TDX module mismatch: tcb_info has no module "
                                           "identity %s (tee_tcb_svn2[1] = %u)",
                                           id, svn2[1]);
                meets = svn2[0] >= m2->levels[0].isvsvn && svn2[2] >= latest->tdx_svn[2];
        }
        if (meets)
                *io = config_needed(sgx_status) || config_needed(tdx_status)
                              ? VT_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
                              : VT_TCB_TD_RELAUNCH_ADVISED;
        return 0;
}

int vt_dcap_tcb_evaluate(const struct vt_dcap_collateral *c, const struct vt_dcap_quote *q,
                         const struct vt_pck_ext *pck, struct vt_dcap_result *ret,
                         struct vt_diag *d)
{
        struct vt_dcap_result res;
        const struct vt_dcap_tcb_info *t;
        const struct vt_dcap_tdx_module *mod = NULL;
        const struct vt_dcap_isv_level *qe_level = NULL, *mod_level = NULL;
        const struct vt_dcap_tcb_level *sgx_level = NULL, *tdx_level = NULL;
        enum comp_state qe_state, mod_state = COMP_UP_TO_DATE;
        char mod_id[16] = "", h1[13], h2[13];
        int r;
        if (!c || !q || !pck || !ret)
                return VT_E_INVAL;
        t = &c->tcb;
        if (t->n_levels == 0 || c->qe.n_levels == 0)
                return vt_diag_set(d, VT_E_INVAL, "dcap: collateral has no TCB info");
        bool tdx = q->body_type == VT_DCAP_BODY_TD10 || q->body_type == VT_DCAP_BODY_TD15;
        if (!tdx && q->body_type != VT_DCAP_BODY_SGX)
                return VT_E_INVAL;
        if (tdx != (q->tee_type == TEE_TYPE_TDX))
                return vt_diag_set(d, VT_E_TCB, "dcap: quote tee_type 0x%x does not match its body",
                                   q->tee_type);
        /* 4.1.2.4.9-10: the TCB info is for this TEE and this platform */
        if (tdx != t->tdx || (tdx && t->version < 3))
                return vt_diag_set(d, VT_E_TCB, "dcap: tcb_info is for %s, the quote is %s",
                                   t->tdx ? "TDX" : "SGX", tdx ? "TDX" : "SGX");
        if (memcmp(pck->fmspc, t->fmspc, 6) != 0) {
                vt_hex_encode(pck->fmspc, 6, h1);
                vt_hex_encode(t->fmspc, 6, h2);
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: PCK FMSPC %s does not match tcb_info fmspc %s", h1, h2);
        }
        if (memcmp(pck->pce_id, t->pce_id, 2) != 0) {
                vt_hex_encode(pck->pce_id, 2, h1);
                vt_hex_encode(t->pce_id, 2, h2);
                return vt_diag_set(d, VT_E_TCB,
                                   "dcap: PCK PCE-ID %s does not match tcb_info pceId %s", h1, h2);
        }
        /* 4.1.2.4.11: the TDX module identity */
        if (tdx && (r = check_module_identity(t, q, &mod, mod_id, d)) < 0)
                return r;
        /* 4.1.2.4.14-15: the QE identity and the QE's TCB level */
        if ((r = check_qe_identity(&c->qe, q, tdx, &qe_level, d)) < 0)
                return r;
        qe_state = qe_level->status == VT_TCB_UP_TO_DATE ? COMP_UP_TO_DATE
                   : qe_level->status == VT_TCB_REVOKED  ? COMP_REVOKED
                                                         : COMP_OUT_OF_DATE;
        /* 4.1.2.4.17: the first (highest) level that the PCK components and PCESVN meet is the
         * SGX level; for TDX the first that tee_tcb_svn also meets is the TDX level */
        const uint8_t *tee = tdx ? q->td.tee_tcb_svn : NULL;
        unsigned tdx_from = tdx && q->td.tee_tcb_svn[1] > 0 ? 2 : 0;
        for (size_t i = 0; i < t->n_levels && !(tdx ? tdx_level : sgx_level); i++) {
                const struct vt_dcap_tcb_level *l = &t->levels[i];
                if (shortfalls(l, pck, tee, tdx_from, true, NULL) > 0)
                        continue;
                if (!sgx_level)
                        sgx_level = l;
                if (tdx && shortfalls(l, pck, tee, tdx_from, false, NULL) == 0)
                        tdx_level = l;
        }
        if (!sgx_level || (tdx && !tdx_level))
                return no_match(t, pck, tee, tdx_from, d);

        enum vt_tcb_status status;
        if (!tdx) {
                status = converge(sgx_level->status, qe_state);
        } else {
                /* 4.1.2.4.17.4: the module's TCB level by tee_tcb_svn[0] */
                if (mod) {
                        mod_level = isv_match(mod->levels, mod->n_levels, q->td.tee_tcb_svn[0]);
                        if (!mod_level)
                                return vt_diag_set(d, VT_E_TCB,
                                                   "dcap: no matching TDX module TCB level: TDX "
                                                   "module %s ISV SVN is %u, needs %u",
                                                   mod_id, q->td.tee_tcb_svn[0],
                                                   mod->levels[mod->n_levels - 1].isvsvn);
                        if (mod_level->status == VT_TCB_UP_TO_DATE)
                                mod_state = COMP_UP_TO_DATE;
                        else if (mod_level->status == VT_TCB_OUT_OF_DATE)
                                mod_state = COMP_OUT_OF_DATE;
                        else if (mod_level->status == VT_TCB_REVOKED)
                                mod_state = COMP_REVOKED;
                        else
                                return vt_diag_set(d, VT_E_TCB,
                                                   "dcap: TDX module %s TCB level has status %s, "
                                                   "which a module level cannot have",
                                                   mod_id, status_name(mod_level->status));
                }
                status = converge(tdx_level->status, mod_state);
                if (status != VT_TCB_REVOKED && q->body_type == VT_DCAP_BODY_TD15 &&
                    (r = check_relaunch(t, q, sgx_level->status, mod_state, qe_state, &status, d)) <
                            0)
                        return r;
                status = converge(status, qe_state);
        }

        memset(&res, 0, sizeof(res));
        res.status = status;
        if ((r = add_advisories(&res, c, (tdx ? tdx_level : sgx_level)->adv, d)) < 0 ||
            (mod_level && (r = add_advisories(&res, c, mod_level->adv, d)) < 0) ||
            (r = add_advisories(&res, c, qe_level->adv, d)) < 0)
                return r;
        memcpy(res.fmspc, t->fmspc, 6);
        memcpy(res.pce_id, t->pce_id, 2);
        snprintf(res.tdx_module_id, sizeof(res.tdx_module_id), "%s", mod ? mod_id : "");
        /* collateral_earliest_expiry stays 0: it comes from vt_dcap_collateral_verify */
        *ret = res;
        return 0;
}
