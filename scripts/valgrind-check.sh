#!/bin/sh
# scripts/valgrind-check.sh LOGDIR: after `make valgrind`'s test run, fails when any
# process's valgrind log (scripts/valgrind-wrap.sh) reports an error or a definite or
# possible leak, printing those logs. --quiet makes a clean log empty; a process killed
# with SIGKILL (the crash tests) leaves no summary and is not an error by itself.
set -eu
dir=$1
n=$(find "$dir" -name '*.log' | wc -l)
bad=$(find "$dir" -name '*.log' -size +0 -exec grep -l -E '== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|.*are (definitely|possibly) lost)|ERROR SUMMARY: [1-9]' {} + || true)
if [ -n "$bad" ]; then
        for f in $bad; do
                echo "== $f"
                cat "$f"
        done
        echo "valgrind: errors in $(echo "$bad" | wc -l) of $n processes (logs in $dir)"
        exit 1
fi
echo "valgrind: $n processes, no errors and no definite or possible leaks"
