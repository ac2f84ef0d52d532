/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /dev/sev-guest (uapi/linux/sev-guest.h, Linux >= 5.19): SNP_GET_EXT_REPORT returns the
 * MSG_REPORT_RSP (status, size, the 1184-byte report at +0x20) and fills a page-aligned
 * buffer with the host's GHCB certificate table. When the buffer is too small the driver
 * fails with EIO, vmm_error SNP_GUEST_VMM_ERR_INVALID_LEN and the needed length in
 * certs_len; we grow it once. A host that provides no certificates leaves the table
 * empty: the verifier then fetches the VCEK itself.
 *
 * This provider has never run on hardware (docs/providers.md): it is built and its probe
 * is tested; the request follows the uapi header and the notes.
 */
#define _GNU_SOURCE
#include "provider.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sev-guest.h>

#include "evidence/snp_guest.h"
#include "util/macro.h"

#define CERTS_PAGE    4096u
#define CERTS_INITIAL (16u * 1024u) /* SEV_FW_BLOB_MAX_SIZE */
#define CERTS_MAX     (64u * 1024u)
#define MSG_VERSION   1

_Static_assert(sizeof(struct snp_guest_request_ioctl) == 32, "snp_guest_request_ioctl layout");
_Static_assert(sizeof(struct snp_report_req) == 96, "snp_report_req layout");

static const char *dev_path(const struct vt_provider_opts *o)
{
        return o->sev_guest_path ? o->sev_guest_path : VT_SEV_GUEST_DEFAULT_PATH;
}

static int open_dev(const struct vt_provider_opts *o, int *ret_fd, struct vt_diag *d)
{
        const char *p = dev_path(o);
        int fd = open(p, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                int err = errno;
                if (err == ENOENT)
                        return vt_diag_set(d, VT_E_NOTFOUND,
                                           "no %s (the sev-guest driver needs an SEV-SNP guest "
                                           "and Linux >= 5.19)",
                                           p);
                return vt_diag_set(d, VT_E_NOTFOUND, "cannot open %s: %s%s", p, strerror(err),
                                   err == EACCES || err == EPERM ? " (needs root)" : "");
        }
        *ret_fd = fd;
        return 0;
}

static int sevguest_probe(const struct vt_provider_opts *o, struct vt_diag *d)
{
        int fd = -1;
        int e = open_dev(o, &fd, d);
        if (e < 0)
                return e;
        close(fd);
        return 0;
}

static void free_aligned(uint8_t **p)
{
        free(*p);
}

static int sevguest_collect(const struct vt_provider_opts *o, const uint8_t report_data[64],
                            json_t **ret, struct vt_diag *d)
{
        struct snp_ext_report_req req;
        struct snp_report_resp resp;
        struct snp_guest_request_ioctl io;
        _cleanup_(free_aligned) uint8_t *certs = NULL;
        uint32_t certs_len = CERTS_INITIAL;
        int fd = -1, e, r = -1;
        if ((e = open_dev(o, &fd, d)) < 0)
                return e;
        for (int attempt = 0; attempt < 2; attempt++) {
                free(certs);
                certs = aligned_alloc(CERTS_PAGE, certs_len);
                if (!certs) {
                        close(fd);
                        return VT_E_NOMEM;
                }
                memset(certs, 0, certs_len);
                memset(&req, 0, sizeof(req));
                memset(&resp, 0, sizeof(resp));
                memset(&io, 0, sizeof(io));
                memcpy(req.data.user_data, report_data, 64);
                req.data.vmpl = 0;
                req.certs_address = (uint64_t)(uintptr_t)certs;
                req.certs_len = certs_len;
                io.msg_version = MSG_VERSION;
                io.req_data = (uint64_t)(uintptr_t)&req;
                io.resp_data = (uint64_t)(uintptr_t)&resp;
                do
                        r = ioctl(fd, SNP_GET_EXT_REPORT, &io);
                while (r < 0 && errno == EINTR);
                if (r == 0)
                        break;
                if (errno == EIO && io.vmm_error == SNP_GUEST_VMM_ERR_INVALID_LEN &&
                    req.certs_len > certs_len && req.certs_len <= CERTS_MAX) {
                        /* the host's table is larger: round up to pages and ask again */
                        certs_len = (req.certs_len + CERTS_PAGE - 1) / CERTS_PAGE * CERTS_PAGE;
                        continue;
                }
                break;
        }
        int err = errno;
        close(fd);
        if (r < 0)
                return vt_diag_set(d, VT_E_IO,
                                   "%s: SNP_GET_EXT_REPORT: %s (firmware error 0x%x, VMM error "
                                   "0x%x)",
                                   dev_path(o), strerror(err), io.fw_error, io.vmm_error);
        /* MSG_REPORT_RSP: the host relays it, so it is read like any evidence */
        const uint8_t *report = NULL;
        struct vt_diag rd = {0};
        if ((e = vt_snp_report_rsp_parse(resp.data, sizeof(resp.data), &report, &rd)) < 0)
                return vt_diag_set(d, e, "%s: %s", dev_path(o), rd.msg);
        if (memcmp(report + 0x50, report_data, 64) != 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: the report carries other report data than requested",
                                   dev_path(o));
        /* the table ends with an all-zero entry; the buffer is all ours and zeroed */
        return vt_snp_evidence(report, certs, certs_len, ret, d);
}

const struct vt_provider vt_provider_sevguest = {
        .name = "snp",
        .via = "sev-guest",
        .tee = "snp",
        .probe = sevguest_probe,
        .collect = sevguest_collect,
};
