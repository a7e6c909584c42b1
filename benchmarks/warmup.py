#!/usr/bin/env python3
"""Warm-up: how fast a freshly started node reaches its steady throughput (issue 13: ">= 80 % of
steady throughput within 5 s of load"), etcdjvm next to etcd 3.4, and the two sides of the
launcher's -XX:CompileThresholdScaling=5 (start-up CPU against slower warm-up).

For every series, in turn (the order alternates from one round to the next):
  1. start a fresh single node on an empty data directory; measure process start (just before the
     launcher is executed) -> first acknowledged write through it (polled every 10 ms by this
     process; benchlib.wait_writable), and the CPU the server process had used by then;
  2. immediately put it under load: wrk PUTs one key at --conns (16) connections for --seconds
     (30), and the number of 2xx answers in every second of the run is recorded;
  3. steady = the mean of the run's last --steady seconds (default 5, or half of --seconds when
     that is below 10: the tail of the same run, not a separate longer run);
     reach_80pct = the first second whose throughput is >= 80 % of steady; sustain_80pct = the
     first second from which every later second stays >= 80 % of steady.
With --ops put,get a GET run (one key, same connections) follows on a second fresh node.
Any non-2xx answer or socket error fails the run (after the rows are written).

Per-second counts: a wrk Lua script (written to a temporary file; it wraps benchmarks/wrk/put.lua
or get.lua, so common.lua's BENCH_RESULT line still comes out) has every thread count its answers
by second since the load began (CLOCK_MONOTONIC through LuaJIT's ffi, one epoch taken in setup()
and handed to every thread), and done() sums the threads' tables. One wrk run with persistent
connections, rather than consecutive 1-second runs: those would reconnect every second and lose
the gaps between runs. The sum of the per-second counts is checked against wrk's own total.

Series (--series, comma-separated; default etcdjvm,etcdjvm-cts5,etcd-3.4):
  etcdjvm        bin/etcd-node as it is (JDK 25 + AOT cache and the launcher's warm-up flags: a
                 second C2 thread below 4 cores, lower Tier4 thresholds, smaller inlining units; on
                 JDK 17 the launcher sets -XX:CompileThresholdScaling=5)
  etcdjvm-cts5   the same with ETCD_NODE_JAVA_OPTS=-XX:CompileThresholdScaling=5 (the JDK 25 default
                 until 2026-12-01: less start-up CPU, slower warm-up)
  etcdjvm-cts1   the same with ETCD_NODE_JAVA_OPTS=-XX:CompileThresholdScaling=1 (comes after the
                 launcher's own options on the java command line, so it wins; checked in
                 /proc/<pid>/cmdline); etcdjvm-ctsN likewise for any N (etcdjvm-cts2, etcdjvm-cts0.5)
  etcdjvm-jdk17  ETCD_NODE_JAVA=/usr/lib/jvm/java-17-openjdk-amd64/bin/java (its CDS archive is
                 trained by `bin/etcd-node --prepare` before any timing)
  etcdjvm-replay / etcdjvm-noreplay
                 JDK 25+: the AOT cache's method profiles used (-XX:+AOTReplayTraining) or not
                 (-XX:-AOTReplayTraining): whichever the launcher does not do by default
  etcd-3.4       etcd 3.4, v2 API
  all            the four

  benchmarks/warmup.py [--seconds 30] [--steady 5] [--conns 16] [--series ...] [--ops put[,get]]
                       [--rounds 1] [--no-etcd] [--csv FILE]

The default run takes about 2 minutes (3 series x (start + 30 s + stop)).
With --rounds N, each per-second value and each summary is the median over the N rounds.

Rows (curve=warmup): x=1..seconds (second x covers [x-1, x) s after the load began), metric
put_rps (get_rps), requests/s; x=0: start_to_write_ms (ms), start_cpu_s (s, the server's CPU at its
first write), put_steady_rps (requests/s), put_reach_80pct_s and put_sustain_80pct_s (s: the x of
that second; no row when never reached), and likewise get_* with --ops get. start_to_write_ms and
start_cpu_s are per series (the median over all its nodes).
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

JDK17 = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
ALL_SERIES = ["etcdjvm", "etcdjvm-cts5", "etcdjvm-cts1", "etcdjvm-jdk17", "etcdjvm-replay", "etcdjvm-noreplay", b.ETCD]
DEFAULT_SERIES = "etcdjvm,etcdjvm-cts5," + b.ETCD

# Wraps put.lua/get.lua (WARMUP_CASE): counts answers per second since the load began.
PER_SECOND_LUA = r'''
dofile(os.getenv("WARMUP_CASE"))
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } warmup_timespec;
int clock_gettime(int clk_id, warmup_timespec *tp);
]]
local ts = ffi.new("warmup_timespec")
local function now_ms() -- CLOCK_MONOTONIC (1), as Python's time.monotonic()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local base_setup, base_response, base_done = setup, response, done
local ps_threads, epoch = {}, nil

function setup(thread)
  base_setup(thread)
  if not epoch then epoch = now_ms() end -- before wrk starts any thread or connection
  thread:set("load_t0", epoch)
  table.insert(ps_threads, thread)
end

-- thread-local: second index -> answers
ps_ok, ps_bad = {}, {}

function response(status, headers, body)
  base_response(status, headers, body)
  local s = math.floor((now_ms() - load_t0) / 1000)
  if status >= 200 and status < 300 then
    ps_ok[s] = (ps_ok[s] or 0) + 1
  else
    ps_bad[s] = (ps_bad[s] or 0) + 1
  end
end

local function merge(name)
  local total, out = {}, {}
  for _, t in ipairs(ps_threads) do
    for s, n in pairs(t:get(name) or {}) do total[s] = (total[s] or 0) + n end
  end
  for s, n in pairs(total) do table.insert(out, s .. ":" .. n) end
  return #out > 0 and table.concat(out, ",") or "none"
end

function done(summary, latency, requests)
  base_done(summary, latency, requests)
  io.write(string.format("PER_SECOND t0_ms=%.3f requests=%d ok=%s bad=%s\n",
    epoch, summary.requests, merge("ps_ok"), merge("ps_bad")))
end
'''


def series_env(series):
    m = re.fullmatch(r"etcdjvm-cts([0-9]+(?:\.[0-9]+)?)", series)
    if m:
        opts = (os.environ.get("ETCD_NODE_JAVA_OPTS", "") + f" -XX:CompileThresholdScaling={m.group(1)}").strip()
        return {"ETCD_NODE_JAVA_OPTS": opts}
    if series == "etcdjvm-jdk17":
        return {"ETCD_NODE_JAVA": JDK17}
    if series in ("etcdjvm-replay", "etcdjvm-noreplay"):
        flag = "+" if series == "etcdjvm-replay" else "-"
        opts = (os.environ.get("ETCD_NODE_JAVA_OPTS", "")
                + f" -XX:+UnlockDiagnosticVMOptions -XX:{flag}AOTReplayTraining").strip()
        return {"ETCD_NODE_JAVA_OPTS": opts}
    return {}


def prepare(series):
    """Builds / trains the archive of the JVM a series runs on, so no timing includes it."""
    env = dict(os.environ, **series_env(series))
    launcher = os.path.join(b.ROOT, "bin", "etcd-node")
    res = subprocess.run([launcher, "--prepare"], env=env, timeout=900)
    if res.returncode != 0:
        sys.exit(f"bin/etcd-node --prepare failed for series {series}")
    which = subprocess.run([launcher, "--which-java"], env=env, capture_output=True, text=True, timeout=60)
    b.log(f"{series}: {which.stdout.strip()}")


def compile_threshold_scaling(pid):
    """The last -XX:CompileThresholdScaling on the JVM's command line (the one in effect)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return None
    values = [a.split("=", 1)[1] for a in args if a.startswith("-XX:CompileThresholdScaling=")]
    return values[-1] if values else "1 (default)"


def parse_counts(text):
    counts = {}
    if text != "none":
        for part in text.split(","):
            s, _, n = part.partition(":")
            counts[int(s)] = int(n)
    return counts


def wrk_per_second(lua_path, server, op, key, conns, seconds):
    """One wrk run; (ok per second list [0..seconds-1], result dict, load start on CLOCK_MONOTONIC)."""
    case = os.path.join(b.HERE, "wrk", f"{op}.lua")
    url = f"{server.url}{server.prefix}/{key}"
    cmd = ["wrk", "-t", str(max(1, min(conns, 2))), "-c", str(conns), "-d", f"{seconds}s",
           "--timeout", "5s", "--latency", "-s", lua_path, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                         env=dict(os.environ, WARMUP_CASE=case), cwd=os.path.join(b.HERE, "wrk"))
    res = b.result_fields(out.stdout, numbers=False)
    per = b.result_fields(out.stdout, "PER_SECOND", numbers=False)
    if not res or per is None:
        sys.exit(f"wrk printed no BENCH_RESULT / PER_SECOND line for {op} on {server.kind}:\n"
                 f"{out.stdout}\n{out.stderr}")
    ok, bad = parse_counts(per["ok"]), parse_counts(per["bad"])
    counted = sum(ok.values()) + sum(bad.values())
    if counted != int(per["requests"]):
        sys.exit(f"per-second counts ({counted}) do not add up to wrk's total ({per['requests']}) "
                 f"for {op} on {server.kind}")
    if min(list(ok) + list(bad) + [0]) < 0:
        sys.exit(f"an answer was counted before the load began ({op} on {server.kind})")
    # the last partial second (wrk stops up to ~100 ms after its -d) is in the total, not in the series
    series = [ok.get(s, 0) for s in range(seconds)]
    res["bad_total"] = sum(bad.values())
    res["tail_ok"] = sum(n for s, n in ok.items() if s >= seconds)
    return series, res, float(per["t0_ms"]) / 1000


def analyse(per_second, steady_n):
    steady = statistics.fmean(per_second[-steady_n:])
    goal = 0.8 * steady
    reach = next((i + 1 for i, v in enumerate(per_second) if v >= goal), None)
    sustain = None
    for i in range(len(per_second) - 1, -1, -1):
        if per_second[i] < goal:
            break
        sustain = i + 1
    return steady, reach, sustain


def one_run(series, op, a, lua_path):
    kind = b.ETCD if series == b.ETCD else b.OURS
    with tempfile.TemporaryDirectory(prefix="etcdjvm-warmup-") as tmp:
        s = b.cluster(kind, tmp, 1, env=series_env(series) or None)[0]
        try:
            t0 = time.monotonic()
            s.start()
            b.wait_writable(s, timeout=60)
            first_write = time.monotonic()
            cpu = s.cpu_seconds()
            cts = compile_threshold_scaling(s.pid) if kind == b.OURS else None
            key = "bench/key" if op == "put" else "bench-ready"
            per, res, load_t0 = wrk_per_second(lua_path, s, op, key, a.conns, a.seconds)
            if not s.alive():
                sys.exit(f"{series} exited during the run; see {s.log_path}")
        except BaseException:
            s.kill()
            raise
        s.stop()
    r = {"start_to_write_ms": (first_write - t0) * 1000, "start_cpu_s": cpu, "per_second": per,
         "gap_ms": (load_t0 - first_write) * 1000, "cts": cts, "res": res}
    r["steady"], r["reach"], r["sustain"] = analyse(per, a.steady)
    b.log(f"{series} {op}: start -> first write {r['start_to_write_ms']:.0f} ms (CPU {cpu:.2f} s), "
          f"load began {r['gap_ms']:.0f} ms later; steady {r['steady']:.0f}/s; >= 80 % at second "
          f"{r['reach']}, for good from second {r['sustain']}"
          + (f"; CompileThresholdScaling={cts}" if cts else "")
          + f"; wrk: {res.get('requests')} answers = {sum(per)} 2xx in the {len(per)} s + {res['tail_ok']} "
            f"2xx after them + {res['bad_total']} others ({res.get('non_2xx')} non-2xx), socket errors "
            f"connect/read/write/timeout {res.get('err_connect')}/{res.get('err_read')}/"
            f"{res.get('err_write')}/{res.get('err_timeout')})")
    return r


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=30, help="load duration per series (default 30)")
    ap.add_argument("--steady", type=int, help="steady = mean of the last N seconds (default 5, or half of --seconds "
                    "when shorter than 10)")
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--series", default=DEFAULT_SERIES, help=f"comma-separated, or all (default {DEFAULT_SERIES})")
    ap.add_argument("--ops", default="put", help="put, get or put,get (each on its own fresh node)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-etcd", action="store_true")
    ap.add_argument("--csv")
    a = ap.parse_args()
    series = ALL_SERIES if a.series == "all" else [s.strip() for s in a.series.split(",") if s.strip()]
    unknown = [s for s in series if s not in ALL_SERIES and not re.fullmatch(r"etcdjvm-cts[0-9]+(\.[0-9]+)?", s)]
    if unknown:
        sys.exit(f"unknown series {', '.join(unknown)} (known: {', '.join(ALL_SERIES)})")
    if a.no_etcd:
        series = [s for s in series if s != b.ETCD]
    ops = [o.strip() for o in a.ops.split(",") if o.strip()]
    if not series or not ops or any(o not in ("put", "get") for o in ops):
        sys.exit("nothing to measure: check --series and --ops (put, get)")
    if a.steady is None:
        a.steady = min(5, max(1, a.seconds // 2))
    if a.rounds < 1 or a.conns < 1:
        sys.exit("--rounds and --conns must be at least 1")
    if a.seconds < 2 or not 1 <= a.steady < a.seconds:
        sys.exit("--steady must be at least 1 and below --seconds")
    if "etcdjvm-jdk17" in series and not os.access(JDK17, os.X_OK):
        sys.exit(f"series etcdjvm-jdk17 needs {JDK17}")
    b.ensure_tool("wrk", "wrk")
    if b.ETCD in series:
        b.ensure_tool("etcd", "etcd-server")
    for s in series:
        if s != b.ETCD:
            prepare(s)
    out = b.Csv(a.csv)
    results = {(s, o): [] for s in series for o in ops}
    with tempfile.TemporaryDirectory(prefix="etcdjvm-warmup-lua-") as lua_dir:
        lua_path = os.path.join(lua_dir, "per_second.lua")
        with open(lua_path, "w") as f:
            f.write(PER_SECOND_LUA)
        for rnd in range(a.rounds):
            for op in ops:
                for s in (series if rnd % 2 == 0 else list(reversed(series))):
                    results[(s, op)].append(one_run(s, op, a, lua_path))
                    time.sleep(1)

    failures = []
    summary = {}
    for (s, op), runs in results.items():
        per = [med([r["per_second"][i] for r in runs]) for i in range(a.seconds)]
        for i, v in enumerate(per):
            out.row("warmup", i + 1, s, f"{op}_rps", float(v), "requests/s")
        m = {k: med([r[k] for r in runs]) for k in ("start_to_write_ms", "start_cpu_s", "steady", "reach", "sustain")}
        m["first"] = per[0]
        m["cts"] = runs[0]["cts"]
        summary[(s, op)] = m
        if op == ops[0]:  # every node is started the same way: one start-up figure per series
            every = [r for o in ops for r in results[(s, o)]]
            out.row("warmup", 0, s, "start_to_write_ms", med([r["start_to_write_ms"] for r in every]), "ms")
            out.row("warmup", 0, s, "start_cpu_s", med([r["start_cpu_s"] for r in every]), "s")
        out.row("warmup", 0, s, f"{op}_steady_rps", m["steady"], "requests/s")
        out.row("warmup", 0, s, f"{op}_reach_80pct_s", m["reach"], "s")
        out.row("warmup", 0, s, f"{op}_sustain_80pct_s", m["sustain"], "s")
        for r in runs:
            res = r["res"]
            if int(res.get("non_2xx", 0)) or r["res"]["bad_total"]:
                failures.append(f"{s} {op}: {res.get('non_2xx')} non-2xx answers ({res.get('codes')})")
            errs = sum(int(res.get(k, 0)) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
            if errs:
                failures.append(f"{s} {op}: {errs} socket errors (connect/read/write/timeout "
                                f"{res.get('err_connect')}/{res.get('err_read')}/{res.get('err_write')}/"
                                f"{res.get('err_timeout')})")

    rounds = f", median of {a.rounds} rounds" if a.rounds > 1 else ""
    print(f"\nWarm-up: a fresh node under {a.conns} connections for {a.seconds} s{rounds}; "
          f"steady = mean of the last {a.steady} s\n")
    print("| series | op | start -> first write | CPU at first write | first second | steady | "
          ">= 80 % of steady at second | >= 80 % for good from second | CompileThresholdScaling |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")

    def f0(v, unit=""):
        return "-" if v is None else f"{v:.0f}{unit}"

    for (s, op), m in summary.items():
        print(f"| {s} | {op.upper()} | {f0(m['start_to_write_ms'], ' ms')} | {'-' if m['start_cpu_s'] is None else format(m['start_cpu_s'], '.2f') + ' s'} | "
              f"{f0(m['first'], '/s')} | {f0(m['steady'], '/s')} | {f0(m['reach'])} | {f0(m['sustain'])} | "
              f"{m['cts'] or '-'} |")
    for op in ops:
        cols = [s for s in series]
        print(f"\n{op.upper()} requests/s, second by second (second x = [x-1, x) s after the load began)\n")
        print("| second | " + " | ".join(cols) + " |")
        print("|---:|" + "---:|" * len(cols))
        pers = {s: [med([r["per_second"][i] for r in results[(s, op)]]) for i in range(a.seconds)] for s in cols}
        for i in range(a.seconds):
            print(f"| {i + 1} | " + " | ".join(f"{pers[s][i]:.0f}" for s in cols) + " |")
    if failures:
        sys.exit("warm-up run had failed requests: " + "; ".join(failures))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("warmup.py interrupted; its servers are stopped and its temporary directories removed")
