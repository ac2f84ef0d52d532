#!/bin/sh
# The command contract of `veritee verify nvidia-gpu` (exit codes, one JSON object on stdout,
# the reason a person reads on stderr) on the recorded NVIDIA vectors. OCSP is off (--no-ocsp)
# except where its absence is the point: no real OCSP response exists offline.
set -u
. "$(dirname "$0")/lib/common.sh"
B="${VT_BIN:-build/bin}/veritee"
T="${VT_TESTDATA:-../shared/testdata}"
if [ -z "$(ls -A "$T" 2>/dev/null)" ]; then
        echo "skipped: ../shared/testdata not found"
        exit 77
fi
N="$T/nvidia"
H="$N/gpu/hopper_550.90.07"
NONCE=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
N535=27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

EXPECT_MAX_STDOUT_LINES=1
expect 0 "trusted Hopper (hex report)" '"tee":"nvidia-gpu","verdict":"trusted"' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$H/certchain.pem" --nonce $NONCE --no-ocsp
expect 0 "Trustee claim names" '"driver_version":"550.90.07"' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$H/certchain.pem" --nonce $NONCE --no-ocsp
expect 0 "the reason says OCSP was skipped" 'OCSP not checked (--no-ocsp)' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$H/certchain.pem" --nonce $NONCE --no-ocsp
xxd -r -p "$H/report.hex" >"$tmp/report.bin" 2>/dev/null || python3 -c "import sys;open(sys.argv[2],'wb').write(bytes.fromhex(open(sys.argv[1]).read().strip()))" "$H/report.hex" "$tmp/report.bin"
expect 0 "raw report bytes" '"verdict":"trusted"' -- "$B" verify nvidia-gpu "$tmp/report.bin" --cert-chain "$H/certchain.pem" --nonce $NONCE --no-ocsp
expect 0 "12 PPCIE GPUs (NVAT JSON, chains inside)" '"gpu7":{' -- "$B" verify nvidia-gpu "$N/ppcie_hgx8/gpu_evidence.json" --nonce 4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e --no-ocsp
expect 0 "KBS additional evidence, 48-byte report data" '"verdict":"trusted"' -- "$B" verify nvidia-gpu "$N/kbs/additional_evidence_hopper_coco.json" --nonce 87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fece279b616efefc2aae21da80cf5581250 --no-ocsp
expect 0 "VBIOS RIM 12/12 (driver RIM allowed missing)" 'RIMs: 12 golden values matched; RIM NV_GPU_DRIVER_GH100_535.86.09 unavailable' -- "$B" verify nvidia-gpu "$N/gpu/hopper_535.86.09/report.hex" --cert-chain "$N/gpu/hopper_535.86.09/certchain.pem" --nonce $N535 --no-ocsp --rim-dir "$N/rims" --rim-allow-missing --at 2024-06-01T00:00:00Z
expect 1 "missing RIM without the override" '"verdict":"rejected"' 'rejected: nvidia: reference values unavailable: RIM NV_GPU_DRIVER_GH100_535.86.09 not found' -- "$B" verify nvidia-gpu "$N/gpu/hopper_535.86.09/report.hex" --cert-chain "$N/gpu/hopper_535.86.09/certchain.pem" --nonce $N535 --no-ocsp --rim-dir "$N/rims" --at 2024-06-01T00:00:00Z
expect 1 "RIM index 9 re-issued" '"verdict":"rejected"' 'index 9 matches none of its 1 alternatives' -- "$B" verify nvidia-gpu "$N/gpu/hopper_580.159.03/report.hex" --cert-chain "$N/gpu/hopper_580.159.03/certchain.pem" --nonce 5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca --no-ocsp --rim-dir "$N/rims" --rim-allow-missing --at 2024-06-01T00:00:00Z
expect 1 "bad signature" '"claims":{}' 'rejected: nvidia: report signature (ECDSA P-384, SHA-384 over 4166 bytes) does not verify with the leaf key' -- "$B" verify nvidia-gpu "$N/negative/hopper_badsig_report.hex" --cert-chain "$N/negative/hopper_badsig_certchain.pem" --nonce $NONCE --no-ocsp
expect 1 "wrong nonce" '"verdict":"rejected"' 'rejected: nvidia: report nonce does not equal the expected nonce' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$H/certchain.pem" --nonce $N535 --no-ocsp
expect 1 "leaf missing from the chain" '"verdict":"rejected"' 'has no FWID extension' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$N/negative/chain_missing_leaf.pem" --nonce $NONCE --no-ocsp
expect 1 "no OCSP response offline" '"verdict":"rejected"' 'OCSP for "GH100 A01 GSP BROM"' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$H/certchain.pem" --nonce $NONCE --ocsp-url http://127.0.0.1:9
expect 2 "no nonce" '' '--nonce HEX is required' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$H/certchain.pem"
expect 2 "no chain for a bare report" '' '--cert-chain PEM is required' -- "$B" verify nvidia-gpu "$H/report.hex" --nonce $NONCE --no-ocsp
expect 2 "--no-ocsp with --ocsp" '' '--no-ocsp with --ocsp' -- "$B" verify nvidia-gpu "$H/report.hex" --cert-chain "$H/certchain.pem" --nonce $NONCE --no-ocsp --ocsp "$tmp/x.der"
EXPECT_MAX_STDOUT_LINES=
expect 0 "help" 'usage: veritee verify nvidia-gpu' -- "$B" verify nvidia-gpu --help

finish "nvidia-gpu CLI checks"
