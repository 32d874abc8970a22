#!/usr/bin/env bats
# linux.resources: limits reach the cgroup and hold inside the container; update, events --stats;
# kill and delete remove the cgroup.
#
# This host is hybrid: cgroup v1 per controller under /sys/fs/cgroup/<controller> and a v2
# hierarchy at /sys/fs/cgroup/unified (hugetlb only). cgroup_file (helpers.bash) finds a file
# in whichever hierarchy has it, so the same test reads v1 or v2 names only where they differ.

load helpers

setup() { berth_setup; }
teardown() {
  restore_favordynmods
  berth_teardown
}

# The favordynmods test saves the host's state of the option here; teardown puts it back.
FAVOR_V2=/sys/fs/cgroup/unified
restore_favordynmods() {
  [[ -n ${TEST_DIR:-} && -f $TEST_DIR/favordynmods.was ]] || return 0
  if [[ $(cat "$TEST_DIR/favordynmods.was") == on ]]; then
    mount -o remount,favordynmods "$FAVOR_V2"
  else
    mount -t cgroup2 -o remount,rw cgroup2 "$FAVOR_V2"
  fi
  rm -f "$TEST_DIR/favordynmods.was"
}

# on_v2: the memory controller is on a v2 hierarchy (file names differ).
on_v2() {
  [[ ! -d /sys/fs/cgroup/memory ]]
}

# start_detached: create + start $CID, its output to $TEST_DIR/out.
start_detached() {
  rt create --bundle "$BUNDLE" "$CID" </dev/null >"$TEST_DIR/out" 2>&1 ||
    fail "create: $(cat "$TEST_DIR/out")"
  rt start "$CID" || fail "start failed"
}

@test "a memory limit OOM-kills an allocation, and the cgroup records it" {
  set_resource .memory '{"limit": 33554432, "swap": 33554432}'
  # tail keeps all of a newline-free input in memory: 100 MiB against a 32 MiB limit. The
  # subshell's status (137 if the OOM killer took tail) goes to a file the host can read.
  # The subshell raises its own oom_score_adj (raising needs no privilege) so the OOM killer
  # takes the allocation, never the shell that records its status.
  set_args sh -c '(echo 1000 >/proc/self/oom_score_adj; head -c 100m /dev/zero | tail); echo $? >/tmp/rc'
  start_detached
  wait_status "$CID" stopped 60
  assert_eq "$(cat "$BUNDLE/rootfs/tmp/rc")" 137 "exit status of the allocation"
  if on_v2; then
    assert_eq "$(cat "$(cgroup_file "$CID" memory.max)")" 33554432 memory.max
    local kills
    kills=$(awk '$1 == "oom_kill" {print $2}' "$(cgroup_file "$CID" memory.events)")
    ((kills > 0)) || fail "memory.events oom_kill is $kills"
  else
    assert_eq "$(cat "$(cgroup_file "$CID" memory.limit_in_bytes)")" 33554432 memory.limit_in_bytes
    assert_eq "$(cat "$(cgroup_file "$CID" memory.memsw.limit_in_bytes)")" 33554432 \
      memory.memsw.limit_in_bytes
    # The OOM kill is counted in memory.oom_control (kernels >= 4.13); memory.failcnt stays 0
    # on this kernel even though usage reached the limit.
    local failcnt kills
    failcnt=$(cat "$(cgroup_file "$CID" memory.failcnt)")
    kills=$(awk '$1 == "oom_kill" {print $2}' "$(cgroup_file "$CID" memory.oom_control)")
    ((kills > 0 || failcnt > 0)) || fail "no OOM recorded: oom_kill $kills, failcnt $failcnt"
    assert_eq "$(cat "$(cgroup_file "$CID" memory.max_usage_in_bytes)")" 33554432 \
      "memory.max_usage_in_bytes"
  fi
}

@test "a memory limit below the need kills the container's init: run exits 137" {
  set_resource .memory '{"limit": 33554432, "swap": 33554432}'
  # The init itself grows: a shell variable of 64 MiB.
  set_args sh -c 'x=$(head -c 64m /dev/zero | tr "\0" a); echo survived ${#x}'
  run -137 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_not_contains "$output" survived
}

@test "a pids limit makes fork fail" {
  set_resource .pids '{"limit": 10}'
  # A fork failure is fatal to a non-interactive busybox sh: it exits 2 and never gets to echo.
  set_args sh -c 'for i in $(seq 20); do sleep 5 & done; echo all-started'
  run -2 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output "sh: can't fork: Resource temporarily unavailable"
}

@test "the pids limit is in the cgroup and visible inside" {
  set_resource .pids '{"limit": 10}'
  set_args sh -c 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; sleep 30'
  start_detached
  assert_eq "$(cat "$(cgroup_file "$CID" pids.max)")" 10 "pids.max on the host"
  wait_for 5 '[[ -s $TEST_DIR/out ]]'
  assert_eq "$(cat "$TEST_DIR/out")" 10 "pids.max inside"
}

@test "cpu shares, quota, period and cpuset are in the cgroup files" {
  set_resource .cpu '{"shares": 512, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"}'
  set_args sh -c 'grep -E "^(Cpus|Mems)_allowed_list:" /proc/self/status; sleep 30'
  start_detached
  if [[ -d /sys/fs/cgroup/cpu ]]; then
    assert_eq "$(cat "$(cgroup_file "$CID" cpu.cfs_quota_us)")" 20000 cpu.cfs_quota_us
    assert_eq "$(cat "$(cgroup_file "$CID" cpu.cfs_period_us)")" 100000 cpu.cfs_period_us
    assert_eq "$(cat "$(cgroup_file "$CID" cpu.shares)")" 512 cpu.shares
    assert_eq "$(cat "$(cgroup_file "$CID" cpuset.cpus)")" 0 cpuset.cpus
    assert_eq "$(cat "$(cgroup_file "$CID" cpuset.mems)")" 0 cpuset.mems
  else
    assert_eq "$(cat "$(cgroup_file "$CID" cpu.max)")" "20000 100000" cpu.max
    assert_eq "$(cat "$(cgroup_file "$CID" cpuset.cpus)")" 0 cpuset.cpus
  fi
  wait_for 5 '(($(lines_of "$TEST_DIR/out") >= 2))'
  assert_eq "$(tr -d '\t ' <"$TEST_DIR/out")" $'Cpus_allowed_list:0\nMems_allowed_list:0' "inside"
}

@test "the container sees its own cgroup as /sys/fs/cgroup" {
  set_resource .cpu '{"quota": 30000, "period": 100000}'
  set_args sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output 30000
}

@test "update changes the pids and memory limits of a running container" {
  set_resource .pids '{"limit": 10}'
  set_resource .memory '{"limit": 67108864}'
  set_args sleep 60
  start_detached
  local pids_file mem_file
  pids_file=$(cgroup_file "$CID" pids.max)
  if on_v2; then mem_file=$(cgroup_file "$CID" memory.max); else
    mem_file=$(cgroup_file "$CID" memory.limit_in_bytes)
  fi
  assert_eq "$(cat "$pids_file")" 10 "pids.max before"
  assert_eq "$(cat "$mem_file")" 67108864 "memory limit before"
  rt update --pids-limit 20 --memory 100M "$CID"
  assert_eq "$(cat "$pids_file")" 20 "pids.max after update"
  assert_eq "$(cat "$mem_file")" 104857600 "memory limit after update"
  # The same through --resources (a LinuxResources JSON).
  echo '{"pids": {"limit": 30}}' >"$TEST_DIR/resources.json"
  rt update --resources "$TEST_DIR/resources.json" "$CID"
  assert_eq "$(cat "$pids_file")" 30 "pids.max after update --resources"
  assert_eq "$(status_of "$CID")" running
}

@test "events --stats prints memory usage and pids" {
  set_args sh -c 'x=$(head -c 1m /dev/zero | tr "\0" a); sleep 60'
  start_detached
  sleep 0.5
  run -0 rt events --stats "$CID"
  local json=$output
  assert_eq "$(jq -r .type <<<"$json")" stats "type"
  assert_eq "$(jq -r .id <<<"$json")" "$CID" "id"
  local usage pids
  usage=$(jq -r '.data.memory.usage.usage' <<<"$json")
  pids=$(jq -r '.data.pids.current' <<<"$json")
  ((usage > 0)) || fail "memory usage $usage in $json"
  ((pids >= 1)) || fail "pids.current $pids in $json"
  jq -e '.data.cpu.usage.total >= 0' <<<"$json" >/dev/null || fail "no cpu usage in $json"
}

@test "kill and delete leave no cgroup, mount or process behind" {
  set_args sh -c 'sleep 100 & sleep 100 & exec sleep 100'
  start_detached
  wait_status "$CID" running
  local pid
  pid=$(pid_of "$CID")
  [[ -n $(cgroup_dirs "$CID") ]] || fail "no cgroup made for $CID"
  local procs
  procs=$(cat "$(cgroup_file "$CID" pids.current)")
  ((procs == 3)) || fail "expected 3 processes in the cgroup, got $procs"
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  rt delete "$CID"
  assert_eq "$(status_of "$CID")" gone "state after delete"
  assert_eq "$(leftovers "$CID")" "" "leftovers after delete"
  assert_eq "$(mounts_below "$TEST_DIR")" "" "mounts after delete"
  ! alive "$pid" || fail "init $pid still running"
}

@test "delete --force of a running container leaves nothing behind" {
  set_args sh -c 'sleep 100 & exec sleep 100'
  start_detached
  local pid
  pid=$(pid_of "$CID")
  rt delete --force "$CID"
  assert_eq "$(status_of "$CID")" gone "state after delete --force"
  assert_eq "$(leftovers "$CID")" "" "leftovers after delete --force"
  ! alive "$pid" || fail "init $pid still running"
}

@test "delete of a running container without --force fails and keeps it" {
  set_args sleep 100
  start_detached
  run --separate-stderr rt delete "$CID"
  ((status != 0)) || fail "delete of a running container succeeded"
  [[ -n $stderr ]] || fail "no error message"
  assert_eq "$(status_of "$CID")" running
}

# The kernel's favordynmods cgroup option removes the RCU stall of the first cgroup.procs write
# after an idle spell; berth-runtime turns it on at create unless told not to.
@test "create turns on favordynmods on the cgroup2 hierarchy unless --cgroup-favordynmods=false" {
  is_runc && skip "berth-runtime's own option"
  local v2=$FAVOR_V2
  grep -q " $v2 .* - cgroup2 " /proc/self/mountinfo || skip "no cgroup2 hierarchy at $v2"
  if grep -q " $v2 .*favordynmods" /proc/self/mountinfo; then
    echo on >"$TEST_DIR/favordynmods.was"
  else
    echo off >"$TEST_DIR/favordynmods.was"
  fi
  mount -t cgroup2 -o remount,rw cgroup2 "$v2"
  set_args true
  run -0 rt --cgroup-favordynmods=false run --bundle "$BUNDLE" "$CID"
  run ! grep -q " $v2 .*favordynmods" /proc/self/mountinfo
  run -0 rt run --bundle "$BUNDLE" "$CID"
  grep -q " $v2 .*favordynmods" /proc/self/mountinfo || fail "favordynmods is not on"
  run -1 rt --cgroup-favordynmods=maybe run --bundle "$BUNDLE" "$CID"
  assert_contains "$output" "invalid --cgroup-favordynmods value"
}
