/* SPDX-License-Identifier: Apache-2.0 */
/* jansson helpers (internal). */
#ifndef VT_UTIL_JSON_H
#define VT_UTIL_JSON_H

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

#endif
