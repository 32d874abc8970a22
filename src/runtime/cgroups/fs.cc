#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>

#include "runtime/cgroups/cgroups_internal.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::runtime::cgroups::internal {

namespace {

std::string Join(const std::string& dir, std::string_view file) {
  std::string p = dir;
  p += '/';
  p += file;
  return p;
}

Error WriteError(int err, std::string_view value, const std::string& path) {
  std::string v(value.substr(0, 64));
  while (!v.empty() && v.back() == '\n') v.pop_back();
  return Error::FromErrno(err, "write " + v + " to " + path);
}

}  // namespace

void SleepMicros(int us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

Result<void> WriteFile(const std::string& dir, std::string_view file, std::string_view value) {
  std::string path = Join(dir, file);
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return WriteError(errno, value, path);
  Fd owned(fd);
  for (;;) {
    ssize_t n = ::write(fd, value.data(), value.size());
    if (n >= 0) break;  // cgroupfs takes a value in one write or not at all
    if (errno != EINTR) return WriteError(errno, value, path);
  }
  return {};
}

Result<void> WriteLines(const std::string& dir, std::string_view file,
                        const std::vector<std::string>& lines) {
  if (lines.empty()) return {};
  std::string path = Join(dir, file);
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return WriteError(errno, lines.front(), path);
  Fd owned(fd);
  for (const auto& line : lines) {
    for (;;) {
      ssize_t n = ::write(fd, line.data(), line.size());
      if (n >= 0) break;
      if (errno != EINTR) return WriteError(errno, line, path);
    }
  }
  return {};
}

Result<std::string> ReadFile(const std::string& dir, std::string_view file) {
  std::string path = Join(dir, file);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(errno, "open " + path);
  Fd owned(fd);
  auto data = ReadAll(fd, 16u << 20);
  if (!data) return std::move(data).error().Wrap("read " + path);
  return std::string(Trim(*data));
}

bool FileExists(const std::string& dir, std::string_view file) {
  return ::access(Join(dir, file).c_str(), F_OK) == 0;
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  s = Trim(s);
  if (s == "max") return UINT64_MAX;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Result<uint64_t> ReadUint(const std::string& dir, std::string_view file) {
  std::string s = BERTH_TRY(ReadFile(dir, file));
  auto v = ParseUint(s);
  if (!v) return Error::DataLoss("parse " + Join(dir, file) + ": not a number: " + s);
  return *v;
}

Result<std::map<std::string, uint64_t>> ReadKeyValues(const std::string& dir,
                                                      std::string_view file) {
  std::string s = BERTH_TRY(ReadFile(dir, file));
  std::map<std::string, uint64_t> out;
  for (const auto& line : Split(s, '\n', true)) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    if (auto v = ParseUint(std::string_view(line).substr(sp + 1))) out[line.substr(0, sp)] = *v;
  }
  return out;
}

Result<void> MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return {};
  if (errno != ENOENT) return Error::FromErrno(errno, "mkdir " + path);
  return MkdirAll(path, 0755);
}

namespace {

// The child cgroups of dir (its subdirectories); none if dir is gone.
Result<std::vector<std::string>> ChildCgroups(const std::string& dir) {
  std::vector<std::string> children;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return children;
    return Error::FromErrno(errno, "open " + dir);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (e->d_type == DT_DIR && n != "." && n != "..") children.emplace_back(n);
  }
  ::closedir(d);
  return children;
}

}  // namespace

Result<void> CollectPids(const std::string& dir, std::vector<pid_t>* out) {
  auto procs = ReadFile(dir, "cgroup.procs");
  if (!procs) {
    if (procs.error().IsNotFound()) return {};  // removed meanwhile
    return std::move(procs).error();
  }
  for (const auto& line : Split(*procs, '\n', true)) {
    if (auto v = ParseUint(line)) out->push_back(static_cast<pid_t>(*v));
  }
  std::vector<std::string> children = BERTH_TRY(ChildCgroups(dir));
  for (const auto& c : children) BERTH_TRY(CollectPids(Join(dir, c), out));
  return {};
}

namespace {

// Whether a process is still running, as opposed to exiting (zombie, dead): proc(5) state, the
// field after the command name's closing parenthesis in /proc/<pid>/stat.
bool Running(pid_t pid) {
  auto stat = berth::ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return false;
  auto paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return false;
  char state = (*stat)[paren + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

Error BusyError(const std::string& dir, const std::vector<pid_t>& pids, int err) {
  return Error(ErrorCode::kConflict,
               "remove cgroup " + dir + ": " + std::to_string(pids.size()) +
                   " process(es) still in it (first pid " + std::to_string(pids[0]) + ")",
               err);
}

// rmdir(2) of a cgroup: the kernel refuses with EBUSY while tasks remain, and for a moment
// after the last one exits (its css is still going offline). Running processes make it a
// Conflict at once; otherwise retry for about 100 ms.
Result<void> RmdirRetrying(const std::string& dir) {
  int step_us = 100, waited_us = 0;
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    int err = errno;
    if (err != EBUSY && err != ENOTEMPTY) return Error::FromErrno(err, "remove cgroup " + dir);
    std::vector<pid_t> pids;
    (void)CollectPids(dir, &pids);
    bool running = false;
    for (pid_t p : pids) running = running || Running(p);
    if (running || err == ENOTEMPTY || waited_us >= 100000) {
      if (!pids.empty()) return BusyError(dir, pids, err);
      return Error::FromErrno(err, "remove cgroup " + dir);
    }
    SleepMicros(step_us);
    waited_us += step_us;
    step_us = step_us * 2 > 20000 ? 20000 : step_us * 2;
  }
}

}  // namespace

Result<void> RemoveCgroup(const std::string& dir) {
  std::vector<std::string> children = BERTH_TRY(ChildCgroups(dir));
  for (const auto& c : children) BERTH_TRY(RemoveCgroup(Join(dir, c)));
  return RmdirRetrying(dir);
}

}  // namespace berth::runtime::cgroups::internal
