/* SPDX-License-Identifier: Apache-2.0 */
/* veritee inspect: parse evidence and print every field; no verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/macro.h"
#include "veritee/dcap.h"
#include "veritee/snp.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_dcap_quote *, vt_dcap_quote_free);

static int inspect_snp(const uint8_t *buf, size_t len, char **ret_json)
{
        struct vt_diag d = {0};
        struct vt_snp_report r;
        int e = vt_snp_report_parse(buf, len, &r, &d);
        if (e < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
                return EXIT_REJECTED;
        }
        return vt_snp_report_json(&r, ret_json) < 0 ? -1 : 0;
}

/* tdx and sgx: the same parser; the body type must be the one asked for. */
static int inspect_dcap(const uint8_t *buf, size_t len, bool want_sgx, char **ret_json)
{
        _cleanup_(vt_dcap_quote_freep) struct vt_dcap_quote *q = NULL;
        struct vt_diag d = {0};
        int e = vt_dcap_quote_parse(buf, len, &q, &d);
        if (e < 0) {
                fprintf(stderr, "veritee: %s\n", d.msg[0] ? d.msg : vt_strerror(e));
                return EXIT_REJECTED;
        }
        bool is_sgx = q->body_type == VT_DCAP_BODY_SGX;
        if (is_sgx != want_sgx) {
                fprintf(stderr, "veritee: quote is %s, not %s\n", is_sgx ? "SGX" : "TDX",
                        want_sgx ? "SGX" : "TDX");
                return EXIT_REJECTED;
        }
        return vt_dcap_quote_json(q, ret_json) < 0 ? -1 : 0;
}

int cmd_inspect(int argc, char **argv)
{
        _cleanup_free_ char *json = NULL;
        size_t len;
        int r;

        if (argc != 3)
                return cli_usage_error("usage: veritee inspect snp|tdx|sgx EVIDENCE");
        bool snp = strcmp(argv[1], "snp") == 0, tdx = strcmp(argv[1], "tdx") == 0,
             sgx = strcmp(argv[1], "sgx") == 0;
        if (!snp && !tdx && !sgx)
                return cli_usage_error("inspect: unknown tee \"%s\" (known: snp, tdx, sgx)",
                                       argv[1]);
        /* DCAP quotes come in buffers padded with zeros; the parser caps them at 1 MiB. */
        _cleanup_free_ uint8_t *buf = cli_read(argv[2], CLI_MAX_EVIDENCE, &len);
        if (!buf)
                return EXIT_USAGE;
        r = snp ? inspect_snp(buf, len, &json) : inspect_dcap(buf, len, sgx, &json);
        if (r > 0)
                return r;
        if (r < 0) {
                fprintf(stderr, "veritee: out of memory\n");
                return EXIT_USAGE;
        }
        printf("%s\n", json);
        return 0;
}
