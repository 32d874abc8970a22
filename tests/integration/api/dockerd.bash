# A private Debian dockerd (docker.io 20.10) on its own containerd, both under one directory,
# started the way ../shared/anchors/10-daemons.sh does on this machine (no systemd): own
# --data-root/--exec-root/--pidfile, a unix socket in that directory, cgroupfs, overlay2, and
# no host networking at all (--bridge=none, no iptables, no ip_forward change).
# Plain bash (no bats): tests/integration/api/dockerd_interop.bats and bench/image/run.sh use it.
#
#   dockerd_available                 docker.io and containerd are installed
#   dockerd_start DIR                 starts both; sets DOCKERD_SOCK, DOCKERD_PID, CONTAINERD_PID
#   dockerd_cli ARGS...               the docker CLI pointed at that dockerd
#   dockerd_stop DIR                  stops both by pid, unmounts what is under DIR, removes DIR

DOCKERD_BIN=${DOCKERD_BIN:-/usr/sbin/dockerd}
CONTAINERD_BIN=${CONTAINERD_BIN:-/usr/bin/containerd}
DOCKERD_CLI=${DOCKERD_CLI:-${DOCKER_CLI:-/usr/local/bin/docker}}

dockerd_available() { [[ -x $DOCKERD_BIN && -x $CONTAINERD_BIN && -x $DOCKERD_CLI ]]; }

_dockerd_wait_sock() { # PATH TENTHS PID
  local i
  for ((i = 0; i < $2; i++)); do
    [[ -S $1 ]] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

dockerd_cli() {
  DOCKER_HOST="unix://$DOCKERD_SOCK" DOCKER_CONFIG="$DOCKERD_DIR/cli" timeout 120 "$DOCKERD_CLI" "$@"
}

dockerd_start() {
  DOCKERD_DIR=$1
  mkdir -p "$DOCKERD_DIR"/{containerd,root,exec,cli}
  DOCKERD_SOCK=$DOCKERD_DIR/docker.sock
  local ctrd_sock=$DOCKERD_DIR/containerd/containerd.sock
  cat >"$DOCKERD_DIR/containerd/config.toml" <<EOF
version = 2
root = "$DOCKERD_DIR/containerd/root"
state = "$DOCKERD_DIR/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ctrd_sock"
[ttrpc]
  address = "$ctrd_sock.ttrpc"
[debug]
  address = ""
  level = "warn"
[metrics]
  address = ""
EOF
  "$CONTAINERD_BIN" --config "$DOCKERD_DIR/containerd/config.toml" >"$DOCKERD_DIR/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  echo "$CONTAINERD_PID" >"$DOCKERD_DIR/containerd.pid"
  _dockerd_wait_sock "$ctrd_sock" 200 "$CONTAINERD_PID" || {
    echo "containerd did not start: $(tail -5 "$DOCKERD_DIR/containerd.log")" >&2
    return 1
  }
  "$DOCKERD_BIN" \
    --host "unix://$DOCKERD_SOCK" \
    --containerd "$ctrd_sock" \
    --data-root "$DOCKERD_DIR/root" \
    --exec-root "$DOCKERD_DIR/exec" \
    --pidfile "$DOCKERD_DIR/dockerd.pidfile" \
    --storage-driver overlay2 \
    --exec-opt native.cgroupdriver=cgroupfs \
    --iptables=false --ip-masq=false --ip6tables=false --ip-forward=false \
    --bridge=none --userland-proxy=false \
    >"$DOCKERD_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  echo "$DOCKERD_PID" >"$DOCKERD_DIR/dockerd.pid"
  _dockerd_wait_sock "$DOCKERD_SOCK" 300 "$DOCKERD_PID" || {
    echo "dockerd did not start: $(tail -10 "$DOCKERD_DIR/dockerd.log")" >&2
    return 1
  }
  local i
  for ((i = 0; i < 100; i++)); do
    dockerd_cli version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "dockerd does not answer: $(tail -10 "$DOCKERD_DIR/dockerd.log")" >&2
  return 1
}

_dockerd_kill() { # PID: TERM, wait up to 10 s, then KILL
  local p=$1 i
  [[ -n $p ]] || return 0
  kill -TERM "$p" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$p" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
}

dockerd_stop() {
  local dir=${1:-${DOCKERD_DIR:-}} m
  [[ -n $dir && -d $dir ]] || return 0
  _dockerd_kill "$(cat "$dir/dockerd.pid" 2>/dev/null)"
  _dockerd_kill "$(cat "$dir/containerd.pid" 2>/dev/null)"
  # overlay mounts of the data root, shm/netns of the exec root: deepest first
  awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$dir"
}
