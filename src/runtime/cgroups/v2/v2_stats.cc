// GetStats for cgroup v2, in the v1-shaped figures runc's fs2 manager reports.

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/stats_internal.h"
#include "runtime/cgroups/v2/v2_manager.h"
#include "util/file.h"

namespace berth::runtime::cgroups::v2 {

namespace in = internal;

namespace {

uint64_t Get(const std::map<std::string, uint64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

uint64_t ReadOr0(const std::string& dir, const std::string& file) {
  auto v = in::ReadUint(dir, file);
  return v ? *v : 0;
}

// "max" is no limit; runc reports it as the largest number, as v1 does.
uint64_t Limit(const std::string& dir, const std::string& file) { return ReadOr0(dir, file); }

void CpuStats(const std::string& dir, Stats* s) {
  auto stat = in::ReadKeyValues(dir, "cpu.stat");
  if (!stat) return;
  // cpu.stat counts microseconds; runc reports nanoseconds.
  s->cpu.total = Get(*stat, "usage_usec") * 1000;
  s->cpu.user = Get(*stat, "user_usec") * 1000;
  s->cpu.kernel = Get(*stat, "system_usec") * 1000;
  s->cpu.periods = Get(*stat, "nr_periods");
  s->cpu.throttled_periods = Get(*stat, "nr_throttled");
  s->cpu.throttled_time = Get(*stat, "throttled_usec") * 1000;
}

void MemoryStats(const std::string& dir, Stats* s) {
  auto raw = in::ReadKeyValues(dir, "memory.stat");
  if (!raw) return;
  s->memory.raw = std::move(*raw);
  s->memory.cache = Get(s->memory.raw, "file");
  s->memory.usage.usage = ReadOr0(dir, "memory.current");
  s->memory.usage.max = ReadOr0(dir, "memory.peak");
  s->memory.usage.limit = Limit(dir, "memory.max");
  // runc reports v2 swap as memory+swap, the v1 meaning.
  if (in::FileExists(dir, "memory.swap.current")) {
    s->memory.swap.usage = ReadOr0(dir, "memory.swap.current") + s->memory.usage.usage;
    uint64_t swap_max = Limit(dir, "memory.swap.max");
    s->memory.swap.limit = swap_max == UINT64_MAX || s->memory.usage.limit == UINT64_MAX
                               ? UINT64_MAX
                               : swap_max + s->memory.usage.limit;
  }
  if (auto ev = in::ReadKeyValues(dir, "memory.events")) {
    s->memory.usage.failcnt = Get(*ev, "max");
    s->oom_kill = Get(*ev, "oom_kill");
  }
}

// io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0".
void IoStats(const std::string& dir, Stats* s) {
  auto text = in::ReadFile(dir, "io.stat");
  if (!text) return;
  for (const auto& line : Split(*text, '\n', true)) {
    auto f = Split(line, ' ', true);
    if (f.empty()) continue;
    auto colon = f[0].find(':');
    if (colon == std::string::npos) continue;
    auto major = in::ParseUint(f[0].substr(0, colon));
    auto minor = in::ParseUint(f[0].substr(colon + 1));
    if (!major || !minor) continue;
    for (size_t i = 1; i < f.size(); ++i) {
      auto eq = f[i].find('=');
      if (eq == std::string::npos) continue;
      std::string key = f[i].substr(0, eq);
      auto v = in::ParseUint(f[i].substr(eq + 1));
      if (!v) continue;
      std::vector<Stats::BlkioEntry>* target = nullptr;
      std::string op;
      if (key == "rbytes") target = &s->blkio.io_service_bytes_recursive, op = "Read";
      if (key == "wbytes") target = &s->blkio.io_service_bytes_recursive, op = "Write";
      if (key == "rios") target = &s->blkio.io_serviced_recursive, op = "Read";
      if (key == "wios") target = &s->blkio.io_serviced_recursive, op = "Write";
      if (target) target->push_back({*major, *minor, op, *v});
    }
  }
}

}  // namespace

Result<void> V2Manager::HugetlbStats(Stats* s) const {
  for (const auto& size : BERTH_TRY(in::HugetlbSizes(dir_, ".max"))) {
    std::string p = "hugetlb." + size;
    Stats::Hugetlb h;
    h.usage = ReadOr0(dir_, p + ".current");
    if (auto ev = in::ReadKeyValues(dir_, p + ".events")) h.failcnt = Get(*ev, "max");
    s->hugetlb[size] = h;
  }
  return {};
}

Result<Stats> V2Manager::GetStats() {
  if (!PathExists(dir_)) return Error::NotFound("cgroup stats: no cgroup " + dir_);
  Stats s;
  CpuStats(dir_, &s);
  MemoryStats(dir_, &s);
  if (in::FileExists(dir_, "pids.current")) {
    s.pids.current = ReadOr0(dir_, "pids.current");
    uint64_t max = ReadOr0(dir_, "pids.max");
    s.pids.limit = max == UINT64_MAX ? 0 : max;
  }
  IoStats(dir_, &s);
  BERTH_TRY_CTX(HugetlbStats(&s), "cgroup stats");
  return s;
}

}  // namespace berth::runtime::cgroups::v2
