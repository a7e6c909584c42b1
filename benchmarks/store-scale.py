#!/usr/bin/env python3
"""Store-size scaling (issue 13): how etcdjvm and etcd 3.4 behave as one node's store grows from
10 000 to 100 000 to 1 000 000 keys of 100-byte values.

One single-node server of each kind (etcdjvm: bin/etcd-node, v1 API; etcd 3.4: v2 API), each with
its default settings, both started once on empty data directories and grown step by step to each
size of --sizes. Within a step, etcdjvm is measured, then etcd, then both are restarted; so both are
measured at each size within a minute or two of each other while the machine's other work drifts
(the server not being measured sits idle), and etcdjvm's snapshot has been completed by Atomix
before its restart (see below). At each step, for each server:

  load      keys fill/<n> (n = previous size + 1 .. size) are PUT exactly once, as fast as the
            server takes them: wrk, --load-conns (64) connections, 2 threads with disjoint key
            ranges (benchmarks/wrk/put_fill.lua), stopped when every key has been answered.
            -> load_keys_per_s, load_p99_ms, load_max_ms, load_failed_puts, load_rss_peak_bytes
  snapshot  the server is made to snapshot its <size>-key store now, and the snapshot is timed:
              etcd 3.4 (a snapshot every --snapshot-count = 100 000 applied entries, the default):
                fill/1 is overwritten at --load-conns connections until its log (info level) says
                "triggering snapshot", then the writes stop; time = "triggering snapshot" ->
                "saved snapshot" (zap timestamps): v2 store cloned, serialised, written, synced.
              etcdjvm (Atomix snapshots on a 10 s schedule once a whole 16 MB log segment lies
                below the applied index): two segments' worth of failing test-and-sets with
                256 KiB values (Raft entries that change neither the store nor its watch history),
                then nothing is written until Atomix's "Snapshotting services" (debug level for
                two Atomix loggers, through ETCD_NODE_JAVA_OPTS); time = that line -> the last
                write to the new <data>/raft/etcd-<index>.snapshot file (Atomix logs nothing when
                it has written it; the file is unchanged for 1 s). The state machine applies
                nothing until "Created disk snapshot" (the store serialised in memory); the file is
                written after it on a thread of its own (BackgroundSnapshotStore).
            -> snapshot_ms, snapshot_bytes (etcd: the .snap file; etcdjvm: the serialised store,
               from our header in the file), etcd: snapshot_overwrites (writes until it triggered),
               etcdjvm: snapshot_serialize_ms (-> "Created disk snapshot": serialised in memory;
               the time no entry is applied),
               snapshot_complete_ms (-> Atomix's "Completing snapshot": a restart before this
               deletes the snapshot as partial and replays the log since the previous one)
  memory    right after the snapshot (none is in progress then): heap in use after a full GC
            (etcdjvm: jcmd GC.run + GC.heap_info; etcd: HeapInuse from /debug/pprof/heap?gc=1,
            which runs a GC first; etcd runs with --enable-pprof) and RSS, minus the empty
            server's, divided by the keys. -> heap_bytes_per_key, rss_bytes_per_key (and the
            totals heap_bytes, rss_bytes; x=0: empty_heap_bytes, empty_rss_bytes, empty_data_dir_bytes)
  GET/PUT   wrk at 16 connections for --seconds each: GET fill/<size/2>, PUT (overwrite) fill/1
            with a 100-byte value. -> get_rps, get_p99_ms, put_rps, put_p99_ms
  restart   (after both servers' steps) a last write (fill/<size> = a new 100-byte value); the
            data directory's bytes (apparent sizes, preallocated log segments / WAL files and kept
            snapshots included) minus the empty server's, per key; SIGTERM, wait for the exit;
            start on the same data directory (etcdjvm: after an untimed bin/etcd-node --prepare, so
            that no build is timed) and time until GET fill/<size> answers 200 with that value,
            and until the server's log says it is ready (etcdjvm: "etcd node ... ready in N ms";
            etcd: "serving client traffic").
            -> data_dir_bytes, data_bytes_per_key, stop_ms, restart_to_ready_ms,
               restart_log_ready_ms, etcdjvm: restart_node_ready_ms (the N of its ready line)

  benchmarks/store-scale.py [--sizes 10000,100000,1000000] [--seconds 5] [--load-conns 64]
                            [--snapshot-timeout 90] [--no-etcd] [--csv FILE] [--keep]

Rows: curve=store-size, x=keys, series etcdjvm | etcd-3.4 (units keys/s, bytes, req/s, ms, count).
A summary table goes to stdout, progress to stderr. The default run takes about 7 minutes on a quiet
2-core machine, most of it the 1.1 M PUTs of each server's load. Any failure (a failed PUT, a server
exiting, no snapshot within --snapshot-timeout, a wrong value after the restart) is printed and
makes the exit code 1; the run goes on where it can. Needs wrk and etcd (Debian wrk, etcd-server:
installed when missing, as root). --keep keeps the data directories and the servers' logs.
"""
import argparse
import atexit
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

CURVE = "store-size"
PREFIX = "fill"
CONNS = 16
VALUE = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2)[:100]
# Atomix's own snapshot lines (debug level; bin/etcd-node keeps Atomix at warn otherwise)
# (the snapshot store's lines are logged under its class: ours, BackgroundSnapshotStore, since 2026-12-01)
OURS_DEBUG = ("-Dorg.slf4j.simpleLogger.log.io.atomix.protocols.raft.impl.RaftServiceManager=debug "
              "-Dorg.slf4j.simpleLogger.log.io.atomix.protocols.raft.storage.snapshot.SnapshotStore=debug "
              "-Dorg.slf4j.simpleLogger.log.org.etcdjvm.embedded.internal.raft.atomix.BackgroundSnapshotStore=debug")
OURS_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) ")

_wrks = []
failures = []


def fail(msg):
    """A finding that makes the run fail at the end (the run goes on where it can)."""
    failures.append(msg)
    b.log("FAILURE: " + msg)


def marker_value(tag):
    return (tag + "-" + VALUE)[:100]


class LogTail:
    """New complete lines of a server's log since the last call (or since it was made)."""

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0
        self.rest = b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
                self.offset += len(data)
        except OSError:
            return []
        parts = (self.rest + data).split(b"\n")
        self.rest = parts.pop()
        return [p.decode("utf-8", "replace") for p in parts]


def ours_epoch(line, near):
    """Wall-clock seconds of an etcdjvm log line (HH:mm:ss.SSS, local time) near the time `near`."""
    m = OURS_TIME.match(line)
    if not m:
        return None
    h, mi, s, ms = (int(x) for x in m.groups())
    base = datetime.datetime.fromtimestamp(near)
    t = base.replace(hour=h, minute=mi, second=s, microsecond=ms * 1000)
    best = min((t + datetime.timedelta(days=d) for d in (-1, 0, 1)), key=lambda x: abs(x.timestamp() - near))
    return best.timestamp()


def etcd_entry(line):
    try:
        e = json.loads(line)
    except ValueError:
        return None
    if not isinstance(e, dict) or "msg" not in e:
        return None
    try:
        e["_t"] = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError, AttributeError):
        e["_t"] = None
    return e


def kill_wrks():
    for p in _wrks:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except OSError:
                pass


def start_wrk(server, script, key, conns, seconds, env, out_path, err_path, threads=2):
    b.ensure_tool("wrk", "wrk")
    url = f"{server.url}{server.prefix}/{key}"
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{int(seconds)}s", "--timeout", "10s",
           "--latency", "-s", os.path.join(b.HERE, "wrk", script), url]
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=os.path.join(b.HERE, "wrk"),
                             env=dict(os.environ, **env))
    _wrks.append(p)
    return p


def stop_wrk(p, timeout=30):
    """SIGINT: wrk stops its threads and prints its summary."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def bench_result(out_path):
    with open(out_path) as f:
        text = f.read()
    res = b.result_fields(text) or {}
    m = re.search(r"FILL_RESULT ok=(\d+) failed=(\d+)", text)
    if m:
        res["fill_ok"], res["fill_failed"] = int(m.group(1)), int(m.group(2))
    return res, text


def load(server, first, last, conns, tmp):
    """PUT fill/first..fill/last exactly once at `conns` connections. A dict: rate (keys/s), failed
    (PUTs not acknowledged), p99_ms / max_ms (wrk's latencies), rss_peak (sampled every 0.5 s);
    None when the load did not finish."""
    n = last - first + 1
    out, err = os.path.join(tmp, "fill.out"), os.path.join(tmp, "fill.err")
    deadline_s = 60 + n / 1000.0  # below 1 000 keys/s something is wrong
    env = {"FILL_FROM": str(first), "FILL_TO": str(last), "FILL_THREADS": "2", "BENCH_VALUE": VALUE,
           "FILL_IDLE_PATH": f"{server.prefix}/bench-ready"}
    t0 = time.monotonic()
    p = start_wrk(server, "put_fill.lua", PREFIX, conns, deadline_s + 30, env, out, err)
    done_at = None
    rss_peak, sampled = 0, 0.0
    while time.monotonic() - t0 < deadline_s:
        with open(err) as f:
            if f.read().count("FILL_DONE") >= 2:
                done_at = time.monotonic()
                break
        if p.poll() is not None or not server.alive():
            break
        if time.monotonic() - sampled >= 0.5:
            rss_peak, sampled = max(rss_peak, server.rss_bytes() or 0), time.monotonic()
        time.sleep(0.02)
    stop_wrk(p)
    res, text = bench_result(out)
    if not server.alive():
        fail(f"{server.kind} exited during the load of fill/{first}..{last}; see {server.log_path}")
        return None
    if done_at is None:
        fail(f"{server.kind}: the load of fill/{first}..{last} did not finish in {deadline_s:.0f} s "
             f"(wrk: {text.strip()[-400:]})")
        return None
    failed = res.get("fill_failed", 0)
    if failed or res.get("err_timeout", 0) or res.get("err_read", 0) or res.get("err_connect", 0):
        fail(f"{server.kind}: {failed} PUTs failed during the load of fill/{first}..{last} "
             f"(codes {res.get('codes')}, timeouts {res.get('err_timeout')}, read errors {res.get('err_read')})")
    return {"rate": n / (done_at - t0), "failed": failed, "p99_ms": res.get("p99_ms"), "max_ms": res.get("max_ms"),
            "rss_peak": max(rss_peak, server.rss_bytes() or 0)}


def etcd_heap_after_gc(server):
    """Go's HeapInuse right after a GC (pprof's heap profile with gc=1 runs one first)."""
    status, body = b.request("GET", server.client, "/debug/pprof/heap?gc=1&debug=1", timeout=60)
    m = re.search(r"^# HeapInuse = (\d+)$", body, re.M) if status == 200 else None
    return int(m.group(1)) if m else b.heap_used_bytes(server)


def memory(server):
    heap = b.heap_used_bytes(server) if server.kind == b.OURS else etcd_heap_after_gc(server)
    return {"heap": heap, "rss": server.rss_bytes(), "disk": b.dir_bytes(server.dir)}


def newest_snapshot_file(server, index=None):
    """etcdjvm: <data>/raft/etcd-<index>.snapshot; etcd: <data>/member/snap/<term>-<index hex>.snap."""
    if server.kind == b.OURS:
        d = os.path.join(server.dir, "raft")
        pat = re.compile(r".*-(\d+)\.snapshot$")
        conv = int
    else:
        d = os.path.join(server.dir, "member", "snap")
        pat = re.compile(r"[0-9a-f]+-([0-9a-f]+)\.snap$")
        conv = lambda s: int(s, 16)  # noqa: E731
    best = None
    try:
        names = os.listdir(d)
    except OSError:
        return None
    for name in names:
        m = pat.match(name)
        if not m:
            continue
        i = conv(m.group(1))
        if index is not None and i != index:
            continue
        if best is None or i > best[0]:
            best = (i, os.path.join(d, name))
    return best[1] if best else None


BIG_VALUE = "x" * (256 * 1024)
BIG_TOTAL = 36 * 1024 * 1024  # more than two 16 MB log segments


def trigger_ours(server, tail, timeout):
    """etcdjvm: Atomix snapshots on a 10 s schedule, and only once a whole log segment (16 MB) lies
    below the applied index and past the last snapshot. Fill two segments quickly with failing
    test-and-sets carrying 256 KiB values (each is a Raft entry, and none changes the store or its
    watch history: a successful write's 256 KiB would be in the snapshot's last 1000 events), then
    wait, writing nothing, for the snapshot to start. (start epoch or None, None, writes)."""
    conn = None
    writes = 0
    body = "value=" + BIG_VALUE + "&prevValue=never"
    for _ in range(BIG_TOTAL // len(BIG_VALUE) + 1):
        if conn is None:
            conn = http.client.HTTPConnection(b.HOST, server.client, timeout=30)
        status, answer = b.request("PUT", server.client, f"{server.prefix}/snapshot-trigger", body=body,
                                   timeout=30, conn=conn)
        if status == 0:
            conn = None
        if status != 400 or '"errorCode":10' not in answer:  # 100 key not found / 101 test failed
            fail(f"{server.kind}: a failing 256 KiB test-and-set (to make it snapshot) answered {status}: "
                 f"{answer[:200]}")
            return None, None, writes
        writes += 1
    if conn is not None:
        conn.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.alive():
        for line in tail.lines():
            if "RaftServiceManager" in line and "Snapshotting services" in line:
                return ours_epoch(line, time.time()), None, writes
        time.sleep(0.02)
    return None, None, writes


def trigger_etcd(server, tail, timeout, conns, tmp):
    """etcd 3.4: a snapshot every --snapshot-count (100 000) applied entries: overwrite fill/1 at
    `conns` connections until the log says "triggering snapshot", then stop writing (the writes
    in flight, and those of the <= 20 ms until the line is seen, still land)."""
    out, err = os.path.join(tmp, "snap.out"), os.path.join(tmp, "snap.err")
    t0 = time.monotonic()
    p = start_wrk(server, "put.lua", f"{PREFIX}/1", conns, timeout + 30, {"BENCH_VALUE": VALUE}, out, err)
    start = index = None
    while time.monotonic() - t0 < timeout and server.alive() and p.poll() is None and start is None:
        for line in tail.lines():
            e = etcd_entry(line)
            if e and e["msg"] == "triggering snapshot":
                start, index = e["_t"], e.get("local-member-applied-index")
                break
        else:
            time.sleep(0.02)
    stop_wrk(p)
    res, _ = bench_result(out)
    if res.get("non_2xx", 0) or res.get("err_timeout", 0):
        fail(f"{server.kind}: {res.get('non_2xx')} non-2xx answers / {res.get('err_timeout')} timeouts while "
             f"overwriting a key for a snapshot (codes {res.get('codes')})")
    return start, index, int(res.get("requests", 0))


def snapshot(server, timeout, conns, tmp):
    """Makes the server snapshot its store now and times that snapshot from its log (and, for
    etcdjvm, its snapshot file). A dict, or None (a failure has been recorded)."""
    tail = LogTail(server.log_path)
    t0 = time.monotonic()
    if server.kind == b.OURS:
        start, index, writes = trigger_ours(server, tail, timeout)
    else:
        start, index, writes = trigger_etcd(server, tail, timeout, conns, tmp)
    waited = time.monotonic() - t0
    if not server.alive():
        fail(f"{server.kind} exited while made to snapshot; see {server.log_path}")
        return None
    if start is None:
        fail(f"{server.kind}: no snapshot started within {timeout:.0f} s ({writes} writes; see {server.log_path})")
        return None
    result = {"writes": writes, "waited_s": waited, "start": start}
    deadline = time.monotonic() + timeout
    path = serialized = None
    if server.kind == b.ETCD:
        while time.monotonic() < deadline and server.alive():
            for line in tail.lines():
                e = etcd_entry(line)
                if e and e["msg"] == "saved snapshot":
                    result["ms"] = (e["_t"] - start) * 1000
                    index = e.get("snapshot-index", index)
            if "ms" in result:
                break
            time.sleep(0.02)
        path = newest_snapshot_file(server, index)
    else:
        # the index from "Created memory snapshot: MemorySnapshot{index=N}"; the serialised store
        # goes to disk after "Created disk snapshot"; the file's last write (unchanged for 1 s) is the end
        last_change, sig = None, None
        while time.monotonic() < deadline and server.alive():
            for line in tail.lines():
                m = re.search(r"Created (memory|disk) snapshot: \w+\{index=(\d+)", line)
                if m:
                    index = int(m.group(2))
                    if m.group(1) == "disk":
                        serialized = ours_epoch(line, time.time())
            if serialized is not None:
                path = path or newest_snapshot_file(server, index)
                try:
                    st = os.stat(path) if path else None
                except OSError:
                    st = None
                if st is not None:
                    now_sig = (st.st_size, st.st_mtime_ns)
                    if now_sig != sig:
                        sig, last_change = now_sig, time.monotonic()
                    elif time.monotonic() - last_change >= 1.0:
                        result["ms"] = (st.st_mtime_ns / 1e9 - start) * 1000
                        result["serialize_ms"] = (serialized - start) * 1000
                        break
            time.sleep(0.02)
    if "ms" not in result:
        fail(f"{server.kind}: a snapshot started (index {index}) but did not end within {timeout:.0f} s; "
             f"see {server.log_path}")
        return None
    result["file_bytes"] = snapshot_bytes(server, path)
    result["index"] = index
    return result


def snapshot_bytes(server, path):
    """etcd: the .snap file's size. etcdjvm: the length of the serialised store in the snapshot
    file (from our part's length; Atomix's file is sized in powers of two)."""
    if not path:
        return None
    try:
        if server.kind == b.ETCD:
            return os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(64 * 1024)
        i = head.find(b"ESN2")  # magic, the store's bytes, their length and CRC32 (since 2026-12-01)
        if i >= 0:
            # after the 64-byte descriptor: the length of all services, then of ours (Atomix's ints)
            end = 72 + int.from_bytes(head[68:72], "big")
            with open(path, "rb") as f:
                f.seek(end - 8)
                length = int.from_bytes(f.read(4), "big")
            return length if length == end - i - 12 else None
        i = head.find(b"ESN1")  # magic, length, CRC32, the store's bytes
        return int.from_bytes(head[i + 4:i + 8], "big") if i >= 0 else None
    except OSError:
        return None


def await_ours_completion(server, snap, timeout):
    """etcdjvm: Atomix completes a snapshot 10 s or more after taking it, and drops the log before
    it at once or 10 s later still (when busy); a restart before completion deletes the snapshot as
    partial and replays the log since the previous one. Waits (at most `timeout` s from the
    snapshot's start) for "Completing snapshot <index>" and then "Compacting logs up to index
    <index>"; (completed ms, compacted ms) after the start, None for what did not come."""
    done = {"Completing snapshot %d" % snap["index"]: None, "Compacting logs up to index %d" % snap["index"]: None}
    while True:
        with open(server.log_path, errors="replace") as f:
            for line in f:
                for what in done:
                    if done[what] is None and line.rstrip().endswith(what):
                        done[what] = (ours_epoch(line, time.time()) - snap["start"]) * 1000
        if all(v is not None for v in done.values()) or time.time() - snap["start"] > timeout or not server.alive():
            return tuple(done.values())
        time.sleep(0.1)


def get_value(server, key, timeout=2.0):
    """(status, the key's value or None)."""
    status, body = b.request("GET", server.client, f"{server.prefix}/{key}", timeout=timeout)
    if status != 200:
        return status, None
    try:
        d = json.loads(body)
    except ValueError:
        return status, None
    return status, (d.get("node", {}).get("value") if server.kind == b.ETCD else d.get("value"))


READY_OURS = re.compile(r"etcd node \S+ ready in (\d+) ms")
READY_ETCD = ("serving client traffic insecurely; this is strongly discouraged!", "ready to serve client requests")


def restart(server, key, value, timeout=180.0):
    """SIGTERM, wait for the exit, start again on the same data directory. (stop ms, launch -> GET
    of key answers value ms, launch -> the log's ready line ms, the node's own "ready in" ms)."""
    t0 = time.monotonic()
    server.signal(signal.SIGTERM)
    try:
        server.proc.wait(60)
    except subprocess.TimeoutExpired:
        fail(f"{server.kind} did not exit within 60 s of SIGTERM; killed")
        server.kill()
    stop_ms = (time.monotonic() - t0) * 1000
    tail = LogTail(server.log_path)
    launch_wall = time.time()
    server.start()
    t1 = time.monotonic()
    ready_ms = log_ms = own_ms = None
    last = None

    def scan():
        nonlocal log_ms, own_ms
        for line in tail.lines():
            if log_ms is not None:
                continue
            if server.kind == b.OURS:
                m = READY_OURS.search(line)
                if m:
                    log_ms = (ours_epoch(line, time.time()) - launch_wall) * 1000
                    own_ms = int(m.group(1))
            else:
                e = etcd_entry(line)
                if e and e["msg"] in READY_ETCD and e["_t"]:
                    log_ms = (e["_t"] - launch_wall) * 1000

    while time.monotonic() - t1 < timeout:
        if not server.alive():
            fail(f"{server.kind} exited while restarting on its data directory; see {server.log_path}")
            return stop_ms, None, None, None
        scan()
        status, got = get_value(server, key, timeout=1.0)
        if status == 200:
            if got == value:
                ready_ms = (time.monotonic() - t1) * 1000
                break
            fail(f"{server.kind} answered GET {key} after the restart with {got!r}, not the last value written")
            break
        last = status
        time.sleep(0.01)
    if ready_ms is None and last is not None:
        fail(f"{server.kind}: GET {key} did not answer 200 within {timeout:.0f} s of the restart (last {last})")
    deadline = time.monotonic() + 5
    while log_ms is None and time.monotonic() < deadline:  # the ready line may follow the first good GET
        scan()
        time.sleep(0.02)
    return stop_ms, ready_ms, log_ms, own_ms


def prepare_ours():
    """bin/etcd-node --prepare, untimed: a launch must not include a build or an AOT cache's
    training (they run when the module's sources changed since the last build)."""
    r = subprocess.run([os.path.join(b.ROOT, "bin", "etcd-node"), "--prepare"], capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0:
        sys.exit(f"bin/etcd-node --prepare failed:\n{r.stdout}{r.stderr}")


def grow(s, prev, size, a, base, out, tmp):
    """One server's step to `size` keys, up to the restart; a row of the summary table."""
    row = {"keys": size}
    b.log(f"{s.kind}: loading fill/{prev + 1}..fill/{size}")
    ld = load(s, prev + 1, size, a.load_conns, tmp)
    if ld:
        row["load"] = ld["rate"]
        out.row(CURVE, size, s.kind, "load_keys_per_s", ld["rate"], "keys/s")
        out.row(CURVE, size, s.kind, "load_failed_puts", ld["failed"], "count")
        out.row(CURVE, size, s.kind, "load_p99_ms", ld["p99_ms"], "ms")
        out.row(CURVE, size, s.kind, "load_max_ms", ld["max_ms"], "ms")
        out.row(CURVE, size, s.kind, "load_rss_peak_bytes", ld["rss_peak"], "bytes")
    if not s.alive():
        return row

    b.log(f"{s.kind}: making it snapshot {size} keys")
    snap = snapshot(s, a.snapshot_timeout, a.load_conns, tmp)
    row["snapshot"] = snap
    if snap:
        row["snap"] = snap["ms"]
        out.row(CURVE, size, s.kind, "snapshot_ms", snap["ms"], "ms")
        out.row(CURVE, size, s.kind, "snapshot_serialize_ms", snap.get("serialize_ms"), "ms")
        out.row(CURVE, size, s.kind, "snapshot_bytes", snap["file_bytes"], "bytes")
        if s.kind == b.ETCD:
            out.row(CURVE, size, s.kind, "snapshot_overwrites", snap["writes"], "count")
        b.log(f"{s.kind}: snapshot at index {snap['index']}: {snap['ms']:.0f} ms, "
              f"{snap['waited_s']:.1f} s and {snap['writes']} writes after the trigger began")
    if not s.alive():
        return row

    # after the snapshot: none is in progress (etcdjvm takes its next one only after completing
    # this one, 10 s or more later), so no snapshot buffer is counted as live heap
    time.sleep(0.5)
    heap = b.heap_used_bytes(s) if s.kind == b.OURS else etcd_heap_after_gc(s)
    rss = s.rss_bytes()
    for metric, total in (("heap", heap), ("rss", rss)):
        out.row(CURVE, size, s.kind, f"{metric}_bytes", total, "bytes")
        if total is not None and base[s.kind][metric] is not None:
            row[metric] = (total - base[s.kind][metric]) / size
            out.row(CURVE, size, s.kind, f"{metric}_bytes_per_key", row[metric], "bytes")

    for case, key in (("get", f"{PREFIX}/{max(1, size // 2)}"), ("put", f"{PREFIX}/1")):
        r = b.wrk(s, case, CONNS, a.seconds, key=key, env={"BENCH_VALUE": VALUE}, timeout_s=10)
        if r.get("non_2xx", 0) or r.get("err_timeout", 0) or r.get("err_read", 0):
            fail(f"{s.kind} {case.upper()} at {size} keys: {r.get('non_2xx')} non-2xx "
                 f"(codes {r.get('codes')}), {r.get('err_timeout')} timeouts")
        out.row(CURVE, size, s.kind, f"{case}_rps", r["rps"], "req/s")
        out.row(CURVE, size, s.kind, f"{case}_p99_ms", r["p99_ms"], "ms")
        row[case] = (r["rps"], r["p99_ms"])
    return row


def restart_step(s, size, row, a, base, out):
    if s.kind == b.OURS and row.get("snapshot"):
        done, compacted = await_ours_completion(s, row["snapshot"], a.snapshot_timeout)
        out.row(CURVE, size, s.kind, "snapshot_complete_ms", done, "ms")
        if done is None:
            b.log(f"{s.kind}: Atomix has not completed the snapshot {a.snapshot_timeout:.0f} s after taking it: "
                  "the restart will replay the log since the previous one")
        else:
            b.log(f"{s.kind}: Atomix completed the snapshot {done / 1000:.1f} s after its start, dropped the log "
                  + (f"before it after {compacted / 1000:.1f} s" if compacted is not None else "not yet"))
    last_key, value = f"{PREFIX}/{size}", marker_value(f"last-{size}-{time.time_ns()}")
    if not b.write(s, last_key, value, timeout=10):
        fail(f"{s.kind}: the last write before the restart was not acknowledged")
    # the data directory as the restart finds it (etcdjvm: its snapshot completed, the log before it dropped)
    disk = b.dir_bytes(s.dir)
    out.row(CURVE, size, s.kind, "data_dir_bytes", disk, "bytes")
    row["data_dir"] = (disk - base[s.kind]["disk"]) / size
    out.row(CURVE, size, s.kind, "data_bytes_per_key", row["data_dir"], "bytes")
    if s.kind == b.OURS:
        prepare_ours()
    b.log(f"{s.kind}: restart on {size} keys")
    stop_ms, ready_ms, log_ms, own_ms = restart(s, last_key, value)
    out.row(CURVE, size, s.kind, "stop_ms", stop_ms, "ms")
    out.row(CURVE, size, s.kind, "restart_to_ready_ms", ready_ms, "ms")
    out.row(CURVE, size, s.kind, "restart_log_ready_ms", log_ms, "ms")
    out.row(CURVE, size, s.kind, "restart_node_ready_ms", own_ms, "ms")
    row["restart"], row["log_ready"] = ready_ms, log_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="store sizes in keys, increasing")
    ap.add_argument("--seconds", type=int, default=5, help="GET and PUT measurement, each (default 5)")
    ap.add_argument("--load-conns", type=int, default=64, help="connections of the load and of etcd's snapshot trigger")
    ap.add_argument("--snapshot-timeout", type=float, default=90.0,
                    help="seconds to wait for a snapshot to start, and then for it to end")
    ap.add_argument("--no-etcd", action="store_true")
    ap.add_argument("--csv")
    ap.add_argument("--keep", action="store_true", help="keep the data directories and logs (printed)")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    if any(x <= 0 for x in sizes) or sizes != sorted(set(sizes)):
        sys.exit("--sizes must be increasing positive numbers")
    out = b.Csv(a.csv)
    b.ensure_tool("wrk", "wrk")
    if not a.no_etcd:
        b.ensure_tool("etcd", "etcd-server")
    prepare_ours()
    tmp = tempfile.mkdtemp(prefix="etcdjvm-store-")

    def cleanup():
        kill_wrks()
        b.stop_all()
        if a.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(cleanup)
    signal.signal(signal.SIGINT, lambda signum, frame: sys.exit(130))

    servers = []
    c, p = b.free_ports(2)
    opts = (os.environ.get("ETCD_NODE_JAVA_OPTS", "") + " " + OURS_DEBUG).strip()
    servers.append(b.ours_node(tmp, "store", c, p, env={"ETCD_NODE_JAVA_OPTS": opts}))
    if not a.no_etcd:
        c2, p2 = b.free_ports(2, avoid=(c, p))
        servers.append(b.etcd_node(tmp, "store-etcd", c2, p2, {"store-etcd": p2},
                                   extra=["--log-level=info", "--enable-pprof"]))
    base = {}
    for s in servers:
        s.start()
        b.wait_writable(s)
        b.await_leader([s])
        time.sleep(1)
        base[s.kind] = memory(s)
        b.log(f"{s.kind} empty: heap {base[s.kind]['heap']} B, RSS {base[s.kind]['rss']} B, "
              f"data dir {base[s.kind]['disk']} B")
        out.row(CURVE, 0, s.kind, "empty_heap_bytes", base[s.kind]["heap"], "bytes")
        out.row(CURVE, 0, s.kind, "empty_rss_bytes", base[s.kind]["rss"], "bytes")
        out.row(CURVE, 0, s.kind, "empty_data_dir_bytes", base[s.kind]["disk"], "bytes")

    table = {s.kind: [] for s in servers}
    prev = 0
    for size in sizes:
        rows = {}
        for s in servers:
            if s.alive():
                rows[s.kind] = grow(s, prev, size, a, base, out, tmp)
            else:
                fail(f"{s.kind} is not running at the start of the {size}-key step; see {s.log_path}")
        # restarts after both servers' measurements: etcdjvm's snapshot has meanwhile been completed
        for s in servers:
            if s.kind in rows and s.alive():
                restart_step(s, size, rows[s.kind], a, base, out)
            if s.kind in rows:
                table[s.kind].append(rows[s.kind])
        prev = size

    def f(v, fmt="{:.0f}"):
        return "-" if v is None else fmt.format(v)

    print()
    print("Store size, one node, 100-byte values (per key: minus the empty server's, divided by the keys)")
    print(f"{'server':9} {'keys':>8} {'load k/s':>8} {'heap B/k':>8} {'RSS B/k':>8} {'disk B/k':>8} "
          f"{'GET rps':>8} {'GET p99':>8} {'PUT rps':>8} {'PUT p99':>8} {'snap ms':>8} "
          f"{'restart':>8} {'log rdy':>8}")
    for kind, rows in table.items():
        for r in rows:
            g, p_ = r.get("get", (None, None)), r.get("put", (None, None))
            print(f"{kind:9} {r['keys']:>8} {f(r.get('load') and r['load'] / 1000, '{:.1f}'):>8} "
                  f"{f(r.get('heap')):>8} {f(r.get('rss')):>8} {f(r.get('data_dir')):>8} "
                  f"{f(g[0]):>8} {f(g[1], '{:.1f}'):>8} {f(p_[0]):>8} {f(p_[1], '{:.1f}'):>8} "
                  f"{f(r.get('snap')):>8} {f(r.get('restart')):>8} {f(r.get('log_ready')):>8}")
    print("(p99, snapshot and restart in ms; 'restart': launch -> GET of the last write answered with its value;"
          " 'log rdy': launch -> the server's log says it is ready)")
    if failures:
        print("\nFAILURES:")
        for m in failures:
            print(" - " + m)
        sys.exit(1)


if __name__ == "__main__":
    main()
