// pause, resume, ps, events --stats, update: the verbs that act on the container's cgroup.

#include "runtime/container/runtime.h"

namespace berth::runtime {

Result<void> Runtime::Pause(const std::string& id) {
  ContainerInfo info = BERTH_TRY(Load(id));
  if (info.status != container::Status::kRunning && info.status != container::Status::kCreated)
    return Error::FailedPrecondition("container not running");
  auto cg = BERTH_TRY(Cgroup(info.record));
  return cg->Freeze();
}

Result<void> Runtime::Resume(const std::string& id) {
  ContainerInfo info = BERTH_TRY(Load(id));
  if (info.status != container::Status::kPaused)
    return Error::FailedPrecondition("container not paused");
  auto cg = BERTH_TRY(Cgroup(info.record));
  return cg->Thaw();
}

Result<std::vector<pid_t>> Runtime::Pids(const std::string& id) {
  ContainerInfo info = BERTH_TRY(Load(id));
  auto cg = BERTH_TRY(Cgroup(info.record));
  return cg->Pids();
}

Result<cgroups::Stats> Runtime::Stats(const std::string& id) {
  ContainerInfo info = BERTH_TRY(Load(id));
  if (info.status == container::Status::kStopped)
    return Error::FailedPrecondition("container not running");
  auto cg = BERTH_TRY(Cgroup(info.record));
  return cg->GetStats();
}

Result<cgroups::Stats> Runtime::FinalStats(const std::string& id) {
  ContainerInfo info = BERTH_TRY(Load(id));
  auto cg = BERTH_TRY(Cgroup(info.record));
  return cg->GetStats();
}

Result<void> Runtime::Update(const std::string& id, const oci::Resources& resources) {
  ContainerInfo info = BERTH_TRY(Load(id));
  if (info.status == container::Status::kStopped)
    return Error::FailedPrecondition("container not running");
  auto cg = BERTH_TRY(Cgroup(info.record));
  return cg->Apply(resources);
}

}  // namespace berth::runtime
