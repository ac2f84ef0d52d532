/* SPDX-License-Identifier: Apache-2.0 */
/* jansson helpers (internal). */
#ifndef VT_UTIL_JSON_H
#define VT_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/macro.h"

/* jansson provides json_decrefp (for json_auto_t) */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* vt_json_hex returns a new JSON string with the lowercase hex of n bytes. */
json_t *vt_json_hex(const uint8_t *p, size_t n);

/* vt_json_set adds value under key, taking ownership; returns VT_E_NOMEM on failure. */
int vt_json_set(json_t *obj, const char *key, json_t *value);

/* vt_json_set_b64 adds the base64url (no padding) of n bytes at p under key; returns
 * VT_E_NOMEM on failure. */
int vt_json_set_b64(json_t *obj, const char *key, const uint8_t *p, size_t n);

/* vt_json_dump serialises obj compactly (keys in insertion order) into a malloc'd string. */
int vt_json_dump(const json_t *obj, char **ret);

/* vt_json_plain says whether the n bytes of s are written in a JSON string as they are (by
 * jansson's writer without JSON_ENSURE_ASCII, and by JCS): no control character, '"' or
 * '\\'. With ascii, no byte from 0x7f either, for a text whose UTF-8 nobody checked. */
bool vt_json_plain(const char *s, size_t n, bool ascii);

/* vt_json_bytes reads the first n elements of the array a (the caller has checked its size),
 * each an integer 0..255 as serde writes a byte array, into out. On an element that is not
 * one it returns false with that element's index in *ret_at, for the caller's message. */
bool vt_json_bytes(const json_t *a, uint8_t *out, size_t n, size_t *ret_at);

#endif
