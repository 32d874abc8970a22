#!/usr/bin/env bats
# Interop with Debian's dockerd 20.10 (docker.io): an image saved by dockerd loads into berthd
# with the same image id and layer digests, and what berthd saves again loads back into dockerd
# with the same id; the reverse too (imported into berthd, saved, loaded by dockerd).
# dockerd runs on its own containerd under the test's temp dir, with --bridge=none and no
# iptables/ip_forward changes: the host's network is never touched (checked). Skips when
# docker.io is not installed (scripts/bootstrap installs it) or berthd has no load/save yet.

load helpers
load dockerd

setup() {
  api_setup
  dockerd_available || skip "Debian's docker.io (dockerd) is not installed: run scripts/bootstrap"
  BB_TAR=$TEST_DIR/busybox.tar
  "$BERTH_SRC/scripts/make-rootfs-busybox" "$TEST_DIR/rootfs" >/dev/null 2>&1 || skip "no busybox rootfs"
  tar -C "$TEST_DIR/rootfs" --numeric-owner -c . >"$BB_TAR"
  HAD_DOCKER0=0
  ip link show docker0 >/dev/null 2>&1 && HAD_DOCKER0=1
  IP_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward)
  # a peer that cannot run here makes the test skip, not fail
  dockerd_start "$TEST_DIR/dockerd" 2>"$TEST_DIR/dockerd-start.err" ||
    skip "private dockerd did not start: $(tail -3 "$TEST_DIR/dockerd-start.err")"
}

teardown() {
  dockerd_stop "$TEST_DIR/dockerd"
  api_teardown
}

# berthd_has ROUTE: berthd routes it (an unrouted path answers 405 "method not allowed" or 404
# "page not found"; a routed save of a missing name says "No such image").
berthd_has() {
  local body
  case $1 in
  load) body=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary '' http://d/images/load) ;;
  save) body=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK" \
    'http://d/images/get?names=berth-probe-none') ;;
  esac
  [[ $body != *" 405" && $body != *"page not found"* ]] || return 1
  [[ $1 != save || $body == *"No such image"* ]]
}

id_and_layers() { "$1" inspect --format '{{.Id}} {{json .RootFS.Layers}}' "$2"; }

@test "private dockerd leaves the host network alone" {
  run -0 dockerd_cli info --format '{{.Driver}} {{.CgroupDriver}}'
  assert_eq "$output" "overlay2 cgroupfs"
  run -0 dockerd_cli network ls --format '{{.Name}}'
  [[ $output != *bridge* ]] || fail "dockerd made a bridge network: $output"
  if ((HAD_DOCKER0 == 0)); then
    run ip link show docker0
    ((status != 0)) || fail "docker0 was created"
  fi
  assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$IP_FORWARD" "ip_forward"
}

@test "dockerd's docker save loads into berthd with the same id and layers; saved again, dockerd loads it" {
  berthd_has load || skip "berthd has no POST /images/load yet"
  berthd_has save || skip "berthd has no GET /images/get yet"
  run -0 dockerd_cli import -c 'CMD ["sh"]' "$BB_TAR" busybox:latest
  # a second image of three layers (busybox + two COPY layers), made by dockerd's classic builder
  mkdir -p "$TEST_DIR/ctx/small"
  head -c 300000 /dev/urandom >"$TEST_DIR/ctx/blob.bin"
  for i in $(seq 1 50); do echo "file $i" >"$TEST_DIR/ctx/small/f$i"; done
  ln -s f1 "$TEST_DIR/ctx/small/link"
  printf 'FROM busybox:latest\nCOPY blob.bin /data/blob.bin\nCOPY small /data/small\n' >"$TEST_DIR/ctx/Dockerfile"
  run -0 env DOCKER_BUILDKIT=0 DOCKER_HOST="unix://$DOCKERD_SOCK" DOCKER_CONFIG="$TEST_DIR/dockerd/cli" \
    "$DOCKERD_CLI" build -q -t three:v1 "$TEST_DIR/ctx"
  local ref want got
  for ref in busybox:latest three:v1; do
    want=$(id_and_layers dockerd_cli "$ref")
    dockerd_cli save "$ref" -o "$TEST_DIR/d.tar"
    run -0 docker load -i "$TEST_DIR/d.tar"
    assert_contains "$output" "Loaded image: $ref"
    got=$(id_and_layers docker "$ref")
    assert_eq "$got" "$want" "$ref in berthd"
    # back: berthd saves, dockerd (after rmi) loads: same id and layers
    run -0 docker save "$ref" -o "$TEST_DIR/b.tar"
    run -0 dockerd_cli rmi "$ref"
    run -0 dockerd_cli load -i "$TEST_DIR/b.tar"
    got=$(id_and_layers dockerd_cli "$ref")
    assert_eq "$got" "$want" "$ref back in dockerd"
    echo "# $ref: dockerd -> berthd -> dockerd: $want" >&3
  done
  run -0 docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_contains "$output" "three:v1"
  assert_contains "$output" "busybox:latest"
}

@test "an image imported into berthd, saved, loads into dockerd with the same id and layers" {
  berthd_has save || skip "berthd has no GET /images/get yet"
  run -0 docker import -c 'CMD ["sh"]' -c 'ENV A=1' "$BB_TAR" bb:v1
  local want got
  want=$(id_and_layers docker bb:v1)
  run -0 docker save bb:v1 -o "$TEST_DIR/b.tar"
  run -0 dockerd_cli load -i "$TEST_DIR/b.tar"
  assert_contains "$output" "Loaded image: bb:v1"
  got=$(id_and_layers dockerd_cli bb:v1)
  assert_eq "$got" "$want" "bb:v1 in dockerd"
  echo "# bb:v1: berthd -> dockerd: $want" >&3
  run -0 dockerd_cli inspect --format '{{json .Config.Env}} {{json .Config.Cmd}}' bb:v1
  assert_contains "$output" '"A=1"'
  assert_contains "$output" '["sh"]'
  # and dockerd's save of it loads back into a fresh berthd name
  run -0 dockerd_cli tag bb:v1 bb:v2
  dockerd_cli save bb:v2 -o "$TEST_DIR/d.tar"
  berthd_has load || skip "berthd has no POST /images/load yet"
  run -0 docker load -i "$TEST_DIR/d.tar"
  got=$(id_and_layers docker bb:v2)
  assert_eq "$got" "$want" "bb:v2 in berthd"
}

@test "docker load of a bad archive: exit 1 and the bare message, from dockerd and from berthd" {
  berthd_has load || skip "berthd has no POST /images/load yet"
  head -c 10000 /dev/urandom >"$TEST_DIR/junk.tar"
  run -1 dockerd_cli load -i "$TEST_DIR/junk.tar"
  echo "# dockerd: $output" >&3
  [[ -n $output && $output != *"Error response from daemon"* ]] || fail "dockerd printed: $output"
  run -1 docker load -i "$TEST_DIR/junk.tar"
  echo "# berthd: $output" >&3
  [[ -n $output && $output != *"Error response from daemon"* ]] || fail "berthd's load printed: $output"
  # Both answer 200 with the error in the stream.
  local sock
  for sock in "$SOCK" "$DOCKERD_SOCK"; do
    run -0 curl -s -w '\n%{http_code}' --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
      --data-binary @"$TEST_DIR/junk.tar" 'http://d/v1.41/images/load?quiet=1'
    assert_eq "${lines[-1]}" "200"
    assert_contains "${lines[0]}" '"errorDetail":{"message":'
  done
}
