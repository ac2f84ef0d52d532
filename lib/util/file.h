/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VT_UTIL_FILE_H
#define VT_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

/* vt_read_file reads at most max bytes of path into a fresh buffer with one extra NUL
 * byte after the data (so text can be used as a C string). VT_E_IO if unreadable,
 * VT_E_INVAL if larger than max. The caller frees *ret. */
int vt_read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);

/* vt_write_file_atomic writes data to path via a temporary file in the same directory
 * (mode set before the first byte, fsync'd) and rename(2): readers see the old file or
 * the whole new one. On VT_E_IO errno says why. */
int vt_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

#endif
