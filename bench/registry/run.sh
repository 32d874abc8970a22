#!/usr/bin/env bash
# bench/registry: push and pull of a ~117 MB image through berthd to and from `berth registry
# serve`, against Debian's dockerd 20.10 to and from Debian's docker-registry 2.8, in one run;
# a no-op push (everything present) for both; 50 concurrent pulls of one image from each
# registry. A benchmark, not a test: it prints figures and PASS/MISS against issue 5's targets
# and never fails a build.
#
#   sudo bench/registry/run.sh     # REPS=5 CONCURRENT=50 NOOP_RUNS=30 BENCH_FS=loop|host
#                                  # BERTH_BIN=build/bin
#
# The image: tests/integration/api/archive.bash's three layers (a busybox base, 100 MiB of
# /dev/urandom, 5,000 files of 2 KiB), loaded into both daemons with `docker load` and tagged
# for each registry. The docker CLI drives both daemons.
# - cold push (REPS times): the registry is stopped, its storage wiped and it is started again,
#   then `docker push`. Each side pushes its own way: dockerd gzips every layer (one thread);
#   berthd sends the blobs as its content store holds them (a loaded image: plain tars).
# - no-op push: hyperfine -N of `docker push` with everything in the registry (and of `berth
#   push` for berthd).
# - pull (REPS times, the image and its layers removed first): both daemons pull the same
#   gzip-compressed image, the one dockerd pushed, copied into the berth registry by skopeo
#   (so both download and unpack the same bytes). Also berthd pulling its own (plain tar) push.
# - load: CONCURRENT processes at once, each fetching the manifest and every blob of the image
#   with curl, against each registry; any status other than 200 or a short body counts as a
#   failed request.
# Everything is private to one temp dir (mktemp -d /var/tmp/berth-bench-registry.XXXXXX):
# berthd's root and socket, dockerd's data/exec root and its containerd (no host network
# change), both registries' storage, on 127.0.0.1 ports picked free. On any exit every process
# it started is stopped by pid, whatever is mounted under the temp dir is unmounted and the dir
# is removed. The report also goes to bench/results/registry-<time>.md (git-ignored).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BERTH_BIN=${BERTH_BIN:-$SRC/build/bin}
BERTHD=$BERTH_BIN/berthd
BERTH=$BERTH_BIN/berth
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
DOCKER_REGISTRY=${DOCKER_REGISTRY:-/usr/bin/docker-registry}
REPS=${REPS:-5}
CONCURRENT=${CONCURRENT:-50}
NOOP_RUNS=${NOOP_RUNS:-30}

((EUID == 0)) || { echo "bench/registry: needs root" >&2; exit 1; }
for b in "$BERTHD" "$BERTH" "$DOCKER_CLI" "$DOCKER_REGISTRY" /usr/bin/hyperfine /usr/bin/jq \
  /usr/bin/skopeo /usr/bin/curl /usr/bin/python3; do
  [[ -x $b ]] || { echo "bench/registry: $b missing (ninja -C build berthd berth; scripts/bootstrap)" >&2; exit 1; }
done
export BERTH_SRC=$SRC
# shellcheck source=../../tests/integration/api/dockerd.bash
source "$SRC/tests/integration/api/dockerd.bash"
# shellcheck source=../../tests/integration/api/archive.bash
source "$SRC/tests/integration/api/archive.bash"
dockerd_available || { echo "bench/registry: Debian's docker.io not installed (scripts/bootstrap)" >&2; exit 1; }

BENCH_FS=${BENCH_FS:-loop}
TOP=$(mktemp -d /var/tmp/berth-bench-registry.XXXXXX)
W=$TOP
BERTHD_PID= BREG_PID= DREG_PID=
stop_pid() { # PID: TERM, up to 10 s, then KILL
  local p=$1
  [[ -n $p ]] || return 0
  kill -TERM "$p" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  set +e
  stop_pid "$BREG_PID"
  stop_pid "$DREG_PID"
  stop_pid "$BERTHD_PID"
  dockerd_stop "$W/dockerd"
  awk -v d="$TOP" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -rf "$TOP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private journaled ext4 in a loop file by default (bench/image/run.sh says why: this host's
# root file system is ext4 without a journal, slow to create files right after deleting many).
if [[ $BENCH_FS == loop ]]; then
  truncate -s 12G "$TOP/fs.img"
  mkfs.ext4 -q -F "$TOP/fs.img"
  mkdir "$TOP/fs"
  mount -o loop "$TOP/fs.img" "$TOP/fs"
  W=$TOP/fs
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench/registry: work dir $W ($BENCH_FS); load average $LOAD_BEFORE" >&2

# --- the image ---
make_big_layers "$W/layers" 100 5000
IMAGE_ID=$(make_docker_archive "$W/big.tar" big:latest "$W/layers/base.tar" "$W/layers/big.tar" "$W/layers/small.tar")
rm -rf "$W/layers"
ARCHIVE_MB=$(($(stat -c %s "$W/big.tar") / 1000000))
echo "bench/registry: archive $ARCHIVE_MB MB, image $IMAGE_ID" >&2

# --- daemons and registries ---
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BSOCK=$W/berth.sock
"$BERTHD" --root "$W/berth" --host "unix://$BSOCK" --log-level warn >"$W/berthd.log" 2>&1 &
BERTHD_PID=$!
for _ in $(seq 100); do [[ -S $BSOCK ]] && break; sleep 0.05; done
mkdir -p "$W/cli"
export DOCKER_CONFIG=$W/cli
bd() { timeout 600 "$DOCKER_CLI" -H "unix://$BSOCK" "$@"; }
bd version >/dev/null
dockerd_start "$W/dockerd"
dk() { timeout 600 "$DOCKER_CLI" -H "unix://$DOCKERD_SOCK" "$@"; }

BREG_PORT=$(free_port)
BREG=127.0.0.1:$BREG_PORT
start_breg() {
  "$BERTH" registry serve --addr "$BREG" --root "$W/breg" >"$W/breg.out" 2>>"$W/breg.log" &
  BREG_PID=$!
  for _ in $(seq 200); do
    grep -q '^berth registry listening' "$W/breg.out" 2>/dev/null && return 0
    kill -0 "$BREG_PID" 2>/dev/null || { echo "berth registry exited: $(tail -5 "$W/breg.log")" >&2; exit 1; }
    sleep 0.05
  done
  echo "berth registry did not start" >&2
  exit 1
}
DREG_PORT=$(free_port)
DREG=127.0.0.1:$DREG_PORT
printf 'version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem: {rootdirectory: %s}\n  delete: {enabled: true}\nhttp: {addr: %s}\n' \
  "$W/dreg" "$DREG" >"$W/dreg.yml"
start_dreg() {
  "$DOCKER_REGISTRY" serve "$W/dreg.yml" >>"$W/dreg.log" 2>&1 &
  DREG_PID=$!
  for _ in $(seq 200); do
    curl -s -o /dev/null "http://$DREG/v2/" && return 0
    kill -0 "$DREG_PID" 2>/dev/null || { echo "docker-registry exited: $(tail -5 "$W/dreg.log")" >&2; exit 1; }
    sleep 0.05
  done
  echo "docker-registry did not start" >&2
  exit 1
}
wipe_breg() { stop_pid "$BREG_PID"; BREG_PID=; rm -rf "$W/breg"; start_breg; }
wipe_dreg() { stop_pid "$DREG_PID"; DREG_PID=; rm -rf "$W/dreg"; start_dreg; }
start_breg
start_dreg

# --- timing helpers ---
ms_now() { date +%s%N; }
declare -A T # T[name]="ms ms ms ..."
timed() { # timed NAME CMD...: one timed run (ms), appended to T[NAME]
  local name=$1 t0 t1
  shift
  t0=$(ms_now)
  "$@" >"$W/last.out" 2>&1 || { echo "bench/registry: $name failed: $(tail -5 "$W/last.out")" >&2; exit 1; }
  t1=$(ms_now)
  T[$name]+="$(((t1 - t0) / 1000000)) "
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
minmax() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'; }

BIMG=$BREG/bench/big:latest
DIMG=$DREG/bench/big:latest
GZIMG=$BREG/bench/gz:latest
bd load -i "$W/big.tar" >/dev/null
dk load -i "$W/big.tar" >/dev/null
bd tag big:latest "$BIMG"
dk tag big:latest "$DIMG"

# --- cold push ---
for ((r = 1; r <= REPS; r++)); do
  wipe_breg
  sync
  timed push_berth bd push "$BIMG"
  wipe_dreg
  sync
  timed push_docker dk push "$DIMG"
done
PUSH_MB_BERTH=$(($(du -sb "$W/breg" | cut -f1) / 1000000))
PUSH_MB_DOCKER=$(($(du -sb "$W/dreg" | cut -f1) / 1000000))

# --- no-op push ---
hyperfine -N --warmup 3 --runs "$NOOP_RUNS" --export-json "$W/noop.json" \
  "$DOCKER_CLI -H unix://$BSOCK push $BIMG" \
  "env BERTH_HOST=unix://$BSOCK $BERTH push $BIMG" \
  "$DOCKER_CLI -H unix://$DOCKERD_SOCK push $DIMG" >"$W/hyperfine.txt" 2>&1
NOOP_BD=$(jq '.results[0].median * 1000' "$W/noop.json")
NOOP_BERTH=$(jq '.results[1].median * 1000' "$W/noop.json")
NOOP_DK=$(jq '.results[2].median * 1000' "$W/noop.json")

# --- pull ---
# The gzip image dockerd pushed, into the berth registry as it is.
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
  "docker://$DIMG" "docker://$GZIMG" >/dev/null
GZ_MB=$(skopeo inspect --tls-verify=false --raw "docker://$GZIMG" | jq '[.layers[].size] | add / 1000000 | floor')
reset_berthd() {
  local ids
  ids=$(bd images -aq | sort -u)
  [[ -z $ids ]] || bd rmi -f $ids >/dev/null 2>&1 || true
}
reset_dockerd() {
  local ids
  ids=$(dk images -aq | sort -u)
  [[ -z $ids ]] || dk rmi -f $ids >/dev/null 2>&1 || true
}
reset_berthd
reset_dockerd
BLOBS_LEFT=$(find "$W/berth" -path '*/blobs/sha256/*' -type f 2>/dev/null | wc -l)
for ((r = 1; r <= REPS; r++)); do
  reset_berthd
  sync
  timed pull_berth bd pull "$GZIMG"
  reset_dockerd
  sync
  timed pull_docker dk pull "$DIMG"
done
ID_BERTH=$(bd image inspect -f '{{.Id}}' "$GZIMG")
ID_DOCKER=$(dk image inspect -f '{{.Id}}' "$DIMG")
for ((r = 1; r <= REPS; r++)); do
  reset_berthd
  sync
  timed pull_berth_own bd pull "$BIMG"
done
reset_berthd

# --- 50 concurrent pulls (manifest + blobs with curl) ---
# load_pull REGISTRY REPO: CONCURRENT clients at once; prints "failed/requests ms".
load_pull() {
  local reg=$1 repo=$2 manifest digests sizes
  local accept='application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.manifest.v1+json'
  manifest=$(curl -sf -H "Accept: $accept" "http://$reg/v2/$repo/manifests/latest")
  mapfile -t digests < <(jq -r '.config.digest, .layers[].digest' <<<"$manifest")
  mapfile -t sizes < <(jq -r '.config.size, .layers[].size' <<<"$manifest")
  local msize=${#manifest}
  rm -rf "$W/load"
  mkdir -p "$W/load"
  local t0 t1 c
  t0=$(ms_now)
  for ((c = 0; c < CONCURRENT; c++)); do
    (
      out=$W/load/$c
      curl -s -o /dev/null -H "Accept: $accept" -w "%{http_code} %{size_download} $msize\n" \
        "http://$reg/v2/$repo/manifests/latest" >>"$out" || echo "000 0 $msize" >>"$out"
      for ((i = 0; i < ${#digests[@]}; i++)); do
        curl -s -L -o /dev/null -w "%{http_code} %{size_download} ${sizes[i]}\n" \
          "http://$reg/v2/$repo/blobs/${digests[i]}" >>"$out" || echo "000 0 ${sizes[i]}" >>"$out"
      done
    ) &
  done
  wait
  t1=$(ms_now)
  cat "$W/load"/* | awk -v ms=$(((t1 - t0) / 1000000)) \
    '{n++; if ($1 != 200 || $2 != $3) f++} END {printf "%d/%d %d\n", f, n, ms}'
}
read -r LOAD_B_FAIL LOAD_B_MS <<<"$(load_pull "$BREG" bench/gz)"
read -r LOAD_D_FAIL LOAD_D_MS <<<"$(load_pull "$DREG" bench/big)"
BREG_ALIVE=no
kill -0 "$BREG_PID" 2>/dev/null && curl -sf -o /dev/null "http://$BREG/v2/" && BREG_ALIVE=yes

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "PASS" : "MISS" }'; }
PB=$(median "${T[push_berth]}")
PD=$(median "${T[push_docker]}")
LB=$(median "${T[pull_berth]}")
LD=$(median "${T[pull_docker]}")
LO=$(median "${T[pull_berth_own]}")
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$(
  echo "## bench/registry $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs, REPS=$REPS, BENCH_FS=$BENCH_FS"
  echo
  echo "Image: 3 layers (busybox, 100 MiB random, 5,000 × 2 KiB files), $ARCHIVE_MB MB as a docker-archive, id ${IMAGE_ID:7:12};"
  echo "pushed: berthd $PUSH_MB_BERTH MB (plain tar layers, as loaded), dockerd $PUSH_MB_DOCKER MB (gzip); pulled: the $GZ_MB MB gzip image"
  echo "(ids after the pull: berthd ${ID_BERTH:7:12}, dockerd ${ID_DOCKER:7:12}). Blob files left in berthd's store after rmi: $BLOBS_LEFT."
  echo "Load average before $LOAD_BEFORE, after $LOAD_AFTER."
  echo
  echo "| | berthd → berth registry | dockerd 20.10 → docker-registry 2.8 | berth/docker |"
  echo "|---|---|---|---|"
  echo "| cold push, median ms (min–max) | $PB ($(minmax "${T[push_berth]}")) | $PD ($(minmax "${T[push_docker]}")) | $(ratio "$PB" "$PD") |"
  echo "| pull of the gzip image, median ms (min–max) | $LB ($(minmax "${T[pull_berth]}")) | $LD ($(minmax "${T[pull_docker]}")) | $(ratio "$LB" "$LD") |"
  echo "| pull of berthd's own push (plain tars), median ms | $LO ($(minmax "${T[pull_berth_own]}")) | – | $(ratio "$LO" "$LD") |"
  printf '| no-op push, docker CLI (hyperfine -N, median of %s) | %.1f ms | %.1f ms | %s |\n' \
    "$NOOP_RUNS" "$NOOP_BD" "$NOOP_DK" "$(ratio "$NOOP_BD" "$NOOP_DK")"
  printf '| no-op push, berth CLI | %.1f ms | – | %s |\n' "$NOOP_BERTH" "$(ratio "$NOOP_BERTH" "$NOOP_DK")"
  echo "| $CONCURRENT concurrent curl pulls (manifest + 4 blobs each): failed/requests, wall ms | $LOAD_B_FAIL, $LOAD_B_MS ms | $LOAD_D_FAIL, $LOAD_D_MS ms | $(ratio "$LOAD_B_MS" "$LOAD_D_MS") |"
  echo
  echo "Targets (issue 5):"
  echo "- pull ≤ 0.35 × docker's: $(ratio "$LB" "$LD") × — $(verdict "$LB" "$(awk -v d="$LD" 'BEGIN { print d * 0.35 }')")"
  echo "- push ≤ 0.3 × docker's: $(ratio "$PB" "$PD") × — $(verdict "$PB" "$(awk -v d="$PD" 'BEGIN { print d * 0.3 }')")"
  echo "- no-op push < 30 ms: docker CLI $(printf '%.1f' "$NOOP_BD") ms — $(verdict "$NOOP_BD" 29.999); berth CLI $(printf '%.1f' "$NOOP_BERTH") ms — $(verdict "$NOOP_BERTH" 29.999)"
  echo "- no failed request under load: ${LOAD_B_FAIL%%/*} failed of ${LOAD_B_FAIL#*/}, registry still serving: $BREG_ALIVE — $([[ ${LOAD_B_FAIL%%/*} == 0 && $BREG_ALIVE == yes ]] && echo PASS || echo MISS)"
  echo
  echo "Raw push ms: berthd ${T[push_berth]}/ dockerd ${T[push_docker]}"
  echo "Raw pull ms: berthd ${T[pull_berth]}/ dockerd ${T[pull_docker]}/ berthd own push ${T[pull_berth_own]}"
)
echo "$REPORT"
mkdir -p "$SRC/bench/results"
echo "$REPORT" >"$SRC/bench/results/registry-$STAMP.md"
