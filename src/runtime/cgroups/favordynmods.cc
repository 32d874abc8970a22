#include "runtime/cgroups/favordynmods.h"

#include <sys/mount.h>

#include <cerrno>

#include "util/file.h"

namespace berth::runtime::cgroups {
namespace {

struct MountEntry {
  std::string mount_point;
  std::string mount_options;  // per mount: rw,nosuid,nodev,noexec,relatime
  std::string fs_type;
  std::string source;
  std::string super_options;  // per superblock: rw,memory / rw,nsdelegate
};

Result<MountEntry> FindMount(const std::string& mount_point) {
  std::string text = BERTH_TRY(ReadFile("/proc/self/mountinfo", 4u << 20));
  for (const auto& line : Split(text, '\n', true)) {
    auto fields = Split(line, ' ', true);
    // id parent major:minor root mount-point options [optional...] - type source super-options
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 3 >= fields.size() + 0 || fields[4] != mount_point) continue;
    if (dash + 3 > fields.size()) continue;
    MountEntry e;
    e.mount_point = fields[4];
    e.mount_options = fields[5];
    e.fs_type = fields[dash + 1];
    e.source = fields[dash + 2];
    e.super_options = dash + 3 < fields.size() ? fields[dash + 3] : "";
    return e;
  }
  return Error::NotFound("no mount at " + mount_point);
}

std::string TargetMount(const Layout& layout) {
  if (!layout.unified.empty()) return layout.unified;
  for (const auto& [controller, path] : layout.v1)
    if (controller.rfind("name=", 0) != 0) return path;
  return "";
}

bool HasOption(const std::string& options, std::string_view name) {
  for (const auto& o : Split(options, ',', true))
    if (o == name) return true;
  return false;
}

unsigned long MountFlags(const std::string& options) {
  unsigned long flags = 0;
  for (const auto& o : Split(options, ',', true)) {
    if (o == "ro") flags |= MS_RDONLY;
    if (o == "nosuid") flags |= MS_NOSUID;
    if (o == "nodev") flags |= MS_NODEV;
    if (o == "noexec") flags |= MS_NOEXEC;
    if (o == "relatime") flags |= MS_RELATIME;
    if (o == "noatime") flags |= MS_NOATIME;
    if (o == "strictatime") flags |= MS_STRICTATIME;
    if (o == "nodiratime") flags |= MS_NODIRATIME;
  }
  return flags;
}

}  // namespace

Result<bool> FavorDynmodsEnabled(const Layout& layout) {
  std::string target = TargetMount(layout);
  if (target.empty()) return Error::NotFound("no cgroup hierarchy mounted");
  MountEntry e = BERTH_TRY(FindMount(target));
  return HasOption(e.super_options, "favordynmods");
}

Result<bool> EnableFavorDynmods(const Layout& layout) {
  std::string target = TargetMount(layout);
  if (target.empty()) return Error::NotFound("no cgroup hierarchy mounted");
  MountEntry e = BERTH_TRY(FindMount(target));
  if (HasOption(e.super_options, "favordynmods")) return false;
  // Keep every superblock option (controller names on v1, nsdelegate and friends on v2): a
  // remount resets what it is not given.
  std::string data;
  for (const auto& o : Split(e.super_options, ',', true)) {
    if (o == "rw" || o == "ro") continue;
    data += o + ",";
  }
  data += "favordynmods";
  if (::mount(e.source.c_str(), target.c_str(), e.fs_type.c_str(),
              MS_REMOUNT | MountFlags(e.mount_options), data.c_str()) < 0)
    return Error::FromErrno(errno, "remount " + target + " with favordynmods");
  return true;
}

}  // namespace berth::runtime::cgroups
