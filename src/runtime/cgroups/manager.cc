#include "runtime/cgroups/manager.h"

#include <algorithm>

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/hybrid_manager.h"
#include "runtime/cgroups/v1/v1_manager.h"
#include "runtime/cgroups/v2/v2_manager.h"
#include "util/file.h"

namespace berth::runtime::cgroups {

Result<std::unique_ptr<CgroupManager>> NewManager(const Layout& layout, const std::string& path) {
  std::string clean = BERTH_TRY(internal::CleanPath(path));
  // Only a relative path needs to know where this process sits (/proc/self/cgroup, one read).
  std::map<std::string, std::string> own;
  const std::map<std::string, std::string>* own_ptr = nullptr;
  if (clean.front() != '/') {
    std::string text = BERTH_TRY_CTX(berth::ReadFile("/proc/self/cgroup"), "cgroup path " + path);
    own = internal::ParseProcCgroup(text);
    own_ptr = &own;
  }
  switch (layout.mode) {
    case Mode::kUnified:
      if (layout.unified.empty())
        return Error::InvalidArgument("cgroup layout: unified mode without a cgroup2 mount");
      return std::unique_ptr<CgroupManager>(std::make_unique<v2::V2Manager>(
          layout.unified, clean, own_ptr, layout.unified_controllers, true));
    case Mode::kLegacy:
      return std::unique_ptr<CgroupManager>(
          std::make_unique<v1::V1Manager>(layout.v1, clean, own_ptr));
    case Mode::kHybrid: {
      std::vector<std::string> v2_only;
      for (const auto& c : layout.unified_controllers) {
        if (!layout.v1.count(c)) v2_only.push_back(c);
      }
      auto v1m = std::make_unique<v1::V1Manager>(layout.v1, clean, own_ptr);
      auto v2m = std::make_unique<v2::V2Manager>(layout.unified, clean, own_ptr, std::move(v2_only),
                                                 false);
      return std::unique_ptr<CgroupManager>(
          std::make_unique<HybridManager>(std::move(v1m), std::move(v2m)));
    }
  }
  return Error::Internal("cgroup layout: unknown mode");
}

}  // namespace berth::runtime::cgroups
