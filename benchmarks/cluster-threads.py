#!/usr/bin/env python3
"""Where a cluster's CPU goes under writes: an n-node cluster (etcdjvm by default, or etcd 3.4),
10 s of wrk PUTs on the leader at 16 connections to warm up, then 10 s measured; prints the PUT
rate, how busy the machine was, and for every member its CPU per write and (etcdjvm) its busiest
threads, from /proc/<pid>/task/*/stat (thread names with their numbers folded: "C2 CompilerThreadN").

  benchmarks/cluster-threads.py [--nodes 5] [--server etcdjvm|etcd-3.4] [--warmup 10] [--seconds 10]

ETCD_NODE_JAVA_OPTS reaches bin/etcd-node as usual.
"""
import argparse
import collections
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402


def thread_ticks(pid):
    ticks = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended
        name = re.sub(r"(?<=[a-z#-])[0-9]+", "N", stat[stat.index("(") + 1:stat.rindex(")")])
        fields = stat.rsplit(")", 1)[1].split()
        ticks[name] += int(fields[11]) + int(fields[12])
    return ticks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=5)
    ap.add_argument("--server", default=b.OURS, choices=[b.OURS, b.ETCD])
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    if a.server == b.ETCD:
        b.ensure_tool("etcd", "etcd-server")
    with tempfile.TemporaryDirectory(prefix="etcdjvm-threads-") as tmp:
        servers = b.cluster(a.server, tmp, a.nodes)
        for s in servers:
            s.start()
        leader = b.await_leader(servers, timeout=60)
        b.wait_writable(leader)
        if a.warmup > 0:
            b.wrk(leader, "put", 16, a.warmup)
        before = {s.name: (s.cpu_seconds(), thread_ticks(s.pid)) for s in servers}
        busy0 = b.machine_busy_seconds()
        t0 = time.monotonic()
        r = b.wrk(leader, "put", 16, a.seconds)
        elapsed = time.monotonic() - t0
        busy = b.machine_busy_seconds() - busy0
        writes = r["rps"] * a.seconds
        print(f"{a.server}, {a.nodes} nodes: PUT {r['rps']:.0f}/s (p99 {r['p99_ms']} ms); the machine was busy "
              f"{busy:.1f} of {os.cpu_count() * elapsed:.1f} CPU-seconds")
        for s in servers:
            cpu0, ticks0 = before[s.name]
            cpu = s.cpu_seconds() - cpu0
            delta = thread_ticks(s.pid)
            delta.subtract(ticks0)
            top = ", ".join(f"{name} {t * 1000 // b.CLK_TCK} ms" for name, t in delta.most_common(6) if t > 0)
            role = "leader" if s is leader else "follower"
            print(f"  {s.name} ({role}): {cpu:.1f} CPU-s, {1000 * cpu / writes:.3f} CPU-ms per write"
                  + (f"; {top}" if a.server == b.OURS else ""))
        b.stop_all()


if __name__ == "__main__":
    main()
