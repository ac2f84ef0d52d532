#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The report of make bench (bench/run.sh calls it): reads bench/results/raw.jsonl (one line
per measured value: {"key", "run", "data"} or {"key", "run", "error"}), takes the median of
every figure over the runs, puts each next to its floor from the same run, and writes

  OUT/latest.json   every figure, its runs, its floor and ratio, the machine and the command
  OUT/latest.md     the markdown table
  docs/bench/*.png  gnuplot plots (--docs 1)
  docs/BENCHMARKS.md, only between "<!-- make bench: begin -->" and "<!-- make bench: end -->"
                    (inserted before the first "## " section when the markers are absent)

Standard library only (python3 of Debian); gnuplot from scripts/deps.sh bench.

Floors (rates in operations/s; a chain of operations costs the sum of their times):
  SNP, NVIDIA GPU  one ECDSA P-384 verification
  TDX, SGX         two ECDSA P-256 verifications (the quote's and the QE report's)
  Azure vTPM       one RSA-2048 verification (the TPM quote) + one P-384 (the SNP report)
  2 threads        twice the one-thread floor (openssl speed runs on one thread)
  full flow        one P-384 verify + one P-256 sign + one P-256 ECDH, as CPU ms per release
                   (on SQLite, and on two replicas with PostgreSQL: the same floor, against the
                   two veriteed's CPU and against it with the PostgreSQL server's)
  durable appends  synced 4 KiB writes/s (dd oflag=dsync) on the same file system: 1 thread
                   pays one sync per append; 64 threads share one per group (x64). A reference
                   rather than a bound: SQLite's WAL sync can cost less than dd's O_DSYNC write
  receipts         one ES256 (P-256) verification
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

BEGIN = "<!-- make bench: begin -->"
END = "<!-- make bench: end -->"


def med(xs):
    xs = [x for x in xs if isinstance(x, (int, float))]
    return statistics.median(xs) if xs else None


def fmt(x, nd=1):
    if x is None:
        return "n/a"
    if isinstance(x, float) and abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


class Raw:
    def __init__(self, path):
        self.vals = {}  # key -> list of (run, data)
        self.errs = {}  # key -> list of reasons
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "error" in r:
                    self.errs.setdefault(r["key"], []).append(r["error"])
                else:
                    self.vals.setdefault(r["key"], []).append((r["run"], r["data"]))

    def series(self, key, field="per_sec", where=None):
        """{run: value} of one field of one key (where: a filter on the data)"""
        out = {}
        for run, d in self.vals.get(key, []):
            if where and not where(d):
                continue
            if field in d:
                out[run] = d[field]
        return out

    def reason(self, key):
        e = self.errs.get(key)
        return e[0] if e else "not measured"


def figure(name, runs_vals, floor_vals, floor_name, floor_fn=lambda r: r, higher_better=True, **extra):
    """A figure: the median of its runs, and the ratio to the floor of the same runs."""
    runs = sorted(runs_vals)
    vals = [runs_vals[r] for r in runs]
    floors = [floor_fn(floor_vals[r]) for r in runs if r in floor_vals and floor_vals[r]]
    # the ratio of each run to its own floor, then the median of those
    ratios = []
    for r in runs:
        if r in floor_vals and floor_vals[r]:
            f = floor_fn(floor_vals[r])
            if f:
                ratios.append(runs_vals[r] / f if higher_better else f / runs_vals[r] if runs_vals[r] else None)
    ratios = [x for x in ratios if x is not None]
    return dict(name=name, value=med(vals), runs=vals, floor=med(floors), floor_name=floor_name,
                ratio=med(ratios), **extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", default="1")
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--settings", default="")
    ap.add_argument("--load-before", default="")
    ap.add_argument("--load-after", default="")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--machine-from", help="re-render: the machine, date and command of an earlier "
                    "latest.json (of the run that wrote --raw) instead of this one's")
    a = ap.parse_args()
    raw = Raw(a.raw)

    # a run's floors: the mean of its measurements (before and after the verifiers)
    ossl = {}
    for run, d in raw.vals.get("openssl", []):
        ossl.setdefault(run, []).append(d)
    ossl = {run: {k: statistics.mean(x[k] for x in ds) for k in ds[0]} for run, ds in ossl.items()}
    fl = {k: {r: d.get(k) for r, d in ossl.items()} for k in
          ("p384_verify", "p256_verify", "p256_sign", "ecdh_p256", "rsa2048_verify")}
    floors = {k: med(list(v.values())) for k, v in fl.items()}

    def rate_sum(*ks):  # operations in a chain: 1 / sum(1/rate)
        def f(d):
            try:
                return 1.0 / sum(1.0 / d[k] for k in ks)
            except (KeyError, TypeError, ZeroDivisionError):
                return None
        return f

    verify = []
    spec = [
        ("SEV-SNP (Milan)", "snp", ("p384_verify",), 1, "1 P-384 verify"),
        ("TDX (DCAP v4)", "tdx", ("p256_verify", "p256_verify"), 1, "2 P-256 verifies"),
        ("SGX (DCAP v3)", "sgx", ("p256_verify", "p256_verify"), 1, "2 P-256 verifies"),
        ("Azure vTPM (az-snp-vtpm)", "azure", ("rsa2048_verify", "p384_verify"), 1,
         "1 RSA-2048 + 1 P-384 verify"),
        ("NVIDIA GPU (Hopper)", "nvidia_gpu", ("p384_verify",), 1, "1 P-384 verify"),
    ]
    for th in (1, 2):
        for name, key, ks, _, fname in spec:
            k = f"{key}_{th}"
            s = raw.series(k)
            if not s:
                verify.append(dict(name=name, threads=th, value=None, reason=raw.reason(k)))
                continue
            f = rate_sum(*ks)
            fig = figure(name, s, ossl, fname + (" x2 threads" if th == 2 else ""),
                         floor_fn=(lambda d, f=f, th=th: (f(d) or 0) * th), threads=th, key=k)
            verify.append(fig)
    g = raw.series("snp_genoa_1")
    if g:
        verify.append(figure("SEV-SNP (Genoa)", g, ossl, "1 P-384 verify", floor_fn=rate_sum("p384_verify"),
                             threads=1, key="snp_genoa_1"))

    # peers: veritee / peer on the same evidence, one thread each, in the same run
    peers = []
    for key, name, vkey, what, fks in [
        ("dcap_qvl_tdx", "@phala/dcap-qvl", "tdx_1", "TDX quote", ("p256_verify", "p256_verify")),
        ("dcap_qvl_sgx", "@phala/dcap-qvl", "sgx_1", "SGX quote", ("p256_verify", "p256_verify")),
        ("tinfoil_snp_genoa", "@tinfoilsh/verifier", "snp_genoa_1", "SNP Genoa report", ("p384_verify",)),
        ("lit_snp_milan", "@lit-protocol/sev-snp-utils-sdk", "snp_1", "SNP Milan report", ("p384_verify",)),
    ]:
        s = raw.series(key)
        v = raw.series(vkey)
        version = next((d.get("version") for _, d in raw.vals.get(key, []) if d.get("version")), None)
        if not s:
            peers.append(dict(name=name, evidence=what, value=None, reason=raw.reason(key)))
            continue
        ratios = [v[r] / s[r] for r in s if r in v and s[r]]
        pf = figure(name, s, ossl, "", floor_fn=rate_sum(*fks))
        peers.append(dict(name=name, version=version, evidence=what, value=med(list(s.values())),
                          runs=[s[r] for r in sorted(s)], veritee=med(list(v.values())),
                          ratio=med(ratios), peer_floor_ratio=pf["ratio"], key=key))

    # full flow (loadgen): per client count, the median over runs and both 64-client rounds
    flow = []
    rows = [(run, d) for run, d in raw.vals.get("flow", []) if d.get("op") == "flow_round"]

    def flow_floor_ms(key):
        """Each run's floor of the flow in ms: the mean over the floors measured next to the
        flow's rounds (key: openssl_flow, openssl_pgflow), or over the run's floors when it
        measured none there (the raw file of an older bench/run.sh)."""
        near = {}
        for run, d in raw.vals.get(key, []):
            near.setdefault(run, []).append(d)
        out = {}
        for r in set(ossl) | set(near):
            ds = near.get(r) or [ossl[r]]
            try:
                out[r] = statistics.mean(1e3 / d["p384_verify"] + 1e3 / d["p256_sign"] +
                                         1e3 / d["ecdh_p256"] for d in ds)
            except (KeyError, TypeError, ZeroDivisionError):
                pass
        return out

    floor_ms = flow_floor_ms("openssl_flow")
    for c in sorted({d["clients"] for _, d in rows}):
        rs = [(r, d) for r, d in rows if d["clients"] == c]
        cpu = [d["server_cpu_ms_per_release"] for _, d in rs if d["flows"]]
        ratios = [d["server_cpu_ms_per_release"] / floor_ms[r] for r, d in rs if r in floor_ms and d["flows"]]
        flow.append(dict(clients=c, releases_per_sec=med([d["releases_per_sec"] for _, d in rs]),
                         p50_ms=med([d["p50_ms"] for _, d in rs]), p99_ms=med([d["p99_ms"] for _, d in rs]),
                         server_cpu_ms_per_release=med(cpu), floor_ms=med(list(floor_ms.values())),
                         ratio=med(ratios), errors=sum(d["errors"] + d["wrong"] for _, d in rs),
                         rounds=len(rs)))
    flow_err = raw.errs.get("flow_status")

    # the full flow on two replicas with PostgreSQL (loadgen --postgres): per client count
    pgflow = []
    prows = [(run, d) for run, d in raw.vals.get("pgflow", []) if d.get("op") == "flow_round"]
    floor_ms = flow_floor_ms("openssl_pgflow")
    for c in sorted({d["clients"] for _, d in prows}):
        rs = [(r, d) for r, d in prows if d["clients"] == c and d["flows"]]
        rs_all = [(r, d) for r, d in prows if d["clients"] == c]
        vt = [d["server_cpu_ms_per_release"] for _, d in rs]
        both = [d["server_pg_cpu_ms_per_release"] for _, d in rs]
        pgflow.append(dict(
            clients=c, releases_per_sec=med([d["releases_per_sec"] for _, d in rs_all]),
            p50_ms=med([d["p50_ms"] for _, d in rs]), p99_ms=med([d["p99_ms"] for _, d in rs]),
            server_cpu_ms_per_release=med(vt), pg_cpu_ms_per_release=med([d["pg_cpu_ms_per_release"] for _, d in rs]),
            server_pg_cpu_ms_per_release=med(both), floor_ms=med(list(floor_ms.values())),
            ratio=med([d["server_cpu_ms_per_release"] / floor_ms[r] for r, d in rs if r in floor_ms]),
            ratio_with_pg=med([d["server_pg_cpu_ms_per_release"] / floor_ms[r] for r, d in rs if r in floor_ms]),
            errors=sum(d["errors"] + d["wrong"] for _, d in rs_all), rounds=len(rs_all)))
    pgflow_err = raw.errs.get("pgflow_status")

    # memory and start-up (loadgen)
    def flow_op(op, field):
        return med([d.get(field) for _, d in raw.vals.get("flow", []) if d.get("op") == op])
    growth = []
    by_run = {}
    for r, d in rows:
        by_run.setdefault(r, []).append(d)
    for r, ds in by_run.items():
        ds64 = [d for d in sorted(ds, key=lambda d: d["round"]) if d["clients"] == max(x["clients"] for x in ds)]
        if len(ds64) >= 2:
            growth.append(ds64[-1]["rss_kib"] - ds64[-2]["rss_kib"])
    last_rss = med([sorted(ds, key=lambda d: d["round"])[-1]["rss_kib"] for ds in by_run.values()])
    memory = dict(
        idle_rss_kib=flow_op("idle", "rss_kib"),
        sessions=flow_op("sessions", "sessions"),
        sessions_rss_kib=flow_op("sessions", "rss_kib"),
        after_rounds_rss_kib=last_rss,
        growth_between_64_client_rounds_kib=med(growth),
        growth_runs_kib=growth,
        peak_rss_kib=med([max(d["rss_peak_kib"] for d in ds) for ds in by_run.values()]) if by_run else None,
        flows_per_run=med([sum(d["flows"] for d in ds) for ds in by_run.values()]) if by_run else None,
    )
    startup = dict(median_ms=flow_op("startup", "median_ms"), rss_kib=flow_op("startup", "rss_kib"),
                   starts_per_run=flow_op("startup", "starts"))

    rep = raw.vals.get("replicas", [])
    replicas = None
    if rep:
        replicas = dict(clients=rep[0][1].get("clients"),
                        postgres_2_replicas_per_sec=med([d["postgres_2_replicas_per_sec"] for _, d in rep]),
                        sqlite_1_replica_per_sec=med([d["sqlite_1_replica_per_sec"] for _, d in rep]),
                        ratio=med([d["ratio"] for _, d in rep]))
    elif "replicas" in raw.errs:
        replicas = dict(reason=raw.reason("replicas"))

    # ledger
    led = [(r, d) for r, d in raw.vals.get("ledger", [])]
    dsync = raw.series("dsync")
    ledger = dict(appends=[], receipts=[], dsync_writes_per_sec=med(list(dsync.values())))
    for th in sorted({d["threads"] for _, d in led if d.get("op") == "ledger_append"}):
        s = {r: d["per_sec"] for r, d in led if d.get("op") == "ledger_append" and d["threads"] == th}
        cpu = med([d["us_per_append"] for _, d in led if d.get("op") == "ledger_append_cpu" and d["threads"] == th])
        fig = figure(f"durable appends, {th} thread{'s' if th > 1 else ''}", s,
                     {r: {"w": v} for r, v in dsync.items()},
                     "synced 4 KiB writes/s (dd oflag=dsync: a reference, not a bound)"
                     + (f" x{th} (one sync per group)" if th > 1 else ""),
                     floor_fn=lambda d, th=th: d["w"] * th, threads=th, cpu_us_per_append=cpu)
        ledger["appends"].append(fig)
    for n in sorted({d["entries"] for _, d in led if d.get("op", "").startswith("ledger_receipt")}):
        b = {r: d["per_sec"] for r, d in led if d.get("op") == "ledger_receipt_build" and d["entries"] == n}
        v = {r: d["per_sec"] for r, d in led if d.get("op") == "ledger_receipt_verify" and d["entries"] == n}
        vf = figure("receipt verify", v, ossl, "1 P-256 verify", floor_fn=lambda d: d.get("p256_verify")) if v else {}
        ledger["receipts"].append(dict(entries=n, build_per_sec=med(list(b.values())),
                                       verify_per_sec=vf.get("value"), verify_floor=vf.get("floor"),
                                       verify_ratio=vf.get("ratio")))
    if "ledger" in raw.errs:
        ledger["reason"] = raw.reason("ledger")

    root = os.getcwd()
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu_model = m.group(1).strip() if m else ""
    except OSError:
        pass
    commit = sh("git", "rev-parse", "HEAD")
    dirty = bool(sh("git", "status", "--porcelain", "--untracked-files=no"))
    machine = dict(cpu=cpu_model or platform.processor(), cores=os.cpu_count(),
                   openssl=sh("openssl", "version"), node=sh("node", "--version") or None,
                   kernel=platform.release(), date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   git_commit=commit + ("-dirty" if dirty else ""), command=a.command, settings=a.settings,
                   load_before=a.load_before, load_after=a.load_after, seconds=a.seconds)
    if a.machine_from:
        with open(a.machine_from) as f:
            machine = json.load(f)["machine"]
    runs = max([r for v in raw.vals.values() for r, _ in v] or [0])
    phases = {}
    for _, d in raw.vals.get("phase", []):
        k = d["phase"].split(" (")[0]
        phases[k] = phases.get(k, 0) + d["seconds"]
    machine["seconds_by_phase"] = phases  # (replaced with the rest by --machine-from)
    result = dict(schema="veritee-bench/1", machine=machine, runs=runs, floors=floors, verify=verify,
                  peers=peers, flow=dict(sqlite=flow, error=flow_err, postgres=pgflow, postgres_error=pgflow_err,
                                        replicas=replicas),
                  memory=memory, startup=startup, ledger=ledger)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")

    md = table(result)
    with open(os.path.join(a.out, "latest.md"), "w") as f:
        f.write(md)
    if a.docs == "1":
        pngs = plots(result, os.path.join(root, "docs", "bench"))
        section(os.path.join(root, "docs", "BENCHMARKS.md"), md, pngs)
    sys.stdout.write(md)


def kib(x):
    return "n/a" if x is None else f"{x / 1024:.1f} MiB"


def table(R):
    m = R["machine"]
    o = []
    o.append(f"Machine: {m['cpu']}, {m['cores']} cores; {m['openssl']}; node {m['node'] or 'n/a'}; "
             f"Linux {m['kernel']}. {m['date']}, commit `{m['git_commit'][:12]}`; load average "
             f"{m['load_before']} before, {m['load_after']} after; {m['seconds']} s in all"
             + (" (" + ", ".join(f"{k} {v} s" for k, v in m["seconds_by_phase"].items()) + ")" if m.get("seconds_by_phase") else "")
             + ".\n\n")
    o.append(f"Command: `{m['command']}` ({m['settings']}). Every figure is the median of "
             f"{R['runs']} runs; every ratio is taken against the floor measured in the same run "
             "(`openssl speed`, one thread; for 2 threads twice that).\n\n")
    f = R["floors"]
    o.append("Floors (one thread, ops/s): " + ", ".join(
        f"{k.replace('_', ' ')} {fmt(v)}" for k, v in f.items()) + ".\n\n")
    o.append("### Verifications per second\n\n| evidence | threads | veritee /s | floor | floor /s | ratio |\n|---|---|---|---|---|---|\n")
    for v in R["verify"]:
        if v.get("value") is None:
            o.append(f"| {v['name']} | {v['threads']} | not measured: {v.get('reason')} | | | |\n")
        else:
            o.append(f"| {v['name']} | {v['threads']} | {fmt(v['value'])} | {v['floor_name']} | "
                     f"{fmt(v['floor'])} | {fmt(v['ratio'], 3)} |\n")
    o.append("\n### Peers on the same evidence (one thread, same run)\n\n| peer | evidence | peer /s | peer / floor | veritee /s | veritee / peer |\n|---|---|---|---|---|---|\n")
    for p in R["peers"]:
        n = p["name"] + (f" {p['version']}" if p.get("version") else "")
        if p.get("value") is None:
            o.append(f"| {n} | {p['evidence']} | cannot run: {p.get('reason')} | | | |\n")
        else:
            o.append(f"| {n} | {p['evidence']} | {fmt(p['value'])} | {fmt(p.get('peer_floor_ratio'), 3)} | "
                     f"{fmt(p['veritee'])} | {fmt(p['ratio'])}x |\n")
    o.append("\n### Full flow (auth, simulator evidence, attest, resource; SQLite; bench/loadgen)\n\n"
             "| clients | releases/s | p50 ms | p99 ms | server CPU ms/release | floor ms | ratio to floor | failed flows (all runs) |\n"
             "|---|---|---|---|---|---|---|---|\n")
    for r in R["flow"]["sqlite"]:
        o.append(f"| {r['clients']} | {fmt(r['releases_per_sec'])} | {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | "
                 f"{fmt(r['server_cpu_ms_per_release'], 3)} | {fmt(r['floor_ms'], 3)} | {fmt(r['ratio'], 2)} | {r['errors']} |\n")
    if R["flow"].get("error"):
        o.append(f"\nloadgen reported: {R['flow']['error'][0]}\n")
    o.append("\nFloor per release: one P-384 verify (the report) + one P-256 sign (the token) + one "
             "P-256 ECDH (the JWE), from `openssl speed` right before and right after the rounds (the mean "
             "of the two, per run). Server CPU from /proc/PID/stat over the round; the load generator "
             "(which also signs simulator reports) shares the 2 cores.\n")
    o.append("\n### Full flow on two replicas with PostgreSQL (bench/loadgen --postgres)\n\n")
    pf = R["flow"].get("postgres") or []
    if not pf:
        why = (R["flow"].get("postgres_error") or ["not measured"])[0]
        o.append(f"Not measured: {why}\n")
    else:
        o.append("| clients | releases/s | p50 ms | p99 ms | server CPU ms/release: veriteed (both) | with PostgreSQL | "
                 "floor ms | ratio to floor: veriteed | with PostgreSQL | failed flows (all runs) |\n"
                 "|---|---|---|---|---|---|---|---|---|---|\n")
        for r in pf:
            o.append(f"| {r['clients']} | {fmt(r['releases_per_sec'])} | {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | "
                     f"{fmt(r['server_cpu_ms_per_release'], 3)} | {fmt(r['server_pg_cpu_ms_per_release'], 3)} | "
                     f"{fmt(r['floor_ms'], 3)} | {fmt(r['ratio'], 2)} | {fmt(r['ratio_with_pg'], 2)} | {r['errors']} |\n")
        if R["flow"].get("postgres_error"):
            o.append(f"\nloadgen --postgres reported: {R['flow']['postgres_error'][0]}\n")
        o.append("\nTwo veriteed replicas (same KEK, admin, token and ledger keys; their own state "
                 "directories) on one PostgreSQL server started on 127.0.0.1 (fsync on), the same "
                 "machine and cores. Each client alternates: auth and attest on one replica, the "
                 "resource with that token on the other. CPU: both veriteed processes, then also the "
                 "postmaster and its children (with the backends it reaped), from /proc/PID/stat over "
                 "the round; the same floor as on SQLite.\n")
    rp = R["flow"].get("replicas")
    if rp and rp.get("reason"):
        o.append(f"\nTwo replicas on PostgreSQL: not measured: {rp['reason']}\n")
    elif rp:
        o.append(f"\nTwo replicas on PostgreSQL ({rp['clients']} attested clients fetching secrets, "
                 f"bench/replicas.sh's measurement): {fmt(rp['postgres_2_replicas_per_sec'])} releases/s, "
                 f"against {fmt(rp['sqlite_1_replica_per_sec'])} on one SQLite replica (ratio {fmt(rp['ratio'], 2)}).\n")
    mm, st = R["memory"], R["startup"]
    o.append("\n### Start-up and memory (veriteed)\n\n| figure | value |\n|---|---|\n")
    o.append(f"| start-up to ready (spawn until GET /readyz 200, on the run's state) | {fmt(st['median_ms'])} ms |\n")
    o.append(f"| idle RSS after start | {kib(mm['idle_rss_kib'])} |\n")
    o.append(f"| RSS with {mm['sessions'] or 'n/a'} open sessions (auth only) | {kib(mm['sessions_rss_kib'])} |\n")
    o.append(f"| RSS after the rounds ({fmt(mm['flows_per_run'], 0)} flows per run) | {kib(mm['after_rounds_rss_kib'])} |\n")
    o.append(f"| peak RSS during the rounds | {kib(mm['peak_rss_kib'])} |\n")
    g = mm["growth_between_64_client_rounds_kib"]
    o.append(f"| RSS growth between the two 64-client rounds | {'n/a' if g is None else f'{g:+.0f} KiB'} |\n")
    L = R["ledger"]
    o.append("\n### Ledger (veritee bench ledger)\n\n")
    if L.get("reason"):
        o.append(f"Not measured: {L['reason']}\n\n")
    o.append("| figure | value /s | floor | floor /s | ratio |\n|---|---|---|---|---|\n")
    for x in L["appends"]:
        o.append(f"| {x['name']} (CPU {fmt(x.get('cpu_us_per_append'))} us each) | {fmt(x['value'])} | "
                 f"{x['floor_name']} | {fmt(x['floor'])} | {fmt(x['ratio'], 2)} |\n")
    for x in L["receipts"]:
        o.append(f"| receipts at {x['entries']:,} entries: built / verified | {fmt(x['build_per_sec'])} / "
                 f"{fmt(x['verify_per_sec'])} | 1 P-256 verify | {fmt(x['verify_floor'])} | {fmt(x['verify_ratio'], 2)} |\n")
    return "".join(o)


def plots(R, outdir):
    """gnuplot PNGs; returns [(file, caption)]"""
    if not shutil.which("gnuplot"):
        print("report: gnuplot not installed: no plots (scripts/deps.sh bench installs it)", file=sys.stderr)
        return []
    os.makedirs(outdir, exist_ok=True)
    out = []
    tmpd = os.path.join(outdir, ".data")
    os.makedirs(tmpd, exist_ok=True)
    term = "set terminal pngcairo size 900,480 font ',10'" if "pngcairo" in sh("gnuplot", "-e", "set terminal") \
        else "set terminal png size 900,480"

    def run(name, script, caption):
        p = os.path.join(outdir, name)
        r = subprocess.run(["gnuplot"], input=f"{term}\nset output '{p}'\n{script}", text=True,
                           capture_output=True)
        if r.returncode == 0 and os.path.exists(p):
            out.append((name, caption))
        else:
            print(f"report: gnuplot {name}: {r.stderr.strip()[:300]}", file=sys.stderr)

    v = [x for x in R["verify"] if x.get("value") is not None and x.get("ratio") is not None]
    if v:
        d = os.path.join(tmpd, "verify.dat")
        with open(d, "w") as f:
            for x in v:
                n = x["name"].replace("(Milan)", "Milan").replace("(Genoa)", "Genoa").split(" (")[0]
                f.write(f"\"{n} {x['threads']}t\" {x['ratio']:.4f}\n")
        ymax = max(1.2, 1.15 * max(x["ratio"] for x in v))
        run("verify-ratio.png", f"""set title 'Verifications/s as a ratio to the crypto floor (same run; 1.0 = the floor)'
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:{ymax:.2f}]
set grid ytics
set xtics rotate by -30
set ylabel 'veritee / floor'
plot '{d}' using 0:2:xtic(1) with boxes notitle, 1 with lines dt 2 title 'floor'
""", "Verifications per second, as ratios to their floors")
    pe = [x for x in R["peers"] if x.get("value") and x.get("veritee")]
    if pe:
        d = os.path.join(tmpd, "peers.dat")
        with open(d, "w") as f:
            for x in pe:
                label = x["name"].replace("/", "/\\n") + "\\n" + x["evidence"]
                f.write(f"\"{label}\" {x['veritee']} {x['value']}\n")
        run("peers.png", f"""set title 'veritee and the peers on the same evidence (one thread, same run)'
set termoption noenhanced
set bmargin 6
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.6
set logscale y 10
set yrange [1:*]
set ylabel 'verifications/s (log)'
set grid ytics
set key top right
plot '{d}' using 2:xtic(1) title 'veritee', '' using 3 title 'peer'
""", "veritee against the npm peers on the same evidence")
    fl = [x for x in R["flow"]["sqlite"] if x.get("releases_per_sec")]
    if fl:
        d = os.path.join(tmpd, "flow.dat")
        with open(d, "w") as f:
            for x in fl:
                f.write(f"{x['clients']} {x['releases_per_sec']} {x['p50_ms']} {x['p99_ms']}\n")
        run("flow.png", f"""set title 'Full flow on SQLite: releases/s and latency against concurrent clients'
set logscale x 2
set xlabel 'concurrent clients'
set ylabel 'releases/s'
set y2label 'latency (ms, log)'
set ytics nomirror
set y2tics
set logscale y2 10
set yrange [0:*]
set grid
set key left top
plot '{d}' using 1:2 with linespoints lw 2 title 'releases/s', \\
     '{d}' using 1:3 axes x1y2 with linespoints title 'p50 ms', \\
     '{d}' using 1:4 axes x1y2 with linespoints title 'p99 ms'
""", "Full flow: releases per second and p50/p99 latency at 1, 8 and 64 clients")
    pf = [x for x in R["flow"].get("postgres") or [] if x.get("releases_per_sec")]
    if pf:
        sq = {x["clients"]: x for x in R["flow"]["sqlite"]}
        d = os.path.join(tmpd, "flow-replicas.dat")
        with open(d, "w") as f:
            for x in pf:
                s1 = sq.get(x["clients"], {})
                f.write(f"{x['clients']} {x['releases_per_sec']} {s1.get('releases_per_sec') or 'NaN'} "
                        f"{x['server_cpu_ms_per_release'] or 'NaN'} {x['server_pg_cpu_ms_per_release'] or 'NaN'} "
                        f"{s1.get('server_cpu_ms_per_release') or 'NaN'}\n")
        run("flow-replicas.png", f"""set title 'Full flow: two replicas on PostgreSQL against one veriteed on SQLite'
set logscale x 2
set xlabel 'concurrent clients'
set ylabel 'releases/s'
set y2label 'server CPU ms per release'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key below
plot '{d}' using 1:2 with linespoints lw 2 title 'releases/s, 2 replicas + PostgreSQL', \\
     '{d}' using 1:3 with linespoints lw 2 title 'releases/s, SQLite', \\
     '{d}' using 1:4 axes x1y2 with linespoints dt 2 title 'CPU ms, 2 veriteed', \\
     '{d}' using 1:5 axes x1y2 with linespoints dt 2 title 'CPU ms, 2 veriteed + PostgreSQL', \\
     '{d}' using 1:6 axes x1y2 with linespoints dt 2 title 'CPU ms, veriteed on SQLite'
""", "Full flow on two replicas with PostgreSQL: releases per second and server CPU per release, "
            "against SQLite")
    rc = [x for x in R["ledger"]["receipts"] if x.get("build_per_sec")]
    if rc:
        d = os.path.join(tmpd, "receipts.dat")
        with open(d, "w") as f:
            for x in rc:
                f.write(f"{x['entries']} {x['build_per_sec']} {x['verify_per_sec'] or 0} {x['verify_floor'] or 0}\n")
        run("receipts.png", f"""set title 'Ledger receipts per second against ledger size'
set logscale x 10
set logscale y 10
set xrange [500:2000000]
set format x '10^{{%L}}'
set xlabel 'entries in the ledger'
set ylabel 'receipts/s'
set grid
set key bottom left
plot '{d}' using 1:2 with linespoints lw 2 title 'built', \\
     '{d}' using 1:3 with linespoints lw 2 title 'verified', \\
     '{d}' using 1:4 with lines dt 2 title 'floor: 1 P-256 verify'
""", "Ledger receipts built and verified per second at 10^3..10^6 entries")
    shutil.rmtree(tmpd, ignore_errors=True)
    return out


def section(path, md, pngs):
    body = [BEGIN, "", "## Latest `make bench` (issue 18)", "",
            "Written by bench/run.sh (`make bench`); edit the script, not this section. The raw "
            "figures, with every run: bench/results/latest.json.", "",
            "What is measured (`bench/run.sh --help` says it in full): verifiers are `veritee bench "
            "snp|tdx|sgx|azure|nvidia-gpu` on the recorded vectors of ../shared/testdata with warm "
            "caches; the peers run from bench/node_modules (versions pinned in bench/package.json) on "
            "the same files, offline, one thread; the full flow is bench/loadgen (not veritee's agent: "
            "libcurl, its own source address per client) against a real veriteed with the default "
            "configuration on SQLite, each flow auth, a fresh simulator report, attest, the resource "
            "and its JWE decrypted and compared; then the same flow through two veriteed replicas "
            "sharing one PostgreSQL server (`loadgen --postgres`, fsync on, on the same cores), auth "
            "and attest on one replica and the resource on the other; the ledger is `veritee bench "
            "ledger`. Floors are "
            "`openssl speed` on one thread, measured before and after the verifiers of each run (the "
            "mean of the two). On a shared machine read the load average first.", ""]
    body.append(md.rstrip())
    body.append("")
    for name, cap in pngs:
        body.append(f"![{cap}](bench/{name})")
        body.append("")
    body.append(END)
    block = "\n".join(body) + "\n"
    with open(path) as f:
        text = f.read()
    if BEGIN in text and END in text:
        i = text.index(BEGIN)
        j = text.index(END) + len(END)
        if j < len(text) and text[j] == "\n":
            j += 1
        text = text[:i] + block + text[j:]
    else:
        m = re.search(r"^## ", text, re.M)
        i = m.start() if m else len(text)
        text = text[:i] + block + "\n" + text[i:]
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
