/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "fake_tsm.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "util/file.h"
#include "util/wr.h"
#include "veritee/sim.h"

#define MAX_ENTRIES   64
#define TDX_RD_AT     (48 + 520) /* v4 header, then REPORTDATA in the TD report body */
#define SNP_MAX_CERTS 3

struct fake_entry {
        int wd;
        char path[512];
        unsigned long long gen;
};

struct fake_tsm {
        char root[400];
        enum fake_tsm_kind kind;
        char sim_dir[400];
        uint8_t *tdx;
        size_t tdx_len;
        int ifd;
        pthread_t th;
        atomic_bool stop;
        atomic_int race;
        atomic_bool no_certs;
        atomic_uint answers;
        struct fake_entry entries[MAX_ENTRIES];
};

/* GUIDs of the GHCB certificate table, bytes in the order of their string form */
static const uint8_t guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

/* Replaces name in dir atomically (a temporary file, then rename), as a reader must
 * never see half an answer. */
static int put(const char *dir, const char *name, const void *data, size_t len)
{
        char p[600];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        return vt_write_file_atomic(p, data, len, 0600);
}

/* Creates an empty file without a write (no IN_CLOSE_WRITE for ourselves). */
static void touch(const char *dir, const char *name)
{
        char p[600];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        int fd = open(p, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
}

static void put_gen(struct fake_entry *en)
{
        char g[32];
        int n = snprintf(g, sizeof(g), "%llu\n", en->gen);
        put(en->path, "generation", g, (size_t)n);
}

static void new_entry(struct fake_tsm *f, const char *name)
{
        struct fake_entry *en = NULL;
        for (size_t i = 0; i < MAX_ENTRIES && !en; i++)
                if (f->entries[i].wd <= 0)
                        en = &f->entries[i];
        if (!en)
                return;
        snprintf(en->path, sizeof(en->path), "%s/%s", f->root, name);
        en->gen = 0;
        en->wd = inotify_add_watch(f->ifd, en->path, IN_CLOSE_WRITE);
        if (en->wd < 0) {
                en->wd = 0;
                return;
        }
        const char *prov = f->kind == FAKE_TSM_SNP ? "sev_guest\n" : "tdx_guest\n";
        put(en->path, "provider", prov, strlen(prov));
        touch(en->path, "inblob");
        touch(en->path, "outblob");
        if (f->kind == FAKE_TSM_SNP) {
                touch(en->path, "auxblob");
                touch(en->path, "privlevel");
                put(en->path, "privlevel_floor", "0\n", 2);
        }
        put_gen(en); /* last: its presence says the entry is ready */
}

/* The GHCB certificate table for a PEM chain (VCEK, ASK, ARK). */
static uint8_t *cert_table(const char *chain_pem, size_t *ret_len)
{
        const uint8_t *guids[SNP_MAX_CERTS] = {guid_vcek, guid_ask, guid_ark};
        unsigned char *der[SNP_MAX_CERTS] = {0};
        int len[SNP_MAX_CERTS] = {0};
        size_t n = 0, total = (SNP_MAX_CERTS + 1) * 24;
        BIO *b = BIO_new_mem_buf(chain_pem, -1);
        X509 *x;
        while (b && n < SNP_MAX_CERTS && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
                len[n] = i2d_X509(x, &der[n]);
                X509_free(x);
                if (len[n] <= 0)
                        break;
                total += (size_t)len[n];
                n++;
        }
        BIO_free(b);
        uint8_t *t = calloc(1, total);
        size_t off = (n + 1) * 24;
        for (size_t i = 0; t && i < n; i++) {
                uint8_t *e = t + i * 24;
                memcpy(e, guids[i], 16);
                vt_put_u32le(e + 16, (uint32_t)off);
                vt_put_u32le(e + 20, (uint32_t)len[i]);
                memcpy(t + off, der[i], (size_t)len[i]);
                off += (size_t)len[i];
        }
        for (size_t i = 0; i < n; i++)
                OPENSSL_free(der[i]);
        *ret_len = off; /* trimmed to the end of the last certificate, as the kernel does */
        return t;
}

static void answer(struct fake_tsm *f, struct fake_entry *en)
{
        char p[600];
        uint8_t *in = NULL;
        size_t in_len = 0;
        snprintf(p, sizeof(p), "%s/inblob", en->path);
        if (vt_read_file(p, 4096, &in, &in_len) < 0)
                return;
        if (in_len == 64 && f->kind == FAKE_TSM_SNP) {
                struct vt_sim_guest g;
                uint8_t report[VT_SNP_REPORT_SIZE];
                char *chain = NULL;
                if (vt_sim_load_guest(f->sim_dir, &g, NULL) == 0 &&
                    vt_sim_report(f->sim_dir, &g, in, report, &chain, NULL) == 0) {
                        size_t tl = 0;
                        uint8_t *table = atomic_load(&f->no_certs) ? NULL : cert_table(chain, &tl);
                        put(en->path, "outblob", report, sizeof(report));
                        put(en->path, "auxblob", table ? table : (const uint8_t *)"", tl);
                        free(table);
                }
                free(chain);
        } else if (in_len == 64) {
                memcpy(f->tdx + TDX_RD_AT, in, 64);
                put(en->path, "outblob", f->tdx, f->tdx_len);
        } else {
                put(en->path, "outblob", "", 0); /* the kernel refuses such a write */
        }
        free(in);
        int r = atomic_load(&f->race);
        en->gen += 1;
        if (r != 0) {
                en->gen += 1; /* "another writer" wrote inblob as well */
                if (r > 0)
                        atomic_fetch_sub(&f->race, 1);
        }
        atomic_fetch_add(&f->answers, 1);
        put_gen(en);
}

static void *run(void *arg)
{
        struct fake_tsm *f = arg;
        int root_wd = inotify_add_watch(f->ifd, f->root, IN_CREATE);
        _Alignas(struct inotify_event) char buf[8192];
        while (!atomic_load(&f->stop) && root_wd >= 0) {
                struct pollfd pfd = {.fd = f->ifd, .events = POLLIN};
                if (poll(&pfd, 1, 50) <= 0)
                        continue;
                ssize_t n = read(f->ifd, buf, sizeof(buf));
                for (ssize_t off = 0; n > 0 && off < n;) {
                        const struct inotify_event *ev = (const void *)(buf + off);
                        off += (ssize_t)(sizeof(*ev) + ev->len);
                        if (ev->wd == root_wd) {
                                if ((ev->mask & IN_CREATE) && (ev->mask & IN_ISDIR) && ev->len)
                                        new_entry(f, ev->name);
                                continue;
                        }
                        for (size_t i = 0; i < MAX_ENTRIES; i++) {
                                struct fake_entry *en = &f->entries[i];
                                if (en->wd != ev->wd || en->wd <= 0)
                                        continue;
                                if (ev->mask & IN_IGNORED)
                                        en->wd = 0; /* the entry is gone */
                                else if ((ev->mask & IN_CLOSE_WRITE) && ev->len &&
                                         strcmp(ev->name, "inblob") == 0)
                                        answer(f, en);
                        }
                }
        }
        return NULL;
}

int fake_tsm_start(const char *root, enum fake_tsm_kind kind, const char *sim_dir,
                   const char *tdx_quote, struct fake_tsm **ret)
{
        struct fake_tsm *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        snprintf(f->root, sizeof(f->root), "%s", root);
        snprintf(f->sim_dir, sizeof(f->sim_dir), "%s", sim_dir ? sim_dir : "");
        f->kind = kind;
        f->ifd = -1;
        if (kind == FAKE_TSM_TDX &&
            (!tdx_quote || vt_read_file(tdx_quote, 1u << 20, &f->tdx, &f->tdx_len) < 0 ||
             f->tdx_len < TDX_RD_AT + 64 || f->tdx[0] != 4)) {
                free(f->tdx);
                free(f);
                return -EINVAL;
        }
        if (mkdir(root, 0700) < 0 || (f->ifd = inotify_init1(IN_CLOEXEC)) < 0) {
                int err = errno;
                free(f->tdx);
                free(f);
                return -err;
        }
        int e = pthread_create(&f->th, NULL, run, f);
        if (e != 0) {
                close(f->ifd);
                free(f->tdx);
                free(f);
                return -e;
        }
        *ret = f;
        return 0;
}

void fake_tsm_race(struct fake_tsm *f, int n)
{
        atomic_store(&f->race, n);
}

void fake_tsm_no_certs(struct fake_tsm *f, bool on)
{
        atomic_store(&f->no_certs, on);
}

unsigned fake_tsm_answers(struct fake_tsm *f)
{
        return atomic_load(&f->answers);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)remove(p); /* best effort */
        return 0;
}

void fake_tsm_stop(struct fake_tsm *f)
{
        if (!f)
                return;
        atomic_store(&f->stop, true);
        pthread_join(f->th, NULL);
        close(f->ifd);
        nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(f->tdx);
        free(f);
}
