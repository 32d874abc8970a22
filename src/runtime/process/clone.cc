#include "runtime/process/clone.h"

#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace berth::runtime::process {

Result<Cloned> Clone3(uint64_t flags, bool want_pidfd) {
  int pidfd = -1;
  struct clone_args args = {};
  args.flags = flags | (want_pidfd ? CLONE_PIDFD : 0);
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  // With CLONE_PARENT the child's exit signal is the caller's own (SIGCHLD to the runtime);
  // clone3 refuses a nonzero exit_signal with it.
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  long r = ::syscall(SYS_clone3, &args, sizeof args);
  if (r < 0) return Error::FromErrno(errno, "clone3");
  Cloned c;
  c.pid = static_cast<pid_t>(r);
  if (r > 0 && want_pidfd) c.pidfd = Fd(pidfd);
  return c;
}

}  // namespace berth::runtime::process
