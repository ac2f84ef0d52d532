#!/bin/sh
# SEV-SNP verification throughput against the crypto floor, measured in one run.
#
#   bench/snp.sh [RUNS] [SECONDS]      (defaults: 5 runs of 3 seconds)
#
# For each run: `openssl speed -seconds S ecdsap384` (verify/s, one thread), then
# `veritee bench snp --threads 1` and `--threads 2` (full verification of a recorded
# Milan report with a warm chain cache). Prints every run and the medians, and the
# ratios veritee/openssl. The machine is shared and noisy: read medians, not single runs.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SECS=${2:-3}
B=${VT_BIN:-build/bin}/veritee
T=${VT_TESTDATA:-../shared/testdata}
REPORT="$T/snp/msft-tav/milan_attestation_report.bin"
CERT="$T/snp/msft-tav/milan_vcek.pem"
if [ ! -f "$REPORT" ]; then
        echo "skipped: ../shared/testdata not found" >&2
        exit 0
fi
[ -x "$B" ] || { echo "bench: build first (make build)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=1
while [ "$i" -le "$RUNS" ]; do
        o=$(openssl speed -seconds "$SECS" ecdsap384 2>/dev/null | awk '/nistp384/ {print $NF}' | tail -1)
        t1=$("$B" bench snp --seconds "$SECS" --threads 1 --report "$REPORT" --cert "$CERT" | sed 's/.*"per_sec":\([0-9.]*\).*/\1/')
        t2=$("$B" bench snp --seconds "$SECS" --threads 2 --report "$REPORT" --cert "$CERT" | sed 's/.*"per_sec":\([0-9.]*\).*/\1/')
        echo "$o" >>"$tmp/o"
        echo "$t1" >>"$tmp/t1"
        echo "$t2" >>"$tmp/t2"
        echo "run $i: openssl ecdsap384 verify/s=$o veritee 1 thread=$t1 2 threads=$t2"
        i=$((i + 1))
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
mo=$(median "$tmp/o")
m1=$(median "$tmp/t1")
m2=$(median "$tmp/t2")
echo "median: openssl=$mo veritee_1t=$m1 veritee_2t=$m2"
awk -v o="$mo" -v a="$m1" -v b="$m2" 'BEGIN {printf "ratio: 1 thread %.3f of openssl; 2 threads %.3f of openssl (%.2fx one thread)\n", a/o, b/o, b/a}'
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(openssl version)"
