// Unknown fields: kubernetes-models' validators check types, required fields and formats
// but let unknown fields through, so every object is also written as a TypeScript object
// literal of its kubernetes-models type (IDeployment, IPod, ...) and `tsc --strict` refuses
// any property the Kubernetes API does not have (excess-property checks), at any depth.
// Inputs are multi-document YAML (or JSON) files; of a webhook fixture, its expected pod.
// usage: node strict_types.mjs OUT.ts INPUT...
import fs from "node:fs";
import YAML from "yaml";

const [out, ...inputs] = process.argv.slice(2);
let ts = "", i = 0;
for (const f of inputs) {
  for (const d of YAML.parseAllDocuments(fs.readFileSync(f, "utf8"))) {
    let o = d.toJS();
    if (o && o.review && o.pod) o = o.pod;
    if (!o || !o.apiVersion || !o.kind || (o.review && !o.pod)) continue;
    ts += `// ${f}: ${o.kind} ${o.metadata?.name}\n`;
    ts += `import type { I${o.kind} as T${i} } from "kubernetes-models/${o.apiVersion}/${o.kind}";\n`;
    ts += `export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};\n`;
    i++;
  }
}
fs.writeFileSync(out, ts);
console.log(`${i} objects`);
