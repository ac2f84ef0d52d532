/* SPDX-License-Identifier: Apache-2.0 */
/*
 * configfs-tsm (Linux >= 6.7, Documentation/ABI/testing/configfs-tsm-report): one report
 * entry per request, for SEV-SNP (provider sev_guest: outblob is the 1184-byte report,
 * auxblob the GHCB certificate table) and TDX (provider tdx_guest: outblob is the DCAP
 * quote).
 *
 * The kernel's configfs creates an entry's attributes on mkdir, bumps `generation` on
 * every write and builds the report when outblob is read. The sequence below also works
 * on a plain directory answered by another process (the test tree): it waits for the
 * attributes to appear and for `generation` to move after the write (both immediate on
 * configfs), and removes the attribute files itself when rmdir says the entry is not
 * empty (rmdir alone suffices on configfs). `generation` is read before the write, after
 * it and after the last read: another writer in between (generation moved by more than
 * our one write) makes us retry, at most TSM_ATTEMPTS times.
 */
#define _GNU_SOURCE
#include "provider.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/b64.h"
#include "util/macro.h"
#include "veritee/dcap.h"

#define TSM_ATTEMPTS       3
#define TSM_WAIT_MS        3000 /* for a tree that is not configfs to answer */
#define TSM_MAX_OUTBLOB    (64u * 1024u)
#define TSM_MAX_AUXBLOB    (64u * 1024u)
#define SNP_REPORT_DATA_AT 0x50

static const char *const attr_names[] = {
        "inblob",          "outblob",
        "auxblob",         "generation",
        "provider",        "privlevel",
        "privlevel_floor", "service_provider",
        "service_guid",    "service_manifest_version",
        "manifestblob",
};

static const char *tsm_root(const struct vt_provider_opts *o)
{
        return o->tsm_path ? o->tsm_path : VT_TSM_DEFAULT_PATH;
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads a whole attribute (at most max bytes) into a malloc'd buffer with a NUL after it. */
static int read_attr(int dfd, const char *name, size_t max, uint8_t **ret, size_t *ret_len)
{
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t cap = 4096, n = 0;
        uint8_t *b = malloc(cap + 1);
        int r = 0;
        while (b) {
                if (n == cap) {
                        if (cap >= max) {
                                r = -EFBIG;
                                break;
                        }
                        cap = cap * 2 > max ? max : cap * 2;
                        uint8_t *nb = realloc(b, cap + 1);
                        if (!nb) {
                                r = -ENOMEM;
                                break;
                        }
                        b = nb;
                }
                ssize_t k = read(fd, b + n, cap - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        close(fd);
        if (!b)
                return -ENOMEM;
        if (r < 0) {
                free(b);
                return r;
        }
        b[n] = 0;
        *ret = b;
        *ret_len = n;
        return 0;
}

/* Reads a decimal attribute (generation). */
static int read_u64_attr(int dfd, const char *name, uint64_t *ret)
{
        _cleanup_free_ uint8_t *b = NULL;
        size_t n = 0;
        int r = read_attr(dfd, name, 64, &b, &n);
        if (r < 0)
                return r;
        uint64_t v = 0;
        size_t i = 0;
        for (; i < n && b[i] >= '0' && b[i] <= '9'; i++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(b[i] - '0');
        }
        if (i == 0 || (i < n && b[i] != '\n'))
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Writes data to an attribute in one write(2), as configfs binary attributes want. */
static int write_attr(int dfd, const char *name, const uint8_t *data, size_t len)
{
        int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t k;
        do
                k = write(fd, data, len);
        while (k < 0 && errno == EINTR);
        int r = k < 0 ? -errno : (size_t)k != len ? -EIO : 0;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

/* One report entry: its name, a descriptor for it, and its provider ("sev_guest"). */
struct entry {
        char path[4096];
        int dfd;
        char provider[32];
};

static void entry_remove(struct entry *en)
{
        if (en->dfd >= 0) {
                if (rmdir(en->path) < 0 && errno == ENOTEMPTY) {
                        /* not configfs: the attributes are ordinary files */
                        for (size_t i = 0; i < ELEMENTSOF(attr_names); i++)
                                (void)unlinkat(en->dfd, attr_names[i], 0);
                        (void)rmdir(en->path);
                }
                close(en->dfd);
                en->dfd = -1;
        }
}

/* Creates a fresh entry in the report directory and reads its provider. */
static int entry_create(const struct vt_provider_opts *o, struct entry *en, struct vt_diag *d)
{
        const char *root = tsm_root(o);
        struct stat st;
        uint8_t rnd[8];
        char hex[17];
        en->dfd = -1;
        if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "no %s (configfs-tsm needs Linux >= 6.7 and a TEE guest)", root);
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return vt_diag_set(d, VT_E_IO, "configfs-tsm: getrandom: %s", strerror(errno));
        for (size_t i = 0; i < sizeof(rnd); i++)
                snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
        if ((size_t)snprintf(en->path, sizeof(en->path), "%s/veritee-%ld-%s", root, (long)getpid(),
                             hex) >= sizeof(en->path))
                return vt_diag_set(d, VT_E_INVAL, "configfs-tsm: path %s is too long", root);
        if (mkdir(en->path, 0700) < 0)
                return vt_diag_set(
                        d, errno == EACCES || errno == EPERM ? VT_E_NOTFOUND : VT_E_IO,
                        "cannot create a report entry in %s: %s%s", root, strerror(errno),
                        errno == EACCES || errno == EPERM ? " (configfs-tsm needs root)" : "");
        en->dfd = open(en->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (en->dfd < 0) {
                int err = errno;
                (void)rmdir(en->path);
                return vt_diag_set(d, VT_E_IO, "cannot open %s: %s", en->path, strerror(err));
        }
        /* configfs: there already; a plain directory: wait for whoever answers it */
        int64_t until = now_ms() + TSM_WAIT_MS;
        while (faccessat(en->dfd, "generation", F_OK, 0) < 0) {
                if (now_ms() > until) {
                        entry_remove(en);
                        return vt_diag_set(d, VT_E_NOTFOUND,
                                           "%s is not configfs-tsm: a new entry has no generation "
                                           "attribute after %d ms",
                                           root, TSM_WAIT_MS);
                }
                sleep_ms(2);
        }
        _cleanup_free_ uint8_t *prov = NULL;
        size_t pl = 0;
        int r = read_attr(en->dfd, "provider", 64, &prov, &pl);
        if (r < 0) {
                entry_remove(en);
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "configfs-tsm at %s has no provider (%s): no TEE guest driver "
                                   "(sev-guest, tdx-guest) is loaded",
                                   root, strerror(-r));
        }
        while (pl > 0 && (prov[pl - 1] == '\n' || prov[pl - 1] == ' '))
                prov[--pl] = 0;
        snprintf(en->provider, sizeof(en->provider), "%s", (const char *)prov);
        return 0;
}

static int tsm_probe_for(const struct vt_provider_opts *o, const char *want, struct vt_diag *d)
{
        struct entry en;
        int e = entry_create(o, &en, d);
        if (e < 0)
                return e;
        bool ok = strcmp(en.provider, want) == 0;
        char got[sizeof(en.provider)];
        snprintf(got, sizeof(got), "%s", en.provider);
        entry_remove(&en);
        if (!ok)
                return vt_diag_set(d, VT_E_NOTFOUND, "configfs-tsm at %s is provided by %s, not %s",
                                   tsm_root(o), got[0] ? got : "(nothing)", want);
        return 0;
}

/* Writes report_data to inblob and reads outblob (and auxblob when aux is non-NULL) of
 * one generation. VT_E_REPLAY when another writer got in between (the caller retries). */
static int tsm_request(struct entry *en, const uint8_t report_data[64], uint8_t **out,
                       size_t *out_len, uint8_t **aux, size_t *aux_len, struct vt_diag *d)
{
        uint64_t g0 = 0, g1 = 0, g2 = 0;
        int r;
        if ((r = read_u64_attr(en->dfd, "generation", &g0)) < 0)
                return vt_diag_set(d, VT_E_IO, "configfs-tsm: cannot read %s/generation: %s",
                                   en->path, strerror(-r));
        if ((r = write_attr(en->dfd, "inblob", report_data, 64)) < 0)
                return vt_diag_set(d, VT_E_IO, "configfs-tsm: cannot write %s/inblob: %s", en->path,
                                   strerror(-r));
        /* configfs bumps generation in the write itself; another tree may take a moment */
        int64_t until = now_ms() + TSM_WAIT_MS;
        for (;;) {
                if ((r = read_u64_attr(en->dfd, "generation", &g1)) < 0)
                        return vt_diag_set(d, VT_E_IO,
                                           "configfs-tsm: cannot read %s/generation: %s", en->path,
                                           strerror(-r));
                if (g1 != g0)
                        break;
                if (now_ms() > until)
                        return vt_diag_set(d, VT_E_IO,
                                           "configfs-tsm: %s/generation stayed %llu after "
                                           "writing inblob (not configfs-tsm?)",
                                           en->path, (unsigned long long)g0);
                sleep_ms(2);
        }
        if (g1 != g0 + 1)
                return vt_diag_set(d, VT_E_REPLAY,
                                   "configfs-tsm: %s/generation went from %llu to %llu over our "
                                   "one write (another writer)",
                                   en->path, (unsigned long long)g0, (unsigned long long)g1);
        if ((r = read_attr(en->dfd, "outblob", TSM_MAX_OUTBLOB, out, out_len)) < 0)
                return vt_diag_set(d, VT_E_IO, "configfs-tsm: cannot read %s/outblob: %s", en->path,
                                   strerror(-r));
        if (aux && (r = read_attr(en->dfd, "auxblob", TSM_MAX_AUXBLOB, aux, aux_len)) < 0)
                return vt_diag_set(d, VT_E_IO, "configfs-tsm: cannot read %s/auxblob: %s", en->path,
                                   strerror(-r));
        if ((r = read_u64_attr(en->dfd, "generation", &g2)) < 0)
                return vt_diag_set(d, VT_E_IO, "configfs-tsm: cannot read %s/generation: %s",
                                   en->path, strerror(-r));
        if (g2 != g1)
                return vt_diag_set(d, VT_E_REPLAY,
                                   "configfs-tsm: %s/generation went from %llu to %llu while "
                                   "reading the report (another writer)",
                                   en->path, (unsigned long long)g1, (unsigned long long)g2);
        return 0;
}

/* The report data that outblob carries, to check that it is the report we asked for. */
static int outblob_report_data(bool snp, const uint8_t *out, size_t len, uint8_t rd[64],
                               struct vt_diag *d)
{
        if (snp) {
                if (len != VT_SNP_REPORT_SIZE)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "configfs-tsm: outblob is %zu bytes, an SNP report is "
                                           "%u",
                                           len, VT_SNP_REPORT_SIZE);
                memcpy(rd, out + SNP_REPORT_DATA_AT, 64);
                return 0;
        }
        struct vt_dcap_quote *q = NULL;
        struct vt_diag qd = {0};
        if (vt_dcap_quote_parse(out, len, &q, &qd) < 0)
                return vt_diag_set(d, VT_E_FORMAT, "configfs-tsm: outblob is not a quote: %s",
                                   qd.msg);
        bool td = q->body_type != VT_DCAP_BODY_SGX;
        if (td)
                memcpy(rd, q->td.report_data, 64);
        vt_dcap_quote_free(q);
        return td ? 0 : vt_diag_set(d, VT_E_FORMAT, "configfs-tsm: outblob is an SGX quote");
}

static int tsm_collect_for(const struct vt_provider_opts *o, bool snp,
                           const uint8_t report_data[64], json_t **ret, struct vt_diag *d)
{
        const char *want = snp ? "sev_guest" : "tdx_guest";
        struct entry en;
        int e = entry_create(o, &en, d);
        if (e < 0)
                return e;
        if (strcmp(en.provider, want) != 0) {
                entry_remove(&en);
                return vt_diag_set(d, VT_E_NOTFOUND, "configfs-tsm at %s is provided by %s, not %s",
                                   tsm_root(o), en.provider, want);
        }
        _cleanup_free_ uint8_t *out = NULL, *aux = NULL;
        size_t ol = 0, al = 0;
        struct vt_diag last = {0};
        e = VT_E_REPLAY;
        for (int attempt = 0; attempt < TSM_ATTEMPTS && e == VT_E_REPLAY; attempt++) {
                uint8_t got[64];
                free(out);
                free(aux);
                out = aux = NULL;
                vt_diag_clear(&last);
                e = tsm_request(&en, report_data, &out, &ol, snp ? &aux : NULL, &al, &last);
                if (e == 0 && (e = outblob_report_data(snp, out, ol, got, &last)) == 0 &&
                    memcmp(got, report_data, 64) != 0)
                        e = vt_diag_set(&last, VT_E_REPLAY,
                                        "configfs-tsm: the report in %s/outblob carries other "
                                        "report data than we wrote (another writer)",
                                        en.path);
        }
        entry_remove(&en);
        if (e == VT_E_REPLAY)
                return vt_diag_set(d, VT_E_IO, "%s; gave up after %d attempts", last.msg,
                                   TSM_ATTEMPTS);
        if (e < 0)
                return vt_diag_set(d, e, "%s", last.msg);
        if (snp)
                return vt_snp_evidence(out, aux, al, ret, d);
        /* tee "tdx": Trustee's {"quote": standard base64} (no CC event log here) */
        _cleanup_free_ char *b64 = NULL;
        if (vt_b64_encode(out, ol, VT_B64_STD, &b64) < 0)
                return VT_E_NOMEM;
        *ret = json_pack("{s:s}", "quote", b64);
        return *ret ? 0 : VT_E_NOMEM;
}

static int tsm_snp_probe(const struct vt_provider_opts *o, struct vt_diag *d)
{
        return tsm_probe_for(o, "sev_guest", d);
}

static int tsm_tdx_probe(const struct vt_provider_opts *o, struct vt_diag *d)
{
        return tsm_probe_for(o, "tdx_guest", d);
}

static int tsm_snp_collect(const struct vt_provider_opts *o, const uint8_t report_data[64],
                           json_t **ret, struct vt_diag *d)
{
        return tsm_collect_for(o, true, report_data, ret, d);
}

static int tsm_tdx_collect(const struct vt_provider_opts *o, const uint8_t report_data[64],
                           json_t **ret, struct vt_diag *d)
{
        return tsm_collect_for(o, false, report_data, ret, d);
}

const struct vt_provider vt_provider_tsm_snp = {
        .name = "snp",
        .via = "configfs-tsm",
        .tee = "snp",
        .probe = tsm_snp_probe,
        .collect = tsm_snp_collect,
};

const struct vt_provider vt_provider_tsm_tdx = {
        .name = "tdx",
        .via = "configfs-tsm",
        .tee = "tdx",
        .probe = tsm_tdx_probe,
        .collect = tsm_tdx_collect,
};
