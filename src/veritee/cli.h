/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the veritee CLI. */
#ifndef VT_CLI_H
#define VT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes every verb uses (scripts rely on them). */
enum {
        EXIT_TRUSTED = 0,
        EXIT_REJECTED = 1,
        EXIT_USAGE = 2,
};

/* Input size caps for files named on the command line. */
#define CLI_MAX_EVIDENCE (1u << 20)
#define CLI_MAX_CERT     (512u * 1024u)

int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_secret(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_refval(int argc, char **argv);
int cmd_admin_kek(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_bench_ledger(int argc, char **argv);

/* cli_read reads a named file, or standard input for "-"; on failure prints "veritee:
 * cannot read PATH: REASON" (or that it is too large) and returns NULL. */
uint8_t *cli_read(const char *path, size_t max, size_t *ret_len);

/* The server every remote command talks to: --url/--server (opt, may be NULL), else
 * $VERITEE_SERVER, else def; trailing slashes removed. malloc'd; NULL (said) on ENOMEM. */
char *cli_server(const char *opt, const char *def);
/* The admin token file: --token (opt, may be NULL), else $VERITEE_TOKEN, else NULL. */
const char *cli_token_path(const char *opt);

/* cli_secret_import runs `veritee secret import` (import.c) against server with the
 * admin token; returns an exit code. */
int cli_secret_import(const char *server, const char *token, const char *src,
                      const char *policy_file, size_t batch, bool json);

/* cli_usage_error prints a one-line usage error and returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_read_token reads a bearer token file (trailing newline and spaces cut) into a
 * NUL-terminated buffer; free it with OPENSSL_clear_free(t, strlen(t)). NULL after printing
 * why. */
char *cli_read_token(const char *path);

/* cli_http_call sends one request to server + path with "Authorization: Bearer token"
 * (body: content_type, default application/json) and returns the HTTP status with the
 * answer (at most max bytes, malloc'd and NUL-terminated) in *ret_body and *ret_len, or
 * -1 after printing the transport failure. */
long cli_http_call(const char *server, const char *token, const char *method, const char *path,
                   const void *body, size_t len, const char *content_type, size_t max,
                   char **ret_body, size_t *ret_len);

#endif
