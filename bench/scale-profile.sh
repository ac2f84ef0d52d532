#!/bin/sh
# A CPU profile of veriteed serving the full flow on a filled state directory (bench/
# scale.sh, KEEP=1, leaves them; or bench/scalefill --state DIR ...):
#
#   bench/scale-profile.sh STATE_DIR OUT [SECONDS] [CLIENTS]     (defaults: 20 s, 16)
#
# Runs bench/loadgen --state STATE_DIR (5 s of warm-up, then SECONDS + 10 measured) and,
# during the measured round, `perf record -F 499 -g` on the server's pid for SECONDS.
# Writes OUT.data (perf's), OUT.txt: `perf report --no-children` by shared object and by
# symbol (the first 40 lines of each), and the loadgen output, whose last "server CPU"
# line gives the CPU per release of that run. Compare two such profiles (e.g. 10^3 and
# 10^6 past flows) to see what grows. perf needs kernel.perf_event_paranoid <= 1 or root.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
ST=$1
OUT=$2
SECS=${3:-20}
CLIENTS=${4:-16}
B=${VT_BIN:-build/bin}
log=$OUT.loadgen
VT_BIN=$B "$B/loadgen" --state "$ST" -s "${CLIENTS}x5,${CLIENTS}x$((SECS + 10))" \
        --rss-pct 1000 --rss-mib 4096 >"$log" 2>&1 &
lg=$!
pid=
i=0
while [ -z "$pid" ] && [ $i -lt 600 ]; do
        pid=$(sed -n 's/^load: veriteed pid \([0-9]*\),.*/\1/p' "$log" 2>/dev/null)
        sleep 0.1
        i=$((i + 1))
done
[ -n "$pid" ] || { echo "scale-profile: no server pid in $log" >&2; kill "$lg"; exit 1; }
sleep 7 # the warm-up round, and 2 s into the measured one
perf record -q -F 499 -g -p "$pid" -o "$OUT.data" -- sleep "$SECS" >/dev/null 2>&1
wait "$lg"
{
        echo "# perf report --no-children --sort dso (server, $SECS s, $CLIENTS clients)"
        perf report -i "$OUT.data" --no-children --sort dso -g none --stdio 2>/dev/null | grep -v '^$' | head -40
        echo "# perf report --no-children --sort symbol -g none"
        perf report -i "$OUT.data" --no-children --sort symbol -g none --stdio 2>/dev/null |
                grep -v '^$' | head -60
        echo "# loadgen"
        cat "$log"
} >"$OUT.txt"
grep 'server CPU' "$log" | tail -1
