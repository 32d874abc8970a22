#pragma once

// Helpers shared by the verbs of Runtime; not part of its interface.

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "oci/runtime_spec.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::runtime {

/// How the namespaces of a config are made: all at once by clone3 when none is joined by path
/// (the fast path), else join, unshare and, for a pid namespace, fork once more.
struct NamespacePlan {
  uint64_t clone_flags = 0;
  int unshare_flags = 0;
  bool fork_after = false;
  std::vector<std::pair<Fd, int>> joins;  // user namespace first
  bool joins_pid = false;
  bool new_user = false, new_mount = false, new_net = false, new_uts = false, new_cgroup = false,
       new_pid = false, new_time = false;
  bool private_uts = false;  // a uts namespace in the config, new or joined by path
};

Result<NamespacePlan> PlanNamespaces(const oci::Linux& linux);
/// AppArmor and SELinux are not supported: a profile or label set is a clear error.
Result<void> CheckSecurityModules(const oci::Process& process);
/// Writes /proc/<pid>/uid_map and gid_map from the config.
Result<void> WriteIdMaps(pid_t pid, const oci::Linux& linux);
/// Where compiled seccomp programs are cached (kept across runs; tmpfs under /run).
std::string SeccompCacheDir();
/// Where a container's pty master goes: `socket` is handed to the container's process, which
/// sends the master over it; with own_console, `peer` is the runtime's end to receive it.
struct ConsoleEnds {
  Fd socket;
  Fd peer;
};
/// Nothing when !terminal; the connected console socket when a path is given; a socketpair
/// with own_console; else runc's error for a terminal that nobody would read.
Result<ConsoleEnds> OpenConsole(bool terminal, const std::string& socket_path, bool own_console);
/// Waits for a process through its pidfd for at most timeout_ms; true if it exited.
bool WaitPidfd(int pidfd, int timeout_ms);

}  // namespace berth::runtime
