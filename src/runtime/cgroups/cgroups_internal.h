#pragma once

// Helpers shared by the v1, v2 and hybrid managers: cgroupfs file access, path resolution and
// the unit conversions between the OCI (v1-shaped) resources and the v2 interface files.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::runtime::cgroups::internal {

// ---- cgroupfs files (fs.cc) ----

/// Writes value to dir/file with one open(O_WRONLY|O_TRUNC) + write + close; no O_CREAT:
/// cgroupfs files are made by the kernel, a missing one is NotFound. The error names the value
/// and the file ("write 64 to /sys/fs/cgroup/pids/x/pids.max: invalid argument").
Result<void> WriteFile(const std::string& dir, std::string_view file, std::string_view value);
/// Writes each line with its own write(2) on one open fd: files that take one entry per write
/// (devices.allow, blkio.throttle.*, io.max, net_prio.ifpriomap).
Result<void> WriteLines(const std::string& dir, std::string_view file,
                        const std::vector<std::string>& lines);
/// The file's content without surrounding white space.
Result<std::string> ReadFile(const std::string& dir, std::string_view file);
bool FileExists(const std::string& dir, std::string_view file);
/// A decimal number; "max" reads as UINT64_MAX.
Result<uint64_t> ReadUint(const std::string& dir, std::string_view file);
/// "key value" lines (memory.stat, cpu.stat, cgroup.events, ...). Lines that do not parse are
/// skipped.
Result<std::map<std::string, uint64_t>> ReadKeyValues(const std::string& dir,
                                                      std::string_view file);
/// Parses a decimal uint64 ("max" → UINT64_MAX); nullopt if s is not a number.
std::optional<uint64_t> ParseUint(std::string_view s);

/// mkdir -p, with one mkdir(2) when the parent exists.
Result<void> MakeDir(const std::string& path);
/// The pids in dir/cgroup.procs and in every descendant's, appended to out.
Result<void> CollectPids(const std::string& dir, std::vector<pid_t>* out);
/// rmdir of every descendant (deepest first), then of dir; a missing dir is fine. EBUSY is
/// retried for a short while (a process just killed may still be leaving); a cgroup that
/// still holds processes is Conflict.
Result<void> RemoveCgroup(const std::string& dir);
void SleepMicros(int us);
/// Calls pred (a callable returning Result<bool>) until it gives true, an error, or about
/// timeout_ms have passed; sleeps 100 us first, doubling up to 10 ms. Returns the last answer.
template <typename Pred>
Result<bool> PollUntil(Pred pred, int timeout_ms) {
  int waited_us = 0, step_us = 100;
  for (;;) {
    bool done = BERTH_TRY(pred());
    if (done) return true;
    if (waited_us >= timeout_ms * 1000) return false;
    SleepMicros(step_us);
    waited_us += step_us;
    step_us = step_us * 2 > 10000 ? 10000 : step_us * 2;
  }
}

// ---- paths (path.cc) ----

/// Checks and normalises a cgroupsPath: no empty path, no "..", no path that names the root.
/// Returns it without duplicate slashes or "." components; absolute paths keep their "/".
Result<std::string> CleanPath(const std::string& path);
/// /proc/self/cgroup parsed: v1 controller ("memory", "name=systemd") → path, and "" → the v2
/// path.
std::map<std::string, std::string> ParseProcCgroup(std::string_view text);
/// The path of the cgroup within hierarchy `key` ("" is v2): absolute paths as they are,
/// relative ones under own[key] (or "/" if the process is in no cgroup of that hierarchy).
std::string PathInHierarchy(const std::string& clean_path,
                            const std::map<std::string, std::string>* own, const std::string& key);

// ---- conversions (convert.cc) ----

/// cpu.shares [2, 262144] → cpu.weight [1, 10000], as runc and crun: 1 + ((s-2)*9999)/262142.
uint64_t SharesToWeight(uint64_t shares);
/// blkio.weight [10, 1000] → io.weight [1, 10000]: 1 + (w-10)*9999/990.
uint64_t BlkioWeightToIoWeight(uint64_t weight);
/// OCI memory.swap is memory+swap; v2's memory.swap.max is swap alone. Returns the value to
/// write ("max", a number), or nullopt when nothing should be written.
Result<std::optional<std::string>> SwapToV2(std::optional<int64_t> swap,
                                            std::optional<int64_t> limit);
/// A page size as runc names it in hugetlb stats: 2048 KiB → "2MB", 1048576 KiB → "1GB".
std::string PageSizeName(uint64_t kib);

}  // namespace berth::runtime::cgroups::internal
