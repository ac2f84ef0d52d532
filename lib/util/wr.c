/* SPDX-License-Identifier: Apache-2.0 */
#include "util/wr.h"

#include <string.h>

#include "veritee/veritee.h"

void vt_put_u16le(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

void vt_put_u32le(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

void vt_put_u64le(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

void vt_put_u16be(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

void vt_put_u32be(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * (3 - i)));
}

void vt_wr_init(struct vt_wr *w, uint8_t *buf, size_t cap)
{
        w->p = buf;
        w->len = 0;
        w->cap = buf ? cap : 0;
}

/* The next n bytes of the buffer, or NULL (and nothing reserved) when they do not fit. */
static uint8_t *wr_take(struct vt_wr *w, size_t n)
{
        if (n > w->cap - w->len)
                return NULL;
        uint8_t *at = w->p + w->len;
        w->len += n;
        return at;
}

int vt_wr_u8(struct vt_wr *w, uint8_t v)
{
        uint8_t *at = wr_take(w, 1);
        if (!at)
                return VT_E_LIMIT;
        *at = v;
        return 0;
}

int vt_wr_u16le(struct vt_wr *w, uint16_t v)
{
        uint8_t *at = wr_take(w, 2);
        if (!at)
                return VT_E_LIMIT;
        vt_put_u16le(at, v);
        return 0;
}

int vt_wr_u32le(struct vt_wr *w, uint32_t v)
{
        uint8_t *at = wr_take(w, 4);
        if (!at)
                return VT_E_LIMIT;
        vt_put_u32le(at, v);
        return 0;
}

int vt_wr_u64le(struct vt_wr *w, uint64_t v)
{
        uint8_t *at = wr_take(w, 8);
        if (!at)
                return VT_E_LIMIT;
        vt_put_u64le(at, v);
        return 0;
}

int vt_wr_u16be(struct vt_wr *w, uint16_t v)
{
        uint8_t *at = wr_take(w, 2);
        if (!at)
                return VT_E_LIMIT;
        vt_put_u16be(at, v);
        return 0;
}

int vt_wr_u32be(struct vt_wr *w, uint32_t v)
{
        uint8_t *at = wr_take(w, 4);
        if (!at)
                return VT_E_LIMIT;
        vt_put_u32be(at, v);
        return 0;
}

int vt_wr_bytes(struct vt_wr *w, const void *p, size_t n)
{
        uint8_t *at = wr_take(w, n);
        if (!at)
                return VT_E_LIMIT;
        if (n)
                memcpy(at, p, n);
        return 0;
}

int vt_wr_zero(struct vt_wr *w, size_t n)
{
        uint8_t *at = wr_take(w, n);
        if (!at)
                return VT_E_LIMIT;
        if (n)
                memset(at, 0, n);
        return 0;
}
