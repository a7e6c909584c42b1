"""Shared by the Python benchmark scripts (store-scale, watch-fanout, cluster-scale, warmup, report).

Servers: an etcdjvm node started by bin/etcd-node (v1 API) or etcd 3.4 (v2 API), each in its own
process group inside this script's session (so the report can tell its own CPU from the
machine's other work), on free loopback ports, stopped at exit. Helpers for HTTP, leaders, wrk,
memory and CSV rows. Python 3.11 standard library only.

CSV rows (every script's --csv FILE, appended): curve,x,series,metric,value,unit
  curve   connections | store-size | watchers | cluster-size | warmup | startup | side-by-side
  x       the curve's x value (16, 100000, ...)
  series  etcdjvm | etcd-3.4 (a variant may add a suffix: etcdjvm-cts1)
  metric  put_rps, get_p99_ms, rss_bytes_per_key, ...
"""
import atexit
import csv
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "benchmarks")
HOST = "127.0.0.1"
OURS = "etcdjvm"
ETCD = "etcd-3.4"
CLK_TCK = os.sysconf("SC_CLK_TCK")

_live = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_tool(cmd, package):
    """Installs the Debian package when cmd is missing (root), as lib.sh does."""
    if shutil.which(cmd):
        return
    log(f"installing {package} (for {cmd})")
    subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if not shutil.which(cmd):
        sys.exit(f"{cmd} still missing after installing {package}")


def free_ports(n, avoid=()):
    """Free ports below Linux's ephemeral range (32768-60999): a port from the kernel's pick can
    be taken, before a server binds it, as the local end of another connection."""
    ports = []
    while len(ports) < n:
        p = random.randint(20000, 32000)
        if p in ports or p in avoid:
            continue
        try:
            with socket.socket() as s:
                s.bind((HOST, p))
        except OSError:
            continue
        ports.append(p)
    return ports


class Server:
    """One server process (etcdjvm node or etcd) in its own process group."""

    def __init__(self, kind, name, data_dir, client_port, peer_port, log_path, argv, env=None):
        self.kind, self.name, self.dir = kind, name, data_dir
        self.client, self.peer = client_port, peer_port
        self.log_path, self.argv, self.env = log_path, argv, env
        self.proc = None
        self.started_at = None

    @property
    def prefix(self):
        return "/v1/keys" if self.kind == OURS else "/v2/keys"

    @property
    def url(self):
        return f"http://{HOST}:{self.client}"

    def start(self):
        out = open(self.log_path, "a")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, process_group=0,
                                     env=dict(os.environ, **(self.env or {})))
        out.close()
        if self not in _live:
            _live.append(self)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        """The server's own pid (bin/etcd-node execs java, so the launcher's pid is the JVM's)."""
        return self.proc.pid

    def signal(self, sig):
        if self.alive():
            os.killpg(self.proc.pid, sig)

    def kill(self):
        """kill -9, as a crash."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=20):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_bytes(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def cpu_seconds(self):
        """utime+stime of the server process so far."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            return (int(rest[11]) + int(rest[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            return None


def ours_node(tmp, name, client_port, peer_port, join=(), extra=(), env=None):
    """bin/etcd-node with etcd 0.1 flags; join = other members' peer addresses (-C)."""
    data = os.path.join(tmp, name)
    argv = [os.path.join(ROOT, "bin", "etcd-node"), "-n", name, "-d", data,
            "-c", f"{HOST}:{client_port}", "-s", f"{HOST}:{peer_port}"]
    if join:
        argv += ["-C", ",".join(join)]
    argv += list(extra)
    return Server(OURS, name, data, client_port, peer_port, os.path.join(tmp, name + ".log"), argv, env)


def etcd_node(tmp, name, client_port, peer_port, cluster, extra=()):
    """etcd 3.4 with the v2 API; cluster = {name: peer_port} of every member."""
    data = os.path.join(tmp, name)
    initial = ",".join(f"{n}=http://{HOST}:{p}" for n, p in cluster.items())
    argv = ["etcd", "--name", name, "--data-dir", data,
            "--listen-client-urls", f"http://{HOST}:{client_port}",
            "--advertise-client-urls", f"http://{HOST}:{client_port}",
            "--listen-peer-urls", f"http://{HOST}:{peer_port}",
            "--initial-advertise-peer-urls", f"http://{HOST}:{peer_port}",
            "--initial-cluster", initial, "--initial-cluster-state", "new",
            "--initial-cluster-token", "etcdjvm-bench", "--enable-v2=true",
            "--logger=zap", "--log-level=error"] + list(extra)
    return Server(ETCD, name, data, client_port, peer_port, os.path.join(tmp, name + ".log"), argv)


def cluster(kind, tmp, n, extra=(), env=None):
    """n servers of one kind, not started. etcdjvm: every member with -C naming the others (a new
    cluster formed by members started together); etcd: a static initial cluster."""
    ports = free_ports(2 * n)
    names = [f"node{i}" for i in range(n)]
    if kind == OURS:
        peers = [f"{HOST}:{ports[2 * i + 1]}" for i in range(n)]
        return [ours_node(tmp, names[i], ports[2 * i], ports[2 * i + 1],
                          join=[p for j, p in enumerate(peers) if j != i] if n > 1 else (), extra=extra, env=env)
                for i in range(n)]
    members = {names[i]: ports[2 * i + 1] for i in range(n)}
    return [etcd_node(tmp, names[i], ports[2 * i], ports[2 * i + 1], members, extra=extra) for i in range(n)]


def stop_all():
    for s in list(_live):
        try:
            s.stop(timeout=10)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(stop_all)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, lambda signum, frame: sys.exit(128 + signum))


def request(method, port, path, body=None, timeout=2.0, conn=None):
    """One request; (status, body text); (0, error text) on a transport failure."""
    own = conn is None
    c = conn or http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as e:
        if not own:
            c.close()
        return 0, str(e)
    finally:
        if own:
            c.close()


def write(server, key, value, timeout=2.0, conn=None):
    """PUT key=value through this server, not following redirects: True when it was acknowledged."""
    status, _ = request("PUT", server.client, f"{server.prefix}/{key.lstrip('/')}",
                        body=f"value={value}", timeout=timeout, conn=conn)
    return status in (200, 201)


def wait_writable(server, timeout=60.0, key="bench-ready"):
    """Until a write through this server is acknowledged; seconds waited. Fails loudly."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not server.alive():
            sys.exit(f"{server.kind} {server.name} exited; see {server.log_path}")
        if write(server, key, "1", timeout=1.0):
            return time.monotonic() - start
        time.sleep(0.01)
    sys.exit(f"{server.kind} {server.name}: no acknowledged write in {timeout} s; see {server.log_path}")


def is_leader(server):
    """etcdjvm: /v1/stats/self; etcd: /v2/stats/self."""
    path = "/v1/stats/self" if server.kind == OURS else "/v2/stats/self"
    status, body = request("GET", server.client, path, timeout=0.5)
    if status != 200:
        return False
    try:
        return json.loads(body).get("state") in ("leader", "StateLeader")
    except ValueError:
        return False


def await_leader(servers, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for s in servers:
            if s.alive() and is_leader(s):
                return s
        time.sleep(0.02)
    sys.exit("no leader in %.0f s" % timeout)


def wrk(server, case, conns, seconds, key="bench/key", threads=None, env=None, timeout_s=5):
    """wrk with benchmarks/wrk/<case>.lua (get, put, put_distinct) against one server; the parsed
    BENCH_RESULT as a dict (rps, p50_ms, p99_ms, max_ms, non_2xx, ...). Exits on a failed run."""
    ensure_tool("wrk", "wrk")
    threads = threads or max(1, min(conns, 2))
    url = f"{server.url}{server.prefix}/{key}"
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", f"{timeout_s}s",
           "--latency", "-s", os.path.join(HERE, "wrk", f"{case}.lua"), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                         env=dict(os.environ, **(env or {})), cwd=os.path.join(HERE, "wrk"))
    result = result_fields(out.stdout)
    if result is None:
        sys.exit(f"wrk printed no BENCH_RESULT for {case} on {server.kind}:\n{out.stdout}\n{out.stderr}")
    return result


def result_fields(text, tag="BENCH_RESULT", numbers=True):
    """The key=value fields of the first line of text that starts with tag (wrk/common.lua prints
    "BENCH_RESULT rps=.. p99_ms=.. codes=.."): a dict, values as floats where they parse when
    numbers; None without such a line."""
    for line in text.splitlines():
        if line.startswith(tag + " "):
            fields = {}
            for part in line.split()[1:]:
                k, _, v = part.partition("=")
                if numbers:
                    try:
                        v = float(v)
                    except ValueError:
                        pass
                fields[k] = v
            return fields
    return None


def heap_used_bytes(server):
    """etcdjvm: heap in use after a full GC (jcmd GC.run, then GC.heap_info); etcd: the Go heap in
    use (go_memstats_heap_inuse_bytes on /metrics). None when it cannot be read."""
    if server.kind == OURS:
        jcmd = _jcmd_for(server.pid)
        if not jcmd:
            return None
        subprocess.run([jcmd, str(server.pid), "GC.run"], capture_output=True, timeout=60)
        out = subprocess.run([jcmd, str(server.pid), "GC.heap_info"], capture_output=True, text=True,
                             timeout=60).stdout
        # JDK 17: "garbage-first heap   total 262144K, used 21349K"; JDK 25: "... total reserved
        # 1048576K, committed 262144K, used 21349K"
        m = re.search(r"heap\s+total.*?used (\d+)K", out)
        return int(m.group(1)) * 1024 if m else None
    status, body = request("GET", server.client, "/metrics", timeout=5)
    m = re.search(r"^go_memstats_heap_inuse_bytes (\S+)$", body, re.M) if status == 200 else None
    return int(float(m.group(1))) if m else None


def _jcmd_for(pid):
    """The jcmd of the JDK that runs pid (bin/etcd-node may pick JDK 25 over the default 17)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return shutil.which("jcmd")
    candidate = os.path.join(os.path.dirname(exe), "jcmd")
    return candidate if os.path.exists(candidate) else shutil.which("jcmd")


def dir_bytes(path):
    total = 0
    for base, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(base, f))
            except OSError:
                pass
    return total


class Csv:
    """Appends rows curve,x,series,metric,value,unit to a file (header when new); also prints them."""

    FIELDS = ["curve", "x", "series", "metric", "value", "unit"]

    def __init__(self, path):
        self.path = path

    def row(self, curve, x, series, metric, value, unit=""):
        if value is None:
            return
        if isinstance(value, float):
            value = round(value, 4)
        print(f"ROW {curve},{x},{series},{metric},{value},{unit}", flush=True)
        if not self.path:
            return
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(self.FIELDS)
            w.writerow([curve, x, series, metric, value, unit])


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def machine_busy_seconds():
    """Busy CPU seconds of the whole machine (user nice system irq softirq steal) since boot."""
    with open("/proc/stat") as f:
        a = f.readline().split()
    return (int(a[1]) + int(a[2]) + int(a[3]) + int(a[6]) + int(a[7]) + int(a[8])) / CLK_TCK


def session_cpu_seconds(sid=None):
    """CPU seconds of this session's live processes, with what their waited-for children used
    (utime+stime+cutime+cstime): what the benchmark itself and its servers have used."""
    sid = sid if sid is not None else os.getsid(0)
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[3]) != sid:  # field 6: session
            continue
        total += int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    return total / CLK_TCK
