#!/bin/sh
# Ledger throughput against its floors, measured in the same run.
#
#   bench/ledger.sh [RUNS] [SECONDS]      (defaults: 3 runs of 2 seconds per figure)
#
# For each run: `openssl speed ecdsap256` (verify/s: a receipt's cost is one ES256
# verification of its tree head plus ~log2(n) SHA-256), a synced 4 KiB write loop with
# `dd oflag=dsync` in the build directory (the latency of one durable write: 64 appenders
# share one per group, so 64 / latency bounds durable appends/s on this disk), then
# `veritee bench ledger --json` (durable appends with 1 and 64 appender threads and the CPU
# time each append took; receipts built and verified at 10^3, 10^4, 10^5 and 10^6
# entries). Prints the medians and ratios.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3}
SECS=${2:-2}
B=${VT_BIN:-build/bin}/veritee
[ -x "$B" ] || { echo "bench: build first (make build)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vt-bench-ledger-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
i=1
while [ "$i" -le "$RUNS" ]; do
        o=$(openssl speed -seconds "$SECS" ecdsap256 2>/dev/null | awk '/nistp256/ {print $NF}' | tail -1)
        echo "{\"op\":\"openssl_ecdsap256_verify\",\"per_sec\":$o}" >>"$tmp/runs"
        # dd prints "N bytes ... copied, T s, ..." : T / 500 writes
        t=$(dd if=/dev/zero of="$tmp/dsync" bs=4096 count=500 oflag=dsync 2>&1 | awk '/copied/ {for (k = 1; k <= NF; k++) if ($(k+1) == "s,") print $k}')
        echo "{\"op\":\"dsync_write\",\"per_sec\":$(echo "$t" | awk '{printf "%.1f", 500 / $1}')}" >>"$tmp/runs"
        "$B" bench ledger --seconds "$SECS" --db "$tmp/bench-$i.db" --json >>"$tmp/runs"
        rm -f "$tmp/bench-$i.db"*
        i=$((i + 1))
done
# median OP [ENTRIES] [THREADS]
median() {
        grep "\"op\":\"$1\"" "$tmp/runs" | { if [ -n "${2:-}" ]; then grep "\"entries\":$2,"; else cat; fi; } |
                { if [ -n "${3:-}" ]; then grep "\"threads\":$3,"; else cat; fi; } |
                sed 's/.*"per_sec":\([0-9.]*\).*/\1/' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ov=$(median openssl_ecdsap256_verify)
ds=$(median dsync_write)
a1=$(median ledger_append "" 1)
a64=$(median ledger_append "" 64)
echo "medians of $RUNS runs:"
echo "  openssl ecdsap256 verify/s            $ov"
echo "  synced 4 KiB writes/s (dd oflag=dsync) $ds   (64 per group: a bound of $(echo "$ds" | awk '{printf "%.0f", 64 * $1}') appends/s)"
echo "  durable appends/s, 1 thread           $a1"
echo "  durable appends/s, 64 threads         $a64   ($(echo "$a64 $ds" | awk '{printf "%.2f", $1 / (64 * $2)}') of that bound)"
# CPU (user + system) per append with 64 threads: the cores / that = what the CPU allows
c64=$(grep '"op":"ledger_append_cpu"' "$tmp/runs" | grep '"threads":64,' |
        sed 's/.*"us_per_append":\([0-9.]*\).*/\1/' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
nc=$(nproc 2>/dev/null || echo 1)
[ -z "$c64" ] || echo "  CPU per append, 64 threads            $c64 us   ($nc cores allow $(echo "$c64 $nc" | awk '{printf "%.0f", $2 * 1e6 / $1}') appends/s)"
for n in 1000 10000 100000 1000000; do
        b=$(median ledger_receipt_build "$n")
        v=$(median ledger_receipt_verify "$n")
        [ -n "$b" ] || continue
        echo "  receipts at $n entries: built $b/s, verified $v/s ($(echo "$v $ov" | awk '{printf "%.2f", $1 / $2}') of ecdsap256 verify)"
done
