/* SPDX-License-Identifier: Apache-2.0 */
#include "provider.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "crypto/x509.h"
#include "evidence/snp_wire.h"
#include "veritee/sim.h"

static const struct vt_provider *const providers[] = {
        &vt_provider_sim,
};

const struct vt_provider *vt_provider_find(const char *name, const struct vt_provider_opts *o,
                                           struct vt_diag *d)
{
        char why[512] = "";
        for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
                const struct vt_provider *p = providers[i];
                if (strcmp(name, "auto") != 0) {
                        if (strcmp(name, p->name) == 0)
                                return p;
                        continue;
                }
                struct vt_diag pd = {0};
                if (p->probe(o, &pd) == 0)
                        return p;
                size_t l = strlen(why);
                snprintf(why + l, sizeof(why) - l, "%s%s: %.200s", l ? "; " : "", p->name, pd.msg);
        }
        if (strcmp(name, "auto") == 0)
                vt_diag_set(d, VT_E_NOTFOUND, "no evidence provider is usable here (%s)", why);
        else
                vt_diag_set(d, VT_E_NOTFOUND,
                            "unknown tee \"%s\": this agent has providers for: sim (configfs-tsm, "
                            "/dev/sev-guest "
                            "and the Azure vTPM are not implemented yet)",
                            name);
        return NULL;
}

/* ---- sim: the veritee simulator, sends Trustee's SNP wire shape as tee "sim" ---- */

static int sim_probe(const struct vt_provider_opts *o, struct vt_diag *d)
{
        struct stat st;
        char path[4096];
        if (!o->sim_dir)
                return vt_diag_set(d, VT_E_NOTFOUND, "no simulator directory (--sim-dir)");
        snprintf(path, sizeof(path), "%s/root.pem", o->sim_dir);
        if (stat(path, &st) < 0)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "%s is not a simulator directory (run veritee sim init)",
                                   o->sim_dir);
        return 0;
}

static int sim_collect(const struct vt_provider_opts *o, const uint8_t report_data[64],
                       json_t **ret, struct vt_diag *d)
{
        struct vt_sim_guest g;
        uint8_t report[VT_SNP_REPORT_SIZE];
        _cleanup_free_ char *chain = NULL;
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        struct vt_snp_wire_cert certs[2] = {{.type = "VCEK"}, {.type = "ASK"}};
        int e;
        if ((e = sim_probe(o, d)) < 0 || (e = vt_sim_load_guest(o->sim_dir, &g, d)) < 0)
                return e;
        if (o->init_data_digest) {
                memset(g.host_data, 0, sizeof(g.host_data));
                memcpy(g.host_data, o->init_data_digest,
                       o->init_data_digest_len < sizeof(g.host_data) ? o->init_data_digest_len
                                                                     : sizeof(g.host_data));
        }
        if ((e = vt_sim_report(o->sim_dir, &g, report_data, report, &chain, d)) < 0)
                return e;
        if ((e = vt_x509_parse_many((const uint8_t *)chain, strlen(chain), &sk)) < 0 ||
            sk_X509_num(sk) < 2)
                return vt_diag_set(d, e < 0 ? e : VT_E_FORMAT,
                                   "sim: the simulator chain does not parse");
        for (int i = 0; i < 2; i++) {
                unsigned char *der = NULL;
                int n = i2d_X509(sk_X509_value(sk, i), &der);
                if (n <= 0) {
                        e = VT_E_CRYPTO;
                        break;
                }
                certs[i].der = der;
                certs[i].len = (size_t)n;
        }
        if (e == 0)
                e = vt_snp_wire_encode(report, certs, 2, ret);
        OPENSSL_free(certs[0].der);
        OPENSSL_free(certs[1].der);
        return e < 0 ? vt_diag_set(d, e, "sim: cannot encode the evidence") : 0;
}

const struct vt_provider vt_provider_sim = {
        .name = "sim",
        .tee = "sim",
        .probe = sim_probe,
        .collect = sim_collect,
};
