/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer twin of vt_rd (after OpenSSH's sshbuf_put_*): the one place where
 * integers are put into bytes in a given byte order.
 *
 * vt_put_* store an integer at p (the caller owns at least as many bytes as the
 * integer's width), for fixed layouts written by offset.
 *
 * struct vt_wr appends to caller-owned memory of a fixed capacity: every vt_wr_* call
 * checks the room left first and writes nothing when it does not fit (VT_E_LIMIT).
 * Not thread-safe on a shared writer.
 */
#ifndef VT_UTIL_WR_H
#define VT_UTIL_WR_H

#include <stddef.h>
#include <stdint.h>

void vt_put_u16le(uint8_t *p, uint16_t v);
void vt_put_u32le(uint8_t *p, uint32_t v);
void vt_put_u64le(uint8_t *p, uint64_t v);
void vt_put_u16be(uint8_t *p, uint16_t v);
void vt_put_u32be(uint8_t *p, uint32_t v);

struct vt_wr {
        uint8_t *p; /* the start of the buffer */
        size_t len; /* bytes written */
        size_t cap; /* bytes the buffer holds */
};

void vt_wr_init(struct vt_wr *w, uint8_t *buf, size_t cap);
int vt_wr_u8(struct vt_wr *w, uint8_t v);
int vt_wr_u16le(struct vt_wr *w, uint16_t v);
int vt_wr_u32le(struct vt_wr *w, uint32_t v);
int vt_wr_u64le(struct vt_wr *w, uint64_t v);
int vt_wr_u16be(struct vt_wr *w, uint16_t v);
int vt_wr_u32be(struct vt_wr *w, uint32_t v);
/* vt_wr_bytes appends n bytes from p; vt_wr_zero appends n zero bytes. */
int vt_wr_bytes(struct vt_wr *w, const void *p, size_t n);
int vt_wr_zero(struct vt_wr *w, size_t n);

#endif
