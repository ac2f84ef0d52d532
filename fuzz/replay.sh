#!/bin/sh
# replay.sh REPLAY_BIN CORPUS [DIR...]: runs a replay driver over the committed corpus and
# over each further directory that exists (fuzz/crashes/<t>: every past crash input;
# <build>/fuzz-seeds/<t>: the seeds the build made). CTest's fuzz_replay_<t>.
set -eu
bin=$1
corpus=$2
shift 2
set -- "$corpus" "$@"
dirs=
for d in "$@"; do
        if [ "$d" = "$corpus" ] || [ -d "$d" ]; then
                dirs="$dirs $d"
        fi
done
# shellcheck disable=SC2086 # paths without spaces (the build's and the tree's)
exec "$bin" $dirs
