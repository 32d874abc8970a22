// -u USER[:GROUP] and --group-add, resolved in the container's /etc/passwd and /etc/group as
// runc's user.GetExecUser does. The files are opened inside the rootfs (openat2
// RESOLVE_IN_ROOT): an image whose /etc/passwd is a symlink to the host's reads its own tree.

#include <fcntl.h>

#include <cerrno>
#include <charconv>
#include <optional>

#include "engine/container/spec_internal.h"
#include "runtime/rootfs/rootfs.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::engine::internal {
namespace {

constexpr size_t kMaxDbBytes = 4u << 20;

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<uint32_t> ParseId(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > UINT32_MAX)
    return std::nullopt;
  return static_cast<uint32_t>(v);
}

// The file's text, "" if it does not exist in the rootfs.
Result<std::string> ReadInRoot(int root, std::string_view path) {
  auto fd = runtime::rootfs::OpenInRoot(root, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT || fd.error().sys_errno() == ENOTDIR) return std::string();
    return std::move(fd).error().Wrap("read " + std::string(path) + " in the container");
  }
  return BERTH_TRY_CTX(ReadAll(fd->get(), kMaxDbBytes),
                       "read " + std::string(path) + " in the container");
}

std::vector<PasswdEntry> ParsePasswd(std::string_view text) {
  std::vector<PasswdEntry> out;
  for (const auto& line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, ':');
    if (f.size() < 4) continue;
    auto uid = ParseId(f[2]), gid = ParseId(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid, f.size() > 5 ? f[5] : ""});
  }
  return out;
}

std::vector<GroupEntry> ParseGroup(std::string_view text) {
  std::vector<GroupEntry> out;
  for (const auto& line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, ':');
    if (f.size() < 3) continue;
    auto gid = ParseId(f[2]);
    if (!gid) continue;
    out.push_back({f[0], *gid, f.size() > 3 ? Split(f[3], ',', true) : std::vector<std::string>{}});
  }
  return out;
}

Result<uint32_t> CheckRange(uint32_t id) {
  if (id > 2147483647u)
    return Error::InvalidArgument("uids and gids must be in range 0-2147483647");
  return id;
}

Result<uint32_t> FindGroup(const std::vector<GroupEntry>& groups, std::string_view arg) {
  auto num = ParseId(arg);
  for (const auto& g : groups)
    if (g.name == arg || (num && g.gid == *num)) return g.gid;
  if (num) return CheckRange(*num);
  return Error::InvalidArgument("unable to find group " + std::string(arg) +
                                ": no matching entries in group file");
}

}  // namespace

Result<ExecUser> ResolveUser(const std::string& rootfs, std::string_view user,
                             const std::vector<std::string>& group_add) {
  std::string passwd_text, group_text;
  if (!rootfs.empty()) {
    Fd root = BERTH_TRY_CTX(Fd::Open(rootfs, O_PATH | O_DIRECTORY), "open rootfs " + rootfs);
    passwd_text = BERTH_TRY(ReadInRoot(root.get(), "/etc/passwd"));
    group_text = BERTH_TRY(ReadInRoot(root.get(), "/etc/group"));
  }
  std::vector<PasswdEntry> passwd = ParsePasswd(passwd_text);
  std::vector<GroupEntry> groups = ParseGroup(group_text);

  std::string_view user_arg = user, group_arg;
  bool has_group = false;
  if (auto colon = user.find(':'); colon != std::string_view::npos) {
    user_arg = user.substr(0, colon);
    group_arg = user.substr(colon + 1);
    has_group = true;
  }
  ExecUser out;
  auto uid_num = user_arg.empty() ? std::optional<uint32_t>(0) : ParseId(user_arg);
  const PasswdEntry* matched = nullptr;
  for (const auto& e : passwd) {
    if ((!user_arg.empty() && e.name == user_arg) || (uid_num && e.uid == *uid_num)) {
      matched = &e;
      break;
    }
  }
  if (matched) {
    out.uid = matched->uid;
    out.gid = matched->gid;
    if (!matched->home.empty()) out.home = matched->home;
  } else if (uid_num) {
    out.uid = BERTH_TRY(CheckRange(*uid_num));
  } else {
    return Error::InvalidArgument("unable to find user " + std::string(user_arg) +
                                  ": no matching entries in passwd file");
  }
  if (has_group && !group_arg.empty()) {
    out.gid = BERTH_TRY(FindGroup(groups, group_arg));
  } else if (matched) {
    // The groups listing the user as a member, when no group was named.
    for (const auto& g : groups)
      for (const auto& m : g.members)
        if (m == matched->name) {
          out.additional_gids.push_back(g.gid);
          break;
        }
  }
  for (const auto& g : group_add) out.additional_gids.push_back(BERTH_TRY(FindGroup(groups, g)));
  return out;
}

}  // namespace berth::engine::internal
