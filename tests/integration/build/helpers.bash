# Shared set-up for the build tests: a berthd of the test's own with a busybox image (as the
# container tests make it), driven by `DOCKER_BUILDKIT=0 docker build` (docker CLI 28),
# python3-docker and berth. Teardown is the container tests' (containers, monitors, mounts,
# the daemon by pid).

# shellcheck source=../containers/helpers.bash
source "$BATS_TEST_DIRNAME/../containers/helpers.bash"

build_setup() {
  containers_setup
  CTX=$TEST_DIR/ctx
  mkdir -p "$CTX"
}

build_teardown() { containers_teardown; }

# dbuild ARGS...: the docker CLI's classic builder against this test's daemon (output on
# stdout and stderr, as run captures them).
dbuild() {
  DOCKER_BUILDKIT=0 DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$TEST_DIR/docker-config" \
    timeout 300 "$DOCKER_CLI" build "$@" 2>&1 | grep -v -e '^DEPRECATED: The legacy builder' \
    -e '^ *BuildKit is currently disabled' -e '^ *environment-variable\.$' -e '^ *Install the buildx'
  return "${PIPESTATUS[0]}"
}

# dockerfile TEXT: writes $CTX/Dockerfile.
dockerfile() { printf '%s\n' "$1" >"$CTX/Dockerfile"; }

# config_of IMAGE FIELD: one field of the image's Config (JSON), as docker inspect prints it.
config_of() { docker image inspect -f "{{json .Config.$2}}" "$1"; }

# build_ok ARGS...: dbuild that must succeed; its output in $output.
build_ok() {
  run dbuild "$@"
  ((status == 0)) || fail "build failed ($status): $output"
}

# debian_image: imports debian:bookworm (debootstrap, python3) into this test's berthd; the
# rootfs tarball is made once and cached (scripts/debian-image, a few minutes the first time).
debian_image() {
  BERTH="$BERTH" "$BERTH_SRC/scripts/debian-image" --host "unix://$SOCK" >"$TEST_DIR/debian.log" 2>&1 ||
    skip "no Debian image: $(tail -3 "$TEST_DIR/debian.log")"
}

# build_contexts: the context directories of the daemon under way (there should be none once a
# build has answered).
build_contexts() { ls "$ROOT/tmp" 2>/dev/null | grep '^build-' || true; }
