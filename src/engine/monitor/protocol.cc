#include "engine/monitor/protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::engine::monitor {
namespace {

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Error::InvalidArgument("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  return addr;
}

}  // namespace

Result<std::pair<Fd, Fd>> SocketPair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return Error::FromErrno(errno, "socketpair");
  return std::pair<Fd, Fd>(Fd(sv[0]), Fd(sv[1]));
}

Result<Fd> Connect(const std::string& path) {
  sockaddr_un addr = BERTH_TRY(Address(path));
  Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno(errno, "socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED)
      return Error::NotFound("no monitor listens on " + path);
    return Error::FromErrno(errno, "connect " + path);
  }
  return fd;
}

Result<Fd> Listen(const std::string& path) {
  sockaddr_un addr = BERTH_TRY(Address(path));
  Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Error::FromErrno(errno, "socket");
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return Error::FromErrno(errno, "bind " + path);
  ::chmod(path.c_str(), 0600);
  if (::listen(fd.get(), 64) < 0) return Error::FromErrno(errno, "listen " + path);
  return fd;
}

Result<void> Send(int sock, const nlohmann::json& body, const std::vector<int>& fds) {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxMessage) return Error::InvalidArgument("monitor message too large");
  if (fds.size() > kMaxFds) return Error::InvalidArgument("too many fds for one message");
  iovec iov{text.data(), text.size()};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      pollfd p{sock, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    return Error::FromErrno(errno, "send to monitor");
  }
}

Result<std::optional<Message>> Recv(int sock, int timeout_ms) {
  for (;;) {
    pollfd p{sock, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "poll monitor socket");
    if (n == 0) return Error::Unavailable("the container's monitor did not answer in time");
    break;
  }
  std::string buf(kMaxMessage, '\0');
  iovec iov{buf.data(), buf.size()};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got;
  do {
    got = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == ECONNRESET) return std::optional<Message>();
    return Error::FromErrno(errno, "receive from monitor");
  }
  Message m;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      m.fds.emplace_back(fd);
    }
  }
  if (got == 0 && m.fds.empty()) return std::optional<Message>();
  if (msg.msg_flags & MSG_TRUNC) return Error::InvalidArgument("monitor message truncated");
  buf.resize(static_cast<size_t>(got));
  m.body = nlohmann::json::parse(buf, nullptr, false);
  if (m.body.is_discarded() || !m.body.is_object())
    return Error::InvalidArgument("malformed monitor message");
  return std::optional<Message>(std::move(m));
}

Result<Message> Call(int sock, const nlohmann::json& body, const std::vector<int>& fds,
                     int timeout_ms) {
  BERTH_TRY(Send(sock, body, fds));
  auto reply = BERTH_TRY(Recv(sock, timeout_ms));
  if (!reply) return Error::Unavailable("the container's monitor closed the connection");
  if (auto e = reply->body.find("error"); e != reply->body.end() && e->is_string()) {
    int code = reply->body.value("code", static_cast<int>(ErrorCode::kInternal));
    return Error(static_cast<ErrorCode>(code), e->get<std::string>());
  }
  return std::move(*reply);
}

nlohmann::json ErrorBody(const Error& error) {
  return {{"error", error.message()}, {"code", static_cast<int>(error.code())}};
}

}  // namespace berth::engine::monitor
