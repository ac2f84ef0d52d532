#!/bin/sh
# `veritee ledger verify-receipt --ccf`: the two real Azure Confidential Ledger receipts
# (../shared/testdata/azure/ccf, PROVENANCE.md) verify against their own service
# certificates, cross-paired they do not, and a changed receipt names what failed.
set -u
. "$(dirname "$0")/lib/common.sh"
B="${VT_BIN:-build/bin}/veritee"
T="${VT_TESTDATA:-../shared/testdata}/azure/ccf"
if [ ! -x "$B" ]; then
        echo "skipped: $B not built"
        exit 77
fi
if [ ! -f "$T/receipt_2.35.json" ]; then
        echo "skipped: ../shared/testdata not found"
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect 0 "receipt 2.35 with its service certificate" "ccf receipt verified: transaction 2.35, root 283afa44" -- \
        "$B" ledger verify-receipt --ccf "$T/receipt_2.35.json" --service-cert "$T/service_cert_2.35.pem"
expect 0 "receipt 16.7415 with its service certificate" "ccf receipt verified: transaction 16.7415," -- \
        "$B" ledger verify-receipt --ccf "$T/receipt_16.7415.json" --service-cert "$T/service_cert_16.7415.pem"
expect 0 "--json" '"verified":true,"transaction_id":"2.35"' -- \
        "$B" ledger verify-receipt --ccf "$T/receipt_2.35.json" --service-cert "$T/service_cert_2.35.pem" --json
expect 1 "receipt 2.35 with the other service certificate" '' \
        "ccf receipt: the node certificate is not signed by the service certificate" -- \
        "$B" ledger verify-receipt --ccf "$T/receipt_2.35.json" --service-cert "$T/service_cert_16.7415.pem"
expect 1 "receipt 16.7415 with the other service certificate" '' \
        "ccf receipt: the node certificate is not signed by the service certificate" -- \
        "$B" ledger verify-receipt --ccf "$T/receipt_16.7415.json" --service-cert "$T/service_cert_2.35.pem"
# a changed write-set digest: another leaf, another root, the node's signature fails
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
lc = r.get("leafComponents") or r["receipt"]["leafComponents"]
d = lc["writeSetDigest"]
lc["writeSetDigest"] = ("0" if d[0] != "0" else "1") + d[1:]
json.dump(r, open(sys.argv[2], "w"))
' "$T/receipt_2.35.json" "$tmp/changed.json"
check "the copy differs" sh -c "! cmp -s '$T/receipt_2.35.json' '$tmp/changed.json'"
expect 1 "a changed receipt" '' "ccf receipt: " -- \
        "$B" ledger verify-receipt --ccf "$tmp/changed.json" --service-cert "$T/service_cert_2.35.pem"
expect 2 "--ccf without --service-cert" '' "--ccf needs --service-cert" -- \
        "$B" ledger verify-receipt --ccf "$T/receipt_2.35.json"
finish "ccf receipt checks"
