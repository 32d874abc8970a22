// Apply for cgroup v1: the OCI resources written to the v1 interface files
// (Documentation/admin-guide/cgroup-v1/*.rst), in runc's order where order matters.

#include <cstdint>
#include <string>

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/v1/v1_manager.h"
#include "util/log.h"

namespace berth::runtime::cgroups::v1 {

namespace in = internal;

namespace {

const log::Logger& Log() { return log::Get("runtime"); }

std::string Num(int64_t v) { return std::to_string(v); }

std::string DeviceNum(const std::optional<int64_t>& n) {
  return n && *n >= 0 ? std::to_string(*n) : "*";
}

}  // namespace

Result<std::string> DeviceRuleString(const oci::DeviceRule& rule) {
  std::string type = rule.type.empty() ? "a" : rule.type;
  if (type != "a" && type != "c" && type != "b")
    return Error::InvalidArgument("linux.resources.devices: bad device type " + type);
  std::string access = rule.access.empty() ? "rwm" : rule.access;
  if (access.find_first_not_of("rwm") != std::string::npos)
    return Error::InvalidArgument("linux.resources.devices: bad access " + access);
  return type + " " + DeviceNum(rule.major) + ":" + DeviceNum(rule.minor) + " " + access;
}

Result<void> V1Manager::ApplyMemory(const oci::Memory& m) {
  bool any = m.limit || m.reservation || m.swap || m.swappiness ||
             m.disable_oom_killer.value_or(false) || (m.kernel_tcp && *m.kernel_tcp != 0);
  // Kernels since 5.16 refuse memory.kmem.limit_in_bytes; the TCP buffer limit still works.
  if (m.kernel) Log().Debug("cgroup v1: linux.resources.memory.kernel is deprecated; ignored");
  if (!any) return {};
  std::string dir = BERTH_TRY(Need("memory", "linux.resources.memory"));
  if (m.kernel_tcp && *m.kernel_tcp != 0) {
    if (in::FileExists(dir, "memory.kmem.tcp.limit_in_bytes"))
      BERTH_TRY(in::WriteFile(dir, "memory.kmem.tcp.limit_in_bytes", Num(*m.kernel_tcp)));
    else
      Log().Debug("cgroup v1: no memory.kmem.tcp.limit_in_bytes; kernelTCP ignored");
  }

  int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
  bool swap_requested = swap != 0;
  if (limit == -1 && swap == 0) swap = -1;  // unlimited memory, swap unset: unlimited both
  if (swap != 0 && !in::FileExists(dir, "memory.memsw.limit_in_bytes")) {
    if (swap_requested)
      return Error::NotImplemented(
          "linux.resources.memory.swap: swap limit not supported by the kernel (no "
          "memory.memsw.limit_in_bytes; boot with swapaccount=1)");
    swap = 0;
  }
  // The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every write, so
  // raising both writes memsw first and lowering writes the memory limit first.
  bool swap_first = false;
  if (limit != 0 && swap != 0) {
    uint64_t cur = BERTH_TRY(in::ReadUint(dir, "memory.limit_in_bytes"));
    swap_first = swap == -1 || cur < static_cast<uint64_t>(swap);
  }
  if (swap_first) BERTH_TRY(in::WriteFile(dir, "memory.memsw.limit_in_bytes", Num(swap)));
  if (limit != 0) BERTH_TRY(in::WriteFile(dir, "memory.limit_in_bytes", Num(limit)));
  if (!swap_first && swap != 0)
    BERTH_TRY(in::WriteFile(dir, "memory.memsw.limit_in_bytes", Num(swap)));

  if (m.reservation && *m.reservation != 0)
    BERTH_TRY(in::WriteFile(dir, "memory.soft_limit_in_bytes", Num(*m.reservation)));
  // swappiness -1 (as an unsigned number) means "leave it".
  if (m.swappiness && *m.swappiness != UINT64_MAX &&
      *m.swappiness != static_cast<uint64_t>(static_cast<uint32_t>(-1))) {
    if (*m.swappiness > 100)
      return Error::InvalidArgument("linux.resources.memory.swappiness: " +
                                    std::to_string(*m.swappiness) + " is outside 0-100");
    BERTH_TRY(in::WriteFile(dir, "memory.swappiness", std::to_string(*m.swappiness)));
  }
  if (m.disable_oom_killer.value_or(false))
    BERTH_TRY(in::WriteFile(dir, "memory.oom_control", "1"));
  return {};
}

Result<void> V1Manager::ApplyCpu(const oci::Cpu& c) {
  bool any = (c.shares && *c.shares) || (c.quota && *c.quota) || (c.period && *c.period) ||
             c.burst || (c.realtime_runtime && *c.realtime_runtime) ||
             (c.realtime_period && *c.realtime_period) || c.idle;
  if (!any) return {};
  std::string dir = BERTH_TRY(Need("cpu", "linux.resources.cpu"));
  if (c.shares && *c.shares) BERTH_TRY(in::WriteFile(dir, "cpu.shares", std::to_string(*c.shares)));

  uint64_t period = c.period.value_or(0);
  int64_t quota = c.quota.value_or(0);
  bool period_pending = false;
  if (period != 0) {
    auto r = in::WriteFile(dir, "cpu.cfs_period_us", std::to_string(period));
    // A period below the current one can be refused (EINVAL) while the old quota is in place
    // (old_quota/new_period would exceed the parent's); write it again after the quota.
    if (!r) {
      if (r.error().sys_errno() != EINVAL || quota == 0) return std::move(r).error();
      period_pending = true;
    }
  }
  if (quota != 0) {
    BERTH_TRY(in::WriteFile(dir, "cpu.cfs_quota_us", Num(quota)));
    if (period_pending) BERTH_TRY(in::WriteFile(dir, "cpu.cfs_period_us", std::to_string(period)));
  }
  if (c.burst) {
    if (!in::FileExists(dir, "cpu.cfs_burst_us"))
      return Error::NotImplemented(
          "linux.resources.cpu.burst: not supported by the kernel (no cpu.cfs_burst_us)");
    BERTH_TRY(in::WriteFile(dir, "cpu.cfs_burst_us", std::to_string(*c.burst)));
  }
  if (c.realtime_period && *c.realtime_period)
    BERTH_TRY(in::WriteFile(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period)));
  if (c.realtime_runtime && *c.realtime_runtime)
    BERTH_TRY(in::WriteFile(dir, "cpu.rt_runtime_us", Num(*c.realtime_runtime)));
  if (c.idle) {
    if (!in::FileExists(dir, "cpu.idle"))
      return Error::NotImplemented("linux.resources.cpu.idle: not supported by the kernel");
    BERTH_TRY(in::WriteFile(dir, "cpu.idle", Num(*c.idle)));
  }
  return {};
}

Result<void> V1Manager::ApplyCpuset(const oci::Cpu& c) {
  if (c.cpus.empty() && c.mems.empty()) return {};
  std::string dir = BERTH_TRY(Need("cpuset", "linux.resources.cpu.cpus/mems"));
  if (!c.cpus.empty()) BERTH_TRY(in::WriteFile(dir, "cpuset.cpus", c.cpus));
  if (!c.mems.empty()) BERTH_TRY(in::WriteFile(dir, "cpuset.mems", c.mems));
  return {};
}

Result<void> V1Manager::ApplyBlockIo(const oci::BlockIo& b) {
  bool any = (b.weight && *b.weight) || (b.leaf_weight && *b.leaf_weight) ||
             !b.weight_device.empty() || !b.throttle_read_bps_device.empty() ||
             !b.throttle_write_bps_device.empty() || !b.throttle_read_iops_device.empty() ||
             !b.throttle_write_iops_device.empty();
  if (!any) return {};
  if (!Has("blkio")) {
    return Error::FailedPrecondition(
        "linux.resources.blockIO: the blkio cgroup controller is not mounted on this host");
  }
  std::string dir = dirs_.at("blkio");
  // CFQ's blkio.weight is gone since Linux 5.0; BFQ offers blkio.bfq.weight (same range).
  std::string weight_file = in::FileExists(dir, "blkio.weight")       ? "blkio.weight"
                            : in::FileExists(dir, "blkio.bfq.weight") ? "blkio.bfq.weight"
                                                                      : "";
  if (b.weight && *b.weight) {
    if (weight_file.empty())
      return Error::NotImplemented(
          "linux.resources.blockIO.weight: not supported by the kernel (no blkio.weight or "
          "blkio.bfq.weight: the io scheduler is neither cfq nor bfq)");
    BERTH_TRY(in::WriteFile(dir, weight_file, std::to_string(*b.weight)));
  }
  if (b.leaf_weight && *b.leaf_weight) {
    if (!in::FileExists(dir, "blkio.leaf_weight"))
      return Error::NotImplemented(
          "linux.resources.blockIO.leafWeight: not supported by the kernel");
    BERTH_TRY(in::WriteFile(dir, "blkio.leaf_weight", std::to_string(*b.leaf_weight)));
  }
  std::vector<std::string> weights, leaf_weights;
  for (const auto& d : b.weight_device) {
    std::string dev = std::to_string(d.major) + ":" + std::to_string(d.minor) + " ";
    if (d.weight) weights.push_back(dev + std::to_string(*d.weight));
    if (d.leaf_weight) leaf_weights.push_back(dev + std::to_string(*d.leaf_weight));
  }
  if (!weights.empty()) {
    if (weight_file.empty())
      return Error::NotImplemented(
          "linux.resources.blockIO.weightDevice: not supported by the kernel");
    BERTH_TRY(in::WriteLines(dir, weight_file + "_device", weights));
  }
  BERTH_TRY(in::WriteLines(dir, "blkio.leaf_weight_device", leaf_weights));
  auto throttle = [&](const std::vector<oci::ThrottleDevice>& list,
                      const char* file) -> Result<void> {
    std::vector<std::string> lines;
    for (const auto& t : list)
      lines.push_back(std::to_string(t.major) + ":" + std::to_string(t.minor) + " " +
                      std::to_string(t.rate));
    return in::WriteLines(dir, file, lines);
  };
  BERTH_TRY(throttle(b.throttle_read_bps_device, "blkio.throttle.read_bps_device"));
  BERTH_TRY(throttle(b.throttle_write_bps_device, "blkio.throttle.write_bps_device"));
  BERTH_TRY(throttle(b.throttle_read_iops_device, "blkio.throttle.read_iops_device"));
  BERTH_TRY(throttle(b.throttle_write_iops_device, "blkio.throttle.write_iops_device"));
  return {};
}

Result<void> V1Manager::ApplyHugetlb(const std::vector<oci::HugepageLimit>& limits) {
  std::string dir = BERTH_TRY(Need("hugetlb", "linux.resources.hugepageLimits"));
  for (const auto& l : limits) {
    std::string file = "hugetlb." + l.page_size + ".limit_in_bytes";
    if (l.page_size.find('/') != std::string::npos || !in::FileExists(dir, file))
      return Error::InvalidArgument("linux.resources.hugepageLimits: page size " + l.page_size +
                                    " is not supported by this host");
    BERTH_TRY(in::WriteFile(dir, file, std::to_string(l.limit)));
  }
  return {};
}

Result<void> V1Manager::ApplyDevices(const std::vector<oci::DeviceRule>& rules) {
  std::string dir = BERTH_TRY(Need("devices", "linux.resources.devices"));
  // Deny everything, then the rules in order: the last matching rule wins, as the OCI spec
  // reads them. Runs of rules bound for the same file share one open.
  BERTH_TRY(in::WriteFile(dir, "devices.deny", "a"));
  std::vector<std::string> run;
  bool run_allow = false;
  for (const auto& rule : rules) {
    std::string line = BERTH_TRY(DeviceRuleString(rule));
    if (!run.empty() && rule.allow != run_allow) {
      BERTH_TRY(in::WriteLines(dir, run_allow ? "devices.allow" : "devices.deny", run));
      run.clear();
    }
    run_allow = rule.allow;
    run.push_back(std::move(line));
  }
  return in::WriteLines(dir, run_allow ? "devices.allow" : "devices.deny", run);
}

Result<void> V1Manager::ApplyNetwork(const oci::Network& n) {
  if (n.class_id) {
    if (!Has("net_cls"))
      Log().Debug("cgroup v1: net_cls not mounted; linux.resources.network.classID skipped");
    else
      BERTH_TRY(in::WriteFile(dirs_.at("net_cls"), "net_cls.classid", std::to_string(*n.class_id)));
  }
  if (!n.priorities.empty()) {
    if (!Has("net_prio")) {
      Log().Debug("cgroup v1: net_prio not mounted; linux.resources.network.priorities skipped");
      return {};
    }
    std::vector<std::string> lines;
    for (const auto& p : n.priorities) lines.push_back(p.name + " " + std::to_string(p.priority));
    BERTH_TRY(in::WriteLines(dirs_.at("net_prio"), "net_prio.ifpriomap", lines));
  }
  return {};
}

}  // namespace berth::runtime::cgroups::v1
