#!/usr/bin/env bats
# Containers survive `kill -9` of berthd: ten running containers stay running, listed,
# attachable and stoppable, their logs continuous (no gap, no duplicate) across the restart;
# one that exited while berthd was down shows its code; a restart policy applies to one that
# exited meanwhile; and each container keeps exactly one monitor.

bats_require_minimum_version 1.5.0
load helpers

setup() { containers_setup; }
teardown() {
  # A test that failed with berthd down leaves containers the shared teardown cannot remove:
  # their processes go by their cgroup (killing a monitor leaves its container running).
  if [[ -n ${ROOT:-} && -d $ROOT/containers ]] && ! kill -0 "${BERTHD_PID:-0}" 2>/dev/null; then
    local id p
    for id in $(ls "$ROOT/containers"); do
      [[ -f /sys/fs/cgroup/pids/berth/$id/cgroup.procs ]] || continue
      while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"/sys/fs/cgroup/pids/berth/$id/cgroup.procs"
    done
  fi
  containers_teardown
}

# restart [-9]: stops berthd (SIGTERM, or SIGKILL) and starts it again; returns once the new
# daemon answers (a killed one leaves its socket file behind).
restart() {
  local sig=TERM
  [[ ${1:-} == -9 ]] && sig=KILL
  kill -"$sig" "$BERTHD_PID"
  for _ in $(seq 200); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.05; done
  start_again
}

start_again() {
  rm -f "$SOCK"
  start_berthd --exec-root "$RUN"
  for _ in $(seq 100); do docker version >/dev/null 2>&1 && return 0; sleep 0.05; done
  fail "berthd does not answer: $(tail -5 "$TEST_DIR/berthd.log")"
}

# procs_named COMM: pids of this test's processes (their argv is berthd's, naming $ROOT) whose
# name is COMM (berth-monitor, berth-spawner, berth-spare).
procs_named() {
  local d
  for d in /proc/[0-9]*; do
    [[ $(cat "$d/comm" 2>/dev/null) == "$1" ]] || continue
    tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF -- "--root $ROOT " || continue
    echo "${d#/proc/}"
  done
}

# monitors_of ID: the monitor processes of one container (each holds its run dir's
# monitor.log as stdout).
monitors_of() {
  local p
  for p in $(procs_named berth-monitor); do
    [[ $(readlink /proc/"$p"/fd/1 2>/dev/null) == "$RUN/containers/${1:0:24}/monitor.log" ]] && echo "$p"
  done
}

# one_monitor_each IDS...: every container has exactly one monitor, and there is no other.
one_monitor_each() {
  local id n total=0
  for id in "$@"; do
    n=$(monitors_of "$id" | wc -l)
    assert_eq "$n" 1 "monitors of ${id:0:12}" || return 1
    total=$((total + 1))
  done
  assert_eq "$(procs_named berth-monitor | wc -l)" "$total" "monitors in all" || return 1
}

# counter_ok NAME: the container's log is 0, 1, 2, … with no gap and no duplicate; echoes its
# line count.
counter_ok() {
  local out
  out=$(docker logs "$1") || return 1
  awk -v name="$1" '$0 != NR - 1 { printf "%s: line %d is \"%s\"\n", name, NR, $0; bad = 1; exit }
    END { if (bad) exit 1 }' <<<"$out" >&2 || return 1
  wc -l <<<"$out"
}

# wait_lines NAME N: waits until the container's log has more than N lines.
wait_lines() {
  for _ in $(seq 200); do
    (($(docker logs "$1" | wc -l) > $2)) && return 0
    sleep 0.1
  done
  fail "$1 stayed at $2 lines"
}

@test "kill -9 berthd with 10 running containers: all survive, continuous logs, one monitor each" {
  mkdir -p "$TEST_DIR/sig"
  counter='i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done'
  ids=()
  for i in $(seq 0 9); do ids+=("$(docker run -d --name c$i busybox sh -c "$counter")"); done
  # One exits with 7 once told to (while berthd is down); one fails once then stays up under
  # its restart policy; one runs under --restart always.
  waiter=$(docker run -d --name waiter -v "$TEST_DIR/sig:/sig" busybox sh -c 'while [ ! -e /sig/go ]; do sleep 0.05; done; exit 7')
  flaky=$(docker run -d --name flaky --restart on-failure:3 -v "$TEST_DIR/sig:/sig" busybox sh -c \
    'if [ -e /sig/failed ]; then exec sleep 300; fi; while [ ! -e /sig/go ]; do sleep 0.05; done; touch /sig/failed; exit 3')
  for i in $(seq 0 9); do wait_lines c$i 5; done
  one_monitor_each "${ids[@]}" "$waiter" "$flaky"
  declare -A pid
  for i in $(seq 0 9); do pid[$i]=$(docker inspect -f '{{.State.Pid}}' c$i); done
  waiter_pid=$(docker inspect -f '{{.State.Pid}}' waiter)
  flaky_pid=$(docker inspect -f '{{.State.Pid}}' flaky)

  kill -KILL "$BERTHD_PID"
  for _ in $(seq 100); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.05; done
  # While the daemon is down: two containers exit, the others keep running and logging.
  touch "$TEST_DIR/sig/go"
  for _ in $(seq 200); do
    kill -0 "$waiter_pid" 2>/dev/null || kill -0 "$flaky_pid" 2>/dev/null || break
    sleep 0.05
  done
  ! kill -0 "$waiter_pid" 2>/dev/null || fail "waiter still running"
  ! kill -0 "$flaky_pid" 2>/dev/null || fail "flaky still running"
  for i in $(seq 0 9); do kill -0 "${pid[$i]}" || fail "c$i died with berthd"; done
  # The old daemon's spawner and spare go with it.
  for _ in $(seq 100); do
    [[ -z $(procs_named berth-spawner) && -z $(procs_named berth-spare) ]] && break
    sleep 0.05
  done
  assert_eq "$(procs_named berth-spawner)$(procs_named berth-spare)" "" "spawner and spare of the killed daemon"
  sleep 0.5 # the counters go on while nobody listens

  start_again
  run docker ps --format '{{.Names}} {{.State}}'
  for i in $(seq 0 9); do assert_contains "$output" "c$i running"; done
  for i in $(seq 0 9); do
    assert_eq "$(docker inspect -f '{{.State.Status}} {{.State.Pid}}' c$i)" "running ${pid[$i]}" "c$i"
  done
  run docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' waiter
  assert_eq "$output" "exited 7"
  # flaky exited 3 while berthd was down: its policy restarts it once berthd is back (a start
  # of the daemon's: as Docker, RestartCount starts again from 0).
  for _ in $(seq 100); do
    [[ $(docker inspect -f '{{.State.Status}}' flaky) == running ]] && break
    sleep 0.1
  done
  run docker inspect -f '{{.State.Status}} {{.RestartCount}}' flaky
  assert_eq "$output" "running 0"
  [[ $(docker inspect -f '{{.State.Pid}}' flaky) != "$flaky_pid" ]] || fail "flaky was not restarted"
  [[ -e $TEST_DIR/sig/failed ]] || fail "flaky did not fail first"
  flaky=$(docker inspect -f '{{.Id}}' flaky)
  # One monitor each (flaky's new one, none for waiter), and one spawner, of the new daemon.
  one_monitor_each "${ids[@]}" "$flaky"
  sp=$(procs_named berth-spawner)
  assert_eq "$(wc -w <<<"$sp")" 1 "spawners"
  assert_eq "$(awk '/^PPid:/ {print $2}' /proc/"$sp"/status)" "$BERTHD_PID" "the spawner's parent"

  # Logs: continuous across the restart, and still growing.
  for i in $(seq 0 9); do
    n=$(counter_ok c$i) || fail "c$i's log is not continuous"
    wait_lines c$i $((n + 3))
    counter_ok c$i >/dev/null || fail "c$i's log is not continuous after the restart"
  done
  run docker logs --tail 1 c0
  [[ $output =~ ^[0-9]+$ ]] || fail "tail: $output"
  # Attachable: attach reads the next lines of the counter.
  run bash -c "DOCKER_HOST=unix://$SOCK timeout 20 $DOCKER_CLI attach --no-stdin --sig-proxy=false c3 | head -3"
  assert_eq "${#lines[@]}" 3
  assert_eq "${lines[1]}" $((lines[0] + 1))
  assert_eq "${lines[2]}" $((lines[0] + 2))
  run docker exec c5 echo exec works
  assert_eq "$output" "exec works"

  # Stoppable: sh as pid 1 ignores SIGTERM, so stop ends with SIGKILL.
  docker stop -t 1 "${ids[@]}" >/dev/null
  for i in $(seq 0 9); do
    assert_eq "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' c$i)" "exited 137" "c$i"
    ! kill -0 "${pid[$i]}" 2>/dev/null || fail "c$i's process is still there"
    for _ in $(seq 100); do [[ -z $(monitors_of "${ids[$i]}") ]] && break; sleep 0.05; done
    assert_eq "$(monitors_of "${ids[$i]}" | wc -l)" 0 "c$i's monitors after stop"
  done
  run docker ps --format '{{.Names}}'
  assert_eq "$output" flaky
  # And they start again under the restarted daemon, with a monitor each.
  docker start c0 >/dev/null
  wait_lines c0 0
  one_monitor_each "${ids[0]}" "$flaky"
}

@test "two kill -9 in a row, and a SIGTERM restart: no duplicate monitor, logs continuous" {
  counter='i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done'
  a=$(docker run -d --name ca busybox sh -c "$counter")
  b=$(docker run -d --name cb --restart always busybox sh -c "$counter")
  wait_lines ca 3
  restart -9
  restart -9
  restart
  one_monitor_each "$a" "$b"
  assert_eq "$(docker inspect -f '{{.State.Running}} {{.RestartCount}}' cb)" "true 0"
  wait_lines ca 10
  counter_ok ca >/dev/null || fail "ca's log is not continuous"
  counter_ok cb >/dev/null || fail "cb's log is not continuous"
  # docker logs -f started before the restart ends when berthd goes away; one started after
  # follows on.
  run bash -c "DOCKER_HOST=unix://$SOCK timeout 20 $DOCKER_CLI logs -f --tail 0 ca | head -2"
  assert_eq "${#lines[@]}" 2
  assert_eq "${lines[1]}" $((lines[0] + 1))
  docker kill ca >/dev/null
  run docker wait ca
  assert_eq "$output" 137
  run docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' ca
  assert_eq "$output" "exited 137"
}
