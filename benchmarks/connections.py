#!/usr/bin/env python3
"""Throughput and latency by number of connections, etcdjvm next to etcd 3.4 (issue 13's
connection curve), plus the side-by-side cases of run.sh at 16 connections.

One single-node server of each kind, started once (empty data directory) and warmed up with
--jit-warmup seconds (default 15) of PUT and GET at 16 connections. For every connection
count (--conns, default 1,16,64,256) and case (GET one key, PUT one key), wrk runs a warm-up of
--warmup seconds and then a measured run of --seconds against etcd, then against etcdjvm (the
order alternates from one cell to the next, so neither side always comes second). Then, at 16
connections, PUT ttl=60 and PUT distinct keys. Every non-2xx answer or socket error fails the
run (benchmarks/wrk/common.lua counts them).

  benchmarks/connections.py [--conns 1,16,64,256] [--seconds 5] [--warmup 1] [--jit-warmup 15] [--no-etcd] [--csv FILE]

Rows: curve=connections, x=connections, metric get_rps / get_p50_ms / get_p99_ms / put_rps /
put_p50_ms / put_p99_ms; curve=side-by-side, x=16, metric put_ttl_rps, put_distinct_rps (and _p99_ms).
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", default="1,16,64,256")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="seconds of the same load before each measured cell")
    ap.add_argument("--jit-warmup", type=int, default=15,
                    help="seconds of GET and PUT at 16 connections on each fresh server before the first cell,"
                         " so the cells compare warmed-up servers (warm-up itself is warmup.py's subject)")
    ap.add_argument("--no-etcd", action="store_true")
    ap.add_argument("--no-extra", action="store_true", help="skip PUT ttl=60 and PUT distinct keys")
    ap.add_argument("--csv")
    a = ap.parse_args()
    conns = [int(c) for c in a.conns.split(",")]
    out = b.Csv(a.csv)
    kinds = [b.OURS] + ([] if a.no_etcd else [b.ETCD])
    with tempfile.TemporaryDirectory(prefix="etcdjvm-conns-") as tmp:
        servers = {}
        for kind in kinds:
            s = b.cluster(kind, tmp, 1)[0].start()
            b.wait_writable(s)
            if not b.write(s, "bench/get", "bench-value-0123456789"):
                sys.exit(f"{kind}: could not write the GET key")
            servers[kind] = s
            if a.jit_warmup:
                b.log(f"{kind}: {a.jit_warmup} s of PUT, then GET, at 16 connections before measuring")
                b.wrk(s, "put", 16, max(1, a.jit_warmup // 2), key="bench/put")
                b.wrk(s, "get", 16, max(1, a.jit_warmup - a.jit_warmup // 2), key="bench/get")
        table = []
        cell = 0

        def measure(case, key, c, env=None):
            nonlocal cell
            order = kinds if cell % 2 == 0 else list(reversed(kinds))
            cell += 1
            results = {}
            for kind in order:
                s = servers[kind]
                if a.warmup:
                    b.wrk(s, case, c, a.warmup, key=key, env=env)
                results[kind] = b.wrk(s, case, c, a.seconds, key=key, env=env)
            return results

        for c in conns:
            for case, name in (("get", "get"), ("put", "put")):
                key = "bench/get" if case == "get" else "bench/put"
                results = measure(case, key, c)
                for kind, r in results.items():
                    out.row("connections", c, kind, f"{name}_rps", r["rps"], "req/s")
                    out.row("connections", c, kind, f"{name}_p50_ms", r["p50_ms"], "ms")
                    out.row("connections", c, kind, f"{name}_p99_ms", r["p99_ms"], "ms")
                table.append((f"{name.upper()} one key", c, results))
        if not a.no_extra:
            for case, name, env, key in (("put", "put_ttl", {"BENCH_TTL": "60"}, "bench/ttl"),
                                         ("put_distinct", "put_distinct", None, "bench/distinct")):
                results = measure(case, key, 16, env)
                for kind, r in results.items():
                    out.row("side-by-side", 16, kind, f"{name}_rps", r["rps"], "req/s")
                    out.row("side-by-side", 16, kind, f"{name}_p99_ms", r["p99_ms"], "ms")
                table.append(({"put_ttl": "PUT ttl=60", "put_distinct": "PUT distinct keys"}[name], 16, results))
        print("| workload | conns | etcd req/s | etcdjvm req/s | ratio | etcd p99 ms | etcdjvm p99 ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, c, results in table:
            ours, etcd = results.get(b.OURS), results.get(b.ETCD)
            ratio = f"{ours['rps'] / etcd['rps']:.2f}" if ours and etcd and etcd["rps"] else "-"
            print(f"| {name} | {c} | {etcd['rps'] if etcd else '-':.0f} | {ours['rps']:.0f} | {ratio} | "
                  f"{etcd['p99_ms'] if etcd else '-'} | {ours['p99_ms']} |" if etcd else
                  f"| {name} | {c} | - | {ours['rps']:.0f} | - | - | {ours['p99_ms']} |")


if __name__ == "__main__":
    main()
