#!/bin/sh
# Prints the project's C sources (.c and .h), one per line: the files git tracks, or,
# outside a git checkout (a tarball), every .c/.h under the source folders. Fails, saying
# why, when it finds fewer than the tree holds, so that a check fed by it never passes on
# nothing (scripts/check-banned.sh, make format-check).
set -eu
cd "$(dirname "$0")/.."
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files '*.c' '*.h' >"$list"
        how="git ls-files"
else
        find include lib src tests fuzz bench -name '*.[ch]' -type f 2>/dev/null | sort >"$list" || true
        how="find (no git checkout)"
fi
n=$(wc -l <"$list")
if [ "$n" -lt 50 ]; then
        echo "c-sources: $how listed $n C files, not the whole tree: nothing to check" >&2
        exit 1
fi
echo "c-sources: $n files, listed by $how" >&2
cat "$list"
