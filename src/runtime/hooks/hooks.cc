#include "runtime/hooks/hooks.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
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

Result<void> RunOne(std::string_view phase, const oci::Hook& hook, std::string_view state) {
  std::string what = std::string(phase) + " hook " + hook.path;
  Pipe in = BERTH_TRY(Pipe::Make());
  std::vector<std::string> args = hook.args;
  if (args.empty()) args.push_back(hook.path);
  auto argv = CStrings(args);
  auto envp = CStrings(hook.env);
  pid_t pid = ::fork();
  if (pid < 0) return Error::FromErrno(errno, what + ": fork");
  if (pid == 0) {
    ::dup2(in.read.get(), 0);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  in.read.Reset();
  // A hook may not read its stdin: ignore EPIPE.
  signal(SIGPIPE, SIG_IGN);
  (void)WriteAll(in.write.get(), state);
  in.write.Reset();

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  Fd pidfd_guard(pidfd);
  if (hook.timeout && pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int n;
    do {
      n = ::poll(&p, 1, *hook.timeout * 1000);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return Error::Canceled(what + ": timed out after " + std::to_string(*hook.timeout) + "s");
    }
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

}  // namespace berth::runtime::hooks
