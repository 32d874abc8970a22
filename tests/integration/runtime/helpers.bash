# Shared set-up for the OCI runtime integration tests (bats-core).
#
# Runtime-agnostic: every test drives "$RUNTIME" through runc's command line, so the same suite
# runs against Debian's runc (the reference) and berth-runtime:
#
#   RUNTIME=/usr/sbin/runc bats tests/integration/runtime/
#   bats tests/integration/runtime/            # RUNTIME defaults to $BERTH_BIN/berth-runtime
#
# Each test gets its own directory (TEST_DIR) holding the runtime state (--root), a bundle with
# a private copy of the busybox rootfs, and whatever the test writes. Containers are made with
# new_id, so teardown knows every one of them: it deletes them, kills what the test started,
# and then fails the test if a cgroup, a mount or a process of them is still there.

bats_require_minimum_version 1.5.0

BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)}
BERTH_BIN=${BERTH_BIN:-${BERTH_BUILD:-$BERTH_SRC/build}/bin}
RUNTIME=${RUNTIME:-$BERTH_BIN/berth-runtime}
TOOLS=$BERTH_SRC/tests/tools
# Debian's python3, not whatever a pyenv shim puts first in PATH.
PYTHON=${PYTHON:-/usr/bin/python3}
# Upper bound for one runtime command, so a hung runtime fails a test instead of the suite.
RT_TIMEOUT=${RT_TIMEOUT:-60}
# Parent of every container's cgroupsPath; the leftover checks look only below it.
CGROUP_PARENT=berth-test

# ---------------------------------------------------------------------------------------------
# Assertions (bats-assert is not packaged in Debian 12).

fail() {
  echo "FAIL: $*" >&2
  return 1
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
  [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"
}

# assert_status N: the last `run` exited with N.
assert_status() {
  [[ $status -eq $1 ]] || fail "expected exit status $1, got $status; output: $output"
}

# assert_output TEXT: the last `run` printed exactly TEXT.
assert_output() {
  [[ $output == "$1" ]] || fail "expected output '$1', got '$output'"
}

# assert_contains HAYSTACK NEEDLE
assert_contains() {
  [[ $1 == *"$2"* ]] || fail "expected '$2' in: $1"
}

# assert_not_contains HAYSTACK NEEDLE
assert_not_contains() {
  [[ $1 != *"$2"* ]] || fail "did not expect '$2' in: $1"
}

# wait_for SECONDS CONDITION: evaluate the shell CONDITION (a string, so that $(...) in it is
# evaluated afresh each time) every 0.1 s until it holds.
wait_for() {
  local secs=$1 cond=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    eval "$cond" && return 0
    sleep 0.1
  done
  eval "$cond"
}

# cmdline PID: the command line of PID, words separated by spaces.
cmdline() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null
}

# lines_of FILE: number of lines in FILE (0 if missing).
lines_of() {
  if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi
}

# pids_current ID: the number of tasks in the container's pids cgroup.
pids_current() {
  cat "$(cgroup_file "$1" pids.current)"
}

# ---------------------------------------------------------------------------------------------
# The runtime.

# rt ARGS...: the runtime under test with this test's state directory.
rt() {
  timeout --kill-after=5 "$RT_TIMEOUT" "$RUNTIME" --root "$STATE" "$@"
}

# runc_before VERSION: the runtime under test is runc older than VERSION (e.g. 1.2), for the
# few places where runc 1.1 (Debian 12's) departs from the runtime spec.
runc_before() {
  local v
  v=$("$RUNTIME" --version 2>/dev/null | awk 'NR == 1 && $1 == "runc" {print $3}')
  [[ -n $v ]] || return 1
  [[ $(printf '%s\n' "$v" "$1" | sort -V | head -n1) == "$v" && $v != "$1" ]]
}

# is_runc: the runtime under test is runc (the reference), for messages only Berth promises.
is_runc() {
  "$RUNTIME" --version 2>/dev/null | head -n1 | grep -q '^runc '
}

# assert_clear_error [NEEDLE [BERTH_NEEDLE]]: the last `run --separate-stderr` failed with a
# status of its own (not killed by a signal), said something on stderr, and that contains NEEDLE
# (case-insensitive). BERTH_NEEDLE is checked only when the runtime is not runc (runc's message
# for the case does not name it).
assert_clear_error() {
  ((status != 0)) || fail "expected a failure, got status 0; output: $output"
  ((status < 126)) || fail "status $status: crashed or killed; stderr: $stderr"
  [[ -n $stderr ]] || fail "no error message on stderr (stdout: $output)"
  if [[ -n ${1:-} ]]; then
    [[ ${stderr,,} == *"${1,,}"* ]] || fail "expected '$1' in the error: $stderr"
  fi
  if [[ -n ${2:-} ]] && ! is_runc; then
    [[ ${stderr,,} == *"${2,,}"* ]] || fail "expected '$2' in the error: $stderr"
  fi
  return 0
}

# new_id [PREFIX]: a container id unique to this test; teardown deletes and checks it.
new_id() {
  local id
  id="${1:-bt}-$$-${BATS_TEST_NUMBER:-0}-$RANDOM$RANDOM"
  echo "$id" >>"$TEST_DIR/ids"
  echo "$id"
}

# track_pid PID: a host process this test started; teardown kills it if it is still there.
track_pid() {
  echo "$1" >>"$TEST_DIR/pids"
}

# status_of ID: the "status" field of `state ID`, or "gone".
status_of() {
  local out
  out=$(rt state "$1" 2>/dev/null) || {
    echo gone
    return 0
  }
  jq -r .status <<<"$out"
}

# alive PID: PID exists and is not a zombie (an exited init waits for a reaper that may be slow:
# pid 1 of this machine is not a classic init).
alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

# pid_of ID: the "pid" field of `state ID`.
pid_of() {
  rt state "$1" | jq -r .pid
}

# wait_status ID STATUS [SECONDS]
wait_status() {
  local id=$1 want=$2 secs=${3:-20} i s
  for ((i = 0; i < secs * 10; i++)); do
    s=$(status_of "$id")
    [[ $s == "$want" ]] && return 0
    sleep 0.1
  done
  fail "container $id: status '$s', waited ${secs}s for '$want'"
}

# cgroup_dirs ID: the cgroup directories the container's cgroupsPath names on this host, one per
# mounted hierarchy (cgroup v1 controllers, the v2 unified hierarchy); only existing ones.
cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/"$CGROUP_PARENT/$1" /sys/fs/cgroup/"$CGROUP_PARENT/$1"; do
    [[ -d $d ]] && echo "$d"
  done
  return 0
}

# cgroup_file ID FILE: the path of FILE (e.g. memory.limit_in_bytes, pids.max) in the container's
# cgroup, v1 (/sys/fs/cgroup/<controller>/...) or v2 (unified), whichever has it.
cgroup_file() {
  local id=$1 file=$2 ctrl=${2%%.*} p
  for p in "/sys/fs/cgroup/$ctrl/$CGROUP_PARENT/$id/$file" \
    "/sys/fs/cgroup/$CGROUP_PARENT/$id/$file" \
    "/sys/fs/cgroup/unified/$CGROUP_PARENT/$id/$file"; do
    if [[ -e $p ]]; then
      echo "$p"
      return 0
    fi
  done
  fail "no cgroup file $file for container $id"
}

# ---------------------------------------------------------------------------------------------
# config.json editing (jq). Every helper edits $BUNDLE/config.json unless CONFIG is set.

# cfg FILTER [JQ ARGS...]: apply a jq filter to the config in place.
cfg() {
  local file=${CONFIG:-$BUNDLE/config.json} filter=$1
  shift
  jq "$@" "$filter" "$file" >"$file.new" && mv -f "$file.new" "$file"
}

# json_array WORD...: the words as a JSON array of strings.
json_array() {
  # Not `jq --args`: jq 1.6 parses words such as -c among positional arguments as options.
  local jqargs=() filter="" i=0 a
  for a in "$@"; do
    jqargs+=(--arg "a$i" "$a")
    filter+="${filter:+,}\$a$i"
    i=$((i + 1))
  done
  jq -cn "${jqargs[@]}" "[$filter]"
}

# set_args ARG...: process.args.
set_args() {
  cfg '.process.args = $a' --argjson a "$(json_array "$@")"
}

# set_terminal true|false
set_terminal() {
  cfg ".process.terminal = $1"
}

# set_env NAME=VALUE: add (or replace) one process.env entry.
set_env() {
  cfg '.process.env = ([.process.env[]? | select(startswith($k) | not)] + [$kv])' \
    --arg kv "$1" --arg k "${1%%=*}="
}

# add_namespace TYPE [PATH]
add_namespace() {
  if [[ -n ${2:-} ]]; then
    cfg '.linux.namespaces = ([.linux.namespaces[] | select(.type != $t)] + [{type: $t, path: $p}])' \
      --arg t "$1" --arg p "$2"
  else
    cfg '.linux.namespaces = ([.linux.namespaces[] | select(.type != $t)] + [{type: $t}])' \
      --arg t "$1"
  fi
}

# remove_namespace TYPE
remove_namespace() {
  cfg '.linux.namespaces = [.linux.namespaces[] | select(.type != $t)]' --arg t "$1"
}

# set_resource PATH JSON: e.g. set_resource .pids.limit 10, set_resource .cpu '{"quota":5000}'.
set_resource() {
  cfg ".linux.resources$1 = \$v" --argjson v "$2"
}

# add_mount DESTINATION TYPE SOURCE [OPTION...]
add_mount() {
  local dest=$1 type=$2 src=$3
  shift 3
  cfg '.mounts += [{destination: $d, type: $t, source: $s, options: $o}]' \
    --arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$(json_array "$@")"
}

# set_capabilities CAP...: every capability set (ambient too) becomes exactly CAP...
set_capabilities() {
  cfg '.process.capabilities = {bounding: $c, effective: $c, inheritable: $c, permitted: $c,
        ambient: $c}' --argjson c "$(json_array "$@")"
}

# set_cgroup_path ID: linux.cgroupsPath = /berth-test/ID (the helpers look for cgroups there).
set_cgroup_path() {
  cfg '.linux.cgroupsPath = $p' --arg p "/$CGROUP_PARENT/$1"
}

# new_bundle DIR ID: a second bundle in DIR for container ID, with the same config as $BUNDLE
# and sharing its rootfs (by absolute path).
new_bundle() {
  mkdir -p "$1"
  jq --arg r "$BUNDLE/rootfs" --arg p "/$CGROUP_PARENT/$2" \
    '.root.path = $r | .linux.cgroupsPath = $p' "$BUNDLE/config.json" >"$1/config.json"
}

# ---------------------------------------------------------------------------------------------
# Set-up and teardown.

# The busybox rootfs, made once per bats run and copied per test.
rootfs_cache() {
  local cache=${BATS_RUN_TMPDIR:-/tmp}/berth-rootfs
  (
    flock 9
    "$BERTH_SRC/scripts/make-rootfs-busybox" "$cache/rootfs"
  ) 9>"${BATS_RUN_TMPDIR:-/tmp}/berth-rootfs.lock" >&2 || return 1
  echo "$cache/rootfs"
}

# berth_setup: TEST_DIR, STATE, BUNDLE (config.json + rootfs), CID (the bundle's container id).
berth_setup() {
  if ((EUID != 0)); then
    skip "needs root"
  fi
  if [[ ! -x $RUNTIME ]]; then
    skip "runtime $RUNTIME not built"
  fi
  TEST_DIR=$(mktemp -d /tmp/berth-rt.XXXXXX)
  # Traversable by any uid: a user-namespaced container root must reach its rootfs.
  chmod 0755 "$TEST_DIR"
  : >"$TEST_DIR/ids"
  : >"$TEST_DIR/pids"
  STATE=$TEST_DIR/state
  BUNDLE=$TEST_DIR/bundle
  mkdir -p "$STATE" "$BUNDLE"
  local cache
  cache=$(rootfs_cache) || fail "make-rootfs-busybox failed"
  cp -a "$cache" "$BUNDLE/rootfs"
  (cd "$BUNDLE" && "$RUNTIME" spec) || fail "$RUNTIME spec failed"
  [[ -s $BUNDLE/config.json ]] || fail "$RUNTIME spec wrote no config.json in $BUNDLE"
  CID=$(new_id)
  set_terminal false
  # runc's spec makes the root read-only; most tests write to /tmp, the read-only test sets it.
  cfg '.root.readonly = false'
  set_cgroup_path "$CID"
  set_args /bin/true
}

# leftovers ID: print what the container left on the host (cgroups, processes).
leftovers() {
  local id=$1 d p
  for d in $(cgroup_dirs "$id"); do
    echo "cgroup left: $d"
  done
  for p in /proc/[0-9]*; do
    if grep -qs ":/$CGROUP_PARENT/$id\$" "$p/cgroup"; then
      echo "process left: ${p#/proc/} ($(tr '\0' ' ' <"$p/cmdline" 2>/dev/null))"
    fi
  done
}

# mounts_below DIR: mount points at or below DIR in this (the host's) mount namespace.
mounts_below() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# force_clean ID: remove what a broken runtime left of container ID (only things under its own
# cgroupsPath: never anything the test did not make).
force_clean() {
  local id=$1 d p i
  for d in $(cgroup_dirs "$id"); do
    [[ -e $d/cgroup.kill ]] && echo 1 >"$d/cgroup.kill" 2>/dev/null
    [[ -e $d/../freezer.state || -e $d/freezer.state ]] && echo THAWED >"$d/freezer.state" 2>/dev/null
    for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
      kill -9 "$p" 2>/dev/null
    done
  done
  for ((i = 0; i < 50; i++)); do
    [[ -z $(leftovers "$id") ]] && break
    for d in $(cgroup_dirs "$id"); do
      find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    sleep 0.1
  done
}

berth_teardown() {
  [[ -n ${TEST_DIR:-} && -d $TEST_DIR ]] || return 0
  local problems="" id p m
  # 1. What the test started on the host: helpers such as console-receiver, containerd.
  while read -r p; do
    [[ -n $p ]] && kill -9 "$p" 2>/dev/null
  done <"$TEST_DIR/pids"
  # 2. Every container through the runtime itself, as a user would.
  while read -r id; do
    [[ -n $id ]] || continue
    rt delete --force "$id" >/dev/null 2>&1
  done <"$TEST_DIR/ids"
  # 3. Anything still there is a failure of the runtime: record it, then clean up by force.
  while read -r id; do
    [[ -n $id ]] || continue
    local left
    left=$(leftovers "$id")
    if [[ -n $left ]]; then
      problems+="$left"$'\n'
      force_clean "$id"
    fi
  done <"$TEST_DIR/ids"
  for m in $(mounts_below "$TEST_DIR" | sort -r); do
    problems+="mount left: $m"$'\n'
    umount -l "$m" 2>/dev/null
  done
  # The shared parent cgroup goes once empty (rmdir fails, harmlessly, while others use it).
  rmdir /sys/fs/cgroup/*/"$CGROUP_PARENT" /sys/fs/cgroup/"$CGROUP_PARENT" 2>/dev/null
  rm -rf --one-file-system "$TEST_DIR"
  if [[ -n $problems ]]; then
    fail "teardown found leftovers:"$'\n'"$problems"
  fi
}

# ---------------------------------------------------------------------------------------------
# Terminals.

# start_console_receiver SOCKET OUTPUT [ARGS...]: tests/tools/console-receiver in the background
# (pid in CONSOLE_PID, tracked), once its socket exists.
start_console_receiver() {
  local sock=$1 out=$2
  shift 2
  "$PYTHON" "$TOOLS/console-receiver" "$sock" --output "$out" "$@" 2>"$out.err" &
  CONSOLE_PID=$!
  track_pid "$CONSOLE_PID"
  wait_for 10 '[[ -S $sock ]]' || fail "console-receiver did not listen: $(cat "$out.err")"
}

# wait_console_receiver: wait for it to see the terminal close; its status.
wait_console_receiver() {
  local rc=0
  wait "$CONSOLE_PID" || rc=$?
  return $rc
}

# tty_text FILE: what came through the terminal, without the carriage returns the tty adds.
tty_text() {
  tr -d '\r' <"$1"
}
