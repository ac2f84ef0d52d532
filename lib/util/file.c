/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/macro.h"
#include "veritee/veritee.h"

/* lib/util uses no library: explicit_bzero (glibc) rather than OPENSSL_clear_free */
static void wipe_free(uint8_t *p, size_t n)
{
        explicit_bzero(p, n);
        free(p);
}

int vt_read_fd(int fd, size_t max, uint8_t **ret, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        uint8_t *buf = malloc(cap + 1);
        if (!buf)
                return VT_E_NOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap > max) {
                                wipe_free(buf, cap + 1);
                                return VT_E_INVAL;
                        }
                        /* not realloc: the old block may hold a secret, wiped before it goes */
                        uint8_t *nb = malloc(cap * 2 + 1);
                        if (!nb) {
                                wipe_free(buf, cap + 1);
                                return VT_E_NOMEM;
                        }
                        memcpy(nb, buf, len);
                        wipe_free(buf, cap + 1);
                        buf = nb;
                        cap *= 2;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int err = errno;
                        wipe_free(buf, cap + 1);
                        errno = err;
                        return VT_E_IO;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max) {
                wipe_free(buf, cap + 1);
                return VT_E_INVAL;
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

int vt_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return VT_E_IO;
        int r = vt_read_fd(fd, max, ret, ret_len), err = errno;
        close(fd);
        errno = err;
        return r;
}

int vt_fsync_parent(const char *path)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir =
                slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
        if (!dir)
                return VT_E_NOMEM;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return VT_E_IO;
        int r = fsync(fd), err = errno;
        close(fd);
        errno = err;
        return r < 0 ? VT_E_IO : 0;
}

int vt_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
        size_t plen = strlen(path);
        _cleanup_free_ char *tmp = malloc(plen + 16);
        if (!tmp)
                return VT_E_NOMEM;
        snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
        /* mkstemp makes the file 0600 and the mode is set before the first byte, so a
         * private key is never readable by others, not even for a moment */
        int fd = mkostemp(tmp, O_CLOEXEC), err;
        if (fd < 0)
                return VT_E_IO;
        const uint8_t *p = data;
        size_t left = len;
        if (fchmod(fd, (mode_t)mode) < 0)
                goto fail;
        while (left) {
                ssize_t n = write(fd, p, left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0)
                                errno = EIO;
                        goto fail;
                }
                p += n;
                left -= (size_t)n;
        }
        if (fsync(fd) < 0)
                goto fail;
        err = close(fd);
        fd = -1;
        if (err < 0 || rename(tmp, path) < 0)
                goto fail;
        /* the rename is durable only once the directory is: a key installed and then lost
         * to a power cut would lose what it protects */
        return vt_fsync_parent(path);
fail:
        err = errno; /* for the caller's message */
        if (fd >= 0)
                close(fd);
        unlink(tmp);
        errno = err;
        return VT_E_IO;
}
