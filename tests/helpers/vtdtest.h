/* SPDX-License-Identifier: Apache-2.0 */
/* Integration-test helpers: a real veriteed on 127.0.0.1, HTTP requests, KBS handshakes
 * with simulator evidence. Each test binary sets vtt_dir (its temporary directory) and
 * vtt_simdir (a simulator made there) before using them. */
#ifndef VT_TEST_VTDTEST_H
#define VT_TEST_VTDTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "veritee/sim.h"

struct server {
        pid_t pid;
        char log[512];
        char url[64];
};

struct http {
        char *body;
        size_t len;
        char cookie[128];
        char request_id[24]; /* the X-Request-Id of the answer */
        long status;
};

extern char vtt_dir[256], vtt_simdir[300];

/* vtt_setup_sim starts an integration test: curl's global state, a fresh vtt_dir
 * ($TMPDIR/veritee-NAME-XXXXXX), a simulator in vtt_simdir and, if ret_guest is not NULL,
 * its guest. Returns 0, or -1 after saying why on stderr. */
int vtt_setup_sim(const char *name, struct vt_sim_guest *ret_guest);
const char *bin(const char *name);
void write_text(const char *path, const char *text);
char *slurp(const char *path);
/* server_start writes DIR/NAME.yaml, starts veriteed with its log in DIR/NAME.log and
 * waits for its "listening on" line; server_stop_all stops every server started. */
void server_start(struct server *s, const char *name, const char *config);
void server_stop(struct server *s);
void server_stop_all(void);
bool log_has(const struct server *s, const char *needle);
/* request: body NULL means GET; authz is a full header value or NULL. */
struct http request_full(const struct server *s, const char *method, const char *path,
                         const char *body, size_t body_len, const char *cookie, const char *authz);
/* try_request_full: the same from any thread, asserting nothing (status 0: no answer
 * within 10 s, e.g. the server is gone). */
struct http try_request_full(const struct server *s, const char *method, const char *path,
                             const char *body, size_t body_len, const char *cookie,
                             const char *authz);
struct http request(const struct server *s, const char *path, const char *body, size_t body_len,
                    const char *cookie);
struct http post(const struct server *s, const char *path, const char *body, const char *cookie);
char *auth(const struct server *s, const char *tee, char cookie[128]);
/* try_auth: the same from any thread, asserting nothing: NULL when no good answer came. */
char *try_auth(const struct server *s, const char *tee, char cookie[128]);
/* new_jwk makes a P-256 key; its private key goes to *ret_key when ret_key is non-NULL. */
json_t *new_jwk_key(void **ret_key);
json_t *new_jwk(void);
char *attest_body(const char *nonce, const struct vt_sim_guest *g, json_t *bind_jwk,
                  json_t *send_jwk);
/* attest_body_additional: the same with tee-evidence.additional_evidence (a JSON text, or
 * ""), which the CPU report data then binds. */
char *attest_body_additional(const char *nonce, const struct vt_sim_guest *g, json_t *bind_jwk,
                             json_t *send_jwk, const char *additional);
/* attest_token runs auth+attest with guest g and jwk and returns the token (malloc'd). */
char *attest_token(const struct server *s, const struct vt_sim_guest *g, json_t *jwk);

/* try_get GETs path from s with the Authorization header value authz, from any thread
 * (it asserts nothing): returns the status, 0 when no answer came within 10 s (the server
 * is gone), and the X-Request-Id of the answer in rid ("" when none). */
long try_get(const struct server *s, const char *path, const char *authz, char rid[24]);

/* ledger_audit reads the whole ledger of s through its API (authz: a full header value,
 * or NULL with ledger.public), audits it (every tree head's signature with the server's
 * ledger key, the recomputed tree against each) and returns its entries (a new array);
 * the test fails when the audit does. The ledger's JWKS goes to *ret_jwks if not NULL. */
json_t *ledger_audit(const struct server *s, const char *authz, json_t **ret_jwks);
/* ledger_find returns the entry of kind recorded for request request_id, or NULL. */
const json_t *ledger_find(const json_t *entries, const char *kind, const char *request_id);

#endif
