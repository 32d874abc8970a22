# Shared set-up for the registry client's tests (pull, push, login through berthd): a berthd of
# the test's own (../containers/helpers.bash: temp root, exec root and socket) and registries on
# 127.0.0.1 with free ports: `berth registry serve` and, when installed, Debian's
# docker-registry 2.8. Teardown stops every process it started, by pid.

# shellcheck source=../containers/helpers.bash
source "$BATS_TEST_DIRNAME/../containers/helpers.bash"

DOCKER_REGISTRY=${DOCKER_REGISTRY:-/usr/bin/docker-registry}

client_setup() {
  ((EUID == 0)) || skip "needs root"
  [[ -x $BERTHD && -x $BERTH ]] || skip "berthd or berth not built"
  command -v skopeo >/dev/null || skip "no skopeo"
  TEST_DIR=$(mktemp -d /tmp/berth-regc.XXXXXX)
  : >"$TEST_DIR/pids"
  ROOT=$TEST_DIR/root
  SOCK=$TEST_DIR/berth.sock
  RUN=$TEST_DIR/run
  start_berthd --exec-root "$RUN"
}

client_teardown() { containers_teardown; }

# start_berth_registry NAME [ARGS...]: `berth registry serve` with storage $TEST_DIR/NAME;
# sets REG (127.0.0.1:PORT) and REG_PID.
start_berth_registry() {
  local name=$1
  shift
  "$BERTH" registry serve --addr 127.0.0.1:0 --root "$TEST_DIR/$name" "$@" \
    >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.log" &
  REG_PID=$!
  echo "$REG_PID" >>"$TEST_DIR/pids"
  local i
  for ((i = 0; i < 200; i++)); do
    REG=$(sed -n 's/^berth registry listening on //p' "$TEST_DIR/$name.out" 2>/dev/null) || true
    [[ -n $REG ]] && return 0
    kill -0 "$REG_PID" 2>/dev/null || fail "registry exited: $(cat "$TEST_DIR/$name.log")"
    sleep 0.05
  done
  fail "registry did not start: $(cat "$TEST_DIR/$name.log")"
}

# free_port: a port of 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_docker_registry NAME [HTPASSWD]: Debian's docker-registry on a free port, filesystem
# storage in $TEST_DIR/NAME (skips the test when it is not installed); sets DREG and DREG_PID.
start_docker_registry() {
  [[ -x $DOCKER_REGISTRY ]] || skip "no docker-registry"
  local name=$1 htpasswd=${2:-} port i
  port=$(free_port)
  mkdir -p "$TEST_DIR/$name"
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $TEST_DIR/$name}"
    echo "  delete: {enabled: true}"
    echo "http: {addr: 127.0.0.1:$port}"
    if [[ -n $htpasswd ]]; then
      echo "auth: {htpasswd: {realm: test, path: $htpasswd}}"
    fi
  } >"$TEST_DIR/$name.yml"
  "$DOCKER_REGISTRY" serve "$TEST_DIR/$name.yml" >"$TEST_DIR/$name.log" 2>&1 &
  DREG_PID=$!
  echo "$DREG_PID" >>"$TEST_DIR/pids"
  DREG=127.0.0.1:$port
  for ((i = 0; i < 200; i++)); do
    curl -s -o /dev/null "http://$DREG/v2/" && return 0
    kill -0 "$DREG_PID" 2>/dev/null || fail "docker-registry exited: $(cat "$TEST_DIR/$name.log")"
    sleep 0.05
  done
  fail "docker-registry did not start: $(cat "$TEST_DIR/$name.log")"
}

# add_blob FILE MEDIA_TYPE: FILE into the layout's blobs; prints its descriptor (JSON).
add_blob() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$TEST_DIR/oci/blobs/sha256/$hex"
  jq -nc --arg m "$2" --arg d "sha256:$hex" --argjson s "$size" '{mediaType:$m,digest:$d,size:$s}'
}

# add_image TAG LAYER_DIR...: an image of gzipped tar layers (one per directory, base first)
# in the layout, tagged TAG in its index.json.
add_image() {
  local tag=$1 dir n=0 diff_ids=() layers=()
  shift
  for dir in "$@"; do
    n=$((n + 1))
    tar -C "$dir" --numeric-owner --owner=0 --group=0 -cf "$TEST_DIR/layer.tar" .
    diff_ids+=("\"sha256:$(sha256sum "$TEST_DIR/layer.tar" | cut -d' ' -f1)\"")
    gzip -n -1 <"$TEST_DIR/layer.tar" >"$TEST_DIR/layer.tgz"
    layers+=("$(add_blob "$TEST_DIR/layer.tgz" application/vnd.oci.image.layer.v1.tar+gzip)")
  done
  local ids
  ids=$(IFS=,; echo "${diff_ids[*]}")
  jq -nc --argjson ids "[$ids]" '{architecture:"amd64",os:"linux",
    config:{Cmd:["/bin/busybox","sh"],Env:["PATH=/bin"]},rootfs:{type:"layers",diff_ids:$ids}}' \
    >"$TEST_DIR/config.json"
  local config manifest
  config=$(add_blob "$TEST_DIR/config.json" application/vnd.oci.image.config.v1+json)
  jq -nc --argjson c "$config" --argjson l "[$(IFS=,; echo "${layers[*]}")]" \
    '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",config:$c,layers:$l}' \
    >"$TEST_DIR/manifest.json"
  manifest=$(add_blob "$TEST_DIR/manifest.json" application/vnd.oci.image.manifest.v1+json)
  jq --argjson m "$manifest" --arg t "$tag" \
    '.manifests += [$m + {annotations:{"org.opencontainers.image.ref.name":$t}}]' \
    "$TEST_DIR/oci/index.json" >"$TEST_DIR/index.json"
  mv "$TEST_DIR/index.json" "$TEST_DIR/oci/index.json"
}

# make_layout: $TEST_DIR/oci, an OCI layout with two images sharing their base: "bb" (busybox,
# then a small file: 2 layers) and "bb2" (bb plus a third layer of 200,000 random bytes).
make_layout() {
  local bb
  bb=$(command -v busybox) || skip "no busybox"
  local l=$TEST_DIR/layers
  mkdir -p "$l/base/bin" "$l/one/etc" "$l/two/etc" "$TEST_DIR/oci/blobs/sha256"
  cp "$bb" "$l/base/bin/busybox"
  echo one >"$l/one/etc/one"
  head -c 200000 /dev/urandom >"$l/two/etc/two"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$TEST_DIR/oci/oci-layout"
  echo '{"schemaVersion":2,"manifests":[]}' >"$TEST_DIR/oci/index.json"
  add_image bb "$l/base" "$l/one"
  add_image bb2 "$l/base" "$l/one" "$l/two"
}

# push_layout TAG DEST: skopeo copies the layout's TAG to docker://DEST.
push_layout() {
  skopeo copy -q --dest-tls-verify=false "oci:$TEST_DIR/oci:$1" "docker://$2" >/dev/null
}

# config_digest REF: the sha256 of the image config a registry holds for REF (the image id).
config_digest() {
  echo "sha256:$(skopeo inspect --tls-verify=false --config --raw "docker://$1" | sha256sum | cut -d' ' -f1)"
}

# start_cut_proxy UPSTREAM [uploads]: cut_proxy.py in front of UPSTREAM; sets PROXY
# (127.0.0.1:PORT). Its log of requests is $TEST_DIR/proxy.log.
start_cut_proxy() {
  python3 "$BATS_TEST_DIRNAME/cut_proxy.py" "$@" >"$TEST_DIR/proxy.out" 2>"$TEST_DIR/proxy.log" &
  echo $! >>"$TEST_DIR/pids"
  local i
  PROXY=
  for ((i = 0; i < 200; i++)); do
    PROXY=$(sed -n 's/^listening on //p' "$TEST_DIR/proxy.out" 2>/dev/null) || true
    [[ -n $PROXY ]] && return 0
    sleep 0.05
  done
  fail "proxy did not start: $(cat "$TEST_DIR/proxy.log")"
}
