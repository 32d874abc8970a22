#!/usr/bin/env bash
# bench/runtime/run.sh: berth-runtime run vs crun run vs runc run on one busybox bundle
# (create + start + wait + delete of `true`), and the floor
# `unshare --pid --fork --mount --uts --ipc --net chroot ROOTFS /bin/true`.
#
# Needs root. Times with hyperfine -N, (a) back to back and (b) with 50 ms idle before each
# run (--prepare 'sleep 0.05': the first cgroup move after an idle spell stalls), in both states
# of the host's cgroup2 `favordynmods` mount option (off first, then on), and peak RSS
# (GNU time %M, median of RSS_RUNS runs). crun 1.8 refuses this hybrid cgroup host until
# hugetlb leaves the v2 hierarchy, so ../shared/anchors/15-cgroup-hybrid-fix.sh is applied
# only around the crun measurements; berth-runtime is measured both with the host as is and
# with the fix. Everything it changes is put back on any exit: containers, state and temp dirs,
# the hybrid fix, the favordynmods state it found.
#
# Env: BERTH_BIN (default build/bin), RUNS (hyperfine runs, default 60), IDLE_RUNS (default 40),
#      RSS_RUNS (default 20), RESULTS_DIR (default bench/results), HYBRID_FIX (path of the
#      anchors script), SKIP_FAVOR=1 (measure only the state found).
# Usage: sudo bench/runtime/run.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BERTH=${BERTH_BIN:-$src/build/bin}/berth-runtime
CRUN=$(command -v crun || true)
RUNC=$(command -v runc || true)
UNSHARE=$(command -v unshare)
CHROOT=$(command -v chroot)
HYBRID_FIX=${HYBRID_FIX:-$src/../shared/anchors/15-cgroup-hybrid-fix.sh}
RUNS=${RUNS:-60}
IDLE_RUNS=${IDLE_RUNS:-40}
RSS_RUNS=${RSS_RUNS:-20}
U=/sys/fs/cgroup/unified
GNU_TIME=/usr/bin/time

die() { echo "bench/runtime: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
((EUID == 0)) || die "needs root"
[[ -x $BERTH ]] || die "$BERTH missing: ninja -C build berth-runtime"
for t in hyperfine jq "$GNU_TIME"; do
  command -v "$t" >/dev/null || die "$t missing: run scripts/bootstrap"
done
[[ -n $CRUN && -n $RUNC ]] || die "crun and runc needed: run scripts/bootstrap"

results_dir=${RESULTS_DIR:-$src/bench/results}
mkdir -p "$results_dir"
results=$results_dir/runtime-$(date -u +%Y%m%dT%H%M%SZ).md

# --- host state we may change, and how to put it back --------------------------------------
has_u=0
[[ -e $U/cgroup.controllers ]] && has_u=1
# mountinfo fields for the cgroup2 mount: 6 = mount options, last = super options
u_mountopts() { awk -v m="$U" '$5 == m && $0 ~ / - cgroup2 / {print $6; exit}' /proc/self/mountinfo; }
u_superopts() { awk -v m="$U" '$5 == m && $0 ~ / - cgroup2 / {print $NF; exit}' /proc/self/mountinfo; }
favor_state() {
  ((has_u)) || { echo n/a; return; }
  if u_superopts | tr , '\n' | grep -qx favordynmods; then echo on; else echo off; fi
}
set_favor() {  # on|off: remount the cgroup2 hierarchy keeping every other option
  local want=$1 opts
  opts=$(u_superopts | tr , "\n" | { grep -vx -e favordynmods -e rw -e ro || true; } | paste -sd, -)
  [[ $want == on ]] && opts=${opts:+$opts,}favordynmods
  mount -o "remount,$(u_mountopts)${opts:+,$opts}" -t cgroup2 cgroup2 "$U"
  [[ $(favor_state) == "$want" ]] || die "could not turn favordynmods $want"
}
favor_found=$(favor_state)
berth_has_flag=0
"$BERTH" --help 2>&1 | grep -q -- --cgroup-favordynmods && berth_has_flag=1

tmp=$(mktemp -d /var/tmp/berth-bench.XXXXXX)
fix_applied=0

hugetlb_cgroups() { awk '$1 == "hugetlb" {print $3}' /proc/cgroups; }
revert_fix() {
  ((fix_applied)) || return 0
  # berth-runtime leaves its (empty) parent cgroup /berth in every v1 hierarchy; the one in the
  # hierarchy the fix mounted must go, or revert keeps it mounted. rmdir fails harmlessly if
  # anyone else still uses it.
  if [[ -d /sys/fs/cgroup/hugetlb/berth ]]; then rmdir /sys/fs/cgroup/hugetlb/berth 2>/dev/null || true; fi
  # A removed cgroup leaves its parent's list only once its last reference drops: unmounting
  # before that keeps the v1 hierarchy alive (unmounted) and hugetlb off cgroup2 for good.
  local i
  for ((i = 0; i < 50; i++)); do [[ $(hugetlb_cgroups) == 1 ]] && break; sleep 0.1; done
  "$HYBRID_FIX" revert >&2 || true
  for ((i = 0; i < 50; i++)); do grep -qw hugetlb $U/cgroup.controllers && break; sleep 0.1; done
  if ! grep -qw hugetlb $U/cgroup.controllers && ! mountpoint -q /sys/fs/cgroup/hugetlb &&
    [[ $(hugetlb_cgroups) == 1 ]]; then
    # unmounted but alive (see above): mount it once more and unmount it now that it is empty
    mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb &&
      umount /sys/fs/cgroup/hugetlb && rmdir /sys/fs/cgroup/hugetlb
    for ((i = 0; i < 50; i++)); do grep -qw hugetlb $U/cgroup.controllers && break; sleep 0.1; done
  fi
  grep -qw hugetlb $U/cgroup.controllers ||
    echo "bench/runtime: WARNING: hugetlb is not back on $U (cgroups left in it: $(hugetlb_cgroups))" >&2
  fix_applied=0
}
fix_found=0 # someone else's hybrid fix already in place: neither apply nor revert it
((has_u)) && [[ -z $(cat $U/cgroup.controllers) ]] && fix_found=1
apply_fix() {
  ((fix_found)) && return 0
  fix_applied=1
  "$HYBRID_FIX" apply >&2
  [[ -z $(cat $U/cgroup.controllers) ]] || die "hybrid fix did not empty $U/cgroup.controllers"
}
cleanup() {
  local rc=$?
  set +e
  "$BERTH" --root "$tmp/state/berth" delete --force bench-berth >/dev/null 2>&1
  "$CRUN" --root "$tmp/state/crun" delete --force bench-crun >/dev/null 2>&1
  "$RUNC" --root "$tmp/state/runc" delete --force bench-runc >/dev/null 2>&1
  revert_fix
  if ((has_u)) && [[ $(favor_state) != "$favor_found" ]]; then set_favor "$favor_found"; fi
  rm -rf "$tmp"
  log "restored: favordynmods $(favor_state) (found $favor_found), $U/cgroup.controllers: '$(cat $U/cgroup.controllers 2>/dev/null)'"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the bundle: busybox rootfs, berth-runtime spec edited with jq, one config for all ------
bundle=$tmp/bundle
"$src/scripts/make-rootfs-busybox" "$bundle/rootfs"
(cd "$bundle" && "$BERTH" spec)
# crun 1.8.1 rejects ociVersion 1.2.0 ("unknown version specified"): use runc's own 1.0.2-dev,
# which all three accept.
jq '.ociVersion = "1.0.2-dev" | .process.terminal = false | .process.args = ["true"]' \
  "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
mkdir -p "$tmp/state/berth" "$tmp/state/crun" "$tmp/state/runc" "$tmp/json"

berth_cmd() {  # $1: favordynmods state of the set (the flag is passed as false for "off")
  local f=""
  ((berth_has_flag)) && [[ $1 == off ]] && f=" --cgroup-favordynmods=false"
  echo "$BERTH --root $tmp/state/berth$f run --bundle $bundle bench-berth"
}
crun_cmd="$CRUN --root $tmp/state/crun run --bundle $bundle bench-crun"
runc_cmd="$RUNC --root $tmp/state/runc run --bundle $bundle bench-runc"
floor_cmd="$UNSHARE --pid --fork --mount --uts --ipc --net $CHROOT $bundle/rootfs /bin/true"

# each command must work before it is timed (hyperfine -N would time a failure just as well)
check_runs() { local c; for c in "$@"; do $c >/dev/null || die "failed: $c"; done; }

declare -A med      # med[<favor>/<mode>/<name>] = median ms
declare -A favor_ok # favor_ok[<favor>] = 1 if the state held through the set
bench() {  # favor mode name cmd: retried (up to 3 times) if someone flips favordynmods meanwhile
  local favor=$1 mode=$2 name=$3 cmd=$4 json=$tmp/json/$1-$2-$3.json try before after
  local args=(-N --style basic --export-json "$json")
  if [[ $mode == b2b ]]; then args+=(-w 5 -r "$RUNS"); else args+=(-w 2 -r "$IDLE_RUNS" --prepare 'sleep 0.05'); fi
  for try in 1 2 3; do
    ((has_u)) && [[ $(favor_state) != "$favor" ]] && set_favor "$favor"
    before=$(favor_state)
    hyperfine "${args[@]}" "$cmd" >&2
    after=$(favor_state)
    [[ $before == "$favor" && $after == "$favor" ]] && break
    echo "bench/runtime: WARNING: favordynmods went $before -> $after during $name ($favor set, try $try):" \
      "another runtime turned it on" >&2
  done
  med[$favor/$mode/$name]=$(jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$json")
  [[ $before == "$favor" && $after == "$favor" ]] || favor_ok[$favor]=0
}

declare -A rss # rss[<name>] = peak RSS (KiB) of `run`, median of RSS_RUNS
rss_of() {
  local i out=$tmp/rss
  for ((i = 0; i < RSS_RUNS; i++)); do
    # shellcheck disable=SC2086
    "$GNU_TIME" -f %M -o "$out" $1 >/dev/null && cat "$out"
  done | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

load_before=$(uptime)
top_before=$(ps -eo pcpu,comm --sort=-pcpu | sed -n 2,4p | awk '{printf "%s %s%%; ", $2, $1}')

states=(off on)
[[ -n ${SKIP_FAVOR:-} || $has_u == 0 ]] && states=("$favor_found")
for favor in "${states[@]}"; do
  ((has_u)) && [[ $(favor_state) != "$favor" ]] && set_favor "$favor"
  favor_ok[$favor]=1
  log "favordynmods $favor: host as is"
  check_runs "$(berth_cmd "$favor")" "$runc_cmd" "$floor_cmd"
  for mode in b2b idle; do
    bench "$favor" "$mode" berth "$(berth_cmd "$favor")"
    bench "$favor" "$mode" runc "$runc_cmd"
    bench "$favor" "$mode" floor "$floor_cmd"
  done
  log "favordynmods $favor: hybrid fix applied (crun)"
  apply_fix
  check_runs "$crun_cmd" "$(berth_cmd "$favor")"
  for mode in b2b idle; do
    bench "$favor" "$mode" crun "$crun_cmd"
    bench "$favor" "$mode" berth_fix "$(berth_cmd "$favor")"
  done
  if [[ $favor == "${states[-1]}" ]]; then
    # peak RSS of each runtime's `run`; crun needs the fix
    rss[crun]=$(rss_of "$crun_cmd")
    rss[berth_fix]=$(rss_of "$(berth_cmd "$favor")")
  fi
  revert_fix
done
rss[berth]=$(rss_of "$(berth_cmd "${states[-1]}")")
rss[runc]=$(rss_of "$runc_cmd")

load_after=$(uptime)

# --- report ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? "PASS" : "MISS"}'; }
{
  echo "# bench/runtime $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- kernel: $(uname -r); $(nproc) CPUs; berth-runtime $(git -C "$src" describe --always --dirty 2>/dev/null || echo ?); $("$CRUN" --version | head -1); $("$RUNC" --version | head -1)"
  echo "- favordynmods found: $favor_found (restored at exit); berth-runtime --cgroup-favordynmods: $( ((berth_has_flag)) && echo "yes (false passed in the off set)" || echo "no: berth-runtime does not touch the option; both states are set by this script")"
  echo "- load before: ${load_before#*load average: } (top: $top_before)"
  echo "- load after:  ${load_after#*load average: }"
  echo "- hyperfine -N medians in ms; back to back: $RUNS runs (5 warm-up); idle: 50 ms sleep before each of $IDLE_RUNS runs"
  if ((fix_found)); then
    echo "- NOTE: the hybrid fix was already in place (someone else's): berth and berth+fix both ran with hugetlb off cgroup2"
  else
    echo "- berth = host as is (hugetlb on cgroup2); berth+fix and crun = hybrid fix applied"
  fi
  echo
  echo "| favordynmods | mode | berth | berth+fix | crun | runc | floor | berth/crun | berth+fix/crun | berth/runc |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for favor in "${states[@]}"; do
    for mode in b2b idle; do
      k=$favor/$mode
      note=""
      [[ ${favor_ok[$favor]} == 1 ]] || note=" (state flipped during the set)"
      echo "| $favor$note | $([[ $mode == b2b ]] && echo "back to back" || echo "50 ms idle") | ${med[$k/berth]} | ${med[$k/berth_fix]} | ${med[$k/crun]} | ${med[$k/runc]} | ${med[$k/floor]} | $(ratio "${med[$k/berth]}" "${med[$k/crun]}") | $(ratio "${med[$k/berth_fix]}" "${med[$k/crun]}") | $(ratio "${med[$k/berth]}" "${med[$k/runc]}") |"
    done
  done
  echo
  echo "Peak RSS of \`run\` (GNU time %M, KiB, median of $RSS_RUNS): berth ${rss[berth]}, berth+fix ${rss[berth_fix]}, crun ${rss[crun]}, runc ${rss[runc]}"
  echo
  echo "## Targets (issue 2)"
  for favor in "${states[@]}"; do
    for b in berth berth_fix; do
      c=${med[$favor/b2b/crun]} x=${med[$favor/b2b/$b]}
      echo "- favordynmods $favor, $b back to back: $x ms <= 0.5 x crun $c = $(awk -v c="$c" 'BEGIN {printf "%.2f", c * 0.5}') ms: $(verdict "$x" "$(awk -v c="$c" 'BEGIN {print c * 0.5}')")"
      c=${med[$favor/idle/crun]} x=${med[$favor/idle/$b]}
      echo "- favordynmods $favor, $b 50 ms idle: $x ms <= 0.3 x crun $c = $(awk -v c="$c" 'BEGIN {printf "%.2f", c * 0.3}') ms: $(verdict "$x" "$(awk -v c="$c" 'BEGIN {print c * 0.3}')")"
    done
  done
  echo "- peak RSS: berth ${rss[berth]} KiB < crun ${rss[crun]} KiB: $(awk -v a="${rss[berth]}" -v b="${rss[crun]}" 'BEGIN {print (a < b) ? "PASS" : "MISS"}')"
} | tee "$results"
echo "results: $results"
