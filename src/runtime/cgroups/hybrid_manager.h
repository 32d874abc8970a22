#pragma once

// The hybrid manager: v1 controllers in their v1 hierarchies and the same path in the v2
// hierarchy, for the controllers only v2 holds (hugetlb on this kind of host). Processes join
// both. crun refuses such hosts; runc uses the v2 part for nothing but the systemd path.

#include <memory>

#include "runtime/cgroups/manager.h"
#include "runtime/cgroups/v1/v1_manager.h"
#include "runtime/cgroups/v2/v2_manager.h"

namespace berth::runtime::cgroups {

class HybridManager : public CgroupManager {
 public:
  HybridManager(std::unique_ptr<v1::V1Manager> v1, std::unique_ptr<v2::V2Manager> v2)
      : v1_(std::move(v1)), v2_(std::move(v2)) {}

  Result<void> Create() override;
  Result<void> AddProcess(pid_t pid) override;
  Result<void> Apply(const oci::Resources& resources) override;
  Result<void> Freeze() override;
  Result<void> Thaw() override;
  Result<FreezerState> GetFreezerState() override;
  Result<Stats> GetStats() override;
  Result<std::vector<pid_t>> Pids() override;
  Result<void> Destroy() override;
  std::map<std::string, std::string> Paths() const override;

 private:
  std::unique_ptr<v1::V1Manager> v1_;
  std::unique_ptr<v2::V2Manager> v2_;
};

}  // namespace berth::runtime::cgroups
