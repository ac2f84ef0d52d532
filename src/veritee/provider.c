/* SPDX-License-Identifier: Apache-2.0 */
#include "provider.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "crypto/x509.h"
#include "util/macro.h"
#include "evidence/snp_guest.h"
#include "evidence/snp_wire.h"
#include "veritee/sim.h"

/* The order is the order of --tee auto: hardware interfaces first, the simulator last. */
static const struct vt_provider *const providers[] = {
        &vt_provider_tsm_snp, &vt_provider_tsm_tdx, &vt_provider_sevguest,
        &vt_provider_vtpm,    &vt_provider_sim,
};

const struct vt_provider *vt_provider_find(const char *name, const struct vt_provider_opts *o,
                                           struct vt_diag *d)
{
        const struct vt_provider *match[ELEMENTSOF(providers)];
        size_t n = 0;
        bool any = strcmp(name, "auto") == 0;
        for (size_t i = 0; i < ELEMENTSOF(providers); i++)
                if (any || strcmp(name, providers[i]->name) == 0 ||
                    strcmp(name, providers[i]->via) == 0)
                        match[n++] = providers[i];
        if (n == 0) {
                vt_diag_set(d, VT_E_NOTFOUND,
                            "unknown tee \"%s\": this agent has providers for auto, snp "
                            "(configfs-tsm, sev-guest), tdx (configfs-tsm), az-snp-vtpm (vtpm) "
                            "and sim",
                            name);
                return NULL;
        }
        if (n == 1 && !any)
                return match[0];
        /* several ways: the first that works; otherwise every reason, each once */
        char why[1024] = "", last[sizeof(((struct vt_diag *)0)->msg)] = "";
        for (size_t i = 0; i < n; i++) {
                struct vt_diag pd = {0};
                if (match[i]->probe(o, &pd) == 0)
                        return match[i];
                if (strcmp(pd.msg, last) == 0)
                        continue;
                snprintf(last, sizeof(last), "%s", pd.msg);
                size_t l = strlen(why);
                snprintf(why + l, sizeof(why) - l, "%s%s %s: %s", l ? "; " : "", match[i]->name,
                         match[i]->via, pd.msg);
        }
        vt_diag_set(d, VT_E_NOTFOUND, "no evidence provider for %s is usable here (%s)", name, why);
        return NULL;
}

/* ---- the GHCB certificate table (configfs-tsm auxblob, SNP_GET_EXT_REPORT) ---- */

int vt_snp_evidence(const uint8_t report[VT_SNP_REPORT_SIZE], const uint8_t *table,
                    size_t table_len, json_t **ret, struct vt_diag *d)
{
        struct vt_snp_wire_cert certs[VT_SNP_WIRE_MAX_CERTS];
        size_t n = 0;
        int e = vt_snp_cert_table_parse(table, table_len, certs, ELEMENTSOF(certs), &n, d);
        if (e < 0)
                return e;
        if ((e = vt_snp_wire_encode(report, certs, n, ret)) < 0)
                return vt_diag_set(d, e, "snp: cannot encode the evidence (%s)", vt_strerror(e));
        return 0;
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
        .via = "sim",
        .tee = "sim",
        .probe = sim_probe,
        .collect = sim_collect,
};
