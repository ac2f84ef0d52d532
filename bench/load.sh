#!/bin/sh
# The load scenario of issue 16 against a real veriteed on 127.0.0.1 with the default
# configuration (bench/loadgen.c says what it does and checks):
#
#   bench/load.sh [ROUND_SECONDS] [FIRST_SECONDS]     (defaults: 20 and 60)
#
# 200 concurrent clients doing the full attest-and-fetch flow for FIRST_SECONDS, then 6
# rounds of ROUND_SECONDS alternating 50/100/200 clients. Prints one row per round (flows,
# errors, wrong plaintexts, p50/p99 latency, server RSS, threads and descriptors after the
# round and their peaks during it, database + WAL size) and fails on any error, any wrong
# plaintext, or growth between rounds of the same client count (threads and descriptors:
# none; RSS: 10 % + 4 MiB). Needs the tests built (make build-tests).
set -eu
cd "$(dirname "$0")/.."
R=${1:-20}
F=${2:-60}
B=${VT_BIN:-build/bin}
[ -x "$B/loadgen" ] || { echo "load: build the tests first (make build-tests)" >&2; exit 2; }
VT_BIN=$B exec "$B/loadgen" -s "200x$F,50x$R,100x$R,200x$R,50x$R,100x$R,200x$R" \
        --rss-pct 10 --rss-mib 4
