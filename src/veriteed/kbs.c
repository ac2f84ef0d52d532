/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
/*
 * The attestation half of the KBS protocol 0.4.0 (Trustee wire format):
 *   POST /kbs/v0/auth    {"version","tee","extra-params"} -> {"nonce","extra-params"} + cookie
 *   POST /kbs/v0/attest  {"runtime-data","tee-evidence","init-data"?} -> {"token"}
 * The broker only ever handles verified claims: evidence is verified and appraised by
 * libveritee, and what reaches the token is the verified report's claims.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "crypto/digest.h"
#include "crypto/jwk.h"
#include "kbs/rcar.h"
#include "kbs/request.h"
#include "ledger/ledger.h"
#include "server.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/jcs.h"
#include "util/json.h"

#define KBS_PROTOCOL_VERSION VT_KBS_PROTOCOL_VERSION

/* What vt_attest needs from this server. */
static struct vt_attest_ctx attest_ctx(const struct vtd *s)
{
        return (struct vt_attest_ctx){
                .snp_hw = s->snp_hw,
                .snp_sim = s->snp_sim,
                .dcap = s->dcap,
                .tpm_aks = s->cfg.tpm_aks,
                .allow_sample = s->cfg.allow_sample,
                .min_tier = s->cfg.min_status,
                .nvidia = s->nvidia,
                .now = vtd_now(),
        };
}

static void copy_str(char *dst, size_t cap, const char *src)
{
        size_t i = 0;
        for (; src && src[i] && i + 1 < cap; i++)
                dst[i] = src[i];
        dst[i] = 0;
}

/* parse_body reads the request's body, recording its canonical arrays in spans (may be
 * NULL), or answers 400 and returns NULL. */
static json_t *parse_body(struct vtd_request *req, struct vt_json_spans *spans,
                          struct vtd_response *res)
{
        struct vt_diag d = {0};
        json_t *j = NULL;
        if (vt_kbs_body_parse_spans(req->body, req->body_len, &j, spans, &d) < 0) {
                vtd_problem(res, req, 400, "SerdeError", "Serialize/Deserialize failed: %s", d.msg);
                return NULL;
        }
        return j;
}

static void http_date(int64_t t, char *buf, size_t cap)
{
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Sets the kbs-session-id cookie for session id, expiring at expires (seconds since the epoch).
 * No Path attribute, as Trustee (kbs/src/attestation/session.rs): the guest's cookie jar then
 * scopes it to the directory of the request (RFC 6265 5.1.4), {prefix}/kbs/v0, so a guest
 * whose KBS URL has a path prefix (a reverse proxy, an ingress path) sends it back. */
static void set_session_cookie(const struct vtd *s, const char *id, int64_t expires,
                               struct vtd_response *res)
{
        char date[64];
        http_date(expires, date, sizeof(date));
        if (asprintf(&res->set_cookie, "kbs-session-id=%s; Expires=%s; HttpOnly%s", id, date,
                     s->cfg.tls_certificate ? "; Secure" : "") < 0)
                res->set_cookie = NULL;
}

void vtd_kbs_auth(struct vtd *s, struct vtd_request *req, struct vtd_response *res)
{
        json_auto_t *body = parse_body(req, NULL, res);
        if (!body)
                return;
        struct vt_kbs_auth a;
        vt_kbs_auth_read(body, &a);
        const char *version = a.version, *tee = a.tee;
        copy_str(req->tee, sizeof(req->tee), tee);
        if (!vt_kbs_version_ok(version)) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Auth failed: KBS Client Protocol "
                            "Version Mismatch: "
                            "expected =%s, got %.32s",
                            KBS_PROTOCOL_VERSION, version ? version : "(none)");
                return;
        }
        if (!vt_attest_tee_known(tee)) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Auth failed: unknown tee \"%.24s\"",
                            tee ? tee : "");
                return;
        }
        const struct vt_attest_ctx ctx = attest_ctx(s);
        const char *hint = "";
        if (!vt_attest_tee_accepted(&ctx, tee, &hint)) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Auth failed: tee \"%s\" is not "
                            "accepted by this "
                            "server%s",
                            tee, hint);
                return;
        }
        /* the session id (16 bytes) and the challenge (32) from one draw of the DRBG */
        uint8_t rnd[16 + 32], *id = rnd, *nonce = rnd + 16;
        struct vt_session sess = {0};
        _cleanup_free_ char *nonce64 = NULL;
        if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
            vt_b64_encode(nonce, 32, VT_B64_STD, &nonce64) < 0) {
                vtd_problem(res, req, 500, "InternalError", "cannot create a session");
                return;
        }
        vt_hex_encode(id, 16, sess.id);
        copy_str(sess.tee, sizeof(sess.tee), tee);
        copy_str(sess.nonce, sizeof(sess.nonce), nonce64);
        copy_str(sess.client, sizeof(sess.client), req->client);
        int64_t now = vtd_now();
        sess.created = now;
        /* an unused challenge lives briefly: anyone may ask for one, and until it is used
         * it holds a place under limits.max_sessions */
        sess.expires = now + (s->cfg.unattested_ttl < s->cfg.session_ttl ? s->cfg.unattested_ttl
                                                                         : s->cfg.session_ttl);
        sess.state = VT_SESSION_AUTHED;
        struct vt_diag sd = {0};
        int e = vt_store_session_open(s->store, &sess, now, s->cfg.max_sessions,
                                      s->cfg.max_sessions_per_client, &sd);
        if (e == VT_E_LIMIT) {
                res->retry_after = 5;
                vtd_problem(res, req, 429, "TooManySessions", "%s; retry later", sd.msg);
                return;
        }
        if (e < 0) {
                vtd_problem(res, req, 503, "StoreError", "the session store is unavailable");
                return;
        }
        set_session_cookie(s, sess.id, sess.expires, res);
        vtd_json_response(res, 200, json_pack("{s:s, s:s}", "nonce", nonce64, "extra-params", ""));
}

/* Looks up the cookie's session into *sess (naming its tee in req); on failure answers the
 * request and returns -1. */
static int attest_session(struct vtd *s, struct vtd_request *req, const char *cookie, int64_t now,
                          struct vt_session *sess, struct vtd_response *res)
{
        if (!cookie || strlen(cookie) != 32) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: no kbs-session-id "
                            "cookie");
                return -1;
        }
        int e = vt_store_session_get(s->store, cookie, now, sess, NULL);
        if (e == 0 || e == VT_E_EXPIRED)
                copy_str(req->tee, sizeof(req->tee), sess->tee);
        if (e == VT_E_NOTFOUND || e == VT_E_EXPIRED) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: session %s",
                            e == VT_E_EXPIRED ? "expired" : "not found");
                return -1;
        }
        if (e < 0) {
                vtd_problem(res, req, 503, "StoreError", "the session store is unavailable");
                return -1;
        }
        return 0;
}

/* Reads the attest body's fields into *ab and holds them to their shape, the evidence size
 * limit and a usable tee-pubkey (vt_kbs_attest_read); on failure answers the request and
 * returns -1. */
static int attest_read_body(const struct vtd *s, struct vtd_request *req, json_t *body,
                            struct vt_kbs_attest *ab, struct vtd_response *res)
{
        struct vt_diag d = {0};
        int e = vt_kbs_attest_read(body, req->body, req->body_len, s->cfg.max_evidence, ab, &d);
        if (e == VT_E_FORMAT)
                vtd_problem(res, req, 400, "SerdeError", "Serialize/Deserialize failed: %s", d.msg);
        else if (e == VT_E_LIMIT)
                vtd_problem(res, req, 413, "PayloadTooLarge", "%s", d.msg);
        else if (e < 0)
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: %s", d.msg);
        return e < 0 ? -1 : 0;
}

/* The answer to a claim of the session's nonce that failed with e (VT_E_*). */
static void claim_refused(struct vtd_request *req, int e, struct vtd_response *res)
{
        const char *why = e == VT_E_BINDING    ? "nonce does not match the session's challenge"
                          : e == VT_E_REPLAY   ? "nonce already used"
                          : e == VT_E_EXPIRED  ? "session expired"
                          : e == VT_E_NOTFOUND ? "session not found"
                                               : "session store unavailable";
        vtd_problem(res, req, e == VT_E_STORE ? 503 : 401, "AttestationError",
                    "Attestation error: RCAR handshake Attest failed: %s", why);
}

/* Attestations in progress in this process, by session id. The nonce is claimed in the
 * store together with marking the session attested, once the evidence is verified (one
 * write per attestation, not two); until then this table keeps a second request with
 * the same session from being verified beside the first. Across replicas the store's
 * single UPDATE still lets exactly one of them through; each of the others costs at most
 * one verification before it is refused. */
#define INFLIGHT_BUCKETS 256
struct inflight {
        struct inflight *next;
        const char *id;
};
static struct inflight *inflight[INFLIGHT_BUCKETS];
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t inflight_bucket(const char *id)
{
        uint32_t h = 2166136261u; /* FNV-1a: only spreads the buckets */
        for (; *id; id++)
                h = (h ^ (uint8_t)*id) * 16777619u;
        return h % INFLIGHT_BUCKETS;
}

/* Enters me for session id; false when an attestation of that session is in progress. */
static bool inflight_enter(struct inflight *me, const char *id)
{
        struct inflight **b = &inflight[inflight_bucket(id)];
        bool ok = true;
        pthread_mutex_lock(&inflight_lock);
        for (struct inflight *i = *b; i && ok; i = i->next)
                ok = strcmp(i->id, id) != 0;
        if (ok) {
                *me = (struct inflight){.next = *b, .id = id};
                *b = me;
        }
        pthread_mutex_unlock(&inflight_lock);
        return ok;
}

static void inflight_leave(struct inflight *me)
{
        pthread_mutex_lock(&inflight_lock);
        for (struct inflight **i = &inflight[inflight_bucket(me->id)]; *i; i = &(*i)->next)
                if (*i == me) {
                        *i = me->next;
                        break;
                }
        pthread_mutex_unlock(&inflight_lock);
}

/* Holds the attest to the session's single-use nonce before any verification work: the
 * nonce against the session's challenge (in constant time), and the session unused (read
 * after the attestation entered the table of those in progress, so that one that went
 * through before it is seen). On failure answers the request and returns -1. */
static int attest_nonce(struct vtd_request *req, const struct vt_session *sess, const char *nonce,
                        struct vtd_response *res)
{
        int e = !vt_kbs_nonce_equal(sess->nonce, nonce) ? VT_E_BINDING
                : sess->state != VT_SESSION_AUTHED      ? VT_E_REPLAY
                                                        : 0;
        if (e < 0) {
                claim_refused(req, e, res);
                return -1;
        }
        return 0;
}

static bool is_dev_sample(const struct vtd *s, const char *tee)
{
        return s->cfg.allow_sample && strcmp(tee, "sample") == 0;
}

/* Verifies and appraises the evidence against the runtime-data binding (written to expected),
 * counts the verdict and accepts only what meets cfg.min_status; on failure answers the
 * request and returns -1. spans: the body's byte arrays. The caller frees *ver either way. */
static int attest_verify(struct vtd *s, struct vtd_request *req, const struct vt_session *sess,
                         const struct vt_kbs_attest *ab, const struct vt_json_spans *spans,
                         uint8_t expected[64], struct vt_attest_result *ver,
                         struct vtd_response *res)
{
        struct vt_diag d = {0};
        uint8_t digest[48];

        /* the client's JWK or additional evidence that JCS cannot take: its fault, and a
         * 401 as Trustee answers every attest failure (a stock guest runs RCAR again) */
        if (vt_kbs_runtime_binding(ab->nonce, ab->jwk, ab->additional, digest) < 0) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: cannot compute the "
                            "runtime-data binding (JCS) of tee-pubkey and additional_evidence");
                return -1;
        }
        memcpy(expected, digest, 48);
        /* at most limits.threads verifications at once (CPU, and KDS/PCCS fetches, which
         * are bounded below that); the others wait their turn on their own connection */
        while (sem_wait(&s->verify) < 0)
                ;
        struct vt_refvals *refvals = vtd_refvals_current(s);
        struct vt_attest_ctx ctx = attest_ctx(s);
        ctx.client = req->client;
        ctx.refvals = refvals;
        ctx.spans = spans;
        int e = vt_attest(&ctx, sess->tee, ab->primary, expected, ab->init, ver, &d);
        vt_refvals_unref(refvals);
        sem_post(&s->verify);
        if (e < 0) {
                vtd_count_verification(s, sess->tee, "rejected");
                copy_str(req->verdict, sizeof(req->verdict), "rejected");
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: %s",
                            d.msg[0] ? d.msg : vt_strerror(e));
                return -1;
        }
        enum vt_ear_status st = vt_ear_status_of(&ver->tv);
        vtd_count_verification(s, sess->tee, vt_ear_status_name(st));
        copy_str(req->verdict, sizeof(req->verdict), vt_ear_status_name(st));
        /* attestation.allow_sample (development): a sample guest goes through whatever its
         * (never affirming) status, so that CoCo's and Trustee's smoke tests can run; its
         * token says veritee.sample=true and release policies decide */
        if (is_dev_sample(s, sess->tee) && st != VT_EAR_NONE) {
                vtd_log("warning",
                        "DEVELOPMENT ONLY: unsigned tee \"sample\" evidence from %s let through "
                        "(attestation.allow_sample), appraisal %s",
                        req->client, vt_ear_status_name(st));
                return 0;
        }
        if (st == VT_EAR_NONE || (enum vt_ar4si_tier)st > s->cfg.min_status) {
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: appraisal %s: %s",
                            vt_ear_status_name(st),
                            ver->appraisal.msg[0] ? ver->appraisal.msg : "not affirming");
                return -1;
        }
        return 0;
}

/* Verifies the additional (device) evidence against the device binding of the runtime data
 * (composite attestation, docs/nvidia.md) into *devs; on failure answers the request
 * (401, naming the device and the check) and returns -1. The caller frees *devs either way. */
static int attest_devices(struct vtd *s, struct vtd_request *req, const struct vt_kbs_attest *ab,
                          struct vt_attest_devices *devs, struct vtd_response *res)
{
        struct vt_diag d = {0};
        uint8_t digest[48];
        if (!ab->additional[0])
                return 0;
        if (vt_kbs_device_binding(ab->nonce, ab->jwk, digest) < 0) {
                vtd_problem(res, req, 500, "InternalError", "cannot compute the device binding");
                return -1;
        }
        while (sem_wait(&s->verify) < 0)
                ;
        struct vt_attest_ctx ctx = attest_ctx(s);
        ctx.client = req->client;
        int e = vt_attest_devices(&ctx, ab->additional, digest, ctx.now, devs, &d);
        sem_post(&s->verify);
        if (e < 0) {
                copy_str(req->verdict, sizeof(req->verdict), "rejected");
                vtd_problem(res, req, 401, "AttestationError",
                            "Attestation error: RCAR handshake Attest failed: %s",
                            d.msg[0] ? d.msg : vt_strerror(e));
                return -1;
        }
        return 0;
}

/* The devices as the token's extra submodules (borrowing from devs). */
static size_t devices_submods(const struct vt_attest_devices *devs, struct vt_ear_submod *out)
{
        for (size_t i = 0; i < devs->n; i++)
                out[i] = (struct vt_ear_submod){.name = devs->dev[i].name,
                                                .tee = devs->dev[i].tee,
                                                .claims = devs->dev[i].claims,
                                                .tv = &devs->dev[i].tv};
        return devs->n;
}

/* Builds the EAR claims for the verified result into *ret_claims, their JCS text into
 * *ret_jcs (NUL-terminated: the one serialisation of them, which the token carries and the
 * session keeps) and its SHA-256 into ret_digest (the issued-token cache's and the
 * ledger's claims_digest), and signs that text into *ret_token; on failure answers the
 * request and returns -1. */
static int attest_token(struct vtd *s, struct vtd_request *req, const struct vt_session *sess,
                        const struct vt_kbs_attest *ab, const uint8_t expected[64], int64_t now,
                        const struct vt_attest_result *ver, const struct vt_attest_devices *devs,
                        json_t **ret_claims, char **ret_jcs, uint8_t ret_digest[32],
                        char **ret_token, struct vtd_response *res)
{
        struct vt_ear_submod subs[VT_ATTEST_MAX_DEVICES];
        json_auto_t *rtc = json_pack("{s:s, s:O}", "nonce", ab->nonce, "tee-pubkey", ab->jwk);
        /* token.verbose false (Trustee's verbose_token=false): the raw additional evidence
         * stays out, so that tokens with many devices' evidence fit in a Bearer header */
        if (rtc && ab->additional[0] && s->cfg.token_verbose)
                json_object_set_new(rtc, "additional-evidence", json_string(ab->additional));
        char ib[VTD_URL_MAX];
        struct vt_ear_input in = {
                .issuer = vtd_issuer(s, req->port, ib),
                .audience = s->cfg.token_audience,
                .iat = now,
                .ttl = s->cfg.token_ttl,
                .policy_id = "default",
                .tee = sess->tee,
                .tee_claims = ver->tee_claims,
                .report_data = expected,
                .report_data_len = ver->report_data_len,
                .runtime_data = rtc,
                .init_data_hex = ver->init_data_hex,
                .init_data_claims = ver->init_data_claims,
                .tv = &ver->tv,
                .simulated = ver->simulated,
                .submods = subs,
                .n_submods = devices_submods(devs, subs),
        };
        json_auto_t *claims = vt_ear_claims(&in);
        json_t *cpu0 = json_object_get(json_object_get(claims, "submods"), "cpu0");
        if (cpu0 && is_dev_sample(s, sess->tee))
                json_object_set_new(cpu0, "veritee.sample", json_true());
        /* jti: the token's id, which the ledger's attestation and release entries give */
        uint8_t id[16];
        char jti[33];
        if (claims && RAND_bytes(id, sizeof(id)) == 1) {
                vt_hex_encode(id, sizeof(id), jti);
                json_object_set_new(claims, "jti", json_string(jti));
        }
        struct vt_diag sd = {0};
        _cleanup_free_ char *jcs = NULL;
        size_t jcs_len = 0;
        if (!claims || !json_object_get(claims, "jti") ||
            vt_jcs_serialize(claims, &jcs, &jcs_len) < 0 ||
            EVP_Digest(jcs, jcs_len, ret_digest, NULL, vt_sha256(), NULL) != 1 ||
            vt_jwt_sign_text_d(s->signer, jcs, jcs_len, ret_token, &sd) < 0) {
                ERR_clear_error();
                vtd_problem(res, req, 500, "InternalError", "cannot sign the attestation token");
                if (sd.msg[0]) /* the log's reason only: OpenSSL's is no business of the client */
                        snprintf(req->reason, sizeof(req->reason),
                                 "cannot sign the attestation token: %.300s", sd.msg);
                return -1;
        }
        /* its first fetch as a Bearer token then needs no signature check (ours, exact text),
         * nor the claims' canonical text again for the release's claims_digest. The cache
         * shares the claims: from here on nothing changes them (attest_record only reads) */
        vt_issued_put(s->issued, *ret_token, claims, ret_digest);
        *ret_claims = TAKE_PTR(claims);
        *ret_jcs = TAKE_PTR(jcs);
        return 0;
}

/* The mark that claims the session's nonce and marks the session attested with the
 * token's claims (for resources fetched with the cookie), in one write: made in the
 * transaction of the verdict's ledger entry (attest_record), or by itself without a
 * ledger (attest_marked). now is the request's start, as for every check of the session.
 * result 1: not made yet. */
static struct vt_store_session_mark attest_mark(const struct vtd *s, const struct vt_session *sess,
                                                const char *nonce, int64_t now,
                                                const char *claims_txt)
{
        /* it lives session.ttl_seconds, and never past the token's exp */
        int64_t expires = now + (s->cfg.token_ttl < s->cfg.session_ttl ? s->cfg.token_ttl
                                                                       : s->cfg.session_ttl);
        return (struct vt_store_session_mark){.id = sess->id,
                                              .nonce = nonce,
                                              .now = now,
                                              .claims_json = claims_txt,
                                              .expires = expires,
                                              .result = 1};
}

/* attest_marked makes the mark if the ledger did not, and renews the session's cookie; on
 * failure (another request used the nonce first: a replica, or a crash's survivor)
 * answers the request and returns -1. */
static int attest_marked(struct vtd *s, struct vtd_request *req, struct vt_store_session_mark *m,
                         struct vtd_response *res)
{
        int e = m->result;
        if (e > 0)
                e = vt_store_session_attest(s->store, m->id, m->nonce, m->now, m->claims_json,
                                            m->expires, NULL);
        if (e < 0) {
                claim_refused(req, e, res);
                return -1;
        }
        set_session_cookie(s, m->id, m->expires, res);
        return 0;
}

/* attest_record puts the verdict into the ledger: the tee, digests of the evidence (its
 * canonical arrays copied from the body: spans) and of the token's claims (claims_digest:
 * the SHA-256 of their JCS text, from attest_token), the AR4SI status, the token's id, or
 * why it was refused. */
static int attest_record(struct vtd *s, struct vtd_request *req, const struct vt_session *sess,
                         const struct vt_kbs_attest *ab, const struct vt_json_spans *spans,
                         const json_t *claims, const uint8_t claims_digest[32],
                         const struct vt_attest_devices *devs, struct vt_store_session_mark *mark)
{
        char ed[VTD_SHA256_TAG], cd[VTD_SHA256_TAG];
        if (vtd_json_digest_spans(ab->primary, spans, ed) < 0)
                return VT_E_NOMEM;
        if (claims)
                vtd_sha256_tag_of(claims_digest, cd);
        const char *jti = json_string_value(json_object_get(claims, "jti"));
        json_t *e = json_pack("{s:s, s:s, s:o, s:s, s:o}", "tee", sess->tee, "evidence_digest", ed,
                              "claims_digest", claims ? json_string(cd) : json_null(), "status",
                              req->verdict[0] ? req->verdict : "rejected", "token_id",
                              jti ? json_string(jti) : json_null());
        if (e && !claims)
                json_object_set_new(e, "reason", json_string(req->reason));
        if (e && claims && devs->n) { /* composite: each device's submodule and status */
                json_t *a = json_array();
                for (size_t i = 0; a && i < devs->n; i++)
                        json_array_append_new(
                                a,
                                json_pack("{s:s, s:s}", "name", devs->dev[i].name, "status",
                                          vt_ear_status_name(vt_ear_status_of(&devs->dev[i].tv))));
                json_object_set_new(e, "devices", a);
        }
        /* committed before the answer, synced within ledger.attest_sync_ms or with the
         * next release: a verdict releases nothing by itself. With mark, the session is
         * marked attested in the same transaction. */
        return vtd_ledger_record_mark(s, req, "attest", e, VT_LEDGER_DEFER_SYNC, mark);
}

static void attest(struct vtd *s, struct vtd_request *req, const char *cookie,
                   struct vtd_response *res)
{
        struct vt_session sess;
        struct vt_kbs_attest ab;
        struct vt_attest_result ver = {0};
        struct vt_attest_devices devs = {0};
        uint8_t expected[64] = {0};
        int64_t now = vtd_now();

        if (attest_session(s, req, cookie, now, &sess, res) < 0)
                return;
        /* the body's byte arrays, for the evidence's digest and its decoding; the body is
         * not changed */
        _cleanup_(vt_json_spans_done) struct vt_json_spans spans = {0};
        json_auto_t *body = parse_body(req, &spans, res);
        if (!body || attest_read_body(s, req, body, &ab, res) < 0)
                return;
        /* the nonce is single-use: held to it before doing any verification work */
        if (attest_nonce(req, &sess, ab.nonce, res) < 0)
                return;
        json_auto_t *claims = NULL;
        _cleanup_free_ char *token = NULL, *claims_jcs = NULL;
        uint8_t claims_digest[32];
        int ok = attest_verify(s, req, &sess, &ab, &spans, expected, &ver, res) == 0 &&
                 attest_devices(s, req, &ab, &devs, res) == 0 &&
                 attest_token(s, req, &sess, &ab, expected, now, &ver, &devs, &claims, &claims_jcs,
                              claims_digest, &token, res) == 0;
        /* The verdict is durable before the token leaves. Evidence that did not verify at
         * all (verdict "rejected": a bad signature, chain or format) is logged and counted
         * but not recorded: anyone can send it, one nonce after another, and recording it
         * would let them grow the ledger without bound. Verified evidence is recorded
         * whatever its appraisal. */
        bool verified = ok || strcmp(req->verdict, "rejected") != 0;
        /* the session marked with the entry, in its transaction (claims the store refuses,
         * above VT_STORE_MAX_JSON, are refused by the mark made alone, as they were) */
        struct vt_store_session_mark mark = attest_mark(s, &sess, ab.nonce, now, claims_jcs);
        bool with = ok && vt_store_session_mark_valid(&mark);
        if (verified &&
            attest_record(s, req, &sess, &ab, &spans, ok ? claims : NULL, claims_digest, &devs,
                          with ? &mark : NULL) < 0 &&
            ok) {
                vtd_problem(res, req, 503, "LedgerError",
                            "the attestation could not be recorded; retry");
                res->retry_after = 1;
                ok = 0;
        }
        /* The nonce is used either way: with the session marked attested, or, whatever
         * went wrong, claimed alone (a guest runs RCAR again with a new challenge). A crash
         * before either leaves it unused: no token was sent on its strength. */
        if (ok && attest_marked(s, req, &mark, res) == 0) {
                if (ver.simulated)
                        snprintf(req->reason, sizeof(req->reason),
                                 "simulated evidence (veritee simulator root)");
                vtd_json_member_response(res, 200, "token", token);
        } else if (!ok) {
                (void)vt_store_session_claim(s->store, sess.id, ab.nonce, now, NULL);
        }
        vt_attest_result_done(&ver);
        vt_attest_devices_done(&devs);
}

void vtd_kbs_attest(struct vtd *s, struct vtd_request *req, const char *cookie,
                    struct vtd_response *res)
{
        /* the session is read after this, and marked attested before it is left */
        struct inflight me;
        if (cookie && !inflight_enter(&me, cookie)) {
                claim_refused(req, VT_E_REPLAY, res);
                return;
        }
        attest(s, req, cookie, res);
        if (cookie)
                inflight_leave(&me);
}
