// docker cp's path rules and StatPath (HEAD /containers/{id}/archive).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>
#include <deque>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/fs/copy.h"
#include "engine/fs/copy_internal.h"
#include "runtime/rootfs/rootfs.h"
#include "util/file.h"

namespace berth::engine::fs {
namespace internal {
namespace {

std::string Clean(std::string_view path) {
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

}  // namespace

CopyPath ParseCopyPath(std::string_view path) {
  CopyPath p;
  p.clean = Clean(path);
  bool dot = path == "." || path.ends_with("/.");
  bool slash = path.ends_with("/");
  p.follow_last = dot || slash;
  if (dot) {
    p.name = ".";
  } else if (p.clean == "/") {
    p.name = "/";
  } else {
    p.name = p.clean.substr(p.clean.rfind('/') + 1);
  }
  return p;
}

std::string RelPath(const std::string& clean) { return clean == "/" ? "" : clean.substr(1); }

Error FileNotFound(std::string_view path, std::string_view container) {
  return Error::NotFound("Could not find the file " + std::string(path) + " in container " +
                         std::string(container));
}

Result<Fd> OpenRoot(const std::string& rootfs) {
  return BERTH_TRY_CTX(Fd::Open(rootfs, O_PATH | O_DIRECTORY), "container root " + rootfs);
}

Result<Entry> OpenEntry(int root_fd, const CopyPath& p, std::string_view asked,
                        std::string_view container) {
  auto fail = [&](const Error& e) -> Error {
    if (e.sys_errno() == ENOENT) return FileNotFound(asked, container);
    if (e.sys_errno() == ENOTDIR)
      return Error::InvalidArgument(std::string(asked) + ": not a directory");
    return e;
  };
  Entry e;
  if (p.clean == "/" || p.follow_last) {
    auto fd = runtime::rootfs::OpenInRoot(root_fd, RelPath(p.clean), O_PATH | O_DIRECTORY);
    if (!fd) return fail(fd.error());
    e.dir = std::move(*fd);
    return e;
  }
  std::string parent = p.clean.substr(0, p.clean.rfind('/'));
  auto fd = runtime::rootfs::OpenInRoot(root_fd, RelPath(parent.empty() ? "/" : parent),
                                        O_PATH | O_DIRECTORY);
  if (!fd) return fail(fd.error());
  e.dir = std::move(*fd);
  e.name = p.name;
  struct stat st;
  if (::fstatat(e.dir.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fail(Error::FromErrno(errno, "stat " + std::string(asked)));
  return e;
}

Result<struct stat> StatEntry(const Entry& e) {
  struct stat st;
  int rc = e.name.empty() ? ::fstat(e.dir.get(), &st)
                          : ::fstatat(e.dir.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return Error::FromErrno(errno, "stat " + (e.name.empty() ? "." : e.name));
  return st;
}

Result<std::string> ResolveInScope(int root_fd, const std::string& clean) {
  std::deque<std::string> todo;
  for (auto& part : Split(clean, '/', true)) todo.push_back(std::move(part));
  std::vector<std::string> done;  // components resolved so far, from the root
  int links = 0;
  bool missing = false;  // a component did not exist: the rest is taken as written
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == "." || part.empty()) continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    if (!missing) {
      std::string prefix;
      for (const auto& d : done) prefix += d + "/";
      auto dir = runtime::rootfs::OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY);
      struct stat st;
      if (!dir || ::fstatat(dir->get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        missing = true;
      } else if (S_ISLNK(st.st_mode)) {
        if (++links > 255) return Error::InvalidArgument("too many levels of symbolic links");
        char buf[PATH_MAX];
        ssize_t n = ::readlinkat(dir->get(), part.c_str(), buf, sizeof buf);
        if (n < 0) return Error::FromErrno(errno, "readlink " + part);
        std::string target(buf, static_cast<size_t>(n));
        std::vector<std::string> parts = Split(target, '/', true);
        todo.insert(todo.begin(), parts.begin(), parts.end());
        if (target.starts_with("/")) done.clear();
        continue;
      }
    }
    done.push_back(std::move(part));
  }
  std::string out;
  for (const auto& d : done) out += "/" + d;
  return out.empty() ? "/" : out;
}

}  // namespace internal

uint32_t GoFileMode(mode_t m) {
  uint32_t out = m & 0777;
  if (m & S_ISUID) out |= 1u << 23;
  if (m & S_ISGID) out |= 1u << 22;
  if (m & S_ISVTX) out |= 1u << 20;
  switch (m & S_IFMT) {
    case S_IFDIR:
      out |= 1u << 31;
      break;
    case S_IFLNK:
      out |= 1u << 27;
      break;
    case S_IFBLK:
      out |= 1u << 26;
      break;
    case S_IFCHR:
      out |= (1u << 26) | (1u << 21);
      break;
    case S_IFIFO:
      out |= 1u << 25;
      break;
    case S_IFSOCK:
      out |= 1u << 24;
      break;
    default:
      break;
  }
  return out;
}

namespace {

// Go's time.RFC3339Nano in UTC: the fraction without trailing zeros, none if zero.
std::string Rfc3339Nano(const timespec& ts) {
  struct tm tm;
  time_t secs = ts.tv_sec;
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (ts.tv_nsec > 0) {
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace

std::string PathStatJson(const PathStat& s) {
  nlohmann::ordered_json j;
  j["name"] = s.name;
  j["size"] = s.size;
  j["mode"] = s.mode;
  j["mtime"] = s.mtime;
  j["linkTarget"] = s.link_target;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string PathStatHeader(const PathStat& stat) { return Base64(PathStatJson(stat)); }

namespace internal {

Result<PathStat> MakeStat(int root_fd, const CopyPath& p, const Entry& e) {
  struct stat st = BERTH_TRY(StatEntry(e));
  PathStat s;
  s.name = p.name;
  s.size = st.st_size;
  s.mode = GoFileMode(st.st_mode);
  s.mtime = Rfc3339Nano(st.st_mtim);
  if (S_ISLNK(st.st_mode)) s.link_target = BERTH_TRY(ResolveInScope(root_fd, p.clean));
  return s;
}

}  // namespace internal

Result<PathStat> StatPath(const std::string& rootfs, std::string_view path,
                          std::string_view container) {
  internal::CopyPath p = internal::ParseCopyPath(path);
  Fd root = BERTH_TRY(internal::OpenRoot(rootfs));
  internal::Entry e = BERTH_TRY(internal::OpenEntry(root.get(), p, path, container));
  return internal::MakeStat(root.get(), p, e);
}

}  // namespace berth::engine::fs
