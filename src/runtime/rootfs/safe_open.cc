// Resolution of paths inside the rootfs: openat2(2) with RESOLVE_IN_ROOT treats root_fd as "/"
// for absolute symlinks and "..", so an image cannot point a mount or a device node at the
// host (crun's safe_openat; runc's securejoin + /proc/self/fd).

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <deque>
#include <string>

#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_internal.h"
#include "util/file.h"

namespace berth::runtime::rootfs {
namespace {

int OpenAt2(int dir, const char* path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  if (flags & (O_CREAT | O_TMPFILE)) how.mode = mode;  // openat2 refuses a mode otherwise
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dir, path, &how, sizeof how);
    // EAGAIN: a rename or mount raced the lookup (openat2(2)); try again a few times.
    if (fd < 0 && (errno == EAGAIN || errno == EINTR) && attempt < 32) continue;
    return static_cast<int>(fd);
  }
}

Error DestError(int err, std::string_view dest, std::string_view component) {
  std::string what = "mount destination " + std::string(dest);
  if (err == EXDEV) return Error::InvalidArgument(what + ": escapes rootfs");
  if (!component.empty() && component != dest) what += ": " + std::string(component);
  return Error::FromErrno(err, what);
}

}  // namespace

Result<Fd> OpenInRoot(int root_fd, std::string_view path, int flags, mode_t mode) {
  std::string p(path.empty() ? std::string_view(".") : path);
  int fd = OpenAt2(root_fd, p.c_str(), flags, mode);
  if (fd < 0) {
    if (errno == EXDEV) return Error::InvalidArgument("open " + p + ": escapes rootfs");
    return Error::FromErrno(errno, "open " + p);
  }
  return Fd(fd);
}

Result<Fd> MakeMountPoint(int root_fd, std::string_view dest, bool is_dir) {
  // Most destinations exist already (/proc, /dev, /sys in an image): one openat2 resolves them
  // in root as the walk below would, which then only runs to create what is missing.
  {
    std::string rel(dest);
    while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
    if (rel.empty()) rel = ".";
    int fd = OpenAt2(root_fd, rel.c_str(), O_PATH | (is_dir ? O_DIRECTORY : 0), 0);
    if (fd >= 0) return Fd(fd);
    // Only the last component missing (binds under a fresh tmpfs): make it in its parent.
    auto slash = rel.rfind('/');
    std::string last = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (errno == ENOENT && last != "." && last != "..") {
      std::string parent = slash == std::string::npos ? "." : rel.substr(0, slash);
      int pfd = OpenAt2(root_fd, parent.c_str(), O_PATH | O_DIRECTORY, 0);
      if (pfd >= 0) {
        Fd dir(pfd);
        struct stat st;
        if (::fstatat(dir.get(), last.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
          // An O_PATH directory fd serves as the dirfd of *at() calls (open(2)).
          int made = is_dir ? ::mkdirat(dir.get(), last.c_str(), 0755)
                            : ::openat(dir.get(), last.c_str(),
                                       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
          if (made >= 0 && !is_dir) ::close(made);
          if (made >= 0 || errno == EEXIST) {
            fd = OpenAt2(root_fd, rel.c_str(), O_PATH | (is_dir ? O_DIRECTORY : 0), 0);
            if (fd >= 0) return Fd(fd);
          }
        }
      }
    }
  }
  // Components still to walk; a symlink met on the way is replaced by its target's components,
  // so that a dangling one ("/var/run -> /run", no /run yet) gets its target made inside root
  // too, as runc's securejoin does. ".." is left to openat2, which resolves it in the
  // directory the walk has reached and never above root.
  std::deque<std::string> todo;
  for (auto& p : Split(dest, '/', /*skip_empty=*/true)) todo.push_back(std::move(p));
  auto open_root = [&]() { return OpenAt2(root_fd, ".", O_PATH | O_DIRECTORY, 0); };
  int fd = open_root();
  if (fd < 0) return DestError(errno, dest, "/");
  Fd dir(fd);
  std::string prefix;  // the components walked so far, relative to root
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    bool last = todo.empty();
    std::string next = prefix.empty() ? part : prefix + "/" + part;
    struct stat st;
    int rc = part == ".." ? 0 : ::fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW);
    if (rc != 0 && errno != ENOENT) return DestError(errno, dest, "/" + next);
    if (rc == 0 && part != ".." && S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n = ::readlinkat(dir.get(), part.c_str(), buf, sizeof buf - 1);
      if (n < 0) return DestError(errno, dest, "/" + next);
      if (++links > 40) return DestError(ELOOP, dest, "/" + next);
      std::string target(buf, static_cast<size_t>(n));
      std::vector<std::string> parts = Split(target, '/', /*skip_empty=*/true);
      todo.insert(todo.begin(), parts.begin(), parts.end());
      if (target.starts_with("/")) {
        prefix.clear();
        fd = open_root();
        if (fd < 0) return DestError(errno, dest, "/");
        dir.Reset(fd);
      }
      continue;
    }
    if (rc != 0) {
      if (!last || is_dir) {
        if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
          return DestError(errno, dest, "mkdir /" + next);
      } else {
        int f = ::openat(dir.get(), part.c_str(),
                         O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
        if (f < 0 && errno != EEXIST) return DestError(errno, dest, "create /" + next);
        if (f >= 0) ::close(f);
      }
    }
    int flags = O_PATH | ((!last || is_dir) ? O_DIRECTORY : 0);
    fd = OpenAt2(root_fd, next.c_str(), flags, 0);
    if (fd < 0) return DestError(errno, dest, "/" + next);
    dir.Reset(fd);
    prefix = std::move(next);
  }
  return dir;
}

namespace internal {

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string TargetPath(int fd, const std::string& path) {
  return ::access("/proc/self/fd", F_OK) == 0 ? FdPath(fd) : path;
}

std::string CleanPath(std::string_view path) {
  std::vector<std::string> out;
  for (auto& part : Split(path, '/', /*skip_empty=*/true)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(part));
  }
  std::string clean;
  for (const auto& part : out) clean += "/" + part;
  return clean.empty() ? "/" : clean;
}

}  // namespace internal
}  // namespace berth::runtime::rootfs
