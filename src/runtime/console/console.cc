#include "runtime/console/console.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::runtime::console {

Result<Pty> OpenPty() {
  int m = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return Error::FromErrno(errno, "open /dev/ptmx");
  Pty pty{Fd(m), ""};
  int unlock = 0;
  if (::ioctl(m, TIOCSPTLCK, &unlock) < 0) return Error::FromErrno(errno, "unlock pty");
  int n = 0;
  if (::ioctl(m, TIOCGPTN, &n) < 0) return Error::FromErrno(errno, "get pty number");
  pty.slave_path = "/dev/pts/" + std::to_string(n);
  return pty;
}

Result<void> AttachSlave(const std::string& slave_path, const oci::ConsoleSize* size) {
  if (::setsid() < 0) return Error::FromErrno(errno, "setsid");
  int s = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY);
  if (s < 0) return Error::FromErrno(errno, "open " + slave_path);
  if (::ioctl(s, TIOCSCTTY, 0) < 0) return Error::FromErrno(errno, "set controlling terminal");
  if (size && (size->height || size->width)) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(s, TIOCSWINSZ, &ws) < 0) return Error::FromErrno(errno, "set console size");
  }
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(s, fd) < 0) return Error::FromErrno(errno, "dup2 console");
  if (s > 2) ::close(s);
  return {};
}

Result<Fd> ConnectSocket(const std::string& path) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Error::InvalidArgument("console socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Error::FromErrno(errno, "socket");
  Fd fd(s);
  if (::connect(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0)
    return Error::FromErrno(errno, "connect console socket " + path);
  return fd;
}

Result<void> SendFd(int socket, int fd, std::string_view name) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {const_cast<char*>(name.data()), name.size()};
  char dummy = 0;
  if (name.empty()) iov = {&dummy, 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  while (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::FromErrno(errno, "send console fd");
  }
  return {};
}

Result<Fd> RecvFd(int socket) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  char buf[4096];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::FromErrno(errno, "receive console fd");
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return Error::Unavailable("receive console fd: no fd");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return Fd(fd);
}

void Proxy(int master) {
  struct termios saved;
  bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
    struct winsize ws;
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  }
  struct pollfd fds[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
  char buf[16384];
  bool stdin_open = true;
  for (;;) {
    int n = ::poll(fds, stdin_open ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(master, buf, sizeof buf);
      if (r <= 0) break;
      if (!WriteAll(1, std::string_view(buf, static_cast<size_t>(r)))) break;
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(0, buf, sizeof buf);
      if (r <= 0) {
        stdin_open = false;
        // End of input: send EOF to the terminal's reader.
        char eof = 4;
        (void)!::write(master, &eof, 1);
      } else if (!WriteAll(master, std::string_view(buf, static_cast<size_t>(r)))) {
        break;
      }
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
}

}  // namespace berth::runtime::console
