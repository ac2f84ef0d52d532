/* SPDX-License-Identifier: Apache-2.0 */
#include "kbs/rcar.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/digest.h"
#include "util/json.h"
#include "veritee/veritee.h"

/* SHA-384 of the JCS form of o (taken over): the one digest both bindings use. */
static int jcs_sha384(json_t *o, uint8_t out[48])
{
        json_auto_t *owned = o;
        if (!owned)
                return VT_E_NOMEM;
        return vt_jcs_digest(owned, vt_sha384(), out, 48);
}

int vt_kbs_device_binding(const char *nonce, const json_t *jwk, uint8_t out[48])
{
        return jcs_sha384(json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", (json_t *)jwk),
                          out);
}

int vt_kbs_runtime_binding(const char *nonce, const json_t *jwk, const char *additional,
                           uint8_t out[48])
{
        return jcs_sha384(json_pack("{s:s, s:s, s:O}", "additional-evidence", additional, "nonce",
                                    nonce, "tee-pubkey", (json_t *)jwk),
                          out);
}

/* A SemVer numeric identifier: "0" or digits without a leading zero; advances *p. */
static bool semver_num(const char **p, unsigned long *ret)
{
        const char *s = *p;
        unsigned long v = 0;
        if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > 100000000UL)
                        return false;
                v = v * 10 + (unsigned long)(*s - '0');
        }
        *p = s;
        *ret = v;
        return true;
}

/* Dot-separated identifiers of [0-9A-Za-z-], none empty (pre-release or build). */
static bool semver_idents(const char *s, const char *end)
{
        if (s == end)
                return false;
        for (const char *q = s; q < end; q++) {
                bool ok = (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
                          (*q >= 'A' && *q <= 'Z') || *q == '-';
                if (*q == '.') {
                        if (q == s || q[-1] == '.' || q + 1 == end)
                                return false;
                } else if (!ok) {
                        return false;
                }
        }
        return true;
}

bool vt_kbs_version_ok(const char *version)
{
        unsigned long v[3];
        const char *p = version;
        if (!p)
                return false;
        for (int i = 0; i < 3; i++) {
                if (!semver_num(&p, &v[i]) || (i < 2 && *p++ != '.'))
                        return false;
        }
        const char *build = strchr(p, '+');
        const char *end = build ? build : p + strlen(p);
        if (*p == '-') /* a pre-release: well-formed or not, it is not 0.4.0 */
                return false;
        if (p != end)
                return false;
        if (build && !semver_idents(build + 1, build + strlen(build)))
                return false;
        return v[0] == 0 && v[1] == 4 && v[2] == 0;
}

bool vt_kbs_nonce_equal(const char *want, const char *got)
{
        if (!want || !got)
                return false;
        size_t l = strlen(want);
        return l && strlen(got) == l && CRYPTO_memcmp(want, got, l) == 0;
}
