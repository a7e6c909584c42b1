#!/usr/bin/env python3
"""Cold start of a 3-node cluster: every node launched at the same moment, on empty data
directories; for each node, the time from its launch to its first successful write *through
that node* (a redirect to the leader is followed, as `curl -L` does). etcd 3.4 (v2 API) is
measured the same way in the same run, rounds alternating between the two.

  benchmarks/cluster-startup.py [--runs 5] [--nodes 3] [--no-etcd] [--ours-cmd CMD] [--etcd-cmd CMD]

--ours-cmd defaults to bin/etcd-node with etcd 0.1 flags; placeholders: {NAME} {DIR} {PORT}
{PEER_PORT} {OTHER_PEERS} (comma list) {CLUSTER} (etcd's name=url list). Extra JVM options reach
bin/etcd-node through ETCD_NODE_JAVA_OPTS as usual. bin/etcd-node --prepare runs first, so no
round includes the build or the class-data-sharing training run.

Ready is polled every 10 ms by this one process (no curl per poll), so the probe costs the
machine little CPU. Prints one line per round and a summary:
  CLUSTER_STARTUP server=ours rounds=5 slowest_node_median_ms=.. slowest_node_max_ms=.. all_nodes_median_ms=..
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
OURS_CMD = (os.path.join(ROOT, "bin", "etcd-node")
            + " -n {NAME} -d {DIR} -c 127.0.0.1:{PORT} -s 127.0.0.1:{PEER_PORT} -C {OTHER_PEERS}")
def etcd_cmd_template():
    """etcd's command line as run.sh and startup.sh build it (lib.sh's etcd_cmd), with placeholders."""
    lib = os.path.join(ROOT, "benchmarks", "lib.sh")
    return subprocess.run(["bash", "-c", f'. "{lib}"; etcd_cmd "{{NAME}}" "{{PORT}}" "{{PEER_PORT}}" "{{CLUSTER}}" "{{DIR}}"'],
                          check=True, capture_output=True, text=True).stdout.strip()


def free_ports(n, used):
    ports = []
    while len(ports) < n:
        with socket.socket() as s:
            s.bind((HOST, 0))
            p = s.getsockname()[1]
        # below the ephemeral range is safer, but the kernel's pick is fine for a short run
        if p not in used:
            used.add(p)
            ports.append(p)
    return ports


def write_once(port, path, timeout=0.5):
    """One write via the node on `port`, following up to 3 redirects; True on 200/201 + JSON."""
    host, p, target = HOST, port, path
    for _ in range(4):
        conn = http.client.HTTPConnection(host, p, timeout=timeout)
        try:
            conn.request("PUT", target, body="value=1",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            body = r.read()
            if r.status in (301, 302, 307, 308):
                loc = urllib.parse.urlsplit(r.getheader("Location", ""))
                host, p = loc.hostname, loc.port
                target = loc.path + (("?" + loc.query) if loc.query else "")
                continue
            return r.status in (200, 201) and body[:1] == b"{"
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()
    return False


def one_round(kind, cmd_template, nodes, prefix, used):
    tmp = tempfile.mkdtemp(prefix=f"cluster-startup-{kind}-")
    ports = free_ports(nodes, used)
    peer_ports = free_ports(nodes, used)
    names = [f"n{i + 1}" for i in range(nodes)]
    cluster = ",".join(f"{names[i]}=http://{HOST}:{peer_ports[i]}" for i in range(nodes))
    procs = []
    try:
        launched = []
        for i in range(nodes):
            others = ",".join(f"{HOST}:{peer_ports[j]}" for j in range(nodes) if j != i)
            cmd = (cmd_template.replace("{NAME}", names[i]).replace("{DIR}", os.path.join(tmp, names[i]))
                   .replace("{PORT}", str(ports[i])).replace("{PEER_PORT}", str(peer_ports[i]))
                   .replace("{OTHER_PEERS}", others).replace("{CLUSTER}", cluster))
            log = open(os.path.join(tmp, names[i] + ".log"), "wb")
            launched.append(time.monotonic())
            procs.append(subprocess.Popen(cmd, shell=True, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, process_group=0))
        ready = [None] * nodes
        deadline = time.monotonic() + 60
        while None in ready and time.monotonic() < deadline:
            for i in range(nodes):
                if ready[i] is None:
                    if procs[i].poll() is not None:
                        sys.stderr.write(open(os.path.join(tmp, names[i] + ".log")).read()[-3000:])
                        raise SystemExit(f"{kind} node {names[i]} exited before it was ready")
                    if write_once(ports[i], f"{prefix}/startup-probe-{i}"):
                        ready[i] = int((time.monotonic() - launched[i]) * 1000)
            time.sleep(0.01)
        if None in ready:
            raise SystemExit(f"{kind}: not every node was ready within 60 s: {ready}")
        return ready
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def summary(kind, rounds):
    slowest = [max(r) for r in rounds]
    every = [ms for r in rounds for ms in r]
    return (f"CLUSTER_STARTUP server={kind} rounds={len(rounds)} slowest_node_median_ms={int(statistics.median(slowest))}"
            f" slowest_node_max_ms={max(slowest)} all_nodes_median_ms={int(statistics.median(every))}"
            f" all_nodes_max_ms={max(every)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--no-etcd", action="store_true")
    ap.add_argument("--ours-cmd", default=OURS_CMD)
    ap.add_argument("--etcd-cmd", default=None, help="default: lib.sh's etcd_cmd")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between rounds [1]")
    a = ap.parse_args()
    if not 1 <= a.runs <= 50 or not 1 <= a.nodes <= 7:
        ap.error("--runs 1..50, --nodes 1..7")
    servers = [("ours", a.ours_cmd, "/v1/keys")]
    if not a.no_etcd:
        if shutil.which("etcd") is None:
            ap.error("etcd not found (apt-get install etcd-server), or pass --no-etcd")
        servers.append(("etcd", a.etcd_cmd or etcd_cmd_template(), "/v2/keys"))
    if a.ours_cmd == OURS_CMD:
        subprocess.run([os.path.join(ROOT, "bin", "etcd-node"), "--prepare"], check=True)
    used = set()
    results = {kind: [] for kind, _, _ in servers}
    for r in range(a.runs):
        for kind, cmd, prefix in servers:
            ms = one_round(kind, cmd, a.nodes, prefix, used)
            results[kind].append(ms)
            print(f"round {r + 1} {kind}: " + " ".join(f"{x} ms" for x in ms), flush=True)
            time.sleep(a.pause)
    for kind, _, _ in servers:
        print(summary(kind, results[kind]))


if __name__ == "__main__":
    main()
