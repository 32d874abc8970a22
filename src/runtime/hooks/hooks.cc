#include "runtime/hooks/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>

#include "util/fd.h"

namespace berth::runtime::hooks {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Milliseconds left until deadline (steady clock), at least 0; -1 without a deadline.
int RemainingMs(const std::optional<std::chrono::steady_clock::time_point>& deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  *deadline - std::chrono::steady_clock::now())
                  .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

Result<void> RunOne(std::string_view phase, const oci::Hook& hook, std::string_view state) {
  std::string what = std::string(phase) + " hook " + hook.path;
  Pipe in = BERTH_TRY(Pipe::Make());
  std::vector<std::string> args = hook.args;
  if (args.empty()) args.push_back(hook.path);
  auto argv = CStrings(args);
  auto envp = CStrings(hook.env);
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (hook.timeout)
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*hook.timeout);
  pid_t pid = ::fork();
  if (pid < 0) return Error::FromErrno(errno, what + ": fork");
  if (pid == 0) {
    // Its own process group, so that a timeout kills whatever the hook started too.
    ::setpgid(0, 0);
    ::dup2(in.read.get(), 0);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no race with the kill below
  in.read.Reset();
  // A hook may not read its stdin: ignore EPIPE.
  signal(SIGPIPE, SIG_IGN);

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  Fd pidfd_guard(pidfd);
  bool timed_out = false;
  if (deadline && pidfd >= 0) {
    // Feed the state without blocking past the deadline, then wait for the exit until then.
    (void)::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
    for (;;) {
      struct pollfd p[2] = {{pidfd, POLLIN, 0}, {in.write.get(), POLLOUT, 0}};
      int n = ::poll(p, in.write ? 2 : 1, RemainingMs(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        timed_out = true;
        break;
      }
      if (n < 0 || (p[0].revents & POLLIN)) break;
      if (in.write && p[1].revents) {
        ssize_t w = state.empty() ? 0 : ::write(in.write.get(), state.data(), state.size());
        if (w > 0) state.remove_prefix(static_cast<size_t>(w));
        if (state.empty() || (w < 0 && errno != EAGAIN && errno != EINTR)) in.write.Reset();
      }
    }
  } else {
    (void)WriteAll(in.write.get(), state);
  }
  in.write.Reset();
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Error::Canceled(what + ": timed out after " + std::to_string(*hook.timeout) + "s");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::FromErrno(errno, what + ": wait");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && ::access(hook.path.c_str(), X_OK) != 0)
    return Error::FromErrno(errno, what);
  if (WIFSIGNALED(status))
    return Error::Internal(what + ": killed by signal " + std::to_string(WTERMSIG(status)));
  return Error::Internal(what + ": exit status " + std::to_string(WEXITSTATUS(status)));
}

}  // namespace

Result<void> Run(std::string_view phase, const std::vector<oci::Hook>& hooks,
                 std::string_view state_json) {
  for (const auto& h : hooks) BERTH_TRY(RunOne(phase, h, state_json));
  return {};
}

std::vector<Error> RunAll(std::string_view phase, const std::vector<oci::Hook>& hooks,
                          std::string_view state_json) {
  std::vector<Error> failures;
  for (const auto& h : hooks)
    if (auto r = RunOne(phase, h, state_json); !r) failures.push_back(std::move(r).error());
  return failures;
}

}  // namespace berth::runtime::hooks
