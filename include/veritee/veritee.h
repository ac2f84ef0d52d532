/* SPDX-License-Identifier: Apache-2.0 */
/*
 * veritee: attestation evidence verification and secret release.
 *
 * Conventions (see docs/ARCHITECTURE.md): functions return 0 on success or a
 * negative VT_E_* code; outputs named ret_* are written only on success;
 * arguments are borrowed unless the comment says "takes ownership"; a
 * struct vt_diag, when given, receives a one-line human-readable reason that
 * names the check that failed.
 */
#ifndef VERITEE_VERITEE_H
#define VERITEE_VERITEE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VT_EXPORT __attribute__((visibility("default")))

#define VT_VERSION "0.1.0"

enum vt_err {
        VT_OK = 0,
        VT_E_NOMEM = -1,
        VT_E_INVAL = -2,
        VT_E_TRUNCATED = -3,
        VT_E_TRAILING = -4,
        VT_E_FORMAT = -5,
        VT_E_SIGNATURE = -6,
        VT_E_CHAIN = -7,
        VT_E_TCB = -8,
        VT_E_POLICY = -9,
        VT_E_NOTFOUND = -10,
        VT_E_STORE = -11,
        VT_E_CRYPTO = -12,
        VT_E_EXPIRED = -13,
        VT_E_REVOKED = -14,
        VT_E_IO = -15,
        VT_E_NETWORK = -16,
        VT_E_UNSUPPORTED = -17,
        VT_E_RESERVED = -18,
        VT_E_BINDING = -19,
        VT_E_LIMIT = -20,
        VT_E_REPLAY = -21,
        VT_E_STALE = -22, /* based on state that changed meanwhile (e.g. a retired KEK): retry */
        _VT_E_MIN = -23,
};

/* vt_strerror returns a static, short name for err ("signature", ...). */
VT_EXPORT const char *vt_strerror(int err);

/* Diagnostics for the caller: the first failure reason wins. */
struct vt_diag {
        int err;
        char msg[512];
};

/* vt_diag_set records a reason in d (if d is non-NULL and has none yet) and
 * returns err, so that `return vt_diag_set(d, VT_E_X, "...")` reads well. */
VT_EXPORT int vt_diag_set(struct vt_diag *d, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* vt_diag_clear resets d to "no reason". */
VT_EXPORT void vt_diag_clear(struct vt_diag *d);

/* vt_time_parse_rfc3339 parses "2025-06-01T00:00:00Z" (or with +hh:mm offset,
 * fractional seconds ignored) into seconds since the epoch. */
VT_EXPORT int vt_time_parse_rfc3339(const char *s, int64_t *ret);

/* vt_time_format_rfc3339 writes UTC "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
VT_EXPORT void vt_time_format_rfc3339(int64_t t, char buf[static 21]);

#ifdef __cplusplus
}
#endif
#endif
