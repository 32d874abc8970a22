#pragma once

// The cgroup v2 manager: one directory in the unified hierarchy
// (Documentation/admin-guide/cgroup-v2.rst). Controllers are enabled in each ancestor's
// cgroup.subtree_control, top down, before their files appear in the cgroup.

#include <string>
#include <vector>

#include "runtime/cgroups/manager.h"

namespace berth::runtime::cgroups::v2 {

class V2Manager : public CgroupManager {
 public:
  /// mount: the v2 mount point; path: the clean cgroups path; own: the caller's
  /// /proc/self/cgroup for a relative path (else nullptr); available: the controllers this
  /// manager may use (the root's cgroup.controllers, less those a hybrid host keeps on v1).
  /// enable_all_on_create: Create() enables every available controller down to the cgroup, as
  /// runc does on unified hosts; a hybrid host enables only what Apply needs.
  V2Manager(std::string mount, const std::string& path,
            const std::map<std::string, std::string>* own, std::vector<std::string> available,
            bool enable_all_on_create);

  Result<void> Create() override;
  Result<void> AddProcess(pid_t pid) override;
  Result<void> Apply(const oci::Resources& resources) override;
  Result<void> Freeze() override;
  Result<void> Thaw() override;
  Result<FreezerState> GetFreezerState() override;
  Result<Stats> GetStats() override;
  Result<std::vector<pid_t>> Pids() override;
  Result<void> Destroy() override;
  std::map<std::string, std::string> Paths() const override { return {{"", dir_}}; }

  const std::string& dir() const { return dir_; }
  bool Available(const std::string& controller) const;
  /// Writes "+c ..." into cgroup.subtree_control of the root and every ancestor of the cgroup,
  /// for the controllers each level offers (its cgroup.controllers). An unavailable controller
  /// is FailedPrecondition naming it.
  Result<void> EnableControllers(const std::vector<std::string>& controllers);
  /// Adds hugetlb figures from the v2 files to stats (used by the hybrid manager).
  Result<void> HugetlbStats(Stats* stats) const;

 private:
  // v2_resources.cc
  Result<void> ApplyMemory(const oci::Memory& memory);
  Result<void> ApplyCpu(const oci::Cpu& cpu);
  Result<void> ApplyIo(const oci::BlockIo& io);
  Result<void> ApplyHugetlb(const std::vector<oci::HugepageLimit>& limits);
  Result<void> ApplyUnified(const std::map<std::string, std::string>& unified);

  std::string mount_;
  std::string rel_;  // the cgroup below the mount, "/berth/web"
  std::string dir_;
  std::vector<std::string> available_;
  bool enable_all_on_create_;
};

/// The controllers a set of resources needs on v2, in the order they are enabled.
std::vector<std::string> NeededControllers(const oci::Resources& resources);

}  // namespace berth::runtime::cgroups::v2
