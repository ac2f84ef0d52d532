/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VT_UTIL_FILE_H
#define VT_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

/* vt_read_file reads at most max bytes of path into a fresh buffer with one extra NUL
 * byte after the data (so text can be used as a C string). VT_E_IO if unreadable,
 * VT_E_INVAL if larger than max. The caller frees *ret. */
int vt_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
/* vt_read_fd: the same from an open descriptor, read to its end (not closed). A buffer that
 * grows is copied and the old one wiped, so a secret read this way leaves no stray copy.
 * On VT_E_IO errno says why. */
int vt_read_fd(int fd, size_t max, uint8_t **ret, size_t *ret_len);

/* vt_write_file_atomic writes data to path via a temporary file in the same directory
 * (mode set before the first byte, fsync'd) and rename(2), then fsyncs the directory:
 * readers see the old file or the whole new one, and once it returns 0 the new file
 * survives a crash or power cut. On VT_E_IO errno says why (a VT_E_IO from the directory
 * fsync comes after the rename: the new file is in place but may not be durable). */
int vt_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* vt_fsync_parent fsyncs the directory that holds path, so that a rename, creation or
 * unlink of path in it is durable. VT_E_IO (errno says why). */
int vt_fsync_parent(const char *path);

#endif
