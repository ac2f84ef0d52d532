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
BIN="${VT_BIN:-build/bin}"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for x in "$BIN/veritee" "$BIN/veriteed"; do
        if [ ! -x "$x" ]; then
                echo "skipped: $x not built"
                exit 77
        fi
done
for x in node npm openssl; do
        if ! command -v "$x" >/dev/null 2>&1; then
                if [ -n "${CI:-}" ]; then
                        echo "FAIL: $x not installed (scripts/deps.sh test installs it)"
                        exit 1
                fi
                echo "skipped: $x not installed (scripts/deps.sh test installs nodejs and npm)"
                exit 77
        fi
done

# jose, installed once per lock file under the build directory
NPM_DIR="${VT_NPM_DIR:-$BIN/../npm}"
mkdir -p "$NPM_DIR"
if ! cmp -s "$ROOT/tests/npm/package-lock.json" "$NPM_DIR/package-lock.json" ||
        [ ! -f "$NPM_DIR/node_modules/jose/package.json" ]; then
        cp "$ROOT/tests/npm/package.json" "$ROOT/tests/npm/package-lock.json" "$NPM_DIR/"
        if ! (cd "$NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
                cat "$NPM_DIR/npm.log"
                rm -f "$NPM_DIR/package-lock.json" # try again next time
                if [ -n "${CI:-}" ]; then
                        echo "FAIL: npm ci (jose) failed"
                        exit 1
                fi
                echo "skipped: npm ci could not install jose (no registry?)"
                exit 77
        fi
fi
cp "$ROOT/tests/npm/oidc_jose.mjs" "$NPM_DIR/"

tmp=$(mktemp -d)
pid=""
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

"$BIN/veritee" sim init "$tmp/sim" >/dev/null || {
        echo "FAIL: sim init"
        exit 1
}
m=$(sed -n 's/.*"measurement": *"\([0-9a-f]*\)".*/\1/p' "$tmp/sim/guest.json")
printf '{"sim":{"measurements":["%s"]}}\n' "$m" >"$tmp/rv.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null || {
        echo "FAIL: openssl could not make the test certificate"
        exit 1
}
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
