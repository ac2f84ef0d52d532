// SPDX-License-Identifier: Apache-2.0
// The peer for bench/dcap.sh: @phala/dcap-qvl (pure JavaScript) verifying the same quote
// with the same QuoteCollateralV3 JSON at the same time as `veritee bench tdx|sgx`.
//
//   node bench/dcap-qvl.mjs --quote FILE --collateral FILE --at RFC3339 [--seconds S] [--op NAME]
//
// 10 warm-up verifications, then as many as fit in S seconds (default 3), one thread.
// Each call is dcap-qvl's full verify(): it has no caches, so every call parses the
// quote and collateral and checks every chain, CRL and signature. Prints one JSON line
// like veritee bench: {"op":NAME,"threads":1,"per_sec":X,"status":"UpToDate","version":V}.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const { verify } = require('@phala/dcap-qvl');
const { version } = require('@phala/dcap-qvl/package.json');

function usage(msg) {
    if (msg)
        console.error(`dcap-qvl.mjs: ${msg}`);
    console.error(
        'usage: node bench/dcap-qvl.mjs --quote FILE --collateral FILE --at RFC3339 [--seconds S] [--op NAME]');
    process.exit(2);
}

const opt = { seconds: '3', op: 'dcap_qvl_verify' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    if (!k.startsWith('--') || i + 1 >= argv.length)
        usage(`unexpected argument "${k}"`);
    opt[k.slice(2)] = argv[i + 1];
}
if (!opt.quote || !opt.collateral || !opt.at)
    usage('--quote, --collateral and --at are required');
const seconds = Number(opt.seconds);
const atMs = Date.parse(opt.at);
if (!(seconds > 0 && seconds <= 3600))
    usage('--seconds: expected 0 < S <= 3600');
if (Number.isNaN(atMs))
    usage(`--at: "${opt.at}" is not an RFC 3339 time`);
const at = Math.floor(atMs / 1000);

const quote = new Uint8Array(readFileSync(opt.quote));
const collateral = JSON.parse(readFileSync(opt.collateral, 'utf8'));

let status;
try {
    for (let i = 0; i < 10; i++)
        status = verify(quote, collateral, at).status;
} catch (e) {
    console.error(`dcap-qvl.mjs: the vector does not verify with dcap-qvl ${version}: ${e.message}`);
    process.exit(1);
}

let n = 0;
const t0 = performance.now();
const end = t0 + seconds * 1000;
let t = t0;
while (t < end) {
    verify(quote, collateral, at);
    n++;
    t = performance.now();
}
const perSec = n / ((t - t0) / 1000);
console.log(JSON.stringify({ op: opt.op, threads: 1, per_sec: Number(perSec.toFixed(1)), status, version }));
