/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: a bearer token (text) -> vt_jwt_verify against a fixed JWKS (one P-256
 * key), and "Bearer <input>" -> vt_admin_authenticate with two fixed admin keys
 * (Ed25519 and the same P-256 key), both at a fixed time. The input is cut at its first
 * NUL, as a C string would be.
 *
 * The keys are throwaways made for this target (vt_signer_load_or_create and
 * vt_admin_keygen), not test vectors; only their public halves are here. The valid
 * seeds were signed with them and are checked at FIXED_NOW.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token/admin.h"
#include "token/jwt.h"
#include "util/json.h"
#include "veritee/veritee.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXED_NOW INT64_C(1795819200)

static const char jwks_text[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                                "\"x\":\"cMnKmd2H-UcPYy0GqYBVgp1agqhndzH5htlzJEgfJFE\","
                                "\"y\":\"7k_cpNH75d6YPwmrUhQrcs49TcxPdqXuP17Y_3BWqQA\","
                                "\"alg\":\"ES256\",\"use\":\"sig\","
                                "\"kid\":\"16kWlN8k9REvW6iO_9aMAznvwNtUlqTPcf6WkAoRHto\"}]}";

static const char ed25519_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                                  "MCowBQYDK2VwAyEAvliYp+5DOCG/b8dNiQakQHq2NwtFc79CTH1Yjon3S/Q=\n"
                                  "-----END PUBLIC KEY-----\n";

static const char p256_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                               "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcMnKmd2H+UcPYy0GqYBVgp1agqhn\n"
                               "dzH5htlzJEgfJFHuT9yk0fvl3pg/CatSFCtyzj1NzE92pe4/Xtj/cFapAA==\n"
                               "-----END PUBLIC KEY-----\n";

static json_t *jwks;
static struct vt_admin_keys *admin_keys;

/* write_temp writes text to a new temporary file and returns its path in buf. */
static void write_temp(const char *text, char *buf, size_t n)
{
        const char *dir = getenv("TMPDIR");
        FILE *f;
        int fd;

        if (snprintf(buf, n, "%s/vt-fuzz-jwt-XXXXXX", dir && *dir ? dir : "/tmp") >= (int)n)
                abort();
        fd = mkstemp(buf);
        if (fd < 0)
                abort();
        f = fdopen(fd, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

static void setup(void)
{
        char p1[256], p2[256];
        const char *paths[] = {p1, p2};

        if (jwks)
                return;
        jwks = json_loads(jwks_text, 0, NULL);
        if (!jwks)
                abort();
        write_temp(ed25519_pem, p1, sizeof(p1));
        write_temp(p256_pem, p2, sizeof(p2));
        if (vt_admin_keys_load(paths, 2, &admin_keys, NULL) < 0)
                abort();
        unlink(p1);
        unlink(p2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char bearer[] = "Bearer ";
        struct vt_admin_principal p;
        json_t *claims = NULL;
        struct vt_diag d = {0};
        char *hdr;
        int e;

        setup();
        hdr = malloc(sizeof(bearer) + size);
        if (!hdr)
                return 0;
        memcpy(hdr, bearer, sizeof(bearer) - 1);
        memcpy(hdr + sizeof(bearer) - 1, data, size);
        hdr[sizeof(bearer) - 1 + size] = '\0';

        e = vt_jwt_verify(hdr + sizeof(bearer) - 1, jwks, FIXED_NOW, &claims, &d);
        if (e == 0) {
                if (!json_is_object(claims))
                        abort();
                json_decref(claims);
        } else if (e != VT_E_NOMEM && (claims || d.msg[0] == '\0')) {
                abort();
        }

        vt_diag_clear(&d);
        memset(&p, 0xa5, sizeof(p));
        e = vt_admin_authenticate(admin_keys, hdr, FIXED_NOW, &p, &d);
        if (e == 0) {
                if (p.role != VT_ROLE_READER && p.role != VT_ROLE_WRITER && p.role != VT_ROLE_ADMIN)
                        abort();
                if (memchr(p.sub, '\0', sizeof(p.sub)) == NULL || p.n_repos > VT_ADMIN_MAX_REPOS)
                        abort();
                if ((p.role == VT_ROLE_WRITER) != (p.n_repos > 0))
                        abort();
                for (size_t i = 0; i < p.n_repos; i++)
                        if (memchr(p.repos[i], '\0', sizeof(p.repos[i])) == NULL)
                                abort();
                for (int op = VT_ADMIN_READ; op <= VT_ADMIN_WRITE_GLOBAL; op++)
                        (void)vt_admin_authorize(&p, (enum vt_admin_op)op, "default", NULL);
        } else if (e != VT_E_NOMEM && d.msg[0] == '\0') {
                abort();
        }
        free(hdr);
        return 0;
}
