#!/usr/bin/env bash
# bench/run: container start and exec latency end to end, berthd vs Debian's dockerd 20.10 (on
# its own containerd, runc) vs podman 4.3 (runc), in one run on this machine; 100 containers
# started in parallel (wall time, daemon and per-container helper memory); start latency with
# 500 containers running vs none (moby#20851). A benchmark, not a test: it prints figures and
# PASS/MISS against issue 4's targets and never fails a build.
#
#   sudo bench/run/run.sh      # RUNS=30 FAST_RUNS=100 RSS_RUNS=10 N_PARALLEL=100 N_RUNNING=500
#                              # BERTH_BIN=build/bin SKIP_PODMAN=1 SKIP_BERTH=1 SKIP_DOCKER=1
#                              # SKIP_SCALE=1 (no parallel / 500-running parts)
#
# Everything is private: berthd's root and socket and dockerd/containerd's data in one temp dir
# (mktemp -d /var/tmp/berth-bench-run.XXXXXX), berthd's exec root in a short one
# (mktemp -d /tmp/bbr.XXXXXX: the monitors' unix sockets live under it), podman's
# storage.conf/containers.conf in the temp dir. Every container gets `--network none`: dockerd runs
# with --bridge=none and podman has no network set up, so no address other than loopback is
# touched. On any exit every container is removed, the daemons are stopped by pid, any
# monitor/shim/conmon still running for this run is killed by pid, whatever is mounted under the
# temp dirs is unmounted and the dirs removed. The report also goes to
# bench/results/run-<time>.md (git-ignored).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BERTH_BIN=${BERTH_BIN:-$SRC/build/bin}
BERTHD=$BERTH_BIN/berthd
BERTH=$BERTH_BIN/berth
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
PODMAN=${PODMAN:-$(command -v podman || true)}
PODMAN_RUNTIME=${PODMAN_RUNTIME:-runc}
RUNS=${RUNS:-30}           # hyperfine runs of the slow engines (docker, podman)
FAST_RUNS=${FAST_RUNS:-100} # hyperfine runs of berth
RSS_RUNS=${RSS_RUNS:-10}   # GNU time runs for the client's peak RSS
N_PARALLEL=${N_PARALLEL:-100}
N_RUNNING=${N_RUNNING:-500}
START_P=${START_P:-8}      # parallelism used to bring up the N_RUNNING containers
SETTLE=${SETTLE:-3}        # seconds before reading RSS after the parallel start
GNU_TIME=/usr/bin/time

die() { echo "bench/run: $*" >&2; exit 1; }
log() { echo "== $(date -u +%H:%M:%S) $*" >&2; }
((EUID == 0)) || die "needs root"
for t in /usr/bin/hyperfine /usr/bin/jq "$GNU_TIME" "$DOCKER_CLI"; do
  [[ -x $t ]] || die "$t missing (scripts/bootstrap)"
done
USE_BERTH=1 USE_DOCKER=1 USE_PODMAN=1
[[ -z ${SKIP_BERTH:-} ]] || USE_BERTH=0
[[ -z ${SKIP_DOCKER:-} ]] || USE_DOCKER=0
PODMAN_NOTE=""
if [[ -n ${SKIP_PODMAN:-} ]]; then
  USE_PODMAN=0 PODMAN_NOTE="podman skipped (SKIP_PODMAN)"
elif [[ -z $PODMAN || ! -x $PODMAN ]]; then
  USE_PODMAN=0 PODMAN_NOTE="podman skipped: not installed here (command -v podman failed)"
fi
if ((USE_BERTH)); then
  for b in "$BERTHD" "$BERTH"; do [[ -x $b ]] || die "$b missing (ninja -C build berthd berth)"; done
fi
export BERTH_SRC=$SRC
# shellcheck source=../../tests/integration/api/dockerd.bash
source "$SRC/tests/integration/api/dockerd.bash"
if ((USE_DOCKER)) && ! dockerd_available; then die "Debian's docker.io not installed (scripts/bootstrap)"; fi

W=$(mktemp -d /var/tmp/berth-bench-run.XXXXXX)
ER=$(mktemp -d /tmp/bbr.XXXXXX) # berthd's exec root: <ER>/containers/<64-hex id>/monitor.sock < 108
BSOCK=$W/berth.sock
BERTHD_PID=
mkdir -p "$W/json" "$W/cli"
export CONTAINERS_CONF=$W/podman/containers.conf CONTAINERS_STORAGE_CONF=$W/podman/storage.conf

b() { timeout 120 "$BERTH" -H "unix://$BSOCK" "$@"; }     # berth -> berthd
dk() { dockerd_cli "$@"; }                                  # docker CLI -> dockerd
pm() { timeout 120 "$PODMAN" "$@"; }

# pids of this run's per-container helpers: berth-monitor (from the exec root's pid files),
# containerd-shim (its -address is our containerd's socket), conmon (its paths are in $W)
monitor_pids() {
  local f p
  for f in "$ER"/containers/*/monitor.pid; do
    [[ -f $f ]] || continue
    p=$(cat "$f")
    [[ $(cat /proc/"$p"/comm 2>/dev/null) == berth-monitor ]] && echo "$p"
  done
  return 0
}
shim_pids() { ps -eo pid=,args= | awk -v a="$W/dockerd/containerd/containerd.sock" '$2 ~ /containerd-shim/ && index($0, a) {print $1}'; }
conmon_pids() { ps -eo pid=,args= | awk -v a="$W/podman/" '$2 ~ /conmon$/ && index($0, a) {print $1}'; }
kill_tree() { # PID...: a helper's children (the containers' init) first, then the helper
  local p c
  for p in "$@"; do
    for c in $(ps -o pid= --ppid "$p"); do kill -KILL "$c" 2>/dev/null || true; done
    kill -KILL "$p" 2>/dev/null || true
  done
}

cleanup() {
  local rc=$? ids m
  set +e
  trap - EXIT INT TERM HUP
  log "cleanup"
  if [[ -n $BERTHD_PID ]] && kill -0 "$BERTHD_PID" 2>/dev/null; then
    ids=$(b ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [[ -z $ids ]] || b rm -f $ids >/dev/null 2>&1
    kill -TERM "$BERTHD_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BERTHD_PID" 2>/dev/null
  fi
  # shellcheck disable=SC2046
  kill_tree $(monitor_pids)
  if [[ -n ${DOCKERD_PID:-} ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    ids=$(dk ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [[ -z $ids ]] || dk rm -f $ids >/dev/null 2>&1
  fi
  dockerd_stop "$W/dockerd"
  # shellcheck disable=SC2046
  kill_tree $(shim_pids)
  if ((USE_PODMAN)) && [[ -f $CONTAINERS_STORAGE_CONF ]]; then
    pm rm -a -f -t 0 >/dev/null 2>&1 # its private storage only
    # shellcheck disable=SC2046
    kill_tree $(conmon_pids)
    pm rmi -a -f >/dev/null 2>&1
  fi
  sleep 0.2
  awk -v d="$W" -v e="$ER" 'index($2, d) == 1 || index($2, e) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  rm -rf "$W" "$ER"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TOP_BEFORE=$(ps -eo pcpu,comm --sort=-pcpu | sed -n 2,4p | awk '{printf "%s %s%%; ", $2, $1}')
log "work dir $W, exec root $ER; load average $LOAD_BEFORE"

# --- the image: the busybox rootfs of scripts/make-rootfs-busybox, imported with CMD ["sh"] ---
"$SRC/scripts/make-rootfs-busybox" "$W/rootfs"
tar -C "$W/rootfs" -c . >"$W/busybox.tar"

# --- engines ---
if ((USE_BERTH)); then
  "$BERTHD" --root "$W/berth" --host "unix://$BSOCK" --exec-root "$ER" --log-level "${BERTHD_LOG_LEVEL:-warn}" \
    >"$W/berthd.log" 2>&1 &
  BERTHD_PID=$!
  for _ in $(seq 100); do [[ -S $BSOCK ]] && break; sleep 0.05; done
  [[ -S $BSOCK ]] || die "berthd did not start: $(tail -5 "$W/berthd.log")"
  if ! b import -c 'CMD ["sh"]' "$W/busybox.tar" busybox:latest >/dev/null 2>"$W/import.err"; then
    # the same rootfs as a one-layer docker-archive (tests/integration/api/archive.bash)
    echo "bench/run: berth import failed ($(tail -1 "$W/import.err")): loading a docker-archive instead" >&2
    # shellcheck source=../../tests/integration/api/archive.bash
    source "$SRC/tests/integration/api/archive.bash"
    make_docker_archive "$W/busybox-archive.tar" busybox:latest "$W/busybox.tar" >/dev/null
    b load -i "$W/busybox-archive.tar" >/dev/null
  fi
fi
if ((USE_DOCKER)); then
  dockerd_start "$W/dockerd"
  dk import -c 'CMD ["sh"]' "$W/busybox.tar" busybox:latest >/dev/null
fi
if ((USE_PODMAN)); then
  # as ../shared/anchors/10-daemons.sh: cgroupfs and file events (no systemd here); rlimits
  # capped at this shell's hard limits (root has no CAP_SYS_RESOURCE on this machine); runc,
  # as dockerd uses (crun refuses this hybrid cgroup host without a host-wide fix)
  mkdir -p "$W/podman"/{root,runroot,tmp}
  hn=$(ulimit -Hn) hu=$(ulimit -Hu)
  [[ $hu == unlimited ]] || ((hu > 32768)) && hu=32768
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
    "$W/podman/root" "$W/podman/runroot" >"$CONTAINERS_STORAGE_CONF"
  cat >"$CONTAINERS_CONF" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/podman/events.log"
tmp_dir = "$W/podman/tmp"
runtime = "$PODMAN_RUNTIME"
[containers]
default_ulimits = ["nofile=$hn:$hn", "nproc=$hu:$hu"]
[network]
network_backend = "cni"
network_config_dir = "$W/podman/cni"
EOF
  mkdir -p "$W/podman/cni"
  if ! pm import --change 'CMD ["sh"]' "$W/busybox.tar" localhost/busybox:latest >/dev/null 2>"$W/podman.err"; then
    USE_PODMAN=0 PODMAN_NOTE="podman skipped: import failed ($(tail -1 "$W/podman.err"))"
  fi
fi

# engine name -> the command prefix timed by hyperfine (no shell: hyperfine -N)
declare -A CLI=(
  [berth]="$BERTH -H unix://$BSOCK"
  [dcli]="$DOCKER_CLI --config $W/cli -H unix://$BSOCK"
  [docker]="$DOCKER_CLI --config $W/cli -H unix://$DOCKERD_SOCK"
  [podman]="$PODMAN"
)
declare -A LABEL=([berth]="berth → berthd" [dcli]="docker CLI → berthd" [docker]="docker → dockerd 20.10" [podman]="podman ${PODMAN_RUNTIME}")
ENGINES=()
((USE_BERTH)) && ENGINES+=(berth dcli)
((USE_DOCKER)) && ENGINES+=(docker)
((USE_PODMAN)) && ENGINES+=(podman)
((${#ENGINES[@]})) || die "nothing to measure"
runs_of() { [[ $1 == berth ]] && echo "$FAST_RUNS" || echo "$RUNS"; }
# shellcheck disable=SC2086
cli() { timeout 300 ${CLI[$1]} "${@:2}"; }

declare -A MED # MED[<what>/<engine>] = median ms
# hf WHAT ENGINE MODE CMD: hyperfine -N, median (ms) into MED[WHAT-MODE/ENGINE]
hf() {
  local what=$1 e=$2 mode=$3 cmd=$4 json=$W/json/$1-$3-$2.json
  local args=(-N --style basic --export-json "$json" -r "$(runs_of "$e")")
  if [[ $mode == idle ]]; then args+=(-w 2 --prepare 'sleep 0.05'); else args+=(-w 3); fi
  # each command must work before it is timed
  if ! $cmd >"$W/check.out" 2>&1; then
    echo "bench/run: FAILED ($e): $cmd: $(tail -3 "$W/check.out")" >&2
    MED[$what-$mode/$e]=fail
    return 0
  fi
  log "$what $mode: $cmd"
  if hyperfine "${args[@]}" "$cmd" >>"$W/hyperfine.txt" 2>&1; then
    MED[$what-$mode/$e]=$(jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$json")
  else
    MED[$what-$mode/$e]=fail
    tail -5 "$W/hyperfine.txt" >&2
  fi
}
run_cmd() { echo "${CLI[$1]} run --rm --network none busybox true"; }
exec_cmd() { echo "${CLI[$1]} exec bench-exec true"; }

# peak RSS of one client run (GNU time %M, KiB), median of RSS_RUNS
declare -A CRSS
client_rss() {
  local e=$1 i
  for ((i = 0; i < RSS_RUNS; i++)); do
    # shellcheck disable=SC2046
    "$GNU_TIME" -f %M -o "$W/rss" $(run_cmd "$e") >/dev/null 2>&1 && cat "$W/rss"
  done | sort -n | awk '{a[NR] = $1} END {if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# --- 1. run --rm true, back to back and with 50 ms idle before each ---
for mode in b2b idle; do
  for e in "${ENGINES[@]}"; do hf run "$e" "$mode" "$(run_cmd "$e")"; done
done
for e in "${ENGINES[@]}"; do CRSS[$e]=$(client_rss "$e"); done

# --- 2. exec C true ---
for e in "${ENGINES[@]}"; do
  [[ $e == dcli ]] && continue # the same container as berth's
  cli "$e" run -d --network none --name bench-exec busybox sleep 600 >/dev/null ||
    echo "bench/run: FAILED ($e): run -d --name bench-exec" >&2
done
for mode in b2b idle; do
  for e in "${ENGINES[@]}"; do hf exec "$e" "$mode" "$(exec_cmd "$e")"; done
done
for e in "${ENGINES[@]}"; do
  [[ $e == dcli ]] || cli "$e" rm -f bench-exec >/dev/null 2>&1 || true
done

# --- 3. N_PARALLEL containers started at once ---
ms_now() { date +%s%N; }
rss_of() { local s=0 p r; for p in "$@"; do r=$(ps -o rss= -p "$p" 2>/dev/null | tr -d ' '); s=$((s + ${r:-0})); done; echo "$s"; }
pss_of() { local s=0 p r; for p in "$@"; do r=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null); s=$((s + ${r:-0})); done; echo "$s"; }
count_running() { cli "$1" ps -q | grep -c . || true; }
all_ids() { cli "$1" ps -aq; }
remove_all() { # ENGINE: rm -f of every container, timed (ms) into RM_MS
  local e=$1 ids t0
  ids=$(all_ids "$e")
  t0=$(ms_now)
  # shellcheck disable=SC2086
  if [[ -n $ids ]]; then
    if [[ $e == podman ]]; then cli "$e" rm -f -t 0 $ids >/dev/null; else cli "$e" rm -f $ids >/dev/null; fi
  fi
  RM_MS=$((($(ms_now) - t0) / 1000000))
  [[ -z $(all_ids "$e") ]] || echo "bench/run: WARNING: $e still has containers after rm -f" >&2
}
# start_n ENGINE N P PREFIX: N detached `sleep 600` containers, P at a time; wall ms into START_MS
start_n() {
  local e=$1 n=$2 p=$3 prefix=$4 t0
  t0=$(ms_now)
  # shellcheck disable=SC2086
  seq "$n" | xargs -P "$p" -I{} timeout 600 ${CLI[$e]} run -d --network none --name "$prefix{}" busybox sleep 600 \
    >/dev/null 2>>"$W/start-errors.txt" || true
  START_MS=$((($(ms_now) - t0) / 1000000))
}
declare -A PAR      # PAR[<field>/<engine>]
if [[ -z ${SKIP_SCALE:-} ]]; then
  for e in "${ENGINES[@]}"; do
    log "$N_PARALLEL parallel starts: $e"
    start_n "$e" "$N_PARALLEL" "$N_PARALLEL" par
    PAR[wall/$e]=$START_MS
    PAR[up/$e]=$(count_running "$e")
    sleep "$SETTLE"
    case $e in
    berth | dcli)
      # berthd and its spawner (the child that forks the monitors)
      # shellcheck disable=SC2046
      PAR[daemon/$e]=$(rss_of "$BERTHD_PID" $(ps -o pid=,comm= --ppid "$BERTHD_PID" | awk '$2 != "berth-monitor" {print $1}'))
      mapfile -t H < <(monitor_pids)
      ;;
    docker)
      PAR[daemon/$e]=$(rss_of "$DOCKERD_PID" "$CONTAINERD_PID")
      PAR[dockerd/$e]=$(rss_of "$DOCKERD_PID")
      PAR[containerd/$e]=$(rss_of "$CONTAINERD_PID")
      mapfile -t H < <(shim_pids)
      ;;
    podman)
      PAR[daemon/$e]=0
      mapfile -t H < <(conmon_pids)
      ;;
    esac
    PAR[helpers/$e]=${#H[@]}
    PAR[hrss/$e]=$(rss_of "${H[@]}")
    PAR[hpss/$e]=$(pss_of "${H[@]}")
    remove_all "$e"
    PAR[rm/$e]=$RM_MS
  done

  # --- 4. run --rm true with N_RUNNING containers running vs none (moby#20851) ---
  for e in "${ENGINES[@]}"; do
    hf run0 "$e" b2b "$(run_cmd "$e")"
    log "starting $N_RUNNING containers: $e"
    start_n "$e" "$N_RUNNING" "$START_P" many
    PAR[many_wall/$e]=$START_MS
    PAR[many_up/$e]=$(count_running "$e")
    hf runN "$e" b2b "$(run_cmd "$e")"
    remove_all "$e"
    PAR[many_rm/$e]=$RM_MS
  done
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "–" }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/) print "n/a"; else print (a <= b) ? "PASS" : "MISS" }'; }
mb() { awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f", k / 1024; else print "–" }'; }
sec() { awk -v m="$1" 'BEGIN { if (m ~ /^[0-9]+$/) printf "%.2f", m / 1000; else print "–" }'; }
val() { local v=${1:-}; echo "${v:-–}"; }
COLS=(berth dcli docker podman)
row() { # TITLE KEY [FMT]: one table row of MED/PAR values with ratios berth/docker, berth/podman, dcli/docker
  local title=$1 k=$2 f=${3:-val} e line
  line="| $title |"
  for e in "${COLS[@]}"; do line+=" $($f "$(get "$k" "$e")") |"; done
  line+=" $(ratio "$(get "$k" berth)" "$(get "$k" docker)") | $(ratio "$(get "$k" berth)" "$(get "$k" podman)") | $(ratio "$(get "$k" dcli)" "$(get "$k" docker)") |"
  echo "$line"
}
get() { # KEY ENGINE
  local k=$1 e=$2
  if [[ $k == med:* ]]; then echo "${MED[${k#med:}/$e]:-}"; else echo "${PAR[${k#par:}/$e]:-}"; fi
}
latency_ratio() { ratio "${MED[runN-b2b/$1]:-}" "${MED[run0-b2b/$1]:-}"; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
FAVOR=n/a
[[ -e /sys/fs/cgroup/unified/cgroup.controllers ]] &&
  FAVOR=$(awk '$5 == "/sys/fs/cgroup/unified" && / - cgroup2 / {print ($NF ~ /favordynmods/) ? "on" : "off"; exit}' /proc/self/mountinfo)
REPORT=$(
  echo "## bench/run $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs"
  echo
  echo "- berth $(git -C "$SRC" describe --always --dirty 2>/dev/null || echo ?); $(/usr/sbin/dockerd --version 2>/dev/null | head -1) with $(runc --version 2>/dev/null | head -1); docker CLI $("$DOCKER_CLI" --version | awk '{print $3}' | tr -d ,)$( ((USE_PODMAN)) && echo "; $("$PODMAN" --version) with $PODMAN_RUNTIME")"
  echo "- every container \`--network none\` (dockerd --bridge=none: its default bridge would put 172.17.0.1 on a new docker0, a non-loopback address; the issue's figure for it is 303 ms); cgroup2 favordynmods: $FAVOR"
  echo "- load average before $LOAD_BEFORE (top: $TOP_BEFORE), after $LOAD_AFTER"
  echo "- hyperfine -N medians in ms: berth $FAST_RUNS runs, the others $RUNS; idle = \`--prepare 'sleep 0.05'\`"
  [[ -z $PODMAN_NOTE ]] || echo "- $PODMAN_NOTE"
  echo
  echo "| | ${LABEL[berth]} | ${LABEL[dcli]} | ${LABEL[docker]} | ${LABEL[podman]} | berth/docker | berth/podman | docker CLI→berthd / docker |"
  echo "|---|---|---|---|---|---|---|---|"
  row "\`run --rm busybox true\`, back to back" med:run-b2b
  row "\`run --rm busybox true\`, 50 ms idle" med:run-idle
  row "\`exec C true\`, back to back" med:exec-b2b
  row "\`exec C true\`, 50 ms idle" med:exec-idle
  line="| client peak RSS of \`run\` (KiB, median of $RSS_RUNS) |"
  for e in "${COLS[@]}"; do line+=" $(val "${CRSS[$e]:-}") |"; done
  echo "$line $(ratio "${CRSS[berth]:-}" "${CRSS[docker]:-}") | $(ratio "${CRSS[berth]:-}" "${CRSS[podman]:-}") | $(ratio "${CRSS[dcli]:-}" "${CRSS[docker]:-}") |"
  if [[ -z ${SKIP_SCALE:-} ]]; then
    row "$N_PARALLEL × \`run -d\` in parallel: wall s" par:wall sec
    row "… of which running after" par:up
    row "daemon RSS after (MB; berthd + its spawner; dockerd + containerd)" par:daemon mb
    row "per-container helpers (berth-monitor / containerd-shim / conmon)" par:helpers
    row "… their RSS sum (MB)" par:hrss mb
    row "… their PSS sum (MB)" par:hpss mb
    row "\`rm -f\` of the $N_PARALLEL: wall s" par:rm sec
    row "\`run --rm true\` with none running" med:run0-b2b
    row "$N_RUNNING × \`run -d\` ($START_P at a time): wall s" par:many_wall sec
    row "… of which running" par:many_up
    row "\`run --rm true\` with $N_RUNNING running" med:runN-b2b
    line="| with $N_RUNNING running / with none |"
    for e in "${COLS[@]}"; do line+=" $(latency_ratio "$e") |"; done
    echo "$line | | |"
    row "\`rm -f\` of the $N_RUNNING: wall s" par:many_rm sec
    ((USE_DOCKER)) && echo && echo "dockerd after $N_PARALLEL: dockerd $(mb "${PAR[dockerd/docker]}") MB + containerd $(mb "${PAR[containerd/docker]}") MB."
  fi
  echo
  echo "Targets (issue 4):"
  echo "- \`berth run\` median ≤ 10 ms back to back: $(val "${MED[run-b2b/berth]:-}") ms — $(verdict "${MED[run-b2b/berth]:-}" 10); with 50 ms idle: $(val "${MED[run-idle/berth]:-}") ms — $(verdict "${MED[run-idle/berth]:-}" 10)"
  echo "- \`berth exec\` median ≤ 5 ms: $(val "${MED[exec-b2b/berth]:-}") ms — $(verdict "${MED[exec-b2b/berth]:-}" 5) (50 ms idle: $(val "${MED[exec-idle/berth]:-}") ms — $(verdict "${MED[exec-idle/berth]:-}" 5))"
  if [[ -z ${SKIP_SCALE:-} ]]; then
    r=$(latency_ratio berth)
    echo "- start latency with $N_RUNNING running ≤ 1.2 × with none: $r × — $(verdict "$r" 1.2) (docker: $(latency_ratio docker) ×, podman: $(latency_ratio podman) ×)"
  fi
  [[ ! -s $W/start-errors.txt ]] || {
    echo
    echo "Start errors ($(grep -c . "$W/start-errors.txt") lines), first 3:"
    head -3 "$W/start-errors.txt" | sed 's/^/    /'
  }
)
echo "$REPORT"
mkdir -p "$SRC/bench/results"
echo "$REPORT" >"$SRC/bench/results/run-$STAMP.md"
echo "results: $SRC/bench/results/run-$STAMP.md" >&2
