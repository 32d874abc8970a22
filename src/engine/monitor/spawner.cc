#include "engine/monitor/spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "engine/monitor/protocol.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::engine::monitor {
namespace {

[[noreturn]] void MonitorChild(const MonitorConfig& config, std::vector<Fd> fds) {
  ::setsid();
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGCHLD, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  (void)MkdirAll(config.run_dir, 0700);
  int null = ::open("/dev/null", O_RDWR);
  int log =
      ::open(JoinPath(config.run_dir, "monitor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  ::dup2(null, 0);
  ::dup2(log >= 0 ? log : null, 1);
  ::dup2(log >= 0 ? log : null, 2);
  if (null > 2) ::close(null);
  if (log > 2) ::close(log);
  ::prctl(PR_SET_NAME, "berth-monitor", 0, 0, 0);
  // Its own log file: the runtime logs while fds 0-2 are the container's stdio.
  log::Configure(log::Level::kInfo, log::Format::kText, JoinPath(config.run_dir, "monitor.log"));
  Fd report = std::move(fds[0]);
  fds.erase(fds.begin());
  ::_exit(RunMonitor(config, std::move(report), std::move(fds)));
}

[[noreturn]] void SpawnerLoop(Fd sock) {
  ::prctl(PR_SET_NAME, "berth-spawner", 0, 0, 0);
  // Monitors are reaped by the kernel: the spawner never waits for them.
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  sa.sa_flags = SA_NOCLDWAIT;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGCHLD, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  for (;;) {
    auto msg = Recv(sock.get(), -1);
    if (!msg || !*msg) ::_exit(0);  // berthd is gone
    auto config = MonitorConfigFromJson((*msg)->body);
    if (!config || (*msg)->fds.empty()) {
      (void)Send(sock.get(),
                 ErrorBody(config ? Error::InvalidArgument("spawn without a report socket")
                                  : config.error()));
      continue;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      sock.Reset();
      MonitorChild(*config, std::move((*msg)->fds));
    }
    if (pid < 0) {
      (void)Send(sock.get(), ErrorBody(Error::FromErrno(errno, "fork monitor")));
      continue;
    }
    (void)Send(sock.get(), {{"pid", pid}});
  }
}

}  // namespace

Result<std::unique_ptr<Spawner>> Spawner::Start() {
  auto [parent, child] = BERTH_TRY(SocketPair());
  pid_t pid = ::fork();
  if (pid < 0) return Error::FromErrno(errno, "fork the monitor spawner");
  if (pid == 0) {
    parent.Reset();
    SpawnerLoop(std::move(child));
  }
  return std::unique_ptr<Spawner>(new Spawner(std::move(parent), pid));
}

Spawner::~Spawner() {
  sock_.Reset();
  if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
}

Result<pid_t> Spawner::Spawn(const MonitorConfig& config, int report,
                             const std::vector<int>& attach_fds) {
  std::vector<int> fds{report};
  fds.insert(fds.end(), attach_fds.begin(), attach_fds.end());
  std::lock_guard lock(mu_);
  Message reply = BERTH_TRY(Call(sock_.get(), ToJson(config), fds, 10000));
  return reply.body.value("pid", 0);
}

}  // namespace berth::engine::monitor
