/* SPDX-License-Identifier: Apache-2.0 */
/* veriteed's configuration: one table row per option (systemd's ConfigTableItem). The key,
 * the type, the bounds, the default and where the value goes are written once, in items[];
 * reading the file (yaml.c), unknown-key refusal, typing, bounds, defaults and freeing all
 * come from it. docs/configuration.md lists the same keys (test_config checks it). */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/file.h"
#include "util/json.h"

#define MAX_LIST 64

static int check_public_url(const struct vt_config_item *it, char *u, struct vt_diag *d);
static int parse_status(const struct vt_config_item *it, const char *s, void *field,
                        struct vt_diag *d);
static int parse_backend(const struct vt_config_item *it, const char *s, void *field,
                         struct vt_diag *d);
static int check_verify_at(const struct vt_config_item *it, char *s, struct vt_diag *d);

#define FIELD(f) offsetof(struct vt_config, f)
#define STRING(k, f, ...)                                                                          \
        {                                                                                          \
                .key = k, .type = VT_CONFIG_STRING, .offset = FIELD(f), __VA_ARGS__                \
        }
#define UINT(k, f, lo, hi, dflt)                                                                   \
        {                                                                                          \
                .key = k, .type = VT_CONFIG_UINT, .offset = FIELD(f),                              \
                .size = sizeof(((struct vt_config *)0)->f), .min = lo, .max = hi, .def = dflt      \
        }
#define BOOL(k, f, dflt)                                                                           \
        {                                                                                          \
                .key = k, .type = VT_CONFIG_BOOL, .offset = FIELD(f), .def = dflt                  \
        }
#define LIST(k, f)                                                                                 \
        {                                                                                          \
                .key = k, .type = VT_CONFIG_LIST, .offset = FIELD(f), .n_offset = FIELD(n_##f)     \
        }
#define CUSTOM(k, f, fn, dflt)                                                                     \
        {                                                                                          \
                .key = k, .type = VT_CONFIG_CUSTOM, .offset = FIELD(f), .parse = fn,               \
                .def_str = dflt                                                                    \
        }
#define UNDER_STATE_DIR(name) .def_str = name, .def_in_state_dir = true

/* Sections in the order their unknown keys are reported: the top level, then tls, store,
 * token, http, session, attestation, limits, secrets, admin, ledger, tokens, kubernetes. */
static const struct vt_config_item items[] = {
        STRING("listen", listen, .def_str = "127.0.0.1:8080"),
        STRING("public_url", public_url, .check = check_public_url),
        STRING("tls.certificate", tls_certificate),
        STRING("tls.private_key", tls_private_key),
        STRING("state_dir", state_dir, .def_str = "/var/lib/veritee"),
        CUSTOM("store.backend", store_backend, parse_backend, "sqlite"),
        STRING("store.sqlite", database, UNDER_STATE_DIR("veritee.db")),
        STRING("store.dsn_file", store_dsn_file),
        UINT("store.sqlite_cache_mib", sqlite_cache_mib, 1, 4096, 16),
        STRING("token.signing_key", token_key, UNDER_STATE_DIR("token-signing-key.pem")),
        STRING("token.issuer", token_issuer), /* none: the public URL (server.h vtd_issuer) */
        UINT("token.ttl_seconds", token_ttl, 10, 86400, 300),
        /* issue 12: what relying parties check (aud), JWKS caching, key rotation, proxies */
        STRING("token.audience", token_audience),
        UINT("token.jwks_max_age_seconds", jwks_max_age, 0, 86400, 0),
        STRING("token.next_signing_key", token_next_key),
        LIST("token.retired_keys", token_retired_keys),
        /* issue 20: x5c for Trustee as relying party, and small tokens */
        STRING("token.certificate_chain", token_cert_chain),
        STRING("token.ca_certificate", token_ca_cert),
        STRING("token.ca_key", token_ca_key),
        BOOL("token.self_signed_certificate", token_self_signed, false),
        BOOL("token.verbose", token_verbose, true),
        LIST("http.trusted_proxies", trusted_proxies),
        UINT("session.ttl_seconds", session_ttl, 5, 3600, 300),
        UINT("session.unattested_ttl_seconds", unattested_ttl, 5, 3600, 60),
        UINT("session.sweep_interval_seconds", sweep_interval, 1, 3600, 30),
        STRING("attestation.reference_values", reference_values),
        STRING("attestation.simulator_root", simulator_root),
        BOOL("attestation.allow_sample", allow_sample, false),
        CUSTOM("attestation.minimum_status", min_status, parse_status, "affirming"),
        STRING("attestation.kds_url", kds_url),
        STRING("attestation.kds_cache_dir", kds_cache_dir, UNDER_STATE_DIR("kds-cache")),
        UINT("attestation.kds_timeout_seconds", kds_timeout, 1, 60, 5),
        UINT("attestation.kds_max_fetches", kds_max_fetches, 0, 64, 2),
        UINT("attestation.kds_retry_seconds", kds_retry, 0, 86400, 60),
        STRING("attestation.pccs_url", pccs_url,
               .def_str = "https://api.trustedservices.intel.com"),
        STRING("attestation.dcap_cache_dir", dcap_cache_dir, UNDER_STATE_DIR("dcap-cache")),
        LIST("attestation.tpm_trusted_aks", tpm_trusted_aks),
        /* issue 15: NVIDIA GPU / NVSwitch evidence (docs/nvidia.md) */
        BOOL("attestation.nvidia", nvidia, false),
        STRING("attestation.nvidia_test_root", nvidia_test_root),
        STRING("attestation.nvidia_rim_url", nvidia_rim_url,
               .def_str = "https://rim.attestation.nvidia.com/v1/rim/"),
        STRING("attestation.nvidia_rim_dir", nvidia_rim_dir),
        STRING("attestation.nvidia_rim_cache_dir", nvidia_rim_cache_dir,
               UNDER_STATE_DIR("nvidia-rim-cache")),
        BOOL("attestation.nvidia_rim_allow_missing", nvidia_rim_allow_missing, false),
        BOOL("attestation.nvidia_ocsp", nvidia_ocsp, true),
        STRING("attestation.nvidia_ocsp_url", nvidia_ocsp_url,
               .def_str = "http://ocsp.ndis.nvidia.com"),
        LIST("attestation.nvidia_ocsp_responses", nvidia_ocsp_responses),
        UINT("attestation.nvidia_ocsp_grace_seconds", nvidia_ocsp_grace, 0, 604800, 3600),
        UINT("limits.max_body_bytes", max_body, 1024, 64u << 20, 3u << 20),
        UINT("limits.max_evidence_bytes", max_evidence, 1024, 64u << 20, 2u << 20),
        UINT("limits.max_sessions", max_sessions, 1, 10000000, 10000),
        UINT("limits.max_sessions_per_client", max_sessions_per_client, 1, 10000000, 64),
        UINT("limits.threads", threads, 1, 256, 4),
        UINT("limits.max_connections", max_connections, 1, 65536, 256),
        UINT("limits.connection_timeout_seconds", connection_timeout, 1, 3600, 30),
        UINT("limits.request_timeout_seconds", request_timeout, 1, 3600, 10),
        UINT("limits.max_connections_per_client", max_connections_per_client, 1, 65536, 32),
        STRING("secrets.kek_file", kek_file),
        BOOL("secrets.require_locked_memory", require_locked_memory, false),
        LIST("admin.keys", admin_keys),
        STRING("ledger.signing_key", ledger_key, UNDER_STATE_DIR("ledger-signing-key.pem")),
        UINT("ledger.sth_every_entries", sth_every, 1, 1000000, 1000),
        UINT("ledger.sth_every_ms", sth_ms, 10, 3600000, 1000),
        UINT("ledger.attest_sync_ms", attest_sync_ms, 0, 10000, 100),
        BOOL("ledger.public", ledger_public, false),
        LIST("tokens.trusted_jwks", trusted_jwks),
        LIST("tokens.trusted_certs", trusted_certs),
        LIST("tokens.extra_teekey_paths", extra_teekey_paths),
        /* issue 13: the Kubernetes admission webhook (src/veriteed/webhook.c) */
        BOOL("kubernetes.webhook", k8s_webhook, false),
        STRING("kubernetes.agent_image", k8s_agent_image),
        STRING("kubernetes.server_url", k8s_server_url, .check = check_public_url),
        STRING("kubernetes.ca_configmap", k8s_ca_configmap),
        STRING("kubernetes.node_label_key", k8s_node_label_key),
        LIST("kubernetes.node_label_values", k8s_node_label_values),
        STRING("kubernetes.runtime_class", k8s_runtime_class),
        LIST("kubernetes.tolerations", k8s_tolerations),
        /* issue 14: the Azure-compatible attestation API (azure_api.c), and for its tests
         * a fixed verification time */
        BOOL("azure.enabled", azure_enabled, false),
        STRING("azure.signing_key", azure_key, UNDER_STATE_DIR("azure-signing-key.pem")),
        UINT("azure.token_ttl_seconds", azure_ttl, 60, 86400, 28800),
        LIST("azure.trusted_authorities", azure_authorities),
        UINT("azure.authority_jwks_ttl_seconds", azure_jwks_ttl, 10, 86400, 600),
        UINT("azure.authority_fetch_timeout_ms", azure_fetch_timeout_ms, 100, 60000, 5000),
        UINT("azure.authority_jwks_max_bytes", azure_jwks_max, 1024, 1048576, 65536),
        STRING("attestation.verify_at", verify_at, .check = check_verify_at),
};

const struct vt_config_item *vt_config_items(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(items);
        return items;
}

/* ---- the special types ---- */

/* public_url: http:// or https://, then a host, printable ASCII without spaces, '?' or
 * '#', under 256 bytes; a trailing '/' is dropped. It goes into published documents
 * (jwks_uri) as it is. */
static int check_public_url(const struct vt_config_item *it, char *u, struct vt_diag *d)
{
        size_t n = strlen(u);
        const char *host = strncmp(u, "https://", 8) == 0  ? u + 8
                           : strncmp(u, "http://", 7) == 0 ? u + 7
                                                           : NULL;
        bool ok = host && *host && *host != '/' && n < 256;
        for (const char *p = u; ok && *p; p++)
                ok = *p > 0x20 && *p < 0x7f && *p != '?' && *p != '#' && *p != '"' && *p != '\\';
        if (!ok)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: %s must be http(s)://HOST[:PORT][/PATH] (no "
                                   "spaces, query or fragment), under 256 bytes",
                                   it->key);
        while (n > 0 && u[n - 1] == '/')
                u[--n] = 0;
        return 0;
}

/* attestation.verify_at: an RFC 3339 time (tests only: collateral recorded long ago). The
 * check cannot reach the config, so the value is only validated here; the server parses
 * it again into verify_at_sec. */
static int check_verify_at(const struct vt_config_item *it, char *s, struct vt_diag *d)
{
        int64_t t;
        if (vt_time_parse_rfc3339(s, &t) < 0 || t <= 0)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: %s must be an RFC 3339 time (2025-06-20T00:00:00Z)",
                                   it->key);
        return 0;
}

static int parse_status(const struct vt_config_item *it, const char *s, void *field,
                        struct vt_diag *d)
{
        enum vt_ar4si_tier *st = field;
        if (s && strcmp(s, "affirming") == 0)
                *st = VT_AR4SI_TIER_AFFIRMING;
        else if (s && strcmp(s, "warning") == 0)
                *st = VT_AR4SI_TIER_WARNING;
        else
                return vt_diag_set(d, VT_E_FORMAT, "config: %s must be affirming or warning",
                                   it->key);
        return 0;
}

static int parse_backend(const struct vt_config_item *it, const char *s, void *field,
                         struct vt_diag *d)
{
        enum vtd_store_backend *b = field;
        if (s && strcmp(s, "sqlite") == 0)
                *b = VTD_STORE_SQLITE;
        else if (s && strcmp(s, "postgres") == 0)
                *b = VTD_STORE_POSTGRES;
        else
                return vt_diag_set(d, VT_E_FORMAT, "config: %s must be sqlite or postgres",
                                   it->key);
        return 0;
}

/* ---- applying one row ---- */

/* How messages name a key: top-level keys as "config.KEY", the others as they are. */
#define SHOWN(it) (strchr((it)->key, '.') ? "" : "config."), (it)->key

static void *field_of(struct vt_config *c, size_t offset)
{
        return (uint8_t *)c + offset;
}

static int get_string(const struct vt_config_item *it, json_t *v, char **out, struct vt_diag *d)
{
        if (!json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "config: %s%s must be a string", SHOWN(it));
        char *s = strdup(json_string_value(v));
        if (!s)
                return VT_E_NOMEM;
        free(*out);
        *out = s;
        return it->check ? it->check(it, s, d) : 0;
}

static void put_uint(void *field, size_t size, uint64_t n)
{
        if (size == sizeof(uint32_t)) {
                uint32_t x = (uint32_t)n;
                memcpy(field, &x, sizeof(x));
        } else {
                memcpy(field, &n, sizeof(n));
        }
}

static int get_uint(const struct vt_config_item *it, json_t *v, void *field, struct vt_diag *d)
{
        const char *str = json_string_value(v);
        char *end = NULL;
        errno = 0;
        unsigned long long n = str && *str >= '0' && *str <= '9' ? strtoull(str, &end, 10) : 0;
        if (!str || !end || *end || errno || n < it->min || n > it->max)
                return vt_diag_set(d, VT_E_FORMAT, "config: %s%s must be an integer %llu..%llu",
                                   SHOWN(it), (unsigned long long)it->min,
                                   (unsigned long long)it->max);
        put_uint(field, it->size, n);
        return 0;
}

static int get_bool(const struct vt_config_item *it, json_t *v, bool *out, struct vt_diag *d)
{
        const char *str = json_string_value(v);
        if (str && strcmp(str, "true") == 0)
                *out = true;
        else if (str && strcmp(str, "false") == 0)
                *out = false;
        else
                return vt_diag_set(d, VT_E_FORMAT, "config: %s%s must be true or false", SHOWN(it));
        return 0;
}

static void free_list(char **l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

/* A sequence of strings (a single string is taken as a one-element list). */
static int get_list(const struct vt_config_item *it, json_t *v, char ***out, size_t *n,
                    struct vt_diag *d)
{
        json_auto_t *a = json_is_string(v) ? json_array() : json_incref(v);
        size_t i;
        json_t *x;
        if (!a || (json_is_string(v) && json_array_append(a, v) < 0))
                return VT_E_NOMEM;
        if (!json_is_array(a) || json_array_size(a) > MAX_LIST)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: %s%s must be a list of at most %d strings", SHOWN(it),
                                   MAX_LIST);
        char **l = calloc(json_array_size(a) + 1, sizeof(char *));
        if (!l)
                return VT_E_NOMEM;
        json_array_foreach (a, i, x) {
                if (!json_is_string(x) || !(l[i] = strdup(json_string_value(x)))) {
                        free_list(l, i);
                        return vt_diag_set(d, VT_E_FORMAT, "config: %s%s must be a list of strings",
                                           SHOWN(it));
                }
        }
        free_list(*out, *n);
        *n = json_array_size(a);
        *out = l;
        return 0;
}

static int apply_item(const struct vt_config_item *it, json_t *v, struct vt_config *c,
                      struct vt_diag *d)
{
        void *f = field_of(c, it->offset);
        switch (it->type) {
        case VT_CONFIG_STRING:
                return get_string(it, v, f, d);
        case VT_CONFIG_BOOL:
                return get_bool(it, v, f, d);
        case VT_CONFIG_UINT:
                return get_uint(it, v, f, d);
        case VT_CONFIG_LIST:
                return get_list(it, v, f, field_of(c, it->n_offset), d);
        case VT_CONFIG_CUSTOM:
                return it->parse(it, json_string_value(v), f, d);
        }
        return VT_E_INVAL;
}

/* ---- the table over a tree ---- */

/* The section of a key ("tls" of "tls.certificate") into buf, or "" at the top level;
 * *ret_name is the part after it. */
static void split_key(const char *key, char buf[static 64], const char **ret_name)
{
        const char *dot = strchr(key, '.');
        size_t n = dot ? (size_t)(dot - key) : 0;
        if (n >= 64)
                n = 0;
        memcpy(buf, key, n);
        buf[n] = 0;
        *ret_name = dot ? dot + 1 : key;
}

/* The value the file gives for a row, or NULL. Sections were checked to be mappings. */
static json_t *lookup(json_t *root, const struct vt_config_item *it)
{
        char sec[64];
        const char *name;
        split_key(it->key, sec, &name);
        json_t *o = *sec ? json_object_get(root, sec) : root;
        return json_is_object(o) ? json_object_get(o, name) : NULL;
}

/* Is key (in section sec, "" at the top level) a row, or at the top level a section? */
static bool known(const char *sec, const char *key)
{
        size_t sl = strlen(sec), kl = strlen(key);
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                const char *k = items[i].key;
                if (sl ? strncmp(k, sec, sl) == 0 && k[sl] == '.' && strcmp(k + sl + 1, key) == 0
                       : strcmp(k, key) == 0 || (strncmp(k, key, kl) == 0 && k[kl] == '.'))
                        return true;
        }
        return false;
}

static int check_section(json_t *root, const char *sec, struct vt_diag *d)
{
        json_t *o = *sec ? json_object_get(root, sec) : root, *v;
        const char *k;
        if (!o)
                return 0;
        if (!json_is_object(o))
                return vt_diag_set(d, VT_E_FORMAT, "config: %s must be a mapping", sec);
        json_object_foreach (o, k, v) {
                if (!known(sec, k))
                        return vt_diag_set(d, VT_E_FORMAT, "config: unknown key \"%s%s%s\"", sec,
                                           *sec ? "." : "", k);
        }
        return 0;
}

/* Unknown keys and sections that are not mappings: the top level, then each section in the
 * order of the table. */
static int check_keys(json_t *root, struct vt_diag *d)
{
        char sec[64], prev[64] = "";
        const char *name;
        int e = check_section(root, "", d);
        for (size_t i = 0; e == 0 && i < ELEMENTSOF(items); i++) {
                split_key(items[i].key, sec, &name);
                if (*sec && strcmp(sec, prev) != 0)
                        e = check_section(root, sec, d);
                memcpy(prev, sec, sizeof(prev));
        }
        return e;
}

/* The defaults of the fixed-size rows, before the file is read. */
static void set_defaults(struct vt_config *c)
{
        memset(c, 0, sizeof(*c));
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                const struct vt_config_item *it = &items[i];
                void *f = field_of(c, it->offset);
                if (it->type == VT_CONFIG_UINT)
                        put_uint(f, it->size, it->def);
                else if (it->type == VT_CONFIG_BOOL)
                        *(bool *)f = it->def != 0;
                else if (it->type == VT_CONFIG_CUSTOM && it->def_str)
                        (void)it->parse(it, it->def_str, f, NULL);
        }
}

/* The defaults of the strings the file did not give: first the fixed ones (state_dir
 * among them), then those under state_dir. */
static int set_string_defaults(struct vt_config *c)
{
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                        const struct vt_config_item *it = &items[i];
                        char **f = field_of(c, it->offset);
                        if (it->type != VT_CONFIG_STRING || !it->def_str || *f ||
                            it->def_in_state_dir != (pass == 1))
                                continue;
                        if (pass == 0 ? !(*f = strdup(it->def_str))
                                      : asprintf(f, "%s/%s", c->state_dir, it->def_str) < 0) {
                                *f = NULL;
                                return VT_E_NOMEM;
                        }
                }
        return 0;
}

/* What one row cannot say: bounds between options. */
static int check_across(struct vt_config *c, struct vt_diag *d)
{
        if (c->max_evidence > c->max_body)
                c->max_evidence = c->max_body;
        if ((c->tls_certificate == NULL) != (c->tls_private_key == NULL))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: tls needs both certificate and private_key");
        if (c->store_backend == VTD_STORE_SQLITE && c->store_dsn_file)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: store.dsn_file is for store.backend postgres");
        if (c->store_backend == VTD_STORE_POSTGRES && !c->store_dsn_file && !getenv(VTD_PG_DSN_ENV))
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: store.backend postgres needs store.dsn_file or the "
                                   "environment variable " VTD_PG_DSN_ENV);
        if (c->k8s_webhook) {
                /* the API server calls webhooks over HTTPS only, and so do we */
                if (!c->tls_certificate)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "config: kubernetes.webhook needs tls.certificate "
                                           "and tls.private_key (admission webhooks are "
                                           "HTTPS only)");
                if (!c->k8s_agent_image || !c->k8s_server_url || !c->k8s_node_label_key ||
                    !c->n_k8s_node_label_values)
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "config: kubernetes.webhook needs "
                                           "kubernetes.agent_image, kubernetes.server_url, "
                                           "kubernetes.node_label_key and "
                                           "kubernetes.node_label_values");
        }
        return 0;
}

int vt_config_store_dsn(const struct vt_config *c, char **ret, struct vt_diag *d)
{
        if (!c->store_dsn_file) {
                const char *env = getenv(VTD_PG_DSN_ENV);
                if (!env || !*env)
                        return vt_diag_set(d, VT_E_INVAL,
                                           "config: no PostgreSQL DSN (store.dsn_file or "
                                           "the environment variable " VTD_PG_DSN_ENV ")");
                *ret = strdup(env);
                return *ret ? 0 : VT_E_NOMEM;
        }
        struct stat st;
        if (stat(c->store_dsn_file, &st) < 0)
                return vt_diag_set(d, VT_E_IO, "config: store.dsn_file %s: %s", c->store_dsn_file,
                                   strerror(errno));
        /* it may hold a password: like a key file, not for everyone's eyes */
        if (st.st_mode & 0007)
                return vt_diag_set(d, VT_E_INVAL,
                                   "config: store.dsn_file %s is readable by others (chmod o-rwx)",
                                   c->store_dsn_file);
        uint8_t *buf = NULL;
        size_t len = 0;
        int e = vt_read_file(c->store_dsn_file, VTD_DSN_MAX_BYTES, &buf, &len);
        if (e < 0)
                return vt_diag_set(d, e, "config: cannot read store.dsn_file %s",
                                   c->store_dsn_file);
        /* one line; the trailing newline (and spaces) an editor leaves are not the DSN's */
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                           buf[len - 1] == '\t'))
                len--;
        char *dsn = malloc(len + 1);
        if (!dsn || len == 0 || memchr(buf, 0, len) || memchr(buf, '\n', len)) {
                explicit_bzero(buf, len);
                free(buf);
                free(dsn);
                return dsn ? vt_diag_set(d, VT_E_FORMAT,
                                         "config: store.dsn_file %s must hold one line, the DSN",
                                         c->store_dsn_file)
                           : VT_E_NOMEM;
        }
        memcpy(dsn, buf, len);
        dsn[len] = 0;
        explicit_bzero(buf, len);
        free(buf);
        *ret = dsn;
        return 0;
}

/* The file as a tree (path NULL: an empty mapping). */
static int read_tree(const char *path, json_t **ret, struct vt_diag *d)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        void *j = NULL;
        int e;
        if (!path) {
                *ret = json_object();
                return *ret ? 0 : VT_E_NOMEM;
        }
        if ((e = vt_read_file(path, VT_CONFIG_MAX_BYTES, &buf, &len)) < 0)
                return vt_diag_set(d, e, "config: cannot read %s", path);
        if ((e = vt_config_yaml_to_json((const char *)buf, len, &j, d)) < 0)
                return e;
        *ret = j;
        return 0;
}

void vt_config_done(struct vt_config *c)
{
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                void *f = field_of(c, items[i].offset);
                if (items[i].type == VT_CONFIG_STRING)
                        free(*(char **)f);
                else if (items[i].type == VT_CONFIG_LIST)
                        free_list(*(char ***)f, *(size_t *)field_of(c, items[i].n_offset));
        }
        memset(c, 0, sizeof(*c));
}

int vt_config_load(const char *path, struct vt_config *c, struct vt_diag *d)
{
        json_auto_t *root = NULL;
        int e;

        set_defaults(c);
        if ((e = read_tree(path, &root, d)) < 0)
                return e;
        if (!json_is_object(root))
                return vt_diag_set(d, VT_E_FORMAT, "config: the document must be a mapping");
        if ((e = check_keys(root, d)) < 0)
                goto fail;
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                json_t *v = lookup(root, &items[i]);
                if (v && (e = apply_item(&items[i], v, c, d)) < 0)
                        goto fail;
        }
        if ((e = check_across(c, d)) < 0 || (e = set_string_defaults(c)) < 0)
                goto fail;
        return 0;
fail:
        vt_config_done(c);
        return e;
}
