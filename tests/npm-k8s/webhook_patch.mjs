// The webhook's JSONPatch applied by an RFC 6902 implementation other than veritee's
// (npm fast-json-patch): for every mutate fixture of tests/fixtures/k8s that allows the pod,
// POST its AdmissionReview to veriteed's /k8s/mutate, apply the returned patch to the pod
// and require the fixture's expected pod; the patched pod must be a valid core/v1 Pod
// (kubernetes-models) and pass /k8s/validate.
// usage: node webhook_patch.mjs BASE-URL FIXTURE-DIR   (NODE_EXTRA_CA_CERTS: the server's CA)
import fs from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import { Pod } from "kubernetes-models/v1";

const [base, dir] = process.argv.slice(2);
let fails = 0;
const ok = (m) => console.log(`ok: ${m}`);
const fail = (m) => { console.log(`FAIL: ${m}`); fails++; };

async function review(route, body) {
  const r = await fetch(base + route, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${route}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()).response;
}

let n = 0;
for (const f of fs.readdirSync(dir).filter((f) => f.startsWith("mutate-")).sort()) {
  const fx = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  if (!fx.allowed || !fx.pod) continue;
  n++;
  try {
    const pod = fx.review.request.object;
    const res = await review("/k8s/mutate", fx.review);
    if (res.uid !== fx.review.request.uid || res.allowed !== true) {
      fail(`${f}: uid ${res.uid}, allowed ${res.allowed}`);
      continue;
    }
    let got = structuredClone(pod);
    if (res.patch !== undefined) {
      if (res.patchType !== "JSONPatch") fail(`${f}: patchType ${res.patchType}`);
      const ops = JSON.parse(Buffer.from(res.patch, "base64").toString("utf8"));
      // validate: every operation checked against the document before it is applied
      got = jsonpatch.applyPatch(got, ops, true, false).newDocument;
    }
    if (!isDeepStrictEqual(got, fx.pod)) {
      fail(`${f}: the patched pod differs from the expected one\n  got:      ${JSON.stringify(got)}\n  expected: ${JSON.stringify(fx.pod)}`);
      continue;
    }
    new Pod(got).validate();
    const v = await review("/k8s/validate", {
      ...fx.review, request: { ...fx.review.request, uid: fx.review.request.uid + "-v", object: got },
    });
    if (v.allowed !== true) fail(`${f}: /k8s/validate refuses the patched pod: ${v.status?.message}`);
    else ok(`${f}: fast-json-patch gives the expected pod, a valid Pod that /k8s/validate allows`);
  } catch (e) {
    fail(`${f}: ${e.message}`);
  }
}
if (n < 4) fail(`only ${n} mutate fixtures allow their pod`);
process.exit(fails ? 1 : 0);
