// Detect: which cgroup hierarchies the host mounts, from /proc/self/mountinfo (proc(5)):
//
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)   (4)   (5)      (6)        (7)  (8)  (9)     (10)        (11)
//
// (7) is zero or more optional fields ended by "-"; (9) the file system type ("cgroup",
// "cgroup2"); (11) its super options, which for v1 name the controllers of the hierarchy
// ("rw,cpu,cpuacct", "rw,xattr,name=systemd").

#include <algorithm>
#include <array>
#include <string_view>

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/manager.h"
#include "util/file.h"

namespace berth::runtime::cgroups {

namespace {

constexpr std::array<std::string_view, 15> kV1Controllers = {
    "cpuset",   "cpu",        "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
    "net_prio", "perf_event", "hugetlb", "pids",  "rdma",   "misc",    "debug"};

bool IsV1Controller(std::string_view opt) {
  if (opt.starts_with("name=")) return opt.size() > 5;
  return std::find(kV1Controllers.begin(), kV1Controllers.end(), opt) != kV1Controllers.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A v2 mount at the usual places wins over others (bind mounts inside containers, tests).
int UnifiedRank(const std::string& mount_point) {
  if (mount_point == "/sys/fs/cgroup") return 0;
  if (mount_point == "/sys/fs/cgroup/unified") return 1;
  return 2;
}

Result<void> SetMode(Layout* layout) {
  bool real_v1 = std::any_of(layout->v1.begin(), layout->v1.end(),
                             [](const auto& kv) { return !kv.first.starts_with("name="); });
  if (!real_v1 && layout->unified.empty()) {
    if (layout->v1.empty()) return Error::NotFound("detect cgroups: no cgroup hierarchy mounted");
    return Error::NotFound("detect cgroups: only named v1 hierarchies are mounted, no controllers");
  }
  if (!real_v1) {
    layout->mode = Mode::kUnified;
  } else if (!layout->unified.empty() && !layout->unified_controllers.empty()) {
    layout->mode = Mode::kHybrid;
  } else {
    layout->mode = Mode::kLegacy;
  }
  return {};
}

}  // namespace

Result<Layout> ParseLayout(std::string_view mountinfo, std::string_view unified_controllers) {
  Layout layout;
  for (const auto& line : Split(mountinfo, '\n', true)) {
    std::vector<std::string> f = Split(line, ' ', true);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || dash + 3 > f.end()) continue;
    const std::string& fstype = *(dash + 1);
    if (fstype == "cgroup2") {
      std::string mp = Unescape(f[4]);
      if (layout.unified.empty() || UnifiedRank(mp) < UnifiedRank(layout.unified))
        layout.unified = mp;
    } else if (fstype == "cgroup") {
      std::string mp = Unescape(f[4]);
      for (const auto& opt : Split(*(dash + 3), ',', true)) {
        if (IsV1Controller(opt)) layout.v1.emplace(opt, mp);  // the first mount wins
      }
    }
  }
  if (!layout.unified.empty()) {
    for (const auto& c : Split(Trim(unified_controllers), ' ', true)) {
      if (!Trim(c).empty()) layout.unified_controllers.emplace_back(Trim(c));
    }
  }
  BERTH_TRY(SetMode(&layout));
  return layout;
}

Result<Layout> Detect() {
  std::string mountinfo = BERTH_TRY_CTX(berth::ReadFile("/proc/self/mountinfo"), "detect cgroups");
  Layout layout = BERTH_TRY(ParseLayout(mountinfo, ""));
  if (layout.unified.empty()) return layout;
  // A v2 hierarchy with no controllers (systemd's hybrid default) leaves the host legacy.
  if (auto c = internal::ReadFile(layout.unified, "cgroup.controllers")) {
    for (const auto& name : Split(*c, ' ', true)) layout.unified_controllers.push_back(name);
  }
  BERTH_TRY(SetMode(&layout));
  return layout;
}

}  // namespace berth::runtime::cgroups
