#!/usr/bin/env bats
# containerd (Debian's) runs containers with the runtime under test as its runc binary
# (`ctr run --runc-binary`): this is how Berth containers run under Kubernetes.
#
# Each test starts its own containerd with root, state, sockets and the runtime's --root under
# the test directory, the CRI plugin disabled and no systemd (as ../shared/anchors/10-daemons.sh
# does on this machine), and stops it by pid in teardown.

load helpers

setup() {
  berth_setup
  command -v containerd >/dev/null && command -v ctr >/dev/null || skip "containerd not installed"
  CTRD=$TEST_DIR/containerd
  CTRD_SOCK=$CTRD/c.sock
  mkdir -p "$CTRD"
  cat >"$CTRD/config.toml" <<TOML
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD/c.sock.ttrpc"
[debug]
  address = ""
  level = "warn"
[metrics]
  address = ""
TOML
  # containerd 1.6 puts shim sockets in /run/containerd/s whatever its state dir; remove the
  # directories in teardown if this test made them (rmdir: only when empty).
  RUN_CONTAINERD_EXISTED=0
  [[ -e /run/containerd ]] && RUN_CONTAINERD_EXISTED=1
  containerd --config "$CTRD/config.toml" >"$CTRD/log" 2>&1 &
  CTRD_PID=$!
  track_pid "$CTRD_PID"
  wait_for 20 '[[ -S $CTRD_SOCK ]] && ctr --address "$CTRD_SOCK" version >/dev/null 2>&1' ||
    fail "containerd did not start: $(tail -n 20 "$CTRD/log")"
  # The container's rootfs: the bundle's, used in place (not managed by a snapshotter).
  ROOTFS=$BUNDLE/rootfs
  # No image config, so no PATH unless given.
  CPATH=PATH=/usr/sbin:/usr/bin:/sbin:/bin
}

teardown() {
  stop_containerd
  berth_teardown
}

# shims_of_ours: pids of containerd shims started by our containerd (their command line names
# our private socket, which no other containerd uses).
shims_of_ours() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(cmdline "${p#/proc/}") == *containerd-shim*"$CTRD_SOCK"* ]] && echo "${p#/proc/}"
  done
  return 0
}

stop_containerd() {
  [[ -n ${CTRD_PID:-} ]] || return 0
  local shims p
  shims=$(shims_of_ours)
  kill -TERM "$CTRD_PID" 2>/dev/null
  wait_for 10 '! alive '"$CTRD_PID" || kill -KILL "$CTRD_PID" 2>/dev/null
  wait "$CTRD_PID" 2>/dev/null || true
  # A shim outlives containerd by design; one still here after `ctr run --rm` is ours to end.
  for p in $shims; do
    kill -KILL "$p" 2>/dev/null
  done
  # containerd's own mounts (shim bundles, rootfs) below its state directory.
  local m
  for m in $(mounts_below "$CTRD" | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  CTRD_PID=
  if ((RUN_CONTAINERD_EXISTED == 0)); then
    rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null || true
  fi
}

# ctr_run ID ARGS...: ctr run --rm with the runtime under test, the container's cgroup where the
# leftover checks look, and the runtime's state under the test directory.
ctr_run() {
  local id=$1
  shift
  timeout --kill-after=5 60 ctr --address "$CTRD_SOCK" run --rm --fifo-dir "$CTRD/fifo" \
    --runc-binary "$RUNTIME" --runc-root "$TEST_DIR/runc-root" \
    --cgroup "/$CGROUP_PARENT/$id" --env "$CPATH" --rootfs "$ROOTFS" "$id" "$@"
}

@test "ctr run --runc-binary RUNTIME --rootfs runs echo hello" {
  local id
  id=$(new_id ctr)
  run -0 ctr_run "$id" echo hello </dev/null
  assert_output hello
  # --rm deleted the container: containerd knows it no more, the runtime has no state for it.
  run -0 ctr --address "$CTRD_SOCK" containers list -q
  assert_not_contains "$output" "$id"
  assert_eq "$(leftovers "$id")" "" "leftovers"
}

@test "ctr run propagates the container's exit code" {
  local id
  id=$(new_id ctr)
  run -7 ctr_run "$id" sh -c 'exit 7' </dev/null
}

@test "ctr task kill stops a detached container run through the runtime" {
  local id
  id=$(new_id ctr)
  timeout 60 ctr --address "$CTRD_SOCK" run -d --fifo-dir "$CTRD/fifo" --runc-binary "$RUNTIME" \
    --runc-root "$TEST_DIR/runc-root" --cgroup "/$CGROUP_PARENT/$id" --env "$CPATH" --rootfs "$ROOTFS" \
    "$id" sleep 100 </dev/null
  run -0 ctr --address "$CTRD_SOCK" task list
  [[ $output =~ $id[[:space:]]+[0-9]+[[:space:]]+RUNNING ]] || fail "task not running: $output"
  run -0 ctr --address "$CTRD_SOCK" task ps "$id"
  [[ $output =~ [0-9]+ ]] || fail "task ps: $output"
  timeout 30 ctr --address "$CTRD_SOCK" task kill --signal SIGKILL "$id"
  wait_for 20 '[[ $(ctr --address "$CTRD_SOCK" task list) =~ $id[[:space:]]+[0-9]+[[:space:]]+STOPPED ]]' ||
    fail "task did not stop: $(ctr --address "$CTRD_SOCK" task list)"
  timeout 30 ctr --address "$CTRD_SOCK" task delete "$id"
  timeout 30 ctr --address "$CTRD_SOCK" containers delete "$id"
  assert_eq "$(leftovers "$id")" "" "leftovers"
}
