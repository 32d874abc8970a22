#pragma once

// The code that runs in a container's init (and in a process exec'd into a running container)
// between clone3 and execve. The parent prepares everything that can fail slowly or that
// needs the host's view (config parsing, the seccomp program, capability sets, fds of the
// console socket and exec fifo); the child only applies it, in DESIGN.md's order, and reports
// the first failure to the parent as one message naming the step.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "oci/runtime_spec.h"
#include "runtime/caps/caps.h"
#include "runtime/rootfs/rootfs.h"
#include "runtime/seccomp/seccomp.h"

namespace berth::runtime::process {

struct InitConfig {
  const oci::Spec* spec = nullptr;        // the container's config
  const oci::Process* process = nullptr;  // what to exec: spec->process, or exec's process
  bool is_exec = false;                   // joining a running container: no rootfs work
  rootfs::Options rootfs;
  std::optional<caps::CapSets> caps;
  std::optional<seccomp::Program> seccomp;
  int sync_fd = -1;
  int fifo_fd = -1;     // exec.fifo, opened O_RDWR: init blocks reading it until `start`
  int console_fd = -1;  // a connected console socket, when process->terminal
  int preserve_fds = 0;
  bool new_user_ns = false;     // wait for the parent's uid/gid maps, then become root in it
  bool new_time_ns = false;     // unshare the time namespace here (offsets must precede entry)
  bool private_uts_ns = false;  // new or joined: hostname and domainname may be set
  bool no_new_keyring = false;
  /// Namespaces to join by path (fd, CLONE_NEW* type), user namespace first.
  std::vector<std::pair<int, int>> join;
  /// Flags to unshare after joining (when joins force the slow two-stage path).
  int unshare_flags = 0;
  /// After unshare, fork once more (CLONE_PARENT) so the new pid/time namespace applies: the
  /// intermediate reports the grandchild's pid with kPid and exits.
  bool fork_after_unshare = false;
};

/// Runs the init sequence in the calling (freshly cloned) process. Never returns: it execs the
/// process or exits non-zero after reporting its error.
[[noreturn]] void RunInit(const InitConfig& config);

/// Finds an executable as execvp would, in the PATH of env (or the default PATH): the error
/// Docker users know, `exec: "name": executable file not found in $PATH`.
Result<std::string> LookPath(const std::string& file, const std::vector<std::string>& env);

}  // namespace berth::runtime::process
