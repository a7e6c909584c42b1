#!/usr/bin/env bash
# One client cannot take the node down: the attacks of issue 9 against one etcdjvm node, one after
# the other, while a normal client's GET and PUT latencies are measured, and the node's memory
# (RSS after a full GC) before each attack, at its peak and after the abuser has left.
#
#   benchmarks/abuse.sh                                   # every attack, 20 s each (about 4 minutes)
#   benchmarks/abuse.sh --seconds 10 --attacks none,quadratic,flood
#   benchmarks/abuse.sh --nice -10     # node and clients at niceness -10 (root), as run.sh --nice
#
# Attacks: none (baseline), quadratic, no-read, flood, unfinished, fan-out, write-flood, listing
# (what each does: etcd-embedded/src/test/java/org/etcdjvm/embedded/bench/AbuseBenchmark.java).
# ABUSE_JAVA_OPTS: options for the benchmark's JVM, e.g. -Dflood.conns=256 (the write flood's
# connections, default 1 500).
#
# Builds etcd-embedded and its test classes into etcd-embedded/$BENCH_TARGET (default
# target-bench; nothing is installed into the local Maven repository), starts a node with
# bin/etcd-node (default limits) on free ports of 127.0.0.1 in a fresh directory, and runs the
# benchmark in a second JVM. The abusers connect from other loopback addresses (127.0.0.2, ...;
# on Linux all of 127/8 is loopback), the normal client from 127.0.0.1. Needs jcmd (the JDK's)
# and curl. The markdown report goes to stdout, progress to stderr.
set -uo pipefail # not -e: lib.sh's stop_group tolerates failing kills
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit "${1:-0}"; }
ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds|--attacks) ARGS+=("$1" "$2"); shift 2 ;;
    --nice) BENCH_NICE=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) usage 1 ;;
  esac
done

[[ $BENCH_NICE =~ ^-?[0-9]+$ && $BENCH_NICE -ge -20 && $BENCH_NICE -le 19 ]] || die "--nice must be -20..19"
ensure_tools curl:curl ss:iproute2
command -v jcmd >/dev/null || die "jcmd (from the JDK) is needed to run the node's GC before each memory reading"
TARGET=${BENCH_TARGET:-target-bench}
MODULE="$ROOT/etcd-embedded"

log "building etcd-embedded and its tests into $TARGET ..."
(cd "$ROOT" && ETCDJVM_TARGET="$TARGET" bin/etcd-node --prepare) >&2 || die "building the node failed"
(cd "$ROOT" && mvn -B -q -Detcdjvm.target="$TARGET" -pl etcd-embedded test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$MODULE/$TARGET/bench-test.classpath") >&2 \
  || die "building the benchmark failed"

DIR=$(mktemp -d)
trap 'status=$?; stop_all; rm -rf "$DIR"; exit $status' EXIT
trap 'exit 130' INT TERM
free_port 24001; PORT=$FREE_PORT
free_port 24101; PEER=$FREE_PORT
log "starting a node on 127.0.0.1:$PORT"
# Native Memory Tracking lets the benchmark tell what the JVM holds from what its allocators keep.
NODE_OPTS="-XX:NativeMemoryTracking=summary ${ETCD_NODE_JAVA_OPTS:-}"
start_bg "$DIR/node.log" "env ETCDJVM_TARGET=$TARGET ETCD_NODE_JAVA_OPTS='$NODE_OPTS' $ROOT/bin/etcd-node -n abuse -d $DIR/data -c 127.0.0.1:$PORT -s 127.0.0.1:$PEER"
NODE=$BG_PID
wait_http 60 PUT "http://127.0.0.1:$PORT/v1/keys/bench/ready" "value=1" 200 "$NODE" >/dev/null \
  || { tail -20 "$DIR/node.log" >&2; die "the node did not start"; }
JAVA_PID=$(pgrep -P "$NODE" java || echo "$NODE") # bin/etcd-node execs java: usually the same pid
log "node JVM pid $JAVA_PID; log in $DIR/node.log"

echo "Node: bin/etcd-node, default limits, JVM options: $NODE_OPTS${MALLOC_ARENA_MAX:+, MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX};" \
  "$(nproc) cores; $(java -version 2>&1 | head -1); node and clients at niceness $BENCH_NICE;" \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
nice -n "$BENCH_NICE" java -Xmx2g -Xss256k ${ABUSE_JAVA_OPTS:-} \
  -cp "$MODULE/$TARGET/test-classes:$MODULE/$TARGET/classes:$(cat "$MODULE/$TARGET/bench-test.classpath")" \
  org.etcdjvm.embedded.bench.AbuseBenchmark --url "http://127.0.0.1:$PORT" --pid "$JAVA_PID" "${ARGS[@]}" \
  || die "the benchmark failed"
echo
echo "WARN lines of the node:"
grep -c ' WARN ' "$DIR/node.log" | sed 's/^/  count: /'
grep ' WARN ' "$DIR/node.log" | sed 's/^/  /' | head -20
