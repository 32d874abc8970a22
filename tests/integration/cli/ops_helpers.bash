# Shared set-up of the container and volume CLI suites (ps.bats, ops.bats, cp.bats,
# volume.bats): berth and the real docker CLI against ONE daemon, so that berth's output can be
# compared with docker's for the same containers.
#
# The daemon is a variable:
#   OPS_SOCK=/path/to.sock   use that daemon as it is (berthd, or any Docker-compatible one);
#                            the suite imports busybox into it if it has no busybox image
#   (unset)                  a private Debian dockerd 20.10 (tests/integration/api/dockerd.bash,
#                            --bridge=none, its own containerd) started once per file
#
#   ops_setup_file / ops_teardown_file   in setup_file / teardown_file
#   ops_teardown                          in teardown: removes the containers and volumes the
#                                         test made (only those labelled berth-ops-test)
#   b ARGS...    berth against the daemon      d ARGS...   the docker CLI against it
#   run_bd ARGS...   runs both; sets B_OUT/B_ERR/B_RC and D_OUT/D_ERR/D_RC

bats_require_minimum_version 1.5.0

BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)}
BERTH_BIN=${BERTH_BIN:-${BERTH_BUILD:-$BERTH_SRC/build}/bin}
BERTH=${BERTH:-$BERTH_BIN/berth}
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}

# shellcheck source=../api/dockerd.bash
source "$BERTH_SRC/tests/integration/api/dockerd.bash"

fail() {
  echo "FAIL: $*" >&2
  return 1
}
assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"; }
assert_contains() { [[ $1 == *"$2"* ]] || fail "expected '$2' in: $1"; }

b() { BERTH_HOST="unix://$OPS_SOCK" timeout 60 "$BERTH" "$@"; }
d() { DOCKER_HOST="unix://$OPS_SOCK" DOCKER_CONFIG="$OPS_DIR/docker-config" timeout 60 "$DOCKER_CLI" "$@"; }

# run_bd ARGS...: the same command through berth and docker, outputs kept apart.
run_bd() {
  B_RC=0 D_RC=0
  b "$@" >"$OPS_DIR/b.out" 2>"$OPS_DIR/b.err" || B_RC=$?
  d "$@" >"$OPS_DIR/d.out" 2>"$OPS_DIR/d.err" || D_RC=$?
  B_OUT=$(cat "$OPS_DIR/b.out") B_ERR=$(cat "$OPS_DIR/b.err")
  D_OUT=$(cat "$OPS_DIR/d.out") D_ERR=$(cat "$OPS_DIR/d.err")
}
# untimed: the two runs may straddle a second, so "2 seconds ago" / "Up Less than a second"
# become "X ago" / "Up X", and the column padding they change is squeezed.
untimed() {
  sed -E 's/(Less than a second|About a minute|About an hour|[0-9]+ (seconds?|minutes?|hours?)) ago/X ago/g
    s/Up (Less than a second|About a minute|About an hour|[0-9]+ (seconds?|minutes?|hours?))/Up X/g
    s/   +/   /g' <<<"$1"
}
# same_as_docker ARGS...: berth prints what docker prints (stdout, stderr with "docker"
# spelled "berth") and exits as docker does.
same_as_docker() {
  run_bd "$@"
  assert_eq "$(untimed "$B_OUT")" "$(untimed "$D_OUT")" "stdout of '$*'"
  assert_eq "$B_ERR" "${D_ERR//docker/berth}" "stderr of '$*'"
  assert_eq "$B_RC" "$D_RC" "exit code of '$*'"
}

ops_setup_file() {
  ((EUID == 0)) || skip "needs root"
  [[ -x $BERTH ]] || skip "berth not built"
  [[ -x $DOCKER_CLI ]] || skip "no docker CLI at $DOCKER_CLI"
  OPS_DIR=$(mktemp -d /tmp/berth-ops.XXXXXX)
  export OPS_DIR
  if [[ -z ${OPS_SOCK:-} ]]; then
    dockerd_available || skip "Debian's docker.io (dockerd) is not installed: run scripts/bootstrap"
    dockerd_start "$OPS_DIR/dockerd" 2>"$OPS_DIR/dockerd-start.err" ||
      skip "private dockerd did not start: $(tail -3 "$OPS_DIR/dockerd-start.err")"
    OPS_SOCK=$DOCKERD_SOCK
    OPS_OWN_DOCKERD=1
  fi
  export OPS_SOCK OPS_OWN_DOCKERD
  if ! d image inspect busybox:latest >/dev/null 2>&1; then
    "$BERTH_SRC/scripts/make-rootfs-busybox" "$OPS_DIR/rootfs" >/dev/null 2>&1 || skip "no busybox rootfs"
    tar -C "$OPS_DIR/rootfs" --numeric-owner -c . >"$OPS_DIR/busybox.tar"
    d import -c 'CMD ["sh"]' "$OPS_DIR/busybox.tar" busybox:latest >/dev/null
  fi
}

ops_teardown_file() {
  [[ -n ${OPS_DIR:-} ]] || return 0
  if [[ ${OPS_OWN_DOCKERD:-} == 1 ]]; then
    dockerd_stop "$OPS_DIR/dockerd"
  fi
  rm -rf "$OPS_DIR"
}

ops_teardown() {
  [[ -n ${OPS_SOCK:-} ]] || return 0
  local ids
  ids=$(d ps -aq --filter label=berth-ops-test 2>/dev/null) || true
  [[ -z $ids ]] || d rm -f $ids >/dev/null 2>&1 || true
  ids=$(d volume ls -q --filter label=berth-ops-test 2>/dev/null) || true
  [[ -z $ids ]] || d volume rm -f $ids >/dev/null 2>&1 || true
}

# drun ARGS...: docker run -d with the suite's label (so teardown finds it); prints the id.
drun() { d run -d -l berth-ops-test=1 "$@"; }
# dcreate ARGS...: docker create, labelled.
dcreate() { d create -l berth-ops-test=1 "$@"; }
