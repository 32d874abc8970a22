#!/usr/bin/env bats
# docker pull through berthd (POST /images/create?fromImage=) from `berth registry serve` and
# from Debian's docker-registry: the image and its layers, run, layers already present, by
# digest, `docker run` of an absent image, a blob with the wrong digest, a missing tag.

load client_helpers

setup() { client_setup; }
teardown() { client_teardown; }

@test "docker pull from berth registry: id, layers, run, layers already present" {
  make_layout
  start_berth_registry reg
  push_layout bb "$REG/tests/bb:1"
  push_layout bb2 "$REG/tests/bb:2"
  local id
  id=$(config_digest "$REG/tests/bb:1")
  run -0 docker pull "$REG/tests/bb:1"
  assert_contains "$output" "1: Pulling from tests/bb"
  assert_contains "$output" "Pull complete"
  assert_contains "$output" "Status: Downloaded newer image for $REG/tests/bb:1"
  run -0 docker inspect -f '{{.Id}} {{len .RootFS.Layers}}' "$REG/tests/bb:1"
  assert_eq "$output" "$id 2"
  run -0 docker run --rm "$REG/tests/bb:1" /bin/busybox cat /etc/one
  assert_eq "$output" one
  # Again: nothing to fetch.
  run -0 docker pull "$REG/tests/bb:1"
  assert_contains "$output" "Status: Image is up to date for $REG/tests/bb:1"
  # An image over the same base: its two lower layers are there already.
  run -0 docker pull "$REG/tests/bb:2"
  [[ $(grep -c "Already exists" <<<"$output") == 2 ]] || fail "two layers present: $output"
  [[ $(grep -c "Pull complete" <<<"$output") == 1 ]] || fail "one layer fetched: $output"
  run -0 docker run --rm "$REG/tests/bb:2" /bin/busybox wc -c /etc/two
  assert_contains "$output" "200000 /etc/two"
  run -0 docker inspect -f '{{.Id}}' "$REG/tests/bb:2"
  assert_eq "$output" "$(config_digest "$REG/tests/bb:2")"
}

@test "docker pull by digest, and docker run of an absent image pulls it" {
  make_layout
  start_berth_registry reg
  push_layout bb "$REG/tests/bb:1"
  local digest id
  digest="sha256:$(skopeo inspect --tls-verify=false --raw "docker://$REG/tests/bb:1" | sha256sum | cut -d' ' -f1)"
  id=$(config_digest "$REG/tests/bb:1")
  run -0 docker pull "$REG/tests/bb@$digest"
  assert_contains "$output" "Digest: $digest"
  run -0 docker inspect -f '{{.Id}}' "$REG/tests/bb@$digest"
  assert_eq "$output" "$id"
  run -0 docker rmi "$REG/tests/bb@$digest"
  # The CLI's path: create → 404 "No such image" → pull → create.
  run -0 docker run --rm "$REG/tests/bb:1" /bin/busybox echo ran
  assert_contains "$output" "Unable to find image '$REG/tests/bb:1' locally"
  assert_contains "$output" "Status: Downloaded newer image for $REG/tests/bb:1"
  [[ ${lines[-1]} == ran ]] || fail "last line: ${lines[-1]}"
  run -0 docker inspect -f '{{.Id}}' "$REG/tests/bb:1"
  assert_eq "$output" "$id"
  # berth run does the same.
  run -0 docker rmi "$REG/tests/bb:1"
  run -0 berth run --rm "$REG/tests/bb:1" /bin/busybox echo ran
  [[ ${lines[-1]} == ran ]] || fail "berth run: $output"
}

@test "a blob with the wrong digest: the pull fails and nothing is stored" {
  make_layout
  start_berth_registry reg
  push_layout bb "$REG/tests/bb:1"
  # Alter the larger layer in the registry's storage (same size, one byte changed).
  local layer f
  layer=$(skopeo inspect --tls-verify=false --raw "docker://$REG/tests/bb:1" |
    jq -r '.layers | max_by(.size) | .digest')
  f=$TEST_DIR/reg/blobs/sha256/${layer#sha256:}
  [[ -f $f ]] || fail "no blob file $f"
  printf '\xff' | dd of="$f" bs=1 seek=5000 conv=notrunc status=none
  local before
  before=$(ls "$ROOT/blobs/sha256" 2>/dev/null | sort)
  run -1 docker pull "$REG/tests/bb:1"
  assert_contains "$output" "filesystem layer verification failed for digest $layer"
  run -0 docker images -q
  assert_eq "$output" ""
  assert_eq "$(ls "$ROOT/blobs/sha256" 2>/dev/null | sort)" "$before"
  [[ ! -e $ROOT/blobs/sha256/${layer#sha256:} ]] || fail "the altered blob was stored"
  # No unpacked layer is left (the snapshotter's extract- directories).
  run -0 bash -c "find '$ROOT' -maxdepth 3 -name 'extract-*' | wc -l"
  assert_eq "$output" 0
}

@test "a missing tag or repository: Docker's messages" {
  make_layout
  start_berth_registry reg
  push_layout bb "$REG/tests/bb:1"
  run -1 docker pull "$REG/tests/bb:nope"
  assert_contains "$output" "manifest for $REG/tests/bb:nope not found: manifest unknown"
  run -1 docker pull "$REG/tests/none:1"
  assert_contains "$output" "manifest unknown"
  # An unreachable registry.
  local port
  port=$(free_port)
  run -1 docker pull "127.0.0.1:$port/x:1"
  assert_contains "$output" "127.0.0.1:$port"
}

@test "docker pull from Debian's docker-registry" {
  make_layout
  start_docker_registry dreg
  push_layout bb "$DREG/tests/bb:1"
  push_layout bb2 "$DREG/tests/bb:2"
  run -0 docker pull "$DREG/tests/bb:2"
  assert_contains "$output" "Status: Downloaded newer image for $DREG/tests/bb:2"
  run -0 docker inspect -f '{{.Id}} {{len .RootFS.Layers}}' "$DREG/tests/bb:2"
  assert_eq "$output" "$(config_digest "$DREG/tests/bb:2") 3"
  run -0 docker pull "$DREG/tests/bb:1"
  [[ $(grep -c "Already exists" <<<"$output") == 2 ]] || fail "two layers present: $output"
  run -0 docker run --rm "$DREG/tests/bb:1" /bin/busybox cat /etc/one
  assert_eq "$output" one
  run -1 docker pull "$DREG/tests/bb:nope"
  assert_contains "$output" "manifest unknown"
}

@test "a download cut short resumes with Range and the image is whole" {
  make_layout
  start_berth_registry reg
  push_layout bb2 "$REG/tests/bb:2"
  start_cut_proxy "$REG"
  local proxy=$PROXY
  run -0 docker pull "$proxy/tests/bb:2"
  assert_contains "$output" "Status: Downloaded newer image for $proxy/tests/bb:2"
  # Both large layers were cut once, then fetched from where they broke off.
  [[ $(grep -c " cut$" "$TEST_DIR/proxy.log") == 2 ]] || fail "cuts: $(cat "$TEST_DIR/proxy.log")"
  [[ $(grep -c "range=bytes=[1-9][0-9]*-$" "$TEST_DIR/proxy.log") == 2 ]] ||
    fail "resumes: $(cat "$TEST_DIR/proxy.log")"
  assert_eq "$(docker inspect -f '{{.Id}}' "$proxy/tests/bb:2")" "$(config_digest "$REG/tests/bb:2")"
  run -0 docker run --rm "$proxy/tests/bb:2" /bin/busybox sha256sum /etc/two
  assert_eq "${output%% *}" "$(sha256sum "$TEST_DIR/layers/two/etc/two" | cut -d' ' -f1)"
}

@test "concurrent pulls of one multi-layer image into one berthd all succeed, the image whole" {
  make_layout
  local l=$TEST_DIR/layers
  mkdir -p "$l/big/data" "$l/many/data"
  head -c 8000000 /dev/urandom >"$l/big/data/random"
  local i
  for ((i = 0; i < 300; i++)); do echo "$i" >"$l/many/data/f$i"; done
  add_image multi "$l/base" "$l/one" "$l/two" "$l/big" "$l/many"
  start_berth_registry reg
  push_layout multi "$REG/tests/multi:1"
  local id round k rc
  id=$(config_digest "$REG/tests/multi:1")
  for round in 1 2 3; do
    local pids=()
    for k in 1 2 3 4 5; do
      DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$TEST_DIR/docker-config" \
        timeout 120 "$DOCKER_CLI" pull "$REG/tests/multi:1" >"$TEST_DIR/pull.$k" 2>&1 &
      pids+=($!)
    done
    for k in 1 2 3 4 5; do
      rc=0
      wait "${pids[k - 1]}" || rc=$?
      ((rc == 0)) || fail "round $round: pull $k exited $rc (124: hung): $(cat "$TEST_DIR/pull.$k")"
      assert_contains "$(cat "$TEST_DIR/pull.$k")" "$REG/tests/multi:1"
    done
    run -0 docker inspect -f '{{.Id}} {{len .RootFS.Layers}}' "$REG/tests/multi:1"
    assert_eq "$output" "$id 5"
    run -0 docker run --rm "$REG/tests/multi:1" /bin/busybox sh -c \
      '/bin/busybox sha256sum /data/random /etc/two; /bin/busybox ls /data | /bin/busybox wc -l'
    assert_contains "$output" "$(sha256sum "$l/big/data/random" | cut -d' ' -f1)  /data/random"
    assert_contains "$output" "$(sha256sum "$l/two/etc/two" | cut -d' ' -f1)  /etc/two"
    [[ ${lines[-1]} == 301 ]] || fail "files (300 and random): $output"
    run -0 bash -c "find '$ROOT' -maxdepth 3 -name 'extract-*' | wc -l"
    assert_eq "$output" 0
    run -0 docker rmi "$REG/tests/multi:1"
    run -0 docker images -q
    assert_eq "$output" ""
  done
}

@test "RepoDigests after a pull by tag and by digest; pull and run by digest" {
  make_layout
  start_berth_registry reg
  push_layout bb "$REG/tests/bb:1"
  local digest
  digest="sha256:$(skopeo inspect --tls-verify=false --raw "docker://$REG/tests/bb:1" | sha256sum | cut -d' ' -f1)"
  run -0 docker pull "$REG/tests/bb:1"
  run -0 docker image inspect -f '{{json .RepoDigests}} {{json .RepoTags}}' "$REG/tests/bb:1"
  assert_eq "$output" "[\"$REG/tests/bb@$digest\"] [\"$REG/tests/bb:1\"]"
  run -0 docker images --digests --format '{{.Repository}} {{.Tag}} {{.Digest}}'
  assert_eq "$output" "$REG/tests/bb 1 $digest"
  # Found by that digest; the digest goes with the last tag of its repository.
  run -0 docker image inspect -f '{{.Id}}' "$REG/tests/bb@$digest"
  assert_eq "$output" "$(config_digest "$REG/tests/bb:1")"
  run -0 docker rmi "$REG/tests/bb:1"
  assert_contains "$output" "Untagged: $REG/tests/bb:1"
  assert_contains "$output" "Untagged: $REG/tests/bb@$digest"
  run -0 docker images -q
  assert_eq "$output" ""
  # By digest: no tag, the digest recorded; docker run by digest.
  run -0 docker pull "$REG/tests/bb@$digest"
  run -0 docker image inspect -f '{{json .RepoDigests}} {{json .RepoTags}}' "$REG/tests/bb@$digest"
  assert_eq "$output" "[\"$REG/tests/bb@$digest\"] []"
  run -0 docker images --digests --format '{{.Repository}} {{.Tag}} {{.Digest}}'
  assert_eq "$output" "$REG/tests/bb <none> $digest"
  run -0 docker images -q --filter dangling=true
  assert_eq "$output" ""
  run -0 docker run --rm "$REG/tests/bb@$digest" /bin/busybox cat /etc/one
  assert_eq "$output" one
  # Tagged too: the image has both; removing the digest reference keeps the tag.
  run -0 docker pull "$REG/tests/bb:1"
  run -0 docker rmi "$REG/tests/bb@$digest"
  assert_eq "$output" "Untagged: $REG/tests/bb@$digest"
  run -0 docker image inspect -f '{{json .RepoDigests}} {{json .RepoTags}}' "$REG/tests/bb:1"
  assert_eq "$output" "[] [\"$REG/tests/bb:1\"]"
  # docker run of an absent image by digest pulls it.
  run -0 docker rmi "$REG/tests/bb:1"
  run -0 docker run --rm "$REG/tests/bb@$digest" /bin/busybox cat /etc/one
  assert_contains "$output" "Unable to find image '$REG/tests/bb@$digest' locally"
  [[ ${lines[-1]} == one ]] || fail "run by digest: $output"
}
