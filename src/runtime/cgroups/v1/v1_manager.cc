#include "runtime/cgroups/v1/v1_manager.h"

#include <algorithm>
#include <set>

#include "runtime/cgroups/cgroups_internal.h"
#include "util/file.h"

namespace berth::runtime::cgroups::v1 {

namespace in = internal;

V1Manager::V1Manager(const std::map<std::string, std::string>& mounts, const std::string& path,
                     const std::map<std::string, std::string>* own)
    : mounts_(mounts) {
  for (const auto& [controller, mount] : mounts_)
    dirs_[controller] = JoinPath(mount, in::PathInHierarchy(path, own, controller));
}

Result<std::string> V1Manager::Need(std::string_view controller, std::string_view setting) const {
  auto it = dirs_.find(std::string(controller));
  if (it == dirs_.end())
    return Error::FailedPrecondition(std::string(setting) + ": the " + std::string(controller) +
                                     " cgroup controller is not mounted on this host (cgroup v1)");
  return it->second;
}

std::vector<std::string> V1Manager::UniqueDirs() const {
  std::vector<std::string> out;
  for (const auto& [c, dir] : dirs_) {
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
  }
  return out;
}

Result<void> V1Manager::Create() {
  for (const auto& dir : UniqueDirs()) BERTH_TRY_CTX(in::MakeDir(dir), "create cgroup");
  if (Has("cpuset")) BERTH_TRY_CTX(InitCpuset(), "create cgroup");
  return {};
}

Result<void> V1Manager::InitCpuset() {
  const std::string& mount = mounts_.at("cpuset");
  const std::string& dir = dirs_.at("cpuset");
  std::string parent = mount, cur = mount;
  std::string parent_cpus, parent_mems;
  for (const auto& part : Split(std::string_view(dir).substr(mount.size()), '/', true)) {
    cur = JoinPath(cur, part);
    std::string cpus = BERTH_TRY(in::ReadFile(cur, "cpuset.cpus"));
    std::string mems = BERTH_TRY(in::ReadFile(cur, "cpuset.mems"));
    if (cpus.empty() || mems.empty()) {
      if (parent_cpus.empty()) parent_cpus = BERTH_TRY(in::ReadFile(parent, "cpuset.cpus"));
      if (parent_mems.empty()) parent_mems = BERTH_TRY(in::ReadFile(parent, "cpuset.mems"));
      if (cpus.empty()) BERTH_TRY(in::WriteFile(cur, "cpuset.cpus", cpus = parent_cpus));
      if (mems.empty()) BERTH_TRY(in::WriteFile(cur, "cpuset.mems", mems = parent_mems));
    }
    parent = cur;
    parent_cpus = std::move(cpus);
    parent_mems = std::move(mems);
  }
  return {};
}

Result<void> V1Manager::AddProcess(pid_t pid) {
  std::string p = std::to_string(pid);
  for (const auto& dir : UniqueDirs()) {
    auto r = in::WriteFile(dir, "cgroup.procs", p);
    if (!r) return std::move(r).error().Wrap("add process " + p + " to cgroup");
  }
  return {};
}

Result<void> V1Manager::Apply(const oci::Resources& r) {
  if (!r.unified.empty())
    return Error::InvalidArgument(
        "linux.resources.unified: needs cgroup v2, and this host mounts cgroup v1 only");
  if (r.memory) BERTH_TRY(ApplyMemory(*r.memory));
  if (r.cpu) {
    BERTH_TRY(ApplyCpu(*r.cpu));
    BERTH_TRY(ApplyCpuset(*r.cpu));
  }
  if (r.pids) {
    std::string dir = BERTH_TRY(Need("pids", "linux.resources.pids"));
    std::string v = r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max";
    BERTH_TRY(in::WriteFile(dir, "pids.max", v));
  }
  if (r.block_io) BERTH_TRY(ApplyBlockIo(*r.block_io));
  if (!r.hugepage_limits.empty()) BERTH_TRY(ApplyHugetlb(r.hugepage_limits));
  if (!r.devices.empty()) BERTH_TRY(ApplyDevices(r.devices));
  if (r.network) BERTH_TRY(ApplyNetwork(*r.network));
  return {};
}

Result<void> V1Manager::Freeze() {
  std::string dir = BERTH_TRY(Need("freezer", "freeze"));
  BERTH_TRY(in::WriteFile(dir, "freezer.state", "FROZEN"));
  // Tasks forking while the freeze runs can leave it at FREEZING; writing FROZEN again makes
  // the kernel retry them (runc does the same).
  int polls = 0;
  auto frozen = BERTH_TRY(in::PollUntil(
      [&]() -> Result<bool> {
        std::string s = BERTH_TRY(in::ReadFile(dir, "freezer.state"));
        if (s == "FROZEN") return true;
        if (++polls % 50 == 0) BERTH_TRY(in::WriteFile(dir, "freezer.state", "FROZEN"));
        return false;
      },
      5000));
  if (!frozen) {
    (void)in::WriteFile(dir, "freezer.state", "THAWED");
    return Error::Unavailable("freeze cgroup " + dir + ": still freezing after 5 s; thawed");
  }
  return {};
}

Result<void> V1Manager::Thaw() {
  std::string dir = BERTH_TRY(Need("freezer", "thaw"));
  return in::WriteFile(dir, "freezer.state", "THAWED");
}

Result<FreezerState> V1Manager::GetFreezerState() {
  std::string dir = BERTH_TRY(Need("freezer", "freezer state"));
  std::string s = BERTH_TRY(in::ReadFile(dir, "freezer.state"));
  if (s == "FROZEN") return FreezerState::kFrozen;
  if (s == "FREEZING") return FreezerState::kFreezing;
  return FreezerState::kThawed;
}

Result<std::vector<pid_t>> V1Manager::Pids() {
  std::string dir;
  for (const char* c : {"freezer", "pids", "memory", "cpu"}) {
    if (auto it = dirs_.find(c); it != dirs_.end()) {
      dir = it->second;
      break;
    }
  }
  if (dir.empty() && !dirs_.empty()) dir = dirs_.begin()->second;
  std::vector<pid_t> pids;
  BERTH_TRY_CTX(in::CollectPids(dir, &pids), "list processes");
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

Result<void> V1Manager::Destroy() {
  std::optional<Error> first;
  for (const auto& dir : UniqueDirs()) {
    auto r = in::RemoveCgroup(dir);
    if (!r && !first) first = std::move(r).error();
  }
  if (first) return *std::move(first);
  return {};
}

}  // namespace berth::runtime::cgroups::v1
