#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "runtime/console/console.h"
#include "runtime/container/runtime.h"
#include "runtime/container/runtime_internal.h"
#include "runtime/namespaces/namespaces.h"
#include "runtime/process/clone.h"
#include "runtime/process/init.h"
#include "runtime/process/sync.h"
#include "util/file.h"
#include "util/scope_exit.h"

namespace berth::runtime {
namespace {

// The namespaces of pid that differ from the caller's, user namespace first.
Result<std::vector<std::pair<Fd, int>>> NamespacesOf(pid_t pid) {
  static const char* kTypes[] = {"user", "mount", "pid", "network", "ipc", "uts", "cgroup", "time"};
  std::vector<std::pair<Fd, int>> out;
  for (const char* type : kTypes) {
    std::string name(namespaces::ProcName(type));
    std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + name;
    struct stat a, b;
    if (::stat(theirs.c_str(), &a) < 0) {
      if (errno == ENOENT) continue;
      return Error::FromErrno(errno, "stat " + theirs);
    }
    if (::stat(("/proc/self/ns/" + name).c_str(), &b) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev)
      continue;
    Fd fd = BERTH_TRY(Fd::Open(theirs, O_RDONLY));
    out.emplace_back(std::move(fd), namespaces::CloneFlag(type));
  }
  return out;
}

}  // namespace

Result<Created> Runtime::Exec(const ExecOptions& o) {
  ContainerInfo info = BERTH_TRY(Load(o.id));
  if (info.status == container::Status::kStopped)
    return Error::FailedPrecondition("cannot exec in a stopped container");
  if (info.status == container::Status::kPaused && !o.ignore_paused)
    return Error::FailedPrecondition(
        "cannot exec in a paused container (use --ignore-paused to override)");
  oci::Spec spec = BERTH_TRY(SavedSpec(o.id));
  BERTH_TRY(CheckSecurityModules(o.process));
  if (o.process.args.empty()) return Error::InvalidArgument("exec: process.args must not be empty");

  process::InitConfig init;
  init.spec = &spec;
  init.process = &o.process;
  init.is_exec = true;
  if (o.process.capabilities) init.caps = BERTH_TRY(caps::Parse(*o.process.capabilities));
  if (spec.linux && spec.linux->seccomp)
    init.seccomp =
        BERTH_TRY_CTX(seccomp::CompileCached(*spec.linux->seccomp, SeccompCacheDir()), "seccomp");
  auto joins = BERTH_TRY(NamespacesOf(info.record.pid));
  for (const auto& [fd, type] : joins) init.join.emplace_back(fd.get(), type);
  init.fork_after_unshare = true;
  init.preserve_fds = o.preserve_fds;

  ConsoleEnds console = BERTH_TRY(OpenConsole(o.process.terminal, o.console_socket, o.own_console));
  Fd& console_socket = console.socket;
  Fd& console_peer = console.peer;
  init.console_fd = console_socket.get();
  auto cg = BERTH_TRY(Cgroup(info.record));
  process::SyncPair sync = BERTH_TRY(process::SyncPair::Make());
  init.sync_fd = sync.child.get();

  process::Cloned child = BERTH_TRY(process::Clone3(0, false));
  if (child.pid == 0) {
    sync.parent.Reset();
    console_peer.Reset();
    process::RunInit(init);
  }
  pid_t intermediate = child.pid;
  pid_t pid = 0;
  auto undo = ScopeExit([&] {
    for (pid_t p : {intermediate, pid}) {
      if (p > 0) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
      }
    }
  });
  sync.child.Reset();
  console_socket.Reset();
  int sfd = sync.parent.get();
  BERTH_TRY_CTX(cg->AddProcess(intermediate), "join cgroup " + info.record.cgroup_path);
  BERTH_TRY(process::SyncSend(sfd, process::SyncType::kContinue));
  process::SyncMessage m = BERTH_TRY(process::SyncExpect(sfd, process::SyncType::kPid));
  pid = static_cast<pid_t>(std::strtol(m.payload.c_str(), nullptr, 10));
  // The intermediate exits now; it is reaped at the end, so that its exit (the teardown of a
  // copy of the caller's address space: ~3 ms here) overlaps the exec process's own setup.
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return Error::FromErrno(errno, "pidfd_open");
  Created created;
  created.pid = pid;
  created.pidfd = Fd(fd);
  BERTH_TRY(process::SyncSend(sfd, process::SyncType::kContinue));
  BERTH_TRY(process::SyncExpect(sfd, process::SyncType::kReady));
  if (!o.pid_file.empty())
    BERTH_TRY_CTX(WriteFileAtomic(o.pid_file, std::to_string(pid)), "write pid file");
  if (console_peer) created.console = BERTH_TRY(console::RecvFd(console_peer.get()));
  BERTH_TRY(process::SyncSend(sfd, process::SyncType::kContinue));
  undo.Cancel();
  ::waitpid(intermediate, nullptr, 0);
  return created;
}

}  // namespace berth::runtime
