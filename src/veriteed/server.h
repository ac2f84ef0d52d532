/* SPDX-License-Identifier: Apache-2.0 */
/* veriteed: shared server state and the request/response helpers of the API files. */
#ifndef VTD_SERVER_H
#define VTD_SERVER_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "attest/attest.h"
#include "crypto/issued.h"
#include "config.h"
#include "response.h"
#include "store/store.h"
#include "token/ear.h"
#include "token/jwt.h"
#include "util/json_parse.h"
#include "veritee/dcap.h"
#include "veritee/snp.h"

struct vtd_refvals; /* per-tee reference values (appraisal) */
struct vt_keyring;
struct vt_admin_keys;
struct vt_admin_principal;
struct vt_ledger;

#define VTD_N_STATUS  11
#define VTD_N_BUCKETS 12
#define VTD_N_TEES    (VT_ATTEST_N_TEES + 1) /* lib/attest's tees, and "other" */
#define VTD_N_VERDICT 4

/* The outcome of a resource request, for veritee_releases_total (its reason label). */
enum vtd_release {
        VTD_RELEASED,
        VTD_DENY_TOKEN,     /* no token, or one that did not verify */
        VTD_DENY_NOT_FOUND, /* no such resource */
        VTD_DENY_NO_POLICY, /* the resource has no release policy */
        VTD_DENY_POLICY,    /* its policy refused the claims */
        VTD_DENY_TEE_KEY,   /* the token has no usable TEE key */
        VTD_RELEASE_ERROR,  /* a server fault (store, ledger, sealing) */
        _VTD_RELEASE_MAX,
};

struct vtd_metrics {
        atomic_ulong requests[_ROUTE_MAX][VTD_N_STATUS];
        atomic_ulong verifications[VTD_N_TEES][VTD_N_VERDICT];
        atomic_ulong releases[_VTD_RELEASE_MAX];
        /* per route; cumulative counts are computed on output */
        atomic_ulong latency_bucket[_ROUTE_MAX][VTD_N_BUCKETS];
        atomic_ulong latency_count[_ROUTE_MAX];
        atomic_ullong latency_sum_us[_ROUTE_MAX];
};

struct vtd {
        struct vt_config cfg;
        struct vt_store *store;
        struct vt_signer *signer;
        struct vt_snp_verifier *snp_hw;  /* AMD roots only */
        struct vt_snp_verifier *snp_sim; /* AMD roots + the simulator root, if configured */
        struct vt_dcap_verifier *dcap;   /* Intel root; collateral from the PCCS */
        struct vt_nv_verifier *nvidia;   /* attestation.nvidia: GPU/switch evidence; else NULL */
        struct vtd_refvals *refvals;
        struct vt_keyring *kek;      /* NULL: no resource storage */
        struct vt_admin_keys *admin; /* NULL: no admin API */
        json_t *jwks;              /* published: the signing key, token.next_signing_key, retired */
        json_t *token_jwks;        /* keys that verify bearer tokens: the published + configured */
        struct vt_issued *issued;  /* tokens signed here lately, by exact text (crypto/issued.h) */
        char jwks_cache[48];       /* Cache-Control of the JWKS and discovery documents */
        struct vtd_proxy *proxies; /* http.trusted_proxies, parsed (http.c) */
        size_t n_proxies;
        struct vt_store *ledger_store;   /* store on SQLite, its own on PostgreSQL */
        struct vt_store *ledger_reads;   /* the /ledger/ API's reads (vtd_ledger_init) */
        struct vt_signer *ledger_signer; /* ledger.signing_key */
        struct vt_ledger *ledger;        /* the appender (ledger.c) */
        json_t *k8s_tolerations;         /* kubernetes.tolerations as Kubernetes objects */
        struct vtd_metrics metrics;
        atomic_ulong sessions_open_estimate;
        sem_t verify; /* limits.threads: evidence verified at once */
        int64_t started;
        /* issue 14: the Azure API's signing keys (azure_api.c) */
        struct vtd_azure *azure;
};

/* vtd_count_release counts the outcome of one resource request (wellknown.c). */
void vtd_count_release(struct vtd *s, enum vtd_release what);

/* KBS attestation half (kbs.c). cookie may be NULL. */
void vtd_kbs_auth(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_kbs_attest(struct vtd *s, struct vtd_request *req, const char *cookie,
                    struct vtd_response *res);

/* Secret release (resource.c): GET /kbs/v0/resource/<path>. */
void vtd_resource_get(struct vtd *s, struct vtd_request *req, struct vtd_response *res);

/* The admin API (admin.c): resources, release policies, the list, reference values. */
void vtd_admin_resource_put(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
/* POST /kbs/v0/resources/batch: many secrets (and their policies) in one transaction. */
void vtd_admin_resource_batch(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_admin_resource_delete(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_admin_policy_get(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_admin_policy_put(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_admin_list(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_admin_refval_list(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_admin_trustee_resource_policy(struct vtd *s, struct vtd_request *req,
                                       struct vtd_response *res);
void vtd_admin_trustee_attestation_policy(struct vtd *s, struct vtd_request *req,
                                          struct vtd_response *res);
void vtd_admin_refval_add(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_admin_refval_delete(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
/* vtd_admin_check authenticates the request's admin token and authorizes op (on repo for
 * VT_ADMIN_WRITE_RESOURCE); the principal goes to *ret_p when not NULL. On failure it
 * answers (401, 403) and returns < 0. */
int vtd_admin_check(struct vtd *s, struct vtd_request *req, int op, const char *repo,
                    struct vt_admin_principal *ret_p, struct vtd_response *res);

/* vtd_store_open opens the configured store back end (main.c): SQLite at store.sqlite, or
 * PostgreSQL at the DSN of store.dsn_file or VERITEE_PG_DSN. */
int vtd_store_open(const struct vt_config *c, struct vt_store **ret, struct vt_diag *d);

/* The ledger (ledger.c). vtd_ledger_init opens it (a store connection of its own, the
 * ledger key, the appender) and vtd_ledger_done closes it. vtd_ledger_record appends
 * entry (stolen; "kind", "time" and the request id are added) and returns once it is
 * durable; < 0 (logged) when it could not be: the caller must then not act on it. */
int vtd_ledger_init(struct vtd *s, struct vt_diag *d);
void vtd_ledger_done(struct vtd *s);
int vtd_ledger_record(struct vtd *s, struct vtd_request *req, const char *kind, json_t *entry);
/* vtd_ledger_record_flags: vtd_ledger_record with vt_ledger_append_flags' flags
 * (VT_LEDGER_DEFER_SYNC: returns once committed, synced within ledger.attest_sync_ms). */
int vtd_ledger_record_flags(struct vtd *s, struct vtd_request *req, const char *kind, json_t *entry,
                            unsigned flags);
/* vtd_ledger_record_mark: vtd_ledger_record_flags that marks a session attested in the
 * entry's transaction (vt_ledger_append_mark): mark->result is set when it returns 0 with
 * a ledger; without one (no entry recorded) mark is left as it was. */
int vtd_ledger_record_mark(struct vtd *s, struct vtd_request *req, const char *kind, json_t *entry,
                           unsigned flags, struct vt_store_session_mark *mark);
#define VTD_SHA256_TAG (7 + 64 + 1) /* "sha256:" and 64 hex digits */
/* vtd_sha256_tag writes "sha256:<hex>" of n bytes; vtd_json_digest that of the RFC 8785
 * form of v. */
void vtd_sha256_tag(const void *p, size_t n, char out[static VTD_SHA256_TAG]);
/* vtd_sha256_tag_of writes the tag of a SHA-256 digest h already computed. */
void vtd_sha256_tag_of(const uint8_t h[static 32], char out[static VTD_SHA256_TAG]);
int vtd_json_digest(const json_t *v, char out[static VTD_SHA256_TAG]);
/* vtd_json_digest_spans: vtd_json_digest of a tree read by vt_json_parse_spans into spans and
 * unchanged since (its canonical arrays copied, not walked). */
int vtd_json_digest_spans(const json_t *v, const struct vt_json_spans *spans,
                          char out[static VTD_SHA256_TAG]);
/* vtd_ledger_reader says whether the request may read the ledger (API and page): anyone
 * with ledger.public, else an admin token of any role; otherwise it answers (404, 401,
 * 403). */
bool vtd_ledger_reader(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_ledger_api_sth(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_ledger_api_sths(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_ledger_api_entries(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_ledger_api_receipt(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_ledger_api_consistency(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_ledger_api_jwks(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
/* vtd_ledger_page answers GET /ledger/ with the auditors' HTML page (ledger_page.c): the
 * latest tree head, filters, entries and their receipts' verdicts; authorized like the API. */
void vtd_ledger_page(struct vtd *s, struct vtd_request *req, struct vtd_response *res);

/* vtd_repo_of copies the repository of a resource path (its first segment) into out,
 * whole; a name over VT_REPO_NAME_MAX bytes is answered with 400 and gives false. */
bool vtd_repo_of(struct vtd_request *req, const char *path, char out[VT_REPO_NAME_MAX + 1],
                 struct vtd_response *res);

/* The KEKs (kek.c, lib/store/keyring.h). vtd_kek_init makes the keyring and resumes or
 * rolls back an interrupted rotation (after the store is open). vtd_kek_put seals under
 * the store's current KEK and writes the secret (and policy, when not NULL, in the same
 * transaction), sealing again if a rotation commits in between. vtd_kek_unseal unseals
 * a row read from the store, reading it again once if its KEK was retired meanwhile.
 * Thread-safe. */
int vtd_kek_init(struct vtd *s, struct vt_diag *d);
int vtd_kek_put(struct vtd *s, const char *path, const uint8_t *secret, size_t len,
                const char *policy, struct vt_diag *d);
/* vtd_kek_put_batch: vtd_kek_put of n secrets in one store transaction
 * (vt_keyring_put_batch; the items' ciphertexts are freed with vt_keyring_items_clear). */
struct vt_keyring_item;
int vtd_kek_put_batch(struct vtd *s, struct vt_keyring_item *items, size_t n, size_t *ret_bad,
                      struct vt_diag *d);
int vtd_kek_unseal(struct vtd *s, const char *kek_id, const char *path, const uint8_t *wdek,
                   size_t wl, const uint8_t *ct, size_t cl, uint8_t **ret, size_t *ret_len,
                   struct vt_diag *d);

/* Well-known documents and probes (wellknown.c). */
#define VTD_URL_MAX 320
/* vtd_public_base writes the URL clients reach us at: public_url, else
 * http(s)://LISTEN-HOST:PORT with port the port actually bound (https with TLS). */
void vtd_public_base(const struct vtd *s, unsigned port, char out[static VTD_URL_MAX]);
/* vtd_issuer returns the tokens' iss and the discovery issuer: token.issuer, else the
 * public base (written into buf). The same for every request: never from its headers. */
const char *vtd_issuer(const struct vtd *s, unsigned port, char buf[static VTD_URL_MAX]);
/* vtd_jwks_build makes s->jwks: the signing key, token.next_signing_key (made 0600 when
 * absent) and token.retired_keys, each kid once; and s->jwks_cache. */
int vtd_jwks_build(struct vtd *s, struct vt_diag *d);
void vtd_jwks(struct vtd *s, struct vtd_response *res);
/* vtd_oidc answers the discovery document; forwarded (NULL: none) is the base URL a
 * trusted proxy named (X-Forwarded-Proto/-Host, http.c), used for jwks_uri only. */
void vtd_oidc(struct vtd *s, unsigned port, const char *forwarded, struct vtd_response *res);
void vtd_metrics_text(struct vtd *s, struct vtd_response *res);
void vtd_count_verification(struct vtd *s, const char *tee, const char *verdict);
void vtd_metrics_count_request(struct vtd *s, enum vtd_route r, unsigned status, uint64_t dur_us);

/* The Kubernetes admission webhook (webhook.c). vtd_webhook_init reads
 * kubernetes.tolerations into s->k8s_tolerations (a refusal names the entry); freed by
 * json_decref. The handlers answer POST /k8s/mutate (a JSONPatch that adds the init
 * container, the secrets volume, node affinity, runtime class and tolerations to pods
 * annotated veritee.io/secrets) and POST /k8s/validate (refuses such pods that could land
 * on a node without the confidential label); 404 unless kubernetes.webhook. Thread-safe. */
int vtd_webhook_init(struct vtd *s, struct vt_diag *d);
void vtd_webhook_mutate(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_webhook_validate(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
/* The Azure-compatible API (azure_api.c), routed only with azure.enabled.
 * vtd_azure_init loads or makes azure.signing_key (RSA-2048 and a self-signed certificate
 * for x5c); vtd_azure_done frees it. */
struct vtd_azure;
int vtd_azure_init(struct vtd *s, struct vt_diag *d);
void vtd_azure_done(struct vtd *s);
/* POST /attest/{SgxEnclave,OpenEnclave,SevSnpVm,TdxVm}: evidence through vt_attest, an
 * RS256 token with Azure's claims. GET /certs: the JWKS with x5c. */
void vtd_azure_attest(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_azure_certs(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
/* vtd_azure_public_jwk is the public JWK (with x5c) of azure.signing_key, borrowed, or NULL
 * when the Azure API is off; /.well-known/jwks.json publishes it beside the ES256 keys. */
const json_t *vtd_azure_public_jwk(const struct vtd *s);
/* vtd_azure_sign signs claims RS256 with azure.signing_key under the header {alg, kid, typ
 * (when typ is not NULL), x5c (when x5c)} into *ret (malloc'd). */
int vtd_azure_sign(struct vtd *s, const json_t *claims, const char *typ, bool x5c, char **ret);
/* vtd_azure_verify_token verifies a token of this server's Azure API (RS256 under its kid,
 * iss the server's issuer) or of an authority of azure.trusted_authorities (RS256 under one
 * of its kids, from its JWKS file or fetched from it and cached, iss that authority), and
 * exp/nbf/iat, and returns its claims in *ret; VT_E_NETWORK when the keys of the token's
 * authority cannot be fetched;
 * VT_E_SIGNATURE, VT_E_FORMAT, VT_E_EXPIRED, VT_E_POLICY with "target: ..." in d. */
int vtd_azure_verify_token(struct vtd *s, unsigned port, const char *token, json_t **ret,
                           struct vt_diag *d);
/* Secure key release (azure_keys.c): POST /keys/{name}/create, PUT /keys/{name},
 * POST /keys/{name}[/{version}]/release, with Key Vault's bearer challenge. */
void vtd_azure_keys(struct vtd *s, struct vtd_request *req, struct vtd_response *res);

/* Reference values (refvals.c): the file plus the stored entries. */
int vtd_refvals_load(const char *path, struct vt_store *store, struct vtd_refvals **ret,
                     struct vt_diag *d);
void vtd_refvals_free(struct vtd_refvals *r);
/* vtd_refvals_file_list appends the entries of the reference-value file at path (NULL:
 * none) to out as {id "file:<tee>", tee, value, source "configuration"}. */
int vtd_refvals_file_list(const char *path, json_t *out, struct vt_diag *d);
/* vtd_refvals_current returns the current set (a reference: vt_refvals_unref it), after
 * reloading it when the stored ones changed; NULL: none. Thread-safe. */
struct vt_refvals *vtd_refvals_current(struct vtd *s);

#endif
