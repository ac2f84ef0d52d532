/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an untrusted Intel DCAP quote (SGX v3, TDX v4/v5). Parses the bytes and
 * renders the JSON view of a parsed quote. It also checks the parser's own promises, and
 * aborts when one breaks: the quote and its zero padding make up the whole input, the
 * kept copy (raw) parses again to the same quote without padding, and the signed range
 * lies inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "veritee/dcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vt_dcap_quote *, vt_dcap_quote_free);

static void check_invariants(const struct vt_dcap_quote *q, size_t size)
{
        _cleanup_(vt_dcap_quote_freep) struct vt_dcap_quote *again = NULL;

        if (q->raw_len + q->trailing_zeros != size || q->raw_len > VT_DCAP_MAX_QUOTE ||
            q->signed_len >= q->raw_len)
                abort();
        if (vt_dcap_quote_parse(q->raw, q->raw_len, &again, NULL) < 0)
                abort();
        if (again->trailing_zeros != 0 || again->signed_len != q->signed_len ||
            again->body_type != q->body_type || again->pck_chain_len != q->pck_chain_len ||
            memcmp(again->signature, q->signature, sizeof(q->signature)) != 0)
                abort();
        if ((q->pck_cert_type == 5) != (q->pck_chain_pem != NULL))
                abort();
        if (q->pck_chain_pem && strnlen(q->pck_chain_pem, q->pck_chain_len + 1) > q->pck_chain_len)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(vt_dcap_quote_freep) struct vt_dcap_quote *q = NULL;
        struct vt_diag d = {0};

        int e = vt_dcap_quote_parse(data, size, &q, &d);
        if (e < 0) {
                /* Every rejection names its reason. */
                if (e != VT_E_NOMEM && d.msg[0] == 0)
                        abort();
                return 0;
        }
        check_invariants(q, size);
        _cleanup_free_ char *json = NULL;
        if (vt_dcap_quote_json(q, &json) < 0)
                abort();
        return 0;
}
