#!/usr/bin/env bats
# Containers through berthd with the real docker CLI: run, exit codes, logs, exec, stop, kill,
# pause, rm, inspect, ps, and the daemon's own restart (live restore).

bats_require_minimum_version 1.5.0
load helpers

setup() { containers_setup; }
teardown() { containers_teardown; }

@test "docker run prints the output and returns the container's exit code" {
  run docker run --rm busybox echo hello from berth
  [[ $status -eq 0 ]] || fail "status $status: $output"
  assert_eq "$output" "hello from berth"
  run docker run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
  assert_eq "$status" 3
  assert_contains "$output" out
  assert_contains "$output" err
  # --rm: nothing left.
  run docker ps -aq
  assert_eq "$output" ""
}

@test "exit codes: 127 for a missing command, 125 for a missing image" {
  run -127 docker run --rm busybox /no/such/thing
  assert_contains "$output" "no such file or directory"
  run -125 docker run --rm nosuchimage true
  assert_contains "$output" "Unable to find image"
}

@test "stdin goes to the container with -i" {
  run bash -c "printf 'one\ntwo\n' | DOCKER_HOST=unix://$SOCK timeout 20 $DOCKER_CLI run --rm -i busybox sort -r"
  [[ $status -eq 0 ]] || fail "status $status: $output"
  assert_eq "$output" $'two\none'
}

@test "detached: logs, wait, ps, inspect" {
  id=$(docker run -d --name worker busybox sh -c 'echo started; sleep 1; echo done; exit 4')
  [[ ${#id} -eq 64 ]] || fail "id: $id"
  run docker ps --format '{{.Names}} {{.State}}'
  assert_contains "$output" "worker running"
  run docker wait worker
  assert_eq "$output" 4
  run docker logs worker
  assert_eq "$output" $'started\ndone'
  run docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.Name}}' worker
  assert_eq "$output" "exited 4 /worker"
  run docker ps -a --filter status=exited -q
  assert_eq "$output" "${id:0:12}"
  docker rm worker
  run docker inspect worker
  [[ $status -ne 0 ]] || fail "inspect of a removed container succeeded"
  assert_contains "$output" "No such"
}

@test "exec runs in the container and returns its exit code" {
  docker run -d --name box busybox sleep 30 >/dev/null
  run docker exec box sh -c 'echo $((6*7)); hostname'
  [[ $status -eq 0 ]] || fail "status $status: $output"
  assert_contains "$output" 42
  run docker exec box sh -c 'exit 5'
  assert_eq "$status" 5
  run docker exec -e FOO=bar -w /tmp box sh -c 'echo $FOO $(pwd)'
  assert_eq "$output" "bar /tmp"
  run bash -c "echo piped | DOCKER_HOST=unix://$SOCK timeout 20 $DOCKER_CLI exec -i box cat"
  assert_eq "$output" piped
}

@test "stop, start, restart, kill, pause and unpause" {
  docker run -d --name svc busybox sleep 300 >/dev/null
  docker pause svc
  run docker inspect -f '{{.State.Status}}' svc
  assert_eq "$output" paused
  docker unpause svc
  docker stop -t 1 svc
  run docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' svc
  assert_eq "$output" "exited 137"
  docker start svc
  run docker inspect -f '{{.State.Running}}' svc
  assert_eq "$output" true
  docker restart -t 1 svc
  run docker inspect -f '{{.State.Running}}' svc
  assert_eq "$output" true
  docker kill svc
  run docker wait svc
  assert_eq "$output" 137
  run docker rm svc
  assert_eq "$status" 0
}

@test "rm refuses a running container without -f" {
  docker run -d --name busy busybox sleep 300 >/dev/null
  run docker rm busy
  [[ $status -ne 0 ]] || fail "rm of a running container succeeded"
  assert_contains "$output" "Stop the container before attempting removal or force remove"
  docker rm -f busy
  run docker ps -aq
  assert_eq "$output" ""
}

@test "names: conflicts and bad characters are refused, rename works" {
  docker create --name first busybox true >/dev/null
  run docker create --name first busybox true
  [[ $status -ne 0 ]] || fail "a duplicate name was accepted"
  assert_contains "$output" 'is already in use'
  run docker create --name 'bad name!' busybox true
  [[ $status -ne 0 ]] || fail "a bad name was accepted"
  assert_contains "$output" "Invalid container name"
  docker rename first second
  run docker inspect -f '{{.Name}}' second
  assert_eq "$output" /second
}

@test "the writable layer: writes stay in the container, rm removes them; volumes persist" {
  script='c=$(cat /data/count 2>/dev/null || echo 0); c=$((c+1)); echo $c >/data/count; '
  script+='ls /app/marker 2>/dev/null; mkdir -p /app; touch /app/marker; echo $c'
  for i in 1 2; do
    run docker run --rm busybox sh -c "mkdir -p /data; $script"
    assert_eq "$output" 1
  done
  for i in 1 2 3; do
    run docker run --rm -v counter:/data busybox sh -c "$script"
    assert_eq "$output" "$i"
  done
  run docker volume ls -q
  assert_contains "$output" counter
}

@test "containers keep running across kill -9 of berthd and stay controllable" {
  for i in 1 2 3; do docker run -d --name keep$i busybox sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null; done
  docker run -d --name short busybox sh -c 'sleep 1; exit 7' >/dev/null
  restart_berthd -9
  sleep 1.5
  run docker ps --format '{{.Names}}'
  for i in 1 2 3; do assert_contains "$output" keep$i; done
  run docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' short
  assert_eq "$output" "exited 7"
  run docker exec keep1 echo still here
  assert_eq "$output" "still here"
  n1=$(docker logs keep2 | wc -l)
  sleep 0.6
  n2=$(docker logs keep2 | wc -l)
  ((n2 > n1)) || fail "logs stopped growing: $n1 then $n2"
  docker stop -t 1 keep1 keep2 keep3
  run docker ps -q
  assert_eq "$output" ""
}

@test "restart policies: on-failure retries, always survives the daemon's restart" {
  docker run -d --name flaky --restart on-failure:2 busybox sh -c 'exit 1' >/dev/null
  for _ in $(seq 60); do
    [[ $(docker inspect -f '{{.RestartCount}} {{.State.Status}}' flaky) == "2 exited" ]] && break
    sleep 0.1
  done
  run docker inspect -f '{{.RestartCount}} {{.State.Status}}' flaky
  assert_eq "$output" "2 exited"
  docker run -d --name steady --restart always busybox sleep 300 >/dev/null
  restart_berthd
  run docker inspect -f '{{.State.Running}}' steady
  assert_eq "$output" true
}
