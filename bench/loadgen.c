/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loadgen: the load test of issue 16. Not veritee's agent: a client written from the wire
 * protocol, on libcurl and pthreads, that starts a real veriteed on 127.0.0.1 with the
 * default configuration (only what the simulator flow needs: the simulator's root and
 * reference values, a KEK and an admin key to store one secret) and runs rounds of
 * concurrent clients, each doing the full flow in a loop:
 *
 *   POST /kbs/v0/auth -> nonce; simulator evidence bound to that nonce and a TEE key (a
 *   fresh report signed by the simulator every time); POST /kbs/v0/attest -> token;
 *   GET /kbs/v0/resource/load/key/secret -> JWE; decrypt with the TEE key; compare.
 *
 * Precomputed, because it does not depend on the session: a pool of TEE keys (P-256, 8
 * per client, used in turn). Every client has its own source address (127.1.x.y), as
 * separate guests would: the server's per-address limits (max_connections_per_client 32,
 * max_sessions_per_client 64) stay at their defaults and apply per client.
 *
 *   loadgen [-s CLIENTSxSECONDS,...] [--rss-pct P] [--rss-mib M] [--keep]
 *           [--json FILE] [--sessions N] [--startup N] [--state DIR] [--config-add YAML]
 *           [--postgres]
 *
 * --state DIR runs the server on an existing state directory (bench/scale.sh fills one
 * with bench/scalefill): state_dir is DIR, and the KEK is DIR/kek when that file exists.
 * --config-add appends YAML lines to the configuration (e.g. "store:\n  sqlite_cache_mib:
 * 64"). Both are for the scale figures of issue 19; without them nothing changes.
 *
 * After each round (clients gone, connections closed) it reads the server's RSS, threads
 * and open descriptors (/proc/PID/status, /proc/PID/fd) and the size of the database and
 * its WAL, and prints one table row per round. It fails (exit 1) on any error, any wrong
 * plaintext, or growth between rounds of the same client count: idle threads and open
 * descriptors must come back to at most those after the first such round (waiting up to
 * 10 s for connection threads to finish), and idle RSS must stay within P percent plus M
 * MiB of it.
 *
 * --postgres: the same flow on two veriteed replicas sharing one PostgreSQL database
 * instead of one veriteed on SQLite. It starts a PostgreSQL server on 127.0.0.1 in a
 * temporary directory (tests/helpers/pgtest.c: the newest /usr/lib/postgresql/N/bin, or
 * VT_PG_BINDIR; exit 77 with "skipped: postgresql not installed" when there is none),
 * with fsync on (PostgreSQL's default, unlike the tests: every commit is durable, as the
 * SQLite store's ledger appends are; VT_PG_FSYNC=off in the environment measures without
 * it), and two replicas A and B on it (store.backend postgres, the DSN in a 0600
 * dsn_file) with what replicas share: one KEK file, one admin key, one token signing key
 * (a token of one is accepted by the other) and one ledger key; each has its own
 * state_dir. Sessions and nonces live in the database, so a
 * flow may cross replicas: each client alternates, flow after flow, auth and attest on
 * one replica and the resource (with the token the other issued) on the other, over one
 * kept-alive connection to each. Every release thus crosses replicas. Server CPU per
 * release is then that of both veriteed processes ("server_cpu_ms_per_release"), and of
 * the PostgreSQL server ("pg_cpu_ms_per_release": the postmaster and all its children,
 * with the children it reaped during the round, from /proc/PID/stat); RSS, threads and
 * descriptors (and the growth check) are replica A's, the database size PostgreSQL's.
 * --config-add goes to both replicas; --state does not apply.
 *
 * For make bench (bench/run.sh): --json FILE writes one JSON object per line to FILE: the
 * idle server ("op":"idle"), each round ("op":"flow_round": releases/s, p50/p99, the
 * server's CPU time per release from /proc/PID/stat, RSS after the round and its peak);
 * --sessions N first opens N sessions (POST /kbs/v0/auth only, 20 per source address
 * 127.2.x.y, left open) and reads the RSS ("op":"sessions"); --startup N, after the rounds,
 * stops the server and starts it N times on the same configuration and state, timing each
 * from posix_spawn until GET /readyz answers 200 (polled every millisecond), with its RSS
 * then ("op":"startup").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/jwe.h"
#include "crypto/seal.h"
#include "pgtest.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/hex.h"
#include "veritee/sim.h"
#include "vtdtest.h"

#define MAX_CLIENTS     250
#define MAX_ROUNDS      32
#define KEYS_PER_CLIENT 8
#define SECRET_PATH     "/kbs/v0/resource/load/key/secret"

static const char secret_value[] = "load-test secret: the plaintext every flow must get back";

struct tee_key {
        EVP_PKEY *pkey;
        json_t *jwk;
};

struct client {
        int id;
        atomic_bool *stop;
        struct tee_key keys[KEYS_PER_CLIENT];
        unsigned next_key;
        CURL *curl[2]; /* a kept-alive connection to each replica (one: [0]) */
        /* results of the current round */
        unsigned long flows, errors, wrong;
        double *lat_ms;
        size_t n_lat, cap_lat;
        char first_error[256];
};

struct round {
        unsigned clients, seconds;
        unsigned long flows, errors, wrong;
        double p50, p99, secs;
        long rss_kib, rss_peak_kib;
        long threads, threads_peak, fds, fds_peak;
        long long db, wal;
        double cpu_server, cpu_client; /* CPU seconds used during the round */
        double cpu_pg;                 /* --postgres: the PostgreSQL server's */
        char first_error[256];
};

extern char **environ;

static struct vt_sim_guest guest;
static struct server srv, srv_b; /* srv_b: replica B with --postgres */
static const struct server *replica[2] = {&srv, &srv};
static struct client clients[MAX_CLIENTS];
static const char *opt_state, *opt_config_add; /* --state, --config-add (NULL: none) */
static bool opt_pg;                            /* --postgres */
static struct vtt_pg *pg;
static pid_t pg_pid; /* the postmaster */
static char state_dir[512];

/* the body of a response */
struct buf {
        char *p;
        size_t len;
        char cookie[128];
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
        struct buf *b = ud;
        size_t add = sz * n;
        if (b->len + add > (4u << 20))
                return 0; /* a bound: no answer here is that large */
        char *q = realloc(b->p, b->len + add + 1);
        if (!q)
                return 0;
        b->p = q;
        memcpy(b->p + b->len, p, add);
        b->len += add;
        b->p[b->len] = 0;
        return add;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
        struct buf *b = ud;
        size_t len = sz * n;
        static const char key[] = "Set-Cookie: kbs-session-id=";
        if (len > sizeof(key) && strncasecmp(p, key, sizeof(key) - 1) == 0) {
                size_t i = 0;
                const char *v = p + sizeof(key) - 1;
                while (i + 1 < sizeof(b->cookie) && i < len - (sizeof(key) - 1) && v[i] != ';' &&
                       v[i] != '\r' && v[i] != '\n')
                        i++;
                memcpy(b->cookie, v, i);
                b->cookie[i] = 0;
        }
        return len;
}

static void fail_flow(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_flow(struct client *c, const char *fmt, ...)
{
        c->errors++;
        if (c->first_error[0])
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->first_error, sizeof(c->first_error), fmt, ap);
        va_end(ap);
}

/* One request on the client's kept-alive connection to replica r (0 or 1; always 0 without
 * --postgres): body NULL is a GET. Returns the status, 0 when no answer came. */
static long http(struct client *c, int r, const char *path, const char *body, const char *cookie,
                 const char *authz, struct buf *out)
{
        CURL *h = c->curl[r];
        char url[256], ck[160], *ah = NULL;
        long status = 0;
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        if (authz && asprintf(&ah, "Authorization: %s", authz) > 0)
                hdr = curl_slist_append(hdr, ah);
        snprintf(url, sizeof(url), "%s%s", replica[r]->url, path);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
        if (cookie) {
                snprintf(ck, sizeof(ck), "kbs-session-id=%s", cookie);
                curl_easy_setopt(h, CURLOPT_COOKIE, ck);
        } else {
                curl_easy_setopt(h, CURLOPT_COOKIE, NULL);
        }
        if (body) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        } else {
                curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        }
        CURLcode e = curl_easy_perform(h);
        if (e == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        else
                snprintf(out->cookie, sizeof(out->cookie), "curl: %s", curl_easy_strerror(e));
        curl_slist_free_all(hdr);
        free(ah);
        return status;
}

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One attest-and-fetch flow; counts an error or a wrong plaintext into c. With --postgres,
 * auth and attest on one replica, the resource on the other, in turn. */
static void flow(struct client *c)
{
        struct buf a = {0}, t = {0}, r = {0};
        char cookie[128], *nonce = NULL, *body = NULL, *authz = NULL;
        int x = opt_pg ? (int)((unsigned)c->id + c->next_key) % 2 : 0, y = opt_pg ? 1 - x : 0;
        struct tee_key *k = &c->keys[c->next_key++ % KEYS_PER_CLIENT];
        json_t *j = NULL;
        double t0 = now_ms();

        long st = http(c, x, "/kbs/v0/auth",
                       "{\"version\":\"0.4.0\",\"tee\":\"sim\",\"extra-params\":\"\"}", NULL, NULL,
                       &a);
        j = st == 200 ? json_loads(a.p, 0, NULL) : NULL;
        const char *n = json_string_value(json_object_get(j, "nonce"));
        if (!n || strlen(a.cookie) != 32) {
                fail_flow(c, "auth: status %ld %s", st, st ? (a.p ? a.p : "") : a.cookie);
                goto out;
        }
        nonce = strdup(n);
        memcpy(cookie, a.cookie, sizeof(cookie));
        json_decref(j);
        j = NULL;
        /* the simulator signs a fresh report bound to this nonce and key */
        body = attest_body(nonce, &guest, k->jwk, k->jwk);
        st = http(c, x, "/kbs/v0/attest", body, cookie, NULL, &t);
        j = st == 200 ? json_loads(t.p, 0, NULL) : NULL;
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (!tok || asprintf(&authz, "Bearer %s", tok) < 0) {
                authz = NULL;
                fail_flow(c, "attest: status %ld %s", st, st ? (t.p ? t.p : "") : t.cookie);
                goto out;
        }
        json_decref(j);
        j = NULL;
        st = http(c, y, SECRET_PATH, NULL, NULL, authz, &r);
        j = st == 200 ? json_loads(r.p, 0, NULL) : NULL;
        if (!j) {
                fail_flow(c, "resource: status %ld %s", st, st ? (r.p ? r.p : "") : r.cookie);
                goto out;
        }
        uint8_t *plain = NULL;
        size_t pl = 0;
        struct vt_diag d = {0};
        if (vt_jwe_decrypt(k->pkey, j, &plain, &pl, &d) < 0) {
                c->wrong++;
                fail_flow(c, "resource: JWE does not decrypt: %s", d.msg);
                goto out;
        }
        if (pl != strlen(secret_value) || memcmp(plain, secret_value, pl) != 0) {
                c->wrong++;
                fail_flow(c, "resource: wrong plaintext (%zu bytes)", pl);
        } else {
                c->flows++;
                if (c->n_lat == c->cap_lat) {
                        size_t cap = c->cap_lat ? 2 * c->cap_lat : 1024;
                        double *p = realloc(c->lat_ms, cap * sizeof(*p));
                        if (p) {
                                c->lat_ms = p;
                                c->cap_lat = cap;
                        }
                }
                if (c->n_lat < c->cap_lat)
                        c->lat_ms[c->n_lat++] = now_ms() - t0;
        }
        OPENSSL_clear_free(plain, pl);
out:
        json_decref(j);
        free(a.p);
        free(t.p);
        free(r.p);
        free(nonce);
        free(body);
        free(authz);
}

static void *client_main(void *arg)
{
        struct client *c = arg;
        char iface[48];
        /* its own loopback address: 127.1.0.1, 127.1.0.2, ... */
        snprintf(iface, sizeof(iface), "host!127.1.%d.%d", c->id / 250, c->id % 250 + 1);
        for (int r = 0; r < (opt_pg ? 2 : 1); r++) {
                c->curl[r] = curl_easy_init();
                if (!c->curl[r]) {
                        fail_flow(c, "curl_easy_init");
                        goto out;
                }
                curl_easy_setopt(c->curl[r], CURLOPT_INTERFACE, iface);
                curl_easy_setopt(c->curl[r], CURLOPT_TIMEOUT, 30L);
                curl_easy_setopt(c->curl[r], CURLOPT_NOSIGNAL, 1L);
        }
        while (!atomic_load(c->stop))
                flow(c);
out:
        for (int r = 0; r < 2; r++) {
                curl_easy_cleanup(c->curl[r]); /* closes its connection */
                c->curl[r] = NULL;
        }
        return NULL;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static long proc_status(pid_t pid, const char *field)
{
        char path[64], line[256];
        long v = -1;
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        size_t fl = strlen(field);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
                        v = (long)strtoll(line + fl + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

static long proc_fds(pid_t pid)
{
        char path[64];
        long n = 0;
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        DIR *d = opendir(path);
        if (!d)
                return -1;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* CPU seconds (user + system) of pid, from /proc/PID/stat */
static double proc_cpu(pid_t pid)
{
        char path[64], line[1024];
        unsigned long long ut = 0, st = 0;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        const char *p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
        fclose(f);
        /* after "pid (comm)": state, then fields 4..13, utime (14) and stime (15) */
        if (!p ||
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return 0;
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The veriteed processes' CPU seconds: the one server, or both replicas */
static double server_cpu(void)
{
        return proc_cpu(srv.pid) + (opt_pg ? proc_cpu(srv_b.pid) : 0);
}

/* stat_line reads /proc/<name>/stat into line and returns what follows "pid (comm)" (the
 * state onwards), with comm copied out when asked; NULL for a process that is gone or a
 * name that is not a pid. */
static const char *stat_line(const char *name, char line[1024], char comm[64])
{
        char path[300];
        if (name[0] < '0' || name[0] > '9')
                return NULL;
        snprintf(path, sizeof(path), "/proc/%s/stat", name);
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        const char *p = fgets(line, 1024, f) ? strrchr(line, ')') : NULL;
        fclose(f);
        const char *o = p ? strchr(line, '(') : NULL;
        if (!o || p[1] != ' ' || (comm && (p - o - 1 <= 0 || p - o - 1 >= 64)))
                return NULL;
        if (comm) {
                memcpy(comm, o + 1, (size_t)(p - o - 1));
                comm[p - o - 1] = 0;
        }
        return p + 2;
}

/* The PostgreSQL server's CPU seconds: the postmaster's own and those of the children it
 * reaped (cutime, cstime: backends that exited), plus each live child's (its backends,
 * the checkpointer, the WAL writer, ...). A backend that exits during a round moves from
 * the second sum to the first, so the difference over a round counts it once. */
static double pg_cpu(void)
{
        unsigned long long sum = 0;
        DIR *d = opendir("/proc");
        if (!d || pg_pid <= 0) {
                if (d)
                        closedir(d);
                return 0;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                char line[1024];
                const char *p = stat_line(e->d_name, line, NULL);
                int ppid = 0;
                unsigned long long ut = 0, st = 0, cut = 0, cst = 0;
                /* after "pid (comm)": state, ppid (4), fields 5..13, utime (14), stime (15),
                 * cutime (16), cstime (17) */
                if (!p ||
                    sscanf(p, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
                           &ppid, &ut, &st, &cut, &cst) != 5)
                        continue;
                pid_t pid = (pid_t)strtoul(e->d_name, NULL, 10);
                if (pid == pg_pid)
                        sum += ut + st + cut + cst;
                else if (ppid == pg_pid)
                        sum += ut + st;
        }
        closedir(d);
        return (double)sum / (double)sysconf(_SC_CLK_TCK);
}

/* The postmaster: the child of this process that runs postgres (pgtest forks it). */
static pid_t find_postmaster(void)
{
        pid_t found = 0;
        DIR *d = opendir("/proc");
        if (!d)
                return 0;
        struct dirent *e;
        while ((e = readdir(d)) && !found) {
                char line[1024], comm[64];
                int ppid = 0;
                const char *p = stat_line(e->d_name, line, comm);
                if (!p || sscanf(p, "%*c %d", &ppid) != 1)
                        continue;
                if (ppid == getpid() && strcmp(comm, "postgres") == 0)
                        found = (pid_t)strtoul(e->d_name, NULL, 10);
        }
        closedir(d);
        return found;
}

static double self_cpu(void)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long long file_size(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void run_round(struct round *R)
{
        atomic_bool stop = false;
        pthread_t th[MAX_CLIENTS];
        double t0 = now_ms(), cs0 = server_cpu(), cc0 = self_cpu(), cp0 = opt_pg ? pg_cpu() : 0;
        for (unsigned i = 0; i < R->clients; i++) {
                struct client *c = &clients[i];
                c->stop = &stop;
                c->flows = c->errors = c->wrong = 0;
                c->n_lat = 0;
                c->first_error[0] = 0;
                if (pthread_create(&th[i], NULL, client_main, c) != 0) {
                        fprintf(stderr, "loadgen: pthread_create failed\n");
                        exit(2);
                }
        }
        /* sample the server while the round runs: peaks */
        while (now_ms() - t0 < R->seconds * 1e3) {
                usleep(250 * 1000);
                long v = proc_status(srv.pid, "VmRSS");
                if (v > R->rss_peak_kib)
                        R->rss_peak_kib = v;
                if ((v = proc_status(srv.pid, "Threads")) > R->threads_peak)
                        R->threads_peak = v;
                if ((v = proc_fds(srv.pid)) > R->fds_peak)
                        R->fds_peak = v;
        }
        atomic_store(&stop, true);
        size_t n_lat = 0;
        for (unsigned i = 0; i < R->clients; i++) {
                pthread_join(th[i], NULL);
                R->flows += clients[i].flows;
                R->errors += clients[i].errors;
                R->wrong += clients[i].wrong;
                n_lat += clients[i].n_lat;
                if (!R->first_error[0] && clients[i].first_error[0])
                        memcpy(R->first_error, clients[i].first_error, sizeof(R->first_error));
        }
        R->secs = (now_ms() - t0) / 1e3;
        R->cpu_server = server_cpu() - cs0;
        R->cpu_pg = opt_pg ? pg_cpu() - cp0 : 0;
        R->cpu_client = self_cpu() - cc0;
        double *all = calloc(n_lat ? n_lat : 1, sizeof(*all));
        size_t k = 0;
        for (unsigned i = 0; i < R->clients && all; i++) {
                memcpy(all + k, clients[i].lat_ms, clients[i].n_lat * sizeof(*all));
                k += clients[i].n_lat;
        }
        if (all && k) {
                qsort(all, k, sizeof(*all), cmp_double);
                R->p50 = all[(k - 1) / 2];
                R->p99 = all[(size_t)((double)(k - 1) * 0.99)];
        }
        free(all);
}

/* The idle figures after a round: threads and descriptors once the connection threads are
 * gone, waiting up to 10 s for them to come down to at most want_threads/want_fds (when
 * given, i.e. >= 0). */
static void idle_figures(struct round *R, long want_threads, long want_fds)
{
        char db[600];
        for (int i = 0; i < 100; i++) {
                R->threads = proc_status(srv.pid, "Threads");
                R->fds = proc_fds(srv.pid);
                bool settled = (want_threads < 0 || R->threads <= want_threads) &&
                               (want_fds < 0 || R->fds <= want_fds);
                if (settled && (want_threads >= 0 || i >= 10))
                        break;
                usleep(100 * 1000);
        }
        R->rss_kib = proc_status(srv.pid, "VmRSS");
        if (opt_pg) { /* the database's size; PostgreSQL's WAL is not per database */
                char out[64];
                R->db = vtt_pg_exec(pg, "veritee", "SELECT pg_database_size('veritee')", out,
                                    sizeof(out)) == 0
                                ? strtoll(out, NULL, 10)
                                : 0;
                R->wal = 0;
                return;
        }
        snprintf(db, sizeof(db), "%s/veritee.db", state_dir);
        R->db = file_size(db);
        snprintf(db, sizeof(db), "%s/veritee.db-wal", state_dir);
        R->wal = file_size(db);
}

static int parse_schedule(const char *s, struct round *rounds, size_t *n)
{
        *n = 0;
        while (*s) {
                char *end;
                unsigned long c = strtoul(s, &end, 10);
                if (end == s || *end != 'x' || c == 0 || c > MAX_CLIENTS)
                        return -1;
                s = end + 1;
                unsigned long secs = strtoul(s, &end, 10);
                if (end == s || secs == 0 || secs > 3600 || *n == MAX_ROUNDS)
                        return -1;
                rounds[*n] = (struct round){.clients = (unsigned)c, .seconds = (unsigned)secs};
                (*n)++;
                s = end;
                if (*s == ',')
                        s++;
                else if (*s)
                        return -1;
        }
        return *n ? 0 : -1;
}

static int setup(void)
{
        char m[97], rv[600], path[512], kek[512], key[512], pub[512], cfg[4096], *jwt = NULL;
        char authz[1024], body[512];
        struct vt_diag d = {0};
        if (vtt_setup_sim("load", &guest) < 0)
                return -1;
        if (opt_state)
                snprintf(state_dir, sizeof(state_dir), "%s", opt_state);
        else
                snprintf(state_dir, sizeof(state_dir), "%s/state", vtt_dir);
        vt_hex_encode(guest.measurement, 48, m);
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", m);
        snprintf(path, sizeof(path), "%s/rv.json", vtt_dir);
        write_text(path, rv);
        snprintf(kek, sizeof(kek), "%s/kek", vtt_dir);
        if (opt_state)
                snprintf(kek, sizeof(kek), "%s/kek", opt_state);
        snprintf(key, sizeof(key), "%s/admin.key", vtt_dir);
        snprintf(pub, sizeof(pub), "%s/admin.pub", vtt_dir);
        if ((access(kek, F_OK) != 0 && vt_kek_generate(kek, &d) < 0) ||
            vt_admin_keygen(key, pub, &d) < 0 ||
            vt_admin_token_make(key, VT_ROLE_ADMIN, NULL, 0, 3600, "load", &jwt, &d) < 0) {
                fprintf(stderr, "loadgen: %s\n", d.msg);
                return -1;
        }
        snprintf(authz, sizeof(authz), "Bearer %s", jwt);
        free(jwt);
        /* the default configuration: nothing but what the simulator flow needs */
        if (!opt_pg) {
                snprintf(cfg, sizeof(cfg),
                         "listen: 127.0.0.1:0\nstate_dir: %s\n"
                         "attestation:\n  reference_values: %s\n  simulator_root: %s/root.pem\n"
                         "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n%s",
                         state_dir, path, vtt_simdir, kek, pub,
                         opt_config_add ? opt_config_add : "");
                server_start(&srv, "veriteed", cfg);
        } else {
                /* two replicas on one database: what they share is configured (one KEK,
                 * admin key, token key and ledger key), each has its own state_dir. A
                 * starts first and makes the token and ledger keys; B reads them. */
                char dsn[256], dsn_file[512];
                if (vtt_pg_createdb(pg, "veritee") < 0)
                        return -1;
                vtt_pg_dsn(pg, "veritee", dsn, sizeof(dsn));
                snprintf(dsn_file, sizeof(dsn_file), "%s/pg.dsn", vtt_dir);
                write_text(dsn_file, dsn);
                if (chmod(dsn_file, 0600) != 0) {
                        fprintf(stderr, "loadgen: chmod %s: %s\n", dsn_file, strerror(errno));
                        return -1;
                }
                for (int r = 0; r < 2; r++) {
                        snprintf(cfg, sizeof(cfg),
                                 "listen: 127.0.0.1:0\nstate_dir: %s/state-%c\n"
                                 "attestation:\n  reference_values: %s\n"
                                 "  simulator_root: %s/root.pem\n"
                                 "secrets:\n  kek_file: %s\nadmin:\n  keys: [%s]\n"
                                 "token:\n  signing_key: %s/token.pem\n"
                                 "ledger:\n  signing_key: %s/ledger.pem\n"
                                 "store:\n  backend: postgres\n  dsn_file: %s\n%s",
                                 vtt_dir, "ab"[r], path, vtt_simdir, kek, pub, vtt_dir, vtt_dir,
                                 dsn_file, opt_config_add ? opt_config_add : "");
                        /* A is "veriteed": --startup times its configuration */
                        server_start(r ? &srv_b : &srv, r ? "veriteed-b" : "veriteed", cfg);
                }
                replica[1] = &srv_b;
        }
        int n = snprintf(body, sizeof(body),
                         "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":"
                         "\"affirming\"}]}%c%s",
                         0, secret_value);
        struct http h = request_full(&srv, "PUT", "/kbs/v0/resource-policy/load/key/secret", body,
                                     (size_t)n, NULL, authz);
        free(h.body);
        if (h.status != 200) {
                fprintf(stderr, "loadgen: storing the secret: status %ld\n", h.status);
                return -1;
        }
        /* one report first: the simulator issues its VCEK once, before clients share it */
        uint8_t rd[64] = {0}, rep[VT_SNP_REPORT_SIZE];
        char *chain = NULL;
        if (vt_sim_report(vtt_simdir, &guest, rd, rep, &chain, &d) < 0) {
                fprintf(stderr, "loadgen: sim: %s\n", d.msg);
                return -1;
        }
        free(chain);
        return 0;
}

/* Opens n sessions (auth only), 20 per source address 127.2.x.y, and leaves them open.
 * Returns the number opened. */
static unsigned open_sessions(unsigned n)
{
        struct client c = {0};
        unsigned done = 0;
        for (unsigned a = 0; done < n && a < 250 * 250; a++) {
                char iface[48];
                c.curl[0] = curl_easy_init();
                if (!c.curl[0])
                        break;
                snprintf(iface, sizeof(iface), "host!127.2.%u.%u", a / 250, a % 250 + 1);
                curl_easy_setopt(c.curl[0], CURLOPT_INTERFACE, iface);
                curl_easy_setopt(c.curl[0], CURLOPT_TIMEOUT, 30L);
                curl_easy_setopt(c.curl[0], CURLOPT_NOSIGNAL, 1L);
                for (int k = 0; k < 20 && done < n; k++) {
                        struct buf b = {0};
                        long st = http(&c, 0, "/kbs/v0/auth",
                                       "{\"version\":\"0.4.0\",\"tee\":\"sim\","
                                       "\"extra-params\":\"\"}",
                                       NULL, NULL, &b);
                        if (st == 200 && strlen(b.cookie) == 32)
                                done++;
                        else
                                fprintf(stderr, "loadgen: session %u: status %ld\n", done, st);
                        free(b.p);
                        if (st != 200)
                                break;
                }
                curl_easy_cleanup(c.curl[0]);
                c.curl[0] = NULL;
        }
        return done;
}

/* Starts veriteed on the configuration of the run (its state as the rounds left it) and
 * returns the milliseconds until GET /readyz answered 200, or < 0; *rss_kib gets its RSS
 * then. The server is stopped again. */
static double time_startup(long *rss_kib)
{
        char cfg[600], log[600], url[96];
        snprintf(cfg, sizeof(cfg), "%s/veriteed.yaml", vtt_dir);
        snprintf(log, sizeof(log), "%s/startup.log", vtt_dir);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        char *argv[] = {(char *)bin("veriteed"), "--config", cfg, NULL};
        pid_t pid;
        double t0 = now_ms(), ready = -1;
        int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (e != 0)
                return -1;
        CURL *h = curl_easy_init();
        url[0] = 0;
        while (h && now_ms() - t0 < 30e3) {
                if (!url[0]) {
                        char *l = slurp(log);
                        const char *p = l ? strstr(l, "listening on http://127.0.0.1:") : NULL;
                        if (p)
                                snprintf(url, sizeof(url), "http://127.0.0.1:%u/readyz",
                                         (unsigned)strtoul(p + strlen("listening on "
                                                                      "http://127.0.0.1:"),
                                                           NULL, 10));
                        free(l);
                }
                long st = 0;
                if (url[0]) {
                        struct buf b = {0};
                        curl_easy_setopt(h, CURLOPT_URL, url);
                        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
                        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
                        curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
                        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
                        if (curl_easy_perform(h) == CURLE_OK)
                                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
                        free(b.p);
                }
                if (st == 200) {
                        ready = now_ms() - t0;
                        break;
                }
                int ws;
                if (waitpid(pid, &ws, WNOHANG) == pid) {
                        pid = 0;
                        break;
                }
                usleep(1000);
        }
        curl_easy_cleanup(h);
        *rss_kib = pid ? proc_status(pid, "VmRSS") : -1;
        if (pid) {
                int ws;
                kill(pid, SIGTERM);
                waitpid(pid, &ws, 0);
        }
        return ready;
}

static void usage(void)
{
        fprintf(stderr, "usage: loadgen [-s CLIENTSxSECONDS,...] [--rss-pct P] [--rss-mib M] "
                        "[--keep] [--json FILE] [--sessions N] [--startup N] [--state DIR] "
                        "[--config-add YAML] [--postgres]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        struct round rounds[MAX_ROUNDS];
        size_t n_rounds = 0;
        const char *schedule = "200x60,50x20,100x20,200x20,50x20,100x20,200x20";
        double rss_pct = 10, rss_mib = 4;
        bool keep = false;
        const char *json_path = NULL;
        unsigned n_sessions = 0, n_startup = 0;
        FILE *jf = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
                        schedule = argv[++i];
                else if (strcmp(argv[i], "--rss-pct") == 0 && i + 1 < argc)
                        rss_pct = strtod(argv[++i], NULL);
                else if (strcmp(argv[i], "--rss-mib") == 0 && i + 1 < argc)
                        rss_mib = strtod(argv[++i], NULL);
                else if (strcmp(argv[i], "--keep") == 0)
                        keep = true;
                else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
                        json_path = argv[++i];
                else if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc)
                        n_sessions = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--startup") == 0 && i + 1 < argc)
                        n_startup = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
                        opt_state = argv[++i];
                else if (strcmp(argv[i], "--config-add") == 0 && i + 1 < argc)
                        opt_config_add = argv[++i];
                else if (strcmp(argv[i], "--postgres") == 0)
                        opt_pg = true;
                else
                        usage();
        }
        if (parse_schedule(schedule, rounds, &n_rounds) < 0 || n_sessions > 100000 ||
            n_startup > 100 || (opt_pg && opt_state))
                usage();
        if (opt_pg) {
                if (!vtt_pg_available()) {
                        printf("loadgen: --postgres: skipped: postgresql not installed (no "
                               "/usr/lib/postgresql/*/bin/postgres, nor VT_PG_BINDIR; "
                               "scripts/deps.sh test installs it)\n");
                        return 77;
                }
                setenv("VT_PG_FSYNC", "on", 0); /* durable commits, unless told off */
                pg = vtt_pg_start();            /* or exits, saying why */
                pg_pid = find_postmaster();
                if (pg_pid <= 0) {
                        fprintf(stderr, "loadgen: the postmaster is not a child of this "
                                        "process\n");
                        return 1;
                }
        }
        if (json_path && !(jf = fopen(json_path, "we"))) {
                fprintf(stderr, "loadgen: %s: %s\n", json_path, strerror(errno));
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (setup() < 0) {
                server_stop_all();
                return 1;
        }
        unsigned max_c = 0;
        for (size_t i = 0; i < n_rounds; i++)
                if (rounds[i].clients > max_c)
                        max_c = rounds[i].clients;
        for (unsigned i = 0; i < max_c; i++) {
                clients[i].id = (int)i;
                for (int k = 0; k < KEYS_PER_CLIENT; k++) {
                        struct tee_key *t = &clients[i].keys[k];
                        t->jwk = new_jwk_key((void **)&t->pkey);
                }
        }
        struct round base = {0};
        idle_figures(&base, -1, -1);
        if (opt_pg)
                printf("load: two veriteed replicas (pids %d, %d) on one PostgreSQL (postmaster "
                       "pid %d, fsync %s); each flow: auth and attest on one replica, the "
                       "resource on the other, in turn\n",
                       (int)srv.pid, (int)srv_b.pid, (int)pg_pid,
                       getenv("VT_PG_FSYNC") && strcmp(getenv("VT_PG_FSYNC"), "on") == 0 ? "on"
                                                                                         : "off");
        printf("load: veriteed pid %d, default limits, clients from 127.1.0.0/16; before: rss "
               "%ld KiB, %ld threads, %ld fds, db %lld B\n",
               (int)srv.pid, base.rss_kib, base.threads, base.fds, base.db + base.wal);
        if (jf)
                fprintf(jf, "{\"op\":\"idle\",\"rss_kib\":%ld,\"threads\":%ld,\"fds\":%ld}\n",
                        base.rss_kib, base.threads, base.fds);
        if (n_sessions) {
                double t0 = now_ms();
                unsigned got = open_sessions(n_sessions);
                long rss = proc_status(srv.pid, "VmRSS");
                printf("load: %u sessions opened (auth only) in %.1f s: rss %ld KiB (+%ld KiB)\n",
                       got, (now_ms() - t0) / 1e3, rss, rss - base.rss_kib);
                if (jf)
                        fprintf(jf,
                                "{\"op\":\"sessions\",\"sessions\":%u,\"rss_kib\":%ld,"
                                "\"idle_rss_kib\":%ld}\n",
                                got, rss, base.rss_kib);
                if (got != n_sessions) {
                        printf("load: only %u of %u sessions opened\n", got, n_sessions);
                        server_stop_all();
                        return 1;
                }
        }
        printf("%5s %7s %5s %7s %7s %6s %5s %8s %8s %8s %8s %9s %7s %9s %8s %8s %7s %7s\n", "round",
               "clients", "secs", "flows", "flows/s", "errors", "wrong", "p50_ms", "p99_ms",
               "rss_MiB", "rss_pk", "threads", "thr_pk", "fds/pk", "db_KiB", "wal_KiB", "srv_cpu",
               "cli_cpu");
        fflush(stdout);
        int bad = 0;
        for (size_t i = 0; i < n_rounds; i++) {
                struct round *R = &rounds[i];
                const struct round *first = NULL;
                for (size_t j = 0; j < i && !first; j++)
                        if (rounds[j].clients == R->clients)
                                first = &rounds[j];
                run_round(R);
                idle_figures(R, first ? first->threads : -1, first ? first->fds : -1);
                char fds[24];
                snprintf(fds, sizeof(fds), "%ld/%ld", R->fds, R->fds_peak);
                printf("%5zu %7u %5.1f %7lu %7.1f %6lu %5lu %8.1f %8.1f %8.1f %8.1f %9ld %7ld %9s "
                       "%8lld %8lld %6.0f%% %6.0f%%\n",
                       i + 1, R->clients, R->secs, R->flows, (double)R->flows / R->secs, R->errors,
                       R->wrong, R->p50, R->p99, (double)R->rss_kib / 1024,
                       (double)R->rss_peak_kib / 1024, R->threads, R->threads_peak, fds,
                       R->db / 1024, R->wal / 1024, 100 * R->cpu_server / R->secs,
                       100 * R->cpu_client / R->secs);
                if (opt_pg && R->flows)
                        printf("load: round %zu: server CPU per release %.4f ms (veriteed A+B), "
                               "%.4f ms (PostgreSQL), %.4f ms in all\n",
                               i + 1, 1e3 * R->cpu_server / (double)R->flows,
                               1e3 * R->cpu_pg / (double)R->flows,
                               1e3 * (R->cpu_server + R->cpu_pg) / (double)R->flows);
                if (opt_state && R->flows)
                        printf("load: round %zu: server CPU %.2f s for %lu flows in %.2f s: %.4f "
                               "ms "
                               "per flow\n",
                               i + 1, R->cpu_server, R->flows, R->secs,
                               1e3 * R->cpu_server / (double)R->flows);
                fflush(stdout);
                if (jf) {
                        fprintf(jf,
                                "{\"op\":\"flow_round\",\"round\":%zu,\"clients\":%u,"
                                "\"secs\":%.2f,\"flows\":%lu,\"errors\":%lu,\"wrong\":%lu,"
                                "\"releases_per_sec\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
                                "\"server_cpu_ms_per_release\":%.4f,"
                                "\"client_cpu_ms_per_release\":%.4f,\"rss_kib\":%ld,"
                                "\"rss_peak_kib\":%ld,\"threads\":%ld,\"fds\":%ld",
                                i + 1, R->clients, R->secs, R->flows, R->errors, R->wrong,
                                (double)R->flows / R->secs, R->p50, R->p99,
                                R->flows ? 1e3 * R->cpu_server / (double)R->flows : 0.0,
                                R->flows ? 1e3 * R->cpu_client / (double)R->flows : 0.0, R->rss_kib,
                                R->rss_peak_kib, R->threads, R->fds);
                        /* --postgres: server_cpu is both replicas'; then PostgreSQL's */
                        if (opt_pg)
                                fprintf(jf,
                                        ",\"store\":\"postgres\",\"replicas\":2,"
                                        "\"pg_cpu_ms_per_release\":%.4f,"
                                        "\"server_pg_cpu_ms_per_release\":%.4f",
                                        R->flows ? 1e3 * R->cpu_pg / (double)R->flows : 0.0,
                                        R->flows ? 1e3 * (R->cpu_server + R->cpu_pg) /
                                                           (double)R->flows
                                                 : 0.0);
                        fprintf(jf, "}\n");
                }
                if (R->errors || R->wrong) {
                        printf("load: round %zu: %lu errors, %lu wrong plaintexts; first: %s\n",
                               i + 1, R->errors, R->wrong, R->first_error);
                        bad = 1;
                }
                if (R->flows == 0) {
                        printf("load: round %zu: no flow completed\n", i + 1);
                        bad = 1;
                }
                if (first) {
                        double rss_max =
                                (double)first->rss_kib * (1 + rss_pct / 100) + rss_mib * 1024;
                        if (R->threads > first->threads || R->fds > first->fds ||
                            (double)R->rss_kib > rss_max) {
                                printf("load: round %zu grew against round %zu (same %u clients): "
                                       "threads %ld > %ld, fds %ld > %ld, or rss %ld KiB > %.0f "
                                       "KiB "
                                       "(+%.0f%% +%.0f MiB)\n",
                                       i + 1, (size_t)(first - rounds) + 1, R->clients, R->threads,
                                       first->threads, R->fds, first->fds, R->rss_kib, rss_max,
                                       rss_pct, rss_mib);
                                bad = 1;
                        }
                }
        }
        unsigned long total = 0;
        for (size_t i = 0; i < n_rounds; i++)
                total += rounds[i].flows;
        const struct round *last = &rounds[n_rounds - 1];
        printf("load: %lu flows; database %lld -> %lld bytes (db+wal), %.0f bytes per flow: each "
               "flow leaves a session row (kept for session.ttl_seconds, then swept) and a ledger "
               "entry (kept for ever)\n",
               total, base.db + base.wal, last->db + last->wal,
               total ? (double)(last->db + last->wal - base.db - base.wal) / (double)total : 0.0);
        printf("load: %s\n", bad ? "FAILED" : "ok (0 errors, 0 wrong plaintexts, no growth)");
        int wst;
        if (waitpid(srv.pid, &wst, WNOHANG) == srv.pid) {
                printf("load: veriteed exited during the run (status 0x%x)\n", wst);
                srv.pid = 0;
                bad = 1;
        }
        if (opt_pg && waitpid(srv_b.pid, &wst, WNOHANG) == srv_b.pid) {
                printf("load: veriteed exited during the run (replica B, status 0x%x)\n", wst);
                srv_b.pid = 0;
                bad = 1;
        }
        server_stop_all();
        if (n_startup) {
                double ms[100];
                long rss = -1;
                unsigned ok = 0;
                for (unsigned i = 0; i < n_startup; i++) {
                        double t = time_startup(&rss);
                        if (t >= 0)
                                ms[ok++] = t;
                }
                if (ok == n_startup) {
                        qsort(ms, ok, sizeof(ms[0]), cmp_double);
                        printf("load: start-up to ready (GET /readyz 200), %u starts on the state "
                               "of this run: median %.1f ms, min %.1f, max %.1f; rss then %ld "
                               "KiB\n",
                               ok, ms[(ok - 1) / 2], ms[0], ms[ok - 1], rss);
                        if (jf) {
                                fprintf(jf,
                                        "{\"op\":\"startup\",\"starts\":%u,\"median_ms\":%.2f,"
                                        "\"ms\":[",
                                        ok, ms[(ok - 1) / 2]);
                                for (unsigned i = 0; i < ok; i++)
                                        fprintf(jf, "%s%.2f", i ? "," : "", ms[i]);
                                fprintf(jf, "],\"rss_kib\":%ld}\n", rss);
                        }
                } else {
                        printf("load: veriteed did not become ready in %u of %u starts (log: "
                               "%s/startup.log)\n",
                               n_startup - ok, n_startup, vtt_dir);
                        bad = 1;
                }
        }
        if (jf)
                fclose(jf);
        for (unsigned i = 0; i < max_c; i++) {
                for (int k = 0; k < KEYS_PER_CLIENT; k++) {
                        EVP_PKEY_free(clients[i].keys[k].pkey);
                        json_decref(clients[i].keys[k].jwk);
                }
                free(clients[i].lat_ms);
        }
        if (keep)
                printf("load: kept %s\n", vtt_dir);
        else
                vt_test_rm_dir(vtt_dir);
        curl_global_cleanup();
        return bad;
}
