/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "pgtest.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

struct vtt_pg {
        char bindir[256];
        char dir[256];  /* the temporary directory: data/, the socket, the log */
        char data[300]; /* dir/data */
        char log[300];  /* dir/postgres.log */
        int port;
        pid_t pid;   /* the postmaster, 0 when stopped */
        pid_t owner; /* the process that started it: only it cleans up */
        uid_t uid;   /* who runs the server: geteuid() unless root */
        gid_t gid;
};

/* The one server of the process, for the exit handler. */
static struct vtt_pg *current;

static bool find_bindir(char *out, size_t n)
{
        const char *env = getenv("VT_PG_BINDIR");
        if (env && *env) {
                snprintf(out, n, "%s", env);
                char p[512];
                snprintf(p, sizeof(p), "%s/postgres", out);
                return access(p, X_OK) == 0;
        }
        glob_t g;
        if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) != 0)
                return false;
        /* the sort is by text: "9" after "16" does not occur on a Debian that has 15+ */
        bool ok = false;
        for (size_t i = g.gl_pathc; i-- > 0;) {
                if (access(g.gl_pathv[i], X_OK) != 0)
                        continue;
                snprintf(out, n, "%s", g.gl_pathv[i]);
                char *slash = strrchr(out, '/');
                if (slash)
                        *slash = 0;
                ok = true;
                break;
        }
        globfree(&g);
        return ok;
}

bool vtt_pg_available(void)
{
        char dir[256];
        return find_bindir(dir, sizeof(dir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

static void rm_tree(const char *dir)
{
        if (dir[0])
                nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* spawn runs bindir/argv[0] as the server's user with output appended to the log;
 * returns its pid or -1. */
static pid_t spawn(struct vtt_pg *pg, char *const argv[])
{
        char prog[512];
        snprintf(prog, sizeof(prog), "%s/%s", pg->bindir, argv[0]);
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        int fd = open(pg->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
        }
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
                dup2(in, 0);
        setsid(); /* the test's terminal signals are not the server's */
        if (geteuid() == 0 &&
            (setgroups(0, NULL) != 0 || setgid(pg->gid) != 0 || setuid(pg->uid) != 0)) {
                perror("pgtest: drop privileges");
                _exit(126);
        }
        /* The server goes when the test does, even one killed by SIGKILL (set after the
         * change of user, which clears it; the fast-shutdown signal of postgres). */
        if (prctl(PR_SET_PDEATHSIG, SIGINT) != 0 || getppid() != pg->owner)
                _exit(125);
        /* initdb and postgres need a working directory they may read: the test's (a
         * checkout under /root, say) is not the server user's */
        if (chdir(pg->dir) != 0) {
                perror("pgtest: chdir");
                _exit(124);
        }
        /* argv[0] the full path: initdb finds postgres next to itself from it, and the
         * bin directory is not on PATH (Debian keeps it under /usr/lib/postgresql) */
        char *args[16];
        size_t n = 0;
        args[n++] = prog;
        for (size_t i = 1; argv[i] && n + 1 < sizeof(args) / sizeof(args[0]); i++)
                args[n++] = argv[i];
        args[n] = NULL;
        execv(prog, args);
        perror("pgtest: exec");
        _exit(127);
}

static int wait_exit(pid_t pid)
{
        int ws;
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

static void print_log(const struct vtt_pg *pg)
{
        FILE *f = fopen(pg->log, "r");
        if (!f)
                return;
        char line[512];
        fprintf(stderr, "--- %s\n", pg->log);
        while (fgets(line, sizeof(line), f))
                fputs(line, stderr);
        fclose(f);
}

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        int port = -1;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        close(fd);
        return port;
}

void vtt_pg_dsn(const struct vtt_pg *pg, const char *db, char *buf, size_t n)
{
        snprintf(buf, n, "host=127.0.0.1 port=%d user=veritee dbname=%s connect_timeout=5",
                 pg->port, db);
}

/* launch starts the postmaster and waits (up to 60 s) until it accepts connections. */
static int launch(struct vtt_pg *pg)
{
        char port[16], sockdir[300], fsync[16];
        snprintf(port, sizeof(port), "%d", pg->port);
        snprintf(sockdir, sizeof(sockdir), "unix_socket_directories=%s", pg->dir);
        /* fsync off: tests need no durability against a crash of the machine. VT_PG_FSYNC=on
         * (bench/loadgen --postgres) keeps PostgreSQL's default, durable commits: what a
         * benchmark of a real deployment pays. */
        const char *fs = getenv("VT_PG_FSYNC");
        snprintf(fsync, sizeof(fsync), "fsync=%s", fs && strcmp(fs, "on") == 0 ? "on" : "off");
        char *const argv[] = {"postgres",
                              "-D",
                              pg->data,
                              "-p",
                              port,
                              "-h",
                              "127.0.0.1",
                              "-c",
                              sockdir,
                              "-c",
                              fsync,
                              "-c",
                              "max_connections=300",
                              "-c",
                              "shared_buffers=16MB",
                              "-c",
                              "dynamic_shared_memory_type=mmap",
                              NULL};
        pg->pid = spawn(pg, argv);
        if (pg->pid < 0)
                return -1;
        char dsn[256];
        vtt_pg_dsn(pg, "postgres", dsn, sizeof(dsn));
        for (int i = 0; i < 600; i++) {
                if (PQping(dsn) == PQPING_OK)
                        return 0;
                int ws;
                if (waitpid(pg->pid, &ws, WNOHANG) == pg->pid) {
                        pg->pid = 0;
                        fprintf(stderr, "pgtest: postgres exited\n");
                        print_log(pg);
                        return -1;
                }
                struct timespec ts = {0, 100000000L};
                nanosleep(&ts, NULL);
        }
        fprintf(stderr, "pgtest: postgres did not answer within 60 s\n");
        print_log(pg);
        return -1;
}

int vtt_pg_stop(struct vtt_pg *pg)
{
        if (!pg || pg->pid <= 0)
                return 0;
        kill(pg->pid, SIGINT); /* fast shutdown */
        int r = wait_exit(pg->pid);
        pg->pid = 0;
        return r == 0 ? 0 : -1;
}

int vtt_pg_restart(struct vtt_pg *pg)
{
        if (pg->pid > 0)
                return 0;
        return launch(pg);
}

static void cleanup_at_exit(void)
{
        struct vtt_pg *pg = current;
        if (!pg || pg->owner != getpid())
                return; /* a forked child leaves the server to its parent */
        vtt_pg_stop(pg);
        rm_tree(pg->dir);
        free(pg);
        current = NULL;
}

struct vtt_pg *vtt_pg_start(void)
{
        struct vtt_pg *pg = calloc(1, sizeof(*pg));
        if (!pg) {
                fprintf(stderr, "pgtest: out of memory\n");
                exit(1);
        }
        if (!find_bindir(pg->bindir, sizeof(pg->bindir))) {
                free(pg);
                if (getenv("CI")) {
                        printf("postgresql not installed (scripts/deps.sh test)\n");
                        exit(1);
                }
                printf("skipped: postgresql not installed\n");
                exit(77);
        }
        pg->owner = getpid();
        pg->uid = geteuid();
        pg->gid = getegid();
        if (pg->uid == 0) {
                /* PostgreSQL refuses to run as root */
                struct passwd *pw = getpwnam("postgres");
                if (!pw)
                        pw = getpwnam("nobody");
                if (!pw) {
                        fprintf(stderr, "pgtest: running as root and no user postgres or "
                                        "nobody to run the server as\n");
                        exit(1);
                }
                pg->uid = pw->pw_uid;
                pg->gid = pw->pw_gid;
        }
        const char *tmp = getenv("TMPDIR");
        snprintf(pg->dir, sizeof(pg->dir), "%s/vt-pg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(pg->dir)) {
                perror("pgtest: mkdtemp");
                exit(1);
        }
        current = pg;
        atexit(cleanup_at_exit);
        if (chown(pg->dir, pg->uid, pg->gid) != 0) {
                perror("pgtest: chown");
                exit(1);
        }
        snprintf(pg->data, sizeof(pg->data), "%s/data", pg->dir);
        snprintf(pg->log, sizeof(pg->log), "%s/postgres.log", pg->dir);

        char *const initdb[] = {"initdb", "-D",   pg->data,     "-U", "veritee", "--auth=trust",
                                "-E",     "UTF8", "--locale=C", "-N", NULL};
        pid_t pid = spawn(pg, initdb);
        if (pid < 0 || wait_exit(pid) != 0) {
                fprintf(stderr, "pgtest: initdb failed\n");
                print_log(pg);
                exit(1);
        }
        /* A port that was free a moment ago may be taken by the time the server binds
         * it: a few tries. */
        for (int attempt = 0;; attempt++) {
                pg->port = free_port();
                if (pg->port > 0 && launch(pg) == 0)
                        break;
                if (attempt == 4) {
                        fprintf(stderr, "pgtest: could not start postgres\n");
                        exit(1);
                }
        }
        return pg;
}

static PGconn *connect_db(struct vtt_pg *pg, const char *db)
{
        char dsn[256];
        vtt_pg_dsn(pg, db, dsn, sizeof(dsn));
        PGconn *c = PQconnectdb(dsn);
        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "pgtest: connect to %s: %s", db, PQerrorMessage(c));
                PQfinish(c);
                return NULL;
        }
        return c;
}

static void quiet(void *arg, const char *message)
{
        (void)arg;
        (void)message;
}

int vtt_pg_exec(struct vtt_pg *pg, const char *db, const char *sql, char *out, size_t n)
{
        PGconn *c = connect_db(pg, db);
        if (!c) {
                if (out)
                        snprintf(out, n, "cannot connect");
                return -1;
        }
        PQsetNoticeProcessor(c, quiet, NULL);
        PGresult *res = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(res);
        int r = 0;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                if (out)
                        snprintf(out, n, "%s", PQerrorMessage(c));
                r = -1;
        } else if (out) {
                snprintf(out, n, "%s",
                         PQntuples(res) > 0 && PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
        }
        PQclear(res);
        PQfinish(c);
        return r;
}

static bool db_name_ok(const char *db)
{
        if (!*db || strlen(db) > 60)
                return false;
        for (const char *p = db; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static int admin(struct vtt_pg *pg, bool create, const char *db)
{
        if (!db_name_ok(db)) {
                fprintf(stderr, "pgtest: bad database name %s\n", db);
                return -1;
        }
        char sql[256], msg[512];
        if (create)
                snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
        else
                snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
        if (vtt_pg_exec(pg, "postgres", sql, msg, sizeof(msg)) < 0) {
                fprintf(stderr, "pgtest: %s: %s", sql, msg);
                return -1;
        }
        return 0;
}

int vtt_pg_createdb(struct vtt_pg *pg, const char *db)
{
        return admin(pg, true, db);
}

int vtt_pg_dropdb(struct vtt_pg *pg, const char *db)
{
        return admin(pg, false, db);
}
