#!/usr/bin/env bats
# docker push through berthd (POST /images/{name}/push) to `berth registry serve` and to
# Debian's docker-registry, then pulled back into a fresh berthd: the same image; layers the
# registry has are not sent again; mounts across repositories; a layer sent in chunks.

load client_helpers

setup() { client_setup; }
teardown() { client_teardown; }

# fresh_berthd: stops this test's berthd and starts another on an empty root and socket.
fresh_berthd() {
  kill -TERM "$BERTHD_PID"
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.05; done
  ROOT=$TEST_DIR/root2
  SOCK=$TEST_DIR/berth2.sock
  RUN=$TEST_DIR/run2
  start_berthd --exec-root "$RUN"
}

@test "docker push to berth registry, pulled back the same; a second push sends nothing" {
  busybox_tar
  gzip -1 <"$BB_TAR" | berth import -c 'CMD ["sh"]' - app:1 >/dev/null
  echo data >"$TEST_DIR/data"
  run -0 docker run --name c1 app:1 sh -c 'echo added >/added'
  run -0 docker commit c1 app:2
  start_berth_registry reg
  local id1 id2
  id1=$(docker inspect -f '{{.Id}}' app:1)
  id2=$(docker inspect -f '{{.Id}}' app:2)
  run -0 docker tag app:2 "$REG/tests/app:2"
  run -0 docker push "$REG/tests/app:2"
  assert_contains "$output" "The push refers to repository [$REG/tests/app]"
  [[ $(grep -c ": Pushed" <<<"$output") == 2 ]] || fail "two layers pushed: $output"
  assert_contains "$output" "2: digest: sha256:"
  local digest size
  digest=$(sed -n 's/^2: digest: \(sha256:[0-9a-f]*\) size: .*/\1/p' <<<"$output")
  size=$(sed -n 's/^2: digest: .* size: \([0-9]*\)$/\1/p' <<<"$output")
  run -0 skopeo inspect --tls-verify=false --raw "docker://$REG/tests/app:2"
  assert_eq "sha256:$(printf %s "$output" | sha256sum | cut -d' ' -f1)" "$digest"
  assert_eq "$(printf %s "$output" | wc -c)" "$size"
  assert_eq "$(config_digest "$REG/tests/app:2")" "$id2"
  # Again: every layer is there.
  run -0 docker push "$REG/tests/app:2"
  [[ $(grep -c ": Layer already exists" <<<"$output") == 2 ]] || fail "nothing sent: $output"
  assert_contains "$output" "2: digest: $digest size: $size"
  # Another repository of the same registry: the shared base layer is mounted.
  run -0 docker tag app:1 "$REG/other/app:1"
  run -0 docker push "$REG/other/app:1"
  assert_contains "$output" ": Mounted from tests/app"
  # The aux message docker's SDKs read.
  run -0 curl -s --unix-socket "$SOCK" -X POST -H 'X-Registry-Auth: e30=' \
    "http://x/images/$REG/tests/app/push?tag=2"
  assert_eq "$(grep '"aux"' <<<"$output" | jq -r '.aux.Digest')" "$digest"
  assert_eq "$(grep '"aux"' <<<"$output" | jq -r '.aux.Tag')" 2
  # Pulled back into an empty berthd.
  fresh_berthd
  run -0 docker pull "$REG/tests/app:2"
  run -0 docker inspect -f '{{.Id}}' "$REG/tests/app:2"
  assert_eq "$output" "$id2"
  run -0 docker run --rm "$REG/tests/app:2" cat /added
  assert_eq "$output" added
  run -0 docker pull "$REG/other/app:1"
  run -0 docker inspect -f '{{.Id}}' "$REG/other/app:1"
  assert_eq "$output" "$id1"
}

@test "push of a pulled image to docker-registry keeps its digest; a large layer in chunks" {
  make_layout
  start_berth_registry reg
  start_docker_registry dreg
  push_layout bb2 "$REG/src/bb:2"
  local digest id
  digest="sha256:$(skopeo inspect --tls-verify=false --raw "docker://$REG/src/bb:2" | sha256sum | cut -d' ' -f1)"
  run -0 docker pull "$REG/src/bb:2"
  id=$(docker inspect -f '{{.Id}}' "$REG/src/bb:2")
  run -0 docker tag "$REG/src/bb:2" "$DREG/dst/bb:2"
  run -0 docker push "$DREG/dst/bb:2"
  [[ $(grep -c ": Pushed" <<<"$output") == 3 ]] || fail "three layers pushed: $output"
  assert_contains "$output" "2: digest: $digest size:"
  # A 20 MiB layer (over the 16 MiB a single PUT takes): PATCH chunks, then the PUT.
  head -c $((20 << 20)) /dev/urandom >"$TEST_DIR/big"
  tar -C "$TEST_DIR" -cf "$TEST_DIR/big.tar" big
  berth import - big:1 <"$TEST_DIR/big.tar" >/dev/null
  run -0 docker tag big:1 "$DREG/dst/big:1"
  run -0 docker push "$DREG/dst/big:1"
  assert_contains "$output" ": Pushed"
  run -0 grep -c "chunk [0-9]*-[0-9]*" "$TEST_DIR/berthd.log"
  assert_eq "$output" 2
  local bid
  bid=$(docker inspect -f '{{.Id}}' big:1)
  fresh_berthd
  run -0 docker pull "$DREG/dst/bb:2"
  assert_eq "$(docker inspect -f '{{.Id}}' "$DREG/dst/bb:2")" "$id"
  run -0 docker run --rm "$DREG/dst/bb:2" /bin/busybox wc -c /etc/two
  assert_contains "$output" "200000"
  run -0 docker pull "$DREG/dst/big:1"
  assert_eq "$(docker inspect -f '{{.Id}}' "$DREG/dst/big:1")" "$bid"
}

@test "push errors: a tag that does not exist, an unreachable registry" {
  run -1 docker push 127.0.0.1:5/nothing:1
  assert_contains "$output" "tag does not exist: 127.0.0.1:5/nothing:1"
  busybox_tar
  berth import - app:1 <"$BB_TAR" >/dev/null
  local port
  port=$(free_port)
  run -0 docker tag app:1 "127.0.0.1:$port/app:1"
  run -1 docker push "127.0.0.1:$port/app:1"
  assert_contains "$output" "127.0.0.1:$port"
}

@test "python3-docker pulls and pushes through berthd" {
  "$PYTHON" -c 'import docker' 2>/dev/null || skip "no python3-docker"
  make_layout
  start_berth_registry reg
  push_layout bb "$REG/tests/bb:1"
  run -0 "$PYTHON" - "$SOCK" "$REG" <<'PY'
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="1.41")
reg = sys.argv[2]
img = c.images.pull(reg + "/tests/bb", tag="1")
print("pulled", img.id)
img.tag(reg + "/py/bb", tag="2")
last = None
for m in c.images.push(reg + "/py/bb", tag="2", stream=True, decode=True):
    if "error" in m:
        sys.exit("push: " + m["error"])
    last = m
print("aux", last["aux"]["Tag"], last["aux"]["Digest"])
PY
  assert_contains "$output" "pulled $(config_digest "$REG/tests/bb:1")"
  assert_contains "$output" "aux 2 sha256:"
  assert_eq "$(config_digest "$REG/py/bb:2")" "$(config_digest "$REG/tests/bb:1")"
}

@test "an upload the registry drops is sent again; the image arrives whole" {
  make_layout
  start_berth_registry src
  local src=$REG
  push_layout bb2 "$src/tests/bb:2"
  run -0 docker pull "$src/tests/bb:2"
  start_berth_registry dst
  start_cut_proxy "$REG" uploads
  run -0 docker tag "$src/tests/bb:2" "$PROXY/tests/bb:2"
  run -0 docker push "$PROXY/tests/bb:2"
  assert_contains "$output" "2: digest: sha256:"
  [[ $(grep -c " cut$" "$TEST_DIR/proxy.log") == 1 ]] || fail "one cut: $(cat "$TEST_DIR/proxy.log")"
  run -0 grep -c "upload failed .*: retrying" "$TEST_DIR/berthd.log"
  assert_eq "$output" 1
  # What the registry holds is the image pushed.
  run -0 skopeo copy -q --src-tls-verify=false "docker://$REG/tests/bb:2" "oci:$TEST_DIR/back:bb"
  assert_eq "$(config_digest "$REG/tests/bb:2")" "$(docker inspect -f '{{.Id}}' "$src/tests/bb:2")"
}

@test "a loopback registry over TLS: push and pull through berthd (HTTPS first, unverified)" {
  command -v openssl >/dev/null || skip "no openssl"
  mkdir -p "$TEST_DIR/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$TEST_DIR/tls/key.pem" -out "$TEST_DIR/tls/cert.pem" 2>/dev/null
  htpasswd -B -b -c "$TEST_DIR/htpasswd" alice s3cret 2>/dev/null || skip "no htpasswd"
  start_berth_registry reg --tls-cert "$TEST_DIR/tls/cert.pem" --tls-key "$TEST_DIR/tls/key.pem" \
    --htpasswd "$TEST_DIR/htpasswd" --token-realm /token
  run -0 curl -s --cacert "$TEST_DIR/tls/cert.pem" -o /dev/null -w '%{http_code}' "https://$REG/v2/"
  assert_eq "$output" 401
  busybox_tar
  berth import - app:1 <"$BB_TAR" >/dev/null
  run -0 docker login -u alice --password-stdin "$REG" <<<"s3cret"
  run -0 docker tag app:1 "$REG/tls/app:1"
  run -0 docker push "$REG/tls/app:1"
  assert_contains "$output" "1: digest: sha256:"
  local id
  id=$(docker inspect -f '{{.Id}}' app:1)
  run -0 skopeo inspect --cert-dir "$TEST_DIR/tls" --tls-verify=false --creds alice:s3cret \
    --config --raw "docker://$REG/tls/app:1"
  assert_eq "sha256:$(printf %s "$output" | sha256sum | cut -d' ' -f1)" "$id"
  run -0 docker rmi "$REG/tls/app:1" app:1
  run -0 docker pull "$REG/tls/app:1"
  assert_eq "$(docker inspect -f '{{.Id}}' "$REG/tls/app:1")" "$id"
}
