#pragma once

// The spawner: a process berthd forks first thing in main(), while it still has one thread,
// that forks the per-container monitors on request. Forking a monitor from the spawner (one
// thread, nothing locked) is safe where forking from the many-threaded daemon is not, and
// costs no exec. Monitors are not berthd's children: they outlive it. When berthd goes away
// the spawner sees its socket close and exits; the monitors stay.
//
// The spawner keeps one monitor forked ahead ("berth-spare", waiting for its job): a start
// hands it the config and fds and the next spare is forked after the reply, so the fork is
// off the start's path. A spare exits when the spawner goes away.
//
//   int main() { auto spawner = Spawner::Start(); ... }   // before any thread
//   pid_t monitor = BERTH_TRY(spawner->Spawn(config, report_fd, {attach_fd}));

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <vector>

#include "engine/monitor/monitor.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::engine::monitor {

class Spawner {
 public:
  /// REQUIRES: the calling process has exactly one thread.
  static Result<std::unique_ptr<Spawner>> Start();
  ~Spawner();

  /// Forks a monitor for config. report: the monitor's end of a SocketPair (berthd keeps the
  /// other); attach_fds: the clients of config.attaches. The fds stay the caller's to close.
  /// Thread-safe.
  Result<pid_t> Spawn(const MonitorConfig& config, int report, const std::vector<int>& attach_fds);

  pid_t pid() const { return pid_; }

 private:
  Spawner(Fd sock, pid_t pid) : sock_(std::move(sock)), pid_(pid) {}
  Fd sock_;
  pid_t pid_;
  std::mutex mu_;
};

}  // namespace berth::engine::monitor
