/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded parser for the TOML subset used by Confidential Containers init-data:
 * comments, [table] and [a.b] headers, bare/quoted/dotted keys, basic, literal and
 * multi-line strings, integers, booleans, floats, arrays of those, inline tables.
 * Anything else is refused with a message naming the line.
 */
#ifndef VT_UTIL_TOML_H
#define VT_UTIL_TOML_H

#include <stddef.h>

#include <jansson.h>

#include "veritee/veritee.h"

/* vt_toml_parse parses len bytes of text (at most 256 KiB, nesting at most 16) into a
 * new JSON object. Duplicate keys are refused. Errors: VT_E_FORMAT (syntax, invalid
 * UTF-8, control or NUL characters in strings, redefined tables), VT_E_UNSUPPORTED
 * (dates and times, arrays of tables, inf and nan), VT_E_LIMIT (size, nesting); d gets
 * "toml: line N: <reason>". */
int vt_toml_parse(const char *text, size_t len, json_t **ret, struct vt_diag *d);

#endif
