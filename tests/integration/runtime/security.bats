#!/usr/bin/env bats
# Isolation the container cannot undo: capabilities, seccomp, read-only and masked paths,
# user namespaces, no_new_privs.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

@test "CapEff equals the configured capabilities" {
  # CAP_KILL is bit 5 (0x20), CAP_NET_BIND_SERVICE bit 10 (0x400).
  set_capabilities CAP_NET_BIND_SERVICE CAP_KILL
  set_args sh -c 'grep -E "^Cap(Eff|Prm|Bnd|Inh|Amb):" /proc/self/status'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'CapInh:\t0000000000000420\nCapPrm:\t0000000000000420\nCapEff:\t0000000000000420\nCapBnd:\t0000000000000420\nCapAmb:\t0000000000000420'
}

@test "no capabilities at all: CapEff is zero and a privileged operation fails" {
  set_capabilities
  set_args sh -c 'grep ^CapEff: /proc/self/status; chown 65534 /tmp 2>&1; echo rc=$?'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'CapEff:\t0000000000000000\nchown: /tmp: Operation not permitted\nrc=1'
}

@test "the default capabilities of spec are a small set, not the host's" {
  set_args sh -c 'grep ^CapBnd: /proc/self/status'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  local host
  host=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  [[ $output != *"$host" ]] || fail "container has the host's bounding set $host"
}

@test "a seccomp rule denies a syscall with the configured errno" {
  # EXDEV (18): "Invalid cross-device link", a message mkdir never produces by itself.
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 18}]}'
  set_args sh -c 'mkdir /tmp/x; echo rc=$?; touch /tmp/y && echo touched'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'mkdir: can\'t create directory \'/tmp/x\': Invalid cross-device link\nrc=1\ntouched'
}

@test "a seccomp rule with arguments denies only the matching call" {
  # unshare(CLONE_NEWUSER) matches the masked flag and fails with EXDEV (an errno the kernel
  # never gives unshare); unshare(0) does not match and runs.
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["unshare"], action: "SCMP_ACT_ERRNO", errnoRet: 18,
                    args: [{index: 0, value: 268435456, valueTwo: 268435456,
                            op: "SCMP_CMP_MASKED_EQ"}]}]}'
  set_args sh -c 'unshare -U true 2>&1; echo rc=$?; unshare true; echo rc=$?'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'unshare: unshare(0x10000000): Invalid cross-device link\nrc=1\nrc=0'
}

@test "a seccomp filter loads without noNewPrivileges and without CAP_SYS_ADMIN" {
  # Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN, which the container does not get: the
  # filter has to be loaded before the capabilities are dropped.
  cfg '.process.noNewPrivileges = false'
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 18}]}'
  set_args sh -c 'grep ^NoNewPrivs: /proc/self/status; grep ^Seccomp: /proc/self/status
                  mkdir /tmp/x; echo rc=$?'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'NoNewPrivs:\t0\nSeccomp:\t2\nmkdir: can\'t create directory \'/tmp/x\': Invalid cross-device link\nrc=1'
}

@test "a seccomp rule without errnoRet fails the call with EPERM" {
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["chmod", "fchmodat", "fchmodat2"], action: "SCMP_ACT_ERRNO"}]}'
  set_args sh -c 'touch /tmp/f; chmod 600 /tmp/f; echo rc=$?'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'chmod: /tmp/f: Operation not permitted\nrc=1'
}

@test "a read-only root refuses writes" {
  cfg '.root.readonly = true'
  set_args sh -c 'touch /newfile; echo rc=$?; touch /tmp/x; echo rc=$?; echo ok >/dev/shm/x && cat /dev/shm/x'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  # /tmp is part of the root here; /dev/shm is its own tmpfs and stays writable.
  assert_output $'touch: /newfile: Read-only file system\nrc=1\ntouch: /tmp/x: Read-only file system\nrc=1\nok'
  [[ ! -e $BUNDLE/rootfs/newfile ]] || fail "file written to the rootfs"
}

@test "masked paths read empty and readonly paths refuse writes" {
  # What exists on this kernel: /proc/timer_list and /proc/keys (files), /proc/acpi and
  # /sys/firmware (directories); /proc/kcore and /proc/scsi do not exist here.
  cfg '.maskedPaths += ["/proc/timer_list", "/proc/keys", "/proc/acpi", "/sys/firmware"] |
       .maskedPaths |= unique'
  set_args sh -c 'for f in /proc/timer_list /proc/keys; do echo "$f:$(wc -c <$f)"; done
    for d in /proc/acpi /sys/firmware; do echo "$d:$(ls -A $d | wc -l)"; done
    echo 1 2>/dev/null >/proc/sys/kernel/domainname; echo rc=$?'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'/proc/timer_list:0\n/proc/keys:0\n/proc/acpi:0\n/sys/firmware:0\nrc=1'
  # The host still sees them.
  assert_eq "$(head -c1 /proc/timer_list | wc -c)" 1 "host /proc/timer_list is readable"
}

@test "a user namespace maps container root to an unprivileged host uid" {
  add_namespace user
  cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] |
       .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  # The rootfs belongs to the mapped root, as an image unpacked for this mapping would.
  chown -R -h 100000:100000 "$BUNDLE/rootfs"
  set_args sh -c 'id -u; id -g; cat /proc/self/uid_map; touch /root/f && stat -c %u /root/f; sleep 30'
  rt run --detach --bundle "$BUNDLE" "$CID" </dev/null >"$TEST_DIR/out" 2>&1 ||
    fail "run: $(cat "$TEST_DIR/out")"
  # Wait for the four lines of output: the container is set up and sleeping.
  wait_for 10 '(($(lines_of "$TEST_DIR/out") >= 4))' || fail "container output: $(cat "$TEST_DIR/out")"
  local pid
  pid=$(pid_of "$CID")
  # From the host: the container's root is uid 100000.
  assert_eq "$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/"$pid"/status)" "100000 100000 100000 100000" "host view of Uid"
  assert_eq "$(awk '/^Gid:/ {print $2}' /proc/"$pid"/status)" 100000 "host view of Gid"
  [[ $(readlink /proc/"$pid"/ns/user) != "$(readlink /proc/self/ns/user)" ]] ||
    fail "container shares the host's user namespace"
  wait_for 5 '[[ -e $BUNDLE/rootfs/root/f ]]' || fail "file not created"
  assert_eq "$(stat -c %u "$BUNDLE/rootfs/root/f")" 100000 "host owner of a file the container made"
  rt kill "$CID" KILL
  wait_status "$CID" stopped
  assert_eq "$(tr -s ' ' <"$TEST_DIR/out")" $'0\n0\n 0 100000 65536\n0' "container's view"
}

@test "noNewPrivileges sets NoNewPrivs" {
  cfg '.process.noNewPrivileges = true'
  set_args sh -c 'grep ^NoNewPrivs: /proc/self/status'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'NoNewPrivs:\t1'
}

@test "rlimits are applied" {
  cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 512, soft: 256},
                           {type: "RLIMIT_NPROC", hard: 1000, soft: 1000}]'
  set_args sh -c 'ulimit -n; ulimit -Hn; ulimit -u'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'256\n512\n1000'
}

@test "sysctls are applied in the container's namespaces only" {
  cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.domainname": "berth.test"}'
  add_namespace uts
  local host_fwd
  host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
  set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname'
  run -0 rt run --bundle "$BUNDLE" "$CID" </dev/null
  assert_output $'1\nberth.test'
  assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_fwd" "host ip_forward"
}
