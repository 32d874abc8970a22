#!/usr/bin/env bats
# The classic builder end to end: `DOCKER_BUILDKIT=0 docker build` against berthd — the image's
# files (a RUN's deletion as a whiteout), its config, its history, and the layer cache: a
# rebuild runs nothing, a changed COPY source invalidates from that step on and not before,
# --no-cache runs everything, and the cache survives a daemon restart.

load helpers

setup() { build_setup; }
teardown() { build_teardown; }

# steps_cached: how many steps of the last build's $output used the cache.
steps_cached() { grep -c -- '---> Using cache' <<<"$output" || true; }

write_context() {
  echo hello >"$CTX/a.txt"
  echo second >"$CTX/b.txt"
  dockerfile 'FROM busybox
ENV GREETING=hi
RUN echo built >/built.txt && rm -f /bin/vi
COPY a.txt /a.txt
RUN cat /a.txt >/copy-of-a.txt
COPY b.txt /b.txt
WORKDIR /work
CMD ["cat", "/a.txt"]'
}

@test "docker build: files, whiteouts, config and history of the image" {
  write_context
  build_ok -t t1 "$CTX"
  assert_contains "$output" "Step 8/8 : CMD [\"cat\", \"/a.txt\"]"
  assert_contains "$output" "Successfully built "
  run -0 docker run --rm t1
  assert_eq "$output" hello
  run -0 docker run --rm t1 cat /built.txt /copy-of-a.txt /b.txt
  assert_eq "$output" "built
hello
second"
  run docker run --rm t1 ls /bin/vi
  ((status != 0)) || fail "/bin/vi is still in the image: $output"
  run -0 docker run --rm t1 pwd
  assert_eq "$output" /work
  assert_eq "$(config_of t1 Cmd)" '["cat","/a.txt"]'
  assert_eq "$(config_of t1 WorkingDir)" '"/work"'
  assert_contains "$(config_of t1 Env)" '"GREETING=hi"'
  # One history entry per instruction on top of busybox's one.
  run -0 docker history -q --no-trunc t1
  assert_eq "${#lines[@]}" 8
  run -0 docker history --no-trunc --format '{{.CreatedBy}}' t1
  assert_contains "${lines[0]}" '/bin/sh -c #(nop)  CMD ["cat" "/a.txt"]'
  assert_contains "${lines[5]}" '/bin/sh -c echo built >/built.txt && rm -f /bin/vi'
  assert_contains "${lines[6]}" '/bin/sh -c #(nop)  ENV GREETING=hi'
  [[ -z $(build_contexts) ]] || fail "contexts left: $(build_contexts)"
}

@test "the layer cache: a rebuild runs nothing; a changed COPY invalidates from there on" {
  write_context
  build_ok -t t1 "$CTX"
  local first
  first=$(docker image inspect -f '{{.Id}}' t1)
  build_ok -t t1 "$CTX"
  assert_eq "$(steps_cached)" 7
  [[ $output != *"Running in"* ]] || fail "a cached build ran a step: $output"
  assert_eq "$(docker image inspect -f '{{.Id}}' t1)" "$first"
  # b.txt is copied at step 6: steps 2-5 stay cached, 6-8 are built again.
  echo changed >"$CTX/b.txt"
  build_ok -t t1 "$CTX"
  assert_eq "$(steps_cached)" 4
  run -0 docker run --rm t1 cat /b.txt
  assert_eq "$output" changed
  # Only the content counts, not the mtime.
  touch -d '2001-01-01' "$CTX/a.txt"
  build_ok -t t1 "$CTX"
  assert_eq "$(steps_cached)" 7
  # a.txt changed: from step 4 on; the RUN after it sees the new file.
  echo again >"$CTX/a.txt"
  build_ok -t t1 "$CTX"
  assert_eq "$(steps_cached)" 2
  run -0 docker run --rm t1 cat /copy-of-a.txt
  assert_eq "$output" again
  build_ok --no-cache -t t1 "$CTX"
  assert_eq "$(steps_cached)" 0
}

@test "the build cache survives a daemon restart" {
  write_context
  build_ok -t t1 "$CTX"
  restart_berthd
  build_ok -t t1 "$CTX"
  assert_eq "$(steps_cached)" 7
}
