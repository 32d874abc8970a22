#pragma once

// Helpers of the rootfs tests: a temporary directory removed even on failure, and a forked
// child whose result comes back through a pipe, so that everything it mounts (in its own mount
// namespace) dies with it.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>

#include "util/fd.h"
#include "util/file.h"

namespace berth::runtime::rootfs::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/berth-rootfs-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Runs fn in a forked child (killed after timeout_s); returns "" if fn returned "", else its
/// message or how the child ended. Only async-signal-safe-enough code belongs in fn: no gtest
/// assertions (they would report in the child).
inline std::string RunInChild(const std::function<std::string()>& fn, unsigned timeout_s = 60) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(p[0]);
    ::alarm(timeout_s);
    std::string r = fn();
    if (r.empty()) r = "ok";
    (void)WriteAll(p[1], r);
    ::_exit(r == "ok" ? 0 : 1);
  }
  ::close(p[1]);
  Fd read_end(p[0]);
  std::string out = ReadAll(read_end.get()).value_or(std::string());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out == "ok" && WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (!out.empty()) return out;
  if (WIFSIGNALED(status)) return "child killed by signal " + std::to_string(WTERMSIG(status));
  return "child exited with status " + std::to_string(WEXITSTATUS(status));
}

inline bool WriteText(const std::string& path, const std::string& text, mode_t mode = 0644) {
  return WriteFile(path, text, mode).has_value();
}

}  // namespace berth::runtime::rootfs::testing
