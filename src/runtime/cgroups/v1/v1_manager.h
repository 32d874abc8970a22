#pragma once

// The cgroup v1 manager: one directory per mounted hierarchy, each controller written in its
// own hierarchy (/sys/fs/cgroup/<controller>/<path>).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cgroups/manager.h"

namespace berth::runtime::cgroups::v1 {

class V1Manager : public CgroupManager {
 public:
  /// mounts: controller → mount point (Layout::v1); path: the clean cgroups path; own: the
  /// caller's /proc/self/cgroup, needed only for a relative path (else nullptr).
  V1Manager(const std::map<std::string, std::string>& mounts, const std::string& path,
            const std::map<std::string, std::string>* own);

  Result<void> Create() override;
  Result<void> AddProcess(pid_t pid) override;
  Result<void> Apply(const oci::Resources& resources) override;
  Result<void> Freeze() override;
  Result<void> Thaw() override;
  Result<FreezerState> GetFreezerState() override;
  Result<Stats> GetStats() override;
  Result<std::vector<pid_t>> Pids() override;
  Result<void> Destroy() override;
  std::map<std::string, std::string> Paths() const override { return dirs_; }

  /// Whether the host mounts this v1 controller.
  bool Has(std::string_view controller) const { return dirs_.count(std::string(controller)); }

 private:
  /// The cgroup's directory in the controller's hierarchy, or an error naming the controller
  /// and the setting that needs it.
  Result<std::string> Need(std::string_view controller, std::string_view setting) const;
  /// Every distinct directory (co-mounted controllers share one).
  std::vector<std::string> UniqueDirs() const;
  /// A new v1 cpuset cgroup starts with empty cpus and mems, and no process may join it so:
  /// copy each empty level's values from its parent, top down.
  Result<void> InitCpuset();

  // v1_resources.cc
  Result<void> ApplyMemory(const oci::Memory& memory);
  Result<void> ApplyCpu(const oci::Cpu& cpu);
  Result<void> ApplyCpuset(const oci::Cpu& cpu);
  Result<void> ApplyBlockIo(const oci::BlockIo& io);
  Result<void> ApplyHugetlb(const std::vector<oci::HugepageLimit>& limits);
  Result<void> ApplyDevices(const std::vector<oci::DeviceRule>& rules);
  Result<void> ApplyNetwork(const oci::Network& network);

  std::map<std::string, std::string> mounts_;  // controller → mount point
  std::map<std::string, std::string> dirs_;    // controller → this cgroup's directory
};

/// "c 1:3 rwm": a device rule as devices.allow and devices.deny take it; InvalidArgument for a
/// bad type or access.
Result<std::string> DeviceRuleString(const oci::DeviceRule& rule);

}  // namespace berth::runtime::cgroups::v1
