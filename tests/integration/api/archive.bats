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
  run -0 bash -c "tar -xOf '$TEST_DIR/both.tar' manifest.json | jq -r '[.[].Layers[]] | unique | .[]'"
  assert_eq "${#lines[@]}" "1"
  local layer=$output
  run -0 bash -c "tar -tf '$TEST_DIR/both.tar' | grep -cx '$layer'"
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

@test "a bad archive: the error comes in the load stream, as Docker's, and the CLIs print it" {
  head -c 10000 /dev/urandom >"$TEST_DIR/junk.tar"
  run -1 docker load -i "$TEST_DIR/junk.tar"
  [[ $output != *"Error response from daemon"* ]] || fail "an HTTP error, not a stream error: $output"
  [[ -n $output ]] || fail "docker printed no message"
  local docker_msg=$output
  run -1 berth load -i "$TEST_DIR/junk.tar"
  assert_contains "$output" "$docker_msg"
  # The stream itself: status 200, then {"errorDetail":{"message":…},"error":…}.
  run -0 curl -s -w '\n%{http_code}' --unix-socket "$SOCK" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary @"$TEST_DIR/junk.tar" http://d/v1.44/images/load
  assert_eq "${lines[-1]}" "200"
  run -0 jq -e -r 'select(.errorDetail) | (.errorDetail.message == .error) and (.error | length > 0)' <<<"${lines[0]}"
  assert_eq "$output" "true"
}

@test "docker load without -q streams Loading layer progress, then the loaded tag" {
  run -0 docker import "$BB_TAR" prog:1
  run -0 docker save prog:1 -o "$TEST_DIR/p.tar"
  run -0 docker rmi prog:1
  run -0 curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' \
    --data-binary @"$TEST_DIR/p.tar" 'http://d/v1.44/images/load?quiet=0'
  local out=$output
  run -0 jq -r -s '.[-1].stream' <<<"$out"
  assert_eq "$output" "Loaded image: prog:1"
  if [[ $out != *'"Loading layer"'* ]]; then
    skip "berthd's image backend does not pass progress on (cmd/image_backend.h: LoadImagesWithProgress)"
  fi
  run -0 jq -r -s '[.[] | select(.status == "Loading layer")] | (length > 0) and
    (.[-1].progressDetail.current == .[-1].progressDetail.total) and (.[-1].id | length == 12)' <<<"$out"
  assert_eq "$output" "true"
  run -0 jq -r -s '.[-1].stream' <<<"$out"
  assert_eq "$output" "Loaded image: prog:1"
  run -0 curl -s --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' \
    --data-binary @"$TEST_DIR/p.tar" 'http://d/v1.44/images/load?quiet=1'
  [[ $output != *"Loading layer"* ]] || fail "quiet load sent progress: $output"
}

@test "docker save REPO saves every tag of the repository, as Docker does" {
  run -0 docker import "$BB_TAR" repo:1
  local id=$output
  run -0 docker tag repo:1 repo:2
  run -0 docker import -c 'CMD ["ls"]' "$BB_TAR" repo:3
  run -0 docker import "$BB_TAR" other:1
  run -0 docker save repo -o "$TEST_DIR/repo.tar"
  run -0 bash -c "tar -xOf '$TEST_DIR/repo.tar' manifest.json | jq -r '[.[].RepoTags[]] | sort | join(\" \")'"
  assert_eq "$output" "repo:1 repo:2 repo:3"
  run -0 docker rmi repo:1 repo:2 repo:3 other:1
  run -0 docker load -i "$TEST_DIR/repo.tar"
  run -0 docker images --format '{{.Repository}}:{{.Tag}}'
  assert_eq "$(sort <<<"$output" | tr '\n' ' ')" "repo:1 repo:2 repo:3 "
  run -0 docker inspect -f '{{.Id}}' repo:2
  assert_eq "$output" "$id"
  # A repository with no tag but an id prefix still resolves as before.
  run -0 docker save "${id:7:12}" -o "$TEST_DIR/byid.tar"
}

@test "OCI layouts load: skopeo's oci-archive tar and an oci: directory (berth load -i DIR)" {
  command -v skopeo >/dev/null && command -v umoci >/dev/null || skip "skopeo or umoci missing"
  local t=$TEST_DIR/oci rootless=""
  mkdir -p "$t"
  ((EUID == 0)) || rootless=--rootless
  (cd "$t" && umoci init --layout X && umoci new --image X:tag && umoci unpack $rootless --image X:tag b &&
    cp -a "$TEST_DIR/rootfs/." b/rootfs/ && umoci repack --image X:tag b) >/dev/null 2>&1 || fail "umoci"
  run -0 skopeo copy -q oci:"$t/X:tag" oci-archive:"$t/A.tar:ociarch/img:1"
  run -0 docker load -i "$t/A.tar"
  assert_contains "$output" "Loaded image"
  local loaded=$output
  run -0 skopeo copy -q oci:"$t/X:tag" oci:"$t/D:v2"
  [[ -d $t/D/blobs/sha256 ]] || fail "skopeo wrote no layout directory"
  run -0 berth load -i "$t/D"
  assert_contains "$output" "Loaded image"
  run -0 berth images -q --no-trunc
  local ids=$output
  [[ $(sort -u <<<"$ids" | wc -l) -ge 1 ]] || fail "no image loaded"
  run -0 docker inspect -f '{{len .RootFS.Layers}} {{.Os}}' "$(head -1 <<<"$ids")"
  assert_eq "$output" "1 linux"
  # A directory that is not an image is refused with the loader's message.
  mkdir -p "$t/empty/sub"
  echo hi >"$t/empty/sub/f"
  run -1 berth load -i "$t/empty"
  assert_contains "$output" "neither manifest.json"
  : "$loaded"
}

@test "berth save writes an OCI layout beside manifest.json that skopeo reads as oci-archive" {
  command -v skopeo >/dev/null || skip "skopeo missing"
  run -0 berth import "$BB_TAR" ocisave:1
  local id=$output
  run -0 berth save -o "$TEST_DIR/o.tar" ocisave:1
  run -0 tar -tf "$TEST_DIR/o.tar"
  assert_contains "$output" "oci-layout"
  assert_contains "$output" "index.json"
  assert_contains "$output" "manifest.json"
  run -0 skopeo inspect --format '{{len .Layers}}' oci-archive:"$TEST_DIR/o.tar"
  assert_eq "$output" "1"
  run -0 skopeo inspect --config oci-archive:"$TEST_DIR/o.tar"
  run -0 jq -r '.rootfs.diff_ids | length' <<<"$output"
  assert_eq "$output" "1"
  run -0 skopeo inspect --format '{{len .Layers}}' docker-archive:"$TEST_DIR/o.tar"
  assert_eq "$output" "1"
  run -0 berth rmi ocisave:1
  run -0 berth load -i "$TEST_DIR/o.tar"
  assert_eq "$output" "Loaded image: ocisave:1"
  run -0 berth inspect -f '{{.Id}}' ocisave:1
  assert_eq "$output" "$id"
}

@test "berth load streams a large archive from a file and from stdin" {
  source "$BERTH_SRC/tests/integration/api/archive.bash"
  make_big_layers "$TEST_DIR/big" 64 0
  make_docker_archive "$TEST_DIR/big.tar" big:1 "$TEST_DIR/big/base.tar" "$TEST_DIR/big/big.tar" >"$TEST_DIR/big.id"
  run -0 berth load -i "$TEST_DIR/big.tar"
  assert_eq "$output" "Loaded image: big:1"
  run -0 berth rmi big:1
  # The client's peak memory stays far below the archive's 64 MiB.
  run -0 bash -c "BERTH_HOST=unix://$SOCK /usr/bin/time -f '%M' '$BERTH' load -q <'$TEST_DIR/big.tar' 2>'$TEST_DIR/rss'"
  assert_eq "$output" "Loaded image: big:1"
  local kb
  kb=$(tail -1 "$TEST_DIR/rss")
  ((kb < 40000)) || fail "berth load used ${kb} KiB for a 64 MiB archive"
  run -0 berth inspect -f '{{.Id}}' big:1
  assert_eq "$output" "$(cat "$TEST_DIR/big.id")"
}

@test "docker events --filter image=REPO matches its tags and ids, as Docker's filter does" {
  run -0 docker import "$BB_TAR" evf:1
  local id=$output
  run -0 docker tag evf:1 evf:2
  run -0 docker import "$BB_TAR" zzz:1
  sleep 1.1
  run -0 docker events --since 0 --until "$(date +%s)" --filter image=evf \
    --format '{{.Action}} {{.Actor.Attributes.name}}'
  assert_eq "$output" $'import evf:1\ntag evf:1\ntag evf:2'
  run -0 docker events --since 0 --until "$(date +%s)" --filter image="$id" --format '{{.Action}}'
  [[ $output == *import* ]] || fail "the id did not match: $output"
  run -0 docker events --since 0 --until "$(date +%s)" --filter image=evf:2 --format '{{.Action}}'
  assert_eq "$output" "tag"
}
