/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential fuzz target: vt_json_parse (lib/util/json_parse.c, what vt_kbs_body_parse
 * reads client bodies with) against jansson's json_loadb(JSON_REJECT_DUPLICATES), which it
 * stands in for. Both refuse, or both accept and build the same tree: json_equal, and node
 * by node the same type, the same integer, the same bits of every real, the same string
 * bytes, the same members in the same order. A refusal is VT_E_FORMAT naming a byte offset
 * inside the input. An accepted text is parsed again with vt_json_parse_spans, which must
 * give the same verdict, and its canonical text written through the recorded arrays
 * (vt_jcs_write_spans) must be vt_jcs_serialize's, or the same refusal; each recorded
 * array's bytes as the parse kept them (vt_json_span_bytes) must be those of its nodes
 * (vt_json_bytes). VT_FUZZ_VERBOSE=1 prints both verdicts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jcs.h"
#include "util/json.h"
#include "util/json_parse.h"
#include "veritee/veritee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct text {
        char *p;
        size_t len;
};

static int text_sink(void *arg, const void *p, size_t n)
{
        struct text *t = arg;
        char *q = realloc(t->p, t->len + n);
        if (!q)
                return -1;
        memcpy(q + t->len, p, n);
        t->p = q;
        t->len += n;
        return 0;
}

/* spans_same: the text (accepted by vt_json_parse) through vt_json_parse_spans and
 * vt_jcs_write_spans gives vt_jcs_serialize's canonical text, or its refusal. */
static void spans_same(const uint8_t *data, size_t size)
{
        struct vt_json_spans sp = {0};
        json_t *v = NULL;
        int e = vt_json_parse_spans(data, size, &v, &sp, NULL);
        if (e == VT_E_NOMEM)
                return;
        if (e < 0) {
                fprintf(stderr, "vt_json_parse_spans refused what vt_json_parse accepted\n");
                abort();
        }
        char *want = NULL;
        size_t wl = 0;
        struct text got = {0};
        int we = vt_jcs_serialize(v, &want, &wl);
        int ge = vt_jcs_write_spans(v, &sp, text_sink, &got);
        if (we != VT_E_NOMEM && ge != VT_E_NOMEM &&
            (we != ge || (we == 0 && (got.len != wl || memcmp(got.p, want, wl) != 0)))) {
                fprintf(stderr, "canonical texts differ (%d, %d)\n", we, ge);
                abort();
        }
        free(want);
        free(got.p);
        for (size_t i = 0; i < sp.n; i++) {
                size_t n = json_array_size(sp.v[i].node), at = 0;
                uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
                if (a && b &&
                    (!vt_json_bytes(sp.v[i].node, a, n, &at) ||
                     !vt_json_span_bytes(&sp, sp.v[i].node, b, n) || memcmp(a, b, n) != 0)) {
                        fprintf(stderr, "a recorded array's bytes differ from its nodes'\n");
                        abort();
                }
                free(a);
                free(b);
        }
        json_decref(v);
        vt_json_spans_done(&sp);
}

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
        spans_same(data, size);
        return 0;
}
