#!/bin/sh
# An independent OIDC library verifies veriteed's tokens: veriteed over HTTPS on 127.0.0.1
# (a self-signed certificate made with openssl) with token.audience set; the agent attests
# with the simulator and prints a token; then npm jose (tests/npm, pinned by its
# package-lock.json) fetches the discovery document, requires its issuer to be the URL it
# came from, takes the keys from jwks_uri and verifies the token's signature, issuer and
# audience, and refuses a wrong audience, another issuer and a tampered token.
# node and npm are needed (scripts/deps.sh test): without them the test fails when CI is
# set and is skipped otherwise. jose is installed with `npm ci` into the build directory
# (VT_NPM_DIR, default BIN/../npm), once per package-lock.json.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/npm.sh"
need_built veritee veriteed
need_tools node npm openssl

NPM_DIR="${VT_NPM_DIR:-$BIN/../npm}"
npm_install "$ROOT/tests/npm" "$NPM_DIR" jose

make_tmp

"$BIN/veritee" sim init "$tmp/sim" >/dev/null || {
        echo "FAIL: sim init"
        exit 1
}
m=$(sed -n 's/.*"measurement": *"\([0-9a-f]*\)".*/\1/p' "$tmp/sim/guest.json")
printf '{"sim":{"measurements":["%s"]}}\n' "$m" >"$tmp/rv.json"
tls_cert "$tmp"
AUD=https://relying-party.example
cat >"$tmp/veriteed.yaml" <<YAML
listen: 127.0.0.1:0
state_dir: $tmp/state
tls:
  certificate: $tmp/tls.crt
  private_key: $tmp/tls.key
token:
  audience: $AUD
attestation:
  reference_values: $tmp/rv.json
  simulator_root: $tmp/sim/root.pem
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
check "the log names the issuer $url" grep -q "token issuer $url " "$tmp/log"

if "$BIN/veritee" agent attest --kbs "$url" --tee sim --sim-dir "$tmp/sim" \
        --cacert "$tmp/tls.crt" >"$tmp/token" 2>"$tmp/err" && [ -s "$tmp/token" ]; then
        ok "the agent attested over HTTPS and got a token"
else
        fail "agent attest"
        cat "$tmp/err"
        finish "oidc_jose checks"
fi

# NODE_EXTRA_CA_CERTS: node trusts the self-signed certificate (and nothing is disabled)
if (cd "$NPM_DIR" && NODE_EXTRA_CA_CERTS="$tmp/tls.crt" NODE_NO_WARNINGS=1 \
        node oidc_jose.mjs "$url" "$tmp/token" "$AUD") >"$tmp/node.out" 2>&1; then
        ok "npm jose: discovery, JWKS, issuer and audience"
else
        fail "npm jose"
fi
cat "$tmp/node.out"
grep -q '^FAIL' "$tmp/node.out" && fail "npm jose reported failures"
# every check of the script ran (its output is not cut short by an exception)
check "npm jose ran its 13 checks" test "$(grep -c '^ok: ' "$tmp/node.out")" -eq 13
finish "oidc_jose checks"
