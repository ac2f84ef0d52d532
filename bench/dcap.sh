#!/bin/sh
# Intel DCAP quote verification throughput against the crypto floor and the JavaScript
# peer, measured side by side in one run.
#
#   bench/dcap.sh [RUNS] [SECONDS]      (defaults: 5 runs of 3 seconds)
#
# For each run: `openssl speed -seconds S ecdsap256` (verify/s, one thread); `veritee
# bench tdx` on 1 and 2 threads and `veritee bench sgx` on 1 thread (full vt_dcap_verify,
# collateral parsed once, PCK chain and verified-QE-report caches warm); and @phala/dcap-qvl (pure JS, the
# version in bench/package.json) on the same quotes, collateral and as-of time
# (bench/dcap-qvl.mjs: 10 warm-up verifications, then as many as fit in S seconds).
# Prints every run, the medians and the ratios:
#   veritee per thread / (openssl ecdsap256 verify/s / 2)   (the issue's floor: two P-256
#                                                           verifications a quote; target >= 0.8)
#   veritee per thread / openssl ecdsap256 verify/s         (a warm verification now needs one:
#                                                           the QE report's is remembered)
#   veritee / dcap-qvl                                      (target >= 40)
# dcap-qvl is installed into bench/node_modules (git-ignored) when it is missing; without
# node or npm its columns read n/a. The machine is shared and noisy: read medians.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SECS=${2:-3}
B=${VT_BIN:-build/bin}/veritee
T=${VT_TESTDATA:-../shared/testdata}
AT=2025-06-20T00:00:00Z
TDX_Q="$T/dcap/tdx_b0c06f_eval17/quote.bin"
TDX_C="$T/dcap/tdx_b0c06f_eval17/collateral.json"
SGX_Q="$T/dcap/sgx_00a067_eval17/quote.bin"
SGX_C="$T/dcap/sgx_00a067_eval17/collateral.json"
if [ ! -f "$TDX_Q" ] || [ ! -f "$SGX_Q" ]; then
        echo "skipped: ../shared/testdata not found" >&2
        exit 0
fi
[ -x "$B" ] || { echo "bench: build first (make build)" >&2; exit 2; }

# the JavaScript peer, pinned by bench/package.json
JS=1
want=$(sed -n 's/.*"@phala\/dcap-qvl": *"\([^"]*\)".*/\1/p' bench/package.json)
have=$(node -p 'require("./bench/node_modules/@phala/dcap-qvl/package.json").version' 2>/dev/null || true)
if ! command -v node >/dev/null 2>&1; then
        echo "bench: node not found; dcap-qvl columns are n/a" >&2
        JS=0
elif [ "$have" != "$want" ]; then
        echo "bench: installing @phala/dcap-qvl $want into bench/node_modules" >&2
        if ! (cd bench && npm install --no-package-lock --no-audit --no-fund >&2); then
                echo "bench: npm install failed; dcap-qvl columns are n/a" >&2
                JS=0
        fi
fi

rate() { sed 's/.*"per_sec":\([0-9.]*\).*/\1/'; }
js() { # js QUOTE COLLATERAL
        if [ "$JS" = 1 ]; then
                node bench/dcap-qvl.mjs --quote "$1" --collateral "$2" --at "$AT" --seconds "$SECS" | rate
        else
                echo n/a
        fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
i=1
while [ "$i" -le "$RUNS" ]; do
        o=$(openssl speed -seconds "$SECS" ecdsap256 2>/dev/null | awk '/nistp256/ {print $NF}' | tail -1)
        t1=$("$B" bench tdx --seconds "$SECS" --threads 1 --quote "$TDX_Q" --collateral "$TDX_C" --at "$AT" | rate)
        t2=$("$B" bench tdx --seconds "$SECS" --threads 2 --quote "$TDX_Q" --collateral "$TDX_C" --at "$AT" | rate)
        s1=$("$B" bench sgx --seconds "$SECS" --threads 1 --quote "$SGX_Q" --collateral "$SGX_C" --at "$AT" | rate)
        jt=$(js "$TDX_Q" "$TDX_C")
        js_=$(js "$SGX_Q" "$SGX_C")
        for f in o t1 t2 s1 jt js_; do eval "echo \"\$$f\"" >>"$tmp/$f"; done
        echo "run $i: openssl ecdsap256 verify/s=$o veritee tdx 1t=$t1 tdx 2t=$t2 sgx 1t=$s1 dcap-qvl tdx=$jt sgx=$js_"
        i=$((i + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() {
        if grep -q n/a "$1"; then echo n/a; return; fi
        sort -n "$1" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
mo=$(median "$tmp/o")
mt1=$(median "$tmp/t1")
mt2=$(median "$tmp/t2")
ms1=$(median "$tmp/s1")
mjt=$(median "$tmp/jt")
mjs=$(median "$tmp/js_")
echo "median: openssl=$mo tdx_1t=$mt1 tdx_2t=$mt2 sgx_1t=$ms1 dcap_qvl_tdx=$mjt dcap_qvl_sgx=$mjs"
awk -v o="$mo" -v t1="$mt1" -v t2="$mt2" -v s1="$ms1" 'BEGIN {
        f = o / 2
        printf "floor: openssl/2 = %.1f verifications/s (two P-256 verifications each)\n", f
        printf "ratio: tdx 1 thread %.3f of the floor; sgx 1 thread %.3f (target >= 0.8)\n", t1 / f, s1 / f
        printf "ratio: tdx 2 threads %.3f of the one-thread floor (%.2fx one thread)\n", t2 / f, t2 / t1
        printf "ratio: tdx 1 thread %.3f, sgx 1 thread %.3f of one P-256 verification (warm: the quote signature only)\n", t1 / o, s1 / o
}'
if [ "$mjt" != n/a ]; then
        awk -v t1="$mt1" -v s1="$ms1" -v jt="$mjt" -v js="$mjs" 'BEGIN {
                printf "ratio: veritee/dcap-qvl tdx %.1fx, sgx %.1fx (target >= 40)\n", t1 / jt, s1 / js
        }'
fi
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(openssl version); node $(node --version 2>/dev/null || echo n/a); dcap-qvl ${want}"
