/* SPDX-License-Identifier: Apache-2.0 */
/* veriteed's configuration: YAML file -> struct vt_config, every option a row of one table
 * (config.c) with its type, bounds and safe default (docs/configuration.md). Internal: used
 * by veriteed and by `veritee admin rotate-kek`, which reads the server's file. */
#ifndef VT_CONFIG_CONFIG_H
#define VT_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/ar4si.h"
#include "veritee/azure.h"
#include "veritee/veritee.h"

/* The largest configuration file. */
#define VT_CONFIG_MAX_BYTES (1u << 20)

/* store.backend */
enum vtd_store_backend {
        VTD_STORE_SQLITE = 0,
        VTD_STORE_POSTGRES,
};

/* The environment variable that gives the PostgreSQL DSN when store.dsn_file is not set
 * (never the command line: it would show in ps). */
#define VTD_PG_DSN_ENV "VERITEE_PG_DSN"
/* The largest store.dsn_file. */
#define VTD_DSN_MAX_BYTES 4096u

struct vt_config {
        char *listen;     /* "127.0.0.1:8080" */
        char *public_url; /* public_url: how clients reach us ("https://kbs.example"); NULL:
                           * from listen */
        char *tls_certificate, *tls_private_key;
        char *state_dir;
        enum vtd_store_backend store_backend; /* store.backend: sqlite (default) or postgres */
        char *database;                       /* store.sqlite */
        size_t sqlite_cache_mib;              /* store.sqlite_cache_mib */
        char *store_dsn_file; /* store.dsn_file: the PostgreSQL DSN (libpq conninfo) */
        char *token_key;
        char *token_issuer; /* token.issuer; NULL: the public URL */
        int64_t token_ttl;
        char *token_cert_chain; /* token.certificate_chain: PEM, the key's cert first */
        char *token_ca_cert;    /* token.ca_certificate + token.ca_key: certify the key */
        char *token_ca_key;
        bool token_self_signed;    /* token.self_signed_certificate (development) */
        bool token_verbose;        /* token.verbose: raw additional evidence in tokens */
        char *token_audience;      /* token.audience: the tokens' aud; NULL: none */
        unsigned jwks_max_age;     /* token.jwks_max_age_seconds; 0: min(300, ttl / 2) */
        char *token_next_key;      /* token.next_signing_key: published, never signs */
        char **token_retired_keys; /* token.retired_keys: published, never sign */
        size_t n_token_retired_keys;
        char **trusted_proxies; /* http.trusted_proxies: addresses/CIDRs whose X-Forwarded-*
                                 * headers name the discovery document's URLs */
        size_t n_trusted_proxies;
        int64_t session_ttl;
        int64_t unattested_ttl;  /* session.unattested_ttl_seconds: a challenge not yet used */
        unsigned sweep_interval; /* session.sweep_interval_seconds */
        char *reference_values;
        char *simulator_root;
        bool allow_sample;
        enum vt_ar4si_tier min_status; /* attestation.minimum_status: the worst tier
                                        * accepted (EAR's status is the AR4SI tier) */
        char *kds_url;
        char *kds_cache_dir;
        unsigned kds_timeout;     /* attestation.kds_timeout_seconds: one VCEK fetch */
        unsigned kds_max_fetches; /* attestation.kds_max_fetches: at once (0: none) */
        unsigned kds_retry;       /* attestation.kds_retry_seconds: after a failed fetch */
        char *pccs_url;           /* attestation.pccs_url: Intel PCS or a PCCS */
        char *dcap_cache_dir;     /* attestation.dcap_cache_dir */
        /* NVIDIA GPU / NVSwitch (attestation.nvidia_*, docs/nvidia.md) */
        bool nvidia;                /* verify additional (device) evidence; false: refused */
        char *nvidia_test_root;     /* TEST/DEV only: an extra root for test-made device chains */
        char *nvidia_rim_url;       /* RIM service or mirror; "" : never fetch */
        char *nvidia_rim_dir;       /* RIMs provided offline, by ID */
        char *nvidia_rim_cache_dir; /* fetched RIMs */
        bool nvidia_rim_allow_missing;
        bool nvidia_ocsp;             /* false: revocation not checked (claims say so) */
        char *nvidia_ocsp_url;        /* the OCSP responder (or a caching proxy) */
        char **nvidia_ocsp_responses; /* DER OCSP responses provided offline */
        size_t n_nvidia_ocsp_responses;
        unsigned nvidia_ocsp_grace; /* seconds a response is accepted past nextUpdate */
        size_t max_body;
        size_t max_evidence;
        size_t max_sessions;            /* open (unattested) sessions, overall */
        size_t max_sessions_per_client; /* ... and per client address */
        unsigned threads;
        unsigned max_connections;
        unsigned connection_timeout;
        unsigned request_timeout;            /* whole request (headers and body) within this */
        unsigned max_connections_per_client; /* per client address */
        char *kek_file;             /* secrets.kek_file: seals stored secrets; NULL: no resources */
        bool require_locked_memory; /* secrets.require_locked_memory: refuse to start when the
                                     * private keys cannot be locked in memory */
        char **admin_keys; /* admin.keys: public keys for admin tokens; none: no admin API */
        size_t n_admin_keys;
        char *ledger_key;        /* ledger.signing_key: signs the ledger's tree heads */
        uint64_t sth_every;      /* ledger.sth_every_entries */
        uint64_t sth_ms;         /* ledger.sth_every_ms */
        uint64_t attest_sync_ms; /* ledger.attest_sync_ms: an attest entry synced within */
        bool ledger_public;      /* ledger.public: the ledger API without a token */
        char **trusted_jwks;     /* tokens.trusted_jwks: more JWKS files for bearer tokens */
        size_t n_trusted_jwks;
        char **trusted_certs; /* tokens.trusted_certs: PEM certificates / public keys */
        size_t n_trusted_certs;
        char **extra_teekey_paths; /* tokens.extra_teekey_paths: JSON pointers tried first */
        size_t n_extra_teekey_paths;
        char **tpm_trusted_aks; /* attestation.tpm_trusted_aks: PEM public keys of TPM AKs */
        size_t n_tpm_trusted_aks;
        struct vt_tpm_aks *tpm_aks; /* those keys, loaded and freed by veriteed (main.c), not
                                     * by vt_config_done; NULL: tee tpm refused */
        /* issue 13: the Kubernetes admission webhook (src/veriteed/webhook.c) */
        bool k8s_webhook;         /* kubernetes.webhook: serve /k8s/mutate and /k8s/validate */
        char *k8s_agent_image;    /* kubernetes.agent_image: the init container's image */
        char *k8s_server_url;     /* kubernetes.server_url: what the init container reaches */
        char *k8s_ca_configmap;   /* kubernetes.ca_configmap: ConfigMap with ca.crt; NULL: none */
        char *k8s_node_label_key; /* kubernetes.node_label_key: confidential nodes' label */
        char **k8s_node_label_values; /* kubernetes.node_label_values: its accepted values */
        size_t n_k8s_node_label_values;
        char *k8s_runtime_class; /* kubernetes.runtime_class: runtimeClassName; NULL: none */
        char **k8s_tolerations;  /* kubernetes.tolerations: "KEY[=VALUE][:EFFECT]" */
        size_t n_k8s_tolerations;
        /* issue 14: the Azure-compatible attestation API (src/veriteed/azure_api.c) */
        bool azure_enabled;       /* azure.enabled: the /attest/{type} and /certs routes */
        char *azure_key;          /* azure.signing_key: RSA key and self-signed cert (PEM) */
        unsigned azure_ttl;       /* azure.token_ttl_seconds */
        char *verify_at;          /* attestation.verify_at: RFC 3339; tests only (NULL: now) */
        char **azure_authorities; /* azure.trusted_authorities: "ISSUER [JWKS_FILE]" */
        size_t n_azure_authorities;
        unsigned azure_jwks_ttl;         /* azure.authority_jwks_ttl_seconds */
        unsigned azure_fetch_timeout_ms; /* azure.authority_fetch_timeout_ms */
        unsigned azure_jwks_max;         /* azure.authority_jwks_max_bytes */
};

/* What a row stores, at offsetof(struct vt_config, ...). */
enum vt_config_type {
        VT_CONFIG_STRING, /* char *; .check may validate and rewrite it */
        VT_CONFIG_BOOL,   /* bool: true or false */
        VT_CONFIG_UINT,   /* an unsigned integer field of .size bytes (4 or 8), .min...max */
        VT_CONFIG_LIST,   /* char ** with its count (size_t) at .n_offset; a single string is a
                           * one-element list; at most 64 */
        VT_CONFIG_CUSTOM, /* .parse turns the scalar into the field (nothing to free) */
};

struct vt_config_item {
        const char *key; /* "limits.max_sessions" (SECTION.NAME) or a top-level "listen" */
        enum vt_config_type type;
        size_t offset;
        size_t size;     /* UINT: sizeof the field */
        size_t n_offset; /* LIST: offsetof the count */
        uint64_t min, max;
        uint64_t def;          /* UINT, BOOL: the default */
        const char *def_str;   /* STRING: the default (NULL: none); CUSTOM: parsed by .parse */
        bool def_in_state_dir; /* STRING: the default is STATE_DIR/def_str */
        /* STRING: checks (and may rewrite) the value read from the file */
        int (*check)(const struct vt_config_item *it, char *value, struct vt_diag *d);
        /* CUSTOM: s is the scalar, NULL when the value is not one */
        int (*parse)(const struct vt_config_item *it, const char *s, void *field,
                     struct vt_diag *d);
};

/* vt_config_items returns the table of options (static; *ret_n rows), in the order of
 * docs/configuration.md. */
const struct vt_config_item *vt_config_items(size_t *ret_n);

/* vt_config_load reads a YAML file (path NULL: defaults only) and fills *c. Unknown
 * keys and values of the wrong type are errors naming the key. On failure *c holds
 * nothing to free. */
int vt_config_load(const char *path, struct vt_config *c, struct vt_diag *d);
/* vt_config_store_dsn returns the PostgreSQL DSN in a malloc'd string (the caller frees
 * it, cleansing it: it may hold a password): the one line of store.dsn_file (refused when
 * readable by others), else the environment variable VERITEE_PG_DSN. */
int vt_config_store_dsn(const struct vt_config *c, char **ret, struct vt_diag *d);

/* vt_config_done frees what vt_config_load filled in (not tpm_aks) and zeroes *c. */
void vt_config_done(struct vt_config *c);

/* vt_config_yaml_to_json converts a YAML document (mappings, sequences, scalars as strings)
 * into JSON; at most 1 MiB and nesting 32. */
int vt_config_yaml_to_json(const char *text, size_t len, void **ret_json_t, struct vt_diag *d);

#endif
