# Shared set-up for the container tests: a berthd of the test's own (temp root, temp exec root,
# temp socket) with a busybox image, driven by the real docker CLI, python3-docker and berth.
# Teardown removes every container (their monitors outlive berthd by design), stops berthd by
# pid, kills any monitor left by pid and unmounts what is left under the test's directory.

# shellcheck source=../api/helpers.bash
source "$BATS_TEST_DIRNAME/../api/helpers.bash"

containers_setup() {
  ((EUID == 0)) || skip "needs root"
  [[ -x $BERTHD ]] || skip "berthd not built"
  TEST_DIR=$(mktemp -d /tmp/berth-ct.XXXXXX)
  : >"$TEST_DIR/pids"
  ROOT=$TEST_DIR/root
  SOCK=$TEST_DIR/berth.sock
  RUN=$TEST_DIR/run
  start_berthd --exec-root "$RUN"
  busybox_tar
  gzip -1 <"$BB_TAR" | berth import -c 'CMD ["sh"]' - busybox:latest >/dev/null || fail "import busybox"
}

# restart_berthd [-9]: stops berthd (SIGTERM, or SIGKILL with -9) and starts it again.
restart_berthd() {
  local sig=TERM
  [[ ${1:-} == -9 ]] && sig=KILL
  kill -$sig "$BERTHD_PID"
  for _ in $(seq 100); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.05; done
  start_berthd --exec-root "$RUN"
}

containers_teardown() {
  [[ -n ${TEST_DIR:-} ]] || return 0
  if [[ -S $SOCK ]] && kill -0 "${BERTHD_PID:-0}" 2>/dev/null; then
    local ids
    ids=$(docker ps -aq 2>/dev/null) || true
    [[ -z $ids ]] || docker rm -f $ids >/dev/null 2>&1 || true
  fi
  local p f
  while read -r p; do
    [[ -n $p ]] || continue
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
  done <"$TEST_DIR/pids"
  # Monitors (and so their containers) still there after a failed test.
  for f in "$RUN"/containers/*/monitor.pid; do
    [[ -f $f ]] || continue
    p=$(cat "$f")
    [[ $(cat /proc/"$p"/comm 2>/dev/null) == berth-monitor ]] && kill -KILL "$p" 2>/dev/null
  done
  sleep 0.1
  grep -o " $TEST_DIR[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$TEST_DIR"
}
