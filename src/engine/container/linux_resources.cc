// Capabilities, rlimits and device rules of a container, as Docker computes them
// (moby oci/caps, daemon/oci_linux.go), checked with Docker's messages.

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <set>

#include "engine/container/spec_internal.h"
#include "runtime/caps/caps.h"

namespace berth::engine::internal {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(uint8_t(c)));
  return s;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

struct UlimitName {
  const char* name;
  const char* rlimit;
};
constexpr UlimitName kUlimits[] = {
    {"core", "RLIMIT_CORE"},         {"cpu", "RLIMIT_CPU"},
    {"data", "RLIMIT_DATA"},         {"fsize", "RLIMIT_FSIZE"},
    {"locks", "RLIMIT_LOCKS"},       {"memlock", "RLIMIT_MEMLOCK"},
    {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
    {"nofile", "RLIMIT_NOFILE"},     {"nproc", "RLIMIT_NPROC"},
    {"rss", "RLIMIT_RSS"},           {"rtprio", "RLIMIT_RTPRIO"},
    {"rttime", "RLIMIT_RTTIME"},     {"sigpending", "RLIMIT_SIGPENDING"},
    {"stack", "RLIMIT_STACK"},
};

// -1 is unlimited.
uint64_t Limit(int64_t v) { return v < 0 ? UINT64_MAX : static_cast<uint64_t>(v); }

// A device node as linux.devices lists it, or nullopt if `path` is not one (lstat).
std::optional<oci::Device> DeviceAt(const std::string& path, const std::string& container_path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
    return std::nullopt;
  oci::Device d;
  d.type = S_ISCHR(st.st_mode) ? "c" : "b";
  d.path = container_path;
  d.major = major(st.st_rdev);
  d.minor = minor(st.st_rdev);
  d.file_mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  return d;
}

// Every device below dir (not following symlinks), as container_dir/<relative path>. The
// skipped directories hold per-instance nodes a container gets its own of (Docker's list).
void WalkDevices(const std::string& dir, const std::string& container_dir, int depth,
                 std::vector<oci::Device>* out) {
  static const std::set<std::string, std::less<>> kSkip = {"pts",  "shm",         "fd",   "mqueue",
                                                           ".lxc", ".lxd-mounts", ".udev"};
  if (depth > 16) return;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string path = dir + "/" + n, cpath = container_dir + "/" + n;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (!kSkip.count(n)) WalkDevices(path, cpath, depth + 1, out);
    } else if (auto dev = DeviceAt(path, cpath)) {
      if (depth == 0 && n == "console") continue;
      out->push_back(std::move(*dev));
    }
  }
}

oci::DeviceRule Rule(bool allow, std::string type, std::optional<int64_t> major,
                     std::optional<int64_t> minor, std::string access) {
  oci::DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

}  // namespace

Result<void> AddDevices(const HostConfig& host, const std::string& host_dev, oci::Linux* lx) {
  if (!lx->resources) lx->resources.emplace();
  auto& rules = lx->resources->devices;
  rules.push_back(Rule(false, "", std::nullopt, std::nullopt, "rwm"));
  rules.push_back(Rule(true, "c", std::nullopt, std::nullopt, "m"));
  rules.push_back(Rule(true, "b", std::nullopt, std::nullopt, "m"));
  // null, zero, full, random, urandom, tty, console, ptmx, pts/*
  for (auto [maj, min] :
       {std::pair<int64_t, int64_t>{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}})
    rules.push_back(Rule(true, "c", maj, min, "rwm"));
  rules.push_back(Rule(true, "c", 136, std::nullopt, "rwm"));
  if (host.privileged) {
    WalkDevices(host_dev, "/dev", 0, &lx->devices);
    rules.push_back(Rule(true, "a", std::nullopt, std::nullopt, "rwm"));
  }
  for (const auto& m : host.devices) {
    auto error = [&](std::string_view why) {
      return Error::InvalidArgument(
          "error gathering device information while adding custom device \"" + m.path_on_host +
          "\": " + std::string(why));
    };
    char resolved[PATH_MAX];
    if (!::realpath(m.path_on_host.c_str(), resolved)) {
      std::string why = std::strerror(errno);  // Go's wording: lowercase
      if (!why.empty()) why[0] = static_cast<char>(std::tolower(uint8_t(why[0])));
      return error(why);
    }
    std::string dest = m.path_in_container.empty() ? m.path_on_host : m.path_in_container;
    std::vector<oci::Device> found;
    struct stat st;
    if (::stat(resolved, &st) == 0 && S_ISDIR(st.st_mode)) {
      WalkDevices(resolved, dest, 1, &found);
    } else if (auto dev = DeviceAt(resolved, dest)) {
      found.push_back(std::move(*dev));
    } else {
      return error("not a device node");
    }
    for (auto& d : found) {
      rules.push_back(Rule(true, d.type, d.major, d.minor, m.cgroup_permissions));
      std::erase_if(lx->devices, [&](const oci::Device& x) { return x.path == d.path; });
      lx->devices.push_back(std::move(d));
    }
  }
  for (const auto& r : host.device_cgroup_rules) rules.push_back(BERTH_TRY(ParseDeviceRule(r)));
  return {};
}

const std::vector<std::string>& DefaultCaps() {
  static const std::vector<std::string> k = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return k;
}

const std::vector<std::string>& DefaultMaskedPaths() {
  static const std::vector<std::string> k = {"/proc/asound",
                                             "/proc/acpi",
                                             "/proc/kcore",
                                             "/proc/keys",
                                             "/proc/latency_stats",
                                             "/proc/timer_list",
                                             "/proc/timer_stats",
                                             "/proc/sched_debug",
                                             "/proc/scsi",
                                             "/sys/firmware",
                                             "/sys/devices/virtual/powercap"};
  return k;
}

const std::vector<std::string>& DefaultReadonlyPaths() {
  static const std::vector<std::string> k = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                             "/proc/sysrq-trigger"};
  return k;
}

std::vector<std::string> AllCaps() {
  // What berthd itself may hand out: its bounding set. Where root lacks a capability (a host
  // without CAP_SYS_RESOURCE) asking for every known one would fail the start's capset, so
  // --privileged and --cap-add ALL get what there is, as podman does.
  std::vector<std::string> out;
  for (auto& name : runtime::caps::KnownNames())
    if (::prctl(PR_CAPBSET_READ, runtime::caps::FromName(name), 0, 0, 0) == 1)
      out.push_back(std::move(name));
  return out;
}

Result<std::vector<std::string>> NormalizeCaps(const std::vector<std::string>& caps) {
  std::vector<std::string> out;
  for (const auto& c : caps) {
    std::string n = Upper(c);
    if (n != "ALL") {
      if (!n.starts_with("CAP_")) n = "CAP_" + n;
      if (runtime::caps::FromName(n) < 0)
        return Error::InvalidArgument("unknown capability: \"" + n + "\"");
    }
    if (!Contains(out, n)) out.push_back(std::move(n));
  }
  return out;
}

Result<std::vector<std::string>> ContainerCaps(const HostConfig& host) {
  if (host.privileged) return AllCaps();
  auto add = BERTH_TRY(NormalizeCaps(host.cap_add));
  auto drop = BERTH_TRY(NormalizeCaps(host.cap_drop));
  std::vector<std::string> out;
  auto push = [&](const std::string& c) {
    if (!Contains(out, c)) out.push_back(c);
  };
  if (Contains(add, "ALL")) {
    for (const auto& c : AllCaps())
      if (!Contains(drop, c)) push(c);
  } else if (Contains(drop, "ALL")) {
    for (const auto& c : add) push(c);
  } else {
    for (const auto& c : DefaultCaps())
      if (!Contains(drop, c)) push(c);
    for (const auto& c : add) push(c);
  }
  // Names this kernel does not have (CAP_CHECKPOINT_RESTORE on an old one) stay out.
  std::vector<std::string> known = runtime::caps::KnownNames();
  std::erase_if(out, [&](const std::string& c) { return !Contains(known, c); });
  return out;
}

Result<void> CheckUlimit(const Ulimit& u) {
  BERTH_TRY(ToRlimit(u));
  return {};
}

Result<oci::Rlimit> ToRlimit(const Ulimit& u) {
  const UlimitName* found = nullptr;
  for (const auto& n : kUlimits)
    if (u.name == n.name) found = &n;
  if (!found) return Error::InvalidArgument("invalid ulimit type: " + u.name);
  if (u.soft < -1 || u.hard < -1)
    return Error::InvalidArgument("invalid ulimit " + u.name + ": negative value");
  if (Limit(u.soft) > Limit(u.hard))
    return Error::InvalidArgument("ulimit soft limit must be less than or equal to hard limit: " +
                                  std::to_string(u.soft) + " > " + std::to_string(u.hard));
  return oci::Rlimit{found->rlimit, Limit(u.hard), Limit(u.soft)};
}

Result<oci::DeviceRule> ParseDeviceRule(std::string_view rule) {
  auto bad = [&] {
    return Error::InvalidArgument("invalid device cgroup format '" + std::string(rule) + "'");
  };
  // ^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$
  if (rule.size() < 7 || (rule[0] != 'a' && rule[0] != 'b' && rule[0] != 'c') || rule[1] != ' ')
    return bad();
  std::string_view rest = rule.substr(2);
  auto sp = rest.find(' ');
  auto colon = rest.find(':');
  if (sp == std::string_view::npos || colon == std::string_view::npos || colon > sp) return bad();
  auto number = [&](std::string_view n) -> std::optional<std::optional<int64_t>> {
    if (n == "*") return std::optional<int64_t>();
    if (n.empty() || n.size() > 9 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return std::isdigit(uint8_t(c)); }))
      return std::nullopt;
    return std::optional<int64_t>(std::stoll(std::string(n)));
  };
  auto major = number(rest.substr(0, colon));
  auto minor = number(rest.substr(colon + 1, sp - colon - 1));
  std::string_view access = rest.substr(sp + 1);
  if (!major || !minor || access.empty() || access.size() > 3 ||
      access.find_first_not_of("rwm") != std::string_view::npos)
    return bad();
  oci::DeviceRule r;
  r.allow = true;
  r.type = std::string(1, rule[0]);
  r.major = *major;
  r.minor = *minor;
  r.access = std::string(access);
  return r;
}

}  // namespace berth::engine::internal
