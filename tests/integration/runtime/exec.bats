#!/usr/bin/env bats
# exec: a new process in the namespaces and cgroup of a running container.

load helpers

setup() {
  berth_setup
  set_args sleep 300
}
teardown() { berth_teardown; }

# running: create and start $CID (sleep 300).
running() {
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  wait_status "$CID" running
}

@test "exec sees the container's pid 1" {
  running
  run -0 rt exec "$CID" sh -c 'tr "\0" " " </proc/1/cmdline'
  assert_output "sleep 300 "
}

@test "exec runs in the container's pid namespace, not as pid 1" {
  running
  run -0 rt exec "$CID" sh -c 'echo $$'
  ((output > 1)) || fail "exec'd shell is pid '$output'"
  # Its host pid is in the container's cgroup.
  run -0 rt exec "$CID" sh -c 'cat /proc/self/cgroup'
  assert_contains "$output" "/$CGROUP_PARENT/$CID"
}

@test "exec shares the container's hostname, network and mounts" {
  cfg '.hostname = "exec-box"'
  running
  run -0 rt exec "$CID" sh -c 'hostname; ls /sys/class/net; test -e /bin/busybox && echo rootfs'
  assert_output $'exec-box\nlo\nrootfs'
}

@test "exec exits with the process's exit code" {
  running
  run -5 rt exec "$CID" sh -c 'exit 5'
  run -0 rt exec "$CID" true
  # An exec'd process is not an init: its own signal kills it.
  run -137 rt exec "$CID" sh -c 'kill -9 $$'
}

@test "exec --process runs a process.json" {
  running
  jq '.args = ["sh", "-c", "echo $GREETING from $(pwd) as $(id -u)"] |
      .env += ["GREETING=hello"] | .cwd = "/tmp" | .user = {uid: 65534, gid: 65534} |
      .terminal = false' <(jq .process "$BUNDLE/config.json") >"$TEST_DIR/process.json"
  run -0 rt exec --process "$TEST_DIR/process.json" "$CID"
  assert_output "hello from /tmp as 65534"
}

@test "exec --env, --cwd and --user" {
  running
  run -0 rt exec --env FOO=bar --cwd /tmp --user 65534:65534 "$CID" sh -c 'echo $FOO $(pwd) $(id -u):$(id -g)'
  assert_output "bar /tmp 65534:65534"
}

@test "exec --detach returns at once and the process runs in the container" {
  running
  rt exec --detach --pid-file "$TEST_DIR/exec.pid" "$CID" sh -c 'echo started >/tmp/exec-mark; exec sleep 200'
  local pid
  pid=$(cat "$TEST_DIR/exec.pid")
  ((pid > 1)) || fail "exec --pid-file holds '$pid'"
  alive "$pid" || fail "detached exec process $pid is not running"
  wait_for 5 '[[ -s $BUNDLE/rootfs/tmp/exec-mark ]]' || fail "detached exec did not run"
  grep -qs ":/$CGROUP_PARENT/$CID\$" "/proc/$pid/cgroup" || fail "exec process not in the container's cgroup"
  run -0 rt ps --format json "$CID"
  jq -e --argjson p "$pid" 'index($p) != null' <<<"$output" >/dev/null || fail "$pid not in ps: $output"
}

@test "exec --tty --detach hands a terminal to the console socket" {
  running
  start_console_receiver "$TEST_DIR/console.sock" "$TEST_DIR/tty.out" \
    --input 'echo exec-$((40+2))\nexit\n' --timeout 30
  rt exec --tty --detach --console-socket "$TEST_DIR/console.sock" "$CID" sh
  wait_console_receiver || fail "console-receiver: $(cat "$TEST_DIR/tty.out.err")"
  tty_text "$TEST_DIR/tty.out" | grep -qx 'exec-42' || fail "no exec-42 in: $(tty_text "$TEST_DIR/tty.out")"
}

@test "exec --tty through the console socket: tty is a pts" {
  running
  start_console_receiver "$TEST_DIR/console.sock" "$TEST_DIR/tty.out" --timeout 30
  rt exec --tty --detach --console-socket "$TEST_DIR/console.sock" "$CID" tty
  wait_console_receiver || fail "console-receiver: $(cat "$TEST_DIR/tty.out.err")"
  [[ $(tty_text "$TEST_DIR/tty.out") =~ ^/dev/pts/[0-9]+$ ]] || fail "tty printed: $(tty_text "$TEST_DIR/tty.out")"
}

@test "exec of a nonexistent command fails naming it" {
  running
  run --separate-stderr rt exec "$CID" /no/such-binary-xyz
  ((status != 0)) || fail "exec of a nonexistent binary succeeded"
  assert_contains "$stderr" such-binary-xyz
  assert_eq "$(status_of "$CID")" running "the container survives"
}

@test "exec into a stopped container fails" {
  set_args true
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  wait_status "$CID" stopped
  run --separate-stderr rt exec "$CID" true
  ((status != 0)) || fail "exec into a stopped container succeeded"
  [[ -n $stderr ]] || fail "no error message"
}

@test "exec'd processes go when the container is deleted" {
  running
  rt exec --detach --pid-file "$TEST_DIR/exec.pid" "$CID" sleep 200
  local pid
  pid=$(cat "$TEST_DIR/exec.pid")
  rt delete --force "$CID"
  wait_for 5 '! alive '"$pid" || fail "exec process $pid survived delete --force"
  assert_eq "$(leftovers "$CID")" "" "leftovers"
}
