#!/usr/bin/env bash
# Measures process start -> ready, in ms, for a server started by a command.
#
#   benchmarks/startup.sh --etcd [--probe get|put] [--runs N]
#   benchmarks/startup.sh --cmd 'bin/etcd-node -n n0 -d {DIR} -c 127.0.0.1:{PORT} -s 127.0.0.1:{PEER_PORT}' [--prefix /v1/keys] ...
#
# The command is a string; before it runs, {PORT} becomes a free client port on
# 127.0.0.1, {PEER_PORT} a second free port, {DIR} a fresh empty directory (removed
# afterwards), {I} 0, {PEERS} 127.0.0.1:<PEER_PORT> and {OTHER_PEERS} nothing (as in
# run.sh --ours-cmd).
# Every run starts from an empty data directory.
#
# Ready means (polled every 10 ms, from just before the command is started):
#   --probe get (default): GET <url><prefix>/bench-startup-probe answers one of
#                          --ok-codes (default 200,400,404) with a JSON body;
#   --probe put:           PUT (or --method POST) <url><prefix>/bench-startup-probe
#                          value=1 answers 200/201 with a JSON body, i.e. the first
#                          successful (committed) write.
# --prefix defaults to /v1/keys (/v2/keys with --etcd); --timeout S per run [60].
#
# Prints one line per run and a summary line:
#   STARTUP_RESULT probe=put runs=3 median_ms=.. min_ms=.. max_ms=..
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit "${1:-0}"; }

CMD=""; ETCD=0; PROBE="get"; RUNS=3; PREFIX=""; OK_CODES=""; TIMEOUT=60; METHOD=PUT
while [ $# -gt 0 ]; do
  case $1 in
    --cmd)      CMD=$2; shift 2 ;;
    --etcd)     ETCD=1; shift ;;
    --probe)    PROBE=$2; shift 2 ;;
    --runs)     RUNS=$2; shift 2 ;;
    --prefix)   PREFIX=$2; shift 2 ;;
    --ok-codes) OK_CODES=$2; shift 2 ;;
    --timeout)  TIMEOUT=$2; shift 2 ;;
    --method)   METHOD=$2; shift 2 ;;
    -h|--help)  usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done
[ "$ETCD" = 1 ] || [ -n "$CMD" ] || { echo "give --etcd or --cmd" >&2; usage 2; }
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 50 ]] || die "--runs must be 1..50"
case $PROBE in get|put) ;; *) die "--probe must be get or put" ;; esac
case $METHOD in PUT|POST) ;; *) die "--method must be PUT or POST" ;; esac
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -ge 1 && $TIMEOUT -le 600 ]] || die "--timeout must be 1..600"

ensure_tools curl:curl ss:iproute2
if [ "$ETCD" = 1 ]; then
  ensure_tools etcd:etcd-server
  CMD=$(etcd_cmd startup '{PORT}' '{PEER_PORT}' "startup=http://$BENCH_HOST:{PEER_PORT}" '{DIR}/etcd')
  PREFIX=${PREFIX:-/v2/keys}
fi
PREFIX=${PREFIX:-/v1/keys}
if [ -z "$OK_CODES" ]; then
  if [ "$PROBE" = put ]; then OK_CODES=200,201; else OK_CODES=200,400,404; fi
fi

TMP=$(mktemp -d -t etcdjvm-startup.XXXXXX)
cleanup() { stop_all; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

results=()
for i in $(seq 1 "$RUNS"); do
  free_port 23790; port=$FREE_PORT; free_port 23890; peer=$FREE_PORT
  dir="$TMP/run$i"; mkdir -p "$dir"
  cmd=${CMD//\{PORT\}/$port}; cmd=${cmd//\{PEER_PORT\}/$peer}; cmd=${cmd//\{DIR\}/$dir}
  cmd=${cmd//\{I\}/0}; cmd=${cmd//\{PEERS\}/$BENCH_HOST:$peer}; cmd=${cmd//\{OTHER_PEERS\}/}
  url="http://$BENCH_HOST:$port$PREFIX/bench-startup-probe"
  if [ "$PROBE" = put ]; then method=$METHOD; body="value=1"; else method=GET; body=""; fi
  port_in_use "$port" && die "port $port became busy"

  t0=$(now_ms)
  start_bg "$TMP/run$i.log" "$cmd"
  pid=$BG_PID
  if ! ms=$(wait_http "$TIMEOUT" "$method" "$url" "$body" "$OK_CODES" "$pid"); then
    log "run $i: not ready; last lines of its output:"; tail -20 "$TMP/run$i.log" >&2
    exit 1
  fi
  ms=$(( $(now_ms) - t0 ))
  echo "run $i: start -> ready ($PROBE) ${ms} ms"
  results+=("$ms")
  stop_group "$pid"
  BENCH_PGIDS=()   # one server at a time here: forget the stopped one
done

sorted=$(printf '%s\n' "${results[@]}" | sort -n)
n=${#results[@]}
median=$(echo "$sorted" | awk -v n="$n" '{a[NR]=$1} END{ if (n%2) print a[(n+1)/2]; else print int((a[n/2]+a[n/2+1])/2) }')
echo "STARTUP_RESULT probe=$PROBE runs=$n median_ms=$median min_ms=$(echo "$sorted" | head -1) max_ms=$(echo "$sorted" | tail -1) all_ms=$(IFS=,; echo "${results[*]}")"
