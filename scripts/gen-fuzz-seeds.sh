#!/bin/sh
# Regenerates the synthetic seed corpora of the fuzz targets (fuzz/README.md).
#
#   scripts/gen-fuzz-seeds.sh            SNP reports and policies, the Azure API's request
#                                        bodies (deterministic)
#   scripts/gen-fuzz-seeds.sh --certs    also the certificates and CRLs (openssl CLI) and the
#                                        Azure API's key imports (python3-cryptography;
#                                        the keys are random, so the bytes change)
#
# Only the seed-*.* files are rewritten; inputs merged in from fuzzing runs (other
# names) are left alone. Nothing here comes from real hardware or ../shared/testdata.
# $pss and $days below are option lists, split on purpose:
# shellcheck disable=SC2086
set -eu
cd "$(dirname "$0")/.."

certs=0
case "${1:-}" in
--certs) certs=1 ;;
"") ;;
*)
        echo "usage: $0 [--certs]" >&2
        exit 2
        ;;
esac

# ---- SNP reports: 1184-byte ATTESTATION_REPORTs, layout as in lib/evidence/snp.c ----
python3 - fuzz/corpus/snp_report <<'EOF'
import os, struct, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for f in os.listdir(out):
    if f.startswith("seed-"):
        os.remove(os.path.join(out, f))

SIZE = 1184

def report(version, fam=None, model=None, step=0, signer=0, policy=0x30000, chip=64,
           tcb=0xdb18000000000004):
    r = bytearray(SIZE)
    struct.pack_into("<IIQ", r, 0x000, version, 7, policy)
    r[0x010:0x020] = b"\x11" * 16                       # family_id
    r[0x020:0x030] = b"\x22" * 16                       # image_id
    struct.pack_into("<IIQQI", r, 0x030, 1, 1, tcb, 0x25, signer)
    r[0x050:0x090] = bytes(range(64))                   # report_data
    r[0x090:0x0c0] = b"\x90" * 48                       # measurement
    r[0x0c0:0x0e0] = b"\xc0" * 32                       # host_data
    r[0x0e0:0x110] = b"\xe0" * 48                       # id_key_digest
    r[0x110:0x140] = b"\x10" * 48                       # author_key_digest
    r[0x140:0x160] = b"\x40" * 32                       # report_id
    r[0x160:0x180] = b"\xff" * 32                       # report_id_ma
    struct.pack_into("<Q", r, 0x180, tcb)               # reported_tcb
    if version >= 3:
        r[0x188], r[0x189], r[0x18a] = fam, model, step
    r[0x1a0:0x1a0 + chip] = bytes((0xa0 + i) & 0xff for i in range(chip))
    struct.pack_into("<Q", r, 0x1e0, tcb)               # committed_tcb
    r[0x1e8:0x1eb] = bytes([29, 55, 1])                 # current build/minor/major
    r[0x1ec:0x1ef] = bytes([29, 55, 1])                 # committed
    struct.pack_into("<Q", r, 0x1f0, tcb)               # launch_tcb
    if version >= 5:
        struct.pack_into("<QQ", r, 0x1f8, 0x3f, 0x1f)  # mitigation vectors
    r[0x2a0:0x2d0] = bytes((i * 7 + 1) & 0xff for i in range(48))   # R, little-endian
    r[0x2e8:0x318] = bytes((i * 13 + 2) & 0xff for i in range(48))  # S
    return r

def patch(r, off, data):
    r = bytearray(r)
    r[off:off + len(data)] = data
    return r

def write(name, data):
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(data)

turin_tcb = 0x0500000004030201  # fmc 1, bootloader 2, tee 3, snp 4, microcode 5
valid = {
    "v2-unknown.bin": report(2),
    "v2-turin-chipid8.bin": report(2, chip=8, tcb=turin_tcb),
    "v2-masked-chipid.bin": report(2, chip=0, signer=0x2),
    "v3-milan.bin": report(3, 0x19, 0x01, 1),
    "v3-genoa.bin": report(3, 0x19, 0x11, 1, signer=0x1),
    "v3-genoa-vlek.bin": report(3, 0x19, 0xa0, 2, signer=0x5, policy=0x1f0000),
    "v3-unsigned.bin": report(3, 0x19, 0x01, signer=0x1c),
    "v3-unknown-cpuid.bin": report(3, 0x17, 0x31),
    "v5-turin.bin": report(5, 0x1a, 0x02, 0, chip=8, tcb=turin_tcb, policy=0x3ff0000),
    "v5-milan.bin": report(5, 0x19, 0x01, 1, policy=0x3001f),
}
for name, r in valid.items():
    write(name, r)

base = valid["v3-milan.bin"]
bad = {
    "empty.bin": b"",
    "short-100.bin": base[:100],
    "short-1183.bin": base[:-1],
    "trailing-1185.bin": base + b"\x00",
    "version-4.bin": patch(base, 0x000, b"\x04"),
    "policy-bit17-clear.bin": patch(base, 0x008, struct.pack("<Q", 0x10000)),
    "policy-high-bits.bin": patch(base, 0x008, struct.pack("<Q", 0x4030000)),
    "sigalgo-2.bin": patch(base, 0x034, b"\x02"),
    "signer-reserved-bit.bin": patch(base, 0x048, b"\x20"),
    "signer-key-3.bin": patch(base, 0x048, b"\x0c"),
    "reserved-04c.bin": patch(base, 0x04c, b"\x01"),
    "reserved-18b.bin": patch(base, 0x18b, b"\x01"),
    "v2-cpuid-set.bin": patch(valid["v2-unknown.bin"], 0x188, b"\x19"),
    "reserved-1eb.bin": patch(base, 0x1eb, b"\x01"),
    "v3-mit-vector.bin": patch(base, 0x1f8, b"\x01"),
    "sig-r-high.bin": patch(base, 0x2d0, b"\x01"),
    "sig-reserved-end.bin": patch(base, SIZE - 1, b"\x01"),
    "garbage.bin": bytes((i * 151 + 17) & 0xff for i in range(SIZE)),
}
for name, r in bad.items():
    write(name, r)
EOF

# ---- SNP policies: JSON documents, keys as in lib/policy/snp_policy.c ----
python3 - fuzz/corpus/snp_policy <<'EOF'
import json, os, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for f in os.listdir(out):
    if f.startswith("seed-"):
        os.remove(os.path.join(out, f))

def write(name, doc):
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=1, sort_keys=False)
    with open(os.path.join(out, "seed-" + name), "w") as f:
        f.write(text + "\n")

def h(b, n):
    return bytes([b] * n).hex()

full = {
    "debug_allowed": False,
    "migrate_ma_allowed": False,
    "smt_allowed": True,
    "single_socket_required": False,
    "vmpl": 0,
    "minimum_tcb": {"bootloader": 4, "tee": 0, "snp": 24, "microcode": 219, "fmc": 1},
    "measurements": [h(0x90, 48), h(0x00, 48)],
    "id_key_digests": [h(0xe0, 48)],
    "author_key_digests": [h(0x10, 48)],
    "host_data": h(0xc0, 32),
    "report_data": h(0x50, 64),
    "family_id": h(0x11, 16),
    "image_id": h(0x22, 16),
    "minimum_guest_svn": 7,
    "products": ["Milan", "Genoa", "Turin"],
    "signers": ["vcek", "vlek"],
}
write("empty.json", {})
write("full.json", full)
write("permissive.json", {"debug_allowed": True, "migrate_ma_allowed": True,
                          "smt_allowed": True})
write("strict.json", {"smt_allowed": False, "single_socket_required": True, "vmpl": 3,
                      "signers": ["VCEK"], "products": ["bergamo", "siena"]})
write("min-tcb.json", {"minimum_tcb": {"bootloader": 255, "tee": 255, "snp": 255,
                                       "microcode": 255, "fmc": 255}})
write("min-tcb-fmc.json", {"products": ["Turin"], "minimum_tcb": {"fmc": 2}})
write("measurement-one.json", {"measurements": [h(0x90, 48)]})
write("report-data-short.json", {"report_data": "0011223344"})
write("guest-svn-max.json", {"minimum_guest_svn": 4294967295})
write("author-key.json", {"author_key_digests": [h(0x10, 48)], "id_key_digests": [h(0xe0, 48)]})
write("ids.json", {"family_id": h(0x11, 16), "image_id": h(0x22, 16), "host_data": h(0xc0, 32)})
write("uppercase-hex.json", {"host_data": h(0xc0, 32).upper()})
write("max-list.json", {"measurements": [("%096x" % i) for i in range(64)]})
# rejected
write("unknown-key.json", {"debug_alowed": True})
write("duplicate-key.json", '{"vmpl": 0, "vmpl": 1}')
write("vmpl-4.json", {"vmpl": 4})
write("vmpl-negative.json", {"vmpl": -1})
write("vmpl-string.json", {"vmpl": "0"})
write("bool-as-int.json", {"debug_allowed": 0})
write("min-tcb-unknown.json", {"minimum_tcb": {"ucode": 1}})
write("min-tcb-256.json", {"minimum_tcb": {"snp": 256}})
write("hex-odd.json", {"host_data": "abc"})
write("hex-nonhex.json", {"family_id": "zz" * 16})
write("hex-long.json", {"image_id": "00" * 17})
write("list-empty.json", {"measurements": []})
write("list-65.json", {"id_key_digests": [h(0, 48)] * 65})
write("product-unknown.json", {"products": ["Naples"]})
write("signer-unknown.json", {"signers": ["ask"]})
write("not-object.json", [1, 2, 3])
write("truncated.json", '{"measurements": ["' + h(0x90, 48))
write("nested-deep.json", "[" * 64 + "]" * 64)
EOF

# ---- the Azure API's request bodies (fuzz_azure_request: the first byte picks the parser) ----
python3 - fuzz/corpus/azure_request <<'EOF'
import base64, json, os, struct, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def b64u(b, pad=False):
    s = base64.urlsafe_b64encode(b).decode()
    return s if pad else s.rstrip("=")


def w(name, sel, obj):
    body = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    open(os.path.join(out, "seed-" + name), "wb").write(bytes([sel]) + body)


# 0..3: /attest/{SgxEnclave,OpenEnclave,SevSnpVm,TdxVm}; a DCAP-shaped quote (only decoded)
quote = struct.pack("<HH", 3, 2) + bytes(range(60))
rt = json.dumps({"keys": [{"kty": "RSA", "kid": "w", "e": "AQAB", "n": "sXch",
                           "key_ops": ["encrypt"]}]}).encode()
w("attest-sgx", 0, {"quote": b64u(quote), "runtimeData": {"data": b64u(rt), "dataType": "JSON"},
                    "nonce": "n-1"})
w("attest-sgx-padded-std", 0, {"quote": base64.b64encode(quote).decode(), "nonce": 1234567890123})
oe = struct.pack("<IIQ", 1, 2, len(quote)) + quote
w("attest-oe", 1, {"report": b64u(oe, True),
                   "runtimeData": {"data": b64u(b"binary"), "dataType": "Binary"}})
w("attest-oe-local", 1, {"report": b64u(struct.pack("<IIQ", 1, 1, len(quote)) + quote)})
w("attest-oe-short", 1, {"report": b64u(struct.pack("<IIQ", 1, 2, len(quote) + 5) + quote)})
w("attest-oe-bare", 1, {"report": b64u(quote)})
snp = {"SnpReport": b64u(bytes(1184), True),
       "VcekCertChain": b64u(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", True)}
w("attest-snp", 2, {"report": b64u(json.dumps(snp).encode(), True),
                    "runtimeData": {"data": b64u(rt), "dataType": "JSON"},
                    "initTimeData": {"data": b64u(b'{"policy":"x"}'), "dataType": "JSON"},
                    "nonce": 7})
w("attest-snp-short", 2, {"report": b64u(json.dumps(
    {"SnpReport": b64u(bytes(100)), "VcekCertChain": ""}).encode())})
w("attest-tdx", 3, {"quote": b64u(struct.pack("<HH", 4, 2) + bytes(40)),
                    "initTimeData": {"data": b64u(b"{}"), "dataType": "JSON"}})
w("attest-bad-datatype", 3, {"quote": "AAAA", "runtimeData": {"data": "e30", "dataType": "XML"}})
# 4: create, 5: import, 6: release
pol = {"version": "1.0.0", "anyOf": [{"authority": "https://veritee.example/", "allOf": [
    {"claim": "x-ms-attestation-type", "equals": "sevsnpvm"},
    {"claim": "x-ms-sevsnpvm-is-debuggable", "equals": "false"},
    {"anyOf": [{"claim": "x-ms-sevsnpvm-vmpl", "equals": 0},
               {"claim": "x-ms-isolation-tee.x-ms-attestation-type", "equals": "sevsnpvm"}]}]}]}
rp = {"contentType": "application/json; charset=utf-8", "data": b64u(json.dumps(pol).encode()),
      "immutable": False}
ex = {"exportable": True}
w("create-rsa", 4, {"kty": "RSA-HSM", "key_size": 3072, "attributes": ex, "release_policy": rp})
w("create-ec", 4, {"kty": "EC", "crv": "P-521", "attributes": ex, "release_policy": rp})
w("create-oct", 4, {"kty": "oct-HSM", "key_size": 128, "attributes": ex, "release_policy": rp})
w("create-not-exportable", 4, {"kty": "oct", "attributes": {"exportable": False},
                               "release_policy": rp})
w("create-bad-policy", 4, {"kty": "oct", "attributes": ex, "release_policy": {
    "data": b64u(b'{"version":"1.0.0","anyOf":[]}')}})
w("import-oct", 5, {"key": {"kty": "oct-HSM", "k": b64u(bytes(range(32)))}, "hsm": True,
                    "attributes": ex, "release_policy": rp})
w("release", 6, {"target": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "nonce": "abc",
                 "enc": "RSA_AES_KEY_WRAP_256"})
w("release-default", 6, {"target": "x.y.z"})
w("release-bad-enc", 6, {"target": "x.y.z", "enc": "A256KW"})
open(os.path.join(out, "seed-path-segment"), "wb").write(b"\x00sevsnpvm")
# ---- NVIDIA reports and opaque data: synthetic SPDM 1.1, layout as in lib/evidence/nvidia.c ----
python3 - fuzz/corpus/nvidia_spdm fuzz/corpus/nvidia_opaque <<'EOF'
import os, struct, sys

spdm, opq = sys.argv[1], sys.argv[2]
for out in (spdm, opq):
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.startswith("seed-"):
            os.remove(os.path.join(out, f))

def field(t, data):
    return struct.pack("<HH", t, len(data)) + data

def opaque_gpu(fwid=True, extra=b""):
    o = field(6, bytes([0x00, 0x9f, 0x00, 0x96, 0x01, 0, 0, 0]))
    o += field(15, b"882\0\0\0\0\0\0") + field(17, b"1010\0") + field(18, b"0200\0")
    o += field(3, b"550.90.07\0") + field(4, bytes.fromhex("8001000000000000"))
    o += field(12, struct.pack("<4I", 0, 1, 4, 1)) + field(11, b"\x55")
    if fwid:
        o += field(20, bytes(range(48)))
    return o + field(21, b"\x55") + extra

def opaque_switch():
    return (field(6, b"96.10.55.00.01") + field(22, b"\x11" * 8) + field(12, b"\0" * 124)
            + field(26, b"\x22" * 128) + field(23, b"\xec\x00") + field(24, b"\x01\x00")
            + field(25, b"\x01\x00"))

def report(nblocks, opaque, nonce=b"\x93" * 32, tail=b"", vlen=48, spec=1):
    req = bytes([0x11, 0xE0, 0x01, 0xFF]) + nonce + b"\x00"
    rec = b""
    for i in range(1, nblocks + 1):
        dmtf = bytes([0x01]) + struct.pack("<H", vlen) + bytes([i]) * vlen
        rec += bytes([i, spec]) + struct.pack("<H", len(dmtf)) + dmtf
    rsp = bytes([0x11, 0x60, 0, 0, nblocks]) + struct.pack("<I", len(rec))[:3] + rec
    rsp += b"\xab" * 32 + struct.pack("<H", len(opaque)) + opaque
    return req + rsp + b"\x5a" * 96 + tail

blackwell = field(33, b"\x07\x07") + field(34, b"\x01\x00") + field(35, b"GB100\0") + field(36, b"\x00\x00")
seeds = {
    "seed-gpu-64.bin": report(64, opaque_gpu()),
    "seed-gpu-old-no-fwid.bin": report(64, opaque_gpu(fwid=False)),
    "seed-gpu-trailing-zero.bin": report(64, opaque_gpu(), tail=b"\0"),
    "seed-gpu-trailing-two.bin": report(64, opaque_gpu(), tail=b"\0\0"),
    "seed-switch-31.bin": report(31, opaque_switch()),
    "seed-blackwell.bin": report(64, opaque_gpu(extra=blackwell)),
    "seed-one-block.bin": report(1, field(3, b"1\0")),
    "seed-no-opaque.bin": report(2, b""),
    "seed-bad-spec.bin": report(2, b"", spec=2),
    "seed-big-value.bin": report(1, b"", vlen=65),
    "seed-unknown-opaque.bin": report(2, field(27, b"\0")),
    "seed-truncated.bin": report(4, opaque_gpu())[:300],
}
for name, data in seeds.items():
    open(os.path.join(spdm, name), "wb").write(data)
open(os.path.join(spdm, "seed-gpu-64.hex"), "w").write(seeds["seed-gpu-64.bin"].hex())

oseeds = {
    "seed-gpu.bin": opaque_gpu(),
    "seed-switch.bin": opaque_switch(),
    "seed-blackwell.bin": opaque_gpu(extra=blackwell),
    "seed-version-2.bin": field(34, b"\x02\x00"),
    "seed-duplicate.bin": field(11, b"\x55") + field(11, b"\xaa"),
    "seed-unknown.bin": field(30, b"x"),
    "seed-fwid-short.bin": field(20, b"\0" * 47),
    "seed-overrun.bin": struct.pack("<HH", 3, 200) + b"1.0",
    "seed-empty-field.bin": field(3, b""),
}
for name, data in oseeds.items():
    open(os.path.join(opq, name), "wb").write(data)
EOF

[ "$certs" -eq 1 ] || exit 0

# ---- certificates: VCEK/VLEK-shaped leaves, RSA-PSS chains, CRLs, garbage ----
command -v openssl >/dev/null || {
        echo "gen-fuzz-seeds: openssl CLI needed for --certs" >&2
        exit 1
}
out=fuzz/corpus/cert
mkdir -p "$out"
rm -f "$out"/seed-*
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

hwid64=$(python3 -c 'print("".join("%02x" % ((0xa0 + i) & 0xff) for i in range(64)))')
cat >"$tmp/ext.cnf" <<EOF
[req]
distinguished_name = dn
[dn]

[vcek]
1.3.6.1.4.1.3704.1.1 = ASN1:INTEGER:0
1.3.6.1.4.1.3704.1.2 = ASN1:IA5STRING:Milan-B0
1.3.6.1.4.1.3704.1.3.1 = ASN1:INTEGER:4
1.3.6.1.4.1.3704.1.3.2 = ASN1:INTEGER:0
1.3.6.1.4.1.3704.1.3.3 = ASN1:INTEGER:24
1.3.6.1.4.1.3704.1.3.8 = ASN1:INTEGER:219
1.3.6.1.4.1.3704.1.4 = DER:$hwid64

[vcek_turin]
1.3.6.1.4.1.3704.1.1 = ASN1:INTEGER:1
1.3.6.1.4.1.3704.1.2 = ASN1:IA5STRING:Turin-B0
1.3.6.1.4.1.3704.1.3.1 = ASN1:INTEGER:2
1.3.6.1.4.1.3704.1.3.2 = ASN1:INTEGER:3
1.3.6.1.4.1.3704.1.3.3 = ASN1:INTEGER:4
1.3.6.1.4.1.3704.1.3.8 = ASN1:INTEGER:5
1.3.6.1.4.1.3704.1.3.9 = ASN1:INTEGER:1
1.3.6.1.4.1.3704.1.4 = ASN1:FORMAT:HEX,OCTETSTRING:a0a1a2a3a4a5a6a7

[vlek]
1.3.6.1.4.1.3704.1.1 = ASN1:INTEGER:0
1.3.6.1.4.1.3704.1.2 = ASN1:IA5STRING:Genoa
1.3.6.1.4.1.3704.1.3.1 = ASN1:INTEGER:7
1.3.6.1.4.1.3704.1.3.2 = ASN1:INTEGER:0
1.3.6.1.4.1.3704.1.3.3 = ASN1:INTEGER:14
1.3.6.1.4.1.3704.1.3.8 = ASN1:INTEGER:72
1.3.6.1.4.1.3704.1.5 = ASN1:IA5STRING:fuzz-csp

[bad_ext]
1.3.6.1.4.1.3704.1.2 = ASN1:UTF8String:Milan\x01
1.3.6.1.4.1.3704.1.3.1 = ASN1:INTEGER:300
1.3.6.1.4.1.3704.1.3.2 = ASN1:UTF8String:0
1.3.6.1.4.1.3704.1.3.3 = ASN1:INTEGER:-1
1.3.6.1.4.1.3704.1.3.8 = DER:0201
1.3.6.1.4.1.3704.1.4 = DER:0102030405

[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
EOF

pss="-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha384"
days="-days 3650 -set_serial 1"

# fake ARK (self-signed RSA-PSS/SHA-384, like AMD's) and ASK under it
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/ark.key"
openssl req -new -x509 -key "$tmp/ark.key" -sha384 $pss $days -subj "/OU=Engineering/CN=ARK-Milan" \
        -extensions ca -config "$tmp/ext.cnf" -out "$tmp/ark.pem" 2>/dev/null
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/ask.key"
openssl req -new -key "$tmp/ask.key" -subj "/OU=Engineering/CN=SEV-Milan" -out "$tmp/ask.csr"
openssl x509 -req -in "$tmp/ask.csr" -CA "$tmp/ark.pem" -CAkey "$tmp/ark.key" -sha384 $pss $days \
        -extfile "$tmp/ext.cnf" -extensions ca -out "$tmp/ask.pem" 2>/dev/null

# leaf: EC P-384 key, signed by the fake ASK, and self-signed variants
leaf() { # name section cn [curve]
        openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:"${4:-P-384}" \
                -out "$tmp/$1.key"
        openssl req -new -key "$tmp/$1.key" -subj "/OU=Engineering/CN=$3" -out "$tmp/$1.csr"
        openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/ask.pem" -CAkey "$tmp/ask.key" -sha384 \
                $pss $days -extfile "$tmp/ext.cnf" -extensions "$2" -out "$tmp/$1.pem" 2>/dev/null
}
leaf vcek vcek SEV-VCEK
leaf turin vcek_turin SEV-VCEK
leaf vlek vlek SEV-VLEK
leaf badext bad_ext SEV-VCEK
leaf p256 vcek SEV-VCEK P-256

openssl x509 -in "$tmp/vcek.pem" -outform DER -out "$out/seed-vcek-milan.der"
cp "$tmp/vcek.pem" "$out/seed-vcek-milan.pem"
openssl x509 -in "$tmp/turin.pem" -outform DER -out "$out/seed-vcek-turin.der"
openssl x509 -in "$tmp/vlek.pem" -outform DER -out "$out/seed-vlek-genoa.der"
openssl x509 -in "$tmp/badext.pem" -outform DER -out "$out/seed-vcek-bad-ext.der"
openssl x509 -in "$tmp/p256.pem" -outform DER -out "$out/seed-vcek-p256.der"
openssl x509 -in "$tmp/ark.pem" -outform DER -out "$out/seed-ark-rsapss.der"
cp "$tmp/ask.pem" "$out/seed-ask-rsapss.pem"

# self-signed EC P-384, DER and PEM
openssl req -new -x509 -key "$tmp/vcek.key" -sha384 $days -subj "/CN=SEV-VCEK" \
        -extensions vcek -config "$tmp/ext.cnf" -out "$tmp/self.pem" 2>/dev/null
cp "$tmp/self.pem" "$out/seed-ec384-self.pem"
openssl x509 -in "$tmp/self.pem" -outform DER -out "$out/seed-ec384-self.der"

# leaf + chain for the split call: first byte chooses where the leaf ends
python3 - "$tmp" "$out" <<'EOF'
import sys
tmp, out = sys.argv[1], sys.argv[2]
leaf = open(tmp + "/vcek.pem", "rb").read()
chain = open(tmp + "/ask.pem", "rb").read() + open(tmp + "/ark.pem", "rb").read()
# PEM readers skip text between blocks: a gap wide enough for the split to land in
gap = b"# gap\n" * 8
body = leaf + gap + chain
rest = len(body)
b = (len(leaf) + len(gap) // 2) * 255 // rest
assert len(leaf) <= rest * b // 255 <= len(leaf) + len(gap)
open(out + "/seed-split-vcek-chain.pem", "wb").write(bytes([b]) + body)
# the whole bundle, as a chain file would look
open(out + "/seed-bundle.pem", "wb").write(leaf + chain)
EOF

# a CRL signed by the fake ARK, PEM and DER
mkdir -p "$tmp/ca"
: >"$tmp/ca/index.txt"
printf '01\n' >"$tmp/ca/crlnumber"
cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = fake
[fake]
database = $tmp/ca/index.txt
crlnumber = $tmp/ca/crlnumber
default_md = sha384
default_crl_days = 30
EOF
printf 'R\t351231000000Z\t250101000000Z\t02\tunknown\t/CN=SEV-Milan\n' >"$tmp/ca/index.txt"
openssl ca -gencrl -config "$tmp/ca.cnf" -keyfile "$tmp/ark.key" -cert "$tmp/ark.pem" $pss \
        -out "$out/seed-crl.pem" 2>/dev/null
openssl crl -in "$out/seed-crl.pem" -outform DER -out "$out/seed-crl.der"

# garbage and near misses
python3 - "$out" <<'EOF'
import sys
out = sys.argv[1]
der = open(out + "/seed-vcek-milan.der", "rb").read()
open(out + "/seed-der-truncated.der", "wb").write(der[: len(der) // 2])
open(out + "/seed-der-trailing.der", "wb").write(der + b"\x00")
open(out + "/seed-pem-header-only.pem", "wb").write(b"-----BEGIN CERTIFICATE-----\n")
open(out + "/seed-pem-bad-base64.pem", "wb").write(
    b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
open(out + "/seed-garbage.bin", "wb").write(bytes((i * 151 + 17) & 0xff for i in range(512)))
open(out + "/seed-asn1-deep.der", "wb").write(b"\x30\x80" * 200)
EOF

# ---- the Azure API's key imports with fresh EC and RSA keys (python3-cryptography) ----
python3 - fuzz/corpus/azure_request <<'EOF'
import base64, json, os, sys
from cryptography.hazmat.primitives.asymmetric import ec, rsa

out = sys.argv[1]


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def i2b(i):
    return i.to_bytes((i.bit_length() + 7) // 8, "big")


def w(name, obj):
    open(os.path.join(out, "seed-" + name), "wb").write(
        b"\x05" + json.dumps(obj, separators=(",", ":")).encode())


pol = {"version": "1.0.0", "anyOf": [{"authority": "https://veritee.example/", "allOf": [
    {"claim": "x-ms-attestation-type", "equals": "sevsnpvm"}]}]}
rp = {"data": b64u(json.dumps(pol).encode())}
ex = {"exportable": True}
k = ec.generate_private_key(ec.SECP256R1()).private_numbers()
w("import-ec", {"key": {"kty": "EC-HSM", "crv": "P-256",
                        "x": b64u(k.public_numbers.x.to_bytes(32, "big")),
                        "y": b64u(k.public_numbers.y.to_bytes(32, "big")),
                        "d": b64u(k.private_value.to_bytes(32, "big")), "key_ops": ["sign"]},
                "attributes": ex, "release_policy": rp})
r = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
jwk = {"kty": "RSA", "n": b64u(i2b(r.public_numbers.n)), "e": b64u(i2b(r.public_numbers.e)),
       "d": b64u(i2b(r.d)), "p": b64u(i2b(r.p)), "q": b64u(i2b(r.q)), "dp": b64u(i2b(r.dmp1)),
       "dq": b64u(i2b(r.dmq1)), "qi": b64u(i2b(r.iqmp))}
w("import-rsa", {"key": jwk, "attributes": ex, "release_policy": rp})
w("import-rsa-mismatch", {"key": dict(jwk, qi=b64u(i2b(r.iqmp ^ 1))), "attributes": ex,
                          "release_policy": rp})
EOF
# ---- OCSP responses (fuzz_ocsp): `openssl ocsp` under a throw-away P-384 CA ----
out=fuzz/corpus/ocsp
mkdir -p "$out"
rm -f "$out"/seed-*
o="$tmp/ocsp"
mkdir -p "$o"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$o/ca.key" \
        -out "$o/ca.pem" -subj /CN=FUZZ-CA -days 3650 -sha384 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$o/ica.key" \
        -out "$o/ica.csr" -subj /CN=FUZZ-ICA 2>/dev/null
openssl x509 -req -in "$o/ica.csr" -CA "$o/ca.pem" -CAkey "$o/ca.key" -set_serial 2 \
        -out "$o/ica.pem" -days 3650 -sha384 2>/dev/null
openssl ocsp -issuer "$o/ca.pem" -cert "$o/ica.pem" -no_nonce -reqout "$o/req.der"
openssl ocsp -sha384 -issuer "$o/ca.pem" -cert "$o/ica.pem" -no_nonce -reqout "$o/req384.der"
printf 'V\t351231000000Z\t\t02\tunknown\t/CN=FUZZ-ICA\n' >"$o/good.txt"
printf 'R\t351231000000Z\t250101000000Z,keyCompromise\t02\tunknown\t/CN=FUZZ-ICA\n' >"$o/revoked.txt"
: >"$o/unknown.txt"
for st in good revoked unknown; do
        openssl ocsp -index "$o/$st.txt" -rsigner "$o/ca.pem" -rkey "$o/ca.key" -CA "$o/ca.pem" \
                -reqin "$o/req.der" -respout "$out/seed-$st.der" -ndays 1 2>/dev/null
done
openssl ocsp -index "$o/good.txt" -rsigner "$o/ca.pem" -rkey "$o/ca.key" -CA "$o/ca.pem" \
        -reqin "$o/req384.der" -respout "$out/seed-sha384-certid.der" -ndays 1 2>/dev/null
printf '\060\003\012\001\003' >"$out/seed-trylater.der"
head -c 100 "$out/seed-good.der" >"$out/seed-truncated.der"
