/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/keyfile.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

int vt_read_private_file(const char *path, size_t max, bool follow, const char *what, uint8_t **ret,
                         size_t *ret_len, struct vt_diag *d)
{
        struct stat st;
        size_t len, got = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (follow ? 0 : O_NOFOLLOW));
        if (fd < 0)
                return vt_diag_set(d, VT_E_IO, "%s %s: cannot open it: %s", what, path,
                                   strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
            (uint64_t)st.st_size > max) {
                close(fd);
                return vt_diag_set(d, VT_E_FORMAT, "%s %s is not a regular file of 1..%zu bytes",
                                   what, path, max);
        }
        if (st.st_mode & 077) {
                close(fd);
                return vt_diag_set(
                        d, VT_E_INVAL,
                        "%s %s is accessible by group or others (mode %04o); chmod 600 it", what,
                        path, (unsigned)(st.st_mode & 07777));
        }
        len = (size_t)st.st_size;
        uint8_t *buf = OPENSSL_malloc(len + 1);
        if (!buf) {
                close(fd);
                return VT_E_NOMEM;
        }
        while (got < len) {
                ssize_t r = read(fd, buf + got, len - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        close(fd);
        if (got != len) {
                OPENSSL_clear_free(buf, len + 1);
                return vt_diag_set(d, VT_E_IO, "%s %s: cannot read it", what, path);
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* The passphrase callback of OpenSSL's PEM readers: never prompt, always fail. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
        (void)buf, (void)size, (void)rwflag, (void)u;
        return -1;
}

int vt_pem_private_key(const uint8_t *pem, size_t len, EVP_PKEY **ret)
{
        BIO *b = len <= INT_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
        EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
        BIO_free(b);
        if (!k)
                return VT_E_FORMAT;
        *ret = k;
        return 0;
}
