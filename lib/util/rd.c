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

/* ---- length-prefixed ---- */

static int rd_length_prefixed(struct vt_rd *r, size_t width, int big_endian, struct vt_rd *ret)
{
        if (width > r->len)
                return VT_E_TRUNCATED;
        size_t n = 0;
        for (size_t i = 0; i < width; i++) {
                size_t k = big_endian ? i : width - 1 - i;
                n = n << 8 | r->p[k];
        }
        if (n > r->len - width)
                return VT_E_TRUNCATED;
        struct vt_rd t = *r;
        (void)vt_rd_skip(&t, width);
        if (vt_rd_sub(&t, n, ret) < 0)
                return VT_E_TRUNCATED;
        *r = t;
        return 0;
}

int vt_rd_u8_length_prefixed(struct vt_rd *r, struct vt_rd *ret)
{
        return rd_length_prefixed(r, 1, 1, ret);
}

int vt_rd_u16le_length_prefixed(struct vt_rd *r, struct vt_rd *ret)
{
        return rd_length_prefixed(r, 2, 0, ret);
}

int vt_rd_u32le_length_prefixed(struct vt_rd *r, struct vt_rd *ret)
{
        return rd_length_prefixed(r, 4, 0, ret);
}

int vt_rd_u16be_length_prefixed(struct vt_rd *r, struct vt_rd *ret)
{
        return rd_length_prefixed(r, 2, 1, ret);
}

int vt_rd_u32be_length_prefixed(struct vt_rd *r, struct vt_rd *ret)
{
        return rd_length_prefixed(r, 4, 1, ret);
}

/* ---- DER ---- */

/* Reads the identifier and length octets of the next element without consuming
 * anything: its identifier octet, the header length and the contents length, which
 * is checked against what is left. */
static int der_header(const struct vt_rd *r, unsigned *ret_tag, size_t *ret_hdr, size_t *ret_len)
{
        if (r->len < 2)
                return VT_E_TRUNCATED;
        uint8_t tag = r->p[0], l0 = r->p[1];
        if ((tag & 0x1f) == 0x1f) /* high-tag-number form: not used by what we parse */
                return VT_E_FORMAT;
        size_t hdr = 2, len;
        if (l0 < 0x80) {
                len = l0;
        } else {
                size_t nl = l0 & 0x7f;
                if (nl == 0 || nl > 4) /* 0x80 is the indefinite length (BER only) */
                        return VT_E_FORMAT;
                if (r->len - 2 < nl)
                        return VT_E_TRUNCATED;
                if (r->p[2] == 0) /* a leading zero octet: not minimal */
                        return VT_E_FORMAT;
                len = 0;
                for (size_t i = 0; i < nl; i++)
                        len = len << 8 | r->p[2 + i];
                if (len < 0x80) /* fits the short form: not minimal */
                        return VT_E_FORMAT;
                hdr += nl;
        }
        if (len > r->len - hdr)
                return VT_E_TRUNCATED;
        *ret_tag = tag;
        *ret_hdr = hdr;
        *ret_len = len;
        return 0;
}

int vt_rd_der_peek_tag(const struct vt_rd *r, unsigned tag)
{
        return r->len >= 1 && r->p[0] == tag;
}

int vt_rd_der_any(struct vt_rd *r, struct vt_rd *ret, unsigned *ret_tag, size_t *ret_header_len)
{
        unsigned tag;
        size_t hdr, len;
        int e = der_header(r, &tag, &hdr, &len);
        if (e < 0)
                return e;
        e = vt_rd_sub(r, hdr + len, ret);
        if (e < 0)
                return e;
        if (ret_tag)
                *ret_tag = tag;
        if (ret_header_len)
                *ret_header_len = hdr;
        return 0;
}

int vt_rd_der(struct vt_rd *r, unsigned tag, struct vt_rd *ret)
{
        unsigned got;
        size_t hdr, len;
        int e = der_header(r, &got, &hdr, &len);
        if (e < 0)
                return e;
        if (got != tag)
                return VT_E_FORMAT;
        struct vt_rd t = *r, c;
        (void)vt_rd_skip(&t, hdr);
        if ((e = vt_rd_sub(&t, len, &c)) < 0)
                return e;
        *r = t;
        *ret = c;
        return 0;
}

int vt_rd_der_skip(struct vt_rd *r, unsigned tag)
{
        struct vt_rd c;
        return vt_rd_der(r, tag, &c);
}

int vt_rd_der_uint64(struct vt_rd *r, unsigned tag, uint64_t *ret)
{
        struct vt_rd t = *r, c;
        int e = vt_rd_der(&t, tag, &c);
        if (e < 0)
                return e;
        if (c.len == 0 || (c.p[0] & 0x80)) /* empty, or negative */
                return VT_E_FORMAT;
        if (c.len > 1 && c.p[0] == 0 && !(c.p[1] & 0x80)) /* a superfluous leading zero */
                return VT_E_FORMAT;
        size_t i = c.p[0] == 0 ? 1 : 0;
        if (c.len - i > 8)
                return VT_E_FORMAT;
        uint64_t v = 0;
        for (; i < c.len; i++)
                v = v << 8 | c.p[i];
        *r = t;
        *ret = v;
        return 0;
}
