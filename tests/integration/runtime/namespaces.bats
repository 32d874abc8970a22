#!/usr/bin/env bats
# Namespaces joined by path, the time namespace, domainname, --no-pivot, the user namespace's
# slow path, oomScoreAdj, umask, --preserve-fds and run's own terminal.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

# A second container whose namespaces the first one joins: sleeps until deleted.
start_peer() {
  PEER=$(new_id peer)
  new_bundle "$TEST_DIR/peer" "$PEER"
  CONFIG=$TEST_DIR/peer/config.json cfg '.process.args = ["sleep", "300"] | .hostname = "peer"'
  rt create --bundle "$TEST_DIR/peer" "$PEER" </dev/null >/dev/null 2>&1 || fail "create peer"
  rt start "$PEER" || fail "start peer"
  PEER_PID=$(pid_of "$PEER")
}

@test "a container joins another's network, uts and ipc namespaces by path" {
  start_peer
  for t in network:net uts:uts ipc:ipc; do
    add_namespace "${t%%:*}" "/proc/$PEER_PID/ns/${t##*:}"
  done
  cfg 'del(.hostname)'
  set_args sh -c 'hostname; readlink /proc/self/ns/net'
  run -0 rt run --bundle "$BUNDLE" "$CID"
  assert_eq "${lines[0]}" peer hostname
  assert_eq "${lines[1]}" "$(readlink "/proc/$PEER_PID/ns/net")" "net namespace"
}

@test "hostname is set in a uts namespace joined by path" {
  start_peer
  add_namespace uts "/proc/$PEER_PID/ns/uts"
  cfg '.hostname = "joined"'
  set_args hostname
  run -0 rt run --bundle "$BUNDLE" "$CID"
  assert_eq "$output" joined hostname
  run -0 nsenter --uts="/proc/$PEER_PID/ns/uts" hostname
  assert_eq "$output" joined "the peer's hostname"
}

@test "a container joins another's pid namespace by path: it is not pid 1 there" {
  start_peer
  add_namespace pid "/proc/$PEER_PID/ns/pid"
  set_args sh -c 'echo $$; readlink /proc/self/ns/pid'
  run -0 rt run --bundle "$BUNDLE" "$CID"
  ((lines[0] > 1)) || fail "pid in the joined namespace is ${lines[0]}"
  assert_eq "${lines[1]}" "$(readlink "/proc/$PEER_PID/ns/pid")" "pid namespace"
}

@test "a new user namespace beside a joined network namespace (the two-stage path)" {
  start_peer
  chown -R 100000:100000 "$BUNDLE/rootfs"
  add_namespace user
  add_namespace network "/proc/$PEER_PID/ns/net"
  cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
       | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
       | .mounts = [.mounts[] | select(.type != "sysfs" and .type != "cgroup")]'
  set_args sh -c 'id -u; cat /proc/self/uid_map; echo $$; readlink /proc/self/ns/net'
  run -0 rt run --bundle "$BUNDLE" "$CID"
  assert_eq "${lines[0]}" 0 "uid inside"
  assert_contains "${lines[1]}" 100000
  assert_eq "${lines[2]}" 1 "pid inside its new pid namespace"
  assert_eq "${lines[3]}" "$(readlink "/proc/$PEER_PID/ns/net")" "net namespace"
}

@test "a time namespace with offsets shifts the container's boottime clock" {
  [[ -e /proc/self/ns/time ]] || skip "no time namespaces in this kernel"
  runc_before 1.2 && skip "runc 1.1 has no time namespaces"
  add_namespace time
  cfg '.linux.timeOffsets = {boottime: {secs: 864000, nanosecs: 0}}'
  set_args cat /proc/uptime
  run -0 rt run --bundle "$BUNDLE" "$CID"
  local up=${output%%.*} host
  host=$(cut -d. -f1 /proc/uptime)
  ((up >= host + 864000 - 5)) || fail "uptime $up inside, $host on the host"
}

@test "domainname comes from the config" {
  runc_before 1.2 && skip "runc 1.1 ignores domainname"
  cfg '.domainname = "example.test"'
  set_args cat /proc/sys/kernel/domainname
  run -0 rt run --bundle "$BUNDLE" "$CID"
  assert_output example.test
}

@test "--no-pivot runs the container with MS_MOVE and chroot" {
  set_args sh -c 'ls /bin/busybox && echo $$'
  run -0 rt run --no-pivot --bundle "$BUNDLE" "$CID"
  assert_eq "${lines[1]}" 1
}

@test "oomScoreAdj and umask are applied" {
  cfg '.process.oomScoreAdj = 500 | .process.user.umask = 63'
  set_args sh -c 'cat /proc/self/oom_score_adj; umask'
  run -0 rt run --bundle "$BUNDLE" "$CID"
  assert_eq "${lines[0]}" 500 oom_score_adj
  assert_eq "${lines[1]}" 0077 umask
}

@test "--preserve-fds passes fd 3 to the container" {
  echo preserved-data >"$TEST_DIR/fd3"
  set_args sh -c 'cat <&3'
  run -0 rt run --preserve-fds 1 --bundle "$BUNDLE" "$CID" 3<"$TEST_DIR/fd3"
  assert_output preserved-data
}

@test "run with a terminal and no console socket copies the pty to its own stdio" {
  is_runc && skip "runc run needs a terminal on its stdin for this"
  set_terminal true
  set_args sh -c 'tty; echo done'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_contains "$output" /dev/pts/
  assert_contains "$output" done
}

@test "--systemd-cgroup fails clearly on a host without systemd" {
  [[ -d /run/systemd/system ]] && skip "systemd runs here"
  run --separate-stderr rt --systemd-cgroup run --bundle "$BUNDLE" "$CID"
  ((status != 0)) || fail "run succeeded"
  assert_contains "$stderr" systemd
}
