#!/bin/sh
# The agent against the development server of `make run` (scripts/dev-run.sh on a free
# port): a release refused by policy is not retried with a second attestation (one
# /kbs/v0/attest in the server log), a released secret goes to a pipe byte for byte and
# gets a trailing newline only on a terminal.
set -u
. "$(dirname "$0")/lib/common.sh"
BIN="${VT_BIN:-build/bin}"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
B="$BIN/veritee"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for x in "$B" "$BIN/veriteed"; do
        if [ ! -x "$x" ]; then
                echo "skipped: $x not built"
                exit 77
        fi
done
if ! command -v script >/dev/null 2>&1; then
        echo "skipped: script(1) (bsdutils) not installed: no terminal to test with"
        exit 77
fi
tmp=$(mktemp -d)
pid=""
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
# the development server on an ephemeral port (listen 127.0.0.1:0); its URL from the log
VT_BIN="$BIN" VT_VAR="$tmp/var" VT_PORT=0 "$ROOT/scripts/dev-run.sh" >"$tmp/log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 600); do # sim init makes RSA-4096 keys: slow on a busy machine
        url=$(sed -n 's/.*listening on \(http:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$tmp/log" | head -n 1)
        [ -n "$url" ] && break
        sleep 0.1
done
if [ -z "$url" ]; then
        echo "FAIL: dev-run.sh did not start veriteed"
        cat "$tmp/log"
        exit 1
fi
V="$tmp/var"
attests() { grep -c '"route":"/kbs/v0/attest"' "$tmp/log"; }

printf 's3cret-db-password' >"$tmp/secret"
if "$B" secret put default/db/password "$tmp/secret" --server "$url" \
        --policy "$ROOT/docs/examples/release-sim-demo.json" --token "$V/admin.jwt" >/dev/null; then
        ok "secret put with the demo policy"
else
        fail "secret put with the demo policy"
fi

# released: exact bytes on a pipe, a newline added on a terminal
"$B" agent get-resource --kbs "$url" --tee sim --sim-dir "$V/sim" default/db/password \
        >"$tmp/out" 2>"$tmp/err"
if cmp -s "$tmp/out" "$tmp/secret"; then
        ok "get-resource to a pipe: the secret's bytes, no newline added"
else
        fail "get-resource to a pipe"
        od -c "$tmp/out" | head -3
        cat "$tmp/err"
fi
script -qec "$B agent get-resource --kbs $url --tee sim --sim-dir $V/sim default/db/password" \
        /dev/null >"$tmp/tty" 2>&1
if [ "$(tr -d '\r\n' <"$tmp/tty")" = "s3cret-db-password" ] && [ "$(tail -c 2 "$tmp/tty" | od -An -c | tr -d ' ')" = '\r\n' ]; then
        ok "get-resource to a terminal: the secret and a newline"
else
        fail "get-resource to a terminal"
        od -c "$tmp/tty" | head -3
fi

# refused by policy: exit 1, the reason, and one attestation (no retry)
"$B" policy set default/db/password "$ROOT/docs/examples/release-other-measurement.json" \
        --server "$url" --token "$V/admin.jwt" >/dev/null || fail "policy set"
before=$(attests)
"$B" agent get-resource --kbs "$url" --tee sim --sim-dir "$V/sim" default/db/password \
        >"$tmp/out" 2>"$tmp/err"
rc=$?
sleep 0.2 # the log line is written when the request ends
after=$(attests)
if [ "$rc" -eq 1 ] && grep -q "HTTP 401" "$tmp/err" && [ ! -s "$tmp/out" ]; then
        ok "get-resource refused by policy: exit 1, HTTP 401"
else
        fail "get-resource refused by policy: exit $rc"
        cat "$tmp/out" "$tmp/err"
fi
if [ $((after - before)) -eq 1 ]; then
        ok "a policy denial is not retried (one attestation)"
else
        fail "a policy denial made $((after - before)) attestations, want 1"
fi
if grep -q 'release default/db/password denied' "$tmp/log"; then
        ok "the server log says why"
else
        fail "the server log lacks the denial reason"
fi

finish "agent checks"
