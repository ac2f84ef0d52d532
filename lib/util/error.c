/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "veritee/veritee.h"

static const char *const names[] = {
        [0] = "ok",
        [-VT_E_NOMEM] = "out of memory",
        [-VT_E_INVAL] = "invalid argument",
        [-VT_E_TRUNCATED] = "truncated",
        [-VT_E_TRAILING] = "trailing data",
        [-VT_E_FORMAT] = "bad format",
        [-VT_E_SIGNATURE] = "bad signature",
        [-VT_E_CHAIN] = "certificate chain",
        [-VT_E_TCB] = "tcb mismatch",
        [-VT_E_POLICY] = "policy",
        [-VT_E_NOTFOUND] = "not found",
        [-VT_E_STORE] = "store",
        [-VT_E_CRYPTO] = "crypto",
        [-VT_E_EXPIRED] = "expired",
        [-VT_E_REVOKED] = "revoked",
        [-VT_E_IO] = "i/o",
        [-VT_E_NETWORK] = "network",
        [-VT_E_UNSUPPORTED] = "unsupported",
        [-VT_E_RESERVED] = "reserved field not zero",
        [-VT_E_BINDING] = "binding mismatch",
        [-VT_E_LIMIT] = "limit reached",
        [-VT_E_REPLAY] = "replayed",
        [-VT_E_STALE] = "stale (retry)",
};

const char *vt_strerror(int err)
{
        if (err > 0 || err <= _VT_E_MIN || !names[-err])
                return "unknown error";
        return names[-err];
}

int vt_diag_set(struct vt_diag *d, int err, const char *fmt, ...)
{
        if (d && d->err == 0) {
                va_list ap;
                d->err = err;
                va_start(ap, fmt);
                vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
                va_end(ap);
        }
        return err;
}

void vt_diag_clear(struct vt_diag *d)
{
        if (d) {
                d->err = 0;
                d->msg[0] = 0;
        }
}
