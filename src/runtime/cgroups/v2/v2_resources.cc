// Apply for cgroup v2: the OCI resources (shaped after v1) converted to the v2 interface files,
// with the conversions runc and crun use.

#include <string>

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/v2/v2_manager.h"
#include "util/log.h"

namespace berth::runtime::cgroups::v2 {

namespace in = internal;

namespace {

const log::Logger& Log() { return log::Get("runtime"); }

std::string LimitString(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

bool MemorySet(const oci::Memory& m) { return m.limit || m.reservation || m.swap; }

bool CpuSet(const oci::Cpu& c) {
  return (c.shares && *c.shares) || c.quota || c.period || c.burst || c.idle;
}

bool IoSet(const oci::BlockIo& b) {
  return (b.weight && *b.weight) || !b.weight_device.empty() ||
         !b.throttle_read_bps_device.empty() || !b.throttle_write_bps_device.empty() ||
         !b.throttle_read_iops_device.empty() || !b.throttle_write_iops_device.empty();
}

void AddOnce(std::vector<std::string>* v, const std::string& c) {
  for (const auto& x : *v)
    if (x == c) return;
  v->push_back(c);
}

}  // namespace

std::vector<std::string> NeededControllers(const oci::Resources& r) {
  std::vector<std::string> out;
  if (r.cpu && (!r.cpu->cpus.empty() || !r.cpu->mems.empty())) AddOnce(&out, "cpuset");
  if (r.cpu && CpuSet(*r.cpu)) AddOnce(&out, "cpu");
  if (r.memory && MemorySet(*r.memory)) AddOnce(&out, "memory");
  if (r.pids) AddOnce(&out, "pids");
  if (r.block_io && IoSet(*r.block_io)) AddOnce(&out, "io");
  if (!r.hugepage_limits.empty()) AddOnce(&out, "hugetlb");
  for (const auto& [key, value] : r.unified) {
    auto dot = key.find('.');
    if (dot == std::string::npos || dot == 0) continue;
    std::string c = key.substr(0, dot);
    if (c != "cgroup") AddOnce(&out, c);
  }
  return out;
}

Result<void> V2Manager::ApplyMemory(const oci::Memory& m) {
  if (m.kernel) Log().Debug("cgroup v2: linux.resources.memory.kernel is deprecated; ignored");
  if (m.kernel_tcp) Log().Debug("cgroup v2: linux.resources.memory.kernelTCP ignored");
  if (m.swappiness) Log().Debug("cgroup v2: linux.resources.memory.swappiness has no v2 file");
  if (m.disable_oom_killer.value_or(false))
    Log().Debug("cgroup v2: linux.resources.memory.disableOOMKiller has no v2 file; ignored");
  if (!MemorySet(m)) return {};
  auto swap = BERTH_TRY(in::SwapToV2(m.swap, m.limit));
  // swap first: memory.max may be lowered below what swap allowed before, never the reverse.
  if (swap) {
    if (!in::FileExists(dir_, "memory.swap.max")) {
      if (m.swap && *m.swap != 0)
        return Error::NotImplemented(
            "linux.resources.memory.swap: swap limit not supported by the kernel (no "
            "memory.swap.max)");
    } else {
      BERTH_TRY(in::WriteFile(dir_, "memory.swap.max", *swap));
    }
  }
  if (m.limit && *m.limit != 0) BERTH_TRY(in::WriteFile(dir_, "memory.max", LimitString(*m.limit)));
  if (m.reservation && *m.reservation != 0)
    BERTH_TRY(in::WriteFile(dir_, "memory.low", LimitString(*m.reservation)));
  return {};
}

Result<void> V2Manager::ApplyCpu(const oci::Cpu& c) {
  if ((c.realtime_runtime && *c.realtime_runtime) || (c.realtime_period && *c.realtime_period))
    return Error::NotImplemented(
        "linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime limits");
  if (!c.cpus.empty()) BERTH_TRY(in::WriteFile(dir_, "cpuset.cpus", c.cpus));
  if (!c.mems.empty()) BERTH_TRY(in::WriteFile(dir_, "cpuset.mems", c.mems));
  if (c.shares && *c.shares)
    BERTH_TRY(in::WriteFile(dir_, "cpu.weight", std::to_string(in::SharesToWeight(*c.shares))));
  int64_t quota = c.quota.value_or(0);
  uint64_t period = c.period.value_or(0);
  if (quota != 0 || period != 0) {
    // "$MAX $PERIOD"; the period alone keeps the quota "max" (cgroup-v2.rst, cpu.max).
    std::string v = quota > 0 ? std::to_string(quota) : "max";
    if (period != 0) v += " " + std::to_string(period);
    BERTH_TRY(in::WriteFile(dir_, "cpu.max", v));
  }
  if (c.burst) {
    if (!in::FileExists(dir_, "cpu.max.burst"))
      return Error::NotImplemented("linux.resources.cpu.burst: not supported by the kernel");
    BERTH_TRY(in::WriteFile(dir_, "cpu.max.burst", std::to_string(*c.burst)));
  }
  if (c.idle) {
    if (!in::FileExists(dir_, "cpu.idle"))
      return Error::NotImplemented("linux.resources.cpu.idle: not supported by the kernel");
    BERTH_TRY(in::WriteFile(dir_, "cpu.idle", std::to_string(*c.idle)));
  }
  return {};
}

Result<void> V2Manager::ApplyIo(const oci::BlockIo& b) {
  if (b.leaf_weight) Log().Debug("cgroup v2: linux.resources.blockIO.leafWeight has no v2 file");
  if (!IoSet(b)) return {};
  // io.weight needs a scheduler that honours it; BFQ reads io.bfq.weight, in blkio's range.
  bool bfq = !in::FileExists(dir_, "io.weight") && in::FileExists(dir_, "io.bfq.weight");
  if (b.weight && *b.weight) {
    if (bfq)
      BERTH_TRY(in::WriteFile(dir_, "io.bfq.weight", std::to_string(*b.weight)));
    else
      BERTH_TRY(in::WriteFile(dir_, "io.weight",
                              "default " + std::to_string(in::BlkioWeightToIoWeight(*b.weight))));
  }
  std::vector<std::string> weights;
  for (const auto& d : b.weight_device) {
    if (!d.weight) continue;
    uint64_t w = bfq ? *d.weight : in::BlkioWeightToIoWeight(*d.weight);
    weights.push_back(std::to_string(d.major) + ":" + std::to_string(d.minor) + " " +
                      std::to_string(w));
  }
  BERTH_TRY(in::WriteLines(dir_, bfq ? "io.bfq.weight" : "io.weight", weights));
  std::vector<std::string> max;
  auto add = [&](const std::vector<oci::ThrottleDevice>& list, const char* key) {
    for (const auto& t : list)
      max.push_back(std::to_string(t.major) + ":" + std::to_string(t.minor) + " " + key + "=" +
                    (t.rate == 0 ? std::string("max") : std::to_string(t.rate)));
  };
  add(b.throttle_read_bps_device, "rbps");
  add(b.throttle_write_bps_device, "wbps");
  add(b.throttle_read_iops_device, "riops");
  add(b.throttle_write_iops_device, "wiops");
  return in::WriteLines(dir_, "io.max", max);
}

Result<void> V2Manager::ApplyHugetlb(const std::vector<oci::HugepageLimit>& limits) {
  for (const auto& l : limits) {
    std::string file = "hugetlb." + l.page_size + ".max";
    if (l.page_size.find('/') != std::string::npos || !in::FileExists(dir_, file))
      return Error::InvalidArgument("linux.resources.hugepageLimits: page size " + l.page_size +
                                    " is not supported by this host (no " + file + ")");
    BERTH_TRY(in::WriteFile(dir_, file, std::to_string(l.limit)));
  }
  return {};
}

Result<void> V2Manager::ApplyUnified(const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    if (key.empty() || key.find('/') != std::string::npos || key == "." || key == ".." ||
        key.find('.') == std::string::npos)
      return Error::InvalidArgument("linux.resources.unified: bad key \"" + key + "\"");
    auto r = in::WriteFile(dir_, key, value);
    if (!r) {
      std::string c = key.substr(0, key.find('.'));
      if (r.error().IsNotFound() && c != "cgroup" && !Available(c))
        return Error::FailedPrecondition("linux.resources.unified." + key + ": the " + c +
                                         " cgroup controller is not available on this host");
      return std::move(r).error().Wrap("linux.resources.unified." + key);
    }
  }
  return {};
}

}  // namespace berth::runtime::cgroups::v2
