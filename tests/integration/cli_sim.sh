#!/bin/sh
# The command contract of `veritee sim` (docs/simulator.md): init makes a labelled
# simulator with private keys 0600, report signs a version-3 report with the fields
# asked for, and `veritee verify snp` rejects it because the simulator is not an AMD
# root. Usage errors exit 2, failures 1.
set -u
. "$(dirname "$0")/lib/common.sh"
B="${VT_BIN:-build/bin}/veritee"
if [ ! -x "$B" ]; then
        echo "skipped: $B not built"
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D="$tmp/sim"

expect 0 "sim init" "\"root\":\"$D/root.pem\"" -- "$B" sim init "$D"
check "private keys are 0600" [ "$(mode "$D/ark.key")$(mode "$D/ask.key")" = "600600" ]
check "directory is 0700" [ "$(mode "$D")" = "700" ]
check "root.pem and guest.json are 0644" [ "$(mode "$D/root.pem")$(mode "$D/guest.json")" = "644644" ]
check "root names the simulator" grep -q "BEGIN CERTIFICATE" "$D/root.pem"
if command -v openssl >/dev/null 2>&1; then
        check "ARK subject says NOT AMD" sh -c "openssl x509 -in '$D/root.pem' -noout -subject | grep -q 'veritee simulator (NOT AMD)'"
fi
cp "$D/root.pem" "$tmp/root.before"
expect 1 "re-init without --force" '' "sim: $D already holds a simulator (root.pem); re-create it with --force" -- "$B" sim init "$D"
check "root.pem unchanged" cmp -s "$D/root.pem" "$tmp/root.before"

expect 0 "sim report (defaults)" "{\"report\":\"$D/report.bin\",\"chain\":\"$D/chain.pem\"}" -- "$B" sim report "$D" --report-data 00112233
check "report is 1184 bytes" [ "$(wc -c <"$D/report.bin" | tr -d ' ')" = "1184" ]
check "chain has three certificates" [ "$(grep -c 'BEGIN CERTIFICATE' "$D/chain.pem")" = "3" ]
check "VCEK key is 0600" [ "$(mode "$D/vcek-7308000000000003.key")" = "600" ]
expect 0 "inspect: default guest" '"report_data":"00112233000000' -- "$B" inspect snp "$D/report.bin"
grep -q '"reported_tcb":{"bootloader":3,"tee":0,"snp":8,"microcode":115' "$tmp/out" || fail "default TCB"
grep -q '"debug_allowed":false' "$tmp/out" || fail "default debug bit"

# Not trusted: the simulator is not an AMD root; trusted only with --trust-root.
expect 1 "verify: leaf only, not trusted" '"verdict":"rejected"' 'rejected: snp: chain: no trusted intermediate "SEV-Milan" signs the SEV-VCEK with RSA-PSS/SHA-384 under a pinned AMD root' -- "$B" verify snp "$D/report.bin" --cert "$D/chain.pem"
grep -q "pinned AMD root" "$tmp/out" || fail "reason does not say the root is not pinned"
expect 1 "verify: with the simulator's chain, not trusted" '"verdict":"rejected"' 'rejected: snp: supplied root "ARK-Milan" does not match any pinned AMD root key' -- "$B" verify snp "$D/report.bin" --cert "$D/chain.pem" --chain "$D/chain.pem"
grep -q 'supplied root \\"ARK-Milan\\" does not match any pinned AMD root' "$tmp/out" || fail "reason does not name the unpinned ARK"
expect 0 "verify with --trust-root root.pem" '"verdict":"trusted"' -- "$B" verify snp "$D/report.bin" --cert "$D/chain.pem" --trust-root "$D/root.pem"
grep -q '(extra, not AMD)' "$tmp/out" || fail "trusted simulator result does not say it is not AMD"

M=$(printf '%096d' 0 | tr 0 a)
H=$(printf '%064d' 0 | tr 0 b)
expect 0 "sim report (every option)" "\"report\":\"$tmp/r2.bin\"" -- "$B" sim report "$D" --report-data ff --measurement "$M" --host-data "$H" --debug --vmpl 2 --tcb 4:1:9:0xd1 --guest-svn 7 --policy 0x30000 -o "$tmp/r2.bin" --chain-out "$tmp/c2.pem"
check "a second VCEK for the second TCB" [ "$(ls "$D"/vcek-*.pem | wc -l | tr -d ' ')" = "2" ]
check "second chain written" [ "$(grep -c 'BEGIN CERTIFICATE' "$tmp/c2.pem")" = "3" ]
expect 0 "inspect: asked fields" "\"report_data\":\"ff00000000" -- "$B" inspect snp "$tmp/r2.bin"
for want in "\"measurement\":\"$M\"" "\"host_data\":\"$H\"" '"vmpl":2' '"guest_svn":7' '"debug_allowed":true' \
        '"reported_tcb":{"bootloader":4,"tee":1,"snp":9,"microcode":209' '"cpuid_fam_id":25' '"version":3'; do
        grep -q -- "$want" "$tmp/out" || fail "inspect lacks $want"
done
expect 1 "verify second report: not trusted" '"verdict":"rejected"' 'rejected: snp: chain: no trusted intermediate "SEV-Milan" signs the SEV-VCEK with RSA-PSS/SHA-384 under a pinned AMD root' -- "$B" verify snp "$tmp/r2.bin" --cert "$tmp/c2.pem"

# Usage errors: exit 2, one line.
expect 2 "no --report-data" '' 'sim report: --report-data HEX is required' -- "$B" sim report "$D"
expect 2 "odd hex" '' 'sim report: --report-data must be at most 64 bytes of hex' -- "$B" sim report "$D" --report-data abc
expect 2 "non-hex" '' 'sim report: --report-data must be at most 64 bytes of hex' -- "$B" sim report "$D" --report-data zz
expect 2 "65 bytes of report data" '' 'sim report: --report-data must be at most 64 bytes of hex' -- "$B" sim report "$D" --report-data "$(printf '%0130d' 0)"
expect 2 "short measurement" '' 'sim report: --measurement must be 48 bytes of hex' -- "$B" sim report "$D" --report-data 00 --measurement 00
expect 2 "short host data" '' 'sim report: --host-data must be 32 bytes of hex' -- "$B" sim report "$D" --report-data 00 --host-data 00
expect 2 "--vmpl 4" '' 'sim report: --vmpl must be 0..3' -- "$B" sim report "$D" --report-data 00 --vmpl 4
expect 2 "--vmpl -1" '' 'sim report: --vmpl must be 0..3' -- "$B" sim report "$D" --report-data 00 --vmpl -1
expect 2 "--vmpl ' 1'" '' 'sim report: --vmpl must be 0..3' -- "$B" sim report "$D" --report-data 00 --vmpl " 1"
expect 2 "--tcb with three parts" '' 'sim report: --tcb must be BL:TEE:SNP:UCODE, each 0..255' -- "$B" sim report "$D" --report-data 00 --tcb 1:2:3
expect 2 "--tcb part 256" '' 'sim report: --tcb must be BL:TEE:SNP:UCODE, each 0..255' -- "$B" sim report "$D" --report-data 00 --tcb 1:2:3:256
expect 2 "--tcb trailing colon" '' 'sim report: --tcb must be BL:TEE:SNP:UCODE, each 0..255' -- "$B" sim report "$D" --report-data 00 --tcb 1:2:3:4:
expect 2 "--guest-svn too large" '' 'sim report: --guest-svn must be 0..4294967295' -- "$B" sim report "$D" --report-data 00 --guest-svn 4294967296
expect 2 "--policy without bit 17" '' 'sim report: --policy must be hex with bit 17 set and bits 63:26 clear' -- "$B" sim report "$D" --report-data 00 --policy 10000
expect 2 "--policy with reserved bits" '' 'sim report: --policy must be hex with bit 17 set and bits 63:26 clear' -- "$B" sim report "$D" --report-data 00 --policy 0x4030000
expect 2 "--policy not hex" '' 'sim report: --policy must be hex with bit 17 set and bits 63:26 clear' -- "$B" sim report "$D" --report-data 00 --policy 0x0x30000
expect 2 "unknown option" '' 'sim report: unknown option "--frobnicate"' -- "$B" sim report "$D" --report-data 00 --frobnicate
expect 2 "missing option value" '' 'sim report: --report-data needs a value' -- "$B" sim report "$D" --report-data
expect 2 "no DIR" '' 'usage: veritee sim report DIR --report-data HEX [OPTIONS]' -- "$B" sim report --report-data 00
expect 2 "two DIRs" '' 'usage: veritee sim report DIR --report-data HEX [OPTIONS]' -- "$B" sim report "$D" "$D" --report-data 00
expect 2 "init without DIR" '' 'usage: veritee sim init DIR [--force]' -- "$B" sim init
expect 2 "unknown sim command" '' 'sim: unknown command "frob" (known: init, report)' -- "$B" sim frob "$D"
expect 2 "sim alone" '' 'usage: veritee sim init|report DIR ...' -- "$B" sim

# Failures: exit 1.
expect 1 "report without a simulator" '' "sim: cannot read $tmp/none/guest.json (run \`veritee sim init DIR\` first)" -- "$B" sim report "$tmp/none" --report-data 00
expect 1 "init under a missing parent" '' "sim: cannot create $tmp/no/such/dir: No such file or directory" -- "$B" sim init "$tmp/no/such/dir"

expect 0 "help" 'sim report DIR' -- "$B" sim --help
expect 0 "init help" 'usage: veritee sim init' -- "$B" sim init --help
expect 0 "report help" 'usage: veritee sim report' -- "$B" sim report --help
expect 0 "top-level help lists sim" 'sim init DIR' -- "$B" --help

finish "sim CLI checks"
