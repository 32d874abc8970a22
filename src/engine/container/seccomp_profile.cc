// The default seccomp profile (an allowlist: everything else fails with EPERM) and profiles in
// Docker's format (--security-opt seccomp=FILE: the CLI sends the file's contents).
//
// The allowlist is Berth's own, in the spirit of Docker's: the calls ordinary programs make are
// allowed; the ones that reach the kernel's global state (keys, modules, kexec, clock, swap,
// reboot, mount, namespaces, bpf, perf, ptrace) only with the capability the kernel would ask
// for anyway, so that a capability added with --cap-add is usable. clone may not create
// namespaces without CAP_SYS_ADMIN; clone3, whose flags sit in memory a filter cannot read,
// then fails with ENOSYS so that libc falls back to clone.

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>

#include "engine/container/config_internal.h"
#include "engine/container/spec_internal.h"

namespace berth::engine::internal {
namespace {

constexpr const char* kAllowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue",
    "futex_time64",
    "futex_wait",
    "futex_waitv",
    "futex_wake",
    "futimesat",
    "get_mempolicy",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack",
    "mbind",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_getfd",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_mempolicy",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socket",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
#if defined(__x86_64__) || defined(__i386__)
    "arch_prctl",
    "modify_ldt",
#endif
#if defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "sync_file_range2",
    "breakpoint",
    "cacheflush",
    "set_tls",
#endif
};

// Calls allowed only with a capability (the kernel checks it again).
struct CapCalls {
  const char* cap;
  std::vector<std::string> names;
};

const std::vector<CapCalls>& CapGated() {
  static const std::vector<CapCalls> k = {
      {"CAP_SYS_ADMIN",
       {"bpf",           "clone",       "clone3",        "fanotify_init",   "fsconfig",
        "fsmount",       "fsopen",      "fspick",        "lookup_dcookie",  "mount",
        "mount_setattr", "move_mount",  "open_tree",     "perf_event_open", "pivot_root",
        "quotactl",      "quotactl_fd", "setdomainname", "sethostname",     "setns",
        "swapoff",       "swapon",      "syslog",        "umount",          "umount2",
        "unshare"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_PTRACE", {"kcmp", "process_vm_readv", "process_vm_writev", "ptrace"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_MODULE", {"delete_module", "finit_module", "init_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_RAWIO", {"ioperm", "iopl"}},
      {"CAP_SYS_TIME", {"clock_settime", "clock_settime64", "settimeofday", "stime"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
      {"CAP_SYS_NICE", {"set_mempolicy_home_node", "migrate_pages", "move_pages"}},
  };
  return k;
}

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
// CLONE_NEWNET: clone is allowed when (flags & this) == 0.
constexpr uint64_t kCloneNsFlags = 0x7E020000;
constexpr uint32_t kEperm = 1, kEnosys = 38;

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The seccomp architecture of this build, and the ones its processes may also use.
std::vector<std::string> NativeArches() {
#if defined(__x86_64__)
  return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#elif defined(__riscv)
  return {"SCMP_ARCH_RISCV64"};
#elif defined(__s390x__)
  return {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"};
#elif defined(__powerpc64__)
  return {"SCMP_ARCH_PPC64LE"};
#else
  return {};
#endif
}

// (major, minor) of the running kernel.
std::pair<int, int> KernelVersion() {
  utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) == 0) std::sscanf(u.release, "%d.%d", &major, &minor);
  return {major, minor};
}

Result<std::pair<int, int>> ParseKernel(const std::string& v) {
  int major = 0, minor = 0;
  char extra = 0;
  if (std::sscanf(v.c_str(), "%d.%d%c", &major, &minor, &extra) != 2)
    return Error::InvalidArgument("invalid kernel version: " + v);
  return std::pair(major, minor);
}

}  // namespace

oci::Seccomp DefaultSeccomp(const std::vector<std::string>& caps) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = kEperm;
  s.architectures = NativeArches();
  oci::SeccompSyscall allow;
  allow.action = "SCMP_ACT_ALLOW";
  allow.names.assign(std::begin(kAllowed), std::end(kAllowed));
  bool admin = Has(caps, "CAP_SYS_ADMIN");
  for (const auto& g : CapGated())
    if (Has(caps, g.cap))
      for (const auto& n : g.names)
        if (!Has(allow.names, n)) allow.names.push_back(n);
  s.syscalls.push_back(std::move(allow));
  // personality(2): only the harmless personas (PER_LINUX, PER_LINUX32, UNAME26 variants, and
  // the query 0xffffffff).
  for (uint64_t persona : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull}) {
    oci::SeccompSyscall p;
    p.names = {"personality"};
    p.action = "SCMP_ACT_ALLOW";
    p.args.push_back({0, persona, 0, "SCMP_CMP_EQ"});
    s.syscalls.push_back(std::move(p));
  }
  if (!admin) {
    oci::SeccompSyscall clone;
    clone.names = {"clone"};
    clone.action = "SCMP_ACT_ALLOW";
#if defined(__s390x__)
    uint32_t flags_arg = 1;  // s390 swaps clone's first two arguments
#else
    uint32_t flags_arg = 0;
#endif
    clone.args.push_back({flags_arg, kCloneNsFlags, 0, "SCMP_CMP_MASKED_EQ"});
    s.syscalls.push_back(std::move(clone));
    oci::SeccompSyscall clone3;
    clone3.names = {"clone3"};
    clone3.action = "SCMP_ACT_ERRNO";
    clone3.errno_ret = kEnosys;
    s.syscalls.push_back(std::move(clone3));
  }
  return s;
}

Result<oci::Seccomp> ParseDockerSeccomp(std::string_view json,
                                        const std::vector<std::string>& caps) {
  auto wrap = [](Error e) { return std::move(e).Wrap("Decoding seccomp profile failed"); };
  auto j = ParseJson(json, "seccomp profile");
  if (!j) return wrap(std::move(j).error());
  auto fr = Fields::Of(*j, "seccomp.Seccomp");
  if (!fr) return wrap(std::move(fr).error());
  const Fields& f = *fr;
  auto run = [&]() -> Result<oci::Seccomp> {
    oci::Seccomp s;
    s.default_action = BERTH_TRY(f.String("defaultAction"));
    if (s.default_action.empty())
      return Error::InvalidArgument("seccomp profile: defaultAction must be set");
    if (auto e = BERTH_TRY(f.OptInt("defaultErrnoRet")))
      s.default_errno_ret = static_cast<uint32_t>(*e);
    s.flags = BERTH_TRY(f.Strings("flags"));
    s.listener_path = BERTH_TRY(f.String("listenerPath"));
    s.listener_metadata = BERTH_TRY(f.String("listenerMetadata"));
    std::vector<std::string> native = NativeArches();
    std::string arch = native.empty() ? "" : native[0];
    s.architectures = BERTH_TRY(f.Strings("architectures"));
    if (const Json* map = BERTH_TRY(f.Array("archMap"))) {
      if (!s.architectures.empty())
        return Error::InvalidArgument("use either 'architectures' or 'archMap'");
      for (const auto& a : *map) {
        Fields af = BERTH_TRY(Fields::Of(a, "seccomp.Architecture"));
        if (BERTH_TRY(af.String("architecture")) != arch) continue;
        s.architectures.push_back(arch);
        for (auto& sub : BERTH_TRY(af.Strings("subArchitectures")))
          s.architectures.push_back(std::move(sub));
      }
    }
    auto kernel = KernelVersion();
    const Json* calls = BERTH_TRY(f.Array("syscalls"));
    for (const Json& c : calls ? *calls : Json::array()) {
      Fields cf = BERTH_TRY(Fields::Of(c, "seccomp.Syscall"));
      oci::SeccompSyscall sc;
      std::string name = BERTH_TRY(cf.String("name"));
      sc.names = BERTH_TRY(cf.Strings("names"));
      if (!name.empty() && !sc.names.empty())
        return Error::InvalidArgument("use either 'name' or 'names'");
      if (!name.empty()) sc.names.push_back(name);
      sc.action = BERTH_TRY(cf.String("action"));
      if (auto e = BERTH_TRY(cf.OptInt("errnoRet"))) sc.errno_ret = static_cast<uint32_t>(*e);
      // includes: every cap and one of the arches present, kernel at least minKernel;
      // excludes: none of the caps or arches, kernel below minKernel.
      bool keep = true;
      for (std::string_view which : {"includes", "excludes"}) {
        const Json* filter = BERTH_TRY(cf.Object(which));
        if (!filter) continue;
        Fields ff = BERTH_TRY(Fields::Of(*filter, "seccomp.Filter"));
        bool inc = which == "includes";
        auto arches = BERTH_TRY(ff.Strings("arches"));
        auto fcaps = BERTH_TRY(ff.Strings("caps"));
        std::string min_kernel = BERTH_TRY(ff.String("minKernel"));
        if (!arches.empty() && Has(arches, arch) != inc) keep = false;
        for (const auto& cap : fcaps)
          if (Has(caps, cap) != inc) keep = false;
        if (!min_kernel.empty()) {
          auto want = BERTH_TRY(ParseKernel(min_kernel));
          if ((kernel >= want) != inc) keep = false;
        }
      }
      if (!keep) continue;
      if (const Json* args = BERTH_TRY(cf.Array("args"))) {
        for (const auto& a : *args) {
          Fields argf = BERTH_TRY(Fields::Of(a, "seccomp.Arg"));
          oci::SeccompArg arg;
          arg.index = static_cast<uint32_t>(BERTH_TRY(argf.Int("index", "uint")));
          auto u64 = [&](const char* key) -> Result<uint64_t> {
            auto it = a.find(key);
            if (it == a.end() || it->is_null()) return uint64_t{0};
            if (it->is_number_unsigned()) return it->get<uint64_t>();
            if (it->is_number_integer() && it->get<int64_t>() >= 0)
              return static_cast<uint64_t>(it->get<int64_t>());
            return argf.TypeError(key, *it, "uint64");
          };
          arg.value = BERTH_TRY(u64("value"));
          arg.value_two = BERTH_TRY(u64("valueTwo"));
          arg.op = BERTH_TRY(argf.String("op"));
          sc.args.push_back(std::move(arg));
        }
      }
      s.syscalls.push_back(std::move(sc));
    }
    return s;
  };
  auto r = run();
  if (!r) return wrap(std::move(r).error());
  return r;
}

}  // namespace berth::engine::internal
