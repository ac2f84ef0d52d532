#!/bin/sh
# `veritee secret import` against the development server (scripts/dev-run.sh on a free
# port): a directory tree (DIR/REPO/TYPE/TAG) and a JSON-lines file are stored through
# POST /kbs/v0/resources/batch with their release policies; the secrets are released with
# their exact values by the attested flow (the agent with the simulator); a bad line
# refuses the whole import naming its line, and nothing of it is stored; the ledger holds
# the batch as admin entries of op "resource.import" listing each path and digest.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/npm.sh"
need_built veritee veriteed
need_tools curl
B="$BIN/veritee"
tmp=$(mktemp -d)
pid=""
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
start_dev_server "$BIN" "$ROOT"
export VERITEE_SERVER="$url" VERITEE_TOKEN="$V/admin.jwt"
POL="$ROOT/docs/examples/release-sim-demo.json"
EXPECT_QUIET_FAILURE=1

# fetch PATH: the released value into $tmp/got
fetch() {
        "$B" agent get-resource --kbs "$url" --tee sim --sim-dir "$V/sim" "$1" >"$tmp/got" 2>"$tmp/gerr"
}

# a directory: three secrets in two repositories, one binary
mkdir -p "$tmp/d/imp/db" "$tmp/d/imp/tls" "$tmp/d/other/k"
printf 'dir-pw-1' >"$tmp/d/imp/db/password"
printf 'line1\nline2\n' >"$tmp/d/imp/tls/key"
printf '\000\001\377binary' >"$tmp/d/other/k/bin"
expect 0 "import a directory with --policy" "^imported 3 secrets (3 with a release policy) in 1 batches" -- \
        "$B" secret import "$tmp/d" --policy "$POL"
for p in imp/db/password imp/tls/key other/k/bin; do
        f="$tmp/d/$p"
        if fetch "$p" && cmp -s "$tmp/got" "$f"; then
                ok "released $p with its value"
        else
                fail "release of imported $p"
                cat "$tmp/gerr"
        fi
done

# JSON lines: text and base64 values, a per-line policy, the default from --policy, a
# line without a policy and no --policy stays unreleasable (deny by default)
POLJ=$(tr -d '\n' <"$POL")
{
        printf '{"path":"jl/a/text","value":"hello world"}\n'
        printf '\n'
        printf '{"path":"jl/a/b64","value":"AAEC/3h5","encoding":"base64","policy":%s}\n' "$POLJ"
        printf '{"path":"jl/a/text2","value":"second","encoding":"text"}\n'
} >"$tmp/s.jsonl"
expect 0 "import JSON lines with --batch 2" "^imported 3 secrets (3 with a release policy) in 2 batches" -- \
        "$B" secret import "$tmp/s.jsonl" --policy "$POL" --batch 2
if fetch jl/a/text && [ "$(cat "$tmp/got")" = "hello world" ]; then ok "released jl/a/text"; else fail "release jl/a/text"; cat "$tmp/gerr"; fi
printf '\000\001\002\377xy' >"$tmp/want"
if fetch jl/a/b64 && cmp -s "$tmp/got" "$tmp/want"; then ok "released jl/a/b64 (base64 decoded)"; else fail "release jl/a/b64"; cat "$tmp/gerr"; fi
printf '{"path":"jl/b/nopol","value":"x"}\n' >"$tmp/np.jsonl"
expect 0 "import without a policy" "^imported 1 secrets (0 with a release policy)" -- "$B" secret import "$tmp/np.jsonl"
if fetch jl/b/nopol; then fail "a secret without a policy was released"; else ok "no policy, no release"; fi

# a bad line anywhere refuses the whole import, naming the line; nothing is stored
{
        printf '{"path":"bad/x/one","value":"1"}\n'
        printf '{"path":"bad/x/two","value":"2"}\n'
        printf '{"path":"bad/x/three","value":"%%%%%%","encoding":"base64"}\n'
} >"$tmp/bad.jsonl"
expect 2 "a bad base64 value" '' "line 3: value is not standard base64" -- "$B" secret import "$tmp/bad.jsonl" --policy "$POL"
printf '{"path":"bad/x/one","value":"1"}\n{"path":"bad/x","value":"2"}\n' >"$tmp/bad2.jsonl"
expect 2 "a bad path" '' "bad2.jsonl line 2: \"bad/x\" is not REPO/TYPE/TAG" -- "$B" secret import "$tmp/bad2.jsonl"
printf '{"path":"bad/x/one","value":"1"}\n{"path":"bad/x/two","value":"2","policy":{"allOf":[{"claim":"/a","nope":1}]}}\n' >"$tmp/bad3.jsonl"
expect 2 "a bad policy" '' "bad3.jsonl line 2: policy:" -- "$B" secret import "$tmp/bad3.jsonl"
printf '{"path":"bad/x/one","value":"1"}\nnot json\n' >"$tmp/bad4.jsonl"
expect 2 "a line that is not JSON" '' "bad4.jsonl line 2: not a JSON object" -- "$B" secret import "$tmp/bad4.jsonl"
printf '{"path":"bad/x/one","value":"1","encoding":"hex"}\n' >"$tmp/bad5.jsonl"
expect 2 "an unknown encoding" '' "line 1: encoding must be \"text\" or \"base64\"" -- "$B" secret import "$tmp/bad5.jsonl"
mkdir -p "$tmp/bd/r/t"
printf 'v' >"$tmp/bd/r/t/ok"
printf 'v' >"$tmp/bd/r/stray"
expect 2 "a directory with a file at the wrong depth" '' "bd/r/stray: not a secret (files are DIR/REPO/TYPE/TAG)" -- "$B" secret import "$tmp/bd"
expect 0 "nothing of the refused imports is stored" '' -- "$B" secret ls --repo bad --json
check "the bad repository is empty" grep -q '"resources": *\[\]' "$tmp/out"
expect 0 "nor of the refused directory" '' -- "$B" secret ls --repo r --json
check "repository r is empty" grep -q '"resources": *\[\]' "$tmp/out"

# the server refuses a bad batch as a whole too (the CLI's checks bypassed)
body='{"items":[{"path":"srv/a/ok","value":"b2s="},{"path":"srv/a/bad","value":"!!"}]}'
code=$(curl -s -o "$tmp/ans" -w '%{http_code}' -H "Authorization: Bearer $(cat "$V/admin.jwt")" \
        -H 'Content-Type: application/json' --data "$body" "$url/kbs/v0/resources/batch")
check "the server answers 400 to a bad item" [ "$code" = 400 ]
check "naming the item" grep -q 'items\[1\] (srv/a/bad): value is not base64 (nothing was stored)' "$tmp/ans"
expect 0 "the server stored nothing of it" '' -- "$B" secret ls --repo srv --json
check "repository srv is empty" grep -q '"resources": *\[\]' "$tmp/out"
code=$(curl -s -o "$tmp/ans" -w '%{http_code}' -H 'Content-Type: application/json' --data "$body" "$url/kbs/v0/resources/batch")
check "a batch without an admin token is 401" [ "$code" = 401 ]

# a writer token for repository w1 only: a batch touching w2 is refused (403) as a whole
"$B" admin token --key "$V/admin.key" --role writer --repo w1 --sub importer >"$tmp/w.jwt"
printf '{"path":"w1/a/ok","value":"1"}\n{"path":"w2/a/no","value":"2"}\n' >"$tmp/w.jsonl"
expect 1 "a writer importing outside its repositories" '' "(HTTP 403): items[1] (w2/a/no): writer" -- \
        "$B" secret import "$tmp/w.jsonl" --token "$tmp/w.jwt"
expect 0 "nothing of the writer's batch is stored" '' -- "$B" secret ls --repo w1 --json
check "repository w1 is empty" grep -q '"resources": *\[\]' "$tmp/out"
printf '{"path":"w1/a/ok","value":"1"}\n' >"$tmp/w1.jsonl"
expect 0 "a writer importing into its repository" "^imported 1 secrets" -- "$B" secret import "$tmp/w1.jsonl" --token "$tmp/w.jwt"

# the ledger records each import as admin entries with every path and digest
code=$(curl -s -o "$tmp/led" -w '%{http_code}' -H "Authorization: Bearer $(cat "$V/admin.jwt")" "$url/ledger/entries?start=0&end=100")
check "ledger entries readable" [ "$code" = 200 ]
check "an import is an admin entry" grep -q '"op":"resource.import"' "$tmp/led"
check "the writer's import is attributed to its sub" grep -q '"who":"importer"' "$tmp/led"
check "the entry lists a path with the digest of its sealed value" grep -q '\["imp/db/password","sha256:[0-9a-f]\{64\}","sha256:[0-9a-f]\{64\}"\]' "$tmp/led"
finish "secret import checks"
