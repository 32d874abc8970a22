#pragma once

// CgroupManager: one container's cgroup, on whatever hierarchy the host mounts.
//
// Lifecycle, as the runtime uses it:
//   auto layout = BERTH_TRY(cgroups::Detect());             // once per process
//   auto cg = BERTH_TRY(cgroups::NewManager(layout, "/berth/web"));
//   BERTH_TRY(cg->Create());                                 // mkdir in every hierarchy
//   BERTH_TRY(cg->Apply(resources));                         // limits, before the process runs
//   BERTH_TRY(cg->AddProcess(pid));                          // the container's init
//   ... Freeze()/Thaw(), Stats(), Pids(), Apply() again for `update` ...
//   BERTH_TRY(cg->Destroy());                                // rmdir everywhere, once empty
//
// A manager is cheap to make again later from the same path (exec, kill --all, delete): it
// holds no kernel state of its own. Not thread-safe; one per container per thread.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "oci/runtime_spec.h"
#include "util/result.h"

namespace berth::runtime::cgroups {

/// How the host mounts cgroups: all v1 (legacy), all v2 (unified), or v1 controllers plus a
/// v2 hierarchy that may hold some controllers (hybrid: this machine, with hugetlb on v2).
enum class Mode { kLegacy, kHybrid, kUnified };

struct Layout {
  Mode mode = Mode::kLegacy;
  /// v1: controller name ("memory", "cpu", "cpuacct", "name=systemd", ...) → mount point.
  /// Co-mounted controllers ("cpu,cpuacct") appear once per name with the same mount point.
  std::map<std::string, std::string> v1;
  /// v2 mount point ("/sys/fs/cgroup" or "/sys/fs/cgroup/unified"); empty if none.
  std::string unified;
  /// Controllers enabled on the v2 hierarchy (its cgroup.controllers).
  std::vector<std::string> unified_controllers;
};

/// Reads /proc/self/mountinfo (and the v2 root's cgroup.controllers).
Result<Layout> Detect();
/// The same from given file contents, for tests.
Result<Layout> ParseLayout(std::string_view mountinfo, std::string_view unified_controllers);

enum class FreezerState { kThawed, kFreezing, kFrozen };

/// The figures `runc events --stats` prints, in runc's JSON shape (see StatsToJson).
struct Stats {
  struct Cpu {
    uint64_t total = 0, kernel = 0, user = 0;  // ns
    std::vector<uint64_t> percpu;
    uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;
  } cpu;
  struct MemoryEntry {
    uint64_t limit = 0, usage = 0, max = 0, failcnt = 0;
  };
  struct Memory {
    uint64_t cache = 0;
    MemoryEntry usage, swap, kernel, kernel_tcp;
    std::map<std::string, uint64_t> raw;  // memory.stat
  } memory;
  struct Pids {
    uint64_t current = 0, limit = 0;  // limit 0: none
  } pids;
  struct BlkioEntry {
    uint64_t major = 0, minor = 0;
    std::string op;
    uint64_t value = 0;
  };
  struct Blkio {
    std::vector<BlkioEntry> io_service_bytes_recursive, io_serviced_recursive;
  } blkio;
  struct Hugetlb {
    uint64_t usage = 0, max = 0, failcnt = 0;
  };
  std::map<std::string, Hugetlb> hugetlb;  // page size ("2MB") → figures
  uint64_t oom_kill = 0;                   // memory.oom_control oom_kill / memory.events oom_kill
};

/// runc's `events --stats` "data" object.
std::string StatsToJson(const Stats& stats);

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;

  /// Makes the cgroup in every hierarchy (parents included). Existing is fine.
  virtual Result<void> Create() = 0;
  /// Moves a process (all its threads) in, in every hierarchy.
  virtual Result<void> AddProcess(pid_t pid) = 0;
  /// Writes the limits. Only fields that are set (and, as in runc, non-zero) are written. A
  /// limit whose controller the host lacks is FailedPrecondition naming it; a kernel without
  /// the file (memory.memsw.*: "swap limit not supported by the kernel", cpu burst, blkio
  /// weight without cfq/bfq) is NotImplemented. A blockIO section with nothing set needs no
  /// blkio/io controller; net_cls/net_prio not mounted and the deprecated kernel memory limits
  /// are skipped with a debug log. v2: linux.resources.unified keys are written as files (a key
  /// with "/" or ".." is InvalidArgument); v1: unified is InvalidArgument; hybrid: unified keys
  /// and hugetlb go to the v2 directory. Device rules: v1 devices.deny "a" then the rules in
  /// order; v2 an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program that replaces any earlier one.
  virtual Result<void> Apply(const oci::Resources& resources) = 0;
  virtual Result<void> Freeze() = 0;
  virtual Result<void> Thaw() = 0;
  virtual Result<FreezerState> GetFreezerState() = 0;
  virtual Result<Stats> GetStats() = 0;
  /// Every process in the cgroup and its children.
  virtual Result<std::vector<pid_t>> Pids() = 0;
  /// Removes the cgroup (children first) in every hierarchy; a missing one is fine. Fails with
  /// Conflict if processes remain.
  virtual Result<void> Destroy() = 0;
  /// Hierarchy → absolute directory of this cgroup ("memory" → /sys/fs/cgroup/memory/berth/x;
  /// "" → the v2 directory), for state and for tests.
  virtual std::map<std::string, std::string> Paths() const = 0;
};

/// A manager for the cgroup at `path` (absolute within each hierarchy, "/berth/web"; a relative
/// path is taken under the calling process's own cgroup, as runc does). An empty path or one
/// with ".." is InvalidArgument. Picks v1, v2 or the hybrid of both by layout.mode.
Result<std::unique_ptr<CgroupManager>> NewManager(const Layout& layout, const std::string& path);

/// "a:b:c" in runc's systemd form (slice:prefix:name) is NotImplemented here: this host runs no
/// systemd. Returns the error `--systemd-cgroup` gives.
Error SystemdUnavailable();

}  // namespace berth::runtime::cgroups
