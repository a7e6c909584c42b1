# Sourced by bin/etcd-node and bin/example: one Maven build whose output goes to a log file, so
# that a first run shows one line saying what is built and how long it took, not Maven's output
# (Maven 3.8 prints raw ANSI resets, "[0m[0m...", even with --batch-mode -Dstyle.color=never).
# On failure, the end of the log is shown, with any colour codes stripped.

# maven_build ROOT LOG MAVEN_ARGS... : runs Maven in ROOT with its output in LOG.
maven_build() {
  local root=$1 log=$2
  shift 2
  mkdir -p "$(dirname "$log")"
  if ! (cd "$root" && mvn --batch-mode -Dstyle.color=never "$@") >"$log" 2>&1; then
    echo "failed. The end of $log:" >&2
    tail -n 40 "$log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >&2
    return 1
  fi
}
