#!/bin/sh
# The command contract of `veritee admin` (docs/admin.md): keygen writes an Ed25519
# key pair (private 0600, public 0644) and never overwrites; token prints a JWT for a
# role, signed EdDSA or ES256 by key type. Usage errors exit 2 with one line on
# stderr, failures 1. The private key never appears on stdout or stderr.
set -u
. "$(dirname "$0")/lib/common.sh"
B="${VT_BIN:-build/bin}/veritee"
case $B in /*) ;; *) B="$PWD/$B" ;; esac # one check runs in another directory
if [ ! -x "$B" ]; then
        echo "skipped: $B not built"
        exit 77
fi
tmp=$(mktemp -d)
tmp=$(cd "$tmp" && pwd -P) # keygen prints the resolved path of the public key
trap 'rm -rf "$tmp"' EXIT

# b64url_json PART: decode one base64url part of a JWT to text
b64url_json() {
        s=$(printf '%s' "$1" | tr '_-' '/+')
        case $(( ${#s} % 4 )) in
        2) s="$s==" ;;
        3) s="$s=" ;;
        esac
        printf '%s' "$s" | base64 -d 2>/dev/null
}

# no_secret FILE: neither output holds a line of the private key's base64
no_secret() {
        body=$(grep -v -- '-----' "$1" | head -n 1)
        ! grep -q -- "$body" "$tmp/out" "$tmp/err"
}

# a failing command prints nothing on stdout
EXPECT_QUIET_FAILURE=1
K="$tmp/adm"

# keygen
expect 0 "keygen --out" "private key: $K.key" -- "$B" admin keygen --out "$K"
check "private key is 0600" [ "$(mode "$K.key")" = "600" ]
check "public key is 0644" [ "$(mode "$K.pub")" = "644" ]
check "private key is PKCS#8 PEM" grep -q "BEGIN PRIVATE KEY" "$K.key"
check "public key is PEM" grep -q "BEGIN PUBLIC KEY" "$K.pub"
check "keygen prints the public key path" grep -q "public key:  $K.pub" "$tmp/out"
check "keygen prints the configuration" grep -q "^admin:$" "$tmp/out"
check "keygen prints the keys line" grep -q "^  keys: \[$K.pub\]$" "$tmp/out"
check "keygen prints a key id" grep -Eq "^key id: +[A-Za-z0-9_-]{43}$" "$tmp/out"
check "keygen does not print the private key" no_secret "$K.key"
if command -v openssl >/dev/null 2>&1; then
        check "the key is Ed25519" sh -c "openssl pkey -in '$K.key' -noout -text 2>/dev/null | grep -q ED25519"
fi

cp "$K.key" "$tmp/key.before"
cp "$K.pub" "$tmp/pub.before"
expect 1 "keygen refuses to overwrite" '' "admin keygen: $K.key already exists; not overwriting it" -- "$B" admin keygen --out "$K"
check "private key unchanged" cmp -s "$K.key" "$tmp/key.before"
check "public key unchanged" cmp -s "$K.pub" "$tmp/pub.before"
rm "$K.pub"
expect 1 "keygen refuses when only the private key exists" '' "admin keygen: $K.key already exists; not overwriting it" -- "$B" admin keygen --out "$K"
check "no public key written" [ ! -e "$K.pub" ]
check "private key still unchanged" cmp -s "$K.key" "$tmp/key.before"
cp "$tmp/pub.before" "$K.pub"

(cd "$tmp" && "$B" admin keygen >"$tmp/out" 2>"$tmp/err")
check "keygen default prefix ./veritee-admin" test -f "$tmp/veritee-admin.key" -a -f "$tmp/veritee-admin.pub"
check "default keys line is absolute" grep -q "^  keys: \[$tmp/veritee-admin.pub\]$" "$tmp/out"
mkdir "$tmp/a dir"
expect 0 "keygen into a path with a space" '' -- "$B" admin keygen --out "$tmp/a dir/k"
check "a path with a space is quoted" grep -q "^  keys: \[\"$tmp/a dir/k.pub\"\]$" "$tmp/out"
expect 1 "keygen into a missing directory" '' "admin keygen: cannot create $tmp/no/such/k.key: No such file or directory" -- "$B" admin keygen --out "$tmp/no/such/k"

# tokens for each role
expect 0 "token admin" '' -- "$B" admin token --key "$K.key" --role admin --sub "ops@example"
check "token has three parts" sh -c "grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$' '$tmp/out'"
check "one line" [ "$(wc -l <"$tmp/out")" -eq 1 ]
check "token does not hold the private key" no_secret "$K.key"
T=$(cat "$tmp/out")
H=$(b64url_json "$(echo "$T" | cut -d. -f1)")
P=$(b64url_json "$(echo "$T" | cut -d. -f2)")
check "header alg EdDSA" sh -c "echo '$H' | grep -q '\"alg\":\"EdDSA\"'"
check "header kid" sh -c "echo '$H' | grep -q '\"kid\":\"'"
check "claims: iss, sub, role" sh -c "echo '$P' | grep -q '\"iss\":\"veritee-admin\",\"sub\":\"ops@example\",\"role\":\"admin\"'"
IAT=$(echo "$P" | sed -n 's/.*"iat":\([0-9]*\).*/\1/p')
EXP=$(echo "$P" | sed -n 's/.*"exp":\([0-9]*\).*/\1/p')
check "default ttl is 1h" [ "$((EXP - IAT))" -eq 3600 ]

expect 0 "token reader" '' -- "$B" admin token --key "$K.key" --role reader
P=$(b64url_json "$(cut -d. -f2 "$tmp/out")")
check "reader claims" sh -c "echo '$P' | grep -q '\"role\":\"reader\"'"
check "reader has no repos" sh -c "! echo '$P' | grep -q repos"

expect 0 "token writer" '' -- "$B" admin token --key "$K.key" --role writer --repo alpha --repo beta --ttl 30m
P=$(b64url_json "$(cut -d. -f2 "$tmp/out")")
check "writer claims" sh -c "echo '$P' | grep -q '\"role\":\"writer\",\"repos\":\[\"alpha\",\"beta\"\]'"
IAT=$(echo "$P" | sed -n 's/.*"iat":\([0-9]*\).*/\1/p')
EXP=$(echo "$P" | sed -n 's/.*"exp":\([0-9]*\).*/\1/p')
check "--ttl 30m" [ "$((EXP - IAT))" -eq 1800 ]

for ttl in 3600s:3600 3600:3600 2h:7200 7d:604800 30d:2592000 1s:1; do
        expect 0 "--ttl ${ttl%%:*}" '' -- "$B" admin token --key "$K.key" --role reader --ttl "${ttl%%:*}"
        P=$(b64url_json "$(cut -d. -f2 "$tmp/out")")
        IAT=$(echo "$P" | sed -n 's/.*"iat":\([0-9]*\).*/\1/p')
        EXP=$(echo "$P" | sed -n 's/.*"exp":\([0-9]*\).*/\1/p')
        check "--ttl ${ttl%%:*} is ${ttl##*:} s" [ "$((EXP - IAT))" -eq "${ttl##*:}" ]
done

# a P-256 key made with OpenSSL signs ES256
if command -v openssl >/dev/null 2>&1; then
        (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256.key" 2>/dev/null)
        expect 0 "token with a P-256 key" '' -- "$B" admin token --key "$tmp/p256.key" --role admin
        H=$(b64url_json "$(cut -d. -f1 "$tmp/out")")
        check "header alg ES256" sh -c "echo '$H' | grep -q '\"alg\":\"ES256\"'"
        (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.key" 2>/dev/null)
        expect 1 "token with an RSA key" '' 'RSA keys do not sign admin tokens (Ed25519 or P-256 only)' -- "$B" admin token --key "$tmp/rsa.key" --role admin
fi

# failures: exit 1
chmod 640 "$K.key"
expect 1 "token with a group-readable key" '' "admin key $K.key is accessible by group or others (mode 0640); chmod 600 it" -- "$B" admin token --key "$K.key" --role admin
chmod 600 "$K.key"
expect 1 "token with a missing key" '' "admin key $tmp/none.key: cannot open it: No such file or directory" -- "$B" admin token --key "$tmp/none.key" --role admin
chmod 600 "$K.pub"
expect 1 "token with the public key" '' "admin key $K.pub is not a PEM private key (it is a public key)" -- "$B" admin token --key "$K.pub" --role admin
chmod 644 "$K.pub"

# usage errors: exit 2, one line
expect 2 "bad --ttl 0" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl 0
expect 2 "bad --ttl 31d" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl 31d
expect 2 "bad --ttl 2592001s" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl 2592001
expect 2 "bad --ttl 1w" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl 1w
expect 2 "bad --ttl 1.5h" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl 1.5h
expect 2 "bad --ttl -1h" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl -1h
expect 2 "bad --ttl 1hh" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl 1hh
expect 2 "bad --ttl h" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl h
expect 2 "bad --ttl ' 1h'" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl " 1h"
expect 2 "bad --ttl 99999999999d" '' 'admin token: --ttl must be a duration like 3600s, 30m, 1h or 7d, at most 30d' -- "$B" admin token --key "$K.key" --role admin --ttl 99999999999d
expect 2 "bad --role root" '' 'admin token: --role must be admin, writer or reader' -- "$B" admin token --key "$K.key" --role root
expect 2 "bad --role Admin" '' 'admin token: --role must be admin, writer or reader' -- "$B" admin token --key "$K.key" --role Admin
expect 2 "bad --role none" '' 'admin token: --role must be admin, writer or reader' -- "$B" admin token --key "$K.key" --role none
expect 2 "no --role" '' 'admin token: --role admin|writer|reader is required' -- "$B" admin token --key "$K.key"
expect 2 "no --key" '' 'admin token: --key PRIVATE_KEY is required' -- "$B" admin token --role admin
expect 2 "writer without --repo" '' 'admin token: --role writer needs at least one --repo' -- "$B" admin token --key "$K.key" --role writer
expect 2 "--repo with reader" '' 'admin token: --repo only applies to --role writer' -- "$B" admin token --key "$K.key" --role reader --repo a
expect 2 "--repo with admin" '' 'admin token: --repo only applies to --role writer' -- "$B" admin token --key "$K.key" --role admin --repo a
expect 2 "empty --repo" '' 'admin token: --repo must be 1..63 bytes without control characters' -- "$B" admin token --key "$K.key" --role writer --repo ""
expect 2 "--repo of 64 bytes" '' 'admin token: --repo must be 1..63 bytes without control characters' -- "$B" admin token --key "$K.key" --role writer --repo "$(printf '%064d' 0)"
for n in 255 256; do
        expect 2 "--repo of $n bytes" '' 'admin token: --repo must be 1..63 bytes without control characters' -- "$B" admin token --key "$K.key" --role writer --repo "$(printf "%0${n}d" 0)"
done
expect 0 "--repo of 63 bytes" '' -- "$B" admin token --key "$K.key" --role writer --repo "$(printf '%063d' 0)"
# the resource commands refuse such names before contacting any server (port 9: discard)
echo a.b.c >"$tmp/tok" # JWT-shaped: the name check comes first
for n in 64 255 256; do
        expect 2 "secret put, repository of $n bytes" '' "repository name of $n bytes is too long (at most 63)" -- "$B" secret put "$(printf "%0${n}d" 0)/key/a" "$tmp/tok" --server http://127.0.0.1:9 --token "$tmp/tok"
        expect 2 "secret ls --repo of $n bytes" '' '--repo must be a repository name of 1..63 bytes' -- "$B" secret ls --repo "$(printf "%0${n}d" 0)" --server http://127.0.0.1:9 --token "$tmp/tok"
done
set -- "$B" admin token --key "$K.key" --role writer
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do set -- "$@" --repo "r$i"; done
expect 2 "17 --repo" '' 'admin token: at most 16 --repo' -- "$@"
expect 2 "--sub with a newline" '' 'admin token: --sub must be 1..127 bytes without control characters' -- "$B" admin token --key "$K.key" --role admin --sub "a
b"
expect 2 "unknown option" '' 'admin token: unknown option "--frobnicate"' -- "$B" admin token --key "$K.key" --role admin --frobnicate
expect 2 "missing option value" '' 'admin token: --role needs a value' -- "$B" admin token --key "$K.key" --role
expect 2 "stray argument" '' 'admin token: unexpected argument "extra"' -- "$B" admin token --key "$K.key" --role admin extra
expect 2 "keygen stray argument" '' "admin keygen: unexpected argument \"$tmp/x\"" -- "$B" admin keygen "$tmp/x"
expect 2 "keygen --out a directory" '' 'admin keygen: --out PREFIX names files (PREFIX.key, PREFIX.pub), not a directory' -- "$B" admin keygen --out "$tmp/"
expect 2 "keygen --out empty" '' 'admin keygen: --out PREFIX names files (PREFIX.key, PREFIX.pub), not a directory' -- "$B" admin keygen --out ""
expect 2 "unknown admin command" '' 'admin: unknown command "frob"' -- "$B" admin frob
expect 2 "admin alone" '' 'usage: veritee admin keygen|token ...' -- "$B" admin

expect 0 "admin help" 'admin keygen' -- "$B" admin --help
expect 0 "keygen help" 'usage: veritee admin keygen' -- "$B" admin keygen --help
expect 0 "token help" 'usage: veritee admin token' -- "$B" admin token --help
expect 0 "top-level help lists admin" 'admin keygen' -- "$B" --help

finish "admin CLI checks"
