#!/bin/sh
# Fails if C sources call a banned function (curl's checksrc idea): these either
# overflow silently or hide parse errors. Use snprintf, vt_rd_*, strtoul with checks.
# The file list comes from scripts/c-sources.sh, which fails rather than list nothing.
set -eu
cd "$(dirname "$0")/.."
pattern='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|strtol|rand|gets)[[:space:]]*\('
list=$(mktemp)
trap 'rm -f "$list"' EXIT
./scripts/c-sources.sh >"$list"
if xargs grep -nE "$pattern" <"$list" | grep -v 'banned-ok'; then
        echo "check-banned: banned function used (see scripts/check-banned.sh)" >&2
        exit 1
fi
echo "check-banned: ok ($(wc -l <"$list") files)"
