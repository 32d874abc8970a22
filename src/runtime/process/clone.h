#pragma once

#include <sys/types.h>

#include <cstdint>

#include "util/fd.h"
#include "util/result.h"

namespace berth::runtime::process {

struct Cloned {
  pid_t pid = 0;  // 0 in the child
  Fd pidfd;       // the parent's pidfd of the child (CLONE_PIDFD), when asked for
};

/// clone3(2) without a new stack: returns twice, like fork(2), with the namespaces of `flags`
/// (CLONE_NEW*) made for the child and SIGCHLD as its exit signal. REQUIRES: a single-threaded
/// caller (no atfork handlers run).
Result<Cloned> Clone3(uint64_t flags, bool want_pidfd);

}  // namespace berth::runtime::process
