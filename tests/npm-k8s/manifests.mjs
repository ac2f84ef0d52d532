// Every object of a rendered kustomization (multi-document YAML on stdin) validated
// against the Kubernetes API schemas of npm kubernetes-models (types, required fields,
// enums, formats). Prints one line per object; exits 1 on any failure.
// usage: kubectl kustomize DIR | node manifests.mjs NAME
import fs from "node:fs";
import YAML from "yaml";

const name = process.argv[2];
const docs = YAML.parseAllDocuments(fs.readFileSync(0, "utf8"));
let fails = 0, n = 0;
const kinds = [];
for (const d of docs) {
  if (d.errors.length) { console.log(`FAIL: ${name}: YAML: ${d.errors[0].message}`); fails++; continue; }
  const o = d.toJS();
  if (!o) continue;
  n++;
  const id = `${name}: ${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
  try {
    const mod = await import(`kubernetes-models/${o.apiVersion}`);
    const Model = mod[o.kind];
    if (!Model) throw new Error(`no schema for kind ${o.kind}`);
    new Model(o).validate();
    kinds.push(o.kind);
    console.log(`ok: ${id}`);
  } catch (e) {
    console.log(`FAIL: ${id}: ${e.message}`);
    fails++;
  }
}
console.log(`kinds: ${[...new Set(kinds)].sort().join(" ")}`);
if (!n) { console.log(`FAIL: ${name}: no objects`); fails++; }
process.exit(fails ? 1 : 0);
