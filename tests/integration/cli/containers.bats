#!/usr/bin/env bats
# berth run, create, start, attach, exec, logs and wait against a real daemon: a private Debian
# dockerd 20.10 by default, or the daemon at CLI_DAEMON_SOCK (see helpers.bash). Output, exit
# codes and streams must be what the docker CLI gives against the same daemon.

load helpers

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }

PTY=${BATS_TEST_DIRNAME}/pty_drive.py

@test "run prints the container's output and exits with its code" {
  run -0 --separate-stderr berth run --rm "${L[@]}" $IMG echo hi
  assert_eq "$output" "hi"
  run -3 --separate-stderr berth run --rm "${L[@]}" $IMG sh -c 'echo out; echo err >&2; exit 3'
  assert_eq "$output" "out"
  assert_contains "$stderr" "err"
}

@test "run: 127 for a missing command, 126 for one that cannot be run, as docker" {
  run -127 berth run --rm "${L[@]}" $IMG nosuchcommand
  assert_contains "$output" "executable file not found"
  assert_contains "$output" "Run 'berth run --help' for more information"
  run -126 berth run --rm "${L[@]}" $IMG /etc/passwd
  assert_contains "$output" "permission denied"
}

@test "run: 125 for a bad flag, a bad value and a missing image" {
  run -125 berth run --frobnicate $IMG
  assert_contains "$output" "unknown flag: --frobnicate"
  assert_contains "$output" "Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]"
  run -125 berth run -m lots $IMG
  assert_contains "$output" "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'"
  run -125 berth run --restart=always --rm $IMG
  assert_contains "$output" "conflicting options: cannot specify both --restart and --rm"
  # a registry on a loopback port nothing listens on: the pull fails at once
  run -125 berth run --rm 127.0.0.1:1/berth-none/missing
  assert_contains "$output" "Unable to find image '127.0.0.1:1/berth-none/missing:latest' locally"
  assert_contains "$output" "berth: Error response from daemon:"
  run -125 berth run --pull=never --rm berth-none-missing
  assert_contains "$output" "No such image"
  [[ $output != *"Unable to find image"* ]] || fail "--pull=never pulled: $output"
  run -1 berth run
  assert_contains "$output" "'berth run' requires at least 1 argument"
}

@test "run -e, --env-file, -w, -u, -h, --entrypoint reach the process" {
  echo 'FROM_FILE=yes' >"$BATS_TEST_TMPDIR/env"
  run -0 --separate-stderr env CLIENT_VAR=from-client "$BERTH" -H "unix://$CLI_SOCK" run --rm "${L[@]}" \
    -e FOO=bar -e CLIENT_VAR --env-file "$BATS_TEST_TMPDIR/env" -w /tmp -u 65534:65534 -h boxname $IMG \
    sh -c 'echo $FOO $CLIENT_VAR $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname)'
  assert_eq "$output" "bar from-client yes /tmp 65534:65534 boxname"
  run -0 --separate-stderr berth run --rm "${L[@]}" --entrypoint /bin/echo $IMG via entrypoint
  assert_eq "$output" "via entrypoint"
}

@test "run --rm removes the container; without it the container stays" {
  run -0 --separate-stderr berth run --rm "${L[@]}" --name berth-cli-rm $IMG true
  run -1 berth wait berth-cli-rm
  assert_contains "$output" "No such container: berth-cli-rm"
  run -9 --separate-stderr berth run "${L[@]}" --name berth-cli-keep $IMG sh -c 'exit 9'
  run -0 berth wait berth-cli-keep
  assert_eq "$output" "9"
}

@test "stdin is piped with -i and reaches EOF" {
  run -0 --separate-stderr bash -c "printf 'line1\nline2\n' | BERTH_HOST=unix://$CLI_SOCK timeout 60 $BERTH run --rm -i ${L[*]} $IMG sh -c 'cat; echo done'"
  assert_eq "$output" $'line1\nline2\ndone'
  # without -i the container's stdin is closed at once
  run -0 --separate-stderr bash -c "echo ignored | BERTH_HOST=unix://$CLI_SOCK timeout 60 $BERTH run --rm ${L[*]} $IMG cat"
  assert_eq "$output" ""
}

@test "run -d prints the id; logs splits stdout from stderr; wait prints the code" {
  run -0 --separate-stderr berth run -d "${L[@]}" $IMG sh -c 'echo to-out; echo to-err >&2; exit 4'
  local id=${output##*$'\n'}
  [[ $id =~ ^[0-9a-f]{64}$ ]] || fail "not an id: $output"
  run -0 berth wait "$id"
  assert_eq "$output" "4"
  run -0 --separate-stderr berth logs "$id"
  assert_eq "$output" "to-out"
  assert_eq "$stderr" "to-err"
  run -0 --separate-stderr berth logs --tail 2 -t "$id"
  [[ $output =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z\ to-out$ ]] || fail "timestamps: $output"
  run -0 --separate-stderr berth logs --since 1h --until 2099-01-01T00:00:00Z "$id"
  assert_eq "$output" "to-out"
}

@test "logs -f follows until the container exits; a TTY container's log is raw" {
  run -0 --separate-stderr berth run -d "${L[@]}" $IMG sh -c 'echo one; sleep 1; echo two'
  local id=${output##*$'\n'}
  run -0 --separate-stderr berth logs -f "$id"
  assert_eq "$output" $'one\ntwo'
  run -0 --separate-stderr berth run -d -t "${L[@]}" $IMG sh -c 'echo tty-out; echo tty-err >&2'
  id=${output##*$'\n'}
  berth wait "$id" >/dev/null
  run -0 --separate-stderr berth logs "$id"
  assert_eq "$output" $'tty-out\r\ntty-err\r'
}

@test "exec runs in the container with -e -w -u and returns the command's code" {
  run -0 --separate-stderr berth run -d "${L[@]}" --name berth-cli-exec $IMG sleep 300
  run -0 --separate-stderr berth exec -e X=1 -w /tmp -u 65534 berth-cli-exec sh -c 'echo $X $(pwd) $(id -u)'
  assert_eq "$output" "1 /tmp 65534"
  run -7 --separate-stderr berth exec berth-cli-exec sh -c 'echo o; echo e >&2; exit 7'
  assert_eq "$output" "o"
  assert_eq "$stderr" "e"
  run -0 --separate-stderr bash -c "echo piped | BERTH_HOST=unix://$CLI_SOCK timeout 60 $BERTH exec -i berth-cli-exec cat"
  assert_eq "$output" "piped"
  run -0 berth exec -d berth-cli-exec touch /tmp/detached
  run -0 berth exec berth-cli-exec sh -c 'for i in $(seq 50); do [ -e /tmp/detached ] && exit 0; sleep 0.1; done; exit 1'
  run -126 --separate-stderr berth exec berth-cli-exec /etc/passwd
  run -1 berth exec berth-cli-none true
  assert_contains "$output" "No such container: berth-cli-none"
  api POST /containers/berth-cli-exec/kill >/dev/null
}

@test "create then start -a streams the output and returns the code; start without -a prints the name" {
  run -0 --separate-stderr berth create "${L[@]}" --name berth-cli-created $IMG sh -c 'echo started; exit 5'
  [[ $output =~ ^[0-9a-f]{64}$ ]] || fail "not an id: $output"
  run -5 --separate-stderr berth start -a berth-cli-created
  assert_eq "$output" "started"
  run -0 --separate-stderr berth start berth-cli-created
  assert_eq "$output" "berth-cli-created"
  run -1 berth start berth-cli-none
  assert_contains "$output" "No such container: berth-cli-none"
}

@test "attach follows a running container and returns its code" {
  run -0 --separate-stderr berth run -d "${L[@]}" $IMG sh -c 'sleep 1; echo late; exit 6'
  local id=${output##*$'\n'}
  run -6 --separate-stderr berth attach "$id"
  assert_eq "$output" "late"
  run -1 berth attach "$id"
  assert_contains "$output" "cannot attach to a stopped container, start it first"
}

@test "run -it on a real terminal: typed commands run, the size is the terminal's, exit code comes back" {
  run -5 python3 "$PTY" 'expect:# ' 'send:stty size; echo hel""lo\r' 'expect:hello' \
    'size:30x100' 'send:stty size\r' 'expect:30 100' 'send:exit 5\r' -- \
    env BERTH_HOST="unix://$CLI_SOCK" "$BERTH" run -it --rm "${L[@]}" $IMG sh
  assert_contains "$output" $'24 80\r\nhello'
  assert_contains "$output" "30 100"
}

@test "run -it: ctrl-p ctrl-q detaches and leaves the container running; custom --detach-keys" {
  run -0 python3 "$PTY" 'expect:# ' 'send:\x10\x11' -- \
    env BERTH_HOST="unix://$CLI_SOCK" "$BERTH" run -it "${L[@]}" --name berth-cli-detach $IMG sh
  run -0 bash -c "curl -s --unix-socket $CLI_SOCK http://d/v1.41/containers/berth-cli-detach/json | jq -r .State.Running"
  assert_eq "$output" "true"
  # attach again, detach with ctrl-a, then exec ends it
  run -0 python3 "$PTY" 'send:\r' 'expect:# ' 'send:\x01' -- \
    env BERTH_HOST="unix://$CLI_SOCK" "$BERTH" attach --detach-keys ctrl-a berth-cli-detach
  run -0 bash -c "curl -s --unix-socket $CLI_SOCK http://d/v1.41/containers/berth-cli-detach/json | jq -r .State.Running"
  assert_eq "$output" "true"
  run -3 python3 "$PTY" 'send:\r' 'expect:# ' 'send:exit 3\r' -- \
    env BERTH_HOST="unix://$CLI_SOCK" "$BERTH" exec -it berth-cli-detach sh
  api POST /containers/berth-cli-detach/kill >/dev/null
  run -0 berth wait berth-cli-detach
  assert_eq "$output" "137"
}

@test "run -it refuses stdin that is not a terminal, as docker" {
  run -1 bash -c "echo | BERTH_HOST=unix://$CLI_SOCK timeout 60 $BERTH run -it --rm ${L[*]} $IMG true"
  assert_contains "$output" "the input device is not a TTY"
}

@test "logs --since in the future and --until in the past show nothing" {
  run -0 --separate-stderr berth run -d "${L[@]}" $IMG echo gone
  local id=${output##*$'\n'}
  berth wait "$id" >/dev/null
  run -0 --separate-stderr berth logs --since 2099-01-01 "$id"
  assert_eq "$output" ""
  run -0 --separate-stderr berth logs --until 2000-01-01T00:00:00+01:00 "$id"
  assert_eq "$output" ""
}

@test "run forwards the signals it gets to the container (sig-proxy)" {
  BERTH_HOST="unix://$CLI_SOCK" timeout 60 "$BERTH" run --rm "${L[@]}" $IMG \
    sh -c 'trap "echo got-term; exit 11" TERM; echo ready; while true; do sleep 0.1; done' \
    >"$BATS_TEST_TMPDIR/out" 2>/dev/null &
  local pid=$! i
  for ((i = 0; i < 100; i++)); do
    grep -q ready "$BATS_TEST_TMPDIR/out" && break
    sleep 0.1
  done
  kill -TERM "$pid"
  local code=0
  wait "$pid" || code=$?
  assert_eq "$code" "11" "exit code"
  assert_eq "$(cat "$BATS_TEST_TMPDIR/out")" $'ready\ngot-term'
}
