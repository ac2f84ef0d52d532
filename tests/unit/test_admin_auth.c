/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin API authentication (lib/token/admin.c): keys, tokens, the bearer header,
 * claims and the role x operation x repository matrix. Tokens with hand-made headers
 * and claims are signed here with OpenSSL directly, independently of the library.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "testutil.h"
#include "token/admin.h"
#include "util/b64.h"

#define NOW 1750000000LL

/* Files made once for the whole group, in a fresh directory. */
static char dir[64];
static char ed_key[128], ed_pub[128], ed2_key[128], ed2_pub[128], p256_key[128], p256_pub[128],
        rsa_key[128], rsa_pub[128], p384_pub[128], ed448_pub[128], garbage[128], empty[128],
        two_keys[128], enc_key[128];
static EVP_PKEY *ed, *ed2, *p256, *rsa;
static struct vt_admin_keys *k_ed, *k_p256, *k_both, *k_ed_ed2;

static void path(char *out, const char *name)
{
        snprintf(out, 128, "%s/%s", dir, name);
}

static void write_text(const char *p, const char *text, mode_t mode)
{
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(chmod(p, mode), 0);
}

static void write_pub(const char *p, EVP_PKEY *key)
{
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        assert_int_equal(PEM_write_PUBKEY(f, key), 1);
        fclose(f);
}

static void write_priv(const char *p, EVP_PKEY *key, const EVP_CIPHER *enc)
{
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        assert_int_equal(chmod(p, 0600), 0);
        assert_int_equal(PEM_write_PrivateKey(f, key, enc, enc ? (unsigned char *)"secret" : NULL,
                                              enc ? 6 : 0, NULL, NULL),
                         1);
        fclose(f);
}

static EVP_PKEY *read_priv(const char *p)
{
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        assert_non_null(k);
        return k;
}

static struct vt_admin_keys *load(const char *a, const char *b)
{
        const char *paths[] = {a, b};
        struct vt_admin_keys *k = NULL;
        struct vt_diag d = {0};
        int e = vt_admin_keys_load(paths, b ? 2 : 1, &k, &d);
        if (e < 0)
                fail_msg("keys_load: %s", d.msg);
        return k;
}

static int group_setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/vt-admin-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        path(ed_key, "ed.key");
        path(ed_pub, "ed.pub");
        path(ed2_key, "ed2.key");
        path(ed2_pub, "ed2.pub");
        path(p256_key, "p256.key");
        path(p256_pub, "p256.pub");
        path(rsa_key, "rsa.key");
        path(rsa_pub, "rsa.pub");
        path(p384_pub, "p384.pub");
        path(ed448_pub, "ed448.pub");
        path(garbage, "garbage.pub");
        path(empty, "empty.pub");
        path(two_keys, "two.pub");
        path(enc_key, "enc.key");

        struct vt_diag d = {0};
        if (vt_admin_keygen(ed_key, ed_pub, &d) < 0 || vt_admin_keygen(ed2_key, ed2_pub, &d) < 0)
                return -1;
        ed = read_priv(ed_key);
        ed2 = read_priv(ed2_key);

        p256 = EVP_EC_gen("P-256");
        rsa = EVP_RSA_gen(2048);
        EVP_PKEY *p384 = EVP_EC_gen("P-384");
        EVP_PKEY *ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
        if (!p256 || !rsa || !p384 || !ed448)
                return -1;
        write_priv(p256_key, p256, NULL);
        write_pub(p256_pub, p256);
        write_priv(rsa_key, rsa, NULL);
        write_pub(rsa_pub, rsa);
        write_pub(p384_pub, p384);
        write_pub(ed448_pub, ed448);
        write_priv(enc_key, p256, EVP_aes_256_cbc());
        EVP_PKEY_free(p384);
        EVP_PKEY_free(ed448);
        write_text(garbage, "this is not a key\n", 0644);
        write_text(empty, "", 0644);
        FILE *f = fopen(two_keys, "w");
        if (!f)
                return -1;
        PEM_write_PUBKEY(f, ed);
        PEM_write_PUBKEY(f, ed2);
        fclose(f);

        k_ed = load(ed_pub, NULL);
        k_p256 = load(p256_pub, NULL);
        k_both = load(ed_pub, p256_pub);
        k_ed_ed2 = load(ed_pub, ed2_pub);
        return 0;
}

static int group_teardown(void **state)
{
        const char *files[] = {ed_key,  ed_pub,   ed2_key,   ed2_pub, p256_key, p256_pub, rsa_key,
                               rsa_pub, p384_pub, ed448_pub, garbage, empty,    two_keys, enc_key};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                unlink(files[i]);
        rmdir(dir);
        EVP_PKEY_free(ed);
        EVP_PKEY_free(ed2);
        EVP_PKEY_free(p256);
        EVP_PKEY_free(rsa);
        vt_admin_keys_free(k_ed);
        vt_admin_keys_free(k_p256);
        vt_admin_keys_free(k_both);
        vt_admin_keys_free(k_ed_ed2);
        return 0;
}

static char *b64(const void *p, size_t n)
{
        char *s = NULL;
        assert_int_equal(vt_b64_encode(p, n, VT_B64_URL, &s), 0);
        return s;
}

/* "Bearer " + a compact JWS of header and payload (JSON text, used as is), signed the
 * way how says: "EdDSA" or "ES256" with key, "HS256" with the bytes of ed.pub as the
 * HMAC secret, "RS256" with the RSA key, "none" with no signature, "zero" with 64 zero
 * bytes; "ES256-high" as ES256 with the high S of the signature pair. */
static char *mk(const char *how, EVP_PKEY *key, const char *header, const char *payload)
{
        char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload)), *s = NULL;
        char *input = NULL, *out = NULL;
        uint8_t sig[512];
        size_t sl = sizeof(sig);
        assert_true(asprintf(&input, "%s.%s", h, p) > 0);
        if (strcmp(how, "EdDSA") == 0 || strcmp(how, "RS256") == 0) {
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                assert_int_equal(EVP_DigestSignInit(md, NULL, how[0] == 'R' ? EVP_sha256() : NULL,
                                                    NULL, how[0] == 'R' ? rsa : key),
                                 1);
                assert_int_equal(EVP_DigestSign(md, sig, &sl, (uint8_t *)input, strlen(input)), 1);
                EVP_MD_CTX_free(md);
        } else if (strncmp(how, "ES256", 5) == 0) {
                uint8_t der[80];
                size_t dl = sizeof(der);
                EVP_MD_CTX *md = EVP_MD_CTX_new();
                assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
                assert_int_equal(EVP_DigestSign(md, der, &dl, (uint8_t *)input, strlen(input)), 1);
                EVP_MD_CTX_free(md);
                const uint8_t *q = der;
                ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)dl);
                assert_non_null(es);
                /* the low S of the pair (as a correct signer writes), or the high one
                 * when asked for ("ES256-high"); both verify */
                BIGNUM *n = BN_new(), *other = BN_new();
                EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
                assert_true(n && other && g && EC_GROUP_get_order(g, n, NULL));
                assert_true(BN_sub(other, n, ECDSA_SIG_get0_s(es)));
                bool low = BN_cmp(ECDSA_SIG_get0_s(es), other) < 0;
                bool want_high = strcmp(how, "ES256-high") == 0;
                assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32), 32);
                assert_int_equal(
                        BN_bn2binpad(low != want_high ? ECDSA_SIG_get0_s(es) : other, sig + 32, 32),
                        32);
                BN_free(n);
                BN_free(other);
                EC_GROUP_free(g);
                ECDSA_SIG_free(es);
                sl = 64;
        } else if (strcmp(how, "HS256") == 0) {
                uint8_t *secret = NULL;
                size_t secret_len = 0;
                secret = vt_test_load(ed_pub, &secret_len);
                unsigned int ml = 0;
                assert_non_null(HMAC(EVP_sha256(), secret, (int)secret_len, (uint8_t *)input,
                                     strlen(input), sig, &ml));
                sl = ml;
                free(secret);
        } else if (strcmp(how, "zero") == 0) {
                memset(sig, 0, 64);
                sl = 64;
        } else {
                sl = 0;
        }
        s = b64(sig, sl);
        assert_true(asprintf(&out, "Bearer %s.%s", input, s) > 0);
        free(h);
        free(p);
        free(s);
        free(input);
        return out;
}

static const char *kid_of(const struct vt_admin_keys *k)
{
        return vt_admin_keys_kid(k, 0);
}

/* An EdDSA header with ed's kid. */
static char *ed_header(void)
{
        static char h[160];
        snprintf(h, sizeof(h), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid_of(k_ed));
        return h;
}

/* Authenticates a crafted token at NOW against keys; returns the error, checks that
 * the reason contains want (when given). */
static int auth(const struct vt_admin_keys *keys, const char *bearer, struct vt_admin_principal *p,
                const char *want)
{
        struct vt_diag d = {0};
        struct vt_admin_principal tmp;
        int e = vt_admin_authenticate(keys, bearer, NOW, p ? p : &tmp, &d);
        if (e < 0) {
                assert_int_equal(d.err, e);
                assert_true(d.msg[0] != 0);
        }
        if (want && !strstr(d.msg, want))
                fail_msg("reason \"%s\" lacks \"%s\"", d.msg, want);
        return e;
}

static int auth_claims(const char *payload, struct vt_admin_principal *p, const char *want)
{
        char *t = mk("EdDSA", ed, ed_header(), payload);
        int e = auth(k_ed, t, p, want);
        free(t);
        return e;
}

static char *make_token(const char *key, enum vt_admin_role role, const char *const *repos,
                        size_t n, int64_t ttl, const char *sub)
{
        char *jwt = NULL, *out = NULL;
        struct vt_diag d = {0};
        if (vt_admin_token_make(key, role, repos, n, ttl, sub, &jwt, &d) < 0)
                fail_msg("token_make: %s", d.msg);
        assert_true(asprintf(&out, "Bearer %s", jwt) > 0);
        free(jwt);
        return out;
}

/* The decoded JSON of part i (0 header, 1 payload) of "Bearer h.p.s". */
static json_t *part(const char *bearer, int i)
{
        const char *s = bearer + 7, *e;
        for (int j = 0; j < i; j++)
                s = strchr(s, '.') + 1;
        e = strchr(s, '.');
        uint8_t *b = NULL;
        size_t n = 0;
        assert_int_equal(vt_b64_decode(s, (size_t)(e - s), VT_B64_URL, 4096, &b, &n), 0);
        json_t *j = json_loadb((char *)b, n, 0, NULL);
        free(b);
        assert_non_null(j);
        return j;
}

static void test_admin_roundtrip_ed25519(void **state)
{
        const char *repos[] = {"alpha", "beta"};
        struct vt_admin_principal p;
        struct vt_diag d = {0};
        int64_t now = (int64_t)time(NULL);

        char *t = make_token(ed_key, VT_ROLE_WRITER, repos, 2, 3600, "alice@example");
        json_t *h = part(t, 0), *c = part(t, 1);
        assert_string_equal(json_string_value(json_object_get(h, "alg")), "EdDSA");
        assert_string_equal(json_string_value(json_object_get(h, "kid")), kid_of(k_ed));
        assert_string_equal(json_string_value(json_object_get(c, "iss")), "veritee-admin");
        assert_string_equal(json_string_value(json_object_get(c, "role")), "writer");
        int64_t iat = json_integer_value(json_object_get(c, "iat"));
        assert_true(iat >= now && iat <= now + 5);
        assert_int_equal(json_integer_value(json_object_get(c, "exp")), iat + 3600);
        json_decref(h);
        json_decref(c);

        assert_int_equal(vt_admin_authenticate(k_ed, t, now, &p, &d), 0);
        assert_int_equal(p.role, VT_ROLE_WRITER);
        assert_string_equal(p.sub, "alice@example");
        assert_int_equal(p.n_repos, 2);
        assert_string_equal(p.repos[0], "alpha");
        assert_string_equal(p.repos[1], "beta");
        /* with several keys of both types, too */
        assert_int_equal(vt_admin_authenticate(k_both, t, now, &p, &d), 0);
        /* but not with a P-256 key only */
        assert_int_equal(vt_admin_authenticate(k_p256, t, now, &p, &d), VT_E_SIGNATURE);
        free(t);

        t = make_token(ed_key, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        vt_diag_clear(&d);
        assert_int_equal(vt_admin_authenticate(k_ed, t, now, &p, &d), 0);
        assert_int_equal(p.role, VT_ROLE_ADMIN);
        assert_string_equal(p.sub, "");
        assert_int_equal(p.n_repos, 0);
        c = part(t, 1);
        assert_null(json_object_get(c, "repos"));
        assert_null(json_object_get(c, "sub"));
        json_decref(c);
        free(t);

        t = make_token(ed_key, VT_ROLE_READER, NULL, 0, VT_ADMIN_MAX_TTL, "bob");
        assert_int_equal(vt_admin_authenticate(k_ed, t, now, &p, &d), 0);
        assert_int_equal(p.role, VT_ROLE_READER);
        free(t);
}

static void test_admin_roundtrip_p256(void **state)
{
        const char *repos[] = {"r"};
        struct vt_admin_principal p;
        struct vt_diag d = {0};
        int64_t now = (int64_t)time(NULL);
        char *t = make_token(p256_key, VT_ROLE_WRITER, repos, 1, 600, "ci");
        json_t *h = part(t, 0);
        assert_string_equal(json_string_value(json_object_get(h, "alg")), "ES256");
        assert_string_equal(json_string_value(json_object_get(h, "kid")), kid_of(k_p256));
        json_decref(h);
        assert_int_equal(vt_admin_authenticate(k_p256, t, now, &p, &d), 0);
        assert_int_equal(p.role, VT_ROLE_WRITER);
        assert_string_equal(p.repos[0], "r");
        assert_int_equal(vt_admin_authenticate(k_both, t, now, &p, &d), 0);
        vt_diag_clear(&d);
        assert_int_equal(vt_admin_authenticate(k_ed, t, now, &p, &d), VT_E_SIGNATURE);
        assert_non_null(strstr(d.msg, "no P-256 key is configured"));
        free(t);

        /* a token signed here (not by the library) verifies as well */
        char hdr[160];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid_of(k_p256));
        t = mk("ES256", p256, hdr, "{\"role\":\"admin\",\"exp\":1750000100}");
        assert_int_equal(auth(k_p256, t, &p, NULL), 0);
        assert_int_equal(p.role, VT_ROLE_ADMIN);
        free(t);
}

/* The kid must be the RFC 7638 thumbprint: recompute it from the raw public keys. */
static void test_admin_kid_thumbprint(void **state)
{
        uint8_t raw[32], h[32];
        size_t n = sizeof(raw);
        char json[256];
        assert_int_equal(EVP_PKEY_get_raw_public_key(ed, raw, &n), 1);
        char *x = b64(raw, n);
        snprintf(json, sizeof(json), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
        free(x);
        assert_int_equal(EVP_Digest(json, strlen(json), h, NULL, EVP_sha256(), NULL), 1);
        char *kid = b64(h, 32);
        assert_string_equal(kid, kid_of(k_ed));
        free(kid);

        uint8_t pt[65];
        n = sizeof(pt);
        assert_int_equal(EVP_PKEY_get_octet_string_param(p256, "encoded-pub-key", pt, n, &n), 1);
        assert_int_equal(n, 65);
        char *px = b64(pt + 1, 32), *py = b64(pt + 33, 32);
        snprintf(json, sizeof(json), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                 px, py);
        free(px);
        free(py);
        assert_int_equal(EVP_Digest(json, strlen(json), h, NULL, EVP_sha256(), NULL), 1);
        kid = b64(h, 32);
        assert_string_equal(kid, kid_of(k_p256));
        free(kid);
        /* the same key written with a compressed point has the same kid */
        char cpub[160];
        snprintf(cpub, sizeof(cpub), "%s/compressed.pub", dir);
        EVP_PKEY *cp = EVP_PKEY_dup(p256);
        assert_non_null(cp);
        assert_int_equal(EVP_PKEY_set_utf8_string_param(cp, "point-format", "compressed"), 1);
        write_pub(cpub, cp);
        EVP_PKEY_free(cp);
        uint8_t *pem = NULL;
        size_t pem_len = 0;
        pem = vt_test_load(cpub, &pem_len);
        assert_true(pem_len < 150); /* 33-byte point: a shorter PEM than the 65-byte one */
        free(pem);
        struct vt_admin_keys *ck = load(cpub, NULL);
        assert_string_equal(vt_admin_keys_kid(ck, 0), kid_of(k_p256));
        vt_admin_keys_free(ck);
        unlink(cpub);

        assert_int_equal(vt_admin_keys_count(k_both), 2);
        assert_null(vt_admin_keys_kid(k_both, 2));
}

static void test_admin_expired(void **state)
{
        struct vt_diag d = {0};
        struct vt_admin_principal p;
        int64_t now = (int64_t)time(NULL);
        char *t = make_token(ed_key, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        /* 60 s of leeway after exp, not 61 */
        assert_int_equal(vt_admin_authenticate(k_ed, t, now + 60 + 60, &p, &d), 0);
        assert_int_equal(vt_admin_authenticate(k_ed, t, now + 3600, &p, &d), VT_E_EXPIRED);
        assert_non_null(strstr(d.msg, "expired at"));
        free(t);

        /* exact boundary with a crafted exp */
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1749999940}", NULL, NULL), 0);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1749999939}", NULL, "expired"),
                         VT_E_EXPIRED);
        /* extreme values compare without overflow */
        assert_int_equal(
                auth_claims("{\"role\":\"admin\",\"exp\":-9223372036854775808}", NULL, "expired"),
                VT_E_EXPIRED);
        assert_int_equal(
                auth_claims("{\"role\":\"admin\",\"exp\":9223372036854775807}", NULL, NULL), 0);
}

static void test_admin_not_yet_valid(void **state)
{
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750009999,\"nbf\":1750000060}",
                                     NULL, NULL),
                         0);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750009999,\"nbf\":1750000061}",
                                     NULL, "not valid before"),
                         VT_E_EXPIRED);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750009999,\"nbf\":"
                                     "9223372036854775807}",
                                     NULL, "not valid before"),
                         VT_E_EXPIRED);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750009999,\"iat\":1750003600}",
                                     NULL, "issued in the future"),
                         VT_E_EXPIRED);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750009999,\"nbf\":\"soon\"}",
                                     NULL, "nbf is not an integer"),
                         VT_E_FORMAT);
        /* a token made now is not valid an hour earlier (iat in the future) */
        struct vt_diag d = {0};
        struct vt_admin_principal p;
        char *t = make_token(ed_key, VT_ROLE_ADMIN, NULL, 0, 7200, NULL);
        assert_int_equal(vt_admin_authenticate(k_ed, t, (int64_t)time(NULL) - 3600, &p, &d),
                         VT_E_EXPIRED);
        free(t);
}

static void test_admin_wrong_key(void **state)
{
        struct vt_diag d = {0};
        struct vt_admin_principal p;
        int64_t now = (int64_t)time(NULL);
        char *t = make_token(ed2_key, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        assert_int_equal(vt_admin_authenticate(k_ed, t, now, &p, &d), VT_E_SIGNATURE);
        assert_non_null(strstr(d.msg, "does not verify"));
        assert_non_null(strstr(d.msg, "kid names no configured key"));
        /* the set with both keys accepts it, picking ed2 by its kid */
        assert_int_equal(vt_admin_authenticate(k_ed_ed2, t, now, &p, &d), 0);
        free(t);

        /* without a kid every key of the type is tried; with ed's kid, ed first, then ed2 */
        t = mk("EdDSA", ed2, "{\"alg\":\"EdDSA\"}", "{\"role\":\"reader\",\"exp\":1750000100}");
        assert_int_equal(auth(k_ed_ed2, t, NULL, NULL), 0);
        assert_int_equal(auth(k_ed, t, NULL, "does not verify"), VT_E_SIGNATURE);
        free(t);
        t = mk("EdDSA", ed2, ed_header(), "{\"role\":\"reader\",\"exp\":1750000100}");
        assert_int_equal(auth(k_ed_ed2, t, NULL, NULL), 0);
        free(t);
        /* 64 zero bytes */
        t = mk("zero", NULL, ed_header(), "{\"role\":\"reader\",\"exp\":1750000100}");
        assert_int_equal(auth(k_ed, t, NULL, "does not verify"), VT_E_SIGNATURE);
        free(t);
}

static void test_admin_alg_refused(void **state)
{
        const char *claims = "{\"role\":\"admin\",\"exp\":1750000100}";
        char *t = mk("none", NULL, "{\"alg\":\"none\"}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "algorithm \"none\" is not accepted"), VT_E_SIGNATURE);
        free(t);
        t = mk("EdDSA", ed, "{\"alg\":\"none\"}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "\"none\""), VT_E_SIGNATURE);
        free(t);
        t = mk("HS256", NULL, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "algorithm \"HS256\""), VT_E_SIGNATURE);
        free(t);
        t = mk("RS256", NULL, "{\"alg\":\"RS256\"}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "algorithm \"RS256\""), VT_E_SIGNATURE);
        free(t);
        const char *others[] = {"{\"alg\":\"eddsa\"}", "{\"alg\":\"Ed25519\"}",
                                "{\"alg\":\"ES384\"}", "{\"alg\":\"PS256\"}", "{\"alg\":\"\"}"};
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
                t = mk("EdDSA", ed, others[i], claims);
                assert_int_equal(auth(k_both, t, NULL, "is not accepted"), VT_E_SIGNATURE);
                free(t);
        }
        t = mk("EdDSA", ed, "{\"typ\":\"JWT\"}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "no alg"), VT_E_FORMAT);
        free(t);
        t = mk("EdDSA", ed, "{\"alg\":null}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "no alg"), VT_E_FORMAT);
        free(t);
        t = mk("EdDSA", ed, "{\"alg\":\"EdDSA\",\"alg\":\"none\"}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "header is not a JSON object"), VT_E_FORMAT);
        free(t);
        t = mk("EdDSA", ed, "{\"alg\":\"EdDSA\",\"crit\":[\"exp\"]}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "crit"), VT_E_FORMAT);
        free(t);
        t = mk("EdDSA", ed, "[\"EdDSA\"]", claims);
        assert_int_equal(auth(k_ed, t, NULL, "header is not a JSON object"), VT_E_FORMAT);
        free(t);
        t = mk("EdDSA", ed, "{\"alg\":\"EdDSA\",\"kid\":7}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "kid"), VT_E_FORMAT);
        free(t);
}

static void test_admin_alg_key_mismatch(void **state)
{
        const char *claims = "{\"role\":\"admin\",\"exp\":1750000100}";
        char hdr[160];
        /* ES256 naming the Ed25519 key, signed with P-256: refused even where the P-256
         * key is trusted, because the kid's key only verifies EdDSA */
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid_of(k_ed));
        char *t = mk("ES256", p256, hdr, claims);
        assert_int_equal(auth(k_ed, t, NULL, "does not match key"), VT_E_SIGNATURE);
        assert_int_equal(auth(k_both, t, NULL, "EdDSA only"), VT_E_SIGNATURE);
        free(t);
        /* ES256 without kid on an Ed25519-only set */
        t = mk("ES256", p256, "{\"alg\":\"ES256\"}", claims);
        assert_int_equal(auth(k_ed, t, NULL, "no P-256 key is configured"), VT_E_SIGNATURE);
        assert_int_equal(auth(k_both, t, NULL, NULL), 0);
        free(t);
        /* EdDSA header, Ed25519 signature, on a P-256-only set */
        t = mk("EdDSA", ed, ed_header(), claims);
        assert_int_equal(auth(k_p256, t, NULL, "no Ed25519 key is configured"), VT_E_SIGNATURE);
        free(t);
        /* a P-256 signature with the high S of its pair verifies mathematically, but it
         * is the second spelling of a token: refused, by name; the low one is accepted */
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid_of(k_p256));
        t = mk("ES256-high", p256, hdr, claims);
        assert_int_equal(auth(k_p256, t, NULL, "ES256 signature has a high S"), VT_E_SIGNATURE);
        free(t);
        t = mk("ES256", p256, hdr, claims);
        assert_int_equal(auth(k_p256, t, NULL, NULL), 0);
        free(t);
        /* EdDSA header naming the P-256 key */
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", kid_of(k_p256));
        t = mk("EdDSA", ed, hdr, claims);
        assert_int_equal(auth(k_both, t, NULL, "ES256 only"), VT_E_SIGNATURE);
        free(t);
}

static void test_admin_tampered(void **state)
{
        char *reader = mk("EdDSA", ed, ed_header(), "{\"role\":\"reader\",\"exp\":1750000100}");
        char *admin = mk("EdDSA", ed2, ed_header(), "{\"role\":\"admin\",\"exp\":1750000100}");
        assert_int_equal(auth(k_ed, reader, NULL, NULL), 0);
        /* admin's payload with reader's header and signature */
        char *rd1 = strchr(reader + 7, '.'), *rd2 = strchr(rd1 + 1, '.');
        char *ad1 = strchr(admin + 7, '.'), *ad2 = strchr(ad1 + 1, '.');
        char *t = NULL;
        assert_true(asprintf(&t, "%.*s%.*s%s", (int)(rd1 - reader), reader, (int)(ad2 - ad1), ad1,
                             rd2) > 0);
        assert_int_equal(auth(k_ed, t, NULL, "does not verify"), VT_E_SIGNATURE);
        free(t);

        /* every change to the token (not to "Bearer") is refused */
        size_t n = strlen(reader);
        for (size_t i = 7; i < n; i++) {
                char saved = reader[i];
                reader[i] = saved == 'A' ? 'B' : saved == '.' ? 'x' : 'A';
                assert_true(auth(k_ed, reader, NULL, NULL) < 0);
                reader[i] = saved;
        }
        assert_int_equal(auth(k_ed, reader, NULL, NULL), 0);
        free(reader);
        free(admin);
}

static void test_admin_truncations(void **state)
{
        const char *repos[] = {"a"};
        char *t = make_token(ed_key, VT_ROLE_WRITER, repos, 1, 60, "s");
        char *u = make_token(p256_key, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        char *tokens[] = {t, u};
        struct vt_admin_principal p;
        int64_t now = (int64_t)time(NULL);
        for (size_t k = 0; k < 2; k++) {
                size_t n = strlen(tokens[k]);
                char *buf = malloc(n + 1);
                assert_non_null(buf);
                for (size_t i = 0; i < n; i++) {
                        struct vt_diag d = {0};
                        memcpy(buf, tokens[k], i);
                        buf[i] = 0;
                        assert_true(vt_admin_authenticate(k_both, buf, now, &p, &d) < 0);
                        assert_true(d.msg[0] != 0);
                }
                struct vt_diag d = {0};
                assert_int_equal(vt_admin_authenticate(k_both, tokens[k], now, &p, &d), 0);
                free(buf);
        }
        free(t);
        free(u);
}

static void test_admin_claims(void **state)
{
        struct vt_admin_principal p;
        /* a Trustee kbs-client token: the missing claim and how to mint ours */
        assert_int_equal(auth_claims("{\"exp\":1750000100}", NULL,
                                     "no role claim (a Trustee kbs-client token has none); make "
                                     "a veritee token with: veritee admin token --key"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"admin\"}", NULL, "no exp"), VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":\"1750000100\"}", NULL,
                                     "exp is not an integer"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750000100.0}", NULL,
                                     "exp is not an integer"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"root\",\"exp\":1750000100}", NULL,
                                     "unknown role \"root\""),
                         VT_E_POLICY);
        assert_int_equal(
                auth_claims("{\"role\":\"Admin\",\"exp\":1750000100}", NULL, "unknown role"),
                VT_E_POLICY);
        assert_int_equal(
                auth_claims("{\"role\":\"none\",\"exp\":1750000100}", NULL, "unknown role"),
                VT_E_POLICY);
        assert_int_equal(auth_claims("{\"role\":[\"admin\"],\"exp\":1750000100}", NULL,
                                     "role is not a string"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"writer\",\"exp\":1750000100}", NULL,
                                     "writer without a repos claim"),
                         VT_E_POLICY);
        assert_int_equal(auth_claims("{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[]}", NULL,
                                     "writer with no repos"),
                         VT_E_POLICY);
        assert_int_equal(auth_claims("{\"role\":\"writer\",\"exp\":1750000100,\"repos\":\"a\"}",
                                     NULL, "repos is not an array"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[\"a\",1]}",
                                     NULL, "repos[1] is not a string"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[\"\"]}",
                                     NULL, "repos[0] must be"),
                         VT_E_FORMAT);
        assert_int_equal(
                auth_claims("{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[\"a\\nb\"]}", NULL,
                            "control"),
                VT_E_FORMAT);
        char c[1024];
        snprintf(c, sizeof(c), "{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[\"%064d\"]}", 0);
        assert_int_equal(auth_claims(c, NULL, "repos[0] must be 1..63 bytes"), VT_E_FORMAT);
        snprintf(c, sizeof(c), "{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[\"%063d\"]}", 0);
        assert_int_equal(auth_claims(c, &p, NULL), 0);
        assert_int_equal(strlen(p.repos[0]), 63);
        int o = snprintf(c, sizeof(c), "{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[");
        for (int i = 0; i < 17; i++)
                o += snprintf(c + o, sizeof(c) - (size_t)o, "%s\"r%d\"", i ? "," : "", i);
        snprintf(c + o, sizeof(c) - (size_t)o, "]}");
        assert_int_equal(auth_claims(c, NULL, "17 repos, at most 16"), VT_E_POLICY);
        /* 16 is fine */
        o = snprintf(c, sizeof(c), "{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[");
        for (int i = 0; i < 16; i++)
                o += snprintf(c + o, sizeof(c) - (size_t)o, "%s\"r%d\"", i ? "," : "", i);
        snprintf(c + o, sizeof(c) - (size_t)o, "]}");
        assert_int_equal(auth_claims(c, &p, NULL), 0);
        assert_int_equal(p.n_repos, 16);
        assert_string_equal(p.repos[15], "r15");

        /* repos are ignored for the other roles, whatever they hold */
        assert_int_equal(
                auth_claims("{\"role\":\"reader\",\"exp\":1750000100,\"repos\":[1,2]}", &p, NULL),
                0);
        assert_int_equal(p.role, VT_ROLE_READER);
        assert_int_equal(p.n_repos, 0);
        /* iss is not checked; sub is for logs */
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750000100,\"iss\":\"elsewhere\","
                                     "\"sub\":\"line1\\nline2\\u0007\"}",
                                     &p, NULL),
                         0);
        assert_string_equal(p.sub, "line1?line2?");
        snprintf(c, sizeof(c), "{\"role\":\"admin\",\"exp\":1750000100,\"sub\":\"%0200d\"}", 0);
        assert_int_equal(auth_claims(c, &p, NULL), 0);
        assert_int_equal(strlen(p.sub), 127);
        /* cut at a character boundary: 126 bytes and a 2-byte character */
        snprintf(c, sizeof(c), "{\"role\":\"admin\",\"exp\":1750000100,\"sub\":\"%0126d\\u00e9x\"}",
                 0);
        assert_int_equal(auth_claims(c, &p, NULL), 0);
        assert_int_equal(strlen(p.sub), 126);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"exp\":1750000100,\"sub\":5}", NULL,
                                     "sub is not a string"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("{\"role\":\"admin\",\"role\":\"reader\",\"exp\":1750000100}",
                                     NULL, "claims are not a JSON object"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("[\"admin\"]", NULL, "claims are not a JSON object"),
                         VT_E_FORMAT);
        assert_int_equal(auth_claims("not json", NULL, "claims are not a JSON object"),
                         VT_E_FORMAT);
        /* ret untouched on failure */
        memset(&p, 0x5a, sizeof(p));
        assert_int_equal(auth_claims("{\"role\":\"admin\"}", &p, NULL), VT_E_FORMAT);
        assert_int_equal(p.n_repos, (size_t)0x5a5a5a5a5a5a5a5aULL);
}

static void test_admin_bearer_scheme(void **state)
{
        char *t = mk("EdDSA", ed, ed_header(), "{\"role\":\"admin\",\"exp\":1750000100}");
        const char *jwt = t + 7;
        char buf[1024];
        struct vt_admin_principal p;
        struct vt_diag d = {0};

        /* the scheme is case-insensitive (RFC 9110 11.1); one or more spaces */
        const char *ok[][2] = {{"Bearer ", ""},
                               {"bearer ", ""},
                               {"BEARER ", ""},
                               {"bEaReR ", ""},
                               {"Bearer   ", ""}};
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                snprintf(buf, sizeof(buf), "%s%s%s", ok[i][0], jwt, ok[i][1]);
                assert_int_equal(auth(k_ed, buf, NULL, NULL), 0);
        }
        const char *bad[][2] = {{"", ""},           {"Basic ", ""},    {"Bearer\t", ""},
                                {"Bearer:", ""},    {"Bearer", ""},    {"Bearer ", " "},
                                {" Bearer ", ""},   {"Bearer ", "\n"}, {"Token ", ""},
                                {"Bearer \"", "\""}};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(buf, sizeof(buf), "%s%s%s", bad[i][0], jwt, bad[i][1]);
                assert_int_equal(auth(k_ed, buf, NULL, NULL), VT_E_FORMAT);
        }
        assert_int_equal(auth(k_ed, "Bearer", NULL, "no token after Bearer"), VT_E_FORMAT);
        assert_int_equal(auth(k_ed, "Bearer    ", NULL, "no token after Bearer"), VT_E_FORMAT);
        assert_int_equal(auth(k_ed, "", NULL, "no Authorization header"), VT_E_FORMAT);
        assert_int_equal(auth(k_ed, NULL, NULL, "no Authorization header"), VT_E_FORMAT);
        assert_int_equal(auth(k_ed, "Bearer a.b", NULL, "compact JWS"), VT_E_FORMAT);
        assert_int_equal(auth(k_ed, "Bearer a.b.c.d", NULL, "more than three parts"), VT_E_FORMAT);
        assert_int_equal(auth(k_ed, "Bearer ..", NULL, "empty"), VT_E_FORMAT);
        assert_int_equal(auth(k_ed, "Bearer a=.b.c", NULL, "not base64url"), VT_E_FORMAT);
        /* a long header value is refused before any work */
        char *big = malloc(VT_ADMIN_MAX_HEADER + 2);
        assert_non_null(big);
        memcpy(big, "Bearer ", 7);
        memset(big + 7, 'A', VT_ADMIN_MAX_HEADER + 1 - 7);
        big[VT_ADMIN_MAX_HEADER + 1] = 0;
        assert_int_equal(auth(k_ed, big, NULL, "over 8192 bytes"), VT_E_FORMAT);
        free(big);

        /* no keys: no admin API */
        assert_int_equal(vt_admin_authenticate(NULL, t, NOW, &p, &d), VT_E_POLICY);
        assert_non_null(strstr(d.msg, "no admin keys"));
        free(t);
}

struct authz_case {
        enum vt_admin_role role;
        enum vt_admin_op op;
        const char *repo;
        int want;
        const char *msg;
};

static void test_admin_authorize_matrix(void **state)
{
        struct vt_admin_principal ps[4] = {{.role = VT_ROLE_NONE},
                                           {.role = VT_ROLE_READER},
                                           {.role = VT_ROLE_WRITER, .n_repos = 2},
                                           {.role = VT_ROLE_ADMIN}};
        snprintf(ps[2].repos[0], sizeof(ps[2].repos[0]), "a");
        snprintf(ps[2].repos[1], sizeof(ps[2].repos[1]), "b");
        const struct authz_case cases[] = {
                {VT_ROLE_NONE, VT_ADMIN_READ, NULL, VT_E_POLICY, "no role, so may not read"},
                {VT_ROLE_NONE, VT_ADMIN_READ, "a", VT_E_POLICY, "no role, so may not read"},
                {VT_ROLE_NONE, VT_ADMIN_WRITE_RESOURCE, NULL, VT_E_POLICY, "may not write"},
                {VT_ROLE_NONE, VT_ADMIN_WRITE_RESOURCE, "a", VT_E_POLICY, "may not write"},
                {VT_ROLE_NONE, VT_ADMIN_WRITE_RESOURCE, "c", VT_E_POLICY, "may not write"},
                {VT_ROLE_NONE, VT_ADMIN_WRITE_GLOBAL, NULL, VT_E_POLICY, "may not write"},
                {VT_ROLE_NONE, VT_ADMIN_WRITE_GLOBAL, "a", VT_E_POLICY, "may not write"},
                {VT_ROLE_READER, VT_ADMIN_READ, NULL, 0, NULL},
                {VT_ROLE_READER, VT_ADMIN_READ, "a", 0, NULL},
                {VT_ROLE_READER, VT_ADMIN_READ, "c", 0, NULL},
                {VT_ROLE_READER, VT_ADMIN_WRITE_RESOURCE, NULL, VT_E_POLICY,
                 "role reader may not write"},
                {VT_ROLE_READER, VT_ADMIN_WRITE_RESOURCE, "a", VT_E_POLICY,
                 "role reader may not write"},
                {VT_ROLE_READER, VT_ADMIN_WRITE_RESOURCE, "c", VT_E_POLICY,
                 "role reader may not write"},
                {VT_ROLE_READER, VT_ADMIN_WRITE_GLOBAL, NULL, VT_E_POLICY,
                 "role reader may not write"},
                {VT_ROLE_READER, VT_ADMIN_WRITE_GLOBAL, "a", VT_E_POLICY,
                 "role reader may not write"},
                {VT_ROLE_WRITER, VT_ADMIN_READ, NULL, 0, NULL},
                {VT_ROLE_WRITER, VT_ADMIN_READ, "a", 0, NULL},
                {VT_ROLE_WRITER, VT_ADMIN_READ, "c", 0, NULL},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_RESOURCE, "a", 0, NULL},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_RESOURCE, "b", 0, NULL},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_RESOURCE, "c", VT_E_POLICY,
                 "writer for [a,b] may not write repository c"},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_RESOURCE, "A", VT_E_POLICY,
                 "writer for [a,b] may not write repository A"},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_RESOURCE, "ab", VT_E_POLICY,
                 "writer for [a,b] may not write repository ab"},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_RESOURCE, "", VT_E_POLICY,
                 "writer for [a,b] may not write repository "},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_RESOURCE, NULL, VT_E_POLICY,
                 "writer for [a,b] may not write outside a repository"},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_GLOBAL, NULL, VT_E_POLICY,
                 "writer for [a,b] may not write global resources (admin only)"},
                {VT_ROLE_WRITER, VT_ADMIN_WRITE_GLOBAL, "a", VT_E_POLICY,
                 "writer for [a,b] may not write global resources (admin only)"},
                {VT_ROLE_ADMIN, VT_ADMIN_READ, NULL, 0, NULL},
                {VT_ROLE_ADMIN, VT_ADMIN_READ, "c", 0, NULL},
                {VT_ROLE_ADMIN, VT_ADMIN_WRITE_RESOURCE, NULL, 0, NULL},
                {VT_ROLE_ADMIN, VT_ADMIN_WRITE_RESOURCE, "a", 0, NULL},
                {VT_ROLE_ADMIN, VT_ADMIN_WRITE_RESOURCE, "c", 0, NULL},
                {VT_ROLE_ADMIN, VT_ADMIN_WRITE_GLOBAL, NULL, 0, NULL},
                {VT_ROLE_ADMIN, VT_ADMIN_WRITE_GLOBAL, "c", 0, NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vt_diag d = {0};
                int e = vt_admin_authorize(&ps[cases[i].role], cases[i].op, cases[i].repo, &d);
                if (e != cases[i].want)
                        fail_msg("case %zu: %d, want %d (%s)", i, e, cases[i].want, d.msg);
                if (cases[i].msg && strcmp(d.msg, cases[i].msg) != 0 &&
                    !(cases[i].role == VT_ROLE_NONE && strstr(d.msg, cases[i].msg)))
                        fail_msg("case %zu: \"%s\", want \"%s\"", i, d.msg, cases[i].msg);
                if (!cases[i].msg)
                        assert_string_equal(d.msg, "");
        }
        struct vt_diag d = {0};
        assert_int_equal(vt_admin_authorize(NULL, VT_ADMIN_READ, NULL, &d), VT_E_POLICY);
        assert_int_equal(vt_admin_authorize(&ps[3], (enum vt_admin_op)42, NULL, &d), VT_E_INVAL);
        /* a repository from a request is echoed safely */
        vt_diag_clear(&d);
        assert_int_equal(vt_admin_authorize(&ps[2], VT_ADMIN_WRITE_RESOURCE, "x\ny\"z", &d),
                         VT_E_POLICY);
        assert_string_equal(d.msg, "writer for [a,b] may not write repository x?y?z");
        /* names match exactly, not by prefix */
        struct vt_admin_principal w = {.role = VT_ROLE_WRITER, .n_repos = 1};
        snprintf(w.repos[0], sizeof(w.repos[0]), "alpha");
        assert_int_equal(vt_admin_authorize(&w, VT_ADMIN_WRITE_RESOURCE, "alpha", NULL), 0);
        assert_int_equal(vt_admin_authorize(&w, VT_ADMIN_WRITE_RESOURCE, "alp", NULL), VT_E_POLICY);
        assert_int_equal(vt_admin_authorize(&w, VT_ADMIN_WRITE_RESOURCE, "alphab", NULL),
                         VT_E_POLICY);
        assert_int_equal(vt_admin_authorize(&w, VT_ADMIN_WRITE_RESOURCE, "Alpha", NULL),
                         VT_E_POLICY);
        /* a name longer than any writer's repository never matches */
        char longname[200];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = 0;
        assert_int_equal(vt_admin_authorize(&ps[2], VT_ADMIN_WRITE_RESOURCE, longname, NULL),
                         VT_E_POLICY);
        /* nor does the longest name with more after it: names are never cut to fit */
        struct vt_admin_principal wl = {.role = VT_ROLE_WRITER, .n_repos = 1};
        memset(wl.repos[0], 'a', VT_REPO_NAME_MAX);
        longname[VT_REPO_NAME_MAX] = 0;
        assert_int_equal(vt_admin_authorize(&wl, VT_ADMIN_WRITE_RESOURCE, longname, NULL), 0);
        longname[VT_REPO_NAME_MAX] = 'a';
        longname[VT_REPO_NAME_MAX + 1] = 0;
        assert_int_equal(vt_admin_authorize(&wl, VT_ADMIN_WRITE_RESOURCE, longname, NULL),
                         VT_E_POLICY);
        /* and a principal from a real token */
        struct vt_admin_principal p;
        assert_int_equal(
                auth_claims("{\"role\":\"writer\",\"exp\":1750000100,\"repos\":[\"x\"]}", &p, NULL),
                0);
        assert_int_equal(vt_admin_authorize(&p, VT_ADMIN_WRITE_RESOURCE, "x", NULL), 0);
        vt_diag_clear(&d);
        assert_int_equal(vt_admin_authorize(&p, VT_ADMIN_WRITE_RESOURCE, "y", &d), VT_E_POLICY);
        assert_string_equal(d.msg, "writer for [x] may not write repository y");
}

static void expect_load_error(const char *p, int want, const char *msg)
{
        struct vt_admin_keys *k = (struct vt_admin_keys *)0x1;
        struct vt_diag d = {0};
        const char *paths[] = {ed_pub, p};
        assert_int_equal(vt_admin_keys_load(paths, 2, &k, &d), want);
        assert_ptr_equal(k, (struct vt_admin_keys *)0x1);
        if (!strstr(d.msg, p) || !strstr(d.msg, msg))
                fail_msg("\"%s\" lacks the path or \"%s\"", d.msg, msg);
}

static void test_admin_keys_load(void **state)
{
        expect_load_error(rsa_pub, VT_E_UNSUPPORTED, "RSA keys are not accepted");
        expect_load_error(p384_pub, VT_E_UNSUPPORTED, "EC secp384r1 keys are not accepted");
        expect_load_error(ed448_pub, VT_E_UNSUPPORTED, "ED448");
        expect_load_error(ed_key, VT_E_FORMAT, "is a private key");
        expect_load_error(p256_key, VT_E_FORMAT, "is a private key");
        expect_load_error(enc_key, VT_E_FORMAT, "is a private key");
        expect_load_error(garbage, VT_E_FORMAT, "no PEM block");
        expect_load_error(empty, VT_E_FORMAT, "no PEM block");
        expect_load_error(two_keys, VT_E_FORMAT, "more than one PEM block");
        char missing[160];
        snprintf(missing, sizeof(missing), "%s/nonexistent.pub", dir);
        expect_load_error(missing, VT_E_IO, "cannot read");

        /* a certificate is not a public key, even with a valid key inside */
        char cert[160];
        snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
        write_text(cert, "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", 0644);
        expect_load_error(cert, VT_E_FORMAT, "is not a PUBLIC KEY");
        /* a PUBLIC KEY block with junk DER */
        write_text(cert, "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n", 0644);
        expect_load_error(cert, VT_E_FORMAT, "not a valid public key");
        unlink(cert);

        struct vt_admin_keys *k = NULL;
        struct vt_diag d = {0};
        assert_int_equal(vt_admin_keys_load(NULL, 0, &k, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "no admin API"));
        assert_null(k);
        const char *three[] = {ed_pub, ed2_pub, p256_pub};
        assert_int_equal(vt_admin_keys_load(three, 3, &k, &d), 0);
        assert_int_equal(vt_admin_keys_count(k), 3);
        assert_string_equal(vt_admin_keys_kid(k, 0), kid_of(k_ed));
        assert_string_equal(vt_admin_keys_kid(k, 2), kid_of(k_p256));
        assert_string_not_equal(vt_admin_keys_kid(k, 0), vt_admin_keys_kid(k, 1));
        vt_admin_keys_free(k);
        vt_admin_keys_free(NULL);
        assert_int_equal(vt_admin_keys_count(NULL), 0);
}

static mode_t mode_of(const char *p)
{
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        return st.st_mode & 07777;
}

static void test_admin_keygen(void **state)
{
        char a[160], b[160];
        struct vt_diag d = {0};
        assert_int_equal(mode_of(ed_key), 0600);
        assert_int_equal(mode_of(ed_pub), 0644);
        uint8_t *before = NULL, *after = NULL;
        size_t bl = 0, al = 0;

        /* neither file is overwritten, and nothing is created when one exists */
        snprintf(a, sizeof(a), "%s/fresh.pub", dir);
        assert_int_equal(vt_admin_keygen(ed_key, a, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, "already exists"));
        assert_int_equal(access(a, F_OK), -1);
        before = vt_test_load(ed_pub, &bl);
        snprintf(a, sizeof(a), "%s/fresh.key", dir);
        vt_diag_clear(&d);
        assert_int_equal(vt_admin_keygen(a, ed_pub, &d), VT_E_INVAL);
        assert_non_null(strstr(d.msg, ed_pub));
        assert_int_equal(access(a, F_OK), -1);
        after = vt_test_load(ed_pub, &al);
        assert_int_equal(bl, al);
        assert_memory_equal(before, after, bl);
        free(before);
        free(after);
        assert_int_equal(vt_admin_keygen(a, a, NULL), VT_E_INVAL);

        /* exact modes whatever the umask */
        mode_t old = umask(0);
        snprintf(b, sizeof(b), "%s/fresh.pub", dir);
        assert_int_equal(vt_admin_keygen(a, b, NULL), 0);
        assert_int_equal(mode_of(a), 0600);
        assert_int_equal(mode_of(b), 0644);
        unlink(a);
        unlink(b);
        umask(077);
        assert_int_equal(vt_admin_keygen(a, b, NULL), 0);
        assert_int_equal(mode_of(a), 0600);
        assert_int_equal(mode_of(b), 0644);
        umask(old);
        /* a dangling symlink is not followed */
        unlink(a);
        unlink(b);
        char target[160];
        snprintf(target, sizeof(target), "%s/target", dir);
        assert_int_equal(symlink(target, a), 0);
        assert_int_equal(vt_admin_keygen(a, b, NULL), VT_E_INVAL);
        assert_int_equal(access(target, F_OK), -1);
        assert_int_equal(access(b, F_OK), -1);
        unlink(a);
        /* a missing directory */
        snprintf(a, sizeof(a), "%s/no/such.key", dir);
        snprintf(b, sizeof(b), "%s/no/such.pub", dir);
        vt_diag_clear(&d);
        assert_int_equal(vt_admin_keygen(a, b, &d), VT_E_IO);
        assert_non_null(strstr(d.msg, "cannot create"));
}

static void test_admin_token_make_refusals(void **state)
{
        const char *one[] = {"r"};
        char *jwt = NULL, c[160];
        struct vt_diag d = {0};
#define REFUSE(want, reason, ...)                                                                  \
        do {                                                                                       \
                vt_diag_clear(&d);                                                                 \
                assert_int_equal(vt_admin_token_make(__VA_ARGS__, &jwt, &d), want);                \
                assert_null(jwt);                                                                  \
                if (!strstr(d.msg, reason))                                                        \
                        fail_msg("\"%s\" lacks \"%s\"", d.msg, reason);                            \
        } while (0)

        assert_int_equal(chmod(ed_key, 0640), 0);
        REFUSE(VT_E_INVAL, "accessible by group or others (mode 0640)", ed_key, VT_ROLE_ADMIN, NULL,
               0, 60, NULL);
        assert_int_equal(chmod(ed_key, 0604), 0);
        REFUSE(VT_E_INVAL, "chmod 600", ed_key, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        assert_int_equal(chmod(ed_key, 0600), 0);
        REFUSE(VT_E_UNSUPPORTED, "encrypted", enc_key, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        REFUSE(VT_E_UNSUPPORTED, "RSA keys do not sign", rsa_key, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        assert_int_equal(chmod(ed_pub, 0600), 0);
        REFUSE(VT_E_FORMAT, "it is a public key", ed_pub, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        assert_int_equal(chmod(ed_pub, 0644), 0);
        snprintf(c, sizeof(c), "%s/none.key", dir);
        REFUSE(VT_E_IO, "cannot open", c, VT_ROLE_ADMIN, NULL, 0, 60, NULL);
        REFUSE(VT_E_FORMAT, "not a regular file", dir, VT_ROLE_ADMIN, NULL, 0, 60, NULL);

        REFUSE(VT_E_INVAL, "writer needs at least one", ed_key, VT_ROLE_WRITER, NULL, 0, 60, NULL);
        REFUSE(VT_E_INVAL, "only apply to role writer", ed_key, VT_ROLE_READER, one, 1, 60, NULL);
        REFUSE(VT_E_INVAL, "only apply to role writer", ed_key, VT_ROLE_ADMIN, one, 1, 60, NULL);
        REFUSE(VT_E_INVAL, "role must be", ed_key, VT_ROLE_NONE, NULL, 0, 60, NULL);
        REFUSE(VT_E_INVAL, "lifetime", ed_key, VT_ROLE_ADMIN, NULL, 0, 0, NULL);
        REFUSE(VT_E_INVAL, "lifetime", ed_key, VT_ROLE_ADMIN, NULL, 0, -5, NULL);
        REFUSE(VT_E_INVAL, "lifetime", ed_key, VT_ROLE_ADMIN, NULL, 0, VT_ADMIN_MAX_TTL + 1, NULL);
        const char *many[17];
        for (int i = 0; i < 17; i++)
                many[i] = "r";
        REFUSE(VT_E_INVAL, "at most 16", ed_key, VT_ROLE_WRITER, many, 17, 60, NULL);
        snprintf(c, sizeof(c), "%064d", 0);
        const char *longrepo[] = {c};
        REFUSE(VT_E_INVAL, "1..63 bytes", ed_key, VT_ROLE_WRITER, longrepo, 1, 60, NULL);
        const char *ctl[] = {"a\tb"};
        REFUSE(VT_E_INVAL, "control", ed_key, VT_ROLE_WRITER, ctl, 1, 60, NULL);
        REFUSE(VT_E_INVAL, "sub", ed_key, VT_ROLE_ADMIN, NULL, 0, 60, "two\nlines");
#undef REFUSE
        assert_int_equal(vt_admin_token_make(ed_key, VT_ROLE_WRITER, many, 16, 60, "x", &jwt, &d),
                         0);
        free(jwt);
}

static void test_admin_role_names(void **state)
{
        enum vt_admin_role r;
        assert_int_equal(vt_admin_role_parse("reader", &r), 0);
        assert_int_equal(r, VT_ROLE_READER);
        assert_int_equal(vt_admin_role_parse("writer", &r), 0);
        assert_int_equal(r, VT_ROLE_WRITER);
        assert_int_equal(vt_admin_role_parse("admin", &r), 0);
        assert_int_equal(r, VT_ROLE_ADMIN);
        assert_int_equal(vt_admin_role_parse("none", &r), VT_E_INVAL);
        assert_int_equal(vt_admin_role_parse("ADMIN", &r), VT_E_INVAL);
        assert_int_equal(vt_admin_role_parse("", &r), VT_E_INVAL);
        assert_string_equal(vt_admin_role_name(VT_ROLE_NONE), "none");
        assert_string_equal(vt_admin_role_name((enum vt_admin_role)9), "none");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_admin_roundtrip_ed25519),
                cmocka_unit_test(test_admin_roundtrip_p256),
                cmocka_unit_test(test_admin_kid_thumbprint),
                cmocka_unit_test(test_admin_expired),
                cmocka_unit_test(test_admin_not_yet_valid),
                cmocka_unit_test(test_admin_wrong_key),
                cmocka_unit_test(test_admin_alg_refused),
                cmocka_unit_test(test_admin_alg_key_mismatch),
                cmocka_unit_test(test_admin_tampered),
                cmocka_unit_test(test_admin_truncations),
                cmocka_unit_test(test_admin_claims),
                cmocka_unit_test(test_admin_bearer_scheme),
                cmocka_unit_test(test_admin_authorize_matrix),
                cmocka_unit_test(test_admin_keys_load),
                cmocka_unit_test(test_admin_keygen),
                cmocka_unit_test(test_admin_token_make_refusals),
                cmocka_unit_test(test_admin_role_names),
        };
        return vtt_run_group_tests(tests, group_setup, group_teardown);
}
