#!/usr/bin/env bats
# Registry credentials through berthd: POST /auth (docker login, berth login) against
# htpasswd registries — `berth registry serve --htpasswd` and Debian's docker-registry — then
# pull and push with X-Registry-Auth; berth's config.json; Docker's messages for refusals.

load client_helpers

setup() {
  command -v htpasswd >/dev/null || skip "no htpasswd (apache2-utils)"
  client_setup
  htpasswd -B -b -c "$TEST_DIR/htpasswd" alice s3cret 2>/dev/null
}
teardown() { client_teardown; }

# berthc ARGS...: berth's CLI with a config dir of its own.
berthc() { DOCKER_CONFIG="$TEST_DIR/berth-config" berth "$@"; }

# login_round REG: docker login refused and accepted, pull and push with the stored creds.
login_round() {
  local reg=$1
  make_layout
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret \
    "oci:$TEST_DIR/oci:bb" "docker://$reg/tests/bb:1" >/dev/null
  # Without credentials.
  run -1 docker pull "$reg/tests/bb:1"
  assert_contains "$output" "pull access denied for $reg/tests/bb"
  run -1 docker login -u alice -p wrong "$reg"
  assert_contains "$output" "401 Unauthorized"
  [[ ! -e $TEST_DIR/docker-config/config.json ]] ||
    ! grep -q "$reg" "$TEST_DIR/docker-config/config.json" || fail "refused creds were stored"
  run -0 docker login -u alice --password-stdin "$reg" <<<"s3cret"
  assert_contains "$output" "Login Succeeded"
  run -0 docker pull "$reg/tests/bb:1"
  assert_contains "$output" "Downloaded newer image for $reg/tests/bb:1"
  run -0 docker tag "$reg/tests/bb:1" "$reg/tests/copy:1"
  run -0 docker push "$reg/tests/copy:1"
  assert_contains "$output" "1: digest: sha256:"
  run -0 skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$reg/tests/copy:1"
  run -0 docker logout "$reg"
  run -1 docker pull "$reg/tests/copy:1"
  assert_contains "$output" "pull access denied"
}

@test "docker login, pull and push through berthd: berth registry serve --htpasswd" {
  start_berth_registry reg --htpasswd "$TEST_DIR/htpasswd"
  login_round "$REG"
}

@test "docker login, pull and push through berthd: docker-registry with htpasswd" {
  start_docker_registry dreg "$TEST_DIR/htpasswd"
  login_round "$DREG"
}

@test "berth login, pull, push, logout with a docker-style config.json" {
  start_berth_registry reg --htpasswd "$TEST_DIR/htpasswd"
  make_layout
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret \
    "oci:$TEST_DIR/oci:bb2" "docker://$REG/tests/bb:2" >/dev/null
  run -1 berthc pull "$REG/tests/bb:2"
  assert_contains "$output" "pull access denied"
  run -1 berthc login -u alice -p nope "$REG"
  assert_contains "$output" "401 Unauthorized"
  run -1 berthc login "$REG" </dev/null
  assert_contains "$output" "Cannot perform an interactive login from a non TTY device"
  run -0 berthc login -u alice --password-stdin "$REG" <<<"s3cret"
  assert_contains "$output" "Login Succeeded"
  local cfg=$TEST_DIR/berth-config/config.json
  assert_eq "$(jq -r --arg r "$REG" '.auths[$r].auth' "$cfg" | base64 -d)" "alice:s3cret"
  assert_eq "$(stat -c %a "$cfg")" 600
  run -0 berthc pull "$REG/tests/bb:2"
  assert_contains "$output" "2: Pulling from tests/bb"
  assert_contains "$output" "Pull complete"
  assert_contains "$output" "Status: Downloaded newer image for $REG/tests/bb:2"
  assert_eq "$(docker inspect -f '{{.Id}}' "$REG/tests/bb:2")" "$(skopeo inspect --tls-verify=false \
    --creds alice:s3cret --config --raw "docker://$REG/tests/bb:2" | sha256sum | sed 's/^/sha256:/; s/ .*//')"
  # berth run of an absent image pulls it with the stored credentials.
  run -0 berthc rmi "$REG/tests/bb:2"
  run -0 berthc run --rm "$REG/tests/bb:2" /bin/busybox cat /etc/one
  assert_contains "$output" "Unable to find image '$REG/tests/bb:2' locally"
  [[ ${lines[-1]} == one ]] || fail "berth run: $output"
  # On a terminal the layers' lines are redrawn in place.
  if command -v script >/dev/null; then
    run -0 berthc rmi "$REG/tests/bb:2"
    run -0 env DOCKER_CONFIG="$TEST_DIR/berth-config" BERTH_HOST="unix://$SOCK" \
      script -qec "$BERTH pull $REG/tests/bb:2" /dev/null
    assert_contains "$output" $'\x1b['
    assert_contains "$output" "Status: Downloaded newer image for $REG/tests/bb:2"
  fi
  run -0 berthc tag "$REG/tests/bb:2" "$REG/mine/bb"
  run -0 berthc push "$REG/mine/bb"
  assert_contains "$output" "Using default tag: latest"
  assert_contains "$output" "The push refers to repository [$REG/mine/bb]"
  assert_contains "$output" "Mounted from tests/bb"
  assert_contains "$output" "latest: digest: sha256:"
  run -0 berthc push "$REG/mine/bb:latest"
  [[ $(grep -c "Layer already exists" <<<"$output") == 3 ]] || fail "nothing sent: $output"
  run -0 berthc logout "$REG"
  assert_eq "$output" "Removing login credentials for $REG"
  assert_eq "$(jq -r --arg r "$REG" '.auths[$r]' "$cfg")" null
  run -0 berthc logout "$REG"
  assert_eq "$output" "Not logged in to $REG"
  run -1 berthc push "$REG/mine/bb:latest"
  assert_contains "$output" "unauthorized"
}

@test "docker login, pull, push and a mount through berthd: berth registry serve with bearer tokens" {
  start_berth_registry reg --htpasswd "$TEST_DIR/htpasswd" --token-realm /token
  make_layout
  run -0 curl -si "http://$REG/v2/"
  assert_contains "$output" "WWW-Authenticate: Bearer"
  skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret \
    "oci:$TEST_DIR/oci:bb" "docker://$REG/tests/bb:1" >/dev/null
  run -1 docker pull "$REG/tests/bb:1"
  assert_contains "$output" "pull access denied for $REG/tests/bb"
  run -1 docker login -u alice -p wrong "$REG"
  assert_contains "$output" "unauthorized: incorrect username or password"
  run -0 docker login -u alice --password-stdin "$REG" <<<"s3cret"
  assert_contains "$output" "Login Succeeded"
  run -0 docker pull "$REG/tests/bb:1"
  assert_contains "$output" "Downloaded newer image for $REG/tests/bb:1"
  # A push to another repository mounts the layers: the token asked covers both.
  run -0 docker tag "$REG/tests/bb:1" "$REG/other/bb:1"
  run -0 docker push "$REG/other/bb:1"
  [[ $(grep -c "Mounted from tests/bb" <<<"$output") == 2 ]] || fail "two mounts: $output"
  run -0 skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$REG/other/bb:1"
}
