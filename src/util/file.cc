#include "util/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "util/fd.h"

namespace berth {

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  Fd fd = BERTH_TRY(Fd::Open(path, O_RDONLY));
  auto data = ReadAll(fd.get(), max_bytes);
  if (!data) return std::move(data).error().Wrap("read " + path);
  return std::move(data).value();
}

Result<void> WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  Fd fd = BERTH_TRY(Fd::Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  auto r = WriteAll(fd.get(), data);
  if (!r) return Error::FromErrno(r.error().sys_errno(), "write " + path);
  return {};
}

namespace {

Result<void> Replace(const std::string& path, std::string_view data, mode_t mode, bool durable) {
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos)
    dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  {
    Fd fd = BERTH_TRY(Fd::Open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode));
    auto r = WriteAll(fd.get(), data);
    if (!r || (durable && ::fsync(fd.get()) < 0)) {
      int err = r ? errno : r.error().sys_errno();
      ::unlink(tmp.c_str());
      return Error::FromErrno(err, "write " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::FromErrno(err, "rename " + tmp + " to " + path);
  }
  if (!durable) return {};
  Fd d = BERTH_TRY(Fd::Open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(d.get()) < 0) return Error::FromErrno(errno, "fsync " + dir);
  return {};
}

}  // namespace

Result<void> WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  return Replace(path, data, mode, true);
}

Result<void> WriteFileReplace(const std::string& path, std::string_view data, mode_t mode) {
  return Replace(path, data, mode, false);
}

Result<void> MkdirAll(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return Error::FromErrno(ENOTDIR, "mkdir " + path);
  }
  if (auto slash = path.find_last_not_of('/'); slash != std::string::npos) {
    auto parent_end = path.rfind('/', slash);
    if (parent_end != std::string::npos && parent_end > 0)
      BERTH_TRY(MkdirAll(path.substr(0, parent_end), mode));
  }
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
    return Error::FromErrno(errno, "mkdir " + path);
  return {};
}

namespace {

Result<void> RemoveAt(int dirfd, const std::string& name, const std::string& display,
                      dev_t root_dev) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return Error::FromErrno(errno, "stat " + display);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT)
      return Error::FromErrno(errno, "remove " + display);
    return {};
  }
  if (st.st_dev != root_dev) return Error::Conflict("remove " + display + ": is a mount point");
  {
    int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Error::FromErrno(errno, "open " + display);
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return Error::FromErrno(errno, "opendir " + display);
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    for (const auto& n : names) {
      auto r = RemoveAt(::dirfd(d), n, display + "/" + n, root_dev);
      if (!r) {
        ::closedir(d);
        return r;
      }
    }
    ::closedir(d);
  }
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
    return Error::FromErrno(errno, "remove " + display);
  return {};
}

}  // namespace

Result<void> RemoveAll(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return Error::FromErrno(errno, "stat " + path);
  }
  return RemoveAt(AT_FDCWD, path, path, st.st_dev);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return Error::FromErrno(errno, "open " + path);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(d);
  return names;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (b.empty()) return out;
  if (out.empty() || out.back() != '/') out += '/';
  out += b;
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep, bool skip_empty) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    std::string_view piece = s.substr(start, pos == std::string_view::npos ? s.npos : pos - start);
    if (!skip_empty || !piece.empty()) out.emplace_back(piece);
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace berth
