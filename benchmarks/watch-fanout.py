#!/usr/bin/env python3
"""Watch fan-out: how long after a write is acknowledged do 1, 100, 10 000 watchers have it
(issue 13's watcher curve), etcdjvm (v1 API) next to etcd 3.4 (v2 API).

One single-node server of each kind, both started once (empty data directories), each warmed up
(--warmup-writes PUTs and a short watch round that is not recorded). Then for every watcher count
(--watchers, default 1,100,10000), etcdjvm and etcd one after the other (the order alternates
from one count to the next):

 1. baseline: --baseline-puts PUTs of the watched key with no watcher connected, one at a time
    (the writer's acknowledgement latency without watchers);
 2. N watchers connect, spread over source addresses 127.0.0.2, 127.0.0.3, ... (at most
    --per-address each, as ten and more hosts would be; the node admits 1 000 watchers and 2 000
    connections per address) and each long-polls the prefix /bench/watch:
      etcdjvm  POST /v1/watch/bench/watch  with form index=<next index>
      etcd     GET  /v2/keys/bench/watch?wait=true&recursive=true&waitIndex=<next index>
    A watcher counts as armed once the server has read its whole request (the server's side of
    its connection has an empty receive queue in /proc/net/tcp; for etcd also once the response
    headers came back, which etcd flushes after registering the watcher), plus 50 ms.
 3. --writes times: one PUT of /bench/watch/k (a fresh value of --value-bytes) by the writer, a
    separate process on 127.0.0.1 with one keep-alive connection; wait until every watcher has the
    event; check it (status 200, the key, the value, the index the PUT returned: a watcher that
    misses an event, gets it twice or gets a wrong one fails the run); re-arm all watchers with
    index = event index + 1 (only after all have it, so the fan-out measured is not mixed with N
    new registrations); wait until armed again.

What is measured (one CLOCK_MONOTONIC for both processes):
  ack     the writer's time.monotonic() right after the last byte of the PUT response was read
          (the PUT was sent at t0; put_ack = ack - t0);
  recv    per watcher: when the client's epoll_wait returned with that socket readable, for the
          read that brought the first byte of the event's response body (for etcdjvm the whole
          response comes at once; etcd sent its headers when the watch was registered). The
          watchers live in ONE Python process on an asyncio event loop with a time-stamping
          selector and plain asyncio Protocols (no threads, no per-watcher task), so a busy client
          loop delays the stamps only by one loop iteration.
  last_watcher = max(recv) - ack and median_watcher = median(recv) - ack for each write; the
  p50 and p99 of those over the writes are reported (with 10-20 writes p99 is the worst write).
  A value below zero means the watchers had the event before the writer had its answer.

Limits: etcdjvm admits at most 10 000 connections per node, the same number as its watchers per
node, and every watcher holds a connection; with 10 000 watchers the writer's connection would be
refused. A count above 9 990 is therefore lowered to 9 990, for both servers (x is the number
actually used; a note is printed).

  benchmarks/watch-fanout.py [--watchers 1,100,10000] [--writes N] [--baseline-puts 20]
        [--warmup-writes 20000] [--per-address 900] [--value-bytes 100] [--event-timeout 30]
        [--no-etcd] [--csv FILE]

--writes: writes measured per count (default: 20 up to 1 000 watchers, 10 above). The default
run (both servers) took 75 s on a 2-core machine busy with other work (load average ~20, run at
nice 19), with 200 warm-up writes; most of it is connecting and re-arming the 9 990 watchers. The
20 000 warm-up writes (since 2026-12-01: 200 measured etcdjvm's JIT, not its fan-out) add ~20-40 s
per server. It raises its open-file
limit (soft to hard; it needs about 11 000) and fails if it cannot.

Rows: curve=watchers, x=watchers (as used), series etcdjvm / etcd-3.4, metrics, all in ms:
  last_watcher_p50_ms, last_watcher_p99_ms      ack -> the last watcher has the event
  median_watcher_p50_ms, median_watcher_p99_ms  ack -> the median watcher has it
  put_ack_p50_ms, put_ack_p99_ms                the measured PUTs' latency, watchers connected
  put_ack_nowatch_p50_ms, put_ack_nowatch_p99_ms  the same PUT with no watcher connected
  last_watcher_from_send_p50_ms, ..._p99_ms     PUT sent -> the last watcher has it (never < 0)
  server_cpu_ms_per_write   the server process's CPU time per measured write cycle (the write, the
                            fan-out, the N re-arming watches)
  client_cpu_ms_per_write   this script's CPU time from the PUT sent until all watchers had the
                            event (the writer process not included), per write
"""
import argparse
import asyncio
import json
import os
import re
import resource
import selectors
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

PREFIX = "bench/watch"
KEY = PREFIX + "/k"
NODE_MAX_CONNECTIONS = 10_000  # etcdjvm HttpConfig default (README limits table)
NODE_CONN_RESERVE = 10         # the writer, readiness probes, slack
MAX_WATCHERS = NODE_MAX_CONNECTIONS - NODE_CONN_RESERVE
SETTLE_S = 0.05


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The writer: a separate process with blocking I/O, so its ack time is not delayed by the
# watchers' event loop.

def writer_child(port):
    """Reads JSON lines {"method","path","body"} on stdin; for each, one request on a keep-alive
    connection; writes {"t0","t1","status","body"} (t1: after the response's last byte)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it by closing stdin
    sock = None

    def closed(s):
        s.setblocking(False)
        try:
            return s.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            s.setblocking(True)

    for line in sys.stdin:
        cmd = json.loads(line)
        if sock is None or closed(sock):
            if sock is not None:
                sock.close()
            sock = socket.create_connection((b.HOST, port), timeout=30)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = cmd["body"].encode()
        req = (f"{cmd['method']} {cmd['path']} HTTP/1.1\r\nHost: {b.HOST}:{port}\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
               ).encode() + body
        t0 = time.monotonic()
        try:
            sock.sendall(req)
            status, resp = read_response(sock)
        except (OSError, ValueError) as e:
            t1 = time.monotonic()
            sock.close()
            sock = None
            status, resp = 0, str(e)
        else:
            t1 = time.monotonic()
        print(json.dumps({"t0": t0, "t1": t1, "status": status, "body": resp}), flush=True)


def read_response(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ValueError("connection closed by the server")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    status, length, chunked = parse_head(head)
    if chunked:
        while not rest.endswith(b"0\r\n\r\n"):
            d = sock.recv(65536)
            if not d:
                raise ValueError("connection closed in a chunked body")
            rest += d
        body = dechunk(rest)
    else:
        while len(rest) < length:
            d = sock.recv(65536)
            if not d:
                raise ValueError("connection closed in a body")
            rest += d
        body = rest[:length]
    return status, body.decode("utf-8", "replace")


def parse_head(head):
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, chunked = 0, False
    for h in lines[1:]:
        name, _, value = h.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return status, length, chunked


def dechunk(data):
    out, i = b"", 0
    while True:
        j = data.index(b"\r\n", i)
        size = int(data[i:j].split(b";")[0], 16)
        if size == 0:
            return out
        out += data[j + 2:j + 2 + size]
        i = j + 2 + size + 2


WRITERS = []


class Writer:
    """The parent's handle on one writer process (one per server)."""

    def __init__(self, server):
        self.server = server
        self.proc = None
        WRITERS.append(self)

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, os.path.abspath(__file__), "--writer-child", str(self.server.client),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)

    async def put(self, value, timeout=30.0):
        """PUT KEY=value: (t0, ack time, index). Fails loudly on anything but 200/201."""
        s = self.server
        self.proc.stdin.write((json.dumps({"method": "PUT", "path": f"{s.prefix}/{KEY}",
                                           "body": f"value={value}"}) + "\n").encode())
        await self.proc.stdin.drain()
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except asyncio.TimeoutError:
            raise Failure(f"{s.kind}: PUT not answered in {timeout} s")
        if not line:
            raise Failure(f"{s.kind}: the writer process died")
        r = json.loads(line)
        if r["status"] not in (200, 201):
            raise Failure(f"{s.kind}: PUT answered {r['status']}: {r['body'][:300]}")
        j = json.loads(r["body"])
        index = j["index"] if s.kind == b.OURS else j["node"]["modifiedIndex"]
        return r["t0"], r["t1"], index

    async def stop(self):
        if not self.proc:
            return
        if self.proc.returncode is None:
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        transport = getattr(self.proc, "_transport", None)  # else its __del__ complains after loop.close()
        if transport is not None:
            transport.close()
        self.proc = None


# ---------------------------------------------------------------------------------------------
# The watchers: asyncio Protocols on one event loop whose selector stamps each poll's return.

class StampingSelector(selectors.EpollSelector):
    last = 0.0

    def select(self, timeout=None):
        ready = super().select(timeout)
        self.last = time.monotonic()
        return ready


SEL = StampingSelector()


class Watcher(asyncio.Protocol):
    __slots__ = ("fan", "i", "ip", "tr", "buf", "hdr_end", "length", "chunked", "status",
                 "t_first", "outstanding", "complete", "closing")

    def __init__(self, fan, i, ip):
        self.fan, self.i, self.ip = fan, i, ip
        self.tr = None
        self.closing = False
        self.outstanding = False
        self.reset()

    def reset(self):
        self.buf = bytearray()
        self.hdr_end = None
        self.length = 0
        self.chunked = False
        self.status = 0
        self.t_first = None
        self.complete = False

    def connection_made(self, transport):
        self.tr = transport

    def arm(self, since):
        self.reset()
        self.outstanding = True
        self.tr.write(self.fan.request(since))

    def data_received(self, data):
        t = SEL.last
        if not self.outstanding or self.complete:
            self.fan.fail(f"watcher {self.i} ({self.ip}): data with no watch waiting "
                          f"(a duplicate event?): {bytes(data[:200])!r}")
            return
        self.buf += data
        if self.hdr_end is None:
            k = self.buf.find(b"\r\n\r\n")
            if k < 0:
                return
            try:
                self.status, self.length, self.chunked = parse_head(bytes(self.buf[:k]))
            except (ValueError, IndexError):
                self.fan.fail(f"watcher {self.i}: bad response head {bytes(self.buf[:200])!r}")
                return
            self.hdr_end = k + 4
            self.fan.headers_seen += 1
        if self.t_first is None and len(self.buf) > self.hdr_end:
            self.t_first = t
        if self.chunked:
            done = self.buf.endswith(b"0\r\n\r\n") and len(self.buf) > self.hdr_end
        else:
            done = len(self.buf) - self.hdr_end >= self.length
        if done:
            self.complete = True
            self.outstanding = False
            self.fan.answered(self)

    def body(self):
        raw = bytes(self.buf[self.hdr_end:])
        return (dechunk(raw) if self.chunked else raw[:self.length]).decode("utf-8", "replace")

    def connection_lost(self, exc):
        if not self.closing:
            self.fan.fail(f"watcher {self.i} ({self.ip}): connection closed by the server ({exc})")


def ip_hex(ip):
    raw = socket.inet_aton(ip)
    return (raw[::-1] if sys.byteorder == "little" else raw).hex().upper()


_TCP_RE = {}


def server_side(port, ips_hex):
    """(established, with unread bytes) server-side connections from ips_hex to port, from
    /proc/net/tcp and /proc/net/tcp6 (a JVM's sockets are IPv6 ones with IPv4-mapped addresses)."""
    if port not in _TCP_RE:
        tail = r"[0-9A-F]{4} 01 [0-9A-F]{8}:([0-9A-F]{8})"
        _TCP_RE[port] = (re.compile(r"^ *\d+: [0-9A-F]{8}:%04X ([0-9A-F]{8}):%s" % (port, tail), re.M),
                         re.compile(r"^ *\d+: [0-9A-F]{32}:%04X 0000000000000000FFFF0000([0-9A-F]{8}):%s"
                                    % (port, tail), re.M))
    est = pending = 0
    for table, regex in zip(("/proc/net/tcp", "/proc/net/tcp6"), _TCP_RE[port]):
        try:
            with open(table) as f:
                text = f.read()
        except OSError:
            continue
        for ip, rx in regex.findall(text):
            if ip in ips_hex:
                est += 1
                if rx != "00000000":
                    pending += 1
    return est, pending


class FanOut:
    """N watchers on one server."""

    def __init__(self, server, n, per_address):
        self.server, self.n = server, n
        self.ips = [f"127.0.0.{2 + k}" for k in range((n + per_address - 1) // per_address)]
        if len(self.ips) > 250:
            raise Failure(f"{n} watchers need more than 250 source addresses")
        self.ips_hex = {ip_hex(ip) for ip in self.ips}
        self.watchers = []
        self.error = None
        self.got = 0
        self.headers_seen = 0
        self.all_in = asyncio.Event()
        host = f"Host: {b.HOST}:{server.client}\r\n"
        if server.kind == b.OURS:
            self._req = lambda since: (f"POST /v1/watch/{PREFIX} HTTP/1.1\r\n{host}"
                                       f"Content-Type: application/x-www-form-urlencoded\r\n"
                                       f"Content-Length: {len('index=') + len(str(since))}\r\n\r\n"
                                       f"index={since}").encode()
        else:
            self._req = lambda since: (f"GET /v2/keys/{PREFIX}?wait=true&recursive=true&waitIndex={since}"
                                       f" HTTP/1.1\r\n{host}\r\n").encode()
        self._cache = (None, None)

    def request(self, since):
        if self._cache[0] != since:
            self._cache = (since, self._req(since))
        return self._cache[1]

    def fail(self, msg):
        if self.error is None:
            self.error = msg
        self.all_in.set()

    def check(self):
        if self.error:
            raise Failure(f"{self.server.kind}, {self.n} watchers: {self.error}")

    def answered(self, w):
        self.got += 1
        if self.got >= self.n:
            self.all_in.set()

    async def connect(self):
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(200)
        no_port = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

        async def one(i):
            ip = self.ips[i % len(self.ips)]
            w = Watcher(self, i, ip)
            async with sem:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    s.setsockopt(socket.IPPROTO_IP, no_port, 1)
                    s.bind((ip, 0))
                    s.setblocking(False)
                    await asyncio.wait_for(loop.sock_connect(s, (b.HOST, self.server.client)), 30)
                    await loop.create_connection(lambda: w, sock=s)
                except (OSError, asyncio.TimeoutError) as e:
                    s.close()
                    raise Failure(f"{self.server.kind}: watcher {i} from {ip} could not connect: {e!r}")
            return w

        self.watchers = await asyncio.gather(*(one(i) for i in range(self.n)))

    async def arm_all(self, since, timeout):
        self.got = 0
        self.headers_seen = 0
        self.all_in.clear()
        for w in self.watchers:
            w.arm(since)
        await self.wait_armed(timeout)

    async def wait_armed(self, timeout):
        """Until every watcher's request has been read by the server (and, for etcd, answered with
        its headers), then SETTLE_S more. /proc/net/tcp is read with a growing pause (it costs
        CPU with 20 000 sockets open)."""
        deadline = time.monotonic() + timeout
        etcd = self.server.kind == b.ETCD
        pause = 0.005 + self.n * 2e-6
        while True:
            self.check()
            if self.got:
                raise Failure(f"{self.server.kind}: {self.got} watchers were answered before any write "
                              f"(first: {next(w for w in self.watchers if w.complete).body()[:300]})")
            if all(w.tr.get_write_buffer_size() == 0 for w in self.watchers) and \
                    (not etcd or self.headers_seen >= self.n):
                est, pending = server_side(self.server.client, self.ips_hex)
                if est == self.n and pending == 0:
                    break
            if time.monotonic() > deadline:
                est, pending = server_side(self.server.client, self.ips_hex)
                raise Failure(f"{self.server.kind}: {self.n} watchers not armed within {timeout:.0f} s "
                              f"(server side: {est} connections, {pending} with unread requests; "
                              f"headers back: {self.headers_seen})")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.2)
        await asyncio.sleep(SETTLE_S)
        self.check()
        if self.got:
            raise Failure(f"{self.server.kind}: a watcher was answered before any write: "
                          f"{next(w for w in self.watchers if w.complete).body()[:300]}")

    async def wait_all(self, timeout):
        try:
            await asyncio.wait_for(self.all_in.wait(), timeout)
        except asyncio.TimeoutError:
            missing = [w.i for w in self.watchers if not w.complete]
            raise Failure(f"{self.server.kind}: {len(missing)} of {self.n} watchers did not get the event "
                          f"within {timeout} s (missing events; first: watchers {missing[:10]})")
        self.check()

    def validate(self, value, index, t0):
        """Every watcher's answer is this write's event, once."""
        ours = self.server.kind == b.OURS
        key = "/" + KEY
        for w in self.watchers:
            if not w.complete:
                raise Failure(f"{self.server.kind}: watcher {w.i} has no event")
            body = w.body()
            if w.status != 200:
                raise Failure(f"{self.server.kind}: watcher {w.i} answered {w.status}: {body[:300]}")
            try:
                j = json.loads(body)
                if ours:
                    got = (j["action"], j["key"], j.get("value"), j["index"])
                    want = ("SET", key, value, index)
                else:
                    got = (j["action"], j["node"]["key"], j["node"].get("value"), j["node"]["modifiedIndex"])
                    want = ("set", key, value, index)
            except (ValueError, KeyError, TypeError):
                raise Failure(f"{self.server.kind}: watcher {w.i}: not an event: {body[:300]}")
            if got != want:
                raise Failure(f"{self.server.kind}: watcher {w.i} got {got}, expected {want} "
                              f"(a missed, repeated or wrong event)")
            if w.t_first < t0:
                raise Failure(f"{self.server.kind}: watcher {w.i} had the event before the write was sent")

    async def close(self, timeout=30.0):
        for w in self.watchers:
            w.closing = True
            if w.tr:
                w.tr.close()
        deadline = time.monotonic() + timeout
        while server_side(self.server.client, self.ips_hex)[0]:
            if time.monotonic() > deadline:
                raise Failure(f"{self.server.kind}: watcher connections still open on the server "
                              f"{timeout:.0f} s after closing them")
            await asyncio.sleep(0.05)
        self.watchers = []


# ---------------------------------------------------------------------------------------------

def value_for(tag, size):
    v = f"{tag}-"
    return v + "x" * max(0, size - len(v))


async def phase(server, writer, n, writes, a, record):
    """Baseline PUTs, then n watchers and `writes` measured writes; returns a dict of results."""
    kind = server.kind
    base = []
    index = None
    for i in range(a.baseline_puts):
        t0, t1, index = await writer.put(value_for(f"base{n}-{i}", a.value_bytes))
        base.append(t1 - t0)
        await asyncio.sleep(0.02)
    fan = FanOut(server, n, a.per_address)
    arm_timeout = 30 + n / 200
    try:
        t = time.monotonic()
        await fan.connect()
        await fan.arm_all(index + 1, arm_timeout)
        armed_s = time.monotonic() - t
        lasts, medians, firsts, acks, from_send = [], [], [], [], []
        cpu_s0, cpu_c = server.cpu_seconds(), 0.0
        for i in range(writes):
            value = value_for(f"w{n}-{i}-{time.monotonic_ns() % 1000000}", a.value_bytes)
            c0 = time.process_time()
            t0, ack, index = await writer.put(value)
            await fan.wait_all(a.event_timeout)
            cpu_c += time.process_time() - c0
            fan.validate(value, index, t0)
            recv = sorted(w.t_first for w in fan.watchers)
            lasts.append(recv[-1] - ack)
            medians.append(recv[(len(recv) - 1) // 2] - ack)
            firsts.append(recv[0] - ack)
            from_send.append(recv[-1] - t0)
            acks.append(ack - t0)
            await fan.arm_all(index + 1, arm_timeout)
        cpu_s1 = server.cpu_seconds()
        await asyncio.sleep(0.2)  # anything arriving now is an event nobody wrote: a duplicate
        fan.check()
        if fan.got:
            raise Failure(f"{kind}: a watcher was answered after the last write: "
                          f"{next(w for w in fan.watchers if w.complete).body()[:300]}")
    finally:
        await fan.close()
    ms = 1000.0
    res = {
        "last_watcher_p50_ms": b.percentile(lasts, 50) * ms, "last_watcher_p99_ms": b.percentile(lasts, 99) * ms,
        "median_watcher_p50_ms": b.percentile(medians, 50) * ms,
        "median_watcher_p99_ms": b.percentile(medians, 99) * ms,
        "put_ack_p50_ms": b.percentile(acks, 50) * ms, "put_ack_p99_ms": b.percentile(acks, 99) * ms,
        "put_ack_nowatch_p50_ms": b.percentile(base, 50) * ms if base else None,
        "put_ack_nowatch_p99_ms": b.percentile(base, 99) * ms if base else None,
        "server_cpu_ms_per_write": (cpu_s1 - cpu_s0) / writes * ms if cpu_s0 is not None and cpu_s1 is not None else None,
        "client_cpu_ms_per_write": cpu_c / writes * ms,
        "last_watcher_from_send_p50_ms": b.percentile(from_send, 50) * ms,
        "last_watcher_from_send_p99_ms": b.percentile(from_send, 99) * ms,
    }
    if record:
        for m, v in res.items():
            record.row("watchers", n, kind, m, v, "ms")
    res["first_p50_ms"] = b.percentile(firsts, 50) * ms
    res["armed_s"] = armed_s
    res["addresses"] = len(fan.ips)
    return res


async def run(a, counts, kinds, tmp, out):
    servers, writers = {}, {}
    try:
        for kind in kinds:
            s = b.cluster(kind, tmp, 1)[0].start()
            servers[kind] = s
        for kind in kinds:
            b.wait_writable(servers[kind])
            w = Writer(servers[kind])
            await w.start()
            writers[kind] = w
        # warm-up, not recorded: PUTs back to back, then a short watch round
        for kind in kinds:
            b.log(f"{kind}: warm-up ({a.warmup_writes} PUTs, 50 watchers x 5 writes)")
            for i in range(a.warmup_writes):
                await writers[kind].put(value_for(f"warm{i}", a.value_bytes))
            if a.warmup_writes:
                await phase(servers[kind], writers[kind], min(50, max(counts)), 5,
                            argparse.Namespace(**{**vars(a), "baseline_puts": 1}), None)
        table = []
        for j, n in enumerate(counts):
            writes = a.writes or (20 if n <= 1000 else 10)
            order = kinds if j % 2 == 0 else list(reversed(kinds))
            for kind in order:
                b.log(f"{kind}: {n} watchers, {writes} writes")
                t = time.monotonic()
                r = await phase(servers[kind], writers[kind], n, writes, a, out)
                b.log(f"{kind}: {n} watchers done in {time.monotonic() - t:.1f} s "
                      f"(connect+arm {r['armed_s']:.1f} s, {r['addresses']} source addresses)")
                table.append((n, kind, r))
        return table
    finally:
        for w in writers.values():
            await w.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--watchers", default="1,100,10000", help="watcher counts (default 1,100,10000)")
    ap.add_argument("--writes", type=int, default=0,
                    help="measured writes per count (default: 20 up to 1000 watchers, 10 above)")
    ap.add_argument("--baseline-puts", type=int, default=20, help="PUTs with no watcher, per count")
    ap.add_argument("--warmup-writes", type=int, default=20000,
                    help="PUTs to warm each server up (0: no warm-up); with 200, etcdjvm's JIT was still cold: "
                         "a write with no watcher took 2.2 ms at p50 instead of 0.6 ms")
    ap.add_argument("--per-address", type=int, default=900, help="watchers per source address (at most 900)")
    ap.add_argument("--value-bytes", type=int, default=100)
    ap.add_argument("--event-timeout", type=float, default=30.0,
                    help="seconds for every watcher to get an event before the run fails")
    ap.add_argument("--no-etcd", action="store_true")
    ap.add_argument("--csv")
    ap.add_argument("--writer-child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.writer_child:
        writer_child(a.writer_child)
        return
    if a.baseline_puts < 1 or a.writes < 0:
        sys.exit("--baseline-puts must be >= 1 (it also gives the index the watchers start from)")
    if not 1 <= a.per_address <= 900:
        sys.exit("--per-address must be 1..900 (etcdjvm admits 1 000 watchers per address)")
    counts = []
    for c in a.watchers.split(","):
        n = int(c)
        if n < 1:
            sys.exit("--watchers: counts must be >= 1")
        if n > MAX_WATCHERS:
            print(f"NOTE: {n} watchers requested, {MAX_WATCHERS} used (for both servers): etcdjvm admits "
                  f"{NODE_MAX_CONNECTIONS} connections per node in all, every watcher holds one, and the "
                  f"writer needs one too", flush=True)
            n = MAX_WATCHERS
        counts.append(n)
    need = max(counts) + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, min(hard, 65536)) if hard != resource.RLIM_INFINITY
                                                        else max(need, 65536), hard))
        except (ValueError, OSError):
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            except (ValueError, OSError) as e:
                sys.exit(f"cannot raise the open-file limit to {need} (hard limit {hard}): {e}")
    kinds = [b.OURS] + ([] if a.no_etcd else [b.ETCD])
    if not a.no_etcd:
        b.ensure_tool("etcd", "etcd-server")
    out = b.Csv(a.csv)
    loop = asyncio.SelectorEventLoop(SEL)
    asyncio.set_event_loop(loop)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="etcdjvm-watch-") as tmp:
        task = loop.create_task(run(a, counts, kinds, tmp, out))
        try:
            table = loop.run_until_complete(task)
        except Failure as e:
            sys.exit(f"FAILED: {e}")
        except KeyboardInterrupt:
            sys.exit("interrupted")
        finally:
            if not task.done():
                task.cancel()
                try:
                    loop.run_until_complete(task)
                except BaseException:  # noqa: BLE001 - the cancellation itself
                    pass
            elif not task.cancelled():
                task.exception()  # retrieved: no "never retrieved" warning after an interrupt
            for w in WRITERS:
                try:
                    loop.run_until_complete(w.stop())
                except BaseException:  # noqa: BLE001 - best effort while stopping
                    pass
            b.stop_all()
            loop.close()
    print()
    print(f"Watch fan-out (one node; {time.monotonic() - started:.0f} s). ms; 'ack -> last' = the writer's PUT "
          "answered -> the last watcher has the event's first byte; p50 / p99 over the writes")
    hdr = ("watchers", "server", "ack->last p50/p99", "ack->median p50/p99", "PUT ack p50/p99",
           "PUT ack, no watchers", "server CPU/write", "client CPU/write")
    rows = [hdr]
    for n, kind, r in sorted(table, key=lambda t: (t[0], t[1])):
        def f(k):
            v = r.get(k)
            return "-" if v is None else f"{v:.2f}"
        rows.append((str(n), kind, f"{f('last_watcher_p50_ms')} / {f('last_watcher_p99_ms')}",
                     f"{f('median_watcher_p50_ms')} / {f('median_watcher_p99_ms')}",
                     f"{f('put_ack_p50_ms')} / {f('put_ack_p99_ms')}",
                     f"{f('put_ack_nowatch_p50_ms')} / {f('put_ack_nowatch_p99_ms')}",
                     f(r"server_cpu_ms_per_write"), f("client_cpu_ms_per_write")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(hdr))]
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    print("All watchers received every event exactly once with the written value and index.")


if __name__ == "__main__":
    main()
