#!/usr/bin/env bats
# The berth CLI against berthd: host selection, version, the daemon-not-running message.

load helpers

setup() { api_setup; }
teardown() { api_teardown; }


@test "berth version prints the client and the server" {
  run -0 env BERTH_HOST="unix://$SOCK" "$BERTH" version
  assert_contains "$output" "Client:"
  assert_contains "$output" "Server: Berth Engine"
  assert_contains "$output" "API version:       1.51 (minimum version 1.24)"
}

@test "berth version --format evaluates Go-template fields and json" {
  run -0 env BERTH_HOST="unix://$SOCK" "$BERTH" version --format '{{.Server.Version}} {{json .Client.ApiVersion}}'
  assert_eq "$output" '0.1.0 "1.51"'
}

@test "BERTH_HOST wins over DOCKER_HOST; -H wins over both" {
  run -0 env BERTH_HOST="unix://$SOCK" DOCKER_HOST=unix:///nonexistent.sock "$BERTH" version --format '{{.Server.Version}}'
  run -0 env DOCKER_HOST="unix://$SOCK" "$BERTH" version --format '{{.Server.Version}}'
  run -0 env BERTH_HOST=unix:///nonexistent.sock "$BERTH" -H "unix://$SOCK" version --format '{{.Server.Version}}'
}

@test "without a daemon berth says so, as docker does, and exits 1" {
  run -1 env BERTH_HOST="unix://$TEST_DIR/none.sock" "$BERTH" version --format '{{.Client.Version}}'
  assert_contains "$output" "Cannot connect to the Berth daemon at unix://$TEST_DIR/none.sock. Is the berthd daemon running?"
}

@test "an unknown command is an error" {
  run -1 "$BERTH" frobnicate
  assert_contains "$output" "'frobnicate' is not a berth command"
}

@test "berth info and system info report what docker info reports" {
  run -0 env BERTH_HOST="unix://$SOCK" "$BERTH" info
  assert_contains "$output" " Docker Root Dir: $ROOT"
  assert_contains "$output" " CPUs: $(nproc)"
  local want
  want=$(docker info --format '{{.Images}} {{.DockerRootDir}} {{.ID}}')
  run -0 env BERTH_HOST="unix://$SOCK" "$BERTH" system info --format '{{.Images}} {{.DockerRootDir}} {{.ID}}'
  assert_eq "$output" "$want"
}
