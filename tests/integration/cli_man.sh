#!/bin/sh
# The man pages veritee(1) and veriteed(8) that the build makes from --help
# (scripts/gen-man.sh): they are current (made again from the built programs, they are the
# same bytes), they render with groff's man macros without a warning, the rendered page holds
# every line of the program's --help, its environment and exit status; cmake --install puts
# them, the bash completion, LICENSE, CHANGELOG.md and the example configuration where they
# belong. groff missing fails when CI is set (scripts/deps.sh test installs groff-base) and
# skips otherwise.
set -u
. "$(dirname "$0")/lib/common.sh"
BIN="${VT_BIN:-build/bin}"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$BIN/.." && pwd)
for x in veritee veriteed; do
        if [ ! -x "$BIN/$x" ]; then
                echo "skipped: $BIN/$x not built"
                exit 77
        fi
done
if ! command -v groff >/dev/null 2>&1; then
        if [ -n "${CI:-}" ]; then
                echo "FAIL: groff not installed (scripts/deps.sh test installs groff-base)"
                exit 1
        fi
        echo "skipped: groff not installed (scripts/deps.sh test installs groff-base)"
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bs=$(printf '\b')

for p in veritee:1 veriteed:8; do
        prog=${p%:*} sec=${p#*:}
        page="$BUILD/man/$prog.$sec"
        if [ ! -s "$page" ]; then
                fail "$page was not made by the build"
                continue
        fi
        docdir=$(sed -n 's/^\.IR \(.*\) :$/\1/p' "$page" | head -n 1)
        sh "$ROOT/scripts/gen-man.sh" "$BIN/$prog" "$sec" "$docdir" "$tmp/again" 2>"$tmp/err" ||
                fail "gen-man.sh $prog: $(cat "$tmp/err")"
        check "$prog.$sec is current (made again from $prog --help: the same bytes)" \
                cmp -s "$page" "$tmp/again"
        # rendered as man(1) would on a UTF-8 terminal; overstrike bold and underline removed,
        # and the typographic hyphens, minus signs and quotes a non-Debian groff may print
        # made ASCII again
        if ! groff -man -Tutf8 -ww "$page" >"$tmp/raw" 2>"$tmp/warn" || [ -s "$tmp/warn" ]; then
                fail "groff -man -Tutf8 $prog.$sec: $(head -c 600 "$tmp/warn")"
                continue
        fi
        # shellcheck disable=SC1112 # the typographic characters are meant
        sed -e "s/.$bs//g" -e 's/‐/-/g; s/−/-/g; s/’/'"'"'/g; s/‘/`/g' "$tmp/raw" >"$tmp/page"
        ok "$prog.$sec renders with groff -man -Tutf8, no warning ($(wc -l <"$tmp/page") lines)"
        # section bodies are indented by 7 columns
        sed 's/^       //' "$tmp/page" >"$tmp/body"
        "$BIN/$prog" --help >"$tmp/help"
        n=0 missing=0
        while IFS= read -r line; do
                n=$((n + 1))
                [ -z "$line" ] && continue
                if [ "$n" -eq 1 ]; then # "Usage: PROG ...": the SYNOPSIS
                        line=${line#Usage: }
                        grep -qxF -- "$line" "$tmp/body" || { fail "$prog.$sec: SYNOPSIS lacks \"$line\""; missing=$((missing + 1)); }
                        continue
                fi
                if ! grep -qxF -- "$line" "$tmp/body"; then
                        fail "$prog.$sec lacks the help line \"$line\""
                        missing=$((missing + 1))
                fi
        done <"$tmp/help"
        [ "$missing" -eq 0 ] && ok "$prog.$sec holds each of the $n lines of $prog --help"
        for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT "EXIT STATUS" "SEE ALSO"; do
                grep -qx "$s" "$tmp/page" || fail "$prog.$sec has no $s section"
        done
        grep -q "^$prog - " "$tmp/body" || fail "$prog.$sec: NAME is not \"$prog - ...\""
        case $prog in
        veritee)
                for w in VERITEE_SERVER VERITEE_TOKEN "veriteed(8)"; do
                        grep -qF -- "$w" "$tmp/page" || fail "veritee.1 does not name $w"
                done
                for c in 0 1 2; do
                        grep -qx "       $c  *[a-z].*" "$tmp/page" || fail "veritee.1: no exit status $c"
                done
                ;;
        veriteed)
                for w in VERITEE_PG_DSN "veritee(1)" "examples/veriteed.yaml" "configuration.md"; do
                        grep -qF -- "$w" "$tmp/page" || fail "veriteed.8 does not name $w"
                done
                ;;
        esac
done

# what cmake --install puts where
if cmake --install "$BUILD" --prefix "$tmp/p" >"$tmp/install.log" 2>&1; then
        for f in share/man/man1/veritee.1 share/man/man8/veriteed.8 \
                share/bash-completion/completions/veritee share/doc/veritee/LICENSE \
                share/doc/veritee/CHANGELOG.md share/doc/veritee/examples/veriteed.yaml; do
                check "cmake --install puts $f" test -s "$tmp/p/$f"
        done
        check "the installed veritee.1 is the built one" cmp -s "$tmp/p/share/man/man1/veritee.1" "$BUILD/man/veritee.1"
        check "the installed LICENSE is the Apache License 2.0" grep -q "Apache License" "$tmp/p/share/doc/veritee/LICENSE"
else
        fail "cmake --install"
        tail -n 20 "$tmp/install.log"
fi
# every source names the licence LICENSE holds
if grep -q "^ *Version 2.0, January 2004" "$ROOT/LICENSE" &&
        ! grep -rL "SPDX-License-Identifier: Apache-2.0" "$ROOT/src" "$ROOT/lib" "$ROOT/include" --include='*.[ch]' | grep -q .; then
        ok "LICENSE is Apache-2.0, as every source's SPDX header says"
else
        fail "LICENSE and the sources' SPDX headers disagree"
        grep -rL "SPDX-License-Identifier: Apache-2.0" "$ROOT/src" "$ROOT/lib" "$ROOT/include" --include='*.[ch]' | head
fi
finish "man page and install checks"
