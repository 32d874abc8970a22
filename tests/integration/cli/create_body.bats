#!/usr/bin/env bats
# `berth create FLAGS` sends POST /containers/create with the same query and the same JSON body
# as `docker create FLAGS` (the docker CLI on this machine, negotiated down to API 1.41), checked
# against a fake daemon that records both (record_daemon.py); errors have docker's wording and
# exit code. Needs no daemon, no root.

bats_require_minimum_version 1.5.0

BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)}
BERTH_BIN=${BERTH_BIN:-${BERTH_BUILD:-$BERTH_SRC/build}/bin}
BERTH=${BERTH:-$BERTH_BIN/berth}
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}

fail() {
  echo "FAIL: $*" >&2
  return 1
}

setup_file() {
  [[ -x $BERTH ]] || skip "berth not built ($BERTH)"
  [[ -x $DOCKER_CLI ]] || skip "no docker CLI at $DOCKER_CLI"
  command -v jq >/dev/null || skip "no jq"
  export REC_DIR
  REC_DIR=$(mktemp -d /tmp/berth-rec.XXXXXX)
  python3 "$BATS_TEST_DIRNAME/record_daemon.py" "$REC_DIR/d.sock" "$REC_DIR/log" 2>"$REC_DIR/err" &
  echo $! >"$REC_DIR/pid"
  for _ in $(seq 100); do [[ -S $REC_DIR/d.sock ]] && break; sleep 0.05; done
  [[ -S $REC_DIR/d.sock ]] || fail "record daemon: $(cat "$REC_DIR/err")"
  mkdir -p "$REC_DIR/cfg" "$REC_DIR/cwd/rel"
  echo 'FROM_FILE=1' >"$REC_DIR/env"
  printf '# comment\nlabel.a=1\nlabel.b\n' >"$REC_DIR/labels"
  echo '{ "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ { "names": ["read"], "action": "SCMP_ACT_ALLOW" } ] }' >"$REC_DIR/seccomp.json"
}

teardown_file() {
  [[ -n ${REC_DIR:-} ]] || return 0
  kill "$(cat "$REC_DIR/pid")" 2>/dev/null || true
  rm -rf "$REC_DIR"
}

# same ARGS...: both clients create with ARGS; exit codes, bodies and errors must match.
same() {
  : >"$REC_DIR/log"
  local drc=0 brc=0
  (cd "$REC_DIR/cwd" && DOCKER_HOST="unix://$REC_DIR/d.sock" DOCKER_CONFIG="$REC_DIR/cfg" \
    timeout 30 "$DOCKER_CLI" create "$@" >/dev/null 2>"$REC_DIR/d.err") || drc=$?
  (cd "$REC_DIR/cwd" && BERTH_HOST="unix://$REC_DIR/d.sock" timeout 30 "$BERTH" create "$@" \
    >/dev/null 2>"$REC_DIR/b.err") || brc=$?
  [[ $drc == "$brc" ]] || fail "exit: docker $drc, berth $brc: $(cat "$REC_DIR/d.err" "$REC_DIR/b.err")"
  if ((drc == 0)); then
    (($(wc -l <"$REC_DIR/log") == 2)) || fail "expected two creates: $(cat "$REC_DIR/log")"
    # docker passes -e and -v binds through Go maps, so their order is random: compared sorted
    local norm='(if .body.Env then .body.Env |= sort else . end)
      | (if .body.HostConfig.Binds then .body.HostConfig.Binds |= sort else . end)'
    diff <(sed -n 1p "$REC_DIR/log" | jq -S "$norm") <(sed -n 2p "$REC_DIR/log" | jq -S "$norm") ||
      fail "bodies differ for: $*"
  else
    diff <(sed 's/docker/berth/g' "$REC_DIR/d.err") "$REC_DIR/b.err" || fail "errors differ for: $*"
  fi
}

@test "the default body" {
  same busybox
  same busybox echo hi
}

@test "process, environment and labels" {
  same -it --name c1 -e A=1 -e A=2 -e HOME -e UNSET_VAR_X --env-file "$REC_DIR/env" -w /tmp -u 1:2 \
    --entrypoint sh --hostname h1 --domainname example.org -l x=y -l z \
    --label-file "$REC_DIR/labels" --stop-signal SIGINT --stop-timeout 5 --init busybox a b
  same --entrypoint= -a stdin -a STDERR --init=false busybox
}

@test "mounts, volumes, tmpfs" {
  same -v /tmp:/mnt:ro -v vol:/data -v /anon -v ./rel:/r -v foo \
    --mount type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770 \
    --mount type=bind,source=/tmp,target=/b,readonly,bind-propagation=rslave \
    --mount source=v2,target=/v2,volume-nocopy,volume-opt=o=1 --tmpfs /run:size=1m --tmpfs /x \
    --read-only busybox
}

@test "resources" {
  same -m 64m --memory-swap 128m --memory-reservation 32m --cpus 1.5 -c 512 --cpuset-cpus 0 \
    --cpuset-mems 0 --pids-limit 10 --ulimit nofile=100:200 --ulimit nproc=5 --shm-size 1m \
    --oom-score-adj 100 --memory-swappiness 10 busybox
  same --memory-swap -1 -m 1.5g --cpus 0.000000001 --pids-limit -1 busybox
}

@test "security" {
  same --cap-add net_admin --cap-add CAP_CHOWN --cap-drop ALL --privileged \
    --device /dev/null:/dev/xnull:r --device /dev/fuse --device /dev/zero:rw \
    --security-opt "seccomp=$REC_DIR/seccomp.json" --security-opt no-new-privileges \
    --security-opt systempaths=unconfined --security-opt label=disable --group-add 10 \
    --sysctl net.ipv4.ip_forward=1 --userns host --pid host --ipc private --uts host busybox
}

@test "network, ports, restart, logging, platform" {
  same --network none -p 127.0.0.1:8080:80/tcp -p 90 -p 8000-8002:9000-9002/udp -p '[::1]:53:53' \
    -p published=8443,target=443 -P --expose 1000-1002 --expose 7/udp --dns 1.1.1.1 \
    --dns-search x --dns-option ndots:1 --add-host h:1.2.3.4 --add-host g=5.6.7.8 \
    --restart on-failure:3 --log-driver json-file --log-opt max-size=1m --platform linux/amd64 \
    --pull never busybox
  same --net host --restart unless-stopped busybox
  same --restart always:3 busybox
}

@test "errors: the same words and exit codes as docker" {
  same --frobnicate busybox
  same -x busybox
  same -e
  same
  same --rm=maybe busybox
  same -p abc busybox
  same --cpus=x busybox
  same --restart=always --rm busybox
  same --restart on-failure:x busybox
  same --ulimit nofile=x busybox
  same -m abc busybox
  same --mount source=x busybox
  same --env-file /nonexistent/env busybox
  same --security-opt seccomp=/nonexistent/profile.json busybox
  same -a bogus busybox
  same --pull bogus busybox
  same --memory-swappiness 200 busybox
  same --expose abc busybox
  same -v /a:/b:ro:z busybox
  same --sysctl foo busybox
  same --add-host foo busybox
  same -l =x busybox
}
