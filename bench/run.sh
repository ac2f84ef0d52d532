#!/bin/sh
# make bench: every benchmark of issue 18 in one run, each figure next to its floor.
#
#   bench/run.sh [--help]          (make bench builds the tests first, then runs this)
#
# Settings (environment):
#   RUNS=3          runs of everything; every figure is the median of its RUNS values
#   SECS=2          seconds per verifier figure (veritee bench, the npm peers)
#   FLOOR_SECS=1    seconds per `openssl speed` operation (the floors)
#   FLOW_SECS=5     seconds per full-flow round (SQLite: 1, 8, 64 and again 64 clients;
#                   two replicas on PostgreSQL: 1, 8, 64)
#   SESSIONS=1000   sessions opened (auth only) before the rounds, for their RSS
#   STARTS=5        veriteed starts timed to ready per run
#   LEDGER_SECS=1   seconds per ledger figure (veritee bench ledger)
#   REPLICAS_SECS=5 seconds per replica figure (0: skip bench/replicas.sh's measurement)
#   PHASES=all      the phases to run, comma-separated, of: verifiers, peers, flow, pgflow,
#                   replicas, ledger (the floors always run: every ratio needs its run's).
#                   E.g. PHASES=pgflow DOCS=0 measures the flow on two replicas alone; the
#                   report (bench/results/latest.json, latest.md) says "not measured" for
#                   the rest, so keep DOCS=0 to leave docs/BENCHMARKS.md as it is
#   DOCS=1          rewrite the marked section of docs/BENCHMARKS.md and docs/bench/*.png
#   VT_BIN=build/bin, VT_TESTDATA=../shared/testdata
# With the defaults it takes about 8 minutes on 2 cores.
#
# Each run, in this order: the floors (`openssl speed -seconds FLOOR_SECS ecdsap384
# ecdsap256 ecdhp256 rsa2048` on one thread, and a synced 4 KiB write loop, dd oflag=dsync);
# `veritee bench snp|tdx|sgx|azure|nvidia-gpu` on 1 and 2 threads and snp on the Genoa
# vector; the openssl floors again (a run's floor is the mean of the two, which bracket
# the verifiers: on a shared machine the load moves within a run); the peers on the same evidence (bench/dcap-qvl.mjs, bench/snp-peers.mjs; npm
# packages pinned in bench/package.json, installed into bench/node_modules); the full flow
# (bench/loadgen --json: auth, simulator evidence, attest, resource, JWE decrypted, against
# a real veriteed on SQLite; its floor is measured again right before and right after its
# rounds, and a run's flow ratio is to the mean of those two rather than to the floors
# around the verifiers, minutes earlier: the neighbours' load moves a flow and its floor
# alike); the same full flow on two veriteed replicas sharing one
# PostgreSQL (bench/loadgen --postgres: a PostgreSQL server started on 127.0.0.1 in a
# temporary directory, fsync on; each flow's auth and attest on one replica and its
# resource on the other, in turn; server CPU per release both for the two veriteed and
# with the PostgreSQL processes; 1, 8 and 64 clients x FLOW_SECS; "not measured" when
# PostgreSQL is not installed; its floor too is measured right before and after its
# rounds); bench/replicas.sh's measurement (releases only: 20 clients
# with tokens fetch secrets from two replicas on PostgreSQL, against one on SQLite, same
# run); `veritee bench ledger --json`. A figure that cannot be measured
# (no testdata, no node, a peer that needs the network) is recorded with its reason.
#
# Writes bench/results/raw.jsonl (every value of every run; git-ignored), then
# bench/report.py makes bench/results/latest.json (all figures, the machine, the command),
# bench/results/latest.md (the table), docs/bench/*.png (gnuplot) and rewrites the section
# between "<!-- make bench: begin -->" and "<!-- make bench: end -->" at the top of
# docs/BENCHMARKS.md. The machine may be shared and noisy: the load average before and
# after is recorded; read medians, and re-run on a quiet machine for figures to quote.
# After a change to the report only, re-render the last run without measuring again:
#   python3 bench/report.py --raw bench/results/raw.jsonl --out bench/results \
#           --machine-from bench/results/latest.json
set -eu
case "${1:-}" in
-h | --help)
        sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
"") ;;
*)
        echo "usage: bench/run.sh [--help] (settings by environment: see --help)" >&2
        exit 2
        ;;
esac
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-2}
FLOOR_SECS=${FLOOR_SECS:-1}
FLOW_SECS=${FLOW_SECS:-5}
SESSIONS=${SESSIONS:-1000}
STARTS=${STARTS:-5}
LEDGER_SECS=${LEDGER_SECS:-1}
REPLICAS_SECS=${REPLICAS_SECS:-5}
DOCS=${DOCS:-1}
PHASES=${PHASES:-all}
for p in $(echo "$PHASES" | tr ',' ' '); do
        case $p in
        all | verifiers | peers | flow | pgflow | replicas | ledger) ;;
        *)
                echo "bench: PHASES: unknown phase $p (all, verifiers, peers, flow, pgflow, replicas, ledger)" >&2
                exit 2
                ;;
        esac
done
# want PHASE: whether PHASES asks for it
want() { case ",$PHASES," in *,all,* | *",$1,"*) return 0 ;; esac; return 1; }
BIN=${VT_BIN:-build/bin}
T=${VT_TESTDATA:-../shared/testdata}
export VT_TESTDATA="$T"
B="$BIN/veritee"
for f in "$B" "$BIN/veriteed" "$BIN/loadgen"; do
        [ -x "$f" ] || { echo "bench: $f missing: build the tests first (make build-tests)" >&2; exit 2; }
done
OUT=bench/results
mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"
: >"$RAW"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vt-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t_start=$(date +%s)

# phase NAME: says what starts, and records how long the previous phase took
phase_t=$(date +%s)
phase_n=""
phase() {
        t=$(date +%s)
        [ -z "$phase_n" ] || printf '{"key":"phase","run":%s,"data":{"phase":"%s","seconds":%s}}\n' \
                "${i:-0}" "$phase_n" "$((t - phase_t))" >>"$RAW"
        phase_t=$t
        phase_n=$1
        [ "$1" = end ] || echo "bench: run $i of $RUNS: $1" >&2
}

# rec KEY RUN JSON: one measured value (JSON the command printed)
rec() { printf '{"key":"%s","run":%s,"data":%s}\n' "$1" "$2" "$3" >>"$RAW"; }
# err KEY RUN REASON: a figure that could not be measured, and why
err() {
        r=$(printf '%s' "$3" | tr '\n\t"\\' "  ''" | cut -c1-300)
        printf '{"key":"%s","run":%s,"error":"%s"}\n' "$1" "$2" "$r" >>"$RAW"
        echo "  $1: not measured: $r" >&2
}
# try KEY RUN CMD...: runs CMD, records its last JSON line or its error output
try() {
        k=$1 n=$2
        shift 2
        if "$@" >"$tmp/o" 2>"$tmp/e"; then
                l=$(grep '^{' "$tmp/o" | tail -1)
                if [ -n "$l" ]; then rec "$k" "$n" "$l"; else err "$k" "$n" "no output: $(tail -c 300 "$tmp/e")"; fi
        else
                l=$(grep '"error"' "$tmp/o" | tail -1 | sed 's/.*"error":"\(.*\)"}.*/\1/')
                err "$k" "$n" "${l:-$(tail -c 300 "$tmp/e")}"
        fi
}

# ---- the peers: installed from bench/package.json when missing or not the pinned version
NODE=1
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        NODE=0
        NODE_WHY="node or npm not installed (scripts/deps.sh test installs them)"
else
        ok=1
        for p in @phala/dcap-qvl @tinfoilsh/verifier @lit-protocol/sev-snp-utils-sdk; do
                want=$(node -p "require('./bench/package.json').dependencies['$p']")
                have=$(node -p "JSON.parse(require('fs').readFileSync('bench/node_modules/$p/package.json')).version" 2>/dev/null || true)
                [ "$have" = "$want" ] || ok=0
        done
        if [ "$ok" = 0 ]; then
                echo "bench: npm install (bench/package.json) into bench/node_modules" >&2
                if ! (cd bench && npm install --no-package-lock --no-audit --no-fund >"$tmp/npm" 2>&1); then
                        NODE=0
                        NODE_WHY="npm install failed: $(grep -m1 'npm error' "$tmp/npm" || tail -1 "$tmp/npm")"
                fi
        fi
fi
TD=1
[ -d "$T/snp" ] && [ -d "$T/dcap" ] || TD=0

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $RUNS runs; load average before: $load0 ($(nproc) cores)" >&2
# floors RUN: openssl speed on one thread, one JSON line of ops/s
floors() {
        openssl speed -seconds "$FLOOR_SECS" ecdsap384 ecdsap256 ecdhp256 rsa2048 >"$tmp/speed" 2>/dev/null
        # "256 bits ecdsa (nistp256)  t t  sign/s verify/s", "256 bits ecdh (nistp256) t ops/s",
        # "rsa 2048 bits t t sign/s verify/s"
        awk '/ecdsa \(nistp384\)/ {s384=$(NF-1); v384=$NF}
             /ecdsa \(nistp256\)/ {s256=$(NF-1); v256=$NF}
             /ecdh \(nistp256\)/ {e256=$NF}
             /^rsa 2048 bits/ {rs=$(NF-1); rv=$NF}
             END {printf "{\"p384_sign\":%s,\"p384_verify\":%s,\"p256_sign\":%s,\"p256_verify\":%s,\"ecdh_p256\":%s,\"rsa2048_sign\":%s,\"rsa2048_verify\":%s}\n",
                  s384, v384, s256, v256, e256, rs, rv}' "$tmp/speed" >"$tmp/floor"
        rec openssl "$1" "$(cat "$tmp/floor")"
}
# flow_floor RUN KEYS: the full flow's floor alone (P-384 verify, P-256 sign, P-256 ECDH),
# measured next to the flow's rounds and recorded under each of KEYS: openssl_flow
# brackets the rounds on SQLite, openssl_pgflow those on PostgreSQL
flow_floor() {
        openssl speed -seconds "$FLOOR_SECS" ecdsap384 ecdsap256 ecdhp256 >"$tmp/speed" 2>/dev/null
        awk '/ecdsa \(nistp384\)/ {v384=$NF}
             /ecdsa \(nistp256\)/ {s256=$(NF-1)}
             /ecdh \(nistp256\)/ {e256=$NF}
             END {printf "{\"p384_verify\":%s,\"p256_sign\":%s,\"ecdh_p256\":%s}\n", v384, s256, e256}' \
                "$tmp/speed" >"$tmp/floor"
        for k in $2; do rec "$k" "$1" "$(cat "$tmp/floor")"; done
}

i=1
while [ "$i" -le "$RUNS" ]; do
        phase floors
        floors "$i"
        t=$(dd if=/dev/zero of="$tmp/dsync" bs=4096 count=300 oflag=dsync 2>&1 |
                awk '/copied/ {for (k = 1; k <= NF; k++) if ($(k+1) == "s,") print $k}')
        rm -f "$tmp/dsync"
        rec dsync "$i" "{\"per_sec\":$(echo "$t" | awk '{printf "%.1f", 300 / $1}')}"

        S="$T/snp/msft-tav"
        want verifiers && phase verifiers
        for th in 1 2; do
                want verifiers || break
                if [ "$TD" = 0 ]; then
                        for k in snp tdx sgx azure nvidia_gpu; do err "${k}_$th" "$i" "skipped: $T not found"; done
                        continue
                fi
                try "snp_$th" "$i" "$B" bench snp --seconds "$SECS" --threads "$th"
                try "tdx_$th" "$i" "$B" bench tdx --seconds "$SECS" --threads "$th"
                try "sgx_$th" "$i" "$B" bench sgx --seconds "$SECS" --threads "$th"
                if [ -f "$T/snp/azure/trustee/evidence-v1.json" ]; then
                        try "azure_$th" "$i" "$B" bench azure --seconds "$SECS" --threads "$th"
                else
                        err "azure_$th" "$i" "skipped: $T/snp/azure not found"
                fi
                if [ -d "$T/nvidia" ]; then
                        try "nvidia_gpu_$th" "$i" "$B" bench nvidia-gpu --seconds "$SECS" --threads "$th"
                else
                        err "nvidia_gpu_$th" "$i" "skipped: $T/nvidia not found"
                fi
        done
        if [ "$TD" = 1 ] && want verifiers; then
                try snp_genoa_1 "$i" "$B" bench snp --seconds "$SECS" --threads 1 \
                        --report "$S/genoa_attestation_report.bin" --cert "$S/genoa_vcek.pem"
        fi

        phase floors
        floors "$i"

        want peers && phase peers
        for k in dcap_qvl_tdx dcap_qvl_sgx tinfoil_snp_genoa lit_snp_milan; do
                want peers || break
                if [ "$NODE" = 0 ]; then err "$k" "$i" "$NODE_WHY"; continue; fi
                if [ "$TD" = 0 ]; then err "$k" "$i" "skipped: $T not found"; continue; fi
                case $k in
                dcap_qvl_tdx) try "$k" "$i" node bench/dcap-qvl.mjs --seconds "$SECS" --at 2025-06-20T00:00:00Z \
                        --quote "$T/dcap/tdx_b0c06f_eval17/quote.bin" --collateral "$T/dcap/tdx_b0c06f_eval17/collateral.json" ;;
                dcap_qvl_sgx) try "$k" "$i" node bench/dcap-qvl.mjs --seconds "$SECS" --at 2025-06-20T00:00:00Z \
                        --quote "$T/dcap/sgx_00a067_eval17/quote.bin" --collateral "$T/dcap/sgx_00a067_eval17/collateral.json" ;;
                tinfoil_snp_genoa) try "$k" "$i" node bench/snp-peers.mjs --peer tinfoil --seconds "$SECS" \
                        --report "$S/genoa_attestation_report.bin" --cert "$S/genoa_vcek.pem" ;;
                lit_snp_milan) try "$k" "$i" node bench/snp-peers.mjs --peer lit --seconds "$SECS" \
                        --report "$S/milan_attestation_report.bin" --cert "$S/milan_vcek.pem" ;;
                esac
        done

        if want flow || want pgflow; then
                phase "floors next to the full flow"
                flow_floor "$i" "$(want flow && echo openssl_flow || echo openssl_pgflow)"
        fi
        if want flow; then
                phase "full flow (loadgen: 1, 8, 64, 64 clients x ${FLOW_SECS} s)"
                if VT_BIN="$BIN" "$BIN/loadgen" -s "1x$FLOW_SECS,8x$FLOW_SECS,64x$FLOW_SECS,64x$FLOW_SECS" \
                        --rss-pct 10 --rss-mib 4 --sessions "$SESSIONS" --startup "$STARTS" \
                        --json "$tmp/flow.jsonl" >"$tmp/flow.out" 2>&1; then
                        :
                else
                        err flow_status "$i" "loadgen failed: $(grep -m1 'load: round [0-9]*: \|load: only\|load: veriteed exited\|did not become ready' "$tmp/flow.out" || tail -1 "$tmp/flow.out")"
                fi
                while IFS= read -r l; do rec flow "$i" "$l"; done <"$tmp/flow.jsonl"
                cat "$tmp/flow.out" >>"$OUT/flow-run$i.txt" 2>/dev/null || true
                phase "floors next to the full flow"
                flow_floor "$i" "openssl_flow $(want pgflow && echo openssl_pgflow)"
        fi

        if want pgflow; then
                phase "full flow on two replicas with PostgreSQL (loadgen --postgres: 1, 8, 64 clients x ${FLOW_SECS} s)"
                rc=0
                VT_BIN="$BIN" "$BIN/loadgen" --postgres -s "1x$FLOW_SECS,8x$FLOW_SECS,64x$FLOW_SECS" \
                        --rss-pct 10 --rss-mib 4 --json "$tmp/pgflow.jsonl" >"$tmp/pgflow.out" 2>&1 || rc=$?
                if [ "$rc" = 77 ]; then
                        err pgflow_status "$i" "$(grep -m1 'skipped' "$tmp/pgflow.out" | sed 's/^loadgen: --postgres: //')"
                elif [ "$rc" != 0 ]; then
                        err pgflow_status "$i" "loadgen --postgres failed: $(grep -m1 'load: round [0-9]*: [0-9]* errors\|load: round [0-9]*: no\|load: veriteed exited\|pgtest:\|loadgen:' "$tmp/pgflow.out" || tail -1 "$tmp/pgflow.out")"
                fi
                [ ! -f "$tmp/pgflow.jsonl" ] || while IFS= read -r l; do rec pgflow "$i" "$l"; done <"$tmp/pgflow.jsonl"
                rm -f "$tmp/pgflow.jsonl"
                cat "$tmp/pgflow.out" >>"$OUT/pgflow-run$i.txt" 2>/dev/null || true
                phase "floors next to the full flow"
                flow_floor "$i" openssl_pgflow
        fi

        if [ "$REPLICAS_SECS" != 0 ] && want replicas; then
                phase "two replicas on PostgreSQL"
                if [ -x "$BIN/test_store_pg_replicas" ]; then
                        VT_BIN="$BIN" VT_REPLICAS_BENCH=1 VT_REPLICAS_SECONDS="$REPLICAS_SECS" \
                                "$BIN/test_store_pg_replicas" >"$tmp/o" 2>"$tmp/e" || true
                        l=$(grep '^{"clients"' "$tmp/o" | tail -1)
                        if [ -n "$l" ]; then rec replicas "$i" "$l"; else err replicas "$i" "$(grep -m1 -i 'skip\|fail\|error' "$tmp/o" "$tmp/e" | cut -d: -f2- || echo 'no result')"; fi
                else
                        err replicas "$i" "$BIN/test_store_pg_replicas not built"
                fi
        fi

        if want ledger; then
                phase ledger
                "$B" bench ledger --seconds "$LEDGER_SECS" --db "$tmp/ledger.db" --json >"$tmp/o" 2>"$tmp/e" ||
                        err ledger "$i" "veritee bench ledger: $(tail -c 300 "$tmp/e")"
                rm -f "$tmp/ledger.db"*
                while IFS= read -r l; do case $l in "{"*) rec ledger "$i" "$l" ;; esac; done <"$tmp/o"
        fi
        i=$((i + 1))
done
i=$((i - 1))
phase end
load1=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$OUT"/flow-run*.txt "$OUT"/pgflow-run*.txt

cmd="${BENCH_COMMAND:-bench/run.sh}"
env_line="RUNS=$RUNS SECS=$SECS FLOOR_SECS=$FLOOR_SECS FLOW_SECS=$FLOW_SECS SESSIONS=$SESSIONS STARTS=$STARTS LEDGER_SECS=$LEDGER_SECS REPLICAS_SECS=$REPLICAS_SECS"
[ "$PHASES" = all ] || env_line="$env_line PHASES=$PHASES"
python3 bench/report.py --raw "$RAW" --out "$OUT" --docs "$DOCS" \
        --command "$cmd" --settings "$env_line" --load-before "$load0" --load-after "$load1" \
        --seconds "$(($(date +%s) - t_start))"
