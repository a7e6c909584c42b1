#!/usr/bin/env bash
# Side-by-side load benchmark: etcdjvm's v1 API next to etcd 3.4's v2 API, same run,
# same machine, loopback only. Prints a markdown report on stdout (progress on stderr).
#
#   benchmarks/run.sh                                  # etcd only
#   benchmarks/run.sh --ours http://127.0.0.1:4001     # plus an already-running node
#   benchmarks/run.sh --ours-cmd 'bin/etcd-node -n n0 -d {DIR} -c 127.0.0.1:{PORT} -s 127.0.0.1:{PEER_PORT}'
#
# Options (defaults in brackets):
#   --ours URL           base URL of a running etcdjvm node (no path)
#   --ours-cmd CMD       start etcdjvm with CMD; {PORT} = free client port on 127.0.0.1,
#                        {PEER_PORT} = a second free port, {DIR} = fresh empty directory;
#                        with --nodes 3 also {I} (0,1,2), {PEERS} (all peer addresses,
#                        "127.0.0.1:P0,127.0.0.1:P1,127.0.0.1:P2") and {OTHER_PEERS} (all
#                        but this node's). Stopped at exit. E.g. for bin/etcd-node:
#                        'bin/etcd-node -n n{I} -d {DIR} -c 127.0.0.1:{PORT} -s 127.0.0.1:{PEER_PORT}'
#                        (with --nodes 3 add: -C {OTHER_PEERS})
#   --ours-prefix P      key URL prefix of ours [/v1/keys]
#   --ours-method M      write method for ours, PUT or POST [PUT]
#   --etcd / --no-etcd   run etcd (default) or not
#   --nodes 1|3          cluster size for both; with 3, every case goes to the leader [1]
#   --duration S         measured seconds per case [10]
#   --warmup S           warm-up seconds per case, discarded [2]
#   --connections LIST   comma list [1,16,64]
#   --cases LIST         comma list, run in the order given [get,put,put-ttl,put-distinct]
#                        (put-distinct last: the keys it leaves make every later
#                        snapshot of the store slower)
#   --threads N          most wrk threads (a case uses min(conns, N)) [2]
#   --startup-runs N     start -> first write measurements per server, 0 = skip [3]
#   --max-noise PCT      re-run a case when other processes used more than PCT % of
#                        the machine's CPU during it (other sessions, builds) [10]
#   --retries N          at most N re-runs per case for noise; the quietest run is kept [2]
#   --quiet-wait S       before a re-run, wait up to S s for the others to go quiet [20]
#   --nice N             run the servers and wrk at niceness N, e.g. -10 on a machine
#                        shared with builds (negative needs root) [0]
#   --out FILE           also write the report to FILE
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit "${1:-0}"; }

OURS_URL=""; OURS_CMD=""; OURS_PREFIX=/v1/keys; OURS_METHOD=PUT
ETCD=1; NODES=1; DURATION=10; WARMUP=2; CONNS=1,16,64
CASES=get,put,put-ttl,put-distinct; MAX_THREADS=2; STARTUP_RUNS=3; OUT=""; MAX_NOISE=10; RETRIES=2; QUIET_WAIT=20
while [ $# -gt 0 ]; do
  case $1 in
    --ours)          OURS_URL=${2%/}; shift 2 ;;
    --ours-cmd)      OURS_CMD=$2; shift 2 ;;
    --ours-prefix)   OURS_PREFIX=$2; shift 2 ;;
    --ours-method)   OURS_METHOD=$2; shift 2 ;;
    --etcd)          ETCD=1; shift ;;
    --no-etcd)       ETCD=0; shift ;;
    --nodes)         NODES=$2; shift 2 ;;
    --duration)      DURATION=$2; shift 2 ;;
    --warmup)        WARMUP=$2; shift 2 ;;
    --connections)   CONNS=$2; shift 2 ;;
    --cases)         CASES=$2; shift 2 ;;
    --threads)       MAX_THREADS=$2; shift 2 ;;
    --startup-runs)  STARTUP_RUNS=$2; shift 2 ;;
    --out)           OUT=$2; shift 2 ;;
    --max-noise)     MAX_NOISE=$2; shift 2 ;;
    --retries)       RETRIES=$2; shift 2 ;;
    --quiet-wait)    QUIET_WAIT=$2; shift 2 ;;
    --nice)          BENCH_NICE=$2; shift 2 ;;
    -h|--help)       usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
isnum "$DURATION" && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 600 ] || die "--duration must be 1..600"
isnum "$WARMUP" && [ "$WARMUP" -le 60 ] || die "--warmup must be 0..60"
isnum "$MAX_THREADS" && [ "$MAX_THREADS" -ge 1 ] || die "--threads must be >= 1"
isnum "$STARTUP_RUNS" || die "--startup-runs must be a number"
isnum "$MAX_NOISE" || die "--max-noise must be a whole percentage"
isnum "$RETRIES" && [ "$RETRIES" -le 5 ] || die "--retries must be 0..5"
isnum "$QUIET_WAIT" && [ "$QUIET_WAIT" -le 300 ] || die "--quiet-wait must be 0..300"
[[ $BENCH_NICE =~ ^-?[0-9]+$ && $BENCH_NICE -ge -20 && $BENCH_NICE -le 19 ]] || die "--nice must be -20..19"
export BENCH_NICE
case $NODES in 1|3) ;; *) die "--nodes must be 1 or 3" ;; esac
case $OURS_METHOD in PUT|POST) ;; *) die "--ours-method must be PUT or POST" ;; esac
[ -n "$OURS_URL" ] && [ -n "$OURS_CMD" ] && die "give --ours or --ours-cmd, not both"
[ -n "$OURS_URL" ] && [ "$NODES" = 3 ] && die "--nodes 3 with ours needs --ours-cmd (the script finds the leader)"
if [ -n "$OURS_URL" ]; then
  [[ $OURS_URL =~ ^http://(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\])(:[0-9]+)?$ ]] \
    || die "--ours must be http://127.x.x.x:PORT or localhost (loopback only)"
fi
IFS=, read -r -a CONN_LIST <<<"$CONNS"
for c in "${CONN_LIST[@]}"; do isnum "$c" && [ "$c" -ge 1 ] && [ "$c" -le 1024 ] || die "bad connection count: $c"; done
IFS=, read -r -a CASE_LIST <<<"$CASES"
for k in "${CASE_LIST[@]}"; do case $k in get|put|put-distinct|put-ttl) ;; *) die "unknown case: $k" ;; esac; done
HAVE_OURS=0; { [ -n "$OURS_URL" ] || [ -n "$OURS_CMD" ]; } && HAVE_OURS=1
[ "$ETCD" = 1 ] || [ "$HAVE_OURS" = 1 ] || die "nothing to measure (--no-etcd and no --ours/--ours-cmd)"

tools=(wrk:wrk curl:curl ss:iproute2 timeout:coreutils setsid:util-linux)
[ "$ETCD" = 1 ] && tools+=(etcd:etcd-server)
ensure_tools "${tools[@]}"

TMP=$(mktemp -d -t etcdjvm-bench.XXXXXX)
cleanup() { stop_all; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
RUN_ID=$(date +%s)
EXIT_CODE=0
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- startup (before any load, each server alone) ------------------------------
STARTUP_ETCD="-"; STARTUP_OURS="-"
startup_line() { sed -n 's/^STARTUP_RESULT //p' | awk '{for(i=1;i<=NF;i++){split($i,a,"="); v[a[1]]=a[2]} printf "median %s ms (min %s, max %s, %s runs: %s)", v["median_ms"], v["min_ms"], v["max_ms"], v["runs"], v["all_ms"]}'; }
if [ "$STARTUP_RUNS" -gt 0 ] && [ "$NODES" = 1 ]; then
  if [ "$ETCD" = 1 ]; then
    log "etcd: start -> first successful write, $STARTUP_RUNS runs"
    out=$("$HERE/startup.sh" --etcd --probe put --runs "$STARTUP_RUNS") || die "startup.sh --etcd failed"
    STARTUP_ETCD=$(startup_line <<<"$out")
  fi
  if [ -n "$OURS_CMD" ]; then
    log "etcdjvm: start -> first successful write, $STARTUP_RUNS runs"
    out=$("$HERE/startup.sh" --cmd "$OURS_CMD" --prefix "$OURS_PREFIX" --method "$OURS_METHOD" --probe put --runs "$STARTUP_RUNS") \
      || die "startup.sh --cmd '$OURS_CMD' failed"
    STARTUP_OURS=$(startup_line <<<"$out")
  fi
fi

# ---- servers ---------------------------------------------------------------------
ETCD_URL=""; ETCD_PGIDS=(); OURS_PGIDS=()
start_etcd() {
  local i cports=() pports=() cluster="" cmd url deadline res
  for i in $(seq 0 $((NODES - 1))); do
    free_port 23790; cports+=("$FREE_PORT"); free_port 23890; pports+=("$FREE_PORT")
    cluster+="${cluster:+,}e$i=http://$BENCH_HOST:${pports[$i]}"
  done
  for i in $(seq 0 $((NODES - 1))); do
    cmd=$(etcd_cmd "e$i" "${cports[$i]}" "${pports[$i]}" "$cluster" "$TMP/etcd$i")
    start_bg "$TMP/etcd$i.log" "$cmd"; ETCD_PGIDS+=("$BG_PID")
  done
  for i in $(seq 0 $((NODES - 1))); do
    url="http://$BENCH_HOST:${cports[$i]}"
    wait_http 30 PUT "$url/v2/keys/bench/ready-$i" "value=1" 200,201 "${ETCD_PGIDS[$i]}" >/dev/null \
      || { tail -20 "$TMP/etcd$i.log" >&2; die "etcd node $i did not become writable"; }
  done
  # writes go to the leader (a follower would proxy them)
  deadline=$(( $(now_ms) + 30000 ))
  while [ -z "$ETCD_URL" ] && [ "$(now_ms)" -lt "$deadline" ]; do
    for i in $(seq 0 $((NODES - 1))); do
      url="http://$BENCH_HOST:${cports[$i]}"
      res=$(http GET "$url/v2/stats/self")
      [[ $res == *'"state":"StateLeader"'* ]] && { ETCD_URL=$url; break; }
    done
    [ -n "$ETCD_URL" ] || sleep 0.1
  done
  [ -n "$ETCD_URL" ] || die "no etcd leader found"
  log "etcd: $NODES node(s) up, leader $ETCD_URL, data in $TMP"
}

start_ours() {
  local i ports=() pports=() peers="" others cmd url deadline res code
  for i in $(seq 0 $((NODES - 1))); do
    free_port 24001; ports+=("$FREE_PORT"); free_port 24101; pports+=("$FREE_PORT")
    peers+="${peers:+,}$BENCH_HOST:${pports[$i]}"
  done
  for i in $(seq 0 $((NODES - 1))); do
    mkdir -p "$TMP/ours$i"
    cmd=${OURS_CMD//\{PORT\}/${ports[$i]}}; cmd=${cmd//\{PEER_PORT\}/${pports[$i]}}
    cmd=${cmd//\{DIR\}/$TMP/ours$i}; cmd=${cmd//\{I\}/$i}; cmd=${cmd//\{PEERS\}/$peers}
    others=$(tr ',' '\n' <<<"$peers" | grep -vx "$BENCH_HOST:${pports[$i]}" | paste -sd, -)
    cmd=${cmd//\{OTHER_PEERS\}/$others}
    log "etcdjvm node $i: $cmd"
    start_bg "$TMP/ours$i.log" "$cmd"; OURS_PGIDS+=("$BG_PID")
  done
  for i in $(seq 0 $((NODES - 1))); do
    wait_http 120 GET "http://$BENCH_HOST:${ports[$i]}$OURS_PREFIX/bench-ready" "" 200,400,404 "${OURS_PGIDS[$i]}" >/dev/null \
      || { tail -30 "$TMP/ours$i.log" >&2; die "etcdjvm node $i did not answer"; }
  done
  # the leader is the node that takes a write itself (2xx; a follower answers 307)
  OURS_URL=""
  deadline=$(( $(now_ms) + 60000 ))
  while [ -z "$OURS_URL" ] && [ "$(now_ms)" -lt "$deadline" ]; do
    for i in $(seq 0 $((NODES - 1))); do
      url="http://$BENCH_HOST:${ports[$i]}"
      res=$(http "$OURS_METHOD" "$url$OURS_PREFIX/bench/ready-$i" "value=1"); code=${res%% *}
      [[ $code == 2?? ]] && { OURS_URL=$url; break; }
    done
    [ -n "$OURS_URL" ] || sleep 0.1
  done
  [ -n "$OURS_URL" ] || { tail -30 "$TMP/ours0.log" >&2; die "no etcdjvm node took a write within 60 s"; }
  log "etcdjvm: $NODES node(s) up, writes to $OURS_URL"
}

[ "$ETCD" = 1 ] && start_etcd
[ -n "$OURS_CMD" ] && start_ours
if [ -n "$OURS_URL" ] && [ -z "$OURS_CMD" ]; then
  res=$(http GET "$OURS_URL$OURS_PREFIX/bench-ready"); code=${res%% *}
  [[ $code == 000 ]] && die "etcdjvm at $OURS_URL does not answer"
  log "etcdjvm at $OURS_URL answers GET $OURS_PREFIX/bench-ready with $code"
fi
OURS_VERSION="-"
if [ -n "$OURS_URL" ]; then
  res=$(http GET "$OURS_URL/version"); [[ ${res%% *} == 200 ]] && OURS_VERSION=$(echo "${res#* }" | head -c 120)
fi

# ---- cases -------------------------------------------------------------------------
case_title() {
  case $1 in
    get) echo "GET one key" ;;
    put) echo "PUT one key" ;;
    put-distinct) echo "PUT distinct keys" ;;
    put-ttl) echo "PUT ttl=60" ;;
  esac
}

declare -A RPS P50 P90 P99 MAX CODES NOISE CPU

# target_info TARGET -> sets T_URL T_PREFIX T_METHOD
target_info() {
  if [ "$1" = etcd ]; then T_URL=$ETCD_URL; T_PREFIX=/v2/keys; T_METHOD=PUT
  else T_URL=$OURS_URL; T_PREFIX=$OURS_PREFIX; T_METHOD=$OURS_METHOD; fi
}

# preflight TARGET CASE URL -> checks one request by hand; fails loudly with the answer
preflight() {
  local target=$1 kase=$2 url=$3 res code body
  case $kase in
    get)
      res=$(http "$T_METHOD" "$url" "value=bench-value-0123456789"); code=${res%% *}
      [[ $code == 2?? ]] || { log "$target: seeding $url answered: $res"; return 1; }
      res=$(http GET "$url"); code=${res%% *}; body=${res#* }
      [[ $code == 200 && $body == *bench-value-0123456789* ]] || { log "$target: GET $url answered: $res"; return 1; } ;;
    put|put-ttl)
      if [ "$kase" = put-ttl ]; then body="value=bench-value-0123456789&ttl=60"; else body="value=bench-value-0123456789"; fi
      res=$(http "$T_METHOD" "$url" "$body"); code=${res%% *}
      [[ $code == 2?? ]] || { log "$target: $T_METHOD $url answered: $res"; return 1; }
      if [ "$kase" = put-ttl ] && [[ $res != *'"ttl"'* ]]; then log "$target: no ttl in answer: $res"; return 1; fi ;;
    put-distinct)
      res=$(http "$T_METHOD" "$url/preflight" "value=bench-value-0123456789"); code=${res%% *}
      [[ $code == 2?? ]] || { log "$target: $T_METHOD $url/preflight answered: $res"; return 1; } ;;
  esac
  return 0
}

# wrk_once TARGET CASE CONNS SECONDS URL LOG -> prints the BENCH_RESULT line (empty if none)
wrk_once() {
  local target=$1 kase=$2 conns=$3 secs=$4 url=$5 logf=$6 script ttl="" threads
  case $kase in
    get) script=get.lua ;;
    put) script=put.lua ;;
    put-ttl) script=put.lua; ttl=60 ;;
    put-distinct) script=put_distinct.lua ;;
  esac
  threads=$(( conns < MAX_THREADS ? conns : MAX_THREADS ))
  BENCH_METHOD=$T_METHOD BENCH_TTL=$ttl nice -n "$BENCH_NICE" timeout $(( secs + 30 )) \
    wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s -s "$HERE/wrk/$script" "$url" >"$logf" 2>&1
  echo "wrk exit code: $?" >>"$logf"
  times >"$TMP/wrk-times"   # CPU of wrk: this subshell's children (not in a pipe: that forks)
  times_to_ticks <"$TMP/wrk-times" >"$TMP/wrk-ticks"
  sed -n 's/^BENCH_RESULT //p' "$logf" | tail -1
}

field() { sed -n "s/.*\(^\| \)$1=\([^ ]*\).*/\2/p" <<<"$2"; }

# wait_quiet: up to QUIET_WAIT s, until the machine's busy share over 1 s (our servers
# idle, no load running) is at most MAX_NOISE %.
wait_quiet() {
  local deadline=$(( $(now_ms) + QUIET_WAIT * 1000 )) b0 b1 pct
  while [ "$(now_ms)" -lt "$deadline" ]; do
    b0=$(machine_busy_ticks); sleep 1; b1=$(machine_busy_ticks)
    pct=$(( (b1 - b0) * 100 / ($(nproc) * CLK_TCK) ))
    [ "$pct" -le "$MAX_NOISE" ] && return 0
  done
  log "the machine stayed busy (${pct}% with no load of ours) for ${QUIET_WAIT}s; measuring anyway"
}

# run_case TARGET CASE CONNS -> fills RPS/P50/P99[TARGET,CASE,CONNS]
run_case() {
  local target=$1 kase=$2 conns=$3 key="$1,$2,$3" url line bad errs logf
  target_info "$target"
  case $kase in
    get) url="$T_URL$T_PREFIX/bench/$RUN_ID/get" ;;
    put) url="$T_URL$T_PREFIX/bench/$RUN_ID/one" ;;
    put-ttl) url="$T_URL$T_PREFIX/bench/$RUN_ID/ttl" ;;
    put-distinct) url="$T_URL$T_PREFIX/bench/$RUN_ID/distinct-c$conns" ;;
  esac
  RPS[$key]=FAILED; P50[$key]="-"; P99[$key]="-"
  if ! preflight "$target" "$kase" "$url"; then
    printf '\n!!!! FAILED: %s %s c=%s: the preflight request did not get a 2xx answer (see above)\n\n' "$target" "$kase" "$conns" >&2
    if [ "$target" = ours ] && [ -f "$TMP/ours0.log" ]; then
      echo "last lines of the etcdjvm node's log:" >&2; tail -20 "$TMP/ours0.log" >&2
    fi
    EXIT_CODE=1; return
  fi
  if [ "$WARMUP" -gt 0 ]; then
    local wurl=$url; [ "$kase" = put-distinct ] && wurl="$url-warmup"
    wrk_once "$target" "$kase" "$conns" "$WARMUP" "$wurl" "$TMP/wrk-warmup.log" >/dev/null
  fi
  logf="$TMP/wrk-$target-$kase-c$conns.log"
  local pgids attempt t0 b0 s0 t1 b1 s1 wall cap srv wrkc other best_line="" best_other=101 best_cpu=""
  if [ "$target" = etcd ]; then pgids=("${ETCD_PGIDS[@]}"); else pgids=("${OURS_PGIDS[@]}"); fi
  for attempt in $(seq 0 "$RETRIES"); do
    [ "$kase" = put-distinct ] && [ "$attempt" -gt 0 ] && url="${url%-r*}-r$attempt"
    t0=$(now_ms); b0=$(machine_busy_ticks); s0=$(group_ticks "${pgids[@]}")
    line=$(wrk_once "$target" "$kase" "$conns" "$DURATION" "$url" "$logf")
    t1=$(now_ms); b1=$(machine_busy_ticks); s1=$(group_ticks "${pgids[@]}")
    [ -n "$line" ] || break
    # share of the machine (all cores) used by: the server(s), wrk, everything else
    wall=$(( t1 - t0 )); cap=$(( wall * $(nproc) * CLK_TCK / 1000 )); [ "$cap" -gt 0 ] || cap=1
    wrkc=$(cat "$TMP/wrk-ticks"); srv=$(( s1 - s0 ))
    if [ ${#pgids[@]} -eq 0 ]; then
      # a server this script did not start (--ours URL): its CPU cannot be told apart
      # from other processes', so there is no noise check
      best_other=0; best_line=$line
      best_cpu="wrk $(( wrkc * 100 / cap ))%, server + others $(( (b1 - b0 - wrkc) * 100 / cap ))% of $(nproc) cores"
      break
    fi
    other=$(( (b1 - b0 - srv - wrkc) * 100 / cap )); [ "$other" -lt 0 ] && other=0
    if [ "$other" -lt "$best_other" ]; then
      best_other=$other; best_line=$line
      best_cpu="server $(( srv * 100 / cap ))%, wrk $(( wrkc * 100 / cap ))%, others ${other}% of $(nproc) cores"
    fi
    [ "$other" -le "$MAX_NOISE" ] && break
    if [ "$attempt" -lt "$RETRIES" ]; then
      log "$target $kase c=$conns: other processes used ${other}% of the CPU; measuring again"
      wait_quiet
    fi
  done
  [ -n "$best_line" ] && line=$best_line
  NOISE[$key]=$best_other; CPU[$key]=$best_cpu
  if [ -z "$line" ]; then
    printf '\n!!!! FAILED: %s %s c=%s: wrk printed no result:\n' "$target" "$kase" "$conns" >&2
    tail -20 "$logf" >&2; EXIT_CODE=1; return
  fi
  bad=$(field non_2xx "$line")
  errs=$(( $(field err_connect "$line") + $(field err_read "$line") + $(field err_write "$line") + $(field err_timeout "$line") ))
  if [ "$bad" != 0 ] || [ "$errs" != 0 ] || [ "$(field requests "$line")" = 0 ]; then
    printf '\n!!!! FAILED: %s %s c=%s: %s non-2xx answers (status codes %s), %s socket errors/timeouts\n    %s\n\n' \
      "$target" "$kase" "$conns" "$bad" "$(field codes "$line")" "$errs" "$line" >&2
    EXIT_CODE=1; return
  fi
  RPS[$key]=$(field rps "$line" | awk '{printf "%d", $1 + 0.5}')
  P50[$key]=$(field p50_ms "$line"); P99[$key]=$(field p99_ms "$line")
  P90[$key]=$(field p90_ms "$line"); MAX[$key]=$(field max_ms "$line"); CODES[$key]=$(field codes "$line")
  log "$target $kase c=$conns: ${RPS[$key]} req/s, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms (${CODES[$key]}; CPU: ${CPU[$key]})"
}

TARGETS=()
[ "$ETCD" = 1 ] && TARGETS+=(etcd)
[ -n "$OURS_URL" ] && TARGETS+=(ours)
total=$(( ${#CASE_LIST[@]} * ${#CONN_LIST[@]} * ${#TARGETS[@]} ))
log "running $total cases of ${DURATION}s (+${WARMUP}s warm-up): about $(( total * (DURATION + WARMUP + 1) )) s"
for kase in "${CASE_LIST[@]}"; do
  for conns in "${CONN_LIST[@]}"; do
    for target in "${TARGETS[@]}"; do run_case "$target" "$kase" "$conns"; done
  done
done

# ---- report ------------------------------------------------------------------------
fmt_lat() { [ "$1" = "-" ] && echo "-" || printf '%.2f / %.2f' "$1" "$2"; }
report() {
  local cpu mem fs kase conns o e ratio title
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
  fs=$(df -PT "$TMP" | awk 'NR==2 {print $2 " on " $1}')
  echo "## etcdjvm vs etcd: $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- machine: $(nproc) cores ($cpu), $mem, $(uname -sr); load average at start: $LOAD_AT_START"
  echo "- data dirs: $TMP ($fs)"
  echo "- etcd: $( [ "$ETCD" = 1 ] && echo "$(etcd_version) (v2 API via --enable-v2, ${NODES} node(s))" || echo "not run")"
  echo "- etcdjvm: $( [ -n "$OURS_URL" ] && echo "$OURS_URL$OURS_PREFIX, ${NODES} node(s), writes with $OURS_METHOD, /version: $OURS_VERSION" || echo "not run")"
  [ -n "$OURS_CMD" ] && echo "- etcdjvm command: \`$OURS_CMD\`"
  echo "- load: wrk $(wrk_version), threads = min(conns, $MAX_THREADS), ${DURATION}s per case after a ${WARMUP}s warm-up, loopback, keep-alive, servers and wrk at niceness $BENCH_NICE"
  if [ "$NODES" = 1 ] && [ "$STARTUP_RUNS" -gt 0 ]; then
    echo "- start -> first successful write: etcd $STARTUP_ETCD; etcdjvm $STARTUP_OURS"
  fi
  echo
  echo "| workload | conns | etcdjvm req/s | etcd req/s | ratio | etcdjvm p50 / p99 ms | etcd p50 / p99 ms |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for kase in "${CASE_LIST[@]}"; do
    title=$(case_title "$kase"); [ "$NODES" = 3 ] && title="$title (3 nodes, leader)"
    for conns in "${CONN_LIST[@]}"; do
      o=${RPS[ours,$kase,$conns]:--}; e=${RPS[etcd,$kase,$conns]:--}
      ratio="-"
      [[ $o =~ ^[0-9]+$ && $e =~ ^[0-9]+$ && $e -gt 0 ]] && ratio=$(awk -v a="$o" -v b="$e" 'BEGIN{printf "%.2f", a/b}')
      echo "| $title | $conns | $o | $e | $ratio | $(fmt_lat "${P50[ours,$kase,$conns]:--}" "${P99[ours,$kase,$conns]:--}") | $(fmt_lat "${P50[etcd,$kase,$conns]:--}" "${P99[etcd,$kase,$conns]:--}") |"
    done
  done
  echo
  echo "<details><summary>per run: latency, status codes, CPU share (of all $(nproc) cores) while measured</summary>"
  echo
  echo "| server | workload | conns | req/s | p50 / p90 / p99 / max ms | status codes | CPU |"
  echo "|---|---|---:|---:|---:|---|---|"
  for kase in "${CASE_LIST[@]}"; do
    for conns in "${CONN_LIST[@]}"; do
      for t in "${TARGETS[@]}"; do
        local k="$t,$kase,$conns" name=etcd; [ "$t" = ours ] && name=etcdjvm
        echo "| $name | $(case_title "$kase") | $conns | ${RPS[$k]:--} | ${P50[$k]:--} / ${P90[$k]:--} / ${P99[$k]:--} / ${MAX[$k]:--} | ${CODES[$k]:--} | ${CPU[$k]:--} |"
      done
    done
  done
  echo
  echo "</details>"
  local noisy=""
  for k in "${!NOISE[@]}"; do [ "${NOISE[$k]}" -gt "$MAX_NOISE" ] && noisy+=" ${k//,/ } (${NOISE[$k]}%);"; done
  [ -z "$noisy" ] || { echo; echo "**Noisy:** other processes used more than ${MAX_NOISE}% of the CPU during:$noisy take these numbers with salt."; }
  [ "$EXIT_CODE" = 0 ] || { echo; echo "**Some cases FAILED (non-2xx answers or socket errors): see stderr.**"; }
}

if [ -n "$OUT" ]; then report | tee "$OUT"; else report; fi
exit "$EXIT_CODE"
