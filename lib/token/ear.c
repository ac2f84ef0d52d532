/* SPDX-License-Identifier: Apache-2.0 */
#include "token/ear.h"

#include "util/json.h"

enum vt_ear_status vt_ear_status_of(const struct vt_ar4si *tv)
{
        return (enum vt_ear_status)vt_ar4si_tier_of(tv);
}

const char *vt_ear_status_name(enum vt_ear_status s)
{
        return vt_ar4si_tier_name((enum vt_ar4si_tier)s);
}

json_t *vt_ar4si_json(const struct vt_ar4si *tv)
{
        return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "instance-identity",
                         tv->instance_identity, "configuration", tv->configuration, "executables",
                         tv->executables, "file-system", tv->file_system, "hardware", tv->hardware,
                         "runtime-opaque", tv->runtime_opaque, "storage-opaque", tv->storage_opaque,
                         "sourced-data", tv->sourced_data);
}

/* Adds in's extra submodules (devices) to the submods object. */
static int ear_add_submods(json_t *submods, const struct vt_ear_input *in)
{
        for (size_t i = 0; i < in->n_submods; i++) {
                const struct vt_ear_submod *m = &in->submods[i];
                json_t *o = json_pack("{s:s, s:o, s:s, s:{s:O}}", "ear.status",
                                      vt_ear_status_name(vt_ear_status_of(m->tv)),
                                      "ear.trustworthiness-vector", vt_ar4si_json(m->tv),
                                      "ear.appraisal-policy-id", in->policy_id,
                                      "ear.veraison.annotated-evidence", m->tee, m->claims);
                if (!o || vt_json_set(submods, m->name, o) < 0)
                        return -1;
        }
        return 0;
}

json_t *vt_ear_claims(const struct vt_ear_input *in)
{
        json_auto_t *ev = json_object();
        if (!ev)
                return NULL;
        if (vt_json_set(ev, in->tee, json_incref(in->tee_claims)) < 0 ||
            vt_json_set(ev, "report_data", vt_json_hex(in->report_data, in->report_data_len)) < 0 ||
            vt_json_set(ev, "runtime_data_claims",
                        in->runtime_data ? json_incref(in->runtime_data) : json_null()) < 0 ||
            vt_json_set(ev, "init_data",
                        in->init_data_hex ? json_string(in->init_data_hex) : json_null()) < 0 ||
            vt_json_set(ev, "init_data_claims",
                        in->init_data_claims ? json_incref(in->init_data_claims) : json_null()) < 0)
                return NULL;
        json_t *cpu0 = json_pack(
                "{s:s, s:o, s:s, s:O}", "ear.status", vt_ear_status_name(vt_ear_status_of(in->tv)),
                "ear.trustworthiness-vector", vt_ar4si_json(in->tv), "ear.appraisal-policy-id",
                in->policy_id, "ear.veraison.annotated-evidence", ev);
        if (!cpu0)
                return NULL;
        if (vt_json_set(cpu0, "veritee.simulated", json_boolean(in->simulated)) < 0) {
                json_decref(cpu0);
                return NULL;
        }
        json_auto_t *c =
                json_pack("{s:s, s:I, s:I, s:I, s:s, s:{s:s, s:s}, s:{s:o}}", "eat_profile",
                          VT_EAR_PROFILE, "iat", (json_int_t)in->iat, "nbf", (json_int_t)in->iat,
                          "exp", (json_int_t)(in->iat + in->ttl), "iss", in->issuer,
                          "ear.verifier-id", "developer", "https://github.com/veritee/veritee",
                          "build", "veritee " VT_VERSION, "submods", "cpu0", cpu0);
        if (!c || (in->audience && vt_json_set(c, "aud", json_string(in->audience)) < 0))
                return NULL;
        if (in->n_submods && ear_add_submods(json_object_get(c, "submods"), in) < 0)
                return NULL;
        return TAKE_PTR(c);
}
