#!/bin/sh
# Secret releases per second through two veriteed replicas on one PostgreSQL against one
# replica on the embedded SQLite, with the same 20 clients, in the same run.
#
#   bench/replicas.sh [RUNS] [SECONDS]     (defaults: 3 runs of 10 seconds per figure)
#
# Each run starts a PostgreSQL server on 127.0.0.1 in a temporary directory (the test
# helper of tests/helpers/pgtest.c, through the test binary built by `make build-tests`),
# two replicas on it and one on SQLite, and has 20 attested clients fetch secrets in a
# loop: alternating between the two replicas, then from the single one. Every release is
# a ledger append made durable before the secret leaves. Prints every run and the medians.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3}
SECS=${2:-10}
T=${VT_BIN:-build/bin}/test_store_pg_replicas
[ -x "$T" ] || { echo "bench: build the tests first (make build-tests)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=1
while [ "$i" -le "$RUNS" ]; do
        VT_BIN=${VT_BIN:-build/bin} VT_REPLICAS_BENCH=1 VT_REPLICAS_SECONDS="$SECS" "$T" |
                grep '^{"clients"' | tee -a "$tmp/runs"
        i=$((i + 1))
done
median() {
        sed "s/.*\"$1\":\([0-9.]*\).*/\1/" "$tmp/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
pg=$(median postgres_2_replicas_per_sec)
sq=$(median sqlite_1_replica_per_sec)
echo "median releases/s: 2 replicas on PostgreSQL $pg, 1 replica on SQLite $sq; ratio $(echo "$pg $sq" | awk '{printf "%.2f", $1 / $2}')"
