/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/file.h"

#ifndef VT_TESTDATA_DEFAULT
#define VT_TESTDATA_DEFAULT "../shared/testdata"
#endif

const char *vt_testdata(const char *rel)
{
        static __thread char buf[4096];
        const char *base = getenv("VT_TESTDATA");
        struct stat st;
        if (!base || !*base)
                base = VT_TESTDATA_DEFAULT;
        if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode))
                return NULL;
        snprintf(buf, sizeof(buf), "%s/%s", base, rel);
        return buf;
}

uint8_t *vt_test_load(const char *path, size_t *len)
{
        uint8_t *buf = NULL;
        int e = vt_read_file(path, 64u << 20, &buf, len);
        if (e < 0)
                fail_msg("cannot read %s", path);
        return buf;
}

uint8_t *vt_test_load_vector(const char *rel, size_t *len)
{
        const char *p = vt_testdata(rel);
        if (!p) {
                print_message("skipped: ../shared/testdata not found\n");
                skip();
                return NULL;
        }
        return vt_test_load(p, len);
}
