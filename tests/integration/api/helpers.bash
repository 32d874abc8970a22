# Shared set-up for the daemon's API tests: a berthd of the test's own (temp root, temp socket),
# driven by real clients (the docker CLI, python3-docker, curl). Teardown stops it by pid.

bats_require_minimum_version 1.5.0

BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)}
BERTH_BIN=${BERTH_BIN:-${BERTH_BUILD:-$BERTH_SRC/build}/bin}
BERTHD=${BERTHD:-$BERTH_BIN/berthd}
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
PYTHON=${PYTHON:-/usr/bin/python3}

fail() {
  echo "FAIL: $*" >&2
  return 1
}
assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"; }
assert_contains() { [[ $1 == *"$2"* ]] || fail "expected '$2' in: $1"; }

# start_berthd [ARGS...]: a daemon on $SOCK with root $ROOT; waits for its socket.
start_berthd() {
  "$BERTHD" --root "$ROOT" --host "unix://$SOCK" --log-level debug "$@" >"$TEST_DIR/berthd.log" 2>&1 &
  BERTHD_PID=$!
  echo "$BERTHD_PID" >>"$TEST_DIR/pids"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -S $SOCK ]] && return 0
    kill -0 "$BERTHD_PID" 2>/dev/null || fail "berthd exited: $(cat "$TEST_DIR/berthd.log")"
    sleep 0.05
  done
  fail "berthd did not create $SOCK: $(cat "$TEST_DIR/berthd.log")"
}

# docker ARGS...: the real docker CLI pointed at this test's daemon.
docker() {
  DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$TEST_DIR/docker-config" timeout 30 "$DOCKER_CLI" "$@"
}

BERTH=${BERTH:-$BERTH_BIN/berth}
# berth ARGS...: berth's own CLI pointed at this test's daemon.
berth() { BERTH_HOST="unix://$SOCK" "$BERTH" "$@"; }

# busybox_tar: BB_TAR, a busybox root filesystem tarball in the test's directory (skips the
# test when busybox-static is missing).
busybox_tar() {
  BB_TAR=$TEST_DIR/busybox.tar
  "$BERTH_SRC/scripts/make-rootfs-busybox" "$TEST_DIR/rootfs" >/dev/null 2>&1 || skip "no busybox rootfs"
  tar -C "$TEST_DIR/rootfs" -c . >"$BB_TAR"
}

api_setup() {
  ((EUID == 0)) || skip "needs root"
  [[ -x $BERTHD ]] || skip "berthd not built"
  TEST_DIR=$(mktemp -d /tmp/berth-api.XXXXXX)
  : >"$TEST_DIR/pids"
  ROOT=$TEST_DIR/root
  SOCK=$TEST_DIR/berth.sock
  start_berthd
}

api_teardown() {
  [[ -n ${TEST_DIR:-} ]] || return 0
  local p
  while read -r p; do
    [[ -n $p ]] || continue
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
  done <"$TEST_DIR/pids"
  rm -rf "$TEST_DIR"
}
