# Shared set-up for the registry's tests: a `berth registry serve` of the test's own on
# 127.0.0.1 with a free port (--addr 127.0.0.1:0; the port is read from its first line), a temp
# storage root. Teardown stops it by pid.

bats_require_minimum_version 1.5.0

BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)}
BERTH_BIN=${BERTH_BIN:-${BERTH_BUILD:-$BERTH_SRC/build}/bin}
BERTH=${BERTH:-$BERTH_BIN/berth}

fail() {
  echo "FAIL: $*" >&2
  return 1
}
assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"; }
assert_contains() { [[ $1 == *"$2"* ]] || fail "expected '$2' in: $1"; }

# start_registry [ARGS...]: serves $ROOT; sets REG (127.0.0.1:PORT), URL and REG_PID.
start_registry() {
  "$BERTH" registry serve --addr 127.0.0.1:0 --root "$ROOT" "$@" >"$TEST_DIR/registry.out" \
    2>"$TEST_DIR/registry.log" &
  REG_PID=$!
  echo "$REG_PID" >>"$TEST_DIR/pids"
  local i
  for ((i = 0; i < 200; i++)); do
    REG=$(sed -n 's/^berth registry listening on //p' "$TEST_DIR/registry.out")
    if [[ -n $REG ]]; then
      URL=http://$REG
      return 0
    fi
    kill -0 "$REG_PID" 2>/dev/null || fail "registry exited: $(cat "$TEST_DIR/registry.log")"
    sleep 0.05
  done
  fail "registry did not start: $(cat "$TEST_DIR/registry.log")"
}

# stop_registry: SIGTERM and wait; the exit status is the registry's.
stop_registry() {
  kill -TERM "$REG_PID"
  local rc=0
  wait "$REG_PID" || rc=$?
  REG_PID=
  return $rc
}

registry_setup() {
  [[ -x $BERTH ]] || skip "berth not built"
  command -v curl >/dev/null || skip "no curl"
  TEST_DIR=$(mktemp -d /tmp/berth-registry.XXXXXX)
  : >"$TEST_DIR/pids"
  ROOT=$TEST_DIR/root
}

registry_teardown() {
  [[ -n ${TEST_DIR:-} && -d $TEST_DIR ]] || return 0
  local pid
  while read -r pid; do
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
  done <"$TEST_DIR/pids"
  while read -r pid; do
    [[ -n $pid ]] || continue
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  done <"$TEST_DIR/pids"
  rm -rf "$TEST_DIR"
}

# sha256 FILE: "sha256:<hex>"
sha256() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# oci_layout DIR TAG: an OCI image layout with one image, a layer holding busybox (skips the
# test without umoci or busybox).
oci_layout() {
  command -v umoci >/dev/null || skip "no umoci"
  local bb
  bb=$(command -v busybox) || skip "no busybox"
  umoci init --layout "$1" >/dev/null
  umoci new --image "$1:$2" >/dev/null
  umoci insert --image "$1:$2" "$bb" /bin/busybox >/dev/null
  umoci config --image "$1:$2" --config.cmd sh >/dev/null
}
