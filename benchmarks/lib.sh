# shellcheck shell=bash
# Shared helpers for run.sh and startup.sh (sourced, not executed).
# Everything here talks to 127.0.0.1 only, and every loop has a deadline.

BENCH_HOST=127.0.0.1

log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '\nERROR: %s\n\n' "$*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- tools -------------------------------------------------------------------
# Installs the Debian packages that provide missing commands (apt-get update once).
# Usage: ensure_tools cmd:package ...
ensure_tools() {
  local want=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || want+=("$pkg")
  done
  [ ${#want[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${want[*]}) and not root: apt-get install ${want[*]}"
  log "installing with apt-get: ${want[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >&2 || die "apt-get install ${want[*]} failed"
  # The etcd-server package enables a systemd unit; where systemd runs, it may have
  # started etcd on 2379. We never use that instance (our etcd picks its own ports).
}

# ---- processes ---------------------------------------------------------------
# Every process we start becomes the leader of its own session/process group
# (setsid does not fork here: a background child of a non-interactive shell is not
# a group leader), so stopping the group also stops whatever it spawned.
BENCH_PGIDS=()

# Niceness for the servers and wrk (run.sh --nice, exported as BENCH_NICE): on a
# machine shared with other work, a negative value (root only) keeps that work from
# taking the cores away in the middle of a case.
BENCH_NICE=${BENCH_NICE:-0}

# start_bg LOGFILE COMMAND-STRING  -> sets BG_PID
start_bg() {
  local logfile=$1; shift
  setsid nice -n "$BENCH_NICE" bash -c "exec $*" >"$logfile" 2>&1 </dev/null &
  BG_PID=$!
  BENCH_PGIDS+=("$BG_PID")
}

# stop_group PID: TERM the group, wait up to 5 s, then KILL it.
stop_group() {
  local pid=$1 deadline
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  deadline=$(( $(now_ms) + 5000 ))
  while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  # children of the group that outlived the leader
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

stop_all() {
  local p
  for p in "${BENCH_PGIDS[@]}"; do stop_group "$p"; done
  BENCH_PGIDS=()
}

# ---- ports -------------------------------------------------------------------
BENCH_USED_PORTS=" "
port_in_use() { [ -n "$(ss -Htln "( sport = :$1 )" 2>/dev/null)" ]; }

# free_port START -> sets FREE_PORT to a port >= START that nobody listens on and that
# we have not handed out yet in this run (a variable, not output: $(...) would lose
# the record of handed-out ports).
free_port() {
  local p=$1 end=$(( $1 + 500 ))
  while [ "$p" -lt "$end" ]; do
    if [[ $BENCH_USED_PORTS != *" $p "* ]] && ! port_in_use "$p"; then
      BENCH_USED_PORTS+="$p "
      FREE_PORT=$p; export FREE_PORT; return 0
    fi
    p=$(( p + 1 ))
  done
  die "no free port in $1..$end"
}

# ---- HTTP --------------------------------------------------------------------
# http METHOD URL [FORM-BODY] -> prints "<status> <body>" (status 000 if no answer).
# Does not follow redirects: a 307 is reported as 307.
http() {
  local method=$1 url=$2 body=${3-} out
  if [ -n "$body" ]; then
    out=$(curl -s --max-time 2 -X "$method" -H 'Content-Type: application/x-www-form-urlencoded' \
          --data "$body" -w '\n%{http_code}' "$url" 2>/dev/null)
  else
    out=$(curl -s --max-time 2 -X "$method" -w '\n%{http_code}' "$url" 2>/dev/null)
  fi
  [ -z "$out" ] && out=$'\n000'
  printf '%s %s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}

# wait_http TIMEOUT_S METHOD URL FORM-BODY OK-CODES(comma list) [PID]
# Polls every 10 ms until the answer has one of OK-CODES and a JSON body.
# Prints the elapsed ms from the call. Fails if PID dies or the deadline passes.
wait_http() {
  local timeout_s=$1 method=$2 url=$3 body=$4 codes=",$5," pid=${6-}
  local start deadline res code rest
  start=$(now_ms); deadline=$(( start + timeout_s * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    res=$(http "$method" "$url" "$body")
    code=${res%% *}; rest=${res#* }
    if [[ $codes == *",$code,"* && $rest == \{* ]]; then
      echo $(( $(now_ms) - start )); return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      log "process $pid exited before $url was ready (last answer: $code)"; return 1
    fi
    sleep 0.01
  done
  log "timed out after ${timeout_s}s waiting for $method $url (last answer: $code ${rest:0:200})"
  return 1
}

# ---- etcd --------------------------------------------------------------------
# etcd_cmd NAME CLIENT_PORT PEER_PORT INITIAL_CLUSTER DATA_DIR -> prints the command line
etcd_cmd() {
  local name=$1 cport=$2 pport=$3 cluster=$4 dir=$5
  echo "etcd --name $name --data-dir $dir" \
    "--listen-client-urls http://$BENCH_HOST:$cport --advertise-client-urls http://$BENCH_HOST:$cport" \
    "--listen-peer-urls http://$BENCH_HOST:$pport --initial-advertise-peer-urls http://$BENCH_HOST:$pport" \
    "--initial-cluster $cluster --initial-cluster-state new --initial-cluster-token etcdjvm-bench" \
    "--enable-v2=true --logger=zap --log-level=error"
}

etcd_version() { etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p'; }
wrk_version()  { wrk -v 2>&1 | head -1 | awk '{print $2}'; }

# ---- CPU accounting (clock ticks, see getconf CLK_TCK) ---------------------------
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# busy ticks of the whole machine: user nice system irq softirq steal
machine_busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

# group_ticks PGID... -> utime+stime of the live processes in those process groups
group_ticks() {
  local groups=" $* " f s rest total=0 a
  for f in /proc/[0-9]*/stat; do
    { s=$(<"$f"); } 2>/dev/null || continue
    rest=${s##*) }                      # fields from 3 (state) on; comm may hold spaces
    read -r -a a <<<"$rest"
    # a[0]=state a[1]=ppid a[2]=pgrp ... a[11]=utime a[12]=stime
    [[ $groups == *" ${a[2]} "* ]] && total=$(( total + a[11] + a[12] ))
  done
  echo "$total"
}

# times_to_ticks: reads bash's `times` output, prints the children's user+sys in ticks
times_to_ticks() {
  awk -v hz="$CLK_TCK" 'NR==2 { t=0; for (i=1;i<=2;i++) { split($i, p, "m"); sub("s","",p[2]); t += p[1]*60 + p[2] } printf "%d", t*hz + 0.5 }'
}
