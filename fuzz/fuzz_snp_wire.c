/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: JSON text -> jansson -> vt_snp_wire_decode (Trustee's SNP evidence:
 * attestation_report fields and cert_chain). Whatever decodes is encoded back with
 * vt_snp_wire_encode; when that succeeds (it refuses reports vt_snp_report_parse
 * refuses), decoding its output must give the same report bytes and certificates. The
 * input parsed by vt_json_parse_spans (as veriteed reads attest bodies) and decoded with
 * its byte arrays read from the text must give the same verdict, bytes and certificates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/snp_wire.h"
#include "util/json.h"
#include "util/json_parse.h"
#include "veritee/veritee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_certs(const struct vt_snp_wire *a, const struct vt_snp_wire *b)
{
        if (a->n_certs != b->n_certs)
                abort();
        for (size_t i = 0; i < a->n_certs; i++)
                if (strcmp(a->certs[i].type, b->certs[i].type) != 0 ||
                    a->certs[i].len != b->certs[i].len ||
                    memcmp(a->certs[i].der, b->certs[i].der, a->certs[i].len) != 0)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_json_ json_t *ev = json_loadb((const char *)data, size, 0, NULL);
        _cleanup_json_ json_t *back = NULL;
        struct vt_snp_wire w, w2;
        struct vt_diag d = {0};
        int e;

        if (!ev)
                return 0;
        e = vt_snp_wire_decode(ev, &w, &d);
        struct vt_json_spans sp = {0};
        json_t *ev2 = NULL;
        if (vt_json_parse_spans(data, size, &ev2, &sp, NULL) == 0) {
                struct vt_snp_wire ws;
                int e2 = vt_snp_wire_decode_spans(ev2, &sp, &ws, NULL);
                if (e != VT_E_NOMEM && e2 != VT_E_NOMEM) {
                        if ((e < 0) != (e2 < 0))
                                abort();
                        if (e == 0) {
                                if (memcmp(w.report, ws.report, VT_SNP_REPORT_SIZE) != 0)
                                        abort();
                                same_certs(&w, &ws);
                        }
                }
                if (e2 == 0)
                        vt_snp_wire_done(&ws);
                json_decref(ev2);
                vt_json_spans_done(&sp);
        }
        if (e < 0) {
                if (e != VT_E_FORMAT && e != VT_E_NOMEM)
                        abort();
                if (e == VT_E_FORMAT && d.msg[0] == '\0')
                        abort();
                return 0;
        }
        if (w.n_certs > VT_SNP_WIRE_MAX_CERTS)
                abort();
        (void)vt_snp_wire_find(&w, "VCEK");
        if (vt_snp_wire_encode(w.report, w.certs, w.n_certs, &back) == 0) {
                if (!back || vt_snp_wire_decode(back, &w2, NULL) < 0)
                        abort();
                if (memcmp(w.report, w2.report, VT_SNP_REPORT_SIZE) != 0)
                        abort();
                same_certs(&w, &w2);
                vt_snp_wire_done(&w2);
        }
        vt_snp_wire_done(&w);
        return 0;
}
