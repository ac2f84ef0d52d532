// Microsoft's own client, @azure/attestation (pinned in package.json), against veriteed's
// Azure-compatible API (tests/integration/azure_attestation.sh): attestSgxEnclave with the
// real SGX quote (and attestOpenEnclave with it in an Open Enclave report); the client fetches /certs and validates the RS256 token with the key
// of its kid, its expiry and (asked to) its issuer. Prints "ok: ..." or "FAIL: ...".
// Usage: node azure_attestation.mjs URL QUOTE_FILE MRENCLAVE_HEX OTHER_CERT_PEM
import { webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";

// Node 18 (Debian 12's) has no global crypto, which the Azure SDK's core uses; set it
// before the SDK is loaded (a static import would be evaluated first)
if (!globalThis.crypto) globalThis.crypto = webcrypto;
const { AttestationClient } = await import("@azure/attestation");

const [url, quotePath, mrEnclave, otherCert] = process.argv.slice(2);
let failures = 0;
const ok = (m) => console.log(`ok: ${m}`);
const fail = (m) => {
  console.log(`FAIL: ${m}`);
  failures++;
};
const check = (cond, m) => (cond ? ok(m) : fail(m));
const quote = readFileSync(quotePath);
const client = new AttestationClient(url, {
  validationOptions: { validateToken: true, validateIssuer: true, expectedIssuer: url },
});

// the signers, as the client fetches them (GET /certs, no api-version)
const signers = await client.getAttestationSigners();
check(signers.length === 1 && signers[0].certificates.length === 1, "/certs lists one signer with its certificate");
const kid = signers[0]?.keyId;

const res = await client.attestSgxEnclave(quote);
check(res.token.algorithm === "RS256", `the token is RS256 (${res.token.algorithm})`);
check(res.token.keyId === kid, "the token's kid is the signer /certs lists");
const all = { validateToken: true, validateExpirationTime: true, validateNotBeforeTime: true };
check(res.token.getTokenProblems(signers, { ...all, validateIssuer: true, expectedIssuer: url }).length === 0,
  "the client finds no problem with the token against /certs");
check(res.body.issuer === url, `the issuer is ${url}`);
check(res.body.mrEnclave === mrEnclave, `the claims carry the quote's mr_enclave ${mrEnclave}`);
check(res.body.isDebuggable === false, "the enclave is not debuggable");

// the same quote as an Open Enclave remote report: oe_report_header_t {version 1,
// report_type 2 (SGX remote), report_size} before it
const hdr = Buffer.alloc(16);
hdr.writeUInt32LE(1, 0);
hdr.writeUInt32LE(2, 4);
hdr.writeBigUInt64LE(BigInt(quote.length), 8);
const oe = await client.attestOpenEnclave(Buffer.concat([hdr, quote]));
check(oe.token.keyId === kid && oe.body.mrEnclave === mrEnclave,
  "attestOpenEnclave: the token validates and carries the quote's mr_enclave");

// validation really happens: another expected issuer makes the client refuse the token
const strict = new AttestationClient(url, {
  validationOptions: { validateToken: true, validateIssuer: true, expectedIssuer: "https://other.example" },
});
try {
  await strict.attestSgxEnclave(quote);
  fail("a token for another issuer was accepted");
} catch (e) {
  ok(`another expected issuer is refused (${String(e.message).slice(0, 80)})`);
}

// and under another certificate for the same kid the signature does not verify
let problems;
try {
  problems = res.token.getTokenProblems([{ keyId: kid, certificates: [readFileSync(otherCert, "utf8")] }], all);
} catch (e) {
  problems = [`threw ${e}`];
}
check(problems.length > 0 && !problems[0].startsWith("threw"), `under another key the token does not validate (${String(problems[0]).slice(0, 60)})`);

// runtime data the quote does not bind: veriteed answers in Azure's error shape
try {
  await client.attestSgxEnclave(quote, { runTimeData: Buffer.from("not the report data") });
  fail("runtime data that is not bound was accepted");
} catch (e) {
  check(/report_data does not bind/.test(String(e.message)),
    `unbound runtime data is refused: ${String(e.message).slice(0, 100)}`);
}
process.exit(failures ? 1 : 0);
