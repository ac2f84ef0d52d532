/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bounded reader for untrusted bytes (after BoringSSL's CBS). A reader is a
 * view {p, len} over borrowed memory. Every getter checks the remaining length
 * first, advances only on success, and changes nothing on failure. Getters
 * return 0 or VT_E_TRUNCATED (VT_E_RESERVED for vt_rd_zero, VT_E_TRAILING for
 * vt_rd_done, VT_E_FORMAT for DER that is not DER). None of them is thread-safe
 * on a shared reader; readers over the same bytes may be used from any thread.
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

/* Length-prefixed getters (BoringSSL's CBS_get_u8/u16/u32_length_prefixed): read a
 * length of the given width and byte order, then give a bounded view of that many
 * following bytes in *ret and skip both. VT_E_TRUNCATED, with nothing consumed, when
 * the length or the bytes it announces are not all there. */
int vt_rd_u8_length_prefixed(struct vt_rd *r, struct vt_rd *ret);
int vt_rd_u16le_length_prefixed(struct vt_rd *r, struct vt_rd *ret);
int vt_rd_u32le_length_prefixed(struct vt_rd *r, struct vt_rd *ret);
int vt_rd_u16be_length_prefixed(struct vt_rd *r, struct vt_rd *ret);
int vt_rd_u32be_length_prefixed(struct vt_rd *r, struct vt_rd *ret);

/* DER (X.690 distinguished encoding), after CBS_get_asn1. A tag is the identifier
 * octet (class, constructed bit and a tag number below 31); the high-tag-number form
 * is refused. Lengths are definite, minimally encoded (short form below 128, long
 * form without leading zero octets, at most four length octets): an indefinite
 * length, a non-minimal length or a long length is VT_E_FORMAT, contents running
 * past the reader VT_E_TRUNCATED. */
#define VT_DER_BOOLEAN      0x01u
#define VT_DER_INTEGER      0x02u
#define VT_DER_BIT_STRING   0x03u
#define VT_DER_OCTET_STRING 0x04u
#define VT_DER_NULL         0x05u
#define VT_DER_OID          0x06u
#define VT_DER_ENUMERATED   0x0au
#define VT_DER_UTF8STRING   0x0cu
#define VT_DER_IA5STRING    0x16u
#define VT_DER_SEQUENCE     0x30u
#define VT_DER_SET          0x31u
#define VT_DER_CONSTRUCTED  0x20u
#define VT_DER_CONTEXT      0x80u

/* vt_rd_der_peek_tag returns 1 when the next element's identifier octet is tag, 0
 * otherwise (also on an empty reader). It consumes nothing. */
int vt_rd_der_peek_tag(const struct vt_rd *r, unsigned tag);
/* vt_rd_der reads one element whose identifier octet is tag and gives a view of its
 * contents (without tag and length) in *ret. VT_E_FORMAT for another tag. */
int vt_rd_der(struct vt_rd *r, unsigned tag, struct vt_rd *ret);
/* vt_rd_der_any reads one element of any (low-number) tag: *ret is the whole
 * element (tag and length included), *ret_tag its identifier octet and
 * *ret_header_len the number of tag and length octets, as CBS_get_any_asn1_element.
 * ret_tag and ret_header_len may be NULL. */
int vt_rd_der_any(struct vt_rd *r, struct vt_rd *ret, unsigned *ret_tag, size_t *ret_header_len);
/* vt_rd_der_skip skips one element whose identifier octet is tag. */
int vt_rd_der_skip(struct vt_rd *r, unsigned tag);
/* vt_rd_der_uint64 reads a non-negative INTEGER (or another tag with INTEGER's
 * contents, such as ENUMERATED) that fits in 64 bits, as CBS_get_asn1_uint64: no
 * empty contents, no superfluous leading 0x00 or 0xff octet. A negative value or one
 * above UINT64_MAX is VT_E_FORMAT. */
int vt_rd_der_uint64(struct vt_rd *r, unsigned tag, uint64_t *ret);

#endif
