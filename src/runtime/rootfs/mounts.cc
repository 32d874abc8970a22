// One spec.mounts entry: bind mounts, cgroup hierarchies, and every other filesystem type
// passed to mount(2) as it is. Destinations are made and opened inside the rootfs
// (MakeMountPoint) and mounted through /proc/self/fd.

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "runtime/rootfs/rootfs_internal.h"
#include "util/file.h"

namespace berth::runtime::rootfs::internal {
namespace {

// What may be mounted under /proc, besides procfs on /proc itself: the files lxcfs and
// Kubernetes override. Anything else could hide or replace what the kernel reports about the
// container (runc's checkProcMount refuses the same way).
constexpr std::array<std::string_view, 10> kProcAllowed = {
    "/proc/cpuinfo", "/proc/diskstats",
    "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo",
    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

// dest: a clean absolute path inside the container.
Result<void> CheckProcDest(const std::string& dest, bool is_procfs) {
  if (dest == "/proc") {
    if (is_procfs) return {};
    return Error::InvalidArgument("mount destination /proc: only procfs may be mounted there");
  }
  if (!dest.starts_with("/proc/")) return {};
  if (std::find(kProcAllowed.begin(), kProcAllowed.end(), dest) != kProcAllowed.end()) return {};
  return Error::InvalidArgument("mount destination " + dest + ": inside /proc");
}

// The path fd resolved to, relative to the rootfs (so a symlink that led into /proc is seen).
Result<void> CheckResolvedDest(int root_fd, int fd, const std::string& dest, bool is_procfs) {
  auto link = [](int f) -> std::string {
    char buf[4096];
    ssize_t n = ::readlink(FdPath(f).c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  std::string root = link(root_fd), path = link(fd);
  if (root.empty() || path.empty()) return {};  // no /proc: nothing to compare
  if (root == "/") root.clear();
  if (!path.starts_with(root)) return {};
  std::string rel = path.substr(root.size());
  if (rel.empty()) rel = "/";
  if (rel == dest) return {};
  if (CheckProcDest(rel, is_procfs)) return {};
  return Error::InvalidArgument("mount destination " + dest + ": resolves to " + rel +
                                ", inside /proc");
}

// Reopens dest after a mount: the old fd still names the directory under the new mount.
Result<Fd> OpenTop(int root_fd, const std::string& dest, std::string_view what) {
  return BERTH_TRY_CTX(OpenInRoot(root_fd, dest, O_PATH), what);
}

Result<void> FinishMount(int root_fd, const std::string& dest, const MountOptions& mo,
                         std::string_view what) {
  if (mo.attr_set == 0 && mo.attr_clr == 0 && mo.propagation == 0) return {};
  Fd top = BERTH_TRY(OpenTop(root_fd, dest, what));
  BERTH_TRY(ApplyRecursiveAttrs(top.get(), mo, what));
  return ApplyPropagation(top.get(), mo.propagation, what);
}

// Flags a bind remount sets; the bind itself ignores them (mount(2), MS_BIND).
constexpr unsigned long kRemountMask =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_MANDLOCK | MS_DIRSYNC |
    MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW | MS_LAZYTIME;

Result<void> BindMount(int root_fd, std::string source, const std::string& dest,
                       const MountOptions& mo, const Options& opts) {
  if (!source.starts_with("/")) source = JoinPath(opts.bundle, source);
  std::string what = "mount " + source + " on " + dest;
  Fd src = BERTH_TRY_CTX(Fd::Open(source, O_PATH), what);
  struct stat st;
  if (::fstat(src.get(), &st) != 0) return Error::FromErrno(errno, what + ": stat");
  struct statfs sfs;
  bool src_procfs = ::fstatfs(src.get(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
  BERTH_TRY(CheckProcDest(dest, src_procfs));
  Fd target = BERTH_TRY(MakeMountPoint(root_fd, dest, S_ISDIR(st.st_mode)));
  BERTH_TRY(CheckResolvedDest(root_fd, target.get(), dest, src_procfs));
  unsigned long flags = MS_BIND | (mo.recursive ? MS_REC : 0);
  BERTH_TRY(MountOnFd(FdPath(src.get()).c_str(), target.get(), nullptr, flags, "", what));
  if (mo.flags & kRemountMask) {
    Fd top = BERTH_TRY(OpenTop(root_fd, dest, what));
    BERTH_TRY(RemountBind(top.get(), mo.flags & kRemountMask, false, "remount " + dest));
  }
  return FinishMount(root_fd, dest, mo, what);
}

// "name=systemd" → "systemd"; co-mounted controllers keep the host's "cpu,cpuacct".
std::string HierarchyDirName(std::vector<std::string> names) {
  for (auto& n : names) {
    if (n.starts_with("name=")) n = n.substr(5);
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// The v2 directory of the calling process ("0::/path" in /proc/self/cgroup).
std::string OwnUnifiedCgroup() {
  auto text = ReadFile("/proc/self/cgroup");
  if (!text) return "";
  for (const auto& line : Split(*text, '\n', true)) {
    if (line.starts_with("0::")) return JoinPath("/sys/fs/cgroup", line.substr(3));
  }
  return "";
}

Result<void> MountCgroup2(int root_fd, const oci::Mount& m, const std::string& dest,
                          const MountOptions& mo, const Options& opts) {
  std::string what = "mount cgroup2 on " + dest;
  Fd target = BERTH_TRY(MakeMountPoint(root_fd, dest, true));
  std::string dir;
  if (auto it = opts.cgroup_paths.find(""); it != opts.cgroup_paths.end()) dir = it->second;
  if (!opts.new_cgroup_ns && dir.empty()) dir = OwnUnifiedCgroup();
  if (opts.new_cgroup_ns || dir.empty()) {
    // A fresh cgroup2 shows the root of the cgroup namespace: the container's own cgroup.
    BERTH_TRY(MountOnFd("cgroup2", target.get(), "cgroup2", mo.flags & ~MS_BIND, mo.data, what));
    return FinishMount(root_fd, dest, mo, what);
  }
  MountOptions bind = mo;
  bind.recursive = true;
  return BindMount(root_fd, dir, dest, bind, opts);
}

// cgroup v1, as runc: a tmpfs at dest, then one bind per hierarchy of this container's
// cgroup, named as the host names it, and symlinks for co-mounted controllers (cpu →
// cpu,cpuacct).
Result<void> MountCgroupV1(int root_fd, const oci::Mount& m, const std::string& dest,
                           const MountOptions& mo, const Options& opts) {
  std::string what = "mount cgroup on " + dest;
  Fd target = BERTH_TRY(MakeMountPoint(root_fd, dest, true));
  unsigned long tmpfs_flags = mo.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  BERTH_TRY(MountOnFd("tmpfs", target.get(), "tmpfs", tmpfs_flags, "mode=755", what));
  std::map<std::string, std::vector<std::string>> by_dir;
  for (const auto& [name, dir] : opts.cgroup_paths)
    by_dir[dir].push_back(name.empty() ? "unified" : name);
  for (const auto& [dir, names] : by_dir) {
    std::string sub = dest + "/" + HierarchyDirName(names);
    MountOptions bind;
    bind.bind = bind.recursive = true;
    bind.flags = (mo.flags & kRemountMask) | MS_BIND | MS_REC;
    BERTH_TRY(BindMount(root_fd, dir, sub, bind, opts));
  }
  Fd top = BERTH_TRY(OpenTop(root_fd, dest, what));
  for (const auto& [dir, names] : by_dir) {
    std::string joined = HierarchyDirName(names);
    if (names.size() < 2) continue;
    for (const auto& n : Split(joined, ',')) {
      if (::symlinkat(joined.c_str(), top.get(), n.c_str()) != 0 && errno != EEXIST)
        return Error::FromErrno(errno, what + ": symlink " + n);
    }
  }
  if (mo.flags & MS_RDONLY) BERTH_TRY(RemountBind(top.get(), mo.flags & kRemountMask, false, what));
  return FinishMount(root_fd, dest, mo, what);
}

}  // namespace

bool IsBind(const oci::Mount& m) {
  if (m.type == "bind") return true;
  return std::any_of(m.options.begin(), m.options.end(),
                     [](const std::string& o) { return o == "bind" || o == "rbind"; });
}

Result<void> MountEntry(int root_fd, const oci::Mount& m, const Options& opts) {
  std::string dest = CleanPath(m.destination);
  MountOptions mo = ParseMountOptions(m.options);
  if (mo.idmap) return Error::NotImplemented("mount " + dest + ": idmapped mounts");
  if (IsBind(m)) {
    mo.bind = true;
    return BindMount(root_fd, m.source, dest, mo, opts);
  }
  if (m.type == "sysfs" && !opts.new_net_ns) {
    // sysfs shows the network devices of the mounting process's network namespace, and the
    // kernel refuses a fresh one outside a new one: bind the host's, as runc does.
    mo.bind = mo.recursive = true;
    return BindMount(root_fd, "/sys", dest, mo, opts);
  }
  if (m.type == "cgroup") {
    bool v1 = std::any_of(opts.cgroup_paths.begin(), opts.cgroup_paths.end(),
                          [](const auto& kv) { return !kv.first.empty(); });
    if (v1) return MountCgroupV1(root_fd, m, dest, mo, opts);
    return MountCgroup2(root_fd, m, dest, mo, opts);
  }
  if (m.type == "cgroup2") return MountCgroup2(root_fd, m, dest, mo, opts);

  std::string type = m.type.empty() ? "none" : m.type;
  std::string what = "mount " + type + " on " + dest;
  bool is_procfs = type == "proc";
  BERTH_TRY(CheckProcDest(dest, is_procfs));
  Fd target = BERTH_TRY(MakeMountPoint(root_fd, dest, true));
  BERTH_TRY(CheckResolvedDest(root_fd, target.get(), dest, is_procfs));
  std::string source = m.source.empty() ? type : m.source;
  BERTH_TRY(MountOnFd(source.c_str(), target.get(), m.type.empty() ? nullptr : m.type.c_str(),
                      mo.flags, mo.data, what));
  return FinishMount(root_fd, dest, mo, what);
}

}  // namespace berth::runtime::rootfs::internal
