#!/bin/sh
# Help for every command family: `veritee CMD --help` (also -h and help) exits 0 and
# prints on stdout the usage lines of that family, each of which the top-level help
# has too; an unknown command still exits 2 and names itself on stderr.
set -u
. "$(dirname "$0")/lib/common.sh"
B="${VT_BIN:-build/bin}/veritee"
if [ ! -x "$B" ]; then
        echo "skipped: $B not built"
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$B" --help >"$tmp/all" 2>&1 || fail "veritee --help exits non-zero"
for cmd in inspect verify bench agent secret policy refval admin sim ledger; do
        for flag in --help -h help; do
                if ! "$B" "$cmd" "$flag" >"$tmp/out" 2>"$tmp/err"; then
                        fail "$cmd $flag: exit $?"; cat "$tmp/err"; continue
                fi
                if ! grep -q "^ *\(usage: veritee \)\{0,1\}$cmd " "$tmp/out"; then
                        fail "$cmd $flag: stdout lacks a $cmd usage line"; cat "$tmp/out"; continue
                fi
                echo "ok: $cmd $flag"
        done
        # the family's lines are the top-level help's (admin and sim have their own text)
        case $cmd in admin | sim) continue ;; esac
        "$B" "$cmd" --help | grep "^  $cmd " >"$tmp/lines"
        [ -s "$tmp/lines" ] || fail "$cmd: no usage lines"
        while IFS= read -r line; do
                grep -qxF -- "$line" "$tmp/all" || fail "$cmd: \"$line\" is not in veritee --help"
        done <"$tmp/lines"
done
# every family is in the top-level help
for cmd in inspect verify bench agent secret policy refval admin sim ledger; do
        grep -q "^  $cmd " "$tmp/all" || fail "veritee --help lacks $cmd"
done
for tee in snp tdx az-snp-vtpm tpm; do
        grep -q "^  verify .*$tee" "$tmp/all" || fail "veritee --help lacks verify $tee"
done
"$B" frobnicate >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ]; then
        fail "unknown command: exit $rc, want 2"
elif ! grep -qF 'unknown command "frobnicate" (see veritee --help)' "$tmp/err"; then
        fail "unknown command: stderr lacks the reason"; cat "$tmp/err"
else
        echo "ok: unknown command exits 2 and says so"
fi

finish "help checks"
