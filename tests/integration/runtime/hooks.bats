#!/usr/bin/env bats
# hooks: run with the container's state on stdin, at the points of the lifecycle the spec names.

load helpers

setup() {
  berth_setup
  # One host script for every host-side hook: stdin (the state) to $TEST_DIR/hook-<name>.json.
  cat >"$TEST_DIR/hook" <<'SCRIPT'
#!/bin/sh
cat >"$1/hook-$2.json"
echo "$2" >>"$1/hook-order"
SCRIPT
  chmod +x "$TEST_DIR/hook"
}
teardown() { berth_teardown; }

# add_hook KIND [ARGS...]: a hook of KIND running $TEST_DIR/hook with ARGS.
add_hook() {
  local kind=$1
  shift
  cfg ".hooks.$kind += [{path: \$p, args: \$a}]" --arg p "$TEST_DIR/hook" \
    --argjson a "$(json_array hook "$TEST_DIR" "$@")"
}

@test "prestart, createRuntime, poststart and poststop get the state on stdin" {
  add_hook prestart prestart
  add_hook createRuntime createRuntime
  add_hook poststart poststart
  add_hook poststop poststop
  set_args sleep 100
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  local kind
  for kind in prestart createRuntime; do
    [[ -s $TEST_DIR/hook-$kind.json ]] || fail "$kind hook did not run at create"
    assert_eq "$(jq -r .id "$TEST_DIR/hook-$kind.json")" "$CID" "$kind id"
    assert_eq "$(jq -r .bundle "$TEST_DIR/hook-$kind.json")" "$BUNDLE" "$kind bundle"
    assert_eq "$(jq -r .status "$TEST_DIR/hook-$kind.json")" creating "$kind status"
    assert_eq "$(jq -r .pid "$TEST_DIR/hook-$kind.json")" "$(pid_of "$CID")" "$kind pid"
  done
  # runc 1.1 runs poststart hooks at create, with status "created" (fixed in runc 1.2); the
  # spec says after start, with status "running".
  local poststart_status=running
  if runc_before 1.2; then
    poststart_status=created
  else
    [[ ! -e $TEST_DIR/hook-poststart.json ]] || fail "poststart ran before start"
  fi
  rt start "$CID"
  wait_for 5 '[[ -s $TEST_DIR/hook-poststart.json ]]' || fail "poststart hook did not run"
  assert_eq "$(jq -r .id "$TEST_DIR/hook-poststart.json")" "$CID" "poststart id"
  assert_eq "$(jq -r .status "$TEST_DIR/hook-poststart.json")" "$poststart_status" "poststart status"
  [[ ! -e $TEST_DIR/hook-poststop.json ]] || fail "poststop ran before delete"
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  rt delete "$CID"
  [[ -s $TEST_DIR/hook-poststop.json ]] || fail "poststop hook did not run at delete"
  assert_eq "$(jq -r .id "$TEST_DIR/hook-poststop.json")" "$CID" "poststop id"
  assert_eq "$(jq -r .status "$TEST_DIR/hook-poststop.json")" stopped "poststop status"
  # prestart and createRuntime run at the same point; runc runs prestart first.
  assert_eq "$(tail -n 2 "$TEST_DIR/hook-order" | tr '\n' ' ')" "poststart poststop " "order"
}

@test "hooks see their args and env, and annotations in the state" {
  cfg '.annotations = {"org.berth.hook": "yes"}'
  cfg '.hooks.createRuntime = [{path: "/bin/sh", env: ["HOOKVAR=from-config"],
        args: ["sh", "-c", "cat >$0/state.json; echo \"$1 $HOOKVAR\" >$0/args", $d, "first-arg"]}]' \
    --arg d "$TEST_DIR"
  rt create --bundle "$BUNDLE" "$CID" </dev/null
  assert_eq "$(cat "$TEST_DIR/args")" "first-arg from-config" "args and env of the hook"
  assert_eq "$(jq -r '.annotations["org.berth.hook"]' "$TEST_DIR/state.json")" yes "annotations"
}

@test "a startContainer hook runs inside the container before the process" {
  cfg '.hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "hostname >/tmp/start-hook"]}]'
  cfg '.hostname = "hooked"'
  set_args cat /tmp/start-hook
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output hooked
}

@test "a failing prestart hook makes create fail and leaves nothing behind" {
  cfg '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "echo hook-failed-on-purpose >&2; exit 3"]}]'
  set_args sleep 100
  run --separate-stderr rt create --bundle "$BUNDLE" "$CID" </dev/null
  ((status != 0)) || fail "create with a failing prestart hook succeeded"
  [[ -n $stderr ]] || fail "no error message"
  assert_eq "$(status_of "$CID")" gone "state after the failed create"
  assert_eq "$(leftovers "$CID")" "" "leftovers"
  assert_eq "$(mounts_below "$TEST_DIR")" "" "mounts"
}

@test "a failing poststart or poststop hook does not stop the hooks after it" {
  cfg '.hooks.poststart = [{path: "/bin/sh", args: ["sh", "-c", "exit 1"]},
        {path: "/bin/sh", args: ["sh", "-c", "echo ran >$0/poststart2", $d]}]
       | .hooks.poststop = [{path: "/bin/sh", args: ["sh", "-c", "exit 1"]},
        {path: "/bin/sh", args: ["sh", "-c", "echo ran >$0/poststop2", $d]}]' --arg d "$TEST_DIR"
  set_args true
  rt run --bundle "$BUNDLE" "$CID" </dev/null || true
  assert_eq "$(cat "$TEST_DIR/poststart2" 2>/dev/null)" ran "second poststart hook"
  assert_eq "$(cat "$TEST_DIR/poststop2" 2>/dev/null)" ran "second poststop hook"
}
