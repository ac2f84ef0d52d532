#!/bin/sh
# The README's promise, tested as a new user would meet it: on a freshly bootstrapped
# minimal Debian 12 (mmdebstrap --variant=minbase, close to a `debian:12` image, from the
# apt sources this machine uses), run exactly the README's set-up line, then `make run`
# (checks /healthz, that no test tool was installed, and the README demo), then
# `make test`. Run by `make test-bare-debian` (CI). Needs root, mount and apt; says
# "skipped" (exit 77) where it cannot bootstrap, never "passed".
#
# VT_BARE_KEEP=1 keeps the tree (its path is printed) for a look afterwards.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${VT_SHARED:-$ROOT/../shared}
SUITE=bookworm
say() { echo "bare-debian: $*"; }
skip() {
        say "skipped: $*"
        exit 77
}

[ "$(id -u)" -eq 0 ] || skip "not root (mmdebstrap --mode=root, chroot and bind mounts need it)"
for t in mmdebstrap chroot mount umount curl setsid; do
        command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/deps.sh bare)"
done
[ -d "$SHARED/testdata" ] || say "note: $SHARED/testdata not found; the inner tests will say skipped"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/veritee-bare.XXXXXX")
tree="$work/root"
mounted=""
server=""
cleanup() {
        if [ -n "$server" ]; then
                kill -TERM "-$server" 2>/dev/null
                sleep 1
                kill -KILL "-$server" 2>/dev/null
        fi
        for m in $mounted; do
                umount -l "$m" 2>/dev/null
        done
        # never remove a tree that still has something mounted in it (the host's /dev)
        if grep -q " $tree" /proc/mounts; then
                say "left $work in place: something is still mounted under it"
                return
        fi
        if [ "${VT_BARE_KEEP:-0}" = 1 ]; then
                say "kept $tree"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. A minimal Debian 12 from this machine's apt sources (deb822 or one-line format).
sources=""
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
        [ -s "$f" ] && sources="$sources $f"
done
start=$(date +%s)
ok=0
for attempt in 1 2; do
        rm -rf "$tree"
        # shellcheck disable=SC2086
        if mmdebstrap --quiet --variant=minbase --mode=root "$SUITE" "$tree" $sources \
                >"$work/mmdebstrap.log" 2>&1; then
                ok=1
                break
        fi
        say "mmdebstrap attempt $attempt failed: $(tail -n 1 "$work/mmdebstrap.log")"
done
[ "$ok" = 1 ] || skip "cannot bootstrap $SUITE from$sources (no apt mirror reachable?)"
say "bootstrapped $SUITE minbase in $(($(date +%s) - start)) s, $(du -smx "$tree" 2>/dev/null | cut -f1) MiB"
if chroot "$tree" sh -c 'command -v make || command -v git' >/dev/null 2>&1; then
        say "FAIL: the fresh tree already has make or git; it is not the bare image the README speaks of"
        exit 1
fi

# 2. The project (the files git knows, as a clone would have them) and shared/ beside it.
mkdir -p "$tree/root/src/veritee"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
        tar -xf - -C "$tree/root/src/veritee" || {
        say "FAIL: cannot copy the project in"
        exit 1
}
[ -d "$SHARED" ] && cp -r "$SHARED" "$tree/root/src/shared"
cp /etc/resolv.conf "$tree/etc/resolv.conf" 2>/dev/null
# The host's own certificate authorities (a TLS-inspecting egress proxy's, say) are this
# network's, not the project's: like resolv.conf they come along, and ca-certificates,
# which the README's set-up line installs, adds them to the bundle npm and curl read.
if [ -d /usr/local/share/ca-certificates ]; then
        mkdir -p "$tree/usr/local/share/ca-certificates"
        cp -r /usr/local/share/ca-certificates/. "$tree/usr/local/share/ca-certificates/" 2>/dev/null || true
fi
for m in proc sys dev dev/pts; do
        mount --bind "/$m" "$tree/$m" || {
                say "FAIL: cannot bind-mount /$m"
                exit 1
        }
        mounted="$tree/$m $mounted"
done
inside() { chroot "$tree" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        TERM=dumb sh -c "cd /root/src/veritee && $1"; }

# 3. The README's set-up line, exactly as written there.
setup=$(sed -n 's/^.*`\(apt-get update && apt-get install [^`]*\)`.*$/\1/p' "$ROOT/README.md" | head -n 1)
[ -n "$setup" ] || {
        say "FAIL: README.md has no set-up line (apt-get update && apt-get install ...)"
        exit 1
}
say "set-up line: $setup"
inside "$setup" >"$work/setup.log" 2>&1 || {
        say "FAIL: the README's set-up line failed"
        tail -n 20 "$work/setup.log"
        exit 1
}

# 4. make run: it builds and serves; the README demo works against it.
if curl -s -o /dev/null --max-time 2 http://127.0.0.1:8080/healthz; then
        skip "something already listens on 127.0.0.1:8080 (the README's port)"
fi
before=$(du -smx "$tree" 2>/dev/null | cut -f1)
setsid chroot "$tree" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
        sh -c 'cd /root/src/veritee && exec make run' >"$work/run.log" 2>&1 &
server=$!
start=$(date +%s)
up=0
while [ $(($(date +%s) - start)) -lt 900 ] && kill -0 "$server" 2>/dev/null; do
        if curl -sf -o "$work/healthz" --max-time 2 http://127.0.0.1:8080/healthz; then
                up=1
                break
        fi
        sleep 1
done
if [ "$up" != 1 ]; then
        say "FAIL: make run did not answer /healthz on 127.0.0.1:8080"
        tail -n 30 "$work/run.log"
        exit 1
fi
say "make run: /healthz answered after $(($(date +%s) - start)) s: $(cat "$work/healthz")"
say "make run grew the tree by $(($(du -smx "$tree" 2>/dev/null | cut -f1) - before)) MiB"
fails=0
for p in clang llvm-14 swtpm tpm2-tools libcmocka-dev; do
        if chroot "$tree" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
                say "FAIL: make run installed $p, which only the tests need"
                fails=$((fails + 1))
        fi
done
grep -q "SIMULATOR" "$work/run.log" || {
        say "FAIL: make run did not say that it trusts the simulator"
        fails=$((fails + 1))
}
# the demo block of README.md, line by line as a user would paste it
sed -n '/^### The demo/,/^```$/p' "$ROOT/README.md" | sed -n '/^```sh$/,/^```$/p' |
        grep -v '^```' >"$tree/root/demo.sh"
[ "$(grep -c 'veritee' "$tree/root/demo.sh")" -ge 5 ] || {
        say "FAIL: cannot find the README's demo block"
        exit 1
}
inside "sh -x /root/demo.sh" >"$work/demo.log" 2>&1
if grep -q "^s3cret-db-password" "$work/demo.log"; then # a pipe: no newline after it
        say "demo: the simulated TEE got the secret"
else
        say "FAIL: demo: the secret was not released"
        fails=$((fails + 1))
fi
if grep -q "HTTP 401" "$work/demo.log" && grep -q "denied" "$work/run.log"; then
        say "demo: another measurement is refused, and the server log says why"
else
        say "FAIL: demo: the refusal for another measurement is missing"
        fails=$((fails + 1))
fi
if grep -q "default/db/password" "$work/demo.log"; then
        say "demo: secret ls lists the secret"
else
        say "FAIL: demo: secret ls does not list the secret"
        fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] || {
        cat "$work/demo.log"
        exit 1
}
kill -TERM "-$server" 2>/dev/null
wait "$server" 2>/dev/null
server=""

# 5. make test, as README says.
start=$(date +%s)
if inside "make test" >"$work/test.log" 2>&1; then
        say "make test passed in $(($(date +%s) - start)) s: $(grep -E 'tests passed|tests failed' "$work/test.log" | tail -n 1)"
else
        say "FAIL: make test failed inside the fresh Debian 12"
        grep -E 'Failed|FAIL|Error|error:' "$work/test.log" | head -n 40
        tail -n 20 "$work/test.log"
        exit 1
fi
grep '^deps' "$work/run.log" | grep -E 'installing|newly installed|Need to get|After this' | sed 's/^/bare-debian: make run: /'
grep '^deps' "$work/test.log" | grep -E 'installing|newly installed|Need to get|After this' | sed 's/^/bare-debian: make test: /'
# what `make asan` would add on top (not installed here: CI runs it on the host)
inside "apt-get install -q --no-install-recommends --print-uris clang libclang-rt-14-dev llvm-14" 2>/dev/null |
        grep -E '^[0-9]+ upgraded|^Need to get|^After this' | sed 's/^/bare-debian: make asan would add: /'
say "1 passed, 0 failed"
