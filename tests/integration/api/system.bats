#!/usr/bin/env bats
# berthd's first routes: /_ping, /version, /info, through the real docker CLI, python3-docker
# and raw HTTP; one daemon per root; malformed requests; SIGTERM.

load helpers

setup() { api_setup; }
teardown() { api_teardown; }

@test "docker version talks to berthd" {
  run -0 docker version --format '{{.Server.Platform.Name}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Server.Os}}'
  assert_eq "$output" "Berth Engine 1.51 1.24 linux"
}

@test "docker info reports the daemon's root and the host" {
  run -0 docker info --format '{{.DockerRootDir}} {{.NCPU}} {{.OSType}} {{.CgroupDriver}}'
  assert_eq "$output" "$ROOT $(nproc) linux cgroupfs"
}

@test "HEAD and GET /_ping carry Docker's headers, with and without a version prefix" {
  run -0 curl -sfI --unix-socket "$SOCK" http://d/_ping
  assert_contains "$output" "Api-Version: 1.51"
  assert_contains "$output" "Ostype: linux"
  assert_contains "$output" "Docker-Experimental: false"
  assert_contains "$output" "Builder-Version: 1"
  run -0 curl -sf --unix-socket "$SOCK" http://d/v1.44/_ping
  assert_eq "$output" OK
  run -0 curl -sf --unix-socket "$SOCK" 'http://d/v1.24/version?unknown=1&Cmd=x'
  assert_contains "$output" '"ApiVersion":"1.51"'
}

@test "python3-docker (Debian's) negotiates and pings" {
  run -0 "$PYTHON" -c "
import docker
c = docker.DockerClient(base_url='unix://$SOCK')
print(c.ping(), c.version()['ApiVersion'])"
  assert_eq "$output" "True 1.51"
}

@test "an unknown path is a 404 in Docker's error shape" {
  run -0 curl -s -o "$TEST_DIR/body" -w '%{http_code}' --unix-socket "$SOCK" http://d/v1.51/nope
  assert_eq "$output" 404
  assert_eq "$(cat "$TEST_DIR/body")" '{"message":"page not found"}'
}

@test "malformed requests get a 4xx and the daemon keeps serving" {
  run -0 "$PYTHON" - "$SOCK" <<'PY'
import socket, sys
def send(raw):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(raw)
    out = s.recv(4096)
    s.close()
    return out.split(b"\r\n", 1)[0].decode()
print(send(b"GARBAGE\r\n\r\n"))
print(send(b"GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"))
print(send(b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"))
print(send(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100000 + b"\r\n\r\n"))
PY
  assert_eq "${lines[0]}" "HTTP/1.1 400 Bad Request"
  assert_eq "${lines[1]}" "HTTP/1.1 400 Bad Request"
  assert_eq "${lines[2]}" "HTTP/1.1 400 Bad Request"
  assert_eq "${lines[3]}" "HTTP/1.1 400 Bad Request"
  run -0 docker version --format '{{.Server.Version}}'
}

@test "500 connections opened and dropped at once leave the daemon serving" {
  run -0 "$PYTHON" - "$SOCK" <<'PY'
import socket, sys
socks = []
for i in range(500):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    if i % 2:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n")  # half a request
    socks.append(s)
for s in socks:
    s.close()
PY
  run -0 docker version --format '{{.Server.Version}}'
  assert_eq "$output" 0.1.0
}

@test "one daemon per root: a second berthd on the same root refuses to start" {
  run -1 "$BERTHD" --root "$ROOT" --host "unix://$TEST_DIR/other.sock"
  assert_contains "$output" "another berthd is running with root $ROOT"
}

@test "SIGTERM stops berthd cleanly and removes its socket" {
  kill -TERM "$BERTHD_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$BERTHD_PID" 2>/dev/null || break
    sleep 0.05
  done
  ! kill -0 "$BERTHD_PID" 2>/dev/null || fail "berthd still running 5 s after SIGTERM"
  [[ ! -e $SOCK ]] || fail "socket left behind"
  assert_contains "$(cat "$TEST_DIR/berthd.log")" stopped
}

@test "the socket is mode 0660, owned by root" {
  assert_eq "$(stat -c '%a %U' "$SOCK")" "660 root"
}
