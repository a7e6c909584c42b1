#!/usr/bin/env python3
"""Restart time and data-directory size after sustained writes (issue 8: bounded log, bounded
restart), etcdjvm next to etcd 3.4 in the same run.

For each server: one node on an empty data directory; --seconds (default 60) of wrk PUTs of
distinct keys at --conns (default 16) connections; then, --restarts times (default 3): kill -9,
measure the data directory, start the node again and time process start -> the first GET of a key
written early in the load answers 200 with its value (etcdjvm answers 503 until its replica has
caught up, so this is "ready and serving the old data"). Prints one line per restart and a
summary per server.

  benchmarks/restart-after-load.py [--seconds 60] [--conns 16] [--restarts 3] [--no-etcd]

Needs wrk and (unless --no-etcd) etcd from Debian's etcd-server package; installs them when
missing (root). Extra JVM options reach bin/etcd-node through ETCD_NODE_JAVA_OPTS. Leaves nothing
running.
"""
import argparse
import importlib.util
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
spec = importlib.util.spec_from_file_location("cluster_timing", os.path.join(HERE, "cluster-timing.py"))
ct = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ct)
HOST = ct.HOST


def ensure(cmd, package):
    if shutil.which(cmd):
        return
    if os.geteuid() != 0:
        sys.exit(f"{cmd} missing and not root: apt-get install {package}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
    # the package may have started a system etcd on 2379; we never use it
    subprocess.run(["systemctl", "stop", "etcd"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def dir_bytes(path):
    total = 0
    for base, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(base, f)).st_blocks * 512  # on disk, not apparent
            except OSError:
                pass
    return total


class Server:
    """One node of either kind, restartable on the same data directory and ports."""

    def __init__(self, kind, tmp):
        self.kind = kind
        self.client, self.peer = ct.free_ports(2)
        self.dir = os.path.join(tmp, kind)
        self.log = os.path.join(tmp, kind + ".log")
        self.prefix = "/v1/keys" if kind == "etcdjvm" else "/v2/keys"
        if kind == "etcdjvm":
            self.cmd = [os.path.join(ROOT, "bin", "etcd-node"), "-n", "n0", "-d", self.dir,
                        "-c", f"{HOST}:{self.client}", "-s", f"{HOST}:{self.peer}"]
        else:
            self.cmd = ["etcd", "--name", "e0", "--data-dir", self.dir,
                        "--listen-client-urls", f"http://{HOST}:{self.client}",
                        "--advertise-client-urls", f"http://{HOST}:{self.client}",
                        "--listen-peer-urls", f"http://{HOST}:{self.peer}",
                        "--initial-advertise-peer-urls", f"http://{HOST}:{self.peer}",
                        "--initial-cluster", f"e0=http://{HOST}:{self.peer}",
                        "--initial-cluster-state", "new", "--enable-v2=true",
                        "--logger=zap", "--log-level=error"]
        self.proc = None

    def start(self):
        out = open(self.log, "a")
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def await_value(self, key, value, timeout=300):
        """Seconds until GET key answers 200 with value."""
        begin = time.time()
        deadline = begin + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{self.kind} exited; see {self.log}")
            status, body = ct.request("GET", self.client, self.prefix + key, timeout=2)
            if status == 200 and f'"value":"{value}"' in body:
                return time.time() - begin
            time.sleep(0.01)
        sys.exit(f"{self.kind}: {key} not readable in {timeout} s; see {self.log}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def load(server, seconds, conns):
    env = dict(os.environ, BENCH_METHOD="PUT")
    url = f"http://{HOST}:{server.client}{server.prefix}/load"
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s",
                          os.path.join(HERE, "wrk", "put_distinct.lua"), url],
                         env=env, capture_output=True, text=True, timeout=seconds + 120)
    m = re.search(r"BENCH_RESULT .*", out.stdout)
    if not m:
        sys.exit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    fields = dict(kv.split("=", 1) for kv in m.group(0).split()[1:] if "=" in kv)
    return fields


def measure(kind, tmp, a):
    s = Server(kind, tmp)
    try:
        s.start()
        # ready: a first write answers (etcdjvm: 503 until ready)
        deadline = time.time() + 120
        while time.time() < deadline:
            status, _ = ct.request("PUT", s.client, s.prefix + "/first", body="value=first", timeout=2)
            if status in (200, 201):
                break
            time.sleep(0.02)
        else:
            sys.exit(f"{kind} never took a write; see {s.log}")
        r = load(s, a.seconds, a.conns)
        print(f"{kind}: {a.seconds} s of PUTs of distinct keys at {a.conns} connections: {r.get('requests')} "
              f"requests, {r.get('ok_2xx')} ok, {float(r.get('rps', 0)):.0f}/s, p99 {r.get('p99_ms')} ms", flush=True)
        # a key written early in the load (wrk's thread 1, first request)
        probe = "/load/t1-1"
        status, body = ct.request("GET", s.client, s.prefix + probe, timeout=5)
        if status != 200:
            sys.exit(f"{kind}: {probe} not found after the load ({status} {body[:200]})")
        times, sizes = [], []
        for i in range(a.restarts):
            s.kill()
            size = dir_bytes(s.dir)
            sizes.append(size)
            s.start()
            t = s.await_value(probe, "bench-value-0123456789")
            times.append(t)
            print(f"{kind}: restart {i + 1}: data directory {size / 1e6:.1f} MB, kill -9 -> start -> "
                  f"{probe} served in {t:.2f} s", flush=True)
        return r, times, sizes
    finally:
        s.kill()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--restarts", type=int, default=3)
    p.add_argument("--no-etcd", action="store_true")
    a = p.parse_args()
    ensure("wrk", "wrk")
    kinds = ["etcdjvm"] + ([] if a.no_etcd else ["etcd"])
    if not a.no_etcd:
        ensure("etcd", "etcd-server")
    tmp = tempfile.mkdtemp(prefix="restart-after-load-")
    results = {}
    try:
        for kind in kinds:
            results[kind] = measure(kind, tmp, a)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"RESULT after {a.seconds} s of distinct-key PUTs at {a.conns} connections; load average now "
          f"{os.getloadavg()[0]:.1f}")
    for kind, (r, times, sizes) in results.items():
        print(f"  {kind:8} writes {r.get('ok_2xx')}  data dir {statistics.median(sizes) / 1e6:.1f} MB  "
              f"restart -> serving: median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
