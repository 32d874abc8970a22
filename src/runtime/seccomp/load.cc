// Load(): the raw seccomp(2) call, run in the container's init between clone and execve. It must
// not allocate or log: the error messages below fit std::string's inline buffer (15 chars).

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/seccomp/seccomp.h"

namespace berth::runtime::seccomp {

Result<int> Load(const Program& program) {
  if (program.bpf.empty() || program.bpf.size() % sizeof(sock_filter) != 0 ||
      program.bpf.size() / sizeof(sock_filter) > BPF_MAXINSNS)
    return Error(ErrorCode::kInvalidArgument, "seccomp: bad bpf", EINVAL);

  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.bpf.size() / sizeof(sock_filter));
  // The kernel copies the program and never writes through this pointer.
  prog.filter = reinterpret_cast<sock_filter*>(const_cast<char*>(program.bpf.data()));

  unsigned long flags = program.flags;
  if (program.notify) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // TSYNC with NEW_LISTENER is only allowed with TSYNC_ESRCH (seccomp(2)): a failed thread
    // sync then reports ESRCH instead of a thread id, which would be ambiguous with the fd.
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }

  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) {
    int err = errno;
    return Error(ErrorCodeFromErrno(err), "seccomp(2)", err);
  }
  if (!program.notify) {
    // With TSYNC, a positive value is the id of a thread that could not be synchronised.
    if (rc > 0) return Error(ErrorCode::kFailedPrecondition, "seccomp tsync", ESRCH);
    return -1;
  }
  int listener = static_cast<int>(rc);
  // The workload must not inherit the listener across execve.
  if (::fcntl(listener, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    ::close(listener);
    return Error(ErrorCodeFromErrno(err), "seccomp fd", err);
  }
  return listener;
}

}  // namespace berth::runtime::seccomp
