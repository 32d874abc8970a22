#pragma once

// Helpers of the net tests: unique names and guards that undo what a test made even when it
// fails. Header-only, included by *_test.cc only.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "net/addr.h"
#include "util/fd.h"

#include "net/link.h"
#include "net/netns.h"

namespace berth::net::testing {

inline bool IsRoot() { return geteuid() == 0; }

#define BERTH_NET_REQUIRE_ROOT() \
  if (!::berth::net::testing::IsRoot()) GTEST_SKIP() << "needs root (netns, netlink, nftables)"

/// A name unique to this process and call: PREFIX + pid (base 36) + a counter, at most 15
/// bytes when prefix is at most 5.
inline std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  auto b36 = [](unsigned long v) {
    std::string s;
    do {
      s.insert(s.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
      v /= 36;
    } while (v);
    return s;
  };
  return prefix + b36(getpid()) + "x" + b36(counter++);
}

/// A private netns dir for the test (/run/berth-test-PID/netns), unmounted and removed at
/// the end; namespaces made in it are deleted by NetnsGuard.
class NetnsDir {
 public:
  NetnsDir() : root_("/run/berth-test-" + std::to_string(getpid())), dir_(root_ + "/netns") {}
  ~NetnsDir() {
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      (void)DeleteNetns(e.path().string());
    }
    umount2(dir_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(root_, ec);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string root_;
  std::string dir_;
};

/// Deletes the netns at path when it goes.
class NetnsGuard {
 public:
  explicit NetnsGuard(std::string path) : path_(std::move(path)) {}
  ~NetnsGuard() { (void)DeleteNetns(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Deletes a link of berthd's (the test's) netns when it goes.
class LinkGuard {
 public:
  explicit LinkGuard(std::string name) : name_(std::move(name)) {}
  ~LinkGuard() { (void)DeleteLink(name_); }

 private:
  std::string name_;
};

/// A sockaddr for addr:port.
inline socklen_t ToSockaddr(const IpAddr& a, uint16_t port, sockaddr_storage* ss) {
  memset(ss, 0, sizeof(*ss));
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    memcpy(&sin->sin_addr, a.bytes.data(), 4);
    return sizeof(*sin);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  return sizeof(*sin6);
}

/// A socket of type (SOCK_STREAM, SOCK_DGRAM) bound to addr:port inside netns ns (listening
/// if a stream socket).
inline Result<Fd> BoundSocketIn(const std::string& ns, const std::string& addr, uint16_t port,
                                int type) {
  return InNetns(ns, [&]() -> Result<Fd> {
    IpAddr a = BERTH_TRY(IpAddr::Parse(addr));
    Fd s(socket(a.is_v4() ? AF_INET : AF_INET6, type | SOCK_CLOEXEC, 0));
    if (!s) return Error::FromErrno(errno, "socket");
    int one = 1;
    setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(a, port, &ss);
    if (bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      return Error::FromErrno(errno, "bind " + addr);
    }
    if (type == SOCK_STREAM && listen(s.get(), 16) < 0) return Error::FromErrno(errno, "listen");
    return s;
  });
}

/// A TCP server inside a netns that answers each connection with the address it came from
/// ("10.0.0.1") and closes it. Stops in its destructor.
class PeerAddressServer {
 public:
  PeerAddressServer(const std::string& ns, const std::string& addr, uint16_t port) {
    Result<Fd> s = BoundSocketIn(ns, addr, port, SOCK_STREAM);
    if (!s) {
      error_ = s.error().message();
      return;
    }
    listener_ = std::move(*s);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{listener_.get(), POLLIN, 0};
        if (poll(&p, 1, 50) != 1) continue;
        sockaddr_storage ss{};
        socklen_t len = sizeof(ss);
        int c = accept4(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
        if (c < 0) continue;
        IpAddr a;
        if (ss.ss_family == AF_INET) {
          memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, 4);
        } else {
          a.family = IpAddr::Family::kV6;
          memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, 16);
        }
        std::string text = a.ToString();
        (void)!write(c, text.data(), text.size());
        close(c);
      }
    });
  }
  ~PeerAddressServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  /// Empty if the server listens.
  const std::string& error() const { return error_; }

 private:
  Fd listener_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::string error_;
};

/// Connects from inside ns to addr:port, reads until EOF. Unavailable when no connection
/// is made within timeout_ms (a dropped SYN), or refused.
inline Result<std::string> TcpAsk(const std::string& ns, const std::string& addr, uint16_t port,
                                  int timeout_ms = 1500) {
  return InNetns(ns, [&]() -> Result<std::string> {
    IpAddr a = BERTH_TRY(IpAddr::Parse(addr));
    Fd s(socket(a.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(a, port, &ss);
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS) {
      return Error::FromErrno(errno, "connect " + addr);
    }
    std::string out;
    for (;;) {
      pollfd p{s.get(), POLLIN, 0};
      int n = poll(&p, 1, timeout_ms);
      if (n != 1) return Error::Unavailable("no answer from " + addr);
      char buf[256];
      ssize_t r = read(s.get(), buf, sizeof(buf));
      if (r < 0) return Error::FromErrno(errno, "read from " + addr);
      if (r == 0) return out;
      out.append(buf, r);
    }
  });
}

#define ASSERT_OK(expr)                                                               \
  do {                                                                                \
    auto&& berth_r_ = (expr);                                                         \
    ASSERT_TRUE(berth_r_.has_value()) << #expr << ": " << berth_r_.error().message(); \
  } while (0)

}  // namespace berth::net::testing
