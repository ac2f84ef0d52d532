/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util/file.h"
#include "util/json.h"

#define MAX_CONFIG_BYTES (1u << 20)
#define MAX_DEPTH        32

/* Builds JSON from libyaml events. Scalars stay strings; typing happens on lookup. */
static int yaml_node(yaml_parser_t *p, yaml_event_t *first, int depth, json_t **ret,
                     struct vt_diag *d)
{
        yaml_event_t ev;
        if (depth > MAX_DEPTH)
                return vt_diag_set(d, VT_E_LIMIT, "config: nesting deeper than %d", MAX_DEPTH);
        switch (first->type) {
        case YAML_SCALAR_EVENT:
                *ret = json_stringn((const char *)first->data.scalar.value,
                                    first->data.scalar.length);
                return *ret ? 0 : VT_E_NOMEM;
        case YAML_ALIAS_EVENT:
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: line %zu: YAML aliases are not supported",
                                   first->start_mark.line + 1);
        case YAML_SEQUENCE_START_EVENT: {
                json_auto_t *a = json_array();
                if (!a)
                        return VT_E_NOMEM;
                for (;;) {
                        if (!yaml_parser_parse(p, &ev))
                                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: %s",
                                                   p->problem_mark.line + 1,
                                                   p->problem ? p->problem : "syntax error");
                        if (ev.type == YAML_SEQUENCE_END_EVENT) {
                                yaml_event_delete(&ev);
                                break;
                        }
                        json_t *item = NULL;
                        int e = yaml_node(p, &ev, depth + 1, &item, d);
                        yaml_event_delete(&ev);
                        if (e < 0)
                                return e;
                        json_array_append_new(a, item);
                }
                *ret = json_incref(a);
                return 0;
        }
        case YAML_MAPPING_START_EVENT: {
                json_auto_t *o = json_object();
                if (!o)
                        return VT_E_NOMEM;
                for (;;) {
                        if (!yaml_parser_parse(p, &ev))
                                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: %s",
                                                   p->problem_mark.line + 1,
                                                   p->problem ? p->problem : "syntax error");
                        if (ev.type == YAML_MAPPING_END_EVENT) {
                                yaml_event_delete(&ev);
                                break;
                        }
                        if (ev.type != YAML_SCALAR_EVENT) {
                                size_t line = ev.start_mark.line + 1;
                                yaml_event_delete(&ev);
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "config: line %zu: keys must be scalars", line);
                        }
                        char key[128];
                        size_t kl = ev.data.scalar.length, line = ev.start_mark.line + 1;
                        if (kl >= sizeof(key)) {
                                yaml_event_delete(&ev);
                                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: key too long",
                                                   line);
                        }
                        memcpy(key, ev.data.scalar.value, kl);
                        key[kl] = 0;
                        yaml_event_delete(&ev);
                        if (json_object_get(o, key))
                                return vt_diag_set(d, VT_E_FORMAT,
                                                   "config: line %zu: duplicate key \"%s\"", line,
                                                   key);
                        if (!yaml_parser_parse(p, &ev))
                                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: %s",
                                                   p->problem_mark.line + 1,
                                                   p->problem ? p->problem : "syntax error");
                        json_t *val = NULL;
                        int e = yaml_node(p, &ev, depth + 1, &val, d);
                        yaml_event_delete(&ev);
                        if (e < 0)
                                return e;
                        json_object_set_new(o, key, val);
                }
                *ret = json_incref(o);
                return 0;
        }
        default:
                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: unexpected YAML event",
                                   first->start_mark.line + 1);
        }
}

int vtd_yaml_to_json(const char *text, size_t len, void **ret_json, struct vt_diag *d)
{
        yaml_parser_t p;
        yaml_event_t ev;
        json_t *root = NULL;
        int e = 0;
        if (len > MAX_CONFIG_BYTES)
                return vt_diag_set(d, VT_E_LIMIT, "config: larger than %u bytes", MAX_CONFIG_BYTES);
        if (!yaml_parser_initialize(&p))
                return VT_E_NOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
        for (;;) {
                if (!yaml_parser_parse(&p, &ev)) {
                        e = vt_diag_set(d, VT_E_FORMAT, "config: line %zu: %s",
                                        p.problem_mark.line + 1,
                                        p.problem ? p.problem : "syntax error");
                        break;
                }
                yaml_event_type_t t = ev.type;
                if (t == YAML_STREAM_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT ||
                    t == YAML_SCALAR_EVENT) {
                        if (root) {
                                yaml_event_delete(&ev);
                                e = vt_diag_set(d, VT_E_FORMAT,
                                                "config: more than one YAML document");
                                break;
                        }
                        e = yaml_node(&p, &ev, 0, &root, d);
                }
                yaml_event_delete(&ev);
                if (e < 0)
                        break;
        }
        yaml_parser_delete(&p);
        if (e < 0) {
                json_decref(root);
                return e;
        }
        *ret_json = root ? root : json_object();
        return 0;
}

/* ---- typed lookups ---- */

struct section {
        json_t *obj;
        const char *name;
        const char *const *known;
};

static int check_known(const struct section *s, struct vt_diag *d)
{
        const char *k;
        json_t *v;
        if (!s->obj)
                return 0;
        if (!json_is_object(s->obj))
                return vt_diag_set(d, VT_E_FORMAT, "config: %s must be a mapping", s->name);
        json_object_foreach (s->obj, k, v) {
                bool ok = false;
                for (const char *const *n = s->known; *n; n++)
                        if (strcmp(*n, k) == 0)
                                ok = true;
                if (!ok)
                        return vt_diag_set(d, VT_E_FORMAT, "config: unknown key \"%s%s%s\"",
                                           s->name, *s->name ? "." : "", k);
        }
        return 0;
}

static int get_str(const struct section *s, const char *k, char **out, struct vt_diag *d)
{
        json_t *v = s->obj ? json_object_get(s->obj, k) : NULL;
        if (!v)
                return 0;
        if (!json_is_string(v))
                return vt_diag_set(d, VT_E_FORMAT, "config: %s.%s must be a string", s->name, k);
        char *c = strdup(json_string_value(v));
        if (!c)
                return VT_E_NOMEM;
        free(*out);
        *out = c;
        return 0;
}

/* public_url: http:// or https://, then a host, printable ASCII without spaces, '?' or
 * '#', under 256 bytes; a trailing '/' is dropped. It goes into published documents
 * (jwks_uri) as it is. */
static int get_public_url(const struct section *s, char **out, struct vt_diag *d)
{
        int e = get_str(s, "public_url", out, d);
        if (e < 0 || !*out)
                return e;
        char *u = *out;
        size_t n = strlen(u);
        const char *host = strncmp(u, "https://", 8) == 0  ? u + 8
                           : strncmp(u, "http://", 7) == 0 ? u + 7
                                                           : NULL;
        bool ok = host && *host && *host != '/' && n < 256;
        for (const char *p = u; ok && *p; p++)
                ok = *p > 0x20 && *p < 0x7f && *p != '?' && *p != '#' && *p != '"' && *p != '\\';
        if (!ok)
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: public_url must be http(s)://HOST[:PORT][/PATH] (no "
                                   "spaces, query or fragment), under 256 bytes");
        while (n > 0 && u[n - 1] == '/')
                u[--n] = 0;
        return 0;
}

static int get_u64(const struct section *s, const char *k, uint64_t min, uint64_t max,
                   uint64_t *out, struct vt_diag *d)
{
        json_t *v = s->obj ? json_object_get(s->obj, k) : NULL;
        if (!v)
                return 0;
        const char *str = json_string_value(v);
        char *end = NULL;
        errno = 0;
        unsigned long long n = str && *str >= '0' && *str <= '9' ? strtoull(str, &end, 10) : 0;
        if (!str || !end || *end || errno || n < min || n > max)
                return vt_diag_set(d, VT_E_FORMAT, "config: %s.%s must be an integer %llu..%llu",
                                   s->name, k, (unsigned long long)min, (unsigned long long)max);
        *out = n;
        return 0;
}

static int get_bool(const struct section *s, const char *k, bool *out, struct vt_diag *d)
{
        json_t *v = s->obj ? json_object_get(s->obj, k) : NULL;
        if (!v)
                return 0;
        const char *str = json_string_value(v);
        if (str && strcmp(str, "true") == 0)
                *out = true;
        else if (str && strcmp(str, "false") == 0)
                *out = false;
        else
                return vt_diag_set(d, VT_E_FORMAT, "config: %s.%s must be true or false", s->name,
                                   k);
        return 0;
}

static char *join(const char *dir, const char *name)
{
        char *s = NULL;
        return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

static void free_list(char **l, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

/* A sequence of strings (a single string is taken as a one-element list). */
static int get_list(const struct section *s, const char *k, char ***out, size_t *n,
                    struct vt_diag *d)
{
        json_t *v = s->obj ? json_object_get(s->obj, k) : NULL;
        size_t i;
        json_t *x;
        if (!v)
                return 0;
        if (json_is_string(v)) {
                json_t *a = json_array();
                json_array_append(a, v);
                v = a;
        } else if (!json_is_array(v) || json_array_size(v) > 64) {
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: %s.%s must be a list of at most 64 strings", s->name,
                                   k);
        } else {
                json_incref(v);
        }
        char **l = calloc(json_array_size(v) + 1, sizeof(char *));
        if (!l) {
                json_decref(v);
                return VT_E_NOMEM;
        }
        json_array_foreach (v, i, x) {
                if (!json_is_string(x) || !(l[i] = strdup(json_string_value(x)))) {
                        free_list(l, i);
                        json_decref(v);
                        return vt_diag_set(d, VT_E_FORMAT,
                                           "config: %s.%s must be a list of strings", s->name, k);
                }
        }
        *n = json_array_size(v);
        *out = l;
        json_decref(v);
        return 0;
}

void vtd_config_done(struct vtd_config *c)
{
        free(c->listen);
        free(c->public_url);
        free(c->tls_certificate);
        free(c->tls_private_key);
        free(c->state_dir);
        free(c->database);
        free(c->token_key);
        free(c->token_issuer);
        free(c->reference_values);
        free(c->simulator_root);
        free(c->kds_url);
        free(c->kds_cache_dir);
        free(c->pccs_url);
        free(c->dcap_cache_dir);
        free(c->kek_file);
        free_list(c->admin_keys, c->n_admin_keys);
        free_list(c->trusted_jwks, c->n_trusted_jwks);
        free_list(c->trusted_certs, c->n_trusted_certs);
        free_list(c->extra_teekey_paths, c->n_extra_teekey_paths);
        free_list(c->tpm_trusted_aks, c->n_tpm_trusted_aks);
        vt_tpm_aks_free(c->tpm_aks);
        memset(c, 0, sizeof(*c));
}

int vtd_config_load(const char *path, struct vtd_config *c, struct vt_diag *d)
{
        static const char *const top_keys[] = {
                "listen",      "public_url", "tls",     "state_dir", "store",  "token", "session",
                "attestation", "limits",     "secrets", "admin",     "tokens", NULL};
        static const char *const secrets_keys[] = {"kek_file", NULL};
        static const char *const admin_keys[] = {"keys", NULL};
        static const char *const tokens_keys[] = {"trusted_jwks", "trusted_certs",
                                                  "extra_teekey_paths", NULL};
        static const char *const tls_keys[] = {"certificate", "private_key", NULL};
        static const char *const store_keys[] = {"sqlite", NULL};
        static const char *const token_keys[] = {"signing_key", "issuer", "ttl_seconds", NULL};
        static const char *const session_keys[] = {"ttl_seconds", "unattested_ttl_seconds",
                                                   "sweep_interval_seconds", NULL};
        static const char *const att_keys[] = {"reference_values",
                                               "simulator_root",
                                               "allow_sample",
                                               "minimum_status",
                                               "kds_url",
                                               "kds_cache_dir",
                                               "pccs_url",
                                               "dcap_cache_dir",
                                               "tpm_trusted_aks",
                                               "kds_timeout_seconds",
                                               "kds_max_fetches",
                                               "kds_retry_seconds",
                                               NULL};
        static const char *const lim_keys[] = {"max_body_bytes",
                                               "max_evidence_bytes",
                                               "max_sessions",
                                               "max_sessions_per_client",
                                               "threads",
                                               "max_connections",
                                               "connection_timeout_seconds",
                                               "request_timeout_seconds",
                                               "max_connections_per_client",
                                               NULL};
        _cleanup_free_ uint8_t *buf = NULL;
        json_auto_t *root = NULL;
        size_t len = 0;
        uint64_t n;
        int e;

        memset(c, 0, sizeof(*c));
        c->token_ttl = 300;
        c->session_ttl = 300;
        c->unattested_ttl = 60;
        c->sweep_interval = 30;
        c->min_status = VT_EAR_AFFIRMING;
        c->max_body = 1u << 20;
        c->max_evidence = 512u * 1024u;
        c->kds_timeout = 5;
        c->kds_max_fetches = 2;
        c->kds_retry = 60;
        c->max_sessions = 10000;
        c->max_sessions_per_client = 64;
        c->threads = 4;
        c->max_connections = 256;
        c->connection_timeout = 30;
        c->request_timeout = 10;
        c->max_connections_per_client = 32;
        if (path) {
                if ((e = vt_read_file(path, MAX_CONFIG_BYTES, &buf, &len)) < 0)
                        return vt_diag_set(d, e, "config: cannot read %s", path);
                void *j = NULL;
                if ((e = vtd_yaml_to_json((const char *)buf, len, &j, d)) < 0)
                        return e;
                root = j;
        } else {
                root = json_object();
        }
        if (!json_is_object(root))
                return vt_diag_set(d, VT_E_FORMAT, "config: the document must be a mapping");
        struct section top = {root, "", top_keys};
        struct section tls = {json_object_get(root, "tls"), "tls", tls_keys};
        struct section store = {json_object_get(root, "store"), "store", store_keys};
        struct section token = {json_object_get(root, "token"), "token", token_keys};
        struct section session = {json_object_get(root, "session"), "session", session_keys};
        struct section att = {json_object_get(root, "attestation"), "attestation", att_keys};
        struct section lim = {json_object_get(root, "limits"), "limits", lim_keys};
        struct section secrets = {json_object_get(root, "secrets"), "secrets", secrets_keys};
        struct section admin = {json_object_get(root, "admin"), "admin", admin_keys};
        struct section tokens = {json_object_get(root, "tokens"), "tokens", tokens_keys};
        const struct section *all[] = {&top, &tls, &store,   &token, &session,
                                       &att, &lim, &secrets, &admin, &tokens};
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if ((e = check_known(all[i], d)) < 0)
                        goto fail;
        struct section topv = {root, "config", top_keys};
        if ((e = get_str(&topv, "listen", &c->listen, d)) < 0 ||
            (e = get_public_url(&topv, &c->public_url, d)) < 0 ||
            (e = get_str(&topv, "state_dir", &c->state_dir, d)) < 0 ||
            (e = get_str(&tls, "certificate", &c->tls_certificate, d)) < 0 ||
            (e = get_str(&tls, "private_key", &c->tls_private_key, d)) < 0 ||
            (e = get_str(&store, "sqlite", &c->database, d)) < 0 ||
            (e = get_str(&token, "signing_key", &c->token_key, d)) < 0 ||
            (e = get_str(&token, "issuer", &c->token_issuer, d)) < 0 ||
            (e = get_str(&att, "reference_values", &c->reference_values, d)) < 0 ||
            (e = get_str(&att, "simulator_root", &c->simulator_root, d)) < 0 ||
            (e = get_str(&att, "kds_url", &c->kds_url, d)) < 0 ||
            (e = get_str(&att, "kds_cache_dir", &c->kds_cache_dir, d)) < 0 ||
            (e = get_str(&att, "pccs_url", &c->pccs_url, d)) < 0 ||
            (e = get_str(&att, "dcap_cache_dir", &c->dcap_cache_dir, d)) < 0 ||
            (e = get_bool(&att, "allow_sample", &c->allow_sample, d)) < 0 ||
            (e = get_str(&secrets, "kek_file", &c->kek_file, d)) < 0 ||
            (e = get_list(&admin, "keys", &c->admin_keys, &c->n_admin_keys, d)) < 0 ||
            (e = get_list(&tokens, "trusted_jwks", &c->trusted_jwks, &c->n_trusted_jwks, d)) < 0 ||
            (e = get_list(&tokens, "trusted_certs", &c->trusted_certs, &c->n_trusted_certs, d)) <
                    0 ||
            (e = get_list(&tokens, "extra_teekey_paths", &c->extra_teekey_paths,
                          &c->n_extra_teekey_paths, d)) < 0 ||
            (e = get_list(&att, "tpm_trusted_aks", &c->tpm_trusted_aks, &c->n_tpm_trusted_aks, d)) <
                    0)
                goto fail;
        n = (uint64_t)c->token_ttl;
        if ((e = get_u64(&token, "ttl_seconds", 10, 86400, &n, d)) < 0)
                goto fail;
        c->token_ttl = (int64_t)n;
        n = (uint64_t)c->session_ttl;
        if ((e = get_u64(&session, "ttl_seconds", 5, 3600, &n, d)) < 0)
                goto fail;
        c->session_ttl = (int64_t)n;
        n = (uint64_t)c->unattested_ttl;
        if ((e = get_u64(&session, "unattested_ttl_seconds", 5, 3600, &n, d)) < 0)
                goto fail;
        c->unattested_ttl = (int64_t)n;
        n = c->sweep_interval;
        if ((e = get_u64(&session, "sweep_interval_seconds", 1, 3600, &n, d)) < 0)
                goto fail;
        c->sweep_interval = (unsigned)n;
        n = c->max_body;
        if ((e = get_u64(&lim, "max_body_bytes", 1024, 64u << 20, &n, d)) < 0)
                goto fail;
        c->max_body = n;
        n = c->max_evidence;
        if ((e = get_u64(&lim, "max_evidence_bytes", 1024, 64u << 20, &n, d)) < 0)
                goto fail;
        c->max_evidence = n;
        n = c->max_sessions;
        if ((e = get_u64(&lim, "max_sessions", 1, 10000000, &n, d)) < 0)
                goto fail;
        c->max_sessions = n;
        n = c->max_sessions_per_client;
        if ((e = get_u64(&lim, "max_sessions_per_client", 1, 10000000, &n, d)) < 0)
                goto fail;
        c->max_sessions_per_client = n;
        n = c->threads;
        if ((e = get_u64(&lim, "threads", 1, 256, &n, d)) < 0)
                goto fail;
        c->threads = (unsigned)n;
        n = c->max_connections;
        if ((e = get_u64(&lim, "max_connections", 1, 65536, &n, d)) < 0)
                goto fail;
        c->max_connections = (unsigned)n;
        n = c->connection_timeout;
        if ((e = get_u64(&lim, "connection_timeout_seconds", 1, 3600, &n, d)) < 0)
                goto fail;
        c->connection_timeout = (unsigned)n;
        n = c->kds_timeout;
        if ((e = get_u64(&att, "kds_timeout_seconds", 1, 60, &n, d)) < 0)
                goto fail;
        c->kds_timeout = (unsigned)n;
        n = c->kds_max_fetches;
        if ((e = get_u64(&att, "kds_max_fetches", 0, 64, &n, d)) < 0)
                goto fail;
        c->kds_max_fetches = (unsigned)n;
        n = c->kds_retry;
        if ((e = get_u64(&att, "kds_retry_seconds", 0, 86400, &n, d)) < 0)
                goto fail;
        c->kds_retry = (unsigned)n;
        n = c->request_timeout;
        if ((e = get_u64(&lim, "request_timeout_seconds", 1, 3600, &n, d)) < 0)
                goto fail;
        c->request_timeout = (unsigned)n;
        n = c->max_connections_per_client;
        if ((e = get_u64(&lim, "max_connections_per_client", 1, 65536, &n, d)) < 0)
                goto fail;
        c->max_connections_per_client = (unsigned)n;
        json_t *ms = att.obj ? json_object_get(att.obj, "minimum_status") : NULL;
        if (ms) {
                const char *s = json_string_value(ms);
                if (s && strcmp(s, "affirming") == 0)
                        c->min_status = VT_EAR_AFFIRMING;
                else if (s && strcmp(s, "warning") == 0)
                        c->min_status = VT_EAR_WARNING;
                else {
                        e = vt_diag_set(
                                d, VT_E_FORMAT,
                                "config: attestation.minimum_status must be affirming or warning");
                        goto fail;
                }
        }
        if (c->max_evidence > c->max_body)
                c->max_evidence = c->max_body;
        if ((c->tls_certificate == NULL) != (c->tls_private_key == NULL)) {
                e = vt_diag_set(d, VT_E_FORMAT,
                                "config: tls needs both certificate and private_key");
                goto fail;
        }
        /* derived defaults */
        if (!c->listen && !(c->listen = strdup("127.0.0.1:8080")))
                goto nomem;
        if (!c->state_dir && !(c->state_dir = strdup("/var/lib/veritee")))
                goto nomem;
        if (!c->database && !(c->database = join(c->state_dir, "veritee.db")))
                goto nomem;
        if (!c->token_key && !(c->token_key = join(c->state_dir, "token-signing-key.pem")))
                goto nomem;
        if (!c->kds_cache_dir && !(c->kds_cache_dir = join(c->state_dir, "kds-cache")))
                goto nomem;
        if (!c->pccs_url && !(c->pccs_url = strdup("https://api.trustedservices.intel.com")))
                goto nomem;
        if (!c->dcap_cache_dir && !(c->dcap_cache_dir = join(c->state_dir, "dcap-cache")))
                goto nomem;
        if (!c->token_issuer && !(c->token_issuer = strdup("veritee")))
                goto nomem;
        return 0;
nomem:
        e = VT_E_NOMEM;
fail:
        vtd_config_done(c);
        return e;
}
