#!/bin/sh
# Installs the Debian packages that building and testing veritee need, only those
# missing, with a single `apt-get update` first. Safe to run repeatedly.
set -eu

PKGS="cmake make gcc clang pkg-config libssl-dev openssl libjansson-dev libcurl4-openssl-dev
libcmocka-dev libsqlite3-dev libmicrohttpd-dev libyaml-dev jose libclang-rt-14-dev llvm-14 clang-format python3 python3-cryptography ca-certificates libtss2-dev swtpm swtpm-tools tpm2-tools"

missing=""
for p in $PKGS; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
                missing="$missing $p"
        fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
        exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
