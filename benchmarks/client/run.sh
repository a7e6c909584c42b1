#!/usr/bin/env bash
# EtcdClient vs raw OkHttp on one embedded node, plus watch latency (see README.md here).
#
#   benchmarks/client/run.sh                       # defaults: 1,16 threads, 5 s raw + 5 s client per case
#   benchmarks/client/run.sh --seconds 2 --threads 1 --watch-events 500
#   BENCH_JAVA_OPTS='-XX:StartFlightRecording=filename=/tmp/client.jfr' benchmarks/client/run.sh
#
# Builds etcd-client and etcd-embedded (installed into the local Maven repository) and this
# benchmark, then runs it in one JVM with the flags Atomix needs. The markdown report goes to
# stdout, progress to stderr. Options: --seconds S --warmup S --threads LIST --slice-ms N
# --watch-events N --cases throughput,watch --ops get,set
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${BENCH_TARGET:-target-bench}

echo "[build] etcd-client + etcd-embedded (-Detcdjvm.target=$TARGET) ..." >&2
if ! (cd "$ROOT" && mvn -B -q -Detcdjvm.target="$TARGET" -pl etcd-client,etcd-embedded -am install -Dmaven.test.skip=true) >&2; then
  echo "[build] FAILED (see above); using the etcd-client/etcd-embedded already in the local Maven repository" >&2
fi
echo "[build] benchmark ..." >&2
(cd "$HERE" && mvn -B -q -Detcdjvm.target="$TARGET" package) >&2

CP="$HERE/$TARGET/classes:$(cat "$HERE/$TARGET/benchmark.classpath")"
exec java \
  --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
  -Xms1g -Xmx1g ${BENCH_JAVA_OPTS:-} \
  -cp "$CP" org.etcdjvm.benchmarks.client.ClientBenchmark "$@"
