#!/bin/sh
# check-layers.sh [BUILD]: the dependency rule of docs/ARCHITECTURE.md, checked on the object
# files of a build (default: build; `make test` runs it after building).
#
# The rule is the "may use" column of the folder table in docs/ARCHITECTURE.md, read from
# there (the backquoted lib/, src/ and include/ names in a row's last cell), so the page and
# the check cannot drift apart. The table itself must have no cycle. Then, for every object of
# the library (CMakeFiles/veritee_obj.dir/lib/<folder>/*.o) and of the programs (veriteed;
# veritee with its providers), every symbol it leaves undefined (nm -u) is mapped to the folder
# whose object defines it (nm --defined-only; a program's own objects first, then the
# library), and it fails, naming file -> symbol -> folder, when
#   - a folder reaches a folder its row does not list;
#   - lib/evidence refers to an OpenSSL digest or key function (parsers do no hashing and
#     use no keys);
#   - a program compiles a source of another folder (src/veritee compiling src/veriteed/*.c).
# The violations being fixed are listed in KNOWN below with what fixes them: each run prints
# them as "known: ...", fails on any other, and fails when a listed one no longer occurs, so
# that the list only shrinks (remove the line in the commit that fixes it).
set -eu
cd "$(dirname "$0")/.."
B=${1:-${BUILD:-build}}
DOC=docs/ARCHITECTURE.md

# The known violations, one a line: "<file> -> <what it reaches> | <what fixes it>". <file> is
# a source path, with " (in veritee)" for a server source compiled into the CLI; <what it
# reaches> is a folder, "OpenSSL digests and keys" or "compiled into veritee". Remove a line
# in the commit that fixes it (the check fails until then).
KNOWN=$(cat <<'EOF'
EOF
)

# The forbidden OpenSSL references of lib/evidence (digests, message-digest contexts, keys).
EVIDENCE_CRYPTO='^(EVP_Digest|EVP_Q_digest|EVP_MD_|EVP_sha|EVP_md5|SHA[0-9]|HMAC|EVP_MAC|EVP_PKEY|PEM_read|d2i_PUBKEY|d2i_PrivateKey)'

fail() {
        echo "check-layers: $*" >&2
        exit 1
}

[ -f "$DOC" ] || fail "$DOC not found"
for d in veritee_obj veritee_cli veriteed; do
        [ -d "$B/CMakeFiles/$d.dir" ] || fail "no objects in $B/CMakeFiles/$d.dir: build first (make build)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The rule: "folder allowed..." for every row of the table whose folder is lib/*, src/* or
# include/veritee.
awk -F'|' '
        /^\| `(lib|src|include)\// {
                f = $2; gsub(/[ `]/, "", f); sub(/\/$/, "", f)
                cell = $(NF - 1); out = f
                while (match(cell, /`(lib|src|include)\/[A-Za-z0-9_\/]+`/)) {
                        u = substr(cell, RSTART + 1, RLENGTH - 2); sub(/\/$/, "", u)
                        out = out " " u
                        cell = substr(cell, RSTART + RLENGTH)
                }
                print out
        }' "$DOC" >"$tmp/rule"
[ "$(wc -l <"$tmp/rule")" -ge 13 ] || fail "$DOC: fewer than 13 folder rows in the table"
# no cycle in the table (tsort says "input contains a loop")
awk '{ for (i = 2; i <= NF; i++) print $i, $1; print $1, $1 }' "$tmp/rule" >"$tmp/edges"
if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/tsort"; then
        cat "$tmp/tsort" >&2
        fail "$DOC: the dependency table has a cycle"
fi

# include/veritee may use no folder: its headers include only the C library and each other.
if grep -n '^#[[:space:]]*include' include/veritee/*.h | grep -vE '<(std[a-z]*|limits|time|sys/types)\.h>|"veritee/[a-z0-9_]+\.h"'; then
        fail "include/veritee includes something other than libc and include/veritee (above)"
fi

# Objects: "program source object" (program: lib, veritee or veriteed).
{
        find "$B/CMakeFiles/veritee_obj.dir" -name '*.o' | sed 's|^|lib |'
        for d in veritee_cli vt_providers; do
                [ -d "$B/CMakeFiles/$d.dir" ] && find "$B/CMakeFiles/$d.dir" -name '*.o' | sed 's|^|veritee |'
        done
        find "$B/CMakeFiles/veriteed.dir" -name '*.o' | sed 's|^|veriteed |'
} | sort | awk '{ src = $2; sub(/^.*\.dir\//, "", src); sub(/\.o$/, "", src); print $1, src, $2 }' \
        >"$tmp/objs.all"
# an object whose source is gone (deleted or moved since that build) is left over, not code
while read -r prog src obj; do
        [ -f "$src" ] && echo "$prog $src $obj"
done <"$tmp/objs.all" >"$tmp/objs"
[ "$(grep -c '^lib ' "$tmp/objs")" -gt 0 ] || fail "no library objects in $B: build first"

# "program source symbol" for definitions and for references.
: >"$tmp/def"
: >"$tmp/und"
while read -r prog src obj; do
        nm -g --defined-only "$obj" | awk -v p="$prog" -v s="$src" 'NF == 3 { print p, s, $3 }' >>"$tmp/def"
        nm -u "$obj" | awk -v p="$prog" -v s="$src" '{ print p, s, $NF }' >>"$tmp/und"
done <"$tmp/objs"

# Violations: "key<TAB>file -> symbol -> what".
awk -v re="$EVIDENCE_CRYPTO" '
        function folder(src) {
                if (src ~ /^lib\//) { split(src, a, "/"); return "lib/" a[2] }
                if (src ~ /^src\/veriteed\//) return "src/veriteed"
                if (src ~ /^src\/veritee\//) return "src/veritee"
                return "?"
        }
        function name(prog, src) {
                return (prog == "veritee" && folder(src) != "src/veritee") ? src " (in veritee)" : src
        }
        FILENAME ~ /rule$/ { rows[$1] = 1; for (i = 2; i <= NF; i++) may[$1, $i] = 1; next }
        FILENAME ~ /def$/ { if (!(($1, $3) in def)) def[$1, $3] = folder($2); next }
        FILENAME ~ /objs$/ {
                f = folder($2)
                if (f == "?") { print "unknown-folder\t" $2 " is in no folder of the table"; next }
                if (!(f in rows)) print "no-row\t" f " has no row in the table of docs/ARCHITECTURE.md"
                if ($1 == "veritee" && f != "src/veritee")
                        print name($1, $2) " -> compiled into veritee\t" $2 " -> compiled into veritee (src/veritee compiles another folder)"
                if ($1 == "veriteed" && f != "src/veriteed")
                        print name($1, $2) " -> compiled into veriteed\t" $2 " -> compiled into veriteed (src/veriteed compiles another folder)"
                next
        }
        {       # und: program source symbol
                f = folder($2)
                if (f == "lib/evidence" && $3 ~ re) {
                        print $2 " -> OpenSSL digests and keys\t" $2 " -> " $3 " -> OpenSSL (lib/evidence does no hashing and uses no keys)"
                        next
                }
                if (($1, $3) in def) to = def[$1, $3]
                else if (("lib", $3) in def) to = def["lib", $3]
                else next       # outside the tree (libc, OpenSSL, ...)
                if (to == f || may[f, to]) next
                print name($1, $2) " -> " to "\t" name($1, $2) " -> " $3 " -> " to " (not in the \"may use\" of " f ")"
        }' "$tmp/rule" "$tmp/def" "$tmp/objs" "$tmp/und" | sort -u >"$tmp/found"

printf '%s\n' "$KNOWN" | sed '/^$/d; s/ | .*$//' >"$tmp/known"
printf '%s\n' "$KNOWN" | sed -n 's/^\(.*\) | \(.*\)$/\1	\2/p' >"$tmp/fixes"
bad=0
while IFS='	' read -r key detail; do
        if grep -qxF "$key" "$tmp/known"; then
                echo "known: $detail [fix: $(grep -F "$key	" "$tmp/fixes" | cut -f2)]"
        else
                echo "check-layers: FORBIDDEN: $detail" >&2
                bad=1
        fi
done <"$tmp/found"
cut -f1 "$tmp/found" | sort -u >"$tmp/keys"
while read -r k; do
        if ! grep -qxF "$k" "$tmp/keys"; then
                echo "check-layers: FIXED: \"$k\" no longer occurs: remove it from KNOWN in scripts/check-layers.sh" >&2
                bad=1
        fi
done <"$tmp/known"
[ "$bad" -eq 0 ] || fail "the dependency rule of $DOC is broken (see above)"
echo "check-layers: ok ($(wc -l <"$tmp/objs") objects, $(wc -l <"$tmp/rule") folders, $(wc -l <"$tmp/known") known violations)"
