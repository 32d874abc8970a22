#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/container/runtime.h"
#include "runtime/container/runtime_internal.h"
#include "runtime/hooks/hooks.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::runtime {
namespace {

// A pidfd of the container's init, only if the pid still names the same process.
Result<Fd> OpenInit(const container::ContainerRecord& rec) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, rec.pid, 0));
  if (fd < 0) return Error::FromErrno(errno, "container not running");
  Fd pidfd(fd);
  if (container::ProcessStartTime(rec.pid) != rec.start_time)
    return Error::FailedPrecondition("container not running");
  return pidfd;
}

}  // namespace

Result<void> Runtime::Kill(const std::string& id, int signal, bool all) {
  ContainerInfo info = BERTH_TRY(Load(id));
  if (info.status == container::Status::kStopped && !all)
    return Error::FailedPrecondition("container not running");
  if (all) {
    auto cg = BERTH_TRY(Cgroup(info.record));
    auto pids = BERTH_TRY(cg->Pids());
    for (pid_t p : pids) ::kill(p, signal);
    if (info.status == container::Status::kPaused && signal == SIGKILL) (void)cg->Thaw();
    return {};
  }
  Fd pidfd = BERTH_TRY(OpenInit(info.record));
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) < 0)
    return Error::FromErrno(errno, "kill container " + id);
  return {};
}

Result<void> Runtime::Delete(const std::string& id, bool force) {
  auto loaded = Load(id);
  if (!loaded) {
    // A half-created directory without state.json is removed too.
    std::string dir = container::StateDir(options_.root, id);
    if (loaded.error().IsNotFound() && container::ValidateId(id) && PathExists(dir) &&
        !PathExists(JoinPath(dir, "state.json"))) {
      return RemoveAll(dir);
    }
    if (loaded.error().IsNotFound() && force) return {};
    return std::move(loaded).error();
  }
  ContainerInfo info = std::move(loaded).value();
  auto cg = BERTH_TRY(Cgroup(info.record));
  if (info.status != container::Status::kStopped) {
    if (!force)
      return Error::FailedPrecondition("cannot delete container " + id + " that is not stopped: " +
                                       std::string(container::StatusName(info.status)));
    auto pidfd = OpenInit(info.record);
    if (auto pids = cg->Pids(); pids)
      for (pid_t p : *pids) ::kill(p, SIGKILL);
    if (pidfd) ::syscall(SYS_pidfd_send_signal, pidfd->get(), SIGKILL, nullptr, 0);
    if (info.status == container::Status::kPaused) (void)cg->Thaw();
    if (pidfd && !WaitPidfd(pidfd->get(), 10000))
      return Error::Unavailable("delete container " + id + ": init did not exit after SIGKILL");
  }
  auto spec = SavedSpec(id);
  if (spec && spec->hooks && !spec->hooks->poststop.empty()) {
    info.status = container::Status::kStopped;
    std::string state = container::StateJson(info.record, info.status, false);
    for (const auto& e : hooks::RunAll("poststop", spec->hooks->poststop, state))
      log::Get("runtime").Warn({{"id", id}}, "{}", e.message());
  }
  // Processes the init left behind (without a pid namespace they outlive it).
  if (auto pids = cg->Pids(); pids && !pids->empty()) {
    for (pid_t p : *pids) ::kill(p, SIGKILL);
    for (int i = 0; i < 100; ++i) {
      auto left = cg->Pids();
      if (!left || left->empty()) break;
      ::usleep(10000);
    }
  }
  BERTH_TRY_CTX(cg->Destroy(), "delete container " + id);
  return RemoveAll(container::StateDir(options_.root, id));
}

}  // namespace berth::runtime
