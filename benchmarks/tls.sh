#!/usr/bin/env bash
# What TLS costs: GET and PUT of one key at 16 keep-alive connections against one etcdjvm node
# and one etcd 3.4 node (v2 API), each plain and over TLS with the same certificates, in one run,
# on one machine, loopback only. Prints a markdown report on stdout (progress on stderr).
#
#   benchmarks/tls.sh                       # etcdjvm from bin/etcd-node, etcd from the Debian package
#   benchmarks/tls.sh --duration 5 --warmup 1
#
# Two load generators, because wrk cannot present a client certificate:
#   wrk (2 threads)          plain HTTP, and HTTPS without client certificates
#                            (etcdjvm -clientCert/-clientKey; etcd --cert-file/--key-file)
#   ab -k (1 thread)         plain HTTP, and HTTPS with client certificates required
#                            (etcdjvm + -clientCAFile; etcd + --client-cert-auth --trusted-ca-file),
#                            ab presenting its certificate with -E
# Certificates: made by openssl in a temporary directory; a CA, one server certificate for
# 127.0.0.1 used by both servers, one client certificate; ECDSA P-256 keys as openssl ecparam
# writes them (SEC1, "BEGIN EC PRIVATE KEY").
#
# Options (defaults in brackets):
#   --ours-cmd CMD       how to start etcdjvm; {PORT}, {PEER_PORT}, {DIR} as in run.sh, {TLS} = the
#                        TLS flags of the mode ['bin/etcd-node -n n0 -d {DIR} -c 127.0.0.1:{PORT}
#                        -s 127.0.0.1:{PEER_PORT} {TLS}']
#   --duration S         measured seconds per case [10]
#   --warmup S           warm-up seconds per case, discarded [3]
#   --jit-warmup S       after each start, S seconds of GETs and PUTs to each server first, so that
#                        the JVM's JIT has compiled the request path (etcdjvm needs ~20 s) [20]
#   --connections N      [16]
#   --cases LIST         get,put [get,put]
#   --nice N             niceness of servers and load generators [0]
#   --out FILE           also write the report to FILE
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit "${1:-0}"; }

OURS_CMD="$ROOT/bin/etcd-node -n n0 -d {DIR} -c 127.0.0.1:{PORT} -s 127.0.0.1:{PEER_PORT} {TLS}"
DURATION=10; WARMUP=3; JIT_WARMUP=20; CONNS=16; CASES=get,put; OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --ours-cmd)     OURS_CMD=$2; shift 2 ;;
    --duration)     DURATION=$2; shift 2 ;;
    --warmup)       WARMUP=$2; shift 2 ;;
    --jit-warmup)   JIT_WARMUP=$2; shift 2 ;;
    --connections)  CONNS=$2; shift 2 ;;
    --cases)        CASES=$2; shift 2 ;;
    --nice)         BENCH_NICE=$2; shift 2 ;;
    --out)          OUT=$2; shift 2 ;;
    -h|--help)      usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || die "--duration must be a whole number of seconds"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a whole number of seconds"
[[ $JIT_WARMUP =~ ^[0-9]+$ ]] || die "--jit-warmup must be a whole number of seconds"
[[ $CONNS =~ ^[0-9]+$ && $CONNS -ge 1 ]] || die "--connections must be a positive number"
[[ $BENCH_NICE =~ ^-?[0-9]+$ ]] || die "--nice must be a number"
export BENCH_NICE
IFS=, read -r -a CASE_LIST <<<"$CASES"
for k in "${CASE_LIST[@]}"; do case $k in get|put) ;; *) die "unknown case: $k (get, put)" ;; esac; done

ensure_tools wrk:wrk ab:apache2-utils openssl:openssl curl:curl ss:iproute2 etcd:etcd-server \
  timeout:coreutils setsid:util-linux

TMP=$(mktemp -d -t etcdjvm-tls-bench.XXXXXX)
cleanup() { stop_all; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
RUN_ID=$(date +%s)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
EXIT_CODE=0

# ---- certificates ---------------------------------------------------------------------
CERTS=$TMP/certs
mkdir -p "$CERTS"
(
  cd "$CERTS" || exit 1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl ecparam -name prime256v1 -genkey -out ca.key &&
  openssl req -x509 -new -key ca.key -subj /CN=bench-ca -days 2 -out ca.crt &&
  for who in server client; do
    openssl ecparam -name prime256v1 -genkey -out $who.key &&
    openssl req -new -key $who.key -subj /CN=bench-$who -out $who.csr &&
    openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile $who.ext -out $who.crt \
      || exit 1
  done
  cat client.crt client.key >client.pem   # ab -E: certificate and key in one file
) >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; die "openssl could not make the certificates"; }
log "certificates in $CERTS (ECDSA P-256, SEC1 keys)"

# curl_tls MODE -> the curl options that reach a server in that mode
curl_tls() {
  case $1 in
    plain) echo "" ;;
    tls) echo "--cacert $CERTS/ca.crt" ;;
    mtls) echo "--cacert $CERTS/ca.crt --cert $CERTS/client.crt --key $CERTS/client.key" ;;
  esac
}

# status METHOD URL MODE [BODY] -> HTTP status of one request (000: no answer)
status() {
  local method=$1 url=$2 mode=$3 body=${4-}
  # shellcheck disable=SC2046
  curl -s -o /dev/null --max-time 2 -w '%{http_code}' -X "$method" $(curl_tls "$mode") \
    ${body:+-H 'Content-Type: application/x-www-form-urlencoded' --data "$body"} "$url" 2>/dev/null || true
}

# ---- servers --------------------------------------------------------------------------
# start_servers MODE -> starts etcd and etcdjvm; sets ETCD_URL OURS_URL ETCD_PGID OURS_PGID
start_servers() {
  local mode=$1 scheme=http etcd_tls="" ours_tls="" cport pport cmd deadline code
  case $mode in
    tls)  scheme=https
          etcd_tls="--cert-file $CERTS/server.crt --key-file $CERTS/server.key"
          ours_tls="-clientCert $CERTS/server.crt -clientKey $CERTS/server.key" ;;
    mtls) scheme=https
          etcd_tls="--cert-file $CERTS/server.crt --key-file $CERTS/server.key --client-cert-auth --trusted-ca-file $CERTS/ca.crt"
          ours_tls="-clientCert $CERTS/server.crt -clientKey $CERTS/server.key -clientCAFile $CERTS/ca.crt" ;;
  esac
  free_port 23790; cport=$FREE_PORT; free_port 23890; pport=$FREE_PORT
  ETCD_URL="$scheme://$BENCH_HOST:$cport"
  mkdir -p "$TMP/etcd-$mode"
  start_bg "$TMP/etcd-$mode.log" "etcd --name e0 --data-dir $TMP/etcd-$mode/data \
    --listen-client-urls $ETCD_URL --advertise-client-urls $ETCD_URL \
    --listen-peer-urls http://$BENCH_HOST:$pport --initial-advertise-peer-urls http://$BENCH_HOST:$pport \
    --initial-cluster e0=http://$BENCH_HOST:$pport --initial-cluster-state new --enable-v2=true \
    --logger=zap --log-level=error $etcd_tls"
  ETCD_PGID=$BG_PID
  free_port 24001; cport=$FREE_PORT; free_port 24101; pport=$FREE_PORT
  OURS_URL="$scheme://$BENCH_HOST:$cport"
  mkdir -p "$TMP/ours-$mode"
  cmd=${OURS_CMD//\{PORT\}/$cport}; cmd=${cmd//\{PEER_PORT\}/$pport}; cmd=${cmd//\{DIR\}/$TMP/ours-$mode/data}
  cmd=${cmd//\{TLS\}/$ours_tls}
  log "$mode: etcdjvm: $cmd"
  start_bg "$TMP/ours-$mode.log" "$cmd"
  OURS_PGID=$BG_PID
  deadline=$(( $(now_ms) + 120000 ))
  for target in etcd ours; do
    local url prefix pgid
    if [ $target = etcd ]; then url=$ETCD_URL; prefix=/v2/keys; pgid=$ETCD_PGID
    else url=$OURS_URL; prefix=/v1/keys; pgid=$OURS_PGID; fi
    code=000
    while [[ $code != 2?? ]]; do
      kill -0 "$pgid" 2>/dev/null || { tail -20 "$TMP/$target-$mode.log" >&2; die "$target ($mode) exited"; }
      [ "$(now_ms)" -lt "$deadline" ] || { tail -20 "$TMP/$target-$mode.log" >&2; die "$target ($mode) did not take a write"; }
      code=$(status PUT "$url$prefix/bench/ready" "$mode" "value=1")
      [[ $code == 2?? ]] || sleep 0.05
    done
  done
  if [ "$mode" = mtls ]; then # the client certificate is what lets a client in
    for url in "$ETCD_URL/v2/keys/bench/ready" "$OURS_URL/v1/keys/bench/ready"; do
      code=$(status GET "$url" tls)
      [[ $code == 2?? ]] && die "$url answered $code without a client certificate"
    done
  fi
  log "$mode: etcd at $ETCD_URL, etcdjvm at $OURS_URL"
}

stop_servers() { stop_all; }

# ---- load -----------------------------------------------------------------------------
declare -A RPS LAT OTHERS

# measure TOOL TARGET MODE CASE URL -> fills RPS/LAT/OTHERS[TOOL,TARGET,MODE,CASE]
measure() {
  local tool=$1 target=$2 mode=$3 kase=$4 url=$5 key="$1,$2,$3,$4" pgid b0 b1 s0 s1 t0 t1 out line
  local body="value=bench-value-0123456789" cap other rps p50 p99 bad
  [ "$target" = etcd ] && pgid=$ETCD_PGID || pgid=$OURS_PGID
  [ "$kase" = get ] && { [[ $(status PUT "$url" "$mode" "$body") == 2?? ]] || die "$target ($mode): seeding $url failed"; }
  printf '%s' "$body" >"$TMP/body"
  run_tool() { # SECONDS
    local secs=$1
    if [ "$tool" = wrk ]; then
      local script=get.lua; [ "$kase" = put ] && script=put.lua
      BENCH_METHOD=PUT nice -n "$BENCH_NICE" timeout $(( secs + 30 )) \
        wrk -t2 -c"$CONNS" -d"${secs}s" --timeout 5s -s "$HERE/wrk/$script" "$url" 2>&1
    else
      local args=(-q -k -c "$CONNS" -t "$secs" -n 100000000 -s 5)
      [ "$mode" = mtls ] && args+=(-E "$CERTS/client.pem")
      [ "$kase" = put ] && args+=(-u "$TMP/body" -T application/x-www-form-urlencoded)
      nice -n "$BENCH_NICE" timeout $(( secs + 30 )) ab "${args[@]}" "$url" 2>&1
    fi
  }
  [ "$WARMUP" -gt 0 ] && run_tool "$WARMUP" >/dev/null
  times >"$TMP/tool-times"; times_to_ticks <"$TMP/tool-times" >"$TMP/tool-ticks0"
  t0=$(now_ms); b0=$(machine_busy_ticks); s0=$(group_ticks "$pgid")
  out=$(run_tool "$DURATION")
  times >"$TMP/tool-times"; times_to_ticks <"$TMP/tool-times" >"$TMP/tool-ticks"
  t1=$(now_ms); b1=$(machine_busy_ticks); s1=$(group_ticks "$pgid")
  echo "$out" >"$TMP/$tool-$target-$mode-$kase.log"
  cap=$(( (t1 - t0) * $(nproc) * CLK_TCK / 1000 )); [ "$cap" -gt 0 ] || cap=1
  # the load generator's own CPU: this shell's waited-for children, during the measured run
  local tool_ticks=$(( $(cat "$TMP/tool-ticks") - $(cat "$TMP/tool-ticks0") ))
  other=$(( (b1 - b0 - (s1 - s0) - tool_ticks) * 100 / cap )); [ "$other" -lt 0 ] && other=0
  if [ "$tool" = wrk ]; then
    line=$(sed -n 's/^BENCH_RESULT //p' <<<"$out" | tail -1)
    [ -n "$line" ] || { echo "$out" | tail -5 >&2; log "FAILED: $key: wrk printed no result"; EXIT_CODE=1; return; }
    bad=$(( $(sed -n 's/.*non_2xx=\([0-9]*\).*/\1/p' <<<"$line") + $(sed -n 's/.*err_connect=\([0-9]*\) err_read=\([0-9]*\) err_write=\([0-9]*\) err_timeout=\([0-9]*\).*/\1+\2+\3+\4/p' <<<"$line") ))
    rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$line")
    p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$line"); p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  else
    rps=$(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' <<<"$out")
    [ -n "$rps" ] || { echo "$out" | tail -5 >&2; log "FAILED: $key: ab printed no result"; EXIT_CODE=1; return; }
    # ab counts an answer whose length differs from the first one's as failed ("Length"): a PUT's
    # answer grows with its index, so only connect, receive and exception failures count here
    bad=$(( $(sed -n 's/.*(Connect: \([0-9]*\), Receive: \([0-9]*\), Length: [0-9]*, Exceptions: \([0-9]*\)).*/\1+\2+\3/p' <<<"$out" | grep . || echo 0) \
      + $(sed -n 's/^Non-2xx responses: *\([0-9]*\).*/\1/p' <<<"$out" | head -1 | grep . || echo 0) ))
    p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  fi
  if [ "$bad" != 0 ]; then
    log "FAILED: $key: $bad failed or non-2xx requests (log: $TMP/$tool-$target-$mode-$kase.log)"; EXIT_CODE=1
  fi
  RPS[$key]=$(awk -v r="$rps" 'BEGIN{printf "%d", r + 0.5}')
  LAT[$key]="$p50 / $p99"
  OTHERS[$key]=$other
  log "$tool $target $mode $kase c=$CONNS: ${RPS[$key]} req/s, p50/p99 ${LAT[$key]} ms, others ${other}% CPU"
}

# jit_warmup MODE: half the time GETs, half PUTs, on each server, with the mode's load generator
jit_warmup() {
  local mode=$1 half=$(( (JIT_WARMUP + 1) / 2 )) target url kase
  [ "$JIT_WARMUP" -gt 0 ] || return 0
  log "$mode: ${JIT_WARMUP} s of warm-up load on each server"
  for target in etcd ours; do
    for kase in get put; do
      if [ $target = etcd ]; then url="$ETCD_URL/v2/keys/bench/$RUN_ID/warmup"; else url="$OURS_URL/v1/keys/bench/$RUN_ID/warmup"; fi
      [[ $(status PUT "$url" "$mode" "value=warm") == 2?? ]] || die "$target ($mode): warm-up write failed"
      printf 'value=warm' >"$TMP/warm-body"
      if [ "$mode" = mtls ]; then
        local args=(-q -k -c "$CONNS" -t "$half" -n 100000000 -s 5 -E "$CERTS/client.pem")
        [ "$kase" = put ] && args+=(-u "$TMP/warm-body" -T application/x-www-form-urlencoded)
        nice -n "$BENCH_NICE" timeout $(( half + 30 )) ab "${args[@]}" "$url" >/dev/null 2>&1
      else
        local script=get.lua; [ "$kase" = put ] && script=put.lua
        BENCH_METHOD=PUT nice -n "$BENCH_NICE" timeout $(( half + 30 )) \
          wrk -t2 -c"$CONNS" -d"${half}s" -s "$HERE/wrk/$script" "$url" >/dev/null 2>&1
      fi
    done
  done
}

MODES=(plain tls mtls)
for mode in "${MODES[@]}"; do
  start_servers "$mode"
  jit_warmup "$mode"
  for kase in "${CASE_LIST[@]}"; do
    for target in etcd ours; do
      if [ $target = etcd ]; then url="$ETCD_URL/v2/keys/bench/$RUN_ID/$kase"; else url="$OURS_URL/v1/keys/bench/$RUN_ID/$kase"; fi
      case $mode in
        plain) measure wrk $target plain "$kase" "$url"; measure ab $target plain "$kase" "$url" ;;
        tls)   measure wrk $target tls "$kase" "$url" ;;
        mtls)  measure ab $target mtls "$kase" "$url" ;;
      esac
    done
  done
  stop_servers
done
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ---------------------------------------------------------------------------
cost() { # PLAIN TLS -> "-12 %"
  [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ && $1 -gt 0 ]] && awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.0f %%", (b-a)*100/a}' || echo "-"
}
report() {
  echo "## TLS cost, etcdjvm and etcd: $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr);" \
    "load average at start: $LOAD_AT_START, at end: $LOAD_AT_END"
  echo "- etcd $(etcd_version) (v2 API), etcdjvm \`$OURS_CMD\`, one node each; $CONNS keep-alive connections," \
    "${DURATION} s per case after ${WARMUP} s of warm-up (and ${JIT_WARMUP} s of GETs and PUTs after each start); wrk $(wrk_version) (2 threads), $(ab -V | head -1 | sed 's/,.*//') (1 thread)"
  echo "- TLS: the same openssl-made ECDSA P-256 server certificate for both; TLS 1.3 as negotiated by each"
  echo
  echo "| workload | load | etcdjvm plain | etcdjvm TLS | cost | etcd plain | etcd TLS | cost |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  local kase o0 o1 e0 e1
  for kase in "${CASE_LIST[@]}"; do
    o0=${RPS[wrk,ours,plain,$kase]:--}; o1=${RPS[wrk,ours,tls,$kase]:--}
    e0=${RPS[wrk,etcd,plain,$kase]:--}; e1=${RPS[wrk,etcd,tls,$kase]:--}
    echo "| $(tr a-z A-Z <<<"$kase") one key | wrk, HTTPS | $o0 | $o1 | $(cost "$o0" "$o1") | $e0 | $e1 | $(cost "$e0" "$e1") |"
    o0=${RPS[ab,ours,plain,$kase]:--}; o1=${RPS[ab,ours,mtls,$kase]:--}
    e0=${RPS[ab,etcd,plain,$kase]:--}; e1=${RPS[ab,etcd,mtls,$kase]:--}
    echo "| $(tr a-z A-Z <<<"$kase") one key | ab -k, HTTPS + client certificates | $o0 | $o1 | $(cost "$o0" "$o1") | $e0 | $e1 | $(cost "$e0" "$e1") |"
  done
  echo
  echo "| server | load | mode | workload | req/s | p50 / p99 ms | other processes' CPU |"
  echo "|---|---|---|---|---:|---:|---:|"
  local k
  for k in $(printf '%s\n' "${!RPS[@]}" | sort); do
    IFS=, read -r tool target mode kase <<<"$k"
    echo "| $( [ "$target" = ours ] && echo etcdjvm || echo etcd) | $tool | $mode | $kase | ${RPS[$k]} | ${LAT[$k]} | ${OTHERS[$k]} % |"
  done
  [ "$EXIT_CODE" = 0 ] || { echo; echo "**Some cases FAILED: see stderr.**"; }
}

if [ -n "$OUT" ]; then report | tee "$OUT"; else report; fi
exit "$EXIT_CODE"
