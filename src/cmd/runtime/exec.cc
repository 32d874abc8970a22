#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>

#include "cmd/runtime/commands.h"
#include "runtime/console/console.h"
#include "util/file.h"

namespace berth::cmd {
namespace {

volatile sig_atomic_t g_exec_pid = 0;
void ForwardToExec(int sig) {
  if (g_exec_pid > 0) ::kill(g_exec_pid, sig);
}

Result<uint32_t> ParseId(const std::string& s, const char* what) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end || v > 0xffffffffUL)
    return Error::InvalidArgument(std::string("invalid ") + what + " " + s);
  return static_cast<uint32_t>(v);
}

Result<oci::Process> ProcessFrom(const Context& c, const Flags& f) {
  const std::string& id = f.args[0];
  if (f.Has("process")) {
    std::string text = BERTH_TRY(ReadFile(f.Get("process"), oci::kMaxConfigBytes + 1));
    return BERTH_TRY_CTX(oci::ParseProcess(text), "process " + f.Get("process"));
  }
  if (f.args.size() < 2) return Error::InvalidArgument("exec: process args cannot be empty");
  oci::Spec spec = BERTH_TRY(c.runtime->SavedSpec(id));
  oci::Process p = spec.process ? *spec.process : oci::Process{};
  p.args.assign(f.args.begin() + 1, f.args.end());
  p.terminal = f.Bool("tty");
  p.console_size.reset();
  for (const auto& e : f.All("env")) p.env.push_back(e);
  if (f.Has("cwd")) p.cwd = f.Get("cwd");
  if (f.Has("user")) {
    auto parts = Split(f.Get("user"), ':');
    p.user.uid = BERTH_TRY(ParseId(parts[0], "uid"));
    if (parts.size() > 1) p.user.gid = BERTH_TRY(ParseId(parts[1], "gid"));
  }
  for (const auto& g : f.All("additional-gids"))
    p.user.additional_gids.push_back(BERTH_TRY(ParseId(g, "gid")));
  if (f.Bool("no-new-privs")) p.no_new_privileges = true;
  if (f.Has("apparmor")) p.apparmor_profile = f.Get("apparmor");
  if (f.Has("process-label")) p.selinux_label = f.Get("process-label");
  for (const auto& cap : f.All("cap")) {
    if (!p.capabilities) p.capabilities.emplace();
    for (auto* set :
         {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
      set->push_back(cap);
  }
  return p;
}

}  // namespace

Result<int> CmdExec(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start,
                                 {{"console-socket", "", true},
                                  {"pidfd-socket", "", true},
                                  {"cwd", "", true},
                                  {"env", "e", true},
                                  {"tty", "t", false},
                                  {"user", "u", true},
                                  {"additional-gids", "g", true},
                                  {"process", "p", true},
                                  {"detach", "d", false},
                                  {"pid-file", "", true},
                                  {"process-label", "", true},
                                  {"apparmor", "", true},
                                  {"no-new-privs", "", false},
                                  {"cap", "c", true},
                                  {"preserve-fds", "", true},
                                  {"cgroup", "", true},
                                  {"ignore-paused", "", false}}));
  if (f.args.empty())
    return Error::InvalidArgument(
        "\"exec\" requires a minimum of 1 argument\nUsage: berth-runtime exec [command options] "
        "<container-id> <command> [command options]");
  runtime::ExecOptions o;
  o.id = f.args[0];
  o.process = BERTH_TRY(ProcessFrom(c, f));
  o.pid_file = f.Get("pid-file");
  o.console_socket = f.Get("console-socket");
  o.ignore_paused = f.Bool("ignore-paused");
  o.preserve_fds = std::atoi(f.Get("preserve-fds", "0").c_str());
  bool detach = f.Bool("detach");
  o.own_console = !detach && o.console_socket.empty();
  runtime::Created p = BERTH_TRY(c.runtime->Exec(o));
  if (detach) return 0;
  g_exec_pid = p.pid;
  struct sigaction sa = {};
  sa.sa_handler = ForwardToExec;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH})
    ::sigaction(sig, &sa, nullptr);
  if (p.console) runtime::console::Proxy(p.console.get());
  int status = 0;
  while (::waitpid(p.pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::FromErrno(errno, "wait for exec process");
  }
  return runtime::ExitCode(status);
}

}  // namespace berth::cmd
