#!/usr/bin/env bats
# `run`: exit codes, and what a container sees of itself (pid, hostname, network, mounts).

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

@test "run exits with the container's exit code" {
  set_args sh -c 'exit 3'
  run -3 rt run --bundle "$BUNDLE" "$CID" </dev/null
}

@test "run exits with 0 and passes stdout through" {
  set_args echo hello
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output hello
}

@test "run exits with 128+N when the process kills itself with signal N" {
  # Without a pid namespace: the shell is not an init, so its own SIGKILL kills it.
  remove_namespace pid
  set_args sh -c 'kill -9 $$'
  run -137 rt run --bundle "$BUNDLE" "$CID" </dev/null
}

@test "run exits with 128+N when the container's init is killed by signal N" {
  set_args sleep 60
  rt run --bundle "$BUNDLE" "$CID" </dev/null >"$TEST_DIR/out" 2>&1 &
  local runner=$!
  track_pid "$runner"
  wait_status "$CID" running
  # KILL: an init with no handler ignores TERM, even from the parent namespace.
  rt kill "$CID" KILL
  local rc=0
  wait "$runner" || rc=$?
  assert_eq "$rc" 137 "exit status of run"
}

@test "the process is pid 1 of its pid namespace" {
  set_args sh -c 'echo $$; read -r pid rest </proc/self/stat; echo $pid; cat /proc/1/comm; exit 0'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  # $$ is 1; /proc/self, opened by the shell itself, is pid 1; pid 1 runs the shell.
  assert_output $'1\n1\nsh'
}

@test "hostname comes from the config (new uts namespace)" {
  cfg '.hostname = "berth-box"'
  set_args sh -c 'hostname; cat /proc/sys/kernel/hostname'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'berth-box\nberth-box'
  [[ $(hostname) != berth-box ]] || fail "host's hostname changed"
}

@test "a new network namespace has only lo" {
  set_args sh -c 'ls /sys/class/net; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'lo\nlo'
}

@test "the container has its own mount table, rooted at the rootfs" {
  set_args cat /proc/self/mountinfo
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  local root
  root=$(awk '$5 == "/"' <<<"$output")
  [[ -n $root ]] || fail "no / in the container's mountinfo: $output"
  # The root is the bundle's rootfs (the bind mount's root names the host directory).
  assert_contains "$(awk '{print $4}' <<<"$root")" "$BUNDLE/rootfs"
  # No mount point of the container names a host path.
  assert_not_contains "$(awk '{print $5}' <<<"$output")" "$TEST_DIR"
  assert_not_contains "$(awk '{print $5}' <<<"$output")" /work
  # proc, the tmpfs /dev and sysfs are mounted where the config says.
  local points
  points=$(awk '{print $5 " " $(NF-2)}' <<<"$output" | sed 's/ - / /')
  assert_contains "$points" "/proc proc"
  assert_contains "$points" "/dev tmpfs"
  assert_contains "$points" "/dev/pts devpts"
  assert_contains "$points" "/sys sysfs"
}

@test "the mount namespace is private: the host sees none of the container's mounts" {
  set_args sh -c 'cat /proc/self/mountinfo | wc -l'
  rt create --bundle "$BUNDLE" "$CID" </dev/null >"$TEST_DIR/out" 2>&1
  # Created: /proc, /dev, /sys, ... are mounted in the container's namespace only.
  [[ -z $(mounts_below "$TEST_DIR") ]] || fail "container mounts visible on the host: $(mounts_below "$TEST_DIR")"
  rt start "$CID"
  wait_status "$CID" stopped
  local n
  n=$(cat "$TEST_DIR/out")
  ((n >= 5)) || fail "container saw only $n mounts"
}

@test "rootfsPropagation sets the propagation of the container's /" {
  # The mountinfo optional fields of /: "shared:N", "unbindable", or neither (private; slave
  # shows "master:N" only when the host's / is shared, so it is not checked here).
  local prop want
  for prop in shared private unbindable; do
    cfg '.linux.rootfsPropagation = $p' --arg p "$prop"
    set_args sh -c 'awk '\''$5 == "/" { f = ""; for (i = 7; $i != "-"; i++) f = f " " $i; print f }'\'' /proc/self/mountinfo'
    run -0 rt run --bundle "$BUNDLE" "$CID-$prop" </dev/null
    case $prop in
      shared) want="shared:" ;; unbindable) want="unbindable" ;;
      private) [[ $output != *shared:* && $output != *master:* && $output != *unbindable* ]] ||
        fail "private: $output"; continue ;;
    esac
    assert_contains "$output" "$want"
  done
}

@test "process.env and process.cwd are applied" {
  set_env FOO=bar-baz
  cfg '.process.cwd = "/tmp"'
  set_args sh -c 'echo $FOO; pwd'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'bar-baz\n/tmp'
}

@test "process.user sets uid, gid and additional gids" {
  cfg '.process.user = {uid: 65534, gid: 65534, additionalGids: [10, 20]}'
  set_args sh -c 'id -u; id -g; id -G'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'65534\n65534\n65534 10 20'
}

@test "a nonexistent command fails before exec with an error naming it" {
  set_args /bin/no-such-command-xyz
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  ((status != 0)) || fail "run succeeded"
  assert_contains "$stderr" no-such-command-xyz
}

@test "joining an existing network namespace by path" {
  set_args sleep 100
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  local pid second
  pid=$(pid_of "$CID")
  second=$(new_id)
  new_bundle "$TEST_DIR/bundle2" "$second"
  CONFIG=$TEST_DIR/bundle2/config.json add_namespace network "/proc/$pid/ns/net"
  CONFIG=$TEST_DIR/bundle2/config.json set_args readlink /proc/self/ns/net
  run -0 rt run --bundle "$TEST_DIR/bundle2" "$second" </dev/null
  assert_output "$(readlink "/proc/$pid/ns/net")"
  [[ $output != "$(readlink /proc/self/ns/net)" ]] || fail "joined the host's network namespace"
}

@test "the default devices exist and work" {
  set_args sh -c 'for d in null zero full random urandom tty; do stat -c "%n %F %t,%T" /dev/$d; done
    head -c 4 /dev/urandom | wc -c; echo x >/dev/null && echo null-ok
    for l in fd stdin ptmx; do readlink /dev/$l; done'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output "/dev/null character special file 1,3
/dev/zero character special file 1,5
/dev/full character special file 1,7
/dev/random character special file 1,8
/dev/urandom character special file 1,9
/dev/tty character special file 5,0
4
null-ok
/proc/self/fd
/proc/self/fd/0
pts/ptmx"
}

@test "features prints the supported OCI versions and hooks as JSON" {
  run -0 rt features
  jq -e '.ociVersionMin and .ociVersionMax and (.hooks | index("prestart") != null)' \
    <<<"$output" >/dev/null || fail "features: $output"
}
