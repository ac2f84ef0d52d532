// SPDX-License-Identifier: Apache-2.0
// An independent OIDC relying party (npm jose) verifies a veriteed token:
//   node oidc_jose.mjs ISSUER_URL TOKEN_FILE AUDIENCE
// It does what Vault, Kubernetes or a workload-identity federation do: fetches
// ISSUER_URL/.well-known/openid-configuration, requires its issuer to be that URL, takes the
// keys from its jwks_uri and verifies the token's signature, iss, aud and times. A wrong
// audience, another issuer and a tampered token must be refused. Prints "ok: ..." or
// "FAIL: ..." per check; the exit status is the number of failures.
import { readFileSync } from "node:fs";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

const [issuerUrl, tokenFile, audience] = process.argv.slice(2);
if (!issuerUrl || !tokenFile || !audience) {
  console.error("usage: node oidc_jose.mjs ISSUER_URL TOKEN_FILE AUDIENCE");
  process.exit(2);
}
const token = readFileSync(tokenFile, "utf8").trim();
let fails = 0;
const ok = (m) => console.log(`ok: ${m}`);
const fail = (m) => {
  console.log(`FAIL: ${m}`);
  fails++;
};
const check = (cond, m) => (cond ? ok(m) : fail(m));

// a verification that must be refused, by the given error code (and claim, when given)
async function refused(what, jwks, opts, tok, code, claim) {
  try {
    await jwtVerify(tok, jwks, opts);
    fail(`${what}: accepted`);
  } catch (e) {
    if (e.code === code && (!claim || e.claim === claim)) ok(`${what}: refused (${e.code}: ${e.message})`);
    else fail(`${what}: refused for another reason: ${e.code}: ${e.message}`);
  }
}

const discoveryUrl = `${issuerUrl}/.well-known/openid-configuration`;
const res = await fetch(discoveryUrl);
check(res.status === 200, `GET ${discoveryUrl}: ${res.status}`);
const cc = res.headers.get("cache-control") || "";
check(/^public, max-age=\d+$/.test(cc), `discovery is cacheable (${cc})`);
const disc = await res.json();
// OpenID Connect Discovery 1.0, section 4.3: the issuer is the URL it was fetched from
check(disc.issuer === issuerUrl, `discovery issuer ${disc.issuer} is the URL it came from`);
check(typeof disc.jwks_uri === "string" && disc.jwks_uri.startsWith("https://"), `jwks_uri ${disc.jwks_uri}`);
const jr = await fetch(disc.jwks_uri);
const jcc = jr.headers.get("cache-control") || "";
check(jr.status === 200 && /^public, max-age=\d+$/.test(jcc), `JWKS fetched, cacheable (${jcc})`);

const JWKS = createRemoteJWKSet(new URL(disc.jwks_uri));
try {
  const { payload, protectedHeader } = await jwtVerify(token, JWKS, {
    issuer: disc.issuer,
    audience,
    algorithms: ["ES256"],
    requiredClaims: ["iss", "aud", "exp", "nbf", "iat", "jti"],
  });
  ok(`token verifies: kid ${protectedHeader.kid}, iss ${payload.iss}, aud ${payload.aud}`);
  check(payload.nbf === payload.iat, "nbf = iat");
  check(/^[0-9a-f]{32}$/.test(payload.jti), `jti ${payload.jti}`);
  check(payload.submods?.cpu0?.["ear.status"] === "affirming", "EAR status affirming");
} catch (e) {
  fail(`token does not verify: ${e.code}: ${e.message}`);
}
check(decodeProtectedHeader(token).alg === "ES256", "alg ES256");

await refused("a wrong audience", JWKS, { issuer: disc.issuer, audience: "someone-else" }, token,
  "ERR_JWT_CLAIM_VALIDATION_FAILED", "aud");
await refused("another issuer", JWKS, { issuer: "https://other.example", audience }, token,
  "ERR_JWT_CLAIM_VALIDATION_FAILED", "iss");
// a changed payload byte: the signature no longer matches
const [h, p, s] = token.split(".");
const p2 = (p[5] === "A" ? "B" : "A");
await refused("a tampered token", JWKS, { issuer: disc.issuer, audience },
  `${h}.${p.slice(0, 5)}${p2}${p.slice(6)}.${s}`, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
process.exit(fails);
