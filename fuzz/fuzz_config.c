/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: veriteed's YAML configuration. The input goes to vt_config_yaml_to_json and,
 * through a temporary file (one path for the whole run, rewritten for each input), to
 * vt_config_load. Nothing the configuration names is opened.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "veritee/veritee.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];

static void cleanup_path(void)
{
        if (path[0])
                unlink(path);
}

static void setup(void)
{
        const char *dir = getenv("TMPDIR");
        int fd;

        if (path[0])
                return;
        if (snprintf(path, sizeof(path), "%s/vt-fuzz-config-XXXXXX", dir && *dir ? dir : "/tmp") >=
            (int)sizeof(path))
                abort();
        fd = mkstemp(path);
        if (fd < 0)
                abort();
        close(fd);
        atexit(cleanup_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vt_config c;
        struct vt_diag d = {0};
        void *j = NULL;
        FILE *f;
        int e;

        setup();
        e = vt_config_yaml_to_json((const char *)data, size, &j, &d);
        if (e == 0) {
                if (!j)
                        abort();
                json_decref(j);
        } else if (e != VT_E_NOMEM && (j || d.msg[0] == '\0')) {
                abort();
        }

        f = fopen(path, "w");
        if (!f)
                abort();
        if (size > 0 && fwrite(data, 1, size, f) != size)
                abort();
        if (fclose(f) != 0)
                abort();
        vt_diag_clear(&d);
        e = vt_config_load(path, &c, &d);
        if (e == 0)
                vt_config_done(&c);
        else if (e != VT_E_NOMEM && d.msg[0] == '\0')
                abort();
        return 0;
}
