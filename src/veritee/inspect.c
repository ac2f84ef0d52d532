/* SPDX-License-Identifier: Apache-2.0 */
/* veritee inspect: parse evidence and print every field; no verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/macro.h"
#include "veritee/snp.h"

int cmd_inspect(int argc, char **argv)
{
        struct vt_diag d = {0};
        struct vt_snp_report r;
        size_t len;

        if (argc != 3)
                return cli_usage_error("usage: veritee inspect snp REPORT");
        if (strcmp(argv[1], "snp") != 0)
                return cli_usage_error("inspect: unknown tee \"%s\" (known: snp)", argv[1]);
        _cleanup_free_ uint8_t *buf = cli_read(argv[2], CLI_MAX_EVIDENCE, &len);
        if (!buf)
                return EXIT_USAGE;
        int e = vt_snp_report_parse(buf, len, &r, &d);
        if (e < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
                return EXIT_REJECTED;
        }
        _cleanup_free_ char *json = NULL;
        if (vt_snp_report_json(&r, &json) < 0) {
                fprintf(stderr, "veritee: out of memory\n");
                return EXIT_USAGE;
        }
        printf("%s\n", json);
        return 0;
}
