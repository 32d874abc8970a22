#!/usr/bin/env bats
# process.terminal: the pty master handed to --console-socket (SCM_RIGHTS), as runc does.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

@test "an interactive shell through the console socket" {
  set_terminal true
  set_args sh
  start_console_receiver "$TEST_DIR/console.sock" "$TEST_DIR/tty.out" \
    --input 'echo hi-$((1+1))\nexit\n' --timeout 30
  rt create --bundle "$BUNDLE" --console-socket "$TEST_DIR/console.sock" "$CID" </dev/null
  rt start "$CID"
  wait_console_receiver || fail "console-receiver: $(cat "$TEST_DIR/tty.out.err")"
  # The tty echoes the input line; the result of the arithmetic is its own line.
  tty_text "$TEST_DIR/tty.out" | grep -qx 'hi-2' || fail "no hi-2 line in: $(tty_text "$TEST_DIR/tty.out")"
  wait_status "$CID" stopped
}

@test "the process has a controlling terminal /dev/pts/N of the container's own devpts" {
  set_terminal true
  cfg '.process.consoleSize = {height: 40, width: 120}'
  set_args sh -c 'tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty'
  start_console_receiver "$TEST_DIR/console.sock" "$TEST_DIR/tty.out" --timeout 30
  rt create --bundle "$BUNDLE" --console-socket "$TEST_DIR/console.sock" "$CID" </dev/null
  rt start "$CID"
  wait_console_receiver || fail "console-receiver: $(cat "$TEST_DIR/tty.out.err")"
  run tty_text "$TEST_DIR/tty.out"
  [[ ${lines[0]} =~ ^/dev/pts/[0-9]+$ ]] || fail "tty printed '${lines[0]}'"
  assert_eq "${lines[1]}" "40 120" "stty size (consoleSize)"
  assert_eq "${lines[2]}" all-tty "stdin, stdout and stderr are the terminal"
}

@test "terminal true without --console-socket is an error for create" {
  set_terminal true
  set_args sh
  run --separate-stderr rt create --bundle "$BUNDLE" "$CID" </dev/null
  ((status != 0)) || fail "create with terminal and no console socket succeeded"
  assert_contains "$stderr" "console"
}
