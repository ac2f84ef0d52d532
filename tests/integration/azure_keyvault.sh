#!/bin/sh
# Microsoft's Key Vault client against veriteed's secure key release (issue 14): veriteed
# over HTTPS on 127.0.0.1 (a self-signed certificate made with openssl, trusted by node
# through NODE_EXTRA_CA_CERTS) with azure.enabled, a KEK and an admin key; the simulator
# (attestation.simulator_root) signs the guest's SEV-SNP report. npm @azure/keyvault-keys
# (tests/npm, pinned by its package-lock.json) creates an exportable key with a release
# policy and releases it with a token of veriteed's /attest/SevSnpVm carrying a runtime RSA
# key; tests/npm/azure_keyvault.mjs unwraps the answer and finds the key again, and sees a
# token the policy does not accept refused. node and npm are needed (scripts/deps.sh test):
# without them the test fails when CI is set and is skipped otherwise.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/npm.sh"
need_built veritee veriteed
need_tools node npm openssl

NPM_DIR="${VT_NPM_DIR:-$BIN/../npm}"
npm_install "$ROOT/tests/npm" "$NPM_DIR" @azure/keyvault-keys

make_tmp

"$BIN/veritee" sim init "$tmp/sim" >/dev/null || {
        echo "FAIL: sim init"
        exit 1
}
m=$(sed -n 's/.*"measurement": *"\([0-9a-f]*\)".*/\1/p' "$tmp/sim/guest.json")
printf '{"sim":{"measurements":["%s"]}}\n' "$m" >"$tmp/rv.json"
"$BIN/veritee" admin kekgen "$tmp/kek" >/dev/null 2>&1 &&
        "$BIN/veritee" admin keygen --out "$tmp/admin" >/dev/null 2>&1 &&
        "$BIN/veritee" admin token --key "$tmp/admin.key" --role admin --sub kv-test \
                >"$tmp/admin.jwt" 2>/dev/null || {
        echo "FAIL: kek, admin key or token"
        exit 1
}
tls_cert "$tmp"
cat >"$tmp/veriteed.yaml" <<YAML
listen: 127.0.0.1:0
state_dir: $tmp/state
tls:
  certificate: $tmp/tls.crt
  private_key: $tmp/tls.key
attestation:
  reference_values: $tmp/rv.json
  simulator_root: $tmp/sim/root.pem
secrets:
  kek_file: $tmp/kek
admin:
  keys: [$tmp/admin.pub]
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

if (cd "$NPM_DIR" && NODE_EXTRA_CA_CERTS="$tmp/tls.crt" NODE_NO_WARNINGS=1 \
        node azure_keyvault.mjs "$url" "$BIN/veritee" "$tmp/sim" "$m" "$(cat "$tmp/admin.jwt")" \
        "$tmp") >"$tmp/node.out" 2>&1; then
        ok "npm @azure/keyvault-keys: createKey, releaseKey, unwrapped, getKey, importKey, listPropertiesOfKeys, listPropertiesOfKeyVersions, beginDeleteKey"
else
        fail "npm @azure/keyvault-keys"
fi
cat "$tmp/node.out"
grep -q '^FAIL' "$tmp/node.out" && fail "npm @azure/keyvault-keys reported failures"
check "npm @azure/keyvault-keys ran its 16 checks" test "$(grep -c '^ok: ' "$tmp/node.out")" -eq 16
check "the releases are in the log" grep -q '"route":"azure"' "$tmp/log"
finish "azure_keyvault checks"
