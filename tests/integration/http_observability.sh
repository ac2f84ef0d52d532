#!/bin/sh
# /metrics after a real flow against the development server (scripts/dev-run.sh on a free
# port): `promtool check metrics` (Prometheus' own linter) passes; every tee has its own
# label; releases and refusals are counted by outcome; latency is a histogram per route;
# veritee_build_info and the process metrics are there; the content type names its charset.
# HTTP: a 405 carries Allow; HEAD works on GET routes, except a resource's (a GET there
# releases a secret and records it: a HEAD must not).
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/npm.sh"
need_built veritee veriteed
need_tools promtool curl
B="$BIN/veritee"
tmp=$(mktemp -d)
pid=""
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
start_dev_server "$BIN" "$ROOT"
export VERITEE_SERVER="$url" VERITEE_TOKEN="$V/admin.jwt"
printf 'm3tric' | "$B" secret put default/m/one - --policy "$ROOT/docs/examples/release-sim-demo.json" >/dev/null ||
        fail "secret put"
"$B" agent get-resource --tee sim --sim-dir "$V/sim" default/m/one >/dev/null 2>&1 || fail "release"
"$B" agent get-resource --tee sim --sim-dir "$V/sim" default/m/none >/dev/null 2>&1 &&
        fail "a missing resource was released"

curl -sS -D "$tmp/headers" -o "$tmp/metrics" "$url/metrics" || fail "GET /metrics"
if promtool check metrics <"$tmp/metrics" >"$tmp/promtool" 2>&1; then
        ok "promtool check metrics passes"
else
        fail "promtool check metrics"
        cat "$tmp/promtool"
fi
check "content type with its charset" grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$tmp/headers"
for tee in snp sim tdx sgx az-snp-vtpm az-tdx-vtpm tpm; do
        check "verifications labelled tee=$tee" grep -q "^veritee_verifications_total{tee=\"$tee\",verdict=\"affirming\"}" "$tmp/metrics"
done
check "the simulator's affirming verifications are counted" grep -Eq '^veritee_verifications_total\{tee="sim",verdict="affirming"\} [1-9]' "$tmp/metrics"
check "a release is counted" grep -q '^veritee_releases_total{outcome="released"} 1$' "$tmp/metrics"
check "a missing resource is counted by its class" grep -q '^veritee_releases_total{outcome="denied_not_found"} 1$' "$tmp/metrics"
check "latency histogram per route" grep -q '^veritee_http_request_duration_seconds_bucket{route="attest",le="+Inf"} [1-9]' "$tmp/metrics"
check "build info" grep -q '^veritee_build_info{version="[0-9.]*"} 1$' "$tmp/metrics"
for m in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_start_time_seconds; do
        check "process metric $m" grep -Eq "^$m [0-9]" "$tmp/metrics"
done
curl -sS -I "$url/healthz" >"$tmp/h" 2>&1
check "HEAD /healthz is 200" grep -q '^HTTP/1.1 200' "$tmp/h"
curl -sS -i "$url/kbs/v0/auth" >"$tmp/h" 2>&1
check "GET /kbs/v0/auth is 405" grep -q '^HTTP/1.1 405' "$tmp/h"
check "the 405 says Allow: POST" grep -qi '^Allow: POST' "$tmp/h"
check "the 405's detail names the methods" grep -q 'not allowed here (allowed: POST)' "$tmp/h"
curl -sS -I "$url/kbs/v0/resource/default/m/one" >"$tmp/h" 2>&1
check "HEAD on a resource is 405" grep -q '^HTTP/1.1 405' "$tmp/h"
check "with Allow: GET, POST, PUT, DELETE" grep -qi '^Allow: GET, POST, PUT, DELETE' "$tmp/h"
curl -sS -o /dev/null "$url/metrics" # (the HEAD above must not have counted a release)
check "a HEAD on a resource released nothing" sh -c "curl -sS '$url/metrics' | grep -q '^veritee_releases_total{outcome=\"released\"} 1\$'"
# request ids (X-Request-Id, the log's request_id, the ledger's): 16 hex digits, and no two
# alike over 40 requests
i=0
while [ "$i" -lt 40 ]; do
        curl -sS -o /dev/null -D - "$url/healthz" | tr -d '\r' |
                awk 'tolower($1) == "x-request-id:" {print $2}' >>"$tmp/rids"
        i=$((i + 1))
done
check "40 answers carry an X-Request-Id of 16 hex digits" \
        sh -c "[ \$(grep -Ec '^[0-9a-f]{16}\$' '$tmp/rids') -eq 40 ]"
check "no two request ids alike" sh -c "[ \$(sort -u '$tmp/rids' | wc -l) -eq 40 ]"
finish "metrics and HTTP checks"
