#include "engine/fs/disk_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <utility>

#include "util/fd.h"

namespace berth::engine::fs {
namespace {

using Inode = std::pair<dev_t, ino_t>;

// Walks the directory open at dir_fd (taken over), adding to *total. Depth is bounded by the
// caller's stack only as far as a layer's nesting goes; paths are never built.
Result<void> Walk(int dir_fd, std::set<Inode>* seen, int64_t* total, int depth) {
  if (depth > 4096) {
    ::close(dir_fd);
    return Error::InvalidArgument("directory tree too deep");
  }
  DIR* d = ::fdopendir(dir_fd);
  if (!d) {
    int e = errno;
    ::close(dir_fd);
    return Error::FromErrno(e, "opendir");
  }
  Result<void> out;
  while (struct dirent* ent = ::readdir(d)) {
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) continue;  // removed while we walk
      out = Error::FromErrno(errno, "stat " + std::string(name));
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(::dirfd(d), ent->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        if (errno == ENOENT) continue;
        out = Error::FromErrno(errno, "open " + std::string(name));
        break;
      }
      if (auto r = Walk(sub, seen, total, depth + 1); !r) {
        out = r;
        break;
      }
      continue;
    }
    if (st.st_nlink > 1 && !seen->insert({st.st_dev, st.st_ino}).second) continue;
    *total += st.st_size;
  }
  ::closedir(d);
  return out;
}

}  // namespace

Result<int64_t> TreeSize(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return int64_t{0};
    return Error::FromErrno(errno, "size of " + dir);
  }
  std::set<Inode> seen;
  int64_t total = 0;
  if (auto r = Walk(fd, &seen, &total, 0); !r)
    return Error(r.error().code(), "size of " + dir + ": " + r.error().message());
  return total;
}

Result<ContainerSizes> SizesOf(const std::string& upper_dir,
                               const std::vector<std::string>& lowers) {
  ContainerSizes s;
  s.rw = BERTH_TRY(TreeSize(upper_dir));
  s.rootfs = s.rw;
  for (const auto& l : lowers) s.rootfs += BERTH_TRY(TreeSize(l));
  return s;
}

}  // namespace berth::engine::fs
