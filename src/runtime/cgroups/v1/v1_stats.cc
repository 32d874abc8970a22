// GetStats for cgroup v1: the figures runc's fs manager reads for `runc events --stats`.

#include <unistd.h>

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/stats_internal.h"
#include "runtime/cgroups/v1/v1_manager.h"
#include "util/file.h"

namespace berth::runtime::cgroups::v1 {

namespace in = internal;

namespace {

uint64_t Get(const std::map<std::string, uint64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// A missing file (a kernel without kmem accounting, swap accounting off) reads as zero.
uint64_t ReadOr0(const std::string& dir, const std::string& file) {
  auto v = in::ReadUint(dir, file);
  return v ? *v : 0;
}

Stats::MemoryEntry MemoryEntry(const std::string& dir, const std::string& prefix) {
  Stats::MemoryEntry e;
  e.usage = ReadOr0(dir, prefix + ".usage_in_bytes");
  e.max = ReadOr0(dir, prefix + ".max_usage_in_bytes");
  e.limit = ReadOr0(dir, prefix + ".limit_in_bytes");
  e.failcnt = ReadOr0(dir, prefix + ".failcnt");
  return e;
}

Result<void> CpuStats(const std::string& cpuacct, const std::string& cpu, Stats* s) {
  if (!cpuacct.empty()) {
    s->cpu.total = BERTH_TRY(in::ReadUint(cpuacct, "cpuacct.usage"));
    std::string percpu = BERTH_TRY(in::ReadFile(cpuacct, "cpuacct.usage_percpu"));
    for (const auto& v : Split(percpu, ' ', true)) {
      if (auto n = in::ParseUint(v)) s->cpu.percpu.push_back(*n);
    }
    // cpuacct.stat counts USER_HZ ticks (proc(5)); runc reports nanoseconds.
    auto stat = BERTH_TRY(in::ReadKeyValues(cpuacct, "cpuacct.stat"));
    static const uint64_t kHz = [] {
      long hz = ::sysconf(_SC_CLK_TCK);
      return hz > 0 ? static_cast<uint64_t>(hz) : 100;
    }();
    s->cpu.user = Get(stat, "user") * (1000000000ull / kHz);
    s->cpu.kernel = Get(stat, "system") * (1000000000ull / kHz);
  }
  if (!cpu.empty()) {
    auto stat = BERTH_TRY(in::ReadKeyValues(cpu, "cpu.stat"));
    s->cpu.periods = Get(stat, "nr_periods");
    s->cpu.throttled_periods = Get(stat, "nr_throttled");
    s->cpu.throttled_time = Get(stat, "throttled_time");
  }
  return {};
}

Result<void> MemoryStats(const std::string& dir, Stats* s) {
  s->memory.raw = BERTH_TRY(in::ReadKeyValues(dir, "memory.stat"));
  s->memory.cache = Get(s->memory.raw, "cache");
  s->memory.usage = MemoryEntry(dir, "memory");
  s->memory.swap = MemoryEntry(dir, "memory.memsw");
  s->memory.kernel = MemoryEntry(dir, "memory.kmem");
  s->memory.kernel_tcp = MemoryEntry(dir, "memory.kmem.tcp");
  // "oom_kill N" exists since Linux 4.13.
  if (auto oom = in::ReadKeyValues(dir, "memory.oom_control")) s->oom_kill = Get(*oom, "oom_kill");
  return {};
}

// "8:0 Read 4096" lines, then "Total N".
Result<std::vector<Stats::BlkioEntry>> BlkioEntries(const std::string& dir, const char* file) {
  std::vector<Stats::BlkioEntry> out;
  auto text = in::ReadFile(dir, file);
  if (!text) {
    if (text.error().IsNotFound()) return out;
    return std::move(text).error();
  }
  for (const auto& line : Split(*text, '\n', true)) {
    auto f = Split(line, ' ', true);
    if (f.size() != 3) continue;
    auto colon = f[0].find(':');
    if (colon == std::string::npos) continue;
    auto major = in::ParseUint(f[0].substr(0, colon)),
         minor = in::ParseUint(f[0].substr(colon + 1));
    auto value = in::ParseUint(f[2]);
    if (!major || !minor || !value) continue;
    out.push_back({*major, *minor, f[1], *value});
  }
  return out;
}

}  // namespace

Result<Stats> V1Manager::GetStats() {
  Stats s;
  auto dir = [&](const char* c) -> std::string {
    auto it = dirs_.find(c);
    return it == dirs_.end() ? "" : it->second;
  };
  BERTH_TRY_CTX(CpuStats(dir("cpuacct"), dir("cpu"), &s), "cgroup stats");
  if (auto m = dir("memory"); !m.empty()) BERTH_TRY_CTX(MemoryStats(m, &s), "cgroup stats");
  if (auto p = dir("pids"); !p.empty()) {
    s.pids.current = BERTH_TRY_CTX(in::ReadUint(p, "pids.current"), "cgroup stats");
    uint64_t max = BERTH_TRY_CTX(in::ReadUint(p, "pids.max"), "cgroup stats");
    s.pids.limit = max == UINT64_MAX ? 0 : max;
  }
  if (auto b = dir("blkio"); !b.empty()) {
    s.blkio.io_service_bytes_recursive =
        BERTH_TRY(BlkioEntries(b, "blkio.throttle.io_service_bytes_recursive"));
    s.blkio.io_serviced_recursive =
        BERTH_TRY(BlkioEntries(b, "blkio.throttle.io_serviced_recursive"));
  }
  if (auto h = dir("hugetlb"); !h.empty()) {
    for (const auto& size : BERTH_TRY(internal::HugetlbSizes(h, ".limit_in_bytes"))) {
      std::string p = "hugetlb." + size;
      s.hugetlb[size] = {ReadOr0(h, p + ".usage_in_bytes"), ReadOr0(h, p + ".max_usage_in_bytes"),
                         ReadOr0(h, p + ".failcnt")};
    }
  }
  return s;
}

}  // namespace berth::runtime::cgroups::v1
