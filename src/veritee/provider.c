/* SPDX-License-Identifier: Apache-2.0 */
#include "provider.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "crypto/x509.h"
#include "util/macro.h"
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

/* GUIDs in the byte order of their RFC 4122 string, as go-sev-guest reads them */
static const struct {
        const char *type;
        uint8_t guid[16];
} cert_guids[] = {
        {"VCEK",
         {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
          0xcd}},
        {"VLEK",
         {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
          0xa1}},
        {"ASK",
         {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
          0x82}},
        {"ARK",
         {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
          0xae}},
};

#define CERT_TABLE_MAX_ENTRIES 64

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int vt_snp_cert_table_parse(const uint8_t *buf, size_t len, struct vt_snp_wire_cert *certs,
                            size_t cap, size_t *ret_n, struct vt_diag *d)
{
        static const uint8_t zero[24];
        size_t n = 0;
        for (size_t i = 0, at = 0; len > 0; i++, at += 24) {
                if (i >= CERT_TABLE_MAX_ENTRIES || at > len || len - at < 24)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "certificate table: no terminating entry within %zu "
                                           "bytes",
                                           len);
                const uint8_t *e = buf + at;
                if (memcmp(e, zero, sizeof(zero)) == 0)
                        break;
                uint32_t off = le32(e + 16), sz = le32(e + 20);
                if (off > len || sz > len - off)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "certificate table entry %zu: offset %u length %u "
                                           "outside the %zu bytes",
                                           i, off, sz, len);
                for (size_t k = 0; k < ELEMENTSOF(cert_guids) && sz > 0; k++) {
                        if (memcmp(e, cert_guids[k].guid, 16) != 0)
                                continue;
                        if (n >= cap)
                                return vt_diag_set(d, VT_E_LIMIT,
                                                   "certificate table: more than %zu certificates",
                                                   cap);
                        if (sz > VT_SNP_WIRE_MAX_CERT_BYTES)
                                return vt_diag_set(
                                        d, VT_E_LIMIT, "certificate table: %s is %u bytes (cap %u)",
                                        cert_guids[k].type, sz, VT_SNP_WIRE_MAX_CERT_BYTES);
                        memset(&certs[n], 0, sizeof(certs[n]));
                        snprintf(certs[n].type, sizeof(certs[n].type), "%s", cert_guids[k].type);
                        certs[n].der = (uint8_t *)(buf + off);
                        certs[n].len = sz;
                        n++;
                }
        }
        *ret_n = n;
        return 0;
}

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
