#!/bin/sh
# fuzz-run.sh BUILD SECONDS [JOBS]: runs every libFuzzer target of BUILD (configured with
# VT_FUZZ=ON, built, seeds made by scripts/fuzz-seeds.sh) for SECONDS each, JOBS (default 2)
# at a time. Each target reads fuzz/corpus/<t>, fuzz/crashes/<t> (if any) and
# BUILD/fuzz-seeds/<t>, and writes new inputs to BUILD/fuzz-corpus/<t> (out of the tree).
#
# Writes BUILD/fuzz-summary.txt: one line per target with the executions, the coverage
# (edges, "cov") and features ("ft") of libFuzzer's final "#N DONE cov: X ft: Y ... exec/s"
# line, exec/s and the result. A crash, leak, timeout or out-of-memory input is copied into
# fuzz/crashes/<t>/ (the replay tests run that directory: fix the bug, keep the input) and
# the script fails. Logs: BUILD/fuzz-logs/<t>.log.
set -eu
[ $# -ge 2 ] || {
        echo "usage: $0 BUILD SECONDS [JOBS]" >&2
        exit 2
}
B=$1
SECS=$2
JOBS=${3:-2}
SRC=$(cd "$(dirname "$0")/.." && pwd)
case $SECS in '' | *[!0-9]*)
        echo "$0: SECONDS must be a number" >&2
        exit 2
        ;;
esac
targets=$(sed -n 's/^set(VT_FUZZ_TARGETS \(.*\))$/\1/p' "$SRC/fuzz/CMakeLists.txt")
for t in $targets; do
        [ -x "$B/bin/fuzz_$t" ] || {
                echo "$0: $B/bin/fuzz_$t missing: build with VT_FUZZ=ON (make fuzz)" >&2
                exit 1
        }
done
mkdir -p "$B/fuzz-logs" "$B/fuzz-results" "$B/fuzz-corpus" "$B/fuzz-artifacts"
[ -n "${VT_FUZZ_ONE-}" ] || rm -f "$B"/fuzz-results/*

# one TARGET: runs it and leaves "<execs> <cov> <ft> <exec/s> <result>" in fuzz-results/<t>
one() {
        t=$1
        log=$B/fuzz-logs/$t.log
        art=$B/fuzz-artifacts/$t
        rm -rf "$art"
        mkdir -p "$B/fuzz-corpus/$t" "$art"
        set -- "$B/fuzz-corpus/$t" "$SRC/fuzz/corpus/$t"
        [ -d "$SRC/fuzz/crashes/$t" ] && set -- "$@" "$SRC/fuzz/crashes/$t"
        [ -d "$B/fuzz-seeds/$t" ] && set -- "$@" "$B/fuzz-seeds/$t"
        rc=0
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
                "$B/bin/fuzz_$t" -max_total_time="$SECS" -timeout=30 -rss_limit_mb=2048 \
                -print_final_stats=1 -artifact_prefix="$art/" "$@" >"$log" 2>&1 || rc=$?
        done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
        execs=$(echo "$done_line" | sed -n 's/^#\([0-9]*\).*/\1/p')
        cov=$(echo "$done_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
        ft=$(echo "$done_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
        eps=$(echo "$done_line" | sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p')
        if [ -z "$execs" ]; then # no DONE line: stopped early; the last status line then
                last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 || true)
                execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
                cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
                ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
                eps=$(echo "$last" | sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p')
        fi
        # a slow unit (libFuzzer's report of an input that took > 10 s, on a machine shared
        # with other jobs) is not a failure; -timeout=30 catches a hang
        rm -f "$art"/slow-unit-*
        result=ok
        if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$art")" ]; then
                result="FAILED(rc=$rc)"
                if [ -n "$(ls -A "$art")" ]; then
                        mkdir -p "$SRC/fuzz/crashes/$t"
                        cp "$art"/* "$SRC/fuzz/crashes/$t/"
                        result="$result:$(ls "$art" | tr '\n' ' ' | sed 's/ $//')"
                fi
        fi
        echo "${execs:-0} ${cov:-0} ${ft:-0} ${eps:-0} $result" >"$B/fuzz-results/$t"
        echo "fuzz: $t: ${execs:-0} execs, cov ${cov:-0}, ft ${ft:-0}, ${eps:-0} exec/s: $result"
}

if [ -n "${VT_FUZZ_ONE-}" ]; then # this script again, run by xargs below for one target
        one "$VT_FUZZ_ONE"
        exit 0
fi
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# JOBS at a time, each target by this script with VT_FUZZ_ONE set
for t in $targets; do echo "$t"; done |
        xargs -P "$JOBS" -I{} env VT_FUZZ_ONE={} "$0" "$B" "$SECS" "$JOBS"

sum=$B/fuzz-summary.txt
fail=0
{
        echo "# make fuzz FUZZ_SECONDS=$SECS ($JOBS at a time), started $start, $(uname -m), $(clang --version 2>/dev/null | head -n 1)"
        printf '%-16s %12s %8s %8s %9s  %s\n' target execs cov ft exec/s result
        for t in $targets; do
                if [ -f "$B/fuzz-results/$t" ]; then
                        read -r execs cov ft eps result <"$B/fuzz-results/$t"
                else
                        execs=0 cov=0 ft=0 eps=0 result=FAILED
                fi
                printf '%-16s %12s %8s %8s %9s  %s\n' "$t" "$execs" "$cov" "$ft" "$eps" "$result"
        done
} >"$sum"
cat "$sum"
if grep -q 'FAILED' "$sum"; then
        echo "fuzz: a target failed; inputs saved in fuzz/crashes/<target>/, logs in $B/fuzz-logs/" >&2
        fail=1
fi
exit $fail
