/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TEE simulator (include/veritee/sim.h): an AMD-shaped SEV-SNP PKI kept in a
 * directory, and version-3 reports signed with it. It is a labelled trust root, not
 * a disguised one: every name says "veritee simulator (NOT AMD)", the verifier never
 * trusts it unless the caller adds root.pem, and results then say root_builtin ==
 * false. The certificates follow AMD's shape exactly (RSA-4096 RSASSA-PSS/SHA-384
 * ARK and ASK, P-384 VCEKs with the 1.3.6.1.4.1.3704.1.* extensions) so that the
 * verifier runs every one of its checks on simulated evidence.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "crypto/openssl-util.h"
#include "crypto/x509.h"
#include "crypto/keyfile.h"
#include "sim/amdchain.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "veritee/sim.h"

#define SIM_O          "veritee simulator (NOT AMD)"
#define SIM_OU         "Simulated SEV-SNP, no hardware root of trust"
#define SIM_PRODUCT    "Milan"
#define SIM_PRODUCT_B0 "Milan-B0"
#define AMD_OID        VT_AMD_OID

#define RSA_BITS 4096
#define DAY      INT64_C(86400)
/* 25 and 7 years, counting their leap days. */
#define ROOT_LIFETIME (DAY * (25 * 365 + 6))
#define VCEK_LIFETIME (DAY * (7 * 365 + 2))

#define MAX_KEY_BYTES   (16u * 1024u)
#define MAX_ROOT_BYTES  (64u * 1024u)
#define MAX_GUEST_BYTES (64u * 1024u)

/* Firmware version the simulated platform reports (1.55.0). */
#define FW_MAJOR 1
#define FW_MINOR 55
#define FW_BUILD 0

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static int crypto_fail(struct vt_diag *d, const char *what)
{
        char buf[256];
        return vt_diag_set(d, VT_E_CRYPTO, "sim: %s: %s", what,
                           vt_openssl_reason(buf, sizeof(buf)));
}

static int path_join(const char *dir, const char *name, char **ret)
{
        size_t n = strlen(dir) + 1 + strlen(name) + 1;
        char *p = malloc(n);
        if (!p)
                return VT_E_NOMEM;
        snprintf(p, n, "%s/%s", dir, name);
        *ret = p;
        return 0;
}

int vt_sim_root_path(const char *dir, char **ret)
{
        if (!dir || !ret)
                return VT_E_INVAL;
        return path_join(dir, "root.pem", ret);
}

/* ---- files ---- */

/* write_atomic: vt_write_file_atomic with the reason in d. */
static int write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                        struct vt_diag *d)
{
        int e = vt_write_file_atomic(path, data, len, mode);
        if (e == VT_E_IO)
                return vt_diag_set(d, e, "sim: cannot write %s: %s", path, strerror(errno));
        return e;
}

/* Reads a PEM private key. The file must be a regular file that only its owner can
 * read (like OpenSSH's identity files); its bytes are cleansed after parsing. */
static int load_key(const char *path, EVP_PKEY **ret, struct vt_diag *d)
{
        uint8_t *buf = NULL;
        size_t len = 0;
        int e = vt_read_private_file(path, MAX_KEY_BYTES, false, "sim: key", &buf, &len, d);
        if (e < 0)
                return e;
        e = vt_pem_private_key(buf, len, ret);
        OPENSSL_clear_free(buf, len + 1);
        return e < 0 ? crypto_fail(d, "cannot parse the private key") : 0;
}

/* Writes key as unencrypted PKCS#8 PEM, mode 0600. The PEM text lives in a
 * secure-heap BIO, which is cleansed when freed. */
static int save_key(const char *path, EVP_PKEY *key, struct vt_diag *d)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_secmem());
        char *p = NULL;
        if (!b)
                return VT_E_NOMEM;
        if (!PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
                return crypto_fail(d, "cannot encode a private key");
        long n = BIO_get_mem_data(b, &p);
        if (n <= 0)
                return crypto_fail(d, "cannot encode a private key");
        return write_atomic(path, p, (size_t)n, 0600, d);
}

/* Appends the PEM of each certificate into a malloc'd NUL-terminated string. */
static int certs_pem(X509 *const *certs, size_t n, char **ret, size_t *ret_len, struct vt_diag *d)
{
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        char *p = NULL;
        if (!b)
                return VT_E_NOMEM;
        for (size_t i = 0; i < n; i++)
                if (!PEM_write_bio_X509(b, certs[i]))
                        return crypto_fail(d, "cannot encode a certificate");
        long len = BIO_get_mem_data(b, &p);
        if (len <= 0)
                return crypto_fail(d, "cannot encode a certificate");
        char *out = malloc((size_t)len + 1);
        if (!out)
                return VT_E_NOMEM;
        memcpy(out, p, (size_t)len);
        out[len] = 0;
        *ret = out;
        if (ret_len)
                *ret_len = (size_t)len;
        return 0;
}

static void fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                (void)fsync(fd);
                close(fd);
        }
}

/* ---- certificates ---- */

/* A random positive 63-bit serial, so that two simulators never share an
 * (issuer name, serial) pair. */
static int random_serial(uint64_t *ret)
{
        uint8_t b[8];
        uint64_t s = 0;
        if (RAND_bytes(b, sizeof(b)) != 1)
                return VT_E_CRYPTO;
        for (size_t i = 0; i < sizeof(b); i++)
                s = s << 8 | b[i];
        s &= INT64_MAX;
        *ret = s ? s : 1;
        return 0;
}

/* Whether x carries extension oid with exactly the DER INTEGER v. */
static bool has_int_ext(X509 *x, const char *oid, uint8_t v)
{
        uint8_t der[4];
        size_t n = vt_amd_der_small_int(v, der), len;
        const uint8_t *p;
        return vt_x509_ext_data(x, oid, &p, &len) == 0 && len == n && memcmp(p, der, n) == 0;
}

static const struct vt_amd_name sim_name = {.ou = SIM_OU, .o = SIM_O};

static uint64_t tcb_raw(const struct vt_sim_guest *g)
{
        return vt_amd_tcb_raw(0, g->bootloader, g->tee, g->snp, g->microcode, false);
}

static int issue_vcek(X509 *ask, EVP_PKEY *ask_key, const struct vt_sim_guest *g, EVP_PKEY *key,
                      X509 **ret, struct vt_diag *d)
{
        int64_t now = (int64_t)time(NULL);
        /* Serial 0, all eight SPLs, no keyUsage or basicConstraints: as KDS issues VCEKs. */
        const struct vt_amd_leaf l = {
                .cn = "SEV-VCEK",
                .serial = 0,
                .not_before = now - DAY,
                .not_after = now + VCEK_LIFETIME,
                .struct_version = 0,
                .product = SIM_PRODUCT_B0,
                .bl = g->bootloader,
                .tee = g->tee,
                .snp = g->snp,
                .ucode = g->microcode,
                .reserved_spls = true,
                .fmc = -1,
                .hwid = g->chip_id,
                .hwid_len = sizeof(g->chip_id),
        };
        return vt_amd_issue_leaf(&sim_name, &l, ask, ask_key, key, ret, d);
}

/* Whether a VCEK found in the directory can sign for g: issued by this ASK, for
 * this key, chip id and TCB, and valid now. Anything else (a simulator re-created
 * with force, an edited guest.json, an expired certificate) means a new VCEK. */
static bool vcek_usable(X509 *x, EVP_PKEY *key, X509 *ask, const struct vt_sim_guest *g)
{
        const uint8_t *p;
        size_t n;
        bool ok = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ask)) == 0 &&
                  X509_verify(x, X509_get0_pubkey(ask)) == 1 &&
                  X509_check_private_key(x, key) == 1 &&
                  X509_cmp_current_time(X509_get0_notBefore(x)) < 0 &&
                  X509_cmp_current_time(X509_get0_notAfter(x)) > 0 &&
                  vt_x509_ext_data(x, AMD_OID "4", &p, &n) == 0 && n == sizeof(g->chip_id) &&
                  memcmp(p, g->chip_id, n) == 0 && has_int_ext(x, AMD_OID "3.1", g->bootloader) &&
                  has_int_ext(x, AMD_OID "3.2", g->tee) && has_int_ext(x, AMD_OID "3.3", g->snp) &&
                  has_int_ext(x, AMD_OID "3.8", g->microcode);
        ERR_clear_error();
        return ok;
}

/* root.pem: the self-signed ARK and the ASK it signed. ret_ark/ret_ask are
 * borrowed from *ret_stack. */
static int load_root(const char *dir, STACK_OF(X509) * *ret_stack, X509 **ret_ark, X509 **ret_ask,
                     struct vt_diag *d)
{
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *sk = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        X509 *ark = NULL, *ask = NULL;
        size_t len;
        int e;

        if ((e = path_join(dir, "root.pem", &path)) < 0)
                return e;
        if ((e = vt_read_file(path, MAX_ROOT_BYTES, &buf, &len)) < 0)
                return vt_diag_set(d, e, "sim: cannot read %s (run `veritee sim init DIR` first)",
                                   path);
        if (vt_x509_parse_many(buf, len, &sk) < 0 || sk_X509_num(sk) != 2)
                return vt_diag_set(d, VT_E_FORMAT, "sim: %s must hold exactly the ARK and the ASK",
                                   path);
        for (int i = 0; i < 2; i++) {
                X509 *x = sk_X509_value(sk, i);
                if (X509_check_issued(x, x) == X509_V_OK)
                        ark = x;
                else
                        ask = x;
        }
        if (!ark || !ask ||
            X509_NAME_cmp(X509_get_issuer_name(ask), X509_get_subject_name(ark)) != 0 ||
            X509_verify(ask, X509_get0_pubkey(ark)) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CHAIN,
                                   "sim: %s: the ASK is not signed by the self-signed ARK", path);
        }
        *ret_ark = ark;
        *ret_ask = ask;
        *ret_stack = TAKE_PTR(sk);
        return 0;
}

/* Finds a usable VCEK for g in dir, or issues one with the ASK key and keeps it. */
static int get_vcek(const char *dir, X509 *ask, const struct vt_sim_guest *g, X509 **ret,
                    EVP_PKEY **ret_key, struct vt_diag *d)
{
        _cleanup_free_ char *cert_path = NULL, *key_path = NULL, *ask_path = NULL, *pem = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *ask_key = NULL;
        char name[32];
        size_t len;
        int e;

        snprintf(name, sizeof(name), "vcek-%016" PRIx64 ".pem", tcb_raw(g));
        if ((e = path_join(dir, name, &cert_path)) < 0)
                return e;
        snprintf(name, sizeof(name), "vcek-%016" PRIx64 ".key", tcb_raw(g));
        if ((e = path_join(dir, name, &key_path)) < 0)
                return e;

        if (vt_read_file(cert_path, VT_CERT_MAX_BYTES, &buf, &len) == 0 &&
            vt_x509_parse_one(buf, len, &x) == 0 && load_key(key_path, &key, NULL) == 0 &&
            vcek_usable(x, key, ask, g)) {
                *ret = TAKE_PTR(x);
                *ret_key = TAKE_PTR(key);
                return 0;
        }
        X509_free(TAKE_PTR(x));
        EVP_PKEY_free(TAKE_PTR(key));

        if ((e = path_join(dir, "ask.key", &ask_path)) < 0 ||
            (e = load_key(ask_path, &ask_key, d)) < 0)
                return e;
        if (X509_check_private_key(ask, ask_key) != 1) {
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO, "sim: %s does not belong to the ASK in root.pem",
                                   ask_path);
        }
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        if (!key)
                return crypto_fail(d, "cannot generate a P-384 VCEK key");
        if ((e = issue_vcek(ask, ask_key, g, key, &x, d)) < 0 ||
            (e = certs_pem(&x, 1, &pem, &len, d)) < 0)
                return e;
        /* The key first: a certificate on disk always has its key next to it. */
        if ((e = save_key(key_path, key, d)) < 0 ||
            (e = write_atomic(cert_path, pem, len, 0644, d)) < 0)
                return e;
        *ret = TAKE_PTR(x);
        *ret_key = TAKE_PTR(key);
        return 0;
}

/* ---- guest.json ---- */

enum {
        G_MEASUREMENT,
        G_HOST_DATA,
        G_FAMILY_ID,
        G_IMAGE_ID,
        G_CHIP_ID,
        G_POLICY,
        G_GUEST_SVN,
        G_VMPL,
        G_TCB,
        _G_MAX,
};

static const char *const guest_keys[_G_MAX] = {
        [G_MEASUREMENT] = "measurement", [G_HOST_DATA] = "host_data", [G_FAMILY_ID] = "family_id",
        [G_IMAGE_ID] = "image_id",       [G_CHIP_ID] = "chip_id",     [G_POLICY] = "policy",
        [G_GUEST_SVN] = "guest_svn",     [G_VMPL] = "vmpl",           [G_TCB] = "tcb",
};

static const char *const tcb_keys[4] = {"bootloader", "tee", "snp", "microcode"};

/* The report parser rejects what the simulator must therefore never sign. */
static int check_guest(const struct vt_sim_guest *g, int err, struct vt_diag *d)
{
        if (!(g->policy & VT_SNP_POLICY_RESERVED1))
                return vt_diag_set(d, err, "sim: policy 0x%" PRIx64 " lacks bit 17 (must be 1)",
                                   g->policy);
        if (g->policy >> 26)
                return vt_diag_set(d, err, "sim: policy 0x%" PRIx64 " sets reserved bits 63:26",
                                   g->policy);
        if (g->vmpl > 3)
                return vt_diag_set(d, err, "sim: vmpl %" PRIu32 " is not 0..3", g->vmpl);
        return 0;
}

static int guest_json(const struct vt_sim_guest *g, char **ret)
{
        _cleanup_json_ json_t *o = json_object();
        json_t *t = json_object();
        const uint8_t tcb[4] = {g->bootloader, g->tee, g->snp, g->microcode};
        int e = 0;

        if (!o || !t) {
                json_decref(t);
                return VT_E_NOMEM;
        }
        e |= vt_json_set(o, guest_keys[G_MEASUREMENT], vt_json_hex(g->measurement, 48));
        e |= vt_json_set(o, guest_keys[G_HOST_DATA], vt_json_hex(g->host_data, 32));
        e |= vt_json_set(o, guest_keys[G_FAMILY_ID], vt_json_hex(g->family_id, 16));
        e |= vt_json_set(o, guest_keys[G_IMAGE_ID], vt_json_hex(g->image_id, 16));
        e |= vt_json_set(o, guest_keys[G_CHIP_ID], vt_json_hex(g->chip_id, 64));
        e |= vt_json_set(o, guest_keys[G_POLICY], json_integer((json_int_t)g->policy));
        e |= vt_json_set(o, guest_keys[G_GUEST_SVN], json_integer(g->guest_svn));
        e |= vt_json_set(o, guest_keys[G_VMPL], json_integer(g->vmpl));
        for (size_t i = 0; i < 4; i++)
                e |= vt_json_set(t, tcb_keys[i], json_integer(tcb[i]));
        e |= vt_json_set(o, guest_keys[G_TCB], t);
        if (e)
                return VT_E_NOMEM;
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!s)
                return VT_E_NOMEM;
        /* one trailing newline, for editors */
        size_t n = strlen(s);
        char *out = realloc(s, n + 2);
        if (!out) {
                free(s);
                return VT_E_NOMEM;
        }
        out[n] = '\n';
        out[n + 1] = 0;
        *ret = out;
        return 0;
}

static int get_hex(json_t *v, const char *k, uint8_t *out, size_t n, struct vt_diag *d)
{
        const char *s = json_string_value(v);
        if (!s || json_string_length(v) != 2 * n || strlen(s) != 2 * n ||
            vt_hex_decode(s, out, n) != (int)n)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "sim: guest.json: %s must be a hex string of %zu bytes (%zu "
                                   "digits)",
                                   k, n, 2 * n);
        return 0;
}

static int get_uint(json_t *v, const char *k, json_int_t max, json_int_t *out, struct vt_diag *d)
{
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
                return vt_diag_set(d, VT_E_FORMAT, "sim: guest.json: %s must be an integer 0..%lld",
                                   k, (long long)max);
        *out = json_integer_value(v);
        return 0;
}

static int parse_tcb(json_t *v, struct vt_sim_guest *g, struct vt_diag *d)
{
        uint8_t *parts[4] = {&g->bootloader, &g->tee, &g->snp, &g->microcode};
        bool seen[4] = {false};
        const char *k;
        json_t *x;

        if (!json_is_object(v))
                return vt_diag_set(d, VT_E_FORMAT, "sim: guest.json: tcb must be an object");
        json_object_foreach (v, k, x) {
                size_t i = 0;
                json_int_t val;
                while (i < 4 && strcmp(k, tcb_keys[i]) != 0)
                        i++;
                if (i == 4)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "sim: guest.json: tcb has unknown key \"%s\"", k);
                int e = get_uint(x, k, 255, &val, d);
                if (e < 0)
                        return e;
                *parts[i] = (uint8_t)val;
                seen[i] = true;
        }
        for (size_t i = 0; i < 4; i++)
                if (!seen[i])
                        return vt_diag_set(d, VT_E_FORMAT, "sim: guest.json: tcb lacks \"%s\"",
                                           tcb_keys[i]);
        return 0;
}

int vt_sim_load_guest(const char *dir, struct vt_sim_guest *ret, struct vt_diag *d)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_json_ json_t *o = NULL;
        struct vt_sim_guest g = {0};
        bool seen[_G_MAX] = {false};
        json_error_t jerr;
        json_int_t val;
        const char *k;
        json_t *v;
        size_t len;
        int e;

        if (!dir || !ret)
                return VT_E_INVAL;
        if ((e = path_join(dir, "guest.json", &path)) < 0)
                return e;
        if ((e = vt_read_file(path, MAX_GUEST_BYTES, &buf, &len)) < 0)
                return vt_diag_set(d, e, "sim: cannot read %s%s", path,
                                   e == VT_E_INVAL ? " (too large)"
                                                   : " (run `veritee sim init DIR` first)");
        o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!o)
                return vt_diag_set(d, VT_E_FORMAT, "sim: %s: line %d: %s", path, jerr.line,
                                   jerr.text);
        if (!json_is_object(o))
                return vt_diag_set(d, VT_E_FORMAT, "sim: %s must hold a JSON object", path);
        json_object_foreach (o, k, v) {
                size_t i = 0;
                while (i < _G_MAX && strcmp(k, guest_keys[i]) != 0)
                        i++;
                switch (i) {
                case G_MEASUREMENT:
                        e = get_hex(v, k, g.measurement, sizeof(g.measurement), d);
                        break;
                case G_HOST_DATA:
                        e = get_hex(v, k, g.host_data, sizeof(g.host_data), d);
                        break;
                case G_FAMILY_ID:
                        e = get_hex(v, k, g.family_id, sizeof(g.family_id), d);
                        break;
                case G_IMAGE_ID:
                        e = get_hex(v, k, g.image_id, sizeof(g.image_id), d);
                        break;
                case G_CHIP_ID:
                        e = get_hex(v, k, g.chip_id, sizeof(g.chip_id), d);
                        break;
                case G_POLICY:
                        /* bits 63:26 are reserved; check_guest says so by name */
                        e = get_uint(v, k, INT64_MAX, &val, d);
                        g.policy = (uint64_t)val;
                        break;
                case G_GUEST_SVN:
                        e = get_uint(v, k, UINT32_MAX, &val, d);
                        g.guest_svn = (uint32_t)val;
                        break;
                case G_VMPL:
                        e = get_uint(v, k, 3, &val, d);
                        g.vmpl = (uint32_t)val;
                        break;
                case G_TCB:
                        e = parse_tcb(v, &g, d);
                        break;
                default:
                        return vt_diag_set(d, VT_E_FORMAT, "sim: %s: unknown key \"%s\"", path, k);
                }
                if (e < 0)
                        return e;
                seen[i] = true;
        }
        for (size_t i = 0; i < _G_MAX; i++)
                if (!seen[i])
                        return vt_diag_set(d, VT_E_FORMAT, "sim: %s lacks \"%s\"", path,
                                           guest_keys[i]);
        if ((e = check_guest(&g, VT_E_FORMAT, d)) < 0)
                return e;
        *ret = g;
        return 0;
}

/* ---- init ---- */

static bool is_vcek_file(const char *name)
{
        /* vcek-<16 hex>.pem or .key */
        if (strlen(name) != 5 + 16 + 4 || strncmp(name, "vcek-", 5) != 0 ||
            (strcmp(name + 21, ".pem") != 0 && strcmp(name + 21, ".key") != 0))
                return false;
        for (size_t i = 5; i < 21; i++)
                if (!strchr("0123456789abcdef", name[i]))
                        return false;
        return true;
}

/* Removes the VCEKs of a previous simulator: they chain to a root that is gone. */
static int remove_vceks(const char *dir, struct vt_diag *d)
{
        _cleanup_(closedirp) DIR *dp = opendir(dir);
        struct dirent *de;
        if (!dp)
                return vt_diag_set(d, VT_E_IO, "sim: cannot list %s: %s", dir, strerror(errno));
        while ((de = readdir(dp)))
                if (is_vcek_file(de->d_name) && unlinkat(dirfd(dp), de->d_name, 0) < 0 &&
                    errno != ENOENT)
                        return vt_diag_set(d, VT_E_IO, "sim: cannot remove %s/%s: %s", dir,
                                           de->d_name, strerror(errno));
        return 0;
}

static int write_named(const char *dir, const char *name, const void *data, size_t len, mode_t mode,
                       struct vt_diag *d)
{
        _cleanup_free_ char *path = NULL;
        int e = path_join(dir, name, &path);
        if (e < 0)
                return e;
        return write_atomic(path, data, len, mode, d);
}

static int save_named_key(const char *dir, const char *name, EVP_PKEY *key, struct vt_diag *d)
{
        _cleanup_free_ char *path = NULL;
        int e = path_join(dir, name, &path);
        if (e < 0)
                return e;
        return save_key(path, key, d);
}

int vt_sim_init(const char *dir, bool force, struct vt_diag *d)
{
        _cleanup_free_ char *root_path = NULL, *root_pem = NULL, *guest = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ark_key = NULL, *ask_key = NULL;
        _cleanup_(X509_freep) X509 *ark = NULL, *ask = NULL;
        struct vt_sim_guest g = {
                .policy = VT_SNP_POLICY_SMT | VT_SNP_POLICY_RESERVED1,
                .guest_svn = 1,
                .vmpl = 0,
                .bootloader = 3,
                .tee = 0,
                .snp = 8,
                .microcode = 115,
        };
        int64_t now = (int64_t)time(NULL);
        uint64_t ark_serial, ask_serial;
        struct stat st;
        size_t root_len;
        int e;

        if (!dir || !dir[0])
                return VT_E_INVAL;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return vt_diag_set(d, VT_E_IO, "sim: cannot create %s: %s", dir, strerror(errno));
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return vt_diag_set(d, VT_E_INVAL, "sim: %s is not a directory", dir);
        if ((e = vt_sim_root_path(dir, &root_path)) < 0)
                return e;
        if (lstat(root_path, &st) == 0 && !force)
                return vt_diag_set(d, VT_E_INVAL,
                                   "sim: %s already holds a simulator (root.pem); re-create it "
                                   "with --force",
                                   dir);

        /* The slow part: two RSA-4096 keys. */
        ark_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
        ask_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
        if (!ark_key || !ask_key)
                return crypto_fail(d, "cannot generate RSA-4096 keys");
        if ((e = random_serial(&ark_serial)) < 0 || (e = random_serial(&ask_serial)) < 0)
                return crypto_fail(d, "no randomness");

        if ((e = vt_amd_issue_ark(&sim_name, ark_serial, "ARK-" SIM_PRODUCT, ark_key, now - DAY,
                                  now - DAY + ROOT_LIFETIME, &ark, d)) < 0 ||
            (e = vt_amd_issue_ca(&sim_name, ask_serial, "SEV-" SIM_PRODUCT, ark, ark_key, ask_key,
                                 now - DAY, now - DAY + ROOT_LIFETIME, &ask, d)) < 0)
                return e;
        X509 *bundle[2] = {ark, ask};
        if ((e = certs_pem(bundle, 2, &root_pem, &root_len, d)) < 0)
                return e;

        if (RAND_bytes(g.chip_id, sizeof(g.chip_id)) != 1 ||
            RAND_bytes(g.measurement, sizeof(g.measurement)) != 1)
                return crypto_fail(d, "no randomness");
        if ((e = guest_json(&g, &guest)) < 0)
                return e;

        if (force && (e = remove_vceks(dir, d)) < 0)
                return e;
        /* root.pem last: it marks a complete simulator. */
        if ((e = save_named_key(dir, "ark.key", ark_key, d)) < 0 ||
            (e = save_named_key(dir, "ask.key", ask_key, d)) < 0 ||
            (e = write_named(dir, "guest.json", guest, strlen(guest), 0644, d)) < 0 ||
            (e = write_atomic(root_path, root_pem, root_len, 0644, d)) < 0)
                return e;
        fsync_dir(dir);
        return 0;
}

/* ---- reports ---- */

int vt_sim_report(const char *dir, const struct vt_sim_guest *g, const uint8_t report_data[64],
                  uint8_t out[VT_SNP_REPORT_SIZE], char **ret_chain_pem, struct vt_diag *d)
{
        _cleanup_(vt_x509_stack_freep) STACK_OF(X509) *roots = NULL;
        _cleanup_(X509_freep) X509 *vcek = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *vcek_key = NULL;
        _cleanup_free_ char *chain = NULL;
        uint8_t rep[VT_SNP_REPORT_SIZE], report_id[32];
        struct vt_snp_report parsed;
        X509 *ark = NULL, *ask = NULL;
        int e;

        if (!dir || !g || !report_data || !out || !ret_chain_pem)
                return VT_E_INVAL;
        if ((e = check_guest(g, VT_E_INVAL, d)) < 0 ||
            (e = load_root(dir, &roots, &ark, &ask, d)) < 0 ||
            (e = get_vcek(dir, ask, g, &vcek, &vcek_key, d)) < 0)
                return e;
        if (RAND_bytes(report_id, sizeof(report_id)) != 1)
                return crypto_fail(d, "no randomness");
        const struct vt_amd_report r = {
                .version = 3,
                .guest_svn = g->guest_svn,
                .policy = g->policy,
                .family_id = g->family_id,
                .image_id = g->image_id,
                .vmpl = g->vmpl,
                .tcb = tcb_raw(g),
                .platform_info = 1, /* SMT enabled */
                .signing_key = 0,   /* the VCEK, no author key */
                .report_data = report_data,
                .measurement = g->measurement,
                .host_data = g->host_data,
                .report_id = report_id,
                .chip_id = g->chip_id,
                .cpuid_fam = 0x19, /* Milan: family 19h, model 01h, stepping 1 */
                .cpuid_mod = 0x01,
                .cpuid_step = 0x01,
                .fw_major = FW_MAJOR,
                .fw_minor = FW_MINOR,
                .fw_build = FW_BUILD,
        };
        vt_amd_report_build(&r, rep);
        if ((e = vt_amd_report_sign(rep, vcek_key, d)) < 0)
                return e;
        /* What the simulator signs must parse; anything else is a bug here. */
        if ((e = vt_snp_report_parse(rep, sizeof(rep), &parsed, d)) < 0)
                return e;
        X509 *certs[3] = {vcek, ask, ark};
        if ((e = certs_pem(certs, 3, &chain, NULL, d)) < 0)
                return e;
        memcpy(out, rep, sizeof(rep));
        *ret_chain_pem = TAKE_PTR(chain);
        return 0;
}
