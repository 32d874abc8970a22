#!/usr/bin/env bats
# The OCI lifecycle: create, start, state, kill, delete; pause and resume; ps and list.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

@test "state goes created -> running -> stopped, with pid, bundle and annotations" {
  cfg '.annotations = {"org.berth.test": "value-1", "com.example/key": "a b"}'
  set_args sleep 60
  rt create --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" "$CID" </dev/null
  run -0 rt state "$CID"
  local json=$output
  assert_eq "$(jq -r .status <<<"$json")" created status
  assert_eq "$(jq -r .id <<<"$json")" "$CID" id
  assert_eq "$(jq -r .bundle <<<"$json")" "$BUNDLE" bundle
  assert_eq "$(jq -r .ociVersion <<<"$json")" "$(jq -r .ociVersion "$BUNDLE/config.json")" ociVersion
  assert_eq "$(jq -c .annotations <<<"$json")" '{"com.example/key":"a b","org.berth.test":"value-1"}' annotations
  local pid
  pid=$(jq -r .pid <<<"$json")
  ((pid > 1)) || fail "pid '$pid' in $json"
  assert_eq "$(cat "$TEST_DIR/pid")" "$pid" "--pid-file"
  alive "$pid" || fail "created container has no process $pid"
  # Created: the user process has not been exec'd yet.
  [[ $(cmdline "$pid") != sleep* ]] || fail "created container already runs sleep"
  rt start "$CID"
  assert_eq "$(status_of "$CID")" running "status after start"
  assert_eq "$(pid_of "$CID")" "$pid" "pid after start"
  wait_for 5 '[[ $(cmdline $pid) == sleep* ]]' ||
    fail "init is not running sleep: $(cmdline "$pid")"
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  run -0 rt state "$CID"
  assert_eq "$(jq -r .status <<<"$output")" stopped
  rt delete "$CID"
  run rt state "$CID"
  ((status != 0)) || fail "state of a deleted container succeeded"
}

@test "start of a container that is already running fails" {
  set_args sleep 60
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  run --separate-stderr rt start "$CID"
  ((status != 0)) || fail "second start succeeded"
  [[ -n $stderr ]] || fail "no error message"
}

@test "create of an id that exists fails and keeps the first container" {
  set_args sleep 60
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  local pid
  pid=$(pid_of "$CID")
  run --separate-stderr rt create --bundle "$BUNDLE" "$CID" </dev/null
  ((status != 0)) || fail "second create succeeded"
  # runc says "container with given ID already exists" without the id.
  assert_contains "$stderr" "exist"
  assert_eq "$(pid_of "$CID")" "$pid" "pid of the first container"
}

@test "kill sends the named signal; the default is TERM" {
  # A shell as init needs a trap for TERM to act on it (an init ignores unhandled signals).
  set_args sh -c 'trap "echo got-USR1" USR1; trap "echo got-TERM; exit 7" TERM; while true; do sleep 0.1; done'
  rt create --bundle "$BUNDLE" "$CID" </dev/null >"$TEST_DIR/out" 2>&1
  rt start "$CID"
  sleep 0.3
  rt kill "$CID" USR1
  wait_for 5 'grep -q got-USR1 "$TEST_DIR/out"' || fail "no USR1: $(cat "$TEST_DIR/out")"
  assert_eq "$(status_of "$CID")" running "status after USR1"
  rt kill "$CID" 15
  wait_status "$CID" stopped
  assert_eq "$(cat "$TEST_DIR/out")" $'got-USR1\ngot-TERM' "output"
}

@test "kill --all signals every process of the container" {
  set_args sh -c 'sleep 100 & sleep 100 & sleep 100; echo not-reached'
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  wait_for 5 '(($(pids_current "$CID") == 4))'
  rt kill --all "$CID" KILL
  wait_status "$CID" stopped
  # Exited tasks count until reaped (by this host's pid 1, which may take a moment).
  wait_for 5 '(($(pids_current "$CID") == 0))' ||
    fail "pids.current after kill --all: $(pids_current "$CID")"
}

@test "pause freezes and resume thaws: a counter stops while paused" {
  set_args sh -c 'i=0; while true; do i=$((i+1)); echo $i >/tmp/count; sleep 0.05; done'
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  local count=$BUNDLE/rootfs/tmp/count
  wait_for 5 '[[ -s $count ]]'
  rt pause "$CID"
  assert_eq "$(status_of "$CID")" paused "status after pause"
  local a b c
  a=$(cat "$count")
  sleep 0.5
  b=$(cat "$count")
  assert_eq "$b" "$a" "counter while paused"
  # A paused container's processes are frozen, in the freezer cgroup (v1) or cgroup.freeze (v2).
  if [[ -d /sys/fs/cgroup/freezer ]]; then
    assert_eq "$(cat "$(cgroup_file "$CID" freezer.state)")" FROZEN freezer.state
  fi
  rt resume "$CID"
  assert_eq "$(status_of "$CID")" running "status after resume"
  sleep 0.5
  c=$(cat "$count")
  ((c > b)) || fail "counter did not grow after resume: $b -> $c"
}

@test "pause of a stopped container fails; delete of a paused one needs --force" {
  set_args sleep 100
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  rt pause "$CID"
  run rt delete "$CID"
  ((status != 0)) || fail "delete of a paused container succeeded"
  rt delete --force "$CID"
  assert_eq "$(status_of "$CID")" gone
  assert_eq "$(leftovers "$CID")" "" "leftovers"
}

@test "ps lists the container's processes, as a table and as json" {
  set_args sh -c 'sleep 100 & exec sleep 101'
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt start "$CID"
  local pid
  pid=$(pid_of "$CID")
  wait_for 5 '(($(pids_current "$CID") == 2))'
  run -0 rt ps --format json "$CID"
  jq -e --argjson p "$pid" 'index($p) != null' <<<"$output" >/dev/null ||
    fail "init $pid not in ps json: $output"
  assert_eq "$(jq length <<<"$output")" 2 "processes in ps json"
  run -0 rt ps "$CID"
  # A ps(1) table: header with PID, and one row per process.
  assert_contains "${lines[0]}" PID
  assert_eq "${#lines[@]}" 3 "lines of ps"
  assert_contains "$output" "sleep 101"
}

@test "list shows containers with their status, also -q and --format json" {
  set_args sleep 100
  local second
  second=$(new_id)
  new_bundle "$TEST_DIR/bundle2" "$second"
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  rt create --bundle "$TEST_DIR/bundle2" "$second" </dev/null
  rt start "$second"
  run -0 rt list -q
  assert_eq "$(sort <<<"$output")" "$(printf '%s\n' "$CID" "$second" | sort)" "list -q"
  run -0 rt list
  assert_contains "${lines[0]}" ID
  assert_contains "${lines[0]}" STATUS
  [[ $output =~ $CID[[:space:]]+[0-9]+[[:space:]]+created ]] || fail "no created row: $output"
  [[ $output =~ $second[[:space:]]+[0-9]+[[:space:]]+running ]] || fail "no running row: $output"
  run -0 rt list --format json
  assert_eq "$(jq -r --arg i "$CID" '.[] | select(.id == $i) | .status' <<<"$output")" created
  assert_eq "$(jq -r --arg i "$second" '.[] | select(.id == $i) | .status' <<<"$output")" running
  assert_eq "$(jq -r --arg i "$second" '.[] | select(.id == $i) | .bundle' <<<"$output")" \
    "$TEST_DIR/bundle2"
}

@test "list of an empty state directory prints only the header; json is an empty array or null" {
  run -0 rt list -q
  assert_output ""
  run -0 rt list --format json
  [[ $output == "[]" || $output == null ]] || fail "list json of nothing: $output"
}

@test "state of an unknown container fails naming it" {
  run --separate-stderr rt state no-such-container-xyz
  ((status != 0)) || fail "state of an unknown container succeeded"
  # runc says "container does not exist" without the id.
  assert_contains "$stderr" "not exist"
}

@test "run --detach returns at once and leaves the container running" {
  set_args sleep 100
  rt run --detach --bundle "$BUNDLE" "$CID" </dev/null
  assert_eq "$(status_of "$CID")" running
}
