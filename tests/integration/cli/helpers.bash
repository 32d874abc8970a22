# Shared set-up for the berth CLI's container tests: `berth` driven against a daemon whose socket
# is CLI_DAEMON_SOCK. Unset, each file starts a private Debian dockerd 20.10 (../api/dockerd.bash,
# --bridge=none, no host network change) and imports a busybox image into it; set, the tests use
# that daemon as it is (berthd, once it runs containers) and import busybox there.

bats_require_minimum_version 1.5.0

BERTH_SRC=${BERTH_SRC:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)}
BERTH_BIN=${BERTH_BIN:-${BERTH_BUILD:-$BERTH_SRC/build}/bin}
BERTH=${BERTH:-$BERTH_BIN/berth}
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}

load ../api/dockerd

fail() {
  echo "FAIL: $*" >&2
  return 1
}
assert_eq() { [[ $1 == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"; }
assert_contains() { [[ $1 == *"$2"* ]] || fail "expected '$2' in: $1"; }

# berth ARGS...: the CLI against the test daemon, never hanging.
berth() { BERTH_HOST="unix://$CLI_SOCK" timeout 60 "$BERTH" "$@"; }
# api METHOD PATH: a raw request to the daemon (cleanup and checks that need no CLI).
api() { curl -s --unix-socket "$CLI_SOCK" -X "$1" "http://d/v1.41$2"; }

# cli_setup_file: the daemon and the busybox image, once per .bats file.
cli_setup_file() {
  ((EUID == 0)) || skip "needs root"
  [[ -x $BERTH ]] || skip "berth not built ($BERTH)"
  export CLI_DIR
  CLI_DIR=$(mktemp -d /tmp/berth-cli.XXXXXX)
  if [[ -n ${CLI_DAEMON_SOCK:-} ]]; then
    export CLI_SOCK=$CLI_DAEMON_SOCK
  else
    dockerd_available || skip "Debian's docker.io (dockerd) is not installed: run scripts/bootstrap"
    dockerd_start "$CLI_DIR/dockerd" 2>"$CLI_DIR/dockerd-start.err" ||
      skip "private dockerd did not start: $(tail -3 "$CLI_DIR/dockerd-start.err")"
    export CLI_SOCK=$DOCKERD_SOCK
  fi
  "$BERTH_SRC/scripts/make-rootfs-busybox" "$CLI_DIR/rootfs" >/dev/null 2>&1 || skip "no busybox rootfs"
  tar -C "$CLI_DIR/rootfs" --numeric-owner -c . >"$CLI_DIR/busybox.tar"
  berth import -c 'CMD ["sh"]' "$CLI_DIR/busybox.tar" berth-test-busybox:latest >/dev/null ||
    fail "import busybox"
}

cli_teardown_file() {
  [[ -n ${CLI_DIR:-} ]] || return 0
  # the containers the tests made, by the label they all carry
  local ids
  ids=$(api GET '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22berth-cli-test%22%5D%7D' |
    jq -r '.[].Id' 2>/dev/null) || true
  for id in $ids; do api DELETE "/containers/$id?force=1" >/dev/null || true; done
  if [[ -z ${CLI_DAEMON_SOCK:-} ]]; then dockerd_stop "$CLI_DIR/dockerd"; fi
  rm -rf "$CLI_DIR"
}

IMG=berth-test-busybox
# Every container the tests create carries this label, so teardown finds them all.
L=(-l berth-cli-test)
