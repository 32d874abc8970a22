#!/usr/bin/env bats
# python3-docker (Debian's Docker SDK for Python) against berthd: containers.run detached and
# not, logs(stream=True), exec_run, attach_socket, wait, stop, remove, stats, volumes.

load helpers

setup() {
  containers_setup
  "$PYTHON" -c 'import docker' 2>/dev/null || skip "python3-docker not installed"
}
teardown() { containers_teardown; }

py() { DOCKER_HOST="unix://$SOCK" timeout 60 "$PYTHON" -c "$1"; }

@test "containers.run in the foreground returns the output" {
  run py '
import docker
c = docker.from_env()
out = c.containers.run("busybox", ["sh", "-c", "echo hi from sdk"], remove=True)
print(out.decode().strip())
'
  [[ $status -eq 0 ]] || fail "$output"
  assert_eq "$output" "hi from sdk"
}

@test "detached run, streamed logs, exec_run, wait, stop, remove" {
  run py '
import docker
c = docker.from_env()
ct = c.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.1; done; sleep 30"], detach=True, name="sdkbox")
lines = []
for chunk in ct.logs(stream=True):
    lines.append(chunk.decode().strip())
    if len(lines) == 3:
        break
print(",".join(lines))
code, out = ct.exec_run(["sh", "-c", "echo exec-out; exit 3"])
print(code, out.decode().strip())
ct.reload()
print(ct.status)
s = ct.stats(stream=False)
print("memory_stats" in s and "cpu_stats" in s)
ct.stop(timeout=1)
print(ct.wait()["StatusCode"])
ct.remove()
print(len(c.containers.list(all=True)))
'
  [[ $status -eq 0 ]] || fail "$output"
  assert_eq "$output" $'line1,line2,line3\n3 exec-out\nrunning\nTrue\n137\n0'
}

@test "attach_socket sends stdin and reads the output" {
  run py '
import docker, time
c = docker.from_env()
ct = c.containers.create("busybox", ["cat"], stdin_open=True)
ct.start()
s = ct.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
sock = s._sock
sock.sendall(b"echoed\n")
time.sleep(0.5)
data = sock.recv(4096)
# multiplexed: an 8-byte header, then the payload
print(data[8:].decode().strip())
ct.remove(force=True)
'
  [[ $status -eq 0 ]] || fail "$output"
  assert_eq "$output" echoed
}

@test "volumes: create, list, inspect, use, remove" {
  run py '
import docker
c = docker.from_env()
v = c.volumes.create("sdkvol", labels={"k": "v"})
print(v.name, v.attrs["Driver"], v.attrs["Labels"]["k"])
c.containers.run("busybox", ["sh", "-c", "echo kept >/v/f"], volumes={"sdkvol": {"bind": "/v", "mode": "rw"}}, remove=True)
print(c.containers.run("busybox", ["cat", "/v/f"], volumes=["sdkvol:/v:ro"], remove=True).decode().strip())
print([x.name for x in c.volumes.list()])
v.remove()
print(len(c.volumes.list()))
'
  [[ $status -eq 0 ]] || fail "$output"
  assert_eq "$output" $'sdkvol local v\nkept\n[\x27sdkvol\x27]\n0'
}
