# Helpers of the shell tests (tests/integration/*.sh), sourced by them:
#         . "$(dirname "$0")/lib/common.sh"
# Not a test: tests/CMakeLists.txt registers integration/*.sh, not this subfolder.
# A test sets tmp (its temporary directory) before calling expect; every helper counts a
# failure in fails, and finish ends the test with the count.

fails=0

# fail MESSAGE...: one failed check
fail() {
        echo "FAIL: $*"
        fails=$((fails + 1))
}

# ok MESSAGE...: one passed check
ok() {
        echo "ok: $*"
}

# check DESCRIPTION COMMAND...: a plain condition
check() {
        desc=$1
        shift
        if "$@"; then
                ok "$desc"
        else
                fail "$desc"
        fi
}

# mode FILE: its permission bits in octal ("?" when it cannot be read)
mode() {
        stat -c %a "$1" 2>/dev/null || echo "?"
}

# expect CODE DESCRIPTION PATTERN-IN-STDOUT [REASON-ON-STDERR] -- COMMAND...
# Runs COMMAND with stdout in $tmp/out and stderr in $tmp/err and checks its exit code, that
# stdout holds the pattern (a grep pattern; '' for none) and that stderr holds the reason (a
# fixed string). A case that expects a non-zero exit names the reason a person reads on
# stderr, on one line; without one the case fails. What else holds for every case of a test
# is set by the test:
#   EXPECT_MAX_STDOUT_LINES=N  stdout has at most N lines (unset or empty: any number)
#   EXPECT_QUIET_FAILURE=1     a failing command prints nothing on stdout
expect() {
        code=$1 desc=$2 pat=$3 why=
        shift 3
        if [ "$1" != "--" ]; then
                why=$1
                shift
        fi
        shift
        if [ "$code" -ne 0 ] && [ -z "$why" ]; then
                fail "$desc: a failing case must check the reason on stderr"
                return
        fi
        "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ "$rc" -ne "$code" ]; then
                fail "$desc: exit $rc, want $code"
                cat "$tmp/out" "$tmp/err"
                return
        fi
        if [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/out"; then
                fail "$desc: stdout lacks $pat"
                head -c 2000 "$tmp/out"
                echo
                return
        fi
        if [ -n "${EXPECT_MAX_STDOUT_LINES:-}" ] &&
                [ "$(wc -l <"$tmp/out")" -gt "$EXPECT_MAX_STDOUT_LINES" ]; then
                fail "$desc: stdout has more than $EXPECT_MAX_STDOUT_LINES line(s)"
                return
        fi
        if [ "$code" -ne 0 ] && [ "${EXPECT_QUIET_FAILURE:-0}" = 1 ] && [ -s "$tmp/out" ]; then
                fail "$desc: printed on stdout while failing"
                cat "$tmp/out"
                return
        fi
        if [ "$code" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
                fail "$desc: error is not one line on stderr"
                cat "$tmp/err"
                return
        fi
        if [ -n "$why" ] && ! grep -qF -- "$why" "$tmp/err"; then
                fail "$desc: stderr lacks the reason \"$why\""
                cat "$tmp/err"
                return
        fi
        ok "$desc"
}

# finish WHAT: ends the test: exit 1 naming the count of failures, else "all WHAT passed"
finish() {
        if [ "$fails" -ne 0 ]; then
                echo "$fails check(s) failed"
                exit 1
        fi
        echo "all $1 passed"
        exit 0
}

# start_dev_server BIN ROOT: the development server of `make run` (scripts/dev-run.sh with
# its state in $tmp/var) on an ephemeral port, in the background; sets pid (kill it when
# done), url (http://127.0.0.1:PORT, from its log in $tmp/log) and V ($tmp/var). Exits 1
# when it does not come up.
start_dev_server() {
        VT_BIN="$1" VT_VAR="$tmp/var" VT_PORT=0 "$2/scripts/dev-run.sh" >"$tmp/log" 2>&1 &
        pid=$!
        url=""
        # sim init makes RSA-4096 keys: slow on a busy machine, and under valgrind (make
        # valgrind sets VT_START_SECONDS)
        for _ in $(seq 1 $((${VT_START_SECONDS:-60} * 10))); do
                url=$(sed -n 's/.*listening on \(http:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$tmp/log" | head -n 1)
                [ -n "$url" ] && break
                sleep 0.1
        done
        if [ -z "$url" ]; then
                echo "FAIL: dev-run.sh did not start veriteed"
                cat "$tmp/log"
                exit 1
        fi
        V="$tmp/var"
}
