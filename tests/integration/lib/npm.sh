# Helpers of the shell tests that run veriteed over HTTPS and check it with npm packages
# (oidc_jose.sh, azure_attestation.sh, azure_keyvault.sh, k8s_manifests.sh), sourced after
# common.sh. Not a test (tests/CMakeLists.txt registers integration/*.sh only). Sets BIN
# (absolute) and ROOT.
BIN="${VT_BIN:-build/bin}"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# need_built PROGRAM...: skip unless BIN/PROGRAM was built
need_built() {
        for x in "$@"; do
                if [ ! -x "$BIN/$x" ]; then
                        echo "skipped: $BIN/$x not built"
                        exit 77
                fi
        done
}

# need_tools TOOL...: a missing tool fails the test when CI is set (scripts/deps.sh test
# installs them all) and skips it otherwise
need_tools() {
        for x in "$@"; do
                if ! command -v "$x" >/dev/null 2>&1; then
                        if [ -n "${CI:-}" ]; then
                                echo "FAIL: $x not installed (scripts/deps.sh test installs it)"
                                exit 1
                        fi
                        echo "skipped: $x not installed (scripts/deps.sh test installs it)"
                        exit 77
                fi
        done
}

# npm_install SRC DEST PACKAGE: the packages pinned by SRC/package-lock.json, installed with
# `npm ci` into DEST once per lock file (PACKAGE is one of them, to see it is there); then
# SRC's *.mjs scripts are copied next to them, all under a lock on DEST. A failed install
# fails in CI, skips otherwise.
npm_install() {
        src=$1 dest=$2 pkg=$3
        mkdir -p "$dest"
        # One install at a time into dest: the tests sharing it run in parallel (ctest -j), and
        # an `npm ci` under way in one leaves node_modules half there for the other. The lock
        # is released when this test's process exits, or below once the files are in place.
        exec 9>"$dest/.install.lock"
        flock 9
        if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" ||
                [ ! -f "$dest/node_modules/$pkg/package.json" ]; then
                cp "$src/package.json" "$src/package-lock.json" "$dest/"
                if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
                        cat "$dest/npm.log"
                        rm -f "$dest/package-lock.json" # try again next time
                        if [ -n "${CI:-}" ]; then
                                echo "FAIL: npm ci in $dest failed"
                                exit 1
                        fi
                        echo "skipped: npm ci could not install the packages of $src (no registry?)"
                        exit 77
                fi
        fi
        cp "$src"/*.mjs "$dest/"
        flock -u 9
        exec 9>&-
}

# make_tmp: a temporary directory in tmp, removed at exit with the server whose pid the
# test puts in pid
make_tmp() {
        tmp=$(mktemp -d)
        pid=""
        trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT
}

# tls_cert DIR: a self-signed P-256 certificate for 127.0.0.1 in DIR/tls.crt, its key in
# DIR/tls.key
tls_cert() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
                -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
                -keyout "$1/tls.key" -out "$1/tls.crt" 2>/dev/null || {
                echo "FAIL: openssl could not make the test certificate"
                exit 1
        }
}
