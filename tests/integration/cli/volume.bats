#!/usr/bin/env bats
# berth volume create|ls|inspect|rm|prune and system prune, compared with the docker CLI on the
# same daemon (ops_helpers.bash).

load ops_helpers

setup_file() { ops_setup_file; }
teardown_file() { ops_teardown_file; }
teardown() { ops_teardown; }

@test "volume create (-d, --label, -o), ls (-q, --filter, --format), inspect" {
  run -0 b volume create --label berth-ops-test=1 --label x=y -d local -o type=tmpfs -o device=tmpfs vol-a
  assert_eq "$output" vol-a
  run -0 b volume create --label berth-ops-test=1 vol-b
  assert_eq "$(d volume inspect -f '{{.Driver}} {{json .Labels}} {{json .Options}}' vol-a)" \
    'local {"berth-ops-test":"1","x":"y"} {"device":"tmpfs","type":"tmpfs"}'
  same_as_docker volume ls --filter label=berth-ops-test
  same_as_docker volume ls -q --filter label=berth-ops-test
  # {{.Labels}} joins a Go map, in random order in docker: compared where there is one label
  same_as_docker volume ls --filter label=x=y --format '{{.Name}} {{.Driver}} {{.Label "x"}} {{.Mountpoint}} {{.Scope}}'
  same_as_docker volume ls --filter name=vol-b --format '{{.Name}} {{.Labels}}'
  same_as_docker volume ls --filter name=vol-b --format json
  same_as_docker volume ls -q --filter dangling=true --filter label=berth-ops-test
  same_as_docker volume inspect vol-a vol-b
  same_as_docker volume inspect -f '{{.Name}}:{{.Mountpoint}}' vol-a
  same_as_docker inspect -f '{{.Name}}' vol-b
  same_as_docker volume inspect vol-nope
  run -0 b volume create
  [[ $output =~ ^[0-9a-f]{64}$ ]] || fail "anonymous volume name: $output"
  d volume rm "$output" >/dev/null
}

@test "volume rm: each name, errors at the end, -f" {
  d volume create --label berth-ops-test=1 vol-c >/dev/null
  drun --name vol-user -v vol-c:/data busybox sleep 600 >/dev/null
  run_bd volume rm vol-c vol-nope
  assert_eq "$B_RC" 1
  assert_contains "$B_ERR" "vol-c"
  assert_contains "$B_ERR" "vol-nope"
  d rm -f vol-user >/dev/null
  run -0 b volume rm vol-c
  assert_eq "$output" vol-c
  run -0 b volume ls -q --filter name=vol-c
  assert_eq "$output" ""
}

@test "volume prune and system prune (-f, --volumes, --filter)" {
  d volume create --label berth-ops-test=1 --label prune-me=1 vol-p >/dev/null
  run -0 b volume prune -f --filter label=prune-me=1
  assert_contains "$output" "Total reclaimed space:"
  run -0 b volume prune <<<"n"
  assert_contains "$output" "WARNING! This will remove anonymous local volumes not used by at least one container."
  d run -l berth-ops-test=1 -l prune-me=1 --name sys-p busybox true >/dev/null
  run -0 b system prune -f --filter label=prune-me=1
  assert_contains "$output" "Deleted Containers:"
  assert_contains "$output" "Total reclaimed space:"
  assert_eq "$(d ps -aq --filter name=sys-p)" ""
  run -0 b system prune --volumes <<<"n"
  assert_contains "$output" "  - all anonymous volumes not used by at least one container"
}
