#include "engine/fs/changes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>

#include "util/fd.h"

namespace berth::engine::fs {
namespace {

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool IsOpaque(int fd) {
  char v[2];
  ssize_t n = ::fgetxattr(fd, "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

Result<std::vector<std::string>> Names(int dir_fd, const std::string& what) {
  int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return Error::FromErrno(errno, what);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return Error::FromErrno(errno, what);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// The lower layers' view of one directory: the directories of each layer that merge there,
// top first (a layer drops out below a whiteout, a non-directory or an opaque directory).
struct LowerDir {
  std::vector<Fd> layers;

  /// What the lower view has at name, if anything.
  std::optional<struct stat> Lookup(const std::string& name) const {
    for (const auto& l : layers) {
      struct stat st;
      if (::fstatat(l.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (IsWhiteout(st)) return std::nullopt;
      return st;
    }
    return std::nullopt;
  }

  /// The lower view of the directory name.
  LowerDir Child(const std::string& name) const {
    LowerDir out;
    for (const auto& l : layers) {
      struct stat st;
      if (::fstatat(l.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (!S_ISDIR(st.st_mode)) break;  // a whiteout or a file hides what lies below
      int fd = ::openat(l.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) break;
      out.layers.emplace_back(fd);
      if (IsOpaque(fd)) break;
    }
    return out;
  }

  /// The names the lower view shows in this directory.
  Result<std::set<std::string>> Visible(const std::string& what) const {
    std::set<std::string> seen, visible;  // seen: decided by a higher layer
    for (const auto& l : layers) {
      for (auto& n : BERTH_TRY(Names(l.get(), what))) {
        if (!seen.insert(n).second) continue;
        struct stat st;
        if (::fstatat(l.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !IsWhiteout(st))
          visible.insert(n);
      }
    }
    return visible;
  }
};

bool SameDirMeta(const struct stat& a, const struct stat& b) {
  return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

class Walker {
 public:
  explicit Walker(std::vector<Change>* out) : out_(out) {}

  /// Walks the upper directory dir (container path prefix, "" for the root) over lower;
  /// hidden: the lower view is hidden here (an opaque directory here or above). Returns
  /// whether anything below changed.
  Result<bool> Dir(int dir_fd, const std::string& prefix, const LowerDir& lower, bool hidden) {
    const std::string what = prefix.empty() ? "/" : prefix;
    std::vector<std::string> names = BERTH_TRY(Names(dir_fd, what));
    bool changed = false;
    if (hidden) {
      std::set<std::string> mine(names.begin(), names.end());
      for (const auto& n : BERTH_TRY(lower.Visible(what))) {
        if (mine.contains(n)) continue;
        out_->push_back({prefix + "/" + n, ChangeKind::kDeleted});
        changed = true;
      }
    }
    for (const auto& n : names) {
      std::string path = prefix + "/" + n;
      struct stat st;
      if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return Error::FromErrno(errno, path);
      if (IsWhiteout(st)) {
        out_->push_back({path, ChangeKind::kDeleted});
        changed = true;
        continue;
      }
      std::optional<struct stat> below = lower.Lookup(n);
      if (!S_ISDIR(st.st_mode)) {
        out_->push_back({path, below ? ChangeKind::kModified : ChangeKind::kAdded});
        changed = true;
        continue;
      }
      int fd = ::openat(dir_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return Error::FromErrno(errno, path);
      Fd sub(fd);
      bool opaque = IsOpaque(sub.get());
      // The change of the directory itself goes before those below it (sorted at the end).
      size_t at = out_->size();
      LowerDir child = below && S_ISDIR(below->st_mode) ? lower.Child(n) : LowerDir{};
      bool below_changed = BERTH_TRY(Dir(sub.get(), path, child, hidden || opaque));
      if (!below) {
        out_->insert(out_->begin() + static_cast<std::ptrdiff_t>(at), {path, ChangeKind::kAdded});
        changed = true;
      } else if (below_changed || hidden || opaque || !S_ISDIR(below->st_mode) ||
                 !SameDirMeta(st, *below)) {
        out_->insert(out_->begin() + static_cast<std::ptrdiff_t>(at),
                     {path, ChangeKind::kModified});
        changed = true;
      }
    }
    return changed;
  }

 private:
  std::vector<Change>* out_;
};

}  // namespace

char ChangeLetter(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded:
      return 'A';
    case ChangeKind::kDeleted:
      return 'D';
    default:
      return 'C';
  }
}

Result<std::vector<Change>> Changes(const std::vector<std::string>& lowers_top_first,
                                    const std::string& upper) {
  Fd up = BERTH_TRY_CTX(Fd::Open(upper, O_RDONLY | O_DIRECTORY), "changes of " + upper);
  LowerDir root;
  for (const auto& l : lowers_top_first) {
    Fd fd = BERTH_TRY_CTX(Fd::Open(l, O_RDONLY | O_DIRECTORY), "changes: lower layer " + l);
    bool opaque = IsOpaque(fd.get());
    root.layers.push_back(std::move(fd));
    if (opaque) break;
  }
  std::vector<Change> out;
  Walker w(&out);
  BERTH_TRY_CTX(w.Dir(up.get(), "", root, IsOpaque(up.get())), "changes of " + upper);
  std::sort(out.begin(), out.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  return out;
}

}  // namespace berth::engine::fs
