#!/usr/bin/env python3
"""Cluster size curve, etcdjvm next to etcd 3.4 (issue 13): for each cluster size (--sizes, default
1,3,5), all members on this machine's loopback, one cluster at a time:

  1. start: every member launched at once (etcdjvm the etcd 0.1 way, benchlib.cluster: each member
     with -C naming the others; etcd a static initial cluster), launch -> every member serving (a
     write through it, following a 307 to the leader, is acknowledged);
  2. write throughput and p50/p99: wrk PUT of one key at --conns (16) connections on the leader (an
     etcdjvm follower would answer 307), --warmup seconds (10) then --seconds (5) measured; a
     non-2xx answer or a socket error fails the run (after one retry when the leader changed);
  3. failover, --rounds rounds (3) for sizes > 1 (one member has nothing to fail over to): kill -9
     of the leader -> first acknowledged write through any survivor (following a 307 to the
     leader the survivor names); meanwhile each survivor's stats/self is polled every 10 ms for
     how long it still names the dead leader; then the killed member is restarted on its data
     directory and timed until it serves again (rejoin), and a leader is awaited before the next
     round.

"Until a write through a member is acknowledged" (start, failover, rejoin) is measured with a new
write attempt every 20 ms per member, each on its own connection, without waiting for the ones in
flight (asyncio): a write sent to an etcd follower while there is no leader hangs until a timeout
instead of failing, so one attempt at a time would measure the client's timeout, not the cluster.
The time is the first acknowledgement's arrival (resolution 20 ms).

Series: etcdjvm at its defaults (election timeout 200 ms, heartbeat 50 ms); etcd-3.4 at its
defaults (1000 ms, 100 ms); etcd-3.4-et200 (sizes > 1, unless --no-et200): etcd with
--election-timeout 200 --heartbeat-interval 40, because failover time is dominated by the election
timeout (etcd refuses a heartbeat of 50 ms with a 200 ms election timeout: it wants the election
timeout to be at least 5 heartbeats, so 40 ms). The series' order alternates from one size to the
next. The default run takes about 3 minutes on a quiet 2-core machine.

  benchmarks/cluster-scale.py [--sizes 1,3,5] [--seconds 5] [--warmup 10] [--conns 16] [--rounds 3]
                              [--no-etcd] [--no-et200] [--keep DIR] [--csv FILE]

Rows (curve=cluster-size, x=members; series etcdjvm | etcd-3.4 | etcd-3.4-et200):
  start_ms                launch -> every member serving, ms
  put_rps, put_p50_ms, put_p99_ms   wrk PUT one key on the leader
  failover_ms             kill -9 the leader -> first acknowledged write, median over rounds (sizes > 1)
  failover_min_ms, failover_max_ms
  dead_leader_named_ms    kill -> last moment a survivor's stats/self still named the dead leader, median
  rejoin_ms               restart of the killed member -> it serves again, median
  election_timeout_ms     the election timeout the series ran with (one row per size)
"""
import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

CURVE = "cluster-size"
ET200 = b.ETCD + "-et200"
# series -> (kind, extra server flags, election timeout ms)
SERIES = {
    b.OURS: (b.OURS, [], 200),
    b.ETCD: (b.ETCD, [], 1000),
    ET200: (b.ETCD, ["--election-timeout", "200", "--heartbeat-interval", "40"], 200),
}
DEADLINE = 60.0


async def _exchange(port, method, path, body, host):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        data = (body or "").encode()
        if body is not None:
            head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(data)}\r\n"
        writer.write(head.encode() + b"\r\n" + data)
        await writer.drain()
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        text = ""
        if method == "GET":
            if "content-length" in headers:
                text = (await reader.readexactly(int(headers["content-length"]))).decode("utf-8", "replace")
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    if size == 0:
                        break
                    parts.append(await reader.readexactly(size + 2))
                text = b"".join(p[:-2] for p in parts).decode("utf-8", "replace")
            else:
                text = (await reader.read()).decode("utf-8", "replace")
        return status, headers, text
    finally:
        writer.close()


async def http(port, method, path, body=None, timeout=3.0, host=b.HOST):
    """One request on a new connection (asyncio, so that many can be in flight): (status, headers,
    body text, read for GET only); (0, {}, error) on a transport failure or the timeout."""
    try:
        return await asyncio.wait_for(_exchange(port, method, path, body, host), timeout)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
            ValueError, IndexError) as e:
        return 0, {}, repr(e)


async def write_following(server, key, timeout=3.0, hops=3):
    """PUT key through server, following up to `hops` redirects (an etcdjvm follower answers 307
    with the leader's URL in Location): True when acknowledged."""
    host, port, target = b.HOST, server.client, f"{server.prefix}/{key}"
    for _ in range(hops + 1):
        status, headers, _ = await http(port, "PUT", target, body="value=1", timeout=timeout, host=host)
        if status in (301, 302, 307, 308):
            loc = urllib.parse.urlsplit(headers.get("location", ""))
            if not loc.port:
                return False
            host, port = loc.hostname, loc.port
            target = loc.path + (("?" + loc.query) if loc.query else "")
            continue
        return status in (200, 201)
    return False


async def first_ack(server, t0, tag, must_live=True):
    """Seconds from t0 until a write through server is acknowledged. A new attempt starts every
    20 ms while none has been acknowledged, without waiting for the ones in flight: a write sent
    to an etcd follower while there is no leader hangs (its proposal is lost) until a timeout, so
    one attempt at a time would measure the client's timeout, not the cluster. None after
    DEADLINE. Fails loudly when the server exits (must_live)."""
    acked = asyncio.get_running_loop().create_future()
    pending = set()

    async def attempt(k):
        if await write_following(server, f"bench/{tag}-{server.name}-{k}") and not acked.done():
            acked.set_result(time.monotonic() - t0)

    k = 0
    try:
        while not acked.done() and time.monotonic() - t0 < DEADLINE:
            if must_live and not server.alive():
                sys.exit(f"{server.kind} {server.name} exited; see {server.log_path}")
            k += 1
            task = asyncio.create_task(attempt(k))
            pending.add(task)
            task.add_done_callback(pending.discard)
            try:
                await asyncio.wait_for(asyncio.shield(acked), 0.02)
            except asyncio.TimeoutError:
                pass
        return acked.result() if acked.done() else None
    finally:
        for task in list(pending):
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def stats_self(server, timeout=0.5):
    path = "/v1/stats/self" if server.kind == b.OURS else "/v2/stats/self"
    status, _, body = await http(server.client, "GET", path, timeout=timeout)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def identity(server):
    """How the others name this member in leaderInfo.leader: etcdjvm its name, etcd its hex id."""
    st = asyncio.run(stats_self(server, timeout=2.0))
    if not st:
        sys.exit(f"{server.kind} {server.name}: no stats/self; see {server.log_path}")
    return st.get("id") or st.get("name")


def wait_serving(servers, t0, what):
    """Until a write through each server (following redirects) is acknowledged; {name: seconds
    from t0 at which it first served}. Fails loudly after DEADLINE."""
    async def all_of():
        return await asyncio.gather(*(first_ack(s, t0, "serving") for s in servers))
    times = asyncio.run(all_of())
    missing = [s.name for s, t in zip(servers, times) if t is None]
    if missing:
        sys.exit(f"{servers[0].kind}: {missing} not serving {DEADLINE:.0f} s after {what}")
    return {s.name: t for s, t in zip(servers, times)}


def load(servers, leader, a, series):
    """wrk PUT on the leader: warm-up, then the measured run. One retry when the leader changed."""
    for attempt in (1, 2):
        if a.warmup:
            b.wrk(leader, "put", a.conns, a.warmup)
        res = b.wrk(leader, "put", a.conns, a.seconds)
        bad = sum(int(res.get(k, 0)) for k in ("non_2xx", "err_connect", "err_read", "err_write", "err_timeout"))
        if bad == 0:
            return res
        now = b.await_leader(servers, timeout=DEADLINE)
        if now is leader or attempt == 2:
            sys.exit(f"{series}: {bad} failed requests in the PUT run on {leader.name} ({res.get('codes')}, "
                     f"errors connect/read/write/timeout {res.get('err_connect')}/{res.get('err_read')}/"
                     f"{res.get('err_write')}/{res.get('err_timeout')}); leader now {now.name}")
        b.log(f"{series}: the leader changed during the PUT run ({leader.name} -> {now.name}, {bad} failed "
              f"requests); measuring again on the new leader")
        leader = now
    return None


async def _failover(survivors, dead, t0):
    """First acknowledged write through any survivor, and the last moment a survivor's stats/self
    named the dead leader; (seconds, seconds) from t0, first None after DEADLINE."""
    writers = [asyncio.create_task(first_ack(s, t0, "failover")) for s in survivors]
    first = None
    named_until = 0.0
    try:
        while time.monotonic() - t0 < DEADLINE:
            named = False
            for st in await asyncio.gather(*(stats_self(s) for s in survivors)):
                if st and (st.get("leaderInfo") or {}).get("leader") == dead:
                    named = True
                    named_until = time.monotonic() - t0
            if first is None:
                acks = [w.result() for w in writers if w.done() and w.result() is not None]
                first = min(acks) if acks else None
                if first is not None:
                    for w in writers:
                        w.cancel()
                elif all(w.done() for w in writers):
                    break
            if first is not None and not named:
                break
            await asyncio.sleep(0.01)
        else:
            if first is not None:
                b.log(f"a survivor still named the dead leader {DEADLINE:.0f} s after the kill")
    finally:
        for w in writers:
            w.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
    return first, named_until


def describe(servers):
    """Each member's state and the leader it names, for a log line when something was slow."""
    parts = []
    for s in servers:
        st = asyncio.run(stats_self(s, timeout=1.0)) if s.alive() else None
        if not s.alive():
            parts.append(f"{s.name} not running")
        elif not st:
            parts.append(f"{s.name} no stats/self")
        else:
            parts.append(f"{s.name} {st.get('state')} naming {(st.get('leaderInfo') or {}).get('leader')!r}")
    return "; ".join(parts)


def log_tail(server, lines=4):
    try:
        with open(server.log_path, errors="replace") as f:
            return " | ".join(line.rstrip()[:200] for line in f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def failover_round(servers, r, series):
    """One kill -9 of the leader; (first write ms, dead leader named ms, rejoin ms)."""
    leader = b.await_leader(servers, timeout=DEADLINE)
    b.wait_writable(leader, timeout=DEADLINE)
    dead = identity(leader)
    survivors = [s for s in servers if s is not leader]
    t0 = time.monotonic()
    leader.kill()
    first, named_until = asyncio.run(_failover(survivors, dead, t0))
    if first is None:
        sys.exit(f"{series} {len(servers)} members, round {r}: no write acknowledged by a survivor "
                 f"{DEADLINE:.0f} s after killing the leader {leader.name}")
    t1 = time.monotonic()
    leader.start()
    rejoin = wait_serving([leader], t1, f"restarting {leader.name}")[leader.name]
    b.log(f"{series} {len(servers)} members, round {r}: killed leader {leader.name}; first write "
          f"{first * 1000:.0f} ms; dead leader named until {named_until * 1000:.0f} ms; restarted member "
          f"serving after {rejoin * 1000:.0f} ms")
    if first > 5 or rejoin > 10:
        b.log(f"SLOW {series} {len(servers)} members, round {r}: members now: {describe(servers)}; "
              f"{leader.name}'s log ends: {log_tail(leader)} (--keep DIR keeps the logs)")
    return first * 1000, named_until * 1000, rejoin * 1000


def one_cluster(series, n, a, out, tmp_root):
    kind, extra, et = SERIES[series]
    res = {"series": series, "n": n}
    tmp_ctx = (contextlib.nullcontext(tempfile.mkdtemp(prefix=f"{series}-{n}-", dir=tmp_root)) if a.keep
               else tempfile.TemporaryDirectory(prefix=f"{series}-{n}-", dir=tmp_root))
    with tmp_ctx as tmp:
        servers = b.cluster(kind, tmp, n, extra=extra)
        try:
            t0 = time.monotonic()
            for s in servers:
                s.start()
            served = wait_serving(servers, t0, "launch")
            res["start_ms"] = max(served.values()) * 1000
            leader = b.await_leader(servers, timeout=DEADLINE)
            b.wait_writable(leader, timeout=DEADLINE)
            b.log(f"{series} {n} members: every member serving {res['start_ms']:.0f} ms after launch; "
                  f"leader {leader.name}")
            out.row(CURVE, n, series, "start_ms", res["start_ms"], "ms")
            out.row(CURVE, n, series, "election_timeout_ms", et, "ms")
            w = load(servers, leader, a, series)
            res.update(put_rps=w["rps"], put_p50_ms=w["p50_ms"], put_p99_ms=w["p99_ms"])
            out.row(CURVE, n, series, "put_rps", w["rps"], "req/s")
            out.row(CURVE, n, series, "put_p50_ms", w["p50_ms"], "ms")
            out.row(CURVE, n, series, "put_p99_ms", w["p99_ms"], "ms")
            if n > 1 and a.rounds > 0:
                rounds = [failover_round(servers, r, series) for r in range(1, a.rounds + 1)]
                fo = [x[0] for x in rounds]
                res.update(failover=fo, named=[x[1] for x in rounds], rejoin=[x[2] for x in rounds])
                out.row(CURVE, n, series, "failover_ms", statistics.median(fo), "ms")
                out.row(CURVE, n, series, "failover_min_ms", min(fo), "ms")
                out.row(CURVE, n, series, "failover_max_ms", max(fo), "ms")
                out.row(CURVE, n, series, "dead_leader_named_ms", statistics.median(res["named"]), "ms")
                out.row(CURVE, n, series, "rejoin_ms", statistics.median(res["rejoin"]), "ms")
        finally:
            t_stop = time.monotonic()
            for s in servers:  # SIGTERM to all at once; an etcd leader stopping with its peers waits to
                # hand over its leadership, so the teardown is capped (data directories are discarded)
                s.signal(signal.SIGTERM)
            for s in servers:
                s.stop(timeout=max(0.5, 3 - (time.monotonic() - t_stop)))  # then kill -9 (etcd waits 5+ s)
            b.log(f"{series} {n} members stopped in {(time.monotonic() - t_stop) * 1000:.0f} ms")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,3,5")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=10,
                    help="seconds of the same PUT load before the measured run (a fresh JVM needs ~15 s to"
                         " reach its steady rate; warmup.py measures that on its own)")
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-etcd", action="store_true")
    ap.add_argument("--no-et200", action="store_true", help="skip the etcd series with a 200 ms election timeout")
    ap.add_argument("--keep", metavar="DIR", help="keep the members' data directories and logs in DIR")
    ap.add_argument("--csv")
    a = ap.parse_args()
    try:
        sizes = [int(x) for x in a.sizes.split(",") if x]
    except ValueError:
        sys.exit(f"--sizes wants comma-separated integers, not {a.sizes!r}")
    if not sizes or min(sizes) < 1:
        sys.exit("--sizes wants cluster sizes >= 1")
    out = b.Csv(a.csv)
    b.ensure_tool("wrk", "wrk")
    if not a.no_etcd:
        b.ensure_tool("etcd", "etcd-server")
    subprocess.run([os.path.join(b.ROOT, "bin", "etcd-node"), "--prepare"], check=True,
                   stdout=subprocess.DEVNULL)
    results = []
    began = time.monotonic()
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    root_ctx = (contextlib.nullcontext(a.keep) if a.keep
                else tempfile.TemporaryDirectory(prefix="etcdjvm-cluster-scale-"))
    with root_ctx as tmp_root:
        for i, n in enumerate(sizes):
            series = [b.OURS]
            if not a.no_etcd:
                series.append(b.ETCD)
                if not a.no_et200 and n > 1:
                    series.append(ET200)
            for s in (series if i % 2 == 0 else list(reversed(series))):
                results.append(one_cluster(s, n, a, out, tmp_root))
    b.log(f"cluster-scale done in {time.monotonic() - began:.0f} s")

    def ms(v):
        return f"{v:.0f}" if v is not None else "-"

    def spread(v, n):
        if v:
            return f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})"
        return "n/a (one member)" if n == 1 else "-"

    print()
    print(f"Cluster size, all members on this machine's loopback; PUT one key at {a.conns} connections "
          f"on the leader for {a.seconds} s; failover over {a.rounds} rounds, median (min-max)")
    print("| members | series | election timeout | start: all serving, ms | PUT req/s | p50 ms | p99 ms "
          "| kill leader -> first write, ms | survivors name dead leader, ms | restarted member serving, ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    order = {b.OURS: 0, b.ETCD: 1, ET200: 2}
    for r in sorted(results, key=lambda r: (r["n"], order[r["series"]])):
        fo = r.get("failover")
        print(f"| {r['n']} | {r['series']} | {SERIES[r['series']][2]} ms | {ms(r.get('start_ms'))} "
              f"| {r['put_rps']:.0f} | {r['put_p50_ms']:.2f} | {r['put_p99_ms']:.2f} | {spread(fo, r['n'])} "
              f"| {spread(r.get('named'), 0)} | {spread(r.get('rejoin'), 0)} |")
    if 1 in sizes:
        print("One member: no failover (nothing to fail over to); etcd-3.4-et200 is not run at one member.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted")
