#!/bin/sh
# The start-up contract of veriteed (docs/configuration.md): --check-config loads the
# configuration and every key it names, then exits 0; a configuration error exits 2
# and a key or file that cannot serve exits 1, each with one line naming the setting.
# Covers the token trust anchors: tokens.trusted_jwks keeps the ES256-usable keys and
# refuses a set with none, tokens.trusted_certs takes P-256 certificates or public keys.
set -u
. "$(dirname "$0")/lib/common.sh"
D="${VT_BIN:-build/bin}/veriteed"
if [ ! -x "$D" ]; then
        echo "skipped: $D not built"
        exit 77
fi
if ! command -v openssl >/dev/null; then
        echo "skipped: openssl not installed"
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect_config CODE DESCRIPTION PATTERN CONFIG-TEXT: run --check-config on the text; the
# pattern is looked for on stdout when CODE is 0, on stderr otherwise
expect_config() {
        code=$1 desc=$2 pat=$3
        printf 'listen: 127.0.0.1:0\nstate_dir: %s/state\n%s' "$tmp" "$4" >"$tmp/c.yaml"
        "$D" --config "$tmp/c.yaml" --check-config >"$tmp/out" 2>"$tmp/err"
        rc=$?
        where="$tmp/err"
        [ "$code" -eq 0 ] && where="$tmp/out"
        if [ "$rc" -ne "$code" ]; then
                fail "$desc: exit $rc, want $code"; cat "$tmp/out" "$tmp/err"; return
        fi
        if ! grep -q -- "$pat" "$where"; then
                fail "$desc: output lacks $pat"; cat "$where"; return
        fi
        if [ "$code" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
                fail "$desc: error is not one line"; cat "$tmp/err"; return
        fi
        echo "ok: $desc"
}

# keys and certificates: P-256 (usable for ES256) and RSA (not)
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ec.key" 2>/dev/null
openssl req -new -x509 -key "$tmp/ec.key" -subj /CN=external-as -days 2 -out "$tmp/ec.crt" 2>/dev/null
openssl pkey -in "$tmp/ec.key" -pubout -out "$tmp/ec.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.key" 2>/dev/null
openssl req -new -x509 -key "$tmp/rsa.key" -subj /CN=rsa-as -days 2 -out "$tmp/rsa.crt" 2>/dev/null
# a JWKS with one P-256 key (x, y from the uncompressed point) and one RSA key
pt=$(openssl pkey -pubin -in "$tmp/ec.pub" -outform DER 2>/dev/null | tail -c 64 | od -An -v -tx1 | tr -d ' \n')
b64u() { printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 -w0 | tr '+/' '-_' | tr -d '='; }
x=$(b64u "$(printf '%s' "$pt" | cut -c1-64)")
y=$(b64u "$(printf '%s' "$pt" | cut -c65-128)")
ec_jwk="{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"$x\",\"y\":\"$y\",\"kid\":\"ext\"}"
rsa_jwk='{"kty":"RSA","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"}'
printf '{"keys":[%s,%s]}' "$rsa_jwk" "$ec_jwk" >"$tmp/mixed.jwks"
printf '{"keys":[%s]}' "$rsa_jwk" >"$tmp/rsa.jwks"
printf '{"keys":[{"kty":"EC","crv":"P-256","x":"%s","y":"%s","d":"AAAA"}]}' "$x" "$y" >"$tmp/private.jwks"
printf '{"keys":{}}' >"$tmp/notset.jwks"
printf '{"keys":[],"keys":[]}' >"$tmp/dup.jwks"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$tmp/big.jwks"

expect_config 0 "minimal configuration" 'configuration ok' ''
expect_config 0 "trusted_jwks with a P-256 key among others" 'configuration ok' \
        "tokens:
  trusted_jwks: [$tmp/mixed.jwks]
"
expect_config 0 "trusted_certs with a P-256 certificate and a P-256 public key" 'configuration ok' \
        "tokens:
  trusted_certs: [$tmp/ec.crt, $tmp/ec.pub]
"
expect_config 1 "trusted_jwks missing file" 'tokens.trusted_jwks: cannot read' \
        "tokens:
  trusted_jwks: [$tmp/none.jwks]
"
expect_config 1 "trusted_jwks of more than 1 MiB" 'tokens.trusted_jwks: cannot read' \
        "tokens:
  trusted_jwks: [$tmp/big.jwks]
"
expect_config 1 "trusted_jwks whose keys is not an array" 'is not a JWKS' \
        "tokens:
  trusted_jwks: [$tmp/notset.jwks]
"
expect_config 1 "trusted_jwks with a duplicate member" 'is not a JWKS' \
        "tokens:
  trusted_jwks: [$tmp/dup.jwks]
"
expect_config 1 "trusted_jwks with only an RSA key" 'holds no public P-256 key' \
        "tokens:
  trusted_jwks: [$tmp/rsa.jwks]
"
expect_config 1 "trusted_jwks with a private key" 'holds no public P-256 key' \
        "tokens:
  trusted_jwks: [$tmp/private.jwks]
"
expect_config 1 "trusted_certs missing file" 'tokens.trusted_certs: cannot read' \
        "tokens:
  trusted_certs: [$tmp/none.crt]
"
expect_config 1 "trusted_certs with an RSA certificate" 'holds no P-256 certificate' \
        "tokens:
  trusted_certs: [$tmp/rsa.crt]
"
expect_config 1 "trusted_certs with a private key" 'holds no P-256 certificate' \
        "tokens:
  trusted_certs: [$tmp/ec.key]
"
expect_config 2 "unknown tokens key" 'unknown key' \
        "tokens:
  trusted_jwk: [$tmp/mixed.jwks]
"
expect_config 2 "unknown top-level key" 'unknown key' 'bogus: 1
'

"$D" --help >"$tmp/out" 2>&1 && grep -q -- '--check-config' "$tmp/out" && echo "ok: --help" ||
        fail "--help"
"$D" --frobnicate >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ]; then
        fail "unknown option: exit $rc, want 2"
elif ! grep -qF "unrecognized option '--frobnicate'" "$tmp/err"; then
        fail "unknown option: stderr does not name it"; cat "$tmp/err"
else
        echo "ok: unknown option exits 2 and names it"
fi

# A busy port: which address, why, what to do; every line JSON (libmicrohttpd's own
# messages go through the logger); no plain-text "Failed to bind" line.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$tmp/port" &
holder=$!
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
printf 'listen: 127.0.0.1:%s\nstate_dir: %s/state\n' "$port" "$tmp" >"$tmp/busy.yaml"
"$D" --config "$tmp/busy.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
kill "$holder" 2>/dev/null
if [ "$rc" -eq 0 ]; then
        fail "busy port: exit 0"
elif ! grep -qF "cannot listen on 127.0.0.1:$port: Address already in use (another process listens there: stop it, or set listen: in the configuration to another address)" "$tmp/err"; then
        fail "busy port: the message lacks the address, the reason or what to do"; cat "$tmp/err"
elif grep -v '^{.*}$' "$tmp/err" | grep -q .; then
        fail "busy port: a line on stderr is not JSON"; cat "$tmp/err"
else
        echo "ok: a busy port names the address, errno's reason and what to do, in JSON"
fi

finish "veriteed checks"
