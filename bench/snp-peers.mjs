// SPDX-License-Identifier: Apache-2.0
// The SEV-SNP peers for bench/run.sh, run on the same recorded report and VCEK as
// `veritee bench snp`, offline (each is handed the VCEK; their ARK/ASK are built in):
//
//   node bench/snp-peers.mjs --peer tinfoil|lit --report FILE --cert FILE.pem [--seconds S]
//
//   tinfoil: @tinfoilsh/verifier verifyAttestation() (Genoa only; AGPL-3.0: run here, never
//            copied), on a "sev-snp-guest/v2" document (its wire form: base64 of the gzipped
//            report, which every call decompresses) and the VCEK as base64 DER.
//   lit:     @lit-protocol/sev-snp-utils-sdk verify_attestation_report() (Rust compiled to
//            WebAssembly; Milan), on the report as base64 and the VCEK as DER.
//
// 5 warm-up verifications, then as many as fit in S seconds (default 3), one thread, each
// awaited before the next. Prints one JSON line like veritee bench:
// {"op":NAME,"threads":1,"per_sec":X,"version":V}; on a failure of the vector, one line
// {"op":NAME,"error":"..."} and exit 1 (bench/run.sh puts the reason in the table).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);

function usage(msg) {
    if (msg)
        console.error(`snp-peers.mjs: ${msg}`);
    console.error(
        'usage: node bench/snp-peers.mjs --peer tinfoil|lit --report FILE --cert FILE.pem [--seconds S]');
    process.exit(2);
}

const opt = { seconds: '3' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    if (!k.startsWith('--') || i + 1 >= argv.length)
        usage(`unexpected argument "${k}"`);
    opt[k.slice(2)] = argv[i + 1];
}
if (!opt.peer || !opt.report || !opt.cert)
    usage('--peer, --report and --cert are required');
const seconds = Number(opt.seconds);
if (!(seconds > 0 && seconds <= 3600))
    usage('--seconds: expected 0 < S <= 3600');

const report = readFileSync(opt.report);
const pem = readFileSync(opt.cert, 'utf8');
const m = pem.match(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/);
if (!m)
    usage(`${opt.cert}: no PEM certificate`);
const vcekB64 = m[1].replace(/\s+/g, '');
const vcekDer = new Uint8Array(Buffer.from(vcekB64, 'base64'));

let op, version, once;
if (opt.peer === 'tinfoil') {
    op = 'tinfoil_snp_verify';
    const { verifyAttestation, PredicateType } = await import('@tinfoilsh/verifier');
    version = JSON.parse(readFileSync(new URL('node_modules/@tinfoilsh/verifier/package.json', import.meta.url), 'utf8')).version;
    const doc = { format: PredicateType.SevGuestV2, body: gzipSync(report).toString('base64') };
    once = () => verifyAttestation(doc, vcekB64);
} else if (opt.peer === 'lit') {
    op = 'lit_snp_verify';
    const lit = require('@lit-protocol/sev-snp-utils-sdk');
    version = require('@lit-protocol/sev-snp-utils-sdk/package.json').version;
    await lit.initWasmSevSnpUtilsSdk();
    const rep = report.toString('base64');
    once = () => lit.verify_attestation_report(rep, vcekDer);
} else {
    usage(`--peer: "${opt.peer}" is not tinfoil or lit`);
}

try {
    for (let i = 0; i < 5; i++)
        await once();
} catch (e) {
    const why = String(e && e.message ? e.message : e).replace(/\s+/g, ' ').slice(0, 200);
    console.log(JSON.stringify({ op, error: `the vector does not verify with ${opt.peer} ${version}: ${why}` }));
    process.exit(1);
}

let n = 0;
const t0 = performance.now();
const end = t0 + seconds * 1000;
let t = t0;
while (t < end) {
    await once();
    n++;
    t = performance.now();
}
const perSec = n / ((t - t0) / 1000);
console.log(JSON.stringify({ op, threads: 1, per_sec: Number(perSec.toFixed(1)), version }));
