#!/bin/sh
# scripts/deps.sh [LEVEL...]: installs the Debian packages a make target needs, only those
# missing, with one `apt-get update` first. Safe to run repeatedly. Levels add up:
#   run     building and running veritee (make build, make run)
#   test    + the tools the test suite starts or calls (make test)
#   asan    + clang and its sanitizer runtimes (make asan, make fuzz)
#   valgrind  the test level + valgrind (make valgrind)
#   bench   the test level + gnuplot (make bench draws its plots with it)
#   format  + clang-format (make format, make format-check)
#   bare    + mmdebstrap (make test-bare-debian: the README's commands on a fresh Debian 12)
# With no level: run. Prints what it installs and how much apt downloads, then apt's own
# progress lines.
set -eu

RUN="cmake make gcc libc6-dev pkg-config libssl-dev libjansson-dev libxml2-dev libcurl4-openssl-dev libp11-kit-dev
libsqlite3-dev libpq-dev libmicrohttpd-dev libyaml-dev libtss2-dev libjemalloc-dev ca-certificates"
TEST="libcmocka-dev postgresql openssl jose python3 python3-cryptography swtpm swtpm-tools tpm2-tools git
chromium fonts-dejavu-core nodejs npm softhsm2 kubernetes-client systemd prometheus groff-base curl"
ASAN="clang libclang-rt-14-dev llvm-14"
VALGRIND="valgrind"
BENCH="gnuplot-nox"
FORMAT="clang-format"
BARE="mmdebstrap"

[ $# -eq 0 ] && set -- run
PKGS=""
for level in "$@"; do
        case $level in
        run) PKGS="$PKGS $RUN" ;;
        test) PKGS="$PKGS $RUN $TEST" ;;
        asan) PKGS="$PKGS $RUN $TEST $ASAN" ;;
        valgrind) PKGS="$PKGS $RUN $TEST $VALGRIND" ;;
        bench) PKGS="$PKGS $RUN $TEST $BENCH" ;;
        format) PKGS="$PKGS $FORMAT" ;;
        bare) PKGS="$PKGS $BARE" ;;
        *)
                echo "deps: unknown level \"$level\" (known: run test asan valgrind bench format bare)" >&2
                exit 2
                ;;
        esac
done

missing=""
for p in $PKGS; do
        case " $missing " in *" $p "*) continue ;; esac
        # Node.js from elsewhere (NodeSource's nodejs bundles npm and conflicts with
        # Debian's npm package): a working npm is what the tests need
        if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
                continue
        fi
        # kubectl (kustomize) and systemd-analyze from elsewhere do for
        # tests/integration/k8s_manifests.sh
        if [ "$p" = kubernetes-client ] && command -v kubectl >/dev/null 2>&1; then
                continue
        fi
        if [ "$p" = systemd ] && command -v systemd-analyze >/dev/null 2>&1; then
                continue
        fi
        # promtool (check metrics) is what the tests need of Prometheus
        if [ "$p" = prometheus ] && command -v promtool >/dev/null 2>&1; then
                continue
        fi
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
                missing="$missing $p"
        fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
        exit 1
fi
echo "deps ($*): installing$missing"
export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
apt-get update -qq
# What apt will fetch, before it fetches it ("N newly installed ... Need to get X MB").
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends --print-uris $missing |
        grep -E '^[0-9]+ upgraded|^Need to get|^After this operation' | sed 's/^/deps: /' || true
st=$(mktemp)
# shellcheck disable=SC2086
{ apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 $missing 2>&1; echo $? >"$st"; } |
        grep -E '^(Get:|Setting up|E:|W:)' | sed 's/^Get:[0-9]* [^ ]* [^ ]* [^ ]* \([^ ]*\) [^ ]* \(.*\)/deps: get \1 \2/; s/^Setting up /deps: set up /' || true
rc=$(cat "$st")
rm -f "$st"
if [ "$rc" -ne 0 ]; then
        echo "deps: apt-get install failed (exit $rc)" >&2
        exit 1
fi
echo "deps: done"
