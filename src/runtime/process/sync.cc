#include "runtime/process/sync.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace berth::runtime::process {

Result<SyncPair> SyncPair::Make() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return Error::FromErrno(errno, "socketpair");
  return SyncPair{Fd(fds[0]), Fd(fds[1])};
}

Result<void> SyncSend(int fd, SyncType type, std::string_view payload) {
  if (payload.size() > kMaxSyncPayload) payload = payload.substr(0, kMaxSyncPayload);
  uint32_t header = static_cast<uint32_t>(type);
  struct iovec iov[2] = {{&header, sizeof header},
                         {const_cast<char*>(payload.data()), payload.size()}};
  struct msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  for (;;) {
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return {};
    if (errno != EINTR) return Error::FromErrno(errno, "sync send");
  }
}

Result<SyncMessage> SyncRecv(int fd) {
  char buf[sizeof(uint32_t) + kMaxSyncPayload];
  ssize_t n;
  do {
    n = ::recv(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::FromErrno(errno, "sync receive");
  if (n == 0) return Error::Unavailable("container init exited unexpectedly");
  if (static_cast<size_t>(n) < sizeof(uint32_t))
    return Error::Internal("sync receive: short message");
  uint32_t header;
  std::memcpy(&header, buf, sizeof header);
  SyncMessage m;
  m.type = static_cast<SyncType>(header);
  m.payload.assign(buf + sizeof header, static_cast<size_t>(n) - sizeof header);
  return m;
}

Result<SyncMessage> SyncExpect(int fd, SyncType want) {
  SyncMessage m = BERTH_TRY(SyncRecvChecked(fd));
  if (m.type != want)
    return Error::Internal("sync: unexpected message " +
                           std::to_string(static_cast<uint32_t>(m.type)));
  return m;
}

Result<SyncMessage> SyncRecvChecked(int fd) {
  SyncMessage m = BERTH_TRY(SyncRecv(fd));
  if (m.type == SyncType::kError) {
    // The child sends "code errno message"; rebuild the Error.
    int code = 0, err = 0;
    int consumed = 0;
    if (std::sscanf(m.payload.c_str(), "%d %d %n", &code, &err, &consumed) >= 2 && consumed > 0)
      return Error(static_cast<ErrorCode>(code), m.payload.substr(static_cast<size_t>(consumed)),
                   err);
    return Error::Internal(m.payload);
  }
  return m;
}

}  // namespace berth::runtime::process
