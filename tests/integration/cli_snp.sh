#!/bin/sh
# The command contract of `veritee inspect snp` and `veritee verify snp` (exit codes,
# one JSON object on stdout, the reason on stderr), on the recorded vectors.
set -u
. "$(dirname "$0")/lib/common.sh"
B="${VT_BIN:-build/bin}/veritee"
T="${VT_TESTDATA:-../shared/testdata}"
# an absent or empty directory is no vectors (as in tests/helpers/testutil.c)
if [ -z "$(ls -A "$T" 2>/dev/null)" ]; then
        echo "skipped: ../shared/testdata not found"
        exit 77
fi
S="$T/snp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# every verdict and every inspection is one JSON line
EXPECT_MAX_STDOUT_LINES=1
expect 0 "trusted Turin" '"tee":"snp","verdict":"trusted"' -- "$B" verify snp "$S/msft-tav/turin_attestation_report.bin" --cert "$S/msft-tav/turin_vcek.pem"
expect 0 "claims use Trustee names" '"reported_tcb_microcode":81' -- "$B" verify snp "$S/msft-tav/turin_attestation_report.bin" --cert "$S/msft-tav/turin_vcek.pem"
expect 0 "DER leaf" '"product":"Milan"' -- "$B" verify snp "$S/gsg/milan_v2_attestation.bin" --cert "$S/gsg/milan_v2_vcek.der"
expect 0 "explicit chain" '"verdict":"trusted"' -- "$B" verify snp "$S/msft-tav/genoa_attestation_report.bin" --cert "$S/msft-tav/genoa_vcek.pem" --chain "$S/roots/genoa_vcek_cert_chain.pem"
expect 0 "VLEK at a time inside its window" '"signer":"vlek"' -- "$B" verify snp "$S/trustee/test-vlek-report.bin" --cert "$S/trustee/test-vlek.der" --at 2025-06-01T00:00:00Z
expect 1 "VLEK now (expired)" '"verdict":"rejected"' 'leaf certificate "SEV-VLEK" is not valid at' -- "$B" verify snp "$S/trustee/test-vlek-report.bin" --cert "$S/trustee/test-vlek.der"
expect 1 "bad signature" '"reason":"snp: report signature' 'rejected: snp: report signature (ECDSA P-384/SHA-384 over 0x000-0x29f) does not verify with the VCEK' -- "$B" verify snp "$S/bad/turin_v5_measurement_bit0_flipped.bin" --cert "$S/msft-tav/turin_vcek.pem"
expect 1 "rejected has empty claims" '"claims":{}' 'rejected: snp: reserved byte at offset 0x3a0' -- "$B" verify snp "$S/bad/turin_v5_sig_reserved_nonzero.bin" --cert "$S/msft-tav/turin_vcek.pem"
printf '{"debug_allowed":false,"minimum_tcb":{"microcode":220}}' >"$tmp/pol.json"
expect 1 "policy minimum microcode" 'reported_tcb.microcode 0xdb < minimum 0xdc' 'rejected: snp: reported_tcb.microcode 0xdb < minimum 0xdc' -- "$B" verify snp "$S/msft-tav/milan_attestation_report.bin" --cert "$S/msft-tav/milan_vcek.pem" --policy "$tmp/pol.json"
printf '{"minimum_tcb":{"microcode":219},"vmpl":0}' >"$tmp/pol2.json"
expect 0 "policy satisfied" '"reason":"signature, VCEK chain to the Milan AMD root, TCB and chip binding verified; policy satisfied"' -- "$B" verify snp "$S/msft-tav/milan_attestation_report.bin" --cert "$S/msft-tav/milan_vcek.pem" --policy "$tmp/pol2.json"
printf '{"debugallowed":false}' >"$tmp/bad.json"
expect 2 "policy with an unknown key" '' 'policy: unknown key "debugallowed"' -- "$B" verify snp "$S/msft-tav/milan_attestation_report.bin" --cert "$S/msft-tav/milan_vcek.pem" --policy "$tmp/bad.json"
expect 2 "missing report" '' "cannot read $tmp/none.bin" -- "$B" verify snp "$tmp/none.bin"
expect 2 "bad --at" '' '--at: "yesterday" is not an RFC 3339 time' -- "$B" verify snp "$S/msft-tav/milan_attestation_report.bin" --at yesterday
expect 2 "unknown tee" '' 'verify: unknown tee "sev"' -- "$B" verify sev "$S/msft-tav/milan_attestation_report.bin"
expect 2 "unknown option" '' "unrecognized option '--frobnicate'" -- "$B" verify snp "$S/msft-tav/milan_attestation_report.bin" --frobnicate
head -c 1000 "$S/msft-tav/milan_attestation_report.bin" >"$tmp/short.bin"
expect 1 "truncated report" '"verdict":"rejected"' 'rejected: snp: report length 1000, expected 1184' -- "$B" verify snp "$tmp/short.bin" --cert "$S/msft-tav/milan_vcek.pem"
expect 1 "KDS unreachable (closed port)" 'http: GET http://127.0.0.1:9/vcek/v1/Milan/' 'rejected: http: GET http://127.0.0.1:9/vcek/v1/Milan/' -- "$B" verify snp "$S/msft-tav/milan_attestation_report.bin" --kds-url http://127.0.0.1:9

expect 0 "inspect Turin" '"reported_tcb":{"fmc":1,"bootloader":1,"tee":1,"snp":4,"microcode":81' -- "$B" inspect snp "$S/msft-tav/turin_attestation_report.bin"
expect 0 "inspect policy bits" '"debug_allowed":true' -- "$B" inspect snp "$S/gsg/milan_v2_attestation.bin"
expect 0 "inspect legacy TCB layout" '"reported_tcb":{"bootloader":2,"tee":0,"snp":5,"microcode":68' -- "$B" inspect snp "$S/gsg/milan_v2_attestation.bin"
# microcode 0xde makes the TCB 2^63 or more: raw is unsigned hex, never negative
cp "$S/gsg/milan_v2_attestation.bin" "$tmp/tcb-de.bin"
printf '\336' | dd of="$tmp/tcb-de.bin" bs=1 seek=$((0x187)) conv=notrunc 2>/dev/null
expect 0 "inspect TCB >= 2^63" '"reported_tcb":{"bootloader":2,"tee":0,"snp":5,"microcode":222,"raw":"0xde05000000000002"}' -- "$B" inspect snp "$tmp/tcb-de.bin"
grep -q '"raw":-' "$tmp/out" && fail "a negative raw TCB"
expect 1 "inspect malformed" '' 'snp: reserved byte at offset 0x3a0 (signature reserved 0x330) is 0x01, must be zero' -- "$B" inspect snp "$S/bad/turin_v5_sig_reserved_nonzero.bin"
expect 2 "inspect missing file" '' "cannot read $tmp/none.bin" -- "$B" inspect snp "$tmp/none.bin"
EXPECT_MAX_STDOUT_LINES=
expect 0 "help" 'Usage: veritee' -- "$B" --help

finish "CLI checks"
