#!/bin/sh
# Kubernetes and VM deployment, checked by tools that are not veritee's:
# 1. the webhook's JSONPatch: veriteed over HTTPS (a self-signed certificate made with
#    openssl) with kubernetes.webhook on; npm fast-json-patch applies the patch it returns
#    for every mutate fixture of tests/fixtures/k8s to the fixture's pod, which must then be
#    the expected pod, a valid Pod (npm kubernetes-models) that /k8s/validate allows
#    (tests/npm-k8s/webhook_patch.mjs);
# 2. every kustomize overlay of deploy/kubernetes renders with `kubectl kustomize`, and every
#    object validates against the Kubernetes API schemas of npm kubernetes-models
#    (tests/npm-k8s/manifests.mjs), with the kinds issue 13 asks for; those validators let
#    unknown fields through, so every object (and every expected pod of the fixtures) is also
#    type-checked by tsc as a literal of its kubernetes-models type, which refuses them
#    (tests/npm-k8s/strict_types.mjs);
# 3. `systemd-analyze verify` on deploy/systemd/veriteed.service, its ExecStart pointed at
#    the build's veriteed (the unit names /usr/local/bin/veriteed, which is not installed
#    here: verify refuses a unit whose command does not exist), and on the unit
#    `cmake --install` writes;
# 4. the Containerfile's build-stage commands are exactly README.md's install commands.
# node, npm, openssl, kubectl and systemd-analyze are needed (scripts/deps.sh test): without
# one the test fails when CI is set and is skipped otherwise. The npm packages (pinned by
# tests/npm-k8s/package-lock.json) are installed with `npm ci` into the build directory
# (VT_NPM_K8S_DIR, default BIN/../npm-k8s), once per lock file.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/npm.sh"
need_built veriteed
need_tools node npm openssl kubectl systemd-analyze

NPM_DIR="${VT_NPM_K8S_DIR:-$BIN/../npm-k8s}"
npm_install "$ROOT/tests/npm-k8s" "$NPM_DIR" fast-json-patch

make_tmp

# ---- 1. the JSONPatch, applied by fast-json-patch ----
tls_cert "$tmp"
# the configuration the fixtures' expected pods are written for (as test_webhook.c)
cat >"$tmp/veriteed.yaml" <<YAML
listen: 127.0.0.1:0
state_dir: $tmp/state
tls:
  certificate: $tmp/tls.crt
  private_key: $tmp/tls.key
kubernetes:
  webhook: true
  agent_image: registry.example/veritee:1.0
  server_url: https://veriteed.veritee.svc:8443
  ca_configmap: veritee-ca
  node_label_key: kubernetes.azure.com/security-type
  node_label_values: [ConfidentialVM]
  runtime_class: kata-cc
  tolerations: ["confidential=true:NoSchedule", sev]
YAML
"$BIN/veriteed" --config "$tmp/veriteed.yaml" >/dev/null 2>"$tmp/log" &
pid=$!
url=""
for _ in $(seq 1 600); do
        url=$(sed -n 's/.*listening on \(https:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/log" | head -n 1)
        [ -n "$url" ] && break
        sleep 0.1
done
if [ -z "$url" ]; then
        echo "FAIL: veriteed did not start"
        cat "$tmp/log"
        exit 1
fi
if (cd "$NPM_DIR" && NODE_EXTRA_CA_CERTS="$tmp/tls.crt" NODE_NO_WARNINGS=1 \
        node webhook_patch.mjs "$url" "$ROOT/tests/fixtures/k8s") >"$tmp/node.out" 2>&1; then
        ok "fast-json-patch: every patch gives the expected pod"
else
        fail "fast-json-patch"
fi
cat "$tmp/node.out"
check "the patches of 4 fixtures were applied" test "$(grep -c '^ok: mutate-' "$tmp/node.out")" -ge 4

# ---- 2. the overlays render and validate ----
for o in "$ROOT"/deploy/kubernetes/base "$ROOT"/deploy/kubernetes/overlays/*; do
        name=$(basename "$o")
        if ! kubectl kustomize "$o" >"$tmp/$name.yaml" 2>"$tmp/$name.err"; then
                fail "kubectl kustomize $name: $(grep -v '^# Warning' "$tmp/$name.err")"
                continue
        fi
        if (cd "$NPM_DIR" && node manifests.mjs "$name" <"$tmp/$name.yaml") >"$tmp/$name.out" 2>&1; then
                ok "$name renders, $(grep -c '^ok: ' "$tmp/$name.out") objects validate"
        else
                fail "$name: objects that do not validate"
                cat "$tmp/$name.out"
        fi
        kinds=$(sed -n 's/^kinds: //p' "$tmp/$name.out")
        for k in Namespace ServiceAccount ConfigMap Deployment Service MutatingWebhookConfiguration \
                ValidatingWebhookConfiguration PodDisruptionBudget NetworkPolicy; do
                case " $kinds " in
                *" $k "*) ;;
                *) fail "$name renders no $k" ;;
                esac
        done
done
# unknown fields, at any depth, in every rendered object and every expected pod of the
# webhook fixtures: tsc over them as literals of their kubernetes-models types
tsc() {
        (cd "$NPM_DIR" && node node_modules/typescript/bin/tsc --noEmit --strict --module nodenext \
                --moduleResolution nodenext --skipLibCheck "$@")
}
set -- "$tmp"/base.yaml
for o in "$ROOT"/deploy/kubernetes/overlays/*; do set -- "$@" "$tmp/$(basename "$o").yaml"; done
for f in "$ROOT"/tests/fixtures/k8s/mutate-*.json; do set -- "$@" "$f"; done
if (cd "$NPM_DIR" && node strict_types.mjs "$NPM_DIR/strict.ts" "$@") >"$tmp/strict.out" 2>&1 &&
        tsc "$NPM_DIR/strict.ts" >>"$tmp/strict.out" 2>&1; then
        ok "no unknown field in $(sed -n 's/ objects$//p' "$tmp/strict.out" | head -n 1) objects (tsc, kubernetes-models types)"
else
        fail "unknown fields or wrong types (tsc):"
        cat "$tmp/strict.out"
fi
# ... and the check does find one
printf '%s\n' 'import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";' \
        'export const d: IDeployment = {apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "x"},' \
        '  spec: {selector: {}, template: {spec: {containers: [{name: "c", image: "i",' \
        '    securityContext: {readOnlyRootFilesytem: true}}]}}}};' >"$NPM_DIR/strict-bogus.ts"
tsc "$NPM_DIR/strict-bogus.ts" >"$tmp/bogus.out" 2>&1
check "tsc refuses a misspelt field deep in a Deployment" grep -q "readOnlyRootFilesytem" "$tmp/bogus.out"

# what each overlay is for
r() { grep -q -- "$2" "$tmp/$1.yaml"; }
check "dev: one replica" r dev "replicas: 1"
check "dev: SQLite on a persistent volume" r dev "claimName: veriteed-state"
check "ha: three replicas" r ha "replicas: 3"
check "ha: PostgreSQL, the DSN from the Secret veriteed-pg" sh -c \
        "grep -q 'backend: postgres' '$tmp/ha.yaml' && grep -q 'secretName: veriteed-pg' '$tmp/ha.yaml'"
check "aks-confidential: the AKS confidential node-pool label" r aks-confidential \
        "node_label_key: kubernetes.azure.com/security-type"
check "kata-coco: the runtime class" r kata-coco "runtime_class: kata-qemu-snp"
check "base: non-root, read-only root file system" sh -c \
        "grep -q 'runAsNonRoot: true' '$tmp/base.yaml' && grep -q 'readOnlyRootFilesystem: true' '$tmp/base.yaml'"
check "base: the keys from the Secret veriteed-keys" r base "secretName: veriteed-keys"
# the configuration each overlay gives veriteed starts a server: its veriteed.yaml, with the
# container's paths moved under $tmp (a KEK from `veritee admin kekgen`, the test
# certificate; the token and ledger keys are made on first start), passes
# `veriteed --check-config`; ha's PostgreSQL is not here: there the configuration must load
# (exit 1, the store, not exit 2, the configuration)
for name in base dev ha aks-confidential kata-coco; do
        d="$tmp/cfg-$name"
        mkdir -p "$d/keys"
        node -e '
                const YAML = require(process.argv[1] + "/node_modules/yaml");
                for (const d of YAML.parseAllDocuments(require("fs").readFileSync(process.argv[2], "utf8"))) {
                        const o = d.toJS();
                        if (o && o.kind === "ConfigMap" && o.data && o.data["veriteed.yaml"])
                                process.stdout.write(o.data["veriteed.yaml"]);
                }' "$NPM_DIR" "$tmp/$name.yaml" >"$d/container.yaml"
        check "$name: the ConfigMap holds veriteed.yaml" test -s "$d/container.yaml"
        "$BIN/veritee" admin kekgen "$d/keys/kek" >/dev/null 2>&1
        printf 'host=127.0.0.1 port=1 dbname=veritee connect_timeout=1\n' >"$d/dsn"
        chmod 600 "$d/dsn"
        sed -e "s|0.0.0.0:8443|127.0.0.1:0|" -e "s|/run/veritee/keys/|$d/keys/|" \
                -e "s|/etc/veritee/tls/|$tmp/|" -e "s|/var/lib/veritee|$d/state|" \
                -e "s|/etc/veritee/pg/dsn|$d/dsn|" "$d/container.yaml" >"$d/veriteed.yaml"
        "$BIN/veriteed" --config "$d/veriteed.yaml" --check-config >"$d/out" 2>&1
        rc=$?
        if [ "$name" = ha ]; then
                check "ha: the configuration loads (only the absent database stops it)" \
                        sh -c "[ $rc -eq 1 ] && grep -q 'start-up failed: store: open: connect: postgres' '$d/out'"
        else
                check "$name: veriteed --check-config accepts the overlay's configuration" [ $rc -eq 0 ]
        fi
        [ "$rc" -ne 0 ] && [ "$name" != ha ] && cat "$d/out"
done

# ---- 3. systemd-analyze verify ----
sed "s|/usr/local/bin/veriteed|$BIN/veriteed|g" "$ROOT/deploy/systemd/veriteed.service" >"$tmp/veriteed.service"
check "the unit's ExecStart is /usr/local/bin/veriteed (replaced by the build's for verify)" \
        grep -q '^ExecStart=/usr/local/bin/veriteed --config /etc/veritee/veriteed.yaml$' \
        "$ROOT/deploy/systemd/veriteed.service"
if systemd-analyze verify "$tmp/veriteed.service" >"$tmp/verify.out" 2>&1 && [ ! -s "$tmp/verify.out" ]; then
        ok "systemd-analyze verify: no complaint"
else
        fail "systemd-analyze verify"
        cat "$tmp/verify.out"
fi
for o in ProtectSystem=strict NoNewPrivileges=yes MemoryDenyWriteExecute=yes StateDirectory=veritee \
        PrivateTmp=yes CapabilityBoundingSet= SystemCallFilter=@system-service; do
        check "the unit sets $o" grep -q "^$o\$" "$ROOT/deploy/systemd/veriteed.service"
done
# the unit cmake --install writes: the same, ExecStart at the install prefix
if [ -f "$BIN/../veriteed.service" ]; then
        check "cmake's unit differs only in the paths of ExecStart and Documentation" sh -c \
                "sed -e 's|^ExecStart=[^ ]*/veriteed |ExecStart=/usr/local/bin/veriteed |' -e 's|^Documentation=file:.*/install.md|Documentation=file:/usr/local/share/doc/veritee/install.md|' '$BIN/../veriteed.service' | cmp -s - '$ROOT/deploy/systemd/veriteed.service'"
else
        fail "the build has no veriteed.service (CMakeLists.txt writes it)"
fi

# ---- 4. the Containerfile's build stage runs the README's install commands ----
sed -n '/<!-- install-commands: begin -->/,/<!-- install-commands: end -->/p' "$ROOT/README.md" |
        sed -e '/^<!--/d' -e '/^```/d' -e '/^#/d' -e '/^$/d' >"$tmp/readme.cmds"
awk '/^FROM / && n++ { exit } /^RUN / { sub(/^RUN /, ""); print }' \
        "$ROOT/Containerfile" >"$tmp/containerfile.cmds"
check "README.md has install commands" test "$(wc -l <"$tmp/readme.cmds")" -ge 4
if cmp -s "$tmp/readme.cmds" "$tmp/containerfile.cmds"; then
        ok "the Containerfile's build stage runs README.md's install commands, in order"
else
        fail "the Containerfile's build stage and README.md's install commands differ:"
        diff "$tmp/readme.cmds" "$tmp/containerfile.cmds"
fi
check "the Containerfile's build stage is the first, on debian:12-slim" \
        grep -q '^FROM debian:12-slim AS build$' "$ROOT/Containerfile"
check "the final stage runs as the non-root uid 65532" grep -q '^USER 65532:65532$' "$ROOT/Containerfile"
check "the final stage installs no compiler or -dev package" sh -c \
        "! awk '/^FROM / && n++ {f=1} f' '$ROOT/Containerfile' | grep -Eq -- '-dev|gcc|cmake|make '"
finish "k8s_manifests checks"
