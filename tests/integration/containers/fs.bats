#!/usr/bin/env bats
# A container's filesystem through berthd with the real docker CLI: docker diff, export, cp
# (both ways, stopped and running, symlinks that point out of the container) and commit.

load helpers

setup() { containers_setup; }
teardown() {
  [[ -z ${PLANTED:-} ]] || rm -f "$PLANTED"
  containers_teardown
}

@test "docker diff: A, C and D as Docker prints them; nothing for an unchanged container" {
  docker create --name fresh busybox true >/dev/null || fail "create"
  run docker diff fresh
  [[ $status -eq 0 ]] || fail "status $status: $output"
  assert_eq "$output" ""
  run docker run --name dd busybox sh -c 'mkdir /newdir && echo x >/newdir/f && echo y >>/etc/group && rm /bin/ls'
  [[ $status -eq 0 ]] || fail "run: $output"
  run docker diff dd
  [[ $status -eq 0 ]] || fail "status $status: $output"
  assert_eq "$output" $'C /bin\nD /bin/ls\nC /etc\nC /etc/group\nA /newdir\nA /newdir/f'
  # The engine's own mount points (/etc/resolv.conf, ...) are no change of the container's.
  docker run --name only-x busybox touch /x >/dev/null || fail "run only-x"
  run docker diff only-x
  assert_eq "$output" "A /x"
  run docker diff nosuch
  [[ $status -ne 0 ]] || fail "diff of a missing container succeeded"
  assert_contains "$output" "No such container: nosuch"
}

@test "docker export: the merged view as a tar" {
  docker run --name ee busybox sh -c 'echo hi >/exported && rm /bin/ls' >/dev/null || fail "run"
  docker export ee >"$TEST_DIR/e.tar" || fail "export"
  run tar tf "$TEST_DIR/e.tar"
  [[ $status -eq 0 ]] || fail "tar: $output"
  assert_contains "$output" $'\nexported\n'
  assert_contains "$output" "bin/sh"
  ! grep -qx bin/ls <<<"$output" || fail "a deleted file was exported"
  tar xOf "$TEST_DIR/e.tar" exported >"$TEST_DIR/exported" || fail "extract"
  assert_eq "$(cat "$TEST_DIR/exported")" hi
  # While it runs: the live merged directory.
  docker run -d --name live busybox sh -c 'echo live >/live-file; sleep 100' >/dev/null || fail "run -d"
  for _ in $(seq 50); do
    docker export live | tar t | grep -qx live-file && break
    sleep 0.1
  done
  docker export live | tar t | grep -qx live-file || fail "live file not exported"
}

@test "docker cp: a file and a directory into a stopped container and back" {
  docker create --name cc busybox true >/dev/null || fail "create"
  printf 'hello world\n' >"$TEST_DIR/hello"
  run docker cp "$TEST_DIR/hello" cc:/hello
  [[ $status -eq 0 ]] || fail "cp in: $output"
  run docker cp cc:/hello "$TEST_DIR/back"
  [[ $status -eq 0 ]] || fail "cp out: $output"
  assert_eq "$(cat "$TEST_DIR/back")" "hello world"
  mkdir -p "$TEST_DIR/dir/sub"
  echo one >"$TEST_DIR/dir/sub/one"
  ln -s sub/one "$TEST_DIR/dir/link"
  run docker cp "$TEST_DIR/dir" cc:/tmp/
  [[ $status -eq 0 ]] || fail "cp dir in: $output"
  run docker cp cc:/tmp/dir "$TEST_DIR/dirback"
  [[ $status -eq 0 ]] || fail "cp dir out: $output"
  assert_eq "$(cat "$TEST_DIR/dirback/sub/one")" one
  assert_eq "$(readlink "$TEST_DIR/dirback/link")" sub/one
  # The container's own files: /etc as a directory.
  run docker cp cc:/etc "$TEST_DIR/etc"
  [[ $status -eq 0 ]] || fail "cp /etc out: $output"
  grep -q '^root:' "$TEST_DIR/etc/passwd" || fail "no passwd in the copied /etc"
  # What was copied in shows in the diff.
  run docker diff cc
  assert_contains "$output" "A /hello"
  assert_contains "$output" "A /tmp/dir/sub/one"
  # A missing path.
  run docker cp cc:/nope "$TEST_DIR/nope"
  [[ $status -ne 0 ]] || fail "cp of a missing path succeeded"
  assert_contains "$output" "/nope"
  [[ ! -e $TEST_DIR/nope ]] || fail "something was written for a missing path"
}

@test "docker cp: into and out of a running container" {
  docker run -d --name rr busybox sleep 100 >/dev/null || fail "run -d"
  echo running >"$TEST_DIR/in"
  run docker cp "$TEST_DIR/in" rr:/tmp/in
  [[ $status -eq 0 ]] || fail "cp in: $output"
  run docker exec rr cat /tmp/in
  assert_eq "$output" running
  docker exec rr sh -c 'echo made inside >/tmp/out' || fail "exec"
  run docker cp rr:/tmp/out "$TEST_DIR/out"
  [[ $status -eq 0 ]] || fail "cp out: $output"
  assert_eq "$(cat "$TEST_DIR/out")" "made inside"
}

@test "docker cp: a symlink to / in the container stays inside the container" {
  docker run --name ss busybox sh -c 'ln -s / /root-link && ln -s /etc /etc-link && echo container >/etc/marker' >/dev/null ||
    fail "run"
  name=berth-cp-planted-$$-$RANDOM
  PLANTED=/$name
  echo planted >"$TEST_DIR/plant"
  run docker cp "$TEST_DIR/plant" "ss:/root-link/$name"
  [[ $status -eq 0 ]] || fail "cp in through the link: $output"
  [[ ! -e /$name ]] || fail "the copy reached the host's /"
  run docker cp "ss:/$name" "$TEST_DIR/planted-back"
  [[ $status -eq 0 ]] || fail "cp out: $output"
  assert_eq "$(cat "$TEST_DIR/planted-back")" planted
  # Reading through an absolute link: the container's /etc, not the host's.
  run docker cp ss:/root-link/etc/marker "$TEST_DIR/marker"
  [[ $status -eq 0 ]] || fail "cp out through the link: $output"
  assert_eq "$(cat "$TEST_DIR/marker")" container
  run docker cp ss:/etc-link/ "$TEST_DIR/etc-copy"
  [[ $status -eq 0 ]] || fail "cp of a linked directory: $output"
  assert_eq "$(cat "$TEST_DIR/etc-copy/marker")" container
}

@test "docker commit -m -c: the new image runs with the committed file and CMD" {
  docker run --name src busybox sh -c 'echo committed content >/hello' >/dev/null || fail "run"
  run docker commit -m "a message" -c 'CMD ["cat","/hello"]' src committed:v1
  [[ $status -eq 0 ]] || fail "commit: $output"
  [[ $output == sha256:* ]] || fail "commit printed: $output"
  run docker run --rm committed:v1
  [[ $status -eq 0 ]] || fail "run of the commit: $output"
  assert_eq "$output" "committed content"
  run docker image inspect -f '{{json .Config.Cmd}}' committed:v1
  assert_eq "$output" '["cat","/hello"]'
  # Without -c: the container's own command is kept.
  docker run --name src2 busybox sh -c 'echo two >/two' >/dev/null || fail "run 2"
  docker commit src2 committed:v2 >/dev/null || fail "commit 2"
  run docker image inspect -f '{{json .Config.Cmd}}' committed:v2
  assert_eq "$output" '["sh","-c","echo two >/two"]'
  run docker run --rm committed:v2 cat /two
  assert_eq "$output" two
}

@test "docker commit of a running container pauses it and leaves it running" {
  docker run -d --name busy busybox sh -c 'echo up >/up; sleep 100' >/dev/null || fail "run -d"
  for _ in $(seq 50); do docker exec busy test -f /up && break; sleep 0.1; done
  run docker commit busy running:v1
  [[ $status -eq 0 ]] || fail "commit: $output"
  run docker inspect -f '{{.State.Status}}' busy
  assert_eq "$output" running
  run docker run --rm running:v1 cat /up
  assert_eq "$output" up
}
