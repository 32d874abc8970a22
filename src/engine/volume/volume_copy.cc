// Copy-up (an image directory into a new volume) and volume sizes: walks by directory fds,
// never by path, so a symlink in the tree is a link to copy and never a way out of it.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "engine/volume/volume_internal.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::engine::volume_internal {
namespace {

// Each level holds two fds while the copy descends.
constexpr int kMaxDepth = 128;

// The names in a directory fd, without "." and "..".
Result<std::vector<std::string>> Names(int dir_fd) {
  int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Error::FromErrno(errno, "dup");
  DIR* d = fdopendir(fd);
  if (!d) {
    int err = errno;
    close(fd);
    return Error::FromErrno(err, "opendir");
  }
  rewinddir(d);
  std::vector<std::string> out;
  errno = 0;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  int err = errno;
  closedir(d);
  if (err) return Error::FromErrno(err, "readdir");
  return out;
}

void CopyXattrs(int src, int dst) {
  ssize_t n = flistxattr(src, nullptr, 0);
  if (n <= 0) return;
  std::vector<char> names(static_cast<size_t>(n) + 1);
  n = flistxattr(src, names.data(), names.size());
  std::vector<char> value(64 * 1024);
  for (ssize_t i = 0; i < n;) {
    const char* name = names.data() + i;
    i += static_cast<ssize_t>(strlen(name)) + 1;
    ssize_t v = fgetxattr(src, name, value.data(), value.size());
    if (v >= 0) (void)fsetxattr(dst, name, value.data(), static_cast<size_t>(v), 0);
  }
}

// Owner, then mode (chown clears set-id bits), then times, of an open file or directory.
Result<void> CopyMeta(int dst, const struct stat& st, const std::string& what) {
  if (fchown(dst, st.st_uid, st.st_gid) < 0) return Error::FromErrno(errno, "chown " + what);
  if (fchmod(dst, st.st_mode & 07777) < 0) return Error::FromErrno(errno, "chmod " + what);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (futimens(dst, times) < 0) return Error::FromErrno(errno, "set times of " + what);
  return {};
}

Result<void> CopyData(int src, int dst, const std::string& what) {
  for (;;) {
    ssize_t n = copy_file_range(src, nullptr, dst, nullptr, 1 << 30, 0);
    if (n == 0) return {};
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
      return Error::FromErrno(errno, "copy " + what);
    break;
  }
  std::vector<char> buf(128 * 1024);
  for (;;) {
    ssize_t n = read(src, buf.data(), buf.size());
    if (n == 0) return {};
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read " + what);
    }
    BERTH_TRY_CTX(WriteAll(dst, std::string_view(buf.data(), static_cast<size_t>(n))),
                  "write " + what);
  }
}

class Copier {
 public:
  explicit Copier(int dst_root) : dst_root_(dst_root) {}

  // Copies the entries of src into dst ("rel" is dst's path below the root, for hard links).
  Result<void> Dir(int src, int dst, const std::string& rel, int depth) {
    if (depth > kMaxDepth) return Error::InvalidArgument("directory tree too deep at " + rel);
    for (const auto& name : BERTH_TRY(Names(src))) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st;
      if (fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
        return Error::FromErrno(errno, "stat " + path);
      BERTH_TRY(Entry(src, dst, name, path, st, depth));
    }
    return {};
  }

 private:
  Result<void> Entry(int src, int dst, const std::string& name, const std::string& path,
                     const struct stat& st, int depth) {
    const char* n = name.c_str();
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (auto it = links_.find(key); it != links_.end()) {
        if (linkat(dst_root_, it->second.c_str(), dst, n, 0) < 0)
          return Error::FromErrno(errno, "link " + path);
        return {};
      }
      links_.emplace(key, path);
    }
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: {
        if (mkdirat(dst, n, 0700) < 0) return Error::FromErrno(errno, "mkdir " + path);
        Fd s = BERTH_TRY(Fd::OpenAt(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        Fd d = BERTH_TRY(Fd::OpenAt(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        BERTH_TRY(Dir(s.get(), d.get(), path, depth + 1));
        CopyXattrs(s.get(), d.get());
        return CopyMeta(d.get(), st, path);
      }
      case S_IFREG: {
        Fd s = BERTH_TRY(Fd::OpenAt(src, name, O_RDONLY | O_NOFOLLOW));
        Fd d = BERTH_TRY(Fd::OpenAt(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
        BERTH_TRY(CopyData(s.get(), d.get(), path));
        CopyXattrs(s.get(), d.get());
        return CopyMeta(d.get(), st, path);
      }
      case S_IFLNK: {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t len = readlinkat(src, n, target.data(), target.size());
        if (len < 0) return Error::FromErrno(errno, "readlink " + path);
        target.resize(static_cast<size_t>(len));
        if (symlinkat(target.c_str(), dst, n) < 0)
          return Error::FromErrno(errno, "symlink " + path);
        if (fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
          return Error::FromErrno(errno, "chown " + path);
        struct timespec times[2] = {st.st_atim, st.st_mtim};
        (void)utimensat(dst, n, times, AT_SYMLINK_NOFOLLOW);
        return {};
      }
      case S_IFIFO:
      case S_IFCHR:
      case S_IFBLK: {
        if (mknodat(dst, n, st.st_mode, st.st_rdev) < 0)
          return Error::FromErrno(errno, "mknod " + path);
        if (fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
          return Error::FromErrno(errno, "chown " + path);
        if (fchmodat(dst, n, st.st_mode & 07777, 0) < 0)
          return Error::FromErrno(errno, "chmod " + path);
        struct timespec times[2] = {st.st_atim, st.st_mtim};
        (void)utimensat(dst, n, times, AT_SYMLINK_NOFOLLOW);
        return {};
      }
      default:  // sockets: nothing to copy
        return {};
    }
  }

  int dst_root_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first copy of each hard link
};

Result<void> SizeOf(int dir, int depth, std::set<std::pair<dev_t, ino_t>>* seen, int64_t* size) {
  if (depth > kMaxDepth) return {};
  for (const auto& name : BERTH_TRY(Names(dir))) {
    struct stat st;
    if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) continue;  // gone meanwhile
    if (S_ISDIR(st.st_mode)) {
      auto sub = Fd::OpenAt(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (sub) BERTH_TRY(SizeOf(sub->get(), depth + 1, seen, size));
      continue;
    }
    if (!seen->insert({st.st_dev, st.st_ino}).second) continue;
    *size += st.st_size;
  }
  return {};
}

}  // namespace

Result<bool> DirIsEmpty(int dir_fd) { return BERTH_TRY(Names(dir_fd)).empty(); }

Result<void> CopyTree(int src_dir_fd, int dst_dir_fd) {
  struct stat st;
  if (fstat(src_dir_fd, &st) < 0) return Error::FromErrno(errno, "stat source");
  if (!S_ISDIR(st.st_mode)) return Error::InvalidArgument("copy up source is not a directory");
  Copier c(dst_dir_fd);
  BERTH_TRY(c.Dir(src_dir_fd, dst_dir_fd, "", 0));
  return CopyMeta(dst_dir_fd, st, "volume data");
}

Result<int64_t> DirSize(const std::string& path) {
  Fd dir = BERTH_TRY(Fd::Open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  std::set<std::pair<dev_t, ino_t>> seen;
  int64_t size = 0;
  BERTH_TRY(SizeOf(dir.get(), 0, &seen, &size));
  return size;
}

}  // namespace berth::engine::volume_internal
