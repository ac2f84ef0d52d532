/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin API tokens (docs/admin.md). Verification is written out here rather than
 * shared with token/jwt.c because the rules differ: two algorithms, each bound to one
 * key type, keys from PEM files rather than a JWKS, and claims that grant rights. The
 * rules both share (no crit, a low S, the exp/nbf/iat window) live in token/jose.c.
 *
 * Order of checks in vt_admin_authenticate: the shape of the bearer value, the header
 * (alg first, so "none"/HS256/RS256 are named as such), the signature, and only then
 * the claims; nothing from an unverified payload is ever used or echoed.
 */
#define _GNU_SOURCE
#include "token/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "crypto/jwk.h"
#include "crypto/keyfile.h"
#include "token/jose.h"
#include "util/b64.h"
#include "util/file.h"
#include "util/macro.h"

#define MAX_PEM_BYTES   (64u * 1024u)
#define MAX_JOSE_HEADER 1024u /* decoded bytes */
#define KID_LEN         VT_JWK_THUMBPRINT_LEN
#define ECHO_MAX        48 /* bytes of an untrusted string echoed into a reason */

enum key_type {
        KT_ED25519,
        KT_P256,
};

struct admin_key {
        EVP_PKEY *pkey;
        enum key_type type;
        char kid[KID_LEN + 1];
};

struct vt_admin_keys {
        size_t n;
        struct admin_key k[];
};

static const char *type_name(enum key_type t)
{
        return t == KT_ED25519 ? "Ed25519" : "P-256";
}

static const char *type_alg(enum key_type t)
{
        return t == KT_ED25519 ? "EdDSA" : "ES256";
}

/* Copies at most ECHO_MAX bytes of an untrusted string for a diagnostic, with every
 * byte outside printable ASCII (and '"' and '\\') replaced by '?'. */
static const char *echo(const char *s, char out[static ECHO_MAX + 4])
{
        size_t i = 0;
        for (; s[i] && i < ECHO_MAX; i++) {
                unsigned char c = (unsigned char)s[i];
                out[i] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
        }
        if (s[i]) {
                memcpy(out + i, "...", 3);
                i += 3;
        }
        out[i] = 0;
        return out;
}

static bool has_control(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* ASCII-only, locale-independent prefix comparison ignoring case. */
static bool ascii_prefix_ci(const char *s, const char *prefix)
{
        for (; *prefix; s++, prefix++) {
                char a = *s, b = *prefix;
                if (a >= 'A' && a <= 'Z')
                        a = (char)(a - 'A' + 'a');
                if (b >= 'A' && b <= 'Z')
                        b = (char)(b - 'A' + 'a');
                if (a != b)
                        return false;
        }
        return true;
}

/* Ed25519 or P-256, or VT_E_UNSUPPORTED. */
static int classify(EVP_PKEY *key, enum key_type *ret)
{
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
                *ret = KT_ED25519;
                return 0;
        }
        if (vt_ec_curve_nid(key) == NID_X9_62_prime256v1) {
                *ret = KT_P256;
                return 0;
        }
        ERR_clear_error();
        return VT_E_UNSUPPORTED;
}

/* A readable name for a refused key ("RSA", "EC secp384r1", "ED448"). */
static void describe(EVP_PKEY *key, char *buf, size_t cap)
{
        const char *t = EVP_PKEY_get0_type_name(key);
        char group[64];
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
            EVP_PKEY_get_group_name(key, group, sizeof(group), NULL))
                snprintf(buf, cap, "EC %s", group);
        else
                snprintf(buf, cap, "%s", t ? t : "unknown");
        ERR_clear_error();
}

void vt_admin_keys_free(struct vt_admin_keys *k)
{
        if (!k)
                return;
        for (size_t i = 0; i < k->n; i++)
                EVP_PKEY_free(k->k[i].pkey);
        free(k);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_admin_keys *, vt_admin_keys_free)

size_t vt_admin_keys_count(const struct vt_admin_keys *k)
{
        return k ? k->n : 0;
}

const char *vt_admin_keys_kid(const struct vt_admin_keys *k, size_t i)
{
        return k && i < k->n ? k->k[i].kid : NULL;
}

/* Parses the one PEM public key of path (its bytes in buf) into *out. */
static int parse_public(const char *path, const uint8_t *buf, size_t len, struct admin_key *out,
                        struct vt_diag *d)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(buf, (int)len);
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        int e = 0;

        if (!b)
                return VT_E_NOMEM;
        /* PEM_FLAG_SECURE: should the file hold a private key after all, its decoded
         * bytes live in the secure heap and are cleansed when freed. */
        if (!PEM_read_bio_ex(b, &name, &header, &data, &dlen, PEM_FLAG_SECURE)) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_FORMAT,
                                   "admin key %s: no PEM block (want \"BEGIN PUBLIC KEY\")", path);
        }
        if (strstr(name, "PRIVATE KEY")) {
                e = vt_diag_set(d, VT_E_FORMAT,
                                "admin key %s is a private key; configure the public key (.pub) "
                                "instead, and keep the private key away from the server",
                                path);
        } else if (strcmp(name, "PUBLIC KEY") != 0) {
                char n[ECHO_MAX + 4];
                e = vt_diag_set(d, VT_E_FORMAT,
                                "admin key %s: PEM block \"%s\" is not a PUBLIC KEY (Ed25519 or "
                                "P-256)",
                                path, echo(name, n));
        } else {
                const unsigned char *p = data;
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = d2i_PUBKEY(NULL, &p, dlen);
                char desc[80];
                if (!key || p != data + dlen) {
                        e = vt_diag_set(d, VT_E_FORMAT, "admin key %s: not a valid public key",
                                        path);
                } else if (classify(key, &out->type) < 0) {
                        describe(key, desc, sizeof(desc));
                        e = vt_diag_set(d, VT_E_UNSUPPORTED,
                                        "admin key %s: %s keys are not accepted (Ed25519 or "
                                        "P-256 only)",
                                        path, desc);
                } else if ((e = vt_jwk_thumbprint(key, out->kid)) < 0) {
                        e = vt_diag_set(d, e, "admin key %s: cannot compute its key id", path);
                } else {
                        out->pkey = TAKE_PTR(key);
                }
        }
        OPENSSL_secure_free(name);
        OPENSSL_secure_free(header);
        OPENSSL_secure_clear_free(data, dlen > 0 ? (size_t)dlen : 0);
        ERR_clear_error();
        if (e < 0)
                return e;

        /* exactly one key per file: a second block would be silently ignored otherwise */
        name = header = NULL;
        data = NULL;
        if (PEM_read_bio_ex(b, &name, &header, &data, &dlen, PEM_FLAG_SECURE)) {
                OPENSSL_secure_free(name);
                OPENSSL_secure_free(header);
                OPENSSL_secure_clear_free(data, dlen > 0 ? (size_t)dlen : 0);
                EVP_PKEY_free(TAKE_PTR(out->pkey));
                return vt_diag_set(d, VT_E_FORMAT,
                                   "admin key %s holds more than one PEM block; one key per file",
                                   path);
        }
        ERR_clear_error();
        return 0;
}

int vt_admin_keys_load(const char *const *pem_paths, size_t n, struct vt_admin_keys **ret,
                       struct vt_diag *d)
{
        if (!ret || (n > 0 && !pem_paths))
                return VT_E_INVAL;
        if (n == 0)
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin: no keys given (without keys there is no admin API)");
        if (n > VT_ADMIN_MAX_KEYS)
                return vt_diag_set(d, VT_E_LIMIT, "admin: %zu keys, at most %d", n,
                                   VT_ADMIN_MAX_KEYS);
        _cleanup_(vt_admin_keys_freep) struct vt_admin_keys *k =
                calloc(1, sizeof(*k) + n * sizeof(k->k[0]));
        if (!k)
                return VT_E_NOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *path = pem_paths[i];
                uint8_t *buf = NULL;
                size_t len = 0;
                int e;
                if (!path)
                        return VT_E_INVAL;
                errno = 0;
                e = vt_read_file(path, MAX_PEM_BYTES, &buf, &len);
                if (e == VT_E_INVAL)
                        return vt_diag_set(d, VT_E_FORMAT, "admin key %s is larger than %u bytes",
                                           path, MAX_PEM_BYTES);
                if (e < 0)
                        return vt_diag_set(d, e, "admin key %s: cannot read it%s%s", path,
                                           errno ? ": " : "", errno ? strerror(errno) : "");
                e = parse_public(path, buf, len, &k->k[i], d);
                /* a private key given by mistake must not linger in freed memory */
                OPENSSL_cleanse(buf, len);
                free(buf);
                if (e < 0)
                        return e;
                k->n = i + 1;
        }
        *ret = TAKE_PTR(k);
        return 0;
}

const char *vt_admin_role_name(enum vt_admin_role role)
{
        switch (role) {
        case VT_ROLE_READER:
                return "reader";
        case VT_ROLE_WRITER:
                return "writer";
        case VT_ROLE_ADMIN:
                return "admin";
        case VT_ROLE_NONE:
                break;
        }
        return "none";
}

int vt_admin_role_parse(const char *s, enum vt_admin_role *ret)
{
        static const enum vt_admin_role roles[] = {VT_ROLE_READER, VT_ROLE_WRITER, VT_ROLE_ADMIN};
        if (!s || !ret)
                return VT_E_INVAL;
        for (size_t i = 0; i < ELEMENTSOF(roles); i++)
                if (strcmp(s, vt_admin_role_name(roles[i])) == 0) {
                        *ret = roles[i];
                        return 0;
                }
        return VT_E_INVAL;
}

_Static_assert(VT_ADMIN_LEEWAY == VT_JOSE_LEEWAY, "one leeway for every token");

/* Copies sub for logs: at most VT_ADMIN_SUB_MAX - 1 bytes, cut at a UTF-8 character
 * boundary, control characters replaced by '?'. */
static void copy_sub(const char *s, char out[static VT_ADMIN_SUB_MAX])
{
        size_t n = strlen(s);
        if (n >= VT_ADMIN_SUB_MAX) {
                n = VT_ADMIN_SUB_MAX - 1;
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
        out[n] = 0;
}

static int check_claims(const json_t *c, int64_t now, struct vt_admin_principal *p,
                        struct vt_diag *d)
{
        char ebuf[ECHO_MAX + 4];
        int e;

        if ((e = vt_jose_check_times(c, now, "admin token", d)) < 0)
                return e;

        const json_t *role = json_object_get(c, "role");
        if (!role)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "admin token: no role claim (a Trustee kbs-client token has "
                                   "none); make a veritee token with: veritee admin token --key "
                                   "PRIVATE_KEY --role admin|writer|reader");
        if (!json_is_string(role))
                return vt_diag_set(d, VT_E_FORMAT, "admin token: role is not a string");
        if (vt_admin_role_parse(json_string_value(role), &p->role) < 0)
                return vt_diag_set(d, VT_E_POLICY,
                                   "admin token: unknown role \"%s\" (reader, writer or admin)",
                                   echo(json_string_value(role), ebuf));

        const json_t *sub = json_object_get(c, "sub");
        if (sub && !json_is_string(sub))
                return vt_diag_set(d, VT_E_FORMAT, "admin token: sub is not a string");
        copy_sub(sub ? json_string_value(sub) : "", p->sub);

        /* repos only mean something for a writer; the other roles ignore them */
        if (p->role != VT_ROLE_WRITER)
                return 0;
        const json_t *repos = json_object_get(c, "repos");
        if (!repos)
                return vt_diag_set(d, VT_E_POLICY,
                                   "admin token: role writer without a repos claim");
        if (!json_is_array(repos))
                return vt_diag_set(d, VT_E_FORMAT, "admin token: repos is not an array");
        size_t n = json_array_size(repos);
        if (n == 0)
                return vt_diag_set(d, VT_E_POLICY, "admin token: role writer with no repos");
        if (n > VT_ADMIN_MAX_REPOS)
                return vt_diag_set(d, VT_E_POLICY, "admin token: %zu repos, at most %d", n,
                                   VT_ADMIN_MAX_REPOS);
        for (size_t i = 0; i < n; i++) {
                const json_t *r = json_array_get(repos, i);
                const char *s = json_string_value(r);
                size_t l = json_string_length(r);
                if (!s)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "admin token: repos[%zu] is not a string", i);
                if (l == 0 || l > VT_REPO_NAME_MAX || strlen(s) != l || has_control(s))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "admin token: repos[%zu] must be 1..%d bytes without "
                                           "control characters",
                                           i, VT_REPO_NAME_MAX);
                memcpy(p->repos[i], s, l + 1);
        }
        p->n_repos = n;
        return 0;
}

int vt_admin_authenticate(const struct vt_admin_keys *k, const char *authorization, int64_t now,
                          struct vt_admin_principal *ret, struct vt_diag *d)
{
        char ebuf[ECHO_MAX + 4];
        int e;

        if (!ret)
                return VT_E_INVAL;
        if (!k || k->n == 0)
                return vt_diag_set(d, VT_E_POLICY,
                                   "admin: no admin keys are configured, so there is no admin API");
        if (!authorization || !*authorization)
                return vt_diag_set(d, VT_E_FORMAT, "admin: no Authorization header");
        if (strnlen(authorization, VT_ADMIN_MAX_HEADER + 1) > VT_ADMIN_MAX_HEADER)
                return vt_diag_set(d, VT_E_FORMAT, "admin: Authorization header over %d bytes",
                                   VT_ADMIN_MAX_HEADER);
        /* RFC 9110 11.1: the scheme is case-insensitive; 1*SP before the token68 */
        if (!ascii_prefix_ci(authorization, "Bearer") ||
            (authorization[6] != ' ' && authorization[6] != 0))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "admin: Authorization is not \"Bearer <token>\"");
        const char *tok = authorization + 6;
        while (*tok == ' ')
                tok++;
        if (!*tok)
                return vt_diag_set(d, VT_E_FORMAT, "admin: no token after Bearer");

        _cleanup_(vt_jws_done) struct vt_jws jws = {0};
        if ((e = vt_jws_parse(tok, VT_ADMIN_MAX_HEADER, MAX_JOSE_HEADER, "admin token", &jws, d)) <
            0)
                return e;
        if (!jws.alg)
                return vt_diag_set(d, VT_E_FORMAT, "admin token: header has no alg");
        enum vt_jws_alg alg;
        if (vt_jws_alg_of(&jws, VT_JWS_EDDSA | VT_JWS_ES256, &alg) != 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "admin token: algorithm \"%s\" is not accepted (EdDSA or "
                                   "ES256 only)",
                                   echo(jws.alg, ebuf));
        enum key_type want = alg == VT_JWS_EDDSA ? KT_ED25519 : KT_P256;
        const char *kid = jws.kid;
        struct vt_jws_sig sig;
        if ((e = vt_jws_signature(&jws, alg, &sig, d)) < 0)
                return e;

        /* The key named by kid goes first; the others of the right type are tried after
         * it, so a stale or absent kid still works. A kid naming a key of the other type
         * is an algorithm/key mismatch and fails outright. */
        const struct admin_key *first = NULL;
        for (size_t i = 0; kid && i < k->n && !first; i++)
                if (strcmp(k->k[i].kid, kid) == 0)
                        first = &k->k[i];
        if (first && first->type != want)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "admin token: alg %s does not match key %s (%s: %s only)",
                                   jws.alg, first->kid, type_name(first->type),
                                   type_alg(first->type));
        size_t tried = 0;
        bool ok = false;
        if (first) {
                tried++;
                ok = vt_jws_verify(&jws, &sig, first->pkey);
        }
        for (size_t i = 0; !ok && i < k->n; i++) {
                if (&k->k[i] == first || k->k[i].type != want)
                        continue;
                tried++;
                ok = vt_jws_verify(&jws, &sig, k->k[i].pkey);
        }
        if (tried == 0)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "admin token: alg %s but no %s key is configured", jws.alg,
                                   type_name(want));
        if (!ok)
                return vt_diag_set(d, VT_E_SIGNATURE,
                                   "admin token: signature does not verify with any configured "
                                   "%s key%s",
                                   type_name(want),
                                   kid && !first ? " (its kid names no configured key)" : "");

        /* Signed by a trusted key: now the claims. */
        json_auto_t *claims = NULL;
        if ((e = vt_jws_claims(&jws, VT_ADMIN_MAX_HEADER, &claims, d)) < 0)
                return e;
        struct vt_admin_principal p = {0};
        if ((e = check_claims(claims, now, &p, d)) < 0)
                return e;
        *ret = p;
        return 0;
}

/* "[a,b]" for a writer's repositories. */
static void repo_list(const struct vt_admin_principal *p, char *buf, size_t cap)
{
        size_t o = 0;
        int n = snprintf(buf, cap, "[");
        o = n > 0 ? (size_t)n : 0;
        for (size_t i = 0; i < p->n_repos && i < VT_ADMIN_MAX_REPOS && o < cap; i++) {
                n = snprintf(buf + o, cap - o, "%s%.*s", i ? "," : "", VT_REPO_NAME_MAX,
                             p->repos[i]);
                if (n < 0)
                        break;
                o += (size_t)n;
        }
        if (o < cap)
                snprintf(buf + o, cap - o, "]");
}

/* A writer may write repo only if repo equals one of its names as a whole: a name over
 * the limit is never cut to fit, it simply matches nothing. */
static bool writer_has(const struct vt_admin_principal *p, const char *repo)
{
        size_t l = strnlen(repo, VT_REPO_NAME_MAX + 1);
        if (l == 0 || l > VT_REPO_NAME_MAX)
                return false;
        /* memcmp over l + 1 bytes also compares the NUL, and never reads past repos[i] */
        for (size_t i = 0; i < p->n_repos && i < VT_ADMIN_MAX_REPOS; i++)
                if (memcmp(p->repos[i], repo, l + 1) == 0)
                        return true;
        return false;
}

int vt_admin_authorize(const struct vt_admin_principal *p, enum vt_admin_op op,
                       const char *repo_or_null, struct vt_diag *d)
{
        char list[VT_ADMIN_MAX_REPOS * VT_ADMIN_REPO_MAX + 4], ebuf[ECHO_MAX + 4];
        if (op != VT_ADMIN_READ && op != VT_ADMIN_WRITE_RESOURCE && op != VT_ADMIN_WRITE_GLOBAL)
                return vt_diag_set(d, VT_E_INVAL, "admin: unknown operation %d", (int)op);
        enum vt_admin_role role = p ? p->role : VT_ROLE_NONE;
        if (role != VT_ROLE_READER && role != VT_ROLE_WRITER && role != VT_ROLE_ADMIN)
                return vt_diag_set(d, VT_E_POLICY, "admin: no role, so may not %s",
                                   op == VT_ADMIN_READ ? "read" : "write");
        if (op == VT_ADMIN_READ || role == VT_ROLE_ADMIN)
                return 0;
        if (role == VT_ROLE_READER)
                return vt_diag_set(d, VT_E_POLICY, "role reader may not write");
        /* a writer */
        repo_list(p, list, sizeof(list));
        if (op == VT_ADMIN_WRITE_GLOBAL)
                return vt_diag_set(d, VT_E_POLICY,
                                   "writer for %s may not write global resources (admin only)",
                                   list);
        if (!repo_or_null)
                return vt_diag_set(d, VT_E_POLICY,
                                   "writer for %s may not write outside a repository", list);
        if (!writer_has(p, repo_or_null))
                return vt_diag_set(d, VT_E_POLICY, "writer for %s may not write repository %s",
                                   list, echo(repo_or_null, ebuf));
        return 0;
}

/* Creates path (never an existing file or symlink) with data and mode; on failure
 * nothing is left. */
static int write_new(const char *path, const void *data, size_t len, unsigned mode,
                     struct vt_diag *d)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                if (errno == EEXIST)
                        return vt_diag_set(d, VT_E_INVAL,
                                           "admin keygen: %s already exists; not overwriting it",
                                           path);
                return vt_diag_set(d, VT_E_IO, "admin keygen: cannot create %s: %s", path,
                                   strerror(errno));
        }
        const uint8_t *p = data;
        size_t left = len;
        int err = 0;
        while (left && !err) {
                ssize_t n = write(fd, p, left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        err = errno ? errno : EIO;
                        break;
                }
                p += n;
                left -= (size_t)n;
        }
        if (!err && (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0))
                err = errno;
        if (close(fd) < 0 && !err)
                err = errno;
        if (err) {
                unlink(path);
                return vt_diag_set(d, VT_E_IO, "admin keygen: cannot write %s: %s", path,
                                   strerror(err));
        }
        return 0;
}

int vt_admin_keygen(const char *private_path, const char *public_path, struct vt_diag *d)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(BIO_freep) BIO *priv = BIO_new(BIO_s_secmem()); /* cleansed when freed */
        _cleanup_(BIO_freep) BIO *pub = BIO_new(BIO_s_mem());
        struct stat st;
        char *pp = NULL, *pu = NULL;
        long npriv, npub;
        int e;

        if (!private_path || !public_path || !*private_path || !*public_path)
                return VT_E_INVAL;
        if (strcmp(private_path, public_path) == 0)
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin keygen: private and public key paths "
                                   "are the same");
        /* check both before writing either (write_new checks again, atomically) */
        if (lstat(private_path, &st) == 0)
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin keygen: %s already exists; not overwriting it",
                                   private_path);
        if (lstat(public_path, &st) == 0)
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin keygen: %s already exists; not overwriting it",
                                   public_path);
        if (!priv || !pub)
                return VT_E_NOMEM;
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!key || !PEM_write_bio_PrivateKey(priv, key, NULL, NULL, 0, NULL, NULL) ||
            !PEM_write_bio_PUBKEY(pub, key) || (npriv = BIO_get_mem_data(priv, &pp)) <= 0 ||
            (npub = BIO_get_mem_data(pub, &pu)) <= 0) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO, "admin keygen: cannot make an Ed25519 key");
        }
        if ((e = write_new(private_path, pp, (size_t)npriv, 0600, d)) < 0)
                return e;
        if ((e = write_new(public_path, pu, (size_t)npub, 0644, d)) < 0) {
                unlink(private_path);
                return e;
        }
        return 0;
}

/* Reads the private key at path; the file must be a regular file that only its owner
 * may access. Its bytes are cleansed after parsing. */
static int load_private(const char *path, EVP_PKEY **ret, enum key_type *ret_type,
                        struct vt_diag *d)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int e = vt_read_private_file(path, MAX_PEM_BYTES, true, "admin key", &buf, &len, d);
        if (e < 0)
                return e;
        bool encrypted = memmem(buf, len, "ENCRYPTED", 9) != NULL;
        bool public_only = !memmem(buf, len, "PRIVATE KEY", 11) && memmem(buf, len, "PUBLIC", 6);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        (void)vt_pem_private_key(buf, len, &key);
        OPENSSL_clear_free(buf, len + 1);
        ERR_clear_error();
        if (!key) {
                if (encrypted)
                        return vt_diag_set(d, VT_E_UNSUPPORTED,
                                           "admin key %s is encrypted; use an unencrypted key "
                                           "(mode 0600)",
                                           path);
                return vt_diag_set(d, VT_E_FORMAT, "admin key %s is not a PEM private key%s", path,
                                   public_only ? " (it is a public key)" : "");
        }
        if (classify(key, ret_type) < 0) {
                char desc[80];
                describe(key, desc, sizeof(desc));
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "admin key %s: %s keys do not sign admin tokens (Ed25519 "
                                   "or P-256 only)",
                                   path, desc);
        }
        *ret = TAKE_PTR(key);
        return 0;
}

static int check_repo_arg(const char *r, struct vt_diag *d)
{
        size_t l = r ? strlen(r) : 0;
        if (l == 0 || l > VT_REPO_NAME_MAX || has_control(r))
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin token: a repository name must be 1..%d bytes without "
                                   "control characters",
                                   VT_REPO_NAME_MAX);
        return 0;
}

int vt_admin_token_make(const char *private_key_path, enum vt_admin_role role,
                        const char *const *repos, size_t n_repos, int64_t ttl_seconds,
                        const char *sub, char **ret_jwt, struct vt_diag *d)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        char kid[KID_LEN + 1];
        enum key_type t = KT_ED25519;
        int e;

        if (!private_key_path || !ret_jwt || (n_repos > 0 && !repos))
                return VT_E_INVAL;
        if (role != VT_ROLE_READER && role != VT_ROLE_WRITER && role != VT_ROLE_ADMIN)
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin token: role must be reader, writer or "
                                   "admin");
        if (role == VT_ROLE_WRITER && n_repos == 0)
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin token: role writer needs at least one repository");
        if (role != VT_ROLE_WRITER && n_repos > 0)
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin token: repositories only apply to role writer (role "
                                   "%s may act on all of them)",
                                   vt_admin_role_name(role));
        if (n_repos > VT_ADMIN_MAX_REPOS)
                return vt_diag_set(d, VT_E_INVAL, "admin token: %zu repositories, at most %d",
                                   n_repos, VT_ADMIN_MAX_REPOS);
        for (size_t i = 0; i < n_repos; i++)
                if ((e = check_repo_arg(repos[i], d)) < 0)
                        return e;
        if (ttl_seconds < 1 || ttl_seconds > VT_ADMIN_MAX_TTL)
                return vt_diag_set(d, VT_E_INVAL, "admin token: lifetime must be 1 s..30 days");
        if (sub && (strlen(sub) >= VT_ADMIN_SUB_MAX || has_control(sub)))
                return vt_diag_set(d, VT_E_INVAL,
                                   "admin token: sub must be at most %d bytes without control "
                                   "characters",
                                   VT_ADMIN_SUB_MAX - 1);

        if ((e = load_private(private_key_path, &key, &t, d)) < 0)
                return e;
        if ((e = vt_jwk_thumbprint(key, kid)) < 0)
                return vt_diag_set(d, e, "admin key %s: cannot compute its key id",
                                   private_key_path);

        int64_t now = (int64_t)time(NULL);
        json_auto_t *h = json_pack("{s:s, s:s, s:s}", "alg", type_alg(t), "typ", "JWT", "kid", kid);
        json_auto_t *c = json_pack("{s:s}", "iss", VT_ADMIN_ISSUER);
        json_auto_t *ra = role == VT_ROLE_WRITER ? json_array() : NULL;
        if (!h || !c || (role == VT_ROLE_WRITER && !ra))
                return VT_E_NOMEM;
        for (size_t i = 0; ra && i < n_repos; i++)
                if (json_array_append_new(ra, json_string(repos[i])) < 0)
                        return VT_E_NOMEM;
        if ((sub && json_object_set_new(c, "sub", json_string(sub)) < 0) ||
            json_object_set_new(c, "role", json_string(vt_admin_role_name(role))) < 0 ||
            (ra && json_object_set(c, "repos", ra) < 0) ||
            json_object_set_new(c, "iat", json_integer(now)) < 0 ||
            json_object_set_new(c, "exp", json_integer(now + ttl_seconds)) < 0)
                return VT_E_NOMEM;
        if ((e = vt_jws_sign(key, t == KT_ED25519 ? VT_JWS_EDDSA : VT_JWS_ES256, h, c, ret_jwt)) <
            0)
                return vt_diag_set(d, e, "admin token: cannot sign with %s", private_key_path);
        return 0;
}
