/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RIMs for a verified NVIDIA report: their IDs from the signed opaque fields
 * (../shared/notes/nvidia-gpu.md §3.2), loading them from a directory, the on-disk cache of
 * fetched RIMs or NVIDIA's RIM service (or a mirror), keeping verified RIMs in memory by ID,
 * content hash and day, and the comparison (lib/verify/nvidia_rim.c): colloquialVersion
 * against the report's version, every active golden value against block index+1, index 35
 * skipped when NVDEC0 is disabled, no index active in both driver and VBIOS RIMs.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "collateral/http.h"
#include "crypto/x509.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/macro.h"
#include "verify/nvidia_internal.h"
#include "verify/nvidia_rim.h"

/* NVIDIA CoRIM signing Root CA, P-384, 2023-03-16..2053-03-08, public (nvtrust's
 * verifier_RIM_root.pem, NVAT's rim_root.crt). Pinned by the SHA-256 of its DER:
 * 12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1 */
static const char nvidia_rim_root_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIICKTCCAbCgAwIBAgIQRdrjoA5QN73fh1N17LXicDAKBggqhkjOPQQDAzBFMQsw\n"
        "CQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29S\n"
        "SU0gc2lnbmluZyBSb290IENBMCAXDTIzMDMxNjE1MzczNFoYDzIwNTMwMzA4MTUz\n"
        "NzM0WjBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxO\n"
        "VklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMHYwEAYHKoZIzj0CAQYFK4EEACID\n"
        "YgAEuECyi9vNM+Iw2lfUzyBldHAwaC1HF7TCgp12QcEyUTm3Tagxwr48d55+K2VI\n"
        "lWYIDk7NlAIQdcV/Ff7euGLI+Qauj93HsSI4WX298PpW54RTgz9tC+Q684caR/BX\n"
        "WEeZo2MwYTAdBgNVHQ4EFgQUpaXrOPK4ZDAk08DBskn594zeZjAwHwYDVR0jBBgw\n"
        "FoAUpaXrOPK4ZDAk08DBskn594zeZjAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B\n"
        "Af8EBAMCAQYwCgYIKoZIzj0EAwMDZwAwZAIwHGDyscDP6ihHqRvZlI3eqZ4YkvjE\n"
        "1duaN84tAHRVgxVMvNrp5Tnom3idHYGW/dskAjATvjIx6VzHm/4e2GiZAyZEIUBD\n"
        "OKPzp5ei/A0iUZpdvngenDwV8Qa/wGdiTmJ7Bp4=\n"
        "-----END CERTIFICATE-----\n";

static const uint8_t nvidia_rim_root_sha256[32] = {
        0x12, 0x97, 0x7b, 0x51, 0x15, 0xac, 0xb0, 0x38, 0x11, 0x79, 0x27,
        0x9f, 0xff, 0xeb, 0x5a, 0x8c, 0x4d, 0x26, 0x49, 0x71, 0xeb, 0xb3,
        0x22, 0x98, 0x02, 0x3a, 0x46, 0x5f, 0xa4, 0x1d, 0xf5, 0xd1,
};

#define RIM_CACHE_MAX    64
#define RIM_MAX_FILE     (4u * 1024u * 1024u)
#define RIM_REFRESH_S    3600 /* a cached RIM's source is looked at again after an hour */
#define NVDEC0_DISABLED  0x55
#define NVDEC0_RIM_INDEX 35

struct rim_entry {
        char id[VT_NV_RIM_ID_MAX];
        int64_t day; /* the RIM's chain was verified for this day of verification time */
        uint8_t sha256[32];
        struct vt_nvrim *rim;
        int64_t checked; /* wall clock of the last look at its source */
        uint64_t tick;
};

struct vt_nv_rims {
        pthread_mutex_t lock;
        char *dir, *url, *cache_dir;
        bool allow_missing;
        X509 *root;
        struct rim_entry cache[RIM_CACHE_MAX];
        size_t n;
        uint64_t tick;
};

void vt_nv_rims_free(struct vt_nv_rims *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++)
                vt_nvrim_free(r->cache[i].rim);
        X509_free(r->root);
        free(r->dir);
        free(r->url);
        free(r->cache_dir);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

static int dup_opt(const char *s, char **ret)
{
        *ret = NULL;
        if (s && !(*ret = strdup(s)))
                return VT_E_NOMEM;
        return 0;
}

int vt_nv_rims_new(const char *dir, const char *url, const char *cache_dir, bool allow_missing,
                   struct vt_nv_rims **ret)
{
        struct vt_nv_rims *r = calloc(1, sizeof(*r));
        uint8_t sha[32];
        if (!r)
                return VT_E_NOMEM;
        pthread_mutex_init(&r->lock, NULL);
        r->allow_missing = allow_missing;
        if (url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
                vt_nv_rims_free(r);
                return VT_E_INVAL;
        }
        if (dup_opt(dir, &r->dir) < 0 || dup_opt(url, &r->url) < 0 ||
            dup_opt(cache_dir, &r->cache_dir) < 0 ||
            vt_x509_parse_one((const uint8_t *)nvidia_rim_root_pem, strlen(nvidia_rim_root_pem),
                              &r->root) < 0 ||
            vt_x509_der_sha256(r->root, sha) < 0 ||
            CRYPTO_memcmp(sha, nvidia_rim_root_sha256, 32) != 0) {
                vt_nv_rims_free(r);
                return VT_E_CRYPTO;
        }
        *ret = r;
        return 0;
}

int vt_nv_rims_set_root(struct vt_nv_rims *r, const uint8_t *pem, size_t len)
{
        X509 *x = NULL;
        int e = vt_x509_parse_one(pem, len, &x);
        if (e < 0)
                return e;
        X509_free(r->root);
        r->root = x;
        for (size_t i = 0; i < r->n; i++)
                vt_nvrim_free(r->cache[i].rim);
        r->n = 0;
        return 0;
}

/* Copies s into out in upper case without dots; VT_E_FORMAT for anything but [0-9A-Za-z.]. */
static int id_part(const char *s, char *out, size_t cap, bool strip_dots)
{
        size_t k = 0;
        for (; *s; s++) {
                if (*s == '.' && strip_dots)
                        continue;
                if (!isalnum((unsigned char)*s) && *s != '.')
                        return VT_E_FORMAT;
                if (k + 1 >= cap)
                        return VT_E_LIMIT;
                out[k++] = (char)toupper((unsigned char)*s);
        }
        out[k] = 0;
        return k ? 0 : VT_E_FORMAT;
}

int vt_nv_rim_ids(const struct vt_nv_report *rep, enum vt_nv_arch arch,
                  char driver[VT_NV_RIM_ID_MAX], char vbios[VT_NV_RIM_ID_MAX], struct vt_diag *d)
{
        char drv[64], vb[64], vbh[64], proj[16] = "", psku[16] = "", csku[16] = "", chip[32];
        int w;

        driver[0] = vbios[0] = 0;
        if (vt_nv_report_vbios_version(rep, vb, sizeof(vb)) < 0 ||
            id_part(vb, vbh, sizeof(vbh), true) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: RIM id: the report has no usable VBIOS version");
        if (arch == VT_NV_ARCH_LS10) {
                /* an LS10 report carries no project fields: NVIDIA's switch BIOS RIMs are
                 * named for the LS10 board, 5612/0002/890 */
                w = snprintf(vbios, VT_NV_RIM_ID_MAX, "NV_SWITCH_BIOS_5612_0002_890_%s", vbh);
                return w > 0 && w < VT_NV_RIM_ID_MAX ? 0 : VT_E_LIMIT;
        }
        char p1[16], p2[16], p3[16];
        if (vt_nv_report_string(rep, VT_NV_OPQ_PROJECT, p1, sizeof(p1)) < 0 ||
            vt_nv_report_string(rep, VT_NV_OPQ_PROJECT_SKU, p2, sizeof(p2)) < 0 ||
            vt_nv_report_string(rep, VT_NV_OPQ_CHIP_SKU, p3, sizeof(p3)) < 0 ||
            id_part(p1, proj, sizeof(proj), false) < 0 ||
            id_part(p2, psku, sizeof(psku), false) < 0 ||
            id_part(p3, csku, sizeof(csku), false) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: RIM id: the report lacks PROJECT, PROJECT_SKU or "
                                   "CHIP_SKU");
        if (vt_nv_report_string(rep, VT_NV_OPQ_DRIVER_VERSION, drv, sizeof(drv)) < 0 ||
            id_part(drv, (char[64]){0}, 64, false) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: RIM id: the report has no usable driver version");
        w = snprintf(vbios, VT_NV_RIM_ID_MAX, "NV_GPU_VBIOS_%s_%s_%s_%s", proj, psku, csku, vbh);
        if (w <= 0 || w >= VT_NV_RIM_ID_MAX)
                return VT_E_LIMIT;
        if (arch == VT_NV_ARCH_BLACKWELL) {
                if (vt_nv_report_string(rep, VT_NV_OPQ_CHIP_INFO, chip, sizeof(chip)) < 0 ||
                    id_part(chip, chip, sizeof(chip), false) < 0)
                        snprintf(chip, sizeof(chip), "GB100");
                w = snprintf(driver, VT_NV_RIM_ID_MAX, "NV_GPU_CC_DRIVER_%s_%s", chip, drv);
        } else {
                w = snprintf(driver, VT_NV_RIM_ID_MAX, "NV_GPU_DRIVER_GH100_%s", drv);
        }
        return w > 0 && w < VT_NV_RIM_ID_MAX ? 0 : VT_E_LIMIT;
}

/* Reads the RIM document for id: the directory (<ID>, <ID>.xml, <ID>.swidtag), then the
 * cache directory, then the service (written to the cache). VT_E_NOTFOUND if none has it. */
static int rim_source(const struct vt_nv_rims *r, const char *id, uint8_t **ret, size_t *ret_len,
                      struct vt_diag *d)
{
        static const char *const sfx[] = {"", ".xml", ".swidtag"};
        char path[4096];
        const char *dirs[] = {r->dir, r->cache_dir};
        for (size_t k = 0; k < ELEMENTSOF(dirs); k++)
                for (size_t i = 0; dirs[k] && i < ELEMENTSOF(sfx); i++) {
                        snprintf(path, sizeof(path), "%s/%s%s", dirs[k], id, sfx[i]);
                        if (vt_read_file(path, RIM_MAX_FILE, ret, ret_len) == 0)
                                return 0;
                }
        if (!r->url)
                return VT_E_NOTFOUND;
        /* GET <url><ID> -> {"id","rim":<base64 XML>,"sha256",...} */
        char url[2048];
        size_t ul = strlen(r->url);
        snprintf(url, sizeof(url), "%s%s%s", r->url, ul && r->url[ul - 1] == '/' ? "" : "/", id);
        _cleanup_free_ uint8_t *body = NULL;
        size_t bl;
        int e = vt_http_get(url, RIM_MAX_FILE * 2, &body, &bl, d);
        if (e < 0)
                return e;
        json_t *j = json_loadb((const char *)body, bl, 0, NULL);
        const char *b64 = json_string_value(json_object_get(j, "rim"));
        const char *jid = json_string_value(json_object_get(j, "id"));
        if (!b64 || (jid && strcmp(jid, id) != 0) ||
            vt_b64_decode(b64, strlen(b64), VT_B64_STD, RIM_MAX_FILE, ret, ret_len) < 0) {
                json_decref(j);
                return vt_diag_set(d, VT_E_FORMAT,
                                   "nvidia: RIM service answer for %s has no base64 \"rim\"", id);
        }
        json_decref(j);
        if (r->cache_dir) {
                snprintf(path, sizeof(path), "%s/%s.xml", r->cache_dir, id);
                (void)vt_write_file_atomic(path, *ret, *ret_len, 0644); /* a cache: best effort */
        }
        return 0;
}

static int sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
        unsigned ol = 0;
        return EVP_Digest(p, n, out, &ol, EVP_sha256(), NULL) == 1 ? 0 : VT_E_CRYPTO;
}

/* The cache entry for id on day, or NULL. Called with r->lock held. */
static struct rim_entry *rim_find(struct vt_nv_rims *r, const char *id, int64_t day)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->cache[i].day == day && strcmp(r->cache[i].id, id) == 0)
                        return &r->cache[i];
        return NULL;
}

/* A slot for id on day: its entry, a free one or the least recently used. Lock held. */
static struct rim_entry *rim_slot(struct vt_nv_rims *r, const char *id, int64_t day)
{
        struct rim_entry *e = rim_find(r, id, day);
        if (e)
                return e;
        if (r->n < RIM_CACHE_MAX)
                return &r->cache[r->n++];
        e = &r->cache[0];
        for (size_t i = 1; i < r->n; i++)
                if (r->cache[i].tick < e->tick)
                        e = &r->cache[i];
        return e;
}

/* Puts rim (NULL: known to be missing; ownership taken) for id on day into the cache. */
static void rim_insert(struct vt_nv_rims *r, const char *id, int64_t day, const uint8_t sha[32],
                       struct vt_nvrim *rim, int64_t now)
{
        pthread_mutex_lock(&r->lock);
        struct rim_entry *e = rim_slot(r, id, day);
        vt_nvrim_free(e->rim);
        memset(e, 0, sizeof(*e));
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->day = day;
        if (sha)
                memcpy(e->sha256, sha, 32);
        e->rim = rim;
        e->checked = now;
        e->tick = ++r->tick;
        pthread_mutex_unlock(&r->lock);
}

/* Makes sure the cache has a fresh entry (a verified RIM, or "missing") for id on the day of
 * at. The source is read, fetched and verified without the lock, so that a slow RIM service
 * never holds up verifications that need no fetch. */
static int rim_ensure(struct vt_nv_rims *r, const char *id, int64_t at, struct vt_diag *d)
{
        int64_t day = at / 86400, now = (int64_t)time(NULL);
        uint8_t old_sha[32];
        bool have_old = false;

        pthread_mutex_lock(&r->lock);
        struct rim_entry *hit = rim_find(r, id, day);
        if (hit && now - hit->checked < RIM_REFRESH_S) {
                hit->tick = ++r->tick;
                pthread_mutex_unlock(&r->lock);
                return 0;
        }
        if (hit && hit->rim) {
                memcpy(old_sha, hit->sha256, 32);
                have_old = true;
        }
        pthread_mutex_unlock(&r->lock);

        _cleanup_free_ uint8_t *xml = NULL;
        size_t len;
        uint8_t sha[32];
        int e = rim_source(r, id, &xml, &len, d);
        if (e == VT_E_NOTFOUND) {
                /* remember the absence for an hour, so that evidence naming a RIM nobody
                 * has does not cause a fetch per verification */
                rim_insert(r, id, day, NULL, NULL, now);
                return 0;
        }
        if (e < 0)
                return e;
        if ((e = sha256(xml, len, sha)) < 0)
                return e;
        if (have_old && CRYPTO_memcmp(old_sha, sha, 32) == 0) { /* unchanged: keep it */
                pthread_mutex_lock(&r->lock);
                if ((hit = rim_find(r, id, day)) && hit->rim)
                        hit->checked = now;
                pthread_mutex_unlock(&r->lock);
                return 0;
        }
        struct vt_nvrim *rim = NULL;
        struct vt_diag ld = {0};
        if ((e = vt_nvrim_load(xml, len, r->root, (time_t)at, &rim, &ld)) < 0)
                return vt_diag_set(d, e, "nvidia: RIM %s: %s", id, ld.msg);
        rim_insert(r, id, day, sha, rim, now);
        return 0;
}

/* The cached RIM for id on the day of at (borrowed: valid while r->lock is held), or
 * VT_E_NOTFOUND when it is known to be missing, VT_E_STALE when it is not in the cache. */
static int rim_cached(struct vt_nv_rims *r, const char *id, int64_t at, struct vt_nvrim **ret)
{
        struct rim_entry *e = rim_find(r, id, at / 86400);
        if (!e)
                return VT_E_STALE;
        *ret = e->rim;
        return e->rim ? 0 : VT_E_NOTFOUND;
}

/* The report's measurements as the RIM module takes them: RIM index = block index - 1. */
static size_t meas_of(const struct vt_nv_report *rep, struct vt_nvrim_meas *m)
{
        size_t n = 0;
        for (unsigned i = 0; i < rep->n_blocks; i++) {
                const struct vt_nv_block *b = &rep->blocks[i];
                if (b->index == 0 || b->len > VT_NVRIM_MAX_DIGEST)
                        continue;
                m[n].index = b->index - 1u;
                m[n].len = b->len;
                memcpy(m[n].digest, b->value, b->len);
                n++;
        }
        return n;
}

int vt_nv_rim_check(const struct vt_nvrim *rim, const char *id, const char *version,
                    const struct vt_nv_report *rep, unsigned *ret_matched, unsigned *ret_active,
                    struct vt_diag *d)
{
        struct vt_nvrim_meas m[VT_NV_MAX_BLOCKS];
        uint8_t skip[VT_NVRIM_MAX_INDEX / 8] = {0};
        const char *rv = vt_nvrim_version(rim);
        const uint8_t *nv;
        size_t nl;
        unsigned active = 0;

        if (!rv || strcasecmp(rv, version) != 0)
                return vt_diag_set(d, VT_E_POLICY,
                                   "nvidia: RIM %s: colloquialVersion \"%s\" is not the report's "
                                   "version \"%s\"",
                                   id, rv ? rv : "", version);
        if (vt_nv_report_field(rep, VT_NV_OPQ_NVDEC0_STATUS, &nv, &nl) == 0 && nl == 1 &&
            nv[0] == NVDEC0_DISABLED)
                skip[NVDEC0_RIM_INDEX / 8] |= (uint8_t)(1u << (NVDEC0_RIM_INDEX % 8));
        for (unsigned i = 0; i < VT_NVRIM_MAX_INDEX; i++)
                if (vt_nvrim_active(rim, i) && !(skip[i / 8] & (1u << (i % 8))))
                        active++;
        size_t n = meas_of(rep, m);
        unsigned matched = 0;
        struct vt_diag md = {0};
        int e = vt_nvrim_match(rim, m, n, skip, &matched, &md);
        if (e < 0)
                return vt_diag_set(d, e, "nvidia: %s", md.msg);
        if (ret_matched)
                *ret_matched = matched;
        if (ret_active)
                *ret_active = active;
        return 0;
}

int vt_nv_rims_appraise(struct vt_nv_rims *r, const struct vt_nv_report *rep, enum vt_nv_arch arch,
                        int64_t at, struct vt_nv_rim_outcome *out, struct vt_diag *d)
{
        char vb[64], drv[64];
        struct vt_nvrim *drim = NULL, *vrim = NULL;
        unsigned m1 = 0, a1 = 0, m2 = 0, a2 = 0;
        int e;

        memset(out, 0, sizeof(*out));
        if ((e = vt_nv_rim_ids(rep, arch, out->driver_id, out->vbios_id, d)) < 0)
                return e;
        (void)vt_nv_report_vbios_version(rep, vb, sizeof(vb));
        (void)vt_nv_report_string(rep, VT_NV_OPQ_DRIVER_VERSION, drv, sizeof(drv));
        const char *ids[2] = {out->vbios_id, out->driver_id};
        struct vt_nvrim **rims[2] = {&vrim, &drim};
        for (int attempt = 0;; attempt++) {
                for (int k = 0; k < 2; k++)
                        if (ids[k][0] && (e = rim_ensure(r, ids[k], at, d)) < 0)
                                return e;
                pthread_mutex_lock(&r->lock);
                int e1 = rim_cached(r, ids[0], at, rims[0]);
                int e2 = ids[1][0] ? rim_cached(r, ids[1], at, rims[1]) : 0;
                if ((e1 != VT_E_STALE && e2 != VT_E_STALE) || attempt == 2) {
                        e = e1 == VT_E_STALE || e2 == VT_E_STALE ? VT_E_STALE : 0;
                        for (int k = 0; !e && k < 2; k++) {
                                int ek = k ? e2 : e1;
                                if (ek == VT_E_NOTFOUND && !r->allow_missing)
                                        e = vt_diag_set(d, ek,
                                                        "nvidia: reference values unavailable: "
                                                        "RIM %s not found",
                                                        ids[k]);
                                if (ek == VT_E_NOTFOUND)
                                        *rims[k] = NULL;
                        }
                        if (e < 0) {
                                pthread_mutex_unlock(&r->lock);
                                return e == VT_E_STALE
                                               ? vt_diag_set(d, e,
                                                             "nvidia: RIM cache too busy, retry")
                                               : e;
                        }
                        break; /* the lock stays held for the comparison below */
                }
                pthread_mutex_unlock(&r->lock); /* evicted meanwhile: load again */
        }
        e = 0;
        if (!vrim && !drim)
                e = vt_diag_set(d, VT_E_NOTFOUND,
                                "nvidia: reference values unavailable: neither RIM %s nor %s "
                                "found",
                                out->vbios_id, out->driver_id[0] ? out->driver_id : "-");
        if (!e && vrim)
                e = vt_nv_rim_check(vrim, out->vbios_id, vb, rep, &m1, &a1, d);
        if (!e && drim)
                e = vt_nv_rim_check(drim, out->driver_id, drv, rep, &m2, &a2, d);
        if (!e && vrim && drim) {
                struct vt_diag cd = {0};
                if ((e = vt_nvrim_no_conflict(drim, vrim, &cd)) < 0)
                        vt_diag_set(d, e, "nvidia: %s", cd.msg);
        }
        if (!e) {
                const char *oem = vt_nvrim_manufacturer_id(vrim ? vrim : drim);
                snprintf(out->manufacturer, sizeof(out->manufacturer), "%s", oem ? oem : "");
        }
        pthread_mutex_unlock(&r->lock);
        if (e < 0)
                return e;
        out->vbios_checked = vrim != NULL;
        out->driver_checked = drim != NULL;
        out->matched = m1 + m2;
        out->active = a1 + a2;
        return 0;
}
