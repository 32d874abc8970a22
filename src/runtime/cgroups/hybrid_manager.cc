#include "runtime/cgroups/hybrid_manager.h"

#include <algorithm>

namespace berth::runtime::cgroups {

Result<void> HybridManager::Create() {
  BERTH_TRY(v1_->Create());
  return v2_->Create();
}

Result<void> HybridManager::AddProcess(pid_t pid) {
  BERTH_TRY(v1_->AddProcess(pid));
  return v2_->AddProcess(pid);
}

Result<void> HybridManager::Apply(const oci::Resources& r) {
  // Each setting goes where its controller lives: v1 unless only v2 has it.
  oci::Resources on_v1 = r, on_v2;
  bool hugetlb_on_v2 = !r.hugepage_limits.empty() && !v1_->Has("hugetlb");
  if (hugetlb_on_v2) {
    on_v2.hugepage_limits = std::move(on_v1.hugepage_limits);
    on_v1.hugepage_limits.clear();
  }
  // Raw v2 keys are v2 files by definition.
  on_v2.unified = std::move(on_v1.unified);
  on_v1.unified.clear();
  BERTH_TRY(v1_->Apply(on_v1));
  if (!on_v2.hugepage_limits.empty() || !on_v2.unified.empty()) BERTH_TRY(v2_->Apply(on_v2));
  return {};
}

Result<void> HybridManager::Freeze() {
  if (v1_->Has("freezer")) return v1_->Freeze();
  return v2_->Freeze();
}

Result<void> HybridManager::Thaw() {
  if (v1_->Has("freezer")) return v1_->Thaw();
  return v2_->Thaw();
}

Result<FreezerState> HybridManager::GetFreezerState() {
  if (v1_->Has("freezer")) return v1_->GetFreezerState();
  return v2_->GetFreezerState();
}

Result<Stats> HybridManager::GetStats() {
  Stats s = BERTH_TRY(v1_->GetStats());
  if (!v1_->Has("hugetlb")) BERTH_TRY(v2_->HugetlbStats(&s));
  return s;
}

Result<std::vector<pid_t>> HybridManager::Pids() {
  // Every process joins both; the v1 freezer/pids/memory hierarchy is the reference, as on
  // legacy hosts.
  return v1_->Pids();
}

Result<void> HybridManager::Destroy() {
  auto a = v1_->Destroy();
  auto b = v2_->Destroy();
  if (!a) return a;
  return b;
}

std::map<std::string, std::string> HybridManager::Paths() const {
  auto p = v1_->Paths();
  p[""] = v2_->dir();
  return p;
}

}  // namespace berth::runtime::cgroups
