#!/usr/bin/env bats
# The registry killed (SIGKILL) in the middle of a pull and of a push through berthd: the
# client resumes or retries when it comes back, fails clearly when it does not, and never
# stores a corrupt image. The transfers go through slow_link.py (a throttled TCP relay on
# loopback) so that they last long enough to be cut; the registry is a real `berth registry
# serve` on a fixed free port, started again on the same port and storage.

load client_helpers

setup() { client_setup; }
teardown() { client_teardown; }

# serve_on PORT NAME: `berth registry serve` on 127.0.0.1:PORT with storage $TEST_DIR/NAME; sets
# REG_PID (the port is fixed so that a registry started again is found where it was).
serve_on() {
  "$BERTH" registry serve --addr "127.0.0.1:$1" --root "$TEST_DIR/$2" \
    >>"$TEST_DIR/$2.out" 2>>"$TEST_DIR/$2.log" &
  REG_PID=$!
  echo "$REG_PID" >>"$TEST_DIR/pids"
  local i
  for ((i = 0; i < 200; i++)); do
    curl -s -o /dev/null "http://127.0.0.1:$1/v2/" && return 0
    kill -0 "$REG_PID" 2>/dev/null || fail "registry exited: $(cat "$TEST_DIR/$2.log")"
    sleep 0.05
  done
  fail "registry did not start: $(cat "$TEST_DIR/$2.log")"
}

# kill_registry: SIGKILL, and reaped.
kill_registry() {
  kill -KILL "$REG_PID"
  wait "$REG_PID" 2>/dev/null || true
  REG_PID=
}

# start_slow_link PORT: slow_link.py to 127.0.0.1:PORT at 3 MB/s; sets LINK (127.0.0.1:PORT).
start_slow_link() {
  python3 "$BATS_TEST_DIRNAME/slow_link.py" "$1" 3000000 >"$TEST_DIR/link.out" \
    2>"$TEST_DIR/link.log" &
  echo $! >>"$TEST_DIR/pids"
  local i
  LINK=
  for ((i = 0; i < 200; i++)); do
    LINK=$(sed -n 's/^listening on //p' "$TEST_DIR/link.out" 2>/dev/null) || true
    [[ -n $LINK ]] && return 0
    sleep 0.05
  done
  fail "slow link did not start: $(cat "$TEST_DIR/link.log")"
}

# wait_relayed MIB: until the link has carried MIB MiB since it started (30 s at most).
wait_relayed() {
  local i n
  for ((i = 0; i < 600; i++)); do
    n=$(sed -n 's/^relayed //p' "$TEST_DIR/link.out" | tail -1)
    [[ -n $n ]] && ((n >= $1 << 20)) && return 0
    sleep 0.05
  done
  fail "the link carried only ${n:-0} bytes"
}

# big_image: in the layout, "big": busybox and a layer of 12 MB of random bytes (in gzip, as
# large). Its config digest is BIG_ID, the random file's sha256 BIG_SUM.
big_image() {
  make_layout
  local l=$TEST_DIR/layers
  mkdir -p "$l/big/data"
  head -c 12000000 /dev/urandom >"$l/big/data/random"
  add_image big "$l/base" "$l/big"
  BIG_SUM=$(sha256sum "$l/big/data/random" | cut -d' ' -f1)
}

# no_partial_pull: berthd holds no image, no half-unpacked layer and no blob of the big layer.
no_partial_pull() {
  run -0 docker images -aq
  assert_eq "$output" ""
  run -0 bash -c "find '$ROOT' -name 'extract-*' | wc -l"
  assert_eq "$output" 0
  local big
  big=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "big") | .digest' \
    "$TEST_DIR/oci/index.json")
  big=$(jq -r '.layers[-1].digest' "$TEST_DIR/oci/blobs/sha256/${big#sha256:}")
  run -0 bash -c "find '$ROOT' -path '*/blobs/*' -name '${big#sha256:}' | wc -l"
  assert_eq "$output" 0
}

# serve_big: big_image pushed to a registry on a free port PORT, behind a slow link (LINK).
serve_big() {
  big_image
  PORT=$(free_port)
  serve_on "$PORT" reg
  push_layout big "127.0.0.1:$PORT/tests/big:1"
  start_slow_link "$PORT"
}

# docker_cut VERB REF: `docker VERB REF` in the background (output in $TEST_DIR/VERB.out), and
# the registry SIGKILLed once 3 MiB have gone over the link; sets XFER_PID.
docker_cut() {
  DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$TEST_DIR/docker-config" \
    timeout 120 "$DOCKER_CLI" "$1" "$2" >"$TEST_DIR/$1.out" 2>&1 &
  XFER_PID=$!
  wait_relayed 3
  kill_registry
}

# xfer_rc: waits for XFER_PID; sets RC to its exit status.
xfer_rc() {
  RC=0
  wait "$XFER_PID" || RC=$?
}

@test "the registry killed mid-pull and started again: the pull resumes and the image is whole" {
  serve_big
  local id
  id=$(config_digest "127.0.0.1:$PORT/tests/big:1")
  docker_cut pull "$LINK/tests/big:1"
  serve_on "$PORT" reg
  xfer_rc
  ((RC == 0)) || fail "pull exited $RC: $(cat "$TEST_DIR/pull.out")"
  grep -q "download cut short .*: resuming" "$TEST_DIR/berthd.log" ||
    fail "no resume in berthd's log: $(tail -20 "$TEST_DIR/berthd.log")"
  assert_eq "$(docker inspect -f '{{.Id}}' "$LINK/tests/big:1")" "$id"
  run -0 docker run --rm "$LINK/tests/big:1" /bin/busybox sha256sum /data/random
  assert_eq "${output%% *}" "$BIG_SUM"
}

@test "the registry killed mid-pull and not back: the pull fails clearly and stores nothing" {
  serve_big
  docker_cut pull "$LINK/tests/big:1"
  xfer_rc
  ((RC == 1)) || fail "pull exited $RC (0: it cannot have succeeded; 124: hung): $(cat "$TEST_DIR/pull.out")"
  # The link takes the connection and closes it (the registry behind it is gone).
  assert_contains "$(cat "$TEST_DIR/pull.out")" "/blobs/sha256:"
  assert_contains "$(cat "$TEST_DIR/pull.out")" "read body: partial message"
  no_partial_pull
  # berthd is unharmed, and the image comes whole once the registry is back.
  serve_on "$PORT" reg
  run -0 docker pull "$LINK/tests/big:1"
  run -0 docker run --rm "$LINK/tests/big:1" /bin/busybox sha256sum /data/random
  assert_eq "${output%% *}" "$BIG_SUM"
}

@test "the registry killed mid-push and started again: the push is retried and arrives whole" {
  local l=$TEST_DIR/up
  mkdir -p "$l/bin" "$l/data"
  cp "$(command -v busybox)" "$l/bin/busybox"
  head -c 12000000 /dev/urandom >"$l/data/random"
  local sum
  sum=$(sha256sum "$l/data/random" | cut -d' ' -f1)
  tar -C "$l" --numeric-owner --owner=0 --group=0 -cf "$TEST_DIR/up.tar" .
  berth import "$TEST_DIR/up.tar" up:1 >/dev/null
  local id port
  id=$(docker inspect -f '{{.Id}}' up:1)
  port=$(free_port)
  serve_on "$port" reg
  start_slow_link "$port"
  run -0 docker tag up:1 "$LINK/tests/up:1"
  docker_cut push "$LINK/tests/up:1"
  serve_on "$port" reg
  xfer_rc
  ((RC == 0)) || fail "push exited $RC: $(cat "$TEST_DIR/push.out")"
  grep -q "upload failed .*: retrying" "$TEST_DIR/berthd.log" ||
    fail "no retry in berthd's log: $(tail -20 "$TEST_DIR/berthd.log")"
  # What the registry holds is the image pushed, and it pulls back whole.
  assert_eq "$(config_digest "127.0.0.1:$port/tests/up:1")" "$id"
  run -0 docker rmi "$LINK/tests/up:1" up:1
  run -0 docker pull "127.0.0.1:$port/tests/up:1"
  run -0 docker run --rm "127.0.0.1:$port/tests/up:1" /bin/busybox sha256sum /data/random
  assert_eq "${output%% *}" "$sum"
}
