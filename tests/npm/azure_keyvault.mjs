// Microsoft's Key Vault client, @azure/keyvault-keys (pinned in package.json), against
// veriteed's secure key release (tests/integration/azure_keyvault.sh): a simulated SEV-SNP
// guest with a runtime RSA key attests through /attest/SevSnpVm; KeyClient creates an
// exportable RSA key with an Azure release policy (through Key Vault's 401 challenge), then
// releaseKey with the token; this script checks the answer's RS256 signature against /certs,
// unwraps it with the runtime key (RSA-OAEP-256 + AES key wrap with padding) and finds the
// key the bundle showed. A token of a guest the policy does not name is refused. Then
// getKey, importKey (RSA private keys), listPropertiesOfKeyVersions, listPropertiesOfKeys,
// releaseKey of an older version and beginDeleteKey.
// Usage: node azure_keyvault.mjs URL VERITEE SIM_DIR MEASUREMENT ADMIN_JWT TMP
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import { readFileSync } from "node:fs";

// Node 18 (Debian 12's) has no global crypto, which the Azure SDK's core uses; set it
// before the SDK is loaded (a static import would be evaluated first)
if (!globalThis.crypto) globalThis.crypto = crypto.webcrypto;
const { KeyClient } = await import("@azure/keyvault-keys");

const [url, veritee, simDir, measurement, adminJwt, tmp] = process.argv.slice(2);
let failures = 0;
const ok = (m) => console.log(`ok: ${m}`);
const fail = (m) => {
  console.log(`FAIL: ${m}`);
  failures++;
};
const check = (cond, m) => (cond ? ok(m) : fail(m));
const b64u = (b) => Buffer.from(b).toString("base64url");

// the guest: a runtime RSA key, bound into REPORT_DATA as SHA-256(runtime data) || 0^32
const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const runtime = JSON.stringify({
  keys: [{ ...publicKey.export({ format: "jwk" }), kid: "node-wrap", key_ops: ["encrypt"] }],
});
const rd = crypto.createHash("sha256").update(runtime).digest("hex") + "00".repeat(32);
execFileSync(veritee, ["sim", "report", simDir, "--report-data", rd, "-o", `${tmp}/report.bin`,
  "--chain-out", `${tmp}/chain.pem`]);
const report = b64u(JSON.stringify({
  SnpReport: b64u(readFileSync(`${tmp}/report.bin`)),
  VcekCertChain: b64u(readFileSync(`${tmp}/chain.pem`)),
}));
const att = await fetch(`${url}/attest/SevSnpVm?api-version=2022-08-01`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ report, runtimeData: { data: b64u(runtime), dataType: "JSON" } }),
});
const { token } = await att.json();
check(att.status === 200 && typeof token === "string", "the guest attested through /attest/SevSnpVm");

// Key Vault's client; its credential hands out an admin token of veriteed
const credential = {
  getToken: async () => ({ token: adminJwt, expiresOnTimestamp: Date.now() + 3600_000 }),
};
const client = new KeyClient(url, credential, { disableChallengeResourceVerification: true });
const policy = (m) => new TextEncoder().encode(JSON.stringify({
  version: "1.0.0",
  anyOf: [{
    authority: `${url}/`,
    allOf: [
      { claim: "x-ms-attestation-type", equals: "sevsnpvm" },
      { claim: "x-ms-sevsnpvm-is-debuggable", equals: "false" },
      { claim: "x-ms-sevsnpvm-launchmeasurement", equals: m },
    ],
  }],
}));
const key = await client.createKey("node-rsa", "RSA-HSM", {
  keySize: 2048, exportable: true, releasePolicy: { encodedPolicy: policy(measurement) },
});
check(key.properties.exportable === true && key.key?.n?.length === 256,
  "createKey made an exportable RSA-2048 key");

const rel = await client.releaseKey("node-rsa", token, { algorithm: "RSA_AES_KEY_WRAP_256" });
const [h64, p64, s64] = rel.value.split(".");
const hdr = JSON.parse(Buffer.from(h64, "base64url"));
const certs = await (await fetch(`${url}/certs`)).json();
const signer = certs.keys.find((k) => k.kid === hdr.kid);
check(hdr.alg === "RS256" && signer !== undefined, "the release is RS256 under a key /certs lists");
const cert = new crypto.X509Certificate(Buffer.from(signer.x5c[0], "base64"));
check(crypto.verify("sha256", Buffer.from(`${h64}.${p64}`), cert.publicKey, Buffer.from(s64, "base64url")),
  "its signature verifies");
const payload = JSON.parse(Buffer.from(p64, "base64url"));
check(payload.request.enc === "RSA_AES_KEY_WRAP_256", "the payload names the wrapping asked for");
const hsm = JSON.parse(Buffer.from(payload.response.key.key.key_hsm, "base64url"));
check(hsm.header.kid === "node-wrap", "key_hsm is wrapped to the guest's runtime key");
const ct = Buffer.from(hsm.ciphertext, "base64url");
const kek = crypto.privateDecrypt(
  { key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
  ct.subarray(0, 256));
const dec = crypto.createDecipheriv("id-aes256-wrap-pad", kek, Buffer.from("A65959A6", "hex"));
const der = Buffer.concat([dec.update(ct.subarray(256)), dec.final()]);
const got = crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" }).export({ format: "jwk" });
check(got.n === b64u(key.key.n), "the unwrapped PKCS#8 key is the key createKey showed");

// a policy that names another guest: the same token is refused
await client.createKey("node-other", "RSA-HSM", {
  keySize: 2048, exportable: true, releasePolicy: { encodedPolicy: policy("00".repeat(48)) },
});
try {
  await client.releaseKey("node-other", token);
  fail("a token the policy does not accept released a key");
} catch (e) {
  check(/x-ms-sevsnpvm-launchmeasurement/.test(String(e.message)),
    `a token the policy does not accept is refused: ${String(e.message).slice(0, 120)}`);
}
// reading: getKey (newest and by version), public members only
const got1 = await client.getKey("node-rsa");
check(got1.key?.n && Buffer.from(got1.key.n).equals(Buffer.from(key.key.n)) && !got1.key.d,
  "getKey shows the key's public members, no private one");
const byVersion = await client.getKey("node-rsa", { version: key.properties.version });
check(byVersion.properties.version === key.properties.version, "getKey by version");

// importKey of an RSA private key, twice: two versions
const jwkOf = (k) => {
  const j = k.export({ format: "jwk" });
  const out = { kty: "RSA" };
  for (const m of ["n", "e", "d", "p", "q", "dp", "dq", "qi"]) out[m] = Buffer.from(j[m], "base64url");
  return out;
};
const imp1 = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const imp2 = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const i1 = await client.importKey("node-imp", jwkOf(imp1.privateKey), {
  exportable: true, releasePolicy: { encodedPolicy: policy(measurement) },
});
const i2 = await client.importKey("node-imp", jwkOf(imp2.privateKey), {
  exportable: true, releasePolicy: { encodedPolicy: policy(measurement) },
});
check(Buffer.from(i2.key.n).toString("base64url") === imp2.publicKey.export({ format: "jwk" }).n &&
  !i2.key.d, "importKey took an RSA private key and shows its public half");
const versions = [];
for await (const v of client.listPropertiesOfKeyVersions("node-imp")) versions.push(v.version);
check(versions.length === 2 && versions[0] === i1.properties.version && versions[1] === i2.properties.version,
  "listPropertiesOfKeyVersions lists both versions, oldest first");
const names = [];
for await (const k of client.listPropertiesOfKeys()) names.push(k.name);
check(["node-rsa", "node-other", "node-imp"].every((n) => names.includes(n)) && names.length === 3,
  `listPropertiesOfKeys lists the three keys (${names.join(", ")})`);
const relOld = await client.releaseKey("node-imp", token, { version: i1.properties.version });
check(typeof relOld.value === "string", "releaseKey of the older version");

// beginDeleteKey: done at once (no soft delete); the key is then gone
const poller = await client.beginDeleteKey("node-imp");
const deleted = await poller.pollUntilDone();
check(deleted.name === "node-imp", "beginDeleteKey completed");
try {
  await client.getKey("node-imp");
  fail("a deleted key was found");
} catch (e) {
  check(e.statusCode === 404, `a deleted key is not found (${e.statusCode})`);
}
process.exit(failures ? 1 : 0);
