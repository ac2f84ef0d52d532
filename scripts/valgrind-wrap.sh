#!/bin/sh
# scripts/valgrind-wrap.sh PROGRAM [ARGS...]: runs PROGRAM under valgrind memcheck for
# `make valgrind`. Errors and definite or possible leaks make it exit 1; everything
# valgrind says goes to $VT_VALGRIND_LOGS/<pid>.log (default /tmp/veritee-valgrind), one
# file per process, because the programs the tests start (veriteed, veritee) have their
# exit status read by the test, if at all: scripts/valgrind-check.sh reads the logs after
# the run and fails on any error there. Suppressions: scripts/valgrind.supp (libraries
# outside our code, each entry says why). VT_VALGRIND_ORIGINS=1 adds --track-origins=yes
# (twice as slow; where an uninitialised value came from).
# Exec, so that the pid a test started and signals is the program's.
d=$(cd "$(dirname "$0")" && pwd)
logs=${VT_VALGRIND_LOGS:-/tmp/veritee-valgrind}
mkdir -p "$logs"
exec valgrind --tool=memcheck --quiet --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \
        ${VT_VALGRIND_ORIGINS:+--track-origins=yes} --num-callers=30 --suppressions="$d/valgrind.supp" \
        --log-file="$logs/%p.log" "$@"
