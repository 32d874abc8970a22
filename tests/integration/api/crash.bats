#!/usr/bin/env bats
# Crash: `kill -9 berthd` while a ~100 MB image is coming in, at several points, then restart
# berthd on the same root. Then: `docker images` works; the image is there whole (same layers
# as a clean run, its unpacked data intact) or not at all; nothing in ingest/ that cannot be
# resumed; no snapshot directory the snapshot metadata does not know, no record without its
# directory; no pending row, no row without its blob or snapshot, every blob hashes to its name;
# and the same import/load succeeds again.
# Kill points are fractions of the bytes a clean run writes under the root (blob + unpacked
# layer), measured first, polled with du.

load helpers
load archive

BIG_MB=${BERTH_CRASH_MB:-100}
KILL_POINTS=${BERTH_CRASH_POINTS:-"0.2 0.5 0.85"}

setup() {
  api_setup
  command -v sqlite3 >/dev/null && command -v jq >/dev/null || skip "needs sqlite3 and jq"
  DATA=$TEST_DIR/data
  mkdir -p "$DATA"
}
teardown() { api_teardown; }

# use_root NAME: point ROOT/SOCK at a fresh daemon root and start berthd on it.
use_root() {
  ROOT=$TEST_DIR/$1
  SOCK=$TEST_DIR/$1.sock
  start_berthd
}

# stop_berthd: SIGTERM the current daemon and wait for it.
stop_berthd() {
  kill -TERM "$BERTHD_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$BERTHD_PID" 2>/dev/null || return 0; sleep 0.05; done
  kill -KILL "$BERTHD_PID" 2>/dev/null || true
}

# restart_berthd: start berthd again on the same root (its stale socket still there, as after a
# real crash) and wait until it answers /_ping, recovery done.
restart_berthd() {
  local t0 i
  t0=$(date +%s%N)
  start_berthd
  for ((i = 0; i < 400; i++)); do
    curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break
    kill -0 "$BERTHD_PID" 2>/dev/null || fail "berthd exited on restart: $(tail -20 "$TEST_DIR/berthd.log")"
    sleep 0.05
  done
  echo "# restart: answered /_ping after $((($(date +%s%N) - t0) / 1000000)) ms" >&3
}

root_bytes() { du -sb "$ROOT" | cut -f1; }

# in_flight_kill FRACTION TOTAL CMD...: runs CMD (a client) in the background, kill -9s berthd
# once the root has grown by FRACTION x TOTAL bytes. Sets KILLED_AT (bytes) and
# FINISHED_FIRST=1 when the client was done before the kill.
in_flight_kill() {
  local f=$1 total=$2
  shift 2
  local base target now
  base=$(root_bytes)
  target=$(awk -v b="$base" -v t="$total" -v f="$f" 'BEGIN { printf "%d", b + t * f }')
  "$@" >"$TEST_DIR/client.out" 2>&1 &
  local client=$!
  echo "$client" >>"$TEST_DIR/pids"
  FINISHED_FIRST=0
  while :; do
    now=$(root_bytes)
    ((now >= target)) && break
    if ! kill -0 "$client" 2>/dev/null; then FINISHED_FIRST=1; break; fi
    sleep 0.02
  done
  kill -KILL "$BERTHD_PID"
  wait "$BERTHD_PID" 2>/dev/null || true
  KILLED_AT=$((now - base))
  wait "$client" 2>/dev/null || true
  echo "# kill at $f: $KILLED_AT of $total bytes; client finished first: $FINISHED_FIRST;" \
    "client said: $(tr '\n' ' ' <"$TEST_DIR/client.out" | cut -c1-200)" >&3
}

# snapshot_meta JQ: a query of the snapshot metadata (none before the first snapshot).
snapshot_meta() {
  [[ ! -f $ROOT/layers/metadata.json ]] || jq -r "$1" "$ROOT/layers/metadata.json"
}

# check_store REF WANT_LAYERS: the invariants after a restart. WANT_LAYERS is the clean run's
# `{{json .RootFS.Layers}}`. Sets PRESENT=1 when REF is there.
check_store() {
  local ref=$1 want=$2 k name
  run -0 docker images
  run -0 docker images --format '{{.Repository}}:{{.Tag}}'
  PRESENT=0
  if [[ $output == *"$ref"* ]]; then
    PRESENT=1
    run -0 docker inspect --format '{{json .RootFS.Layers}}' "$ref"
    assert_eq "$output" "$want" "layers of $ref after the crash"
    # its big layer's data is whole
    local f
    f=$(find "$ROOT/layers/snapshots" -path '*/fs/data/random.bin' | head -1)
    [[ -n $f ]] || fail "$ref is listed but no snapshot holds data/random.bin"
    assert_eq "$(stat -c %s "$f")" "$((BIG_MB * 1024 * 1024))" "size of $f"
    assert_eq "$(sha256sum <"$f" | cut -d' ' -f1)" "$BIG_SHA" "sha256 of $f"
  fi
  # ingest: everything left from before the restart is resumable (a ref and a data file)
  if [[ -d $ROOT/ingest ]]; then
    for k in "$ROOT"/ingest/*; do
      [[ -e $k ]] || continue
      [[ -f $k/ref && -f $k/data ]] || fail "ingest $(basename "$k") is not resumable: $(ls -la "$k")"
    done
  fi
  # snapshots: directories == metadata records, each with its fs
  local ids
  ids=$(snapshot_meta '.snapshots[].id' | sort)
  for k in "$ROOT"/layers/snapshots/*; do
    [[ -e $k ]] || continue
    name=$(basename "$k")
    grep -qx "$name" <<<"$ids" || fail "layers/snapshots/$name is not in the snapshot metadata"
  done
  for name in $ids; do
    [[ -d $ROOT/layers/snapshots/$name/fs ]] || fail "snapshot $name has no fs directory"
  done
  # rows: none pending; every blob row has its file of its size; every layer row its snapshot
  local db=$ROOT/berth.db
  q() { sqlite3 -readonly "$db" "$1"; }
  assert_eq "$(q 'pragma integrity_check')" ok "integrity_check"
  assert_eq "$(q "select count(*) from images where state != 'complete'")" 0 "pending images"
  assert_eq "$(q "select count(*) from layers where state != 'complete'")" 0 "pending layers"
  local d size
  while IFS='|' read -r d size; do
    [[ -n $d ]] || continue
    [[ -f $ROOT/blobs/sha256/${d#sha256:} ]] || fail "blob row $d has no file"
    assert_eq "$(stat -c %s "$ROOT/blobs/sha256/${d#sha256:}")" "$size" "size of blob $d"
  done < <(q 'select digest, size from blobs')
  local keys
  keys=$(snapshot_meta '.snapshots[] | select(.kind == "committed") | .key')
  while read -r d; do
    [[ -n $d ]] || continue
    grep -qx "$d" <<<"$keys" || fail "layer row $d has no committed snapshot"
  done < <(q 'select chain_id from layers')
  # every blob file hashes to its name (none half-written)
  local orphans=0
  for k in "$ROOT"/blobs/sha256/*; do
    [[ -f $k ]] || continue
    assert_eq "$(sha256sum <"$k" | cut -d' ' -f1)" "$(basename "$k")" "content of blob $k"
    [[ -n $(q "select 1 from blobs where digest = 'sha256:$(basename "$k")'") ]] || orphans=$((orphans + 1))
  done
  echo "# after restart: image present=$PRESENT, ingests=$(ls "$ROOT/ingest" 2>/dev/null | wc -l)," \
    "snapshots=$(ls "$ROOT/layers/snapshots" | wc -l), blob files without a row=$orphans" >&3
}

@test "kill -9 during docker import of a ~100 MB rootfs: whole or nothing, then import again" {
  mkdir -p "$DATA/rootfs/data"
  "$BERTH_SRC/scripts/make-rootfs-busybox" "$DATA/rootfs" >/dev/null 2>&1 || skip "no busybox rootfs"
  head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$DATA/rootfs/data/random.bin"
  BIG_SHA=$(sha256sum <"$DATA/rootfs/data/random.bin" | cut -d' ' -f1)
  tar -C "$DATA/rootfs" --numeric-owner -cf "$DATA/big.tar" .
  rm -rf "$DATA/rootfs"

  # clean run: layers and the bytes it writes under the root
  local before after total want
  before=$(root_bytes)
  run -0 docker import "$DATA/big.tar" big:latest
  after=$(root_bytes)
  total=$((after - before))
  want=$(docker inspect --format '{{json .RootFS.Layers}}' big:latest)
  stop_berthd

  local f n=0
  for f in $KILL_POINTS; do
    n=$((n + 1))
    use_root "import$n"
    in_flight_kill "$f" "$total" docker import "$DATA/big.tar" big:latest
    restart_berthd
    check_store big:latest "$want"
    run -0 docker import "$DATA/big.tar" big:latest
    run -0 docker inspect --format '{{json .RootFS.Layers}}' big:latest
    assert_eq "$output" "$want" "layers after importing again"
    check_store big:latest "$want"
    assert_eq "$PRESENT" 1 "big:latest after importing again"
    stop_berthd
    rm -rf "$ROOT"
  done
}

@test "kill -9 during docker load of a ~100 MB three-layer archive: whole or nothing, then load again" {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary '' http://d/images/load)
  [[ $code != 404 && $code != 405 ]] || skip "berthd has no POST /images/load yet (HTTP $code)"
  make_big_layers "$DATA" "$BIG_MB" 5000
  BIG_SHA=$(tar -xOf "$DATA/big.tar" ./data/random.bin | sha256sum | cut -d' ' -f1)
  local id
  id=$(make_docker_archive "$DATA/img.tar" big:latest "$DATA/base.tar" "$DATA/big.tar" "$DATA/small.tar")
  rm -f "$DATA/base.tar" "$DATA/big.tar" "$DATA/small.tar"

  local before after total want
  before=$(root_bytes)
  run -0 docker load -i "$DATA/img.tar"
  after=$(root_bytes)
  total=$((after - before))
  want=$(docker inspect --format '{{json .RootFS.Layers}}' big:latest)
  run -0 docker inspect --format '{{.Id}}' big:latest
  assert_eq "$output" "$id" "id of a clean load"
  stop_berthd

  local f n=0
  for f in $KILL_POINTS; do
    n=$((n + 1))
    use_root "load$n"
    in_flight_kill "$f" "$total" docker load -i "$DATA/img.tar"
    restart_berthd
    check_store big:latest "$want"
    if ((PRESENT)); then
      run -0 docker inspect --format '{{.Id}}' big:latest
      assert_eq "$output" "$id" "id after the crash"
    fi
    run -0 docker load -i "$DATA/img.tar"
    run -0 docker inspect --format '{{.Id}} {{json .RootFS.Layers}}' big:latest
    assert_eq "$output" "$id $want" "id and layers after loading again"
    check_store big:latest "$want"
    stop_berthd
    rm -rf "$ROOT"
  done
}
