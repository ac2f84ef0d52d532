/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Composite attestation: the devices of tee-evidence.additional_evidence (issue 15). The
 * string is a JSON object keyed by device type; each device becomes one EAR submodule next
 * to the CPU's cpu0. Only NVIDIA GPUs and NVSwitches ("nvidia") are verified; any other key
 * is refused rather than ignored, so that nothing a client sends is silently left out.
 * The devices are bound to the session by their request nonce (the first 32 bytes of
 * SHA-384(JCS({nonce, tee-pubkey})), kbs/rcar.h), and their evidence is bound into the CPU's
 * report data by the runtime-data binding that hashes the additional evidence string.
 */
#include <stdio.h>
#include <string.h>

#include "attest/attest.h"
#include "util/json.h"
#include "util/macro.h"

void vt_attest_devices_done(struct vt_attest_devices *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n && i < VT_ATTEST_MAX_DEVICES; i++)
                json_decref(r->dev[i].claims);
        memset(r, 0, sizeof(*r));
}

static void nv_evidence_freep(struct vt_nv_evidence **e)
{
        vt_nv_evidence_free(*e);
}

/* Verifies the "nvidia" device list (the whole additional evidence text, whose only key is
 * "nvidia") into out. */
static int attest_nvidia(const struct vt_attest_ctx *c, const char *text, const uint8_t nonce[32],
                         int64_t at, struct vt_attest_devices *out, struct vt_diag *d)
{
        _cleanup_(nv_evidence_freep) struct vt_nv_evidence *ev = NULL;
        struct vt_diag pd = {0};
        int e;
        if (!c->nvidia)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "additional evidence: NVIDIA device evidence is not accepted "
                                   "by this server (attestation.nvidia is false)");
        if ((e = vt_nv_evidence_parse(text, strlen(text), &ev, &pd)) < 0)
                return vt_diag_set(d, e, "additional evidence: nvidia: %s", pd.msg);
        if (ev->n == 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "additional evidence: nvidia: device_evidence_list is empty");
        unsigned n_gpu = 0, n_switch = 0;
        for (size_t i = 0; i < ev->n; i++) {
                const struct vt_nv_device *dev = &ev->dev[i];
                if (out->n >= VT_ATTEST_MAX_DEVICES)
                        return vt_diag_set(d, VT_E_LIMIT,
                                           "additional evidence: more than %u devices",
                                           VT_ATTEST_MAX_DEVICES);
                struct vt_nv_verify_opts o = {
                        .nonce = nonce, .at = at, .uuid = dev->uuid[0] ? dev->uuid : NULL};
                struct vt_nv_result res = {0};
                struct vt_diag vd = {0};
                e = vt_nv_verify(c->nvidia, dev->report, dev->report_len, dev->chain,
                                 dev->chain_len, &o, &res, &vd);
                if (e < 0)
                        return vt_diag_set(d, e,
                                           "additional evidence: nvidia device %zu (%s%s%s): %s%s",
                                           i, vt_nv_arch_name(dev->arch), dev->uuid[0] ? " " : "",
                                           dev->uuid, vd.msg[0] ? vd.msg : vt_strerror(e),
                                           e == VT_E_BINDING && strstr(vd.msg, "nonce")
                                                   ? " (the device nonce is the first 32 bytes of "
                                                     "SHA-384(JCS({nonce, tee-pubkey})))"
                                                   : "");
                enum vt_nv_arch arch = res.arch != VT_NV_ARCH_UNKNOWN ? res.arch : dev->arch;
                struct vt_attest_device *od = &out->dev[out->n];
                memset(od, 0, sizeof(*od));
                if (arch == VT_NV_ARCH_LS10)
                        snprintf(od->name, sizeof(od->name), "switch%u", n_switch++);
                else
                        snprintf(od->name, sizeof(od->name), "gpu%u", n_gpu++);
                od->tee = "nvidia";
                od->tv = res.ar4si;
                snprintf(od->note, sizeof(od->note), "%s", res.note);
                od->claims = json_loads(res.claims ? res.claims : "{}", 0, NULL);
                vt_nv_result_done(&res);
                if (!od->claims)
                        return VT_E_NOMEM;
                out->n++;
        }
        return 0;
}

/* Trustee's "sampledevice": an unsigned sample device, for development only (with
 * attestation.allow_sample, like tee sample). Nothing is verified: its submodule,
 * sampledevice0, is never affirming (no hardware, no signature), and a policy that requires
 * a gpu submodule never sees one. */
static int attest_sampledevice(const struct vt_attest_ctx *c, const json_t *v,
                               struct vt_attest_devices *out, struct vt_diag *d)
{
        if (!c->allow_sample)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "additional evidence: device type \"sampledevice\" (unsigned) "
                                   "needs attestation.allow_sample");
        if (!json_is_object(v))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "additional evidence: sampledevice must be a JSON object");
        if (out->n >= VT_ATTEST_MAX_DEVICES)
                return vt_diag_set(d, VT_E_LIMIT, "additional evidence: more than %u devices",
                                   VT_ATTEST_MAX_DEVICES);
        struct vt_attest_device *od = &out->dev[out->n];
        memset(od, 0, sizeof(*od));
        snprintf(od->name, sizeof(od->name), "sampledevice0");
        od->tee = "sampledevice";
        od->tv = (struct vt_ar4si){.instance_identity = VT_AR4SI_AFFIRMING,
                                   .hardware = VT_AR4SI_UNRECOGNIZED_HARDWARE,
                                   .executables = VT_AR4SI_UNRECOGNIZED_RUNTIME,
                                   .configuration = VT_AR4SI_UNSUPPORTABLE_CONFIG};
        snprintf(od->note, sizeof(od->note), "unsigned sample device (attestation.allow_sample)");
        od->claims = json_pack("{s:O?, s:b}", "svn", json_object_get(v, "svn"), "simulated", 1);
        if (!od->claims)
                return VT_E_NOMEM;
        out->n++;
        return 0;
}

int vt_attest_devices(const struct vt_attest_ctx *c, const char *additional,
                      const uint8_t nonce[32], int64_t at, struct vt_attest_devices *ret,
                      struct vt_diag *d)
{
        struct vt_attest_devices out = {0};
        int e = 0;
        if (!c || !nonce || !ret)
                return VT_E_INVAL;
        memset(ret, 0, sizeof(*ret));
        if (!additional || !additional[0])
                return 0;
        json_error_t je;
        json_auto_t *j = json_loads(additional, JSON_REJECT_DUPLICATES, &je);
        if (!j || !json_is_object(j))
                return vt_diag_set(
                        d, VT_E_FORMAT,
                        "additional evidence: not a JSON object keyed by device type%s%s",
                        j ? "" : ": ", j ? "" : je.text);
        const char *k;
        json_t *v;
        json_object_foreach (j, k, v) {
                if (strcmp(k, "nvidia") != 0 && strcmp(k, "sampledevice") != 0)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "additional evidence: device type \"%.32s\" is not "
                                           "supported (only \"nvidia\"; \"sampledevice\" with "
                                           "attestation.allow_sample)",
                                           k);
        }
        if (json_object_get(j, "sampledevice"))
                e = attest_sampledevice(c, json_object_get(j, "sampledevice"), &out, d);
        if (e == 0 && json_object_get(j, "nvidia")) {
                /* vt_nv_evidence_parse reads the "nvidia" member of the whole text */
                if (json_object_size(j) == 1)
                        e = attest_nvidia(c, additional, nonce, at, &out, d);
                else {
                        json_auto_t *o = json_pack("{s:O}", "nvidia", json_object_get(j, "nvidia"));
                        _cleanup_free_ char *nv = o ? json_dumps(o, JSON_COMPACT) : NULL;
                        e = nv ? attest_nvidia(c, nv, nonce, at, &out, d) : VT_E_NOMEM;
                }
        }
        if (e < 0) {
                vt_attest_devices_done(&out);
                return e;
        }
        *ret = out;
        return 0;
}
