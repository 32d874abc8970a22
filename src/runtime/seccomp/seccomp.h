#pragma once

// Seccomp: compile an OCI seccomp profile to a classic BPF program once (libseccomp, binary-tree
// optimisation) and load the raw program in the container just before exec. Building a
// Docker-sized filter with libseccomp costs ~10 ms here, loading a compiled one ~0.1-0.8 ms
// (START-COST.md), so compiled programs are cached on disk by a hash of the profile.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oci/runtime_spec.h"
#include "util/result.h"

namespace berth::runtime::seccomp {

struct Program {
  std::string bpf;      // struct sock_filter[] bytes, as seccomp_export_bpf writes them
  unsigned flags = 0;   // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool notify = false;  // some rule uses SCMP_ACT_NOTIFY: the load returns a listener fd
};

/// Compiles a profile. Errors name the rule: unknown action, operator, architecture or flag
/// ("linux.seccomp.syscalls[3].action: unknown action SCMP_ACT_FOO"). Unknown syscall names are
/// skipped (a profile lists syscalls newer kernels have), as runc and crun do.
Result<Program> Compile(const oci::Seccomp& profile);

/// Compile() through a cache directory (created 0700 if missing): one file <sha256>.bpf per
/// profile, keyed by every field of the profile, libseccomp's version and the cache format. A
/// hit reads and checks one file (~20 us for a Docker-sized profile). An invalid file is
/// compiled again and rewritten; failing to write the cache is logged, not returned.
Result<Program> CompileCached(const oci::Seccomp& profile, const std::string& cache_dir);

/// Loads a compiled program into the calling thread (all threads only if program.flags has
/// SECCOMP_FILTER_FLAG_TSYNC; with notify, TSYNC_ESRCH is added as seccomp(2) requires).
/// REQUIRES: no_new_privs set, or CAP_SYS_ADMIN. Allocates nothing and logs nothing: safe
/// between clone and exec; an error carries a short fixed message ("seccomp(2)") and the errno
/// in sys_errno(), for the parent to word. Returns the listener fd (FD_CLOEXEC, owned by the
/// caller; a filter tree has at most one) if program.notify, else -1.
Result<int> Load(const Program& program);

/// Names of the actions, operators and architectures supported (for `features`).
std::vector<std::string> SupportedActions();
std::vector<std::string> SupportedOperators();
std::vector<std::string> SupportedArchitectures();
std::vector<std::string> SupportedFlags();

}  // namespace berth::runtime::seccomp
