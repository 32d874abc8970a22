#include "runtime/process/init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/console/console.h"
#include "runtime/hooks/hooks.h"
#include "runtime/process/clone.h"
#include "runtime/process/sync.h"
#include "util/file.h"

namespace berth::runtime::process {
namespace {

// Marks every fd from `first` on close-on-exec: close_range(2) (Linux 5.11), else fcntl on
// each fd up to the soft RLIMIT_NOFILE. No allocation.
void CloseOnExecFrom(int first) {
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  struct rlimit rl;
  int max = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1u << 20
                ? static_cast<int>(rl.rlim_cur)
                : 1 << 20;
  for (int fd = first; fd < max; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

int RlimitResource(const std::string& name) {
  static const struct {
    const char* name;
    int resource;
  } kTable[] = {
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (const auto& e : kTable)
    if (name == e.name) return e.resource;
  return -1;
}

Result<void> SetRlimits(const oci::Process& p) {
  for (const auto& rl : p.rlimits) {
    int res = RlimitResource(rl.type);
    if (res < 0) return Error::InvalidArgument("rlimit " + rl.type + ": unknown resource");
    struct rlimit lim = {rl.soft, rl.hard};
    if (::setrlimit(res, &lim) < 0) {
      int err = errno;
      struct rlimit cur = {};
      ::getrlimit(res, &cur);
      std::string msg = "setrlimit " + rl.type + " (soft " + std::to_string(rl.soft) + ", hard " +
                        std::to_string(rl.hard) + ")";
      if (err == EPERM && rl.hard > cur.rlim_max)
        msg += ": above this host's hard limit " + std::to_string(cur.rlim_max) +
               " and the runtime lacks CAP_SYS_RESOURCE";
      return Error::FromErrno(err, msg);
    }
  }
  return {};
}

Result<void> WriteSysctls(const oci::Spec& spec) {
  if (!spec.linux) return {};
  for (const auto& [key, value] : spec.linux->sysctl) {
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
      return Error::InvalidArgument("sysctl " + key + ": invalid name");
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    BERTH_TRY_CTX(WriteFile(path, value), "sysctl " + key);
  }
  return {};
}

Result<void> WriteTimeOffsets(const oci::Spec& spec) {
  if (::unshare(CLONE_NEWTIME) < 0) return Error::FromErrno(errno, "unshare time namespace");
  std::string offsets;
  if (spec.linux) {
    for (const auto& [clock, off] : spec.linux->time_offsets)
      offsets += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  }
  if (!offsets.empty())
    BERTH_TRY_CTX(WriteFile("/proc/self/timens_offsets", offsets), "time offsets");
  Fd ns = BERTH_TRY(Fd::Open("/proc/self/ns/time_for_children", O_RDONLY));
  if (::setns(ns.get(), CLONE_NEWTIME) < 0) return Error::FromErrno(errno, "enter time namespace");
  return {};
}

Result<void> SwitchUser(const InitConfig& c) {
  const oci::User& u = c.process->user;
  if (c.caps) BERTH_TRY_CTX(caps::DropBounding(*c.caps), "drop bounding capabilities");
  if (::setgroups(u.additional_gids.size(),
                  reinterpret_cast<const gid_t*>(u.additional_gids.data())) < 0 &&
      !(errno == EPERM && u.additional_gids.empty()))
    return Error::FromErrno(errno, "setgroups");
  if (::setresgid(u.gid, u.gid, u.gid) < 0)
    return Error::FromErrno(errno, "setresgid " + std::to_string(u.gid));
  if (c.caps && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return Error::FromErrno(errno, "keep capabilities");
  if (::setresuid(u.uid, u.uid, u.uid) < 0)
    return Error::FromErrno(errno, "setresuid " + std::to_string(u.uid));
  if (c.caps) BERTH_TRY_CTX(caps::Apply(*c.caps), "apply capabilities");
  if (u.umask) ::umask(*u.umask);
  return {};
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Everything up to kReady; errors go to the parent.
Result<std::string> Setup(const InitConfig& c) {
  const oci::Spec& spec = *c.spec;
  const oci::Process& proc = *c.process;

  BERTH_TRY(SyncExpect(c.sync_fd, SyncType::kContinue));
  for (const auto& [fd, type] : c.join)
    if (::setns(fd, type) < 0) return Error::FromErrno(errno, "join namespace");
  if (c.unshare_flags & CLONE_NEWUSER) {
    // Joined namespaces first, then the new user namespace, so it owns only what comes next.
    if (::unshare(CLONE_NEWUSER) < 0) return Error::FromErrno(errno, "unshare user namespace");
    BERTH_TRY(SyncSend(c.sync_fd, SyncType::kMaps));
    BERTH_TRY(SyncExpect(c.sync_fd, SyncType::kContinue));
  }
  if (int rest = c.unshare_flags & ~CLONE_NEWUSER; rest) {
    if (::unshare(rest) < 0) return Error::FromErrno(errno, "unshare namespaces");
  }
  if (c.fork_after_unshare) {
    Cloned child = BERTH_TRY(Clone3(CLONE_PARENT, false));
    if (child.pid > 0) {
      (void)SyncSend(c.sync_fd, SyncType::kPid, std::to_string(child.pid));
      ::_exit(0);
    }
    BERTH_TRY(SyncExpect(c.sync_fd, SyncType::kContinue));
  }
  if (c.new_user_ns) {
    if (::setresgid(0, 0, 0) < 0) return Error::FromErrno(errno, "become root in user namespace");
    if (::setresuid(0, 0, 0) < 0) return Error::FromErrno(errno, "become root in user namespace");
  }
  if (c.new_time_ns) BERTH_TRY(WriteTimeOffsets(spec));

  if (!c.is_exec) {
    if (!spec.hostname.empty()) {
      if (!c.private_uts_ns)
        return Error::InvalidArgument("unable to set hostname without a private UTS namespace");
      if (::sethostname(spec.hostname.data(), spec.hostname.size()) < 0)
        return Error::FromErrno(errno, "sethostname " + spec.hostname);
    }
    if (!spec.domainname.empty()) {
      if (!c.private_uts_ns)
        return Error::InvalidArgument("unable to set domainname without a private UTS namespace");
      if (::setdomainname(spec.domainname.data(), spec.domainname.size()) < 0)
        return Error::FromErrno(errno, "setdomainname " + spec.domainname);
    }
    if (!c.no_new_keyring) {
      // A session keyring of the container's own, so it cannot read the host's keys.
      ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr);
    }
    BERTH_TRY(rootfs::Prepare(spec, c.rootfs));
    BERTH_TRY(SyncSend(c.sync_fd, SyncType::kRunHooks));
    SyncMessage m = BERTH_TRY(SyncExpect(c.sync_fd, SyncType::kContinue));
    if (spec.hooks)
      BERTH_TRY(hooks::Run("createContainer", spec.hooks->create_container, m.payload));
    BERTH_TRY(rootfs::Enter(c.rootfs));
    BERTH_TRY(WriteSysctls(spec));
  }
  if (proc.terminal) {
    if (c.console_fd < 0)
      return Error::InvalidArgument("terminal requested without a console socket");
    console::Pty pty = BERTH_TRY_CTX(console::OpenPty(), "open console");
    if (!c.is_exec) BERTH_TRY_CTX(rootfs::BindConsole(pty.slave_path), "mount /dev/console");
    BERTH_TRY(console::SendFd(c.console_fd, pty.master.get(), pty.slave_path));
    pty.master.Reset();
    ::close(c.console_fd);
    BERTH_TRY(
        console::AttachSlave(pty.slave_path, proc.console_size ? &*proc.console_size : nullptr));
  }
  if (!c.is_exec) BERTH_TRY(rootfs::Finish(spec, c.rootfs));
  if (proc.oom_score_adj)
    BERTH_TRY_CTX(WriteFile("/proc/self/oom_score_adj", std::to_string(*proc.oom_score_adj)),
                  "set oom_score_adj");
  BERTH_TRY(SetRlimits(proc));
  if (proc.args.empty()) return Error::InvalidArgument("process.args must not be empty");
  std::string cwd = proc.cwd.empty() ? "/" : proc.cwd;
  if (::chdir(cwd.c_str()) < 0)
    return Error::FromErrno(errno, "chdir to cwd (\"" + cwd + "\") set in config.json failed");
  std::string exe = BERTH_TRY(LookPath(proc.args[0], proc.env));
  if (c.seccomp && !proc.no_new_privileges) {
    // Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN: load the filter while we still have
    // it, before the capabilities are dropped. It then also covers the rest of this sequence.
    BERTH_TRY_CTX(seccomp::Load(*c.seccomp), "load seccomp filter");
  }
  BERTH_TRY(SwitchUser(c));
  return exe;
}

[[noreturn]] void Fail(const InitConfig& c, const Error& e, bool parent_listening) {
  if (parent_listening) {
    std::string payload = std::to_string(static_cast<int>(e.code())) + " " +
                          std::to_string(e.sys_errno()) + " " + e.message();
    (void)SyncSend(c.sync_fd, SyncType::kError, payload);
  } else {
    std::string line = "berth-runtime: " + e.message() + "\n";
    (void)!::write(2, line.data(), line.size());
  }
  ::_exit(e.sys_errno() == ENOENT ? 127 : e.sys_errno() == EACCES ? 126 : 1);
}

}  // namespace

Result<std::string> LookPath(const std::string& file, const std::vector<std::string>& env) {
  auto executable = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (file.find('/') != std::string::npos) {
    struct stat st;
    if (::stat(file.c_str(), &st) < 0)
      return Error::FromErrno(errno, "exec: \"" + file + "\": stat " + file);
    if (S_ISDIR(st.st_mode))
      return Error(ErrorCode::kPermissionDenied, "exec: \"" + file + "\": is a directory", EACCES);
    if (::access(file.c_str(), X_OK) < 0) return Error::FromErrno(errno, "exec: \"" + file + "\"");
    return file;
  }
  std::string path = kDefaultPath;
  for (const auto& e : env)
    if (e.compare(0, 5, "PATH=") == 0) path = e.substr(5);
  for (const auto& dir : Split(path, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + file;
    if (executable(candidate)) return candidate;
  }
  return Error(ErrorCode::kNotFound, "exec: \"" + file + "\": executable file not found in $PATH",
               ENOENT);
}

void RunInit(const InitConfig& c) {
  // Die with the runtime while it sets us up; the flag is cleared before the runtime may exit.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  auto exe = Setup(c);
  if (!exe) Fail(c, exe.error(), true);
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (auto r = SyncSend(c.sync_fd, SyncType::kReady); !r) ::_exit(1);

  if (!c.is_exec) {
    // Wait for `start`: it writes one byte into exec.fifo.
    char b;
    ssize_t n;
    do {
      n = ::read(c.fifo_fd, &b, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(1);
    ::close(c.fifo_fd);
    if (c.spec->hooks && !c.spec->hooks->start_container.empty()) {
      if (auto r = hooks::Run("startContainer", c.spec->hooks->start_container, "{}"); !r)
        Fail(c, r.error(), false);
    }
  } else {
    // The runtime says when the process may run (it has joined the cgroup by then).
    if (auto r = SyncExpect(c.sync_fd, SyncType::kContinue); !r) ::_exit(1);
  }
  if (c.process->no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    Fail(c, Error::FromErrno(errno, "set no_new_privs"), false);
  if (c.seccomp && c.process->no_new_privileges) {
    auto r = seccomp::Load(*c.seccomp);
    if (!r) Fail(c, r.error().Wrap("load seccomp filter"), false);
  }
  // Nothing the runtime's caller held reaches the process but stdio and the preserved fds
  // (runc's CloseExecFrom): a monitor's log, its parent's pipes stay out of the container.
  CloseOnExecFrom(3 + c.preserve_fds);
  for (int fd = 3; fd < 3 + c.preserve_fds; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  auto argv = CStrings(c.process->args);
  auto envp = CStrings(c.process->env);
  ::execve(exe->c_str(), argv.data(), envp.data());
  Fail(c, Error::FromErrno(errno, "exec " + *exe), false);
}

}  // namespace berth::runtime::process
