#include "engine/monitor/spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "engine/monitor/protocol.h"
#include "util/file.h"
#include "util/log.h"
#include "util/sha256.h"

namespace berth::engine::monitor {
namespace {

// What a monitor does before it knows its container: it runs in the spare, forked ahead.
void PrepareMonitorProcess() {
  ::setsid();
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGCHLD, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

[[noreturn]] void MonitorChild(const MonitorConfig& config, std::vector<Fd> fds) {
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

// A monitor forked before its container is asked for: the fork, the new session and the
// copy-on-write faults of a fresh process are off the start's path. It waits on its own socket
// for one job (the config and the fds berthd sent) and exits when the spawner goes away first.
struct Spare {
  pid_t pid = 0;
  Fd sock;
};

[[noreturn]] void SpareChild(Fd sock) {
  ::prctl(PR_SET_NAME, "berth-spare", 0, 0, 0);
  PrepareMonitorProcess();
  auto msg = Recv(sock.get(), -1);
  if (!msg || !*msg) ::_exit(0);
  auto config = MonitorConfigFromJson((*msg)->body);
  if (!config || (*msg)->fds.empty()) ::_exit(1);  // the spawner checked both
  sock.Reset();
  MonitorChild(*config, std::move((*msg)->fds));
}

Spare ForkSpare(int spawner_sock) {
  auto pair = SocketPair();
  if (!pair) return {};
  auto [mine, theirs] = std::move(*pair);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(spawner_sock);
    mine.Reset();
    SpareChild(std::move(theirs));
  }
  if (pid < 0) return {};
  return {pid, std::move(mine)};
}

// Work every monitor would otherwise repeat on its start path: OpenSSL's first use (it reads
// openssl.cnf and sets up its providers: ~2 ms, for the seccomp cache key) and the time zone.
void WarmUp() {
  (void)Sha256Hex("");
  ::tzset();
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
  WarmUp();
  Spare spare = ForkSpare(sock.get());
  for (;;) {
    auto msg = Recv(sock.get(), -1);
    if (!msg || !*msg) ::_exit(0);  // berthd is gone (the spare sees its socket close)
    auto config = MonitorConfigFromJson((*msg)->body);
    if (!config || (*msg)->fds.empty()) {
      (void)Send(sock.get(),
                 ErrorBody(config ? Error::InvalidArgument("spawn without a report socket")
                                  : config.error()));
      continue;
    }
    pid_t pid = -1;
    if (spare.pid > 0) {
      std::vector<int> fds;
      for (const auto& fd : (*msg)->fds) fds.push_back(fd.get());
      // A spare that died meanwhile (killed by hand, OOM) fails the send: fork one now instead.
      if (Send(spare.sock.get(), (*msg)->body, fds)) pid = spare.pid;
      spare = {};
    }
    if (pid < 0) {
      pid = ::fork();
      if (pid == 0) {
        sock.Reset();
        PrepareMonitorProcess();
        MonitorChild(*config, std::move((*msg)->fds));
      }
    }
    if (pid < 0) {
      (void)Send(sock.get(), ErrorBody(Error::FromErrno(errno, "fork monitor")));
      continue;
    }
    (void)Send(sock.get(), {{"pid", pid}});
    (*msg)->fds.clear();
    spare = ForkSpare(sock.get());  // after the reply: off the path of this start
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
