#pragma once

// Runtime: the OCI verbs over one state root, as a library. berth-runtime's commands are thin
// wrappers of these methods; berthd links the same code.
//
//   Runtime rt({.root = "/run/berth-runtime"});
//   auto created = BERTH_TRY(rt.Create({.id = "web", .bundle = "/srv/web"}));
//   BERTH_TRY(rt.Start("web"));
//   ... rt.Kill("web", SIGTERM, false); wait for created.pid ...
//   BERTH_TRY(rt.Delete("web", false));
//
// Every verb re-reads the container's record from disk: several processes may use one root.
// Not thread-safe: create and exec clone3 from the calling thread.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci/runtime_spec.h"
#include "runtime/cgroups/manager.h"
#include "runtime/container/state.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::runtime {

struct RuntimeOptions {
  std::string root = "/run/berth-runtime";
  bool systemd_cgroup = false;
  /// Turn on the kernel's favordynmods cgroup option at create (see cgroups/favordynmods.h):
  /// host-wide, it removes a 5-17 ms stall from the first cgroup move after an idle spell.
  bool favor_dynmods = true;
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  /// The caller copies the terminal itself (`run` in the foreground): the pty master comes
  /// back in Created::console instead of going to a console socket.
  bool own_console = false;
};

struct Created {
  pid_t pid = 0;
  Fd pidfd;
  Fd console;  // with CreateOptions::own_console and a terminal
};

struct ExecOptions {
  std::string id;
  oci::Process process;
  std::string pid_file;
  std::string console_socket;
  bool own_console = false;
  int preserve_fds = 0;
  bool ignore_paused = false;
};

struct ContainerInfo {
  container::ContainerRecord record;
  container::Status status = container::Status::kStopped;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);
  ~Runtime();

  /// Sets up the container and leaves its init waiting for Start. The init is the caller's
  /// child. Errors name the failed step; nothing is left behind on failure.
  Result<Created> Create(const CreateOptions& options);
  /// Lets a created container's init exec its process; runs poststart hooks.
  Result<void> Start(const std::string& id);
  /// create + start + wait + delete; returns the exit code (128+N for signal N). With detach,
  /// returns 0 once started.
  Result<int> Run(const CreateOptions& options, bool detach);

  Result<ContainerInfo> Info(const std::string& id);
  Result<std::vector<ContainerInfo>> List();
  /// Sends a signal to the init, or with all to every process of the container.
  Result<void> Kill(const std::string& id, int signal, bool all);
  /// Removes a stopped container (with force, kills it first); runs poststop hooks.
  Result<void> Delete(const std::string& id, bool force);
  /// Starts a process in a running container; it is the caller's child.
  Result<Created> Exec(const ExecOptions& options);
  Result<void> Pause(const std::string& id);
  Result<void> Resume(const std::string& id);
  Result<std::vector<pid_t>> Pids(const std::string& id);
  Result<cgroups::Stats> Stats(const std::string& id);
  /// The cgroup's figures whatever the container's state: a stopped container's cgroup still
  /// holds them until Delete (the monitor reads the OOM kill count after the init exited).
  Result<cgroups::Stats> FinalStats(const std::string& id);
  Result<void> Update(const std::string& id, const oci::Resources& resources);

  /// The config.json the container was created with.
  Result<oci::Spec> SavedSpec(const std::string& id);
  const std::string& root() const { return options_.root; }

 private:
  Result<const cgroups::Layout*> Layout();
  Result<std::unique_ptr<cgroups::CgroupManager>> Cgroup(const container::ContainerRecord& rec);
  Result<ContainerInfo> Load(const std::string& id);

  RuntimeOptions options_;
  std::optional<cgroups::Layout> layout_;
};

/// The exit code of a wait status: the code, or 128+N for signal N.
int ExitCode(int wait_status);
/// The default cgroup of a container without linux.cgroupsPath.
std::string DefaultCgroupPath(const std::string& id);
/// "SIGKILL", "KILL" or "9" → 9; 0 if unknown.
int ParseSignal(std::string_view name);

}  // namespace berth::runtime
