/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential fuzz target: vt_json_parse (lib/util/json_parse.c, what vt_kbs_body_parse
 * reads client bodies with) against jansson's json_loadb(JSON_REJECT_DUPLICATES), which it
 * stands in for. Both refuse, or both accept and build the same tree: json_equal, and node
 * by node the same type, the same integer, the same bits of every real, the same string
 * bytes, the same members in the same order. A refusal is VT_E_FORMAT naming a byte offset
 * inside the input. VT_FUZZ_VERBOSE=1 prints both verdicts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_parse.h"
#include "veritee/veritee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_error_t je;
        struct vt_diag d = {0};
        json_t *ours = NULL;
        json_t *theirs = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
        int e = vt_json_parse(data, size, &ours, &d);
        if (getenv("VT_FUZZ_VERBOSE"))
                fprintf(stderr, "jansson: %s; vt_json_parse: %s\n", theirs ? "accepted" : je.text,
                        e == 0 ? "accepted" : d.msg);
        if (e == VT_E_NOMEM) {
                json_decref(theirs);
                return 0;
        }
        if ((e == 0) != (theirs != NULL)) {
                fprintf(stderr, "verdicts differ: jansson %s, vt_json_parse %s\n",
                        theirs ? "accepted" : je.text, e == 0 ? "accepted" : d.msg);
                abort();
        }
        if (e < 0) {
                const char *at = strstr(d.msg, " at byte ");
                unsigned long long off;
                if (e != VT_E_FORMAT || !at || sscanf(at, " at byte %llu", &off) != 1 || off > size)
                        abort();
                return 0;
        }
        if (!json_equal(theirs, ours) || !vt_json_identical(theirs, ours)) {
                fprintf(stderr, "trees differ\n");
                abort();
        }
        json_decref(theirs);
        json_decref(ours);
        return 0;
}
