/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bounded reader for untrusted bytes (after BoringSSL's CBS). A reader is a
 * view {p, len} over borrowed memory. Every getter checks the remaining length
 * first, advances only on success, and changes nothing on failure. Getters
 * return 0 or VT_E_TRUNCATED (VT_E_RESERVED for vt_rd_zero, VT_E_TRAILING for
 * vt_rd_done).
 */
#ifndef VT_UTIL_RD_H
#define VT_UTIL_RD_H

#include <stddef.h>
#include <stdint.h>

struct vt_rd {
        const uint8_t *p;
        size_t len;
        size_t off; /* bytes consumed since vt_rd_init, for diagnostics */
};

void vt_rd_init(struct vt_rd *r, const uint8_t *p, size_t len);
int vt_rd_u8(struct vt_rd *r, uint8_t *ret);
int vt_rd_u16le(struct vt_rd *r, uint16_t *ret);
int vt_rd_u32le(struct vt_rd *r, uint32_t *ret);
int vt_rd_u64le(struct vt_rd *r, uint64_t *ret);
int vt_rd_u16be(struct vt_rd *r, uint16_t *ret);
int vt_rd_u32be(struct vt_rd *r, uint32_t *ret);
/* vt_rd_bytes copies n bytes into out. */
int vt_rd_bytes(struct vt_rd *r, void *out, size_t n);
/* vt_rd_sub gives a bounded view of the next n bytes and skips them. */
int vt_rd_sub(struct vt_rd *r, size_t n, struct vt_rd *ret);
/* vt_rd_skip skips n bytes. */
int vt_rd_skip(struct vt_rd *r, size_t n);
/* vt_rd_zero consumes n bytes that must all be zero. On a non-zero byte it
 * returns VT_E_RESERVED, consumes nothing and stores the offset (relative to
 * the reader's start) of the first non-zero byte in *ret_bad_off if given. */
int vt_rd_zero(struct vt_rd *r, size_t n, size_t *ret_bad_off);
/* vt_rd_done returns 0 when nothing is left, VT_E_TRAILING otherwise. */
int vt_rd_done(const struct vt_rd *r);
static inline size_t vt_rd_left(const struct vt_rd *r)
{
        return r->len;
}

#endif
