#!/bin/sh
# Microsoft's own client against veriteed's Azure-compatible API (issue 14): veriteed over
# HTTPS on 127.0.0.1 (a self-signed certificate made with openssl, trusted by node through
# NODE_EXTRA_CA_CERTS) with azure.enabled, the real SGX quote of
# ../shared/testdata/dcap/sgx_00a067_eval17 and its collateral in the DCAP cache, checked at
# the vector's as-of time (attestation.verify_at, a test-only option); then
# npm @azure/attestation (tests/npm, pinned by its package-lock.json) calls attestSgxEnclave,
# validates the RS256 token against /certs, and finds the quote's mr_enclave in the claims.
# node and npm are needed (scripts/deps.sh test): without them the test fails when CI is
# set and is skipped otherwise; so it is without the shared test vectors.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/npm.sh"
TD="${VT_TESTDATA:-$ROOT/../shared/testdata}"
VEC="$TD/dcap/sgx_00a067_eval17"
MRENCLAVE=33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb
need_built veriteed
if [ ! -f "$VEC/quote.bin" ] || [ ! -f "$VEC/collateral.json" ]; then
        echo "skipped: ../shared/testdata not found"
        exit 77
fi
need_tools node npm openssl

NPM_DIR="${VT_NPM_DIR:-$BIN/../npm}"
npm_install "$ROOT/tests/npm" "$NPM_DIR" @azure/attestation

make_tmp

mkdir -p "$tmp/dcap"
cp "$VEC/collateral.json" "$tmp/dcap/dcap-sgx-processor-00a067110000.json"
printf '{"sgx":{"accepted_tcb_statuses":["UpToDate","ConfigurationAndSWHardeningNeeded"],"mr_enclave":["%s"]}}\n' \
        "$MRENCLAVE" >"$tmp/rv.json"
tls_cert "$tmp"
# another RSA key's certificate: the token must not verify under it
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other -keyout "$tmp/other.key" \
        -out "$tmp/other.crt" 2>/dev/null || {
        echo "FAIL: openssl could not make the other certificate"
        exit 1
}
cat >"$tmp/veriteed.yaml" <<YAML
listen: 127.0.0.1:0
state_dir: $tmp/state
tls:
  certificate: $tmp/tls.crt
  private_key: $tmp/tls.key
attestation:
  reference_values: $tmp/rv.json
  pccs_url: http://127.0.0.1:9
  dcap_cache_dir: $tmp/dcap
  verify_at: 2025-06-20T00:00:00Z
azure:
  enabled: true
YAML
"$BIN/veriteed" --config "$tmp/veriteed.yaml" >/dev/null 2>"$tmp/log" &
pid=$!
url=""
for _ in $(seq 1 600); do
        url=$(sed -n 's/.*listening on \(https:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/log" | head -n 1)
        [ -n "$url" ] && break
        sleep 0.1
done
if [ -z "$url" ]; then
        echo "FAIL: veriteed did not start"
        cat "$tmp/log"
        exit 1
fi
check "azure.signing_key was made 0600" test "$(mode "$tmp/state/azure-signing-key.pem")" = 600

if (cd "$NPM_DIR" && NODE_EXTRA_CA_CERTS="$tmp/tls.crt" NODE_NO_WARNINGS=1 \
        node azure_attestation.mjs "$url" "$VEC/quote.bin" "$MRENCLAVE" "$tmp/other.crt") >"$tmp/node.out" 2>&1; then
        ok "npm @azure/attestation: attestSgxEnclave, attestOpenEnclave, the token validated against /certs"
else
        fail "npm @azure/attestation"
fi
cat "$tmp/node.out"
grep -q '^FAIL' "$tmp/node.out" && fail "npm @azure/attestation reported failures"
# every check of the script ran (its output is not cut short by an exception)
check "npm @azure/attestation ran its 11 checks" test "$(grep -c '^ok: ' "$tmp/node.out")" -eq 11
finish "azure_attestation checks"
