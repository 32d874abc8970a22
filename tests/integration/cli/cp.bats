#!/usr/bin/env bats
# berth cp both ways (files, directories, "dir/.", "-" tars, -L, -a), checked against what the
# docker CLI copies on the same daemon (ops_helpers.bash).

load ops_helpers

setup_file() { ops_setup_file; }
teardown_file() { ops_teardown_file; }
setup() {
  drun --name cp-c busybox sh -c 'mkdir -p /data/sub && echo one >/data/a && echo two >/data/sub/b && ln -s /data/a /data/link && sleep 600' >/dev/null
  for _ in $(seq 50); do d exec cp-c test -e /data/link && break; sleep 0.1; done
  W=$OPS_DIR/w
  rm -rf "$W"
  mkdir -p "$W"
}
teardown() { ops_teardown; rm -rf "${W:?}"; }

# tree DIR: every path with its type and content, to compare two copies
tree() { (cd "$1" && find . -printf '%y %p %l\n' | sort && find . -type f -exec md5sum {} + | sort); }

@test "container file to a new local name, into a directory, onto a file" {
  run -0 b cp cp-c:/data/a "$W/new"
  assert_eq "$(cat "$W/new")" one
  mkdir "$W/dir"
  run -0 b cp cp-c:/data/a "$W/dir"
  assert_eq "$(cat "$W/dir/a")" one
  echo old >"$W/file"
  run -0 b cp cp-c:/data/sub/b "$W/file"
  assert_eq "$(cat "$W/file")" two
}

@test "container directory: to a new name, into a directory, its contents with dir/." {
  local x
  for x in b d; do
    mkdir -p "$W/$x/into" "$W/$x/contents"
    $x cp cp-c:/data "$W/$x/newname"
    $x cp cp-c:/data "$W/$x/into"
    $x cp cp-c:/data/. "$W/$x/contents"
  done
  assert_eq "$(tree "$W/b")" "$(tree "$W/d")" "the copies"
  assert_eq "$(cat "$W/b/newname/sub/b")" two
  assert_eq "$(readlink "$W/b/into/data/link")" /data/a
  assert_eq "$(cat "$W/b/contents/a")" one
}

@test "errors: a directory onto a file, a missing path, a missing parent" {
  echo x >"$W/file"
  run -1 b cp cp-c:/data "$W/file"
  assert_contains "$output" "cannot copy directory"
  same_as_docker cp cp-c:/nope "$W/x"
  run -1 b cp cp-c:/data/a "$W/no/such/dir/x"
  run -1 b cp cp-c:/data/a cp-c:/tmp/x
  assert_contains "$output" "copying between containers is not supported"
  run -1 b cp "$W/file" "$W/file2"
  assert_contains "$output" "must specify at least one container source"
}

@test "-L follows a symlink at the source; without it the link is copied" {
  run -0 b cp cp-c:/data/link "$W/l1"
  assert_eq "$(readlink "$W/l1")" /data/a
  run -0 b cp -L cp-c:/data/link "$W/l2"
  [[ -f $W/l2 && ! -L $W/l2 ]] || fail "-L gave a link"
  assert_eq "$(cat "$W/l2")" one
}

@test "local file and directory into the container; docker sees the same" {
  mkdir -p "$W/src/deep/er"
  echo hi >"$W/src/deep/er/f"
  echo top >"$W/src/t"
  ln -s t "$W/src/tl"
  printf '%0300d' 0 >"$W/src/$(printf 'n%.0s' $(seq 120))"
  run -0 b cp "$W/src/t" cp-c:/tmp/t-copy
  assert_eq "$(d exec cp-c cat /tmp/t-copy)" top
  run -0 b cp "$W/src" cp-c:/tmp
  assert_eq "$(d exec cp-c cat /tmp/src/deep/er/f)" hi
  assert_eq "$(d exec cp-c readlink /tmp/src/tl)" t
  assert_eq "$(d exec cp-c sh -c 'cat /tmp/src/nnnn* | wc -c')" 300
  run -0 b cp "$W/src" cp-c:/tmp/renamed
  assert_eq "$(d exec cp-c cat /tmp/renamed/t)" top
  run -0 b cp "$W/src/." cp-c:/data/sub
  assert_eq "$(d exec cp-c cat /data/sub/t)" top
  # and back: what berth put in, docker reads out the same
  d cp cp-c:/tmp/src "$W/back"
  assert_eq "$(tree "$W/back")" "$(tree "$W/src")"
}

@test "- streams a tar: out of the container to stdout, into it from stdin" {
  b cp cp-c:/data - >"$W/out.tar"
  d cp cp-c:/data - >"$W/dout.tar"
  assert_eq "$(tar -tf "$W/out.tar" | sort)" "$(tar -tf "$W/dout.tar" | sort)"
  mkdir -p "$W/t" && echo fromtar >"$W/t/x"
  tar -C "$W/t" -c x | b cp - cp-c:/tmp
  assert_eq "$(d exec cp-c cat /tmp/x)" fromtar
  run -1 b cp - cp-c:/data/a </dev/null
  assert_contains "$output" "must be a directory"
}

@test "-a keeps the owner; without it the owner is what docker cp gives" {
  echo own >"$W/owned"
  chown 1234:4321 "$W/owned"
  run -0 b cp "$W/owned" cp-c:/tmp/plain
  d cp "$W/owned" cp-c:/tmp/dplain
  assert_eq "$(d exec cp-c stat -c '%u:%g' /tmp/plain)" "$(d exec cp-c stat -c '%u:%g' /tmp/dplain)"
  run -0 b cp -a "$W/owned" cp-c:/tmp/kept
  assert_eq "$(d exec cp-c stat -c '%u:%g' /tmp/kept)" "1234:4321"
}
