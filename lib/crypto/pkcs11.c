/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#11 keys through p11-kit (pkcs11.h). The only secret handled here is the PIN: read
 * from its file into an OPENSSL_malloc'd buffer, given to C_Login and wiped.
 */
#define _GNU_SOURCE
#include "crypto/pkcs11.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#include "crypto/keyfile.h"
#include "crypto/openssl-util.h"
#include "util/hex.h"
#include "util/macro.h"

/* the DER of the P-256 curve OID, as CKA_EC_PARAMS holds it */
static const uint8_t P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

#define GCM_IV  12
#define GCM_TAG 16

struct vt_p11_key {
        CK_FUNCTION_LIST *mod;
        bool initialized;
        CK_SESSION_HANDLE session;
        bool have_session;
        CK_OBJECT_HANDLE obj;
        CK_SLOT_ID slot;
        enum vt_p11_kind kind;
        char *pin_file; /* to log in again when the token lost the session */
        pthread_mutex_t lock;
        char token[33];  /* CK_TOKEN_INFO label, blanks taken off */
        char serial[17]; /* CK_TOKEN_INFO serialNumber */
        uint8_t id[256];
        size_t id_len;
        char label[256];
        EVP_PKEY *pub; /* EC keys */
        char what[32];
};

/* ---- CKR names ---- */

const char *vt_p11_rv_name(unsigned long rv)
{
        static const struct {
                unsigned long rv;
                const char *name;
        } names[] = {
                {CKR_OK, "CKR_OK"},
                {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
                {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
                {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
                {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
                {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
                {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID"},
                {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE"},
                {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
                {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
                {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
                {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
                {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
                {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
                {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
                {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
                {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
                {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
                {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
                {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
                {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
                {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
                {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
                {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
                {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
                {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
                {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
                {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
                {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
                {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
                {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
        };
        static _Thread_local char buf[32];
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].rv == rv)
                        return names[i].name;
        snprintf(buf, sizeof(buf), "CKR_0x%lx", rv);
        return buf;
}

/* ---- URIs (RFC 7512) ---- */

bool vt_p11_is_uri(const char *s)
{
        return s && strncmp(s, VT_P11_SCHEME, sizeof(VT_P11_SCHEME) - 1) == 0;
}

void vt_p11_uri_free(struct vt_p11_uri *u)
{
        if (!u)
                return;
        free(u->token);
        free(u->manufacturer);
        free(u->model);
        free(u->serial);
        free(u->object);
        free(u->id);
        free(u->type);
        free(u->module_path);
        free(u->module_name);
        free(u->pin_source);
        free(u);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_p11_uri *, vt_p11_uri_free)

/* set_attr decodes one "name=value" attribute (path or query) into u. */
static int set_attr(struct vt_p11_uri *u, const char *a, size_t n, bool query, struct vt_diag *d)
{
        const char *eq = memchr(a, '=', n);
        if (!eq)
                return vt_diag_set(d, VT_E_FORMAT, "pkcs11 URI: attribute \"%.*s\" has no value",
                                   (int)(n > 64 ? 64 : n), a);
        size_t kl = (size_t)(eq - a);
        const char *v = eq + 1;
        size_t vl = n - kl - 1;
        char **slot = NULL;
        bool is_id = false;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(a, s, kl) == 0)
        if (!query) {
                if (KEY("token"))
                        slot = &u->token;
                else if (KEY("manufacturer"))
                        slot = &u->manufacturer;
                else if (KEY("model"))
                        slot = &u->model;
                else if (KEY("serial"))
                        slot = &u->serial;
                else if (KEY("object"))
                        slot = &u->object;
                else if (KEY("type"))
                        slot = &u->type;
                else if (KEY("id"))
                        is_id = true;
                else if (KEY("library-manufacturer") || KEY("library-description") ||
                         KEY("library-version") || KEY("slot-description") ||
                         KEY("slot-manufacturer") || KEY("slot-id"))
                        return 0; /* they narrow nothing we need: the token decides */
        } else {
                if (KEY("module-path"))
                        slot = &u->module_path;
                else if (KEY("module-name"))
                        slot = &u->module_name;
                else if (KEY("pin-source"))
                        slot = &u->pin_source;
                else if (KEY("pin-value"))
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "pkcs11 URI: pin-value is refused: put the PIN in a "
                                           "file that only veritee may read and name it with "
                                           "pin-source=file:PATH");
        }
#undef KEY
        if (!slot && !is_id)
                return vt_diag_set(d, VT_E_FORMAT, "pkcs11 URI: unknown %s attribute \"%.*s\"",
                                   query ? "query" : "path", (int)(kl > 64 ? 64 : kl), a);
        if ((is_id && u->id) || (slot && *slot))
                return vt_diag_set(d, VT_E_FORMAT, "pkcs11 URI: attribute \"%.*s\" is repeated",
                                   (int)kl, a);
        uint8_t *val = NULL;
        size_t len = 0;
        if (vt_pct_decode(v, vl, is_id, &val, &len) < 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "pkcs11 URI: attribute \"%.*s\" has a bad percent-encoding",
                                   (int)kl, a);
        if (is_id) {
                if (len == 0 || len > 255) {
                        free(val);
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "pkcs11 URI: id must have 1..255 bytes, not %zu", len);
                }
                u->id = val;
                u->id_len = len;
                return 0;
        }
        *slot = (char *)val;
        return 0;
}

int vt_p11_uri_parse(const char *s, struct vt_p11_uri **ret, struct vt_diag *d)
{
        _cleanup_(vt_p11_uri_freep) struct vt_p11_uri *u = NULL;
        int e;

        if (!vt_p11_is_uri(s) || !ret)
                return vt_diag_set(d, VT_E_FORMAT, "pkcs11 URI: does not start with \"pkcs11:\"");
        size_t n = strnlen(s, VT_P11_MAX_URI + 1);
        if (n > VT_P11_MAX_URI)
                return vt_diag_set(d, VT_E_LIMIT, "pkcs11 URI: longer than %u bytes",
                                   VT_P11_MAX_URI);
        u = calloc(1, sizeof(*u));
        if (!u)
                return VT_E_NOMEM;
        const char *p = s + sizeof(VT_P11_SCHEME) - 1, *end = s + n;
        const char *q = memchr(p, '?', (size_t)(end - p));
        const char *path_end = q ? q : end;
        while (p < path_end) {
                const char *semi = memchr(p, ';', (size_t)(path_end - p));
                const char *a_end = semi ? semi : path_end;
                if (a_end > p && (e = set_attr(u, p, (size_t)(a_end - p), false, d)) < 0)
                        return e;
                p = a_end + 1;
        }
        for (p = q ? q + 1 : end; p < end;) {
                const char *amp = memchr(p, '&', (size_t)(end - p));
                const char *a_end = amp ? amp : end;
                if (a_end > p && (e = set_attr(u, p, (size_t)(a_end - p), true, d)) < 0)
                        return e;
                p = a_end + 1;
        }
        if (u->type && strcmp(u->type, "secret-key") != 0 && strcmp(u->type, "private") != 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "pkcs11 URI: type=%s is not a key veritee uses (secret-key or "
                                   "private)",
                                   u->type);
        if (!u->token && !u->serial)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "pkcs11 URI: names no token (token=LABEL or serial=...)");
        if (!u->object && !u->id)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "pkcs11 URI: names no key (object=LABEL or id=...)");
        if (u->pin_source && strncmp(u->pin_source, "file:", 5) == 0) {
                const char *path = u->pin_source + 5;
                /* file:///abs and file:/abs both name /abs */
                if (strncmp(path, "//", 2) == 0)
                        path += 2;
                memmove(u->pin_source, path, strlen(path) + 1);
        }
        if (u->pin_source && !*u->pin_source)
                return vt_diag_set(d, VT_E_FORMAT, "pkcs11 URI: pin-source names no file");
        *ret = TAKE_PTR(u);
        return 0;
}

/* ---- modules and tokens ---- */

/* blank_trim copies a blank-padded CK_UTF8CHAR field into a C string. */
static void blank_trim(const CK_UTF8CHAR *f, size_t n, char *out)
{
        while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == 0))
                n--;
        memcpy(out, f, n);
        out[n] = 0;
}

static bool field_matches(const char *want, const CK_UTF8CHAR *f, size_t n)
{
        char have[65];
        if (!want)
                return true;
        blank_trim(f, n < 64 ? n : 64, have);
        return strcmp(want, have) == 0;
}

/* find_slot looks for the URI's token in mod; 0 and *ret_slot when found, VT_E_NOTFOUND
 * when not. */
static int find_slot(CK_FUNCTION_LIST *mod, const struct vt_p11_uri *u, CK_SLOT_ID *ret_slot,
                     CK_TOKEN_INFO *ret_info)
{
        CK_ULONG n = 0;
        if (mod->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0)
                return VT_E_NOTFOUND;
        if (n > 1024)
                n = 1024;
        _cleanup_free_ CK_SLOT_ID *slots = calloc(n, sizeof(*slots));
        if (!slots)
                return VT_E_NOMEM;
        if (mod->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
                return VT_E_NOTFOUND;
        for (CK_ULONG i = 0; i < n; i++) {
                CK_TOKEN_INFO ti;
                if (mod->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
                        continue;
                if (field_matches(u->token, ti.label, sizeof(ti.label)) &&
                    field_matches(u->manufacturer, ti.manufacturerID, sizeof(ti.manufacturerID)) &&
                    field_matches(u->model, ti.model, sizeof(ti.model)) &&
                    field_matches(u->serial, ti.serialNumber, sizeof(ti.serialNumber))) {
                        *ret_slot = slots[i];
                        *ret_info = ti;
                        return 0;
                }
        }
        return VT_E_NOTFOUND;
}

static void module_drop(CK_FUNCTION_LIST *m, bool initialized)
{
        if (!m)
                return;
        if (initialized)
                (void)p11_kit_module_finalize(m);
        p11_kit_module_release(m);
}

/* load_module loads and initializes the module that holds the URI's token: module-path,
 * or the p11-kit registered modules (narrowed by module-name). */
static int load_module(const struct vt_p11_uri *u, const char *what, CK_FUNCTION_LIST **ret,
                       CK_SLOT_ID *ret_slot, CK_TOKEN_INFO *ret_info, struct vt_diag *d)
{
        const char *tok = u->token ? u->token : u->serial;
        if (u->module_path) {
                CK_FUNCTION_LIST *m = p11_kit_module_load(u->module_path, 0);
                if (!m)
                        return vt_diag_set(d, VT_E_IO, "%s: cannot load the PKCS#11 module %s: %s",
                                           what, u->module_path, p11_kit_message());
                CK_RV rv = p11_kit_module_initialize(m);
                if (rv != CKR_OK) {
                        module_drop(m, false);
                        return vt_diag_set(d, VT_E_IO,
                                           "%s: cannot initialize the PKCS#11 module %s: %s", what,
                                           u->module_path, vt_p11_rv_name(rv));
                }
                int e = find_slot(m, u, ret_slot, ret_info);
                if (e < 0) {
                        module_drop(m, true);
                        return vt_diag_set(d, e == VT_E_NOTFOUND ? VT_E_NOTFOUND : e,
                                           "%s: no token \"%s\" in the PKCS#11 module %s", what,
                                           tok, u->module_path);
                }
                *ret = m;
                return 0;
        }
        CK_FUNCTION_LIST **mods = p11_kit_modules_load_and_initialize(0);
        if (!mods)
                return vt_diag_set(d, VT_E_IO, "%s: p11-kit loads no PKCS#11 module: %s", what,
                                   p11_kit_message() ? p11_kit_message() : "none registered");
        CK_FUNCTION_LIST *found = NULL;
        for (size_t i = 0; mods[i]; i++) {
                if (!found) {
                        _cleanup_free_ char *name = p11_kit_module_get_name(mods[i]);
                        if ((!u->module_name || (name && strcmp(name, u->module_name) == 0)) &&
                            find_slot(mods[i], u, ret_slot, ret_info) == 0) {
                                found = mods[i];
                                continue;
                        }
                }
                module_drop(mods[i], true);
        }
        free(mods);
        if (!found)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "%s: no token \"%s\" in the PKCS#11 modules p11-kit loads%s%s "
                                   "(add module-path= to the URI, or register the module)",
                                   what, tok, u->module_name ? " named " : "",
                                   u->module_name ? u->module_name : "");
        *ret = found;
        return 0;
}

static void cleanse_pin(uint8_t *pin, size_t n)
{
        if (pin)
                OPENSSL_clear_free(pin, n + 1);
}

/* login logs the session's application in with the PIN of pin_file. */
static int login(struct vt_p11_key *k, const char *pin_file, struct vt_diag *d)
{
        uint8_t *pin = NULL;
        size_t n = 0;
        struct vt_diag pd = {0};
        int e = vt_read_private_file(pin_file, VT_P11_MAX_PIN, true, "PIN file", &pin, &n, &pd);
        if (e < 0)
                return vt_diag_set(d, e, "%s: token \"%s\": %s", k->what, k->token, pd.msg);
        while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
                pin[--n] = 0;
        CK_RV rv = k->mod->C_Login(k->session, CKU_USER, pin, n);
        cleanse_pin(pin, n);
        if (rv == CKR_USER_ALREADY_LOGGED_IN)
                return 0; /* another key of this process shares the token's login */
        if (rv != CKR_OK)
                return vt_diag_set(d, VT_E_INVAL,
                                   "%s: login to token \"%s\" failed: %s%s (PIN from %s)", k->what,
                                   k->token, vt_p11_rv_name(rv),
                                   rv == CKR_PIN_INCORRECT ? ", a wrong PIN" : "", pin_file);
        return 0;
}

/* get_bool reads a CK_BBOOL attribute; -1 if the token does not say. */
static int get_bool(struct vt_p11_key *k, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
        CK_BBOOL b = CK_FALSE;
        CK_ATTRIBUTE a = {t, &b, sizeof(b)};
        if (k->mod->C_GetAttributeValue(k->session, o, &a, 1) != CKR_OK)
                return -1;
        return b == CK_TRUE;
}

/* get_bytes reads an attribute into buf (cap bytes); its length or -1. */
static long get_bytes(struct vt_p11_key *k, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t, void *buf,
                      size_t cap)
{
        CK_ATTRIBUTE a = {t, NULL, 0};
        if (k->mod->C_GetAttributeValue(k->session, o, &a, 1) != CKR_OK ||
            a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > cap)
                return -1;
        a.pValue = buf;
        if (k->mod->C_GetAttributeValue(k->session, o, &a, 1) != CKR_OK)
                return -1;
        return (long)a.ulValueLen;
}

/* find_one finds the single object of class cls (and key type kt) that the URI's label
 * and id name. */
static int find_one(struct vt_p11_key *k, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const char *label,
                    const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *ret, CK_ULONG *ret_count)
{
        CK_ATTRIBUTE t[4];
        CK_ULONG nt = 0, got = 0;
        CK_OBJECT_HANDLE h[2];
        t[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
        t[nt++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
        if (label)
                t[nt++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, strlen(label)};
        if (id)
                t[nt++] = (CK_ATTRIBUTE){CKA_ID, (void *)id, id_len};
        if (k->mod->C_FindObjectsInit(k->session, t, nt) != CKR_OK)
                return VT_E_IO;
        CK_RV rv = k->mod->C_FindObjects(k->session, h, 2, &got);
        (void)k->mod->C_FindObjectsFinal(k->session);
        if (rv != CKR_OK)
                return VT_E_IO;
        *ret_count = got;
        if (got == 1)
                *ret = h[0];
        return 0;
}

/* ec_public reads the public key that goes with k's private key. */
static int ec_public(struct vt_p11_key *k, const struct vt_p11_uri *u, struct vt_diag *d)
{
        CK_OBJECT_HANDLE pub = 0;
        CK_ULONG cnt = 0;
        /* by the key's id when it has one (pkcs11-tool and most tools pair keys so), else
         * by its label */
        int e = find_one(k, CKO_PUBLIC_KEY, CKK_EC, k->id_len ? NULL : k->label,
                         k->id_len ? k->id : NULL, k->id_len, &pub, &cnt);
        (void)u;
        if (e < 0 || cnt != 1)
                return vt_diag_set(d, VT_E_NOTFOUND,
                                   "%s: token \"%s\": %s public key for the private key \"%s\" "
                                   "(same CKA_ID)",
                                   k->what, k->token, cnt > 1 ? "more than one" : "no", k->label);
        uint8_t params[64], point[160];
        long pl = get_bytes(k, pub, CKA_EC_PARAMS, params, sizeof(params));
        long ql = get_bytes(k, pub, CKA_EC_POINT, point, sizeof(point));
        if (pl != (long)sizeof(P256_OID) || memcmp(params, P256_OID, sizeof(P256_OID)) != 0)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "%s: token \"%s\": key \"%s\" is not on P-256 (CKA_EC_PARAMS)",
                                   k->what, k->token, k->label);
        /* CKA_EC_POINT is DER OCTET STRING { 04 || x || y } (some tokens give it bare) */
        const uint8_t *pt = point;
        if (ql == 67 && point[0] == 0x04 && point[1] == 65)
                pt = point + 2;
        else if (ql != 65)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: token \"%s\": key \"%s\" has a CKA_EC_POINT of %ld bytes",
                                   k->what, k->token, k->label, ql);
        if (pt[0] != 0x04)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "%s: token \"%s\": key \"%s\": CKA_EC_POINT is not uncompressed",
                                   k->what, k->token, k->label);
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
                EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        OSSL_PARAM *p = NULL;
        EVP_PKEY *key = NULL;
        if (!b || !ctx ||
            !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
            !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, 65) ||
            !(p = OSSL_PARAM_BLD_to_param(b)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, p) != 1) {
                OSSL_PARAM_free(p);
                ERR_clear_error();
                return vt_diag_set(d, VT_E_CRYPTO,
                                   "%s: token \"%s\": key \"%s\": CKA_EC_POINT is not a P-256 "
                                   "point",
                                   k->what, k->token, k->label);
        }
        OSSL_PARAM_free(p);
        k->pub = key;
        return 0;
}

void vt_p11_key_free(struct vt_p11_key *k)
{
        if (!k)
                return;
        if (k->have_session)
                (void)k->mod->C_CloseSession(k->session);
        module_drop(k->mod, k->initialized);
        EVP_PKEY_free(k->pub);
        free(k->pin_file);
        pthread_mutex_destroy(&k->lock);
        free(k);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_p11_key *, vt_p11_key_free)

int vt_p11_key_open(const char *uri, const char *pin_file, enum vt_p11_kind kind, const char *what,
                    struct vt_p11_key **ret, struct vt_diag *d)
{
        _cleanup_(vt_p11_uri_freep) struct vt_p11_uri *u = NULL;
        _cleanup_(vt_p11_key_freep) struct vt_p11_key *k = NULL;
        struct vt_diag ud = {0};
        CK_SLOT_ID slot = 0;
        CK_TOKEN_INFO ti;
        CK_RV rv;
        int e;

        if (!what)
                what = "pkcs11";
        if ((e = vt_p11_uri_parse(uri, &u, &ud)) < 0)
                return vt_diag_set(d, e, "%s: %s", what, ud.msg);
        if (!pin_file)
                pin_file = u->pin_source;
        if (!pin_file)
                return vt_diag_set(d, VT_E_INVAL,
                                   "%s: no PIN for token \"%s\": add pin-source=file:PATH to the "
                                   "URI",
                                   what, u->token ? u->token : u->serial);
        if (u->type && strcmp(u->type, kind == VT_P11_AES ? "secret-key" : "private") != 0)
                return vt_diag_set(d, VT_E_INVAL, "%s: the URI names a %s key, not a %s key", what,
                                   u->type, kind == VT_P11_AES ? "secret-key" : "private");
        k = calloc(1, sizeof(*k));
        if (!k)
                return VT_E_NOMEM;
        if (pthread_mutex_init(&k->lock, NULL) != 0) {
                free(TAKE_PTR(k));
                return VT_E_NOMEM;
        }
        snprintf(k->what, sizeof(k->what), "%s", what);
        if ((e = load_module(u, what, &k->mod, &slot, &ti, d)) < 0)
                return e;
        k->initialized = true;
        k->slot = slot;
        k->kind = kind;
        if (!(k->pin_file = strdup(pin_file)))
                return VT_E_NOMEM;
        blank_trim(ti.label, sizeof(ti.label), k->token);
        blank_trim(ti.serialNumber, sizeof(ti.serialNumber), k->serial);
        rv = k->mod->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &k->session);
        if (rv != CKR_OK)
                return vt_diag_set(d, VT_E_IO, "%s: token \"%s\": cannot open a session: %s", what,
                                   k->token, vt_p11_rv_name(rv));
        k->have_session = true;
        if ((e = login(k, pin_file, d)) < 0)
                return e;
        CK_ULONG cnt = 0;
        e = find_one(k, kind == VT_P11_AES ? CKO_SECRET_KEY : CKO_PRIVATE_KEY,
                     kind == VT_P11_AES ? CKK_AES : CKK_EC, u->object, u->id, u->id_len, &k->obj,
                     &cnt);
        if (e < 0 || cnt != 1)
                return vt_diag_set(d, cnt > 1 ? VT_E_INVAL : VT_E_NOTFOUND,
                                   "%s: token \"%s\": %s %s key%s%s (the URI must name exactly "
                                   "one)",
                                   what, k->token, cnt > 1 ? "more than one" : "no",
                                   kind == VT_P11_AES ? "AES" : "EC private",
                                   u->object ? " labelled " : " with the URI's id",
                                   u->object ? u->object : "");
        long l = get_bytes(k, k->obj, CKA_LABEL, k->label, sizeof(k->label) - 1);
        k->label[l > 0 ? l : 0] = 0;
        l = get_bytes(k, k->obj, CKA_ID, k->id, sizeof(k->id));
        k->id_len = l > 0 ? (size_t)l : 0;
        if (get_bool(k, k->obj, CKA_SENSITIVE) != 1)
                return vt_diag_set(d, VT_E_INVAL,
                                   "%s: token \"%s\": key \"%s\" is not sensitive (CKA_SENSITIVE "
                                   "false): its value could be read out of the token",
                                   what, k->token, k->label);
        if (get_bool(k, k->obj, CKA_EXTRACTABLE) != 0)
                return vt_diag_set(d, VT_E_INVAL,
                                   "%s: token \"%s\": key \"%s\" is extractable (CKA_EXTRACTABLE "
                                   "true): it could be wrapped out of the token",
                                   what, k->token, k->label);
        if (get_bool(k, k->obj, CKA_ALWAYS_AUTHENTICATE) == 1)
                return vt_diag_set(d, VT_E_UNSUPPORTED,
                                   "%s: token \"%s\": key \"%s\" asks for the PIN again before "
                                   "each use (CKA_ALWAYS_AUTHENTICATE), which veritee does not do",
                                   what, k->token, k->label);
        if (kind == VT_P11_AES) {
                CK_ULONG vl = 0;
                CK_ATTRIBUTE a = {CKA_VALUE_LEN, &vl, sizeof(vl)};
                if (k->mod->C_GetAttributeValue(k->session, k->obj, &a, 1) == CKR_OK && vl != 32)
                        return vt_diag_set(d, VT_E_INVAL,
                                           "%s: token \"%s\": key \"%s\" has %lu bytes, not 32 "
                                           "(AES-256)",
                                           what, k->token, k->label, (unsigned long)vl);
        } else if ((e = ec_public(k, u, d)) < 0) {
                return e;
        }
        *ret = TAKE_PTR(k);
        return 0;
}

const char *vt_p11_key_token(const struct vt_p11_key *k)
{
        return k ? k->token : NULL;
}

static void put_lp(EVP_MD_CTX *md, const void *p, size_t n)
{
        uint8_t l[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
        EVP_DigestUpdate(md, l, 4);
        if (n)
                EVP_DigestUpdate(md, p, n);
}

void vt_p11_key_fingerprint(const struct vt_p11_key *k, const char *label, uint8_t out[32])
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned n = 0;
        memset(out, 0, 32);
        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                return;
        put_lp(md, label, strlen(label));
        put_lp(md, k->serial, strlen(k->serial));
        put_lp(md, k->token, strlen(k->token));
        put_lp(md, k->id, k->id_len);
        put_lp(md, k->label, strlen(k->label));
        EVP_DigestFinal_ex(md, out, &n);
}

/* ---- operations ---- */

/* lost: the token no longer knows our session or login (restarted, reconnected,
 * re-inserted), which a new session and login may cure. */
static bool lost(CK_RV rv)
{
        return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
               rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_DEVICE_REMOVED ||
               rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_KEY_HANDLE_INVALID ||
               rv == CKR_OBJECT_HANDLE_INVALID;
}

/* reopen opens a new session, logs in again (the PIN file is read again) and finds the
 * same key (its label and id) again; the caller holds k->lock. */
static CK_RV reopen(struct vt_p11_key *k)
{
        CK_ULONG cnt = 0;
        if (k->have_session)
                (void)k->mod->C_CloseSession(k->session);
        k->have_session = false;
        CK_RV rv = k->mod->C_OpenSession(k->slot, CKF_SERIAL_SESSION, NULL, NULL, &k->session);
        if (rv != CKR_OK)
                return rv;
        k->have_session = true;
        if (login(k, k->pin_file, NULL) < 0)
                return CKR_USER_NOT_LOGGED_IN;
        if (find_one(k, k->kind == VT_P11_AES ? CKO_SECRET_KEY : CKO_PRIVATE_KEY,
                     k->kind == VT_P11_AES ? CKK_AES : CKK_EC, k->label[0] ? k->label : NULL,
                     k->id_len ? k->id : NULL, k->id_len, &k->obj, &cnt) < 0 ||
            cnt != 1)
                return CKR_KEY_HANDLE_INVALID;
        return CKR_OK;
}

static int gcm(struct vt_p11_key *k, bool enc, const uint8_t *aad, size_t aad_len,
               const uint8_t *iv, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
               struct vt_diag *d)
{
        CK_GCM_PARAMS gp = {
                .iv_ptr = (CK_BYTE_PTR)iv,
                .iv_len = GCM_IV,
                .iv_bits = GCM_IV * 8,
                .aad_ptr = (CK_BYTE_PTR)aad,
                .aad_len = aad_len,
                .tag_bits = GCM_TAG * 8,
        };
        CK_MECHANISM m = {CKM_AES_GCM, &gp, sizeof(gp)};
        CK_ULONG ol = out_cap;
        CK_RV rv;
        pthread_mutex_lock(&k->lock);
        for (int attempt = 0;; attempt++) {
                ol = out_cap;
                if (enc) {
                        rv = k->mod->C_EncryptInit(k->session, &m, k->obj);
                        if (rv == CKR_OK)
                                rv = k->mod->C_Encrypt(k->session, (CK_BYTE_PTR)in, in_len, out,
                                                       &ol);
                } else {
                        /* SoftHSM2 (and the standard's length rule) wants room for the
                         * whole input, tag included, before it knows what authenticates */
                        uint8_t *tmp = OPENSSL_malloc(in_len);
                        ol = in_len;
                        rv = tmp ? k->mod->C_DecryptInit(k->session, &m, k->obj) : CKR_HOST_MEMORY;
                        if (rv == CKR_OK)
                                rv = k->mod->C_Decrypt(k->session, (CK_BYTE_PTR)in, in_len, tmp,
                                                       &ol);
                        if (rv == CKR_OK && ol == out_cap)
                                memcpy(out, tmp, out_cap);
                        if (tmp)
                                OPENSSL_clear_free(tmp, in_len);
                }
                if (attempt == 0 && lost(rv) && reopen(k) == CKR_OK)
                        continue;
                break;
        }
        pthread_mutex_unlock(&k->lock);
        if (rv == CKR_OK && ol != out_cap)
                rv = CKR_GENERAL_ERROR;
        if (rv != CKR_OK) {
                OPENSSL_cleanse(out, out_cap);
                return vt_diag_set(d, VT_E_CRYPTO, "%s: token \"%s\": AES-GCM %s with \"%s\": %s",
                                   k->what, k->token, enc ? "encryption" : "decryption", k->label,
                                   vt_p11_rv_name(rv));
        }
        return 0;
}

int vt_p11_gcm_encrypt(struct vt_p11_key *k, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                       size_t len, uint8_t *out, struct vt_diag *d)
{
        if (!k || (!aad && aad_len) || (!in && len) || !out)
                return vt_diag_set(d, VT_E_INVAL, "pkcs11: encrypt: missing argument");
        if (RAND_bytes(out, GCM_IV) != 1)
                return vt_diag_set(d, VT_E_CRYPTO, "pkcs11: no random bytes for an IV");
        return gcm(k, true, aad, aad_len, out, in, len, out + GCM_IV, len + GCM_TAG, d);
}

int vt_p11_gcm_decrypt(struct vt_p11_key *k, const uint8_t *aad, size_t aad_len,
                       const uint8_t *blob, size_t blob_len, uint8_t *out, struct vt_diag *d)
{
        if (!k || (!aad && aad_len) || !blob || !out || blob_len < GCM_IV + GCM_TAG)
                return vt_diag_set(d, VT_E_INVAL, "pkcs11: decrypt: missing argument");
        return gcm(k, false, aad, aad_len, blob, blob + GCM_IV, blob_len - GCM_IV, out,
                   blob_len - GCM_IV - GCM_TAG, d);
}

int vt_p11_ecdsa_sign(struct vt_p11_key *k, const uint8_t digest[32], uint8_t sig[64],
                      struct vt_diag *d)
{
        CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
        CK_ULONG sl = 64;
        CK_RV rv;
        if (!k || !digest || !sig)
                return vt_diag_set(d, VT_E_INVAL, "pkcs11: sign: missing argument");
        pthread_mutex_lock(&k->lock);
        for (int attempt = 0;; attempt++) {
                sl = 64;
                rv = k->mod->C_SignInit(k->session, &m, k->obj);
                if (rv == CKR_OK)
                        rv = k->mod->C_Sign(k->session, (CK_BYTE_PTR)digest, 32, sig, &sl);
                if (attempt == 0 && lost(rv) && reopen(k) == CKR_OK)
                        continue;
                break;
        }
        pthread_mutex_unlock(&k->lock);
        if (rv == CKR_OK && sl != 64)
                rv = CKR_GENERAL_ERROR;
        if (rv != CKR_OK)
                return vt_diag_set(d, VT_E_CRYPTO, "%s: token \"%s\": ECDSA with \"%s\": %s",
                                   k->what, k->token, k->label, vt_p11_rv_name(rv));
        return 0;
}

int vt_p11_ec_public(const struct vt_p11_key *k, EVP_PKEY **ret)
{
        if (!k || !k->pub || !ret)
                return VT_E_INVAL;
        if (EVP_PKEY_up_ref(k->pub) != 1)
                return VT_E_CRYPTO;
        *ret = k->pub;
        return 0;
}
