#!/usr/bin/env python3
# Runs a command on a new pseudo-terminal and drives it like a person at a keyboard:
#
#   pty_drive.py STEP... -- COMMAND [ARG...]
#
# STEP is "expect:TEXT" (wait until TEXT has appeared in the output since the last expect),
# "send:TEXT" (type TEXT) or "size:ROWSxCOLS" (resize the terminal, which sends SIGWINCH); TEXT
# takes Python escapes ("\r", "\x10"). Everything the command wrote goes to stdout at the end;
# the exit status is the command's, or 90 when an expect timed out (10 s) and 91 when the
# command did not end within 10 s after the last step (it is then killed).
import codecs
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

argv = sys.argv[1:]
sep = argv.index("--")
steps, cmd = argv[:sep], argv[sep + 1:]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)

seen = b""
mark = 0


def read_some(deadline):
    global seen
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            return None  # the child closed the terminal
        if not data:
            return None
        seen += data
        return True


def finish(code):
    sys.stdout.write(seen.decode(errors="replace"))
    sys.stdout.flush()
    sys.exit(code)


fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
for step in steps:
    kind, _, text = step.partition(":")
    text = codecs.decode(text, "unicode_escape").encode("latin-1")
    if kind == "send":
        os.write(fd, text)
    elif kind == "size":
        rows, cols = (int(x) for x in text.decode().split("x"))
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    elif kind == "expect":
        deadline = time.monotonic() + 10
        while text not in seen[mark:]:
            if not read_some(deadline):
                sys.stderr.write("timed out waiting for %r\n" % text)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                finish(90)
        mark = seen.index(text, mark) + len(text)

deadline = time.monotonic() + 10
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        while read_some(time.monotonic() + 0.2):
            pass
        finish(os.waitstatus_to_exitcode(status))
    if read_some(min(deadline, time.monotonic() + 0.1)) is False and time.monotonic() >= deadline:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        finish(91)
