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
start_dev_server "$BIN" "$ROOT"
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

# What an operator reads (issue 17): each case asserts the words a person sees.
expect 2 "agent without --url" '' "agent: --url URL (the key broker; or VERITEE_SERVER) is required" -- \
        env -u VERITEE_SERVER "$B" agent get-resource --tee sim --sim-dir "$V/sim" default/db/password
printf 'from-stdin' | "$B" secret put default/db/stdin - --url "$url/" --token "$V/admin.jwt" >"$tmp/out" 2>"$tmp/err"
if grep -q "^stored default/db/stdin (10 bytes)$" "$tmp/out" &&
        grep -q "note: default/db/stdin has no release policy, so it is released to nobody (deny by default) until one is set: veritee policy set default/db/stdin POLICY.json" "$tmp/out"; then
        ok "secret put from standard input, trailing slash on --url: stored, and says deny by default"
else
        fail "secret put from standard input"
        cat "$tmp/out" "$tmp/err"
fi
expect 0 "secret put --from-env with VERITEE_SERVER and VERITEE_TOKEN" "^stored default/db/env (7 bytes) with the release policy in $ROOT/docs/examples/release-sim-demo.json$" -- \
        env VERITEE_SERVER="$url" VERITEE_TOKEN="$V/admin.jwt" DBPW=env-val "$B" secret put default/db/env --from-env DBPW --policy "$ROOT/docs/examples/release-sim-demo.json"
expect 0 "agent with VERITEE_SERVER ending in a slash" "^env-val$" -- \
        env VERITEE_SERVER="$url/" "$B" agent get-resource --tee sim --sim-dir "$V/sim" default/db/env
printf 'abcd' >"$tmp/v4"
expect 0 "a second put keeps the policy and says so (--server still works)" "^stored default/db/env (4 bytes); its release policy is unchanged$" -- \
        env VERITEE_TOKEN="$V/admin.jwt" "$B" secret put default/db/env "$tmp/v4" --server "$url"
expect 2 "secret put --from-env of an unset variable" '' "secret put: --from-env NO_SUCH_VAR_X: the variable is not set" -- \
        env -u NO_SUCH_VAR_X "$B" secret put default/db/env --from-env NO_SUCH_VAR_X --url "$url" --token "$V/admin.jwt"
expect 2 "a missing file names the reason" '' "cannot read $tmp/no-such-file: No such file or directory" -- \
        "$B" secret put default/db/x "$tmp/no-such-file" --url "$url" --token "$V/admin.jwt"
expect 2 "the admin key where a token goes" '' "holds a PEM private key, not an admin token; --token (or VERITEE_TOKEN) names a file with a token" -- \
        "$B" secret ls --url "$url" --token "$V/admin.key"
expect 2 "no token at all" '' "--token FILE (or VERITEE_TOKEN=FILE) is required" -- \
        env -u VERITEE_TOKEN "$B" secret ls --url "$url"

# The log lines (issue 17): millisecond timestamps, the client address, durations without
# float noise, and each admin write with the token's sub (dev-run.sh mints it with --sub dev).
sleep 0.2
if grep '"msg":"request"' "$tmp/log" | grep -Evq '^\{"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z","level":"[a-z]+","msg":"request","request_id":"[0-9a-f]+","client":"127\.0\.0\.1","method":"[A-Z]+","route":"[^"]+","status":[0-9]+,"duration_ms":[0-9]+(\.[0-9]{1,3})?[,}]'; then
        fail "a request log line lacks the shape ts (ms), client, integer or 3-decimal duration_ms"
        grep '"msg":"request"' "$tmp/log" | grep -Ev '"duration_ms":[0-9]+(\.[0-9]{1,3})?[,}]' | head -3
else
        ok "request log lines: ms timestamps, the client address, duration_ms of at most 3 decimals"
fi
if grep '"method":"POST","route":"/kbs/v0/resource"' "$tmp/log" | grep -q '"status":200,.*"sub":"dev".*"reason":"stored default/db/stdin (10 bytes)"'; then
        ok "a successful admin write is logged with the token's sub"
else
        fail "the admin write's log line lacks the sub"
        grep '"route":"/kbs/v0/resource"' "$tmp/log" | head -3
fi

# Listings a page at a time (issue 19): the CLI follows the cursor, the API gives "next"
"$B" secret ls --url "$url" --token "$V/admin.jwt" >"$tmp/all" 2>&1
"$B" secret ls --url "$url" --token "$V/admin.jwt" --limit 1 >"$tmp/paged" 2>&1
if [ "$(wc -l <"$tmp/all")" -ge 3 ] && cmp -s "$tmp/all" "$tmp/paged"; then
        ok "secret ls --limit 1 follows the cursor to the same listing ($(wc -l <"$tmp/all") secrets)"
else
        fail "secret ls paged differs from unpaged"
        cat "$tmp/all" "$tmp/paged"
fi
curl -sS -H "Authorization: Bearer $(cat "$V/admin.jwt")" "$url/kbs/v0/resources?limit=1" >"$tmp/p1"
check "a full page carries next" grep -q '"next":"' "$tmp/p1"
curl -sS -H "Authorization: Bearer $(cat "$V/admin.jwt")" "$url/kbs/v0/resources?limit=0" >"$tmp/p0"
check "limit 0 is refused with the range" grep -q 'limit must be 1..10000' "$tmp/p0"
curl -sS -H "Authorization: Bearer $(cat "$V/admin.jwt")" "$url/kbs/v0/resources?cursor=Zm9v" >"$tmp/pc"
check "a cursor not from us is refused" grep -q 'cursor is not one this server gave' "$tmp/pc"

# GPU evidence (issue 15): this machine has no NVIDIA driver; --gpu required says so, the
# default (auto) attests without it quietly
if [ ! -e /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1 ]; then
        expect 1 "agent --gpu required without an NVIDIA driver" '' "no NVIDIA GPU evidence: libnvidia-ml.so.1 not found (no NVIDIA driver in this guest) (--gpu required)" -- \
                "$B" agent attest --url "$url" --tee sim --sim-dir "$V/sim" --gpu required
        expect 2 "agent --gpu with a wrong value" '' "agent: --gpu must be auto, off or required" -- \
                "$B" agent attest --url "$url" --tee sim --sim-dir "$V/sim" --gpu yes
fi

finish "agent checks"
