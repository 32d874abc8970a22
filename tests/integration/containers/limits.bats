#!/usr/bin/env bats
# Every isolation and limit flag of `docker run`, checked from inside the container (and, for
# the cgroups, against the container's cgroup on the host): memory, swap, CPU, pids, ulimits,
# read-only rootfs, tmpfs, capabilities, privileged, no-new-privileges, seccomp, user, workdir,
# env, hostname, network/pid/ipc modes, devices, sysctls, /dev/shm, --init, stop signal and
# timeout, and json-file log rotation. cgroup v1 (a hybrid host).

bats_require_minimum_version 1.5.0
load helpers

setup() { containers_setup; }
teardown() { containers_teardown; }

# run_ok ARGS...: `docker run --rm ARGS...`, which must succeed; its output in $output.
run_ok() {
  run docker run --rm "$@"
  [[ $status -eq 0 ]] || fail "docker run $* → status $status: $output"
}

# host_cgroup PID CONTROLLER: the container's cgroup directory for CONTROLLER on the host.
host_cgroup() {
  local path
  path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/"$1"/cgroup)
  [[ -n $path ]] || fail "no $2 cgroup for pid $1"
  echo "/sys/fs/cgroup/$2$path"
}

# cap_eff [RUN ARGS...]: the CapEff line of a container's /proc/self/status.
cap_eff() {
  docker run --rm "$@" busybox sh -c 'grep ^CapEff: /proc/self/status' | awk '{print $2}'
}

@test "--memory: the container's memory cgroup holds the limit, seen inside and on the host" {
  run_ok --memory 64m busybox cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  assert_eq "$output" 67108864
  # No swap limit given: Docker's is twice the memory.
  run_ok --memory 64m busybox cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
  assert_eq "$output" 134217728
  docker run -d --name mem --memory 48m busybox sleep 60 >/dev/null
  pid=$(docker inspect -f '{{.State.Pid}}' mem)
  cg=$(host_cgroup "$pid" memory)
  [[ $cg != /sys/fs/cgroup/memory/ ]] || fail "the container is in the root memory cgroup"
  assert_eq "$(cat "$cg/memory.limit_in_bytes")" 50331648
  run docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}' mem
  assert_eq "$output" "50331648 100663296"
  # Without --memory: no limit.
  run_ok busybox cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  ((output > 1 << 50)) || fail "a limit without --memory: $output"
}

@test "--memory: a container allocating past its limit is OOM-killed (137, OOMKilled)" {
  run docker run --name hog --memory 32m --memory-swap 32m busybox sh -c 'tail /dev/zero'
  assert_eq "$status" 137
  run docker inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' hog
  assert_eq "$output" "true 137"
}

@test "--memory-swap: memsw limit; -1 is unlimited; below --memory is refused" {
  run_ok --memory 32m --memory-swap 96m busybox cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
  assert_eq "$output" 100663296
  run_ok --memory 32m --memory-swap -1 busybox cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
  ((output > 1 << 50)) || fail "--memory-swap -1 set a limit: $output"
  run -125 docker run --rm --memory 64m --memory-swap 32m busybox true
  assert_contains "$output" "Minimum memoryswap limit should be larger than memory limit"
  run -125 docker run --rm --memory-swap 64m busybox true
  assert_contains "$output" "You should always set the Memory limit when using Memoryswap limit"
}

@test "--cpus, --cpu-shares, --cpuset-cpus: CFS quota, shares and the allowed CPUs" {
  run_ok --cpus 1.5 busybox sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us'
  assert_eq "$output" $'150000\n100000'
  run_ok --cpu-shares 512 busybox cat /sys/fs/cgroup/cpu/cpu.shares
  assert_eq "$output" 512
  run_ok busybox cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us
  assert_eq "$output" -1
  run_ok --cpuset-cpus 0 busybox sh -c 'cat /sys/fs/cgroup/cpuset/cpuset.cpus; grep ^Cpus_allowed_list: /proc/self/status'
  assert_eq "$output" $'0\nCpus_allowed_list:\t0'
  last=$(($(nproc) - 1))
  run -125 docker run --rm --cpuset-cpus 99 busybox true
  assert_contains "$output" "99"
  run -125 docker run --rm --cpus 99 busybox true
  assert_contains "$output" "Range of CPUs is from 0.01 to $((last + 1)).00"
}

@test "--pids-limit: pids.max set and a fork bomb stopped at the limit" {
  run_ok --pids-limit 20 busybox cat /sys/fs/cgroup/pids/pids.max
  assert_eq "$output" 20
  # A fork bomb in the container: a shell forking sleeps until fork fails. The cgroup stops
  # it at the limit; the container stays controllable.
  docker run -d --name bomb --pids-limit 20 busybox sleep 300 >/dev/null
  pid=$(docker inspect -f '{{.State.Pid}}' bomb)
  cg=$(host_cgroup "$pid" pids)
  assert_eq "$(cat "$cg/pids.max")" 20
  run docker exec bomb sh -c 'while true; do sleep 300 & done'
  [[ $status -ne 0 ]] || fail "the bomb ended well"
  assert_contains "$output" "can't fork: Resource temporarily unavailable"
  # What is left: the sleep of pid 1 and the bomb's sleeps, below the limit.
  n=$(wc -l <"$cg/cgroup.procs")
  ((n < 20 && n > 10)) || fail "$n processes in the container"
  # Three more processes do not fit: the exec's own or one of its forks is refused.
  run docker exec bomb sh -c 'sleep 1 & sleep 1 & wait'
  [[ $status -ne 0 ]] || fail "forks past the limit succeeded"
  [[ $output == *"can't fork"* || $output == *"resource temporarily unavailable"* ]] || fail "$output"
  docker rm -f bomb >/dev/null
  run_ok busybox cat /sys/fs/cgroup/pids/pids.max
  assert_eq "$output" max
}

@test "--ulimit nofile: soft and hard limits inside; Docker's message for a bad one" {
  run_ok --ulimit nofile=1024:2048 busybox sh -c 'ulimit -Sn; ulimit -Hn'
  assert_eq "$output" $'1024\n2048'
  run_ok --ulimit nofile=4096 busybox sh -c 'ulimit -Sn; ulimit -Hn'
  assert_eq "$output" $'4096\n4096'
  run_ok --ulimit nproc=64:128 busybox sh -c 'ulimit -Su; ulimit -Hu'
  assert_eq "$output" $'64\n128'
  run -125 docker run --rm --ulimit nofile=2048:1024 busybox true
  assert_contains "$output" "soft limit"
  run -125 docker run --rm --ulimit nosuch=1 busybox true
  assert_contains "$output" "invalid ulimit type: nosuch"
}

@test "--read-only: the rootfs refuses writes; volumes, --tmpfs and /dev/shm still take them" {
  run docker run --rm --read-only busybox touch /etc/x
  [[ $status -ne 0 ]] || fail "a write to a read-only rootfs succeeded"
  assert_contains "$output" "Read-only file system"
  run_ok --read-only --tmpfs /tmp -v data:/data busybox sh -c 'echo a >/tmp/a && echo b >/data/b && echo c >/dev/shm/c && cat /tmp/a /data/b /dev/shm/c'
  assert_eq "$output" $'a\nb\nc'
  run_ok --read-only busybox sh -c 'grep " / " /proc/mounts'
  assert_contains "$output" " ro,"
}

@test "--tmpfs: a tmpfs with its size and mode, not in the image" {
  run_ok --tmpfs /scratch:size=1m,mode=1770 busybox sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch; dd if=/dev/zero of=/scratch/f bs=1k count=2048 2>&1; ls -l /scratch/f'
  assert_contains "$output" "tmpfs /scratch tmpfs"
  assert_contains "$output" "size=1024k"
  assert_contains "$output" "mode=1770"
  assert_contains "$output" $'\n1770\n'
  assert_contains "$output" "No space left on device"
  assert_contains "$output" " 1048576 "
  # The default mount options: noexec, nosuid, nodev.
  run_ok --tmpfs /scratch busybox sh -c 'grep " /scratch " /proc/mounts'
  assert_contains "$output" "nosuid"
  assert_contains "$output" "nodev"
  assert_contains "$output" "noexec"
}

@test "--cap-add and --cap-drop: CapEff inside, and the capability's effect" {
  assert_eq "$(cap_eff)" 00000000a80425fb
  assert_eq "$(cap_eff --cap-drop ALL)" 0000000000000000
  assert_eq "$(cap_eff --cap-drop NET_RAW)" 00000000a80405fb
  assert_eq "$(cap_eff --cap-add SYS_ADMIN)" 00000000a82425fb
  assert_eq "$(cap_eff --cap-drop ALL --cap-add cap_chown)" 0000000000000001
  run docker run --rm --cap-drop CHOWN busybox chown 1:1 /etc/passwd
  [[ $status -ne 0 ]] || fail "chown without CAP_CHOWN succeeded"
  assert_contains "$output" "Operation not permitted"
  run_ok busybox chown 1:1 /etc/passwd
  run_ok --cap-add SYS_ADMIN --security-opt apparmor=unconfined busybox sh -c 'mkdir /m && mount -t tmpfs t /m && grep -c " /m " /proc/mounts'
  assert_eq "$output" 1
  run -125 docker run --rm --cap-add NOSUCH busybox true
  assert_contains "$output" "unknown capability: \"CAP_NOSUCH\""
}

@test "--privileged: every capability, the host's devices, no seccomp, writable /sys" {
  bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  assert_eq "$(cap_eff --privileged)" "$bnd"
  run_ok --privileged busybox sh -c 'grep ^Seccomp: /proc/self/status; ls /dev/loop0; grep " /sys " /proc/mounts'
  assert_contains "$output" $'Seccomp:\t0'
  assert_contains "$output" /dev/loop0
  assert_contains "$output" "sysfs /sys sysfs rw"
  run docker run --rm busybox ls /dev/loop0
  [[ $status -ne 0 ]] || fail "a host device in an unprivileged container"
  run_ok busybox sh -c 'grep " /sys " /proc/mounts'
  assert_contains "$output" "sysfs /sys sysfs ro"
}

@test "--security-opt no-new-privileges: NoNewPrivs set only when asked" {
  run_ok busybox grep ^NoNewPrivs: /proc/self/status
  assert_eq "$output" $'NoNewPrivs:\t0'
  run_ok --security-opt no-new-privileges busybox grep ^NoNewPrivs: /proc/self/status
  assert_eq "$output" $'NoNewPrivs:\t1'
  run_ok --security-opt no-new-privileges:true busybox grep ^NoNewPrivs: /proc/self/status
  assert_eq "$output" $'NoNewPrivs:\t1'
  run -125 docker run --rm --security-opt no-such-opt busybox true
  assert_contains "$output" "Invalid --security-opt: \"no-such-opt\""
}

@test "seccomp: the default profile filters and blocks; unconfined and a profile file" {
  run_ok busybox grep ^Seccomp: /proc/self/status
  assert_eq "$output" $'Seccomp:\t2'
  # unshare(2) is not allowed without CAP_SYS_ADMIN by the default profile.
  run docker run --rm busybox unshare -u true
  [[ $status -ne 0 ]] || fail "unshare under the default profile succeeded"
  assert_contains "$output" "Operation not permitted"
  run_ok --security-opt seccomp=unconfined busybox grep ^Seccomp: /proc/self/status
  assert_eq "$output" $'Seccomp:\t0'
  # A profile of our own: everything allowed except mkdir(at) with EPERM.
  cat >"$TEST_DIR/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
  run docker run --rm --security-opt seccomp="$TEST_DIR/profile.json" busybox sh -c 'echo ok; mkdir /x'
  [[ $status -ne 0 ]] || fail "mkdir under a profile denying it succeeded"
  assert_contains "$output" ok
  assert_contains "$output" "Operation not permitted"
}

@test "--user, -w, -e and --env-file, --hostname" {
  run_ok --user 1000:1001 busybox sh -c 'grep -E "^(Uid|Gid|Groups):" /proc/self/status'
  assert_eq "${lines[0]}" $'Uid:\t1000\t1000\t1000\t1000'
  assert_eq "${lines[1]}" $'Gid:\t1001\t1001\t1001\t1001'
  # No group of root's is left to a user given by number.
  [[ ! ${lines[2]} =~ [[:space:]]0([[:space:]]|$) ]] || fail "root's group kept: ${lines[2]}"
  run_ok --user 1000 --group-add 5 --group-add 7 busybox grep ^Groups: /proc/self/status
  [[ $output == $'Groups:\t5 7'* ]] || fail "--group-add: $output"

  run_ok --user nobody busybox id -u
  assert_eq "$output" 65534
  run -125 docker run --rm --user nosuchuser busybox true
  assert_contains "$output" "unable to find user nosuchuser: no matching entries in passwd file"
  # A missing working directory is made (root's, 0755), through symlinks inside the rootfs.
  run_ok -w /work/dir busybox sh -c 'pwd; stat -c "%a %u" /work/dir'
  assert_eq "$output" $'/work/dir\n755 0'
  run_ok -w /tmp busybox pwd
  assert_eq "$output" /tmp
  [[ ! -e /work/dir ]] || fail "/work/dir was made on the host"
  printf 'FROM_FILE=one\n# a comment\nSPACED=a b\n' >"$TEST_DIR/env"
  run_ok -e A=1 --env B=2 --env-file "$TEST_DIR/env" busybox sh -c 'echo "$A $B $FROM_FILE [$SPACED]"'
  assert_eq "$output" "1 2 one [a b]"
  run_ok --hostname box.example busybox sh -c 'hostname; cat /etc/hostname; cat /proc/sys/kernel/hostname'
  assert_eq "$output" $'box.example\nbox.example\nbox.example'
}

@test "only stdio reaches the container's process and an exec's: no fd of berthd or its monitor" {
  run_ok busybox sh -c 'ls /proc/$$/fd; true'
  assert_eq "$output" $'0\n1\n2'
  docker run -d --name fds busybox sleep 60 >/dev/null
  run docker exec fds sh -c 'ls /proc/$$/fd; true'
  assert_eq "$output" $'0\n1\n2'
  run docker exec fds ls /proc/1/fd
  assert_eq "$output" $'0\n1\n2'
}

@test "--network none|host: only lo in its own namespace, or the host's namespace" {
  host_net=$(readlink /proc/self/ns/net)
  run_ok --network none busybox sh -c 'readlink /proc/self/ns/net; ls /sys/class/net'
  assert_eq "$output" "$(printf '%s\nlo' "$(sed -n 1p <<<"$output")")"
  [[ $(sed -n 1p <<<"$output") != "$host_net" ]] || fail "--network none shares the host's namespace"
  run_ok busybox ls /sys/class/net
  assert_eq "$output" lo
  run_ok --network host busybox sh -c 'readlink /proc/self/ns/net; ls /sys/class/net | sort'
  assert_eq "$output" "$(printf '%s\n%s' "$host_net" "$(ls /sys/class/net | sort)")"
}

@test "--pid, --ipc and --network: host, private, none and container:NAME" {
  host_pid=$(readlink /proc/self/ns/pid)
  host_ipc=$(readlink /proc/self/ns/ipc)
  run_ok busybox sh -c 'readlink /proc/self/ns/pid; echo $$'
  [[ $(sed -n 1p <<<"$output") != "$host_pid" ]] || fail "a private pid namespace is the host's"
  assert_eq "$(sed -n 2p <<<"$output")" 1
  run_ok --pid host busybox sh -c 'readlink /proc/self/ns/pid; cat /proc/1/comm'
  assert_eq "$output" "$host_pid"$'\n'"$(cat /proc/1/comm)"
  run_ok --ipc host busybox readlink /proc/self/ns/ipc
  assert_eq "$output" "$host_ipc"
  run_ok --ipc private busybox readlink /proc/self/ns/ipc
  [[ $output != "$host_ipc" ]] || fail "--ipc private is the host's"
  # --ipc none: a namespace of its own and no /dev/shm.
  run_ok --ipc none busybox sh -c 'readlink /proc/self/ns/ipc; grep -c " /dev/shm " /proc/mounts || true'
  [[ $(sed -n 1p <<<"$output") != "$host_ipc" ]] || fail "--ipc none is the host's"
  assert_eq "$(sed -n 2p <<<"$output")" 0
  # --ipc container:NAME joins another container's namespace.
  docker run -d --name ipcowner --ipc shareable busybox sleep 60 >/dev/null
  owner=$(docker exec ipcowner readlink /proc/self/ns/ipc)
  run_ok --ipc container:ipcowner busybox readlink /proc/self/ns/ipc
  assert_eq "$output" "$owner"
  # --pid container:NAME sees the other container's processes.
  run_ok --pid container:ipcowner busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "'
  assert_eq "$output" "sleep 60 "
  run_ok --network container:ipcowner busybox readlink /proc/self/ns/net
  assert_eq "$output" "$(docker exec ipcowner readlink /proc/self/ns/net)"
  # Docker's refusals: a donor that did not make its IPC shareable, one that is not running.
  docker run -d --name private busybox sleep 60 >/dev/null
  run -125 docker run --rm --ipc container:private busybox true
  assert_contains "$output" "non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
  docker kill ipcowner >/dev/null
  run -125 docker run --rm --ipc container:ipcowner busybox true
  assert_contains "$output" "cannot join IPC of a non running container: "
  run -125 docker run --rm --pid container:nosuch busybox true
  assert_contains "$output" "No such container: nosuch"
}

@test "--device: the node inside with its permissions; absent without it" {
  [[ -b /dev/loop0 ]] || skip "no /dev/loop0"
  run_ok --device /dev/loop0:/dev/xloop busybox sh -c 'ls -l /dev/xloop | cut -c1; dd if=/dev/xloop of=/dev/null bs=512 count=1 2>&1 | tail -1'
  assert_eq "$(sed -n 1p <<<"$output")" b
  [[ $output != *"Operation not permitted"* ]] || fail "the device is not readable: $output"
  run docker run --rm --device /dev/loop0:/dev/xloop:r busybox sh -c 'echo > /dev/xloop'
  [[ $status -ne 0 ]] || fail "a write to a read-only device succeeded"
  assert_contains "$output" "Operation not permitted"
  # Not given: the cgroup refuses a node made by hand.
  run docker run --rm busybox sh -c 'mknod /tmp/l b 7 0 && dd if=/tmp/l of=/dev/null count=1'
  [[ $status -ne 0 ]] || fail "an unlisted device was readable"
  # At start, as Docker: its CLI takes "no such file or directory" for exit code 127.
  run -127 docker run --rm --device /no/such/dev busybox true
  assert_contains "$output" "error gathering device information while adding custom device \"/no/such/dev\": no such file or directory"
}

@test "--sysctl: namespaced sysctls set inside; others refused with Docker's message" {
  run_ok --sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=123456789 busybox cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax
  assert_eq "$output" $'1\n123456789'
  # The CLI refuses a sysctl outside the namespaces; the daemon does too, with its own words.
  run -125 docker run --rm --sysctl vm.swappiness=10 busybox true
  assert_contains "$output" "sysctl 'vm.swappiness=10' is not allowed"
  code=$(curl -s -o "$TEST_DIR/resp" -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Sysctls": {"vm.swappiness": "10"}}}' http://d/v1.43/containers/create)
  assert_eq "$code" 400
  assert_eq "$(jq -r .message <"$TEST_DIR/resp")" "sysctl \"vm.swappiness\" is not in a separate kernel namespace"
  run -125 docker run --rm --network host --sysctl net.ipv4.ip_forward=1 busybox true
  assert_contains "$output" "not allowed in host network namespace"
}

@test "--shm-size: /dev/shm's size, 64 MiB by default" {
  run_ok busybox sh -c 'grep " /dev/shm " /proc/mounts'
  assert_contains "$output" "size=65536k"
  run_ok --shm-size 16m busybox sh -c 'grep " /dev/shm " /proc/mounts'
  assert_contains "$output" "size=16384k"
}

@test "--init: a reaper as pid 1 runs the command and reaps orphans" {
  run_ok busybox cat /proc/1/comm
  assert_eq "$output" cat
  run_ok --init busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$'
  assert_contains "$(sed -n 1p <<<"$output")" /sbin/docker-init
  [[ $(sed -n 2p <<<"$output") != 1 ]] || fail "the command is pid 1 under --init"
  # An orphan's zombie is reaped by the init.
  docker run -d --name reaper --init busybox sh -c '(sleep 0.2 &) ; sleep 60' >/dev/null
  count='z=0; live=0; for d in /proc/[0-9]*; do
      case $(cat $d/stat 2>/dev/null) in *") Z "*) z=$((z+1)) ;; esac
      [ "$(tr "\0" " " <$d/cmdline 2>/dev/null)" = "sleep 0.2 " ] && live=$((live+1))
    done; echo $z $live'
  for _ in $(seq 100); do
    read -r z live < <(docker exec reaper sh -c "$count")
    [[ $z == 0 && $live == 0 ]] && break
    sleep 0.1
  done
  assert_eq "$live" 0
  assert_eq "$z" 0
  # The exit code passes through the init.
  run docker run --rm --init busybox sh -c 'exit 9'
  assert_eq "$status" 9
}

@test "--stop-signal and --stop-timeout: the signal stop sends, the wait before SIGKILL" {
  docker run -d --name sig --stop-signal USR1 busybox sh -c 'trap "exit 5" USR1; while true; do sleep 0.1; done' >/dev/null
  run docker inspect -f '{{.Config.StopSignal}}' sig
  assert_eq "$output" USR1
  docker stop sig >/dev/null
  run docker inspect -f '{{.State.ExitCode}}' sig
  assert_eq "$output" 5
  # Ignores SIGTERM: stop waits --stop-timeout then kills.
  docker run -d --name stubborn --stop-timeout 1 busybox sh -c 'trap "" TERM; while true; do sleep 0.1; done' >/dev/null
  run docker inspect -f '{{.Config.StopTimeout}}' stubborn
  assert_eq "$output" 1
  docker stop stubborn >/dev/null
  run docker inspect -f '{{.State.ExitCode}} {{.State.Status}}' stubborn
  assert_eq "$output" "137 exited"
  run -125 docker run --rm --stop-signal NOSUCH busybox true
  assert_contains "$output" "NOSUCH"
}

@test "--log-opt max-size and max-file: json-file rotation keeps the newest lines" {
  id=$(docker run -d --log-opt max-size=10k --log-opt max-file=3 busybox sh -c 'i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done')
  run docker wait "$id"
  assert_eq "$output" 0
  log=$(docker inspect -f '{{.LogPath}}' "$id")
  [[ -f $log ]] || fail "no log at $log"
  dir=$(dirname "$log")
  [[ -f $log.1 && -f $log.2 ]] || fail "not rotated: $(ls "$dir")"
  [[ ! -e $log.3 ]] || fail "more than max-file files: $(ls "$dir")"
  for f in "$log" "$log.1" "$log.2"; do
    (($(stat -c %s "$f") <= 10240 + 200)) || fail "$f is $(stat -c %s "$f") bytes"
  done
  run docker logs "$id"
  assert_eq "$(tail -1 <<<"$output")" line-1999
  # What is kept is contiguous: the oldest lines went first.
  first=$(head -1 <<<"$output")
  n=${first#line-}
  assert_eq "$(wc -l <<<"$output")" $((2000 - n))
  run docker logs --tail 2 "$id"
  assert_eq "$output" $'line-1998\nline-1999'
  run -125 docker run --rm --log-opt max-file=0 busybox true
  assert_contains "$output" "max-file cannot be less than 1"
  run -125 docker run --rm --log-opt max-size=nonsense busybox true
  assert_contains "$output" "nonsense"
}
