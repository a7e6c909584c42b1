#!/usr/bin/env python3
"""Start-up, etcdjvm next to etcd 3.4 (issue 13's start-up figures), in rounds that alternate
between the two:

  1. one node: process start (just before the launcher is executed) -> first acknowledged write
     through it, on an empty data directory, --runs times each (goal: etcdjvm <= 0.6 s median);
  2. --nodes (default 3) nodes launched at the same moment -> each one's first write through it
     (benchmarks/cluster-startup.py, --cluster-runs rounds; goal: every node <= 1.5 s).

Writes are polled every 10 ms by this process. bin/etcd-node --prepare runs first, so no round
includes a build or the ahead-of-time cache's training run.

  benchmarks/startup.py [--runs 7] [--cluster-runs 3] [--nodes 3] [--no-etcd] [--csv FILE]

Rows: curve=startup, x=1, metric start_to_write_ms (median), start_to_write_min_ms,
start_to_write_max_ms; x=<nodes>, metric slowest_node_ms (median over rounds), all_nodes_ms (median
over every node of every round).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402


def one_node(kind):
    with tempfile.TemporaryDirectory(prefix="etcdjvm-startup-") as tmp:
        s = b.cluster(kind, tmp, 1)[0]
        t0 = time.monotonic()
        s.start()
        b.wait_writable(s, timeout=60)
        ms = (time.monotonic() - t0) * 1000
        s.stop()
        return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cluster-runs", type=int, default=3)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--no-etcd", action="store_true")
    ap.add_argument("--csv")
    a = ap.parse_args()
    out = b.Csv(a.csv)
    kinds = [b.OURS] + ([] if a.no_etcd else [b.ETCD])
    if not a.no_etcd:
        b.ensure_tool("etcd", "etcd-server")
    subprocess.run([os.path.join(b.ROOT, "bin", "etcd-node"), "--prepare"], check=True)
    times = {k: [] for k in kinds}
    for r in range(a.runs):
        for kind in (kinds if r % 2 == 0 else list(reversed(kinds))):
            ms = one_node(kind)
            times[kind].append(ms)
            b.log(f"start -> first write, {kind}, run {r + 1}: {ms:.0f} ms")
            time.sleep(0.5)
    print("| server | one node: start -> first write, median (min - max) |")
    print("|---|---|")
    for kind in kinds:
        t = times[kind]
        out.row("startup", 1, kind, "start_to_write_ms", statistics.median(t), "ms")
        out.row("startup", 1, kind, "start_to_write_min_ms", min(t), "ms")
        out.row("startup", 1, kind, "start_to_write_max_ms", max(t), "ms")
        print(f"| {kind} | {statistics.median(t):.0f} ms ({min(t):.0f} - {max(t):.0f}) |")
    if a.cluster_runs > 0:
        cmd = [sys.executable, os.path.join(b.HERE, "cluster-startup.py"), "--runs", str(a.cluster_runs),
               "--nodes", str(a.nodes)] + (["--no-etcd"] if a.no_etcd else [])
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        sys.stderr.write(res.stderr)
        if res.returncode != 0:
            sys.exit(f"cluster-startup.py failed:\n{res.stdout}")
        for line in res.stdout.splitlines():
            m = re.match(r"CLUSTER_STARTUP server=(\w+) .*slowest_node_median_ms=(\d+) .*all_nodes_median_ms=(\d+)", line)
            if m:
                kind = b.OURS if m.group(1) == "ours" else b.ETCD
                out.row("startup", a.nodes, kind, "slowest_node_ms", int(m.group(2)), "ms")
                out.row("startup", a.nodes, kind, "all_nodes_ms", int(m.group(3)), "ms")
                print(f"| {kind} | {a.nodes} nodes at once: slowest node median {m.group(2)} ms, "
                      f"all nodes median {m.group(3)} ms |")


if __name__ == "__main__":
    main()
