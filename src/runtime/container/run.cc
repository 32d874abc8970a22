#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/console/console.h"
#include "runtime/container/runtime.h"

namespace berth::runtime {
namespace {

volatile sig_atomic_t g_forward_pid = 0;

void Forward(int sig) {
  if (g_forward_pid > 0) ::kill(g_forward_pid, sig);
}

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

}  // namespace

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

Result<int> Runtime::Run(const CreateOptions& options, bool detach) {
  CreateOptions o = options;
  o.own_console = !detach && o.console_socket.empty();
  Created c = BERTH_TRY(Create(o));
  if (auto r = Start(o.id); !r) {
    (void)Delete(o.id, true);
    ::waitpid(c.pid, nullptr, WNOHANG);
    return std::move(r).error();
  }
  if (detach) return 0;

  g_forward_pid = c.pid;
  struct sigaction sa = {};
  sa.sa_handler = Forward;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) ::sigaction(sig, &sa, nullptr);
  if (c.console) console::Proxy(c.console.get());
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  g_forward_pid = 0;
  int code = ExitCode(status);
  BERTH_TRY(Delete(o.id, true));
  return code;
}

}  // namespace berth::runtime
