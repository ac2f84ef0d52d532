#!/bin/sh
# The command contract of `veritee inspect tdx|sgx` on the recorded DCAP quotes: exit 0 and
# one JSON object on stdout; a malformed or mismatched quote exits 1 with the reason on
# stderr; an unreadable file exits 2.
set -u
. "$(dirname "$0")/lib/common.sh"
B="${VT_BIN:-build/bin}/veritee"
T="${VT_TESTDATA:-../shared/testdata}"
# an absent or empty directory is no vectors (as in tests/helpers/testutil.c)
if [ -z "$(ls -A "$T" 2>/dev/null)" ]; then
        echo "skipped: ../shared/testdata not found"
        exit 77
fi
D="$T/dcap"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one JSON object on stdout; a failing command prints nothing there
EXPECT_MAX_STDOUT_LINES=1
EXPECT_QUIET_FAILURE=1
V4="$D/tdx_b0c06f_eval17/quote.bin"
V5="$D/tdx_90c06f_eval18/quote_v5_uptodate.bin"
SGX="$D/sgx_00a067_eval17/quote.bin"

expect 0 "inspect tdx v4" '"tee":"tdx","version":4,' -- "$B" inspect tdx "$V4"
grep -q '"mr_td":"91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"' "$tmp/out" || fail "v4 mr_td"
grep -q '"td_attributes":{"raw":"0x0000000010000000","debug":false,"sept_ve_disable":true' "$tmp/out" || fail "v4 td_attributes"
grep -q '"trailing_zeros":70' "$tmp/out" || fail "v4 trailing zeros"
grep -q '"pck_chain_pem":"-----BEGIN CERTIFICATE-----' "$tmp/out" || fail "v4 PCK chain"
expect 0 "inspect tdx v5 (TDX 1.5 body)" '"tee":"tdx","version":5,' -- "$B" inspect tdx "$V5"
grep -q '"body_type":3,"body_size":648' "$tmp/out" || fail "v5 body type"
grep -q '"mr_service_td":"0000' "$tmp/out" || fail "v5 mr_service_td"
grep -q '"tee_tcb_svn":"0b01' "$tmp/out" || fail "v5 tee_tcb_svn"
expect 0 "inspect sgx v3" '"tee":"sgx","version":3,' -- "$B" inspect sgx "$SGX"
grep -q '"qe_svn":10,"pce_svn":15' "$tmp/out" || fail "sgx header svns"
grep -q '"attributes":{"raw":"0500000000000000e700000000000000","flags":"0x0000000000000005","xfrm":"0x00000000000000e7","init":true,"debug":false,"mode64bit":true' "$tmp/out" || fail "sgx attributes"
grep -q '"mr_signer":"8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff"' "$tmp/out" || fail "sgx QE mr_signer"
expect 0 "inspect a padded 8000-byte buffer" '"trailing_zeros":3065' -- "$B" inspect tdx "$D/quotes_only/tdx_v4_gce_cos113_trailing_bytes.bin"

expect 1 "inspect sgx on a TDX quote" '' "quote is TDX, not SGX" -- "$B" inspect sgx "$V4"
expect 1 "inspect tdx on an SGX quote" '' "quote is SGX, not TDX" -- "$B" inspect tdx "$SGX"

head -c 3000 "$V4" >"$tmp/short.bin"
expect 1 "inspect a truncated quote" '' "signature data length 4300 at offset 0x278 runs past the end" -- "$B" inspect tdx "$tmp/short.bin"
head -c 40 "$V5" >"$tmp/header.bin"
expect 1 "inspect a truncated header" '' "truncated in user_data" -- "$B" inspect tdx "$tmp/header.bin"
: >"$tmp/empty.bin"
expect 1 "inspect an empty file" '' "quote truncated in version at offset 0x0 (0 bytes)" -- "$B" inspect sgx "$tmp/empty.bin"
cp "$V4" "$tmp/trailing.bin"
printf 'x' >>"$tmp/trailing.bin"
expect 1 "inspect a quote followed by a non-zero byte" '' "offset 0x138e after the signature data" -- "$B" inspect tdx "$tmp/trailing.bin"

expect 2 "inspect missing file" '' "cannot read $tmp/none.bin" -- "$B" inspect tdx "$tmp/none.bin"
expect 2 "inspect unknown tee" '' 'inspect: unknown tee "sev" (known: snp, tdx, sgx)' -- "$B" inspect sev "$V4"
expect 2 "inspect without a file" '' "usage: veritee inspect snp|tdx|sgx EVIDENCE" -- "$B" inspect tdx

finish "inspect tdx/sgx checks"
