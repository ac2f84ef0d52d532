/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A real PostgreSQL server for tests: initdb into a temporary directory, postgres
 * listening on 127.0.0.1 on a free port (its unix socket in the same directory), trust
 * authentication for the superuser "veritee"; fsync off unless the environment variable
 * VT_PG_FSYNC is "on" (bench/loadgen --postgres). As root, the server runs as the user
 * "postgres" (or "nobody"): PostgreSQL refuses to run as root. The server is stopped
 * and its directory removed at exit (also when a test failed), by the process that
 * started it. Not thread-safe: call from the test's main thread.
 */
#ifndef VT_TEST_PGTEST_H
#define VT_TEST_PGTEST_H

#include <stdbool.h>
#include <stddef.h>

struct vtt_pg;

/* vtt_pg_start starts a server and returns it, or exits the process: with 77 after
 * "skipped: postgresql not installed" when the binaries are absent (with 1 and
 * "postgresql not installed (scripts/deps.sh test)" when the environment variable CI is
 * set), with 1 when the server does not come up (its log is printed). */
struct vtt_pg *vtt_pg_start(void);

/* vtt_pg_available: whether the PostgreSQL binaries vtt_pg_start uses are installed. */
bool vtt_pg_available(void);

/* vtt_pg_dsn writes the DSN of database db on the server into buf. */
void vtt_pg_dsn(const struct vtt_pg *pg, const char *db, char *buf, size_t n);

/* vtt_pg_createdb creates database db ([a-z0-9_] only); vtt_pg_dropdb drops it (if it
 * exists, disconnecting its clients). 0 or -1 (the reason printed). */
int vtt_pg_createdb(struct vtt_pg *pg, const char *db);
int vtt_pg_dropdb(struct vtt_pg *pg, const char *db);

/* vtt_pg_exec runs sql (no parameters) in database db and copies the first column of
 * the first row into out (if not NULL; "" when there is none). 0, or -1 with the
 * server's message in out. */
int vtt_pg_exec(struct vtt_pg *pg, const char *db, const char *sql, char *out, size_t n);

/* vtt_pg_stop stops the server (fast shutdown: clients are disconnected) and keeps its
 * data; vtt_pg_restart starts it again on the same port and waits until it answers.
 * 0 or -1. */
int vtt_pg_stop(struct vtt_pg *pg);
int vtt_pg_restart(struct vtt_pg *pg);

#endif
