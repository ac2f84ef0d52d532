/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA GPU evidence for the agent: the KBS additional evidence a Trustee guest sends
 * beside its CPU evidence ({"nvidia":{"device_evidence_list":[...]}}, docs/nvidia.md), read
 * through NVML. libnvidia-ml is opened with dlopen at run time, so the agent builds and
 * runs where there is no NVIDIA driver; it then says why there is no GPU evidence.
 *
 * The structures are NVML's public ones (nvml.h, NVML_CC_*); a field is read only after
 * the call that fills it succeeded. Nothing here verifies: the server does.
 */
#define _GNU_SOURCE
#include "provider.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/b64.h"
#include "util/json.h"
#include "util/macro.h"

#define NVML_SUCCESS                0
#define NVML_CC_NONCE               0x20
#define NVML_CC_REPORT              0x2000
#define NVML_CC_CEC_REPORT          0x1000
#define NVML_CERT_CHAIN             0x1000
#define NVML_ATTESTATION_CERT_CHAIN 0x1400
#define NVML_ARCH_HOPPER            9
#define NVML_ARCH_BLACKWELL         10
#define NVML_UUID_LEN               96

typedef void *nvml_device;

struct nvml_cc_state { /* nvmlConfComputeSystemState_t */
        unsigned environment, cc_feature, dev_tools_mode;
};

struct nvml_report { /* nvmlConfComputeGpuAttestationReport_t */
        unsigned is_cec_present, report_size, cec_report_size;
        unsigned char nonce[NVML_CC_NONCE];
        unsigned char report[NVML_CC_REPORT];
        unsigned char cec_report[NVML_CC_CEC_REPORT];
};

struct nvml_cert { /* nvmlConfComputeGpuCertificate_t */
        unsigned chain_size, attestation_chain_size;
        unsigned char chain[NVML_CERT_CHAIN];
        unsigned char attestation_chain[NVML_ATTESTATION_CERT_CHAIN];
};

struct nvml {
        void *so;
        int (*init)(void);
        int (*shutdown)(void);
        const char *(*error_string)(int);
        int (*cc_state)(struct nvml_cc_state *);
        int (*count)(unsigned *);
        int (*handle)(unsigned, nvml_device *);
        int (*arch)(nvml_device, unsigned *);
        int (*uuid)(nvml_device, char *, unsigned);
        int (*report)(nvml_device, struct nvml_report *);
        int (*cert)(nvml_device, struct nvml_cert *);
};

static int nvml_open(struct nvml *n, struct vt_diag *d)
{
        static const char *const names[] = {"libnvidia-ml.so.1", "libnvidia-ml.so"};
        for (size_t i = 0; i < ELEMENTSOF(names) && !n->so; i++)
                n->so = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!n->so)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "no NVIDIA GPU evidence: libnvidia-ml.so.1 not found (no "
                                   "NVIDIA driver in this guest)");
        struct {
                const char *name;
                void **fn;
        } syms[] = {
                {"nvmlInit_v2", (void **)&n->init},
                {"nvmlShutdown", (void **)&n->shutdown},
                {"nvmlErrorString", (void **)&n->error_string},
                {"nvmlSystemGetConfComputeState", (void **)&n->cc_state},
                {"nvmlDeviceGetCount_v2", (void **)&n->count},
                {"nvmlDeviceGetHandleByIndex_v2", (void **)&n->handle},
                {"nvmlDeviceGetArchitecture", (void **)&n->arch},
                {"nvmlDeviceGetUUID", (void **)&n->uuid},
                {"nvmlDeviceGetConfComputeGpuAttestationReport", (void **)&n->report},
                {"nvmlDeviceGetConfComputeGpuCertificate", (void **)&n->cert},
        };
        for (size_t i = 0; i < ELEMENTSOF(syms); i++)
                if (!(*syms[i].fn = dlsym(n->so, syms[i].name))) {
                        dlclose(n->so);
                        n->so = NULL;
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "no NVIDIA GPU evidence: this libnvidia-ml has no %s "
                                           "(a driver without confidential computing)",
                                           syms[i].name);
                }
        return 0;
}

static const char *nvml_err(const struct nvml *n, int rc)
{
        const char *s = n->error_string ? n->error_string(rc) : NULL;
        return s ? s : "unknown NVML error";
}

int vt_nvml_device_entry(const char *arch, const char *uuid, const uint8_t *report,
                         size_t report_len, const char *chain_pem, size_t chain_len, json_t **ret)
{
        _cleanup_free_ char *ev = NULL, *cert = NULL;
        if (vt_b64_encode(report, report_len, VT_B64_STD, &ev) < 0 ||
            vt_b64_encode((const uint8_t *)chain_pem, chain_len, VT_B64_STD, &cert) < 0)
                return VT_E_NOMEM;
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "arch", arch, "uuid", uuid, "evidence", ev,
                              "certificate", cert);
        if (!o)
                return VT_E_NOMEM;
        *ret = o;
        return 0;
}

int vt_nvml_additional_evidence(json_t *devices, char **ret)
{
        json_auto_t *o = json_pack("{s:{s:O}}", "nvidia", "device_evidence_list", devices);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (!s)
                return VT_E_NOMEM;
        *ret = s;
        return 0;
}

int vt_nvml_collect(const uint8_t nonce[32], char **ret, struct vt_diag *d)
{
        struct nvml n = {0};
        int e = nvml_open(&n, d), rc;
        if (e < 0)
                return e;
        if ((rc = n.init()) != NVML_SUCCESS) {
                e = vt_diag_set(d, VT_E_IO, "no NVIDIA GPU evidence: nvmlInit: %s",
                                nvml_err(&n, rc));
                dlclose(n.so);
                return e;
        }
        json_auto_t *list = json_array();
        struct nvml_cc_state st = {0};
        unsigned count = 0;
        struct nvml_report *rep = calloc(1, sizeof(*rep));
        struct nvml_cert *cert = calloc(1, sizeof(*cert));
        if (!list || !rep || !cert)
                e = VT_E_NOMEM;
        else if ((rc = n.cc_state(&st)) != NVML_SUCCESS)
                e = vt_diag_set(d, VT_E_IO,
                                "no NVIDIA GPU evidence: confidential computing state: %s",
                                nvml_err(&n, rc));
        else if (!st.cc_feature)
                e = vt_diag_set(d, VT_E_NOTFOUND,
                                "no NVIDIA GPU evidence: the GPUs are not in confidential "
                                "computing mode");
        else if (st.dev_tools_mode)
                e = vt_diag_set(d, VT_E_POLICY,
                                "no NVIDIA GPU evidence: DevTools mode is on (its measurements "
                                "never match NVIDIA's reference values)");
        else if ((rc = n.count(&count)) != NVML_SUCCESS || count == 0)
                e = vt_diag_set(d, VT_E_NOTFOUND, "no NVIDIA GPU evidence: %s",
                                rc != NVML_SUCCESS ? nvml_err(&n, rc) : "no GPU found");
        for (unsigned i = 0; e == 0 && i < count; i++) {
                nvml_device dev = NULL;
                unsigned arch = 0;
                char uuid[NVML_UUID_LEN] = "";
                memset(rep, 0, sizeof(*rep));
                memcpy(rep->nonce, nonce, NVML_CC_NONCE);
                if ((rc = n.handle(i, &dev)) != NVML_SUCCESS ||
                    (rc = n.arch(dev, &arch)) != NVML_SUCCESS ||
                    (rc = n.uuid(dev, uuid, sizeof(uuid))) != NVML_SUCCESS ||
                    (rc = n.report(dev, rep)) != NVML_SUCCESS ||
                    (rc = n.cert(dev, cert)) != NVML_SUCCESS) {
                        e = vt_diag_set(d, VT_E_IO, "GPU %u: NVML: %s", i, nvml_err(&n, rc));
                        break;
                }
                if (rep->report_size == 0 || rep->report_size > NVML_CC_REPORT ||
                    cert->attestation_chain_size == 0 ||
                    cert->attestation_chain_size > NVML_ATTESTATION_CERT_CHAIN) {
                        e = vt_diag_set(d, VT_E_FORMAT,
                                        "GPU %u: NVML gave a report of %u bytes and a chain of "
                                        "%u bytes",
                                        i, rep->report_size, cert->attestation_chain_size);
                        break;
                }
                uuid[sizeof(uuid) - 1] = 0;
                json_t *entry = NULL;
                e = vt_nvml_device_entry(arch == NVML_ARCH_BLACKWELL ? "BLACKWELL" : "HOPPER", uuid,
                                         rep->report, rep->report_size,
                                         (const char *)cert->attestation_chain,
                                         cert->attestation_chain_size, &entry);
                if (e == 0 && json_array_append_new(list, entry) < 0)
                        e = VT_E_NOMEM;
        }
        if (e == 0)
                e = vt_nvml_additional_evidence(list, ret);
        free(rep);
        free(cert);
        n.shutdown();
        dlclose(n.so);
        return e;
}
