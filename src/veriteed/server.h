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
#include "config.h"
#include "store/store.h"
#include "token/ear.h"
#include "token/jwt.h"
#include "veritee/dcap.h"
#include "veritee/snp.h"

struct vtd_refvals; /* per-tee reference values (appraisal) */
struct vt_keyring;
struct vt_admin_keys;

/* Routes, for metrics and logs. */
enum vtd_route {
        ROUTE_AUTH,
        ROUTE_ATTEST,
        ROUTE_JWKS,
        ROUTE_OIDC,
        ROUTE_HEALTHZ,
        ROUTE_READYZ,
        ROUTE_METRICS,
        ROUTE_RESOURCE,
        ROUTE_RESOURCE_POLICY,
        ROUTE_RESOURCES,
        ROUTE_REFVAL,
        ROUTE_OTHER,
        _ROUTE_MAX,
};

#define VTD_N_STATUS  11
#define VTD_N_BUCKETS 12
#define VTD_N_TEES    (VT_ATTEST_N_TEES + 1) /* lib/attest's tees, and "other" */
#define VTD_N_VERDICT 4

struct vtd_metrics {
        atomic_ulong requests[_ROUTE_MAX][VTD_N_STATUS];
        atomic_ulong verifications[VTD_N_TEES][VTD_N_VERDICT];
        atomic_ulong latency_bucket[VTD_N_BUCKETS]; /* cumulative counts are computed on output */
        atomic_ulong latency_count;
        atomic_ullong latency_sum_us;
};

struct vtd {
        struct vtd_config cfg;
        struct vt_store *store;
        struct vt_signer *signer;
        struct vt_snp_verifier *snp_hw;  /* AMD roots only */
        struct vt_snp_verifier *snp_sim; /* AMD roots + the simulator root, if configured */
        struct vt_dcap_verifier *dcap;   /* Intel root; collateral from the PCCS */
        struct vtd_refvals *refvals;
        struct vt_keyring *kek;      /* NULL: no resource storage */
        struct vt_admin_keys *admin; /* NULL: no admin API */
        json_t *token_jwks;          /* keys that verify bearer tokens: ours + configured */
        struct vtd_metrics metrics;
        atomic_ulong sessions_open_estimate;
        sem_t verify; /* limits.threads: evidence verified at once */
        int64_t started;
};

/* The per-request record: filled by handlers, logged once when the request ends. */
struct vtd_request {
        char id[17];
        char client[48]; /* the client's address (IPv6: its /64), for per-client limits */
        enum vtd_route route;
        char method[8];
        uint64_t start_us;
        unsigned status;
        char tee[24];
        char verdict[24];
        char reason[384];
        /* body */
        uint8_t *body;
        size_t body_len;
        bool body_too_big;
        bool started;
        /* the raw URI, before libmicrohttpd decodes it (http.c uri_log) */
        size_t raw_uri_len;
        bool raw_uri_hides; /* %00 anywhere, or %2F in the path */
};

/* A response: status, body and headers (owned). */
struct vtd_response {
        unsigned status;
        char *body;
        const char *content_type;
        char *set_cookie;
        unsigned retry_after;
};

/* vtd_problem fills an RFC 7807 error response ("type" under Trustee's error URL
 * prefix, "detail") and records reason for the log. */
void vtd_problem(struct vtd_response *res, struct vtd_request *req, unsigned status,
                 const char *variant, const char *detail_fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* vtd_json_response serialises obj (stolen) as the body. */
void vtd_json_response(struct vtd_response *res, unsigned status, json_t *obj);

/* KBS attestation half (kbs.c). cookie may be NULL. */
void vtd_kbs_auth(struct vtd *s, struct vtd_request *req, struct vtd_response *res);
void vtd_kbs_attest(struct vtd *s, struct vtd_request *req, const char *cookie,
                    struct vtd_response *res);

/* Resources and the admin API (resource.c). */
void vtd_resource_get(struct vtd *s, struct vtd_request *req, const char *path, const char *authz,
                      const char *cookie, struct vtd_response *res);
void vtd_admin_resource(struct vtd *s, struct vtd_request *req, const char *method,
                        const char *path, const char *authz, struct vtd_response *res);
void vtd_admin_policy(struct vtd *s, struct vtd_request *req, const char *method, const char *path,
                      const char *authz, struct vtd_response *res);
void vtd_admin_list(struct vtd *s, struct vtd_request *req, const char *repo, const char *authz,
                    struct vtd_response *res);
void vtd_admin_refval(struct vtd *s, struct vtd_request *req, const char *method, const char *id,
                      const char *authz, struct vtd_response *res);
/* The KEKs (kek.c, lib/store/keyring.h). vtd_kek_init makes the keyring and resumes or
 * rolls back an interrupted rotation (after the store is open). vtd_kek_put seals under
 * the store's current KEK and writes the secret (and policy, when not NULL, in the same
 * transaction), sealing again if a rotation commits in between. vtd_kek_unseal unseals
 * a row read from the store, reading it again once if its KEK was retired meanwhile.
 * Thread-safe. */
int vtd_kek_init(struct vtd *s, struct vt_diag *d);
int vtd_kek_put(struct vtd *s, const char *path, const uint8_t *secret, size_t len,
                const char *policy, struct vt_diag *d);
int vtd_kek_unseal(struct vtd *s, const char *kek_id, const char *path, const uint8_t *wdek,
                   size_t wl, const uint8_t *ct, size_t cl, uint8_t **ret, size_t *ret_len,
                   struct vt_diag *d);
void vtd_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Well-known documents and probes (wellknown.c). vtd_oidc builds jwks_uri from
 * public_url, else from listen with port, the port actually bound. */
void vtd_jwks(struct vtd *s, struct vtd_response *res);
void vtd_oidc(struct vtd *s, unsigned port, struct vtd_response *res);
void vtd_metrics_text(struct vtd *s, struct vtd_response *res);
void vtd_count_verification(struct vtd *s, const char *tee, const char *verdict);
void vtd_metrics_count_request(struct vtd *s, enum vtd_route r, unsigned status, uint64_t dur_us);

/* Reference values (refvals.c): the file plus the stored entries. */
int vtd_refvals_load(const char *path, struct vt_store *store, struct vtd_refvals **ret,
                     struct vt_diag *d);
void vtd_refvals_free(struct vtd_refvals *r);
bool vtd_refval_tee_known(const char *tee);
/* vtd_refvals_current returns the current set (a reference: vt_refvals_unref it), after
 * reloading it when the stored ones changed; NULL: none. Thread-safe. */
struct vt_refvals *vtd_refvals_current(struct vtd *s);

/* vtd_now returns the wall-clock time in seconds. */
int64_t vtd_now(void);

#endif
