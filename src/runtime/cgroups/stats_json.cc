// StatsToJson: runc's types.Stats (types/events.go) as `runc events --stats` prints it in
// "data". Go's encoding/json drops omitempty fields at zero (numbers, empty slices and maps)
// but never omits a struct, so usage/throttling/each memory entry are always present.

#include <nlohmann/json.hpp>

#include "runtime/cgroups/manager.h"
#include "runtime/cgroups/stats_internal.h"
#include "util/file.h"

namespace berth::runtime::cgroups {

namespace {

using nlohmann::json;

void PutIfNonZero(json& j, const char* key, uint64_t v) {
  if (v != 0) j[key] = v;
}

json MemoryEntryJson(const Stats::MemoryEntry& e) {
  json j = json::object();
  j["limit"] = e.limit;
  PutIfNonZero(j, "usage", e.usage);
  PutIfNonZero(j, "max", e.max);
  j["failcnt"] = e.failcnt;
  return j;
}

json BlkioJson(const std::vector<Stats::BlkioEntry>& entries) {
  json a = json::array();
  for (const auto& e : entries) {
    json j = json::object();
    PutIfNonZero(j, "major", e.major);
    PutIfNonZero(j, "minor", e.minor);
    if (!e.op.empty()) j["op"] = e.op;
    PutIfNonZero(j, "value", e.value);
    a.push_back(std::move(j));
  }
  return a;
}

}  // namespace

std::string StatsToJson(const Stats& s) {
  json usage = json::object();
  PutIfNonZero(usage, "total", s.cpu.total);
  if (!s.cpu.percpu.empty()) usage["percpu"] = s.cpu.percpu;
  usage["kernel"] = s.cpu.kernel;
  usage["user"] = s.cpu.user;
  json throttling = json::object();
  PutIfNonZero(throttling, "periods", s.cpu.periods);
  PutIfNonZero(throttling, "throttledPeriods", s.cpu.throttled_periods);
  PutIfNonZero(throttling, "throttledTime", s.cpu.throttled_time);

  json cpuset = {
      {"cpu_exclusive", 0},   {"mem_hardwall", 0},       {"mem_exclusive", 0},
      {"memory_migrate", 0},  {"memory_spread_page", 0}, {"memory_spread_slab", 0},
      {"memory_pressure", 0}, {"sched_load_balance", 0}, {"sched_relax_domain_level", 0}};

  json memory = json::object();
  PutIfNonZero(memory, "cache", s.memory.cache);
  memory["usage"] = MemoryEntryJson(s.memory.usage);
  memory["swap"] = MemoryEntryJson(s.memory.swap);
  memory["kernel"] = MemoryEntryJson(s.memory.kernel);
  memory["kernelTCP"] = MemoryEntryJson(s.memory.kernel_tcp);
  if (!s.memory.raw.empty()) memory["raw"] = s.memory.raw;

  json pids = json::object();
  PutIfNonZero(pids, "current", s.pids.current);
  PutIfNonZero(pids, "limit", s.pids.limit);

  json blkio = json::object();
  if (!s.blkio.io_service_bytes_recursive.empty())
    blkio["ioServiceBytesRecursive"] = BlkioJson(s.blkio.io_service_bytes_recursive);
  if (!s.blkio.io_serviced_recursive.empty())
    blkio["ioServicedRecursive"] = BlkioJson(s.blkio.io_serviced_recursive);

  json hugetlb = json::object();
  for (const auto& [size, h] : s.hugetlb) {
    json j = json::object();
    PutIfNonZero(j, "usage", h.usage);
    PutIfNonZero(j, "max", h.max);
    j["failcnt"] = h.failcnt;
    hugetlb[size] = std::move(j);
  }

  json out = json::object();
  out["cpu"] = {{"usage", usage}, {"throttling", throttling}};
  out["cpuset"] = cpuset;
  out["memory"] = memory;
  out["pids"] = pids;
  out["blkio"] = blkio;
  out["hugetlb"] = hugetlb;
  out["intel_rdt"] = json::object();
  out["network_interfaces"] = nullptr;
  return out.dump();
}

namespace internal {

Result<std::vector<std::string>> HugetlbSizes(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> sizes;
  auto names = ListDir(dir);
  if (!names) return std::move(names).error().Wrap("hugetlb stats");
  for (const auto& n : *names) {
    std::string_view v = n;
    if (!v.starts_with("hugetlb.") || !v.ends_with(suffix)) continue;
    v.remove_prefix(8);
    v.remove_suffix(suffix.size());
    if (!v.empty() && v.find('.') == std::string_view::npos) sizes.emplace_back(v);
  }
  return sizes;
}

}  // namespace internal

}  // namespace berth::runtime::cgroups
