#!/usr/bin/env bats
# Volumes in containers through berthd with the docker CLI: named volumes persist, a volume
# made with driver options (type=tmpfs) is mounted while a container uses it and unmounted
# after, anonymous volumes go with `rm -v`, the image's files are copied into a new volume.

bats_require_minimum_version 1.5.0
load helpers

setup() { containers_setup; }
teardown() { containers_teardown; }

@test "a volume with type=tmpfs options is a tmpfs inside, mounted only while in use" {
  docker volume create -o type=tmpfs -o device=tmpfs -o o=size=1m tv >/dev/null
  run -0 docker run --rm -v tv:/d busybox sh -c 'grep " /d " /proc/mounts | cut -d" " -f1,3; echo x >/d/f; cat /d/f'
  assert_eq "$output" $'tmpfs tmpfs\nx'
  mp=$(docker volume inspect -f '{{.Mountpoint}}' tv)
  run grep -c " $mp " /proc/self/mountinfo
  assert_eq "$output" 0
  # a tmpfs: nothing is left from the last container
  run -0 docker run --rm -v tv:/d busybox ls /d
  assert_eq "$output" ""
}

@test "anonymous volumes go with rm -v; named ones stay" {
  id=$(docker create -v /anon -v named:/named busybox true)
  anon=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' "$id")
  [[ ${#anon} == 64 ]] || fail "anonymous volume name: '$anon'"
  run -0 docker volume ls -q
  assert_contains "$output" "$anon"
  docker rm -v "$id" >/dev/null
  run -0 docker volume ls -q
  [[ $output != *"$anon"* ]] || fail "anonymous volume left: $output"
  assert_contains "$output" named
}

@test "a new volume gets the image's files at its path; a used one keeps its own" {
  run -0 docker run --rm -v etcvol:/etc busybox sh -c 'echo mine >/etc/mine'
  # the first use copied the image's /etc in: passwd is there, beside the container's file
  run -0 docker run --rm -v etcvol:/x busybox sh -c 'test -f /x/passwd && cat /x/mine'
  assert_eq "$output" mine
  run -0 docker volume rm etcvol
  assert_eq "$output" etcvol
}
