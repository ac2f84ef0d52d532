#!/bin/sh
# README.md's demo, as written: the commands of the sh block under "The demo" and the agent
# attest line of the `make run` paragraph, taken from README.md when the test runs (the test
# follows the text; if a command stops working, the README is wrong). The development server
# is started as `make run` starts it (scripts/dev-run.sh), on a free port instead of 8080.
# Only two things of each command are rewritten: http://127.0.0.1:8080 becomes that server's
# URL and build/bin the built programs' directory; the commands run in a directory where var/
# is the server's development directory and docs/ the checkout's. The commands that name no
# --url use the CLI's default, http://127.0.0.1:8080, which VERITEE_SERVER overrides here.
# Checked: the attest line prints a token; every step exits 0 but the last command of the
# step that says it is refused, which exits 1, prints nothing on stdout and names on stderr
# the "(HTTP N)" the README names; the step that says "prints X" prints exactly X; `secret ls`
# lists the secret `secret put` stored. Then the token recipe of docs/kbs.md (agent attest
# into a file, the JWKS, jose jws ver) the same way: the claims come out verified.
set -u
. "$(dirname "$0")/lib/common.sh"
BIN="${VT_BIN:-build/bin}"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
README="$ROOT/README.md"
for x in veritee veriteed; do
        if [ ! -x "$BIN/$x" ]; then
                echo "skipped: $BIN/$x not built"
                exit 77
        fi
done
tmp=$(mktemp -d)
pid=""
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# the demo block: the lines between the first ```sh after the heading "The demo" and its ```,
# continuation lines (ending in \) joined
awk '/^#+ The demo/ { d = 1; next } d && /^```sh$/ { b = 1; next } b && /^```$/ { exit } b' \
        "$README" | awk '/\\$/ { sub(/\\$/, ""); l = l $0; next } { print l $0; l = "" }' >"$tmp/block"
# the first shell's line of the `make run` paragraph
grep -o '`build/bin/veritee agent attest [^`]*`' "$README" | head -n 1 | tr -d '`' >"$tmp/attest"
if [ ! -s "$tmp/block" ] || [ ! -s "$tmp/attest" ]; then
        fail "README.md has no sh block under \"The demo\" or no \`build/bin/veritee agent attest\` line"
        finish "README demo checks"
fi
echo "README demo block:"
sed 's/^/  | /' "$tmp/block"

# the development server of `make run` on a free port; its URL from the log
W="$tmp/work"
mkdir -p "$W"
ln -s "$ROOT/docs" "$W/docs"
VT_BIN="$BIN" VT_VAR="$W/var" VT_PORT=0 "$ROOT/scripts/dev-run.sh" >"$tmp/log" 2>&1 &
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

# run CMD: the README's command with its two rewrites, in W; sets rc, output in tmp/out, err
run() {
        c=$(printf '%s\n' "$1" | sed -e "s#http://127\\.0\\.0\\.1:8080#$url#g" -e "s#build/bin/#$BIN/#g")
        (cd "$W" && VERITEE_SERVER="$url" sh -c "$c") >"$tmp/out" 2>"$tmp/err"
        rc=$?
}

run "$(cat "$tmp/attest")"
if [ "$rc" -eq 0 ] && grep -qE '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$tmp/out"; then
        ok "make run's first line, $(cat "$tmp/attest"): prints a token"
else
        fail "$(cat "$tmp/attest"): exit $rc, no token"
        cat "$tmp/out" "$tmp/err"
fi

# the steps: "# N. what" comments and the commands under each
awk '/^# *[0-9]+\./ { n = $2 + 0 } /^#/ { c[n] = c[n] " " $0; next } /^[ \t]*$/ { next }
     { print n "\t" $0 } END { for (i in c) print i "\tCOMMENT" c[i] > "/dev/stderr" }' \
        "$tmp/block" >"$tmp/cmds" 2>"$tmp/comments"
steps=$(cut -f1 "$tmp/cmds" | sort -u | wc -l)
[ "$steps" -ge 4 ] || fail "the demo block has $steps numbered steps, the test expects at least 4"
comment() { awk -F '\t' -v n="$1" '$1 == n { print $2 }' "$tmp/comments"; }
stored="" printed=0 listed=0 refused=0
while IFS="$(printf '\t')" read -r n cmd; do
        what=$(comment "$n")
        last=$(awk -F '\t' -v n="$n" '$1 == n { l = $2 } END { print l }' "$tmp/cmds")
        want=0
        case $what in *refused*) [ "$cmd" = "$last" ] && want=1 ;; esac
        run "$cmd"
        if [ "$rc" -ne "$want" ]; then
                fail "step $n: \"$cmd\": exit $rc, want $want"
                cat "$tmp/out" "$tmp/err"
                continue
        fi
        case $cmd in
        *" secret put "*)
                stored=$(printf '%s\n' "$cmd" | sed -n 's/.* secret put \([^ ]*\) .*/\1/p')
                ok "step $n: secret put $stored"
                ;;
        *" secret ls"*)
                if [ -n "$stored" ] && grep -qF -- "$stored" "$tmp/out"; then
                        ok "step $n: secret ls lists $stored"
                        listed=1
                else
                        fail "step $n: secret ls does not list \"$stored\""
                        cat "$tmp/out"
                fi
                ;;
        *)
                if [ "$want" -eq 1 ]; then
                        code=$(printf '%s\n' "$what" | sed -n 's/.*(HTTP \([0-9]*\)).*/\1/p')
                        if [ -s "$tmp/out" ]; then
                                fail "step $n: refused, yet printed on stdout"
                        elif [ -n "$code" ] && ! grep -qF "HTTP $code" "$tmp/err"; then
                                fail "step $n: the README says HTTP $code, the CLI said: $(cat "$tmp/err")"
                        else
                                ok "step $n: refused (exit 1): $(head -n 1 "$tmp/err")"
                                refused=1
                        fi
                        continue
                fi
                secret=$(printf '%s\n' "$what" | sed -n 's/.*prints \([^ ]*\).*/\1/p')
                if [ -n "$secret" ] && [ "$cmd" = "$last" ]; then
                        if [ "$(cat "$tmp/out")" = "$secret" ]; then
                                ok "step $n: prints $secret"
                                printed=1
                        else
                                fail "step $n: printed \"$(head -c 200 "$tmp/out")\", the README says $secret"
                                cat "$tmp/err"
                        fi
                else
                        ok "step $n: $cmd"
                fi
                ;;
        esac
done <"$tmp/cmds"

# the token recipe of docs/kbs.md (the sh block with "jose jws ver"), as written, in the same
# place: each line exits 0 and the last prints the verified claims
awk '/^```sh$/ { b = 1; t = ""; j = 0; next } b && /^```$/ { if (j) { printf "%s", t; exit } b = 0; next }
     b { t = t $0 "\n"; if ($0 ~ /jose jws ver/) j = 1 }' "$ROOT/docs/kbs.md" | grep -v '^ *#' >"$tmp/recipe"
tools_ok=1
for t in jose curl; do
        if ! command -v "$t" >/dev/null 2>&1; then
                tools_ok=0
                if [ -n "${CI:-}" ]; then
                        fail "$t not installed (scripts/deps.sh test installs it)"
                else
                        echo "skipped: the jose recipe of docs/kbs.md ($t not installed; scripts/deps.sh test installs it)"
                fi
        fi
done
if [ ! -s "$tmp/recipe" ]; then
        fail "docs/kbs.md has no sh block with \"jose jws ver\""
elif [ "$tools_ok" -eq 1 ]; then
        while IFS= read -r cmd; do
                run "$cmd"
                if [ "$rc" -ne 0 ]; then
                        fail "docs/kbs.md: \"$cmd\": exit $rc: $(head -c 300 "$tmp/err")"
                        break
                fi
                case $cmd in
                *"jose jws ver"*)
                        if grep -q '"eat_profile"' "$tmp/out" && grep -q '"ear.status":"affirming"' "$tmp/out"; then
                                ok "docs/kbs.md: $cmd: the token verifies, its claims printed"
                        else
                                fail "docs/kbs.md: $cmd: no claims printed"
                                head -c 300 "$tmp/out"
                        fi
                        ;;
                *) ok "docs/kbs.md: $cmd" ;;
                esac
        done <"$tmp/recipe"
        grep -q "jose jws ver" "$tmp/recipe" || fail "the recipe lost its jose line"
fi

[ "$printed" -eq 1 ] || fail "no step printed the secret the README names (\"prints X\")"
[ "$listed" -eq 1 ] || fail "no step listed the stored secret with secret ls"
[ "$refused" -eq 1 ] || fail "no step was refused as the README says"
finish "README demo checks"
