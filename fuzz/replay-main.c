/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay driver for the libFuzzer targets (after systemd's src/fuzz/fuzz-main.c).
 * Linked with one fuzz_<input>.c instead of libFuzzer, it calls
 * LLVMFuzzerTestOneInput once for each file named on the command line and for each
 * regular file in a named directory (one level deep, in name order, dot files
 * skipped), so that a corpus runs as an ordinary test with any compiler and
 * sanitizer. Exits 1 if a path cannot be read or nothing was run.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/macro.h"

/* Corpus files are small; a larger one is a mistake, not an input. */
#define REPLAY_MAX_BYTES (16u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

/* read_input reads a regular file into a buffer of exactly its size, so that
 * AddressSanitizer catches a target reading past the end of its input. Returns 0 or
 * a negative errno. */
static int read_input(const char *path, uint8_t **ret, size_t *ret_len)
{
        _cleanup_(fclosep) FILE *f = fopen(path, "rb");
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;

        if (!f || fstat(fileno(f), &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uintmax_t)st.st_size > REPLAY_MAX_BYTES)
                return -EFBIG;
        size_t n = (size_t)st.st_size;
        buf = malloc(n > 0 ? n : 1);
        if (!buf)
                return -ENOMEM;
        if (n > 0 && fread(buf, 1, n, f) != n)
                return ferror(f) ? -EIO : -ENODATA;
        /* a file that grew since fstat is not the input we sized the buffer for */
        if (fgetc(f) != EOF)
                return -EAGAIN;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

struct tally {
        unsigned ran, failed;
};

static void run_file(const char *path, struct tally *t)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int e = read_input(path, &buf, &len);

        if (e < 0) {
                fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(-e));
                t->failed++;
                return;
        }
        /* name the input before running it, so a crash report says which one */
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
        (void)LLVMFuzzerTestOneInput(buf, len);
        t->ran++;
}

static int not_dot(const struct dirent *de)
{
        return de->d_name[0] != '.';
}

static void free_entries(struct dirent **list, int n)
{
        for (int i = 0; i < n; i++)
                free(list[i]);
        free(list);
}

/* run_dir runs every regular file in dir; subdirectories and dot files are skipped. */
static void run_dir(const char *dir, struct tally *t)
{
        struct dirent **list = NULL;
        int n = scandir(dir, &list, not_dot, alphasort);

        if (n < 0) {
                fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
                t->failed++;
                return;
        }
        for (int i = 0; i < n; i++) {
                char path[PATH_MAX];
                struct stat st;
                int k = snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);

                if (k < 0 || (size_t)k >= sizeof(path)) {
                        fprintf(stderr, "replay: path too long: %s/%s\n", dir, list[i]->d_name);
                        t->failed++;
                        continue;
                }
                if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                        continue;
                run_file(path, t);
        }
        free_entries(list, n);
}

static void run_path(const char *path, struct tally *t)
{
        struct stat st;

        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                run_dir(path, t);
        else
                run_file(path, t); /* names the error if path is missing */
}

int main(int argc, char **argv)
{
        const char *prog = argc > 0 ? argv[0] : "replay";
        struct tally t = {0};

        if (LLVMFuzzerInitialize)
                (void)LLVMFuzzerInitialize(&argc, &argv);
        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", prog);
                return 2;
        }
        for (int i = 1; i < argc; i++)
                run_path(argv[i], &t);
        printf("%s: ran %u input%s\n", prog, t.ran, t.ran == 1 ? "" : "s");
        if (t.failed) {
                fprintf(stderr, "%s: %u path%s could not be read\n", prog, t.failed,
                        t.failed == 1 ? "" : "s");
                return 1;
        }
        if (t.ran == 0) {
                fprintf(stderr, "%s: no inputs to run\n", prog);
                return 1;
        }
        return 0;
}
