/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fault injector for the crash tests (tests/integration/test_crash_loop.c), loaded with
 * LD_PRELOAD into the real veriteed or `veritee admin rotate-kek`: when the program
 * renames a file onto the path in VT_CRASH_RENAME_ONTO, the process kills itself with
 * SIGKILL, before the rename (or just after it when VT_CRASH_RENAME_AFTER is set). This
 * lands a kill exactly between a rotation's database commit and the replacement of the
 * key file, a window too narrow for a kill from outside to hit often.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *oldpath, const char *newpath)
{
        int (*real)(const char *, const char *) =
                (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
        const char *onto = getenv("VT_CRASH_RENAME_ONTO");
        bool hit = onto && newpath && strcmp(onto, newpath) == 0;
        if (hit && !getenv("VT_CRASH_RENAME_AFTER"))
                raise(SIGKILL);
        int r = real ? real(oldpath, newpath) : -1;
        if (hit)
                raise(SIGKILL);
        return r;
}
