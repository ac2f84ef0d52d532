#!/bin/sh
# The scale figures of issue 19: server CPU per attested release and releases per second
# against the number of stored secrets and of past flows.
#
#   bench/scale.sh [RUNS] [SECONDS] [CLIENTS] [SIZES]
#       defaults: 3 runs of 20 seconds, 16 clients, sizes "1000 10000 100000 1000000"
#   environment: VT_BIN (build/bin), SCALE_DIR (default: a new directory under $TMPDIR; removed,
#   given or not, unless KEEP=1), SERIES ("secrets flows"), PLOT=1 (default: write docs/bench/
#   scale-*.dat and draw docs/bench/scale-*.png with bench/scale.gp), CONFIG_ADD (YAML
#   lines appended to the server's configuration, as loadgen --config-add).
#
# Two series, each on one state directory that grows from size to size:
#   secrets  bench/scalefill --secrets N (N stored secrets, sealed, each with a release
#            policy, written through the store's API as the bulk import writes them);
#   flows    1000 secrets, then bench/scalefill --flows N (N past flows: 2N ledger
#            entries, attest and release, with their Merkle nodes and a signed tree head,
#            and N attested sessions with their claims, written through the store's API:
#            making them over HTTP would take hours).
# At each size, RUNS times: bench/loadgen --state DIR starts veriteed (SQLite, ledger on,
# the default configuration otherwise) on that directory and runs CLIENTS concurrent
# clients doing the full flow (auth, simulator evidence, attest, fetch and decrypt the
# secret) for 5 seconds (warm-up: caches, connections) and then SECONDS (measured). The
# measured round gives releases per second and the server's CPU time (user + system, from
# /proc/PID/stat) per release. The runs themselves add flows (about a thousand per run)
# to the state they run on: each line says how many past flows (ledger entries / 2) the
# state held when the run started, and the flows series is plotted against that median.
#
# Output: one line per run, then per series a table of medians, and the ratio of the
# largest size to the smallest (the target of issue 19: CPU per release at 10^6 at most
# 1.15 times the figure at 10^3). Needs the tests built (make build-tests): loadgen and
# scalefill are built with them.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3}
SECS=${2:-20}
CLIENTS=${3:-16}
SIZES=${4:-1000 10000 100000 1000000}
SERIES=${SERIES:-secrets flows}
B=${VT_BIN:-build/bin}
for t in loadgen scalefill veriteed; do
        [ -x "$B/$t" ] || { echo "scale: build the tests first (make build-tests): no $B/$t" >&2; exit 2; }
done
W=${SCALE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/vt-scale-XXXXXX")}
mkdir -p "$W"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT
OUT=docs/bench
mkdir -p "$OUT"

# run SERIES SIZE STATE: one loadgen run, appends "series size cpu_ms_per_release
# releases_per_s past_flows_before load1" to $W/runs (past flows: ledger entries / 2)
run() {
        log=$W/run.log
        led=$(sqlite3 "$3/veritee.db" 'SELECT count(*) / 2 FROM ledger_entries')
        VT_BIN=$B "$B/loadgen" --state "$3" -s "${CLIENTS}x5,${CLIENTS}x$SECS" \
                --rss-pct 1000 --rss-mib 4096 ${CONFIG_ADD:+--config-add "$CONFIG_ADD"} >"$log" 2>&1 ||
                { cat "$log" >&2; echo "scale: loadgen failed" >&2; exit 1; }
        # "load: round 2: server CPU S s for F flows in T s: C ms per flow"
        line=$(grep '^load: round 2: server CPU' "$log")
        cpu=$(echo "$line" | awk '{print $14}')
        rate=$(echo "$line" | awk '{printf "%.1f", $9 / $12}')
        load=$(cut -d' ' -f1 /proc/loadavg)
        echo "$1 $2 $cpu $rate $led $load" | tee -a "$W/runs"
}

for s in $SERIES; do
        st=$W/state-$s
        [ "$s" = flows ] && "$B/scalefill" --state "$st" --secrets 1000
        for n in $SIZES; do
                if [ "$s" = secrets ]; then
                        "$B/scalefill" --state "$st" --secrets "$n"
                else
                        "$B/scalefill" --state "$st" --flows "$n"
                fi
                i=1
                while [ "$i" -le "$RUNS" ]; do
                        run "$s" "$n" "$st"
                        i=$((i + 1))
                done
        done
done

# medians per series and size: size median_cpu_ms median_rate runs...
med() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2] + a[NR/2+1]) / 2}'; }
for s in $SERIES; do
        dat=$W/scale-$s.dat
        echo "# $s  median_cpu_ms_per_release  median_releases_per_s  load1_median  past_flows_median  (runs: cpu ms)" >"$dat"
        for n in $SIZES; do
                c=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n {print $3}' "$W/runs" | med)
                r=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n {print $4}' "$W/runs" | med)
                l=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n {print $6}' "$W/runs" | med)
                f=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n {print $5}' "$W/runs" | med)
                all=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n {printf "%s ", $3}' "$W/runs")
                echo "$n $c $r $l $f  # $all" >>"$dat"
        done
        echo "medians of $RUNS runs, $CLIENTS clients, $SECS s, series $s:"
        cat "$dat"
        first=$(awk '!/^#/ {print $2; exit}' "$dat")
        last=$(awk '!/^#/ {v = $2} END {print v}' "$dat")
        echo "  CPU per release, largest / smallest size: $(echo "$first $last" | awk '{printf "%.3f", $2 / $1}') (target <= 1.15)"
        [ "${PLOT:-1}" = 1 ] && cp "$dat" "$OUT/scale-$s.dat"
done
if [ "${PLOT:-1}" = 1 ] && command -v gnuplot >/dev/null; then
        gnuplot -e "dir='$OUT'" bench/scale.gp && echo "scale: plots in $OUT/scale-cpu.png, $OUT/scale-rate.png"
fi
