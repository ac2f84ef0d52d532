#!/bin/sh
# `make run`: a development veriteed under ./var that trusts the veritee simulator.
# First run: creates the simulator (var/sim), reference values that accept the simulated
# guest's measurement (var/reference-values.json) and the configuration (var/veriteed.yaml).
# Later runs reuse them. Delete ./var to start over.
set -eu
cd "$(dirname "$0")/.."
B=${VT_BIN:-build/bin}
VAR=${VT_VAR:-$PWD/var}
mkdir -p "$VAR"
chmod 700 "$VAR"
if [ ! -f "$VAR/sim/root.pem" ]; then
        "$B/veritee" sim init "$VAR/sim" >/dev/null
fi
if [ ! -f "$VAR/reference-values.json" ]; then
        m=$(sed -n 's/.*"measurement": *"\([0-9a-f]*\)".*/\1/p' "$VAR/sim/guest.json")
        cat >"$VAR/reference-values.json" <<JSON
{
  "sim": {
    "measurements": ["$m"],
    "debug_allowed": false,
    "minimum_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
  }
}
JSON
fi
# secrets at rest are sealed with a key-encryption key; the admin API needs a key pair and
# a token (the demo commands in README.md use var/admin.jwt)
[ -f "$VAR/kek" ] || "$B/veritee" admin kekgen "$VAR/kek" >/dev/null
[ -f "$VAR/admin.pub" ] || "$B/veritee" admin keygen --out "$VAR/admin" >/dev/null
[ -f "$VAR/admin.jwt" ] && [ -n "$(find "$VAR/admin.jwt" -mmin -1440 2>/dev/null)" ] ||
        (umask 077 && "$B/veritee" admin token --key "$VAR/admin.key" --role admin --ttl 1d --sub dev >"$VAR/admin.jwt")
if [ ! -f "$VAR/veriteed.yaml" ]; then
        cat >"$VAR/veriteed.yaml" <<YAML
# Development configuration written by scripts/dev-run.sh (make run).
listen: 127.0.0.1:${VT_PORT:-8080}
state_dir: $VAR
attestation:
  reference_values: $VAR/reference-values.json
  # Trusts the veritee simulator: never do this in production.
  simulator_root: $VAR/sim/root.pem
secrets:
  kek_file: $VAR/kek
admin:
  keys: [$VAR/admin.pub]
YAML
fi
echo "veriteed: development mode under $VAR; it trusts the veritee SIMULATOR root ($VAR/sim/root.pem), not only AMD. Try:"
echo "  $B/veritee agent attest --kbs http://127.0.0.1:${VT_PORT:-8080} --tee sim --sim-dir $VAR/sim"
exec "$B/veriteed" --config "$VAR/veriteed.yaml"
