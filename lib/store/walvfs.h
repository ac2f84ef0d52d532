/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A SQLite VFS over the default one that writes a transaction's WAL frames with one
 * write instead of two per page.
 *
 * SQLite writes each frame of a commit with two calls of the file's xWrite, the 24-byte
 * frame header and then the page, so a commit of eight pages costs sixteen pwrite(2)
 * calls. This VFS hands every file to the default VFS and passes every call through,
 * except on WAL files (opened with SQLITE_OPEN_WAL): there, a write that continues the
 * previous one is copied into a buffer, and the buffer is written with one call of the
 * default file's xWrite when the page of a commit frame (a frame header whose "database
 * size after commit" field is not 0) has been added, when the next write does not
 * continue it, when it would pass VT_WALVFS_BUF_MAX bytes, and before any other call on
 * the file (read, sync, truncate, size, file control, close).
 *
 * A commit's frames therefore reach the file before sqlite3WalFrames returns and before
 * SQLite appends them to the WAL index, so no reader, in this process or another, can
 * see a frame that is still in the buffer; what SQLite acknowledges is in the file, as
 * without the buffer; and the file holds exactly the bytes it would have held. The
 * buffer changes when the bytes are written, never which bytes: a crash in the middle
 * leaves at most an incomplete transaction, which WAL recovery ignores as it does
 * without the buffer.
 *
 * The store syncs the WAL through its sqlite3_file (SQLITE_FCNTL_JOURNAL_POINTER) from
 * another thread than the connection's, possibly while the connection writes: the
 * buffer has its own mutex, and a sync writes out what the buffer holds before it
 * syncs, as SQLite's own writes would have put it there already.
 */

#include <stddef.h>

/* Above this many bytes, a commit's frames are written in more than one call. SQLite's
 * unix VFS writes at most 128 KiB - 1 in one pwrite (its seekAndWrite keeps 17 bits of
 * the count: a larger write loses its high bits and fails as SQLITE_FULL), so the buffer
 * stays below that: 29 frames of 4 KiB pages. */
#define VT_WALVFS_BUF_MAX (120u * 1024u)

/* vt_walvfs_name registers the VFS, the first time, under the name it returns
 * ("veritee-wal"), for sqlite3_open_v2; NULL (the default VFS) if it could not be
 * registered. It is never made the default. Thread-safe. */
const char *vt_walvfs_name(void);

/* vt_walvfs_stats returns how many times the VFS wrote a WAL's buffer out (flushes) and
 * how many of SQLite's writes those carried (writes), over all files, since the start
 * of the process. For tests and metrics. Thread-safe. */
void vt_walvfs_stats(unsigned long *ret_flushes, unsigned long *ret_writes);
