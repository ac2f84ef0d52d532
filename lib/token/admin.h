/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin API authentication (docs/admin.md): bearer JWTs signed with EdDSA (Ed25519) or
 * ES256 (P-256) by a key listed in veriteed's configuration, carrying a role (reader,
 * writer for some repositories, admin). veriteed authenticates each request with
 * vt_admin_authenticate and then asks vt_admin_authorize for each operation; the CLI
 * makes keys and tokens with vt_admin_keygen and vt_admin_token_make.
 */
#ifndef VT_TOKEN_ADMIN_H
#define VT_TOKEN_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "util/repo.h"
#include "veritee/veritee.h"

#define VT_ADMIN_MAX_KEYS   64                     /* public keys in one configuration */
#define VT_ADMIN_MAX_REPOS  16                     /* repositories in one writer token */
#define VT_ADMIN_REPO_MAX   (VT_REPO_NAME_MAX + 1) /* a repository name and its NUL */
#define VT_ADMIN_SUB_MAX    128                    /* bytes of sub, with its NUL */
#define VT_ADMIN_MAX_TTL    (30 * 86400)
#define VT_ADMIN_LEEWAY     60   /* seconds of clock skew allowed for exp, nbf, iat */
#define VT_ADMIN_MAX_HEADER 8192 /* bytes of an Authorization header value */
#define VT_ADMIN_ISSUER     "veritee-admin"

/* A set of trusted public keys (immutable once loaded). */
struct vt_admin_keys;

/* vt_admin_keys_load reads n PEM files, each holding exactly one public key
 * ("BEGIN PUBLIC KEY", Ed25519 or P-256). An RSA or other key, a private key, several
 * keys in one file, or anything else is refused with the path in d (VT_E_FORMAT,
 * VT_E_UNSUPPORTED, VT_E_IO). n must be 1..VT_ADMIN_MAX_KEYS: no keys means no admin
 * API, which the caller decides, not an empty key set (VT_E_INVAL). The caller frees
 * *ret with vt_admin_keys_free. */
int vt_admin_keys_load(const char *const *pem_paths, size_t n, struct vt_admin_keys **ret,
                       struct vt_diag *d);

/* vt_admin_keys_free frees k (NULL is fine). */
void vt_admin_keys_free(struct vt_admin_keys *k);

/* vt_admin_keys_count returns the number of keys in k (0 for NULL). */
size_t vt_admin_keys_count(const struct vt_admin_keys *k);

/* vt_admin_keys_kid returns the key id of key i (RFC 7638 thumbprint, base64url), or
 * NULL when i is out of range. Borrowed from k. */
const char *vt_admin_keys_kid(const struct vt_admin_keys *k, size_t i);

enum vt_admin_role {
        VT_ROLE_NONE = 0,
        VT_ROLE_READER,
        VT_ROLE_WRITER,
        VT_ROLE_ADMIN,
};

/* vt_admin_role_name returns "reader", "writer", "admin" or "none". */
const char *vt_admin_role_name(enum vt_admin_role role);

/* vt_admin_role_parse maps "reader", "writer", "admin" (exactly) to a role; VT_E_INVAL
 * otherwise. */
int vt_admin_role_parse(const char *s, enum vt_admin_role *ret);

/* Who made a request. sub is for logs only: at most 127 bytes, control characters
 * replaced by '?'. repos holds the writer's repositories (n_repos 0 for the other
 * roles). */
struct vt_admin_principal {
        enum vt_admin_role role;
        char sub[VT_ADMIN_SUB_MAX];
        char repos[VT_ADMIN_MAX_REPOS][VT_ADMIN_REPO_MAX];
        size_t n_repos;
};

/* vt_admin_authenticate verifies an Authorization header value "Bearer <jwt>" (the
 * scheme is matched case-insensitively, RFC 9110 section 11.1; one or more spaces
 * follow it) at time now, with VT_ADMIN_LEEWAY seconds of skew: the header alg must be
 * EdDSA or ES256 and match the key's type; a kid, when present, picks the key to try
 * first; exp is required, nbf and iat must not be in the future; role must be reader,
 * writer or admin, and a writer needs 1..16 repos. Returns 0 and fills *ret, or
 * VT_E_FORMAT (not a bearer JWT, bad claims), VT_E_SIGNATURE (algorithm refused, no
 * key of that type, signature does not verify), VT_E_EXPIRED (exp, nbf, iat),
 * VT_E_POLICY (no keys, unknown role, writer without repositories) with a reason in d.
 * The token itself is never copied into d. Thread-safe. */
int vt_admin_authenticate(const struct vt_admin_keys *k, const char *authorization, int64_t now,
                          struct vt_admin_principal *ret, struct vt_diag *d);

enum vt_admin_op {
        VT_ADMIN_READ,           /* lists, policies, reference values: every role */
        VT_ADMIN_WRITE_RESOURCE, /* a repository's resources: admin, or its writer */
        VT_ADMIN_WRITE_GLOBAL,   /* reference values and other global state: admin */
};

/* vt_admin_authorize returns 0 when p may do op (on repository repo_or_null for
 * VT_ADMIN_WRITE_RESOURCE; ignored for the others), else VT_E_POLICY with a reason in d
 * ("role reader may not write", "writer for [a,b] may not write repository c").
 * VT_E_INVAL for an unknown op. Thread-safe. */
int vt_admin_authorize(const struct vt_admin_principal *p, enum vt_admin_op op,
                       const char *repo_or_null, struct vt_diag *d);

/* vt_admin_keygen makes an Ed25519 key pair: the private key as unencrypted PKCS#8 PEM
 * at private_path (mode 0600) and the public key at public_path (mode 0644). Refuses
 * (VT_E_INVAL) if either path exists; nothing is left behind on failure. */
int vt_admin_keygen(const char *private_path, const char *public_path, struct vt_diag *d);

/* vt_admin_token_make signs a token with the private key at private_key_path (an
 * Ed25519 key signs EdDSA, a P-256 key ES256; the file must not be accessible by group
 * or others, and may not be encrypted) with claims iss "veritee-admin", sub (when not
 * NULL), role, repos (writer only: 1..16 names of 1..63 bytes; refused for the other
 * roles), iat now and exp now + ttl_seconds (1..VT_ADMIN_MAX_TTL). Returns the compact
 * JWT in *ret_jwt; the caller frees it (it is a credential: cleanse it first). */
int vt_admin_token_make(const char *private_key_path, enum vt_admin_role role,
                        const char *const *repos, size_t n_repos, int64_t ttl_seconds,
                        const char *sub, char **ret_jwt, struct vt_diag *d);

#endif
