#pragma once

// The parent/child protocol between the runtime and a container's init (or an exec'd
// process) before execve: small typed messages over a SOCK_SEQPACKET socketpair, so each send
// is one record and a dead peer reads as EOF.
//
//   parent                          child (init)
//   clone3 ------------------------> waits kContinue
//   maps, cgroup, kContinue -------> joins, mounts, ...
//           <----------------------- kRunHooks (prestart, createRuntime)
//   hooks, kContinue --------------> createContainer hooks, pivot_root, ...
//           <----------------------- kReady (or kError "step: reason" at any point)
//   state.json, exit                 waits on exec.fifo for `start`, then execve

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"

namespace berth::runtime::process {

enum class SyncType : uint32_t {
  kContinue = 1,  // parent → child: go on
  kRunHooks,      // child → parent: mounts done; run prestart/createRuntime hooks
  kReady,         // child → parent: set up; about to wait for start (or exec)
  kError,         // child → parent: payload is the error message; the child exits
  kPid,           // child → parent: payload is a decimal pid (a grandchild's)
  kMaps,          // child → parent: in its new user namespace; write uid/gid maps
};

struct SyncMessage {
  SyncType type = SyncType::kContinue;
  std::string payload;
};

inline constexpr size_t kMaxSyncPayload = 8192;

struct SyncPair {
  Fd parent;
  Fd child;
  static Result<SyncPair> Make();
};

/// Sends one message. Safe in the forked child (one sendmsg, no allocation beyond payload).
Result<void> SyncSend(int fd, SyncType type, std::string_view payload = {});
/// Receives one message; EOF (the peer died or closed) is an Unavailable error.
Result<SyncMessage> SyncRecv(int fd);
/// Receives one message; a kError message becomes an Error with its text and code.
Result<SyncMessage> SyncRecvChecked(int fd);
/// Receives one message and checks its type; a kError message becomes an Error with its text.
Result<SyncMessage> SyncExpect(int fd, SyncType want);

}  // namespace berth::runtime::process
