#!/usr/bin/env bats
# berth ps / container ls against the same daemon as the docker CLI: the same containers give
# the same table, ids, names, filters and templates (see ops_helpers.bash for the daemon).

load ops_helpers

setup_file() { ops_setup_file; }
teardown_file() { ops_teardown_file; }
teardown() { ops_teardown; }

make_containers() {
  drun --name ps-up -l tier=web busybox sleep 600 >/dev/null
  d run -l berth-ops-test=1 --name ps-ok busybox true >/dev/null
  d run -l berth-ops-test=1 --name ps-three busybox sh -c 'exit 3' >/dev/null || true
  dcreate --name ps-new busybox >/dev/null
}

@test "ps, ps -a, -s, --no-trunc print docker's table" {
  make_containers
  local args
  for args in "" "-a" "-a -s" "-a --no-trunc"; do
    # shellcheck disable=SC2086
    same_as_docker ps $args --filter label=berth-ops-test
  done
  # columns whose width no clock changes: exact, padding included
  run_bd ps -a --filter label=berth-ops-test --format 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Names}}\t{{.State}}'
  assert_eq "$B_OUT" "$D_OUT" "table"
}

@test "ps -q, -aq, -n, -l list the same ids" {
  make_containers
  same_as_docker ps -q --filter label=berth-ops-test
  same_as_docker ps -aq --filter label=berth-ops-test
  same_as_docker ps -a -n 2 -q
  same_as_docker ps -l --format '{{.Names}}'
  same_as_docker container ls -aq --filter label=berth-ops-test
  same_as_docker container list -a --no-trunc -q --filter label=berth-ops-test
}

@test "ps --filter status, exited, name, label, id, ancestor" {
  make_containers
  same_as_docker ps -aq --filter status=exited --filter label=berth-ops-test
  same_as_docker ps -aq --filter exited=3
  same_as_docker ps -aq --filter status=created --filter label=berth-ops-test
  same_as_docker ps -a --filter name=ps-up --format '{{.Names}} {{.State}}'
  same_as_docker ps -a --filter label=tier=web --format '{{.Names}}'
  same_as_docker ps -aq --filter ancestor=busybox --filter label=berth-ops-test
  local id
  id=$(d ps -aq --filter name=ps-ok)
  same_as_docker ps -a --filter "id=$id" --format '{{.ID}} {{.Names}}'
}

@test "ps --format: json, table, fields, .Label, .Size" {
  make_containers
  same_as_docker ps -a --filter label=berth-ops-test --format json
  same_as_docker ps -a --filter label=berth-ops-test --format '{{json .}}'
  same_as_docker ps -a --filter label=berth-ops-test --format 'table {{.ID}}\t{{.State}}\t{{.Label "tier"}}\t{{.Labels}}\t{{.CreatedAt}}'
  same_as_docker ps -a --filter label=berth-ops-test --format '{{.Image}}|{{.Command}}|{{.Mounts}}|{{.Networks}}|{{.LocalVolumes}}|{{.Size}}'
  same_as_docker ps -a --filter label=berth-ops-test --format table
}

@test "ps usage errors are docker's" {
  same_as_docker ps --bogus
  same_as_docker ps extra-arg
}
