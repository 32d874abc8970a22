#!/usr/bin/env bats
# docker run -it and docker exec -it through a real pty: type, read back, exit; detach keys.

load helpers

setup() { containers_setup; }
teardown() { containers_teardown; }

drive() { DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$TEST_DIR/docker-config" timeout 60 "$BERTH_SRC/tests/tools/pty-drive" "$@"; }

@test "docker run -it: an interactive shell on a terminal" {
  run drive --expect '# ' --send 'echo $((40+2)); tty\r' --expect '42' --send 'exit 9\r' -- "$DOCKER_CLI" run -it --rm busybox sh
  assert_eq "$status" 9
  assert_contains "$output" 42
  assert_contains "$output" /dev/pts/
}

@test "docker exec -it into a running container" {
  docker run -d --name term busybox sleep 300 >/dev/null
  run drive --expect '# ' --send 'echo in-exec-$((1+1))\r' --expect 'in-exec-2' --send 'exit\r' -- "$DOCKER_CLI" exec -it term sh
  assert_eq "$status" 0
  assert_contains "$output" in-exec-2
}

@test "ctrl-p ctrl-q detaches and leaves the container running" {
  id=$(docker run -dit --name det busybox sh)
  run drive --send '\r' --expect '# ' --send '\x10\x11' -- "$DOCKER_CLI" attach det
  run docker inspect -f '{{.State.Running}}' det
  assert_eq "$output" true
}
