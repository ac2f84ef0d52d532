#!/bin/sh
# fuzz-seeds.sh BIN OUT: seed corpora made by the build, never committed. Writes
# OUT/<target>/ for every fuzz target (fuzz/corpus/<target> stays the committed, synthetic
# part; the fuzz runs and the replay tests use both):
#   - real evidence from ../shared/testdata (or $VT_TESTDATA) when it exists, copied by kind
#     (SNP reports, VCEKs and chains, Trustee wire JSON, DCAP quotes and collateral, HCL
#     reports, Azure vTPM evidence, JWKs, tokens, CCF receipts), and KBS attest bodies
#     wrapping that evidence;
#   - simulator evidence: `BIN/veritee sim` reports (default, debug, VMPL 1, another TCB)
#     and their chains, in OUT/.sim (kept between runs: its RSA-4096 keys take seconds);
#   - fuzz_snp_signed's base report and re-signed mutations (BIN/fuzz_snp_signed_seeds);
#   - the webhook's AdmissionReview fixtures (tests/fixtures/k8s).
# Idempotent; run by `make fuzz` and by the CTest fixture fuzz_seeds before the replay tests.
set -eu
[ $# -eq 2 ] || {
        echo "usage: $0 BIN OUT" >&2
        exit 2
}
BIN=$1
OUT=$2
SRC=$(cd "$(dirname "$0")/.." && pwd)
TD=${VT_TESTDATA:-$SRC/../shared/testdata}

targets=$(sed -n 's/^set(VT_FUZZ_TARGETS \(.*\))$/\1/p' "$SRC/fuzz/CMakeLists.txt")
[ -n "$targets" ] || {
        echo "$0: no VT_FUZZ_TARGETS in fuzz/CMakeLists.txt" >&2
        exit 1
}
mkdir -p "$OUT"
for t in $targets; do
        mkdir -p "$OUT/$t"
done

# put TARGET FILE...: copies each file that exists, named after its path under testdata
put() {
        t=$1
        shift
        [ -d "$OUT/$t" ] || return 0
        for f in "$@"; do
                [ -f "$f" ] || continue
                n=$(echo "${f#"$TD"/}" | tr '/' '_')
                cp "$f" "$OUT/$t/td-$n"
        done
}

# A fixed EC P-256 public JWK for the attest bodies (RFC 7517 appendix A.1's example key).
JWK='{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}'

# attest_body NAME EVIDENCE_JSON_FILE: a KBS attest body around the evidence
attest_body() {
        {
                printf '{"runtime-data":{"nonce":"bm9uY2U=","tee-pubkey":%s},' "$JWK"
                printf '"tee-evidence":{"primary_evidence":'
                cat "$2"
                printf ',"additional_evidence":""}}'
        } >"$OUT/kbs_attest/$1"
}

n_td=0
if [ -d "$TD" ]; then
        for f in $(find "$TD/snp" "$TD/kbs/trustee/snp" "$TD/azure/aci" -name '*.bin' 2>/dev/null); do
                if [ "$(wc -c <"$f")" -eq 1184 ]; then
                        put snp_report "$f"
                        put snp_signed "$f"
                fi
        done
        put cert $(find "$TD/snp" "$TD/azure/aci" -name '*.pem' -o -name '*.der' 2>/dev/null | grep -v 'snp/azure/trustee/vcek.pem')
        put snp_wire "$TD/snp/trustee/e2e-evidence-genoa-siena.json" "$TD/kbs/trustee/snp/snp-evidence-wire.json"
        put dcap_quote $(find "$TD/dcap" "$TD/kbs/trustee/tdx" -name '*.bin' -o -name '*.dat' 2>/dev/null)
        put dcap_collateral $(find "$TD/dcap" -name 'collateral*.json' 2>/dev/null)
        put hcl_report $(find "$TD/snp/azure" -name 'hcl-report*.bin' 2>/dev/null)
        put azure_evidence $(find "$TD/snp/azure/trustee" "$TD/kbs/trustee/az-snp-vtpm" "$TD/kbs/trustee/az-tdx-vtpm" "$TD/kbs/trustee/tpm" -name '*.json' 2>/dev/null)
        put tpm_quote $(find "$TD/kbs/trustee/tpm" "$TD/snp/azure/trustee" -name 'tpm*.json' 2>/dev/null)
        put jwk $(find "$TD/kbs/trustee/jwk" -name '*-jwk.json' 2>/dev/null)
        put jwt $(find "$TD/azure" -name '*.jwt' 2>/dev/null)
        put ccf_receipt $(find "$TD/azure/ccf" -type f 2>/dev/null)
        put release_policy "$TD/azure/skr/cvm_datadisk_skr_policy.json"
        for f in "$TD/kbs/trustee/snp/snp-evidence-wire.json" "$TD/kbs/trustee/az-snp-vtpm/evidence-v2.json" \
                "$TD/kbs/trustee/az-tdx-vtpm/evidence-v1.json" "$TD/kbs/trustee/tpm/tpm_evidence.json"; do
                if [ -f "$f" ]; then
                        attest_body "td-$(basename "$(dirname "$f")")-$(basename "$f")" "$f"
                fi
        done
        for f in $(find "$TD/kbs/trustee/tdx" "$TD/dcap/quotes_only" -name '*.bin' -o -name '*.dat' 2>/dev/null); do
                printf '{"quote":"%s"}' "$(base64 -w0 "$f")" >"$OUT/.quote.json"
                attest_body "td-quote-$(basename "$f")" "$OUT/.quote.json"
        done
        rm -f "$OUT/.quote.json"
        # fuzz_json_parse: the same bodies and evidence, as JSON text
        for f in "$OUT"/kbs_attest/td-* "$OUT"/snp_wire/td-* "$OUT"/azure_evidence/td-*; do
                [ -f "$f" ] && cp "$f" "$OUT/json_parse/"
        done
        n_td=$(find "$OUT" -name 'td-*' | wc -l)
fi

# the simulator
n_sim=0
if [ -x "$BIN/veritee" ]; then
        SIM=$OUT/.sim
        [ -f "$SIM/root.pem" ] || "$BIN/veritee" sim init "$SIM" >/dev/null
        rd=$(printf 'veritee fuzz seed' | sha256sum | cut -c1-64)
        i=0
        for opts in "" "--debug" "--vmpl 1" "--tcb 2:0:6:0x60" "--guest-svn 4294967295"; do
                # shellcheck disable=SC2086 # opts are words
                "$BIN/veritee" sim report "$SIM" --report-data "$rd" $opts -o "$OUT/snp_report/sim-$i.bin" \
                        --chain-out "$OUT/cert/sim-chain-$i.pem" >/dev/null
                cp "$OUT/snp_report/sim-$i.bin" "$OUT/snp_signed/sim-$i.bin"
                i=$((i + 1))
        done
        cp "$SIM/root.pem" "$OUT/cert/sim-root.pem"
        n_sim=$(find "$OUT" -name 'sim-*' | wc -l)
fi

# fuzz_snp_signed: reports signed by its fixed test VCEK key
if [ -x "$BIN/fuzz_snp_signed_seeds" ]; then
        "$BIN/fuzz_snp_signed_seeds" "$OUT/snp_signed" 32
fi

# the webhook's fixtures
for f in "$SRC"/tests/fixtures/k8s/*.json; do
        if [ -f "$f" ]; then
                cp "$f" "$OUT/admission/fixture-$(basename "$f")"
        fi
done

echo "fuzz-seeds: $OUT: $n_td from testdata${TD:+ ($TD)}, $n_sim from the simulator, $(find "$OUT" -type f ! -path '*/.sim/*' | wc -l) files in all"
