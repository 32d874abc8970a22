#include "runtime/cgroups/v2/v2_manager.h"

#include <algorithm>

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/v2/devices_ebpf.h"
#include "util/file.h"

namespace berth::runtime::cgroups::v2 {

namespace in = internal;

V2Manager::V2Manager(std::string mount, const std::string& path,
                     const std::map<std::string, std::string>* own,
                     std::vector<std::string> available, bool enable_all_on_create)
    : mount_(std::move(mount)),
      rel_(in::PathInHierarchy(path, own, "")),
      dir_(JoinPath(mount_, rel_)),
      available_(std::move(available)),
      enable_all_on_create_(enable_all_on_create) {}

bool V2Manager::Available(const std::string& controller) const {
  return std::find(available_.begin(), available_.end(), controller) != available_.end();
}

Result<void> V2Manager::EnableControllers(const std::vector<std::string>& controllers) {
  if (controllers.empty()) return {};
  for (const auto& c : controllers) {
    if (!Available(c))
      return Error::FailedPrecondition("the " + c +
                                       " cgroup controller is not available on this host's "
                                       "cgroup v2 hierarchy " +
                                       mount_);
  }
  // Each level can pass down only what it has itself (its cgroup.controllers); the root has
  // them all. One write per level with every "+name".
  std::string level = mount_;
  std::vector<std::string> parts = Split(rel_, '/', true);
  parts.pop_back();  // the cgroup's own subtree_control stays empty: it holds the processes
  for (size_t i = 0;; ++i) {
    std::string offered =
        level == mount_ ? "" : BERTH_TRY(in::ReadFile(level, "cgroup.controllers"));
    std::vector<std::string> have = Split(offered, ' ', true);
    std::string line;
    for (const auto& c : controllers) {
      if (level != mount_ && std::find(have.begin(), have.end(), c) == have.end()) continue;
      if (!line.empty()) line += ' ';
      line += "+" + c;
    }
    if (!line.empty()) {
      auto r = in::WriteFile(level, "cgroup.subtree_control", line);
      if (!r) {
        // EBUSY: the level holds processes itself ("no internal processes", cgroup-v2.rst).
        return std::move(r).error().Wrap("enable cgroup controllers");
      }
    }
    if (i >= parts.size()) break;
    level = JoinPath(level, parts[i]);
  }
  return {};
}

Result<void> V2Manager::Create() {
  BERTH_TRY_CTX(in::MakeDir(dir_), "create cgroup");
  if (enable_all_on_create_) {
    // Controllers an ancestor cannot pass down (a delegated subtree) are skipped, not errors.
    BERTH_TRY_CTX(EnableControllers(available_), "create cgroup " + dir_);
  }
  return {};
}

Result<void> V2Manager::AddProcess(pid_t pid) {
  std::string p = std::to_string(pid);
  auto r = in::WriteFile(dir_, "cgroup.procs", p);
  if (!r) return std::move(r).error().Wrap("add process " + p + " to cgroup");
  return {};
}

Result<void> V2Manager::Apply(const oci::Resources& r) {
  BERTH_TRY(EnableControllers(NeededControllers(r)));
  if (r.memory) BERTH_TRY(ApplyMemory(*r.memory));
  if (r.cpu) BERTH_TRY(ApplyCpu(*r.cpu));
  if (r.pids) {
    std::string v = r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max";
    BERTH_TRY(in::WriteFile(dir_, "pids.max", v));
  }
  if (r.block_io) BERTH_TRY(ApplyIo(*r.block_io));
  if (!r.hugepage_limits.empty()) BERTH_TRY(ApplyHugetlb(r.hugepage_limits));
  if (!r.devices.empty()) BERTH_TRY_CTX(ApplyDeviceRules(dir_, r.devices), "apply device rules");
  // Last, so that a raw key overrides the same setting made from the OCI fields (runc).
  if (!r.unified.empty()) BERTH_TRY(ApplyUnified(r.unified));
  return {};
}

Result<void> V2Manager::Freeze() {
  if (!in::FileExists(dir_, "cgroup.freeze"))
    return Error::NotImplemented("freeze: the kernel has no cgroup.freeze (Linux < 5.2)");
  BERTH_TRY(in::WriteFile(dir_, "cgroup.freeze", "1"));
  auto frozen = BERTH_TRY(in::PollUntil(
      [&]() -> Result<bool> {
        auto ev = BERTH_TRY(in::ReadKeyValues(dir_, "cgroup.events"));
        return ev["frozen"] == 1;
      },
      5000));
  if (!frozen) {
    (void)in::WriteFile(dir_, "cgroup.freeze", "0");
    return Error::Unavailable("freeze cgroup " + dir_ + ": still freezing after 5 s; thawed");
  }
  return {};
}

Result<void> V2Manager::Thaw() {
  if (!in::FileExists(dir_, "cgroup.freeze"))
    return Error::NotImplemented("thaw: the kernel has no cgroup.freeze (Linux < 5.2)");
  return in::WriteFile(dir_, "cgroup.freeze", "0");
}

Result<FreezerState> V2Manager::GetFreezerState() {
  auto want = in::ReadFile(dir_, "cgroup.freeze");
  if (!want) {
    if (want.error().IsNotFound() && PathExists(dir_)) return FreezerState::kThawed;
    return std::move(want).error();
  }
  if (*want != "1") return FreezerState::kThawed;
  auto ev = BERTH_TRY(in::ReadKeyValues(dir_, "cgroup.events"));
  return ev["frozen"] == 1 ? FreezerState::kFrozen : FreezerState::kFreezing;
}

Result<std::vector<pid_t>> V2Manager::Pids() {
  std::vector<pid_t> pids;
  BERTH_TRY_CTX(in::CollectPids(dir_, &pids), "list processes");
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

Result<void> V2Manager::Destroy() { return in::RemoveCgroup(dir_); }

}  // namespace berth::runtime::cgroups::v2
