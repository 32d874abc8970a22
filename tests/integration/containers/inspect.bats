#!/usr/bin/env bats
# docker inspect of containers through berthd: ExecIDs lists the execs created or running, as
# Docker's (an exec that exited is no longer the container's).

bats_require_minimum_version 1.5.0
load helpers

setup() { containers_setup; }
teardown() { containers_teardown; }

@test "inspect's ExecIDs: null, then the running exec, then null again" {
  docker run -d --name ex busybox sleep 300 >/dev/null
  run -0 docker inspect -f '{{json .ExecIDs}}' ex
  assert_eq "$output" null
  docker exec -d ex sh -c 'sleep 2'
  run -0 docker inspect -f '{{len .ExecIDs}}' ex
  assert_eq "$output" 1
  id=$(docker inspect -f '{{index .ExecIDs 0}}' ex)
  for _ in $(seq 100); do
    [[ $(docker inspect -f '{{json .ExecIDs}}' ex) == null ]] && break
    sleep 0.1
  done
  run -0 docker inspect -f '{{json .ExecIDs}}' ex
  assert_eq "$output" null
  # the exec itself is still there to inspect, with its code
  run -0 curl -sf --unix-socket "$SOCK" "http://x/exec/$id/json"
  assert_contains "$output" '"ExitCode":0'
}
