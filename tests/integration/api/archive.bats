#!/usr/bin/env bats
# docker save / docker load through berthd: the docker CLI, python3-docker, skopeo and umoci,
# and berth's own save and load; a hostile archive; the events the image changes leave.

load helpers

setup() {
  api_setup
  busybox_tar
}
teardown() { api_teardown; }

@test "docker save, rmi, load gives the same image id" {
  run -0 docker import -c 'CMD ["sh"]' "$BB_TAR" busybox:latest
  local id=$output
  run -0 docker save busybox -o "$TEST_DIR/x.tar"
  run -0 tar -tf "$TEST_DIR/x.tar"
  assert_contains "$output" "manifest.json"
  run -0 docker rmi busybox
  run -0 docker images -q
  assert_eq "$output" ""
  run -0 docker load -i "$TEST_DIR/x.tar"
  assert_eq "$output" "Loaded image: busybox:latest"
  run -0 docker inspect -f '{{.Id}} {{json .Config.Cmd}}' busybox
  assert_eq "$output" "$id [\"sh\"]"
  # Loading again changes nothing; an id gives an untagged entry.
  run -0 docker load -i "$TEST_DIR/x.tar"
  run -0 docker save "$id" -o "$TEST_DIR/id.tar"
  run -0 docker rmi busybox
  run -0 docker load -i "$TEST_DIR/id.tar"
  assert_eq "$output" "Loaded image ID: $id"
}

@test "docker save of two images sharing a layer writes it once" {
  run -0 docker import -c 'CMD ["sh"]' "$BB_TAR" one:1
  local one=$output
  run -0 docker import -c 'CMD ["ls"]' "$BB_TAR" two:2
  local two=$output
  run -0 docker save -o "$TEST_DIR/both.tar" one:1 two:2
  run -0 bash -c "tar -tf '$TEST_DIR/both.tar' | grep -c 'layer.tar\$'"
  assert_eq "$output" "1"
  run -0 docker rmi one:1 two:2
  run -0 docker load -i "$TEST_DIR/both.tar"
  assert_eq "$output" $'Loaded image: one:1\nLoaded image: two:2'
  run -0 docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  assert_contains "$output" "one:1 ${one:7:12}"
  assert_contains "$output" "two:2 ${two:7:12}"
}

@test "docker load of skopeo's docker-archive; skopeo inspects berth's save" {
  command -v skopeo >/dev/null && command -v umoci >/dev/null || skip "skopeo or umoci missing"
  local t=$TEST_DIR/interop rootless=""
  mkdir -p "$t"
  ((EUID == 0)) || rootless=--rootless
  (cd "$t" && umoci init --layout X && umoci new --image X:tag && umoci unpack $rootless --image X:tag b &&
    cp -a "$TEST_DIR/rootfs/." b/rootfs/ && umoci repack --image X:tag b) >/dev/null 2>&1 || fail "umoci"
  run -0 skopeo copy -q oci:"$t/X:tag" docker-archive:"$t/Y.tar:umoci/made:tag"
  run -0 docker load -i "$t/Y.tar"
  assert_eq "$output" "Loaded image: umoci/made:tag"
  run -0 docker inspect -f '{{len .RootFS.Layers}}' umoci/made:tag
  assert_eq "$output" "1"
  run -0 docker save -o "$t/ours.tar" umoci/made:tag
  run -0 skopeo inspect --format '{{.Digest}} {{len .Layers}}' docker-archive:"$t/ours.tar"
  assert_contains "$output" " 1"
  run -0 skopeo copy -q docker-archive:"$t/ours.tar" oci:"$t/W:tag"
  run -0 umoci unpack $rootless --image "$t/W:tag" "$t/bundle"
  [[ -x $t/bundle/rootfs/bin/busybox ]] || fail "umoci unpacked no busybox"
}

@test "python3-docker saves and loads images" {
  run -0 docker import "$BB_TAR" py:1
  local id=$output
  run -0 "$PYTHON" - "$SOCK" "$TEST_DIR/py.tar" <<'PY'
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
with open(sys.argv[2], "wb") as f:
    for chunk in c.images.get("py:1").save(named=True):
        f.write(chunk)
c.images.remove("py:1")
with open(sys.argv[2], "rb") as f:
    imgs = c.images.load(f.read())
print(" ".join(i.id for i in imgs), imgs[0].tags)
PY
  assert_eq "$output" "$id ['py:1']"
}

@test "a hostile archive is refused with a clear message and berthd keeps serving" {
  mkdir -p "$TEST_DIR/bad"
  cd "$TEST_DIR/bad"
  echo '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}' >c.json
  local hex
  hex=$(sha256sum c.json | cut -d' ' -f1)
  mv c.json "$hex.json"
  echo "[{\"Config\":\"$hex.json\",\"RepoTags\":[\"bad:1\"],\"Layers\":[\"missing/layer.tar\"]}]" >manifest.json
  tar -cf ../bad.tar manifest.json "$hex.json"
  cd - >/dev/null
  run -1 docker load -i "$TEST_DIR/bad.tar"
  assert_contains "$output" "missing/layer.tar"
  assert_contains "$output" "not found in archive"
  # Garbage too.
  head -c 10000 /dev/urandom >"$TEST_DIR/junk.tar"
  run -1 docker load -i "$TEST_DIR/junk.tar"
  run -0 docker images -q
  assert_eq "$output" ""
  run -0 docker import "$BB_TAR" good
  run -0 docker images --format '{{.Repository}}'
  assert_eq "$output" "good"
}

@test "berth save and load" {
  run -0 berth import "$BB_TAR" bb:1
  local id=$output
  run -0 berth save -o "$TEST_DIR/b.tar" bb:1
  run -0 berth rmi bb:1
  run -0 berth load -i "$TEST_DIR/b.tar"
  assert_eq "$output" "Loaded image: bb:1"
  run -0 bash -c "BERTH_HOST=unix://$SOCK '$BERTH' save bb:1 >'$TEST_DIR/c.tar'"
  cmp "$TEST_DIR/b.tar" "$TEST_DIR/c.tar" || fail "two saves differ"
  run -0 berth rmi bb:1
  run -0 bash -c "BERTH_HOST=unix://$SOCK '$BERTH' load -q <'$TEST_DIR/c.tar'"
  assert_eq "$output" "Loaded image: bb:1"
  run -0 berth inspect -f '{{.Id}}' bb:1
  assert_eq "$output" "$id"
  run -1 berth save nosuch -o "$TEST_DIR/n.tar"
  assert_contains "$output" "No such image: nosuch"
  [[ ! -e $TEST_DIR/n.tar ]] || fail "a failed save left its file"
  if command -v script >/dev/null; then
    run -1 script -qec "BERTH_HOST=unix://$SOCK '$BERTH' save bb:1" /dev/null
    assert_contains "$output" "cowardly refusing to save to a terminal. Use the -o flag or redirect"
  fi
}

@test "docker events --since 0 --until now shows the image events and exits" {
  run -0 docker import "$BB_TAR" ev:1
  local id=$output
  run -0 docker tag ev:1 ev:2
  run -0 docker rmi ev:2
  run -0 docker rmi ev:1
  sleep 1.1
  run -0 docker events --since 0 --until "$(date +%s)" --format '{{.Action}} {{.Actor.Attributes.name}}'
  assert_eq "$output" $'import ev:1\ntag ev:1\ntag ev:2\nuntag ev:2\nuntag ev:1\ndelete '"$id"
  run -0 docker events --since 0 --until "$(date +%s)" --filter event=tag --filter image=ev:2 \
    --format '{{.Type}} {{.Action}} {{.ID}}'
  assert_eq "$output" "image tag $id"
  run -1 docker events --since 0 --until "$(date +%s)" --filter bogus=1
  assert_contains "$output" "invalid filter 'bogus'"
}
