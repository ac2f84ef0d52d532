#!/bin/sh
# docs/examples/veriteed.yaml, the commented production configuration, cannot drift from the
# parser: every key it sets or offers commented out ("#key: value") is a row documented in
# docs/configuration.md, and a copy with its /etc/veritee and /var/lib/veritee paths moved
# under a temporary directory (where the test makes the files it names: TLS certificate and
# key, reference values, KEK, admin key) passes `veriteed --check-config`; with a key
# misspelt it does not.
set -u
. "$(dirname "$0")/lib/common.sh"
BIN="${VT_BIN:-build/bin}"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EX="$ROOT/docs/examples/veriteed.yaml"
for x in veritee veriteed; do
        if [ ! -x "$BIN/$x" ]; then
                echo "skipped: $BIN/$x not built"
                exit 77
        fi
done
if ! command -v openssl >/dev/null 2>&1; then
        echo "skipped: openssl not installed (the test's TLS certificate)"
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the keys, with their section ("token.signing_key"), of active and "#key:" lines
awk '
        /^[ \t]*$/ { next }
        {
                line = $0
                ind = match(line, /[^ ]/) - 1
                rest = substr(line, ind + 1)
                if (rest ~ /^#[a-z_]+:/) rest = substr(rest, 2)   # an alternative
                else if (rest ~ /^#/) next                        # prose
                if (!match(rest, /^[a-z_]+:/)) next
                key = substr(rest, 1, RLENGTH - 1)
                val = substr(rest, RLENGTH + 1)
                if (ind == 0) { sec = ""; if (val ~ /^[ \t]*$/) { sec = key; next } print key; next }
                print sec "." key
        }' "$EX" | sort -u >"$tmp/keys"
n=$(wc -l <"$tmp/keys")
[ "$n" -ge 30 ] || fail "found only $n keys in the example (the key reader is broken)"
bad=0
while IFS= read -r k; do
        if ! grep '^| `' "$ROOT/docs/configuration.md" | grep -qF -- "\`$k\`"; then
                fail "docs/examples/veriteed.yaml: \"$k\" is not an option of docs/configuration.md"
                bad=$((bad + 1))
        fi
done <"$tmp/keys"
[ "$bad" -eq 0 ] && ok "the $n keys of the example (set or commented out) are documented options"

# the files it names, made under tmp
E="$tmp/etc" S="$tmp/state"
mkdir -p "$E/admin"
chmod 700 "$E"
sed -e "s#/etc/veritee#$E#g" -e "s#/var/lib/veritee#$S#g" "$EX" >"$tmp/veriteed.yaml"
if sed 's#/etc/veritee/##g; s#/var/lib/veritee##g' "$EX" | grep -n '^[^#]*\(/etc/\|/var/\)'; then
        fail "the example names paths (above) outside /etc/veritee and /var/lib/veritee"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=kbs.example.com \
        -keyout "$E/tls.key" -out "$E/tls.crt" >/dev/null 2>&1 || fail "openssl req (the TLS certificate)"
chmod 600 "$E/tls.key"
cat >"$E/reference-values.json" <<'JSON'
{"snp": {"measurements": ["000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"],
         "debug_allowed": false}}
JSON
"$BIN/veritee" admin kekgen "$E/kek" >/dev/null || fail "veritee admin kekgen"
"$BIN/veritee" admin keygen --out "$E/admin/ops" >/dev/null || fail "veritee admin keygen"
for f in tls.crt tls.key reference-values.json kek admin/ops.pub; do
        grep -qF "$E/$f" "$tmp/veriteed.yaml" || fail "the example no longer names $f (update this test)"
done

expect 0 "veriteed --check-config on the example (paths moved under a temporary directory)" \
        "configuration ok" -- "$BIN/veriteed" --config "$tmp/veriteed.yaml" --check-config

# the parser is strict: the same file with one key misspelt is refused, naming it
sed 's/^  sth_every_ms:/  sth_every_msec:/' "$tmp/veriteed.yaml" >"$tmp/bad.yaml"
expect 2 "a misspelt key in the example is refused" "" "sth_every_msec" -- \
        "$BIN/veriteed" --config "$tmp/bad.yaml" --check-config
finish "example configuration checks"
