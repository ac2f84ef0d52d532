/* SPDX-License-Identifier: Apache-2.0 */
#include "util/rd.h"

#include <string.h>

#include "veritee/veritee.h"

void vt_rd_init(struct vt_rd *r, const uint8_t *p, size_t len)
{
        r->p = p;
        r->len = p ? len : 0;
        r->off = 0;
}

static int rd_take(struct vt_rd *r, size_t n, const uint8_t **ret)
{
        if (n > r->len)
                return VT_E_TRUNCATED;
        *ret = r->p;
        r->p += n;
        r->len -= n;
        r->off += n;
        return 0;
}

int vt_rd_u8(struct vt_rd *r, uint8_t *ret)
{
        const uint8_t *b;
        int e = rd_take(r, 1, &b);
        if (e < 0)
                return e;
        *ret = b[0];
        return 0;
}

int vt_rd_u16le(struct vt_rd *r, uint16_t *ret)
{
        const uint8_t *b;
        int e = rd_take(r, 2, &b);
        if (e < 0)
                return e;
        *ret = (uint16_t)(b[0] | (b[1] << 8));
        return 0;
}

int vt_rd_u32le(struct vt_rd *r, uint32_t *ret)
{
        const uint8_t *b;
        int e = rd_take(r, 4, &b);
        if (e < 0)
                return e;
        *ret = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        return 0;
}

int vt_rd_u64le(struct vt_rd *r, uint64_t *ret)
{
        const uint8_t *b;
        int e = rd_take(r, 8, &b);
        if (e < 0)
                return e;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | b[i];
        *ret = v;
        return 0;
}

int vt_rd_u16be(struct vt_rd *r, uint16_t *ret)
{
        const uint8_t *b;
        int e = rd_take(r, 2, &b);
        if (e < 0)
                return e;
        *ret = (uint16_t)(b[0] << 8 | b[1]);
        return 0;
}

int vt_rd_u32be(struct vt_rd *r, uint32_t *ret)
{
        const uint8_t *b;
        int e = rd_take(r, 4, &b);
        if (e < 0)
                return e;
        *ret = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
        return 0;
}

int vt_rd_bytes(struct vt_rd *r, void *out, size_t n)
{
        const uint8_t *b;
        int e = rd_take(r, n, &b);
        if (e < 0)
                return e;
        if (n)
                memcpy(out, b, n);
        return 0;
}

int vt_rd_sub(struct vt_rd *r, size_t n, struct vt_rd *ret)
{
        const uint8_t *b;
        size_t start = r->off;
        int e = rd_take(r, n, &b);
        if (e < 0)
                return e;
        ret->p = b;
        ret->len = n;
        ret->off = start;
        return 0;
}

int vt_rd_skip(struct vt_rd *r, size_t n)
{
        const uint8_t *b;
        return rd_take(r, n, &b);
}

int vt_rd_zero(struct vt_rd *r, size_t n, size_t *ret_bad_off)
{
        if (n > r->len)
                return VT_E_TRUNCATED;
        for (size_t i = 0; i < n; i++)
                if (r->p[i] != 0) {
                        if (ret_bad_off)
                                *ret_bad_off = r->off + i;
                        return VT_E_RESERVED;
                }
        r->p += n;
        r->len -= n;
        r->off += n;
        return 0;
}

int vt_rd_done(const struct vt_rd *r)
{
        return r->len == 0 ? 0 : VT_E_TRAILING;
}
