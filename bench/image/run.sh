#!/usr/bin/env bash
# bench/image: image load and save through berthd vs Debian's dockerd 20.10 (on its own
# containerd) vs podman, idle daemon memory, and the `version` round trip. A benchmark, not a
# test: it prints figures and PASS/MISS against issue 3's targets and never fails a build.
#
#   sudo bench/image/run.sh        # REPS=5 VERSION_RUNS=200 SETTLE=10 BENCH_FS=loop|host
#                                  # BERTH_BIN=build/bin NO_PODMAN=1
#
# The image: a docker-archive written by tests/integration/api/archive.bash, three layers: a
# busybox base, 100 MiB of /dev/urandom (incompressible), 5,000 files of 2 KiB (~117 MB in all).
# Each engine loads it REPS times with a reset in between (rmi: image and layers gone), the
# engines taking turns within a round; save is timed REPS times with the image present.
# Everything is private to one temp dir (mktemp -d /var/tmp/berth-bench-image.XXXXXX): berthd's
# root and socket, dockerd's data/exec root and its containerd (--bridge=none, no iptables, no
# ip_forward change: no host network change), podman's storage.conf/containers.conf. On any exit
# the daemons are stopped by pid, whatever is mounted under the temp dir is unmounted, and the
# dir is removed. The report also goes to bench/results/image-<time>.md (git-ignored).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BERTH_BIN=${BERTH_BIN:-$SRC/build/bin}
BERTHD=$BERTH_BIN/berthd
BERTH=$BERTH_BIN/berth
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
REPS=${REPS:-5}
VERSION_RUNS=${VERSION_RUNS:-200}
SETTLE=${SETTLE:-10}
PODMAN=/usr/bin/podman

((EUID == 0)) || { echo "bench/image: needs root" >&2; exit 1; }
for b in "$BERTHD" "$BERTH" "$DOCKER_CLI" /usr/bin/hyperfine /usr/bin/jq; do
  [[ -x $b ]] || { echo "bench/image: $b missing (ninja -C build berthd berth; scripts/bootstrap)" >&2; exit 1; }
done
export BERTH_SRC=$SRC
# shellcheck source=../../tests/integration/api/dockerd.bash
source "$SRC/tests/integration/api/dockerd.bash"
# shellcheck source=../../tests/integration/api/archive.bash
source "$SRC/tests/integration/api/archive.bash"
dockerd_available || { echo "bench/image: Debian's docker.io not installed (scripts/bootstrap)" >&2; exit 1; }
USE_PODMAN=1
[[ -x $PODMAN && -z ${NO_PODMAN:-} ]] || USE_PODMAN=0

BENCH_FS=${BENCH_FS:-loop}
TOP=$(mktemp -d /var/tmp/berth-bench-image.XXXXXX)
W=$TOP
BERTHD_PID=
cleanup() {
  set +e
  if [[ -n $BERTHD_PID ]]; then
    kill -TERM "$BERTHD_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BERTHD_PID" 2>/dev/null
  fi
  dockerd_stop "$W/dockerd"
  if ((USE_PODMAN)) && [[ -f $W/podman/storage.conf ]]; then
    pm rmi -a -f >/dev/null 2>&1 # its private graphroot only
  fi
  # overlay mounts first (deepest first), the loop file system last; umount detaches the loop
  awk -v d="$TOP" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -rf "$TOP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# This machine's root file system is ext4 without a journal: there the inode allocator skips
# (and scans past) inodes deleted in the last 60-360 s (ext4 recently_deleted()), so creating
# 5,000 files right after the reset deleted 5,000 costs seconds, whatever the engine. By default
# everything runs on a private journaled ext4 in a loop file; BENCH_FS=host runs on /var/tmp.
if [[ $BENCH_FS == loop ]]; then
  truncate -s 8G "$TOP/fs.img"
  mkfs.ext4 -q -F "$TOP/fs.img"
  mkdir "$TOP/fs"
  mount -o loop "$TOP/fs.img" "$TOP/fs"
  W=$TOP/fs
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench/image: work dir $W ($BENCH_FS: $(findmnt -n -o FSTYPE,SOURCE --target "$W" | tr -s ' ')); load average $LOAD_BEFORE" >&2

# --- the image ---
make_big_layers "$W/layers" 100 5000
IMAGE_ID=$(make_docker_archive "$W/big.tar" big:latest "$W/layers/base.tar" "$W/layers/big.tar" "$W/layers/small.tar")
rm -rf "$W/layers"
ARCHIVE_MB=$(($(stat -c %s "$W/big.tar") / 1000000))
echo "bench/image: archive $ARCHIVE_MB MB, image $IMAGE_ID" >&2

# --- daemons ---
BSOCK=$W/berth.sock
"$BERTHD" --root "$W/berth" --host "unix://$BSOCK" --log-level warn >"$W/berthd.log" 2>&1 &
BERTHD_PID=$!
for _ in $(seq 100); do [[ -S $BSOCK ]] && break; sleep 0.05; done
bd() { DOCKER_HOST="unix://$BSOCK" DOCKER_CONFIG="$W/cli" "$DOCKER_CLI" "$@"; }
bd version >/dev/null
dockerd_start "$W/dockerd"
dk() { dockerd_cli "$@"; }
pm() { CONTAINERS_CONF=$W/podman/containers.conf CONTAINERS_STORAGE_CONF=$W/podman/storage.conf "$PODMAN" "$@"; }
if ((USE_PODMAN)); then
  mkdir -p "$W/podman"/{root,runroot,tmp}
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
    "$W/podman/root" "$W/podman/runroot" >"$W/podman/storage.conf"
  printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s"\ntmp_dir = "%s"\n' \
    "$W/podman/events.log" "$W/podman/tmp" >"$W/podman/containers.conf"
  pm images >/dev/null || USE_PODMAN=0
fi

# idle RSS right after start (KiB)
sleep "$SETTLE"
rss() { ps -o rss= -p "$1" | tr -d ' '; }
RSS_BERTHD_FRESH=$(rss "$BERTHD_PID")
RSS_DOCKERD_FRESH=$(rss "$DOCKERD_PID")
RSS_CTRD_FRESH=$(rss "$CONTAINERD_PID")

# --- timing helpers ---
ms_now() { date +%s%N; }
declare -A T # T[name]="ms ms ms ..."
timed() { # timed NAME CMD...: one timed run (ms), appended to T[NAME]
  local name=$1 t0 t1
  shift
  t0=$(ms_now)
  "$@" >/dev/null
  t1=$(ms_now)
  T[$name]+="$(((t1 - t0) / 1000000)) "
}
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
minmax() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'; }

reset_berthd() { bd rmi -f big:latest >/dev/null 2>&1 || true; }
reset_dockerd() { dk rmi -f big:latest >/dev/null 2>&1 || true; }
reset_podman() { pm rmi -f big:latest >/dev/null 2>&1 || true; }
load_berthd() { bd load -i "$W/big.tar"; }
load_dockerd() { dk load -i "$W/big.tar"; }
load_podman() { pm load -q -i "$W/big.tar"; }
save_berthd() { bd save big:latest -o "$W/out.tar"; }
save_dockerd() { dk save big:latest -o "$W/out.tar"; }
save_podman() { pm save -q -o "$W/out.tar" big:latest; }

ENGINES=(berthd dockerd)
((USE_PODMAN)) && ENGINES+=(podman)

for ((r = 1; r <= REPS; r++)); do
  for e in "${ENGINES[@]}"; do
    "reset_$e"
    sync
    timed "load_$e" "load_$e"
  done
done
# the loaded image is the archive's: same id everywhere
ID_BERTHD=$(bd inspect --format '{{.Id}}' big:latest)
ID_DOCKERD=$(dk inspect --format '{{.Id}}' big:latest)
for ((r = 1; r <= REPS; r++)); do
  for e in "${ENGINES[@]}"; do
    rm -f "$W/out.tar"
    sync
    timed "save_$e" "save_$e"
  done
done
rm -f "$W/out.tar"

# idle RSS after the work
sleep "$SETTLE"
RSS_BERTHD_AFTER=$(rss "$BERTHD_PID")
RSS_DOCKERD_AFTER=$(rss "$DOCKERD_PID")
RSS_CTRD_AFTER=$(rss "$CONTAINERD_PID")

# --- version round trip ---
export BERTH_HOST="unix://$BSOCK" DOCKER_HOST="unix://$DOCKERD_SOCK" DOCKER_CONFIG="$W/cli"
hyperfine -N --warmup 10 --runs "$VERSION_RUNS" --export-json "$W/version.json" \
  "$BERTH version" "$DOCKER_CLI version" >"$W/hyperfine.txt" 2>&1
V_BERTH=$(jq '.results[0].median * 1000' "$W/version.json")
V_DOCKER=$(jq '.results[1].median * 1000' "$W/version.json")
unset BERTH_HOST DOCKER_HOST

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "PASS" : "MISS" }'; }
LB=$(median "${T[load_berthd]}")
LD=$(median "${T[load_dockerd]}")
SB=$(median "${T[save_berthd]}")
SD=$(median "${T[save_dockerd]}")
DOCKER_SUM_FRESH=$((RSS_DOCKERD_FRESH + RSS_CTRD_FRESH))
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$(
  echo "## bench/image $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs, REPS=$REPS, BENCH_FS=$BENCH_FS"
  echo
  echo "Image: docker-archive of $ARCHIVE_MB MB, 3 layers (busybox, 100 MiB random, 5,000 × 2 KiB files), id ${IMAGE_ID:7:12};"
  echo "loaded id: berthd ${ID_BERTHD:7:12}, dockerd ${ID_DOCKERD:7:12}. Load average before $LOAD_BEFORE, after $LOAD_AFTER."
  echo
  echo "| | berthd | dockerd 20.10 | podman | berthd/dockerd |"
  echo "|---|---|---|---|---|"
  P_L=n/a P_S=n/a
  if ((USE_PODMAN)); then
    P_L="$(median "${T[load_podman]}") ms ($(minmax "${T[load_podman]}"))"
    P_S="$(median "${T[save_podman]}") ms ($(minmax "${T[save_podman]}"))"
  fi
  echo "| load median (min–max) | $LB ms ($(minmax "${T[load_berthd]}")) | $LD ms ($(minmax "${T[load_dockerd]}")) | $P_L | $(ratio "$LB" "$LD") |"
  echo "| save median (min–max) | $SB ms ($(minmax "${T[save_berthd]}")) | $SD ms ($(minmax "${T[save_dockerd]}")) | $P_S | $(ratio "$SB" "$SD") |"
  echo "| idle RSS after start | $(mb "$RSS_BERTHD_FRESH") MB | $(mb "$RSS_DOCKERD_FRESH") + $(mb "$RSS_CTRD_FRESH") MB (containerd) | – | $(ratio "$RSS_BERTHD_FRESH" "$DOCKER_SUM_FRESH") |"
  echo "| idle RSS after the loads/saves | $(mb "$RSS_BERTHD_AFTER") MB | $(mb "$RSS_DOCKERD_AFTER") + $(mb "$RSS_CTRD_AFTER") MB (containerd) | – | $(ratio "$RSS_BERTHD_AFTER" "$((RSS_DOCKERD_AFTER + RSS_CTRD_AFTER))") |"
  printf '| `version` round trip (hyperfine -N, median of %s) | %.2f ms (berth) | %.2f ms (docker CLI) | – | %s |\n' \
    "$VERSION_RUNS" "$V_BERTH" "$V_DOCKER" "$(ratio "$V_BERTH" "$V_DOCKER")"
  echo
  echo "Targets (issue 3):"
  echo "- load median ≤ 0.5 × dockerd's: $(ratio "$LB" "$LD") × — $(verdict "$LB" "$(awk -v d="$LD" 'BEGIN { print d / 2 }')")"
  echo "- berthd idle RSS ≤ 22 MB and ≤ 1/5 of dockerd + containerd ($(mb $((DOCKER_SUM_FRESH / 5))) MB here): after start $(mb "$RSS_BERTHD_FRESH") MB — $(verdict "$RSS_BERTHD_FRESH" "$(awk -v s="$DOCKER_SUM_FRESH" 'BEGIN { x = s / 5; print (x < 22528) ? x : 22528 }')"); after the work $(mb "$RSS_BERTHD_AFTER") MB — $(verdict "$RSS_BERTHD_AFTER" 22528)"
  echo "- \`berth version\` ≤ 5 ms: $(printf '%.2f' "$V_BERTH") ms — $(verdict "$V_BERTH" 5)"
  echo
  echo "Raw load ms: berthd ${T[load_berthd]}/ dockerd ${T[load_dockerd]}$( ((USE_PODMAN)) && echo "/ podman ${T[load_podman]}")"
  echo "Raw save ms: berthd ${T[save_berthd]}/ dockerd ${T[save_dockerd]}$( ((USE_PODMAN)) && echo "/ podman ${T[save_podman]}")"
)
echo "$REPORT"
mkdir -p "$SRC/bench/results"
echo "$REPORT" >"$SRC/bench/results/image-$STAMP.md"
