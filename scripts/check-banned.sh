#!/bin/sh
# Fails if C sources call a banned function (curl's checksrc idea): these either
# overflow silently or hide parse errors. Use snprintf, vt_rd_*, strtoul with checks.
set -eu
cd "$(dirname "$0")/.."
pattern='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|strtol|rand|gets)[[:space:]]*\('
if git ls-files '*.c' '*.h' | xargs grep -nE "$pattern" 2>/dev/null | grep -v 'banned-ok'; then
        echo "check-banned: banned function used (see scripts/check-banned.sh)" >&2
        exit 1
fi
echo "check-banned: ok"
