#!/usr/bin/env bats
# Hostile input: each is refused with a clear error (non-zero exit, stderr naming the problem)
# and touches nothing on the host, or, where the spec allows it, is made harmless.

load helpers

setup() {
  berth_setup
  RAND=$RANDOM$RANDOM
}
teardown() {
  rm -rf "/tmp/escape-$RAND" "/tmp/$RAND"
  berth_teardown
}

@test "malformed config.json" {
  echo '{"ociVersion": "1.0.2", "process": {"args": ["true"],}' >"$BUNDLE/config.json"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error "" config
  assert_eq "$(status_of "$CID")" gone
}

@test "truncated config.json" {
  local full
  full=$(cat "$BUNDLE/config.json")
  printf '%s' "${full:0:${#full}/2}" >"$BUNDLE/config.json"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error "" config
  assert_eq "$(status_of "$CID")" gone
}

@test "empty and missing config.json" {
  : >"$BUNDLE/config.json"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error
  rm "$BUNDLE/config.json"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error config.json
}

@test "a 20 MB config.json of nested arrays does not crash the runtime" {
  # 20 MB of '[': a recursive parser (or destructor) overflows its stack on this.
  head -c 20000000 /dev/zero | tr '\0' '[' >"$BUNDLE/config.json"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error "" config
  assert_eq "$(status_of "$CID")" gone
}

@test "a 20 MB config.json (a huge annotation) runs or fails cleanly" {
  head -c 20000000 /dev/zero | tr '\0' 'a' >"$TEST_DIR/big"
  jq --rawfile big "$TEST_DIR/big" '.annotations = {"org.berth.big": $big}' \
    "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
  mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  if ((status != 0)); then
    assert_clear_error
  fi
}

@test "unknown fields in config.json are ignored" {
  cfg '.berthUnknown = {"x": 1} | .process.unknownField = "y" | .linux.notAField = [1, 2]'
  set_args echo ok
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output ok
}

@test "ociVersion 2.0.0 is refused" {
  is_runc && skip "runc 1.1 accepts any ociVersion; berth-runtime rejects another major version"
  cfg '.ociVersion = "2.0.0"'
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error "2.0.0"
  assert_eq "$(status_of "$CID")" gone
}

@test "a mount destination with .. stays inside the rootfs" {
  add_mount "../../../../tmp/escape-$RAND" tmpfs tmpfs size=1m
  set_args sh -c 'cat /proc/self/mountinfo'
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  # Either refused, or resolved inside the rootfs (runc: /tmp/escape-<rand> of the container).
  if ((status != 0)); then
    assert_clear_error
  else
    assert_contains "$output" "/tmp/escape-$RAND"
  fi
  [[ ! -e /tmp/escape-$RAND ]] || fail "the mount made /tmp/escape-$RAND on the host"
  [[ -z $(mounts_below "/tmp/escape-$RAND") ]] || fail "a mount landed on the host"
}

@test "a rootfs symlink to a host directory cannot carry a mount out" {
  ln -s /tmp "$BUNDLE/rootfs/evil"
  add_mount "/evil/$RAND" tmpfs tmpfs size=1m
  set_args sh -c 'grep -c " /tmp/'"$RAND"' " /proc/self/mountinfo'
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  if ((status != 0)); then
    assert_clear_error
  else
    # The symlink resolved inside the rootfs: the mount is the container's /tmp/<rand>.
    assert_output 1
  fi
  [[ ! -e /tmp/$RAND ]] || fail "host /tmp/$RAND was created"
  [[ -z $(mounts_below "/tmp/$RAND") ]] || fail "a mount landed on the host's /tmp/$RAND"
}

@test "a bind mount source that is missing is an error naming it" {
  add_mount /mnt/data bind "$TEST_DIR/no-such-source-$RAND" bind
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error "no-such-source-$RAND"
  assert_eq "$(status_of "$CID")" gone
}

@test "container ids with / or .. are refused" {
  local id
  for id in "../escape-$RAND" "a/b-$RAND" ".." "." "/abs-$RAND" ""; do
    run --separate-stderr rt create --bundle "$BUNDLE" "$id" </dev/null
    assert_clear_error
  done
  [[ ! -e $TEST_DIR/escape-$RAND ]] || fail "an id escaped the state directory"
  assert_eq "$(ls -A "$STATE")" "" "state directory"
  [[ -z $(ls -d /sys/fs/cgroup/*/"$CGROUP_PARENT"/*"$RAND"* 2>/dev/null) ]] || fail "cgroups made"
}

@test "an rlimit above the hard limit fails with an error naming RLIMIT_NOFILE" {
  # This machine: hard RLIMIT_NOFILE 20000, and root lacks CAP_SYS_RESOURCE, so 1048576 can
  # not be granted. runc's message is "error setting rlimit type 7: operation not permitted".
  local hard capeff
  hard=$(ulimit -Hn)
  capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  # CAP_SYS_RESOURCE is bit 24.
  if [[ $hard == unlimited ]] || ((hard >= 1048576 || (16#$capeff >> 24 & 1))); then
    skip "this host can raise RLIMIT_NOFILE to 1048576"
  fi
  cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576}]'
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error rlimit RLIMIT_NOFILE
  assert_eq "$(status_of "$CID")" gone
}

@test "an unknown rlimit type is refused" {
  cfg '.process.rlimits = [{type: "RLIMIT_BOGUS", hard: 1, soft: 1}]'
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error RLIMIT_BOGUS
}

@test "a missing rootfs is an error" {
  rm -rf "$BUNDLE/rootfs"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error rootfs
  assert_eq "$(status_of "$CID")" gone
}

@test "an unknown namespace type is refused" {
  cfg '.linux.namespaces += [{type: "bogus"}]'
  run --separate-stderr rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_clear_error bogus
}
