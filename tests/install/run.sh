#!/bin/sh
# The installable library: `cmake --install` of the build into a temporary prefix, then a
# small program (tests/install/verify_snp.c) built with `pkg-config veritee` against the
# installed headers and libveritee.so only, which verifies a recorded SEV-SNP report.
# Also: libveritee.so exports exactly the VT_EXPORT functions (libveritee.exports), and the
# installed headers include nothing that is not installed.
# usage: run.sh BUILD_DIR
set -u
BUILD=${1:?usage: run.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TD=${VT_TESTDATA:-$ROOT/../shared/testdata}
CC=${VT_CC:-cc}
for t in pkg-config "$CC" nm; do
        command -v "$t" >/dev/null 2>&1 || {
                echo "skipped: $t not installed"
                exit 77
        }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $1"; }
fail() {
        echo "FAIL: $1"
        fails=$((fails + 1))
}

if cmake --install "$BUILD" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1; then
        ok "cmake --install"
else
        fail "cmake --install"
        cat "$tmp/install.log"
        exit 1
fi
P="$tmp/prefix"
lib=$(find "$P" -name 'libveritee.so' | head -n 1)
pc=$(find "$P" -name veritee.pc | head -n 1)
for f in "$P/bin/veritee" "$P/bin/veriteed" "$lib" "$pc" "$P/include/veritee/snp.h" \
        "$P/share/doc/veritee/README.md" "$P/share/doc/veritee/ARCHITECTURE.md"; do
        if [ -n "$f" ] && [ -e "$f" ]; then ok "installed ${f#"$P"/}"; else fail "not installed: $f"; fi
done

# exactly the marked functions are exported
nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | LC_ALL=C sort >"$tmp/exported"
grep . "$BUILD/libveritee.exports" | LC_ALL=C sort >"$tmp/marked"
if cmp -s "$tmp/exported" "$tmp/marked"; then
        ok "libveritee.so exports the $(wc -l <"$tmp/marked") VT_EXPORT functions and nothing else"
else
        fail "exported symbols differ from the VT_EXPORT marks (< exported, > marked)"
        diff "$tmp/exported" "$tmp/marked" | head -n 20
fi

# a program of someone else's: installed headers and library only
export PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --define-variable=prefix="$P" --cflags --libs veritee) || fail "pkg-config veritee"
# shellcheck disable=SC2086
if "$CC" -std=c11 -Wall -Wextra -Werror ${VT_EXTRA_CFLAGS:-} -o "$tmp/verify_snp" \
        "$ROOT/tests/install/verify_snp.c" $flags -Wl,-rpath,"$(dirname "$lib")" 2>"$tmp/cc.log"; then
        ok "verify_snp.c builds with \`pkg-config --cflags --libs veritee\` ($flags)"
else
        fail "verify_snp.c does not build against the installed library"
        cat "$tmp/cc.log"
fi
if [ -x "$tmp/verify_snp" ]; then
        if ldd "$tmp/verify_snp" | grep -q "$lib"; then
                ok "verify_snp links the installed libveritee.so"
        else
                fail "verify_snp does not use the installed libveritee.so"
                ldd "$tmp/verify_snp"
        fi
        if [ ! -d "$TD/snp" ]; then
                echo "skipped: ../shared/testdata not found (the recorded report)"
                [ "$fails" -eq 0 ] && exit 77
        else
                out=$("$tmp/verify_snp" "$TD/snp/gsg/milan_v2_attestation.bin" "$TD/snp/gsg/milan_v2_vcek.der")
                want="verified: Milan, measurement b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"
                if [ "$out" = "$want" ]; then ok "the recorded Milan report verifies through the shared library"; else
                        fail "verify_snp: $out"
                fi
                cp "$TD/snp/gsg/milan_v2_attestation.bin" "$tmp/bad.bin"
                printf '\001' | dd of="$tmp/bad.bin" bs=1 seek=$((0x90)) conv=notrunc 2>/dev/null
                out=$("$tmp/verify_snp" "$tmp/bad.bin" "$TD/snp/gsg/milan_v2_vcek.der")
                case $out in
                rejected:*signature*) ok "a changed measurement byte is rejected: $out" ;;
                *) fail "a changed measurement byte: $out" ;;
                esac
        fi
fi
echo "$fails failed"
[ "$fails" -eq 0 ]
